/*
 * The telnet protocol layer: data cleaning (IAC IAC, CR NUL), the exact
 * negotiation replies CONTRACT.md allows, no loops on repeated negotiation,
 * the reply and subnegotiation caps, and chunking invariance.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "login.h"
#include "telnet.h"

struct fed {
	uint8_t data[8192];
	size_t data_len;
	uint8_t reply[4096];
	size_t reply_len;
};

/* Feeds a whole stream with roomy buffers and checks it is all consumed. */
static void feed(struct kz_telnet *t, const void *in, size_t len, struct fed *f)
{
	struct kz_telnet_out o = { .data = f->data + f->data_len,
		                   .data_cap = sizeof f->data - f->data_len,
		                   .reply = f->reply + f->reply_len,
		                   .reply_cap = sizeof f->reply - f->reply_len };
	size_t used = kz_telnet_feed(t, in, len, &o);
	assert_int_equal(used, len);
	f->data_len += o.data_len;
	f->reply_len += o.reply_len;
}

static void expect_bytes(const uint8_t *got, size_t got_len, const void *want, size_t want_len)
{
	if (got_len != want_len || memcmp(got, want, want_len) != 0) {
		char a[512] = "", b[512] = "";
		for (size_t i = 0; i < got_len && i < 150; i++)
			snprintf(a + strlen(a), sizeof a - strlen(a), "%02x ", got[i]);
		for (size_t i = 0; i < want_len && i < 150; i++)
			snprintf(b + strlen(b), sizeof b - strlen(b), "%02x ",
			         ((const uint8_t *)want)[i]);
		fail_msg("got  %s\nwant %s", a, b);
	}
}

#define EXPECT_REPLY(f, lit) expect_bytes((f)->reply, (f)->reply_len, lit, sizeof(lit) - 1)
#define EXPECT_DATA(f, lit)  expect_bytes((f)->data, (f)->data_len, lit, sizeof(lit) - 1)

/* docs/devsim-spec.md 5.1: busybox telnetd's opening and our answer. */
static void test_busybox_opening(void **state)
{
	(void)state;
	struct kz_telnet t;
	struct fed f = { 0 };
	kz_telnet_init(&t);
	feed(&t, "\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03", 12, &f);
	EXPECT_REPLY(&f, "\xff\xfc\x01"
	                 "\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"
	                 "\xff\xfd\x01"
	                 "\xff\xfd\x03");
	assert_int_equal(f.data_len, 0);
	assert_true(kz_telnet_server_has(&t, KZ_TELOPT_ECHO));
	assert_true(kz_telnet_server_has(&t, KZ_TELOPT_SGA));
	assert_true(kz_telnet_client_has(&t, KZ_TELOPT_NAWS));
	assert_false(kz_telnet_client_has(&t, KZ_TELOPT_ECHO));
	assert_int_equal(t.commands, 4);
}

/* Newer busybox (WILL ECHO, WILL SGA, DO NAWS) and Cisco-style (DO TTYPE). */
static void test_other_openings(void **state)
{
	(void)state;
	struct kz_telnet t;
	struct fed f = { 0 };
	kz_telnet_init(&t);
	feed(&t, "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f", 9, &f);
	EXPECT_REPLY(&f,
	             "\xff\xfd\x01\xff\xfd\x03\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0");

	struct fed g = { 0 };
	kz_telnet_init(&t);
	feed(&t, "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f", 12, &g);
	EXPECT_REPLY(&g, "\xff\xfd\x01\xff\xfd\x03\xff\xfc\x18"
	                 "\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0");
}

/* docs/devsim-spec.md B05: every other option refused once, repeats that
 * change nothing unanswered, a switch-off acknowledged, a switch-on again
 * agreed again. */
