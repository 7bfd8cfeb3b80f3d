/*
 * HyperLogLog with a sparse form at a 25-bit hash prefix and a dense form
 * of one byte per register (see hll.h for the choices, docs/hll.md for the
 * wire format).
 *
 * Invariants:
 *  - dense exactly when regs != NULL; then entries == NULL and n == 0;
 *  - sparse: entries[0..n) strictly increasing by 25-bit index, each entry
 *    index << 6 | rank with rank in 1..40; sparse_bytes is the length of
 *    their encoding (docs/hll.md) and never exceeds 3m/4; n <= m/4;
 *  - a dense register holds the maximum rank seen, 0..65-p.
 * A sparse entry keeps more of the hash than a register does, so folding
 * it into a register (entry_fold) gives the register the hash would have
 * set directly; that is what makes sparse and dense sketches merge exactly.
 */
#include "hll.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "siphash.h"

#define VERSION     1
#define HEADER      3 /* version, p, form */
#define FORM_SPARSE 0
#define FORM_DENSE  1

#define SPARSE_P        25
#define SPARSE_Q        (64 - SPARSE_P)
#define SPARSE_RANK_MAX (SPARSE_Q + 1)
#define RANK_BITS       6
#define RANK_MASK       ((1u << RANK_BITS) - 1)

/* 1 / (2 ln 2): the limit of HyperLogLog's bias constant for large m. */
#define ALPHA_INF 0.721347520444481703680

struct kz_hll {
	uint8_t *regs;     /* m registers when dense, else NULL */
	uint32_t *entries; /* sparse entries, sorted */
	uint32_t n, cap;
	size_t sparse_bytes;
	unsigned p;
};

static uint32_t reg_count(unsigned p)
{
	return UINT32_C(1) << p;
}

static size_t dense_body_len(unsigned p)
{
	return (size_t)reg_count(p) * 6 / 8;
}

static uint32_t entry_index(uint32_t e)
{
	return e >> RANK_BITS;
}

static unsigned entry_rank(uint32_t e)
{
	return e & RANK_MASK;
}

/* The top 25 bits of the hash index the entry; the rank is one more than
 * the number of leading zeros in the other 39 bits. */
static uint32_t entry_from_hash(uint64_t hash)
{
	uint64_t rest = hash << SPARSE_P;
	unsigned rank = rest ? (unsigned)__builtin_clzll(rest) + 1 : SPARSE_RANK_MAX;
	return (uint32_t)(hash >> SPARSE_Q) << RANK_BITS | rank;
}

/* The number that encodes entry e after an entry of index prev. */
static uint64_t entry_value(uint32_t prev, uint32_t e)
{
	return (uint64_t)(entry_index(e) - prev) << RANK_BITS | entry_rank(e);
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Both limits grow with the set of entries and never shrink, which keeps the
 * form independent of insertion order (hll.h). */
static bool sparse_over(unsigned p, uint32_t n, size_t bytes)
{
	return n > reg_count(p) / 4 || bytes > dense_body_len(p);
}

/* Sets the register an entry's hash belongs to. Its index's low 25 - p bits
 * are the first bits after the register index: when any is set, they decide
 * the rank; when all are zero the entry's own rank continues the count. */
static void entry_fold(uint8_t *regs, unsigned p, uint32_t e)
{
	unsigned shift = SPARSE_P - p;
	uint32_t idx = entry_index(e);
	uint32_t reg = idx >> shift;
	uint32_t w = idx & ((UINT32_C(1) << shift) - 1);
	unsigned rank = w ? shift - (32 - (unsigned)__builtin_clz(w)) + 1 : shift + entry_rank(e);
	if (rank > regs[reg])
		regs[reg] = (uint8_t)rank;
}

static void dense_add(struct kz_hll *h, uint64_t hash)
{
	uint32_t reg = (uint32_t)(hash >> (64 - h->p));
	uint64_t rest = hash << h->p;
	unsigned rank = rest ? (unsigned)__builtin_clzll(rest) + 1 : 65 - h->p;
	if (rank > h->regs[reg])
		h->regs[reg] = (uint8_t)rank;
}

/* Folds the sparse entries into new registers. On -ENOMEM nothing changed. */
static int to_dense(struct kz_hll *h)
{
	uint8_t *regs = calloc(reg_count(h->p), 1);
	if (!regs)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->n; i++)
		entry_fold(regs, h->p, h->entries[i]);
	free(h->entries);
	h->entries = NULL;
	h->n = h->cap = 0;
	h->sparse_bytes = 0;
	h->regs = regs;
	return 0;
}

