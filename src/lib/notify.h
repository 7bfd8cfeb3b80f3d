/*
 * Notification (CONTRACT.md "Notified", docs/reports.md "Notification"):
 * once per period, every operator in the operators file with findings due
 * gets one batched report, written to an outbox directory and/or sent by
 * SMTP to its abuse contact. A finding is due when it is open (new,
 * notified, persisting, reopened, active), of severity low or above, and
 * was never reported, was reopened, or was last reported at least the
 * operator's renotify-sec ago. An operator with nothing due gets nothing.
 *
 * Outbox layout, one directory per period (its start, UTC):
 *     OUTBOX/20261127T000000Z/AS64496.csv, .json, .xarf.json
 *     OUTBOX/20261127T000000Z/manifest.json      (written last)
 * Every file appears atomically (afile.h). A mail is multipart/mixed: a
 * short text saying what the report is and how to answer it, and the CSV
 * attached.
 *
 * Delivered means: the operator's files are in the outbox, or the SMTP
 * server accepted the mail. Then (and only then) the report's findings are
 * marked notified through the caller's mark function: the hub passes its
 * writer thread, tests a direct transaction. The library never writes to
 * the store itself.
 */
#ifndef KZ_NOTIFY_H
#define KZ_NOTIFY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frow.h"
#include "report.h"

#define KZ_NOTIFY_PERIOD_DEFAULT   86400       /* one report per operator per day */
#define KZ_NOTIFY_RENOTIFY_DEFAULT (7 * 86400) /* when the operators file gives none */

struct kz_notify_config {
	const char *outbox;       /* a directory, or NULL */
	const char *smtp_url;     /* smtp://host[:port] or smtps://..., or NULL */
	int64_t period;           /* seconds; 0: KZ_NOTIFY_PERIOD_DEFAULT */
	int64_t renotify_default; /* 0: KZ_NOTIFY_RENOTIFY_DEFAULT */
	bool redact_passwords;
	const struct kz_org *org; /* sender; NULL: kz_org_default */
	const char *api_base;     /* "http://hub:8470", named in the mail, or NULL */
};

/* Marks the findings of one delivered report notified (through channel
 * "outbox" or "smtp", at time at). Returns 0 or a negative errno. */
typedef int kz_notify_mark_fn(void *arg, const struct kz_idlist *ids, const char *channel,
                              int64_t at, char *err, size_t errlen);

struct kz_notify_result {
	size_t operators; /* operators that had something due */
	size_t delivered; /* reports delivered (per channel) */
	size_t findings;  /* findings marked notified */
	size_t failed;    /* deliveries that failed (logged; retried next period) */
};

/* The period start (UTC, a multiple of the period) that t falls in. */
int64_t kz_notify_period_start(int64_t t, int64_t period);

/* Runs one period's notification for the period starting at period_start
 * (now is the clock for the renotify rule and the reports). A delivery
 * that fails is logged and counted; the others go on. Returns 0, or a
 * negative errno with err set when the store could not be read at all. */
int kz_notify_run(sqlite3 *db, const struct kz_notify_config *cfg, int64_t period_start,
                  int64_t now, kz_notify_mark_fn *mark, void *mark_arg,
                  struct kz_notify_result *res, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Builds the mail for one operator (headers and MIME body, CRLF line
 * ends): text part and the CSV attached. *out is malloc'd. Exposed for
 * tests. Returns 0 or -ENOMEM. */
int kz_notify_mail(const struct kz_org *from, const struct kz_report_operator *op,
                   int64_t period_start, int64_t now, size_t findings, const char *csv,
                   size_t csvlen, const char *api_base, char **out, size_t *outlen)
        __attribute__((warn_unused_result));

#endif