static void test_negotiation_heavy(void **state)
{
	(void)state;
	struct kz_telnet t;
	struct fed f = { 0 };
	kz_telnet_init(&t);
	feed(&t, "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27", 12, &f);
	EXPECT_REPLY(&f, "\xff\xfc\x18\xff\xfc\x20\xff\xfc\x23\xff\xfc\x27");

	struct fed g = { 0 };
	feed(&t,
	     "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f\xff\xfd\x22\xff\xfb\x05\xff\xfd\x21\xff\xfb\x01"
	     "\xff\xfd\x1f",
	     24, &g);
	EXPECT_REPLY(&g, "\xff\xfd\x01\xff\xfd\x03\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"
	                 "\xff\xfc\x22\xff\xfe\x05\xff\xfc\x21");

	struct fed h = { 0 };
	feed(&t, "\xff\xfa\x18\x01\xff\xf0", 6, &h); /* SB TTYPE SEND: ignored */
	feed(&t, "\xff\xfc\x01\xff\xfb\x01", 6, &h); /* WONT ECHO, WILL ECHO */
	EXPECT_REPLY(&h, "\xff\xfe\x01\xff\xfd\x01");
	assert_int_equal(h.data_len, 0);
}

/* A refusal is not repeated for a request repeated with nothing in
 * between; after the server withdraws (WONT), a new request is answered. */
static void test_refusal_not_repeated(void **state)
{
	(void)state;
	struct kz_telnet t;
	struct fed f = { 0 };
	kz_telnet_init(&t);
	feed(&t, "\xff\xfb\x00\xff\xfb\x00\xff\xfb\x00", 9, &f);
	EXPECT_REPLY(&f, "\xff\xfe\x00");
	struct fed g = { 0 };
	feed(&t, "\xff\xfc\x00\xff\xfb\x00", 6, &g);
	EXPECT_REPLY(&g, "\xff\xfe\x00");
	struct fed h = { 0 };
	feed(&t, "\xff\xfd\x18\xff\xfd\x18\xff\xfe\x18\xff\xfd\x18", 12, &h);
	EXPECT_REPLY(&h, "\xff\xfc\x18\xff\xfc\x18");
	/* DO NAWS twice: one WILL + SB; DONT NAWS: WONT NAWS. */
	struct fed i = { 0 };
	feed(&t, "\xff\xfd\x1f\xff\xfd\x1f\xff\xfe\x1f\xff\xfe\x1f", 12, &i);
	EXPECT_REPLY(&i, "\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0\xff\xfc\x1f");
	/* DO SGA and DO ECHO are refused: we neither echo nor suppress GA. */
	struct fed j = { 0 };
	feed(&t, "\xff\xfd\x03\xff\xfd\x01", 6, &j);
	EXPECT_REPLY(&j, "\xff\xfc\x03\xff\xfc\x01");
}

/* An option flood gets at most KZ_TELNET_MAX_REPLIES answers. */
static void test_reply_cap(void **state)
{
	(void)state;
	struct kz_telnet t;
	struct fed f = { 0 };
	uint8_t flood[3 * 200];
	for (int i = 0; i < 200; i++) {
		flood[3 * i] = 0xff;
		flood[3 * i + 1] = 0xfd;
		flood[3 * i + 2] = (uint8_t)(40 + i);
	}
	kz_telnet_init(&t);
	feed(&t, flood, sizeof flood, &f);
	assert_int_equal(f.reply_len, 3 * KZ_TELNET_MAX_REPLIES);
	assert_int_equal(t.replies_dropped, 200 - KZ_TELNET_MAX_REPLIES);
	assert_int_equal(t.commands, 200);
	/* Data still flows after the flood. */
	feed(&t, "login: ", 7, &f);
	EXPECT_DATA(&f, "login: ");
}

/* IAC IAC is one 0xff data byte; CR NUL is CR; CR LF and CR x are kept. */
static void test_data_cleaning(void **state)
{
	(void)state;
	struct kz_telnet t;
	struct fed f = { 0 };
	kz_telnet_init(&t);
	static const char in[] =
	        "\r\n\xff\xff\xff\xff Gr\xe4t \xff\xff v2\r\0\xff\xff(none) login:\r\0"
	        "\r\nx\rz\0";
	feed(&t, in, sizeof in - 1, &f);
	EXPECT_DATA(&f, "\r\n\xff\xff Gr\xe4t \xff v2\r\xff(none) login:\r\r\nx\rz\0");
	assert_int_equal(f.reply_len, 0);
	/* CR, then a command, then NUL: the NUL still pairs with the CR. */
	struct fed g = { 0 };
	feed(&t, "a\r\xff\xf1\0b", 6, &g);
	EXPECT_DATA(&g, "a\rb");
}

