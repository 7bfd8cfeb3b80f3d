/*
 * Addresses and CIDRs: strict parsing and canonical printing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

static void roundtrip(const char *in, const char *want)
{
	struct kz_addr a;
	const char *why = NULL;
	char buf[KZ_ADDR_STRLEN];
	assert_int_equal(kz_addr_parse(in, &a, &why), 0);
	assert_string_equal(kz_addr_format(a, buf), want);
}

static void expect_addr_error(const char *in, const char *reason_part)
{
	struct kz_addr a;
	const char *why = NULL;
	assert_int_not_equal(kz_addr_parse(in, &a, &why), 0);
	assert_non_null(why);
	if (!strstr(why, reason_part))
		fail_msg("'%s': reason '%s' lacks '%s'", in, why, reason_part);
}

static void test_addr_valid(void **state)
{
	(void)state;
	roundtrip("0.0.0.0", "0.0.0.0");
	roundtrip("192.0.2.1", "192.0.2.1");
	roundtrip("255.255.255.255", "255.255.255.255");
	roundtrip("2001:db8::1", "2001:db8::1");
	roundtrip("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	roundtrip("::", "::");
	roundtrip("::1", "::1");
	/* IPv4-mapped IPv6 is the same key as the IPv4 address. */
	roundtrip("::ffff:198.51.100.7", "198.51.100.7");
}

static void test_addr_v4_is_mapped(void **state)
{
	(void)state;
	struct kz_addr a;
	const char *why;
	assert_int_equal(kz_addr_parse("203.0.113.9", &a, &why), 0);
	assert_true(kz_addr_is_v4(a));
	assert_int_equal(kz_addr_v4(a), 0xcb007109u);
	assert_int_equal(kz_addr_parse("2001:db8::", &a, &why), 0);
	assert_false(kz_addr_is_v4(a));
	uint8_t bytes[16];
	kz_addr_to_bytes(a, bytes);
	assert_int_equal(bytes[0], 0x20);
	assert_int_equal(bytes[1], 0x01);
	assert_int_equal(bytes[2], 0x0d);
	assert_int_equal(kz_addr_cmp(kz_addr_from_bytes(bytes), a), 0);
}

static void test_addr_invalid(void **state)
{
	(void)state;
	expect_addr_error("1.2.3", "fewer than four");
	expect_addr_error("01.2.3.4", "leading zero");
	expect_addr_error("1.2.3.04", "leading zero");
	expect_addr_error("1.2.3.256", "above 255");
	expect_addr_error("1.2.3.4.5", "more than four");
	expect_addr_error("1.2.3.4x", "trailing");
	expect_addr_error("1.2.3.4 ", "trailing");
	expect_addr_error(" 1.2.3.4", "digit");
	expect_addr_error("", "incomplete");
	expect_addr_error("1..2.3", "digit");
	expect_addr_error("-1.2.3.4", "digit");
	expect_addr_error("2001:db8::g", "IPv6");
	expect_addr_error("2001:db8:::1", "IPv6");
	expect_addr_error("fe80::1%eth0", "zone");
	expect_addr_error("1:2:3:4:5:6:7:8:9", "IPv6");
}

static void expect_cidr(const char *in, const char *want, unsigned len128)
{
	struct kz_cidr c;
	const char *why = NULL;
	char buf[KZ_CIDR_STRLEN];
	if (kz_cidr_parse(in, &c, &why) != 0)
		fail_msg("'%s' refused: %s", in, why);
	assert_string_equal(kz_cidr_format(&c, buf), want);
	assert_int_equal(kz_cidr_len128(&c), len128);
}

static void expect_cidr_error(const char *in, const char *reason_part)
{
	struct kz_cidr c;
	const char *why = NULL;
	assert_int_not_equal(kz_cidr_parse(in, &c, &why), 0);
	if (!strstr(why, reason_part))
		fail_msg("'%s': reason '%s' lacks '%s'", in, why, reason_part);
}

static void test_cidr(void **state)
{
	(void)state;
	expect_cidr("10.0.0.0/8", "10.0.0.0/8", 104);
	expect_cidr("198.18.0.0/15", "198.18.0.0/15", 111);
	expect_cidr("0.0.0.0/0", "0.0.0.0/0", 96);
	expect_cidr("192.0.2.7", "192.0.2.7/32", 128);
	expect_cidr("2001:db8::/32", "2001:db8::/32", 32);
	expect_cidr("::/0", "::/0", 0);
	expect_cidr("::ffff:192.0.2.0/120", "192.0.2.0/24", 120);
	expect_cidr_error("10.0.0.0/33", "above 32");
	expect_cidr_error("2001:db8::/129", "above 128");
	expect_cidr_error("1.2.3.4/24", "host bits");
	expect_cidr_error("2001:db8::1/64", "host bits");
	expect_cidr_error("10.0.0.0/08", "leading zero");
	expect_cidr_error("10.0.0.0/", "not a number");
	expect_cidr_error("10.0.0.0/+8", "not a number");
	expect_cidr_error("10.0.0.0/8x", "trailing");
	expect_cidr_error("/8", "empty");
	expect_cidr_error("1.2.3/24", "fewer than four");
	expect_cidr_error("10.0.0.0/99999999999999999999", "above 32");
}

static void test_cidr_ranges(void **state)
{
	(void)state;
	struct kz_cidr c;
	const char *why;
	struct kz_addr a;
	char buf[KZ_ADDR_STRLEN];
	assert_int_equal(kz_cidr_parse("198.51.100.0/24", &c, &why), 0);
	assert_string_equal(kz_addr_format(kz_cidr_first(&c), buf), "198.51.100.0");
	assert_string_equal(kz_addr_format(kz_cidr_last(&c), buf), "198.51.100.255");
	assert_int_equal(kz_addr_parse("198.51.100.77", &a, &why), 0);
	assert_true(kz_cidr_contains(&c, a));
	assert_int_equal(kz_addr_parse("198.51.101.0", &a, &why), 0);
	assert_false(kz_cidr_contains(&c, a));
	struct kz_cidr m = kz_cidr_make(a, 16);
	assert_string_equal(kz_cidr_format(&m, buf), "198.51.0.0/16");
	assert_int_equal(kz_cidr_parse("2001:db8::/126", &c, &why), 0);
	assert_string_equal(kz_addr_format(kz_cidr_last(&c), buf), "2001:db8::3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_valid),   cmocka_unit_test(test_addr_v4_is_mapped),
		cmocka_unit_test(test_addr_invalid), cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_cidr_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
