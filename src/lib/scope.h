/*
 * The survey's scope, default-deny (ARCHITECTURE.md, CONTRACT.md "Files" and
 * "Safety rules"):
 *
 *   targets = scope − exclude − opt-out − deny set
 *
 * The scope, exclude and opt-out files hold one CIDR or address per line,
 * '#' comments and blank lines. An entry written in IPv6 means IPv6 addresses
 * only: "::/0" does not bring in the IPv4-mapped block where IPv4 addresses
 * live, so all of IPv4 is "0.0.0.0/0". The deny set is reserved.h's; with
 * allow_reserved, it loses a test range only where a scope entry lies inside
 * that test range (the scope names it), so "0.0.0.0/0" never re-enables
 * 127.0.0.0/8 and nothing re-enables 10.0.0.0/8.
 *
 * Every fault is logged through kz_err with file:line and why, overlapping
 * entries through kz_warn; an empty result is an error that says what removed
 * the addresses. The survey then asks kz_scope_allows before every packet.
 */
#ifndef KZ_SCOPE_H
#define KZ_SCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "ipset.h"
#include "lines.h"

/* Entries one file may hold: the same cap as a set's ranges. */
#define KZ_SCOPE_MAX_ENTRIES KZ_IPSET_MAX_RANGES

/* Messages of one kind (errors, overlaps, reserved entries) shown per file
 * before the rest are only counted. */
#define KZ_SCOPE_MAX_REPORTS 10

struct kz_scope;

/* What to load; the paths are borrowed for the call. "-" reads stdin. */
struct kz_scope_config {
	const char *scope_path;   /* required */
	const char *exclude_path; /* NULL: no exclude file */
	const char *optout_path;  /* NULL: no opt-out file */
	bool allow_reserved;      /* --allow-reserved */
};

/* What the scope came to. The removals are counted in the order they are
 * applied, so in_scope = excluded + opted_out + reserved + targets (unless
 * in_scope saturated at KZ_U128_MAX: a scope of every IPv4 and IPv6 address). */
struct kz_scope_summary {
	kz_u128 in_scope;         /* addresses the scope file names */
	kz_u128 excluded;         /* of those, named by the exclude file */
	kz_u128 opted_out;        /* of the rest, named by the opt-out file */
	kz_u128 reserved;         /* of the rest, in the deny set */
	kz_u128 allowed_reserved; /* of the rest, reserved but re-enabled by allow_reserved */
	kz_u128 targets;          /* what is left: the addresses the survey may probe */
	size_t ranges;            /* ranges in the target list */
	uint8_t digest[KZ_IPSET_DIGEST_LEN]; /* kz_ipset_digest of the targets */
};

/* Loads the files and computes the targets into *out (owned by the caller;
 * kz_scope_free). Returns 0; -EINVAL when a file has a fault or nothing is
 * left (each reason logged); -E2BIG when a file or a result exceeds the caps;
 * -ENOMEM; or the negative errno of opening or reading a file (logged with
 * its path). */
int kz_scope_load(const struct kz_scope_config *cfg, struct kz_scope **out)
        __attribute__((warn_unused_result));

/* kz_scope_load from open readers (borrowed; the scope is required, exclude
 * and optout may be NULL). kz_lines_path names each in messages. */
int kz_scope_load_lines(struct kz_lines *scope, struct kz_lines *exclude, struct kz_lines *optout,
                        bool allow_reserved, struct kz_scope **out)
        __attribute__((warn_unused_result));

/* Reads one list (a scope, exclude or opt-out file) into a new set *out,
 * merging overlapping entries with a warning. Returns as kz_scope_load,
 * except that an empty list is not an error. */
int kz_scope_read_list(struct kz_lines *lr, struct kz_ipset **out)
        __attribute__((warn_unused_result));

/* True when the survey may send to the address. The single check made before
 * every packet and every connection: O(log ranges), no allocation, no lock. */
bool kz_scope_allows(const struct kz_scope *s, struct kz_addr a);

/* The target list, borrowed from s (for kz_ipset_nth and kz_ipset_size). */
const struct kz_ipset *kz_scope_targets(const struct kz_scope *s);

/* The counts and digest, borrowed from s. */
const struct kz_scope_summary *kz_scope_summary(const struct kz_scope *s);

/* Writes the one-line summary the survey prints into buf (len bytes, cut if
 * short) and returns buf. */
char *kz_scope_summary_format(const struct kz_scope_summary *sum, char *buf, size_t len);

void kz_scope_free(struct kz_scope *s);

#endif
