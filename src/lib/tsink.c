/*
 * The telescope's output sinks (see tsink.h).
 *
 * Store layout (migration 2 in store.c, docs/store.md): telescope_events
 * keeps each event record exactly as the JSON line --events would hold,
 * keyed by its observation id, with the finding id, kind, identifier,
 * sensor and times beside it for queries; telescope_stats keeps one row
 * per (sensor, interval, protocol, port). Writes are idempotent (an event
 * already stored is left alone, a stats row is replaced), so reading the
 * same capture twice into one store changes nothing. The hub's ingest can
 * take the records from telescope_events as they are.
 */
#include "tsink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int stats_stats(void *state, const struct kz_tstats_row *row)
{
	struct kz_tsink_jsonl *s = state;
	json_t *o = kz_tstats_json(row);
	if (!o)
		return jsonl_fail(s, -ENOMEM);
	int rc = kz_jsonl_write(s->w, o);
	json_decref(o);
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

/* ----------------------------------------------------------------- store */

struct kz_tstore {
	struct kz_store *store;
	char *sensor;
	sqlite3_stmt *ins_event, *ins_stats, *ins_interval;
	bool in_txn;
	char why[320];
};

static const char sql_event[] =
        "INSERT OR IGNORE INTO telescope_events (observation_id, finding_id, kind, identifier,"
        " sensor, interval_start, time_source, first, record)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

static const char sql_interval[] =
        "INSERT OR REPLACE INTO telescope_intervals (sensor, interval_start, interval_len,"
        " analysed, sources_active, sources_held, sources_evicted, vectors_evicted, reordered)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

static const char sql_stats[] =
        "INSERT OR REPLACE INTO telescope_stats (sensor, interval_start, interval_len, proto,"
        " port, darknet_size, packets, unique_sources, sources_hll)"
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
	int rc = kz_store_prepare(store, sql_event, &ts->ins_event, err, errlen);
	if (!rc)
		rc = kz_store_prepare(store, sql_stats, &ts->ins_stats, err, errlen);
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
	if (ts->in_txn)
		kz_store_rollback(ts->store);
	sqlite3_finalize(ts->ins_event);
	sqlite3_finalize(ts->ins_stats);
	sqlite3_finalize(ts->ins_interval);
	free(ts->sensor);
	free(ts);
}

static const char *store_error(void *state)
{
	return ((struct kz_tstore *)state)->why;
}

/* One transaction per interval, opened by its first write and committed
 * at its end: a crash loses at most the interval being written, and the
 * store never holds half of one. */
static int store_begin(struct kz_tstore *ts)
{
	if (ts->in_txn)
		return 0;
	int rc = kz_store_begin(ts->store, ts->why, sizeof ts->why);
	if (!rc)
		ts->in_txn = true;
	return rc;
}

/* Runs a bound insert and readies the statement for the next one; a
 * failure names the store and SQLite's reason. */
static int store_step(struct kz_tstore *ts, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int e = rc == SQLITE_DONE ? 0 : kz_store_errno(rc);
	if (e)
		snprintf(ts->why, sizeof ts->why, "%s: %s", kz_store_path(ts->store),
		         sqlite3_errmsg(kz_store_db(ts->store)));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e ? e : rc == SQLITE_DONE ? 0 : -EIO;
}

static int store_event(void *state, const char *line, size_t len, const struct kz_tevent *ev)
{
	struct kz_tstore *ts = state;
	char is[KZ_TIME_STRLEN], tsrc[KZ_TIME_STRLEN];
	int rc = store_begin(ts);
	if (rc)
		return rc;
	if (kz_time_format(ev->interval_start, is) || kz_time_format(ev->time_source, tsrc)) {
		snprintf(ts->why, sizeof ts->why, "a time outside the years 0000-9999");
		return -ERANGE;
	}
	/* The line without its "\n": the record exactly as --events has it. */
	if (len && line[len - 1] == '\n')
		len--;
	sqlite3_stmt *st = ts->ins_event;
	sqlite3_bind_text(st, 1, ev->observation_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->finding_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kz_tevent_kind_name(ev->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->identifier, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ts->sensor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, is, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, tsrc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 8, ev->first);
	sqlite3_bind_text(st, 9, line, (int)len, SQLITE_STATIC);
	return store_step(ts, st);
}

static int store_stats(void *state, const struct kz_tstats_row *row)
{
	struct kz_tstore *ts = state;
	char is[KZ_TIME_STRLEN];
	int rc = store_begin(ts);
	if (rc)
		return rc;
	if (kz_time_format(row->interval_start, is)) {
		snprintf(ts->why, sizeof ts->why, "a time outside the years 0000-9999");
		return -ERANGE;
	}
	char *b64 = NULL;
	size_t len = 0;
	if (row->hll && (rc = kz_hll_to_base64(row->hll, &b64, &len))) {
		snprintf(ts->why, sizeof ts->why, "sketch: %s", strerror(-rc));
		return rc;
	}
	sqlite3_stmt *st = ts->ins_stats;
	sqlite3_bind_text(st, 1, row->sensor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, is, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, row->interval_len);
	sqlite3_bind_text(st, 4, row->proto, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, row->port);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)row->darknet_size);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)row->packets);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)row->unique_sources);
	if (b64)
		sqlite3_bind_text(st, 9, b64, (int)len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 9);
	rc = store_step(ts, st);
	free(b64);
	return rc;
}

static int store_interval_done(void *state, const struct kz_tinterval *iv)
{
	struct kz_tstore *ts = state;
	if (!iv->final) {
		char is[KZ_TIME_STRLEN];
		int rc = store_begin(ts);
		if (rc)
			return rc;
		if (kz_time_format(iv->start, is)) {
			snprintf(ts->why, sizeof ts->why, "a time outside the years 0000-9999");
			return -ERANGE;
		}
		sqlite3_stmt *st = ts->ins_interval;
		sqlite3_bind_text(st, 1, iv->sensor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, is, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, iv->len);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)iv->analysed);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)iv->sources_active);
		sqlite3_bind_int64(st, 6, iv->sources_held);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)iv->sources_evicted);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)iv->vectors_evicted);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)iv->reordered);
		if ((rc = store_step(ts, st)))
			return rc;
	}
	if (!ts->in_txn)
		return 0;
	ts->in_txn = false;
	int rc = kz_store_commit(ts->store, ts->why, sizeof ts->why);
	if (rc)
		kz_store_rollback(ts->store);
	return rc;
}

const struct kz_tsink kz_tsink_store = {
	.name = "store",
	.event = store_event,
	.stats = store_stats,
	.interval_done = store_interval_done,
	.error = store_error,
};
