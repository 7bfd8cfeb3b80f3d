/*
 * The per-source table (see srctable.h for the layout, the budget and the
 * eviction rule).
 *
 * Index slots are 64-bit words: the low 32 bits hold entry index + 1 (0 is
 * an empty slot), the high 32 bits the low 32 bits of the key's hash, whose
 * masked value is the slot's home. The index has at least twice as many
 * slots as the pool has entries, so it is at most half full and a probe
 * sequence is short (1.5 slots on average for a hit, 2.5 for a miss): one
 * cache line almost always.
 *
 * Invariants: pool[0..used) are in use, each with exactly one index slot
 * pointing at it; every slot lies on the probe run from its home to the
 * first empty slot; the reference bit of an entry is set by every lookup
 * and cleared only by the CLOCK hand.
 */
#include "srctable.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bigmem.h"
#include "hll.h"

_Static_assert(sizeof(struct kz_src) == 192, "a source entry is three cache lines");
_Static_assert(offsetof(struct kz_src, dsts) == 64, "line 1 starts with the destinations");
_Static_assert(offsetof(struct kz_src, slot1) == 128, "line 2 starts with slot 1");

/* The index starts this small and doubles as the table fills, up to its
 * allocated size: a darknet's tens of thousands of sources then probe an
 * index that fits in the L2 cache, not one sized for the whole budget. */
#define INDEX_MIN 4096u

struct kz_srctable {
	struct kz_srctable_hot hot; /* pool, index, reference bits, mask */
	uint32_t capacity, used;
	uint32_t max_mask; /* index slots allocated - 1 */
	uint32_t hand;     /* the CLOCK hand: the next entry it looks at */
	uint32_t silence_s;
	struct kz_srctable_key key;
	struct kz_srctable_stats st;
};

int kz_srctable_new(uint32_t capacity, uint32_t silence_s, struct kz_srctable **out)
{
	*out = NULL;
	if (capacity == 0 || capacity > (UINT32_C(1) << 30))
		return -EINVAL;
	uint64_t slots = 16;
	while (slots < 2 * (uint64_t)capacity)
		slots <<= 1;
	struct kz_srctable *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->capacity = capacity;
	t->max_mask = (uint32_t)(slots - 1);
	t->hot.mask = INDEX_MIN - 1 < t->max_mask ? INDEX_MIN - 1 : t->max_mask;
	t->hot.pool = kz_bigmem_alloc((size_t)capacity * sizeof(struct kz_src));
	t->hot.index = kz_bigmem_alloc(slots * sizeof *t->hot.index);
	t->hot.ref = calloc(((size_t)capacity + 63) / 64, sizeof *t->hot.ref);
	if (!t->hot.pool || !t->hot.index || !t->hot.ref) {
		kz_srctable_free(t);
		return -ENOMEM;
	}
	if (getrandom(&t->key, sizeof t->key, 0) != (ssize_t)sizeof t->key) {
		/* getrandom only fails this way on a kernel without it; a
		 * key from the heap addresses and a multiplier still varies. */
		uint64_t a = (uint64_t)(uintptr_t)t ^ (uint64_t)(uintptr_t)t->hot.pool << 17;
		for (size_t i = 0; i < 4; i++)
			t->key.mul[i] =
			        (a += UINT64_C(0x9e3779b97f4a7c15)) * UINT64_C(0xbf58476d1ce4e5b9);
		t->key.add = a ^ (a >> 31);
	}
	t->silence_s = silence_s;
	t->st.capacity = capacity;
	*out = t;
	return 0;
}

void kz_srctable_free(struct kz_srctable *t)
{
	if (!t)
		return;
	kz_bigmem_free(t->hot.pool, (size_t)t->capacity * sizeof(struct kz_src));
	kz_bigmem_free(t->hot.index, ((size_t)t->max_mask + 1) * sizeof *t->hot.index);
	free(t->hot.ref);
	explicit_bzero(&t->key, sizeof t->key);
	free(t);
}

uint64_t kz_srctable_hash(const struct kz_srctable *t, struct kz_addr a)
{
	return kz_srctable_hash_key(&t->key, a);
}

static inline void ref_set(struct kz_srctable *t, uint32_t idx)
{
	t->hot.ref[idx >> 6] |= UINT64_C(1) << (idx & 63);
}

static bool pinned_has(const uint32_t *pinned, size_t n, uint32_t idx)
{
	for (size_t i = 0; i < n; i++) {
		if (pinned[i] == idx)
			return true;
	}
	return false;
}

