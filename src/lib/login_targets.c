/*
 * Stage-2 targets and the --targets-file format (login_targets.h). The
 * parser is strict, like the scope's: a line is exactly one target or an
 * error a user can act on, because a silently skipped line is a device
 * silently left out of a survey.
 */
#include "login_targets.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "log.h"
#include "siphash.h"

/* The names CONTRACT.md uses for protocol.application and --ports. */
static const char *const app_names[] = {
	[KZ_LOGIN_APP_TELNET] = "telnet",
	[KZ_LOGIN_APP_SSH] = "ssh",
	[KZ_LOGIN_APP_HTTP] = "http",
};

const char *kz_login_app_name(enum kz_login_app app)
{
	return (unsigned)app < sizeof app_names / sizeof app_names[0] ? app_names[app] : NULL;
}

int kz_login_app_parse(const char *s, enum kz_login_app *app)
{
	for (unsigned i = 0; i < sizeof app_names / sizeof app_names[0]; i++) {
		if (strcmp(s, app_names[i]) == 0) {
			*app = (enum kz_login_app)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The port is parsed by hand rather than with strtoul: strtoul accepts a
 * sign, blanks and a leading zero, each of which hides a typing mistake
 * in a file of thousands of lines. */
int kz_login_target_parse(const char *s, struct kz_login_target *t, const char **why)
{
	char host[KZ_ADDR_STRLEN + 1];
	const char *rest;
	/* IPv6 needs brackets because its colons would be read as the
	 * port's; an IPv4 address in brackets is refused as a likely typo. */
	bool bracketed = s[0] == '[';
	if (bracketed) {
		const char *close = strchr(s, ']');
		if (!close) {
			*why = "'[' without ']'";
			return -EINVAL;
		}
		size_t n = (size_t)(close - s - 1);
		if (n == 0 || n > KZ_ADDR_STRLEN) {
			*why = "not an IPv6 address between '[' and ']'";
			return -EINVAL;
		}
		memcpy(host, s + 1, n);
		host[n] = '\0';
		rest = close + 1;
	} else {
		const char *colon = strchr(s, ':');
		if (!colon) {
			*why = "no ':' before the port (address:port/app)";
			return -EINVAL;
		}
		if (strchr(colon + 1, ':')) {
			*why = "an IPv6 address needs brackets: [address]:port/app";
			return -EINVAL;
		}
		size_t n = (size_t)(colon - s);
		if (n == 0 || n > KZ_ADDR_STRLEN) {
			*why = "not an address before ':'";
			return -EINVAL;
		}
		memcpy(host, s, n);
		host[n] = '\0';
		rest = colon;
	}
	struct kz_addr a;
	const char *awhy;
	if (kz_addr_parse(host, &a, &awhy) != 0) {
		*why = awhy;
		return -EINVAL;
	}
	if (bracketed && kz_addr_is_v4(a)) {
		*why = "brackets are for IPv6 addresses";
		return -EINVAL;
	}
	if (*rest != ':') {
		*why = "no ':' before the port (address:port/app)";
		return -EINVAL;
	}
	rest++;
	unsigned long port = 0;
	const char *p = rest;
	if (*p < '0' || *p > '9') {
		*why = "no port number after ':'";
		return -EINVAL;
	}
	if (*p == '0') {
		*why = "port 0 or a port with a leading zero";
		return -EINVAL;
	}
	while (*p >= '0' && *p <= '9') {
		port = port * 10 + (unsigned long)(*p - '0');
		if (port > 65535) {
			*why = "port above 65535";
			return -EINVAL;
		}
		p++;
	}
	if (*p != '/') {
		*why = "no '/app' after the port (telnet, ssh or http)";
		return -EINVAL;
	}
	enum kz_login_app app;
	if (kz_login_app_parse(p + 1, &app) != 0) {
		*why = "unknown application (telnet, ssh or http)";
		return -EINVAL;
	}
	t->addr = a;
	t->port = (uint16_t)port;
	t->app = (uint8_t)app;
	t->found_at = 0;
	return 0;
}

char *kz_login_target_format(const struct kz_login_target *t, char *buf, size_t len)
{
	char a[KZ_ADDR_STRLEN];
	kz_addr_format(t->addr, a);
	const char *app = kz_login_app_name((enum kz_login_app)t->app);
	snprintf(buf, len, kz_addr_is_v4(t->addr) ? "%s:%u/%s" : "[%s]:%u/%s", a, t->port,
	         app ? app : "?");
	return buf;
}

/* ---- loading ------------------------------------------------------------- */

/* Load-time table of the targets seen, to report repeats with both line
 * numbers: open addressing, at most half full. */
struct seen {
	uint64_t *slot; /* (line number << 1 | 1) of the first occurrence, by hash */
	struct kz_login_target *key;
	size_t cap;
};

static uint64_t target_hash(const struct kz_login_target *t)
{
	/* A fixed key is enough: this table lives for one load of a file the
	 * operator wrote. */
	static const struct kz_siphash_key k = { 0x6b697a756b690001u, 0x746172676574730au };
	return kz_siphash24_addr(&k, t->addr) ^
	       ((uint64_t)t->port << 8 | t->app) * 0x9e3779b97f4a7c15u;
}

/* Doubles the table and re-inserts what it holds. */
static int seen_grow(struct seen *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	uint64_t *slot = calloc(ncap, sizeof *slot);
	struct kz_login_target *key = calloc(ncap, sizeof *key);
	if (!slot || !key) {
		free(slot);
		free(key);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slot[i])
			continue;
		size_t j = (size_t)target_hash(&s->key[i]) & (ncap - 1);
		while (slot[j])
			j = (j + 1) & (ncap - 1);
		slot[j] = s->slot[i];
		key[j] = s->key[i];
	}
	free(s->slot);
	free(s->key);
	s->slot = slot;
	s->key = key;
	s->cap = ncap;
	return 0;
}

/* Returns the line of an earlier occurrence of t, or 0 after recording t
 * as seen at line; -ENOMEM as a negative value. */
static long long seen_check(struct seen *s, size_t n, const struct kz_login_target *t,
                            unsigned long line)
{
	if (2 * (n + 1) > s->cap && seen_grow(s) != 0)
		return -ENOMEM;
	size_t j = (size_t)target_hash(t) & (s->cap - 1);
	while (s->slot[j]) {
		const struct kz_login_target *k = &s->key[j];
		if (k->addr.v == t->addr.v && k->port == t->port && k->app == t->app)
			return (long long)(s->slot[j] >> 1);
		j = (j + 1) & (s->cap - 1);
	}
	s->slot[j] = (uint64_t)line << 1 | 1;
	s->key[j] = *t;
	return 0;
}

int kz_login_targets_load(const char *path, struct kz_login_target **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct kz_lines *lr;
	int rc = kz_lines_open(path, &lr);
	if (rc) {
		kz_err("%s: %s", path, strerror(-rc));
		return rc;
	}
	const char *name = kz_lines_path(lr);
	struct kz_login_target *v = NULL;
	size_t cnt = 0, cap = 0;
	struct seen seen = { 0 };
	unsigned long errors = 0;
	char *line;
	size_t len;
	/* A faulty line does not stop the load: every fault of the file is
	 * reported in one run, and the load fails at the end. */
	while ((rc = kz_lines_next(lr, &line, &len)) != 0) {
		unsigned long ln = kz_lines_number(lr);
		const char *why = NULL;
		if (rc == -EMSGSIZE) {
			why = "line too long";
		} else if (rc == -EINVAL) {
			why = "NUL byte in the line";
		} else if (rc < 0) {
			kz_err("%s: %s", name, strerror(-rc));
			goto fail;
		}
		struct kz_login_target t;
		if (!why) {
			char *s = kz_line_strip(line);
			if (*s == '\0')
				continue;
			if (kz_login_target_parse(s, &t, &why) != 0) {
				if (++errors <= KZ_LOGIN_TARGETS_MAX_REPORTS)
					kz_err("%s:%lu: %s: %s", name, ln, s, why);
				continue;
			}
		} else {
			if (++errors <= KZ_LOGIN_TARGETS_MAX_REPORTS)
				kz_err("%s:%lu: %s", name, ln, why);
			continue;
		}
		/* A repeat would check the device twice, in parallel if the
		 * per-host limit allowed it: loaded once, with a warning. */
		long long first = seen_check(&seen, cnt, &t, ln);
		if (first < 0) {
			rc = -ENOMEM;
			goto fail;
		}
		if (first > 0) {
			char buf[80];
			kz_warn("%s:%lu: %s: repeats line %lld, ignored", name, ln,
			        kz_login_target_format(&t, buf, sizeof buf), first);
			continue;
		}
		if (cnt == KZ_LOGIN_TARGETS_MAX) {
			kz_err("%s:%lu: more than %u targets", name, ln, KZ_LOGIN_TARGETS_MAX);
			rc = -E2BIG;
			goto fail;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct kz_login_target *nv = reallocarray(v, ncap, sizeof *nv);
			if (!nv) {
				rc = -ENOMEM;
				goto fail;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = t;
	}
	if (errors > KZ_LOGIN_TARGETS_MAX_REPORTS)
		kz_err("%s: %lu more errors not shown", name,
		       errors - KZ_LOGIN_TARGETS_MAX_REPORTS);
	if (errors) {
		rc = -EINVAL;
		goto fail;
	}
	if (cnt == 0) {
		kz_err("%s: no target in the file", name);
		rc = -EINVAL;
		goto fail;
	}
	kz_lines_close(lr);
	free(seen.slot);
	free(seen.key);
	*out = v;
	*n = cnt;
	return 0;
fail:
	if (rc == -ENOMEM)
		kz_err("%s: out of memory", name);
	kz_lines_close(lr);
	free(seen.slot);
	free(seen.key);
	free(v);
	return rc ? rc : -EIO;
}
