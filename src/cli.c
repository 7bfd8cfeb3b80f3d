#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char cli_name[64] = "kizuki";

__attribute__((format(printf, 1, 0))) static void cli_vprint(const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof msg, fmt, ap);
	fprintf(stderr, "%s: %s\n", cli_name, msg);
}

static void cli_log_handler(enum kz_log_level level, const char *msg, void *userdata)
{
	(void)userdata;
	if (level <= KZ_LOG_WARN && level != KZ_LOG_ERROR)
		fprintf(stderr, "%s: warning: %s\n", cli_name, msg);
	else
		fprintf(stderr, "%s: %s\n", cli_name, msg);
}

void kz_cli_init(const char *subcommand, enum kz_log_level verbosity)
{
	snprintf(cli_name, sizeof cli_name, "kizuki %s", subcommand);
	kz_log_set_handler(cli_log_handler, NULL, verbosity);
}

const char *kz_cli_name(void)
{
	return cli_name;
}

void kz_cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vprint(fmt, ap);
	va_end(ap);
}

void kz_cli_warn(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: warning: %s\n", cli_name, msg);
}

void kz_cli_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vprint(fmt, ap);
	va_end(ap);
}

int kz_cli_usage_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s (see '%s --help')\n", cli_name, msg, cli_name);
	return KZ_EXIT_USAGE;
}

int kz_cli_not_landed(const char *part, const char *issue)
{
	kz_cli_error("not available yet: the %s has not landed in this version (%s)", part, issue);
	return KZ_EXIT_FAILURE;
}

int kz_cli_bad_option(int c, char **argv)
{
	/* A long option is the argument getopt stands on; a short one is
	 * named by optopt, since that argument may be a cluster ("-rx"). */
	const char *typed = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, '\0' };
	if (strncmp(typed, "--", 2) != 0 && optopt > ' ' && optopt < 127)
		typed = shortopt;
	if (c == ':')
		return kz_cli_usage_error("%s needs a value", typed);
	return kz_cli_usage_error("unknown option '%s'", typed);
}

void kz_cli_catch_signals(void (*handler)(int), bool hangup)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hangup)
		sigaction(SIGHUP, &sa, NULL);
}

int kz_cli_no_positional(int argc, char **argv, int optind_now)
{
	if (optind_now < argc)
		return kz_cli_usage_error("unexpected argument '%s'", argv[optind_now]);
	return 0;
}

int kz_cli_parse_u64(const char *option, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	if (arg[0] < '0' || arg[0] > '9') {
		kz_cli_usage_error("--%s %s: not a number", option, arg);
		return -1;
	}
	errno = 0;
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno == ERANGE || *end != '\0') {
		kz_cli_usage_error("--%s %s: not a number", option, arg);
		return -1;
	}
	if (v < min || v > max) {
		kz_cli_usage_error("--%s %s: out of range %llu..%llu", option, arg,
		                   (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

bool kz_cli_want_progress(bool asked)
{
	return asked || isatty(STDERR_FILENO);
}
