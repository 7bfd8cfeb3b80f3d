/*
 * RS-DoS attack vectors (see rsdos.h for the rules).
 *
 * Storage: a pool of vectors allocated once, found through an
 * open-addressing index (at most half full) of slots {hash tag, index + 1},
 * deleted by shifting later slots back, as in srctable.c. Backscatter is a
 * small share of a darknet's packets, so lookups are not batched or
 * prefetched here. Vectors active in an interval are listed once (by their
 * interval stamp) so that the flush visits only them.
 *
 * Window arithmetic: bucket b of a vector covers [first + 10 b, first +
 * 10 (b + 1)) seconds. The ring holds buckets cur-5..cur and sum is their
 * total; each packet adds to its bucket and max_ppm takes the running sum.
 * Every value the sum takes is the count of a grid window [first + 10 k,
 * first + 10 k + 60) for k = cur - 5 (or a part of window 0 while k < 0),
 * and every grid window's final count is reached when its last packet
 * arrives, so max_ppm is exactly corsaro's maximum over the windows.
 */
#include "rsdos.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

_Static_assert(sizeof(struct kz_rsdos_attack) == 128, "a vector is two cache lines");

#define NS_PER_S      UINT64_C(1000000000)
#define BUCKET_NS     ((uint64_t)KZ_RSDOS_BUCKET_S * NS_PER_S)
#define TIMEOUT_NS    ((uint64_t)KZ_RSDOS_TIMEOUT_S * NS_PER_S)
#define EVICT_SAMPLES 16

struct kz_rsdos {
	struct kz_rsdos_attack *pool;
	uint64_t *index;
	uint32_t *active; /* indexes of vectors with packets this interval */
	uint32_t nactive;
	uint32_t capacity, used, mask, hand;
	uint64_t now_ns; /* the latest packet time seen */
	struct kz_siphash_key key;
	struct kz_rsdos_stats st;
};

int kz_rsdos_new(uint32_t capacity, struct kz_rsdos **out)
{
	*out = NULL;
	if (capacity == 0 || capacity > (UINT32_C(1) << 28))
		return -EINVAL;
	uint64_t slots = 16;
	while (slots < 2 * (uint64_t)capacity)
		slots <<= 1;
	struct kz_rsdos *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->pool = aligned_alloc(64, (size_t)capacity * sizeof *r->pool);
	r->index = calloc(slots, sizeof *r->index);
	r->active = calloc(2 * (size_t)capacity, sizeof *r->active);
	if (!r->pool || !r->index || !r->active) {
		kz_rsdos_free(r);
		return -ENOMEM;
	}
	uint8_t k[KZ_SIPHASH_KEYLEN] = { 0 };
	if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) {
		uint64_t a = (uint64_t)(uintptr_t)r;
		memcpy(k, &a, sizeof a);
	}
	kz_siphash_key_load(&r->key, k);
	explicit_bzero(k, sizeof k);
	r->capacity = capacity;
	r->mask = (uint32_t)(slots - 1);
	r->st.capacity = capacity;
	*out = r;
	return 0;
}

void kz_rsdos_free(struct kz_rsdos *r)
{
	if (!r)
		return;
	free(r->pool);
	free(r->index);
	free(r->active);
	explicit_bzero(&r->key, sizeof r->key);
	free(r);
}

/* SipHash-1-3 (one compression round per word, three to finish) of the
 * victim and the protocol, as srctable.h hashes sources and for the same
 * reason: a keyed hash against chosen collisions, at the cost a table
 * needs, not a MAC's (SipHash-2-4 was 12 rounds per backscatter packet,
 * this is 6 for an IPv4 victim). The words: the address's high half when
 * it is not zero (IPv6), its low half, then the protocol with the word
 * count in the top byte. */
