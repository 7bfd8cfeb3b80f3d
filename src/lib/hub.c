/*
 * The hub daemon's core: start and stop, the writer thread with group
 * commit, table reload, the read-only connection pool and the periodic
 * lifecycle work. The HTTP routes are in api.c.
 *
 * Why one writer: SQLite has one write lock per database. Many threads
 * writing would queue on that lock (and on SQLITE_BUSY); one thread that
 * takes every waiting job and commits them together turns N small commits
 * into one, which is where ingest throughput comes from. The writer never
 * parses JSON: that happened in the HTTP threads.
 */
#include "hub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "hubpriv.h"
#include "log.h"
#include "sightings.h"

#define MAX_BODY_DEFAULT    (64u << 20)
#define THREADS_DEFAULT     4
#define EXPIRE_EVERY        60
#define RETENTION_EVERY     3600
#define RETENTION_CHUNK     20000
#define CHECKPOINT_EVERY_MS 500 /* the checkpointer's period */
/* WAL frames (pages) past which the checkpointer makes the log restart
 * from its start: 16384 frames of 4 KiB, 64 MiB. */
#define WAL_RESTART_FRAMES 16384

double hub_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ retention */

void kz_hub_retention_defaults(struct kz_hub_retention *r)
{
	r->observations_days = 400;
	r->sightings = 100;
	r->stats_5m_days = 14;
	r->stats_1h_days = 400;
	r->stats_1d_days = 0;
	r->stats_raw_days = 14;
	r->audit_days = 0;
}

int kz_hub_retention_parse(const char *spec, struct kz_hub_retention *r, const char **why)
{
	char *copy = strdup(spec), *save = NULL;
	int rc = 0;
	if (!copy) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		char *end = NULL;
		if (!eq || eq[1] == '\0') {
			*why = "expected KEY=VALUE[,KEY=VALUE...]";
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		errno = 0;
		long long v = strtoll(eq + 1, &end, 10);
		if (errno || *end || v < 0 || v > 100000) {
			*why = "a value is not a whole number 0-100000";
			rc = -EINVAL;
			break;
		}
		if (strcmp(tok, "observations") == 0)
			r->observations_days = v;
		else if (strcmp(tok, "sightings") == 0 && v >= 1 && v <= KZ_SIGHTINGS_MAX)
			r->sightings = (size_t)v;
		else if (strcmp(tok, "stats-5m") == 0)
			r->stats_5m_days = v;
		else if (strcmp(tok, "stats-1h") == 0)
			r->stats_1h_days = v;
		else if (strcmp(tok, "stats-1d") == 0)
			r->stats_1d_days = v;
		else if (strcmp(tok, "stats-raw") == 0)
			r->stats_raw_days = v;
		else if (strcmp(tok, "audit") == 0)
			r->audit_days = v;
		else {
			*why = "unknown key (observations, sightings 1-1000, stats-5m, stats-1h, "
			       "stats-1d, stats-raw, audit)";
			rc = -EINVAL;
			break;
		}
	}
	free(copy);
	return rc;
}

/* ------------------------------------------------------------ snapshots */

struct hub_snap *hub_snap_get(struct kz_hub *h)
{
	pthread_mutex_lock(&h->snap_lock);
	struct hub_snap *s = h->snap;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&h->snap_lock);
	return s;
}

/* Drops one reference to a tokens table. */
static void tokens_put(struct hub_tokens *t)
{
	if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
		kz_tokens_free(t->t);
		free(t);
	}
}

void hub_snap_put(struct hub_snap *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
		kz_enrich_unref(s->enrich);
		tokens_put(s->tokens);
		free(s);
	}
}

/* Copies the operators table into the store, for `kizuki report` and
 * anyone reading the database without the file. */
