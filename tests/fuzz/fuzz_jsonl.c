/*
 * The JSON Lines reader and the record validator on arbitrary bytes, as the
 * hub meets them in POST bodies. Properties: no crash, no read outside the
 * input; the memory and the stream framing agree line for line; every
 * reason is clean UTF-8 text; a record the validator accepts gets its ids,
 * stays valid, and writes back to one line that reads back equal.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "record.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reason(const struct kz_jsonl_error *err)
{
	size_t n = strlen(err->reason);
	if (n == 0 || n >= KZ_JSONL_REASON_MAX ||
	    kz_utf8_check((const uint8_t *)err->reason, n) != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)err->reason[i] < 0x20 || err->reason[i] == 0x7f)
			abort();
}

/* What one accepted record must satisfy. */
static void check_record(json_t *rec)
{
	char why[KZ_RECORD_WHY_MAX];
	if (kz_record_validate(rec, why, sizeof why) != 0) {
		size_t n = strlen(why);
		if (n == 0 || kz_utf8_check((const uint8_t *)why, n) != n)
			abort();
		return;
	}
	(void)kz_record_tlp(rec);
	if (kz_record_ensure_ids(rec, why, sizeof why) != 0)
		abort();
	if (kz_record_validate(rec, why, sizeof why) != 0)
		abort();
	char *line;
	size_t len;
	int rc = kz_jsonl_format(rec, &line, &len);
	if (rc == -EMSGSIZE)
		return;
	if (rc != 0 || len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		abort();
	json_error_t jerr;
	json_t *back = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	if (!back || !json_equal(back, rec))
		abort();
	json_decref(back);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A small cap half the time, so that the over-long path is reached. */
	size_t max_line = size > 0 && (data[0] & 1) ? 64 : 0;
	struct kz_jsonl_reader *mem = NULL, *str = NULL;
	FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
	if (kz_jsonl_reader_memory(data, size, max_line, &mem) != 0)
		abort();
	if (f && kz_jsonl_reader_stream(f, max_line, &str) != 0)
		abort();
	for (;;) {
		json_t *a = NULL, *b = NULL;
		struct kz_jsonl_error ea, eb;
		int ra = kz_jsonl_next(mem, &a, &ea);
		int rb = str ? kz_jsonl_next(str, &b, &eb) : 0;
		if (ra != rb)
			abort();
		if (ra < 0) {
			if (ea.line != eb.line || strcmp(ea.reason, eb.reason) != 0)
				abort();
			check_reason(&ea);
			continue;
		}
		if (ra == 0)
			break;
		if (!json_equal(a, b) || kz_jsonl_reader_line(mem) != kz_jsonl_reader_line(str))
			abort();
		check_record(a);
		json_decref(a);
		json_decref(b);
	}
	kz_jsonl_reader_free(mem);
	kz_jsonl_reader_free(str);
	if (f)
		fclose(f);
	return 0;
}
