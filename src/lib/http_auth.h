/*
 * HTTP authentication credentials for the survey's HTTP login check: the
 * Authorization field values of Basic (RFC 7617) and Digest (RFC 7616, with
 * RFC 2617's and RFC 2069's older forms), computed from a challenge that
 * http_response.h parsed.
 *
 * Pure functions over caller buffers: no allocation, no socket, no clock.
 * The digests come from OpenSSL's libcrypto (MD5, SHA-256, SHA-512/256);
 * intermediate values that derive from the password are wiped before
 * returning.
 *
 * What we refuse rather than send wrongly (the caller skips the pair for
 * that scheme, and says so): a Basic user containing ':' (RFC 7617 cannot
 * carry it) or a control byte; a Digest user outside printable ASCII
 * unless the challenge asks for userhash (it would need RFC 8187's
 * username*, which no device we know of asks for); a request target that
 * is not printable ASCII.
 */
#ifndef KZ_HTTP_AUTH_H
#define KZ_HTTP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "http_response.h"

/* Longest Authorization field value either builder writes, with the
 * longest user (KZ_CREDS_FIELD_MAX), realm, nonce, opaque and path. */
#define KZ_HTTP_AUTH_MAX 2560
/* Longest hex digest (SHA-256 and SHA-512/256) and its NUL. */
#define KZ_HTTP_DIGEST_HEX_MAX 65

/* Writes "Basic " and base64(user ":" pass) with a NUL to out (cap
 * bytes). Returns the length, -EINVAL for a user with ':' or a control
 * byte, -ENOSPC when cap is too small. */
int kz_http_basic_credentials(const char *user, const char *pass, char *out, size_t cap)
        __attribute__((warn_unused_result));

/* Everything a Digest response depends on. All borrowed. */
struct kz_http_digest_input {
	const struct kz_http_challenge *ch; /* a usable Digest challenge */
	const char *user, *pass;
	const char *method; /* "GET" */
	const char *uri;    /* the request target, exactly as sent */
	const char *cnonce; /* client nonce (printable ASCII, no '"'); with qop only */
	uint32_t nc;        /* the nonce count: 1 for the first use of ch->nonce */
	uint8_t qop;        /* chosen: 0, KZ_HTTP_QOP_AUTH or KZ_HTTP_QOP_AUTH_INT */
};

/* The qop to answer ch with: auth when offered, else auth-int (for a GET,
 * the body is empty), else 0 (RFC 2069). */
uint8_t kz_http_digest_pick_qop(const struct kz_http_challenge *ch);

/* The request-digest (RFC 7616 section 3.4.1) as lowercase hex into hex
 * (cap bytes). Returns its length, -EINVAL for an unusable challenge or an
 * unknown algorithm, -ENOSPC, or -EIO when libcrypto fails. */
int kz_http_digest_response(const struct kz_http_digest_input *in, char *hex, size_t cap)
        __attribute__((warn_unused_result));

/* The whole field value: "Digest username=..., realm=..., ...". Returns
 * its length or a negative errno as kz_http_digest_response, and -EINVAL
 * for a user or uri we refuse (above). */
int kz_http_digest_credentials(const struct kz_http_digest_input *in, char *out, size_t cap)
        __attribute__((warn_unused_result));

#endif
