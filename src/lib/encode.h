/*
 * Byte encodings used by records and sketches: base64 (RFC 4648, with
 * padding, strict on decode) and lowercase hex.
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

#endif
