/*
 * HyperLogLog sketches from untrusted base64 (the hub's stats API): any bytes
 * as the text. No crash, no read past the input; whatever is accepted
 * re-serialises to text that parses to the same sketch and the same count,
 * and merging it into an empty sketch changes neither.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kz_hll *h = NULL, *again = NULL, *merged = NULL;
	char *text = NULL, *text2 = NULL, *text3 = NULL;
	size_t len, len2, len3;
	const char *why = NULL;
	int rc = kz_hll_from_base64((const char *)data, size, &h, &why);
	if (rc != 0) {
		/* Every refusal says why. */
		if (!why || !*why)
			abort();
		return 0;
	}
	if (kz_hll_to_base64(h, &text, &len) != 0)
		goto out;
	if (kz_hll_from_base64(text, len, &again, &why) != 0)
		abort();
	if (kz_hll_to_base64(again, &text2, &len2) != 0)
		goto out;
	if (len != len2 || memcmp(text, text2, len) != 0)
		abort();
	if (kz_hll_count(h) != kz_hll_count(again))
		abort();
	if (kz_hll_new(kz_hll_precision(h), &merged) != 0 || kz_hll_merge(merged, h) != 0 ||
	    kz_hll_to_base64(merged, &text3, &len3) != 0)
		goto out;
	if (len3 != len || memcmp(text3, text, len) != 0)
		abort();
out:
	free(text);
	free(text2);
	free(text3);
	kz_hll_free(h);
	kz_hll_free(again);
	kz_hll_free(merged);
	return 0;
}
