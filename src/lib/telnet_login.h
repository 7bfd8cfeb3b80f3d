/*
 * The telnet login check of one service: NOTICE-style, socket-free and
 * driven by the caller's clock (login.h explains the calling pattern).
 *
 * Per device the machine connects, answers negotiation (telnet.h), waits
 * for a prompt, and tries the caller's pairs in the caller's order, one
 * pair per attempt, reconnecting whenever the device closes or stops
 * answering. When a pair appears to log in (a shell prompt at the end of the
 * output after the password), it sends nothing more, reconnects, and tries a
 * deliberately wrong control pair: if that logs in too the device accepts
 * anything (accepts-any), otherwise the pair is reported (login-possible).
 * A shell before any credential is no-auth; another protocol is not-telnet.
 * docs/telnet-login.md gives every rule and default with its reason;
 * docs/devsim-spec.md the device behaviours it is tested against.
 *
 * The machine is a caller-allocated struct (about 7 KiB, no allocation):
 * the survey embeds one per connection slot. Its fields are private.
 */
#ifndef KZ_TELNET_LOGIN_H
#define KZ_TELNET_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"
#include "telnet.h"

/* Longest user or password accepted in a pair (bytes, before escaping). */
#define KZ_TELNET_LOGIN_CRED_MAX 128
/* The banner kept for the record: CONTRACT.md caps extra.banner at 4 KiB. */
#define KZ_TELNET_LOGIN_BANNER_MAX 4096
/* The output line window: the last bytes of the current and previous line,
 * which is all the judgement looks at (a prompt is at the end). */
#define KZ_TELNET_LOGIN_LINE_MAX 256
/* Pending output: negotiation replies (at most 64 × 12 bytes per
 * connection) and credential lines. */
#define KZ_TELNET_LOGIN_OUT_MAX 1536

/* Picks the order of pairs once the banner is known ("vendor defaults chosen
 * from the banner first"). Sets *order to an array of indices into the
 * credential list (borrowed by the machine until it finishes) and returns
 * its length. The banner is borrowed for the call only. */
typedef size_t kz_telnet_login_order_fn(void *ctx, const uint8_t *banner, size_t banner_len,
                                        const uint32_t **order);

/* Tunables, all times in milliseconds. kz_telnet_login_defaults() fills in
 * the documented defaults (docs/telnet-login.md says why each). */
struct kz_telnet_login_params {
	const struct kz_login_cred *creds; /* borrowed until the machine finishes */
	size_t ncreds;
	kz_telnet_login_order_fn *order; /* NULL: the list's own order */
	void *order_ctx;
	unsigned max_attempts;      /* pairs tried per device; 0: all */
	uint64_t control_seed;      /* seeds the random control pair; use getrandom() */
	uint32_t connect_ms;        /* TCP connect */
	uint32_t prompt_ms;         /* connect → first prompt, absolute per connection */
	uint32_t nudge_ms;          /* silence with no prompt before one bare CR LF */
	uint32_t user_ms;           /* username sent → password prompt */
	uint32_t pass_ms;           /* password sent → judgement */
	uint32_t quiet_ms;          /* silence after a prompt before answering it */
	uint32_t success_quiet_ms;  /* silence after a shell prompt before success */
	uint32_t noauth_quiet_ms;   /* silence after a shell prompt before no-auth */
	uint32_t fail_quiet_ms;     /* silence after a failure message before giving up */
	uint32_t reconnect_ms;      /* pause before every reconnect */
	unsigned reconnect_retries; /* refused/promptless reconnects in a row */
	unsigned control_retries;   /* inconclusive control attempts retried */
	unsigned stall_limit;       /* attempts in a row without a byte back */
	uint64_t budget_ms;         /* wall time per device; 0: no cap */
	uint32_t max_conn_bytes;    /* input per connection */
	unsigned max_connections;   /* 0: max_attempts + 16 */
};

/* Why the machine reached its status: for logs and the record's extra. */
struct kz_telnet_login_result {
	enum kz_login_status status;
	int pair;            /* login-possible: index into creds, else -1 */
	bool password_asked; /* login-possible: false if the shell came after the user alone */
	bool password_only;  /* the device asked for a password and no user */
	bool exhausted;      /* login-failed: every pair in the order was tried */
	unsigned attempts;   /* pairs sent (the control pair not counted) */
	unsigned connections;
	const char *reason;      /* static text */
	const uint8_t *banner;   /* first connection's output before any credential */
	size_t banner_len;       /* ≤ KZ_TELNET_LOGIN_BANNER_MAX */
	uint64_t banner_seen;    /* bytes of that output; > banner_len: truncated */
	const uint8_t *evidence; /* the output lines the status was judged on */
	size_t evidence_len;
};

