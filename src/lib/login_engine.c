/*
 * The stage-2 engine (login_engine.h): one epoll loop driving one login
 * plug-in per service over non-blocking kernel sockets.
 *
 * Structures:
 *   - slots: one per service in flight, at most `concurrency`, allocated on
 *     first use and then recycled through a free list; each holds the
 *     plug-in's state, at most one socket and one timer. A slot's `gen`
 *     changes whenever its socket is closed, and the epoll data carries
 *     (gen, slot index), so that an event queued for a socket closed
 *     earlier in the same batch is recognised as stale and dropped;
 *   - hosts: a hash table of the addresses with a service in flight, a
 *     service waiting behind the per-host limit, or a connection opened
 *     less than pace_ms ago (kept on an idle list until the pace has
 *     passed, then freed), so its size is bounded by the work in hand;
 *   - the queue: a ring of targets under a mutex, the only state other
 *     threads touch (submit, close_input, stats), with an eventfd to wake
 *     the loop; stop only bumps an atomic counter and writes the eventfd,
 *     which is what makes it async-signal-safe;
 *   - timers: a heap with one entry per slot (timerheap.h); the earliest
 *     deadline is epoll_wait's timeout.
 *
 * Invariants: a slot in use always has its timer armed (every state has a
 * deadline); a socket is registered with epoll exactly while it is open;
 * every connect goes through do_connect, which asks the scope first.
 *
 * Why one thread: the work per event is a few microseconds of parsing, and
 * devices answer in seconds; one core drives tens of thousands of
 * connections. Stage 1's SYN scanner runs on its own threads and feeds
 * this one through the queue.
 */
#include "login_engine.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "login_http.h"
#include "login_ssh.h"
#include "siphash.h"
#include "timerheap.h"

#define MAX_EVENTS      256
#define READ_BUF        65536
#define READ_BUDGET     (256u * 1024) /* bytes read from one socket per event */
#define PROGRESS_MS     1000
#define DEFAULT_STEP_MS 1000 /* a step that forgot its deadline */
#define APPLY_LOOPS     8    /* immediate connect failures handled in a row */

enum slot_state {
	SL_FREE = 0,
	SL_WAIT,       /* waiting to connect (timer: when) */
	SL_CONNECTING, /* connect() in progress (timer: connect deadline) */
	SL_OPEN,       /* connected (timer: the step's deadline) */
	SL_IDLE,       /* no connection, waiting for tick (a plug-in asked IO
	                  without one: a bug, but it must not hang or connect) */
};

struct pend {
	struct kz_login_target t;
	struct pend *next;
};

struct host {
	struct kz_addr addr;
	struct host *hnext;         /* hash chain */
	struct host *iprev, *inext; /* idle list */
	bool idle;
	bool connected_once;
	unsigned active;
	uint64_t last_connect;
	struct pend *dq_head, *dq_tail; /* services waiting for this host */
};

struct slot {
	struct kz_timer timer;
	uint32_t index;
	uint32_t gen;
	uint8_t state;
	bool eof;        /* byte plug-in: closed() reported on this connection */
	bool registered; /* the socket is in the epoll set */
	uint32_t ev;     /* its registered events */
	int fd;
	struct host *host;
	const struct kz_login_proto *proto;
	void *pstate; /* the plug-in's state, pstate_cap bytes (0: none yet) */
	size_t pstate_cap;
	bool pinit; /* init returned 0: release is owed */
	struct kz_login_target target;
	struct kz_login_service svc;
	uint64_t connect_deadline;
	uint64_t conn_bytes;
	uint64_t bytes_in, bytes_out;
	int64_t started;
	bool has_local;
	struct kz_addr local;
	uint16_t local_port;
	struct slot *next_free;
};

struct kz_login_engine {
	struct kz_login_engine_config cfg;
	unsigned concurrency;
	int ep, evfd;
	struct kz_timerheap timers;
	struct slot **slotv; /* every slot ever made, by index */
	size_t nslots;
	struct slot *free_slots;
	/* hosts */
	struct host **htab;
	size_t hcap, nhosts;
	struct host *idle_head, *idle_tail;
	struct kz_siphash_key hkey, skey;
	/* shared with other threads, under mu */
	pthread_mutex_t mu;
	struct kz_login_target *q;
	size_t qhead, qlen, qcap;
	size_t deferred; /* targets waiting behind busy hosts */
	bool input_closed;
	uint64_t submitted, dropped;
	struct kz_login_engine_stats snap;
	/* stop requests (atomic: written by signal handlers) */
	unsigned stop_req;
	/* the loop's own */
	struct kz_login_engine_stats st;
	unsigned stopping;
	uint64_t start_ms, last_progress;
	bool deadline_bug_logged;
	uint8_t rbuf[READ_BUF];
};

/* ---- clocks -------------------------------------------------------------- */

/* Every deadline is on the monotonic clock: a wall-clock step (NTP, a
 * suspended VM) must not fire or postpone a thousand timeouts at once. */
static uint64_t mono_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Records carry wall-clock times (time.source): the evidence for an ISP. */
static int64_t wall_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t now_ms(const struct kz_login_engine *e)
{
	return e->cfg.clock(e->cfg.clock_ctx);
}

static int64_t wall_now(const struct kz_login_engine *e)
{
	return e->cfg.wall(e->cfg.clock_ctx);
}

/* ---- configuration ------------------------------------------------------- */

void kz_login_engine_defaults(struct kz_login_engine_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->concurrency = KZ_LOGIN_DEFAULT_CONCURRENCY;
	cfg->per_host = KZ_LOGIN_DEFAULT_PER_HOST;
	cfg->pace_ms = KZ_LOGIN_DEFAULT_PACE_MS;
	cfg->max_conn_bytes = KZ_LOGIN_DEFAULT_CONN_BYTES;
	cfg->max_queue = KZ_LOGIN_DEFAULT_MAX_QUEUE;
	cfg->protos[KZ_LOGIN_APP_TELNET] = &kz_login_proto_telnet;
	cfg->protos[KZ_LOGIN_APP_SSH] = &kz_login_proto_ssh;
	cfg->protos[KZ_LOGIN_APP_HTTP] = &kz_login_proto_http;
}