/* Removes the index slot that points at entry idx (whose key hashes to h),
 * shifting later slots of the run back so that no probe run is broken. */
static void index_remove(struct kz_srctable *t, uint32_t idx, uint64_t h)
{
	uint32_t i = (uint32_t)h & t->hot.mask;
	while ((uint32_t)t->hot.index[i] != idx + 1)
		i = (i + 1) & t->hot.mask;
	for (uint32_t j = (i + 1) & t->hot.mask; t->hot.index[j] != 0; j = (j + 1) & t->hot.mask) {
		uint32_t home = (uint32_t)(t->hot.index[j] >> 32) & t->hot.mask;
		/* The slot at j may move to the hole at i only if its home is
		 * not cyclically within (i, j]. */
		if (((j - home) & t->hot.mask) >= ((j - i) & t->hot.mask)) {
			t->hot.index[i] = t->hot.index[j];
			i = j;
		}
	}
	t->hot.index[i] = 0;
}

/* Picks the entry to replace with CLOCK: the first entry after the hand
 * whose reference bit is clear, clearing set bits on the way; pinned
 * entries are passed over. The caller guarantees that fewer entries are
 * pinned than exist, so the loop ends within two turns. */
static uint32_t clock_victim(struct kz_srctable *t, const uint32_t *pinned, size_t npinned)
{
	for (;;) {
		uint32_t i = t->hand;
		t->hand = i + 1 == t->capacity ? 0 : i + 1;
		uint64_t *w = &t->hot.ref[i >> 6];
		uint64_t bit = UINT64_C(1) << (i & 63);
		if (*w & bit) {
			*w &= ~bit;
			continue;
		}
		if (npinned && pinned_has(pinned, npinned, i))
			continue;
		return i;
	}
}

static void entry_init(struct kz_src *e, struct kz_addr addr, uint32_t now_s)
{
	memset(e, 0, sizeof *e);
	e->addr = addr;
	e->first_seen = now_s;
	e->last_seen = now_s;
	e->hll_hash = kz_hll_hash_addr(addr);
	e->last_pkey = KZ_SRC_NO_PKEY;
	e->scans = 1;
}

/* Doubles the slots in use and relinks every entry (hashes recomputed:
 * entries do not keep theirs). Entries never move, so indexes held by the
 * caller stay valid. */
static void index_grow(struct kz_srctable *t)
{
	t->hot.mask = t->hot.mask * 2 + 1;
	memset(t->hot.index, 0, ((size_t)t->hot.mask + 1) * sizeof *t->hot.index);
	for (uint32_t idx = 0; idx < t->used; idx++) {
		uint64_t h = kz_srctable_hash(t, t->hot.pool[idx].addr);
		uint32_t i = (uint32_t)h & t->hot.mask;
		while (t->hot.index[i] != 0)
			i = (i + 1) & t->hot.mask;
		t->hot.index[i] = (uint64_t)(uint32_t)h << 32 | (idx + 1);
	}
}

/* Takes a pool entry for a new key (a free one, or CLOCK's victim) and
 * links it into the index. */
static uint32_t insert(struct kz_srctable *t, struct kz_addr addr, uint64_t h, uint32_t now_s,
                       const uint32_t *pinned, size_t npinned)
{
	uint32_t idx;
	if (t->used < t->capacity) {
		/* At most half full, as the probe lengths assume. */
		if (2 * ((uint64_t)t->used + 1) > (uint64_t)t->hot.mask + 1 &&
		    t->hot.mask < t->max_mask)
			index_grow(t);
		idx = t->used++;
	} else {
		idx = clock_victim(t, pinned, npinned);
		struct kz_src *old = &t->hot.pool[idx];
		if (now_s > old->last_seen && now_s - old->last_seen > t->silence_s)
			t->st.expired++;
		else
			t->st.evictions++;
		index_remove(t, idx, kz_srctable_hash(t, old->addr));
	}
	uint32_t i = (uint32_t)h & t->hot.mask;
	while (t->hot.index[i] != 0)
		i = (i + 1) & t->hot.mask;
	t->hot.index[i] = (uint64_t)(uint32_t)h << 32 | (idx + 1);
	entry_init(&t->hot.pool[idx], addr, now_s);
	ref_set(t, idx);
	t->st.inserts++;
	return idx;
}