/* Subnegotiations are skipped whole, IAC IAC inside them included; one that
 * runs past the cap is abandoned and the rest read as data; IAC <cmd>
 * inside one ends it. */
static void test_subnegotiation(void **state)
{
	(void)state;
	struct kz_telnet t;
	struct fed f = { 0 };
	kz_telnet_init(&t);
	feed(&t,
	     "A\xff\xfa\x18\x01\xff\xff\x02\xff\xf0"
	     "B",
	     11, &f);
	EXPECT_DATA(&f, "AB");

	uint8_t longsb[4 + KZ_TELNET_SB_MAX + 10];
	longsb[0] = 0xff;
	longsb[1] = 0xfa;
	longsb[2] = 0x18;
	memset(longsb + 3, 'x', sizeof longsb - 3);
	struct fed g = { 0 };
	kz_telnet_init(&t);
	feed(&t, longsb, sizeof longsb, &g);
	assert_int_equal(t.sb_overflows, 1);
	/* 3 header bytes, KZ_TELNET_SB_MAX + 1 swallowed, the rest is data. */
	assert_int_equal(g.data_len, sizeof longsb - 3 - KZ_TELNET_SB_MAX - 1);

	struct fed h = { 0 };
	kz_telnet_init(&t);
	feed(&t, "\xff\xfa\x18zz\xff\xfb\x01ok", 10, &h);
	EXPECT_DATA(&h, "ok");
	EXPECT_REPLY(&h, "\xff\xfd\x01");
}

/* IAC followed by a byte that is no command: both dropped, counted. */
static void test_bad_commands(void **state)
{
	(void)state;
	struct kz_telnet t;
	struct fed f = { 0 };
	kz_telnet_init(&t);
	feed(&t, "a\xff\x41z\xff\xf1\xff\xf9", 8, &f);
	EXPECT_DATA(&f, "az");
	assert_int_equal(t.bad_commands, 1);
	assert_int_equal(t.commands, 2);
}

/* Any chunking gives the same data and replies, and a full output buffer
 * stops the parser without losing a byte. */
static void test_chunking_invariance(void **state)
{
	(void)state;
	uint8_t stream[4096];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof stream; i++) {
		x = x * 1103515245u + 12345u;
		uint8_t r = (uint8_t)(x >> 16);
		/* Make IAC, CR and NUL common so that every state is visited. */
		static const uint8_t pick[] = { 0xff, 0xfb, 0xfd, 0xfa, 0xf0, '\r', 0, 0x01, 0x1f };
		stream[i] = (r & 1) ? pick[(r >> 1) % sizeof pick] : r;
	}
	struct kz_telnet a, b;
	struct fed whole = { 0 };
	kz_telnet_init(&a);
	feed(&a, stream, sizeof stream, &whole);

	kz_telnet_init(&b);
	uint8_t data[4096 * 2], reply[4096];
	size_t dlen = 0, rlen = 0, pos = 0;
	while (pos < sizeof stream) {
		x = x * 1103515245u + 12345u;
		size_t chunk = 1 + (x >> 16) % 7;
		if (chunk > sizeof stream - pos)
			chunk = sizeof stream - pos;
		uint8_t d[5], r[KZ_TELNET_REPLY_MAX + 3];
		struct kz_telnet_out o = {
			.data = d, .data_cap = sizeof d, .reply = r, .reply_cap = sizeof r
		};
		size_t used = kz_telnet_feed(&b, stream + pos, chunk, &o);
		memcpy(data + dlen, d, o.data_len);
		dlen += o.data_len;
		memcpy(reply + rlen, r, o.reply_len);
		rlen += o.reply_len;
		pos += used;
	}
	expect_bytes(data, dlen, whole.data, whole.data_len);
	expect_bytes(reply, rlen, whole.reply, whole.reply_len);
	assert_int_equal(a.commands, b.commands);
	assert_int_equal(a.bad_commands, b.bad_commands);
}

