/*
 * Version-5 UUIDs (see uuid.h). SHA-1 comes from OpenSSL's one-shot EVP
 * digest: the ids are made a few per finding, far from any hot path.
 */
#include "uuid.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"

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

int kz_uuid5(const char *ns, const void *name, size_t len, char out[KZ_UUID_STRLEN])
{
	uint8_t nsb[16], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	out[0] = '\0';
	if (uuid_parse(ns, nsb))
		return -EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, nsb, 16) != 1 || EVP_DigestUpdate(ctx, name, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 16) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	EVP_MD_CTX_free(ctx);
	/* RFC 9562 5.5: version 5 in the high nibble of byte 6, the
	 * variant 10xx in the top bits of byte 8. */
	md[6] = (uint8_t)((md[6] & 0x0f) | 0x50);
	md[8] = (uint8_t)((md[8] & 0x3f) | 0x80);
	uuid_format(md, out);
	return 0;
}

void kz_uuid_kizuki(char out[KZ_UUID_STRLEN], size_t nfields, const char *const *fields)
{
	char buf[1024];
	size_t n = 0;
	for (size_t i = 0; i < nfields && i < 8; i++) {
		size_t l = strlen(fields[i]);
		if (n + l + 1 >= sizeof buf)
			l = sizeof buf - n - 2;
		if (i)
			buf[n++] = '|';
		memcpy(buf + n, fields[i], l);
		n += l;
	}
	if (kz_uuid5(KZ_UUID_NS_KIZUKI, buf, n, out) != 0)
		snprintf(out, KZ_UUID_STRLEN, "00000000-0000-5000-8000-000000000000");
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
