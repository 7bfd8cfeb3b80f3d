/*
 * Hand-written source records against the reference path: the same record
 * built with record.h (kz_record_new and the setters) and formatted by
 * jsonl.h (jansson, compact, sorted keys) must give the same bytes, for
 * many random records, both kinds, IPv4 and IPv6, with and without the
 * optional fields, and sensor names that need escaping. The ids are the
 * contract's (record.h computes them in the reference). Bad fields are
 * refused rather than written.
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

#include "jsonl.h"
#include "record.h"
#include "srcrecord.h"
#include "timefmt.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The reference: what the telescope wrote before the hand-written path. */
static char *reference(const char *sensor, const struct kz_srcrec *r)
{
	struct kz_record_spec sp = {
		.kind = r->infected ? KZ_REC_INFECTED : KZ_REC_SCANNER,
		.identifier = r->identifier,
		.time_observation = r->time_observation,
		.time_source = r->time_source,
		.sensor = sensor,
		.interval_start = r->interval_start,
		.addr = r->addr,
	};
	json_t *rec = NULL;
	const char *why = "";
	assert_int_equal(kz_record_new(&sp, &rec, &why), 0);
	json_t *ports = json_array();
	for (unsigned i = 0; i < r->nports; i++)
		json_array_append_new(ports, json_integer(r->ports[i]));
	if (r->sport)
		assert_int_equal(kz_record_set_int(rec, "source.port", r->sport), 0);
	if (r->infected)
		assert_int_equal(kz_record_set_str(rec, "malware.name", r->identifier), 0);
	assert_int_equal(kz_record_set_int(rec, "extra.packets", (int64_t)r->packets), 0);
	assert_int_equal(kz_record_set_int(rec, "extra.bytes", (int64_t)r->bytes), 0);
	assert_int_equal(kz_record_set_int(rec, "extra.unique_destinations",
	                                   (int64_t)r->unique_destinations),
	                 0);
	json_object_set_new(rec, "extra.ports", ports);
	assert_int_equal(kz_record_set_int(rec, "extra.port_count", (int64_t)r->port_count), 0);
	assert_int_equal(kz_record_set_str(rec, "extra.fingerprint_basis", r->basis), 0);
	assert_int_equal(kz_record_set_time(rec, "extra.first_seen", r->first_seen), 0);
	assert_int_equal(kz_record_set_time(rec, "extra.last_seen", r->last_seen), 0);
	if (r->has_rate)
		assert_int_equal(kz_record_set_int(rec, "extra.est_rate_pps", r->est_rate_pps), 0);
	char why2[KZ_RECORD_WHY_MAX];
	assert_int_equal(kz_record_validate(rec, why2, sizeof why2), 0);
	char *line = NULL;
	size_t len = 0;
	assert_int_equal(kz_jsonl_format(rec, &line, &len), 0);
	json_decref(rec);
	return line;
}

