/*
 * The built-in deny set and the test ranges: every table entry parses and is
 * denied, IPv4 as a whole is not (the IPv4-mapped trap), the test ranges stay
 * clear of what may never be re-enabled, and a reserved address is named by
 * its most specific registry entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reserved.h"

static struct kz_addr P(const char *text) {
	struct kz_addr a;
	const char *why;
	if (kz_addr_parse(text, &a, &why) != 0)
		fail_msg("bad test address %s: %s", text, why);
	return a;
}

static struct kz_cidr
C(const char *text) {
	struct kz_cidr c;
	const char *why;
	if (kz_cidr_parse(text, &c, &why) != 0)
		fail_msg("bad prefix %s: %s", text, why);
	return c;
}

static kz_u128
cidr_size(const struct kz_cidr *c)
{
	unsigned host = 128 - kz_cidr_len128(c);
	return host == 128 ? KZ_U128_MAX : (kz_u128)1 << host;
}

static void test_tables_parse_and_are_denied(void **state)
{
	(void)state;
	struct kz_ipset *deny;
	assert_int_equal(kz_reserved_deny_set(&deny), 0);
	size_t n;
	const struct kz_reserved *t = kz_reserved_deny_table(&n);
	assert_true(n > 50);
	for (size_t i = 0; i < n; i++) {
		struct kz_cidr c = C(t[i].prefix);
		assert_non_null(t[i].name);
		assert_int_equal(strncmp(t[i].rfc, "RFC ", 4), 0);
		assert_true(kz_ipset_count_in(deny, kz_cidr_first(&c), kz_cidr_last(&c)) ==
		            cidr_size(&c));
	}
	t = kz_reserved_test_table(&n);
	assert_int_equal(n, 8);
	for (size_t i = 0; i < n; i++) {
		struct kz_cidr c = C(t[i].prefix);
		assert_true(kz_ipset_count_in(deny, kz_cidr_first(&c), kz_cidr_last(&c)) ==
		            cidr_size(&c));
	}
	kz_ipset_free(deny);
}

static void test_ipv4_is_not_denied_wholesale(void **state)
{
	(void)state;
	struct kz_ipset *deny;
	assert_int_equal(kz_reserved_deny_set(&deny), 0);
	/* Ordinary unicast, IPv4 and IPv6, including the addresses right next
	 * to reserved blocks. */
	const char *open[] = {
		"1.1.1.1",
		"8.8.8.8",
		"9.255.255.255",
		"11.0.0.0",
		"100.63.255.255",
		"100.128.0.0",
		"126.255.255.255",
		"128.0.0.0",
		"172.15.255.255",
		"172.32.0.0",
		"192.0.1.255",
		"192.0.3.0",
		"198.17.255.255",
		"198.20.0.0",
		"223.255.255.255",
		"2001:200::",
		"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
		"2003::1",
		"2a00:1450:4001::1",
		"2606:4700::1111",
		"::ffff:1.1.1.1",
	};
	for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
		if (kz_ipset_contains(deny, P(open[i])))
			fail_msg("%s is denied", open[i]);
		assert_null(kz_reserved_lookup(P(open[i])));
	}
	/* Most of IPv4 stays open: the registry reserves well under a fifth. */
	kz_u128 v4 = kz_ipset_count_in(deny, P("0.0.0.0"), P("255.255.255.255"));
	assert_true(v4 > ((kz_u128)1 << 28));
	assert_true(v4 < ((kz_u128)1 << 32) / 5);
	kz_ipset_free(deny);
}

