/*
 * kizuki-telnet-check: runs the survey's telnet login check against one
 * test target and prints the result on one line.
 *
 * A thin poll() driver of the socket-free machine (telnet_login.h): it
 * shows how a caller maps the machine's steps onto a socket, and lets the
 * check be run against real servers (busybox telnetd, the device
 * simulator) before the survey's epoll engine exists. It is a test tool: it
 * connects only to loopback and to the benchmarking and documentation
 * ranges (CONTRACT.md's --allow-reserved set), never to anything else.
 *
 * usage: kizuki-telnet-check ADDR PORT CREDS
 *   CREDS: user:password per line (CONTRACT.md's format; "\:" and "\\"
 *   escape, fields after the password are ignored, '#' starts a comment).
 * Output: status=... pair=N user=... password_asked=0|1 attempts=N
 *         connections=N banner_bytes=N reason="..."
 * Exit: 0 done, 1 runtime failure, 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "telnet_login.h"

#define MAX_PAIRS 1024

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Loopback, 198.18.0.0/15, the TEST-NETs, 2001:2::/48, 2001:db8::/32. */
static bool target_allowed(struct kz_addr a)
{
	static const char *const ranges[] = {
		"127.0.0.0/8",    "198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24",
		"203.0.113.0/24", "::1/128",       "2001:2::/48",  "2001:db8::/32",
	};
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
		struct kz_cidr c;
		const char *why;
		if (kz_cidr_parse(ranges[i], &c, &why) == 0 && kz_cidr_contains(&c, a))
			return true;
	}
	return false;
}

/* Splits "user:password[:...]" in place, honouring "\:" and "\\". */
static int parse_pair(char *line, char **user, char **pass)
{
	char *fields[2] = { NULL, NULL };
	int f = 0;
	char *w = line;
	fields[0] = line;
	for (char *r = line; *r; r++) {
		if (*r == '\\' && (r[1] == ':' || r[1] == '\\')) {
			*w++ = *++r;
		} else if (*r == ':') {
			*w++ = '\0';
			if (++f == 2)
				break;
			fields[f] = w;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	if (!fields[1])
		return -1;
	*user = fields[0];
	*pass = fields[1];
	return 0;
}

static int load_creds(const char *path, struct kz_login_cred *creds, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "kizuki-telnet-check: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char buf[600];
	unsigned lineno = 0;
	*n = 0;
	while (fgets(buf, sizeof buf, f)) {
		lineno++;
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] == '\0' || buf[0] == '#')
			continue;
		char *user, *pass;
		if (*n == MAX_PAIRS || parse_pair(buf, &user, &pass) != 0) {
			fprintf(stderr, "kizuki-telnet-check: %s:%u: not user:password\n", path,
			        lineno);
			fclose(f);
			return -1;
		}
		creds[*n].user = strdup(user);
		creds[*n].pass = strdup(pass);
		if (!creds[*n].user || !creds[*n].pass) {
			fclose(f);
			return -1;
		}
		(*n)++;
	}
	fclose(f);
	return 0;
}

