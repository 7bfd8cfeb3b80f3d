/*
 * The telescope's output sinks (see tsink.h).
 *
 * The store sink hands each interval's event and stats lines to the hub's
 * ingest (ingest.h, statsroll.h), the same code a POST to a hub runs, so a
 * telescope's store holds findings, observations, sightings and rollups
 * exactly as a hub's would, and one file can serve both. It adds the
 * per-interval counters (telescope_intervals, migration 3 in store.c) in
 * the same transaction. The ingest is idempotent: reading the same capture
 * twice into one store changes nothing.
 */
#include "tsink.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "encode.h"
#include "ingest.h"
#include "log.h"
#include "statsroll.h"
#include "timefmt.h"

/* ------------------------------------------------------------ JSON Lines */

static const char *jsonl_error(void *state)
{
	return ((struct kz_tsink_jsonl *)state)->why;
}

static int jsonl_fail(struct kz_tsink_jsonl *s, int rc)
{
	snprintf(s->why, sizeof s->why, "%s: %s", kz_jsonl_writer_name(s->w), strerror(-rc));
	return rc;
}

static int jsonl_interval_done(void *state, const struct kz_tinterval *iv)
{
	(void)iv;
	struct kz_tsink_jsonl *s = state;
	int rc = kz_jsonl_flush(s->w);
	return rc ? jsonl_fail(s, rc) : 0;
}

/* The stats rows are few (tens to hundreds per interval) and go through
 * jansson like every other record of the project. */
json_t *kz_tstats_json(const struct kz_tstats_row *row)
{
	char t[KZ_TIME_STRLEN];
	if (kz_time_format(row->interval_start, t) != 0)
		return NULL;
	json_t *o = json_pack("{s:s, s:I, s:s, s:I, s:s, s:I, s:I, s:I}", "sensor", row->sensor,
	                      "darknet_size", (json_int_t)row->darknet_size, "interval_start", t,
	                      "interval_len", (json_int_t)row->interval_len, "proto", row->proto,
	                      "port", (json_int_t)row->port, "packets", (json_int_t)row->packets,
	                      "unique_sources", (json_int_t)row->unique_sources);
	if (!o || !row->hll)
		return o;
	char *b64 = NULL;
	size_t len = 0;
	if (kz_hll_to_base64(row->hll, &b64, &len) != 0 ||
	    json_object_set_new(o, "sources_hll", json_stringn(b64, len)) != 0) {
		free(b64);
		json_decref(o);
		return NULL;
	}
	free(b64);
	return o;
}

static int stats_json(struct kz_tsink_jsonl *s, const struct kz_tstats_row *row)
{
	json_t *o = kz_tstats_json(row);
	if (!o)
		return jsonl_fail(s, -ENOMEM);
	int rc = kz_jsonl_write(s->w, o);
	json_decref(o);
	return rc ? jsonl_fail(s, rc) : 0;
}

/* The sensor name as kz_jsonl_write escapes a string value, kept in s;
 * false when it is too long to keep. */
static bool sensor_json(struct kz_tsink_jsonl *s, const char *sensor)
{
	size_t n = strlen(sensor);
	if (s->sensor_json_len && n < sizeof s->sensor && memcmp(s->sensor, sensor, n + 1) == 0)
		return true;
	s->sensor_json_len = 0;
	if (n >= sizeof s->sensor)
		return false;
	json_t *j = json_stringn(sensor, n);
	char *text = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	json_decref(j);
	size_t len = text ? strlen(text) : 0;
	if (len && len < sizeof s->sensor_json) {
		memcpy(s->sensor, sensor, n + 1);
		memcpy(s->sensor_json, text, len);
		s->sensor_json_len = len;
	}
	free(text);
	return s->sensor_json_len != 0;
}

static char *put_text(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit) put_text((p), (lit), sizeof(lit) - 1)

/* A decimal, as jansson writes a json_int_t. */
static char *put_i64(char *p, int64_t v)
{
	char b[KZ_DEC_SIZE];
	const char *s = kz_dec_i64(b, v);
	return put_text(p, s, (size_t)(b + KZ_DEC_SIZE - 1 - s));
}

/* A stats row is written by hand, byte for byte what kz_tstats_json and
 * kz_jsonl_write give (keys in strcmp order, compact; the proto name and
 * the base64 text need no escaping, the sensor is escaped by jansson once):
 * through jansson a row cost about 100,000 instructions, mostly in
 * escaping the long base64 string character by character. */
