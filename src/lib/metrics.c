/*
 * Metrics: a mutex-protected set of small label tables. Updates happen a
 * few times per POST, not per record, so one lock is cheaper than anything
 * cleverer and keeps the families consistent with each other on scrape.
 */
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 64

struct labelled {
	char label[LABEL_MAX];
	uint64_t v[3];
};

struct family {
	struct labelled *rows;
	size_t n;
};

static const double latency_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	                                 0.25,  0.5,    1,     2.5,  5,     10 };
#define NBOUNDS (sizeof latency_bounds / sizeof latency_bounds[0])

struct kz_metrics {
	pthread_mutex_t lock;
	struct family events;  /* v: accepted, duplicate, rejected */
	struct family reports; /* v[0] */
	struct family spool;   /* v: bytes, dropped */
	struct family http;    /* v[0] */
	uint64_t lat_buckets[NBOUNDS + 1];
	uint64_t lat_count;
	double lat_sum;
	uint64_t reload_ok, reload_failed;
};

int kz_metrics_new(struct kz_metrics **out)
{
	struct kz_metrics *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

void kz_metrics_free(struct kz_metrics *m)
{
	if (!m)
		return;
	free(m->events.rows);
	free(m->reports.rows);
	free(m->spool.rows);
	free(m->http.rows);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* The row for a label, created on first use; past the cap, "other". */
static struct labelled *row(struct family *f, const char *label)
{
	char clean[LABEL_MAX];
	size_t j = 0;
	/* Label values are escaped on output; still keep them printable. */
	for (size_t i = 0; label && label[i] && j < LABEL_MAX - 1; i++)
		clean[j++] = (label[i] >= 0x20 && label[i] < 0x7f) ? label[i] : '?';
	clean[j] = '\0';
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->rows[i].label, clean) == 0)
			return &f->rows[i];
	if (f->n >= KZ_METRICS_LABELS_MAX) {
		snprintf(clean, sizeof clean, "other");
		for (size_t i = 0; i < f->n; i++)
			if (strcmp(f->rows[i].label, clean) == 0)
				return &f->rows[i];
	}
	if (f->n % 16 == 0) {
		struct labelled *nr = reallocarray(f->rows, f->n + 16, sizeof *nr);
		if (!nr)
			return NULL;
		f->rows = nr;
	}
	struct labelled *r = &f->rows[f->n++];
	memset(r, 0, sizeof *r);
	memcpy(r->label, clean, j + 1);
	return r;
}

void kz_metrics_events(struct kz_metrics *m, const char *feed, uint64_t accepted,
                       uint64_t duplicates, uint64_t rejected)
{
	pthread_mutex_lock(&m->lock);
	struct labelled *r = row(&m->events, feed);
	if (r) {
		r->v[0] += accepted;
		r->v[1] += duplicates;
		r->v[2] += rejected;
	}
	pthread_mutex_unlock(&m->lock);
}

void kz_metrics_ingest_latency(struct kz_metrics *m, double seconds)
{
	pthread_mutex_lock(&m->lock);
	size_t b = 0;
	while (b < NBOUNDS && seconds > latency_bounds[b])
		b++;
	m->lat_buckets[b]++;
	m->lat_count++;
	m->lat_sum += seconds;
	pthread_mutex_unlock(&m->lock);
}

void kz_metrics_http(struct kz_metrics *m, unsigned code)
{
	char label[8];
	snprintf(label, sizeof label, "%u", code);
	pthread_mutex_lock(&m->lock);
	struct labelled *r = row(&m->http, label);
	if (r)
		r->v[0]++;
	pthread_mutex_unlock(&m->lock);
}

void kz_metrics_report_delivered(struct kz_metrics *m, const char *channel)
{
	pthread_mutex_lock(&m->lock);
	struct labelled *r = row(&m->reports, channel);
	if (r)
		r->v[0]++;
	pthread_mutex_unlock(&m->lock);
}

void kz_metrics_spool(struct kz_metrics *m, const char *sensor, uint64_t bytes,
                      uint64_t dropped_total)
{
	pthread_mutex_lock(&m->lock);
	struct labelled *r = row(&m->spool, sensor);
	if (r) {
		r->v[0] = bytes;
		r->v[1] = dropped_total;
	}
	pthread_mutex_unlock(&m->lock);
}

void kz_metrics_reload(struct kz_metrics *m, int ok)
{
	pthread_mutex_lock(&m->lock);
	if (ok)
		m->reload_ok++;
	else
		m->reload_failed++;
	pthread_mutex_unlock(&m->lock);
}

struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	if (o->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t nc = o->cap * 2 + (size_t)n;
		char *nb = realloc(o->buf, nc);
		if (!nb) {
			o->oom = true;
			return;
		}
		o->buf = nb;
		o->cap = nc;
	}
}

/* A label value in the exposition format's escaping. */
static const char *esc(const char *s, char *buf)
{
	size_t j = 0;
	for (size_t i = 0; s[i] && j < 2 * LABEL_MAX - 2; i++) {
		if (s[i] == '\\' || s[i] == '"')
			buf[j++] = '\\';
		buf[j++] = s[i];
	}
	buf[j] = '\0';
	return buf;
}

