/*
 * kizuki-devsim: the device simulator of docs/devsim-spec.md.
 *
 * Three parts share this header:
 *   fleet.c   the credential list, the deterministic fleet (fleet-v1: which
 *             behaviour, style, credentials and variant each address gets,
 *             from --seed alone) and the ground-truth writer;
 *   device.c  the styles and behaviours as a per-connection script: what a
 *             device sends on accept, on each line it reads, on each timer;
 *             it only queues timed output operations and never touches a
 *             socket or a clock of its own;
 *   main.c    the program: one epoll loop, listeners, the timer heap, the
 *             socket reads and writes that carry out the queued operations.
 *
 * Invariants: a connection's memory is fixed (struct dsim_conn, about 2 KiB)
 * whatever the device sends or receives: big outputs (1 MiB banners, option
 * floods, drips) are generated from a position, never buffered; every state
 * has a deadline, so nothing waits without a timer.
 */
#ifndef KZ_DEVSIM_H
#define KZ_DEVSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Behaviours B01..B29 of the spec (section 6); 0 is unused. */
enum { DSIM_NBEHAVIOURS = 30 };
/* Styles S01..S16 (section 5); 0 means "no telnet style" (B19-B23). */
enum { DSIM_NSTYLES = 17 };

/* How the device matches a credential (spec section 4 and B26). */
enum dsim_accept {
	DSIM_ACCEPT_NONE = 0,  /* behaviours with a fixed status */
	DSIM_ACCEPT_USER_PASS, /* exactly one user and password */
	DSIM_ACCEPT_PASS,      /* password-only style: one password */
	DSIM_ACCEPT_USER,      /* B26: the user, whose password is empty */
	DSIM_ACCEPT_ANY,       /* B16: anything logs in */
};

/* One pair of the credential list (CONTRACT.md "Files" format). */
struct dsim_cred {
	char *user;
	char *pass;
	bool telnet; /* the protocols field allows telnet (or is absent) */
	bool http;   /* ... allows http */
};

/* The credential list given with --creds; index = 0-based pair index. */
struct dsim_creds {
	struct dsim_cred *v;
	size_t n;
};

/* A device: everything is fixed at start-up from the seed, except the
 * counters and the cool-down time. */
struct dsim_dev {
	uint32_t index;    /* device number inside the prefix */
	uint8_t behaviour; /* 1..29 */
	uint8_t style;     /* 1..16, 0 for non-telnet behaviours */
	uint8_t variant;   /* behaviour-specific (see fleet.c) */
	bool weak;         /* weak credentials (section 4) */
	bool served;       /* false: not part of this run (--no-tarpits) */
	enum dsim_accept accept;
	const char *user; /* borrowed from the list, or own_pass storage */
	size_t user_len;
	const char *pass;
	size_t pass_len;
	int32_t pair;      /* expected pair index, -1 if none */
	char own_pass[17]; /* a strong device's password */
	uint64_t seed;     /* per-device random stream */
	/* counters (spec section 7) */
	uint32_t connections, attempts, control_attempts, logins, violations, cooldowns;
	uint64_t refuse_until; /* B27: ms before which new connections get RST */
	/* fleet-v2's HTTP service (spec section 11); http == 0: none */
	uint8_t http;      /* H01..H09 */
	uint8_t wstyle;    /* W1..W6, 0 for H05 and H07 */
	uint8_t http_slot; /* 0: port 80, 1: port 8080 (spec 11.6) */
	bool http_weak;
	enum dsim_accept http_accept;
	const char *http_user, *http_pass; /* borrowed from the list, or http_own_pass */
	int32_t http_pair;
	char http_own_pass[17];
	uint32_t http_nonces; /* challenges issued (the nonce counter) */
	int32_t http_lst;     /* main.c: the HTTP listener's index, -1 if none */
	uint32_t h_connections, h_attempts, h_control_attempts, h_logins, h_violations, h_cooldowns;
};

/* The fleet: one device per address of the prefix, ports served alike. */
struct dsim_fleet {
	uint32_t base; /* first address, host order */
	uint32_t ndev;
	uint64_t seed;
	struct dsim_dev *dev;
	const struct dsim_creds *creds; /* borrowed */
	uint16_t ports[8];
	size_t nports;
	unsigned version;       /* 1: fleet-v1, 2: fleet-v2 (HTTP devices too) */
	uint16_t http_ports[2]; /* the spec's ports 80 and 8080 */
};

/* --- fleet.c --------------------------------------------------------- */

/* Read a credential list (user:password[:protocols[:vendor-regex]], `\:`
 * and `\\` escapes, '#' comments). Fills *out (caller frees with
 * dsim_creds_free). On error returns a negative errno and writes a
 * "file:line: why" message into why. */
