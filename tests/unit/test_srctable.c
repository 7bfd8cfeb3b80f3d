/*
 * The per-source table: lookups find what was inserted (across index
 * growth), the budget is never exceeded and every replacement is counted
 * (evicted while active vs. expired after the scan timeout), CLOCK spares
 * recently used and pinned entries, a wrong fast-path match is repaired,
 * and the per-packet update (votes, the unicornscan majority, the tracked
 * ports, the per-interval key set, the scan restart) does what srctable.h
 * says.
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

#include "srctable.h"

static struct kz_addr a4(uint32_t x)
{
	return kz_addr_from_v4(x);
}

/* The engine's way: the fast lookup (which trusts 32 hash bits), then the
 * check by address that repairs a wrong match. */
static uint32_t lookup(struct kz_srctable *t, struct kz_addr a, uint32_t now, bool *is_new)
{
	uint64_t h = kz_srctable_hash(t, a);
	uint32_t idx = kz_srctable_lookup(t, a, h, now, NULL, 0, is_new);
	bool fresh_insert = *is_new;
	kz_srctable_entry_for(t, &idx, a, h, now, NULL, 0, is_new);
	*is_new = *is_new || fresh_insert;
	return idx;
}

/* SipHash-c-d over bytes, written from the paper, to check the table's
 * inline SipHash-1-3 against. */
static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

static uint64_t siphash_cd(int c, int d, const uint8_t key[16], const uint8_t *m, size_t len)
{
	uint64_t k0 = 0, k1 = 0;
	for (int i = 7; i >= 0; i--) {
		k0 = k0 << 8 | key[i];
		k1 = k1 << 8 | key[8 + i];
	}
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
		          k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull };
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = 0;
		for (int j = 7; j >= 0; j--)
			w = w << 8 | m[i + (size_t)j];
		v[3] ^= w;
		for (int r = 0; r < c; r++)
			sipround(v);
		v[0] ^= w;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)m[i + j] << (8 * j);
	v[3] ^= b;
	for (int r = 0; r < c; r++)
		sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (int r = 0; r < d; r++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void test_hash_is_siphash13(void **state)
{
	(void)state;
	uint8_t key[16];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)(i * 17 + 3);
	struct kz_siphash_key k;
	kz_siphash_key_load(&k, key);
	uint64_t s = 1;
	for (int n = 0; n < 1000; n++) {
		s = s * 6364136223846793005ull + 1;
		struct kz_addr a;
		a.v = n % 2 ? kz_addr_from_v4((uint32_t)(s >> 32)).v : (kz_u128)s << 64 | (s * 31);
		uint64_t hi = (uint64_t)(a.v >> 64), lo = (uint64_t)a.v;
		uint8_t m[16];
		size_t len = 0;
		if (hi) {
			for (int j = 0; j < 8; j++)
				m[len++] = (uint8_t)(hi >> (8 * j));
		}
		for (int j = 0; j < 8; j++)
			m[len++] = (uint8_t)(lo >> (8 * j));
		assert_true(kz_srctable_hash_key(&k, a) == siphash_cd(1, 3, key, m, len));
	}
}

static void test_insert_find_grow(void **state)
{
	(void)state;
	struct kz_srctable *t;
	assert_int_equal(kz_srctable_new(0, 600, &t), -EINVAL);
	assert_int_equal(kz_srctable_new(100010, 600, &t), 0);
	bool is_new;
	/* Far more than the first index size: it grows several times. */
	for (uint32_t i = 0; i < 100000; i++) {
		uint32_t idx = lookup(t, a4(0xc6120000u + i * 7u), 10, &is_new);
		assert_true(is_new);
		assert_int_equal(idx, i);
	}
	for (uint32_t i = 0; i < 100000; i += 997) {
		uint32_t idx = lookup(t, a4(0xc6120000u + i * 7u), 11, &is_new);
		assert_false(is_new);
		assert_int_equal(idx, i);
		struct kz_src *e = kz_srctable_find(t, a4(0xc6120000u + i * 7u));
		assert_non_null(e);
		assert_true(e == kz_srctable_entry(t, i));
		assert_int_equal(e->first_seen, 10);
	}
	assert_null(kz_srctable_find(t, a4(1)));
	/* IPv6 keys live in the same table. */
	struct kz_addr v6 = { (kz_u128)0x20010db8u << 96 | 5 };
	uint32_t idx = lookup(t, v6, 12, &is_new);
	assert_true(is_new);
	assert_true(kz_srctable_find(t, v6) == kz_srctable_entry(t, idx));
	struct kz_srctable_stats st;
	kz_srctable_stats(t, &st);
	assert_int_equal(st.used, 100001);
	assert_int_equal(st.inserts, 100001);
	assert_int_equal(st.evictions, 0);
	kz_srctable_free(t);
}

