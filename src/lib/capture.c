/*
 * The capture back ends (see capture.h) and the wrapper that runs them.
 *
 * The file back end reads batches of KZ_FILE_BATCH frames from pcapfile.h.
 * The live back end uses libpcap on Linux: pcap_create, then snaplen,
 * promiscuous mode, a large buffer, immediate mode off and a timeout, then
 * pcap_activate. With immediate mode off, libpcap 1.10 on Linux reads the
 * packet socket through a TPACKET_V3 ring of blocks that the kernel hands
 * over when full or after the timeout, which is what keeps the per-frame cost
 * low at darknet rates. One dispatch is one pcap_dispatch() call: at most the
 * frames of the ring blocks that are ready.
 *
 * Stopping is a flag of type sig_atomic_t plus the back end's breakloop
 * (pcap_breakloop, which libpcap 1.10 makes wake a poll in progress), so a
 * signal handler can stop the loop.
 */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define KZ_FILE_BATCH      4096
#define KZ_LIVE_SNAPLEN    65535u
#define KZ_LIVE_BUFFER     (64u << 20)
#define KZ_LIVE_TIMEOUT_MS 100

struct kz_capture {
	const struct kz_capture_backend *be;
	void *state;
	volatile sig_atomic_t stop;
	uint64_t frames;
	char err[512];
};

/* ---- file ------------------------------------------------------------------ */

static int file_open(const struct kz_capture_opts *o, void **state, char *err, size_t err_len)
{
	struct kz_pcapfile *pf;
	int rc = kz_pcapfile_open(o->source, &pf, err, err_len);
	if (rc)
		return rc;
	*state = pf;
	return 0;
}

/* Up to KZ_FILE_BATCH frames, so that a stop is seen at least that often. */
static int file_dispatch(void *state, kz_capture_fn *fn, void *user, char *err, size_t err_len)
{
	struct kz_pcapfile *pf = state;
	struct kz_frame f;
	int n = 0;
	while (n < KZ_FILE_BATCH) {
		int rc = kz_pcapfile_next(pf, &f);
		if (rc == 1) {
			fn(user, &f);
			n++;
			continue;
		}
		if (rc < 0) {
			/* Deliver what the batch already holds; the error
			 * comes back on the next call, as the reader keeps it. */
			if (n > 0)
				return n;
			snprintf(err, err_len, "%s", kz_pcapfile_error(pf));
			return rc;
		}
		break;
	}
	if (n == 0 && kz_pcapfile_error(pf)[0]) {
		snprintf(err, err_len, "%s", kz_pcapfile_error(pf));
		return -EBADMSG;
	}
	return n;
}

static void file_stats(void *state, struct kz_capture_stats *st)
{
	kz_pcapfile_stats(state, &st->file);
	st->bytes = st->file.bytes;
}

static uint32_t file_linktype(void *state)
{
	return kz_pcapfile_linktype(state);
}

static int file_fd(void *state)
{
	(void)state;
	return -1;
}

static void file_close(void *state)
{
	kz_pcapfile_close(state);
}

const struct kz_capture_backend kz_capture_file = {
	.name = "file",
	.description = "pcap, pcapng or gzip-compressed capture file, or stdin",
	.open = file_open,
	.dispatch = file_dispatch,
	.breakloop = NULL,
	.stats = file_stats,
	.linktype = file_linktype,
	.fd = file_fd,
	.close = file_close,
};

/* ---- live ------------------------------------------------------------------ */

/* The live back end's state: the handle and what the handler needs to turn
 * a pcap_pkthdr into a kz_frame. */
struct live {
	pcap_t *p;
	bool nano;
	uint32_t linktype;
	uint64_t bytes;
	kz_capture_fn *fn;
	void *user;
};

/* pcap_dispatch's callback: with nanosecond precision, tv_usec holds
 * nanoseconds. */
static void live_handler(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct live *l = (struct live *)arg;
	struct kz_frame f = {
		.data = bytes,
		.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u +
		         (uint64_t)h->ts.tv_usec * (l->nano ? 1u : 1000u),
		.caplen = h->caplen,
		.wirelen = h->len,
		.linktype = l->linktype,
		.ifindex = 0,
	};
	l->bytes += h->caplen;
	l->fn(l->user, &f);
}

