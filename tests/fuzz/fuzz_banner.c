/*
 * Banners from arbitrary bytes, as a device may send them. Properties: the
 * record always dumps to valid JSON whose text is valid UTF-8; extra.banner
 * is exactly the sanitisation of the first KZ_BANNER_MAX bytes; the b64
 * decodes to exactly those bytes; the flag is there iff bytes were cut; and
 * input that is valid UTF-8 and short enough comes back unchanged. Each
 * input is also tried repeated, so that short inputs reach the cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "record.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *in, size_t len)
{
	json_t *rec = json_object();
	if (!rec || kz_record_set_banner(rec, in, len) != 0)
		abort();
	char *text = json_dumps(rec, JSON_COMPACT);
	if (!text)
		abort();
	size_t tl = strlen(text);
	if (kz_utf8_check((const uint8_t *)text, tl) != tl)
		abort();
	json_error_t jerr;
	json_t *back = json_loads(text, JSON_ALLOW_NUL, &jerr);
	if (!back || !json_equal(back, rec))
		abort();

	size_t lim = len < KZ_BANNER_MAX ? len : KZ_BANNER_MAX;
	const json_t *b = json_object_get(back, "extra.banner");
	const json_t *b64 = json_object_get(back, "extra.banner_b64");
	const json_t *cut = json_object_get(back, "extra.banner_truncated");
	if (!json_is_string(b) || !json_is_string(b64))
		abort();
	if ((len > KZ_BANNER_MAX) != json_is_true(cut) || (cut && !json_is_true(cut)))
		abort();

	uint8_t *dec = malloc(json_string_length(b64) / 4 * 3 + 1);
	if (!dec)
		abort();
	long n = kz_base64_decode(json_string_value(b64), json_string_length(b64), dec);
	if (n < 0 || (size_t)n != lim || memcmp(dec, in, lim) != 0)
		abort();
	free(dec);

	char *want = malloc(KZ_UTF8_SANITIZED_SIZE(lim));
	if (!want)
		abort();
	size_t wl = kz_utf8_sanitize(in, len, KZ_BANNER_MAX, want, NULL);
	if (wl != json_string_length(b) || memcmp(want, json_string_value(b), wl) != 0)
		abort();
	if (len <= KZ_BANNER_MAX && kz_utf8_check(in, len) == len &&
	    (wl != len || memcmp(want, in, len) != 0))
		abort();
	free(want);
	json_decref(back);
	free(text);
	json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size);
	if (size == 0)
		return 0;
	size_t times = 1 + (size_t)(data[0] % 16);
	uint8_t *big = malloc(size * times);
	if (!big)
		return 0;
	for (size_t i = 0; i < times; i++)
		memcpy(big + i * size, data, size);
	check(big, size * times);
	free(big);
	return 0;
}
