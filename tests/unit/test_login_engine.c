/*
 * The login engine with a scripted plug-in over real loopback sockets and a
 * fake clock: the global and per-host limits, pacing between connections to
 * one address, deadlines, the byte cap, the scope check at connect (a
 * listener outside the scope sees no connection), stop (drain, then
 * abandon), the input queue (cap, submits from another thread), targets
 * with no plug-in, one release per init, and a descriptor-driving plug-in
 * (the kind SSH over libssh uses).
 *
 * The fake clock moves 5 ms each time the engine reads it and the engine
 * never sleeps (max_wait_ms < 0), so seconds of protocol time take
 * milliseconds; connections are real and complete on loopback at once (the
 * kernel finishes a handshake into a listener's backlog without accept).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "creds.h"
#include "log.h"
#include "login_engine.h"
#include "scope.h"

/* ---- the fake clock ------------------------------------------------------- */

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now += 5;
}
static int64_t fake_wall(void *ctx)
{
	(void)ctx;
	return 1700000000000 + (int64_t)fake_now;
}

/* ---- the scripted plug-in ------------------------------------------------- */

struct script {
	uint32_t hold_ms;    /* keep each connection this long, then DONE */
	unsigned reconnects; /* connections after the first */
	uint32_t connect_in; /* ask each connect this far in the future */
	bool read_all;       /* wait for close (byte cap test) */
	bool echo;           /* descriptor mode: write "ping", expect it back */
};

struct ev {
	int kind; /* 'c' connected, 'd' done, 'f' connect failed, 't' tick */
	uint16_t port;
	uint32_t addr;
	uint64_t now;
	uint64_t at; /* 'c': the time the step asked */
};

#define MAX_EV 4096
static struct ev evlog[MAX_EV];
static size_t nev;
static int open_now, open_peak, inits, releases;
static uint64_t input_total;
static int closed_calls;

struct fstate {
	const struct kz_login_service *svc;
	const struct script *sc;
	unsigned conns;
	uint64_t asked_at;
	bool open;
	int fd;
	char echo[8];
	size_t echo_len;
	struct kz_login_outcome out;
};

static void logev(const struct fstate *st, int kind, uint64_t now)
{
	if (nev < MAX_EV)
		evlog[nev++] = (struct ev){ .kind = kind,
			                    .port = st->svc->port,
			                    .addr = kz_addr_v4(st->svc->addr),
			                    .now = now,
			                    .at = st->asked_at };
}

static struct kz_login_step want_connect(struct fstate *st, uint64_t now)
{
	st->asked_at = now + st->sc->connect_in;
	return (struct kz_login_step){ .want = KZ_LOGIN_WANT_CONNECT,
		                       .at = st->asked_at,
		                       .deadline = st->asked_at + 5000 };
}

static struct kz_login_step done(struct fstate *st, enum kz_login_status s, uint64_t now)
{
	if (st->open) {
		open_now--;
		st->open = false;
	}
	st->out.status = s;
	logev(st, 'd', now);
	return (struct kz_login_step){ .want = KZ_LOGIN_WANT_DONE };
}

static int f_init(void *state, const struct kz_login_service *svc)
{
	struct fstate *st = state;
	st->svc = svc;
	st->sc = svc->config;
	st->out.pair = -1;
	st->out.reason = "scripted";
	inits++;
	return 0;
}

static struct kz_login_step f_start(void *state, uint64_t now)
{
	return want_connect(state, now);
}

static struct kz_login_step f_connected(void *state, int fd, uint64_t now)
{
	struct fstate *st = state;
	st->conns++;
	st->open = true;
	st->fd = fd;
	if (++open_now > open_peak)
		open_peak = open_now;
	logev(st, 'c', now);
	if (st->sc->echo)
		return (struct kz_login_step){ .want = KZ_LOGIN_WANT_IO,
			                       .deadline = now + 10000,
			                       .events = KZ_LOGIN_EV_WRITE };
	return (struct kz_login_step){ .want = KZ_LOGIN_WANT_IO,
		                       .deadline =
		                               now + (st->sc->read_all ? 60000 : st->sc->hold_ms) };
}

static struct kz_login_step f_connect_failed(void *state, int err, uint64_t now)
{
	(void)err;
	logev(state, 'f', now);
	return done(state, KZ_LOGIN_ERROR, now);
}

