/*
 * Source records written by hand (see srcrecord.h for why, and for the
 * promise: the same bytes as the jansson path).
 *
 * The keys are written in the order jansson's JSON_SORT_KEYS gives them
 * (strcmp order), compact, with the same number forms (decimal integers)
 * and string escaping (none is needed for our ASCII; the sensor is escaped
 * by jansson once). The ids follow record.c's definition (docs/records.md
 * "The hash"): SHA-256 over length-prefixed fields, first 16 bytes in
 * lowercase hex, computed with one EVP context and digest fetched once,
 * over the fields laid out in one buffer (one update call, not two per
 * field: with SHA-NI the calls cost more than the hashing).
 *
 * A writer formats the same few days and the same addresses' kind of text
 * again and again: the encoder keeps the date part of the last day it
 * formatted ("YYYY-MM-DDT"), so a time on that day costs three two-digit
 * stores, and IPv4 addresses are written by a digit loop, not snprintf.
 */
#include "srcrecord.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "timefmt.h"
#include "utf8.h"

struct kz_srcrec_enc {
	char *sensor;      /* the name, raw (for the observation id) */
	char *sensor_json; /* the name as a JSON string, quotes included */
	size_t sensor_json_len;
	EVP_MD *md;
	EVP_MD_CTX *ctx;
	bool have_day;
	int64_t day_start; /* the first second of the day in date[] */
	char date[11];     /* "YYYY-MM-DDT" of that day */
};

int kz_srcrec_enc_new(const char *sensor, struct kz_srcrec_enc **out)
{
	*out = NULL;
	size_t n = sensor ? strlen(sensor) : 0;
	if (n == 0 || kz_utf8_check((const uint8_t *)sensor, n) != n)
		return -EINVAL;
	struct kz_srcrec_enc *e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	int rc = -ENOMEM;
	json_t *s = json_stringn(sensor, n);
	e->sensor = strdup(sensor);
	/* Exactly the escaping kz_jsonl_write applies to a string value. */
	e->sensor_json = s ? json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	json_decref(s);
	e->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	e->ctx = EVP_MD_CTX_new();
	if (!e->sensor || !e->sensor_json || !e->md || !e->ctx)
		goto fail;
	e->sensor_json_len = strlen(e->sensor_json);
	if (e->sensor_json_len > KZ_SRCREC_SENSOR_MAX) {
		rc = -EINVAL;
		goto fail;
	}
	*out = e;
	return 0;
fail:
	kz_srcrec_enc_free(e);
	return rc;
}

void kz_srcrec_enc_free(struct kz_srcrec_enc *e)
{
	if (!e)
		return;
	free(e->sensor);
	free(e->sensor_json);
	EVP_MD_free(e->md);
	EVP_MD_CTX_free(e->ctx);
	free(e);
}

/* ------------------------------------------------------------------ ids */

/* Appends one length-prefixed field to the hash input at *n; false when
 * it does not fit (the caller then hashes field by field). */
static bool lay_field(uint8_t *buf, size_t cap, size_t *n, const char *p, size_t len)
{
	if (cap - *n < 4 || cap - *n - 4 < len)
		return false;
	uint8_t *q = buf + *n;
	q[0] = (uint8_t)(len >> 24);
	q[1] = (uint8_t)(len >> 16);
	q[2] = (uint8_t)(len >> 8);
	q[3] = (uint8_t)len;
	memcpy(q + 4, p, len);
	*n += 4 + len;
	return true;
}

static int hash_field(EVP_MD_CTX *ctx, const char *p, size_t len)
{
	uint8_t prefix[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
		              (uint8_t)len };
	if (!EVP_DigestUpdate(ctx, prefix, sizeof prefix) ||
	    (len && !EVP_DigestUpdate(ctx, p, len)))
		return -ENOMEM;
	return 0;
}

