/*
 * The hub's HTTP API v1 (CONTRACT.md "Hub HTTP API"), on libmicrohttpd.
 *
 * Every request goes through the same three steps: identify (bearer token,
 * or session cookie plus CSRF header on writes, or anonymous), route, and
 * check the route's roles before touching data. The access matrix lives in
 * one table (routes[] below) so that it can be read against the contract's.
 * A wrong token is 401 wherever a token is given; a missing one is 401
 * wherever the anonymous column says "-". A right token asking for data it
 * may not see is 403, and the 403 never depends on whether the data exists.
 *
 * Bodies are collected up to --max-body; a longer one is answered 413.
 * Writes become jobs for the writer thread and the connection is suspended
 * until the job has committed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hubpriv.h"
#include "log.h"
#include "summary.h"
#include "timefmt.h"

/* Role bits for the access table. */
#define R_ADMIN    (1u << KZ_ROLE_ADMIN)
#define R_SENSOR   (1u << KZ_ROLE_SENSOR)
#define R_OPERATOR (1u << KZ_ROLE_OPERATOR)
#define R_PARTNER  (1u << KZ_ROLE_PARTNER)
#define R_ANY      (R_ADMIN | R_SENSOR | R_OPERATOR | R_PARTNER)

struct req {
	char *body;
	size_t len, cap;
	bool too_large;
	bool answered; /* a response was queued early (auth failed, 413) */
	struct hub_snap *snap;
	const struct kz_token *tok; /* NULL: anonymous */
	bool by_cookie;
	bool bad_token;               /* a token (or cookie) was given and is wrong */
	bool bad_csrf;                /* cookie write without the session's CSRF token */
	char csrf[KZ_SESSION_STRLEN]; /* the cookie session's, for GET /api/v1/session */
	bool stale_cookie;            /* a session cookie that no longer signs anyone in */
	struct hub_job *job;
	double t0;
};

/* ------------------------------------------------------------ responses */

/* Queues a response. With take, body is malloc'd and passes to MHD;
 * without, it is copied. */
