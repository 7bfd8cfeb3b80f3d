/*
 * Interfaces, routes and neighbours (netif.h). Interfaces come from
 * getifaddrs; routes and neighbours from one short-lived NETLINK_ROUTE
 * socket per question. Every reply is walked with a length check before
 * each read, so a short or odd message ends the walk instead of being read
 * past.
 */
#include "netif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"

/* A netlink reply chunk: a neighbour dump of a busy router is many chunks
 * of at most a page or two each. */
#define NL_BUF 32768

/* One pass over getifaddrs: the AF_PACKET entry gives the link type and
 * MAC, the AF_INET / AF_INET6 entries the addresses, first one kept. */
int kz_netif_get(const char *name, struct kz_netif *out)
{
	memset(out, 0, sizeof *out);
	if (strlen(name) >= sizeof out->name)
		return -ENODEV;
	snprintf(out->name, sizeof out->name, "%s", name);
	unsigned idx = if_nametoindex(name);
	if (idx == 0)
		return -errno;
	out->ifindex = (int)idx;
	struct ifaddrs *ifa;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, name) != 0)
			continue;
		int fam = i->ifa_addr->sa_family;
		if (fam == AF_PACKET) {
			const struct sockaddr_ll *ll =
			        (const struct sockaddr_ll *)(void *)i->ifa_addr;
			out->ethernet =
			        ll->sll_hatype == ARPHRD_ETHER && ll->sll_halen == KZ_MAC_LEN;
			if (out->ethernet)
				memcpy(out->mac, ll->sll_addr, KZ_MAC_LEN);
		} else if (fam == AF_INET && !out->has_v4) {
			const struct sockaddr_in *sin =
			        (const struct sockaddr_in *)(void *)i->ifa_addr;
			out->v4 = kz_addr_from_v4(ntohl(sin->sin_addr.s_addr));
			out->has_v4 = true;
		} else if (fam == AF_INET6 && !out->has_v6) {
			const struct sockaddr_in6 *sin6 =
			        (const struct sockaddr_in6 *)(void *)i->ifa_addr;
			/* fe80::/10 is never a usable source towards a scope. */
			if (sin6->sin6_addr.s6_addr[0] == 0xfe &&
			    (sin6->sin6_addr.s6_addr[1] & 0xc0) == 0x80)
				continue;
			out->v6 = kz_addr_from_bytes(sin6->sin6_addr.s6_addr);
			out->has_v6 = true;
		}
	}
	freeifaddrs(ifa);
	return 0;
}

/* Walks netlink messages and route attributes without the NLMSG_* and RTA_*
 * walking macros, whose int/unsigned mixing -Wsign-conversion rejects: each
 * step checks the length field against what is left before using it. */
struct nl_walk {
	const uint8_t *p;
	size_t left;
};

static bool nl_next_msg(struct nl_walk *w, struct nlmsghdr *hdr, const uint8_t **body, size_t *blen)
{
	if (w->left < sizeof *hdr)
		return false;
	memcpy(hdr, w->p, sizeof *hdr);
	if (hdr->nlmsg_len < sizeof *hdr || hdr->nlmsg_len > w->left)
		return false;
	*body = w->p + NLMSG_HDRLEN;
	*blen = hdr->nlmsg_len - NLMSG_HDRLEN;
	size_t step = NLMSG_ALIGN(hdr->nlmsg_len);
	step = step < w->left ? step : w->left;
	w->p += step;
	w->left -= step;
	return true;
}

static bool nl_next_attr(struct nl_walk *w, unsigned *type, const uint8_t **data, size_t *dlen)
{
	struct rtattr a;
	if (w->left < sizeof a)
		return false;
	memcpy(&a, w->p, sizeof a);
	if (a.rta_len < sizeof a || a.rta_len > w->left)
		return false;
	*type = a.rta_type;
	*data = w->p + RTA_ALIGN(sizeof a);
	*dlen = a.rta_len - RTA_ALIGN(sizeof a);
	size_t step = RTA_ALIGN((size_t)a.rta_len);
	step = step < w->left ? step : w->left;
	w->p += step;
	w->left -= step;
	return true;
}

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* The kernel answers at once; the timeout only guards against a
	 * reply that never comes. */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Sends one request to the kernel (netlink pid 0). */
