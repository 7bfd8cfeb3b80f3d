/*
 * kizuki-bench-prefix: the prefix table against a plain sorted array with
 * binary search, in one run, on one synthetic table (REFERENCE.md's
 * benchmark definition).
 *
 * The table is shaped like a RouteViews IPv4 table: 60 % /24s, the rest
 * spread over /8../23 with most at /22 and /23. Some prefixes are placed
 * inside shorter ones (deaggregation and delegation), /24s also come in runs
 * of neighbours, and stand-alone prefixes go where nothing covers them yet;
 * with the default seed about 60 % of the prefixes end up inside another
 * (our choice: enough that nesting is the common case, as in real tables).
 * About 70 k origin ASes are picked with a skew (a few announce much),
 * nested prefixes often keep their parent's origin, and about 0.6 % of the
 * lines are multi-origin (`_`) or AS sets (`,`). It is written as a pfx2as file in
 * a temporary directory (sorted, as CAIDA writes them), then each structure
 * is measured in its own child process so that its peak RSS is its own:
 * load time from the file, and lookups per second over the same addresses,
 * half inside routed space (a random prefix, a random address in it) and
 * half uniformly random. Everything is seeded: two runs measure the same
 * work. The results of the two structures are compared address by address.
 *
 * The baseline is written here and is what one would write first: the
 * prefixes sorted by (start, length), each with the index of its nearest
 * enclosing prefix; a lookup binary-searches the last start <= address and
 * climbs enclosing prefixes until one covers it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pfx.h"

#define NONE32 UINT32_MAX

struct opts {
	size_t prefixes;
	size_t lookups;
	unsigned runs;
	uint64_t seed;
	bool keep;
};

/* A benchmark has no way on without memory: stop with a message. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "kizuki-bench-prefix: out of memory\n");
		exit(1);
	}
	return p;
}

/* ---- Deterministic randomness ---- */

static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15u); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static double rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* ---- The synthetic table ---- */

struct gen_pfx {
	uint32_t base;
	uint8_t len;
	uint32_t origin; /* index into the origin texts */
};

/* Our weights for /8../23 (per 100 k non-/24 prefixes), shaped after the
 * length histogram of public RouteViews tables: few short prefixes, a bump
 * at /16, most at /22 and /23. */
static const double len_weight[24] = {
	[8] = 4,      [9] = 3,      [10] = 9,     [11] = 25,    [12] = 75,   [13] = 150,
	[14] = 300,   [15] = 500,   [16] = 3300,  [17] = 2000,  [18] = 3300, [19] = 6300,
	[20] = 11400, [21] = 14000, [22] = 30500, [23] = 28100,
};

struct set {
	uint64_t *slots; /* base << 8 | len, plus one; 0 = empty */
	size_t mask;
};

static bool set_add(struct set *s, uint32_t base, uint8_t len)
{
	uint64_t key = ((uint64_t)base << 8 | len) + 1;
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15u) >> 20) & s->mask;
	while (s->slots[h]) {
		if (s->slots[h] == key)
			return false;
		h = (h + 1) & s->mask;
	}
	s->slots[h] = key;
	return true;
}

/* A unicast address outside 0/8, 10/8, 127/8 and 224/3. */
static uint32_t rnd_unicast(void)
{
	for (;;) {
		uint32_t a = (uint32_t)rnd();
		unsigned top = a >> 24;
		if (top != 0 && top != 10 && top != 127 && top < 224)
			return a;
	}
}

static uint32_t mask_of(unsigned len)
{
	return len ? ~0u << (32 - len) : 0;
}

static int cmp_gen(const void *a, const void *b)
{
	const struct gen_pfx *x = a, *y = b;
	if (x->base != y->base)
		return x->base < y->base ? -1 : 1;
	return (x->len > y->len) - (x->len < y->len);
}

/* Fills p[n] and the origin texts; returns the number of distinct origin
 * ASes used. */
