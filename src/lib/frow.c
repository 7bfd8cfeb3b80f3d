/*
 * Finding rows for reports and feeds (see frow.h).
 *
 * The statement walks hub_finding_asns by its primary key (asn, finding)
 * for one AS, or hub_findings by row id for all, and joins the latest
 * observation by its row id: SQLite reads the three b-trees in step, never
 * a query per finding. Filters that SQL can apply cheaply (times, TLP, the
 * notification rule) are in the WHERE clause; the rest (severity) is C.
 */
#include "frow.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recfields.h"

#define COLS                                                                                       \
	"f.id, f.finding_id, f.ticket, f.kind, f.feed, f.taxonomy, f.type, f.identifier, f.ip,"    \
	" f.port, f.transport, f.application, f.status, f.asns, f.network, f.as_name, f.cc,"       \
	" f.region, f.city, f.first_seen, f.last_seen, f.count, f.state, f.state_since,"           \
	" f.updated, f.tlp, f.weak, f.last_notified, f.feedback, f.feedback_at, f.sightings"
#define NCOLS 31

/* Records longer than this are not read for report fields (the hub caps a
 * line at 1 MiB; this is the same bound). */
#define RECORD_MAX (1u << 20)

struct kz_frows {
	sqlite3_stmt *st;
	bool with_record;
	char *arena;
	size_t arena_cap;
	json_t *tree; /* the jansson fallback's record, kept until the next row */
	struct kz_recfield want[16];
};

int kz_frows_open(sqlite3 *db, const struct kz_frows_query *q, struct kz_frows **out, char *err,
                  size_t errlen)
{
	char sql[1600];
	const char *rec = q->with_record ? ", o.record, o.anonymous" : "";
	const char *join =
	        q->with_record ? " LEFT JOIN hub_observations o ON o.id = f.last_observation" : "";
	/* Open findings that were never reported, were reopened, or whose
	 * last report is older than the operator's re-notification interval. */
	const char *due = q->due_only ? " AND f.state IN ('new', 'notified', 'persisting',"
	                                " 'reopened', 'active') AND (f.state IN ('new', 'reopened')"
	                                " OR f.last_notified IS NULL OR f.last_notified <= ?5)"
	                              : "";
	int n;
	*out = NULL;
	if (q->asn)
		n = snprintf(sql, sizeof sql,
		             "SELECT " COLS "%s FROM hub_finding_asns a JOIN hub_findings f"
		             " ON f.id = a.finding%s WHERE a.asn = ?1 AND f.last_seen >= ?2"
		             " AND f.first_seen >= ?3 AND f.first_seen < ?4 AND f.tlp <= ?6%s"
		             " ORDER BY a.finding",
		             rec, join, due);
	else
		n = snprintf(sql, sizeof sql,
		             "SELECT " COLS "%s FROM hub_findings f%s WHERE f.last_seen >= ?2"
		             " AND f.first_seen >= ?3 AND f.first_seen < ?4 AND f.tlp <= ?6%s"
		             " ORDER BY f.id",
		             rec, join, due);
	if (n < 0 || (size_t)n >= sizeof sql) {
		snprintf(err, errlen, "findings: query too long");
		return -EINVAL;
	}
	struct kz_frows *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->with_record = q->with_record;
	/* Reports read a large part of the file, page by page: mapping it
	 * saves a read(2) and a copy per page (a third of the time of every
	 * operator's report over a million findings). Harmless if the
	 * connection maps already; SQLite caps it at its compile-time
	 * maximum. */
	sqlite3_exec(db, "PRAGMA mmap_size = 17179869184", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, sql, -1, &r->st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "findings: %s", sqlite3_errmsg(db));
		free(r);
		return -EIO;
	}
	if (q->asn)
		sqlite3_bind_int64(r->st, 1, q->asn);
	sqlite3_bind_int64(r->st, 2, q->since);
	sqlite3_bind_int64(r->st, 3, q->first_from);
	sqlite3_bind_int64(r->st, 4, q->first_until);
	if (q->due_only)
		sqlite3_bind_int64(r->st, 5, q->renotify_before);
	sqlite3_bind_int(r->st, 6, q->tlp_max == KZ_TLP_UNSET ? KZ_TLP_RED : (int)q->tlp_max);
	*out = r;
	return 0;
}

/* Column text, borrowed until the next step (NULL for NULL). */
static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* A time column; INT64_MIN stands for NULL (never notified, no feedback). */
static int64_t col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, i);
}

/* The record fields reports use, in the order of the kz_frow members
 * they fill. */
static const struct {
	const char *key;
	size_t off;
} wanted[] = {
	{ "extra.banner", offsetof(struct kz_frow, banner) },
	{ "extra.banner_b64", offsetof(struct kz_frow, banner_b64) },
	{ "extra.device", offsetof(struct kz_frow, device) },
	{ "extra.device_vendor", offsetof(struct kz_frow, device_vendor) },
	{ "extra.device_type", offsetof(struct kz_frow, device_type) },
	{ "extra.device_model", offsetof(struct kz_frow, device_model) },
	{ "extra.user", offsetof(struct kz_frow, user) },
	{ "extra.password", offsetof(struct kz_frow, password) },
	{ "extra.fingerprint_basis", offsetof(struct kz_frow, fingerprint_basis) },
	{ "malware.name", offsetof(struct kz_frow, malware_name) },
	{ "extra.banner_truncated", 0 },
};
#define NWANTED (sizeof wanted / sizeof wanted[0])

