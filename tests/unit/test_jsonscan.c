/*
 * The JSON string decoder both flat-record readers use: escapes as RFC 8259
 * section 7 defines them (UTF-8 of the code points, surrogate pairs joined),
 * what it refuses, where it leaves the cursor, the arena bound, the plain
 * (key) mode, and the eight-bytes-at-a-time run finder at every offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jsonscan.h"

static char arena[256];

/* Decodes in[0..n) (which starts at the opening quote) with an arena of
 * cap bytes; on success checks the NUL and that the cursor stands at
 * in + *used. */
static int decode(const char *in, size_t n, size_t cap, bool plain, const char **s, size_t *len,
                  size_t *used)
{
	assert_true(cap <= sizeof arena);
	memset(arena, 0x55, sizeof arena);
	struct kz_jsonscan c = { in, in + n, arena, arena + cap };
	int rc = kz_jsonscan_string(&c, plain, s, len);
	if (rc == 0) {
		assert_ptr_equal(*s, arena);
		assert_int_equal((*s)[*len], '\0');
		assert_ptr_equal(c.arena, arena + *len + 1);
		*used = (size_t)(c.p - in);
	}
	return rc;
}

/* in is a C string literal holding the JSON text; want/wlen the bytes. */
static void expect_text(const char *in, const char *want, size_t wlen)
{
	const char *s;
	size_t len, used;
	assert_int_equal(decode(in, strlen(in), sizeof arena, false, &s, &len, &used), 0);
	assert_int_equal(len, wlen);
	assert_memory_equal(s, want, wlen);
	/* The cursor is just past the closing quote, whatever follows. */
	assert_int_equal(in[used - 1], '"');
}

static void expect_refused(const char *in, size_t n)
{
	const char *s;
	size_t len, used;
	assert_int_equal(decode(in, n, sizeof arena, false, &s, &len, &used), -1);
}

static void test_plain_and_escapes(void **state)
{
	(void)state;
	expect_text("\"\"", "", 0);
	expect_text("\"abc\", \"next\"", "abc", 3);
	expect_text("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
	/* U+00E9, U+20AC, U+1F600 (a surrogate pair), in either case of hex. */
	expect_text("\"\\u00e9\\u20AC\\ud83d\\uDE00\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	/* U+0000 stays in the text; the length counts it. */
	expect_text("\"a\\u0000b\"", "a\0b", 3);
	/* Raw bytes are copied as they are: UTF-8 is the caller's check. */
	expect_text("\"\xe3\x81\x82\xff\"", "\xe3\x81\x82\xff", 4);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"\"abc",              /* no closing quote */
		"\"ab\\",             /* ends in an escape */
		"\"a\x01z\"",         /* a raw control byte */
		"\"a\nb\"",           /* a raw newline */
		"\"\\x41\"",          /* an escape JSON does not define */
		"\"\\u12\"",          /* \u with two digits */
		"\"\\u12G4\"",        /* \u with a non-hex digit */
		"\"\\udc00\"",        /* a low surrogate first */
		"\"\\ud800\"",        /* a high surrogate alone */
		"\"\\ud800x\"",       /* ... followed by text */
		"\"\\ud800\\u0041\"", /* ... followed by no low surrogate */
		"\"\\ud800\\ud800\"", /* ... followed by another high one */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_refused(bad[i], strlen(bad[i]));
	/* A quote beyond end does not count. */
	expect_refused("\"abc\"", 4);
}

static void test_plain_mode_refuses_escapes(void **state)
{
	(void)state;
	const char *s;
	size_t len, used;
	assert_int_equal(decode("\"extra.banner\":", 15, sizeof arena, true, &s, &len, &used), 0);
	assert_string_equal(s, "extra.banner");
	assert_int_equal(used, 14);
	assert_int_equal(decode("\"a\\nb\"", 6, sizeof arena, true, &s, &len, &used), -1);
	assert_int_equal(decode("\"\\u0061\"", 8, sizeof arena, true, &s, &len, &used), -1);
}

/* The text and its NUL must fit; one byte less is refused, never overrun
 * (the 0x55 fill past cap is checked untouched). */
static void test_arena_bound(void **state)
{
	(void)state;
	static const char *const in[] = { "\"0123456789abcdef\"", "\"ab\\n\"", "\"\\u20ac\"",
		                          "\"\\ud83d\\ude00\"" };
	static const size_t need[] = { 17, 4, 4, 5 };
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		const char *s;
		size_t len, used;
		assert_int_equal(decode(in[i], strlen(in[i]), need[i], false, &s, &len, &used), 0);
		assert_int_equal(len + 1, need[i]);
		assert_int_equal(decode(in[i], strlen(in[i]), need[i] - 1, false, &s, &len, &used),
		                 -1);
		for (size_t k = need[i] - 1; k < sizeof arena; k++)
			assert_int_equal(arena[k], 0x55);
	}
}

/* The run finder reads eight bytes at a time: a quote, a backslash or a
 * control byte at every offset of the first words must stop it there. */
static void test_every_offset(void **state)
{
	(void)state;
	char in[64];
	for (size_t k = 0; k < 40; k++) {
		const char *s;
		size_t len, used;
		in[0] = '"';
		memset(in + 1, 'x', k);
		/* The quote at offset k, then more text the decoder must not read. */
		memcpy(in + 1 + k, "\"yyyyyyyyyyyyyyyy", 17);
		assert_int_equal(decode(in, 1 + k + 17, sizeof arena, false, &s, &len, &used), 0);
		assert_int_equal(len, k);
		assert_int_equal(used, k + 2);
		/* An escape at offset k. */
		memcpy(in + 1 + k, "\\tz\"yyyyyyyyyyyyy", 17);
		assert_int_equal(decode(in, 1 + k + 17, sizeof arena, false, &s, &len, &used), 0);
		assert_int_equal(len, k + 2);
		assert_int_equal(s[k], '\t');
		/* A control byte (0x1f, the highest) at offset k; 0x20 is text. */
		memcpy(in + 1 + k, "\x1fyyyyyyyyyyyyyyy\"", 17);
		assert_int_equal(decode(in, 1 + k + 17, sizeof arena, false, &s, &len, &used), -1);
		in[1 + k] = 0x20;
		assert_int_equal(decode(in, 1 + k + 17, sizeof arena, false, &s, &len, &used), 0);
		assert_int_equal(len, k + 16);
	}
}

static void test_ws(void **state)
{
	(void)state;
	static const char in[] = " \t\r\n x \v";
	struct kz_jsonscan c = { in, in + sizeof in - 1, NULL, NULL };
	kz_jsonscan_ws(&c);
	assert_int_equal(*c.p, 'x');
	c.p++;
	kz_jsonscan_ws(&c);
	assert_int_equal(*c.p, '\v'); /* not JSON whitespace */
	c.p++;
	kz_jsonscan_ws(&c);
	assert_ptr_equal(c.p, c.end);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_escapes),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_plain_mode_refuses_escapes),
		cmocka_unit_test(test_arena_bound),
		cmocka_unit_test(test_every_offset),
		cmocka_unit_test(test_ws),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
