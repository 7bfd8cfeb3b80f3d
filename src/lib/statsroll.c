/*
 * Stats lines to rollups. Each new interval line updates three rollup rows
 * (one per bin); the sketch of each row is decoded, merged and re-encoded,
 * which for the sparse sketches of quiet ports is a few dozen bytes.
 */
#include "statsroll.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hll.h"
#include "jsonl.h"
#include "store.h"
#include "timefmt.h"

const int64_t kz_stats_bins[KZ_STATS_BINS] = { 300, 3600, 86400 };

struct stat_line {
	char sensor[128];
	char proto[12];
	int64_t interval_start, interval_len, darknet_size;
	int32_t port;
	int64_t packets, unique_sources;
	struct kz_hll *hll; /* NULL without sources_hll */
};

struct kz_stats_batch {
	struct stat_line *v;
	size_t n, cap;
	struct kz_ingest_result res;
};

static int add_error(struct kz_stats_batch *b, unsigned long line, const char *field,
                     const char *why)
{
	b->res.rejected++;
	if (b->res.nerrors >= KZ_INGEST_ERRORS_MAX)
		return 0;
	if (!b->res.errors) {
		b->res.errors = calloc(KZ_INGEST_ERRORS_MAX, sizeof *b->res.errors);
		if (!b->res.errors)
			return -ENOMEM;
	}
	struct kz_ingest_error *e = &b->res.errors[b->res.nerrors++];
	e->line = line;
	if (field)
		snprintf(e->reason, sizeof e->reason, "%s: %s", field, why);
	else
		snprintf(e->reason, sizeof e->reason, "%s", why);
	return 0;
}

/* An integer member within [min, max]. */
static bool get_int(const json_t *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return false;
	json_int_t x = json_integer_value(v);
	if (x < min || x > max)
		return false;
	*out = (int64_t)x;
	return true;
}

/* interval_start: an ISO 8601 time or seconds since the epoch. */
static bool get_time(const json_t *o, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return get_int(o, key, 0, KZ_TIME_MAX, out);
	const char *s = json_string_value(v);
	uint32_t ns;
	const char *why;
	return s && kz_time_parse_mem(s, json_string_length(v), out, &ns, &why) == 0;
}

