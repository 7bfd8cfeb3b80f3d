/*
 * The record field scanner (see recfields.h). One forward pass; every read
 * is checked against the end of the line; decoded strings go into the
 * caller's arena, which a decoded string can never outgrow (an escape is
 * always at least as long as what it stands for).
 */
#include "recfields.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sc {
	const char *p, *end;
	char *a, *aend;
};

/* Skips JSON whitespace. */
static void ws(struct sc *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* Past a string whose opening quote is at p, without decoding it: the
 * next quote not escaped by an odd run of backslashes ends it. memchr does
 * the walking, which matters for long values (banners, their base64). */
static int skip_string(struct sc *c)
{
	const char *q = c->p + 1;
	for (;;) {
		q = memchr(q, '"', (size_t)(c->end - q));
		if (!q)
			return -1;
		size_t bs = 0;
		while (q - bs > c->p + 1 && q[-1 - (ptrdiff_t)bs] == '\\')
			bs++;
		if (bs % 2 == 0) {
			c->p = q + 1;
			return 0;
		}
		q++;
	}
}

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

/* Appends to the arena, refusing to pass its end. */
static int put(struct sc *c, const char *b, size_t n)
{
	if ((size_t)(c->aend - c->a) < n)
		return -1;
	memcpy(c->a, b, n);
	c->a += n;
	return 0;
}

/* A code point as UTF-8 (never longer than the escape it came from). */
static int put_cp(struct sc *c, uint32_t cp)
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
	return put(c, b, n);
}

/* Decodes a string whose opening quote is at p into the arena. */
static int decode_string(struct sc *c, const char **out, size_t *outlen)
{
	char *start = c->a;
	c->p++;
	for (;;) {
		const char *run = c->p;
		while (c->p < c->end && *c->p != '"' && *c->p != '\\' &&
		       (unsigned char)*c->p >= 0x20)
			c->p++;
		if (put(c, run, (size_t)(c->p - run)) != 0 || c->p >= c->end)
			return -1;
		char ch = *c->p;
		if (ch == '"') {
			c->p++;
			break;
		}
		if ((unsigned char)ch < 0x20)
			return -1; /* a raw control character: not JSON */
		if (c->end - c->p < 2)
			return -1;
		char e = c->p[1];
		c->p += 2;
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = e ? strchr(from, e) : NULL;
		if (k) {
			if (put(c, &to[k - from], 1) != 0)
				return -1;
			continue;
		}
		uint32_t cp, lo;
		if (e != 'u' || c->end - c->p < 4 || hex4(c->p, &cp) != 0)
			return -1;
		c->p += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return -1; /* a low surrogate first */
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
			    hex4(c->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
				return -1;
			c->p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (put_cp(c, cp) != 0)
			return -1;
	}
	*outlen = (size_t)(c->a - start);
	if (put(c, "", 1) != 0)
		return -1;
	*out = start;
	return 0;
}

/* Past a number, true, false or null; *tok and *toklen say what it was. */
static int skip_scalar(struct sc *c, const char **tok, size_t *toklen)
{
	const char *s = c->p;
	while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ']' && *c->p != ' ' &&
	       *c->p != '\t' && *c->p != '\n' && *c->p != '\r' && *c->p != '"' && *c->p != '[' &&
	       *c->p != '{')
		c->p++;
	*tok = s;
	*toklen = (size_t)(c->p - s);
	return c->p > s ? 0 : -1;
}

/* Past an array of scalars and strings (nothing nested: records are flat). */
static int skip_array(struct sc *c)
{
	const char *tok;
	size_t tl;
	c->p++;
	ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return 0;
	}
	for (;;) {
		ws(c);
		if (c->p >= c->end || *c->p == '[' || *c->p == '{')
			return -1;
		if (*c->p == '"' ? skip_string(c) != 0 : skip_scalar(c, &tok, &tl) != 0)
			return -1;
		ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == ']') {
			c->p++;
			return 0;
		}
		if (*c->p != ',')
			return -1;
		c->p++;
	}
}

int kz_recfields_scan(const char *line, size_t len, struct kz_recfield *want, size_t nwant,
                      char *arena, size_t arena_cap)
{
	struct sc c = { line, line + len, arena, arena + arena_cap };
	size_t wlen[KZ_RECFIELDS_MAX];
	if (nwant > KZ_RECFIELDS_MAX)
		return -1;
	for (size_t i = 0; i < nwant; i++) {
		want[i].type = KZ_RECFIELD_ABSENT;
		wlen[i] = strlen(want[i].key);
	}
	ws(&c);
	if (c.p >= c.end || *c.p != '{')
		return -1;
	c.p++;
	ws(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
		goto tail;
	}
	for (;;) {
		ws(&c);
		if (c.p >= c.end || *c.p != '"')
			return -1;
		const char *key = ++c.p;
		while (c.p < c.end && *c.p != '"' && *c.p != '\\')
			c.p++;
		if (c.p >= c.end || *c.p == '\\')
			return -1; /* an escaped key: let jansson read it */
		size_t klen = (size_t)(c.p - key);
		c.p++;
		ws(&c);
		if (c.p >= c.end || *c.p != ':')
			return -1;
		c.p++;
		ws(&c);
		if (c.p >= c.end)
			return -1;
		struct kz_recfield *w = NULL;
		for (size_t i = 0; i < nwant && !w; i++)
			if (wlen[i] == klen && memcmp(want[i].key, key, klen) == 0)
				w = &want[i];
		char ch = *c.p;
		if (ch == '{') {
			return -1;
		} else if (ch == '"') {
			if (w) {
				if (decode_string(&c, &w->s, &w->len) != 0)
					return -1;
				w->type = KZ_RECFIELD_STRING;
			} else if (skip_string(&c) != 0) {
				return -1;
			}
		} else if (ch == '[') {
			if (skip_array(&c) != 0)
				return -1;
			if (w)
				w->type = KZ_RECFIELD_ABSENT;
		} else {
			const char *tok;
			size_t tl;
			if (skip_scalar(&c, &tok, &tl) != 0)
				return -1;
			if (w) {
				bool t = tl == 4 && memcmp(tok, "true", 4) == 0;
				bool f = tl == 5 && memcmp(tok, "false", 5) == 0;
				w->type = t || f ? KZ_RECFIELD_BOOL : KZ_RECFIELD_ABSENT;
				w->b = t;
			}
		}
		ws(&c);
		if (c.p >= c.end)
			return -1;
		if (*c.p == '}') {
			c.p++;
			break;
		}
		if (*c.p != ',')
			return -1;
		c.p++;
	}
tail:
	ws(&c);
	return c.p == c.end ? 0 : -1;
}