static int sync_operators(struct kz_hub *h, const struct kz_operators *ops)
{
	char err[256];
	sqlite3 *db = kz_store_db(h->store);
	sqlite3_stmt *st = NULL;
	int rc = kz_store_begin(h->store, err, sizeof err);
	if (rc)
		goto fail;
	if ((rc = kz_store_exec(h->store, "DELETE FROM hub_operators", err, sizeof err)))
		goto fail;
	if ((rc = kz_store_prepare(h->store,
	                           "INSERT INTO hub_operators(asn, name, abuse_contact,"
	                           " renotify_sec) VALUES (?1, ?2, ?3, ?4)",
	                           &st, err, sizeof err)))
		goto fail;
	for (size_t i = 0; i < kz_operators_count(ops); i++) {
		const struct kz_operator *o = kz_operators_at(ops, i);
		sqlite3_bind_int64(st, 1, o->asn);
		sqlite3_bind_text(st, 2, o->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, o->abuse_contact, -1, SQLITE_STATIC);
		if (o->renotify_sec >= 0)
			sqlite3_bind_int64(st, 4, o->renotify_sec);
		else
			sqlite3_bind_null(st, 4);
		if (sqlite3_step(st) != SQLITE_DONE) {
			snprintf(err, sizeof err, "hub_operators: %s", sqlite3_errmsg(db));
			rc = -EIO;
			goto fail;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = kz_store_commit(h->store, err, sizeof err)))
		goto fail;
	return 0;
fail:
	sqlite3_finalize(st);
	kz_store_rollback(h->store);
	kz_err("operators: not copied into the store: %s", err);
	return rc;
}

/* Loads the tables into a new snapshot. At start (no previous snapshot) a
 * failure is fatal; on reload a table that fails keeps its old version. */
static int load_snap(struct kz_hub *h, struct hub_snap *prev, struct hub_snap **out,
                     unsigned *failed, char *err, size_t errlen)
{
	struct hub_snap *s = calloc(1, sizeof *s);
	struct kz_enrich_paths paths = { h->pfx2as, h->operators, h->mmdb };
	int rc;
	*failed = 0;
	if (!s)
		return -ENOMEM;
	atomic_init(&s->refs, 1);
	if ((rc = kz_enrich_load(&paths, prev ? prev->enrich : NULL, &s->enrich, failed, err,
	                         errlen))) {
		free(s);
		return rc;
	}
	if (h->tokens_path) {
		char why[512];
		struct kz_tokens *t = NULL;
		rc = kz_tokens_load(h->tokens_path, &t, why, sizeof why);
		if (rc == 0) {
			s->tokens = calloc(1, sizeof *s->tokens);
			if (!s->tokens) {
				kz_tokens_free(t);
				hub_snap_put(s);
				return -ENOMEM;
			}
			atomic_init(&s->tokens->refs, 1);
			s->tokens->t = t;
			kz_info("tokens: %zu loaded from %s", kz_tokens_count(t), h->tokens_path);
		} else if (!prev) {
			snprintf(err, errlen, "%s", why);
			hub_snap_put(s);
			return rc;
		} else {
			kz_err("tokens: not reloaded, keeping the previous table: %s", why);
			(*failed)++;
			s->tokens = prev->tokens;
			if (s->tokens)
				atomic_fetch_add(&s->tokens->refs, 1);
		}
	}
	*out = s;
	return 0;
}

unsigned kz_hub_reload(struct kz_hub *h)
{
	char err[512] = "";
	unsigned failed = 0;
	pthread_mutex_lock(&h->reload_lock);
	struct hub_snap *prev = hub_snap_get(h), *next = NULL;
	int rc = load_snap(h, prev, &next, &failed, err, sizeof err);
	if (rc == 0) {
		pthread_mutex_lock(&h->snap_lock);
		struct hub_snap *old = h->snap;
		h->snap = next;
		pthread_mutex_unlock(&h->snap_lock);
		hub_snap_put(old);
		const struct kz_operators *ops = kz_enrich_operators(next->enrich);
		/* The writer's connection is single-threaded (NOMUTEX): take
		 * the writer's gate to use it from here. */
		if (h->operators && ops) {
			pthread_mutex_lock(&h->wgate);
			(void)sync_operators(h, ops);
			pthread_mutex_unlock(&h->wgate);
		}
	} else {
		kz_err("reload failed: %s", err[0] ? err : strerror(-rc));
		failed++;
	}
	hub_snap_put(prev);
	failed += hub_share_reload(h);
	kz_metrics_reload(h->metrics, failed == 0);
	if (failed == 0)
		kz_info("reloaded the tables");
	pthread_mutex_unlock(&h->reload_lock);
	return failed;
}

/* --------------------------------------------------------------- readers */

