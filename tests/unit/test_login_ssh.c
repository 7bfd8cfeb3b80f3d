/*
 * The SSH plug-in on socket pairs.
 *
 * First its first moments on a connection: what it decides from the
 * server's first bytes before libssh sees any (not-ssh for HTTP, telnet,
 * binary and endless text; text lines before the identification accepted
 * as RFC 4253 allows), the nudge (our identification after a silence),
 * timeouts on a simulated clock, reconnects after early closes, refused
 * connections.
 *
 * Then whole checks against an SSH server in the same process: libssh's
 * own server side, one thread per connection on the other end of the pair,
 * configured per test (password, keyboard-interactive with one or two
 * questions, publickey only, "none" for anyone, any password, a
 * MaxAuthTries that disconnects instead of answering). These cover what
 * real dropbear (tests/integration/login_ssh_http.sh) does not offer:
 * keyboard-interactive, none for everyone, cut attempts.
 *
 * Throughout: every dup of the descriptor is closed before a CONNECT or
 * DONE step and at release (the process's descriptor count is the same
 * after a check as before).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "creds.h"
#include "login_ssh.h"

static const char *const list_lines[] = { "root:xc3511", "admin:admin", "root:admin" };
static struct kz_creds *creds;
static struct kz_ssh_login_config cfg, cfg_fast;

static int setup(void **state)
{
	(void)state;
	kz_ssh_login_defaults(&cfg);
	/* The in-process server runs on the real clock: short waits. */
	kz_ssh_login_defaults(&cfg_fast);
	cfg_fast.auth_ms = 3000;
	cfg_fast.kex_ms = 5000;
	return kz_creds_load_strings("test", list_lines, 3, &creds);
}

static int teardown(void **state)
{
	(void)state;
	kz_creds_free(creds);
	return 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

struct t {
	struct kz_login_service svc;
	void *st;
	int fds[2]; /* [0] the plug-in's (the engine's), [1] the server's */
	uint64_t now;
	struct kz_login_step step;
	int base_fds;
};

static const struct kz_login_proto *P = &kz_login_proto_ssh;

static void begin(struct t *t)
{
	memset(t, 0, sizeof *t);
	t->fds[0] = t->fds[1] = -1;
	t->base_fds = count_fds();
	const char *why;
	assert_int_equal(kz_addr_parse("192.0.2.40", &t->svc.addr, &why), 0);
	t->svc.port = 22;
	t->svc.app = KZ_LOGIN_APP_SSH;
	t->svc.creds = creds;
	t->svc.seed = 7;
	t->svc.max_conn_bytes = 1u << 20;
	t->svc.config = &cfg;
	t->st = calloc(1, P->state_size);
	assert_non_null(t->st);
	assert_int_equal(P->init(t->st, &t->svc), 0);
	t->now = 1000;
	t->step = P->start(t->st, t->now);
	assert_int_equal(t->step.want, KZ_LOGIN_WANT_CONNECT);
}

static void drop_conn(struct t *t)
{
	for (int i = 0; i < 2; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	t->fds[0] = t->fds[1] = -1;
}

/* The engine's part: a new "connection" (a socket pair). */
static void connect_now(struct t *t)
{
	assert_int_equal(t->step.want, KZ_LOGIN_WANT_CONNECT);
	drop_conn(t);
	if (t->step.at > t->now)
		t->now = t->step.at;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, t->fds), 0);
	t->step = P->connected(t->st, t->fds[0], t->now);
}

static void server_says(struct t *t, const void *bytes, size_t n)
{
	assert_int_equal(write(t->fds[1], bytes, n), (ssize_t)n);
	t->now += 1;
	t->step = P->ready(t->st, KZ_LOGIN_EV_READ, t->now);
}

static void time_passes(struct t *t)
{
	assert_true(t->step.deadline > t->now);
	t->now = t->step.deadline;
	t->step = P->tick(t->st, t->now);
}

