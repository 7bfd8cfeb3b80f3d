/*
 * The HTTP plug-in (login_http.h): one request per connection, judged on
 * the response head alone.
 *
 * Per path the check runs a small sequence of requests, each on its own
 * connection ("Connection: close"):
 *
 *   PROBE    GET path, no credentials
 *   TRY      GET path with the next pair (Basic, or Digest answering the
 *            latest challenge), until a 2xx or the pairs run out
 *   CONTROL  after the first 2xx: the same with a random wrong pair
 *   PATHCHK  after a 2xx to PROBE on an admin path: GET a random path
 *
 * Why a connection per request and not keep-alive: the devices we survey
 * often close after each response (HTTP/1.0 servers, busybox httpd) or
 * after a failed login, and a fresh connection makes every attempt look
 * the same to the device and to us: no leftover body to skip, no
 * half-closed state to tell from a refusal. The cost is one TCP handshake
 * per pair, small beside the engine's per-host pacing.
 *
 * Why only the head: the status code and the WWW-Authenticate, Location
 * and Server fields decide everything; the connection is closed as soon as
 * the head is in, so a body (or a device streaming one for ever) costs
 * nothing.
 *
 * The request holding a credential is built just before each connection
 * and wiped as soon as it is written, when a connection is dropped, and in
 * release.
 *
 * Statuses per path, then one per service: login-possible wins at once;
 * otherwise the most telling path's status (no-auth > accepts-any >
 * timeout > error > login-failed > no-login-prompt), so that an unfinished
 * path never lets another path's login-failed mark a finding remediated.
 */
#include "login_http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_auth.h"
#include "http_response.h"
#include "splitmix.h"

#define BANNER_MAX   4096 /* CONTRACT.md: extra.banner is capped at 4 KiB */
#define EVIDENCE_MAX 512  /* login_record.h's KZ_LOGIN_EVIDENCE_MAX */
#define DETAIL_MAX   704
#define OUT_MAX      4096

#define DEFAULT_CONNECT_MS  5000
#define DEFAULT_RESPONSE_MS 10000
#define DEFAULT_RETRIES     2
#define REFUSED_RETRIES     3 /* refused reconnects in a row: 1, 2, 4 s apart */
#define STALE_RETRIES       2 /* stale nonces answered per pair */

enum phase {
	PH_PROBE = 0,
	PH_TRY,
	PH_CONTROL,
	PH_PATHCHK,
};

enum wait {
	W_NONE = 0,
	W_CONNECT,
	W_RESPONSE,
};

struct http_state {
	const struct kz_login_service *svc;
	struct kz_http_login_config cfg;
	struct kz_http_login_path def_path;
	const uint32_t *order;
	uint32_t *own_order;
	size_t norder;
	bool ordered;
	uint8_t phase, wait;
	bool done;
	bool ever_connected;
	bool ever_http;
	bool banner_open; /* the next response head is the banner */
	bool sending;     /* out[] may be written: connected and not yet judged */
	bool have_ch;
	size_t path_i;
	size_t next; /* position in order[] for the current path */
	int cur;     /* pair index in flight */
	int success; /* pair index that got a 2xx */
	unsigned attempts, connections, max_connections;
	unsigned path_attempts;
	unsigned retries, refused, stale;
	unsigned probe_status;
	uint64_t deadline, budget_end;
	struct kz_http_challenge ch;
	uint32_t nc;
	uint64_t rng;
	char cuser[11], cpass[15];
	char ctl_path[40];
	const char *last_reason;
	/* the connection */
	uint64_t conn_bytes;
	struct kz_http_response resp;
	size_t out_len, out_off;
	uint8_t out[OUT_MAX];
	uint8_t head[EVIDENCE_MAX];
	size_t head_len;
	/* the result */
	enum kz_login_status best;
	int best_pair;
	const char *best_reason;
	char best_detail[DETAIL_MAX];
	uint8_t evidence[EVIDENCE_MAX];
	size_t evidence_len;
	uint8_t banner[BANNER_MAX];
	size_t banner_len;
	uint64_t banner_seen;
};

/* ------------------------------------------------------------ settings */

void kz_http_login_defaults(struct kz_http_login_config *c)
{
	memset(c, 0, sizeof *c);
	c->connect_ms = DEFAULT_CONNECT_MS;
	c->response_ms = DEFAULT_RESPONSE_MS;
	c->retries = DEFAULT_RETRIES;
}

