/*
 * The hub's reports, shares and notifier (issue 6's second half), glued to
 * the daemon of hub.c and api.c. Not part of libkizuki's interface: the
 * formats themselves are report.h, stix.h, misp.h and notify.h.
 *
 *  - GET /api/v1/reports/<asn>.csv|.json|.xarf.json (api.c checks the
 *    roles and the AS first). An operator's pull is a delivery: its
 *    findings are marked notified by the writer before the reply goes out.
 *  - GET /api/v1/share/stix and /api/v1/share/misp/... for admins (every
 *    label, real addresses) and partners (up to their TLP, pseudonymised
 *    with their key when the partner keys file has one).
 *  - A notifier thread that runs once per --report-period: outbox and
 *    SMTP, marking through the writer.
 */
#ifndef KZ_HUBSHARE_H
#define KZ_HUBSHARE_H

#include <microhttpd.h>
#include <stdint.h>

#include "report.h"

struct kz_hub;
struct kz_token;
struct hub_job;
struct hub_share;

/* A JOB_NOTIFY for the writer: mark ids notified through channel; for an
 * API pull, also the body to answer with once that committed. */
struct hub_notify {
	struct kz_idlist ids;
	char channel[16];
	int64_t at;
	int64_t meta_period; /* > 0: also record the notifier's last period */
	char *body;          /* the report to send (API pulls), malloc'd */
	size_t body_len;
	const char *mime;
};

/* Loads the partner keys, parses --reporter and starts the notifier (when
 * --outbox or --smtp-url is set). Called by kz_hub_start once the writer
 * and the readers are up. Returns 0 or a negative errno with err set. */
int hub_share_start(struct kz_hub *h, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Stops the notifier (before the writer stops) and frees the state. */
void hub_share_stop(struct kz_hub *h);

/* Reloads the partner keys file (SIGHUP). Returns 0, or 1 when it failed
 * to load and the previous keys are kept. */
unsigned hub_share_reload(struct kz_hub *h);

/* GET /api/v1/reports/<asn><ext>: the roles and the AS are checked. May
 * suspend the connection and set *job (an operator's pull). */
enum MHD_Result hub_share_report(struct kz_hub *h, struct MHD_Connection *c,
                                 const struct kz_token *tok, uint32_t asn, const char *ext,
                                 struct hub_job **job);

/* GET /api/v1/share/<rest>: the roles are checked (admin or partner). */
enum MHD_Result hub_share_feed(struct kz_hub *h, struct MHD_Connection *c,
                               const struct kz_token *tok, const char *rest);

/* Answers a pull whose JOB_NOTIFY the writer finished. */
enum MHD_Result hub_share_finish(struct kz_hub *h, struct MHD_Connection *c, struct hub_job *job);

/* The writer's part of a JOB_NOTIFY (inside its transaction). */
int hub_share_run_job(struct kz_hub *h, struct hub_notify *n, int64_t now, char *err, size_t errlen)
        __attribute__((warn_unused_result));

void hub_notify_free(struct hub_notify *n);

#endif
