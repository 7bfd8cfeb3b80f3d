/*
 * The hub's /metrics in the Prometheus text format (version 0.0.4):
 * counters and gauges the daemon updates from any thread, rendered on
 * scrape with the figures only the store knows (findings by state, the
 * database's size) passed in.
 *
 *   kizuki_hub_events_total{feed,result}      accepted, duplicate, rejected
 *   kizuki_hub_ingest_seconds                 histogram: body received -> committed
 *   kizuki_hub_findings{state}                gauge
 *   kizuki_hub_reports_delivered_total{channel}
 *   kizuki_hub_spool_bytes{sensor}            gauge, as the sensor last reported
 *   kizuki_hub_spool_dropped_total{sensor}    as the sensor last reported
 *   kizuki_hub_http_requests_total{code}
 *   kizuki_hub_db_bytes                       gauge: database + WAL
 *   kizuki_hub_reloads_total{result}          ok, failed
 *
 * Label sets are bounded (KZ_METRICS_LABELS_MAX values per family; past it
 * values fold into "other"), so a client inventing feed names cannot grow
 * the hub's memory or the scrape without limit.
 */
#ifndef KZ_METRICS_H
#define KZ_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "lifecycle.h"

#define KZ_METRICS_LABELS_MAX 256

struct kz_metrics;

int kz_metrics_new(struct kz_metrics **out) __attribute__((warn_unused_result));
void kz_metrics_free(struct kz_metrics *m);

/* Counts one POST's (or one feed's part of it) outcome. */
void kz_metrics_events(struct kz_metrics *m, const char *feed, uint64_t accepted,
                       uint64_t duplicates, uint64_t rejected);
void kz_metrics_ingest_latency(struct kz_metrics *m, double seconds);
void kz_metrics_http(struct kz_metrics *m, unsigned code);
/* For the report delivery: one report delivered through channel ("pull",
 * "outbox", "smtp"). */
void kz_metrics_report_delivered(struct kz_metrics *m, const char *channel);
/* A sensor's spool as its upload reported it. */
void kz_metrics_spool(struct kz_metrics *m, const char *sensor, uint64_t bytes,
                      uint64_t dropped_total);
void kz_metrics_reload(struct kz_metrics *m, int ok);

/* Renders everything. states[] (may be NULL) are the findings per state.
 * *out is malloc'd (the caller frees). Returns 0 or -ENOMEM. */
int kz_metrics_render(struct kz_metrics *m, const uint64_t *states, uint64_t db_bytes, char **out,
                      size_t *len) __attribute__((warn_unused_result));

#endif