static int stats_stats(void *state, const struct kz_tstats_row *row)
{
	struct kz_tsink_jsonl *s = state;
	char t[KZ_TIME_STRLEN];
	if (!sensor_json(s, row->sensor) || kz_time_format(row->interval_start, t) != 0)
		return stats_json(s, row);
	char *b64 = NULL;
	size_t b64len = 0;
	if (row->hll && kz_hll_to_base64(row->hll, &b64, &b64len) != 0)
		return jsonl_fail(s, -ENOMEM);
	/* Fixed text and six numbers: 300 bytes with the name's and the
	 * sketch's lengths. */
	size_t cap = 300 + s->sensor_json_len + b64len + strlen(row->proto);
	char *line = malloc(cap);
	if (!line) {
		free(b64);
		return jsonl_fail(s, -ENOMEM);
	}
	char *p = line;
	p = PUT_LIT(p, "{\"darknet_size\":");
	p = put_i64(p, (int64_t)row->darknet_size);
	p = PUT_LIT(p, ",\"interval_len\":");
	p = put_i64(p, (int64_t)row->interval_len);
	p = PUT_LIT(p, ",\"interval_start\":\"");
	p = put_text(p, t, KZ_TIME_STRLEN - 1);
	p = PUT_LIT(p, "\",\"packets\":");
	p = put_i64(p, (int64_t)row->packets);
	p = PUT_LIT(p, ",\"port\":");
	p = put_i64(p, (int64_t)row->port);
	p = PUT_LIT(p, ",\"proto\":\"");
	p = put_text(p, row->proto, strlen(row->proto));
	p = PUT_LIT(p, "\",\"sensor\":");
	p = put_text(p, s->sensor_json, s->sensor_json_len);
	if (b64) {
		p = PUT_LIT(p, ",\"sources_hll\":\"");
		p = put_text(p, b64, b64len);
		p = PUT_LIT(p, "\"");
	}
	p = PUT_LIT(p, ",\"unique_sources\":");
	p = put_i64(p, (int64_t)row->unique_sources);
	p = PUT_LIT(p, "}\n");
	free(b64);
	int rc = kz_jsonl_write_line(s->w, line, (size_t)(p - line));
	free(line);
	return rc ? jsonl_fail(s, rc) : 0;
}

/* ---------------------------------------------------------------- events */

#define EVENTS_BUFFER (1u << 20)

struct kz_tevents {
	FILE *f;
	bool own; /* opened here (closed at the end), not stdout */
	char *name;
	char *buf;
	uint64_t lines;
	int error; /* the first error, sticky */
	char why[320];
};

/* The events file is ours rather than a kz_jsonl_writer: the lines come
 * already formatted (srcrecord.h writes most of them by hand), and the
 * writer's interface takes json_t objects only. */
int kz_tevents_open(const char *path, bool append, struct kz_tevents **out)
{
	*out = NULL;
	struct kz_tevents *ev = calloc(1, sizeof *ev);
	if (!ev)
		return -ENOMEM;
	int rc = -ENOMEM;
	bool is_stdout = strcmp(path, "-") == 0;
	ev->name = strdup(is_stdout ? "<stdout>" : path);
	ev->buf = malloc(EVENTS_BUFFER);
	if (!ev->name || !ev->buf)
		goto fail;
	if (is_stdout) {
		ev->f = stdout;
	} else {
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC),
		              0600);
		if (fd < 0 || !(ev->f = fdopen(fd, append ? "a" : "w"))) {
			rc = -errno;
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		ev->own = true;
	}
	/* stdout stays line-buffered when it is a terminal; a file or pipe
	 * gets a large buffer, flushed at every interval. */
	if (ev->own || !isatty(fileno(ev->f)))
		setvbuf(ev->f, ev->buf, _IOFBF, EVENTS_BUFFER);
	*out = ev;
	return 0;
fail:
	free(ev->name);
	free(ev->buf);
	free(ev);
	return rc;
}

static int tevents_fail(struct kz_tevents *ev, int rc)
{
	if (!ev->error) {
		ev->error = rc;
		snprintf(ev->why, sizeof ev->why, "%s: %s", ev->name, strerror(-rc));
	}
	return ev->error;
}

static int events_event(void *state, const char *line, size_t len, const struct kz_tevent *e)
{
	(void)e;
	struct kz_tevents *ev = state;
	if (ev->error)
		return ev->error;
	if (fwrite(line, 1, len, ev->f) != len)
		return tevents_fail(ev, errno ? -errno : -EIO);
	ev->lines++;
	return 0;
}

static int events_interval_done(void *state, const struct kz_tinterval *iv)
{
	(void)iv;
	struct kz_tevents *ev = state;
	if (!ev->error && fflush(ev->f) != 0)
		return tevents_fail(ev, errno ? -errno : -EIO);
	return ev->error;
}

static const char *events_error(void *state)
{
	return ((struct kz_tevents *)state)->why;
}

uint64_t kz_tevents_lines(const struct kz_tevents *ev)
{
	return ev->lines;
}

