/*
 * MISP feeds (see misp.h and docs/reports.md).
 *
 * The index is one pass over the findings a partner may see (no record
 * join), producing one tuple per (finding, AS); sorting the tuples groups
 * them into events. An event is then one index range of hub_finding_asns
 * filtered on first_seen, so a MISP server pulling N events costs N small
 * queries after the one pass for the manifest.
 */
#include "misp.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "encode.h"
#include "timefmt.h"

#define INDEX_MAX (64u << 20)

/* The event period: the hub's --report-period, or a day. */
static int64_t period_of(const struct kz_feed_opts *o)
{
	return o->period > 0 ? o->period : KZ_MISP_PERIOD_DEFAULT;
}

/* Floor division: the start of the period holding t. */
static int64_t period_start(int64_t t, int64_t p)
{
	int64_t q = t / p;
	if (t % p < 0)
		q--;
	return q * p;
}

/* An event's uuid: the AS, the period and the key id (a pseudonymised
 * event differs from the plain one, so it must not share its uuid). */
static void event_uuid(uint32_t asn, int64_t start, const struct kz_feed_opts *o,
                       char out[KZ_UUID_STRLEN])
{
	char a[16], s[24];
	snprintf(a, sizeof a, "%u", asn);
	snprintf(s, sizeof s, "%lld", (long long)start);
	const char *f[] = { "misp-event", a, s, o->key ? o->key->key_id : "-" };
	kz_uuid_kizuki(out, 4, f);
}

/* The organisation's uuid, stable for its name and domain. */
static void org_uuid(const struct kz_org *org, char out[KZ_UUID_STRLEN])
{
	const char *f[] = { "organisation", org->name, org->domain };
	kz_uuid_kizuki(out, 3, f);
}

/* MISP's TLP taxonomy tags are lowercase; an unknown label is treated as
 * the strictest, never the loosest. */
static const char *misp_tlp(enum kz_tlp t)
{
	static const char *const tags[] = { "tlp:red",   "tlp:clear",        "tlp:green",
		                            "tlp:amber", "tlp:amber+strict", "tlp:red" };
	return (unsigned)t <= KZ_TLP_RED ? tags[t] : "tlp:red";
}

/* MISP's threat level: 1 high, 2 medium, 3 low, 4 undefined. */
static const char *threat_level(enum kz_severity s)
{
	return s >= KZ_SEV_HIGH ? "1" : s == KZ_SEV_MEDIUM ? "2" : s == KZ_SEV_LOW ? "3" : "4";
}

/* MISP distribution by label: CLEAR to all communities, GREEN to this
 * community, anything stricter to the receiving organisation only. */
static const char *distribution(enum kz_tlp t)
{
	return t <= KZ_TLP_CLEAR ? "3" : t == KZ_TLP_GREEN ? "1" : "0";
}

/* Calls fn for each AS of a finding (0 when it has none). */
static int each_asn(const char *asns, int (*fn)(void *, uint32_t), void *arg)
{
	if (!*asns)
		return fn(arg, 0);
	for (const char *p = asns; *p;) {
		unsigned long long v = strtoull(p, NULL, 10);
		int rc;
		if (v > 0 && v <= UINT32_MAX && (rc = fn(arg, (uint32_t)v)) != 0)
			return rc;
		p = strchr(p, ',');
		p = p ? p + 1 : "";
	}
	return 0;
}

/* The findings a feed may hold: the partner's labels, since its "since". */
static struct kz_frows_query feed_query(const struct kz_feed_opts *o)
{
	struct kz_frows_query q = {
		.since = o->since,
		.first_from = INT64_MIN,
		.first_until = INT64_MAX,
		.tlp_max = o->tlp_max,
	};
	return q;
}

/* ------------------------------------------------------------- index */

struct tuple {
	uint32_t asn;
	int64_t start, updated;
	enum kz_tlp tlp;
	enum kz_severity sev;
};

struct collect {
	struct tuple *t;
	size_t n, cap;
	const struct kz_frow *row;
	int64_t start;
};