int kz_http_login_path_check(const char *path, const char **why)
{
	size_t n = strlen(path);
	if (n == 0 || path[0] != '/') {
		*why = "a path must start with '/'";
		return -EINVAL;
	}
	if (n > KZ_HTTP_LOGIN_PATH_MAX) {
		*why = "a path longer than 256 bytes";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c <= 0x20 || c >= 0x7f) {
			*why = "a path holds a blank, a control byte or a non-ASCII byte "
			       "(percent-encode it)";
			return -EINVAL;
		}
		if (c == '#') {
			*why = "a path holds '#' (a fragment is never sent)";
			return -EINVAL;
		}
	}
	return 0;
}

int kz_http_login_user_agent_check(const char *ua, const char **why)
{
	size_t n = strlen(ua);
	if (n == 0 || n > KZ_HTTP_LOGIN_UA_MAX) {
		*why = "a User-Agent must be 1 to 200 bytes";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)ua[i] < 0x20 || (unsigned char)ua[i] > 0x7e) {
			*why = "a User-Agent must be printable ASCII";
			return -EINVAL;
		}
	}
	return 0;
}

/* ------------------------------------------------------------- helpers */

/* The path being checked: the configured ones, or "/" by default. */
static const struct kz_http_login_path *cur_path(const struct http_state *st)
{
	if (!st->cfg.paths || !st->cfg.npaths)
		return &st->def_path;
	return &st->cfg.paths[st->path_i];
}

static size_t npaths(const struct http_state *st)
{
	return st->cfg.paths && st->cfg.npaths ? st->cfg.npaths : 1;
}

/* How telling a path's status is, for the service's one status (the
 * design note says why an unfinished path outranks login-failed). */
static int prio(enum kz_login_status s)
{
	switch (s) {
	case KZ_LOGIN_POSSIBLE:
		return 7;
	case KZ_LOGIN_NO_AUTH:
		return 6;
	case KZ_LOGIN_ACCEPTS_ANY:
		return 5;
	case KZ_LOGIN_TIMEOUT:
		return 4;
	case KZ_LOGIN_ERROR:
		return 3;
	case KZ_LOGIN_FAILED:
		return 2;
	case KZ_LOGIN_NO_PROMPT:
		return 1;
	default:
		return 0;
	}
}

/* DONE: the engine closes the connection; no credential stays behind. */
static struct kz_login_step step_done(struct http_state *st)
{
	st->done = true;
	st->wait = W_NONE;
	st->sending = false;
	explicit_bzero(st->out, sizeof st->out);
	st->out_len = st->out_off = 0;
	return (struct kz_login_step){ .want = KZ_LOGIN_WANT_DONE };
}

/* Keep the connection: send what is pending, wait for the response until
 * the request's deadline. */
static struct kz_login_step step_io(const struct http_state *st)
{
	return (struct kz_login_step){
		.want = KZ_LOGIN_WANT_IO,
		.deadline = st->deadline,
		.send_len = st->out_len - st->out_off,
	};
}

/* Records a status for the service as a whole, if it says more than the
 * one held (the first of equals stays). */
static void note(struct http_state *st, enum kz_login_status s, int pair, const char *reason,
                 const char *detail, bool with_evidence)
{
	if (prio(s) <= prio(st->best) && st->best != KZ_LOGIN_PENDING)
		return;
	st->best = s;
	st->best_pair = s == KZ_LOGIN_POSSIBLE ? pair : -1;
	st->best_reason = reason;
	size_t n = 0;
	if (detail) {
		/* extra.login_detail must be valid UTF-8: ASCII only here. */
		for (; detail[n] && n < DETAIL_MAX - 1; n++) {
			unsigned char c = (unsigned char)detail[n];
			st->best_detail[n] = (char)(c < 0x20 || c > 0x7e ? '?' : c);
		}
	}
	st->best_detail[n] = '\0';
	st->evidence_len = 0;
	if (with_evidence) {
		memcpy(st->evidence, st->head, st->head_len);
		st->evidence_len = st->head_len;
	}
}

/* "Basic" or "Digest <algorithm>", for extra.login_detail. */
static const char *scheme_text(const struct http_state *st, char *buf, size_t cap)
{
	if (!st->have_ch)
		return "no challenge";
	if (st->ch.scheme == KZ_HTTP_SCHEME_BASIC)
		return "Basic";
	snprintf(buf, cap, "Digest %s",
	         kz_http_digest_alg_name((enum kz_http_digest_alg)st->ch.algorithm));
	return buf;
}