static enum MHD_Result respond(struct kz_hub *h, struct MHD_Connection *c, unsigned code,
                               const char *type, const char *body, size_t len, bool take)
{
	/* MHD takes a non-const pointer even for a copy it makes itself. */
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	        len, (void *)body, take ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (!resp) {
		if (take)
			free((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"kizuki\"");
	enum MHD_Result r = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	kz_metrics_http(h->metrics, code);
	return r;
}

static enum MHD_Result reply_json(struct kz_hub *h, struct MHD_Connection *c, unsigned code,
                                  json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return respond(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
		               "{\"error\":\"out of memory\"}\n", 25, false);
	size_t n = strlen(text);
	char *withnl = realloc(text, n + 2);
	if (!withnl) {
		free(text);
		return MHD_NO;
	}
	withnl[n] = '\n';
	withnl[n + 1] = '\0';
	return respond(h, c, code, "application/json", withnl, n + 1, true);
}

static enum MHD_Result reply_error(struct kz_hub *h, struct MHD_Connection *c, unsigned code,
                                   const char *msg)
{
	return reply_json(h, c, code, json_pack("{s:s}", "error", msg));
}

/* ------------------------------------------------------------- identity */

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* A query-string argument, or NULL. */
static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* Methods that change something: the ones a session must back with its
 * CSRF token. */
static bool is_write(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Fills r->tok from the Authorization header or the session cookie. */
static void identify(struct kz_hub *h, struct MHD_Connection *c, const char *method, struct req *r)
{
	const struct kz_tokens *tokens = hub_snap_tokens(r->snap);
	const char *auth = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth) {
		if (strncasecmp(auth, "Bearer ", 7) != 0) {
			r->bad_token = true;
			return;
		}
		const char *t = auth + 7;
		while (*t == ' ')
			t++;
		r->tok = kz_tokens_check(tokens, t, strlen(t));
		r->bad_token = r->tok == NULL;
		return;
	}
	const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kz_session");
	if (!cookie)
		return;
	uint8_t hash[32];
	char csrf[KZ_SESSION_STRLEN];
	if (!kz_sessions_lookup(h->sessions, cookie, (int64_t)time(NULL), hash, csrf)) {
		r->bad_token = true;
		r->stale_cookie = true;
		return;
	}
	r->tok = kz_tokens_find_hash(tokens, hash);
	r->bad_token = r->tok == NULL;
	r->stale_cookie = r->tok == NULL;
	r->by_cookie = true;
	memcpy(r->csrf, csrf, sizeof r->csrf);
	if (r->tok && is_write(method)) {
		const char *given = header(c, "X-CSRF-Token");
		r->bad_csrf = !given || strlen(given) != strlen(csrf) ||
		              CRYPTO_memcmp(given, csrf, strlen(csrf)) != 0;
	}
	explicit_bzero(hash, sizeof hash);
}

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104: the only places
 * /metrics answers without a token. */
static bool from_loopback(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return false;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		static const uint8_t lo[16] = { [15] = 1 };
		const uint8_t *b = s6->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
		return memcmp(b, lo, 16) == 0 || (memcmp(b, mapped, 12) == 0 && b[12] == 127);
	}
	return false;
}

/* 401 for no or a wrong identity, 403 for a role the route does not allow;
 * 0 when the request may go on. */
static unsigned check_roles(const struct req *r, unsigned roles)
{
	if (r->bad_token || !r->tok)
		return MHD_HTTP_UNAUTHORIZED;
	if (r->bad_csrf)
		return MHD_HTTP_FORBIDDEN;
	if (!(roles & (1u << r->tok->role)))
		return MHD_HTTP_FORBIDDEN;
	return 0;
}

static enum MHD_Result deny(struct kz_hub *h, struct MHD_Connection *c, const struct req *r,
                            unsigned code)
{
	if (code == MHD_HTTP_UNAUTHORIZED)
		return reply_error(h, c, code,
		                   r->bad_token ? "wrong token" : "a token is required");
	return reply_error(h, c, code,
	                   r->bad_csrf ? "missing or wrong X-CSRF-Token for this session"
	                               : "this token may not see or do that");
}

/* ---------------------------------------------------------- parameters */

static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A time parameter: epoch seconds or ISO 8601 (UTC, or with an offset). */
static bool parse_when(const char *s, int64_t *out)
{
	const char *why;
	if (parse_i64(s, 0, KZ_TIME_MAX, out))
		return true;
	return s && kz_time_parse(s, out, &why) == 0;
}

/* ----------------------------------------------------------- endpoints */

static enum MHD_Result get_findings(struct kz_hub *h, struct MHD_Connection *c, struct req *r)
{
	struct kz_findings_query q = { 0 };
	uint32_t *asked = NULL;
	size_t nasked = 0;
	const char *why;
	const char *s;
	q.since = INT64_MIN;
	q.limit = KZ_FINDINGS_LIMIT_DEFAULT;
	if ((s = arg(c, "asn")) && *s) {
		if (kz_token_parse_asns(s, &asked, &nasked, &why) != 0)
			return reply_error(h, c, MHD_HTTP_BAD_REQUEST,
			                   "asn: not an AS number list");
	}
	/* An operator asks for its own ASes only: any other, existing or
	 * not, is the same 403. */
	if (r->tok->role == KZ_ROLE_OPERATOR) {
		for (size_t i = 0; i < nasked; i++) {
			if (!kz_token_has_asn(r->tok, asked[i])) {
				free(asked);
				return deny(h, c, r, MHD_HTTP_FORBIDDEN);
			}
		}
		if (nasked) {
			q.asns = asked;
			q.nasns = nasked;
		} else {
			q.asns = r->tok->asns;
			q.nasns = r->tok->nasns;
		}
	} else if (nasked) {
		q.asns = asked;
		q.nasns = nasked;
	} else {
		q.all = true;
	}
	enum kz_finding_kind kind;
	enum kz_fstate state;
	int64_t v;
	const char *bad = NULL;
	if ((s = arg(c, "kind")) && *s) {
		if (kz_finding_kind_parse(s, &kind) != 0)
			bad = "kind: survey, infected, scanner, dos-victim, port-surge or other";
		q.kind = s;
	}
	if ((s = arg(c, "state")) && *s) {
		if (kz_fstate_parse(s, &state) != 0)
			bad = "state: new, notified, persisting, reopened, remediated, "
			      "unreachable, "
			      "gone, active or inactive";
		q.state = s;
	}
	if ((s = arg(c, "since")) && *s) {
		if (!parse_when(s, &q.since))
			bad = "since: an ISO 8601 UTC time or seconds since the epoch";
	}
	if ((s = arg(c, "limit")) && *s) {
		if (!parse_i64(s, 1, KZ_FINDINGS_LIMIT_MAX, &v))
			bad = "limit: 1-1000";
		else
			q.limit = (size_t)v;
	}
	if ((s = arg(c, "cursor")) && *s)
		q.cursor = s;
	if (bad) {
		free(asked);
		return reply_error(h, c, MHD_HTTP_BAD_REQUEST, bad);
	}
	json_t *page = NULL;
	char err[256];
	sqlite3 *db = hub_reader_get(h);
	int rc = kz_findings_page(db, &q, &page, err, sizeof err);
	hub_reader_put(h, db);
	free(asked);
	if (rc == -EINVAL)
		return reply_error(h, c, MHD_HTTP_BAD_REQUEST, err);
	if (rc) {
		kz_err("findings: %s", err);
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "the store failed");
	}
	return reply_json(h, c, MHD_HTTP_OK, page);
}

