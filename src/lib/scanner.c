/*
 * Per-source verdicts (see scanner.h for the thresholds and where they come
 * from). Called once per active source per interval, not per packet, so it
 * can afford floating point and text.
 */
#include "scanner.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"

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

/* The basis text is built by appending, with snprintf's contract (text
 * past the buffer is cut, the length it would have had is counted, the
 * result is always terminated) but without its format parsing: the
 * writer thread builds one for every record, and snprintf was most of a
 * record's text cost. */
struct text {
	char *p;
	size_t cap, len; /* len: the whole text's length, cut or not */
};

static void add(struct text *t, const char *s, size_t n)
{
	if (t->len < t->cap - 1) {
		size_t room = t->cap - 1 - t->len;
		memcpy(t->p + t->len, s, n < room ? n : room);
	}
	t->len += n;
}

static void add_str(struct text *t, const char *s)
{
	add(t, s, strlen(s));
}

/* A decimal, as printf's "%" PRIu64 writes it. */
static void add_u64(struct text *t, uint64_t v)
{
	char b[KZ_DEC_SIZE];
	const char *s = kz_dec_u64(b, v);
	add(t, s, (size_t)(b + KZ_DEC_SIZE - 1 - s));
}

/* x as printf's "%.0f" writes it, without the cost of its arbitrary
 * precision path: for a finite x in [0, 2^53), rint in the default
 * rounding mode rounds to nearest with ties to even, as "%.0f" does, and
 * the result is an exact integer. Anything else goes to printf. */
static void add_count(struct text *t, double x)
{
	if (x >= 0 && x < 0x1p53) {
		add_u64(t, (uint64_t)rint(x));
		return;
	}
	/* Cut at 31 characters, as the text always was. */
	char buf[32];
	snprintf(buf, sizeof buf, "%.0f", x);
	add_str(t, buf);
}

static void text_end(struct text *t)
{
	t->p[t->len < t->cap ? t->len : t->cap - 1] = '\0';
}

void kz_scan_explain(const struct kz_src *e, const struct kz_scan_thresholds *th,
                     struct kz_verdict *v)
{
	struct text t = { v->basis, sizeof v->basis, 0 };
	v->basis[0] = '\0';
	if (v->label == KZ_LABEL_NONE)
		return;
	const struct fp_rule *r = rule_for(v->label);
	if (r) {
		/* "<label>: <rule> in <votes> of <syn> SYN packets" */
		add_str(&t, kz_label_identifier(v->label));
		add(&t, ": ", 2);
		add_str(&t, r->what);
		add(&t, " in ", 4);
		add_u64(&t, v->votes);
		add(&t, " of ", 4);
		add_u64(&t, v->syn);
		add_str(&t, " SYN packets");
	} else {
		/* "scanner: <d> distinct dark addresses on <proto>/<port> (D =
		 * <D>" and either ", IPv6: no rate test)" or ") at an estimated
		 * <rate> pps Internet-wide (>= <min>)" */
		bool no_rate = !kz_addr_is_v4(e->addr) || th->n == 0;
		add_str(&t, "scanner: ");
		add_count(&t, v->dsts_on_port);
		add_str(&t, " distinct dark addresses on ");
		add_str(&t, kz_tproto_name(v->proto));
		add(&t, "/", 1);
		add_u64(&t, v->port);
		add(&t, " (D = ", 6);
		add_u64(&t, no_rate ? KZ_SCAN_MIN_DSTS : th->min_dsts);
		if (no_rate) {
			add_str(&t, ", IPv6: no rate test)");
		} else {
			add_str(&t, ") at an estimated ");
			add_count(&t, v->rate_pps);
			add_str(&t, " pps Internet-wide (>= ");
			add_count(&t, th->min_rate);
			add(&t, ")", 1);
		}
	}
	if ((th->rules & KZ_FP_DST_RULES) != KZ_FP_DST_RULES && t.len < sizeof v->basis)
		add_str(&t,
		        "; rules on ip.dst off (--anonymised-dst): mirai, masscan, unicornscan");
	text_end(&t);
}
