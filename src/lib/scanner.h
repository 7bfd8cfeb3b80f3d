/*
 * The per-source detectors: is a darknet source a scanner, which tool is it,
 * is it an infected IoT host? One verdict per source per interval, from the
 * state the source table kept (srctable.h).
 *
 * Thresholds (REFERENCE.md "Darknet analysis rules", scaled to a darknet of
 * n IPv4 addresses; CONTRACT.md precedence):
 *  - scanner (Durumeric et al. 2014, scaled): at least
 *    D = max(5, ceil(100 n / 2^24)) distinct dark addresses on one
 *    port/protocol, and an estimated Internet-wide rate of at least 10 pps,
 *    rate = observed rate * 2^32 / n, where the observed rate is those
 *    distinct addresses over the scan's duration so far (at least 1 s);
 *  - a scan ends after max(480, 3 * 2^32 / (10 n)) s of silence, capped at
 *    24 h: a source seen again after that starts a new scan;
 *  - a fingerprint is confirmed when at least 5 of the source's TCP SYN
 *    probes were seen and more than half of them meet the rule;
 *  - precedence: infected (Mirai) > tool fingerprint > scanner; a label once
 *    written for a scan is only ever raised, never lowered, so one scan is
 *    not reported under two names as votes wobble.
 * IPv6 sources cannot sweep their space at random, so the extrapolation to
 * an Internet-wide rate does not apply to them: an IPv6 source is a scanner
 * with D6 = 5 distinct dark addresses on one port/protocol, without a rate
 * test.
 */
#ifndef KZ_SCANNER_H
#define KZ_SCANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "srctable.h"

#define KZ_SCAN_MIN_DSTS    5      /* the floor of D, and D for IPv6 */
#define KZ_SCAN_MIN_RATE    10.0   /* Internet-wide packets per second */
#define KZ_SCAN_SILENCE_MIN 480u   /* seconds */
#define KZ_SCAN_SILENCE_MAX 86400u /* seconds */
#define KZ_FP_MIN_PACKETS   5      /* SYN probes before a fingerprint counts */

/* Labels, ordered by precedence (a higher value wins). */
enum kz_label {
	KZ_LABEL_NONE = 0,
	KZ_LABEL_SCANNER,
	KZ_LABEL_NMAP,
	KZ_LABEL_UNICORNSCAN,
	KZ_LABEL_MASSCAN,
	KZ_LABEL_ZMAP,
	KZ_LABEL_MIRAI,
	KZ_LABEL_COUNT
};

/* The thresholds for a darknet of n IPv4 addresses. */
struct kz_scan_thresholds {
	uint64_t n;          /* IPv4 dark addresses (0: an IPv6-only darknet) */
	uint32_t min_dsts;   /* D */
	double min_rate;     /* 10 pps */
	uint32_t silence_s;  /* the scan timeout */
	double gap_at_min_s; /* 2^32 / (10 n): mean gap between hits of a 10 pps scan */
	unsigned rules;      /* KZ_FP_* rules in force */
};

/* Computes the thresholds for n IPv4 dark addresses with the fingerprint
 * rules in the mask (KZ_FP_ALL, or without KZ_FP_DST_RULES). */
void kz_scan_thresholds(uint64_t n, unsigned rules, struct kz_scan_thresholds *th);

/* Why a source got its label. */
struct kz_verdict {
	enum kz_label label; /* the label for this interval (already max'ed with
	                        the one written before, e->label) */
	bool infected;       /* label is a malware family (taxonomy malicious-code) */
	unsigned votes, syn; /* the confirmed rule's votes over SYN probes */
	double dsts_on_port; /* scanner rule: best tracked port's distinct addresses */
	uint16_t port;       /* ... on this port */
	uint8_t proto;       /* ... and protocol (enum kz_tproto) */
	double rate_pps;     /* estimated Internet-wide rate (0 for IPv6) */
	char basis[256];     /* extra.fingerprint_basis */
};

/* Judges a source. Returns the label (KZ_LABEL_NONE when it qualifies for
 * nothing and never did) and fills *v but for its basis text. */
enum kz_label kz_scan_judge(const struct kz_src *e, const struct kz_scan_thresholds *th,
                            struct kz_verdict *v);

/* Writes v->basis for a verdict of kz_scan_judge on the same source: which
 * rule and how many packets (extra.fingerprint_basis). Kept apart because
 * most verdicts write no record. */
void kz_scan_explain(const struct kz_src *e, const struct kz_scan_thresholds *th,
                     struct kz_verdict *v);

/* classification.identifier for a label: "scanner", "nmap", "unicornscan",
 * "masscan", "zmap", "mirai"; "" for KZ_LABEL_NONE. */
const char *kz_label_identifier(enum kz_label l);

/* The label's index in the summary's per-identifier counters. */
static inline bool kz_label_is_infected(enum kz_label l)
{
	return l == KZ_LABEL_MIRAI;
}

#endif
