/*
 * kizuki-devsim: serve a simulated fleet of telnet devices on every address
 * of a prefix (docs/devsim.md tells how to run it; docs/devsim-spec.md is
 * what each device does).
 *
 * One process, one epoll loop. Every device address gets its own listening
 * socket per port: the addresses are local through an AnyIP route in the
 * test's network namespace (`ip route add local 198.18.0.0/20 dev lo`), or
 * loopback addresses, and a per-address listener lets a device refuse
 * connections for real (B27 closes its listener for its cool-down, so the
 * kernel answers SYNs with RST) where one wildcard listener could only
 * accept and reset.
 *
 * Each connection runs the queue of timed operations that device.c fills;
 * all waits are one timer heap (a binary min-heap with each owner's index,
 * so a timer is moved, never duplicated) whose earliest deadline is the
 * epoll_wait timeout. Memory per connection is fixed (struct dsim_conn),
 * and --max-conns caps their number: beyond it a connection is reset.
 *
 * SIGTERM and SIGINT write the ground truth with the final counters and
 * exit 0; SIGUSR1 writes it and goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "devsim.h"

struct lst {
	uint8_t kind; /* DSIM_KIND_LISTENER */
	bool http;    /* fleet-v2: the device's HTTP service */
	int fd;
	struct dsim_dev *dev;
	uint32_t addr;
	uint16_t port;
	struct dsim_timer tm; /* B27: when to listen again */
};

struct sim {
	int ep;
	struct dsim_fleet fleet;
	struct dsim_creds creds;
	struct lst *lsts;
	size_t nlsts;
	struct dsim_timer **heap;
	size_t nheap, heapcap;
	size_t nconns, maxconns, peakconns;
	uint64_t accepted, dropped;
	uint32_t next_id;
	const char *truth_path;
	bool quiet;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- the timer heap ---------------------------------------------------- */

static void heap_swap(struct sim *s, size_t a, size_t b)
{
	struct dsim_timer *t = s->heap[a];
	s->heap[a] = s->heap[b];
	s->heap[b] = t;
	s->heap[a]->idx = (int32_t)a;
	s->heap[b]->idx = (int32_t)b;
}

static void heap_up(struct sim *s, size_t i)
{
	while (i > 0 && s->heap[(i - 1) / 2]->at > s->heap[i]->at) {
		heap_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct sim *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->nheap && s->heap[l]->at < s->heap[m]->at)
			m = l;
		if (r < s->nheap && s->heap[r]->at < s->heap[m]->at)
			m = r;
		if (m == i)
			return;
		heap_swap(s, i, m);
		i = m;
	}
}

static void timer_del(struct sim *s, struct dsim_timer *t)
{
	if (t->idx < 0)
		return;
	size_t i = (size_t)t->idx, last = s->nheap - 1;
	if (i != last) {
		heap_swap(s, i, last);
		s->nheap--;
		heap_down(s, i);
		heap_up(s, i);
	} else {
		s->nheap--;
	}
	t->idx = -1;
}

/* Set (or move) a timer; UINT64_MAX removes it. The heap has room for
 * every connection and listener, so adding cannot fail. */
static void timer_set(struct sim *s, struct dsim_timer *t, uint64_t at)
{
	if (at == UINT64_MAX) {
		timer_del(s, t);
		return;
	}
	t->at = at;
	if (t->idx < 0) {
		t->idx = (int32_t)s->nheap;
		s->heap[s->nheap++] = t;
		heap_up(s, (size_t)t->idx);
	} else {
		heap_down(s, (size_t)t->idx);
		heap_up(s, (size_t)t->idx);
	}
}

/* --- listeners ----------------------------------------------------------- */

static int listen_open(struct sim *s, struct lst *l)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_port = htons(l->port),
		                  .sin_addr.s_addr = htonl(l->addr) };
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* The AnyIP route makes the address local; FREEBIND also lets the
	 * bind succeed before the route is in place. */
	(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0)
		goto fail;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		goto fail;
	l->fd = fd;
	return 0;
fail:;
	int e = -errno;
	close(fd);
	return e;
}

static void listen_close(struct sim *s, struct lst *l)
{
	if (l->fd < 0)
		return;
	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
	l->fd = -1;
}

