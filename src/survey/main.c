/*
 * kizuki survey: the command line of the NOTICE-style survey (CONTRACT.md).
 *
 * Stage 1 (the port scan, scan.h) feeds stage 2 (the login checks,
 * login_engine.h) in the same process: each open port goes to stage 2's
 * queue as it is found, and stage 2's loop runs on a thread of its own
 * while the scan runs on this one. With --no-login only stage 1 runs; with
 * --targets-file only stage 2. The order of a run matters for safety and
 * is kept in kz_cmd_survey: options, scope (default-deny), the plan printed
 * before anything is sent, files read and the output and sockets opened
 * while privileged, privileges dropped, then the header record, the stages,
 * the trailer record and the summary.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "creds.h"
#include "jsonl.h"
#include "login_engine.h"
#include "login_targets.h"
#include "netif.h"
#include "portspec.h"
#include "privdrop.h"
#include "scan.h"
#include "scope.h"
#include "survey.h"
#include "synprobe.h"

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
        "  --ports SPEC           e.g. 23/telnet,2323/telnet,22/ssh,80/http,8080/http (the\n"
        "                         default); a bare number takes its well-known protocol\n"
        "  --creds FILE           user:password[:protocols[:vendor-regex]] per line\n"
        "                         (default: the built-in list, docs/credentials.md)\n"
        "  --rate PPS             packets (connect mode: connections) per second\n"
        "                         (default 10000)\n"
        "  --mode syn|connect     stage 1 method (default syn: raw packets, needs root or\n"
        "                         CAP_NET_RAW; connect: ordinary sockets, no privilege)\n"
        "  -i IFACE               interface for SYN mode (default: the route's)\n"
        "  --gateway-mac MAC      next hop's MAC (default: from the neighbour table)\n"
        "  --source-ip ADDR       source address (default: the route's)\n"
        "  --source-ports LO-HI   SYN mode source ports (default 32768-61000)\n"
        "  --probes N             SYNs per target, 1-10 (default 1)\n"
        "  --cooldown SEC         SYN mode: wait for replies after the last probe;\n"
        "                         connect mode: each attempt's timeout (default 8)\n"
        "  --seed N               permutation seed, shared by all shards (default random)\n"
        "  --shard I/N            this machine's shard, counting from 0 (default 0/1)\n"
        "  --no-login             stage 1 only: one record per open port\n"
        "  --targets-file FILE    stage 2 on these address:port/app lines, no scan\n"
        "  --max-attempts N       pairs tried per service (default: every pair)\n"
        "  --concurrency N        services checked at once (default 1000)\n"
        "  --http-path PATH       HTTP path to try (repeatable)\n"
        "  --redact-credentials   write the pair's index, not the pair\n"
        "  --authorization TEXT   the authority for this survey, written in the run header\n"
        "  --out FILE|-           JSON Lines results (default stdout)\n"
        "  --dry-run              print the probes that would be sent, send nothing\n"
        "  --allow-reserved       allow loopback, benchmarking and TEST-NET ranges named in the "
        "scope\n"
        "  --user NAME            account to switch to after opening sockets as root\n"
        "                         (default nobody)\n"
        "  --hub URL              post results to a hub\n"
        "  --token-file F         the hub token\n"
        "  --spool DIR            spool for uploads while the hub is unreachable\n"
        "  --spool-max BYTES      spool cap\n"
        "  --progress             progress lines on stderr even when it is not a terminal\n"
        "  -h, --help             this text\n"
        "\n"
        "A dry run prints one line per probe: address, port, probe number, source\n"
        "port and sequence number (tab-separated; '-' where the source is unknown).\n"
        "Exit status: 0 done, 1 failure or interrupted run, 2 usage error.\n";

/* The running stages, for the signal handler. Ctrl-C once ends the
 * scan's sending (its cooldown still runs) and starts no new login check
 * (those in flight finish); twice, it ends the cooldown and abandons the
 * checks in flight. Both stop calls are async-signal-safe. */
static struct kz_scan *running_scan;
static struct kz_login_engine *running_engine;

static void on_signal(int sig)
{
	(void)sig;
	if (running_scan)
		kz_scan_stop(running_scan);
	if (running_engine)
		kz_login_engine_stop(running_engine);
}

