/*
 * base64 (RFC 4648 test vectors, strict decoding) and hex.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"

static void test_base64_rfc4648_vectors(void **state)
{
	(void)state;
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "",         "Zg==",     "Zm8=",    "Zm9v",
		                             "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		char out[16];
		size_t n = strlen(plain[i]);
		assert_true(kz_base64_encoded_size(n) <= sizeof out);
		assert_int_equal(kz_base64_encode((const uint8_t *)plain[i], n, out),
		                 strlen(coded[i]));
		assert_string_equal(out, coded[i]);
		uint8_t back[16];
		assert_int_equal(kz_base64_decode(coded[i], strlen(coded[i]), back), (long)n);
		assert_memory_equal(back, plain[i], n);
	}
}

static void test_base64_all_bytes_roundtrip(void **state)
{
	(void)state;
	uint8_t in[256], back[256];
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	for (size_t n = 0; n <= 256; n++) {
		char out[400];
		size_t len = kz_base64_encode(in, n, out);
		assert_int_equal(kz_base64_decode(out, len, back), (long)n);
		assert_memory_equal(back, in, n);
	}
}

static void test_base64_strict(void **state)
{
	(void)state;
	uint8_t out[16];
	/* Wrong length, bad alphabet, whitespace, padding in the middle or
	 * too much of it, and non-zero bits under the padding. */
	static const char *const bad[] = { "Zg=",  "Zg",   "Z===", "Zm9v\n", "Zm 9v", "Zg==Zg==",
		                           "Zm9-", "Zh==", "Zm9=", "====",   "Z=g=" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (kz_base64_decode(bad[i], strlen(bad[i]), out) != -1)
			fail_msg("'%s' accepted", bad[i]);
}

static void test_hex(void **state)
{
	(void)state;
	const uint8_t in[] = { 0x00, 0x1f, 0xa0, 0xff };
	char out[9];
	kz_hex_encode(in, sizeof in, out);
	assert_string_equal(out, "001fa0ff");
	uint8_t back[4];
	assert_int_equal(kz_hex_decode("001FA0ff", 8, back, 4), 0);
	assert_memory_equal(back, in, 4);
	assert_int_equal(kz_hex_decode("001fa0f", 7, back, 4), -1);
	assert_int_equal(kz_hex_decode("001fa0fg", 8, back, 4), -1);
	assert_int_equal(kz_hex_decode("001fa0ff00", 10, back, 4), -1);
}

/* The decimal writers print what printf prints, extremes included, and
 * NUL-terminate where the digits end. */
static void test_decimal(void **state)
{
	(void)state;
	static const int64_t si[] = { 0, 1, -1, 9, 10, -10, 1234567890123, INT64_MAX, INT64_MIN };
	static const uint64_t ui[] = { 0, 7, 10, 99, 100, UINT64_MAX, (uint64_t)INT64_MAX + 1 };
	char b[KZ_DEC_SIZE], want[32];
	for (size_t i = 0; i < sizeof si / sizeof si[0]; i++) {
		const char *got = kz_dec_i64(b, si[i]);
		snprintf(want, sizeof want, "%" PRId64, si[i]);
		assert_string_equal(got, want);
		assert_int_equal(b + KZ_DEC_SIZE - 1 - got, strlen(want));
	}
	for (size_t i = 0; i < sizeof ui / sizeof ui[0]; i++) {
		snprintf(want, sizeof want, "%" PRIu64, ui[i]);
		assert_string_equal(kz_dec_u64(b, ui[i]), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_rfc4648_vectors),
		cmocka_unit_test(test_base64_all_bytes_roundtrip),
		cmocka_unit_test(test_base64_strict),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_decimal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
