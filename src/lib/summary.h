/*
 * The hub's summary for dashboards (GET /api/v1/summary): how many findings
 * there are by kind and state, by country and by AS, and which time range
 * the interval statistics cover, so that a dashboard can show exact totals
 * and anchor its graphs without paging through every finding.
 *
 * Access is applied in SQL like the findings pages: an operator's summary
 * counts only findings attributed to its own ASes.
 */
#ifndef KZ_SUMMARY_H
#define KZ_SUMMARY_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest AS list a summary may be restricted to. */
#define KZ_SUMMARY_MAX_ASNS 1000

/* What to count. asns is borrowed. */
struct kz_summary_query {
	bool findings;        /* false: the stats range only ("findings": null) */
	const uint32_t *asns; /* with nasns > 0: only findings of these ASes */
	size_t nasns;         /* 0: every finding */
};

/* Builds {"stats":{"5m":{"first":T,"end":T}|null,"1h":...,"1d":...},
 * "findings":{...}|null}; docs/dashboard.md has the shape. Returns 0, -EINVAL for too many ASes, or
 * a store error (with a reason in err). */
int kz_summary(sqlite3 *db, const struct kz_summary_query *q, json_t **out, char *err,
               size_t errlen) __attribute__((warn_unused_result));

#endif
