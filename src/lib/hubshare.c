/*
 * The hub's reports, shares and notifier (see hubshare.h).
 *
 * Reads use the daemon's read-only connections; every mark ("notified")
 * goes to the writer thread as a JOB_NOTIFY, so the store keeps one writer.
 * An operator's pull waits, suspended, for its mark to commit and is then
 * answered with the report: a reply means the findings in it are recorded
 * as delivered. The notifier thread waits for its marks the same way.
 *
 * MISP servers fetch a feed as manifest.json and then each event by uuid;
 * finding an event's AS and period from its uuid needs the feed's event
 * list, one pass over the findings. That list is cached per partner for a
 * minute, so a MISP pull of N events costs one pass, not N.
 */
#include "hubshare.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "afile.h"
#include "hubpriv.h"
#include "log.h"
#include "misp.h"
#include "notify.h"
#include "share.h"
#include "stix.h"
#include "timefmt.h"

#define MISP_CACHE     16
#define MISP_CACHE_TTL 60

struct idxref {
	unsigned refs; /* under hub_share.lock */
	struct kz_misp_index *idx;
};

struct cached {
	char who[KZ_TOKEN_NAME_MAX + 1];
	enum kz_tlp tlp;
	char key_id[KZ_KEY_ID_MAX + 1];
	int64_t since, built;
	struct idxref *ref;
};

struct hub_share {
	struct kz_org org;
	struct kz_notify_config ncfg;
	char *outbox, *smtp_url, *keys_path;
	bool redact;
	int64_t period;

	pthread_mutex_t lock; /* keys, cache */
	struct kz_partner_keys *keys;
	struct cached cache[MISP_CACHE];

	pthread_t thread;
	bool started, stopping, curl;
	pthread_cond_t cond;
	int64_t last_period;
};

/* ------------------------------------------------------------ replies */

/* Answers with body (taken: MHD frees it) and counts the status code. */
static enum MHD_Result send_body(struct kz_hub *h, struct MHD_Connection *c, unsigned code,
                                 const char *type, char *body, size_t len)
{
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	enum MHD_Result r = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	kz_metrics_http(h->metrics, code);
	return r;
}

/* {"error":"..."} with the code, as the rest of the API answers. */
static enum MHD_Result send_error(struct kz_hub *h, struct MHD_Connection *c, unsigned code,
                                  const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return MHD_NO;
	return send_body(h, c, code, "application/json", text, strlen(text));
}

/* ?since= as epoch seconds or ISO 8601; absent means every finding. */
static bool arg_since(struct MHD_Connection *c, int64_t *out)
{
	const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	const char *why;
	char *end;
	*out = INT64_MIN;
	if (!s || !*s)
		return true;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!errno && !*end && v >= 0 && v <= KZ_TIME_MAX) {
		*out = v;
		return true;
	}
	return kz_time_parse(s, out, &why) == 0;
}

/* ------------------------------------------------------------- reports */

/* A JOB_NOTIFY with no ids yet; the caller adds ids, body or meta. */
static struct hub_job *notify_job(const char *channel, int64_t at)
{
	struct hub_job *job = calloc(1, sizeof *job);
	struct hub_notify *n = calloc(1, sizeof *n);
	if (!job || !n) {
		free(job);
		free(n);
		return NULL;
	}
	job->kind = JOB_NOTIFY;
	job->notify = n;
	snprintf(n->channel, sizeof n->channel, "%s", channel);
	n->at = at;
	atomic_init(&job->done, false);
	return job;
}

