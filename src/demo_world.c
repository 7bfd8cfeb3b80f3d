/*
 * The demo's world, written into its output directory before anything
 * runs (docs/demo.md lists every file):
 *
 *   world/darknet.pcap.gz   kizuki-gen -p demo, ending about now, so that
 *                           the hub's "last 24 hours" and lifecycle see it
 *   world/pfx2as            the generator's table (198.19.0.0/16 in sixteen
 *                           /20s, AS64496-AS64511) plus the fleet's /27s
 *   world/operators.tsv     sixteen operators, abuse contacts at example.*
 *   world/geo.mmdb          a country per operator (tools/make_mmdb.pl)
 *   world/creds.txt         the fleet's and the survey's credential list
 *   world/tokens, tokens/   the hub's token hashes; each token, mode 0600
 *
 * Every table is derived from one list of operators below, so the fleet's
 * i-th /27, the generator's i-th /20 and the i-th operator agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

/* One operator of the demo's world: name, mail domain, country. */
struct demo_operator {
	const char *name;
	const char *domain;
	const char *cc;
};

/* Fictional operators; example.net/.org are reserved for documentation. */
static const struct demo_operator operators[KZ_DEMO_OPERATORS] = {
	{ "Aozora Net", "aozora.example.net", "JP" },
	{ "Sakura Broadband", "sakura-bb.example.org", "JP" },
	{ "Hikari Fiber", "hikari.example.net", "JP" },
	{ "Kumo Mobile", "kumo.example.org", "JP" },
	{ "Nami Cable", "nami.example.net", "US" },
	{ "Tsubasa Telecom", "tsubasa.example.org", "US" },
	{ "Yama Networks", "yama.example.net", "DE" },
	{ "Hoshi Online", "hoshi.example.org", "DE" },
	{ "Kaze Wireless", "kaze.example.net", "BR" },
	{ "Mori ISP", "mori.example.org", "IN" },
	{ "Umi Broadband", "umi.example.net", "KR" },
	{ "Sora Datacenter", "sora.example.org", "VN" },
	{ "Kawa Connect", "kawa.example.net", "TW" },
	{ "Tani Access", "tani.example.org", "FR" },
	{ "Hana Hosting", "hana.example.net", "GB" },
	{ "Yuki Transit", "yuki.example.org", "AU" },
};

const char *kz_demo_operator_name(unsigned i)
{
	return i < KZ_DEMO_OPERATORS ? operators[i].name : "?";
}

int kz_demo_path(const struct kz_demo *d, char *buf, size_t len, const char *fmt, ...)
{
	int n = snprintf(buf, len, "%s/", d->out);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= len - (size_t)n) {
		kz_cli_error("%s: path too long", d->out);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* A regular file this process may execute. */
static bool executable(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

int kz_demo_find_tool(const struct kz_demo *d, const char *name, char *buf, size_t len)
{
	static const char *const rel[] = { "", "/../libexec/kizuki" };
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		int n = snprintf(buf, len, "%s%s/%s", d->exe_dir, rel[i], name);
		if (n > 0 && (size_t)n < len && executable(buf))
			return 0;
	}
	const char *path = getenv("PATH");
	if (path) {
		char dirs[4096];
		snprintf(dirs, sizeof dirs, "%s", path);
		char *save = NULL;
		for (char *dir = strtok_r(dirs, ":", &save); dir;
		     dir = strtok_r(NULL, ":", &save)) {
			int n = snprintf(buf, len, "%s/%s", dir, name);
			if (n > 0 && (size_t)n < len && dir[0] == '/' && executable(buf))
				return 0;
		}
	}
	buf[0] = '\0';
	return -ENOENT;
}

int kz_demo_need_tool(const struct kz_demo *d, const char *name, char *buf, size_t len)
{
	int rc = kz_demo_find_tool(d, name, buf, len);
	if (rc)
		kz_cli_error("%s not found next to %s or in PATH: build it (cmake --build) or "
		             "install it",
		             name, d->exe);
	return rc;
}

/* The source directory of the CMake build the binary sits in, if any. */
static bool build_source_dir(const struct kz_demo *d, char *buf, size_t len)
{
	char cache[PATH_MAX];
	int n = snprintf(cache, sizeof cache, "%s/CMakeCache.txt", d->exe_dir);
	if (n < 0 || (size_t)n >= sizeof cache)
		return false;
	FILE *f = fopen(cache, "r");
	if (!f)
		return false;
	static const char key[] = "kizuki_SOURCE_DIR:STATIC=";
	char line[PATH_MAX + 64];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		if (strncmp(line, key, sizeof key - 1) != 0)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		int m = snprintf(buf, len, "%s", line + sizeof key - 1);
		found = m > 0 && (size_t)m < len && buf[0] == '/';
	}
	fclose(f);
	return found;
}