static inline uint32_t lookup(struct kz_srctable *t, struct kz_addr addr, uint64_t h,
                              uint32_t now_s, const uint32_t *pinned, size_t npinned, bool *is_new)
{
	uint32_t idx = kz_srctable_hot_find(&t->hot, h);
	if (idx != UINT32_MAX) {
		*is_new = false;
		return idx;
	}
	*is_new = true;
	return insert(t, addr, h, now_s, pinned, npinned);
}

uint32_t kz_srctable_lookup(struct kz_srctable *t, struct kz_addr addr, uint64_t h, uint32_t now_s,
                            const uint32_t *pinned, size_t npinned, bool *is_new)
{
	return lookup(t, addr, h, now_s, pinned, npinned, is_new);
}

const struct kz_srctable_key *kz_srctable_key(const struct kz_srctable *t)
{
	return &t->key;
}

const struct kz_srctable_hot *kz_srctable_hot(const struct kz_srctable *t)
{
	return &t->hot;
}

struct kz_src *kz_srctable_entry_for(struct kz_srctable *t, uint32_t *idx, struct kz_addr addr,
                                     uint64_t h, uint32_t now_s, const uint32_t *pinned,
                                     size_t npinned, bool *is_new)
{
	struct kz_src *e = &t->hot.pool[*idx];
	if (__builtin_expect(e->addr.v == addr.v, 1))
		return e;
	/* Another address with the same 32 hash bits: walk the run comparing
	 * addresses. */
	t->st.slow_lookups++;
	uint32_t tag = (uint32_t)h;
	for (uint32_t i = tag & t->hot.mask; t->hot.index[i] != 0; i = (i + 1) & t->hot.mask) {
		uint64_t s = t->hot.index[i];
		if ((uint32_t)(s >> 32) == tag && t->hot.pool[(uint32_t)s - 1].addr.v == addr.v) {
			*idx = (uint32_t)s - 1;
			ref_set(t, *idx);
			*is_new = false;
			return &t->hot.pool[*idx];
		}
	}
	*idx = insert(t, addr, h, now_s, pinned, npinned);
	*is_new = true;
	return &t->hot.pool[*idx];
}

struct kz_src *kz_srctable_entry(struct kz_srctable *t, uint32_t idx)
{
	return &t->hot.pool[idx];
}

struct kz_src *kz_srctable_find(struct kz_srctable *t, struct kz_addr addr)
{
	uint64_t h = kz_srctable_hash(t, addr);
	uint32_t tag = (uint32_t)h;
	for (uint32_t i = tag & t->hot.mask; t->hot.index[i] != 0; i = (i + 1) & t->hot.mask) {
		uint64_t s = t->hot.index[i];
		if ((uint32_t)(s >> 32) == tag && t->hot.pool[(uint32_t)s - 1].addr.v == addr.v)
			return &t->hot.pool[(uint32_t)s - 1];
	}
	return NULL;
}

void kz_srctable_foreach(struct kz_srctable *t,
                         void (*fn)(void *user, struct kz_src *e, uint32_t idx), void *user)
{
	for (uint32_t i = 0; i < t->used; i++)
		fn(user, &t->hot.pool[i], i);
}

void kz_srctable_stats(const struct kz_srctable *t, struct kz_srctable_stats *st)
{
	*st = t->st;
	st->used = t->used;
	st->capacity = t->capacity;
}

size_t kz_srctable_memory(const struct kz_srctable *t)
{
	return sizeof *t + (size_t)t->capacity * sizeof(struct kz_src) +
	       ((size_t)t->max_mask + 1) * sizeof *t->hot.index +
	       ((size_t)t->capacity + 63) / 64 * 8;
}

/* ------------------------------------------------------------ per packet */

/* The rest of the Misra-Gries update of the two tracked port slots with one
 * probe (kz_src_observe settled the common case, a probe on slot 0's
 * port). */
