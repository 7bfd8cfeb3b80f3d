/*
 * The port-surge detector and the per-port counters it reads: steady
 * Poisson-like traffic on many ports never alerts; a jump alerts in its
 * bin and names the port, its sources and its baseline; each guard (warm-up,
 * at least 10 sources, at least 3x the baseline, z > 4) holds at its edge;
 * gaps in packet time count as empty bins; and the port counters count
 * packets and unique sources per (protocol, port).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "portstats.h"
#include "surge.h"

struct alerts {
	struct kz_surge_alert a[64];
	int n;
};

static void on_alert(void *user, const struct kz_surge_alert *a)
{
	struct alerts *al = user;
	if (al->n < 64)
		al->a[al->n++] = *a;
}

static struct kz_surge *detector(void)
{
	struct kz_surge_params p;
	kz_surge_defaults(&p);
	struct kz_surge *s;
	assert_int_equal(kz_surge_new(&p, &s), 0);
	return s;
}

/* Knuth's Poisson sampler on a xorshift stream: enough for a test. */
static uint32_t poisson(double mean, uint64_t *st)
{
	double l = exp(-mean), p = 1.0;
	uint32_t k = 0;
	do {
		*st ^= *st << 13;
		*st ^= *st >> 7;
		*st ^= *st << 17;
		p *= (double)(*st >> 11) / 9007199254740992.0;
		k++;
	} while (p > l);
	return k - 1;
}

static void test_steady_never_alerts(void **state)
{
	(void)state;
	struct kz_surge *s = detector();
	struct alerts al = { .n = 0 };
	uint64_t st = 0x9e3779b97f4a7c15ull;
	/* 300 bins, ports with means from 0.1 to 40 sources a bin, those of
	 * 2 to 5 included: there Poisson noise alone reaches 10 sources and
	 * 3x now and then, which the Poisson guard keeps from alerting. */
	static const double means[] = { 0.1, 0.3, 0.6, 0.9, 2,  3,  4,  5,
		                        8,   10,  12,  15,  20, 25, 30, 40 };
	for (int bin = 0; bin < 300; bin++) {
		for (uint32_t i = 0; i < sizeof means / sizeof means[0]; i++) {
			uint32_t x = poisson(means[i], &st);
			if (x)
				kz_surge_set(s, kz_portkey(KZ_TPROTO_TCP, (uint16_t)(1000 + i)), x);
		}
		kz_surge_bin(s, 0, on_alert, &al);
	}
	assert_int_equal(al.n, 0);
	assert_int_equal(kz_surge_bins(s), 300);
	kz_surge_free(s);
}

static void test_surge_found_in_its_bin(void **state)
{
	(void)state;
	struct kz_surge *s = detector();
	struct alerts al = { .n = 0 };
	uint64_t st = 12345;
	uint32_t key = kz_portkey(KZ_TPROTO_TCP, 37215);
	for (int bin = 0; bin < 60; bin++) {
		/* 8 new sources a bin, then 68 from bin 40 to 49. */
		uint32_t x = poisson(8, &st) + (bin >= 40 && bin < 50 ? 60 : 0);
		kz_surge_set(s, key, x);
		kz_surge_bin(s, 0, on_alert, &al);
		if (bin == 39)
			assert_int_equal(al.n, 0);
		if (bin == 40) {
			assert_int_equal(al.n, 1);
			assert_int_equal(al.a[0].key, key);
			assert_true(al.a[0].baseline > 5 && al.a[0].baseline < 11);
			assert_true(al.a[0].z > 4);
			printf("surge: %u sources on a baseline of %.1f (sd %.1f, z %.1f)\n",
			       al.a[0].sources, al.a[0].baseline, al.a[0].sd, al.a[0].z);
		}
	}
	/* The jump itself widens the baseline's spread: one alert, at the
	 * onset, and none while the surge lasts or after it. */
	assert_int_equal(al.n, 1);
	kz_surge_free(s);
}

static void test_guards(void **state)
{
	(void)state;
	struct alerts al = { .n = 0 };
	/* Warm-up: a jump in bin 5 does not alert. */
	struct kz_surge *s = detector();
	for (int bin = 0; bin < 10; bin++) {
		kz_surge_set(s, 1, bin == 5 ? 500 : 2);
		kz_surge_bin(s, 0, on_alert, &al);
	}
	assert_int_equal(al.n, 0);
	kz_surge_free(s);

	/* A port never seen before: 9 sources is not a surge, 10 is (a
	 * baseline of 0 makes any count improbable). */
	s = detector();
	for (int bin = 0; bin < 12; bin++)
		kz_surge_bin(s, 0, on_alert, &al);
	kz_surge_set(s, 2, 9);
	kz_surge_bin(s, 0, on_alert, &al);
	assert_int_equal(al.n, 0);
	kz_surge_set(s, 3, 10);
	kz_surge_bin(s, 0, on_alert, &al);
	assert_int_equal(al.n, 1);
	assert_int_equal(al.a[0].key, 3);
	kz_surge_free(s);

	/* A flat baseline of 20: 59 sources is under 3x, 60 is not; z is
	 * huge in both (the sd floor is 1). */
	al.n = 0;
	s = detector();
	for (int bin = 0; bin < 30; bin++) {
		kz_surge_set(s, 4, 20);
		kz_surge_bin(s, 0, on_alert, &al);
	}
	kz_surge_set(s, 4, 59);
	kz_surge_bin(s, 0, on_alert, &al);
	assert_int_equal(al.n, 0);
	kz_surge_free(s);
	s = detector();
	for (int bin = 0; bin < 30; bin++) {
		kz_surge_set(s, 4, 20);
		kz_surge_bin(s, 0, on_alert, &al);
	}
	kz_surge_set(s, 4, 60);
	kz_surge_bin(s, 0, on_alert, &al);
	assert_int_equal(al.n, 1);
	kz_surge_free(s);

	/* A noisy baseline: 3x and 10 sources, but z below 4. */
	al.n = 0;
	s = detector();
	for (int bin = 0; bin < 40; bin++) {
		kz_surge_set(s, 5, bin % 2 ? 0 : 12);
		kz_surge_bin(s, 0, on_alert, &al);
	}
	double mean, sd;
	kz_surge_baseline(s, 5, &mean, &sd);
	kz_surge_set(s, 5, (uint32_t)(mean + 3.5 * sd));
	kz_surge_bin(s, 0, on_alert, &al);
	assert_int_equal(al.n, 0);
	kz_surge_free(s);
}