/* GET /api/v1/stats/ports: no tenant data, so every role may read it. */
static enum MHD_Result get_stats_ports(struct kz_hub *h, struct MHD_Connection *c)
{
	int64_t now = (int64_t)time(NULL), from = now - 86400, to = now + 1, bin = 3600;
	const char *s;
	if ((s = arg(c, "from")) && *s && !parse_when(s, &from))
		return reply_error(h, c, MHD_HTTP_BAD_REQUEST, "from: a time");
	if ((s = arg(c, "to")) && *s && !parse_when(s, &to))
		return reply_error(h, c, MHD_HTTP_BAD_REQUEST, "to: a time");
	if ((s = arg(c, "bin")) && *s) {
		if (strcmp(s, "5m") == 0)
			bin = 300;
		else if (strcmp(s, "1h") == 0)
			bin = 3600;
		else if (strcmp(s, "1d") == 0)
			bin = 86400;
		else if (!parse_i64(s, 1, 86400, &bin))
			bin = -1;
	}
	json_t *out = NULL;
	char err[256];
	sqlite3 *db = hub_reader_get(h);
	int rc = kz_stats_ports(db, from, to, bin, &out, err, sizeof err);
	hub_reader_put(h, db);
	if (rc == -EINVAL)
		return reply_error(h, c, MHD_HTTP_BAD_REQUEST, err);
	if (rc)
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "the store failed");
	return reply_json(h, c, MHD_HTTP_OK, out);
}

/* GET /api/v1/summary, for the dashboard: findings counted as the token may
 * see them (an operator's own ASes; none for sensors and partners, who get
 * the stats range only). */
static enum MHD_Result get_summary(struct kz_hub *h, struct MHD_Connection *c, struct req *r)
{
	struct kz_summary_query q = { 0 };
	q.findings = r->tok->role == KZ_ROLE_ADMIN || r->tok->role == KZ_ROLE_OPERATOR;
	if (r->tok->role == KZ_ROLE_OPERATOR) {
		q.asns = r->tok->asns;
		q.nasns = r->tok->nasns;
		if (q.nasns == 0)
			q.findings = false; /* an operator of no AS sees nothing */
	}
	json_t *out = NULL;
	char err[256];
	sqlite3 *db = hub_reader_get(h);
	int rc = kz_summary(db, &q, &out, err, sizeof err);
	hub_reader_put(h, db);
	if (rc == -EINVAL)
		return reply_error(h, c, MHD_HTTP_BAD_REQUEST, err);
	if (rc) {
		kz_err("summary: %s", err);
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "the store failed");
	}
	return reply_json(h, c, MHD_HTTP_OK, out);
}

/* The store's size on disk: the database and its WAL. */
static uint64_t db_bytes(struct kz_hub *h)
{
	struct stat sb;
	char wal[4200];
	uint64_t n = 0;
	if (stat(h->db_path, &sb) == 0)
		n += (uint64_t)sb.st_size;
	snprintf(wal, sizeof wal, "%s-wal", h->db_path);
	if (stat(wal, &sb) == 0)
		n += (uint64_t)sb.st_size;
	return n;
}

