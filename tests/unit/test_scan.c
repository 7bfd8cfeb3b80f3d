/*
 * A survey run without the network: the dry run visits every (address,
 * port) of the scope exactly once and nothing outside it or in the exclude
 * list; shards of one seed partition the targets; and SYN-mode reply
 * handling (kz_scan_receive) reports an open port once, counts a closed
 * one, and rejects a wrong ack and a reply from outside the scope even when
 * its cookies are right.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan.h"
#include "scope.h"
#include "synprobe.h"

static char dir[64];

static void write_file(const char *name, const char *text, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct kz_scope *load(const char *scope, const char *exclude)
{
	char sp[128], ep[128];
	write_file("scope", scope, sp, sizeof sp);
	struct kz_scope_config cfg = { .scope_path = sp, .allow_reserved = true };
	if (exclude) {
		write_file("exclude", exclude, ep, sizeof ep);
		cfg.exclude_path = ep;
	}
	struct kz_scope *s;
	assert_int_equal(kz_scope_load(&cfg, &s), 0);
	return s;
}

static void no_hit(void *ctx, const struct kz_scan_hit *hit)
{
	(void)ctx;
	(void)hit;
}

static const uint16_t PORTS[] = { 23, 80 };

static struct kz_scan *make(const struct kz_scope *scope, enum kz_scan_mode mode, uint64_t shard,
                            uint64_t shards, kz_scan_hit_fn *fn, void *ctx)
{
	struct kz_scan_config c = {
		.scope = scope,
		.ports = PORTS,
		.nports = 2,
		.mode = mode,
		.rate = 1000,
		.probes = 1,
		.cooldown_ms = 1000,
		.seed = 4242,
		.shard = shard,
		.shards = shards,
		.key = { 7, 7, 7 },
		.sport_first = 32768,
		.sport_last = 61000,
		.has_source = true,
		.source = kz_addr_from_v4(0x7f000001),
		.on_hit = fn,
		.ctx = ctx,
	};
	struct kz_scan *s;
	assert_int_equal(kz_scan_new(&c, &s), 0);
	return s;
}

/* Targets seen by a dry run, as counts per (address offset, port index). */
struct seen {
	uint32_t base, span;
	uint8_t *count; /* span x 2 */
	unsigned total, outside;
};

static int on_probe(void *ctx, const struct kz_scan_probe *p)
{
	struct seen *s = ctx;
	uint32_t a = kz_addr_v4(p->addr);
	if (!kz_addr_is_v4(p->addr) || a < s->base || a - s->base >= s->span) {
		s->outside++;
		return 0;
	}
	size_t pi = p->port == 23 ? 0 : 1;
	s->count[(a - s->base) * 2 + pi]++;
	s->total++;
	return 0;
}

static void test_dry_run_and_shards(void **state)
{
	(void)state;
	/* 198.18.0.0/24 and 198.18.1.0/28, minus the upper half of the /24. */
	struct kz_scope *scope = load("198.18.0.0/24\n198.18.1.0/28\n", "198.18.0.128/25\n");
	struct seen all = { .base = 0xc6120000, .span = 512 };
	all.count = calloc(512 * 2, 1);
	assert_non_null(all.count);
	struct kz_scan *s = make(scope, KZ_SCAN_CONNECT, 0, 1, no_hit, NULL);
	assert_int_equal(kz_scan_plan(s)->targets, (128 + 16) * 2);
	assert_int_equal(kz_scan_dry_run(s, on_probe, &all), 0);
	kz_scan_free(s);
	assert_int_equal(all.outside, 0);
	assert_int_equal(all.total, (128 + 16) * 2);
	for (uint32_t i = 0; i < 512; i++) {
		bool in = i < 128 || (i >= 256 && i < 256 + 16);
		assert_int_equal(all.count[2 * i], in);
		assert_int_equal(all.count[2 * i + 1], in);
	}
	/* Shards 0..3 of 4, one seed: together exactly the same, once each. */
	struct seen parts = { .base = 0xc6120000, .span = 512 };
	parts.count = calloc(512 * 2, 1);
	assert_non_null(parts.count);
	for (uint64_t i = 0; i < 4; i++) {
		s = make(scope, KZ_SCAN_CONNECT, i, 4, no_hit, NULL);
		assert_int_equal(kz_scan_dry_run(s, on_probe, &parts), 0);
		kz_scan_free(s);
	}
	assert_memory_equal(parts.count, all.count, 512 * 2);
	free(all.count);
	free(parts.count);
	kz_scope_free(scope);
}

/* Cookies of the dry run, to answer the probes with. */
struct cookies {
	struct kz_scan_probe p[64];
	size_t n;
};

static int keep_probe(void *ctx, const struct kz_scan_probe *p)
{
	struct cookies *c = ctx;
	assert_true(p->has_cookie);
	if (c->n < 64)
		c->p[c->n++] = *p;
	return 0;
}