static void test_budget_and_eviction_counts(void **state)
{
	(void)state;
	struct kz_srctable *t;
	const uint32_t cap = 1000;
	assert_int_equal(kz_srctable_new(cap, 600, &t), 0);
	bool is_new;
	for (uint32_t i = 0; i < cap; i++)
		lookup(t, a4(0x0a000000u + i), 100, &is_new);
	/* 500 new sources at t = 200: the old ones are still within their
	 * scan timeout, so each replacement is an eviction. */
	for (uint32_t i = 0; i < 500; i++)
		lookup(t, a4(0x0b000000u + i), 200, &is_new);
	struct kz_srctable_stats st;
	kz_srctable_stats(t, &st);
	assert_int_equal(st.used, cap);
	assert_int_equal(st.inserts, cap + 500);
	assert_int_equal(st.evictions, 500);
	assert_int_equal(st.expired, 0);
	/* Long after: the entries' sources have been silent past the
	 * timeout, so replacing them is no loss, and says so. */
	for (uint32_t i = 0; i < 300; i++)
		lookup(t, a4(0x0c000000u + i), 5000, &is_new);
	kz_srctable_stats(t, &st);
	assert_int_equal(st.evictions, 500);
	assert_int_equal(st.expired, 300);
	assert_int_equal(st.used, cap);
	/* Every source the table says it has is findable, and no more. */
	uint32_t found = 0;
	for (uint32_t i = 0; i < cap; i++)
		found += kz_srctable_find(t, a4(0x0a000000u + i)) != NULL;
	for (uint32_t i = 0; i < 500; i++)
		found += kz_srctable_find(t, a4(0x0b000000u + i)) != NULL;
	for (uint32_t i = 0; i < 300; i++)
		found += kz_srctable_find(t, a4(0x0c000000u + i)) != NULL;
	assert_int_equal(found, cap);
	printf("memory for %u sources: %zu bytes\n", cap, kz_srctable_memory(t));
	kz_srctable_free(t);
}

static void test_clock_second_chance(void **state)
{
	(void)state;
	struct kz_srctable *t;
	assert_int_equal(kz_srctable_new(8, 600, &t), 0);
	bool is_new;
	for (uint32_t i = 0; i < 8; i++)
		lookup(t, a4(100 + i), 1, &is_new);
	/* The first insert after a full table: every bit is set, the hand
	 * clears them all and takes entry 0. */
	lookup(t, a4(200), 2, &is_new);
	assert_null(kz_srctable_find(t, a4(100)));
	/* Source 102 is used again; the next replacement passes over it. */
	lookup(t, a4(102), 3, &is_new);
	assert_false(is_new);
	lookup(t, a4(201), 3, &is_new);
	assert_null(kz_srctable_find(t, a4(101)));
	lookup(t, a4(202), 3, &is_new);
	assert_non_null(kz_srctable_find(t, a4(102)));
	assert_null(kz_srctable_find(t, a4(103)));
	kz_srctable_free(t);
}

static void test_pinned_never_replaced(void **state)
{
	(void)state;
	struct kz_srctable *t;
	assert_int_equal(kz_srctable_new(4, 600, &t), 0);
	bool is_new;
	uint32_t idx[4];
	for (uint32_t i = 0; i < 4; i++)
		idx[i] = lookup(t, a4(10 + i), 1, &is_new);
	/* Three entries of the batch are pinned: a new source must take the
	 * fourth, whatever CLOCK would have chosen. */
	uint32_t pinned[3] = { idx[0], idx[2], idx[3] };
	for (int round = 0; round < 5; round++) {
		struct kz_addr a = a4(1000 + (uint32_t)round);
		uint32_t got =
		        kz_srctable_lookup(t, a, kz_srctable_hash(t, a), 2, pinned, 3, &is_new);
		assert_true(is_new);
		assert_int_equal(got, idx[1]);
	}
	kz_srctable_free(t);
}