sqlite3 *hub_reader_get(struct kz_hub *h)
{
	pthread_mutex_lock(&h->rlock);
	while (h->rfree == 0)
		pthread_cond_wait(&h->rcond, &h->rlock);
	sqlite3 *db = h->readers[--h->rfree];
	pthread_mutex_unlock(&h->rlock);
	return db;
}

void hub_reader_put(struct kz_hub *h, sqlite3 *db)
{
	pthread_mutex_lock(&h->rlock);
	h->readers[h->rfree++] = db;
	pthread_cond_signal(&h->rcond);
	pthread_mutex_unlock(&h->rlock);
}

/* Opens the read-only pool; WAL lets them read while the writer writes. */
static int open_readers(struct kz_hub *h, size_t n, char *err, size_t errlen)
{
	h->readers = calloc(n, sizeof *h->readers);
	if (!h->readers)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		sqlite3 *db = NULL;
		int rc = sqlite3_open_v2(h->db_path, &db,
		                         SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s: cannot open for reading: %s", h->db_path,
			         db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
			sqlite3_close(db);
			return -EIO;
		}
		sqlite3_busy_timeout(db, KZ_STORE_BUSY_MS);
		h->readers[h->nreaders++] = db;
	}
	h->rfree = h->nreaders;
	return 0;
}

/* ---------------------------------------------------------------- writer */

void hub_job_free(struct hub_job *job)
{
	if (!job)
		return;
	kz_ingest_batch_free(job->batch);
	kz_stats_batch_free(job->sbatch);
	free(job->comment);
	free(job->asns);
	hub_notify_free(job->notify);
	free(job);
}

void hub_submit(struct kz_hub *h, struct hub_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&h->qlock);
	if (h->qtail)
		h->qtail->next = job;
	else
		h->qhead = job;
	h->qtail = job;
	pthread_cond_signal(&h->qcond);
	pthread_mutex_unlock(&h->qlock);
}

/* kz_ingest_batch_feeds() callback: per-feed counters for /metrics. */
static void count_feed(void *arg, const char *feed, uint64_t acc, uint64_t dup)
{
	kz_metrics_events(arg, feed, acc, dup, 0);
}

/* One job inside the group transaction (its savepoint is the caller's). */
static int run_job(struct kz_hub *h, struct hub_job *j, int64_t now)
{
	sqlite3 *db = kz_store_db(h->store);
	switch (j->kind) {
	case JOB_EVENTS:
		return kz_ingest_store(h->ing, j->batch, now, j->err, sizeof j->err);
	case JOB_STATS:
		return kz_stats_store(db, j->sbatch, now, j->err, sizeof j->err);
	case JOB_FEEDBACK:
		return kz_findings_feedback(db, j->finding_id, j->feedback, j->comment,
		                            j->token_name, kz_role_name(j->role), j->asns, j->nasns,
		                            now, j->err, sizeof j->err);
	case JOB_NOTIFY:
		return hub_share_run_job(h, j->notify, now, j->err, sizeof j->err);
	}
	return -EINVAL;
}

/* Runs SQL whose failure leaves nothing to do but log it. */
static void exec_quiet(struct kz_hub *h, const char *sql)
{
	char err[256];
	if (kz_store_exec(h->store, sql, err, sizeof err) != 0)
		kz_warn("%s", err);
}

/* Runs the group's jobs in the open transaction. With savepoints, each
 * job in one of its own, so that a job that fails leaves the others'
 * writes; without, ingest jobs run bare (a savepoint makes SQLite copy
 * every page before the job changes it: a fifth of the writer's time for
 * a 1,000-event body) and the first failure stops the group. Returns 0, or
 * the failed ingest job's error when running without savepoints. */
static int run_group(struct kz_hub *h, struct hub_job *list, int64_t now, bool savepoints)
{
	for (struct hub_job *j = list; j; j = j->next) {
		bool sp = savepoints || j->kind != JOB_EVENTS;
		char e2[64];
		if (sp && kz_store_exec(h->store, "SAVEPOINT job", e2, sizeof e2) != 0) {
			j->rc = -EIO;
			snprintf(j->err, sizeof j->err, "%s", e2);
			continue;
		}
		j->rc = run_job(h, j, now);
		if (!sp) {
			if (j->rc)
				return j->rc;
			continue;
		}
		if (j->rc && (j->rc != -ENOENT && j->rc != -EACCES))
			kz_err("write failed: %s", j->err);
		if (j->rc)
			exec_quiet(h, "ROLLBACK TO job");
		exec_quiet(h, "RELEASE job");
	}
	return 0;
}

