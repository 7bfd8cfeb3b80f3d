/*
 * The record field scanner against jansson, on arbitrary bytes as one
 * stored record: whenever jansson reads the bytes as a JSON object and the
 * scanner does not decline, every wanted key must have the value jansson
 * has for it (a string, byte for byte with its length; a boolean; or
 * absent for anything else), the last one where a key repeats. On bytes
 * jansson refuses, the scanner may say anything but must stay in bounds
 * (the sanitizers watch that). So on bytes with a raw NUL, which are never
 * JSON (RFC 8259 allows none outside strings, nor unescaped in them), but
 * which jansson 2.14 reads past after a literal (`{"":false<NUL>}` loads
 * as {"": false}); the hub refuses them at ingest (kz_jsonl_parse and the
 * flat reader), so no stored record holds one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "recfields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
	"a", "b", "extra.banner", "extra.password", "extra.banner_truncated", ""
};
#define NKEYS (sizeof keys / sizeof keys[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kz_recfield want[NKEYS];
	char *arena = malloc(KZ_RECFIELDS_ARENA_SIZE(size));
	if (!arena)
		return 0;
	for (size_t i = 0; i < NKEYS; i++)
		want[i].key = keys[i];
	int rc = kz_recfields_scan((const char *)data, size, want, NKEYS, arena,
	                           KZ_RECFIELDS_ARENA_SIZE(size));
	json_error_t je;
	json_t *obj = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &je);
	if (rc == 0 && json_is_object(obj) && !memchr(data, 0, size)) {
		for (size_t i = 0; i < NKEYS; i++) {
			json_t *v = json_object_get(obj, keys[i]);
			if (json_is_string(v)) {
				if (want[i].type != KZ_RECFIELD_STRING ||
				    want[i].len != json_string_length(v) ||
				    memcmp(want[i].s, json_string_value(v), want[i].len) != 0 ||
				    want[i].s[want[i].len] != '\0')
					abort();
			} else if (json_is_boolean(v)) {
				if (want[i].type != KZ_RECFIELD_BOOL ||
				    want[i].b != json_is_true(v))
					abort();
			} else if (want[i].type != KZ_RECFIELD_ABSENT) {
				abort();
			}
		}
	}
	json_decref(obj);
	free(arena);
	return 0;
}
