/*
 * The capture-file reader (see pcapfile.h for the formats).
 *
 * Two ways in. A regular uncompressed file, or memory the caller holds, is
 * read in place ("direct" mode): the file is mapped, madvise(MADV_SEQUENTIAL)
 * asks the kernel for aggressive read-ahead, and a record is a pointer into
 * the mapping, so reading a classic pcap costs a few loads and compares per
 * record and no copy. Everything else (pipes, stdin, gzip) goes through the
 * "stream" mode: a buffer of at least 1 MiB filled by large read() calls or
 * by zlib's inflate, from which each record is handed out contiguous; the
 * buffer grows, up to a hard cap, only when one record or block is bigger
 * than it.
 *
 * Framing rules, so that no input can make us loop or read out of bounds:
 * each step consumes at least one record header (16 bytes) or one pcapng
 * block (12 bytes or more); every length from the file is checked against
 * the bytes that are there before it is used. When the framing itself is
 * broken (a classic caplen above KZ_PCAP_CAPLEN_MAX, a pcapng block length
 * that is not a multiple of 4, a trailer that disagrees with the header,
 * bytes missing at the end) the file ends with an error, because classic
 * pcap has no sync marker and guessing one would invent packets. When a
 * pcapng block is well framed but its contents are wrong (unknown
 * interface, caplen past the block) that block is skipped and counted.
 *
 * We read pcapng ourselves rather than through libpcap because libpcap
 * refuses a file whose interfaces have different link types, and because
 * its per-packet copy and callback cost more than the rest of our pipeline.
 */
#include "pcapfile.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "addr.h" /* kz_u128 */
#include "log.h"

#define PCAP_MAGIC_US    0xa1b2c3d4u
#define PCAP_MAGIC_NS    0xa1b23c4du
#define PCAP_MAGIC_KUZ   0xa1b2cd34u /* Alexey Kuznetzov's patched libpcap */
#define PCAPNG_SHB       0x0a0d0d0au
#define PCAPNG_BOM       0x1a2b3c4du
#define PCAPNG_IDB       1u
#define PCAPNG_OPB       2u /* obsolete packet block */
#define PCAPNG_SPB       3u
#define PCAPNG_EPB       6u
#define LINKTYPE_MASK    0x03ffffffu        /* upper bits carry FCS information */
#define RELEASE_STEP     ((size_t)32 << 20) /* give back read pages every 32 MiB */
#define STREAM_BUF_FD    (1u << 20)
#define STREAM_BUF_MEM   (64u << 10)
#define STREAM_BUF_MAX   (KZ_PCAPNG_BLOCK_MAX + 4096u)
#define GZ_IN_BUF        (256u << 10)
#define MEM_STREAM_CHUNK 7u /* KZ_PCAPFILE_F_STREAM: odd, small pieces */
#define WARN_LIMIT       5u

/* One pcapng interface (IDB), in the order of its section: packet blocks
 * name it by that index. */
struct iface {
	uint32_t linktype;
	uint32_t snaplen;   /* effective: 0 in the file means KZ_PCAP_CAPLEN_MAX */
	uint64_t units;     /* timestamp units per second; 0 when unusable */
	uint64_t offset_ns; /* if_tsoffset, in ns, added modulo 2^64 */
};

struct kz_pcapfile {
	char *name;
	enum kz_pcapfile_format fmt;
	bool swap; /* the file's byte order is not ours */
	bool nsec; /* classic: nanosecond timestamps */
	bool done; /* end of file or fatal error reached */
	bool compressed;
	uint32_t rec_hdr; /* classic: 16, or 24 for the Kuznetzov format */
	uint32_t linktype, snaplen;
	uint32_t snap_eff; /* classic: the snapshot length records are cut to */
	unsigned warned;

	/* The raw input: a descriptor, or memory (mapped or borrowed). */
	int fd;
	bool own_fd;
	void *map;
	size_t map_len;
	size_t released; /* bytes of mem before this were given back (MADV_DONTNEED) */
	size_t fast_end; /* the fast path of kz_pcapfile_next reads records before this */
	const uint8_t *mem;
	size_t mem_len, mem_pos;
	size_t mem_chunk; /* stream reads from memory in pieces of this size */

	/* Direct mode: records are read in place from mem. */
	bool stream;
	size_t pos;

	/* Stream mode: buf[start, end) holds unread bytes; dropped counts the
	 * bytes discarded before buf[0], for offsets in messages. */
	uint8_t *buf;
	size_t cap, start, end;
	uint64_t dropped;
	bool src_eof;

