/*
 * Arbitrary bytes as a scope file: no crash, no leak, no read past the input,
 * and whatever loads keeps the promises the survey relies on: the list read
 * is canonical and counted right, the targets lie inside it, and no target
 * is in the deny set unless it is a test range re-enabled by --allow-reserved
 * (taken from the input's length, so both settings are fuzzed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipset.h"
#include "lines.h"
#include "reserved.h"
#include "scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_canonical(const struct kz_ipset *s)
{
	kz_u128 total = 0;
	size_t n = kz_ipset_range_count(s);
	for (size_t i = 0; i < n; i++) {
		struct kz_addr_range r = kz_ipset_range(s, i);
		if (r.first.v > r.last.v || !kz_ipset_contains(s, r.first) ||
		    !kz_ipset_contains(s, r.last))
			abort();
		if (i + 1 < n && r.last.v + 1 >= kz_ipset_range(s, i + 1).first.v)
			abort();
		struct kz_addr a;
		if (kz_ipset_nth(s, total, &a) != 0 || a.v != r.first.v)
			abort();
		if (r.first.v > 0 && kz_ipset_contains(s, (struct kz_addr){ r.first.v - 1 }))
			abort();
		kz_u128 len = r.last.v - r.first.v;
		kz_u128 add = len == KZ_U128_MAX ? KZ_U128_MAX : len + 1;
		total = total > KZ_U128_MAX - add ? KZ_U128_MAX : total + add;
	}
	if (kz_ipset_size(s) != total)
		abort();
}

static struct kz_lines *reader(FILE *f)
{
	struct kz_lines *lr;
	rewind(f);
	if (kz_lines_from_stream(f, "scope.txt", &lr) != 0)
		abort();
	return lr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > (1u << 20))
		return 0;
	char *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	FILE *f = fmemopen(copy, size, "r");
	if (!f) {
		free(copy);
		return 0;
	}
	struct kz_lines *lr = reader(f);
	struct kz_ipset *list = NULL;
	if (kz_scope_read_list(lr, &list) == 0)
		check_canonical(list);
	kz_lines_close(lr);

	struct kz_scope *sc = NULL;
	bool allow = size & 1;
	lr = reader(f);
	if (kz_scope_load_lines(lr, NULL, NULL, allow, &sc) == 0) {
		const struct kz_ipset *t = kz_scope_targets(sc);
		struct kz_ipset *deny, *test, *fixed, *bad, *outside;
		if (!list || kz_reserved_deny_set(&deny) || kz_reserved_test_set(&test))
			abort();
		check_canonical(t);
		if (kz_ipset_difference(deny, test, &fixed) ||
		    kz_ipset_intersection(t, allow ? fixed : deny, &bad) ||
		    kz_ipset_difference(t, list, &outside))
			abort();
		if (!kz_ipset_empty(bad) || !kz_ipset_empty(outside) || kz_ipset_empty(t))
			abort();
		size_t n = kz_ipset_range_count(t);
		for (size_t i = 0; i < n; i++) {
			struct kz_addr_range r = kz_ipset_range(t, i);
			if (!kz_scope_allows(sc, r.first) || !kz_scope_allows(sc, r.last))
				abort();
		}
		kz_ipset_free(deny);
		kz_ipset_free(test);
		kz_ipset_free(fixed);
		kz_ipset_free(bad);
		kz_ipset_free(outside);
		kz_scope_free(sc);
	}
	kz_lines_close(lr);
	kz_ipset_free(list);
	fclose(f);
	free(copy);
	return 0;
}