/* GET /metrics: counters plus what only the store knows. */
static enum MHD_Result get_metrics(struct kz_hub *h, struct MHD_Connection *c)
{
	uint64_t states[KZ_FSTATE_COUNT];
	sqlite3 *db = hub_reader_get(h);
	int rc = kz_findings_count_states(db, states);
	hub_reader_put(h, db);
	char *text;
	size_t len;
	if (kz_metrics_render(h->metrics, rc == 0 ? states : NULL, db_bytes(h), &text, &len))
		return reply_error(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return respond(h, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len,
	               true);
}

/* Reads the spool figures a sensor's upload sends along. */
static void note_spool(struct kz_hub *h, struct MHD_Connection *c, const struct req *r)
{
	const char *bytes = header(c, "X-Kizuki-Spool-Bytes");
	const char *dropped = header(c, "X-Kizuki-Spool-Dropped");
	const char *sensor = header(c, "X-Kizuki-Sensor");
	int64_t b = 0, d = 0;
	if (!bytes && !dropped)
		return;
	if (bytes && !parse_i64(bytes, 0, INT64_MAX, &b))
		return;
	if (dropped && !parse_i64(dropped, 0, INT64_MAX, &d))
		return;
	/* The token's name by default: a sensor cannot report for another
	 * token unless it names itself, and then only within its own name. */
	char label[KZ_TOKEN_NAME_MAX + 80];
	if (sensor && *sensor)
		snprintf(label, sizeof label, "%s/%.64s", r->tok->name, sensor);
	else
		snprintf(label, sizeof label, "%s", r->tok->name);
	kz_metrics_spool(h->metrics, label, (uint64_t)b, (uint64_t)d);
}

static enum MHD_Result finish_job(struct kz_hub *h, struct MHD_Connection *c, struct req *r);

/* POST /api/v1/events and /api/v1/stats: parse here, in this HTTP thread,
 * then suspend the connection until the writer has committed. */
static enum MHD_Result post_events(struct kz_hub *h, struct MHD_Connection *c, struct req *r,
                                   bool stats)
{
	struct hub_job *job = calloc(1, sizeof *job);
	if (!job)
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	note_spool(h, c, r);
	int rc;
	if (stats) {
		job->kind = JOB_STATS;
		rc = kz_stats_prepare(r->body ? r->body : "", r->len, &job->sbatch);
	} else {
		struct kz_submitter who = { r->tok->name, r->tok->role == KZ_ROLE_PARTNER };
		job->kind = JOB_EVENTS;
		rc = kz_ingest_prepare(r->body ? r->body : "", r->len, r->snap->enrich, &who,
		                       (int64_t)time(NULL), &h->icfg, &job->batch);
	}
	if (rc) {
		hub_job_free(job);
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	}
	size_t items =
	        stats ? kz_stats_batch_items(job->sbatch) : kz_ingest_batch_items(job->batch);
	if (items == 0) {
		/* Nothing to store (only bad lines, or none): answer now. */
		atomic_init(&job->done, true);
		r->job = job;
		return finish_job(h, c, r);
	}
	job->conn = c;
	job->received = hub_monotonic();
	atomic_init(&job->done, false);
	r->job = job;
	MHD_suspend_connection(c);
	hub_submit(h, job);
	return MHD_YES;
}

/* The reply body of CONTRACT.md: accepted, duplicates, rejected, errors. */
static json_t *result_json(const struct kz_ingest_result *res)
{
	json_t *errors = json_array();
	for (size_t i = 0; errors && i < res->nerrors; i++)
		json_array_append_new(errors, json_pack("{s:I, s:s}", "line",
		                                        (json_int_t)res->errors[i].line, "reason",
		                                        res->errors[i].reason));
	return json_pack("{s:I, s:I, s:I, s:o}", "accepted", (json_int_t)res->accepted,
	                 "duplicates", (json_int_t)res->duplicates, "rejected",
	                 (json_int_t)res->rejected, "errors", errors ? errors : json_array());
}

/* Answers a request whose job the writer has finished. */
static enum MHD_Result finish_job(struct kz_hub *h, struct MHD_Connection *c, struct req *r)
{
	struct hub_job *job = r->job;
	if (job->kind == JOB_NOTIFY)
		return hub_share_finish(h, c, job);
	if (job->kind == JOB_FEEDBACK) {
		if (job->rc == -ENOENT && job->role == KZ_ROLE_OPERATOR)
			job->rc = -EACCES; /* no hint that a finding exists or not */
		if (job->rc == -EACCES)
			return deny(h, c, r, MHD_HTTP_FORBIDDEN);
		if (job->rc == -ENOENT)
			return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such finding");
		if (job->rc)
			return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			                   "the store failed; nothing was recorded");
		return reply_json(h, c, MHD_HTTP_OK,
		                  json_pack("{s:s, s:s}", "finding_id", job->finding_id, "feedback",
		                            kz_feedback_name(job->feedback)));
	}
	const struct kz_ingest_result *res = job->kind == JOB_STATS
	                                             ? kz_stats_batch_result(job->sbatch)
	                                             : kz_ingest_batch_result(job->batch);
	if (job->kind == JOB_EVENTS && res->rejected)
		kz_metrics_events(h->metrics, "(unparsed)", 0, 0, res->rejected);
	if (job->rc) {
		/* Nothing of this body was kept: the client must send it again. */
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                   "the store failed; nothing of this request was stored, retry");
	}
	return reply_json(h, c, MHD_HTTP_OK, result_json(res));
}