static int live_open(const struct kz_capture_opts *o, void **state, char *err, size_t err_len)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct live *l = calloc(1, sizeof *l);
	int rc = -ENOMEM;
	if (!l) {
		snprintf(err, err_len, "%s: out of memory", o->source);
		return rc;
	}
	l->p = pcap_create(o->source, ebuf);
	if (!l->p) {
		snprintf(err, err_len, "%s: %s", o->source, ebuf);
		rc = -ENODEV;
		goto fail;
	}
	int pr = pcap_set_snaplen(l->p, o->snaplen ? (int)o->snaplen : (int)KZ_LIVE_SNAPLEN);
	if (pr == 0)
		pr = pcap_set_promisc(l->p, o->promisc);
	if (pr == 0)
		pr = pcap_set_buffer_size(l->p, o->buffer_bytes ? (int)o->buffer_bytes
		                                                : (int)KZ_LIVE_BUFFER);
	/* Immediate mode off: libpcap then uses TPACKET_V3 and hands us whole
	 * ring blocks, at the price of up to timeout_ms of latency. */
	if (pr == 0)
		pr = pcap_set_immediate_mode(l->p, 0);
	if (pr == 0)
		pr = pcap_set_timeout(l->p, o->timeout_ms > 0 ? o->timeout_ms : KZ_LIVE_TIMEOUT_MS);
	if (pr != 0) {
		snprintf(err, err_len, "%s: setting capture options: %s", o->source,
		         pcap_statustostr(pr));
		rc = -EINVAL;
		goto fail;
	}
	/* Nanoseconds when the kernel gives them; pcap_activate may still
	 * fall back, so the precision is asked again after it. */
	l->nano = pcap_set_tstamp_precision(l->p, PCAP_TSTAMP_PRECISION_NANO) == 0;
	pr = pcap_activate(l->p);
	if (pr < 0) {
		const char *detail = pcap_geterr(l->p);
		snprintf(err, err_len, "%s: %s%s%s", o->source, pcap_statustostr(pr),
		         detail && detail[0] ? ": " : "", detail ? detail : "");
		rc = pr == PCAP_ERROR_PERM_DENIED      ? -EPERM
		     : pr == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV
		                                       : -EIO;
		goto fail;
	}
	/* A positive status is a warning (promiscuous mode not supported,
	 * timestamp type not available): the capture works. */
	if (pr > 0)
		kz_warn("%s: %s: %s", o->source, pcap_statustostr(pr), pcap_geterr(l->p));
	if (l->nano)
		l->nano = pcap_get_tstamp_precision(l->p) == PCAP_TSTAMP_PRECISION_NANO;
	if (o->inbound_only && pcap_setdirection(l->p, PCAP_D_IN) != 0) {
		snprintf(err, err_len, "%s: inbound-only capture: %s", o->source,
		         pcap_geterr(l->p));
		rc = -EINVAL;
		goto fail;
	}
	if (o->filter && o->filter[0]) {
		struct bpf_program prog;
		if (pcap_compile(l->p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(err, err_len, "%s: filter '%s': %s", o->source, o->filter,
			         pcap_geterr(l->p));
			rc = -EINVAL;
			goto fail;
		}
		pr = pcap_setfilter(l->p, &prog);
		pcap_freecode(&prog);
		if (pr != 0) {
			snprintf(err, err_len, "%s: setting the filter: %s", o->source,
			         pcap_geterr(l->p));
			rc = -EINVAL;
			goto fail;
		}
	}
	l->linktype = (uint32_t)pcap_datalink(l->p);
	*state = l;
	return 0;
fail:
	if (l->p)
		pcap_close(l->p);
	free(l);
	return rc;
}

/* One pcap_dispatch: the frames of the ring blocks the kernel has handed
 * over, or nothing after the timeout. */
static int live_dispatch(void *state, kz_capture_fn *fn, void *user, char *err, size_t err_len)
{
	struct live *l = state;
	l->fn = fn;
	l->user = user;
	int n = pcap_dispatch(l->p, -1, live_handler, (u_char *)l);
	if (n > 0)
		return n;
	if (n == 0)
		return -EAGAIN; /* the timeout passed with nothing to read */
	if (n == PCAP_ERROR_BREAK)
		return -EINTR;
	snprintf(err, err_len, "%s", pcap_geterr(l->p));
	return -EIO;
}

static void live_breakloop(void *state)
{
	struct live *l = state;
	pcap_breakloop(l->p);
}

/* pcap_stats on Linux reads the packet socket's counters (and the
 * interface's drops from /proc): no privilege needed. */
static void live_stats(void *state, struct kz_capture_stats *st)
{
	struct live *l = state;
	st->bytes = l->bytes;
	struct pcap_stat ps;
	if (pcap_stats(l->p, &ps) != 0)
		return;
	st->has_kernel = true;
	st->kernel_received = ps.ps_recv;
	st->kernel_dropped = ps.ps_drop;
	st->iface_dropped = ps.ps_ifdrop;
}

static uint32_t live_linktype(void *state)
{
	return ((struct live *)state)->linktype;
}

static int live_fd(void *state)
{
	return pcap_get_selectable_fd(((struct live *)state)->p);
}

static void live_close(void *state)
{
	struct live *l = state;
	pcap_close(l->p);
	free(l);
}

