/*
 * The SYN scanner's send path: whole Ethernet frames written to one
 * interface through an AF_PACKET socket, in batches.
 *
 * Why by hand: the frames are built by synprobe and must leave exactly as
 * built, at hundreds of thousands a second; sendmmsg sends a batch in one
 * system call. PACKET_QDISC_BYPASS is deliberately not used: it would also
 * skip the kernel's packet taps, so that tcpdump on the scanning host would
 * not see the probes, and that capture is the operator's audit of what was
 * sent; it bought nothing measurable at 400 kpps on a veth (both ways
 * about 0.4 Mpps of pure sending on the 2-vCPU test machine). A full
 * queue behind the driver (a qdisc, a veth's backlog, a NIC ring) shows up as
 * ENOBUFS or EAGAIN: the frame is sent again after a pause that doubles
 * each time (20 us, 40 us, ... about 10 ms in all), then given up and
 * counted as dropped. The rate limiter's schedule absorbs the pause.
 *
 * The caller builds frames in place in the batch's slots (kz_rawsend_slot),
 * then sends the first n of them. One thread uses a sender at a time.
 */
#ifndef KZ_RAWSEND_H
#define KZ_RAWSEND_H

#include <stddef.h>
#include <stdint.h>

#define KZ_RAWSEND_BATCH   64  /* frames per kz_rawsend_flush */
#define KZ_RAWSEND_FRAME   128 /* bytes per slot: a SYN is 74 (IPv4) or 94 (IPv6) */
#define KZ_RAWSEND_RETRIES 9   /* sends of one refused frame after the first */

struct kz_rawsend;

/* Counters since open. */
struct kz_rawsend_stats {
	uint64_t sent;    /* frames the kernel accepted */
	uint64_t dropped; /* frames given up after the retries (ENOBUFS, EAGAIN) */
	uint64_t retries; /* sends repeated after a refusal */
	uint64_t calls;   /* sendmmsg calls */
};

/* Opens the socket on interface ifindex. Needs CAP_NET_RAW (root); the
 * socket keeps working after privileges are dropped. Returns 0 or a
 * negative errno. */
int kz_rawsend_open(int ifindex, struct kz_rawsend **out) __attribute__((warn_unused_result));

/* Slot i (< KZ_RAWSEND_BATCH) of the batch: KZ_RAWSEND_FRAME bytes the
 * caller fills. Borrowed; valid until close. */
uint8_t *kz_rawsend_slot(struct kz_rawsend *s, size_t i);

/* Sends slots 0..n-1 with lengths len[0..n-1]. Returns how many the kernel
 * took, or a negative errno for an error other than a full queue (the
 * interface went away). Frames still refused after the retries count as
 * dropped. */
int kz_rawsend_flush(struct kz_rawsend *s, size_t n, const uint16_t *len)
        __attribute__((warn_unused_result));

void kz_rawsend_stats(const struct kz_rawsend *s, struct kz_rawsend_stats *out);

void kz_rawsend_close(struct kz_rawsend *s);

#endif
