/*
 * kizuki report: per-operator reports and partner feeds from a hub's store
 * (CONTRACT.md). It belongs to the second half of issue 6 (notify, share),
 * which has not landed: this file parses the command line and says so.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char report_usage[] =
        "usage: kizuki report --db PATH (--asn N | --partner NAME) [options]\n"
        "\n"
        "  --db PATH                         the hub's store (required)\n"
        "  --asn N                           the operator's own view\n"
        "  --partner NAME                    that partner's feed, cut to its TLP and "
        "pseudonymised\n"
        "  --format csv|json|xarf|stix|misp  (default csv)\n"
        "  --since TIME                      ISO 8601 UTC\n"
        "  --out FILE|DIR                    (default stdout; misp needs a directory)\n"
        "  -h, --help                        this text\n";

int kz_cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 1 },      { "asn", required_argument, NULL, 1 },
		{ "partner", required_argument, NULL, 1 }, { "format", required_argument, NULL, 1 },
		{ "since", required_argument, NULL, 1 },   { "out", required_argument, NULL, 1 },
		{ "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
	};
	int c, idx, have_db = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
		switch (c) {
		case 'h':
			fputs(report_usage, stdout);
			return KZ_EXIT_OK;
		case ':':
			return kz_cli_usage_error("%s needs a value", argv[optind - 1]);
		case '?':
			return kz_cli_usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			if (strcmp(longopts[idx].name, "db") == 0)
				have_db = 1;
			break;
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	if (!have_db)
		return kz_cli_usage_error("--db is required");
	return kz_cli_not_landed("hub's report command", "issue 6");
}
