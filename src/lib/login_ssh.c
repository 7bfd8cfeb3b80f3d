/*
 * The SSH plug-in (login_ssh.h): libssh in non-blocking mode on the
 * engine's descriptor, one state machine per service.
 *
 * A connection goes through
 *
 *   C_IDENT   we read the server's identification ourselves (MSG_PEEK, so
 *             the "SSH-" line stays for libssh; text lines before it, which
 *             RFC 4253 allows, are consumed and kept for the banner). Only
 *             when the first bytes are SSH does libssh get the descriptor,
 *             so a telnet or HTTP service never sees libssh and its bytes
 *             are judged by us: not-ssh. After nudge_ms of silence libssh is
 *             started anyway (it sends our identification, as OpenSSH's
 *             client does at once) to wake servers that wait for the client;
 *   C_KEX     ssh_connect until the key exchange is done;
 *   C_NONE    ssh_userauth_none with the connection's user: success is a
 *             login with no credential, a denial lists the methods;
 *   C_PASS    ssh_userauth_password, or
 *   C_KBD     ssh_userauth_kbdint, answering one password prompt (or a
 *             user prompt and a password prompt, recognised as the telnet
 *             check recognises them); anything else is not answered.
 *
 * libssh's calls return SSH_AGAIN / SSH_AUTH_AGAIN while they wait; the
 * step then asks the engine for the readiness libssh wants
 * (ssh_get_poll_flags), and every state has a deadline. libssh owns a dup()
 * of the descriptor from its first ssh_connect and closes it in ssh_free,
 * which happens before every CONNECT or DONE step and in release
 * (login_proto.h); ssh_disconnect is never called (see lib_close). Its
 * logging goes to kz_debug.
 *
 * Pairs: the list's order for the service (vendor regexes against the
 * identification string), cut to max_attempts, then grouped by user in
 * the order each user first appears: a server takes one user per
 * connection (OpenSSH and dropbear disconnect a client that changes it), so
 * consecutive pairs of one user share a connection until the server
 * disconnects (MaxAuthTries: 6 in OpenSSH, 10 in dropbear). An attempt cut
 * by a disconnect is tried again first thing on the next connection; one
 * cut on the first attempt of a connection counts as a failure (a device
 * that drops the client at every wrong password).
 *
 * Memory per service: this struct (about 5 KiB) and the schedule (4 bytes
 * per pair), plus one libssh session while connected (libssh's buffers,
 * bounded by its packet size cap); the per-connection byte cap is checked
 * against the kernel's count (TCP_INFO), since libssh reads on its own.
 */
#include "login_ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "log.h"
#include "splitmix.h"
#include "telnet_login.h"

#define BANNER_MAX   4096 /* CONTRACT.md: extra.banner is capped at 4 KiB */
#define EVIDENCE_MAX 512
#define DETAIL_MAX   200
#define PEEK_MAX     512
#define IDENT_MAX    255 /* RFC 4253 4.2: the identification line, CR LF included */
#define PRE_LINES    16  /* text lines before the identification */
#define PARTIAL_MS   50  /* re-read a half line this often (it stays readable) */
#define KBD_ROUNDS   4   /* keyboard-interactive questions per attempt */
#define REFUSED_MAX  3   /* refused reconnects in a row: 1, 2, 4 s apart */
#define STALL_MAX    2   /* attempts in a row with no answer */

#define DEFAULT_CONNECT_MS 5000
#define DEFAULT_IDENT_MS   10000
#define DEFAULT_NUDGE_MS   5000
#define DEFAULT_KEX_MS     15000
#define DEFAULT_AUTH_MS    15000
#define DEFAULT_RETRIES    2

/* Algorithms offered beyond libssh's defaults when modern_only is false:
 * devices of ten years ago speak diffie-hellman-group1/14-sha1, ssh-rsa
 * with SHA-1, ssh-dss and CBC ciphers. We protect no secret of ours with
 * them (the pairs are public defaults), and refusing them would only make
 * such devices unreachable to the survey. Names libssh was built without
 * are dropped by libssh itself. */
#define LEGACY_KEX                                                                                 \
	"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,"    \
	"ecdh-sha2-nistp521,diffie-hellman-group18-sha512,diffie-hellman-group16-sha512,"          \
	"diffie-hellman-group-exchange-sha256,diffie-hellman-group14-sha256,"                      \
	"diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1,diffie-hellman-group1-"    \
	"sha1"
#define LEGACY_HOSTKEYS                                                                            \
	"ssh-ed25519,ecdsa-sha2-nistp521,ecdsa-sha2-nistp384,ecdsa-sha2-nistp256,rsa-sha2-512,"    \
	"rsa-sha2-256,ssh-rsa,ssh-dss"
#define LEGACY_CIPHERS                                                                             \
	"chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,"  \
	"aes192-ctr,aes128-ctr,aes256-cbc,aes192-cbc,aes128-cbc,3des-cbc"
#define LEGACY_MACS                                                                                \
	"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,"   \
	"hmac-sha2-256,hmac-sha2-512,hmac-sha1"

enum phase {
	PH_PAIRS = 0,
	PH_CONTROL,
};

enum conn_state {
	C_OFF = 0, /* no connection: waiting for the engine's connect */
	C_IDENT,
	C_KEX,
	C_NONE,
	C_PASS,
	C_KBD,
};

