/*
 * kizuki telescope: the command line of the darknet sensor (CONTRACT.md).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const char telescope_usage[] =
        "usage: kizuki telescope (-r FILE | -i IFACE) --darknet CIDR[,CIDR...] [options]\n"
        "\n"
        "Reads a darknet (network telescope) interface or pcap, classifies scans and\n"
        "backscatter, fingerprints scanners and IoT malware, and writes events and\n"
        "interval statistics.\n"
        "\n"
        "  -r, --read FILE          pcap, pcapng or gzip-compressed capture ('-' for stdin)\n"
        "  -i, --interface IFACE    live capture\n"
        "      --darknet CIDRS      the darknet prefixes (required)\n"
        "      --sensor NAME        this sensor's name (default: the host name)\n"
        "      --interval SEC       statistics interval in packet time (default 60)\n"
        "      --max-sources N      per-source state budget (default 1000000)\n"
        "      --anonymised-dst     destinations are anonymised: disable rules using them\n"
        "      --events FILE|-      JSON Lines events\n"
        "      --stats FILE         JSON Lines interval statistics\n"
        "      --db PATH            the shared SQLite store\n"
        "      --hub URL            post events and statistics to a hub\n"
        "      --token-file F       the hub token\n"
        "      --spool DIR          spool for uploads while the hub is unreachable\n"
        "      --spool-max BYTES    spool cap (oldest data dropped and counted past it)\n"
        "      --progress           progress lines on stderr even when it is not a terminal\n"
        "  -h, --help               this text\n";

enum {
	OPT_DARKNET = 256,
	OPT_SENSOR,
	OPT_INTERVAL,
	OPT_MAX_SOURCES,
	OPT_ANON_DST,
	OPT_EVENTS,
	OPT_STATS,
	OPT_DB,
	OPT_HUB,
	OPT_TOKEN_FILE,
	OPT_SPOOL,
	OPT_SPOOL_MAX,
	OPT_PROGRESS,
};

int kz_cmd_telescope(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "darknet", required_argument, NULL, OPT_DARKNET },
		{ "sensor", required_argument, NULL, OPT_SENSOR },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "max-sources", required_argument, NULL, OPT_MAX_SOURCES },
		{ "anonymised-dst", no_argument, NULL, OPT_ANON_DST },
		{ "events", required_argument, NULL, OPT_EVENTS },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "db", required_argument, NULL, OPT_DB },
		{ "hub", required_argument, NULL, OPT_HUB },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "spool", required_argument, NULL, OPT_SPOOL },
		{ "spool-max", required_argument, NULL, OPT_SPOOL_MAX },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *read_file = NULL, *iface = NULL, *darknet = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			read_file = optarg;
			break;
		case 'i':
			iface = optarg;
			break;
		case OPT_DARKNET:
			darknet = optarg;
			break;
		case 'h':
			fputs(telescope_usage, stdout);
			return KZ_EXIT_OK;
		case ':':
			return kz_cli_usage_error("%s needs a value", argv[optind - 1]);
		case '?':
			return kz_cli_usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			break;
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	if (!read_file == !iface)
		return kz_cli_usage_error("exactly one of -r FILE and -i IFACE is required");
	if (!darknet)
		return kz_cli_usage_error("--darknet is required");
	return kz_cli_not_landed("telescope", "issue 3");
}
