/*
 * Ingest implementation.
 *
 * Parsing and validation use the record module (jansson and the IntelMQ
 * field table) so that the hub accepts exactly what docs/records.md says.
 * The writer's per-item work is a handful of prepared statements:
 *
 *   new observation of a known finding:  SELECT finding, probe (finding,
 *                                        okey), INSERT observation, UPDATE
 *                                        finding
 *   first observation of a finding:      SELECT (miss), INSERT finding,
 *                                        INSERT asn links, INSERT observation
 *   duplicate:                           SELECT finding, probe (hit), full
 *                                        id compared
 *
 * Duplicates are found per finding: hub_observations_key (finding, okey)
 * keeps a finding's observations on one index page, where a global index of
 * hashed ids put every insert on a random page (docs/store.md, version 5).
 * okey is the id's first 64 bits; a match counts only when the full
 * observation_id matches too, so a key collision stores the record.
 *
 * Observation rows get their id from a counter the writer keeps (read once
 * per transaction from the table), so the finding can point at its latest
 * observation without a second UPDATE; a stale counter fails on the
 * primary key, loudly.
 *
 * Repeats without a read. Re-posts (a sensor's spool retrying, the 30 % of
 * the benchmark) cost a finding lookup and a key probe each; the writer
 * keeps the (finding id, observation id) pairs of committed observations
 * in a direct-mapped table (ids as 16 binary bytes each, 2^19 slots, 16 MiB)
 * and answers a pair it holds as a duplicate at once. It is exact, not a
 * hint: a pair enters only after the caller reports that its transaction
 * committed (kz_ingest_committed), pairs of a rolled-back transaction are
 * dropped, and deleting observations (retention) empties it. A pair not
 * held (evicted, or never seen) takes the store's path as before.
 *
 * Order. A survey verdict moves the lifecycle only when its time.source is
 * not older than the finding's last_seen: a late upload of an old run must
 * not undo what a newer run found. Its observation and sighting are stored
 * all the same.
 */
#include "ingest.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode.h"
#include "findings.h"
#include "flatrec.h"
#include "lifecycle.h"
#include "log.h"
#include "record.h"
#include "sightings.h"
#include "timefmt.h"

static const char *const kind_names[KZ_KIND_COUNT] = {
	[KZ_KIND_SURVEY] = "survey",         [KZ_KIND_INFECTED] = "infected",
	[KZ_KIND_SCANNER] = "scanner",       [KZ_KIND_DOS_VICTIM] = "dos-victim",
	[KZ_KIND_PORT_SURGE] = "port-surge", [KZ_KIND_OTHER] = "other",
};

const char *kz_finding_kind_name(enum kz_finding_kind k)
{
	return (unsigned)k < KZ_KIND_COUNT ? kind_names[k] : "";
}