/* Adds one entry in whichever form the sketch is, turning it dense when the
 * entry would take the sparse form over its limits. */
static int add_entry(struct kz_hll *h, uint32_t e)
{
	if (h->regs) {
		entry_fold(h->regs, h->p, e);
		return 0;
	}
	uint32_t idx = entry_index(e), lo = 0, hi = h->n;
	/* Entries added in index order (the telescope's sorted queue) go
	 * after the last one: no search. */
	if (hi && entry_index(h->entries[hi - 1]) < idx)
		lo = hi;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (entry_index(h->entries[mid]) < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < h->n && entry_index(h->entries[lo]) == idx) {
		/* Same index, higher rank: the encoded length is unchanged, as a
		 * rank only fills the low 6 bits below a nonzero gap (or is the
		 * whole one-byte value when the gap is zero). */
		if (entry_rank(e) > entry_rank(h->entries[lo]))
			h->entries[lo] = e;
		return 0;
	}
	uint32_t prev = lo ? entry_index(h->entries[lo - 1]) : 0;
	size_t bytes = h->sparse_bytes + varint_len(entry_value(prev, e));
	if (lo < h->n) {
		/* The next entry's gap is now counted from the new one. */
		bytes += varint_len(entry_value(idx, h->entries[lo]));
		bytes -= varint_len(entry_value(prev, h->entries[lo]));
	}
	if (sparse_over(h->p, h->n + 1, bytes)) {
		int rc = to_dense(h);
		if (rc)
			return rc;
		entry_fold(h->regs, h->p, e);
		return 0;
	}
	if (h->n == h->cap) {
		/* Never more than m/4 entries: sparse_over refused above. */
		uint32_t cap = h->cap ? h->cap * 2 : 4;
		if (cap > reg_count(h->p) / 4)
			cap = reg_count(h->p) / 4;
		uint32_t *grown = reallocarray(h->entries, cap, sizeof *grown);
		if (!grown)
			return -ENOMEM;
		h->entries = grown;
		h->cap = cap;
	}
	memmove(h->entries + lo + 1, h->entries + lo, (h->n - lo) * sizeof *h->entries);
	h->entries[lo] = e;
	h->n++;
	h->sparse_bytes = bytes;
	return 0;
}

int kz_hll_new(unsigned p, struct kz_hll **out)
{
	if (p < KZ_HLL_P_MIN || p > KZ_HLL_P_MAX)
		return -EINVAL;
	struct kz_hll *h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	h->p = p;
	*out = h;
	return 0;
}

void kz_hll_free(struct kz_hll *h)
{
	if (!h)
		return;
	free(h->regs);
	free(h->entries);
	free(h);
}

int kz_hll_clone(const struct kz_hll *h, struct kz_hll **out)
{
	*out = NULL;
	struct kz_hll *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->p = h->p;
	if (h->regs) {
		c->regs = malloc(reg_count(h->p));
		if (!c->regs)
			goto fail;
		memcpy(c->regs, h->regs, reg_count(h->p));
	} else if (h->n) {
		/* Exactly the entries: the copy only grows if added to. */
		c->entries = malloc((size_t)h->n * sizeof *c->entries);
		if (!c->entries)
			goto fail;
		memcpy(c->entries, h->entries, (size_t)h->n * sizeof *c->entries);
		c->n = c->cap = h->n;
		c->sparse_bytes = h->sparse_bytes;
	}
	*out = c;
	return 0;
fail:
	kz_hll_free(c);
	return -ENOMEM;
}

void kz_hll_clear(struct kz_hll *h)
{
	free(h->regs);
	h->regs = NULL;
	/* The entry array is kept: a per-interval sketch refills it soon. */
	h->n = 0;
	h->sparse_bytes = 0;
}

