/*
 * The hit hand-off: FIFO order across a producer and a consumer thread with
 * a queue much smaller than the stream (so the producer waits), nothing
 * lost or repeated, and close() lets the consumer drain and stop.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hitqueue.h"

enum { N = 200000 };

static void *producer(void *arg)
{
	struct kz_hitqueue *q = arg;
	for (uint32_t i = 0; i < N; i++) {
		struct kz_hitqueue_item it = { .addr = kz_addr_from_v4(i), .port_index = i };
		kz_hitqueue_push(q, &it);
	}
	kz_hitqueue_close(q);
	return NULL;
}

static void test_fifo(void **state)
{
	(void)state;
	struct kz_hitqueue *q;
	assert_int_equal(kz_hitqueue_new(64, &q), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, producer, q), 0);
	struct kz_hitqueue_item it;
	uint32_t next = 0;
	while (kz_hitqueue_pop(q, &it)) {
		assert_int_equal(it.port_index, next);
		assert_int_equal(kz_addr_v4(it.addr), next);
		next++;
	}
	pthread_join(t, NULL);
	assert_int_equal(next, N);
	/* 200,000 items through 64 slots: the producer had to wait. */
	assert_true(kz_hitqueue_waits(q) > 0);
	assert_false(kz_hitqueue_pop(q, &it));
	kz_hitqueue_free(q);
	assert_int_equal(kz_hitqueue_new(0, &q), -EINVAL);
}

/* Held: once half full, the consumer takes the whole burst, not one item;
 * after the release it takes what is left below half. */
static void test_hold(void **state)
{
	(void)state;
	struct kz_hitqueue *q;
	assert_int_equal(kz_hitqueue_new(8, &q), 0);
	kz_hitqueue_hold(q, true);
	struct kz_hitqueue_item it = { .port_index = 0 };
	for (uint32_t i = 0; i < 4; i++) {
		it.port_index = i;
		kz_hitqueue_push(q, &it);
	}
	for (uint32_t i = 0; i < 4; i++) {
		assert_true(kz_hitqueue_pop(q, &it));
		assert_int_equal(it.port_index, i);
	}
	for (uint32_t i = 4; i < 7; i++) {
		it.port_index = i;
		kz_hitqueue_push(q, &it);
	}
	kz_hitqueue_hold(q, false);
	for (uint32_t i = 4; i < 7; i++) {
		assert_true(kz_hitqueue_pop(q, &it));
		assert_int_equal(it.port_index, i);
	}
	kz_hitqueue_close(q);
	assert_false(kz_hitqueue_pop(q, &it));
	kz_hitqueue_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