int kz_tevents_close(struct kz_tevents *ev)
{
	if (!ev)
		return 0;
	int rc = ev->error;
	if (fflush(ev->f) != 0 && !rc)
		rc = errno ? -errno : -EIO;
	if (ev->own) {
		if (fclose(ev->f) != 0 && !rc)
			rc = errno ? -errno : -EIO;
	} else {
		/* stdout lives on: give it back its default buffer before
		 * ours is freed. */
		setvbuf(ev->f, NULL, _IOLBF, 0);
	}
	free(ev->name);
	free(ev->buf);
	free(ev);
	return rc;
}

const struct kz_tsink kz_tsink_events = {
	.name = "events",
	.event = events_event,
	.interval_done = events_interval_done,
	.error = events_error,
};

const struct kz_tsink kz_tsink_stats = {
	.name = "stats",
	.stats = stats_stats,
	.interval_done = jsonl_interval_done,
	.error = jsonl_error,
};

/* ----------------------------------------------------------------- spool */

static int spool_fail(struct kz_tsink_spool *s, int rc, const char *what)
{
	snprintf(s->why, sizeof s->why, "spool: %s: %s", what, strerror(-rc));
	return rc;
}

static int spool_event(void *state, const char *line, size_t len, const struct kz_tevent *ev)
{
	(void)ev;
	struct kz_tsink_spool *s = state;
	int rc = kz_spool_append(s->sp, KZ_SPOOL_EVENTS, line, len);
	return rc ? spool_fail(s, rc, "appending a record") : 0;
}

static int spool_stats(void *state, const struct kz_tstats_row *row)
{
	struct kz_tsink_spool *s = state;
	json_t *o = kz_tstats_json(row);
	char *line = NULL;
	size_t len = 0;
	int rc = o ? kz_jsonl_format(o, &line, &len) : -ENOMEM;
	json_decref(o);
	if (!rc)
		rc = kz_spool_append(s->sp, KZ_SPOOL_STATS, line, len);
	free(line);
	return rc ? spool_fail(s, rc, "appending a stats line") : 0;
}

/* An interval's lines become sendable at its end, not a second later when
 * the spool would close its segments anyway. */
static int spool_interval_done(void *state, const struct kz_tinterval *iv)
{
	(void)iv;
	struct kz_tsink_spool *s = state;
	int rc = kz_spool_flush(s->sp);
	return rc ? spool_fail(s, rc, "closing a segment") : 0;
}

static const char *spool_error(void *state)
{
	return ((struct kz_tsink_spool *)state)->why;
}

const struct kz_tsink kz_tsink_spool = {
	.name = "hub",
	.event = spool_event,
	.stats = spool_stats,
	.interval_done = spool_interval_done,
	.error = spool_error,
};

/* ----------------------------------------------------------------- store */

/* An interval's lines are gathered here and handed to the ingest at its
 * end; a body this big is stored early, in a transaction of its own, so
 * that no interval can grow the buffer without bound. */
#define STORE_BODY_MAX ((size_t)16 << 20)

struct body {
	char *p;
	size_t len, cap;
};

struct kz_tstore {
	struct kz_store *store;
	struct kz_ingest *ing;
	char *sensor;
	struct body events, stats;
	sqlite3_stmt *ins_interval;
	uint64_t accepted, duplicates, rejected;
	char why[320];
};

static const char sql_interval[] =
        "INSERT OR REPLACE INTO telescope_intervals (sensor, interval_start, interval_len,"
        " analysed, sources_active, sources_held, sources_evicted, vectors_evicted, reordered)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

int kz_tstore_open(struct kz_store *store, const char *sensor, struct kz_tstore **out, char *err,
                   size_t errlen)
{
	*out = NULL;
	struct kz_tstore *ts = calloc(1, sizeof *ts);
	if (!ts)
		return -ENOMEM;
	ts->store = store;
	if (!(ts->sensor = strdup(sensor))) {
		free(ts);
		return -ENOMEM;
	}
	int rc = kz_ingest_open(store, NULL, &ts->ing, err, errlen);
	if (!rc)
		rc = kz_store_prepare(store, sql_interval, &ts->ins_interval, err, errlen);
	if (rc) {
		kz_tstore_close(ts);
		return rc;
	}
	*out = ts;
	return 0;
}

void kz_tstore_close(struct kz_tstore *ts)
{
	if (!ts)
		return;
	sqlite3_finalize(ts->ins_interval);
	kz_ingest_close(ts->ing);
	free(ts->events.p);
	free(ts->stats.p);
	free(ts->sensor);
	free(ts);
}

void kz_tstore_counts(const struct kz_tstore *ts, uint64_t *accepted, uint64_t *duplicates,
                      uint64_t *rejected)
{
	*accepted = ts->accepted;
	*duplicates = ts->duplicates;
	*rejected = ts->rejected;
}

static const char *store_error(void *state)
{
	return ((struct kz_tstore *)state)->why;
}