	/* gzip */
	z_stream z;
	bool z_live;
	bool z_end; /* the last member ended and nothing follows */
	uint8_t *in;
	size_t in_cap;
	bool in_eof;

	/* pcapng section state */
	struct iface *ifs;
	uint32_t nif, ifcap;

	struct kz_pcapfile_stats st;
	char err[320];
};

static inline uint32_t get32(const struct kz_pcapfile *pf, const uint8_t *b)
{
	uint32_t v;
	memcpy(&v, b, sizeof v);
	return pf->swap ? __builtin_bswap32(v) : v;
}

static inline uint64_t get64(const struct kz_pcapfile *pf, const uint8_t *b)
{
	uint64_t v;
	memcpy(&v, b, sizeof v);
	return pf->swap ? __builtin_bswap64(v) : v;
}

static inline uint16_t get16(const struct kz_pcapfile *pf, const uint8_t *b)
{
	uint16_t v;
	memcpy(&v, b, sizeof v);
	return pf->swap ? __builtin_bswap16(v) : v;
}

static uint64_t cur_offset(const struct kz_pcapfile *pf)
{
	return pf->stream ? pf->dropped + pf->start : pf->pos;
}

/* Ends the file with an error at the current offset. Returns -EBADMSG unless
 * a different errno is given. */
__attribute__((format(printf, 3, 4))) static int fail(struct kz_pcapfile *pf, int rc,
                                                      const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(pf->err, sizeof pf->err, "%s: offset %llu: %s", pf->name,
	         (unsigned long long)cur_offset(pf), why);
	pf->done = true;
	pf->st.fatal = 1;
	return rc ? rc : -EBADMSG;
}

/* Counts a well-framed record that is skipped, and logs the first few. */
__attribute__((format(printf, 2, 3))) static void anomaly(struct kz_pcapfile *pf, const char *fmt,
                                                          ...)
{
	pf->st.bad_records++;
	if (pf->warned >= WARN_LIMIT)
		return;
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	kz_warn("%s: offset %llu: %s: record skipped%s", pf->name,
	        (unsigned long long)cur_offset(pf), why,
	        ++pf->warned == WARN_LIMIT ? " (further ones only counted)" : "");
}

/* ---- raw input ---------------------------------------------------------- */

/* Reads up to n plain bytes from the descriptor or memory. Returns the count,
 * 0 at the end, or a negative errno. */
static ssize_t raw_read(struct kz_pcapfile *pf, uint8_t *dst, size_t n)
{
	if (pf->fd >= 0 && !pf->mem) {
		for (;;) {
			ssize_t r = read(pf->fd, dst, n);
			if (r >= 0)
				return r;
			if (errno != EINTR)
				return -errno;
		}
	}
	size_t k = pf->mem_len - pf->mem_pos;
	if (k > n)
		k = n;
	if (k > pf->mem_chunk)
		k = pf->mem_chunk;
	memcpy(dst, pf->mem + pf->mem_pos, k);
	pf->mem_pos += k;
	return (ssize_t)k;
}

/* Gives inflate more compressed input; sets in_eof at the end. */
static int gz_refill(struct kz_pcapfile *pf)
{
	if (pf->mem && pf->mem_chunk == SIZE_MAX) {
		/* In-place memory: hand zlib the mapping itself, 1 GiB at a
		 * time because avail_in is an unsigned int. */
		size_t k = pf->mem_len - pf->mem_pos;
		if (k > (1u << 30))
			k = 1u << 30;
		pf->z.next_in = (Bytef *)(uintptr_t)(pf->mem + pf->mem_pos);
		pf->z.avail_in = (uInt)k;
		pf->mem_pos += k;
		if (k == 0)
			pf->in_eof = true;
		return 0;
	}
	ssize_t r = raw_read(pf, pf->in, pf->in_cap);
	if (r < 0)
		return (int)r;
	pf->z.next_in = pf->in;
	pf->z.avail_in = (uInt)r;
	if (r == 0)
		pf->in_eof = true;
	return 0;
}

/* Inflates up to n bytes into dst. Returns the count, 0 at the end of the
 * last gzip member, or a negative errno (with the error set). */
