/*
 * The tiny distinct counters of a source entry: exact while small (with
 * repeats ignored), then within the stated errors across their range (the
 * 4-bit HyperLogLog up to tens of millions, thanks to its rising base), and
 * the conversion keeps what was counted.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dset.h"

static void test_exact_then_sketch32(void **state)
{
	(void)state;
	struct kz_dset32 s;
	memset(&s, 0, sizeof s);
	uint8_t flags = 0, base = 0;
	for (uint32_t i = 0; i < 8; i++) {
		for (int rep = 0; rep < 3; rep++)
			kz_dset32_add(&s, &flags, 1, &base, kz_dset_hash(1000 + i));
		assert_true(kz_dset32_count(&s, flags & 1, base) == i + 1);
	}
	assert_int_equal(flags, 0);
	kz_dset32_add(&s, &flags, 1, &base, kz_dset_hash(5000));
	assert_int_equal(flags, 1);
	double c = kz_dset32_count(&s, true, base);
	assert_true(c > 8 && c < 11);
	/* The other bits of flags are the caller's: left alone. */
	uint8_t other = 0x80;
	memset(&s, 0, sizeof s);
	for (uint32_t i = 0; i < 20; i++)
		kz_dset32_add(&s, &other, 2, &base, kz_dset_hash(i));
	assert_int_equal(other, 0x82);
}

static void test_sketch32_range(void **state)
{
	(void)state;
	/* 64 registers: standard error 13 %; allow 4 of them, over several
	 * seeds, printing what was seen. */
	static const uint32_t sizes[] = { 20, 100, 1000, 30000, 1000000, 20000000 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		for (uint32_t seed = 0; seed < 3; seed++) {
			struct kz_dset32 s;
			memset(&s, 0, sizeof s);
			uint8_t flags = 0, base = 0;
			for (uint32_t i = 0; i < sizes[k]; i++)
				kz_dset32_add(&s, &flags, 1, &base,
				              kz_dset_hash(i * 2654435761u + seed * 977u));
			double c = kz_dset32_count(&s, flags & 1, base);
			double err = fabs(c - sizes[k]) / sizes[k];
			printf("dset32: %u values (seed %u): %.0f (%.1f %%), base %u\n", sizes[k],
			       seed, c, 100 * err, base);
			assert_true(err < 4 * 0.13);
			if (sizes[k] >= 1000000)
				assert_true(base > 0); /* the range trick was needed */
		}
	}
}

static void test_exact_then_bitmap16(void **state)
{
	(void)state;
	struct kz_dset16 s;
	memset(&s, 0, sizeof s);
	uint8_t flags = 0;
	for (uint32_t i = 0; i < 8; i++) {
		kz_dset16_add(&s, &flags, 4, kz_dset_hash(7 * i + 1));
		kz_dset16_add(&s, &flags, 4, kz_dset_hash(7 * i + 1));
		assert_true(kz_dset16_count(&s, flags & 4) == i + 1);
	}
	kz_dset16_add(&s, &flags, 4, kz_dset_hash(999));
	assert_int_equal(flags, 4);
	double c = kz_dset16_count(&s, true);
	assert_true(c > 7.5 && c < 10.5);
}

static void test_bitmap16_accuracy(void **state)
{
	(void)state;
	/* The scanner thresholds it serves: D from 5 to 100; standard error
	 * about 7 % at 100. */
	for (uint32_t n = 9; n <= 300; n += 13) {
		double sum = 0;
		const int seeds = 20;
		for (int seed = 0; seed < seeds; seed++) {
			struct kz_dset16 s;
			memset(&s, 0, sizeof s);
			uint8_t flags = 0;
			for (uint32_t i = 0; i < n; i++)
				kz_dset16_add(&s, &flags, 1,
				              kz_dset_hash(i * 40503u + (uint32_t)seed * 7919u));
			double c = kz_dset16_count(&s, true);
			if (n <= 120)
				assert_true(fabs(c - n) / n < 0.3);
			sum += c;
		}
		double mean = sum / seeds;
		if (n <= 120)
			assert_true(fabs(mean - n) / n < 0.08);
	}
}

/* The estimate from the registers as the textbook writes it: a double sum
 * of ldexp(1, -register), for comparison with dset.c's integer sum. */
static double reference32(const struct kz_dset32 *s, uint8_t base)
{
	double sum = 0;
	unsigned zeros = 0;
	for (unsigned i = 0; i < 64; i++) {
		unsigned v = ((s->r[i >> 1] >> ((i & 1) * 4)) & 15u) + base;
		zeros += v == 0;
		sum += ldexp(1.0, -(int)v);
	}
	double e = 0.709 * 64 * 64 / sum;
	if (e <= 2.5 * 64 && zeros > 0)
		e = 64 * log(64.0 / zeros);
	return e;
}

static void test_sketch32_same_as_double_sum(void **state)
{
	(void)state;
	/* Sets of 9 to 3 million values, so that the base rises from 0 to
	 * its top; every count must equal the double sum's bit for bit. */
	uint32_t x = 1;
	for (unsigned n = 9; n < 3000000; n = n * 3 / 2) {
		struct kz_dset32 s;
		uint8_t flags = 0, base = 0;
		memset(&s, 0, sizeof s);
		for (unsigned i = 0; i < n; i++)
			kz_dset32_add(&s, &flags, 1, &base, kz_dset_hash(x++));
		assert_true(flags & 1);
		double got = kz_dset32_count(&s, true, base), want = reference32(&s, base);
		assert_memory_equal(&got, &want, sizeof got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_then_sketch32),
		cmocka_unit_test(test_sketch32_range),
		cmocka_unit_test(test_exact_then_bitmap16),
		cmocka_unit_test(test_bitmap16_accuracy),
		cmocka_unit_test(test_sketch32_same_as_double_sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
