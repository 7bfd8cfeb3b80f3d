/*
 * The capture-file reader on arbitrary bytes. The first byte picks the way
 * in: 0 the bytes in place (records must point inside the input), 1 the
 * buffered stream path in small pieces, 2 the bytes gzip-compressed by the
 * harness (the inflate path with meaningful content). Every frame returned
 * is also decoded. Checks: no crash, no read out of bounds (ASan), records
 * inside the input, caplen within the cap, and no more records than the
 * input could frame (so the reader cannot loop).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pcapfile.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *gzip(const uint8_t *in, size_t n, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, (uLong)n) + 64;
	uint8_t *out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	unsigned mode = data[0] % 3;
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	uint8_t *z = NULL;
	if (mode == 2) {
		z = gzip(in, n, &n);
		if (!z)
			return 0;
		in = z;
	}
	struct kz_pcapfile *pf;
	char why[256];
	if (kz_pcapfile_open_mem(in, n, "fuzz", mode == 1 ? KZ_PCAPFILE_F_STREAM : 0, &pf, why,
	                         sizeof why) != 0) {
		if (why[0] == '\0')
			abort();
		free(z);
		return 0;
	}
	/* Every record costs at least 12 bytes of uncompressed input; gzip
	 * given as input expands at most 1032 times. */
	bool compressed = kz_pcapfile_compressed(pf);
	size_t plain = mode == 2 ? size - 1 : compressed ? n * 1032 : n;
	size_t limit = plain / 12 + 1;
	size_t records = 0;
	struct kz_frame f;
	int rc;
	while ((rc = kz_pcapfile_next(pf, &f)) == 1) {
		if (++records > limit)
			abort();
		if (f.caplen > KZ_PCAP_CAPLEN_MAX)
			abort();
		if (!compressed && mode == 0 &&
		    ((uintptr_t)f.data < (uintptr_t)in ||
		     (uintptr_t)f.data + f.caplen > (uintptr_t)in + n))
			abort();
		struct kz_pkt p;
		(void)kz_pkt_decode(&p, f.linktype, f.data, f.caplen, f.wirelen);
	}
	if (rc < 0 && kz_pcapfile_error(pf)[0] == '\0')
		abort();
	if (kz_pcapfile_next(pf, &f) != 0)
		abort();
	struct kz_pcapfile_stats st;
	kz_pcapfile_stats(pf, &st);
	if (st.records != records)
		abort();
	kz_pcapfile_close(pf);
	free(z);
	return 0;
}
