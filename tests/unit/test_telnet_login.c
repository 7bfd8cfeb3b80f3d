/*
 * The telnet login machine, driven by the byte transcripts of
 * docs/devsim-spec.md: one test per device behaviour (B01–B29) asserting the
 * status and the pair, plus the edge cases around them.
 *
 * A script is a list of events on a simulated clock: the device sends bytes
 * (S, after a delay), the prober is expected to send bytes (C: the clock
 * runs on through the machine's deadlines until it has), the device closes,
 * a connection is made or refused. The runner checks that the prober sends
 * exactly the expected bytes and nothing else, that every deadline lies in
 * the future, and at every new connection that nothing unexpected was sent
 * on the last one — which is how "nothing is sent after a login" is checked.
 *
 * With KZ_WRITE_TELNET_CORPUS=DIR set, each script also writes its server
 * bytes as a seed for tests/fuzz/fuzz_telnet.c (4 chunking-seed bytes, then
 * the stream): that is how tests/fuzz/corpus/telnet/ was made.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "telnet_login.h"

enum op {
	OP_END = 0,
	OP_CONN,   /* the prober connects (after it asks to) */
	OP_REFUSE, /* the prober's connect is refused */
	OP_S,      /* the device sends bytes after ms */
	OP_C,      /* the prober sends bytes (eventually) */
	OP_CU,     /* the prober sends the control user line */
	OP_CP,     /* the prober sends the control password line */
	OP_SCU,    /* the device echoes the control user and CR LF */
	OP_WAIT,   /* time passes */
	OP_CLOSE,  /* the device closes */
};

struct ev {
	enum op op;
	uint32_t ms;
	const char *bytes;
	size_t len;
};

#define CONN()                                                                                     \
	{                                                                                          \
		.op = OP_CONN                                                                      \
	}
#define REFUSE()                                                                                   \
	{                                                                                          \
		.op = OP_REFUSE                                                                    \
	}
#define S(t, str)                                                                                  \
	{                                                                                          \
		.op = OP_S, .ms = (t), .bytes = (str), .len = sizeof(str) - 1                      \
	}
#define C(str)                                                                                     \
	{                                                                                          \
		.op = OP_C, .bytes = (str), .len = sizeof(str) - 1                                 \
	}
#define CU()                                                                                       \
	{                                                                                          \
		.op = OP_CU                                                                        \
	}
#define CP()                                                                                       \
	{                                                                                          \
		.op = OP_CP                                                                        \
	}
#define SCU(t)                                                                                     \
	{                                                                                          \
		.op = OP_SCU, .ms = (t)                                                            \
	}
#define WAIT(t)                                                                                    \
	{                                                                                          \
		.op = OP_WAIT, .ms = (t)                                                           \
	}
#define CLOSE()                                                                                    \
	{                                                                                          \
		.op = OP_CLOSE                                                                     \
	}
#define END()                                                                                      \
	{                                                                                          \
		.op = OP_END                                                                       \
	}

/* The spec's example list (docs/devsim-spec.md section 1). */
static const struct kz_login_cred spec_creds[] = {
	{ "root", "xc3511" }, { "root", "vizxv" }, { "admin", "admin" },
	{ "root", "admin" },  { "", "1234" },      { "support", "support" },
};
#define NSPEC (sizeof spec_creds / sizeof spec_creds[0])

struct runner {
	struct kz_telnet_login m;
	struct kz_telnet_login_params p;
	struct kz_login_step step;
	uint64_t now, t0;
	uint8_t sent[1 << 14];
	size_t sent_len;
	const char *name;
	FILE *seed;
	size_t seed_bytes;
};

static void hex(char *buf, size_t cap, const uint8_t *b, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 120; i++) {
		size_t l = strlen(buf);
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\')
			snprintf(buf + l, cap - l, "%c", b[i]);
		else
			snprintf(buf + l, cap - l, "\\x%02x", b[i]);
	}
}

static const char *want_name(enum kz_login_want w)
{
	return w == KZ_LOGIN_WANT_CONNECT ? "connect" : w == KZ_LOGIN_WANT_IO ? "io" : "done";
}

static void collect(struct runner *r)
{
	size_t n;
	const uint8_t *o = kz_telnet_login_output(&r->m, &n);
	if (r->sent_len + n > sizeof r->sent)
		fail_msg("%s: the prober sent more than %zu bytes", r->name, sizeof r->sent);
	memcpy(r->sent + r->sent_len, o, n);
	r->sent_len += n;
	kz_telnet_login_consume(&r->m, n);
}

static void event(struct runner *r, struct kz_login_step s)
{
	r->step = s;
	if (s.want == KZ_LOGIN_WANT_IO && s.deadline <= r->now)
		fail_msg("%s: deadline %llu not after now %llu", r->name,
		         (unsigned long long)s.deadline, (unsigned long long)r->now);
	if (s.want == KZ_LOGIN_WANT_CONNECT && s.deadline <= s.at)
		fail_msg("%s: connect deadline not after its start", r->name);
	collect(r);
}

/* Runs the machine's timers up to target (while it wants IO). */
static void tick_to(struct runner *r, uint64_t target)
{
	for (int guard = 0; r->step.want == KZ_LOGIN_WANT_IO && r->step.deadline <= target;
	     guard++) {
		if (guard > 100000)
			fail_msg("%s: the machine does not progress", r->name);
		r->now = r->step.deadline;
		event(r, kz_telnet_login_tick(&r->m, r->now));
	}
	if (target > r->now)
		r->now = target;
}

/* Runs the timers until the machine leaves IO (or has sent n bytes). */
static void tick_until(struct runner *r, size_t n)
{
	for (int guard = 0; r->step.want == KZ_LOGIN_WANT_IO && r->sent_len < n; guard++) {
		if (guard > 100000)
			fail_msg("%s: the machine does not progress", r->name);
		r->now = r->step.deadline;
		event(r, kz_telnet_login_tick(&r->m, r->now));
	}
}

static void device_sends(struct runner *r, uint32_t ms, const void *bytes, size_t len)
{
	tick_to(r, r->now + ms);
	if (r->step.want != KZ_LOGIN_WANT_IO) {
		char h[512];
		hex(h, sizeof h, bytes, len);
		fail_msg("%s: the device sends \"%s\" at %llu ms but the prober wants %s (%s)",
		         r->name, h, (unsigned long long)(r->now - r->t0), want_name(r->step.want),
		         kz_telnet_login_result(&r->m)->reason);
	}
	/* Seeds stay small: a huge banner is cut at 16 KiB. */
	if (r->seed && r->seed_bytes + len <= 16384) {
		fwrite(bytes, 1, len, r->seed);
		r->seed_bytes += len;
	}
	event(r, kz_telnet_login_input(&r->m, bytes, len, r->now));
}

static void prober_sends(struct runner *r, const void *bytes, size_t len)
{
	tick_until(r, len);
	if (r->sent_len < len || memcmp(r->sent, bytes, len) != 0) {
		char a[512], b[512];
		hex(a, sizeof a, r->sent, r->sent_len);
		hex(b, sizeof b, bytes, len);
		fail_msg("%s at %llu ms: the prober sent \"%s\", expected \"%s\" (step %s, %s)",
		         r->name, (unsigned long long)(r->now - r->t0), a, b,
		         want_name(r->step.want), kz_telnet_login_result(&r->m)->reason);
	}
	memmove(r->sent, r->sent + len, r->sent_len - len);
	r->sent_len -= len;
}

static void expect_nothing_sent(struct runner *r, const char *when)
{
	if (r->sent_len) {
		char a[512];
		hex(a, sizeof a, r->sent, r->sent_len);
		fail_msg("%s: unexpected bytes from the prober %s: \"%s\"", r->name, when, a);
	}
}

static void connect_event(struct runner *r, bool refuse)
{
	tick_until(r, SIZE_MAX);
	if (r->step.want != KZ_LOGIN_WANT_CONNECT)
		fail_msg("%s at %llu ms: expected a connect, the prober wants %s (%s)", r->name,
		         (unsigned long long)(r->now - r->t0), want_name(r->step.want),
		         kz_telnet_login_result(&r->m)->reason);
	expect_nothing_sent(r, "before reconnecting");
	if (r->step.at > r->now)
		r->now = r->step.at;
	if (refuse)
		event(r, kz_telnet_login_connect_failed(&r->m, -ECONNREFUSED, r->now));
	else
		event(r, kz_telnet_login_connected(&r->m, r->now));
}

static void line_of(char *buf, size_t cap, const char *s, size_t *len)
{
	*len = (size_t)snprintf(buf, cap, "%s\r\n", s);
}

static void run_op(struct runner *r, const struct ev *e)
{
	const char *cu, *cp;
	char line[64];
	size_t n;
	kz_telnet_login_control_pair(&r->m, &cu, &cp);
	switch (e->op) {
	case OP_CONN:
		connect_event(r, false);
		break;
	case OP_REFUSE:
		connect_event(r, true);
		break;
	case OP_S:
		device_sends(r, e->ms, e->bytes, e->len);
		break;
	case OP_C:
		prober_sends(r, e->bytes, e->len);
		break;
	case OP_CU:
		line_of(line, sizeof line, cu, &n);
		prober_sends(r, line, n);
		break;
	case OP_CP:
		line_of(line, sizeof line, cp, &n);
		prober_sends(r, line, n);
		break;
	case OP_SCU:
		line_of(line, sizeof line, cu, &n);
		device_sends(r, e->ms, line, n);
		break;
	case OP_WAIT:
		tick_to(r, r->now + e->ms);
		break;
	case OP_CLOSE:
		event(r, kz_telnet_login_closed(&r->m, r->now));
		break;
	case OP_END:
		break;
	}
}