/* Runs a list of jobs in one transaction. The common case takes one pass
 * without savepoints around ingest jobs; if one of them fails, the whole
 * transaction is rolled back and the group runs again with a savepoint per
 * job, so that only the failed job's writes are lost. Ingest jobs can run
 * twice: kz_ingest_store starts its counts afresh. */
static void run_jobs(struct kz_hub *h, struct hub_job *list)
{
	char err[256];
	int64_t now = (int64_t)time(NULL);
	/* The writer remembers the observations of a group only when the
	 * group committed in its first pass: a second pass may have rolled
	 * any job back to its savepoint. */
	bool keep = true;
	kz_ingest_rolled_back(h->ing);
	int rc = kz_store_begin(h->store, err, sizeof err);
	if (rc == 0 && run_group(h, list, now, false) != 0) {
		kz_store_rollback(h->store);
		keep = false;
		if ((rc = kz_store_begin(h->store, err, sizeof err)) == 0)
			(void)run_group(h, list, now, true);
	}
	if (rc) {
		for (struct hub_job *j = list; j; j = j->next) {
			j->rc = rc;
			snprintf(j->err, sizeof j->err, "%s", err);
		}
	}
	if (rc == 0 && (rc = kz_store_commit(h->store, err, sizeof err)) != 0) {
		kz_err("commit failed: %s", err);
		for (struct hub_job *j = list; j; j = j->next) {
			j->rc = rc;
			snprintf(j->err, sizeof j->err, "%s", err);
		}
	}
	if (rc == 0 && keep)
		kz_ingest_committed(h->ing);
	else
		kz_ingest_rolled_back(h->ing);
	double t = hub_monotonic();
	while (list) {
		struct hub_job *j = list;
		list = j->next;
		if (j->rc == 0 && j->kind == JOB_EVENTS) {
			kz_ingest_batch_feeds(j->batch, count_feed, h->metrics);
			kz_metrics_ingest_latency(h->metrics, t - j->received);
		}
		struct MHD_Connection *c = j->conn;
		atomic_store(&j->done, true);
		/* After this the connection's thread may free the job. */
		if (c)
			MHD_resume_connection(c);
	}
}

/* Deletes rows older than a cutoff in chunks, each its own transaction
 * (?2 is the chunk size; statements on WITHOUT ROWID tables delete by key
 * range in one go and ignore it). */
static void retention_delete(struct kz_hub *h, const char *sql, int64_t cutoff, bool observations)
{
	char err[256];
	sqlite3 *db = kz_store_db(h->store);
	for (int round = 0; round < 1000; round++) {
		sqlite3_stmt *st;
		if (kz_store_begin(h->store, err, sizeof err))
			return;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
			kz_err("retention: %s", sqlite3_errmsg(db));
			kz_store_rollback(h->store);
			return;
		}
		sqlite3_bind_int64(st, 1, cutoff);
		sqlite3_bind_int(st, 2, RETENTION_CHUNK);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		int n = sqlite3_changes(db);
		if (rc != SQLITE_DONE || kz_store_commit(h->store, err, sizeof err)) {
			kz_store_rollback(h->store);
			return;
		}
		/* The writer's memory of stored observations would still call
		 * the deleted ones stored (a re-post must store them again). */
		if (observations && n > 0)
			kz_ingest_forget(h->ing);
		if (n < RETENTION_CHUNK)
			return;
	}
}

