/*
 * Profile definitions; see profiles.h.
 *
 * Rates are Internet-wide probe rates (pps) for IPv4 scanners and attack
 * rates for victims; the darknet sees r·n/2^32 of them. With the default
 * /16 (n = 65,536) that is r / 65,536: a Mirai bot at 160 pps reaches the
 * darknet about 8.8 times an hour, a ZMap scan at 100 kpps 1.5 times a
 * second. Choices that keep the truth unambiguous: slow scanners scan at
 * most 5 pps and stop before D distinct dark addresses; every other scanner
 * runs at 100 pps or more; qualifying DoS attacks have at least twice the
 * RS-DoS peak, failing ones fail one threshold by a wide margin; steady
 * ports have either at least 8 new sources a minute (a 3x jump is then
 * beyond Poisson noise) or under one a minute (10 sources never happen).
 */
#include "profiles.h"

#include <errno.h>
#include <stddef.h>
#include <strings.h>

/* Port menus. */
static const uint16_t zmap_ports[] = { 80, 443, 22, 23, 8080, 7547, 3389, 445, 21, 8443 };
static const uint16_t scan_ports[] = { 22,   23,   80,   443,  445,  3389, 8080, 8443, 21, 25,
	                               3306, 5900, 6379, 9200, 1433, 5432, 8000, 8888, 81, 7547 };
static const uint16_t nmap_ports[] = { 21,  22,  23,  25,  53,  80,   110,  111,  135,  139,
	                               143, 443, 445, 993, 995, 1723, 3306, 3389, 5900, 8080 };
static const uint16_t raw_ports[] = { 80, 443, 22, 8080 };
static const uint16_t udp_ports[] = { 53, 123, 1900, 5060, 161, 137, 11211, 19, 27015, 389 };
static const uint16_t udp_rare[] = { 1900, 5060, 123, 161, 137, 11211 };
static const uint16_t dns_port[] = { 53 };
static const uint16_t web_ports[] = { 80, 443, 22 };
static const uint16_t client_ports[] = { 443, 8883, 1883, 5222 };
static const uint16_t ntp_syslog[] = { 123, 514 };
static const uint16_t server_ports[] = { 443, 80, 22 };
static const uint16_t trap_port[] = { 162 };
static const uint16_t v6_ports[] = { 22, 80, 443, 8080 };
static const uint16_t p80[] = { 80 };
static const uint16_t p443[] = { 443 };
static const uint16_t p8080[] = { 8080 };
static const uint16_t p53[] = { 53 };
static const uint16_t p445[] = { 445 };
static const uint16_t p5555[] = { 5555 };

#define MENU(a) .ports = (a), .nports = sizeof(a) / sizeof((a)[0])

/* Adds a population; one this darknet cannot host (IPv6 without an IPv6
 * prefix, or the reverse) is skipped. */
static int add(struct gen_run *r, const struct gen_pop *p)
{
	int rc = gen_run_add(r, p);
	return rc == -EINVAL ? 0 : rc;
}

#define ADD(...)                                                                                   \
	do {                                                                                       \
		int rc_ = add(r, &(const struct gen_pop){ __VA_ARGS__ });                          \
		if (rc_)                                                                           \
			return rc_;                                                                \
	} while (0)

/* ------------------------------------------------------------------ */
/* Building blocks                                                     */

/* Fingerprinted tools. scale multiplies the counts. */
static int tools(struct gen_run *r, unsigned scale)
{
	ADD(.kind = GEN_K_MIRAI, .count = 30 * scale, .rate_min = 160, .rate_max = 160,
	    .arrivals_per_min = 0.1 * scale, .life_min_s = 1200, .life_max_s = 3600);
	ADD(.kind = GEN_K_MIRAI, .sub = 1, .count = 12 * scale, .rate_min = 200, .rate_max = 1000);
	ADD(.kind = GEN_K_ZMAP, .count = 5 * scale, .rate_min = 20000, .rate_max = 200000,
	    .life_min_s = 900, .life_max_s = 3600, MENU(zmap_ports));
	ADD(.kind = GEN_K_ZMAP, .count = 2 * scale, .rate_min = 10000, .rate_max = 10000,
	    MENU(zmap_ports));
	ADD(.kind = GEN_K_MASSCAN, .count = 5 * scale, .rate_min = 20000, .rate_max = 200000,
	    .life_min_s = 900, .life_max_s = 3600, MENU(scan_ports), .ports_min = 1,
	    .ports_max = 4);
	ADD(.kind = GEN_K_UNICORNSCAN, .count = 5 * scale, .rate_min = 300, .rate_max = 3000,
	    MENU(scan_ports));
	ADD(.kind = GEN_K_NMAP, .count = 5 * scale, .rate_min = 1000, .rate_max = 5000,
	    .life_min_s = 1800, .life_max_s = 5400, MENU(nmap_ports), .ports_min = 5,
	    .ports_max = 15, .retry_pct = 50);
	return 0;
}

