/*
 * kizuki survey: the command line of the NOTICE-style survey (CONTRACT.md).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const char survey_usage[] =
        "usage: kizuki survey --scope FILE [options]\n"
        "\n"
        "An authorised, default-deny survey: a stateless SYN (or connect) scan of the\n"
        "scope, then telnet/SSH/HTTP login checks with default ID/password pairs. It\n"
        "records whether login is possible and never runs a command.\n"
        "\n"
        "  --scope FILE           addresses and CIDRs to survey (required)\n"
        "  --exclude FILE         addresses never to touch\n"
        "  --optout FILE          owners' opt-out list\n"
        "  --ports SPEC           e.g. 23/telnet,2323/telnet,22/ssh,80/http,8080/http\n"
        "  --creds FILE           user:password[:protocols[:vendor-regex]] per line\n"
        "  --rate PPS             packets per second (stage 1)\n"
        "  --mode syn|connect     stage 1 method (default syn)\n"
        "  -i IFACE               interface for SYN mode\n"
        "  --gateway-mac MAC      next hop's MAC (default: from the neighbour table)\n"
        "  --source-ip ADDR       source address for SYN mode\n"
        "  --probes N             probes per target\n"
        "  --cooldown SEC         seconds to wait for replies after the last probe\n"
        "  --seed N               permutation seed (shared by all shards)\n"
        "  --shard I/N            this machine's shard, counting from 0\n"
        "  --no-login             stage 1 only\n"
        "  --targets-file FILE    stage 2 on these address:port/app lines, no scan\n"
        "  --max-attempts N       pairs tried per service\n"
        "  --concurrency N        simultaneous login connections\n"
        "  --http-path PATH       HTTP path to try (repeatable)\n"
        "  --redact-credentials   write the pair's index, not the pair\n"
        "  --authorization TEXT   the authority for this survey, written in the run header\n"
        "  --out FILE|-           JSON Lines results (default stdout)\n"
        "  --dry-run              print the probes that would be sent, send nothing\n"
        "  --allow-reserved       allow loopback, benchmarking and TEST-NET ranges named in the "
        "scope\n"
        "  --hub URL              post results to a hub\n"
        "  --token-file F         the hub token\n"
        "  --spool DIR            spool for uploads while the hub is unreachable\n"
        "  --spool-max BYTES      spool cap\n"
        "  --progress             progress lines on stderr even when it is not a terminal\n"
        "  -h, --help             this text\n";

int kz_cmd_survey(int argc, char **argv)
{
	enum { OPT_SCOPE = 256, OPT_OTHER_ARG, OPT_OTHER_FLAG };
	static const struct option longopts[] = {
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "exclude", required_argument, NULL, OPT_OTHER_ARG },
		{ "optout", required_argument, NULL, OPT_OTHER_ARG },
		{ "ports", required_argument, NULL, OPT_OTHER_ARG },
		{ "creds", required_argument, NULL, OPT_OTHER_ARG },
		{ "rate", required_argument, NULL, OPT_OTHER_ARG },
		{ "mode", required_argument, NULL, OPT_OTHER_ARG },
		{ "gateway-mac", required_argument, NULL, OPT_OTHER_ARG },
		{ "source-ip", required_argument, NULL, OPT_OTHER_ARG },
		{ "probes", required_argument, NULL, OPT_OTHER_ARG },
		{ "cooldown", required_argument, NULL, OPT_OTHER_ARG },
		{ "seed", required_argument, NULL, OPT_OTHER_ARG },
		{ "shard", required_argument, NULL, OPT_OTHER_ARG },
		{ "no-login", no_argument, NULL, OPT_OTHER_FLAG },
		{ "targets-file", required_argument, NULL, OPT_OTHER_ARG },
		{ "max-attempts", required_argument, NULL, OPT_OTHER_ARG },
		{ "concurrency", required_argument, NULL, OPT_OTHER_ARG },
		{ "http-path", required_argument, NULL, OPT_OTHER_ARG },
		{ "redact-credentials", no_argument, NULL, OPT_OTHER_FLAG },
		{ "authorization", required_argument, NULL, OPT_OTHER_ARG },
		{ "out", required_argument, NULL, OPT_OTHER_ARG },
		{ "dry-run", no_argument, NULL, OPT_OTHER_FLAG },
		{ "allow-reserved", no_argument, NULL, OPT_OTHER_FLAG },
		{ "hub", required_argument, NULL, OPT_OTHER_ARG },
		{ "token-file", required_argument, NULL, OPT_OTHER_ARG },
		{ "spool", required_argument, NULL, OPT_OTHER_ARG },
		{ "spool-max", required_argument, NULL, OPT_OTHER_ARG },
		{ "progress", no_argument, NULL, OPT_OTHER_FLAG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *scope = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SCOPE:
			scope = optarg;
			break;
		case 'h':
			fputs(survey_usage, stdout);
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
	if (!scope)
		return kz_cli_usage_error("--scope is required: the survey is default-deny and "
		                          "scans only an explicit scope");
	return kz_cli_not_landed("survey", "issues 4 and 5");
}
