/*
 * kizuki anon: Crypto-PAn pseudonyms for addresses read on stdin, one per
 * line, written in the same order and on the same line numbers of stdout.
 *
 * A filter for millions of lines: stdio buffering on both sides (fully
 * buffered output unless stdout is a terminal), one AES context for the
 * whole run, no allocation per line. It stops at the first bad line so
 * that a shifted or truncated input never yields output that looks whole.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "cryptopan.h"
#include "encode.h"
#include "lines.h"

static const char anon_help[] =
        "usage: kizuki anon --key-hex HEX < addresses > pseudonyms\n"
        "\n"
        "Crypto-PAn pseudonyms for IPv4 and IPv6 addresses: prefix-preserving\n"
        "(two addresses sharing their first k bits get pseudonyms sharing exactly\n"
        "k bits) and reversible by whoever holds the key. One address per line on\n"
        "stdin; its pseudonym on the same line of stdout.\n"
        "\n"
        "  --key-hex HEX  the 32-byte key as 64 hex digits: bytes 0-15 are the\n"
        "                 AES-128 key, bytes 16-31 seed the pad. Use one key per\n"
        "                 partner and rotate it (docs/anon.md). The key is visible\n"
        "                 in the process list until kizuki starts and blanks it.\n"
        "  -h, --help     this text\n"
        "\n"
        "Input lines:\n"
        "  - spaces and tabs around the address, and '#' with everything after it,\n"
        "    are ignored;\n"
        "  - a blank or comment-only line gives an empty output line, so output line\n"
        "    N always belongs to input line N (comments are never copied: they may\n"
        "    name the real addresses);\n"
        "  - IPv4-mapped IPv6 (::ffff:a.b.c.d) is pseudonymised and printed as IPv4;\n"
        "    IPv6 is printed in RFC 5952 form.\n"
        "\n"
        "A line that is not an address stops the run with\n"
        "  kizuki anon: <stdin>:LINE: TEXT: why\n"
        "and exit status 1. The pseudonyms of the lines before it have already been\n"
        "written; nothing is written for it or any line after it.\n"
        "\n"
        "Exit status: 0 done, 1 bad input or write error, 2 usage error.\n";

/* Reads the key with a reason for each way it can be wrong. */
static int parse_key(const char *hex, uint8_t key[KZ_CRYPTOPAN_KEYLEN])
{
	size_t len = strlen(hex);
	for (size_t i = 0; i < len; i++) {
		char c = hex[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return kz_cli_usage_error("--key-hex: character %zu is not a hex digit",
			                          i + 1);
	}
	if (len != 2 * KZ_CRYPTOPAN_KEYLEN)
		return kz_cli_usage_error(
		        "--key-hex: %zu hex digits; the key is 32 bytes, 64 digits", len);
	if (kz_hex_decode(hex, len, key, KZ_CRYPTOPAN_KEYLEN) != 0)
		return kz_cli_usage_error("--key-hex: not hex");
	return 0;
}

/* The offending text for a message: at most 64 bytes, control bytes shown
 * as '?', so that a binary line cannot garble the terminal. */
static const char *printable(const char *s, char out[72])
{
	size_t i = 0;
	for (; s[i] && i < 64; i++)
		out[i] = (s[i] >= 0x20 && s[i] != 0x7f) ? s[i] : '?';
	if (s[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

static int run(struct kz_cryptopan *cp, struct kz_lines *lr)
{
	char *line, text[72], buf[KZ_ADDR_STRLEN];
	size_t len;
	int rc;
	while ((rc = kz_lines_next(lr, &line, &len)) == 1) {
		char *s = kz_line_strip(line);
		if (*s == '\0') {
			putc_unlocked('\n', stdout);
			continue;
		}
		struct kz_addr a, p;
		const char *why;
		if (kz_addr_parse(s, &a, &why) != 0) {
			/* Earlier pseudonyms first, so a terminal shows them in order. */
			fflush(stdout);
			kz_cli_error("%s:%lu: %s: %s", kz_lines_path(lr), kz_lines_number(lr),
			             printable(s, text), why);
			return KZ_EXIT_FAILURE;
		}
		if (kz_cryptopan_anon(cp, a, &p) != 0) {
			kz_cli_error("%s:%lu: Crypto-PAn failed in OpenSSL", kz_lines_path(lr),
			             kz_lines_number(lr));
			return KZ_EXIT_FAILURE;
		}
		fputs_unlocked(kz_addr_format(p, buf), stdout);
		putc_unlocked('\n', stdout);
	}
	if (rc == 0)
		return KZ_EXIT_OK;
	if (rc == -EMSGSIZE)
		kz_cli_error("%s:%lu: line longer than %d bytes", kz_lines_path(lr),
		             kz_lines_number(lr), KZ_LINES_MAX);
	else if (rc == -EINVAL)
		kz_cli_error("%s:%lu: NUL byte in the line", kz_lines_path(lr),
		             kz_lines_number(lr));
	else
		kz_cli_error("reading %s: %s", kz_lines_path(lr), strerror(-rc));
	return KZ_EXIT_FAILURE;
}

int kz_cmd_anon(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key-hex", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t key[KZ_CRYPTOPAN_KEYLEN];
	bool have_key = false;
	int c, rc;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			rc = parse_key(optarg, key);
			/* Blank the key in our argument list (what ps shows). */
			memset(optarg, 'x', strlen(optarg));
			if (rc) {
				explicit_bzero(key, sizeof key);
				return rc;
			}
			have_key = true;
			break;
		case 'h':
			fputs(anon_help, stdout);
			return KZ_EXIT_OK;
		default:
			return kz_cli_bad_option(c, argv);
		}
	}
	if (kz_cli_no_positional(argc, argv, optind)) {
		explicit_bzero(key, sizeof key);
		return KZ_EXIT_USAGE;
	}
	if (!have_key)
		return kz_cli_usage_error("--key-hex is required");

	struct kz_cryptopan *cp = NULL;
	struct kz_lines *lr = NULL;
	rc = kz_cryptopan_new(key, &cp);
	explicit_bzero(key, sizeof key);
	if (rc) {
		kz_cli_error("setting up Crypto-PAn: %s", strerror(-rc));
		return KZ_EXIT_FAILURE;
	}
	rc = kz_lines_from_stream(stdin, "<stdin>", &lr);
	if (rc) {
		kz_cli_error("reading <stdin>: %s", strerror(-rc));
		kz_cryptopan_free(cp);
		return KZ_EXIT_FAILURE;
	}
	/* A terminal sees each pseudonym as its line is typed; a pipe or file
	 * gets large writes. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	int status = run(cp, lr);
	kz_lines_close(lr);
	kz_cryptopan_free(cp);
	/* What was written so far must reach stdout, and a full disk or closed
	 * pipe must not pass for success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		kz_cli_error("writing <stdout>: %s", strerror(errno));
		return KZ_EXIT_FAILURE;
	}
	return status;
}