int dsim_creds_load(const char *path, struct dsim_creds *out, char *why, size_t whylen);
void dsim_creds_free(struct dsim_creds *c);

/* Build the fleet for ndev addresses from base with the seed: fleet-v1's
 * telnet devices, and with version 2 fleet-v2's HTTP services too.
 * tarpits=false leaves B19/B20 devices unserved (the demo's fleet). */
int dsim_fleet_build(struct dsim_fleet *f, uint32_t base, uint32_t ndev, uint64_t seed,
                     const struct dsim_creds *creds, bool tarpits, unsigned version);
void dsim_fleet_free(struct dsim_fleet *f);

/* Write the ground truth, one JSON object per served device and port. */
int dsim_truth_write(const struct dsim_fleet *f, FILE *out);

/* The expected status of a device as CONTRACT.md spells it. */
const char *dsim_expected_status(const struct dsim_dev *d);
const char *dsim_behaviour_name(unsigned b);
const char *dsim_style_vendor(unsigned s);
/* The same for the HTTP service (spec section 11). */
const char *dsim_http_expected_status(const struct dsim_dev *d);
const char *dsim_http_behaviour_name(unsigned h);
const char *dsim_http_style_vendor(unsigned w);

/* splitmix64: the counter-based generator of the fleet and the devices. */
uint64_t dsim_mix(uint64_t x);

/* --- device.c -------------------------------------------------------- */

enum dsim_op_kind {
	DSIM_OP_BYTES = 1, /* send ptr[0..len) */
	DSIM_OP_GEN,       /* send generated bytes gen_pos..gen_end of gen */
	DSIM_OP_STATE,     /* switch to state `state` when reached */
	DSIM_OP_CLOSE,     /* close the connection (FIN) */
};

/* Generated streams (position-addressable, so nothing is buffered). */
enum dsim_gen {
	DSIM_GEN_BANNER = 1, /* B10 banner, 78 printable bytes + CR LF per line */
	DSIM_GEN_FLOOD,      /* B06 option flood */
};

struct dsim_op {
	uint8_t kind;
	uint8_t gen;
	uint8_t state;
	uint8_t cuts;     /* B28: times this op was split already */
	uint8_t step_ms;  /* nonzero: send one byte at a time, this far apart */
	bool started;     /* reached the head: ready is set */
	uint32_t delay;   /* ms after the previous op finished */
	const uint8_t *p; /* BYTES: borrowed (static text or the conn's arena) */
	uint32_t len;
	uint32_t gen_pos, gen_end;
	uint64_t ready; /* ms; set when the op reaches the head of the queue */
};

/* Connection states: what the device waits for when its queue is empty. */
enum dsim_state {
	DSIM_ST_NONE = 0, /* running the queue only */
	DSIM_ST_NEG1,     /* B05/S14: answers to the first DOs */
	DSIM_ST_NEG2,     /* B05: answers to the second batch */
	DSIM_ST_NEG3,     /* B05: answer to WONT ECHO / WILL ECHO */
	DSIM_ST_RETURN,   /* B24: a line before the login prompt */
	DSIM_ST_USER,     /* a username line */
	DSIM_ST_PASS,     /* a password line */
	DSIM_ST_SHELL,    /* logged in: any data byte is a violation */
	DSIM_ST_TARPIT,   /* B19: read and discard forever */
	DSIM_ST_DRIP,     /* B20: one byte every 2 s */
	DSIM_ST_BINFRAME, /* B23a: a frame every second */
	DSIM_ST_HTTP,     /* B22: silent until a line */
	DSIM_ST_TLS,      /* B23b: silent until any byte */
	DSIM_ST_SSH,      /* B21: waits, closes after 10 s */
	DSIM_ST_SILENT,   /* B12: after a wrong password, nothing until the idle timeout */
	DSIM_ST_WEB,      /* an HTTP service waiting for a request head */
	DSIM_ST_WEB_DONE, /* an HTTP service that has answered */
};

/* An entry of main.c's timer heap, embedded in what it times. */
struct dsim_timer {
	uint64_t at;
	int32_t idx;  /* position in the heap, -1 when not in it */
	uint8_t kind; /* DSIM_KIND_CONN or DSIM_KIND_LISTENER: what owner is */
	void *owner;
};

/* What an epoll event's pointer points at (the first member of each). */
enum dsim_kind { DSIM_KIND_CONN = 1, DSIM_KIND_LISTENER, DSIM_KIND_SIGNAL };

enum { DSIM_QCAP = 48, DSIM_LINE_MAX = 255, DSIM_ARENA = 1536, DSIM_PENDING_LINES = 4 };

/* Telnet option bookkeeping (device side): what the device offered and
 * which answers came back, for the B05 waits and the violation checks. */
