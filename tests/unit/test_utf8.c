/*
 * The UTF-8 decoder against glibc's iconv, an independent implementation
 * that also refuses overlongs, surrogates and code points above U+10FFFF:
 * every 1- and 2-byte input, every 3-byte input, and 4-byte inputs over
 * every lead and second byte. Replacement follows Unicode's example of
 * maximal subparts (The Unicode Standard, chapter 3, "U+FFFD Substitution
 * of Maximal Subparts").
 */
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

/* iconv's verdict on a whole input, and the code point when it is one. */
static int iconv_one(iconv_t cd, const uint8_t *in, size_t n, uint32_t *cp)
{
	char out[16];
	char *ip = (char *)in, *op = out;
	size_t il = n, ol = sizeof out;
	iconv(cd, NULL, NULL, NULL, NULL);
	size_t r = iconv(cd, &ip, &il, &op, &ol);
	if (r == (size_t)-1 || il != 0)
		return 0;
	if (sizeof out - ol != 4)
		return -1; /* more than one character: not a single sequence */
	*cp = (uint32_t)(uint8_t)out[0] | (uint32_t)(uint8_t)out[1] << 8 |
	      (uint32_t)(uint8_t)out[2] << 16 | (uint32_t)(uint8_t)out[3] << 24;
	return 1;
}

/* Compares one input with iconv: same verdict, same code point. */
static void compare(iconv_t cd, const uint8_t *in, size_t n)
{
	uint32_t want = 0, got = 0;
	int ref = iconv_one(cd, in, n, &want);
	bool ours = kz_utf8_check(in, n) == n;
	if (ref < 0) {
		/* Several characters (e.g. ASCII followed by ASCII): check validity only. */
		assert_true(ours);
		return;
	}
	if (ours != (ref == 1))
		fail_msg("%zu bytes %02x %02x %02x %02x: ours %d, iconv %d", n, in[0],
		         n > 1 ? in[1] : 0, n > 2 ? in[2] : 0, n > 3 ? in[3] : 0, ours, ref);
	if (ours) {
		size_t used;
		assert_int_equal(kz_utf8_decode(in, n, &got, &used), KZ_UTF8_OK);
		assert_int_equal(used, n);
		assert_int_equal(got, want);
	}
}

static void test_against_iconv(void **state)
{
	(void)state;
	iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	uint8_t b[4];
	for (unsigned i = 0; i < 256; i++) {
		b[0] = (uint8_t)i;
		compare(cd, b, 1);
	}
	for (unsigned i = 0; i < 0x10000; i++) {
		b[0] = (uint8_t)(i >> 8);
		b[1] = (uint8_t)i;
		compare(cd, b, 2);
	}
	for (unsigned lead = 0xc0; lead < 0x100; lead++) {
		for (unsigned i = 0; i < 0x10000; i++) {
			b[0] = (uint8_t)lead;
			b[1] = (uint8_t)(i >> 8);
			b[2] = (uint8_t)i;
			compare(cd, b, 3);
		}
	}
	static const uint8_t tails[] = { 0x00, 0x41, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	for (unsigned lead = 0xe0; lead < 0x100; lead++)
		for (unsigned second = 0; second < 256; second++)
			for (size_t t3 = 0; t3 < sizeof tails; t3++)
				for (size_t t4 = 0; t4 < sizeof tails; t4++) {
					b[0] = (uint8_t)lead;
					b[1] = (uint8_t)second;
					b[2] = tails[t3];
					b[3] = tails[t4];
					compare(cd, b, 4);
				}
	iconv_close(cd);
}

static void test_maximal_subparts(void **state)
{
	(void)state;
	/* The standard's example: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64. */
	static const uint8_t in[] = { 0x61, 0xf1, 0x80, 0x80, 0xe1, 0x80, 0xc2,
		                      0x62, 0x80, 0x63, 0x80, 0xbf, 0x64 };
	static const char want[] = "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                           "b\xef\xbf\xbd"
	                           "c\xef\xbf\xbd\xef\xbf\xbd"
	                           "d";
	char out[KZ_UTF8_SANITIZED_SIZE(sizeof in)];
	size_t used;
	size_t n = kz_utf8_sanitize(in, sizeof in, sizeof in, out, &used);
	assert_int_equal(n, sizeof want - 1);
	assert_memory_equal(out, want, n);
	assert_int_equal(used, sizeof in);

	uint32_t cp;
	size_t len;
	assert_int_equal(kz_utf8_decode(in + 1, sizeof in - 1, &cp, &len), KZ_UTF8_INVALID);
	assert_int_equal(len, 3);
	assert_int_equal(kz_utf8_decode((const uint8_t *)"\xf0\x9f", 2, &cp, &len),
	                 KZ_UTF8_TRUNCATED);
	assert_int_equal(len, 2);
	assert_int_equal(kz_utf8_check(in, sizeof in), 1);
}

/* The cap never splits a character and never invents one. */
static void test_sanitize_cap(void **state)
{
	(void)state;
	static const uint8_t in[] = "ab\xe2\x82\xac"
	                            "c";
	char out[KZ_UTF8_SANITIZED_SIZE(sizeof in)];
	size_t used;
	for (size_t cap = 0; cap <= 6; cap++) {
		size_t n = kz_utf8_sanitize(in, 6, cap, out, &used);
		size_t want = cap < 2 ? cap : cap < 5 ? 2 : cap;
		assert_int_equal(n, want);
		assert_int_equal(used, want);
		assert_memory_equal(out, in, n);
		assert_int_equal(out[n], '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_iconv),
		cmocka_unit_test(test_maximal_subparts),
		cmocka_unit_test(test_sanitize_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
