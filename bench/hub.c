/*
 * kizuki-bench-hub: load for the hub benchmark (REFERENCE.md "Benchmark
 * definitions": hub). bench/hub.sh drives it; docs/bench-hub.md has the
 * figures.
 *
 *   kizuki-bench-hub ingest URL TOKEN CLIENTS BATCH DUP_PERCENT SECONDS [CHECK]
 *       CLIENTS threads, each POSTing bodies of BATCH survey records over
 *       one keep-alive connection (libcurl), DUP_PERCENT of every body
 *       records the same client sent before. Each client surveys its own
 *       50,000 devices round after round (new findings first, then new
 *       observations of known ones); each reply comes after the
 *       hub's commit. Prints events/s (acknowledged), POSTs/s, latency
 *       percentiles and errors. With CHECK=1, exits 1 on any error or on
 *       any body whose accepted + duplicates is not its size.
 *   kizuki-bench-hub fill DB FINDINGS OPERATORS
 *       Stores FINDINGS findings (one survey observation each, spread over
 *       OPERATORS ASes 64512..) into DB through the ingest library, for the
 *       query benchmark.
 *   kizuki-bench-hub query URL TOKEN REQUESTS [QUERY]
 *       GETs /api/v1/findings?QUERY (default limit=100) REQUESTS times, one
 *       connection, following next_cursor, and prints p50/p99/max in ms.
 *
 * Bodies are generated before the clock starts so that the client's own
 * work is not in the figure.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "record.h"
#include "store.h"
#include "timefmt.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A realistic survey record (about 650 bytes, like bench/records.c's),
 * for device index i seen in run r. */
