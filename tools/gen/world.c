/*
 * The address plan; see world.h.
 */
#include "world.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "rng.h"

#define V4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* Where IPv4 darknets and sources may lie. */
static const struct gen_range4 allowed4[] = {
	{ V4(198, 18, 0, 0), 1u << 17 },
	{ V4(192, 0, 2, 0), 256 },
	{ V4(198, 51, 100, 0), 256 },
	{ V4(203, 0, 113, 0), 256 },
};

/* The attributed IPv4 space (the demo's ASes). */
static const struct gen_range4 as_space4 = { V4(198, 19, 0, 0), 1u << 16 };
#define MOAS_FIRST V4(198, 19, 255, 0)

/* The mask of a prefix of len bits, in 128-bit terms. */
static kz_u128 mask128(unsigned len)
{
	return len == 0 ? 0 : ~(kz_u128)0 << (128 - len);
}

/* Two prefixes overlap when they agree on the bits of the shorter one. */
static bool cidr_overlaps(const struct kz_cidr *a, const struct kz_cidr *b)
{
	unsigned la = kz_cidr_len128(a), lb = kz_cidr_len128(b);
	unsigned l = la < lb ? la : lb;
	return ((a->base.v ^ b->base.v) & mask128(l)) == 0;
}

/* IPv6 darknets may only lie in the documentation and benchmarking prefixes. */
static bool v6_allowed(const struct kz_cidr *c)
{
	struct kz_cidr doc, bmwg;
	const char *why;
	if (kz_cidr_parse("2001:db8::/32", &doc, &why) || kz_cidr_parse("2001:2::/48", &bmwg, &why))
		return false;
	return (c->len >= 32 && kz_cidr_contains(&doc, c->base)) ||
	       (c->len >= 48 && kz_cidr_contains(&bmwg, c->base));
}

/* Subtracts the IPv4 darknet from [first, first + size) and appends what is
 * left to the pool. */
static int add_pool(struct gen_world *w, uint32_t first, uint64_t size)
{
	uint64_t lo = first, hi = (uint64_t)first + size;
	while (lo < hi) {
		/* The darknet range that starts first at or after lo, if any
		 * covers lo skip past it. */
		uint64_t cut = hi;
		bool covered = false;
		for (unsigned i = 0; i < w->ndark4; i++) {
			uint64_t d0 = w->dark4[i].first, d1 = d0 + w->dark4[i].size;
			if (d0 <= lo && lo < d1) {
				lo = d1;
				covered = true;
				break;
			}
			if (d0 > lo && d0 < cut)
				cut = d0;
		}
		if (covered)
			continue;
		if (w->npool == GEN_MAX_POOL)
			return -ENOSPC;
		w->pool[w->npool].first = (uint32_t)lo;
		w->pool[w->npool].size = (uint32_t)(cut - lo);
		w->pool_size += (uint32_t)(cut - lo);
		w->npool++;
		lo = cut;
	}
	return 0;
}

/* The IPv6 source region: the first candidate the darknet does not touch.
 * Each of the sixteen ASes gets an equal share of it (a /40 of the /36, or a
 * /52 of the /48). */
static int choose_v6_sources(struct gen_world *w)
{
	static const char *const regions[] = { "2001:db8::/36", "2001:2::/48" };
	static const unsigned share_len[] = { 40, 52 };
	for (unsigned r = 0; r < 2; r++) {
		struct kz_cidr c;
		const char *why;
		if (kz_cidr_parse(regions[r], &c, &why))
			return -EINVAL;
		bool clash = false;
		for (unsigned i = 0; i < w->ndark6; i++)
			clash |= cidr_overlaps(&c, &w->dark6[i]);
		if (!clash) {
			w->v6src = c;
			w->v6_as_len = share_len[r];
			return 0;
		}
	}
	return -ENOSPC;
}