/* What the plug-in sent the server so far. */
static size_t client_sent(struct t *t, char *buf, size_t cap)
{
	ssize_t n = recv(t->fds[1], buf, cap - 1, MSG_DONTWAIT);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (size_t)n;
}

static uint8_t banner_copy[4096];

static void end(struct t *t, struct kz_login_outcome *o)
{
	assert_int_equal(t->step.want, KZ_LOGIN_WANT_DONE);
	P->result(t->st, o);
	/* The outcome borrows from the state, which goes below. */
	assert_true(o->banner_len <= sizeof banner_copy);
	memcpy(banner_copy, o->banner, o->banner_len);
	o->banner = banner_copy;
	o->detail = NULL;
	o->reason = NULL;
	P->release(t->st);
	drop_conn(t);
	free(t->st);
	/* Every dup the plug-in made is closed. */
	assert_int_equal(count_fds(), t->base_fds);
}

static void http_on_port_22(void **state)
{
	(void)state;
	struct t t;
	struct kz_login_outcome o;
	begin(&t);
	connect_now(&t);
	assert_int_equal(t.step.want, KZ_LOGIN_WANT_IO);
	assert_true(t.step.events & KZ_LOGIN_EV_READ);
	static const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	server_says(&t, resp, sizeof resp - 1);
	char sent[256];
	/* Decided on the bytes: libssh never started, nothing was sent. */
	assert_int_equal(client_sent(&t, sent, sizeof sent), 0);
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_OTHER_PROTOCOL);
	assert_non_null(memmem(o.banner, o.banner_len, "HTTP/1.1 400", 12));
	assert_int_equal(o.attempts, 0);
}

static void telnet_on_port_22(void **state)
{
	(void)state;
	struct t t;
	struct kz_login_outcome o;
	begin(&t);
	connect_now(&t);
	server_says(&t, "\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03", 12);
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_OTHER_PROTOCOL);
	/* A binary frame, and endless text without an identification. */
	begin(&t);
	connect_now(&t);
	server_says(&t, "\x00\x00\x00\x1c\x01\x02\x00\x00\xa5\x5a", 10);
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_OTHER_PROTOCOL);
	begin(&t);
	connect_now(&t);
	for (int i = 0; i < 20 && t.step.want == KZ_LOGIN_WANT_IO; i++)
		server_says(&t, "Welcome to the device\r\n", 23);
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_OTHER_PROTOCOL);
	/* A prompt with no line end, until the identification deadline. */
	begin(&t);
	connect_now(&t);
	server_says(&t, "login: ", 7);
	assert_int_equal(t.step.want, KZ_LOGIN_WANT_IO);
	/* A half line stays readable: wait on the clock, not on readiness. */
	assert_int_equal(t.step.events & KZ_LOGIN_EV_READ, 0);
	while (t.step.want == KZ_LOGIN_WANT_IO)
		time_passes(&t);
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_OTHER_PROTOCOL);
}

static void text_before_identification(void **state)
{
	(void)state;
	struct t t;
	begin(&t);
	connect_now(&t);
	static const char pre[] = "Authorised use only\r\nSSH-2.0-TestServer_1.0\r\n";
	server_says(&t, pre, sizeof pre - 1);
	/* The text line was ours; libssh took the identification and sent
	 * its own, then its key exchange. */
	assert_int_equal(t.step.want, KZ_LOGIN_WANT_IO);
	char sent[4096];
	size_t n = client_sent(&t, sent, sizeof sent);
	assert_true(n > 8);
	assert_int_equal(strncmp(sent, "SSH-2.0-", 8), 0);
	assert_int_equal(t.fds[0] >= 0, 1);
	/* The server hangs up during the key exchange: a new connection. */
	close(t.fds[1]);
	t.fds[1] = -1;
	t.step = P->ready(t.st, KZ_LOGIN_EV_READ, ++t.now);
	assert_int_equal(t.step.want, KZ_LOGIN_WANT_CONNECT);
	/* libssh's dup is closed: only the engine's pair end is left. */
	close(t.fds[0]);
	t.fds[0] = -1;
	assert_int_equal(count_fds(), t.base_fds);
	P->release(t.st);
	free(t.st);
	assert_int_equal(count_fds(), t.base_fds);
}

