/*
 * The capture-file reader on files written in a temporary directory: classic
 * pcap in microseconds, nanoseconds and big-endian, pcapng with two
 * interfaces of different link types and resolutions, gzip of each, stdin,
 * files cut at every byte, corrupt lengths; and cross-checked record by
 * record against libpcap's own pcap_dump and pcap_next_ex (and against a
 * pcapng written by Wireshark's editcap when it is installed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "pcapfile.h"

static char tmpdir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kz-pcapfile-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *tpath(const char *name)
{
	static char p[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
	return p[k];
}

/* ---- a growable byte buffer with a chosen byte order ------------------------ */

struct buf {
	uint8_t *b;
	size_t n, cap;
	bool be; /* write integers big-endian */
};

static void bput(struct buf *w, const void *p, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2 + 64;
		w->b = realloc(w->b, w->cap);
		assert_non_null(w->b);
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void b16(struct buf *w, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	if (w->be) {
		x[0] = (uint8_t)(v >> 8);
		x[1] = (uint8_t)v;
	}
	bput(w, x, 2);
}

static void b32(struct buf *w, uint32_t v)
{
	if (w->be) {
		b16(w, (uint16_t)(v >> 16));
		b16(w, (uint16_t)v);
	} else {
		b16(w, (uint16_t)v);
		b16(w, (uint16_t)(v >> 16));
	}
}

static void bset32(struct buf *w, size_t at, uint32_t v)
{
	size_t save = w->n;
	w->n = at;
	b32(w, v);
	w->n = save;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, const void *p, size_t n)
{
	gzFile g = gzopen(path, "wb6");
	assert_non_null(g);
	assert_int_equal(gzwrite(g, p, (unsigned)n), (int)n);
	assert_int_equal(gzclose(g), Z_OK);
}

/* gzip of n bytes into out (cap bytes); returns the compressed size. */
static size_t gz_mem(const void *p, size_t n, uint8_t *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t k = cap - z.avail_out;
	deflateEnd(&z);
	return k;
}

/* ---- the frames every file carries ------------------------------------------- */

#define NFRAMES 40

struct want {
	uint64_t ts_ns;
	uint32_t caplen, wirelen, linktype, ifindex;
	uint8_t data[300];
};

static struct want frames[NFRAMES];

static void make_frames(uint32_t lt_even, uint32_t lt_odd)
{
	for (int i = 0; i < NFRAMES; i++) {
		struct want *w = &frames[i];
		w->ts_ns = 1700000000ull * 1000000000u + (uint64_t)i * 1234567891u;
		w->caplen = (uint32_t)(i * 7 % 300);
		w->wirelen = w->caplen + (i % 3 == 0 ? 1000 : 0);
		w->linktype = i % 2 ? lt_odd : lt_even;
		w->ifindex = (uint32_t)(i % 2);
		for (uint32_t j = 0; j < w->caplen; j++)
			w->data[j] = (uint8_t)((uint32_t)i * 31 + j);
	}
}

/* Classic pcap of frames[]: nsec timestamps or usec, in the order w->be. */
static void classic(struct buf *w, bool nsec, uint32_t snaplen, uint32_t linktype)
{
	b32(w, nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
	b16(w, 2);
	b16(w, 4);
	b32(w, 0);
	b32(w, 0);
	b32(w, snaplen);
	b32(w, linktype);
	for (int i = 0; i < NFRAMES; i++) {
		const struct want *f = &frames[i];
		b32(w, (uint32_t)(f->ts_ns / 1000000000u));
		uint32_t frac = (uint32_t)(f->ts_ns % 1000000000u);
		b32(w, nsec ? frac : frac / 1000);
		b32(w, f->caplen);
		b32(w, f->wirelen);
		bput(w, f->data, f->caplen);
	}
}

static void ng_block_end(struct buf *w, size_t start)
{
	while ((w->n - start) % 4)
		bput(w, "", 1);
	uint32_t len = (uint32_t)(w->n - start + 4);
	b32(w, len);
	bset32(w, start + 4, len);
}

static void ng_shb(struct buf *w)
{
	size_t s = w->n;
	b32(w, 0x0a0d0d0a);
	b32(w, 0);
	b32(w, 0x1a2b3c4d);
	b16(w, 1);
	b16(w, 0);
	b32(w, 0xffffffff);
	b32(w, 0xffffffff);
	/* shb_userappl option, then end of options */
	b16(w, 4);
	b16(w, 6);
	bput(w, "kizuki\0\0", 8);
	b16(w, 0);
	b16(w, 0);
	ng_block_end(w, s);
}

static void ng_idb(struct buf *w, uint16_t linktype, uint32_t snaplen, int tsresol,
                   int64_t tsoffset)
{
	size_t s = w->n;
	b32(w, 1);
	b32(w, 0);
	b16(w, linktype);
	b16(w, 0);
	b32(w, snaplen);
	b16(w, 2); /* if_name */
	b16(w, 3);
	bput(w, "et0\0", 4);
	if (tsresol >= 0) {
		b16(w, 9);
		b16(w, 1);
		uint8_t r[4] = { (uint8_t)tsresol, 0, 0, 0 };
		bput(w, r, 4);
	}
	if (tsoffset) {
		b16(w, 14);
		b16(w, 8);
		b32(w, w->be ? (uint32_t)((uint64_t)tsoffset >> 32) : (uint32_t)tsoffset);
		b32(w, w->be ? (uint32_t)tsoffset : (uint32_t)((uint64_t)tsoffset >> 32));
	}
	b16(w, 0);
	b16(w, 0);
	ng_block_end(w, s);
}

static void ng_epb(struct buf *w, uint32_t ifid, uint64_t ts, uint32_t caplen, uint32_t wirelen,
                   const uint8_t *data)
{
	size_t s = w->n;
	b32(w, 6);
	b32(w, 0);
	b32(w, ifid);
	b32(w, (uint32_t)(ts >> 32));
	b32(w, (uint32_t)ts);
	b32(w, caplen);
	b32(w, wirelen);
	bput(w, data, caplen);
	while ((w->n - s) % 4)
		bput(w, "", 1);
	/* an epb_flags option */
	b16(w, 2);
	b16(w, 4);
	b32(w, 1);
	b16(w, 0);
	b16(w, 0);
	ng_block_end(w, s);
}

static void ng_unknown(struct buf *w, uint32_t type, size_t body)
{
	size_t s = w->n;
	b32(w, type);
	b32(w, 0);
	for (size_t i = 0; i < body; i++)
		bput(w, "\xee", 1);
	ng_block_end(w, s);
}

/* pcapng of frames[]: interface 0 Ethernet in microseconds, interface 1 raw
 * IP in nanoseconds (if_tsresol 9) with an if_tsoffset of 10 s; a name
 * resolution block and an unknown block in between. */
static void pcapng_snap(struct buf *w, uint32_t snap1)
{
	ng_shb(w);
	ng_idb(w, (uint16_t)frames[0].linktype, 0, -1, 0);
	ng_idb(w, (uint16_t)frames[1].linktype, snap1, 9, 10);
	for (int i = 0; i < NFRAMES; i++) {
		const struct want *f = &frames[i];
		uint64_t ts = f->ifindex == 0 ? f->ts_ns / 1000 : f->ts_ns - 10000000000ull;
		ng_epb(w, f->ifindex, ts, f->caplen, f->wirelen, f->data);
		if (i == 5)
			ng_unknown(w, 4, 20); /* name resolution */
		if (i == 9)
			ng_unknown(w, 0x80000001u, 3); /* a local block type */
	}
}

static void pcapng(struct buf *w)
{
	pcapng_snap(w, 65535);
}

/* Reads every record of an open reader and checks it against frames[]
 * (timestamps rounded to usec_only when the file has microseconds). */
static void check_reader(struct kz_pcapfile *pf, bool usec_ts, int usec_ifindex)
{
	struct kz_frame f;
	for (int i = 0; i < NFRAMES; i++) {
		int rc = kz_pcapfile_next(pf, &f);
		if (rc != 1)
			fail_msg("record %d: rc %d: %s", i, rc, kz_pcapfile_error(pf));
		const struct want *w = &frames[i];
		uint64_t ts = w->ts_ns;
		if (usec_ts || (int)w->ifindex == usec_ifindex)
			ts -= ts % 1000;
		assert_int_equal(f.ts_ns, ts);
		assert_int_equal(f.caplen, w->caplen);
		assert_int_equal(f.wirelen, w->wirelen);
		assert_int_equal(f.linktype, w->linktype);
		assert_memory_equal(f.data, w->data, w->caplen);
		if (usec_ifindex >= 0)
			assert_int_equal(f.ifindex, w->ifindex);
	}
	assert_int_equal(kz_pcapfile_next(pf, &f), 0);
	assert_int_equal(kz_pcapfile_next(pf, &f), 0);
	assert_string_equal(kz_pcapfile_error(pf), "");
	struct kz_pcapfile_stats st;
	kz_pcapfile_stats(pf, &st);
	assert_int_equal(st.records, NFRAMES);
	assert_int_equal(st.fatal, 0);
}

/* Opens path, memory, memory streamed, and the gzip of it, and checks each. */
static void check_all_ways(const char *name, const struct buf *w, bool usec, int usec_if,
                           enum kz_pcapfile_format fmt)
{
	char why[256];
	struct kz_pcapfile *pf;
	const char *path = tpath(name);
	write_file(path, w->b, w->n);
	assert_int_equal(kz_pcapfile_open(path, &pf, why, sizeof why), 0);
	assert_int_equal(kz_pcapfile_format(pf), fmt);
	assert_false(kz_pcapfile_compressed(pf));
	check_reader(pf, usec, usec_if);
	kz_pcapfile_close(pf);

	assert_int_equal(kz_pcapfile_open_mem(w->b, w->n, name, 0, &pf, why, sizeof why), 0);
	check_reader(pf, usec, usec_if);
	kz_pcapfile_close(pf);

	assert_int_equal(
	        kz_pcapfile_open_mem(w->b, w->n, name, KZ_PCAPFILE_F_STREAM, &pf, why, sizeof why),
	        0);
	check_reader(pf, usec, usec_if);
	kz_pcapfile_close(pf);

	char gzname[128];
	snprintf(gzname, sizeof gzname, "%s.gz", name);
	const char *gzpath = tpath(gzname);
	write_gz(gzpath, w->b, w->n);
	assert_int_equal(kz_pcapfile_open(gzpath, &pf, why, sizeof why), 0);
	assert_true(kz_pcapfile_compressed(pf));
	assert_int_equal(kz_pcapfile_format(pf), fmt);
	check_reader(pf, usec, usec_if);
	kz_pcapfile_close(pf);

	/* The gzip file through a pipe, as "zcat | kizuki telescope -r -" would
	 * not need, but "cat x.gz | ... -r -" does. */
	int fd = open(gzpath, O_RDONLY);
	assert_true(fd >= 0);
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		char b[4096];
		ssize_t r;
		while ((r = read(fd, b, sizeof b)) > 0)
			if (write(p[1], b, (size_t)r) != r)
				_exit(1);
		_exit(0);
	}
	close(fd);
	close(p[1]);
	assert_int_equal(kz_pcapfile_open_fd(p[0], "pipe", &pf, why, sizeof why), 0);
	assert_true(kz_pcapfile_compressed(pf));
	check_reader(pf, usec, usec_if);
	kz_pcapfile_close(pf);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void test_classic_usec(void **state)
{
	(void)state;
	make_frames(1, 1);
	struct buf w = { 0 };
	classic(&w, false, 65535, 1);
	check_all_ways("usec.pcap", &w, true, -1, KZ_PCAPFILE_PCAP);
	free(w.b);
}

static void test_classic_nsec_big_endian(void **state)
{
	(void)state;
	make_frames(101, 101);
	struct buf w = { .be = true };
	classic(&w, true, 262144, 101);
	check_all_ways("nsec-be.pcap", &w, false, -1, KZ_PCAPFILE_PCAP);
	struct buf l = { 0 };
	classic(&l, true, 262144, 101);
	check_all_ways("nsec.pcap", &l, false, -1, KZ_PCAPFILE_PCAP);
	free(w.b);
	free(l.b);
}

static void test_pcapng_two_interfaces(void **state)
{
	(void)state;
	make_frames(1, 101);
	struct buf w = { 0 };
	pcapng(&w);
	check_all_ways("two.pcapng", &w, false, 0, KZ_PCAPFILE_PCAPNG);
	struct kz_pcapfile *pf;
	char why[256];
	assert_int_equal(kz_pcapfile_open_mem(w.b, w.n, "two", 0, &pf, why, sizeof why), 0);
	check_reader(pf, false, 0);
	struct kz_pcapfile_stats st;
	kz_pcapfile_stats(pf, &st);
	assert_int_equal(st.interfaces, 2);
	assert_int_equal(st.blocks_skipped, 2);
	assert_int_equal(st.sections, 1);
	assert_int_equal(kz_pcapfile_linktype(pf), 1);
	kz_pcapfile_close(pf);
	free(w.b);

	/* Big-endian, and two sections: the second restarts interface numbers
	 * and its byte order is its own. */
	struct buf b = { .be = true };
	pcapng(&b);
	struct buf two = { 0 };
	bput(&two, b.b, b.n);
	struct buf l = { 0 };
	pcapng(&l);
	bput(&two, l.b, l.n);
	assert_int_equal(kz_pcapfile_open_mem(two.b, two.n, "two", 0, &pf, why, sizeof why), 0);
	struct kz_frame f;
	int n = 0;
	while (kz_pcapfile_next(pf, &f) == 1) {
		const struct want *x = &frames[n % NFRAMES];
		assert_int_equal(f.caplen, x->caplen);
		assert_int_equal(f.ifindex, x->ifindex);
		assert_memory_equal(f.data, x->data, x->caplen);
		n++;
	}
	assert_int_equal(n, 2 * NFRAMES);
	assert_string_equal(kz_pcapfile_error(pf), "");
	kz_pcapfile_close(pf);
	free(b.b);
	free(l.b);
	free(two.b);
}

static void test_pcapng_resolutions(void **state)
{
	(void)state;
	static const uint8_t d[4] = { 0x45, 0, 0, 4 };
	struct buf w = { 0 };
	ng_shb(&w);
	ng_idb(&w, 101, 0, 0x80 | 20, 0); /* 2^-20 s */
	ng_idb(&w, 101, 0, 3, -5);        /* milliseconds, 5 s earlier */
	ng_idb(&w, 101, 0, 20, 0);        /* 10^-20: cannot be held */
	ng_epb(&w, 0, (uint64_t)3 << 20 | 1 << 19, 4, 4, d);
	ng_epb(&w, 1, 7001, 4, 4, d);
	ng_epb(&w, 2, 1, 4, 4, d);
	ng_epb(&w, 3, 1, 4, 4, d); /* no interface 3 */
	ng_epb(&w, 0, 0, 4, 4, d);
	struct kz_pcapfile *pf;
	char why[256];
	assert_int_equal(kz_pcapfile_open_mem(w.b, w.n, "res", 0, &pf, why, sizeof why), 0);
	struct kz_frame f;
	assert_int_equal(kz_pcapfile_next(pf, &f), 1);
	assert_int_equal(f.ts_ns, 3500000000ull);
	assert_int_equal(kz_pcapfile_next(pf, &f), 1);
	assert_int_equal(f.ts_ns, 2001000000ull);
	assert_int_equal(kz_pcapfile_next(pf, &f), 1); /* the two bad ones are skipped */
	assert_int_equal(f.ts_ns, 0);
	assert_int_equal(kz_pcapfile_next(pf, &f), 0);
	struct kz_pcapfile_stats st;
	kz_pcapfile_stats(pf, &st);
	assert_int_equal(st.bad_records, 2);
	assert_int_equal(st.records, 3);
	kz_pcapfile_close(pf);
	free(w.b);
}

static void test_pcapng_spb_opb(void **state)
{
	(void)state;
	static const uint8_t d[6] = { 1, 2, 3, 4, 5, 6 };
	struct buf w = { 0 };
	ng_shb(&w);
	ng_idb(&w, 1, 4, -1, 0); /* snaplen 4 */
	size_t s = w.n;          /* simple packet block, 6 bytes on the wire */
	b32(&w, 3);
	b32(&w, 0);
	b32(&w, 6);
	bput(&w, d, 6);
	ng_block_end(&w, s);
	s = w.n; /* obsolete packet block */
	b32(&w, 2);
	b32(&w, 0);
	b16(&w, 0);
	b16(&w, 0);
	b32(&w, 0);
	b32(&w, 1000000);
	b32(&w, 3);
	b32(&w, 6);
	bput(&w, d, 3);
	ng_block_end(&w, s);
	struct kz_pcapfile *pf;
	char why[256];
	assert_int_equal(kz_pcapfile_open_mem(w.b, w.n, "spb", 0, &pf, why, sizeof why), 0);
	struct kz_frame f;
	assert_int_equal(kz_pcapfile_next(pf, &f), 1);
	assert_int_equal(f.caplen, 4); /* cut to the interface's snaplen */
	assert_int_equal(f.wirelen, 6);
	assert_memory_equal(f.data, d, 4);
	assert_int_equal(kz_pcapfile_next(pf, &f), 1);
	assert_int_equal(f.caplen, 3);
	assert_int_equal(f.ts_ns, 1000000000ull);
	assert_int_equal(kz_pcapfile_next(pf, &f), 0);
	struct kz_pcapfile_stats st;
	kz_pcapfile_stats(pf, &st);
	assert_int_equal(st.caplen_over_snaplen, 1);
	kz_pcapfile_close(pf);
	free(w.b);
}

/* Every cut of a file: the complete records before the cut come out, then
 * the end (a cut on a boundary) or an error that names an offset. */
static void cut_everywhere(const struct buf *w, size_t header, const size_t *ends, int nends,
                           unsigned flags)
{
	for (size_t cut = 0; cut <= w->n; cut++) {
		uint8_t *c = malloc(cut ? cut : 1);
		assert_non_null(c);
		memcpy(c, w->b, cut);
		struct kz_pcapfile *pf;
		char why[256] = "";
		int rc = kz_pcapfile_open_mem(c, cut, "cut", flags, &pf, why, sizeof why);
		if (cut < header) {
			/* Cut inside the file header (classic: open fails) or
			 * before the first packet block (pcapng: no record,
			 * then the end or an error). */
			if (rc == 0) {
				struct kz_frame f;
				assert_true(kz_pcapfile_next(pf, &f) <= 0);
				kz_pcapfile_close(pf);
			} else {
				assert_non_null(strstr(why, "cut"));
			}
			free(c);
			continue;
		}
		assert_int_equal(rc, 0);
		int want = 0;
		bool boundary = cut == header;
		for (int i = 0; i < nends; i++) {
			if (ends[i] <= cut)
				want = i + 1;
			if (ends[i] == cut)
				boundary = true;
		}
		struct kz_frame f;
		int got = 0;
		while ((rc = kz_pcapfile_next(pf, &f)) == 1) {
			if (flags == 0)
				assert_true(f.data >= c && f.data + f.caplen <= c + cut);
			got++;
		}
		assert_int_equal(got, want);
		if (boundary) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -EBADMSG);
			assert_non_null(strstr(kz_pcapfile_error(pf), "cut: offset "));
		}
		kz_pcapfile_close(pf);
		free(c);
	}
}