static ssize_t gz_read(struct kz_pcapfile *pf, uint8_t *dst, size_t n)
{
	if (pf->z_end)
		return 0;
	if (n > UINT_MAX)
		n = UINT_MAX;
	pf->z.next_out = dst;
	pf->z.avail_out = (uInt)n;
	while (pf->z.avail_out == n) {
		if (pf->z.avail_in == 0 && !pf->in_eof) {
			int rc = gz_refill(pf);
			if (rc < 0)
				return fail(pf, rc, "read error: %s", strerror(-rc));
		}
		int zr = inflate(&pf->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* Concatenated members (cat a.gz b.gz) are one file, as
			 * gzip -d treats them. Anything else after the end is
			 * ignored, as gzip does with trailing zeros. */
			if (pf->z.avail_in == 0 && !pf->in_eof) {
				int rc = gz_refill(pf);
				if (rc < 0)
					return fail(pf, rc, "read error: %s", strerror(-rc));
			}
			if (pf->z.avail_in > 0 && pf->z.next_in[0] == 0x1f) {
				inflateReset(&pf->z);
				continue;
			}
			pf->z_end = true;
			break;
		}
		if (zr == Z_BUF_ERROR && pf->z.avail_in == 0 && pf->in_eof)
			return fail(pf, 0, "gzip data ends before the end of its stream");
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return fail(pf, 0, "gzip: %s", pf->z.msg ? pf->z.msg : "corrupt data");
	}
	return (ssize_t)(n - pf->z.avail_out);
}

/* ---- stream buffer -------------------------------------------------------- */

/* Makes n contiguous unread bytes available at buf + start. Returns 0, 1
 * when the input ends first (what there is stays available), or a negative
 * errno (with the error set). */
static int st_fill(struct kz_pcapfile *pf, size_t n)
{
	if (n > STREAM_BUF_MAX)
		return fail(pf, 0, "a record of %zu bytes is above the reader's cap", n);
	while (pf->end - pf->start < n) {
		if (pf->src_eof)
			return 1;
		if (pf->end == pf->cap) {
			/* Full: move the unread bytes to the front, and grow only
			 * when that is not enough, so that a block length read
			 * from a corrupt file costs memory only as data arrives. */
			size_t have = pf->end - pf->start;
			memmove(pf->buf, pf->buf + pf->start, have);
			pf->dropped += pf->start;
			pf->start = 0;
			pf->end = have;
			if (have == pf->cap) {
				size_t ncap = pf->cap * 2;
				if (ncap > STREAM_BUF_MAX)
					ncap = STREAM_BUF_MAX;
				uint8_t *nb = realloc(pf->buf, ncap);
				if (!nb)
					return fail(pf, -ENOMEM,
					            "out of memory for a %zu-byte buffer", ncap);
				pf->buf = nb;
				pf->cap = ncap;
			}
		} else if (pf->cap - pf->start < n && pf->start > 0) {
			/* What is wanted would not fit behind start: compact now. */
			size_t have = pf->end - pf->start;
			memmove(pf->buf, pf->buf + pf->start, have);
			pf->dropped += pf->start;
			pf->start = 0;
			pf->end = have;
		}
		ssize_t r;
		if (pf->compressed)
			r = gz_read(pf, pf->buf + pf->end, pf->cap - pf->end);
		else
			r = raw_read(pf, pf->buf + pf->end, pf->cap - pf->end);
		if (r < 0)
			return pf->done ? (int)r
			                : fail(pf, (int)r, "read error: %s", strerror((int)-r));
		if (r == 0)
			pf->src_eof = true;
		pf->end += (size_t)r;
	}
	return 0;
}

/* Points *p at n unread bytes. Returns 0, 1 when fewer remain, or a negative
 * errno. */
static inline int need(struct kz_pcapfile *pf, size_t n, const uint8_t **p)
{
	if (!pf->stream) {
		if (pf->mem_len - pf->pos < n)
			return 1;
		*p = pf->mem + pf->pos;
		return 0;
	}
	if (pf->end - pf->start < n) {
		int rc = st_fill(pf, n);
		if (rc != 0)
			return rc;
	}
	*p = pf->buf + pf->start;
	return 0;
}

static size_t remaining(const struct kz_pcapfile *pf)
{
	return pf->stream ? pf->end - pf->start : pf->mem_len - pf->pos;
}

static inline void consume(struct kz_pcapfile *pf, size_t n)
{
	if (pf->stream)
		pf->start += n;
	else
		pf->pos += n;
}

/* ---- classic pcap --------------------------------------------------------- */

/* The 24-byte classic header: magic (which also gives the byte order and
 * the timestamp unit), version, two unused fields, snaplen, link type. */
