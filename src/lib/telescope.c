/*
 * The telescope engine (see telescope.h for the pipeline and the rules it
 * applies; scanner.h, rsdos.h and surge.h for the detectors).
 *
 * Two halves:
 *  - the front (kz_telescope_frame, on the caller's thread): decode, count
 *    the decode result, filter on the darknet, classify into a struct
 *    kz_tpkt in the batch being filled, and hash its source and dark
 *    address (work moved here because the back has more to do);
 *  - the back (analyse, on the same thread or on the analysis thread):
 *    per batch, a software pipeline that prefetches each packet's index
 *    slot, resolves and prefetches its entry, and updates the source, the
 *    port counters and the attack vectors in packet order, closing
 *    intervals as packet time crosses their ends.
 * The front owns the frame and decode counters, the back everything else;
 * with two threads they share only the ring (below) and a few atomics for
 * progress and the first error.
 *
 * The ring: RING_BATCHES batch buffers, a head the front advances when it
 * has filled one and a tail the back advances when it has analysed one
 * (32-bit counters, compared modulo 2^32). A side that finds nothing to do
 * spins briefly, then sleeps on a futex on the other side's counter after
 * raising its "sleeping" flag; the other side wakes it after moving its
 * counter if it sees the flag and enough work (or room) is there:
 * WAKE_BACK_AT batches waiting for the back, WAKE_FRONT_AT free for the
 * front, at once for a control mark or the end of a capture batch. Both
 * the flag and the counter use sequential consistency, so a wake-up cannot
 * be lost between the check and the sleep (a sleeper whose counter moved
 * returns from the futex at once). A woken thread takes a while to run
 * again (on a virtual machine a sleeping vCPU is woken by the host: 0.1 to
 * 0.3 ms measured), and the other side must not run dry meanwhile: the
 * ring holds 2 ms of packets and the front is woken while three quarters
 * of it still wait. With a 32-batch ring woken at half, the analysis slept
 * 0.5 s of a 2.7 s run waiting for a front still waking up (2,000 sleeps,
 * from /proc/thread-self/schedstat); with this one, a few hundred short
 * ones. The thresholds also matter when both threads share one core (a
 * loaded machine): they then take turns in long stretches rather than
 * paying a context switch per batch. Batches also carry control marks: a
 * tick (live capture's clock) and the stop at the end.
 *
 * The writer (two threads): the back does not call the sinks itself. At
 * an interval's close it judges its sources and updates their state, and
 * posts a job per record (a copy of the source entry and its verdict; a
 * DoS or surge record as built; a stats row with a copy of its sketch, as
 * the back clears the original for the next interval; the end of the
 * interval) to a second SPSC ring, with the same spin-then-futex waits.
 * A third thread runs the jobs in order: the basis text, the record's
 * ids and JSON, and the sink calls, which were a fifth of the back's time
 * and would leave the two halves unbalanced. It usually runs on the core
 * the front leaves idle while it waits for room in the batch ring. With
 * one thread each job runs at once, on the same code path.
 */
#include "telescope.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "ipset.h"
#include "jsonl.h"
#include "log.h"
#include "portstats.h"
#include "record.h"
#include "srcrecord.h"
#include "surge.h"
#include "timefmt.h"

#define NS_PER_S           UINT64_C(1000000000)
#define TWO_POW_32         4294967296.0
#define RING_BATCHES       64u /* x 32 KiB: 2 MiB, 32,768 packets (see "The ring") */
#define WAKE_BACK_AT       (RING_BATCHES / 16)
#define WAKE_FRONT_AT      (RING_BATCHES / 4)
#define SPIN_LIMIT         64
#define TICK_GRACE_NS      (2 * NS_PER_S)
#define DARKNET_LINEAR_MAX 16    /* ranges checked one by one; more: binary search */
#define LOOKAHEAD          8     /* packets between a prefetch and its use (see analyse) */
#define CLOSE_AHEAD        8     /* sources between a prefetch and their verdict */
#define JOB_RING           8192u /* x 256 bytes: an interval close posts thousands of jobs */

enum { MARK_NONE = 0, MARK_TICK, MARK_STOP };

/* A batch: a header line, then one line per packet (a packet summary that
 * straddled two lines would cost two misses to write and two to read). */
struct batch {
	uint32_t n;
	uint32_t mark;
	uint64_t tick_ns;
	_Alignas(64) struct kz_tpkt p[KZ_TELESCOPE_BATCH];
};

_Static_assert(sizeof(struct batch) % 64 == 0, "batches are whole cache lines");

enum { JOB_SOURCE = 0, JOB_RECORD, JOB_STATS, JOB_DONE, JOB_STOP };

/* One piece of output for the writer (see "the writer" below): everything
 * a sink call needs, copied, so that the analysis can go on changing its
 * state while the writer formats and writes. */
struct job {
	union {
		struct kz_src src; /* JOB_SOURCE: the entry as it was judged */
		struct {
			json_t *rec; /* owned by the job */
			struct kz_tevent ev;
		} record;
		struct kz_tstats_row row; /* row.hll: a copy owned by the job */
		struct kz_tinterval iv;
	};
	/* JOB_SOURCE: the verdict but for its basis text, which the writer
	 * writes (kz_scan_explain); the interval and time.observation. */
	double dsts_on_port, rate_pps;
	unsigned votes, syn;
	uint16_t port;
	uint8_t proto, label;
	bool infected;
	int64_t start, obs_time;
	uint32_t type;
};

struct range {
	kz_u128 lo, hi;
};

struct sink_ref {
	const struct kz_tsink *ops;
	void *state;
};

struct kz_telescope {
	/* ----- configuration, read-only after new */
	char *sensor;
	uint32_t interval_s;
	uint32_t update_ivs; /* intervals between updates of a source (>= 1) */
	unsigned rules;
	unsigned threads;
	int64_t (*clock)(void);
	struct kz_ipset *darknet;
	struct range ranges[DARKNET_LINEAR_MAX];
	size_t nranges; /* 0 when there are too many: use the ipset */
	/* The IPv4 part of ranges[], as host-order addresses, for the fused
	 * path's 32-bit destination (valid when nranges != 0) */
	struct range4 {
		uint32_t lo, hi;
	} ranges4[DARKNET_LINEAR_MAX];
	size_t nranges4;
	uint64_t n4;
	struct kz_scan_thresholds th;
	struct sink_ref sinks[KZ_TELESCOPE_SINKS_MAX];
	size_t nsinks;
	struct kz_srcrec_enc *enc;
	char line[KZ_SRCREC_LINE_MAX];

	/* ----- the front. Each half has cache lines of its own: both write
	 * counters at every packet, and a shared line would travel between
	 * the two cores each time. */
	_Alignas(64) struct kz_pkt pkt;
	struct kz_srctable_key key; /* a copy of the source table's hash key */
	struct batch *fill;         /* the batch being filled */
	struct batch single;        /* the only batch with one thread */
	uint64_t frames, bytes, outside, analysed;
	struct kz_pkt_counters decode;
	_Atomic uint64_t frames_seen; /* progress copy */

