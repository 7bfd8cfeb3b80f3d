/*
 * The JSON string decoder (see jsonscan.h). Every read is checked against
 * c->end and every write against c->arena_end; a decoded string is never
 * longer than its JSON form, so an arena as long as the input plus one
 * byte per string always suffices.
 */
#include "jsonscan.h"

#include <stdint.h>
#include <string.h>

/* Four hex digits of a \u escape; the caller checked there are four. */
static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (uint32_t)(ch - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Appends code point cp as UTF-8 to the arena (never longer than the
 * escape it came from). */
static int put_utf8(struct kz_jsonscan *c, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if ((size_t)(c->arena_end - c->arena) < n)
		return -1;
	memcpy(c->arena, b, n);
	c->arena += n;
	return 0;
}

/* Nonzero when some byte of w is zero / below n (n <= 128): the classic
 * word-at-a-time tests, exact as booleans. */
#define ONES          0x0101010101010101u
#define HIGHS         0x8080808080808080u
#define HASZERO(w)    (((w)-ONES) & ~(w)&HIGHS)
#define HASLESS(w, n) (((w)-ONES * (n)) & ~(w)&HIGHS)

/* The first byte at or after p that ends a run of plain string bytes: a
 * quote, a backslash or a control byte (or end). Eight bytes at a time. */
static const char *plain_end(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t hit =
		        HASZERO(w ^ (ONES * '"')) | HASZERO(w ^ (ONES * '\\')) | HASLESS(w, 0x20);
		/* The lowest flag is exact (a borrow only spreads upwards), and
		 * the bytes are in memory order on a little-endian machine. */
		if (hit && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
			return p + (__builtin_ctzll(hit) >> 3);
		if (hit)
			break;
		p += 8;
	}
	while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
		p++;
	return p;
}

int kz_jsonscan_string(struct kz_jsonscan *c, bool plain, const char **s, size_t *len)
{
	c->p++;
	char *start = c->arena;
	for (;;) {
		/* Plain bytes up to the next quote, backslash or control byte;
		 * whatever comes next needs one more byte of arena. */
		const char *q = plain_end(c->p, c->end);
		size_t n = (size_t)(q - c->p);
		if ((size_t)(c->arena_end - c->arena) < n + 1)
			return -1;
		memcpy(c->arena, c->p, n);
		c->arena += n;
		c->p = q;
		if (q == c->end || (unsigned char)*q < 0x20)
			return -1; /* unterminated, or a raw control byte */
		if (*q == '"')
			break;
		if (plain || c->end - q < 2)
			return -1;
		char e = q[1];
		c->p = q + 2;
		char lit = 0;
		switch (e) {
		case '"':
			lit = '"';
			break;
		case '\\':
			lit = '\\';
			break;
		case '/':
			lit = '/';
			break;
		case 'b':
			lit = '\b';
			break;
		case 'f':
			lit = '\f';
			break;
		case 'n':
			lit = '\n';
			break;
		case 'r':
			lit = '\r';
			break;
		case 't':
			lit = '\t';
			break;
		case 'u': {
			uint32_t cp, lo;
			if (c->end - c->p < 4 || hex4(c->p, &cp))
				return -1;
			c->p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1; /* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
				    hex4(c->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				c->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (put_utf8(c, cp))
				return -1;
			continue;
		}
		default:
			return -1;
		}
		/* Room was checked before the run was copied. */
		*c->arena++ = lit;
	}
	c->p++;             /* the closing quote */
	*c->arena++ = '\0'; /* room was checked before the run was copied */
	*s = start;
	*len = (size_t)(c->arena - start - 1);
	return 0;
}