/* A name that goes into keys and labels: printable ASCII without blanks. */
static bool token(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* Checks one line; returns NULL, or the reason with *field naming the field. */
static const char *parse_line(const json_t *o, struct stat_line *l, const char **field)
{
	memset(l, 0, sizeof *l);
	const char *sensor = json_string_value(json_object_get(o, "sensor"));
	const char *proto = json_string_value(json_object_get(o, "proto"));
	int64_t port;
	*field = "sensor";
	if (!token(sensor, sizeof l->sensor - 1))
		return "missing, or not printable ASCII without blanks (1-127 bytes)";
	*field = "proto";
	if (!token(proto, sizeof l->proto - 1))
		return "missing or not a protocol name";
	*field = "interval_start";
	if (!get_time(o, "interval_start", &l->interval_start))
		return "missing or not a time";
	*field = "interval_len";
	if (!get_int(o, "interval_len", 1, 86400, &l->interval_len))
		return "missing or not 1-86400 seconds";
	*field = "port";
	if (!get_int(o, "port", 0, 65535, &port))
		return "missing or not 0-65535";
	*field = "packets";
	if (!get_int(o, "packets", 0, INT64_MAX, &l->packets))
		return "missing or not a count";
	*field = "unique_sources";
	if (!get_int(o, "unique_sources", 0, INT64_MAX, &l->unique_sources))
		return "missing or not a count";
	*field = "darknet_size";
	l->darknet_size = 0;
	if (json_object_get(o, "darknet_size") &&
	    !get_int(o, "darknet_size", 0, INT64_MAX, &l->darknet_size))
		return "not a count";
	*field = "sources_hll";
	const json_t *h = json_object_get(o, "sources_hll");
	if (h && !json_is_null(h)) {
		const char *why;
		if (!json_is_string(h) ||
		    kz_hll_from_base64(json_string_value(h), json_string_length(h), &l->hll, &why))
			return "not a sketch (docs/hll.md)";
		if (kz_hll_precision(l->hll) != KZ_HLL_P_DEFAULT) {
			kz_hll_free(l->hll);
			l->hll = NULL;
			return "precision other than 14 cannot merge with the hub's";
		}
	}
	memcpy(l->sensor, sensor, strlen(sensor) + 1);
	memcpy(l->proto, proto, strlen(proto) + 1);
	l->port = (int32_t)port;
	return NULL;
}

/* Frees a batch and the sketches it decoded. */
void kz_stats_batch_free(struct kz_stats_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		kz_hll_free(b->v[i].hll);
	free(b->v);
	free(b->res.errors);
	free(b);
}

int kz_stats_prepare(const char *body, size_t len, struct kz_stats_batch **out)
{
	struct kz_stats_batch *b = calloc(1, sizeof *b);
	struct kz_jsonl_reader *r = NULL;
	int rc = -ENOMEM;
	*out = NULL;
	if (!b || kz_jsonl_reader_memory(body, len, 0, &r))
		goto fail;
	for (;;) {
		json_t *o = NULL;
		struct kz_jsonl_error jerr;
		rc = kz_jsonl_next(r, &o, &jerr);
		if (rc == 0)
			break;
		if (rc == -EBADMSG) {
			if ((rc = add_error(b, jerr.line, NULL, jerr.reason)))
				goto fail;
			continue;
		}
		if (rc < 0)
			goto fail;
		if (b->n == b->cap) {
			size_t nc = b->cap ? b->cap * 2 : 64;
			struct stat_line *nv = reallocarray(b->v, nc, sizeof *nv);
			if (!nv) {
				json_decref(o);
				rc = -ENOMEM;
				goto fail;
			}
			b->v = nv;
			b->cap = nc;
		}
		const char *field;
		const char *why = parse_line(o, &b->v[b->n], &field);
		json_decref(o);
		if (why) {
			if ((rc = add_error(b, kz_jsonl_reader_line(r), field, why)))
				goto fail;
			continue;
		}
		b->n++;
	}
	kz_jsonl_reader_free(r);
	*out = b;
	return 0;
fail:
	kz_jsonl_reader_free(r);
	kz_stats_batch_free(b);
	return rc;
}

const struct kz_ingest_result *kz_stats_batch_result(const struct kz_stats_batch *b)
{
	return &b->res;
}

size_t kz_stats_batch_items(const struct kz_stats_batch *b)
{
	return b->n;
}

/* A failed statement as "what: why" and the errno to return. */
static int fail(sqlite3 *db, int rc, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	return kz_store_errno(rc) ? kz_store_errno(rc) : -EIO;
}

/* Merges one line into the rollup row of one bin. */
static int merge_rollup(sqlite3 *db, sqlite3_stmt *sel, sqlite3_stmt *up, const struct stat_line *l,
                        int64_t bin, char *err, size_t errlen)
{
	int64_t start = l->interval_start - (((l->interval_start % bin) + bin) % bin);
	sqlite3_bind_int64(sel, 1, bin);
	sqlite3_bind_int64(sel, 2, start);
	sqlite3_bind_text(sel, 3, l->sensor, -1, SQLITE_STATIC);
	sqlite3_bind_text(sel, 4, l->proto, -1, SQLITE_STATIC);
	sqlite3_bind_int(sel, 5, l->port);
	int64_t packets = 0, sketchless = 0, intervals = 0, darknet = 0;
	struct kz_hll *h = NULL;
	int rc = sqlite3_step(sel);
	if (rc == SQLITE_ROW) {
		packets = sqlite3_column_int64(sel, 0);
		sketchless = sqlite3_column_int64(sel, 1);
		intervals = sqlite3_column_int64(sel, 3);
		darknet = sqlite3_column_int64(sel, 4);
		const void *blob = sqlite3_column_blob(sel, 2);
		const char *why;
		if (blob && kz_hll_from_bytes(blob, (size_t)sqlite3_column_bytes(sel, 2), &h, &why))
			h = NULL; /* a damaged sketch restarts from this line */
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(sel);
		return fail(db, rc, err, errlen, "hub_stats_rollups");
	}
	sqlite3_reset(sel);
	packets += l->packets;
	intervals++;
	if (l->darknet_size > darknet)
		darknet = l->darknet_size;
	if (l->hll) {
		if (!h) {
			if (kz_hll_new(KZ_HLL_P_DEFAULT, &h))
				return -ENOMEM;
		}
		if (kz_hll_merge(h, l->hll)) {
			kz_hll_free(h);
			return -ENOMEM;
		}
	} else if (l->unique_sources > sketchless) {
		sketchless = l->unique_sources;
	}
	int64_t unique = sketchless;
	uint8_t *bytes = NULL;
	size_t nbytes = 0;
	if (h) {
		int64_t est = (int64_t)kz_hll_count(h);
		if (est > unique)
			unique = est;
		nbytes = kz_hll_serialized_size(h);
		bytes = malloc(nbytes);
		if (!bytes) {
			kz_hll_free(h);
			return -ENOMEM;
		}
		kz_hll_serialize(h, bytes);
		kz_hll_free(h);
	}
	sqlite3_bind_int64(up, 1, bin);
	sqlite3_bind_int64(up, 2, start);
	sqlite3_bind_text(up, 3, l->sensor, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 4, l->proto, -1, SQLITE_STATIC);
	sqlite3_bind_int(up, 5, l->port);
	sqlite3_bind_int64(up, 6, packets);
	sqlite3_bind_int64(up, 7, unique);
	sqlite3_bind_int64(up, 8, sketchless);
	if (bytes)
		sqlite3_bind_blob(up, 9, bytes, (int)nbytes, SQLITE_STATIC);
	else
		sqlite3_bind_null(up, 9);
	sqlite3_bind_int64(up, 10, darknet);
	sqlite3_bind_int64(up, 11, intervals);
	rc = sqlite3_step(up);
	sqlite3_reset(up);
	free(bytes);
	if (rc != SQLITE_DONE)
		return fail(db, rc, err, errlen, "hub_stats_rollups");
	return 0;
}

int kz_stats_store(sqlite3 *db, struct kz_stats_batch *b, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *ins = NULL, *sel = NULL, *up = NULL;
	int rc = sqlite3_prepare_v2(db,
	                            "INSERT INTO hub_stats_intervals(sensor, interval_start,"
	                            " interval_len, proto, port, packets, unique_sources,"
	                            " darknet_size, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
	                            " ?8, ?9) ON CONFLICT DO NOTHING",
	                            -1, &ins, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db,
		                        "SELECT packets, sketchless_max, sources_hll, intervals,"
		                        " darknet_size FROM hub_stats_rollups WHERE bin = ?1 AND"
		                        " start = ?2 AND sensor = ?3 AND proto = ?4 AND port = ?5",
		                        -1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		        db,
		        "INSERT OR REPLACE INTO hub_stats_rollups(bin, start, sensor,"
		        " proto, port, packets, unique_sources, sketchless_max,"
		        " sources_hll, darknet_size, intervals) VALUES (?1, ?2, ?3,"
		        " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
		        -1, &up, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(db, rc, err, errlen, "stats");
		goto out;
	}
	b->res.accepted = b->res.duplicates = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct stat_line *l = &b->v[i];
		sqlite3_bind_text(ins, 1, l->sensor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, l->interval_start);
		sqlite3_bind_int64(ins, 3, l->interval_len);
		sqlite3_bind_text(ins, 4, l->proto, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 5, l->port);
		sqlite3_bind_int64(ins, 6, l->packets);
		sqlite3_bind_int64(ins, 7, l->unique_sources);
		sqlite3_bind_int64(ins, 8, l->darknet_size);
		sqlite3_bind_int64(ins, 9, now);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE) {
			rc = fail(db, rc, err, errlen, "hub_stats_intervals");
			goto out;
		}
		if (sqlite3_changes(db) == 0) {
			b->res.duplicates++;
			continue;
		}
		for (int k = 0; k < KZ_STATS_BINS; k++)
			if ((rc = merge_rollup(db, sel, up, l, kz_stats_bins[k], err, errlen)))
				goto out;
		b->res.accepted++;
	}
	rc = 0;
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(sel);
	sqlite3_finalize(up);
	return rc;
}