int kz_demo_find_data(const struct kz_demo *d, const char *src_rel, const char *share_rel,
                      char *buf, size_t len)
{
	char src[PATH_MAX];
	struct stat st;
	if (build_source_dir(d, src, sizeof src)) {
		int n = snprintf(buf, len, "%s/%s", src, src_rel);
		if (n > 0 && (size_t)n < len && stat(buf, &st) == 0)
			return 0;
	}
	const char *const roots[] = { d->exe_dir, "/usr/local/bin", "/usr/bin" };
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		int n = snprintf(buf, len, "%s/../share/kizuki/%s", roots[i], share_rel);
		if (n > 0 && (size_t)n < len && stat(buf, &st) == 0)
			return 0;
	}
	buf[0] = '\0';
	return -ENOENT;
}

/* Writes a whole file of mode `mode` (new or truncated). */
static int write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		goto fail;
	/* An existing file keeps its mode through O_CREAT: set it. */
	if (fchmod(fd, mode) != 0)
		goto fail_fd;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail_fd;
		off += (size_t)n;
	}
	if (close(fd) != 0)
		goto fail;
	return 0;
fail_fd:
	close(fd);
fail:
	kz_cli_error("%s: %s", path, strerror(errno));
	return -1;
}

/* The i-th operator's /27 of the fleet, as "198.18.A.B". */
static void fleet_net(unsigned i, char *buf, size_t len)
{
	unsigned off = i * 32;
	snprintf(buf, len, "198.18.%u.%u", 128 + off / 256, off % 256);
}

static int write_tables(struct kz_demo *d)
{
	char path[PATH_MAX], gen[PATH_MAX];
	char text[8192];
	size_t n = 0;

	/* Operators. */
	n = (size_t)snprintf(text, sizeof text,
	                     "# kizuki demo: the operators of AS64496-AS64511 (fictional)\n");
	for (unsigned i = 0; i < KZ_DEMO_OPERATORS; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%u\t%s\tabuse@%s\n",
		                      KZ_DEMO_FIRST_ASN + i, operators[i].name,
		                      operators[i].domain);
	if (kz_demo_path(d, path, sizeof path, "world/operators.tsv") ||
	    write_file(path, text, n, 0644))
		return -1;

	/* pfx2as: the generator's table, then the fleet's prefixes. */
	if (kz_demo_path(d, gen, sizeof gen, "world/gen.pfx2as"))
		return -1;
	FILE *g = fopen(gen, "r");
	if (!g) {
		kz_cli_error("%s: %s", gen, strerror(errno));
		return -1;
	}
	n = fread(text, 1, sizeof text - 2048, g);
	bool whole = feof(g);
	fclose(g);
	/* The table is a few hundred bytes; a larger one is not the demo's. */
	if (!whole) {
		kz_cli_error("%s: larger than the demo expects", gen);
		return -1;
	}
	for (unsigned i = 0; i < KZ_DEMO_OPERATORS; i++) {
		char net[32];
		fleet_net(i, net, sizeof net);
		n += (size_t)snprintf(text + n, sizeof text - n, "%s\t27\t%u\n", net,
		                      KZ_DEMO_FIRST_ASN + i);
	}
	if (kz_demo_path(d, path, sizeof path, "world/pfx2as") || write_file(path, text, n, 0644))
		return -1;

	/* Three pairs: enough to find most weak devices, few enough that the
	 * slowest device (10 s per silent failure) is done within a minute. */
	static const char creds[] = "# kizuki demo: the fleet's weak devices draw from these, and\n"
	                            "# the survey tries them (user:password; empty user: "
	                            "password-only)\n"
	                            "root:xc3511\n"
	                            "admin:admin\n"
	                            ":1234\n";
	if (kz_demo_path(d, path, sizeof path, "world/creds.txt") ||
	    write_file(path, creds, sizeof creds - 1, 0600))
		return -1;
	static const char scope[] =
	        "# kizuki demo: the simulated fleet, and nothing else\n" KZ_DEMO_FLEET "\n";
	if (kz_demo_path(d, path, sizeof path, "world/scope.txt") ||
	    write_file(path, scope, sizeof scope - 1, 0644))
		return -1;
	return 0;
}

