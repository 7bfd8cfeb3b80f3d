/*
 * The flat record reader. A recursive-descent parser for one level of
 * object, written to decline rather than guess: every branch that jansson
 * might treat differently (or reject with a message the user should see)
 * returns -1, and the caller falls back to jansson.
 *
 * Why by hand: jansson builds a tree of allocated nodes and a hash table per
 * object; for the hub's 1,000-record POSTs that was most of the ingest
 * cost (docs/bench-hub.md). This reader does one pass over bytes already in
 * memory and allocates nothing. Strings are decoded by jsonscan.c, which
 * the report scanner (recfields.c) shares.
 */
#include "flatrec.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"
#include "utf8.h"

/* Word-at-a-time: a byte with its high bit set. */
#define HIGHS 0x8080808080808080u

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

/* A number in strict JSON form. Integers must fit int64 and reals must
 * not overflow: jansson refuses both, so we decline both. */
static int number(struct kz_jsonscan *c, struct kz_rval *v)
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

static int literal(struct kz_jsonscan *c, const char *word, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

/* A scalar value; arrays are handled by value(). */
static int scalar(struct kz_jsonscan *c, struct kz_rval *v)
{
	memset(v, 0, sizeof *v);
	if (c->p == c->end)
		return -1;
	switch (*c->p) {
	case '"':
		v->type = KZ_RVAL_STRING;
		return kz_jsonscan_string(c, false, &v->s, &v->len);
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

static int value(struct kz_jsonscan *c, struct kz_rval *v)
{
	if (c->p == c->end)
		return -1;
	if (*c->p != '[')
		return *c->p == '{' ? -1 : scalar(c, v);
	/* An array of scalars; its elements are checked, not kept. */
	char *mark = c->arena;
	c->p++;
	kz_jsonscan_ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
	} else {
		for (;;) {
			struct kz_rval e;
			if (c->p == c->end || *c->p == '[' || *c->p == '{' || scalar(c, &e))
				return -1;
			c->arena = mark; /* element strings are not needed */
			kz_jsonscan_ws(c);
			if (c->p == c->end)
				return -1;
			if (*c->p == ']') {
				c->p++;
				break;
			}
			if (*c->p != ',')
				return -1;
			c->p++;
			kz_jsonscan_ws(c);
		}
	}
	memset(v, 0, sizeof *v);
	v->type = KZ_RVAL_ARRAY;
	return 0;
}

int kz_flat_parse(const char *line, size_t len, struct kz_rfield *fields, char *arena,
                  size_t arena_cap)
{
	struct kz_jsonscan c = { line, line + len, arena, arena + arena_cap };
	int n = 0;
	/* jansson checks the whole input's UTF-8 first; so does the reader
	 * (the ASCII part a word at a time, the rest by the decoder). */
	size_t ascii = ascii_prefix(line, len);
	if (kz_utf8_check((const uint8_t *)line + ascii, len - ascii) != len - ascii)
		return -1;
	kz_jsonscan_ws(&c);
	if (c.p == c.end || *c.p != '{')
		return -1;
	c.p++;
	kz_jsonscan_ws(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
	} else {
		for (;;) {
			if (n == KZ_FLAT_FIELDS_MAX || c.p == c.end || *c.p != '"')
				return -1;
			struct kz_rfield *f = &fields[n];
			if (kz_jsonscan_string(&c, true, &f->key, &f->key_len))
				return -1;
			/* Duplicates: jansson refuses them (and says so). */
			for (int i = 0; i < n; i++)
				if (fields[i].key_len == f->key_len &&
				    memcmp(fields[i].key, f->key, f->key_len) == 0)
					return -1;
			kz_jsonscan_ws(&c);
			if (c.p == c.end || *c.p != ':')
				return -1;
			c.p++;
			kz_jsonscan_ws(&c);
			if (value(&c, &f->v))
				return -1;
			n++;
			kz_jsonscan_ws(&c);
			if (c.p == c.end)
				return -1;
			if (*c.p == '}') {
				c.p++;
				break;
			}
			if (*c.p != ',')
				return -1;
			c.p++;
			kz_jsonscan_ws(&c);
		}
	}
	kz_jsonscan_ws(&c);
	return c.p == c.end ? n : -1;
}