const struct kz_capture_backend kz_capture_live = {
	.name = "live",
	.description = "Linux interface through libpcap (TPACKET_V3 ring, BPF filter)",
	.open = live_open,
	.dispatch = live_dispatch,
	.breakloop = live_breakloop,
	.stats = live_stats,
	.linktype = live_linktype,
	.fd = live_fd,
	.close = live_close,
};

/* ---- the wrapper -------------------------------------------------------------- */

/* The back ends a program can name; AF_XDP would be one more entry. */
static const struct kz_capture_backend *const backends[] = {
	&kz_capture_file,
	&kz_capture_live,
};

const struct kz_capture_backend *kz_capture_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

int kz_capture_open(const struct kz_capture_backend *be, const struct kz_capture_opts *opts,
                    struct kz_capture **out, char *err, size_t err_len)
{
	*out = NULL;
	struct kz_capture *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, err_len, "%s: out of memory", opts->source);
		return -ENOMEM;
	}
	c->be = be;
	int rc = be->open(opts, &c->state, err, err_len);
	if (rc) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int kz_capture_dispatch(struct kz_capture *c, kz_capture_fn *fn, void *user)
{
	if (c->stop)
		return -EINTR;
	/* The callback is passed straight through: a counting wrapper here
	 * would cost an indirect call per frame. Back ends count bytes. */
	int rc = c->be->dispatch(c->state, fn, user, c->err, sizeof c->err);
	if (rc > 0)
		c->frames += (uint64_t)rc;
	if (rc == -EINTR || (rc == -EAGAIN && c->stop))
		return -EINTR;
	return rc;
}

int kz_capture_loop(struct kz_capture *c, kz_capture_fn *fn, void *user)
{
	for (;;) {
		int rc = kz_capture_dispatch(c, fn, user);
		if (rc > 0 || rc == -EAGAIN)
			continue;
		if (rc == -EINTR && !c->stop)
			continue; /* a breakloop we did not ask for */
		return rc;
	}
}

void kz_capture_stop(struct kz_capture *c)
{
	c->stop = 1;
	if (c->be->breakloop)
		c->be->breakloop(c->state);
}

bool kz_capture_stopped(const struct kz_capture *c)
{
	return c->stop != 0;
}

const char *kz_capture_error(const struct kz_capture *c)
{
	return c->err;
}

void kz_capture_stats(struct kz_capture *c, struct kz_capture_stats *st)
{
	memset(st, 0, sizeof *st);
	st->frames = c->frames;
	c->be->stats(c->state, st);
}

uint32_t kz_capture_linktype(struct kz_capture *c)
{
	return c->be->linktype(c->state);
}

int kz_capture_fd(struct kz_capture *c)
{
	return c->be->fd(c->state);
}

const struct kz_capture_backend *kz_capture_backend_of(const struct kz_capture *c)
{
	return c->be;
}

void kz_capture_close(struct kz_capture *c)
{
	if (!c)
		return;
	c->be->close(c->state);
	free(c);
}

int kz_capture_filter_for(const struct kz_cidr *prefixes, size_t n, char *buf, size_t len)
{
	if (n == 0)
		return -EINVAL;
	/* The prefix list untagged, under one tag, and under two. libpcap's
	 * "vlan" shifts the offsets of everything after it in the expression,
	 * so the tagged alternatives nest: (P) or (vlan and ((P) or (vlan and
	 * (P)))). */
	static const char *const open_part[3] = { "(", " or (vlan and ((", ") or (vlan and (" };
	static const char *const close_part = "))))";
	size_t used = 0;
	for (int w = 0; w < 3; w++) {
		int k = snprintf(buf + used, len - used, "%s", open_part[w]);
		if (k < 0 || (size_t)k >= len - used)
			return -ENOSPC;
		used += (size_t)k;
		for (size_t i = 0; i < n; i++) {
			char cidr[KZ_CIDR_STRLEN];
			/* "ip"/"ip6": a bare "dst net" would also match ARP
			 * asking for a darknet address. */
			k = snprintf(buf + used, len - used, "%s%s dst net %s", i ? " or " : "",
			             kz_addr_is_v4(prefixes[i].base) ? "ip" : "ip6",
			             kz_cidr_format(&prefixes[i], cidr));
			if (k < 0 || (size_t)k >= len - used)
				return -ENOSPC;
			used += (size_t)k;
		}
		if (w == 0) {
			k = snprintf(buf + used, len - used, ")");
			if (k < 0 || (size_t)k >= len - used)
				return -ENOSPC;
			used += (size_t)k;
		}
	}
	int k = snprintf(buf + used, len - used, "%s", close_part);
	if (k < 0 || (size_t)k >= len - used)
		return -ENOSPC;
	return 0;
}
