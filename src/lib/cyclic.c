/*
 * The cyclic-group permutation (cyclic.h has the design). What is here is
 * the number theory: modular arithmetic on 64-bit moduli with 128-bit
 * products, a deterministic Miller-Rabin test, Pollard-Brent factoring of
 * p - 1 (needed to test a primitive root), and the seed recipe of version
 * cyclic-v1.
 */
#include "cyclic.h"

#include <errno.h>
#include <stddef.h>

#include "siphash.h"

typedef kz_u128 u128;

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	return (uint64_t)(((u128)a * b) % m);
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
	uint64_t r = 1 % m;
	b %= m;
	while (e) {
		if (e & 1)
			r = mulmod(r, b, m);
		b = mulmod(b, b, m);
		e >>= 1;
	}
	return r;
}

/* One Miller-Rabin round: false when base a proves n (odd, > 2) composite. */
static bool mr_round(uint64_t n, uint64_t a, uint64_t d, unsigned r)
{
	uint64_t x = powmod(a, d, n);
	if (x == 1 || x == n - 1)
		return true;
	for (unsigned i = 1; i < r; i++) {
		x = mulmod(x, x, n);
		if (x == n - 1)
			return true;
	}
	return false;
}

bool kz_cyclic_is_prime(uint64_t n)
{
	/* These twelve bases decide primality for every n below 3.3e24
	 * (Sorenson and Webster, 2015), so for all 64-bit n. */
	static const uint64_t bases[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };
	if (n < 2)
		return false;
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		if (n == bases[i])
			return true;
		if (n % bases[i] == 0)
			return false;
	}
	uint64_t d = n - 1;
	unsigned r = 0;
	while ((d & 1) == 0) {
		d >>= 1;
		r++;
	}
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
		if (!mr_round(n, bases[i], d, r))
			return false;
	return true;
}

uint64_t kz_cyclic_next_prime(uint64_t n)
{
	for (uint64_t c = n + 1; c > n; c++)
		if (kz_cyclic_is_prime(c))
			return c;
	return 0;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* A non-trivial factor of n (odd, composite, not a prime power of a small
 * prime) by Brent's variant of Pollard's rho, trying polynomials x^2 + c
 * for c = 1, 2, ... until one splits n. */
static uint64_t rho_factor(uint64_t n)
{
	for (uint64_t c = 1;; c++) {
		uint64_t y = 2, x = 2, q = 1, g = 1, ys = 2;
		uint64_t r = 1;
		const uint64_t m = 128;
		while (g == 1) {
			x = y;
			for (uint64_t i = 0; i < r; i++)
				y = (mulmod(y, y, n) + c) % n;
			for (uint64_t k = 0; k < r && g == 1; k += m) {
				ys = y;
				for (uint64_t i = 0; i < m && i < r - k; i++) {
					y = (mulmod(y, y, n) + c) % n;
					q = mulmod(q, x > y ? x - y : y - x, n);
				}
				g = gcd(q, n);
			}
			r <<= 1;
		}
		if (g == n) {
			/* The batch overshot: step back one at a time. */
			do {
				ys = (mulmod(ys, ys, n) + c) % n;
				g = gcd(x > ys ? x - ys : ys - x, n);
			} while (g == 1);
		}
		if (g != n)
			return g;
	}
}

/* At most 15 distinct primes divide a 64-bit number (the product of the
 * first 16 primes exceeds 2^64). */
#define MAX_FACTORS 16

static void add_factor(uint64_t *f, size_t *nf, uint64_t q)
{
	for (size_t i = 0; i < *nf; i++)
		if (f[i] == q)
			return;
	if (*nf < MAX_FACTORS)
		f[(*nf)++] = q;
}

/* Collects the distinct prime factors of n into f. */
static void factor(uint64_t n, uint64_t *f, size_t *nf)
{
	/* Small primes by trial division first: cheap, and rho is poor at
	 * them. */
	for (uint64_t q = 2; q < 1000 && q * q <= n; q += (q == 2 ? 1 : 2)) {
		if (n % q == 0) {
			add_factor(f, nf, q);
			while (n % q == 0)
				n /= q;
		}
	}
	if (n == 1)
		return;
	/* What is left has no factor below 1000. An explicit stack instead of
	 * recursion: at most 64 pieces, since each split halves at least. */
	uint64_t stack[64];
	size_t top = 0;
	stack[top++] = n;
	while (top) {
		uint64_t m = stack[--top];
		if (m == 1)
			continue;
		if (kz_cyclic_is_prime(m)) {
			add_factor(f, nf, m);
			continue;
		}
		uint64_t d = rho_factor(m);
		stack[top++] = d;
		stack[top++] = m / d;
	}
}

bool kz_cyclic_is_primitive_root(uint64_t g, uint64_t p)
{
	if (p == 2)
		return g % 2 == 1;
	g %= p;
	if (g == 0)
		return false;
	uint64_t f[MAX_FACTORS];
	size_t nf = 0;
	factor(p - 1, f, &nf);
	for (size_t i = 0; i < nf; i++)
		if (powmod(g, (p - 1) / f[i], p) == 1)
			return false;
	return true;
}

int kz_cyclic_init(struct kz_cyclic *c, uint64_t n, uint64_t seed)
{
	if (n == 0 || n > KZ_CYCLIC_MAX_N)
		return -ERANGE;
	uint64_t p = kz_cyclic_next_prime(n);
	struct kz_siphash_key key;
	/* "cyclicv1" read as a little-endian word. */
	key.k0 = seed;
	key.k1 = UINT64_C(0x317663696c637963);

	uint64_t g = 1;
	if (p > 2) {
		uint64_t f[MAX_FACTORS];
		size_t nf = 0;
		factor(p - 1, f, &nf);
		/* About phi(p-1)/(p-1) of the candidates are primitive roots,
		 * never less than a few per cent for 64-bit p, so this ends
		 * within a few dozen draws. */
		for (uint64_t j = 0;; j++) {
			g = 2 + kz_siphash24_u64x2(&key, 1, j) % (p - 2);
			bool ok = true;
			for (size_t i = 0; i < nf && ok; i++)
				ok = powmod(g, (p - 1) / f[i], p) != 1;
			if (ok)
				break;
		}
	}
	c->n = n;
	c->p = p;
	c->g = g;
	c->start = 1 + kz_siphash24_u64x2(&key, 2, 0) % (p - 1);
	return 0;
}

/* The first exponent of shard i of k over p - 1 exponents. */
static uint64_t shard_begin(uint64_t p, uint64_t i, uint64_t k)
{
	return (uint64_t)((u128)(p - 1) * i / k);
}

int kz_cyclic_shard(const struct kz_cyclic *c, uint64_t shard, uint64_t shards,
                    struct kz_cyclic_iter *it)
{
	if (shards == 0 || shard >= shards)
		return -EINVAL;
	uint64_t lo = shard_begin(c->p, shard, shards);
	uint64_t hi = shard_begin(c->p, shard + 1, shards);
	it->n = c->n;
	it->p = c->p;
	it->g = c->g;
	it->cur = mulmod(c->start, powmod(c->g, lo, c->p), c->p);
	it->left = hi - lo;
	return 0;
}

uint64_t kz_cyclic_shard_estimate(const struct kz_cyclic *c, uint64_t shard, uint64_t shards)
{
	if (shards == 0 || shard >= shards)
		return 0;
	if (shards == 1)
		return c->n;
	uint64_t exps = shard_begin(c->p, shard + 1, shards) - shard_begin(c->p, shard, shards);
	return (uint64_t)((u128)exps * c->n / (c->p - 1));
}
