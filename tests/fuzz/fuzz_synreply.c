/*
 * The SYN scanner's reply parser and cookie check on arbitrary frames: no
 * crash, no read past the input, and whatever the check accepts really is
 * an answer to one of our probes (its source port and sequence number are
 * the ones that probe carried). The probe builder is fixed: key 00..0f,
 * source 198.19.255.1 and 2001:2::1, ports 23, 2323, 22, 80, 8080, source
 * ports 32768-61000, three probes per target.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kz_synprobe *probe_builder(void)
{
	static struct kz_synprobe *sp;
	if (sp)
		return sp;
	static const uint16_t ports[] = { 23, 2323, 22, 80, 8080 };
	struct kz_synprobe_config cfg;
	memset(&cfg, 0, sizeof cfg);
	for (int i = 0; i < 16; i++)
		cfg.key[i] = (uint8_t)i;
	cfg.has_src4 = cfg.has_src6 = true;
	cfg.src4 = kz_addr_from_v4(0xc613ff01);
	static const uint8_t src6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	cfg.src6 = kz_addr_from_bytes(src6);
	cfg.sport_first = 32768;
	cfg.sport_last = 61000;
	cfg.probes = 3;
	cfg.ports = ports;
	cfg.nports = 5;
	if (kz_synprobe_new(&cfg, &sp) != 0)
		abort();
	return sp;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kz_synprobe *sp = probe_builder();
	/* A private copy: the parser must not read a byte past size, and
	 * ASan sees every such read on a heap block of exactly that size. */
	uint8_t *frame = malloc(size ? size : 1);
	if (!frame)
		return 0;
	memcpy(frame, data, size);
	struct kz_synreply r;
	if (kz_synreply_parse(frame, size, &r) == 0) {
		unsigned probe;
		size_t port;
		enum kz_synverdict v = kz_synprobe_check(sp, &r, &probe, &port);
		if (v != KZ_SYN_INVALID) {
			struct kz_synprobe_cookie c;
			if (!kz_synprobe_cookie(sp, r.src, r.sport, probe, &c) ||
			    c.sport != r.dport || c.seq + 1 != r.ack || probe >= 3 ||
			    kz_synprobe_port_index(sp, r.sport) != (int)port)
				abort();
		}
	}
	free(frame);
	return 0;
}
