/*
 * The Traffic Light Protocol, version 2.0 (FIRST), as records, tokens and
 * shared feeds use it. The enum is ordered from least to most restrictive,
 * so "most restrictive of two" is the larger value. IntelMQ still speaks TLP
 * 1.0 (WHITE, GREEN, AMBER, RED); the mapping to it is never looser than the
 * label it comes from: CLEAR -> WHITE, AMBER+STRICT -> RED.
 */
#ifndef KZ_TLP_H
#define KZ_TLP_H

enum kz_tlp {
	KZ_TLP_UNSET = 0, /* "no label given": callers substitute a default */
	KZ_TLP_CLEAR,
	KZ_TLP_GREEN,
	KZ_TLP_AMBER,
	KZ_TLP_AMBER_STRICT,
	KZ_TLP_RED,
};

/* The TLP 2.0 label without prefix: "CLEAR", "GREEN", "AMBER", "AMBER+STRICT",
 * "RED"; "" for KZ_TLP_UNSET or a value outside the enum. */
const char *kz_tlp_name(enum kz_tlp t);

/* IntelMQ's value for the label: "WHITE", "GREEN", "AMBER", "RED" ("RED" for
 * AMBER+STRICT, the nearest value that is not looser); "" when unset. */
const char *kz_tlp_intelmq(enum kz_tlp t);

/* The STIX 2.1 TLP 2.0 marking-definition id ("marking-definition--..."),
 * from the OASIS TLP 2.0 extension; "" when unset. */
const char *kz_tlp_stix_marking(enum kz_tlp t);

/* Parses a label as people and tools write it: case-insensitive, with or
 * without a "TLP:" prefix, TLP 2.0 names, and TLP 1.0's WHITE (= CLEAR).
 * Returns 0, or -EINVAL for anything else (including the empty string). */
int kz_tlp_parse(const char *s, enum kz_tlp *out) __attribute__((warn_unused_result));

/* Parses IntelMQ's `tlp` field exactly: "WHITE", "GREEN", "AMBER" or "RED",
 * uppercase, no prefix (what its harmonisation accepts). -EINVAL otherwise. */
int kz_tlp_parse_intelmq(const char *s, enum kz_tlp *out) __attribute__((warn_unused_result));

/* Parses `extra.tlp` exactly: a canonical TLP 2.0 name as kz_tlp_name writes
 * it. -EINVAL otherwise. */
int kz_tlp_parse_canonical(const char *s, enum kz_tlp *out) __attribute__((warn_unused_result));

/* The more restrictive of two labels (an unset one counts as the loosest). */
enum kz_tlp kz_tlp_most_restrictive(enum kz_tlp a, enum kz_tlp b);

#endif