/* Scanners without a tool fingerprint, fast and slow, and the hard case. */
static int generic(struct gen_run *r, unsigned scale)
{
	ADD(.kind = GEN_K_SCANNER, .count = 30 * scale, .rate_min = 200, .rate_max = 20000,
	    .life_min_s = 1200, .life_max_s = 7200, MENU(scan_ports), .ports_min = 1,
	    .ports_max = 3, .retry_pct = 40);
	ADD(.kind = GEN_K_SLOW_SCANNER, .count = 400 * scale, .rate_min = 0.5, .rate_max = 5,
	    MENU(scan_ports));
	ADD(.kind = GEN_K_RAW_SOCKET, .count = 6 * scale, .rate_min = 1000, .rate_max = 5000,
	    MENU(raw_ports));
	ADD(.kind = GEN_K_PING, .count = 3 * scale, .rate_min = 2000, .rate_max = 20000,
	    .life_min_s = 1800, .life_max_s = 7200);
	return 0;
}

/* Traffic the telescope must count and skip, or count and not label. */
static int noise(struct gen_run *r, unsigned scale)
{
	ADD(.kind = GEN_K_UDP_NOISE, .count = 1200 * scale, .rate_min = 1.0 / 120,
	    .rate_max = 1.0 / 120, MENU(udp_ports), .pkt_min = 1, .pkt_max = 2);
	ADD(.kind = GEN_K_MISCONFIG, .sub = GEN_M_REPEAT_SYN, .count = 2, .rate_min = 1.0 / 60,
	    .rate_max = 1.0 / 30, MENU(client_ports));
	ADD(.kind = GEN_K_MISCONFIG, .sub = GEN_M_REPEAT_UDP, .count = 2, .rate_min = 1.0 / 64,
	    .rate_max = 1.0 / 64, MENU(ntp_syslog));
	ADD(.kind = GEN_K_MISCONFIG, .sub = GEN_M_STRAY_ACK, .count = 1, .rate_min = 1.0 / 20,
	    .rate_max = 1.0 / 20, MENU(server_ports));
	ADD(.kind = GEN_K_MISCONFIG, .sub = GEN_M_FRAGMENTS, .count = 1, .rate_min = 1.0 / 300,
	    .rate_max = 1.0 / 300);
	ADD(.kind = GEN_K_MISCONFIG, .sub = GEN_M_VLAN, .count = 1, .rate_min = 1.0 / 120,
	    .rate_max = 1.0 / 120, MENU(trap_port));
	ADD(.kind = GEN_K_OUTSIDE, .count = 4, .rate_min = 1.0 / 30, .rate_max = 1.0 / 30,
	    MENU(web_ports), .ports_min = 1, .ports_max = 3);
	ADD(.kind = GEN_K_JUNK, .sub = GEN_J_ARP, .count = 1, .rate_min = 1.0 / 30,
	    .rate_max = 1.0 / 30);
	ADD(.kind = GEN_K_JUNK, .sub = GEN_J_TRUNCATED, .count = 1, .rate_min = 1.0 / 600,
	    .rate_max = 1.0 / 600);
	ADD(.kind = GEN_K_JUNK, .sub = GEN_J_MALFORMED, .count = 1, .rate_min = 1.0 / 600,
	    .rate_max = 1.0 / 600);
	ADD(.kind = GEN_K_JUNK, .sub = GEN_J_RUNT, .count = 1, .rate_min = 1.0 / 1800,
	    .rate_max = 1.0 / 1800);
	return 0;
}

/* DoS victims above and below the RS-DoS thresholds. Windows are given as
 * a start fraction and a length, so they keep their length in any duration.
 * With a /16: */