static void silence_then_nudge(void **state)
{
	(void)state;
	struct t t;
	struct kz_login_outcome o;
	begin(&t);
	connect_now(&t);
	uint64_t connected = t.now;
	char sent[256];
	assert_int_equal(client_sent(&t, sent, sizeof sent), 0);
	/* At the nudge deadline libssh starts and sends our identification. */
	time_passes(&t);
	assert_int_equal(t.now, connected + cfg.nudge_ms);
	assert_int_equal(t.step.want, KZ_LOGIN_WANT_IO);
	assert_true(client_sent(&t, sent, sizeof sent) > 8);
	assert_int_equal(strncmp(sent, "SSH-2.0-", 8), 0);
	/* An HTTP server answers that with a 400: not SSH. */
	server_says(&t, "HTTP/1.0 400 Bad Request\r\n\r\n", 28);
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_OTHER_PROTOCOL);

	/* Silence to the end: timeout, one connection. */
	begin(&t);
	connect_now(&t);
	while (t.step.want == KZ_LOGIN_WANT_IO)
		time_passes(&t);
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_TIMEOUT);
	assert_int_equal(o.connections, 1);
}

static void early_closes_and_refusals(void **state)
{
	(void)state;
	struct t t;
	struct kz_login_outcome o;
	/* Closed at once, every time: reconnected, then an error. */
	begin(&t);
	int conns = 0;
	while (t.step.want == KZ_LOGIN_WANT_CONNECT) {
		connect_now(&t);
		conns++;
		if (t.step.want != KZ_LOGIN_WANT_IO)
			break;
		close(t.fds[1]);
		t.fds[1] = -1;
		t.step = P->ready(t.st, KZ_LOGIN_EV_READ, ++t.now);
	}
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_ERROR);
	assert_int_equal(conns, (int)cfg.retries + 1);
	/* The first connection refused: error, at once. */
	begin(&t);
	t.step = P->connect_failed(t.st, -ECONNREFUSED, t.now);
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_ERROR);
	assert_int_equal(o.connections, 0);
	/* Not accepted in time: timeout. */
	begin(&t);
	t.now = t.step.deadline;
	t.step = P->tick(t.st, t.now);
	end(&t, &o);
	assert_int_equal(o.status, KZ_LOGIN_TIMEOUT);
}

/* ------------------------------------------------ an in-process server */

struct srvconf {
	unsigned methods; /* SSH_AUTH_METHOD_* offered */
	const char *user, *pass;
	bool any_pass;    /* any password logs in, for any user */
	bool none_anyone; /* "none" logs anyone in */
	int max_fails;    /* 0: none; else disconnect at this failure, unanswered */
	int nprompts;     /* keyboard-interactive questions */
	const char *prompts[2];
	char echo[2];
	/* counted by the server threads */
	int connections, pass_tries, kbd_answers, logins, channels;
};

struct srvconn {
	struct srvconf *cfg;
	int fd;
	pthread_t th;
	bool started;
};

static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;

static bool right(const struct srvconf *c, const char *user, const char *pass)
{
	return c->any_pass ||
	       (user && pass && strcmp(user, c->user) == 0 && strcmp(pass, c->pass) == 0);
}