	/* ----- the back */
	_Alignas(64) struct kz_srctable *src;
	struct kz_rsdos *dos;
	struct kz_portstats ps;
	struct kz_surge *surge;
	uint32_t lookahead; /* the pipeline's distance: min(8, max_sources - 1) */
	uint32_t *active;   /* source entries with packets in the open interval */
	uint32_t nactive, active_cap;
	bool active_overflow;
	struct kz_rsdos_attack **qualified; /* scratch for the interval's attacks */
	uint32_t nqualified, qualified_cap;
	bool started, closed_any;
	uint64_t cur_iv, last_closed_iv;
	uint64_t next_sweep_iv;            /* the interval whose close sweeps for due updates */
	uint64_t cur_start_ns, cur_end_ns; /* the open interval, once started */
	uint64_t iv_sources;               /* sources listed in the interval being closed */
	uint64_t prev_analysed, prev_evictions, prev_vector_evictions, prev_reordered;
	uint64_t first_ns, last_ns;
	uint64_t by_class[KZ_TCLASS_COUNT];
	uint64_t reordered, intervals, stats_rows, scans_restarted;
	uint64_t events_new[KZ_TEV_COUNT], events_update[KZ_TEV_COUNT];
	uint64_t by_label[KZ_LABEL_COUNT];
	_Atomic uint64_t sources_seen, events_seen; /* progress copies */
	int64_t obs_time; /* time.observation of the interval being closed */

	/* ----- the first error, from either half */
	_Alignas(64) _Atomic int error;
	char error_text[256];

	/* ----- two threads: what the front writes, then what the back
	 * writes, on separate lines */
	_Alignas(64) _Atomic uint32_t head;
	_Atomic uint32_t front_sleeping;
	_Alignas(64) _Atomic uint32_t tail;
	_Atomic uint32_t back_sleeping;
	_Alignas(64) struct batch *ring;
	pthread_t thread;
	bool thread_running;
	bool finished;

	/* ----- the writer (two threads): the back posts jobs, the writer
	 * runs them, each side's counter on its own line */
	_Alignas(64) _Atomic uint32_t jhead;
	_Atomic uint32_t poster_sleeping;
	_Alignas(64) _Atomic uint32_t jtail;
	_Atomic uint32_t writer_sleeping;
	_Alignas(64) struct job *jobs;
	struct job local_job; /* the only job with one thread: run at once */
	pthread_t writer;
	bool writer_running;
	bool stop_posted;
	/* CPU seconds of each thread at its end (see the summary) */
	double cpu_caller, cpu_analysis, cpu_writer;
};

/* --------------------------------------------------------------- errors */

static void set_error(struct kz_telescope *t, int rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_error(struct kz_telescope *t, int rc, const char *fmt, ...)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&t->error, &expected, rc))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->error_text, sizeof t->error_text, fmt, ap);
	va_end(ap);
}

int kz_telescope_error(const struct kz_telescope *t)
{
	return atomic_load(&t->error);
}

const char *kz_telescope_error_text(const struct kz_telescope *t)
{
	return atomic_load(&t->error) ? t->error_text : "";
}

const char *kz_tevent_kind_name(enum kz_tevent_kind k)
{
	static const char *const names[KZ_TEV_COUNT] = { "infected", "scanner", "dos", "surge" };
	return (unsigned)k < KZ_TEV_COUNT ? names[k] : "";
}

/* ---------------------------------------------------------------- sinks */

static void sink_fail(struct kz_telescope *t, const struct sink_ref *s, int rc)
{
	const char *why = s->ops->error ? s->ops->error(s->state) : NULL;
	set_error(t, rc, "%s: %s", s->ops->name, why && *why ? why : strerror(-rc));
}

static void emit_line(struct kz_telescope *t, const char *line, size_t len,
                      const struct kz_tevent *ev)
{
	for (size_t i = 0; i < t->nsinks && !atomic_load(&t->error); i++) {
		const struct sink_ref *s = &t->sinks[i];
		int rc = s->ops->event ? s->ops->event(s->state, line, len, ev) : 0;
		if (rc)
			sink_fail(t, s, rc);
	}
	if (ev->first)
		t->events_new[ev->kind]++;
	else
		t->events_update[ev->kind]++;
	atomic_fetch_add_explicit(&t->events_seen, 1, memory_order_relaxed);
}

/* A record built with jansson (DoS victims and surges: a few per
 * interval), formatted as kz_jsonl_write would. */
static void emit_record(struct kz_telescope *t, json_t *rec, struct kz_tevent *ev)
{
	char *line = NULL;
	size_t len = 0;
	int rc = kz_jsonl_format(rec, &line, &len);
	if (rc) {
		set_error(t, rc, "record: %s", strerror(-rc));
		return;
	}
	ev->finding_id = json_string_value(json_object_get(rec, "extra.finding_id"));
	ev->observation_id = json_string_value(json_object_get(rec, "extra.observation_id"));
	emit_line(t, line, len, ev);
	free(line);
}

static void emit_stats(struct kz_telescope *t, const struct kz_tstats_row *row)
{
	for (size_t i = 0; i < t->nsinks && !atomic_load(&t->error); i++) {
		const struct sink_ref *s = &t->sinks[i];
		int rc = s->ops->stats ? s->ops->stats(s->state, row) : 0;
		if (rc)
			sink_fail(t, s, rc);
	}
	t->stats_rows++;
}

/* Builds a record's common part; on failure the engine stops. */
static json_t *record_new(struct kz_telescope *t, const struct kz_record_spec *sp)
{
	json_t *rec = NULL;
	const char *why = "";
	int rc = kz_record_new(sp, &rec, &why);
	if (rc) {
		set_error(t, rc, "record: %s", rc == -ENOMEM ? strerror(ENOMEM) : why);
		return NULL;
	}
	return rec;
}

/* Sets extra fields; a failure (only ENOMEM or a time out of range) stops
 * the engine. */
static bool rec_ok(struct kz_telescope *t, int rc)
{
	if (rc) {
		set_error(t, rc, "record: %s", strerror(-rc));
		return false;
	}
	return true;
}

static int set_json(json_t *rec, const char *key, json_t *v)
{
	return v && json_object_set_new(rec, key, v) == 0 ? 0 : -ENOMEM;
}

static int64_t round_count(double c)
{
	return c < 0 ? 0 : (int64_t)llround(c);
}

/* ------------------------------------------------------- source events */

/* Source records are the bulk of the output (one per active qualified
 * source per interval): they are written by hand (srcrecord.h). */
static void emit_source(struct kz_telescope *t, const struct kz_src *e, const struct kz_verdict *v,
                        int64_t start, int64_t obs_time)
{
	char fid[KZ_ID_STRLEN], oid[KZ_ID_STRLEN];
	uint16_t ports[4];
	unsigned nports = kz_src_ports(e, ports);
	struct kz_srcrec r = {
		.infected = v->infected,
		.identifier = kz_label_identifier(v->label),
		.addr = e->addr,
		.sport = e->last_sport,
		.packets = e->packets,
		.bytes = e->bytes,
		.unique_destinations = (uint64_t)round_count(kz_src_unique_destinations(e)),
		.port_count = (uint64_t)round_count(kz_src_port_count(e)),
		.ports = ports,
		.nports = nports,
		.basis = v->basis,
		.first_seen = e->first_seen,
		.last_seen = e->last_seen,
		.has_rate = kz_addr_is_v4(e->addr) && t->n4 != 0,
		.est_rate_pps = round_count(v->rate_pps),
		.interval_start = start,
		.time_observation = obs_time,
		.time_source = e->last_seen,
	};
	int len = kz_srcrec_format(t->enc, &r, t->line, sizeof t->line, fid, oid);
	if (len < 0) {
		set_error(t, len, "record: %s", strerror(-len));
		return;
	}
	struct kz_tevent ev = {
		.kind = v->infected ? KZ_TEV_INFECTED : KZ_TEV_SCANNER,
		/* A stronger label is a new finding (the id hashes it). */
		.first = e->label != v->label,
		.identifier = r.identifier,
		.finding_id = fid,
		.observation_id = oid,
		.interval_start = start,
		.time_source = e->last_seen,
	};
	emit_line(t, t->line, (size_t)len, &ev);
	t->by_label[v->label]++;
}

