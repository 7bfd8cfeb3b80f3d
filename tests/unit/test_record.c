/*
 * Records: the builder for every kind and its TLP defaults, ids against
 * values computed by hand from docs/records.md's definition (Python:
 * hashlib.sha256 over struct.pack(">I", len) + bytes per field), banners
 * from hostile bytes, and the validator on good and bad records.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"
#include "jsonl.h"
#include "record.h"
#include "timefmt.h"
#include "utf8.h"

#define T_OBS      1795796400 /* 2026-11-27T16:20:00Z */
#define T_SRC      1795796394 /* 2026-11-27T16:19:54Z */
#define T_INTERVAL 1795796340 /* 2026-11-27T16:19:00Z */

static struct kz_addr addr(const char *s)
{
	struct kz_addr a;
	const char *why;
	if (kz_addr_parse(s, &a, &why) != 0)
		fail_msg("%s: %s", s, why);
	return a;
}

static const char *str(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);
	if (!json_is_string(v))
		fail_msg("%s: not a string", key);
	return json_string_value(v);
}

static json_int_t integer(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);
	if (!json_is_integer(v))
		fail_msg("%s: not an integer", key);
	return json_integer_value(v);
}

/* -------------------------------------------------------------- builder */

static json_t *build(const struct kz_record_spec *sp)
{
	json_t *rec = NULL;
	const char *why = NULL;
	int rc = kz_record_new(sp, &rec, &why);
	if (rc != 0)
		fail_msg("kz_record_new: %s", why);
	char vwhy[KZ_RECORD_WHY_MAX];
	if (kz_record_validate(rec, vwhy, sizeof vwhy) != 0)
		fail_msg("own record invalid: %s", vwhy);
	return rec;
}

static struct kz_record_spec telescope_spec(enum kz_record_kind kind, const char *a)
{
	struct kz_record_spec sp = {
		.kind = kind,
		.time_observation = T_OBS,
		.time_source = T_SRC,
		.sensor = "sensor-a",
		.interval_start = T_INTERVAL,
		.addr = addr(a),
	};
	return sp;
}

static struct kz_record_spec survey_spec(enum kz_record_kind kind, const char *a, uint16_t port,
                                         const char *app)
{
	struct kz_record_spec sp = {
		.kind = kind,
		.time_observation = T_OBS,
		.time_source = T_SRC,
		.run_id = "run-1",
		.scanner_ip = addr("198.18.0.1"),
		.addr = addr(a),
		.port = port,
		.application = app,
	};
	return sp;
}

static void test_build_infected(void **state)
{
	(void)state;
	struct kz_record_spec sp = telescope_spec(KZ_REC_INFECTED, "198.51.100.7");
	json_t *rec = build(&sp);
	assert_string_equal(str(rec, "feed.name"), "kizuki-telescope");
	assert_string_equal(str(rec, "time.observation"), "2026-11-27T16:20:00Z");
	assert_string_equal(str(rec, "time.source"), "2026-11-27T16:19:54Z");
	assert_string_equal(str(rec, "classification.taxonomy"), "malicious-code");
	assert_string_equal(str(rec, "classification.type"), "infected-system");
	assert_string_equal(str(rec, "classification.identifier"), "mirai");
	assert_string_equal(str(rec, "tlp"), "AMBER");
	assert_string_equal(str(rec, "extra.tlp"), "AMBER");
	assert_string_equal(str(rec, "source.ip"), "198.51.100.7");
	assert_string_equal(str(rec, "extra.sensor"), "sensor-a");
	assert_string_equal(str(rec, "extra.interval_start"), "2026-11-27T16:19:00Z");
	/* Hand-computed from the documented definition. */
	assert_string_equal(str(rec, "extra.finding_id"), "1458f9a00c61f3aa0f3770ddb6b0aba1");
	assert_string_equal(str(rec, "extra.observation_id"), "d38abaac93d3137b3359e5ba9baadf44");
	json_decref(rec);
}

static void test_build_scanner_ipv6_and_identifier(void **state)
{
	(void)state;
	struct kz_record_spec sp = telescope_spec(KZ_REC_SCANNER, "2001:0db8::0001");
	json_t *rec = build(&sp);
	assert_string_equal(str(rec, "classification.identifier"), "scanner");
	assert_string_equal(str(rec, "tlp"), "GREEN");
	assert_string_equal(str(rec, "source.ip"), "2001:db8::1");
	assert_string_equal(str(rec, "extra.finding_id"), "17f81d992731201122e1ecafcf368e3e");
	json_decref(rec);

	/* A tool's name replaces the default, and the finding follows it. */
	sp.identifier = "zmap";
	rec = build(&sp);
	assert_string_equal(str(rec, "classification.identifier"), "zmap");
	char want[KZ_ID_STRLEN];
	assert_int_equal(kz_finding_id_source("zmap", addr("2001:db8::1"), want), 0);
	assert_string_equal(str(rec, "extra.finding_id"), want);
	json_decref(rec);
}

static void test_build_dos_and_surge(void **state)
{
	(void)state;
	struct kz_record_spec sp = telescope_spec(KZ_REC_DOS_VICTIM, "203.0.113.5");
	json_t *rec = build(&sp);
	assert_string_equal(str(rec, "classification.taxonomy"), "availability");
	assert_string_equal(str(rec, "classification.type"), "ddos");
	assert_string_equal(str(rec, "classification.identifier"), "backscatter");
	assert_string_equal(str(rec, "destination.ip"), "203.0.113.5");
	assert_null(json_object_get(rec, "source.ip"));
	assert_string_equal(str(rec, "extra.finding_id"), "a88ea0b7a5119f52949177cc8988aec7");
	assert_string_equal(str(rec, "extra.observation_id"), "7e3ac1c394ca75de7c0a781f70ce79d2");
	json_decref(rec);

	struct kz_record_spec surge = {
		.kind = KZ_REC_PORT_SURGE,
		.time_observation = T_OBS,
		.time_source = T_INTERVAL,
		.sensor = "sensor-a",
		.interval_start = T_INTERVAL,
		.port = 23,
		.transport = "tcp",
	};
	rec = build(&surge);
	assert_string_equal(str(rec, "classification.taxonomy"), "other");
	assert_string_equal(str(rec, "classification.identifier"), "port-surge");
	assert_string_equal(str(rec, "tlp"), "GREEN");
	assert_int_equal(integer(rec, "destination.port"), 23);
	assert_string_equal(str(rec, "protocol.transport"), "tcp");
	assert_string_equal(str(rec, "extra.finding_id"), "6f0981115fca3e1279bf51098bdf5b94");
	assert_string_equal(str(rec, "extra.observation_id"), "f23d4943829cef04a9ad150374fb9358");
	json_decref(rec);
}