static struct kz_login_step f_tick(void *state, uint64_t now)
{
	struct fstate *st = state;
	logev(st, 't', now);
	if (st->open) {
		open_now--;
		st->open = false;
	}
	if (st->conns <= st->sc->reconnects)
		return want_connect(st, now);
	return done(st, KZ_LOGIN_FAILED, now);
}

static struct kz_login_step f_input(void *state, const uint8_t *d, size_t n, uint64_t now)
{
	(void)d;
	(void)state;
	input_total += n;
	return (struct kz_login_step){ .want = KZ_LOGIN_WANT_IO, .deadline = now + 60000 };
}

static struct kz_login_step f_closed(void *state, uint64_t now)
{
	closed_calls++;
	return done(state, KZ_LOGIN_NO_PROMPT, now);
}

static const uint8_t *f_output(const void *state, size_t *len)
{
	(void)state;
	*len = 0;
	return NULL;
}

static void f_consume(void *state, size_t n)
{
	(void)state;
	(void)n;
}

/* Descriptor mode: write "ping" when writable, read it back (the echo
 * server), then DONE with login-failed; any mismatch is an error. */
static struct kz_login_step f_ready(void *state, unsigned events, uint64_t now)
{
	struct fstate *st = state;
	if (events & KZ_LOGIN_EV_WRITE) {
		if (write(st->fd, "ping", 4) != 4)
			return done(st, KZ_LOGIN_ERROR, now);
		return (struct kz_login_step){ .want = KZ_LOGIN_WANT_IO,
			                       .deadline = now + 10000,
			                       .events = KZ_LOGIN_EV_READ };
	}
	ssize_t r = read(st->fd, st->echo + st->echo_len, sizeof st->echo - st->echo_len);
	if (r <= 0)
		return done(st, KZ_LOGIN_ERROR, now);
	st->echo_len += (size_t)r;
	if (st->echo_len < 4)
		return (struct kz_login_step){ .want = KZ_LOGIN_WANT_IO,
			                       .deadline = now + 10000,
			                       .events = KZ_LOGIN_EV_READ };
	return done(st, memcmp(st->echo, "ping", 4) == 0 ? KZ_LOGIN_FAILED : KZ_LOGIN_ERROR, now);
}

static void f_result(const void *state, struct kz_login_outcome *out)
{
	*out = ((const struct fstate *)state)->out;
}

static void f_release(void *state)
{
	(void)state;
	releases++;
}

static const struct kz_login_proto fake_bytes = {
	.name = "telnet",
	.app = KZ_LOGIN_APP_TELNET,
	.io = KZ_LOGIN_IO_BYTES,
	.state_size = sizeof(struct fstate),
	.init = f_init,
	.start = f_start,
	.connected = f_connected,
	.connect_failed = f_connect_failed,
	.tick = f_tick,
	.input = f_input,
	.closed = f_closed,
	.output = f_output,
	.consume = f_consume,
	.result = f_result,
	.release = f_release,
};

static const struct kz_login_proto fake_fd = {
	.name = "ssh",
	.app = KZ_LOGIN_APP_SSH,
	.io = KZ_LOGIN_IO_FD,
	.state_size = sizeof(struct fstate),
	.init = f_init,
	.start = f_start,
	.connected = f_connected,
	.connect_failed = f_connect_failed,
	.tick = f_tick,
	.ready = f_ready,
	.result = f_result,
	.release = f_release,
};

/* ---- fixtures --------------------------------------------------------------- */

#define MAX_REPORTS 512
static struct {
	struct kz_login_target t;
	enum kz_login_status status;
	bool unsupported, interrupted;
} reports[MAX_REPORTS];
static size_t nreports;

static void on_result(void *ctx, const struct kz_login_report *r)
{
	(void)ctx;
	assert_true(nreports < MAX_REPORTS);
	reports[nreports].t = *r->target;
	reports[nreports].status = r->outcome ? r->outcome->status : KZ_LOGIN_PENDING;
	reports[nreports].unsupported = r->unsupported;
	reports[nreports].interrupted = r->interrupted;
	nreports++;
}

static struct kz_scope *scope;
static struct kz_creds *creds;
static char scope_path[64];

static void quiet(enum kz_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)msg;
	(void)ud;
}

