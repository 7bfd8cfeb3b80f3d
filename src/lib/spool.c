/*
 * Spool and sender (see spool.h).
 *
 * Files: <dir>/<16-digit sequence>-<stream>.open while being written,
 * renamed to .jsonl when closed; sequence order is arrival order across
 * both streams, and the sender posts in that order, so a survey run's
 * header, records and trailer reach the hub in the order they were written.
 *
 * One mutex guards the queue of closed segments, the open segments and the
 * counters; the sender holds it only to pick a segment and to retire one,
 * never while posting. The segment being posted is never dropped for
 * space: the next oldest goes instead.
 */
#include "spool.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tokens.h"

#define ROLL_AFTER_S  1.0
#define BACKOFF_MIN_S 0.5
#define BACKOFF_MAX_S 30.0
#define SEGMENTS_MAX  1000000

static const char *const stream_names[KZ_SPOOL_STREAMS] = { "events", "stats" };
static const char *const stream_paths[KZ_SPOOL_STREAMS] = { "/api/v1/events", "/api/v1/stats" };

struct seg {
	uint64_t seq;
	int stream;
	uint64_t bytes;
};

struct kz_spool {
	char *dir, *base, *token, *sensor;
	uint64_t max;
	size_t seg_bytes;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fd[KZ_SPOOL_STREAMS];
	uint64_t open_seq[KZ_SPOOL_STREAMS];
	uint64_t open_bytes[KZ_SPOOL_STREAMS];
	double open_since[KZ_SPOOL_STREAMS];
	uint64_t next_seq;
	struct seg *q;
	size_t nq, capq;
	uint64_t total; /* bytes in closed and open segments */
	uint64_t inflight;
	struct kz_spool_stats st;
	bool stop, started;
	double deadline;
	pthread_t th;
};

/* Monotonic seconds: segment ages and back-off never jump with the clock. */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The file name of a segment: sequence first, so a directory listing is
 * in arrival order. */
static void seg_path(const struct kz_spool *sp, uint64_t seq, int stream, bool open, char *buf,
                     size_t len)
{
	snprintf(buf, len, "%s/%016llu-%s.%s", sp->dir, (unsigned long long)seq,
	         stream_names[stream], open ? "open" : "jsonl");
}

/* Makes a rename durable: the directory entry is data too. */
static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

/* Queues a closed segment for the sender. Lock held. */
static int queue_push(struct kz_spool *sp, uint64_t seq, int stream, uint64_t bytes)
{
	if (sp->nq == sp->capq) {
		size_t nc = sp->capq ? sp->capq * 2 : 64;
		if (nc > SEGMENTS_MAX)
			return -ENOSPC;
		struct seg *nq = reallocarray(sp->q, nc, sizeof *nq);
		if (!nq)
			return -ENOMEM;
		sp->q = nq;
		sp->capq = nc;
	}
	/* Kept sorted by sequence; pushes come in order except at recovery. */
	size_t i = sp->nq;
	while (i > 0 && sp->q[i - 1].seq > seq) {
		sp->q[i] = sp->q[i - 1];
		i--;
	}
	sp->q[i] = (struct seg){ seq, stream, bytes };
	sp->nq++;
	return 0;
}

/* Removes the i-th queued segment. Lock held. */
static void queue_remove(struct kz_spool *sp, size_t i)
{
	memmove(&sp->q[i], &sp->q[i + 1], (sp->nq - i - 1) * sizeof *sp->q);
	sp->nq--;
}

