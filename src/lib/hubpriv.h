/*
 * What hub.c (the daemon: writer, tables, maintenance) and api.c (the HTTP
 * routes) share. Not part of libkizuki's interface.
 */
#ifndef KZ_HUBPRIV_H
#define KZ_HUBPRIV_H

#include <microhttpd.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "enrich.h"
#include "findings.h"
#include "hub.h"
#include "hubshare.h"
#include "ingest.h"
#include "metrics.h"
#include "session.h"
#include "statsroll.h"
#include "store.h"
#include "tokens.h"

/* The tables a request uses, held by reference for the request's life so
 * that a reload never frees them under it. */
struct hub_tokens {
	atomic_uint refs;
	struct kz_tokens *t;
};

struct hub_snap {
	atomic_uint refs;
	struct kz_enrich *enrich;
	struct hub_tokens *tokens; /* NULL: no tokens file, every token is wrong */
};

/* The snapshot's tokens table, or NULL. */
static inline const struct kz_tokens *hub_snap_tokens(const struct hub_snap *s)
{
	return s->tokens ? s->tokens->t : NULL;
}

enum job_kind { JOB_EVENTS, JOB_STATS, JOB_FEEDBACK, JOB_NOTIFY };

/* One write for the writer thread. */
struct hub_job {
	enum job_kind kind;
	struct kz_ingest_batch *batch; /* JOB_EVENTS */
	struct kz_stats_batch *sbatch; /* JOB_STATS */
	/* JOB_FEEDBACK */
	char finding_id[40];
	enum kz_feedback feedback;
	char *comment;
	char token_name[KZ_TOKEN_NAME_MAX + 1];
	enum kz_role role;
	uint32_t *asns; /* operator's, or NULL for admin */
	size_t nasns;
	struct hub_notify *notify; /* JOB_NOTIFY (hubshare.h) */
	/* Outcome. */
	int rc;
	char err[256];
	atomic_bool done;
	double received; /* when the body was complete (monotonic seconds) */
	struct MHD_Connection *conn;
	struct hub_job *next;
};

struct kz_hub {
	struct kz_hub_config cfg;
	char *db_path, *listen, *pfx2as, *operators, *mmdb, *tokens_path, *web_dir;
	struct kz_store *store; /* the writer's connection */
	struct kz_ingest *ing;
	struct kz_ingest_config icfg;

	pthread_t writer;
	bool writer_started;
	pthread_t checkpointer;
	bool checkpointer_started;
	pthread_cond_t ckcond;
	/* Held by the writer while it writes, and by the checkpointer for the
	 * short pass that lets the log restart (hub.c checkpoint_main). */
	pthread_mutex_t wgate;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct hub_job *qhead, *qtail;
	bool stopping;
	int64_t last_expire, last_retention;

	pthread_mutex_t snap_lock;
	struct hub_snap *snap;
	pthread_mutex_t reload_lock;

	pthread_mutex_t rlock;
	pthread_cond_t rcond;
	sqlite3 **readers;
	size_t nreaders, rfree;

	struct kz_metrics *metrics;
	struct kz_sessions *sessions;
	struct MHD_Daemon *mhd;
	uint16_t port;
	struct hub_share *share; /* reports, shares, notifier (hubshare.c) */
};

struct hub_snap *hub_snap_get(struct kz_hub *h);
void hub_snap_put(struct hub_snap *s);

/* Queues a job for the writer; it resumes job->conn when done. */
void hub_submit(struct kz_hub *h, struct hub_job *job);
void hub_job_free(struct hub_job *job);

/* Borrows a read-only connection (blocks while all are in use). */
sqlite3 *hub_reader_get(struct kz_hub *h);
void hub_reader_put(struct kz_hub *h, sqlite3 *db);

double hub_monotonic(void);

/* The libmicrohttpd callbacks (api.c). */
enum MHD_Result hub_api_handler(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls);
void hub_api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                       enum MHD_RequestTerminationCode toe);

#endif