/* kz_id_hash's definition over up to 4 NUL-terminated fields. */
static int id_hash(struct kz_srcrec_enc *e, const char *domain, const char *const *f, size_t n,
                   char out[KZ_ID_STRLEN])
{
	uint8_t md[EVP_MAX_MD_SIZE], in[512];
	unsigned mdlen = 0;
	size_t len = 0;
	bool laid = lay_field(in, sizeof in, &len, domain, strlen(domain));
	for (size_t i = 0; laid && i < n; i++)
		laid = lay_field(in, sizeof in, &len, f[i], strlen(f[i]));
	if (!EVP_DigestInit_ex2(e->ctx, e->md, NULL))
		return -ENOMEM;
	int rc = 0;
	if (laid) {
		if (!EVP_DigestUpdate(e->ctx, in, len))
			rc = -ENOMEM;
	} else {
		/* A long sensor name: the same bytes, field by field. */
		rc = hash_field(e->ctx, domain, strlen(domain));
		for (size_t i = 0; !rc && i < n; i++)
			rc = hash_field(e->ctx, f[i], strlen(f[i]));
	}
	if (rc || !EVP_DigestFinal_ex(e->ctx, md, &mdlen) || mdlen < KZ_ID_HEXLEN / 2)
		return -ENOMEM;
	kz_hex_encode(md, KZ_ID_HEXLEN / 2, out);
	return 0;
}

/* ---------------------------------------------------------------- text */

static void two_digits(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* kz_time_format's text, from the cached date when sec is on its day. */
static int time_text(struct kz_srcrec_enc *e, int64_t sec, char t[KZ_TIME_STRLEN])
{
	if (!e->have_day || sec < e->day_start || sec - e->day_start >= 86400) {
		int rc = kz_time_format(sec, t);
		if (rc)
			return rc;
		/* Floor division: times before 1970 have negative seconds.
		 * KZ_TIME_MIN and KZ_TIME_MAX + 1 are midnights, so every
		 * second of a day that formatted is in range. */
		int64_t rem = sec % 86400;
		if (rem < 0)
			rem += 86400;
		e->day_start = sec - rem;
		memcpy(e->date, t, sizeof e->date);
		e->have_day = true;
		return 0;
	}
	unsigned rem = (unsigned)(sec - e->day_start);
	memcpy(t, e->date, sizeof e->date);
	two_digits(t + 11, rem / 3600);
	t[13] = ':';
	two_digits(t + 14, rem / 60 % 60);
	t[16] = ':';
	two_digits(t + 17, rem % 60);
	t[19] = 'Z';
	t[20] = '\0';
	return 0;
}

/* kz_addr_format's text: dotted quad by hand for IPv4 (snprintf was a
 * tenth of a record's cost), inet_ntop's for IPv6. */
static void addr_text(struct kz_addr a, char buf[KZ_ADDR_STRLEN])
{
	if (!kz_addr_is_v4(a)) {
		kz_addr_format(a, buf);
		return;
	}
	uint32_t v = kz_addr_v4(a);
	char *p = buf;
	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned o = (v >> shift) & 255;
		if (o >= 100)
			*p++ = (char)('0' + o / 100);
		if (o >= 10)
			*p++ = (char)('0' + o / 10 % 10);
		*p++ = (char)('0' + o % 10);
		*p++ = shift ? '.' : '\0';
	}
}

/* --------------------------------------------------------------- output */

