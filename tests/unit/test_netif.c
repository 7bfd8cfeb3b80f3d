/*
 * netif: MAC text both ways, and the kernel's own answers for loopback (the
 * one interface every machine and namespace has): its index, its address,
 * and the route to 127.0.0.1 leaving through it. Routes through a gateway
 * and neighbour entries are exercised in tests/integration/survey_scan.sh,
 * inside a namespace the test builds.
 */
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netif.h"

static void test_mac(void **state)
{
	(void)state;
	uint8_t mac[KZ_MAC_LEN];
	char buf[KZ_MAC_STRLEN];
	assert_int_equal(kz_mac_parse("02:00:5E:10:aa:FF", mac), 0);
	assert_string_equal(kz_mac_format(mac, buf), "02:00:5e:10:aa:ff");
	assert_int_equal(kz_mac_parse("02-00-5e-10-aa-ff", mac), 0);
	assert_string_equal(kz_mac_format(mac, buf), "02:00:5e:10:aa:ff");
	static const char *bad[] = { "",
		                     "02:00:5e:10:aa",
		                     "02:00:5e:10:aa:ff:",
		                     "02:00-5e:10:aa:ff",
		                     "0g:00:5e:10:aa:ff",
		                     "02:00:5e:10:aa:f",
		                     "020:0:5e:10:aa:ff" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(kz_mac_parse(bad[i], mac), -EINVAL);
}

static void test_loopback(void **state)
{
	(void)state;
	struct kz_netif lo;
	assert_int_equal(kz_netif_get("lo", &lo), 0);
	assert_int_equal(lo.ifindex, (int)if_nametoindex("lo"));
	assert_false(lo.ethernet);
	if (lo.has_v4)
		assert_int_equal(kz_addr_v4(lo.v4), 0x7f000001);

	struct kz_route r;
	struct kz_addr a = kz_addr_from_v4(0x7f000001);
	assert_int_equal(kz_netif_route(a, &r), 0);
	assert_int_equal(r.ifindex, lo.ifindex);
	assert_false(r.via_gateway);
	assert_int_equal(kz_addr_cmp(r.next_hop, a), 0);

	struct kz_netif none;
	assert_int_equal(kz_netif_get("kz-no-such-if0", &none), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