static void generate(struct gen_pfx *p, size_t n, char (*origins)[32], size_t norigin_pool,
                     size_t *norigins)
{
	size_t nshort = n * 4 / 10, i = 0;
	size_t nslots = (size_t)1 << 22;
	while (nslots < 2 * n)
		nslots *= 2;
	struct set set = { xmalloc(nslots * sizeof *set.slots), nslots - 1 };
	memset(set.slots, 0, nslots * sizeof *set.slots);
	double total = 0;
	for (unsigned l = 8; l < 24; l++)
		total += len_weight[l];
	/* The origin pool: 2-byte-looking and 4-byte-looking AS numbers. */
	uint32_t *asn = xmalloc(norigin_pool * sizeof *asn);
	for (size_t k = 0; k < norigin_pool; k++)
		asn[k] = k < norigin_pool * 7 / 10 ? (uint32_t)(1 + k) : (uint32_t)(131072 + 3 * k);
	size_t ntexts = 0;
	/* Which /24s some prefix already covers, one bit each. */
	uint64_t *covered = xmalloc(((size_t)1 << 24) / 8);
	memset(covered, 0, ((size_t)1 << 24) / 8);

	/* Shorter prefixes first, so that a more-specific can pick its parent
	 * from those already made. */
	for (unsigned l = 8; l <= 24; l++) {
		size_t want =
		        l < 24 ? (size_t)((double)nshort * len_weight[l] / total + 0.5) : n - i;
		if (l < 24 && i + want > nshort)
			want = nshort - i;
		size_t first_of_len = i;
		for (size_t made = 0; made < want;) {
			double r = rnd_unit();
			uint32_t base;
			uint32_t parent = NONE32;
			if (i > 0 && r < (l == 24 ? 0.35 : 0.25)) {
				/* A more-specific inside an existing shorter prefix. */
				size_t k = (size_t)(rnd() % (first_of_len ? first_of_len : 1));
				if (first_of_len == 0)
					continue;
				base = (p[k].base | ((uint32_t)rnd() & ~mask_of(p[k].len))) &
				       mask_of(l);
				parent = (uint32_t)k;
			} else if (l == 24 && made > 0 && r < 0.75) {
				/* A neighbour of another /24: runs of customer blocks. */
				size_t k = first_of_len + (size_t)(rnd() % made);
				int step = (int)(rnd() % 33) - 16;
				base = p[k].base + (uint32_t)(step * 256);
				if ((base >> 24) == 0 || (base >> 24) >= 224)
					continue;
			} else {
				/* A stand-alone prefix: only where nothing covers it yet,
				 * or random placement would nest most of the table. */
				base = rnd_unicast() & mask_of(l);
				if (covered[base >> 14] >> (base >> 8 & 63) & 1)
					continue;
			}
			if (!set_add(&set, base, (uint8_t)l))
				continue;
			for (uint32_t b = base >> 8, e = b + (1u << (24 - l)); b < e; b++)
				covered[b >> 6] |= 1ull << (b & 63);
			uint32_t o;
			if (parent != NONE32 && rnd_unit() < 0.6) {
				o = p[parent].origin;
			} else {
				/* u^2 skews toward the first ASes of the pool. */
				double u = rnd_unit();
				size_t a = (size_t)(u * u * (double)norigin_pool);
				double m = rnd_unit();
				if (m < 0.005)
					snprintf(origins[ntexts], 32, "%u_%u", asn[a],
					         asn[rnd() % norigin_pool]);
				else if (m < 0.0055)
					snprintf(origins[ntexts], 32, "%u,%u", asn[a],
					         asn[rnd() % norigin_pool]);
				else if (m < 0.006)
					snprintf(origins[ntexts], 32, "%u_%u,%u", asn[a],
					         asn[rnd() % norigin_pool],
					         asn[rnd() % norigin_pool]);
				else
					snprintf(origins[ntexts], 32, "%u", asn[a]);
				o = (uint32_t)ntexts++;
			}
			p[i++] = (struct gen_pfx){ .base = base, .len = (uint8_t)l, .origin = o };
			made++;
		}
	}
	*norigins = ntexts;
	free(covered);
	free(set.slots);
	free(asn);
}

