/*
 * The flat record reader against jansson, on arbitrary bytes as one line:
 * whatever kz_flat_parse accepts, the reader's jansson path
 * (kz_jsonl_parse) must accept too, with the same keys in the same order
 * and the same values, and the record validator must give the same verdict
 * and the same reason for both. (Declining is always allowed: the hub then
 * uses jansson.)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatrec.h"
#include "jsonl.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kz_rfield flat[KZ_FLAT_FIELDS_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *arena = malloc(KZ_FLAT_ARENA_SIZE(size));
	if (!arena)
		return 0;
	int n = kz_flat_parse((const char *)data, size, flat, arena, KZ_FLAT_ARENA_SIZE(size));
	if (n < 0) {
		free(arena);
		return 0;
	}
	json_t *obj = NULL;
	struct kz_jsonl_error err;
	if (kz_jsonl_parse((const char *)data, size, &obj, &err) != 1)
		abort(); /* accepted what jansson refuses */
	if ((int)json_object_size(obj) != n)
		abort();
	const char *key;
	size_t key_len;
	json_t *v;
	int i = 0;
	json_object_keylen_foreach(obj, key, key_len, v)
	{
		struct kz_rval j;
		kz_record_rval(v, &j);
		const struct kz_rfield *f = &flat[i++];
		if (f->key_len != key_len || memcmp(f->key, key, key_len) != 0 ||
		    f->key[key_len] != '\0')
			abort();
		if (f->v.type != j.type)
			abort();
		switch (j.type) {
		case KZ_RVAL_STRING:
			if (f->v.len != j.len || memcmp(f->v.s, j.s, j.len) != 0 || f->v.s[j.len])
				abort();
			break;
		case KZ_RVAL_INT:
			if (f->v.i != j.i)
				abort();
			break;
		case KZ_RVAL_REAL:
			if (!(f->v.d == j.d) && !(isnan(f->v.d) && isnan(j.d)))
				abort();
			break;
		case KZ_RVAL_BOOL:
			if (f->v.b != j.b)
				abort();
			break;
		case KZ_RVAL_ARRAY:
			if (j.nested)
				abort(); /* the flat reader declines nested arrays */
			break;
		default:
			break;
		}
	}
	char w1[KZ_RECORD_WHY_MAX] = "", w2[KZ_RECORD_WHY_MAX] = "";
	int r1 = kz_record_validate_fields(flat, (size_t)n, w1, sizeof w1);
	int r2 = kz_record_validate(obj, w2, sizeof w2);
	if (r1 != r2 || (r1 && strcmp(w1, w2) != 0))
		abort();
	json_decref(obj);
	free(arena);
	return 0;
}
