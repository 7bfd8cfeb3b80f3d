/*
 * kizuki demo: the whole pipeline on a built-in simulated network. Until
 * every part has landed it runs what exists, names what is missing, and
 * exits 0 (CONTRACT.md), because it is the README's first command.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

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
			puts("usage: kizuki demo [--once] [--out DIR]");
			return KZ_EXIT_OK;
		case ':':
			return kz_cli_usage_error("%s needs a value", argv[optind - 1]);
		default:
			return kz_cli_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	printf("kizuki demo: nothing to run yet\n");
	return KZ_EXIT_OK;
}