/* The retention of docs/hub.md, table by table; 0 days keeps forever. */
static void retention(struct kz_hub *h, int64_t now)
{
	const struct kz_hub_retention *r = &h->cfg.retention;
	static const struct {
		const char *sql;
		size_t off;
	} jobs[] = {
		{ "DELETE FROM hub_observations WHERE id IN (SELECT id FROM hub_observations"
		  " WHERE received < ?1 ORDER BY id LIMIT ?2)",
		  offsetof(struct kz_hub_retention, observations_days) },
		{ "DELETE FROM hub_stats_rollups WHERE bin = 300 AND start < ?1 AND ?2 = ?2",
		  offsetof(struct kz_hub_retention, stats_5m_days) },
		{ "DELETE FROM hub_stats_rollups WHERE bin = 3600 AND start < ?1 AND ?2 = ?2",
		  offsetof(struct kz_hub_retention, stats_1h_days) },
		{ "DELETE FROM hub_stats_rollups WHERE bin = 86400 AND start < ?1 AND ?2 = ?2",
		  offsetof(struct kz_hub_retention, stats_1d_days) },
		{ "DELETE FROM hub_stats_intervals WHERE interval_start < ?1 AND ?2 = ?2",
		  offsetof(struct kz_hub_retention, stats_raw_days) },
		{ "DELETE FROM hub_feedback WHERE id IN (SELECT id FROM hub_feedback WHERE at < ?1"
		  " LIMIT ?2)",
		  offsetof(struct kz_hub_retention, audit_days) },
		{ "DELETE FROM hub_transitions WHERE id IN (SELECT id FROM hub_transitions"
		  " WHERE at < ?1 LIMIT ?2)",
		  offsetof(struct kz_hub_retention, audit_days) },
	};
	for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
		int64_t days = *(const int64_t *)((const char *)r + jobs[i].off);
		if (days > 0)
			retention_delete(h, jobs[i].sql, now - days * 86400, i == 0);
	}
}

/* What the writer does when no job is waiting: telescope findings going
 * inactive, and hourly retention. Both are writes, so they belong here. */
static void maintain(struct kz_hub *h)
{
	int64_t now = (int64_t)time(NULL);
	char err[256];
	/* A short --inactive-after (tests, demos) is checked more often. */
	int64_t every = h->icfg.inactive_after / 4;
	every = every < 1 ? 1 : every > EXPIRE_EVERY ? EXPIRE_EVERY : every;
	if (now - h->last_expire >= every) {
		size_t changed = 0;
		h->last_expire = now;
		if (kz_store_begin(h->store, err, sizeof err) == 0) {
			if (kz_findings_expire(kz_store_db(h->store), now, h->icfg.inactive_after,
			                       &changed, err, sizeof err) == 0 &&
			    kz_store_commit(h->store, err, sizeof err) == 0) {
				if (changed)
					kz_info("%zu finding%s inactive", changed,
					        changed == 1 ? "" : "s");
			} else {
				kz_err("inactive findings: %s", err);
				kz_store_rollback(h->store);
			}
		}
	}
	if (now - h->last_retention >= RETENTION_EVERY) {
		h->last_retention = now;
		retention(h, now);
	}
}

/* The single writer: wakes for jobs (or once a second for maintenance),
 * takes every job waiting and runs them as one transaction. */
static void *writer_main(void *arg)
{
	struct kz_hub *h = arg;
	/* Named for top -H and perf: the thread that bounds ingest. */
	pthread_setname_np(pthread_self(), "kz-writer");
	for (;;) {
		pthread_mutex_lock(&h->qlock);
		while (!h->qhead && !h->stopping) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			if (pthread_cond_timedwait(&h->qcond, &h->qlock, &ts) == ETIMEDOUT)
				break;
		}
		struct hub_job *list = h->qhead;
		h->qhead = h->qtail = NULL;
		bool stop = h->stopping;
		pthread_mutex_unlock(&h->qlock);
		if (!list && stop)
			break;
		pthread_mutex_lock(&h->wgate);
		if (list)
			run_jobs(h, list);
		else
			maintain(h);
		pthread_mutex_unlock(&h->wgate);
	}
	return NULL;
}

/* Copies committed transactions from the WAL into the database file in
 * the background, so the log stays small and commits never pay for the
 * fsync.
 *
 * A PASSIVE checkpoint never blocks the writer or readers, but under
 * continuous load it never lets the log restart either: SQLite rewinds the
 * log only when a write transaction begins with every frame already copied,
 * and the writer commits again before a checkpoint finishes, so the file
 * grew without bound (and every page lookup in the log index with it). So
 * each round copies in the background, and when the log has grown past
 * WAL_RESTART_FRAMES it holds the writer's gate for a second, short pass
 * that copies what the writer added meanwhile: the next transaction then
 * starts the log from its beginning. */