/* ---------------------------------------------------------- the request */

/* The Host field: the target address as the request reached it (IPv6 in
 * brackets), with the port unless it is 80. */
static void host_field(const struct http_state *st, char *buf, size_t cap)
{
	char a[KZ_ADDR_STRLEN];
	kz_addr_format(st->svc->addr, a);
	bool v6 = !kz_addr_is_v4(st->svc->addr);
	if (st->svc->port == 80)
		snprintf(buf, cap, v6 ? "[%s]" : "%s", a);
	else
		snprintf(buf, cap, v6 ? "[%s]:%u" : "%s:%u", a, (unsigned)st->svc->port);
}

/* Builds the next request into out[]: the current phase's path, with the
 * credentials of `pair` (a pair index), of the control pair (pair -2), or
 * none (pair -1). Returns 0, or -EINVAL when the scheme cannot carry the
 * pair (the caller skips it), -ENOSPC when it does not fit. */
static int prepare(struct http_state *st, int pair)
{
	const char *path = st->phase == PH_PATHCHK ? st->ctl_path : cur_path(st)->path;
	char auth[KZ_HTTP_AUTH_MAX];
	int alen = 0;
	if (pair != -1) {
		const char *user = st->cuser, *pass = st->cpass;
		if (pair >= 0) {
			const struct kz_login_cred *c = &kz_creds_pairs(st->svc->creds)[pair];
			user = c->user;
			pass = c->pass;
		}
		if (st->ch.scheme == KZ_HTTP_SCHEME_BASIC) {
			alen = kz_http_basic_credentials(user, pass, auth, sizeof auth);
		} else {
			char cnonce[17];
			kz_splitmix_text(&st->rng, cnonce, 16, "0123456789abcdef");
			struct kz_http_digest_input in = {
				.ch = &st->ch,
				.user = user,
				.pass = pass,
				.method = "GET",
				.uri = path,
				.cnonce = cnonce,
				.nc = st->nc + 1,
				.qop = kz_http_digest_pick_qop(&st->ch),
			};
			alen = kz_http_digest_credentials(&in, auth, sizeof auth);
			if (alen > 0)
				st->nc++;
		}
		if (alen < 0) {
			explicit_bzero(auth, sizeof auth);
			return alen;
		}
	}
	char host[KZ_ADDR_STRLEN + 10];
	host_field(st, host, sizeof host);
	int n = snprintf((char *)st->out, sizeof st->out,
	                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
	                 "Connection: close\r\n%s%s%s\r\n",
	                 path, host, st->cfg.user_agent, alen ? "Authorization: " : "",
	                 alen ? auth : "", alen ? "\r\n" : "");
	explicit_bzero(auth, sizeof auth);
	if (n < 0 || (size_t)n >= sizeof st->out) {
		explicit_bzero(st->out, sizeof st->out);
		return -ENOSPC;
	}
	st->out_len = (size_t)n;
	st->out_off = 0;
	return 0;
}

/* CONNECT no earlier than `at`; the engine gives up at the deadline and
 * calls tick. */
static struct kz_login_step connect_at(struct http_state *st, uint64_t at)
{
	st->wait = W_CONNECT;
	st->sending = false;
	st->deadline = at + st->cfg.connect_ms;
	return (struct kz_login_step){
		.want = KZ_LOGIN_WANT_CONNECT,
		.at = at,
		.deadline = st->deadline,
	};
}

/* Ends the whole service with a status (merged with what the paths
 * before found). */
static struct kz_login_step finish_with(struct http_state *st, enum kz_login_status s,
                                        const char *reason, const char *detail)
{
	note(st, s, -1, reason, detail, false);
	return step_done(st);
}

static struct kz_login_step start_path(struct http_state *st, uint64_t now);
static struct kz_login_step next_pair(struct http_state *st, uint64_t now);

/* The next connection for the request prepared in out[]. */
static struct kz_login_step reconnect(struct http_state *st, uint64_t now)
{
	if (st->cfg.budget_ms && now >= st->budget_end)
		return finish_with(st, KZ_LOGIN_TIMEOUT, "the service's time budget ran out", NULL);
	if (st->connections >= st->max_connections)
		return finish_with(st, KZ_LOGIN_TIMEOUT,
		                   "too many connections for one service (a bug or a device "
		                   "that never answers the same way twice)",
		                   NULL);
	uint64_t at = now + (st->connections ? st->cfg.reconnect_ms : 0);
	return connect_at(st, at);
}