static void runner_init(struct runner *r, const char *name, const struct kz_login_cred *creds,
                        size_t n)
{
	memset(r, 0, sizeof *r);
	r->name = name;
	kz_telnet_login_defaults(&r->p);
	r->p.creds = creds;
	r->p.ncreds = n;
	r->p.control_seed = 42;
}

static void runner_start(struct runner *r)
{
	assert_int_equal(kz_telnet_login_init(&r->m, &r->p), 0);
	const char *dir = getenv("KZ_WRITE_TELNET_CORPUS");
	/* The 1 MiB banner's seed would repeat the 100 KiB one. */
	if (dir && !strstr(r->name, "banner-1m")) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, r->name);
		r->seed = fopen(path, "wb");
		assert_non_null(r->seed);
		/* Chunking seed: small chunks, short gaps (fuzz_telnet.c). */
		fwrite("\x01\x00\x00\x00", 1, 4, r->seed);
	}
	r->now = r->t0 = 1000000;
	event(r, kz_telnet_login_start(&r->m, r->now));
}

static const struct kz_telnet_login_result *runner_end(struct runner *r)
{
	for (int guard = 0; r->step.want == KZ_LOGIN_WANT_IO; guard++) {
		if (guard > 100000)
			fail_msg("%s: the machine does not finish", r->name);
		r->now = r->step.deadline;
		event(r, kz_telnet_login_tick(&r->m, r->now));
	}
	if (r->step.want != KZ_LOGIN_WANT_DONE)
		fail_msg("%s: expected the end, the prober wants %s", r->name,
		         want_name(r->step.want));
	expect_nothing_sent(r, "at the end");
	if (r->seed) {
		fclose(r->seed);
		r->seed = NULL;
	}
	return kz_telnet_login_result(&r->m);
}

static const struct kz_telnet_login_result *run(struct runner *r, const struct ev *script)
{
	runner_start(r);
	for (const struct ev *e = script; e->op != OP_END; e++)
		run_op(r, e);
	return runner_end(r);
}

static void expect_result(const struct runner *r, const struct kz_telnet_login_result *res,
                          enum kz_login_status status, int pair)
{
	if (res->status != status || res->pair != pair)
		fail_msg("%s: got %s pair %d (%s), expected %s pair %d", r->name,
		         kz_login_status_name(res->status, KZ_LOGIN_APP_TELNET), res->pair,
		         res->reason, kz_login_status_name(status, KZ_LOGIN_APP_TELNET), pair);
}

/* Runs a script with the spec's list and checks status and pair. */
static const struct kz_telnet_login_result *check(const char *name, const struct ev *script,
                                                  enum kz_login_status status, int pair)
{
	static struct runner r;
	runner_init(&r, name, spec_creds, NSPEC);
	const struct kz_telnet_login_result *res = run(&r, script);
	expect_result(&r, res, status, pair);
	return res;
}

/* ---- device building blocks (docs/devsim-spec.md section 5) ----------- */

#define BB_OPEN "\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03"
#define BB_REPLY                                                                                   \
	"\xff\xfc\x01\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0\xff\xfd\x01\xff\xfd\x03"
#define BB2_OPEN   "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f"
#define BB2_REPLY  "\xff\xfd\x01\xff\xfd\x03\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"
#define CISCO_OPEN "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f"
#define CISCO_REPLY                                                                                \
	"\xff\xfd\x01\xff\xfd\x03\xff\xfc\x18\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"
#define BB_SHELL                                                                                   \
	"\r\n\r\nBusyBox v1.19.4 (2014-03-12 10:30:17 CST) built-in shell (ash)\r\nEnter 'help' "  \
	"for a list of built-in commands.\r\n\r\n~ # "

#define BB_START    CONN(), S(0, BB_OPEN), C(BB_REPLY), S(10, "\r\n(none) login: ")
#define BB_REPROMPT S(10, "(none) login: ")
#define BB_SEND(u, pw)                                                                             \
	C(u "\r\n"), S(10, u "\r\n"), S(50, "Password: "), C(pw "\r\n"), S(10, "\r\n")
#define BB_FAIL(u, pw) BB_SEND(u, pw), S(3000, "Login incorrect\r\n")
#define BB_OK(u, pw)   BB_SEND(u, pw), S(200, BB_SHELL)
#define BB_CONTROL_FAIL                                                                            \
	BB_START, CU(), SCU(10), S(50, "Password: "), CP(), S(10, "\r\n"),                         \
	        S(3000, "Login incorrect\r\n"), BB_REPROMPT

/* ---- one test per behaviour ------------------------------------------- */

/* 5.1 / B01: busybox, three failures per connection, success on the second
 * connection, control pair rejected. */
static void test_b01_busybox_weak(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START,
		BB_FAIL("root", "xc3511"),
		BB_REPROMPT,
		BB_FAIL("root", "vizxv"),
		BB_REPROMPT,
		BB_FAIL("admin", "admin"),
		CLOSE(),
		BB_START,
		BB_OK("root", "admin"),
		BB_CONTROL_FAIL,
		END(),
	};
	const struct kz_telnet_login_result *res =
	        check("b01-busybox-weak", script, KZ_LOGIN_POSSIBLE, 3);
	assert_true(res->password_asked);
	assert_false(res->password_only);
	assert_int_equal(res->attempts, 4);
	assert_int_equal(res->connections, 3);
	assert_non_null(memmem(res->evidence, res->evidence_len, "~ # ", 4));
	assert_int_equal(res->banner_len, strlen("\r\n(none) login: "));
	assert_memory_equal(res->banner, "\r\n(none) login: ", res->banner_len);
}

/* 5.0: the bytes captured from Debian 12's busybox-static 1.35.0 (telnetd
 * -l login), weak admin/admin behind three failures. */
#define BB135_START CONN(), S(0, BB_OPEN "\r\r\nDebian GNU/Linux 12\r\n\rvm login: "), C(BB_REPLY)
#define BB135_FAIL(u, pw)                                                                          \
	C(u "\r\n"), S(10, u "\r\nPassword: "), C(pw "\r\n"), S(3000, "\r\nLogin incorrect\r\n")
static void test_busybox_135_captured(void **state)
{
	(void)state;
	static const struct kz_login_cred creds[] = {
		{ "root", "xc3511" }, { "root", "vizxv" },      { "root", "12345" },
		{ "admin", "admin" }, { "support", "support" },
	};
	static const struct ev script[] = {
		BB135_START,
		BB135_FAIL("root", "xc3511"),
		S(0, "vm login: "),
		BB135_FAIL("root", "vizxv"),
		S(0, "vm login: "),
		BB135_FAIL("root", "12345"),
		CLOSE(),
		BB135_START,
		C("admin\r\n"),
		S(10, "admin\r\nPassword: "),
		C("admin\r\n"),
		/* Debian's MOTD, ash's banner, the prompt, and ash asking the terminal
		 * for the cursor position (ESC [ 6n), which must not be answered. */
		S(50,
		  "\r\n\r\nThe programs included with the Debian GNU/Linux system are free "
		  "software;\r\nthe exact distribution terms for each program are described in "
		  "the\r\nindividual files in /usr/share/doc/*/copyright.\r\n\r\nDebian GNU/Linux "
		  "comes with ABSOLUTELY NO WARRANTY, to the extent\r\npermitted by applicable "
		  "law.\r\n\r\n\r\nBusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) built-in shell "
		  "(ash)\r\nEnter 'help' for a list of built-in commands.\r\n\r\n$ \x1b[6n"),
		BB135_START,
		CU(),
		SCU(10),
		S(0, "Password: "),
		CP(),
		S(3000, "\r\nLogin incorrect\r\n"),
		S(0, "vm login: "),
		END(),
	};
	static struct runner r;
	runner_init(&r, "busybox-135-captured", creds, 5);
	const struct kz_telnet_login_result *res = run(&r, script);
	expect_result(&r, res, KZ_LOGIN_POSSIBLE, 3);
	assert_int_equal(res->connections, 3);
}

/* B17: strong password. Every usable pair fails; the password-only pair #4
 * is not tried at a username prompt; the machine stops at the re-prompt. */
static void test_b17_strong(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START,
		BB_FAIL("root", "xc3511"),
		BB_REPROMPT,
		BB_FAIL("root", "vizxv"),
		BB_REPROMPT,
		BB_FAIL("admin", "admin"),
		CLOSE(),
		BB_START,
		BB_FAIL("root", "admin"),
		BB_REPROMPT,
		BB_FAIL("support", "support"),
		BB_REPROMPT,
		END(),
	};
	const struct kz_telnet_login_result *res = check("b17-strong", script, KZ_LOGIN_FAILED, -1);
	assert_true(res->exhausted);
	assert_int_equal(res->attempts, 5);
}