static int dos(struct gen_run *r)
{
	/* 300 kpps for 10 min: 4.6 pps of SYN-ACKs (plus retransmissions). */
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_SYNACK, .count = 1, .rate_min = 300000,
	    .rate_max = 300000, .from = 0.20, .dur_s = 600, MENU(p80), .retry_pct = 100);
	/* 60 kpps for 8 min: 0.9 pps of RSTs, a peak near 55 a minute. */
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_RST, .count = 1, .rate_min = 60000,
	    .rate_max = 60000, .from = 0.40, .dur_s = 480, MENU(p8080));
	/* A UDP flood answered by the victim's routers: 100 kpps for 6 min. */
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_ICMP_ERROR, .count = 1, .rate_min = 100000,
	    .rate_max = 100000, .from = 0.55, .dur_s = 360, MENU(p53));
	/* An ICMP flood: echo replies, 80 kpps for 6 min. */
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_ECHO_REPLY, .count = 1, .rate_min = 80000,
	    .rate_max = 80000, .from = 0.65, .dur_s = 360);
	/* Below the thresholds: too short (2 Mpps for 30 s), too weak
	 * (10 kpps for 20 min: peak near 9), too small (3 kpps for 5 min). */
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_SYNACK, .count = 1, .rate_min = 2000000,
	    .rate_max = 2000000, .from = 0.30, .dur_s = 30, MENU(p443));
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_RST, .count = 1, .rate_min = 10000,
	    .rate_max = 10000, .from = 0.05, .dur_s = 1200, MENU(p80));
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_SYNACK, .count = 1, .rate_min = 3000,
	    .rate_max = 3000, .from = 0.78, .dur_s = 300, MENU(p443));
	/* IPv6: SYN-ACKs at an observed 1 pps for 6 min, and 15 packets. */
	ADD(.kind = GEN_K_VICTIM, .family = 6, .sub = GEN_R_SYNACK, .count = 1, .rate_min = 1,
	    .rate_max = 1, .from = 0.45, .dur_s = 360, MENU(p443));
	ADD(.kind = GEN_K_VICTIM, .family = 6, .sub = GEN_R_RST, .count = 1, .rate_min = 0.05,
	    .rate_max = 0.05, .from = 0.85, .dur_s = 300, MENU(p80));
	return 0;
}

/* Steady background with distinct per-port populations, and the surge on
 * one port when with_surge: from 2/3 of the trace for 15 minutes, 60 new
 * sources a minute on top of a baseline of 10. */
static int steady(struct gen_run *r, uint16_t port, bool with_surge)
{
	const uint16_t surge_menu[] = { port };
	ADD(.kind = GEN_K_MIRAI, .count = 80, .rate_min = 160, .rate_max = 160);
	ADD(.kind = GEN_K_SCANNER, .count = 15, .rate_min = 500, .rate_max = 5000, MENU(scan_ports),
	    .ports_min = 1, .ports_max = 2);
	ADD(.kind = GEN_K_VISITOR, .arrivals_per_min = 12, MENU(p445), .pkt_min = 1, .pkt_max = 3);
	ADD(.kind = GEN_K_VISITOR, .arrivals_per_min = 15, MENU(p80), .pkt_min = 1, .pkt_max = 3);
	if (port != 5555)
		ADD(.kind = GEN_K_VISITOR, .arrivals_per_min = 8, MENU(p5555), .pkt_min = 1,
		    .pkt_max = 3);
	ADD(.kind = GEN_K_VISITOR, .arrivals_per_min = 10, .ports = surge_menu, .nports = 1,
	    .pkt_min = 1, .pkt_max = 3);
	ADD(.kind = GEN_K_UDP_NOISE, .arrivals_per_min = 12, MENU(dns_port), .pkt_min = 1,
	    .pkt_max = 1, .rate_min = 1, .rate_max = 1);
	ADD(.kind = GEN_K_UDP_NOISE, .arrivals_per_min = 2, MENU(udp_rare), .pkt_min = 1,
	    .pkt_max = 1, .rate_min = 1, .rate_max = 1);
	/* The surge is the last population, so that the steady profile is the
	 * surge profile without it, packet for packet. */
	if (with_surge)
		ADD(.kind = GEN_K_VISITOR, .surge = true, .arrivals_per_min = 60, .from = 2.0 / 3,
		    .dur_s = 900, .ports = surge_menu, .nports = 1, .pkt_min = 1, .pkt_max = 3);
	return 0;
}

