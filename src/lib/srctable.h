/*
 * The telescope's per-source table: what it knows about every source
 * address it has seen, in a fixed memory budget.
 *
 * Layout. Entries (struct kz_src, 192 bytes = three cache lines) live in a
 * pool allocated once at kz_srctable_new and never move, so an entry's
 * index is a stable handle for the length of its life. They are found
 * through an open-addressing index (linear probing, at most half full) of
 * 8-byte slots {entry index + 1, low 32 bits of the key's hash}; the home
 * of a slot is those hash bits masked, which lets deletions shift slots
 * back without touching the entries (no tombstones, so probe lengths do not
 * grow over a long run).
 *
 * Keys are 128-bit addresses (IPv4 mapped), hashed by vector
 * multiply-shift under a random key drawn at kz_srctable_new (see
 * kz_srctable_hash_key): the sources in a darknet are chosen by others,
 * spoofers included, and an unkeyed hash would let them pile every entry
 * into one probe run.
 *
 * Budget and eviction. When the pool is full, a new source takes the entry
 * of an old one chosen by CLOCK (second chance): a reference bit per entry,
 * in its own bit array so that setting it costs no miss on the entry, is
 * set on every packet and cleared by the hand as it sweeps. Each
 * replacement is counted, as "expired" when the old source had been silent
 * for the scan timeout (its scan was over anyway) and as "evicted" when it
 * was still active (its state was lost). Nothing is ever dropped silently.
 *
 * Lookups are meant to be pipelined: prefetch a packet's index slot
 * (kz_srctable_prefetch_slot) some packets ahead, resolve it
 * (kz_srctable_lookup, which prefetches the entry) some packets later, and
 * update it later still. Entries resolved and not yet used are protected
 * from eviction by the caller's pin list.
 */
#ifndef KZ_SRCTABLE_H
#define KZ_SRCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "classify.h"
#include "dset.h"

/* Fingerprint vote counters, in this order. */
enum kz_vote { KZ_VOTE_MIRAI = 0, KZ_VOTE_MASSCAN, KZ_VOTE_ZMAP, KZ_VOTE_NMAP, KZ_VOTE_COUNT };

/* kz_src.flags */
#define KZ_SRC_DSTS_BIG  0x01u /* dsts is a sketch */
#define KZ_SRC_SLOT0_BIG 0x02u /* slot[0].dsts is a bitmap */
#define KZ_SRC_SLOT1_BIG 0x04u /* slot[1].dsts is a bitmap */
#define KZ_SRC_PORTS_BIG 0x08u /* more distinct keys than pkeys[] holds */

/* One tracked port/protocol of a source, for the scanner rule: distinct
 * dark addresses probed on it. Two per source: a probe on a tracked port
 * raises its weight; a probe on a third port lowers the lighter slot's
 * weight and takes the slot over when it reaches zero. The heavier slot is
 * never lowered, so a source's main port keeps its count however many
 * other ports it mixes in (with Misra-Gries, which lowers both, three ports
 * probed in turn would keep both slots empty). */
struct kz_src_slot {
	uint16_t port;
	uint8_t proto;  /* enum kz_tproto + 1; 0 = free */
	uint8_t weight; /* saturates at 255 */
	struct kz_dset16 dsts;
};

/* What the table keeps per source (one scan of it: the state restarts
 * after the scan timeout of silence). Times are seconds of packet time.
 * Counters saturate rather than wrap. */