enum ident {
	ID_OK,      /* SSH: hand over to libssh */
	ID_NOTHING, /* nothing to read yet */
	ID_PARTIAL, /* a line begun, not ended */
	ID_NOT_SSH, /* something else */
	ID_CLOSED,  /* closed (or reset) before an identification */
};

struct ssh_state {
	const struct kz_login_service *svc;
	struct kz_ssh_login_config cfg;
	ssh_session s;
	int fd; /* the engine's descriptor while connected (borrowed) */
	uint8_t phase, cs;
	bool done;
	bool nudged;
	bool ever_connected;
	bool ever_ssh;     /* some connection showed an SSH identification */
	bool banner_final; /* the banner is complete (first connection's) */
	bool ordered;
	bool success_none; /* the apparent success needed no credential */
	bool kbd_answered;
	bool lib_inited;
	uint32_t *sched; /* pair indices, grouped by user */
	size_t nsched, next;
	int cur;     /* pair in flight */
	int success; /* pair of the apparent success */
	const char *conn_user;
	unsigned methods; /* SSH_AUTH_METHOD_* the server offered */
	unsigned success_method;
	unsigned attempts, connections, max_connections;
	unsigned conn_attempts; /* attempts on this connection */
	unsigned conn_fails;    /* connections in a row failed before an answer */
	unsigned refused, control_tries, stalls, kbd_rounds;
	bool retry_cur; /* the pair in flight was cut once: not counted again */
	unsigned pre_lines;
	uint64_t ident_deadline, nudge_at, deadline, budget_end;
	uint64_t rng;
	char cuser[11], cpass[15];
	/* the result */
	enum kz_login_status status;
	int pair;
	bool password_asked;
	const char *reason;
	char detail[DETAIL_MAX];
	uint8_t banner[BANNER_MAX];
	size_t banner_len;
	uint64_t banner_seen;
	uint8_t evidence[EVIDENCE_MAX];
	size_t evidence_len;
};

/* ---------------------------------------------------------------- set-up */

void kz_ssh_login_defaults(struct kz_ssh_login_config *c)
{
	memset(c, 0, sizeof *c);
	c->connect_ms = DEFAULT_CONNECT_MS;
	c->ident_ms = DEFAULT_IDENT_MS;
	c->nudge_ms = DEFAULT_NUDGE_MS;
	c->kex_ms = DEFAULT_KEX_MS;
	c->auth_ms = DEFAULT_AUTH_MS;
	c->retries = DEFAULT_RETRIES;
	c->control_retries = DEFAULT_RETRIES;
}

/* libssh's log lines, at the level each session asks for (warnings). */
static void libssh_log(int priority, const char *function, const char *buffer, void *userdata)
{
	(void)priority;
	(void)function;
	(void)userdata;
	kz_debug("libssh: %s", buffer);
}

static void banner_add(struct ssh_state *st, const void *p, size_t n)
{
	if (st->banner_final)
		return;
	size_t k = n < BANNER_MAX - st->banner_len ? n : BANNER_MAX - st->banner_len;
	memcpy(st->banner + st->banner_len, p, k);
	st->banner_len += k;
	st->banner_seen += n;
}

static void set_detail(struct ssh_state *st, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void set_detail(struct ssh_state *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->detail, sizeof st->detail, fmt, ap);
	va_end(ap);
	/* extra.login_detail must be valid UTF-8: ASCII only here. */
	for (char *p = st->detail; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

static const char *method_name(unsigned m)
{
	return m == SSH_AUTH_METHOD_INTERACTIVE ? "keyboard-interactive" : "password";
}

static void methods_text(unsigned m, char *buf, size_t cap)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ SSH_AUTH_METHOD_PUBLICKEY, "publickey" },
		{ SSH_AUTH_METHOD_HOSTBASED, "hostbased" },
		{ SSH_AUTH_METHOD_GSSAPI_MIC, "gssapi-with-mic" },
		{ SSH_AUTH_METHOD_PASSWORD, "password" },
		{ SSH_AUTH_METHOD_INTERACTIVE, "keyboard-interactive" },
	};
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(m & names[i].bit))
			continue;
		size_t l = strlen(buf);
		snprintf(buf + l, cap - l, "%s%s", l ? "," : "", names[i].name);
	}
	if (!buf[0])
		snprintf(buf, cap, "none listed");
}

/* ------------------------------------------------------------ the order */

struct skey {
	const char *user;
	uint32_t pos, idx;
};