static void test_poisson_guard(void **state)
{
	(void)state;
	assert_true(fabs(kz_poisson_tail(3, 10) - 0.0011025) < 1e-6);
	assert_true(kz_poisson_tail(2.5, 0) == 1);
	assert_true(kz_poisson_tail(0, 3) == 0);
	assert_true(kz_poisson_tail(10, 60) < 1e-20);
	/* A port averaging 2.5 sources a bin: 10 is 4x and z > 4, but not
	 * rare enough for a Poisson count; 16 is. */
	struct alerts al = { .n = 0 };
	struct kz_surge *s = detector();
	for (int bin = 0; bin < 60; bin++) {
		kz_surge_set(s, 9, bin % 2 ? 2 : 3);
		kz_surge_bin(s, 0, on_alert, &al);
	}
	kz_surge_set(s, 9, 10);
	kz_surge_bin(s, 0, on_alert, &al);
	assert_int_equal(al.n, 0);
	kz_surge_free(s);
	s = detector();
	for (int bin = 0; bin < 60; bin++) {
		kz_surge_set(s, 9, bin % 2 ? 2 : 3);
		kz_surge_bin(s, 0, on_alert, &al);
	}
	kz_surge_set(s, 9, 16);
	kz_surge_bin(s, 0, on_alert, &al);
	assert_int_equal(al.n, 1);
	assert_true(al.a[0].p < 1e-7);
	kz_surge_free(s);
}

static void test_gaps_are_empty_bins(void **state)
{
	(void)state;
	struct kz_surge *s = detector();
	struct alerts al = { .n = 0 };
	for (int bin = 0; bin < 20; bin++) {
		kz_surge_set(s, 7, 40);
		kz_surge_bin(s, 0, on_alert, &al);
	}
	double before, after, sd;
	kz_surge_baseline(s, 7, &before, &sd);
	/* Ten silent bins (no packets at all), then a bin with 40 again. */
	kz_surge_set(s, 7, 40);
	kz_surge_bin(s, 10, on_alert, &al);
	assert_int_equal(kz_surge_bins(s), 31);
	kz_surge_baseline(s, 7, &after, &sd);
	/* 0.9^10 of the old level plus this bin's share. */
	double want = before * pow(0.9, 11) + 0.1 * 40;
	assert_true(fabs(after - want) < 0.5);
	kz_surge_free(s);
}

static void test_bad_params(void **state)
{
	(void)state;
	struct kz_surge_params p;
	struct kz_surge *s;
	kz_surge_defaults(&p);
	p.alpha = 0;
	assert_int_equal(kz_surge_new(&p, &s), -EINVAL);
	kz_surge_defaults(&p);
	p.ratio = 0.5;
	assert_int_equal(kz_surge_new(&p, &s), -EINVAL);
}

static void test_portstats(void **state)
{
	(void)state;
	struct kz_portstats ps;
	assert_int_equal(kz_portstats_init(&ps), 0);
	uint32_t k23 = kz_portkey(KZ_TPROTO_TCP, 23), u53 = kz_portkey(KZ_TPROTO_UDP, 53);
	for (uint64_t src = 0; src < 1000; src++) {
		kz_portstats_packet(&ps, k23);
		kz_portstats_packet(&ps, k23);
		kz_portstats_source(&ps, k23, kz_hll_hash_addr(kz_addr_from_v4((uint32_t)src)));
	}
	kz_portstats_packet(&ps, u53);
	kz_portstats_source(&ps, u53, kz_hll_hash_addr(kz_addr_from_v4(7)));
	kz_portstats_source(&ps, u53, kz_hll_hash_addr(kz_addr_from_v4(7)));
	assert_int_equal(ps.ntouched, 2);
	kz_portstats_sort(&ps);
	assert_int_equal(ps.touched[0], k23);
	assert_int_equal(ps.packets[k23], 2000);
	uint64_t u = kz_portstats_sources(&ps, k23);
	assert_true(u >= 990 && u <= 1010);
	assert_int_equal(kz_portstats_sources(&ps, u53), 1);
	kz_portstats_reset(&ps);
	assert_int_equal(ps.ntouched, 0);
	assert_int_equal(ps.packets[k23], 0);
	assert_int_equal(kz_portstats_sources(&ps, k23), 0);
	assert_int_equal(ps.hll_errors, 0);
	kz_portstats_destroy(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_never_alerts),
		cmocka_unit_test(test_surge_found_in_its_bin),
		cmocka_unit_test(test_guards),
		cmocka_unit_test(test_poisson_guard),
		cmocka_unit_test(test_gaps_are_empty_bins),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_portstats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