/* IPv6: scanners of the dark /48, ping sweeps, UDP noise. */
static int v6(struct gen_run *r, unsigned scale)
{
	ADD(.kind = GEN_K_SCANNER, .family = 6, .count = 3 * scale, .rate_min = 0.02,
	    .rate_max = 0.2, MENU(v6_ports), .ports_min = 1, .ports_max = 2);
	ADD(.kind = GEN_K_PING, .family = 6, .count = 2 * scale, .rate_min = 0.05, .rate_max = 0.2);
	ADD(.kind = GEN_K_UDP_NOISE, .family = 6, .count = 40 * scale, .rate_min = 1.0 / 300,
	    .rate_max = 1.0 / 300, MENU(udp_ports), .pkt_min = 1, .pkt_max = 2);
	ADD(.kind = GEN_K_OUTSIDE, .family = 6, .count = 1, .rate_min = 1.0 / 60,
	    .rate_max = 1.0 / 60, MENU(web_ports));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Profiles                                                            */

static int build_mixed(struct gen_run *r, uint16_t port)
{
	int rc;
	if ((rc = tools(r, 1)) || (rc = generic(r, 1)) || (rc = noise(r, 1)) || (rc = dos(r)) ||
	    (rc = v6(r, 1)))
		return rc;
	const uint16_t surge_menu[] = { port };
	ADD(.kind = GEN_K_VISITOR, .arrivals_per_min = 10, .ports = surge_menu, .nports = 1,
	    .pkt_min = 1, .pkt_max = 3);
	ADD(.kind = GEN_K_VISITOR, .surge = true, .arrivals_per_min = 60, .from = 0.75,
	    .dur_s = 600, .ports = surge_menu, .nports = 1, .pkt_min = 1, .pkt_max = 3);
	return 0;
}

static int build_scanners(struct gen_run *r, uint16_t port)
{
	(void)port;
	int rc;
	if ((rc = tools(r, 1)) || (rc = generic(r, 1)))
		return rc;
	return v6(r, 1);
}

static int build_dos(struct gen_run *r, uint16_t port)
{
	(void)port;
	return dos(r);
}

static int build_surge(struct gen_run *r, uint16_t port)
{
	return steady(r, port, true);
}

static int build_steady(struct gen_run *r, uint16_t port)
{
	return steady(r, port, false);
}

static int build_noise(struct gen_run *r, uint16_t port)
{
	(void)port;
	return noise(r, 1);
}

static int build_ipv6(struct gen_run *r, uint16_t port)
{
	(void)port;
	int rc = v6(r, 2);
	if (rc)
		return rc;
	ADD(.kind = GEN_K_VICTIM, .family = 6, .sub = GEN_R_SYNACK, .count = 1, .rate_min = 1,
	    .rate_max = 1, .from = 0.3, .dur_s = 360, MENU(p443));
	ADD(.kind = GEN_K_VICTIM, .family = 6, .sub = GEN_R_ECHO_REPLY, .count = 1,
	    .rate_min = 0.05, .rate_max = 0.05, .from = 0.7, .dur_s = 300);
	return 0;
}

/* Six hours for `kizuki demo`: the usual mix at a larger scale, Mirai
 * spreading (bots arrive all along), DoS attacks at different hours, and a
 * surge on 5555 after four and a half hours of baseline. */
static int build_demo(struct gen_run *r, uint16_t port)
{
	int rc;
	if ((rc = tools(r, 2)) || (rc = generic(r, 1)) || (rc = noise(r, 1)) || (rc = v6(r, 1)))
		return rc;
	ADD(.kind = GEN_K_MIRAI, .arrivals_per_min = 0.5, .rate_min = 160, .rate_max = 400);
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_SYNACK, .count = 1, .rate_min = 400000,
	    .rate_max = 400000, .from = 0.15, .dur_s = 900, MENU(p443), .retry_pct = 100);
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_ICMP_ERROR, .count = 1, .rate_min = 150000,
	    .rate_max = 150000, .from = 0.40, .dur_s = 600, MENU(p53));
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_RST, .count = 1, .rate_min = 80000,
	    .rate_max = 80000, .from = 0.60, .dur_s = 720, MENU(p80));
	ADD(.kind = GEN_K_VICTIM, .sub = GEN_R_SYNACK, .count = 1, .rate_min = 8000,
	    .rate_max = 8000, .from = 0.30, .dur_s = 1800, MENU(p80));
	ADD(.kind = GEN_K_VISITOR, .arrivals_per_min = 10, MENU(p445), .pkt_min = 1, .pkt_max = 3);
	const uint16_t surge_menu[] = { port };
	ADD(.kind = GEN_K_VISITOR, .arrivals_per_min = 8, .ports = surge_menu, .nports = 1,
	    .pkt_min = 1, .pkt_max = 3);
	ADD(.kind = GEN_K_VISITOR, .surge = true, .arrivals_per_min = 60, .from = 0.75,
	    .dur_s = 1200, .ports = surge_menu, .nports = 1, .pkt_min = 1, .pkt_max = 3);
	return 0;
}