/* --- connections ---------------------------------------------------------- */

static void conn_free(struct sim *s, struct dsim_conn *c, uint64_t now)
{
	struct dsim_dev *d = c->dev;
	bool http = c->http;
	if (http && c->http_refuse && d->http_lst >= 0) {
		/* H09: no listener on the HTTP port for 1 s after a failure,
		 * closed before the connection is, so that a client that sees
		 * the close and reconnects at once is refused. */
		struct lst *l = &s->lsts[d->http_lst];
		d->h_cooldowns++;
		listen_close(s, l);
		timer_set(s, &l->tm, now + 1000);
	}
	if (!http && d->behaviour == 27) {
		/* Cool-down: no listener, so new SYNs are refused, for 1.5 s.
		 * Closed before the connection is, as for H09: a client that
		 * reconnects as soon as it sees the close must be refused. */
		d->refuse_until = now + 1500;
		d->cooldowns++;
		for (size_t p = 0; p < s->fleet.nports; p++) {
			struct lst *l = &s->lsts[(size_t)d->index * s->fleet.nports + p];
			listen_close(s, l);
			timer_set(s, &l->tm, d->refuse_until);
		}
	}
	timer_del(s, &c->tm);
	close(c->fd);
	free(c->req);
	free(c);
	s->nconns--;
}

static void want_out(struct sim *s, struct dsim_conn *c, bool on)
{
	if (c->want_out == on)
		return;
	c->want_out = on;
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.ptr = c };
	(void)epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static bool would_block(ssize_t w)
{
	return w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Carry out the connection's queue as far as time and the socket allow.
 * Returns false when the connection was closed (and freed). */
static bool conn_run(struct sim *s, struct dsim_conn *c, uint64_t now)
{
	static uint8_t chunk[16384];
	for (;;) {
		if (c->qlen == 0) {
			uint64_t due =
			        c->http ? dsim_http_advance(c, now) : dsim_conn_advance(c, now);
			if (due == 0)
				continue;
			timer_set(s, &c->tm, due);
			return true;
		}
		struct dsim_op *op = &c->q[c->qhead];
		if (!op->started) {
			op->started = true;
			op->ready = now + op->delay;
			if (op->kind == DSIM_OP_BYTES && !c->http)
				dsim_conn_note_output(c, op->p, op->len);
		}
		if (now < op->ready) {
			timer_set(s, &c->tm, op->ready);
			return true;
		}
		bool done = false;
		ssize_t w;
		switch (op->kind) {
		case DSIM_OP_BYTES: {
			size_t n = op->len;
			bool split = false;
			if (op->step_ms) {
				/* Character mode: one byte (CR LF together) at a time. */
				n = op->len >= 2 && op->p[0] == '\r' && op->p[1] == '\n' ? 2 : 1;
				split = n < op->len;
			} else if (!c->http && c->dev->behaviour == 28 && op->len > 1 &&
			           (op->cuts == 0 || (op->cuts == 1 && dsim_conn_rand(c, 2)))) {
				/* B28: every write in segments up to 0.3 s apart. */
				n = 1 + dsim_conn_rand(c, op->len - 1);
				op->cuts++;
				split = true;
			}
			w = send(c->fd, op->p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (would_block(w)) {
				want_out(s, c, true);
				timer_del(s, &c->tm);
				return true;
			}
			if (w < 0)
				goto close;
			op->p += w;
			op->len -= (uint32_t)w;
			if (op->len == 0) {
				done = true;
			} else if ((size_t)w < n) {
				want_out(s, c, true);
				timer_del(s, &c->tm);
				return true;
			} else if (split) {
				op->ready = now + (op->step_ms ? op->step_ms
				                               : 100 + dsim_conn_rand(c, 201));
			}
			break;
		}
		case DSIM_OP_GEN: {
			size_t n = op->gen_end - op->gen_pos;
			if (n > sizeof chunk)
				n = sizeof chunk;
			dsim_gen_bytes(c, op->gen, op->gen_pos, chunk, n);
			w = send(c->fd, chunk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (would_block(w)) {
				want_out(s, c, true);
				timer_del(s, &c->tm);
				return true;
			}
			if (w < 0)
				goto close;
			op->gen_pos += (uint32_t)w;
			done = op->gen_pos == op->gen_end;
			if (!done && (size_t)w < n) {
				want_out(s, c, true);
				timer_del(s, &c->tm);
				return true;
			}
			break;
		}
		case DSIM_OP_STATE:
			dsim_conn_enter(c, op->state, now);
			done = true;
			break;
		case DSIM_OP_CLOSE:
		default:
			goto close;
		}
		if (done) {
			c->qhead = (uint8_t)((c->qhead + 1) % DSIM_QCAP);
			c->qlen--;
		}
	}
close:
	conn_free(s, c, now);
	return false;
}

static void conn_readable(struct sim *s, struct dsim_conn *c, uint64_t now)
{
	uint8_t buf[4096];
	/* At most 64 KiB per event, so one busy client cannot starve the rest. */
	for (int i = 0; i < 16; i++) {
		ssize_t r = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r > 0) {
			if (c->http)
				dsim_http_input(c, buf, (size_t)r, now);
			else
				dsim_conn_input(c, buf, (size_t)r, now);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* The client closed (or reset): so does the device. */
		conn_free(s, c, now);
		return;
	}
	if (!c->want_out)
		(void)conn_run(s, c, now);
}

static void accept_all(struct sim *s, struct lst *l, uint64_t now)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or out of descriptors: the backlog waits */
		}
		s->accepted++;
		if (s->nconns >= s->maxconns) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			close(fd);
			s->dropped++;
			continue;
		}
		struct dsim_conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			s->dropped++;
			continue;
		}
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->kind = DSIM_KIND_CONN;
		c->fd = fd;
		c->id = s->next_id++;
		c->dev = l->dev;
		c->creds = s->fleet.creds;
		c->tm.idx = -1;
		c->tm.kind = DSIM_KIND_CONN;
		c->tm.owner = c;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(c);
			s->dropped++;
			continue;
		}
		s->nconns++;
		if (s->nconns > s->peakconns)
			s->peakconns = s->nconns;
		if (l->http) {
			c->http = true;
			l->dev->h_connections++;
			dsim_http_start(c, now);
		} else {
			l->dev->connections++;
			dsim_conn_start(c, now);
		}
		(void)conn_run(s, c, now);
	}
}

