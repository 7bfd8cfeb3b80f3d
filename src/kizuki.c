/*
 * kizuki: one binary, one subcommand per part (CONTRACT.md). This file only
 * dispatches; each subcommand parses its own options.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "telescope", kz_cmd_telescope, "darknet sensor and analyser (pcap or live interface)" },
	{ "survey", kz_cmd_survey, "authorised, default-deny survey of IoT logins" },
	{ "hub", kz_cmd_hub, "the ISAC: ingest, attribute, track, notify, share" },
	{ "report", kz_cmd_report, "per-operator reports and partner feeds from a store" },
	{ "anon", kz_cmd_anon, "Crypto-PAn pseudonyms for addresses on stdin" },
	{ "demo", kz_cmd_demo, "the whole pipeline on a built-in simulated network" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: kizuki <subcommand> [options]\n"
	             "       kizuki <subcommand> --help\n"
	             "       kizuki --version\n\n"
	             "IoT-botnet early warning and remediation.\n\nsubcommands:\n");
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "kizuki: a subcommand is required (see 'kizuki --help')\n");
		return KZ_EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--version") == 0 || strcmp(sub, "version") == 0) {
		printf("kizuki %s\n", KZ_VERSION);
		return KZ_EXIT_OK;
	}
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		usage(stdout);
		return KZ_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
		if (strcmp(sub, subcommands[i].name) == 0) {
			kz_cli_init(sub, KZ_LOG_INFO);
			/* Subcommands see argv[0] as their own name, as getopt expects. */
			return subcommands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "kizuki: unknown subcommand '%s' (see 'kizuki --help')\n", sub);
	return KZ_EXIT_USAGE;
}