/* The machine. Caller-allocated; private fields. */
struct kz_telnet_login {
	struct kz_telnet_login_params p;
	struct kz_telnet tn;
	const uint32_t *order;
	size_t norder;
	uint8_t phase, role, mode;
	bool ordered, first_conn, conn_prompt_seen, conn_user_prompt_seen, conn_sent, nudged,
	        no_nudge, fail_msg, ever_prompt, ever_data, ever_connected, success_pw_asked,
	        saw_telnet;
	/* device-level */
	uint64_t budget_end;
	size_t next;
	int cur, success;
	unsigned attempts, connections, connect_failures, promptless, control_tries, stalls;
	/* connection-level */
	uint64_t connect_at, last_rx, phase_deadline, conn_bytes, rx_since_send;
	/* the output line window */
	uint8_t line[KZ_TELNET_LOGIN_LINE_MAX], prev[KZ_TELNET_LOGIN_LINE_MAX];
	uint16_t line_len, prev_len;
	bool line_long, line_fresh, prev_long, prev_fresh;
	uint8_t esc, esc_len;
	/* echo of the credential just sent */
	const uint8_t *echo;
	uint16_t echo_len, echo_pos;
	/* not-telnet evidence from the first connection */
	uint16_t examined, controls;
	uint32_t bad_commands;
	/* the control pair */
	char cuser[11], cpass[15];
	uint8_t banner[KZ_TELNET_LOGIN_BANNER_MAX];
	size_t banner_len;
	uint64_t banner_seen;
	bool banner_open;
	uint8_t evidence[2 * KZ_TELNET_LOGIN_LINE_MAX + 1];
	size_t evidence_len;
	uint8_t out[KZ_TELNET_LOGIN_OUT_MAX];
	size_t out_len;
	struct kz_telnet_login_result res;
};

/* What one line of output asks for, as the machine judges the end of the
 * output (ANSI escapes and control bytes must already be removed). */
enum kz_telnet_prompt {
	KZ_TELNET_PROMPT_NONE = 0,
	KZ_TELNET_PROMPT_USER,  /* "login:", "Username:", "Login as:", ... */
	KZ_TELNET_PROMPT_PASS,  /* "Password:", "passwd:", "PIN:", ... */
	KZ_TELNET_PROMPT_SHELL, /* "# ", "$ ", "[admin@host ~]$ ", "<HUAWEI>", ... */
};

/* Classifies one line; exported so that the recognisers can be tested and
 * reused (the same prompts appear on serial consoles and SSH banners). */
enum kz_telnet_prompt kz_telnet_prompt_kind(const uint8_t *line, size_t len);

/* Fills params with the documented defaults and no credentials. */
void kz_telnet_login_defaults(struct kz_telnet_login_params *p);

/* Prepares a machine for one service. Copies params; borrows the credential
 * list (and the order array) until the machine finishes. -EINVAL when a
 * pair is longer than KZ_TELNET_LOGIN_CRED_MAX or a user or password is NULL. */
int kz_telnet_login_init(struct kz_telnet_login *m, const struct kz_telnet_login_params *p)
        __attribute__((warn_unused_result));

/* Starts the check: the first step is always a connect. */
struct kz_login_step kz_telnet_login_start(struct kz_telnet_login *m, uint64_t now);

/* The connection asked for is established. */
struct kz_login_step kz_telnet_login_connected(struct kz_telnet_login *m, uint64_t now);

/* The connection asked for failed (negative errno: -ECONNREFUSED,
 * -ETIMEDOUT, ...). */
struct kz_login_step kz_telnet_login_connect_failed(struct kz_telnet_login *m, int err,
                                                    uint64_t now);

/* Bytes received from the server, any amount (borrowed for the call). */
struct kz_login_step kz_telnet_login_input(struct kz_telnet_login *m, const uint8_t *data,
                                           size_t len, uint64_t now);

/* The server closed the connection (EOF or a reset). */
struct kz_login_step kz_telnet_login_closed(struct kz_telnet_login *m, uint64_t now);

/* Time passed: call at the step's deadline (earlier is harmless). */
struct kz_login_step kz_telnet_login_tick(struct kz_telnet_login *m, uint64_t now);

/* The bytes waiting to be sent (borrowed until the next call), and how many
 * of them the caller has written. Pending bytes hold credentials: the
 * machine wipes them once consumed or discarded. */
const uint8_t *kz_telnet_login_output(const struct kz_telnet_login *m, size_t *len);
void kz_telnet_login_consume(struct kz_telnet_login *m, size_t n);

/* The result: final once a step said DONE. Borrowed from the machine. */
const struct kz_telnet_login_result *kz_telnet_login_result(const struct kz_telnet_login *m);

/* The control pair this machine uses (for tests and the fuzz harness). */
void kz_telnet_login_control_pair(const struct kz_telnet_login *m, const char **user,
                                  const char **pass);

/* Wipes every copy of a credential the machine holds (pending output, the
 * control pair); for a caller abandoning a machine before DONE. */
void kz_telnet_login_wipe(struct kz_telnet_login *m);

#endif