static void test_truncated_files(void **state)
{
	(void)state;
	make_frames(1, 1);
	struct buf w = { 0 };
	classic(&w, false, 65535, 1);
	size_t ends[NFRAMES], at = 24;
	for (int i = 0; i < NFRAMES; i++) {
		at += 16 + frames[i].caplen;
		ends[i] = at;
	}
	cut_everywhere(&w, 24, ends, NFRAMES, 0);
	free(w.b);

	/* pcapng: record ends are the ends of the packet blocks. */
	make_frames(1, 101);
	struct buf g = { 0 };
	ng_shb(&g);
	ng_idb(&g, 1, 0, -1, 0);
	size_t ng_header = g.n;
	size_t nends[8];
	for (int i = 0; i < 8; i++) {
		ng_epb(&g, 0, (uint64_t)i, frames[i].caplen, frames[i].caplen, frames[i].data);
		nends[i] = g.n;
	}
	cut_everywhere(&g, ng_header, nends, 8, 0);
	cut_everywhere(&g, ng_header, nends, 8, KZ_PCAPFILE_F_STREAM);
	free(g.b);
}

static void test_corrupt_lengths(void **state)
{
	(void)state;
	make_frames(1, 1);
	struct kz_pcapfile *pf;
	char why[256];
	struct kz_frame f;
	struct buf w = { 0 };
	classic(&w, false, 65535, 1);
	/* The third record gets a caplen of 4 GiB - 1. */
	size_t third = 24 + 16 + frames[0].caplen + 16 + frames[1].caplen;
	bset32(&w, third + 8, 0xffffffffu);
	for (unsigned flags = 0; flags <= KZ_PCAPFILE_F_STREAM; flags += KZ_PCAPFILE_F_STREAM) {
		assert_int_equal(
		        kz_pcapfile_open_mem(w.b, w.n, "huge.pcap", flags, &pf, why, sizeof why),
		        0);
		assert_int_equal(kz_pcapfile_next(pf, &f), 1);
		assert_int_equal(kz_pcapfile_next(pf, &f), 1);
		assert_int_equal(kz_pcapfile_next(pf, &f), -EBADMSG);
		char want[128];
		snprintf(want, sizeof want, "huge.pcap: offset %zu: record caplen 4294967295 above",
		         third);
		assert_non_null(strstr(kz_pcapfile_error(pf), want));
		assert_int_equal(kz_pcapfile_next(pf, &f), 0); /* and it stays ended */
		struct kz_pcapfile_stats st;
		kz_pcapfile_stats(pf, &st);
		assert_int_equal(st.fatal, 1);
		kz_pcapfile_close(pf);
	}

	/* Above the snapshot length but below the cap: cut to the snaplen, as
	 * libpcap does, and counted. */
	bset32(&w, third + 8, frames[2].caplen);
	bset32(&w, 16, 10);
	assert_int_equal(kz_pcapfile_open_mem(w.b, w.n, "snap", 0, &pf, why, sizeof why), 0);
	int n = 0;
	while (kz_pcapfile_next(pf, &f) == 1) {
		assert_true(f.caplen <= 10);
		n++;
	}
	assert_int_equal(n, NFRAMES);
	struct kz_pcapfile_stats st;
	kz_pcapfile_stats(pf, &st);
	assert_true(st.caplen_over_snaplen > 0);
	kz_pcapfile_close(pf);
	free(w.b);

	/* pcapng: a length not a multiple of 4, a length below 12, a trailer that
	 * disagrees, a block larger than the cap: all end the file. */
	static const struct {
		size_t at; /* 0: the length field; 1: the trailer */
		uint32_t v;
		const char *why;
	} bad[] = {
		{ 0, 33, "bad length 33" },
		{ 0, 8, "bad length 8" },
		{ 0, KZ_PCAPNG_BLOCK_MAX + 4, "bad length" },
		{ 0, 0x7ffffffc, "bad length" },
		{ 1, 36, "trailing length 36" },
		{ 0, 4096, "runs past the end" },
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		struct buf g = { 0 };
		ng_shb(&g);
		ng_idb(&g, 1, 0, -1, 0);
		size_t epb = g.n;
		ng_epb(&g, 0, 1, 20, 20, frames[3].data);
		size_t end = g.n;
		if (bad[k].at == 0)
			bset32(&g, epb + 4, bad[k].v);
		else
			bset32(&g, end - 4, bad[k].v);
		assert_int_equal(
		        kz_pcapfile_open_mem(g.b, g.n, "bad.pcapng", 0, &pf, why, sizeof why), 0);
		assert_int_equal(kz_pcapfile_next(pf, &f), -EBADMSG);
		char want[64];
		snprintf(want, sizeof want, "bad.pcapng: offset %zu: ", epb);
		if (!strstr(kz_pcapfile_error(pf), want) ||
		    !strstr(kz_pcapfile_error(pf), bad[k].why))
			fail_msg("case %zu: '%s'", k, kz_pcapfile_error(pf));
		kz_pcapfile_close(pf);
		free(g.b);
	}

	/* pcapng: a caplen past its (well-framed) block is skipped, and the
	 * next block is read. */
	struct buf g = { 0 };
	ng_shb(&g);
	ng_idb(&g, 1, 0, -1, 0);
	size_t epb = g.n;
	ng_epb(&g, 0, 1, 20, 20, frames[3].data);
	ng_epb(&g, 0, 2, 20, 20, frames[3].data);
	bset32(&g, epb + 20, 1000);
	assert_int_equal(kz_pcapfile_open_mem(g.b, g.n, "skip", 0, &pf, why, sizeof why), 0);
	assert_int_equal(kz_pcapfile_next(pf, &f), 1);
	assert_int_equal(f.ts_ns, 2000);
	assert_int_equal(kz_pcapfile_next(pf, &f), 0);
	kz_pcapfile_stats(pf, &st);
	assert_int_equal(st.bad_records, 1);
	kz_pcapfile_close(pf);
	free(g.b);
}