static void *checkpoint_main(void *arg)
{
	struct kz_hub *h = arg;
	sqlite3 *db = NULL;
	pthread_setname_np(pthread_self(), "kz-checkpoint");
	if (sqlite3_open_v2(h->db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		kz_err("checkpoints: cannot open %s: %s", h->db_path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 100);
	/* A connection opens the file, and with it the log, at its first
	 * statement; before that a checkpoint does nothing (log -1). */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK)
		kz_warn("checkpoints: %s: %s", h->db_path, sqlite3_errmsg(db));
	pthread_mutex_lock(&h->qlock);
	while (!h->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		long long ns = ts.tv_nsec + CHECKPOINT_EVERY_MS * 1000000LL;
		ts.tv_sec += (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		pthread_cond_timedwait(&h->ckcond, &h->qlock, &ts);
		if (h->stopping)
			break;
		pthread_mutex_unlock(&h->qlock);
		int log = 0, done = 0;
		int rc =
		        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		if (rc == SQLITE_OK && log > WAL_RESTART_FRAMES) {
			pthread_mutex_lock(&h->wgate);
			rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
			                               &done);
			pthread_mutex_unlock(&h->wgate);
		}
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			kz_warn("checkpoint: %s", sqlite3_errmsg(db));
		pthread_mutex_lock(&h->qlock);
	}
	pthread_mutex_unlock(&h->qlock);
	sqlite3_close(db);
	return NULL;
}

/* ----------------------------------------------------------- start/stop */

static int parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[128];
	const char *colon;
	memset(ss, 0, sizeof *ss);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof host)
			goto bad;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof host)
			goto bad;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || port < 0 || port > 65535)
		goto bad;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return 0;
	}
bad:
	snprintf(err, errlen, "--listen %s: not ADDR:PORT (an IPv4 or [IPv6] address and a port)",
	         s);
	return -EINVAL;
}

