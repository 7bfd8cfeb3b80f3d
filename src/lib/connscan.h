/*
 * Connect mode: port probing with ordinary TCP sockets, for users who may
 * not open raw sockets. One epoll loop (STYLE.md 8): a non-blocking
 * connect() per target, a bounded number in flight, and one timeout for
 * every attempt. The kernel sends the SYNs and retransmits them
 * (TCP_SYNCNT); a completed handshake means open, a refusal (RST) closed,
 * silence until the timeout no answer. An open connection is reset at once
 * (SO_LINGER 0): stage 1 only learns that the port answers.
 *
 * The engine only runs attempts; what to try, at what rate, and the scope
 * check before each connect() belong to the caller (scan.c), which calls
 * kz_connscan_start for a target and kz_connscan_poll to collect outcomes.
 * One thread at a time.
 */
#ifndef KZ_CONNSCAN_H
#define KZ_CONNSCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define KZ_CONNSCAN_MAX_INFLIGHT 65536

struct kz_connscan;

struct kz_connscan_config {
	unsigned max_inflight; /* 1..KZ_CONNSCAN_MAX_INFLIGHT */
	unsigned timeout_ms;   /* how long one attempt may wait for an answer */
	unsigned syn_count; /* SYNs the kernel sends per attempt (TCP_SYNCNT + 1); 0: its default */
	bool has_src4, has_src6;
	struct kz_addr src4, src6; /* bind to these when set */
};

enum kz_connscan_outcome {
	KZ_CONN_OPEN,    /* the handshake completed */
	KZ_CONN_CLOSED,  /* refused: a RST came back */
	KZ_CONN_TIMEOUT, /* no answer before the timeout */
	KZ_CONN_ERROR,   /* unreachable, or a local failure (no route, no port) */
};

/* One finished attempt: the target and the caller's tag from start. */
typedef void kz_connscan_fn(void *ctx, struct kz_addr addr, uint16_t port, uint32_t tag,
                            enum kz_connscan_outcome outcome, int err);

/* Makes the engine. Returns 0, -EINVAL or -ENOMEM. */
int kz_connscan_new(const struct kz_connscan_config *cfg, struct kz_connscan **out)
        __attribute__((warn_unused_result));

/* Starts an attempt on (addr, port) with now_ns the caller's monotonic
 * clock. An attempt that ends at once (refused on loopback, no route) is
 * reported through fn before this returns. Returns 0, -EBUSY when
 * max_inflight attempts are running, or -EMFILE / -ENFILE when the process
 * is out of descriptors (nothing started: try again after a poll). */
int kz_connscan_start(struct kz_connscan *cs, struct kz_addr addr, uint16_t port, uint32_t tag,
                      uint64_t now_ns, kz_connscan_fn *fn, void *ctx)
        __attribute__((warn_unused_result));

/* Waits up to timeout_ms for outcomes and reports each through fn, then
 * expires attempts whose time is up (by the clock reading now_ns taken
 * after the wait by the caller's clock function). Returns the number
 * reported or a negative errno. */
int kz_connscan_poll(struct kz_connscan *cs, int timeout_ms, uint64_t (*clock_ns)(void),
                     kz_connscan_fn *fn, void *ctx) __attribute__((warn_unused_result));

/* Attempts running now. */
unsigned kz_connscan_inflight(const struct kz_connscan *cs);

/* Milliseconds until the oldest attempt times out (0 if it has), or -1
 * when none is running; for the caller's wait. */
int kz_connscan_next_timeout_ms(const struct kz_connscan *cs, uint64_t now_ns);

/* Closes every running attempt without reporting it, and frees. */
void kz_connscan_free(struct kz_connscan *cs);

#endif
