/*
 * Per-port interval counters (see portstats.h).
 */
#include "portstats.h"

#include <errno.h>
#include <stdlib.h>

#include "bigmem.h"

int kz_portstats_init(struct kz_portstats *ps)
{
	ps->packets = kz_bigmem_alloc(KZ_PORTKEYS * sizeof *ps->packets);
	ps->hll = kz_bigmem_alloc(KZ_PORTKEYS * sizeof *ps->hll);
	ps->touched = calloc(KZ_PORTKEYS, sizeof *ps->touched);
	ps->made = calloc(KZ_PORTKEYS, sizeof *ps->made);
	ps->ntouched = 0;
	ps->nmade = 0;
	ps->hll_errors = 0;
	ps->hll_bytes = 0;
	if (!ps->packets || !ps->hll || !ps->touched || !ps->made) {
		kz_portstats_destroy(ps);
		return -ENOMEM;
	}
	return 0;
}

void kz_portstats_destroy(struct kz_portstats *ps)
{
	if (ps->hll && ps->made) {
		for (uint32_t i = 0; i < ps->nmade; i++)
			kz_hll_free(ps->hll[ps->made[i]]);
	}
	kz_bigmem_free(ps->packets, KZ_PORTKEYS * sizeof *ps->packets);
	kz_bigmem_free(ps->hll, KZ_PORTKEYS * sizeof *ps->hll);
	free(ps->touched);
	free(ps->made);
	ps->made = NULL;
	ps->packets = NULL;
	ps->hll = NULL;
	ps->touched = NULL;
}

void kz_portstats_source(struct kz_portstats *ps, uint32_t key, uint64_t hll_hash)
{
	struct kz_hll *h = ps->hll[key];
	if (!h) {
		if (kz_hll_new(KZ_HLL_P_DEFAULT, &h) != 0) {
			ps->hll_errors++;
			return;
		}
		ps->hll[key] = h;
		ps->made[ps->nmade++] = key;
	}
	if (kz_hll_add_hash(h, hll_hash) != 0)
		ps->hll_errors++;
}

static int key_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void kz_portstats_sort(struct kz_portstats *ps)
{
	qsort(ps->touched, ps->ntouched, sizeof *ps->touched, key_cmp);
}

uint64_t kz_portstats_sources(const struct kz_portstats *ps, uint32_t key)
{
	return ps->hll[key] ? kz_hll_count(ps->hll[key]) : 0;
}

void kz_portstats_reset(struct kz_portstats *ps)
{
	size_t bytes = 0;
	for (uint32_t i = 0; i < ps->ntouched; i++) {
		uint32_t k = ps->touched[i];
		ps->packets[k] = 0;
		if (ps->hll[k]) {
			kz_hll_clear(ps->hll[k]);
			bytes += kz_hll_memory(ps->hll[k]);
		}
	}
	ps->hll_bytes = bytes;
	ps->ntouched = 0;
}
