/*
 * Per-operator reports: CSV, JSON and X-ARF v4 (see report.h; the columns
 * and their meaning are documented in docs/reports.md).
 *
 * All three are written by hand, one finding at a time, straight into
 * the FILE*: a report of every operator over a million findings must take
 * seconds, and building a jansson tree per row costs an allocation per
 * value (X-ARF, built that way, took 35 us a finding). The writers below
 * keep every output valid whatever the store holds: JSON strings escape
 * every control character and turn ill-formed UTF-8 into U+FFFD; CSV
 * cells are quoted per RFC 4180, with control characters (other than
 * tab, CR and LF) shown as U+FFFD, and text that came from the network
 * cannot start a spreadsheet formula. X-ARF is written byte for byte as
 * jansson's JSON_COMPACT wrote it when reports were built as trees, so
 * that published reports did not change.
 */
#include "report.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "sightings.h"
#include "timefmt.h"
#include "utf8.h"
#include "uuid.h"

const char *const kz_report_csv_columns[20] = {
	"timestamp",   "ip",           "protocol", "port",       "hostname",  "tag",
	"asn",         "geo",          "region",   "city",       "severity",  "device_vendor",
	"device_type", "device_model", "banner",   "first_seen", "last_seen", "count",
	"state",       "ticket",
};

/* ------------------------------------------------------------- formats */

static const struct {
	const char *name, *ext, *mime;
} formats[KZ_REPORT_FORMAT_COUNT] = {
	[KZ_REPORT_CSV] = { "csv", ".csv", "text/csv; charset=utf-8" },
	[KZ_REPORT_JSON] = { "json", ".json", "application/json" },
	[KZ_REPORT_XARF] = { "xarf", ".xarf.json", "application/json" },
};

const char *kz_report_format_name(enum kz_report_format f)
{
	return (unsigned)f < KZ_REPORT_FORMAT_COUNT ? formats[f].name : "";
}

const char *kz_report_format_ext(enum kz_report_format f)
{
	return (unsigned)f < KZ_REPORT_FORMAT_COUNT ? formats[f].ext : "";
}

const char *kz_report_format_mime(enum kz_report_format f)
{
	return (unsigned)f < KZ_REPORT_FORMAT_COUNT ? formats[f].mime : "application/octet-stream";
}

