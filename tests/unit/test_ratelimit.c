/*
 * The rate schedule with an injected clock (no sleeping): packet k is due at
 * exactly start + k/rate; a caller that wakes up at random times still sends
 * exactly rate * elapsed packets; bursts are capped and what is given up is
 * counted; the wait until the next packets is exact; huge rates and long
 * runs do not overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit.h"

#define SEC KZ_NSEC_PER_SEC

static void test_schedule(void **state)
{
	(void)state;
	struct kz_ratelimit rl;
	kz_ratelimit_init(&rl, 1000, 1000000, 5 * SEC);
	/* Packet 0 is due at once, packet 1 one millisecond later. */
	assert_int_equal(kz_ratelimit_take(&rl, 5 * SEC, 10), 1);
	assert_int_equal(kz_ratelimit_take(&rl, 5 * SEC, 10), 0);
	assert_int_equal(kz_ratelimit_wait_ns(&rl, 5 * SEC, 1), 1000000);
	assert_int_equal(kz_ratelimit_take(&rl, 5 * SEC + 999999, 10), 0);
	assert_int_equal(kz_ratelimit_take(&rl, 5 * SEC + 1000000, 10), 1);
	/* Ten milliseconds later: packets 2..11 are due, want caps it. */
	assert_int_equal(kz_ratelimit_take(&rl, 5 * SEC + 11000000, 4), 4);
	assert_int_equal(kz_ratelimit_take(&rl, 5 * SEC + 11000000, 100), 6);
	assert_int_equal(kz_ratelimit_wait_ns(&rl, 5 * SEC + 11000000, 3), 3000000);
	assert_int_equal(kz_ratelimit_due_ns(&rl, 1000), 6 * SEC);
	assert_int_equal(rl.slipped, 0);
	/* A clock reading before the start grants nothing. */
	struct kz_ratelimit late;
	kz_ratelimit_init(&late, 10, 10, 100);
	assert_int_equal(kz_ratelimit_take(&late, 99, 5), 0);
}

/* A rate that does not divide 10^9: due times round up, never early. */
static void test_uneven_rate(void **state)
{
	(void)state;
	struct kz_ratelimit rl;
	kz_ratelimit_init(&rl, 3, 100, 0);
	assert_int_equal(kz_ratelimit_due_ns(&rl, 1), 333333334);
	assert_int_equal(kz_ratelimit_due_ns(&rl, 3), SEC);
	assert_int_equal(kz_ratelimit_take(&rl, 333333333, 10), 1);
	assert_int_equal(kz_ratelimit_take(&rl, 333333334, 10), 1);
	assert_int_equal(kz_ratelimit_take(&rl, SEC, 10), 2);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

/* A sender that wakes at irregular times (0..200 us apart, within the
 * burst) takes exactly what is due: after T seconds it has sent rate * T + 1
 * packets, whatever the rate. */
static void test_exact_average(void **state)
{
	(void)state;
	static const uint64_t rates[] = { 1, 7, 1000, 99991, 100000, 400000, 1000000, 14880952 };
	uint64_t seed = 7;
	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		uint64_t rate = rates[i];
		struct kz_ratelimit rl;
		/* A burst of 1 ms of packets, and at least 200 us of them, so
		 * that the wake-ups below never exceed it. */
		uint64_t burst = rate / 1000 + rate / 5000 + 2;
		kz_ratelimit_init(&rl, rate, burst, 1000);
		uint64_t now = 1000, sent = 0, end = 1000 + 3 * SEC;
		while (now < end) {
			sent += kz_ratelimit_take(&rl, now, UINT64_MAX);
			now += splitmix(&seed) % 200000;
		}
		sent += kz_ratelimit_take(&rl, end, UINT64_MAX);
		assert_int_equal(sent, 3 * rate + 1);
		assert_int_equal(rl.slipped, 0);
	}
}

/* A stall of one second at 1000 pps with a burst of 50: 50 go at once, the
 * other 950 are given up and counted; the schedule after that is exact. */
static void test_burst_cap(void **state)
{
	(void)state;
	struct kz_ratelimit rl;
	kz_ratelimit_init(&rl, 1000, 50, 0);
	assert_int_equal(kz_ratelimit_take(&rl, 0, 100), 1);
	assert_int_equal(kz_ratelimit_take(&rl, SEC, UINT64_MAX), 50);
	assert_int_equal(rl.slipped, 950);
	assert_int_equal(kz_ratelimit_take(&rl, SEC, UINT64_MAX), 0);
	assert_int_equal(kz_ratelimit_wait_ns(&rl, SEC, 1), 1000000);
	assert_int_equal(kz_ratelimit_take(&rl, SEC + 1000000, UINT64_MAX), 1);
	/* Fewer wanted than the burst: the rest stays due. */
	assert_int_equal(kz_ratelimit_take(&rl, SEC + 21000000, 5), 5);
	assert_int_equal(kz_ratelimit_take(&rl, SEC + 21000000, UINT64_MAX), 15);
	assert_int_equal(rl.slipped, 950);
}

/* Ten million packets a second for a year: no overflow in the due times. */
static void test_no_overflow(void **state)
{
	(void)state;
	struct kz_ratelimit rl;
	uint64_t year = UINT64_C(365) * 86400;
	kz_ratelimit_init(&rl, 10000000, 1000, 0);
	assert_int_equal(kz_ratelimit_due_ns(&rl, year * 10000000), year * SEC);
	rl.granted = year * 10000000;
	assert_int_equal(kz_ratelimit_take(&rl, year * SEC, 10), 1);
	assert_int_equal(kz_ratelimit_wait_ns(&rl, year * SEC, 1), 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),      cmocka_unit_test(test_uneven_rate),
		cmocka_unit_test(test_exact_average), cmocka_unit_test(test_burst_cap),
		cmocka_unit_test(test_no_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
