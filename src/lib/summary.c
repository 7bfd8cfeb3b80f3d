/*
 * Dashboard summary (see summary.h). Three GROUP BY queries over the
 * findings (by kind and state, by country, by AS) and two index lookups per
 * bin size on the stats rollups' primary key (bin, start, ...) for the
 * range each size covers.
 *
 * The grouped counts scan the findings (or, for an operator, its ASes'
 * rows of hub_finding_asns): linear in the findings counted, which is
 * what totals cost; the pages of findings themselves stay O(limit).
 * Counts per AS list a multi-origin finding under each of its ASes; the
 * counts by kind and by country count it once.
 */
#include "summary.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "timefmt.h"

static int db_fail(sqlite3 *db, int rc, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	return kz_store_errno(rc) ? kz_store_errno(rc) : -EIO;
}

static json_t *time_json(int64_t t)
{
	char s[KZ_TIME_STRLEN];
	return kz_time_format(t, s) == 0 ? json_string(s) : json_null();
}

/* One value of a bin's start: min or max over the bin. *found is false
 * when the bin has no rows. */
static int rollup_edge(sqlite3 *db, const char *agg, int64_t bin, int64_t *v, bool *found,
                       char *err, size_t errlen)
{
	char sql[128];
	sqlite3_stmt *st = NULL;
	snprintf(sql, sizeof sql, "SELECT %s(start) FROM hub_stats_rollups WHERE bin = ?1", agg);
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, err, errlen, "hub_stats_rollups");
	sqlite3_bind_int64(st, 1, bin);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
	if (*found)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_fail(db, rc, err, errlen, "hub_stats_rollups");
	return 0;
}

/* The range each rollup size covers, {"5m":{"first":T,"end":T},...}: from
 * the start of its oldest bin to the end of its newest (they differ by
 * retention), or null for a size with no rows. */
static int stats_range(sqlite3 *db, json_t **out, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		int64_t bin;
	} bins[] = { { "5m", 300 }, { "1h", 3600 }, { "1d", 86400 } };
	json_t *o = json_object();
	int rc = o ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < sizeof bins / sizeof bins[0]; i++) {
		int64_t first = 0, last = 0;
		bool found;
		if ((rc = rollup_edge(db, "min", bins[i].bin, &first, &found, err, errlen)))
			break;
		if (found && (rc = rollup_edge(db, "max", bins[i].bin, &last, &found, err, errlen)))
			break;
		json_t *r = found ? json_pack("{s:o, s:o}", "first", time_json(first), "end",
		                              time_json(last + bins[i].bin))
		                  : json_null();
		if (!r || json_object_set_new(o, bins[i].name, r))
			rc = -ENOMEM;
	}
	if (rc)
		json_decref(o);
	*out = rc ? NULL : o;
	return rc;
}

/* counts[kind][state] = n */
static int add_count(json_t *counts, const char *kind, const char *state, int64_t n)
{
	json_t *k = json_object_get(counts, kind);
	if (!k) {
		k = json_object();
		if (!k || json_object_set_new(counts, kind, k))
			return -ENOMEM;
	}
	return json_object_set_new(k, state, json_integer(n)) ? -ENOMEM : 0;
}

static void bind_asns(sqlite3_stmt *st, const struct kz_summary_query *q)
{
	for (size_t i = 0; i < q->nasns; i++)
		sqlite3_bind_int64(st, (int)i + 1, q->asns[i]);
}

/* "?1,?2,..." for the AS list. */
static void placeholders(char *buf, size_t len, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s?%zu", i ? "," : "", i + 1);
}

/* Makes the object of a new group ({"cc":...} or {"asn":...,"name":...})
 * from the row at the statement's cursor. */
typedef json_t *(*group_fn)(sqlite3_stmt *st);

/* True when the row's first `keys` columns equal the previous group's. */
static bool same_group(sqlite3_stmt *st, int keys, json_t *prev_key)
{
	if (!prev_key)
		return false;
	for (int i = 0; i < keys; i++) {
		json_t *pk = json_array_get(prev_key, (size_t)i);
		int t = sqlite3_column_type(st, i);
		if (t == SQLITE_NULL || json_is_null(pk)) {
			if (!(t == SQLITE_NULL && json_is_null(pk)))
				return false;
		} else if (t == SQLITE_INTEGER) {
			if (!json_is_integer(pk) ||
			    json_integer_value(pk) != sqlite3_column_int64(st, i))
				return false;
		} else if (!json_is_string(pk) ||
		           strcmp(json_string_value(pk),
		                  (const char *)sqlite3_column_text(st, i)) != 0) {
			return false;
		}
	}
	return true;
}

/* The row's first `keys` columns, to compare the next rows with. */
static json_t *group_key(sqlite3_stmt *st, int keys)
{
	json_t *k = json_array();
	for (int i = 0; k && i < keys; i++) {
		int t = sqlite3_column_type(st, i);
		json_array_append_new(
		        k, t == SQLITE_NULL ? json_null()
		           : t == SQLITE_INTEGER
		                   ? json_integer(sqlite3_column_int64(st, i))
		                   : json_string((const char *)sqlite3_column_text(st, i)));
	}
	return k;
}

