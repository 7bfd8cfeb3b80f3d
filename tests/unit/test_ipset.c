/*
 * Address sets: merging, the edges of the 128-bit space, saturation, nth,
 * the digest, the cap, and every operation checked against a brute-force
 * bitmap model on small random sets placed at several points of the space.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"
#include "ipset.h"

static struct kz_addr A(kz_u128 v) {
	struct kz_addr a = { v };
	return a;
}

static struct kz_addr
P(const char *text) {
	struct kz_addr a;
	const char *why;
	if (kz_addr_parse(text, &a, &why) != 0)
		fail_msg("bad test address %s: %s", text, why);
	return a;
}

static struct kz_ipset *
new_set(void)
{
	struct kz_ipset *s;
	assert_int_equal(kz_ipset_new(&s), 0);
	return s;
}

static void add(struct kz_ipset *s, kz_u128 f, kz_u128 l, bool want_overlap)
{
	bool overlapped = !want_overlap;
	assert_int_equal(kz_ipset_add_range(s, A(f), A(l), &overlapped), 0);
	assert_int_equal(overlapped, want_overlap);
}

static void add_cidr(struct kz_ipset *s, const char *text)
{
	struct kz_cidr c;
	const char *why;
	if (kz_cidr_parse(text, &c, &why) != 0)
		fail_msg("bad test prefix %s: %s", text, why);
	assert_int_equal(kz_ipset_add_cidr(s, &c, NULL), 0);
}

static void expect_range(const struct kz_ipset *s, size_t i, kz_u128 f, kz_u128 l)
{
	struct kz_addr_range r = kz_ipset_range(s, i);
	assert_true(r.first.v == f);
	assert_true(r.last.v == l);
}

/* The canonical-form invariants every set must keep. */
static void check_canonical(const struct kz_ipset *s)
{
	size_t n = kz_ipset_range_count(s);
	for (size_t i = 0; i < n; i++) {
		struct kz_addr_range r = kz_ipset_range(s, i);
		assert_true(r.first.v <= r.last.v);
		if (i + 1 < n) {
			struct kz_addr_range next = kz_ipset_range(s, i + 1);
			assert_true(r.last.v != KZ_U128_MAX);
			assert_true(r.last.v + 1 < next.first.v);
		}
	}
}

static void test_add_merges(void **state)
{
	(void)state;
	struct kz_ipset *s = new_set();
	assert_true(kz_ipset_empty(s));
	add(s, 100, 199, false);
	add(s, 300, 399, false);
	assert_int_equal(kz_ipset_range_count(s), 2);
	/* Touching on either side merges without counting as an overlap. */
	add(s, 200, 209, false);
	add(s, 290, 299, false);
	assert_int_equal(kz_ipset_range_count(s), 2);
	expect_range(s, 0, 100, 209);
	expect_range(s, 1, 290, 399);
	/* Bridging the gap merges both and is an overlap. */
	add(s, 205, 295, true);
	assert_int_equal(kz_ipset_range_count(s), 1);
	expect_range(s, 0, 100, 399);
	/* Inside, and before everything. */
	add(s, 150, 150, true);
	add(s, 10, 20, false);
	add(s, 0, 5, false);
	assert_int_equal(kz_ipset_range_count(s), 3);
	expect_range(s, 0, 0, 5);
	expect_range(s, 1, 10, 20);
	/* One wide range swallowing several. */
	add(s, 0, 1000, true);
	assert_int_equal(kz_ipset_range_count(s), 1);
	assert_true(kz_ipset_size(s) == 1001);
	assert_int_equal(kz_ipset_add_range(s, A(5), A(4), NULL), -EINVAL);
	struct kz_addr_range bad[2] = { { A(1), A(2) }, { A(9), A(8) } };
	struct kz_ipset *b;
	assert_int_equal(kz_ipset_from_ranges(bad, 2, &b), -EINVAL);
	check_canonical(s);
	kz_ipset_free(s);
}