/* 5.2: Cisco-style IOS. */
#define CISCO_PROMPT "\r\n\r\nUser Access Verification\r\n\r\nUsername: "
#define CISCO_FAIL(u, pw)                                                                          \
	C(u "\r\n"), S(10, u "\r\n"), S(10, "Password: "), C(pw "\r\n"), S(10, "\r\n"),            \
	        S(2000, "\r\n% Login invalid\r\n\r\nUsername: ")
static void test_s08_cisco(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, CISCO_OPEN),
		C(CISCO_REPLY),
		S(20, CISCO_PROMPT),
		CISCO_FAIL("root", "xc3511"),
		CISCO_FAIL("root", "vizxv"),
		C("admin\r\n"),
		S(10, "admin\r\n"),
		S(10, "Password: "),
		C("admin\r\n"),
		S(10, "\r\n"),
		S(100, "\r\nRouter>"),
		CONN(),
		S(0, CISCO_OPEN),
		C(CISCO_REPLY),
		S(20, CISCO_PROMPT),
		CU(),
		SCU(10),
		S(10, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(2000, "\r\n% Login invalid\r\n\r\nUsername: "),
		END(),
	};
	check("s08-cisco", script, KZ_LOGIN_POSSIBLE, 2);
}

/* 5.3: password-only (ZyNOS-style), no negotiation; a password already
 * tried ("admin" of pair #3) is not tried again. */
static void test_s13_password_only(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, "\r\nPassword: "),
		C("xc3511\r\n"),
		S(1000, "\r\nPassword: "),
		C("vizxv\r\n"),
		S(1000, "\r\nPassword: "),
		C("admin\r\n"),
		WAIT(1000),
		CLOSE(),
		CONN(),
		S(0, "\r\nPassword: "),
		C("1234\r\n"),
		S(300, "\r\n\r\nras> "),
		CONN(),
		S(0, "\r\nPassword: "),
		CP(),
		S(1000, "\r\nPassword: "),
		END(),
	};
	const struct kz_telnet_login_result *res =
	        check("s13-password-only", script, KZ_LOGIN_POSSIBLE, 4);
	assert_true(res->password_only);
	assert_true(res->password_asked);
}

/* 5.4: D-Link-style "UserName:" / "PassWord:" with no trailing space. */
#define DL_FAIL(u, pw)                                                                             \
	C(u "\r\n"), S(10, u "\r\n"), S(10, "PassWord:"), C(pw "\r\n"), S(10, "\r\n"),             \
	        S(1000, "\r\n Fail!\r\n"), S(10, "\r\n\r\nUserName:")
static void test_s12_dlink(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, "\xff\xfb\x01\xff\xfb\x03"),
		C("\xff\xfd\x01\xff\xfd\x03"),
		S(10, "\r\n\r\nUserName:"),
		DL_FAIL("root", "xc3511"),
		DL_FAIL("root", "vizxv"),
		C("admin\r\n"),
		S(10, "admin\r\n"),
		S(10, "PassWord:"),
		C("admin\r\n"),
		S(10, "\r\n"),
		S(100, "\r\n\r\nDES-3028:admin#"),
		CONN(),
		S(0, "\xff\xfb\x01\xff\xfb\x03"),
		C("\xff\xfd\x01\xff\xfd\x03"),
		S(10, "\r\n\r\nUserName:"),
		CU(),
		SCU(10),
		S(10, "PassWord:"),
		CP(),
		S(10, "\r\n"),
		S(1000, "\r\n Fail!\r\n"),
		S(10, "\r\n\r\nUserName:"),
		END(),
	};
	check("s12-dlink", script, KZ_LOGIN_POSSIBLE, 2);
}

/* Vendor prompt forms, one device each: the prompt, the failure, the shell. */
struct vendor {
	const char *name;
	const char *open; /* negotiation bytes hold NULs: lengths are explicit */
	size_t open_len;
	const char *reply;
	size_t reply_len;
	const char *user_prompt, *pass_prompt, *fail, *shell;
};
#define LIT(s) s, sizeof(s) - 1

static void run_vendor(const struct vendor *v)
{
	static struct runner r;
	runner_init(&r, v->name, spec_creds, NSPEC);
	runner_start(&r);
	char buf[512];
	for (int conn = 0; conn < 2; conn++) {
		struct ev e[] = {
			{ .op = OP_CONN },
			{ .op = OP_S, .bytes = v->open, .len = v->open_len },
			{ .op = OP_C, .bytes = v->reply, .len = v->reply_len },
			{ .op = OP_S,
			  .ms = 10,
			  .bytes = v->user_prompt,
			  .len = strlen(v->user_prompt) },
		};
		for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
			if (e[i].len || e[i].op == OP_CONN)
				run_op(&r, &e[i]);
		const char *u = conn == 0 ? "root" : NULL, *pw = "xc3511";
		if (u) {
			snprintf(buf, sizeof buf, "%s\r\n", u);
			prober_sends(&r, buf, strlen(buf));
		} else {
			run_op(&r, &(struct ev){ .op = OP_CU });
		}
		device_sends(&r, 10, v->pass_prompt, strlen(v->pass_prompt));
		if (u) {
			snprintf(buf, sizeof buf, "%s\r\n", pw);
			prober_sends(&r, buf, strlen(buf));
			device_sends(&r, 10, "\r\n", 2);
			device_sends(&r, 200, v->shell, strlen(v->shell));
		} else {
			run_op(&r, &(struct ev){ .op = OP_CP });
			device_sends(&r, 10, "\r\n", 2);
			device_sends(&r, 1000, v->fail, strlen(v->fail));
			device_sends(&r, 10, v->user_prompt, strlen(v->user_prompt));
		}
	}
	expect_result(&r, runner_end(&r), KZ_LOGIN_POSSIBLE, 0);
}

static void test_vendor_styles(void **state)
{
	(void)state;
	static const struct vendor v[] = {
		{ "s02-busybox-new", LIT(BB2_OPEN), LIT(BB2_REPLY),
		  "\r\nOpenWrt login: ", "Password: ", "Login incorrect\r\n",
		  "\r\n\r\nBusyBox v1.36.1 () built-in shell (ash)\r\n\r\nroot@OpenWrt:~# " },
		{ "s03-hikvision", LIT(BB_OPEN), LIT(BB_REPLY),
		  "\r\ndvrdvs login: ", "Password: ", "Login incorrect\r\n",
		  "\r\n\r\nBusyBox v1.19.3 (2015-06-11 15:49:58 CST) built-in shell (ash)\r\nEnter "
		  "'help' for a list of built-in commands.\r\n\r\n[root@dvrdvs /] # " },
		{ "s04-dahua", LIT(BB_OPEN), LIT(BB_REPLY),
		  "\r\nLogin: ", "Password: ", "\r\nLogin incorrect\r\n", "\r\n~ # " },
		{ "s05-zte", LIT("\xff\xfb\x01\xff\xfb\x03"), LIT("\xff\xfd\x01\xff\xfd\x03"),
		  "\r\nLogin: ", "\r\nPassword: ", "\r\nLogin incorrect\r\n", "\r\n/ # " },
		{ "s06-huawei-ont", LIT("\xff\xfb\x01\xff\xfb\x03"),
		  LIT("\xff\xfd\x01\xff\xfd\x03"), "\r\nLogin:", "\r\nPassword:",
		  "\r\nUsername or password error!\r\n", "\r\nWAP>" },
		{ "s07-huawei-vrp", LIT("\xff\xfb\x01\xff\xfb\x03"),
		  LIT("\xff\xfd\x01\xff\xfd\x03"),
		  "\r\n\r\nLogin authentication\r\n\r\n\r\nUsername:", "\r\nPassword:",
		  "\r\nError: Local authentication is rejected.\r\n",
		  "\r\n\r\nInfo: The max number of VTY users is 5, and the number\r\n      of "
		  "current "
		  "VTY users on line is 1.\r\n<HUAWEI>" },
		{ "s09-mikrotik", LIT("\xff\xfd\x18\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03"),
		  LIT("\xff\xfc\x18\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0\xff\xfd\x01\xff"
		      "\xfd"
		      "\x03"),
		  "Login: ", "Password: ",
		  "\r\nLogin failed, incorrect username or password\r\n\r\n",
		  "\r\n\r\n  MMM      MMM       KKK                          TTTTTTTTTTT      "
		  "KKK\r\n"
		  "  MMMM    MMMM       KKK                          TTTTTTTTTTT      KKK\r\n\r\n"
		  "  MikroTik RouterOS 6.49 (c) 1999-2021       http://www.mikrotik.com/\r\n\r\n"
		  "[admin@MikroTik] > " },
		{ "s10-login-as", LIT("\xff\xfb\x01\xff\xfb\x03"), LIT("\xff\xfd\x01\xff\xfd\x03"),
		  "login as: ", "Password: ", "Access denied\r\n", "\r\n$ " },
		{ "s11-user-name", LIT("\xff\xfb\x01\xff\xfb\x03"), LIT("\xff\xfd\x01\xff\xfd\x03"),
		  "\r\nUser Name:", "\r\nPassword:", "\r\n\r\n% Authentication failed\r\n",
		  "\r\n\r\nswitch# " },
		{ "s15-generic-router", LIT("\xff\xfb\x01\xff\xfb\x03"),
		  LIT("\xff\xfd\x01\xff\xfd\x03"),
		  "\r\nUser: ", "Password: ", "\r\nBad password\r\n", "\r\nRouterOS> " },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		run_vendor(&v[i]);
}

/* B02: slow device (2 s before the first byte, 1.5 s to the password
 * prompt, 3 s failure delay, 2 s to the shell). */
static void test_b02_slow(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		WAIT(2000),
		S(0, BB_OPEN),
		C(BB_REPLY),
		S(200, "\r\nWelcome\r\n"),
		S(200, "\r\n(none) login: "),
		C("root\r\n"),
		S(10, "root\r\n"),
		S(1500, "Password: "),
		C("xc3511\r\n"),
		S(10, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		S(10, "(none) login: "),
		C("root\r\n"),
		S(10, "root\r\n"),
		S(1500, "Password: "),
		C("vizxv\r\n"),
		S(10, "\r\n"),
		S(2000, "\r\n~ # "),
		BB_CONTROL_FAIL,
		END(),
	};
	check("b02-slow", script, KZ_LOGIN_POSSIBLE, 1);
}

/* B03: character-at-a-time echo, one segment per byte, password as '*',
 * CR NUL line ends in the banner. */
#define ECHO4(a, b, c, d) S(5, a), S(5, b), S(5, c), S(5, d)
static void test_b03_char_echo(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, BB2_OPEN),
		C(BB2_REPLY),
		S(10, "Router\r\0\r\0OpenWrt login: "),
		C("root\r\n"),
		ECHO4("r", "o", "o", "t"),
		S(5, "\r\n"),
		S(50, "Password: "),
		C("xc3511\r\n"),
		ECHO4("*", "*", "*", "*"),
		S(5, "*"),
		S(5, "*"),
		S(5, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		S(10, "\r\nOpenWrt login: "),
		C("root\r\n"),
		ECHO4("r", "o", "o", "t"),
		S(5, "\r\n"),
		S(50, "Password: "),
		C("vizxv\r\n"),
		ECHO4("*", "*", "*", "*"),
		S(5, "*"),
		S(5, "\r\n"),
		S(200, "\r\n\r\nBusyBox v1.36.1 () built-in shell (ash)\r\n\r\nroot@OpenWrt:~# "),
		CONN(),
		S(0, BB2_OPEN),
		C(BB2_REPLY),
		S(10, "Router\r\0\r\0OpenWrt login: "),
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		S(10, "\r\nOpenWrt login: "),
		END(),
	};
	check("b03-char-echo", script, KZ_LOGIN_POSSIBLE, 1);
}