static uint64_t vec_hash(const struct kz_rsdos *r, struct kz_addr victim, uint8_t proto)
{
	struct kz_siphash_state s = kz_siphash_init(&r->key);
	uint64_t hi = (uint64_t)(victim.v >> 64), lo = (uint64_t)victim.v;
	uint64_t words = 2;
	if (hi) {
		s.v3 ^= hi;
		kz_siphash_round(&s);
		s.v0 ^= hi;
		words = 3;
	}
	s.v3 ^= lo;
	kz_siphash_round(&s);
	s.v0 ^= lo;
	uint64_t last = words << 56 | proto;
	s.v3 ^= last;
	kz_siphash_round(&s);
	s.v0 ^= last;
	s.v2 ^= 0xff;
	kz_siphash_round(&s);
	kz_siphash_round(&s);
	kz_siphash_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

static void index_remove(struct kz_rsdos *r, uint32_t idx, uint64_t h)
{
	uint32_t i = (uint32_t)h & r->mask;
	while ((uint32_t)r->index[i] != idx + 1)
		i = (i + 1) & r->mask;
	for (uint32_t j = (i + 1) & r->mask; r->index[j] != 0; j = (j + 1) & r->mask) {
		uint32_t home = (uint32_t)(r->index[j] >> 32) & r->mask;
		if (((j - home) & r->mask) >= ((j - i) & r->mask)) {
			r->index[i] = r->index[j];
			i = j;
		}
	}
	r->index[i] = 0;
}

static bool ended(const struct kz_rsdos_attack *a, uint64_t now_ns)
{
	return now_ns > a->last_ns && now_ns - a->last_ns > TIMEOUT_NS;
}

/* A slot for a new vector: a free one, else the first ended vector among
 * the next few after the hand, else the least recently active of them. A
 * vector already listed as active this interval is only taken when every
 * candidate is (it then loses its interval, which the eviction counter
 * says). */
static uint32_t take_slot(struct kz_rsdos *r)
{
	if (r->used < r->capacity)
		return r->used++;
	uint32_t best = r->hand;
	for (unsigned k = 0; k < EVICT_SAMPLES && k < r->capacity; k++) {
		uint32_t i = (r->hand + k) % r->capacity;
		const struct kz_rsdos_attack *a = &r->pool[i];
		if (ended(a, r->now_ns)) {
			best = i;
			r->st.reused++;
			goto found;
		}
		if (a->last_ns < r->pool[best].last_ns)
			best = i;
	}
	r->st.evictions++;
found:
	r->hand = (best + 1) % r->capacity;
	struct kz_rsdos_attack *old = &r->pool[best];
	index_remove(r, best, vec_hash(r, old->victim, old->proto));
	return best;
}

static void vector_start(struct kz_rsdos_attack *a, uint64_t t_ns, uint32_t attacks)
{
	struct kz_addr v = a->victim;
	uint8_t proto = a->proto;
	uint32_t iv = a->iv_stamp, ivp = a->iv_packets;
	memset(a, 0, sizeof *a);
	a->victim = v;
	a->proto = proto;
	a->iv_stamp = iv;
	a->iv_packets = ivp;
	a->first_ns = t_ns;
	a->last_ns = t_ns;
	a->attacks = attacks + 1;
}

void kz_rsdos_window_add(struct kz_rsdos_attack *a, uint64_t t_ns)
{
	/* Packets out of order (before the first) count in bucket 0 rather
	 * than moving the grid. */
	uint64_t off = t_ns > a->first_ns ? (t_ns - a->first_ns) / BUCKET_NS : 0;
	uint32_t b = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
	if (b > a->cur) {
		if (b - a->cur >= KZ_RSDOS_BUCKETS) {
			memset(a->buckets, 0, sizeof a->buckets);
			a->sum = 0;
		} else {
			for (uint32_t k = a->cur + 1; k <= b; k++) {
				a->sum -= a->buckets[k % KZ_RSDOS_BUCKETS];
				a->buckets[k % KZ_RSDOS_BUCKETS] = 0;
			}
		}
		a->cur = b;
	}
	/* A late packet whose bucket already left the window still counts
	 * as a packet, but not in any window. */
	if (b + KZ_RSDOS_BUCKETS > a->cur) {
		a->buckets[b % KZ_RSDOS_BUCKETS]++;
		a->sum++;
		if (a->sum > a->max_ppm)
			a->max_ppm = a->sum;
	}
	a->packets++;
	if (t_ns > a->last_ns)
		a->last_ns = t_ns;
}

static void attackers_add(struct kz_rsdos_attack *a, uint16_t pfx)
{
	uint32_t bit = (uint32_t)(pfx * 0x9e37u) >> 10 & 63;
	a->att_bits |= UINT64_C(1) << bit;
	if (a->att_big)
		return;
	for (unsigned i = 0; i < a->natt; i++) {
		if (a->att[i] == pfx)
			return;
	}
	if (a->natt < 4)
		a->att[a->natt++] = pfx;
	else
		a->att_big = 1;
}

void kz_rsdos_packet(struct kz_rsdos *r, const struct kz_tpkt *p, uint32_t iv_stamp)
{
	if (p->ts_ns > r->now_ns)
		r->now_ns = p->ts_ns;
	uint64_t h = vec_hash(r, p->victim, p->proto);
	uint32_t tag = (uint32_t)h, i = tag & r->mask;
	struct kz_rsdos_attack *a = NULL;
	for (; r->index[i] != 0; i = (i + 1) & r->mask) {
		uint64_t s = r->index[i];
		struct kz_rsdos_attack *c = &r->pool[(uint32_t)s - 1];
		if ((uint32_t)(s >> 32) == tag && c->victim.v == p->victim.v &&
		    c->proto == p->proto) {
			a = c;
			break;
		}
	}
	if (!a) {
		uint32_t idx = take_slot(r);
		/* take_slot may have shifted index slots: probe again. */
		for (i = tag & r->mask; r->index[i] != 0; i = (i + 1) & r->mask)
			;
		r->index[i] = (uint64_t)tag << 32 | (idx + 1);
		a = &r->pool[idx];
		memset(a, 0, sizeof *a);
		a->victim = p->victim;
		a->proto = p->proto;
		vector_start(a, p->ts_ns, 0);
		r->st.vectors++;
	} else if (ended(a, p->ts_ns)) {
		vector_start(a, p->ts_ns, a->attacks);
		r->st.vectors++;
	}
	if (a->iv_stamp != iv_stamp) {
		a->iv_stamp = iv_stamp;
		a->iv_packets = 0;
		/* Each vector is listed once per interval, plus once more for
		 * every slot taken over in it: 2 x capacity covers all but
		 * pathological churn, which is counted. */
		if (r->nactive < 2 * r->capacity)
			r->active[r->nactive++] = (uint32_t)(a - r->pool);
		else
			r->st.unlisted++;
	}
	a->iv_packets++;
	a->bytes += p->len;
	kz_rsdos_window_add(a, p->ts_ns);
	attackers_add(a, p->dark16);
}

bool kz_rsdos_is_attack(const struct kz_rsdos_attack *a)
{
	return a->packets >= KZ_RSDOS_MIN_PACKETS &&
	       a->last_ns - a->first_ns >= (uint64_t)KZ_RSDOS_MIN_DURATION_S * NS_PER_S &&
	       a->max_ppm >= KZ_RSDOS_MIN_PPM;
}

void kz_rsdos_flush(struct kz_rsdos *r, uint32_t iv_stamp,
                    void (*fn)(void *user, struct kz_rsdos_attack *a), void *user)
{
	for (uint32_t k = 0; k < r->nactive; k++) {
		struct kz_rsdos_attack *a = &r->pool[r->active[k]];
		/* A slot taken over during the interval may be listed twice;
		 * the stamp makes the second visit a no-op. */
		if (a->iv_stamp != iv_stamp)
			continue;
		fn(user, a);
		a->iv_stamp = 0;
	}
	r->nactive = 0;
}

double kz_rsdos_attackers(const struct kz_rsdos_attack *a)
{
	if (!a->att_big)
		return a->natt;
	unsigned zeros = 64 - kz_popcount64(a->att_bits);
	double est = 64.0 * log(64.0 / (zeros ? zeros : 1));
	return est < 5 ? 5 : est;
}

void kz_rsdos_stats(const struct kz_rsdos *r, struct kz_rsdos_stats *st)
{
	*st = r->st;
	st->used = r->used;
	st->capacity = r->capacity;
}

size_t kz_rsdos_memory(const struct kz_rsdos *r)
{
	return sizeof *r + (size_t)r->capacity * (sizeof *r->pool + 2 * sizeof *r->active) +
	       ((size_t)r->mask + 1) * sizeof *r->index;
}
