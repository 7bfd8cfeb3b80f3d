/*
 * Version-5 UUIDs (see uuid.h). SHA-1 comes from OpenSSL's EVP digest:
 * kz_uuid5 and kz_uuid_kizuki look it up at every call (EVP_sha1(), under
 * a lock), which is fine for a few ids per object; a caller that makes one
 * per record fetches it once and calls kz_uuid_kizuki_with.
 */
#include "uuid.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"

#define KIZUKI_NAME_MAX 1024

/* Parses a canonical UUID into 16 bytes. */
static int uuid_parse(const char *s, uint8_t out[16])
{
	char hex[32];
	size_t n = 0;
	if (!kz_uuid_valid(s))
		return -EINVAL;
	for (size_t i = 0; i < 36; i++)
		if (s[i] != '-')
			hex[n++] = s[i];
	return kz_hex_decode(hex, 32, out, 16) == 0 ? 0 : -EINVAL;
}

static void uuid_format(const uint8_t b[16], char out[KZ_UUID_STRLEN])
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[b[i] >> 4];
		out[o++] = digits[b[i] & 15];
	}
	out[o] = '\0';
}

/* The version-5 UUID of name[0..len) in namespace ns (16 bytes), with
 * SHA-1 `md` in `ctx`. */
static int uuid5_with(EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t ns[16], const void *name,
                      size_t len, char out[KZ_UUID_STRLEN])
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, ns, 16) != 1 ||
	    EVP_DigestUpdate(ctx, name, len) != 1 || EVP_DigestFinal_ex(ctx, d, &dlen) != 1 ||
	    dlen < 16)
		return -ENOMEM;
	/* RFC 9562 5.5: version 5 in the high nibble of byte 6, the
	 * variant 10xx in the top bits of byte 8. */
	d[6] = (uint8_t)((d[6] & 0x0f) | 0x50);
	d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
	uuid_format(d, out);
	return 0;
}

int kz_uuid5(const char *ns, const void *name, size_t len, char out[KZ_UUID_STRLEN])
{
	uint8_t nsb[16];
	out[0] = '\0';
	if (uuid_parse(ns, nsb))
		return -EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = ctx ? uuid5_with(ctx, EVP_sha1(), nsb, name, len, out) : -ENOMEM;
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* The name kz_uuid_kizuki hashes: the fields joined by '|' (at most 8),
 * cut to fit the buffer with a field that does not, the fields after it
 * left out once it is full. Returns its length. */
static size_t kizuki_name(char buf[KIZUKI_NAME_MAX], size_t nfields, const char *const *fields)
{
	size_t n = 0;
	for (size_t i = 0; i < nfields && i < 8; i++) {
		size_t l = strlen(fields[i]);
		if (n + l + 1 >= KIZUKI_NAME_MAX) {
			/* The cut as ids have always been made; a field after a
			 * cut one finds no room left (it was written past the
			 * buffer; no caller passes names that long). */
			if (n + 2 >= KIZUKI_NAME_MAX)
				break;
			l = KIZUKI_NAME_MAX - n - 2;
		}
		if (i)
			buf[n++] = '|';
		memcpy(buf + n, fields[i], l);
		n += l;
	}
	return n;
}

void kz_uuid_kizuki(char out[KZ_UUID_STRLEN], size_t nfields, const char *const *fields)
{
	char buf[KIZUKI_NAME_MAX];
	size_t n = kizuki_name(buf, nfields, fields);
	if (kz_uuid5(KZ_UUID_NS_KIZUKI, buf, n, out) != 0)
		snprintf(out, KZ_UUID_STRLEN, "00000000-0000-5000-8000-000000000000");
}

int kz_uuid_kizuki_with(EVP_MD_CTX *ctx, const EVP_MD *sha1, char out[KZ_UUID_STRLEN],
                        size_t nfields, const char *const *fields)
{
	char buf[KIZUKI_NAME_MAX];
	uint8_t nsb[16];
	size_t n = kizuki_name(buf, nfields, fields);
	out[0] = '\0';
	if (uuid_parse(KZ_UUID_NS_KIZUKI, nsb))
		return -EINVAL;
	return uuid5_with(ctx, sha1, nsb, buf, n, out);
}

int kz_uuid_valid(const char *s)
{
	for (size_t i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		             (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return s[36] == '\0';
}
