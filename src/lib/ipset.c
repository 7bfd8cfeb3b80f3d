/*
 * Address sets as sorted range lists.
 *
 * Layout: three parallel arrays of n entries. first[i] and last[i] bound
 * range i; cum[i] is the number of addresses in ranges 0..i-1 (an exclusive
 * prefix sum). The invariants, kept by every function that writes:
 *   first[i] <= last[i],  last[i] + 1 < first[i + 1]  (disjoint and not even
 *   touching, so the list is canonical: one set, one list),
 *   cum[0] = 0,  cum[i + 1] = cum[i] + last[i] - first[i] + 1.
 * cum[i] never overflows: ranges 0..i-1 leave out at least range i, so they
 * hold at most 2^128 - 1 addresses. Only the size of the whole set can reach
 * 2^128, and that is where the saturation lives.
 *
 * Why parallel arrays: membership is a binary search over first[] alone, so
 * its last probes land in one or two cache lines; nth is a binary search over
 * cum[] alone. A tree or a bitmap would cost more memory for scope lists of
 * thousands of ranges, and these lists are built once and then only read.
 */
#include "ipset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct kz_ipset {
	kz_u128 *first;
	kz_u128 *last;
	kz_u128 *cum;
	size_t n;
	size_t cap;
};

int kz_ipset_new(struct kz_ipset **out)
{
	struct kz_ipset *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

void kz_ipset_free(struct kz_ipset *s)
{
	if (!s)
		return;
	free(s->first);
	free(s->last);
	free(s->cum);
	free(s);
}

/* Makes room for at least want ranges. The arrays grow one after the other;
 * if a later one fails the earlier ones are merely larger than cap says,
 * which is harmless, so the set stays valid on every path. */
static int reserve(struct kz_ipset *s, size_t want)
{
	if (want <= s->cap)
		return 0;
	if (want > KZ_IPSET_MAX_RANGES)
		return -E2BIG;
	size_t cap = s->cap ? s->cap : 16;
	while (cap < want)
		cap *= 2;
	if (cap > KZ_IPSET_MAX_RANGES)
		cap = KZ_IPSET_MAX_RANGES;
	kz_u128 **arrays[] = { &s->first, &s->last, &s->cum };
	for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++) {
		kz_u128 *p = reallocarray(*arrays[k], cap, sizeof(kz_u128));
		if (!p)
			return -ENOMEM;
		*arrays[k] = p;
	}
	s->cap = cap;
	return 0;
}

int kz_ipset_clone(const struct kz_ipset *s, struct kz_ipset **out)
{
	struct kz_ipset *c;
	int rc = kz_ipset_new(&c);
	if (rc)
		return rc;
	rc = reserve(c, s->n);
	if (rc) {
		kz_ipset_free(c);
		return rc;
	}
	if (s->n) {
		memcpy(c->first, s->first, s->n * sizeof(kz_u128));
		memcpy(c->last, s->last, s->n * sizeof(kz_u128));
		memcpy(c->cum, s->cum, s->n * sizeof(kz_u128));
	}
	c->n = s->n;
	*out = c;
	return 0;
}