static void test_edges_of_space(void **state)
{
	(void)state;
	struct kz_ipset *s = new_set();
	add(s, KZ_U128_MAX - 3, KZ_U128_MAX, false);
	add(s, 0, 2, false);
	assert_true(kz_ipset_contains(s, A(KZ_U128_MAX)));
	assert_true(kz_ipset_contains(s, A(0)));
	assert_false(kz_ipset_contains(s, A(3)));
	assert_false(kz_ipset_contains(s, A(KZ_U128_MAX - 4)));
	assert_true(kz_ipset_size(s) == 7);
	struct kz_addr a;
	assert_int_equal(kz_ipset_nth(s, 6, &a), 0);
	assert_true(a.v == KZ_U128_MAX);
	assert_int_equal(kz_ipset_nth(s, 7, &a), -ERANGE);
	add(s, KZ_U128_MAX, KZ_U128_MAX, true);
	add(s, 3, KZ_U128_MAX - 4, false);
	/* Now the whole space: 2^128 addresses, one more than kz_u128 holds. */
	assert_int_equal(kz_ipset_range_count(s), 1);
	assert_true(kz_ipset_size(s) == KZ_U128_MAX);
	assert_true(kz_ipset_count_in(s, A(0), A(KZ_U128_MAX)) == KZ_U128_MAX);
	assert_true(kz_ipset_count_in(s, A(1), A(KZ_U128_MAX)) == KZ_U128_MAX);
	assert_true(kz_ipset_count_in(s, A(2), A(KZ_U128_MAX)) == KZ_U128_MAX - 1);
	assert_int_equal(kz_ipset_nth(s, KZ_U128_MAX - 1, &a), 0);
	assert_true(a.v == KZ_U128_MAX - 1);
	/* The space less one address is exactly 2^128 - 1. */
	struct kz_ipset *one = new_set(), *d;
	add(one, 77, 77, false);
	assert_int_equal(kz_ipset_difference(s, one, &d), 0);
	assert_true(kz_ipset_size(d) == KZ_U128_MAX);
	assert_int_equal(kz_ipset_range_count(d), 2);
	expect_range(d, 0, 0, 76);
	expect_range(d, 1, 78, KZ_U128_MAX);
	assert_int_equal(kz_ipset_nth(d, 77, &a), 0);
	assert_true(a.v == 78);
	assert_int_equal(kz_ipset_nth(d, KZ_U128_MAX - 1, &a), 0);
	assert_true(a.v == KZ_U128_MAX);
	assert_int_equal(kz_ipset_nth(d, KZ_U128_MAX, &a), -ERANGE);
	kz_ipset_free(d);
	kz_ipset_free(one);
	kz_ipset_free(s);
}

static void test_empty_set(void **state)
{
	(void)state;
	struct kz_ipset *e = new_set(), *r;
	struct kz_addr a;
	assert_true(kz_ipset_size(e) == 0);
	assert_false(kz_ipset_contains(e, A(0)));
	assert_int_equal(kz_ipset_nth(e, 0, &a), -ERANGE);
	assert_false(kz_ipset_first_in(e, A(0), A(KZ_U128_MAX), &a));
	assert_true(kz_ipset_count_in(e, A(0), A(KZ_U128_MAX)) == 0);
	assert_int_equal(kz_ipset_union(e, e, &r), 0);
	assert_true(kz_ipset_empty(r));
	kz_ipset_free(r);
	uint8_t d[KZ_IPSET_DIGEST_LEN];
	char hex[2 * KZ_IPSET_DIGEST_LEN + 1];
	assert_int_equal(kz_ipset_digest(e, d), 0);
	kz_hex_encode(d, sizeof d, hex);
	/* SHA-256 of the empty string. */
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	kz_ipset_free(e);
}