/* --- truth file ------------------------------------------------------------ */

static int write_truth(struct sim *s)
{
	if (!s->truth_path)
		return 0;
	char tmp[4096];
	int n = snprintf(tmp, sizeof tmp, "%s.tmp", s->truth_path);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	int rc = dsim_truth_write(&s->fleet, f);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, s->truth_path) != 0)
		rc = -errno;
	return rc;
}

/* --- the program ------------------------------------------------------------- */

static void usage(FILE *out)
{
	fputs("usage: kizuki-devsim --prefix CIDR [--ports LIST] [--seed N] [--creds FILE]\n"
	      "                     [--truth FILE] [--fleet fleet-v1|fleet-v2] [--http-ports A,B]\n"
	      "                     [--no-tarpits] [--max-conns N] [--ready FILE] [--quiet]\n"
	      "Serve docs/devsim-spec.md's simulated telnet devices, one per address of\n"
	      "CIDR (local addresses: an AnyIP route in a network namespace, or 127/8),\n"
	      "and with fleet-v2 the HTTP services of its section 11.\n"
	      "  --prefix CIDR     IPv4 prefix, at most 2^20 addresses\n"
	      "  --ports LIST      comma-separated TCP ports, each served alike (default 23)\n"
	      "  --http-ports A,B  fleet-v2: the ports the spec calls 80 and 8080\n"
	      "                    (default 80,8080)\n"
	      "  --seed N          fleet seed (default 1)\n"
	      "  --creds FILE      the credential list the weak devices draw from\n"
	      "                    (user:password[:protocols[:vendor-regex]])\n"
	      "  --truth FILE      ground truth, JSON Lines; rewritten with counters on\n"
	      "                    SIGTERM/SIGINT (exit) and SIGUSR1 (no exit)\n"
	      "  --fleet NAME      fleet profile: fleet-v1 (default, telnet) or fleet-v2\n"
	      "                    (fleet-v1 plus HTTP devices)\n"
	      "  --no-tarpits      leave B19/B20 devices out (the demo's fleet)\n"
	      "  --max-conns N     concurrent connections, beyond that reset (default 20000)\n"
	      "  --ready FILE      create FILE once every listener is up\n",
	      out);
}