/* Adds one (finding, AS) tuple; each_asn calls it for every AS of a row. */
static int collect_one(void *arg, uint32_t asn)
{
	struct collect *c = arg;
	if (c->n == c->cap) {
		if (c->cap >= INDEX_MAX)
			return -E2BIG;
		size_t nc = c->cap ? c->cap * 2 : 4096;
		struct tuple *nt = reallocarray(c->t, nc, sizeof *nt);
		if (!nt)
			return -ENOMEM;
		c->t = nt;
		c->cap = nc;
	}
	struct tuple *t = &c->t[c->n++];
	t->asn = asn;
	t->start = c->start;
	t->updated = c->row->updated;
	t->tlp = c->row->tlp;
	t->sev = kz_frow_severity(c->row);
	return 0;
}

/* Orders tuples by AS, then period: equal neighbours form one event. */
static int tuple_cmp(const void *a, const void *b)
{
	const struct tuple *x = a, *y = b;
	if (x->asn != y->asn)
		return x->asn < y->asn ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Orders events by uuid, for kz_misp_index_find's bisection. */
static int event_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kz_misp_event *)a)->uuid,
	              ((const struct kz_misp_event *)b)->uuid);
}

int kz_misp_index_build(sqlite3 *db, const struct kz_feed_opts *o, struct kz_misp_index **out,
                        char *err, size_t errlen)
{
	struct kz_frows_query q = feed_query(o);
	struct kz_frows *rows = NULL;
	struct kz_frow r;
	struct collect c = { 0 };
	int64_t p = period_of(o);
	int rc;
	*out = NULL;
	if ((rc = kz_frows_open(db, &q, &rows, err, errlen)))
		return rc;
	while ((rc = kz_frows_next(rows, &r, err, errlen)) == 1) {
		if (!kz_share_has_subject(&r))
			continue;
		c.row = &r;
		c.start = period_start(r.first_seen, p);
		if ((rc = each_asn(r.asns, collect_one, &c)) != 0) {
			snprintf(err, errlen, "out of memory");
			break;
		}
	}
	kz_frows_close(rows);
	struct kz_misp_index *idx = calloc(1, sizeof *idx);
	if (rc < 0 || !idx) {
		free(c.t);
		free(idx);
		if (rc >= 0)
			snprintf(err, errlen, "out of memory");
		return rc < 0 ? rc : -ENOMEM;
	}
	if (c.n)
		qsort(c.t, c.n, sizeof *c.t, tuple_cmp);
	size_t groups = 0;
	for (size_t i = 0; i < c.n; i++)
		groups += i == 0 || tuple_cmp(&c.t[i - 1], &c.t[i]) != 0;
	idx->ev = calloc(groups ? groups : 1, sizeof *idx->ev);
	if (!idx->ev) {
		free(c.t);
		free(idx);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < c.n; i++) {
		if (i == 0 || tuple_cmp(&c.t[i - 1], &c.t[i]) != 0) {
			struct kz_misp_event *e = &idx->ev[idx->n++];
			e->asn = c.t[i].asn;
			e->period_start = c.t[i].start;
			e->timestamp = INT64_MIN;
			event_uuid(e->asn, e->period_start, o, e->uuid);
		}
		struct kz_misp_event *e = &idx->ev[idx->n - 1];
		e->count++;
		if (c.t[i].updated > e->timestamp)
			e->timestamp = c.t[i].updated;
		e->tlp = kz_tlp_most_restrictive(e->tlp, c.t[i].tlp);
		if (c.t[i].sev > e->severity)
			e->severity = c.t[i].sev;
	}
	free(c.t);
	if (idx->n)
		qsort(idx->ev, idx->n, sizeof *idx->ev, event_cmp);
	*out = idx;
	return 0;
}

void kz_misp_index_free(struct kz_misp_index *idx)
{
	if (!idx)
		return;
	free(idx->ev);
	free(idx);
}

