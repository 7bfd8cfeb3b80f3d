/*
 * HyperLogLog: the error stated in hll.h holds across the range (printed
 * and asserted), tiny sets count exactly, the sparse/dense switch shows no
 * jump, merging equals the sketch of the union, the wire format is what
 * docs/hll.md says, round trips are exact, and bad input is refused with a
 * reason.
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
#include <math.h>

#include "encode.h"
#include "hll.h"
#include "siphash.h"

/* Standard error once dense at p = 14: 1.04 / sqrt(2^14). */
#define P         14
#define STD_ERROR (1.04 / 128.0)

static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

/* Distinct addresses per seed: a random base plus a counter. Even seeds
 * draw IPv6 addresses, odd seeds IPv4 ones (for n up to 2^32). */
struct addr_gen {
	kz_u128 base;
	int v4;
};

static struct addr_gen gen_init(uint64_t seed)
{
	uint64_t s = seed;
	struct addr_gen g;
	g.base = (kz_u128)next_random(&s) << 64 | next_random(&s);
	g.base |= (kz_u128)1 << 127; /* never IPv4-mapped by accident */
	g.v4 = (int)(seed & 1);
	return g;
}

static struct kz_addr gen_addr(const struct addr_gen *g, uint64_t i)
{
	if (g->v4)
		return kz_addr_from_v4((uint32_t)g->base + (uint32_t)i);
	struct kz_addr a = { g->base + i };
	return a;
}

static struct kz_hll *new_sketch(void)
{
	struct kz_hll *h;
	assert_int_equal(kz_hll_new(P, &h), 0);
	return h;
}

static void add_range(struct kz_hll *h, const struct addr_gen *g, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		assert_int_equal(kz_hll_add_addr(h, gen_addr(g, i)), 0);
}

static char *b64(const struct kz_hll *h)
{
	char *t;
	size_t len;
	assert_int_equal(kz_hll_to_base64(h, &t, &len), 0);
	assert_int_equal(strlen(t), len);
	return t;
}

static void test_new_and_empty(void **state)
{
	(void)state;
	struct kz_hll *h;
	assert_int_equal(kz_hll_new(KZ_HLL_P_MIN - 1, &h), -EINVAL);
	assert_int_equal(kz_hll_new(KZ_HLL_P_MAX + 1, &h), -EINVAL);
	h = new_sketch();
	assert_int_equal(kz_hll_count(h), 0);
	assert_true(kz_hll_is_sparse(h));
	assert_int_equal(kz_hll_precision(h), P);
	assert_int_equal(kz_hll_serialized_size(h), 3);
	kz_hll_free(h);
	kz_hll_free(NULL);
}

/* n <= 5 is exact: the sparse form tells sources apart by a 25-bit hash
 * prefix, so two of five collide with probability 10 / 2^25. Checked over
 * 20,000 random sets; sets up to 1,000 are printed, not asserted. */
static void test_tiny_exact(void **state)
{
	(void)state;
	struct kz_hll *h = new_sketch();
	for (uint64_t seed = 0; seed < 20000; seed++) {
		struct addr_gen g = gen_init(seed);
		uint64_t s = seed;
		uint64_t n = 1 + next_random(&s) % 5;
		kz_hll_clear(h);
		for (uint64_t i = 0; i < n; i++) {
			/* Random, not consecutive, addresses; each added twice. */
			struct kz_addr a = gen_addr(&g, next_random(&s) % 1000 * 1000 + i);
			assert_int_equal(kz_hll_add_addr(h, a), 0);
			assert_int_equal(kz_hll_add_addr(h, a), 0);
		}
		if (kz_hll_count(h) != n)
			fail_msg("seed %llu: %llu distinct, counted %llu", (unsigned long long)seed,
			         (unsigned long long)n, (unsigned long long)kz_hll_count(h));
	}
	for (uint64_t n = 10; n <= 1000; n *= 10) {
		unsigned exact = 0;
		for (uint64_t seed = 0; seed < 100; seed++) {
			struct addr_gen g = gen_init(seed);
			kz_hll_clear(h);
			add_range(h, &g, 0, n);
			exact += kz_hll_count(h) == n;
		}
		printf("hll: n=%llu counted exactly in %u of 100 sets\n", (unsigned long long)n,
		       exact);
	}
	kz_hll_free(h);
}

