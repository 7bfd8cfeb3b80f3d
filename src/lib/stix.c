/*
 * STIX 2.1 bundles (see stix.h and docs/reports.md).
 *
 * The bundle is streamed: the identity first, then each finding's objects
 * as its row is read, then the objects several findings share (address or
 * AS objects, the kinds of thing seen, the extension definition, the
 * marking definitions), whose marking is only known once every finding that
 * refers to them has been read ("merged data keeps the most restrictive
 * TLP"). Only those shared objects are held in memory, in a small hash map.
 */
#include "stix.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"
#include "uuid.h"

/* The creation time of objects that do not come from a finding (the
 * identity, the kinds, the extension definition): fixed, so their ids and
 * contents never change. */
#define FIXED_TIME "2026-01-01T00:00:00.000Z"
#define TLP2_EXT   "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define MAP_MAX    (32u << 20)

/* ------------------------------------------------------------ key map */

struct kent {
	char *key;
	enum kz_tlp tlp;
	char *aux; /* an AS's name */
};

struct kmap {
	struct kent *e;
	size_t cap, n;
};

/* FNV-1a: the map holds a few ids per finding; any spread hash will do. */
static uint64_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* Doubles the table (a power of two, so that a mask picks the slot) and
 * moves every entry; refuses beyond MAP_MAX entries. */
static int kmap_grow(struct kmap *m)
{
	size_t nc = m->cap ? m->cap * 2 : 256;
	if (nc > MAP_MAX)
		return -E2BIG;
	struct kent *ne = calloc(nc, sizeof *ne);
	if (!ne)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->e[i].key)
			continue;
		size_t j = fnv(m->e[i].key) & (nc - 1);
		while (ne[j].key)
			j = (j + 1) & (nc - 1);
		ne[j] = m->e[i];
	}
	free(m->e);
	m->e = ne;
	m->cap = nc;
	return 0;
}

/* The entry of key, created (tlp unset) when missing; NULL when out of
 * memory. */
static struct kent *kmap_get(struct kmap *m, const char *key)
{
	if ((m->n + 1) * 10 > m->cap * 7 && kmap_grow(m) != 0)
		return NULL;
	size_t j = fnv(key) & (m->cap - 1);
	while (m->e[j].key) {
		if (strcmp(m->e[j].key, key) == 0)
			return &m->e[j];
		j = (j + 1) & (m->cap - 1);
	}
	if (!(m->e[j].key = strdup(key)))
		return NULL;
	m->n++;
	return &m->e[j];
}

/* Frees the keys, the AS names and the table. */
static void kmap_free(struct kmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->e[i].key);
		free(m->e[i].aux);
	}
	free(m->e);
	memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ objects */

struct stix {
	FILE *out;
	const struct kz_feed_opts *o;
	const struct kz_org *org;
	char identity[80];
	struct kz_pseudo ps;
	bool used[KZ_TLP_RED + 1]; /* marking definitions referred to */
	struct kmap addrs;         /* address SCO ids -> most restrictive TLP, value */
	struct kmap ases;          /* "64496" -> TLP, name */
	struct kmap kinds;         /* kind object keys ("malware|mirai") */
	size_t nobj;
	bool failed;
};

/* STIX wants milliseconds; the store keeps seconds, so the fraction is
 * always .000 (a time out of range becomes the fixed time, never "").*/
static void ms_time(int64_t sec, char out[KZ_TIME_MS_STRLEN])
{
	if (kz_time_format_ms(sec * 1000, out) != 0)
		snprintf(out, KZ_TIME_MS_STRLEN, FIXED_TIME);
}

/* "<type>--<UUIDv5 of the |-joined fields in kizuki's namespace>". */
static void make_id(char *out, size_t outlen, const char *type, size_t n, const char *const *fields)
{
	char u[KZ_UUID_STRLEN];
	kz_uuid_kizuki(u, n, fields);
	snprintf(out, outlen, "%s--%s", type, u);
}