/* The pinned benchmark mix: everything stationary for the whole trace, at a
 * density near NICTER's (≈ 5,000 pps into a /16); the duration follows from
 * --packets. Heavy hitters (ZMap, masscan, fast scanners) carry most of the
 * packets, as in real darknets; tens of thousands of bots and noise sources
 * keep the per-source table busy. Its sources fit the 66,304 addresses a /16
 * darknet leaves in 198.18.0.0/15 and the TEST-NETs. */
static int build_bench(struct gen_run *r, uint16_t port)
{
	ADD(.kind = GEN_K_MIRAI, .count = 20000, .rate_min = 160, .rate_max = 160);
	ADD(.kind = GEN_K_MIRAI, .sub = 1, .count = 5000, .rate_min = 200, .rate_max = 1000);
	ADD(.kind = GEN_K_ZMAP, .count = 150, .rate_min = 200000, .rate_max = 2000000,
	    MENU(zmap_ports));
	ADD(.kind = GEN_K_MASSCAN, .count = 150, .rate_min = 200000, .rate_max = 2000000,
	    MENU(scan_ports), .ports_min = 1, .ports_max = 6);
	ADD(.kind = GEN_K_UNICORNSCAN, .count = 100, .rate_min = 5000, .rate_max = 50000,
	    MENU(scan_ports));
	ADD(.kind = GEN_K_NMAP, .count = 200, .rate_min = 5000, .rate_max = 20000, MENU(nmap_ports),
	    .ports_min = 5, .ports_max = 20, .retry_pct = 50);
	ADD(.kind = GEN_K_SCANNER, .count = 3000, .rate_min = 1000, .rate_max = 100000,
	    MENU(scan_ports), .ports_min = 1, .ports_max = 3, .retry_pct = 40);
	ADD(.kind = GEN_K_SLOW_SCANNER, .count = 1000, .rate_min = 0.5, .rate_max = 5,
	    MENU(scan_ports));
	ADD(.kind = GEN_K_RAW_SOCKET, .count = 100, .rate_min = 5000, .rate_max = 50000,
	    MENU(raw_ports));
	ADD(.kind = GEN_K_PING, .count = 50, .rate_min = 10000, .rate_max = 100000);
	ADD(.kind = GEN_K_UDP_NOISE, .count = 15000, .rate_min = 1.0 / 100, .rate_max = 1.0 / 100,
	    MENU(udp_ports));
	for (uint8_t m = GEN_M_REPEAT_SYN; m <= GEN_M_VLAN; m++)
		ADD(.kind = GEN_K_MISCONFIG, .sub = m, .count = 20, .rate_min = 1.0 / 30,
		    .rate_max = 1.0 / 30,
		    .ports = m == GEN_M_REPEAT_UDP ? ntp_syslog
		             : m == GEN_M_VLAN     ? trap_port
		                                   : client_ports,
		    .nports = m == GEN_M_REPEAT_UDP ? 2
		              : m == GEN_M_VLAN     ? 1
		                                    : 4);
	ADD(.kind = GEN_K_OUTSIDE, .count = 50, .rate_min = 0.1, .rate_max = 0.1, MENU(web_ports));
	for (uint8_t v = GEN_R_SYNACK; v <= GEN_R_ICMP_ERROR; v++)
		ADD(.kind = GEN_K_VICTIM, .sub = v, .count = 8, .rate_min = 100000,
		    .rate_max = 2000000, MENU(raw_ports), .retry_pct = 50);
	const uint16_t surge_menu[] = { port };
	ADD(.kind = GEN_K_VISITOR, .arrivals_per_min = 40, MENU(p445), .pkt_min = 1, .pkt_max = 3);
	ADD(.kind = GEN_K_VISITOR, .arrivals_per_min = 40, .ports = surge_menu, .nports = 1,
	    .pkt_min = 1, .pkt_max = 3);
	ADD(.kind = GEN_K_JUNK, .sub = GEN_J_ARP, .count = 1, .rate_min = 1, .rate_max = 1);
	ADD(.kind = GEN_K_JUNK, .sub = GEN_J_TRUNCATED, .count = 1, .rate_min = 1.0 / 60,
	    .rate_max = 1.0 / 60);
	ADD(.kind = GEN_K_JUNK, .sub = GEN_J_MALFORMED, .count = 1, .rate_min = 1.0 / 60,
	    .rate_max = 1.0 / 60);
	ADD(.kind = GEN_K_JUNK, .sub = GEN_J_RUNT, .count = 1, .rate_min = 1.0 / 600,
	    .rate_max = 1.0 / 600);
	return 0;
}