/* The stated error: for every n the relative error stays within three
 * standard errors (1.04/sqrt(m)); the observed errors are printed. */
static void test_error_within_three_sigma(void **state)
{
	(void)state;
	static const uint64_t sizes[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	const int seeds = 5;
	struct kz_hll *h = new_sketch();
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		uint64_t n = sizes[k];
		double worst = 0.0, sum_sq = 0.0;
		printf("hll: n=%-8llu relative errors:", (unsigned long long)n);
		for (int seed = 0; seed < seeds; seed++) {
			struct addr_gen g = gen_init(1000 + (uint64_t)seed);
			kz_hll_clear(h);
			add_range(h, &g, 0, n);
			double err = (kz_hll_estimate(h) - (double)n) / (double)n;
			printf(" %+.4f%%", 100.0 * err);
			sum_sq += err * err;
			if (fabs(err) > worst)
				worst = fabs(err);
			if (fabs(err) > 3 * STD_ERROR)
				fail_msg("n=%llu seed %d: relative error %.4f above 3 x %.4f",
				         (unsigned long long)n, seed, err, STD_ERROR);
		}
		printf("  (rms %.4f%%, %s)\n", 100.0 * sqrt(sum_sq / seeds),
		       kz_hll_is_sparse(h) ? "sparse" : "dense");
	}
	kz_hll_free(h);
}

/* Around the sparse-to-dense switch (about 4,000 sources at p = 14) the
 * estimate stays within three standard errors at every step, and the mean
 * error just after the switch is no larger than one standard error. */
static void test_switch_without_jump(void **state)
{
	(void)state;
	struct kz_hll *h = new_sketch();
	double after_sum = 0.0;
	int after_count = 0;
	for (uint64_t seed = 0; seed < 8; seed++) {
		struct addr_gen g = gen_init(500 + seed);
		kz_hll_clear(h);
		uint64_t switched = 0;
		for (uint64_t n = 1; n <= 8000; n++) {
			assert_int_equal(kz_hll_add_addr(h, gen_addr(&g, n)), 0);
			if (!switched && !kz_hll_is_sparse(h))
				switched = n;
			if (n % 25 != 0)
				continue;
			double err = (kz_hll_estimate(h) - (double)n) / (double)n;
			if (fabs(err) > 3 * STD_ERROR)
				fail_msg("seed %llu n=%llu: relative error %.4f",
				         (unsigned long long)seed, (unsigned long long)n, err);
			if (switched && n < switched + 1000) {
				after_sum += err;
				after_count++;
			}
		}
		assert_true(switched > 2000 && switched < 8000);
		if (seed == 0)
			printf("hll: p=14 turned dense at %llu sources\n",
			       (unsigned long long)switched);
	}
	double bias = after_sum / after_count;
	printf("hll: mean relative error in the 1,000 sources after the switch: %+.4f%%\n",
	       100.0 * bias);
	assert_true(fabs(bias) < STD_ERROR);
	kz_hll_free(h);
}

static struct kz_hll *sketch_of(const struct addr_gen *g, uint64_t from, uint64_t to)
{
	struct kz_hll *h = new_sketch();
	add_range(h, g, from, to);
	return h;
}