/* A marking reference list holding tlp's marking definition. */
static json_t *marking(struct stix *s, enum kz_tlp tlp)
{
	if (tlp < KZ_TLP_CLEAR || tlp > KZ_TLP_RED)
		tlp = KZ_TLP_RED;
	s->used[tlp] = true;
	return json_pack("[s]", kz_tlp_stix_marking(tlp));
}

/* Writes an object and drops the reference. */
static void emit(struct stix *s, json_t *obj)
{
	if (!obj) {
		s->failed = true;
		return;
	}
	if (s->nobj++)
		fputs(",\n", s->out);
	if (json_dumpf(obj, s->out, JSON_COMPACT) != 0)
		s->failed = true;
	json_decref(obj);
}

/* type, spec_version, id, created, modified, created_by_ref, marking. */
static json_t *sdo(struct stix *s, const char *type, const char *id, const char *created,
                   const char *modified, enum kz_tlp tlp)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "type", type, "spec_version", "2.1",
	                 "id", id, "created", created, "modified", modified, "created_by_ref",
	                 s->identity, "object_marking_refs", marking(s, tlp));
}

/* The hub as the identity that creates every object and sights every
 * finding; its id follows its name and domain, so it is stable. */
static void emit_identity(struct stix *s)
{
	const char *f[] = { "identity", s->org->name, s->org->domain };
	make_id(s->identity, sizeof s->identity, "identity", 3, f);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "type", "identity",
	                      "spec_version", "2.1", "id", s->identity, "created", FIXED_TIME,
	                      "modified", FIXED_TIME, "name", s->org->name, "identity_class",
	                      "organization", "contact_information", s->org->contact,
	                      "object_marking_refs", marking(s, KZ_TLP_CLEAR));
	emit(s, o);
}

/* The SCO id of an address: UUIDv5 in STIX's namespace over the JCS form
 * of its id-contributing property, {"value":"..."} (STIX 2.1 2.9). */
static void addr_sco_id(const char *ip, char *out, size_t outlen)
{
	char name[96], u[KZ_UUID_STRLEN];
	bool v6 = strchr(ip, ':') != NULL;
	int n = snprintf(name, sizeof name, "{\"value\":\"%s\"}", ip);
	if (kz_uuid5(KZ_UUID_NS_STIX, name, (size_t)n, u) != 0)
		u[0] = '\0';
	snprintf(out, outlen, "%s--%s", v6 ? "ipv6-addr" : "ipv4-addr", u);
}

/* The autonomous-system SCO id, by its id-contributing property, number. */
static void as_sco_id(uint32_t asn, char *out, size_t outlen)
{
	char name[48], u[KZ_UUID_STRLEN];
	int n = snprintf(name, sizeof name, "{\"number\":%u}", asn);
	if (kz_uuid5(KZ_UUID_NS_STIX, name, (size_t)n, u) != 0)
		u[0] = '\0';
	snprintf(out, outlen, "autonomous-system--%s", u);
}

/* Remembers a shared object and raises its label to tlp. */
static struct kent *note(struct stix *s, struct kmap *m, const char *key, enum kz_tlp tlp)
{
	struct kent *e = kmap_get(m, key);
	if (!e) {
		s->failed = true;
		return NULL;
	}
	e->tlp = kz_tlp_most_restrictive(e->tlp, tlp);
	return e;
}

/* STIX's indicator-type vocabulary for a finding: a surveyed device or a
 * DoS victim is not an attacker, so it is never "malicious-activity". */
static const char *indicator_types(const struct kz_frow *f)
{
	if (strcmp(f->kind, "infected") == 0)
		return "malicious-activity";
	if (strcmp(f->kind, "scanner") == 0)
		return "anomalous-activity";
	if (kz_share_is_source(f))
		return "malicious-activity";
	return "unknown"; /* surveyed devices and DoS victims: not attackers */
}

