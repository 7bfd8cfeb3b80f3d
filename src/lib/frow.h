/*
 * Findings as reports and shared feeds read them: one streamed pass over
 * hub_findings (all of them, or one AS's through hub_finding_asns), joined
 * with each finding's latest observation so that the fields only a record
 * holds (banner, device, credentials, fingerprint basis) come along in the
 * same statement. There is no query per row: a report for an operator with
 * N findings is one index range and N steps, whatever the store holds.
 *
 * Only the few fields reports use are taken from the latest record, by a
 * scanner that skips the rest (recfields.h); a record it declines is
 * parsed with jansson instead.
 *
 * Also here, because every output needs them: the severity and open/due
 * rules of docs/reports.md, and the names of anonymous submitters, which no
 * output may show.
 */
#ifndef KZ_FROW_H
#define KZ_FROW_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlp.h"

/* A string from a record: may hold U+0000, so it carries its length. s is
 * NULL when the record has no such field (or it is not a string). */
struct kz_ftext {
	const char *s;
	size_t len;
};

/* One finding. Strings are NUL-terminated (record strings also have len). */
struct kz_frow {
	int64_t id; /* hub_findings.id */
	const char *finding_id, *ticket, *kind, *feed, *taxonomy, *type, *identifier;
	const char *ip;                               /* canonical text; NULL for port surges */
	int32_t port;                                 /* -1 when unknown */
	const char *transport, *application, *status; /* NULL when absent */
	const char *asns;                             /* "64496,64497", "" for none */
	const char *network, *as_name, *cc, *region, *city;
	int64_t first_seen, last_seen, count;
	const char *state;
	int64_t state_since, updated;
	enum kz_tlp tlp;
	bool weak;                /* survey: the last login verdict was weak */
	int64_t last_notified;    /* INT64_MIN when never */
	const char *feedback;     /* NULL when none */
	int64_t feedback_at;      /* INT64_MIN when none */
	const uint8_t *sightings; /* the packed blob (sightings.h), may be NULL */
	size_t sightings_len;
	/* From the latest observation's record. */
	bool have_record;
	bool anonymous; /* that observation was an anonymous submission */
	struct kz_ftext banner, banner_b64, device, device_vendor, device_type, device_model, user,
	        password, fingerprint_basis, malware_name;
	bool banner_truncated;
};

/* What to read. */
struct kz_frows_query {
	uint32_t asn;        /* one AS's findings (hub_finding_asns); 0: every finding */
	int64_t since;       /* last_seen >= since; INT64_MIN: any */
	int64_t first_from;  /* first_seen >= first_from; INT64_MIN: any */
	int64_t first_until; /* first_seen < first_until; INT64_MAX: any */
	enum kz_tlp tlp_max; /* KZ_TLP_UNSET: any label; else at most this one */
	bool with_record;    /* join the latest observation (reports; feeds need little of it) */
	/* Notification: only open findings (docs/reports.md) that were never
	 * reported, were reopened, or were last reported at or before
	 * renotify_before. */
	bool due_only;
	int64_t renotify_before;
};

struct kz_frows;

/* Prepares the pass. Returns 0 or a negative errno with err set. */
int kz_frows_open(sqlite3 *db, const struct kz_frows_query *q, struct kz_frows **out, char *err,
                  size_t errlen) __attribute__((warn_unused_result));

/* The next finding: 1 with *row filled, 0 at the end, or a negative errno
 * with err set (a store error). */
int kz_frows_next(struct kz_frows *r, struct kz_frow *row, char *err, size_t errlen)
        __attribute__((warn_unused_result));

void kz_frows_close(struct kz_frows *r);

/* Shadowserver-style severity (docs/reports.md). */
enum kz_severity {
	KZ_SEV_INFO,
	KZ_SEV_LOW,
	KZ_SEV_MEDIUM,
	KZ_SEV_HIGH,
	KZ_SEV_CRITICAL,
};

/* "info", "low", "medium", "high", "critical". */
const char *kz_severity_name(enum kz_severity s);

/* The severity of a finding by its kind, classification and identifier. */
enum kz_severity kz_frow_severity(const struct kz_frow *f);

/* True when notification (outbox, SMTP) includes the finding: open and of
 * severity low or above. */
bool kz_frow_notifiable(const struct kz_frow *f);

/* The names (sensor, run or feed) that anonymous submissions were stored
 * under: outputs show "anonymous" instead of any of them. Loaded once per
 * report or feed through the store's partial index. */
struct kz_anon_names;

int kz_anon_names_load(sqlite3 *db, struct kz_anon_names **out, char *err, size_t errlen)
        __attribute__((warn_unused_result));
void kz_anon_names_free(struct kz_anon_names *a);

/* True when name[0..len) is the name of an anonymous submission. NULL a is
 * an empty set. */
bool kz_anon_names_has(const struct kz_anon_names *a, const char *name, size_t len);

#endif
