/*
 * What SYN mode needs to know about the machine's network before it can
 * write an Ethernet frame: an interface's index, MAC and addresses; which
 * interface and next hop the kernel's routing table picks for a target; and
 * the next hop's MAC from the neighbour table. Routes and neighbours are
 * asked over rtnetlink (RTM_GETROUTE, RTM_GETNEIGH), the same questions
 * `ip route get` and `ip neigh` ask; nothing here sends a packet to the
 * network, so an unknown neighbour is reported, never resolved by ARP.
 */
#ifndef KZ_NETIF_H
#define KZ_NETIF_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define KZ_MAC_LEN    6
#define KZ_MAC_STRLEN 18 /* "aa:bb:cc:dd:ee:ff" and a NUL */

/* An interface as SYN mode uses it. Plain data the caller owns. */
struct kz_netif {
	char name[IF_NAMESIZE];
	int ifindex;
	bool ethernet; /* ARPHRD_ETHER: frames carry a 14-byte Ethernet header */
	uint8_t mac[KZ_MAC_LEN];
	bool has_v4, has_v6;
	struct kz_addr v4; /* its first IPv4 address */
	struct kz_addr v6; /* its first IPv6 address that is not link-local */
};

/* Looks the interface up by name. Returns 0, -ENODEV when there is no such
 * interface, or another negative errno. */
int kz_netif_get(const char *name, struct kz_netif *out) __attribute__((warn_unused_result));

/* The kernel's route to one destination. */
struct kz_route {
	int ifindex;             /* output interface */
	bool via_gateway;        /* next_hop is a router, not the destination */
	struct kz_addr next_hop; /* the gateway, or the destination when on-link */
	bool has_prefsrc;
	struct kz_addr prefsrc; /* the source address the kernel would use */
};

/* Asks the routing table (RTM_GETROUTE) how a packet to dst would leave.
 * Returns 0, -ENETUNREACH / -EHOSTUNREACH when there is no route, or
 * another negative errno. */
int kz_netif_route(struct kz_addr dst, struct kz_route *out) __attribute__((warn_unused_result));

/* The MAC of addr in the neighbour table of interface ifindex (an entry
 * that is reachable, stale, delayed, probing, permanent or no-ARP).
 * Returns 0, -ENOENT when there is no usable entry, or another negative
 * errno. */
int kz_netif_neighbour(int ifindex, struct kz_addr addr, uint8_t mac[KZ_MAC_LEN])
        __attribute__((warn_unused_result));

/* Parses "aa:bb:cc:dd:ee:ff" (or with '-'), hex digits in either case.
 * Returns 0 or -EINVAL. */
int kz_mac_parse(const char *s, uint8_t mac[KZ_MAC_LEN]) __attribute__((warn_unused_result));

/* Writes "aa:bb:cc:dd:ee:ff" into buf and returns buf. */
char *kz_mac_format(const uint8_t mac[KZ_MAC_LEN], char buf[KZ_MAC_STRLEN]);

#endif
