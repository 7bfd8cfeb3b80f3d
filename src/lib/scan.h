/*
 * Survey stage 1: find every open (address, port) of a scope, fast, without
 * touching anything outside it.
 *
 * A run walks the targets (address index, port index) of the scope's target
 * list in the cyclic-group order of cyclic.h (its shard of it), at an exact
 * rate (ratelimit.h), and either
 *   - SYN mode: writes SYN frames with SipHash cookies (synprobe.h) to an
 *     AF_PACKET socket (rawsend.h) while a second thread reads the replies
 *     (rawrecv.h), validates them without state and reports each open port
 *     once (hitset.h); after the last probe it waits the cooldown for late
 *     replies, or less when every target sent has already answered; or
 *   - connect mode: runs non-blocking connect() attempts on one epoll loop
 *     (connscan.h), each waiting at most the cooldown.
 *
 * Safety: kz_scope_allows is asked for every target at the one place where
 * a probe is built or a connection opened (take_target in scan.c), for SYN,
 * connect and dry-run alike; a reply is only believed when its source is in
 * the scope too. Nothing is ever sent to resolve a MAC address: an unknown
 * next hop is an error that says which --gateway-mac to give.
 *
 * Life of a run: kz_scan_new (checks, permutation) -> kz_scan_resolve
 * (SYN mode: interface, source addresses, next-hop MACs, from the kernel's
 * tables) -> kz_scan_plan (what will be sent, for the header) -> either
 * kz_scan_dry_run, or kz_scan_open (sockets: needs privileges), the caller
 * drops privileges (privdrop.h), kz_scan_run. Open ports are handed to the
 * on_hit callback from a delivery thread of the scan's own (hitqueue.h), in
 * the order found, one call at a time, all before kz_scan_run returns.
 * While probes are still being sent the hits wait in the queue until it is
 * half full, so that building records does not take CPU from the sender;
 * the rest are delivered in the cooldown. (Stage 2 will consume hits the
 * same way.) Progress goes to on_progress about once a second from the
 * thread in kz_scan_run.
 */
#ifndef KZ_SCAN_H
#define KZ_SCAN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cyclic.h"
#include "netif.h"
#include "scope.h"
#include "siphash.h"

#define KZ_SCAN_DEFAULT_RATE        10000
#define KZ_SCAN_DEFAULT_PROBES      1
#define KZ_SCAN_DEFAULT_COOLDOWN_MS 8000
#define KZ_SCAN_DEFAULT_SPORT_FIRST 32768
#define KZ_SCAN_DEFAULT_SPORT_LAST  61000
#define KZ_SCAN_MAX_RATE            100000000

enum kz_scan_mode {
	KZ_SCAN_SYN,
	KZ_SCAN_CONNECT,
};

/* An open port, as found. */
struct kz_scan_hit {
	struct kz_addr addr;
	uint16_t port;
	size_t port_index; /* into the configured ports */
	unsigned probe;    /* SYN mode: the probe number answered; connect: 0 */
	uint8_t ttl;       /* SYN mode: the reply's TTL / hop limit; connect: 0 */
	int64_t time;      /* when, in seconds since the epoch */
};

typedef void kz_scan_hit_fn(void *ctx, const struct kz_scan_hit *hit);

/* Counters of a run; a consistent-enough snapshot for progress lines. */
struct kz_scan_stats {
	uint64_t expected;       /* packets (SYN) or attempts (connect) planned */
	uint64_t targets_done;   /* targets whose probes have all gone out */
	uint64_t sent;           /* frames the kernel took, or connect() calls */
	uint64_t send_drops;     /* frames the kernel kept refusing (queue full) */
	uint64_t send_retries;   /* sends repeated after a refusal */
	uint64_t scope_refusals; /* targets the send-time scope check refused */
	uint64_t replies;        /* valid replies, open or closed, repeats included */
	uint64_t open;           /* distinct open ports: the hits */
	uint64_t closed;         /* distinct closed ports */
	uint64_t duplicates;     /* valid replies already counted */
	uint64_t unmatched;      /* captured frames that were no valid reply */
	uint64_t outside_scope;  /* replies from addresses outside the scope */
	uint64_t answered;       /* distinct targets that answered, open or closed */
	uint64_t recv_drops;     /* frames the capture ring lost */
	uint64_t timeouts;       /* connect mode: attempts without an answer */
	uint64_t errors;         /* connect mode: unreachable or local failure */
	uint64_t slipped;        /* packets' worth of schedule lost to stalls */
	uint64_t elapsed_ns;     /* since sending began */
	uint64_t send_ns;        /* from the first to the last send */
	uint64_t cooldown_left_ms;
	bool sending;      /* still sending */
	bool interrupted;  /* kz_scan_stop was called */
	bool cooldown_cut; /* the cooldown ended early: every target had answered */
};

typedef void kz_scan_progress_fn(void *ctx, const struct kz_scan_stats *st);

