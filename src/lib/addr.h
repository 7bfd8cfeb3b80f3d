/*
 * IPv4 and IPv6 addresses and CIDR prefixes.
 *
 * Every address is one 128-bit key in host order, IPv4 held IPv4-mapped
 * (::ffff:a.b.c.d, RFC 4291 2.5.5.2), so that sets, tables and per-source
 * state need no second code path for IPv6. Parsing is strict: an input is
 * either exactly an address or an error with a reason a user can act on.
 */
#ifndef KZ_ADDR_H
#define KZ_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 kz_u128;

struct kz_addr {
	kz_u128 v;
};

/* A prefix: base address with every host bit zero, and its length counted in
 * the address's own family (0..32 for IPv4, 0..128 for IPv6). */
struct kz_cidr {
	struct kz_addr base;
	uint8_t len;
};

#define KZ_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define KZ_CIDR_STRLEN 50

#define KZ_V4_MAPPED_PREFIX ((kz_u128)0xffff << 32)

static inline struct kz_addr kz_addr_from_v4(uint32_t host_order)
{
	struct kz_addr a = { KZ_V4_MAPPED_PREFIX | host_order };
	return a;
}

static inline bool kz_addr_is_v4(struct kz_addr a)
{
	return (a.v >> 32) == 0xffff;
}

/* The IPv4 address in host order; meaningful only when kz_addr_is_v4(). */
static inline uint32_t kz_addr_v4(struct kz_addr a)
{
	return (uint32_t)a.v;
}

static inline int kz_addr_cmp(struct kz_addr a, struct kz_addr b)
{
	return a.v < b.v ? -1 : a.v > b.v;
}

/* From and to the 16 network-order bytes of an IPv6 address. */
struct kz_addr kz_addr_from_bytes(const uint8_t bytes[16]);
void kz_addr_to_bytes(struct kz_addr a, uint8_t bytes[16]);

/* Parses a dotted-quad IPv4 or an RFC 4291 IPv6 address, nothing around it.
 * On error returns -EINVAL and sets *why to a static reason. */
int kz_addr_parse(const char *s, struct kz_addr *out, const char **why)
        __attribute__((warn_unused_result));

/* Writes the canonical text (dotted quad for IPv4, RFC 5952 for IPv6) into buf
 * of KZ_ADDR_STRLEN bytes and returns buf. */
char *kz_addr_format(struct kz_addr a, char *buf);

/* Parses "ADDR/LEN" or a bare address (a host prefix). Host bits set, a
 * length beyond the family's, a leading zero or a sign in LEN are errors. */
int kz_cidr_parse(const char *s, struct kz_cidr *out, const char **why)
        __attribute__((warn_unused_result));

/* Writes "ADDR/LEN" into buf of KZ_CIDR_STRLEN bytes and returns buf. */
char *kz_cidr_format(const struct kz_cidr *c, char *buf);

/* The prefix length in 128-bit terms (IPv4 lengths plus 96). */
static inline unsigned kz_cidr_len128(const struct kz_cidr *c)
{
	return kz_addr_is_v4(c->base) ? c->len + 96u : c->len;
}

/* The first and last addresses the prefix covers. */
struct kz_addr kz_cidr_first(const struct kz_cidr *c);
struct kz_addr kz_cidr_last(const struct kz_cidr *c);

/* True when the prefix covers the address. */
bool kz_cidr_contains(const struct kz_cidr *c, struct kz_addr a);

/* Makes a prefix from any address in it and a length in the address's family;
 * host bits are cleared. */
struct kz_cidr kz_cidr_make(struct kz_addr a, unsigned len);

#endif
