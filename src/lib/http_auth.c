/*
 * Basic and Digest credentials (http_auth.h).
 *
 * Digest, RFC 7616 section 3.4:
 *   A1       = user ":" realm ":" password
 *              ("-sess": H(user ":" realm ":" password) ":" nonce ":" cnonce)
 *   A2       = method ":" uri            (qop auth or none)
 *              method ":" uri ":" H(body) (qop auth-int; a GET has no body)
 *   response = H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2))
 *              or, with no qop (RFC 2069), H(H(A1) ":" nonce ":" H(A2))
 * with H the challenge's algorithm written as lowercase hex. Values are
 * hashed part by part, never assembled in one buffer, so no length limit
 * applies beyond the ones the parser keeps.
 */
#include "http_auth.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "encode.h"

/* The hash of a Digest algorithm (RFC 7616 6.1), NULL for one we do not
 * know. */
static const EVP_MD *alg_md(uint8_t alg)
{
	switch (alg) {
	case KZ_HTTP_ALG_MD5:
	case KZ_HTTP_ALG_MD5_SESS:
		return EVP_md5();
	case KZ_HTTP_ALG_SHA256:
	case KZ_HTTP_ALG_SHA256_SESS:
		return EVP_sha256();
	case KZ_HTTP_ALG_SHA512_256:
	case KZ_HTTP_ALG_SHA512_256_SESS:
		return EVP_sha512_256();
	default:
		return NULL;
	}
}

/* The "-sess" variants hash the nonces into A1 (RFC 7616 3.4.2). */
static bool alg_sess(uint8_t alg)
{
	return alg == KZ_HTTP_ALG_MD5_SESS || alg == KZ_HTTP_ALG_SHA256_SESS ||
	       alg == KZ_HTTP_ALG_SHA512_256_SESS;
}

/* H(p1 ":" p2 ":" ... ) over a NULL-terminated list of strings, as hex into
 * out (KZ_HTTP_DIGEST_HEX_MAX bytes). Returns 0 or -EIO. */
static int hash_hex(const EVP_MD *md, char *out, ...)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	int rc = -EIO;
	if (!ctx || EVP_DigestInit_ex(ctx, md, NULL) != 1)
		goto out;
	va_list ap;
	va_start(ap, out);
	bool first = true, ok = true;
	for (const char *p; ok && (p = va_arg(ap, const char *)) != NULL; first = false) {
		if (!first)
			ok = EVP_DigestUpdate(ctx, ":", 1) == 1;
		ok = ok && EVP_DigestUpdate(ctx, p, strlen(p)) == 1;
	}
	va_end(ap);
	if (!ok || EVP_DigestFinal_ex(ctx, d, &dlen) != 1 || 2 * dlen + 1 > KZ_HTTP_DIGEST_HEX_MAX)
		goto out;
	kz_hex_encode(d, dlen, out);
	rc = 0;