static int pcap_header(struct kz_pcapfile *pf, uint32_t magic)
{
	const uint8_t *h;
	int rc = need(pf, 24, &h);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return fail(pf, 0, "pcap file header cut short (%zu of 24 bytes)", remaining(pf));
	pf->fmt = KZ_PCAPFILE_PCAP;
	pf->swap = magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS && magic != PCAP_MAGIC_KUZ;
	uint32_t m = get32(pf, h);
	pf->nsec = m == PCAP_MAGIC_NS;
	pf->rec_hdr = m == PCAP_MAGIC_KUZ ? 24 : 16;
	uint16_t major = get16(pf, h + 4);
	if (major != 2)
		return fail(pf, 0, "pcap version %u.%u not supported (only 2.x)", major,
		            get16(pf, h + 6));
	pf->snaplen = get32(pf, h + 16);
	pf->linktype = get32(pf, h + 20) & LINKTYPE_MASK;
	/* As libpcap: a snapshot length of 0 or above the cap means the cap. */
	pf->snap_eff = pf->snaplen == 0 || pf->snaplen > KZ_PCAP_CAPLEN_MAX ? KZ_PCAP_CAPLEN_MAX
	                                                                    : pf->snaplen;
	consume(pf, 24);
	return 0;
}

/* One classic record, on any source: the general path behind the fast one
 * in kz_pcapfile_next, which also handles the Kuznetzov header and every
 * error. */
static int pcap_next_rec(struct kz_pcapfile *pf, struct kz_frame *f)
{
	const uint8_t *h;
	int rc = need(pf, pf->rec_hdr, &h);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (remaining(pf) == 0) {
			pf->done = true;
			return 0;
		}
		return fail(pf, 0, "record header cut short (%zu of %u bytes): file truncated",
		            remaining(pf), pf->rec_hdr);
	}
	uint32_t sec = get32(pf, h), frac = get32(pf, h + 4);
	uint32_t caplen = get32(pf, h + 8), wirelen = get32(pf, h + 12);
	if (caplen > KZ_PCAP_CAPLEN_MAX)
		return fail(pf, 0, "record caplen %u above the %u-byte cap: corrupt file", caplen,
		            KZ_PCAP_CAPLEN_MAX);
	rc = need(pf, pf->rec_hdr + (size_t)caplen, &h);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return fail(pf, 0,
		            "record of %u bytes runs past the end (%zu bytes left): file "
		            "truncated",
		            caplen, remaining(pf) - pf->rec_hdr);
	f->data = h + pf->rec_hdr;
	f->ts_ns = (uint64_t)sec * 1000000000u + (uint64_t)frac * (pf->nsec ? 1u : 1000u);
	f->wirelen = wirelen;
	f->linktype = pf->linktype;
	f->ifindex = 0;
	/* libpcap hands out at most the snapshot length; so do we. */
	if (caplen > pf->snap_eff) {
		pf->st.caplen_over_snaplen++;
		f->caplen = pf->snap_eff;
	} else {
		f->caplen = caplen;
	}
	if (caplen > wirelen)
		pf->st.caplen_over_wirelen++;
	consume(pf, pf->rec_hdr + (size_t)caplen);
	pf->st.records++;
	pf->st.bytes += f->caplen;
	return 1;
}

/* ---- pcapng --------------------------------------------------------------- */

/* if_tsresol: the high bit chooses base 2 or 10, the rest is the negative
 * exponent. 0 means the resolution does not fit in 64 bits. */
static uint64_t units_from_tsresol(uint8_t v)
{
	unsigned e = v & 0x7f;
	if (v & 0x80)
		return e < 64 ? (uint64_t)1 << e : 0;
	if (e > 19) /* 10^20 does not fit in 64 bits */
		return 0;
	uint64_t u = 1;
	while (e--)
		u *= 10;
	return u;
}

/* An interface's timestamp in nanoseconds; microseconds and nanoseconds,
 * nearly every file, avoid the 128-bit division. */
static uint64_t to_ns(const struct iface *i, uint64_t t)
{
	uint64_t ns;
	if (i->units == 1000000u)
		ns = t * 1000u;
	else if (i->units == 1000000000u)
		ns = t;
	else
		ns = (uint64_t)((kz_u128)t * 1000000000u / i->units);
	return ns + i->offset_ns;
}

