/*
 * kizuki report: per-operator reports and partner feeds from a hub's store
 * (CONTRACT.md "kizuki report", docs/reports.md). The work is in libkizuki
 * (report.h, stix.h, misp.h, share.h); this file parses options, opens the
 * store, picks the output and prints one-line errors.
 *
 * The command only reads the store: a report written here was not
 * delivered to anyone, so it does not mark findings notified (the hub's
 * outbox, SMTP and API pulls do).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "afile.h"
#include "cli.h"
#include "frow.h"
#include "misp.h"
#include "report.h"
#include "share.h"
#include "stix.h"
#include "store.h"
#include "timefmt.h"
#include "tokens.h"

static const char report_usage[] =
        "usage: kizuki report --db PATH (--asn N | --partner NAME) [options]\n"
        "\n"
        "Writes one operator's report, or one partner's shared feed, from a hub's store.\n"
        "\n"
        "  --db PATH                 the hub's store (required)\n"
        "  --asn N                   the operator's own view: every finding of AS N\n"
        "  --asn all                 every operator's report, one file per AS in --out DIR\n"
        "  --partner NAME            that partner's feed: cut to its TLP ceiling (from\n"
        "                            --tokens) and pseudonymised with its key (from\n"
        "                            --partner-keys, when it has one there)\n"
        "  --format FORMAT           with --asn: csv (default), json or xarf;\n"
        "                            with --partner: stix (default) or misp\n"
        "  --since TIME              findings last seen at or after TIME (ISO 8601 UTC,\n"
        "                            a date, or seconds since the epoch)\n"
        "  --out FILE|DIR            write here (atomically) instead of stdout; misp needs\n"
        "                            a directory\n"
        "  --tokens FILE             the hub's tokens file (needed by --partner)\n"
        "  --partner-keys FILE       partner<TAB>key-id<TAB>hex-key, mode 0600\n"
        "  --reporter 'NAME <ADDR>'  who reports: X-ARF reporter, STIX identity, MISP org\n"
        "  --redact-passwords        leave passwords out of an operator's report\n"
        "  --report-period SEC       misp: one event per operator per period (default 86400)\n"
        "  -h, --help                this text\n";

enum {
	OPT_DB = 256,
	OPT_ASN,
	OPT_PARTNER,
	OPT_FORMAT,
	OPT_SINCE,
	OPT_OUT,
	OPT_TOKENS,
	OPT_PARTNER_KEYS,
	OPT_REPORTER,
	OPT_REDACT,
	OPT_PERIOD,
};

struct args {
	const char *db, *partner, *format, *since_s, *out, *tokens, *keys, *reporter;
	uint64_t asn, period;
	bool redact, all;
};

/* Reads the options into a; returns 0, KZ_EXIT_USAGE, or -1 after --help. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "asn", required_argument, NULL, OPT_ASN },
		{ "partner", required_argument, NULL, OPT_PARTNER },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "tokens", required_argument, NULL, OPT_TOKENS },
		{ "partner-keys", required_argument, NULL, OPT_PARTNER_KEYS },
		{ "reporter", required_argument, NULL, OPT_REPORTER },
		{ "redact-passwords", no_argument, NULL, OPT_REDACT },
		{ "report-period", required_argument, NULL, OPT_PERIOD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(report_usage, stdout);
			return -1;
		case OPT_DB:
			a->db = optarg;
			break;
		case OPT_ASN: {
			const char *p = optarg;
			if (strcmp(p, "all") == 0) {
				a->all = true;
				break;
			}
			if (strncasecmp(p, "AS", 2) == 0)
				p += 2;
			if (kz_cli_parse_u64("asn", p, 1, UINT32_MAX, &a->asn))
				return KZ_EXIT_USAGE;
			break;
		}
		case OPT_PARTNER:
			a->partner = optarg;
			break;
		case OPT_FORMAT:
			a->format = optarg;
			break;
		case OPT_SINCE:
			a->since_s = optarg;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_TOKENS:
			a->tokens = optarg;
			break;
		case OPT_PARTNER_KEYS:
			a->keys = optarg;
			break;
		case OPT_REPORTER:
			a->reporter = optarg;
			break;
		case OPT_REDACT:
			a->redact = true;
			break;
		case OPT_PERIOD:
			if (kz_cli_parse_u64("report-period", optarg, 60, 366ull * 86400,
			                     &a->period))
				return KZ_EXIT_USAGE;
			break;
		default:
			return kz_cli_bad_option(c, argv);
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	return 0;
}

/* --since: seconds since the epoch, or an ISO 8601 time or date. */
static int parse_since(const char *s, int64_t *out)
{
	const char *why;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s && !errno && !*end && v >= 0 && v <= KZ_TIME_MAX) {
		*out = v;
		return 0;
	}
	if (kz_time_parse(s, out, &why) == 0)
		return 0;
	return kz_cli_usage_error("--since %s: %s", s, why);
}

