/*
 * The HTTP plug-in against fake devices on a simulated clock.
 *
 * A fake device reads each request the plug-in writes and answers the way
 * a web server would: it checks Basic credentials by decoding them and
 * Digest credentials by recomputing the response itself from the request's
 * parameters with libcrypto directly (RFC 7616's formulas, written out
 * again here, not through http_auth.c), so a wrong digest is refused as a
 * real server would refuse it. Each test gives the device a behaviour
 * (weak, strong, accept-anything, an open admin page, a redirect, another
 * protocol, silence, ...) and checks the status, the pair, the requests
 * made (no request after a redirect goes anywhere else; the control pair is
 * not in the list; nothing is sent before a challenge), and that no
 * credential is left in the plug-in's memory after release.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "creds.h"
#include "encode.h"
#include "login_http.h"

enum answer {
	A_BYTES = 0, /* send resp */
	A_SILENT,    /* say nothing until the deadline */
	A_CLOSE,     /* close without a byte */
};

struct req {
	char line[300];
	char auth[1200];
	char host[80];
	char ua[240];
	bool has_auth, conn_close;
};

struct dev;
typedef enum answer respond_fn(struct dev *d, const struct req *q, char *resp, size_t cap);

struct dev {
	respond_fn *fn;
	const char *scheme; /* "Basic", "Digest" */
	const char *alg;    /* Digest algorithm name */
	const char *realm;
	const char *user, *pass; /* the one pair that logs in */
	bool accept_any;
	bool same_nonce;  /* one nonce for every challenge: nc must grow */
	int stale_first;  /* answer the first N credentialed requests "stale" */
	int refuse_conn;  /* connection numbers (1-based) refused */
	int status_after; /* nonzero: this status for every credentialed request */
	const char *location;
	unsigned nonce_n;
	uint32_t last_nc;
	bool nc_error;
	/* what happened */
	unsigned conns, requests, cred_requests, control_requests, listed_requests;
	struct req reqs[64];
};

static const char *const list_lines[] = {
	"root:xc3511", "root:vizxv",      "admin:admin", "root:admin",
	":1234",       "support:support", "a\\:b:colon", "admin:S3cr3tPW:http:NETGEAR",
};
#define NLIST (sizeof list_lines / sizeof list_lines[0])

static struct kz_creds *creds;

static int setup(void **state)
{
	(void)state;
	return kz_creds_load_strings("test", list_lines, NLIST, &creds);
}

static int teardown(void **state)
{
	(void)state;
	kz_creds_free(creds);
	return 0;
}

/* ------------------------------------------------------- the fake server */

static void hexhash(const EVP_MD *md, const char *s, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	assert_int_equal(EVP_Digest(s, strlen(s), d, &n, md, NULL), 1);
	kz_hex_encode(d, n, out);
}

/* The value of name in a Digest field ("" if absent). */
static void param(const char *field, const char *name, char *out, size_t cap)
{
	out[0] = '\0';
	size_t nl = strlen(name);
	for (const char *p = field; (p = strstr(p, name)) != NULL; p++) {
		if ((p != field && p[-1] != ' ' && p[-1] != ',') || p[nl] != '=')
			continue;
		p += nl + 1;
		size_t k = 0;
		if (*p == '"') {
			for (p++; *p && *p != '"' && k + 1 < cap; p++) {
				if (*p == '\\' && p[1])
					p++;
				out[k++] = *p;
			}
		} else {
			while (*p && *p != ',' && k + 1 < cap)
				out[k++] = *p++;
		}
		out[k] = '\0';
		return;
	}
}

static bool is_listed(const char *user)
{
	const struct kz_login_cred *c = kz_creds_pairs(creds);
	for (size_t i = 0; i < kz_creds_count(creds); i++)
		if (strcmp(c[i].user, user) == 0)
			return true;
	return false;
}