/* The key of the object naming what a finding is ("malware|mirai"), for
 * pseudonymised sightings. */
static void kind_key(const struct kz_frow *f, char *out, size_t outlen)
{
	const char *k = f->kind;
	if (strcmp(k, "infected") == 0 ||
	    (strcmp(k, "other") == 0 && strcmp(f->taxonomy, "malicious-code") == 0))
		snprintf(out, outlen, "malware|%s", f->identifier);
	else if (strcmp(k, "scanner") == 0)
		snprintf(out, outlen, "tool|%s", f->identifier);
	else if (strcmp(k, "survey") == 0)
		snprintf(out, outlen, "vulnerability|%s|%s", f->identifier,
		         f->application ? f->application : "");
	else if (strcmp(k, "dos-victim") == 0)
		snprintf(out, outlen, "attack-pattern|backscatter");
	else
		snprintf(out, outlen, "attack-pattern|%s/%s/%s", f->taxonomy, f->type,
		         f->identifier);
}

/* The id of a kind object: its type is the key's first field. */
static void kind_id(const char *key, char *out, size_t outlen)
{
	char type[32];
	size_t n = strcspn(key, "|");
	snprintf(type, sizeof type, "%.*s", (int)(n < sizeof type ? n : sizeof type - 1), key);
	const char *f[] = { key };
	make_id(out, outlen, type, 1, f);
}

/* The objects of one finding with its real address. */
static void finding_plain(struct stix *s, const struct kz_frow *f)
{
	char created[KZ_TIME_MS_STRLEN], modified[KZ_TIME_MS_STRLEN], first[KZ_TIME_MS_STRLEN],
	        last[KZ_TIME_MS_STRLEN], until[KZ_TIME_MS_STRLEN];
	char sco[96], ind[96], od[96], sig[96], pattern[128], name[160];
	ms_time(f->first_seen, created);
	ms_time(f->updated > f->first_seen ? f->updated : f->first_seen, modified);
	ms_time(f->first_seen, first);
	ms_time(f->last_seen >= f->first_seen ? f->last_seen : f->first_seen, last);
	ms_time((f->last_seen >= f->first_seen ? f->last_seen : f->first_seen) + KZ_STIX_VALID_FOR,
	        until);
	addr_sco_id(f->ip, sco, sizeof sco);
	bool v6 = strchr(f->ip, ':') != NULL;
	const char *a[] = { "indicator", f->finding_id };
	make_id(ind, sizeof ind, "indicator", 2, a);
	const char *b[] = { "observed-data", f->finding_id };
	make_id(od, sizeof od, "observed-data", 2, b);
	const char *c[] = { "sighting", f->finding_id };
	make_id(sig, sizeof sig, "sighting", 2, c);
	snprintf(pattern, sizeof pattern, "[%s:value = '%s']", v6 ? "ipv6-addr" : "ipv4-addr",
	         f->ip);
	if (f->port >= 0)
		snprintf(name, sizeof name, "%s %s port %d", f->identifier, f->ip, f->port);
	else
		snprintf(name, sizeof name, "%s %s", f->identifier, f->ip);
	struct kent *e = note(s, &s->addrs, sco, f->tlp);
	if (e && !e->aux)
		e->aux = strdup(f->ip);
	long long nobs = f->count < 1 ? 1 : f->count > 999999999 ? 999999999 : f->count;

	json_t *o = sdo(s, "indicator", ind, created, modified, f->tlp);
	if (o && json_object_update_new(
	                 o, json_pack("{s:s, s:[s], s:s, s:s, s:s, s:s, s:s}", "name", name,
	                              "indicator_types", indicator_types(f), "pattern", pattern,
	                              "pattern_type", "stix", "pattern_version", "2.1",
	                              "valid_from", first, "valid_until", until)) != 0)
		s->failed = true;
	emit(s, o);
	o = sdo(s, "observed-data", od, created, modified, f->tlp);
	if (o &&
	    json_object_update_new(o, json_pack("{s:s, s:s, s:I, s:[s]}", "first_observed", first,
	                                        "last_observed", last, "number_observed",
	                                        (json_int_t)nobs, "object_refs", sco)) != 0)
		s->failed = true;
	emit(s, o);
	o = sdo(s, "sighting", sig, created, modified, f->tlp);
	if (o &&
	    json_object_update_new(o, json_pack("{s:s, s:s, s:I, s:s, s:[s], s:[s]}", "first_seen",
	                                        first, "last_seen", last, "count", (json_int_t)nobs,
	                                        "sighting_of_ref", ind, "observed_data_refs", od,
	                                        "where_sighted_refs", s->identity)) != 0)
		s->failed = true;
	emit(s, o);
}