/* The number of entries of the ascending array v[0..n) that are <= x. */
static size_t count_le(const kz_u128 *v, size_t n, kz_u128 x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Recomputes the prefix sums from range i on. */
static void fix_cum(struct kz_ipset *s, size_t i)
{
	if (i == 0 && s->n > 0) {
		s->cum[0] = 0;
		i = 1;
	}
	for (; i < s->n; i++)
		s->cum[i] = s->cum[i - 1] + (s->last[i - 1] - s->first[i - 1]) + 1;
}

int kz_ipset_add_range(struct kz_ipset *s, struct kz_addr first, struct kz_addr last,
                       bool *overlapped)
{
	kz_u128 f = first.v, l = last.v;
	if (f > l)
		return -EINVAL;
	/* Ranges lo..hi-1 overlap or touch [f, l]: lo is the first range whose
	 * end reaches f - 1, hi is past the last range that starts by l + 1.
	 * The edge cases f = 0 and l = KZ_U128_MAX have no neighbour there. */
	size_t lo = f >= 2 ? count_le(s->last, s->n, f - 2) : 0;
	size_t hi = l == KZ_U128_MAX ? s->n : count_le(s->first, s->n, l + 1);
	bool hit = false;
	if (lo == hi) {
		int rc = reserve(s, s->n + 1);
		if (rc)
			return rc;
		size_t tail = s->n - lo;
		memmove(s->first + lo + 1, s->first + lo, tail * sizeof(kz_u128));
		memmove(s->last + lo + 1, s->last + lo, tail * sizeof(kz_u128));
		s->first[lo] = f;
		s->last[lo] = l;
		s->n++;
	} else {
		for (size_t i = lo; i < hi && !hit; i++)
			hit = s->first[i] <= l && s->last[i] >= f;
		kz_u128 nf = s->first[lo] < f ? s->first[lo] : f;
		kz_u128 nl = s->last[hi - 1] > l ? s->last[hi - 1] : l;
		size_t tail = s->n - hi;
		s->first[lo] = nf;
		s->last[lo] = nl;
		memmove(s->first + lo + 1, s->first + hi, tail * sizeof(kz_u128));
		memmove(s->last + lo + 1, s->last + hi, tail * sizeof(kz_u128));
		s->n -= hi - lo - 1;
	}
	fix_cum(s, lo);
	if (overlapped)
		*overlapped = hit;
	return 0;
}

int kz_ipset_add_cidr(struct kz_ipset *s, const struct kz_cidr *c, bool *overlapped)
{
	return kz_ipset_add_range(s, kz_cidr_first(c), kz_cidr_last(c), overlapped);
}

/* Appends [f, l] to a set being built in ascending order of f, merging with
 * the last range when they overlap or touch. */
static int push(struct kz_ipset *s, kz_u128 f, kz_u128 l)
{
	if (s->n > 0) {
		kz_u128 *end = &s->last[s->n - 1];
		if (*end == KZ_U128_MAX || f <= *end + 1) {
			if (l > *end)
				*end = l;
			return 0;
		}
	}
	int rc = reserve(s, s->n + 1);
	if (rc)
		return rc;
	s->first[s->n] = f;
	s->last[s->n] = l;
	s->cum[s->n] =
	        s->n == 0 ? 0 : s->cum[s->n - 1] + (s->last[s->n - 1] - s->first[s->n - 1]) + 1;
	s->n++;
	return 0;
}

static int by_first(const void *pa, const void *pb)
{
	const struct kz_addr_range *a = pa, *b = pb;
	return kz_addr_cmp(a->first, b->first);
}

int kz_ipset_from_ranges(struct kz_addr_range *r, size_t n, struct kz_ipset **out)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].first.v > r[i].last.v)
			return -EINVAL;
	struct kz_ipset *s;
	int rc = kz_ipset_new(&s);
	if (rc)
		return rc;
	if (n > 0)
		qsort(r, n, sizeof r[0], by_first);
	for (size_t i = 0; i < n; i++) {
		rc = push(s, r[i].first.v, r[i].last.v);
		if (rc) {
			kz_ipset_free(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

int kz_ipset_union(const struct kz_ipset *a, const struct kz_ipset *b, struct kz_ipset **out)
{
	struct kz_ipset *r;
	int rc = kz_ipset_new(&r);
	if (rc)
		return rc;
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		if (j == b->n || (i < a->n && a->first[i] <= b->first[j])) {
			rc = push(r, a->first[i], a->last[i]);
			i++;
		} else {
			rc = push(r, b->first[j], b->last[j]);
			j++;
		}
		if (rc)
			goto fail;
	}
	*out = r;
	return 0;
fail:
	kz_ipset_free(r);
	return rc;
}

int kz_ipset_difference(const struct kz_ipset *a, const struct kz_ipset *b, struct kz_ipset **out)
{
	struct kz_ipset *r;
	int rc = kz_ipset_new(&r);
	if (rc)
		return rc;
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		kz_u128 cur = a->first[i], end = a->last[i];
		bool gone = false;
		while (j < b->n && b->last[j] < cur)
			j++;
		/* Cut every range of b that starts inside [cur, end] out of it.
		 * j stays put: the loop above skips what this one used up, and a
		 * range of b that runs past end is needed by the next range of a. */
		for (size_t k = j; k < b->n && b->first[k] <= end; k++) {
			if (b->first[k] > cur) {
				rc = push(r, cur, b->first[k] - 1);
				if (rc)
					goto fail;
			}
			if (b->last[k] >= end) {
				gone = true;
				break;
			}
			cur = b->last[k] + 1;
		}
		if (!gone) {
			rc = push(r, cur, end);
			if (rc)
				goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	kz_ipset_free(r);
	return rc;
}

int kz_ipset_intersection(const struct kz_ipset *a, const struct kz_ipset *b, struct kz_ipset **out)
{
	struct kz_ipset *r;
	int rc = kz_ipset_new(&r);
	if (rc)
		return rc;
	size_t i = 0, j = 0;
	while (i < a->n && j < b->n) {
		kz_u128 f = a->first[i] > b->first[j] ? a->first[i] : b->first[j];
		kz_u128 l = a->last[i] < b->last[j] ? a->last[i] : b->last[j];
		if (f <= l) {
			rc = push(r, f, l);
			if (rc)
				goto fail;
		}
		if (a->last[i] < b->last[j])
			i++;
		else
			j++;
	}
	*out = r;
	return 0;
fail:
	kz_ipset_free(r);
	return rc;
}

/* The index of the last entry of the ascending v[0..n) that is <= x, given
 * n >= 1 and v[0] <= x. The hot-path search of contains and nth: its loop
 * has no exit but the count, so it compiles to a conditional move instead of
 * an unpredictable branch, and it fetches both places the next step may
 * probe while this step's compare waits on memory. */
static inline size_t last_le(const kz_u128 *v, size_t n, kz_u128 x)
{
	const kz_u128 *base = v;
	while (n > 1) {
		size_t half = n / 2;
		__builtin_prefetch(base + (n - half) / 2);
		__builtin_prefetch(base + half + (n - half) / 2);
		base = base[half] <= x ? base + half : base;
		n -= half;
	}
	return (size_t)(base - v);
}

bool kz_ipset_contains(const struct kz_ipset *s, struct kz_addr a)
{
	if (s->n == 0 || a.v < s->first[0])
		return false;
	return a.v <= s->last[last_le(s->first, s->n, a.v)];
}

kz_u128 kz_ipset_size(const struct kz_ipset *s)
{
	if (s->n == 0)
		return 0;
	size_t i = s->n - 1;
	/* The size minus one cannot overflow; the size can, for the full set. */
	kz_u128 less = s->cum[i] + (s->last[i] - s->first[i]);
	return less == KZ_U128_MAX ? KZ_U128_MAX : less + 1;
}

bool kz_ipset_empty(const struct kz_ipset *s)
{
	return s->n == 0;
}

size_t kz_ipset_range_count(const struct kz_ipset *s)
{
	return s->n;
}

struct kz_addr_range kz_ipset_range(const struct kz_ipset *s, size_t i)
{
	struct kz_addr_range r = { { s->first[i] }, { s->last[i] } };
	return r;
}

int kz_ipset_nth(const struct kz_ipset *s, kz_u128 i, struct kz_addr *out)
{
	if (s->n == 0)
		return -ERANGE;
	/* The range holding index i is the last one whose prefix sum is <= i;
	 * cum[0] = 0, so there is always one. */
	size_t r = last_le(s->cum, s->n, i);
	kz_u128 off = i - s->cum[r];
	if (off > s->last[r] - s->first[r])
		return -ERANGE;
	out->v = s->first[r] + off;
	return 0;
}

/* The number of addresses of the set below x; at most 2^128 - 1. */
static kz_u128 count_below(const struct kz_ipset *s, kz_u128 x)
{
	size_t k = count_le(s->first, s->n, x);
	if (k == 0)
		return 0;
	size_t r = k - 1;
	if (x <= s->last[r])
		return s->cum[r] + (x - s->first[r]);
	return s->cum[r] + (s->last[r] - s->first[r]) + 1;
}

kz_u128 kz_ipset_count_in(const struct kz_ipset *s, struct kz_addr first, struct kz_addr last)
{
	if (first.v > last.v)
		return 0;
	kz_u128 below = count_below(s, last.v) - count_below(s, first.v);
	if (!kz_ipset_contains(s, last))
		return below;
	return below == KZ_U128_MAX ? KZ_U128_MAX : below + 1;
}

bool kz_ipset_first_in(const struct kz_ipset *s, struct kz_addr first, struct kz_addr last,
                       struct kz_addr *out)
{
	if (first.v > last.v)
		return false;
	size_t k = count_le(s->first, s->n, first.v);
	if (k > 0 && s->last[k - 1] >= first.v) {
		*out = first;
		return true;
	}
	if (k < s->n && s->first[k] <= last.v) {
		out->v = s->first[k];
		return true;
	}
	return false;
}

bool kz_ipset_equal(const struct kz_ipset *a, const struct kz_ipset *b)
{
	/* The list is canonical, so equal sets have equal lists. */
	if (a->n != b->n)
		return false;
	return a->n == 0 || (memcmp(a->first, b->first, a->n * sizeof(kz_u128)) == 0 &&
	                     memcmp(a->last, b->last, a->n * sizeof(kz_u128)) == 0);
}

int kz_ipset_digest(const struct kz_ipset *s, uint8_t out[KZ_IPSET_DIGEST_LEN])
{
	/* Ranges are serialised 128 at a time to keep the number of update
	 * calls small for long lists. */
	uint8_t buf[128 * 32];
	int rc = -ENOMEM;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto fail;
	size_t used = 0;
	for (size_t i = 0; i < s->n; i++) {
		kz_addr_to_bytes((struct kz_addr){ s->first[i] }, buf + used);
		kz_addr_to_bytes((struct kz_addr){ s->last[i] }, buf + used + 16);
		used += 32;
		if (used == sizeof buf || i + 1 == s->n) {
			if (EVP_DigestUpdate(ctx, buf, used) != 1)
				goto fail;
			used = 0;
		}
	}
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != KZ_IPSET_DIGEST_LEN)
		goto fail;
	rc = 0;
fail:
	EVP_MD_CTX_free(ctx);
	return rc;
}

char *kz_u128_format(kz_u128 v, char *buf)
{
	char tmp[KZ_U128_STRLEN];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return buf;
}