int kz_report_format_parse(const char *s, enum kz_report_format *out)
{
	for (unsigned i = 0; i < KZ_REPORT_FORMAT_COUNT; i++) {
		if (strcmp(s, formats[i].name) == 0) {
			*out = (enum kz_report_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---------------------------------------------------------- organisation */

void kz_org_default(struct kz_org *o)
{
	snprintf(o->name, sizeof o->name, "kizuki hub");
	snprintf(o->contact, sizeof o->contact, "abuse@kizuki.invalid");
	snprintf(o->domain, sizeof o->domain, "kizuki.invalid");
}

/* A domain as X-ARF's "hostname" format wants it: labels of letters,
 * digits and hyphens, not starting or ending with a hyphen, dot-separated. */
static bool hostname_ok(const char *s, size_t n)
{
	size_t label = 0;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool alnum =
		        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && label > 0))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[n - 1] != '-';
}

int kz_org_parse(const char *spec, struct kz_org *o, const char **why)
{
	const char *lt = strrchr(spec, '<');
	const char *addr = spec, *addr_end = spec + strlen(spec);
	size_t namelen = 0;
	if (lt) {
		if (addr_end == lt + 1 || addr_end[-1] != '>') {
			*why = "expected \"Name <user@domain>\"";
			return -EINVAL;
		}
		addr = lt + 1;
		addr_end--;
		namelen = (size_t)(lt - spec);
		while (namelen && (spec[namelen - 1] == ' ' || spec[namelen - 1] == '\t'))
			namelen--;
	}
	const char *at = memchr(addr, '@', (size_t)(addr_end - addr));
	if (!at || at == addr || memchr(at + 1, '@', (size_t)(addr_end - at - 1))) {
		*why = "the address needs exactly one '@' with a user before it";
		return -EINVAL;
	}
	for (const char *p = addr; p < at; p++) {
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"' || *p == 0x7f) {
			*why = "the address's user part has a space, a quote or a control "
			       "character";
			return -EINVAL;
		}
	}
	size_t dlen = (size_t)(addr_end - at - 1);
	if (!hostname_ok(at + 1, dlen)) {
		*why = "the address's domain is not a host name";
		return -EINVAL;
	}
	size_t alen = (size_t)(addr_end - addr);
	if (alen >= sizeof o->contact || namelen >= sizeof o->name) {
		*why = "too long";
		return -EINVAL;
	}
	if (kz_utf8_check((const uint8_t *)spec, namelen) != namelen) {
		*why = "the name is not UTF-8";
		return -EINVAL;
	}
	for (size_t i = 0; i < namelen; i++) {
		if ((unsigned char)spec[i] < 0x20 || spec[i] == 0x7f) {
			*why = "the name has a control character";
			return -EINVAL;
		}
	}
	memcpy(o->contact, addr, alen);
	o->contact[alen] = '\0';
	memcpy(o->domain, at + 1, dlen);
	o->domain[dlen] = '\0';
	if (namelen) {
		memcpy(o->name, spec, namelen);
		o->name[namelen] = '\0';
	} else {
		snprintf(o->name, sizeof o->name, "%s", o->domain);
	}
	return 0;
}

int kz_report_operator_load(sqlite3 *db, uint32_t asn, struct kz_report_operator *o, char *err,
                            size_t errlen)
{
	sqlite3_stmt *st = NULL;
	memset(o, 0, sizeof *o);
	o->asn = asn;
	o->renotify_sec = -1;
	if (sqlite3_prepare_v2(db,
	                       "SELECT name, abuse_contact, renotify_sec FROM hub_operators"
	                       " WHERE asn = ?1",
	                       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "hub_operators: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, asn);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(o->name, sizeof o->name, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(o->contact, sizeof o->contact, "%s",
		         (const char *)sqlite3_column_text(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			o->renotify_sec = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return -ENOENT;
	snprintf(err, errlen, "hub_operators: %s", sqlite3_errmsg(db));
	return -EIO;
}

/* ---------------------------------------------------------------- ids */

int kz_idlist_add(struct kz_idlist *l, const char *id)
{
	if (l->n == l->cap) {
		if (l->cap >= KZ_IDLIST_MAX)
			return -E2BIG;
		size_t nc = l->cap ? l->cap * 2 : 1024;
		void *p = reallocarray(l->ids, nc, sizeof *l->ids);
		if (!p)
			return -ENOMEM;
		l->ids = p;
		l->cap = nc;
	}
	snprintf(l->ids[l->n++], KZ_ID_STRLEN, "%s", id);
	return 0;
}

void kz_idlist_clear(struct kz_idlist *l)
{
	free(l->ids);
	l->ids = NULL;
	l->n = l->cap = 0;
}

/* ------------------------------------------------------- text writers */

/* The writers below run per cell of a million rows: unlocked stdio, since
 * one thread owns each report stream. */
static void put(FILE *f, const char *s, size_t n)
{
	fwrite_unlocked(s, 1, n, f);
}

static void puts_(FILE *f, const char *s)
{
	put(f, s, strlen(s));
}

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* How a JSON string writes the control characters it escapes. The JSON
 * report has always written \n \r \t and \u00xx in lower case; X-ARF
 * reports were made with jansson, which also writes \b and \f and puts
 * the hex digits in upper case. Everything else (quote, backslash, '/'
 * and DEL unescaped, valid UTF-8 as is, U+FFFD for each ill-formed
 * maximal subpart as kz_utf8_sanitize does) is the same in both, so one
 * writer serves both and the published bytes of neither change. */
enum json_style {
	JSON_STYLE_REPORT,
	JSON_STYLE_JANSSON,
};

/* 1 for the bytes a JSON string holds as they are: printable ASCII and
 * DEL, but not '"' (0x22) or '\\' (0x5c). A table, because every byte of
 * a million reports goes through the test. */
static const uint8_t json_plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x70 */
	/* 0x80-0xff: 0, UTF-8 is checked sequence by sequence */
};

/* A JSON string: quotes, escapes for '"', '\\' and every control
 * character, U+FFFD for ill-formed UTF-8. */
static void json_str_styled(FILE *f, const char *s, size_t len, enum json_style style)
{
	static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
	const char *hex = style == JSON_STYLE_JANSSON ? upper : lower;
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	fputc_unlocked('"', f);
	while (i < len) {
		size_t start = i;
		while (i < len && json_plain[p[i]])
			i++;
		if (i > start)
			put(f, s + start, i - start);
		if (i == len)
			break;
		uint8_t c = p[i];
		if (c >= 0x80) {
			uint32_t cp;
			size_t n;
			if (kz_utf8_decode(p + i, len - i, &cp, &n) == KZ_UTF8_OK)
				put(f, (const char *)p + i, n);
			else
				puts_(f, replacement);
			i += n;
			continue;
		}
		char esc[7] = { '\\', 0 };
		size_t en = 2;
		if (c == '"')
			esc[1] = '"';
		else if (c == '\\')
			esc[1] = '\\';
		else if (c == '\n')
			esc[1] = 'n';
		else if (c == '\r')
			esc[1] = 'r';
		else if (c == '\t')
			esc[1] = 't';
		else if (c == '\b' && style == JSON_STYLE_JANSSON)
			esc[1] = 'b';
		else if (c == '\f' && style == JSON_STYLE_JANSSON)
			esc[1] = 'f';
		else {
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			en = 6;
		}
		put(f, esc, en);
		i++;
	}
	fputc_unlocked('"', f);
}

/* A string of the JSON report. */
static void json_str(FILE *f, const char *s, size_t len)
{
	json_str_styled(f, s, len, JSON_STYLE_REPORT);
}

/* Writes ,"key": (the comma from the second key on). */
static void json_key(FILE *f, bool *first, const char *key)
{
	if (!*first)
		fputc_unlocked(',', f);
	*first = false;
	fputc_unlocked('"', f);
	puts_(f, key);
	put(f, "\":", 2);
}

/* "key":"text" or "key":null. */
static void jkv_str(FILE *f, bool *first, const char *key, const char *s)
{
	json_key(f, first, key);
	if (s)
		json_str(f, s, strlen(s));
	else
		puts_(f, "null");
}

/* The same for record text, which may hold U+0000 (it has a length). */
static void jkv_text(FILE *f, bool *first, const char *key, const struct kz_ftext *t)
{
	json_key(f, first, key);
	if (t->s)
		json_str(f, t->s, t->len);
	else
		puts_(f, "null");
}

/* A decimal integer. */
static void put_int(FILE *f, int64_t v)
{
	char b[KZ_DEC_SIZE];
	const char *s = kz_dec_i64(b, v);
	put(f, s, (size_t)(b + KZ_DEC_SIZE - 1 - s));
}

static void jkv_int(FILE *f, bool *first, const char *key, int64_t v)
{
	json_key(f, first, key);
	put_int(f, v);
}

/* "YYYY-MM-DDTHH:MM:SSZ", or null for a time never set. */
static void put_time(FILE *f, int64_t t)
{
	char buf[KZ_TIME_STRLEN + 2];
	if (t == INT64_MIN || kz_time_format(t, buf + 1) != 0) {
		puts_(f, "null");
		return;
	}
	/* A formatted time is digits, '-', ':', 'T' and 'Z': nothing to
	 * escape. */
	buf[0] = '"';
	buf[KZ_TIME_STRLEN] = '"';
	put(f, buf, KZ_TIME_STRLEN + 1);
}

/* "key":"YYYY-MM-DDTHH:MM:SSZ", or null for a time never set. */
static void jkv_time(FILE *f, bool *first, const char *key, int64_t t)
{
	json_key(f, first, key);
	put_time(f, t);
}

/* A CSV cell (RFC 4180). With guard, text that a spreadsheet would take
 * for a formula (=, +, -, @ after any leading blanks) is prefixed with an
 * apostrophe, as OWASP advises for cells that hold someone else's bytes. */
static void csv_cell(FILE *f, const char *s, size_t len, bool guard)
{
	const uint8_t *p = (const uint8_t *)s;
	bool quote = false;
	for (size_t i = 0; i < len && !quote; i++)
		quote = p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n';
	if (quote)
		fputc_unlocked('"', f);
	if (guard) {
		/* Spreadsheets skip leading blanks before they look for a
		 * formula, so the test is on the first other character. */
		size_t k = 0;
		while (k < len && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' || p[k] == '\n'))
			k++;
		if (k < len && (p[k] == '=' || p[k] == '+' || p[k] == '-' || p[k] == '@'))
			fputc_unlocked('\'', f);
	}
	size_t i = 0, run = 0;
	while (i < len) {
		uint8_t c = p[i];
		bool plain =
		        (c >= 0x20 && c < 0x7f && c != '"') || c == '\t' || c == '\r' || c == '\n';
		if (plain) {
			i++;
			run++;
			continue;
		}
		put(f, (const char *)p + i - run, run);
		run = 0;
		if (c == '"') {
			put(f, "\"\"", 2);
			i++;
		} else if (c >= 0x80) {
			uint32_t cp;
			size_t n;
			if (kz_utf8_decode(p + i, len - i, &cp, &n) == KZ_UTF8_OK && cp >= 0xa0)
				put(f, (const char *)p + i, n);
			else
				puts_(f, replacement); /* ill-formed, or a C1 control */
			i += n;
		} else {
			puts_(f, replacement); /* NUL and the other controls */
			i++;
		}
	}
	put(f, (const char *)p + i - run, run);
	if (quote)
		fputc_unlocked('"', f);
}

/* A cell from the store (NULL: empty). */
static void csv_str(FILE *f, const char *s, bool guard)
{
	if (s)
		csv_cell(f, s, strlen(s), guard);
}

/* A cell of record text: from the network, so formula-guarded. */
static void csv_text(FILE *f, const struct kz_ftext *t)
{
	if (t->s)
		csv_cell(f, t->s, t->len, true);
}

/* A time cell (empty when never set); times need no quoting. */
static void csv_time(FILE *f, int64_t t)
{
	char buf[KZ_TIME_STRLEN];
	if (t != INT64_MIN && kz_time_format(t, buf) == 0)
		puts_(f, buf);
}

/* --------------------------------------------------------- field rules */

/* The device's vendor: extra.device_vendor, else extra.device (the
 * survey's banner match names the vendor or firmware there). */
static const struct kz_ftext *vendor_of(const struct kz_frow *r)
{
	return r->device_vendor.s ? &r->device_vendor : &r->device;
}

/* ---------------------------------------------------------------- CSV */

/* The header line: the contract's column names, CRLF-ended. */
static void csv_header(FILE *f)
{
	for (size_t i = 0; i < 20; i++) {
		if (i)
			fputc_unlocked(',', f);
		puts_(f, kz_report_csv_columns[i]);
	}
	put(f, "\r\n", 2);
}

/* One finding as a CSV line; asn is the report's own AS (docs/reports.md). */
static void csv_row(FILE *f, const struct kz_frow *r, uint32_t asn)
{
	csv_time(f, r->last_seen);
	fputc_unlocked(',', f);
	csv_str(f, r->ip, false);
	fputc_unlocked(',', f);
	csv_str(f, r->transport, false);
	fputc_unlocked(',', f);
	if (r->port >= 0)
		put_int(f, r->port);
	put(f, ",,", 2); /* hostname: kizuki does no reverse DNS */
	csv_str(f, r->identifier, false);
	fputc_unlocked(',', f);
	put_int(f, asn);
	fputc_unlocked(',', f);
	csv_str(f, r->cc, false);
	fputc_unlocked(',', f);
	csv_str(f, r->region, true);
	fputc_unlocked(',', f);
	csv_str(f, r->city, true);
	fputc_unlocked(',', f);
	puts_(f, kz_severity_name(kz_frow_severity(r)));
	fputc_unlocked(',', f);
	csv_text(f, vendor_of(r));
	fputc_unlocked(',', f);
	csv_text(f, &r->device_type);
	fputc_unlocked(',', f);
	csv_text(f, &r->device_model);
	fputc_unlocked(',', f);
	csv_text(f, &r->banner);
	fputc_unlocked(',', f);
	csv_time(f, r->first_seen);
	fputc_unlocked(',', f);
	csv_time(f, r->last_seen);
	fputc_unlocked(',', f);
	put_int(f, r->count);
	fputc_unlocked(',', f);
	csv_str(f, r->state, false);
	fputc_unlocked(',', f);
	csv_str(f, r->ticket, false);
	put(f, "\r\n", 2);
}

/* --------------------------------------------------------------- JSON */

/* The report's object up to the opening of its "findings" array. */
static void json_header(FILE *f, const struct kz_report_opts *o, const struct kz_org *org)
{
	bool first = true;
	fputc_unlocked('{', f);
	jkv_str(f, &first, "report", "kizuki operator report");
	jkv_int(f, &first, "version", 1);
	jkv_int(f, &first, "asn", o->asn);
	const struct kz_report_operator *op = o->operator_info;
	jkv_str(f, &first, "operator", op && op->name[0] ? op->name : NULL);
	jkv_str(f, &first, "abuse_contact", op && op->contact[0] ? op->contact : NULL);
	jkv_time(f, &first, "generated", o->now);
	jkv_time(f, &first, "since", o->since);
	json_key(f, &first, "reporter");
	bool f2 = true;
	fputc_unlocked('{', f);
	jkv_str(f, &f2, "org", org->name);
	jkv_str(f, &f2, "contact", org->contact);
	jkv_str(f, &f2, "domain", org->domain);
	fputc_unlocked('}', f);
	json_key(f, &first, "findings");
	puts_(f, "[\n");
}

/* The finding's sightings, oldest first; an origin an anonymous
 * submission was stored under is written "anonymous". */
static void json_sightings(FILE *f, const struct kz_frow *r, const struct kz_anon_names *anon)
{
	struct kz_sightings_iter it;
	struct kz_sighting s;
	bool firstobj = true;
	fputc_unlocked('[', f);
	kz_sightings_iter_init(&it, r->sightings, r->sightings_len);
	while (r->sightings && kz_sightings_next(&it, &s) == 1) {
		bool first = true;
		if (!firstobj)
			fputc_unlocked(',', f);
		firstobj = false;
		fputc_unlocked('{', f);
		jkv_time(f, &first, "time", s.time);
		json_key(f, &first, "port");
		if (s.port >= 0)
			put_int(f, s.port);
		else
			puts_(f, "null");
		json_key(f, &first, "origin");
		if (kz_anon_names_has(anon, s.origin, s.origin_len))
			puts_(f, "\"anonymous\"");
		else
			json_str(f, s.origin, s.origin_len);
		fputc_unlocked('}', f);
	}
	fputc_unlocked(']', f);
}

/* One finding as a JSON object: the CSV's fields first, in the same order
 * and with the same names, then the rest. */
static void json_row(FILE *f, const struct kz_frow *r, const struct kz_report_opts *o,
                     bool firstrow)
{
	bool first = true;
	if (!firstrow)
		puts_(f, ",\n");
	fputc_unlocked('{', f);
	jkv_time(f, &first, "timestamp", r->last_seen);
	jkv_str(f, &first, "ip", r->ip);
	jkv_str(f, &first, "protocol", r->transport);
	json_key(f, &first, "port");
	if (r->port >= 0)
		put_int(f, r->port);
	else
		puts_(f, "null");
	jkv_str(f, &first, "hostname", NULL);
	jkv_str(f, &first, "tag", r->identifier);
	jkv_int(f, &first, "asn", o->asn);
	jkv_str(f, &first, "geo", r->cc);
	jkv_str(f, &first, "region", r->region);
	jkv_str(f, &first, "city", r->city);
	jkv_str(f, &first, "severity", kz_severity_name(kz_frow_severity(r)));
	jkv_text(f, &first, "device_vendor", vendor_of(r));
	jkv_text(f, &first, "device_type", &r->device_type);
	jkv_text(f, &first, "device_model", &r->device_model);
	jkv_text(f, &first, "banner", &r->banner);
	jkv_time(f, &first, "first_seen", r->first_seen);
	jkv_time(f, &first, "last_seen", r->last_seen);
	jkv_int(f, &first, "count", r->count);
	jkv_str(f, &first, "state", r->state);
	jkv_str(f, &first, "ticket", r->ticket);
	jkv_str(f, &first, "finding_id", r->finding_id);
	json_key(f, &first, "asns");
	fputc_unlocked('[', f);
	puts_(f, r->asns);
	fputc_unlocked(']', f);
	jkv_str(f, &first, "network", r->network);
	jkv_str(f, &first, "as_name", r->as_name);
	jkv_str(f, &first, "kind", r->kind);
	jkv_str(f, &first, "feed",
	        kz_anon_names_has(o->anon, r->feed, strlen(r->feed)) ? "anonymous" : r->feed);
	jkv_str(f, &first, "taxonomy", r->taxonomy);
	jkv_str(f, &first, "type", r->type);
	jkv_str(f, &first, "identifier", r->identifier);
	jkv_str(f, &first, "application", r->application);
	jkv_str(f, &first, "status", r->status);
	jkv_str(f, &first, "tlp", kz_tlp_name(r->tlp));
	jkv_str(f, &first, "feedback", r->feedback);
	jkv_time(f, &first, "feedback_at", r->feedback_at);
	jkv_time(f, &first, "last_notified", r->last_notified);
	jkv_text(f, &first, "banner_b64", &r->banner_b64);
	json_key(f, &first, "banner_truncated");
	puts_(f, r->banner_truncated ? "true" : "false");
	jkv_text(f, &first, "user", &r->user);
	if (o->redact_passwords && r->password.s) {
		jkv_str(f, &first, "password", NULL);
		json_key(f, &first, "password_redacted");
		puts_(f, "true");
	} else {
		jkv_text(f, &first, "password", &r->password);
	}
	json_key(f, &first, "sightings");
	json_sightings(f, r, o->anon);
	fputc_unlocked('}', f);
}

/* -------------------------------------------------------------- X-ARF */

/* X-ARF reports used to be built as a jansson tree and written with
 * json_dumpf(JSON_COMPACT); they are now written straight to the stream,
 * like the JSON report, with the same bytes: every key in the order it was
 * inserted into the tree, no blanks, jansson's string escaping
 * (JSON_STYLE_JANSSON) and integers as "%lld". X-ARF holds no real
 * numbers. The unit tests hold the output to jansson by parsing it and
 * dumping it again. One difference is deliberate: where jansson refused a
 * value (store text or a description cut by its buffer that is not valid
 * UTF-8) the report failed with "out of memory"; such bytes now become
 * U+FFFD, as they do in the JSON report. */

/* An X-ARF string. */
static void xstr(FILE *f, const char *s, size_t len)
{
	json_str_styled(f, s, len, JSON_STYLE_JANSSON);
}

/* Writes a string literal. X-ARF's keys come in a fixed order, so each is
 * written with its comma as one literal (no per-key strlen or branch). */
#define PUTLIT(f, lit) put((f), "" lit, sizeof(lit) - 1)

/* ,"key":"text" for text that is never NULL; key is a literal. */
#define XKV(f, key, s)                                                                             \
	do {                                                                                       \
		const char *xkv_s_ = (s);                                                          \
		PUTLIT(f, ",\"" key "\":");                                                        \
		xstr(f, xkv_s_, strlen(xkv_s_));                                                   \
	} while (0)

/* ,"key":"text" where both are literals with nothing to escape. */
#define XKV_LIT(f, key, lit) PUTLIT(f, ",\"" key "\":\"" lit "\"")

/* Text built into a fixed buffer and cut where snprintf would cut it: the
 * X-ARF description has always been at most 999 bytes, its "where" part
 * at most 159. */
struct cut {
	char *b;
	size_t n, cap;
};

static void cut_add(struct cut *c, const char *s, size_t len)
{
	size_t room = c->cap - 1 - c->n;
	if (len > room)
		len = room;
	memcpy(c->b + c->n, s, len);
	c->n += len;
	c->b[c->n] = '\0';
}

static void cut_str(struct cut *c, const char *s)
{
	cut_add(c, s, strlen(s));
}

/* X-ARF tags are "namespace:value" in [a-z0-9_+-]; anything else in our
 * names becomes '-'; at most 159 bytes. False when there is no tag to
 * write: the pattern wants a letter or digit first. */
static bool xarf_tag(char buf[160], const char *ns, const char *value)
{
	size_t n = strlen(ns), start = n + 1;
	memcpy(buf, ns, n);
	buf[n++] = ':';
	for (const char *p = value; *p && n < 160 - 1; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
		      c == '-'))
			c = '-';
		buf[n++] = c;
	}
	buf[n] = '\0';
	return !(buf[start] == '\0' || buf[start] == '-' || buf[start] == '_' || buf[start] == '+');
}

/* ,"tags":[...]: the finding's identifier, ticket and state, each when it
 * makes a tag. A tag has nothing to escape. */
static void xarf_tags(FILE *f, const struct kz_frow *r)
{
	const char *const ns[3] = { "kizuki", "ticket", "state" };
	const char *const val[3] = { r->identifier, r->ticket, r->state };
	char buf[160];
	bool firsttag = true;
	PUTLIT(f, ",\"tags\":[");
	for (size_t i = 0; i < 3; i++) {
		if (!xarf_tag(buf, ns[i], val[i]))
			continue;
		if (!firsttag)
			fputc_unlocked(',', f);
		firsttag = false;
		fputc_unlocked('"', f);
		puts_(f, buf);
		fputc_unlocked('"', f);
	}
	fputc_unlocked(']', f);
}

/* What an X-ARF report keeps from one finding to the next: SHA-256 and
 * SHA-1 (the report id) fetched once (OpenSSL 3 looks EVP_sha256(),
 * SHA256() and EVP_sha1() up under a lock on every call: that lookup cost
 * more than the digest), and the
 * last finding's evidence digest, which a pass over every operator
 * reuses when the finding goes to several ASes. */
struct xarf_state {
	EVP_MD *sha256;
	EVP_MD *sha1; /* report ids (kz_uuid_kizuki_with) */
	EVP_MD_CTX *ctx;
	bool have; /* id, size and hex below are the last finding's */
	int64_t id;
	long size;
	char hex[2 * 32 + 1];
};

/* Sets x up for a report of format f (only X-ARF needs the digest).
 * Returns 0 or -ENOMEM; xarf_state_free is due either way. */
static int xarf_state_init(struct xarf_state *x, enum kz_report_format f)
{
	memset(x, 0, sizeof *x);
	if (f != KZ_REPORT_XARF)
		return 0;
	x->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	x->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	x->ctx = EVP_MD_CTX_new();
	return x->sha256 && x->sha1 && x->ctx ? 0 : -ENOMEM;
}

static void xarf_state_free(struct xarf_state *x)
{
	EVP_MD_CTX_free(x->ctx);
	EVP_MD_free(x->sha256);
	EVP_MD_free(x->sha1);
}

/* The banner's size and SHA-256 (lower-case hex, as kz_hex_encode writes
 * it) into x; false when there is no evidence: the banner is missing, too
 * long or not base64, or the digest failed. */
static bool xarf_digest(struct xarf_state *x, const struct kz_frow *r)
{
	if (!r->banner_b64.s || r->banner_b64.len == 0 || r->banner_b64.len > 8192)
		return false;
	if (x->have && x->id == r->id)
		return true;
	x->have = false;
	uint8_t raw[6144], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	long n = kz_base64_decode(r->banner_b64.s, r->banner_b64.len, raw);
	if (n < 0)
		return false;
	if (EVP_DigestInit_ex2(x->ctx, x->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(x->ctx, raw, (size_t)n) != 1 ||
	    EVP_DigestFinal_ex(x->ctx, md, &mdlen) != 1 || mdlen != 32)
		return false;
	kz_hex_encode(md, mdlen, x->hex);
	x->size = n;
	x->id = r->id;
	x->have = true;
	return true;
}

/* ,"evidence":[...]: the banner, the bytes (base64, as received) with
 * their size and SHA-256. */
static void xarf_evidence(FILE *f, const struct kz_frow *r, struct xarf_state *x)
{
	if (!xarf_digest(x, r))
		return;
	PUTLIT(f, ",\"evidence\":[{\"content_type\":\"application/octet-stream\",\"description\":"
	          "\"the first bytes the service sent (its banner), as received\",\"payload\":\"");
	/* It decoded as strict base64: the text is of the base64 alphabet
	 * only, nothing to escape. */
	put(f, r->banner_b64.s, r->banner_b64.len);
	PUTLIT(f, "\",\"hash\":\"sha256:");
	put(f, x->hex, 64);
	PUTLIT(f, "\",\"size\":");
	put_int(f, x->size);
	PUTLIT(f, "}]");
}

/* The finding's transport when the X-ARF type allows it, else def. */
static const char *proto_or(const char *transport, const char *const *allowed, const char *def)
{
	for (size_t i = 0; transport && allowed[i]; i++)
		if (strcmp(transport, allowed[i]) == 0)
			return transport;
	return def;
}

/* Category, type and the type's own fields (docs/reports.md "X-ARF").
 * True when they include evidence_source. */
static bool xarf_classify(FILE *f, const struct kz_frow *r)
{
	static const char *const p4[] = { "tcp", "udp", "icmp", "sctp", NULL };
	static const char *const pmix[] = { "tcp", "udp", "icmp", NULL };
	const char *kind = r->kind, *tax = r->taxonomy;
	bool port_ok = r->port >= 1 && r->port <= 65535;
	bool other = strcmp(kind, "other") == 0;
	if (strcmp(kind, "infected") == 0 || (other && strcmp(tax, "malicious-code") == 0)) {
		char ev[512];
		/* strlen, not malware_name.len: the name ends at a NUL, as
		 * it always has in these reports. */
		const char *family = r->malware_name.s ? r->malware_name.s : r->identifier;
		if (r->fingerprint_basis.s)
			snprintf(ev, sizeof ev, "%.*s", (int)r->fingerprint_basis.len,
			         r->fingerprint_basis.s);
		else
			snprintf(ev, sizeof ev, "traffic from this address matched %s", family);
		XKV_LIT(f, "category", "infrastructure");
		XKV_LIT(f, "type", "botnet");
		XKV(f, "malware_family", family);
		XKV(f, "compromise_evidence", ev);
	} else if (strcmp(kind, "scanner") == 0 ||
	           (other && strcmp(tax, "information-gathering") == 0)) {
		XKV_LIT(f, "category", "connection");
		if (port_ok) {
			XKV_LIT(f, "type", "port_scan");
			XKV(f, "protocol", proto_or(r->transport, p4, "tcp"));
		} else {
			XKV_LIT(f, "type", "vulnerability_scan");
			XKV_LIT(f, "scan_type", "port_scan");
			XKV(f, "protocol", proto_or(r->transport, pmix, "tcp"));
		}
		XKV(f, "scanner_signature", r->identifier);
	} else if ((strcmp(kind, "dos-victim") == 0 ||
	            (other && strcmp(tax, "availability") == 0)) &&
	           port_ok) {
		XKV_LIT(f, "category", "connection");
		XKV_LIT(f, "type", "ddos");
		XKV(f, "protocol", proto_or(r->transport, p4, "tcp"));
		if (r->ip)
			XKV(f, "destination_ip", r->ip);
		XKV_LIT(f, "evidence_source", "traffic_monitoring");
		return true;
	} else if (strcmp(kind, "dos-victim") == 0 || (other && strcmp(tax, "availability") == 0)) {
		/* X-ARF's ddos type wants the source port when the source is an
		 * address, and backscatter does not tell it: the victim is
		 * reported as threat intelligence instead. */
		XKV_LIT(f, "category", "reputation");
		XKV_LIT(f, "type", "threat_intelligence");
		XKV_LIT(f, "threat_type", "ddos_victim");
	} else if (strcmp(kind, "survey") == 0 || (other && strcmp(tax, "vulnerable") == 0)) {
		bool weak = strcmp(r->identifier, "weak-credentials") == 0 ||
		            strcmp(r->identifier, "no-auth") == 0;
		XKV_LIT(f, "category", "vulnerability");
		if (weak)
			XKV_LIT(f, "type", "misconfiguration");
		else
			XKV_LIT(f, "type", "open_service");
		XKV(f, "service", r->application ? r->application : r->identifier);
	} else if (other && strcmp(tax, "intrusion-attempts") == 0 && port_ok) {
		XKV_LIT(f, "category", "connection");
		XKV_LIT(f, "type", "login_attack");
		XKV(f, "protocol", proto_or(r->transport, p4, "tcp"));
	} else {
		char tt[256];
		snprintf(tt, sizeof tt, "%s/%s/%s", r->taxonomy, r->type, r->identifier);
		XKV_LIT(f, "category", "reputation");
		XKV_LIT(f, "type", "threat_intelligence");
		XKV(f, "threat_type", tt);
	}
	return false;
}

/* X-ARF's evidence_source: how kizuki came to know. */
static const char *evidence_source(const struct kz_frow *r)
{
	if (strcmp(r->kind, "survey") == 0)
		return "vulnerability_scan";
	if (strcmp(r->kind, "other") == 0)
		return "threat_intelligence";
	return "traffic_monitoring"; /* a darknet telescope */
}

/* One plain sentence for the X-ARF description. */
static const char *describe_kind(const struct kz_frow *r)
{
	const char *id = r->identifier;
	if (strcmp(id, "weak-credentials") == 0)
		return "a login with a default or weak password succeeded";
	if (strcmp(id, "no-auth") == 0)
		return "a shell or admin page was reachable without any credential";
	if (strncmp(id, "accessible-", 11) == 0)
		return "a login service is reachable from the Internet";
	if (strcmp(r->kind, "infected") == 0)
		return "darknet traffic from this address matches an IoT malware's scanning";
	if (strcmp(r->kind, "scanner") == 0)
		return "this address scanned the darknet";
	if (strcmp(r->kind, "dos-victim") == 0)
		return "this address was the target of a denial-of-service attack (backscatter "
		       "seen in the darknet)";
	return "reported by an IntelMQ producer";
}

/* ,"description":"...": "APP on SUBJECT port N: what. Ticket T, state S,
 * seen N time(s)." (APP on and port N when known). */
static void xarf_description(FILE *f, const struct kz_frow *r, const char *subject)
{
	char where[160], desc[1000], num[KZ_DEC_SIZE];
	struct cut w = { where, 0, sizeof where }, d = { desc, 0, sizeof desc };
	cut_str(&w, subject);
	if (r->port >= 0) {
		cut_str(&w, " port ");
		cut_str(&w, kz_dec_i64(num, r->port));
	}
	if (r->application) {
		cut_str(&d, r->application);
		cut_str(&d, " on ");
	}
	cut_add(&d, where, w.n);
	cut_str(&d, ": ");
	cut_str(&d, describe_kind(r));
	cut_str(&d, ". Ticket ");
	cut_str(&d, r->ticket);
	cut_str(&d, ", state ");
	cut_str(&d, r->state);
	cut_str(&d, ", seen ");
	cut_str(&d, kz_dec_i64(num, r->count));
	cut_str(&d, r->count == 1 ? " time." : " times.");
	PUTLIT(f, ",\"description\":");
	xstr(f, desc, d.n);
}

/* The reporter's (and sender's) object. */
static void xarf_org(FILE *f, const struct kz_org *org)
{
	PUTLIT(f, "{\"org\":");
	xstr(f, org->name, strlen(org->name));
	PUTLIT(f, ",\"contact\":");
	xstr(f, org->contact, strlen(org->contact));
	PUTLIT(f, ",\"domain\":");
	xstr(f, org->domain, strlen(org->domain));
	fputc_unlocked('}', f);
}

/* What both ways of writing reports start with: the format checked, the
 * X-ARF state set up, the rows of q opened. On failure nothing is left to
 * free and err says why. */
static int report_open(sqlite3 *db, const struct kz_frows_query *q, enum kz_report_format f,
                       struct xarf_state *x, struct kz_frows **rows, char *err, size_t errlen)
{
	int rc;
	if ((unsigned)f >= KZ_REPORT_FORMAT_COUNT) {
		snprintf(err, errlen, "unknown report format");
		return -EINVAL;
	}
	if ((rc = xarf_state_init(x, f))) {
		xarf_state_free(x);
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if ((rc = kz_frows_open(db, q, rows, err, errlen)))
		xarf_state_free(x);
	return rc;
}

/* One finding as an X-ARF v4 report: one JSON object, no newline. The
 * keys in the order the jansson tree had them. */
static void xarf_row(FILE *f, const struct kz_frow *r, const struct kz_report_opts *o,
                     const struct kz_org *org, struct xarf_state *x)
{
	char rid[KZ_UUID_STRLEN], last[KZ_DEC_SIZE], cnt[KZ_DEC_SIZE], asn[KZ_DEC_SIZE];
	const char *name[] = { "xarf", r->finding_id, kz_dec_i64(asn, o->asn),
		               kz_dec_i64(last, r->last_seen), kz_dec_i64(cnt, r->count) };
	if (kz_uuid_kizuki_with(x->ctx, x->sha1, rid, 5, name) != 0)
		kz_uuid_kizuki(rid, 5, name);
	const char *subject = r->ip ? r->ip : r->network ? r->network : r->finding_id;
	PUTLIT(f, "{\"xarf_version\":\"4.0.0\",\"report_id\":");
	xstr(f, rid, strlen(rid));
	PUTLIT(f, ",\"timestamp\":");
	put_time(f, r->last_seen);
	PUTLIT(f, ",\"reporter\":");
	xarf_org(f, org);
	PUTLIT(f, ",\"sender\":");
	xarf_org(f, org);
	XKV(f, "source_identifier", subject);
	if (r->port >= 1 && r->port <= 65535) {
		PUTLIT(f, ",\"source_port\":");
		put_int(f, r->port);
	}
	if (!xarf_classify(f, r))
		XKV(f, "evidence_source", evidence_source(r));
	PUTLIT(f, ",\"first_seen\":");
	put_time(f, r->first_seen);
	PUTLIT(f, ",\"last_seen\":");
	put_time(f, r->last_seen);
	xarf_description(f, r, subject);
	xarf_tags(f, r);
	xarf_evidence(f, r, x);
	if (r->user.s || r->password.s) {
		PUTLIT(f, ",\"credentials\":{");
		if (r->user.s) {
			PUTLIT(f, "\"user\":");
			xstr(f, r->user.s, r->user.len);
		}
		if (r->user.s && r->password.s)
			fputc_unlocked(',', f);
		if (r->password.s && o->redact_passwords) {
			PUTLIT(f, "\"password_redacted\":true");
		} else if (r->password.s) {
			PUTLIT(f, "\"password\":");
			xstr(f, r->password.s, r->password.len);
		}
		fputc_unlocked('}', f);
	}
	PUTLIT(f, ",\"x_kizuki\":{\"finding_id\":");
	xstr(f, r->finding_id, strlen(r->finding_id));
	XKV(f, "ticket", r->ticket);
	XKV(f, "state", r->state);
	XKV(f, "tlp", kz_tlp_name(r->tlp));
	PUTLIT(f, ",\"count\":");
	put_int(f, r->count);
	XKV(f, "severity", kz_severity_name(kz_frow_severity(r)));
	PUTLIT(f, "}}");
}

/* -------------------------------------------------------------- driver */

/* What a report starts with: the CSV header, the JSON report object, or
 * the X-ARF array's opening. */
static int begin(FILE *out, const struct kz_report_opts *o, const struct kz_org *org)
{
	switch (o->format) {
	case KZ_REPORT_CSV:
		csv_header(out);
		return 0;
	case KZ_REPORT_JSON:
		json_header(out, o, org);
		return 0;
	case KZ_REPORT_XARF:
		puts_(out, "[\n");
		return 0;
	default:
		return -EINVAL;
	}
}

/* Writes one finding; n is how many the report holds already. */
static int row(FILE *out, const struct kz_frow *r, const struct kz_report_opts *o,
               const struct kz_org *org, struct xarf_state *x, size_t n, char *err, size_t errlen)
{
	if (o->format == KZ_REPORT_CSV) {
		csv_row(out, r, o->asn);
		return 0;
	}
	if (o->format == KZ_REPORT_JSON) {
		json_row(out, r, o, n == 0);
		return 0;
	}
	if (n)
		puts_(out, ",\n");
	xarf_row(out, r, o, org, x);
	/* As json_dumpf's failure did: stop at the first failed write. */
	if (ferror_unlocked(out)) {
		snprintf(err, errlen, "write failed");
		return -EIO;
	}
	return 0;
}

/* What closes it (JSON also says how many findings it held). */
static void end(FILE *out, const struct kz_report_opts *o, size_t n)
{
	if (o->format == KZ_REPORT_JSON)
		fprintf(out, "%s],\"count\":%zu}\n", n ? "\n" : "", n);
	else if (o->format == KZ_REPORT_XARF)
		puts_(out, n ? "\n]\n" : "]\n");
}

bool kz_frow_due(const struct kz_frow *f, int64_t renotify_before)
{
	if (!kz_frow_notifiable(f))
		return false;
	return strcmp(f->state, "new") == 0 || strcmp(f->state, "reopened") == 0 ||
	       f->last_notified == INT64_MIN || f->last_notified <= renotify_before;
}

int kz_report_write(sqlite3 *db, const struct kz_report_opts *o, FILE *out, struct kz_idlist *ids,
                    size_t *count, char *err, size_t errlen)
{
	struct kz_org dflt;
	const struct kz_org *org = o->org;
	if (!org) {
		kz_org_default(&dflt);
		org = &dflt;
	}
	struct kz_frows_query q = {
		.asn = o->asn,
		.since = o->since,
		.first_from = INT64_MIN,
		.first_until = INT64_MAX,
		.with_record = true,
		.due_only = o->due_only,
		.renotify_before = o->renotify_before,
	};
	struct kz_frows *rows = NULL;
	struct kz_frow r;
	struct xarf_state x;
	size_t n = 0;
	int rc;
	if (count)
		*count = 0;
	if (o->asn == 0) {
		snprintf(err, errlen, "a report is for one AS (1-4294967295)");
		return -EINVAL;
	}
	if ((rc = report_open(db, &q, o->format, &x, &rows, err, errlen)))
		return rc;
	(void)begin(out, o, org);
	while ((rc = kz_frows_next(rows, &r, err, errlen)) == 1) {
		if (o->due_only && !kz_frow_notifiable(&r))
			continue;
		if ((rc = row(out, &r, o, org, &x, n, err, errlen)))
			break;
		if (ids && (rc = kz_idlist_add(ids, r.finding_id))) {
			snprintf(err, errlen, "too many findings in one report");
			break;
		}
		n++;
	}
	kz_frows_close(rows);
	xarf_state_free(&x);
	if (rc < 0)
		return rc;
	end(out, o, n);
	if (ferror(out)) {
		snprintf(err, errlen, "write failed: %s", strerror(errno));
		return -EIO;
	}
	if (count)
		*count = n;
	return 0;
}

/* ------------------------------------------------------ every operator */

/* One AS's report in a pass over every finding. */
struct slot {
	uint32_t asn; /* 0: empty */
	bool skip;    /* the sink left it out */
	FILE *out;
	size_t n;
	int64_t renotify_before;
	const struct kz_report_operator *op;
};

struct slots {
	struct slot *v;
	size_t cap, used;
};

/* The AS's slot, created (with *fresh) on its first finding; NULL when
 * out of memory. Open addressing by a multiplicative hash of the AS. */
static struct slot *slot_get(struct slots *m, uint32_t asn, bool *fresh)
{
	*fresh = false;
	if ((m->used + 1) * 4 > m->cap * 3) {
		size_t nc = m->cap ? m->cap * 2 : 1024;
		struct slot *nv = calloc(nc, sizeof *nv);
		if (!nv)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->v[i].asn)
				continue;
			size_t j = (m->v[i].asn * 2654435761u) & (nc - 1);
			while (nv[j].asn)
				j = (j + 1) & (nc - 1);
			nv[j] = m->v[i];
		}
		free(m->v);
		m->v = nv;
		m->cap = nc;
	}
	size_t j = (asn * 2654435761u) & (m->cap - 1);
	while (m->v[j].asn && m->v[j].asn != asn)
		j = (j + 1) & (m->cap - 1);
	if (!m->v[j].asn) {
		m->v[j].asn = asn;
		m->used++;
		*fresh = true;
	}
	return &m->v[j];
}

int kz_report_write_all(sqlite3 *db, const struct kz_report_opts *o,
                        const struct kz_report_sink *sink, size_t *findings, char *err,
                        size_t errlen)
{
	struct kz_org dflt;
	const struct kz_org *org = o->org;
	if (!org) {
		kz_org_default(&dflt);
		org = &dflt;
	}
	struct kz_frows_query q = {
		.since = o->since,
		.first_from = INT64_MIN,
		.first_until = INT64_MAX,
		.with_record = true,
	};
	struct kz_frows *rows = NULL;
	struct kz_frow r;
	struct xarf_state x;
	struct slots m = { 0 };
	size_t total = 0;
	int rc;
	if (findings)
		*findings = 0;
	if ((rc = report_open(db, &q, o->format, &x, &rows, err, errlen)))
		return rc;
	while (rc == 0 && (rc = kz_frows_next(rows, &r, err, errlen)) == 1) {
		rc = 0;
		for (const char *p = r.asns; *p && rc == 0;) {
			unsigned long long v = strtoull(p, NULL, 10);
			p = strchr(p, ',');
			p = p ? p + 1 : "";
			if (v == 0 || v > UINT32_MAX)
				continue;
			bool fresh;
			struct slot *sl = slot_get(&m, (uint32_t)v, &fresh);
			if (!sl) {
				snprintf(err, errlen, "out of memory");
				rc = -ENOMEM;
				break;
			}
			struct kz_report_opts ao = *o;
			ao.asn = sl->asn;
			if (fresh) {
				sl->renotify_before = o->renotify_before;
				sl->out = sink->open(sink->arg, sl->asn, &sl->op,
				                     &sl->renotify_before);
				sl->skip = !sl->out;
				ao.operator_info = sl->op;
				if (sl->out)
					(void)begin(sl->out, &ao, org);
			}
			if (sl->skip || (o->due_only && !kz_frow_due(&r, sl->renotify_before)))
				continue;
			ao.operator_info = sl->op;
			if ((rc = row(sl->out, &r, &ao, org, &x, sl->n, err, errlen)) == 0) {
				if (sink->row)
					rc = sink->row(sink->arg, sl->asn, r.finding_id);
				sl->n++;
				total++;
			}
		}
	}
	kz_frows_close(rows);
	xarf_state_free(&x);
	/* Every opened report is finished and handed back, also after an
	 * error, so that the sink can drop what it made. */
	for (size_t i = 0; i < m.cap; i++) {
		struct slot *sl = &m.v[i];
		if (!sl->asn || sl->skip)
			continue;
		struct kz_report_opts ao = *o;
		ao.asn = sl->asn;
		end(sl->out, &ao, sl->n);
		int rc2 = sink->close(sink->arg, sl->asn, sl->out, sl->n, rc == 0);
		if (rc2 && rc == 0) {
			snprintf(err, errlen, "AS%u: the report could not be written", sl->asn);
			rc = rc2;
		}
	}
	free(m.v);
	if (rc < 0)
		return rc;
	if (findings)
		*findings = total;
	return 0;
}