/* Points the row's record fields at what was found. */
static void take(struct kz_frow *row, const struct kz_recfield *w)
{
	for (size_t k = 0; k < NWANTED; k++) {
		if (k == NWANTED - 1) {
			row->banner_truncated = w[k].type == KZ_RECFIELD_BOOL && w[k].b;
		} else if (w[k].type == KZ_RECFIELD_STRING) {
			struct kz_ftext *t = (struct kz_ftext *)((char *)row + wanted[k].off);
			t->s = w[k].s;
			t->len = w[k].len;
		}
	}
}

/* Reads the record with jansson when the scanner declined it. */
static void take_tree(struct kz_frows *r, struct kz_frow *row, const char *text, size_t len)
{
	json_error_t je;
	r->tree = json_loadb(text, len, JSON_ALLOW_NUL, &je);
	if (!json_is_object(r->tree))
		return;
	for (size_t k = 0; k < NWANTED; k++) {
		json_t *v = json_object_get(r->tree, wanted[k].key);
		r->want[k].type = json_is_string(v)    ? KZ_RECFIELD_STRING
		                  : json_is_boolean(v) ? KZ_RECFIELD_BOOL
		                                       : KZ_RECFIELD_ABSENT;
		r->want[k].s = json_string_value(v);
		r->want[k].len = json_string_length(v);
		r->want[k].b = json_is_true(v);
	}
	take(row, r->want);
}

/* Takes the wanted fields of the latest record (column col, with its
 * anonymous flag in col + 1); the row keeps pointers into the arena. */
static void read_record(struct kz_frows *r, struct kz_frow *row, int col)
{
	const char *text = (const char *)sqlite3_column_blob(r->st, col);
	size_t len = (size_t)sqlite3_column_bytes(r->st, col);
	if (!text || len == 0 || len > RECORD_MAX)
		return;
	row->have_record = true;
	row->anonymous = sqlite3_column_int(r->st, col + 1) != 0;
	size_t need = KZ_RECFIELDS_ARENA_SIZE(len);
	if (need > r->arena_cap) {
		size_t cap = r->arena_cap ? r->arena_cap : 4096;
		while (cap < need)
			cap *= 2;
		char *a = realloc(r->arena, cap);
		if (!a)
			return; /* the row goes out without its record fields */
		r->arena = a;
		r->arena_cap = cap;
	}
	for (size_t k = 0; k < NWANTED; k++)
		r->want[k].key = wanted[k].key;
	if (kz_recfields_scan(text, len, r->want, NWANTED, r->arena, r->arena_cap) == 0)
		take(row, r->want);
	else
		take_tree(r, row, text, len);
}

int kz_frows_next(struct kz_frows *r, struct kz_frow *row, char *err, size_t errlen)
{
	json_decref(r->tree);
	r->tree = NULL;
	int rc = sqlite3_step(r->st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "findings: %s", sqlite3_errmsg(sqlite3_db_handle(r->st)));
		return -EIO;
	}
	sqlite3_stmt *st = r->st;
	memset(row, 0, sizeof *row);
	row->id = sqlite3_column_int64(st, 0);
	row->finding_id = col_text(st, 1);
	row->ticket = col_text(st, 2);
	row->kind = col_text(st, 3);
	row->feed = col_text(st, 4);
	row->taxonomy = col_text(st, 5);
	row->type = col_text(st, 6);
	row->identifier = col_text(st, 7);
	row->ip = col_text(st, 8);
	row->port = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 9);
	row->transport = col_text(st, 10);
	row->application = col_text(st, 11);
	row->status = col_text(st, 12);
	row->asns = col_text(st, 13);
	if (!row->asns)
		row->asns = "";
	row->network = col_text(st, 14);
	row->as_name = col_text(st, 15);
	row->cc = col_text(st, 16);
	row->region = col_text(st, 17);
	row->city = col_text(st, 18);
	row->first_seen = sqlite3_column_int64(st, 19);
	row->last_seen = sqlite3_column_int64(st, 20);
	row->count = sqlite3_column_int64(st, 21);
	row->state = col_text(st, 22);
	row->state_since = sqlite3_column_int64(st, 23);
	row->updated = sqlite3_column_int64(st, 24);
	int tlp = sqlite3_column_int(st, 25);
	row->tlp = tlp >= KZ_TLP_CLEAR && tlp <= KZ_TLP_RED ? (enum kz_tlp)tlp : KZ_TLP_RED;
	row->weak = sqlite3_column_int(st, 26) != 0;
	row->last_notified = col_time(st, 27);
	row->feedback = col_text(st, 28);
	row->feedback_at = col_time(st, 29);
	row->sightings = sqlite3_column_blob(st, 30);
	row->sightings_len = (size_t)sqlite3_column_bytes(st, 30);
	if (!row->finding_id || !row->ticket || !row->kind || !row->state) {
		snprintf(err, errlen, "findings: row %lld has NULL columns", (long long)row->id);
		return -EIO;
	}
	if (!row->feed)
		row->feed = "";
	if (!row->taxonomy)
		row->taxonomy = "";
	if (!row->type)
		row->type = "";
	if (!row->identifier)
		row->identifier = "";
	if (r->with_record)
		read_record(r, row, NCOLS);
	return 1;
}

