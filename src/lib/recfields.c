/*
 * The record field scanner (see recfields.h). One forward pass; every read
 * is checked against the end of the line; decoded strings go into the
 * caller's arena, which a decoded string can never outgrow (an escape is
 * always at least as long as what it stands for). Wanted strings are
 * decoded by jsonscan.c, the ingest reader's decoder, so the two readers
 * return the same bytes; skipped ones are only walked past.
 */
#include "recfields.h"

#include <stddef.h>
#include <string.h>

#include "jsonscan.h"

/* Past a string whose opening quote is at p, without decoding it: the
 * next quote not escaped by an odd run of backslashes ends it. memchr does
 * the walking, which matters for long values (banners, their base64). */
static int skip_string(struct kz_jsonscan *c)
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

/* Past a number, true, false or null; *tok and *toklen say what it was. */
static int skip_scalar(struct kz_jsonscan *c, const char **tok, size_t *toklen)
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
static int skip_array(struct kz_jsonscan *c)
{
	const char *tok;
	size_t tl;
	c->p++;
	kz_jsonscan_ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return 0;
	}
	for (;;) {
		kz_jsonscan_ws(c);
		if (c->p >= c->end || *c->p == '[' || *c->p == '{')
			return -1;
		if (*c->p == '"' ? skip_string(c) != 0 : skip_scalar(c, &tok, &tl) != 0)
			return -1;
		kz_jsonscan_ws(c);
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
	struct kz_jsonscan c = { line, line + len, arena, arena + arena_cap };
	size_t wlen[KZ_RECFIELDS_MAX];
	if (nwant > KZ_RECFIELDS_MAX)
		return -1;
	for (size_t i = 0; i < nwant; i++) {
		want[i].type = KZ_RECFIELD_ABSENT;
		wlen[i] = strlen(want[i].key);
	}
	kz_jsonscan_ws(&c);
	if (c.p >= c.end || *c.p != '{')
		return -1;
	c.p++;
	kz_jsonscan_ws(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
		goto tail;
	}
	for (;;) {
		kz_jsonscan_ws(&c);
		if (c.p >= c.end || *c.p != '"')
			return -1;
		const char *key = ++c.p;
		while (c.p < c.end && *c.p != '"' && *c.p != '\\')
			c.p++;
		if (c.p >= c.end || *c.p == '\\')
			return -1; /* an escaped key: let jansson read it */
		size_t klen = (size_t)(c.p - key);
		c.p++;
		kz_jsonscan_ws(&c);
		if (c.p >= c.end || *c.p != ':')
			return -1;
		c.p++;
		kz_jsonscan_ws(&c);
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
				if (kz_jsonscan_string(&c, false, &w->s, &w->len) != 0)
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
		kz_jsonscan_ws(&c);
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
	kz_jsonscan_ws(&c);
	return c.p == c.end ? 0 : -1;
}
