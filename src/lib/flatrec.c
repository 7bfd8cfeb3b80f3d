/*
 * The flat record reader. A recursive-descent parser for one level of
 * object, written to decline rather than guess: every branch that jansson
 * might treat differently (or reject with a message the user should see)
 * returns -1, and the caller falls back to jansson.
 *
 * Why by hand: jansson builds a tree of allocated nodes and a hash table per
 * object; for the hub's 1,000-record POSTs that was most of the ingest
 * cost (docs/bench-hub.md). This reader does one pass over bytes already in
 * memory and allocates nothing.
 */
#include "flatrec.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

struct cur {
	const char *p, *end;
	char *arena, *arena_end;
};

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

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

/* Appends code point cp as UTF-8 to the arena. */
static int put_utf8(struct cur *c, uint32_t cp)
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
 * quote, a backslash or a control byte (or end). Eight bytes at a time,
 * since a record is mostly string content (banners, ids). */
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

/* The length of the leading ASCII bytes of p, eight at a time. */
static size_t ascii_prefix(const char *p, size_t len)
{
	size_t i = 0;
	for (; len - i >= 8; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w & HIGHS)
			break;
	}
	while (i < len && (unsigned char)p[i] < 0x80)
		i++;
	return i;
}

/* A string at c->p (which is on the opening quote), copied unescaped and
 * NUL-terminated into the arena. Keys refuse escapes. */
static int string(struct cur *c, bool key, const char **out, size_t *outlen)
{
	c->p++;
	char *start = c->arena;
	for (;;) {
		/* Plain bytes up to the next quote, backslash or control byte. */
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
		if (key || c->end - q < 2)
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
		if (c->arena == c->arena_end)
			return -1;
		*c->arena++ = lit;
	}
	c->p++; /* the closing quote */
	if (c->arena == c->arena_end)
		return -1;
	*c->arena++ = '\0';
	*out = start;
	*outlen = (size_t)(c->arena - start - 1);
	return 0;
}

/* A number in strict JSON form. Integers must fit int64 and reals must
 * not overflow: jansson refuses both, so we decline both. */
static int number(struct cur *c, struct kz_rval *v)
{
	const char *s = c->p, *p = s;
	bool real = false;
	if (p < c->end && *p == '-')
		p++;
	if (p == c->end || *p < '0' || *p > '9')
		return -1;
	if (*p == '0') {
		p++;
		if (p < c->end && *p >= '0' && *p <= '9')
			return -1;
	} else {
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < c->end && *p == '.') {
		real = true;
		p++;
		if (p == c->end || *p < '0' || *p > '9')
			return -1;
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < c->end && (*p == 'e' || *p == 'E')) {
		real = true;
		p++;
		if (p < c->end && (*p == '+' || *p == '-'))
			p++;
		if (p == c->end || *p < '0' || *p > '9')
			return -1;
		while (p < c->end && *p >= '0' && *p <= '9')
			p++;
	}
	size_t n = (size_t)(p - s);
	char buf[64];
	if (n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *endp;
	errno = 0;
	if (real) {
		double d = strtod(buf, &endp);
		if (errno || *endp || !isfinite(d))
			return -1;
		v->type = KZ_RVAL_REAL;
		v->d = d;
	} else {
		long long i = strtoll(buf, &endp, 10);
		if (errno || *endp)
			return -1;
		v->type = KZ_RVAL_INT;
		v->i = i;
	}
	c->p = p;
	return 0;
}

static int literal(struct cur *c, const char *word, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

/* A scalar value; arrays are handled by value(). */
static int scalar(struct cur *c, struct kz_rval *v)
{
	memset(v, 0, sizeof *v);
	if (c->p == c->end)
		return -1;
	switch (*c->p) {
	case '"':
		v->type = KZ_RVAL_STRING;
		return string(c, false, &v->s, &v->len);
	case 't':
		v->type = KZ_RVAL_BOOL;
		v->b = true;
		return literal(c, "true", 4);
	case 'f':
		v->type = KZ_RVAL_BOOL;
		return literal(c, "false", 5);
	case 'n':
		v->type = KZ_RVAL_NULL;
		return literal(c, "null", 4);
	default:
		return number(c, v);
	}
}

static int value(struct cur *c, struct kz_rval *v)
{
	if (c->p == c->end)
		return -1;
	if (*c->p != '[')
		return *c->p == '{' ? -1 : scalar(c, v);
	/* An array of scalars; its elements are checked, not kept. */
	char *mark = c->arena;
	c->p++;
	skip_ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
	} else {
		for (;;) {
			struct kz_rval e;
			if (c->p == c->end || *c->p == '[' || *c->p == '{' || scalar(c, &e))
				return -1;
			c->arena = mark; /* element strings are not needed */
			skip_ws(c);
			if (c->p == c->end)
				return -1;
			if (*c->p == ']') {
				c->p++;
				break;
			}
			if (*c->p != ',')
				return -1;
			c->p++;
			skip_ws(c);
		}
	}
	memset(v, 0, sizeof *v);
	v->type = KZ_RVAL_ARRAY;
	return 0;
}

int kz_flat_parse(const char *line, size_t len, struct kz_rfield *fields, char *arena,
                  size_t arena_cap)
{
	struct cur c = { line, line + len, arena, arena + arena_cap };
	int n = 0;
	/* jansson checks the whole input's UTF-8 first; so does the reader
	 * (the ASCII part a word at a time, the rest by the decoder). */
	size_t ascii = ascii_prefix(line, len);
	if (kz_utf8_check((const uint8_t *)line + ascii, len - ascii) != len - ascii)
		return -1;
	skip_ws(&c);
	if (c.p == c.end || *c.p != '{')
		return -1;
	c.p++;
	skip_ws(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
	} else {
		for (;;) {
			if (n == KZ_FLAT_FIELDS_MAX || c.p == c.end || *c.p != '"')
				return -1;
			struct kz_rfield *f = &fields[n];
			if (string(&c, true, &f->key, &f->key_len))
				return -1;
			/* Duplicates: jansson refuses them (and says so). */
			for (int i = 0; i < n; i++)
				if (fields[i].key_len == f->key_len &&
				    memcmp(fields[i].key, f->key, f->key_len) == 0)
					return -1;
			skip_ws(&c);
			if (c.p == c.end || *c.p != ':')
				return -1;
			c.p++;
			skip_ws(&c);
			if (value(&c, &f->v))
				return -1;
			n++;
			skip_ws(&c);
			if (c.p == c.end)
				return -1;
			if (*c.p == '}') {
				c.p++;
				break;
			}
			if (*c.p != ',')
				return -1;
			c.p++;
			skip_ws(&c);
		}
	}
	skip_ws(&c);
	return c.p == c.end ? n : -1;
}
