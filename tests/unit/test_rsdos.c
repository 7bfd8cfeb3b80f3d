/*
 * RS-DoS vectors: the window arithmetic against a brute-force count over
 * corsaro's grid of windows (first packet + 10 k s, 60 s long) on random
 * packet trains; each threshold at its edge (24/25 packets, 59.999/60 s,
 * 29/30 packets in a window); the 300 s silence that ends an attack; one
 * vector per victim and protocol; attackers as /16s; and a full pool that
 * makes room and counts it.
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

#include "rsdos.h"

#define S  UINT64_C(1000000000)
#define T0 (UINT64_C(1700000000) * S)

static uint32_t brute_max_ppm(const uint64_t *t, size_t n)
{
	uint32_t best = 0;
	for (uint64_t k = 0; n && t[0] + k * 10 * S <= t[n - 1]; k++) {
		uint64_t from = t[0] + k * 10 * S, to = from + 60 * S;
		uint32_t c = 0;
		for (size_t i = 0; i < n; i++)
			c += t[i] >= from && t[i] < to;
		best = c > best ? c : best;
	}
	return best;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_window_against_brute_force(void **state)
{
	(void)state;
	uint64_t seed = 88172645463325252ull;
	for (int trial = 0; trial < 300; trial++) {
		size_t n = 1 + rng(&seed) % 200;
		uint64_t *t = calloc(n, sizeof *t);
		uint64_t now = T0;
		uint64_t mean_gap = (1 + rng(&seed) % 8000) * (S / 1000);
		for (size_t i = 0; i < n; i++) {
			now += rng(&seed) % (2 * mean_gap + 1);
			t[i] = now;
		}
		struct kz_rsdos_attack a;
		memset(&a, 0, sizeof a);
		a.first_ns = a.last_ns = t[0];
		for (size_t i = 0; i < n; i++)
			kz_rsdos_window_add(&a, t[i]);
		assert_int_equal(a.packets, n);
		assert_int_equal(a.max_ppm, brute_max_ppm(t, n));
		free(t);
	}
}

/* `burst` packets within the first second, then `late` packets at
 * last_ns after the first. */
static struct kz_rsdos_attack train(size_t burst, size_t late, uint64_t last_ns)
{
	struct kz_rsdos_attack a;
	memset(&a, 0, sizeof a);
	a.first_ns = a.last_ns = T0;
	for (size_t i = 0; i < burst; i++)
		kz_rsdos_window_add(&a, T0 + i * (S / 100));
	for (size_t i = 0; i < late; i++)
		kz_rsdos_window_add(&a, T0 + last_ns);
	return a;
}

static void test_thresholds_at_the_edges(void **state)
{
	(void)state;
	/* 30 packets in the first second, one at 60 s. */
	struct kz_rsdos_attack a = train(30, 1, 60 * S);
	assert_int_equal(a.max_ppm, 30);
	assert_int_equal(a.packets, 31);
	assert_true(kz_rsdos_is_attack(&a));
	/* One packet fewer in the peak window. */
	a = train(29, 2, 60 * S);
	assert_int_equal(a.max_ppm, 29);
	assert_false(kz_rsdos_is_attack(&a));
	/* A nanosecond short of 60 s. */
	a = train(30, 1, 60 * S - 1);
	assert_false(kz_rsdos_is_attack(&a));
	/* The packet count at its edge (with the other two thresholds met). */
	a = train(23, 1, 60 * S);
	a.max_ppm = 30;
	assert_false(kz_rsdos_is_attack(&a));
	a.packets = 25;
	assert_true(kz_rsdos_is_attack(&a));
	/* The grid starts at the first packet: 30 packets straddling two
	 * grid windows (15 just before first + 60 s... i.e. in [50, 60) and
	 * 15 in [60, 70)) are all in window [10, 70). */
	struct kz_rsdos_attack b;
	memset(&b, 0, sizeof b);
	b.first_ns = b.last_ns = T0;
	kz_rsdos_window_add(&b, T0);
	for (int i = 0; i < 15; i++)
		kz_rsdos_window_add(&b, T0 + 55 * S + (uint64_t)i * (S / 10));
	for (int i = 0; i < 15; i++)
		kz_rsdos_window_add(&b, T0 + 61 * S + (uint64_t)i * (S / 10));
	assert_int_equal(b.max_ppm, 30);
	/* 30 packets within 57 s that no grid window holds together: 15 at
	 * 5 s and 15 at 61 s after the first. A window starting anywhere
	 * would hold 30; corsaro's grid windows hold at most 16. */
	memset(&b, 0, sizeof b);
	b.first_ns = b.last_ns = T0;
	kz_rsdos_window_add(&b, T0);
	for (int i = 0; i < 15; i++)
		kz_rsdos_window_add(&b, T0 + 5 * S + (uint64_t)i * (S / 20));
	for (int i = 0; i < 15; i++)
		kz_rsdos_window_add(&b, T0 + 61 * S + (uint64_t)i * (S / 20));
	assert_int_equal(b.max_ppm, 16);
	assert_false(kz_rsdos_is_attack(&b));
}