int kz_finding_kind_parse(const char *s, enum kz_finding_kind *out)
{
	for (unsigned i = 0; i < KZ_KIND_COUNT; i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*out = (enum kz_finding_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ------------------------------------------------------------- prepare */

enum item_type { ITEM_FINDING, ITEM_RUN_HEADER, ITEM_RUN_TRAILER };

struct item {
	json_t *rec;              /* the jansson path's record, or NULL */
	struct kz_rfield *fields; /* the jansson path's field list */
	char *owned;              /* the line re-serialised, when the hub changed the record */
	const char *raw;
	size_t rawlen;
	unsigned long line;
	enum item_type type;
	enum kz_finding_kind kind;
	/* Borrowed from rec. */
	const char *fid, *oid, *feed, *taxonomy, *ctype, *identifier, *status, *origin;
	const char *application, *transport;
	char ip[KZ_ADDR_STRLEN]; /* "" without an address */
	int32_t port;            /* -1 without one */
	int64_t time_source;
	enum kz_tlp tlp;
	enum kz_lc_event ev;
	uint8_t outcome; /* 0 not stored, 1 accepted, 2 duplicate */
	struct kz_enrich_result en;
	char asns[KZ_ENRICH_ASNS_MAX * 11 + 1];
};

struct kz_ingest_batch {
	struct item *items;
	size_t n, cap;
	struct kz_ingest_result res;
	struct kz_enrich *enrich;
	char *submitter;
	bool anonymous;
	char *arena; /* the flat reader's copies of keys and strings */
	size_t arena_used, arena_cap;
	/* The refusals of kz_ingest_prepare, so that a store run again after a
	 * rollback counts its own refusals (a conflicting run record) once. */
	bool stored;
	uint64_t prep_rejected;
	size_t prep_nerrors;
};

static const char *sget(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

/* An integer field of a jansson record (run records), or dflt. */
static int64_t int_or(const json_t *rec, const char *key, int64_t dflt)
{
	const json_t *v = json_object_get(rec, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* Counts a refused line and keeps its number and reason for the reply (the
 * first KZ_INGEST_ERRORS_MAX of them). Returns 0 or -ENOMEM. */
static int add_error(struct kz_ingest_batch *b, unsigned long line, const char *reason)
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
	snprintf(e->reason, sizeof e->reason, "%s", reason);
	return 0;
}

/* Fields that name whoever supplied a record, removed from anonymous
 * submissions before they are stored. */
static const char *const submitter_fields[] = { "feed.provider", "feed.url", "feed.code",
	                                        "feed.documentation" };

/* The fields the hub reads from a record, named once: describe() and its
 * helpers ask for about 30 of them, and a scan of the record's ~25 fields
 * per question was most of describe()'s time. */
enum fkey {
	K_FEED_NAME,
	K_CLASSIFICATION_IDENTIFIER,
	K_CLASSIFICATION_TAXONOMY,
	K_CLASSIFICATION_TYPE,
	K_EXTRA_RUN_PART,
	K_EXTRA_FINDING_ID,
	K_EXTRA_OBSERVATION_ID,
	K_EXTRA_STATUS,
	K_PROTOCOL_APPLICATION,
	K_PROTOCOL_TRANSPORT,
	K_EXTRA_RUN_ID,
	K_EXTRA_SENSOR,
	K_TIME_SOURCE,
	K_TLP,
	K_EXTRA_TLP,
	K_DESTINATION_PORT,
	K_SOURCE_PORT,
	K_SOURCE_IP,
	K_DESTINATION_IP,
	K_SOURCE_ASN,
	K_DESTINATION_ASN,
	K_SOURCE_NETWORK,
	K_DESTINATION_NETWORK,
	K_COUNT,
};

static const struct {
	const char *name;
	size_t len;
} fkeys[K_COUNT] = {
	[K_FEED_NAME] = { "feed.name", 9 },
	[K_CLASSIFICATION_IDENTIFIER] = { "classification.identifier", 25 },
	[K_CLASSIFICATION_TAXONOMY] = { "classification.taxonomy", 23 },
	[K_CLASSIFICATION_TYPE] = { "classification.type", 19 },
	[K_EXTRA_RUN_PART] = { "extra.run_part", 14 },
	[K_EXTRA_FINDING_ID] = { "extra.finding_id", 16 },
	[K_EXTRA_OBSERVATION_ID] = { "extra.observation_id", 20 },
	[K_EXTRA_STATUS] = { "extra.status", 12 },
	[K_PROTOCOL_APPLICATION] = { "protocol.application", 20 },
	[K_PROTOCOL_TRANSPORT] = { "protocol.transport", 18 },
	[K_EXTRA_RUN_ID] = { "extra.run_id", 12 },
	[K_EXTRA_SENSOR] = { "extra.sensor", 12 },
	[K_TIME_SOURCE] = { "time.source", 11 },
	[K_TLP] = { "tlp", 3 },
	[K_EXTRA_TLP] = { "extra.tlp", 9 },
	[K_DESTINATION_PORT] = { "destination.port", 16 },
	[K_SOURCE_PORT] = { "source.port", 11 },
	[K_SOURCE_IP] = { "source.ip", 9 },
	[K_DESTINATION_IP] = { "destination.ip", 14 },
	[K_SOURCE_ASN] = { "source.asn", 10 },
	[K_DESTINATION_ASN] = { "destination.asn", 15 },
	[K_SOURCE_NETWORK] = { "source.network", 14 },
	[K_DESTINATION_NETWORK] = { "destination.network", 19 },
};

/* The keys above by length, each as its enum + 1 and 0 after the last:
 * one or two candidates for most field names, so that a field costs a
 * memcmp or two. */
#define FKEY_LEN_MAX 25
static const unsigned char fkeys_by_len[FKEY_LEN_MAX + 1][4] = {
	[3] = { K_TLP + 1 },
	[9] = { K_FEED_NAME + 1, K_EXTRA_TLP + 1, K_SOURCE_IP + 1 },
	[10] = { K_SOURCE_ASN + 1 },
	[11] = { K_TIME_SOURCE + 1, K_SOURCE_PORT + 1 },
	[12] = { K_EXTRA_STATUS + 1, K_EXTRA_RUN_ID + 1, K_EXTRA_SENSOR + 1 },
	[14] = { K_EXTRA_RUN_PART + 1, K_DESTINATION_IP + 1, K_SOURCE_NETWORK + 1 },
	[15] = { K_DESTINATION_ASN + 1 },
	[16] = { K_EXTRA_FINDING_ID + 1, K_DESTINATION_PORT + 1 },
	[18] = { K_PROTOCOL_TRANSPORT + 1 },
	[19] = { K_CLASSIFICATION_TYPE + 1, K_DESTINATION_NETWORK + 1 },
	[20] = { K_EXTRA_OBSERVATION_ID + 1, K_PROTOCOL_APPLICATION + 1 },
	[23] = { K_CLASSIFICATION_TAXONOMY + 1 },
	[25] = { K_CLASSIFICATION_IDENTIFIER + 1 },
};

/* A record's fields, however it was parsed (flatrec or jansson), with the
 * ones the hub reads found in one pass (the first of a repeated key). */
struct flds {
	const struct kz_rfield *f;
	size_t n;
	const struct kz_rval *k[K_COUNT];
};

static void flds_index(struct flds *r, const struct kz_rfield *f, size_t n)
{
	r->f = f;
	r->n = n;
	memset(r->k, 0, sizeof r->k);
	for (size_t i = 0; i < n; i++) {
		if (f[i].key_len > FKEY_LEN_MAX)
			continue;
		for (const unsigned char *c = fkeys_by_len[f[i].key_len]; *c; c++) {
			unsigned k = *c - 1u;
			if (memcmp(f[i].key, fkeys[k].name, f[i].key_len) == 0) {
				if (!r->k[k])
					r->k[k] = &f[i].v;
				break;
			}
		}
	}
}

static const struct kz_rval *fval(const struct flds *r, enum fkey key)
{
	return r->k[key];
}

/* A string field (NUL-terminated), or NULL. */
static const char *fstr(const struct flds *r, enum fkey key)
{
	const struct kz_rval *v = fval(r, key);
	return v && v->type == KZ_RVAL_STRING ? v->s : NULL;
}

/* An integer field, or dflt when absent or of another type. */
static int64_t fint(const struct flds *r, enum fkey key, int64_t dflt)
{
	const struct kz_rval *v = fval(r, key);
	return v && v->type == KZ_RVAL_INT ? v->i : dflt;
}

/* Survey run headers and trailers are not findings: they take the jansson
 * path, whose tree keeps their arrays (scope, ports) for hub_runs. */
static bool is_run_record(const struct flds *r)
{
	const char *feed = fstr(r, K_FEED_NAME), *id = fstr(r, K_CLASSIFICATION_IDENTIFIER);
	return feed && id && strcmp(feed, KZ_FEED_SURVEY) == 0 && strcmp(id, "survey-run") == 0;
}

/* The finding kind from the feed and classification (docs/store.md); *run
 * tells a survey run record. */
static enum kz_finding_kind classify(const struct flds *r, const char *feed, bool *run)
{
	const char *id = fstr(r, K_CLASSIFICATION_IDENTIFIER);
	const char *tax = fstr(r, K_CLASSIFICATION_TAXONOMY);
	*run = false;
	if (strcmp(feed, KZ_FEED_SURVEY) == 0) {
		if (id && strcmp(id, "survey-run") == 0)
			*run = true;
		return KZ_KIND_SURVEY;
	}
	if (strcmp(feed, KZ_FEED_TELESCOPE) == 0) {
		if (id && strcmp(id, "backscatter") == 0)
			return KZ_KIND_DOS_VICTIM;
		if (id && strcmp(id, "port-surge") == 0)
			return KZ_KIND_PORT_SURGE;
		if (tax && strcmp(tax, "malicious-code") == 0)
			return KZ_KIND_INFECTED;
		return KZ_KIND_SCANNER;
	}
	return KZ_KIND_OTHER;
}

/* The address a finding is attributed by: the victim for DoS, else the
 * source; another producer's DoS records without a source count too. -1:
 * none (port surges). */
static int subject_key(const struct flds *r, enum kz_finding_kind kind)
{
	if (kind == KZ_KIND_DOS_VICTIM)
		return K_DESTINATION_IP;
	if (kind == KZ_KIND_PORT_SURGE)
		return -1;
	if (!fval(r, K_SOURCE_IP) && fval(r, K_DESTINATION_IP)) {
		const char *type = fstr(r, K_CLASSIFICATION_TYPE);
		if (type && (strcmp(type, "ddos") == 0 || strcmp(type, "dos") == 0))
			return K_DESTINATION_IP;
	}
	return K_SOURCE_IP;
}

/* kz_record_tlp on fields: extra.tlp, unless tlp is stricter than its
 * IntelMQ mapping; tlp alone without extra.tlp. */
static enum kz_tlp tlp_of(const struct flds *r)
{
	enum kz_tlp a = KZ_TLP_UNSET, b = KZ_TLP_UNSET, mapped;
	const char *s1 = fstr(r, K_TLP), *s2 = fstr(r, K_EXTRA_TLP);
	if (s1 && kz_tlp_parse_intelmq(s1, &a))
		a = KZ_TLP_UNSET;
	if (!s2 || kz_tlp_parse_canonical(s2, &b))
		return a;
	if (kz_tlp_parse_intelmq(kz_tlp_intelmq(b), &mapped) == 0 && a > mapped)
		return a;
	return b;
}

/* Fills an item from a validated record that carries both ids. Strings
 * are borrowed from the fields (which outlive the item). */
static void describe(struct item *it, const struct flds *r, const struct kz_enrich *enrich,
                     int64_t now, int64_t inactive_after)
{
	bool run;
	it->feed = fstr(r, K_FEED_NAME);
	it->kind = classify(r, it->feed, &run);
	it->type = ITEM_FINDING;
	if (run) {
		const char *part = fstr(r, K_EXTRA_RUN_PART);
		it->type =
		        part && strcmp(part, "trailer") == 0 ? ITEM_RUN_TRAILER : ITEM_RUN_HEADER;
	}
	it->fid = fstr(r, K_EXTRA_FINDING_ID);
	it->oid = fstr(r, K_EXTRA_OBSERVATION_ID);
	it->taxonomy = fstr(r, K_CLASSIFICATION_TAXONOMY);
	it->ctype = fstr(r, K_CLASSIFICATION_TYPE);
	it->identifier = fstr(r, K_CLASSIFICATION_IDENTIFIER);
	if (!it->identifier)
		it->identifier = it->ctype;
	it->status = fstr(r, K_EXTRA_STATUS);
	it->application = fstr(r, K_PROTOCOL_APPLICATION);
	it->transport = fstr(r, K_PROTOCOL_TRANSPORT);
	if (it->kind == KZ_KIND_SURVEY)
		it->origin = fstr(r, K_EXTRA_RUN_ID);
	else if (it->kind != KZ_KIND_OTHER)
		it->origin = fstr(r, K_EXTRA_SENSOR);
	if (!it->origin)
		it->origin = it->feed;
	const struct kz_rval *ts = fval(r, K_TIME_SOURCE);
	int64_t sec = 0;
	uint32_t nsec;
	const char *why;
	if (!ts || kz_time_parse_mem(ts->s, ts->len, &sec, &nsec, &why) != 0)
		sec = now; /* validated already: cannot happen */
	it->time_source = sec;
	it->tlp = tlp_of(r);
	if (it->tlp == KZ_TLP_UNSET)
		it->tlp = KZ_TLP_AMBER; /* unlabelled data is shared as little as labelled AMBER */

	it->port = -1;
	if (it->kind == KZ_KIND_PORT_SURGE)
		it->port = (int32_t)fint(r, K_DESTINATION_PORT, -1);
	else if (it->kind != KZ_KIND_DOS_VICTIM)
		it->port = (int32_t)fint(r, K_SOURCE_PORT, -1);

	it->ip[0] = '\0';
	int key = subject_key(r, it->kind);
	const char *addr_text = key >= 0 ? fstr(r, (enum fkey)key) : NULL;
	struct kz_addr a;
	memset(&it->en, 0, sizeof it->en);
	if (addr_text && kz_addr_parse(addr_text, &a, &why) == 0) {
		kz_addr_format(a, it->ip);
		kz_enrich_lookup(enrich, a, &it->en);
	}
	/* No prefix of ours covers it: keep the producer's own attribution. */
	if (it->en.nasns == 0 && key >= 0) {
		bool dst = key == K_DESTINATION_IP;
		int64_t asn = fint(r, dst ? K_DESTINATION_ASN : K_SOURCE_ASN, 0);
		if (asn > 0 && asn <= (int64_t)UINT32_MAX) {
			it->en.asns[0] = (uint32_t)asn;
			it->en.nasns = 1;
			const char *net = fstr(r, dst ? K_DESTINATION_NETWORK : K_SOURCE_NETWORK);
			if (net)
				snprintf(it->en.network, sizeof it->en.network, "%s", net);
			const struct kz_operators *ops = kz_enrich_operators(enrich);
			const struct kz_operator *op = kz_operators_find(ops, (uint32_t)asn);
			it->en.as_name = op ? op->name : NULL;
		}
	}
	kz_enrich_asns_text(&it->en, it->asns, sizeof it->asns);

	if (it->kind == KZ_KIND_SURVEY) {
		if (!it->status || !kz_lc_survey_event(it->status, &it->ev)) {
			/* No (known) status: judge by the identifier. */
			it->ev = KZ_LC_REACHED;
			if (it->identifier && (strcmp(it->identifier, "weak-credentials") == 0 ||
			                       strcmp(it->identifier, "no-auth") == 0))
				it->ev = KZ_LC_WEAK;
		}
	} else {
		it->ev = sec >= now - inactive_after ? KZ_LC_SIGHTED : KZ_LC_SIGHTED_OLD;
	}
}

/* Re-serialises a record the hub changed (ids added, submitter removed). */
static int reserialise(struct item *it)
{
	char *line;
	size_t len;
	int rc = kz_jsonl_format(it->rec, &line, &len);
	if (rc)
		return rc;
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	free(it->owned);
	it->owned = line;
	it->raw = line;
	it->rawlen = len;
	return 0;
}

/* A zeroed item at the end of the batch; the array grows by doubling. */
static int push_item(struct kz_ingest_batch *b, struct item **out)
{
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		struct item *nv = reallocarray(b->items, nc, sizeof *nv);
		if (!nv)
			return -ENOMEM;
		b->items = nv;
		b->cap = nc;
	}
	*out = &b->items[b->n++];
	memset(*out, 0, sizeof **out);
	return 0;
}

/* The jansson path: any record the flat reader declined, records without
 * ids (computed here), run records (their arrays are read later), and
 * anonymous submissions (fields removed). Returns 0, 1 when the line was
 * refused (an error was added), or a negative errno. */
static int prepare_json(struct kz_ingest_batch *b, struct item *it, const char *line, size_t len,
                        unsigned long lineno, int64_t now, int64_t inactive_after)
{
	struct kz_jsonl_error jerr;
	char why[KZ_RECORD_WHY_MAX];
	json_t *rec = NULL;
	bool changed = false;
	int rc = kz_jsonl_parse(line, len, &rec, &jerr);
	if (rc != 1)
		return add_error(b, lineno, jerr.reason) ? -ENOMEM : 1;
	if (kz_record_validate(rec, why, sizeof why) != 0) {
		json_decref(rec);
		return add_error(b, lineno, why) ? -ENOMEM : 1;
	}
	if (!json_object_get(rec, "extra.finding_id")) {
		rc = kz_record_ensure_ids(rec, why, sizeof why);
		if (rc) {
			json_decref(rec);
			if (rc == -ENOMEM)
				return rc;
			return add_error(b, lineno, why) ? -ENOMEM : 1;
		}
		changed = true;
	}
	if (b->anonymous) {
		for (size_t i = 0; i < sizeof submitter_fields / sizeof *submitter_fields; i++)
			if (json_object_del(rec, submitter_fields[i]) == 0)
				changed = true;
	}
	it->rec = rec;
	it->raw = line;
	it->rawlen = len;
	if (changed && (rc = reserialise(it)))
		return rc;
	/* The fields, borrowing the record's strings, for describe(). */
	size_t n = json_object_size(rec), i = 0;
	it->fields = calloc(n ? n : 1, sizeof *it->fields);
	if (!it->fields)
		return -ENOMEM;
	const char *key;
	json_t *v;
	json_object_foreach(rec, key, v)
	{
		it->fields[i].key = key;
		it->fields[i].key_len = strlen(key);
		kz_record_rval(v, &it->fields[i].v);
		i++;
	}
	struct flds r;
	flds_index(&r, it->fields, i);
	describe(it, &r, b->enrich, now, inactive_after);
	return 0;
}

int kz_ingest_prepare(const char *body, size_t len, struct kz_enrich *enrich,
                      const struct kz_submitter *who, int64_t now,
                      const struct kz_ingest_config *cfg, struct kz_ingest_batch **out)
{
	struct kz_ingest_batch *b = calloc(1, sizeof *b);
	struct kz_jsonl_reader *r = NULL;
	struct kz_rfield fields[KZ_FLAT_FIELDS_MAX];
	int64_t inactive_after =
	        cfg && cfg->inactive_after > 0 ? cfg->inactive_after : KZ_INACTIVE_AFTER_DEFAULT;
	int rc = -ENOMEM;
	*out = NULL;
	if (!b)
		return -ENOMEM;
	b->enrich = kz_enrich_ref(enrich);
	b->anonymous = who && who->anonymous;
	if (!(b->submitter = strdup(who && who->name ? who->name : "local")))
		goto fail;
	/* One arena for every line's keys and strings: its size bounds what
	 * the flat reader can write for the whole body. */
	size_t lines = 1;
	for (const char *p = body; (p = memchr(p, '\n', (size_t)(body + len - p))); p++)
		lines++;
	b->arena_cap = len + lines * (KZ_FLAT_ARENA_SIZE(0) + 1);
	if (!(b->arena = malloc(b->arena_cap)))
		goto fail;
	if ((rc = kz_jsonl_reader_memory(body, len, 0, &r)))
		goto fail;
	for (;;) {
		const char *line;
		size_t llen;
		struct kz_jsonl_error jerr;
		rc = kz_jsonl_next_line(r, &line, &llen, &jerr);
		if (rc == 0)
			break;
		if (rc == -EBADMSG) {
			if ((rc = add_error(b, jerr.line, jerr.reason)))
				goto fail;
			continue;
		}
		if (rc < 0)
			goto fail;
		unsigned long lineno = kz_jsonl_reader_line(r);
		struct item *it;
		if ((rc = push_item(b, &it)))
			goto fail;
		it->line = lineno;
		/* The fast path: a flat record with its ids, not a run record,
		 * not to be changed. Anything else takes the jansson path. */
		char *arena = b->arena + b->arena_used;
		int nf = b->anonymous ? -1
		                      : kz_flat_parse(line, llen, fields, arena,
		                                      b->arena_cap - b->arena_used);
		if (nf >= 0) {
			struct flds fr;
			flds_index(&fr, fields, (size_t)nf);
			char why[KZ_RECORD_WHY_MAX];
			if (kz_record_validate_fields(fields, (size_t)nf, why, sizeof why) != 0) {
				b->n--;
				if ((rc = add_error(b, lineno, why)))
					goto fail;
				continue;
			}
			if (fval(&fr, K_EXTRA_FINDING_ID) && !is_run_record(&fr)) {
				/* Keep the fields' strings: they live in the arena. */
				size_t used = 0;
				for (int i = 0; i < nf; i++) {
					const char *end = fields[i].key + fields[i].key_len + 1;
					if (fields[i].v.type == KZ_RVAL_STRING)
						end = fields[i].v.s + fields[i].v.len + 1;
					if ((size_t)(end - arena) > used)
						used = (size_t)(end - arena);
				}
				b->arena_used += used;
				it->raw = line;
				it->rawlen = llen;
				describe(it, &fr, b->enrich, now, inactive_after);
				continue;
			}
		}
		rc = prepare_json(b, it, line, llen, lineno, now, inactive_after);
		if (rc < 0)
			goto fail;
		if (rc == 1) {
			b->n--; /* refused: the slot is reused */
			continue;
		}
	}
	kz_jsonl_reader_free(r);
	*out = b;
	return 0;
fail:
	kz_jsonl_reader_free(r);
	kz_ingest_batch_free(b);
	return rc;
}

void kz_ingest_batch_free(struct kz_ingest_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		json_decref(b->items[i].rec);
		free(b->items[i].owned);
		free(b->items[i].fields);
	}
	free(b->items);
	free(b->arena);
	free(b->res.errors);
	free(b->submitter);
	kz_enrich_unref(b->enrich);
	free(b);
}

const struct kz_ingest_result *kz_ingest_batch_result(const struct kz_ingest_batch *b)
{
	return &b->res;
}

size_t kz_ingest_batch_items(const struct kz_ingest_batch *b)
{
	return b->n;
}

/* ---------------------------------------------------------------- store */

enum {
	ST_FIND,
	ST_FIND_ROW,
	ST_INS_FINDING,
	ST_UPD_NEWER,
	ST_UPD_OLDER,
	ST_UPD_STATE,
	ST_INS_OBS,
	ST_OBS_PROBE,
	ST_MAX_OBS,
	ST_INS_ASN,
	ST_DEL_ASN,
	ST_INS_TRANSITION,
	ST_PFX_FIND,
	ST_PFX_INS,
	ST_RUN_FIND,
	ST_RUN_HEADER,
	ST_RUN_TRAILER,
	ST_COUNT,
};

static const char *const sql[ST_COUNT] = {
	[ST_FIND] =
	        "SELECT id, state, base_state, weak, unreachable_runs, first_seen, last_seen,"
	        " tlp, asns, sightings, kind, finding_id FROM hub_findings WHERE finding_id = ?1",
	/* The same by row id, for a row id the writer remembers (find()). */
	[ST_FIND_ROW] = "SELECT id, state, base_state, weak, unreachable_runs, first_seen,"
	                " last_seen, tlp, asns, sightings, kind, finding_id FROM hub_findings"
	                " WHERE id = ?1",
	[ST_INS_FINDING] =
	        "INSERT INTO hub_findings(finding_id, kind, feed, taxonomy, type, identifier, ip,"
	        " port, transport, application, status, asns, network, as_name, cc, region, city,"
	        " first_seen, last_seen, count, state, state_since, base_state, weak,"
	        " unreachable_runs, ticket, tlp, last_observation, updated, sightings)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
	        " ?17, ?18, ?18, 1, ?19, ?20, ?21, ?22, 0, ?23, ?24, ?25, ?20, ?26)",
	/* `state` is indexed: it is set only when it changes (ST_UPD_STATE),
	 * since SQLite rewrites an index whenever its column is assigned. */
	[ST_UPD_NEWER] =
	        "UPDATE hub_findings SET identifier = ?2, taxonomy = ?3, type = ?4, status = ?5,"
	        " port = ?6, asns = ?7, network = ?8, as_name = ?9, cc = ?10, region = ?11,"
	        " city = ?12, last_seen = ?13, count = count + 1, base_state = ?14, weak = ?15,"
	        " unreachable_runs = ?16, tlp = max(tlp, ?17), last_observation = ?18,"
	        " updated = ?19, sightings = ?20 WHERE id = ?1",
	[ST_UPD_OLDER] = "UPDATE hub_findings SET first_seen = min(first_seen, ?2),"
	                 " count = count + 1, tlp = max(tlp, ?3), updated = ?4, sightings = ?5"
	                 " WHERE id = ?1",
	[ST_UPD_STATE] = "UPDATE hub_findings SET state = ?2, state_since = ?3 WHERE id = ?1",
	[ST_INS_OBS] = "INSERT INTO hub_observations(id, observation_id, finding, time_source,"
	               " received, port, origin, status, asns, network, pfx_version, cc, tlp,"
	               " submitter, anonymous, record, okey) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
	               " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
	/* The finding's observations with the key: the index range is empty for
	 * a new observation, so only a duplicate (or a key collision) reads a
	 * row. */
	[ST_OBS_PROBE] = "SELECT observation_id FROM hub_observations WHERE finding = ?1"
	                 " AND okey = ?2",
	[ST_MAX_OBS] = "SELECT coalesce(max(id), 0) FROM hub_observations",
	/* The link carries its finding's state as the row has it (store.c,
	 * version 5; a trigger follows later changes). */
	[ST_INS_ASN] = "INSERT OR IGNORE INTO hub_finding_asns(asn, finding, state)"
	               " VALUES (?1, ?2, ?3)",
	[ST_DEL_ASN] = "DELETE FROM hub_finding_asns WHERE asn = ?1 AND finding = ?2",
	[ST_INS_TRANSITION] = "INSERT INTO hub_transitions(finding, at, from_state, to_state,"
	                      " cause) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_PFX_FIND] = "SELECT id FROM hub_pfx_versions WHERE version = ?1",
	[ST_PFX_INS] = "INSERT INTO hub_pfx_versions(version, first_used) VALUES (?1, ?2)",
	[ST_RUN_FIND] = "SELECT header_observation, trailer_observation FROM hub_runs"
	                " WHERE run_id = ?1",
	[ST_RUN_HEADER] =
	        "INSERT INTO hub_runs(run_id, scanner_ip, scope_digest, scope, ports, addresses,"
	        " seed, shard_index, shard_count, started, header_observation, header, submitter,"
	        " received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
	        " ON CONFLICT(run_id) DO UPDATE SET scanner_ip = coalesce(excluded.scanner_ip,"
	        " scanner_ip), scope_digest = coalesce(excluded.scope_digest, scope_digest),"
	        " scope = coalesce(excluded.scope, scope), ports = coalesce(excluded.ports, ports),"
	        " addresses = coalesce(excluded.addresses, addresses),"
	        " seed = coalesce(excluded.seed, seed), shard_index = excluded.shard_index,"
	        " shard_count = excluded.shard_count, started = excluded.started,"
	        " header_observation = excluded.header_observation, header = excluded.header",
	[ST_RUN_TRAILER] =
	        "INSERT INTO hub_runs(run_id, scanner_ip, scope_digest, scope, ports, addresses,"
	        " seed, shard_index, shard_count, started, ended, finished, trailer_observation,"
	        " trailer, submitter, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	        " ?11, ?12, ?13, ?14, ?15, ?16) ON CONFLICT(run_id) DO UPDATE SET"
	        " scanner_ip = coalesce(scanner_ip, excluded.scanner_ip),"
	        " scope_digest = coalesce(scope_digest, excluded.scope_digest),"
	        " scope = coalesce(scope, excluded.scope), ports = coalesce(ports, excluded.ports),"
	        " addresses = coalesce(addresses, excluded.addresses),"
	        " seed = coalesce(seed, excluded.seed),"
	        " started = coalesce(started, excluded.started), ended = excluded.ended,"
	        " finished = excluded.finished, trailer_observation = excluded.trailer_observation,"
	        " trailer = excluded.trailer",
};

/* A remembered finding row id: only a hint, checked against the row. */
struct rowid_slot {
	int64_t key; /* kz_store_id_key of the finding id */
	int64_t row;
};

/* 2^20 slots, 16 MiB: the findings a busy hub sees again and again. */
#define ROWID_SLOTS (1u << 20)

/* A stored observation: its id and its finding's id, as 16 bytes each. */
struct seen_obs {
	uint8_t oid[16];
	uint8_t fid[16];
};

/* 2^19 pairs, 16 MiB; at most SEEN_PENDING_MAX wait for their commit (a
 * transaction storing more simply does not remember the rest). */
#define SEEN_SLOTS       (1u << 19)
#define SEEN_PENDING_MAX (1u << 17)

struct kz_ingest {
	struct kz_store *store;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int64_t inactive_after;
	size_t sightings_keep;
	/* The pfx2as version last interned, and its row. */
	char *pfx_version;
	int64_t pfx_version_id;
	/* Finding row ids by key (find()), direct-mapped: a slot holds the
	 * last finding whose key maps there. */
	struct rowid_slot *rows;
	/* Committed observations (see the design note), allocated at the
	 * first commit reported; pairs of the open transaction wait in
	 * pending. */
	struct seen_obs *seen;
	struct seen_obs *pending;
	size_t npending, pending_cap;
};

int kz_ingest_open(struct kz_store *s, const struct kz_ingest_config *cfg, struct kz_ingest **out,
                   char *err, size_t errlen)
{
	struct kz_ingest *ing = calloc(1, sizeof *ing);
	int rc;
	*out = NULL;
	if (!ing)
		return -ENOMEM;
	ing->store = s;
	ing->db = kz_store_db(s);
	ing->inactive_after =
	        cfg && cfg->inactive_after > 0 ? cfg->inactive_after : KZ_INACTIVE_AFTER_DEFAULT;
	ing->sightings_keep =
	        cfg && cfg->sightings_keep > 0 ? cfg->sightings_keep : KZ_SIGHTINGS_DEFAULT;
	if (ing->sightings_keep > KZ_SIGHTINGS_MAX)
		ing->sightings_keep = KZ_SIGHTINGS_MAX;
	if (!(ing->rows = calloc(ROWID_SLOTS, sizeof *ing->rows))) {
		kz_ingest_close(ing);
		return -ENOMEM;
	}
	/* 32 MiB of page cache holds the pages the writer changes between
	 * checkpoints; reads of the rest go through mmap. A larger cache cost
	 * more than it saved: SQLite walks the cache's hash table at every
	 * commit (12 % of the writer's time with 256 MiB, 1 % with 16 MiB). */
	if ((rc = kz_store_exec(s, "PRAGMA cache_size = -32768; PRAGMA mmap_size = 1073741824", err,
	                        errlen))) {
		kz_ingest_close(ing);
		return rc;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if ((rc = kz_store_prepare(s, sql[i], &ing->st[i], err, errlen))) {
			kz_ingest_close(ing);
			return rc;
		}
	}
	*out = ing;
	return 0;
}

void kz_ingest_close(struct kz_ingest *ing)
{
	if (!ing)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(ing->st[i]);
	free(ing->pfx_version);
	free(ing->rows);
	free(ing->seen);
	free(ing->pending);
	free(ing);
}

/* 32 lowercase hex digits into 16 bytes, or false: one text per value,
 * so that equal bytes mean equal ids (kz_hex_decode takes either case). */
static bool id_bytes(const char *id, uint8_t out[16])
{
	for (size_t i = 0; i < 32; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return id[32] == '\0' && kz_hex_decode(id, 32, out, 16) == 0;
}

/* The pair of an item whose ids are 32 lowercase hex digits (validated ids
 * are; others are never remembered). */
static bool seen_key(const struct item *it, struct seen_obs *k)
{
	static const uint8_t zero[16];
	/* An all-zero pair would match an empty slot: never remembered. */
	return it->oid && it->fid && id_bytes(it->oid, k->oid) && id_bytes(it->fid, k->fid) &&
	       memcmp(k->oid, zero, sizeof zero) != 0;
}

static struct seen_obs *seen_slot(struct seen_obs *table, const struct seen_obs *k)
{
	/* The observation id is a hash already: its first bytes spread. */
	uint32_t h;
	memcpy(&h, k->oid, sizeof h);
	return &table[h & (SEEN_SLOTS - 1)];
}

/* True when a committed transaction stored (or found) this pair. */
static bool seen_has(const struct kz_ingest *ing, const struct seen_obs *k)
{
	return ing->seen && memcmp(seen_slot(ing->seen, k), k, sizeof *k) == 0;
}

/* Remembers a pair of the open transaction, until it ends. */
static void seen_pending(struct kz_ingest *ing, const struct seen_obs *k)
{
	if (ing->npending == ing->pending_cap) {
		if (ing->pending_cap >= SEEN_PENDING_MAX)
			return;
		size_t nc = ing->pending_cap ? ing->pending_cap * 2 : 4096;
		struct seen_obs *nv = reallocarray(ing->pending, nc, sizeof *nv);
		if (!nv)
			return; /* only a shortcut lost */
		ing->pending = nv;
		ing->pending_cap = nc;
	}
	ing->pending[ing->npending++] = *k;
}

void kz_ingest_committed(struct kz_ingest *ing)
{
	if (ing->npending && !ing->seen)
		ing->seen = calloc(SEEN_SLOTS, sizeof *ing->seen);
	for (size_t i = 0; ing->seen && i < ing->npending; i++)
		*seen_slot(ing->seen, &ing->pending[i]) = ing->pending[i];
	ing->npending = 0;
}

void kz_ingest_rolled_back(struct kz_ingest *ing)
{
	ing->npending = 0;
}

void kz_ingest_forget(struct kz_ingest *ing)
{
	ing->npending = 0;
	if (ing->seen)
		memset(ing->seen, 0, SEEN_SLOTS * sizeof *ing->seen);
}

struct kz_store *kz_ingest_store_handle(struct kz_ingest *ing)
{
	return ing->store;
}

/* The store's message for a failed step, as "path: what: why", and the
 * errno the caller returns. */
static int db_fail(struct kz_ingest *ing, int rc, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s: %s", kz_store_path(ing->store), what,
	         sqlite3_errmsg(ing->db));
	return kz_store_errno(rc) ? kz_store_errno(rc) : -EIO;
}

/* Steps a statement that returns no row, then resets it. */
static int step_done(struct kz_ingest *ing, sqlite3_stmt *st, char *err, size_t errlen,
                     const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(ing, rc, err, errlen, what);
	return 0;
}

/* Empty and absent strings are both NULL in the store: one way to ask
 * "has no network" in SQL. */
static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Ports are -1 in memory when unknown, NULL in the store. */
static void bind_port(sqlite3_stmt *st, int i, int32_t port)
{
	if (port >= 0)
		sqlite3_bind_int(st, i, port);
	else
		sqlite3_bind_null(st, i);
}

/* The row of a pfx2as version, interned on first use. */
static int pfx_version_id(struct kz_ingest *ing, const char *version, int64_t now, int64_t *id,
                          char *err, size_t errlen)
{
	*id = 0;
	if (!version)
		return 0;
	if (ing->pfx_version && strcmp(ing->pfx_version, version) == 0) {
		*id = ing->pfx_version_id;
		return 0;
	}
	sqlite3_stmt *st = ing->st[ST_PFX_FIND];
	sqlite3_bind_text(st, 1, version, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ing, rc, err, errlen, "hub_pfx_versions");
	if (rc == SQLITE_DONE) {
		st = ing->st[ST_PFX_INS];
		sqlite3_bind_text(st, 1, version, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		if ((rc = step_done(ing, st, err, errlen, "hub_pfx_versions")))
			return rc;
		*id = sqlite3_last_insert_rowid(ing->db);
	}
	/* The cache is only a hint: a rolled-back insert leaves a stale id,
	 * so it is refreshed at every transaction start (see store). */
	char *copy = strdup(version);
	if (copy) {
		free(ing->pfx_version);
		ing->pfx_version = copy;
		ing->pfx_version_id = *id;
	}
	return 0;
}

/* The finding as the store has it. */
struct found {
	int64_t id;
	struct kz_lc lc;
	int64_t first_seen, last_seen;
	int tlp;
	char asns[KZ_ENRICH_ASNS_MAX * 11 + 1];
	uint8_t *sightings;
	size_t sightings_len;
	enum kz_finding_kind kind;
};

/* A stored state name; an unknown one (a newer kizuki wrote it) reads as
 * NONE, which the lifecycle treats as new. */
static enum kz_fstate state_of(const unsigned char *s)
{
	enum kz_fstate st = KZ_FSTATE_NONE;
	if (s && kz_fstate_parse((const char *)s, &st) != 0)
		st = KZ_FSTATE_NONE;
	return st;
}

/* Reads the finding at the statement's row into f. Returns 1, or -ENOMEM. */
static int found_row(sqlite3_stmt *st, struct found *f)
{
	f->id = sqlite3_column_int64(st, 0);
	f->lc.state = state_of(sqlite3_column_text(st, 1));
	f->lc.base = state_of(sqlite3_column_text(st, 2));
	f->lc.weak = sqlite3_column_int(st, 3) != 0;
	f->lc.unreachable = (uint32_t)sqlite3_column_int64(st, 4);
	f->first_seen = sqlite3_column_int64(st, 5);
	f->last_seen = sqlite3_column_int64(st, 6);
	f->tlp = sqlite3_column_int(st, 7);
	const unsigned char *a = sqlite3_column_text(st, 8);
	snprintf(f->asns, sizeof f->asns, "%s", a ? (const char *)a : "");
	const void *blob = sqlite3_column_blob(st, 9);
	int blen = sqlite3_column_bytes(st, 9);
	if (blob && blen > 0) {
		if (!(f->sightings = malloc((size_t)blen)))
			return -ENOMEM;
		memcpy(f->sightings, blob, (size_t)blen);
		f->sightings_len = (size_t)blen;
	}
	const unsigned char *k = sqlite3_column_text(st, 10);
	if (!k || kz_finding_kind_parse((const char *)k, &f->kind) != 0)
		f->kind = KZ_KIND_OTHER;
	return 1;
}

/* The slot a finding id's key maps to. */
static struct rowid_slot *rowid_slot(struct kz_ingest *ing, int64_t key)
{
	/* The key is already a hash's first 64 bits: its low bits spread. */
	return &ing->rows[(uint64_t)key & (ROWID_SLOTS - 1)];
}

/* Remembers where a finding's row is. */
static void remember_row(struct kz_ingest *ing, int64_t key, int64_t row)
{
	struct rowid_slot *sl = rowid_slot(ing, key);
	sl->key = key;
	sl->row = row;
}

/* Looks the finding up. Returns 1 found, 0 not found, or a negative errno.
 *
 * A row id the writer remembers for the id's key is tried first, by the
 * table's own b-tree, and counts only if that row holds this finding id:
 * the hint may be another finding's whose key collides, or stale after a
 * rollback reused the row id. Otherwise, or when it does not hold it, the
 * finding_id index answers. That saves the index descent for most of the
 * records of findings seen before. */
static int find(struct kz_ingest *ing, const char *fid, struct found *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	int64_t key = kz_store_id_key(fid, strlen(fid));
	struct rowid_slot *sl = rowid_slot(ing, key);
	for (int pass = sl->row && sl->key == key ? 0 : 1; pass < 2; pass++) {
		sqlite3_stmt *st = ing->st[pass == 0 ? ST_FIND_ROW : ST_FIND];
		if (pass == 0)
			sqlite3_bind_int64(st, 1, sl->row);
		else
			sqlite3_bind_text(st, 1, fid, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *have = sqlite3_column_text(st, 11);
			if (pass == 1 || (have && strcmp((const char *)have, fid) == 0)) {
				rc = found_row(st, f);
				sqlite3_reset(st);
				if (rc == 1)
					remember_row(ing, key, f->id);
				return rc;
			}
		} else if (rc != SQLITE_DONE) {
			rc = db_fail(ing, rc, err, errlen, "hub_findings");
			sqlite3_reset(st);
			return rc;
		}
		sqlite3_reset(st);
	}
	return 0;
}

/* Survey findings follow the status table; everything else is sighted. */
static enum kz_lc_family family_of(enum kz_finding_kind k)
{
	return k == KZ_KIND_SURVEY ? KZ_LC_SURVEY : KZ_LC_SIGHTINGS;
}

/* Replaces the finding's AS links when its attribution changed. */
static int relink_asns(struct kz_ingest *ing, int64_t finding, enum kz_fstate state,
                       const char *old_asns, const char *new_asns, char *err, size_t errlen)
{
	int rc;
	if (strcmp(old_asns, new_asns) == 0)
		return 0;
	for (const char *p = old_asns; *p;) {
		sqlite3_bind_int64(ing->st[ST_DEL_ASN], 1, strtoll(p, NULL, 10));
		sqlite3_bind_int64(ing->st[ST_DEL_ASN], 2, finding);
		if ((rc = step_done(ing, ing->st[ST_DEL_ASN], err, errlen, "hub_finding_asns")))
			return rc;
		p = strchr(p, ',');
		p = p ? p + 1 : "";
	}
	for (const char *p = new_asns; *p;) {
		sqlite3_bind_int64(ing->st[ST_INS_ASN], 1, strtoll(p, NULL, 10));
		sqlite3_bind_int64(ing->st[ST_INS_ASN], 2, finding);
		sqlite3_bind_text(ing->st[ST_INS_ASN], 3, kz_fstate_name(state), -1, SQLITE_STATIC);
		if ((rc = step_done(ing, ing->st[ST_INS_ASN], err, errlen, "hub_finding_asns")))
			return rc;
		p = strchr(p, ',');
		p = p ? p + 1 : "";
	}
	return 0;
}

/* One row of hub_transitions, through the writer's cached statement. */
static int log_transition(struct kz_ingest *ing, int64_t finding, int64_t now, enum kz_fstate from,
                          enum kz_fstate to, const char *oid, char *err, size_t errlen)
{
	char cause[64];
	snprintf(cause, sizeof cause, "observation %s", oid);
	sqlite3_stmt *st = ing->st[ST_INS_TRANSITION];
	sqlite3_bind_int64(st, 1, finding);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, kz_fstate_name(from), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kz_fstate_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, cause, -1, SQLITE_TRANSIENT);
	return step_done(ing, st, err, errlen, "hub_transitions");
}

/* True when the finding holds the observation already: rows with the same
 * key, confirmed on the full id (keys of different ids may collide).
 * Returns 1 known, 0 not, or a negative errno. */
static int known_observation(struct kz_ingest *ing, const struct item *it, int64_t finding,
                             int64_t okey, char *err, size_t errlen)
{
	sqlite3_stmt *st = ing->st[ST_OBS_PROBE];
	sqlite3_bind_int64(st, 1, finding);
	sqlite3_bind_int64(st, 2, okey);
	int rc, known = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *have = sqlite3_column_text(st, 0);
		if (have && strcmp((const char *)have, it->oid) == 0) {
			known = 1;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ing, rc, err, errlen, "hub_observations");
	return known;
}

/* Inserts the observation row unless the finding has it (probe: the
 * finding existed before this record). Returns 1 stored, 0 duplicate, or
 * a negative errno. */
static int insert_observation(struct kz_ingest *ing, const struct kz_ingest_batch *b,
                              const struct item *it, int64_t obs_id, int64_t finding, bool probe,
                              int64_t pfx_id, int64_t now, char *err, size_t errlen)
{
	int64_t okey = kz_store_id_key(it->oid, strlen(it->oid));
	if (probe) {
		int known = known_observation(ing, it, finding, okey, err, errlen);
		if (known != 0)
			return known < 0 ? known : 0;
	}
	sqlite3_stmt *st = ing->st[ST_INS_OBS];
	sqlite3_bind_int64(st, 1, obs_id);
	sqlite3_bind_text(st, 2, it->oid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, finding);
	sqlite3_bind_int64(st, 4, it->time_source);
	sqlite3_bind_int64(st, 5, now);
	bind_port(st, 6, it->port);
	bind_text_or_null(st, 7, it->origin);
	bind_text_or_null(st, 8, it->status);
	sqlite3_bind_text(st, 9, it->asns, -1, SQLITE_STATIC);
	bind_text_or_null(st, 10, it->en.network);
	if (pfx_id)
		sqlite3_bind_int64(st, 11, pfx_id);
	else
		sqlite3_bind_null(st, 11);
	bind_text_or_null(st, 12, it->en.cc);
	sqlite3_bind_int(st, 13, (int)it->tlp);
	sqlite3_bind_text(st, 14, b->submitter, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 15, b->anonymous ? 1 : 0);
	sqlite3_bind_text(st, 16, it->raw, (int)it->rawlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 17, okey);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(ing, rc, err, errlen, "hub_observations");
	return 1;
}

/* Creates the finding for its first observation. */
static int insert_finding(struct kz_ingest *ing, const struct item *it, int64_t obs_id, int64_t now,
                          int64_t *finding, struct kz_lc *lc, char *err, size_t errlen)
{
	struct kz_sighting s = { it->time_source, it->port, it->origin, strlen(it->origin) };
	uint8_t *blob = NULL;
	size_t blen = 0;
	int rc = kz_sightings_append(NULL, 0, &s, ing->sightings_keep, &blob, &blen);
	if (rc)
		return rc;
	memset(lc, 0, sizeof *lc);
	kz_lc_apply(lc, family_of(it->kind), it->ev);
	sqlite3_stmt *st = ing->st[ST_INS_FINDING];
	for (unsigned attempt = 0;; attempt++) {
		char ticket[KZ_TICKET_STRLEN];
		if ((rc = kz_ticket_make(it->fid, it->time_source, attempt > 2 ? 2 : attempt,
		                         ticket))) {
			/* Times outside 0000-9999 were refused by the validator. */
			free(blob);
			snprintf(err, errlen, "ticket for %s: bad finding id", it->fid);
			return rc;
		}
		if (attempt > 2) {
			/* Three slices of the id collided on one day: number on. */
			char extra[KZ_TICKET_STRLEN + 8];
			snprintf(extra, sizeof extra, "%.9s%08X", ticket,
			         (unsigned)(attempt * 2654435761u));
			memcpy(ticket, extra, KZ_TICKET_STRLEN - 1);
			ticket[KZ_TICKET_STRLEN - 1] = '\0';
		}
		sqlite3_bind_text(st, 1, it->fid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, kz_finding_kind_name(it->kind), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, it->feed, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, it->taxonomy, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, it->ctype, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, it->identifier ? it->identifier : it->ctype, -1,
		                  SQLITE_STATIC);
		bind_text_or_null(st, 7, it->ip);
		bind_port(st, 8, it->port);
		bind_text_or_null(st, 9, it->transport);
		bind_text_or_null(st, 10, it->application);
		bind_text_or_null(st, 11, it->status);
		sqlite3_bind_text(st, 12, it->asns, -1, SQLITE_STATIC);
		bind_text_or_null(st, 13, it->en.network);
		bind_text_or_null(st, 14, it->en.as_name);
		bind_text_or_null(st, 15, it->en.cc);
		bind_text_or_null(st, 16, it->en.region);
		bind_text_or_null(st, 17, it->en.city);
		sqlite3_bind_int64(st, 18, it->time_source);
		sqlite3_bind_text(st, 19, kz_fstate_name(lc->state), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 20, now);
		sqlite3_bind_text(st, 21, kz_fstate_name(lc->base), -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 22, lc->weak ? 1 : 0);
		sqlite3_bind_text(st, 23, ticket, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 24, (int)it->tlp);
		sqlite3_bind_int64(st, 25, obs_id);
		sqlite3_bind_blob(st, 26, blob, (int)blen, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			break;
		/* Only the ticket can collide: the finding id was looked up. */
		if (rc == SQLITE_CONSTRAINT && attempt < 16)
			continue;
		free(blob);
		return db_fail(ing, rc, err, errlen, "hub_findings");
	}
	free(blob);
	*finding = sqlite3_last_insert_rowid(ing->db);
	remember_row(ing, kz_store_id_key(it->fid, strlen(it->fid)), *finding);
	return relink_asns(ing, *finding, lc->state, "", it->asns, err, errlen);
}

/* Applies a new observation to a known finding. */
static int update_finding(struct kz_ingest *ing, const struct item *it, struct found *f,
                          int64_t obs_id, int64_t now, char *err, size_t errlen)
{
	struct kz_sighting s = { it->time_source, it->port, it->origin, strlen(it->origin) };
	uint8_t *blob = NULL;
	size_t blen = 0;
	int rc = kz_sightings_append(f->sightings, f->sightings_len, &s, ing->sightings_keep, &blob,
	                             &blen);
	if (rc)
		return rc;
	enum kz_fstate before = f->lc.state;
	bool newer = it->time_source >= f->last_seen;
	enum kz_lc_family fam = family_of(f->kind);
	/* A late survey verdict is history, not news: stored, not applied. */
	if (newer || fam == KZ_LC_SIGHTINGS)
		kz_lc_apply(&f->lc, fam, it->ev);
	sqlite3_stmt *st;
	if (newer) {
		st = ing->st[ST_UPD_NEWER];
		sqlite3_bind_int64(st, 1, f->id);
		sqlite3_bind_text(st, 2, it->identifier ? it->identifier : it->ctype, -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(st, 3, it->taxonomy, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, it->ctype, -1, SQLITE_STATIC);
		bind_text_or_null(st, 5, it->status);
		bind_port(st, 6, it->port);
		sqlite3_bind_text(st, 7, it->asns, -1, SQLITE_STATIC);
		bind_text_or_null(st, 8, it->en.network);
		bind_text_or_null(st, 9, it->en.as_name);
		bind_text_or_null(st, 10, it->en.cc);
		bind_text_or_null(st, 11, it->en.region);
		bind_text_or_null(st, 12, it->en.city);
		sqlite3_bind_int64(st, 13, it->time_source);
		sqlite3_bind_text(st, 14, kz_fstate_name(f->lc.base), -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 15, f->lc.weak ? 1 : 0);
		sqlite3_bind_int64(st, 16, f->lc.unreachable);
		sqlite3_bind_int(st, 17, (int)it->tlp);
		sqlite3_bind_int64(st, 18, obs_id);
		sqlite3_bind_int64(st, 19, now);
		sqlite3_bind_blob(st, 20, blob, (int)blen, SQLITE_STATIC);
	} else {
		st = ing->st[ST_UPD_OLDER];
		sqlite3_bind_int64(st, 1, f->id);
		sqlite3_bind_int64(st, 2, it->time_source);
		sqlite3_bind_int(st, 3, (int)it->tlp);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_blob(st, 5, blob, (int)blen, SQLITE_STATIC);
	}
	rc = step_done(ing, st, err, errlen, "hub_findings");
	free(blob);
	if (rc)
		return rc;
	/* The row still has the state from before this record. */
	if (newer && (rc = relink_asns(ing, f->id, before, f->asns, it->asns, err, errlen)))
		return rc;
	if (f->lc.state == before)
		return 0;
	st = ing->st[ST_UPD_STATE];
	sqlite3_bind_int64(st, 1, f->id);
	sqlite3_bind_text(st, 2, kz_fstate_name(f->lc.state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if ((rc = step_done(ing, st, err, errlen, "hub_findings")))
		return rc;
	return log_transition(ing, f->id, now, before, f->lc.state, it->oid, err, errlen);
}

/* The next observation row id: read once per store call, then counted up
 * (see the design note: a stale value fails loudly on the primary key). */
static int next_obs_id(struct kz_ingest *ing, int64_t *id, char *err, size_t errlen)
{
	sqlite3_stmt *st = ing->st[ST_MAX_OBS];
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0) + 1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_fail(ing, rc, err, errlen, "hub_observations");
	return 0;
}

/* One observation: duplicate, new observation of a known finding, or the
 * first observation of a new one. Counts the outcome in the batch. */
static int store_finding_item(struct kz_ingest *ing, struct kz_ingest_batch *b, struct item *it,
                              int64_t *obs_id, int64_t now, char *err, size_t errlen)
{
	struct found f;
	struct seen_obs key;
	int64_t pfx_id = 0;
	bool keyed = seen_key(it, &key);
	if (keyed && seen_has(ing, &key)) {
		b->res.duplicates++;
		return 0;
	}
	int rc = pfx_version_id(ing, it->en.pfx_version, now, &pfx_id, err, errlen);
	if (rc)
		return rc;
	rc = find(ing, it->fid, &f, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		rc = insert_observation(ing, b, it, *obs_id, f.id, true, pfx_id, now, err, errlen);
		if (rc == 1) {
			rc = update_finding(ing, it, &f, *obs_id, now, err, errlen);
			(*obs_id)++;
			if (rc == 0)
				b->res.accepted++;
		} else if (rc == 0) {
			b->res.duplicates++;
		}
		free(f.sightings);
		if (rc >= 0 && keyed)
			seen_pending(ing, &key);
		return rc < 0 ? rc : 0;
	}
	int64_t finding = 0;
	struct kz_lc lc;
	if ((rc = insert_finding(ing, it, *obs_id, now, &finding, &lc, err, errlen)))
		return rc;
	/* A finding just made has no observation to repeat: no probe. */
	rc = insert_observation(ing, b, it, *obs_id, finding, false, pfx_id, now, err, errlen);
	if (rc < 0)
		return rc;
	(*obs_id)++;
	b->res.accepted++;
	if (keyed)
		seen_pending(ing, &key);
	return log_transition(ing, finding, now, KZ_FSTATE_NONE, lc.state, it->oid, err, errlen);
}

/* Text of a run record's field that may be a string or a number. */
static char *text_of(const json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		char buf[32];
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
		return strdup(buf);
	}
	return NULL;
}

/* JSON text of an array or string field (scope, ports), or NULL. */
static char *json_text_of(const json_t *v)
{
	if (json_is_array(v) || json_is_string(v))
		return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return NULL;
}

static int64_t time_of(const json_t *rec, const char *key)
{
	const char *s = sget(rec, key);
	int64_t sec;
	uint32_t ns;
	const char *why;
	if (!s || kz_time_parse_mem(s, strlen(s), &sec, &ns, &why) != 0)
		return INT64_MIN;
	return sec;
}

/* INT64_MIN stands for "no such time". */
static void bind_time(sqlite3_stmt *st, int i, int64_t t)
{
	if (t != INT64_MIN)
		sqlite3_bind_int64(st, i, t);
	else
		sqlite3_bind_null(st, i);
}

/* A survey run's header or trailer. */
static int store_run_item(struct kz_ingest *ing, struct kz_ingest_batch *b, struct item *it,
                          int64_t now, char *err, size_t errlen)
{
	const json_t *rec = it->rec;
	const char *run_id = sget(rec, "extra.run_id");
	bool trailer = it->type == ITEM_RUN_TRAILER;
	if (!run_id)
		run_id = it->fid; /* validated kizuki-survey records have one */
	sqlite3_stmt *st = ing->st[ST_RUN_FIND];
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	bool dup = false;
	char have_oid[40] = "";
	if (rc == SQLITE_ROW) {
		const unsigned char *have = sqlite3_column_text(st, trailer ? 1 : 0);
		dup = have && strcmp((const char *)have, it->oid) == 0;
		if (have && !dup)
			snprintf(have_oid, sizeof have_oid, "%s", (const char *)have);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(ing, rc, err, errlen, "hub_runs");
	if (dup) {
		b->res.duplicates++;
		return 0;
	}
	if (have_oid[0]) {
		/* A run's header (and trailer) observation id is a hash of the run
		 * id and the part, so a different one is a forged or broken
		 * record; replacing the stored one would also make a re-post of
		 * the same body store again. */
		char why[KZ_JSONL_REASON_MAX];
		snprintf(why, sizeof why,
		         "extra.run_id %.64s: the run already has a %s with another "
		         "extra.observation_id (%s); a run has one",
		         run_id, trailer ? "trailer" : "header", have_oid);
		return add_error(b, it->line, why);
	}

	/* Shards: "I/N" in extra.shard, or extra.shard_index and
	 * extra.shard_count. */
	int64_t shard_index = int_or(rec, "extra.shard_index", 0);
	int64_t shard_count = int_or(rec, "extra.shard_count", 1);
	const char *shard = sget(rec, "extra.shard");
	if (shard) {
		long long i = 0, n = 1;
		if (sscanf(shard, "%lld/%lld", &i, &n) == 2) {
			shard_index = i;
			shard_count = n;
		}
	}
	if (shard_count < 1 || shard_index < 0 || shard_index >= shard_count) {
		shard_index = 0;
		shard_count = 1;
	}
	char *scope = json_text_of(json_object_get(rec, "extra.scope"));
	char *ports = json_text_of(json_object_get(rec, "extra.ports"));
	char *seed = text_of(json_object_get(rec, "extra.seed"));
	int64_t started = time_of(rec, "extra.start");
	if (started == INT64_MIN && !trailer)
		started = it->time_source;
	const json_t *addrs = json_object_get(rec, "extra.addresses");

	st = ing->st[trailer ? ST_RUN_TRAILER : ST_RUN_HEADER];
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, sget(rec, "extra.scanner_ip"));
	bind_text_or_null(st, 3, sget(rec, "extra.scope_digest"));
	bind_text_or_null(st, 4, scope);
	bind_text_or_null(st, 5, ports);
	if (json_is_integer(addrs))
		sqlite3_bind_int64(st, 6, json_integer_value(addrs));
	else
		sqlite3_bind_null(st, 6);
	bind_text_or_null(st, 7, seed);
	sqlite3_bind_int64(st, 8, shard_index);
	sqlite3_bind_int64(st, 9, shard_count);
	bind_time(st, 10, started);
	bool finished = false;
	if (trailer) {
		int64_t ended = time_of(rec, "extra.end");
		bind_time(st, 11, ended != INT64_MIN ? ended : it->time_source);
		/* A trailer means the run finished, unless it says otherwise
		 * (a run stopped by a signal still writes one). */
		const json_t *fin = json_object_get(rec, "extra.finished");
		const json_t *intr = json_object_get(rec, "extra.interrupted");
		finished = !(json_is_false(fin) || json_is_true(intr));
		sqlite3_bind_int(st, 12, finished ? 1 : 0);
		sqlite3_bind_text(st, 13, it->oid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 14, it->raw, (int)it->rawlen, SQLITE_STATIC);
		sqlite3_bind_text(st, 15, b->submitter, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 16, now);
	} else {
		sqlite3_bind_text(st, 11, it->oid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, it->raw, (int)it->rawlen, SQLITE_STATIC);
		sqlite3_bind_text(st, 13, b->submitter, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 14, now);
	}
	rc = step_done(ing, st, err, errlen, "hub_runs");
	free(scope);
	free(ports);
	free(seed);
	if (rc)
		return rc;
	b->res.accepted++;
	if (finished) {
		size_t marked = 0;
		if ((rc = kz_findings_apply_coverage(ing->db, run_id, now, &marked, err, errlen)))
			return rc;
	}
	return 0;
}

int kz_ingest_store(struct kz_ingest *ing, struct kz_ingest_batch *b, int64_t now, char *err,
                    size_t errlen)
{
	int64_t obs_id = 0;
	int rc;
	if (!b->stored) {
		b->stored = true;
		b->prep_rejected = b->res.rejected;
		b->prep_nerrors = b->res.nerrors;
	}
	b->res.accepted = 0;
	b->res.duplicates = 0;
	b->res.rejected = b->prep_rejected;
	b->res.nerrors = b->prep_nerrors;
	/* Refreshed per call: an earlier transaction may have rolled back. */
	free(ing->pfx_version);
	ing->pfx_version = NULL;
	if ((rc = next_obs_id(ing, &obs_id, err, errlen)))
		return rc;
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		uint64_t acc = b->res.accepted, dup = b->res.duplicates;
		if (it->type == ITEM_FINDING)
			rc = store_finding_item(ing, b, it, &obs_id, now, err, errlen);
		else
			rc = store_run_item(ing, b, it, now, err, errlen);
		if (rc)
			return rc;
		it->outcome = b->res.accepted > acc ? 1 : b->res.duplicates > dup ? 2 : 0;
	}
	return 0;
}

void kz_ingest_batch_feeds(const struct kz_ingest_batch *b,
                           void (*fn)(void *arg, const char *feed, uint64_t accepted,
                                      uint64_t duplicates),
                           void *arg)
{
	/* Feeds per body are few: a quadratic pass over distinct names. */
	for (size_t i = 0; i < b->n; i++) {
		const char *feed = b->items[i].feed;
		bool first = true;
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(b->items[j].feed, feed) != 0;
		if (!first)
			continue;
		uint64_t acc = 0, dup = 0;
		for (size_t j = i; j < b->n; j++) {
			if (strcmp(b->items[j].feed, feed) != 0)
				continue;
			acc += b->items[j].outcome == 1;
			dup += b->items[j].outcome == 2;
		}
		fn(arg, feed, acc, dup);
	}
}

void kz_ingest_result_clear(struct kz_ingest_result *res)
{
	free(res->errors);
	memset(res, 0, sizeof *res);
}

int kz_ingest_events(struct kz_ingest *ing, const char *body, size_t len, struct kz_enrich *enrich,
                     const struct kz_submitter *who, struct kz_ingest_result *res, char *err,
                     size_t errlen)
{
	struct kz_ingest_batch *b = NULL;
	struct kz_ingest_config cfg = { ing->inactive_after, ing->sightings_keep };
	int64_t now = (int64_t)time(NULL);
	memset(res, 0, sizeof *res);
	int rc = kz_ingest_prepare(body, len, enrich, who, now, &cfg, &b);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if (b->n) {
		kz_ingest_rolled_back(ing); /* nothing of an earlier transaction */
		if ((rc = kz_store_begin(ing->store, err, errlen)))
			goto out;
		if ((rc = kz_ingest_store(ing, b, now, err, errlen)) ||
		    (rc = kz_store_commit(ing->store, err, errlen))) {
			kz_store_rollback(ing->store);
			kz_ingest_rolled_back(ing);
			goto out;
		}
		kz_ingest_committed(ing);
	}
	*res = b->res;
	b->res.errors = NULL; /* moved to res */
out:
	kz_ingest_batch_free(b);
	return rc;
}