/* Runs one grouped query whose last three columns are kind, state and
 * count and whose first `keys` columns (0 or more) name the group, rows
 * ordered by the group. With keys 0 the counts go into target; otherwise
 * each group becomes an object of make_group's, with its "counts", appended
 * to the array target. *total (may be NULL) adds up the counts. */
static int grouped(sqlite3 *db, const char *sql, const struct kz_summary_query *q, int keys,
                   group_fn make_group, json_t *target, int64_t *total, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	json_t *prev = NULL, *counts = keys ? NULL : target;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, err, errlen, "hub_findings");
	bind_asns(st, q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, keys);
		const char *state = (const char *)sqlite3_column_text(st, keys + 1);
		int64_t n = sqlite3_column_int64(st, keys + 2);
		if (keys && !same_group(st, keys, prev)) {
			json_decref(prev);
			prev = group_key(st, keys);
			json_t *g = make_group(st);
			counts = json_object();
			if (!prev || !g || !counts || json_object_set_new(g, "counts", counts) ||
			    json_array_append_new(target, g)) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
		if (add_count(counts, kind ? kind : "", state ? state : "", n)) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (total)
			*total += n;
	}
	json_decref(prev);
	if (rc != SQLITE_DONE) {
		rc = rc == SQLITE_NOMEM ? -ENOMEM : db_fail(db, rc, err, errlen, "hub_findings");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return 0;
}

static json_t *country_group(sqlite3_stmt *st)
{
	const unsigned char *cc = sqlite3_column_text(st, 0);
	return json_pack("{s:o}", "cc", cc ? json_string((const char *)cc) : json_null());
}

static json_t *asn_group(sqlite3_stmt *st)
{
	const unsigned char *name = sqlite3_column_text(st, 1);
	return json_pack("{s:I, s:o}", "asn", (json_int_t)sqlite3_column_int64(st, 0), "name",
	                 name ? json_string((const char *)name) : json_null());
}

static int findings_summary(sqlite3 *db, const struct kz_summary_query *q, json_t **out, char *err,
                            size_t errlen)
{
	char in[KZ_SUMMARY_MAX_ASNS * 7 + 8], scope[sizeof in + 96], asn_scope[sizeof in + 32];
	char sql[sizeof in * 2 + 512];
	int64_t total = 0;
	int rc;
	placeholders(in, sizeof in, q->nasns);
	snprintf(scope, sizeof scope,
	         q->nasns
	                 ? " WHERE f.id IN (SELECT finding FROM hub_finding_asns WHERE asn IN (%s))"
	                 : "%s",
	         q->nasns ? in : "");
	snprintf(asn_scope, sizeof asn_scope, q->nasns ? " WHERE a.asn IN (%s)" : "%s",
	         q->nasns ? in : "");
	json_t *by_kind = json_object(), *by_cc = json_array(), *by_asn = json_array();
	*out = NULL;
	if (!by_kind || !by_cc || !by_asn) {
		rc = -ENOMEM;
		goto fail;
	}
	snprintf(sql, sizeof sql,
	         "SELECT f.kind, f.state, count(*) FROM hub_findings f%s GROUP BY 1, 2", scope);
	if ((rc = grouped(db, sql, q, 0, NULL, by_kind, &total, err, errlen)))
		goto fail;
	snprintf(sql, sizeof sql,
	         "SELECT f.cc, f.kind, f.state, count(*) FROM hub_findings f%s"
	         " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
	         scope);
	if ((rc = grouped(db, sql, q, 1, country_group, by_cc, NULL, err, errlen)))
		goto fail;
	snprintf(sql, sizeof sql,
	         "SELECT a.asn, op.name, f.kind, f.state, count(*) FROM hub_finding_asns a"
	         " JOIN hub_findings f ON f.id = a.finding"
	         " LEFT JOIN hub_operators op ON op.asn = a.asn%s"
	         " GROUP BY a.asn, f.kind, f.state ORDER BY a.asn, f.kind, f.state",
	         asn_scope);
	if ((rc = grouped(db, sql, q, 2, asn_group, by_asn, NULL, err, errlen)))
		goto fail;
	*out = json_pack("{s:I, s:o, s:o, s:o}", "total", (json_int_t)total, "by_kind", by_kind,
	                 "by_country", by_cc, "by_asn", by_asn);
	return *out ? 0 : -ENOMEM;
fail:
	json_decref(by_kind);
	json_decref(by_cc);
	json_decref(by_asn);
	return rc;
}

int kz_summary(sqlite3 *db, const struct kz_summary_query *q, json_t **out, char *err,
               size_t errlen)
{
	json_t *stats = NULL, *findings = NULL;
	int rc;
	*out = NULL;
	if (q->nasns > KZ_SUMMARY_MAX_ASNS) {
		snprintf(err, errlen, "asn: at most %d ASes", KZ_SUMMARY_MAX_ASNS);
		return -EINVAL;
	}
	if ((rc = stats_range(db, &stats, err, errlen)))
		return rc;
	if (q->findings && (rc = findings_summary(db, q, &findings, err, errlen))) {
		json_decref(stats);
		return rc;
	}
	*out = json_pack("{s:o, s:o}", "stats", stats, "findings",
	                 findings ? findings : json_null());
	return *out ? 0 : -ENOMEM;
}
