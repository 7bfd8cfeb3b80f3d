/*
 * A fast reader for capture files: classic pcap (either byte order,
 * microsecond or nanosecond timestamps, and the Kuznetzov "modified" variant),
 * pcapng (sections of either byte order, several interfaces with their own
 * link types and timestamp resolutions), and either of them gzip-compressed,
 * from a path, a file descriptor, stdin or memory. The format is found by
 * its magic number, after decompression.
 *
 * A corrupt file never makes the reader loop or read out of bounds: a record
 * that cannot be framed ends the file with an error that says where and why
 * ("trace.pcap: offset 1234: record caplen 4294967295 above the 262144-byte
 * cap"); a pcapng block that is well framed but wrong inside is skipped and
 * counted, and reading goes on.
 */
#ifndef KZ_PCAPFILE_H
#define KZ_PCAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest captured length accepted in a record (libpcap's maximum snapshot
 * length for every link type but a few exotic ones). */
#define KZ_PCAP_CAPLEN_MAX 262144u
/* Largest pcapng block read or skipped. */
#define KZ_PCAPNG_BLOCK_MAX (16u << 20)
/* Largest number of interfaces in one pcapng section. */
#define KZ_PCAPNG_IFACES_MAX 4096u

/* One captured frame. data borrows the reader's memory: valid until the next
 * call on the reader (or until it is closed). */
struct kz_frame {
	const uint8_t *data;
	uint64_t ts_ns;    /* nanoseconds since 1970-01-01 UTC */
	uint32_t caplen;   /* bytes at data */
	uint32_t wirelen;  /* bytes the frame had on the wire */
	uint32_t linktype; /* LINKTYPE_ value, as kz_pkt_decode takes it */
	uint32_t ifindex;  /* pcapng interface id in its section; 0 for classic pcap */
};

enum kz_pcapfile_format {
	KZ_PCAPFILE_PCAP = 1,
	KZ_PCAPFILE_PCAPNG = 2,
};

/* What the reader met besides good records. */
struct kz_pcapfile_stats {
	uint64_t records;             /* frames returned */
	uint64_t bytes;               /* their captured bytes */
	uint64_t sections;            /* pcapng section header blocks */
	uint64_t interfaces;          /* pcapng interface description blocks */
	uint64_t blocks_skipped;      /* pcapng blocks of other types, skipped */
	uint64_t bad_records;         /* well-framed records skipped as invalid */
	uint64_t caplen_over_snaplen; /* records longer than the snapshot length: cut to it */
	uint64_t caplen_over_wirelen; /* records captured longer than on the wire */
	uint64_t fatal;               /* 1 when the file ended in an error */
};

/* Flags for kz_pcapfile_open_mem. */
#define KZ_PCAPFILE_F_STREAM                                                                       \
	1u /* read the memory through the buffered stream path, in                                 \
	      small pieces, as stdin would be (for tests) */

struct kz_pcapfile;

/* Opens a capture file; "-" is stdin. A regular uncompressed file is mapped
 * (madvise sequential); a pipe or a gzip file goes through a large buffered
 * reader. The header is read and checked here. Returns 0 or a negative errno;
 * on error *why (if not NULL) holds a static or per-call reason, and *out is
 * NULL. */
int kz_pcapfile_open(const char *path, struct kz_pcapfile **out, char *why, size_t why_len)
        __attribute__((warn_unused_result));

/* The same on an open descriptor, which the reader takes (closes at
 * kz_pcapfile_close). name is copied and used in messages. */
int kz_pcapfile_open_fd(int fd, const char *name, struct kz_pcapfile **out, char *why,
                        size_t why_len) __attribute__((warn_unused_result));

/* The same over len bytes at buf, which are borrowed and must outlive the
 * reader. With no flags, records point into buf (unless it is compressed). */
int kz_pcapfile_open_mem(const void *buf, size_t len, const char *name, unsigned flags,
                         struct kz_pcapfile **out, char *why, size_t why_len)
        __attribute__((warn_unused_result));

/* Reads the next frame. Returns 1 with *f filled, 0 at a clean end of file, or
 * a negative errno: -EBADMSG for a corrupt or truncated file, -EIO for a read
 * error, -ENOMEM; kz_pcapfile_error then says what and where, and every later
 * call returns 0. */
int kz_pcapfile_next(struct kz_pcapfile *pf, struct kz_frame *f)
        __attribute__((warn_unused_result));

/* The last fatal error as "name: offset N: why", or "" when there was none. */
const char *kz_pcapfile_error(const struct kz_pcapfile *pf);

/* The counters so far. */
void kz_pcapfile_stats(const struct kz_pcapfile *pf, struct kz_pcapfile_stats *st);

enum kz_pcapfile_format kz_pcapfile_format(const struct kz_pcapfile *pf);

/* True when the input was gzip-compressed. */
bool kz_pcapfile_compressed(const struct kz_pcapfile *pf);

/* The link type of the file (classic) or of the first interface (pcapng; 0
 * before the first interface block is read). */
uint32_t kz_pcapfile_linktype(const struct kz_pcapfile *pf);

/* The snapshot length of the file (classic) or first interface (pcapng). */
uint32_t kz_pcapfile_snaplen(const struct kz_pcapfile *pf);

/* Unmaps, frees and closes what the reader owns. NULL is a no-op. */
void kz_pcapfile_close(struct kz_pcapfile *pf);

#endif