static size_t make_record(char *buf, size_t cap, uint32_t device, uint32_t run, int64_t t,
                          uint32_t asn)
{
	char ip[KZ_ADDR_STRLEN], fid[KZ_ID_STRLEN], oid[KZ_ID_STRLEN], runid[32],
	        ts[KZ_TIME_STRLEN];
	/* Devices live in 10.0.0.0/8-sized space of TEST-like numbering:
	 * only text, never contacted. */
	struct kz_addr a = kz_addr_from_v4(0x0a000000u + device);
	kz_addr_format(a, ip);
	snprintf(runid, sizeof runid, "bench-%u", run);
	if (kz_finding_id_survey(a, 23, "telnet", fid) || kz_observation_id_run(fid, runid, oid) ||
	    kz_time_format(t, ts))
		return 0;
	int n = snprintf(
	        buf, cap,
	        "{\"classification.identifier\":\"weak-credentials\",\"classification.taxonomy\":"
	        "\"vulnerable\",\"classification.type\":\"vulnerable-system\",\"extra.banner\":"
	        "\"\\r\\nBusyBox v1.21.1 (2016-03-02 11:23:49 CST) built-in shell\\r\\nlogin: \","
	        "\"extra.banner_b64\":\"DQpCdXN5Qm94IHYxLjIxLjEgKDIwMTYtMDMtMDIgMTE6MjM6NDkgQ1NU"
	        "KSBidWlsdC1pbiBzaGVsbA0KbG9naW46IA==\",\"extra.device\":\"busybox\","
	        "\"extra.finding_id\":\"%s\",\"extra.observation_id\":\"%s\",\"extra.password\":"
	        "\"xc3511\",\"extra.run_id\":\"%s\",\"extra.scanner_ip\":\"198.18.0.1\","
	        "\"extra.status\":\"login-possible\",\"extra.tlp\":\"AMBER\",\"extra.user\":"
	        "\"root\",\"feed.name\":\"kizuki-survey\",\"protocol.application\":\"telnet\","
	        "\"protocol.transport\":\"tcp\",\"source.asn\":%u,\"source.ip\":\"%s\","
	        "\"source.port\":23,\"time.observation\":\"%s\",\"time.source\":\"%s\","
	        "\"tlp\":\"AMBER\"}\n",
	        fid, oid, runid, asn, ip, ts, ts);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

struct body {
	char *p;
	size_t len;
	size_t n;
};

/* ---------------------------------------------------------------- ingest */

struct client {
	int id;
	const char *url, *token;
	struct body *bodies;
	size_t nbodies;
	double seconds;
	uint64_t events, posts, errors, short_acks;
	double *lat;
	size_t nlat;
	pthread_t th;
};

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	if (b->len + len < b->n) {
		memcpy(b->p + b->len, p, len);
		b->len += len;
		b->p[b->len] = '\0';
	}
	return len;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	CURL *curl = curl_easy_init();
	char auth[256], resp[4096];
	struct body rb = { resp, 0, sizeof resp };
	struct curl_slist *hdr = NULL;
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/x-ndjson");
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(curl, CURLOPT_URL, c->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rb);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
	double end = now_s() + c->seconds;
	size_t i = 0;
	while (now_s() < end && i < c->nbodies) {
		struct body *b = &c->bodies[i++];
		rb.len = 0;
		resp[0] = '\0';
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, b->p);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
		double t0 = now_s();
		CURLcode rc = curl_easy_perform(curl);
		double dt = now_s() - t0;
		long code = 0;
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		if (rc != CURLE_OK || code != 200) {
			c->errors++;
			if (c->errors <= 3)
				fprintf(stderr, "client %d: %s %ld %s\n", c->id,
				        curl_easy_strerror(rc), code, resp);
			continue;
		}
		json_error_t je;
		json_t *o = json_loads(resp, 0, &je);
		json_int_t acc = json_integer_value(json_object_get(o, "accepted"));
		json_int_t dup = json_integer_value(json_object_get(o, "duplicates"));
		json_decref(o);
		if ((size_t)(acc + dup) != b->n)
			c->short_acks++;
		c->events += (uint64_t)(acc + dup);
		c->posts++;
		if (c->nlat < c->nbodies)
			c->lat[c->nlat++] = dt;
	}
	if (i == c->nbodies)
		fprintf(stderr, "client %d: ran out of pre-generated bodies\n", c->id);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(curl);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmd_ingest(int argc, char **argv)
{
	if (argc < 8)
		return 2;
	const char *url = argv[2], *token = argv[3];
	int clients = atoi(argv[4]), batch = atoi(argv[5]), dup = atoi(argv[6]);
	double seconds = atof(argv[7]);
	bool check = argc > 8 && atoi(argv[8]);
	if (clients < 1 || batch < 1 || dup < 0 || dup > 90 || seconds <= 0)
		return 2;
	/* Enough bodies for the run at up to 200k events/s in all (a client
	 * that runs out stops early and says so). */
	size_t per_client = (size_t)(seconds * 200000.0 / clients / batch) + 2;
	if (per_client > 4000)
		per_client = 4000;
	size_t new_per_body = (size_t)batch * (size_t)(100 - dup) / 100;
	fprintf(stderr, "generating %zu bodies of %d records per client...\n", per_client, batch);
	struct client *cs = calloc((size_t)clients, sizeof *cs);
	char rec[2048];
	int64_t t0 = (int64_t)time(NULL) - 3600;
	for (int k = 0; k < clients; k++) {
		struct client *c = &cs[k];
		c->id = k;
		c->url = url;
		c->token = token;
		c->seconds = seconds;
		c->nbodies = per_client;
		c->bodies = calloc(per_client, sizeof *c->bodies);
		c->lat = calloc(per_client, sizeof *c->lat);
		uint32_t seq = 0; /* this client's n-th new record */
		for (size_t i = 0; i < per_client; i++) {
			size_t cap = (size_t)batch * 1200;
			struct body *b = &c->bodies[i];
			b->p = malloc(cap);
			for (int j = 0; j < batch; j++) {
				uint32_t s;
				/* Duplicates: records this client sent in earlier bodies. */
				if ((size_t)j >= new_per_body && seq > 0)
					s = (uint32_t)(((uint64_t)seq * 2654435761u +
					                (uint64_t)j * 40503u) %
					               seq);
				else
					s = seq++;
				/* Each client surveys a pool of 50,000 devices round
				 * after round: the first round creates findings, later
				 * ones are new observations of known findings, and one
				 * body never holds two observations of one finding. */
				uint32_t device = (uint32_t)k * 4000000u + s % 50000u;
				uint32_t round = s / 50000u;
				size_t n = make_record(rec, sizeof rec, device, round,
				                       t0 + round * 60, 64512u + device % 16);
				if (b->len + n > cap)
					break;
				memcpy(b->p + b->len, rec, n);
				b->len += n;
				b->n++;
			}
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fprintf(stderr, "running %d clients for %.0f s...\n", clients, seconds);
	struct timespec c0, c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	double start = now_s();
	for (int k = 0; k < clients; k++)
		pthread_create(&cs[k].th, NULL, client_main, &cs[k]);
	uint64_t events = 0, posts = 0, errors = 0, shorts = 0;
	size_t nlat = 0;
	for (int k = 0; k < clients; k++) {
		pthread_join(cs[k].th, NULL);
		events += cs[k].events;
		posts += cs[k].posts;
		errors += cs[k].errors;
		shorts += cs[k].short_acks;
		nlat += cs[k].nlat;
	}
	double el = now_s() - start;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double ccpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	double *all = calloc(nlat + 1, sizeof *all);
	size_t m = 0;
	for (int k = 0; k < clients; k++)
		for (size_t i = 0; i < cs[k].nlat; i++)
			all[m++] = cs[k].lat[i];
	qsort(all, m, sizeof *all, cmp_double);
	printf("ingest: %d clients, %d events per POST, %d %% duplicates, %.1f s\n", clients, batch,
	       dup, el);
	printf("ingest: %llu events acknowledged after commit: %.0f events/s, %.1f POSTs/s\n",
	       (unsigned long long)events, (double)events / el, (double)posts / el);
	if (m)
		printf("ingest: POST latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		       all[m / 2] * 1e3, all[(size_t)((double)(m - 1) * 0.99)] * 1e3,
		       all[m - 1] * 1e3);
	printf("ingest: errors %llu, short acknowledgements %llu\n", (unsigned long long)errors,
	       (unsigned long long)shorts);
	printf("ingest: client CPU %.2f us per event\n",
	       events ? ccpu / (double)events * 1e6 : 0.0);
	free(all);
	for (int k = 0; k < clients; k++) {
		for (size_t i = 0; i < cs[k].nbodies; i++)
			free(cs[k].bodies[i].p);
		free(cs[k].bodies);
		free(cs[k].lat);
	}
	free(cs);
	curl_global_cleanup();
	return check && (errors || shorts) ? 1 : 0;
}

/* ------------------------------------------------------------------ fill */

static int cmd_fill(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	const char *path = argv[2];
	long total = atol(argv[3]), ops = atol(argv[4]);
	struct kz_store *s;
	struct kz_ingest *ing;
	char err[512];
	if (total < 1 || ops < 1 ||
	    kz_store_open(path, KZ_STORE_CREATE | KZ_STORE_NOMUTEX, &s, err, sizeof err) ||
	    kz_ingest_open(s, NULL, &ing, err, sizeof err)) {
		fprintf(stderr, "fill: %s\n", err);
		return 1;
	}
	size_t chunk = 10000, cap = chunk * 1200;
	char *body = malloc(cap), rec[2048];
	int64_t t0 = (int64_t)time(NULL) - 86400;
	double start = now_s();
	struct kz_submitter who = { "bench", false };
	for (long done = 0; done < total;) {
		size_t len = 0;
		for (size_t j = 0; j < chunk && done < total; j++, done++) {
			uint32_t dev = (uint32_t)done;
			size_t n = make_record(rec, sizeof rec, 50000000u + dev, 0, t0,
			                       64512u + (uint32_t)(done % ops));
			memcpy(body + len, rec, n);
			len += n;
		}
		struct kz_ingest_result res;
		if (kz_ingest_events(ing, body, len, NULL, &who, &res, err, sizeof err)) {
			fprintf(stderr, "fill: %s\n", err);
			return 1;
		}
		kz_ingest_result_clear(&res);
	}
	printf("fill: %ld findings over %ld ASes in %.1f s\n", total, ops, now_s() - start);
	free(body);
	kz_ingest_close(ing);
	kz_store_close(s);
	return 0;
}

/* ----------------------------------------------------------------- local */

/* CPU seconds this thread has used. */
static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct local {
	const char *path;
	struct kz_store *s;
	struct kz_ingest *ing;
	struct body *bodies;
	struct kz_ingest_batch **b;
	size_t nb;
	int64_t now;
	double wall[2], cpu[2];
	uint64_t acc, dup, frames;
	int rc;
	atomic_bool stop;
	double ck_cpu;
	pthread_mutex_t gate; /* the hub's writer gate (hub.c) */
};

/* Phase 1 in a thread of its own (named, so that `perf report --comms`
 * tells the phases apart). */
static void *local_prepare(void *arg)
{
	struct local *l = arg;
	struct kz_submitter who = { "bench", false };
	pthread_setname_np(pthread_self(), "phase1");
	double w = now_s(), c = thread_cpu();
	for (size_t i = 0; i < l->nb; i++)
		if (kz_ingest_prepare(l->bodies[i].p, l->bodies[i].len, NULL, &who, l->now, NULL,
		                      &l->b[i]))
			l->rc = 1;
	l->wall[0] = now_s() - w;
	l->cpu[0] = thread_cpu() - c;
	return NULL;
}

/* Counts the WAL frames (pages) each commit writes. */
static int wal_count(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	static int last;
	struct local *l = arg;
	/* frames is the log's size after the commit; it restarts after a
	 * checkpoint reset it. */
	l->frames += (uint64_t)(frames > last ? frames - last : frames);
	last = frames;
	return SQLITE_OK;
}

/* Phase 2: one transaction per body, as a writer with one POST waiting. */
static void *local_store(void *arg)
{
	struct local *l = arg;
	char err[512];
	pthread_setname_np(pthread_self(), "phase2");
	sqlite3_wal_hook(kz_store_db(l->s), wal_count, l);
	double w = now_s(), c = thread_cpu();
	for (size_t i = 0; i < l->nb && !l->rc; i++) {
		pthread_mutex_lock(&l->gate);
		if (kz_store_begin(l->s, err, sizeof err) ||
		    kz_ingest_store(l->ing, l->b[i], l->now, err, sizeof err) ||
		    kz_store_commit(l->s, err, sizeof err)) {
			pthread_mutex_unlock(&l->gate);
			fprintf(stderr, "local: %s\n", err);
			l->rc = 1;
			break;
		}
		pthread_mutex_unlock(&l->gate);
		kz_ingest_committed(l->ing); /* as the hub's writer does */
		l->acc += kz_ingest_batch_result(l->b[i])->accepted;
		l->dup += kz_ingest_batch_result(l->b[i])->duplicates;
	}
	l->wall[1] = now_s() - w;
	l->cpu[1] = thread_cpu() - c;
	return NULL;
}

/* The hub's checkpointer (hub.c): a PASSIVE checkpoint every 500 ms on a
 * connection of its own, and a second pass with the writer held when the
 * log is past 16384 frames, so that it restarts. */
static void *local_checkpoint(void *arg)
{
	struct local *l = arg;
	sqlite3 *db = NULL;
	pthread_setname_np(pthread_self(), "checkpoint");
	if (sqlite3_open_v2(l->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 100);
	sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	double c = thread_cpu();
	while (!atomic_load(&l->stop)) {
		struct timespec ts = { 0, 500000000 };
		nanosleep(&ts, NULL);
		int log = 0, done = 0;
		int rc =
		        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		if (rc == SQLITE_OK && log > 16384) {
			pthread_mutex_lock(&l->gate);
			rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
			                               &done);
			pthread_mutex_unlock(&l->gate);
		}
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			fprintf(stderr, "checkpoint: %s\n", sqlite3_errmsg(db));
	}
	l->ck_cpu = thread_cpu() - c;
	sqlite3_close(db);
	return NULL;
}

/* Where the time goes, without HTTP: parse+validate+attribute (phase 1)
 * and store (phase 2) of the same bodies, timed apart, each in one thread,
 * with the hub's checkpointer beside phase 2. Prints wall-clock rates and
 * CPU microseconds per record (the steadier figure on a shared machine). */
static int cmd_local(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	struct local l = { .path = argv[2], .gate = PTHREAD_MUTEX_INITIALIZER };
	long total = atol(argv[3]);
	size_t batch = 1000, cap = batch * 1200;
	char err[512], rec[2048];
	l.nb = (size_t)(total / 1000) + 1;
	if (kz_store_open(l.path, KZ_STORE_CREATE | KZ_STORE_NOMUTEX, &l.s, err, sizeof err) ||
	    kz_ingest_open(l.s, NULL, &l.ing, err, sizeof err)) {
		fprintf(stderr, "local: %s\n", err);
		return 1;
	}
	l.bodies = calloc(l.nb, sizeof *l.bodies);
	l.b = calloc(l.nb, sizeof *l.b);
	int64_t t0 = (int64_t)time(NULL) - 3600;
	l.now = t0 + 3600;
	uint32_t seq = 0;
	for (size_t i = 0; i < l.nb; i++) {
		l.bodies[i].p = malloc(cap);
		for (size_t j = 0; j < batch; j++) {
			uint32_t sq =
			        j >= 700 && seq ? (uint32_t)((seq * 2654435761u + j) % seq) : seq++;
			size_t n = make_record(rec, sizeof rec, sq % 50000u, sq / 50000u,
			                       t0 + (sq / 50000u) * 60, 64512u + sq % 16);
			memcpy(l.bodies[i].p + l.bodies[i].len, rec, n);
			l.bodies[i].len += n;
		}
	}
	/* As in the hub: checkpoints are not the writer's. */
	if (kz_store_exec(l.s, "PRAGMA wal_autocheckpoint = 0", err, sizeof err))
		return 1;
	pthread_t th, ck;
	pthread_create(&th, NULL, local_prepare, &l);
	pthread_join(th, NULL);
	pthread_create(&ck, NULL, local_checkpoint, &l);
	pthread_create(&th, NULL, local_store, &l);
	pthread_join(th, NULL);
	atomic_store(&l.stop, true);
	pthread_join(ck, NULL);
	if (l.rc)
		return 1;
	double n = (double)(l.nb * batch);
	printf("local: %.0f records (%llu accepted, %llu duplicates)\n", n,
	       (unsigned long long)l.acc, (unsigned long long)l.dup);
	printf("local: phase 1 (frame, parse, validate, attribute): %.0f records/s, %.2f us CPU "
	       "per "
	       "record\n",
	       n / l.wall[0], l.cpu[0] / n * 1e6);
	printf("local: phase 2 (store, one transaction per 1000):   %.0f records/s, %.2f us CPU "
	       "per "
	       "record\n",
	       n / l.wall[1], l.cpu[1] / n * 1e6);
	printf("local: WAL pages written per record %.2f; checkpointer %.2f us CPU per record\n",
	       (double)l.frames / n, l.ck_cpu / n * 1e6);
	for (size_t i = 0; i < l.nb; i++) {
		kz_ingest_batch_free(l.b[i]);
		free(l.bodies[i].p);
	}
	free(l.b);
	free(l.bodies);
	kz_ingest_close(l.ing);
	kz_store_close(l.s);
	return 0;
}

/* ----------------------------------------------------------------- query */

static int cmd_query(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	const char *base = argv[2], *token = argv[3];
	long n = atol(argv[4]);
	const char *query = argc > 5 ? argv[5] : "limit=100";
	CURL *curl = curl_easy_init();
	char auth[256], url[4096];
	struct body rb = { malloc(4 << 20), 0, 4 << 20 };
	struct curl_slist *hdr = NULL;
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	hdr = curl_slist_append(hdr, auth);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rb);
	double *lat = calloc((size_t)n, sizeof *lat);
	char cursor[64] = "";
	long rows = 0, errors = 0;
	for (long i = 0; i < n; i++) {
		snprintf(url, sizeof url, "%s/api/v1/findings?%s%s%s", base, query,
		         cursor[0] ? "&cursor=" : "", cursor);
		curl_easy_setopt(curl, CURLOPT_URL, url);
		rb.len = 0;
		double t0 = now_s();
		CURLcode rc = curl_easy_perform(curl);
		lat[i] = now_s() - t0;
		long code = 0;
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		if (rc != CURLE_OK || code != 200) {
			errors++;
			continue;
		}
		json_error_t je;
		json_t *o = json_loadb(rb.p, rb.len, 0, &je);
		rows += (long)json_array_size(json_object_get(o, "findings"));
		const char *next = json_string_value(json_object_get(o, "next_cursor"));
		snprintf(cursor, sizeof cursor, "%s", next ? next : "");
		json_decref(o);
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	printf("query: %ld pages of /api/v1/findings?%s, %ld rows, %ld errors\n", n, query, rows,
	       errors);
	printf("query: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", lat[n / 2] * 1e3,
	       lat[(size_t)((double)(n - 1) * 0.99)] * 1e3, lat[n - 1] * 1e3);
	free(lat);
	free(rb.p);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(curl);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	int rc = 2;
	/* As kz_hub_start does (hub.c): no allocation statistics, no mutex
	 * around every SQLite allocation. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (argc > 1 && strcmp(argv[1], "ingest") == 0)
		rc = cmd_ingest(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "fill") == 0)
		rc = cmd_fill(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "query") == 0)
		rc = cmd_query(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "local") == 0)
		rc = cmd_local(argc, argv);
	if (rc == 2)
		fprintf(stderr,
		        "usage: kizuki-bench-hub ingest URL TOKEN CLIENTS BATCH DUP SECONDS "
		        "[CHECK]\n       kizuki-bench-hub fill DB FINDINGS OPERATORS\n"
		        "       kizuki-bench-hub query URL TOKEN REQUESTS [QUERY]\n");
	return rc;
}