enum MHD_Result hub_share_report(struct kz_hub *h, struct MHD_Connection *c,
                                 const struct kz_token *tok, uint32_t asn, const char *ext,
                                 struct hub_job **jobp)
{
	struct hub_share *s = h->share;
	enum kz_report_format fmt = strcmp(ext, ".csv") == 0    ? KZ_REPORT_CSV
	                            : strcmp(ext, ".json") == 0 ? KZ_REPORT_JSON
	                                                        : KZ_REPORT_XARF;
	int64_t since, now = (int64_t)time(NULL);
	if (!arg_since(c, &since))
		return send_error(h, c, MHD_HTTP_BAD_REQUEST,
		                  "since: an ISO 8601 UTC time or seconds since the epoch");
	/* An operator's pull is a delivery; an admin reading it is not. */
	bool deliver = tok->role == KZ_ROLE_OPERATOR;
	struct kz_idlist ids = { 0 };
	struct kz_anon_names *anon = NULL;
	struct kz_report_operator op;
	char err[512], *body = NULL;
	size_t len = 0, count = 0;
	int rc;
	sqlite3 *db = hub_reader_get(h);
	FILE *f = open_memstream(&body, &len);
	rc = f ? kz_anon_names_load(db, &anon, err, sizeof err) : -ENOMEM;
	if (rc == 0) {
		rc = kz_report_operator_load(db, asn, &op, err, sizeof err);
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc == 0) {
		struct kz_report_opts o = {
			.asn = asn,
			.format = fmt,
			.since = since,
			.now = now,
			.redact_passwords = s->redact,
			.org = &s->org,
			.operator_info = &op,
			.anon = anon,
		};
		rc = kz_report_write(db, &o, f, deliver ? &ids : NULL, &count, err, sizeof err);
	}
	hub_reader_put(h, db);
	kz_anon_names_free(anon);
	if (f && fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc) {
		kz_err("report AS%u: %s", asn, err);
		free(body);
		kz_idlist_clear(&ids);
		return send_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "the store failed");
	}
	if (!deliver || ids.n == 0) {
		kz_idlist_clear(&ids);
		return send_body(h, c, MHD_HTTP_OK, kz_report_format_mime(fmt), body, len);
	}
	struct hub_job *job = notify_job("pull", now);
	if (!job) {
		free(body);
		kz_idlist_clear(&ids);
		return send_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	}
	job->notify->ids = ids;
	job->notify->body = body;
	job->notify->body_len = len;
	job->notify->mime = kz_report_format_mime(fmt);
	job->conn = c;
	job->received = hub_monotonic();
	*jobp = job;
	MHD_suspend_connection(c);
	hub_submit(h, job);
	return MHD_YES;
}

enum MHD_Result hub_share_finish(struct kz_hub *h, struct MHD_Connection *c, struct hub_job *job)
{
	struct hub_notify *n = job->notify;
	if (job->rc)
		return send_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                  "the store failed; nothing was recorded, retry");
	char *body = n->body;
	n->body = NULL;
	kz_hub_report_delivered(h, n->channel);
	return send_body(h, c, MHD_HTTP_OK, n->mime, body, n->body_len);
}

int hub_share_run_job(struct kz_hub *h, struct hub_notify *n, int64_t now, char *err, size_t errlen)
{
	sqlite3 *db = kz_store_db(h->store);
	int rc = 0;
	(void)now;
	if (n->ids.n) {
		const char **v = calloc(n->ids.n, sizeof *v);
		if (!v) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		for (size_t i = 0; i < n->ids.n; i++)
			v[i] = n->ids.ids[i];
		rc = kz_findings_mark_notified(db, v, n->ids.n, n->channel, n->at, NULL, err,
		                               errlen);
		free(v);
	}
	if (rc == 0 && n->meta_period > 0) {
		sqlite3_stmt *st = NULL;
		char v[24];
		snprintf(v, sizeof v, "%lld", (long long)n->meta_period);
		if (sqlite3_prepare_v2(db,
		                       "INSERT OR REPLACE INTO kz_meta(key, value)"
		                       " VALUES ('notify.last_period', ?1)",
		                       -1, &st, NULL) != SQLITE_OK ||
		    (sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT),
		     sqlite3_step(st) != SQLITE_DONE)) {
			snprintf(err, errlen, "kz_meta: %s", sqlite3_errmsg(db));
			rc = -EIO;
		}
		sqlite3_finalize(st);
	}
	return rc;
}

void hub_notify_free(struct hub_notify *n)
{
	if (!n)
		return;
	kz_idlist_clear(&n->ids);
	free(n->body);
	free(n);
}

/* -------------------------------------------------------------- shares */

/* The feed a token may have: admins every label with real addresses,
 * partners up to their ceiling, pseudonymised when they have a key. The
 * key is copied under the lock (a reload may free the table). */
static void feed_for(struct hub_share *s, const struct kz_token *tok, struct kz_feed_opts *o,
                     struct kz_partner_key *key)
{
	memset(o, 0, sizeof *o);
	o->tlp_max = KZ_TLP_UNSET;
	o->org = &s->org;
	o->period = s->period;
	o->now = (int64_t)time(NULL);
	if (tok->role != KZ_ROLE_PARTNER)
		return;
	o->tlp_max = tok->tlp;
	pthread_mutex_lock(&s->lock);
	const struct kz_partner_key *k = kz_partner_keys_find(s->keys, tok->name);
	if (k) {
		*key = *k;
		key->partner = tok->name;
		o->key = key;
	}
	pthread_mutex_unlock(&s->lock);
}

