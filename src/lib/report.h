/*
 * Per-operator reports (CONTRACT.md "Reports and sharing", docs/reports.md):
 * one operator's (one AS's) findings from the hub's store, as
 *   CSV   Shadowserver-style columns plus first_seen, last_seen, count,
 *         state, ticket (RFC 4180);
 *   JSON  the same fields plus identification, credentials and sightings;
 *   X-ARF a JSON array of X-ARF v4 reports, one per finding.
 * A report holds only findings attributed to its AS: the rows come from one
 * index range of hub_finding_asns, so no other operator's finding can enter.
 * Passwords appear only here (JSON and X-ARF), and can be redacted.
 *
 * Reports are streamed to a FILE* row by row (frow.h: one statement, no
 * query per row); nothing is held in memory but the ids of the findings
 * written, which the caller needs to mark them notified.
 */
#ifndef KZ_REPORT_H
#define KZ_REPORT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "frow.h"
#include "record.h"

enum kz_report_format {
	KZ_REPORT_CSV,
	KZ_REPORT_JSON,
	KZ_REPORT_XARF,
	KZ_REPORT_FORMAT_COUNT,
};

/* "csv", "json", "xarf". */
const char *kz_report_format_name(enum kz_report_format f);
/* The file name ending: ".csv", ".json", ".xarf.json". */
const char *kz_report_format_ext(enum kz_report_format f);
/* The media type: "text/csv; charset=utf-8", "application/json". */
const char *kz_report_format_mime(enum kz_report_format f);
/* Parses "csv", "json" or "xarf". Returns 0 or -EINVAL. */
int kz_report_format_parse(const char *s, enum kz_report_format *out)
        __attribute__((warn_unused_result));

/* Who writes the reports: X-ARF's reporter and sender, the STIX identity,
 * the MISP organisation, the From of report mail. */
#define KZ_ORG_TEXT_MAX 256
struct kz_org {
	char name[KZ_ORG_TEXT_MAX];
	char contact[KZ_ORG_TEXT_MAX]; /* an e-mail address */
	char domain[KZ_ORG_TEXT_MAX];  /* the address's domain */
};

/* The placeholder used when no --reporter is given:
 * "kizuki hub <abuse@kizuki.invalid>" (RFC 2606's .invalid says plainly that
 * it was never set). */
void kz_org_default(struct kz_org *o);

/* Parses "Name <user@domain>" (or a bare "user@domain", which names the
 * organisation after its domain). Returns 0, or -EINVAL with *why set. */
int kz_org_parse(const char *spec, struct kz_org *o, const char **why)
        __attribute__((warn_unused_result));

/* An operator as the store's copy of the operators file has it. */
struct kz_report_operator {
	uint32_t asn;
	char name[KZ_ORG_TEXT_MAX];
	char contact[KZ_ORG_TEXT_MAX];
	int64_t renotify_sec; /* -1 when the file gave none */
};

/* Loads the operator of asn from hub_operators. Returns 0, -ENOENT when the
 * AS has no line there (o then holds just the AS), or a store error. */
int kz_report_operator_load(sqlite3 *db, uint32_t asn, struct kz_report_operator *o, char *err,
                            size_t errlen) __attribute__((warn_unused_result));

/* The ids of the findings a report held (to mark them notified). Grows in
 * chunks up to KZ_IDLIST_MAX ids; the caller frees with kz_idlist_clear. */
#define KZ_IDLIST_MAX (64u << 20)
struct kz_idlist {
	char (*ids)[KZ_ID_STRLEN];
	size_t n, cap;
};

int kz_idlist_add(struct kz_idlist *l, const char *id) __attribute__((warn_unused_result));
void kz_idlist_clear(struct kz_idlist *l);

/* What one report holds. Strings and the anonymous names are borrowed. */
struct kz_report_opts {
	uint32_t asn;
	enum kz_report_format format;
	int64_t since; /* last_seen >= since; INT64_MIN: every finding */
	int64_t now;   /* when the report is made (seconds since the epoch) */
	bool redact_passwords;
	/* Notification batches: only findings due (frow.h) and notifiable. */
	bool due_only;
	int64_t renotify_before;
	const struct kz_org *org;                       /* NULL: kz_org_default */
	const struct kz_report_operator *operator_info; /* may be NULL */
	const struct kz_anon_names *anon;               /* may be NULL */
};

/* Writes the report to out. *count (may be NULL) receives the number of
 * findings written; ids (may be NULL) collects their ids. Returns 0, or a
 * negative errno with err set: a store error, -EIO when out failed, -ENOMEM.
 * On error out holds a partial report. */
int kz_report_write(sqlite3 *db, const struct kz_report_opts *o, FILE *out, struct kz_idlist *ids,
                    size_t *count, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Where kz_report_write_all puts each operator's report. */
struct kz_report_sink {
	/* The stream for asn's report, or NULL to leave the AS out. Called
	 * once per AS, at its first finding. It may point *op at the
	 * operator (for the JSON header) and, for due_only, set the AS's own
	 * *renotify_before (preset to the options' one). */
	FILE *(*open)(void *arg, uint32_t asn, const struct kz_report_operator **op,
	              int64_t *renotify_before);
	/* Once per finding written (may be NULL): for marking it notified.
	 * Returns 0 or a negative errno, which stops the pass. */
	int (*row)(void *arg, uint32_t asn, const char *finding_id);
	/* Once per stream opened, after the pass, with the report complete
	 * (ok) or not (the pass failed: drop it). Returns 0 or a negative
	 * errno. */
	int (*close)(void *arg, uint32_t asn, FILE *out, size_t count, bool ok);
	void *arg;
};

/* Every operator's report in one pass over every finding, in the order
 * the store holds them: for writing all reports at once (the benchmark,
 * `kizuki report --asn all`), where reading the findings in order is much
 * faster than an index range per operator. o->asn is ignored. With
 * due_only, each AS's rule uses the renotify_before its sink gives.
 * *findings counts findings written (a multi-AS finding once per AS).
 * Returns 0 or a negative errno with err set. */
int kz_report_write_all(sqlite3 *db, const struct kz_report_opts *o,
                        const struct kz_report_sink *sink, size_t *findings, char *err,
                        size_t errlen) __attribute__((warn_unused_result));

/* True when a finding is due for notification: notifiable (frow.h), and
 * new, reopened, never reported, or last reported at or before
 * renotify_before. */
bool kz_frow_due(const struct kz_frow *f, int64_t renotify_before);

/* The CSV columns, in order (CONTRACT.md). */
extern const char *const kz_report_csv_columns[20];

#endif