/* The back hands every sink call to the writer through these (defined
 * with the writer below). */
static void post_source(struct kz_telescope *t, const struct kz_src *e, const struct kz_verdict *v,
                        int64_t start);
static void post_record(struct kz_telescope *t, json_t *rec, const struct kz_tevent *ev);
static void post_stats(struct kz_telescope *t, const struct kz_tstats_row *row);
static void post_done(struct kz_telescope *t, const struct kz_tinterval *iv);
static void post_stop(struct kz_telescope *t);

/* True when the source was active after the interval of its last record. */
static bool pending(const struct kz_telescope *t, const struct kz_src *e)
{
	return e->label != KZ_LABEL_NONE && e->last_seen / t->interval_s + 1 > e->rec_iv;
}

/* True when the source's last record is at least update_ivs intervals older
 * than interval iv. */
static bool due(const struct kz_telescope *t, const struct kz_src *e, uint64_t iv)
{
	return e->rec_iv == 0 || iv + 1 >= (uint64_t)e->rec_iv + t->update_ivs;
}

/* Judges a source active in interval iv; writes its record when it first
 * qualifies, is raised to a stronger label, or its update is due. */
static void judge_source(struct kz_telescope *t, struct kz_src *e, uint64_t iv)
{
	/* Fewer than 5 probes can neither confirm a fingerprint nor reach
	 * any D: most sources of a darknet stop here. */
	if (e->label == KZ_LABEL_NONE && e->probes < KZ_SCAN_MIN_DSTS)
		return;
	struct kz_verdict v;
	enum kz_label l = kz_scan_judge(e, &t->th, &v);
	if (l == KZ_LABEL_NONE)
		return;
	if (l != e->label || due(t, e, iv)) {
		post_source(t, e, &v, (int64_t)(iv * t->interval_s));
		e->rec_iv = (uint32_t)(iv + 1);
	}
	e->label = (uint8_t)l;
}

/* The updates that are due (or, at the end, all that are pending) for
 * sources not active in the interval just closed. */
static void sweep_sources(struct kz_telescope *t, uint64_t now_iv, bool final)
{
	struct kz_srctable_stats st;
	kz_srctable_stats(t->src, &st);
	for (uint32_t i = 0; i < st.used && !atomic_load(&t->error); i++) {
		struct kz_src *e = kz_srctable_entry(t->src, i);
		if (!pending(t, e) || (!final && !due(t, e, now_iv)))
			continue;
		struct kz_verdict v;
		enum kz_label l = kz_scan_judge(e, &t->th, &v);
		uint64_t iv = e->last_seen / t->interval_s;
		post_source(t, e, &v, (int64_t)(iv * t->interval_s));
		e->rec_iv = (uint32_t)(iv + 1);
		e->label = (uint8_t)l;
	}
}

static void close_sources(struct kz_telescope *t, uint64_t iv)
{
	uint32_t stamp = (uint32_t)(iv + 1);
	for (uint32_t k = 0; k < t->nactive && !atomic_load(&t->error); k++) {
		/* The listed entries are scattered over the pool: ask for the
		 * one CLOSE_AHEAD places on (its three lines: the judge reads
		 * them all, and a record copies them) while judging this one. */
		if (k + CLOSE_AHEAD < t->nactive) {
			const char *n =
			        (const char *)kz_srctable_entry(t->src, t->active[k + CLOSE_AHEAD]);
			__builtin_prefetch(n);
			__builtin_prefetch(n + 64);
			__builtin_prefetch(n + 128);
		}
		struct kz_src *e = kz_srctable_entry(t->src, t->active[k]);
		/* Listed twice when its entry changed hands in the interval:
		 * the stamp makes the second visit a no-op. */
		if (e->iv_stamp != stamp)
			continue;
		e->iv_stamp = 0;
		judge_source(t, e, iv);
	}
	if (t->active_overflow) {
		/* More listings than the list holds (heavy churn): sweep. */
		struct kz_srctable_stats st;
		kz_srctable_stats(t->src, &st);
		for (uint32_t i = 0; i < st.used && !atomic_load(&t->error); i++) {
			struct kz_src *e = kz_srctable_entry(t->src, i);
			if (e->iv_stamp != stamp)
				continue;
			e->iv_stamp = 0;
			judge_source(t, e, iv);
		}
	}
	t->nactive = 0;
	t->active_overflow = false;
	/* Sources quiet in this interval with an update due are found by a
	 * sweep every update_ivs intervals. */
	if (t->update_ivs > 1 && iv >= t->next_sweep_iv) {
		sweep_sources(t, iv, false);
		t->next_sweep_iv = iv + t->update_ivs;
	}
}

/* ---------------------------------------------------------- DoS events */

static void collect_attack(void *user, struct kz_rsdos_attack *a)
{
	struct kz_telescope *t = user;
	if (kz_rsdos_is_attack(a) && t->nqualified < t->qualified_cap)
		t->qualified[t->nqualified++] = a;
}

static int attack_cmp(const void *x, const void *y)
{
	const struct kz_rsdos_attack *a = *(const struct kz_rsdos_attack *const *)x;
	const struct kz_rsdos_attack *b = *(const struct kz_rsdos_attack *const *)y;
	if (a->victim.v != b->victim.v)
		return a->victim.v < b->victim.v ? -1 : 1;
	return a->proto < b->proto ? -1 : a->proto > b->proto;
}

/* One record per victim: a victim attacked over two protocols has one
 * finding and one observation per interval, so its vectors are merged. */
static void emit_victim(struct kz_telescope *t, struct kz_rsdos_attack **v, size_t n, int64_t start)
{
	uint64_t packets = 0, bytes = 0, first = UINT64_MAX, last = 0;
	uint32_t max_ppm = 0;
	double attackers = 0;
	bool reported = false;
	json_t *protos = json_array();
	for (size_t i = 0; i < n; i++) {
		packets += v[i]->packets;
		bytes += v[i]->bytes;
		first = v[i]->first_ns < first ? v[i]->first_ns : first;
		last = v[i]->last_ns > last ? v[i]->last_ns : last;
		max_ppm = v[i]->max_ppm > max_ppm ? v[i]->max_ppm : max_ppm;
		double a = kz_rsdos_attackers(v[i]);
		attackers = a > attackers ? a : attackers;
		reported = reported || v[i]->reported;
		if (protos &&
		    json_array_append_new(protos, json_string(kz_tproto_name(v[i]->proto)))) {
			json_decref(protos);
			protos = NULL;
		}
		v[i]->reported = 1;
	}
	int64_t end_s = (int64_t)(last / NS_PER_S);
	struct kz_record_spec sp = {
		.kind = KZ_REC_DOS_VICTIM,
		.time_observation = t->obs_time,
		.time_source = end_s,
		.sensor = t->sensor,
		.interval_start = start,
		.addr = v[0]->victim,
	};
	json_t *rec = record_new(t, &sp);
	if (!rec) {
		json_decref(protos);
		return;
	}
	int rc = kz_record_set_int(rec, "extra.packets", (int64_t)packets);
	if (!rc)
		rc = kz_record_set_int(rec, "extra.bytes", (int64_t)bytes);
	if (!rc)
		rc = kz_record_set_time(rec, "extra.start", (int64_t)(first / NS_PER_S));
	if (!rc)
		rc = kz_record_set_time(rec, "extra.end", end_s);
	if (!rc)
		rc = kz_record_set_int(rec, "extra.max_ppm", max_ppm);
	if (!rc && kz_addr_is_v4(v[0]->victim) && t->n4) {
		double est = max_ppm / 60.0 * TWO_POW_32 / (double)t->n4;
		rc = kz_record_set_int(rec, "extra.est_rate_pps", round_count(est));
	}
	if (!rc)
		rc = kz_record_set_int(rec, "extra.attackers", round_count(attackers));
	if (!rc)
		rc = set_json(rec, "extra.protocols", protos);
	else
		json_decref(protos);
	if (rec_ok(t, rc)) {
		struct kz_tevent ev = {
			.kind = KZ_TEV_DOS,
			.first = !reported,
			.identifier = "backscatter",
			.interval_start = start,
			.time_source = end_s,
		};
		post_record(t, rec, &ev);
		rec = NULL;
	}
	json_decref(rec);
}

