/*
 * Credential lists and stage-2 targets on arbitrary text: no crash, no read
 * past the input; a list that loads has pairs within the format's caps,
 * indices that grow with the pair, and orders that are permutations of the
 * pairs allowed for each protocol, whatever the banner; a target that parses
 * formats back to text that parses to the same target.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "log.h"
#include "login_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 64

static void check_targets(const char *text)
{
	struct kz_login_target t, u;
	const char *why;
	if (kz_login_target_parse(text, &t, &why) != 0)
		return;
	char buf[80];
	if (kz_login_target_parse(kz_login_target_format(&t, buf, sizeof buf), &u, &why) != 0 ||
	    t.addr.v != u.addr.v || t.port != u.port || t.app != u.app)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	/* The first line doubles as a banner; the rest is the list. */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	const char *lines[MAX_LINES];
	size_t n = 0;
	for (char *p = text; n < MAX_LINES;) {
		lines[n++] = p;
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	check_targets(lines[0]);
	struct kz_creds *c;
	if (kz_creds_load_strings("fuzz", lines + 1, n - 1, &c) == 0) {
		size_t count = kz_creds_count(c);
		if (count == 0 || count > n - 1)
			abort();
		unsigned last = 0;
		for (size_t i = 0; i < count; i++) {
			const struct kz_login_cred *p = &kz_creds_pairs(c)[i];
			if (strlen(p->user) > KZ_CREDS_FIELD_MAX ||
			    strlen(p->pass) > KZ_CREDS_FIELD_MAX)
				abort();
			if (kz_creds_index(c, i) <= last)
				abort();
			last = kz_creds_index(c, i);
		}
		uint32_t *order = calloc(count, sizeof *order);
		bool *seen = calloc(count, sizeof *seen);
		if (order && seen) {
			for (unsigned app = 0; app < 3; app++) {
				size_t k = kz_creds_order(c, (enum kz_login_app)app,
				                          (const uint8_t *)lines[0],
				                          strlen(lines[0]), order);
				if (k != kz_creds_count_for(c, (enum kz_login_app)app))
					abort();
				memset(seen, 0, count * sizeof *seen);
				for (size_t i = 0; i < k; i++) {
					if (order[i] >= count || seen[order[i]] ||
					    !kz_creds_allows(c, order[i], (enum kz_login_app)app))
						abort();
					seen[order[i]] = true;
				}
			}
		}
		free(order);
		free(seen);
		kz_creds_free(c);
	}
	free(text);
	return 0;
}
