/*
 * Findings in the store: the queries behind the API (a page of findings
 * with access rules applied in SQL), operators' feedback with its audit
 * log, marking findings notified when a report was delivered, and the two
 * lifecycle sweeps that no single record triggers: coverage at the end of a
 * survey run and inactivity of telescope findings.
 *
 * Every function takes the SQLite handle of a store at the latest schema
 * (kz_store_db). Writers expect the caller to hold a transaction
 * (kz_store_begin ... kz_store_commit) so that a change and its
 * transitions land together; readers need none.
 */
#ifndef KZ_FINDINGS_H
#define KZ_FINDINGS_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lifecycle.h"

#define KZ_FINDINGS_LIMIT_DEFAULT 100
#define KZ_FINDINGS_LIMIT_MAX     1000
#define KZ_CURSOR_STRLEN          40

/* A page request. Strings are borrowed. */
struct kz_findings_query {
	/* Restrict to these AS numbers (sorted, unique), or all findings when
	 * nasns is 0 and all is true. An operator's query always names its
	 * own ASNs; access checks happen before this. */
	const uint32_t *asns;
	size_t nasns;
	bool all;
	const char *kind;   /* NULL: any */
	const char *state;  /* NULL: any */
	int64_t since;      /* last_seen >= since; INT64_MIN: any */
	size_t limit;       /* 1..KZ_FINDINGS_LIMIT_MAX */
	const char *cursor; /* from the previous page, or NULL */
};

/* One page as the API returns it: {"findings":[...],"next_cursor":...}
 * (next_cursor null on the last page). Returns 0, -EINVAL for a cursor that
 * does not decode (with a reason in err), or a store error. */
int kz_findings_page(sqlite3 *db, const struct kz_findings_query *q, json_t **out, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* Cursors: an opaque base64url token holding the position after the last
 * row of a page (an AS number and a finding row id). */
void kz_cursor_encode(uint32_t asn, int64_t id, char out[KZ_CURSOR_STRLEN]);
int kz_cursor_decode(const char *s, uint32_t *asn, int64_t *id) __attribute__((warn_unused_result));

/* Operator feedback on a finding. */
enum kz_feedback { KZ_FEEDBACK_ACKNOWLEDGED, KZ_FEEDBACK_FIXED, KZ_FEEDBACK_FALSE_POSITIVE };
const char *kz_feedback_name(enum kz_feedback f);
int kz_feedback_parse(const char *s, enum kz_feedback *out) __attribute__((warn_unused_result));

/* Records feedback on finding_id by a token: sets the finding's feedback
 * columns and appends to hub_feedback. With asns (an operator's), the
 * finding must be attributed to one of them. Returns 0, -ENOENT when there
 * is no such finding, -EACCES when it is another's (the caller answers both
 * the same way to an operator), or a store error. */
int kz_findings_feedback(sqlite3 *db, const char *finding_id, enum kz_feedback fb,
                         const char *comment, const char *token_name, const char *role,
                         const uint32_t *asns, size_t nasns, int64_t now, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* For report delivery (pulled by the operator, written to the outbox,
 * accepted by the SMTP server): marks the findings notified through channel
 * at time at (last_notified, notified_channel) and moves their lifecycle
 * (new -> notified, reopened -> notified), logging transitions. Unknown ids
 * are skipped. *changed (may be NULL) counts findings whose state moved.
 * Call inside a transaction. */
int kz_findings_mark_notified(sqlite3 *db, const char *const *finding_ids, size_t n,
                              const char *channel, int64_t at, size_t *changed, char *err,
                              size_t errlen) __attribute__((warn_unused_result));

/* Coverage after survey run run_id finished: when the run (or, for a
 * sharded sweep, every shard with the same seed, scope digest and shard
 * count) is finished, every survey finding whose address is in the scope
 * and whose port the run probed, and which has not been seen since the run
 * started, was not reachable: one KZ_LC_UNREACHABLE each. Runs are marked
 * covered so that this happens once. *marked counts the findings. */
int kz_findings_apply_coverage(sqlite3 *db, const char *run_id, int64_t now, size_t *marked,
                               char *err, size_t errlen) __attribute__((warn_unused_result));

/* Telescope and other producers' findings active but not sighted since
 * now - inactive_after become inactive. *changed counts them. */
int kz_findings_expire(sqlite3 *db, int64_t now, int64_t inactive_after, size_t *changed, char *err,
                       size_t errlen) __attribute__((warn_unused_result));

/* Appends one row to hub_transitions. */
int kz_findings_log_transition(sqlite3 *db, int64_t finding, int64_t at, enum kz_fstate from,
                               enum kz_fstate to, const char *cause)
        __attribute__((warn_unused_result));

/* The number of findings per state, into counts[KZ_FSTATE_COUNT]. */
int kz_findings_count_states(sqlite3 *db, uint64_t counts[KZ_FSTATE_COUNT])
        __attribute__((warn_unused_result));

#endif
