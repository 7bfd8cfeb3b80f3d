/*
 * The connect-mode engine (connscan.h). Attempts live in a fixed slot
 * array; the running ones are also on a list in start order, so that the
 * oldest (the first to time out, since every attempt has the same timeout)
 * is always the head and a finished attempt leaves the list in O(1). An
 * epoll event carries its slot index and a generation number, so an event
 * for a slot that has since been reused is recognised and ignored.
 */
#include "connscan.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define NONE UINT32_MAX

struct slot {
	int fd;
	uint32_t gen;
	uint32_t prev, next; /* start-order list of running attempts */
	struct kz_addr addr;
	uint16_t port;
	uint32_t tag;
	uint64_t deadline_ns;
};

struct kz_connscan {
	struct kz_connscan_config cfg;
	int ep;
	struct slot *slots;
	uint32_t *free_stack;
	uint32_t nfree;
	uint32_t head, tail;
	unsigned inflight;
};

int kz_connscan_new(const struct kz_connscan_config *cfg, struct kz_connscan **out)
{
	if (cfg->max_inflight == 0 || cfg->max_inflight > KZ_CONNSCAN_MAX_INFLIGHT ||
	    cfg->timeout_ms == 0)
		return -EINVAL;
	int rc = -ENOMEM;
	struct kz_connscan *cs = calloc(1, sizeof *cs);
	if (!cs)
		return -ENOMEM;
	cs->cfg = *cfg;
	cs->slots = calloc(cfg->max_inflight, sizeof *cs->slots);
	cs->free_stack = calloc(cfg->max_inflight, sizeof *cs->free_stack);
	if (!cs->slots || !cs->free_stack)
		goto fail;
	cs->ep = epoll_create1(EPOLL_CLOEXEC);
	if (cs->ep < 0) {
		rc = -errno;
		goto fail;
	}
	for (uint32_t i = 0; i < cfg->max_inflight; i++) {
		cs->slots[i].fd = -1;
		cs->free_stack[i] = cfg->max_inflight - 1 - i;
	}
	cs->nfree = cfg->max_inflight;
	cs->head = cs->tail = NONE;
	*out = cs;
	return 0;
fail:
	free(cs->slots);
	free(cs->free_stack);
	free(cs);
	return rc;
}

/* The start-order list: append at the tail (newest), remove anywhere. */
static void list_append(struct kz_connscan *cs, uint32_t i)
{
	cs->slots[i].prev = cs->tail;
	cs->slots[i].next = NONE;
	if (cs->tail != NONE)
		cs->slots[cs->tail].next = i;
	else
		cs->head = i;
	cs->tail = i;
}

static void list_remove(struct kz_connscan *cs, uint32_t i)
{
	struct slot *s = &cs->slots[i];
	if (s->prev != NONE)
		cs->slots[s->prev].next = s->next;
	else
		cs->head = s->next;
	if (s->next != NONE)
		cs->slots[s->next].prev = s->prev;
	else
		cs->tail = s->prev;
}

/* Ends a running attempt: reports it, closes (a reset for an open one),
 * frees the slot. */
static void finish(struct kz_connscan *cs, uint32_t i, enum kz_connscan_outcome o, int err,
                   kz_connscan_fn *fn, void *ctx)
{
	struct slot *s = &cs->slots[i];
	list_remove(cs, i);
	close(s->fd); /* also leaves the epoll set */
	s->fd = -1;
	s->gen++;
	cs->free_stack[cs->nfree++] = i;
	cs->inflight--;
	fn(ctx, s->addr, s->port, s->tag, o, err);
}

/* What an error from connect() or SO_ERROR says about the port. */
static enum kz_connscan_outcome outcome_of(int err)
{
	switch (err) {
	case 0:
		return KZ_CONN_OPEN;
	case ECONNREFUSED:
		return KZ_CONN_CLOSED;
	case ETIMEDOUT:
		return KZ_CONN_TIMEOUT;
	default:
		return KZ_CONN_ERROR;
	}
}