struct out {
	char *p, *end;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n) {
		o->full = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A decimal integer, as jansson writes a json_int_t (no sign for zero, no
 * leading zeros). */
static void put_int(struct out *o, int64_t v)
{
	char b[KZ_DEC_SIZE];
	const char *s = kz_dec_i64(b, v);
	put(o, s, (size_t)(b + KZ_DEC_SIZE - 1 - s));
}

static int put_time(struct kz_srcrec_enc *e, struct out *o, int64_t sec)
{
	char t[KZ_TIME_STRLEN];
	if (time_text(e, sec, t))
		return -EINVAL;
	PUT_LIT(o, "\"");
	put(o, t, KZ_TIME_STRLEN - 1);
	PUT_LIT(o, "\"");
	return 0;
}

/* Text we wrote ourselves: printable ASCII with nothing to escape. */
static bool plain_ascii(const char *s)
{
	for (; *s; s++) {
		if (*s < ' ' || *s > '~' || *s == '"' || *s == '\\')
			return false;
	}
	return true;
}

int kz_srcrec_format(struct kz_srcrec_enc *e, const struct kz_srcrec *r, char *buf, size_t cap,
                     char fid[KZ_ID_STRLEN], char oid[KZ_ID_STRLEN])
{
	char addr[KZ_ADDR_STRLEN], ivt[KZ_TIME_STRLEN];
	bool v4 = kz_addr_is_v4(r->addr);
	if (r->addr.v == 0 || (v4 && kz_addr_v4(r->addr) == 0) || !plain_ascii(r->basis) ||
	    !plain_ascii(r->identifier) || time_text(e, r->interval_start, ivt))
		return -EINVAL;
	addr_text(r->addr, addr);
	const char *ff[2] = { r->identifier, addr };
	const char *of[4] = { fid, "interval", e->sensor, ivt };
	int rc = id_hash(e, "kizuki/finding/1", ff, 2, fid);
	if (!rc)
		rc = id_hash(e, "kizuki/observation/1", of, 4, oid);
	if (rc)
		return rc;

	/* CONTRACT.md's default labels: infected hosts AMBER, scanners
	 * GREEN; TLP 2.0 and IntelMQ spell both the same way. */
	const char *tlp = r->infected ? "AMBER" : "GREEN";
	struct out o = { buf, buf + cap, false };
	PUT_LIT(&o, "{\"classification.identifier\":\"");
	put_str(&o, r->identifier);
	PUT_LIT(&o, "\",\"classification.taxonomy\":\"");
	put_str(&o, r->infected ? "malicious-code" : "information-gathering");
	PUT_LIT(&o, "\",\"classification.type\":\"");
	put_str(&o, r->infected ? "infected-system" : "scanner");
	PUT_LIT(&o, "\",\"extra.bytes\":");
	put_int(&o, (int64_t)r->bytes);
	if (r->has_rate) {
		PUT_LIT(&o, ",\"extra.est_rate_pps\":");
		put_int(&o, r->est_rate_pps);
	}
	PUT_LIT(&o, ",\"extra.finding_id\":\"");
	put(&o, fid, KZ_ID_HEXLEN);
	PUT_LIT(&o, "\",\"extra.fingerprint_basis\":\"");
	put_str(&o, r->basis);
	PUT_LIT(&o, "\",\"extra.first_seen\":");
	rc = put_time(e, &o, r->first_seen);
	PUT_LIT(&o, ",\"extra.interval_start\":\"");
	put(&o, ivt, KZ_TIME_STRLEN - 1);
	PUT_LIT(&o, "\",\"extra.last_seen\":");
	rc = rc ? rc : put_time(e, &o, r->last_seen);
	PUT_LIT(&o, ",\"extra.observation_id\":\"");
	put(&o, oid, KZ_ID_HEXLEN);
	PUT_LIT(&o, "\",\"extra.packets\":");
	put_int(&o, (int64_t)r->packets);
	PUT_LIT(&o, ",\"extra.port_count\":");
	put_int(&o, (int64_t)r->port_count);
	PUT_LIT(&o, ",\"extra.ports\":[");
	for (unsigned i = 0; i < r->nports; i++) {
		if (i)
			PUT_LIT(&o, ",");
		put_int(&o, r->ports[i]);
	}
	PUT_LIT(&o, "],\"extra.sensor\":");
	put(&o, e->sensor_json, e->sensor_json_len);
	PUT_LIT(&o, ",\"extra.tlp\":\"");
	put_str(&o, tlp);
	PUT_LIT(&o, "\",\"extra.unique_destinations\":");
	put_int(&o, (int64_t)r->unique_destinations);
	PUT_LIT(&o, ",\"feed.name\":\"" KZ_FEED_TELESCOPE "\"");
	if (r->infected) {
		PUT_LIT(&o, ",\"malware.name\":\"");
		put_str(&o, r->identifier);
		PUT_LIT(&o, "\"");
	}
	PUT_LIT(&o, ",\"source.ip\":\"");
	put_str(&o, addr);
	PUT_LIT(&o, "\"");
	if (r->sport) {
		PUT_LIT(&o, ",\"source.port\":");
		put_int(&o, r->sport);
	}
	PUT_LIT(&o, ",\"time.observation\":");
	rc = rc ? rc : put_time(e, &o, r->time_observation);
	PUT_LIT(&o, ",\"time.source\":");
	rc = rc ? rc : put_time(e, &o, r->time_source);
	PUT_LIT(&o, ",\"tlp\":\"");
	put_str(&o, tlp);
	PUT_LIT(&o, "\"}\n");
	if (rc)
		return rc;
	/* A full buffer leaves a cut line in it: report it, never return it. */
	if (o.full)
		return -ENOSPC;
	return (int)(o.p - buf);
}