struct kz_src {
	/* line 0: every packet */
	struct kz_addr addr;
	uint32_t first_seen, last_seen;
	uint32_t packets;
	uint32_t probes;
	uint64_t bytes;
	uint32_t rec_iv;                /* interval number + 1 of the last record written */
	uint32_t uni_cand;              /* unicornscan constant: the majority candidate */
	uint16_t syn;                   /* TCP SYN probes, halved with the votes */
	uint16_t votes[KZ_VOTE_COUNT];  /* SYNs meeting each rule */
	uint16_t uni_match, uni_weight; /* SYNs equal to it; Boyer-Moore counter */
	uint16_t last_sport;
	/* line 1: destinations */
	struct kz_dset32 dsts; /* distinct dark addresses */
	struct kz_src_slot slot0;
	uint8_t flags;      /* KZ_SRC_* */
	uint8_t dsts_base;  /* HLL base of dsts */
	uint8_t label;      /* the label last written for this scan (scanner.h), 0: none */
	uint8_t npkeys;     /* entries used in pkeys[] */
	uint32_t iv_stamp;  /* interval number + 1 of the last packet; 0 after a flush */
	uint32_t last_pkey; /* proto << 16 | port of the last packet in that interval */
	/* line 2: the rest */
	struct kz_src_slot slot1;
	uint32_t unb_cand;  /* unicornscan constant with the address byte-swapped */
	uint64_t hll_hash;  /* kz_hll_hash_addr(addr), for the per-port sketches */
	uint32_t pkeys[4];  /* the first distinct (protocol << 16 | port) keys */
	uint64_t port_bits; /* a 64-bit linear-counting bitmap of all its real ports */
	uint16_t scans;     /* scans of this source seen (restarts after silence) */
	uint8_t iv_added;   /* pkeys[i] went into its port's sketch this interval: bit i */
	uint8_t pad;
	uint16_t unb_match, unb_weight;
} __attribute__((aligned(64)));

/* Counters for the summary and the stats. */
struct kz_srctable_stats {
	uint64_t inserts;      /* new entries (first sight, or after a replacement) */
	uint64_t evictions;    /* entries replaced while their source was still active */
	uint64_t expired;      /* entries replaced after their source's scan had ended */
	uint64_t slow_lookups; /* hash-tag false matches resolved the slow way */
	uint32_t used, capacity;
};

struct kz_srctable;

/* Makes a table for at most capacity sources (>= 1), allocating all its
 * memory now: capacity * 192 bytes of entries plus an index of 16 bytes per
 * source. silence_s is the scan timeout (replacements of sources silent
 * longer count as expired). Returns 0, -EINVAL or -ENOMEM. */
int kz_srctable_new(uint32_t capacity, uint32_t silence_s, struct kz_srctable **out)
        __attribute__((warn_unused_result));

void kz_srctable_free(struct kz_srctable *t);

/* A table's hash key: four multipliers and an addend, 64 random bits each. */
struct kz_srctable_key {
	uint64_t mul[4];
	uint64_t add;
};

/* The keyed hash of an address: vector multiply-shift over its four 32-bit
 * words, (add + sum mul[i] * word[i]) mod 2^64, of which the high 32 bits
 * are the hash (the table uses 32). Under a uniformly random key this
 * family is strongly universal (Dietzfelbinger 1996; Thorup, "High Speed
 * Hashing for Integers and Strings", 2015): two given addresses collide
 * with probability 2^-32, whatever they are. That is the guarantee a table
 * of attacker-chosen keys needs when the attacker cannot watch the table
 * (a darknet sensor answers nobody); it is no MAC, and an adversary who
 * could time the lookups and adapt would want SipHash, at about 65 more
 * instructions per packet. Callers on another thread copy the key from
 * kz_srctable_key. Returns the 32 bits in a uint64_t. */
static inline uint64_t kz_srctable_hash_key(const struct kz_srctable_key *k, struct kz_addr a)
{
	uint64_t hi = (uint64_t)(a.v >> 64), lo = (uint64_t)a.v;
	uint64_t h = k->add + k->mul[0] * (uint32_t)lo + k->mul[1] * (lo >> 32) +
	             k->mul[2] * (uint32_t)hi + k->mul[3] * (hi >> 32);
	return h >> 32;
}

/* The keyed hash of an address (kz_srctable_hash_key with the table's
 * key). */
uint64_t kz_srctable_hash(const struct kz_srctable *t, struct kz_addr a);

/* What the per-packet fast paths read, inline in the caller (a stable
 * pointer from kz_srctable_hot; the fields change as the index grows, so
 * read them through it). */