/* A path has its status: note it, go on with the next path or finish. */
static struct kz_login_step path_done(struct http_state *st, uint64_t now, enum kz_login_status s,
                                      int pair, const char *reason, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));

static struct kz_login_step path_done(struct http_state *st, uint64_t now, enum kz_login_status s,
                                      int pair, const char *reason, const char *fmt, ...)
{
	char d[DETAIL_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d, sizeof d, fmt, ap);
	va_end(ap);
	note(st, s, pair, reason, d, true);
	st->sending = false;
	explicit_bzero(st->out, sizeof st->out);
	st->out_len = st->out_off = 0;
	if (s == KZ_LOGIN_POSSIBLE || st->path_i + 1 >= npaths(st))
		return step_done(st);
	st->path_i++;
	return start_path(st, now);
}

/* A path's first request: no credential. */
static struct kz_login_step start_path(struct http_state *st, uint64_t now)
{
	st->phase = PH_PROBE;
	st->have_ch = false;
	st->next = 0;
	st->success = -1;
	st->retries = st->stale = 0;
	st->path_attempts = 0;
	st->nc = 0;
	if (prepare(st, -1) != 0)
		return path_done(st, now, KZ_LOGIN_ERROR, -1, "the request does not fit",
		                 "%s: request too long", cur_path(st)->path);
	return reconnect(st, now);
}

/* The same request again, after an answer that told nothing (silence, a
 * close, garbage, an unexpected status). After cfg.retries the path ends
 * with `s`. */
static struct kz_login_step inconclusive(struct http_state *st, uint64_t now,
                                         enum kz_login_status s, const char *reason)
{
	st->last_reason = reason;
	if (st->retries++ < st->cfg.retries) {
		int pair = st->phase == PH_TRY ? st->cur : st->phase == PH_CONTROL ? -2 : -1;
		/* Rebuilt, not resent: a Digest nonce count must not repeat. */
		if (prepare(st, pair) == 0)
			return reconnect(st, now);
	}
	const char *path = cur_path(st)->path;
	if (st->phase == PH_CONTROL)
		return path_done(st, now, KZ_LOGIN_ERROR, -1,
		                 "a pair appeared to log in, but the control attempt could not be "
		                 "judged",
		                 "%s: control attempt: %s", path, reason);
	if (st->phase == PH_PATHCHK)
		return path_done(st, now, KZ_LOGIN_ERROR, -1,
		                 "an admin path answered without credentials, but the random "
		                 "path could not be judged",
		                 "%s: random path: %s", path, reason);
	return path_done(st, now, s, -1, reason, "%s: %s", path, reason);
}

/* The order of pairs for this service, once, from the banner. */
static void decide_order(struct http_state *st)
{
	if (st->ordered)
		return;
	st->ordered = true;
	const struct kz_creds *c = st->svc->creds;
	if (kz_creds_vendor_match(c, KZ_LOGIN_APP_HTTP, st->banner, st->banner_len)) {
		st->own_order = calloc(kz_creds_count(c), sizeof *st->own_order);
		if (st->own_order) {
			st->norder = kz_creds_order(c, KZ_LOGIN_APP_HTTP, st->banner,
			                            st->banner_len, st->own_order);
			st->order = st->own_order;
		}
	}
	if (!st->order)
		st->norder = kz_creds_base_order(c, KZ_LOGIN_APP_HTTP, &st->order);
	if (st->svc->max_attempts && st->norder > st->svc->max_attempts)
		st->norder = st->svc->max_attempts;
}

/* The challenge to answer among those of the last response: Digest with
 * the strongest algorithm we know, else Basic. Returns NULL if none. */
static const struct kz_http_challenge *pick(const struct kz_http_response *r)
{
	static const uint8_t rank[] = {
		[KZ_HTTP_ALG_MD5] = 2,        [KZ_HTTP_ALG_MD5_SESS] = 1,
		[KZ_HTTP_ALG_SHA256] = 6,     [KZ_HTTP_ALG_SHA256_SESS] = 5,
		[KZ_HTTP_ALG_SHA512_256] = 4, [KZ_HTTP_ALG_SHA512_256_SESS] = 3,
		[KZ_HTTP_ALG_UNKNOWN] = 0,
	};
	const struct kz_http_challenge *best = NULL;
	unsigned best_rank = 0;
	for (unsigned i = 0; i < r->nchallenges; i++) {
		const struct kz_http_challenge *c = &r->ch[i];
		unsigned k = 0;
		if (!c->usable)
			continue;
		if (c->scheme == KZ_HTTP_SCHEME_BASIC)
			k = 1;
		else if (c->algorithm < KZ_HTTP_ALG_UNKNOWN)
			k = 1u + rank[c->algorithm];
		if (k > best_rank) {
			best = c;
			best_rank = k;
		}
	}
	return best;
}