static const struct kz_scan_probe *find(const struct cookies *c, uint32_t addr, uint16_t port)
{
	for (size_t i = 0; i < c->n; i++)
		if (kz_addr_v4(c->p[i].addr) == addr && c->p[i].port == port)
			return &c->p[i];
	fail_msg("no probe for %08x:%u", addr, port);
	return NULL;
}

static size_t reply(uint8_t *f, uint32_t src, uint16_t sport, uint16_t dport, uint8_t flags,
                    uint32_t ack)
{
	memset(f, 0, 64);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *tcp = f + 34;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = 6;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(0x7f000001 >> (24 - 8 * i));
		tcp[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[12] = 0x50;
	tcp[13] = flags;
	return 54;
}

struct hits {
	unsigned n;
	struct kz_scan_hit last;
};

static void count_hit(void *ctx, const struct kz_scan_hit *hit)
{
	struct hits *h = ctx;
	h->n++;
	h->last = *hit;
}

static void test_receive(void **state)
{
	(void)state;
	struct kz_scope *small = load("127.0.0.0/29\n", NULL); /* .0 - .7 */
	struct kz_scope *large = load("127.0.0.0/28\n", NULL); /* .0 - .15 */
	struct hits h = { 0 };
	struct kz_scan *s = make(small, KZ_SCAN_SYN, 0, 1, count_hit, &h);
	struct kz_scan *other = make(large, KZ_SCAN_SYN, 0, 1, no_hit, NULL);
	assert_int_equal(kz_scan_resolve(s, false), 0);
	assert_int_equal(kz_scan_resolve(other, false), 0);
	struct cookies cs = { .n = 0 }, co = { .n = 0 };
	assert_int_equal(kz_scan_dry_run(s, keep_probe, &cs), 0);
	assert_int_equal(kz_scan_dry_run(other, keep_probe, &co), 0);
	assert_int_equal(cs.n, 16);
	assert_int_equal(co.n, 32);

	uint8_t f[64];
	const struct kz_scan_probe *p = find(&cs, 0x7f000005, 23);
	/* An open port, answered twice: one hit. */
	kz_scan_receive(s, f, reply(f, 0x7f000005, 23, p->sport, 0x12, p->seq + 1));
	kz_scan_receive(s, f, reply(f, 0x7f000005, 23, p->sport, 0x12, p->seq + 1));
	assert_int_equal(h.n, 1);
	assert_int_equal(kz_addr_v4(h.last.addr), 0x7f000005);
	assert_int_equal(h.last.port, 23);
	assert_int_equal(h.last.port_index, 0);
	/* A closed port. */
	p = find(&cs, 0x7f000006, 80);
	kz_scan_receive(s, f, reply(f, 0x7f000006, 80, p->sport, 0x14, p->seq + 1));
	/* A wrong ack. */
	p = find(&cs, 0x7f000007, 80);
	kz_scan_receive(s, f, reply(f, 0x7f000007, 80, p->sport, 0x12, p->seq + 2));
	/* Outside the scope, with the cookies right: the same key made the
	 * larger scan's probes. */
	p = find(&co, 0x7f000009, 23);
	kz_scan_receive(s, f, reply(f, 0x7f000009, 23, p->sport, 0x12, p->seq + 1));
	assert_int_equal(h.n, 1);
	/* Not even a frame. */
	kz_scan_receive(s, f, 10);

	struct kz_scan_stats st;
	kz_scan_stats(s, &st);
	assert_int_equal(st.open, 1);
	assert_int_equal(st.closed, 1);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.replies, 3);
	assert_int_equal(st.outside_scope, 1);
	assert_int_equal(st.unmatched, 2);
	assert_int_equal(st.answered, 2);
	kz_scan_free(s);
	kz_scan_free(other);
	kz_scope_free(small);
	kz_scope_free(large);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct kz_scope *scope = load("198.18.0.0/24\n", NULL);
	struct kz_scan_config c = {
		.scope = scope,
		.ports = PORTS,
		.nports = 2,
		.rate = 10,
		.probes = 1,
		.cooldown_ms = 10,
		.shards = 1,
		.sport_first = 1000,
		.sport_last = 2000,
		.on_hit = no_hit,
	};
	struct kz_scan *s;
	c.shard = 1;
	assert_int_equal(kz_scan_new(&c, &s), -EINVAL);
	c.shard = 0;
	c.probes = 0;
	assert_int_equal(kz_scan_new(&c, &s), -EINVAL);
	c.probes = 1;
	c.rate = 0;
	assert_int_equal(kz_scan_new(&c, &s), -EINVAL);
	c.rate = 10;
	uint16_t twice[] = { 23, 23 };
	c.ports = twice;
	assert_int_equal(kz_scan_new(&c, &s), -EINVAL);
	c.ports = PORTS;
	assert_int_equal(kz_scan_new(&c, &s), 0);
	kz_scan_free(s);
	kz_scope_free(scope);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/kz-test-scan-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char p[128];
	snprintf(p, sizeof p, "%s/scope", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/exclude", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dry_run_and_shards),
		cmocka_unit_test(test_receive),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