unsigned long kz_login_raise_nofile(unsigned long want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	rlim_t target = (rlim_t)want + KZ_LOGIN_FD_RESERVE;
	if (target > rl.rlim_max)
		target = rl.rlim_max;
	if (rl.rlim_cur < target) {
		rl.rlim_cur = target;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return 0;
	}
	return (unsigned long)rl.rlim_cur;
}

/* A plug-in with a missing member would crash the loop at its first use,
 * possibly hours into a survey: refuse it when the engine is made. */
static bool proto_ok(const struct kz_login_proto *p)
{
	if (!p->init || !p->start || !p->connected || !p->connect_failed || !p->tick ||
	    !p->result || !p->release || !p->name)
		return false;
	if (p->io == KZ_LOGIN_IO_BYTES)
		return p->input && p->closed && p->output && p->consume;
	return p->io == KZ_LOGIN_IO_FD && p->ready;
}

/* ---- hosts --------------------------------------------------------------- */

/* Keyed: the addresses come from the network's answers (stage 1), and a
 * bucket everyone can predict is a chain anyone can lengthen. */
static size_t host_bucket(const struct kz_login_engine *e, struct kz_addr a)
{
	return (size_t)kz_siphash24_addr(&e->hkey, a) & (e->hcap - 1);
}

static struct host *host_find(struct kz_login_engine *e, struct kz_addr a)
{
	for (struct host *h = e->htab[host_bucket(e, a)]; h; h = h->hnext)
		if (h->addr.v == a.v)
			return h;
	return NULL;
}

/* Doubles the bucket array; the hosts are relinked, never copied, so the
 * slots' pointers to them stay valid. */
static int host_grow(struct kz_login_engine *e)
{
	size_t ncap = e->hcap * 2;
	struct host **nt = calloc(ncap, sizeof *nt);
	if (!nt)
		return -ENOMEM;
	struct host **old = e->htab;
	size_t ocap = e->hcap;
	e->htab = nt;
	e->hcap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		for (struct host *h = old[i], *next; h; h = next) {
			next = h->hnext;
			size_t b = host_bucket(e, h->addr);
			h->hnext = nt[b];
			nt[b] = h;
		}
	}
	free(old);
	return 0;
}

/* The host entry of an address, made on first use. NULL only when memory
 * ran out. */
static struct host *host_get(struct kz_login_engine *e, struct kz_addr a)
{
	struct host *h = host_find(e, a);
	if (h)
		return h;
	/* Growing is best effort: a full table only makes chains longer. */
	if (e->nhosts >= e->hcap && host_grow(e) != 0)
		kz_debug("login engine: host table not grown (out of memory)");
	h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->addr = a;
	size_t b = host_bucket(e, a);
	h->hnext = e->htab[b];
	e->htab[b] = h;
	e->nhosts++;
	return h;
}

static void idle_unlink(struct kz_login_engine *e, struct host *h)
{
	if (!h->idle)
		return;
	if (h->iprev)
		h->iprev->inext = h->inext;
	else
		e->idle_head = h->inext;
	if (h->inext)
		h->inext->iprev = h->iprev;
	else
		e->idle_tail = h->iprev;
	h->iprev = h->inext = NULL;
	h->idle = false;
}

/* Forgets a host with nothing in flight, waiting, or pacing. */
static void host_delete(struct kz_login_engine *e, struct host *h)
{
	idle_unlink(e, h);
	struct host **pp = &e->htab[host_bucket(e, h->addr)];
	while (*pp != h)
		pp = &(*pp)->hnext;
	*pp = h->hnext;
	e->nhosts--;
	free(h);
}

/* A host with nothing in flight or waiting: kept while its pace lasts, so
 * that the next connection to it (another port, found later) waits. */
static void host_settle(struct kz_login_engine *e, struct host *h, uint64_t now)
{
	if (h->active || h->dq_head)
		return;
	if (!e->cfg.pace_ms || !h->connected_once || h->last_connect + e->cfg.pace_ms <= now) {
		host_delete(e, h);
		return;
	}
	if (h->idle)
		return;
	h->idle = true;
	h->iprev = e->idle_tail;
	h->inext = NULL;
	if (e->idle_tail)
		e->idle_tail->inext = h;
	else
		e->idle_head = h;
	e->idle_tail = h;
}

/* Frees the hosts whose pace has passed. The idle list is roughly in
 * expiry order, so stopping at the first live one may keep a few entries
 * a little longer, never forever: each is freed once it reaches the head. */
static void idle_sweep(struct kz_login_engine *e, uint64_t now)
{
	while (e->idle_head && e->idle_head->last_connect + e->cfg.pace_ms <= now)
		host_delete(e, e->idle_head);
}

/* ---- slots and the epoll set --------------------------------------------- */

/* What epoll hands back for a socket: the slot and the generation of its
 * connection (see the note at the top). */
static uint64_t ev_tag(const struct slot *s)
{
	return (uint64_t)s->gen << 32 | s->index;
}

/* A slot for a new service: a recycled one, or a new one while fewer than
 * `concurrency` exist. Slots are never freed before the engine, so the
 * memory of a run is set by its peak concurrency. The plug-in's state is
 * sized when the slot is given a service (slot_fit). */
static struct slot *slot_get(struct kz_login_engine *e)
{
	struct slot *s = e->free_slots;
	if (s) {
		e->free_slots = s->next_free;
		return s;
	}
	if (e->nslots == e->concurrency)
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->index = (uint32_t)e->nslots;
	s->fd = -1;
	e->slotv[e->nslots++] = s;
	return s;
}