struct kz_srctable_hot {
	struct kz_src *pool;
	uint64_t *index; /* slots: hash low 32 bits << 32 | entry index + 1; 0 empty */
	uint64_t *ref;   /* one CLOCK reference bit per entry */
	uint32_t mask;   /* index slots in use - 1 */
};

const struct kz_srctable_hot *kz_srctable_hot(const struct kz_srctable *t);

/* Prefetches the index slot a hash starts probing at. */
static inline void kz_srctable_prefetch_slot(const struct kz_srctable_hot *h, uint64_t hash)
{
	__builtin_prefetch(&h->index[(uint32_t)hash & h->mask]);
}

/* The fast lookup: the entry whose 32-bit hash tag matches (set as used,
 * and prefetched), or UINT32_MAX when there is none; then
 * kz_srctable_lookup inserts. A match is not checked against the address:
 * kz_srctable_entry_for does that once the entry is in cache. */
static inline uint32_t kz_srctable_hot_find(const struct kz_srctable_hot *h, uint64_t hash)
{
	uint32_t tag = (uint32_t)hash;
	for (uint32_t i = tag & h->mask;; i = (i + 1) & h->mask) {
		uint64_t s = h->index[i];
		if (s == 0)
			return UINT32_MAX;
		if ((uint32_t)(s >> 32) == tag) {
			uint32_t idx = (uint32_t)s - 1;
			const char *e = (const char *)&h->pool[idx];
			h->ref[idx >> 6] |= UINT64_C(1) << (idx & 63);
			__builtin_prefetch(e, 1);
			__builtin_prefetch(e + 64, 1);
			__builtin_prefetch(e + 128, 1);
			return idx;
		}
	}
}

/* Finds the entry for addr (hash h), or makes one, replacing an old entry if
 * the pool is full, never one of the npinned entry indexes in pinned. A new
 * entry is zeroed with its address, first/last seen = now_s and hll_hash
 * set, and *is_new is set. Prefetches the entry. Returns its index. A hash
 * tag that matches another address is possible: kz_srctable_entry_for
 * checks and repairs that once the entry is in cache. */
uint32_t kz_srctable_lookup(struct kz_srctable *t, struct kz_addr addr, uint64_t h, uint32_t now_s,
                            const uint32_t *pinned, size_t npinned, bool *is_new);

/* The key of kz_srctable_hash, for callers that hash on another thread
 * (kz_srctable_hash_key). */
const struct kz_srctable_key *kz_srctable_key(const struct kz_srctable *t);

/* The entry at idx, checked against addr: when the fast lookup's tag
 * matched another address, this redoes the lookup comparing addresses
 * (inserting if needed) and updates *idx. */
struct kz_src *kz_srctable_entry_for(struct kz_srctable *t, uint32_t *idx, struct kz_addr addr,
                                     uint64_t h, uint32_t now_s, const uint32_t *pinned,
                                     size_t npinned, bool *is_new);

/* The entry at an index (no check). */
struct kz_src *kz_srctable_entry(struct kz_srctable *t, uint32_t idx);

/* The entry for addr if it is in the table, else NULL. Does not insert and
 * does not touch reference bits (for tests and reports). */
struct kz_src *kz_srctable_find(struct kz_srctable *t, struct kz_addr addr);

/* Calls fn on every entry in use, in pool order. */
void kz_srctable_foreach(struct kz_srctable *t,
                         void (*fn)(void *user, struct kz_src *e, uint32_t idx), void *user);

void kz_srctable_stats(const struct kz_srctable *t, struct kz_srctable_stats *st);

/* Bytes of memory the table holds. */
size_t kz_srctable_memory(const struct kz_srctable *t);

/* What kz_src_observe tells the caller. */
#define KZ_OBS_RESTART  0x1u /* the source had been silent past the timeout: a new scan */
#define KZ_OBS_FIRST_IV 0x2u /* its first packet in this interval (iv_stamp changed) */
#define KZ_OBS_NEW_PKEY                                                                            \
	0x4u /* a (protocol, port) this source has not sent to yet in                              \
	        this interval (as far as pkeys[] can tell): the                                    \
	        port's source sketch needs it */

