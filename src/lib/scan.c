/*
 * Survey stage 1 (scan.h has the shape of a run).
 *
 * Threads: kz_scan_run's thread sends (SYN mode) or runs the epoll loop
 * (connect mode), and reports progress; in SYN mode one more thread reads
 * the capture and validates replies. Counters both threads touch are
 * updated with relaxed atomics: they are statistics, ordered by nothing.
 *
 * Sending paces a schedule (ratelimit.h): after each wake-up the sender
 * takes every packet that is due, up to a batch, so the average rate is
 * exact however the wake-ups fall; it sleeps until about a tenth of a
 * millisecond's worth of packets is due (so a batch carries ~rate/10^4
 * frames) with a 1 us timer slack, so that at 100 kpps and above it wakes
 * every 100 us rather than spinning on a shared core.
 */
#include "scan.h"

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "connscan.h"
#include "hitqueue.h"
#include "hitset.h"
#include "ipset.h"
#include "log.h"
#include "ratelimit.h"
#include "rawrecv.h"
#include "rawsend.h"
#include "synprobe.h"

#define NSEC_PER_MS UINT64_C(1000000)
#define PROGRESS_NS KZ_NSEC_PER_SEC

/* Duplicate suppression remembers at least this many hits (hitset.h). */
#define HIT_WINDOW (UINT64_C(1) << 20)

/* Hits waiting for delivery (hitqueue.h): the shard's targets, within
 * these bounds (48 bytes each: at most 12 MiB). */
#define HIT_QUEUE_MIN 1024
#define HIT_QUEUE_MAX (UINT64_C(1) << 18)

#define LOAD(x)   __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ADD(x, n) __atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define SET(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

struct kz_scan {
	struct kz_scan_config cfg;
	uint16_t *ports;
	struct kz_scan_plan plan;
	uint64_t hit_window; /* hits the duplicate set remembers at least */
	const struct kz_ipset *targets;
	struct kz_cyclic_iter walk;
	bool resolved;
	int ifindex;

	struct kz_synprobe *sp;
	struct kz_hitset *hits;
	struct kz_rawsend *tx;
	struct kz_rawrecv *rx;
	struct kz_connscan *cs;

	struct kz_hitqueue *hq;
	pthread_t dl_thread;
	bool dl_started;

	int stop_requests;
	int rx_stop;
	int rx_error;
	bool rx_started;
	pthread_t rx_thread;

	/* Counters (struct kz_scan_stats); atomics where two threads meet. */
	uint64_t targets_done, sent, send_drops, send_retries, scope_refusals;
	uint64_t replies, open, closed, duplicates, unmatched, outside_scope, answered;
	int cooldown_cut;
	uint64_t timeouts, errors, slipped;
	uint64_t start_ns, first_send_ns, last_send_ns, cooldown_end_ns;
	int sending;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * KZ_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int64_t wall_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / KZ_NSEC_PER_SEC),
		               .tv_nsec = (long)(ns % KZ_NSEC_PER_SEC) };
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