/* b is the whole block of blen bytes; the trailer has been checked. */
static void pcapng_idb(struct kz_pcapfile *pf, const uint8_t *b, uint32_t blen)
{
	if (blen < 20) {
		anomaly(pf, "interface block of %u bytes, below 20", blen);
		return;
	}
	if (pf->nif == KZ_PCAPNG_IFACES_MAX) {
		anomaly(pf, "more than %u interfaces in a section", KZ_PCAPNG_IFACES_MAX);
		return;
	}
	if (pf->nif == pf->ifcap) {
		uint32_t ncap = pf->ifcap ? pf->ifcap * 2 : 8;
		struct iface *n = reallocarray(pf->ifs, ncap, sizeof *n);
		if (!n) {
			anomaly(pf, "out of memory for interface %u", pf->nif);
			return;
		}
		pf->ifs = n;
		pf->ifcap = ncap;
	}
	struct iface *i = &pf->ifs[pf->nif++];
	pf->st.interfaces++;
	i->linktype = get16(pf, b + 8);
	uint32_t snap = get32(pf, b + 12);
	i->snaplen = snap == 0 || snap > KZ_PCAP_CAPLEN_MAX ? KZ_PCAP_CAPLEN_MAX : snap;
	i->units = 1000000u;
	i->offset_ns = 0;
	/* Options: code, length, value padded to 4 bytes; a malformed one ends
	 * the list but keeps the interface, so that later packet blocks still
	 * find their interface by number. */
	uint32_t o = 16, end = blen - 4;
	while (end - o >= 4) {
		uint16_t code = get16(pf, b + o), len = get16(pf, b + o + 2);
		if (code == 0)
			break;
		if (len > end - o - 4)
			break;
		if (code == 9 && len >= 1)
			i->units = units_from_tsresol(b[o + 4]);
		else if (code == 14 && len == 8)
			i->offset_ns = get64(pf, b + o + 4) * 1000000000u; /* seconds, signed */
		o += 4 + ((len + 3u) & ~3u);
	}
	if (pf->nif == 1) {
		pf->linktype = i->linktype;
		pf->snaplen = snap;
	}
}

/* A packet block (EPB, OPB, SPB) into *f. Returns 1 for a frame, 0 when
 * the block was skipped. */
static int pcapng_packet(struct kz_pcapfile *pf, uint32_t type, const uint8_t *b, uint32_t blen,
                         struct kz_frame *f)
{
	uint32_t ifid, caplen, wirelen, hdr;
	uint64_t ts;
	if (type == PCAPNG_SPB) {
		if (blen < 16) {
			anomaly(pf, "simple packet block of %u bytes, below 16", blen);
			return 0;
		}
		hdr = 12;
		ifid = 0;
		ts = 0;
		wirelen = get32(pf, b + 8);
		caplen = wirelen < blen - 16 ? wirelen : blen - 16;
	} else {
		if (blen < 32) {
			anomaly(pf, "packet block of %u bytes, below 32", blen);
			return 0;
		}
		hdr = 28;
		ifid = type == PCAPNG_EPB ? get32(pf, b + 8) : get16(pf, b + 8);
		ts = (uint64_t)get32(pf, b + 12) << 32 | get32(pf, b + 16);
		caplen = get32(pf, b + 20);
		wirelen = get32(pf, b + 24);
		if (caplen > blen - 32) {
			anomaly(pf, "caplen %u runs past its %u-byte block", caplen, blen);
			return 0;
		}
	}
	if (ifid >= pf->nif) {
		anomaly(pf, "packet on interface %u, but the section has %u", ifid, pf->nif);
		return 0;
	}
	const struct iface *i = &pf->ifs[ifid];
	if (i->units == 0) {
		anomaly(pf, "interface %u has an unusable if_tsresol", ifid);
		return 0;
	}
	if (caplen > KZ_PCAP_CAPLEN_MAX) {
		anomaly(pf, "caplen %u above the %u-byte cap", caplen, KZ_PCAP_CAPLEN_MAX);
		return 0;
	}
	if (caplen > i->snaplen) {
		pf->st.caplen_over_snaplen++;
		caplen = i->snaplen;
	}
	if (caplen > wirelen)
		pf->st.caplen_over_wirelen++;
	f->data = b + hdr;
	f->caplen = caplen;
	f->wirelen = wirelen;
	f->ts_ns = type == PCAPNG_SPB ? 0 : to_ns(i, ts);
	f->linktype = i->linktype;
	f->ifindex = ifid;
	return 1;
}

/* Reads blocks until a packet block gives a frame. Every block is framed
 * (lengths checked, trailer compared) before its type is looked at, so an
 * unknown or damaged block is skipped whole or ends the file, never half
 * read. */