/* Makes the slot's state big enough for its plug-in, zeroed. Each plug-in
 * gets its own size rather than the largest one's: a telnet check keeps
 * about 7 KiB, an HTTP or SSH one more, and a survey of telnet devices
 * should not pay for the others (at 10,000 in flight that was 200 MiB
 * instead of 80). A slot keeps the largest state it has held. */
static int slot_fit(struct slot *s, size_t size)
{
	size = (size + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
	if (s->pstate_cap < size) {
		void *p = aligned_alloc(alignof(max_align_t), size);
		if (!p)
			return -ENOMEM;
		free(s->pstate);
		s->pstate = p;
		s->pstate_cap = size;
	}
	memset(s->pstate, 0, size);
	return 0;
}

static void slot_put(struct kz_login_engine *e, struct slot *s)
{
	s->state = SL_FREE;
	s->next_free = e->free_slots;
	e->free_slots = s;
}

/* Registers or changes what epoll watches on the slot's socket, skipping
 * the system call when nothing changes (most events change nothing). */
static void set_interest(struct kz_login_engine *e, struct slot *s, uint32_t ev)
{
	if (s->fd < 0 || (s->registered && s->ev == ev))
		return;
	struct epoll_event ee = { .events = ev, .data.u64 = ev_tag(s) };
	int rc = epoll_ctl(e->ep, s->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &ee);
	if (rc != 0) {
		/* Only resource exhaustion can get here; the slot's timer still
		 * ends the state, so the service cannot hang. */
		kz_warn("login engine: epoll_ctl: %s", strerror(errno));
		return;
	}
	s->registered = true;
	s->ev = ev;
}

/* Closes the slot's connection, if any; events already queued for it
 * become stale (gen). */
static void drop_conn(struct kz_login_engine *e, struct slot *s)
{
	if (s->fd >= 0) {
		/* Explicitly: a registration survives close() while a plug-in's
		 * dup() of the socket is still open. */
		if (s->registered)
			epoll_ctl(e->ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		s->fd = -1;
	}
	s->registered = false;
	s->ev = 0;
	s->eof = false;
	s->conn_bytes = 0;
	s->gen++;
}

/* Sets the slot's one timer: every state of a service has a deadline. */
static void arm(struct kz_login_engine *e, struct slot *s, uint64_t when)
{
	/* The heap holds one timer per slot: arming cannot run out of room. */
	if (kz_timerheap_set(&e->timers, &s->timer, when) != 0)
		kz_err("login engine: timer heap full (a bug)");
}

/* ---- services ------------------------------------------------------------ */

static void apply(struct kz_login_engine *e, struct slot *s, struct kz_login_step step,
                  uint64_t now);
static void start_service(struct kz_login_engine *e, struct host *h,
                          const struct kz_login_target *t, uint64_t now);

/* Hands one finished service to the program (on_result) and counts it. A
 * NULL outcome is a target no plug-in can check. */
static void report(struct kz_login_engine *e, struct slot *s, const struct kz_login_outcome *o,
                   bool interrupted)
{
	struct kz_login_report r = {
		.target = &s->target,
		.application = s->proto ? s->proto->name
		                        : kz_login_app_name((enum kz_login_app)s->target.app),
		.outcome = o,
		.unsupported = o == NULL,
		.interrupted = interrupted,
		.started = s->started,
		.decided = wall_now(e),
		.has_local = s->has_local,
		.local = s->local,
		.local_port = s->local_port,
		.bytes_in = s->bytes_in,
		.bytes_out = s->bytes_out,
	};
	if (!r.application)
		r.application = "unknown";
	e->st.done++;
	if (!o) {
		e->st.unsupported++;
	} else {
		if ((unsigned)o->status <= KZ_LOGIN_ERROR)
			e->st.by_status[o->status]++;
		if (o->status == KZ_LOGIN_POSSIBLE || o->status == KZ_LOGIN_NO_AUTH)
			e->st.found++;
	}
	if (interrupted)
		e->st.interrupted++;
	e->cfg.on_result(e->cfg.ctx, &r);
}

/* Ends a service: releases the plug-in, frees the slot, and starts the next
 * service waiting for the same host. */
static void end_service(struct kz_login_engine *e, struct slot *s, uint64_t now)
{
	if (s->pinit)
		s->proto->release(s->pstate);
	s->pinit = false;
	drop_conn(e, s);
	kz_timerheap_cancel(&e->timers, &s->timer);
	struct host *h = s->host;
	h->active--;
	e->st.active--;
	slot_put(e, s);
	if (h->dq_head && !e->stopping) {
		struct pend *p = h->dq_head;
		h->dq_head = p->next;
		if (!h->dq_head)
			h->dq_tail = NULL;
		pthread_mutex_lock(&e->mu);
		e->deferred--;
		pthread_mutex_unlock(&e->mu);
		struct kz_login_target t = p->t;
		free(p);
		start_service(e, h, &t, now);
		return;
	}
	host_settle(e, h, now);
}

/* The plug-in said DONE: report its result and end the service. */
static void finish(struct kz_login_engine *e, struct slot *s, uint64_t now)
{
	struct kz_login_outcome o;
	memset(&o, 0, sizeof o);
	o.pair = -1;
	s->proto->result(s->pstate, &o);
	report(e, s, &o, false);
	end_service(e, s, now);
}

/* A service the engine could not run at all (no plug-in, init failed). */
static void fail_service(struct kz_login_engine *e, struct slot *s, bool unsupported, uint64_t now)
{
	struct kz_login_outcome o = {
		.status = KZ_LOGIN_ERROR,
		.pair = -1,
		.reason = "the login check could not start (out of memory?)",
	};
	report(e, s, unsupported ? NULL : &o, false);
	end_service(e, s, now);
}

static void start_service(struct kz_login_engine *e, struct host *h,
                          const struct kz_login_target *t, uint64_t now)
{
	struct slot *s = slot_get(e);
	if (!s) {
		/* Only when memory ran out: the target is lost, and counted. */
		kz_warn("login engine: no memory for a service; target dropped");
		pthread_mutex_lock(&e->mu);
		e->dropped++;
		pthread_mutex_unlock(&e->mu);
		host_settle(e, h, now);
		return;
	}
	idle_unlink(e, h);
	h->active++;
	e->st.active++;
	if (e->st.active > e->st.peak_active)
		e->st.peak_active = e->st.active;
	s->state = SL_WAIT;
	s->host = h;
	s->target = *t;
	s->eof = s->registered = s->pinit = s->has_local = false;
	s->ev = 0;
	s->fd = -1;
	s->conn_bytes = s->bytes_in = s->bytes_out = 0;
	s->started = wall_now(e);
	s->proto = t->app < 3 ? e->cfg.protos[t->app] : NULL;
	if (!s->proto) {
		fail_service(e, s, true, now);
		return;
	}
	if (slot_fit(s, s->proto->state_size) != 0) {
		fail_service(e, s, false, now);
		return;
	}
	s->svc = (struct kz_login_service){
		.addr = t->addr,
		.port = t->port,
		.app = (enum kz_login_app)t->app,
		.creds = e->cfg.creds,
		.max_attempts = e->cfg.max_attempts,
		.seed = kz_siphash24_u64x2(&e->skey, kz_siphash24_addr(&e->skey, t->addr),
		                           (uint64_t)t->port << 8 | t->app),
		.max_conn_bytes = e->cfg.max_conn_bytes,
		.config = e->cfg.proto_config[t->app],
	};
	if (s->proto->init(s->pstate, &s->svc) != 0) {
		fail_service(e, s, false, now);
		return;
	}
	s->pinit = true;
	apply(e, s, s->proto->start(s->pstate, now), now);
}

/* ---- connections ---------------------------------------------------------- */

/* The kernel's address form of a target (IPv4 as AF_INET, not mapped:
 * a mapped address on an AF_INET6 socket would depend on bindv6only). */
static socklen_t make_sockaddr(struct kz_addr a, uint16_t port, struct sockaddr_storage *ss)
{
	uint8_t b[16];
	kz_addr_to_bytes(a, b);
	memset(ss, 0, sizeof *ss);
	if (kz_addr_is_v4(a)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, b + 12, 4);
		return sizeof *s4;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, b, 16);
	return sizeof *s6;
}

/* The address (and port) of a kernel socket address; -EAFNOSUPPORT for
 * another family. */
static int addr_of_sockaddr(const struct sockaddr_storage *ss, struct kz_addr *a, uint16_t *port)
{
	uint8_t b[16] = { 0 };
	uint16_t p;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		b[10] = b[11] = 0xff;
		memcpy(b + 12, &s4->sin_addr, 4);
		p = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		memcpy(b, &s6->sin6_addr, 16);
		p = ntohs(s6->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	*a = kz_addr_from_bytes(b);
	if (port)
		*port = p;
	return 0;
}

/* Remembers our end of the connection: the record's extra.scanner_ip is
 * the address the device saw, which is what an ISP can match in its logs. */
static void note_local(struct slot *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0 &&
	    addr_of_sockaddr(&ss, &s->local, &s->local_port) == 0)
		s->has_local = true;
}

int kz_login_route_source(struct kz_addr addr, struct kz_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = make_sockaddr(addr, 9, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : -errno;
	struct sockaddr_storage local;
	socklen_t llen = sizeof local;
	if (rc == 0 && getsockname(fd, (struct sockaddr *)&local, &llen) != 0)
		rc = -errno;
	close(fd);
	if (rc)
		return rc;
	return addr_of_sockaddr(&local, out, NULL);
}

/* The connection is up: watch it as the plug-in's kind needs, and tell it. */
static struct kz_login_step on_connected(struct kz_login_engine *e, struct slot *s, uint64_t now)
{
	s->state = SL_OPEN;
	note_local(s);
	set_interest(e, s, s->proto->io == KZ_LOGIN_IO_BYTES ? EPOLLIN | EPOLLRDHUP : 0);
	return s->proto->connected(s->pstate, s->fd, now);
}

/* Counts a failed connect and says why at debug level. */
static void connect_failure(struct kz_login_engine *e, const struct slot *s, int err)
{
	e->st.connect_failures++;
	if (kz_log_enabled(KZ_LOG_DEBUG)) {
		char buf[80];
		kz_debug("login engine: connect to %s: %s",
		         kz_login_target_format(&s->target, buf, sizeof buf), strerror(err));
	}
}

enum connect_result {
	CONNECT_PENDING, /* connect() in progress */
	CONNECT_STEP,    /* resolved at once: *step is the plug-in's answer */
	CONNECT_ENDED,   /* the scope refused: the service has ended */
};

/* THE place where stage 2 opens a connection: the scope is asked first,
 * for the first connection and every reconnect alike. A refused target is
 * never connected to; its service ends without a report (counted). */
static enum connect_result do_connect(struct kz_login_engine *e, struct slot *s, uint64_t now,
                                      struct kz_login_step *step)
{
	if (!kz_scope_allows(e->cfg.scope, s->target.addr)) {
		char buf[80];
		e->st.scope_refusals++;
		kz_warn("login engine: %s is outside the scope: not connecting",
		        kz_login_target_format(&s->target, buf, sizeof buf));
		end_service(e, s, now);
		return CONNECT_ENDED;
	}
	struct sockaddr_storage ss;
	socklen_t len = make_sockaddr(s->target.addr, s->target.port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;
		connect_failure(e, s, err);
		*step = s->proto->connect_failed(s->pstate, -err, now);
		return CONNECT_STEP;
	}
	int one = 1;
	/* Credentials and negotiation replies are small writes that must not
	 * wait for the previous one's ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (e->cfg.has_source && kz_addr_is_v4(e->cfg.source) == kz_addr_is_v4(s->target.addr)) {
		struct sockaddr_storage src;
		socklen_t slen = make_sockaddr(e->cfg.source, 0, &src);
		if (bind(fd, (struct sockaddr *)&src, slen) != 0) {
			int err = errno;
			close(fd);
			connect_failure(e, s, err);
			*step = s->proto->connect_failed(s->pstate, -err, now);
			return CONNECT_STEP;
		}
	}
	s->fd = fd;
	s->host->last_connect = now;
	s->host->connected_once = true;
	e->st.connections++;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		*step = on_connected(e, s, now);
		return CONNECT_STEP;
	}
	if (errno == EINPROGRESS) {
		s->state = SL_CONNECTING;
		set_interest(e, s, EPOLLOUT);
		arm(e, s, s->connect_deadline);
		return CONNECT_PENDING;
	}
	int err = errno;
	drop_conn(e, s);
	s->state = SL_WAIT;
	connect_failure(e, s, err);
	*step = s->proto->connect_failed(s->pstate, -err, now);
	return CONNECT_STEP;
}

/* Writes what a byte plug-in has pending; a short write leaves the rest. */
static void try_write(struct kz_login_engine *e, struct slot *s)
{
	size_t len;
	const uint8_t *out = s->proto->output(s->pstate, &len);
	if (!len || s->fd < 0)
		return;
	ssize_t n = send(s->fd, out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0) {
		s->proto->consume(s->pstate, (size_t)n);
		s->bytes_out += (uint64_t)n;
		e->st.bytes_out += (uint64_t)n;
	}
	/* An error shows up as EPOLLERR/EPOLLHUP and then in read(). */
}

/* A step's deadline, or one second from now for a plug-in that forgot:
 * without a deadline a silent device would hold its slot for ever. */
static uint64_t step_deadline(struct kz_login_engine *e, const struct slot *s, uint64_t deadline,
                              uint64_t now)
{
	if (deadline)
		return deadline;
	if (!e->deadline_bug_logged) {
		kz_err("login engine: the %s plug-in returned a step without a deadline (a bug)",
		       s->proto->name);
		e->deadline_bug_logged = true;
	}
	return now + DEFAULT_STEP_MS;
}

/* Carries out a plug-in's step, and the steps that follow at once from it
 * (a connect that fails immediately). */
static void apply(struct kz_login_engine *e, struct slot *s, struct kz_login_step step,
                  uint64_t now)
{
	for (int loops = 0;; loops++) {
		if (step.want == KZ_LOGIN_WANT_DONE) {
			finish(e, s, now);
			return;
		}
		if (step.want == KZ_LOGIN_WANT_CONNECT) {
			drop_conn(e, s);
			s->state = SL_WAIT;
			uint64_t at = step.at;
			/* Pacing: connections to one device at least pace_ms apart.
			 * The plug-in's own connect deadline moves by the delay. */
			if (e->cfg.pace_ms && s->host->connected_once &&
			    s->host->last_connect + e->cfg.pace_ms > at)
				at = s->host->last_connect + e->cfg.pace_ms;
			if (loops >= APPLY_LOOPS && at < now + 100)
				at = now + 100;
			uint64_t dl = step_deadline(e, s, step.deadline, now);
			s->connect_deadline = dl + (at > step.at ? at - step.at : 0);
			if (at > now) {
				arm(e, s, at);
				return;
			}
			if (do_connect(e, s, now, &step) != CONNECT_STEP)
				return;
			continue;
		}
		/* IO */
		uint64_t dl = step_deadline(e, s, step.deadline, now);
		if (s->state != SL_OPEN) {
			kz_err("login engine: the %s plug-in asked for I/O without a connection "
			       "(a bug)",
			       s->proto->name);
			s->state = SL_IDLE;
		} else {
			if (s->proto->io == KZ_LOGIN_IO_BYTES) {
				try_write(e, s);
				size_t pending;
				s->proto->output(s->pstate, &pending);
				uint32_t ev = s->eof ? 0 : EPOLLIN | EPOLLRDHUP;
				set_interest(e, s, ev | (pending ? EPOLLOUT : 0));
			} else {
				uint32_t ev = 0;
				if (step.events & KZ_LOGIN_EV_READ)
					ev |= EPOLLIN | EPOLLRDHUP;
				if (step.events & KZ_LOGIN_EV_WRITE)
					ev |= EPOLLOUT;
				set_interest(e, s, ev);
			}
		}
		arm(e, s, dl);
		return;
	}
}

/* Reads what the socket has, up to a budget per event so that one fast
 * sender cannot starve the other connections of the loop, and up to the
 * byte cap of the connection; each chunk goes to the plug-in at once so
 * that its replies go out in order. */
static void on_readable(struct kz_login_engine *e, struct slot *s, uint64_t now)
{
	uint32_t gen = s->gen;
	size_t budget = READ_BUDGET;
	while (budget > 0 && s->gen == gen && s->state == SL_OPEN && !s->eof) {
		uint64_t room = e->cfg.max_conn_bytes - s->conn_bytes;
		if (room == 0) {
			/* The hard cap: no more reading from this connection. */
			e->st.capped++;
			s->eof = true;
			apply(e, s, s->proto->closed(s->pstate, now), now);
			return;
		}
		size_t want = room < sizeof e->rbuf ? (size_t)room : sizeof e->rbuf;
		ssize_t n = read(s->fd, e->rbuf, want);
		if (n > 0) {
			s->conn_bytes += (uint64_t)n;
			s->bytes_in += (uint64_t)n;
			e->st.bytes_in += (uint64_t)n;
			budget -= (size_t)n < budget ? (size_t)n : budget;
			apply(e, s, s->proto->input(s->pstate, e->rbuf, (size_t)n, now), now);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* EOF or a reset. */
		s->eof = true;
		apply(e, s, s->proto->closed(s->pstate, now), now);
		return;
	}
}

/* One epoll event for a live slot: a connect that finished, readiness for
 * a descriptor plug-in, or bytes to write and read for a byte plug-in. */
static void on_event(struct kz_login_engine *e, struct slot *s, uint32_t events, uint64_t now)
{
	if (s->state == SL_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			err = errno;
		if (err == 0 && !(events & (EPOLLERR | EPOLLHUP))) {
			apply(e, s, on_connected(e, s, now), now);
			return;
		}
		drop_conn(e, s);
		s->state = SL_WAIT;
		connect_failure(e, s, err ? err : ECONNREFUSED);
		apply(e, s, s->proto->connect_failed(s->pstate, err ? -err : -ECONNREFUSED, now),
		      now);
		return;
	}
	if (s->state != SL_OPEN)
		return;
	if (s->proto->io == KZ_LOGIN_IO_FD) {
		unsigned ready = 0;
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
			ready |= KZ_LOGIN_EV_READ;
		if (events & EPOLLOUT)
			ready |= KZ_LOGIN_EV_WRITE;
		apply(e, s, s->proto->ready(s->pstate, ready, now), now);
		return;
	}
	uint32_t gen = s->gen;
	if (events & EPOLLOUT) {
		try_write(e, s);
		size_t pending;
		s->proto->output(s->pstate, &pending);
		if (!pending)
			set_interest(e, s, s->ev & ~(uint32_t)EPOLLOUT);
	}
	if (s->gen == gen && (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
		on_readable(e, s, now);
}

/* A slot's deadline passed: connect now (a wait ended), give up a connect,
 * or let the plug-in judge the silence. */
static void on_timer(struct kz_login_engine *e, struct slot *s, uint64_t now)
{
	struct kz_login_step step;
	switch (s->state) {
	case SL_WAIT: {
		/* Another service of the host may have connected since this
		 * wait was set: pace again from its connection. */
		struct host *h = s->host;
		if (e->cfg.pace_ms && h->connected_once && h->last_connect + e->cfg.pace_ms > now) {
			uint64_t at = h->last_connect + e->cfg.pace_ms;
			s->connect_deadline += at - now;
			arm(e, s, at);
			return;
		}
		if (do_connect(e, s, now, &step) == CONNECT_STEP)
			apply(e, s, step, now);
		return;
	}
	case SL_CONNECTING:
		/* Not answered by its deadline: abandon the attempt. */
		connect_failure(e, s, ETIMEDOUT);
		drop_conn(e, s);
		s->state = SL_WAIT;
		apply(e, s, s->proto->tick(s->pstate, now), now);
		return;
	case SL_OPEN:
	case SL_IDLE:
		apply(e, s, s->proto->tick(s->pstate, now), now);
		return;
	default:
		return;
	}
}

/* ---- the queue and stopping ------------------------------------------------ */

/* Takes the oldest queued target, if any (the queue is shared with
 * stage 1's thread). */
static bool queue_pop(struct kz_login_engine *e, struct kz_login_target *t)
{
	pthread_mutex_lock(&e->mu);
	bool got = e->qlen > 0;
	if (got) {
		*t = e->q[e->qhead];
		e->qhead = (e->qhead + 1) % e->qcap;
		e->qlen--;
	}
	pthread_mutex_unlock(&e->mu);
	return got;
}

/* Starts queued targets while slots are free. A target whose host is at
 * its per-host limit waits on that host (not in the queue), so that it
 * cannot block the targets behind it. */
static void admit(struct kz_login_engine *e, uint64_t now)
{
	struct kz_login_target t;
	while (!e->stopping && e->st.active < e->concurrency && queue_pop(e, &t)) {
		struct host *h = host_get(e, t.addr);
		if (!h) {
			pthread_mutex_lock(&e->mu);
			e->dropped++;
			pthread_mutex_unlock(&e->mu);
			continue;
		}
		if (h->active < e->cfg.per_host) {
			start_service(e, h, &t, now);
			continue;
		}
		struct pend *p = malloc(sizeof *p);
		pthread_mutex_lock(&e->mu);
		if (p)
			e->deferred++;
		else
			e->dropped++;
		pthread_mutex_unlock(&e->mu);
		if (!p)
			continue;
		p->t = t;
		p->next = NULL;
		if (h->dq_tail)
			h->dq_tail->next = p;
		else
			h->dq_head = p;
		h->dq_tail = p;
	}
}

/* First stop: every target not yet started is dropped and counted. */
static void drop_waiting(struct kz_login_engine *e, uint64_t now)
{
	uint64_t n = 0;
	for (size_t b = 0; b < e->hcap; b++) {
		for (struct host *h = e->htab[b], *next; h; h = next) {
			next = h->hnext;
			while (h->dq_head) {
				struct pend *p = h->dq_head;
				h->dq_head = p->next;
				free(p);
				n++;
			}
			h->dq_tail = NULL;
			host_settle(e, h, now);
		}
	}
	pthread_mutex_lock(&e->mu);
	n += e->qlen;
	e->qlen = 0;
	e->deferred = 0;
	pthread_mutex_unlock(&e->mu);
	e->st.not_started += n;
}

/* Second stop: every service in flight ends now, reported interrupted
 * with status timeout (an unfinished check must not read as a result). */
static void abandon_all(struct kz_login_engine *e, uint64_t now)
{
	for (size_t i = 0; i < e->nslots; i++) {
		struct slot *s = e->slotv[i];
		if (s->state == SL_FREE)
			continue;
		struct kz_login_outcome o;
		memset(&o, 0, sizeof o);
		s->proto->result(s->pstate, &o);
		o.status = KZ_LOGIN_TIMEOUT;
		o.pair = -1;
		o.reason = "the survey was stopped before the check finished";
		report(e, s, &o, true);
		end_service(e, s, now);
	}
}

/* Acts on stop requests, which a signal handler may have made: only the
 * loop's own thread changes the engine's state. */
static void handle_stop(struct kz_login_engine *e, uint64_t now)
{
	unsigned req = __atomic_load_n(&e->stop_req, __ATOMIC_ACQUIRE);
	if (req > 2)
		req = 2;
	if (req == e->stopping)
		return;
	if (e->stopping == 0) {
		e->stopping = 1;
		pthread_mutex_lock(&e->mu);
		e->input_closed = true;
		pthread_mutex_unlock(&e->mu);
		drop_waiting(e, now);
	}
	if (req == 2 && e->stopping == 1) {
		e->stopping = 2;
		abandon_all(e, now);
	}
}

/* Copies the loop's counters where other threads may read them: the
 * loop counts without a lock and publishes once per iteration. */
static void publish(struct kz_login_engine *e, uint64_t now)
{
	e->st.elapsed_ms = now - e->start_ms;
	e->st.stopping = e->stopping;
	pthread_mutex_lock(&e->mu);
	e->snap = e->st;
	e->snap.submitted = e->submitted;
	e->snap.dropped = e->dropped;
	e->snap.queued = e->qlen + e->deferred;
	e->snap.input_closed = e->input_closed;
	pthread_mutex_unlock(&e->mu);
}

/* The loop ends when nothing is in flight and nothing more can come. */
static bool all_done(struct kz_login_engine *e)
{
	if (e->st.active)
		return false;
	if (e->stopping)
		return true;
	pthread_mutex_lock(&e->mu);
	bool done = e->input_closed && e->qlen == 0 && e->deferred == 0;
	pthread_mutex_unlock(&e->mu);
	return done;
}

/* ---- public calls ---------------------------------------------------------- */

int kz_login_engine_new(const struct kz_login_engine_config *cfg, struct kz_login_engine **out)
{
	*out = NULL;
	if (!cfg->scope || !cfg->creds || !cfg->on_result) {
		kz_err("login engine: a scope, a credential list and a result callback are "
		       "required");
		return -EINVAL;
	}
	for (unsigned a = 0; a < 3; a++) {
		const struct kz_login_proto *p = cfg->protos[a];
		if (!p)
			continue;
		if (p->app != (enum kz_login_app)a || !proto_ok(p)) {
			kz_err("login engine: the %s plug-in is incomplete or in the wrong place",
			       p->name ? p->name : "unnamed");
			return -EINVAL;
		}
	}
	struct kz_login_engine *e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	e->ep = e->evfd = -1;
	if (!e->cfg.concurrency)
		e->cfg.concurrency = KZ_LOGIN_DEFAULT_CONCURRENCY;
	if (e->cfg.concurrency > KZ_LOGIN_MAX_CONCURRENCY) {
		kz_err("login engine: concurrency %u above the maximum %u", e->cfg.concurrency,
		       KZ_LOGIN_MAX_CONCURRENCY);
		free(e);
		return -EINVAL;
	}
	if (!e->cfg.per_host)
		e->cfg.per_host = KZ_LOGIN_DEFAULT_PER_HOST;
	if (e->cfg.pace_ms == UINT32_MAX)
		e->cfg.pace_ms = KZ_LOGIN_DEFAULT_PACE_MS;
	if (!e->cfg.max_conn_bytes)
		e->cfg.max_conn_bytes = KZ_LOGIN_DEFAULT_CONN_BYTES;
	if (!e->cfg.max_queue)
		e->cfg.max_queue = KZ_LOGIN_DEFAULT_MAX_QUEUE;
	if (!e->cfg.clock)
		e->cfg.clock = mono_ms;
	if (!e->cfg.wall)
		e->cfg.wall = wall_ms;
	e->concurrency = e->cfg.concurrency;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)e->concurrency + KZ_LOGIN_FD_RESERVE > rl.rlim_cur) {
		unsigned fit = rl.rlim_cur > 2 * KZ_LOGIN_FD_RESERVE
		                       ? (unsigned)(rl.rlim_cur - KZ_LOGIN_FD_RESERVE)
		                       : (unsigned)(rl.rlim_cur / 2 ? rl.rlim_cur / 2 : 1);
		kz_warn("login engine: concurrency lowered from %u to %u: the open-file limit is "
		        "%llu (raise it with ulimit -n)",
		        e->concurrency, fit, (unsigned long long)rl.rlim_cur);
		e->concurrency = fit;
	}
	uint8_t key[32];
	if (e->cfg.has_seed) {
		for (int i = 0; i < 32; i++)
			key[i] = (uint8_t)(e->cfg.seed >> (8 * (i % 8))) ^ (uint8_t)(i * 0x3b);
	} else if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key) {
		int err = errno;
		kz_err("login engine: getrandom: %s", strerror(err));
		free(e);
		return -err;
	}
	kz_siphash_key_load(&e->hkey, key);
	kz_siphash_key_load(&e->skey, key + 16);
	explicit_bzero(key, sizeof key);
	int rc = -ENOMEM;
	pthread_mutex_init(&e->mu, NULL);
	e->slotv = calloc(e->concurrency, sizeof *e->slotv);
	e->hcap = 1024;
	e->htab = calloc(e->hcap, sizeof *e->htab);
	e->qcap = 1024;
	e->q = calloc(e->qcap, sizeof *e->q);
	if (!e->slotv || !e->htab || !e->q)
		goto fail;
	if ((rc = kz_timerheap_init(&e->timers, e->concurrency)) != 0)
		goto fail;
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	e->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->ep < 0 || e->evfd < 0) {
		rc = -errno;
		kz_err("login engine: %s: %s", e->ep < 0 ? "epoll_create1" : "eventfd",
		       strerror(-rc));
		goto fail;
	}
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = UINT64_MAX };
	if (epoll_ctl(e->ep, EPOLL_CTL_ADD, e->evfd, &ee) != 0) {
		rc = -errno;
		kz_err("login engine: epoll_ctl: %s", strerror(-rc));
		goto fail;
	}
	*out = e;
	return 0;
fail:
	kz_login_engine_free(e);
	return rc;
}

int kz_login_engine_submit(struct kz_login_engine *e, const struct kz_login_target *t)
{
	int rc = 0;
	pthread_mutex_lock(&e->mu);
	if (e->input_closed || __atomic_load_n(&e->stop_req, __ATOMIC_ACQUIRE)) {
		rc = -ESHUTDOWN;
	} else if (e->qlen + e->deferred >= e->cfg.max_queue) {
		rc = -ENOBUFS;
	} else {
		if (e->qlen == e->qcap) {
			size_t ncap = e->qcap * 2;
			struct kz_login_target *nq = reallocarray(NULL, ncap, sizeof *nq);
			if (!nq) {
				rc = -ENOBUFS;
				goto out;
			}
			/* Unroll the ring into the new array. */
			for (size_t i = 0; i < e->qlen; i++)
				nq[i] = e->q[(e->qhead + i) % e->qcap];
			free(e->q);
			e->q = nq;
			e->qcap = ncap;
			e->qhead = 0;
		}
		e->q[(e->qhead + e->qlen) % e->qcap] = *t;
		e->qlen++;
		e->submitted++;
	}
out:
	if (rc)
		e->dropped++;
	pthread_mutex_unlock(&e->mu);
	if (rc == 0) {
		uint64_t one = 1;
		/* A full eventfd counter (impossible in practice) only means the
		 * loop is already due to wake. */
		ssize_t w = write(e->evfd, &one, sizeof one);
		(void)w;
	}
	return rc;
}

void kz_login_engine_close_input(struct kz_login_engine *e)
{
	pthread_mutex_lock(&e->mu);
	e->input_closed = true;
	pthread_mutex_unlock(&e->mu);
	uint64_t one = 1;
	ssize_t w = write(e->evfd, &one, sizeof one);
	(void)w;
}

void kz_login_engine_stop(struct kz_login_engine *e)
{
	__atomic_add_fetch(&e->stop_req, 1, __ATOMIC_RELEASE);
	uint64_t one = 1;
	ssize_t w = write(e->evfd, &one, sizeof one);
	(void)w;
}

int kz_login_engine_run(struct kz_login_engine *e)
{
	struct epoll_event evs[MAX_EVENTS];
	uint64_t now = now_ms(e);
	e->start_ms = e->last_progress = now;
	int rc = 0;
	for (;;) {
		handle_stop(e, now);
		admit(e, now);
		if (e->cfg.pace_ms)
			idle_sweep(e, now);
		publish(e, now);
		if (e->cfg.on_progress && now - e->last_progress >= PROGRESS_MS) {
			e->last_progress = now;
			e->cfg.on_progress(e->cfg.ctx, &e->snap);
		}
		if (all_done(e))
			break;
		uint64_t wait = PROGRESS_MS;
		struct kz_timer *t = kz_timerheap_peek(&e->timers);
		if (t)
			wait = t->when > now ? t->when - now : 0;
		if (wait > PROGRESS_MS)
			wait = PROGRESS_MS;
		if (e->cfg.max_wait_ms > 0 && wait > (uint64_t)e->cfg.max_wait_ms)
			wait = (uint64_t)e->cfg.max_wait_ms;
		if (e->cfg.max_wait_ms < 0)
			wait = 0;
		int n = epoll_wait(e->ep, evs, MAX_EVENTS, (int)wait);
		if (n < 0) {
			if (errno == EINTR) {
				now = now_ms(e);
				continue;
			}
			rc = -errno;
			kz_err("login engine: epoll_wait: %s", strerror(-rc));
			break;
		}
		now = now_ms(e);
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			if (tag == UINT64_MAX) {
				uint64_t v;
				ssize_t r = read(e->evfd, &v, sizeof v);
				(void)r;
				continue;
			}
			uint32_t idx = (uint32_t)tag;
			if (idx >= e->nslots)
				continue;
			struct slot *s = e->slotv[idx];
			/* Stale: the socket this event was for is closed. */
			if (s->state == SL_FREE || s->gen != (uint32_t)(tag >> 32))
				continue;
			on_event(e, s, evs[i].events, now);
		}
		struct kz_timer *due;
		while ((due = kz_timerheap_pop_due(&e->timers, now)) != NULL) {
			struct slot *s =
			        (struct slot *)((char *)due - offsetof(struct slot, timer));
			on_timer(e, s, now);
		}
	}
	publish(e, now);
	if (e->cfg.on_progress)
		e->cfg.on_progress(e->cfg.ctx, &e->snap);
	return rc;
}

