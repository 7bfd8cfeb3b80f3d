/*
 * The demo's summary: what was found, where the reports are, how to look.
 *
 * Every number is asked of the running hub through its API v1 as the
 * demo's admin (GET /api/v1/summary, GET /api/v1/findings), the same
 * numbers the dashboard shows, rather than counted from the programs' own
 * output: the summary then says what reached the hub, which is the point
 * of the demo. It is printed on stdout and kept in summary.txt.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

enum {
	BODY_MAX = 32 << 20, /* the largest reply the demo reads */
	SUMMARY_MAX = 64 << 10,
	PAGE_MAX = 50, /* pages of 1,000 findings per kind */
};

struct body {
	char *p;
	size_t n, cap;
};

/* libcurl's write callback: appends to a body capped at BODY_MAX (a reply
 * past it fails the request rather than growing without bound). */
static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;
	if (n > BODY_MAX - b->n)
		return 0;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q)
			return 0;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, ptr, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

/* GET url+path as the token's holder; the parsed JSON, or NULL after
 * saying why. */
static json_t *api_get(const struct kz_demo *d, const char *token, const char *path)
{
	char url[1024], auth[512];
	snprintf(url, sizeof url, "%s%s", d->url, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	struct body b = { 0 };
	json_t *j = NULL;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, auth);
	if (!c || !h) {
		kz_cli_error("hub API: out of memory");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* The hub is on loopback, plain HTTP; nothing else is ever fetched. */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	CURLcode rc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK || code != 200) {
		kz_cli_error("hub API: GET %s: %s", path,
		             rc != CURLE_OK ? curl_easy_strerror(rc) : "unexpected status");
		goto out;
	}
	json_error_t e;
	j = json_loadb(b.p ? b.p : "", b.n, 0, &e);
	if (!j)
		kz_cli_error("hub API: GET %s: %s", path, e.text);
out:
	/* The header held the token. */
	explicit_bzero(auth, sizeof auth);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(b.p);
	return j;
}

/* Sums {state: n} of one kind. */
static long long kind_total(json_t *by_kind, const char *kind, const char *only_state)
{
	json_t *states = json_object_get(by_kind, kind);
	const char *k;
	json_t *v;
	long long n = 0;
	json_object_foreach(states, k, v)
	{
		if (!only_state || strcmp(k, only_state) == 0)
			n += json_integer_value(v);
	}
	return n;
}

/* The summary as it is built, printed at the end in one piece. */
struct text {
	char buf[SUMMARY_MAX];
	size_t n;
};

/* Appends to the summary's text; past SUMMARY_MAX it is cut, never
 * overflowed. */
static void say(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(t->buf + t->n, sizeof t->buf - t->n, fmt, ap);
	va_end(ap);
	if (m > 0)
		t->n += (size_t)m < sizeof t->buf - t->n ? (size_t)m : sizeof t->buf - t->n - 1;
}

/* Calls fn on every finding of a kind (pages of 1,000). */
static int each_finding(const struct kz_demo *d, const char *tok, const char *kind,
                        void (*fn)(json_t *f, void *arg), void *arg)
{
	char path[512], cursor[256] = "";
	for (int page = 0; page < PAGE_MAX; page++) {
		snprintf(path, sizeof path, "/api/v1/findings?kind=%s&limit=1000%s%s", kind,
		         cursor[0] ? "&cursor=" : "", cursor);
		json_t *j = api_get(d, tok, path);
		if (!j)
			return -1;
		size_t i;
		json_t *f;
		json_array_foreach(json_object_get(j, "findings"), i, f) fn(f, arg);
		const char *next = json_string_value(json_object_get(j, "next_cursor"));
		snprintf(cursor, sizeof cursor, "%s", next ? next : "");
		json_decref(j);
		if (!cursor[0])
			return 0;
	}
	return 0;
}

/* Survey findings per operator: services, login-possible, no-auth. */
struct per_asn {
	long long services[KZ_DEMO_OPERATORS], weak[KZ_DEMO_OPERATORS], noauth[KZ_DEMO_OPERATORS];
};

/* Counts a survey finding under each of its ASes (a multi-origin prefix
 * would count under each, as the hub's reports do). */
static void count_survey(json_t *f, void *arg)
{
	struct per_asn *p = arg;
	const char *status = json_string_value(json_object_get(f, "status"));
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(f, "asns"), i, a)
	{
		json_int_t asn = json_integer_value(a);
		if (asn < KZ_DEMO_FIRST_ASN || asn >= KZ_DEMO_FIRST_ASN + KZ_DEMO_OPERATORS)
			continue;
		size_t k = (size_t)(asn - KZ_DEMO_FIRST_ASN);
		p->services[k]++;
		if (status && strcmp(status, "login-possible") == 0)
			p->weak[k]++;
		if (status && strcmp(status, "no-auth") == 0)
			p->noauth[k]++;
	}
}

/* Scanners by tool identifier (zmap, masscan, ...; at most 8 kinds). */
struct tools {
	char name[8][16];
	long long n[8];
	size_t used;
};

/* Counts a scanner finding under its identifier. */
static void count_tool(json_t *f, void *arg)
{
	struct tools *t = arg;
	const char *id = json_string_value(json_object_get(f, "identifier"));
	if (!id)
		return;
	size_t i;
	for (i = 0; i < t->used && strcmp(t->name[i], id) != 0; i++)
		;
	if (i == t->used) {
		if (t->used == 8)
			return;
		snprintf(t->name[t->used++], sizeof t->name[0], "%s", id);
	}
	t->n[i]++;
}

