/*
 * The SSH plug-in's first moments on a connection, on socket pairs: what
 * it decides from the server's first bytes before libssh sees any (not-ssh
 * for HTTP, telnet, binary and endless text; text lines before the
 * identification accepted as RFC 4253 allows), the nudge (our
 * identification after a silence), timeouts on a simulated clock,
 * reconnects after early closes, refused connections, and that every dup
 * of the descriptor is closed before a CONNECT or DONE step and at release.
 * Logins themselves run against real dropbear servers
 * (tests/integration/login_ssh_http.sh).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "creds.h"
#include "login_ssh.h"

static const char *const list_lines[] = { "root:xc3511", "admin:admin", "root:admin" };
static struct kz_creds *creds;
static struct kz_ssh_login_config cfg;

static int setup(void **state)
{
	(void)state;
	kz_ssh_login_defaults(&cfg);
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

static void end(struct t *t, struct kz_login_outcome *o)
{
	assert_int_equal(t->step.want, KZ_LOGIN_WANT_DONE);
	P->result(t->st, o);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_on_port_22),
		cmocka_unit_test(telnet_on_port_22),
		cmocka_unit_test(text_before_identification),
		cmocka_unit_test(silence_then_nudge),
		cmocka_unit_test(early_closes_and_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
