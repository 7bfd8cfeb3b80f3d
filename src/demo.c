/*
 * kizuki demo: the whole pipeline on a built-in simulated network, as
 * CONTRACT.md's "Demo" section says and docs/demo.md describes.
 *
 *   1. the world (src/demo_world.c): a 6-hour darknet trace from kizuki-gen,
 *      pfx2as and operators for AS64496-AS64511, a country database, tokens;
 *   2. kizuki hub with the dashboard, on 127.0.0.1 (a port the kernel picks);
 *   3. as root, two network namespaces (src/demo_net.c) with kizuki-devsim
 *      serving 512 simulated IoT devices in one of them;
 *   4. at once: kizuki telescope reading the trace in packet time and
 *      posting to the hub, and kizuki survey (SYN scan, then logins)
 *      from the other namespace, its scope the fleet and nothing else;
 *      its records reach the hub through kizuki-upload, since the scanner's
 *      namespace has, by design, no route to the host's loopback;
 *   5. kizuki report: each operator's report and a STIX 2.1 bundle;
 *   6. the summary, from the hub's API; then serve until Ctrl-C (or stop,
 *      with --once).
 *
 * The demo runs the real programs as children and supervises them: a child
 * that fails stops the demo with its name, its exit and its log's tail.
 * Every child, namespace and veth is removed on every way out — success,
 * failure, SIGINT/SIGTERM — by kz_demo_cleanup(), in the order that loses
 * nothing (the hub last). Without root there are no namespaces: the demo
 * says so and runs the telescope, the hub and the reports.
 *
 * Exit status: 0 when the round finished (and, when serving, Ctrl-C ended
 * it); 1 when a step failed or a signal interrupted the round (CONTRACT.md
 * has three exit statuses; stderr says which it was); 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

/* When the demo started: every progress line says how long ago. */
static struct timespec t_start;

/* Seconds since t_start, on the monotonic clock (immune to clock steps). */
static double elapsed(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t_start.tv_sec) + (double)(t.tv_nsec - t_start.tv_nsec) / 1e9;
}

/* One line of progress on stdout, with the seconds since the start. */
static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	va_list ap;
	printf("[%5.1f s] ", elapsed());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* mkdir -p: each missing component of path, mode 0755. Returns 0 or
 * -errno. */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* True when path is a directory holding nothing but . and ..: a reused
 * --out must not mix an old store or old reports with the new round. */
static bool dir_empty(const char *path)
{
	DIR *dir = opendir(path);
	if (!dir)
		return false;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(dir)))
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(dir);
	return empty;
}