const struct kz_misp_event *kz_misp_index_find(const struct kz_misp_index *idx, const char *uuid)
{
	struct kz_misp_event key;
	if (!idx || !idx->n || !kz_uuid_valid(uuid))
		return NULL;
	snprintf(key.uuid, sizeof key.uuid, "%s", uuid);
	for (char *p = key.uuid; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	return bsearch(&key, idx->ev, idx->n, sizeof *idx->ev, event_cmp);
}

/* ------------------------------------------------------------- events */

/* MISP's JSON writes timestamps as strings of digits. */
static json_t *jstr_int(int64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "%lld", (long long)v);
	return json_string(b);
}

/* The creating organisation ("Orgc"): name and uuid, as PyMISP wants. */
static json_t *orgc(const struct kz_org *org)
{
	char u[KZ_UUID_STRLEN];
	org_uuid(org, u);
	return json_pack("{s:s, s:s}", "name", org->name, "uuid", u);
}

/* The event's one-line title: the AS, its operator when known, the period. */
static void event_info(sqlite3 *db, const struct kz_misp_event *ev, char *out, size_t outlen)
{
	struct kz_report_operator op;
	char err[128], day[KZ_TIME_STRLEN];
	if (kz_time_format(ev->period_start, day) != 0)
		snprintf(day, sizeof day, "?");
	if (ev->asn && kz_report_operator_load(db, ev->asn, &op, err, sizeof err) == 0 &&
	    op.name[0])
		snprintf(out, outlen, "kizuki: findings in AS%u (%s) first seen from %s", ev->asn,
		         op.name, day);
	else if (ev->asn)
		snprintf(out, outlen, "kizuki: findings in AS%u first seen from %s", ev->asn, day);
	else
		snprintf(out, outlen, "kizuki: findings without an AS first seen from %s", day);
}

/* A Tag list of one or two names; PyMISP's schema wants them unique. */
static json_t *tag_list(const char *a, const char *b)
{
	json_t *t = json_array();
	if (t && a)
		json_array_append_new(t, json_pack("{s:s}", "name", a));
	if (t && b && (!a || strcmp(a, b) != 0))
		json_array_append_new(t, json_pack("{s:s}", "name", b));
	return t;
}

/* The fields an event and its manifest entry share. */
static json_t *event_head(sqlite3 *db, const struct kz_misp_event *ev, const struct kz_feed_opts *o,
                          const struct kz_org *org)
{
	char info[512], day[KZ_TIME_STRLEN];
	event_info(db, ev, info, sizeof info);
	if (kz_time_format(ev->period_start, day) != 0)
		snprintf(day, sizeof day, "1970-01-01");
	day[10] = '\0';
	int64_t ts = ev->timestamp == INT64_MIN ? o->now : ev->timestamp;
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o}", "uuid", ev->uuid, "info", info,
	                 "date", day, "timestamp", jstr_int(ts), "analysis", "2", "threat_level_id",
	                 threat_level(ev->severity), "Orgc", orgc(org), "Tag",
	                 tag_list(misp_tlp(ev->tlp), NULL));
}

/* One hashes.csv line: MISP matches feeds by the MD5 of each value. */
static int md5_line(FILE *hashes, const char *value, const char *event)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	if (EVP_Digest(value, strlen(value), md, &n, EVP_md5(), NULL) != 1)
		return -EIO;
	kz_hex_encode(md, n, hex);
	fprintf(hashes, "%s,%s\n", hex, event);
	return 0;
}