int kz_hll_add_hash(struct kz_hll *h, uint64_t hash)
{
	if (h->regs) {
		dense_add(h, hash);
		return 0;
	}
	return add_entry(h, entry_from_hash(hash));
}

uint64_t kz_hll_hash_addr(struct kz_addr a)
{
	/* The public key of docs/hll.md: the 16 ASCII bytes "kizuki HLL key 1". */
	static const uint8_t key[KZ_SIPHASH_KEYLEN] = { 'k', 'i', 'z', 'u', 'k', 'i', ' ', 'H',
		                                        'L', 'L', ' ', 'k', 'e', 'y', ' ', '1' };
	struct kz_siphash_key k;
	kz_siphash_key_load(&k, key);
	return kz_siphash24_addr(&k, a);
}

int kz_hll_add_addr(struct kz_hll *h, struct kz_addr a)
{
	return kz_hll_add_hash(h, kz_hll_hash_addr(a));
}

/* Ertl's sigma and tau (2017, algorithm 6): series for the contributions of
 * the registers still at zero and of those at the maximum rank. */
static double ertl_sigma(double x)
{
	if (x == 1.0)
		return INFINITY;
	double y = 1.0, z = x, prev;
	do {
		x *= x;
		prev = z;
		z += x * y;
		y += y;
	} while (z != prev);
	return z;
}

static double ertl_tau(double x)
{
	if (x == 0.0 || x == 1.0)
		return 0.0;
	double y = 1.0, z = 1.0 - x, prev;
	do {
		x = sqrt(x);
		prev = z;
		y *= 0.5;
		z -= (1.0 - x) * (1.0 - x) * y;
	} while (z != prev);
	return z / 3.0;
}

static double dense_estimate(const struct kz_hll *h)
{
	uint32_t hist[64] = { 0 };
	uint32_t m = reg_count(h->p);
	unsigned q = 64 - h->p;
	for (uint32_t i = 0; i < m; i++)
		hist[h->regs[i]]++;
	double md = (double)m;
	double z = md * ertl_tau(1.0 - hist[q + 1] / md);
	for (unsigned k = q; k >= 1; k--)
		z = 0.5 * (z + hist[k]);
	z += md * ertl_sigma(hist[0] / md);
	/* z is 0 only when every register is at the maximum rank: a sketch
	 * that has seen about 2^64 hashes, or a forged one. */
	return ALPHA_INF * md * md / z;
}

double kz_hll_estimate(const struct kz_hll *h)
{
	if (h->regs)
		return dense_estimate(h);
	if (h->n == 0)
		return 0.0;
	/* Linear counting over the 2^25 sparse buckets: n of them are taken. */
	double buckets = (double)(UINT32_C(1) << SPARSE_P);
	return -buckets * log1p(-(double)h->n / buckets);
}

uint64_t kz_hll_count(const struct kz_hll *h)
{
	double r = floor(kz_hll_estimate(h) + 0.5);
	/* Saturate rather than convert an out-of-range double (undefined). */
	if (!(r < 0x1p64))
		return UINT64_MAX;
	return (uint64_t)r;
}