/* --cooldown: seconds with up to three decimals, 0..3600. */
static int parse_seconds_ms(const char *arg, unsigned *ms)
{
	uint64_t whole = 0, frac = 0;
	unsigned digits = 0;
	const char *p = arg;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9' && whole <= 3600)
		whole = whole * 10 + (uint64_t)(*p++ - '0');
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9' && digits < 3) {
			frac = frac * 10 + (uint64_t)(*p++ - '0');
			digits++;
		}
		if (digits == 0)
			return -1;
	}
	if (*p != '\0' || whole > 3600 || (whole == 3600 && frac))
		return -1;
	while (digits++ < 3)
		frac *= 10;
	*ms = (unsigned)(whole * 1000 + frac);
	return 0;
}

/* "I/N" with I < N, N >= 1. */
static int parse_shard(const char *arg, uint64_t *i, uint64_t *n)
{
	char *slash;
	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		return -1;
	unsigned long long a = strtoull(arg, &slash, 10);
	if (errno || *slash != '/' || slash[1] < '0' || slash[1] > '9')
		return -1;
	char *end;
	unsigned long long b = strtoull(slash + 1, &end, 10);
	if (errno || *end || b == 0 || a >= b || b > 1000000)
		return -1;
	*i = a;
	*n = b;
	return 0;
}