/* The partner's TLP ceiling and key. */
static int partner_setup(const struct args *a, enum kz_tlp *tlp, struct kz_partner_keys **keys,
                         const struct kz_partner_key **key)
{
	char err[1024];
	struct kz_tokens *t = NULL;
	if (!a->tokens)
		return kz_cli_usage_error("--partner needs --tokens FILE (the partner's TLP "
		                          "ceiling is in its token line)");
	if (kz_tokens_load(a->tokens, &t, err, sizeof err) != 0) {
		kz_cli_error("%s", err);
		return KZ_EXIT_FAILURE;
	}
	const struct kz_token *tok = kz_tokens_find_name(t, a->partner);
	if (!tok || tok->role != KZ_ROLE_PARTNER) {
		kz_cli_error("--partner %s: no partner token of that name in %s", a->partner,
		             a->tokens);
		kz_tokens_free(t);
		return KZ_EXIT_FAILURE;
	}
	*tlp = tok->tlp;
	kz_tokens_free(t);
	if (a->keys) {
		if (kz_partner_keys_load(a->keys, keys, err, sizeof err) != 0) {
			kz_cli_error("%s", err);
			return KZ_EXIT_FAILURE;
		}
		*key = kz_partner_keys_find(*keys, a->partner);
		if (!*key)
			kz_cli_info("partner %s has no key in %s: its feed holds real addresses, "
			            "as the hub serves it",
			            a->partner, a->keys);
	}
	return 0;
}

/* Runs the writer into --out (atomically) or stdout. */
static int write_out(const struct args *a, int (*fn)(void *, FILE *, char *, size_t), void *arg)
{
	char err[1024];
	struct kz_afile af;
	if (!a->out) {
		if (fn(arg, stdout, err, sizeof err) != 0 || fflush(stdout) != 0) {
			kz_cli_error("%s", err);
			return KZ_EXIT_FAILURE;
		}
		return KZ_EXIT_OK;
	}
	if (kz_afile_open(&af, a->out, err, sizeof err) != 0) {
		kz_cli_error("%s", err);
		return KZ_EXIT_FAILURE;
	}
	if (fn(arg, af.f, err, sizeof err) != 0 || kz_afile_commit(&af, err, sizeof err) != 0) {
		kz_afile_abort(&af);
		kz_cli_error("%s", err);
		return KZ_EXIT_FAILURE;
	}
	return KZ_EXIT_OK;
}

struct job {
	sqlite3 *db;
	struct kz_report_opts ro;
	struct kz_feed_opts fo;
	size_t count;
};

/* write_out's workers: an operator report, a STIX bundle. */
static int do_report(void *arg, FILE *out, char *err, size_t errlen)
{
	struct job *j = arg;
	return kz_report_write(j->db, &j->ro, out, NULL, &j->count, err, errlen);
}

static int do_stix(void *arg, FILE *out, char *err, size_t errlen)
{
	struct job *j = arg;
	return kz_stix_write(j->db, &j->fo, out, &j->count, err, errlen);
}

/* --asn all: every AS's report into DIR in one pass over the findings per
 * group of ASes (a group is as large as the open-file limit allows). */
struct all {
	const char *dir;
	enum kz_report_format fmt;
	uint32_t lo, hi; /* this pass's ASes */
	struct kz_afile *files;
	const uint32_t *asns;
	size_t nasns;
	struct kz_report_operator *ops; /* sorted by AS, for the JSON headers */
	size_t nops;
	int failed;
	char err[1024];
};

/* The AS's file slot (x->asns is sorted), or NULL for an AS not listed. */
static struct kz_afile *all_file(struct all *x, uint32_t asn)
{
	size_t lo = 0, hi = x->nasns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->asns[mid] < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->nasns && x->asns[lo] == asn ? &x->files[lo] : NULL;
}

