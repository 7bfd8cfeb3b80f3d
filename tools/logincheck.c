/*
 * kizuki-logincheck: runs survey stage 2 (the login engine) over a
 * --targets-file and writes one JSON Lines record per service. A thin
 * driver for tests and benchmarks: the same engine, plug-ins, credential
 * list and records as `kizuki survey --targets-file`, without the scan,
 * the run header and the hub.
 *
 * usage: kizuki-logincheck --targets-file FILE --scope FILE [options]
 * Exit: 0 done, 1 runtime failure, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "creds.h"
#include "jsonl.h"
#include "log.h"
#include "login_engine.h"
#include "login_http.h"
#include "login_record.h"
#include "login_targets.h"
#include "scope.h"
#include "telnet_login.h"

static const char usage[] =
        "usage: kizuki-logincheck --targets-file FILE --scope FILE [options]\n"
        "\n"
        "Survey stage 2 only: log in to each address:port/app of FILE that the scope\n"
        "allows, and write one JSON Lines record per service.\n"
        "\n"
        "  --targets-file FILE    address:port/app per line ([v6]:port/app)\n"
        "  --scope FILE           addresses the run may touch (required)\n"
        "  --allow-reserved       allow loopback and the test ranges the scope names\n"
        "  --creds FILE           credential list (default: the built-in list)\n"
        "  --max-attempts N       pairs per service (default: all)\n"
        "  --concurrency N        services in flight (default 1000)\n"
        "  --per-host N           services of one address in flight (default 1)\n"
        "  --pace-ms N            ms between connections to one address (default 500)\n"
        "  --redact-credentials   write the pair's index, not the pair\n"
        "  --out FILE|-           records (default stdout)\n"
        "  --run-id ID            extra.run_id (default: random)\n"
        "  --source-ip ADDR       connect from this address\n"
        "  --seed N               fixed seed for control pairs (tests)\n"
        "  --progress             a progress line on stderr every second\n"
        "  -v, --verbose          debug messages (every failed connect, with why)\n"
        "  --print-default-creds  print the built-in credential list and exit\n"
        "  --http-path PATH       an HTTP admin path to check (repeatable; default \"/\",\n"
        "                         which is not taken as an admin page)\n"
        "  --http-user-agent TEXT the User-Agent of HTTP requests\n"
        "  --submit-all           tests: hand out-of-scope targets to the engine too\n"
        "                         (which must refuse them at connect)\n"
        "  -h, --help             this text\n";

struct run {
	struct kz_jsonl_writer *w;
	struct kz_login_record_info info;
	int write_error;
	bool progress;
	uint64_t records;
};

/* The engine, for the signal handler: stopping is all it may do there
 * (kz_login_engine_stop is async-signal-safe). */
static struct kz_login_engine *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		kz_login_engine_stop(running);
}

/* The library's messages, one line each on stderr. */
static void log_stderr(enum kz_log_level level, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "kizuki-logincheck: %s%s\n", level == KZ_LOG_WARN ? "warning: " : "", msg);
}

/* One finished service: its record, written and flushed at once, so that
 * a long run's results are on disk as they come. */
static void on_result(void *ctx, const struct kz_login_report *r)
{
	struct run *run = ctx;
	json_t *rec;
	const char *why = NULL;
	run->info.time_observation = time(NULL);
	int rc = kz_login_record_build(r, &run->info, &rec, &why);
	if (rc) {
		char buf[80];
		kz_err("%s: no record: %s", kz_login_target_format(r->target, buf, sizeof buf),
		       why ? why : strerror(-rc));
		return;
	}
	rc = kz_jsonl_write(run->w, rec);
	json_decref(rec);
	if (rc && !run->write_error) {
		run->write_error = rc;
		kz_err("%s: %s", kz_jsonl_writer_name(run->w), strerror(-rc));
	}
	/* Each record reaches the file when its service finishes. */
	if (!rc && kz_jsonl_flush(run->w) == 0)
		run->records++;
}

/* A progress line about once a second, with --progress. */
static void on_progress(void *ctx, const struct kz_login_engine_stats *st)
{
	struct run *run = ctx;
	if (!run->progress)
		return;
	fprintf(stderr,
	        "kizuki-logincheck: %" PRIu64 " done, %" PRIu64 " in flight, %" PRIu64
	        " queued, %" PRIu64 " found, %" PRIu64 " connections, %.0f s\n",
	        st->done, st->active, st->queued, st->found, st->connections,
	        (double)st->elapsed_ms / 1000.0);
}