static int setup(void **state)
{
	(void)state;
	kz_log_set_handler(quiet, NULL, KZ_LOG_DEBUG);
	snprintf(scope_path, sizeof scope_path, "/tmp/kz-test-engine-XXXXXX");
	int fd = mkstemp(scope_path);
	if (fd < 0)
		return -1;
	const char text[] = "127.0.0.0/24\n::1\n";
	if (write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1))
		return -1;
	close(fd);
	struct kz_scope_config sc = { .scope_path = scope_path, .allow_reserved = true };
	if (kz_scope_load(&sc, &scope) != 0)
		return -1;
	const char *const lines[] = { "root:xc3511" };
	if (kz_creds_load_strings("test", lines, 1, &creds) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kz_scope_free(scope);
	kz_creds_free(creds);
	unlink(scope_path);
	return 0;
}

static void reset(void)
{
	nev = nreports = 0;
	open_now = open_peak = inits = releases = closed_calls = 0;
	input_total = 0;
	fake_now = 1000000;
}

static void config(struct kz_login_engine_config *cfg, const struct script *sc)
{
	kz_login_engine_defaults(cfg);
	cfg->scope = scope;
	cfg->creds = creds;
	cfg->protos[KZ_LOGIN_APP_TELNET] = &fake_bytes;
	cfg->proto_config[KZ_LOGIN_APP_TELNET] = sc;
	cfg->on_result = on_result;
	cfg->clock = fake_clock;
	cfg->wall = fake_wall;
	cfg->max_wait_ms = -1;
	cfg->has_seed = true;
	cfg->seed = 7;
}

/* A listener on addr:port (loopback), non-blocking; its port is returned
 * when port is 0. */
static int listen_on(const char *addr, uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(*port) };
	inet_pton(AF_INET, addr, &sa.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 128), 0);
	socklen_t len = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

static struct kz_login_target target(const char *addr, uint16_t port, enum kz_login_app app)
{
	struct kz_login_target t = { .port = port, .app = (uint8_t)app };
	const char *why;
	assert_int_equal(kz_addr_parse(addr, &t.addr, &why), 0);
	return t;
}

static void run_engine(struct kz_login_engine *e)
{
	kz_login_engine_close_input(e);
	assert_int_equal(kz_login_engine_run(e), 0);
}

/* ---- tests ------------------------------------------------------------------ */

static void global_limit(void **state)
{
	(void)state;
	reset();
	struct script sc = { .hold_ms = 1000 };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	cfg.concurrency = 5;
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	int lfd[20];
	for (int i = 0; i < 20; i++) {
		char a[32];
		snprintf(a, sizeof a, "127.0.0.%d", 100 + i);
		uint16_t port = 0;
		lfd[i] = listen_on(a, &port);
		struct kz_login_target t = target(a, port, KZ_LOGIN_APP_TELNET);
		assert_int_equal(kz_login_engine_submit(e, &t), 0);
	}
	run_engine(e);
	assert_int_equal(nreports, 20);
	assert_int_equal(open_peak, 5);
	struct kz_login_engine_stats st;
	kz_login_engine_stats(e, &st);
	assert_int_equal(st.peak_active, 5);
	assert_int_equal(st.done, 20);
	assert_int_equal(st.by_status[KZ_LOGIN_FAILED], 20);
	assert_int_equal(st.connections, 20);
	assert_int_equal(inits, 20);
	assert_int_equal(releases, 20);
	/* Every held connection ended by its deadline, not earlier. */
	for (size_t i = 0; i < nev; i++) {
		if (evlog[i].kind != 't')
			continue;
		for (size_t j = 0; j < i; j++)
			if (evlog[j].kind == 'c' && evlog[j].addr == evlog[i].addr)
				assert_true(evlog[i].now >= evlog[j].now + 1000);
	}
	kz_login_engine_free(e);
	for (int i = 0; i < 20; i++)
		close(lfd[i]);
}

/* The services of one host never overlap beyond per_host, and connections
 * to it are at least pace_ms apart. */