static void close_attacks(struct kz_telescope *t, uint32_t stamp, int64_t start)
{
	t->nqualified = 0;
	kz_rsdos_flush(t->dos, stamp, collect_attack, t);
	qsort(t->qualified, t->nqualified, sizeof *t->qualified, attack_cmp);
	for (uint32_t i = 0; i < t->nqualified && !atomic_load(&t->error);) {
		uint32_t j = i + 1;
		while (j < t->nqualified && t->qualified[j]->victim.v == t->qualified[i]->victim.v)
			j++;
		emit_victim(t, t->qualified + i, j - i, start);
		i = j;
	}
}

/* ------------------------------------------------- stats and surges */

struct surge_ctx {
	struct kz_telescope *t;
	int64_t start;
};

static void surge_alert(void *user, const struct kz_surge_alert *a)
{
	struct surge_ctx *c = user;
	struct kz_telescope *t = c->t;
	if (atomic_load(&t->error))
		return;
	const char *transport = kz_tproto_name((enum kz_tproto)(a->key >> 16));
	uint16_t port = (uint16_t)a->key;
	struct kz_record_spec sp = {
		.kind = KZ_REC_PORT_SURGE,
		.time_observation = t->obs_time,
		.time_source = c->start,
		.sensor = t->sensor,
		.interval_start = c->start,
		.port = port,
		.transport = transport,
	};
	json_t *rec = record_new(t, &sp);
	if (!rec)
		return;
	/* Quarters: exact in binary, so the JSON shows 10.25, not
	 * 10.2599999999999998 (jansson writes 17 significant digits). */
	int rc = kz_record_set_int(rec, "extra.sources", a->sources);
	if (!rc)
		rc = set_json(rec, "extra.baseline", json_real(round(a->baseline * 4) / 4));
	if (!rc)
		rc = set_json(rec, "extra.baseline_sd", json_real(round(a->sd * 4) / 4));
	if (!rc)
		rc = set_json(rec, "extra.z", json_real(round(a->z * 4) / 4));
	if (!rc)
		rc = set_json(rec, "extra.p_poisson", json_real(a->p));
	if (rec_ok(t, rc)) {
		struct kz_tevent ev = {
			.kind = KZ_TEV_SURGE,
			.first = true,
			.identifier = "port-surge",
			.interval_start = c->start,
			.time_source = c->start,
		};
		post_record(t, rec, &ev);
		rec = NULL;
	}
	json_decref(rec);
}

static void close_ports(struct kz_telescope *t, int64_t start, uint32_t empty_before)
{
	struct kz_portstats *ps = &t->ps;
	kz_portstats_sort(ps);
	for (uint32_t i = 0; i < ps->ntouched && !atomic_load(&t->error); i++) {
		uint32_t key = ps->touched[i];
		uint64_t sources = kz_portstats_sources(ps, key);
		struct kz_tstats_row row = {
			.sensor = t->sensor,
			.darknet_size = t->n4,
			.interval_start = start,
			.interval_len = t->interval_s,
			.proto = kz_tproto_name((enum kz_tproto)(key >> 16)),
			.port = (uint16_t)key,
			.packets = ps->packets[key],
			.unique_sources = sources,
			.hll = sources >= KZ_STATS_HLL_MIN_SOURCES ? ps->hll[key] : NULL,
		};
		post_stats(t, &row);
		kz_surge_set(t->surge, key, sources > UINT32_MAX ? UINT32_MAX : (uint32_t)sources);
	}
	struct surge_ctx c = { t, start };
	kz_surge_bin(t->surge, empty_before, surge_alert, &c);
	kz_portstats_reset(ps);
}

/* Tells the sinks that everything up to now is handed over. */
static void sinks_done(struct kz_telescope *t, const struct kz_tinterval *iv)
{
	for (size_t i = 0; i < t->nsinks && !atomic_load(&t->error); i++) {
		const struct sink_ref *s = &t->sinks[i];
		int rc = s->ops->interval_done ? s->ops->interval_done(s->state, iv) : 0;
		if (rc)
			sink_fail(t, s, rc);
	}
}

/* The interval's counters: differences from the totals at the previous
 * close. Evictions of active sources are also logged: they mean the
 * budget is too small for this darknet, and findings may be missed. */
static void interval_counters(struct kz_telescope *t, int64_t start, struct kz_tinterval *iv)
{
	struct kz_srctable_stats st;
	struct kz_rsdos_stats ds;
	kz_srctable_stats(t->src, &st);
	kz_rsdos_stats(t->dos, &ds);
	uint64_t analysed = t->by_class[0] + t->by_class[1] + t->by_class[2];
	memset(iv, 0, sizeof *iv);
	iv->sensor = t->sensor;
	iv->start = start;
	iv->len = t->interval_s;
	iv->analysed = analysed - t->prev_analysed;
	iv->sources_active = t->iv_sources;
	iv->sources_held = st.used;
	iv->sources_evicted = st.evictions - t->prev_evictions;
	iv->vectors_evicted = ds.evictions - t->prev_vector_evictions;
	iv->reordered = t->reordered - t->prev_reordered;
	t->prev_analysed = analysed;
	t->prev_evictions = st.evictions;
	t->prev_vector_evictions = ds.evictions;
	t->prev_reordered = t->reordered;
	char when[KZ_TIME_STRLEN];
	if (iv->sources_evicted && kz_time_format(start, when) == 0)
		kz_warn("interval %s: %" PRIu64 " sources evicted while still active "
		        "(budget %" PRIu32 " sources): findings may be missed; raise --max-sources",
		        when, iv->sources_evicted, st.capacity);
}

static int64_t system_clock(void)
{
	return (int64_t)time(NULL);
}

/* Closes interval iv: verdicts for its sources, its attacks, its port
 * stats and surges, then the sinks' commit. */
static void close_interval(struct kz_telescope *t, uint64_t iv)
{
	if (atomic_load(&t->error))
		return;
	uint32_t stamp = (uint32_t)(iv + 1);
	int64_t start = (int64_t)(iv * t->interval_s);
	uint32_t empty_before = 0;
	if (t->closed_any && iv > t->last_closed_iv + 1) {
		uint64_t gap = iv - t->last_closed_iv - 1;
		empty_before = gap > UINT32_MAX ? UINT32_MAX : (uint32_t)gap;
	}
	t->obs_time = t->clock();
	t->iv_sources = t->nactive;
	close_sources(t, iv);
	close_attacks(t, stamp, start);
	close_ports(t, start, empty_before);
	struct kz_tinterval counters;
	interval_counters(t, start, &counters);
	post_done(t, &counters);
	t->closed_any = true;
	t->last_closed_iv = iv;
	t->intervals++;
	struct kz_srctable_stats st;
	kz_srctable_stats(t->src, &st);
	atomic_store_explicit(&t->sources_seen, st.used, memory_order_relaxed);
}

/* --------------------------------------------------------- the back */

/* Caches the open interval's bounds in ns for the per-packet test. A
 * reordered packet keeps missing them; it then costs the division. */
static void set_open(struct kz_telescope *t)
{
	t->cur_start_ns = t->cur_iv * t->interval_s * NS_PER_S;
	t->cur_end_ns = t->cur_start_ns + t->interval_s * NS_PER_S;
}