static int write_table(const char *path, const struct gen_pfx *p, size_t n, char (*origins)[32])
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		uint32_t b = p[i].base;
		fprintf(f, "%u.%u.%u.%u\t%u\t%s\n", b >> 24, b >> 16 & 255, b >> 8 & 255, b & 255,
		        p[i].len, origins[p[i].origin]);
	}
	return fclose(f) == 0 ? 0 : -errno;
}

/* ---- The baseline: a sorted array and binary search ---- */

struct sorted {
	uint32_t *start;  /* sorted by (start, length) */
	uint32_t *end;    /* last address */
	uint32_t *parent; /* nearest enclosing prefix, or NONE32 */
	uint8_t *len;
	uint32_t *as_off; /* AS field, into text */
	char *text;       /* the file, kept for the AS fields */
	size_t n;
};

struct sorted_tmp {
	uint32_t start;
	uint8_t len;
	uint32_t as_off;
};

static int cmp_tmp(const void *a, const void *b)
{
	const struct sorted_tmp *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->len > y->len) - (x->len < y->len);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (sz < 0) {
		fclose(f);
		return NULL;
	}
	char *buf = xmalloc((size_t)sz + 1);
	if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[sz] = '\0';
	*len = (size_t)sz;
	return buf;
}

/* Loads IPv4 lines of a pfx2as file; no validation beyond what it needs. */
static int sorted_load(const char *path, struct sorted *s)
{
	size_t len;
	char *text = slurp(path, &len);
	if (!text)
		return -errno;
	size_t cap = 1024, n = 0;
	struct sorted_tmp *tmp = xmalloc(cap * sizeof *tmp);
	char *p = text;
	while (*p) {
		unsigned o[4], l;
		char *q = p;
		for (int k = 0; k < 4; k++) {
			o[k] = (unsigned)strtoul(q, &q, 10);
			q++;
		}
		l = (unsigned)strtoul(q, &q, 10);
		q++;
		char *nl = strchr(q, '\n');
		if (!nl)
			nl = q + strlen(q);
		if (n == cap) {
			tmp = realloc(tmp, (cap *= 2) * sizeof *tmp);
			if (!tmp)
				return -ENOMEM;
		}
		tmp[n++] = (struct sorted_tmp){ .start = o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3],
			                        .len = (uint8_t)l,
			                        .as_off = (uint32_t)(q - text) };
		p = *nl ? nl + 1 : nl;
		*nl = '\0';
	}
	bool is_sorted = true;
	for (size_t i = 1; i < n && is_sorted; i++)
		is_sorted = cmp_tmp(&tmp[i - 1], &tmp[i]) <= 0;
	if (!is_sorted)
		qsort(tmp, n, sizeof *tmp, cmp_tmp);
	s->n = n;
	s->start = xmalloc(n * sizeof *s->start);
	s->end = xmalloc(n * sizeof *s->end);
	s->parent = xmalloc(n * sizeof *s->parent);
	s->len = xmalloc(n);
	s->as_off = xmalloc(n * sizeof *s->as_off);
	s->text = text;
	uint32_t stack[33];
	size_t depth = 0;
	for (size_t i = 0; i < n; i++) {
		s->start[i] = tmp[i].start;
		s->len[i] = tmp[i].len;
		s->end[i] = tmp[i].start | ~mask_of(tmp[i].len);
		s->as_off[i] = tmp[i].as_off;
		while (depth > 0 && s->end[stack[depth - 1]] < s->start[i])
			depth--;
		s->parent[i] = depth ? stack[depth - 1] : NONE32;
		if (depth < 33)
			stack[depth++] = (uint32_t)i;
	}
	free(tmp);
	return 0;
}

static inline uint32_t sorted_lookup(const struct sorted *s, uint32_t a)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->start[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint32_t i = lo ? (uint32_t)(lo - 1) : NONE32;
	while (i != NONE32 && a > s->end[i])
		i = s->parent[i];
	return i;
}