static void test_same_bytes_as_jansson(void **state)
{
	(void)state;
	static const char *const sensors[] = { "tokyo-1", "a \"quoted\" \\ name", "東京-センサー",
		                               "tab\there", "x" };
	static const char *const ids[] = { "mirai", "zmap",        "masscan",
		                           "nmap",  "unicornscan", "scanner" };
	uint64_t seed = 0x243f6a8885a308d3ull;
	for (size_t si = 0; si < sizeof sensors / sizeof sensors[0]; si++) {
		struct kz_srcrec_enc *enc;
		assert_int_equal(kz_srcrec_enc_new(sensors[si], &enc), 0);
		for (int n = 0; n < 200; n++) {
			uint16_t ports[4];
			struct kz_srcrec r;
			memset(&r, 0, sizeof r);
			size_t k = rnd(&seed) % 6;
			r.identifier = ids[k];
			r.infected = k == 0;
			if (rnd(&seed) % 3)
				r.addr = kz_addr_from_v4((uint32_t)rnd(&seed) | 1);
			else
				r.addr.v = (kz_u128)rnd(&seed) << 64 | rnd(&seed) | 1;
			r.sport = rnd(&seed) % 4 ? (uint16_t)rnd(&seed) : 0;
			r.packets = rnd(&seed) % 100000000;
			r.bytes = rnd(&seed) % 10000000000ull;
			r.unique_destinations = rnd(&seed) % 70000;
			r.nports = (unsigned)(rnd(&seed) % 5);
			for (unsigned i = 0; i < r.nports; i++)
				ports[i] = (uint16_t)rnd(&seed);
			r.ports = ports;
			r.port_count = r.nports + rnd(&seed) % 3;
			r.basis = "scanner: 17 distinct dark addresses on tcp/23 (D = 5) at an "
			          "estimated 41 pps Internet-wide (>= 10)";
			r.first_seen = 1700000000 + (int64_t)(rnd(&seed) % 100000000);
			/* The encoder keeps the last day's date: times a second
			 * either side of midnights, before 1970, and at the ends
			 * of the range, after other days. */
			if (n % 4 == 1)
				r.first_seen = ((int64_t)(rnd(&seed) % 2000) - 1000) * 86400 +
				               (int64_t)(rnd(&seed) % 3) - 1;
			else if (n % 50 == 2)
				r.first_seen = KZ_TIME_MIN + (int64_t)(rnd(&seed) % 3);
			else if (n % 50 == 3)
				r.first_seen = KZ_TIME_MAX - 100000 - (int64_t)(rnd(&seed) % 3);
			r.last_seen = r.first_seen + (int64_t)(rnd(&seed) % 100000);
			r.has_rate = rnd(&seed) % 2;
			r.est_rate_pps = (int64_t)(rnd(&seed) % 5000000);
			r.interval_start = r.last_seen / 60 * 60;
			r.time_observation = r.last_seen + 30;
			r.time_source = r.last_seen;
			char buf[KZ_SRCREC_LINE_MAX], fid[KZ_ID_STRLEN], oid[KZ_ID_STRLEN];
			int len = kz_srcrec_format(enc, &r, buf, sizeof buf, fid, oid);
			assert_true(len > 0);
			char *want = reference(sensors[si], &r);
			if ((size_t)len != strlen(want) || memcmp(buf, want, (size_t)len) != 0) {
				printf("want %s\ngot  %.*s", want, len, buf);
				fail();
			}
			assert_non_null(strstr(want, fid));
			assert_non_null(strstr(want, oid));
			free(want);
		}
		kz_srcrec_enc_free(enc);
	}
}

static void test_refusals(void **state)
{
	(void)state;
	struct kz_srcrec_enc *enc;
	assert_int_equal(kz_srcrec_enc_new("", &enc), -EINVAL);
	assert_int_equal(kz_srcrec_enc_new("\xff\xfe", &enc), -EINVAL);
	assert_int_equal(kz_srcrec_enc_new("s", &enc), 0);
	struct kz_srcrec r;
	memset(&r, 0, sizeof r);
	r.identifier = "scanner";
	r.basis = "ok";
	r.addr = kz_addr_from_v4(0x01020304);
	r.interval_start = 60;
	char buf[KZ_SRCREC_LINE_MAX], fid[KZ_ID_STRLEN], oid[KZ_ID_STRLEN];
	assert_true(kz_srcrec_format(enc, &r, buf, sizeof buf, fid, oid) > 0);
	assert_int_equal(kz_srcrec_format(enc, &r, buf, 100, fid, oid), -ENOSPC);
	r.basis = "a \"quote\"";
	assert_int_equal(kz_srcrec_format(enc, &r, buf, sizeof buf, fid, oid), -EINVAL);
	r.basis = "ok";
	r.addr = kz_addr_from_v4(0);
	assert_int_equal(kz_srcrec_format(enc, &r, buf, sizeof buf, fid, oid), -EINVAL);
	r.addr = kz_addr_from_v4(0x01020304);
	r.last_seen = INT64_C(300000000000);
	assert_int_equal(kz_srcrec_format(enc, &r, buf, sizeof buf, fid, oid), -EINVAL);
	kz_srcrec_enc_free(enc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes_as_jansson),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