/* Closes stream's open segment: fsync, rename to .jsonl, queue it. Lock held. */
static int roll(struct kz_spool *sp, int s)
{
	if (sp->fd[s] < 0)
		return 0;
	char from[4200], to[4200];
	int rc = 0;
	if (fsync(sp->fd[s]) != 0)
		rc = -errno;
	close(sp->fd[s]);
	sp->fd[s] = -1;
	seg_path(sp, sp->open_seq[s], s, true, from, sizeof from);
	seg_path(sp, sp->open_seq[s], s, false, to, sizeof to);
	if (sp->open_bytes[s] == 0) {
		unlink(from);
		return rc;
	}
	if (rename(from, to) != 0) {
		rc = -errno;
		kz_err("spool: %s: %s", from, strerror(errno));
		return rc;
	}
	(void)fsync_dir(sp->dir);
	sp->st.pending_segments++;
	int qrc = queue_push(sp, sp->open_seq[s], s, sp->open_bytes[s]);
	sp->open_bytes[s] = 0;
	pthread_cond_signal(&sp->cond);
	return rc ? rc : qrc;
}

/* Records in a segment (its lines), for the counters. */
static uint64_t count_lines_file(const char *path)
{
	uint64_t n = 0;
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == '\n';
	close(fd);
	return n;
}

/* The dropped-records count survives restarts in <dir>/dropped, so that the
 * hub's /metrics counter never goes back when a sensor restarts. */
static void save_dropped(struct kz_spool *sp)
{
	char path[4200], tmp[4200], text[32];
	snprintf(path, sizeof path, "%s/dropped", sp->dir);
	snprintf(tmp, sizeof tmp, "%s/dropped.tmp", sp->dir);
	int n = snprintf(text, sizeof text, "%llu\n", (unsigned long long)sp->st.dropped_records);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	bool ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path) != 0)
		kz_warn("spool: cannot record the dropped count in %s", path);
}

static void load_dropped(struct kz_spool *sp)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/dropped", sp->dir);
	FILE *f = fopen(path, "re");
	unsigned long long v = 0;
	if (f) {
		if (fscanf(f, "%llu", &v) == 1)
			sp->st.dropped_records = v;
		fclose(f);
	}
}

/* Drops the oldest closed segment that is not being posted. Lock held.
 * Returns false when there is none. */
static bool drop_oldest(struct kz_spool *sp)
{
	for (size_t i = 0; i < sp->nq; i++) {
		if (sp->q[i].seq == sp->inflight)
			continue;
		char path[4200];
		seg_path(sp, sp->q[i].seq, sp->q[i].stream, false, path, sizeof path);
		uint64_t lines = count_lines_file(path);
		unlink(path);
		sp->st.dropped_records += lines;
		sp->st.dropped_segments++;
		sp->st.dropped_bytes += sp->q[i].bytes;
		sp->total -= sp->q[i].bytes;
		sp->st.pending_segments--;
		kz_warn("spool: over --spool-max (%llu bytes): dropped %s (%llu records)",
		        (unsigned long long)sp->max, path, (unsigned long long)lines);
		queue_remove(sp, i);
		save_dropped(sp);
		return true;
	}
	return false;
}

