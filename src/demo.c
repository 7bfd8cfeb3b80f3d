/*
 * kizuki demo: the whole pipeline on a built-in simulated network. Until
 * every part has landed it runs what exists, names what is missing, and
 * exits 0 (CONTRACT.md), because it is the README's first command.
 *
 * What exists now is the core library, so the demo shows it working on the
 * demo's own world: the operators AS64496–AS64511 own 198.19.0.0/16 in
 * sixteen /20s, the survey's scope meets the built-in deny set, and
 * partners receive Crypto-PAn pseudonyms instead of addresses.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cli.h"
#include "cryptopan.h"
#include "lines.h"
#include "pfx.h"
#include "scope.h"

/* The demo world's routing table: one /20 of 198.19.0.0/16 per operator. */
static int demo_pfx2as(struct kz_pfx **out)
{
	char text[2048];
	size_t n = 0;
	for (unsigned i = 0; i < 16; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "198.19.%u.0\t20\t%u\n", i * 16,
		                      64496 + i);
	/* One multi-origin prefix, as real tables have. */
	n += (size_t)snprintf(text + n, sizeof text - n, "198.18.128.0\t24\t64500_64501\n");
	char err[256];
	if (kz_pfx_load_mem("demo-pfx2as", text, n, out, err, sizeof err) != 0) {
		kz_cli_error("%s", err);
		return -1;
	}
	return 0;
}

static int show_attribution(void)
{
	struct kz_pfx *t;
	if (demo_pfx2as(&t) != 0)
		return -1;
	printf("\n== attribution: address -> prefix -> origin AS (table %s)\n", kz_pfx_version(t));
	static const char *const samples[] = { "198.19.3.7", "198.19.77.200", "198.19.255.1",
		                               "198.18.128.9", "192.0.2.1" };
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		struct kz_addr a;
		const char *why;
		if (kz_addr_parse(samples[i], &a, &why) != 0)
			continue;
		struct kz_pfx_match m;
		char pbuf[KZ_CIDR_STRLEN];
		if (!kz_pfx_lookup(t, a, &m)) {
			printf("  %-15s  no route: attributed to nobody\n", samples[i]);
			continue;
		}
		struct kz_pfx_origin o;
		if (kz_pfx_origin(t, m.origin, &o) != 0)
			continue;
		printf("  %-15s  %-17s AS%s%s\n", samples[i], kz_cidr_format(&m.prefix, pbuf),
		       o.text, o.multi_origin ? "  (multi-origin: every origin is notified)" : "");
	}
	kz_pfx_free(t);
	return 0;
}

static int show_scope(void)
{
	/* A survey scope as an operator might write it, with a mistake in it. */
	static const char scope_text[] = "# the demo survey's scope\n"
	                                 "198.18.0.0/20      # the simulated fleet\n"
	                                 "10.0.0.0/8         # private space: always denied\n"
	                                 "198.18.8.0/24      # overlaps the first line\n";
	static const char exclude_text[] = "198.18.15.0/24\n";
	FILE *sf = fmemopen((void *)scope_text, sizeof scope_text - 1, "r");
	FILE *ef = fmemopen((void *)exclude_text, sizeof exclude_text - 1, "r");
	struct kz_lines *sl = NULL, *el = NULL;
	struct kz_scope *scope = NULL;
	int rc = -1;
	if (!sf || !ef || kz_lines_from_stream(sf, "scope.txt", &sl) != 0 ||
	    kz_lines_from_stream(ef, "exclude.txt", &el) != 0)
		goto out;
	printf("\n== survey scope: default-deny (scope - exclude - opt-out - deny set)\n");
	fflush(stdout); /* the loader warns on stderr: keep the two in order */
	if (kz_scope_load_lines(sl, el, NULL, true, &scope) != 0)
		goto out;
	char line[512];
	printf("  %s\n", kz_scope_summary_format(kz_scope_summary(scope), line, sizeof line));
	static const char *const probes[] = { "198.18.1.1", "198.18.15.9", "10.1.2.3",
		                              "203.0.113.5" };
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		struct kz_addr a;
		const char *why;
		if (kz_addr_parse(probes[i], &a, &why) == 0)
			printf("  %-12s %s\n", probes[i],
			       kz_scope_allows(scope, a) ? "may be probed" : "never touched");
	}
	rc = 0;
out:
	kz_scope_free(scope);
	kz_lines_close(sl);
	kz_lines_close(el);
	if (sf)
		fclose(sf);
	if (ef)
		fclose(ef);
	return rc;
}

static int show_pseudonyms(void)
{
	/* The Crypto-PAn 1.0 sample key; partners each get their own key. */
	static const uint8_t key[KZ_CRYPTOPAN_KEYLEN] = { 21,  34,  23,  141, 51,  164, 207, 128,
		                                          19,  10,  91,  22,  73,  144, 125, 16,
		                                          216, 152, 143, 131, 121, 121, 101, 39,
		                                          98,  87,  76,  45,  42,  132, 34,  2 };
	struct kz_cryptopan *cp;
	if (kz_cryptopan_new(key, &cp) != 0)
		return -1;
	printf("\n== sharing: prefix-preserving pseudonyms (Crypto-PAn) for a partner\n");
	static const char *const addrs[] = { "198.19.3.7", "198.19.3.8", "198.19.200.1",
		                             "2001:db8::1" };
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		struct kz_addr a, p;
		const char *why;
		char buf[KZ_ADDR_STRLEN];
		if (kz_addr_parse(addrs[i], &a, &why) != 0 || kz_cryptopan_anon(cp, a, &p) != 0)
			continue;
		printf("  %-14s -> %s\n", addrs[i], kz_addr_format(p, buf));
	}
	kz_cryptopan_free(cp);
	return 0;
}

int kz_cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "out", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
		case 'd':
			break;
		case 'h':
			puts("usage: kizuki demo [--once] [--out DIR]\n\n"
			     "Runs the whole pipeline on a built-in simulated network. Until "
			     "every\n"
			     "part has landed it runs what exists and lists what is coming.");
			return KZ_EXIT_OK;
		case ':':
			return kz_cli_usage_error("%s needs a value", argv[optind - 1]);
		default:
			return kz_cli_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	printf("kizuki %s demo: the core library on the demo's simulated world\n", KZ_VERSION);
	int failed = 0;
	failed |= show_attribution() != 0;
	failed |= show_scope() != 0;
	failed |= show_pseudonyms() != 0;
	printf("\nnot in this version yet (each says so when run):\n"
	       "  kizuki telescope   darknet analysis of a generated multi-hour trace (issue 3)\n"
	       "  kizuki survey      scan and login checks of a simulated IoT fleet (issues 4, 5)\n"
	       "  kizuki hub         ingest, attribution, lifecycle, reports, sharing (issue 6)\n"
	       "  dashboard          the web view of it all (issue 7)\n");
	if (failed)
		kz_cli_error("a demo step failed (see above)");
	return failed ? KZ_EXIT_FAILURE : KZ_EXIT_OK;
}
