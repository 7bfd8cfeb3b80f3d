/*
 * Per-source verdicts: the scaled thresholds of REFERENCE.md's table for a
 * /24, /16 and /8; a fingerprint needs a majority of at least 5 SYNs;
 * precedence infected > tool > scanner, and labels never go down within a
 * scan; the scanner rule's D and rate at their edges; IPv6 without a rate
 * test; the basis text says which rule and how many packets, and which
 * rules --anonymised-dst switched off.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scanner.h"

/* Judges and explains, as the engine does before it writes a record. */
static enum kz_label judge(const struct kz_src *e, const struct kz_scan_thresholds *th,
                           struct kz_verdict *v)
{
	enum kz_label l = kz_scan_judge(e, th, v);
	kz_scan_explain(e, th, v);
	return l;
}

static void test_thresholds_table(void **state)
{
	(void)state;
	struct kz_scan_thresholds th;
	kz_scan_thresholds(256, KZ_FP_ALL, &th);
	assert_int_equal(th.min_dsts, 5);
	assert_int_equal(th.silence_s, 86400);                   /* the 24 h cap */
	assert_true(fabs(th.gap_at_min_s / 86400 - 19.4) < 0.1); /* "about 19 days" */
	kz_scan_thresholds(65536, KZ_FP_ALL, &th);
	assert_int_equal(th.min_dsts, 5);
	assert_int_equal(th.silence_s, 19661); /* 3 * 2^32 / 655360, about 5.5 h */
	kz_scan_thresholds(UINT64_C(1) << 24, KZ_FP_ALL, &th);
	assert_int_equal(th.min_dsts, 100);
	assert_int_equal(th.silence_s, 480);
	assert_true(fabs(th.gap_at_min_s - 25.6) < 0.01);
	/* D rounds up: one address more than a /8 asks for 101. */
	kz_scan_thresholds((UINT64_C(1) << 24) + 1, KZ_FP_ALL, &th);
	assert_int_equal(th.min_dsts, 101);
	kz_scan_thresholds(0, KZ_FP_ALL, &th);
	assert_int_equal(th.min_dsts, 5);
	assert_int_equal(th.silence_s, 86400);
}

static struct kz_src src(uint32_t a)
{
	struct kz_src e;
	memset(&e, 0, sizeof e);
	e.addr = kz_addr_from_v4(a);
	e.first_seen = 1000;
	e.last_seen = 1100;
	return e;
}

static void test_fingerprint_majority(void **state)
{
	(void)state;
	struct kz_scan_thresholds th;
	kz_scan_thresholds(65536, KZ_FP_ALL, &th);
	struct kz_verdict v;
	struct kz_src e = src(0xc0000201);
	e.syn = 4;
	e.votes[KZ_VOTE_ZMAP] = 4;
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_NONE); /* never one packet, nor 4 */
	e.syn = 5;
	e.votes[KZ_VOTE_ZMAP] = 3;
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_ZMAP);
	assert_string_equal(v.basis,
	                    "zmap: ip.id == 54321, TTL 255, window 65535 in 3 of 5 SYN packets");
	e.syn = 6; /* 3 of 6 is not a majority */
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_NONE);
	/* Precedence: Mirai over a tool over the scanner rule. */
	e.syn = 10;
	e.votes[KZ_VOTE_ZMAP] = 6;
	e.votes[KZ_VOTE_MIRAI] = 6;
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_MIRAI);
	assert_true(v.infected);
	/* unicornscan: either byte order's constant. */
	e = src(0xc0000202);
	e.syn = 8;
	e.unb_match = 7;
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_UNICORNSCAN);
	assert_non_null(strstr(v.basis, "in 7 of 8 SYN packets"));
	/* With --anonymised-dst the rules on ip.dst are off, and it shows. */
	struct kz_scan_thresholds anon;
	kz_scan_thresholds(65536, KZ_FP_ALL & ~KZ_FP_DST_RULES, &anon);
	e = src(0xc0000203);
	e.syn = 8;
	e.votes[KZ_VOTE_MASSCAN] = 8;
	e.votes[KZ_VOTE_NMAP] = 0;
	assert_int_equal(judge(&e, &anon, &v), KZ_LABEL_NONE);
	e.votes[KZ_VOTE_NMAP] = 8;
	assert_int_equal(judge(&e, &anon, &v), KZ_LABEL_NMAP);
	assert_non_null(strstr(v.basis, "(--anonymised-dst): mirai, masscan, unicornscan"));
}

