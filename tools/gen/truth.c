/*
 * Ground-truth writer; see truth.h. One record per line, written with
 * jansson in insertion order, so that the same run gives the same bytes.
 *
 * What a correct telescope should conclude ("expect") follows REFERENCE.md
 * and CONTRACT.md applied to what was written: a tool's fingerprint needs at
 * least 5 packets of the source (all of a tool source's packets match its
 * rule, so the majority holds); otherwise a source is a scanner when it
 * reached at least D distinct dark addresses on one port and protocol and
 * its intended Internet-wide rate is at least 10 pps (the rate a telescope
 * estimates from observed × 2^32 / n). The intended rate is used, not an
 * estimate: populations are built far from the 10 pps line (slow scanners at
 * most 5 pps and capped below D; the rest at 100 pps or more). IPv6 sources
 * have no Internet-wide rate, so for them only D applies.
 */
#include "truth.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define NS 1000000000LL

/* protocol.transport names, as IntelMQ writes them. */
static const char *const proto_names[256] = {
	[1] = "icmp",
	[6] = "tcp",
	[17] = "udp",
	[58] = "icmpv6",
};

static const char *proto_name(uint8_t p)
{
	return proto_names[p] ? proto_names[p] : "other";
}

/* UTC ISO 8601 with the trace's sub-second precision. */
static json_t *iso(int64_t t, bool nanosec)
{
	char buf[64], frac[16];
	time_t sec = (time_t)(t / NS);
	struct tm tm;
	gmtime_r(&sec, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (nanosec)
		snprintf(frac, sizeof frac, ".%09lldZ", (long long)(t % NS));
	else
		snprintf(frac, sizeof frac, ".%06lldZ", (long long)(t % NS / 1000));
	strncat(buf, frac, sizeof buf - strlen(buf) - 1);
	return json_string(buf);
}

static json_t *addr_json(struct kz_addr a)
{
	char buf[KZ_ADDR_STRLEN];
	return json_string(kz_addr_format(a, buf));
}

static json_t *asn_json(const struct gen_run *r, struct kz_addr a)
{
	uint32_t asn[2];
	unsigned n = gen_world_asn(r->w, a, asn);
	json_t *arr = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(arr, json_integer(asn[i]));
	return arr;
}

/* Adds k to o, taking v. */
static void set(json_t *o, const char *k, json_t *v)
{
	json_object_set_new(o, k, v);
}

/* A time in both forms: ISO text for people and jq, k_ns for exact
 * comparisons with the pcap's timestamps. */
static void set_time(json_t *o, const char *k, int64_t t, bool nanosec)
{
	char kns[32];
	set(o, k, iso(t, nanosec));
	snprintf(kns, sizeof kns, "%s_ns", k);
	set(o, kns, json_integer(t));
}

/* Writes o as one line and releases it. */
static int emit(FILE *f, json_t *o)
{
	int rc = json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (rc != 0 || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}

struct gen_peaks gen_truth_peaks(const int64_t *times, size_t n)
{
	struct gen_peaks pk = { 0, 0, 0 };
	if (n == 0)
		return pk;
	/* Any-aligned windows: for each packet as the window's first, count
	 * the packets within the window (two pointers). */
	size_t j60 = 0, j50 = 0;
	for (size_t i = 0; i < n; i++) {
		if (j60 < i)
			j60 = i;
		while (j60 < n && times[j60] < times[i] + 60 * NS)
			j60++;
		if (j60 - i > pk.peak_any60)
			pk.peak_any60 = j60 - i;
		if (j50 < i)
			j50 = i;
		while (j50 < n && times[j50] < times[i] + 50 * NS)
			j50++;
		if (j50 - i > pk.peak_any50)
			pk.peak_any50 = j50 - i;
	}
	/* Corsaro's grid: windows [first + 10 s k, first + 10 s k + 60 s). */
	int64_t first = times[0] - times[0] % NS;
	size_t lo = 0, hi = 0;
	for (int64_t w = first; w <= times[n - 1]; w += 10 * NS) {
		while (lo < n && times[lo] < w)
			lo++;
		if (hi < lo)
			hi = lo;
		while (hi < n && times[hi] < w + 60 * NS)
			hi++;
		if (hi - lo > pk.peak_grid)
			pk.peak_grid = hi - lo;
	}
	return pk;
}

/* The tool rule every packet of a kind satisfies, by construction. */
static const char *fingerprint_of(uint8_t kind)
{
	switch (kind) {
	case GEN_K_MIRAI:
		return "mirai";
	case GEN_K_ZMAP:
		return "zmap";
	case GEN_K_MASSCAN:
		return "masscan";
	case GEN_K_UNICORNSCAN:
		return "unicornscan";
	case GEN_K_NMAP:
		return "nmap";
	default:
		return NULL;
	}
}

/* The kinds that sweep targets and so may qualify as scanners. Visitors,
 * noise and misconfiguration reach at most three addresses by construction;
 * victims and routers send backscatter, which is not a scan. */
static bool may_scan(uint8_t kind)
{
	switch (kind) {
	case GEN_K_MIRAI:
	case GEN_K_ZMAP:
	case GEN_K_MASSCAN:
	case GEN_K_UNICORNSCAN:
	case GEN_K_NMAP:
	case GEN_K_SCANNER:
	case GEN_K_SLOW_SCANNER:
	case GEN_K_RAW_SOCKET:
	case GEN_K_PING:
		return true;
	default:
		return false;
	}
}

/* Kinds whose rate is what the darknet sees, not an Internet-wide rate. */
static bool rate_observed(const struct gen_source *s)
{
	return s->family == 6 || s->kind == GEN_K_UDP_NOISE || s->kind == GEN_K_MISCONFIG ||
	       s->kind == GEN_K_OUTSIDE || s->kind == GEN_K_VISITOR;
}

static json_t *source_record(const struct gen_run *r, const struct gen_source *s, bool ns)
{
	json_t *o = json_object();
	set(o, "record", json_string("source"));
	set(o, "addr", addr_json(s->addr));
	set(o, "family", json_integer(s->family));
	set(o, "kind", json_string(gen_kind_name(r, s)));

	uint64_t dests_max = 0;
	json_t *ports = json_array();
	for (unsigned i = 0; i < s->nports; i++) {
		const struct gen_port *pt = &s->ports[i];
		/* An outside source reaches no dark address at all. */
		if (s->kind == GEN_K_OUTSIDE)
			break;
		uint64_t d = gen_port_dests(r, s, pt);
		if (d > dests_max)
			dests_max = d;
		json_t *po = json_object();
		set(po, "proto", json_string(proto_name(pt->proto)));
		set(po, "port", json_integer(pt->port));
		set(po, "packets", json_integer((json_int_t)pt->packets));
		set(po, "dests", json_integer((json_int_t)d));
		json_array_append_new(ports, po);
	}
	const char *fp = fingerprint_of(s->kind);
	bool rate_ok = s->family == 6 || (!rate_observed(s) && s->rate >= 10.0);
	bool scanner = may_scan(s->kind) && dests_max >= r->min_dests && rate_ok;
	const char *expect = fp && s->packets >= 5 ? fp : scanner ? "scanner" : NULL;
	set(o, "expect", expect ? json_string(expect) : json_null());
	set(o, "qualifies_scanner", json_boolean(scanner));
	set(o, "fingerprint", fp ? json_string(fp) : json_null());
	set(o, "packets", json_integer((json_int_t)s->packets));
	set(o, "bytes", json_integer((json_int_t)s->bytes));
	set_time(o, "first", s->first, ns);
	set_time(o, "last", s->last, ns);
	if (s->kind != GEN_K_ROUTER) {
		set(o, "rate_pps", json_real(s->rate));
		set(o, "rate_basis", json_string(rate_observed(s) ? "observed" : "internet"));
	}
	set(o, "dests_max", json_integer((json_int_t)dests_max));
	set(o, "ports", ports);
	set(o, "asn", asn_json(r, s->addr));
	set(o, "hops", json_integer(s->hops));

	switch (s->kind) {
	case GEN_K_MIRAI:
		set(o, "variant", json_string(s->variant ? "per-packet" : "classic"));
		if (!s->variant) {
			set(o, "sport", json_integer(s->sport));
			set(o, "window", json_integer(s->window));
		}
		break;
	case GEN_K_MASSCAN:
		set(o, "sport", json_integer(s->sport));
		break;
	case GEN_K_UNICORNSCAN:
		set(o, "scan_key", json_integer(s->seq));
		set(o, "address_term", json_string(s->variant ? "byte-swapped" : "host-order"));
		break;
	case GEN_K_NMAP:
		set(o, "sport", json_integer(s->sport));
		set(o, "seq", json_integer(s->seq));
		break;
	case GEN_K_RAW_SOCKET:
		set(o, "collides_with",
		    json_string("zmap ip.id 54321 and TTL 255, not window 65535"));
		set(o, "sport", s->variant & 1 ? json_null() : json_integer(s->sport));
		set(o, "seq_zero", json_boolean(!(s->variant & 2)));
		break;
	case GEN_K_SCANNER:
	case GEN_K_SLOW_SCANNER:
	case GEN_K_VISITOR:
	case GEN_K_OUTSIDE:
		set(o, "stack", json_string(gen_stack_name(s->stack)));
		set(o, "retransmits",
		    json_boolean(s->retx_delay != 0 ||
		                 (s->kind == GEN_K_VISITOR && s->retries_left)));
		if (s->kind == GEN_K_OUTSIDE)
			set(o, "outside_darknet", json_true());
		break;
	case GEN_K_MISCONFIG:
		set(o, "detail", json_string(gen_misconfig_name(s->sub)));
		set(o, "fragments", json_integer((json_int_t)s->frags));
		break;
	case GEN_K_VICTIM:
		set(o, "victim", json_true());
		set(o, "response", json_string(gen_response_name(s->sub)));
		break;
	case GEN_K_ROUTER: {
		static const int types[][2] = { { 3, 13 }, { 3, 1 }, { 11, 0 } };
		const struct gen_victim *v = &r->victims[s->victim];
		set(o, "victim_addr", addr_json(r->src[v->src].addr));
		set(o, "icmp_type", json_integer(types[s->variant % 3][0]));
		set(o, "icmp_code", json_integer(types[s->variant % 3][1]));
		break;
	}
	default:
		break;
	}
	return o;
}

static json_t *victim_record(const struct gen_run *r, const struct gen_victim *v, bool ns)
{
	const struct gen_source *s = &r->src[v->src];
	json_t *o = json_object();
	set(o, "record", json_string("victim"));
	set(o, "addr", addr_json(s->addr));
	set(o, "family", json_integer(s->family));
	set(o, "response", json_string(gen_response_name(v->response)));
	const char *proto = v->response == GEN_R_SYNACK || v->response == GEN_R_RST ? "tcp"
	                    : s->family == 6                                        ? "icmpv6"
	                                                                            : "icmp";
	set(o, "proto", json_string(proto));
	set(o, "service_port", json_integer(v->service_port));
	set(o, "attack_pps", json_real(v->attack_pps));
	set(o, "attack_rate_basis", json_string(s->family == 6 ? "observed" : "internet"));
	set_time(o, "attack_start", v->attack_from, ns);
	set_time(o, "attack_end", v->attack_to, ns);
	set(o, "packets", json_integer((json_int_t)v->packets));
	struct gen_peaks pk = gen_truth_peaks(v->times, v->ntimes);
	double dur = v->packets ? (double)(v->last - v->first) / 1e9 : 0;
	if (v->packets) {
		set_time(o, "first", v->first, ns);
		set_time(o, "last", v->last, ns);
	}
	set(o, "duration_s", json_real(dur));
	set(o, "peak_60s", json_integer((json_int_t)pk.peak_grid));
	set(o, "peak_60s_any", json_integer((json_int_t)pk.peak_any60));
	bool q = v->packets >= 25 && dur >= 60.0 && pk.peak_grid >= 30;
	/* Borderline: a telescope that aligns its windows differently, or
	 * rounds times to the second, could decide the other way. */
	bool border = (pk.peak_any60 >= 30 && pk.peak_any50 < 30) || (dur > 55 && dur < 65) ||
	              (v->packets >= 23 && v->packets <= 27);
	set(o, "qualifies", json_boolean(q));
	set(o, "borderline", json_boolean(border));
	set(o, "synack_retransmits", json_boolean(v->retransmit && v->response == GEN_R_SYNACK));
	json_t *senders = json_array();
	if (v->response == GEN_R_ICMP_ERROR) {
		for (unsigned i = 0; i < s->nrouters; i++)
			json_array_append_new(senders, addr_json(r->src[s->routers[i]].addr));
	} else {
		json_array_append_new(senders, addr_json(s->addr));
	}
	set(o, "senders", senders);
	set(o, "asn", asn_json(r, s->addr));
	return o;
}

/* The surge population (surge), or the steady visitors of port. */
static const struct gen_popstate *find_pop(const struct gen_run *r, bool surge, uint16_t port)
{
	for (size_t i = 0; i < r->npops; i++) {
		const struct gen_popstate *ps = &r->pops[i];
		if (ps->def.kind != GEN_K_VISITOR || ps->def.surge != surge)
			continue;
		if (surge || (ps->def.nports == 1 && ps->def.ports[0] == port))
			return ps;
	}
	return NULL;
}

int gen_truth_write(const struct gen_run *r, const struct gen_truth_info *info, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		int rc = -errno;
		kz_err("%s: cannot create: %s", path, strerror(errno));
		return rc;
	}
	bool ns = info->nanosec;
	int rc = 0;

	/* Totals first: the run record is the first line. */
	uint64_t nsources = 0, outside = 0, junk = 0;
	for (size_t i = 0; i < r->nsrc; i++) {
		const struct gen_source *s = &r->src[i];
		if (s->kind == GEN_K_JUNK)
			junk += s->packets;
		else if (s->kind != GEN_K_SPAWNER && s->packets)
			nsources++;
		if (s->kind == GEN_K_OUTSIDE)
			outside += s->packets;
	}
	const struct gen_popstate *surge = find_pop(r, true, 0);

	json_t *run = json_object();
	set(run, "record", json_string("run"));
	set(run, "generator", json_string("kizuki-gen"));
	set(run, "generator_version", json_string(KZ_VERSION));
	set(run, "truth_format", json_integer(1));
	set(run, "profile", json_string(info->profile));
	set(run, "seed", json_integer((json_int_t)info->seed));
	set(run, "pcap", info->pcap ? json_string(info->pcap) : json_null());
	set(run, "tsresol", json_string(ns ? "ns" : "us"));
	set_time(run, "start", r->t0, ns);
	set_time(run, "end", info->end, ns);
	set(run, "duration_s", json_real((double)(info->end - r->t0) / 1e9));
	set(run, "stopped_at_packet_cap", json_boolean(info->capped));
	json_t *dark = json_array();
	for (unsigned i = 0; i < r->w->ndark; i++) {
		char buf[KZ_CIDR_STRLEN];
		json_array_append_new(dark, json_string(kz_cidr_format(&r->w->dark[i], buf)));
	}
	set(run, "darknet", dark);
	set(run, "darknet_size", json_integer((json_int_t)r->w->n4));
	set(run, "scanner_min_dests", json_integer(r->min_dests));
	set(run, "scanner_min_rate_pps", json_integer(10));
	set(run, "fingerprint_min_packets", json_integer(5));
	set(run, "rsdos_min_packets", json_integer(25));
	set(run, "rsdos_min_duration_s", json_integer(60));
	set(run, "rsdos_min_peak_60s", json_integer(30));
	set(run, "packets", json_integer((json_int_t)r->packets));
	set(run, "ip_bytes", json_integer((json_int_t)r->bytes));
	set(run, "sources", json_integer((json_int_t)nsources));
	set(run, "victims", json_integer((json_int_t)r->nvictims));
	set(run, "surges", json_integer(surge ? 1 : 0));
	set(run, "outside_packets", json_integer((json_int_t)outside));
	set(run, "junk_frames", json_integer((json_int_t)junk));
	set(run, "dropped_sources", json_integer((json_int_t)r->dropped_sources));
	if ((rc = emit(f, run)))
		goto fail;

	for (size_t i = 0; i < r->nsrc; i++) {
		const struct gen_source *s = &r->src[i];
		if (s->kind == GEN_K_JUNK || s->kind == GEN_K_SPAWNER || !s->packets)
			continue;
		if ((rc = emit(f, source_record(r, s, ns))))
			goto fail;
	}
	for (size_t i = 0; i < r->nvictims; i++)
		if ((rc = emit(f, victim_record(r, &r->victims[i], ns))))
			goto fail;

	if (surge) {
		uint16_t port = surge->def.ports[0];
		const struct gen_popstate *base = find_pop(r, false, port);
		uint64_t n = 0;
		for (size_t i = 0; i < r->nsrc; i++)
			if (r->src[i].kind == GEN_K_VISITOR && r->src[i].pop == surge - r->pops &&
			    r->src[i].packets)
				n++;
		json_t *o = json_object();
		set(o, "record", json_string("surge"));
		set(o, "port", json_integer(port));
		set(o, "proto", json_string("tcp"));
		set_time(o, "start", surge->t_from, ns);
		set_time(o, "end", surge->t_to, ns);
		set_time(o, "interval_start", surge->t_from - (surge->t_from % (60 * NS)), ns);
		set(o, "baseline_sources_per_min",
		    json_real(base ? base->def.arrivals_per_min : 0.0));
		set(o, "surge_sources_per_min", json_real(surge->def.arrivals_per_min));
		set(o, "surge_sources", json_integer((json_int_t)n));
		if ((rc = emit(f, o)))
			goto fail;
	}
	if (r->track) {
		json_t *o = json_object();
		set(o, "record", json_string("port-series"));
		set(o, "port", json_integer(r->track_port));
		set(o, "proto", json_string(proto_name(r->track_proto)));
		set(o, "bin_s", json_integer(60));
		set_time(o, "start", r->t0 - r->t0 % (60 * NS), ns);
		json_t *arr = json_array();
		for (size_t i = 0; i < r->ntrack; i++)
			json_array_append_new(arr, json_integer(r->track[i]));
		set(o, "sources", arr);
		if ((rc = emit(f, o)))
			goto fail;
	}
	for (unsigned j = 0; j < GEN_J_COUNT; j++) {
		json_t *o = json_object();
		set(o, "record", json_string("junk"));
		set(o, "kind", json_string(gen_junk_name(j)));
		set(o, "frames", json_integer((json_int_t)r->junk[j]));
		if ((rc = emit(f, o)))
			goto fail;
	}
	if (fclose(f) != 0) {
		rc = -errno;
		kz_err("%s: write failed: %s", path, strerror(errno));
		return rc;
	}
	return 0;
fail:
	kz_err("%s: write failed", path);
	fclose(f);
	return rc;
}
