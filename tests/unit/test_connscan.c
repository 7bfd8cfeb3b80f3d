/*
 * The connect-mode engine on loopback (127.0.0.1, the only place a unit
 * test may send): a listening port is open, a port nobody listens on is
 * closed, a listener whose accept queue is full drops the SYN so the
 * attempt times out; the in-flight bound is kept; every attempt is
 * reported exactly once with its tag.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "connscan.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A TCP socket on 127.0.0.1 with an ephemeral port; listening if backlog
 * >= 0. Returns the fd and sets *port. */
static int local_socket(int backlog, uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	socklen_t sl = sizeof sin;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

struct seen {
	int count[8];
	enum kz_connscan_outcome outcome[8];
};

static void record(void *ctx, struct kz_addr addr, uint16_t port, uint32_t tag,
                   enum kz_connscan_outcome outcome, int err)
{
	(void)port;
	(void)err;
	struct seen *s = ctx;
	assert_int_equal(kz_addr_v4(addr), 0x7f000001);
	assert_true(tag < 8);
	s->count[tag]++;
	s->outcome[tag] = outcome;
}

static void test_outcomes(void **state)
{
	(void)state;
	uint16_t open_port, closed_port, full_port;
	int open_fd = local_socket(16, &open_port);
	int closed_fd = local_socket(-1, &closed_port); /* bound, not listening */
	int full_fd = local_socket(0, &full_port);
	/* Fill the backlog-0 listener's accept queue with one connection. */
	int filler = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
		                   .sin_port = htons(full_port),
		                   .sin_addr.s_addr = htonl(0x7f000001) };
	assert_int_equal(connect(filler, (struct sockaddr *)&sin, sizeof sin), 0);

	struct kz_connscan_config cfg = { .max_inflight = 3, .timeout_ms = 300, .syn_count = 1 };
	struct kz_connscan *cs;
	assert_int_equal(kz_connscan_new(&cfg, &cs), 0);
	struct seen s;
	memset(&s, 0, sizeof s);
	struct kz_addr lo = kz_addr_from_v4(0x7f000001);
	assert_int_equal(kz_connscan_start(cs, lo, open_port, 0, mono_ns(), record, &s), 0);
	assert_int_equal(kz_connscan_start(cs, lo, closed_port, 1, mono_ns(), record, &s), 0);
	assert_int_equal(kz_connscan_start(cs, lo, full_port, 2, mono_ns(), record, &s), 0);
	/* Loopback settles open and closed inside connect() or on the first
	 * poll; the full listener's attempt stays until its timeout. */
	assert_true(kz_connscan_inflight(cs) <= 3);
	int guard = 0;
	while (kz_connscan_inflight(cs) > 0 && guard++ < 100)
		assert_true(kz_connscan_poll(cs, 50, mono_ns, record, &s) >= 0);
	assert_int_equal(kz_connscan_inflight(cs), 0);
	assert_int_equal(kz_connscan_next_timeout_ms(cs, mono_ns()), -1);
	for (int t = 0; t < 3; t++)
		assert_int_equal(s.count[t], 1);
	assert_int_equal(s.outcome[0], KZ_CONN_OPEN);
	assert_int_equal(s.outcome[1], KZ_CONN_CLOSED);
	assert_int_equal(s.outcome[2], KZ_CONN_TIMEOUT);
	kz_connscan_free(cs);
	close(filler);
	close(open_fd);
	close(closed_fd);
	close(full_fd);
}

/* The bound: with one slot taken by a silent attempt, a second start is
 * refused with -EBUSY and nothing is reported for it. */
static void test_bound(void **state)
{
	(void)state;
	uint16_t full_port;
	int full_fd = local_socket(0, &full_port);
	int filler = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
		                   .sin_port = htons(full_port),
		                   .sin_addr.s_addr = htonl(0x7f000001) };
	assert_int_equal(connect(filler, (struct sockaddr *)&sin, sizeof sin), 0);
	struct kz_connscan_config cfg = { .max_inflight = 1, .timeout_ms = 200, .syn_count = 1 };
	struct kz_connscan *cs;
	assert_int_equal(kz_connscan_new(&cfg, &cs), 0);
	struct seen s;
	memset(&s, 0, sizeof s);
	struct kz_addr lo = kz_addr_from_v4(0x7f000001);
	assert_int_equal(kz_connscan_start(cs, lo, full_port, 0, mono_ns(), record, &s), 0);
	assert_int_equal(kz_connscan_inflight(cs), 1);
	assert_int_equal(kz_connscan_start(cs, lo, full_port, 1, mono_ns(), record, &s), -EBUSY);
	assert_int_equal(s.count[1], 0);
	kz_connscan_free(cs);
	close(filler);
	close(full_fd);
	struct kz_connscan_config bad = { .max_inflight = 0, .timeout_ms = 1 };
	assert_int_equal(kz_connscan_new(&bad, &cs), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