/* The first AS of a finding's list, or 0. */
static uint32_t first_asn(const char *asns)
{
	unsigned long long v = strtoull(asns, NULL, 10);
	return v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
}

/* The objects of one finding under a partner key: no address anywhere. */
static void finding_pseudo(struct stix *s, const struct kz_frow *f)
{
	char created[KZ_TIME_MS_STRLEN], modified[KZ_TIME_MS_STRLEN], first[KZ_TIME_MS_STRLEN],
	        last[KZ_TIME_MS_STRLEN];
	char pseudo[KZ_ADDR_STRLEN], od[96], sig[96], kkey[200], kid[96], asid[96];
	if (kz_pseudo_addr(&s->ps, f->ip, pseudo) != 0)
		return; /* an address that does not parse is left out, never shown */
	ms_time(f->first_seen, created);
	ms_time(f->updated > f->first_seen ? f->updated : f->first_seen, modified);
	ms_time(f->first_seen, first);
	ms_time(f->last_seen >= f->first_seen ? f->last_seen : f->first_seen, last);
	const char *b[] = { "observed-data", f->finding_id, s->ps.key_id };
	make_id(od, sizeof od, "observed-data", 3, b);
	const char *c[] = { "sighting", f->finding_id, s->ps.key_id };
	make_id(sig, sizeof sig, "sighting", 3, c);
	kind_key(f, kkey, sizeof kkey);
	kind_id(kkey, kid, sizeof kid);
	if (!note(s, &s->kinds, kkey, KZ_TLP_CLEAR))
		return;
	long long nobs = f->count < 1 ? 1 : f->count > 999999999 ? 999999999 : f->count;
	json_t *ext = json_pack("{s:{s:s, s:s, s:s}}", KZ_STIX_PSEUDONYM_EXT, "extension_type",
	                        "property-extension", "pseudonym", pseudo, "key_id", s->ps.key_id);
	uint32_t asn = first_asn(f->asns);
	bool have_od = asn != 0;
	if (have_od) {
		char key[16];
		snprintf(key, sizeof key, "%u", asn);
		struct kent *e = note(s, &s->ases, key, f->tlp);
		if (e && !e->aux && f->as_name)
			e->aux = strdup(f->as_name);
		as_sco_id(asn, asid, sizeof asid);
		json_t *o = sdo(s, "observed-data", od, created, modified, f->tlp);
		if (o &&
		    json_object_update_new(
		            o, json_pack("{s:s, s:s, s:I, s:[s], s:O}", "first_observed", first,
		                         "last_observed", last, "number_observed", (json_int_t)nobs,
		                         "object_refs", asid, "extensions", ext)) != 0)
			s->failed = true;
		emit(s, o);
	}
	json_t *o = sdo(s, "sighting", sig, created, modified, f->tlp);
	if (o &&
	    json_object_update_new(o, json_pack("{s:s, s:s, s:I, s:s, s:[s], s:O}", "first_seen",
	                                        first, "last_seen", last, "count", (json_int_t)nobs,
	                                        "sighting_of_ref", kid, "where_sighted_refs",
	                                        s->identity, "extensions", ext)) != 0)
		s->failed = true;
	if (o && have_od && json_object_set_new(o, "observed_data_refs", json_pack("[s]", od)))
		s->failed = true;
	emit(s, o);
	json_decref(ext);
}

