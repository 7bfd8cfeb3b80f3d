/*
 * A few fields out of a stored record, fast: reports read the banner,
 * device and credentials of a million records, and decoding every value of
 * every record (as the ingest reader must, to validate it) was a quarter of
 * the time of every operator's report. This scanner walks one flat JSON
 * object (a record of docs/records.md), decodes only the values of the
 * wanted keys, and skips the others: it finds where a value ends, nothing
 * more.
 *
 * Records in the store were validated at ingest (jansson or the flat
 * reader), so the scanner does not validate what it skips; it only has to
 * be safe on any bytes and agree with jansson on the values it returns for
 * any line jansson reads as a flat object (tests/fuzz/fuzz_recfields.c
 * holds it to that). Anything it is not sure of (a nested object, an escape
 * in a key, a bad escape in a wanted value) it declines, and the caller
 * parses the record with jansson.
 */
#ifndef KZ_RECFIELDS_H
#define KZ_RECFIELDS_H

#include <stdbool.h>
#include <stddef.h>

enum kz_recfield_type {
	KZ_RECFIELD_ABSENT = 0, /* not in the record, or not a string or boolean */
	KZ_RECFIELD_STRING,
	KZ_RECFIELD_BOOL,
};

/* One wanted key (set by the caller) and what was found (set by the scan).
 * A key present twice takes its last value, as jansson does. */
struct kz_recfield {
	const char *key; /* NUL-terminated, no escapes */
	enum kz_recfield_type type;
	const char *s; /* STRING: decoded, NUL-terminated, in the arena; may hold U+0000 */
	size_t len;
	bool b; /* BOOL */
};

#define KZ_RECFIELDS_MAX 32 /* wanted keys per scan */

/* The arena a line of len bytes needs at most (decoded strings never grow). */
#define KZ_RECFIELDS_ARENA_SIZE(len) ((len) + 16)

/* Scans line[0..len) for the wanted fields. Returns 0 (want[] filled), or
 * -1 to decline (want[] is then unspecified; also for more than
 * KZ_RECFIELDS_MAX keys). arena holds at least
 * KZ_RECFIELDS_ARENA_SIZE(len) bytes. */
int kz_recfields_scan(const char *line, size_t len, struct kz_recfield *want, size_t nwant,
                      char *arena, size_t arena_cap);

#endif
