/*
 * Login protocol plug-ins for the survey's stage-2 engine (login_engine.h):
 * one const struct kz_login_proto per protocol, filled with designated
 * initialisers, like ZMap's probe modules (STYLE.md 2). Telnet is
 * login_telnet.c; SSH and HTTP plug in the same way.
 *
 * THE CONTRACT (the engine relies on every line of it)
 *
 * A plug-in is a socket-free, clock-free state machine per service, as
 * login.h describes: the engine reports events with the current time (ms,
 * monotonic) and gets back a struct kz_login_step. The engine owns every
 * socket: it opens each connection itself, after the scope check, at the
 * time the step allows and with the engine's pacing; it closes it. A
 * plug-in never calls socket(), connect() or close() on the engine's
 * descriptor, never resolves a name and never follows a redirect to
 * another host: a new connection is only ever a CONNECT step, to the same
 * address and port.
 *
 * Per service the engine reserves state_size bytes (aligned for any type,
 * zeroed), then calls:
 *
 *   init(state, svc)   once; svc is borrowed until release. Returns 0, or a
 *                      negative errno: the service is then reported with
 *                      status error and release is still called.
 *   start(state, now)  once; the first step must be CONNECT.
 *   then, as the steps ask:
 *     CONNECT  the engine drops the current connection (discarding pending
 *              output), opens a new one no earlier than step.at, and calls
 *              connected(state, fd, now) or connect_failed(state, -errno,
 *              now). If neither has happened by step.deadline, the attempt
 *              is abandoned and tick(state, now) is called. A target the
 *              scope refuses is never connected to: the engine ends the
 *              service there (release, no result, no report).
 *     IO       the engine keeps the connection and calls tick at
 *              step.deadline unless an event comes first.
 *     DONE     the engine closes the connection and reads result().
 *   release(state) exactly once at the end, also when the engine abandons
 *   the service before DONE (the survey was stopped): wipe every copy of a
 *   credential (explicit_bzero) and free what init allocated.
 *
 * Every step must carry a deadline: a step without one would let a device
 * hold a connection slot for ever, so the engine treats a deadline of 0 as
 * "now + 1 s" and logs it as a plug-in bug.
 *
 * Two ways to move bytes (io):
 *
 *   KZ_LOGIN_IO_BYTES  the engine reads and writes. It calls input() with
 *     every chunk read (borrowed for the call) and closed() on EOF or a
 *     reset; it writes output() whenever the plug-in has bytes pending and
 *     calls consume() with what the kernel took (a short write leaves the
 *     rest pending). Bytes read per connection are capped by the engine at
 *     svc->max_conn_bytes: past the cap the engine stops reading and calls
 *     closed(). connected() may ignore its fd. For protocols we parse by
 *     hand: telnet, HTTP (an incremental response parser over input()).
 *
 *   KZ_LOGIN_IO_FD  the plug-in reads and writes the connected descriptor
 *     itself: for protocols whose library wants a socket (SSH over libssh
 *     in non-blocking mode). connected() hands the fd over, borrowed: the
 *     engine still owns it, polls it, and closes it. An IO step's `events`
 *     (KZ_LOGIN_EV_READ/WRITE) says what to wait for, and the engine calls
 *     ready(state, events, now) when the descriptor is ready (an error or
 *     a hang-up is reported as readable, so the plug-in's own read sees
 *     it). A library that insists on owning the descriptor (libssh with
 *     SSH_OPTIONS_FD closes it in ssh_free) gets a dup(): before returning
 *     CONNECT or DONE, and in release, the plug-in must have closed its
 *     dup, because an epoll registration lives as long as any duplicate.
 *     The byte cap is the plug-in's to keep (libssh reads on its own).
 *
 * Why non-blocking descriptors and not a pool of threads with blocking
 * library calls (the other way to run libssh): the engine must open every
 * connection itself so that the scope check stays at one place; a blocking
 * ssh_connect would open its own. A pool of N threads caps the concurrency
 * at N, and the survey's wall time is set by its slowest devices (tens of
 * seconds per attempt), so the pool would have to be as large as the
 * concurrency (thousands of threads) to keep up. And every timeout stays in
 * the engine's one timer heap, so a stalled key exchange is cut off like a
 * stalled telnet prompt. libssh supports this: ssh_set_blocking(session,
 * 0), SSH_AGAIN from ssh_connect, SSH_AUTH_AGAIN from ssh_userauth_password
 * and ssh_userauth_kbdint, ssh_get_poll_flags for what to wait for.
 *
 * result() may be called once a step said DONE (and, when the service is
 * abandoned, before release); the pointers in the outcome stay valid until
 * release. The engine never calls a plug-in from two threads at once; state
 * of different services is independent, so plug-ins need no locks, and the
 * credential list is immutable.
 */