static void sorted_free(struct sorted *s)
{
	free(s->start);
	free(s->end);
	free(s->parent);
	free(s->len);
	free(s->as_off);
	free(s->text);
}

static size_t sorted_bytes(const struct sorted *s)
{
	return s->n * (4 + 4 + 4 + 1 + 4);
}

/* ---- Measuring ---- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: on a machine shared with other work it counts
 * only the time we ran, which is what "per core" means. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct stamp {
	double wall, cpu;
};

static struct stamp stamp(void)
{
	struct stamp st = { now(), cpu_now() };
	return st;
}

/* Reads a "Vm...:" line of /proc/self/status, in KiB. */
static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, kl) == 0)
			v = strtol(line + kl, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define MAX_RUNS 32

struct series {
	double v[MAX_RUNS];
	unsigned n;
};

static double median(struct series *s)
{
	double tmp[MAX_RUNS];
	memcpy(tmp, s->v, s->n * sizeof *tmp);
	qsort(tmp, s->n, sizeof *tmp, cmp_double);
	return s->n % 2 ? tmp[s->n / 2] : (tmp[s->n / 2 - 1] + tmp[s->n / 2]) / 2;
}

static double smin(const struct series *s)
{
	double m = s->v[0];
	for (unsigned i = 1; i < s->n; i++)
		m = s->v[i] < m ? s->v[i] : m;
	return m;
}

static double smax(const struct series *s)
{
	double m = s->v[0];
	for (unsigned i = 1; i < s->n; i++)
		m = s->v[i] > m ? s->v[i] : m;
	return m;
}

enum which { KZ_SINGLE, KZ_BATCH, KZ_ANY, SORTED, NKINDS };

struct result {
	int ok;
	struct series load_s, load_cpu;
	struct series lps[NKINDS], lps_cpu[NKINDS];
	uint64_t checksum[NKINDS];
	long rss_start_kib, hwm_kib;
	size_t bytes;
	struct kz_pfx_stats stats;
	char version[256];
};

static void record_load(struct result *r, struct stamp t0)
{
	struct stamp t1 = stamp();
	r->load_s.v[r->load_s.n++] = t1.wall - t0.wall;
	r->load_cpu.v[r->load_cpu.n++] = t1.cpu - t0.cpu;
}

static void record_rate(struct result *r, enum which w, size_t n, struct stamp t0, uint64_t sum)
{
	struct stamp t1 = stamp();
	r->lps[w].v[r->lps[w].n++] = (double)n / (t1.wall - t0.wall);
	r->lps_cpu[w].v[r->lps_cpu[w].n++] = (double)n / (t1.cpu - t0.cpu);
	r->checksum[w] = sum;
}

static void measure_kz(const char *path, const uint32_t *addrs, size_t n, unsigned runs,
                       struct result *r)
{
	struct kz_pfx *t = NULL;
	char err[512];
	for (unsigned k = 0; k < runs; k++) {
		struct stamp t0 = stamp();
		if (kz_pfx_load(path, &t, err, sizeof err) != 0) {
			fprintf(stderr, "kizuki-bench-prefix: %s\n", err);
			return;
		}
		record_load(r, t0);
		if (k + 1 < runs)
			kz_pfx_free(t);
	}
	kz_pfx_stats(t, &r->stats);
	snprintf(r->version, sizeof r->version, "%s", kz_pfx_version(t));
	r->bytes = r->stats.bytes;
	uint32_t out[1024];
	for (unsigned k = 0; k < runs; k++) {
		uint64_t sum = 0;
		struct stamp t0 = stamp();
		for (size_t i = 0; i < n; i++)
			sum += kz_pfx_lookup_v4(t, addrs[i]);
		record_rate(r, KZ_SINGLE, n, t0, sum);

		sum = 0;
		t0 = stamp();
		for (size_t i = 0; i < n; i += 1024) {
			size_t m = n - i < 1024 ? n - i : 1024;
			kz_pfx_lookup_v4_batch(t, addrs + i, out, m);
			for (size_t j = 0; j < m; j++)
				sum += out[j];
		}
		record_rate(r, KZ_BATCH, n, t0, sum);

		sum = 0;
		t0 = stamp();
		for (size_t i = 0; i < n; i++)
			sum += kz_pfx_lookup_entry(t, kz_addr_from_v4(addrs[i]));
		record_rate(r, KZ_ANY, n, t0, sum);
	}
	kz_pfx_free(t);
	r->ok = 1;
}

static void measure_sorted(const char *path, const uint32_t *addrs, size_t n, unsigned runs,
                           struct result *r)
{
	struct sorted s;
	for (unsigned k = 0; k < runs; k++) {
		struct stamp t0 = stamp();
		if (sorted_load(path, &s) != 0) {
			fprintf(stderr, "kizuki-bench-prefix: %s: %s\n", path, strerror(errno));
			return;
		}
		record_load(r, t0);
		if (k + 1 < runs)
			sorted_free(&s);
	}
	r->bytes = sorted_bytes(&s);
	for (unsigned k = 0; k < runs; k++) {
		uint64_t sum = 0;
		struct stamp t0 = stamp();
		for (size_t i = 0; i < n; i++)
			sum += sorted_lookup(&s, addrs[i]);
		record_rate(r, SORTED, n, t0, sum);
	}
	sorted_free(&s);
	r->ok = 1;
}

/* Runs one measurement in a child, so that peak RSS is the child's own. */
static int in_child(bool kz, const char *path, const uint32_t *addrs, size_t n, unsigned runs,
                    struct result *r)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(fds[0]);
		struct result res;
		memset(&res, 0, sizeof res);
		res.rss_start_kib = status_kib("VmRSS:");
		if (kz)
			measure_kz(path, addrs, n, runs, &res);
		else
			measure_sorted(path, addrs, n, runs, &res);
		res.hwm_kib = status_kib("VmHWM:");
		ssize_t w = write(fds[1], &res, sizeof res);
		_exit(w == (ssize_t)sizeof res ? 0 : 1);
	}
	close(fds[1]);
	size_t got = 0;
	while (got < sizeof *r) {
		ssize_t k = read(fds[0], (char *)r + got, sizeof *r - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	return got == sizeof *r && r->ok ? 0 : -EIO;
}

/* Compares the two structures' answers, prefix by prefix. */
static size_t cross_check(const char *path, const uint32_t *addrs, size_t n)
{
	struct kz_pfx *t;
	struct sorted s;
	char err[512];
	if (kz_pfx_load(path, &t, err, sizeof err) != 0 || sorted_load(path, &s) != 0)
		return SIZE_MAX;
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		struct kz_pfx_match m;
		uint32_t j = sorted_lookup(&s, addrs[i]);
		bool found = kz_pfx_lookup(t, kz_addr_from_v4(addrs[i]), &m);
		if (found != (j != NONE32) || (found && (kz_addr_v4(m.prefix.base) != s.start[j] ||
		                                         m.prefix.len != s.len[j])))
			bad++;
	}
	kz_pfx_free(t);
	sorted_free(&s);
	return bad;
}

