/*
 * Survey stage 2: the engine that runs login checks over real sockets.
 *
 * One thread, one epoll loop, one login state machine per service (a
 * protocol plug-in, login_proto.h), non-blocking kernel TCP sockets (the
 * kernel's stack, not a user-space one: REFERENCE.md, masscan's RST
 * problem), one timer per service in a heap, so that every state has a
 * deadline and the loop sleeps exactly until the next one.
 *
 * Input is a queue of targets (login_targets.h). Any thread may submit:
 * stage 1's on_hit callback (from its receive thread) or a loader of a
 * --targets-file; kz_login_engine_close_input says no more will come. The
 * queue has a hard cap; a submit beyond it fails and is counted.
 *
 * Limits, each with its default and the reason in docs/survey-login.md:
 *   - concurrency: services in flight at once (each holds at most one
 *     connection), default 1,000;
 *   - per-host: services of one address in flight at once, default 1
 *     (IoT devices are weak: their pairs are tried one at a time, and a
 *     second port of the same device waits);
 *   - pacing: at least pace_ms between two connection openings to one
 *     address, default 500 ms;
 *   - a hard cap on bytes read per connection (default 2 MiB), on top of
 *     each plug-in's own;
 *   - max_attempts: pairs per service (0, the default, is every pair of the
 *     list allowed for the protocol).
 * Safety: kz_scope_allows is asked at the one place a connection is opened
 * (do_connect in login_engine.c), for every connection including
 * reconnects; a target outside the scope is never connected to and is
 * counted, not reported.
 *
 * Output: one kz_login_report per service, through the on_result callback,
 * as each service finishes, from the engine's thread.
 */
#ifndef KZ_LOGIN_ENGINE_H
#define KZ_LOGIN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "creds.h"
#include "login.h"
#include "login_proto.h"
#include "login_targets.h"
#include "scope.h"

#define KZ_LOGIN_DEFAULT_CONCURRENCY 1000
#define KZ_LOGIN_DEFAULT_PER_HOST    1
#define KZ_LOGIN_DEFAULT_PACE_MS     500
#define KZ_LOGIN_DEFAULT_CONN_BYTES  (2u << 20)
#define KZ_LOGIN_DEFAULT_MAX_QUEUE   (1u << 20)
#define KZ_LOGIN_MAX_CONCURRENCY     200000
/* Descriptors kept free for the program (files, logs, the epoll itself)
 * when the concurrency is checked against RLIMIT_NOFILE. */
#define KZ_LOGIN_FD_RESERVE 64

/* One finished service. Everything borrowed for the call. */
struct kz_login_report {
	const struct kz_login_target *target;
	const char *application;                /* the plug-in's name */
	const struct kz_login_outcome *outcome; /* NULL when unsupported */
	bool unsupported; /* no plug-in for the target's application: not checked */
	bool interrupted; /* abandoned by kz_login_engine_stop: outcome says timeout */
	int64_t started;  /* wall clock, ms since the epoch */
	int64_t decided;  /* wall clock, ms: the event that settled the status */
	bool has_local;   /* our end of the last connection, as the kernel chose it */
	struct kz_addr local;
	uint16_t local_port;
	uint64_t bytes_in, bytes_out;
};

typedef void kz_login_result_fn(void *ctx, const struct kz_login_report *r);

/* Counters, a consistent snapshot (kz_login_engine_stats). */
struct kz_login_engine_stats {
	uint64_t submitted; /* targets accepted into the queue */
	uint64_t dropped;   /* submits refused: queue full or input closed */
	uint64_t queued;    /* waiting: in the queue or behind a busy host */
	uint64_t active;    /* services in flight */
	uint64_t peak_active;
	uint64_t done;  /* services reported */
	uint64_t found; /* login-possible or no-auth */
	uint64_t by_status[KZ_LOGIN_ERROR + 1];
	uint64_t unsupported;    /* targets of an application with no plug-in */
	uint64_t interrupted;    /* services abandoned by a stop */
	uint64_t not_started;    /* targets dropped from the queue by a stop */
	uint64_t scope_refusals; /* connections the scope check refused */
	uint64_t connections;    /* connect() calls */
	uint64_t connect_failures;
	uint64_t capped; /* connections cut at the byte cap */
	uint64_t bytes_in, bytes_out;
	uint64_t elapsed_ms; /* since kz_login_engine_run began */
	bool input_closed;
	unsigned stopping; /* 0, 1 (no new services), 2 (abandon all) */
};

typedef void kz_login_progress_fn(void *ctx, const struct kz_login_engine_stats *st);

/* Clocks, for tests: monotonic milliseconds and wall-clock milliseconds
 * since the epoch. */