void kz_frows_close(struct kz_frows *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->st);
	json_decref(r->tree);
	free(r->arena);
	free(r);
}

/* ------------------------------------------------------------ severity */

const char *kz_severity_name(enum kz_severity s)
{
	static const char *const names[] = { "info", "low", "medium", "high", "critical" };
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "info";
}

enum kz_severity kz_frow_severity(const struct kz_frow *f)
{
	if (strcmp(f->kind, "infected") == 0)
		return KZ_SEV_CRITICAL;
	if (strcmp(f->kind, "survey") == 0) {
		if (strcmp(f->identifier, "weak-credentials") == 0 ||
		    strcmp(f->identifier, "no-auth") == 0)
			return KZ_SEV_HIGH;
		if (strncmp(f->identifier, "accessible-", 11) == 0)
			return KZ_SEV_MEDIUM;
		return KZ_SEV_INFO; /* accepts-any, other-protocol, survey-error */
	}
	if (strcmp(f->kind, "dos-victim") == 0)
		return KZ_SEV_MEDIUM;
	if (strcmp(f->kind, "scanner") == 0)
		return KZ_SEV_LOW;
	if (strcmp(f->kind, "port-surge") == 0)
		return KZ_SEV_INFO;
	/* Another producer's record: by IntelMQ taxonomy. */
	static const struct {
		const char *taxonomy;
		enum kz_severity sev;
	} tax[] = {
		{ "malicious-code", KZ_SEV_CRITICAL },
		{ "intrusions", KZ_SEV_CRITICAL },
		{ "intrusion-attempts", KZ_SEV_HIGH },
		{ "vulnerable", KZ_SEV_MEDIUM },
		{ "availability", KZ_SEV_MEDIUM },
		{ "fraud", KZ_SEV_MEDIUM },
		{ "abusive-content", KZ_SEV_MEDIUM },
		{ "information-content-security", KZ_SEV_MEDIUM },
		{ "information-gathering", KZ_SEV_LOW },
	};
	for (size_t i = 0; i < sizeof tax / sizeof tax[0]; i++)
		if (strcmp(f->taxonomy, tax[i].taxonomy) == 0)
			return tax[i].sev;
	return KZ_SEV_INFO;
}

bool kz_frow_notifiable(const struct kz_frow *f)
{
	static const char *const open[] = { "new", "notified", "persisting", "reopened", "active" };
	bool is_open = false;
	for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
		is_open |= strcmp(f->state, open[i]) == 0;
	return is_open && kz_frow_severity(f) >= KZ_SEV_LOW;
}

/* ------------------------------------------------------ anonymous names */

/* A sorted array of names, searched by bisection. */
struct kz_anon_names {
	char **names;
	size_t n;
};

#define ANON_NAMES_MAX 100000

/* qsort's order for the names: strcmp, which is byte order. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kz_anon_names_load(sqlite3 *db, struct kz_anon_names **out, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct kz_anon_names *a = calloc(1, sizeof *a);
	size_t cap = 0;
	int rc;
	*out = NULL;
	if (!a)
		goto nomem;
	/* The partial index hub_observations_anonymous holds exactly these
	 * rows, so this reads only anonymous submissions. */
	if (sqlite3_prepare_v2(db,
	                       "SELECT DISTINCT origin FROM hub_observations WHERE anonymous = 1"
	                       " AND origin IS NOT NULL",
	                       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "anonymous submissions: %s", sqlite3_errmsg(db));
		kz_anon_names_free(a);
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = col_text(st, 0);
		if (!s || a->n >= ANON_NAMES_MAX)
			continue;
		if (a->n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nn = reallocarray(a->names, nc, sizeof *nn);
			if (!nn)
				goto nomem;
			a->names = nn;
			cap = nc;
		}
		if (!(a->names[a->n] = strdup(s)))
			goto nomem;
		a->n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "anonymous submissions: %s", sqlite3_errmsg(db));
		kz_anon_names_free(a);
		return -EIO;
	}
	if (a->n)
		qsort(a->names, a->n, sizeof *a->names, name_cmp);
	*out = a;
	return 0;
nomem:
	sqlite3_finalize(st);
	kz_anon_names_free(a);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

void kz_anon_names_free(struct kz_anon_names *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->names[i]);
	free(a->names);
	free(a);
}

bool kz_anon_names_has(const struct kz_anon_names *a, const char *name, size_t len)
{
	if (!a || !a->n)
		return false;
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = a->names[mid];
		size_t ml = strlen(m);
		int c = memcmp(m, name, ml < len ? ml : len);
		if (c == 0)
			c = ml < len ? -1 : ml > len ? 1 : 0;
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}
