/*
 * Findings queries and lifecycle sweeps (see findings.h).
 *
 * Pages. All findings are listed newest row first by row id; an
 * AS-restricted page walks hub_finding_asns one AS at a time, highest AS
 * first and newest finding first within it, so each step is one index
 * range and a page costs O(limit) however many findings the store holds.
 * A finding attributed to several of the asked ASes (a multi-origin
 * prefix) is listed once, under the highest of them. The cursor is the
 * (AS, row id) of the last row returned.
 */
#include "findings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "encode.h"
#include "ipset.h"
#include "sightings.h"
#include "store.h"
#include "timefmt.h"
#include "tlp.h"

/* -------------------------------------------------------------- cursors */

#define CURSOR_VERSION 1
#define CURSOR_BYTES   15

void kz_cursor_encode(uint32_t asn, int64_t id, char out[KZ_CURSOR_STRLEN])
{
	uint8_t b[CURSOR_BYTES] = { CURSOR_VERSION, 0, 0 };
	for (int i = 0; i < 4; i++)
		b[3 + i] = (uint8_t)(asn >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		b[7 + i] = (uint8_t)((uint64_t)id >> (56 - 8 * i));
	char tmp[KZ_CURSOR_STRLEN];
	size_t n = kz_base64_encode(b, sizeof b, tmp);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
	out[n] = '\0';
}

int kz_cursor_decode(const char *s, uint32_t *asn, int64_t *id)
{
	char tmp[KZ_CURSOR_STRLEN];
	size_t n = strlen(s);
	if (n != 20)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+' || s[i] == '/')
			return -EINVAL;
		tmp[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	uint8_t b[CURSOR_BYTES];
	if (kz_base64_decode(tmp, n, b) != CURSOR_BYTES || b[0] != CURSOR_VERSION || b[1] || b[2])
		return -EINVAL;
	uint32_t a = 0;
	uint64_t v = 0;
	for (int i = 0; i < 4; i++)
		a = a << 8 | b[3 + i];
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[7 + i];
	if (v > INT64_MAX)
		return -EINVAL;
	*asn = a;
	*id = (int64_t)v;
	return 0;
}

/* ---------------------------------------------------------------- pages */

#define COLUMNS                                                                                    \
	"f.id, f.finding_id, f.ticket, f.kind, f.feed, f.taxonomy, f.type, f.identifier, f.ip,"    \
	" f.port, f.transport, f.application, f.status, f.asns, f.network, f.as_name, f.cc,"       \
	" f.region, f.city, f.first_seen, f.last_seen, f.count, f.state, f.state_since, f.tlp,"    \
	" f.last_notified, f.notified_channel, f.feedback, f.feedback_at, f.sightings, o.record"

/* The latest observation, for the finding's "detail": one primary-key
 * lookup per row (last_observation is that observation's row id). */
#define LATEST_OBS " LEFT JOIN hub_observations o ON o.id = f.last_observation"

/* The measurements a dashboard shows beside a finding, copied from its
 * latest record's extra.* fields. Credentials, banners and anything that
 * names a submitter stay out: the API's lists are not reports. */
static const char *const detail_keys[] = {
	"fingerprint_basis",
	"packets",
	"unique_destinations",
	"ports",
	"sensor",
	"start",
	"end",
	"max_ppm",
	"est_rate_pps",
	"sources",
	"baseline",
	"device",
	"run_id",
};

/* {"packets":118,...} from a stored record's text, or null. */
static json_t *detail_json(const unsigned char *record, size_t len)
{
	json_error_t je;
	json_t *rec = record ? json_loadb((const char *)record, len, JSON_ALLOW_NUL, &je) : NULL;
	json_t *d = rec ? json_object() : NULL;
	for (size_t i = 0; d && i < sizeof detail_keys / sizeof detail_keys[0]; i++) {
		char key[64];
		snprintf(key, sizeof key, "extra.%s", detail_keys[i]);
		json_t *v = json_object_get(rec, key);
		if (v)
			json_object_set(d, detail_keys[i], v);
	}
	json_decref(rec);
	return d ? d : json_null();
}

/* Column to JSON: text, a time in ISO 8601, or an integer; NULL stays null
 * so that every finding object has the same keys. */
static int set_text(json_t *o, const char *key, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	json_t *v = t ? json_string((const char *)t) : json_null();
	return json_object_set_new(o, key, v ? v : json_null());
}

static int set_time(json_t *o, const char *key, sqlite3_stmt *st, int col)
{
	char t[KZ_TIME_STRLEN];
	if (sqlite3_column_type(st, col) == SQLITE_NULL ||
	    kz_time_format(sqlite3_column_int64(st, col), t) != 0)
		return json_object_set_new(o, key, json_null());
	return json_object_set_new(o, key, json_string(t));
}

static int set_int(json_t *o, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_object_set_new(o, key, json_null());
	return json_object_set_new(o, key, json_integer(sqlite3_column_int64(st, col)));
}

/* The finding row at the statement's cursor as the API's JSON object. */
static json_t *row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = 0;
	bad |= set_text(o, "finding_id", st, 1);
	bad |= set_text(o, "ticket", st, 2);
	bad |= set_text(o, "kind", st, 3);
	bad |= set_text(o, "feed", st, 4);
	bad |= set_text(o, "taxonomy", st, 5);
	bad |= set_text(o, "type", st, 6);
	bad |= set_text(o, "identifier", st, 7);
	bad |= set_text(o, "ip", st, 8);
	bad |= set_int(o, "port", st, 9);
	bad |= set_text(o, "transport", st, 10);
	bad |= set_text(o, "application", st, 11);
	bad |= set_text(o, "status", st, 12);
	json_t *asns = json_array();
	const unsigned char *a = sqlite3_column_text(st, 13);
	for (const char *p = a ? (const char *)a : ""; asns && *p;) {
		json_array_append_new(asns, json_integer(strtoll(p, NULL, 10)));
		p = strchr(p, ',');
		p = p ? p + 1 : "";
	}
	bad |= json_object_set_new(o, "asns", asns ? asns : json_null());
	bad |= set_text(o, "network", st, 14);
	bad |= set_text(o, "as_name", st, 15);
	bad |= set_text(o, "geo", st, 16);
	bad |= set_text(o, "region", st, 17);
	bad |= set_text(o, "city", st, 18);
	bad |= set_time(o, "first_seen", st, 19);
	bad |= set_time(o, "last_seen", st, 20);
	bad |= set_int(o, "count", st, 21);
	bad |= set_text(o, "state", st, 22);
	bad |= set_time(o, "state_since", st, 23);
	bad |= json_object_set_new(
	        o, "tlp", json_string(kz_tlp_name((enum kz_tlp)sqlite3_column_int(st, 24))));
	bad |= set_time(o, "last_notified", st, 25);
	bad |= set_text(o, "notified_channel", st, 26);
	bad |= set_text(o, "feedback", st, 27);
	bad |= set_time(o, "feedback_at", st, 28);
	bad |= json_object_set_new(
	        o, "sightings",
	        json_integer((json_int_t)kz_sightings_count(sqlite3_column_blob(st, 29),
	                                                    (size_t)sqlite3_column_bytes(st, 29))));
	bad |= json_object_set_new(
	        o, "detail",
	        detail_json(sqlite3_column_text(st, 30), (size_t)sqlite3_column_bytes(st, 30)));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Appends the filters shared by both page shapes, numbering parameters
 * from ?3. */
static void filters_sql(char *buf, size_t len, const struct kz_findings_query *q)
{
	snprintf(buf, len, "%s%s%s", q->kind ? " AND f.kind = ?3" : "",
	         q->state ? " AND f.state = ?4" : "",
	         q->since != INT64_MIN ? " AND f.last_seen >= ?5" : "");
}

/* Binds what filters_sql() asked for; unused numbers stay unbound. */
static void bind_filters(sqlite3_stmt *st, const struct kz_findings_query *q)
{
	if (q->kind)
		sqlite3_bind_text(st, 3, q->kind, -1, SQLITE_STATIC);
	if (q->state)
		sqlite3_bind_text(st, 4, q->state, -1, SQLITE_STATIC);
	if (q->since != INT64_MIN)
		sqlite3_bind_int64(st, 5, q->since);
}

/* True when the finding's AS list holds one of the asked ASes above asn:
 * it was listed under that one already. */
static bool listed_higher(const unsigned char *asns, const uint32_t *set, size_t n, uint32_t asn)
{
	for (const char *p = asns ? (const char *)asns : ""; *p;) {
		unsigned long long a = strtoull(p, NULL, 10);
		if (a > asn && a <= UINT32_MAX) {
			uint32_t k = (uint32_t)a;
			for (size_t i = 0; i < n; i++)
				if (set[i] == k)
					return true;
		}
		p = strchr(p, ',');
		p = p ? p + 1 : "";
	}
	return false;
}

int kz_findings_page(sqlite3 *db, const struct kz_findings_query *q, json_t **out, char *err,
                     size_t errlen)
{
	char f[128], sql[1024];
	uint32_t cur_asn = UINT32_MAX;
	int64_t cur_id = INT64_MAX;
	size_t limit = q->limit ? q->limit : KZ_FINDINGS_LIMIT_DEFAULT;
	if (limit > KZ_FINDINGS_LIMIT_MAX)
		limit = KZ_FINDINGS_LIMIT_MAX;
	*out = NULL;
	if (q->cursor && kz_cursor_decode(q->cursor, &cur_asn, &cur_id) != 0) {
		snprintf(err, errlen, "cursor: not a cursor this hub gave out");
		return -EINVAL;
	}
	json_t *list = json_array();
	json_t *page = json_object();
	if (!list || !page) {
		json_decref(list);
		json_decref(page);
		return -ENOMEM;
	}
	filters_sql(f, sizeof f, q);
	int rc = 0;
	size_t got = 0;
	uint32_t last_asn = 0;
	int64_t last_id = 0;
	bool more = false;
	sqlite3_stmt *st = NULL;

	if (q->nasns == 0) {
		/* An operator token with no AS sees nothing, not everything:
		 * "all" must be asked for explicitly (admin). */
		if (!q->all)
			goto done;
		snprintf(sql, sizeof sql,
		         "SELECT " COLUMNS " FROM hub_findings f" LATEST_OBS
		         " WHERE f.id < ?1 AND ?2 = ?2%s"
		         " ORDER BY f.id DESC LIMIT %zu",
		         f, limit + 1);
		if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
			goto dberr;
		/* ?2 = ?2 keeps the parameter numbering shared with the AS query,
		 * so that bind_filters() serves both. */
		sqlite3_bind_int64(st, 1, cur_id);
		sqlite3_bind_int(st, 2, 0);
		bind_filters(st, q);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (got == limit) {
				more = true;
				break;
			}
			json_t *o = row_json(st);
			if (!o || json_array_append_new(list, o)) {
				rc = SQLITE_NOMEM;
				goto dberr;
			}
			last_id = sqlite3_column_int64(st, 0);
			got++;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto dberr;
		sqlite3_finalize(st);
		st = NULL;
		last_asn = 0;
		goto done;
	}

	/* With a state, the link's copy of it (kept by a trigger, store.c
	 * version 5) makes the page one range of hub_finding_asns_state
	 * instead of a walk over every finding of the AS; f.state is still
	 * checked, so a stale copy could only hide a row, never show one. */
	snprintf(sql, sizeof sql,
	         "SELECT " COLUMNS
	         " FROM hub_finding_asns a%s JOIN hub_findings f ON f.id = a.finding" LATEST_OBS
	         " WHERE a.asn = ?1 AND a.finding < ?2%s%s ORDER BY a.finding DESC",
	         q->state ? " INDEXED BY hub_finding_asns_state" : "",
	         q->state ? " AND a.state = ?4" : "", f);
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		goto dberr;
	/* Highest AS first, from the cursor's. */
	for (size_t k = q->nasns; k-- > 0 && !more;) {
		uint32_t asn = q->asns[k];
		if (asn > cur_asn)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, asn);
		sqlite3_bind_int64(st, 2, asn == cur_asn ? cur_id : INT64_MAX);
		bind_filters(st, q);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			/* Shared by several asked ASes: list it once, under the
			 * highest, which came first. */
			if (listed_higher(sqlite3_column_text(st, 13), q->asns, q->nasns, asn))
				continue;
			if (got == limit) {
				more = true;
				break;
			}
			json_t *o = row_json(st);
			if (!o || json_array_append_new(list, o)) {
				rc = SQLITE_NOMEM;
				goto dberr;
			}
			last_asn = asn;
			last_id = sqlite3_column_int64(st, 0);
			got++;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto dberr;
	}
	sqlite3_finalize(st);
	st = NULL;
done:
	if (more) {
		char c[KZ_CURSOR_STRLEN];
		kz_cursor_encode(last_asn, last_id, c);
		json_object_set_new(page, "next_cursor", json_string(c));
	} else {
		json_object_set_new(page, "next_cursor", json_null());
	}
	json_object_set_new(page, "findings", list);
	*out = page;
	return 0;
dberr:
	snprintf(err, errlen, "findings: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	json_decref(list);
	json_decref(page);
	return kz_store_errno(rc) ? kz_store_errno(rc) : -EIO;
}

/* ------------------------------------------------------------- feedback */

static const char *const feedback_names[] = { "acknowledged", "fixed", "false-positive" };

const char *kz_feedback_name(enum kz_feedback f)
{
	return (unsigned)f < 3 ? feedback_names[f] : "";
}

int kz_feedback_parse(const char *s, enum kz_feedback *out)
{
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(s, feedback_names[i]) == 0) {
			*out = (enum kz_feedback)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* A failed statement as "what: why" and the errno to return. */
static int exec_fail(sqlite3 *db, int rc, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	return kz_store_errno(rc) ? kz_store_errno(rc) : -EIO;
}

/* True when the finding (row id) is attributed to one of asns. */
static int owned_by(sqlite3 *db, int64_t finding, const uint32_t *asns, size_t n, bool *owned)
{
	sqlite3_stmt *st;
	*owned = false;
	int rc = sqlite3_prepare_v2(
	        db, "SELECT 1 FROM hub_finding_asns WHERE asn = ?1 AND finding = ?2", -1, &st,
	        NULL);
	if (rc != SQLITE_OK)
		return rc;
	for (size_t i = 0; i < n && !*owned; i++) {
		sqlite3_bind_int64(st, 1, asns[i]);
		sqlite3_bind_int64(st, 2, finding);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*owned = true;
		else if (rc != SQLITE_DONE)
			break;
		sqlite3_reset(st);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* The row id of a finding id; returns SQLITE_ROW, SQLITE_DONE or an error. */
static int finding_row(sqlite3 *db, const char *finding_id, int64_t *id)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT id FROM hub_findings WHERE finding_id = ?1", -1,
	                            &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, finding_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc;
}

int kz_findings_feedback(sqlite3 *db, const char *finding_id, enum kz_feedback fb,
                         const char *comment, const char *token_name, const char *role,
                         const uint32_t *asns, size_t nasns, int64_t now, char *err, size_t errlen)
{
	int64_t id = 0;
	int rc = finding_row(db, finding_id, &id);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return exec_fail(db, rc, err, errlen, "hub_findings");
	/* Checked here, in the writer's transaction, not by the HTTP thread:
	 * the attribution may have changed since the request was parsed. */
	if (asns) {
		bool owned;
		if ((rc = owned_by(db, id, asns, nasns, &owned)) != SQLITE_OK)
			return exec_fail(db, rc, err, errlen, "hub_finding_asns");
		if (!owned)
			return -EACCES;
	}
	sqlite3_stmt *st;
	rc = sqlite3_prepare_v2(db,
	                        "INSERT INTO hub_feedback(finding, at, token_name, role, feedback,"
	                        " comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return exec_fail(db, rc, err, errlen, "hub_feedback");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, token_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, kz_feedback_name(fb), -1, SQLITE_STATIC);
	if (comment)
		sqlite3_bind_text(st, 6, comment, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return exec_fail(db, rc, err, errlen, "hub_feedback");
	rc = sqlite3_prepare_v2(db,
	                        "UPDATE hub_findings SET feedback = ?2, feedback_at = ?3,"
	                        " updated = ?3 WHERE id = ?1",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK)
		return exec_fail(db, rc, err, errlen, "hub_findings");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, kz_feedback_name(fb), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return exec_fail(db, rc, err, errlen, "hub_findings");
	return 0;
}

/* ------------------------------------------------------ lifecycle moves */

int kz_findings_log_transition(sqlite3 *db, int64_t finding, int64_t at, enum kz_fstate from,
                               enum kz_fstate to, const char *cause)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
	                            "INSERT INTO hub_transitions(finding, at, from_state, to_state,"
	                            " cause) VALUES (?1, ?2, ?3, ?4, ?5)",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return kz_store_errno(rc);
	sqlite3_bind_int64(st, 1, finding);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_text(st, 3, kz_fstate_name(from), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kz_fstate_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, cause, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : kz_store_errno(rc);
}

/* A stored state name (unknown names read as NONE). */
static enum kz_fstate parse_state(const unsigned char *s)
{
	enum kz_fstate st = KZ_FSTATE_NONE;
	if (s && kz_fstate_parse((const char *)s, &st) != 0)
		st = KZ_FSTATE_NONE;
	return st;
}

/* Selected columns for a lifecycle move: id, kind, state, base_state, weak,
 * unreachable_runs. */
#define LC_COLUMNS "id, kind, state, base_state, weak, unreachable_runs"

/* Reads LC_COLUMNS at the statement's row into a lifecycle. */
static void read_lc(sqlite3_stmt *st, struct kz_lc *lc, bool *survey)
{
	const unsigned char *k = sqlite3_column_text(st, 1);
	*survey = k && strcmp((const char *)k, "survey") == 0;
	lc->state = parse_state(sqlite3_column_text(st, 2));
	lc->base = parse_state(sqlite3_column_text(st, 3));
	lc->weak = sqlite3_column_int(st, 4) != 0;
	lc->unreachable = (uint32_t)sqlite3_column_int64(st, 5);
}

/* Writes a finding's lifecycle back and logs the move when it changed. */
static int save_lc(sqlite3 *db, sqlite3_stmt *upd, int64_t id, const struct kz_lc *lc,
                   enum kz_fstate before, int64_t now, const char *cause)
{
	sqlite3_bind_int64(upd, 1, id);
	sqlite3_bind_text(upd, 2, kz_fstate_name(lc->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(upd, 3, kz_fstate_name(lc->base), -1, SQLITE_STATIC);
	sqlite3_bind_int(upd, 4, lc->weak ? 1 : 0);
	sqlite3_bind_int64(upd, 5, lc->unreachable);
	sqlite3_bind_int64(upd, 6, now);
	int rc = sqlite3_step(upd);
	sqlite3_reset(upd);
	if (rc != SQLITE_DONE)
		return rc;
	if (lc->state != before &&
	    kz_findings_log_transition(db, id, now, before, lc->state, cause))
		return SQLITE_ERROR;
	return SQLITE_OK;
}

#define SAVE_LC_SQL                                                                                \
	"UPDATE hub_findings SET state = ?2, base_state = ?3, weak = ?4, unreachable_runs = ?5,"   \
	" state_since = CASE WHEN state = ?2 THEN state_since ELSE ?6 END, updated = ?6"

int kz_findings_mark_notified(sqlite3 *db, const char *const *finding_ids, size_t n,
                              const char *channel, int64_t at, size_t *changed, char *err,
                              size_t errlen)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	char cause[96];
	size_t moved = 0;
	snprintf(cause, sizeof cause, "notified by %s", channel);
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT " LC_COLUMNS " FROM hub_findings WHERE finding_id = ?1",
	                            -1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db,
		                        SAVE_LC_SQL ", last_notified = ?7, notified_channel = ?8"
		                                    " WHERE id = ?1",
		                        -1, &upd, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
		sqlite3_bind_text(sel, 1, finding_ids[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(sel);
		if (rc == SQLITE_DONE) {
			sqlite3_reset(sel);
			rc = SQLITE_OK;
			continue;
		}
		if (rc != SQLITE_ROW)
			break;
		struct kz_lc lc;
		bool survey;
		int64_t id = sqlite3_column_int64(sel, 0);
		read_lc(sel, &lc, &survey);
		sqlite3_reset(sel);
		enum kz_fstate before = lc.state;
		kz_lc_apply(&lc, survey ? KZ_LC_SURVEY : KZ_LC_SIGHTINGS, KZ_LC_NOTIFIED);
		sqlite3_bind_int64(upd, 7, at);
		sqlite3_bind_text(upd, 8, channel, -1, SQLITE_STATIC);
		rc = save_lc(db, upd, id, &lc, before, at, cause);
		if (lc.state != before)
			moved++;
	}
	if (rc != SQLITE_OK)
		rc = exec_fail(db, rc, err, errlen, "mark notified");
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	if (changed)
		*changed = moved;
	return rc;
}

int kz_findings_expire(sqlite3 *db, int64_t now, int64_t inactive_after, size_t *changed, char *err,
                       size_t errlen)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	size_t moved = 0;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT " LC_COLUMNS " FROM hub_findings WHERE state = 'active'"
	                            " AND last_seen < ?1",
	                            -1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, SAVE_LC_SQL " WHERE id = ?1", -1, &upd, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(sel, 1, now - inactive_after);
		while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
			struct kz_lc lc;
			bool survey;
			int64_t id = sqlite3_column_int64(sel, 0);
			read_lc(sel, &lc, &survey);
			enum kz_fstate before = lc.state;
			kz_lc_apply(&lc, KZ_LC_SIGHTINGS, KZ_LC_STALE);
			if (lc.state == before)
				continue;
			if ((rc = save_lc(db, upd, id, &lc, before, now, "no sighting")) !=
			    SQLITE_OK)
				break;
			moved++;
		}
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		rc = exec_fail(db, rc, err, errlen, "inactive findings");
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	if (changed)
		*changed = moved;
	return rc;
}

/* ------------------------------------------------------------- coverage */

#define PORTS_MAX 4096

struct port_app {
	int port;
	char app[16]; /* "" when the run named no protocol */
};

/* Adds one "23", "23/telnet" or 23 to the list. */
static void add_port(struct port_app *v, size_t *n, const char *text, json_int_t num)
{
	if (*n >= PORTS_MAX)
		return;
	struct port_app p = { -1, "" };
	if (text) {
		char app[16] = "";
		int port = -1;
		if (sscanf(text, "%d/%15[a-z0-9-]", &port, app) >= 1) {
			p.port = port;
			snprintf(p.app, sizeof p.app, "%s", app);
		}
	} else {
		p.port = (int)num;
	}
	if (p.port >= 0 && p.port <= 65535)
		v[(*n)++] = p;
}

/* Ports from the header's extra.ports as stored (JSON text): an array of
 * numbers or "port/app" strings, or one string "23/telnet,22/ssh". */
static size_t parse_ports(const char *text, struct port_app *v)
{
	size_t n = 0;
	json_error_t je;
	json_t *j = text ? json_loads(text, JSON_DECODE_ANY, &je) : NULL;
	if (json_is_array(j)) {
		size_t i;
		json_t *e;
		json_array_foreach(j, i, e)
		{
			if (json_is_integer(e))
				add_port(v, &n, NULL, json_integer_value(e));
			else if (json_is_string(e))
				add_port(v, &n, json_string_value(e), 0);
		}
	} else if (json_is_string(j)) {
		char *copy = strdup(json_string_value(j));
		char *save = NULL;
		for (char *tok = copy ? strtok_r(copy, ", ", &save) : NULL; tok;
		     tok = strtok_r(NULL, ", ", &save))
			add_port(v, &n, tok, 0);
		free(copy);
	}
	json_decref(j);
	return n;
}

/* The scope from the header's extra.scope (JSON text): an array of CIDRs or
 * addresses, or one string of them separated by commas or blanks. */
static int parse_scope(const char *text, struct kz_ipset **out)
{
	json_error_t je;
	json_t *j = text ? json_loads(text, JSON_DECODE_ANY, &je) : NULL;
	struct kz_ipset *s = NULL;
	int rc = -EINVAL;
	*out = NULL;
	if (!j || kz_ipset_new(&s))
		goto out;
	json_t *list = j;
	if (json_is_string(j)) {
		list = json_array();
		char *copy = strdup(json_string_value(j));
		char *save = NULL;
		for (char *tok = copy ? strtok_r(copy, ", \t\n", &save) : NULL; tok && list;
		     tok = strtok_r(NULL, ", \t\n", &save))
			json_array_append_new(list, json_string(tok));
		free(copy);
	}
	if (!json_is_array(list))
		goto out;
	size_t i;
	json_t *e;
	rc = 0;
	json_array_foreach(list, i, e)
	{
		struct kz_cidr c;
		const char *why;
		bool overlapped;
		if (!json_is_string(e) || kz_cidr_parse(json_string_value(e), &c, &why) ||
		    kz_ipset_add_cidr(s, &c, &overlapped)) {
			rc = -EINVAL;
			break;
		}
	}
	if (list != j)
		json_decref(list);
out:
	json_decref(j);
	if (rc == 0 && s) {
		*out = s;
		return 0;
	}
	kz_ipset_free(s);
	return rc ? rc : -ENOMEM;
}

struct sweep {
	char *run_ids[64];
	size_t n;
	int64_t start;
	char *scope;
	char *ports;
};

/* Frees what collect_sweep() copied. */
static void sweep_free(struct sweep *sw)
{
	for (size_t i = 0; i < sw->n; i++)
		free(sw->run_ids[i]);
	free(sw->scope);
	free(sw->ports);
}

/* A text column copied (NULL stays NULL). */
static char *dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? strdup((const char *)t) : NULL;
}

/* Collects the finished runs of run_id's sweep. Returns 1 when the sweep is
 * complete and not yet covered, 0 when coverage must wait or was done. */
static int collect_sweep(sqlite3 *db, const char *run_id, struct sweep *sw)
{
	sqlite3_stmt *st;
	memset(sw, 0, sizeof *sw);
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT seed, scope_digest, shard_count, covered FROM hub_runs"
	                            " WHERE run_id = ?1 AND finished = 1",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -kz_store_errno(rc) > 0 ? kz_store_errno(rc) : -EIO;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 3)) {
		sqlite3_finalize(st);
		return 0;
	}
	char *seed = dup_col(st, 0), *digest = dup_col(st, 1);
	int64_t count = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	/* Why shards wait for each other: a shard probes only its part of the
	 * permutation, and which part an address falls in is known only to
	 * the scanner; the union of all shards covers the whole scope. */
	if (count <= 1) {
		rc = sqlite3_prepare_v2(db,
		                        "SELECT run_id, started, scope, ports FROM hub_runs"
		                        " WHERE run_id = ?1",
		                        -1, &st, NULL);
		if (rc == SQLITE_OK)
			sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	} else {
		/* Shards of one sweep share the seed, the scope and the count;
		 * the sweep is complete when every shard index has finished. */
		rc = sqlite3_prepare_v2(db,
		                        "SELECT run_id, started, scope, ports, shard_index FROM"
		                        " hub_runs WHERE finished = 1 AND covered = 0 AND"
		                        " shard_count = ?1 AND seed IS ?2 AND scope_digest IS ?3"
		                        " ORDER BY shard_index",
		                        -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, count);
			sqlite3_bind_text(st, 2, seed, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, digest, -1, SQLITE_TRANSIENT);
		}
	}
	free(seed);
	free(digest);
	if (rc != SQLITE_OK)
		return kz_store_errno(rc);
	uint64_t seen = 0;
	size_t distinct = 0;
	sw->start = INT64_MAX;
	while (sqlite3_step(st) == SQLITE_ROW && sw->n < 64) {
		if (count > 1) {
			int64_t idx = sqlite3_column_int64(st, 4);
			if (idx >= 0 && idx < 64 && !(seen & (1ull << idx))) {
				seen |= 1ull << idx;
				distinct++;
			}
		}
		sw->run_ids[sw->n++] = dup_col(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 1) < sw->start)
			sw->start = sqlite3_column_int64(st, 1);
		if (!sw->scope)
			sw->scope = dup_col(st, 2);
		if (!sw->ports)
			sw->ports = dup_col(st, 3);
	}
	sqlite3_finalize(st);
	if (count > 1 && (count > 64 || distinct < (size_t)count))
		return 0;
	return sw->n > 0 ? 1 : 0;
}

int kz_findings_apply_coverage(sqlite3 *db, const char *run_id, int64_t now, size_t *marked,
                               char *err, size_t errlen)
{
	struct sweep sw;
	struct kz_ipset *scope = NULL;
	struct port_app *ports = NULL;
	sqlite3_stmt *sel = NULL, *upd = NULL, *mark = NULL;
	char cause[160];
	*marked = 0;
	int rc = collect_sweep(db, run_id, &sw);
	if (rc <= 0) {
		sweep_free(&sw);
		if (rc < 0)
			snprintf(err, errlen, "coverage of run %s: %s", run_id, sqlite3_errmsg(db));
		return rc;
	}
	snprintf(cause, sizeof cause, "not reachable in run %.120s", run_id);
	ports = calloc(PORTS_MAX, sizeof *ports);
	if (!ports) {
		rc = -ENOMEM;
		goto out;
	}
	/* The first shard's ports: shards of one sweep share --ports (as they
	 * share the seed and the scope digest that grouped them). */
	size_t nports = parse_ports(sw.ports, ports);
	/* Without a scope and ports the hub cannot know what the run covered:
	 * nothing is called unreachable. */
	bool usable = sw.start != INT64_MAX && nports > 0 && parse_scope(sw.scope, &scope) == 0;
	if (usable) {
		rc = sqlite3_prepare_v2(
		        db,
		        "SELECT " LC_COLUMNS ", ip, port, application FROM hub_findings"
		        " WHERE kind = 'survey' AND state <> 'gone' AND last_seen < ?1",
		        -1, &sel, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(db, SAVE_LC_SQL " WHERE id = ?1", -1, &upd, NULL);
		if (rc != SQLITE_OK)
			goto dberr;
		sqlite3_bind_int64(sel, 1, sw.start);
		while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
			const unsigned char *ip = sqlite3_column_text(sel, 6);
			int port = sqlite3_column_type(sel, 7) == SQLITE_NULL
			                   ? -1
			                   : sqlite3_column_int(sel, 7);
			const unsigned char *app = sqlite3_column_text(sel, 8);
			struct kz_addr a;
			const char *why;
			/* Outside the scope, the run said nothing about it. */
			if (!ip || kz_addr_parse((const char *)ip, &a, &why) ||
			    !kz_ipset_contains(scope, a))
				continue;
			bool probed = false;
			for (size_t i = 0; i < nports && !probed; i++)
				probed = ports[i].port == port &&
				         (!ports[i].app[0] || !app ||
				          strcmp(ports[i].app, (const char *)app) == 0);
			if (!probed)
				continue;
			struct kz_lc lc;
			bool survey;
			int64_t id = sqlite3_column_int64(sel, 0);
			read_lc(sel, &lc, &survey);
			enum kz_fstate before = lc.state;
			kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE);
			if ((rc = save_lc(db, upd, id, &lc, before, now, cause)) != SQLITE_OK)
				goto dberr;
			(*marked)++;
		}
		if (rc != SQLITE_DONE)
			goto dberr;
	}
	rc = sqlite3_prepare_v2(db, "UPDATE hub_runs SET covered = 1 WHERE run_id = ?1", -1, &mark,
	                        NULL);
	if (rc != SQLITE_OK)
		goto dberr;
	for (size_t i = 0; i < sw.n; i++) {
		sqlite3_bind_text(mark, 1, sw.run_ids[i], -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(mark)) != SQLITE_DONE)
			goto dberr;
		sqlite3_reset(mark);
	}
	rc = 0;
	goto out;
dberr:
	rc = exec_fail(db, rc, err, errlen, "coverage");
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(mark);
	kz_ipset_free(scope);
	free(ports);
	sweep_free(&sw);
	return rc;
}

int kz_findings_count_states(sqlite3 *db, uint64_t counts[KZ_FSTATE_COUNT])
{
	sqlite3_stmt *st;
	memset(counts, 0, sizeof(uint64_t) * KZ_FSTATE_COUNT);
	int rc = sqlite3_prepare_v2(db, "SELECT state, count(*) FROM hub_findings GROUP BY state",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return kz_store_errno(rc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		enum kz_fstate s = parse_state(sqlite3_column_text(st, 0));
		counts[s] += (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : kz_store_errno(rc);
}