#ifndef KZ_LOGIN_PROTO_H
#define KZ_LOGIN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "creds.h"
#include "login.h"

enum kz_login_io {
	KZ_LOGIN_IO_BYTES = 0,
	KZ_LOGIN_IO_FD,
};

/* One service as the engine hands it to a plug-in (borrowed until
 * release). */
struct kz_login_service {
	struct kz_addr addr;
	uint16_t port;
	enum kz_login_app app;
	const struct kz_creds *creds; /* the whole list; order with kz_creds_order */
	unsigned max_attempts;        /* pairs to try; 0: every pair allowed for app */
	uint64_t seed;                /* per-service random bits (control pairs, nonces) */
	uint32_t max_conn_bytes;      /* input per connection */
	const void *config;           /* the protocol's own settings (engine config), or NULL */
};

/* The result of one service, filled by result(). Pointers borrowed from the
 * plug-in's state until release. */
struct kz_login_outcome {
	enum kz_login_status status;
	int pair;            /* login-possible: index into kz_creds_pairs, else -1 */
	bool password_asked; /* login-possible: false if the device never asked one */
	unsigned attempts;   /* pairs tried (control pairs not counted) */
	unsigned connections;
	const char *reason;      /* static text: why this status */
	const uint8_t *banner;   /* what the device showed before any credential */
	size_t banner_len;       /* bytes at banner (at most KZ_BANNER_MAX are recorded) */
	uint64_t banner_seen;    /* bytes the device sent there; > banner_len: truncated */
	const uint8_t *evidence; /* the output the status was judged on, or NULL */
	size_t evidence_len;
	const char *detail; /* protocol-specific, for extra.login_detail: the
	                       HTTP path, the SSH method ("password",
	                       "keyboard-interactive"); NULL if none */
};

/* A protocol plug-in. All members are required for its io kind; the ones
 * the other kind uses may be NULL (input/closed/output/consume for
 * KZ_LOGIN_IO_BYTES, ready for KZ_LOGIN_IO_FD). */
struct kz_login_proto {
	const char *name; /* "telnet", "ssh", "http": protocol.application */
	enum kz_login_app app;
	enum kz_login_io io;
	size_t state_size;

	int (*init)(void *state, const struct kz_login_service *svc);
	struct kz_login_step (*start)(void *state, uint64_t now);
	struct kz_login_step (*connected)(void *state, int fd, uint64_t now);
	struct kz_login_step (*connect_failed)(void *state, int err, uint64_t now);
	struct kz_login_step (*tick)(void *state, uint64_t now);

	/* KZ_LOGIN_IO_BYTES */
	struct kz_login_step (*input)(void *state, const uint8_t *data, size_t len, uint64_t now);
	struct kz_login_step (*closed)(void *state, uint64_t now);
	const uint8_t *(*output)(const void *state, size_t *len);
	void (*consume)(void *state, size_t n);

	/* KZ_LOGIN_IO_FD */
	struct kz_login_step (*ready)(void *state, unsigned events, uint64_t now);

	void (*result)(const void *state, struct kz_login_outcome *out);
	void (*release)(void *state);
};

/* The telnet plug-in (login_telnet.c): the NOTICE-style machine of
 * telnet_login.h with the list's vendor-first order. Its config may be
 * NULL or a struct kz_telnet_login_params whose timing fields replace the
 * defaults (creds, order, max_attempts and control_seed are the engine's). */
extern const struct kz_login_proto kz_login_proto_telnet;

#endif