/* Drops a reference to a cached event list; the last one frees it. */
static void ref_put(struct hub_share *s, struct idxref *r)
{
	pthread_mutex_lock(&s->lock);
	bool last = --r->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (last) {
		kz_misp_index_free(r->idx);
		free(r);
	}
}

/* The feed's event list, from the cache or built afresh. */
static struct idxref *misp_index(struct kz_hub *h, const struct kz_token *tok,
                                 const struct kz_feed_opts *o, char *err, size_t errlen)
{
	struct hub_share *s = h->share;
	const char *who = tok->role == KZ_ROLE_PARTNER ? tok->name : "";
	const char *kid = o->key ? o->key->key_id : "";
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < MISP_CACHE; i++) {
		struct cached *e = &s->cache[i];
		if (e->ref && strcmp(e->who, who) == 0 && e->tlp == o->tlp_max &&
		    strcmp(e->key_id, kid) == 0 && e->since == o->since &&
		    o->now - e->built < MISP_CACHE_TTL && o->now >= e->built) {
			e->ref->refs++;
			struct idxref *r = e->ref;
			pthread_mutex_unlock(&s->lock);
			return r;
		}
	}
	pthread_mutex_unlock(&s->lock);
	struct idxref *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sqlite3 *db = hub_reader_get(h);
	int rc = kz_misp_index_build(db, o, &r->idx, err, errlen);
	hub_reader_put(h, db);
	if (rc) {
		free(r);
		return NULL;
	}
	r->refs = 2; /* the cache's and the caller's */
	pthread_mutex_lock(&s->lock);
	size_t slot = 0;
	for (size_t i = 0; i < MISP_CACHE; i++) {
		if (!s->cache[i].ref || strcmp(s->cache[i].who, who) == 0) {
			slot = i;
			break;
		}
		if (s->cache[i].built < s->cache[slot].built)
			slot = i;
	}
	struct idxref *old = s->cache[slot].ref;
	struct cached *e = &s->cache[slot];
	snprintf(e->who, sizeof e->who, "%s", who);
	snprintf(e->key_id, sizeof e->key_id, "%s", kid);
	e->tlp = o->tlp_max;
	e->since = o->since;
	e->built = o->now;
	e->ref = r;
	pthread_mutex_unlock(&s->lock);
	if (old)
		ref_put(s, old);
	return r;
}

/* GET /api/v1/share/misp/<file>: manifest.json, hashes.csv or an event. */
static enum MHD_Result share_misp(struct kz_hub *h, struct MHD_Connection *c,
                                  const struct kz_token *tok, const struct kz_feed_opts *o,
                                  const char *file)
{
	char err[512], *body = NULL;
	size_t len = 0;
	bool manifest = strcmp(file, "manifest.json") == 0;
	bool hashes = strcmp(file, "hashes.csv") == 0;
	char uuid[KZ_UUID_STRLEN] = "";
	size_t fl = strlen(file);
	if (!manifest && !hashes) {
		if (fl != 36 + 5 || strcmp(file + 36, ".json") != 0)
			return send_error(
			        h, c, MHD_HTTP_NOT_FOUND,
			        "a MISP feed is manifest.json, hashes.csv and <uuid>.json");
		memcpy(uuid, file, 36);
		uuid[36] = '\0';
	}
	struct idxref *r = misp_index(h, tok, o, err, sizeof err);
	if (!r) {
		kz_err("share misp: %s", err);
		return send_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "the store failed");
	}
	const struct kz_misp_event *ev = uuid[0] ? kz_misp_index_find(r->idx, uuid) : NULL;
	if (uuid[0] && !ev) {
		ref_put(h->share, r);
		return send_error(h, c, MHD_HTTP_NOT_FOUND, "no such event in this feed");
	}
	FILE *f = open_memstream(&body, &len);
	int rc = -ENOMEM;
	if (f) {
		sqlite3 *db = hub_reader_get(h);
		if (manifest)
			rc = kz_misp_write_manifest(db, r->idx, o, f, err, sizeof err);
		else if (hashes)
			rc = kz_misp_write_hashes(db, r->idx, o, f, err, sizeof err);
		else
			rc = kz_misp_write_event(db, ev, o, f, NULL, err, sizeof err);
		hub_reader_put(h, db);
		if (fclose(f) != 0 && rc == 0)
			rc = -ENOMEM;
	}
	ref_put(h->share, r);
	if (rc) {
		kz_err("share misp %s: %s", file, f ? err : "out of memory");
		free(body);
		return send_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "the store failed");
	}
	return send_body(h, c, MHD_HTTP_OK, hashes ? "text/csv; charset=utf-8" : "application/json",
	                 body, len);
}