static FILE *all_open(void *arg, uint32_t asn, const struct kz_report_operator **op,
                      int64_t *renotify_before)
{
	struct all *x = arg;
	char path[KZ_AFILE_PATH_MAX];
	(void)renotify_before;
	for (size_t lo = 0, hi = x->nops; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->ops[mid].asn == asn) {
			*op = &x->ops[mid];
			break;
		}
		if (x->ops[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct kz_afile *af = all_file(x, asn);
	if (!af || asn < x->lo || asn > x->hi || x->failed)
		return NULL;
	snprintf(path, sizeof path, "%s/AS%u%s", x->dir, asn, kz_report_format_ext(x->fmt));
	if (kz_afile_open(af, path, x->err, sizeof x->err) != 0) {
		x->failed = 1;
		return NULL;
	}
	setvbuf(af->f, NULL, _IOFBF, 1 << 16);
	return af->f;
}

/* A finished report is renamed into place; a failed pass drops it. */
static int all_close(void *arg, uint32_t asn, FILE *out, size_t count, bool ok)
{
	struct all *x = arg;
	struct kz_afile *af = all_file(x, asn);
	(void)out;
	(void)count;
	if (!ok || x->failed) {
		kz_afile_abort(af);
		return 0;
	}
	int rc = kz_afile_commit(af, x->err, sizeof x->err);
	if (rc)
		x->failed = 1;
	return rc;
}

static int report_all(sqlite3 *db, const struct args *a, enum kz_report_format fmt,
                      const struct kz_report_opts *base)
{
	struct all x = { .dir = a->out, .fmt = fmt };
	sqlite3_stmt *st = NULL;
	uint32_t *asns = NULL;
	size_t n = 0, cap = 0, total = 0;
	int rc = KZ_EXIT_FAILURE;
	char err[1024];
	if (kz_mkdir(a->out, err, sizeof err) != 0) {
		kz_cli_error("%s", err);
		return KZ_EXIT_FAILURE;
	}
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT asn FROM hub_finding_asns ORDER BY asn", -1,
	                       &st, NULL) != SQLITE_OK) {
		kz_cli_error("%s: %s", a->db, sqlite3_errmsg(db));
		return KZ_EXIT_FAILURE;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			uint32_t *na = reallocarray(asns, cap, sizeof *na);
			if (!na)
				goto done;
			asns = na;
		}
		asns[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	x.asns = asns;
	x.nasns = n;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db,
	                       "SELECT asn, name, abuse_contact, renotify_sec FROM hub_operators"
	                       " ORDER BY asn",
	                       -1, &st, NULL) == SQLITE_OK) {
		size_t ocap = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (x.nops == ocap) {
				ocap = ocap ? ocap * 2 : 256;
				struct kz_report_operator *no =
				        reallocarray(x.ops, ocap, sizeof *no);
				if (!no)
					goto done;
				x.ops = no;
			}
			struct kz_report_operator *o = &x.ops[x.nops++];
			memset(o, 0, sizeof *o);
			o->asn = (uint32_t)sqlite3_column_int64(st, 0);
			snprintf(o->name, sizeof o->name, "%s",
			         (const char *)sqlite3_column_text(st, 1));
			snprintf(o->contact, sizeof o->contact, "%s",
			         (const char *)sqlite3_column_text(st, 2));
			o->renotify_sec = -1;
		}
	}
	x.files = calloc(n ? n : 1, sizeof *x.files);
	if (!x.files)
		goto done;
	/* One open file per AS of a pass: as many as the limit allows. */
	struct rlimit rl;
	size_t group = 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 320)
			group = (size_t)rl.rlim_cur - 64;
	}
	struct kz_report_sink sink = { .open = all_open, .close = all_close, .arg = &x };
	for (size_t i = 0; i < n; i += group) {
		size_t last = i + group < n ? i + group - 1 : n - 1;
		size_t k = 0;
		x.lo = asns[i];
		x.hi = asns[last];
		if (kz_report_write_all(db, base, &sink, &k, err, sizeof err) != 0 || x.failed) {
			kz_cli_error("%s", x.failed ? x.err : err);
			goto done;
		}
		total += k;
	}
	kz_cli_info("%zu operators, %zu findings, in %s", n, total, a->out);
	rc = KZ_EXIT_OK;
done:
	sqlite3_finalize(st);
	free(x.files);
	free(x.ops);
	free(asns);
	return rc;
}

