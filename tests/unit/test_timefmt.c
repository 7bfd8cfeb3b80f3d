/*
 * UTC time text: formatting against known instants and against the C
 * library's gmtime_r, strict parsing with reasons, and no dependence on TZ.
 * The epoch values were computed with Python's calendar.timegm.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "timefmt.h"

static void expect_format(int64_t sec, const char *want)
{
	char buf[KZ_TIME_STRLEN];
	assert_int_equal(kz_time_format(sec, buf), 0);
	assert_string_equal(buf, want);
}

static void test_format_known(void **state)
{
	(void)state;
	expect_format(0, "1970-01-01T00:00:00Z");
	expect_format(1795796394, "2026-11-27T16:19:54Z");
	expect_format(1709208000, "2024-02-29T12:00:00Z");
	expect_format(951782400, "2000-02-29T00:00:00Z");
	expect_format(-2203891200, "1900-03-01T00:00:00Z");
	expect_format(-1, "1969-12-31T23:59:59Z");
	expect_format(KZ_TIME_MIN, "0000-01-01T00:00:00Z");
	expect_format(KZ_TIME_MAX, "9999-12-31T23:59:59Z");
}

static void test_format_range(void **state)
{
	(void)state;
	char buf[KZ_TIME_STRLEN] = "x";
	assert_int_equal(kz_time_format(KZ_TIME_MAX + 1, buf), -ERANGE);
	assert_string_equal(buf, "");
	assert_int_equal(kz_time_format(KZ_TIME_MIN - 1, buf), -ERANGE);
	assert_int_equal(kz_time_format(INT64_MIN, buf), -ERANGE);
	assert_int_equal(kz_time_format(INT64_MAX, buf), -ERANGE);
}

static void test_format_ms(void **state)
{
	(void)state;
	char buf[KZ_TIME_MS_STRLEN];
	assert_int_equal(kz_time_format_ms(INT64_C(1795796394123), buf), 0);
	assert_string_equal(buf, "2026-11-27T16:19:54.123Z");
	assert_int_equal(kz_time_format_ms(0, buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	/* Before the epoch the milliseconds still count forward in the second. */
	assert_int_equal(kz_time_format_ms(-1, buf), 0);
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	assert_int_equal(kz_time_format_ms(KZ_TIME_MAX * 1000 + 999, buf), 0);
	assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
	assert_int_equal(kz_time_format_ms((KZ_TIME_MAX + 1) * 1000, buf), -ERANGE);
}

/* The C library's gmtime_r is an independent implementation of the same
 * calendar: agree with it across 1900-2100 at irregular steps. */
static void test_format_matches_gmtime(void **state)
{
	(void)state;
	for (int64_t t = -2208988800; t < 4102444800; t += 86400 * 7 + 3607) {
		time_t tt = (time_t)t;
		struct tm tm;
		assert_non_null(gmtime_r(&tt, &tm));
		char want[64], got[KZ_TIME_STRLEN];
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		assert_int_equal(kz_time_format(t, got), 0);
		assert_string_equal(got, want);
	}
}

/* Whatever is formatted parses back to the same second, over all years. */
static void test_roundtrip(void **state)
{
	(void)state;
	for (int64_t t = KZ_TIME_MIN; t <= KZ_TIME_MAX - 86400 * 97; t += 86400 * 97 + 12345) {
		char buf[KZ_TIME_STRLEN];
		int64_t back;
		const char *why = NULL;
		assert_int_equal(kz_time_format(t, buf), 0);
		assert_int_equal(kz_time_parse(buf, &back, &why), 0);
		assert_true(back == t);
	}
}

static void expect_parse(const char *s, int64_t sec, uint32_t nsec)
{
	int64_t got;
	uint32_t gotn;
	const char *why = NULL;
	int rc = kz_time_parse_mem(s, strlen(s), &got, &gotn, &why);
	if (rc != 0)
		fail_msg("'%s': %s", s, why);
	if (got != sec || gotn != nsec)
		fail_msg("'%s': got %lld.%09u, want %lld.%09u", s, (long long)got, gotn,
		         (long long)sec, nsec);
}

static void test_parse_forms(void **state)
{
	(void)state;
	expect_parse("2026-11-27T16:19:54Z", 1795796394, 0);
	expect_parse("2026-11-27T16:19:54+00:00", 1795796394, 0);
	expect_parse("2026-11-27T16:19:54-00:00", 1795796394, 0);
	/* IntelMQ writes microseconds and +00:00. */
	expect_parse("2026-11-27T16:19:54.123456+00:00", 1795796394, 123456000);
	expect_parse("2026-11-27T16:19:54.5Z", 1795796394, 500000000);
	expect_parse("2026-11-27T16:19:54.000000001Z", 1795796394, 1);
	/* Offsets are subtracted to give UTC. */
	expect_parse("2026-11-28T01:19:54+09:00", 1795796394, 0);
	expect_parse("2026-11-27T11:19:54-05:00", 1795796394, 0);
	expect_parse("2026-11-27T16:49:54+00:30", 1795796394, 0);
	/* A bare date is midnight UTC. */
	expect_parse("2026-11-27", 1795796394 - (16 * 3600 + 19 * 60 + 54), 0);
	expect_parse("2024-02-29", 1709208000 - 12 * 3600, 0);
	expect_parse("1969-12-31T23:59:59Z", -1, 0);
	expect_parse("1969-12-31T23:59:59.25Z", -1, 250000000);
	expect_parse("0000-01-01T00:00:00Z", KZ_TIME_MIN, 0);
	expect_parse("9999-12-31T23:59:59Z", KZ_TIME_MAX, 0);
}