static void test_wrong_fast_match_repaired(void **state)
{
	(void)state;
	struct kz_srctable *t;
	assert_int_equal(kz_srctable_new(16, 600, &t), 0);
	bool is_new;
	uint32_t ia = lookup(t, a4(1), 1, &is_new);
	uint32_t ib = lookup(t, a4(2), 1, &is_new);
	/* As if a hash tag had matched the wrong entry: the check redoes the
	 * lookup by address. */
	uint32_t idx = ia;
	struct kz_src *e = kz_srctable_entry_for(t, &idx, a4(2), kz_srctable_hash(t, a4(2)), 1,
	                                         NULL, 0, &is_new);
	assert_int_equal(idx, ib);
	assert_false(is_new);
	assert_true(e->addr.v == a4(2).v);
	/* ... and inserts an address that was not there at all. */
	idx = ia;
	e = kz_srctable_entry_for(t, &idx, a4(3), kz_srctable_hash(t, a4(3)), 1, NULL, 0, &is_new);
	assert_true(is_new);
	assert_true(e->addr.v == a4(3).v);
	struct kz_srctable_stats st;
	kz_srctable_stats(t, &st);
	assert_int_equal(st.slow_lookups, 2);
	kz_srctable_free(t);
}

/* ------------------------------------------------------ per packet */

static struct kz_tpkt probe(uint8_t proto, uint16_t port, uint32_t dst, uint8_t fp)
{
	struct kz_tpkt p;
	memset(&p, 0, sizeof p);
	p.src = a4(0xc0000207);
	p.dst_hash = kz_dset_hash(dst);
	p.port = port;
	p.sport = 40000;
	p.proto = proto;
	p.cls = KZ_TCLASS_PROBE;
	p.len = 40;
	p.flags = KZ_TPKT_HASPORT | (proto == KZ_TPROTO_TCP ? KZ_TPKT_SYN : 0);
	p.fp = fp;
	return p;
}

static struct kz_src *fresh(struct kz_srctable *t)
{
	bool is_new;
	uint32_t idx = lookup(t, a4(0xc0000207), 100, &is_new);
	return kz_srctable_entry(t, idx);
}

static void test_observe_counts_and_votes(void **state)
{
	(void)state;
	struct kz_srctable *t;
	assert_int_equal(kz_srctable_new(16, 600, &t), 0);
	struct kz_src *e = fresh(t);
	for (uint32_t i = 0; i < 10; i++) {
		struct kz_tpkt p =
		        probe(KZ_TPROTO_TCP, 23, 0xc6120000u + i, i < 7 ? KZ_FP_MIRAI : 0);
		kz_src_observe(e, &p, 100 + i, 600, 5);
	}
	assert_int_equal(e->packets, 10);
	assert_int_equal(e->probes, 10);
	assert_int_equal(e->bytes, 400);
	assert_int_equal(e->syn, 10);
	assert_int_equal(e->votes[KZ_VOTE_MIRAI], 7);
	assert_int_equal(e->votes[KZ_VOTE_ZMAP], 0);
	assert_int_equal(e->first_seen, 100);
	assert_int_equal(e->last_seen, 109);
	assert_int_equal(e->last_sport, 40000);
	double u = kz_src_unique_destinations(e); /* past 8: the estimate */
	assert_true(u > 7 && u < 13);
	assert_true(kz_src_slot_count(e, 0) == 8 || kz_src_slot_count(e, 0) > 9);
	uint16_t ports[4];
	assert_int_equal(kz_src_ports(e, ports), 1);
	assert_int_equal(ports[0], 23);
	/* Votes and SYNs are halved together: the ratio survives. */
	e->syn = UINT16_MAX - 1;
	e->votes[KZ_VOTE_MIRAI] = 40000;
	struct kz_tpkt p = probe(KZ_TPROTO_TCP, 23, 1, KZ_FP_MIRAI);
	kz_src_observe(e, &p, 111, 600, 5);
	assert_int_equal(e->syn, UINT16_MAX / 2);
	assert_int_equal(e->votes[KZ_VOTE_MIRAI], 40001 / 2);
	kz_srctable_free(t);
}

static void test_unicorn_majority(void **state)
{
	(void)state;
	struct kz_srctable *t;
	assert_int_equal(kz_srctable_new(16, 600, &t), 0);
	struct kz_src *e = fresh(t);
	/* 12 packets: the constant 0xabc in 8 of them, noise in between; the
	 * byte-swapped value is noise throughout. */
	for (uint32_t i = 0; i < 12; i++) {
		struct kz_tpkt p = probe(KZ_TPROTO_TCP, 80, 0xc6120000u + i, KZ_FP_UNICORN);
		p.unicorn = i % 3 == 2 ? 0x1000 + i : 0xabc;
		p.unicorn_bs = 0x2000 + i;
		kz_src_observe(e, &p, 100, 600, 5);
	}
	assert_int_equal(e->uni_cand, 0xabc);
	assert_int_equal(e->uni_match, 8);
	assert_true(e->unb_match <= 1);
	kz_srctable_free(t);
}