static int start_connect(const struct sockaddr_storage *sa, socklen_t len)
{
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, len) != 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int wait_ms(uint64_t deadline)
{
	uint64_t now = now_ms();
	if (deadline <= now)
		return 0;
	uint64_t d = deadline - now;
	return d > 60000 ? 60000 : (int)d;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: kizuki-telnet-check ADDR PORT CREDS\n");
		return 2;
	}
	struct kz_addr addr;
	const char *why;
	if (kz_addr_parse(argv[1], &addr, &why) != 0) {
		fprintf(stderr, "kizuki-telnet-check: %s: %s\n", argv[1], why);
		return 2;
	}
	if (!target_allowed(addr)) {
		fprintf(stderr, "kizuki-telnet-check: %s: not a loopback or test address\n",
		        argv[1]);
		return 2;
	}
	char *end;
	long port = strtol(argv[2], &end, 10);
	if (*end || port < 1 || port > 65535) {
		fprintf(stderr, "kizuki-telnet-check: %s: not a port\n", argv[2]);
		return 2;
	}
	static struct kz_login_cred creds[MAX_PAIRS];
	size_t ncreds;
	if (load_creds(argv[3], creds, &ncreds) != 0)
		return 1;

	struct sockaddr_storage sa = { 0 };
	socklen_t salen;
	uint8_t bytes[16];
	kz_addr_to_bytes(addr, bytes);
	if (kz_addr_is_v4(addr)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, bytes + 12, 4);
		salen = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, bytes, 16);
		salen = sizeof *s6;
	}

	static struct kz_telnet_login m;
	struct kz_telnet_login_params p;
	kz_telnet_login_defaults(&p);
	p.creds = creds;
	p.ncreds = ncreds;
	if (getrandom(&p.control_seed, sizeof p.control_seed, 0) != sizeof p.control_seed) {
		fprintf(stderr, "kizuki-telnet-check: getrandom: %s\n", strerror(errno));
		return 1;
	}
	if (kz_telnet_login_init(&m, &p) != 0) {
		fprintf(stderr, "kizuki-telnet-check: bad parameters\n");
		return 1;
	}

	/* One connection at a time; `connecting` while a non-blocking connect is
	 * pending, so that the step's deadline also bounds the connect. */
	int fd = -1;
	bool connecting = false;
	struct kz_login_step step = kz_telnet_login_start(&m, now_ms());
	while (step.want != KZ_LOGIN_WANT_DONE) {
		if (step.want == KZ_LOGIN_WANT_CONNECT && !connecting) {
			/* CONNECT means: drop the old connection (the machine has
			 * already discarded what it had queued for it). */
			if (fd >= 0)
				close(fd);
			fd = -1;
			poll(NULL, 0, wait_ms(step.at)); /* the reconnect pause */
			fd = start_connect(&sa, salen);
			if (fd < 0) {
				step = kz_telnet_login_connect_failed(&m, fd, now_ms());
				continue;
			}
			connecting = true;
		}
		/* Ask for POLLOUT only while there is something to write (or a
		 * connect to finish), or poll would spin. */
		size_t pending;
		kz_telnet_login_output(&m, &pending);
		struct pollfd pfd = { .fd = fd,
			              .events = (short)(connecting || pending ? POLLOUT : 0) |
			                        (connecting ? 0 : POLLIN) };
		int rc = poll(&pfd, 1, wait_ms(step.deadline));
		uint64_t now = now_ms();
		if (rc < 0 && errno != EINTR) {
			fprintf(stderr, "kizuki-telnet-check: poll: %s\n", strerror(errno));
			return 1;
		}
		if (rc <= 0) {
			/* A deadline passed: a pending connect is abandoned and the
			 * machine decides (retry, next step, or done). */
			if (now >= step.deadline) {
				if (connecting) {
					connecting = false;
					close(fd);
					fd = -1;
				}
				step = kz_telnet_login_tick(&m, now);
			}
			continue;
		}
		if (connecting) {
			int err = 0;
			socklen_t el = sizeof err;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
			connecting = false;
			step = err ? kz_telnet_login_connect_failed(&m, -err, now)
			           : kz_telnet_login_connected(&m, now);
			continue;
		}
		/* Write before reading: replies and credentials go out in the order
		 * the machine queued them; a short write leaves the rest queued. */
		if (pfd.revents & POLLOUT) {
			const uint8_t *out = kz_telnet_login_output(&m, &pending);
			ssize_t w = write(fd, out, pending);
			if (w > 0)
				kz_telnet_login_consume(&m, (size_t)w);
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			uint8_t buf[4096];
			ssize_t r = read(fd, buf, sizeof buf);
			if (r > 0)
				step = kz_telnet_login_input(&m, buf, (size_t)r, now);
			/* EOF or a reset: the device closed (a failure, if it was
			 * after credentials). */
			else if (r == 0 || (errno != EAGAIN && errno != EINTR))
				step = kz_telnet_login_closed(&m, now);
		}
		if (now >= step.deadline && step.want == KZ_LOGIN_WANT_IO)
			step = kz_telnet_login_tick(&m, now);
	}
	if (fd >= 0)
		close(fd);

	const struct kz_telnet_login_result *res = kz_telnet_login_result(&m);
	printf("status=%s pair=%d user=%s password_asked=%d attempts=%u connections=%u "
	       "banner_bytes=%llu reason=\"%s\"\n",
	       kz_login_status_name(res->status, KZ_LOGIN_APP_TELNET), res->pair,
	       res->pair >= 0 ? creds[res->pair].user : "-", res->password_asked ? 1 : 0,
	       res->attempts, res->connections, (unsigned long long)res->banner_seen, res->reason);
	/* Credentials are wiped before exit (STYLE.md). */
	kz_telnet_login_wipe(&m);
	for (size_t i = 0; i < ncreds; i++) {
		explicit_bzero((char *)creds[i].pass, strlen(creds[i].pass));
		free((char *)creds[i].user);
		free((char *)creds[i].pass);
	}
	return 0;
}
