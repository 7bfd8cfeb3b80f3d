/*
 * The HTTP response parser: status lines, the framing of the body
 * (Content-Length, chunked, to the close, none), WWW-Authenticate's Basic
 * and Digest challenges in the forms servers write them (RFC 7616's
 * examples, several challenges in one field and in several fields,
 * folded lines, quoted-pairs, token68 schemes), Location, the caps, and
 * what is not HTTP. Every response is parsed twice — whole and one byte at
 * a time — and both parses must agree.
 *
 * With KZ_WRITE_HTTP_CORPUS=DIR set, every response is also written there
 * as a seed for tests/fuzz/fuzz_http_response.c (that is how
 * tests/fuzz/corpus/http_response/ was made).
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

#include "http_response.h"

struct parsed {
	int head_rc;  /* the first result that was not MORE */
	int final_rc; /* the last result, after EOF if needed */
	struct kz_http_response r;
};

static unsigned seeds;

static void write_seed(const char *bytes, size_t len, bool head_method)
{
	const char *dir = getenv("KZ_WRITE_HTTP_CORPUS");
	if (!dir)
		return;
	char path[512];
	snprintf(path, sizeof path, "%s/unit-%03u", dir, seeds++);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	/* The harness's first byte: bit 0 = HEAD request, the rest seed its
	 * chunking. */
	fputc(head_method ? 1 : 0, f);
	fwrite(bytes, 1, len, f);
	fclose(f);
}

/* Feeds bytes in chunks of `step` (0: all at once); the rest after HEAD is
 * fed again; EOF when the bytes run out and the message is not done. */
static void parse_chunked(const char *bytes, size_t len, bool head_method, size_t step,
                          struct parsed *p)
{
	kz_http_response_init(&p->r, head_method, 4096);
	p->head_rc = KZ_HTTP_MORE;
	p->final_rc = KZ_HTTP_MORE;
	size_t off = 0;
	int rc = KZ_HTTP_MORE;
	while (off < len) {
		size_t n = step ? (len - off < step ? len - off : step) : len - off;
		size_t used = 0;
		rc = kz_http_response_feed(&p->r, (const uint8_t *)bytes + off, n, &used);
		assert_true(used <= n);
		if (rc != KZ_HTTP_MORE && p->head_rc == KZ_HTTP_MORE)
			p->head_rc = rc;
		if (rc < 0 || rc == KZ_HTTP_DONE) {
			off += used;
			break;
		}
		if (rc == KZ_HTTP_HEAD) {
			off += used;
			continue;
		}
		assert_int_equal(used, n);
		off += n;
	}
	if (rc == KZ_HTTP_MORE || rc == KZ_HTTP_HEAD) {
		/* A feed of nothing settles a body-less message after HEAD. */
		size_t used;
		rc = kz_http_response_feed(&p->r, (const uint8_t *)"", 0, &used);
		if (rc == KZ_HTTP_MORE || rc == KZ_HTTP_HEAD)
			rc = kz_http_response_eof(&p->r);
	}
	p->final_rc = rc;
}

static void parse2(const char *bytes, size_t len, bool head_method, struct parsed *whole)
{
	static struct parsed bytewise;
	write_seed(bytes, len, head_method);
	parse_chunked(bytes, len, head_method, 0, whole);
	parse_chunked(bytes, len, head_method, 1, &bytewise);
	assert_int_equal(whole->head_rc, bytewise.head_rc);
	assert_int_equal(whole->final_rc, bytewise.final_rc);
	assert_int_equal(whole->r.status, bytewise.r.status);
	assert_int_equal(whole->r.nchallenges, bytewise.r.nchallenges);
	assert_int_equal(whole->r.body_seen, bytewise.r.body_seen);
	assert_string_equal(whole->r.location, bytewise.r.location);
	for (unsigned i = 0; i < whole->r.nchallenges; i++)
		assert_memory_equal(&whole->r.ch[i], &bytewise.r.ch[i], sizeof whole->r.ch[i]);
}

#define PARSE(str, p) parse2((str), sizeof(str) - 1, false, (p))

static struct parsed P;