static void test_tracked_ports(void **state)
{
	(void)state;
	struct kz_srctable *t;
	assert_int_equal(kz_srctable_new(16, 600, &t), 0);
	struct kz_src *e = fresh(t);
	/* Three ports in turn, 20 addresses each: the heavier slot keeps its
	 * port and its full count (Misra-Gries would keep neither). */
	for (uint32_t i = 0; i < 20; i++) {
		static const uint16_t ports[3] = { 21, 81, 5900 };
		for (int k = 0; k < 3; k++) {
			struct kz_tpkt p = probe(KZ_TPROTO_TCP, ports[k],
			                         0xc6120000u + i * 3 + (uint32_t)k, 0);
			kz_src_observe(e, &p, 100, 600, 5);
		}
	}
	double best = 0;
	for (unsigned i = 0; i < 2; i++) {
		double c = kz_src_slot_count(e, i);
		best = c > best ? c : best;
	}
	printf("three ports in turn: best tracked port has %.1f of 20 addresses\n", best);
	assert_true(best >= 17);
	assert_true(kz_src_port_count(e) == 3);
	kz_srctable_free(t);
}

static void test_interval_keys_and_restart(void **state)
{
	(void)state;
	struct kz_srctable *t;
	assert_int_equal(kz_srctable_new(16, 600, &t), 0);
	struct kz_src *e = fresh(t);
	struct kz_tpkt a = probe(KZ_TPROTO_TCP, 22, 1, 0), b = probe(KZ_TPROTO_UDP, 22, 2, 0);
	unsigned r = kz_src_observe(e, &a, 100, 600, 7);
	assert_true(r & KZ_OBS_FIRST_IV);
	assert_true(r & KZ_OBS_NEW_PKEY);
	r = kz_src_observe(e, &a, 100, 600, 7);
	assert_int_equal(r, 0);
	/* Same port number, other protocol: another key. */
	r = kz_src_observe(e, &b, 101, 600, 7);
	assert_int_equal(r, KZ_OBS_NEW_PKEY);
	/* Back to the first key in the same interval: already in its sketch. */
	r = kz_src_observe(e, &a, 102, 600, 7);
	assert_int_equal(r, 0);
	/* A new interval: listed again, and each key goes in once more. */
	r = kz_src_observe(e, &a, 160, 600, 8);
	assert_int_equal(r, KZ_OBS_FIRST_IV | KZ_OBS_NEW_PKEY);
	r = kz_src_observe(e, &b, 161, 600, 8);
	assert_int_equal(r, KZ_OBS_NEW_PKEY);
	/* Five more keys: past the key set, every change of key asks. */
	for (uint16_t port = 1; port <= 5; port++) {
		struct kz_tpkt p = probe(KZ_TPROTO_TCP, port, port, 0);
		assert_true(kz_src_observe(e, &p, 162, 600, 8) & KZ_OBS_NEW_PKEY);
	}
	assert_true(e->flags & KZ_SRC_PORTS_BIG);
	assert_true(kz_src_port_count(e) >= 5);
	/* Silent past the timeout: a new scan. */
	e->label = 3;
	r = kz_src_observe(e, &a, 162 + 601, 600, 9);
	assert_true(r & KZ_OBS_RESTART);
	assert_int_equal(e->packets, 1);
	assert_int_equal(e->first_seen, 763);
	assert_int_equal(e->label, 0);
	assert_int_equal(e->scans, 2);
	assert_true(e->addr.v == a4(0xc0000207).v);
	/* Exactly the timeout is still the same scan. */
	r = kz_src_observe(e, &a, 763 + 600, 600, 9);
	assert_false(r & KZ_OBS_RESTART);
	kz_srctable_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_is_siphash13),
		cmocka_unit_test(test_insert_find_grow),
		cmocka_unit_test(test_budget_and_eviction_counts),
		cmocka_unit_test(test_clock_second_chance),
		cmocka_unit_test(test_pinned_never_replaced),
		cmocka_unit_test(test_wrong_fast_match_repaired),
		cmocka_unit_test(test_observe_counts_and_votes),
		cmocka_unit_test(test_unicorn_majority),
		cmocka_unit_test(test_tracked_ports),
		cmocka_unit_test(test_interval_keys_and_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
