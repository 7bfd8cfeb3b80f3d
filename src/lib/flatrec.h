/*
 * A fast reader for the one shape of JSON the hub ingests most: a flat
 * object (one record of docs/records.md) whose values are strings, numbers,
 * true, false, null or arrays of those. It turns a line into the field list
 * the record validator takes (record.h, kz_record_validate_fields) without
 * building a jansson tree: no allocation, one pass, keys and strings copied
 * (unescaped, NUL-terminated) into an arena the caller provides.
 *
 * It is sound, not complete: whatever it accepts, jansson (with the reader's
 * flags: JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL) accepts too, with the same
 * keys, values and order. Anything else it declines (returns -1): invalid
 * JSON, invalid UTF-8, duplicate keys, nested objects, escaped keys, numbers
 * jansson would refuse or round, too many fields. The hub then parses the
 * line with jansson, which gives the exact error. tests/fuzz/fuzz_flatrec.c
 * holds the two to that.
 */
#ifndef KZ_FLATREC_H
#define KZ_FLATREC_H

#include <stddef.h>

#include "record.h"

#define KZ_FLAT_FIELDS_MAX 96

/* The arena a line of len bytes needs at most. */
#define KZ_FLAT_ARENA_SIZE(len) ((len) + 2 * KZ_FLAT_FIELDS_MAX + 16)

/* Parses line[0..len) (a framed JSON Lines line) into fields[] (at most
 * KZ_FLAT_FIELDS_MAX), copying keys and strings into arena (at least
 * KZ_FLAT_ARENA_SIZE(len) bytes). Returns the number of fields, or -1 to
 * decline. */
int kz_flat_parse(const char *line, size_t len, struct kz_rfield *fields, char *arena,
                  size_t arena_cap);

#endif
