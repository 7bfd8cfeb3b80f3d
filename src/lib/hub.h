/*
 * The hub daemon (CONTRACT.md "kizuki hub", docs/hub.md): the HTTP API v1
 * on libmicrohttpd, one SQLite writer thread fed through a queue, the
 * enrichment and token tables with reload, sessions, metrics, and the
 * periodic lifecycle work (telescope findings going inactive, retention,
 * WAL checkpoints).
 *
 * Threads: libmicrohttpd's pool parses requests (JSON Lines are parsed,
 * validated and attributed there, in parallel); writes go to the writer as
 * jobs, and the request's connection is suspended until its job commits,
 * so a reply means "stored". The writer takes every job waiting when it
 * wakes and commits them in one transaction (group commit), each in its own
 * savepoint so that one failing job does not take the others with it.
 * Reads (finding pages, stats) use a small pool of read-only connections,
 * which WAL lets run beside the writer.
 */
#ifndef KZ_HUB_H
#define KZ_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kz_hub;

/* Retention, per table (CONTRACT.md "Safety rules"); 0 keeps forever. */
struct kz_hub_retention {
	int64_t observations_days; /* records as received (default 400) */
	size_t sightings;          /* per finding (default 100) */
	int64_t stats_5m_days;     /* 5-minute rollups (default 14) */
	int64_t stats_1h_days;     /* 1-hour rollups (default 400) */
	int64_t stats_1d_days;     /* 1-day rollups (default 0: forever) */
	int64_t stats_raw_days;    /* interval lines kept for idempotency (default 14) */
	int64_t audit_days;        /* feedback log and transitions (default 0: forever) */
};

/* Fills r with the documented defaults. */
void kz_hub_retention_defaults(struct kz_hub_retention *r);

/* Parses "observations=400,sightings=100,stats-5m=14,..." into r (keys as
 * docs/hub.md lists them; values are days, sightings a count). Returns 0 or
 * -EINVAL with a reason in *why. */
int kz_hub_retention_parse(const char *spec, struct kz_hub_retention *r, const char **why)
        __attribute__((warn_unused_result));

struct kz_hub_config {
	const char *db_path;
	const char *listen; /* "ADDR:PORT", "[v6]:PORT"; NULL: 127.0.0.1:8470; port 0 picks one */
	const char *pfx2as, *operators, *mmdb, *tokens; /* NULL: none */
	const char *web_dir;                            /* static dashboard files, or NULL */
	int64_t inactive_after;                         /* 0: 7 days */
	size_t max_body;                                /* bytes of one POST body; 0: 64 MiB */
	unsigned threads;                               /* HTTP threads; 0: 4 */
	struct kz_hub_retention retention;
	/* Reports and sharing (docs/reports.md). */
	const char *partner_keys; /* partner<TAB>key-id<TAB>hex-key, mode 0600; NULL: none */
	const char *outbox;       /* notification directory; NULL: none */
	const char *smtp_url;     /* smtp:// or smtps:// URL; NULL: no mail */
	const char *reporter;     /* "Name <addr@domain>"; NULL: a placeholder */
	int64_t report_period;    /* seconds between notifications; 0: one day */
	bool redact_passwords;    /* leave passwords out of operators' reports */
};

/* Opens the store (creating and migrating it), loads the tables, starts
 * the writer and the HTTP server. Everything that can be wrong with the
 * configuration fails here, with a one-line reason in err. */
int kz_hub_start(const struct kz_hub_config *cfg, struct kz_hub **out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* The port the API listens on (useful with port 0). */
uint16_t kz_hub_port(const struct kz_hub *h);

/* Reloads pfx2as, operators, mmdb and tokens from their paths without
 * stopping: a table that fails to load is kept as it was, and the failure
 * logged. Returns the number of tables that failed (0 when all loaded). */
unsigned kz_hub_reload(struct kz_hub *h);

/* Stops accepting, finishes the jobs already queued, stops the threads and
 * closes the store. */
void kz_hub_stop(struct kz_hub *h);

/* For the report delivery (issue 6's second part) running in the daemon:
 * counts one report delivered through channel in /metrics. */
void kz_hub_report_delivered(struct kz_hub *h, const char *channel);

#endif