static int pcapng_next_rec(struct kz_pcapfile *pf, struct kz_frame *f)
{
	for (;;) {
		const uint8_t *b;
		int rc = need(pf, 12, &b);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			if (remaining(pf) == 0) {
				pf->done = true;
				return 0;
			}
			return fail(pf, 0,
			            "block header cut short (%zu of 12 bytes): file truncated",
			            remaining(pf));
		}
		uint32_t type;
		memcpy(&type, b, 4);
		if (type == PCAPNG_SHB) {
			/* The byte-order magic decides how this section reads. */
			uint32_t bom;
			memcpy(&bom, b + 8, 4);
			if (bom == PCAPNG_BOM)
				pf->swap = false;
			else if (bom == __builtin_bswap32(PCAPNG_BOM))
				pf->swap = true;
			else
				return fail(pf, 0,
				            "section header with bad byte-order magic 0x%08x", bom);
		}
		type = get32(pf, b);
		uint32_t blen = get32(pf, b + 4);
		if (blen < 12 || blen % 4 != 0 || blen > KZ_PCAPNG_BLOCK_MAX)
			return fail(pf, 0, "block type 0x%x with bad length %u", type, blen);
		rc = need(pf, blen, &b);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return fail(
			        pf, 0,
			        "block type 0x%x of %u bytes runs past the end (%zu bytes left): "
			        "file truncated",
			        type, blen, remaining(pf));
		uint32_t trailer = get32(pf, b + blen - 4);
		if (trailer != blen)
			return fail(pf, 0, "block type 0x%x: trailing length %u differs from %u",
			            type, trailer, blen);
		int got = 0;
		switch (type) {
		case PCAPNG_SHB: {
			if (blen < 28)
				return fail(pf, 0, "section header block of %u bytes, below 28",
				            blen);
			uint16_t major = get16(pf, b + 12);
			if (major != 1)
				return fail(pf, 0, "pcapng version %u.%u not supported (only 1.x)",
				            major, get16(pf, b + 14));
			pf->nif = 0; /* interface numbers restart in each section */
			pf->st.sections++;
			break;
		}
		case PCAPNG_IDB:
			pcapng_idb(pf, b, blen);
			break;
		case PCAPNG_EPB:
		case PCAPNG_OPB:
		case PCAPNG_SPB:
			got = pcapng_packet(pf, type, b, blen, f);
			break;
		default:
			pf->st.blocks_skipped++;
			break;
		}
		consume(pf, blen);
		if (got) {
			pf->st.records++;
			pf->st.bytes += f->caplen;
			return 1;
		}
	}
}

/* ---- opening -------------------------------------------------------------- */

/* A reader with nothing open yet; name is copied for messages. */
static int pf_new(const char *name, struct kz_pcapfile **out)
{
	struct kz_pcapfile *pf = calloc(1, sizeof *pf);
	if (!pf)
		return -ENOMEM;
	pf->name = strdup(name);
	if (!pf->name) {
		free(pf);
		return -ENOMEM;
	}
	pf->fd = -1;
	*out = pf;
	return 0;
}

static void set_why(char *why, size_t why_len, const char *msg)
{
	if (why && why_len)
		snprintf(why, why_len, "%s", msg);
}

/* Sets up gzip decoding over the input; initial holds compressed bytes
 * already read (stream over a descriptor). */
static int gz_start(struct kz_pcapfile *pf, const uint8_t *initial, size_t n)
{
	pf->compressed = true;
	if (!pf->mem || pf->mem_chunk != SIZE_MAX) {
		pf->in_cap = n > GZ_IN_BUF ? n : GZ_IN_BUF;
		pf->in = malloc(pf->in_cap);
		if (!pf->in)
			return -ENOMEM;
		if (n)
			memcpy(pf->in, initial, n);
		pf->z.next_in = pf->in;
		pf->z.avail_in = (uInt)n;
	}
	/* 15 + 32: a window of 32 KiB, gzip or zlib header detected. */
	if (inflateInit2(&pf->z, 15 + 32) != Z_OK)
		return -ENOMEM;
	pf->z_live = true;
	return 0;
}

