/*
 * Basic and Digest credentials against the published examples:
 *   - RFC 7617 section 2: Aladdin / open sesame;
 *   - RFC 7616 section 3.9.1: Mufasa / Circle of Life, SHA-256 and MD5,
 *     qop=auth, the whole Authorization field compared parameter by
 *     parameter with the RFC's;
 *   - RFC 2617 section 3.5: Mufasa / Circle Of Life, MD5, qop=auth.
 * (RFC 7616's second example, 3.9.2, is not used: its values are disputed
 * in erratum 4897. The userhash construction is checked from its
 * definition instead.) Then what we refuse to send.
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

#include <openssl/evp.h>

#include "encode.h"
#include "http_auth.h"

static struct kz_http_response R;

static void challenge(const char *value)
{
	kz_http_response_init(&R, false, 0);
	kz_http_parse_www_authenticate(&R, value, strlen(value));
}

static void basic_rfc7617(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(kz_http_basic_credentials("Aladdin", "open sesame", out, sizeof out), 34);
	assert_string_equal(out, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	/* Empty user and empty password are carried as they are. */
	assert_true(kz_http_basic_credentials("", "1234", out, sizeof out) > 0);
	assert_string_equal(out, "Basic OjEyMzQ=");
	/* Refused: a ':' in the user, a control byte, no room. */
	assert_int_equal(kz_http_basic_credentials("a:b", "x", out, sizeof out), -EINVAL);
	assert_int_equal(kz_http_basic_credentials("a\nb", "x", out, sizeof out), -EINVAL);
	assert_int_equal(kz_http_basic_credentials("Aladdin", "open sesame", out, 20), -ENOSPC);
}

#define RFC7616_CHALLENGES                                                                         \
	"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "      \
	"nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "                                 \
	"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", "                                \
	"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5, "          \
	"nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "                                 \
	"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""

static struct kz_http_digest_input mufasa(const struct kz_http_challenge *c)
{
	return (struct kz_http_digest_input){
		.ch = c,
		.user = "Mufasa",
		.pass = "Circle of Life",
		.method = "GET",
		.uri = "/dir/index.html",
		.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		.nc = 1,
		.qop = KZ_HTTP_QOP_AUTH,
	};
}

/* Our field value, as name -> value pairs, compared with the RFC's. */
static void expect_params(const char *field, const char *const *want)
{
	assert_true(strncmp(field, "Digest ", 7) == 0);
	const char *p = field + 7;
	size_t n = 0;
	while (*p) {
		const char *eq = strchr(p, '=');
		assert_non_null(eq);
		char name[32], value[128];
		size_t nl = (size_t)(eq - p);
		assert_true(nl < sizeof name);
		memcpy(name, p, nl);
		name[nl] = '\0';
		p = eq + 1;
		size_t vl = 0;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				value[vl++] = *p;
			p++;
		} else {
			for (; *p && *p != ','; p++)
				value[vl++] = *p;
		}
		value[vl] = '\0';
		bool found = false;
		for (size_t i = 0; want[i]; i += 2) {
			if (strcmp(want[i], name) == 0) {
				assert_string_equal(want[i + 1], value);
				found = true;
			}
		}
		if (!found)
			fail_msg("unexpected parameter %s", name);
		n++;
		if (*p == ',')
			p++;
		while (*p == ' ')
			p++;
	}
	size_t nwant = 0;
	while (want[nwant])
		nwant += 2;
	assert_int_equal(n, nwant / 2);
}

