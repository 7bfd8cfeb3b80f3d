/*
 * The engine end to end on hand-built frames, through a sink that keeps
 * what it is given: interval alignment on the wall clock of packet time;
 * a source's first record, then updates with the same finding id and a
 * new observation id, at most one per interval and at most every update
 * period, with the final counts at the end; DoS victims once per interval
 * with their protocols merged; the darknet filter, decode failures and
 * reordered packets counted; backscatter kept out of the port stats; one
 * and two threads giving the same bytes; a failing sink stopping the run
 * with its reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "telescope.h"

#define S              UINT64_C(1000000000)
#define T0             (UINT64_C(1700000020) * S) /* 40 s into a minute */
#define V4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* ------------------------------------------------------------- a sink */

struct got {
	char *lines[4096];
	struct kz_tevent ev[4096];
	char fid[4096][KZ_ID_STRLEN], oid[4096][KZ_ID_STRLEN];
	int n;
	struct kz_tstats_row rows[1024];
	char proto[1024][8];
	char *sketch[1024]; /* the row's sketch in base64, NULL without one */
	int nrows;
	int64_t done[256];
	struct kz_tinterval ivs[256];
	int ndone;
	int fail_after; /* events accepted before -ENOSPC; < 0: never */
};

static int got_event(void *st, const char *line, size_t len, const struct kz_tevent *ev)
{
	struct got *g = st;
	if (g->fail_after >= 0 && g->n >= g->fail_after)
		return -ENOSPC;
	assert_true(len > 0 && line[len - 1] == '\n');
	g->lines[g->n] = strndup(line, len);
	g->ev[g->n] = *ev;
	snprintf(g->fid[g->n], KZ_ID_STRLEN, "%s", ev->finding_id);
	snprintf(g->oid[g->n], KZ_ID_STRLEN, "%s", ev->observation_id);
	g->n++;
	return 0;
}

static int got_stats(void *st, const struct kz_tstats_row *row)
{
	struct got *g = st;
	g->rows[g->nrows] = *row;
	snprintf(g->proto[g->nrows], 8, "%s", row->proto);
	/* The sketch is only lent for the call. */
	g->rows[g->nrows].hll = NULL;
	if (row->hll) {
		size_t len;
		assert_int_equal(kz_hll_to_base64(row->hll, &g->sketch[g->nrows], &len), 0);
	}
	g->nrows++;
	return 0;
}

static int got_done(void *st, const struct kz_tinterval *iv)
{
	struct got *g = st;
	g->ivs[g->ndone] = *iv;
	g->done[g->ndone++] = iv->start;
	return 0;
}

static const char *got_error(void *st)
{
	(void)st;
	return "the disk is full (test)";
}

static const struct kz_tsink got_sink = {
	.name = "test",
	.event = got_event,
	.stats = got_stats,
	.interval_done = got_done,
	.error = got_error,
};

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->lines[i]);
	for (int i = 0; i < g->nrows; i++)
		free(g->sketch[i]);
	free(g);
}

static struct got *got_new(void)
{
	struct got *g = calloc(1, sizeof *g);
	g->fail_after = -1;
	return g;
}

/* ----------------------------------------------------------- frames */

static int64_t fixed_clock(void)
{
	return 1800000000;
}

static struct kz_telescope *engine(uint32_t interval, uint32_t update, unsigned threads,
                                   struct got *g)
{
	struct kz_cidr dark;
	const char *why;
	assert_int_equal(kz_cidr_parse("198.18.0.0/16", &dark, &why), 0);
	struct kz_telescope_config cfg = {
		.darknet = &dark,
		.ndarknet = 1,
		.sensor = "test-sensor",
		.interval_s = interval,
		.max_sources = 1000,
		.update_s = update,
		.threads = threads,
		.clock = fixed_clock,
	};
	struct kz_telescope *t;
	char err[256];
	assert_int_equal(kz_telescope_new(&cfg, &t, err, sizeof err), 0);
	assert_int_equal(kz_telescope_add_sink(t, &got_sink, g), 0);
	return t;
}

