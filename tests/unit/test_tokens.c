/*
 * Tokens: generation (format, randomness), hashing (a SHA-256 test vector),
 * the tokens file (roles, scopes, errors with file:line, duplicates), the
 * check (only the right token finds its line), AS lists.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lines.h"
#include "tokens.h"

static void test_generate_and_hash(void **state)
{
	(void)state;
	char a[KZ_TOKEN_STRLEN], b[KZ_TOKEN_STRLEN], h[KZ_TOKEN_HASH_HEX];
	assert_int_equal(kz_token_generate(a), 0);
	assert_int_equal(kz_token_generate(b), 0);
	assert_int_equal(strlen(a), 46);
	assert_memory_equal(a, "kz_", 3);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                               "0123456789-_"),
	                 43);
	/* FIPS 180-2's "abc" vector. */
	kz_token_hash_hex("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static const char good[] =
        "# role\tname\tscope\thash\n"
        "admin\troot\t-\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
        "operator\tisp-a\t64501,AS64500,64501\t"
        "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7\n"
        "partner\tp\tTLP:amber\t"
        "0000000000000000000000000000000000000000000000000000000000000001\n";

static void test_file(void **state)
{
	(void)state;
	struct kz_tokens *t;
	char err[256];
	assert_int_equal(kz_tokens_load_mem("tokens", good, strlen(good), &t, err, sizeof err), 0);
	assert_int_equal(kz_tokens_count(t), 3);
	const struct kz_token *k = kz_tokens_check(t, "abc", 3);
	assert_non_null(k);
	assert_int_equal(k->role, KZ_ROLE_ADMIN);
	assert_string_equal(k->name, "root");
	assert_null(kz_tokens_check(t, "abd", 3));
	assert_null(kz_tokens_check(t, "ab", 2));
	assert_null(kz_tokens_check(t, "", 0));
	/* The operator's AS list is sorted and unique. */
	const struct kz_token *op;
	uint8_t h[32] = { 0x3a, 0x6e, 0xb0, 0x79, 0x0f, 0x39, 0xac, 0x87, 0xc9, 0x4f, 0x38,
		          0x56, 0xb2, 0xdd, 0x2c, 0x5d, 0x11, 0x0e, 0x68, 0x11, 0x60, 0x22,
		          0x61, 0xa9, 0xa9, 0x23, 0xd3, 0xbb, 0x23, 0xad, 0xc8, 0xb7 };
	op = kz_tokens_find_hash(t, h);
	assert_non_null(op);
	assert_int_equal(op->role, KZ_ROLE_OPERATOR);
	assert_int_equal(op->nasns, 2);
	assert_int_equal(op->asns[0], 64500);
	assert_int_equal(op->asns[1], 64501);
	assert_true(kz_token_has_asn(op, 64501));
	assert_false(kz_token_has_asn(op, 64502));
	assert_false(kz_token_has_asn(kz_tokens_check(t, "abc", 3), 64500));
	kz_tokens_free(t);
}

static void test_file_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "admin\troot\t-\n", "tokens:1: expected" },
		{ "wizard\troot\t-"
		  "\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
		  "tokens:1: role" },
		{ "\nadmin\troot\t64500\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2"
		  "0015"
		  "ad\n",
		  "tokens:2: scope: must be" },
		{ "operator\tx\t-"
		  "\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
		  "tokens:1: scope:" },
		{ "partner\tx\tPURPLE\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f200"
		  "15"
		  "ad\n",
		  "tokens:1: scope: a partner" },
		{ "admin\troot\t-\tkz_plaintexttoken\n", "tokens:1: sha256" },
		{ "admin\troot\t-"
		  "\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
		  "sensor\troot\t-"
		  "\t0000000000000000000000000000000000000000000000000000000000000001\n",
		  "tokens:2: the same name" },
		{ "admin\ta\t-\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
		  "sensor\tb\t-"
		  "\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
		  "tokens:2: the same hash" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct kz_tokens *t = NULL;
		char err[256] = "";
		assert_int_equal(kz_tokens_load_mem("tokens", bad[i].text, strlen(bad[i].text), &t,
		                                    err, sizeof err),
		                 -EINVAL);
		assert_null(t);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
			fail_msg("case %zu: \"%s\" does not start \"%s\"", i, err, bad[i].want);
	}
}

static void test_asns(void **state)
{
	(void)state;
	uint32_t *v;
	size_t n;
	const char *why;
	assert_int_equal(kz_token_parse_asns("64502,AS64500,64502", &v, &n, &why), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0], 64500);
	assert_int_equal(v[1], 64502);
	free(v);
	assert_int_equal(kz_token_parse_asns("4294967295", &v, &n, &why), 0);
	free(v);
	static const char *const bad[] = { "",       "0", "4294967296", "064500",
		                           "64500,", "a", "64500 64501" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(kz_token_parse_asns(bad[i], &v, &n, &why), -EINVAL);
}

/* The reader's own faults name the file and line too: the first bad line
 * ends the load. */
static void test_line_faults(void **state)
{
	(void)state;
	static const char nul[] = "# first\nx\0y\n";
	static char text[KZ_LINES_MAX + 16];
	struct kz_tokens *t = NULL;
	char err[256] = "";
	assert_int_equal(kz_tokens_load_mem("tokens", nul, sizeof nul - 1, &t, err, sizeof err),
	                 -EINVAL);
	assert_null(t);
	assert_string_equal(err, "tokens:2: NUL byte in the line");
	memset(text, 'a', sizeof text);
	text[0] = '\n';
	assert_int_equal(kz_tokens_load_mem("tokens", text, sizeof text, &t, err, sizeof err),
	                 -EINVAL);
	assert_null(t);
	assert_string_equal(err, "tokens:2: line longer than 65536 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_and_hash),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_line_faults),
		cmocka_unit_test(test_asns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