int kz_scan_new(const struct kz_scan_config *cfg, struct kz_scan **out)
{
	if (!cfg->scope || cfg->nports == 0 || cfg->nports > KZ_SYNPROBE_MAX_PORTS ||
	    !cfg->on_hit) {
		kz_err("scan: no scope, no ports or no result callback");
		return -EINVAL;
	}
	if (cfg->rate == 0 || cfg->rate > KZ_SCAN_MAX_RATE) {
		kz_err("scan: rate %llu is outside 1..%d per second", (unsigned long long)cfg->rate,
		       KZ_SCAN_MAX_RATE);
		return -EINVAL;
	}
	if (cfg->probes < 1 || cfg->probes > KZ_SYNPROBE_MAX_PROBES) {
		kz_err("scan: %u probes per target is outside 1..%d", cfg->probes,
		       KZ_SYNPROBE_MAX_PROBES);
		return -EINVAL;
	}
	if (cfg->shards == 0 || cfg->shard >= cfg->shards) {
		kz_err("scan: shard %llu of %llu does not exist (shards count from 0)",
		       (unsigned long long)cfg->shard, (unsigned long long)cfg->shards);
		return -EINVAL;
	}
	if (cfg->sport_first == 0 || cfg->sport_last < cfg->sport_first) {
		kz_err("scan: source ports %u-%u are not a range", cfg->sport_first,
		       cfg->sport_last);
		return -EINVAL;
	}
	if (cfg->mode == KZ_SCAN_CONNECT && cfg->cooldown_ms == 0) {
		kz_err("scan: connect mode needs a cooldown above 0 (it is each attempt's "
		       "timeout)");
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->nports; i++)
		for (size_t j = 0; j < i; j++)
			if (cfg->ports[i] == cfg->ports[j] || cfg->ports[i] == 0) {
				kz_err("scan: port %u is zero or repeated", cfg->ports[i]);
				return -EINVAL;
			}

	const struct kz_ipset *targets = kz_scope_targets(cfg->scope);
	kz_u128 addresses = kz_ipset_size(targets);
	if (addresses == 0) {
		kz_err("scan: the scope has no target");
		return -EINVAL;
	}
	if (addresses > KZ_CYCLIC_MAX_N / cfg->nports) {
		kz_err("scan: the scope times %zu ports is more than 2^62 targets; narrow the "
		       "scope",
		       cfg->nports);
		return -E2BIG;
	}
	struct kz_scan *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->ports = calloc(cfg->nports, sizeof *s->ports);
	if (!s->ports) {
		free(s);
		return -ENOMEM;
	}
	memcpy(s->ports, cfg->ports, cfg->nports * sizeof *s->ports);
	s->cfg.ports = s->ports;
	s->targets = targets;

	struct kz_scan_plan *p = &s->plan;
	p->addresses = addresses;
	p->nports = cfg->nports;
	p->targets = (uint64_t)addresses * cfg->nports;
	int rc = kz_cyclic_init(&p->perm, p->targets, cfg->seed);
	if (rc == 0)
		rc = kz_cyclic_shard(&p->perm, cfg->shard, cfg->shards, &s->walk);
	if (rc < 0) {
		kz_scan_free(s);
		return rc;
	}
	p->shard_targets = kz_cyclic_shard_estimate(&p->perm, cfg->shard, cfg->shards);
	p->packets = p->shard_targets * (cfg->mode == KZ_SCAN_SYN ? cfg->probes : 1);
	p->send_seconds = (double)p->packets / (double)cfg->rate;
	/* Two keys per target: the answer's kind and "answered". */
	uint64_t window = 2 * p->shard_targets < HIT_WINDOW ? 2 * p->shard_targets : HIT_WINDOW;
	s->hit_window = window ? window : 1;
	rc = kz_hitset_new(s->hit_window, cfg->key, &s->hits);
	if (rc < 0) {
		kz_scan_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

const struct kz_scan_plan *kz_scan_plan(const struct kz_scan *s)
{
	return &s->plan;
}

/*
 * The next target of this shard's walk that may be probed. THE scope check:
 * every SYN frame, every connect() and every dry-run line is made from what
 * this returns, right after it returns it.
 */
static bool take_target(struct kz_scan *s, struct kz_addr *addr, size_t *port_index)
{
	uint64_t t;
	while (kz_cyclic_next(&s->walk, &t)) {
		uint64_t ai = t / s->cfg.nports;
		*port_index = (size_t)(t % s->cfg.nports);
		if (kz_ipset_nth(s->targets, ai, addr) != 0 ||
		    !kz_scope_allows(s->cfg.scope, *addr)) {
			ADD(s->scope_refusals, 1);
			continue;
		}
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------- resolve */

/* The lowest target of each family. */
static void first_targets(const struct kz_ipset *t, bool *has4, struct kz_addr *first4, bool *has6,
                          struct kz_addr *first6)
{
	struct kz_addr lo4 = kz_addr_from_v4(0), hi4 = kz_addr_from_v4(UINT32_MAX);
	struct kz_addr zero = { 0 }, below4 = { lo4.v - 1 }, above4 = { hi4.v + 1 };
	struct kz_addr top = { ~(kz_u128)0 };
	*has4 = kz_ipset_first_in(t, lo4, hi4, first4);
	*has6 = kz_ipset_first_in(t, zero, below4, first6) ||
	        kz_ipset_first_in(t, above4, top, first6);
}

static void set_source(struct kz_scan_plan *p, bool v4, struct kz_addr src)
{
	if (v4) {
		p->src4 = src;
		p->has_src4 = true;
	} else {
		p->src6 = src;
		p->has_src6 = true;
	}
}

/* Resolves one family: interface (checked or chosen), source, next-hop MAC.
 * The chosen interface is kept in s->ifindex and plan.ifname. */
static int resolve_family(struct kz_scan *s, struct kz_addr first, bool need_mac, bool v4,
                          kz_u128 count)
{
	struct kz_scan_plan *p = &s->plan;
	char abuf[KZ_ADDR_STRLEN];
	const char *fam = v4 ? "IPv4" : "IPv6";
	struct kz_route rt;
	int rrc = kz_netif_route(first, &rt);
	if (rrc < 0 && need_mac && !(s->cfg.has_gateway_mac && s->cfg.ifname)) {
		kz_err("no route to %s (%s): give -i and --gateway-mac, or fix the routing table",
		       kz_addr_format(first, abuf), strerror(-rrc));
		return rrc;
	}
	if (s->ifindex == 0) {
		if (s->cfg.ifname) {
			s->ifindex = (int)if_nametoindex(s->cfg.ifname);
			if (s->ifindex == 0) {
				kz_err("interface %s: %s", s->cfg.ifname, strerror(errno));
				return -ENODEV;
			}
		} else if (rrc == 0) {
			s->ifindex = rt.ifindex;
		} else {
			/* No route and no interface named: a dry run can
			 * still use --source-ip for its cookies. */
			if (s->cfg.has_source && kz_addr_is_v4(s->cfg.source) == v4)
				set_source(p, v4, s->cfg.source);
			return need_mac ? rrc : 0;
		}
		if (!if_indextoname((unsigned)s->ifindex, p->ifname)) {
			kz_err("interface %d: %s", s->ifindex, strerror(errno));
			return -ENODEV;
		}
	}
	if (rrc == 0 && rt.ifindex != s->ifindex) {
		char other[IF_NAMESIZE] = "?";
		if_indextoname((unsigned)rt.ifindex, other);
		if (s->cfg.ifname)
			kz_warn("the routing table sends %s by %s, not %s: probes leave by %s as "
			        "asked",
			        kz_addr_format(first, abuf), other, p->ifname, p->ifname);
		else if (need_mac) {
			kz_err("IPv4 and IPv6 targets leave by different interfaces (%s, %s): give "
			       "-i",
			       p->ifname, other);
			return -EINVAL;
		}
	}
	struct kz_netif nif;
	int rc = kz_netif_get(p->ifname, &nif);
	if (rc < 0) {
		kz_err("interface %s: %s", p->ifname, strerror(-rc));
		return rc;
	}
	if (need_mac && !nif.ethernet) {
		kz_err("interface %s is not Ethernet: SYN mode writes Ethernet frames; use --mode "
		       "connect",
		       p->ifname);
		return -EPROTONOSUPPORT;
	}
	memcpy(p->if_mac, nif.mac, KZ_MAC_LEN);

	/* Source: --source-ip of this family, else the kernel's preferred
	 * source for the route, else the interface's first address. */
	bool has_src = false;
	struct kz_addr src;
	if (s->cfg.has_source && kz_addr_is_v4(s->cfg.source) == v4) {
		src = s->cfg.source;
		has_src = true;
	} else if (rrc == 0 && rt.has_prefsrc && rt.ifindex == s->ifindex) {
		src = rt.prefsrc;
		has_src = true;
	} else if (v4 ? nif.has_v4 : nif.has_v6) {
		src = v4 ? nif.v4 : nif.v6;
		has_src = true;
	}
	if (!has_src) {
		if (!need_mac)
			return 0;
		kz_err("no %s source address on %s: give --source-ip", fam, p->ifname);
		return -EADDRNOTAVAIL;
	}
	set_source(p, v4, src);
	if (!need_mac)
		return 0;

	uint8_t *mac = v4 ? p->mac4 : p->mac6;
	if (s->cfg.has_gateway_mac) {
		memcpy(mac, s->cfg.gateway_mac, KZ_MAC_LEN);
	} else {
		if (rrc < 0 || rt.ifindex != s->ifindex) {
			kz_err("cannot tell the next hop for %s on %s: give --gateway-mac",
			       kz_addr_format(first, abuf), p->ifname);
			return -EHOSTUNREACH;
		}
		rc = kz_netif_neighbour(s->ifindex, rt.next_hop, mac);
		if (rc < 0) {
			char nbuf[KZ_ADDR_STRLEN];
			kz_err("the MAC of %s %s is not in the neighbour table of %s (nothing is "
			       "sent to learn it): give --gateway-mac, see `ip neigh`",
			       rt.via_gateway ? "gateway" : "on-link target",
			       kz_addr_format(rt.next_hop, nbuf), p->ifname);
			return rc;
		}
		if (!rt.via_gateway && count > 1)
			kz_warn("%s targets are on %s's own link: every probe goes to the MAC of "
			        "%s; give --gateway-mac of a router or use --mode connect to reach "
			        "the others",
			        fam, p->ifname, kz_addr_format(rt.next_hop, abuf));
	}
	if (v4)
		p->has_mac4 = true;
	else
		p->has_mac6 = true;
	return 0;
}

static int make_synprobe(struct kz_scan *s)
{
	struct kz_scan_plan *p = &s->plan;
	struct kz_synprobe_config sc;
	memset(&sc, 0, sizeof sc);
	memcpy(sc.key, s->cfg.key, sizeof sc.key);
	sc.has_src4 = p->has_src4;
	sc.has_src6 = p->has_src6;
	sc.src4 = p->src4;
	sc.src6 = p->src6;
	memcpy(sc.src_mac, p->if_mac, KZ_MAC_LEN);
	memcpy(sc.dst_mac4, p->mac4, KZ_MAC_LEN);
	memcpy(sc.dst_mac6, p->mac6, KZ_MAC_LEN);
	sc.sport_first = s->cfg.sport_first;
	sc.sport_last = s->cfg.sport_last;
	sc.probes = s->cfg.probes;
	sc.ports = s->ports;
	sc.nports = s->cfg.nports;
	kz_synprobe_free(s->sp);
	s->sp = NULL;
	int rc = kz_synprobe_new(&sc, &s->sp);
	explicit_bzero(sc.key, sizeof sc.key);
	return rc;
}

int kz_scan_resolve(struct kz_scan *s, bool need_mac)
{
	bool has4, has6;
	struct kz_addr first4, first6;
	first_targets(s->targets, &has4, &first4, &has6, &first6);
	struct kz_addr lo4 = kz_addr_from_v4(0), hi4 = kz_addr_from_v4(UINT32_MAX);
	kz_u128 n4 = kz_ipset_count_in(s->targets, lo4, hi4);
	int rc = 0;
	if (s->cfg.mode == KZ_SCAN_CONNECT) {
		/* Only the source, for the records: the kernel picks the
		 * interface and next hop of each connection. */
		if (has4)
			rc = resolve_family(s, first4, false, true, n4);
		if (has6)
			rc = resolve_family(s, first6, false, false, s->plan.addresses - n4);
		return 0;
	}
	if (has4)
		rc = resolve_family(s, first4, need_mac, true, n4);
	if (rc == 0 && has6)
		rc = resolve_family(s, first6, need_mac, false, s->plan.addresses - n4);
	if (rc < 0)
		return need_mac ? rc : 0;
	if (!s->plan.has_src4 && !s->plan.has_src6)
		return 0;
	rc = make_synprobe(s);
	if (rc < 0) {
		kz_err("scan: cannot set up the probes: %s", strerror(-rc));
		return rc;
	}
	s->resolved = need_mac;
	return 0;
}

/* ---------------------------------------------------------------- dry run */

int kz_scan_dry_run(struct kz_scan *s, kz_scan_probe_fn *fn, void *ctx)
{
	unsigned probes = s->cfg.mode == KZ_SCAN_SYN ? s->cfg.probes : 1;
	struct kz_scan_probe p;
	size_t pi;
	while (take_target(s, &p.addr, &pi)) {
		p.port = s->ports[pi];
		for (unsigned k = 0; k < probes; k++) {
			struct kz_synprobe_cookie c;
			p.probe = k;
			p.has_cookie = s->sp && kz_synprobe_cookie(s->sp, p.addr, p.port, k, &c);
			p.sport = p.has_cookie ? c.sport : 0;
			p.seq = p.has_cookie ? c.seq : 0;
			int rc = fn(ctx, &p);
			if (rc)
				return rc;
		}
		ADD(s->targets_done, 1);
	}
	return 0;
}

/* ------------------------------------------------------------------- open */

/* The kernel filter: TCP to our source addresses and source-port range;
 * over IPv4 also only SYN-ACKs and RSTs (libpcap's tcp[] reaches into IPv4
 * headers only). */
static void capture_filter(const struct kz_scan *s, char *buf, size_t len)
{
	char a[KZ_ADDR_STRLEN];
	size_t n = 0;
	buf[0] = '\0';
	if (s->plan.has_src4)
		n += (size_t)snprintf(buf + n, len - n,
		                      "(ip and tcp and dst host %s and dst portrange %u-%u and "
		                      "(tcp[13] & 0x12 == 0x12 or tcp[13] & 0x04 != 0))",
		                      kz_addr_format(s->plan.src4, a), s->cfg.sport_first,
		                      s->cfg.sport_last);
	if (s->plan.has_src6 && n < len)
		snprintf(buf + n, len - n,
		         "%s(ip6 and tcp and dst host %s and dst portrange %u-%u)", n ? " or " : "",
		         kz_addr_format(s->plan.src6, a), s->cfg.sport_first, s->cfg.sport_last);
}

int kz_scan_open(struct kz_scan *s)
{
	int rc;
	if (s->cfg.mode == KZ_SCAN_CONNECT) {
		unsigned max = s->cfg.max_inflight;
		if (max == 0) {
			/* Enough for the rate times the timeout, within the
			 * descriptors this process may open. */
			struct rlimit rl;
			uint64_t fds = 1024;
			if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
				fds = rl.rlim_cur;
			uint64_t want = s->cfg.rate * s->cfg.cooldown_ms / 1000 * 5 / 4 + 64;
			uint64_t cap = fds > 128 ? fds - 64 : 64;
			want = want < cap ? want : cap;
			max = (unsigned)(want < KZ_CONNSCAN_MAX_INFLIGHT
			                         ? want
			                         : KZ_CONNSCAN_MAX_INFLIGHT);
		}
		struct kz_connscan_config cc = {
			.max_inflight = max,
			.timeout_ms = s->cfg.cooldown_ms,
			.syn_count = s->cfg.probes,
		};
		if (s->cfg.has_source) {
			bool v4 = kz_addr_is_v4(s->cfg.source);
			cc.has_src4 = v4;
			cc.has_src6 = !v4;
			cc.src4 = cc.src6 = s->cfg.source;
		}
		rc = kz_connscan_new(&cc, &s->cs);
		if (rc < 0)
			kz_err("connect mode: %s", strerror(-rc));
		return rc;
	}
	if (!s->resolved) {
		rc = kz_scan_resolve(s, true);
		if (rc < 0)
			return rc;
	}
	rc = kz_rawsend_open(s->ifindex, &s->tx);
	if (rc < 0) {
		kz_err("raw socket on %s: %s%s", s->plan.ifname, strerror(-rc),
		       rc == -EPERM ? " (SYN mode needs root or CAP_NET_RAW; --mode connect does "
		                      "not)"
		                    : "");
		return rc;
	}
	char filter[512];
	capture_filter(s, filter, sizeof filter);
	struct kz_rawrecv_config rc_cfg = { .ifname = s->plan.ifname, .filter = filter };
	rc = kz_rawrecv_open(&rc_cfg, &s->rx);
	if (rc < 0)
		return rc;
	return 0;
}

/* ------------------------------------------------------------------ stats */

void kz_scan_stats(struct kz_scan *s, struct kz_scan_stats *st)
{
	memset(st, 0, sizeof *st);
	st->expected = s->plan.packets;
	st->targets_done = LOAD(s->targets_done);
	st->sent = LOAD(s->sent);
	st->send_drops = LOAD(s->send_drops);
	st->send_retries = LOAD(s->send_retries);
	st->scope_refusals = LOAD(s->scope_refusals);
	st->replies = LOAD(s->replies);
	st->open = LOAD(s->open);
	st->closed = LOAD(s->closed);
	st->duplicates = LOAD(s->duplicates);
	st->unmatched = LOAD(s->unmatched);
	st->outside_scope = LOAD(s->outside_scope);
	st->answered = LOAD(s->answered);
	st->cooldown_cut = LOAD(s->cooldown_cut) != 0;
	st->timeouts = LOAD(s->timeouts);
	st->errors = LOAD(s->errors);
	st->slipped = LOAD(s->slipped);
	if (s->rx) {
		struct kz_rawrecv_stats rs;
		kz_rawrecv_stats(s->rx, &rs);
		st->recv_drops = rs.dropped + rs.ifdropped;
	}
	uint64_t now = mono_ns();
	uint64_t start = LOAD(s->start_ns);
	st->elapsed_ns = start ? now - start : 0;
	uint64_t first = LOAD(s->first_send_ns), last = LOAD(s->last_send_ns);
	st->send_ns = last > first ? last - first : 0;
	st->sending = LOAD(s->sending) != 0;
	uint64_t end = LOAD(s->cooldown_end_ns);
	st->cooldown_left_ms = end > now ? (end - now) / NSEC_PER_MS : 0;
	st->interrupted = LOAD(s->stop_requests) > 0;
}

static void progress(struct kz_scan *s, uint64_t now, uint64_t *next)
{
	if (now < *next || !s->cfg.on_progress)
		return;
	*next = now + PROGRESS_NS;
	struct kz_scan_stats st;
	kz_scan_stats(s, &st);
	s->cfg.on_progress(s->cfg.ctx, &st);
}

/* --------------------------------------------------------------- SYN mode */

/* ------------------------------------------------------------- delivery */

/* Hands a new open port to on_hit: through the queue to the delivery
 * thread during kz_scan_run, directly otherwise (kz_scan_receive from a
 * test or a capture file). */
static void deliver(struct kz_scan *s, const struct kz_scan_hit *h)
{
	if (!s->dl_started) {
		s->cfg.on_hit(s->cfg.ctx, h);
		return;
	}
	struct kz_hitqueue_item it = {
		.addr = h->addr,
		.time = h->time,
		.port_index = (uint32_t)h->port_index,
		.port = h->port,
		.probe = (uint8_t)h->probe,
		.ttl = h->ttl,
	};
	kz_hitqueue_push(s->hq, &it);
}

static void *dl_main(void *arg)
{
	struct kz_scan *s = arg;
	struct kz_hitqueue_item it;
	while (kz_hitqueue_pop(s->hq, &it)) {
		struct kz_scan_hit h = {
			.addr = it.addr,
			.port = it.port,
			.port_index = it.port_index,
			.probe = it.probe,
			.ttl = it.ttl,
			.time = it.time,
		};
		s->cfg.on_hit(s->cfg.ctx, &h);
	}
	return NULL;
}

/* Starts the delivery thread with the queue held: records are written when
 * the queue is half full or when the sending is over. */
static int start_delivery(struct kz_scan *s)
{
	uint64_t cap = s->plan.shard_targets;
	cap = cap < HIT_QUEUE_MIN ? HIT_QUEUE_MIN : cap > HIT_QUEUE_MAX ? HIT_QUEUE_MAX : cap;
	int rc = kz_hitqueue_new((size_t)cap, &s->hq);
	if (rc < 0)
		return rc;
	kz_hitqueue_hold(s->hq, true);
	rc = pthread_create(&s->dl_thread, NULL, dl_main, s);
	if (rc != 0) {
		kz_err("cannot start the delivery thread: %s", strerror(rc));
		return -rc;
	}
	s->dl_started = true;
	return 0;
}

/* Every hit delivered, then the thread ends. */
static void stop_delivery(struct kz_scan *s)
{
	if (!s->dl_started)
		return;
	kz_hitqueue_close(s->hq);
	pthread_join(s->dl_thread, NULL);
	s->dl_started = false;
}

void kz_scan_receive(struct kz_scan *s, const uint8_t *frame, size_t len)
{
	struct kz_synreply r;
	if (kz_synreply_parse(frame, len, &r) != 0) {
		ADD(s->unmatched, 1);
		return;
	}
	/* A reply is only believed from inside the scope. */
	if (!kz_scope_allows(s->cfg.scope, r.src)) {
		ADD(s->outside_scope, 1);
		return;
	}
	unsigned probe;
	size_t pi;
	enum kz_synverdict v = kz_synprobe_check(s->sp, &r, &probe, &pi);
	if (v == KZ_SYN_INVALID) {
		ADD(s->unmatched, 1);
		return;
	}
	ADD(s->replies, 1);
	/* A third key per (address, port): answered at all, whichever the
	 * answer, for ending the cooldown once every target has answered. */
	if (kz_hitset_add(s->hits, r.src, r.sport | 0x20000u))
		ADD(s->answered, 1);
	bool is_open = v == KZ_SYN_OPEN;
	if (!kz_hitset_add(s->hits, r.src, r.sport | (is_open ? 0 : 0x10000u))) {
		ADD(s->duplicates, 1);
		return;
	}
	if (!is_open) {
		ADD(s->closed, 1);
		return;
	}
	ADD(s->open, 1);
	struct kz_scan_hit h = {
		.addr = r.src,
		.port = r.sport,
		.port_index = pi,
		.probe = probe,
		.ttl = r.ttl,
		.time = wall_sec(),
	};
	deliver(s, &h);
}

static void on_frame(void *ctx, const uint8_t *frame, size_t len)
{
	kz_scan_receive(ctx, frame, len);
}

static void *rx_main(void *arg)
{
	struct kz_scan *s = arg;
	while (!LOAD(s->rx_stop)) {
		int rc = kz_rawrecv_poll(s->rx, KZ_RAWRECV_BLOCK_MS, on_frame, s);
		if (rc < 0) {
			SET(s->rx_error, rc);
			break;
		}
	}
	/* What arrived up to the stop request, once the ring's last block
	 * has been handed over. */
	int rc = kz_rawrecv_poll(s->rx, 2 * KZ_RAWRECV_BLOCK_MS, on_frame, s);
	(void)rc;
	return NULL;
}

static int run_syn(struct kz_scan *s)
{
	int rc = pthread_create(&s->rx_thread, NULL, rx_main, s);
	if (rc != 0) {
		kz_err("cannot start the receive thread: %s", strerror(rc));
		return -rc;
	}
	s->rx_started = true;

	const uint64_t rate = s->cfg.rate;
	const unsigned probes = s->cfg.probes;
	/* Up to a tenth of a second of packets may go at once to make up for
	 * a stall (a busy machine deschedules the sender for milliseconds at
	 * a time); beyond that the schedule slips rather than flood. */
	uint64_t burst = rate / 10 > KZ_RAWSEND_BATCH ? rate / 10 : KZ_RAWSEND_BATCH;
	uint64_t per_wake = rate / 10000;
	per_wake = per_wake < 1 ? 1 : per_wake > KZ_RAWSEND_BATCH ? KZ_RAWSEND_BATCH : per_wake;
	struct kz_ratelimit rl;
	uint64_t now = mono_ns();
	kz_ratelimit_init(&rl, rate, burst, now);
	SET(s->start_ns, now);
	SET(s->sending, 1);
	uint64_t next_progress = now + PROGRESS_NS;
	uint16_t lens[KZ_RAWSEND_BATCH];
	struct kz_addr addr = { 0 };
	size_t pi = 0;
	unsigned k = probes; /* probes of the current target sent */
	bool more = true;
	rc = 0;
	while (more && LOAD(s->stop_requests) == 0) {
		now = mono_ns();
		progress(s, now, &next_progress);
		uint64_t n = kz_ratelimit_take(&rl, now, KZ_RAWSEND_BATCH);
		if (n == 0) {
			uint64_t wait = kz_ratelimit_wait_ns(&rl, now, per_wake);
			if (wait > 20000)
				sleep_ns(wait);
			continue;
		}
		uint32_t ms = (uint32_t)((now - s->start_ns) / NSEC_PER_MS);
		size_t built = 0;
		uint64_t finished = 0;
		while (built < n) {
			if (k == probes) {
				if (!take_target(s, &addr, &pi)) {
					more = false;
					break;
				}
				k = 0;
			}
			uint8_t *slot = kz_rawsend_slot(s->tx, built);
			size_t len = kz_synprobe_build(s->sp, addr, s->ports[pi], k, ms, slot);
			k++;
			finished += k == probes;
			if (len == 0) {
				/* No source of this family: resolve makes one
				 * for every family present, so this is a bug
				 * guard, not a path. */
				ADD(s->errors, 1);
				k = probes;
				continue;
			}
			lens[built++] = (uint16_t)len;
		}
		if (built) {
			int got = kz_rawsend_flush(s->tx, built, lens);
			if (got < 0) {
				kz_err("sending on %s: %s", s->plan.ifname, strerror(-got));
				rc = got;
				break;
			}
			uint64_t t = mono_ns();
			if (LOAD(s->first_send_ns) == 0)
				SET(s->first_send_ns, t);
			SET(s->last_send_ns, t);
			ADD(s->sent, (uint64_t)got);
			ADD(s->send_drops, built - (uint64_t)got);
			struct kz_rawsend_stats ts;
			kz_rawsend_stats(s->tx, &ts);
			SET(s->send_retries, ts.retries);
		}
		ADD(s->targets_done, finished);
		SET(s->slipped, rl.slipped);
	}
	SET(s->sending, 0);
	/* The records wait no longer: the machine is idle in the cooldown. */
	kz_hitqueue_hold(s->hq, false);

	/* Cooldown: late replies still count. It ends early once every
	 * target sent has answered (nothing more can come), which needs the
	 * duplicate set to be exact over the whole shard (two keys per
	 * target); and at a second stop request. */
	bool can_cut = 2 * s->plan.shard_targets <= s->hit_window;
	now = mono_ns();
	uint64_t end = now + (uint64_t)s->cfg.cooldown_ms * NSEC_PER_MS;
	SET(s->cooldown_end_ns, end);
	while (rc == 0 && now < end && LOAD(s->stop_requests) < 2 && LOAD(s->rx_error) == 0) {
		if (can_cut && LOAD(s->answered) >= LOAD(s->targets_done)) {
			SET(s->cooldown_cut, 1);
			break;
		}
		uint64_t step = end - now < 10 * NSEC_PER_MS ? end - now : 10 * NSEC_PER_MS;
		sleep_ns(step);
		now = mono_ns();
		progress(s, now, &next_progress);
	}
	SET(s->cooldown_end_ns, 0);
	SET(s->rx_stop, 1);
	pthread_join(s->rx_thread, NULL);
	s->rx_started = false;
	if (rc == 0 && LOAD(s->rx_error) < 0) {
		rc = LOAD(s->rx_error);
		kz_err("capture on %s failed: %s", s->plan.ifname, strerror(-rc));
	}
	return rc;
}

/* ----------------------------------------------------------- connect mode */

static void on_conn(void *ctx, struct kz_addr addr, uint16_t port, uint32_t tag,
                    enum kz_connscan_outcome o, int err)
{
	struct kz_scan *s = ctx;
	(void)err;
	switch (o) {
	case KZ_CONN_OPEN:
		ADD(s->replies, 1);
		if (!kz_hitset_add(s->hits, addr, port)) {
			ADD(s->duplicates, 1);
			return;
		}
		ADD(s->open, 1);
		struct kz_scan_hit h = {
			.addr = addr,
			.port = port,
			.port_index = tag,
			.time = wall_sec(),
		};
		deliver(s, &h);
		return;
	case KZ_CONN_CLOSED:
		ADD(s->replies, 1);
		ADD(s->closed, 1);
		return;
	case KZ_CONN_TIMEOUT:
		ADD(s->timeouts, 1);
		return;
	case KZ_CONN_ERROR:
		ADD(s->errors, 1);
		return;
	}
}

static int run_connect(struct kz_scan *s)
{
	uint64_t rate = s->cfg.rate;
	uint64_t burst = rate / 100 > 64 ? rate / 100 : 64;
	struct kz_ratelimit rl;
	uint64_t now = mono_ns();
	kz_ratelimit_init(&rl, rate, burst, now);
	SET(s->start_ns, now);
	SET(s->sending, 1);
	uint64_t next_progress = now + PROGRESS_NS;
	struct kz_addr addr = { 0 };
	size_t pi = 0;
	bool pending = false, more = true;
	while ((pending || more) && LOAD(s->stop_requests) == 0) {
		now = mono_ns();
		progress(s, now, &next_progress);
		uint64_t n = kz_ratelimit_take(&rl, now, 256);
		for (uint64_t i = 0; i < n; i++) {
			if (!pending) {
				if (!take_target(s, &addr, &pi)) {
					more = false;
					break;
				}
				pending = true;
			}
			int rc = kz_connscan_start(s->cs, addr, s->ports[pi], (uint32_t)pi, now,
			                           on_conn, s);
			if (rc == -EBUSY || rc == -EMFILE || rc == -ENFILE || rc == -EAGAIN ||
			    rc == -ENOBUFS || rc == -ENOMEM)
				break; /* full: the target waits for a free slot */
			if (rc < 0) {
				kz_err("connect: %s", strerror(-rc));
				SET(s->sending, 0);
				return rc;
			}
			pending = false;
			ADD(s->sent, 1);
			ADD(s->targets_done, 1);
			uint64_t t = mono_ns();
			if (LOAD(s->first_send_ns) == 0)
				SET(s->first_send_ns, t);
			SET(s->last_send_ns, t);
		}
		SET(s->slipped, rl.slipped);
		int wait_ms = 1;
		if (!pending && more) {
			uint64_t w = kz_ratelimit_wait_ns(&rl, mono_ns(), 1);
			wait_ms = (int)((w + NSEC_PER_MS - 1) / NSEC_PER_MS);
		}
		int t = kz_connscan_next_timeout_ms(s->cs, mono_ns());
		if (t >= 0 && t < wait_ms)
			wait_ms = t;
		if (!pending && !more)
			break;
		int rc = kz_connscan_poll(s->cs, wait_ms, mono_ns, on_conn, s);
		if (rc < 0) {
			kz_err("connect mode: epoll: %s", strerror(-rc));
			SET(s->sending, 0);
			return rc;
		}
	}
	SET(s->sending, 0);
	kz_hitqueue_hold(s->hq, false);
	/* The attempts still running finish (or time out); a second stop
	 * request abandons them. */
	while (kz_connscan_inflight(s->cs) > 0 && LOAD(s->stop_requests) < 2) {
		now = mono_ns();
		int t = kz_connscan_next_timeout_ms(s->cs, now);
		SET(s->cooldown_end_ns, now + (uint64_t)(t > 0 ? t : 0) * NSEC_PER_MS);
		int rc = kz_connscan_poll(s->cs, t < 0 || t > 100 ? 100 : t, mono_ns, on_conn, s);
		if (rc < 0)
			return rc;
		progress(s, mono_ns(), &next_progress);
	}
	SET(s->cooldown_end_ns, 0);
	return 0;
}

int kz_scan_run(struct kz_scan *s)
{
	if (s->cfg.mode == KZ_SCAN_CONNECT ? !s->cs : (!s->tx || !s->rx || !s->sp))
		return -EBADF;
	int rc = start_delivery(s);
	if (rc < 0)
		return rc;
	if (s->cfg.mode == KZ_SCAN_CONNECT) {
		rc = run_connect(s);
	} else {
		/* Wake-ups within a microsecond of the asked time, for this
		 * thread and this run only: the default 50 us slack would
		 * bunch the batches. */
		int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
		rc = run_syn(s);
		if (slack > 0)
			prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	}
	stop_delivery(s);
	return rc;
}

void kz_scan_stop(struct kz_scan *s)
{
	ADD(s->stop_requests, 1);
}

void kz_scan_free(struct kz_scan *s)
{
	if (!s)
		return;
	if (s->rx_started) {
		SET(s->rx_stop, 1);
		pthread_join(s->rx_thread, NULL);
	}
	stop_delivery(s);
	kz_hitqueue_free(s->hq);
	kz_rawsend_close(s->tx);
	kz_rawrecv_close(s->rx);
	kz_connscan_free(s->cs);
	kz_hitset_free(s->hits);
	kz_synprobe_free(s->sp);
	explicit_bzero(s->cfg.key, sizeof s->cfg.key);
	free(s->ports);
	free(s);
}
