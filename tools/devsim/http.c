/*
 * The HTTP devices of docs/devsim-spec.md section 11 (fleet-v2): one
 * request per connection, answered after the spec's delay, then the close.
 *
 * A connection reads its request head into a buffer of DSIM_REQ_MAX bytes
 * (allocated here for HTTP connections only; main.c frees it), then
 * queues one response and the close on the connection's output queue
 * (device.c's, carried out by main.c like every telnet device's output).
 *
 * Credentials are checked as a server checks them, independently of the
 * survey's own HTTP code: Basic by decoding it, Digest by recomputing the
 * RFC 7616 response with libcrypto from the request's parameters and the
 * device's password. No nonce state is kept: any nonce of the device's form
 * is accepted (spec 11.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "devsim.h"
#include "encode.h"

enum { BASIC = 1, DIGEST = 2 };

struct wstyle {
	const char *version;
	const char *server;
	uint8_t scheme;
	const char *realm;
	const char *body401;
};

static const char digest_401[] = "<html><body>401 Unauthorized</body></html>";

/* Spec 11.2; index 0 is the server of H05 and H07. */
static const struct wstyle wstyles[DSIM_NWSTYLES] = {
	[0] = { "HTTP/1.1", "uhttpd", 0, NULL, NULL },
	[1] = { "HTTP/1.0", "GoAhead-Webs", BASIC, "GoAhead",
	        "<html><head><title>Document Error: Unauthorized</title></head><body><h2>Access "
	        "Error: Unauthorized</h2></body></html>" },
	[2] = { "HTTP/1.0", "Boa/0.94.14rc21", BASIC, "DVR",
	        "<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD><BODY><H1>401 "
	        "Unauthorized</H1></BODY></HTML>" },
	[3] = { "HTTP/1.1", "mini_httpd/1.19 19dec2003", BASIC, "NETGEAR DGN1000",
	        "<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD><BODY><H2>401 "
	        "Unauthorized</H2>Authorization required.</BODY></HTML>" },
	[4] = { "HTTP/1.1", "lighttpd/1.4.35", DIGEST, "NAS", digest_401 },
	[5] = { "HTTP/1.1", "App-webs/", DIGEST, "IP Camera", digest_401 },
	[6] = { "HTTP/1.1", "nginx", DIGEST, "device@example.net", digest_401 },
};

static const char admin_page[] = "<html><head><title>Device admin</title></head><body>"
                                 "<h1>Status</h1>Uptime 12 days</body></html>";
static const char login_form[] =
        "<html><head><title>Login</title></head><body><form method=\"post\" "
        "action=\"/login.cgi\">User <input name=\"user\"> Password <input type=\"password\" "
        "name=\"pass\"> <input type=\"submit\" value=\"Login\"></form></body></html>";

enum { IDLE_MS = 10000, REPLY_MS = 10, SLOW_MS = 2000, REFUSE_MS = 1000 };

/* The style a behaviour answers with (spec 11.5). */
static const struct wstyle *style_of(const struct dsim_dev *d)
{
	return &wstyles[d->wstyle < DSIM_NWSTYLES ? d->wstyle : 0];
}

/* A new HTTP connection: wait for its request head (spec 11.1). */
void dsim_http_start(struct dsim_conn *c, uint64_t now)
{
	c->req = malloc(DSIM_REQ_MAX);
	c->req_len = 0;
	c->state = DSIM_ST_WEB;
	c->state_since = now;
	c->rng = dsim_mix(c->dev->seed ^ c->id);
	if (!c->req)
		dsim_queue_close(c, 0);
}

/* The idle timer: 10 s without a whole request head, then the close. */
uint64_t dsim_http_advance(struct dsim_conn *c, uint64_t now)
{
	if (c->state != DSIM_ST_WEB)
		return UINT64_MAX;
	if (now >= c->state_since + IDLE_MS) {
		c->state = DSIM_ST_WEB_DONE;
		dsim_queue_close(c, 0);
		return 0;
	}
	return c->state_since + IDLE_MS;
}

