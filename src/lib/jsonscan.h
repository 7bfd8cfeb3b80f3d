/*
 * What the two hand-written readers of flat records share (flatrec.c, the
 * ingest reader; recfields.c, the report scanner): a cursor over JSON text
 * with an arena for decoded strings, JSON whitespace, and the decoder of a
 * JSON string (RFC 8259 section 7). Both readers must return, for every
 * string they accept, the bytes jansson returns; one decoder keeps them
 * from drifting apart.
 *
 * The decoder resolves escapes (a \u surrogate pair is joined into one
 * code point, written as UTF-8) and appends a NUL. It refuses (-1) a raw
 * control byte (below 0x20), an escape JSON does not define, a \u not
 * followed by four hex digits, a lone or reversed surrogate, a string with
 * no closing quote, and a full arena. It does not check the UTF-8 of the
 * raw bytes: jansson checks a whole document first, and so does the ingest
 * reader, while the report scanner reads records checked at ingest.
 *
 * Runs of plain bytes are found eight bytes at a time: a record is mostly
 * string content (banners, ids), and this is the hub's ingest hot path.
 */
#ifndef KZ_JSONSCAN_H
#define KZ_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Input still to read, [p, end), and the free part of the caller's arena,
 * [arena, arena_end). Both only move forward. Borrowed, never freed. */
struct kz_jsonscan {
	const char *p, *end;
	char *arena, *arena_end;
};

/* Skips JSON whitespace (space, tab, newline, carriage return). */
static inline void kz_jsonscan_ws(struct kz_jsonscan *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* Decodes the string whose opening quote is at c->p into the arena. On
 * success c->p is past the closing quote, *s is the text (NUL-terminated;
 * it may hold U+0000 from a \u0000) and *len its length without the NUL.
 * With plain, any escape is refused (the ingest reader takes keys only
 * unescaped). Returns 0 or -1 (c is then somewhere inside). */
int kz_jsonscan_string(struct kz_jsonscan *c, bool plain, const char **s, size_t *len)
        __attribute__((warn_unused_result));

#endif
