/*
 * The cyclic-group permutation: every target exactly once for many n; shards
 * 0..k-1 of one seed partition the targets for k = 1..7; one seed gives one
 * order, another seed another; the number theory (primes, primitive roots)
 * against values computed independently (trial division, the order of g by
 * brute force); and n beyond 2^32, where the modulus needs 128-bit products.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cyclic.h"

/* Walks shard i of k and marks each target in seen[]; fails on a target out
 * of range or seen twice. Returns how many it visited. */
static uint64_t walk(const struct kz_cyclic *c, uint64_t i, uint64_t k, uint8_t *seen)
{
	struct kz_cyclic_iter it;
	assert_int_equal(kz_cyclic_shard(c, i, k, &it), 0);
	uint64_t t, count = 0;
	while (kz_cyclic_next(&it, &t)) {
		assert_true(t < c->n);
		assert_int_equal(seen[t], 0);
		seen[t] = 1;
		count++;
	}
	return count;
}

static void check_all_once(uint64_t n, uint64_t seed)
{
	struct kz_cyclic c;
	assert_int_equal(kz_cyclic_init(&c, n, seed), 0);
	assert_true(c.p > n);
	assert_true(kz_cyclic_is_prime(c.p));
	assert_true(c.start >= 1 && c.start < c.p);
	uint8_t *seen = calloc(n, 1);
	assert_non_null(seen);
	assert_int_equal(walk(&c, 0, 1, seen), n);
	for (uint64_t t = 0; t < n; t++)
		assert_int_equal(seen[t], 1);
	assert_int_equal(kz_cyclic_shard_estimate(&c, 0, 1), n);
	free(seen);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

static void test_every_target_once(void **state)
{
	(void)state;
	/* 1 and 2 (the groups mod 2 and mod 3), a prime, a prime plus one,
	 * one below a prime (p - 1 = n: nothing to skip), a /16 times the
	 * default five ports, and random sizes. */
	static const uint64_t sizes[] = { 1,  2,   3,    4,    5,    7,     8,         97,
		                          98, 100, 1008, 1009, 1010, 65536, 65536 * 5, 65537 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (uint64_t seed = 0; seed < 3; seed++)
			check_all_once(sizes[i], seed * 7919 + 1);
	uint64_t s = 42;
	for (int i = 0; i < 20; i++)
		check_all_once(1 + splitmix(&s) % 200000, splitmix(&s));
}

static void test_shards_partition(void **state)
{
	(void)state;
	static const uint64_t sizes[] = { 1, 2, 3, 6, 7, 10, 31, 1000, 65536, 12345 };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		uint64_t n = sizes[s];
		for (uint64_t k = 1; k <= 7; k++) {
			struct kz_cyclic c;
			assert_int_equal(kz_cyclic_init(&c, n, 1234567 + k), 0);
			uint8_t *seen = calloc(n, 1);
			assert_non_null(seen);
			uint64_t total = 0;
			for (uint64_t i = 0; i < k; i++) {
				uint64_t got = walk(&c, i, k, seen);
				total += got;
				/* The estimate is off by at most the skipped
				 * elements, which are fewer than p - n. */
				uint64_t est = kz_cyclic_shard_estimate(&c, i, k);
				uint64_t diff = est > got ? est - got : got - est;
				assert_true(diff <= c.p - n);
			}
			assert_int_equal(total, n);
			for (uint64_t t = 0; t < n; t++)
				assert_int_equal(seen[t], 1);
			free(seen);
		}
	}
	struct kz_cyclic c;
	struct kz_cyclic_iter it;
	assert_int_equal(kz_cyclic_init(&c, 10, 1), 0);
	assert_int_equal(kz_cyclic_shard(&c, 3, 3, &it), -EINVAL);
	assert_int_equal(kz_cyclic_shard(&c, 0, 0, &it), -EINVAL);
}

/* The first m targets of shard 0/1. */
static void first_targets(uint64_t n, uint64_t seed, uint64_t *out, size_t m)
{
	struct kz_cyclic c;
	struct kz_cyclic_iter it;
	assert_int_equal(kz_cyclic_init(&c, n, seed), 0);
	assert_int_equal(kz_cyclic_shard(&c, 0, 1, &it), 0);
	for (size_t i = 0; i < m; i++)
		assert_true(kz_cyclic_next(&it, &out[i]));
}

static void test_seed_reproducible(void **state)
{
	(void)state;
	uint64_t a[64], b[64], d[64];
	first_targets(65536 * 5, 99, a, 64);
	first_targets(65536 * 5, 99, b, 64);
	first_targets(65536 * 5, 100, d, 64);
	assert_memory_equal(a, b, sizeof a);
	assert_memory_not_equal(a, d, sizeof a);
	/* Not the identity, nor a plain stride: some step goes backwards and
	 * the steps are not all equal. */
	int backwards = 0, same_step = 1;
	for (size_t i = 1; i < 64; i++) {
		backwards |= a[i] < a[i - 1];
		if (i > 1 && a[i] - a[i - 1] != a[1] - a[0])
			same_step = 0;
	}
	assert_true(backwards);
	assert_false(same_step);
}

static void test_number_theory(void **state)
{
	(void)state;
	/* Primality against trial division for every n below 20000. */
	for (uint64_t n = 0; n < 20000; n++) {
		int prime = n >= 2;
		for (uint64_t d = 2; d * d <= n && prime; d++)
			prime = n % d != 0;
		assert_int_equal(kz_cyclic_is_prime(n), prime);
	}
	/* Published values: the smallest prime above 2^32 is 2^32 + 15 (the
	 * one ZMap uses for all of IPv4); 2^61 - 1 is a Mersenne prime;
	 * 3215031751 is a strong pseudoprime to bases 2, 3, 5 and 7. */
	assert_int_equal(kz_cyclic_next_prime(UINT64_C(1) << 32), (UINT64_C(1) << 32) + 15);
	assert_true(kz_cyclic_is_prime((UINT64_C(1) << 61) - 1));
	assert_false(kz_cyclic_is_prime(UINT64_C(3215031751)));
	assert_false(kz_cyclic_is_prime(UINT64_C(1) << 62));
	/* The largest 64-bit prime is 2^64 - 59; nothing fits above it. */
	assert_int_equal(kz_cyclic_next_prime(UINT64_MAX - 60), UINT64_MAX - 58);
	assert_int_equal(kz_cyclic_next_prime(UINT64_MAX - 58), 0);

	/* Primitive roots against the multiplicative order by brute force. */
	static const uint64_t primes[] = { 2, 3, 5, 7, 11, 13, 97, 101, 257, 65537, 65539 };
	for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++) {
		uint64_t p = primes[i];
		for (uint64_t g = 1; g < p && g < 300; g++) {
			uint64_t x = g, order = 1;
			while (x != 1) {
				x = x * g % p;
				order++;
			}
			assert_int_equal(kz_cyclic_is_primitive_root(g, p), order == p - 1);
		}
	}
	/* 2^32 + 15: 3 is a primitive root of it, 2 is not (it is a square:
	 * 2^32 + 15 = 7 mod 8). */
	uint64_t p = (UINT64_C(1) << 32) + 15;
	assert_true(kz_cyclic_is_primitive_root(3, p));
	assert_false(kz_cyclic_is_primitive_root(2, p));
}