static void simple_200_with_length(void **state)
{
	(void)state;
	PARSE("HTTP/1.1 200 OK\r\nServer: lighttpd/1.4.69\r\nContent-Length: 5\r\n\r\nhello", &P);
	assert_int_equal(P.head_rc, KZ_HTTP_HEAD);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	assert_int_equal(P.r.status, 200);
	assert_int_equal(P.r.version_major, 1);
	assert_int_equal(P.r.version_minor, 1);
	assert_string_equal(P.r.reason, "OK");
	assert_string_equal(P.r.server, "lighttpd/1.4.69");
	assert_true(P.r.has_length);
	assert_int_equal(P.r.body_seen, 5);
	assert_memory_equal(P.r.body, "hello", 5);
	assert_false(P.r.conn_close);
	assert_true(kz_http_response_head_done(&P.r));
}

static void chunked_body_with_trailer(void **state)
{
	(void)state;
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	      "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
	      "X-Trailer: yes\r\n\r\n",
	      &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	assert_true(P.r.chunked);
	assert_int_equal(P.r.body_seen, 23);
	assert_memory_equal(P.r.body, "Wikipedia in\r\n\r\nchunks.", 23);
}

static void body_to_the_close(void **state)
{
	(void)state;
	PARSE("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>admin</html>", &P);
	assert_int_equal(P.head_rc, KZ_HTTP_HEAD);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	assert_true(P.r.conn_close);
	assert_int_equal(P.r.body_seen, 18);
}