out:
	explicit_bzero(d, sizeof d);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int kz_http_basic_credentials(const char *user, const char *pass, char *out, size_t cap)
{
	size_t ul = strlen(user), pl = strlen(pass);
	for (size_t i = 0; i < ul; i++)
		if (user[i] == ':' || (unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			return -EINVAL;
	/* user ":" pass, at most 2 * KZ_CREDS_FIELD_MAX + 1 in practice */
	uint8_t buf[1024];
	if (ul + 1 + pl > sizeof buf)
		return -ENOSPC;
	size_t n = ul + 1 + pl;
	if (6 + kz_base64_encoded_size(n) > cap)
		return -ENOSPC;
	memcpy(buf, user, ul);
	buf[ul] = ':';
	memcpy(buf + ul + 1, pass, pl);
	memcpy(out, "Basic ", 6);
	size_t len = kz_base64_encode(buf, n, out + 6);
	explicit_bzero(buf, n);
	return (int)(6 + len);
}

uint8_t kz_http_digest_pick_qop(const struct kz_http_challenge *ch)
{
	if (ch->qop & KZ_HTTP_QOP_AUTH)
		return KZ_HTTP_QOP_AUTH;
	if (ch->qop & KZ_HTTP_QOP_AUTH_INT)
		return KZ_HTTP_QOP_AUTH_INT;
	return 0;
}

int kz_http_digest_response(const struct kz_http_digest_input *in, char *hex, size_t cap)
{
	const struct kz_http_challenge *ch = in->ch;
	if (!ch || ch->scheme != KZ_HTTP_SCHEME_DIGEST || !ch->usable)
		return -EINVAL;
	const EVP_MD *md = alg_md(ch->algorithm);
	if (!md)
		return -EINVAL;
	if (cap < (size_t)EVP_MD_get_size(md) * 2 + 1)
		return -ENOSPC;
	if (in->qop && (!in->cnonce || !(ch->qop & in->qop)))
		return -EINVAL;
	char ha1[KZ_HTTP_DIGEST_HEX_MAX], ha2[KZ_HTTP_DIGEST_HEX_MAX], t[KZ_HTTP_DIGEST_HEX_MAX];
	char nc[9];
	int rc = hash_hex(md, ha1, in->user, ch->realm, in->pass, (const char *)NULL);
	if (rc == 0 && alg_sess(ch->algorithm)) {
		rc = hash_hex(md, t, ha1, ch->nonce, in->cnonce ? in->cnonce : "",
		              (const char *)NULL);
		memcpy(ha1, t, sizeof t);
	}
	if (rc == 0 && in->qop == KZ_HTTP_QOP_AUTH_INT) {
		/* H(entity-body) of the empty body a GET carries. */
		rc = hash_hex(md, t, "", (const char *)NULL);
		if (rc == 0)
			rc = hash_hex(md, ha2, in->method, in->uri, t, (const char *)NULL);
	} else if (rc == 0) {
		rc = hash_hex(md, ha2, in->method, in->uri, (const char *)NULL);
	}
	if (rc == 0) {
		snprintf(nc, sizeof nc, "%08x", in->nc);
		if (in->qop)
			rc = hash_hex(md, hex, ha1, ch->nonce, nc, in->cnonce,
			              in->qop == KZ_HTTP_QOP_AUTH ? "auth" : "auth-int", ha2,
			              (const char *)NULL);
		else
			rc = hash_hex(md, hex, ha1, ch->nonce, ha2, (const char *)NULL);
	}
	explicit_bzero(ha1, sizeof ha1);
	explicit_bzero(t, sizeof t);
	return rc ? rc : (int)strlen(hex);
}

/* A bounded writer for the field value. */
struct out {
	char *p;
	size_t cap, len;
	bool full;
};

/* Appends n bytes, or marks the writer full (the caller returns -ENOSPC). */
static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->len + n >= o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A quoted-string: '"' and '\' escaped with '\'. */
static void put_quoted(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(o, "\\", 1);
		put(o, s, 1);
	}
	put(o, "\"", 1);
}

/* Printable ASCII only: what a quoted-string can carry without RFC 8187. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* A request target: printable ASCII without a blank (it ends the request
 * line's target). */
static bool target_ok(const char *s)
{
	return *s && printable(s) && !strchr(s, ' ');
}

int kz_http_digest_credentials(const struct kz_http_digest_input *in, char *out, size_t cap)
{
	if (!in->ch)
		return -EINVAL;
	/* With userhash the user travels hashed, so any bytes will do. */
	if ((!in->ch->userhash && !printable(in->user)) || !target_ok(in->uri) ||
	    (in->cnonce && !printable(in->cnonce)) || (in->cnonce && strchr(in->cnonce, '"')))
		return -EINVAL;
	char resp[KZ_HTTP_DIGEST_HEX_MAX], uh[KZ_HTTP_DIGEST_HEX_MAX];
	int rc = kz_http_digest_response(in, resp, sizeof resp);
	if (rc < 0)
		return rc;
	const struct kz_http_challenge *ch = in->ch;
	struct out o = { out, cap, 0, cap == 0 };
	if (cap)
		out[0] = '\0';
	puts_(&o, "Digest username=");
	if (ch->userhash) {
		/* RFC 7616 3.4.4: the user travels as H(user ":" realm). */
		if (hash_hex(alg_md(ch->algorithm), uh, in->user, ch->realm, (const char *)NULL))
			return -EIO;
		put_quoted(&o, uh);
	} else {
		put_quoted(&o, in->user);
	}
	puts_(&o, ", realm=");
	put_quoted(&o, ch->realm);
	puts_(&o, ", nonce=");
	put_quoted(&o, ch->nonce);
	puts_(&o, ", uri=");
	put_quoted(&o, in->uri);
	/* The algorithm is named whenever the challenge named one other than
	 * the default; RFC 2069 servers know no algorithm parameter. */
	if (ch->algorithm != KZ_HTTP_ALG_MD5 || in->qop) {
		puts_(&o, ", algorithm=");
		puts_(&o, kz_http_digest_alg_name((enum kz_http_digest_alg)ch->algorithm));
	}
	puts_(&o, ", response=\"");
	puts_(&o, resp);
	puts_(&o, "\"");
	if (in->qop) {
		char nc[9];
		snprintf(nc, sizeof nc, "%08x", in->nc);
		puts_(&o, in->qop == KZ_HTTP_QOP_AUTH ? ", qop=auth, nc=" : ", qop=auth-int, nc=");
		puts_(&o, nc);
		puts_(&o, ", cnonce=");
		put_quoted(&o, in->cnonce);
	}
	if (ch->has_opaque) {
		puts_(&o, ", opaque=");
		put_quoted(&o, ch->opaque);
	}
	if (ch->userhash)
		puts_(&o, ", userhash=true");
	if (o.full)
		return -ENOSPC;
	return (int)o.len;
}