static void per_host_and_pace(void **state)
{
	(void)state;
	for (unsigned per_host = 1; per_host <= 2; per_host++) {
		reset();
		struct script sc = { .hold_ms = 200, .reconnects = 2 };
		struct kz_login_engine_config cfg;
		config(&cfg, &sc);
		cfg.per_host = per_host;
		cfg.pace_ms = 700;
		struct kz_login_engine *e;
		assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
		int lfd[4];
		for (int i = 0; i < 4; i++) {
			uint16_t port = 0;
			lfd[i] = listen_on("127.0.0.30", &port);
			struct kz_login_target t = target("127.0.0.30", port, KZ_LOGIN_APP_TELNET);
			assert_int_equal(kz_login_engine_submit(e, &t), 0);
		}
		/* Another host is not held back by the first. */
		uint16_t oport = 0;
		int ofd = listen_on("127.0.0.31", &oport);
		struct kz_login_target t = target("127.0.0.31", oport, KZ_LOGIN_APP_TELNET);
		assert_int_equal(kz_login_engine_submit(e, &t), 0);
		run_engine(e);
		assert_int_equal(nreports, 5);
		/* Replay the log: services in flight per host, and the gaps
		 * between connections to 127.0.0.30. */
		int inflight = 0, peak = 0;
		uint64_t last_connect = 0;
		uint32_t host = 0x7f00001e;
		unsigned seen_ports = 0;
		uint16_t ports[8] = { 0 };
		uint64_t other_connect = 0;
		for (size_t i = 0; i < nev; i++) {
			if (evlog[i].addr != host) {
				if (evlog[i].kind == 'c' && !other_connect)
					other_connect = evlog[i].now;
				continue;
			}
			if (evlog[i].kind == 'c') {
				bool known = false;
				for (unsigned k = 0; k < seen_ports; k++)
					known = known || ports[k] == evlog[i].port;
				if (!known) {
					ports[seen_ports++] = evlog[i].port;
					inflight++;
					if (inflight > peak)
						peak = inflight;
				}
				/* The plug-in sees a connection when it completes,
				 * at most one clock step (5 ms) after connect(). */
				if (last_connect)
					assert_true(evlog[i].now + 5 >= last_connect + 700);
				last_connect = evlog[i].now;
			}
			if (evlog[i].kind == 'd')
				inflight--;
		}
		assert_int_equal(peak, (int)per_host);
		assert_int_equal(seen_ports, 4);
		/* 4 services x 3 connections, 700 ms apart at least: the other
		 * host started long before the last of them. */
		assert_true(other_connect && other_connect < last_connect);
		kz_login_engine_free(e);
		for (int i = 0; i < 4; i++)
			close(lfd[i]);
		close(ofd);
	}
}

/* A connect asked for the future happens no earlier. */
static void connect_at(void **state)
{
	(void)state;
	reset();
	struct script sc = { .hold_ms = 10, .connect_in = 2500, .reconnects = 1 };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	cfg.pace_ms = 0;
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.40", &port);
	struct kz_login_target t = target("127.0.0.40", port, KZ_LOGIN_APP_TELNET);
	assert_int_equal(kz_login_engine_submit(e, &t), 0);
	run_engine(e);
	int connects = 0;
	for (size_t i = 0; i < nev; i++) {
		if (evlog[i].kind == 'c') {
			connects++;
			assert_true(evlog[i].now >= evlog[i].at);
		}
	}
	assert_int_equal(connects, 2);
	kz_login_engine_free(e);
	close(lfd);
}

struct flood {
	int lfd;
	size_t bytes;
};