static void test_not_a_capture(void **state)
{
	(void)state;
	struct kz_pcapfile *pf;
	char why[256];
	assert_int_equal(
	        kz_pcapfile_open_mem("GET / HTTP/1.1\r\n", 16, "http", 0, &pf, why, sizeof why),
	        -EBADMSG);
	assert_null(pf);
	assert_non_null(strstr(why, "not a pcap, pcapng or gzip file"));
	assert_int_equal(kz_pcapfile_open_mem("", 0, "empty", 0, &pf, why, sizeof why), -EBADMSG);
	assert_non_null(strstr(why, "empty"));
	assert_int_equal(kz_pcapfile_open(tpath("missing.pcap"), &pf, why, sizeof why), -ENOENT);
	assert_non_null(strstr(why, "missing.pcap"));
	/* gzip of garbage, and a gzip stream cut short. */
	const char *gp = tpath("junk.gz");
	write_gz(gp, "this is not a pcap", 18);
	assert_int_equal(kz_pcapfile_open(gp, &pf, why, sizeof why), -EBADMSG);
	assert_non_null(strstr(why, "magic"));
	make_frames(1, 1);
	struct buf w = { 0 };
	classic(&w, false, 65535, 1);
	const char *full = tpath("cut.pcap.gz");
	write_gz(full, w.b, w.n);
	FILE *f = fopen(full, "rb");
	uint8_t z[65536];
	size_t zn = fread(z, 1, sizeof z, f);
	fclose(f);
	assert_int_equal(kz_pcapfile_open_mem(z, zn / 2, "cut.gz", 0, &pf, why, sizeof why), 0);
	struct kz_frame fr;
	int rc;
	while ((rc = kz_pcapfile_next(pf, &fr)) == 1)
		;
	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(kz_pcapfile_error(pf), "gzip data ends"));
	kz_pcapfile_close(pf);
	/* Concatenated gzip members are one file: the pcap split in two
	 * members at an odd place reads as the whole. */
	uint8_t two[2 * 65536];
	size_t n1 = gz_mem(w.b, 1001, two, sizeof two);
	size_t n2 = gz_mem(w.b + 1001, w.n - 1001, two + n1, sizeof two - n1);
	assert_int_equal(kz_pcapfile_open_mem(two, n1 + n2, "cat.gz", 0, &pf, why, sizeof why), 0);
	check_reader(pf, true, -1);
	kz_pcapfile_close(pf);
	free(w.b);
}

