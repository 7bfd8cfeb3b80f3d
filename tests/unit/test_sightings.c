/*
 * Sightings blobs: append and read back, the bound keeps the newest,
 * unknown ports, long origins cut on a character boundary, malformed blobs.
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

#include "sightings.h"

static void test_append_bound(void **state)
{
	(void)state;
	uint8_t *blob = NULL;
	size_t len = 0;
	char origin[16];
	for (int i = 0; i < 250; i++) {
		snprintf(origin, sizeof origin, "run-%d", i);
		struct kz_sighting s = { 1000 + i, i % 3 ? 23 : -1, origin, strlen(origin) };
		uint8_t *next;
		size_t nlen;
		assert_int_equal(kz_sightings_append(blob, len, &s, 100, &next, &nlen), 0);
		free(blob);
		blob = next;
		len = nlen;
		assert_int_equal(kz_sightings_count(blob, len), i + 1 < 100 ? (size_t)i + 1 : 100);
	}
	struct kz_sightings_iter it;
	struct kz_sighting s;
	kz_sightings_iter_init(&it, blob, len);
	for (int i = 150; i < 250; i++) {
		assert_int_equal(kz_sightings_next(&it, &s), 1);
		assert_int_equal(s.time, 1000 + i);
		assert_int_equal(s.port, i % 3 ? 23 : -1);
		snprintf(origin, sizeof origin, "run-%d", i);
		assert_int_equal(s.origin_len, strlen(origin));
		assert_memory_equal(s.origin, origin, s.origin_len);
	}
	assert_int_equal(kz_sightings_next(&it, &s), 0);
	free(blob);
}

static void test_edges(void **state)
{
	(void)state;
	char longer[400];
	memset(longer, 'a', sizeof longer);
	/* A two-byte character straddling byte 255 is left out whole. */
	longer[254] = (char)0xc3;
	longer[255] = (char)0xa9;
	struct kz_sighting s = { -5, 65535, longer, sizeof longer };
	uint8_t *blob;
	size_t len;
	assert_int_equal(kz_sightings_append(NULL, 0, &s, 1, &blob, &len), 0);
	struct kz_sightings_iter it;
	struct kz_sighting r;
	kz_sightings_iter_init(&it, blob, len);
	assert_int_equal(kz_sightings_next(&it, &r), 1);
	assert_int_equal(r.time, -5);
	assert_int_equal(r.port, 65535);
	assert_int_equal(r.origin_len, 254);
	/* A malformed blob counts as empty and is replaced. */
	blob[0] = 9;
	assert_int_equal(kz_sightings_count(blob, len), 0);
	uint8_t *next;
	size_t nlen;
	assert_int_equal(kz_sightings_append(blob, len, &s, 10, &next, &nlen), 0);
	assert_int_equal(kz_sightings_count(next, nlen), 1);
	free(next);
	uint8_t cut[] = { 1, 0, 0, 0 };
	kz_sightings_iter_init(&it, cut, sizeof cut);
	assert_int_equal(kz_sightings_next(&it, &r), -EINVAL);
	assert_int_equal(kz_sightings_append(NULL, 0, &s, 0, &next, &nlen), -EINVAL);
	assert_int_equal(kz_sightings_append(NULL, 0, &s, KZ_SIGHTINGS_MAX + 1, &next, &nlen),
	                 -EINVAL);
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_bound),
		cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
