/*
 * STIX 2.1 bundles of the hub's findings for partners (docs/reports.md
 * "STIX 2.1"), cut to a TLP ceiling and, with a partner key, pseudonymised.
 *
 * With real addresses, each finding becomes an address object (ipv4-addr or
 * ipv6-addr), an indicator ([ipv4-addr:value = '...'], pattern_type stix,
 * valid_from / valid_until), observed-data (first/last observed, number
 * observed, the address) and a sighting of the indicator (count, first/last
 * seen, where: the hub's identity). With a partner key there are no
 * indicators and no address objects at all: the observed-data refers to the
 * finding's autonomous-system, the sighting to an object naming what was
 * seen (malware family, tool, vulnerability class, attack pattern), and both
 * carry the pseudonym and the key id in a property extension whose
 * extension-definition is in the bundle.
 *
 * Every object carries a TLP 2.0 marking (the official OASIS marking
 * definitions, included in the bundle); ids are UUIDv5: SCOs in STIX's own
 * namespace over their id-contributing properties, everything else in
 * kizuki's namespace over a name built from the finding id (uuid.h), so a
 * finding keeps its ids across runs and hubs. Timestamps have milliseconds.
 */
#ifndef KZ_STIX_H
#define KZ_STIX_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>

#include "share.h"

/* How long after its last sighting an indicator stays valid. */
#define KZ_STIX_VALID_FOR (7 * 86400)

/* The extension-definition that carries pseudonyms (kizuki's own): UUIDv5 in
 * kizuki's namespace of "extension-definition|pseudonym|1". */
#define KZ_STIX_PSEUDONYM_EXT "extension-definition--2def2d0e-f847-5d2f-97db-45b58ae7197b"

/* Writes one bundle to out. *count (may be NULL) receives the number of
 * findings in it. Returns 0, or a negative errno with err set. */
int kz_stix_write(sqlite3 *db, const struct kz_feed_opts *o, FILE *out, size_t *count, char *err,
                  size_t errlen) __attribute__((warn_unused_result));

#endif