/* The object naming a kind of finding, from its key. */
static void emit_kind(struct stix *s, const struct kent *e)
{
	char id[96], what[200];
	kind_id(e->key, id, sizeof id);
	const char *rest = strchr(e->key, '|') + 1;
	json_t *o = sdo(s, "", id, FIXED_TIME, FIXED_TIME, e->tlp);
	if (!o) {
		s->failed = true;
		return;
	}
	int bad = 0;
	if (strncmp(e->key, "malware|", 8) == 0) {
		bad |= json_object_set_new(o, "type", json_string("malware"));
		bad |= json_object_set_new(o, "name", json_string(rest));
		bad |= json_object_set_new(o, "is_family", json_true());
		bad |= json_object_set_new(o, "malware_types", json_pack("[s]", "bot"));
	} else if (strncmp(e->key, "tool|", 5) == 0) {
		bad |= json_object_set_new(o, "type", json_string("tool"));
		bad |= json_object_set_new(o, "name", json_string(rest));
		bad |= json_object_set_new(o, "tool_types",
		                           json_pack("[s]", "information-gathering"));
	} else if (strncmp(e->key, "vulnerability|", 14) == 0) {
		const char *bar = strchr(rest, '|');
		snprintf(what, sizeof what, "%.*s%s%s%s", (int)(bar - rest), rest,
		         bar[1] ? " (" : "", bar + 1, bar[1] ? ")" : "");
		bad |= json_object_set_new(o, "type", json_string("vulnerability"));
		bad |= json_object_set_new(o, "name", json_string(what));
	} else {
		bad |= json_object_set_new(o, "type", json_string("attack-pattern"));
		bad |= json_object_set_new(
		        o, "name",
		        json_string(strcmp(rest, "backscatter") == 0
		                            ? "denial of service with spoofed sources (backscatter)"
		                            : rest));
	}
	if (bad)
		s->failed = true;
	emit(s, o);
}

/* Writes the objects several findings share, now that every finding that
 * refers to them has been read and their labels are final. */
static void emit_shared(struct stix *s)
{
	for (size_t i = 0; i < s->addrs.cap; i++) {
		const struct kent *e = &s->addrs.e[i];
		if (!e->key)
			continue;
		const char *type = strncmp(e->key, "ipv6", 4) == 0 ? "ipv6-addr" : "ipv4-addr";
		emit(s, json_pack("{s:s, s:s, s:s, s:s, s:o}", "type", type, "spec_version", "2.1",
		                  "id", e->key, "value", e->aux ? e->aux : "",
		                  "object_marking_refs", marking(s, e->tlp)));
	}
	for (size_t i = 0; i < s->ases.cap; i++) {
		const struct kent *e = &s->ases.e[i];
		char id[96];
		if (!e->key)
			continue;
		uint32_t asn = (uint32_t)strtoul(e->key, NULL, 10);
		as_sco_id(asn, id, sizeof id);
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o}", "type", "autonomous-system",
		                      "spec_version", "2.1", "id", id, "number", (json_int_t)asn,
		                      "object_marking_refs", marking(s, e->tlp));
		if (o && e->aux)
			json_object_set_new(o, "name", json_string(e->aux));
		emit(s, o);
	}
	for (size_t i = 0; i < s->kinds.cap; i++)
		if (s->kinds.e[i].key)
			emit_kind(s, &s->kinds.e[i]);
	if (s->ps.cp) {
		json_t *o = sdo(s, "extension-definition", KZ_STIX_PSEUDONYM_EXT, FIXED_TIME,
		                FIXED_TIME, KZ_TLP_CLEAR);
		if (o &&
		    json_object_update_new(
		            o, json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "name",
		                         "kizuki pseudonymised address", "description",
		                         "The address this object is about, replaced by its "
		                         "Crypto-PAn pseudonym (prefix-preserving) under the key "
		                         "named by key_id. A pseudonym is not an address: do not "
		                         "match, block or look it up.",
		                         "schema",
		                         "Properties: pseudonym (string, an IPv4 or IPv6 address "
		                         "in form, the Crypto-PAn image of the real one); key_id "
		                         "(string, the name of the partner's key that made it). "
		                         "kizuki docs/reports.md, 'Pseudonymised feeds'.",
		                         "version", "1.0", "extension_types",
		                         "property-extension")) != 0)
			s->failed = true;
		emit(s, o);
	}
	static const char *const lower[] = { "", "clear", "green", "amber", "amber+strict", "red" };
	for (int t = KZ_TLP_CLEAR; t <= KZ_TLP_RED; t++) {
		if (!s->used[t])
			continue;
		char name[32];
		snprintf(name, sizeof name, "TLP:%s", kz_tlp_name((enum kz_tlp)t));
		emit(s, json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:{s:s, s:s}}}", "type",
		                  "marking-definition", "spec_version", "2.1", "id",
		                  kz_tlp_stix_marking((enum kz_tlp)t), "created",
		                  "2022-10-01T00:00:00.000Z", "name", name, "extensions", TLP2_EXT,
		                  "extension_type", "property-extension", "tlp_2_0", lower[t]));
	}
}

