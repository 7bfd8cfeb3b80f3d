/*
 * The timer heap against a brute-force model: random arms, moves, cancels
 * and pops, checking after each step that the earliest timer and every
 * timer's armed state match the model; the capacity limit; and pops that
 * come out in deadline order.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "timerheap.h"

#define N 200

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void check_model(const struct kz_timerheap *h, struct kz_timer *t, const bool *armed,
                        const uint64_t *when)
{
	size_t n = 0;
	uint64_t min = UINT64_MAX;
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(kz_timer_armed(&t[i]), armed[i]);
		if (armed[i]) {
			n++;
			assert_int_equal(t[i].when, when[i]);
			if (when[i] < min)
				min = when[i];
		}
	}
	assert_int_equal(kz_timerheap_size(h), n);
	struct kz_timer *top = kz_timerheap_peek(h);
	if (n == 0)
		assert_null(top);
	else
		assert_int_equal(top->when, min);
}

static void random_ops(void **state)
{
	(void)state;
	struct kz_timerheap h;
	assert_int_equal(kz_timerheap_init(&h, N), 0);
	static struct kz_timer t[N];
	static bool armed[N];
	static uint64_t when[N];
	uint64_t now = 0;
	for (int step = 0; step < 20000; step++) {
		size_t i = rng() % N;
		switch (rng() % 4) {
		case 0:
		case 1: /* arm or move, sometimes to the same deadline */
			when[i] = armed[i] && rng() % 8 == 0 ? when[i] : now + rng() % 1000;
			armed[i] = true;
			assert_int_equal(kz_timerheap_set(&h, &t[i], when[i]), 0);
			break;
		case 2:
			kz_timerheap_cancel(&h, &t[i]);
			armed[i] = false;
			break;
		case 3: {
			now += rng() % 50;
			struct kz_timer *p;
			uint64_t last = 0;
			while ((p = kz_timerheap_pop_due(&h, now)) != NULL) {
				size_t k = (size_t)(p - t);
				assert_true(armed[k]);
				assert_true(p->when <= now);
				assert_true(p->when >= last);
				last = p->when;
				armed[k] = false;
			}
			break;
		}
		}
		check_model(&h, t, armed, when);
	}
	kz_timerheap_fini(&h);
}

static void capacity(void **state)
{
	(void)state;
	struct kz_timerheap h;
	struct kz_timer t[3] = { { 0, 0 } };
	assert_int_equal(kz_timerheap_init(&h, 2), 0);
	assert_int_equal(kz_timerheap_set(&h, &t[0], 5), 0);
	assert_int_equal(kz_timerheap_set(&h, &t[1], 3), 0);
	assert_int_equal(kz_timerheap_set(&h, &t[2], 1), -ENOSPC);
	assert_false(kz_timer_armed(&t[2]));
	/* Moving an armed timer needs no room. */
	assert_int_equal(kz_timerheap_set(&h, &t[0], 1), 0);
	assert_ptr_equal(kz_timerheap_peek(&h), &t[0]);
	assert_null(kz_timerheap_pop_due(&h, 0));
	assert_ptr_equal(kz_timerheap_pop_due(&h, 1), &t[0]);
	assert_int_equal(kz_timerheap_set(&h, &t[2], 4), 0);
	kz_timerheap_cancel(&h, &t[1]);
	kz_timerheap_cancel(&h, &t[1]); /* not armed: nothing happens */
	assert_ptr_equal(kz_timerheap_pop_due(&h, 100), &t[2]);
	assert_null(kz_timerheap_pop_due(&h, 100));
	kz_timerheap_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_ops),
		cmocka_unit_test(capacity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
