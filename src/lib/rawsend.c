/*
 * AF_PACKET batch sender (rawsend.h). The socket is opened with protocol 0
 * so that it receives nothing: replies are read by rawrecv's capture, and a
 * send-only socket never fills a receive queue.
 */
#include "rawsend.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct kz_rawsend {
	int fd;
	struct sockaddr_ll to;
	struct kz_rawsend_stats stats;
	struct mmsghdr msgs[KZ_RAWSEND_BATCH];
	struct iovec iov[KZ_RAWSEND_BATCH];
	uint8_t frames[KZ_RAWSEND_BATCH][KZ_RAWSEND_FRAME] __attribute__((aligned(64)));
};

int kz_rawsend_open(int ifindex, struct kz_rawsend **out)
{
	struct kz_rawsend *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc;
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		rc = -errno;
		goto fail;
	}
	s->to.sll_family = AF_PACKET;
	s->to.sll_ifindex = ifindex;
	s->to.sll_halen = ETH_ALEN;
	if (bind(s->fd, (struct sockaddr *)&s->to, sizeof s->to) < 0) {
		rc = -errno;
		goto fail;
	}
	/* Room for a few batches in flight; the kernel doubles the value. */
	int sndbuf = 4 << 20;
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	for (size_t i = 0; i < KZ_RAWSEND_BATCH; i++) {
		s->iov[i].iov_base = s->frames[i];
		s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
		s->msgs[i].msg_hdr.msg_iovlen = 1;
		s->msgs[i].msg_hdr.msg_name = &s->to;
		s->msgs[i].msg_hdr.msg_namelen = sizeof s->to;
	}
	*out = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return rc;
}

uint8_t *kz_rawsend_slot(struct kz_rawsend *s, size_t i)
{
	return s->frames[i];
}

int kz_rawsend_flush(struct kz_rawsend *s, size_t n, const uint16_t *len)
{
	if (n > KZ_RAWSEND_BATCH)
		n = KZ_RAWSEND_BATCH;
	for (size_t i = 0; i < n; i++)
		s->iov[i].iov_len = len[i];
	size_t done = 0;
	int sent = 0;
	unsigned tries = 0;
	while (done < n) {
		int r = sendmmsg(s->fd, s->msgs + done, (unsigned)(n - done), 0);
		s->stats.calls++;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != ENOBUFS && errno != EAGAIN)
				return -errno;
			/* sendmmsg stops at the first refused frame. The
			 * queue behind the driver drains in microseconds to
			 * milliseconds: wait a little longer each time, then
			 * give the frame up and count it. */
			if (tries < KZ_RAWSEND_RETRIES) {
				struct timespec ts = { 0, 20000L << tries };
				nanosleep(&ts, NULL);
				tries++;
				s->stats.retries++;
				continue;
			}
			s->stats.dropped++;
			done++;
			tries = 0;
			continue;
		}
		done += (size_t)r;
		sent += r;
		tries = 0;
	}
	s->stats.sent += (uint64_t)sent;
	return sent;
}

void kz_rawsend_stats(const struct kz_rawsend *s, struct kz_rawsend_stats *out)
{
	*out = s->stats;
}

void kz_rawsend_close(struct kz_rawsend *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}