/* POST /api/v1/findings/<id>/feedback: a JSON body, or the bare word. The
 * ownership check happens in the writer, inside the transaction, so it
 * sees the finding as it is when the feedback is recorded. */
static enum MHD_Result post_feedback(struct kz_hub *h, struct MHD_Connection *c, struct req *r,
                                     const char *id, size_t idlen)
{
	enum kz_feedback fb;
	json_error_t je;
	const char *fbtext = NULL, *comment = NULL;
	json_t *body = NULL;
	if (idlen != 32)
		return r->tok->role == KZ_ROLE_OPERATOR
		               ? deny(h, c, r, MHD_HTTP_FORBIDDEN)
		               : reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such finding");
	if (r->body && r->len && r->body[0] == '{') {
		body = json_loadb(r->body, r->len, 0, &je);
		fbtext = json_string_value(json_object_get(body, "feedback"));
		comment = json_string_value(json_object_get(body, "comment"));
	}
	char word[32] = "";
	if (!fbtext && r->body && r->len && r->len < sizeof word) {
		memcpy(word, r->body, r->len);
		word[r->len] = '\0';
		word[strcspn(word, "\r\n")] = '\0';
		fbtext = word;
	}
	if (!fbtext || kz_feedback_parse(fbtext, &fb) != 0) {
		json_decref(body);
		return reply_error(h, c, MHD_HTTP_BAD_REQUEST,
		                   "body: {\"feedback\":\"acknowledged|fixed|false-positive\","
		                   "\"comment\":\"...\"}");
	}
	if (comment && strlen(comment) > 4096) {
		json_decref(body);
		return reply_error(h, c, MHD_HTTP_BAD_REQUEST, "comment: at most 4096 bytes");
	}
	struct hub_job *job = calloc(1, sizeof *job);
	if (!job) {
		json_decref(body);
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	}
	job->kind = JOB_FEEDBACK;
	memcpy(job->finding_id, id, 32);
	job->finding_id[32] = '\0';
	job->feedback = fb;
	job->comment = comment ? strdup(comment) : NULL;
	json_decref(body);
	snprintf(job->token_name, sizeof job->token_name, "%s", r->tok->name);
	job->role = r->tok->role;
	if (r->tok->role == KZ_ROLE_OPERATOR) {
		job->asns = calloc(r->tok->nasns ? r->tok->nasns : 1, sizeof *job->asns);
		if (!job->asns) {
			hub_job_free(job);
			return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
		}
		memcpy(job->asns, r->tok->asns, r->tok->nasns * sizeof *job->asns);
		job->nasns = r->tok->nasns;
	}
	job->conn = c;
	job->received = hub_monotonic();
	atomic_init(&job->done, false);
	r->job = job;
	MHD_suspend_connection(c);
	hub_submit(h, job);
	return MHD_YES;
}

/* POST /api/v1/session: a token (in the body or the Authorization header)
 * for a session cookie and its CSRF token. A cookie cannot renew itself. */
