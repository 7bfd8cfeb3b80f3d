/*
 * The SYN scanner's receive path: replies read from one interface with
 * libpcap (a memory-mapped AF_PACKET ring), narrowed by a kernel BPF filter
 * so that only TCP segments to our source address reach user space.
 *
 * libpcap rather than a hand-made ring: it compiles the filter, sizes the
 * ring, and reports kernel drops (pcap_stats), all well-kept code; the
 * per-reply work that matters (validation) is ours and allocation-free.
 *
 * Opened while privileged, used after the privileges are dropped. One
 * thread uses a receiver at a time.
 */
#ifndef KZ_RAWRECV_H
#define KZ_RAWRECV_H

#include <stddef.h>
#include <stdint.h>

/* Bytes kept of each frame: Ethernet, one VLAN tag, an IPv6 header and a
 * TCP header with the longest options fit in 14 + 4 + 40 + 60. */
#define KZ_RAWRECV_SNAPLEN 128

/* The ring: libpcap cuts it into 256 KiB blocks (64 here), each handed
 * over when full (about 2,000 replies) or KZ_RAWRECV_BLOCK_MS old. So it
 * holds about 128,000 replies (0.3 s at 400 kpps), or 64 block timeouts
 * (2.5 s) when replies are few, for a reader that the scheduler keeps
 * waiting. Larger costs start-up time: the kernel takes ~4 ms per MiB to
 * set a ring up on the test machine. */
#define KZ_RAWRECV_DEFAULT_BUFFER ((size_t)16 << 20)

/* Longest a reply waits in the kernel ring before it is handed over; wait
 * longer than this before the last kz_rawrecv_poll of a run. */
#define KZ_RAWRECV_BLOCK_MS 40

struct kz_rawrecv;

/* What to open; the strings are borrowed for the call. */
struct kz_rawrecv_config {
	const char *ifname;  /* the interface the probes leave by */
	const char *filter;  /* a pcap-filter(7) expression */
	size_t buffer_bytes; /* the kernel ring; 0 means KZ_RAWRECV_DEFAULT_BUFFER */
};

struct kz_rawrecv_stats {
	uint64_t received; /* frames handed to the callback */
	uint64_t dropped;  /* frames the kernel dropped for a full ring */
	uint64_t ifdropped;
};

/* Called for each frame: the captured bytes (at most KZ_RAWRECV_SNAPLEN),
 * borrowed for the call. */
typedef void kz_rawrecv_fn(void *ctx, const uint8_t *frame, size_t caplen);

/* Opens the capture. The link must be Ethernet. Returns 0, -EPERM without
 * the right to capture, -EPROTONOSUPPORT for another link type, -EINVAL for
 * a filter that does not compile, or another negative errno; each reason is
 * logged. */
int kz_rawrecv_open(const struct kz_rawrecv_config *cfg, struct kz_rawrecv **out)
        __attribute__((warn_unused_result));

/* Waits up to timeout_ms for frames, then hands every frame waiting to fn.
 * Returns the number handled, or a negative errno when the capture failed. */
int kz_rawrecv_poll(struct kz_rawrecv *r, int timeout_ms, kz_rawrecv_fn *fn, void *ctx)
        __attribute__((warn_unused_result));

/* Counters: received is ours, the drops are the kernel's (pcap_stats). */
void kz_rawrecv_stats(struct kz_rawrecv *r, struct kz_rawrecv_stats *out);

void kz_rawrecv_close(struct kz_rawrecv *r);

#endif