/* A decimal number up to max; signs, blanks and trailing text refused. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		O_TARGETS = 256,
		O_SCOPE,
		O_RESERVED,
		O_CREDS,
		O_ATTEMPTS,
		O_CONC,
		O_PERHOST,
		O_PACE,
		O_REDACT,
		O_OUT,
		O_RUNID,
		O_SOURCE,
		O_SEED,
		O_PROGRESS,
		O_PRINT,
		O_SUBMIT_ALL,
		O_HTTP_PATH,
		O_HTTP_UA,
	};
	static const struct option opts[] = {
		{ "targets-file", required_argument, NULL, O_TARGETS },
		{ "scope", required_argument, NULL, O_SCOPE },
		{ "allow-reserved", no_argument, NULL, O_RESERVED },
		{ "creds", required_argument, NULL, O_CREDS },
		{ "max-attempts", required_argument, NULL, O_ATTEMPTS },
		{ "concurrency", required_argument, NULL, O_CONC },
		{ "per-host", required_argument, NULL, O_PERHOST },
		{ "pace-ms", required_argument, NULL, O_PACE },
		{ "redact-credentials", no_argument, NULL, O_REDACT },
		{ "out", required_argument, NULL, O_OUT },
		{ "run-id", required_argument, NULL, O_RUNID },
		{ "source-ip", required_argument, NULL, O_SOURCE },
		{ "seed", required_argument, NULL, O_SEED },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "print-default-creds", no_argument, NULL, O_PRINT },
		{ "submit-all", no_argument, NULL, O_SUBMIT_ALL },
		{ "http-path", required_argument, NULL, O_HTTP_PATH },
		{ "http-user-agent", required_argument, NULL, O_HTTP_UA },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *targets_path = NULL, *scope_path = NULL, *creds_path = NULL, *out = "-";
	const char *run_id = NULL;
	bool allow_reserved = false, submit_all = false;
	struct run run = { 0 };
	struct kz_login_engine_config cfg;
	kz_login_engine_defaults(&cfg);
	/* Paths named by the operator are admin pages (login_http.h). */
	struct kz_http_login_path http_paths[KZ_HTTP_LOGIN_MAX_PATHS];
	struct kz_http_login_config http;
	kz_http_login_defaults(&http);
	http.paths = http_paths;
	kz_log_set_handler(log_stderr, NULL, KZ_LOG_INFO);
	int c;
	unsigned long v;
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case O_TARGETS:
			targets_path = optarg;
			break;
		case O_SCOPE:
			scope_path = optarg;
			break;
		case O_RESERVED:
			allow_reserved = true;
			break;
		case O_CREDS:
			creds_path = optarg;
			break;
		case O_ATTEMPTS:
		case O_CONC:
		case O_PERHOST:
		case O_PACE:
			if (parse_uint(optarg, c == O_CONC ? KZ_LOGIN_MAX_CONCURRENCY : 1000000,
			               &v) ||
			    (v == 0 && (c == O_CONC || c == O_PERHOST))) {
				fprintf(stderr, "kizuki-logincheck: %s: not a valid number here\n",
				        optarg);
				return 2;
			}
			if (c == O_ATTEMPTS)
				cfg.max_attempts = (unsigned)v;
			else if (c == O_CONC)
				cfg.concurrency = (unsigned)v;
			else if (c == O_PERHOST)
				cfg.per_host = (unsigned)v;
			else
				cfg.pace_ms = (uint32_t)v;
			break;
		case O_REDACT:
			run.info.redact = true;
			break;
		case O_OUT:
			out = optarg;
			break;
		case O_RUNID:
			run_id = optarg;
			break;
		case O_SOURCE: {
			const char *why;
			if (kz_addr_parse(optarg, &cfg.source, &why) != 0) {
				fprintf(stderr, "kizuki-logincheck: %s: %s\n", optarg, why);
				return 2;
			}
			cfg.has_source = true;
			break;
		}
		case O_SEED:
			if (parse_uint(optarg, ULONG_MAX, &v)) {
				fprintf(stderr, "kizuki-logincheck: %s: not a seed\n", optarg);
				return 2;
			}
			cfg.has_seed = true;
			cfg.seed = v;
			break;
		case O_PROGRESS:
			run.progress = true;
			break;
		case O_SUBMIT_ALL:
			submit_all = true;
			break;
		case O_HTTP_PATH:
		case O_HTTP_UA: {
			const char *why;
			if (c == O_HTTP_UA ? kz_http_login_user_agent_check(optarg, &why)
			                   : kz_http_login_path_check(optarg, &why)) {
				fprintf(stderr, "kizuki-logincheck: %s: %s\n", optarg, why);
				return 2;
			}
			if (c == O_HTTP_UA) {
				http.user_agent = optarg;
			} else if (http.npaths == KZ_HTTP_LOGIN_MAX_PATHS) {
				fprintf(stderr, "kizuki-logincheck: more than %d --http-path\n",
				        KZ_HTTP_LOGIN_MAX_PATHS);
				return 2;
			} else {
				http_paths[http.npaths++] =
				        (struct kz_http_login_path){ .path = optarg,
					                             .admin = true };
			}
			cfg.proto_config[KZ_LOGIN_APP_HTTP] = &http;
			break;
		}
		case O_PRINT: {
			size_t n;
			const char *const *lines = kz_creds_default_lines(&n);
			for (size_t i = 0; i < n; i++)
				printf("%s\n", lines[i]);
			return 0;
		}
		case 'v':
			kz_log_set_handler(log_stderr, NULL, KZ_LOG_DEBUG);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc || !targets_path || !scope_path) {
		fputs(usage, stderr);
		return 2;
	}

	int status = 1;
	struct kz_scope *scope = NULL;
	struct kz_creds *creds = NULL;
	struct kz_login_target *targets = NULL;
	struct kz_login_engine *e = NULL;
	size_t ntargets = 0;
	struct kz_scope_config sc = { .scope_path = scope_path, .allow_reserved = allow_reserved };
	if (kz_scope_load(&sc, &scope) != 0)
		goto done;
	if ((creds_path ? kz_creds_load(creds_path, &creds) : kz_creds_load_default(&creds)) != 0)
		goto done;
	if (kz_login_targets_load(targets_path, &targets, &ntargets) != 0)
		goto done;
	if (kz_jsonl_writer_open(out, 0, &run.w) != 0) {
		fprintf(stderr, "kizuki-logincheck: %s: cannot open for writing\n", out);
		goto done;
	}
	char rid[40];
	if (!run_id) {
		uint8_t r[8];
		if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
			goto done;
		snprintf(rid, sizeof rid, "logincheck-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1],
		         r[2], r[3], r[4], r[5], r[6], r[7]);
		run_id = rid;
	}
	run.info.run_id = run_id;
	run.info.creds = creds;
	if (cfg.has_source) {
		run.info.scanner_ip = cfg.source;
	} else if (kz_login_route_source(targets[0].addr, &run.info.scanner_ip) != 0) {
		kz_err("no route to %s: no source address", targets_path);
		goto done;
	}

	kz_login_raise_nofile(cfg.concurrency);
	cfg.scope = scope;
	cfg.creds = creds;
	cfg.on_result = on_result;
	cfg.on_progress = on_progress;
	cfg.ctx = &run;
	if (kz_login_engine_new(&cfg, &e) != 0)
		goto done;
	/* Targets outside the scope are never submitted; the engine would
	 * refuse them anyway, at its connect. */
	size_t outside = 0;
	for (size_t i = 0; i < ntargets; i++) {
		if (!submit_all && !kz_scope_allows(scope, targets[i].addr)) {
			outside++;
			continue;
		}
		int rc = kz_login_engine_submit(e, &targets[i]);
		if (rc) {
			kz_err("target %zu: %s", i + 1, strerror(-rc));
			goto done;
		}
	}
	if (outside)
		kz_warn("%zu of %zu targets outside the scope: skipped", outside, ntargets);
	kz_login_engine_close_input(e);
	running = e;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (kz_login_engine_run(e) != 0)
		goto done;
	running = NULL;
	struct kz_login_engine_stats st;
	kz_login_engine_stats(e, &st);
	fprintf(stderr,
	        "kizuki-logincheck: %" PRIu64 " services in %.1f s: %" PRIu64
	        " login-possible, %" PRIu64 " no-auth, %" PRIu64 " login-failed, %" PRIu64
	        " accepts-any, %" PRIu64 " no-login-prompt, %" PRIu64 " other protocol, %" PRIu64
	        " timeout, %" PRIu64 " error, %" PRIu64 " unchecked; %" PRIu64
	        " connections, peak %" PRIu64 " in flight, %" PRIu64 " scope refusals\n",
	        st.done, (double)st.elapsed_ms / 1000.0, st.by_status[KZ_LOGIN_POSSIBLE],
	        st.by_status[KZ_LOGIN_NO_AUTH], st.by_status[KZ_LOGIN_FAILED],
	        st.by_status[KZ_LOGIN_ACCEPTS_ANY], st.by_status[KZ_LOGIN_NO_PROMPT],
	        st.by_status[KZ_LOGIN_OTHER_PROTOCOL], st.by_status[KZ_LOGIN_TIMEOUT],
	        st.by_status[KZ_LOGIN_ERROR], st.unsupported, st.connections, st.peak_active,
	        st.scope_refusals);
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		fprintf(stderr, "kizuki-logincheck: peak RSS %ld KiB, CPU %.2f s\n", ru.ru_maxrss,
		        (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	status = run.write_error ? 1 : 0;
done:
	running = NULL;
	kz_login_engine_free(e);
	if (run.w && kz_jsonl_writer_close(run.w) != 0)
		status = 1;
	free(targets);
	kz_creds_free(creds);
	kz_scope_free(scope);
	return status;
}