static void no_body_cases(void **state)
{
	(void)state;
	PARSE("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	assert_int_equal(P.r.body_seen, 0);
	PARSE("HTTP/1.1 304 Not Modified\r\n\r\n", &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	/* A HEAD request: the length describes a body that never comes. */
	parse2("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 41, true, &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	assert_int_equal(P.r.content_length, 1000);
	PARSE("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
}

static void lf_only_and_leading_newlines(void **state)
{
	(void)state;
	PARSE("\r\n\nHTTP/1.0 302 Found\nLocation: /login.htm\nContent-Length: 0\n\n", &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	assert_int_equal(P.r.status, 302);
	assert_true(P.r.has_location);
	assert_string_equal(P.r.location, "/login.htm");
	/* No reason phrase at all. */
	PARSE("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", &P);
	assert_int_equal(P.r.status, 404);
	assert_string_equal(P.r.reason, "");
}

static void interim_responses_skipped(void **state)
{
	(void)state;
	PARSE("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
	      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	      &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	assert_int_equal(P.r.status, 200);
	assert_int_equal(P.r.interim, 2);
	PARSE("HTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 B\r\n\r\nHTTP/1.1 100 C\r\n\r\n"
	      "HTTP/1.1 100 D\r\n\r\nHTTP/1.1 100 E\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
	      &P);
	assert_int_equal(P.final_rc, KZ_HTTP_TOO_BIG);
}

/* RFC 7616 section 3.9.1: two challenges in two fields. */
static void rfc7616_challenges(void **state)
{
	(void)state;
	PARSE("HTTP/1.1 401 Unauthorized\r\n"
	      "WWW-Authenticate: Digest\r\n"
	      "    realm=\"http-auth@example.org\",\r\n"
	      "    qop=\"auth, auth-int\",\r\n"
	      "    algorithm=SHA-256,\r\n"
	      "    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
	      "    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"\r\n"
	      "WWW-Authenticate: Digest\r\n"
	      "    realm=\"http-auth@example.org\",\r\n"
	      "    qop=\"auth, auth-int\",\r\n"
	      "    algorithm=MD5,\r\n"
	      "    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
	      "    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"\r\n"
	      "Content-Length: 0\r\n\r\n",
	      &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	assert_int_equal(P.r.status, 401);
	assert_int_equal(P.r.nchallenges, 2);
	for (unsigned i = 0; i < 2; i++) {
		const struct kz_http_challenge *c = &P.r.ch[i];
		assert_int_equal(c->scheme, KZ_HTTP_SCHEME_DIGEST);
		assert_true(c->usable);
		assert_string_equal(c->realm, "http-auth@example.org");
		assert_string_equal(c->nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
		assert_string_equal(c->opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
		assert_int_equal(c->qop, KZ_HTTP_QOP_AUTH | KZ_HTTP_QOP_AUTH_INT);
		assert_false(c->stale);
	}
	assert_int_equal(P.r.ch[0].algorithm, KZ_HTTP_ALG_SHA256);
	assert_int_equal(P.r.ch[1].algorithm, KZ_HTTP_ALG_MD5);
}

static void several_challenges_in_one_field(void **state)
{
	(void)state;
	PARSE("HTTP/1.1 401 Unauthorized\r\n"
	      "WWW-Authenticate: Negotiate, NTLM TlRMTVNTUAACAAAA==, Basic realm=\"DVR "
	      "\\\"web\\\"\", charset=\"UTF-8\", Digest realm=x, nonce=abc, "
	      "algorithm=md5-SESS, stale=TRUE, qop=auth, Bearer realm=\"api\", "
	      "Digest nonce=\"n\", algorithm=SHA-999\r\n\r\n",
	      &P);
	assert_int_equal(P.r.nchallenges, 3);
	assert_int_equal(P.r.other_challenges, 3);
	assert_string_equal(P.r.other_scheme, "Negotiate");
	const struct kz_http_challenge *b = &P.r.ch[0], *d = &P.r.ch[1], *u = &P.r.ch[2];
	assert_int_equal(b->scheme, KZ_HTTP_SCHEME_BASIC);
	assert_string_equal(b->realm, "DVR \"web\"");
	assert_true(b->utf8);
	assert_true(b->usable);
	assert_int_equal(d->scheme, KZ_HTTP_SCHEME_DIGEST);
	assert_string_equal(d->realm, "x");
	assert_string_equal(d->nonce, "abc");
	assert_int_equal(d->algorithm, KZ_HTTP_ALG_MD5_SESS);
	assert_true(d->stale);
	assert_int_equal(d->qop, KZ_HTTP_QOP_AUTH);
	assert_true(d->usable);
	/* An algorithm we do not know: kept, marked, never answered. */
	assert_int_equal(u->algorithm, KZ_HTTP_ALG_UNKNOWN);
	assert_string_equal(u->realm, "");
}

static void unusable_challenges(void **state)
{
	(void)state;
	char big[2000];
	int n = snprintf(big, sizeof big,
	                 "HTTP/1.1 401 X\r\nWWW-Authenticate: Digest realm=\"r\"\r\n"
	                 "WWW-Authenticate: Digest realm=\"r\", nonce=\"%0300d\"\r\n"
	                 "WWW-Authenticate: Digest realm=\"r\", nonce=\"a\\\x01b\"\r\n"
	                 "WWW-Authenticate: Digest realm=\"unterminated, nonce=\"x\r\n\r\n",
	                 0);
	parse2(big, (size_t)n, false, &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	assert_int_equal(P.r.nchallenges, 4);
	assert_false(P.r.ch[0].usable); /* no nonce */
	assert_false(P.r.ch[1].usable); /* nonce longer than we keep */
	assert_false(P.r.ch[2].usable); /* a control byte we would echo */
	assert_false(P.r.ch[3].usable); /* no closing quote */
	/* More than KZ_HTTP_MAX_CHALLENGES: counted, not kept. */
	PARSE("HTTP/1.1 401 X\r\nWWW-Authenticate: Basic realm=a, Basic realm=b, Basic "
	      "realm=c, Basic realm=d, Basic realm=e\r\n\r\n",
	      &P);
	assert_int_equal(P.r.nchallenges, KZ_HTTP_MAX_CHALLENGES);
	assert_int_equal(P.r.dropped_challenge, 1);
	assert_string_equal(P.r.ch[3].realm, "d");
}

static void userhash_and_case(void **state)
{
	(void)state;
	PARSE("HTTP/1.1 401 X\r\nwww-authenticate:   DIGEST REALM=\"a\",NONCE=\"b\",USERHASH=true,"
	      "ALGORITHM=sha-512-256-SESS,OPAQUE=\"\",QOP=\"auth-int\"  \r\n\r\n",
	      &P);
	assert_int_equal(P.r.nchallenges, 1);
	const struct kz_http_challenge *c = &P.r.ch[0];
	assert_true(c->usable);
	assert_true(c->userhash);
	assert_true(c->has_opaque);
	assert_string_equal(c->opaque, "");
	assert_int_equal(c->algorithm, KZ_HTTP_ALG_SHA512_256_SESS);
	assert_int_equal(c->qop, KZ_HTTP_QOP_AUTH_INT);
}

static void location_kept_not_followed(void **state)
{
	(void)state;
	char buf[1200];
	char longurl[700];
	memset(longurl, 'a', sizeof longurl - 1);
	longurl[sizeof longurl - 1] = '\0';
	int n = snprintf(buf, sizeof buf,
	                 "HTTP/1.1 301 Moved\r\nLocation: http://198.51.100.7/%s\r\n\r\n", longurl);
	parse2(buf, (size_t)n, false, &P);
	assert_int_equal(P.r.status, 301);
	assert_true(P.r.has_location);
	assert_true(P.r.location_truncated);
	assert_int_equal(strlen(P.r.location), KZ_HTTP_LOCATION_MAX);
	/* Control bytes in a kept value become '?'. */
	PARSE("HTTP/1.1 302 F\r\nLocation: /a\x1b[31mb\r\n\r\n", &P);
	assert_string_equal(P.r.location, "/a?[31mb");
}

static void connection_field(void **state)
{
	(void)state;
	PARSE("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n", &P);
	assert_true(P.r.conn_close);
	PARSE("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", &P);
	assert_false(P.r.conn_close);
}

static void not_http(void **state)
{
	(void)state;
	PARSE("SSH-2.0-dropbear_2020.81\r\n", &P);
	assert_int_equal(P.head_rc, KZ_HTTP_NOT_HTTP);
	PARSE("\xff\xfd\x01\xff\xfd\x1f", &P);
	assert_int_equal(P.head_rc, KZ_HTTP_NOT_HTTP);
	PARSE("<html><body>hello</body></html>", &P);
	assert_int_equal(P.head_rc, KZ_HTTP_NOT_HTTP);
	PARSE("\x15\x03\x01\x00\x02\x02\x32", &P); /* a TLS alert */
	assert_int_equal(P.head_rc, KZ_HTTP_NOT_HTTP);
	PARSE("http/1.1 200 OK\r\n\r\n", &P); /* the name is case-sensitive */
	assert_int_equal(P.head_rc, KZ_HTTP_NOT_HTTP);
	PARSE("\r\n\r\n\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", &P); /* too many blank lines */
	assert_int_equal(P.head_rc, KZ_HTTP_NOT_HTTP);
	/* Nothing, or a start of "HTTP/" cut by the close. */
	PARSE("", &P);
	assert_int_equal(P.final_rc, KZ_HTTP_NOT_HTTP);
	PARSE("HTT", &P);
	assert_int_equal(P.final_rc, KZ_HTTP_NOT_HTTP);
}

static void malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 600 High\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/x.1 200 OK\r\n\r\n",
		"HTTP/1.1200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
		"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
		"HTTP/1.1 200 OK\r\n\rX",
		/* Cut short by the close: */
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nServer: x",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		parse2(bad[i], strlen(bad[i]), false, &P);
		if (P.final_rc != KZ_HTTP_BAD && P.final_rc != KZ_HTTP_TOO_BIG)
			fail_msg("case %zu: %d, want an error", i, P.final_rc);
	}
	/* Same Content-Length twice is fine. */
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
	/* A field line without a colon is ignored. */
	PARSE("HTTP/1.1 200 OK\r\nnonsense\r\nContent-Length: 0\r\n\r\n", &P);
	assert_int_equal(P.final_rc, KZ_HTTP_DONE);
}

static void caps(void **state)
{
	(void)state;
	static char buf[KZ_HTTP_HEAD_MAX * 2];
	/* One field longer than a line may be. */
	int n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nX-Long: ");
	memset(buf + n, 'x', KZ_HTTP_LINE_MAX);
	n += KZ_HTTP_LINE_MAX;
	n += snprintf(buf + n, sizeof buf - (size_t)n, "\r\n\r\n");
	parse2(buf, (size_t)n, false, &P);
	assert_int_equal(P.head_rc, KZ_HTTP_TOO_BIG);
	/* Too many fields. */
	n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i <= KZ_HTTP_MAX_FIELDS; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "X-%d: y\r\n", i);
	n += snprintf(buf + n, sizeof buf - (size_t)n, "\r\n");
	parse2(buf, (size_t)n, false, &P);
	assert_int_equal(P.head_rc, KZ_HTTP_TOO_BIG);
	/* A head past its cap, in fields each short enough. */
	n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < 20; i++) {
		n += snprintf(buf + n, sizeof buf - (size_t)n, "X-%d: ", i);
		memset(buf + n, 'y', 1000);
		n += 1000;
		n += snprintf(buf + n, sizeof buf - (size_t)n, "\r\n");
	}
	n += snprintf(buf + n, sizeof buf - (size_t)n, "\r\n");
	parse2(buf, (size_t)n, false, &P);
	assert_int_equal(P.head_rc, KZ_HTTP_TOO_BIG);
	/* A body past the cap the caller set (4096 in these tests). */
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", &P);
	assert_int_equal(P.head_rc, KZ_HTTP_TOO_BIG);
	n = snprintf(buf, sizeof buf, "HTTP/1.0 200 OK\r\n\r\n");
	memset(buf + n, 'z', 5000);
	parse2(buf, (size_t)n + 5000, false, &P);
	assert_int_equal(P.final_rc, KZ_HTTP_TOO_BIG);
	assert_int_equal(P.r.body_len, KZ_HTTP_BODY_KEEP);
}

static void after_the_end(void **state)
{
	(void)state;
	struct kz_http_response r;
	kz_http_response_init(&r, false, 0);
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 X\r\n\r\n";
	size_t len = strlen(s), used, off = 0;
	assert_int_equal(kz_http_response_feed(&r, (const uint8_t *)s, len, &used), KZ_HTTP_HEAD);
	off += used;
	assert_int_equal(kz_http_response_feed(&r, (const uint8_t *)s + off, len - off, &used),
	                 KZ_HTTP_DONE);
	off += used;
	/* The rest belongs to a next response: not taken. */
	assert_string_equal(s + off, "HTTP/1.1 500 X\r\n\r\n");
	assert_int_equal(kz_http_response_feed(&r, (const uint8_t *)s + off, len - off, &used),
	                 KZ_HTTP_DONE);
	assert_int_equal(used, 0);
	assert_int_equal(r.status, 200);
	/* Errors repeat. */
	kz_http_response_init(&r, false, 0);
	assert_int_equal(kz_http_response_feed(&r, (const uint8_t *)"X", 1, &used),
	                 KZ_HTTP_NOT_HTTP);
	assert_int_equal(kz_http_response_feed(&r, (const uint8_t *)"HTTP/", 5, &used),
	                 KZ_HTTP_NOT_HTTP);
	assert_int_equal(kz_http_response_eof(&r), KZ_HTTP_NOT_HTTP);
}

static void alg_names(void **state)
{
	(void)state;
	assert_string_equal(kz_http_digest_alg_name(KZ_HTTP_ALG_MD5), "MD5");
	assert_string_equal(kz_http_digest_alg_name(KZ_HTTP_ALG_SHA256_SESS), "SHA-256-sess");
	assert_string_equal(kz_http_digest_alg_name(KZ_HTTP_ALG_SHA512_256), "SHA-512-256");
	assert_string_equal(kz_http_digest_alg_name(KZ_HTTP_ALG_UNKNOWN), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simple_200_with_length),
		cmocka_unit_test(chunked_body_with_trailer),
		cmocka_unit_test(body_to_the_close),
		cmocka_unit_test(no_body_cases),
		cmocka_unit_test(lf_only_and_leading_newlines),
		cmocka_unit_test(interim_responses_skipped),
		cmocka_unit_test(rfc7616_challenges),
		cmocka_unit_test(several_challenges_in_one_field),
		cmocka_unit_test(unusable_challenges),
		cmocka_unit_test(userhash_and_case),
		cmocka_unit_test(location_kept_not_followed),
		cmocka_unit_test(connection_field),
		cmocka_unit_test(not_http),
		cmocka_unit_test(malformed),
		cmocka_unit_test(caps),
		cmocka_unit_test(after_the_end),
		cmocka_unit_test(alg_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