/* kz_src.last_pkey when the source has sent nothing in its interval yet. */
#define KZ_SRC_NO_PKEY UINT32_MAX

/* The out-of-line parts of kz_src_observe, for what most packets do not
 * need: a restart after silence (the state starts again, keeping the
 * identity and the interval bookkeeping, as the entry may already be
 * listed this interval); the unicornscan majority votes; the halving of
 * the vote counters; a probe on a port neither slot tracks. */
void kz_src_restart(struct kz_src *e, uint32_t now_s);
void kz_src_unicorn_vote(struct kz_src *e, const struct kz_tpkt *p);
void kz_src_halve_votes(struct kz_src *e);
void kz_src_slots_update(struct kz_src *e, const struct kz_tpkt *p, uint32_t dh);

/* Records a (protocol, port) key the source sent to (at a change of key),
 * and says whether the key's sketch still needs this source in this
 * interval: keys in pkeys[] once per interval, keys past the first four
 * every time (a sketch insert is idempotent, only slower). */
static inline bool kz_src_pkey_update(struct kz_src *e, uint32_t pkey, bool has_port)
{
	if (has_port)
		e->port_bits |= UINT64_C(1) << (kz_dset_hash(pkey & 0xffff) >> 26);
	for (unsigned i = 0; i < e->npkeys; i++) {
		if (e->pkeys[i] == pkey) {
			if (e->iv_added & (1u << i))
				return false;
			e->iv_added = (uint8_t)(e->iv_added | 1u << i);
			return true;
		}
	}
	if (e->npkeys < 4) {
		e->iv_added = (uint8_t)(e->iv_added | 1u << e->npkeys);
		e->pkeys[e->npkeys++] = pkey;
	} else {
		e->flags |= KZ_SRC_PORTS_BIG;
	}
	return true;
}

/* Updates a source's state with one packet at now_s (the packet's second)
 * in the interval stamped iv_stamp (interval number + 1). When the source
 * was silent for longer than silence_s its previous scan is over and the
 * state restarts. Returns KZ_OBS_* bits. Inline: it runs for every packet,
 * in the analysis loop, where a call cost a tenth of its time. */