struct pk {
	uint8_t b[64];
	size_t n;
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* A TCP segment over raw IPv4. */
static struct pk tcp(uint32_t src, uint32_t dst, uint8_t ttl, uint16_t id, uint16_t dport,
                     uint8_t flags, uint16_t win)
{
	struct pk p;
	memset(&p, 0, sizeof p);
	p.n = 40;
	p.b[0] = 0x45;
	put16(p.b + 2, 40);
	put16(p.b + 4, id);
	p.b[8] = ttl;
	p.b[9] = 6;
	put32(p.b + 12, src);
	put32(p.b + 16, dst);
	put16(p.b + 20, 40000);
	put16(p.b + 22, dport);
	put32(p.b + 24, 77);
	p.b[32] = 0x50;
	p.b[33] = flags;
	put16(p.b + 34, win);
	return p;
}

static void feed(struct kz_telescope *t, const struct pk *p, uint64_t ts)
{
	struct kz_frame f = { p->b, ts, (uint32_t)p->n, (uint32_t)p->n, KZ_LINKTYPE_RAW, 0 };
	kz_telescope_frame(t, &f);
}

/* A ZMap probe from src to dark address i. */
static void zmap(struct kz_telescope *t, uint32_t src, uint32_t i, uint64_t ts)
{
	struct pk p = tcp(src, V4(198, 18, 0, 0) + i, 250, 54321, 80, 0x02, 65535);
	feed(t, &p, ts);
}

static int count_kind(const struct got *g, enum kz_tevent_kind k, bool first)
{
	int n = 0;
	for (int i = 0; i < g->n; i++)
		n += g->ev[i].kind == k && g->ev[i].first == first;
	return n;
}

/* -------------------------------------------------------------- tests */

static void test_interval_alignment_and_stats(void **state)
{
	(void)state;
	struct got *g = got_new();
	struct kz_telescope *t = engine(60, 60, 1, g);
	/* 40 s into a minute: the first interval is that minute, not one
	 * starting at the first packet. */
	zmap(t, V4(192, 0, 2, 1), 1, T0);
	zmap(t, V4(192, 0, 2, 1), 2, T0 + 20 * S - 1); /* 59.999... s: same minute */
	zmap(t, V4(192, 0, 2, 2), 3, T0 + 20 * S);     /* the next minute */
	zmap(t, V4(192, 0, 2, 2), 4, T0 + 200 * S);    /* two minutes later */
	assert_int_equal(kz_telescope_finish(t), 0);
	assert_int_equal(g->ndone, 4); /* three intervals, then the final sweep */
	assert_int_equal(g->done[0], 1700000020 - 40);
	assert_int_equal(g->done[1], 1700000020 + 20);
	assert_int_equal(g->done[2], 1700000020 + 200);
	assert_int_equal(g->nrows, 3);
	assert_int_equal(g->rows[0].interval_start, 1700000020 - 40);
	assert_int_equal(g->rows[0].interval_len, 60);
	assert_string_equal(g->proto[0], "tcp");
	assert_int_equal(g->rows[0].port, 80);
	assert_int_equal(g->rows[0].packets, 2);
	assert_int_equal(g->rows[0].unique_sources, 1);
	assert_int_equal(g->rows[0].darknet_size, 65536);
	assert_null(g->rows[0].hll); /* only past a few sources */
	assert_int_equal(g->ivs[0].analysed, 2);
	assert_int_equal(g->ivs[0].sources_active, 1);
	assert_int_equal(g->ivs[1].analysed, 1);
	assert_int_equal(g->ivs[2].sources_held, 2);
	assert_false(g->ivs[2].final);
	assert_true(g->ivs[3].final);
	struct kz_telescope_summary s;
	kz_telescope_summary(t, &s);
	assert_int_equal(s.intervals, 3);
	assert_int_equal(s.analysed, 4);
	kz_telescope_free(t);
	got_free(g);
}

static void test_first_record_then_updates(void **state)
{
	(void)state;
	struct got *g = got_new();
	struct kz_telescope *t = engine(60, 60, 1, g);
	uint32_t src = V4(203, 0, 113, 5);
	/* 6 probes in minute 0 (a fingerprint needs 5), then 2 in each of
	 * minutes 1 and 2, none in 3, 1 in 4. */
	uint32_t i = 0;
	for (int k = 0; k < 6; k++)
		zmap(t, src, i++, T0 + (uint64_t)k * S);
	for (int m = 1; m <= 4; m++) {
		if (m == 3)
			continue;
		for (int k = 0; k < (m == 4 ? 1 : 2); k++)
			zmap(t, src, i++, T0 + (uint64_t)(m * 60 + k) * S);
	}
	assert_int_equal(kz_telescope_finish(t), 0);
	assert_int_equal(g->n, 4); /* minutes 0, 1, 2, 4 */
	assert_true(g->ev[0].first);
	for (int k = 0; k < g->n; k++) {
		assert_int_equal(g->ev[k].kind, KZ_TEV_SCANNER);
		assert_string_equal(g->ev[k].identifier, "zmap");
		assert_string_equal(g->fid[k], g->fid[0]);
		if (k)
			assert_false(g->ev[k].first);
		for (int j = 0; j < k; j++)
			assert_string_not_equal(g->oid[j], g->oid[k]);
	}
	/* The last record has the final count; the basis says why. */
	assert_non_null(strstr(g->lines[3], "\"extra.packets\":11,"));
	assert_non_null(strstr(g->lines[0], "zmap: ip.id == 54321, TTL 255, window 65535 in 6 of 6 "
	                                    "SYN packets"));
	assert_non_null(strstr(g->lines[0], "\"time.observation\":\"2027-01-15T08:00:00Z\""));
	kz_telescope_free(t);
	got_free(g);
}

static void test_update_period(void **state)
{
	(void)state;
	struct got *g = got_new();
	/* Updates at most every 3 minutes. */
	struct kz_telescope *t = engine(60, 180, 1, g);
	uint32_t src = V4(203, 0, 113, 6), i = 0;
	for (int m = 0; m < 8; m++)
		for (int k = 0; k < 6; k++)
			zmap(t, src, i++, T0 + (uint64_t)(m * 60 + k) * S);
	/* Silent for an hour, then one more packet (same scan: the /16's
	 * timeout is 5.5 h). */
	zmap(t, src, i++, T0 + 3900 * S);
	assert_int_equal(kz_telescope_finish(t), 0);
	/* Minute 0 (first), 3 and 6 (due), then the final sweep for the
	 * activity after minute 6 (its last packet's minute). */
	assert_int_equal(g->n, 4);
	assert_true(g->ev[0].first);
	assert_int_equal(g->ev[1].interval_start - g->ev[0].interval_start, 180);
	assert_int_equal(g->ev[2].interval_start - g->ev[1].interval_start, 180);
	assert_int_equal(g->ev[3].interval_start, (int64_t)((T0 / S + 3900) / 60 * 60));
	assert_non_null(strstr(g->lines[3], "\"extra.packets\":49,"));
	kz_telescope_free(t);
	got_free(g);
}

static void test_dos_victim_merged(void **state)
{
	(void)state;
	struct got *g = got_new();
	struct kz_telescope *t = engine(60, 60, 1, g);
	uint32_t victim = V4(192, 0, 2, 80);
	/* SYN-ACKs and RSTs (both TCP) plus ICMP echo replies from one
	 * victim, 1 a second for 90 s: one record per minute with both
	 * protocols once the thresholds hold. */
	for (uint32_t k = 0; k < 90; k++) {
		struct pk p = tcp(victim, V4(198, 18, 7, 0) + k, 60, (uint16_t)k,
		                  1024 + (uint16_t)k, k % 2 ? 0x12 : 0x04, 0);
		feed(t, &p, T0 + k * S);
		struct pk q;
		memset(&q, 0, sizeof q);
		q.n = 28;
		q.b[0] = 0x45;
		put16(q.b + 2, 28);
		q.b[8] = 60;
		q.b[9] = 1;
		put32(q.b + 12, victim);
		put32(q.b + 16, V4(198, 18, 8, 0) + k);
		q.b[20] = 0; /* echo reply */
		feed(t, &q, T0 + k * S + S / 2);
	}
	assert_int_equal(kz_telescope_finish(t), 0);
	int dos = 0;
	for (int i = 0; i < g->n; i++) {
		if (g->ev[i].kind != KZ_TEV_DOS)
			continue;
		dos++;
		assert_non_null(strstr(g->lines[i], "\"destination.ip\":\"192.0.2.80\""));
		assert_non_null(strstr(g->lines[i], "\"extra.protocols\":[\"tcp\",\"icmp\"]"));
	}
	/* Minute 0 holds 20 s of it (below 60 s); minutes 1 and 2 qualify. */
	assert_int_equal(dos, 2);
	assert_int_equal(count_kind(g, KZ_TEV_DOS, true), 1);
	/* Backscatter is not in the port stats. */
	assert_int_equal(g->nrows, 0);
	kz_telescope_free(t);
	got_free(g);
}

static void test_filter_and_counters(void **state)
{
	(void)state;
	struct got *g = got_new();
	struct kz_telescope *t = engine(60, 60, 1, g);
	zmap(t, V4(192, 0, 2, 9), 5, T0 + 15 * S);
	struct pk out = tcp(V4(192, 0, 2, 9), V4(10, 0, 0, 1), 250, 54321, 80, 0x02, 65535);
	feed(t, &out, T0 + 16 * S);
	struct pk junk = { .b = { 0x45 }, .n = 3 };
	feed(t, &junk, T0 + 16 * S);
	zmap(t, V4(192, 0, 2, 9), 6, T0 + 10 * S);  /* earlier than the last: fine */
	zmap(t, V4(192, 0, 2, 9), 7, T0 - 100 * S); /* before the open interval */
	assert_int_equal(kz_telescope_finish(t), 0);
	struct kz_telescope_summary s;
	kz_telescope_summary(t, &s);
	assert_int_equal(s.frames, 5);
	assert_int_equal(s.outside, 1);
	assert_int_equal(s.analysed, 3);
	assert_int_equal(s.decode.by_result[KZ_PKT_OK], 4);
	assert_int_equal(s.decode.by_result[KZ_PKT_ERR_TRUNC_IP], 1);
	assert_int_equal(s.reordered, 1);
	assert_int_equal(s.by_class[KZ_TCLASS_PROBE], 3);
	assert_int_equal(s.sources.used, 1);
	kz_telescope_free(t);
	got_free(g);
}

/* A mixed run for the thread comparison: fingerprinted and generic
 * sources, backscatter, over several minutes. */
static void mixed(struct kz_telescope *t)
{
	uint64_t seed = 42;
	for (uint32_t k = 0; k < 20000; k++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t r = (uint32_t)(seed >> 33);
		uint64_t ts = T0 + (uint64_t)k * (S / 40);
		uint32_t src = V4(203, 0, 113, 0) + r % 200;
		uint32_t dst = V4(198, 18, 0, 0) + (r >> 8) % 65536;
		struct pk p;
		if (r % 7 == 0)
			p = tcp(src, dst, 250, 54321, 443, 0x02, 65535);
		else if (r % 7 == 1)
			p = tcp(src, dst, 60, 1, 8080, 0x12, 0);
		else
			p = tcp(src, dst, 60, (uint16_t)r, (uint16_t)(22 + r % 3), 0x02, 29200);
		feed(t, &p, ts);
	}
}

static void test_two_threads_same_output(void **state)
{
	(void)state;
	struct got *g1 = got_new(), *g2 = got_new();
	struct kz_telescope *t1 = engine(60, 120, 1, g1), *t2 = engine(60, 120, 2, g2);
	mixed(t1);
	mixed(t2);
	kz_telescope_push(t2);
	assert_int_equal(kz_telescope_finish(t1), 0);
	assert_int_equal(kz_telescope_finish(t2), 0);
	assert_true(g1->n > 100);
	assert_int_equal(g1->n, g2->n);
	for (int i = 0; i < g1->n; i++)
		assert_string_equal(g1->lines[i], g2->lines[i]);
	assert_int_equal(g1->nrows, g2->nrows);
	/* The writer's stats rows carry copies of the sketches: the same. */
	int sketches = 0;
	for (int i = 0; i < g1->nrows; i++) {
		assert_int_equal(g1->rows[i].port, g2->rows[i].port);
		assert_string_equal(g1->proto[i], g2->proto[i]);
		assert_int_equal(g1->rows[i].packets, g2->rows[i].packets);
		assert_int_equal(g1->rows[i].unique_sources, g2->rows[i].unique_sources);
		assert_true(!g1->sketch[i] == !g2->sketch[i]);
		if (g1->sketch[i]) {
			assert_string_equal(g1->sketch[i], g2->sketch[i]);
			sketches++;
		}
	}
	assert_true(sketches > 0);
	struct kz_telescope_summary s1, s2;
	kz_telescope_summary(t1, &s1);
	kz_telescope_summary(t2, &s2);
	assert_int_equal(s1.analysed, s2.analysed);
	assert_int_equal(s1.sources.used, s2.sources.used);
	printf("%d records, %d stats rows, %u sources\n", g1->n, g1->nrows, s1.sources.used);
	kz_telescope_free(t1);
	kz_telescope_free(t2);
	got_free(g1);
	got_free(g2);
}

/* Freed in the middle of a run (an error path of the command): the
 * threads stop, queued records are dropped, nothing leaks (ASan). */
static void test_free_without_finish(void **state)
{
	(void)state;
	for (unsigned threads = 1; threads <= 2; threads++) {
		struct got *g = got_new();
		struct kz_telescope *t = engine(60, 60, threads, g);
		mixed(t);
		kz_telescope_push(t);
		kz_telescope_free(t);
		got_free(g);
	}
}

static void test_sink_failure_stops(void **state)
{
	(void)state;
	for (unsigned threads = 1; threads <= 2; threads++) {
		struct got *g = got_new();
		g->fail_after = 3;
		struct kz_telescope *t = engine(60, 60, threads, g);
		mixed(t);
		assert_int_equal(kz_telescope_finish(t), -ENOSPC);
		assert_int_equal(kz_telescope_error(t), -ENOSPC);
		assert_string_equal(kz_telescope_error_text(t), "test: the disk is full (test)");
		assert_int_equal(g->n, 3);
		kz_telescope_free(t);
		got_free(g);
	}
}

static void test_bad_config(void **state)
{
	(void)state;
	struct kz_cidr dark;
	const char *why;
	assert_int_equal(kz_cidr_parse("198.18.0.0/16", &dark, &why), 0);
	struct kz_telescope_config cfg = {
		.darknet = &dark, .ndarknet = 1, .sensor = "s", .interval_s = 0, .max_sources = 10
	};
	struct kz_telescope *t;
	char err[256];
	assert_int_equal(kz_telescope_new(&cfg, &t, err, sizeof err), -EINVAL);
	assert_string_equal(err, "--interval: 0 s outside 1..86400");
	cfg.interval_s = 60;
	cfg.ndarknet = 0;
	assert_int_equal(kz_telescope_new(&cfg, &t, err, sizeof err), -EINVAL);
	cfg.ndarknet = 1;
	cfg.sensor = "\xc3";
	assert_int_equal(kz_telescope_new(&cfg, &t, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "--sensor"));
	/* A budget of one source still works (batches shrink to fit it). */
	struct got *g = got_new();
	cfg.sensor = "s";
	cfg.max_sources = 1;
	cfg.update_s = 60;
	assert_int_equal(kz_telescope_new(&cfg, &t, err, sizeof err), 0);
	assert_int_equal(kz_telescope_add_sink(t, &got_sink, g), 0);
	mixed(t);
	assert_int_equal(kz_telescope_finish(t), 0);
	struct kz_telescope_summary s;
	kz_telescope_summary(t, &s);
	assert_int_equal(s.sources.used, 1);
	assert_true(s.sources.evictions > 1000);
	uint64_t evicted = 0;
	for (int i = 0; i < g->ndone; i++)
		evicted += g->ivs[i].sources_evicted;
	assert_int_equal(evicted, s.sources.evictions);
	kz_telescope_free(t);
	got_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_alignment_and_stats),
		cmocka_unit_test(test_first_record_then_updates),
		cmocka_unit_test(test_update_period),
		cmocka_unit_test(test_dos_victim_merged),
		cmocka_unit_test(test_filter_and_counters),
		cmocka_unit_test(test_two_threads_same_output),
		cmocka_unit_test(test_sink_failure_stops),
		cmocka_unit_test(test_free_without_finish),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