static struct kz_tpkt bs(uint32_t victim, uint8_t proto, uint64_t t, uint32_t dark)
{
	struct kz_tpkt p;
	memset(&p, 0, sizeof p);
	p.src = kz_addr_from_v4(victim);
	p.victim = kz_addr_from_v4(victim);
	p.ts_ns = t;
	p.proto = proto;
	p.cls = KZ_TCLASS_BACKSCATTER;
	p.dst_hash = kz_dset_hash(dark);
	p.dark16 = (uint16_t)(dark >> 16);
	p.len = 40;
	return p;
}

struct seen {
	struct kz_rsdos_attack v[8];
	int n;
};

static void collect(void *user, struct kz_rsdos_attack *a)
{
	struct seen *s = user;
	if (s->n < 8)
		s->v[s->n++] = *a;
}

static void test_vectors_and_timeout(void **state)
{
	(void)state;
	struct kz_rsdos *r;
	assert_int_equal(kz_rsdos_new(0, &r), -EINVAL);
	assert_int_equal(kz_rsdos_new(64, &r), 0);
	const uint32_t victim = 0xc0000250;
	/* TCP and ICMP backscatter from one victim: two vectors. */
	for (int i = 0; i < 40; i++) {
		struct kz_tpkt p = bs(victim, KZ_TPROTO_TCP, T0 + (uint64_t)i * 2 * S,
		                      0xc6120000u + ((uint32_t)i << 16 & 0x10000));
		kz_rsdos_packet(r, &p, 1);
		p = bs(victim, KZ_TPROTO_ICMP, T0 + (uint64_t)i * S, 0xc6120000u);
		kz_rsdos_packet(r, &p, 1);
	}
	struct seen s = { .n = 0 };
	kz_rsdos_flush(r, 1, collect, &s);
	assert_int_equal(s.n, 2);
	int tcp = s.v[0].proto == KZ_TPROTO_TCP ? 0 : 1;
	assert_int_equal(s.v[tcp].packets, 40);
	assert_true(kz_rsdos_is_attack(&s.v[tcp]));      /* 78 s, 30 in a window */
	assert_false(kz_rsdos_is_attack(&s.v[1 - tcp])); /* 39 s only */
	assert_true(kz_rsdos_attackers(&s.v[tcp]) == 2); /* two /16s */
	assert_true(kz_rsdos_attackers(&s.v[1 - tcp]) == 1);
	/* Flushed: nothing is active until the next packet. */
	s.n = 0;
	kz_rsdos_flush(r, 1, collect, &s);
	assert_int_equal(s.n, 0);
	/* 300 s after the last TCP packet: still the same attack. */
	uint64_t last = T0 + 39 * 2 * S;
	struct kz_tpkt p = bs(victim, KZ_TPROTO_TCP, last + 300 * S, 0xc6120001u);
	kz_rsdos_packet(r, &p, 2);
	kz_rsdos_flush(r, 2, collect, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].packets, 41);
	assert_int_equal(s.v[0].attacks, 1);
	/* More than 300 s of silence: a new attack on the same vector. */
	p = bs(victim, KZ_TPROTO_TCP, last + 601 * S + 1, 0xc6120001u);
	kz_rsdos_packet(r, &p, 3);
	s.n = 0;
	kz_rsdos_flush(r, 3, collect, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].packets, 1);
	assert_int_equal(s.v[0].attacks, 2);
	assert_false(s.v[0].reported);
	struct kz_rsdos_stats st;
	kz_rsdos_stats(r, &st);
	assert_int_equal(st.vectors, 3);
	kz_rsdos_free(r);
}

static void test_full_pool_counts(void **state)
{
	(void)state;
	struct kz_rsdos *r;
	assert_int_equal(kz_rsdos_new(16, &r), 0);
	/* 16 victims fill the pool; 8 more must take slots of active ones. */
	for (uint32_t v = 0; v < 24; v++) {
		struct kz_tpkt p = bs(0x0a000000u + v, KZ_TPROTO_TCP, T0 + v * S, 0xc6120000u);
		kz_rsdos_packet(r, &p, 1);
	}
	struct kz_rsdos_stats st;
	kz_rsdos_stats(r, &st);
	assert_int_equal(st.used, 16);
	assert_int_equal(st.evictions, 8);
	/* Long after: the old vectors have ended, their slots are reused
	 * without an eviction. */
	for (uint32_t v = 0; v < 8; v++) {
		struct kz_tpkt p = bs(0x0b000000u + v, KZ_TPROTO_TCP, T0 + 4000 * S, 0xc6120000u);
		kz_rsdos_packet(r, &p, 2);
	}
	kz_rsdos_stats(r, &st);
	assert_int_equal(st.evictions, 8);
	assert_int_equal(st.reused, 8);
	kz_rsdos_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_against_brute_force),
		cmocka_unit_test(test_thresholds_at_the_edges),
		cmocka_unit_test(test_vectors_and_timeout),
		cmocka_unit_test(test_full_pool_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