/* B03: a password ending in '#' echoed in clear on a line of its own must
 * not look like a shell prompt. */
static void test_b03_echoed_hash_password(void **state)
{
	(void)state;
	static const struct kz_login_cred creds[] = { { "root", "ab#" } };
	static const struct ev script[] = {
		CONN(),
		S(0, "\r\n(none) login: "),
		C("root\r\n"),
		S(10, "root\r\n"),
		S(50, "Password:\r\n"),
		C("ab#\r\n"),
		S(5, "a"),
		S(5, "b"),
		S(5, "#"),
		END(),
	};
	static struct runner r;
	runner_init(&r, "b03-echoed-hash", creds, 1);
	expect_result(&r, run(&r, script), KZ_LOGIN_FAILED, -1);
}

/* B04: no option negotiation at all. */
static void test_b04_no_negotiation(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, "\r\n(none) login: "),
		BB_OK("root", "xc3511"),
		CONN(),
		S(0, "\r\n(none) login: "),
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		BB_REPROMPT,
		END(),
	};
	check("b04-no-negotiation", script, KZ_LOGIN_POSSIBLE, 0);
}

/* B05: negotiation-heavy, stalling until answered (netkit-style S14). */
#define S14_DO   "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"
#define S14_WONT "\xff\xfc\x18\xff\xfc\x20\xff\xfc\x23\xff\xfc\x27"
#define S14_MORE                                                                                   \
	"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f\xff\xfd\x22\xff\xfb\x05\xff\xfd\x21\xff\xfb\x01\xff" \
	"\xfd"                                                                                     \
	"\x1f"
#define S14_MORE_REPLY                                                                             \
	"\xff\xfd\x01\xff\xfd\x03\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0\xff\xfc\x22\xff" \
	"\xfe"                                                                                     \
	"\x05\xff\xfc\x21"
#define S14_SHELL                                                                                  \
	"\r\nLast login: Tue Nov 26 10:01:02 UTC 2024 from 198.51.100.7 on pts/0\r\n"              \
	"[admin@host ~]$ "
static void test_b05_negotiation_heavy(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, S14_DO),
		C(S14_WONT),
		S(20, S14_MORE),
		C(S14_MORE_REPLY),
		S(10, "\xff\xfa\x18\x01\xff\xf0"),
		S(10, "\xff\xfc\x01\xff\xfb\x01"),
		C("\xff\xfe\x01\xff\xfd\x01"),
		S(10, "Debian GNU/Linux 12\r\nhost login: "),
		C("root\r\n"),
		S(10, "root\r\n"),
		S(10, "Password: "),
		C("xc3511\r\n"),
		S(10, "\r\n"),
		S(3000, "\r\nLogin incorrect\r\n"),
		S(10, "host login: "),
		C("root\r\n"),
		S(10, "root\r\n"),
		S(10, "Password: "),
		C("vizxv\r\n"),
		S(10, "\r\n"),
		S(200, S14_SHELL),
		CONN(),
		S(0, S14_DO),
		C(S14_WONT),
		S(20, S14_MORE),
		C(S14_MORE_REPLY),
		S(10, "Debian GNU/Linux 12\r\nhost login: "),
		CU(),
		SCU(10),
		S(10, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(3000, "\r\nLogin incorrect\r\n"),
		S(10, "host login: "),
		END(),
	};
	check("b05-negotiation-heavy", script, KZ_LOGIN_POSSIBLE, 1);
}

/* Drops what the prober sent, checking it is nothing but negotiation
 * replies, and returns how many replies there were. */
static unsigned drain_replies(struct runner *r)
{
	unsigned n = 0;
	size_t i = 0;
	while (i < r->sent_len) {
		assert_true(r->sent_len - i >= 3);
		assert_int_equal(r->sent[i], 0xff);
		uint8_t verb = r->sent[i + 1], opt = r->sent[i + 2];
		assert_true(verb >= 0xfb && verb <= 0xfe);
		if (verb == 0xfd)
			assert_true(opt == 1 || opt == 3);
		i += 3;
		if (verb == 0xfb) {
			assert_int_equal(opt, 31);
			assert_true(r->sent_len - i >= 9);
			assert_memory_equal(r->sent + i, "\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0", 9);
			i += 9;
		}
		n++;
	}
	r->sent_len = 0;
	return n;
}

/* B06: 5,000 random negotiation commands, NOPs and GAs before the prompt. */
static void test_b06_option_flood(void **state)
{
	(void)state;
	static uint8_t flood[5000 * 3 + 13 * 4]; /* 13 NOP+GA pairs: i % 400 == 0 */
	size_t n = 0;
	uint32_t x = 7;
	for (int i = 0; i < 5000; i++) {
		x = x * 1103515245u + 12345u;
		flood[n++] = 0xff;
		flood[n++] = (uint8_t)(0xfb + ((x >> 8) & 3));
		flood[n++] = (uint8_t)(x >> 16);
		if (i % 400 == 0) {
			flood[n++] = 0xff;
			flood[n++] = 0xf1;
			flood[n++] = 0xff;
			flood[n++] = 0xf9;
		}
	}
	static struct runner r;
	runner_init(&r, "b06-option-flood", spec_creds, NSPEC);
	runner_start(&r);
	run_op(&r, &(struct ev)CONN());
	device_sends(&r, 0, flood, n);
	assert_true(drain_replies(&r) <= KZ_TELNET_MAX_REPLIES);
	static const struct ev rest[] = {
		S(10, "\r\n(none) login: "),
		BB_OK("root", "xc3511"),
		CONN(),
		S(0, "\r\n(none) login: "),
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		BB_REPROMPT,
	};
	for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
		run_op(&r, &rest[i]);
	expect_result(&r, runner_end(&r), KZ_LOGIN_POSSIBLE, 0);
}

/* B07: IAC IAC data bytes in the banner and the prompt line; the banner is
 * recorded as the clean data. */
static void test_b07_iac_iac(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, BB_OPEN),
		C(BB_REPLY),
		S(10, "\r\n\xff\xff\xff\xff Gr\xe4t \xff\xff v2\r\n"),
		S(0, "\xff\xff(none) login: "),
		BB_OK("root", "xc3511"),
		BB_CONTROL_FAIL,
		END(),
	};
	const struct kz_telnet_login_result *res =
	        check("b07-iac-iac", script, KZ_LOGIN_POSSIBLE, 0);
	static const char want[] = "\r\n\xff\xff Gr\xe4t \xff v2\r\n\xff(none) login: ";
	assert_int_equal(res->banner_len, sizeof want - 1);
	assert_memory_equal(res->banner, want, sizeof want - 1);
}