/* The next pair of the order that the challenge's scheme can carry, on a
 * new connection; or the path's end (login-failed, or error when not one
 * pair could be sent). */
static struct kz_login_step next_pair(struct http_state *st, uint64_t now)
{
	while (st->next < st->norder) {
		uint32_t idx = st->order[st->next++];
		st->retries = st->stale = 0;
		int rc = prepare(st, (int)idx);
		if (rc == -EINVAL || rc == -ENOSPC)
			continue; /* this scheme cannot carry the pair */
		if (rc != 0)
			return path_done(st, now, KZ_LOGIN_ERROR, -1, "libcrypto failed",
			                 "%s: digest computation failed", cur_path(st)->path);
		st->cur = (int)idx;
		st->attempts++;
		st->path_attempts++;
		return reconnect(st, now);
	}
	char sb[40];
	const char *path = cur_path(st)->path;
	if (!st->path_attempts)
		return path_done(st, now, KZ_LOGIN_ERROR, -1,
		                 "a login was asked, but no pair of the list could be sent",
		                 "%s: %s, no pair to try", path, scheme_text(st, sb, sizeof sb));
	return path_done(st, now, KZ_LOGIN_FAILED, -1, "no listed pair was accepted", "%s: %s",
	                 path, scheme_text(st, sb, sizeof sb));
}

/* ------------------------------------------------------------- judging */

/* The answer to a path's first, credential-less request (the table in
 * docs/survey-login-ssh-http.md). */
static struct kz_login_step judge_probe(struct http_state *st, uint64_t now)
{
	const struct kz_http_response *r = &st->resp;
	const char *path = cur_path(st)->path;
	unsigned code = r->status;
	st->probe_status = code;
	if (code == 401) {
		const struct kz_http_challenge *c = pick(r);
		if (!c) {
			const char *why = r->other_challenges ? r->other_scheme : "no challenge";
			return path_done(st, now, KZ_LOGIN_NO_PROMPT, -1,
			                 "401 without a Basic or Digest challenge we can answer",
			                 "%s: 401, %s%s", path, why,
			                 r->other_challenges ? " only" : "");
		}
		st->ch = *c;
		st->have_ch = true;
		st->nc = 0;
		decide_order(st);
		st->phase = PH_TRY;
		return next_pair(st, now);
	}
	if (code >= 200 && code < 300) {
		if (!cur_path(st)->admin)
			return path_done(st, now, KZ_LOGIN_NO_PROMPT, -1,
			                 "a page without authentication (not a path named as an "
			                 "admin page)",
			                 "%s: %u without credentials", path, code);
		st->phase = PH_PATHCHK;
		st->retries = 0;
		if (prepare(st, -1) != 0)
			return path_done(st, now, KZ_LOGIN_ERROR, -1, "the request does not fit",
			                 "%s: request too long", path);
		return reconnect(st, now);
	}
	if (code >= 300 && code < 400)
		return path_done(st, now, KZ_LOGIN_NO_PROMPT, -1, "a redirect, not followed",
		                 "%s: %u to %s (not followed)", path, code,
		                 r->has_location ? r->location : "(no Location)");
	return path_done(st, now, KZ_LOGIN_NO_PROMPT, -1, "no HTTP authentication asked", "%s: %u",
	                 path, code);
}

/* A 401 after credentials may carry a fresh nonce; a stale one means the
 * credentials were not even checked. Returns true when the pair must be
 * sent again. */
static bool take_challenge(struct http_state *st)
{
	const struct kz_http_challenge *c = pick(&st->resp);
	if (!c || c->scheme != st->ch.scheme)
		return false;
	bool stale = c->scheme == KZ_HTTP_SCHEME_DIGEST && c->stale;
	if (c->scheme == KZ_HTTP_SCHEME_DIGEST && strcmp(c->nonce, st->ch.nonce) != 0)
		st->nc = 0;
	st->ch = *c;
	return stale;
}

/* A whole response head is in: what it means in the current phase. The
 * request is over either way, so its bytes are wiped first. */
