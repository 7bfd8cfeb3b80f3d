/*
 * Every record kind kizuki writes, with the key fields CONTRACT.md's table
 * gives it, passes the hub's validator, whose field list is IntelMQ's
 * event harmonisation (src/lib/record.c): through jansson
 * (kz_record_validate) and through the hub's flat reader
 * (kz_flat_parse + kz_record_validate_fields), the two ways a line is read
 * at ingest. The loop covers every value of enum kz_record_kind, so a new
 * kind without a case here fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flatrec.h"
#include "jsonl.h"
#include "record.h"

#define T 1795796394 /* 2026-11-27T16:19:54Z */

static struct kz_addr addr(const char *s)
{
	struct kz_addr a;
	const char *why;
	if (kz_addr_parse(s, &a, &why) != 0)
		fail_msg("%s: %s", s, why);
	return a;
}

static void set(int rc)
{
	assert_int_equal(rc, 0);
}

/* The record of one kind with the key fields its row of the table lists. */
static json_t *make(enum kz_record_kind kind)
{
	struct kz_record_spec sp = { .kind = kind, .time_observation = T + 8, .time_source = T };
	const char *why;
	json_t *rec = NULL;
	bool telescope = kind <= KZ_REC_PORT_SURGE;
	if (telescope) {
		sp.sensor = "tokyo-1";
		sp.interval_start = T - T % 60;
	} else {
		sp.run_id = "2026-11-27-a";
		sp.scanner_ip = addr("198.18.0.1");
	}
	switch (kind) {
	case KZ_REC_INFECTED:
	case KZ_REC_SCANNER:
		sp.addr = addr(kind == KZ_REC_SCANNER ? "2001:db8::7" : "198.51.100.7");
		break;
	case KZ_REC_DOS_VICTIM:
		sp.addr = addr("192.0.2.80");
		break;
	case KZ_REC_PORT_SURGE:
		sp.port = 37215;
		sp.transport = "tcp";
		break;
	case KZ_REC_SURVEY_RUN:
		sp.run_part = "header";
		break;
	default:
		sp.addr = addr("192.0.2.1");
		sp.port = 23;
		sp.application = "telnet";
	}
	if (kz_record_new(&sp, &rec, &why) != 0)
		fail_msg("kind %d: %s", (int)kind, why);
	switch (kind) {
	case KZ_REC_INFECTED:
	case KZ_REC_SCANNER: {
		set(kz_record_set_int(rec, "source.port", 40312));
		set(kz_record_set_int(rec, "extra.packets", 118));
		set(kz_record_set_int(rec, "extra.unique_destinations", 97));
		set(json_object_set_new(rec, "extra.ports", json_pack("[i,i]", 23, 2323)));
		set(kz_record_set_str(rec, "extra.fingerprint_basis",
		                      "mirai: tcp.seq == ip.dst in 112 of 118 packets"));
		set(kz_record_set_time(rec, "extra.first_seen", T - 93));
		set(kz_record_set_time(rec, "extra.last_seen", T));
		break;
	}
	case KZ_REC_DOS_VICTIM:
		set(kz_record_set_int(rec, "extra.packets", 5120));
		set(kz_record_set_time(rec, "extra.start", T - 294));
		set(kz_record_set_time(rec, "extra.end", T));
		set(kz_record_set_int(rec, "extra.max_ppm", 1900));
		set(json_object_set_new(rec, "extra.est_rate_pps", json_real(1100000.0)));
		break;
	case KZ_REC_PORT_SURGE:
		set(kz_record_set_int(rec, "extra.sources", 412));
		set(json_object_set_new(rec, "extra.baseline", json_real(12.5)));
		break;
	case KZ_REC_SURVEY_RUN:
		set(json_object_set_new(rec, "extra.scope", json_pack("[s]", "192.0.2.0/24")));
		set(json_object_set_new(rec, "extra.ports", json_pack("[s]", "23/telnet")));
		set(kz_record_set_str(rec, "extra.seed", "1"));
		set(kz_record_set_time(rec, "extra.start", T));
		set(kz_record_set_str(rec, "extra.authorization", "contract 42"));
		set(kz_record_set_int(rec, "extra.addresses", 256));
		break;
	default: {
		static const char *const status[] = {
			[KZ_REC_WEAK_CREDENTIALS] = "login-possible",
			[KZ_REC_NO_AUTH] = "no-auth",
			[KZ_REC_ACCESSIBLE] = "login-failed",
			[KZ_REC_ACCEPTS_ANY] = "accepts-any",
			[KZ_REC_OTHER_PROTOCOL] = "not-telnet",
			[KZ_REC_SURVEY_ERROR] = "timeout",
		};
		static const char bn[] = "\xff\xfb\x01\r\nBusyBox v1.21.1\r\nlogin: ";
		set(kz_record_set_str(rec, "extra.status", status[kind]));
		set(kz_record_set_banner(rec, bn, sizeof bn - 1));
		if (kind == KZ_REC_WEAK_CREDENTIALS) {
			set(kz_record_set_str(rec, "extra.user", "root"));
			set(kz_record_set_str(rec, "extra.password", "xc3511"));
			set(kz_record_set_str(rec, "extra.device", "busybox"));
		}
	}
	}
	return rec;
}

static void test_every_kind_passes(void **state)
{
	(void)state;
	int seen = 0;
	for (int k = 0; k < KZ_REC_KIND_COUNT; k++) {
		json_t *rec = make((enum kz_record_kind)k);
		char why[KZ_RECORD_WHY_MAX];
		if (kz_record_validate(rec, why, sizeof why) != 0)
			fail_msg("kind %d (%s): %s", k,
			         json_string_value(
			                 json_object_get(rec, "classification.identifier")),
			         why);
		/* And as the hub reads most lines: the flat reader. */
		char *line;
		size_t len;
		assert_int_equal(kz_jsonl_format(rec, &line, &len), 0);
		while (len && (line[len - 1] == '\n'))
			len--;
		char *arena = malloc(KZ_FLAT_ARENA_SIZE(len));
		struct kz_rfield fields[KZ_FLAT_FIELDS_MAX];
		int n = kz_flat_parse(line, len, fields, arena, KZ_FLAT_ARENA_SIZE(len));
		if (n < 0)
			fail_msg("kind %d: the flat reader declined %s", k, line);
		if (kz_record_validate_fields(fields, (size_t)n, why, sizeof why) != 0)
			fail_msg("kind %d via the flat reader: %s", k, why);
		free(arena);
		free(line);
		json_decref(rec);
		seen++;
	}
	assert_int_equal(seen, KZ_REC_KIND_COUNT);
}

/* A field outside IntelMQ's list is refused, so passing above means every
 * key kizuki writes is on it (or under extra.). */
static void test_unknown_field_refused(void **state)
{
	(void)state;
	json_t *rec = make(KZ_REC_WEAK_CREDENTIALS);
	char why[KZ_RECORD_WHY_MAX];
	set(kz_record_set_str(rec, "source.device", "x"));
	assert_int_not_equal(kz_record_validate(rec, why, sizeof why), 0);
	assert_non_null(strstr(why, "source.device"));
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_passes),
		cmocka_unit_test(test_unknown_field_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