int kz_cmd_report(int argc, char **argv)
{
	struct args a = { 0 };
	kz_cli_init("report", KZ_LOG_INFO);
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? KZ_EXIT_OK : rc;
	if (!a.db)
		return kz_cli_usage_error("--db is required");
	bool by_asn = a.asn || a.all;
	if (by_asn == !!a.partner)
		return kz_cli_usage_error("give one of --asn N and --partner NAME");
	if (a.all && !a.out)
		return kz_cli_usage_error("--asn all writes a directory: give --out DIR");
	const char *format = a.format ? a.format : by_asn ? "csv" : "stix";
	enum kz_report_format rf = KZ_REPORT_CSV;
	bool stix = strcmp(format, "stix") == 0, misp = strcmp(format, "misp") == 0;
	if (by_asn && kz_report_format_parse(format, &rf) != 0)
		return kz_cli_usage_error("--format %s: with --asn, csv, json or xarf%s", format,
		                          stix || misp ? " (stix and misp are partner feeds: "
		                                         "--partner)"
		                                       : "");
	if (a.partner && !stix && !misp)
		return kz_cli_usage_error("--format %s: with --partner, stix or misp", format);
	if (misp && !a.out)
		return kz_cli_usage_error("--format misp writes a directory: give --out DIR");
	if (a.redact && a.partner)
		kz_cli_info("--redact-passwords: partner feeds never hold passwords anyway");
	int64_t since = INT64_MIN;
	if (a.since_s && (rc = parse_since(a.since_s, &since)))
		return rc;
	struct kz_org org;
	const char *why;
	kz_org_default(&org);
	if (a.reporter && kz_org_parse(a.reporter, &org, &why) != 0)
		return kz_cli_usage_error("--reporter %s: %s", a.reporter, why);

	enum kz_tlp tlp = KZ_TLP_UNSET;
	struct kz_partner_keys *keys = NULL;
	const struct kz_partner_key *key = NULL;
	if (a.partner && (rc = partner_setup(&a, &tlp, &keys, &key)))
		return rc;

	char err[1024];
	struct kz_store *store = NULL;
	struct kz_anon_names *anon = NULL;
	if (kz_store_open(a.db, KZ_STORE_NOMUTEX, &store, err, sizeof err) != 0) {
		kz_cli_error("%s", err);
		kz_partner_keys_free(keys);
		return KZ_EXIT_FAILURE;
	}
	struct job j = { .db = kz_store_db(store) };
	int64_t now = (int64_t)time(NULL);
	if (a.all) {
		if (kz_anon_names_load(j.db, &anon, err, sizeof err) != 0) {
			kz_cli_error("%s", err);
			rc = KZ_EXIT_FAILURE;
			goto done;
		}
		struct kz_report_opts base = {
			.format = rf,
			.since = since,
			.now = now,
			.redact_passwords = a.redact,
			.org = &org,
			.anon = anon,
		};
		rc = report_all(j.db, &a, rf, &base);
		goto done;
	}
	if (a.asn) {
		struct kz_report_operator op;
		if (kz_anon_names_load(j.db, &anon, err, sizeof err) != 0) {
			kz_cli_error("%s", err);
			rc = KZ_EXIT_FAILURE;
			goto done;
		}
		rc = kz_report_operator_load(j.db, (uint32_t)a.asn, &op, err, sizeof err);
		if (rc && rc != -ENOENT) {
			kz_cli_error("%s", err);
			rc = KZ_EXIT_FAILURE;
			goto done;
		}
		j.ro = (struct kz_report_opts){
			.asn = (uint32_t)a.asn,
			.format = rf,
			.since = since,
			.now = now,
			.redact_passwords = a.redact,
			.org = &org,
			.operator_info = &op,
			.anon = anon,
		};
		rc = write_out(&a, do_report, &j);
		if (rc == KZ_EXIT_OK)
			kz_cli_info("AS%llu: %zu finding%s", (unsigned long long)a.asn, j.count,
			            j.count == 1 ? "" : "s");
		goto done;
	}
	j.fo = (struct kz_feed_opts){
		.tlp_max = tlp,
		.since = since,
		.now = now,
		.org = &org,
		.key = key,
		.period = (int64_t)a.period,
	};
	if (stix) {
		rc = write_out(&a, do_stix, &j);
		if (rc == KZ_EXIT_OK)
			kz_cli_info("partner %s (TLP:%s%s): %zu finding%s", a.partner,
			            kz_tlp_name(tlp), key ? ", pseudonymised" : "", j.count,
			            j.count == 1 ? "" : "s");
	} else {
		size_t events = 0;
		if (kz_misp_write_dir(j.db, &j.fo, a.out, &events, err, sizeof err) != 0) {
			kz_cli_error("%s", err);
			rc = KZ_EXIT_FAILURE;
		} else {
			kz_cli_info("partner %s (TLP:%s%s): %zu event%s in %s", a.partner,
			            kz_tlp_name(tlp), key ? ", pseudonymised" : "", events,
			            events == 1 ? "" : "s", a.out);
			rc = KZ_EXIT_OK;
		}
	}
done:
	kz_anon_names_free(anon);
	kz_store_close(store);
	kz_partner_keys_free(keys);
	return rc;
}