typedef uint64_t kz_login_clock_fn(void *ctx);
typedef int64_t kz_login_wall_fn(void *ctx);

struct kz_login_engine_config {
	const struct kz_scope *scope; /* required; borrowed, must outlive the engine */
	const struct kz_creds *creds; /* required; borrowed likewise */
	/* Plug-ins by enum kz_login_app; NULL: targets of that application are
	 * reported unsupported without a connection. */
	const struct kz_login_proto *protos[3];
	const void *proto_config[3]; /* each plug-in's own settings, or NULL */
	unsigned concurrency;        /* 0: KZ_LOGIN_DEFAULT_CONCURRENCY */
	unsigned per_host;           /* 0: KZ_LOGIN_DEFAULT_PER_HOST */
	uint32_t pace_ms;            /* UINT32_MAX: KZ_LOGIN_DEFAULT_PACE_MS; 0: none */
	unsigned max_attempts;       /* 0: every pair */
	uint32_t max_conn_bytes;     /* 0: KZ_LOGIN_DEFAULT_CONN_BYTES */
	size_t max_queue;            /* 0: KZ_LOGIN_DEFAULT_MAX_QUEUE */
	bool has_source;             /* bind connections to this local address */
	struct kz_addr source;
	bool has_seed; /* tests: a fixed seed; else getrandom */
	uint64_t seed;
	kz_login_result_fn *on_result;     /* required */
	kz_login_progress_fn *on_progress; /* about once a second; may be NULL */
	void *ctx;
	/* Tests only. NULL: CLOCK_MONOTONIC and CLOCK_REALTIME. max_wait_ms
	 * caps one epoll_wait (0: no cap beyond the next deadline and the
	 * progress tick; negative: never sleep), so that a fake clock can move
	 * faster than real time. */
	kz_login_clock_fn *clock;
	kz_login_wall_fn *wall;
	void *clock_ctx;
	int max_wait_ms;
};

struct kz_login_engine;

/* Fills cfg with the defaults (and no scope, list or callbacks). */
void kz_login_engine_defaults(struct kz_login_engine_config *cfg);

/* Creates an engine: the epoll instance, the wake-up eventfd, the timer
 * heap for the concurrency. The concurrency is lowered, with a warning,
 * when RLIMIT_NOFILE cannot hold it (call kz_login_raise_nofile first).
 * Returns 0, -EINVAL (logged: what is missing or out of range), -ENOMEM,
 * or a negative errno of epoll_create1/eventfd. */
int kz_login_engine_new(const struct kz_login_engine_config *cfg, struct kz_login_engine **out)
        __attribute__((warn_unused_result));

/* Queues one target (copied). Any thread. Returns 0, -ENOBUFS when the
 * queue is full, or -ESHUTDOWN after close_input or a stop; both counted
 * in `dropped`. */
int kz_login_engine_submit(struct kz_login_engine *e, const struct kz_login_target *t)
        __attribute__((warn_unused_result));

/* No more targets will be submitted: run returns once the queue is empty
 * and every service has finished. Any thread. */
void kz_login_engine_close_input(struct kz_login_engine *e);

/* Runs the loop until the input is closed and everything is done, or a
 * stop ends it. Returns 0, or a negative errno when epoll itself failed
 * (logged). Call from one thread; results and progress are called from it. */
int kz_login_engine_run(struct kz_login_engine *e) __attribute__((warn_unused_result));

/* Stops: the first call starts no new service (queued targets are dropped
 * and counted) and lets those in flight finish; the second abandons those
 * too (each reported interrupted, with status timeout). Async-signal-safe;
 * any thread. */
void kz_login_engine_stop(struct kz_login_engine *e);

/* A snapshot of the counters. Any thread. */
void kz_login_engine_stats(struct kz_login_engine *e, struct kz_login_engine_stats *out);

/* The concurrency in effect (after the RLIMIT_NOFILE check). */
unsigned kz_login_engine_concurrency(const struct kz_login_engine *e);

/* Frees the engine; services still in flight are released without a
 * report. */
void kz_login_engine_free(struct kz_login_engine *e);

/* The local address the kernel would connect from to reach addr (a UDP
 * socket's connect() only looks the route up: nothing is sent). For the
 * records' extra.scanner_ip when a service never had a connection of its
 * own. Returns 0 or a negative errno (-ENETUNREACH: no route). */
int kz_login_route_source(struct kz_addr addr, struct kz_addr *out)
        __attribute__((warn_unused_result));

/* Raises the soft RLIMIT_NOFILE towards want + KZ_LOGIN_FD_RESERVE (at most
 * the hard limit) and returns the soft limit now in force. For programs:
 * a library does not change process limits on its own. */
unsigned long kz_login_raise_nofile(unsigned long want);

#endif
