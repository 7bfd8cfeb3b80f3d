/*
 * kizuki hub and kizuki report: the command lines of the ISAC (CONTRACT.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char hub_usage[] =
        "usage: kizuki hub --db PATH [options]\n"
        "       kizuki hub token --role admin|sensor|operator|partner --name NAME [--asn A,B] "
        "[--tlp LEVEL]\n"
        "\n"
        "The ISAC daemon: ingests telescope and survey records, attributes each address\n"
        "to its network operator, tracks findings until remediated, writes per-operator\n"
        "reports and shares indicators under TLP.\n"
        "\n"
        "  --db PATH              SQLite store (required)\n"
        "  --listen ADDR:PORT     HTTP API and dashboard (default 127.0.0.1:8470)\n"
        "  --pfx2as FILE          CAIDA prefix-to-AS table\n"
        "  --operators FILE       asn<TAB>name<TAB>abuse-contact[<TAB>renotify-sec]\n"
        "  --mmdb FILE            MaxMind-format country database\n"
        "  --tokens FILE          role<TAB>name<TAB>scope<TAB>sha256-of-token\n"
        "  --partner-keys FILE    partner<TAB>key-id<TAB>hex-key (mode 0600)\n"
        "  --outbox DIR           write each operator's report here\n"
        "  --smtp-url URL         send reports by SMTP\n"
        "  --report-period SEC    one report per operator per period\n"
        "  --inactive-after SEC   telescope findings go inactive after this (default 7 days)\n"
        "  --progress             progress lines on stderr even when it is not a terminal\n"
        "  -h, --help             this text\n";

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

/* Returns 0 when parsed, HELP_SHOWN after --help, else an exit status. */
enum { HELP_SHOWN = -1 };

static int parse_common(int argc, char **argv, const struct option *longopts, const char *usage,
                        const char *required)
{
	int c, idx, have_required = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return HELP_SHOWN;
		case ':':
			return kz_cli_usage_error("%s needs a value", argv[optind - 1]);
		case '?':
			return kz_cli_usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			if (strcmp(longopts[idx].name, required) == 0)
				have_required = 1;
			break;
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	if (!have_required)
		return kz_cli_usage_error("--%s is required", required);
	return 0;
}

int kz_cmd_hub(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "token") == 0) {
		kz_cli_init("hub token", KZ_LOG_INFO);
		static const struct option tokenopts[] = {
			{ "role", required_argument, NULL, 1 },
			{ "name", required_argument, NULL, 1 },
			{ "asn", required_argument, NULL, 1 },
			{ "tlp", required_argument, NULL, 1 },
			{ "help", no_argument, NULL, 'h' },
			{ NULL, 0, NULL, 0 },
		};
		int rc = parse_common(argc - 1, argv + 1, tokenopts, hub_usage, "role");
		if (rc == HELP_SHOWN)
			return KZ_EXIT_OK;
		if (rc)
			return rc;
		return kz_cli_not_landed("hub", "issue 6");
	}
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 1 },
		{ "listen", required_argument, NULL, 1 },
		{ "pfx2as", required_argument, NULL, 1 },
		{ "operators", required_argument, NULL, 1 },
		{ "mmdb", required_argument, NULL, 1 },
		{ "tokens", required_argument, NULL, 1 },
		{ "partner-keys", required_argument, NULL, 1 },
		{ "outbox", required_argument, NULL, 1 },
		{ "smtp-url", required_argument, NULL, 1 },
		{ "report-period", required_argument, NULL, 1 },
		{ "inactive-after", required_argument, NULL, 1 },
		{ "progress", no_argument, NULL, 1 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int rc = parse_common(argc, argv, longopts, hub_usage, "db");
	if (rc == HELP_SHOWN)
		return KZ_EXIT_OK;
	if (rc)
		return rc;
	return kz_cli_not_landed("hub", "issue 6");
}

int kz_cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 1 },      { "asn", required_argument, NULL, 1 },
		{ "partner", required_argument, NULL, 1 }, { "format", required_argument, NULL, 1 },
		{ "since", required_argument, NULL, 1 },   { "out", required_argument, NULL, 1 },
		{ "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
	};
	int rc = parse_common(argc, argv, longopts, report_usage, "db");
	if (rc == HELP_SHOWN)
		return KZ_EXIT_OK;
	if (rc)
		return rc;
	return kz_cli_not_landed("hub's report command", "issue 6");
}
