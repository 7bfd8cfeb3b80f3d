/*
 * The packet decoder on arbitrary bytes. The first byte picks the link type
 * (low nibble) and how much longer the frame was on the wire than captured
 * (high nibble); the rest is the frame. Beyond "no crash, no read past the
 * capture" (ASan), the harness checks what callers rely on: a result in
 * range with a name, every offset and flag consistent with the capture, and
 * that the classifier's fused fast path (kz_classify_frame), wherever it
 * takes a frame, gives the same summary as decoding and classifying it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t linktypes[16] = {
	KZ_LINKTYPE_ETHERNET,   KZ_LINKTYPE_ETHERNET, KZ_LINKTYPE_ETHERNET,  KZ_LINKTYPE_RAW,
	KZ_LINKTYPE_DLT_RAW,    KZ_LINKTYPE_IPV4,     KZ_LINKTYPE_IPV6,      KZ_LINKTYPE_LINUX_SLL,
	KZ_LINKTYPE_LINUX_SLL2, KZ_LINKTYPE_NULL,     KZ_LINKTYPE_LOOP,      KZ_LINKTYPE_DLT_RAW14,
	KZ_LINKTYPE_ETHERNET,   KZ_LINKTYPE_RAW,      KZ_LINKTYPE_LINUX_SLL, 147 /* unsupported */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 70000)
		return 0;
	uint32_t lt = linktypes[data[0] & 15];
	uint32_t caplen = (uint32_t)(size - 1);
	uint32_t wirelen = caplen + (uint32_t)(data[0] >> 4) * 97u;
	struct kz_pkt p;
	enum kz_pkt_result r = kz_pkt_decode(&p, lt, data + 1, caplen, wirelen);
	if ((unsigned)r >= KZ_PKT_RESULT_COUNT || !kz_pkt_result_name(r))
		abort();
	struct kz_tpkt fast, slow;
	uint32_t dst;
	memset(&fast, 0x5a, sizeof fast);
	if (kz_classify_frame(lt, data + 1, caplen, wirelen, 7, KZ_FP_ALL, &fast, &dst)) {
		if (r != KZ_PKT_OK)
			abort();
		memset(&slow, 0xa5, sizeof slow);
		kz_classify(&p, 7, KZ_FP_ALL, &slow);
		if (memcmp(&fast, &slow, sizeof fast) != 0 || dst != kz_addr_v4(p.dst))
			abort();
	}
	if (r != KZ_PKT_OK)
		return 0;
	if (p.ip_version != 4 && p.ip_version != 6)
		abort();
	if (p.l3_off >= caplen || p.ip_len > wirelen - p.l3_off)
		abort();
	if (p.vlan_count > KZ_PKT_VLAN_MAX || p.ip6_ext_count > KZ_PKT_IP6_EXT_MAX)
		abort();
	if (p.flags & KZ_PKT_F_L4) {
		/* The fixed L4 header was captured in full. */
		unsigned min = p.proto == 6 ? 20 : p.proto == 132 ? 12 : 8;
		if (p.l4_off < p.l3_off + 20 || p.l4_off + min > caplen)
			abort();
		if ((p.flags & KZ_PKT_F_FRAG_LATER) != 0)
			abort();
	}
	if (p.proto == 6 && (p.flags & KZ_PKT_F_L4) && (p.tcp_hlen < 20 || p.tcp_hlen % 4))
		abort();
	if ((p.flags & KZ_PKT_F_INNER_PORTS) && !(p.flags & KZ_PKT_F_INNER))
		abort();
	if ((p.flags & KZ_PKT_F_INNER) && !(p.flags & KZ_PKT_F_ICMP_ERROR))
		abort();
	if ((p.flags & KZ_PKT_F_TCP_MSS_ONLY) && (p.tcp_opt_count != 1 || p.tcp_opt_kinds != 4))
		abort();
	return 0;
}
