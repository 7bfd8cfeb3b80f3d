/*
 * UTF-8 as RFC 3629 defines it, for bytes that come from the network or from
 * other producers: validation, and sanitisation into text that jansson will
 * accept (it refuses invalid UTF-8 rather than writing it, STYLE.md).
 *
 * Well-formed sequences (RFC 3629 section 4, Unicode table 3-7):
 *   00..7F
 *   C2..DF 80..BF
 *   E0 A0..BF 80..BF     E1..EC 80..BF 80..BF
 *   ED 80..9F 80..BF     EE..EF 80..BF 80..BF
 *   F0 90..BF 80..BF 80..BF   F1..F3 80..BF 80..BF 80..BF   F4 80..8F 80..BF 80..BF
 * so overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * code points above U+10FFFF (F4 90.., F5..FF) are ill-formed. NUL and the
 * control characters are well-formed and are kept.
 */
#ifndef KZ_UTF8_H
#define KZ_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one step of decoding found at the front of the input. */
enum kz_utf8_step {
	KZ_UTF8_OK = 0,        /* a well-formed sequence of *n bytes */
	KZ_UTF8_INVALID = 1,   /* an ill-formed maximal subpart of *n bytes (>= 1) */
	KZ_UTF8_TRUNCATED = 2, /* the input ends inside a sequence that was well-formed so
	                          far; *n is the rest of the input */
};

/* Decodes the sequence at the front of p[0..len), len >= 1. For KZ_UTF8_OK,
 * *cp is the code point. An ill-formed sequence is measured as Unicode's
 * "maximal subpart" (the longest prefix that could start a well-formed
 * sequence, or one byte), which is the unit replaced by one U+FFFD. */
enum kz_utf8_step kz_utf8_decode(const uint8_t *p, size_t len, uint32_t *cp, size_t *n);

/* The offset of the first byte that is not part of a well-formed sequence,
 * or len when all of p[0..len) is valid UTF-8. */
size_t kz_utf8_check(const uint8_t *p, size_t len);

/* The output size kz_utf8_sanitize needs for len input bytes, with the NUL:
 * each input byte yields at most 3 output bytes (one U+FFFD). */
#define KZ_UTF8_SANITIZED_SIZE(len) (3 * (size_t)(len) + 1)

/* Writes the text of p[0..len) into out, every ill-formed maximal subpart
 * replaced by U+FFFD (EF BF BD), and NUL-terminates it (the text may itself
 * contain NUL bytes: use the returned length). Only the first cap input bytes
 * are used, and the text ends on a sequence boundary of the whole input: a
 * sequence that would cross byte cap is left out, not replaced. out must hold
 * KZ_UTF8_SANITIZED_SIZE(min(len, cap)) bytes. Returns the text's length;
 * *used (if not NULL) receives how many input bytes the text covers. */
size_t kz_utf8_sanitize(const uint8_t *p, size_t len, size_t cap, char *out, size_t *used);

#endif