/* "LO-HI" with 1 <= LO <= HI <= 65535. */
static int parse_port_range(const char *arg, uint16_t *lo, uint16_t *hi)
{
	char *dash, *end;
	errno = 0;
	if (arg[0] < '1' || arg[0] > '9')
		return -1;
	unsigned long a = strtoul(arg, &dash, 10);
	if (errno || *dash != '-' || dash[1] < '1' || dash[1] > '9')
		return -1;
	unsigned long b = strtoul(dash + 1, &end, 10);
	if (errno || *end || a > b || b > 65535)
		return -1;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* A random UUID (version 4) as text. */
static int make_run_id(char out[37])
{
	uint8_t b[16];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -errno;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
	return 0;
}

/* Connect mode keeps one descriptor per attempt in flight: ask for the
 * hard limit. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The options as given, before any is interpreted beyond its syntax. */
struct survey_opts {
	const char *scope, *exclude, *optout, *ports, *creds, *mode, *ifname, *gateway_mac;
	const char *source_ip, *targets_file, *authorization, *out, *user, *hub, *token_file;
	const char *spool;
	uint64_t rate, probes, seed, shard, shards, max_attempts, concurrency, spool_max;
	unsigned cooldown_ms;
	uint16_t sport_first, sport_last;
	bool seed_given, no_login, redact, dry_run, allow_reserved, progress;
};

/* Parses argv into o. Returns -1 to go on, or the exit status. Values are
 * checked here for syntax and range (usage errors, exit 2); what they mean
 * together is checked by the library when the run is set up (exit 1). */
static int parse_options(int argc, char **argv, struct survey_opts *o)
{
	enum {
		OPT_SCOPE = 256,
		OPT_EXCLUDE,
		OPT_OPTOUT,
		OPT_PORTS,
		OPT_CREDS,
		OPT_RATE,
		OPT_MODE,
		OPT_GATEWAY_MAC,
		OPT_SOURCE_IP,
		OPT_SOURCE_PORTS,
		OPT_PROBES,
		OPT_COOLDOWN,
		OPT_SEED,
		OPT_SHARD,
		OPT_NO_LOGIN,
		OPT_TARGETS_FILE,
		OPT_MAX_ATTEMPTS,
		OPT_CONCURRENCY,
		OPT_HTTP_PATH,
		OPT_REDACT,
		OPT_AUTHORIZATION,
		OPT_OUT,
		OPT_DRY_RUN,
		OPT_ALLOW_RESERVED,
		OPT_USER,
		OPT_HUB,
		OPT_TOKEN_FILE,
		OPT_SPOOL,
		OPT_SPOOL_MAX,
		OPT_PROGRESS,
	};
	static const struct option longopts[] = {
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "optout", required_argument, NULL, OPT_OPTOUT },
		{ "ports", required_argument, NULL, OPT_PORTS },
		{ "creds", required_argument, NULL, OPT_CREDS },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "gateway-mac", required_argument, NULL, OPT_GATEWAY_MAC },
		{ "source-ip", required_argument, NULL, OPT_SOURCE_IP },
		{ "source-ports", required_argument, NULL, OPT_SOURCE_PORTS },
		{ "probes", required_argument, NULL, OPT_PROBES },
		{ "cooldown", required_argument, NULL, OPT_COOLDOWN },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "no-login", no_argument, NULL, OPT_NO_LOGIN },
		{ "targets-file", required_argument, NULL, OPT_TARGETS_FILE },
		{ "max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "http-path", required_argument, NULL, OPT_HTTP_PATH },
		{ "redact-credentials", no_argument, NULL, OPT_REDACT },
		{ "authorization", required_argument, NULL, OPT_AUTHORIZATION },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "allow-reserved", no_argument, NULL, OPT_ALLOW_RESERVED },
		{ "user", required_argument, NULL, OPT_USER },
		{ "hub", required_argument, NULL, OPT_HUB },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "spool", required_argument, NULL, OPT_SPOOL },
		{ "spool-max", required_argument, NULL, OPT_SPOOL_MAX },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SCOPE:
			o->scope = optarg;
			break;
		case OPT_EXCLUDE:
			o->exclude = optarg;
			break;
		case OPT_OPTOUT:
			o->optout = optarg;
			break;
		case OPT_PORTS:
			o->ports = optarg;
			break;
		case OPT_CREDS:
			o->creds = optarg;
			break;
		case OPT_RATE:
			if (kz_cli_parse_u64("rate", optarg, 1, KZ_SCAN_MAX_RATE, &o->rate) < 0)
				return KZ_EXIT_USAGE;
			break;
		case OPT_MODE:
			if (strcmp(optarg, "syn") != 0 && strcmp(optarg, "connect") != 0)
				return kz_cli_usage_error("--mode %s: not syn or connect", optarg);
			o->mode = optarg;
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case OPT_GATEWAY_MAC:
			o->gateway_mac = optarg;
			break;
		case OPT_SOURCE_IP:
			o->source_ip = optarg;
			break;
		case OPT_SOURCE_PORTS:
			if (parse_port_range(optarg, &o->sport_first, &o->sport_last) < 0)
				return kz_cli_usage_error(
				        "--source-ports %s: not LO-HI within 1-65535", optarg);
			break;
		case OPT_PROBES:
			if (kz_cli_parse_u64("probes", optarg, 1, KZ_SYNPROBE_MAX_PROBES,
			                     &o->probes) < 0)
				return KZ_EXIT_USAGE;
			break;
		case OPT_COOLDOWN:
			if (parse_seconds_ms(optarg, &o->cooldown_ms) < 0)
				return kz_cli_usage_error(
				        "--cooldown %s: not seconds from 0 to 3600 "
				        "(up to 3 decimals)",
				        optarg);
			break;
		case OPT_SEED:
			if (kz_cli_parse_u64("seed", optarg, 0, UINT64_MAX, &o->seed) < 0)
				return KZ_EXIT_USAGE;
			o->seed_given = true;
			break;
		case OPT_SHARD:
			if (parse_shard(optarg, &o->shard, &o->shards) < 0)
				return kz_cli_usage_error(
				        "--shard %s: not I/N with 0 <= I < N (shards "
				        "count from 0)",
				        optarg);
			break;
		case OPT_NO_LOGIN:
			o->no_login = true;
			break;
		case OPT_TARGETS_FILE:
			o->targets_file = optarg;
			break;
		case OPT_MAX_ATTEMPTS:
			if (kz_cli_parse_u64("max-attempts", optarg, 1, 100000, &o->max_attempts) <
			    0)
				return KZ_EXIT_USAGE;
			break;
		case OPT_CONCURRENCY:
			if (kz_cli_parse_u64("concurrency", optarg, 1, 1000000, &o->concurrency) <
			    0)
				return KZ_EXIT_USAGE;
			break;
		/* Stage 2's options are parsed and checked now, so that a
		 * command line written today stays valid when it lands. */
		case OPT_HTTP_PATH:
			if (optarg[0] != '/')
				return kz_cli_usage_error("--http-path %s: a path starts with '/'",
				                          optarg);
			break;
		case OPT_REDACT:
			o->redact = true;
			break;
		case OPT_AUTHORIZATION:
			o->authorization = optarg;
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_DRY_RUN:
			o->dry_run = true;
			break;
		case OPT_ALLOW_RESERVED:
			o->allow_reserved = true;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_HUB:
			o->hub = optarg;
			break;
		case OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case OPT_SPOOL:
			o->spool = optarg;
			break;
		case OPT_SPOOL_MAX:
			if (kz_cli_parse_u64("spool-max", optarg, 1, UINT64_MAX, &o->spool_max) < 0)
				return KZ_EXIT_USAGE;
			break;
		case OPT_PROGRESS:
			o->progress = true;
			break;
		case 'h':
			fputs(survey_usage, stdout);
			return KZ_EXIT_OK;
		case ':':
		case '?':
			return kz_cli_bad_option(c, argv);
		default:
			break;
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	/* With --targets-file too: stage 2 checks every connection against
	 * the scope, and a list of targets is no authority to touch them. */
	if (!o->scope)
		return kz_cli_usage_error("--scope is required: the survey is default-deny and "
		                          "touches only an explicit scope");
	if (o->targets_file && o->no_login)
		return kz_cli_usage_error("--targets-file runs the login stage only: it cannot go "
		                          "with --no-login");
	if (o->hub && !o->token_file)
		return kz_cli_usage_error("--hub needs --token-file");
	return -1;
}