/* B07 variant: a password holding 0xff (and a user holding CR) goes out
 * escaped: 0xff doubled, CR as CR NUL. */
static void test_b07_escaped_credentials(void **state)
{
	(void)state;
	static const struct kz_login_cred creds[] = { { "r\rt", "p\xffss" } };
	static const struct ev script[] = {
		CONN(),
		S(0, "\r\n(none) login: "),
		C("r\r\0t\r\n"),
		S(10, "\r\n"),
		S(50, "Password: "),
		C("p\xff\xffss\r\n"),
		S(10, "\r\n"),
		S(200, "\r\n~ # "),
		CONN(),
		S(0, "\r\n(none) login: "),
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(1000, "Login incorrect\r\n"),
		CLOSE(),
		END(),
	};
	static struct runner r;
	runner_init(&r, "b07-escaped-credentials", creds, 1);
	expect_result(&r, run(&r, script), KZ_LOGIN_POSSIBLE, 0);
}

/* IAC IAC in a password prompt line of a password-only device. */
static void test_iac_iac_in_password_prompt(void **state)
{
	(void)state;
	static const struct kz_login_cred creds[] = { { "", "1234" } };
	static const struct ev script[] = {
		CONN(),        S(0, "\r\n\xff\xff Password: "),
		C("1234\r\n"), S(100, "\r\n# "),
		CONN(),        S(0, "\r\n\xff\xff Password: "),
		CP(),          S(1000, "\r\n\xff\xff Password: "),
		END(),
	};
	static struct runner r;
	runner_init(&r, "iac-iac-password-prompt", creds, 1);
	expect_result(&r, run(&r, script), KZ_LOGIN_POSSIBLE, 0);
}

/* B08: CR NUL line ends everywhere in the device's output. */
static void test_b08_cr_nul(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, BB_OPEN),
		C(BB_REPLY),
		S(10, "\r\0(none) login: "),
		C("root\r\n"),
		S(10, "root\r\0\n"),
		S(50, "\r\0Password: "),
		C("xc3511\r\n"),
		S(10, "\r\0\n"),
		S(3000, "Login incorrect\r\0\n"),
		S(10, "\r\0(none) login: "),
		C("root\r\n"),
		S(10, "root\r\0\n"),
		S(50, "\r\0Password: "),
		C("vizxv\r\n"),
		S(10, "\r\0\n"),
		S(200, "\r\0\n~ # "),
		BB_CONTROL_FAIL,
		END(),
	};
	check("b08-cr-nul", script, KZ_LOGIN_POSSIBLE, 1);
}

/* B09: banners full of '#', '%', '>' before every prompt, with a pause that
 * leaves a bare "#" at the end of the output for 1 s. Strong: never a
 * false success, never no-auth. */
#define HASH_BANNER                                                                                \
	"\r\n##########################################\r\n"                                       \
	"#  Welcome to the device management port  #\r\n"                                          \
	"#  Unauthorized access is prohibited!     #\r\n"                                          \
	"##########################################\r\n"                                           \
	"% Authorized users only >\r\n"                                                            \
	"Type 'help' at the # prompt or use the $ menu\r\n"                                        \
	"-->\r\n"                                                                                  \
	"admin@device# \r\n"                                                                       \
	"#"
#define HASH_FAIL(u, pw) BB_FAIL(u, pw), S(10, HASH_BANNER), S(1000, "\r\n(none) login: ")
static void test_b09_hash_banner(void **state)
{
	(void)state;
	static const struct kz_login_cred creds[] = { { "root", "xc3511" },
		                                      { "root", "vizxv" },
		                                      { "admin", "admin" } };
	static const struct ev script[] = {
		CONN(),
		S(0, BB_OPEN),
		C(BB_REPLY),
		S(10, HASH_BANNER),
		S(1000, "\r\n(none) login: "),
		HASH_FAIL("root", "xc3511"),
		HASH_FAIL("root", "vizxv"),
		BB_FAIL("admin", "admin"),
		CLOSE(),
		END(),
	};
	static struct runner r;
	runner_init(&r, "b09-hash-banner", creds, 3);
	expect_result(&r, run(&r, script), KZ_LOGIN_FAILED, -1);
}

/* A shell-like "# " line after a wrong password, replaced by a login
 * prompt within the success quiet period, is a failure. */
static void test_hash_tail_then_reprompt(void **state)
{
	(void)state;
	static const struct kz_login_cred creds[] = { { "root", "xc3511" } };
	static const struct ev script[] = {
		BB_START,
		BB_SEND("root", "xc3511"),
		S(500, "\r\n# "),
		S(2000, "\r\nLogin incorrect\r\n(none) login: "),
		END(),
	};
	static struct runner r;
	runner_init(&r, "hash-tail-then-reprompt", creds, 1);
	expect_result(&r, run(&r, script), KZ_LOGIN_FAILED, -1);
}

/* A banner whose last line is "# " before a login prompt 2 s later is not
 * no-auth. */
static void test_hash_banner_not_noauth(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, "\r\nWelcome\r\n# "),
		S(2000, "\r\n(none) login: "),
		BB_OK("root", "xc3511"),
		CONN(),
		S(0, "\r\nWelcome\r\n# "),
		S(2000, "\r\n(none) login: "),
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		BB_REPROMPT,
		END(),
	};
	check("hash-banner-not-noauth", script, KZ_LOGIN_POSSIBLE, 0);
}

/* B10: very large banners (100 KiB and 1 MiB) before the prompt: bounded
 * memory, banner capped at 4 KiB, prompt still found. */
static void huge_banner(size_t size, size_t chunk)
{
	static uint8_t banner[(1 << 20) + 80];
	size_t n = 0;
	while (n + 80 <= size) {
		for (int i = 0; i < 78; i++)
			banner[n + (size_t)i] = (uint8_t)('A' + (n / 80 + (size_t)i) % 26);
		banner[n + 78] = '\r';
		banner[n + 79] = '\n';
		n += 80;
	}
	static struct runner r;
	runner_init(&r, size > 200000 ? "b10-banner-1m" : "b10-banner-100k", spec_creds, NSPEC);
	runner_start(&r);
	run_op(&r, &(struct ev)CONN());
	for (size_t off = 0; off < n; off += chunk)
		device_sends(&r, 1, banner + off, off + chunk <= n ? chunk : n - off);
	static const struct ev rest[] = {
		S(10, "\r\n(none) login: "),
		BB_OK("root", "xc3511"),
		BB_CONTROL_FAIL,
	};
	for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
		run_op(&r, &rest[i]);
	const struct kz_telnet_login_result *res = runner_end(&r);
	expect_result(&r, res, KZ_LOGIN_POSSIBLE, 0);
	assert_int_equal(res->banner_len, KZ_TELNET_LOGIN_BANNER_MAX);
	assert_int_equal(res->banner_seen, n + strlen("\r\n(none) login: "));
}

static void test_b10_huge_banner(void **state)
{
	(void)state;
	huge_banner(100 * 1024, 4096);
	huge_banner(1 << 20, 65536);
}

/* A flood past the per-connection input cap with no prompt ends the wait. */
static void test_input_cap(void **state)
{
	(void)state;
	static uint8_t text[3000];
	memset(text, 'x', sizeof text);
	static struct runner r;
	runner_init(&r, "input-cap", spec_creds, NSPEC);
	r.p.max_conn_bytes = 1000;
	r.seed = NULL;
	runner_start(&r);
	run_op(&r, &(struct ev)CONN());
	device_sends(&r, 0, text, sizeof text);
	expect_result(&r, runner_end(&r), KZ_LOGIN_NO_PROMPT, -1);
}

/* B11: close after every failure; one connection per pair. */
#define CLOSE_FAIL(u, pw) BB_START, BB_SEND(u, pw), S(1000, "Login incorrect\r\n"), CLOSE()
static void test_b11_close_after_failure(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CLOSE_FAIL("root", "xc3511"),
		CLOSE_FAIL("root", "vizxv"),
		BB_START,
		BB_OK("admin", "admin"),
		BB_START,
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(1000, "Login incorrect\r\n"),
		CLOSE(),
		END(),
	};
	const struct kz_telnet_login_result *res =
	        check("b11-close-after-failure", script, KZ_LOGIN_POSSIBLE, 2);
	assert_int_equal(res->connections, 4);
}

/* B12: silent failure, connection kept open: the pair fails 10 s after the
 * password and the machine reconnects. */
static void test_b12_silent_open(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START, BB_SEND("root", "xc3511"),
		BB_START, BB_OK("root", "vizxv"),
		BB_START, CU(),
		SCU(10),  S(50, "Password: "),
		CP(),     S(10, "\r\n"),
		END(),
	};
	check("b12-silent-open", script, KZ_LOGIN_POSSIBLE, 1);
}