/* The attribute of one finding in an event. */
static json_t *attribute(const struct kz_frow *f, const struct kz_feed_opts *o,
                         struct kz_pseudo *ps, char *value, size_t vlen)
{
	char u[KZ_UUID_STRLEN], comment[400], first[KZ_TIME_STRLEN], last[KZ_TIME_STRLEN],
	        kind[160];
	const char *uf[] = { "misp-attribute", f->finding_id, o->key ? o->key->key_id : "-" };
	kz_uuid_kizuki(u, 3, uf);
	if (kz_time_format(f->first_seen, first) != 0)
		first[0] = '\0';
	if (kz_time_format(f->last_seen, last) != 0)
		last[0] = '\0';
	snprintf(kind, sizeof kind, "kizuki:%s", f->identifier);
	const char *type, *category;
	bool to_ids = false;
	char portinfo[32] = "";
	if (f->port >= 0)
		snprintf(portinfo, sizeof portinfo, " port %d", f->port);
	if (ps->cp) {
		if (kz_pseudo_addr(ps, f->ip, value) != 0)
			return NULL;
		type = "text";
		category = KZ_MISP_PSEUDONYM_CATEGORY;
		snprintf(comment, sizeof comment,
		         "Crypto-PAn pseudonym of the address under key %s (not an address: do not "
		         "block or look it up); %s%s%s, seen %lld times from %s to %s",
		         ps->key_id, f->identifier, f->application ? " " : "",
		         f->application ? f->application : "", (long long)f->count, first, last);
	} else {
		snprintf(value, vlen, "%s", f->ip);
		bool src = kz_share_is_source(f);
		type = src ? "ip-src" : "ip-dst";
		category = "Network activity";
		to_ids = strcmp(f->kind, "infected") == 0;
		snprintf(comment, sizeof comment, "%s%s%s%s, seen %lld times from %s to %s",
		         f->identifier, f->application ? " " : "",
		         f->application ? f->application : "", portinfo, (long long)f->count, first,
		         last);
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:s, s:s, s:o}", "uuid", u, "type", type,
	                 "category", category, "value", value, "to_ids", to_ids, "timestamp",
	                 jstr_int(f->updated), "distribution", "5", "comment", comment, "Tag",
	                 tag_list(misp_tlp(f->tlp), kind));
}

int kz_misp_write_event(sqlite3 *db, const struct kz_misp_event *ev, const struct kz_feed_opts *o,
                        FILE *out, FILE *hashes, char *err, size_t errlen)
{
	struct kz_org dflt;
	const struct kz_org *org = o->org;
	if (!org) {
		kz_org_default(&dflt);
		org = &dflt;
	}
	struct kz_frows_query q = feed_query(o);
	int64_t p = period_of(o);
	q.asn = ev->asn;
	q.first_from = ev->period_start;
	q.first_until = ev->period_start + p;
	struct kz_pseudo ps;
	struct kz_frows *rows = NULL;
	struct kz_frow r;
	int rc;
	if ((rc = kz_pseudo_init(&ps, o->key))) {
		snprintf(err, errlen, "Crypto-PAn: cannot set up the key");
		return rc;
	}
	json_t *head = event_head(db, ev, o, org), *attrs = json_array();
	if (!head || !attrs) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (ev->asn) {
		char as[16];
		snprintf(as, sizeof as, "%u", ev->asn);
		const char *uf[] = { "misp-attribute-as", ev->uuid };
		char u[KZ_UUID_STRLEN];
		kz_uuid_kizuki(u, 2, uf);
		json_array_append_new(
		        attrs,
		        json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:s, s:o}", "uuid", u, "type",
		                  "AS", "category", "Network activity", "value", as, "to_ids", 0,
		                  "timestamp",
		                  jstr_int(ev->timestamp == INT64_MIN ? o->now : ev->timestamp),
		                  "distribution", "5", "Tag", tag_list(misp_tlp(ev->tlp), NULL)));
		if (hashes)
			md5_line(hashes, as, ev->uuid);
	}
	if ((rc = kz_frows_open(db, &q, &rows, err, errlen)))
		goto done;
	while ((rc = kz_frows_next(rows, &r, err, errlen)) == 1) {
		/* AS 0 holds the findings without an AS only. */
		if (!kz_share_has_subject(&r) || (ev->asn == 0 && r.asns[0]))
			continue;
		char value[KZ_ADDR_STRLEN + 8];
		json_t *a = attribute(&r, o, &ps, value, sizeof value);
		if (!a)
			continue;
		json_array_append_new(attrs, a);
		if (hashes)
			md5_line(hashes, value, ev->uuid);
	}
	kz_frows_close(rows);
	if (rc < 0)
		goto done;
	json_object_set_new(head, "published", json_true());
	json_object_set_new(head, "publish_timestamp",
	                    json_incref(json_object_get(head, "timestamp")));
	json_object_set_new(head, "distribution", json_string(distribution(ev->tlp)));
	json_object_set_new(head, "Attribute", attrs);
	attrs = NULL;
	json_t *doc = json_pack("{s:O}", "Event", head);
	if (!doc || json_dumpf(doc, out, JSON_COMPACT) != 0 || fputc('\n', out) == EOF) {
		json_decref(doc);
		rc = -EIO;
		snprintf(err, errlen, "write failed");
		goto done;
	}
	json_decref(doc);
	rc = 0;
