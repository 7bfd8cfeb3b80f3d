/*
 * The deny table: every entry of the IANA IPv4 and IPv6 Special-Purpose
 * Address Registries (RFC 6890, RFC 8190 and the RFCs that added entries
 * since), the multicast blocks, and two deprecated IPv6 blocks from the IPv6
 * Address Space registry. Names and RFCs are the registries' own. Entries are
 * kept as text, as the registries print them, so that the table can be read
 * against the registry line by line; a unit test parses every one.
 *
 * Several entries are "globally reachable" in the registry's terms (AS112,
 * AMT, the PCP and TURN anycast addresses, 64:ff9b::/96): they are denied
 * anyway because none of them is a device an ISP's survey should log in to,
 * and because the translation and tunnelling prefixes (64:ff9b::/96,
 * 64:ff9b:1::/48, 2001::/32 Teredo, 2002::/16 6to4, ::/96) would carry a probe
 * to an IPv4 address that the scope never named.
 */
#include "reserved.h"

#include <errno.h>

#define V4  "IPv4 special-purpose"
#define V6  "IPv6 special-purpose"
#define V6S "IPv6 address space"
#define MC4 "IPv4 multicast"
#define MC6 "IPv6 multicast"

static const struct kz_reserved deny_table[] = {
	{ "0.0.0.0/8", "\"This network\"", "RFC 791", V4 },
	{ "0.0.0.0/32", "\"This host on this network\"", "RFC 1122", V4 },
	{ "10.0.0.0/8", "Private-Use", "RFC 1918", V4 },
	{ "100.64.0.0/10", "Shared Address Space", "RFC 6598", V4 },
	{ "127.0.0.0/8", "Loopback", "RFC 1122", V4 },
	{ "169.254.0.0/16", "Link Local", "RFC 3927", V4 },
	{ "172.16.0.0/12", "Private-Use", "RFC 1918", V4 },
	{ "192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", V4 },
	{ "192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", V4 },
	{ "192.0.0.8/32", "IPv4 dummy address", "RFC 7600", V4 },
	{ "192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", V4 },
	{ "192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", V4 },
	{ "192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880", V4 },
	{ "192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880", V4 },
	{ "192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", V4 },
	{ "192.31.196.0/24", "AS112-v4", "RFC 7535", V4 },
	{ "192.52.193.0/24", "AMT", "RFC 7450", V4 },
	{ "192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", V4 },
	{ "192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", V4 },
	{ "192.168.0.0/16", "Private-Use", "RFC 1918", V4 },
	{ "192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", V4 },
	{ "198.18.0.0/15", "Benchmarking", "RFC 2544", V4 },
	{ "198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", V4 },
	{ "203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", V4 },
	{ "240.0.0.0/4", "Reserved", "RFC 1112", V4 },
	{ "255.255.255.255/32", "Limited Broadcast", "RFC 919", V4 },
	{ "224.0.0.0/4", "Multicast", "RFC 5771", MC4 },

	{ "::1/128", "Loopback Address", "RFC 4291", V6 },
	{ "::/128", "Unspecified Address", "RFC 4291", V6 },
	/* ::ffff:0:0/96, IPv4-mapped Address (RFC 4291): left out on purpose,
	 * see reserved.h. */
	{ "64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", V6 },
	{ "64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", V6 },
	{ "100::/64", "Discard-Only Address Block", "RFC 6666", V6 },
	{ "100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", V6 },
	{ "2001::/23", "IETF Protocol Assignments", "RFC 2928", V6 },
	{ "2001::/32", "TEREDO", "RFC 4380", V6 },
	{ "2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", V6 },
	{ "2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", V6 },
	{ "2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", V6 },
	{ "2001:2::/48", "Benchmarking", "RFC 5180", V6 },
	{ "2001:3::/32", "AMT", "RFC 7450", V6 },
	{ "2001:4:112::/48", "AS112-v6", "RFC 7535", V6 },
	{ "2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", V6 },
	{ "2001:20::/28", "ORCHIDv2", "RFC 7343", V6 },
	{ "2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", V6 },
	{ "2001:db8::/32", "Documentation", "RFC 3849", V6 },
	{ "2002::/16", "6to4", "RFC 3056", V6 },
	{ "2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", V6 },
	{ "3fff::/20", "Documentation", "RFC 9637", V6 },
	{ "5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", V6 },
	{ "fc00::/7", "Unique-Local", "RFC 4193", V6 },
	{ "fe80::/10", "Link-Local Unicast", "RFC 4291", V6 },
	{ "ff00::/8", "Multicast", "RFC 4291", MC6 },
	/* Not in the special-purpose registry but never a device: IPv4-compatible
	 * addresses, which Linux's sit0 still tunnels to the embedded IPv4
	 * address, and the site-local block withdrawn in 2004. */
	{ "::/96", "IPv4-compatible Address (deprecated)", "RFC 4291", V6S },
	{ "fec0::/10", "Site-Local Unicast (deprecated)", "RFC 3879", V6S },
};

/* Each is also in the deny table; none touches 0/8, 224/4, 240/4 or the
 * broadcast address, which nothing re-enables (a unit test checks). */
static const struct kz_reserved test_table[] = {
	{ "127.0.0.0/8", "Loopback", "RFC 1122", V4 },
	{ "198.18.0.0/15", "Benchmarking", "RFC 2544", V4 },
	{ "192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", V4 },
	{ "198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", V4 },
	{ "203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", V4 },
	{ "::1/128", "Loopback Address", "RFC 4291", V6 },
	{ "2001:2::/48", "Benchmarking", "RFC 5180", V6 },
	{ "2001:db8::/32", "Documentation", "RFC 3849", V6 },
};

const struct kz_reserved *kz_reserved_deny_table(size_t *n)
{
	*n = sizeof deny_table / sizeof deny_table[0];
	return deny_table;
}

const struct kz_reserved *kz_reserved_test_table(size_t *n)
{
	*n = sizeof test_table / sizeof test_table[0];
	return test_table;
}

static int build(const struct kz_reserved *t, size_t n, struct kz_ipset **out)
{
	struct kz_ipset *s;
	int rc = kz_ipset_new(&s);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct kz_cidr c;
		const char *why;
		/* The tables are constants checked by the unit tests, so a parse
		 * failure here is a bug, reported as -EINVAL rather than ignored. */
		rc = kz_cidr_parse(t[i].prefix, &c, &why);
		if (rc)
			goto fail;
		rc = kz_ipset_add_cidr(s, &c, NULL);
		if (rc)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	kz_ipset_free(s);
	return rc;
}

int kz_reserved_deny_set(struct kz_ipset **out)
{
	return build(deny_table, sizeof deny_table / sizeof deny_table[0], out);
}

int kz_reserved_test_set(struct kz_ipset **out)
{
	return build(test_table, sizeof test_table / sizeof test_table[0], out);
}

const struct kz_reserved *kz_reserved_lookup(struct kz_addr a)
{
	const struct kz_reserved *best = NULL;
	unsigned best_len = 0;
	for (size_t i = 0; i < sizeof deny_table / sizeof deny_table[0]; i++) {
		struct kz_cidr c;
		const char *why;
		if (kz_cidr_parse(deny_table[i].prefix, &c, &why) != 0)
			continue;
		unsigned len = kz_cidr_len128(&c);
		if (kz_cidr_contains(&c, a) && (!best || len > best_len)) {
			best = &deny_table[i];
			best_len = len;
		}
	}
	return best;
}
