/*
 * kizuki anon: Crypto-PAn pseudonyms for addresses read on stdin.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int kz_cmd_anon(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key-hex", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'h':
			puts("usage: kizuki anon --key-hex HEX < addresses > pseudonyms");
			return KZ_EXIT_OK;
		case ':':
			return kz_cli_usage_error("%s needs a value", argv[optind - 1]);
		default:
			return kz_cli_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	if (!key)
		return kz_cli_usage_error("--key-hex is required");
	return kz_cli_not_landed("Crypto-PAn module", "issue 2");
}