static int by_user_pos(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;
	int c = strcmp(x->user, y->user);
	if (c)
		return c;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

static int by_first_pos(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* The schedule: the service's order (vendor regexes against the banner),
 * cut to max_attempts, pairs with an empty user left out (SSH always names
 * a user), then grouped by user, each group where its user first
 * appears, pairs in order inside a group. */
static void decide_order(struct ssh_state *st)
{
	if (st->ordered)
		return;
	st->ordered = true;
	const struct kz_creds *c = st->svc->creds;
	const struct kz_login_cred *pairs = kz_creds_pairs(c);
	size_t total = kz_creds_count(c);
	uint32_t *own = NULL;
	const uint32_t *order = NULL;
	size_t n;
	if (kz_creds_vendor_match(c, KZ_LOGIN_APP_SSH, st->banner, st->banner_len) &&
	    (own = calloc(total ? total : 1, sizeof *own)) != NULL) {
		n = kz_creds_order(c, KZ_LOGIN_APP_SSH, st->banner, st->banner_len, own);
		order = own;
	} else {
		n = kz_creds_base_order(c, KZ_LOGIN_APP_SSH, &order);
	}
	if (st->svc->max_attempts && n > st->svc->max_attempts)
		n = st->svc->max_attempts;
	struct skey *k = calloc(n ? n : 1, sizeof *k);
	struct skey *g = calloc(n ? n : 1, sizeof *g);
	st->sched = calloc(n ? n : 1, sizeof *st->sched);
	if (!k || !g || !st->sched) {
		/* Out of memory: no pair is tried; the status says error. */
		free(st->sched);
		st->sched = NULL;
		goto out;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!pairs[order[i]].user[0])
			continue;
		k[m] = (struct skey){ pairs[order[i]].user, (uint32_t)i, order[i] };
		m++;
	}
	qsort(k, m, sizeof *k, by_user_pos);
	size_t ng = 0;
	for (size_t i = 0; i < m; i++)
		if (i == 0 || strcmp(k[i].user, k[i - 1].user) != 0)
			g[ng++] = (struct skey){ k[i].user, k[i].pos, (uint32_t)i };
	qsort(g, ng, sizeof *g, by_first_pos);
	for (size_t j = 0; j < ng; j++)
		for (size_t i = g[j].idx; i < m && strcmp(k[i].user, g[j].user) == 0; i++)
			st->sched[st->nsched++] = k[i].idx;
out:
	free(k);
	free(g);
	free(own);
}

/* --------------------------------------------------------------- libssh */

/* Ends libssh's part of the connection: ssh_free closes libssh's dup of
 * the descriptor (the engine closes its own), which the server sees as an
 * ordinary close. Not ssh_disconnect: with SSH_OPTIONS_FD it sends
 * SSH_MSG_DISCONNECT but forgets the descriptor without closing it (libssh
 * 0.10's client.c), so ssh_free would no longer close it and every
 * connection would leak a socket that stays open. */
static void lib_close(struct ssh_state *st)
{
	if (!st->s)
		return;
	ssh_free(st->s);
	st->s = NULL;
}

/* A libssh session on a dup of the engine's descriptor, and its first
 * ssh_connect call (which sends our identification). Returns 0 or -1. */
static int lib_start(struct ssh_state *st)
{
	ssh_session s = ssh_new();
	if (!s)
		return -1;
	char host[KZ_ADDR_STRLEN];
	int verbosity = SSH_LOG_WARNING;
	bool no = false;
	ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	/* No ~/.ssh/config or /etc/ssh/ssh_config: a survey's behaviour must
	 * not depend on the account it runs under. A fixed directory and user,
	 * so that libssh never needs the local account either. */
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(s, SSH_OPTIONS_SSH_DIR, "/nonexistent");
	ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	ssh_options_set(s, SSH_OPTIONS_HOST, kz_addr_format(st->svc->addr, host));
	ssh_options_set(s, SSH_OPTIONS_USER, st->cuser);
	if (!st->cfg.modern_only) {
		if (ssh_options_set(s, SSH_OPTIONS_KEY_EXCHANGE, LEGACY_KEX) < 0 ||
		    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, LEGACY_HOSTKEYS) < 0 ||
		    ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, LEGACY_CIPHERS) < 0 ||
		    ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, LEGACY_CIPHERS) < 0 ||
		    ssh_options_set(s, SSH_OPTIONS_HMAC_C_S, LEGACY_MACS) < 0 ||
		    ssh_options_set(s, SSH_OPTIONS_HMAC_S_C, LEGACY_MACS) < 0)
			kz_debug("libssh refused an algorithm list: %s", ssh_get_error(s));
	}
	int d = fcntl(st->fd, F_DUPFD_CLOEXEC, 3);
	if (d < 0) {
		ssh_free(s);
		return -1;
	}
	if (ssh_options_set(s, SSH_OPTIONS_FD, &d) < 0) {
		close(d);
		ssh_free(s);
		return -1;
	}
	ssh_set_blocking(s, 0);
	st->s = s;
	/* From here libssh owns d: ssh_connect hands it to the session's
	 * socket, which ssh_free closes. (Only an allocation failure inside
	 * libssh before that point would leak it; never a double close.) */
	if (ssh_connect(s) == SSH_ERROR)
		return -1;
	return 0;
}

static unsigned lib_events(const struct ssh_state *st)
{
	unsigned ev = KZ_LOGIN_EV_READ;
	if (st->s && (ssh_get_poll_flags(st->s) & SSH_WRITE_PENDING))
		ev |= KZ_LOGIN_EV_WRITE;
	return ev;
}

/* ---------------------------------------------------------------- steps */

static struct kz_login_step finish(struct ssh_state *st, enum kz_login_status s, const char *reason)
{
	lib_close(st);
	st->cs = C_OFF;
	st->done = true;
	if (st->status == KZ_LOGIN_PENDING) {
		st->status = s;
		st->reason = reason;
	}
	if (st->status != KZ_LOGIN_POSSIBLE)
		st->pair = -1;
	return (struct kz_login_step){ .want = KZ_LOGIN_WANT_DONE };
}