/* Where show_surge writes. */
struct surges {
	struct text *t;
};

/* One line per port surge: port, when, sources a minute, baseline. */
static void show_surge(json_t *f, void *arg)
{
	struct surges *s = arg;
	json_t *det = json_object_get(f, "detail");
	const char *transport = json_string_value(json_object_get(f, "transport"));
	const char *first = json_string_value(json_object_get(f, "first_seen"));
	say(s->t, "      port %lld/%s at %s: %lld sources a minute over a baseline of %.1f\n",
	    (long long)json_integer_value(json_object_get(f, "port")),
	    transport ? transport : "tcp", first ? first : "?",
	    (long long)json_integer_value(json_object_get(det, "sources")),
	    json_number_value(json_object_get(det, "baseline")));
}

/* The first line of tokens/<file>.token, without its line end. */
static int read_token(const struct kz_demo *d, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	if (kz_demo_path(d, path, sizeof path, "tokens/%s.token", file))
		return -1;
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, (int)len, f)) {
		kz_cli_error("%s: cannot read the token", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

int kz_demo_summary(struct kz_demo *d, bool surveyed, bool mmdb)
{
	static struct text t;
	char admin[256], oper[256], path[PATH_MAX];
	int rc = -1;
	t.n = 0;
	if (read_token(d, "admin", admin, sizeof admin) ||
	    read_token(d, "AS64496", oper, sizeof oper))
		return -1;
	json_t *sum = api_get(d, admin, "/api/v1/summary");
	if (!sum)
		goto out;
	/* Totals by kind are the hub's own counts (every state), exact however
	 * many findings there are; the survey table pages through findings
	 * because it needs each one's status. */
	json_t *by_kind = json_object_get(json_object_get(sum, "findings"), "by_kind");
	struct tools tools = { 0 };
	struct per_asn per = { 0 };
	if (each_finding(d, admin, "scanner", count_tool, &tools) ||
	    (surveyed && each_finding(d, admin, "survey", count_survey, &per)))
		goto out;

	say(&t, "\n== kizuki demo: what the hub holds\n\n");
	say(&t, "Telescope (6 h of darknet traffic to %s, read in packet time):\n",
	    KZ_DEMO_DARKNET);
	say(&t, "  infected hosts (Mirai)  %lld\n", kind_total(by_kind, "infected", NULL));
	say(&t, "  scanners                %lld  (", kind_total(by_kind, "scanner", NULL));
	for (size_t i = 0; i < tools.used; i++)
		say(&t, "%s%s %lld", i ? ", " : "", tools.name[i], tools.n[i]);
	say(&t, ")\n");
	say(&t, "  DoS victims             %lld\n", kind_total(by_kind, "dos-victim", NULL));
	say(&t, "  port surges             %lld\n", kind_total(by_kind, "port-surge", NULL));
	struct surges s = { &t };
	if (each_finding(d, admin, "port-surge", show_surge, &s))
		goto out;

	if (surveyed) {
		long long services = 0, weak = 0, noauth = 0;
		say(&t, "\nSurvey (the simulated fleet %s, 512 devices, telnet and HTTP):\n",
		    KZ_DEMO_FLEET);
		say(&t, "  %-8s  %-18s %9s %15s %8s\n", "AS", "operator", "services",
		    "login-possible", "no-auth");
		for (unsigned i = 0; i < KZ_DEMO_OPERATORS; i++) {
			say(&t, "  AS%-6u  %-18s %9lld %15lld %8lld\n", KZ_DEMO_FIRST_ASN + i,
			    kz_demo_operator_name(i), per.services[i], per.weak[i], per.noauth[i]);
			services += per.services[i];
			weak += per.weak[i];
			noauth += per.noauth[i];
		}
		say(&t, "  %-8s  %-18s %9lld %15lld %8lld\n", "total", "", services, weak, noauth);
	} else {
		say(&t,
		    "\nSurvey: not run (it needs root for its network namespaces; see above)\n");
	}
	if (!mmdb)
		say(&t, "\n(no country database: the dashboard shows countries as unknown)\n");

	say(&t, "\nFiles in %s:\n", d->out);
	say(&t, "  reports, one per operator  reports/AS<asn>.csv, .json\n");
	say(&t, "  STIX 2.1 bundle            stix-bundle.json (partner demo-partner, up to "
	        "TLP:AMBER)\n");
	say(&t, "  records as sent            telescope-events.jsonl%s\n",
	    surveyed ? ", survey.jsonl" : "");
	say(&t, "  hub store, logs            hub.db, logs/\n");
	say(&t, "\nDashboard: %s/\n", d->url);
	say(&t, "  admin login (token):             %s\n", admin);
	say(&t, "  operator login, AS64496 %s: %s\n", kz_demo_operator_name(0), oper);
	say(&t, "  every operator's token:          tokens/AS<asn>.token\n");
	fputs(t.buf, stdout);
	fflush(stdout);
	if (kz_demo_path(d, path, sizeof path, "summary.txt") == 0) {
		/* It holds the tokens: readable by the demo's user only. */
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (fd >= 0 && !f)
			close(fd);
		if (f) {
			fputs(t.buf, f);
			fclose(f);
		}
	}
	rc = 0;
out:
	json_decref(sum);
	explicit_bzero(admin, sizeof admin);
	explicit_bzero(oper, sizeof oper);
	return rc;
}