/* Moves packet time to ts_ns; returns the open interval's stamp. */
static inline uint32_t advance(struct kz_telescope *t, uint64_t ts_ns)
{
	if (__builtin_expect(ts_ns >= t->cur_start_ns && ts_ns < t->cur_end_ns, 1)) {
		if (ts_ns > t->last_ns)
			t->last_ns = ts_ns;
		return (uint32_t)(t->cur_iv + 1);
	}
	/* Out of the open interval: the one division per interval. */
	uint64_t iv = ts_ns / NS_PER_S / t->interval_s;
	if (iv != t->cur_iv || !t->started) {
		if (!t->started) {
			t->started = true;
			t->cur_iv = iv;
			t->first_ns = ts_ns;
		} else if (iv > t->cur_iv) {
			close_interval(t, t->cur_iv);
			t->cur_iv = iv;
		} else {
			t->reordered++;
		}
	}
	if (ts_ns > t->last_ns)
		t->last_ns = ts_ns;
	set_open(t);
	return (uint32_t)(t->cur_iv + 1);
}

static void tick(struct kz_telescope *t, uint64_t now_ns)
{
	if (!t->started)
		return;
	uint64_t end_ns = (t->cur_iv + 1) * t->interval_s * NS_PER_S;
	if (now_ns < end_ns + TICK_GRACE_NS)
		return;
	close_interval(t, t->cur_iv);
	t->cur_iv = now_ns / NS_PER_S / t->interval_s;
	set_open(t);
}

/* Updates the state with one packet whose source entry is resolved. */
static inline __attribute__((always_inline)) void
update(struct kz_telescope *t, const struct kz_tpkt *p, struct kz_src *e, uint32_t idx)
{
	uint32_t stamp = advance(t, p->ts_ns);
	uint32_t s = (uint32_t)(p->ts_ns / NS_PER_S);
	unsigned r = kz_src_observe(e, p, s, t->th.silence_s, stamp);
	if (r & KZ_OBS_FIRST_IV) {
		if (t->nactive < t->active_cap)
			t->active[t->nactive++] = idx;
		else
			t->active_overflow = true;
	}
	t->scans_restarted += (r & KZ_OBS_RESTART) != 0;
	if (p->cls == KZ_TCLASS_BACKSCATTER) {
		/* Backscatter goes to the ports the attacker spoofed: it says
		 * nothing about which ports are scanned, and would fill the
		 * port stats with thousands of one-packet ports. The RS-DoS
		 * vectors account for it. */
		kz_rsdos_packet(t->dos, p, stamp);
	} else {
		uint32_t key = kz_portkey(p->proto, p->port);
		kz_portstats_packet(&t->ps, key);
		if (r & KZ_OBS_NEW_PKEY)
			kz_portstats_source(&t->ps, key, e->hll_hash);
	}
	t->by_class[p->cls]++;
}

/* A software pipeline over the batch, d packets apart per stage: at step
 * i, prefetch packet i's index slot; resolve packet i - d's entry (which
 * prefetches it); update with packet i - 2d. Each miss then has d packets'
 * work to complete in. Entries resolved and not yet used (at most d) are
 * pinned, so making room for a new source never takes one of them; d is
 * below the table's capacity, so there is always an entry to take. */
/* The pipeline's state and stages (see analyse). */
struct pipe {
	const struct kz_tpkt *pk;
	uint32_t n, d;
	const struct kz_srctable_hot *hot;
	uint32_t idx[KZ_TELESCOPE_BATCH];
};

static inline __attribute__((always_inline)) void stage_prefetch(struct pipe *q, uint32_t i)
{
	kz_srctable_prefetch_slot(q->hot, q->pk[i].h);
}

static inline __attribute__((always_inline)) void stage_resolve(struct kz_telescope *t,
                                                                struct pipe *q, uint32_t j)
{
	const struct kz_tpkt *p = &q->pk[j];
	uint32_t from = j > q->d ? j - q->d : 0;
	bool is_new;
	q->idx[j] = kz_srctable_hot_find(q->hot, p->h);
	if (q->idx[j] == UINT32_MAX)
		q->idx[j] =
		        kz_srctable_lookup(t->src, p->src, p->h, (uint32_t)(p->ts_ns / NS_PER_S),
		                           q->idx + from, j - from, &is_new);
	__builtin_prefetch(&t->ps.packets[kz_portkey(p->proto, p->port)], 1);
}

static inline __attribute__((always_inline)) void stage_update(struct kz_telescope *t,
                                                               struct pipe *q, uint32_t k)
{
	const struct kz_tpkt *p = &q->pk[k];
	struct kz_src *e = q->hot->pool + q->idx[k];
	if (__builtin_expect(e->addr.v != p->src.v, 0)) {
		/* A 32-bit tag matched another source: look it up by address,
		 * pinning the entries resolved after this one. */
		bool is_new;
		uint32_t end = k + q->d + 1 < q->n ? k + q->d + 1 : q->n;
		e = kz_srctable_entry_for(t->src, &q->idx[k], p->src, p->h,
		                          (uint32_t)(p->ts_ns / NS_PER_S), q->idx + k + 1,
		                          end - k - 1, &is_new);
	}
	update(t, p, e, q->idx[k]);
}

/* One step of the pipeline while it fills or drains (the first and last 2d
 * steps of a batch), when a stage may have no packet: out of line, as the
 * steady loop has the stages inline. */
static __attribute__((noinline)) void pipe_step(struct kz_telescope *t, struct pipe *q, uint32_t i)
{
	uint32_t n = q->n, d = q->d;
	if (i < n)
		stage_prefetch(q, i);
	if (i >= d && i - d < n)
		stage_resolve(t, q, i - d);
	if (i >= 2 * d && i - 2 * d < n)
		stage_update(t, q, i - 2 * d);
}

static void analyse(struct kz_telescope *t, const struct batch *b)
{
	struct pipe q;
	q.pk = b->p;
	q.n = b->n;
	q.d = t->lookahead;
	q.hot = kz_srctable_hot(t->src);
	uint32_t n = q.n, d = q.d, i = 0;
	for (; i < 2 * d && i < n + 2 * d; i++)
		pipe_step(t, &q, i);
	/* Every stage has a packet: no tests. */
	for (; i < n; i++) {
		stage_prefetch(&q, i);
		stage_resolve(t, &q, i - d);
		stage_update(t, &q, i - 2 * d);
	}
	for (; i < n + 2 * d; i++)
		pipe_step(t, &q, i);
}

/* Analyses or runs the control mark of one batch (the back). */
static void back_batch(struct kz_telescope *t, struct batch *b)
{
	if (b->n && !atomic_load_explicit(&t->error, memory_order_relaxed))
		analyse(t, b);
	if (b->mark == MARK_TICK)
		tick(t, b->tick_ns);
	else if (b->mark == MARK_STOP && t->started) {
		close_interval(t, t->cur_iv);
		if (!atomic_load(&t->error)) {
			/* The last records carry every finding's final counts. */
			t->obs_time = t->clock();
			sweep_sources(t, t->cur_iv, true);
			struct kz_tinterval fin = {
				.sensor = t->sensor,
				.start = (int64_t)(t->cur_iv * t->interval_s),
				.len = t->interval_s,
				.final = true,
			};
			post_done(t, &fin);
		}
	}
}

/* ---------------------------------------------------------- the ring */