/* One output row while aggregating across sensors. */
struct agg {
	int64_t start;
	char proto[12];
	int port;
	int64_t packets, sketchless;
	size_t sensors;
	struct kz_hll *h;
};

/* Appends the aggregated row across sensors and resets the aggregate. */
static int flush_row(json_t *series, struct agg *a)
{
	if (a->sensors == 0)
		return 0;
	char t[KZ_TIME_STRLEN];
	int64_t unique = a->sketchless;
	if (a->h && (int64_t)kz_hll_count(a->h) > unique)
		unique = (int64_t)kz_hll_count(a->h);
	if (kz_time_format(a->start, t))
		t[0] = '\0';
	json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:f}", "start", t, "proto", a->proto,
	                      "port", a->port, "packets", (json_int_t)a->packets, "unique_sources",
	                      (json_int_t)unique, "sensors", (json_int_t)a->sensors,
	                      "avg_packets_per_sensor", (double)a->packets / (double)a->sensors);
	kz_hll_free(a->h);
	a->h = NULL;
	a->sensors = 0;
	if (!o || json_array_append_new(series, o))
		return -ENOMEM;
	return 0;
}

int kz_stats_ports(sqlite3 *db, int64_t from, int64_t to, int64_t bin, json_t **out, char *err,
                   size_t errlen)
{
	sqlite3_stmt *st = NULL;
	*out = NULL;
	if (bin != 300 && bin != 3600 && bin != 86400) {
		snprintf(err, errlen, "bin: 300, 3600 or 86400 seconds (5m, 1h, 1d)");
		return -EINVAL;
	}
	int rc =
	        sqlite3_prepare_v2(db,
	                           "SELECT start, proto, port, packets, sketchless_max, sources_hll"
	                           " FROM hub_stats_rollups WHERE bin = ?1 AND start >= ?2 AND"
	                           " start < ?3 ORDER BY start, proto, port LIMIT 1000000",
	                           -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(db, rc, err, errlen, "hub_stats_rollups");
	sqlite3_bind_int64(st, 1, bin);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	json_t *series = json_array();
	struct agg a = { 0 };
	rc = series ? 0 : -ENOMEM;
	int step;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t start = sqlite3_column_int64(st, 0);
		const char *proto = (const char *)sqlite3_column_text(st, 1);
		int port = sqlite3_column_int(st, 2);
		if (!proto)
			proto = "";
		if (a.sensors &&
		    (a.start != start || a.port != port || strcmp(a.proto, proto) != 0))
			rc = flush_row(series, &a);
		if (rc)
			break;
		if (a.sensors == 0) {
			a.start = start;
			snprintf(a.proto, sizeof a.proto, "%s", proto);
			a.port = port;
			a.packets = a.sketchless = 0;
		}
		a.sensors++;
		a.packets += sqlite3_column_int64(st, 3);
		if (sqlite3_column_int64(st, 4) > a.sketchless)
			a.sketchless = sqlite3_column_int64(st, 4);
		const void *blob = sqlite3_column_blob(st, 5);
		if (blob) {
			struct kz_hll *h;
			const char *why;
			if (kz_hll_from_bytes(blob, (size_t)sqlite3_column_bytes(st, 5), &h,
			                      &why) == 0) {
				if (!a.h) {
					a.h = h;
				} else {
					rc = kz_hll_merge(a.h, h) ? -ENOMEM : 0;
					kz_hll_free(h);
				}
			}
		}
	}
	if (rc == 0)
		rc = flush_row(series, &a);
	kz_hll_free(a.h);
	sqlite3_finalize(st);
	if (rc) {
		json_decref(series);
		return rc;
	}
	char f[KZ_TIME_STRLEN], t[KZ_TIME_STRLEN];
	if (kz_time_format(from, f))
		f[0] = '\0';
	if (kz_time_format(to, t))
		t[0] = '\0';
	*out = json_pack("{s:I, s:s, s:s, s:o}", "bin", (json_int_t)bin, "from", f, "to", t,
	                 "series", series);
	return *out ? 0 : -ENOMEM;
}
