/*
 * Per-source verdicts (see scanner.h for the thresholds and where they come
 * from). Called once per active source per interval, not per packet, so it
 * can afford floating point and text.
 */
#include "scanner.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TWO_POW_32 4294967296.0

void kz_scan_thresholds(uint64_t n, unsigned rules, struct kz_scan_thresholds *th)
{
	memset(th, 0, sizeof *th);
	th->n = n;
	th->rules = rules;
	th->min_rate = KZ_SCAN_MIN_RATE;
	/* D = max(5, ceil(100 n / 2^24)); n <= 2^32, so 100 n fits. */
	uint64_t d = (100 * n + (UINT64_C(1) << 24) - 1) >> 24;
	th->min_dsts = d < KZ_SCAN_MIN_DSTS ? KZ_SCAN_MIN_DSTS : (uint32_t)d;
	if (n == 0) {
		th->silence_s = KZ_SCAN_SILENCE_MAX;
		th->gap_at_min_s = INFINITY;
		return;
	}
	/* A 10 pps scan hits the darknet every gap_at_min_s on average; three
	 * such gaps of silence make its end likely, and the 480 s floor is
	 * Durumeric's own timeout for a /8, where the gap is shorter. */
	th->gap_at_min_s = TWO_POW_32 / (KZ_SCAN_MIN_RATE * (double)n);
	double s = ceil(3.0 * th->gap_at_min_s);
	if (s < KZ_SCAN_SILENCE_MIN)
		s = KZ_SCAN_SILENCE_MIN;
	if (s > KZ_SCAN_SILENCE_MAX)
		s = KZ_SCAN_SILENCE_MAX;
	th->silence_s = (uint32_t)s;
}

const char *kz_label_identifier(enum kz_label l)
{
	static const char *const ids[KZ_LABEL_COUNT] = {
		[KZ_LABEL_NONE] = "",           [KZ_LABEL_SCANNER] = "scanner",
		[KZ_LABEL_NMAP] = "nmap",       [KZ_LABEL_UNICORNSCAN] = "unicornscan",
		[KZ_LABEL_MASSCAN] = "masscan", [KZ_LABEL_ZMAP] = "zmap",
		[KZ_LABEL_MIRAI] = "mirai",
	};
	return (unsigned)l < KZ_LABEL_COUNT ? ids[l] : "";
}

/* The rules, strongest label first; each with the text its basis cites. */
struct fp_rule {
	enum kz_label label;
	unsigned bit;
	const char *what;
};

static const struct fp_rule fp_rules[] = {
	{ KZ_LABEL_MIRAI, KZ_FP_MIRAI, "tcp.seq == ip.dst, TTL 64, no options, port 23/2323" },
	{ KZ_LABEL_ZMAP, KZ_FP_ZMAP, "ip.id == 54321, TTL 255, window 65535" },
	{ KZ_LABEL_MASSCAN, KZ_FP_MASSCAN, "ip.id == ip.dst ^ dport ^ seq, TTL 255, window 1024" },
	{ KZ_LABEL_UNICORNSCAN, KZ_FP_UNICORN,
	  "seq ^ dst ^ ((dport << 16) + sport) constant, window 4096" },
	{ KZ_LABEL_NMAP, KZ_FP_NMAP, "window 1024, one option MSS 1460, TTL <= 59" },
};

static unsigned rule_votes(const struct kz_src *e, unsigned bit)
{
	switch (bit) {
	case KZ_FP_MIRAI:
		return e->votes[KZ_VOTE_MIRAI];
	case KZ_FP_MASSCAN:
		return e->votes[KZ_VOTE_MASSCAN];
	case KZ_FP_ZMAP:
		return e->votes[KZ_VOTE_ZMAP];
	case KZ_FP_NMAP:
		return e->votes[KZ_VOTE_NMAP];
	default:
		/* Either byte order of the address term (classify.h). */
		return e->uni_match > e->unb_match ? e->uni_match : e->unb_match;
	}
}

static const struct fp_rule *rule_for(enum kz_label l)
{
	for (size_t i = 0; i < sizeof fp_rules / sizeof fp_rules[0]; i++) {
		if (fp_rules[i].label == l)
			return &fp_rules[i];
	}
	return NULL;
}

/* The scanner rule over the two tracked ports: the best qualifying one, or
 * the best one at all when none qualifies (for the record's basis). */
