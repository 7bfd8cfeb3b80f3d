/*
 * libpcap receive path (rawrecv.h): a TPACKET_V3 ring whose blocks are
 * handed over when full or KZ_RAWRECV_BLOCK_MS old, inbound direction only
 * (our own SYNs and the kernel's RSTs are outbound), non-blocking reads
 * driven by poll on the selectable descriptor so that the thread can check
 * for its stop request between waits.
 */
#include "rawrecv.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct kz_rawrecv {
	pcap_t *pcap;
	int fd;
	uint64_t received;
	kz_rawrecv_fn *fn;
	void *ctx;
};

int kz_rawrecv_open(const struct kz_rawrecv_config *cfg, struct kz_rawrecv **out)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	int rc = -EIO;
	struct kz_rawrecv *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->pcap = pcap_create(cfg->ifname, errbuf);
	if (!r->pcap) {
		kz_err("capture on %s: %s", cfg->ifname, errbuf);
		goto fail;
	}
	size_t buffer = cfg->buffer_bytes ? cfg->buffer_bytes : KZ_RAWRECV_DEFAULT_BUFFER;
	if (buffer > INT32_MAX)
		buffer = INT32_MAX;
	pcap_set_snaplen(r->pcap, KZ_RAWRECV_SNAPLEN);
	pcap_set_promisc(r->pcap, 0);
	/* Blocks of replies, handed over when full or KZ_RAWRECV_BLOCK_MS
	 * old: a reply waits at most that long (stage 1 does not mind), and
	 * the thread wakes once per block instead of once per packet, which
	 * at 10^5 replies a second leaves measurably more CPU to the sender
	 * and the kernel. */
	pcap_set_timeout(r->pcap, KZ_RAWRECV_BLOCK_MS);
	pcap_set_buffer_size(r->pcap, (int)buffer);
	int st = pcap_activate(r->pcap);
	if (st < 0) {
		kz_err("capture on %s: %s", cfg->ifname,
		       st == PCAP_ERROR ? pcap_geterr(r->pcap) : pcap_statustostr(st));
		rc = (st == PCAP_ERROR_PERM_DENIED) ? -EPERM : -EIO;
		if (st == PCAP_ERROR_NO_SUCH_DEVICE)
			rc = -ENODEV;
		goto fail;
	}
	if (pcap_datalink(r->pcap) != DLT_EN10MB) {
		kz_err("capture on %s: link type %s is not Ethernet", cfg->ifname,
		       pcap_datalink_val_to_name(pcap_datalink(r->pcap)));
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	if (pcap_setdirection(r->pcap, PCAP_D_IN) < 0)
		kz_debug("capture on %s: cannot restrict to inbound: %s", cfg->ifname,
		         pcap_geterr(r->pcap));
	if (pcap_compile(r->pcap, &prog, cfg->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		kz_err("capture filter '%s': %s", cfg->filter, pcap_geterr(r->pcap));
		rc = -EINVAL;
		goto fail;
	}
	st = pcap_setfilter(r->pcap, &prog);
	pcap_freecode(&prog);
	if (st < 0) {
		kz_err("capture filter on %s: %s", cfg->ifname, pcap_geterr(r->pcap));
		goto fail;
	}
	if (pcap_setnonblock(r->pcap, 1, errbuf) < 0) {
		kz_err("capture on %s: %s", cfg->ifname, errbuf);
		goto fail;
	}
	r->fd = pcap_get_selectable_fd(r->pcap);
	if (r->fd < 0) {
		kz_err("capture on %s: no selectable descriptor", cfg->ifname);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	if (r->pcap)
		pcap_close(r->pcap);
	free(r);
	return rc;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct kz_rawrecv *r = (struct kz_rawrecv *)(void *)user;
	r->received++;
	r->fn(r->ctx, bytes, h->caplen);
}

int kz_rawrecv_poll(struct kz_rawrecv *r, int timeout_ms, kz_rawrecv_fn *fn, void *ctx)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 0;
	r->fn = fn;
	r->ctx = ctx;
	int total = 0;
	/* Drain what is waiting, a ring's worth at most per call, so that a
	 * flood cannot keep the caller from checking its stop flag. */
	for (int round = 0; round < 64; round++) {
		int got = pcap_dispatch(r->pcap, -1, on_packet, (u_char *)r);
		if (got < 0) {
			kz_err("capture: %s", pcap_geterr(r->pcap));
			return -EIO;
		}
		if (got == 0)
			break;
		total += got;
	}
	return total;
}

void kz_rawrecv_stats(struct kz_rawrecv *r, struct kz_rawrecv_stats *out)
{
	struct pcap_stat ps;
	memset(out, 0, sizeof *out);
	out->received = r->received;
	if (pcap_stats(r->pcap, &ps) == 0) {
		out->dropped = ps.ps_drop;
		out->ifdropped = ps.ps_ifdrop;
	}
}

void kz_rawrecv_close(struct kz_rawrecv *r)
{
	if (!r)
		return;
	pcap_close(r->pcap);
	free(r);
}
