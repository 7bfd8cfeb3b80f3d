/*
 * A hand-written UTF-8 decoder. Every byte range is the one of RFC 3629's
 * table (utf8.h), checked byte by byte, so that no overlong form, surrogate
 * or code point above U+10FFFF gets through; the lead byte decides the length
 * and the range allowed for the second byte, later bytes are always 80..BF.
 * Ill-formed input is measured in maximal subparts, the unit Unicode (and the
 * WHATWG decoder every browser uses) replaces by one U+FFFD, so our banners
 * read the same as they would in any browser.
 */
#include "utf8.h"

#include <string.h>

enum kz_utf8_step kz_utf8_decode(const uint8_t *p, size_t len, uint32_t *cp, size_t *n)
{
	uint8_t b0 = p[0];
	if (b0 < 0x80) {
		*cp = b0;
		*n = 1;
		return KZ_UTF8_OK;
	}
	size_t need;
	uint8_t lo = 0x80, hi = 0xbf;
	uint32_t v;
	if (b0 >= 0xc2 && b0 <= 0xdf) {
		need = 2;
		v = b0 & 0x1fu;
	} else if (b0 >= 0xe0 && b0 <= 0xef) {
		need = 3;
		v = b0 & 0x0fu;
		if (b0 == 0xe0)
			lo = 0xa0; /* below is overlong */
		else if (b0 == 0xed)
			hi = 0x9f; /* above are the surrogates D800..DFFF */
	} else if (b0 >= 0xf0 && b0 <= 0xf4) {
		need = 4;
		v = b0 & 0x07u;
		if (b0 == 0xf0)
			lo = 0x90; /* below is overlong */
		else if (b0 == 0xf4)
			hi = 0x8f; /* above is past U+10FFFF */
	} else {
		/* 80..BF continuation without a lead, C0/C1 always overlong, F5..FF. */
		*n = 1;
		return KZ_UTF8_INVALID;
	}
	for (size_t i = 1; i < need; i++) {
		if (i >= len) {
			*n = len;
			return KZ_UTF8_TRUNCATED;
		}
		uint8_t b = p[i];
		if (b < lo || b > hi) {
			*n = i;
			return KZ_UTF8_INVALID;
		}
		lo = 0x80;
		hi = 0xbf;
		v = v << 6 | (b & 0x3fu);
	}
	*cp = v;
	*n = need;
	return KZ_UTF8_OK;
}

size_t kz_utf8_check(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		uint32_t cp;
		size_t n;
		if (kz_utf8_decode(p + i, len - i, &cp, &n) != KZ_UTF8_OK)
			return i;
		i += n;
	}
	return len;
}

size_t kz_utf8_sanitize(const uint8_t *p, size_t len, size_t cap, char *out, size_t *used)
{
	size_t lim = len < cap ? len : cap, i = 0, o = 0;
	while (i < lim) {
		uint32_t cp;
		size_t n;
		/* Decoded against the whole input, so that the cap can tell a
		 * sequence it cuts through from one that is broken anyway. */
		enum kz_utf8_step st = kz_utf8_decode(p + i, len - i, &cp, &n);
		if (i + n > lim)
			break;
		if (st == KZ_UTF8_OK) {
			memcpy(out + o, p + i, n);
			o += n;
		} else {
			out[o++] = (char)0xef;
			out[o++] = (char)0xbf;
			out[o++] = (char)0xbd;
		}
		i += n;
	}
	out[o] = '\0';
	if (used)
		*used = i;
	return o;
}