static void test_v4_and_v6_prefixes(void **state)
{
	(void)state;
	struct kz_ipset *s = new_set();
	add_cidr(s, "2001:db8::/32");
	add_cidr(s, "192.0.2.0/24");
	add_cidr(s, "192.0.2.128/25");
	assert_int_equal(kz_ipset_range_count(s), 2);
	assert_true(kz_ipset_contains(s, P("192.0.2.255")));
	assert_false(kz_ipset_contains(s, P("192.0.3.0")));
	assert_true(kz_ipset_contains(s, P("2001:db8:ffff::1")));
	assert_false(kz_ipset_contains(s, P("2001:db9::")));
	assert_true(kz_ipset_size(s) == ((kz_u128)1 << 96) + 256);
	/* IPv4 keys sort below 2000::/3, so the IPv4 addresses come first. */
	struct kz_addr a;
	assert_int_equal(kz_ipset_nth(s, 255, &a), 0);
	assert_true(a.v == P("192.0.2.255").v);
	assert_int_equal(kz_ipset_nth(s, 256, &a), 0);
	assert_true(a.v == P("2001:db8::").v);
	kz_ipset_free(s);
}

static void test_digest_vector(void **state)
{
	(void)state;
	/* Expected value computed independently with Python's hashlib over
	 * the documented serialisation: first and last of each range as 16
	 * network-order bytes, ranges ascending. */
	const char *want = "cae46d475cabe5f126a0451a43f91c29e70ea4ffed1bb668c614b69cfe7d52f5";
	struct kz_ipset *a = new_set(), *b = new_set();
	add_cidr(a, "192.0.2.0/24");
	add_cidr(a, "2001:db8::/32");
	/* The same set built another way has the same digest. */
	add_cidr(b, "2001:db8:8000::/33");
	add_cidr(b, "192.0.2.0/25");
	add_cidr(b, "2001:db8::/33");
	add_cidr(b, "192.0.2.128/25");
	uint8_t da[KZ_IPSET_DIGEST_LEN], db[KZ_IPSET_DIGEST_LEN];
	char hex[2 * KZ_IPSET_DIGEST_LEN + 1];
	assert_int_equal(kz_ipset_digest(a, da), 0);
	assert_int_equal(kz_ipset_digest(b, db), 0);
	kz_hex_encode(da, sizeof da, hex);
	assert_string_equal(hex, want);
	assert_memory_equal(da, db, sizeof da);
	assert_true(kz_ipset_equal(a, b));
	add_cidr(b, "192.0.3.0/32");
	assert_int_equal(kz_ipset_digest(b, db), 0);
	assert_memory_not_equal(da, db, sizeof da);
	kz_ipset_free(a);
	kz_ipset_free(b);
}

static void test_cap(void **state)
{
	(void)state;
	struct kz_ipset *s = new_set(), *c, *u;
	/* Single addresses with gaps, in ascending order: each add appends. */
	for (kz_u128 i = 0; i < KZ_IPSET_MAX_RANGES; i++)
		assert_int_equal(kz_ipset_add_range(s, A(2 * i), A(2 * i), NULL), 0);
	kz_u128 top = 2 * (kz_u128)KZ_IPSET_MAX_RANGES;
	assert_int_equal(kz_ipset_add_range(s, A(top), A(top), NULL), -E2BIG);
	/* Failing left the set as it was; a merge still works at the cap. */
	assert_int_equal(kz_ipset_range_count(s), KZ_IPSET_MAX_RANGES);
	assert_false(kz_ipset_contains(s, A(top)));
	assert_int_equal(kz_ipset_add_range(s, A(top - 1), A(top - 1), NULL), 0);
	assert_int_equal(kz_ipset_range_count(s), KZ_IPSET_MAX_RANGES);
	/* An operation whose result would pass the cap fails the same way. */
	c = new_set();
	add(c, top + 5, top + 5, false);
	assert_int_equal(kz_ipset_union(s, c, &u), -E2BIG);
	kz_ipset_free(c);
	kz_ipset_free(s);
}

