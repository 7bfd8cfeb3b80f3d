/*
 * Two-generation fingerprint set (hitset.h). Each generation is a power-of-
 * two table at most half full, probed linearly; 0 marks an empty slot, so
 * a fingerprint of 0 is stored as 1.
 */
#include "hitset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct kz_hitset {
	struct kz_siphash_key key;
	uint64_t window; /* entries per generation before the swap */
	size_t mask;     /* slots - 1 */
	uint64_t count;  /* entries in cur */
	uint64_t *cur, *old;
};

int kz_hitset_new(uint64_t window, const uint8_t key[KZ_SIPHASH_KEYLEN], struct kz_hitset **out)
{
	if (window == 0 || window > KZ_HITSET_MAX_WINDOW)
		return -EINVAL;
	struct kz_hitset *h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	size_t slots = 16;
	while (slots < 2 * window)
		slots <<= 1;
	h->cur = calloc(slots, sizeof *h->cur);
	h->old = calloc(slots, sizeof *h->old);
	if (!h->cur || !h->old) {
		free(h->cur);
		free(h->old);
		free(h);
		return -ENOMEM;
	}
	kz_siphash_key_load(&h->key, key);
	h->window = window;
	h->mask = slots - 1;
	*out = h;
	return 0;
}

/* The slot holding fp in table t, or the empty slot where it would go. */
static size_t find(const struct kz_hitset *h, const uint64_t *t, uint64_t fp)
{
	size_t i = (size_t)(fp >> 7) & h->mask;
	while (t[i] && t[i] != fp)
		i = (i + 1) & h->mask;
	return i;
}

bool kz_hitset_add(struct kz_hitset *h, struct kz_addr a, uint32_t key)
{
	uint64_t w[3] = { (uint64_t)(a.v >> 64), (uint64_t)a.v, key };
	uint64_t fp = kz_siphash24_words(&h->key, w, 3);
	fp = fp ? fp : 1;
	if (h->old[find(h, h->old, fp)] == fp)
		return false;
	size_t i = find(h, h->cur, fp);
	if (h->cur[i] == fp)
		return false;
	h->cur[i] = fp;
	if (++h->count >= h->window) {
		/* The older generation goes; the full one becomes it. */
		uint64_t *t = h->old;
		memset(t, 0, (h->mask + 1) * sizeof *t);
		h->old = h->cur;
		h->cur = t;
		h->count = 0;
	}
	return true;
}

void kz_hitset_free(struct kz_hitset *h)
{
	if (!h)
		return;
	explicit_bzero(&h->key, sizeof h->key);
	free(h->cur);
	free(h->old);
	free(h);
}