/* B13: silent failure with a re-prompt and no message. */
static void test_b13_silent_reprompt(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START,
		BB_SEND("root", "xc3511"),
		S(1000, "(none) login: "),
		BB_SEND("root", "vizxv"),
		S(1000, "(none) login: "),
		BB_OK("admin", "admin"),
		BB_START,
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(1000, "(none) login: "),
		END(),
	};
	check("b13-silent-reprompt", script, KZ_LOGIN_POSSIBLE, 2);
}

/* B14: delayed success, 5 s of silence after the right password. */
static void test_b14_delayed_success(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START,
		BB_FAIL("root", "xc3511"),
		BB_REPROMPT,
		BB_SEND("root", "vizxv"),
		S(5000, "\r\nWelcome to DVR\r\nStorage: OK\r\n\r\n~ # "),
		BB_CONTROL_FAIL,
		END(),
	};
	check("b14-delayed-success", script, KZ_LOGIN_POSSIBLE, 1);
}

/* B15: failure words in the post-login MOTD, then the shell prompt. */
static void test_b15_incorrect_in_motd(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START,
		BB_FAIL("root", "xc3511"),
		BB_REPROMPT,
		BB_SEND("root", "vizxv"),
		S(200,
		  "\r\nWarning: 3 incorrect login attempts since your last login.\r\n"
		  "Last failed login: Tue Nov 26 09:58:11 UTC 2024, access denied\r\n\r\n~ # "),
		BB_CONTROL_FAIL,
		END(),
	};
	check("b15-incorrect-in-motd", script, KZ_LOGIN_POSSIBLE, 1);
}

/* B16: accept anything; the control pair logs in too. */
static void test_b16_accepts_any(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START,
		BB_OK("root", "xc3511"),
		BB_START,
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(200, "\r\n~ # "),
		END(),
	};
	const struct kz_telnet_login_result *res =
	        check("b16-accepts-any", script, KZ_LOGIN_ACCEPTS_ANY, -1);
	assert_int_equal(res->attempts, 1);

	static const struct ev pass_only[] = {
		CONN(),
		S(0, "\r\nPassword: "),
		C("xc3511\r\n"),
		S(300, "\r\n\r\nras> "),
		CONN(),
		S(0, "\r\nPassword: "),
		CP(),
		S(300, "\r\n\r\nras> "),
		END(),
	};
	check("b16-accepts-any-password-only", pass_only, KZ_LOGIN_ACCEPTS_ANY, -1);
}

/* B18: a shell with no credential asked (OpenWrt first boot). */
static void test_b18_no_auth(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, BB2_OPEN),
		C(BB2_REPLY),
		S(50, "\r\n\r\nBusyBox v1.36.1 () built-in shell (ash)\r\n\r\n"
		      "  _______                     ________        __\r\n"
		      " |       |.-----.-----.-----.|  |  |  |.----.|  |_\r\n"
		      " |   -   ||  _  |  -__|     ||  |  |  ||   _||   _|\r\n"
		      " |_______||   __|_____|__|__||________||__|  |____|\r\n"
		      "          |__| W I R E L E S S   F R E E D O M\r\n"
		      " -----------------------------------------------------\r\n"
		      "root@OpenWrt:/# "),
		END(),
	};
	const struct kz_telnet_login_result *res =
	        check("b18-no-auth", script, KZ_LOGIN_NO_AUTH, -1);
	assert_int_equal(res->attempts, 0);
	assert_int_equal(res->connections, 1);
	assert_non_null(memmem(res->evidence, res->evidence_len, "root@OpenWrt:/# ", 16));
}

/* B19: tarpit that says nothing: the nudge at 5 s, timeout at 15 s. */
static void test_b19_tarpit_silent(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		C("\r\n"),
		END(),
	};
	static struct runner r;
	runner_init(&r, "b19-tarpit-silent", spec_creds, NSPEC);
	const struct kz_telnet_login_result *res = run(&r, script);
	expect_result(&r, res, KZ_LOGIN_TIMEOUT, -1);
	assert_int_equal(r.now - r.t0, 15000);
}

/* B20: tarpit dripping text, and one dripping IAC NOP only. */
static void test_b20_tarpit_drip(void **state)
{
	(void)state;
	static const struct ev text[] = {
		CONN(),       S(0, "P"),    S(2000, "l"), S(2000, "e"), S(2000, "a"),
		S(2000, "s"), S(2000, "e"), S(2000, " "), END(),
	};
	check("b20-tarpit-drip", text, KZ_LOGIN_NO_PROMPT, -1);
	static const struct ev nop[] = {
		CONN(),
		S(0, "\xff\xf1"),
		S(2000, "\xff\xf1"),
		S(2000, "\xff\xf1"),
		S(2000, "\xff\xf1"),
		C("\r\n"),
		S(2000, "\xff\xf1"),
		S(2000, "\xff\xf1"),
		S(2000, "\xff\xf1"),
		END(),
	};
	check("b20-tarpit-nop", nop, KZ_LOGIN_NO_PROMPT, -1);
}

/* B21–B23: another protocol on port 23. */
static void test_b21_ssh(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, "SSH-2.0-dropbear_2020.81\r\n"),
		END(),
	};
	const struct kz_telnet_login_result *res =
	        check("b21-ssh", script, KZ_LOGIN_OTHER_PROTOCOL, -1);
	assert_int_equal(res->banner_len, 26);
}

static void test_b22_http(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		C("\r\n"),
		S(10,
		  "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
		  "<html><body>400 Bad Request</body></html>"),
		END(),
	};
	check("b22-http", script, KZ_LOGIN_OTHER_PROTOCOL, -1);
}

#define FRAME                                                                                      \
	"\x00\x00\x00\x1c\x01\x02\x00\x00\xa5\x5a\x10\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00" \
	"\x00\x00\x7f\x00\x00\x01"
static void test_b23_binary(void **state)
{
	(void)state;
	static const struct ev frames[] = {
		CONN(),
		S(0, FRAME),
		S(1000, FRAME),
		END(),
	};
	check("b23-binary", frames, KZ_LOGIN_OTHER_PROTOCOL, -1);
	static const struct ev tls[] = {
		CONN(), C("\r\n"), S(10, "\x15\x03\x01\x00\x02\x02\x32"), CLOSE(), END(),
	};
	check("b23-tls", tls, KZ_LOGIN_OTHER_PROTOCOL, -1);
}

/* B24: "Press RETURN to get started": the nudge wakes the device. */
static void test_b24_press_return(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, CISCO_OPEN),
		C(CISCO_REPLY),
		S(10, "\r\n\r\nPress RETURN to get started.\r\n"),
		C("\r\n"),
		S(10, CISCO_PROMPT),
		C("root\r\n"),
		S(10, "root\r\n"),
		S(10, "Password: "),
		C("xc3511\r\n"),
		S(10, "\r\n"),
		S(100, "\r\nRouter>"),
		CONN(),
		S(0, CISCO_OPEN),
		C(CISCO_REPLY),
		S(10, "\r\n\r\nPress RETURN to get started.\r\n"),
		C("\r\n"),
		S(10, CISCO_PROMPT),
		CU(),
		SCU(10),
		S(10, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(2000, "\r\n% Login invalid\r\n\r\nUsername: "),
		END(),
	};
	check("b24-press-return", script, KZ_LOGIN_POSSIBLE, 0);
}

/* B25: after a failure the device asks the password again for the same
 * user. The machine reconnects instead of sending the next pair's password,
 * so it credits root/admin (#3), never admin/admin (#2). */
#define SAME_USER_FAIL(u, pw) BB_START, BB_SEND(u, pw), S(1000, "Login incorrect\r\nPassword: ")
static void test_b25_same_user_reprompt(void **state)
{
	(void)state;
	static const struct ev script[] = {
		SAME_USER_FAIL("root", "xc3511"),
		SAME_USER_FAIL("root", "vizxv"),
		SAME_USER_FAIL("admin", "admin"),
		BB_START,
		BB_OK("root", "admin"),
		BB_START,
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(1000, "Login incorrect\r\nPassword: "),
		END(),
	};
	check("b25-same-user-reprompt", script, KZ_LOGIN_POSSIBLE, 3);
}

/* B26: an account with an empty password: the shell comes after the user. */
static void test_b26_empty_password(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START,         C("root\r\n"),   S(10, "root\r\n"),
		S(200, BB_SHELL), BB_CONTROL_FAIL, END(),
	};
	const struct kz_telnet_login_result *res =
	        check("b26-empty-password", script, KZ_LOGIN_POSSIBLE, 0);
	assert_false(res->password_asked);
}

/* B27: new connections refused for a while after each close. */
static void test_b27_reconnect_cooldown(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CLOSE_FAIL("root", "xc3511"),
		REFUSE(),
		REFUSE(),
		BB_START,
		BB_OK("root", "vizxv"),
		BB_START,
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(1000, "Login incorrect\r\n"),
		CLOSE(),
		END(),
	};
	check("b27-reconnect-cooldown", script, KZ_LOGIN_POSSIBLE, 1);
}

/* B28: segmented output: half prompts are never answered, and "Last
 * login:" is never a username prompt. */