done:
	json_decref(head);
	json_decref(attrs);
	kz_pseudo_clear(&ps);
	return rc;
}

int kz_misp_write_manifest(sqlite3 *db, const struct kz_misp_index *idx,
                           const struct kz_feed_opts *o, FILE *out, char *err, size_t errlen)
{
	struct kz_org dflt;
	const struct kz_org *org = o->org;
	if (!org) {
		kz_org_default(&dflt);
		org = &dflt;
	}
	json_t *m = json_object();
	for (size_t i = 0; m && i < idx->n; i++) {
		json_t *h = event_head(db, &idx->ev[i], o, org);
		if (!h || json_object_del(h, "uuid") != 0 ||
		    json_object_set_new(m, idx->ev[i].uuid, h) != 0) {
			json_decref(m);
			m = NULL;
		}
	}
	if (!m || json_dumpf(m, out, JSON_COMPACT | JSON_SORT_KEYS) != 0 ||
	    fputc('\n', out) == EOF) {
		json_decref(m);
		snprintf(err, errlen, "out of memory or write failed");
		return -EIO;
	}
	json_decref(m);
	return 0;
}

int kz_misp_write_hashes(sqlite3 *db, const struct kz_misp_index *idx, const struct kz_feed_opts *o,
                         FILE *out, char *err, size_t errlen)
{
	/* Each event's lines, in the index's order; the event bodies are
	 * written to /dev/null's equivalent. */
	FILE *sink = fopen("/dev/null", "w");
	int rc = 0;
	if (!sink) {
		snprintf(err, errlen, "/dev/null: %s", strerror(errno));
		return -EIO;
	}
	for (size_t i = 0; rc == 0 && i < idx->n; i++)
		rc = kz_misp_write_event(db, &idx->ev[i], o, sink, out, err, errlen);
	fclose(sink);
	return rc;
}

int kz_misp_write_dir(sqlite3 *db, const struct kz_feed_opts *o, const char *dir, size_t *events,
                      char *err, size_t errlen)
{
	struct kz_misp_index *idx = NULL;
	struct kz_afile ev = { 0 }, hashes = { 0 }, manifest = { 0 };
	char path[KZ_AFILE_PATH_MAX];
	int rc;
	if (events)
		*events = 0;
	if ((rc = kz_mkdir(dir, err, errlen)))
		return rc;
	if ((rc = kz_misp_index_build(db, o, &idx, err, errlen)))
		return rc;
	snprintf(path, sizeof path, "%s/hashes.csv", dir);
	if ((rc = kz_afile_open(&hashes, path, err, errlen)))
		goto done;
	for (size_t i = 0; i < idx->n; i++) {
		snprintf(path, sizeof path, "%s/%s.json", dir, idx->ev[i].uuid);
		if ((rc = kz_afile_open(&ev, path, err, errlen)))
			goto done;
		if ((rc = kz_misp_write_event(db, &idx->ev[i], o, ev.f, hashes.f, err, errlen)) ||
		    (rc = kz_afile_commit(&ev, err, errlen)))
			goto done;
	}
	if ((rc = kz_afile_commit(&hashes, err, errlen)))
		goto done;
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	if ((rc = kz_afile_open(&manifest, path, err, errlen)) ||
	    (rc = kz_misp_write_manifest(db, idx, o, manifest.f, err, errlen)) ||
	    (rc = kz_afile_commit(&manifest, err, errlen)))
		goto done;
	if (events)
		*events = idx->n;
done:
	kz_afile_abort(&ev);
	kz_afile_abort(&hashes);
	kz_afile_abort(&manifest);
	kz_misp_index_free(idx);
	return rc;
}
