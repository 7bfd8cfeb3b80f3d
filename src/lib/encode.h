/*
 * Byte encodings used by records and sketches: base64 (RFC 4648, with
 * padding, strict on decode), lowercase hex, and integers in decimal for
 * the writers that format records by hand.
 */
#ifndef KZ_ENCODE_H
#define KZ_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to base64-encode len bytes, including the terminating NUL. */
size_t kz_base64_encoded_size(size_t len);

/* Encodes len bytes into out (kz_base64_encoded_size(len) bytes), NUL-terminated.
 * Returns the string's length. */
size_t kz_base64_encode(const uint8_t *in, size_t len, char *out);

/* Decodes strictly: the alphabet of RFC 4648 section 4, padding required, no
 * whitespace. out must hold len / 4 * 3 bytes. Returns the decoded length, or
 * -1 when the text is not canonical base64. */
long kz_base64_decode(const char *in, size_t len, uint8_t *out);

/* Writes 2 * len lowercase hex digits and a NUL into out. */
void kz_hex_encode(const uint8_t *in, size_t len, char *out);

/* Decodes exactly 2 * outlen hex digits (either case) from in. Returns 0, or
 * -1 when in has another length or a non-hex character. */
int kz_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen);

/* Room for an integer in decimal, "-9223372036854775808", and a NUL. */
#define KZ_DEC_SIZE 21

/* v in decimal, as printf's "%" PRIu64 writes it, at the end of buf: the
 * digits end at buf + KZ_DEC_SIZE - 1, where a NUL is written. Returns
 * where they start (their length: buf + KZ_DEC_SIZE - 1 - start). Inline:
 * the record writers call it a few times per record. */
static inline char *kz_dec_u64(char buf[KZ_DEC_SIZE], uint64_t v)
{
	char *q = buf + KZ_DEC_SIZE - 1;
	*q = '\0';
	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return q;
}

/* The same for a signed value, as "%" PRId64 writes it. */
static inline char *kz_dec_i64(char buf[KZ_DEC_SIZE], int64_t v)
{
	char *q = kz_dec_u64(buf, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--q = '-';
	return q;
}

#endif