int kz_spool_append(struct kz_spool *sp, enum kz_spool_stream s, const char *line, size_t len)
{
	bool nl = len > 0 && line[len - 1] == '\n';
	uint64_t need = len + (nl ? 0 : 1);
	int rc = 0;
	if ((unsigned)s >= KZ_SPOOL_STREAMS)
		return -EINVAL;
	pthread_mutex_lock(&sp->lock);
	/* Make room: the oldest data goes first, then the open segments are
	 * closed so that they can go too. */
	while (sp->total + need > sp->max) {
		if (drop_oldest(sp))
			continue;
		bool rolled = false;
		for (int k = 0; k < KZ_SPOOL_STREAMS; k++) {
			if (sp->fd[k] >= 0 && sp->open_bytes[k] > 0) {
				(void)roll(sp, k);
				rolled = true;
			}
		}
		if (!rolled || !drop_oldest(sp))
			break; /* only the segment in flight is left: go over by a line */
	}
	if (sp->fd[s] < 0) {
		char path[4200];
		sp->open_seq[s] = sp->next_seq++;
		seg_path(sp, sp->open_seq[s], (int)s, true, path, sizeof path);
		sp->fd[s] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		if (sp->fd[s] < 0) {
			rc = -errno;
			kz_err("spool: %s: %s", path, strerror(errno));
			goto out;
		}
		sp->open_bytes[s] = 0;
		sp->open_since[s] = now_s();
	}
	struct iovec iov[2] = { { (void *)line, len }, { (void *)"\n", 1 } };
	ssize_t w = writev(sp->fd[s], iov, nl ? 1 : 2);
	if (w < 0 || (uint64_t)w != need) {
		rc = w < 0 ? -errno : -ENOSPC;
		/* A short write leaves a partial line: cut it off again. */
		if (w > 0 && ftruncate(sp->fd[s], (off_t)sp->open_bytes[s]) != 0)
			kz_err("spool: cannot cut a partial line: %s", strerror(errno));
		goto out;
	}
	sp->open_bytes[s] += need;
	sp->total += need;
	if (sp->open_bytes[s] >= sp->seg_bytes)
		rc = roll(sp, (int)s);
out:
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

int kz_spool_flush(struct kz_spool *sp)
{
	int rc = 0;
	pthread_mutex_lock(&sp->lock);
	for (int s = 0; s < KZ_SPOOL_STREAMS; s++) {
		int r = roll(sp, s);
		if (r && !rc)
			rc = r;
	}
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

void kz_spool_get_stats(struct kz_spool *sp, struct kz_spool_stats *st)
{
	pthread_mutex_lock(&sp->lock);
	*st = sp->st;
	st->pending_bytes = sp->total;
	pthread_mutex_unlock(&sp->lock);
}

/* ------------------------------------------------------------- sender */

struct buf {
	char *p;
	size_t len, cap;
};

/* libcurl write callback: keeps the start of the hub's reply. */
static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;
	if (b->len + len + 1 <= b->cap) {
		memcpy(b->p + b->len, p, len);
		b->len += len;
		b->p[b->len] = '\0';
	}
	return len;
}

/* Posts one segment. Returns 1 when the hub accounted for every line, 0
 * for a failure worth retrying. */
static int post_segment(struct kz_spool *sp, CURL *curl, const struct seg *g, uint64_t *rejected)
{
	char path[4200], url[4200], h1[600], h2[64], h3[64], h4[200];
	char reply[8192];
	struct buf rb = { reply, 0, sizeof reply };
	seg_path(sp, g->seq, g->stream, false, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		if (fd >= 0)
			close(fd);
		return -1; /* gone: nothing to send */
	}
	char *body = malloc((size_t)sb.st_size + 1);
	ssize_t got = body ? read(fd, body, (size_t)sb.st_size) : -1;
	close(fd);
	if (got != sb.st_size) {
		free(body);
		return 0;
	}
	uint64_t lines = 0;
	for (off_t i = 0; i < sb.st_size; i++)
		lines += body[i] == '\n';
	struct kz_spool_stats st;
	kz_spool_get_stats(sp, &st);
	snprintf(url, sizeof url, "%s%s", sp->base, stream_paths[g->stream]);
	snprintf(h1, sizeof h1, "Authorization: Bearer %s", sp->token);
	snprintf(h2, sizeof h2, "X-Kizuki-Spool-Bytes: %llu", (unsigned long long)st.pending_bytes);
	snprintf(h3, sizeof h3, "X-Kizuki-Spool-Dropped: %llu",
	         (unsigned long long)st.dropped_records);
	snprintf(h4, sizeof h4, "X-Kizuki-Sensor: %s", sp->sensor ? sp->sensor : "");
	struct curl_slist *hdr = NULL;
	hdr = curl_slist_append(hdr, h1);
	hdr = curl_slist_append(hdr, h2);
	hdr = curl_slist_append(hdr, h3);
	if (sp->sensor)
		hdr = curl_slist_append(hdr, h4);
	hdr = curl_slist_append(hdr, "Content-Type: application/x-ndjson");
	hdr = curl_slist_append(hdr, "Expect:");
	explicit_bzero(h1, sizeof h1);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sb.st_size);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rb);
	CURLcode cc = curl_easy_perform(curl);
	long code = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	free(body);
	if (cc != CURLE_OK) {
		kz_debug("spool: %s: %s", url, curl_easy_strerror(cc));
		return 0;
	}
	if (code != 200) {
		/* 401/403 need a human; 5xx the hub's recovery. Either way the
		 * data stays until the hub takes it. */
		kz_warn("spool: %s answered %ld: %.200s", url, code, reply);
		return 0;
	}
	json_error_t je;
	json_t *o = json_loads(reply, 0, &je);
	json_int_t acc = json_integer_value(json_object_get(o, "accepted"));
	json_int_t dup = json_integer_value(json_object_get(o, "duplicates"));
	json_int_t rej = json_integer_value(json_object_get(o, "rejected"));
	json_t *errs = json_object_get(o, "errors");
	if (rej > 0) {
		const json_t *e0 = json_array_get(errs, 0);
		const char *why = json_string_value(json_object_get(e0, "reason"));
		kz_warn("spool: the hub refused %lld record%s of %s (first: line %lld: %s)",
		        (long long)rej, rej == 1 ? "" : "s", path,
		        (long long)json_integer_value(json_object_get(e0, "line")),
		        why ? why : "?");
	}
	json_decref(o);
	if (acc < 0 || dup < 0 || rej < 0 || (uint64_t)(acc + dup + rej) != lines) {
		kz_warn("spool: %s: the reply accounts for %lld of %llu lines; keeping it", path,
		        (long long)(acc + dup + rej), (unsigned long long)lines);
		return 0;
	}
	*rejected = (uint64_t)rej;
	return 1;
}

