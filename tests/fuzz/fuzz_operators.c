/*
 * Arbitrary bytes as an operators file: no crash, no leak; an error names
 * "file:line" or the file; a table that loads is sorted by AS with no AS
 * twice, every field non-empty, and every AS in it is found by lookup.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "operators.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kz_operators *ops = NULL;
	char err[512] = "";
	int rc = kz_operators_load_mem("fuzz", data, size, &ops, err, sizeof err);
	if (rc) {
		if (strncmp(err, "fuzz", 4) != 0 && rc != -12)
			abort();
		return 0;
	}
	for (size_t i = 0; i < kz_operators_count(ops); i++) {
		const struct kz_operator *o = kz_operators_at(ops, i);
		if (!o->name[0] || !o->abuse_contact[0] || o->asn == 0)
			abort();
		if (i && kz_operators_at(ops, i - 1)->asn >= o->asn)
			abort();
		if (kz_operators_find(ops, o->asn) != o)
			abort();
	}
	kz_operators_free(ops);
	return 0;
}