static void test_stdin(void **state)
{
	(void)state;
	make_frames(1, 1);
	struct buf w = { 0 };
	classic(&w, true, 65535, 1);
	const char *path = tpath("stdin.pcap");
	write_file(path, w.b, w.n);
	int saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	/* A regular file on stdin (mapped), then a pipe (streamed). */
	int fd = open(path, O_RDONLY);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	struct kz_pcapfile *pf;
	char why[256];
	assert_int_equal(kz_pcapfile_open("-", &pf, why, sizeof why), 0);
	check_reader(pf, false, -1);
	kz_pcapfile_close(pf);

	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		size_t off = 0;
		while (off < w.n) {
			/* small writes, so the reader sees partial records */
			size_t k = w.n - off < 100 ? w.n - off : 100;
			if (write(p[1], w.b + off, k) != (ssize_t)k)
				_exit(1);
			off += k;
		}
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	assert_int_equal(kz_pcapfile_open("-", &pf, why, sizeof why), 0);
	check_reader(pf, false, -1);
	kz_pcapfile_close(pf);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	free(w.b);
}

/* ---- against libpcap ------------------------------------------------------ */

/* Writes frames with libpcap's own pcap_dump at the given precision. */
static void dump_with_libpcap(const char *path, int precision, int linktype, int snaplen)
{
	pcap_t *p = pcap_open_dead_with_tstamp_precision(linktype, snaplen, (u_int)precision);
	assert_non_null(p);
	pcap_dumper_t *d = pcap_dump_open(p, path);
	assert_non_null(d);
	for (int i = 0; i < NFRAMES; i++) {
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)(frames[i].ts_ns / 1000000000u);
		uint64_t frac = frames[i].ts_ns % 1000000000u;
		h.ts.tv_usec =
		        (suseconds_t)(precision == PCAP_TSTAMP_PRECISION_NANO ? frac : frac / 1000);
		h.caplen = frames[i].caplen;
		h.len = frames[i].wirelen;
		pcap_dump((u_char *)d, &h, frames[i].data);
	}
	pcap_dump_close(d);
	pcap_close(p);
}