enum MHD_Result hub_share_feed(struct kz_hub *h, struct MHD_Connection *c,
                               const struct kz_token *tok, const char *rest)
{
	struct kz_feed_opts o;
	struct kz_partner_key key;
	feed_for(h->share, tok, &o, &key);
	if (!arg_since(c, &o.since))
		return send_error(h, c, MHD_HTTP_BAD_REQUEST,
		                  "since: an ISO 8601 UTC time or seconds since the epoch");
	enum MHD_Result res;
	if (strcmp(rest, "stix") == 0) {
		char err[512], *body = NULL;
		size_t len = 0;
		int rc = -ENOMEM;
		FILE *f = open_memstream(&body, &len);
		if (f) {
			sqlite3 *db = hub_reader_get(h);
			rc = kz_stix_write(db, &o, f, NULL, err, sizeof err);
			hub_reader_put(h, db);
			if (fclose(f) != 0 && rc == 0)
				rc = -ENOMEM;
		}
		if (rc) {
			kz_err("share stix: %s", f ? err : "out of memory");
			free(body);
			res = send_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "the store failed");
		} else {
			res = send_body(h, c, MHD_HTTP_OK, "application/stix+json;version=2.1",
			                body, len);
		}
	} else if (strncmp(rest, "misp/", 5) == 0) {
		res = share_misp(h, c, tok, &o, rest + 5);
	} else {
		res = send_error(
		        h, c, MHD_HTTP_NOT_FOUND,
		        "shares are /api/v1/share/stix and /api/v1/share/misp/manifest.json");
	}
	explicit_bzero(&key, sizeof key);
	return res;
}

/* ------------------------------------------------------------ notifier */

/* kz_notify_run's mark: hands the ids to the writer and waits for the
 * commit, so that "delivered" is recorded before the next operator. */
