/*
 * The built-in deny set (CONTRACT.md, "Safety rules"): the IANA IPv4 and IPv6
 * Special-Purpose Address Registries, multicast, 240.0.0.0/4 and broadcast,
 * which no survey ever probes; and the test ranges that --allow-reserved may
 * re-enable where a scope names them. Both are const tables with each
 * entry's registry name and RFC, so that a refusal can say why
 * ("198.18.0.5 is reserved: Benchmarking (RFC 2544)").
 *
 * The IPv6 registry's ::ffff:0:0/96 (IPv4-mapped) entry is deliberately not
 * in the deny set: that block is where this library keeps every IPv4 address,
 * and IPv4 addresses are judged by the IPv4 registry.
 */
#ifndef KZ_RESERVED_H
#define KZ_RESERVED_H

#include <stddef.h>

#include "addr.h"
#include "ipset.h"

struct kz_reserved {
	const char *prefix;   /* as the registry writes it, e.g. "198.18.0.0/15" */
	const char *name;     /* the registry's name, e.g. "Benchmarking" */
	const char *rfc;      /* where it is defined, e.g. "RFC 2544" */
	const char *registry; /* which list it comes from */
};

/* The deny table and its length. Entries may nest (2001::/32 lies inside
 * 2001::/23): a nested entry is there for its name. */
const struct kz_reserved *kz_reserved_deny_table(size_t *n);

/* The test ranges --allow-reserved may re-enable: 127.0.0.0/8, ::1/128,
 * 198.18.0.0/15, the three IPv4 TEST-NETs, 2001:2::/48 and 2001:db8::/32. */
const struct kz_reserved *kz_reserved_test_table(size_t *n);

/* The deny set and the test-range set as new sets owned by the caller.
 * Returns 0 or -ENOMEM. */
int kz_reserved_deny_set(struct kz_ipset **out) __attribute__((warn_unused_result));
int kz_reserved_test_set(struct kz_ipset **out) __attribute__((warn_unused_result));

/* The most specific deny-table entry covering the address, or NULL when the
 * address is not reserved. For messages: it parses the table on each call. */
const struct kz_reserved *kz_reserved_lookup(struct kz_addr a);

#endif
