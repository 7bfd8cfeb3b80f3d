/*
 * Random tokens: the form the hub's clients rely on (43 base64url
 * characters) and no two alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "random.h"

static void test_random_token_form(void **state)
{
	(void)state;
	char a[KZ_RANDOM_TOKEN_STRLEN], b[KZ_RANDOM_TOKEN_STRLEN];
	assert_int_equal(kz_random_token(a), 0);
	assert_int_equal(kz_random_token(b), 0);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	for (size_t i = 0; i < 43; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		            a[i]))
			fail_msg("'%c' is not base64url", a[i]);
}

static void test_random_bytes_fill(void **state)
{
	(void)state;
	/* Two 64-byte draws that agree are a broken source, not bad luck. */
	uint8_t x[64] = { 0 }, y[64] = { 0 };
	assert_int_equal(kz_random_bytes(x, sizeof x), 0);
	assert_int_equal(kz_random_bytes(y, sizeof y), 0);
	assert_memory_not_equal(x, y, sizeof x);
	assert_int_equal(kz_random_bytes(x, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_token_form),
		cmocka_unit_test(test_random_bytes_fill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