/* The CPU time the calling thread has used, in seconds. */
static double thread_cpu(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Waits until *counter differs from seen. */
static void wait_change(_Atomic uint32_t *counter, uint32_t seen, _Atomic uint32_t *sleeping)
{
	for (int i = 0; i < SPIN_LIMIT; i++) {
		if (atomic_load_explicit(counter, memory_order_acquire) != seen)
			return;
		cpu_relax();
	}
	for (;;) {
		atomic_store(sleeping, 1);
		if (atomic_load(counter) != seen)
			break;
		futex_wait(counter, seen);
		if (atomic_load(counter) != seen)
			break;
	}
	atomic_store(sleeping, 0);
}

static void *back_thread(void *arg)
{
	struct kz_telescope *t = arg;
	uint32_t tail = atomic_load_explicit(&t->tail, memory_order_relaxed);
	for (;;) {
		if (atomic_load_explicit(&t->head, memory_order_acquire) == tail)
			wait_change(&t->head, tail, &t->back_sleeping);
		struct batch *b = &t->ring[tail % RING_BATCHES];
		uint32_t mark = b->mark;
		back_batch(t, b);
		atomic_store(&t->tail, ++tail);
		/* A front asleep on a full ring is woken once a quarter of
		 * it is free: early enough that it runs again before the
		 * rest is analysed, late enough that with one core for both
		 * threads they take turns in long stretches. */
		if (atomic_load(&t->front_sleeping) &&
		    atomic_load_explicit(&t->head, memory_order_relaxed) - tail <=
		            RING_BATCHES - WAKE_FRONT_AT)
			futex_wake(&t->tail);
		if (mark == MARK_STOP) {
			post_stop(t);
			t->cpu_analysis = thread_cpu();
			return NULL;
		}
	}
}

/* Publishes the batch being filled (two threads) or analyses it (one), and
 * readies the next. A sleeping back is woken when WAKE_BACK_AT batches are
 * waiting, or at once when `urgent` (a control mark, the end of a capture
 * batch: live packets must not wait for more to come). */
static void publish(struct kz_telescope *t, bool urgent)
{
	if (t->threads < 2) {
		back_batch(t, t->fill);
		t->fill->n = 0;
		t->fill->mark = MARK_NONE;
		return;
	}
	uint32_t head = atomic_load_explicit(&t->head, memory_order_relaxed) + 1;
	atomic_store(&t->head, head);
	if (atomic_load(&t->back_sleeping) &&
	    (urgent || head - atomic_load_explicit(&t->tail, memory_order_relaxed) >= WAKE_BACK_AT))
		futex_wake(&t->head);
	/* The next slot is free once the back has taken the batch published
	 * RING_BATCHES ago. */
	uint32_t tail;
	while (head - (tail = atomic_load_explicit(&t->tail, memory_order_acquire)) >= RING_BATCHES)
		wait_change(&t->tail, tail, &t->front_sleeping);
	t->fill = &t->ring[head % RING_BATCHES];
	t->fill->n = 0;
	t->fill->mark = MARK_NONE;
}

/* -------------------------------------------------------- the writer */

/* Runs one job: formats and hands it to the sinks (on the writer thread
 * with two threads, at once with one). */
static void run_job(struct kz_telescope *t, struct job *j)
{
	switch (j->type) {
	case JOB_SOURCE: {
		struct kz_verdict v = {
			.label = (enum kz_label)j->label,
			.infected = j->infected,
			.votes = j->votes,
			.syn = j->syn,
			.dsts_on_port = j->dsts_on_port,
			.port = j->port,
			.proto = j->proto,
			.rate_pps = j->rate_pps,
		};
		if (atomic_load_explicit(&t->error, memory_order_relaxed))
			break;
		kz_scan_explain(&j->src, &t->th, &v);
		emit_source(t, &j->src, &v, j->start, j->obs_time);
		break;
	}
	case JOB_RECORD:
		if (!atomic_load_explicit(&t->error, memory_order_relaxed))
			emit_record(t, j->record.rec, &j->record.ev);
		json_decref(j->record.rec);
		break;
	case JOB_STATS:
		emit_stats(t, &j->row);
		if (t->jobs)
			kz_hll_free((struct kz_hll *)j->row.hll);
		break;
	case JOB_DONE:
		sinks_done(t, &j->iv);
		break;
	default:
		break;
	}
}

static void *writer_thread(void *arg)
{
	struct kz_telescope *t = arg;
	uint32_t tail = atomic_load_explicit(&t->jtail, memory_order_relaxed);
	for (;;) {
		if (atomic_load_explicit(&t->jhead, memory_order_acquire) == tail)
			wait_change(&t->jhead, tail, &t->writer_sleeping);
		struct job *j = &t->jobs[tail % JOB_RING];
		uint32_t type = j->type;
		run_job(t, j);
		atomic_store(&t->jtail, ++tail);
		if (atomic_load(&t->poster_sleeping) &&
		    atomic_load_explicit(&t->jhead, memory_order_relaxed) - tail <= JOB_RING / 2)
			futex_wake(&t->jtail);
		if (type == JOB_STOP) {
			t->cpu_writer = thread_cpu();
			return NULL;
		}
	}
}

/* The slot for the next job: the one local job with one thread, else the
 * next ring slot once the writer has freed it. */
static struct job *job_slot(struct kz_telescope *t)
{
	if (!t->jobs)
		return &t->local_job;
	uint32_t head = atomic_load_explicit(&t->jhead, memory_order_relaxed), tail;
	while (head - (tail = atomic_load_explicit(&t->jtail, memory_order_acquire)) >= JOB_RING)
		wait_change(&t->jtail, tail, &t->poster_sleeping);
	return &t->jobs[head % JOB_RING];
}

/* Runs the job (one thread) or publishes it to the writer, waking it when
 * a quarter of the ring waits or at once for the end of an interval (a
 * live sensor's records must not wait for the next ones). */
static void job_commit(struct kz_telescope *t, struct job *j)
{
	if (!t->jobs) {
		run_job(t, j);
		return;
	}
	bool urgent = j->type == JOB_DONE || j->type == JOB_STOP;
	uint32_t head = atomic_load_explicit(&t->jhead, memory_order_relaxed) + 1;
	atomic_store(&t->jhead, head);
	if (atomic_load(&t->writer_sleeping) &&
	    (urgent ||
	     head - atomic_load_explicit(&t->jtail, memory_order_relaxed) >= JOB_RING / 4))
		futex_wake(&t->jhead);
}

static void post_source(struct kz_telescope *t, const struct kz_src *e, const struct kz_verdict *v,
                        int64_t start)
{
	struct job *j = job_slot(t);
	j->type = JOB_SOURCE;
	j->src = *e;
	j->label = (uint8_t)v->label;
	j->infected = v->infected;
	j->votes = v->votes;
	j->syn = v->syn;
	j->dsts_on_port = v->dsts_on_port;
	j->port = v->port;
	j->proto = v->proto;
	j->rate_pps = v->rate_pps;
	j->start = start;
	j->obs_time = t->obs_time;
	job_commit(t, j);
}

static void post_record(struct kz_telescope *t, json_t *rec, const struct kz_tevent *ev)
{
	struct job *j = job_slot(t);
	j->type = JOB_RECORD;
	j->record.rec = rec;
	j->record.ev = *ev;
	job_commit(t, j);
}

/* A stats row's sketch is cleared when the interval's counters are reset,
 * which may be before the writer gets to it: with a writer the job holds
 * a copy (kz_hll_clone: the same form, so the same serialised bytes). */
static void post_stats(struct kz_telescope *t, const struct kz_tstats_row *row)
{
	struct kz_hll *copy = NULL;
	if (t->jobs && row->hll) {
		int rc = kz_hll_clone(row->hll, &copy);
		if (rc) {
			set_error(t, rc, "stats sketch: %s", strerror(-rc));
			return;
		}
	}
	struct job *j = job_slot(t);
	j->type = JOB_STATS;
	j->row = *row;
	if (t->jobs)
		j->row.hll = copy;
	job_commit(t, j);
}

static void post_done(struct kz_telescope *t, const struct kz_tinterval *iv)
{
	struct job *j = job_slot(t);
	j->type = JOB_DONE;
	j->iv = *iv;
	job_commit(t, j);
}

/* Ends the writer after the jobs before it (two threads). */
static void post_stop(struct kz_telescope *t)
{
	if (!t->jobs)
		return;
	struct job *j = job_slot(t);
	j->type = JOB_STOP;
	t->stop_posted = true;
	job_commit(t, j);
}

/* --------------------------------------------------------- the front */

static inline bool in_darknet(const struct kz_telescope *t, struct kz_addr a)
{
	if (__builtin_expect(t->nranges == 0, 0))
		return kz_ipset_contains(t->darknet, a);
	for (size_t i = 0; i < t->nranges; i++) {
		if (a.v >= t->ranges[i].lo && a.v <= t->ranges[i].hi)
			return true;
	}
	return false;
}

/* in_darknet for an IPv4 destination (host order), as the fused path
 * gives it. */
static inline bool in_darknet4(const struct kz_telescope *t, uint32_t a)
{
	if (__builtin_expect(t->nranges == 0, 0))
		return kz_ipset_contains(t->darknet, kz_addr_from_v4(a));
	for (size_t i = 0; i < t->nranges4; i++) {
		if (a >= t->ranges4[i].lo && a <= t->ranges4[i].hi)
			return true;
	}
	return false;
}

/* The frames the fused path declines: the full decoder and classifier.
 * Returns true when the packet counts (decoded, in the darknet). Out of
 * line, so that the fused path's frame saves fewer registers. */
static __attribute__((noinline)) bool frame_general(struct kz_telescope *t,
                                                    const struct kz_frame *f, struct kz_tpkt *p)
{
	enum kz_pkt_result r = kz_pkt_decode(&t->pkt, f->linktype, f->data, f->caplen, f->wirelen);
	kz_pkt_count(&t->decode, r);
	if (r != KZ_PKT_OK)
		return false;
	if (!in_darknet(t, t->pkt.dst)) {
		t->outside++;
		return false;
	}
	kz_classify(&t->pkt, f->ts_ns, t->rules, p);
	return true;
}

void kz_telescope_frame(void *user, const struct kz_frame *f)
{
	struct kz_telescope *t = user;
	t->frames++;
	t->bytes += f->caplen;
	if (__builtin_expect((t->frames & 0xffff) == 0, 0))
		atomic_store_explicit(&t->frames_seen, t->frames, memory_order_relaxed);
	struct batch *b = t->fill;
	struct kz_tpkt *p = &b->p[b->n];
	uint32_t dst4;
	/* Most frames take the fused path straight into the batch; the
	 * slot is only taken (b->n) once the packet is known to count. */
	if (__builtin_expect(kz_classify_frame(f->linktype, f->data, f->caplen, f->wirelen,
	                                       f->ts_ns, t->rules, p, &dst4),
	                     1)) {
		t->decode.by_result[KZ_PKT_OK]++;
		if (!in_darknet4(t, dst4)) {
			t->outside++;
			return;
		}
	} else if (!frame_general(t, f, p)) {
		return;
	}
	t->analysed++;
	/* Hashing here balances the two threads: the back has more to do. */
	p->h = kz_srctable_hash_key(&t->key, p->src);
	if (++b->n == KZ_TELESCOPE_BATCH)
		publish(t, false);
}

void kz_telescope_push(struct kz_telescope *t)
{
	atomic_store_explicit(&t->frames_seen, t->frames, memory_order_relaxed);
	if (t->fill->n)
		publish(t, true);
}

void kz_telescope_tick(struct kz_telescope *t, uint64_t now_ns)
{
	t->fill->mark = MARK_TICK;
	t->fill->tick_ns = now_ns;
	publish(t, true);
}

int kz_telescope_finish(struct kz_telescope *t)
{
	if (t->finished)
		return kz_telescope_error(t);
	t->finished = true;
	t->fill->mark = MARK_STOP;
	if (t->threads < 2) {
		back_batch(t, t->fill);
		t->fill->n = 0;
		t->fill->mark = MARK_NONE;
	} else {
		atomic_store(&t->head, atomic_load(&t->head) + 1);
		if (atomic_load(&t->back_sleeping))
			futex_wake(&t->head);
		pthread_join(t->thread, NULL);
		t->thread_running = false;
		/* The back posted the writer's stop after its last records. */
		pthread_join(t->writer, NULL);
		t->writer_running = false;
	}
	atomic_store(&t->frames_seen, t->frames);
	t->cpu_caller = thread_cpu();
	return kz_telescope_error(t);
}

/* ------------------------------------------------------ set-up, summary */

static int build_darknet(struct kz_telescope *t, const struct kz_telescope_config *cfg, char *err,
                         size_t errlen)
{
	if (cfg->ndarknet == 0) {
		snprintf(err, errlen, "--darknet: no prefix given");
		return -EINVAL;
	}
	int rc = kz_ipset_new(&t->darknet);
	if (rc)
		return rc;
	for (size_t i = 0; i < cfg->ndarknet; i++) {
		bool overlapped = false;
		if ((rc = kz_ipset_add_cidr(t->darknet, &cfg->darknet[i], &overlapped)))
			return rc;
		if (overlapped) {
			char buf[KZ_CIDR_STRLEN];
			kz_warn("--darknet: %s overlaps an earlier prefix; counted once",
			        kz_cidr_format(&cfg->darknet[i], buf));
		}
	}
	size_t nr = kz_ipset_range_count(t->darknet);
	if (nr <= DARKNET_LINEAR_MAX) {
		kz_u128 v4lo = kz_addr_from_v4(0).v, v4hi = kz_addr_from_v4(UINT32_MAX).v;
		for (size_t i = 0; i < nr; i++) {
			struct kz_addr_range r = kz_ipset_range(t->darknet, i);
			t->ranges[i].lo = r.first.v;
			t->ranges[i].hi = r.last.v;
			if (r.last.v < v4lo || r.first.v > v4hi)
				continue;
			kz_u128 lo = r.first.v < v4lo ? v4lo : r.first.v;
			kz_u128 hi = r.last.v > v4hi ? v4hi : r.last.v;
			t->ranges4[t->nranges4].lo = (uint32_t)lo;
			t->ranges4[t->nranges4].hi = (uint32_t)hi;
			t->nranges4++;
		}
		t->nranges = nr;
	}
	kz_u128 n4 = kz_ipset_count_in(t->darknet, kz_addr_from_v4(0), kz_addr_from_v4(UINT32_MAX));
	t->n4 = (uint64_t)n4;
	return 0;
}

int kz_telescope_new(const struct kz_telescope_config *cfg, struct kz_telescope **out, char *err,
                     size_t errlen)
{
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!cfg->sensor || !*cfg->sensor) {
		snprintf(err, errlen, "--sensor: empty name");
		return -EINVAL;
	}
	if (cfg->interval_s < 1 || cfg->interval_s > KZ_TELESCOPE_INTERVAL_MAX) {
		snprintf(err, errlen, "--interval: %u s outside 1..%u", cfg->interval_s,
		         KZ_TELESCOPE_INTERVAL_MAX);
		return -EINVAL;
	}
	if (cfg->max_sources < 1) {
		snprintf(err, errlen, "--max-sources: must be at least 1");
		return -EINVAL;
	}
	/* Aligned: the two threads' halves of the struct start on lines of
	 * their own. */
	struct kz_telescope *t = aligned_alloc(64, (sizeof *t + 63) & ~(size_t)63);
	if (!t)
		return -ENOMEM;
	memset(t, 0, sizeof *t);
	int rc = -ENOMEM;
	t->sensor = strdup(cfg->sensor);
	if (!t->sensor)
		goto fail;
	t->interval_s = cfg->interval_s;
	t->update_ivs = cfg->update_s > cfg->interval_s
	                        ? (cfg->update_s + cfg->interval_s - 1) / cfg->interval_s
	                        : 1;
	t->rules = cfg->anonymised_dst ? KZ_FP_ALL & ~KZ_FP_DST_RULES : KZ_FP_ALL;
	t->threads = cfg->threads >= 2 ? 2 : 1;
	t->lookahead = cfg->max_sources - 1 < LOOKAHEAD ? cfg->max_sources - 1 : LOOKAHEAD;
	t->clock = cfg->clock ? cfg->clock : system_clock;
	if ((rc = build_darknet(t, cfg, err, errlen)))
		goto fail;
	if ((rc = kz_srcrec_enc_new(cfg->sensor, &t->enc))) {
		if (rc == -EINVAL)
			snprintf(err, errlen, "--sensor: not valid UTF-8, or longer than %d bytes",
			         KZ_SRCREC_SENSOR_MAX);
		goto fail;
	}
	kz_scan_thresholds(t->n4, t->rules, &t->th);

	uint32_t attacks = cfg->max_attacks;
	if (attacks == 0)
		attacks = cfg->max_sources / 16 > 4096 ? cfg->max_sources / 16 : 4096;
	struct kz_surge_params sp;
	kz_surge_defaults(&sp);
	if ((rc = kz_srctable_new(cfg->max_sources, t->th.silence_s, &t->src)) ||
	    (rc = kz_rsdos_new(attacks, &t->dos)) || (rc = kz_portstats_init(&t->ps)) ||
	    (rc = kz_surge_new(&sp, &t->surge)))
		goto fail;
	/* Each source is listed once per interval, plus once for every entry
	 * that changes hands in it; beyond twice the budget the flush sweeps
	 * the table instead. */
	t->key = *kz_srctable_key(t->src);
	t->active_cap = cfg->max_sources > UINT32_MAX / 2 ? UINT32_MAX : 2 * cfg->max_sources;
	t->active = calloc(t->active_cap, sizeof *t->active);
	t->qualified_cap = 2 * attacks;
	t->qualified = calloc(t->qualified_cap, sizeof *t->qualified);
	if (!t->active || !t->qualified) {
		rc = -ENOMEM;
		goto fail;
	}
	if (t->threads >= 2) {
		t->ring = aligned_alloc(64, RING_BATCHES * sizeof *t->ring);
		if (!t->ring) {
			rc = -ENOMEM;
			goto fail;
		}
		t->fill = &t->ring[0];
		t->fill->n = 0;
		t->fill->mark = MARK_NONE;
		t->jobs = aligned_alloc(64, JOB_RING * sizeof *t->jobs);
		if (!t->jobs) {
			rc = -ENOMEM;
			goto fail;
		}
		if ((rc = -pthread_create(&t->writer, NULL, writer_thread, t)) != 0) {
			snprintf(err, errlen, "writer thread: %s", strerror(-rc));
			goto fail;
		}
		t->writer_running = true;
		if ((rc = -pthread_create(&t->thread, NULL, back_thread, t)) != 0) {
			snprintf(err, errlen, "analysis thread: %s", strerror(-rc));
			goto fail;
		}
		t->thread_running = true;
	} else {
		t->fill = &t->single;
	}
	*out = t;
	return 0;
fail:
	if (rc == -ENOMEM && errlen && !err[0])
		snprintf(err, errlen, "out of memory for %u sources", cfg->max_sources);
	kz_telescope_free(t);
	return rc;
}