static const struct gen_profile profiles[] = {
	{
	        .name = "mixed",
	        .summary = "everything at once: tools, scanners, noise, DoS, a surge, IPv6 (2 h)",
	        .darknet = "198.18.0.0/16,2001:db8:ffff::/48",
	        .duration_s = 7200,
	        .surge_port = 37215,
	        .build = build_mixed,
	},
	{
	        .name = "scanners",
	        .summary = "fingerprinted tools, generic scanners fast and slow, the IP ID 54321 "
	                   "hard case (1 h)",
	        .darknet = "198.18.0.0/16",
	        .duration_s = 3600,
	        .build = build_scanners,
	},
	{
	        .name = "dos",
	        .summary = "backscatter only: victims above and below the RS-DoS thresholds (1 h)",
	        .darknet = "198.18.0.0/16",
	        .duration_s = 3600,
	        .build = build_dos,
	},
	{
	        .name = "surge",
	        .summary = "steady per-port background, then a surge of sources on one port (3 h)",
	        .darknet = "198.18.0.0/16",
	        .duration_s = 10800,
	        .surge_port = 37215,
	        .build = build_surge,
	},
	{
	        .name = "steady",
	        .summary = "the surge profile without the surge (3 h)",
	        .darknet = "198.18.0.0/16",
	        .duration_s = 10800,
	        .surge_port = 37215,
	        .build = build_steady,
	},
	{
	        .name = "noise",
	        .summary = "UDP noise, misconfiguration, non-IP and broken frames, packets outside "
	                   "the darknet (1 h)",
	        .darknet = "198.18.0.0/16",
	        .duration_s = 3600,
	        .build = build_noise,
	},
	{
	        .name = "ipv6",
	        .summary = "IPv6 only: scanners, ping sweeps, noise, victims (1 h)",
	        .darknet = "2001:db8:ffff::/48",
	        .duration_s = 3600,
	        .build = build_ipv6,
	},
	{
	        .name = "demo",
	        .summary = "six hours for kizuki demo; sources attributed to AS64496-AS64511",
	        .darknet = "198.18.0.0/16,2001:db8:ffff::/48",
	        .duration_s = 21600,
	        .surge_port = 5555,
	        .as_space_only = true,
	        .build = build_demo,
	},
	{
	        .name = "bench",
	        .summary = "the pinned benchmark mix; 30 M packets unless --packets says otherwise",
	        .darknet = "198.18.0.0/16",
	        .duration_s = 0,
	        .surge_port = 37215,
	        .packets = 30000000,
	        .build = build_bench,
	},
};

static const struct {
	const char *alias, *name;
} aliases[] = { { "test", "mixed" } };

const struct gen_profile *gen_profile_find(const char *name)
{
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcasecmp(name, aliases[i].alias) == 0)
			name = aliases[i].name;
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
		if (strcasecmp(name, profiles[i].name) == 0)
			return &profiles[i];
	return NULL;
}

const struct gen_profile *gen_profiles(unsigned *n)
{
	*n = sizeof profiles / sizeof profiles[0];
	return profiles;
}