static void *flood_server(void *arg)
{
	struct flood *f = arg;
	int fl = fcntl(f->lfd, F_GETFL);
	fcntl(f->lfd, F_SETFL, fl & ~O_NONBLOCK);
	int c = accept(f->lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	static char buf[65536];
	memset(buf, 'A', sizeof buf);
	size_t sent = 0;
	while (sent < f->bytes) {
		ssize_t w = write(c, buf, sizeof buf);
		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	close(c);
	return NULL;
}

/* Reading stops at the cap: the plug-in sees exactly cap bytes, then
 * closed(). */
static void byte_cap(void **state)
{
	(void)state;
	reset();
	struct script sc = { .read_all = true };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	cfg.max_conn_bytes = 100000;
	cfg.max_wait_ms = 1; /* the server thread runs in real time */
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	uint16_t port = 0;
	struct flood f = { .lfd = listen_on("127.0.0.41", &port), .bytes = 1 << 20 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, flood_server, &f), 0);
	struct kz_login_target t = target("127.0.0.41", port, KZ_LOGIN_APP_TELNET);
	assert_int_equal(kz_login_engine_submit(e, &t), 0);
	run_engine(e);
	assert_int_equal(input_total, 100000);
	assert_int_equal(closed_calls, 1);
	struct kz_login_engine_stats st;
	kz_login_engine_stats(e, &st);
	assert_int_equal(st.capped, 1);
	assert_int_equal(st.bytes_in, 100000);
	kz_login_engine_free(e);
	/* The server's writes fail once the engine has closed. */
	pthread_join(th, NULL);
	close(f.lfd);
}

/* A target outside the scope: no connection reaches its listener, no
 * report, the refusal counted, the plug-in released. */
static void scope_refusal(void **state)
{
	(void)state;
	reset();
	struct script sc = { .hold_ms = 10 };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	uint16_t oport = 0, iport = 0;
	int out = listen_on("127.0.1.5", &oport); /* outside 127.0.0.0/24 */
	int in = listen_on("127.0.0.5", &iport);
	struct kz_login_target t1 = target("127.0.1.5", oport, KZ_LOGIN_APP_TELNET);
	struct kz_login_target t2 = target("127.0.0.5", iport, KZ_LOGIN_APP_TELNET);
	assert_int_equal(kz_login_engine_submit(e, &t1), 0);
	assert_int_equal(kz_login_engine_submit(e, &t2), 0);
	run_engine(e);
	assert_int_equal(nreports, 1);
	assert_int_equal(kz_addr_v4(reports[0].t.addr), 0x7f000005);
	struct kz_login_engine_stats st;
	kz_login_engine_stats(e, &st);
	assert_int_equal(st.scope_refusals, 1);
	assert_int_equal(st.connections, 1);
	assert_int_equal(inits, 2);
	assert_int_equal(releases, 2);
	/* The outside listener's queue is empty; the inside one got its
	 * connection. */
	assert_int_equal(accept(out, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	int c = accept(in, NULL, NULL);
	assert_true(c >= 0);
	close(c);
	kz_login_engine_free(e);
	close(out);
	close(in);
}

/* No plug-in for the application: reported unsupported, no connection. */
static void unsupported(void **state)
{
	(void)state;
	reset();
	struct script sc = { .hold_ms = 10 };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	/* The defaults register every plug-in: take HTTP's away. */
	cfg.protos[KZ_LOGIN_APP_HTTP] = NULL;
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	struct kz_login_target t = target("127.0.0.50", 80, KZ_LOGIN_APP_HTTP);
	assert_int_equal(kz_login_engine_submit(e, &t), 0);
	run_engine(e);
	assert_int_equal(nreports, 1);
	assert_true(reports[0].unsupported);
	struct kz_login_engine_stats st;
	kz_login_engine_stats(e, &st);
	assert_int_equal(st.connections, 0);
	assert_int_equal(st.unsupported, 1);
	assert_int_equal(inits, 0);
	kz_login_engine_free(e);
}

static void queue_cap_and_shutdown(void **state)
{
	(void)state;
	reset();
	struct script sc = { .hold_ms = 10 };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	cfg.max_queue = 3;
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	struct kz_login_target t = target("127.0.0.60", 1, KZ_LOGIN_APP_HTTP);
	for (int i = 0; i < 3; i++) {
		t.port = (uint16_t)(i + 1);
		assert_int_equal(kz_login_engine_submit(e, &t), 0);
	}
	t.port = 9;
	assert_int_equal(kz_login_engine_submit(e, &t), -ENOBUFS);
	kz_login_engine_close_input(e);
	assert_int_equal(kz_login_engine_submit(e, &t), -ESHUTDOWN);
	struct kz_login_engine_stats st;
	kz_login_engine_stats(e, &st);
	assert_int_equal(st.submitted, 3);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.queued, 3);
	assert_int_equal(kz_login_engine_run(e), 0);
	assert_int_equal(nreports, 3);
	kz_login_engine_free(e);
}

/* A stop before the loop runs: nothing starts, every target is counted as
 * not started, whether the stop was asked once or twice. */
static void stop_test(int times)
{
	reset();
	struct script sc = { .hold_ms = 3000 };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	cfg.concurrency = 1;
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.70", &port);
	for (int i = 0; i < 3; i++) {
		struct kz_login_target t = target("127.0.0.70", port, KZ_LOGIN_APP_TELNET);
		t.port = (uint16_t)(port + (i ? 10000 + i : 0));
		assert_int_equal(kz_login_engine_submit(e, &t), 0);
	}
	kz_login_engine_close_input(e);
	for (int i = 0; i < times; i++)
		kz_login_engine_stop(e);
	assert_int_equal(kz_login_engine_run(e), 0);
	struct kz_login_engine_stats st;
	kz_login_engine_stats(e, &st);
	assert_int_equal(st.not_started, 3);
	assert_int_equal(nreports, 0);
	assert_int_equal(st.stopping, times);
	kz_login_engine_free(e);
	close(lfd);
}

static void stop_before_start(void **state)
{
	(void)state;
	stop_test(1);
	stop_test(2);
}

/* A stop while a service runs, from another thread: once, the queued
 * targets are dropped and the service in flight finishes; twice, it is
 * abandoned and reported interrupted, with status timeout. */
struct stop_arg {
	struct kz_login_engine *e;
	int times;
};

static void *stopper_thread(void *arg)
{
	struct stop_arg *a = arg;
	/* Wait until a connection is up, then stop. */
	for (int i = 0; i < 5000 && !__atomic_load_n(&open_now, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	for (int i = 0; i < a->times; i++)
		kz_login_engine_stop(a->e);
	return NULL;
}

static void stop_while_running(void **state)
{
	(void)state;
	for (int times = 1; times <= 2; times++) {
		reset();
		/* Long enough in fake time that the stop always comes first. */
		struct script sc = { .hold_ms = 5000 };
		struct kz_login_engine_config cfg;
		config(&cfg, &sc);
		cfg.concurrency = 1;
		cfg.max_wait_ms = 1; /* sleep a little: fake time must not race ahead */
		struct kz_login_engine *e;
		assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
		uint16_t port = 0;
		int lfd = listen_on("127.0.0.71", &port);
		for (int i = 0; i < 3; i++) {
			struct kz_login_target t = target("127.0.0.71", port, KZ_LOGIN_APP_TELNET);
			t.port = (uint16_t)(port + (i ? 10000 + i : 0));
			assert_int_equal(kz_login_engine_submit(e, &t), 0);
		}
		kz_login_engine_close_input(e);
		struct stop_arg a = { e, times };
		pthread_t th;
		assert_int_equal(pthread_create(&th, NULL, stopper_thread, &a), 0);
		assert_int_equal(kz_login_engine_run(e), 0);
		pthread_join(th, NULL);
		struct kz_login_engine_stats st;
		kz_login_engine_stats(e, &st);
		assert_int_equal(st.not_started, 2);
		if (times == 1) {
			/* The one in flight ran to its deadline. */
			assert_int_equal(nreports, 1);
			assert_false(reports[0].interrupted);
			assert_int_equal(reports[0].status, KZ_LOGIN_FAILED);
		} else {
			assert_int_equal(nreports, 1);
			assert_true(reports[0].interrupted);
			assert_int_equal(reports[0].status, KZ_LOGIN_TIMEOUT);
			assert_int_equal(st.interrupted, 1);
		}
		assert_int_equal(releases, inits);
		kz_login_engine_free(e);
		close(lfd);
	}
}

/* Targets submitted from another thread while the loop runs. */
struct feeder {
	struct kz_login_engine *e;
	uint16_t ports[10];
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	for (int i = 0; i < 10; i++) {
		struct kz_login_target t = target("127.0.0.80", f->ports[i], KZ_LOGIN_APP_TELNET);
		t.addr.v += (unsigned)i;
		if (kz_login_engine_submit(f->e, &t) != 0)
			return (void *)1;
		usleep(2000);
	}
	kz_login_engine_close_input(f->e);
	return NULL;
}

static void threaded_submit(void **state)
{
	(void)state;
	reset();
	struct script sc = { .hold_ms = 50 };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	cfg.max_wait_ms = 1;
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	struct feeder f = { .e = e };
	int lfd[10];
	for (int i = 0; i < 10; i++) {
		char a[32];
		snprintf(a, sizeof a, "127.0.0.%d", 80 + i);
		f.ports[i] = 0;
		lfd[i] = listen_on(a, &f.ports[i]);
	}
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, feed, &f), 0);
	assert_int_equal(kz_login_engine_run(e), 0);
	void *ret;
	pthread_join(th, &ret);
	assert_null(ret);
	assert_int_equal(nreports, 10);
	kz_login_engine_free(e);
	for (int i = 0; i < 10; i++)
		close(lfd[i]);
}

static void *echo_server(void *arg)
{
	int lfd = *(int *)arg;
	int fl = fcntl(lfd, F_GETFL);
	fcntl(lfd, F_SETFL, fl & ~O_NONBLOCK);
	int c = accept(lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	char buf[16];
	ssize_t n = read(c, buf, sizeof buf);
	if (n > 0 && write(c, buf, (size_t)n) != n)
		n = -1;
	/* Hold the connection until the client closes it. */
	while (read(c, buf, sizeof buf) > 0)
		;
	close(c);
	return NULL;
}

/* A descriptor-driving plug-in gets the connected socket and the readiness
 * it asked for. */
static void descriptor_plugin(void **state)
{
	(void)state;
	reset();
	struct script sc = { .echo = true };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	cfg.protos[KZ_LOGIN_APP_SSH] = &fake_fd;
	cfg.proto_config[KZ_LOGIN_APP_SSH] = &sc;
	cfg.max_wait_ms = 1;
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	uint16_t port = 0;
	int lfd = listen_on("127.0.0.90", &port);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, echo_server, &lfd), 0);
	struct kz_login_target t = target("127.0.0.90", port, KZ_LOGIN_APP_SSH);
	assert_int_equal(kz_login_engine_submit(e, &t), 0);
	run_engine(e);
	assert_int_equal(nreports, 1);
	assert_int_equal(reports[0].status, KZ_LOGIN_FAILED);
	kz_login_engine_free(e);
	pthread_join(th, NULL);
	close(lfd);
}

/* IPv6: the same engine over an AF_INET6 socket, the local address noted. */
static struct kz_addr v6_local;
static bool v6_has_local;

static void on_result_v6(void *ctx, const struct kz_login_report *r)
{
	on_result(ctx, r);
	v6_has_local = r->has_local;
	v6_local = r->local;
}

static void ipv6(void **state)
{
	(void)state;
	reset();
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		skip();
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		skip(); /* no IPv6 on this machine */
	}
	assert_int_equal(listen(fd, 16), 0);
	socklen_t len = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &len);
	struct script sc = { .hold_ms = 10 };
	struct kz_login_engine_config cfg;
	config(&cfg, &sc);
	cfg.on_result = on_result_v6;
	struct kz_login_engine *e;
	assert_int_equal(kz_login_engine_new(&cfg, &e), 0);
	struct kz_login_target t = target("::1", ntohs(sa.sin6_port), KZ_LOGIN_APP_TELNET);
	assert_int_equal(kz_login_engine_submit(e, &t), 0);
	run_engine(e);
	assert_int_equal(nreports, 1);
	assert_int_equal(reports[0].status, KZ_LOGIN_FAILED);
	assert_true(v6_has_local);
	assert_true(v6_local.v == (kz_u128)1);
	kz_login_engine_free(e);
	close(fd);
}