/* Decides the format from the first bytes and reads the file header. */
static int pf_start(struct kz_pcapfile *pf, char *why, size_t why_len)
{
	int rc;
	const uint8_t *h;
	if (!pf->stream) {
		if (pf->mem_len >= 2 && pf->mem[0] == 0x1f && pf->mem[1] == 0x8b) {
			/* gzip in memory: inflate it straight from the mapping. */
			pf->stream = true;
			pf->mem_chunk = SIZE_MAX;
			rc = gz_start(pf, NULL, 0);
			if (rc)
				goto fail;
		}
	}
	if (pf->stream) {
		/* Small only for the test mode that streams memory in pieces. */
		pf->cap = pf->mem_chunk == MEM_STREAM_CHUNK ? STREAM_BUF_MEM : STREAM_BUF_FD;
		pf->buf = malloc(pf->cap);
		if (!pf->buf) {
			rc = -ENOMEM;
			goto fail;
		}
		if (!pf->compressed) {
			/* Peek through the plain path; restart as gzip if the
			 * bytes say so. */
			rc = need(pf, 2, &h);
			if (rc < 0)
				goto fail;
			if (rc == 0 && h[0] == 0x1f && h[1] == 0x8b) {
				rc = gz_start(pf, h, pf->end - pf->start);
				if (rc)
					goto fail;
				pf->start = pf->end = 0;
				pf->src_eof = false;
			}
		}
	}
	rc = need(pf, 4, &h);
	if (rc < 0)
		goto fail;
	if (rc > 0) {
		rc = fail(pf, 0, "%s (%zu bytes): not a capture file",
		          remaining(pf) == 0 ? "empty" : "too short", remaining(pf));
		goto fail;
	}
	uint32_t magic;
	memcpy(&magic, h, 4);
	if (magic == PCAPNG_SHB) {
		pf->fmt = KZ_PCAPFILE_PCAPNG;
		return 0;
	}
	uint32_t sw = __builtin_bswap32(magic);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS || magic == PCAP_MAGIC_KUZ ||
	    sw == PCAP_MAGIC_US || sw == PCAP_MAGIC_NS || sw == PCAP_MAGIC_KUZ) {
		rc = pcap_header(pf, magic);
		if (rc)
			goto fail;
		return 0;
	}
	rc = fail(pf, 0, "magic 0x%02x%02x%02x%02x: not a pcap, pcapng or gzip file", h[0], h[1],
	          h[2], h[3]);
fail:
	if (!pf->err[0])
		snprintf(pf->err, sizeof pf->err, "%s: %s", pf->name, strerror(-rc));
	set_why(why, why_len, pf->err);
	return rc;
}