/* The output directory: --out (new or empty), or a new dated one here. */
static int make_out(struct kz_demo *d, const char *opt)
{
	char want[PATH_MAX];
	if (opt) {
		snprintf(want, sizeof want, "%s", opt);
		struct stat st;
		if (stat(want, &st) == 0 && (!S_ISDIR(st.st_mode) || !dir_empty(want))) {
			kz_cli_error("%s: exists and is not an empty directory: choose a new --out",
			             want);
			return -1;
		}
	} else {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(want, sizeof want, "kizuki-demo-%Y%m%d-%H%M%S", &tm);
	}
	int rc = mkdir_p(want);
	if (rc) {
		kz_cli_error("%s: %s", want, strerror(-rc));
		return -1;
	}
	if (!realpath(want, d->out)) {
		kz_cli_error("%s: %s", want, strerror(errno));
		return -1;
	}
	static const char *const sub[] = { "world", "tokens", "logs", "reports", "spool" };
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		char p[PATH_MAX];
		if (kz_demo_path(d, p, sizeof p, "%s", sub[i]))
			return -1;
		if (mkdir(p, strcmp(sub[i], "tokens") == 0 ? 0700 : 0755) != 0 && errno != EEXIST) {
			kz_cli_error("%s: %s", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The running binary (its subcommands are the demo's programs), its
 * directory (where the build puts the tools) and iproute2's ip. */
static int locate_self(struct kz_demo *d)
{
	ssize_t n = readlink("/proc/self/exe", d->exe, sizeof d->exe - 1);
	if (n <= 0) {
		kz_cli_error("/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	d->exe[n] = '\0';
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", d->exe);
	snprintf(d->exe_dir, sizeof d->exe_dir, "%s", dirname(tmp));
	static const char *const ips[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };
	for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
		if (access(ips[i], X_OK) == 0) {
			snprintf(d->ip, sizeof d->ip, "%s", ips[i]);
			break;
		}
	}
	return 0;
}

/* Starts the hub and learns its port from its log ("listening on port N"). */
static int start_hub(struct kz_demo *d, bool mmdb)
{
	char db[PATH_MAX], tokens[PATH_MAX], pfx[PATH_MAX], ops[PATH_MAX], geo[PATH_MAX];
	char web[PATH_MAX], log[PATH_MAX];
	if (kz_demo_path(d, db, sizeof db, "hub.db") ||
	    kz_demo_path(d, tokens, sizeof tokens, "world/tokens") ||
	    kz_demo_path(d, pfx, sizeof pfx, "world/pfx2as") ||
	    kz_demo_path(d, ops, sizeof ops, "world/operators.tsv") ||
	    kz_demo_path(d, geo, sizeof geo, "world/geo.mmdb") ||
	    kz_demo_path(d, log, sizeof log, "logs/hub.log"))
		return -1;
	const char *argv[20] = { d->exe,     "hub",  "--db",     db,  "--listen",    "127.0.0.1:0",
		                 "--tokens", tokens, "--pfx2as", pfx, "--operators", ops };
	size_t a = 12;
	if (mmdb) {
		argv[a++] = "--mmdb";
		argv[a++] = geo;
	}
	if (kz_demo_find_data(d, "src/hub/web", "web", web, sizeof web) == 0) {
		argv[a++] = "--web";
		argv[a++] = web;
	} else {
		kz_cli_warn("the dashboard's files (src/hub/web, or share/kizuki/web installed) "
		            "were not found: the hub serves only its sign-in page");
	}
	argv[a] = NULL;
	struct kz_demo_child *hub =
	        kz_demo_spawn(d, "kizuki hub", true, NULL, (char *const *)argv, log);
	if (!hub)
		return -1;
	for (int waited = 0; waited < 30000; waited += 100) {
		FILE *f = fopen(log, "r");
		char line[1024];
		unsigned port = 0;
		while (f && !port && fgets(line, sizeof line, f)) {
			const char *p = strstr(line, "listening on port ");
			if (p)
				port = (unsigned)strtoul(p + 18, NULL, 10);
		}
		if (f)
			fclose(f);
		if (port) {
			d->hub_port = port;
			snprintf(d->url, sizeof d->url, "http://127.0.0.1:%u", port);
			return 0;
		}
		int rc = kz_demo_check_children(d);
		if (rc)
			return -1;
		if ((rc = kz_demo_sleep(100)))
			return rc;
	}
	kz_cli_error("kizuki hub did not say which port it listens on within 30 s (log: %s)", log);
	return -1;
}

/* kizuki-devsim in the fleet namespace; waits for its --ready file, which
 * it creates once every device's listener is up, so the survey never
 * scans a half-started fleet. */
static int start_fleet(struct kz_demo *d)
{
	char sim[PATH_MAX], creds[PATH_MAX], truth[PATH_MAX], ready[PATH_MAX], log[PATH_MAX];
	if (kz_demo_need_tool(d, "kizuki-devsim", sim, sizeof sim) != 0)
		return -1;
	if (kz_demo_path(d, creds, sizeof creds, "world/creds.txt") ||
	    kz_demo_path(d, truth, sizeof truth, "world/fleet-truth.jsonl") ||
	    kz_demo_path(d, ready, sizeof ready, "world/fleet.ready") ||
	    kz_demo_path(d, log, sizeof log, "logs/devsim.log"))
		return -1;
	const char *argv[] = { sim,       "--prefix", KZ_DEMO_FLEET, "--ports",
		               "23",      "--fleet",  "fleet-v2",    "--no-tarpits",
		               "--creds", creds,      "--truth",     truth,
		               "--ready", ready,      "--quiet",     NULL };
	if (!kz_demo_spawn(d, "kizuki-devsim", true, d->ns_fleet, (char *const *)argv, log))
		return -1;
	for (int waited = 0; waited < 30000; waited += 100) {
		if (access(ready, F_OK) == 0)
			return 0;
		int rc = kz_demo_check_children(d);
		if (rc)
			return -1;
		if ((rc = kz_demo_sleep(100)))
			return rc;
	}
	kz_cli_error("kizuki-devsim did not become ready within 30 s (log: %s)", log);
	return -1;
}

/* kizuki telescope on the trace, posting to the hub through its spool
 * with the sensor token, and keeping its records and stats as files. A
 * bounded source table (100,000) is plenty for the trace's 9,500 sources. */
static struct kz_demo_child *start_telescope(struct kz_demo *d)
{
	char pcap[PATH_MAX], ev[PATH_MAX], st[PATH_MAX], tok[PATH_MAX], spool[PATH_MAX];
	char log[PATH_MAX];
	if (kz_demo_path(d, pcap, sizeof pcap, "world/darknet.pcap.gz") ||
	    kz_demo_path(d, ev, sizeof ev, "telescope-events.jsonl") ||
	    kz_demo_path(d, st, sizeof st, "telescope-stats.jsonl") ||
	    kz_demo_path(d, tok, sizeof tok, "tokens/sensor.token") ||
	    kz_demo_path(d, spool, sizeof spool, "spool/telescope") ||
	    kz_demo_path(d, log, sizeof log, "logs/telescope.log"))
		return NULL;
	const char *argv[] = { d->exe,
		               "telescope",
		               "-r",
		               pcap,
		               "--darknet",
		               KZ_DEMO_DARKNET,
		               "--sensor",
		               "demo-telescope",
		               "--max-sources",
		               "100000",
		               "--events",
		               ev,
		               "--stats",
		               st,
		               "--hub",
		               d->url,
		               "--token-file",
		               tok,
		               "--spool",
		               spool,
		               NULL };
	return kz_demo_spawn(d, "kizuki telescope", false, NULL, (char *const *)argv, log);
}

/* kizuki survey in the scanner namespace: scope = the fleet only
 * (--allow-reserved is needed for 198.18.0.0/15 and re-enables nothing
 * else), the demo's three pairs, a fixed seed so that rounds compare. */
static struct kz_demo_child *start_survey(struct kz_demo *d)
{
	char scope[PATH_MAX], creds[PATH_MAX], out[PATH_MAX], log[PATH_MAX], auth[256];
	if (kz_demo_path(d, scope, sizeof scope, "world/scope.txt") ||
	    kz_demo_path(d, creds, sizeof creds, "world/creds.txt") ||
	    kz_demo_path(d, out, sizeof out, "survey.jsonl") ||
	    kz_demo_path(d, log, sizeof log, "logs/survey.log"))
		return NULL;
	snprintf(auth, sizeof auth, "kizuki demo: simulated fleet in network namespace %s",
	         d->ns_fleet);
	/* SYN mode, as a survey of a real network runs: raw SYNs on the
	 * scanner's veth end to the fleet side's fixed MAC, replies checked
	 * without state; then the logins over ordinary sockets. The rate and
	 * cooldown are sized for 512 devices on one veth. */
	char ifname[16];
	kz_demo_scan_if(d, ifname);
	const char *argv[] = { d->exe,
		               "survey",
		               "--mode",
		               "syn",
		               "-i",
		               ifname,
		               "--gateway-mac",
		               KZ_DEMO_FLEET_MAC,
		               "--scope",
		               scope,
		               "--allow-reserved",
		               "--creds",
		               creds,
		               "--ports",
		               "23/telnet,80/http,8080/http",
		               "--rate",
		               "2000",
		               "--cooldown",
		               "2",
		               "--seed",
		               "1",
		               "--authorization",
		               auth,
		               "--out",
		               out,
		               NULL };
	return kz_demo_spawn(d, "kizuki survey", false, d->ns_scan, (char *const *)argv, log);
}

/* Waits for a child that must finish with status 0. */
static int finish(struct kz_demo *d, struct kz_demo_child *c, int timeout_ms)
{
	int st = 0;
	int rc = kz_demo_wait(d, c, timeout_ms, &st);
	if (rc == -ETIMEDOUT)
		kz_cli_error("%s did not finish within %d s (log: %s)", c->name, timeout_ms / 1000,
		             c->log);
	if (rc)
		return rc == -EINTR ? -EINTR : -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		kz_demo_explain(c, st);
		return -1;
	}
	return 0;
}

/* Posts survey.jsonl to the hub with kizuki-upload (the same spool as the
 * sensors use): the scanner's namespace cannot reach the hub itself. */
static int upload_survey(struct kz_demo *d)
{
	char up[PATH_MAX], tok[PATH_MAX], spool[PATH_MAX], in[PATH_MAX], log[PATH_MAX];
	if (kz_demo_need_tool(d, "kizuki-upload", up, sizeof up) != 0)
		return -1;
	if (kz_demo_path(d, tok, sizeof tok, "tokens/sensor.token") ||
	    kz_demo_path(d, spool, sizeof spool, "spool/survey") ||
	    kz_demo_path(d, in, sizeof in, "survey.jsonl") ||
	    kz_demo_path(d, log, sizeof log, "logs/upload.log"))
		return -1;
	const char *argv[] = { up,        "--hub", d->url,     "--token-file", tok,
		               "--spool", spool,   "--sensor", "demo-survey",  "--drain",
		               "60",      in,      NULL };
	return kz_demo_run(d, "kizuki-upload", NULL, (char *const *)argv, log, 120000);
}

/* Each operator's report, CSV and JSON (kizuki report --asn all), and the
 * partner's STIX 2.1 bundle, read from the store while the hub runs (the
 * report command only reads, and marks nothing notified). */
static int reports(struct kz_demo *d)
{
	char db[PATH_MAX], dir[PATH_MAX], stix[PATH_MAX], tokens[PATH_MAX], log[PATH_MAX];
	if (kz_demo_path(d, db, sizeof db, "hub.db") ||
	    kz_demo_path(d, dir, sizeof dir, "reports") ||
	    kz_demo_path(d, stix, sizeof stix, "stix-bundle.json") ||
	    kz_demo_path(d, tokens, sizeof tokens, "world/tokens") ||
	    kz_demo_path(d, log, sizeof log, "logs/report.log"))
		return -1;
	static const char reporter[] = "kizuki demo CSIRT <csirt@demo.example.org>";
	static const char *const formats[] = { "csv", "json" };
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		const char *argv[] = { d->exe,       "report",   "--db",     db,      "--asn",
			               "all",        "--format", formats[i], "--out", dir,
			               "--reporter", reporter,   NULL };
		int rc = kz_demo_run(d, "kizuki report", NULL, (char *const *)argv, log, 120000);
		if (rc)
			return rc;
	}
	const char *argv[] = { d->exe,         "report",   "--db",       db,         "--partner",
		               "demo-partner", "--tokens", tokens,       "--format", "stix",
		               "--out",        stix,       "--reporter", reporter,   NULL };
	return kz_demo_run(d, "kizuki report", NULL, (char *const *)argv, log, 120000);
}

/* Stops every child (the hub last) and removes the namespaces. */
static void cleanup(struct kz_demo *d)
{
	d->cleaning = true;
	for (size_t i = 0; i < d->nchild; i++)
		d->child[i].essential = false;
	/* Producers first, then the fleet, then the hub that received it all. */
	for (size_t i = d->nchild; i-- > 0;)
		if (strcmp(d->child[i].name, "kizuki hub") != 0)
			kz_demo_stop(&d->child[i], 5000);
	kz_demo_net_down(d);
	for (size_t i = 0; i < d->nchild; i++)
		kz_demo_stop(&d->child[i], 10000);
}

/* One round: world, hub, fleet, telescope and survey, upload, reports,
 * summary. Returns 0, -1 after a step said why it failed, or -EINTR.
 * *surveyed says whether the survey ran (root only). */
static int round_trip(struct kz_demo *d, bool *surveyed)
{
	int rc;
	bool mmdb = false;
	*surveyed = false;
	d->root = kz_demo_can_netns(d);
	if (!d->root) {
		kz_cli_warn(
		        "%s: no network namespaces can be made here, so the simulated IoT fleet "
		        "and the survey are left out; running the telescope, the hub and the "
		        "reports. Run as root for the whole demo.",
		        geteuid() != 0 ? "not root" : "no 'ip' or no namespace support");
	}
	step("building the world: a 6-hour darknet trace, pfx2as, operators, country "
	     "database, tokens");
	if ((rc = kz_demo_world(d, &mmdb)))
		return rc;
	step("starting kizuki hub (dashboard, API, SQLite store hub.db)");
	if ((rc = start_hub(d, mmdb)))
		return rc;
	step("kizuki hub listens at %s", d->url);
	if (d->root) {
		kz_demo_net_names(d);
		step("network namespaces %s (fleet) and %s (scanner), joined by a veth pair, "
		     "198.18.254.0/30",
		     d->ns_fleet, d->ns_scan);
		if ((rc = kz_demo_net_up(d)))
			return rc;
		step("starting kizuki-devsim: 512 simulated IoT devices in %s (namespace %s)",
		     KZ_DEMO_FLEET, d->ns_fleet);
		if ((rc = start_fleet(d)))
			return rc;
	}
	step("starting kizuki telescope: reading the trace in packet time, posting to the hub");
	struct kz_demo_child *tele = start_telescope(d);
	if (!tele)
		return -1;
	struct kz_demo_child *survey = NULL;
	if (d->root) {
		step("starting kizuki survey from namespace %s: SYN scan of %s, then logins",
		     d->ns_scan, KZ_DEMO_FLEET);
		if (!(survey = start_survey(d)))
			return -1;
	}
	if ((rc = finish(d, tele, 300000)))
		return rc;
	step("kizuki telescope done (log: logs/telescope.log)");
	if (survey) {
		if ((rc = finish(d, survey, 600000)))
			return rc;
		step("kizuki survey done; posting its records to the hub with kizuki-upload");
		if ((rc = upload_survey(d)))
			return rc;
		*surveyed = true;
		/* The fleet's work is done: stop it (it rewrites its truth with
		 * counters) and remove the namespaces now rather than at exit. */
		for (size_t i = 0; i < d->nchild; i++)
			if (strcmp(d->child[i].name, "kizuki-devsim") == 0) {
				d->child[i].essential = false;
				kz_demo_stop(&d->child[i], 5000);
			}
		kz_demo_net_down(d);
		step("fleet stopped, network namespaces removed");
	}
	step("writing each operator's report and the STIX 2.1 bundle (kizuki report)");
	if ((rc = reports(d)))
		return rc;
	step("asking the hub for the summary");
	return kz_demo_summary(d, *surveyed, mmdb);
}

/* --help: the contract's synopsis and what each option does. */
static void usage(void)
{
	puts("usage: kizuki demo [--once] [--out DIR]\n"
	     "\n"
	     "Runs the whole pipeline on a built-in simulated network: a darknet trace\n"
	     "read by kizuki telescope, a simulated IoT fleet surveyed by kizuki survey\n"
	     "(as root, in network namespaces it creates and removes), both sent to\n"
	     "kizuki hub; then each operator's report and a STIX bundle, a summary, and\n"
	     "the dashboard served until Ctrl-C.\n"
	     "\n"
	     "  --once      exit after the summary instead of serving the dashboard\n"
	     "  --out DIR   where everything goes (new or empty; default\n"
	     "              ./kizuki-demo-YYYYMMDD-HHMMSS)\n"
	     "\n"
	     "Exit status: 0 done, 1 a step failed or the round was interrupted, 2 usage\n"
	     "before the round finished. See docs/demo.md.");
}

int kz_cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "out", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool once = false;
	const char *out = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			once = true;
			break;
		case 'd':
			out = optarg;
			break;
		case 'h':
			usage();
			return KZ_EXIT_OK;
		default:
			return kz_cli_bad_option(c, argv);
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	static struct kz_demo demo;
	struct kz_demo *d = &demo;
	memset(d, 0, sizeof *d);
	kz_demo_signals();
	if (locate_self(d) || make_out(d, out))
		return KZ_EXIT_FAILURE;
	printf("kizuki %s demo: everything goes to %s\n", KZ_VERSION, d->out);
	fflush(stdout);

	bool surveyed = false;
	int rc = round_trip(d, &surveyed);
	if (rc == 0 && !once) {
		printf("\nServing the dashboard at %s/ until Ctrl-C.\n", d->url);
		fflush(stdout);
		while ((rc = kz_demo_check_children(d)) == 0 && kz_demo_sleep(500) == 0)
			;
		/* Ctrl-C while serving is the normal way to stop. */
		if (rc == 0) {
			kz_demo_signal = 0;
			printf("\n");
		}
	}
	int sig = kz_demo_signal;
	if (sig)
		kz_cli_error("interrupted by %s: stopping every process and removing the network "
		             "namespaces",
		             sig == SIGINT    ? "SIGINT"
		             : sig == SIGTERM ? "SIGTERM"
		                              : "a signal");
	else if (rc)
		kz_cli_error("a step failed (see above): stopping every process and removing the "
		             "network namespaces; logs in %s/logs",
		             d->out);
	cleanup(d);
	if (sig || rc)
		return KZ_EXIT_FAILURE;
	step("stopped; everything the demo made is removed, its files stay in %s", d->out);
	return KZ_EXIT_OK;
}