/* --- the request ------------------------------------------------------- */

/* The value of header field `name` in the head (NUL-terminated copy into
 * out), or false. */
static bool field(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *p = strchr(head, '\n'); p; p = strchr(p, '\n')) {
		p++;
		if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
			continue;
		p += nl + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, "\r\n");
		if (n >= cap)
			n = cap - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

/* One Digest parameter, quoted or not, quoted-pairs removed (a server's
 * own reading of the field, simpler than the prober's and separate). */
static void dparam(const char *v, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), k = 0;
	out[0] = '\0';
	for (const char *p = v; (p = strcasestr(p, name)) != NULL; p++) {
		if ((p != v && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\t') || p[nl] != '=')
			continue;
		p += nl + 1;
		if (*p == '"') {
			for (p++; *p && *p != '"' && k + 1 < cap; p++) {
				if (*p == '\\' && p[1])
					p++;
				out[k++] = *p;
			}
		} else {
			while (*p && *p != ',' && *p != ' ' && k + 1 < cap)
				out[k++] = *p++;
		}
		out[k] = '\0';
		return;
	}
}

/* Exactly n characters, all from set: the control pair's shape. */
static bool all_of(const char *s, size_t n, const char *set)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, s[i]))
			return false;
	return true;
}

static const char lower[] = "abcdefghijklmnopqrstuvwxyz";
static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* A pair of the list allowed for http (pass NULL: any password of the
 * user, for Digest, whose password the device cannot see). */
static bool listed(const struct dsim_creds *cr, const char *user, const char *pass)
{
	for (size_t i = 0; cr && i < cr->n; i++)
		if (cr->v[i].http && strcmp(cr->v[i].user, user) == 0 &&
		    (!pass || strcmp(cr->v[i].pass, pass) == 0))
			return true;
	return false;
}

/* H(s) as lowercase hex, as RFC 7616 writes every intermediate value. */
static void hexhash(const EVP_MD *md, const char *s, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(s, strlen(s), d, &n, md, NULL) != 1)
		n = 0;
	kz_hex_encode(d, n, out);
}