static void digest_rfc7616_sha256(void **state)
{
	(void)state;
	challenge(RFC7616_CHALLENGES);
	assert_int_equal(R.nchallenges, 2);
	assert_int_equal(R.ch[0].algorithm, KZ_HTTP_ALG_SHA256);
	struct kz_http_digest_input in = mufasa(&R.ch[0]);
	char hex[KZ_HTTP_DIGEST_HEX_MAX];
	assert_int_equal(kz_http_digest_response(&in, hex, sizeof hex), 64);
	assert_string_equal(hex,
	                    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	char field[KZ_HTTP_AUTH_MAX];
	assert_true(kz_http_digest_credentials(&in, field, sizeof field) > 0);
	static const char *const want[] = {
		"username",  "Mufasa",
		"realm",     "http-auth@example.org",
		"uri",       "/dir/index.html",
		"algorithm", "SHA-256",
		"nonce",     "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		"nc",        "00000001",
		"cnonce",    "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		"qop",       "auth",
		"response",  "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		"opaque",    "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
		NULL,
	};
	expect_params(field, want);
}

static void digest_rfc7616_md5(void **state)
{
	(void)state;
	challenge(RFC7616_CHALLENGES);
	struct kz_http_digest_input in = mufasa(&R.ch[1]);
	char hex[KZ_HTTP_DIGEST_HEX_MAX];
	assert_int_equal(kz_http_digest_response(&in, hex, sizeof hex), 32);
	assert_string_equal(hex, "8ca523f5e9506fed4657c9700eebdbec");
}

static void digest_rfc2617(void **state)
{
	(void)state;
	challenge("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
	          "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	          "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
	assert_int_equal(R.ch[0].algorithm, KZ_HTTP_ALG_MD5);
	assert_int_equal(kz_http_digest_pick_qop(&R.ch[0]), KZ_HTTP_QOP_AUTH);
	struct kz_http_digest_input in = {
		.ch = &R.ch[0],
		.user = "Mufasa",
		.pass = "Circle Of Life",
		.method = "GET",
		.uri = "/dir/index.html",
		.cnonce = "0a4f113b",
		.nc = 1,
		.qop = KZ_HTTP_QOP_AUTH,
	};
	char hex[KZ_HTTP_DIGEST_HEX_MAX];
	assert_int_equal(kz_http_digest_response(&in, hex, sizeof hex), 32);
	assert_string_equal(hex, "6629fae49393a05397450978507c4ef1");
	char field[KZ_HTTP_AUTH_MAX];
	assert_true(kz_http_digest_credentials(&in, field, sizeof field) > 0);
	static const char *const want[] = {
		"username",  "Mufasa",
		"realm",     "testrealm@host.com",
		"nonce",     "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		"uri",       "/dir/index.html",
		"algorithm", "MD5",
		"qop",       "auth",
		"nc",        "00000001",
		"cnonce",    "0a4f113b",
		"response",  "6629fae49393a05397450978507c4ef1",
		"opaque",    "5ccc069c403ebaf9f0171e9517f40e41",
		NULL,
	};
	expect_params(field, want);
}

/* H(parts joined by ':') computed here with EVP directly, for the forms no
 * RFC example covers. */
static void hexhash(const EVP_MD *md, const char *joined, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	assert_int_equal(EVP_Digest(joined, strlen(joined), d, &n, md, NULL), 1);
	kz_hex_encode(d, n, out);
}

static void digest_constructions(void **state)
{
	(void)state;
	char a1[80], a2[80], sess[80], want[80], got[80], buf[512];
	/* RFC 2069: no qop. response = H(H(A1):nonce:H(A2)) */
	challenge("Digest realm=\"r\", nonce=\"n1\"");
	struct kz_http_digest_input in = {
		.ch = &R.ch[0],
		.user = "u",
		.pass = "p",
		.method = "GET",
		.uri = "/",
		.nc = 1,
	};
	hexhash(EVP_md5(), "u:r:p", a1);
	hexhash(EVP_md5(), "GET:/", a2);
	snprintf(buf, sizeof buf, "%s:n1:%s", a1, a2);
	hexhash(EVP_md5(), buf, want);
	assert_int_equal(kz_http_digest_response(&in, got, sizeof got), 32);
	assert_string_equal(got, want);
	char field[KZ_HTTP_AUTH_MAX];
	assert_true(kz_http_digest_credentials(&in, field, sizeof field) > 0);
	assert_null(strstr(field, "qop="));
	assert_null(strstr(field, "algorithm="));
	/* SHA-256-sess with auth-int (a GET's empty body). */
	challenge("Digest realm=\"r\", nonce=\"n2\", qop=\"auth-int\", algorithm=SHA-256-sess");
	in = (struct kz_http_digest_input){ .ch = &R.ch[0],
		                            .user = "u",
		                            .pass = "p",
		                            .method = "GET",
		                            .uri = "/x",
		                            .cnonce = "c",
		                            .nc = 2,
		                            .qop = KZ_HTTP_QOP_AUTH_INT };
	assert_int_equal(kz_http_digest_pick_qop(&R.ch[0]), KZ_HTTP_QOP_AUTH_INT);
	hexhash(EVP_sha256(), "u:r:p", a1);
	snprintf(buf, sizeof buf, "%s:n2:c", a1);
	hexhash(EVP_sha256(), buf, sess);
	char body[80];
	hexhash(EVP_sha256(), "", body);
	snprintf(buf, sizeof buf, "GET:/x:%s", body);
	hexhash(EVP_sha256(), buf, a2);
	snprintf(buf, sizeof buf, "%s:n2:00000002:c:auth-int:%s", sess, a2);
	hexhash(EVP_sha256(), buf, want);
	assert_int_equal(kz_http_digest_response(&in, got, sizeof got), 64);
	assert_string_equal(got, want);
	/* userhash with SHA-512-256: the user travels as H(user:realm), and a
	 * non-ASCII user is then fine (RFC 7616 3.9.2's user). */
	challenge("Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
	          "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", userhash=true");
	in = (struct kz_http_digest_input){ .ch = &R.ch[0],
		                            .user = "J\xc3\xa4s\xc3\xb8n Doe",
		                            .pass = "Secret, or not?",
		                            .method = "GET",
		                            .uri = "/doe.json",
		                            .cnonce = "c",
		                            .nc = 1,
		                            .qop = KZ_HTTP_QOP_AUTH };
	assert_true(kz_http_digest_credentials(&in, field, sizeof field) > 0);
	hexhash(EVP_sha512_256(), "J\xc3\xa4s\xc3\xb8n Doe:api@example.org", want);
	snprintf(buf, sizeof buf, "username=\"%s\"", want);
	assert_non_null(strstr(field, buf));
	assert_non_null(strstr(field, "userhash=true"));
}

static void digest_refusals(void **state)
{
	(void)state;
	char field[KZ_HTTP_AUTH_MAX], hex[KZ_HTTP_DIGEST_HEX_MAX];
	challenge("Digest realm=\"r\", nonce=\"n\", qop=auth");
	struct kz_http_digest_input in = {
		.ch = &R.ch[0],
		.user = "root",
		.pass = "x",
		.method = "GET",
		.uri = "/",
		.cnonce = "c",
		.nc = 1,
		.qop = KZ_HTTP_QOP_AUTH,
	};
	/* A quote and a backslash in the user are escaped, not refused. */
	in.user = "a\"b\\c";
	assert_true(kz_http_digest_credentials(&in, field, sizeof field) > 0);
	assert_non_null(strstr(field, "username=\"a\\\"b\\\\c\""));
	/* Non-ASCII or control bytes in the user, a bad uri: refused. */
	in.user = "r\xc3\xb6ot";
	assert_int_equal(kz_http_digest_credentials(&in, field, sizeof field), -EINVAL);
	in.user = "ro\r\not";
	assert_int_equal(kz_http_digest_credentials(&in, field, sizeof field), -EINVAL);
	in.user = "root";
	in.uri = "/a b";
	assert_int_equal(kz_http_digest_credentials(&in, field, sizeof field), -EINVAL);
	in.uri = "/";
	/* qop we were not offered, or qop without a cnonce. */
	in.qop = KZ_HTTP_QOP_AUTH_INT;
	assert_int_equal(kz_http_digest_response(&in, hex, sizeof hex), -EINVAL);
	in.qop = KZ_HTTP_QOP_AUTH;
	in.cnonce = NULL;
	assert_int_equal(kz_http_digest_response(&in, hex, sizeof hex), -EINVAL);
	in.cnonce = "c";
	/* No room. */
	assert_int_equal(kz_http_digest_credentials(&in, field, 40), -ENOSPC);
	assert_int_equal(kz_http_digest_response(&in, hex, 10), -ENOSPC);
	/* Unusable or unknown challenges. */
	challenge("Digest realm=\"r\"");
	in.ch = &R.ch[0];
	assert_int_equal(kz_http_digest_response(&in, hex, sizeof hex), -EINVAL);
	challenge("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1");
	in.ch = &R.ch[0];
	assert_int_equal(kz_http_digest_response(&in, hex, sizeof hex), -EINVAL);
	challenge("Basic realm=\"r\"");
	in.ch = &R.ch[0];
	assert_int_equal(kz_http_digest_response(&in, hex, sizeof hex), -EINVAL);
	in.ch = NULL;
	assert_int_equal(kz_http_digest_credentials(&in, field, sizeof field), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_rfc7617),        cmocka_unit_test(digest_rfc7616_sha256),
		cmocka_unit_test(digest_rfc7616_md5),   cmocka_unit_test(digest_rfc2617),
		cmocka_unit_test(digest_constructions), cmocka_unit_test(digest_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