static int nl_send(int fd, const void *msg, size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	if (sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
		return -errno;
	return 0;
}

/* The family and the bytes an address has on the wire (4 or 16). */
static int addr_wire(struct kz_addr a, uint8_t bytes[16])
{
	kz_addr_to_bytes(a, bytes);
	if (kz_addr_is_v4(a)) {
		memmove(bytes, bytes + 12, 4);
		return AF_INET;
	}
	return AF_INET6;
}

/* The inverse of addr_wire: 4 or 16 bytes as the kernel gives them. */
static struct kz_addr addr_from_wire(int family, const void *p)
{
	if (family == AF_INET) {
		uint32_t v;
		memcpy(&v, p, 4);
		return kz_addr_from_v4(ntohl(v));
	}
	return kz_addr_from_bytes(p);
}

/* Appends one route attribute to a request of cap bytes; a request that
 * would not fit is left as it is (ours are fixed and small). */
static void add_attr(struct nlmsghdr *nh, size_t cap, unsigned short type, const void *data,
                     size_t len)
{
	size_t off = NLMSG_ALIGN(nh->nlmsg_len);
	if (off + RTA_SPACE(len) > cap)
		return;
	struct rtattr *rta = (struct rtattr *)(void *)((char *)nh + off);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
}

int kz_netif_route(struct kz_addr dst, struct kz_route *out)
{
	memset(out, 0, sizeof *out);
	uint8_t wire[16];
	int family = addr_wire(dst, wire);
	size_t alen = family == AF_INET ? 4 : 16;
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req;
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.rt);
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	/* A host route question, as `ip route get ADDR` asks it: the kernel
	 * answers with the route it would use, gateway and source included. */
	req.rt.rtm_family = (unsigned char)family;
	req.rt.rtm_dst_len = (unsigned char)(alen * 8);
	add_attr(&req.nh, sizeof req, RTA_DST, wire, alen);

	int fd = nl_open();
	if (fd < 0)
		return fd;
	int rc = nl_send(fd, &req, req.nh.nlmsg_len);
	if (rc < 0)
		goto out;
	char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	rc = -EPROTO;
	struct nl_walk w = { (const uint8_t *)buf, (size_t)n };
	struct nlmsghdr nh;
	const uint8_t *body;
	size_t blen;
	while (nl_next_msg(&w, &nh, &body, &blen)) {
		if (nh.nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr e;
			if (blen >= sizeof e) {
				memcpy(&e, body, sizeof e);
				rc = e.error ? e.error : -EPROTO;
			}
			break;
		}
		struct rtmsg rt;
		if (nh.nlmsg_type != RTM_NEWROUTE || blen < sizeof rt)
			continue;
		memcpy(&rt, body, sizeof rt);
		if (rt.rtm_type == RTN_UNREACHABLE || rt.rtm_type == RTN_BLACKHOLE ||
		    rt.rtm_type == RTN_PROHIBIT) {
			rc = -EHOSTUNREACH;
			break;
		}
		out->next_hop = dst;
		struct nl_walk aw = {
			body + NLMSG_ALIGN(sizeof rt),
			blen - (blen < NLMSG_ALIGN(sizeof rt) ? blen : NLMSG_ALIGN(sizeof rt))
		};
		unsigned type;
		const uint8_t *data;
		size_t dlen;
		while (nl_next_attr(&aw, &type, &data, &dlen)) {
			if (type == RTA_OIF && dlen >= sizeof(int)) {
				memcpy(&out->ifindex, data, sizeof(int));
			} else if (type == RTA_GATEWAY && dlen == alen) {
				out->next_hop = addr_from_wire(family, data);
				out->via_gateway = true;
			} else if (type == RTA_PREFSRC && dlen == alen) {
				out->prefsrc = addr_from_wire(family, data);
				out->has_prefsrc = true;
			}
		}
		rc = out->ifindex > 0 ? 0 : -ENETUNREACH;
		break;
	}
out:
	close(fd);
	return rc;
}

int kz_netif_neighbour(int ifindex, struct kz_addr addr, uint8_t mac[KZ_MAC_LEN])
{
	uint8_t wire[16];
	int family = addr_wire(addr, wire);
	size_t alen = family == AF_INET ? 4 : 16;
	struct {
		struct nlmsghdr nh;
		struct ndmsg nd;
	} req;
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.nd);
	req.nh.nlmsg_type = RTM_GETNEIGH;
	/* The whole table of the family, filtered here: a dump is what every
	 * kernel supports, a single-entry get only recent ones. */
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.nd.ndm_family = (unsigned char)family;

	int fd = nl_open();
	if (fd < 0)
		return fd;
	int rc = nl_send(fd, &req, req.nh.nlmsg_len);
	if (rc < 0)
		goto out;
	char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	/* Usable states: the kernel would send to this MAC without asking
	 * again first (or after a quick unicast check). */
	const unsigned usable =
	        NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
	rc = -ENOENT;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			goto out;
		struct nl_walk w = { (const uint8_t *)buf, (size_t)n };
		struct nlmsghdr nh;
		const uint8_t *body;
		size_t blen;
		while (nl_next_msg(&w, &nh, &body, &blen)) {
			if (nh.nlmsg_type == NLMSG_DONE)
				goto out;
			if (nh.nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr e;
				if (blen >= sizeof e) {
					memcpy(&e, body, sizeof e);
					if (e.error)
						rc = e.error;
				}
				goto out;
			}
			struct ndmsg nd;
			if (nh.nlmsg_type != RTM_NEWNEIGH || blen < sizeof nd)
				continue;
			memcpy(&nd, body, sizeof nd);
			if (nd.ndm_ifindex != ifindex || !(nd.ndm_state & usable) || rc == 0)
				continue;
			const uint8_t *dst = NULL, *ll = NULL;
			size_t skip = NLMSG_ALIGN(sizeof nd);
			struct nl_walk aw = { body + skip, blen > skip ? blen - skip : 0 };
			unsigned type;
			const uint8_t *data;
			size_t dlen;
			while (nl_next_attr(&aw, &type, &data, &dlen)) {
				if (type == NDA_DST && dlen == alen)
					dst = data;
				else if (type == NDA_LLADDR && dlen == KZ_MAC_LEN)
					ll = data;
			}
			if (dst && ll && memcmp(dst, wire, alen) == 0) {
				memcpy(mac, ll, KZ_MAC_LEN);
				/* Read on to the end of the dump so the socket
				 * is drained; the answer is kept. */
				rc = 0;
			}
		}
	}
out:
	close(fd);
	return rc;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int kz_mac_parse(const char *s, uint8_t mac[KZ_MAC_LEN])
{
	if (strlen(s) != 17)
		return -EINVAL;
	char sep = s[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (int i = 0; i < KZ_MAC_LEN; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0 || (i < KZ_MAC_LEN - 1 && p[2] != sep))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

char *kz_mac_format(const uint8_t mac[KZ_MAC_LEN], char buf[KZ_MAC_STRLEN])
{
	snprintf(buf, KZ_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
	         mac[3], mac[4], mac[5]);
	return buf;
}