static int notifier_mark(void *arg, const struct kz_idlist *ids, const char *channel, int64_t at,
                         char *err, size_t errlen)
{
	struct kz_hub *h = arg;
	struct hub_job *job = notify_job(channel, at);
	if (!job || (ids->n && !(job->notify->ids.ids = calloc(ids->n, sizeof *ids->ids)))) {
		hub_job_free(job);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(job->notify->ids.ids, ids->ids, ids->n * sizeof *ids->ids);
	job->notify->ids.n = job->notify->ids.cap = ids->n;
	job->received = hub_monotonic();
	hub_submit(h, job);
	while (!atomic_load(&job->done)) {
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
	int rc = job->rc;
	if (rc)
		snprintf(err, errlen, "%s", job->err);
	hub_job_free(job);
	if (rc == 0)
		kz_hub_report_delivered(h, channel);
	return rc;
}

/* The last period notified, from kz_meta (INT64_MIN when never). */
static int meta_last_period(struct kz_hub *h, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = hub_reader_get(h);
	*out = INT64_MIN;
	int rc = sqlite3_prepare_v2(
	        db, "SELECT value FROM kz_meta WHERE key = 'notify.last_period'", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		*out = strtoll((const char *)sqlite3_column_text(st, 0), NULL, 10);
	sqlite3_finalize(st);
	hub_reader_put(h, db);
	return 0;
}

/* One period's notification, then the period recorded in kz_meta. */
static void notify_period(struct kz_hub *h, int64_t ps, int64_t now)
{
	struct hub_share *s = h->share;
	struct kz_notify_result res;
	char err[512];
	sqlite3 *db = hub_reader_get(h);
	int rc = kz_notify_run(db, &s->ncfg, ps, now, notifier_mark, h, &res, err, sizeof err);
	hub_reader_put(h, db);
	if (rc) {
		kz_err("notify: %s", err);
		return;
	}
	if (res.operators || res.failed)
		kz_info("notify: %zu operator%s, %zu report%s delivered, %zu finding%s marked, %zu "
		        "failed",
		        res.operators, res.operators == 1 ? "" : "s", res.delivered,
		        res.delivered == 1 ? "" : "s", res.findings, res.findings == 1 ? "" : "s",
		        res.failed);
	/* Remember the period, so that a restart does not report it twice. */
	struct hub_job *job = notify_job("-", now);
	if (!job)
		return;
	job->notify->meta_period = ps;
	hub_submit(h, job);
	while (!atomic_load(&job->done)) {
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
	hub_job_free(job);
}

/* The notifier: runs a period as soon as it starts (also right after
 * start-up when the current one was not done) and sleeps until the next
 * boundary or until stopped. */
static void *notifier_main(void *arg)
{
	struct kz_hub *h = arg;
	struct hub_share *s = h->share;
	int64_t period = s->period;
	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		int64_t now = (int64_t)time(NULL);
		int64_t ps = kz_notify_period_start(now, period);
		if (ps > s->last_period) {
			pthread_mutex_unlock(&s->lock);
			notify_period(h, ps, now);
			pthread_mutex_lock(&s->lock);
			s->last_period = ps;
			continue;
		}
		struct timespec ts = { .tv_sec = (time_t)(ps + period), .tv_nsec = 0 };
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ------------------------------------------------------------ lifetime */

int hub_share_start(struct kz_hub *h, char *err, size_t errlen)
{
	const struct kz_hub_config *cfg = &h->cfg;
	struct hub_share *s = calloc(1, sizeof *s);
	const char *why;
	int rc;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	h->share = s;
	kz_org_default(&s->org);
	if (cfg->reporter && kz_org_parse(cfg->reporter, &s->org, &why) != 0) {
		snprintf(err, errlen, "--reporter %s: %s", cfg->reporter, why);
		return -EINVAL;
	}
	s->period = cfg->report_period > 0 ? cfg->report_period : KZ_NOTIFY_PERIOD_DEFAULT;
	s->redact = cfg->redact_passwords;
	if (cfg->partner_keys) {
		if (!(s->keys_path = strdup(cfg->partner_keys))) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if ((rc = kz_partner_keys_load(s->keys_path, &s->keys, err, errlen)))
			return rc;
	}
	if (!cfg->outbox && !cfg->smtp_url)
		return 0;
	if ((cfg->outbox && !(s->outbox = strdup(cfg->outbox))) ||
	    (cfg->smtp_url && !(s->smtp_url = strdup(cfg->smtp_url)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (s->outbox && (rc = kz_mkdir(s->outbox, err, errlen)))
		return rc;
	if (s->smtp_url) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "libcurl: cannot initialise");
			return -EIO;
		}
		s->curl = true;
	}
	s->ncfg = (struct kz_notify_config){
		.outbox = s->outbox,
		.smtp_url = s->smtp_url,
		.period = s->period,
		.redact_passwords = s->redact,
		.org = &s->org,
	};
	meta_last_period(h, &s->last_period);
	if (pthread_create(&s->thread, NULL, notifier_main, h) != 0) {
		snprintf(err, errlen, "cannot start the notifier thread");
		return -EAGAIN;
	}
	s->started = true;
	return 0;
}

void hub_share_stop(struct kz_hub *h)
{
	struct hub_share *s = h->share;
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	for (size_t i = 0; i < MISP_CACHE; i++)
		if (s->cache[i].ref)
			ref_put(s, s->cache[i].ref);
	if (s->curl)
		curl_global_cleanup();
	kz_partner_keys_free(s->keys);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->outbox);
	free(s->smtp_url);
	free(s->keys_path);
	free(s);
	h->share = NULL;
}

unsigned hub_share_reload(struct kz_hub *h)
{
	struct hub_share *s = h->share;
	struct kz_partner_keys *k = NULL;
	char err[1024];
	if (!s || !s->keys_path)
		return 0;
	if (kz_partner_keys_load(s->keys_path, &k, err, sizeof err) != 0) {
		kz_err("partner keys: not reloaded, keeping the previous keys: %s", err);
		return 1;
	}
	pthread_mutex_lock(&s->lock);
	struct kz_partner_keys *old = s->keys;
	s->keys = k;
	/* Cached MISP event lists were made with the old keys' ids. */
	struct idxref *drop[MISP_CACHE];
	for (size_t i = 0; i < MISP_CACHE; i++) {
		drop[i] = s->cache[i].ref;
		s->cache[i].ref = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < MISP_CACHE; i++)
		if (drop[i])
			ref_put(s, drop[i]);
	kz_partner_keys_free(old);
	return 0;
}
