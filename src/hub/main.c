/*
 * kizuki hub and kizuki hub token: the command lines of the ISAC daemon
 * (CONTRACT.md). The daemon itself is src/lib/hub.c; this file parses
 * options, handles signals (SIGHUP reloads the tables, SIGTERM and SIGINT
 * stop gracefully) and prints. It dies only at start-up.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hub.h"
#include "tokens.h"
#include "utf8.h"

static const char hub_usage[] =
        "usage: kizuki hub --db PATH [options]\n"
        "       kizuki hub token --role admin|sensor|operator|partner --name NAME [--asn A,B] "
        "[--tlp LEVEL]\n"
        "\n"
        "The ISAC daemon: ingests telescope and survey records, attributes each address\n"
        "to its network operator, tracks findings until remediated, writes per-operator\n"
        "reports and shares indicators under TLP. SIGHUP reloads pfx2as, operators, mmdb\n"
        "and tokens; SIGTERM stops after answering every request already received.\n"
        "\n"
        "  --db PATH              SQLite store (required; created when missing)\n"
        "  --listen ADDR:PORT     HTTP API and dashboard (default 127.0.0.1:8470)\n"
        "  --pfx2as FILE          CAIDA prefix-to-AS table (plain or gzip)\n"
        "  --operators FILE       asn<TAB>name<TAB>abuse-contact[<TAB>renotify-sec]\n"
        "  --mmdb FILE            MaxMind-format country database\n"
        "  --tokens FILE          role<TAB>name<TAB>scope<TAB>sha256-of-token\n"
        "  --partner-keys FILE    partner<TAB>key-id<TAB>hex-key (mode 0600)\n"
        "  --outbox DIR           write each operator's report here, once per period\n"
        "  --smtp-url URL         and/or mail it to the operator's abuse contact\n"
        "                         (smtp://host:port or smtps://...)\n"
        "  --report-period SEC    one report per operator per period (default 86400)\n"
        "  --reporter 'NAME <ADDR>'  who reports: mail sender, X-ARF reporter, STIX\n"
        "                         identity, MISP organisation\n"
        "  --redact-passwords     leave passwords out of operators' reports\n"
        "  --inactive-after SEC   telescope findings go inactive after this (default 604800)\n"
        "  --web DIR              dashboard files to serve at / (default: a sign-in page)\n"
        "  --max-body BYTES       largest POST body (default 67108864)\n"
        "  --threads N            HTTP threads (default 4)\n"
        "  --retention SPEC       KEY=VALUE,...: observations, stats-5m, stats-1h, stats-1d,\n"
        "                         stats-raw, audit in days (0 keeps forever), sightings per\n"
        "                         finding (default observations=400,sightings=100,stats-5m=14,\n"
        "                         stats-1h=400,stats-1d=0,stats-raw=14,audit=0)\n"
        "  --progress             progress lines on stderr even when it is not a terminal\n"
        "  -h, --help             this text\n";

enum {
	OPT_DB = 256,
	OPT_LISTEN,
	OPT_PFX2AS,
	OPT_OPERATORS,
	OPT_MMDB,
	OPT_TOKENS,
	OPT_PARTNER_KEYS,
	OPT_OUTBOX,
	OPT_SMTP_URL,
	OPT_REPORT_PERIOD,
	OPT_INACTIVE_AFTER,
	OPT_WEB,
	OPT_MAX_BODY,
	OPT_THREADS,
	OPT_RETENTION,
	OPT_PROGRESS,
	OPT_REPORTER,
	OPT_REDACT,
	OPT_ROLE,
	OPT_NAME,
	OPT_ASN,
	OPT_TLP,
};

static int cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "asn", required_argument, NULL, OPT_ASN },
		{ "tlp", required_argument, NULL, OPT_TLP },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role_s = NULL, *name = NULL, *asn_s = NULL, *tlp_s = NULL;
	int c;
	kz_cli_init("hub token", KZ_LOG_INFO);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(hub_usage, stdout);
			return KZ_EXIT_OK;
		case OPT_ROLE:
			role_s = optarg;
			break;
		case OPT_NAME:
			name = optarg;
			break;
		case OPT_ASN:
			asn_s = optarg;
			break;
		case OPT_TLP:
			tlp_s = optarg;
			break;
		default:
			return kz_cli_bad_option(c, argv);
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	enum kz_role role;
	if (!role_s)
		return kz_cli_usage_error("--role is required");
	if (kz_role_parse(role_s, &role))
		return kz_cli_usage_error("--role %s: not admin, sensor, operator or partner",
		                          role_s);
	if (!name)
		return kz_cli_usage_error("--name is required");
	size_t nl = strlen(name);
	bool name_ok = nl > 0 && nl <= KZ_TOKEN_NAME_MAX &&
	               kz_utf8_check((const uint8_t *)name, nl) == nl && !strchr(name, '#');
	for (size_t i = 0; name_ok && i < nl; i++)
		name_ok = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
	if (!name_ok)
		return kz_cli_usage_error("--name: 1-%d bytes of UTF-8 without tabs, control "
		                          "characters or '#'",
		                          KZ_TOKEN_NAME_MAX);
	char scope[KZ_TOKEN_ASNS_MAX * 12] = "-";
	if (role == KZ_ROLE_OPERATOR) {
		uint32_t *asns;
		size_t n;
		const char *why;
		if (!asn_s)
			return kz_cli_usage_error("an operator token needs --asn A[,B...]");
		if (kz_token_parse_asns(asn_s, &asns, &n, &why))
			return kz_cli_usage_error("--asn %s: %s", asn_s, why);
		size_t off = 0;
		for (size_t i = 0; i < n; i++)
			off += (size_t)snprintf(scope + off, sizeof scope - off, "%s%u",
			                        i ? "," : "", asns[i]);
		free(asns);
	} else if (asn_s) {
		return kz_cli_usage_error("--asn is for operator tokens");
	}
	if (role == KZ_ROLE_PARTNER) {
		enum kz_tlp tlp;
		if (!tlp_s)
			return kz_cli_usage_error(
			        "a partner token needs --tlp LEVEL (its ceiling)");
		if (kz_tlp_parse(tlp_s, &tlp))
			return kz_cli_usage_error(
			        "--tlp %s: not CLEAR, GREEN, AMBER, AMBER+STRICT or "
			        "RED",
			        tlp_s);
		snprintf(scope, sizeof scope, "%s", kz_tlp_name(tlp));
	} else if (tlp_s) {
		return kz_cli_usage_error("--tlp is for partner tokens");
	}
	char token[KZ_TOKEN_STRLEN], hash[KZ_TOKEN_HASH_HEX];
	int rc = kz_token_generate(token);
	if (rc) {
		kz_cli_error("no randomness: %s", strerror(-rc));
		return KZ_EXIT_FAILURE;
	}
	kz_token_hash_hex(token, strlen(token), hash);
	printf("%s\n%s\t%s\t%s\t%s\n", token, kz_role_name(role), name, scope, hash);
	explicit_bzero(token, sizeof token);
	if (fflush(stdout) != 0) {
		kz_cli_error("stdout: %s", strerror(errno));
		return KZ_EXIT_FAILURE;
	}
	fprintf(stderr,
	        "%s: the first line is the token, shown only now: give it to %s. Append the "
	        "second line to the hub's tokens file and send the hub SIGHUP.\n",
	        kz_cli_name(), name);
	return KZ_EXIT_OK;
}

int kz_cmd_hub(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "pfx2as", required_argument, NULL, OPT_PFX2AS },
		{ "operators", required_argument, NULL, OPT_OPERATORS },
		{ "mmdb", required_argument, NULL, OPT_MMDB },
		{ "tokens", required_argument, NULL, OPT_TOKENS },
		{ "partner-keys", required_argument, NULL, OPT_PARTNER_KEYS },
		{ "outbox", required_argument, NULL, OPT_OUTBOX },
		{ "smtp-url", required_argument, NULL, OPT_SMTP_URL },
		{ "report-period", required_argument, NULL, OPT_REPORT_PERIOD },
		{ "inactive-after", required_argument, NULL, OPT_INACTIVE_AFTER },
		{ "web", required_argument, NULL, OPT_WEB },
		{ "max-body", required_argument, NULL, OPT_MAX_BODY },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "retention", required_argument, NULL, OPT_RETENTION },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "reporter", required_argument, NULL, OPT_REPORTER },
		{ "redact-passwords", no_argument, NULL, OPT_REDACT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kz_hub_config cfg = { 0 };
	kz_hub_retention_defaults(&cfg.retention);
	uint64_t v;
	const char *why;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(hub_usage, stdout);
			return KZ_EXIT_OK;
		case OPT_DB:
			cfg.db_path = optarg;
			break;
		case OPT_LISTEN:
			cfg.listen = optarg;
			break;
		case OPT_PFX2AS:
			cfg.pfx2as = optarg;
			break;
		case OPT_OPERATORS:
			cfg.operators = optarg;
			break;
		case OPT_MMDB:
			cfg.mmdb = optarg;
			break;
		case OPT_TOKENS:
			cfg.tokens = optarg;
			break;
		case OPT_PARTNER_KEYS:
			cfg.partner_keys = optarg;
			break;
		case OPT_OUTBOX:
			cfg.outbox = optarg;
			break;
		case OPT_SMTP_URL:
			cfg.smtp_url = optarg;
			break;
		case OPT_REPORT_PERIOD:
			if (kz_cli_parse_u64("report-period", optarg, 1, UINT32_MAX, &v))
				return KZ_EXIT_USAGE;
			cfg.report_period = (int64_t)v;
			break;
		case OPT_REPORTER:
			cfg.reporter = optarg;
			break;
		case OPT_REDACT:
			cfg.redact_passwords = true;
			break;
		case OPT_INACTIVE_AFTER:
			if (kz_cli_parse_u64("inactive-after", optarg, 1, 100ull * 365 * 86400, &v))
				return KZ_EXIT_USAGE;
			cfg.inactive_after = (int64_t)v;
			break;
		case OPT_WEB:
			cfg.web_dir = optarg;
			break;
		case OPT_MAX_BODY:
			if (kz_cli_parse_u64("max-body", optarg, 4096, 1ull << 32, &v))
				return KZ_EXIT_USAGE;
			cfg.max_body = (size_t)v;
			break;
		case OPT_THREADS:
			if (kz_cli_parse_u64("threads", optarg, 1, 256, &v))
				return KZ_EXIT_USAGE;
			cfg.threads = (unsigned)v;
			break;
		case OPT_RETENTION:
			if (kz_hub_retention_parse(optarg, &cfg.retention, &why))
				return kz_cli_usage_error("--retention %s: %s", optarg, why);
			break;
		case OPT_PROGRESS:
			break;
		default:
			return kz_cli_bad_option(c, argv);
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	if (!cfg.db_path)
		return kz_cli_usage_error("--db is required");
	if (cfg.smtp_url && !cfg.reporter)
		kz_cli_warn("--smtp-url without --reporter: mail goes out from the placeholder "
		            "abuse@kizuki.invalid");
	if (cfg.smtp_url && strncmp(cfg.smtp_url, "smtp://", 7) != 0 &&
	    strncmp(cfg.smtp_url, "smtps://", 8) != 0)
		return kz_cli_usage_error("--smtp-url %s: an smtp:// or smtps:// URL",
		                          cfg.smtp_url);
	if (!cfg.tokens)
		kz_cli_warn("no --tokens: every request that needs a token is refused (401)");

	/* Every thread the hub starts inherits this mask; the signals are
	 * taken here with sigwait, never by a handler in another thread. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct kz_hub *h;
	char err[1024];
	int rc = kz_hub_start(&cfg, &h, err, sizeof err);
	if (rc) {
		kz_cli_error("%s", err);
		return KZ_EXIT_FAILURE;
	}
	kz_cli_info("listening on port %u, store %s", (unsigned)kz_hub_port(h), cfg.db_path);
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			unsigned failed = kz_hub_reload(h);
			if (failed)
				kz_cli_warn("reload: %u table%s kept as before (see above)", failed,
				            failed == 1 ? "" : "s");
			continue;
		}
		kz_cli_info("stopping (%s)", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	kz_hub_stop(h);
	return KZ_EXIT_OK;
}