int kz_metrics_render(struct kz_metrics *m, const uint64_t *states, uint64_t db_bytes, char **out,
                      size_t *len)
{
	struct out o = { malloc(4096), 0, 4096, false };
	char e[2 * LABEL_MAX];
	static const char *const results[3] = { "accepted", "duplicate", "rejected" };
	*out = NULL;
	if (!o.buf)
		return -ENOMEM;
	pthread_mutex_lock(&m->lock);
	put(&o, "# HELP kizuki_hub_events_total Records posted, by feed and outcome.\n"
	        "# TYPE kizuki_hub_events_total counter\n");
	for (size_t i = 0; i < m->events.n; i++)
		for (int k = 0; k < 3; k++)
			put(&o, "kizuki_hub_events_total{feed=\"%s\",result=\"%s\"} %llu\n",
			    esc(m->events.rows[i].label, e), results[k],
			    (unsigned long long)m->events.rows[i].v[k]);
	put(&o, "# HELP kizuki_hub_ingest_seconds From a POST body received to its records "
	        "committed.\n# TYPE kizuki_hub_ingest_seconds histogram\n");
	uint64_t cum = 0;
	for (size_t b = 0; b < NBOUNDS; b++) {
		cum += m->lat_buckets[b];
		put(&o, "kizuki_hub_ingest_seconds_bucket{le=\"%g\"} %llu\n", latency_bounds[b],
		    (unsigned long long)cum);
	}
	put(&o,
	    "kizuki_hub_ingest_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "kizuki_hub_ingest_seconds_sum %.6f\nkizuki_hub_ingest_seconds_count %llu\n",
	    (unsigned long long)m->lat_count, m->lat_sum, (unsigned long long)m->lat_count);
	if (states) {
		put(&o, "# HELP kizuki_hub_findings Findings by state.\n"
		        "# TYPE kizuki_hub_findings gauge\n");
		for (int s = 1; s < KZ_FSTATE_COUNT; s++)
			put(&o, "kizuki_hub_findings{state=\"%s\"} %llu\n",
			    kz_fstate_name((enum kz_fstate)s), (unsigned long long)states[s]);
	}
	put(&o, "# HELP kizuki_hub_reports_delivered_total Reports delivered, by channel.\n"
	        "# TYPE kizuki_hub_reports_delivered_total counter\n");
	for (size_t i = 0; i < m->reports.n; i++)
		put(&o, "kizuki_hub_reports_delivered_total{channel=\"%s\"} %llu\n",
		    esc(m->reports.rows[i].label, e), (unsigned long long)m->reports.rows[i].v[0]);
	put(&o, "# HELP kizuki_hub_spool_bytes Bytes waiting in a sensor's spool, as it last "
	        "reported.\n# TYPE kizuki_hub_spool_bytes gauge\n");
	for (size_t i = 0; i < m->spool.n; i++)
		put(&o, "kizuki_hub_spool_bytes{sensor=\"%s\"} %llu\n",
		    esc(m->spool.rows[i].label, e), (unsigned long long)m->spool.rows[i].v[0]);
	put(&o, "# HELP kizuki_hub_spool_dropped_total Spool segments a sensor dropped past "
	        "--spool-max, as it last reported.\n"
	        "# TYPE kizuki_hub_spool_dropped_total counter\n");
	for (size_t i = 0; i < m->spool.n; i++)
		put(&o, "kizuki_hub_spool_dropped_total{sensor=\"%s\"} %llu\n",
		    esc(m->spool.rows[i].label, e), (unsigned long long)m->spool.rows[i].v[1]);
	put(&o, "# HELP kizuki_hub_http_requests_total HTTP requests, by status code.\n"
	        "# TYPE kizuki_hub_http_requests_total counter\n");
	for (size_t i = 0; i < m->http.n; i++)
		put(&o, "kizuki_hub_http_requests_total{code=\"%s\"} %llu\n",
		    esc(m->http.rows[i].label, e), (unsigned long long)m->http.rows[i].v[0]);
	put(&o,
	    "# HELP kizuki_hub_reloads_total Reloads of the tables (SIGHUP or the API).\n"
	    "# TYPE kizuki_hub_reloads_total counter\n"
	    "kizuki_hub_reloads_total{result=\"ok\"} %llu\n"
	    "kizuki_hub_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)m->reload_ok, (unsigned long long)m->reload_failed);
	pthread_mutex_unlock(&m->lock);
	put(&o,
	    "# HELP kizuki_hub_db_bytes Size of the store (database and write-ahead log).\n"
	    "# TYPE kizuki_hub_db_bytes gauge\nkizuki_hub_db_bytes %llu\n",
	    (unsigned long long)db_bytes);
	if (o.oom) {
		free(o.buf);
		return -ENOMEM;
	}
	*out = o.buf;
	*len = o.len;
	return 0;
}
