/*
 * Buffered classic-pcap writer; see pcapout.h. Headers are written in the
 * host's byte order, as libpcap does: readers detect it from the magic.
 */
#include "pcapout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"

#define BUF_SIZE   (8u << 20)
#define LINK_ETHER 1u

struct gen_pcap {
	int fd;
	bool own_fd; /* false for stdout, and once a gzFile owns it */
	gzFile gz;   /* NULL for a plain file */
	bool nanosec;
	int err; /* the first write error; it sticks */
	size_t len;
	uint8_t *buf;   /* BUF_SIZE bytes */
	char path[256]; /* for messages */
};

/* libpcap's savefile header and record header (pcap-savefile(5)). */

struct file_header {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct rec_header {
	uint32_t sec, frac, caplen, origlen;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Writes the buffer out. The first error sticks: later writes fail at once
 * and close reports it. */
static int flush_buf(struct gen_pcap *w)
{
	if (w->err || w->len == 0)
		return w->err;
	if (w->gz) {
		size_t off = 0;
		while (off < w->len) {
			/* gzwrite takes an unsigned count; feed it in 1 GiB pieces. */
			size_t chunk = w->len - off > (1u << 30) ? (1u << 30) : w->len - off;
			int n = gzwrite(w->gz, w->buf + off, (unsigned)chunk);
			if (n <= 0) {
				int zerr;
				kz_err("%s: gzip write failed: %s", w->path, gzerror(w->gz, &zerr));
				w->err = -EIO;
				return w->err;
			}
			off += (size_t)n;
		}
	} else {
		size_t off = 0;
		while (off < w->len) {
			ssize_t n = write(w->fd, w->buf + off, w->len - off);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				w->err = -errno;
				kz_err("%s: write failed: %s", w->path, strerror(errno));
				return w->err;
			}
			off += (size_t)n;
		}
	}
	w->len = 0;
	return 0;
}

/* Appends to the buffer; the caller has made room. */
static void put(struct gen_pcap *w, const void *p, size_t n)
{
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

int gen_pcap_open(struct gen_pcap **out, const char *path, bool nanosec, uint32_t snaplen)
{
	struct gen_pcap *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->buf = malloc(BUF_SIZE);
	if (!w->buf) {
		free(w);
		return -ENOMEM;
	}
	w->nanosec = nanosec;
	snprintf(w->path, sizeof w->path, "%s", strcmp(path, "-") == 0 ? "stdout" : path);
	if (strcmp(path, "-") == 0) {
		w->fd = STDOUT_FILENO;
	} else {
		w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (w->fd < 0) {
			int rc = -errno;
			kz_err("%s: cannot create: %s", path, strerror(errno));
			free(w->buf);
			free(w);
			return rc;
		}
		w->own_fd = true;
	}
	if (ends_with(path, ".gz")) {
		/* Level 1: pcaps of small headers compress well even at the
		 * fastest level, and a large trace stays quick to write. */
		int fd = w->own_fd ? w->fd : dup(w->fd);
		w->gz = fd >= 0 ? gzdopen(fd, "wb1") : NULL;
		if (!w->gz) {
			kz_err("%s: cannot start gzip stream", w->path);
			if (w->own_fd)
				close(w->fd);
			free(w->buf);
			free(w);
			return -EIO;
		}
		w->own_fd = false; /* the gzFile owns the descriptor now */
		gzbuffer(w->gz, 1u << 20);
	}
	struct file_header h = {
		.magic = nanosec ? 0xa1b23c4du : 0xa1b2c3d4u,
		.major = 2,
		.minor = 4,
		.snaplen = snaplen,
		.linktype = LINK_ETHER,
	};
	put(w, &h, sizeof h);
	*out = w;
	return 0;
}

int64_t gen_pcap_stamp(const struct gen_pcap *w, int64_t ts_ns)
{
	return w->nanosec ? ts_ns : ts_ns - ts_ns % 1000;
}

int gen_pcap_write(struct gen_pcap *w, int64_t ts_ns, const uint8_t *frame, uint32_t caplen,
                   uint32_t origlen)
{
	if (w->len + sizeof(struct rec_header) + caplen > BUF_SIZE) {
		int rc = flush_buf(w);
		if (rc)
			return rc;
	}
	/* The format's unsigned 32-bit seconds last until 2106. */
	int64_t sec = ts_ns / 1000000000;
	int64_t sub = ts_ns % 1000000000;
	struct rec_header r = {
		.sec = (uint32_t)sec,
		.frac = (uint32_t)(w->nanosec ? sub : sub / 1000),
		.caplen = caplen,
		.origlen = origlen,
	};
	put(w, &r, sizeof r);
	put(w, frame, caplen);
	return w->err;
}

int gen_pcap_close(struct gen_pcap *w)
{
	int rc = flush_buf(w);
	if (w->gz) {
		int zrc = gzclose(w->gz);
		if (zrc != Z_OK && rc == 0) {
			kz_err("%s: gzip close failed (%d)", w->path, zrc);
			rc = -EIO;
		}
	} else if (w->own_fd) {
		if (close(w->fd) != 0 && rc == 0) {
			rc = -errno;
			kz_err("%s: close failed: %s", w->path, strerror(errno));
		}
	}
	free(w->buf);
	free(w);
	return rc;
}