/* Compares every record of our reader with pcap_next_ex on the same file. */
static int compare_with_libpcap(const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p)
		fail_msg("libpcap: %s", ebuf);
	struct kz_pcapfile *pf;
	char why[256];
	assert_int_equal(kz_pcapfile_open(path, &pf, why, sizeof why), 0);
	int n = 0;
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int lr = pcap_next_ex(p, &h, &data);
		struct kz_frame f;
		int kr = kz_pcapfile_next(pf, &f);
		if (lr == PCAP_ERROR_BREAK) {
			assert_int_equal(kr, 0);
			break;
		}
		if (lr != 1)
			fail_msg("%s: record %d: libpcap: %s", path, n, pcap_geterr(p));
		assert_int_equal(kr, 1);
		assert_int_equal(f.ts_ns,
		                 (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec);
		assert_int_equal(f.caplen, h->caplen);
		assert_int_equal(f.wirelen, h->len);
		assert_memory_equal(f.data, data, h->caplen);
		n++;
	}
	kz_pcapfile_close(pf);
	pcap_close(p);
	return n;
}

static void test_against_libpcap(void **state)
{
	(void)state;
	make_frames(1, 1);
	const char *us = tpath("libpcap-us.pcap");
	dump_with_libpcap(us, PCAP_TSTAMP_PRECISION_MICRO, 1, 65535);
	assert_int_equal(compare_with_libpcap(us), NFRAMES);
	const char *ns = tpath("libpcap-ns.pcap");
	dump_with_libpcap(ns, PCAP_TSTAMP_PRECISION_NANO, 1, 65535);
	assert_int_equal(compare_with_libpcap(ns), NFRAMES);
	/* A snapshot length below some captured lengths: both cut the same. */
	const char *small = tpath("libpcap-snap.pcap");
	dump_with_libpcap(small, PCAP_TSTAMP_PRECISION_MICRO, 1, 100);
	assert_int_equal(compare_with_libpcap(small), NFRAMES);
	/* Our own pcapng of one link type and one snapshot length, which
	 * libpcap requires of all interfaces (we do not). */
	make_frames(1, 1);
	struct buf w = { 0 };
	pcapng_snap(&w, 0);
	const char *ng = tpath("ours.pcapng");
	write_file(ng, w.b, w.n);
	assert_int_equal(compare_with_libpcap(ng), NFRAMES);
	free(w.b);
}