static void *srv_main(void *arg)
{
	struct srvconn *sc = arg;
	struct srvconf *c = sc->cfg;
	ssh_bind b = ssh_bind_new();
	ssh_session s = ssh_new();
	ssh_key key = NULL;
	int fails = 0;
	char kuser[200] = "";
	if (!b || !s || ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
		close(sc->fd);
		goto out;
	}
	if (ssh_bind_accept_fd(b, s, sc->fd) != SSH_OK || ssh_handle_key_exchange(s) != SSH_OK)
		goto out;
	ssh_set_auth_methods(s, (int)c->methods);
	ssh_message m;
	while ((m = ssh_message_get(s)) != NULL) {
		int type = ssh_message_type(m), sub = ssh_message_subtype(m);
		bool ok = false, answered = false;
		if (type == SSH_REQUEST_AUTH && sub == SSH_AUTH_METHOD_NONE) {
			ok = c->none_anyone;
		} else if (type == SSH_REQUEST_AUTH && sub == SSH_AUTH_METHOD_PASSWORD &&
		           (c->methods & SSH_AUTH_METHOD_PASSWORD)) {
			pthread_mutex_lock(&srv_mu);
			c->pass_tries++;
			pthread_mutex_unlock(&srv_mu);
/* The message API is deprecated in favour of server callbacks; for a test
 * server its loop is the simplest. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
			ok = right(c, ssh_message_auth_user(m), ssh_message_auth_password(m));
#pragma GCC diagnostic pop
			fails += !ok;
		} else if (type == SSH_REQUEST_AUTH && sub == SSH_AUTH_METHOD_INTERACTIVE &&
		           (c->methods & SSH_AUTH_METHOD_INTERACTIVE)) {
			if (!ssh_message_auth_kbdint_is_response(m)) {
				/* The answer message carries no user: keep it. */
				snprintf(kuser, sizeof kuser, "%s",
				         ssh_message_auth_user(m) ? ssh_message_auth_user(m) : "");
				ssh_message_auth_interactive_request(
				        m, "", "", (unsigned)c->nprompts, c->prompts, c->echo);
				answered = true;
			} else {
				pthread_mutex_lock(&srv_mu);
				c->kbd_answers++;
				pthread_mutex_unlock(&srv_mu);
				int n = ssh_userauth_kbdint_getnanswers(s);
				const char *pass = NULL;
				for (int i = 0; i < n; i++)
					if (strncmp(c->prompts[i], "Password", 8) == 0)
						pass = ssh_userauth_kbdint_getanswer(s,
						                                     (unsigned)i);
				ok = n == c->nprompts && right(c, kuser, pass);
				fails += !ok;
			}
		} else if (type == SSH_REQUEST_CHANNEL_OPEN) {
			/* The prober must never get here. */
			pthread_mutex_lock(&srv_mu);
			c->channels++;
			pthread_mutex_unlock(&srv_mu);
		}
		if (!answered && type == SSH_REQUEST_AUTH) {
			if (ok) {
				pthread_mutex_lock(&srv_mu);
				c->logins++;
				pthread_mutex_unlock(&srv_mu);
				ssh_message_auth_reply_success(m, 0);
			} else if (c->max_fails && fails >= c->max_fails) {
				/* As OpenSSH at MaxAuthTries: disconnect, unanswered. */
				ssh_message_free(m);
				break;
			} else {
				ssh_message_auth_set_methods(m, (int)c->methods);
				ssh_message_reply_default(m);
			}
		} else if (!answered) {
			ssh_message_reply_default(m);
		}
		ssh_message_free(m);
	}
out:
	ssh_free(s);
	ssh_bind_free(b);
	return NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void srv_stop(struct srvconn *sc, int *mine)
{
	if (*mine >= 0)
		close(*mine);
	*mine = -1;
	if (sc->started)
		pthread_join(sc->th, NULL);
	sc->started = false;
}