static void test_b28_segmented(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, BB_OPEN),
		C(BB_REPLY),
		S(10, "\r\n(none) lo"),
		S(300, "gin: "),
		C("root\r\n"),
		S(10, "root\r\n"),
		S(50, "Pass"),
		S(300, "word: "),
		C("xc3511\r\n"),
		S(10, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		S(10, "(none) lo"),
		S(300, "gin: "),
		C("root\r\n"),
		S(10, "root\r\n"),
		S(50, "Pass"),
		S(300, "word: "),
		C("vizxv\r\n"),
		S(10, "\r\n"),
		S(200, "\r\nLast login:"),
		S(300, " Tue Nov 26 10:01:02 UTC 2024 from 198.51.100.7 on pts/0\r\n"),
		S(10, "~ "),
		S(300, "# "),
		BB_CONTROL_FAIL,
		END(),
	};
	check("b28-segmented", script, KZ_LOGIN_POSSIBLE, 1);
}

/* B29: ANSI colours in the login prompt and the shell prompt. */
static void test_b29_ansi(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, BB2_OPEN),
		C(BB2_REPLY),
		S(10, "\r\n\x1b[1;32m(none) login:\x1b[0m "),
		C("root\r\n"),
		S(10, "root\r\n"),
		S(50, "Password: "),
		C("xc3511\r\n"),
		S(10, "\r\n"),
		S(200, "\r\n\x1b[1;32mroot@OpenWrt\x1b[0m:\x1b[1;34m~\x1b[0m# "),
		CONN(),
		S(0, BB2_OPEN),
		C(BB2_REPLY),
		S(10, "\r\n\x1b[1;32m(none) login:\x1b[0m "),
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		S(10, "\r\n\x1b[1;32m(none) login:\x1b[0m "),
		END(),
	};
	check("b29-ansi", script, KZ_LOGIN_POSSIBLE, 0);
}

/* A password-only device that answers a right password after 2 s with no
 * newline first: the old "Password: " line still on screen is not a
 * re-prompt. */
static void test_delayed_success_no_newline(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, "\r\nPassword: "),
		C("xc3511\r\n"),
		S(100, "\x1b[0m"),
		S(2000, "\r\n\r\nras> "),
		CONN(),
		S(0, "\r\nPassword: "),
		CP(),
		S(1000, "\r\nPassword: "),
		END(),
	};
	check("delayed-success-no-newline", script, KZ_LOGIN_POSSIBLE, 0);
}

/* A shell prompt followed at once by a close is not a login we can
 * confirm: the pair counts as failed. */
static void test_shell_then_close(void **state)
{
	(void)state;
	static const struct kz_login_cred creds[] = { { "root", "xc3511" } };
	static const struct ev script[] = {
		BB_START, BB_SEND("root", "xc3511"), S(200, "\r\n# "), CLOSE(), END(),
	};
	static struct runner r;
	runner_init(&r, "shell-then-close", creds, 1);
	expect_result(&r, run(&r, script), KZ_LOGIN_FAILED, -1);
}

/* A failure message and then silence (no re-prompt, no close): the pair is
 * failed after the failure quiet period (4 s), not the full 10 s. */
static void test_failure_message_then_silence(void **state)
{
	(void)state;
	static const struct kz_login_cred creds[] = { { "root", "xc3511" } };
	static const struct ev script[] = {
		BB_START,
		BB_SEND("root", "xc3511"),
		S(1000, "Login incorrect\r\n"),
	};
	static struct runner r;
	runner_init(&r, "failure-message-then-silence", creds, 1);
	runner_start(&r);
	for (size_t i = 0; i < sizeof script / sizeof script[0]; i++)
		run_op(&r, &script[i]);
	uint64_t message_at = r.now;
	expect_result(&r, runner_end(&r), KZ_LOGIN_FAILED, -1);
	assert_int_equal(r.now - message_at, 4000);
}

/* The same with the failure message left at the end of the output, no
 * newline after it. */
static void test_failure_tail_then_silence(void **state)
{
	(void)state;
	static const struct kz_login_cred creds[] = { { "root", "xc3511" } };
	static const struct ev script[] = {
		BB_START,
		BB_SEND("root", "xc3511"),
		S(1000, "Access denied"),
	};
	static struct runner r;
	runner_init(&r, "failure-tail-then-silence", creds, 1);
	runner_start(&r);
	for (size_t i = 0; i < sizeof script / sizeof script[0]; i++)
		run_op(&r, &script[i]);
	uint64_t message_at = r.now;
	expect_result(&r, runner_end(&r), KZ_LOGIN_FAILED, -1);
	assert_int_equal(r.now - message_at, 4000);
}

/* ---- the line recognisers ---------------------------------------------- */

static void test_prompt_kinds(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		enum kz_telnet_prompt kind;
	} cases[] = {
		/* username prompts */
		{ "login: ", KZ_TELNET_PROMPT_USER },
		{ "(none) login: ", KZ_TELNET_PROMPT_USER },
		{ "dvrdvs login:", KZ_TELNET_PROMPT_USER },
		{ "Login as: ", KZ_TELNET_PROMPT_USER },
		{ "login as:", KZ_TELNET_PROMPT_USER },
		{ "Username:", KZ_TELNET_PROMPT_USER },
		{ "UserName:", KZ_TELNET_PROMPT_USER },
		{ "User Name:", KZ_TELNET_PROMPT_USER },
		{ "User Name :", KZ_TELNET_PROMPT_USER },
		{ "user:", KZ_TELNET_PROMPT_USER },
		{ "User: ", KZ_TELNET_PROMPT_USER },
		{ "Login ID:", KZ_TELNET_PROMPT_USER },
		{ "Account:", KZ_TELNET_PROMPT_USER },
		{ "Please enter your user name:", KZ_TELNET_PROMPT_USER },
		{ "Username>", KZ_TELNET_PROMPT_USER },
		{ "BCM96338 Login:", KZ_TELNET_PROMPT_USER },
		/* password prompts */
		{ "Password: ", KZ_TELNET_PROMPT_PASS },
		{ "PassWord:", KZ_TELNET_PROMPT_PASS },
		{ "password for root:", KZ_TELNET_PROMPT_PASS },
		{ "Enter password >", KZ_TELNET_PROMPT_PASS },
		{ "passwd:", KZ_TELNET_PROMPT_PASS },
		{ "Pass:", KZ_TELNET_PROMPT_PASS },
		{ "PIN:", KZ_TELNET_PROMPT_PASS },
		{ "Login password:", KZ_TELNET_PROMPT_PASS },
		/* shell prompts */
		{ "# ", KZ_TELNET_PROMPT_SHELL },
		{ "$ ", KZ_TELNET_PROMPT_SHELL },
		{ "> ", KZ_TELNET_PROMPT_SHELL },
		{ "%", KZ_TELNET_PROMPT_SHELL },
		{ "~ # ", KZ_TELNET_PROMPT_SHELL },
		{ "/ # ", KZ_TELNET_PROMPT_SHELL },
		{ "[admin@host ~]$ ", KZ_TELNET_PROMPT_SHELL },
		{ "[root@dvrdvs /] # ", KZ_TELNET_PROMPT_SHELL },
		{ "root@OpenWrt:~# ", KZ_TELNET_PROMPT_SHELL },
		{ "RouterOS> ", KZ_TELNET_PROMPT_SHELL },
		{ "[admin@MikroTik] > ", KZ_TELNET_PROMPT_SHELL },
		{ "<HUAWEI>", KZ_TELNET_PROMPT_SHELL },
		{ "WAP>", KZ_TELNET_PROMPT_SHELL },
		{ "Router#", KZ_TELNET_PROMPT_SHELL },
		{ "DES-3028:admin#", KZ_TELNET_PROMPT_SHELL },
		{ "ras> ", KZ_TELNET_PROMPT_SHELL },
		/* none of these */
		{ "", KZ_TELNET_PROMPT_NONE },
		{ "Last login: Tue Nov 26 10:01:02 UTC 2024", KZ_TELNET_PROMPT_NONE },
		{ "Last login:", KZ_TELNET_PROMPT_NONE },
		{ "Login incorrect", KZ_TELNET_PROMPT_NONE },
		{ "% Login invalid", KZ_TELNET_PROMPT_NONE },
		{ "Bad password:", KZ_TELNET_PROMPT_NONE },
		{ "New password:", KZ_TELNET_PROMPT_NONE },
		{ "Hostname:", KZ_TELNET_PROMPT_NONE },
		{ "##########", KZ_TELNET_PROMPT_NONE },
		{ "#  Welcome to the device management port  #", KZ_TELNET_PROMPT_NONE },
		{ "# Unauthorized access is prohibited! #", KZ_TELNET_PROMPT_NONE },
		{ "-->", KZ_TELNET_PROMPT_NONE },
		{ "==>", KZ_TELNET_PROMPT_NONE },
		{ "Press any key to continue>", KZ_TELNET_PROMPT_NONE },
		{ "<html><body>400 Bad Request</body></html>", KZ_TELNET_PROMPT_NONE },
		{ "Type 'help' at the # prompt or use the $ menu", KZ_TELNET_PROMPT_NONE },
		{ "router##", KZ_TELNET_PROMPT_NONE },
		{ "~ ", KZ_TELNET_PROMPT_NONE },
		{ "(none) lo", KZ_TELNET_PROMPT_NONE },
		{ "Pass", KZ_TELNET_PROMPT_NONE },
		{ "Warning: 3 incorrect login attempts #", KZ_TELNET_PROMPT_NONE },
		{ "Welcome ***>", KZ_TELNET_PROMPT_NONE },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum kz_telnet_prompt k = kz_telnet_prompt_kind((const uint8_t *)cases[i].line,
		                                                strlen(cases[i].line));
		if (k != cases[i].kind)
			fail_msg("\"%s\": kind %d, expected %d", cases[i].line, k, cases[i].kind);
	}
}