static void test_never_reenabled(void **state)
{
	(void)state;
	struct kz_ipset *test, *never, *both;
	assert_int_equal(kz_reserved_test_set(&test), 0);
	assert_int_equal(kz_ipset_new(&never), 0);
	const char *nv[] = { "0.0.0.0/8",  "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		             "10.0.0.0/8", "ff00::/8",    "fe80::/10",   "::/128" };
	for (size_t i = 0; i < sizeof nv / sizeof nv[0]; i++) {
		struct kz_cidr c = C(nv[i]);
		assert_int_equal(kz_ipset_add_cidr(never, &c, NULL), 0);
	}
	assert_int_equal(kz_ipset_intersection(test, never, &both), 0);
	assert_true(kz_ipset_empty(both));
	/* And the test set is exactly what CONTRACT.md lists. */
	assert_true(kz_ipset_contains(test, P("127.255.255.255")));
	assert_true(kz_ipset_contains(test, P("::1")));
	assert_false(kz_ipset_contains(test, P("::2")));
	assert_true(kz_ipset_contains(test, P("198.19.255.255")));
	assert_true(kz_ipset_contains(test, P("2001:2:0:ffff::1")));
	assert_false(kz_ipset_contains(test, P("2001:2:1::")));
	assert_true(kz_ipset_contains(test, P("2001:db8:ffff::")));
	assert_true(kz_ipset_size(test) == (1u << 24) + (1u << 17) + 3 * 256 + 1 +
	                                           ((kz_u128)1 << 80) + ((kz_u128)1 << 96));
	kz_ipset_free(both);
	kz_ipset_free(never);
	kz_ipset_free(test);
}

static void expect_lookup(const char *addr, const char *name, const char *rfc)
{
	const struct kz_reserved *r = kz_reserved_lookup(P(addr));
	if (!r)
		fail_msg("%s: not reserved", addr);
	if (strcmp(r->name, name) != 0 || strcmp(r->rfc, rfc) != 0)
		fail_msg("%s: %s (%s), want %s (%s)", addr, r->name, r->rfc, name, rfc);
}

static void test_lookup_most_specific(void **state)
{
	(void)state;
	expect_lookup("198.18.0.5", "Benchmarking", "RFC 2544");
	expect_lookup("10.1.2.3", "Private-Use", "RFC 1918");
	expect_lookup("0.0.0.0", "\"This host on this network\"", "RFC 1122");
	expect_lookup("0.1.2.3", "\"This network\"", "RFC 791");
	expect_lookup("192.0.0.9", "Port Control Protocol Anycast", "RFC 7723");
	expect_lookup("192.0.0.200", "IETF Protocol Assignments", "RFC 6890");
	expect_lookup("192.88.99.2", "6a44-relay anycast address", "RFC 6751");
	expect_lookup("224.0.0.1", "Multicast", "RFC 5771");
	expect_lookup("255.255.255.255", "Limited Broadcast", "RFC 919");
	expect_lookup("255.255.255.254", "Reserved", "RFC 1112");
	expect_lookup("::1", "Loopback Address", "RFC 4291");
	expect_lookup("::", "Unspecified Address", "RFC 4291");
	expect_lookup("::c000:201", "IPv4-compatible Address (deprecated)", "RFC 4291");
	expect_lookup("2001:2::1", "Benchmarking", "RFC 5180");
	expect_lookup("2001:1::3", "DNS-SD Service Registration Protocol Anycast", "RFC 9665");
	expect_lookup("2001:1::4", "IETF Protocol Assignments", "RFC 2928");
	expect_lookup("2001::1", "TEREDO", "RFC 4380");
	expect_lookup("2001:db8::1", "Documentation", "RFC 3849");
	expect_lookup("3fff::1", "Documentation", "RFC 9637");
	expect_lookup("64:ff9b::808:808", "IPv4-IPv6 Translat.", "RFC 6052");
	expect_lookup("2002:c000:201::1", "6to4", "RFC 3056");
	expect_lookup("fd00::1", "Unique-Local", "RFC 4193");
	expect_lookup("fe80::1", "Link-Local Unicast", "RFC 4291");
	expect_lookup("ff02::1", "Multicast", "RFC 4291");
	expect_lookup("100:0:0:1::9", "Dummy IPv6 Prefix", "RFC 9780");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_parse_and_are_denied),
		cmocka_unit_test(test_ipv4_is_not_denied_wholesale),
		cmocka_unit_test(test_never_reenabled),
		cmocka_unit_test(test_lookup_most_specific),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
