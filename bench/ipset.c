/*
 * The two per-target costs of the survey's scope: kz_ipset_contains (what
 * kz_scope_allows does before every packet) and kz_ipset_nth (one per target
 * the permutation yields), on sets of 1 to 1,000,000 random IPv4 ranges.
 * Lookups are half hits, half misses, drawn in advance so the timing holds
 * only the call. Prints one line per set size: ranges, ns per contains,
 * ns per nth.
 *
 * usage: kizuki-bench-ipset [LOOKUPS]   (default 10,000,000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ipset.h"

static uint64_t rng = 0x853c49e6748fea9bu;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t lookups = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000000;
	struct kz_addr *probe = malloc(lookups * sizeof *probe);
	kz_u128 *index = malloc(lookups * sizeof *index);
	if (!probe || !index || lookups == 0)
		return 1;
	printf("# kizuki-bench-ipset %zu: ns per call, random IPv4 ranges\n", lookups);
	printf("%10s %12s %12s\n", "ranges", "contains", "nth");
	fflush(stdout);
	volatile uint64_t sink = 0;
	for (size_t ranges = 1; ranges <= 1000000; ranges *= 10) {
		/* Random ranges of 1 to 256 addresses; overlaps merge, so the
		 * set ends up with slightly fewer ranges than drawn. */
		struct kz_addr_range *r = malloc(ranges * sizeof *r);
		struct kz_ipset *s;
		if (!r)
			return 1;
		for (size_t i = 0; i < ranges; i++) {
			uint32_t f = (uint32_t)rnd();
			uint32_t len = (uint32_t)(rnd() % 256) + 1;
			uint32_t l = f > UINT32_MAX - len ? UINT32_MAX : f + len - 1;
			r[i].first = kz_addr_from_v4(f);
			r[i].last = kz_addr_from_v4(l);
		}
		if (kz_ipset_from_ranges(r, ranges, &s))
			return 1;
		free(r);
		kz_u128 size = kz_ipset_size(s);
		for (size_t i = 0; i < lookups; i++) {
			index[i] = (kz_u128)(rnd() % (uint64_t)size);
			if (i % 2 == 0 && kz_ipset_nth(s, index[i], &probe[i]) == 0)
				continue;
			probe[i] = kz_addr_from_v4((uint32_t)rnd());
		}
		double t0 = now();
		for (size_t i = 0; i < lookups; i++)
			sink += kz_ipset_contains(s, probe[i]);
		double t1 = now();
		for (size_t i = 0; i < lookups; i++) {
			struct kz_addr a;
			if (kz_ipset_nth(s, index[i], &a) == 0)
				sink += (uint64_t)a.v;
		}
		double t2 = now();
		printf("%10zu %12.1f %12.1f\n", kz_ipset_range_count(s),
		       (t1 - t0) * 1e9 / (double)lookups, (t2 - t1) * 1e9 / (double)lookups);
		kz_ipset_free(s);
	}
	free(probe);
	free(index);
	return sink == 42 ? 2 : 0;
}