/* Does the Digest answer log in as user/pass? */
static bool digest_ok(const struct dsim_dev *d, const char *auth, const char *target,
                      const char *user, const char *pass)
{
	char realm[300], nonce[100], uri[600], resp[200], qop[32], nc[32], cnonce[200], alg[40];
	char ha1[160], ha2[160], want[160], buf[2048];
	dparam(auth, "realm", realm, sizeof realm);
	dparam(auth, "nonce", nonce, sizeof nonce);
	dparam(auth, "uri", uri, sizeof uri);
	dparam(auth, "response", resp, sizeof resp);
	dparam(auth, "qop", qop, sizeof qop);
	dparam(auth, "nc", nc, sizeof nc);
	dparam(auth, "cnonce", cnonce, sizeof cnonce);
	dparam(auth, "algorithm", alg, sizeof alg);
	const struct wstyle *w = style_of(d);
	const EVP_MD *md = EVP_md5();
	if (d->wstyle == 6 && strcmp(alg, "SHA-256") == 0)
		md = EVP_sha256();
	else if (alg[0] && strcmp(alg, "MD5") != 0)
		return false;
	if (strcmp(realm, w->realm) != 0 || strcmp(uri, target) != 0 ||
	    !all_of(nonce, 32, "0123456789abcdef"))
		return false;
	bool auth_int = strcmp(qop, "auth-int") == 0;
	if (strcmp(qop, "auth") != 0 && !(auth_int && d->wstyle == 6))
		return false;
	snprintf(buf, sizeof buf, "%s:%s:%s", user, realm, pass);
	hexhash(md, buf, ha1);
	if (auth_int) {
		char hb[160];
		hexhash(md, "", hb);
		snprintf(buf, sizeof buf, "GET:%s:%s", uri, hb);
	} else {
		snprintf(buf, sizeof buf, "GET:%s", uri);
	}
	hexhash(md, buf, ha2);
	snprintf(buf, sizeof buf, "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2);
	hexhash(md, buf, want);
	return strcmp(want, resp) == 0;
}

/* Classifies and checks the request's credential: counts it (attempt,
 * control attempt or violation) and says whether it logs in. *had says
 * whether there was one at all. */
static bool check(struct dsim_conn *c, const char *head, const char *target, bool *had)
{
	struct dsim_dev *d = c->dev;
	char auth[4096];
	*had = field(head, "Authorization", auth, sizeof auth);
	if (!*had)
		return false;
	bool any = d->http_accept == DSIM_ACCEPT_ANY;
	if (strncasecmp(auth, "Basic ", 6) == 0) {
		char *b64 = auth + 6;
		while (*b64 == ' ')
			b64++;
		uint8_t dec[3072];
		size_t bl = strlen(b64);
		long n = bl / 4 * 3 < sizeof dec ? kz_base64_decode(b64, bl, dec) : -1;
		char *colon = n > 0 ? memchr(dec, ':', (size_t)n) : NULL;
		if (!colon || memchr(dec, 0, (size_t)n)) {
			d->h_violations++;
			return any;
		}
		dec[n] = 0;
		*colon = '\0';
		const char *user = (const char *)dec, *pass = colon + 1;
		if (listed(c->creds, user, pass))
			d->h_attempts++;
		else if (all_of(user, 10, lower) && all_of(pass, 14, alnum))
			d->h_control_attempts++;
		else
			d->h_violations++;
		return any ||
		       (d->http_accept == DSIM_ACCEPT_USER_PASS && style_of(d)->scheme == BASIC &&
		        strcmp(user, d->http_user) == 0 && strcmp(pass, d->http_pass) == 0);
	}
	if (strncasecmp(auth, "Digest ", 7) == 0) {
		char user[300];
		dparam(auth, "username", user, sizeof user);
		if (listed(c->creds, user, NULL))
			d->h_attempts++;
		else if (all_of(user, 10, lower))
			d->h_control_attempts++;
		else
			d->h_violations++;
		return any || (d->http_accept == DSIM_ACCEPT_USER_PASS &&
		               style_of(d)->scheme == DIGEST && strcmp(user, d->http_user) == 0 &&
		               digest_ok(d, auth, target, d->http_user, d->http_pass));
	}
	d->h_violations++;
	return any;
}

/* --- the response ------------------------------------------------------- */

/* One response in the style's version and Server (spec 11.2), after the
 * behaviour's delay, then the close. */
static void respond(struct dsim_conn *c, const char *status, const char *extra, const char *body,
                    bool head_only)
{
	const struct wstyle *w = style_of(c->dev);
	char buf[DSIM_ARENA];
	int n = snprintf(buf, sizeof buf,
	                 "%s %s\r\nServer: %s\r\n%sContent-Type: text/html\r\n"
	                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	                 w->version, status, w->server, extra, strlen(body), head_only ? "" : body);
	uint32_t delay = c->dev->http == 8 ? SLOW_MS : REPLY_MS;
	if (n > 0 && (size_t)n < sizeof buf)
		dsim_queue_copy(c, delay, buf, (size_t)n);
	dsim_queue_close(c, 0);
}

/* A fresh nonce: 32 hex digits from the device's own stream. */
static void nonce(struct dsim_conn *c, char *out)
{
	struct dsim_dev *d = c->dev;
	uint64_t a = dsim_mix(d->seed ^ 0x6e6f6e6365ULL ^ d->http_nonces);
	uint64_t b = dsim_mix(a ^ d->http_nonces++);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* The style's 401 with its challenge(s). */
static void challenge(struct dsim_conn *c, bool head_only)
{
	const struct wstyle *w = style_of(c->dev);
	char extra[700], n[33];
	switch (c->dev->wstyle) {
	case 4:
		nonce(c, n);
		snprintf(extra, sizeof extra,
		         "WWW-Authenticate: Digest realm=\"NAS\", qop=\"auth\", algorithm=MD5, "
		         "nonce=\"%s\"\r\n",
		         n);
		break;
	case 5:
		nonce(c, n);
		snprintf(
		        extra, sizeof extra,
		        "WWW-Authenticate: Digest realm=\"IP Camera\", qop=\"auth\", nonce=\"%s\", "
		        "opaque=\"0a4f113b0a4f113b\"\r\n",
		        n);
		break;
	case 6:
		nonce(c, n);
		snprintf(extra, sizeof extra,
		         "WWW-Authenticate: Digest realm=\"device@example.net\", qop=\"auth, "
		         "auth-int\", algorithm=SHA-256, nonce=\"%s\", opaque=\"d2f1ce8e\"\r\n"
		         "WWW-Authenticate: Digest realm=\"device@example.net\", qop=\"auth, "
		         "auth-int\", algorithm=MD5, nonce=\"%s\", opaque=\"d2f1ce8e\"\r\n",
		         n, n);
		break;
	default:
		snprintf(extra, sizeof extra, "WWW-Authenticate: Basic realm=\"%s\"\r\n", w->realm);
		break;
	}
	respond(c, "401 Unauthorized", extra, w->body401, head_only);
}

/* A whole request head: count its credential, pick the behaviour's
 * answer (spec 11.5). */
static void answer(struct dsim_conn *c, const char *head)
{
	struct dsim_dev *d = c->dev;
	char method[16], target[600], version[16];
	c->state = DSIM_ST_WEB_DONE;
	if (sscanf(head, "%15s %599s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0 ||
	    (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
		d->h_violations++;
		dsim_queue_close(c, 0);
		return;
	}
	bool head_only = strcmp(method, "HEAD") == 0, had;
	bool ok = check(c, head, target, &had);
	bool root = strcmp(target, "/") == 0;
	switch (d->http) {
	case 5:
		if (root)
			respond(c, "200 OK", "", admin_page, head_only);
		else
			respond(c, "404 Not Found", "", "Not Found", head_only);
		return;
	case 6:
		if (root)
			respond(c, "200 OK", "", login_form, head_only);
		else
			respond(c, "404 Not Found", "", "Not Found", head_only);
		return;
	case 7:
		if (root) {
			char buf[256];
			int n = snprintf(
			        buf, sizeof buf,
			        "HTTP/1.1 302 Found\r\nServer: uhttpd\r\nLocation: /login.htm\r\n"
			        "Content-Length: 0\r\nConnection: close\r\n\r\n");
			dsim_queue_copy(c, REPLY_MS, buf, (size_t)n);
			dsim_queue_close(c, 0);
		} else if (strcmp(target, "/login.htm") == 0) {
			d->h_violations++; /* the prober followed the redirect */
			respond(c, "200 OK", "", login_form, head_only);
		} else {
			respond(c, "404 Not Found", "", "Not Found", head_only);
		}
		return;
	default:
		break;
	}
	if (ok) {
		d->h_logins++;
		respond(c, "200 OK", "", admin_page, head_only);
		return;
	}
	if (had && d->http == 9)
		c->http_refuse = true;
	challenge(c, head_only);
}

/* Request bytes: collected up to DSIM_REQ_MAX; a NUL or an overlong head is
 * a violation and the close. */
void dsim_http_input(struct dsim_conn *c, const uint8_t *b, size_t n, uint64_t now)
{
	(void)now;
	if (c->state != DSIM_ST_WEB || !c->req)
		return;
	if (n > (size_t)(DSIM_REQ_MAX - 1 - c->req_len)) {
		c->dev->h_violations++;
		c->state = DSIM_ST_WEB_DONE;
		dsim_queue_close(c, 0);
		return;
	}
	memcpy(c->req + c->req_len, b, n);
	c->req_len = (uint16_t)(c->req_len + n);
	c->req[c->req_len] = 0;
	const char *head = (const char *)c->req;
	if (memchr(c->req, 0, c->req_len)) {
		c->dev->h_violations++;
		c->state = DSIM_ST_WEB_DONE;
		dsim_queue_close(c, 0);
		return;
	}
	if (strstr(head, "\r\n\r\n") || strstr(head, "\n\n"))
		answer(c, head);
}