int kz_stix_write(sqlite3 *db, const struct kz_feed_opts *o, FILE *out, size_t *count, char *err,
                  size_t errlen)
{
	struct stix s = { .out = out, .o = o };
	struct kz_org dflt;
	struct kz_frows *rows = NULL;
	struct kz_frow r;
	size_t n = 0;
	int rc;
	if (count)
		*count = 0;
	if (!(s.org = o->org)) {
		kz_org_default(&dflt);
		s.org = &dflt;
	}
	if ((rc = kz_pseudo_init(&s.ps, o->key))) {
		snprintf(err, errlen, "Crypto-PAn: cannot set up the key");
		return rc;
	}
	struct kz_frows_query q = {
		.since = o->since,
		.first_from = INT64_MIN,
		.first_until = INT64_MAX,
		.tlp_max = o->tlp_max,
	};
	if ((rc = kz_frows_open(db, &q, &rows, err, errlen))) {
		kz_pseudo_clear(&s.ps);
		return rc;
	}
	char bid[KZ_UUID_STRLEN], since[24], now[24], tlp[4];
	snprintf(since, sizeof since, "%lld", (long long)o->since);
	snprintf(now, sizeof now, "%lld", (long long)o->now);
	snprintf(tlp, sizeof tlp, "%d", (int)o->tlp_max);
	const char *bf[] = { "bundle", tlp, o->key ? o->key->key_id : "-", since, now };
	kz_uuid_kizuki(bid, 5, bf);
	fprintf(out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[\n", bid);
	emit_identity(&s);
	while ((rc = kz_frows_next(rows, &r, err, errlen)) == 1) {
		if (!kz_share_has_subject(&r))
			continue;
		if (s.ps.cp)
			finding_pseudo(&s, &r);
		else
			finding_plain(&s, &r);
		n++;
		if (s.failed)
			break;
	}
	kz_frows_close(rows);
	if (rc == 0 && !s.failed)
		emit_shared(&s);
	fputs("\n]}\n", out);
	kmap_free(&s.addrs);
	kmap_free(&s.ases);
	kmap_free(&s.kinds);
	kz_pseudo_clear(&s.ps);
	if (rc < 0)
		return rc;
	if (s.failed) {
		snprintf(err, errlen, "out of memory or write failed");
		return -ENOMEM;
	}
	if (ferror(out)) {
		snprintf(err, errlen, "write failed: %s", strerror(errno));
		return -EIO;
	}
	if (count)
		*count = n;
	return 0;
}