int gen_world_init(struct gen_world *w, const char *darknets, bool as_space_only, uint64_t seed,
                   char *why, size_t whylen)
{
	memset(w, 0, sizeof *w);
	char list[1024];
	if (snprintf(list, sizeof list, "%s", darknets) >= (int)sizeof list) {
		snprintf(why, whylen, "darknet list too long");
		return -EINVAL;
	}
	char *save = NULL;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct kz_cidr c;
		const char *reason;
		if (kz_cidr_parse(tok, &c, &reason)) {
			snprintf(why, whylen, "%s: %s", tok, reason);
			return -EINVAL;
		}
		if (w->ndark == GEN_MAX_DARK) {
			snprintf(why, whylen, "more than %d darknet prefixes", GEN_MAX_DARK);
			return -EINVAL;
		}
		for (unsigned i = 0; i < w->ndark; i++) {
			if (cidr_overlaps(&c, &w->dark[i])) {
				snprintf(why, whylen, "%s: overlaps another darknet prefix", tok);
				return -EINVAL;
			}
		}
		if (kz_addr_is_v4(c.base)) {
			uint32_t first = kz_addr_v4(c.base);
			uint64_t size = (uint64_t)1 << (32 - c.len);
			bool ok = false;
			for (size_t i = 0; i < sizeof allowed4 / sizeof allowed4[0]; i++)
				ok |= first >= allowed4[i].first &&
				      (uint64_t)first + size <=
				              (uint64_t)allowed4[i].first + allowed4[i].size;
			if (!ok) {
				snprintf(why, whylen,
				         "%s: outside 198.18.0.0/15 and the TEST-NETs (the "
				         "generator "
				         "uses only benchmarking and documentation space)",
				         tok);
				return -EINVAL;
			}
			w->dark4[w->ndark4].first = first;
			w->dark4[w->ndark4].size = (uint32_t)size;
			w->ndark4++;
			w->n4 += size;
		} else {
			if (!v6_allowed(&c)) {
				snprintf(why, whylen,
				         "%s: outside 2001:db8::/32 and 2001:2::/48 (the generator "
				         "uses only benchmarking and documentation space)",
				         tok);
				return -EINVAL;
			}
			unsigned host = 128u - c.len;
			w->dark6_bits[w->ndark6] = host < 32 ? host : 32;
			w->dark6[w->ndark6++] = c;
			w->n6 += (uint64_t)1 << w->dark6_bits[w->ndark6 - 1];
		}
		w->dark[w->ndark++] = c;
	}
	if (w->ndark == 0) {
		snprintf(why, whylen, "empty darknet list");
		return -EINVAL;
	}
	if (as_space_only) {
		if (add_pool(w, as_space4.first, as_space4.size)) {
			snprintf(why, whylen, "darknet splits the source space too finely");
			return -EINVAL;
		}
	} else {
		for (size_t i = 0; i < sizeof allowed4 / sizeof allowed4[0]; i++) {
			if (add_pool(w, allowed4[i].first, allowed4[i].size)) {
				snprintf(why, whylen, "darknet splits the source space too finely");
				return -EINVAL;
			}
		}
	}
	if (w->pool_size == 0) {
		snprintf(why, whylen, "the darknet leaves no IPv4 source addresses");
		return -EINVAL;
	}
	if (choose_v6_sources(w)) {
		snprintf(why, whylen, "the IPv6 darknet leaves no IPv6 source region");
		return -EINVAL;
	}
	/* The Feistel network works on an even number of bits, enough to
	 * cover the pool; cycle walking skips the values beyond it. */
	w->perm_bits = 2;
	while (((uint64_t)1 << w->perm_bits) < w->pool_size)
		w->perm_bits += 2;
	struct gen_rng r = gen_rng_derive(seed, 0x706f6f6c, 0);
	w->perm_key = gen_rng_next(&r);
	return 0;
}

struct kz_addr gen_world_dark4(const struct gen_world *w, uint64_t idx)
{
	for (unsigned i = 0; i < w->ndark4; i++) {
		if (idx < w->dark4[i].size)
			return kz_addr_from_v4(w->dark4[i].first + (uint32_t)idx);
		idx -= w->dark4[i].size;
	}
	return kz_addr_from_v4(w->dark4[0].first);
}

struct kz_addr gen_world_dark6(const struct gen_world *w, uint64_t idx)
{
	for (unsigned i = 0; i < w->ndark6; i++) {
		uint64_t size = (uint64_t)1 << w->dark6_bits[i];
		if (idx >= size) {
			idx -= size;
			continue;
		}
		struct kz_addr a = w->dark6[i].base;
		unsigned len = w->dark6[i].len;
		if (len <= 64) {
			/* Up to 16 bits pick the subnet, the rest a low interface
			 * id: 2001:db8:ffff:SSSS::LLLL. */
			unsigned sb = 64 - len < 16 ? 64 - len : 16;
			unsigned lb = 32 - sb;
			kz_u128 subnet = (kz_u128)(idx >> lb) << 64;
			a.v |= subnet | (idx & (((uint64_t)1 << lb) - 1));
		} else {
			a.v |= idx;
		}
		return a;
	}
	return w->dark6[0].base;
}

bool gen_world_is_dark(const struct gen_world *w, struct kz_addr a)
{
	for (unsigned i = 0; i < w->ndark; i++)
		if (kz_cidr_contains(&w->dark[i], a))
			return true;
	return false;
}

int gen_world_reserve(struct gen_world *w, uint32_t count, uint32_t *base)
{
	if (count > w->pool_size - w->pool_reserved)
		return -ENOSPC;
	*base = w->pool_reserved;
	w->pool_reserved += count;
	return 0;
}