static int parse_ports(const char *arg, struct dsim_fleet *f)
{
	const char *p = arg;
	f->nports = 0;
	while (*p) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v == 0 || v > 65535 ||
		    f->nports == sizeof f->ports / sizeof f->ports[0] || (*end && *end != ','))
			return -EINVAL;
		f->ports[f->nports++] = (uint16_t)v;
		p = *end ? end + 1 : end;
	}
	return f->nports ? 0 : -EINVAL;
}

/* Raise the descriptor limit to want; where the hard limit cannot be
 * raised (no CAP_SYS_RESOURCE, as in some containers), take the hard limit
 * and return it in *got. */
static int raise_nofile(size_t want, size_t *got)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	*got = rl.rlim_cur;
	if (rl.rlim_cur >= want)
		return 0;
	struct rlimit up = { .rlim_cur = want,
		             .rlim_max = rl.rlim_max > want ? rl.rlim_max : want };
	if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
		*got = want;
		return 0;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	*got = rl.rlim_max;
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		O_PREFIX = 256,
		O_PORTS,
		O_SEED,
		O_CREDS,
		O_TRUTH,
		O_FLEET,
		O_NOTARPIT,
		O_MAXC,
		O_READY,
		O_QUIET,
		O_HTTP_PORTS
	};
	static const struct option opts[] = {
		{ "prefix", required_argument, NULL, O_PREFIX },
		{ "ports", required_argument, NULL, O_PORTS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "creds", required_argument, NULL, O_CREDS },
		{ "truth", required_argument, NULL, O_TRUTH },
		{ "fleet", required_argument, NULL, O_FLEET },
		{ "no-tarpits", no_argument, NULL, O_NOTARPIT },
		{ "max-conns", required_argument, NULL, O_MAXC },
		{ "ready", required_argument, NULL, O_READY },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "http-ports", required_argument, NULL, O_HTTP_PORTS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sim sim;
	struct sim *s = &sim;
	const char *prefix = NULL, *creds_path = NULL, *ready = NULL;
	uint64_t seed = 1;
	bool tarpits = true;
	unsigned version = 1;
	char why[512];
	s->fleet.http_ports[0] = 80;
	s->fleet.http_ports[1] = 8080;
	int opt, rc;
	s->maxconns = 20000;
	s->fleet.ports[0] = 23;
	s->fleet.nports = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case O_PREFIX:
			prefix = optarg;
			break;
		case O_PORTS:
			if (parse_ports(optarg, &s->fleet) != 0) {
				fprintf(stderr,
				        "kizuki-devsim: --ports: %s: not a list of 1-8 ports\n",
				        optarg);
				return 2;
			}
			break;
		case O_SEED:
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg) {
				fprintf(stderr, "kizuki-devsim: --seed: %s: not a number\n",
				        optarg);
				return 2;
			}
			break;
		case O_CREDS:
			creds_path = optarg;
			break;
		case O_TRUTH:
			s->truth_path = optarg;
			break;
		case O_FLEET:
			if (strcmp(optarg, "fleet-v1") == 0) {
				version = 1;
			} else if (strcmp(optarg, "fleet-v2") == 0) {
				version = 2;
			} else {
				fprintf(stderr,
				        "kizuki-devsim: --fleet: %s: unknown (fleet-v1, "
				        "fleet-v2)\n",
				        optarg);
				return 2;
			}
			break;
		case O_HTTP_PORTS: {
			unsigned long a = strtoul(optarg, &end, 10), b = 0;
			if (*end == ',')
				b = strtoul(end + 1, &end, 10);
			if (*end || a == 0 || a > 65535 || b == 0 || b > 65535 || a == b) {
				fprintf(stderr,
				        "kizuki-devsim: --http-ports: %s: two different ports "
				        "A,B\n",
				        optarg);
				return 2;
			}
			s->fleet.http_ports[0] = (uint16_t)a;
			s->fleet.http_ports[1] = (uint16_t)b;
			break;
		}
		case O_NOTARPIT:
			tarpits = false;
			break;
		case O_MAXC:
			s->maxconns = strtoul(optarg, &end, 10);
			if (*end || s->maxconns == 0 || s->maxconns > 1000000) {
				fprintf(stderr, "kizuki-devsim: --max-conns: %s: 1..1000000\n",
				        optarg);
				return 2;
			}
			break;
		case O_READY:
			ready = optarg;
			break;
		case O_QUIET:
			s->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!prefix || optind != argc) {
		usage(stderr);
		return 2;
	}
	struct kz_cidr cidr;
	const char *cwhy = NULL;
	if (kz_cidr_parse(prefix, &cidr, &cwhy) != 0 || !kz_addr_is_v4(cidr.base)) {
		fprintf(stderr, "kizuki-devsim: --prefix: %s: %s\n", prefix,
		        cwhy ? cwhy : "not an IPv4 prefix");
		return 2;
	}
	if (cidr.len < 12) {
		fprintf(stderr, "kizuki-devsim: --prefix: %s: more than 2^20 addresses\n", prefix);
		return 2;
	}
	uint32_t ndev = 1u << (32 - cidr.len);
	if (creds_path && dsim_creds_load(creds_path, &s->creds, why, sizeof why) != 0) {
		fprintf(stderr, "kizuki-devsim: --creds: %s\n", why);
		return 2;
	}
	rc = dsim_fleet_build(&s->fleet, kz_addr_v4(cidr.base), ndev, seed,
	                      creds_path ? &s->creds : NULL, tarpits, version);
	if (rc != 0) {
		fprintf(stderr, "kizuki-devsim: fleet: %s\n", strerror(-rc));
		return 1;
	}
	if ((rc = write_truth(s)) != 0) {
		fprintf(stderr, "kizuki-devsim: %s: %s\n", s->truth_path, strerror(-rc));
		return 1;
	}
	size_t ntelnet = (size_t)ndev * s->fleet.nports;
	s->nlsts = ntelnet;
	for (uint32_t i = 0; i < ndev; i++)
		if (s->fleet.dev[i].http && s->fleet.dev[i].served)
			s->nlsts++;
	size_t nofile = 0;
	if ((rc = raise_nofile(s->nlsts + s->maxconns + 64, &nofile)) != 0 ||
	    nofile < s->nlsts + 64 + 16) {
		fprintf(stderr, "kizuki-devsim: RLIMIT_NOFILE: %s for %zu listeners\n",
		        rc ? strerror(-rc) : "too low", s->nlsts);
		return 1;
	}
	if (nofile < s->nlsts + s->maxconns + 64) {
		s->maxconns = nofile - s->nlsts - 64;
		if (!s->quiet)
			fprintf(stderr,
			        "kizuki-devsim: descriptor limit %zu: --max-conns lowered to %zu\n",
			        nofile, s->maxconns);
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->lsts = calloc(s->nlsts, sizeof *s->lsts);
	s->heapcap = s->nlsts + s->maxconns + 1;
	s->heap = calloc(s->heapcap, sizeof *s->heap);
	if (s->ep < 0 || !s->lsts || !s->heap) {
		fprintf(stderr, "kizuki-devsim: start-up: %s\n", strerror(errno ? errno : ENOMEM));
		return 1;
	}
	for (uint32_t i = 0; i < ndev; i++) {
		for (size_t p = 0; p < s->fleet.nports; p++) {
			struct lst *l = &s->lsts[(size_t)i * s->fleet.nports + p];
			l->kind = DSIM_KIND_LISTENER;
			l->fd = -1;
			l->dev = &s->fleet.dev[i];
			l->addr = s->fleet.base + i;
			l->port = s->fleet.ports[p];
			l->tm.idx = -1;
			l->tm.kind = DSIM_KIND_LISTENER;
			l->tm.owner = l;
			if (!l->dev->served)
				continue;
			if ((rc = listen_open(s, l)) != 0) {
				fprintf(stderr, "kizuki-devsim: listen on %u.%u.%u.%u:%u: %s\n",
				        l->addr >> 24, (l->addr >> 16) & 255, (l->addr >> 8) & 255,
				        l->addr & 255, l->port, strerror(-rc));
				return 1;
			}
		}
	}
	/* fleet-v2: each HTTP service's listener, after the telnet ones. */
	size_t hl = ntelnet;
	for (uint32_t i = 0; i < ndev; i++) {
		struct dsim_dev *d = &s->fleet.dev[i];
		if (!d->http || !d->served)
			continue;
		struct lst *l = &s->lsts[hl];
		d->http_lst = (int32_t)hl++;
		l->kind = DSIM_KIND_LISTENER;
		l->http = true;
		l->fd = -1;
		l->dev = d;
		l->addr = s->fleet.base + i;
		l->port = s->fleet.http_ports[d->http_slot];
		l->tm.idx = -1;
		l->tm.kind = DSIM_KIND_LISTENER;
		l->tm.owner = l;
		if ((rc = listen_open(s, l)) != 0) {
			fprintf(stderr, "kizuki-devsim: listen on %u.%u.%u.%u:%u: %s\n",
			        l->addr >> 24, (l->addr >> 16) & 255, (l->addr >> 8) & 255,
			        l->addr & 255, l->port, strerror(-rc));
			return 1;
		}
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	static uint8_t sig_tag = DSIM_KIND_SIGNAL;
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	struct epoll_event sev = { .events = EPOLLIN, .data.ptr = &sig_tag };
	if (sfd < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, sfd, &sev) != 0) {
		fprintf(stderr, "kizuki-devsim: signalfd: %s\n", strerror(errno));
		return 1;
	}
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (!f || fclose(f) != 0) {
			fprintf(stderr, "kizuki-devsim: --ready: %s: %s\n", ready, strerror(errno));
			return 1;
		}
	}
	if (!s->quiet)
		fprintf(stderr, "kizuki-devsim: %u devices on %s, %zu port(s), seed %" PRIu64 "\n",
		        ndev, prefix, s->fleet.nports, seed);
	bool running = true;
	while (running) {
		uint64_t now = now_ms();
		int timeout = -1;
		if (s->nheap) {
			uint64_t at = s->heap[0]->at;
			timeout = at <= now ? 0 : at - now > 60000 ? 60000 : (int)(at - now);
		}
		struct epoll_event evs[256];
		int n = epoll_wait(s->ep, evs, 256, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "kizuki-devsim: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		now = now_ms();
		for (int i = 0; i < n; i++) {
			uint8_t kind = *(uint8_t *)evs[i].data.ptr;
			if (kind == DSIM_KIND_LISTENER) {
				accept_all(s, evs[i].data.ptr, now);
			} else if (kind == DSIM_KIND_CONN) {
				struct dsim_conn *c = evs[i].data.ptr;
				/* A connection freed earlier in this batch is not in
				 * a later event: each fd appears once per batch. */
				if (evs[i].events & EPOLLOUT) {
					want_out(s, c, false);
					if (!conn_run(s, c, now))
						continue;
				}
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_readable(s, c, now);
			} else {
				struct signalfd_siginfo si;
				while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
					if (si.ssi_signo == SIGUSR1)
						(void)write_truth(s);
					else
						running = false;
				}
			}
		}
		while (s->nheap && s->heap[0]->at <= now) {
			struct dsim_timer *t = s->heap[0];
			timer_del(s, t);
			if (t->kind == DSIM_KIND_CONN) {
				struct dsim_conn *c = t->owner;
				if (!c->want_out)
					(void)conn_run(s, c, now);
			} else {
				struct lst *l = t->owner;
				if (listen_open(s, l) != 0)
					timer_set(s, &l->tm, now + 100);
			}
		}
	}
	rc = write_truth(s);
	if (rc != 0)
		fprintf(stderr, "kizuki-devsim: %s: %s\n", s->truth_path, strerror(-rc));
	if (!s->quiet)
		fprintf(stderr,
		        "kizuki-devsim: %" PRIu64 " connections accepted, %" PRIu64
		        " reset over --max-conns, peak %zu concurrent\n",
		        s->accepted, s->dropped, s->peakconns);
	dsim_fleet_free(&s->fleet);
	dsim_creds_free(&s->creds);
	return rc == 0 ? 0 : 1;
}