static struct kz_login_step connect_at(struct ssh_state *st, uint64_t at)
{
	lib_close(st);
	st->cs = C_OFF;
	st->deadline = at + st->cfg.connect_ms;
	return (struct kz_login_step){
		.want = KZ_LOGIN_WANT_CONNECT,
		.at = at,
		.deadline = st->deadline,
	};
}

static struct kz_login_step reconnect(struct ssh_state *st, uint64_t now)
{
	if (st->cfg.budget_ms && now >= st->budget_end)
		return finish(st, KZ_LOGIN_TIMEOUT, "the service's time budget ran out");
	if (st->connections >= st->max_connections)
		return finish(st, KZ_LOGIN_TIMEOUT, "too many connections for one service");
	return connect_at(st, now + st->cfg.reconnect_ms);
}

static struct kz_login_step io(unsigned events, uint64_t deadline)
{
	return (struct kz_login_step){
		.want = KZ_LOGIN_WANT_IO,
		.deadline = deadline,
		.events = events,
	};
}

static struct kz_login_step begin_auth(struct ssh_state *st, uint64_t now);
static struct kz_login_step send_next(struct ssh_state *st, uint64_t now);

/* A connection that failed before it could tell anything about a pair:
 * closed, reset, no identification, key exchange failed or stalled. */
static struct kz_login_step conn_failed(struct ssh_state *st, uint64_t now, const char *reason)
{
	lib_close(st);
	st->cs = C_OFF;
	if (st->phase == PH_CONTROL) {
		if (st->control_tries++ >= st->cfg.control_retries)
			return finish(
			        st, KZ_LOGIN_ERROR,
			        "a pair appeared to log in, but the control attempt could not "
			        "be made");
		return reconnect(st, now);
	}
	if (st->conn_fails++ >= st->cfg.retries) {
		if (!st->ever_ssh)
			return finish(st, KZ_LOGIN_ERROR, reason);
		return finish(st, KZ_LOGIN_TIMEOUT, reason);
	}
	return reconnect(st, now);
}

/* ------------------------------------------------------- identification */