/* Stage 2's engine: the credential list (--creds, or the built-in one),
 * the limits, the callbacks. Reads the list while still privileged. Returns
 * 0, or -1 with the reason reported. */
static int setup_login(struct survey_run *run, const struct survey_opts *o,
                       const struct kz_scope *scope, struct kz_creds **creds)
{
	int rc = o->creds ? kz_creds_load(o->creds, creds) : kz_creds_load_default(creds);
	if (rc < 0)
		return -1; /* each reason was logged, with file:line */
	struct kz_login_engine_config cfg;
	kz_login_engine_defaults(&cfg);
	cfg.scope = scope;
	cfg.creds = *creds;
	cfg.max_attempts = (unsigned)o->max_attempts;
	if (o->concurrency)
		cfg.concurrency = (unsigned)o->concurrency;
	if (o->source_ip) {
		const char *w;
		if (kz_addr_parse(o->source_ip, &cfg.source, &w) == 0)
			cfg.has_source = true;
	}
	cfg.on_result = survey_on_login_result;
	cfg.on_progress = survey_on_login_progress;
	cfg.ctx = run;
	kz_login_raise_nofile(cfg.concurrency);
	if (kz_login_engine_new(&cfg, &run->engine) < 0)
		return -1;
	run->login = true;
	run->creds = *creds;
	run->creds_name = o->creds ? o->creds : "default";
	run->redact = o->redact;
	run->max_attempts = cfg.max_attempts;
	run->concurrency = kz_login_engine_concurrency(run->engine);
	return 0;
}

/* Stage 2's loop, on its own thread while the scan runs on the main one. */
static void *login_thread(void *arg)
{
	struct survey_run *run = arg;
	intptr_t rc = kz_login_engine_run(run->engine);
	return (void *)rc;
}

/* --targets-file: stage 2 alone on the listed services the scope allows.
 * Returns the exit status. */
