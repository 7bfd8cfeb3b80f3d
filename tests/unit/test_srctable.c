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

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

/* Counts how many of n hashes repeat an earlier one (32-bit tags) and the
 * fullest bucket of a 2n-slot index, the two things a flood aims at. */
static void spread(const uint64_t *h, size_t n, size_t *repeats, unsigned *fullest)
{
	size_t slots = 2 * n;
	unsigned *load = calloc(slots, sizeof *load);
	uint64_t *sorted = malloc(n * sizeof *sorted);
	assert_non_null(load);
	assert_non_null(sorted);
	*fullest = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(h[i] <= UINT32_MAX);
		unsigned *b = &load[h[i] & (slots - 1)];
		if (++*b > *fullest)
			*fullest = *b;
		sorted[i] = h[i];
	}
	qsort(sorted, n, sizeof *sorted, cmp_u64);
	*repeats = 0;
	for (size_t i = 1; i < n; i++)
		*repeats += sorted[i] == sorted[i - 1];
	free(load);
	free(sorted);
}

/* The hash of sources a spoofer or a sweep would send from: runs of
 * consecutive IPv4 addresses and IPv6 addresses that differ in one word
 * only. A strongly universal hash gives about n^2 / 2^33 repeated 32-bit
 * tags (2 for n = 2^17) and buckets no fuller than a random function's. */
static void test_hash_spreads_structured_sources(void **state)
{
	(void)state;
	struct kz_srctable *t, *u;
	assert_int_equal(kz_srctable_new(16, 600, &t), 0);
	assert_int_equal(kz_srctable_new(16, 600, &u), 0);
	enum { N = 1 << 17 };
	uint64_t *h = malloc(N * sizeof *h);
	assert_non_null(h);
	static const unsigned shift[] = { 0, 64, 32, 0, 48 };
	for (int pattern = 0; pattern < 5; pattern++) {
		for (uint32_t i = 0; i < N; i++) {
			struct kz_addr a;
			if (pattern == 0)
				a = a4(0xc6120000u + i); /* 198.18.0.0/15 in order */
			else
				/* 2001:2::/32 with i in its second, third or last
				 * word, or across the second and third */
				a.v = (kz_u128)0x20010002u << 96 | (kz_u128)i << shift[pattern];
			h[i] = kz_srctable_hash(t, a);
		}
		size_t repeats;
		unsigned fullest;
		spread(h, N, &repeats, &fullest);
		print_message("pattern %d: %zu repeated tags, fullest bucket %u\n", pattern,
		              repeats, fullest);
		assert_true(repeats <= 32);
		assert_true(fullest <= 16);
	}
	/* Each table draws its own key: the same source hashes elsewhere. */
	unsigned same = 0;
	for (uint32_t i = 0; i < 100; i++)
		same += kz_srctable_hash(t, a4(i)) == kz_srctable_hash(u, a4(i));
	assert_true(same < 5);
	free(h);
	kz_srctable_free(t);
	kz_srctable_free(u);
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
		cmocka_unit_test(test_hash_spreads_structured_sources),
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
