/*
 * Arbitrary server bytes through the HTTP response parser, whole and in
 * arbitrary chunkings, and every challenge it accepts through the Digest
 * and Basic builders.
 *
 * Input: 1 byte of flags (bit 0: the request was HEAD; the other bits seed
 * the chunk sizes), then the response bytes.
 *
 * Checked:
 * - the whole feed and a chunked feed agree on every result;
 * - *used never exceeds what was fed; after DONE or an error, feeds change
 *   nothing;
 * - kept strings are NUL-terminated inside their buffers; the caps hold;
 * - the same bytes as one WWW-Authenticate value parse without fault, and
 *   every usable challenge gives an Authorization value with no CR, LF or
 *   NUL: a server cannot make us write a header of its choosing.
 *
 * Seeds (tests/fuzz/corpus/http_response/) are the responses of
 * tests/unit/test_http_response.c (KZ_WRITE_HTTP_CORPUS=DIR writes them)
 * and the device transcripts of docs/devsim-spec.md's HTTP section.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_auth.h"
#include "http_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_MAX 65536

static int run(struct kz_http_response *r, const uint8_t *p, size_t n, bool head, uint32_t seed)
{
	kz_http_response_init(r, head, BODY_MAX);
	size_t off = 0;
	int rc = KZ_HTTP_MORE;
	while (off < n) {
		size_t chunk = n - off;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			size_t c = 1 + (seed >> 16) % 17;
			if (c < chunk)
				chunk = c;
		}
		size_t used = 0;
		rc = kz_http_response_feed(r, p + off, chunk, &used);
		if (used > chunk)
			abort();
		off += used;
		if (rc < 0 || rc == KZ_HTTP_DONE)
			break;
		if (rc == KZ_HTTP_MORE && used != chunk)
			abort();
	}
	if (rc == KZ_HTTP_MORE || rc == KZ_HTTP_HEAD) {
		size_t used;
		rc = kz_http_response_feed(r, p, 0, &used);
		if (rc == KZ_HTTP_MORE || rc == KZ_HTTP_HEAD)
			rc = kz_http_response_eof(r);
	}
	/* Settled: nothing changes it any more. */
	size_t used = 1;
	if (kz_http_response_feed(r, p, n, &used) != rc ||
	    (rc < 0 && kz_http_response_eof(r) != rc))
		abort();
	return rc;
}

static void check_strings(const struct kz_http_response *r)
{
	if (!memchr(r->reason, 0, sizeof r->reason) || !memchr(r->server, 0, sizeof r->server) ||
	    !memchr(r->location, 0, sizeof r->location) ||
	    !memchr(r->other_scheme, 0, sizeof r->other_scheme))
		abort();
	if (r->nchallenges > KZ_HTTP_MAX_CHALLENGES || r->body_len > KZ_HTTP_BODY_KEEP ||
	    r->body_seen > BODY_MAX + 1 || r->nfields > KZ_HTTP_MAX_FIELDS + 1)
		abort();
	for (unsigned i = 0; i < r->nchallenges; i++) {
		const struct kz_http_challenge *c = &r->ch[i];
		if (!memchr(c->realm, 0, sizeof c->realm) ||
		    !memchr(c->nonce, 0, sizeof c->nonce) ||
		    !memchr(c->opaque, 0, sizeof c->opaque))
			abort();
	}
}

static void check_credentials(const struct kz_http_response *r)
{
	for (unsigned i = 0; i < r->nchallenges; i++) {
		const struct kz_http_challenge *c = &r->ch[i];
		char out[KZ_HTTP_AUTH_MAX];
		int n;
		if (c->scheme == KZ_HTTP_SCHEME_BASIC) {
			n = kz_http_basic_credentials("admin", "p\"a:ss", out, sizeof out);
		} else {
			struct kz_http_digest_input in = {
				.ch = c,
				.user = "ad\"m\\in",
				.pass = "secret",
				.method = "GET",
				.uri = "/cgi-bin/x?y=1",
				.cnonce = "0123456789abcdef",
				.nc = 1,
				.qop = kz_http_digest_pick_qop(c),
			};
			n = kz_http_digest_credentials(&in, out, sizeof out);
			if (n >= 0 && !c->usable)
				abort(); /* an unusable challenge must never be answered */
		}
		if (n < 0)
			continue;
		if ((size_t)n != strlen(out) || strpbrk(out, "\r\n"))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kz_http_response a, b, h;
	if (size < 1)
		return 0;
	bool head = data[0] & 1;
	uint32_t seed = data[0] >> 1 | 1u << 8;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	int ra = run(&a, p, n, head, 0);
	int rb = run(&b, p, n, head, seed);
	if (ra != rb || a.status != b.status || a.nchallenges != b.nchallenges ||
	    a.body_seen != b.body_seen || a.has_location != b.has_location ||
	    strcmp(a.location, b.location) != 0 || a.chunked != b.chunked ||
	    a.content_length != b.content_length)
		abort();
	for (unsigned i = 0; i < a.nchallenges; i++)
		if (memcmp(&a.ch[i], &b.ch[i], sizeof a.ch[i]) != 0)
			abort();
	check_strings(&a);
	check_credentials(&a);
	/* The same bytes as one WWW-Authenticate value. */
	kz_http_response_init(&h, false, 0);
	kz_http_parse_www_authenticate(&h, (const char *)p, n);
	check_strings(&h);
	check_credentials(&h);
	return 0;
}