/* The parser will not start a command it has no reply room for. */
static void test_stops_without_room(void **state)
{
	(void)state;
	struct kz_telnet t;
	kz_telnet_init(&t);
	uint8_t d[4], r[KZ_TELNET_REPLY_MAX - 1];
	struct kz_telnet_out o = {
		.data = d, .data_cap = sizeof d, .reply = r, .reply_cap = sizeof r
	};
	assert_int_equal(kz_telnet_feed(&t, (const uint8_t *)"\xff\xfd\x1f", 3, &o), 0);
	struct kz_telnet_out o2 = { .data = d, .data_cap = 2, .reply = r, .reply_cap = 0 };
	assert_int_equal(kz_telnet_feed(&t, (const uint8_t *)"abc", 3, &o2), 0);
}

static void test_escape(void **state)
{
	(void)state;
	uint8_t out[16];
	size_t n = 0;
	assert_int_equal(kz_telnet_escape((const uint8_t *)"p\xffss", 4, out, sizeof out, &n), 0);
	expect_bytes(out, n, "p\xff\xffss", 5);
	assert_int_equal(kz_telnet_escape((const uint8_t *)"a\rb", 3, out, sizeof out, &n), 0);
	expect_bytes(out, n, "a\r\0b", 4);
	assert_int_equal(kz_telnet_escape((const uint8_t *)"\xff\xff", 2, out, 3, &n), -ENOSPC);
	assert_int_equal(kz_telnet_escape((const uint8_t *)"", 0, out, 0, &n), 0);
	assert_int_equal(n, 0);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(kz_login_status_name(KZ_LOGIN_POSSIBLE, KZ_LOGIN_APP_TELNET),
	                    "login-possible");
	assert_string_equal(kz_login_status_name(KZ_LOGIN_NO_AUTH, KZ_LOGIN_APP_TELNET), "no-auth");
	assert_string_equal(kz_login_status_name(KZ_LOGIN_FAILED, KZ_LOGIN_APP_TELNET),
	                    "login-failed");
	assert_string_equal(kz_login_status_name(KZ_LOGIN_ACCEPTS_ANY, KZ_LOGIN_APP_TELNET),
	                    "accepts-any");
	assert_string_equal(kz_login_status_name(KZ_LOGIN_NO_PROMPT, KZ_LOGIN_APP_TELNET),
	                    "no-login-prompt");
	assert_string_equal(kz_login_status_name(KZ_LOGIN_OTHER_PROTOCOL, KZ_LOGIN_APP_TELNET),
	                    "not-telnet");
	assert_string_equal(kz_login_status_name(KZ_LOGIN_OTHER_PROTOCOL, KZ_LOGIN_APP_SSH),
	                    "not-ssh");
	assert_string_equal(kz_login_status_name(KZ_LOGIN_OTHER_PROTOCOL, KZ_LOGIN_APP_HTTP),
	                    "not-http");
	assert_string_equal(kz_login_status_name(KZ_LOGIN_TIMEOUT, KZ_LOGIN_APP_TELNET), "timeout");
	assert_string_equal(kz_login_status_name(KZ_LOGIN_ERROR, KZ_LOGIN_APP_TELNET), "error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busybox_opening),
		cmocka_unit_test(test_other_openings),
		cmocka_unit_test(test_negotiation_heavy),
		cmocka_unit_test(test_refusal_not_repeated),
		cmocka_unit_test(test_reply_cap),
		cmocka_unit_test(test_data_cleaning),
		cmocka_unit_test(test_subnegotiation),
		cmocka_unit_test(test_bad_commands),
		cmocka_unit_test(test_chunking_invariance),
		cmocka_unit_test(test_stops_without_room),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