static bool scanner_rule(const struct kz_src *e, const struct kz_scan_thresholds *th,
                         struct kz_verdict *v)
{
	/* The observed rate is the distinct addresses reached over the scan's
	 * duration, not its packets: retransmissions and repeat visits would
	 * otherwise inflate it. A floor of one second keeps a burst seen
	 * within one second from dividing by zero; such a burst is fast by
	 * any measure. */
	bool v6 = !kz_addr_is_v4(e->addr) || th->n == 0;
	uint32_t span = e->last_seen > e->first_seen ? e->last_seen - e->first_seen : 0;
	double secs = span < 1 ? 1.0 : (double)span;
	uint32_t need = v6 ? KZ_SCAN_MIN_DSTS : th->min_dsts;
	bool found = false;
	for (unsigned i = 0; i < 2; i++) {
		const struct kz_src_slot *s = kz_src_slot(e, i);
		if (s->proto == 0)
			continue;
		double c = kz_src_slot_count(e, i);
		double rate = v6 ? 0.0 : c / secs * TWO_POW_32 / (double)th->n;
		/* The epsilon: an exact count of D read back as a double must
		 * still reach D. */
		bool ok = c + 1e-9 >= need && (v6 || rate >= th->min_rate);
		if ((ok && !found) || (ok == found && c > v->dsts_on_port)) {
			v->dsts_on_port = c;
			v->port = s->port;
			v->proto = (uint8_t)(s->proto - 1);
			v->rate_pps = rate;
			found = found || ok;
		}
	}
	return found;
}

enum kz_label kz_scan_judge(const struct kz_src *e, const struct kz_scan_thresholds *th,
                            struct kz_verdict *v)
{
	memset(v, 0, sizeof *v);
	enum kz_label fp = KZ_LABEL_NONE;
	v->syn = e->syn;
	/* The first rule with a strict majority wins; the rules are nearly
	 * exclusive (they disagree on TTL, window or IP ID), so the order
	 * only matters for precedence: Mirai first. */
	if (e->syn >= KZ_FP_MIN_PACKETS) {
		for (size_t i = 0; i < sizeof fp_rules / sizeof fp_rules[0]; i++) {
			if (!(th->rules & fp_rules[i].bit))
				continue;
			unsigned votes = rule_votes(e, fp_rules[i].bit);
			if (2 * votes > e->syn) {
				fp = fp_rules[i].label;
				break;
			}
		}
	}
	bool scanner = scanner_rule(e, th, v);
	enum kz_label now = fp != KZ_LABEL_NONE ? fp : scanner ? KZ_LABEL_SCANNER : KZ_LABEL_NONE;
	enum kz_label label = now > (enum kz_label)e->label ? now : (enum kz_label)e->label;
	v->label = label;
	v->infected = kz_label_is_infected(label);
	const struct fp_rule *r = rule_for(label);
	if (r)
		v->votes = rule_votes(e, r->bit);
	return label;
}

/* x as printf's "%.0f" writes it, without the cost of its arbitrary
 * precision path (a third of a record's formatting): for a finite x in
 * [0, 2^53), rint in the default rounding mode rounds to nearest with ties
 * to even, as "%.0f" does, and the result is an exact integer. Anything
 * else goes to printf. */
static const char *count_text(double x, char buf[32])
{
	if (x >= 0 && x < 0x1p53)
		snprintf(buf, 32, "%" PRIu64, (uint64_t)rint(x));
	else
		snprintf(buf, 32, "%.0f", x);
	return buf;
}

void kz_scan_explain(const struct kz_src *e, const struct kz_scan_thresholds *th,
                     struct kz_verdict *v)
{
	char d[32], rate[32], min[32];
	int len;
	v->basis[0] = '\0';
	if (v->label == KZ_LABEL_NONE)
		return;
	const struct fp_rule *r = rule_for(v->label);
	if (r) {
		len = snprintf(v->basis, sizeof v->basis, "%s: %s in %u of %u SYN packets",
		               kz_label_identifier(v->label), r->what, v->votes, v->syn);
	} else if (!kz_addr_is_v4(e->addr) || th->n == 0) {
		len = snprintf(
		        v->basis, sizeof v->basis,
		        "scanner: %s distinct dark addresses on %s/%u (D = %u, IPv6: no rate "
		        "test)",
		        count_text(v->dsts_on_port, d), kz_tproto_name(v->proto), v->port,
		        KZ_SCAN_MIN_DSTS);
	} else {
		len = snprintf(
		        v->basis, sizeof v->basis,
		        "scanner: %s distinct dark addresses on %s/%u (D = %u) at an estimated "
		        "%s pps Internet-wide (>= %s)",
		        count_text(v->dsts_on_port, d), kz_tproto_name(v->proto), v->port,
		        th->min_dsts, count_text(v->rate_pps, rate), count_text(th->min_rate, min));
	}
	if ((th->rules & KZ_FP_DST_RULES) != KZ_FP_DST_RULES && len > 0 &&
	    (size_t)len < sizeof v->basis)
		snprintf(v->basis + len, sizeof v->basis - (size_t)len,
		         "; rules on ip.dst off (--anonymised-dst): mirai, masscan, unicornscan");
}