static void test_build_survey_kinds(void **state)
{
	(void)state;
	static const struct {
		enum kz_record_kind kind;
		const char *taxonomy, *type, *identifier;
	} rows[] = {
		{ KZ_REC_WEAK_CREDENTIALS, "vulnerable", "vulnerable-system", "weak-credentials" },
		{ KZ_REC_NO_AUTH, "vulnerable", "vulnerable-system", "no-auth" },
		{ KZ_REC_ACCESSIBLE, "vulnerable", "potentially-unwanted-accessible",
		  "accessible-telnet" },
		{ KZ_REC_ACCEPTS_ANY, "other", "undetermined", "accepts-any" },
		{ KZ_REC_OTHER_PROTOCOL, "other", "undetermined", "other-protocol" },
		{ KZ_REC_SURVEY_ERROR, "other", "undetermined", "survey-error" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct kz_record_spec sp = survey_spec(rows[i].kind, "192.0.2.1", 23, "telnet");
		json_t *rec = build(&sp);
		assert_string_equal(str(rec, "feed.name"), "kizuki-survey");
		assert_string_equal(str(rec, "classification.taxonomy"), rows[i].taxonomy);
		assert_string_equal(str(rec, "classification.type"), rows[i].type);
		assert_string_equal(str(rec, "classification.identifier"), rows[i].identifier);
		assert_string_equal(str(rec, "tlp"), "AMBER");
		assert_string_equal(str(rec, "source.ip"), "192.0.2.1");
		assert_int_equal(integer(rec, "source.port"), 23);
		assert_string_equal(str(rec, "protocol.application"), "telnet");
		assert_string_equal(str(rec, "protocol.transport"), "tcp");
		assert_string_equal(str(rec, "extra.run_id"), "run-1");
		assert_string_equal(str(rec, "extra.scanner_ip"), "198.18.0.1");
		/* Every status of one service is one finding (CONTRACT.md). */
		assert_string_equal(str(rec, "extra.finding_id"),
		                    "3c7533bb475933bdd4d0789b9be865d2");
		assert_string_equal(str(rec, "extra.observation_id"),
		                    "78846f9f5a2730f53f64f9de5d738a71");
		json_decref(rec);
	}
	struct kz_record_spec sp = survey_spec(KZ_REC_ACCESSIBLE, "192.0.2.1", 8080, "http");
	json_t *rec = build(&sp);
	assert_string_equal(str(rec, "classification.identifier"), "accessible-http");
	json_decref(rec);
}

static void test_build_survey_run(void **state)
{
	(void)state;
	struct kz_record_spec sp = {
		.kind = KZ_REC_SURVEY_RUN,
		.time_observation = T_OBS,
		.time_source = T_SRC,
		.run_id = "run-1",
		.scanner_ip = addr("198.18.0.1"),
		.run_part = "header",
	};
	json_t *rec = build(&sp);
	assert_string_equal(str(rec, "classification.identifier"), "survey-run");
	assert_string_equal(str(rec, "extra.run_part"), "header");
	assert_null(json_object_get(rec, "source.ip"));
	assert_string_equal(str(rec, "extra.finding_id"), "9ce2784ebee6532e67b32f30c161d61f");
	assert_string_equal(str(rec, "extra.observation_id"), "9ace088b4003f6224299cc03fac86b19");
	json_decref(rec);
}

static void test_build_tlp_override(void **state)
{
	(void)state;
	struct kz_record_spec sp = telescope_spec(KZ_REC_SCANNER, "198.51.100.7");
	sp.tlp = KZ_TLP_AMBER_STRICT;
	json_t *rec = build(&sp);
	assert_string_equal(str(rec, "tlp"), "RED");
	assert_string_equal(str(rec, "extra.tlp"), "AMBER+STRICT");
	assert_int_equal(kz_record_tlp(rec), KZ_TLP_AMBER_STRICT);
	json_decref(rec);
	sp.tlp = KZ_TLP_CLEAR;
	rec = build(&sp);
	assert_string_equal(str(rec, "tlp"), "WHITE");
	assert_string_equal(str(rec, "extra.tlp"), "CLEAR");
	json_decref(rec);
}

static void expect_spec_error(const struct kz_record_spec *sp, const char *part)
{
	json_t *rec = (json_t *)1;
	const char *why = NULL;
	assert_int_equal(kz_record_new(sp, &rec, &why), -EINVAL);
	assert_null(rec);
	assert_non_null(why);
	if (!strstr(why, part))
		fail_msg("reason '%s' lacks '%s'", why, part);
}

static void test_build_errors(void **state)
{
	(void)state;
	struct kz_record_spec sp = telescope_spec(KZ_REC_INFECTED, "198.51.100.7");
	sp.sensor = NULL;
	expect_spec_error(&sp, "sensor");
	sp.sensor = "caf\xe9";
	expect_spec_error(&sp, "UTF-8");
	sp = telescope_spec(KZ_REC_INFECTED, "0.0.0.0");
	expect_spec_error(&sp, "address");
	sp = telescope_spec(KZ_REC_DOS_VICTIM, "203.0.113.5");
	sp.identifier = "syn-flood";
	expect_spec_error(&sp, "fixed");
	sp = telescope_spec(KZ_REC_INFECTED, "198.51.100.7");
	sp.identifier = "Mirai";
	expect_spec_error(&sp, "lowercase");
	sp = telescope_spec(KZ_REC_INFECTED, "198.51.100.7");
	sp.time_source = KZ_TIME_MAX + 1;
	expect_spec_error(&sp, "0000-9999");
	sp = telescope_spec(KZ_REC_INFECTED, "198.51.100.7");
	sp.kind = KZ_REC_KIND_COUNT;
	expect_spec_error(&sp, "kind");

	sp = survey_spec(KZ_REC_WEAK_CREDENTIALS, "192.0.2.1", 23, "telnet");
	sp.run_id = "";
	expect_spec_error(&sp, "run id");
	sp = survey_spec(KZ_REC_WEAK_CREDENTIALS, "192.0.2.1", 23, "telnet");
	sp.scanner_ip = addr("::");
	expect_spec_error(&sp, "scanner");
	sp = survey_spec(KZ_REC_WEAK_CREDENTIALS, "192.0.2.1", 23, "Telnet");
	expect_spec_error(&sp, "protocol.application");
	sp = survey_spec(KZ_REC_WEAK_CREDENTIALS, "192.0.2.1", 23, NULL);
	expect_spec_error(&sp, "protocol.application");

	struct kz_record_spec run = {
		.kind = KZ_REC_SURVEY_RUN,
		.run_id = "run-1",
		.scanner_ip = addr("198.18.0.1"),
		.run_part = "middle",
	};
	expect_spec_error(&run, "header");
	struct kz_record_spec surge = {
		.kind = KZ_REC_PORT_SURGE,
		.sensor = "s",
		.port = 23,
	};
	expect_spec_error(&surge, "transport");
}

/* ------------------------------------------------------------------ ids */

static void test_ids_never_include_times(void **state)
{
	(void)state;
	struct kz_record_spec a = telescope_spec(KZ_REC_INFECTED, "198.51.100.7");
	struct kz_record_spec b = a;
	b.time_observation += 86400;
	b.time_source += 3600;
	json_t *ra = build(&a), *rb = build(&b);
	assert_string_equal(str(ra, "extra.finding_id"), str(rb, "extra.finding_id"));
	assert_string_equal(str(ra, "extra.observation_id"), str(rb, "extra.observation_id"));
	json_decref(rb);
	/* The next interval is a new observation of the same finding. */
	b = a;
	b.interval_start += 60;
	rb = build(&b);
	assert_string_equal(str(ra, "extra.finding_id"), str(rb, "extra.finding_id"));
	assert_string_not_equal(str(ra, "extra.observation_id"), str(rb, "extra.observation_id"));
	json_decref(rb);
	/* Another sensor too. */
	b = a;
	b.sensor = "sensor-b";
	rb = build(&b);
	assert_string_equal(str(ra, "extra.finding_id"), str(rb, "extra.finding_id"));
	assert_string_not_equal(str(ra, "extra.observation_id"), str(rb, "extra.observation_id"));
	json_decref(rb);
	json_decref(ra);

	/* Survey: another run is another observation; another port another finding. */
	struct kz_record_spec s1 = survey_spec(KZ_REC_WEAK_CREDENTIALS, "192.0.2.1", 23, "telnet");
	struct kz_record_spec s2 = s1;
	s2.run_id = "run-2";
	ra = build(&s1);
	rb = build(&s2);
	assert_string_equal(str(ra, "extra.finding_id"), str(rb, "extra.finding_id"));
	assert_string_not_equal(str(ra, "extra.observation_id"), str(rb, "extra.observation_id"));
	json_decref(rb);
	s2 = s1;
	s2.port = 2323;
	rb = build(&s2);
	assert_string_not_equal(str(ra, "extra.finding_id"), str(rb, "extra.finding_id"));
	json_decref(rb);
	json_decref(ra);
}

/* Length prefixes keep ("ab","c") and ("a","bc") apart, which a plain
 * concatenation would not. */
static void test_id_hash_unambiguous(void **state)
{
	(void)state;
	char x[KZ_ID_STRLEN], y[KZ_ID_STRLEN], z[KZ_ID_STRLEN];
	struct kz_id_field f1[] = { { "ab", 2 }, { "c", 1 } };
	struct kz_id_field f2[] = { { "a", 1 }, { "bc", 2 } };
	struct kz_id_field f3[] = { { "abc", 3 } };
	assert_int_equal(kz_id_hash("d", f1, 2, x), 0);
	assert_int_equal(kz_id_hash("d", f2, 2, y), 0);
	assert_int_equal(kz_id_hash("d", f3, 1, z), 0);
	assert_string_not_equal(x, y);
	assert_string_not_equal(x, z);
	assert_int_equal(strlen(x), KZ_ID_HEXLEN);
	/* An empty field list is the domain alone (checked with Python). */
	assert_int_equal(kz_id_hash("kizuki/finding/1", NULL, 0, x), 0);
	assert_string_equal(x, "bb6cb8c09938c177a2be01ae1a046cbe");
}

/* ---------------------------------------------------------------- banner */

static json_t *banner_record(const void *bytes, size_t len)
{
	json_t *rec = json_object();
	assert_non_null(rec);
	assert_int_equal(kz_record_set_banner(rec, bytes, len), 0);
	return rec;
}

/* The banner text as bytes (it may hold NUL). */
static void expect_banner(const char *in, size_t inlen, const char *want, size_t wantlen)
{
	json_t *rec = banner_record(in, inlen);
	const json_t *b = json_object_get(rec, "extra.banner");
	assert_true(json_is_string(b));
	if (json_string_length(b) != wantlen || memcmp(json_string_value(b), want, wantlen) != 0)
		fail_msg("banner of %zu bytes: got '%s' (%zu bytes), want %zu bytes", inlen,
		         json_string_value(b), json_string_length(b), wantlen);
	/* b64 holds the bytes themselves. */
	const char *b64 = str(rec, "extra.banner_b64");
	uint8_t dec[64];
	assert_true(strlen(b64) / 4 * 3 <= sizeof dec);
	long n = kz_base64_decode(b64, strlen(b64), dec);
	assert_int_equal(n, (long)inlen);
	assert_memory_equal(dec, in, inlen);
	assert_null(json_object_get(rec, "extra.banner_truncated"));
	json_decref(rec);
}

#define FFFD    "\xef\xbf\xbd"
#define B(s, w) expect_banner(s, sizeof(s) - 1, w, sizeof(w) - 1)

static void test_banner_invalid_utf8(void **state)
{
	(void)state;
	B("login: ", "login: ");
	B("\xe2\x82\xac", "\xe2\x82\xac");          /* U+20AC */
	B("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");  /* U+1F600 */
	B("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");  /* U+10FFFF */
	B("\xef\xbf\xbd", FFFD);                    /* U+FFFD itself */
	B("\xff", FFFD);                            /* never in UTF-8 */
	B("\x80", FFFD);                            /* lone continuation */
	B("\xc0\xaf", FFFD FFFD);                   /* overlong '/' */
	B("\xc1\xbf", FFFD FFFD);                   /* overlong */
	B("\xe0\x80\xaf", FFFD FFFD FFFD);          /* overlong 3-byte */
	B("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD); /* overlong 4-byte */
	B("\xed\xa0\x80", FFFD FFFD FFFD);          /* surrogate D800 */
	B("\xed\xbf\xbf", FFFD FFFD FFFD);          /* surrogate DFFF */
	B("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* U+110000 */
	B("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD); /* F5 lead */
	B("\xf0\x9f\x98"
	  "A",
	  FFFD "A");         /* a maximal subpart is one U+FFFD */
	B("\xe2\x82", FFFD); /* truncated at the end */
	B("a\xe2\x28\xa1", "a" FFFD "(" FFFD);
	B("\xc3\xa9t\xc3", "\xc3\xa9t" FFFD);
}

static void test_banner_nul_and_controls(void **state)
{
	(void)state;
	static const char in[] = "a\0b\x1b[0m\r\n\x7f\t";
	json_t *rec = banner_record(in, sizeof in - 1);
	const json_t *b = json_object_get(rec, "extra.banner");
	assert_int_equal(json_string_length(b), sizeof in - 1);
	assert_memory_equal(json_string_value(b), in, sizeof in - 1);
	/* Written as escapes, read back as the same bytes. */
	char *line;
	size_t len;
	assert_int_equal(kz_jsonl_format(rec, &line, &len), 0);
	assert_non_null(strstr(line, "a\\u0000b\\u001B[0m\\r\\n\x7f\\t"));
	assert_null(memchr(line, '\0', len));
	struct kz_jsonl_reader *r;
	assert_int_equal(kz_jsonl_reader_memory(line, len, 0, &r), 0);
	json_t *back;
	struct kz_jsonl_error err;
	assert_int_equal(kz_jsonl_next(r, &back, &err), 1);
	const json_t *bb = json_object_get(back, "extra.banner");
	assert_int_equal(json_string_length(bb), sizeof in - 1);
	assert_memory_equal(json_string_value(bb), in, sizeof in - 1);
	json_decref(back);
	kz_jsonl_reader_free(r);
	free(line);
	json_decref(rec);
}

static void test_banner_one_megabyte(void **state)
{
	(void)state;
	size_t len = 1024 * 1024;
	uint8_t *in = malloc(len);
	assert_non_null(in);
	/* Arbitrary bytes: valid runs, invalid bytes, NULs, controls. */
	uint32_t x = 12345;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		in[i] = (uint8_t)(x >> 16);
	}
	json_t *rec = banner_record(in, len);
	assert_true(json_is_true(json_object_get(rec, "extra.banner_truncated")));

	/* The whole record is valid JSON that reads back. */
	char *text = json_dumps(rec, JSON_COMPACT);
	assert_non_null(text);
	json_error_t jerr;
	json_t *back = json_loads(text, JSON_ALLOW_NUL, &jerr);
	if (!back)
		fail_msg("not JSON: %s", jerr.text);
	assert_true(json_equal(rec, back));

	/* b64 decodes to exactly the first 4096 bytes. */
	const char *b64 = str(back, "extra.banner_b64");
	uint8_t dec[KZ_BANNER_MAX];
	assert_int_equal(strlen(b64), (KZ_BANNER_MAX + 2) / 3 * 4);
	assert_int_equal(kz_base64_decode(b64, strlen(b64), dec), KZ_BANNER_MAX);
	assert_memory_equal(dec, in, KZ_BANNER_MAX);

	/* The text is the sanitisation of (about) those bytes and nothing more. */
	const json_t *b = json_object_get(back, "extra.banner");
	size_t tlen = json_string_length(b);
	assert_true(tlen <= 3 * KZ_BANNER_MAX);
	assert_int_equal(kz_utf8_check((const uint8_t *)json_string_value(b), tlen), tlen);
	char *want = malloc(KZ_UTF8_SANITIZED_SIZE(KZ_BANNER_MAX));
	assert_non_null(want);
	size_t wlen = kz_utf8_sanitize(in, len, KZ_BANNER_MAX, want, NULL);
	assert_int_equal(tlen, wlen);
	assert_memory_equal(json_string_value(b), want, wlen);

	free(want);
	free(text);
	json_decref(back);
	json_decref(rec);
	free(in);
}

static void test_banner_cap_boundary(void **state)
{
	(void)state;
	uint8_t in[KZ_BANNER_MAX + 8];
	memset(in, 'A', sizeof in);

	/* Exactly 4096 bytes: kept whole, no flag. */
	json_t *rec = banner_record(in, KZ_BANNER_MAX);
	assert_int_equal(json_string_length(json_object_get(rec, "extra.banner")), KZ_BANNER_MAX);
	assert_null(json_object_get(rec, "extra.banner_truncated"));
	json_decref(rec);

	/* A 4-byte character across the cap is left out of the text, not cut
	 * and not replaced; the b64 still holds exactly the first 4096 bytes. */
	memcpy(in + KZ_BANNER_MAX - 2, "\xf0\x9f\x98\x80", 4);
	rec = banner_record(in, KZ_BANNER_MAX + 2);
	const json_t *b = json_object_get(rec, "extra.banner");
	assert_int_equal(json_string_length(b), KZ_BANNER_MAX - 2);
	assert_null(strstr(json_string_value(b), FFFD));
	assert_true(json_is_true(json_object_get(rec, "extra.banner_truncated")));
	const char *b64 = str(rec, "extra.banner_b64");
	uint8_t dec[KZ_BANNER_MAX];
	assert_int_equal(kz_base64_decode(b64, strlen(b64), dec), KZ_BANNER_MAX);
	assert_memory_equal(dec, in, KZ_BANNER_MAX);

	/* An invalid byte just before the cap still shows as U+FFFD. */
	in[KZ_BANNER_MAX - 3] = 0xff;
	assert_int_equal(kz_record_set_banner(rec, in, KZ_BANNER_MAX + 2), 0);
	b = json_object_get(rec, "extra.banner");
	assert_int_equal(json_string_length(b), KZ_BANNER_MAX - 3 + 3);
	assert_memory_equal(json_string_value(b) + KZ_BANNER_MAX - 3, FFFD, 3);

	/* Setting a short banner on the same record drops the stale flag. */
	assert_int_equal(kz_record_set_banner(rec, "ok", 2), 0);
	assert_null(json_object_get(rec, "extra.banner_truncated"));
	assert_string_equal(str(rec, "extra.banner"), "ok");
	json_decref(rec);
}

static void test_set_text(void **state)
{
	(void)state;
	json_t *rec = json_object();
	bool truncated = true;
	assert_int_equal(
	        kz_record_set_text(rec, "extra.device", "Hik\xffvision", 10, 64, &truncated), 0);
	assert_false(truncated);
	assert_string_equal(str(rec, "extra.device"), "Hik" FFFD "vision");
	assert_int_equal(
	        kz_record_set_text(rec, "extra.prompt", "\xc3\xa9\xc3\xa9", 4, 3, &truncated), 0);
	assert_true(truncated);
	assert_string_equal(str(rec, "extra.prompt"), "\xc3\xa9");
	assert_int_equal(kz_record_set_text(rec, "extra.empty", NULL, 0, 64, NULL), 0);
	assert_string_equal(str(rec, "extra.empty"), "");
	/* The plain setter refuses bytes that are not UTF-8 instead of guessing. */
	assert_int_equal(kz_record_set_str(rec, "extra.x", "\xff"), -EINVAL);
	json_decref(rec);
}

/* ------------------------------------------------------------- validator */

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (!v)
		fail_msg("test JSON: %s: %s", text, jerr.text);
	return v;
}

/* A record in IntelMQ's own form, as another producer would send it. */
static const char foreign[] = "{\"feed.name\":\"shadowserver-telnet\","
                              "\"time.source\":\"2026-11-27T16:19:54.250000+00:00\","
                              "\"time.observation\":\"2026-11-27T17:00:00+00:00\","
                              "\"classification.taxonomy\":\"vulnerable\","
                              "\"classification.type\":\"vulnerable-system\","
                              "\"classification.identifier\":\"open-telnet\","
                              "\"source.ip\":\"192.0.2.9\",\"source.port\":23,"
                              "\"source.asn\":64496,\"source.geolocation.cc\":\"JP\","
                              "\"protocol.application\":\"telnet\",\"tlp\":\"AMBER\","
                              "\"extra.tag\":\"telnet\",\"extra.ports\":[23,2323],"
                              "\"extra.note\":null,\"__type\":\"Event\"}";

static void expect_valid(const char *text)
{
	json_t *rec = parse(text);
	char why[KZ_RECORD_WHY_MAX];
	if (kz_record_validate(rec, why, sizeof why) != 0)
		fail_msg("refused: %s\n%s", why, text);
	json_decref(rec);
}

/* Validates the foreign record with one field replaced ("key": value) or,
 * when value is NULL, removed, and expects a refusal naming part. */
static void expect_invalid_with(const char *key, const char *value, const char *part)
{
	json_t *rec = parse(foreign);
	if (value)
		json_object_set_new(rec, key, parse(value));
	else
		json_object_del(rec, key);
	char why[KZ_RECORD_WHY_MAX] = "";
	if (kz_record_validate(rec, why, sizeof why) == 0)
		fail_msg("accepted %s = %s", key, value ? value : "(removed)");
	if (!strstr(why, part))
		fail_msg("%s = %s: reason '%s' lacks '%s'", key, value ? value : "(removed)", why,
		         part);
	json_decref(rec);
}

static void test_validate_accepts(void **state)
{
	(void)state;
	expect_valid(foreign);
	/* Every IntelMQ harmonisation field with a value of its type. */
	expect_valid("{\"feed.name\":\"x\",\"time.source\":\"2026-11-27\","
	             "\"classification.taxonomy\":\"test\",\"classification.type\":\"test\","
	             "\"classification.identifier\":\"t\",\"comment\":\"c\","
	             "\"destination.abuse_contact\":\"abuse@example.net\","
	             "\"destination.account\":\"a\","
	             "\"destination.allocated\":\"2000-01-01T00:00:00Z\","
	             "\"destination.as_name\":\"AS\",\"destination.asn\":4294967295,"
	             "\"destination.domain_suffix\":\"example\","
	             "\"destination.fqdn\":\"host.example.net\","
	             "\"destination.geolocation.cc\":\"DE\","
	             "\"destination.geolocation.city\":\"Berlin\","
	             "\"destination.geolocation.country\":\"Germany\","
	             "\"destination.geolocation.latitude\":52.5,"
	             "\"destination.geolocation.longitude\":13,"
	             "\"destination.geolocation.region\":\"BE\","
	             "\"destination.geolocation.state\":\"BE\","
	             "\"destination.ip\":\"2001:db8::2\",\"destination.local_hostname\":\"h\","
	             "\"destination.local_ip\":\"10.0.0.1\","
	             "\"destination.network\":\"2001:db8::/32\",\"destination.port\":0,"
	             "\"destination.registry\":\"RIPE\","
	             "\"destination.reverse_dns\":\"ptr.example.net\","
	             "\"destination.tor_node\":false,"
	             "\"destination.url\":\"http://example.net/a\","
	             "\"destination.urlpath\":\"/a\",\"event_description.target\":\"t\","
	             "\"event_description.text\":\"text\","
	             "\"event_description.url\":\"https://example.net/\","
	             "\"event_hash\":\"0A1B/2C.3D\",\"feed.accuracy\":99.5,\"feed.code\":\"X\","
	             "\"feed.documentation\":\"d\",\"feed.provider\":\"p\","
	             "\"feed.url\":\"https://feed.example.net/x\","
	             "\"malware.hash.md5\":\"d41d8cd98f00b204e9800998ecf8427e\","
	             "\"malware.hash.sha1\":\"da39a3ee5e6b4b0d3255bfef95601890afd80709\","
	             "\"malware.hash.sha256\":\"e3b0c442\",\"malware.name\":\"mirai\","
	             "\"malware.version\":\"V1\","
	             "\"misp.attribute_uuid\":\"5a2b4c6d-1234-4abc-9def-0123456789ab\","
	             "\"misp.event_uuid\":\"5a2b4c6d-1234-4abc-9def-0123456789ab\","
	             "\"output\":\"{\\\"a\\\":1}\",\"protocol.application\":\"telnet\","
	             "\"protocol.transport\":\"tcp\",\"raw\":\"aGVsbG8=\",\"rtir_id\":7,"
	             "\"screenshot_url\":\"//cdn.example.net/s.png\","
	             "\"source.abuse_contact\":\"abuse@example.org\","
	             "\"source.account\":\"u\",\"source.allocated\":\"2000-01-01\","
	             "\"source.as_name\":\"AS\",\"source.asn\":1,"
	             "\"source.domain_suffix\":\"org\",\"source.fqdn\":\"a.example.org\","
	             "\"source.geolocation.cc\":\"JP\",\"source.geolocation.city\":\"Tokyo\","
	             "\"source.geolocation.country\":\"Japan\","
	             "\"source.geolocation.cymru_cc\":\"JP\","
	             "\"source.geolocation.geoip_cc\":\"JP\","
	             "\"source.geolocation.latitude\":35.7,"
	             "\"source.geolocation.longitude\":139.7,"
	             "\"source.geolocation.region\":\"13\","
	             "\"source.geolocation.state\":\"Tokyo\",\"source.ip\":\"192.0.2.1\","
	             "\"source.local_hostname\":\"cam\",\"source.local_ip\":\"192.168.1.2\","
	             "\"source.network\":\"192.0.2.0/24\",\"source.port\":65535,"
	             "\"source.registry\":\"APNIC\",\"source.reverse_dns\":\"x.example.org\","
	             "\"source.tor_node\":true,\"source.url\":\"http://192.0.2.1:80/\","
	             "\"source.urlpath\":\"/\",\"status\":\"online\","
	             "\"time.observation\":\"2026-11-27T16:19:54Z\",\"tlp\":\"WHITE\"}");
}

static void test_validate_rejects(void **state)
{
	(void)state;
	/* Shape. */
	expect_invalid_with("extra", "{\"a\":1}", "extra: a nested object");
	expect_invalid_with("extra.obj", "{\"a\":1}", "extra.obj: a nested object");
	expect_invalid_with("extra.list", "[[1]]", "extra.list: an array may hold only");
	expect_invalid_with("source.ip", "[\"192.0.2.1\"]", "source.ip: expected a string");
	expect_invalid_with("source.foo", "1", "source.foo: not an IntelMQ harmonisation field");
	expect_invalid_with("Source.IP", "\"192.0.2.1\"", "Source.IP: not an IntelMQ field name");
	expect_invalid_with("extra.Banner", "\"x\"", "extra.Banner: not an IntelMQ field name");
	expect_invalid_with("extra..x", "1", "extra..x");
	expect_invalid_with("a", "1", "a: not an IntelMQ field name");
	expect_invalid_with("bad\nkey", "1", "bad?key");
	/* Required fields. */
	expect_invalid_with("feed.name", NULL, "feed.name: missing");
	expect_invalid_with("time.source", NULL, "time.source: missing");
	expect_invalid_with("classification.taxonomy", NULL, "classification.taxonomy: missing");
	expect_invalid_with("classification.type", NULL, "classification.type: missing");
	/* Types and values. */
	expect_invalid_with("source.port", "\"23\"", "source.port: expected an integer");
	expect_invalid_with("source.port", "23.0", "source.port: expected an integer");
	expect_invalid_with("source.port", "70000", "source.port: port outside");
	expect_invalid_with("source.port", "true", "source.port: expected an integer");
	expect_invalid_with("source.ip", "\"192.0.2.256\"", "source.ip: not an IP address");
	expect_invalid_with("source.ip", "\"0.0.0.0\"", "source.ip: 0.0.0.0");
	expect_invalid_with("source.ip", "\"192.0.2.1\\u0000x\"", "source.ip: contains a NUL");
	expect_invalid_with("source.ip", "null", "source.ip: expected a string, got null");
	expect_invalid_with("source.ip", "\"\"", "source.ip: empty string");
	expect_invalid_with("source.asn", "0", "source.asn: AS number outside");
	expect_invalid_with("source.asn", "4294967296", "source.asn: AS number outside");
	expect_invalid_with("source.network", "\"192.0.2.1/24\"", "source.network: not a network");
	expect_invalid_with("source.geolocation.cc", "\"jp\"", "source.geolocation.cc");
	expect_invalid_with("source.geolocation.cc", "\"JPN\"", "source.geolocation.cc");
	expect_invalid_with("source.geolocation.latitude", "\"35.7\"", "expected a number");
	expect_invalid_with("source.fqdn", "\"Example.com\"", "source.fqdn: not a lowercase");
	expect_invalid_with("source.fqdn", "\"example.com.\"", "source.fqdn");
	expect_invalid_with("source.fqdn", "\"192.0.2.1\"", "source.fqdn");
	expect_invalid_with("source.fqdn", "\"example.com:80\"", "source.fqdn");
	expect_invalid_with("source.url", "\"example.com/x\"", "source.url: not a URL");
	expect_invalid_with("source.registry", "\"JPNIC\"", "source.registry");
	expect_invalid_with("source.tor_node", "1", "source.tor_node: expected true or false");
	expect_invalid_with("feed.accuracy", "101", "feed.accuracy: accuracy outside");
	char long_code[110] = "\"";
	memset(long_code + 1, 'x', 101);
	strcpy(long_code + 102, "\"");
	expect_invalid_with("feed.code", long_code, "feed.code: longer than 100");
	expect_invalid_with("malware.name", "\"Mirai\"", "malware.name: must be lowercase");
	expect_invalid_with("malware.name", "\"mira\\u00ef\"", "malware.name: only printable");
	expect_invalid_with("protocol.transport", "\"tcp-over-carrier-pigeon\"",
	                    "protocol.transport: longer than 11");
	expect_invalid_with("raw", "\"aGVsbG8\"", "raw: not canonical base64");
	expect_invalid_with("output", "\"{\"", "output: not JSON");
	expect_invalid_with("event_hash", "\"abc\"", "event_hash");
	expect_invalid_with("misp.event_uuid", "\"5A2B4C6D-1234-4ABC-9DEF-0123456789AB\"",
	                    "misp.event_uuid");
	expect_invalid_with("classification.taxonomy", "\"bogus\"", "not an IntelMQ taxonomy");
	expect_invalid_with("classification.type", "\"bogus\"", "not an IntelMQ classification");
	/* Times. */
	expect_invalid_with("time.source", "\"2026-11-27 16:19:54\"", "time.source: not an ISO");
	expect_invalid_with("time.observation", "\"2026-11-27T16:19:54\"", "no time zone");
	expect_invalid_with("time.source", "1795796394", "time.source: expected a string");
	expect_invalid_with("extra.first_seen", "\"yesterday\"", "extra.first_seen");
	/* TLP. */
	expect_invalid_with("tlp", "\"amber\"", "tlp: not one of WHITE");
	expect_invalid_with("tlp", "\"CLEAR\"", "tlp: not one of WHITE");
	expect_invalid_with("extra.tlp", "\"amber+strict\"", "extra.tlp: not one of CLEAR");
	expect_invalid_with("extra.tlp", "\"AMBER+STRICT\"", "tlp: AMBER is looser");
	/* Ids. */
	expect_invalid_with("extra.finding_id", "\"3c7533bb475933bdd4d0789b9be865d2\"",
	                    "extra.finding_id: present without extra.observation_id");
	expect_invalid_with("extra.observation_id", "\"3C7533BB475933BDD4D0789B9BE865D2\"",
	                    "extra.observation_id: not 32 lowercase hex");
	/* kizuki's own extra fields. */
	expect_invalid_with("extra.banner_b64", "\"abc\"", "extra.banner_b64");
	expect_invalid_with("extra.banner_truncated", "\"yes\"", "extra.banner_truncated");
	expect_invalid_with("extra.scanner_ip", "\"scanner\"", "extra.scanner_ip");
	expect_invalid_with("extra.run_part", "\"middle\"", "extra.run_part");

	/* Not an object at all. */
	json_t *arr = parse("[1]");
	char why[KZ_RECORD_WHY_MAX];
	assert_int_equal(kz_record_validate(arr, why, sizeof why), -EINVAL);
	assert_non_null(strstr(why, "not a JSON object"));
	json_decref(arr);
}

/* Base64 values of any length are checked whole: a long valid value passes,
 * padding anywhere but at the very end is refused, wherever it falls. */
static void test_validate_long_base64(void **state)
{
	(void)state;
	uint8_t bytes[700];
	char b64[1000], value[1010];
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 250; n < sizeof bytes; n += 61) {
		kz_base64_encode(bytes, n, b64);
		json_t *rec = parse(foreign);
		json_object_set_new(rec, "raw", json_string(b64));
		char why[KZ_RECORD_WHY_MAX] = "";
		if (kz_record_validate(rec, why, sizeof why) != 0)
			fail_msg("%zu bytes refused: %s", n, why);
		json_decref(rec);
	}
	/* 700 bytes are 936 characters: "==" put at each quantum's end. */
	kz_base64_encode(bytes, sizeof bytes, b64);
	size_t len = strlen(b64);
	for (size_t at = 4; at < len; at += 4) {
		char saved[2] = { b64[at - 2], b64[at - 1] };
		b64[at - 2] = b64[at - 1] = '=';
		snprintf(value, sizeof value, "\"%s\"", b64);
		expect_invalid_with("raw", value, "raw: not canonical base64");
		b64[at - 2] = saved[0];
		b64[at - 1] = saved[1];
	}
}

static void test_validate_long_key_is_cut(void **state)
{
	(void)state;
	char key[300];
	memset(key, 'z', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	json_t *rec = parse(foreign);
	json_object_set_new(rec, key, json_integer(1));
	char why[KZ_RECORD_WHY_MAX];
	assert_int_equal(kz_record_validate(rec, why, sizeof why), -EINVAL);
	assert_non_null(strstr(why, "zzz..."));
	assert_true(strlen(why) < 150);
	json_decref(rec);
}

static void test_validate_tlp_stricter_is_fine(void **state)
{
	(void)state;
	json_t *rec = parse(foreign);
	json_object_set_new(rec, "tlp", json_string("RED"));
	json_object_set_new(rec, "extra.tlp", json_string("AMBER"));
	char why[KZ_RECORD_WHY_MAX];
	assert_int_equal(kz_record_validate(rec, why, sizeof why), 0);
	assert_int_equal(kz_record_tlp(rec), KZ_TLP_RED);
	json_object_del(rec, "tlp");
	json_object_del(rec, "extra.tlp");
	assert_int_equal(kz_record_tlp(rec), KZ_TLP_UNSET);
	json_decref(rec);
}

/* Our own feeds must carry every common field. */
static void test_validate_kizuki_feeds(void **state)
{
	(void)state;
	struct kz_record_spec sp = telescope_spec(KZ_REC_SCANNER, "198.51.100.7");
	/* Both ids go together: removing the finding id removes both. */
	static const char *const telescope_required[] = {
		"time.observation", "classification.identifier", "tlp", "extra.tlp",
		"extra.sensor",     "extra.finding_id",
	};
	for (size_t i = 0; i < sizeof telescope_required / sizeof telescope_required[0]; i++) {
		json_t *rec = build(&sp);
		json_object_del(rec, telescope_required[i]);
		if (strcmp(telescope_required[i], "extra.finding_id") == 0)
			json_object_del(rec, "extra.observation_id");
		char why[KZ_RECORD_WHY_MAX];
		assert_int_equal(kz_record_validate(rec, why, sizeof why), -EINVAL);
		if (!strstr(why, "missing") || !strstr(why, "kizuki-telescope"))
			fail_msg("without %s: %s", telescope_required[i], why);
		json_decref(rec);
	}
	struct kz_record_spec sv = survey_spec(KZ_REC_WEAK_CREDENTIALS, "192.0.2.1", 23, "telnet");
	json_t *rec = build(&sv);
	json_object_del(rec, "extra.scanner_ip");
	char why[KZ_RECORD_WHY_MAX];
	assert_int_equal(kz_record_validate(rec, why, sizeof why), -EINVAL);
	assert_non_null(strstr(why, "extra.scanner_ip: missing (required in kizuki-survey"));
	json_decref(rec);
}

/* ----------------------------------------------------- ids for others */

static void test_ensure_ids_foreign(void **state)
{
	(void)state;
	json_t *rec = parse(foreign);
	char why[KZ_RECORD_WHY_MAX];
	assert_int_equal(kz_record_validate(rec, why, sizeof why), 0);
	assert_int_equal(kz_record_ensure_ids(rec, why, sizeof why), 0);
	/* Hand-computed: ("intelmq", taxonomy, type, identifier, source.ip,
	 * source.fqdn, source.url, destination.ip, protocol.application) and
	 * (finding, "time", feed.name, time.source to the second). */
	assert_string_equal(str(rec, "extra.finding_id"), "1c77c1d6244f56419a9c6d2a529dbf51");
	assert_string_equal(str(rec, "extra.observation_id"), "679f25c433a8cab53e60355d7aed14f8");
	assert_int_equal(kz_record_validate(rec, why, sizeof why), 0);

	/* Present ids are left alone. */
	json_object_set_new(rec, "extra.finding_id",
	                    json_string("00000000000000000000000000000000"));
	assert_int_equal(kz_record_ensure_ids(rec, why, sizeof why), 0);
	assert_string_equal(str(rec, "extra.finding_id"), "00000000000000000000000000000000");
	/* One without the other is refused. */
	json_object_del(rec, "extra.observation_id");
	assert_int_equal(kz_record_ensure_ids(rec, why, sizeof why), -EINVAL);
	json_decref(rec);
}

static void test_ensure_ids_canonical_inputs(void **state)
{
	(void)state;
	char why[KZ_RECORD_WHY_MAX];
	json_t *a = parse(foreign), *b = parse(foreign);
	/* Another spelling of the address and another observation time change
	 * nothing; the fraction of time.source is dropped. */
	json_object_set_new(b, "source.ip", json_string("::ffff:192.0.2.9"));
	json_object_set_new(b, "time.observation", json_string("2030-01-01T00:00:00Z"));
	json_object_set_new(b, "time.source", json_string("2026-11-28T01:19:54.9+09:00"));
	assert_int_equal(kz_record_ensure_ids(a, why, sizeof why), 0);
	assert_int_equal(kz_record_ensure_ids(b, why, sizeof why), 0);
	assert_string_equal(str(a, "extra.finding_id"), str(b, "extra.finding_id"));
	assert_string_equal(str(a, "extra.observation_id"), str(b, "extra.observation_id"));
	json_decref(b);
	/* Another second is another observation of the same finding. */
	b = parse(foreign);
	json_object_set_new(b, "time.source", json_string("2026-11-27T16:19:55Z"));
	assert_int_equal(kz_record_ensure_ids(b, why, sizeof why), 0);
	assert_string_equal(str(a, "extra.finding_id"), str(b, "extra.finding_id"));
	assert_string_not_equal(str(a, "extra.observation_id"), str(b, "extra.observation_id"));
	json_decref(b);
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_infected),
		cmocka_unit_test(test_build_scanner_ipv6_and_identifier),
		cmocka_unit_test(test_build_dos_and_surge),
		cmocka_unit_test(test_build_survey_kinds),
		cmocka_unit_test(test_build_survey_run),
		cmocka_unit_test(test_build_tlp_override),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_ids_never_include_times),
		cmocka_unit_test(test_id_hash_unambiguous),
		cmocka_unit_test(test_banner_invalid_utf8),
		cmocka_unit_test(test_banner_nul_and_controls),
		cmocka_unit_test(test_banner_one_megabyte),
		cmocka_unit_test(test_banner_cap_boundary),
		cmocka_unit_test(test_set_text),
		cmocka_unit_test(test_validate_accepts),
		cmocka_unit_test(test_validate_rejects),
		cmocka_unit_test(test_validate_long_base64),
		cmocka_unit_test(test_validate_long_key_is_cut),
		cmocka_unit_test(test_validate_tlp_stricter_is_fine),
		cmocka_unit_test(test_validate_kizuki_feeds),
		cmocka_unit_test(test_ensure_ids_foreign),
		cmocka_unit_test(test_ensure_ids_canonical_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
