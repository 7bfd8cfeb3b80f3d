/*
 * kizuki-upload: ships JSON Lines records (or, with --stats, interval
 * stats) to a hub through the same on-disk spool that telescope and survey
 * use (src/lib/spool.h). Useful on its own to feed a hub from IntelMQ's
 * file output, and the spool's test client.
 *
 *   kizuki-upload --hub URL --token-file F --spool DIR [--spool-max BYTES]
 *                 [--stats] [--sensor NAME] [--drain SEC] [FILE...]
 *
 * Reads the files (or stdin), spools every line, then waits up to --drain
 * seconds (default 60) for the hub to take everything. Prints a summary on
 * stderr; exits 0 when nothing is left in the spool, 1 otherwise (what is
 * left is sent by the next run with the same --spool).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spool.h"
#include "tokens.h"

static void log_stderr(enum kz_log_level level, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "kizuki-upload: %s%s\n", level == KZ_LOG_WARN ? "warning: " : "", msg);
}

static int feed(struct kz_spool *sp, FILE *f, enum kz_spool_stream s, unsigned long *lines)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (n == 1 && line[0] == '\n')
			continue;
		if ((rc = kz_spool_append(sp, s, line, (size_t)n)))
			break;
		(*lines)++;
	}
	free(line);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hub", required_argument, NULL, 'H' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "spool", required_argument, NULL, 'S' },
		{ "spool-max", required_argument, NULL, 'M' },
		{ "stats", no_argument, NULL, 's' },
		{ "sensor", required_argument, NULL, 'n' },
		{ "drain", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kz_spool_config cfg = { 0 };
	const char *token_file = NULL;
	enum kz_spool_stream stream = KZ_SPOOL_EVENTS;
	double drain = 60;
	char token[256], err[512];
	int c;
	kz_log_set_handler(log_stderr, NULL, KZ_LOG_INFO);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			cfg.hub_url = optarg;
			break;
		case 'T':
			token_file = optarg;
			break;
		case 'S':
			cfg.dir = optarg;
			break;
		case 'M':
			cfg.max_bytes = strtoull(optarg, NULL, 10);
			break;
		case 's':
			stream = KZ_SPOOL_STATS;
			break;
		case 'n':
			cfg.sensor = optarg;
			break;
		case 'd':
			drain = atof(optarg);
			break;
		default:
			fprintf(stderr,
			        "usage: kizuki-upload --hub URL --token-file F --spool DIR "
			        "[--spool-max BYTES] [--stats] [--sensor NAME] [--drain SEC] "
			        "[FILE...]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!cfg.hub_url || !token_file || !cfg.dir) {
		fprintf(stderr, "kizuki-upload: --hub, --token-file and --spool are required\n");
		return 2;
	}
	if (kz_token_file_read(token_file, token, sizeof token, err, sizeof err)) {
		fprintf(stderr, "kizuki-upload: %s\n", err);
		return 1;
	}
	cfg.token = token;
	struct kz_spool *sp;
	int rc = kz_spool_open(&cfg, &sp, err, sizeof err);
	explicit_bzero(token, sizeof token);
	if (rc) {
		fprintf(stderr, "kizuki-upload: %s\n", err);
		return 1;
	}
	unsigned long lines = 0;
	if (optind == argc) {
		rc = feed(sp, stdin, stream, &lines);
	} else {
		for (int i = optind; i < argc && rc == 0; i++) {
			FILE *f = fopen(argv[i], "re");
			if (!f) {
				fprintf(stderr, "kizuki-upload: %s: %s\n", argv[i],
				        strerror(errno));
				rc = -errno;
				break;
			}
			rc = feed(sp, f, stream, &lines);
			fclose(f);
		}
	}
	if (rc)
		fprintf(stderr, "kizuki-upload: spooling failed: %s\n", strerror(-rc));
	struct kz_spool_stats st;
	kz_spool_close(sp, drain, &st);
	fprintf(stderr,
	        "kizuki-upload: %lu records spooled; %llu sent, %llu refused by the hub, %llu "
	        "bytes left in %s, %llu records dropped past --spool-max (%llu segments), %llu "
	        "failed attempts\n",
	        lines, (unsigned long long)st.sent_records, (unsigned long long)st.rejected_records,
	        (unsigned long long)st.pending_bytes, cfg.dir,
	        (unsigned long long)st.dropped_records, (unsigned long long)st.dropped_segments,
	        (unsigned long long)st.failed_posts);
	return rc || st.pending_bytes ? 1 : 0;
}
