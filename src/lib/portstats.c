/*
 * Per-port interval counters (see portstats.h).
 *
 * The flat arrays come from bigmem (straight from the kernel, on huge pages
 * where it allows): they are 3 MB each and touched at random by the port
 * of every packet, so TLB reach matters as much as cache. A sketch, once
 * made for a key, is kept for the rest of the run and cleared at every
 * interval: a busy port needs one every interval, and re-making it would
 * be an allocation per port per interval for nothing.
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
	ps->queue = calloc(KZ_PORTSTATS_QUEUE, sizeof *ps->queue);
	ps->scratch = calloc(KZ_PORTSTATS_QUEUE, sizeof *ps->scratch);
	ps->nqueue = 0;
	ps->ntouched = 0;
	ps->nmade = 0;
	ps->hll_errors = 0;
	ps->hll_bytes = 0;
	if (!ps->packets || !ps->hll || !ps->touched || !ps->made || !ps->queue || !ps->scratch) {
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
	free(ps->queue);
	free(ps->scratch);
	ps->queue = NULL;
	ps->scratch = NULL;
	ps->made = NULL;
	ps->packets = NULL;
	ps->hll = NULL;
	ps->touched = NULL;
}

static void sketch_add(struct kz_portstats *ps, uint32_t key, uint64_t hll_hash)
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
	/* Out of memory only when a sparse sketch grows: the source is then
	 * missing from this port's count for the interval, and the summary
	 * says how often that happened. */
	if (kz_hll_add_hash(h, hll_hash) != 0)
		ps->hll_errors++;
}

/* LSD radix sort of the queue by its 44-bit order, 11 bits a pass; stable,
 * so equal orders keep their queue order (which does not matter: they go
 * to the same bucket). */
static void queue_sort(struct kz_portstats *ps)
{
	struct kz_portstats_ins *from = ps->queue, *to = ps->scratch;
	uint32_t n = ps->nqueue;
	for (unsigned shift = 0; shift < 44; shift += 11) {
		uint32_t count[2048] = { 0 };
		for (uint32_t i = 0; i < n; i++)
			count[(from[i].order >> shift) & 2047]++;
		uint32_t sum = 0;
		for (unsigned d = 0; d < 2048; d++) {
			uint32_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (uint32_t i = 0; i < n; i++)
			to[count[(from[i].order >> shift) & 2047]++] = from[i];
		struct kz_portstats_ins *x = from;
		from = to;
		to = x;
	}
	/* Four passes: the sorted queue is back in ps->queue. */
}

void kz_portstats_flush(struct kz_portstats *ps)
{
	if (ps->nqueue > 1)
		queue_sort(ps);
	for (uint32_t i = 0; i < ps->nqueue; i++)
		sketch_add(ps, (uint32_t)(ps->queue[i].order >> 25), ps->queue[i].hash);
	ps->nqueue = 0;
}

static int key_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void kz_portstats_sort(struct kz_portstats *ps)
{
	kz_portstats_flush(ps);
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
	/* Inserts not made yet belong to the counts being reset. */
	ps->nqueue = 0;
}