static void bad_config(void **state)
{
	(void)state;
	struct kz_login_engine_config cfg;
	struct script sc = { 0 };
	config(&cfg, &sc);
	struct kz_login_engine *e;
	struct kz_login_proto broken = fake_bytes;
	broken.input = NULL;
	cfg.protos[KZ_LOGIN_APP_TELNET] = &broken;
	assert_int_equal(kz_login_engine_new(&cfg, &e), -EINVAL);
	config(&cfg, &sc);
	cfg.protos[KZ_LOGIN_APP_HTTP] = &fake_bytes; /* a telnet plug-in in http's place */
	assert_int_equal(kz_login_engine_new(&cfg, &e), -EINVAL);
	config(&cfg, &sc);
	cfg.scope = NULL;
	assert_int_equal(kz_login_engine_new(&cfg, &e), -EINVAL);
	config(&cfg, &sc);
	cfg.concurrency = KZ_LOGIN_MAX_CONCURRENCY + 1;
	assert_int_equal(kz_login_engine_new(&cfg, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(global_limit),
		cmocka_unit_test(per_host_and_pace),
		cmocka_unit_test(connect_at),
		cmocka_unit_test(byte_cap),
		cmocka_unit_test(scope_refusal),
		cmocka_unit_test(unsupported),
		cmocka_unit_test(queue_cap_and_shutdown),
		cmocka_unit_test(stop_before_start),
		cmocka_unit_test(stop_while_running),
		cmocka_unit_test(threaded_submit),
		cmocka_unit_test(descriptor_plugin),
		cmocka_unit_test(ipv6),
		cmocka_unit_test(bad_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