/* One probe of a dry run. */
struct kz_scan_probe {
	struct kz_addr addr;
	uint16_t port;
	unsigned probe;
	bool has_cookie; /* SYN mode with a known source address */
	uint16_t sport;
	uint32_t seq;
};

/* Returns 0 to go on, anything else to stop the dry run. */
typedef int kz_scan_probe_fn(void *ctx, const struct kz_scan_probe *p);

/* A run's settings. Pointers are borrowed and must outlive the scan. */
struct kz_scan_config {
	const struct kz_scope *scope;
	const uint16_t *ports; /* distinct, 1..65535 */
	size_t nports;
	enum kz_scan_mode mode;
	uint64_t rate;        /* packets (SYN) or connects (connect) per second */
	unsigned probes;      /* SYNs per target */
	unsigned cooldown_ms; /* SYN: wait after the last probe; connect: per attempt */
	uint64_t seed;        /* the permutation's */
	uint64_t shard, shards;
	uint8_t key[KZ_SIPHASH_KEYLEN]; /* cookies and duplicate fingerprints */
	uint16_t sport_first, sport_last;
	const char *ifname; /* NULL: the interface of the route to the first target */
	bool has_gateway_mac;
	uint8_t gateway_mac[KZ_MAC_LEN];
	bool has_source;
	struct kz_addr source; /* the source for its family */
	unsigned max_inflight; /* connect mode; 0: derived from rate and timeout */
	kz_scan_hit_fn *on_hit;
	kz_scan_progress_fn *on_progress; /* may be NULL */
	void *ctx;
};

/* What a run will do, for the header the survey prints before it sends. */
struct kz_scan_plan {
	kz_u128 addresses; /* in the target list */
	size_t nports;
	uint64_t targets;       /* addresses x ports: the whole permutation */
	uint64_t shard_targets; /* this shard's share (estimated when sharded) */
	uint64_t packets;       /* shard_targets x probes (SYN), or attempts */
	double send_seconds;    /* packets / rate */
	struct kz_cyclic perm;
	/* SYN mode, after kz_scan_resolve. */
	char ifname[IF_NAMESIZE];
	bool has_src4, has_src6;
	struct kz_addr src4, src6;
	bool has_mac4, has_mac6;
	uint8_t mac4[KZ_MAC_LEN], mac6[KZ_MAC_LEN];
	uint8_t if_mac[KZ_MAC_LEN];
};

struct kz_scan;

/* Checks the settings and derives the permutation. Touches no network.
 * Returns 0, -EINVAL (logged: why), -E2BIG when scope x ports is beyond
 * KZ_CYCLIC_MAX_N, or -ENOMEM. */
int kz_scan_new(const struct kz_scan_config *cfg, struct kz_scan **out)
        __attribute__((warn_unused_result));

/* SYN mode: finds the interface, the source address and the next hop's MAC
 * for each address family among the targets, from the routing and
 * neighbour tables (nothing is sent). With need_mac false (a dry run) only
 * the sources are looked for and a failure is not an error. Returns 0, or a
 * negative errno with the reason logged. Connect mode: nothing to do. */
int kz_scan_resolve(struct kz_scan *s, bool need_mac) __attribute__((warn_unused_result));

/* The plan, borrowed from s. */
const struct kz_scan_plan *kz_scan_plan(const struct kz_scan *s);

/* Hands every probe the run would send to fn, in order, and sends nothing.
 * Returns 0, or what fn returned to stop. */
int kz_scan_dry_run(struct kz_scan *s, kz_scan_probe_fn *fn, void *ctx);

/* Opens what the run needs: in SYN mode the AF_PACKET sender and the
 * capture (root or CAP_NET_RAW); in connect mode the epoll engine. Returns 0
 * or a negative errno, logged. */
int kz_scan_open(struct kz_scan *s) __attribute__((warn_unused_result));

/* Runs the scan to the end of the cooldown (or of the last attempt).
 * Returns 0 (also when stopped) or a negative errno when sending or
 * capturing failed, logged. */
int kz_scan_run(struct kz_scan *s) __attribute__((warn_unused_result));

/* Judges one captured frame as SYN mode's receive thread does: parse, scope
 * check on its source, cookie check, duplicate check, and on_hit for a new
 * open port. Needs a resolved SYN-mode scan (the probes' source addresses);
 * frames from a capture file or a test may be fed to it the same way. Not
 * to be called while kz_scan_run's receive thread runs. */
void kz_scan_receive(struct kz_scan *s, const uint8_t *frame, size_t len);

/* Asks a running scan to stop: the first call ends the sending (the
 * cooldown still runs), the second ends the cooldown. Async-signal-safe. */
void kz_scan_stop(struct kz_scan *s);

/* A snapshot of the counters (any thread). */
void kz_scan_stats(struct kz_scan *s, struct kz_scan_stats *out);

void kz_scan_free(struct kz_scan *s);

#endif