/* A source that probed k distinct addresses of one port over span s. */
static struct kz_src scanner(unsigned k, uint32_t span, bool v6)
{
	struct kz_src e = src(0xc0000210);
	if (v6)
		e.addr.v = (kz_u128)0x20010db8u << 96 | 9;
	e.last_seen = e.first_seen + span;
	e.slot0.proto = KZ_TPROTO_TCP + 1;
	e.slot0.port = 23;
	for (unsigned i = 0; i < k; i++)
		kz_dset16_add(&e.slot0.dsts, &e.flags, KZ_SRC_SLOT0_BIG, kz_dset_hash(i));
	e.probes = k;
	return e;
}

static void test_scanner_rule_edges(void **state)
{
	(void)state;
	struct kz_scan_thresholds th;
	kz_scan_thresholds(65536, KZ_FP_ALL, &th);
	struct kz_verdict v;
	struct kz_src e = scanner(4, 10, false);
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_NONE);
	e = scanner(5, 10, false);
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_SCANNER);
	assert_string_equal(v.basis, "scanner: 5 distinct dark addresses on tcp/23 (D = 5) at an "
	                             "estimated 32768 pps Internet-wide (>= 10)");
	/* The rate: 5 addresses of a /16 in 32768 s is exactly 10 pps. */
	e = scanner(5, 32768, false);
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_SCANNER);
	e = scanner(5, 32769, false);
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_NONE);
	/* IPv6: D = 5 and no rate test. */
	e = scanner(5, 1000000, true);
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_SCANNER);
	assert_non_null(strstr(v.basis, "IPv6: no rate test"));
	/* A /8 wants 100. */
	kz_scan_thresholds(UINT64_C(1) << 24, KZ_FP_ALL, &th);
	e = scanner(60, 10, false);
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_NONE);
	e = scanner(200, 10, false);
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_SCANNER);
}

static void test_labels_only_rise(void **state)
{
	(void)state;
	struct kz_scan_thresholds th;
	kz_scan_thresholds(65536, KZ_FP_ALL, &th);
	struct kz_verdict v;
	struct kz_src e = scanner(10, 10, false);
	e.label = KZ_LABEL_MASSCAN; /* written earlier in this scan */
	e.syn = 20;
	e.votes[KZ_VOTE_MASSCAN] = 9; /* no longer a majority */
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_MASSCAN);
	assert_non_null(strstr(v.basis, "in 9 of 20 SYN packets"));
	e.votes[KZ_VOTE_MIRAI] = 15; /* but a stronger label wins */
	assert_int_equal(judge(&e, &th, &v), KZ_LABEL_MIRAI);
	assert_string_equal(kz_label_identifier(KZ_LABEL_UNICORNSCAN), "unicornscan");
	assert_string_equal(kz_label_identifier(KZ_LABEL_NONE), "");
}

/* The scanner basis writes its counts as "%.0f" would: round to nearest,
 * ties to even, whatever the size. */
static void test_basis_counts(void **state)
{
	(void)state;
	struct kz_scan_thresholds th;
	kz_scan_thresholds(65536, KZ_FP_ALL, &th);
	struct kz_src e = src(0xc6120001);
	const double xs[] = { 0, 0.4, 0.5, 1.5, 2.5, 3.49999, 1e6 + 0.5, 1e15 + 1, 1e22, INFINITY };
	for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
		struct kz_verdict v;
		memset(&v, 0, sizeof v);
		v.label = KZ_LABEL_SCANNER;
		v.dsts_on_port = xs[i];
		v.rate_pps = xs[i];
		v.port = 23;
		kz_scan_explain(&e, &th, &v);
		char want[256];
		snprintf(want, sizeof want,
		         "scanner: %.0f distinct dark addresses on tcp/23 (D = 5) at an estimated "
		         "%.0f pps Internet-wide (>= 10)",
		         xs[i], xs[i]);
		assert_string_equal(v.basis, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thresholds_table),
		cmocka_unit_test(test_fingerprint_majority),
		cmocka_unit_test(test_scanner_rule_edges),
		cmocka_unit_test(test_labels_only_rise),
		cmocka_unit_test(test_basis_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