int kz_hll_merge(struct kz_hll *dst, const struct kz_hll *src)
{
	if (dst->p != src->p)
		return -EINVAL;
	if (dst == src)
		return 0;
	if (src->regs) {
		if (!dst->regs) {
			int rc = to_dense(dst);
			if (rc)
				return rc;
		}
		for (uint32_t i = 0; i < reg_count(dst->p); i++)
			if (src->regs[i] > dst->regs[i])
				dst->regs[i] = src->regs[i];
		return 0;
	}
	if (dst->regs) {
		for (uint32_t i = 0; i < src->n; i++)
			entry_fold(dst->regs, dst->p, src->entries[i]);
		return 0;
	}
	if (src->n == 0)
		return 0;
	/* Both sparse: one pass merging the sorted lists, measuring the union's
	 * encoding as it goes, then keep it sparse or fold it. */
	uint32_t *u = reallocarray(NULL, (size_t)dst->n + src->n, sizeof *u);
	if (!u)
		return -ENOMEM;
	uint32_t i = 0, j = 0, n = 0, prev = 0;
	size_t bytes = 0;
	while (i < dst->n || j < src->n) {
		uint32_t e;
		if (j == src->n ||
		    (i < dst->n && entry_index(dst->entries[i]) < entry_index(src->entries[j]))) {
			e = dst->entries[i++];
		} else if (i == dst->n ||
		           entry_index(src->entries[j]) < entry_index(dst->entries[i])) {
			e = src->entries[j++];
		} else {
			e = entry_rank(dst->entries[i]) >= entry_rank(src->entries[j])
			            ? dst->entries[i]
			            : src->entries[j];
			i++;
			j++;
		}
		bytes += varint_len(entry_value(prev, e));
		prev = entry_index(e);
		u[n++] = e;
	}
	if (sparse_over(dst->p, n, bytes)) {
		uint8_t *regs = calloc(reg_count(dst->p), 1);
		if (!regs) {
			free(u);
			return -ENOMEM;
		}
		for (uint32_t k = 0; k < n; k++)
			entry_fold(regs, dst->p, u[k]);
		free(u);
		free(dst->entries);
		dst->entries = NULL;
		dst->n = dst->cap = 0;
		dst->sparse_bytes = 0;
		dst->regs = regs;
		return 0;
	}
	free(dst->entries);
	dst->entries = u;
	dst->n = dst->cap = n;
	dst->sparse_bytes = bytes;
	return 0;
}

unsigned kz_hll_precision(const struct kz_hll *h)
{
	return h->p;
}

bool kz_hll_is_sparse(const struct kz_hll *h)
{
	return h->regs == NULL;
}

size_t kz_hll_memory(const struct kz_hll *h)
{
	return sizeof *h + (h->regs ? reg_count(h->p) : (size_t)h->cap * sizeof *h->entries);
}

size_t kz_hll_serialized_size(const struct kz_hll *h)
{
	return HEADER + (h->regs ? dense_body_len(h->p) : h->sparse_bytes);
}