/* Checks the request's credentials as the server would; sets *user. */
static bool check_creds(struct dev *d, const struct req *q, char *user, size_t cap)
{
	char pass[200];
	user[0] = '\0';
	if (!q->has_auth)
		return false;
	if (strncmp(q->auth, "Basic ", 6) == 0) {
		uint8_t dec[400];
		long n = kz_base64_decode(q->auth + 6, strlen(q->auth + 6), dec);
		assert_true(n > 0);
		dec[n] = 0;
		char *colon = strchr((char *)dec, ':');
		assert_non_null(colon);
		*colon = '\0';
		snprintf(user, cap, "%.199s", (char *)dec);
		snprintf(pass, sizeof pass, "%.199s", colon + 1);
		return d->accept_any || (strcmp(user, d->user) == 0 && strcmp(pass, d->pass) == 0);
	}
	assert_true(strncmp(q->auth, "Digest ", 7) == 0);
	char realm[300], nonce[300], uri[300], resp[80], qop[20], nc[20], cnonce[80], alg[40];
	param(q->auth, "username", user, cap);
	param(q->auth, "realm", realm, sizeof realm);
	param(q->auth, "nonce", nonce, sizeof nonce);
	param(q->auth, "uri", uri, sizeof uri);
	param(q->auth, "response", resp, sizeof resp);
	param(q->auth, "qop", qop, sizeof qop);
	param(q->auth, "nc", nc, sizeof nc);
	param(q->auth, "cnonce", cnonce, sizeof cnonce);
	param(q->auth, "algorithm", alg, sizeof alg);
	assert_string_equal(realm, d->realm);
	/* The uri is the request target, exactly. */
	char target[300];
	sscanf(q->line, "GET %299s", target);
	assert_string_equal(uri, target);
	if (qop[0]) {
		uint32_t n = (uint32_t)strtoul(nc, NULL, 16);
		if (n <= d->last_nc && d->same_nonce)
			d->nc_error = true;
		d->last_nc = n;
	}
	if (d->accept_any)
		return true;
	if (strcmp(user, d->user) != 0)
		return false;
	const EVP_MD *md = strcmp(d->alg, "SHA-256") == 0 ? EVP_sha256() : EVP_md5();
	if (alg[0])
		assert_string_equal(alg, d->alg);
	char ha1[80], ha2[80], want[80], buf[1200];
	snprintf(buf, sizeof buf, "%s:%s:%s", user, realm, d->pass);
	hexhash(md, buf, ha1);
	snprintf(buf, sizeof buf, "GET:%s", uri);
	hexhash(md, buf, ha2);
	if (qop[0])
		snprintf(buf, sizeof buf, "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2);
	else
		snprintf(buf, sizeof buf, "%s:%s:%s", ha1, nonce, ha2);
	hexhash(md, buf, want);
	return strcmp(want, resp) == 0;
}

static int challenge_401(struct dev *d, char *resp, size_t cap, bool stale)
{
	if (strcmp(d->scheme, "Basic") == 0)
		return snprintf(resp, cap,
		                "HTTP/1.1 401 Unauthorized\r\nServer: fake\r\n"
		                "WWW-Authenticate: Basic realm=\"%s\"\r\nContent-Length: 0\r\n\r\n",
		                d->realm);
	unsigned n = d->same_nonce ? 1 : ++d->nonce_n;
	return snprintf(resp, cap,
	                "HTTP/1.1 401 Unauthorized\r\nServer: fake\r\n"
	                "WWW-Authenticate: Digest realm=\"%s\", qop=\"auth\", algorithm=%s, "
	                "nonce=\"nonce-%u\", opaque=\"op\"%s\r\n"
	                "Content-Length: 13\r\n\r\nUnauthorized\n",
	                d->realm, d->alg, n, stale ? ", stale=true" : "");
}

static enum answer protected_page(struct dev *d, const struct req *q, char *resp, size_t cap)
{
	char user[200];
	if (!q->has_auth) {
		challenge_401(d, resp, cap, false);
		return A_BYTES;
	}
	bool ok = check_creds(d, q, user, sizeof user);
	if (d->stale_first > 0) {
		d->stale_first--;
		challenge_401(d, resp, cap, true);
		return A_BYTES;
	}
	if (d->status_after) {
		snprintf(resp, cap, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", d->status_after);
		return A_BYTES;
	}
	if (ok) {
		snprintf(resp, cap,
		         "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>admin</html>");
		return A_BYTES;
	}
	challenge_401(d, resp, cap, false);
	return A_BYTES;
}

/* ---------------------------------------------------------------- runner */

struct run {
	struct kz_login_service svc;
	struct kz_http_login_config cfg;
	struct kz_http_login_path paths[4];
	void *state;
	struct kz_login_outcome out;
	uint64_t now;
	char reqbuf[4096];
	size_t reqlen;
};

static void parse_req(const char *text, struct req *q)
{
	memset(q, 0, sizeof *q);
	const char *eol = strstr(text, "\r\n");
	assert_non_null(eol);
	snprintf(q->line, sizeof q->line, "%.*s", (int)(eol - text), text);
	for (const char *p = eol + 2; *p && strncmp(p, "\r\n", 2) != 0;) {
		const char *e = strstr(p, "\r\n");
		assert_non_null(e);
		int n = (int)(e - p);
		if (strncmp(p, "Authorization: ", 15) == 0) {
			snprintf(q->auth, sizeof q->auth, "%.*s", n - 15, p + 15);
			q->has_auth = true;
		} else if (strncmp(p, "Host: ", 6) == 0) {
			snprintf(q->host, sizeof q->host, "%.*s", n - 6, p + 6);
		} else if (strncmp(p, "User-Agent: ", 12) == 0) {
			snprintf(q->ua, sizeof q->ua, "%.*s", n - 12, p + 12);
		} else if (strncmp(p, "Connection: close", 17) == 0) {
			q->conn_close = true;
		}
		/* A field the plug-in writes must never hold a bare CR or LF. */
		assert_null(memchr(p, '\n', (size_t)n));
		p = e + 2;
	}
}

static void run_device(struct run *r, struct dev *d, const char *addr, uint16_t port,
                       unsigned max_attempts, const struct kz_http_login_path *paths, size_t npaths)
{
	memset(r, 0, sizeof *r);
	kz_http_login_defaults(&r->cfg);
	if (npaths) {
		memcpy(r->paths, paths, npaths * sizeof *paths);
		r->cfg.paths = r->paths;
		r->cfg.npaths = npaths;
	}
	const char *why;
	struct kz_addr a;
	assert_int_equal(kz_addr_parse(addr, &a, &why), 0);
	r->svc = (struct kz_login_service){
		.addr = a,
		.port = port,
		.app = KZ_LOGIN_APP_HTTP,
		.creds = creds,
		.max_attempts = max_attempts,
		.seed = 42,
		.max_conn_bytes = 1u << 20,
		.config = &r->cfg,
	};
	const struct kz_login_proto *p = &kz_login_proto_http;
	r->state = calloc(1, p->state_size);
	assert_non_null(r->state);
	assert_int_equal(p->init(r->state, &r->svc), 0);
	r->now = 1000;
	struct kz_login_step s = p->start(r->state, r->now);
	bool conn = false;
	for (int guard = 0; guard < 2000; guard++) {
		assert_true(s.deadline > r->now || s.want == KZ_LOGIN_WANT_DONE ||
		            (s.want == KZ_LOGIN_WANT_CONNECT && s.deadline >= s.at));
		if (s.want == KZ_LOGIN_WANT_DONE)
			break;
		if (s.want == KZ_LOGIN_WANT_CONNECT) {
			assert_true(s.at >= r->now);
			r->now = s.at;
			conn = true;
			r->reqlen = 0;
			d->conns++;
			if (d->refuse_conn && (int)d->conns == d->refuse_conn) {
				s = p->connect_failed(r->state, -ECONNREFUSED, r->now);
				continue;
			}
			s = p->connected(r->state, -1, r->now);
			continue;
		}
		assert_true(conn);
		size_t len;
		const uint8_t *o = p->output(r->state, &len);
		assert_int_equal(len, s.send_len);
		if (len) {
			/* Written in two parts, as a short write would. */
			size_t first = len > 7 ? 7 : len;
			assert_true(r->reqlen + len < sizeof r->reqbuf);
			memcpy(r->reqbuf + r->reqlen, o, first);
			r->reqlen += first;
			p->consume(r->state, first);
			o = p->output(r->state, &len);
			memcpy(r->reqbuf + r->reqlen, o, len);
			r->reqlen += len;
			p->consume(r->state, len);
			r->reqbuf[r->reqlen] = '\0';
		}
		if (r->reqlen && strstr(r->reqbuf, "\r\n\r\n")) {
			struct req q;
			parse_req(r->reqbuf, &q);
			r->reqlen = 0;
			assert_true(q.conn_close);
			if (d->requests < 64)
				d->reqs[d->requests] = q;
			d->requests++;
			if (q.has_auth)
				d->cred_requests++;
			static char resp[8192];
			enum answer ans = d->fn(d, &q, resp, sizeof resp);
			if (ans == A_SILENT) {
				r->now = s.deadline;
				s = p->tick(r->state, r->now);
			} else if (ans == A_CLOSE) {
				s = p->closed(r->state, r->now);
			} else {
				size_t rl = strlen(resp), half = rl / 2;
				r->now += 5;
				s = p->input(r->state, (const uint8_t *)resp, half, r->now);
				if (s.want == KZ_LOGIN_WANT_IO)
					s = p->input(r->state, (const uint8_t *)resp + half,
					             rl - half, r->now);
			}
			continue;
		}
		/* Nothing to send, nothing received: time passes. */
		r->now = s.deadline;
		s = p->tick(r->state, r->now);
	}
	assert_int_equal(s.want, KZ_LOGIN_WANT_DONE);
	p->result(r->state, &r->out);
}

/* After release no copy of a credential is left in the plug-in's state. */
static void release_and_check(struct run *r, const char *secret)
{
	kz_login_proto_http.release(r->state);
	if (secret)
		assert_null(
		        memmem(r->state, kz_login_proto_http.state_size, secret, strlen(secret)));
	free(r->state);
}

static int pair_index(const char *user, const char *pass)
{
	const struct kz_login_cred *c = kz_creds_pairs(creds);
	for (size_t i = 0; i < kz_creds_count(creds); i++)
		if (strcmp(c[i].user, user) == 0 && strcmp(c[i].pass, pass) == 0)
			return (int)i;
	return -2;
}

static struct run R;

/* ----------------------------------------------------------------- tests */

static void basic_weak(void **state)
{
	(void)state;
	struct dev d = { .fn = protected_page,
		         .scheme = "Basic",
		         .realm = "DVR",
		         .user = "admin",
		         .pass = "admin" };
	run_device(&R, &d, "198.51.100.7", 8080, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_POSSIBLE);
	assert_int_equal(R.out.pair, pair_index("admin", "admin"));
	assert_true(R.out.password_asked);
	assert_string_equal(R.out.detail, "/: Basic");
	/* probe, root:xc3511, root:vizxv, admin:admin, control */
	assert_int_equal(d.requests, 5);
	assert_int_equal(R.out.attempts, 3);
	assert_int_equal(R.out.connections, 5);
	assert_false(d.reqs[0].has_auth);
	assert_string_equal(d.reqs[0].line, "GET / HTTP/1.1");
	assert_string_equal(d.reqs[0].host, "198.51.100.7:8080");
	assert_string_equal(d.reqs[0].ua, KZ_HTTP_LOGIN_USER_AGENT);
	/* The control pair: a user that is not in the list. */
	uint8_t dec[200];
	long n = kz_base64_decode(d.reqs[4].auth + 6, strlen(d.reqs[4].auth + 6), dec);
	assert_true(n > 0);
	dec[n] = 0;
	*strchr((char *)dec, ':') = '\0';
	assert_false(is_listed((char *)dec));
	assert_int_equal(strlen((char *)dec), 10);
	/* The banner is the first response's head. */
	assert_true(R.out.banner_len > 0);
	assert_non_null(memmem(R.out.banner, R.out.banner_len, "Basic realm=\"DVR\"", 17));
	release_and_check(&R, "YWRtaW46YWRtaW4="); /* base64 of admin:admin */
}

static void digest_md5_weak(void **state)
{
	(void)state;
	struct dev d = { .fn = protected_page,
		         .scheme = "Digest",
		         .alg = "MD5",
		         .realm = "IP Camera",
		         .user = "root",
		         .pass = "admin" };
	run_device(&R, &d, "192.0.2.10", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_POSSIBLE);
	assert_int_equal(R.out.pair, pair_index("root", "admin"));
	assert_string_equal(R.out.detail, "/: Digest MD5");
	assert_string_equal(d.reqs[0].host, "192.0.2.10");
	release_and_check(&R, NULL);
}

static void digest_sha256_same_nonce(void **state)
{
	(void)state;
	/* One nonce for every challenge: the nonce count must grow. */
	struct dev d = { .fn = protected_page,
		         .scheme = "Digest",
		         .alg = "SHA-256",
		         .realm = "kz",
		         .user = "support",
		         .pass = "support",
		         .same_nonce = true };
	run_device(&R, &d, "2001:db8::7", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_POSSIBLE);
	assert_int_equal(R.out.pair, pair_index("support", "support"));
	assert_string_equal(R.out.detail, "/: Digest SHA-256");
	assert_false(d.nc_error);
	assert_string_equal(d.reqs[0].host, "[2001:db8::7]");
	release_and_check(&R, NULL);
}

static void digest_stale_nonce(void **state)
{
	(void)state;
	/* The first answer says the nonce went stale: the same pair again,
	 * not counted twice, not a failure. */
	struct dev d = { .fn = protected_page,
		         .scheme = "Digest",
		         .alg = "MD5",
		         .realm = "r",
		         .user = "root",
		         .pass = "xc3511",
		         .stale_first = 1 };
	run_device(&R, &d, "192.0.2.11", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_POSSIBLE);
	assert_int_equal(R.out.pair, pair_index("root", "xc3511"));
	assert_int_equal(R.out.attempts, 1);
	assert_int_equal(d.cred_requests, 3); /* stale, accepted, control */
	release_and_check(&R, NULL);
}

static void strong_device(void **state)
{
	(void)state;
	struct dev d = { .fn = protected_page,
		         .scheme = "Basic",
		         .realm = "r",
		         .user = "admin",
		         .pass = "Zq8#long-and-random" };
	run_device(&R, &d, "192.0.2.12", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_FAILED);
	assert_int_equal(R.out.pair, -1);
	/* Every pair Basic can carry: "a:b" cannot (':' in the user). */
	assert_int_equal(R.out.attempts, NLIST - 1);
	assert_int_equal(d.requests, NLIST);
	release_and_check(&R, "S3cr3tPW");
}

static void max_attempts(void **state)
{
	(void)state;
	struct dev d = { .fn = protected_page,
		         .scheme = "Basic",
		         .realm = "r",
		         .user = "admin",
		         .pass = "nope" };
	run_device(&R, &d, "192.0.2.13", 80, 2, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_FAILED);
	assert_int_equal(R.out.attempts, 2);
	assert_int_equal(d.requests, 3);
	release_and_check(&R, NULL);
}

static void accepts_anything(void **state)
{
	(void)state;
	struct dev d = { .fn = protected_page,
		         .scheme = "Digest",
		         .alg = "MD5",
		         .realm = "r",
		         .user = "x",
		         .pass = "y",
		         .accept_any = true };
	run_device(&R, &d, "192.0.2.14", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_ACCEPTS_ANY);
	assert_int_equal(R.out.pair, -1);
	assert_int_equal(R.out.attempts, 1);
	assert_non_null(strstr(R.out.detail, "for a wrong pair"));
	release_and_check(&R, NULL);
}

/* A 200 for credentials that is not a login: 200 for the control too. */
static enum answer always_200_with_auth(struct dev *d, const struct req *q, char *resp, size_t cap)
{
	(void)d;
	if (!q->has_auth)
		snprintf(resp, cap,
		         "HTTP/1.0 401 X\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n");
	else
		snprintf(resp, cap, "HTTP/1.0 200 OK\r\n\r\nwelcome");
	return A_BYTES;
}

static void accepts_anything_basic(void **state)
{
	(void)state;
	struct dev d = { .fn = always_200_with_auth };
	run_device(&R, &d, "192.0.2.15", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_ACCEPTS_ANY);
	release_and_check(&R, NULL);
}

static enum answer open_page(struct dev *d, const struct req *q, char *resp, size_t cap)
{
	(void)q;
	if (d->status_after && strstr(q->line, "/kizuki-survey-"))
		snprintf(resp, cap, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", d->status_after);
	else
		snprintf(resp, cap, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmenu");
	return A_BYTES;
}

static void open_pages(void **state)
{
	(void)state;
	/* The default "/" is not an admin page: a public page is no finding. */
	struct dev d = { .fn = open_page, .status_after = 404 };
	run_device(&R, &d, "192.0.2.16", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_NO_PROMPT);
	assert_int_equal(d.requests, 1);
	release_and_check(&R, NULL);
	/* An admin path the operator named, and a random path is 404: no-auth. */
	struct kz_http_login_path admin = { "/cgi-bin/luci", true };
	struct dev d2 = { .fn = open_page, .status_after = 404 };
	run_device(&R, &d2, "192.0.2.16", 80, 0, &admin, 1);
	assert_int_equal(R.out.status, KZ_LOGIN_NO_AUTH);
	assert_int_equal(d2.requests, 2);
	assert_int_equal(d2.cred_requests, 0);
	assert_string_equal(R.out.detail,
	                    "/cgi-bin/luci: 200 without credentials (a random path: 404)");
	release_and_check(&R, NULL);
	/* The same, but the server answers 200 for any path: no-login-prompt. */
	struct dev d3 = { .fn = open_page };
	run_device(&R, &d3, "192.0.2.16", 80, 0, &admin, 1);
	assert_int_equal(R.out.status, KZ_LOGIN_NO_PROMPT);
	assert_non_null(strstr(R.out.detail, "and 200 for a random path"));
	release_and_check(&R, NULL);
}

static enum answer redirect(struct dev *d, const struct req *q, char *resp, size_t cap)
{
	(void)q;
	snprintf(resp, cap, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
	         d->location);
	return A_BYTES;
}

static void redirect_not_followed(void **state)
{
	(void)state;
	struct dev d = { .fn = redirect, .location = "http://203.0.113.9/login.asp" };
	run_device(&R, &d, "192.0.2.17", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_NO_PROMPT);
	assert_string_equal(R.out.detail, "/: 302 to http://203.0.113.9/login.asp (not followed)");
	/* One request, on one connection, to the target only. */
	assert_int_equal(d.requests, 1);
	assert_int_equal(R.out.connections, 1);
	release_and_check(&R, NULL);
}

static enum answer ssh_banner(struct dev *d, const struct req *q, char *resp, size_t cap)
{
	(void)d;
	(void)q;
	snprintf(resp, cap, "SSH-2.0-dropbear_2020.81\r\n");
	return A_BYTES;
}

static enum answer silent(struct dev *d, const struct req *q, char *resp, size_t cap)
{
	(void)d;
	(void)q;
	(void)resp;
	(void)cap;
	return A_SILENT;
}

static enum answer ntlm_only(struct dev *d, const struct req *q, char *resp, size_t cap)
{
	(void)d;
	(void)q;
	snprintf(resp, cap,
	         "HTTP/1.1 401 X\r\nWWW-Authenticate: NTLM\r\nWWW-Authenticate: Negotiate\r\n\r\n");
	return A_BYTES;
}

static void other_answers(void **state)
{
	(void)state;
	struct dev d = { .fn = ssh_banner };
	run_device(&R, &d, "192.0.2.18", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_OTHER_PROTOCOL);
	/* What came (here the first half of the line) is the banner. */
	assert_non_null(memmem(R.out.banner, R.out.banner_len, "SSH-2.0-", 8));
	release_and_check(&R, NULL);

	struct dev d2 = { .fn = silent };
	run_device(&R, &d2, "192.0.2.19", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_TIMEOUT);
	assert_int_equal(R.out.connections, 1);
	release_and_check(&R, NULL);

	struct dev d3 = { .fn = ntlm_only };
	run_device(&R, &d3, "192.0.2.20", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_NO_PROMPT);
	assert_string_equal(R.out.detail, "/: 401, NTLM only");
	assert_int_equal(d3.cred_requests, 0);
	release_and_check(&R, NULL);

	struct dev d4 = { .fn = protected_page,
		          .scheme = "Basic",
		          .realm = "r",
		          .user = "u",
		          .pass = "p",
		          .refuse_conn = 1 };
	run_device(&R, &d4, "192.0.2.21", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_ERROR);
	assert_int_equal(d4.requests, 0);
	release_and_check(&R, NULL);
}

static void unexpected_status_after_credentials(void **state)
{
	(void)state;
	/* 500 for every credential: never a login, never login-failed. */
	struct dev d = { .fn = protected_page,
		         .scheme = "Basic",
		         .realm = "r",
		         .user = "u",
		         .pass = "p",
		         .status_after = 500 };
	run_device(&R, &d, "192.0.2.22", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_ERROR);
	assert_int_equal(d.cred_requests, 3); /* the first pair, retried twice */
	release_and_check(&R, NULL);
}

/* The control attempt gets no answer: no claim is made. */
static enum answer control_dies(struct dev *d, const struct req *q, char *resp, size_t cap)
{
	char user[200];
	if (q->has_auth) {
		bool ok = check_creds(d, q, user, sizeof user);
		if (!is_listed(user)) {
			d->control_requests++;
			return A_CLOSE;
		}
		if (ok) {
			snprintf(resp, cap, "HTTP/1.1 200 OK\r\n\r\n");
			return A_BYTES;
		}
	}
	return protected_page(d, q, resp, cap);
}

static void control_inconclusive(void **state)
{
	(void)state;
	struct dev d = {
		.fn = control_dies, .scheme = "Basic", .realm = "r", .user = "root", .pass = "vizxv"
	};
	run_device(&R, &d, "192.0.2.23", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_ERROR);
	assert_int_equal(R.out.pair, -1);
	assert_int_equal(d.control_requests, 3); /* tried, then retried twice */
	release_and_check(&R, NULL);
}

static enum answer per_path(struct dev *d, const struct req *q, char *resp, size_t cap)
{
	if (strstr(q->line, "GET /a "))
		return d->location ? A_SILENT
		                   : (snprintf(resp, cap, "HTTP/1.1 404 No\r\n\r\n"), A_BYTES);
	return protected_page(d, q, resp, cap);
}

static void several_paths(void **state)
{
	(void)state;
	struct kz_http_login_path paths[] = { { "/a", true }, { "/b/", true } };
	/* /a is 404, /b/ is weak: login-possible, said of /b/. */
	struct dev d = {
		.fn = per_path, .scheme = "Basic", .realm = "r", .user = "root", .pass = "vizxv"
	};
	run_device(&R, &d, "192.0.2.24", 80, 0, paths, 2);
	assert_int_equal(R.out.status, KZ_LOGIN_POSSIBLE);
	assert_string_equal(R.out.detail, "/b/: Basic");
	release_and_check(&R, NULL);
	/* /b/ is strong, /a never answers: timeout, not login-failed (an
	 * unfinished path must not mark a finding remediated). */
	struct kz_http_login_path rev[] = { { "/b/", true }, { "/a", true } };
	struct dev d2 = { .fn = per_path,
		          .scheme = "Basic",
		          .realm = "r",
		          .user = "root",
		          .pass = "strong!",
		          .location = "silent" };
	run_device(&R, &d2, "192.0.2.25", 80, 0, rev, 2);
	assert_int_equal(R.out.status, KZ_LOGIN_TIMEOUT);
	release_and_check(&R, NULL);
}

static void vendor_order(void **state)
{
	(void)state;
	/* The realm names the vendor: its pair (admin:S3cr3tPW, for NETGEAR)
	 * is tried first. */
	struct dev d = { .fn = protected_page,
		         .scheme = "Basic",
		         .realm = "NETGEAR DGN1000",
		         .user = "admin",
		         .pass = "S3cr3tPW" };
	run_device(&R, &d, "192.0.2.26", 80, 0, NULL, 0);
	assert_int_equal(R.out.status, KZ_LOGIN_POSSIBLE);
	assert_int_equal(R.out.attempts, 1);
	assert_int_equal(R.out.pair, pair_index("admin", "S3cr3tPW"));
	release_and_check(&R, "S3cr3tPW");
}

static void config_checks(void **state)
{
	(void)state;
	const char *why;
	assert_int_equal(kz_http_login_path_check("/cgi-bin/luci", &why), 0);
	assert_int_equal(kz_http_login_path_check("/a?b=c&d=%20", &why), 0);
	assert_int_equal(kz_http_login_path_check("admin", &why), -EINVAL);
	assert_int_equal(kz_http_login_path_check("/a b", &why), -EINVAL);
	assert_int_equal(kz_http_login_path_check("/a\r\nX: y", &why), -EINVAL);
	assert_int_equal(kz_http_login_path_check("/caf\xc3\xa9", &why), -EINVAL);
	assert_int_equal(kz_http_login_path_check("/a#frag", &why), -EINVAL);
	assert_int_equal(kz_http_login_path_check("", &why), -EINVAL);
	assert_int_equal(
	        kz_http_login_user_agent_check("kizuki-survey/0.1 (+abuse@example.net)", &why), 0);
	assert_int_equal(kz_http_login_user_agent_check("x\r\ny", &why), -EINVAL);
	assert_int_equal(kz_http_login_user_agent_check("", &why), -EINVAL);
	/* A configuration the plug-in refuses: init fails, nothing is sent. */
	struct kz_http_login_path bad = { "no-slash", true };
	struct kz_http_login_config cfg;
	kz_http_login_defaults(&cfg);
	cfg.paths = &bad;
	cfg.npaths = 1;
	struct kz_login_service svc = { .creds = creds, .config = &cfg, .app = KZ_LOGIN_APP_HTTP };
	void *st = calloc(1, kz_login_proto_http.state_size);
	assert_int_equal(kz_login_proto_http.init(st, &svc), -EINVAL);
	kz_login_proto_http.release(st);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_weak),
		cmocka_unit_test(digest_md5_weak),
		cmocka_unit_test(digest_sha256_same_nonce),
		cmocka_unit_test(digest_stale_nonce),
		cmocka_unit_test(strong_device),
		cmocka_unit_test(max_attempts),
		cmocka_unit_test(accepts_anything),
		cmocka_unit_test(accepts_anything_basic),
		cmocka_unit_test(open_pages),
		cmocka_unit_test(redirect_not_followed),
		cmocka_unit_test(other_answers),
		cmocka_unit_test(unexpected_status_after_credentials),
		cmocka_unit_test(control_inconclusive),
		cmocka_unit_test(several_paths),
		cmocka_unit_test(vendor_order),
		cmocka_unit_test(config_checks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