/* A copy of an optional string. */
static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int kz_hub_start(const struct kz_hub_config *cfg, struct kz_hub **out, char *err, size_t errlen)
{
	struct kz_hub *h = calloc(1, sizeof *h);
	struct sockaddr_storage ss;
	unsigned failed = 0;
	int rc;
	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->cfg = *cfg;
	if (!h->cfg.max_body)
		h->cfg.max_body = MAX_BODY_DEFAULT;
	if (!h->cfg.threads)
		h->cfg.threads = THREADS_DEFAULT;
	if (!h->cfg.retention.sightings)
		kz_hub_retention_defaults(&h->cfg.retention);
	h->db_path = dup_or_null(cfg->db_path);
	h->listen = strdup(cfg->listen ? cfg->listen : "127.0.0.1:8470");
	h->pfx2as = dup_or_null(cfg->pfx2as);
	h->operators = dup_or_null(cfg->operators);
	h->mmdb = dup_or_null(cfg->mmdb);
	h->tokens_path = dup_or_null(cfg->tokens);
	h->web_dir = dup_or_null(cfg->web_dir);
	h->icfg.inactive_after =
	        cfg->inactive_after > 0 ? cfg->inactive_after : KZ_INACTIVE_AFTER_DEFAULT;
	h->icfg.sightings_keep = h->cfg.retention.sightings;
	pthread_mutex_init(&h->qlock, NULL);
	pthread_cond_init(&h->qcond, NULL);
	pthread_cond_init(&h->ckcond, NULL);
	pthread_mutex_init(&h->wgate, NULL);
	pthread_mutex_init(&h->snap_lock, NULL);
	pthread_mutex_init(&h->reload_lock, NULL);
	pthread_mutex_init(&h->rlock, NULL);
	pthread_cond_init(&h->rcond, NULL);
	h->last_expire = h->last_retention = 0;
	if (!h->listen || !h->db_path) {
		rc = -EINVAL;
		snprintf(err, errlen, "--db is required");
		goto fail;
	}
	if ((rc = parse_listen(h->listen, &ss, err, errlen)))
		goto fail;
	if ((rc = kz_metrics_new(&h->metrics)) || (rc = kz_sessions_new(&h->sessions))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* SQLite's memory statistics (sqlite3_memory_used, which kizuki never
	 * reads) take a process-wide mutex around every allocation: 7 % of
	 * the writer's time. Only possible before SQLite is first used; later
	 * the call fails harmlessly and the statistics stay on. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* The files first: a mistyped tokens file must not leave a new,
	 * empty store behind. */
	if ((rc = load_snap(h, NULL, &h->snap, &failed, err, errlen)))
		goto fail;
	if ((rc = kz_store_open(h->db_path, KZ_STORE_CREATE | KZ_STORE_NOMUTEX, &h->store, err,
	                        errlen)))
		goto fail;
	/* Checkpoints (copying the WAL into the database, with an fsync)
	 * run in a thread of their own, so that commits never wait for them. */
	if ((rc = kz_store_exec(h->store,
	                        "PRAGMA wal_autocheckpoint = 0;"
	                        " PRAGMA journal_size_limit = 67108864",
	                        err, errlen)))
		goto fail;
	if ((rc = kz_ingest_open(h->store, &h->icfg, &h->ing, err, errlen)))
		goto fail;
	{
		const struct kz_operators *ops = kz_enrich_operators(h->snap->enrich);
		if (h->operators && ops)
			(void)sync_operators(h, ops);
	}
	if ((rc = open_readers(h, h->cfg.threads + 2, err, errlen)))
		goto fail;
	if (pthread_create(&h->writer, NULL, writer_main, h) != 0) {
		rc = -EAGAIN;
		snprintf(err, errlen, "cannot start the writer thread");
		goto fail;
	}
	h->writer_started = true;
	if (pthread_create(&h->checkpointer, NULL, checkpoint_main, h) == 0)
		h->checkpointer_started = true;
	if ((rc = hub_share_start(h, err, errlen)))
		goto fail;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, hub_api_handler, h, MHD_OPTION_SOCK_ADDR,
	                          (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
	                          (unsigned)h->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
	                          (unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
	                          MHD_OPTION_NOTIFY_COMPLETED, hub_api_completed, h,
	                          MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	if (!h->mhd) {
		rc = -EADDRINUSE;
		snprintf(err, errlen, "cannot listen on %s: %s", h->listen, strerror(errno));
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	*out = h;
	return 0;
fail:
	kz_hub_stop(h);
	return rc;
}

uint16_t kz_hub_port(const struct kz_hub *h)
{
	return h->port;
}

void kz_hub_report_delivered(struct kz_hub *h, const char *channel)
{
	kz_metrics_report_delivered(h->metrics, channel);
}

void kz_hub_stop(struct kz_hub *h)
{
	if (!h)
		return;
	if (h->mhd)
		MHD_quiesce_daemon(h->mhd);
	/* The notifier hands its marks to the writer: stop it first. */
	hub_share_stop(h);
	if (h->writer_started) {
		pthread_mutex_lock(&h->qlock);
		h->stopping = true;
		pthread_cond_signal(&h->qcond);
		pthread_mutex_unlock(&h->qlock);
		/* The writer drains the queue first: every suspended request
		 * gets its answer before the server goes. */
		pthread_join(h->writer, NULL);
	}
	if (h->checkpointer_started) {
		pthread_mutex_lock(&h->qlock);
		h->stopping = true;
		pthread_cond_signal(&h->ckcond);
		pthread_mutex_unlock(&h->qlock);
		pthread_join(h->checkpointer, NULL);
	}
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	for (size_t i = 0; i < h->nreaders; i++)
		sqlite3_close_v2(h->readers[i]);
	free(h->readers);
	kz_ingest_close(h->ing);
	if (h->store) {
		/* Fold the log into the database so a copied file is whole. */
		exec_quiet(h, "PRAGMA wal_checkpoint(TRUNCATE)");
	}
	kz_store_close(h->store);
	hub_snap_put(h->snap);
	kz_metrics_free(h->metrics);
	kz_sessions_free(h->sessions);
	free(h->db_path);
	free(h->listen);
	free(h->pfx2as);
	free(h->operators);
	free(h->mmdb);
	free(h->tokens_path);
	free(h->web_dir);
	pthread_mutex_destroy(&h->qlock);
	pthread_cond_destroy(&h->qcond);
	pthread_cond_destroy(&h->ckcond);
	pthread_mutex_destroy(&h->wgate);
	pthread_mutex_destroy(&h->snap_lock);
	pthread_mutex_destroy(&h->reload_lock);
	pthread_mutex_destroy(&h->rlock);
	pthread_cond_destroy(&h->rcond);
	free(h);
}
