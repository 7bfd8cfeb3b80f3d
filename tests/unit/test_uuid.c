/*
 * Name-based UUIDs: vectors computed independently (Python's uuid.uuid5)
 * for STIX's SCO namespace and kizuki's own, the version and variant bits,
 * and the validity check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "uuid.h"

static void test_stix_sco_vectors(void **state)
{
	(void)state;
	char out[KZ_UUID_STRLEN];
	/* uuid.uuid5(UUID("00abedb4-..."), '{"value":"198.51.100.3"}') */
	const char *v = "{\"value\":\"198.51.100.3\"}";
	assert_int_equal(kz_uuid5(KZ_UUID_NS_STIX, v, strlen(v), out), 0);
	assert_string_equal(out, "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
	const char *as = "{\"number\":64496}";
	assert_int_equal(kz_uuid5(KZ_UUID_NS_STIX, as, strlen(as), out), 0);
	assert_string_equal(out, "9ad79ee3-2fde-5015-b0cc-7a96404effca");
}

static void test_kizuki_names(void **state)
{
	(void)state;
	char out[KZ_UUID_STRLEN];
	const char *f[] = { "indicator", "3c7533bb475933bdd4d0789b9be865d2" };
	kz_uuid_kizuki(out, 2, f);
	assert_string_equal(out, "74b447b5-764d-5a5b-95d0-cf970ac5dc63");
	/* The pseudonym extension's id is this name in kizuki's namespace. */
	const char *e[] = { "extension-definition", "pseudonym", "1" };
	kz_uuid_kizuki(out, 3, e);
	assert_string_equal(out, "2def2d0e-f847-5d2f-97db-45b58ae7197b");
	/* Fields are joined by '|', so ("a|b") and ("a", "b") are one name;
	 * kizuki's names never hold '|' in a field. */
	char one[KZ_UUID_STRLEN];
	const char *g[] = { "a|b" }, *h[] = { "a", "b" };
	kz_uuid_kizuki(one, 1, g);
	kz_uuid_kizuki(out, 2, h);
	assert_string_equal(one, out);
}

/* The same names through a context and SHA-1 fetched once (the X-ARF
 * writer's way), reused from one id to the next: the same ids. */
static void test_kizuki_names_with_fetched_sha1(void **state)
{
	(void)state;
	EVP_MD *sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_non_null(sha1);
	assert_non_null(ctx);
	char out[KZ_UUID_STRLEN], plain[KZ_UUID_STRLEN];
	const char *f[] = { "indicator", "3c7533bb475933bdd4d0789b9be865d2" };
	assert_int_equal(kz_uuid_kizuki_with(ctx, sha1, out, 2, f), 0);
	assert_string_equal(out, "74b447b5-764d-5a5b-95d0-cf970ac5dc63");
	const char *e[] = { "extension-definition", "pseudonym", "1" };
	assert_int_equal(kz_uuid_kizuki_with(ctx, sha1, out, 3, e), 0);
	assert_string_equal(out, "2def2d0e-f847-5d2f-97db-45b58ae7197b");
	for (int i = 0; i < 100; i++) {
		char id[16], last[16];
		snprintf(id, sizeof id, "f%d", i);
		snprintf(last, sizeof last, "%d", 1700000000 + i);
		const char *x[] = { "xarf", id, "64496", last, "3" };
		assert_int_equal(kz_uuid_kizuki_with(ctx, sha1, out, 5, x), 0);
		kz_uuid_kizuki(plain, 5, x);
		assert_string_equal(out, plain);
	}
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(sha1);
}

/* Names longer than kizuki's 1,024-byte name buffer: the long field is cut,
 * later fields are left out, nothing is written past the buffer (a long
 * operator name followed by its domain did: ASan), and the id is still
 * the same on every call and through either entry point. */
static void test_kizuki_long_names(void **state)
{
	(void)state;
	static char big[3000], mid[1019];
	memset(big, 'x', sizeof big - 1);
	memset(mid, 'y', sizeof mid - 1);
	const char *cases[][4] = {
		{ "organisation", big, "isp.example", "more" },
		{ big, "isp.example", "a", "b" },
		{ "a", mid, "b", "c" }, /* fills the buffer to its last byte but one */
	};
	EVP_MD *sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_non_null(sha1);
	assert_non_null(ctx);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		char a[KZ_UUID_STRLEN], b[KZ_UUID_STRLEN], c[KZ_UUID_STRLEN];
		kz_uuid_kizuki(a, 4, cases[k]);
		kz_uuid_kizuki(b, 4, cases[k]);
		assert_int_equal(kz_uuid_kizuki_with(ctx, sha1, c, 4, cases[k]), 0);
		assert_true(kz_uuid_valid(a));
		assert_string_equal(a, b);
		assert_string_equal(a, c);
	}
	/* Fields after a full buffer change nothing: they were left out. */
	char x[KZ_UUID_STRLEN], y[KZ_UUID_STRLEN];
	const char *two[] = { "organisation", big }, *three[] = { "organisation", big, "z" };
	kz_uuid_kizuki(x, 2, two);
	kz_uuid_kizuki(y, 3, three);
	assert_string_equal(x, y);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(sha1);
}

static void test_version_and_variant(void **state)
{
	(void)state;
	char out[KZ_UUID_STRLEN];
	for (int i = 0; i < 200; i++) {
		char name[16];
		int n = snprintf(name, sizeof name, "n%d", i);
		assert_int_equal(kz_uuid5(KZ_UUID_NS_KIZUKI, name, (size_t)n, out), 0);
		assert_int_equal(out[14], '5');
		assert_non_null(strchr("89ab", out[19]));
		assert_true(kz_uuid_valid(out));
	}
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(kz_uuid_valid("62b99378-7cc8-4d1a-96a9-1546c0615d45"));
	assert_true(kz_uuid_valid("62B99378-7CC8-4D1A-96A9-1546C0615D45"));
	assert_false(kz_uuid_valid("62b99378-7cc8-4d1a-96a9-1546c0615d4"));
	assert_false(kz_uuid_valid("62b99378-7cc8-4d1a-96a9-1546c0615d455"));
	assert_false(kz_uuid_valid("62b993787cc8-4d1a-96a9-1546c0615d45-"));
	assert_false(kz_uuid_valid("g2b99378-7cc8-4d1a-96a9-1546c0615d45"));
	assert_false(kz_uuid_valid(""));
	char out[KZ_UUID_STRLEN];
	assert_int_equal(kz_uuid5("not-a-uuid", "x", 1, out), -EINVAL);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stix_sco_vectors),
		cmocka_unit_test(test_kizuki_names),
		cmocka_unit_test(test_kizuki_names_with_fetched_sha1),
		cmocka_unit_test(test_kizuki_long_names),
		cmocka_unit_test(test_version_and_variant),
		cmocka_unit_test(test_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