/* A country database: each operator's /20, IPv6 /40 and fleet /27. */
static int write_mmdb(struct kz_demo *d, bool *made)
{
	char perl[PATH_MAX], script[PATH_MAX], out[PATH_MAX], log[PATH_MAX];
	*made = false;
	if (kz_demo_find_tool(d, "perl", perl, sizeof perl) != 0) {
		kz_cli_warn("no perl: the hub runs without a country database");
		return 0;
	}
	if (kz_demo_find_data(d, "tools/make_mmdb.pl", "make_mmdb.pl", script, sizeof script) !=
	    0) {
		kz_cli_warn(
		        "tools/make_mmdb.pl not found: the hub runs without a country database");
		return 0;
	}
	if (kz_demo_path(d, out, sizeof out, "world/geo.mmdb") ||
	    kz_demo_path(d, log, sizeof log, "logs/mmdb.log"))
		return -1;
	char pairs[3 * KZ_DEMO_OPERATORS][64];
	char *argv[4 + 3 * KZ_DEMO_OPERATORS + 1];
	size_t a = 0;
	argv[a++] = perl;
	argv[a++] = script;
	argv[a++] = out;
	for (unsigned i = 0; i < KZ_DEMO_OPERATORS; i++) {
		char net[32];
		fleet_net(i, net, sizeof net);
		snprintf(pairs[3 * i], sizeof pairs[0], "198.19.%u.0/20=%s", i * 16,
		         operators[i].cc);
		snprintf(pairs[3 * i + 1], sizeof pairs[0], "2001:db8:%x00::/40=%s", i,
		         operators[i].cc);
		snprintf(pairs[3 * i + 2], sizeof pairs[0], "%s/27=%s", net, operators[i].cc);
		for (unsigned k = 0; k < 3; k++)
			argv[a++] = pairs[3 * i + k];
	}
	argv[a] = NULL;
	/* A missing Perl module is not fatal: the hub runs without countries,
	 * and the summary says so. */
	int rc = kz_demo_run(d, "make_mmdb.pl", NULL, argv, log, 60000);
	if (rc == -EINTR)
		return rc;
	if (rc != 0) {
		kz_cli_warn("the country database could not be made (Debian's "
		            "libmaxmind-db-writer-perl missing?): the hub runs without one");
		return 0;
	}
	*made = true;
	return 0;
}

/* `kizuki hub token`: keeps the token in tokens/<file>.token (0600) and
 * appends its hash line to world/tokens. */
