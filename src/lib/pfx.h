/*
 * The prefix-to-origin table: longest-prefix match from an address to the
 * origin AS(es) that announce it, loaded from a CAIDA RouteViews pfx2as file
 * (docs/pfx2as.md).
 *
 * A table is immutable once kz_pfx_load() returns it. Any number of threads
 * may look up in one table at the same time without a lock. To change the
 * table, load the new file into a new table while readers keep using the old
 * one, publish the new pointer (an atomic store with release order), and free
 * the old table only when no reader can still hold it (after every reader has
 * passed a quiescent point, or with a reference count): the table itself does
 * nothing to help with that, and needs nothing.
 *
 * Prefixes are numbered: an entry index is 1..kz_pfx_stats.prefixes, IPv4
 * entries first (in address order), then IPv6; 0 (KZ_PFX_NONE) means that no
 * prefix covers the address. Origins are numbered 0..origins-1; prefixes
 * whose AS field has the same text share one origin.
 */
#ifndef KZ_PFX_H
#define KZ_PFX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct kz_pfx;

#define KZ_PFX_NONE 0u

/* Hard caps: larger inputs are refused with an error, never half-loaded. */
#define KZ_PFX_FILE_MAX     (256u << 20) /* bytes of the file, and of it decompressed */
#define KZ_PFX_LINE_MAX     65536u       /* bytes in one line */
#define KZ_PFX_PREFIXES_MAX 16777215u    /* prefixes of each family */

/* One AS number of an origin field, in the order of the text. */
struct kz_pfx_asn {
	uint32_t asn;
	uint16_t group;    /* which origin it belongs to: the `_`-separated part, from 0 */
	bool multi_origin; /* the prefix has two or more origins (`_` in the field) */
	bool as_set;       /* a member of an AS set of two or more (`,` in its part) */
};

/* An origin: the AS field of a pfx2as line, parsed. Everything is borrowed
 * from the table and lives as long as it does. */
struct kz_pfx_origin {
	const char *text; /* the field verbatim, e.g. "64496_64497,64498" */
	const struct kz_pfx_asn *asns;
	size_t nasns;   /* at least 1 */
	size_t ngroups; /* the number of origins; above 1 for a multi-origin prefix */
	bool multi_origin;
	bool as_set; /* at least one part is an AS set */
};

/* A lookup result, owned by the caller. */
struct kz_pfx_match {
	uint32_t entry;        /* 1.., or KZ_PFX_NONE */
	uint32_t origin;       /* origin id for kz_pfx_origin(); meaningless when no match */
	struct kz_cidr prefix; /* the longest prefix that covers the address */
};

/* Counts of a loaded table. */
struct kz_pfx_stats {
	size_t lines;    /* prefix lines read (comments and blank lines not counted) */
	size_t prefixes; /* distinct prefixes kept: prefixes_v4 + prefixes_v6 */
	size_t prefixes_v4;
	size_t prefixes_v6;
	size_t origins;      /* distinct AS fields */
	size_t duplicates;   /* lines that repeated an earlier prefix (the last line wins) */
	size_t multi_origin; /* prefixes with two or more origins */
	size_t as_set;       /* prefixes whose field holds an AS set */
	size_t nodes;        /* trie nodes, IPv4 and IPv6 */
	size_t bytes;        /* memory the table holds */
};

/* Loads a pfx2as file (plain or gzip-compressed; "-" reads stdin) into a new
 * table, which the caller owns and frees with kz_pfx_free(). On error returns
 * a negative errno and writes "path:line: what: why" into errbuf (errlen
 * bytes, may be 0); *out is then untouched. Duplicate prefixes are not an
 * error: the last line wins, they are counted and logged as one warning. */
int kz_pfx_load(const char *path, struct kz_pfx **out, char *errbuf, size_t errlen)
        __attribute__((warn_unused_result));

/* The same from bytes in memory (borrowed: copied as needed). name stands for
 * the path in messages and in the version string. */
int kz_pfx_load_mem(const char *name, const void *data, size_t len, struct kz_pfx **out,
                    char *errbuf, size_t errlen) __attribute__((warn_unused_result));

void kz_pfx_free(struct kz_pfx *t);

/* "<file basename>@<first 12 hex digits of the SHA-256 of the file's bytes>",
 * e.g. "routeviews-rv2-20240101-1200.pfx2as.gz@0f3c9a1b2d4e": what the hub
 * stores with each observation. Borrowed from the table. */
const char *kz_pfx_version(const struct kz_pfx *t);

void kz_pfx_stats(const struct kz_pfx *t, struct kz_pfx_stats *out);

/* The entry of the longest prefix covering an IPv4 address (host order), or
 * KZ_PFX_NONE. The fast path: a few dependent loads and no branches on the
 * family. */
uint32_t kz_pfx_lookup_v4(const struct kz_pfx *t, uint32_t addr);

/* kz_pfx_lookup_v4() for n addresses at once into out[n] (caller-owned); the
 * lookups are interleaved so that their memory accesses overlap. */
void kz_pfx_lookup_v4_batch(const struct kz_pfx *t, const uint32_t *addrs, uint32_t *out, size_t n);

/* The entry of the longest prefix covering an address of either family, or
 * KZ_PFX_NONE. An IPv4 address (held IPv4-mapped) is matched only against
 * IPv4 prefixes, so "::/0" never covers 192.0.2.1. */
uint32_t kz_pfx_lookup_entry(const struct kz_pfx *t, struct kz_addr a);

/* Looks an address up and fills *m. Returns true when a prefix covers it;
 * otherwise m->entry is KZ_PFX_NONE. */
bool kz_pfx_lookup(const struct kz_pfx *t, struct kz_addr a, struct kz_pfx_match *m);

/* Fills *m for an entry index. Returns 0, or -ENOENT when there is no such
 * entry. */
int kz_pfx_entry(const struct kz_pfx *t, uint32_t entry, struct kz_pfx_match *m)
        __attribute__((warn_unused_result));

/* The origin id of an entry (which must exist): one load, for hot paths. */
uint32_t kz_pfx_entry_origin(const struct kz_pfx *t, uint32_t entry);

/* Fills *out with origin id's AS numbers, structure and verbatim text.
 * Returns 0, or -ENOENT when there is no such origin. */
int kz_pfx_origin(const struct kz_pfx *t, uint32_t id, struct kz_pfx_origin *out)
        __attribute__((warn_unused_result));

#endif