static struct kz_login_step judge(struct http_state *st, uint64_t now)
{
	const struct kz_http_response *r = &st->resp;
	unsigned code = r->status;
	const char *path = cur_path(st)->path;
	char sb[40];
	st->ever_http = true;
	st->sending = false;
	explicit_bzero(st->out, sizeof st->out);
	st->out_len = st->out_off = 0;
	switch (st->phase) {
	case PH_PROBE:
		st->retries = 0;
		return judge_probe(st, now);
	case PH_TRY:
		if (code >= 200 && code < 300) {
			st->success = st->cur;
			st->phase = PH_CONTROL;
			st->retries = 0;
			if (prepare(st, -2) != 0)
				return path_done(st, now, KZ_LOGIN_ERROR, -1,
				                 "the control request does not fit",
				                 "%s: control request too long", path);
			return reconnect(st, now);
		}
		if (code == 401 || code == 403) {
			if (code == 401 && take_challenge(st) && st->stale++ < STALE_RETRIES &&
			    prepare(st, st->cur) == 0)
				return reconnect(st, now);
			return next_pair(st, now);
		}
		return inconclusive(st, now, KZ_LOGIN_ERROR,
		                    "an unexpected status after credentials");
	case PH_CONTROL:
		if (code >= 200 && code < 300)
			return path_done(st, now, KZ_LOGIN_ACCEPTS_ANY, -1,
			                 "a random wrong control pair was accepted too",
			                 "%s: %s, %u for a wrong pair", path,
			                 scheme_text(st, sb, sizeof sb), code);
		if (code == 401 || code == 403) {
			if (code == 401 && take_challenge(st) && st->stale++ < STALE_RETRIES &&
			    prepare(st, -2) == 0)
				return reconnect(st, now);
			return path_done(
			        st, now, KZ_LOGIN_POSSIBLE, st->success,
			        "a listed pair was accepted and a random wrong pair refused",
			        "%s: %s", path, scheme_text(st, sb, sizeof sb));
		}
		return inconclusive(st, now, KZ_LOGIN_ERROR,
		                    "an unexpected status for the control pair");
	default: /* PH_PATHCHK */
		if (code >= 200 && code < 300)
			return path_done(
			        st, now, KZ_LOGIN_NO_PROMPT, -1,
			        "the server answers 2xx for any path, so a 2xx tells nothing",
			        "%s: %u without credentials, and %u for a random path", path,
			        st->probe_status, code);
		return path_done(st, now, KZ_LOGIN_NO_AUTH, -1,
		                 "an admin path answered without asking for credentials",
		                 "%s: %u without credentials (a random path: %u)", path,
		                 st->probe_status, code);
	}
}

/* ------------------------------------------------------------- the calls */

/* The configuration checked again (a caller that skipped the checks gets
 * an error, not a malformed request), the control pair and the random
 * path drawn, the connection budget set. */