int kz_telescope_add_sink(struct kz_telescope *t, const struct kz_tsink *sink, void *state)
{
	if (t->nsinks == KZ_TELESCOPE_SINKS_MAX)
		return -ENOSPC;
	t->sinks[t->nsinks].ops = sink;
	t->sinks[t->nsinks].state = state;
	t->nsinks++;
	return 0;
}

void kz_telescope_summary(struct kz_telescope *t, struct kz_telescope_summary *s)
{
	memset(s, 0, sizeof *s);
	s->frames = t->frames;
	s->bytes = t->bytes;
	s->decode = t->decode;
	s->outside = t->outside;
	s->analysed = t->analysed;
	memcpy(s->by_class, t->by_class, sizeof s->by_class);
	s->reordered = t->reordered;
	s->intervals = t->intervals;
	memcpy(s->events_new, t->events_new, sizeof s->events_new);
	memcpy(s->events_update, t->events_update, sizeof s->events_update);
	memcpy(s->by_label, t->by_label, sizeof s->by_label);
	s->stats_rows = t->stats_rows;
	s->scans_restarted = t->scans_restarted;
	s->hll_errors = t->ps.hll_errors;
	kz_srctable_stats(t->src, &s->sources);
	kz_rsdos_stats(t->dos, &s->attacks);
	s->first_ns = t->first_ns;
	s->last_ns = t->last_ns;
	s->cpu_caller = t->cpu_caller;
	s->cpu_analysis = t->cpu_analysis;
	s->cpu_writer = t->cpu_writer;
	s->memory = kz_srctable_memory(t->src) + kz_rsdos_memory(t->dos) +
	            (size_t)t->active_cap * sizeof *t->active +
	            (size_t)KZ_PORTKEYS * (sizeof *t->ps.packets + sizeof *t->ps.hll +
	                                   2 * sizeof *t->ps.touched) +
	            (size_t)KZ_PORTSTATS_QUEUE * 2 * sizeof *t->ps.queue + t->ps.hll_bytes;
}