void kz_hll_serialize(const struct kz_hll *h, uint8_t *out)
{
	out[0] = VERSION;
	out[1] = (uint8_t)h->p;
	out[2] = h->regs ? FORM_DENSE : FORM_SPARSE;
	uint8_t *o = out + HEADER;
	if (h->regs) {
		/* Four 6-bit registers to three bytes, first register highest. */
		for (uint32_t i = 0; i < reg_count(h->p); i += 4) {
			uint32_t v = (uint32_t)h->regs[i] << 18 | (uint32_t)h->regs[i + 1] << 12 |
			             (uint32_t)h->regs[i + 2] << 6 | h->regs[i + 3];
			*o++ = (uint8_t)(v >> 16);
			*o++ = (uint8_t)(v >> 8);
			*o++ = (uint8_t)v;
		}
		return;
	}
	uint32_t prev = 0;
	for (uint32_t i = 0; i < h->n; i++) {
		uint64_t v = entry_value(prev, h->entries[i]);
		prev = entry_index(h->entries[i]);
		while (v >= 0x80) {
			*o++ = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		*o++ = (uint8_t)v;
	}
}

static int parse_dense(struct kz_hll *h, const uint8_t *body, size_t len, const char **why)
{
	if (len != dense_body_len(h->p)) {
		*why = "dense registers of the wrong length for the precision";
		return -EINVAL;
	}
	h->regs = calloc(reg_count(h->p), 1);
	if (!h->regs)
		return -ENOMEM;
	unsigned max = 65 - h->p;
	for (uint32_t i = 0; i < reg_count(h->p); i += 4) {
		const uint8_t *b = body + i / 4 * 3;
		uint32_t v = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
		for (unsigned k = 0; k < 4; k++) {
			unsigned r = (v >> (18 - 6 * k)) & 63;
			if (r > max) {
				*why = "dense register above 65 - p";
				return -EINVAL;
			}
			h->regs[i + k] = (uint8_t)r;
		}
	}
	return 0;
}

/* Entries are read one at a time and added as if hashed here, so an encoder
 * that stayed sparse past kizuki's limits still yields kizuki's sketch. */
static int parse_sparse(struct kz_hll *h, const uint8_t *body, size_t len, const char **why)
{
	size_t pos = 0;
	uint64_t prev = 0;
	bool first = true;
	while (pos < len) {
		uint64_t v = 0;
		unsigned shift = 0;
		for (;;) {
			if (pos == len) {
				*why = "sparse entry cut short";
				return -EINVAL;
			}
			if (shift == 35) {
				*why = "sparse entry longer than 5 bytes";
				return -EINVAL;
			}
			uint8_t b = body[pos++];
			v |= (uint64_t)(b & 0x7f) << shift;
			shift += 7;
			if (!(b & 0x80)) {
				if (b == 0 && shift > 7) {
					*why = "sparse entry not minimally encoded";
					return -EINVAL;
				}
				break;
			}
		}
		unsigned rank = (unsigned)(v & RANK_MASK);
		uint64_t gap = v >> RANK_BITS;
		if (rank < 1 || rank > SPARSE_RANK_MAX) {
			*why = "sparse rank outside 1..40";
			return -EINVAL;
		}
		if (!first && gap == 0) {
			*why = "sparse indices not strictly increasing";
			return -EINVAL;
		}
		uint64_t idx = prev + gap;
		if (idx >> SPARSE_P) {
			*why = "sparse index beyond 2^25 - 1";
			return -EINVAL;
		}
		int rc = add_entry(h, (uint32_t)idx << RANK_BITS | rank);
		if (rc)
			return rc;
		prev = idx;
		first = false;
	}
	return 0;
}

int kz_hll_from_bytes(const uint8_t *data, size_t len, struct kz_hll **out, const char **why)
{
	if (len < HEADER) {
		*why = "shorter than its 3-byte header";
		return -EINVAL;
	}
	if (data[0] != VERSION) {
		*why = "unsupported version (this reader knows version 1)";
		return -EINVAL;
	}
	if (data[1] < KZ_HLL_P_MIN || data[1] > KZ_HLL_P_MAX) {
		*why = "precision outside 4..18";
		return -EINVAL;
	}
	if (data[2] != FORM_SPARSE && data[2] != FORM_DENSE) {
		*why = "unknown form (0 is sparse, 1 is dense)";
		return -EINVAL;
	}
	struct kz_hll *h;
	int rc = kz_hll_new(data[1], &h);
	if (rc)
		return rc;
	if (data[2] == FORM_DENSE)
		rc = parse_dense(h, data + HEADER, len - HEADER, why);
	else
		rc = parse_sparse(h, data + HEADER, len - HEADER, why);
	if (rc) {
		if (rc == -ENOMEM)
			*why = "out of memory";
		kz_hll_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

int kz_hll_to_base64(const struct kz_hll *h, char **text, size_t *len)
{
	size_t n = kz_hll_serialized_size(h);
	uint8_t *raw = malloc(n);
	char *t = malloc(kz_base64_encoded_size(n));
	if (!raw || !t) {
		free(raw);
		free(t);
		return -ENOMEM;
	}
	kz_hll_serialize(h, raw);
	*len = kz_base64_encode(raw, n, t);
	free(raw);
	*text = t;
	return 0;
}

int kz_hll_from_base64(const char *text, size_t len, struct kz_hll **out, const char **why)
{
	/* Check the length before allocating: the text comes from the network. */
	if (len > KZ_HLL_BASE64_MAX) {
		*why = "longer than any sketch";
		return -EINVAL;
	}
	if (len % 4 != 0) {
		*why = "not base64: length not a multiple of 4";
		return -EINVAL;
	}
	uint8_t *raw = malloc(len / 4 * 3 + 1);
	if (!raw) {
		*why = "out of memory";
		return -ENOMEM;
	}
	long n = kz_base64_decode(text, len, raw);
	int rc;
	if (n < 0) {
		*why = "not base64: a character outside RFC 4648's alphabet or misplaced padding";
		rc = -EINVAL;
	} else {
		rc = kz_hll_from_bytes(raw, (size_t)n, out, why);
	}
	free(raw);
	return rc;
}