static void test_kuznetzov_against_libpcap(void **state)
{
	(void)state;
	/* Alexey Kuznetzov's format: 8 more bytes per record header
	 * (interface index, protocol, packet type, padding). */
	make_frames(1, 1);
	struct buf w = { 0 };
	b32(&w, 0xa1b2cd34u);
	b16(&w, 2);
	b16(&w, 4);
	b32(&w, 0);
	b32(&w, 0);
	b32(&w, 65535);
	b32(&w, 1);
	for (int i = 0; i < NFRAMES; i++) {
		const struct want *f = &frames[i];
		b32(&w, (uint32_t)(f->ts_ns / 1000000000u));
		b32(&w, (uint32_t)(f->ts_ns % 1000000000u / 1000));
		b32(&w, f->caplen);
		b32(&w, f->wirelen);
		b32(&w, 2);
		b16(&w, 0x0800);
		bput(&w, "\0\0", 2);
		bput(&w, f->data, f->caplen);
	}
	const char *path = tpath("kuznetzov.pcap");
	write_file(path, w.b, w.n);
	assert_int_equal(compare_with_libpcap(path), NFRAMES);
	struct kz_pcapfile *pf;
	char why[256];
	assert_int_equal(
	        kz_pcapfile_open_mem(w.b, w.n, "kuz", KZ_PCAPFILE_F_STREAM, &pf, why, sizeof why),
	        0);
	check_reader(pf, true, -1);
	kz_pcapfile_close(pf);
	free(w.b);
}