static void cpu_model(char *buf, size_t len)
{
	snprintf(buf, len, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');
			if (c) {
				c += 2;
				c[strcspn(c, "\n")] = '\0';
				snprintf(buf, len, "%s", c);
			}
			break;
		}
	}
	if (f)
		fclose(f);
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: kizuki-bench-prefix [--prefixes N] [--lookups N] [--runs N] [--seed N]\n"
	        "                           [--keep]\n"
	        "  --prefixes N  IPv4 prefixes in the synthetic table (1000000)\n"
	        "  --lookups N   addresses looked up per run (16000000)\n"
	        "  --runs N      runs of each measurement; the median is reported (5)\n"
	        "  --seed N      the generator's seed (1)\n"
	        "  --keep        keep the generated pfx2as file\n");
}

/* One figure: the median over the runs by CPU time, then by wall time. */
static void print_series(const char *what, struct series *cpu, struct series *wall, double scale,
                         const char *unit)
{
	printf("  %-34s %8.1f %s  (min %.1f, max %.1f; wall-clock median %.1f)\n", what,
	       median(cpu) * scale, unit, smin(cpu) * scale, smax(cpu) * scale,
	       median(wall) * scale);
}

int main(int argc, char **argv)
{
	struct opts o = { .prefixes = 1000000, .lookups = 16000000, .runs = 5, .seed = 1 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--keep") == 0) {
			o.keep = true;
			continue;
		}
		if (i + 1 >= argc) {
			usage();
			return 2;
		}
		unsigned long long v = strtoull(argv[++i], NULL, 10);
		if (strcmp(a, "--prefixes") == 0 && v >= 1000 && v <= 16000000)
			o.prefixes = (size_t)v;
		else if (strcmp(a, "--lookups") == 0 && v >= 1)
			o.lookups = (size_t)v;
		else if (strcmp(a, "--runs") == 0 && v >= 1 && v <= MAX_RUNS)
			o.runs = (unsigned)v;
		else if (strcmp(a, "--seed") == 0)
			o.seed = v;
		else {
			usage();
			return 2;
		}
	}

	char cpu[256];
	cpu_model(cpu, sizeof cpu);
	double load1 = 0;
	FILE *la = fopen("/proc/loadavg", "r");
	if (la) {
		if (fscanf(la, "%lf", &load1) != 1)
			load1 = 0;
		fclose(la);
	}
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\nmachine: %s, %ld CPUs online, load average %.2f at start\n", cpu,
	       sysconf(_SC_NPROCESSORS_ONLN), load1);

	rng = o.seed;
	struct gen_pfx *p = xmalloc(o.prefixes * sizeof *p);
	char(*origins)[32] = xmalloc(o.prefixes * sizeof *origins);
	size_t norigins = 0;
	generate(p, o.prefixes, origins, 70000, &norigins);
	qsort(p, o.prefixes, sizeof *p, cmp_gen);

	char dir[] = "/tmp/kizuki-bench-prefix-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("kizuki-bench-prefix: mkdtemp");
		return 1;
	}
	char path[sizeof dir + 32];
	snprintf(path, sizeof path, "%s/synthetic.pfx2as", dir);
	int rc = write_table(path, p, o.prefixes, origins);
	if (rc) {
		fprintf(stderr, "kizuki-bench-prefix: %s: %s\n", path, strerror(-rc));
		return 1;
	}

	/* Half the addresses inside a random prefix, half anywhere. */
	uint32_t *addrs = xmalloc(o.lookups * sizeof *addrs);
	size_t hist[33] = { 0 }, nested = 0;
	uint32_t stack[33];
	size_t depth = 0;
	for (size_t i = 0; i < o.prefixes; i++) {
		hist[p[i].len]++;
		/* In sorted order, a prefix is nested when an open one covers it. */
		uint32_t last = p[i].base | ~mask_of(p[i].len);
		while (depth > 0 && stack[depth - 1] < p[i].base)
			depth--;
		nested += depth > 0;
		if (depth < 33)
			stack[depth++] = last;
	}
	for (size_t i = 0; i < o.lookups; i++) {
		if (rnd() & 1) {
			const struct gen_pfx *g = &p[rnd() % o.prefixes];
			addrs[i] = g->base | ((uint32_t)rnd() & ~mask_of(g->len));
		} else {
			addrs[i] = (uint32_t)rnd();
		}
	}
	free(p);
	free(origins);

	printf("table: %zu IPv4 prefixes, seed %llu: /24 %.1f %%, /8../23 %.1f %%, "
	       "%.1f %% inside another prefix\n",
	       o.prefixes, (unsigned long long)o.seed,
	       100.0 * (double)hist[24] / (double)o.prefixes,
	       100.0 * (double)(o.prefixes - hist[24]) / (double)o.prefixes,
	       100.0 * (double)nested / (double)o.prefixes);
	printf("file: %s (%s)\n", path, o.keep ? "kept" : "removed at the end");
	printf("lookups: %zu addresses per run, half in routed space, half uniformly random\n\n",
	       o.lookups);
	fflush(stdout);

	struct result kz, so;
	memset(&kz, 0, sizeof kz);
	memset(&so, 0, sizeof so);
	if (in_child(true, path, addrs, o.lookups, o.runs, &kz) != 0 ||
	    in_child(false, path, addrs, o.lookups, o.runs, &so) != 0) {
		fprintf(stderr, "kizuki-bench-prefix: a measurement failed\n");
		return 1;
	}
	size_t check_n = o.lookups < 2000000 ? o.lookups : 2000000;
	size_t bad = cross_check(path, addrs, check_n);

	printf("kz_pfx (poptrie), version %s\n", kz.version);
	printf("  prefixes %zu, origins %zu (%zu multi-origin, %zu AS-set prefixes), "
	       "nodes %zu, %.1f MiB\n",
	       kz.stats.prefixes, kz.stats.origins, kz.stats.multi_origin, kz.stats.as_set,
	       kz.stats.nodes, (double)kz.bytes / 1048576.0);
	print_series("load from the file", &kz.load_cpu, &kz.load_s, 1e3, "ms ");
	print_series("kz_pfx_lookup_v4", &kz.lps_cpu[KZ_SINGLE], &kz.lps[KZ_SINGLE], 1e-6, "M/s");
	print_series("kz_pfx_lookup_v4_batch", &kz.lps_cpu[KZ_BATCH], &kz.lps[KZ_BATCH], 1e-6,
	             "M/s");
	print_series("kz_pfx_lookup_entry (any family)", &kz.lps_cpu[KZ_ANY], &kz.lps[KZ_ANY], 1e-6,
	             "M/s");
	printf("  peak RSS %.1f MiB (%.1f MiB above the process at start)\n\n",
	       (double)kz.hwm_kib / 1024.0, (double)(kz.hwm_kib - kz.rss_start_kib) / 1024.0);

	printf("sorted array + binary search (baseline, IPv4 only, no validation)\n");
	printf("  %.1f MiB plus the file text kept for the AS fields\n",
	       (double)so.bytes / 1048576.0);
	print_series("load from the file", &so.load_cpu, &so.load_s, 1e3, "ms ");
	print_series("lookup", &so.lps_cpu[SORTED], &so.lps[SORTED], 1e-6, "M/s");
	printf("  peak RSS %.1f MiB (%.1f MiB above the process at start)\n\n",
	       (double)so.hwm_kib / 1024.0, (double)(so.hwm_kib - so.rss_start_kib) / 1024.0);

	double ratio = median(&kz.lps_cpu[KZ_SINGLE]) / median(&so.lps_cpu[SORTED]);
	double ratio_b = median(&kz.lps_cpu[KZ_BATCH]) / median(&so.lps_cpu[SORTED]);
	printf("ratio kz_pfx / sorted array (CPU time): lookups %.1fx (batch %.1fx), "
	       "load time %.2fx\n",
	       ratio, ratio_b, median(&kz.load_cpu) / median(&so.load_cpu));
	if (bad == SIZE_MAX)
		printf("cross-check: could not load both tables\n");
	else
		printf("cross-check: %zu of %zu addresses differ between the two\n", bad, check_n);
	printf("targets (medians, CPU time): load < 1000 ms: %s; kz_pfx_lookup_v4 >= 50 M/s: %s\n",
	       median(&kz.load_cpu) < 1.0 ? "met" : "NOT met",
	       median(&kz.lps_cpu[KZ_SINGLE]) >= 50e6 ? "met" : "NOT met");

	if (!o.keep) {
		unlink(path);
		rmdir(dir);
	}
	free(addrs);
	return bad == 0 ? 0 : 1;
}