/* Waits on the spool's condition for at most `seconds`. Lock held. */
static void wait_for(struct kz_spool *sp, double seconds)
{
	if (seconds <= 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long long ns = (long long)ts.tv_nsec + (long long)(seconds * 1e9);
	ts.tv_sec += (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	pthread_cond_timedwait(&sp->cond, &sp->lock, &ts);
}

static void *sender_main(void *arg)
{
	struct kz_spool *sp = arg;
	CURL *curl = curl_easy_init();
	double backoff = 0, retry_at = 0;
	if (!curl) {
		kz_err("spool: cannot start libcurl; records stay in the spool");
		return NULL;
	}
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	pthread_mutex_lock(&sp->lock);
	for (;;) {
		double t = now_s();
		for (int s = 0; s < KZ_SPOOL_STREAMS; s++)
			if (sp->fd[s] >= 0 && sp->open_bytes[s] > 0 &&
			    (sp->stop || t - sp->open_since[s] >= ROLL_AFTER_S))
				(void)roll(sp, s);
		if (sp->stop && (sp->nq == 0 || t >= sp->deadline))
			break;
		if (sp->nq == 0 || t < retry_at) {
			double until = sp->nq ? retry_at : t + 0.2;
			if (sp->stop && until > sp->deadline)
				until = sp->deadline;
			wait_for(sp, until - t);
			continue;
		}
		struct seg g = sp->q[0];
		sp->inflight = g.seq;
		pthread_mutex_unlock(&sp->lock);
		uint64_t rejected = 0;
		int ok = post_segment(sp, curl, &g, &rejected);
		pthread_mutex_lock(&sp->lock);
		sp->inflight = 0;
		if (ok == 0) {
			sp->st.failed_posts++;
			backoff = backoff == 0                  ? BACKOFF_MIN_S
			          : backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S
			                                        : backoff * 2;
			retry_at = now_s() + backoff;
			continue;
		}
		backoff = retry_at = 0;
		char path[4200];
		seg_path(sp, g.seq, g.stream, false, path, sizeof path);
		uint64_t lines = ok == 1 ? count_lines_file(path) : 0;
		unlink(path);
		for (size_t i = 0; i < sp->nq; i++) {
			if (sp->q[i].seq == g.seq) {
				sp->total -= sp->q[i].bytes;
				sp->st.pending_segments--;
				queue_remove(sp, i);
				break;
			}
		}
		if (ok == 1) {
			sp->st.sent_segments++;
			sp->st.sent_records += lines - rejected;
			sp->st.rejected_records += rejected;
		}
	}
	pthread_mutex_unlock(&sp->lock);
	curl_easy_cleanup(curl);
	return NULL;
}

/* --------------------------------------------------------------- open */

/* Takes over a previous run's segments. */
static int recover(struct kz_spool *sp, char *err, size_t errlen)
{
	DIR *d = opendir(sp->dir);
	struct dirent *e;
	if (!d) {
		snprintf(err, errlen, "%s: %s", sp->dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		unsigned long long seq;
		char name[16], ext[8];
		int s = -1;
		if (sscanf(e->d_name, "%16llu-%15[a-z].%7s", &seq, name, ext) != 3)
			continue;
		for (int k = 0; k < KZ_SPOOL_STREAMS; k++)
			if (strcmp(name, stream_names[k]) == 0)
				s = k;
		bool open_seg = strcmp(ext, "open") == 0;
		if (s < 0 || (!open_seg && strcmp(ext, "jsonl") != 0))
			continue;
		char path[4200], to[4200];
		seg_path(sp, seq, s, open_seg, path, sizeof path);
		struct stat sb;
		if (stat(path, &sb) != 0)
			continue;
		uint64_t bytes = (uint64_t)sb.st_size;
		if (open_seg) {
			/* Cut back to the last whole line: a crash mid-write. */
			int fd = open(path, O_RDWR | O_CLOEXEC);
			off_t keep = 0;
			if (fd >= 0) {
				char buf[65536];
				off_t off = 0;
				ssize_t r;
				while ((r = read(fd, buf, sizeof buf)) > 0) {
					for (ssize_t i = 0; i < r; i++)
						if (buf[i] == '\n')
							keep = off + i + 1;
					off += r;
				}
				if (ftruncate(fd, keep) != 0 || fsync(fd) != 0)
					keep = 0;
				close(fd);
			}
			bytes = (uint64_t)keep;
			seg_path(sp, seq, s, false, to, sizeof to);
			if (bytes == 0 || rename(path, to) != 0) {
				unlink(path);
				continue;
			}
		}
		if (queue_push(sp, seq, s, bytes) != 0)
			break;
		sp->total += bytes;
		sp->st.pending_segments++;
		if (seq >= sp->next_seq)
			sp->next_seq = seq + 1;
	}
	closedir(d);
	if (sp->nq)
		kz_info("spool: %zu segment%s (%llu bytes) left by a previous run, sending them "
		        "first",
		        sp->nq, sp->nq == 1 ? "" : "s", (unsigned long long)sp->total);
	return 0;
}

int kz_spool_open(const struct kz_spool_config *cfg, struct kz_spool **out, char *err,
                  size_t errlen)
{
	struct kz_spool *sp = calloc(1, sizeof *sp);
	int rc = -ENOMEM;
	*out = NULL;
	if (!sp)
		return -ENOMEM;
	pthread_mutex_init(&sp->lock, NULL);
	pthread_cond_init(&sp->cond, NULL);
	for (int s = 0; s < KZ_SPOOL_STREAMS; s++)
		sp->fd[s] = -1;
	sp->max = cfg->max_bytes ? cfg->max_bytes : KZ_SPOOL_MAX_DEFAULT;
	sp->seg_bytes = cfg->segment_bytes ? cfg->segment_bytes : KZ_SPOOL_SEGMENT_BYTES;
	/* Space is freed a segment at a time: keep segments small beside a
	 * small --spool-max, so that dropping one loses little. */
	if (sp->seg_bytes > sp->max / 16)
		sp->seg_bytes = sp->max / 16 > 4096 ? (size_t)(sp->max / 16) : 4096;
	sp->next_seq = 1;
	if (!cfg->dir || !cfg->hub_url || !cfg->token) {
		snprintf(err, errlen, "the spool needs a directory, the hub's URL and a token");
		rc = -EINVAL;
		goto fail;
	}
	if (strncmp(cfg->hub_url, "http://", 7) != 0 && strncmp(cfg->hub_url, "https://", 8) != 0) {
		snprintf(err, errlen, "--hub %s: not an http:// or https:// URL", cfg->hub_url);
		rc = -EINVAL;
		goto fail;
	}
	sp->dir = strdup(cfg->dir);
	sp->base = strdup(cfg->hub_url);
	sp->token = strdup(cfg->token);
	sp->sensor = cfg->sensor ? strdup(cfg->sensor) : NULL;
	if (!sp->dir || !sp->base || !sp->token || (cfg->sensor && !sp->sensor))
		goto fail;
	/* "http://hub:8470/api/v1/events" and "http://hub:8470/" name the
	 * same hub. */
	char *api = strstr(sp->base, "/api/");
	if (api)
		*api = '\0';
	size_t bl = strlen(sp->base);
	while (bl > 0 && sp->base[bl - 1] == '/')
		sp->base[--bl] = '\0';
	if (mkdir(sp->dir, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "--spool %s: %s", sp->dir, strerror(errno));
		goto fail;
	}
	if ((rc = recover(sp, err, errlen)))
		goto fail;
	load_dropped(sp);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (pthread_create(&sp->th, NULL, sender_main, sp) != 0) {
		rc = -EAGAIN;
		snprintf(err, errlen, "cannot start the upload thread");
		goto fail;
	}
	sp->started = true;
	*out = sp;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	kz_spool_close(sp, 0, NULL);
	return rc;
}

void kz_spool_close(struct kz_spool *sp, double drain_seconds, struct kz_spool_stats *st)
{
	if (!sp)
		return;
	pthread_mutex_lock(&sp->lock);
	for (int s = 0; s < KZ_SPOOL_STREAMS; s++)
		(void)roll(sp, s);
	sp->stop = true;
	sp->deadline = now_s() + drain_seconds;
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
	if (sp->started)
		pthread_join(sp->th, NULL);
	if (st) {
		*st = sp->st;
		st->pending_bytes = sp->total;
	}
	for (int s = 0; s < KZ_SPOOL_STREAMS; s++)
		if (sp->fd[s] >= 0)
			close(sp->fd[s]);
	if (sp->token)
		explicit_bzero(sp->token, strlen(sp->token));
	free(sp->token);
	free(sp->dir);
	free(sp->base);
	free(sp->sensor);
	free(sp->q);
	pthread_mutex_destroy(&sp->lock);
	pthread_cond_destroy(&sp->cond);
	free(sp);
}

int kz_spool_open_cli(const char *hub_url, const char *token_file, const char *dir,
                      uint64_t max_bytes, const char *sensor, struct kz_spool **out, char *err,
                      size_t errlen)
{
	char token[256], why[512];
	*out = NULL;
	if (!hub_url || !token_file) {
		snprintf(err, errlen, "--hub needs --token-file (and the other way round)");
		return -EINVAL;
	}
	int rc = kz_token_file_read(token_file, token, sizeof token, why, sizeof why);
	if (rc) {
		snprintf(err, errlen, "--token-file %s", why);
		return rc;
	}
	struct kz_spool_config cfg = {
		.dir = dir ? dir : "kizuki-spool",
		.max_bytes = max_bytes,
		.hub_url = hub_url,
		.token = token,
		.sensor = sensor,
	};
	rc = kz_spool_open(&cfg, out, err, errlen);
	explicit_bzero(token, sizeof token);
	return rc;
}