static void test_u128_format(void **state)
{
	(void)state;
	char buf[KZ_U128_STRLEN];
	assert_string_equal(kz_u128_format(0, buf), "0");
	assert_string_equal(kz_u128_format(4294967296u, buf), "4294967296");
	assert_string_equal(kz_u128_format(KZ_U128_MAX, buf),
	                    "340282366920938463463374607431768211455");
}

/* The model: a bitmap over UNIVERSE addresses starting at base. Random
 * ranges are drawn inside it, so every edge (0, the top of the space, the
 * IPv4-mapped block) is exercised by the choice of base. */
#define UNIVERSE 300

struct model {
	bool in[UNIVERSE];
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: fixed seeds make every failure reproducible. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void random_set(kz_u128 base, struct kz_ipset **out, struct model *m)
{
	struct kz_ipset *s = new_set(), *bulk;
	struct kz_addr_range drawn[12];
	memset(m, 0, sizeof *m);
	unsigned ranges = below(12);
	for (unsigned k = 0; k < ranges; k++) {
		unsigned f = below(UNIVERSE);
		unsigned len = below(4) == 0 ? below(UNIVERSE - f) + 1 : below(6) + 1;
		unsigned l = f + len - 1 < UNIVERSE ? f + len - 1 : UNIVERSE - 1;
		bool want = false;
		for (unsigned i = f; i <= l; i++)
			want |= m->in[i];
		bool overlapped;
		assert_int_equal(kz_ipset_add_range(s, A(base + f), A(base + l), &overlapped), 0);
		assert_int_equal(overlapped, want);
		for (unsigned i = f; i <= l; i++)
			m->in[i] = true;
		drawn[k].first = A(base + f);
		drawn[k].last = A(base + l);
	}
	/* Built in one go from the unsorted ranges, the set is the same. */
	assert_int_equal(kz_ipset_from_ranges(drawn, ranges, &bulk), 0);
	assert_true(kz_ipset_equal(s, bulk));
	kz_ipset_free(bulk);
	*out = s;
}

/* Checks s against m: membership just outside the universe too, size,
 * range list, nth against ascending iteration, count_in and first_in. */
static void check_model(const struct kz_ipset *s, const struct model *m, kz_u128 base)
{
	check_canonical(s);
	kz_u128 size = 0;
	for (unsigned i = 0; i < UNIVERSE; i++) {
		assert_int_equal(kz_ipset_contains(s, A(base + i)), m->in[i]);
		if (m->in[i]) {
			struct kz_addr a;
			assert_int_equal(kz_ipset_nth(s, size, &a), 0);
			assert_true(a.v == base + i);
			size++;
		}
	}
	if (base > 0)
		assert_false(kz_ipset_contains(s, A(base - 1)));
	if (base + UNIVERSE - 1 < KZ_U128_MAX)
		assert_false(kz_ipset_contains(s, A(base + UNIVERSE)));
	assert_true(kz_ipset_size(s) == size);
	struct kz_addr a;
	assert_int_equal(kz_ipset_nth(s, size, &a), -ERANGE);
	/* Iterating the range list visits the same addresses in order. */
	kz_u128 seen = 0;
	for (size_t r = 0; r < kz_ipset_range_count(s); r++) {
		struct kz_addr_range rg = kz_ipset_range(s, r);
		for (kz_u128 v = rg.first.v;; v++) {
			assert_true(m->in[v - base]);
			seen++;
			if (v == rg.last.v)
				break;
		}
	}
	assert_true(seen == size);
	for (int k = 0; k < 20; k++) {
		unsigned f = below(UNIVERSE), l = below(UNIVERSE);
		kz_u128 cnt = 0;
		int first = -1;
		for (unsigned i = f; i <= l; i++) {
			if (m->in[i]) {
				cnt++;
				if (first < 0)
					first = (int)i;
			}
		}
		assert_true(kz_ipset_count_in(s, A(base + f), A(base + l)) == cnt);
		bool found = kz_ipset_first_in(s, A(base + f), A(base + l), &a);
		assert_int_equal(found, first >= 0);
		if (found)
			assert_true(a.v == base + (unsigned)first);
	}
}

static void test_random_against_model(void **state)
{
	(void)state;
	const kz_u128 bases[] = {
		0,
		KZ_U128_MAX - (UNIVERSE - 1),
		((kz_u128)0xffff << 32) + 0xc6120000u, /* 198.18.0.0 */
		((kz_u128)0xffff << 32) - 150,         /* straddles the IPv4 block's start */
		(kz_u128)0x20010db8u << 96,
	};
	for (size_t bi = 0; bi < sizeof bases / sizeof bases[0]; bi++) {
		kz_u128 base = bases[bi];
		for (uint64_t seed = 1; seed <= 300; seed++) {
			rng_state = seed * 1000003u + bi;
			struct kz_ipset *a, *b, *r;
			struct model ma, mb, mr;
			random_set(base, &a, &ma);
			random_set(base, &b, &mb);
			check_model(a, &ma, base);

			assert_int_equal(kz_ipset_union(a, b, &r), 0);
			for (unsigned i = 0; i < UNIVERSE; i++)
				mr.in[i] = ma.in[i] || mb.in[i];
			check_model(r, &mr, base);
			kz_ipset_free(r);

			assert_int_equal(kz_ipset_difference(a, b, &r), 0);
			for (unsigned i = 0; i < UNIVERSE; i++)
				mr.in[i] = ma.in[i] && !mb.in[i];
			check_model(r, &mr, base);
			kz_ipset_free(r);

			assert_int_equal(kz_ipset_intersection(a, b, &r), 0);
			for (unsigned i = 0; i < UNIVERSE; i++)
				mr.in[i] = ma.in[i] && mb.in[i];
			check_model(r, &mr, base);
			kz_ipset_free(r);

			assert_int_equal(kz_ipset_clone(a, &r), 0);
			assert_true(kz_ipset_equal(a, r));
			kz_ipset_free(r);
			kz_ipset_free(a);
			kz_ipset_free(b);
		}
	}
}

/* nth over large random IPv6 sets: every range's first and last address is
 * found at the index iteration says, and the index just past each range
 * lands on the next range's first address. */
static void test_nth_large_random(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		rng_state = seed;
		struct kz_ipset *s = new_set();
		for (int k = 0; k < 2000; k++) {
			kz_u128 f = (kz_u128)rnd() << 64 | rnd();
			kz_u128 len = (kz_u128)1 << below(100);
			kz_u128 l = f > KZ_U128_MAX - len ? KZ_U128_MAX : f + len - 1;
			assert_int_equal(kz_ipset_add_range(s, A(f), A(l), NULL), 0);
		}
		check_canonical(s);
		kz_u128 idx = 0;
		for (size_t r = 0; r < kz_ipset_range_count(s); r++) {
			struct kz_addr_range rg = kz_ipset_range(s, r);
			struct kz_addr a;
			assert_int_equal(kz_ipset_nth(s, idx, &a), 0);
			assert_true(a.v == rg.first.v);
			assert_true(kz_ipset_contains(s, rg.first));
			assert_true(kz_ipset_contains(s, rg.last));
			if (rg.first.v > 0 && r > 0)
				assert_false(kz_ipset_contains(s, A(rg.first.v - 1)));
			idx += rg.last.v - rg.first.v;
			assert_int_equal(kz_ipset_nth(s, idx, &a), 0);
			assert_true(a.v == rg.last.v);
			idx++;
		}
		assert_true(kz_ipset_size(s) == idx);
		kz_ipset_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_merges),
		cmocka_unit_test(test_edges_of_space),
		cmocka_unit_test(test_empty_set),
		cmocka_unit_test(test_v4_and_v6_prefixes),
		cmocka_unit_test(test_digest_vector),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_u128_format),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_nth_large_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