/* A whole check against the in-process server, on the real clock. */
static void run_server(struct srvconf *conf, const char *const *lines, size_t n,
                       struct kz_login_outcome *o, char *detail, size_t dcap)
{
	struct kz_creds *list;
	assert_int_equal(kz_creds_load_strings("srv", lines, n, &list), 0);
	int base = count_fds();
	struct kz_login_service svc = { .port = 22,
		                        .app = KZ_LOGIN_APP_SSH,
		                        .creds = list,
		                        .seed = 99,
		                        .max_conn_bytes = 1u << 20,
		                        .config = &cfg_fast };
	const char *why;
	assert_int_equal(kz_addr_parse("192.0.2.41", &svc.addr, &why), 0);
	void *st = calloc(1, P->state_size);
	assert_non_null(st);
	assert_int_equal(P->init(st, &svc), 0);
	struct srvconn sc = { .cfg = conf };
	int mine = -1;
	struct kz_login_step step = P->start(st, mono_ms());
	for (int guard = 0; guard < 100000 && step.want != KZ_LOGIN_WANT_DONE; guard++) {
		uint64_t now = mono_ms();
		if (step.want == KZ_LOGIN_WANT_CONNECT) {
			srv_stop(&sc, &mine);
			/* Every dup the plug-in made is gone before it reconnects. */
			assert_int_equal(count_fds(), base);
			if (step.at > now) {
				struct timespec d = { 0, (long)(step.at - now) * 1000000L };
				nanosleep(&d, NULL);
			}
			int fds[2];
			assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds),
			                 0);
			assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
			mine = fds[0];
			sc.fd = fds[1];
			conf->connections++;
			assert_int_equal(pthread_create(&sc.th, NULL, srv_main, &sc), 0);
			sc.started = true;
			step = P->connected(st, mine, mono_ms());
			continue;
		}
		struct pollfd p = { .fd = mine };
		if (step.events & KZ_LOGIN_EV_READ)
			p.events |= POLLIN;
		if (step.events & KZ_LOGIN_EV_WRITE)
			p.events |= POLLOUT;
		int wait = step.deadline > now ? (int)(step.deadline - now) : 0;
		int r = poll(&p, 1, wait);
		now = mono_ms();
		if (r > 0)
			step = P->ready(st, KZ_LOGIN_EV_READ, now);
		else
			step = P->tick(st, now);
	}
	assert_int_equal(step.want, KZ_LOGIN_WANT_DONE);
	P->result(st, o);
	snprintf(detail, dcap, "%s", o->detail ? o->detail : "");
	if (o->status == KZ_LOGIN_POSSIBLE) {
		const struct kz_login_cred *c = &kz_creds_pairs(list)[o->pair];
		snprintf(detail + strlen(detail), dcap - strlen(detail), " [%s:%s]", c->user,
		         c->pass);
	}
	P->release(st);
	free(st);
	srv_stop(&sc, &mine);
	assert_int_equal(count_fds(), base);
	assert_int_equal(conf->channels, 0);
	kz_creds_free(list);
}

static const char *const srv_list[] = {
	"root:xc3511", "admin:1234", "root:vizxv", "admin:admin", "root:admin",
};
#define NSRV (sizeof srv_list / sizeof srv_list[0])

static void server_password(void **state)
{
	(void)state;
	struct kz_login_outcome o;
	char d[200];
	struct srvconf c = { .methods = SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY,
		             .user = "admin",
		             .pass = "admin" };
	run_server(&c, srv_list, NSRV, &o, d, sizeof d);
	assert_int_equal(o.status, KZ_LOGIN_POSSIBLE);
	assert_string_equal(d, "password [admin:admin]");
	assert_true(o.password_asked);
	/* Grouped by user: root's three pairs on one connection, admin's on
	 * the next; then the control. */
	assert_int_equal(c.connections, 3);
	assert_int_equal(o.attempts, 5);
	assert_int_equal(c.logins, 1);
	/* The same device without the password. */
	struct srvconf c2 = { .methods = SSH_AUTH_METHOD_PASSWORD, .user = "admin", .pass = "x" };
	run_server(&c2, srv_list, NSRV, &o, d, sizeof d);
	assert_int_equal(o.status, KZ_LOGIN_FAILED);
	assert_int_equal(c2.pass_tries, 5);
	assert_int_equal(c2.logins, 0);
}

