/*
 * What every subcommand shares: the one-line error form of CONTRACT.md
 * ("kizuki <sub>: <what>: <why>"), exit statuses, the log handler that
 * routes libkizuki's messages to stderr, and strict option-value parsing.
 */
#ifndef KZ_CLI_H
#define KZ_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

enum {
	KZ_EXIT_OK = 0,
	KZ_EXIT_FAILURE = 1,
	KZ_EXIT_USAGE = 2,
};

/* Names the running subcommand ("telescope", "hub token") for messages and
 * routes the library's log to stderr at the given verbosity. */
void kz_cli_init(const char *subcommand, enum kz_log_level verbosity);

/* The subcommand's name as given to kz_cli_init. */
const char *kz_cli_name(void);

/* Prints "kizuki <sub>: <message>" on stderr. */
void kz_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kz_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kz_cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints one usage-error line (pointing at --help) and returns KZ_EXIT_USAGE. */
int kz_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Says plainly that this part has not landed yet and returns KZ_EXIT_FAILURE. */
int kz_cli_not_landed(const char *part, const char *issue);

/* The usage error for getopt_long's ':' (an option without its value) or
 * '?' (an unknown option), naming the option as typed; optstring must start
 * with ':'. Returns KZ_EXIT_USAGE. */
int kz_cli_bad_option(int c, char **argv);

/* Sends SIGINT and SIGTERM (and SIGHUP when hangup) to handler, without
 * SA_RESTART, so that a blocking wait returns at once and the caller's loop
 * sees the flag the handler sets: how every long-running subcommand stops
 * cleanly. */
void kz_cli_catch_signals(void (*handler)(int), bool hangup);

/* The end-of-options check: reports a stray positional argument. Returns 0
 * when argv[optind..] is empty, else KZ_EXIT_USAGE after printing why. */
int kz_cli_no_positional(int argc, char **argv, int optind_now);

/* Strict unsigned parse of an option value: decimal, no sign, no trailing
 * bytes, within [min, max]. On error prints a usage line naming the option
 * and returns -1. */
int kz_cli_parse_u64(const char *option, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
        __attribute__((warn_unused_result));

/* True when progress lines should be printed: stderr is a terminal, or the
 * user asked with --progress. */
bool kz_cli_want_progress(bool asked);

/* Subcommand entry points. */
int kz_cmd_telescope(int argc, char **argv);
int kz_cmd_survey(int argc, char **argv);
int kz_cmd_hub(int argc, char **argv);
int kz_cmd_report(int argc, char **argv);
int kz_cmd_anon(int argc, char **argv);
int kz_cmd_demo(int argc, char **argv);

#endif