static enum MHD_Result post_session(struct kz_hub *h, struct MHD_Connection *c, struct req *r)
{
	const struct kz_token *tok = r->by_cookie ? NULL : r->tok;
	json_t *body = NULL;
	if (!tok && r->body && r->len) {
		json_error_t je;
		body = json_loadb(r->body, r->len, 0, &je);
		const char *t = json_string_value(json_object_get(body, "token"));
		if (t)
			tok = kz_tokens_check(hub_snap_tokens(r->snap), t, strlen(t));
	}
	json_decref(body);
	if (!tok)
		return reply_error(h, c, MHD_HTTP_UNAUTHORIZED, "wrong token");
	char id[KZ_SESSION_STRLEN], csrf[KZ_SESSION_STRLEN];
	if (kz_sessions_create(h->sessions, tok->hash, (int64_t)time(NULL), id, csrf))
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "no randomness");
	json_t *o = json_pack("{s:s, s:s, s:s}", "csrf", csrf, "role", kz_role_name(tok->role),
	                      "name", tok->name);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return MHD_NO;
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	char cookie[160];
	snprintf(cookie, sizeof cookie,
	         "kz_session=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d", id,
	         KZ_SESSION_TTL);
	explicit_bzero(id, sizeof id);
	MHD_add_response_header(resp, "Set-Cookie", cookie);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	explicit_bzero(cookie, sizeof cookie);
	enum MHD_Result res = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	kz_metrics_http(h->metrics, MHD_HTTP_OK);
	return res;
}

/* GET /api/v1/session: who the caller is (for the dashboard). */
static enum MHD_Result get_session(struct kz_hub *h, struct MHD_Connection *c, struct req *r)
{
	json_t *asns = json_array();
	for (size_t i = 0; asns && i < r->tok->nasns; i++)
		json_array_append_new(asns, json_integer(r->tok->asns[i]));
	json_t *o = json_pack("{s:s, s:s, s:o, s:s}", "role", kz_role_name(r->tok->role), "name",
	                      r->tok->name, "asns", asns ? asns : json_array(), "tlp",
	                      kz_tlp_name(r->tok->tlp));
	/* A page opened again in a new tab has the cookie but not the CSRF
	 * token it was given at sign-in: a same-origin read hands it back (a
	 * cross-site page cannot read this reply). */
	if (o && r->by_cookie)
		json_object_set_new(o, "csrf", json_string(r->csrf));
	return reply_json(h, c, MHD_HTTP_OK, o);
}

/* DELETE /api/v1/session: sign out. */
static enum MHD_Result delete_session(struct kz_hub *h, struct MHD_Connection *c)
{
	static const char body[] = "{\"ended\":true}\n";
	kz_sessions_delete(h->sessions,
	                   MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kz_session"));
	struct MHD_Response *resp = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
	                                                            MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	/* The browser drops the cookie too, so that "/" shows the sign-in
	 * page again rather than a 401 for a session that has ended. */
	MHD_add_response_header(resp, "Set-Cookie",
	                        "kz_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	enum MHD_Result res = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	kz_metrics_http(h->metrics, MHD_HTTP_OK);
	return res;
}

/* POST /api/v1/reload: SIGHUP for those who cannot send signals. */
static enum MHD_Result post_reload(struct kz_hub *h, struct MHD_Connection *c)
{
	unsigned failed = kz_hub_reload(h);
	return reply_json(
	        h, c, failed ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_OK,
	        json_pack("{s:b, s:I}", "reloaded", failed == 0, "failed", (json_int_t)failed));
}

/* Reports (per operator) and shares (per partner): the access rules are
 * checked here so that they are the same for every format; hubshare.c
 * makes them. */
static enum MHD_Result get_report(struct kz_hub *h, struct MHD_Connection *c, struct req *r,
                                  const char *rest)
{
	char *end;
	errno = 0;
	unsigned long long asn = strtoull(rest, &end, 10);
	if (errno || end == rest || asn == 0 || asn > UINT32_MAX ||
	    (strcmp(end, ".csv") != 0 && strcmp(end, ".json") != 0 &&
	     strcmp(end, ".xarf.json") != 0))
		return reply_error(h, c, MHD_HTTP_NOT_FOUND,
		                   "reports are /api/v1/reports/<asn>.csv, .json or .xarf.json");
	if (r->tok->role == KZ_ROLE_OPERATOR && !kz_token_has_asn(r->tok, (uint32_t)asn))
		return deny(h, c, r, MHD_HTTP_FORBIDDEN);
	return hub_share_report(h, c, r->tok, (uint32_t)asn, end, &r->job);
}

/* ------------------------------------------------------- static assets */

static const char login_page[] =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>kizuki hub</title></head><body>\n<h1>kizuki hub</h1>\n"
        "<form id=\"f\"><label>Token <input id=\"t\" type=\"password\" autocomplete=\"off\">"
        "</label> <button>Sign in</button></form>\n<p id=\"m\"></p>\n<script>\n"
        "document.getElementById('f').onsubmit = async (e) => {\n"
        "  e.preventDefault();\n"
        "  const r = await fetch('/api/v1/session', {method: 'POST', headers: {'Content-Type':"
        " 'application/json'}, body: JSON.stringify({token: "
        "document.getElementById('t').value})});\n"
        "  const j = await r.json();\n"
        "  if (r.ok) { sessionStorage.setItem('kz_csrf', j.csrf); location.reload(); }\n"
        "  else document.getElementById('m').textContent = j.error;\n"
        "};\n</script>\n</body></html>\n";

/* Content types of the files a dashboard is made of; anything else is
 * served as bytes, and nosniff keeps browsers from guessing. */
static const char *mime_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },
	};
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* Opens a file under the web directory: fd >= 0 and its size, or -1. */
static int open_asset(const struct kz_hub *h, const char *rel, uint64_t *size)
{
	char path[4400];
	struct stat sb;
	snprintf(path, sizeof path, "%s/%s", h->web_dir, rel);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	*size = (uint64_t)sb.st_size;
	return fd;
}