/* A socket set up for one attempt, or a negative errno. */
static int attempt_socket(const struct kz_connscan *cs, struct kz_addr addr)
{
	bool v4 = kz_addr_is_v4(addr);
	int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Close with a RST: no FIN handshake, no TIME_WAIT per target. */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	if (cs->cfg.syn_count) {
		/* The kernel's minimum is one retransmission. */
		int retries = cs->cfg.syn_count > 1 ? (int)cs->cfg.syn_count - 1 : 1;
		setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &retries, sizeof retries);
	}
	bool bind_it = v4 ? cs->cfg.has_src4 : cs->cfg.has_src6;
	if (bind_it) {
		/* Pick the local port at connect time, per destination, not
		 * at bind time from one shared pool. */
		int one = 1;
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		struct sockaddr_storage ss;
		socklen_t sl;
		memset(&ss, 0, sizeof ss);
		if (v4) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(kz_addr_v4(cs->cfg.src4));
			sl = sizeof *sin;
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
			sin6->sin6_family = AF_INET6;
			kz_addr_to_bytes(cs->cfg.src6, sin6->sin6_addr.s6_addr);
			sl = sizeof *sin6;
		}
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
	}
	return fd;
}

int kz_connscan_start(struct kz_connscan *cs, struct kz_addr addr, uint16_t port, uint32_t tag,
                      uint64_t now_ns, kz_connscan_fn *fn, void *ctx)
{
	if (cs->nfree == 0)
		return -EBUSY;
	int fd = attempt_socket(cs, addr);
	if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM)
		return fd;
	if (fd < 0) {
		fn(ctx, addr, port, tag, KZ_CONN_ERROR, -fd);
		return 0;
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof ss);
	if (kz_addr_is_v4(addr)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(kz_addr_v4(addr));
		sl = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		kz_addr_to_bytes(addr, sin6->sin6_addr.s6_addr);
		sl = sizeof *sin6;
	}
	int r = connect(fd, (struct sockaddr *)&ss, sl);
	if (r == 0 || errno != EINPROGRESS) {
		/* Settled at once: loopback answers inside connect(). */
		int err = r == 0 ? 0 : errno;
		close(fd);
		if (err == EADDRNOTAVAIL || err == EAGAIN)
			return -EAGAIN; /* out of local ports for now */
		fn(ctx, addr, port, tag, outcome_of(err), err);
		return 0;
	}
	uint32_t i = cs->free_stack[--cs->nfree];
	struct slot *s = &cs->slots[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)s->gen << 32 | i };
	if (epoll_ctl(cs->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = -errno;
		close(fd);
		cs->free_stack[cs->nfree++] = i;
		return e;
	}
	s->fd = fd;
	s->addr = addr;
	s->port = port;
	s->tag = tag;
	s->deadline_ns = now_ns + (uint64_t)cs->cfg.timeout_ms * 1000000;
	list_append(cs, i);
	cs->inflight++;
	return 0;
}

int kz_connscan_poll(struct kz_connscan *cs, int timeout_ms, uint64_t (*clock_ns)(void),
                     kz_connscan_fn *fn, void *ctx)
{
	struct epoll_event evs[256];
	/* A socket becomes writable when the handshake completes and is
	 * flagged with an error when it fails: EPOLLOUT covers both. */
	int n = epoll_wait(cs->ep, evs, 256, timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	int reported = 0;
	for (int k = 0; k < n; k++) {
		uint32_t i = (uint32_t)evs[k].data.u64;
		uint32_t gen = (uint32_t)(evs[k].data.u64 >> 32);
		if (i >= cs->cfg.max_inflight || cs->slots[i].gen != gen || cs->slots[i].fd < 0)
			continue;
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(cs->slots[i].fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		finish(cs, i, outcome_of(err), err, fn, ctx);
		reported++;
	}
	/* Every attempt has the same timeout, so the oldest is the first to
	 * expire: walk from the head and stop at the first still in time. */
	uint64_t now = clock_ns();
	while (cs->head != NONE && cs->slots[cs->head].deadline_ns <= now) {
		finish(cs, cs->head, KZ_CONN_TIMEOUT, ETIMEDOUT, fn, ctx);
		reported++;
	}
	return reported;
}

unsigned kz_connscan_inflight(const struct kz_connscan *cs)
{
	return cs->inflight;
}

int kz_connscan_next_timeout_ms(const struct kz_connscan *cs, uint64_t now_ns)
{
	if (cs->head == NONE)
		return -1;
	uint64_t d = cs->slots[cs->head].deadline_ns;
	if (d <= now_ns)
		return 0;
	uint64_t ms = (d - now_ns + 999999) / 1000000;
	return ms > 60000 ? 60000 : (int)ms;
}

void kz_connscan_free(struct kz_connscan *cs)
{
	if (!cs)
		return;
	for (uint32_t i = 0; i < cs->cfg.max_inflight; i++)
		if (cs->slots[i].fd >= 0)
			close(cs->slots[i].fd);
	if (cs->ep >= 0)
		close(cs->ep);
	free(cs->slots);
	free(cs->free_stack);
	free(cs);
}
