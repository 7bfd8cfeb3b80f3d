/*
 * Capture back ends: where the telescope's frames come from. Each back end
 * is a const table of function pointers (like ZMap's probe modules); the
 * program picks one by name and drives it through the kz_capture_* wrappers,
 * which deliver frames to one callback in batches:
 *
 *   "file"  capture files through pcapfile.h (classic pcap, pcapng, gzip,
 *           stdin);
 *   "live"  a Linux interface through libpcap: TPACKET_V3 ring (immediate
 *           mode off), a large kernel buffer, a BPF filter, and the kernel's
 *           drop counters.
 *
 * Stopping: kz_capture_stop() is async-signal-safe. It sets a flag that the
 * loop checks between batches, and wakes a live capture that is waiting for
 * packets, so SIGINT/SIGTERM end the loop within one batch or one timeout.
 *
 * Privileges: kz_capture_open() does everything that needs root or
 * CAP_NET_RAW (the packet socket, its ring, the filter). After it returns
 * the program may drop to an unprivileged user; dispatching, statistics,
 * stopping and closing need no privilege.
 */
#ifndef KZ_CAPTURE_H
#define KZ_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "pcapfile.h"

/* Receives one frame; f and f->data are valid only during the call. */
typedef void kz_capture_fn(void *user, const struct kz_frame *f);

struct kz_capture_opts {
	const char *source;    /* path or "-" (file), interface name (live) */
	const char *filter;    /* BPF filter text, NULL for none (live only) */
	uint32_t snaplen;      /* live: bytes kept per frame; 0 = 65535 */
	uint32_t buffer_bytes; /* live: kernel ring size; 0 = 64 MiB */
	int timeout_ms;        /* live: ring block timeout; 0 = 100 ms */
	bool promisc;          /* live: promiscuous mode */
	bool inbound_only;     /* live: only frames received by the interface */
};

/* What a capture has seen. Live counters come from pcap_stats(): on Linux
 * they count since the capture opened. */
struct kz_capture_stats {
	uint64_t frames;               /* delivered to the callback */
	uint64_t bytes;                /* their captured bytes */
	bool has_kernel;               /* the kernel_* fields are meaningful */
	uint64_t kernel_received;      /* ps_recv: passed the filter, dropped ones too */
	uint64_t kernel_dropped;       /* ps_drop: dropped for lack of ring space */
	uint64_t iface_dropped;        /* ps_ifdrop: dropped by the interface/driver */
	struct kz_pcapfile_stats file; /* file back end: the reader's counters */
};

/* The contract every back end keeps. State is the back end's own; err
 * receives one line "source: why" on failure. */
struct kz_capture_backend {
	const char *name;
	const char *description;
	/* Opens and readies the source (all privileged work happens here). */
	int (*open)(const struct kz_capture_opts *opts, void **state, char *err, size_t err_len);
	/* Delivers up to one batch of frames. Returns the number delivered (> 0),
	 * 0 at the end of the input, -EINTR when woken by breakloop with nothing
	 * read, or another negative errno with err set. Live: returns after at
	 * most about timeout_ms even without frames (0 frames: returns -EAGAIN). */
	int (*dispatch)(void *state, kz_capture_fn *fn, void *user, char *err, size_t err_len);
	/* Wakes a dispatch that is waiting; async-signal-safe. May be NULL. */
	void (*breakloop)(void *state);
	/* Adds the back end's counters to *st. */
	void (*stats)(void *state, struct kz_capture_stats *st);
	/* The link type of the frames (for pcapng, of the first interface). */
	uint32_t (*linktype)(void *state);
	/* A descriptor to poll for readiness, or -1. */
	int (*fd)(void *state);
	void (*close)(void *state);
};

extern const struct kz_capture_backend kz_capture_file;
extern const struct kz_capture_backend kz_capture_live;

/* The back end called name ("file", "live"), or NULL. */
const struct kz_capture_backend *kz_capture_backend_find(const char *name);

struct kz_capture;

/* Opens a capture on a back end. On error *out is NULL and err says why. */
int kz_capture_open(const struct kz_capture_backend *be, const struct kz_capture_opts *opts,
                    struct kz_capture **out, char *err, size_t err_len)
        __attribute__((warn_unused_result));

/* Delivers one batch; see kz_capture_backend.dispatch. Returns -EINTR once
 * kz_capture_stop() was called. */
int kz_capture_dispatch(struct kz_capture *c, kz_capture_fn *fn, void *user)
        __attribute__((warn_unused_result));

/* Delivers batches until the input ends (returns 0), kz_capture_stop() is
 * called (returns -EINTR) or an error (negative errno, see
 * kz_capture_error()). */
int kz_capture_loop(struct kz_capture *c, kz_capture_fn *fn, void *user)
        __attribute__((warn_unused_result));

/* Asks a running loop to stop after the current batch. Async-signal-safe. */
void kz_capture_stop(struct kz_capture *c);

/* True once kz_capture_stop() was called. */
bool kz_capture_stopped(const struct kz_capture *c);

/* The last error, "" when none. */
const char *kz_capture_error(const struct kz_capture *c);

/* Fills *st with the frames delivered and the back end's counters. */
void kz_capture_stats(struct kz_capture *c, struct kz_capture_stats *st);

uint32_t kz_capture_linktype(struct kz_capture *c);

/* A descriptor to poll before dispatching, or -1 (files are always ready). */
int kz_capture_fd(struct kz_capture *c);

const struct kz_capture_backend *kz_capture_backend_of(const struct kz_capture *c);

void kz_capture_close(struct kz_capture *c);

/* Writes the BPF filter that keeps frames addressed to any of the n
 * prefixes, untagged or under one or two 802.1Q/QinQ tags: "(P) or (vlan and
 * ((P) or (vlan and (P))))" where P is "ip dst net A or ip6 dst net B ...". Returns
 * 0, -EINVAL for n == 0, or -ENOSPC when buf is too small. */
int kz_capture_filter_for(const struct kz_cidr *prefixes, size_t n, char *buf, size_t len)
        __attribute__((warn_unused_result));

#endif