void kz_telescope_progress(const struct kz_telescope *t, uint64_t *frames, uint64_t *sources,
                           uint64_t *events)
{
	*frames = atomic_load_explicit(&t->frames_seen, memory_order_relaxed);
	*sources = atomic_load_explicit(&t->sources_seen, memory_order_relaxed);
	*events = atomic_load_explicit(&t->events_seen, memory_order_relaxed);
}

const struct kz_scan_thresholds *kz_telescope_thresholds(const struct kz_telescope *t)
{
	return &t->th;
}

uint64_t kz_telescope_darknet_size(const struct kz_telescope *t)
{
	return t->n4;
}

void kz_telescope_free(struct kz_telescope *t)
{
	if (!t)
		return;
	if (t->thread_running) {
		/* Freed without finishing: stop the thread, discarding work. */
		atomic_store(&t->error, t->error ? t->error : -ECANCELED);
		t->fill->mark = MARK_STOP;
		t->fill->n = 0;
		atomic_store(&t->head, atomic_load(&t->head) + 1);
		futex_wake(&t->head);
		pthread_join(t->thread, NULL);
		t->thread_running = false;
	}
	if (t->writer_running) {
		/* The back, if it ran, posted the stop; else it is posted here.
		 * Jobs still queued are run with the error set: they free
		 * what they hold and write nothing. */
		atomic_store(&t->error, t->error ? t->error : -ECANCELED);
		if (!t->stop_posted)
			post_stop(t);
		pthread_join(t->writer, NULL);
	}
	kz_srctable_free(t->src);
	kz_rsdos_free(t->dos);
	if (t->ps.packets || t->ps.hll || t->ps.touched)
		kz_portstats_destroy(&t->ps);
	kz_surge_free(t->surge);
	kz_ipset_free(t->darknet);
	kz_srcrec_enc_free(t->enc);
	free(t->active);
	free(t->qualified);
	free(t->ring);
	free(t->jobs);
	free(t->sensor);
	free(t);
}