static int http_init(void *state, const struct kz_login_service *svc)
{
	struct http_state *st = state;
	st->svc = svc;
	if (svc->config)
		st->cfg = *(const struct kz_http_login_config *)svc->config;
	else
		kz_http_login_defaults(&st->cfg);
	if (!st->cfg.connect_ms)
		st->cfg.connect_ms = DEFAULT_CONNECT_MS;
	if (!st->cfg.response_ms)
		st->cfg.response_ms = DEFAULT_RESPONSE_MS;
	if (!st->cfg.user_agent)
		st->cfg.user_agent = KZ_HTTP_LOGIN_USER_AGENT;
	if (st->cfg.npaths > KZ_HTTP_LOGIN_MAX_PATHS)
		return -EINVAL;
	const char *why;
	for (size_t i = 0; st->cfg.paths && i < st->cfg.npaths; i++)
		if (kz_http_login_path_check(st->cfg.paths[i].path, &why) != 0)
			return -EINVAL;
	if (kz_http_login_user_agent_check(st->cfg.user_agent, &why) != 0)
		return -EINVAL;
	st->def_path = (struct kz_http_login_path){ .path = "/", .admin = false };
	st->best = KZ_LOGIN_PENDING;
	st->best_pair = st->cur = st->success = -1;
	st->rng = svc->seed ^ 0x6b697a756b692d68u;
	kz_splitmix_text(&st->rng, st->cuser, 10, "abcdefghijklmnopqrstuvwxyz");
	kz_splitmix_text(&st->rng, st->cpass, 14,
	                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	char r[13];
	kz_splitmix_text(&st->rng, r, 12, "0123456789abcdef");
	snprintf(st->ctl_path, sizeof st->ctl_path, "/kizuki-survey-%s", r);
	size_t pairs = kz_creds_count(svc->creds);
	if (svc->max_attempts && pairs > svc->max_attempts)
		pairs = svc->max_attempts;
	/* Every pair once, a few retries each at most, per path. */
	size_t mc = (pairs * (1 + DEFAULT_RETRIES) + 16) * npaths(st) + 16;
	st->max_connections = mc > 1000000 ? 1000000 : (unsigned)mc;
	return 0;
}

static struct kz_login_step http_start(void *state, uint64_t now)
{
	struct http_state *st = state;
	if (st->cfg.budget_ms)
		st->budget_end = now + st->cfg.budget_ms;
	st->banner_open = true;
	return start_path(st, now);
}

static struct kz_login_step http_connected(void *state, int fd, uint64_t now)
{
	struct http_state *st = state;
	(void)fd;
	if (st->done)
		return step_done(st);
	st->connections++;
	st->ever_connected = true;
	st->refused = 0;
	st->conn_bytes = 0;
	st->head_len = 0;
	kz_http_response_init(&st->resp, false, 0);
	st->wait = W_RESPONSE;
	st->sending = true;
	st->deadline = now + st->cfg.response_ms;
	return step_io(st);
}

/* A connection refused or not accepted in time: on the first one the
 * service ends (error or timeout, as telnet); later ones are retried after
 * 1, 2 and 4 s, for devices that refuse connections for a while. */
static struct kz_login_step connect_problem(struct http_state *st, int err, uint64_t now)
{
	bool timed_out = err == -ETIMEDOUT;
	if (!st->ever_connected)
		return finish_with(st, timed_out ? KZ_LOGIN_TIMEOUT : KZ_LOGIN_ERROR,
		                   timed_out ? "the connection was not accepted in time"
		                             : "the connection was refused",
		                   NULL);
	if (++st->refused > REFUSED_RETRIES) {
		note(st, KZ_LOGIN_TIMEOUT, -1, "the device stopped accepting connections", NULL,
		     false);
		return step_done(st);
	}
	/* The request is rebuilt for the new connection (a fresh nonce count). */
	int pair = st->phase == PH_TRY ? st->cur : st->phase == PH_CONTROL ? -2 : -1;
	if (prepare(st, pair) != 0)
		return finish_with(st, KZ_LOGIN_ERROR, "the request does not fit", NULL);
	uint64_t back = 1000u << (st->refused - 1);
	return connect_at(st, now + back);
}

static struct kz_login_step http_connect_failed(void *state, int err, uint64_t now)
{
	struct http_state *st = state;
	if (st->done)
		return step_done(st);
	return connect_problem(st, err, now);
}

static struct kz_login_step http_tick(void *state, uint64_t now)
{
	struct http_state *st = state;
	if (st->done)
		return step_done(st);
	if (st->cfg.budget_ms && now >= st->budget_end)
		return finish_with(st, KZ_LOGIN_TIMEOUT, "the service's time budget ran out", NULL);
	if (now < st->deadline) {
		if (st->wait == W_RESPONSE)
			return step_io(st);
		if (st->wait == W_CONNECT)
			return (struct kz_login_step){ .want = KZ_LOGIN_WANT_CONNECT,
				                       .at = now,
				                       .deadline = st->deadline };
	}
	if (st->wait == W_CONNECT)
		return connect_problem(st, -ETIMEDOUT, now);
	st->sending = false;
	/* Silence on the very first request is a tarpit or a server that
	 * never speaks: asking again would only hold the slot longer. */
	if (st->conn_bytes == 0 && !st->ever_http && st->connections == 1)
		return finish_with(st, KZ_LOGIN_TIMEOUT, "nothing came back to the first request",
		                   NULL);
	return inconclusive(st, now, KZ_LOGIN_TIMEOUT,
	                    st->conn_bytes ? "the response stopped before its end"
	                                   : "no response in time");
}

/* Bytes of the response: fed to the parser; the head decides. */
static struct kz_login_step http_input(void *state, const uint8_t *data, size_t len, uint64_t now)
{
	struct http_state *st = state;
	if (st->done)
		return step_done(st);
	if (st->wait != W_RESPONSE)
		return step_io(st);
	st->conn_bytes += len;
	size_t used = 0;
	int rc = kz_http_response_feed(&st->resp, data, len, &used);
	/* The raw head: evidence, and on the first probe the banner (all of
	 * what came, when it is not HTTP: that is what the record shows). */
	if (rc == KZ_HTTP_NOT_HTTP)
		used = len;
	size_t k = used;
	if (k > EVIDENCE_MAX - st->head_len)
		k = EVIDENCE_MAX - st->head_len;
	memcpy(st->head + st->head_len, data, k);
	st->head_len += k;
	if (st->banner_open) {
		size_t b = used < BANNER_MAX - st->banner_len ? used : BANNER_MAX - st->banner_len;
		memcpy(st->banner + st->banner_len, data, b);
		st->banner_len += b;
		st->banner_seen += used;
		if (rc != KZ_HTTP_MORE)
			st->banner_open = false;
	}
	switch (rc) {
	case KZ_HTTP_MORE:
		return step_io(st);
	case KZ_HTTP_HEAD:
	case KZ_HTTP_DONE:
		return judge(st, now);
	case KZ_HTTP_NOT_HTTP:
		if (!st->ever_http) {
			st->sending = false;
			note(st, KZ_LOGIN_OTHER_PROTOCOL, -1,
			     "the first bytes are not an HTTP status line", NULL, true);
			return step_done(st);
		}
		st->sending = false;
		return inconclusive(st, now, KZ_LOGIN_ERROR, "an answer that is not HTTP");
	default:
		st->ever_http = true;
		st->sending = false;
		return inconclusive(st, now, KZ_LOGIN_ERROR,
		                    rc == KZ_HTTP_TOO_BIG ? "a response head past our caps"
		                                          : "a malformed HTTP response");
	}
}

/* The device closed before a whole head: an answer that tells nothing. */
static struct kz_login_step http_closed(void *state, uint64_t now)
{
	struct http_state *st = state;
	if (st->done)
		return step_done(st);
	if (st->wait != W_RESPONSE)
		return step_io(st);
	st->sending = false;
	if (st->banner_open && st->conn_bytes)
		st->banner_open = false;
	return inconclusive(st, now, KZ_LOGIN_ERROR,
	                    st->conn_bytes ? "the response was cut short"
	                                   : "the connection closed without a response");
}

static const uint8_t *http_output(const void *state, size_t *len)
{
	const struct http_state *st = state;
	if (!st->sending) {
		*len = 0;
		return st->out;
	}
	*len = st->out_len - st->out_off;
	return st->out + st->out_off;
}

/* The kernel took n bytes of the request. */
static void http_consume(void *state, size_t n)
{
	struct http_state *st = state;
	if (n > st->out_len - st->out_off)
		n = st->out_len - st->out_off;
	st->out_off += n;
	if (st->out_off == st->out_len) {
		/* The request may hold a credential: gone once written. */
		explicit_bzero(st->out, st->out_len);
		st->out_len = st->out_off = 0;
	}
}

static void http_result(const void *state, struct kz_login_outcome *out)
{
	const struct http_state *st = state;
	*out = (struct kz_login_outcome){
		.status = st->best,
		.pair = st->best == KZ_LOGIN_POSSIBLE ? st->best_pair : -1,
		.password_asked = true,
		.attempts = st->attempts,
		.connections = st->connections,
		.reason = st->best_reason,
		.banner = st->banner,
		.banner_len = st->banner_len,
		.banner_seen = st->banner_seen,
		.evidence = st->evidence_len ? st->evidence : NULL,
		.evidence_len = st->evidence_len,
		.detail = st->best_detail[0] ? st->best_detail : NULL,
	};
}

static void http_release(void *state)
{
	struct http_state *st = state;
	explicit_bzero(st->out, sizeof st->out);
	explicit_bzero(st->cuser, sizeof st->cuser);
	explicit_bzero(st->cpass, sizeof st->cpass);
	st->out_len = st->out_off = 0;
	free(st->own_order);
	st->own_order = NULL;
	st->order = NULL;
}

const struct kz_login_proto kz_login_proto_http = {
	.name = "http",
	.app = KZ_LOGIN_APP_HTTP,
	.io = KZ_LOGIN_IO_BYTES,
	.state_size = sizeof(struct http_state),
	.init = http_init,
	.start = http_start,
	.connected = http_connected,
	.connect_failed = http_connect_failed,
	.tick = http_tick,
	.input = http_input,
	.closed = http_closed,
	.output = http_output,
	.consume = http_consume,
	.result = http_result,
	.release = http_release,
};