static enum MHD_Result send_asset(struct kz_hub *h, struct MHD_Connection *c, int fd, uint64_t size,
                                  const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_fd(size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	enum MHD_Result res = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	kz_metrics_http(h->metrics, MHD_HTTP_OK);
	return res;
}

/* GET / and the dashboard's files: anonymous callers get the sign-in page
 * only. */
static enum MHD_Result get_asset(struct kz_hub *h, struct MHD_Connection *c, struct req *r,
                                 const char *url)
{
	bool index = strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0;
	uint64_t size;
	int fd;
	/* An ended or expired session opening the dashboard signs in again;
	 * a wrong bearer token is 401 as everywhere. */
	if (r->bad_token && !(index && r->stale_cookie))
		return deny(h, c, r, MHD_HTTP_UNAUTHORIZED);
	if (!r->tok || !h->web_dir) {
		if (!index)
			return r->tok ? reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such file")
			              : deny(h, c, r, MHD_HTTP_UNAUTHORIZED);
		/* Before sign-in only the sign-in page: the web directory's
		 * own (self-contained) login.html when it has one. */
		if (h->web_dir && (fd = open_asset(h, "login.html", &size)) >= 0)
			return send_asset(h, c, fd, size, "text/html; charset=utf-8");
		return respond(h, c, MHD_HTTP_OK, "text/html; charset=utf-8", login_page,
		               sizeof login_page - 1, false);
	}
	/* Paths are plain names under the web directory: no "..", no
	 * hidden files, nothing but [A-Za-z0-9._/-]. */
	const char *rel = index ? "index.html" : url + 1;
	if (strstr(rel, "..") || strstr(rel, "/.") || rel[0] == '.' || strlen(rel) > 200 ||
	    strspn(rel, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-") !=
	            strlen(rel))
		return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such file");
	if ((fd = open_asset(h, rel, &size)) < 0)
		return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such file");
	return send_asset(h, c, fd, size, mime_type(rel));
}

/* ----------------------------------------------------------- routing */

static bool prefix(const char *url, const char *p, const char **rest)
{
	size_t n = strlen(p);
	if (strncmp(url, p, n) != 0)
		return false;
	*rest = url + n;
	return true;
}

/* Decides and answers a request whose body (if any) is complete. */
static enum MHD_Result route(struct kz_hub *h, struct MHD_Connection *c, const char *url,
                             const char *method, struct req *r)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	const char *rest;
	unsigned code;

	if (strcmp(url, "/metrics") == 0) {
		if (!get)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		/* Anonymous from loopback only; a token must be admin's. */
		if (!r->tok && !r->bad_token && from_loopback(c))
			return get_metrics(h, c);
		if ((code = check_roles(r, R_ADMIN)))
			return deny(h, c, r, code);
		return get_metrics(h, c);
	}
	if (strncmp(url, "/api/", 5) != 0) {
		if (!get)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		return get_asset(h, c, r, url);
	}
	if (strcmp(url, "/api/v1/session") == 0) {
		if (post)
			return post_session(h, c, r);
		if (strcmp(method, "DELETE") == 0)
			return delete_session(h, c);
		if ((code = check_roles(r, R_ANY)))
			return deny(h, c, r, code);
		return get_session(h, c, r);
	}
	if (strcmp(url, "/api/v1/events") == 0 || strcmp(url, "/api/v1/stats") == 0) {
		if (!post)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
		if ((code = check_roles(r, R_ADMIN | R_SENSOR | R_PARTNER)))
			return deny(h, c, r, code);
		if (r->too_large)
			return reply_error(h, c, MHD_HTTP_CONTENT_TOO_LARGE,
			                   "body larger than --max-body: split it");
		return post_events(h, c, r, strcmp(url, "/api/v1/stats") == 0);
	}
	if (strcmp(url, "/api/v1/findings") == 0) {
		if (!get)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		if ((code = check_roles(r, R_ADMIN | R_OPERATOR)))
			return deny(h, c, r, code);
		return get_findings(h, c, r);
	}
	if (prefix(url, "/api/v1/findings/", &rest)) {
		const char *slash = strchr(rest, '/');
		if (!slash || strcmp(slash, "/feedback") != 0)
			return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such endpoint");
		if (!post)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
		if ((code = check_roles(r, R_ADMIN | R_OPERATOR)))
			return deny(h, c, r, code);
		return post_feedback(h, c, r, rest, (size_t)(slash - rest));
	}
	if (strcmp(url, "/api/v1/summary") == 0) {
		if (!get)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		if ((code = check_roles(r, R_ANY)))
			return deny(h, c, r, code);
		return get_summary(h, c, r);
	}
	if (strcmp(url, "/api/v1/stats/ports") == 0) {
		if (!get)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		if ((code = check_roles(r, R_ANY)))
			return deny(h, c, r, code);
		return get_stats_ports(h, c);
	}
	if (prefix(url, "/api/v1/reports/", &rest)) {
		if (!get)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		if ((code = check_roles(r, R_ADMIN | R_OPERATOR)))
			return deny(h, c, r, code);
		return get_report(h, c, r, rest);
	}
	if (prefix(url, "/api/v1/share/", &rest)) {
		if (!get)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		if ((code = check_roles(r, R_ADMIN | R_PARTNER)))
			return deny(h, c, r, code);
		return hub_share_feed(h, c, r->tok, rest);
	}
	if (strcmp(url, "/api/v1/reload") == 0) {
		if (!post)
			return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
		if ((code = check_roles(r, R_ADMIN)))
			return deny(h, c, r, code);
		return post_reload(h, c);
	}
	return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

enum MHD_Result hub_api_handler(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
	struct kz_hub *h = cls;
	struct req *r = *con_cls;
	(void)version;
	/* First call for a request: headers only. Identify now, so that the
	 * snapshot (tokens, tables) is fixed for the request's whole life. */
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		r->t0 = hub_monotonic();
		r->snap = hub_snap_get(h);
		identify(h, c, method, r);
		*con_cls = r;
		/* Refuse a body we would refuse anyway before reading it. */
		const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
		int64_t n;
		if (cl && parse_i64(cl, 0, INT64_MAX, &n) && (uint64_t)n > h->cfg.max_body)
			r->too_large = true;
		return MHD_YES;
	}
	/* Body chunks: collected up to --max-body; past it the rest is read
	 * and dropped so that the 413 can still be sent. */
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->too_large || r->len + n > h->cfg.max_body) {
			r->too_large = true;
			return MHD_YES;
		}
		if (r->len + n > r->cap) {
			size_t nc = r->cap ? r->cap : 65536;
			while (nc < r->len + n)
				nc *= 2;
			if (nc > h->cfg.max_body)
				nc = h->cfg.max_body;
			char *nb = realloc(r->body, nc);
			if (!nb)
				return MHD_NO;
			r->body = nb;
			r->cap = nc;
		}
		memcpy(r->body + r->len, upload_data, n);
		r->len += n;
		return MHD_YES;
	}
	/* Back from suspension: the writer finished the job. */
	if (r->job) {
		if (!atomic_load(&r->job->done))
			return MHD_YES; /* woken early: the writer resumes us */
		return finish_job(h, c, r);
	}
	return route(h, c, url, method, r);
}

void hub_api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                       enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (!r)
		return;
	/* A request ends only after its job was answered (the connection
	 * stays suspended until then), so the job is the writer's no more. */
	hub_job_free(r->job);
	hub_snap_put(r->snap);
	explicit_bzero(r->csrf, sizeof r->csrf);
	free(r->body);
	free(r);
	*con_cls = NULL;
}