static void test_against_editcap_pcapng(void **state)
{
	(void)state;
	if (system("command -v editcap >/dev/null 2>&1") != 0) {
		print_message("editcap (Debian package tshark) not installed: skipped\n");
		skip();
	}
	make_frames(1, 1);
	const char *in = tpath("for-editcap.pcap");
	dump_with_libpcap(in, PCAP_TSTAMP_PRECISION_NANO, 1, 65535);
	const char *out = tpath("editcap.pcapng");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "editcap -F pcapng '%s' '%s'", in, out);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(compare_with_libpcap(out), NFRAMES);
	struct kz_pcapfile *pf;
	char why[256];
	assert_int_equal(kz_pcapfile_open(out, &pf, why, sizeof why), 0);
	assert_int_equal(kz_pcapfile_format(pf), KZ_PCAPFILE_PCAPNG);
	check_reader(pf, false, -1);
	kz_pcapfile_close(pf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classic_usec),
		cmocka_unit_test(test_classic_nsec_big_endian),
		cmocka_unit_test(test_pcapng_two_interfaces),
		cmocka_unit_test(test_pcapng_resolutions),
		cmocka_unit_test(test_pcapng_spb_opb),
		cmocka_unit_test(test_truncated_files),
		cmocka_unit_test(test_corrupt_lengths),
		cmocka_unit_test(test_not_a_capture),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_against_libpcap),
		cmocka_unit_test(test_kuznetzov_against_libpcap),
		cmocka_unit_test(test_against_editcap_pcapng),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