static void server_kbdint(void **state)
{
	(void)state;
	struct kz_login_outcome o;
	char d[200];
	struct srvconf c = { .methods = SSH_AUTH_METHOD_INTERACTIVE,
		             .user = "root",
		             .pass = "vizxv",
		             .nprompts = 1,
		             .prompts = { "Password: " } };
	run_server(&c, srv_list, NSRV, &o, d, sizeof d);
	assert_int_equal(o.status, KZ_LOGIN_POSSIBLE);
	assert_string_equal(d, "keyboard-interactive [root:vizxv]");
	assert_true(c.kbd_answers >= 3);
	/* A second question we do not know how to answer: not answered. */
	struct srvconf c2 = { .methods = SSH_AUTH_METHOD_INTERACTIVE,
		              .user = "root",
		              .pass = "vizxv",
		              .nprompts = 2,
		              .prompts = { "Verification code: ", "Password: " } };
	run_server(&c2, srv_list, NSRV, &o, d, sizeof d);
	assert_int_equal(o.status, KZ_LOGIN_NO_PROMPT);
	assert_int_equal(c2.kbd_answers, 0);
	assert_non_null(strstr(d, "Verification code"));
}

static void server_other_statuses(void **state)
{
	(void)state;
	struct kz_login_outcome o;
	char d[200];
	struct srvconf pk = { .methods = SSH_AUTH_METHOD_PUBLICKEY, .user = "a", .pass = "b" };
	run_server(&pk, srv_list, NSRV, &o, d, sizeof d);
	assert_int_equal(o.status, KZ_LOGIN_NO_PROMPT);
	assert_string_equal(d, "methods offered: publickey");
	assert_int_equal(pk.pass_tries, 0);

	struct srvconf none = {
		.methods = SSH_AUTH_METHOD_PASSWORD, .user = "a", .pass = "b", .none_anyone = true
	};
	run_server(&none, srv_list, NSRV, &o, d, sizeof d);
	assert_int_equal(o.status, KZ_LOGIN_NO_AUTH);
	assert_int_equal(none.pass_tries, 0);

	struct srvconf any = { .methods = SSH_AUTH_METHOD_PASSWORD, .any_pass = true };
	run_server(&any, srv_list, NSRV, &o, d, sizeof d);
	assert_int_equal(o.status, KZ_LOGIN_ACCEPTS_ANY);
	assert_int_equal(o.pair, -1);
	assert_int_equal(o.attempts, 1);
}

static void server_max_auth_tries(void **state)
{
	(void)state;
	struct kz_login_outcome o;
	char d[200];
	/* Disconnects at the second failure, unanswered: that pair goes first
	 * on the next connection, and the right one is still found. */
	static const char *const roots[] = { "root:a", "root:b", "root:c", "root:d", "root:good" };
	struct srvconf c = {
		.methods = SSH_AUTH_METHOD_PASSWORD, .user = "root", .pass = "good", .max_fails = 2
	};
	run_server(&c, roots, 5, &o, d, sizeof d);
	assert_int_equal(o.status, KZ_LOGIN_POSSIBLE);
	assert_string_equal(d, "password [root:good]");
	assert_int_equal(o.attempts, 5);
	assert_true(c.connections >= 4);
	/* A device that drops the client at the first wrong password: one
	 * connection per pair, each counted failed. */
	struct srvconf c1 = {
		.methods = SSH_AUTH_METHOD_PASSWORD, .user = "root", .pass = "zz", .max_fails = 1
	};
	run_server(&c1, roots, 5, &o, d, sizeof d);
	assert_int_equal(o.status, KZ_LOGIN_FAILED);
	assert_int_equal(o.attempts, 5);
	assert_int_equal(c1.connections, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_on_port_22),
		cmocka_unit_test(telnet_on_port_22),
		cmocka_unit_test(text_before_identification),
		cmocka_unit_test(silence_then_nudge),
		cmocka_unit_test(early_closes_and_refusals),
		cmocka_unit_test(server_password),
		cmocka_unit_test(server_kbdint),
		cmocka_unit_test(server_other_statuses),
		cmocka_unit_test(server_max_auth_tries),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
