/*
 * The payloads UDP probes carry on the usual ports: what scanners and
 * amplification hunters send (a DNS ANY query, an NTP client request, SSDP
 * M-SEARCH, SIP OPTIONS, an SNMPv2c get, an NBNS status query, memcached
 * "stats", chargen, A2S_INFO, a CLDAP rootDSE search) and what a stray
 * syslog client sends. Short and fixed, apart from the random DNS id and
 * NTP transmit time, so the telescope sees real protocol bytes.
 */
#include "payload.h"

#include <string.h>

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A DNS query for ANY of one of three names, recursion desired. */
static size_t put_dns_query(uint8_t *d, struct gen_rng *rng)
{
	/* Length-prefixed labels; octal escapes, because a hex escape would
	 * swallow the 'e' of "example". */
	static const char *const names[] = { "\007example\003com", "\003www\007example\003net",
		                             "\003ntp\007example\003org" };
	const char *name = names[gen_rng_below(rng, 3)];
	size_t n = 0;
	uint16_t id = gen_rng_u16(rng);
	d[n++] = (uint8_t)(id >> 8);
	d[n++] = (uint8_t)id;
	memcpy(d + n, "\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10); /* RD, 1 question */
	n += 10;
	size_t l = strlen(name) + 1;
	memcpy(d + n, name, l);
	n += l;
	memcpy(d + n, "\x00\xff\x00\x01", 4); /* ANY, IN: the amplification probe */
	return n + 4;
}

size_t gen_udp_payload(uint16_t dport, struct gen_rng *rng, uint8_t *d)
{
	size_t n = 0;
	switch (dport) {
	case 53:
		n = put_dns_query(d, rng);
		break;
	case 123:
		/* NTP client request: LI 0, version 4, mode 3, 48 bytes. */
		memset(d, 0, 48);
		d[0] = 0x23;
		put_be32(d + 40, gen_rng_u32(rng));
		put_be32(d + 44, gen_rng_u32(rng));
		n = 48;
		break;
	case 1900: {
		static const char m[] = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
		                        "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n";
		n = sizeof m - 1;
		memcpy(d, m, n);
		break;
	}
	case 5060: {
		static const char m[] =
		        "OPTIONS sip:100@example.invalid SIP/2.0\r\n"
		        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
		        "Max-Forwards: 70\r\nTo: <sip:100@example.invalid>\r\n"
		        "From: <sip:100@example.invalid>;tag=1\r\n"
		        "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
		n = sizeof m - 1;
		memcpy(d, m, n);
		break;
	}
	case 161:
	case 162: {
		/* SNMPv2c get-request, community "public", sysDescr.0. */
		static const uint8_t m[] = { 0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, 'p',
			                     'u',  'b',  'l',  'i',  'c',  0xa0, 0x19, 0x02,
			                     0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
			                     0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06,
			                     0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00 };
		n = sizeof m;
		memcpy(d, m, n);
		break;
	}
	case 137: {
		/* NetBIOS name-service node status query for "*". */
		static const uint8_t m[] = { 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00,
			                     0x00, 0x00, 0x00, 0x00, 0x20, 'C',  'K',  'A' };
		memcpy(d, m, sizeof m);
		n = sizeof m;
		memset(d + n, 'A', 29);
		n += 29;
		memcpy(d + n, "\x00\x00\x21\x00\x01", 5);
		n += 5;
		break;
	}
	case 11211: {
		static const char m[] = "\x00\x01\x00\x00\x00\x01\x00\x00stats\r\n";
		n = sizeof m - 1;
		memcpy(d, m, n);
		break;
	}
	case 19:
		d[0] = 0x0a; /* chargen answers any datagram */
		n = 1;
		break;
	case 389: {
		/* CLDAP rootDSE search (objectClass present), the reflection probe. */
		static const uint8_t m[] = { 0x30, 0x25, 0x02, 0x01, 0x01, 0x63, 0x20, 0x04,
			                     0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x02,
			                     0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00,
			                     0x87, 0x0b, 'o',  'b',  'j',  'e',  'c',  't',
			                     'c',  'l',  'a',  's',  's',  0x30, 0x00 };
		n = sizeof m;
		memcpy(d, m, n);
		break;
	}
	case 27015: {
		static const char m[] = "\xff\xff\xff\xffTSource Engine Query";
		n = sizeof m; /* with its terminating NUL, as A2S_INFO sends it */
		memcpy(d, m, n);
		break;
	}
	case 514: {
		static const char m[] = "<30>Jun  3 00:00:00 cam01 ntpd[412]: no servers reachable";
		n = sizeof m - 1;
		memcpy(d, m, n);
		break;
	}
	default:
		n = 0; /* an empty datagram: what most port probes send */
		break;
	}
	return n;
}