static int make_token(struct kz_demo *d, const char *role, const char *name, const char *scope,
                      const char *file)
{
	char out[PATH_MAX], tokpath[PATH_MAX], tokens[PATH_MAX];
	if (kz_demo_path(d, out, sizeof out, "logs/token-%s.out", file) ||
	    kz_demo_path(d, tokpath, sizeof tokpath, "tokens/%s.token", file) ||
	    kz_demo_path(d, tokens, sizeof tokens, "world/tokens"))
		return -1;
	/* The token is printed once, on stdout: caught in a file that is
	 * removed as soon as it is read. */
	unlink(out);
	const char *argv[10] = { d->exe, "hub", "token", "--role", role, "--name", name, NULL };
	if (scope) {
		argv[7] = strcmp(role, "partner") == 0 ? "--tlp" : "--asn";
		argv[8] = scope;
	}
	int rc = kz_demo_run(d, "kizuki hub token", NULL, (char *const *)argv, out, 10000);
	if (rc)
		return rc;
	FILE *f = fopen(out, "r");
	if (!f)
		return -1;
	char line[512], token[256] = "", hashline[512] = "", prefix[128];
	snprintf(prefix, sizeof prefix, "%s\t%s\t", role, name);
	while (fgets(line, sizeof line, f)) {
		size_t len = strlen(line);
		if (strncmp(line, prefix, strlen(prefix)) == 0 && len < sizeof hashline)
			memcpy(hashline, line, len + 1);
		else if (strncmp(line, "kz_", 3) == 0 && !strchr(line, ' ') && len < sizeof token)
			memcpy(token, line, len + 1);
	}
	fclose(f);
	unlink(out);
	if (!token[0] || !hashline[0]) {
		kz_cli_error("kizuki hub token --role %s: unexpected output", role);
		return -1;
	}
	rc = write_file(tokpath, token, strlen(token), 0600);
	if (rc == 0) {
		FILE *t = fopen(tokens, "a");
		if (!t || fputs(hashline, t) < 0 || fclose(t) != 0) {
			kz_cli_error("%s: %s", tokens, strerror(errno));
			rc = -1;
		}
	}
	explicit_bzero(token, sizeof token);
	return rc;
}

static int write_tokens(struct kz_demo *d)
{
	char tokens[PATH_MAX];
	if (kz_demo_path(d, tokens, sizeof tokens, "world/tokens"))
		return -1;
	if (write_file(tokens, "", 0, 0600))
		return -1;
	int rc;
	if ((rc = make_token(d, "admin", "demo-admin", NULL, "admin")) ||
	    (rc = make_token(d, "sensor", "demo-sensors", NULL, "sensor")) ||
	    (rc = make_token(d, "partner", "demo-partner", "AMBER", "partner")))
		return rc;
	for (unsigned i = 0; i < KZ_DEMO_OPERATORS; i++) {
		char asn[16], name[64], file[32];
		snprintf(asn, sizeof asn, "%u", KZ_DEMO_FIRST_ASN + i);
		snprintf(name, sizeof name, "%.40s", operators[i].domain);
		/* The operator's login name: its domain without ".example.*", so
		 * the dashboard's header says who is signed in. */
		name[strcspn(name, ".")] = '\0';
		snprintf(file, sizeof file, "AS%u", KZ_DEMO_FIRST_ASN + i);
		if ((rc = make_token(d, "operator", name, asn, file)))
			return rc;
	}
	return 0;
}

static int generate_trace(struct kz_demo *d)
{
	char gen[PATH_MAX], pcap[PATH_MAX], truth[PATH_MAX], pfx[PATH_MAX], log[PATH_MAX];
	if (kz_demo_need_tool(d, "kizuki-gen", gen, sizeof gen) != 0)
		return -1;
	if (kz_demo_path(d, pcap, sizeof pcap, "world/darknet.pcap.gz") ||
	    kz_demo_path(d, truth, sizeof truth, "world/darknet-truth.jsonl") ||
	    kz_demo_path(d, pfx, sizeof pfx, "world/gen.pfx2as") ||
	    kz_demo_path(d, log, sizeof log, "logs/gen.log"))
		return -1;
	/* Six hours of packet time ending a minute ago, on a whole minute. */
	time_t now = time(NULL);
	char start[32];
	snprintf(start, sizeof start, "@%lld", (long long)((now - 6 * 3600 - 60) / 60 * 60));
	const char *argv[] = { gen,  "-p", "demo", "--darknet", KZ_DEMO_DARKNET, "--start", start,
		               "-o", pcap, "-t",   truth,       "--pfx2as",      pfx,       NULL };
	return kz_demo_run(d, "kizuki-gen", NULL, (char *const *)argv, log, 120000);
}

int kz_demo_world(struct kz_demo *d, bool *mmdb)
{
	int rc;
	if ((rc = generate_trace(d)) || (rc = write_tables(d)) || (rc = write_mmdb(d, mmdb)) ||
	    (rc = write_tokens(d)))
		return rc;
	return 0;
}