struct dsim_telnet {
	uint8_t st; /* parser state */
	uint8_t verb;
	uint8_t sb_len;
	uint8_t sb[8];
	bool cr;                  /* last data byte was CR: swallow a following LF or NUL */
	uint8_t offered_will[32]; /* bit set: device sent WILL opt */
	uint8_t offered_do[32];   /* bit set: device sent DO opt */
	uint8_t answered_w[32];   /* client sent WILL/WONT opt */
	uint8_t answered_d[32];   /* client sent DO/DONT opt */
	bool naws_agreed;
};

struct dsim_conn {
	uint8_t kind; /* DSIM_KIND_CONN */
	int fd;
	uint32_t id;
	struct dsim_dev *dev; /* borrowed from the fleet */
	uint8_t state;
	uint8_t fails;   /* failures on this connection */
	uint8_t empties; /* empty lines at the username prompt */
	bool closing;    /* close once the queue has drained */
	bool want_out;   /* waiting for EPOLLOUT */
	bool asked_user; /* a username was read on this connection */
	bool control;    /* this connection carried a control credential */
	bool shell;      /* logged in */
	uint8_t user_len;
	char user[DSIM_LINE_MAX + 1];
	/* the line being read */
	uint16_t line_len;
	bool line_long;
	uint8_t line[DSIM_LINE_MAX + 1];
	/* complete lines not yet read by the device */
	uint8_t npending;
	uint16_t pend_len[DSIM_PENDING_LINES];
	uint8_t pend[DSIM_PENDING_LINES][DSIM_LINE_MAX + 1];
	/* output */
	uint8_t qhead, qlen;
	struct dsim_op q[DSIM_QCAP];
	uint16_t arena_used;
	uint8_t arena[DSIM_ARENA];
	struct dsim_telnet tn;
	uint64_t rng;
	uint64_t accepted_ms, last_in_ms, state_since, drip_n;
	bool got_bytes;       /* B23b: something was read */
	uint8_t echo_answers; /* B05: DO/DONT ECHO answers seen */
	uint8_t echo_mark;
	struct dsim_timer tm;           /* main.c */
	const struct dsim_creds *creds; /* borrowed, for the violation checks */
	/* an HTTP connection (spec section 11): the request head, allocated
	 * by http.c for HTTP connections only, freed by main.c */
	bool http;
	bool http_refuse; /* H09: refuse connections for 1 s after this one */
	uint16_t req_len;
	uint8_t *req;
};

/* Start a connection's script at time now (ms). */
void dsim_conn_start(struct dsim_conn *c, uint64_t now);
/* Feed bytes read from the socket. */
void dsim_conn_input(struct dsim_conn *c, const uint8_t *b, size_t n, uint64_t now);
/* Enter a state (an OP_STATE reached the head of the queue). */
void dsim_conn_enter(struct dsim_conn *c, unsigned state, uint64_t now);
/* Advance the script: read pending lines, leave state waits whose time
 * has come. Returns the time the connection next needs attention (or
 * UINT64_MAX) when its queue is empty; main.c runs the queue. */
uint64_t dsim_conn_advance(struct dsim_conn *c, uint64_t now);
/* Bytes [pos, pos+n) of a generated stream; returns how many it wrote. */
size_t dsim_gen_bytes(const struct dsim_conn *c, unsigned gen, uint32_t pos, uint8_t *out,
                      size_t n);
/* Called once for each BYTES op as it reaches the head of the queue: the
 * device notes the options it offers (for the answer checks). */
void dsim_conn_note_output(struct dsim_conn *c, const uint8_t *p, size_t n);
/* A random number from the connection's stream. */
uint32_t dsim_conn_rand(struct dsim_conn *c, uint32_t bound);
/* The output queue, for http.c: borrowed bytes, a copy in the
 * connection's arena, and the close. */
void dsim_queue_bytes(struct dsim_conn *c, uint32_t delay, const void *p, size_t n);
void dsim_queue_copy(struct dsim_conn *c, uint32_t delay, const void *p, size_t n);
void dsim_queue_close(struct dsim_conn *c, uint32_t delay);

/* --- http.c ---------------------------------------------------------- */

enum { DSIM_NHTTP = 10, DSIM_NWSTYLES = 7, DSIM_REQ_MAX = 8192 };

/* An HTTP connection of a device's HTTP service: start, the bytes read,
 * and the next time it needs attention once its queue has drained
 * (UINT64_MAX: none; 0: act now). */
void dsim_http_start(struct dsim_conn *c, uint64_t now);
void dsim_http_input(struct dsim_conn *c, const uint8_t *b, size_t n, uint64_t now);
uint64_t dsim_http_advance(struct dsim_conn *c, uint64_t now);

#endif