static int run_targets(const struct survey_opts *o, struct survey_run *run, struct kz_scope *scope)
{
	struct kz_login_target *targets = NULL;
	struct kz_creds *creds = NULL;
	size_t n = 0;
	int status = KZ_EXIT_FAILURE;
	if (kz_login_targets_load(o->targets_file, &targets, &n) < 0)
		goto out; /* file:line and why were logged */
	/* Targets outside the scope are skipped here and counted; the engine
	 * would refuse them anyway, at its connect. */
	size_t keep = 0;
	for (size_t i = 0; i < n; i++) {
		if (kz_scope_allows(scope, targets[i].addr)) {
			targets[keep++] = targets[i];
		} else if (run->targets_outside++ < 10) {
			char b[80];
			kz_cli_warn("%s: %s is outside the scope: skipped", o->targets_file,
			            kz_login_target_format(&targets[i], b, sizeof b));
		}
	}
	if (keep == 0) {
		kz_cli_error("%s: no target inside the scope", o->targets_file);
		goto out;
	}
	run->targets = keep;
	run->targets_mode = true;
	run->mode = "targets-file";
	run->scope = scope;
	if (o->source_ip) {
		const char *w;
		run->has_scanner_ip = kz_addr_parse(o->source_ip, &run->scanner_ip, &w) == 0;
	} else {
		run->has_scanner_ip = kz_login_route_source(targets[0].addr, &run->scanner_ip) == 0;
	}
	if (!run->has_scanner_ip) {
		kz_cli_error("cannot tell the scanner's own address (no route to %s?): give "
		             "--source-ip",
		             o->targets_file);
		goto out;
	}
	if (make_run_id(run->run_id) < 0) {
		kz_cli_error("cannot draw a run id: %s", strerror(errno));
		goto out;
	}
	if (setup_login(run, o, scope, &creds) < 0)
		goto out;
	int rc = kz_jsonl_writer_open(o->out, 0, &run->out);
	if (rc < 0) {
		kz_cli_error("%s: %s", o->out, strerror(-rc));
		goto out;
	}
	/* Nothing here needs privileges: the files are read and open. */
	struct kz_privdrop_result pd;
	if (kz_privdrop(o->user, &pd) < 0)
		goto out;
	kz_cli_info("run %s: %zu services from %s, %zu pairs (%s), at most %u at once", run->run_id,
	            keep, o->targets_file, kz_creds_count(creds), run->creds_name,
	            run->concurrency);
	run->progress = kz_cli_want_progress(o->progress);
	run->progress_tty = isatty(STDERR_FILENO) && !o->progress;
	run->start = (int64_t)time(NULL);
	if (survey_write_run_record(run, false, NULL, NULL) < 0 || kz_jsonl_flush(run->out) < 0)
		goto out;
	for (size_t i = 0; i < keep; i++) {
		if ((rc = kz_login_engine_submit(run->engine, &targets[i])) < 0) {
			kz_cli_error("stage 2's queue refused a target: %s", strerror(-rc));
			goto out;
		}
	}
	kz_login_engine_close_input(run->engine);
	signal(SIGPIPE, SIG_IGN);
	running_engine = run->engine;
	kz_cli_catch_signals(on_signal, false);
	int run_rc = kz_login_engine_run(run->engine);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	running_engine = NULL;
	run->end = (int64_t)time(NULL);
	struct kz_login_engine_stats lst;
	kz_login_engine_stats(run->engine, &lst);
	int trailer_rc = survey_write_run_record(run, true, NULL, &lst);
	survey_print_login_summary(run, &lst);
	int close_rc = kz_jsonl_writer_close(run->out);
	run->out = NULL;
	if (close_rc < 0 && !run->out_error)
		kz_cli_error("%s: %s", o->out, strerror(-close_rc));
	if (run_rc == 0 && trailer_rc == 0 && close_rc == 0 && !run->out_error && !lst.stopping)
		status = KZ_EXIT_OK;
out:
	if (run->out)
		kz_jsonl_writer_close(run->out);
	run->out = NULL;
	kz_login_engine_free(run->engine);
	run->engine = NULL;
	kz_creds_free(creds);
	free(targets);
	return status;
}