static void expect_error(const char *s, size_t len, const char *reason_part)
{
	int64_t sec;
	uint32_t nsec;
	const char *why = NULL;
	if (kz_time_parse_mem(s, len, &sec, &nsec, &why) == 0)
		fail_msg("'%s' parsed", s);
	assert_non_null(why);
	if (!strstr(why, reason_part))
		fail_msg("'%s': reason '%s' lacks '%s'", s, why, reason_part);
}

#define ERR(s, part) expect_error(s, strlen(s), part)

static void test_parse_errors(void **state)
{
	(void)state;
	ERR("", "4-digit year");
	ERR("26-11-27", "4-digit year");
	ERR("2026/11/27", "'-' after the year");
	ERR("2026-1-27", "2-digit month");
	ERR("2026-13-01", "month out of range");
	ERR("2026-00-01", "month out of range");
	ERR("2026-02-29", "day out of range");
	ERR("1900-02-29", "day out of range");
	ERR("2026-04-31", "day out of range");
	ERR("2026-11-00", "day out of range");
	ERR("2026-11-27 16:19:54Z", "not a space");
	ERR("2026-11-27t16:19:54Z", "expected 'T'");
	ERR("2026-11-27T16:19:54", "no time zone");
	ERR("2026-11-27T16:19:54.5", "no time zone");
	ERR("2026-11-27T16:19:54z", "uppercase");
	ERR("2026-11-27T24:00:00Z", "hour above 23");
	ERR("2026-11-27T23:60:00Z", "minute above 59");
	ERR("2026-11-27T23:59:60Z", "leap second");
	ERR("2026-11-27T23:59:61Z", "second above 59");
	ERR("2026-11-27T16:19Z", "':SS' seconds");
	ERR("2026-11-27T16Z", "':' after the hour");
	ERR("2026-11-27T16:19:54.Z", "digits after '.'");
	ERR("2026-11-27T16:19:54.1234567890Z", "more than 9");
	ERR("2026-11-27T16:19:54+0000", "+HH:MM");
	ERR("2026-11-27T16:19:54+00", "+HH:MM");
	ERR("2026-11-27T16:19:54+24:00", "offset out of range");
	ERR("2026-11-27T16:19:54+01:60", "offset out of range");
	ERR("2026-11-27T16:19:54 UTC", "'Z' or a +HH:MM");
	ERR("2026-11-27T16:19:54Zx", "trailing");
	ERR("2026-11-27x", "expected 'T'");
	ERR("0000-01-01T00:00:00+00:01", "outside the years");
	ERR("9999-12-31T23:59:59-00:01", "outside the years");
	/* Only the given bytes count: an embedded NUL is a trailing byte. */
	expect_error("2026-11-27T16:19:54Z\0", 21, "trailing");
	/* A short length stops the parse mid-way: the rest is not read. */
	expect_error("2026-11-27T16:19:54Z", 19, "no time zone");
}

static void test_parse_ns(void **state)
{
	(void)state;
	int64_t ns;
	const char *why = NULL;
	assert_int_equal(kz_time_parse_ns("2026-11-27T16:19:54.123456789Z", &ns, &why), 0);
	assert_true(ns == INT64_C(1795796394123456789));
	assert_int_equal(kz_time_parse_ns("1969-12-31T23:59:59.5Z", &ns, &why), 0);
	assert_true(ns == -500000000);
	/* The last representable nanosecond, and one past it. */
	assert_int_equal(kz_time_parse_ns("2262-04-11T23:47:16.854775807Z", &ns, &why), 0);
	assert_true(ns == INT64_MAX);
	assert_int_equal(kz_time_parse_ns("2262-04-11T23:47:16.854775808Z", &ns, &why), -EINVAL);
	assert_non_null(strstr(why, "nanosecond"));
	assert_int_equal(kz_time_parse_ns("1600-01-01", &ns, &why), -EINVAL);
	assert_int_equal(kz_time_parse_ns("2026-11-27T16:19:54", &ns, &why), -EINVAL);
	assert_non_null(strstr(why, "no time zone"));
}

static void test_parse_drops_fraction(void **state)
{
	(void)state;
	int64_t sec;
	const char *why = NULL;
	assert_int_equal(kz_time_parse("2026-11-27T16:19:54.999999999Z", &sec, &why), 0);
	assert_true(sec == 1795796394);
	assert_int_equal(kz_time_parse("1969-12-31T23:59:59.9Z", &sec, &why), 0);
	assert_true(sec == -1);
}

/* TZ must change nothing: the module never consults it. */
static void test_tz_independent(void **state)
{
	(void)state;
	static const char *const zones[] = { "Asia/Tokyo", "America/New_York", "XYZ+05:30", "UTC" };
	for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		assert_int_equal(setenv("TZ", zones[i], 1), 0);
		tzset();
		expect_format(1795796394, "2026-11-27T16:19:54Z");
		expect_parse("2026-11-27T16:19:54Z", 1795796394, 0);
		expect_parse("2026-11-27", 1795737600, 0);
	}
	unsetenv("TZ");
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_known),
		cmocka_unit_test(test_format_range),
		cmocka_unit_test(test_format_ms),
		cmocka_unit_test(test_format_matches_gmtime),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_ns),
		cmocka_unit_test(test_parse_drops_fraction),
		cmocka_unit_test(test_tz_independent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