static inline __attribute__((always_inline)) unsigned
kz_src_observe(struct kz_src *e, const struct kz_tpkt *p, uint32_t now_s, uint32_t silence_s,
               uint32_t iv_stamp)
{
	unsigned r = 0;
	/* now_s - last_seen > silence_s for a packet after last_seen, in 64
	 * bits where the sum cannot wrap. */
	if (__builtin_expect((uint64_t)now_s > (uint64_t)e->last_seen + silence_s && e->packets,
	                     0)) {
		kz_src_restart(e, now_s);
		r |= KZ_OBS_RESTART;
	}
	if (e->iv_stamp != iv_stamp) {
		e->iv_stamp = iv_stamp;
		e->last_pkey = KZ_SRC_NO_PKEY;
		e->iv_added = 0;
		r |= KZ_OBS_FIRST_IV;
	}
	if (now_s > e->last_seen)
		e->last_seen = now_s;
	e->packets += (uint32_t)(e->packets != UINT32_MAX);
	e->bytes += p->len;
	if (p->cls == KZ_TCLASS_PROBE)
		e->probes += (uint32_t)(e->probes != UINT32_MAX);

	if (p->flags & KZ_TPKT_SYN) {
		e->syn++;
		/* The four 16-bit vote counters in one 64-bit add: rule bit i
		 * (KZ_FP_MIRAI .. KZ_FP_NMAP = 1, 2, 4, 8) becomes a 1 in lane
		 * i. No lane overflows: votes never exceed syn, which is halved
		 * before it reaches 2^16. */
		_Static_assert(KZ_FP_MIRAI == 1 && KZ_FP_MASSCAN == 2 && KZ_FP_ZMAP == 4 &&
		                       KZ_FP_NMAP == 8 && KZ_VOTE_MASSCAN == 1 && KZ_VOTE_NMAP == 3,
		               "vote lanes follow the rule bits");
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		static const uint64_t lanes[16] = {
#define KZ_LANES_(b) ((b)&1) | ((b)&2) << 15 | (uint64_t)((b)&4) << 30 | (uint64_t)((b)&8) << 45
			KZ_LANES_(0),  KZ_LANES_(1),  KZ_LANES_(2),  KZ_LANES_(3),
			KZ_LANES_(4),  KZ_LANES_(5),  KZ_LANES_(6),  KZ_LANES_(7),
			KZ_LANES_(8),  KZ_LANES_(9),  KZ_LANES_(10), KZ_LANES_(11),
			KZ_LANES_(12), KZ_LANES_(13), KZ_LANES_(14), KZ_LANES_(15),
#undef KZ_LANES_
		};
		uint64_t votes;
		memcpy(&votes, e->votes, sizeof votes);
		votes += lanes[p->fp & 15];
		memcpy(e->votes, &votes, sizeof votes);
#else
		for (unsigned i = 0; i < KZ_VOTE_COUNT; i++)
			e->votes[i] = (uint16_t)(e->votes[i] + ((p->fp >> i) & 1));
#endif
		if (__builtin_expect(p->fp & KZ_FP_UNICORN, 0))
			kz_src_unicorn_vote(e, p);
		if (__builtin_expect(e->syn == UINT16_MAX, 0))
			kz_src_halve_votes(e);
	}
	uint32_t dh = p->dst_hash;
	kz_dset32_add(&e->dsts, &e->flags, KZ_SRC_DSTS_BIG, &e->dsts_base, dh);
	if (p->flags & KZ_TPKT_HASPORT)
		e->last_sport = p->sport;
	/* Most sources send to one port: comparing with the previous packet's
	 * key keeps line 2 (the key set) out of the common case. */
	uint32_t pkey = (uint32_t)p->proto << 16 | p->port;
	if (pkey != e->last_pkey) {
		e->last_pkey = pkey;
		if (kz_src_pkey_update(e, pkey, (p->flags & KZ_TPKT_HASPORT) != 0))
			r |= KZ_OBS_NEW_PKEY;
	}
	if (p->cls == KZ_TCLASS_PROBE) {
		/* The usual probe: on a port a slot tracks. */
		struct kz_src_slot *s0 = &e->slot0;
		struct kz_src_slot *s1 = &e->slot1;
		uint8_t pk = (uint8_t)(p->proto + 1);
		if (s0->proto == pk && s0->port == p->port) {
			s0->weight = (uint8_t)(s0->weight + (s0->weight != 255));
			kz_dset16_add(&s0->dsts, &e->flags, KZ_SRC_SLOT0_BIG, dh);
		} else if (s1->proto == pk && s1->port == p->port) {
			/* A scanner of two ports alternates between them. */
			s1->weight = (uint8_t)(s1->weight + (s1->weight != 255));
			kz_dset16_add(&s1->dsts, &e->flags, KZ_SRC_SLOT1_BIG, dh);
		} else {
			kz_src_slots_update(e, p, dh);
		}
	}
	return r;
}

/* Distinct dark addresses the source reached (an estimate past 8). */
double kz_src_unique_destinations(const struct kz_src *e);

/* Distinct destination ports (exact up to 4, then an estimate). */
double kz_src_port_count(const struct kz_src *e);

/* The source's first distinct TCP, UDP and SCTP destination ports, in the
 * order first seen, into ports (room for 4). Returns how many. */
unsigned kz_src_ports(const struct kz_src *e, uint16_t ports[4]);

/* The tracked slot i (0 or 1), and its distinct dark addresses. */
const struct kz_src_slot *kz_src_slot(const struct kz_src *e, unsigned i);
double kz_src_slot_count(const struct kz_src *e, unsigned i);

#endif