static int body_add(struct body *b, const char *line, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + len)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, line, len);
	b->len += len;
	return 0;
}

/* Stores the gathered lines, and the interval's counters when iv is not
 * NULL, in one transaction: the same path as a POST to a hub (findings,
 * observations, sightings, stats rollups). A line the ingest refuses is a
 * bug on one side or the other: it is counted, and the first reason logged. */
static int store_flush(struct kz_tstore *ts, const struct kz_tinterval *iv)
{
	int64_t now = (int64_t)time(NULL);
	struct kz_submitter who = { ts->sensor, false };
	struct kz_ingest_batch *eb = NULL;
	struct kz_stats_batch *sb = NULL;
	int rc = 0;
	if (ts->events.len &&
	    (rc = kz_ingest_prepare(ts->events.p, ts->events.len, NULL, &who, now, NULL, &eb)))
		goto fail;
	if (ts->stats.len && (rc = kz_stats_prepare(ts->stats.p, ts->stats.len, &sb)))
		goto fail;
	if ((rc = kz_store_begin(ts->store, ts->why, sizeof ts->why)))
		goto fail;
	if (eb && (rc = kz_ingest_store(ts->ing, eb, now, ts->why, sizeof ts->why)))
		goto rollback;
	if (sb && (rc = kz_stats_store(kz_store_db(ts->store), sb, now, ts->why, sizeof ts->why)))
		goto rollback;
	if (iv && !iv->final) {
		sqlite3_stmt *st = ts->ins_interval;
		sqlite3_bind_text(st, 1, iv->sensor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, iv->start);
		sqlite3_bind_int64(st, 3, iv->len);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)iv->analysed);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)iv->sources_active);
		sqlite3_bind_int64(st, 6, iv->sources_held);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)iv->sources_evicted);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)iv->vectors_evicted);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)iv->reordered);
		int step = sqlite3_step(st);
		sqlite3_reset(st);
		if (step != SQLITE_DONE) {
			rc = kz_store_errno(step);
			rc = rc ? rc : -EIO;
			snprintf(ts->why, sizeof ts->why, "%s: %s", kz_store_path(ts->store),
			         sqlite3_errmsg(kz_store_db(ts->store)));
			goto rollback;
		}
	}
	if ((rc = kz_store_commit(ts->store, ts->why, sizeof ts->why)))
		goto rollback;
	const struct kz_ingest_result *res[2] = { eb ? kz_ingest_batch_result(eb) : NULL,
		                                  sb ? kz_stats_batch_result(sb) : NULL };
	for (int i = 0; i < 2; i++) {
		if (!res[i])
			continue;
		ts->accepted += res[i]->accepted;
		ts->duplicates += res[i]->duplicates;
		ts->rejected += res[i]->rejected;
		if (res[i]->nerrors)
			kz_warn("%s: the store refused %" PRIu64 " %s lines; line %lu: %s",
			        kz_store_path(ts->store), res[i]->rejected, i ? "stats" : "event",
			        res[i]->errors[0].line, res[i]->errors[0].reason);
	}
	goto done;
rollback:
	kz_store_rollback(ts->store);
fail:
	if (rc == -ENOMEM && !ts->why[0])
		snprintf(ts->why, sizeof ts->why, "%s", strerror(ENOMEM));
done:
	kz_ingest_batch_free(eb);
	kz_stats_batch_free(sb);
	ts->events.len = 0;
	ts->stats.len = 0;
	return rc;
}

static int store_event(void *state, const char *line, size_t len, const struct kz_tevent *ev)
{
	(void)ev;
	struct kz_tstore *ts = state;
	if (ts->events.len + len > STORE_BODY_MAX) {
		int rc = store_flush(ts, NULL);
		if (rc)
			return rc;
	}
	int rc = body_add(&ts->events, line, len);
	if (rc)
		snprintf(ts->why, sizeof ts->why, "%s", strerror(-rc));
	return rc;
}

static int store_stats(void *state, const struct kz_tstats_row *row)
{
	struct kz_tstore *ts = state;
	json_t *o = kz_tstats_json(row);
	char *line = NULL;
	size_t len = 0;
	int rc = o ? kz_jsonl_format(o, &line, &len) : -ENOMEM;
	json_decref(o);
	if (!rc && ts->stats.len + len > STORE_BODY_MAX)
		rc = store_flush(ts, NULL);
	if (!rc)
		rc = body_add(&ts->stats, line, len);
	free(line);
	if (rc && !ts->why[0])
		snprintf(ts->why, sizeof ts->why, "%s", strerror(-rc));
	return rc;
}

static int store_interval_done(void *state, const struct kz_tinterval *iv)
{
	return store_flush(state, iv);
}

const struct kz_tsink kz_tsink_store = {
	.name = "store",
	.event = store_event,
	.stats = store_stats,
	.interval_done = store_interval_done,
	.error = store_error,
};