void kz_login_engine_stats(struct kz_login_engine *e, struct kz_login_engine_stats *out)
{
	pthread_mutex_lock(&e->mu);
	*out = e->snap;
	out->submitted = e->submitted;
	out->dropped = e->dropped;
	out->queued = e->qlen + e->deferred;
	out->input_closed = e->input_closed;
	pthread_mutex_unlock(&e->mu);
}

unsigned kz_login_engine_concurrency(const struct kz_login_engine *e)
{
	return e->concurrency;
}

void kz_login_engine_free(struct kz_login_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nslots; i++) {
		struct slot *s = e->slotv[i];
		if (s->pinit)
			s->proto->release(s->pstate);
		if (s->fd >= 0)
			close(s->fd);
		free(s->pstate);
		free(s);
	}
	free(e->slotv);
	if (e->htab) {
		for (size_t b = 0; b < e->hcap; b++) {
			for (struct host *h = e->htab[b], *next; h; h = next) {
				next = h->hnext;
				while (h->dq_head) {
					struct pend *p = h->dq_head;
					h->dq_head = p->next;
					free(p);
				}
				free(h);
			}
		}
	}
	free(e->htab);
	free(e->q);
	kz_timerheap_fini(&e->timers);
	if (e->ep >= 0)
		close(e->ep);
	if (e->evfd >= 0)
		close(e->evfd);
	pthread_mutex_destroy(&e->mu);
	free(e);
}
