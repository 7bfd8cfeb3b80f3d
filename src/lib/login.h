/*
 * The vocabulary shared by the survey's login checks (telnet now; SSH and
 * HTTP later): the statuses of CONTRACT.md's survey table, a credential
 * pair, and the step a socket-free login machine asks its caller to take.
 *
 * A login machine never touches a socket or a clock. The caller (the
 * survey's epoll loop, a unit test, a fuzzer) tells it what happened —
 * connected, bytes received, peer closed, time passed — with the current
 * time, and after each event gets a struct kz_login_step saying what to do
 * next: open a connection, keep the connection and send the pending bytes,
 * or stop. That keeps every timeout testable without sleeping.
 */
#ifndef KZ_LOGIN_H
#define KZ_LOGIN_H

#include <stddef.h>
#include <stdint.h>

/* CONTRACT.md's survey statuses, except "open", which is stage 1's. */
enum kz_login_status {
	KZ_LOGIN_PENDING = 0,    /* not finished */
	KZ_LOGIN_POSSIBLE,       /* login-possible: a listed pair logs in */
	KZ_LOGIN_NO_AUTH,        /* no-auth: a shell with no credential asked */
	KZ_LOGIN_FAILED,         /* login-failed: prompt seen, no pair worked */
	KZ_LOGIN_ACCEPTS_ANY,    /* accepts-any: a wrong control pair logs in too */
	KZ_LOGIN_NO_PROMPT,      /* no-login-prompt */
	KZ_LOGIN_OTHER_PROTOCOL, /* not-telnet / not-ssh / not-http */
	KZ_LOGIN_TIMEOUT,        /* timeout */
	KZ_LOGIN_ERROR,          /* error */
};

/* The application checked; it picks the name of KZ_LOGIN_OTHER_PROTOCOL. */
enum kz_login_app {
	KZ_LOGIN_APP_TELNET = 0,
	KZ_LOGIN_APP_SSH,
	KZ_LOGIN_APP_HTTP,
};

/* The status as CONTRACT.md spells it in extra.status ("login-possible",
 * "not-telnet", ...). A static string; "pending" for KZ_LOGIN_PENDING. */
const char *kz_login_status_name(enum kz_login_status status, enum kz_login_app app);

/* One ID/password pair. An empty user is a pair for password-only devices
 * (CONTRACT.md, credentials file). Borrowed: the strings belong to the
 * caller's credential list. */
struct kz_login_cred {
	const char *user;
	const char *pass;
};

/* What the caller must do next. */
enum kz_login_want {
	/* Close the current connection if there is one (discarding any pending
	 * output), open a new one at or after `at`, then report the outcome
	 * with the machine's connected / connect-failed call. If it is still
	 * pending at `deadline`, abandon it and call the machine's tick. */
	KZ_LOGIN_WANT_CONNECT = 0,
	/* Keep the connection: send the `send_len` pending bytes, read, and
	 * call the machine's tick at `deadline` if nothing happens first. */
	KZ_LOGIN_WANT_IO,
	/* Finished: close the connection; the result is ready. */
	KZ_LOGIN_WANT_DONE,
};

/* Readiness a machine that drives its own descriptor waits for
 * (kz_login_step.events; login_proto.h, KZ_LOGIN_IO_FD). */
#define KZ_LOGIN_EV_READ  0x1u
#define KZ_LOGIN_EV_WRITE 0x2u

struct kz_login_step {
	enum kz_login_want want;
	uint64_t at;       /* CONNECT: not before this time (ms, caller's clock) */
	uint64_t deadline; /* CONNECT, IO: when to call tick (ms) */
	size_t send_len;   /* IO: bytes waiting in the machine's output */
	unsigned events;   /* IO, descriptor-driving machines only: KZ_LOGIN_EV_*
	                      to wait for; 0 for machines that hand bytes over */
};

#endif