void kz_src_slots_update(struct kz_src *e, const struct kz_tpkt *p, uint32_t dh)
{
	uint8_t pk = (uint8_t)(p->proto + 1);
	struct kz_src_slot *s0 = &e->slot0, *s1 = &e->slot1;
	struct kz_src_slot *hit;
	uint8_t big;
	if (s0->proto == pk && s0->port == p->port) {
		hit = s0;
		big = KZ_SRC_SLOT0_BIG;
	} else if (s1->proto == pk && s1->port == p->port) {
		hit = s1;
		big = KZ_SRC_SLOT1_BIG;
	} else if (s0->proto == 0 || s1->proto == 0) {
		hit = s0->proto == 0 ? s0 : s1;
		big = hit == s0 ? KZ_SRC_SLOT0_BIG : KZ_SRC_SLOT1_BIG;
		memset(hit, 0, sizeof *hit);
		e->flags &= (uint8_t)~big;
		hit->proto = pk;
		hit->port = p->port;
	} else {
		/* A third port: the lighter slot's weight drops, and the new
		 * port takes that slot over once it reaches zero. */
		hit = s1->weight <= s0->weight ? s1 : s0;
		big = hit == s0 ? KZ_SRC_SLOT0_BIG : KZ_SRC_SLOT1_BIG;
		if (--hit->weight != 0)
			return;
		memset(hit, 0, sizeof *hit);
		e->flags &= (uint8_t)~big;
		hit->proto = pk;
		hit->port = p->port;
	}
	if (hit->weight != 255)
		hit->weight++;
	kz_dset16_add(&hit->dsts, &e->flags, big, dh);
}

static inline bool real_port(uint8_t proto)
{
	return proto == KZ_TPROTO_TCP || proto == KZ_TPROTO_UDP || proto == KZ_TPROTO_SCTP;
}

/* The Boyer-Moore majority vote for a scan's constant: the candidate
 * survives if it is a majority; *match counts the packets that agreed with
 * the current candidate since it was chosen. */
static void majority_vote(uint32_t *cand, uint16_t *match, uint16_t *weight, uint32_t v)
{
	if (*weight == 0) {
		*cand = v;
		*weight = 1;
		*match = 1;
	} else if (v == *cand) {
		(*weight)++;
		(*match)++;
	} else {
		(*weight)--;
	}
}

void kz_src_unicorn_vote(struct kz_src *e, const struct kz_tpkt *p)
{
	majority_vote(&e->uni_cand, &e->uni_match, &e->uni_weight, p->unicorn);
	majority_vote(&e->unb_cand, &e->unb_match, &e->unb_weight, p->unicorn_bs);
}

void kz_src_halve_votes(struct kz_src *e)
{
	/* Halving keeps every ratio, so a majority stays a majority, and
	 * recent packets weigh more. */
	e->syn >>= 1;
	for (unsigned i = 0; i < KZ_VOTE_COUNT; i++)
		e->votes[i] >>= 1;
	e->uni_match >>= 1;
	e->uni_weight >>= 1;
	e->unb_match >>= 1;
	e->unb_weight >>= 1;
}

/* The key set starts again: keys re-added to this interval's sketches are
 * no-ops there. */
void kz_src_restart(struct kz_src *e, uint32_t now_s)
{
	struct kz_addr addr = e->addr;
	uint64_t hh = e->hll_hash;
	uint16_t scans = e->scans;
	uint32_t iv = e->iv_stamp, pkey = e->last_pkey;
	memset(e, 0, sizeof *e);
	e->addr = addr;
	e->hll_hash = hh;
	e->scans = (uint16_t)(scans + (scans != UINT16_MAX));
	e->iv_stamp = iv;
	e->last_pkey = pkey;
	e->first_seen = now_s;
	e->last_seen = now_s;
}

double kz_src_unique_destinations(const struct kz_src *e)
{
	return kz_dset32_count(&e->dsts, (e->flags & KZ_SRC_DSTS_BIG) != 0, e->dsts_base);
}

unsigned kz_src_ports(const struct kz_src *e, uint16_t ports[4])
{
	unsigned n = 0;
	for (unsigned i = 0; i < e->npkeys; i++) {
		if (real_port((uint8_t)(e->pkeys[i] >> 16)))
			ports[n++] = (uint16_t)e->pkeys[i];
	}
	return n;
}

double kz_src_port_count(const struct kz_src *e)
{
	if (!(e->flags & KZ_SRC_PORTS_BIG)) {
		uint16_t ports[4];
		return kz_src_ports(e, ports);
	}
	unsigned zeros = 64 - kz_popcount64(e->port_bits);
	double est = 64.0 * log(64.0 / (zeros ? zeros : 1));
	/* More than the 4 the exact set held, whatever the bitmap says. */
	return est < 5 ? 5 : est;
}

const struct kz_src_slot *kz_src_slot(const struct kz_src *e, unsigned i)
{
	return i == 0 ? &e->slot0 : &e->slot1;
}

double kz_src_slot_count(const struct kz_src *e, unsigned i)
{
	uint8_t big = i == 0 ? KZ_SRC_SLOT0_BIG : KZ_SRC_SLOT1_BIG;
	return kz_dset16_count(&kz_src_slot(e, i)->dsts, (e->flags & big) != 0);
}