static bool is_text(uint8_t c)
{
	/* 0xff is telnet's IAC, never text. */
	return (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\t' || (c >= 0x80 && c < 0xff);
}

/* Reads what the server sent before its identification. */
static enum ident peek_ident(struct ssh_state *st)
{
	uint8_t buf[PEEK_MAX];
	for (;;) {
		ssize_t n = recv(st->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
			               ? ID_NOTHING
			               : ID_CLOSED;
		if (n == 0)
			return ID_CLOSED;
		size_t len = (size_t)n;
		size_t k = len < 4 ? len : 4;
		if (memcmp(buf, "SSH-", k) == 0)
			return k == 4 ? ID_OK : ID_PARTIAL;
		const uint8_t *nl = memchr(buf, '\n', len);
		size_t line = nl ? (size_t)(nl - buf) : len;
		for (size_t i = 0; i < line; i++)
			if (!is_text(buf[i]))
				goto not_ssh;
		if ((len >= 5 && memcmp(buf, "HTTP/", 5) == 0) ||
		    (len >= 5 && memcmp(buf, "RTSP/", 5) == 0))
			goto not_ssh;
		if (!nl) {
			if (len > IDENT_MAX)
				goto not_ssh;
			return ID_PARTIAL;
		}
		/* A text line before the identification: ours to read. */
		if (++st->pre_lines > PRE_LINES)
			goto not_ssh;
		ssize_t r = recv(st->fd, buf, line + 1, MSG_DONTWAIT);
		if (r != (ssize_t)(line + 1))
			return ID_CLOSED;
		banner_add(st, buf, line + 1);
		continue;
	not_ssh:
		banner_add(st, buf, len);
		return ID_NOT_SSH;
	}
}

/* The peer closed while a half line waits in the buffer? */
static bool peer_closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static struct kz_login_step kex_step(struct ssh_state *st, uint64_t now);

static struct kz_login_step ident_step(struct ssh_state *st, uint64_t now)
{
	enum ident r = peek_ident(st);
	if (r == ID_PARTIAL && peer_closed(st->fd))
		r = ID_CLOSED;
	switch (r) {
	case ID_OK:
		if (!st->s && lib_start(st) != 0)
			return conn_failed(st, now, "libssh could not start a session");
		st->cs = C_KEX;
		st->deadline = now + st->cfg.kex_ms;
		return kex_step(st, now);
	case ID_NOT_SSH:
		if (!st->ever_ssh) {
			set_detail(st, "the first bytes are not an SSH identification");
			return finish(st, KZ_LOGIN_OTHER_PROTOCOL, "another protocol answers");
		}
		return conn_failed(st, now, "a connection answered with something that is not SSH");
	case ID_CLOSED:
		return conn_failed(st, now, "the connection closed before an SSH identification");
	case ID_NOTHING:
	case ID_PARTIAL:
		break;
	}
	if (now >= st->ident_deadline) {
		if (r == ID_PARTIAL || st->pre_lines) {
			if (!st->ever_ssh) {
				set_detail(st, "text, but no SSH identification within %u ms",
				           (unsigned)st->cfg.ident_ms);
				return finish(st, KZ_LOGIN_OTHER_PROTOCOL,
				              "another protocol answers");
			}
			return conn_failed(st, now, "no SSH identification");
		}
		if (st->connections == 1 && !st->ever_ssh)
			return finish(st, KZ_LOGIN_TIMEOUT, "nothing came back");
		return conn_failed(st, now, "no SSH identification in time");
	}
	if (r == ID_NOTHING && !st->nudged && now >= st->nudge_at) {
		/* Silence: send our identification first (libssh does that as
		 * soon as it starts), in case the server waits for the client. */
		st->nudged = true;
		if (lib_start(st) != 0)
			return conn_failed(st, now, "libssh could not start a session");
	} else if (r == ID_NOTHING && st->s && (lib_events(st) & KZ_LOGIN_EV_WRITE)) {
		/* Only our own pending output: let libssh write it (and only
		 * then: a call also reads, and the server's first bytes are
		 * ours to judge). */
		if (ssh_connect(st->s) == SSH_ERROR)
			return conn_failed(st, now, "the connection failed");
	}
	if (r == ID_PARTIAL) {
		/* The half line stays readable, so wait on the clock, not on
		 * readiness (which would fire at once, again and again). */
		uint64_t dl = now + PARTIAL_MS;
		return io(st->s ? lib_events(st) & KZ_LOGIN_EV_WRITE : 0,
		          dl < st->ident_deadline ? dl : st->ident_deadline);
	}
	return io(st->s ? lib_events(st) : KZ_LOGIN_EV_READ,
	          st->nudged ? st->ident_deadline : st->nudge_at);
}

/* ------------------------------------------------------- key exchange */

static struct kz_login_step kex_step(struct ssh_state *st, uint64_t now)
{
	int rc = ssh_connect(st->s);
	if (rc == SSH_AGAIN) {
		if (now >= st->deadline)
			return conn_failed(st, now, "the key exchange did not finish in time");
		return io(lib_events(st), st->deadline);
	}
	if (rc != SSH_OK) {
		if (!st->ever_ssh)
			set_detail(st, "key exchange: %s", ssh_get_error(st->s));
		/* The server spoke SSH, even if we could not agree with it. */
		if (!st->banner_final) {
			const char *sb = ssh_get_serverbanner(st->s);
			if (sb && !st->ever_ssh) {
				banner_add(st, sb, strlen(sb));
				banner_add(st, "\r\n", 2);
			}
		}
		return conn_failed(st, now, "the SSH key exchange failed");
	}
	if (!st->ever_ssh) {
		const char *sb = ssh_get_serverbanner(st->s);
		if (sb) {
			banner_add(st, sb, strlen(sb));
			banner_add(st, "\r\n", 2);
		}
		/* The vendor order is decided on the identification (and any
		 * text before it): the pre-auth banner comes only later. */
		decide_order(st);
	}
	st->ever_ssh = true;
	st->conn_fails = 0;
	return begin_auth(st, now);
}

/* --------------------------------------------------------- authentication */

static const char *sched_user(const struct ssh_state *st, size_t i)
{
	return kz_creds_pairs(st->svc->creds)[st->sched[i]].user;
}

static struct kz_login_step begin_auth(struct ssh_state *st, uint64_t now)
{
	if (st->phase == PH_CONTROL || !st->sched || st->next >= st->nsched)
		st->conn_user = st->cuser;
	else
		st->conn_user = sched_user(st, st->next);
	st->conn_attempts = 0;
	st->cs = C_NONE;
	st->deadline = now + st->cfg.auth_ms;
	return send_next(st, now);
}

/* The pair loop has nothing more to send. */
static struct kz_login_step out_of_pairs(struct ssh_state *st)
{
	if (!st->attempts)
		return finish(st, KZ_LOGIN_ERROR,
		              "a login was offered, but no pair of the list could be sent");
	set_detail(st, "%s",
	           method_name(st->methods & SSH_AUTH_METHOD_PASSWORD
	                               ? SSH_AUTH_METHOD_PASSWORD
	                               : SSH_AUTH_METHOD_INTERACTIVE));
	return finish(st, KZ_LOGIN_FAILED, "no listed pair was accepted");
}

static struct kz_login_step confirmed(struct ssh_state *st)
{
	st->pair = st->success;
	st->password_asked = !st->success_none;
	if (st->success_none)
		set_detail(st, "none (no credential asked for this user)");
	else
		set_detail(st, "%s", method_name(st->success_method));
	return finish(st, KZ_LOGIN_POSSIBLE,
	              st->success_none
	                      ? "a listed user logged in with no credential and a random user "
	                        "did not"
	                      : "a listed pair logged in and a random wrong pair did not");
}

/* Sends the next credential on this connection: the control pair, or the
 * schedule's next pair if it has this connection's user. */
static struct kz_login_step auth_step(struct ssh_state *st, uint64_t now);

static struct kz_login_step send_next(struct ssh_state *st, uint64_t now)
{
	if (st->cs == C_NONE)
		return auth_step(st, now);
	unsigned m = st->methods & SSH_AUTH_METHOD_PASSWORD ? SSH_AUTH_METHOD_PASSWORD
	                                                    : SSH_AUTH_METHOD_INTERACTIVE;
	if (st->phase == PH_CONTROL) {
		/* The control goes by the method that let the pair in, when it
		 * is offered to this user too. */
		if (st->methods & st->success_method)
			m = st->success_method;
	} else {
		if (!st->sched || st->next >= st->nsched)
			return out_of_pairs(st);
		if (strcmp(sched_user(st, st->next), st->conn_user) != 0)
			return reconnect(st, now);
		st->cur = (int)st->sched[st->next];
		if (!st->retry_cur)
			st->attempts++;
	}
	st->conn_attempts++;
	st->cs = m == SSH_AUTH_METHOD_PASSWORD ? C_PASS : C_KBD;
	st->kbd_answered = false;
	st->kbd_rounds = 0;
	st->deadline = now + st->cfg.auth_ms;
	return auth_step(st, now);
}

static const char *cur_pass(const struct ssh_state *st)
{
	if (st->phase == PH_CONTROL)
		return st->cpass;
	return kz_creds_pairs(st->svc->creds)[st->cur].pass;
}

/* Keyboard-interactive questions: one password prompt (or one silent
 * prompt that is not a user prompt), or one user prompt and one password
 * prompt. Returns false for anything else. */
static bool kbd_answer(struct ssh_state *st)
{
	int n = ssh_userauth_kbdint_getnprompts(st->s);
	if (n < 1 || n > 2)
		return false;
	int kinds[2] = { 0, 0 };
	char echo[2] = { 0, 0 };
	for (int i = 0; i < n; i++) {
		const char *p = ssh_userauth_kbdint_getprompt(st->s, (unsigned)i, &echo[i]);
		if (!p)
			return false;
		kinds[i] = (int)kz_telnet_prompt_kind((const uint8_t *)p, strlen(p));
	}
	const char *user = st->conn_user, *pass = cur_pass(st);
	if (n == 1) {
		if (kinds[0] == KZ_TELNET_PROMPT_PASS ||
		    (!echo[0] && kinds[0] != KZ_TELNET_PROMPT_USER))
			return ssh_userauth_kbdint_setanswer(st->s, 0, pass) == 0;
		return false;
	}
	for (int i = 0; i < 2; i++) {
		const char *a = kinds[i] == KZ_TELNET_PROMPT_USER   ? user
		                : kinds[i] == KZ_TELNET_PROMPT_PASS ? pass
		                                                    : NULL;
		if (!a || kinds[0] == kinds[1] ||
		    ssh_userauth_kbdint_setanswer(st->s, (unsigned)i, a))
			return false;
	}
	return true;
}

static struct kz_login_step got_in(struct ssh_state *st, uint64_t now, bool none);
static struct kz_login_step denied(struct ssh_state *st, uint64_t now);
static struct kz_login_step cut(struct ssh_state *st, uint64_t now, bool stalled);

static struct kz_login_step auth_step(struct ssh_state *st, uint64_t now)
{
	int rc;
	switch (st->cs) {
	case C_NONE:
		rc = ssh_userauth_none(st->s, st->conn_user);
		break;
	case C_PASS:
		rc = ssh_userauth_password(st->s, st->conn_user, cur_pass(st));
		break;
	default:
		rc = ssh_userauth_kbdint(st->s, st->conn_user, NULL);
		while (rc == SSH_AUTH_INFO) {
			if (++st->kbd_rounds > KBD_ROUNDS)
				goto unanswerable;
			/* No question (OpenSSH's PAM ends with an empty round):
			 * an empty answer list. */
			if (ssh_userauth_kbdint_getnprompts(st->s) == 0) {
				rc = ssh_userauth_kbdint(st->s, st->conn_user, NULL);
				continue;
			}
			if (!kbd_answer(st))
				goto unanswerable;
			st->kbd_answered = true;
			rc = ssh_userauth_kbdint(st->s, st->conn_user, NULL);
		}
		break;
	}
	if (st->cs == C_NONE && rc != SSH_AUTH_AGAIN && !st->banner_final) {
		/* The pre-authentication banner (SSH_MSG_USERAUTH_BANNER)
		 * comes with the answer to "none". */
		char *bn = ssh_get_issue_banner(st->s);
		if (bn) {
			banner_add(st, bn, strlen(bn));
			ssh_string_free_char(bn);
		}
		st->banner_final = true;
	}
	switch (rc) {
	case SSH_AUTH_AGAIN:
		if (now >= st->deadline)
			return cut(st, now, true);
		return io(lib_events(st), st->deadline);
	case SSH_AUTH_SUCCESS:
		return got_in(st, now, st->cs == C_NONE);
	case SSH_AUTH_DENIED:
	case SSH_AUTH_PARTIAL:
		/* Partial: this credential was right, but the server wants
		 * another method too; that is no login. */
		return denied(st, now);
	default:
		return cut(st, now, false);
	}
unanswerable:
	if (st->phase == PH_CONTROL)
		return conn_failed(st, now, "the control attempt met questions it cannot answer");
	{
		char echo;
		const char *p = ssh_userauth_kbdint_getprompt(st->s, 0, &echo);
		set_detail(st, "keyboard-interactive: %d question(s): %.80s",
		           ssh_userauth_kbdint_getnprompts(st->s), p ? p : "");
	}
	if (st->attempts > 1)
		return finish(st, KZ_LOGIN_ERROR,
		              "keyboard-interactive changed its questions during the check");
	st->attempts = 0;
	return finish(st, KZ_LOGIN_NO_PROMPT,
	              "keyboard-interactive asks questions other than a password");
}

static struct kz_login_step got_in(struct ssh_state *st, uint64_t now, bool none)
{
	/* In: nothing more is sent, no channel is opened; the connection is
	 * closed now (finish and reconnect both close it). */
	if (st->phase == PH_CONTROL) {
		if (none) {
			set_detail(st, "none: a random user got in with no credential");
			return finish(st, KZ_LOGIN_NO_AUTH,
			              "any user logs in without a credential");
		}
		set_detail(st, "%s: a random wrong pair logged in too",
		           method_name(st->cs == C_KBD ? SSH_AUTH_METHOD_INTERACTIVE
		                                       : SSH_AUTH_METHOD_PASSWORD));
		return finish(st, KZ_LOGIN_ACCEPTS_ANY,
		              "a random wrong control pair logged in too");
	}
	if (none && (!st->sched || st->next >= st->nsched)) {
		/* The user was our random one: nobody is asked anything. */
		set_detail(st, "none: a random user got in with no credential");
		return finish(st, KZ_LOGIN_NO_AUTH, "any user logs in without a credential");
	}
	st->success = none ? (int)st->sched[st->next] : st->cur;
	st->success_none = none;
	st->success_method =
	        st->cs == C_KBD ? SSH_AUTH_METHOD_INTERACTIVE : SSH_AUTH_METHOD_PASSWORD;
	st->phase = PH_CONTROL;
	st->control_tries = 0;
	st->retry_cur = false;
	return reconnect(st, now);
}

static struct kz_login_step denied(struct ssh_state *st, uint64_t now)
{
	if (st->cs == C_NONE) {
		st->methods = (unsigned)ssh_userauth_list(st->s, st->conn_user);
		if (!(st->methods & (SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_INTERACTIVE))) {
			if (st->phase == PH_CONTROL)
				/* A random user is not even offered a password. */
				return confirmed(st);
			char m[120];
			methods_text(st->methods, m, sizeof m);
			set_detail(st, "methods offered: %s", m);
			return finish(st, KZ_LOGIN_NO_PROMPT,
			              "the server offers neither password nor keyboard-interactive "
			              "authentication");
		}
		if (st->phase == PH_CONTROL && st->success_none)
			return confirmed(st);
		st->cs = C_OFF; /* not C_NONE: send_next sends a credential */
		return send_next(st, now);
	}
	if (st->phase == PH_CONTROL)
		return confirmed(st);
	/* This pair failed. */
	st->retry_cur = false;
	st->stalls = 0;
	st->next++;
	return send_next(st, now);
}

/* The connection went away (or stalled) during an authentication request. */
static struct kz_login_step cut(struct ssh_state *st, uint64_t now, bool stalled)
{
	if (st->cs == C_NONE || st->phase == PH_CONTROL)
		return conn_failed(st, now,
		                   stalled ? "the server did not answer an authentication request"
		                           : "the connection was lost during authentication");
	lib_close(st);
	if (stalled && ++st->stalls >= STALL_MAX)
		return finish(st, KZ_LOGIN_TIMEOUT,
		              "the server stopped answering authentication requests");
	if (st->conn_attempts > 1 && !st->retry_cur) {
		/* Cut after earlier attempts (MaxAuthTries): the pair goes
		 * first on the next connection. */
		st->retry_cur = true;
		return reconnect(st, now);
	}
	/* Cut on the first attempt of a connection: the device drops the
	 * client at a wrong password. The pair failed. */
	st->retry_cur = false;
	st->next++;
	if (!st->sched || st->next >= st->nsched)
		return out_of_pairs(st);
	return reconnect(st, now);
}

/* ------------------------------------------------------------- the calls */

static int ssh_init_state(void *state, const struct kz_login_service *svc)
{
	struct ssh_state *st = state;
	st->svc = svc;
	if (svc->config)
		st->cfg = *(const struct kz_ssh_login_config *)svc->config;
	else
		kz_ssh_login_defaults(&st->cfg);
	struct kz_ssh_login_config d;
	kz_ssh_login_defaults(&d);
	if (!st->cfg.connect_ms)
		st->cfg.connect_ms = d.connect_ms;
	if (!st->cfg.ident_ms)
		st->cfg.ident_ms = d.ident_ms;
	if (!st->cfg.nudge_ms)
		st->cfg.nudge_ms = d.nudge_ms;
	if (!st->cfg.kex_ms)
		st->cfg.kex_ms = d.kex_ms;
	if (!st->cfg.auth_ms)
		st->cfg.auth_ms = d.auth_ms;
	st->fd = -1;
	st->cur = st->success = st->pair = -1;
	st->status = KZ_LOGIN_PENDING;
	st->rng = svc->seed ^ 0x6b697a756b692d73u;
	kz_splitmix_text(&st->rng, st->cuser, 10, "abcdefghijklmnopqrstuvwxyz");
	kz_splitmix_text(&st->rng, st->cpass, 14,
	                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	size_t pairs = kz_creds_count(svc->creds);
	if (svc->max_attempts && pairs > svc->max_attempts)
		pairs = svc->max_attempts;
	size_t mc = 2 * pairs + 8 * (st->cfg.retries + st->cfg.control_retries + 2) + 16;
	st->max_connections = mc > 1000000 ? 1000000 : (unsigned)mc;
	/* libssh is initialised by its library constructor; ssh_init only
	 * counts one more user. Its log lines go to ours (the callback is
	 * per thread: the engine's). */
	if (ssh_init() != 0)
		return -EIO;
	st->lib_inited = true;
	ssh_set_log_callback(libssh_log);
	return 0;
}

static struct kz_login_step ssh_start(void *state, uint64_t now)
{
	struct ssh_state *st = state;
	if (st->cfg.budget_ms)
		st->budget_end = now + st->cfg.budget_ms;
	return connect_at(st, now);
}

static struct kz_login_step ssh_connected(void *state, int fd, uint64_t now)
{
	struct ssh_state *st = state;
	if (st->done)
		return finish(st, st->status, st->reason);
	st->fd = fd;
	st->connections++;
	st->ever_connected = true;
	st->refused = 0;
	st->pre_lines = 0;
	st->nudged = false;
	st->cs = C_IDENT;
	st->ident_deadline = now + st->cfg.ident_ms;
	st->nudge_at = now + st->cfg.nudge_ms;
	return ident_step(st, now);
}

static struct kz_login_step connect_problem(struct ssh_state *st, int err, uint64_t now)
{
	bool timed_out = err == -ETIMEDOUT;
	if (!st->ever_connected)
		return finish(st, timed_out ? KZ_LOGIN_TIMEOUT : KZ_LOGIN_ERROR,
		              timed_out ? "the connection was not accepted in time"
		                        : "the connection was refused");
	if (++st->refused > REFUSED_MAX) {
		if (st->phase == PH_CONTROL)
			return finish(
			        st, KZ_LOGIN_ERROR,
			        "a pair appeared to log in, but the control attempt could not "
			        "be made");
		return finish(st, KZ_LOGIN_TIMEOUT, "the device stopped accepting connections");
	}
	return connect_at(st, now + (1000u << (st->refused - 1)));
}

static struct kz_login_step ssh_connect_failed(void *state, int err, uint64_t now)
{
	struct ssh_state *st = state;
	if (st->done)
		return finish(st, st->status, st->reason);
	return connect_problem(st, err, now);
}

/* Bytes the kernel received on this connection, past the cap? */
static bool over_cap(const struct ssh_state *st)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (getsockopt(st->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
		return false;
	return st->svc->max_conn_bytes && ti.tcpi_bytes_received >= st->svc->max_conn_bytes;
}

static struct kz_login_step drive(struct ssh_state *st, uint64_t now)
{
	if (st->done)
		return finish(st, st->status, st->reason);
	if (st->cfg.budget_ms && now >= st->budget_end)
		return finish(st, KZ_LOGIN_TIMEOUT, "the service's time budget ran out");
	if (st->cs != C_OFF && over_cap(st))
		return finish(st, KZ_LOGIN_TIMEOUT,
		              "the device sent more than the per-connection byte cap");
	switch (st->cs) {
	case C_IDENT:
		return ident_step(st, now);
	case C_KEX:
		return kex_step(st, now);
	case C_NONE:
	case C_PASS:
	case C_KBD:
		return auth_step(st, now);
	default:
		/* The engine gave up on our connect at its deadline. */
		return connect_problem(st, -ETIMEDOUT, now);
	}
}

static struct kz_login_step ssh_tick(void *state, uint64_t now)
{
	return drive(state, now);
}

static struct kz_login_step ssh_ready(void *state, unsigned events, uint64_t now)
{
	(void)events;
	return drive(state, now);
}

static void ssh_result(const void *state, struct kz_login_outcome *out)
{
	const struct ssh_state *st = state;
	*out = (struct kz_login_outcome){
		.status = st->status,
		.pair = st->status == KZ_LOGIN_POSSIBLE ? st->pair : -1,
		.password_asked = st->password_asked,
		.attempts = st->attempts,
		.connections = st->connections,
		.reason = st->reason,
		.banner = st->banner,
		.banner_len = st->banner_len,
		.banner_seen = st->banner_seen,
		.evidence = st->evidence_len ? st->evidence : NULL,
		.evidence_len = st->evidence_len,
		.detail = st->detail[0] ? st->detail : NULL,
	};
}

static void ssh_release(void *state)
{
	struct ssh_state *st = state;
	lib_close(st);
	free(st->sched);
	st->sched = NULL;
	explicit_bzero(st->cuser, sizeof st->cuser);
	explicit_bzero(st->cpass, sizeof st->cpass);
	if (st->lib_inited)
		ssh_finalize();
	st->lib_inited = false;
}

const struct kz_login_proto kz_login_proto_ssh = {
	.name = "ssh",
	.app = KZ_LOGIN_APP_SSH,
	.io = KZ_LOGIN_IO_FD,
	.state_size = sizeof(struct ssh_state),
	.init = ssh_init_state,
	.start = ssh_start,
	.connected = ssh_connected,
	.connect_failed = ssh_connect_failed,
	.tick = ssh_tick,
	.ready = ssh_ready,
	.result = ssh_result,
	.release = ssh_release,
};