/* n beyond 2^32 (all of IPv4 on five ports) and near the cap: the walk
 * stays in range and does not repeat over its first million targets. */
static void check_large(uint64_t n, uint64_t shard, uint64_t shards)
{
	struct kz_cyclic c;
	struct kz_cyclic_iter it;
	assert_int_equal(kz_cyclic_init(&c, n, 2024), 0);
	assert_true(kz_cyclic_is_primitive_root(c.g, c.p));
	assert_int_equal(kz_cyclic_shard(&c, shard, shards, &it), 0);
	enum { M = 1 << 20, SLOTS = 1 << 22 };
	uint64_t *table = calloc(SLOTS, sizeof *table);
	assert_non_null(table);
	for (int i = 0; i < M; i++) {
		uint64_t t = UINT64_MAX;
		assert_true(kz_cyclic_next(&it, &t));
		assert_true(t < n);
		uint64_t key = t + 1, h = (key * 0x9e3779b97f4a7c15) >> 42;
		while (table[h] && table[h] != key)
			h = (h + 1) & (SLOTS - 1);
		assert_int_equal(table[h], 0);
		table[h] = key;
	}
	free(table);
}

static void test_large_n(void **state)
{
	(void)state;
	check_large(UINT64_C(5) << 32, 0, 1);
	check_large(UINT64_C(5) << 32, 2, 3);
	check_large(KZ_CYCLIC_MAX_N, 0, 1);
	check_large(KZ_CYCLIC_MAX_N - 12345, 6, 7);
	struct kz_cyclic c;
	assert_int_equal(kz_cyclic_init(&c, 0, 1), -ERANGE);
	assert_int_equal(kz_cyclic_init(&c, KZ_CYCLIC_MAX_N + 1, 1), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_target_once), cmocka_unit_test(test_shards_partition),
		cmocka_unit_test(test_seed_reproducible), cmocka_unit_test(test_number_theory),
		cmocka_unit_test(test_large_n),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