/* Maps a regular file from its current offset; returns false to stream. */
static bool try_map(struct kz_pcapfile *pf)
{
	struct stat st;
	if (fstat(pf->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return false;
	off_t at = lseek(pf->fd, 0, SEEK_CUR);
	if (at < 0 || at > st.st_size)
		at = 0;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, pf->fd, 0);
	if (m == MAP_FAILED)
		return false;
	(void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	pf->map = m;
	pf->map_len = (size_t)st.st_size;
	pf->mem = (const uint8_t *)m + at;
	pf->mem_len = (size_t)(st.st_size - at);
	return true;
}

static int open_fd_common(int fd, bool own, const char *name, struct kz_pcapfile **out, char *why,
                          size_t why_len)
{
	struct kz_pcapfile *pf;
	*out = NULL;
	int rc = pf_new(name, &pf);
	if (rc) {
		if (own)
			close(fd);
		set_why(why, why_len, "out of memory");
		return rc;
	}
	pf->fd = fd;
	pf->own_fd = own;
	if (!try_map(pf)) {
		pf->stream = true;
		pf->mem_chunk = SIZE_MAX;
	}
	rc = pf_start(pf, why, why_len);
	if (rc) {
		kz_pcapfile_close(pf);
		return rc;
	}
	*out = pf;
	return 0;
}

int kz_pcapfile_open(const char *path, struct kz_pcapfile **out, char *why, size_t why_len)
{
	if (strcmp(path, "-") == 0)
		return open_fd_common(STDIN_FILENO, false, "stdin", out, why, why_len);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		*out = NULL;
		if (why && why_len)
			snprintf(why, why_len, "%s: %s", path, strerror(e));
		return -e;
	}
	return open_fd_common(fd, true, path, out, why, why_len);
}

int kz_pcapfile_open_fd(int fd, const char *name, struct kz_pcapfile **out, char *why,
                        size_t why_len)
{
	return open_fd_common(fd, true, name, out, why, why_len);
}

int kz_pcapfile_open_mem(const void *buf, size_t len, const char *name, unsigned flags,
                         struct kz_pcapfile **out, char *why, size_t why_len)
{
	struct kz_pcapfile *pf;
	*out = NULL;
	int rc = pf_new(name, &pf);
	if (rc) {
		set_why(why, why_len, "out of memory");
		return rc;
	}
	pf->mem = buf;
	pf->mem_len = len;
	if (flags & KZ_PCAPFILE_F_STREAM) {
		pf->stream = true;
		pf->mem_chunk = MEM_STREAM_CHUNK;
	} else {
		pf->mem_chunk = SIZE_MAX;
	}
	rc = pf_start(pf, why, why_len);
	if (rc) {
		kz_pcapfile_close(pf);
		return rc;
	}
	*out = pf;
	return 0;
}

/* Gives back the mapped pages already read, so that reading a file of any
 * size keeps a bounded resident set: mapped file pages count in the
 * process's RSS for as long as they stay mapped. The page cache keeps
 * them, so a second pass is still served from memory. Called when the
 * previous record (the only one a caller may still hold) is released. */
static void release_behind(struct kz_pcapfile *pf)
{
	size_t page = 4096;
	size_t upto = pf->pos & ~(page - 1);
	/* mem is page-aligned plus the offset the file was opened at. */
	size_t base = (size_t)(pf->mem - (const uint8_t *)pf->map);
	size_t from = (base + pf->released + page - 1) & ~(page - 1);
	size_t to = (base + upto) & ~(page - 1);
	if (to > from)
		(void)madvise((uint8_t *)pf->map + from, to - from, MADV_DONTNEED);
	pf->released = upto;
}

/* A classic record read in place: the hot path. Returns 1, or 0 when the
 * record needs the careful path (caplen over the snapshot length, or past
 * the end). */
static inline int classic_in_place(struct kz_pcapfile *pf, struct kz_frame *f)
{
	const uint8_t *h = pf->mem + pf->pos;
	/* The loop is bound by memory: ask for the bytes a few records
	 * ahead, across page boundaries where the hardware prefetcher
	 * stops. A prefetch never faults. */
	__builtin_prefetch(h + 4096);
	uint32_t caplen = get32(pf, h + 8);
	if (caplen > pf->snap_eff || caplen > pf->mem_len - pf->pos - 16)
		return 0;
	uint32_t sec = get32(pf, h), frac = get32(pf, h + 4);
	f->data = h + 16;
	f->ts_ns = (uint64_t)sec * 1000000000u + (uint64_t)frac * (pf->nsec ? 1u : 1000u);
	f->caplen = caplen;
	f->wirelen = get32(pf, h + 12);
	f->linktype = pf->linktype;
	f->ifindex = 0;
	if (caplen > f->wirelen)
		pf->st.caplen_over_wirelen++;
	pf->pos += 16 + (size_t)caplen;
	pf->st.records++;
	pf->st.bytes += caplen;
	return 1;
}

/* Every way to the next record, with the checks the fast path skips. */
static __attribute__((noinline)) int next_slow(struct kz_pcapfile *pf, struct kz_frame *f)
{
	int rc;
	if (pf->done)
		return 0;
	if (pf->map && !pf->stream && pf->pos - pf->released >= RELEASE_STEP)
		release_behind(pf);
	if (pf->fmt == KZ_PCAPFILE_PCAP) {
		if (!pf->stream && pf->mem_len - pf->pos >= 16 && pf->rec_hdr == 16 &&
		    classic_in_place(pf, f))
			rc = 1;
		else
			rc = pcap_next_rec(pf, f);
	} else {
		rc = pcapng_next_rec(pf, f);
	}
	/* Until the next release of pages behind (or for good, in memory
	 * the caller holds), a classic file read in place needs none of the
	 * checks above. */
	if (!pf->done && pf->fmt == KZ_PCAPFILE_PCAP && !pf->stream && pf->rec_hdr == 16)
		pf->fast_end = pf->map ? pf->released + RELEASE_STEP : SIZE_MAX;
	else
		pf->fast_end = 0;
	return rc;
}

/* Per record, allocation-free: the buffer of stream mode grows only for a
 * record larger than any before it. The common case, a classic record read
 * in place, takes a few loads and compares and saves no registers; the
 * rest goes through next_slow. */
int kz_pcapfile_next(struct kz_pcapfile *pf, struct kz_frame *f)
{
	if (__builtin_expect(pf->pos < pf->fast_end && pf->mem_len - pf->pos >= 16, 1) &&
	    classic_in_place(pf, f))
		return 1;
	return next_slow(pf, f);
}

const char *kz_pcapfile_error(const struct kz_pcapfile *pf)
{
	return pf->err;
}

void kz_pcapfile_stats(const struct kz_pcapfile *pf, struct kz_pcapfile_stats *st)
{
	*st = pf->st;
}

enum kz_pcapfile_format kz_pcapfile_format(const struct kz_pcapfile *pf)
{
	return pf->fmt;
}

bool kz_pcapfile_compressed(const struct kz_pcapfile *pf)
{
	return pf->compressed;
}

uint32_t kz_pcapfile_linktype(const struct kz_pcapfile *pf)
{
	return pf->linktype;
}

uint32_t kz_pcapfile_snaplen(const struct kz_pcapfile *pf)
{
	return pf->snaplen;
}

void kz_pcapfile_close(struct kz_pcapfile *pf)
{
	if (!pf)
		return;
	if (pf->z_live)
		inflateEnd(&pf->z);
	if (pf->map)
		munmap(pf->map, pf->map_len);
	if (pf->own_fd && pf->fd >= 0)
		close(pf->fd);
	free(pf->in);
	free(pf->buf);
	free(pf->ifs);
	free(pf->name);
	free(pf);
}