int kz_cmd_survey(int argc, char **argv)
{
	struct survey_opts o = {
		.ports = KZ_PORTSPEC_DEFAULT,
		.mode = "syn",
		.out = "-",
		.rate = KZ_SCAN_DEFAULT_RATE,
		.probes = KZ_SCAN_DEFAULT_PROBES,
		.cooldown_ms = KZ_SCAN_DEFAULT_COOLDOWN_MS,
		.shards = 1,
		.sport_first = KZ_SCAN_DEFAULT_SPORT_FIRST,
		.sport_last = KZ_SCAN_DEFAULT_SPORT_LAST,
	};
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;

	struct survey_run run;
	memset(&run, 0, sizeof run);
	pthread_mutex_init(&run.out_mu, NULL);
	char why[KZ_PORTSPEC_WHY];
	if (kz_portspec_parse(o.ports, run.ports, KZ_PORTSPEC_MAX, &run.nports, why, sizeof why) <
	    0)
		return kz_cli_usage_error("--ports: %s", why);
	struct kz_scan_config sc = {
		.rate = o.rate,
		.probes = (unsigned)o.probes,
		.cooldown_ms = o.cooldown_ms,
		.shard = o.shard,
		.shards = o.shards,
		.sport_first = o.sport_first,
		.sport_last = o.sport_last,
		.ifname = o.ifname,
		.mode = strcmp(o.mode, "syn") == 0 ? KZ_SCAN_SYN : KZ_SCAN_CONNECT,
	};
	if (o.gateway_mac) {
		if (kz_mac_parse(o.gateway_mac, sc.gateway_mac) < 0)
			return kz_cli_usage_error("--gateway-mac %s: not a MAC address "
			                          "(aa:bb:cc:dd:ee:ff)",
			                          o.gateway_mac);
		sc.has_gateway_mac = true;
	}
	if (o.source_ip) {
		const char *w;
		if (kz_addr_parse(o.source_ip, &sc.source, &w) < 0)
			return kz_cli_usage_error("--source-ip %s: %s", o.source_ip, w);
		sc.has_source = true;
	}
	if (sc.mode == KZ_SCAN_CONNECT && o.cooldown_ms == 0)
		return kz_cli_usage_error("--cooldown 0: in connect mode it is each attempt's "
		                          "timeout and must be above 0");

	/* What has not landed says so, before any work. */
	if (o.hub)
		return kz_cli_not_landed("upload of survey results to a hub (--hub)", "a later "
		                                                                      "issue");

	/* The scope: scope - exclude - opt-out - deny set. */
	struct kz_scope_config scfg = {
		.scope_path = o.scope,
		.exclude_path = o.exclude,
		.optout_path = o.optout,
		.allow_reserved = o.allow_reserved,
	};
	struct kz_scope *scope = NULL;
	struct kz_scan *scan = NULL;
	struct kz_creds *creds = NULL;
	int status = KZ_EXIT_FAILURE;
	rc = kz_scope_load(&scfg, &scope);
	if (rc < 0)
		goto out; /* each reason was logged with file:line */
	char line[512];
	kz_cli_info("%s", kz_scope_summary_format(kz_scope_summary(scope), line, sizeof line));
	if (o.targets_file) {
		status = run_targets(&o, &run, scope);
		goto out;
	}

	if (!o.seed_given && getrandom(&o.seed, sizeof o.seed, 0) != (ssize_t)sizeof o.seed) {
		kz_cli_error("cannot draw a seed: %s", strerror(errno));
		goto out;
	}
	/* The cookie key is random in every run, --seed or not: a seed is
	 * printed and shared between shards, a cookie key must stay secret
	 * or replies could be forged. */
	if (getrandom(sc.key, sizeof sc.key, 0) != (ssize_t)sizeof sc.key) {
		kz_cli_error("cannot draw a key: %s", strerror(errno));
		goto out;
	}
	/* The scan needs the numbers only; the applications stay with the
	 * records (port index -> application). */
	uint16_t ports[KZ_PORTSPEC_MAX];
	for (size_t i = 0; i < run.nports; i++)
		ports[i] = run.ports[i].port;
	sc.scope = scope;
	sc.ports = ports;
	sc.nports = run.nports;
	sc.seed = o.seed;
	sc.on_hit = survey_on_hit;
	sc.on_progress = survey_on_progress;
	sc.ctx = &run;
	if (sc.mode == KZ_SCAN_CONNECT)
		raise_nofile();
	rc = kz_scan_new(&sc, &scan);
	explicit_bzero(sc.key, sizeof sc.key);
	if (rc < 0)
		goto out;
	/* Routes, sources and MACs from the kernel's tables; a dry run only
	 * wants the source (for the cookies it prints) and may lack it. */
	rc = kz_scan_resolve(scan, !o.dry_run);
	if (rc < 0)
		goto out;

	if (make_run_id(run.run_id) < 0) {
		kz_cli_error("cannot draw a run id: %s", strerror(errno));
		goto out;
	}
	const struct kz_scan_plan *plan = kz_scan_plan(scan);
	run.authorization = o.authorization;
	run.mode = o.mode;
	run.seed = o.seed;
	run.shard = o.shard;
	run.shards = o.shards;
	run.rate = o.rate;
	run.probes = (unsigned)o.probes;
	run.cooldown_ms = o.cooldown_ms;
	run.scope = scope;
	run.scan = scan;
	/* extra.scanner_ip: the address replies come back to. */
	if (plan->has_src4 || plan->has_src6) {
		run.scanner_ip = plan->has_src4 ? plan->src4 : plan->src6;
		run.has_scanner_ip = true;
	} else if (sc.has_source) {
		run.scanner_ip = sc.source;
		run.has_scanner_ip = true;
	}
	survey_print_plan(&run);

	if (o.dry_run) {
		if (!o.no_login)
			kz_cli_info("dry run of stage 1 only: a dry run finds no open port to log "
			            "in to");
		rc = kz_scan_dry_run(scan, survey_on_probe, NULL);
		if (fflush(stdout) != 0 || rc != 0) {
			kz_cli_error("writing the probes: %s", strerror(errno ? errno : EIO));
			goto out;
		}
		status = KZ_EXIT_OK;
		goto out;
	}
	if (!run.has_scanner_ip) {
		kz_cli_error("cannot tell the scanner's own address (no route to the scope?): give "
		             "--source-ip");
		goto out;
	}

	/* Opened while privileged; privileges go before any reply is read. */
	/* Stage 2 reads its credential list while the process is privileged,
	 * like every other file. */
	if (!o.no_login && setup_login(&run, &o, scope, &creds) < 0)
		goto out;
	rc = kz_jsonl_writer_open(o.out, 0, &run.out);
	if (rc < 0) {
		kz_cli_error("%s: %s", o.out, strerror(-rc));
		goto out;
	}
	rc = kz_scan_open(scan);
	if (rc < 0)
		goto out;
	struct kz_privdrop_result pd;
	if (kz_privdrop(o.user, &pd) < 0)
		goto out;
	if (pd.changed_user)
		kz_cli_info("sockets open; now running as uid %u gid %u", (unsigned)pd.uid,
		            (unsigned)pd.gid);

	/* On a terminal the progress line rewrites itself; with --progress
	 * (a log file, a pipe) each update is a line of its own. */
	run.progress = kz_cli_want_progress(o.progress);
	run.progress_tty = isatty(STDERR_FILENO) && !o.progress;
	run.start = (int64_t)time(NULL);
	struct kz_scan_stats st;
	kz_scan_stats(scan, &st);
	if (survey_write_run_record(&run, false, &st, NULL) < 0 || kz_jsonl_flush(run.out) < 0)
		goto out;

	/* A closed output pipe is a write error to report, not a silent
	 * death that leaves no trailer. */
	signal(SIGPIPE, SIG_IGN);
	pthread_t login_tid;
	if (run.login) {
		rc = pthread_create(&login_tid, NULL, login_thread, &run);
		if (rc != 0) {
			kz_cli_error("cannot start the login stage: %s", strerror(rc));
			goto out;
		}
		running_engine = run.engine;
	}
	running_scan = scan;
	kz_cli_catch_signals(on_signal, false);
	int run_rc = kz_scan_run(scan);
	running_scan = NULL;
	/* Stage 1's figures as it ended, not after stage 2's wait. */
	kz_scan_stats(scan, &st);
	/* Every open port is in stage 2's queue by now: it finishes what it
	 * has, then its loop ends. */
	struct kz_login_engine_stats lst;
	int login_rc = 0;
	if (run.login) {
		kz_login_engine_close_input(run.engine);
		void *ret;
		pthread_join(login_tid, &ret);
		login_rc = (int)(intptr_t)ret;
		kz_login_engine_stats(run.engine, &lst);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	running_engine = NULL;

	run.end = (int64_t)time(NULL);
	if (run_rc < 0)
		st.interrupted = true; /* the trailer must not claim a finished run */
	int trailer_rc = survey_write_run_record(&run, true, &st, run.login ? &lst : NULL);
	survey_print_summary(&run, &st);
	if (run.login)
		survey_print_login_summary(&run, &lst);
	int close_rc = kz_jsonl_writer_close(run.out);
	run.out = NULL;
	if (close_rc < 0 && !run.out_error)
		kz_cli_error("%s: %s", o.out, strerror(-close_rc));
	bool stopped = st.interrupted || (run.login && lst.stopping);
	if (run_rc == 0 && login_rc == 0 && trailer_rc == 0 && close_rc == 0 && !run.out_error &&
	    !stopped)
		status = KZ_EXIT_OK;
out:
	if (run.out)
		kz_jsonl_writer_close(run.out);
	kz_scan_free(scan);
	kz_login_engine_free(run.engine);
	kz_creds_free(creds);
	kz_scope_free(scope);
	pthread_mutex_destroy(&run.out_mu);
	return status;
}