/* merge(A, B) is byte for byte the sketch of A u B, whatever the forms. */
static void test_merge_equals_union(void **state)
{
	(void)state;
	static const struct {
		uint64_t a_from, a_to, b_from, b_to;
	} cases[] = {
		{ 0, 0, 0, 0 },             /* empty, empty */
		{ 0, 10, 5, 20 },           /* sparse, sparse: stays sparse */
		{ 0, 3000, 1000, 5000 },    /* sparse, sparse: the union is dense */
		{ 0, 3900, 3900, 3950 },    /* at the edge of the switch */
		{ 0, 100, 0, 50000 },       /* sparse into dense */
		{ 0, 50000, 10, 200 },      /* dense with sparse */
		{ 0, 50000, 25000, 90000 }, /* dense, dense */
		{ 7, 8, 7, 8 },             /* the same single source */
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct addr_gen g = gen_init(77 + k);
		struct kz_hll *a = sketch_of(&g, cases[k].a_from, cases[k].a_to);
		struct kz_hll *b = sketch_of(&g, cases[k].b_from, cases[k].b_to);
		struct kz_hll *ab = sketch_of(&g, cases[k].a_from, cases[k].a_to);
		struct kz_hll *ba = sketch_of(&g, cases[k].b_from, cases[k].b_to);
		assert_int_equal(kz_hll_merge(ab, b), 0);
		assert_int_equal(kz_hll_merge(ba, a), 0);
		/* The union added directly, in another order (B first, backwards). */
		struct kz_hll *u = new_sketch();
		for (uint64_t i = cases[k].b_to; i-- > cases[k].b_from;)
			assert_int_equal(kz_hll_add_addr(u, gen_addr(&g, i)), 0);
		for (uint64_t i = cases[k].a_from; i < cases[k].a_to; i++)
			assert_int_equal(kz_hll_add_addr(u, gen_addr(&g, i)), 0);
		char *su = b64(u), *sab = b64(ab), *sba = b64(ba);
		if (strcmp(su, sab) != 0 || strcmp(su, sba) != 0)
			fail_msg("case %zu: merge differs from the union (%s / %s)", k,
			         kz_hll_is_sparse(ab) ? "sparse" : "dense",
			         kz_hll_is_sparse(u) ? "sparse" : "dense");
		assert_int_equal(kz_hll_count(ab), kz_hll_count(u));
		/* Merging a sketch into itself changes nothing. */
		assert_int_equal(kz_hll_merge(ab, ab), 0);
		char *again = b64(ab);
		assert_string_equal(again, sab);
		free(su);
		free(sab);
		free(sba);
		free(again);
		kz_hll_free(a);
		kz_hll_free(b);
		kz_hll_free(ab);
		kz_hll_free(ba);
		kz_hll_free(u);
	}
	struct kz_hll *x, *y;
	assert_int_equal(kz_hll_new(12, &x), 0);
	assert_int_equal(kz_hll_new(14, &y), 0);
	assert_int_equal(kz_hll_merge(x, y), -EINVAL);
	kz_hll_free(x);
	kz_hll_free(y);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Hashes added in ascending order (the telescope adds a port's sources from
 * a sorted queue, which takes the sparse form's append path) give the same
 * sketch, byte for byte, as the same hashes in a random order: repeats of
 * one index with a higher rank, and the switch to dense, included. */
static void test_sorted_adds_equal_random_order(void **state)
{
	(void)state;
	static const size_t sizes[] = { 1, 2, 50, 1000, 3000, 6000 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t n = sizes[k];
		uint64_t *hs = calloc(n, sizeof *hs), s = 4242 + k;
		assert_non_null(hs);
		for (size_t i = 0; i < n; i++) {
			hs[i] = next_random(&s);
			/* Every fourth hash shares its sparse index (the top 25
			 * bits) with the one before, with other low bits. */
			if (i && i % 4 == 0)
				hs[i] = (hs[i - 1] & ~((UINT64_C(1) << 39) - 1)) | (hs[i] >> 25);
		}
		struct kz_hll *shuffled = new_sketch(), *sorted = new_sketch();
		for (size_t i = 0; i < n; i++)
			assert_int_equal(kz_hll_add_hash(shuffled, hs[i]), 0);
		qsort(hs, n, sizeof *hs, u64_cmp);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(kz_hll_add_hash(sorted, hs[i]), 0);
		assert_int_equal(kz_hll_is_sparse(sorted), kz_hll_is_sparse(shuffled));
		char *a = b64(shuffled), *b = b64(sorted);
		if (strcmp(a, b) != 0)
			fail_msg("%zu hashes: the sorted adds give another sketch", n);
		free(a);
		free(b);
		kz_hll_free(shuffled);
		kz_hll_free(sorted);
		free(hs);
	}
}

static void test_roundtrip(void **state)
{
	(void)state;
	static const uint64_t sizes[] = { 0, 1, 5, 100, 3000, 5000, 100000 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		struct addr_gen g = gen_init(9 + k);
		struct kz_hll *h = sketch_of(&g, 0, sizes[k]), *back;
		char *text = b64(h);
		const char *why = NULL;
		assert_int_equal(kz_hll_from_base64(text, strlen(text), &back, &why), 0);
		char *again = b64(back);
		assert_string_equal(text, again);
		assert_int_equal(kz_hll_count(back), kz_hll_count(h));
		assert_int_equal(kz_hll_is_sparse(back), kz_hll_is_sparse(h));
		/* The size the sketch reports is the size it writes, and the
		 * sparse form is written only while it is the smaller one. */
		assert_int_equal(strlen(text),
		                 kz_base64_encoded_size(kz_hll_serialized_size(h)) - 1);
		assert_true(kz_hll_serialized_size(h) <= 3 + 3 * (1u << P) / 4);
		printf("hll: n=%-6llu %s, %zu bytes serialised, %zu bytes in memory\n",
		       (unsigned long long)sizes[k], kz_hll_is_sparse(h) ? "sparse" : "dense",
		       kz_hll_serialized_size(h), kz_hll_memory(h));
		free(text);
		free(again);
		kz_hll_free(h);
		kz_hll_free(back);
	}
}

/* The sketch's bytes, rebuilt here from docs/hll.md alone. */
static uint64_t doc_hash(struct kz_addr a)
{
	static const char key[] = "kizuki HLL key 1";
	uint8_t bytes[16];
	kz_addr_to_bytes(a, bytes);
	return kz_siphash24((const uint8_t *)key, bytes, sizeof bytes);
}

static size_t put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	do {
		out[n] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		n++;
		v >>= 7;
	} while (v);
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void expect_bytes(const struct kz_hll *h, const uint8_t *want, size_t len)
{
	char *text = b64(h);
	uint8_t *got = malloc(strlen(text));
	assert_non_null(got);
	long n = kz_base64_decode(text, strlen(text), got);
	assert_int_equal(n, len);
	assert_memory_equal(got, want, len);
	free(got);
	free(text);
}

static void test_wire_format_as_documented(void **state)
{
	(void)state;
	struct addr_gen g = gen_init(3);
	/* Sparse: version 1, p, form 0, then per entry (ascending 25-bit
	 * index) a LEB128 varint of gap << 6 | rank. */
	const size_t n = 50;
	uint64_t entries[50];
	struct kz_hll *h = new_sketch();
	for (size_t i = 0; i < n; i++) {
		struct kz_addr a = gen_addr(&g, i);
		assert_true(kz_hll_hash_addr(a) == doc_hash(a));
		assert_int_equal(kz_hll_add_addr(h, a), 0);
		uint64_t hash = doc_hash(a), rest = hash << 25;
		uint64_t rank = rest ? (uint64_t)__builtin_clzll(rest) + 1 : 40;
		entries[i] = (hash >> 39) << 6 | rank;
	}
	qsort(entries, n, sizeof entries[0], cmp_u64);
	uint8_t want[3 + 50 * 5] = { 1, P, 0 };
	size_t len = 3;
	uint64_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		len += put_varint(want + len, ((entries[i] >> 6) - prev) << 6 | (entries[i] & 63));
		prev = entries[i] >> 6;
	}
	expect_bytes(h, want, len);
	kz_hll_free(h);

	/* Dense: version 1, p, form 1, then the 2^p registers (register i = the
	 * hash's top p bits; value = 1 + leading zeros of the other 64 - p bits,
	 * 65 - p when all are zero) as 6-bit fields, first register in the top
	 * bits of the first byte. */
	static uint8_t regs[1u << P];
	memset(regs, 0, sizeof regs);
	h = new_sketch();
	for (uint64_t i = 0; i < 20000; i++) {
		struct kz_addr a = gen_addr(&g, i);
		assert_int_equal(kz_hll_add_addr(h, a), 0);
		uint64_t hash = doc_hash(a), rest = hash << P;
		unsigned rank = rest ? (unsigned)__builtin_clzll(rest) + 1 : 65 - P;
		if (rank > regs[hash >> (64 - P)])
			regs[hash >> (64 - P)] = (uint8_t)rank;
	}
	assert_false(kz_hll_is_sparse(h));
	static uint8_t dense[3 + 3 * (1u << P) / 4];
	dense[0] = 1;
	dense[1] = P;
	dense[2] = 1;
	for (size_t bit = 0; bit < 6u << P; bit++) {
		unsigned v = regs[bit / 6] >> (5 - bit % 6) & 1;
		dense[3 + bit / 8] = (uint8_t)(dense[3 + bit / 8] | v << (7 - bit % 8));
	}
	expect_bytes(h, dense, sizeof dense);
	kz_hll_free(h);
}

static void expect_reject(const uint8_t *bytes, size_t len, const char *reason)
{
	char *text = malloc(kz_base64_encoded_size(len));
	assert_non_null(text);
	size_t tlen = kz_base64_encode(bytes, len, text);
	struct kz_hll *h = NULL;
	const char *why = NULL;
	assert_int_equal(kz_hll_from_base64(text, tlen, &h, &why), -EINVAL);
	assert_null(h);
	assert_non_null(why);
	if (!strstr(why, reason))
		fail_msg("'%s': reason '%s' lacks '%s'", text, why, reason);
	free(text);
}

static void test_reject_bad_input(void **state)
{
	(void)state;
	struct kz_hll *h = NULL;
	const char *why = NULL;
	assert_int_equal(kz_hll_from_base64("AQ4A!", 5, &h, &why), -EINVAL);
	assert_non_null(strstr(why, "multiple of 4"));
	assert_int_equal(kz_hll_from_base64("AQ4*", 4, &h, &why), -EINVAL);
	assert_non_null(strstr(why, "not base64"));
	/* Non-canonical: bits under the padding are set. */
	assert_int_equal(kz_hll_from_base64("AQ5=", 4, &h, &why), -EINVAL);
	assert_non_null(strstr(why, "not base64"));
	assert_int_equal(kz_hll_from_base64("", 0, &h, &why), -EINVAL);
	assert_non_null(strstr(why, "header"));
	size_t huge = KZ_HLL_BASE64_MAX + 4;
	char *big = malloc(huge);
	assert_non_null(big);
	memset(big, 'A', huge);
	assert_int_equal(kz_hll_from_base64(big, huge, &h, &why), -EINVAL);
	assert_non_null(strstr(why, "longer"));
	free(big);
	assert_null(h);

	/* The empty sketch parses; everything below breaks one rule. */
	assert_int_equal(kz_hll_from_base64("AQ4A", 4, &h, &why), 0);
	kz_hll_free(h);

	expect_reject((const uint8_t[]){ 1, 14 }, 2, "header");
	expect_reject((const uint8_t[]){ 2, 14, 0 }, 3, "version");
	expect_reject((const uint8_t[]){ 0, 14, 0 }, 3, "version");
	expect_reject((const uint8_t[]){ 1, 3, 0 }, 3, "precision");
	expect_reject((const uint8_t[]){ 1, 19, 0 }, 3, "precision");
	expect_reject((const uint8_t[]){ 1, 14, 2 }, 3, "form");
	/* Sparse entries. */
	expect_reject((const uint8_t[]){ 1, 14, 0, 0x81 }, 4, "cut short");
	expect_reject((const uint8_t[]){ 1, 14, 0, 0x80, 0x00 }, 5, "minimally");
	expect_reject((const uint8_t[]){ 1, 14, 0, 0x81, 0x80, 0x80, 0x80, 0x80, 0x01 }, 9,
	              "longer than 5");
	expect_reject((const uint8_t[]){ 1, 14, 0, 0x40 }, 4, "rank");           /* rank 0 */
	expect_reject((const uint8_t[]){ 1, 14, 0, 0x29 }, 4, "rank");           /* rank 41 */
	expect_reject((const uint8_t[]){ 1, 14, 0, 0x41, 0x01 }, 5, "strictly"); /* gap 0 */
	/* Index 2^25: gap 2^25 << 6 | 1 = 2^31 + 1. */
	expect_reject((const uint8_t[]){ 1, 14, 0, 0x81, 0x80, 0x80, 0x80, 0x08 }, 8, "index");
	/* Dense: wrong length, register out of range (0x3f = 63 > 51). */
	expect_reject((const uint8_t[]){ 1, 14, 1, 0, 0, 0 }, 6, "wrong length");
	static uint8_t dense[3 + 3 * (1u << 14) / 4];
	memset(dense, 0, sizeof dense);
	dense[0] = 1;
	dense[1] = 14;
	dense[2] = 1;
	dense[sizeof dense - 1] = 0x33; /* 51, the largest rank at p = 14 */
	assert_int_equal(kz_hll_from_bytes(dense, sizeof dense, &h, &why), 0);
	kz_hll_free(h);
	dense[sizeof dense - 1] = 0x34;
	expect_reject(dense, sizeof dense, "register");
}

/* A sparse encoding beyond kizuki's limits (a foreign encoder that never
 * went dense) is accepted and becomes the sketch kizuki would have built. */
static void test_oversized_sparse_becomes_dense(void **state)
{
	(void)state;
	/* Consecutive indices 0..4999, rank 1: gap 1 each, one byte each. */
	static uint8_t raw[3 + 5000];
	raw[0] = 1;
	raw[1] = 14;
	raw[2] = 0;
	raw[3] = 1;
	memset(raw + 4, 1 << 6 | 1, 4999);
	struct kz_hll *h;
	const char *why;
	assert_int_equal(kz_hll_from_bytes(raw, sizeof raw, &h, &why), 0);
	assert_false(kz_hll_is_sparse(h));
	kz_hll_free(h);
}

/* A forged dense sketch with every register saturated must not overflow. */
static void test_saturated(void **state)
{
	(void)state;
	static uint8_t raw[3 + 3 * 16 / 4];
	raw[0] = 1;
	raw[1] = 4;
	raw[2] = 1;
	/* 61 = 65 - 4 in every 6-bit field: 111101 repeated. */
	for (size_t i = 3; i < sizeof raw; i += 3) {
		raw[i] = 0xf7;
		raw[i + 1] = 0xdf;
		raw[i + 2] = 0x7d;
	}
	struct kz_hll *h;
	const char *why;
	assert_int_equal(kz_hll_from_bytes(raw, sizeof raw, &h, &why), 0);
	assert_true(kz_hll_count(h) == UINT64_MAX);
	kz_hll_free(h);
}

static void test_clear_and_memory(void **state)
{
	(void)state;
	struct addr_gen g = gen_init(11);
	struct kz_hll *h = sketch_of(&g, 0, 50000);
	assert_false(kz_hll_is_sparse(h));
	kz_hll_clear(h);
	assert_true(kz_hll_is_sparse(h));
	assert_int_equal(kz_hll_count(h), 0);
	add_range(h, &g, 0, 5);
	struct kz_hll *fresh = sketch_of(&g, 0, 5);
	char *a = b64(h), *b = b64(fresh);
	assert_string_equal(a, b);
	/* A handful of sources costs tens of bytes, not the 16 KiB dense form. */
	assert_true(kz_hll_memory(fresh) <= 96);
	assert_true(kz_hll_serialized_size(fresh) <= 3 + 5 * 5);
	free(a);
	free(b);
	kz_hll_free(h);
	kz_hll_free(fresh);
}

/* A clone serialises to the same bytes as its original, sparse or dense,
 * and is independent of it. */
static void test_clone(void **state)
{
	(void)state;
	uint64_t x = 12345;
	for (unsigned n = 0; n < 40000; n = n ? n * 4 : 1) {
		struct kz_hll *h, *c;
		assert_int_equal(kz_hll_new(KZ_HLL_P_DEFAULT, &h), 0);
		for (unsigned i = 0; i < n; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			assert_int_equal(kz_hll_add_hash(h, x), 0);
		}
		assert_int_equal(kz_hll_clone(h, &c), 0);
		size_t len = kz_hll_serialized_size(h);
		assert_int_equal(kz_hll_serialized_size(c), len);
		uint8_t *a = malloc(len), *b = malloc(len);
		assert_non_null(a);
		assert_non_null(b);
		kz_hll_serialize(h, a);
		kz_hll_serialize(c, b);
		assert_memory_equal(a, b, len);
		uint64_t before = kz_hll_count(h);
		for (unsigned i = 0; i < 1000; i++)
			assert_int_equal(kz_hll_add_hash(c, (uint64_t)i * 0x9e3779b97f4a7c15ull),
			                 0);
		assert_int_equal(kz_hll_count(h), before);
		free(a);
		free(b);
		kz_hll_free(h);
		kz_hll_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_empty),
		cmocka_unit_test(test_tiny_exact),
		cmocka_unit_test(test_error_within_three_sigma),
		cmocka_unit_test(test_switch_without_jump),
		cmocka_unit_test(test_merge_equals_union),
		cmocka_unit_test(test_sorted_adds_equal_random_order),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_wire_format_as_documented),
		cmocka_unit_test(test_reject_bad_input),
		cmocka_unit_test(test_oversized_sparse_becomes_dense),
		cmocka_unit_test(test_saturated),
		cmocka_unit_test(test_clear_and_memory),
		cmocka_unit_test(test_clone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
