/*
 * Classic pcap writer (libpcap's file format 2.4, link type Ethernet), with
 * microsecond or nanosecond timestamps, to a file, to stdout, or through
 * zlib when the name ends in ".gz".
 *
 * Records are appended to one large buffer and written in big blocks: at
 * tens of millions of packets a write per packet would cost more than
 * building them. The gzip stream carries no name and no time stamp, so the
 * same packets give the same bytes.
 */
#ifndef GEN_PCAPOUT_H
#define GEN_PCAPOUT_H

#include <stdbool.h>
#include <stdint.h>

struct gen_pcap;

/* Opens path ("-" for stdout; "*.gz" for gzip) and writes the file header.
 * snaplen is the header's snapshot length. On error returns a negative errno
 * and logs why. */
int gen_pcap_open(struct gen_pcap **out, const char *path, bool nanosec, uint32_t snaplen)
        __attribute__((warn_unused_result));

/* The timestamp a record at ts_ns will carry: ts_ns truncated to the file's
 * resolution. */
int64_t gen_pcap_stamp(const struct gen_pcap *w, int64_t ts_ns);

/* Appends one record. caplen bytes of frame are stored; origlen is the length
 * on the wire (greater for a frame cut by the snapshot length). ts_ns must be
 * a value returned by gen_pcap_stamp. Returns 0 or a negative errno. */
int gen_pcap_write(struct gen_pcap *w, int64_t ts_ns, const uint8_t *frame, uint32_t caplen,
                   uint32_t origlen) __attribute__((warn_unused_result));

/* Flushes and closes; frees w. Returns 0, or a negative errno when any write
 * failed. */
int gen_pcap_close(struct gen_pcap *w) __attribute__((warn_unused_result));

#endif
