/*
 * Enrichment: an address to its origin AS(es) and prefix (pfx2as), the AS
 * to its operator's name and abuse contact (operators file), and the
 * address to a country, region and city (a MaxMind-format mmdb, optional).
 *
 * A struct kz_enrich is an immutable snapshot of the three tables, shared
 * by reference count between the ingest threads. Reloading builds a new
 * snapshot while the old one keeps serving; a table that fails to load
 * keeps the previous snapshot's copy, so a broken file never leaves the hub
 * without attribution. Each table is itself reference-counted, so a new
 * snapshot shares the tables it did not reload.
 */
#ifndef KZ_ENRICH_H
#define KZ_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "operators.h"

struct kz_enrich;

#define KZ_ENRICH_ASNS_MAX 16 /* origin ASes kept per address (multi-origin, AS sets) */
#define KZ_ENRICH_GEO_MAX  64 /* bytes of a region or city name, with the NUL */

/* What an address gets. Strings are copies, except as_name and pfx_version,
 * which are borrowed from the snapshot (keep a reference while using them). */
struct kz_enrich_result {
	uint32_t asns[KZ_ENRICH_ASNS_MAX]; /* sorted, no repeats */
	size_t nasns;
	char network[KZ_CIDR_STRLEN]; /* the matching prefix, "" without one */
	const char *as_name;          /* the first AS's operator name, or NULL */
	const char *pfx_version;      /* the prefix table's version, or NULL */
	char cc[3];                   /* ISO 3166 alpha-2, "" when unknown */
	char region[KZ_ENRICH_GEO_MAX];
	char city[KZ_ENRICH_GEO_MAX];
};

/* Which files to (re)load; NULL leaves a table out (or, on reload, keeps
 * the previous snapshot's). */
struct kz_enrich_paths {
	const char *pfx2as;
	const char *operators;
	const char *mmdb;
};

/* Builds a snapshot. With prev (borrowed; may be NULL) a table whose path
 * is NULL, or whose file fails to load, is shared from prev; the failure is
 * logged and counted in *failed. Without prev a failure is an error:
 * returns a negative errno with "file:line: why" in err. */
int kz_enrich_load(const struct kz_enrich_paths *paths, struct kz_enrich *prev,
                   struct kz_enrich **out, unsigned *failed, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* An empty snapshot (no tables): every lookup finds nothing. */
int kz_enrich_empty(struct kz_enrich **out) __attribute__((warn_unused_result));

/* Reference counting (thread-safe). unref frees the snapshot with its last
 * reference, and each table with its last snapshot. */
struct kz_enrich *kz_enrich_ref(struct kz_enrich *e);
void kz_enrich_unref(struct kz_enrich *e);

/* Looks up one address. Never fails: what is not known stays empty. */
void kz_enrich_lookup(const struct kz_enrich *e, struct kz_addr a, struct kz_enrich_result *r);

/* The operators table, or NULL when none was loaded. Borrowed. */
const struct kz_operators *kz_enrich_operators(const struct kz_enrich *e);

/* The prefix table's version string, or NULL. Borrowed. */
const char *kz_enrich_pfx_version(const struct kz_enrich *e);

/* Formats r->asns as "64496,64497" into buf (bufsize bytes); "" for none. */
char *kz_enrich_asns_text(const struct kz_enrich_result *r, char *buf, size_t bufsize);

#endif