/* ---- machine edges ----------------------------------------------------- */

/* A device that shows a prompt and then never answers a credential: three
 * stalls in a row end the check (timeout, not login-failed). */
static void test_stall_after_credentials(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START, C("root\r\n"), BB_START, C("root\r\n"), BB_START, C("admin\r\n"), END(),
	};
	const struct kz_telnet_login_result *res =
	        check("stall-after-credentials", script, KZ_LOGIN_TIMEOUT, -1);
	assert_int_equal(res->attempts, 3);
}

/* --max-attempts: the machine stops after N pairs (login-failed). */
static void test_max_attempts(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START,    BB_FAIL("root", "xc3511"),
		BB_REPROMPT, BB_FAIL("root", "vizxv"),
		BB_REPROMPT, END(),
	};
	static struct runner r;
	runner_init(&r, "max-attempts", spec_creds, NSPEC);
	r.p.max_attempts = 2;
	const struct kz_telnet_login_result *res = run(&r, script);
	expect_result(&r, res, KZ_LOGIN_FAILED, -1);
	assert_int_equal(res->attempts, 2);
}

/* The order callback sees the banner and picks vendor pairs first; the
 * reported index is the list's. */
static const uint8_t *seen_banner;
static size_t seen_banner_len;
static size_t vendor_order(void *ctx, const uint8_t *banner, size_t len, const uint32_t **order)
{
	static const uint32_t dvr_first[] = { 5, 2, 0 };
	(void)ctx;
	seen_banner = memmem(banner, len, "dvrdvs", 6);
	seen_banner_len = len;
	*order = dvr_first;
	return 3;
}

static void test_order_callback(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, BB_OPEN),
		C(BB_REPLY),
		S(10, "\r\ndvrdvs login: "),
		BB_FAIL("support", "support"),
		S(10, "dvrdvs login: "),
		BB_OK("admin", "admin"),
		CONN(),
		S(0, BB_OPEN),
		C(BB_REPLY),
		S(10, "\r\ndvrdvs login: "),
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		CLOSE(),
		END(),
	};
	static struct runner r;
	runner_init(&r, "order-callback", spec_creds, NSPEC);
	r.p.order = vendor_order;
	const struct kz_telnet_login_result *res = run(&r, script);
	expect_result(&r, res, KZ_LOGIN_POSSIBLE, 2);
	assert_non_null(seen_banner);
	assert_int_equal(seen_banner_len, strlen("\r\ndvrdvs login: "));
}

/* The nudge reached a late username prompt as an empty user and the device
 * asked for a password: reconnect and wait without nudging. */
static void test_nudge_taken_as_user(void **state)
{
	(void)state;
	static const struct ev script[] = {
		CONN(),
		S(0, BB_OPEN),
		C(BB_REPLY),
		C("\r\n"),
		S(1000, "\r\n(none) login: "),
		S(0, "\r\n"),
		S(0, "Password: "),
		CONN(),
		S(0, BB_OPEN),
		C(BB_REPLY),
		WAIT(6000),
		S(0, "\r\n(none) login: "),
		BB_OK("root", "xc3511"),
		BB_START,
		CU(),
		SCU(10),
		S(50, "Password: "),
		CP(),
		S(10, "\r\n"),
		S(3000, "Login incorrect\r\n"),
		CLOSE(),
		END(),
	};
	check("nudge-taken-as-user", script, KZ_LOGIN_POSSIBLE, 0);
}

/* A device time budget ends a slow check as a timeout. */
static void test_budget(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START, BB_SEND("root", "xc3511"), BB_START, BB_SEND("root", "vizxv"), END(),
	};
	static struct runner r;
	runner_init(&r, "budget", spec_creds, NSPEC);
	r.p.budget_ms = 20000;
	const struct kz_telnet_login_result *res = run(&r, script);
	expect_result(&r, res, KZ_LOGIN_TIMEOUT, -1);
	assert_int_equal(r.now - r.t0, 20000);
}

/* The control connection never gets anywhere: no verdict (error). */
static void test_control_inconclusive(void **state)
{
	(void)state;
	static const struct ev script[] = {
		BB_START, BB_OK("root", "xc3511"), REFUSE(), REFUSE(), REFUSE(), END(),
	};
	check("control-inconclusive", script, KZ_LOGIN_ERROR, -1);
}

/* First connection refused, timed out, or closed without a byte. */
static void test_first_connection_failures(void **state)
{
	(void)state;
	static const struct ev refused[] = { REFUSE(), END() };
	check("first-refused", refused, KZ_LOGIN_ERROR, -1);

	static struct runner r;
	runner_init(&r, "first-connect-timeout", spec_creds, NSPEC);
	runner_start(&r);
	assert_int_equal(r.step.want, KZ_LOGIN_WANT_CONNECT);
	r.now = r.step.deadline;
	event(&r, kz_telnet_login_tick(&r.m, r.now));
	expect_result(&r, runner_end(&r), KZ_LOGIN_TIMEOUT, -1);

	static const struct ev closes[] = {
		CONN(), CLOSE(), CONN(), CLOSE(), CONN(), CLOSE(), CONN(), CLOSE(), END(),
	};
	check("closed-without-data", closes, KZ_LOGIN_ERROR, -1);
}

/* The machine needs no credentials to detect no-auth, and with an empty list
 * a prompt gives login-failed at once. */
static void test_empty_list(void **state)
{
	(void)state;
	static struct runner r;
	static const struct ev script[] = { CONN(), S(0, "\r\nlogin: "), END() };
	runner_init(&r, "empty-list", NULL, 0);
	expect_result(&r, run(&r, script), KZ_LOGIN_FAILED, -1);
	struct kz_telnet_login m;
	struct kz_telnet_login_params p;
	kz_telnet_login_defaults(&p);
	p.ncreds = 3;
	assert_int_equal(kz_telnet_login_init(&m, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b01_busybox_weak),
		cmocka_unit_test(test_busybox_135_captured),
		cmocka_unit_test(test_b17_strong),
		cmocka_unit_test(test_s08_cisco),
		cmocka_unit_test(test_s13_password_only),
		cmocka_unit_test(test_s12_dlink),
		cmocka_unit_test(test_vendor_styles),
		cmocka_unit_test(test_b02_slow),
		cmocka_unit_test(test_b03_char_echo),
		cmocka_unit_test(test_b03_echoed_hash_password),
		cmocka_unit_test(test_b04_no_negotiation),
		cmocka_unit_test(test_b05_negotiation_heavy),
		cmocka_unit_test(test_b06_option_flood),
		cmocka_unit_test(test_b07_iac_iac),
		cmocka_unit_test(test_b07_escaped_credentials),
		cmocka_unit_test(test_iac_iac_in_password_prompt),
		cmocka_unit_test(test_b08_cr_nul),
		cmocka_unit_test(test_b09_hash_banner),
		cmocka_unit_test(test_hash_tail_then_reprompt),
		cmocka_unit_test(test_hash_banner_not_noauth),
		cmocka_unit_test(test_b10_huge_banner),
		cmocka_unit_test(test_input_cap),
		cmocka_unit_test(test_b11_close_after_failure),
		cmocka_unit_test(test_b12_silent_open),
		cmocka_unit_test(test_b13_silent_reprompt),
		cmocka_unit_test(test_b14_delayed_success),
		cmocka_unit_test(test_b15_incorrect_in_motd),
		cmocka_unit_test(test_b16_accepts_any),
		cmocka_unit_test(test_b18_no_auth),
		cmocka_unit_test(test_b19_tarpit_silent),
		cmocka_unit_test(test_b20_tarpit_drip),
		cmocka_unit_test(test_b21_ssh),
		cmocka_unit_test(test_b22_http),
		cmocka_unit_test(test_b23_binary),
		cmocka_unit_test(test_b24_press_return),
		cmocka_unit_test(test_b25_same_user_reprompt),
		cmocka_unit_test(test_b26_empty_password),
		cmocka_unit_test(test_b27_reconnect_cooldown),
		cmocka_unit_test(test_b28_segmented),
		cmocka_unit_test(test_b29_ansi),
		cmocka_unit_test(test_delayed_success_no_newline),
		cmocka_unit_test(test_shell_then_close),
		cmocka_unit_test(test_failure_message_then_silence),
		cmocka_unit_test(test_failure_tail_then_silence),
		cmocka_unit_test(test_prompt_kinds),
		cmocka_unit_test(test_stall_after_credentials),
		cmocka_unit_test(test_max_attempts),
		cmocka_unit_test(test_order_callback),
		cmocka_unit_test(test_nudge_taken_as_user),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_control_inconclusive),
		cmocka_unit_test(test_first_connection_failures),
		cmocka_unit_test(test_empty_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
