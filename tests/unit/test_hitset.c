/*
 * Duplicate suppression: a repeat is caught, distinct hits (other address,
 * other key, IPv6) are not; any of the last `window` distinct hits is still
 * remembered; memory stays bounded, so an old enough hit is forgotten.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hitset.h"

static const uint8_t KEY[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };

static void test_duplicates(void **state)
{
	(void)state;
	struct kz_hitset *h;
	assert_int_equal(kz_hitset_new(1000, KEY, &h), 0);
	struct kz_addr a = kz_addr_from_v4(0xc6120001), b = kz_addr_from_v4(0xc6120002);
	struct kz_addr six = { (kz_u128)0x20010002 << 96 | 1 };
	assert_true(kz_hitset_add(h, a, 23));
	assert_false(kz_hitset_add(h, a, 23));
	assert_true(kz_hitset_add(h, a, 2323));
	assert_true(kz_hitset_add(h, b, 23));
	assert_true(kz_hitset_add(h, six, 23));
	assert_false(kz_hitset_add(h, six, 23));
	assert_false(kz_hitset_add(h, b, 23));
	kz_hitset_free(h);
	assert_int_equal(kz_hitset_new(0, KEY, &h), -EINVAL);
	assert_int_equal(kz_hitset_new(KZ_HITSET_MAX_WINDOW + 1, KEY, &h), -EINVAL);
}

static void test_window(void **state)
{
	(void)state;
	enum { W = 5000 };
	struct kz_hitset *h;
	assert_int_equal(kz_hitset_new(W, KEY, &h), 0);
	/* Every one of 100,000 distinct hits is new; each repeat right after
	 * a window's worth of newer hits is still caught. */
	for (uint32_t i = 0; i < 100000; i++) {
		assert_true(kz_hitset_add(h, kz_addr_from_v4(0x0a000000 + i), 80));
		if (i >= W - 1)
			assert_false(
			        kz_hitset_add(h, kz_addr_from_v4(0x0a000000 + i - (W - 1)), 80));
	}
	/* The first hit is 100,000 hits old: forgotten, memory did not grow
	 * to hold it. */
	assert_true(kz_hitset_add(h, kz_addr_from_v4(0x0a000000), 80));
	kz_hitset_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