/* A keyed bijection of [0, 2^bits), bits even: four Feistel rounds whose
 * round function is a multiply-xorshift hash of the key, round and half. */
static uint64_t feistel(uint64_t x, unsigned bits, uint64_t key)
{
	unsigned h = bits / 2;
	uint64_t mask = ((uint64_t)1 << h) - 1;
	uint64_t l = x >> h, r = x & mask;
	for (uint64_t round = 0; round < 4; round++) {
		uint64_t f = (r + key + round * 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
		f ^= f >> 29;
		f *= 0x94d049bb133111ebULL;
		f ^= f >> 32;
		uint64_t nl = r;
		r = (l ^ f) & mask;
		l = nl;
	}
	return l << h | r;
}

/* The pos-th address of the pool, counting through its ranges in order. */
static struct kz_addr pool_at(const struct gen_world *w, uint32_t pos)
{
	for (unsigned i = 0; i < w->npool; i++) {
		if (pos < w->pool[i].size)
			return kz_addr_from_v4(w->pool[i].first + pos);
		pos -= w->pool[i].size;
	}
	return kz_addr_from_v4(w->pool[0].first);
}

struct kz_addr gen_world_source4(const struct gen_world *w, uint32_t i)
{
	/* Cycle walking: apply the permutation of the enclosing power of two
	 * until the value falls inside the pool; this stays a bijection. */
	uint64_t x = i;
	do
		x = feistel(x, w->perm_bits, w->perm_key);
	while (x >= w->pool_size);
	return pool_at(w, (uint32_t)x);
}

struct kz_addr gen_world_pool_any(const struct gen_world *w, uint64_t r)
{
	return pool_at(w, (uint32_t)(((kz_u128)r * w->pool_size) >> 64));
}

struct kz_addr gen_world_source6(const struct gen_world *w, unsigned as_idx, uint64_t ordinal,
                                 uint64_t iid)
{
	struct kz_addr a = w->v6src.base;
	unsigned as_shift = 128 - w->v6_as_len;
	a.v |= (kz_u128)(as_idx & 15u) << as_shift;
	/* The bits between the AS share and the interface id number the
	 * site; the ordinal keeps two sources of one population apart. */
	unsigned site_bits = 64 - w->v6_as_len;
	a.v |= (kz_u128)(ordinal & (((uint64_t)1 << site_bits) - 1)) << 64;
	a.v |= iid;
	return a;
}

unsigned gen_world_asn(const struct gen_world *w, struct kz_addr a, uint32_t asn[2])
{
	if (kz_addr_is_v4(a)) {
		uint32_t v = kz_addr_v4(a);
		/* The multi-origin /24 is more specific than its /20: it wins. */
		if ((v & 0xffffff00u) == MOAS_FIRST) {
			asn[0] = GEN_AS_FIRST + 14;
			asn[1] = GEN_AS_FIRST + 15;
			return 2;
		}
		if (v - as_space4.first < as_space4.size) {
			asn[0] = GEN_AS_FIRST + ((v - as_space4.first) >> 12);
			return 1;
		}
		return 0;
	}
	if (kz_cidr_contains(&w->v6src, a)) {
		asn[0] = GEN_AS_FIRST + (unsigned)((a.v >> (128 - w->v6_as_len)) & 15u);
		return 1;
	}
	return 0;
}

int gen_world_write_pfx2as(const struct gen_world *w, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		int rc = -errno;
		kz_err("%s: cannot create: %s", path, strerror(errno));
		return rc;
	}
	/* The sixteen /20s, the multi-origin /24, then the IPv6 shares. */
	char buf[KZ_ADDR_STRLEN];
	for (unsigned i = 0; i < GEN_AS_COUNT; i++)
		fprintf(f, "%s\t20\t%u\n",
		        kz_addr_format(kz_addr_from_v4(as_space4.first + (i << 12)), buf),
		        GEN_AS_FIRST + i);
	fprintf(f, "%s\t24\t%u_%u\n", kz_addr_format(kz_addr_from_v4(MOAS_FIRST), buf),
	        GEN_AS_FIRST + 14, GEN_AS_FIRST + 15);
	for (unsigned i = 0; i < GEN_AS_COUNT; i++) {
		struct kz_addr a = w->v6src.base;
		a.v |= (kz_u128)i << (128 - w->v6_as_len);
		fprintf(f, "%s\t%u\t%u\n", kz_addr_format(a, buf), w->v6_as_len, GEN_AS_FIRST + i);
	}
	if (fclose(f) != 0) {
		int rc = -errno;
		kz_err("%s: write failed: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}
