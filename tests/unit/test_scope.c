/*
 * The survey's scope on real files in a temporary directory: the counts,
 * every error path with its exact message, overlap and reserved warnings,
 * --allow-reserved exactly as CONTRACT.md's safety rules say, and the rule
 * that an IPv6 entry never brings in IPv4.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "encode.h"
#include "log.h"
#include "reserved.h"
#include "scope.h"

/* Every test runs in its own temporary directory, so messages name files
 * as a user would see them: "scope.txt:2: ...". */
static char tmpdir[64];
static char olddir[4096];

#define MAX_MSGS 64
static char msgs[MAX_MSGS][1024];
static enum kz_log_level levels[MAX_MSGS];
static int nmsgs;

static void capture(enum kz_log_level level, const char *msg, void *userdata)
{
	(void)userdata;
	if (nmsgs < MAX_MSGS) {
		snprintf(msgs[nmsgs], sizeof msgs[0], "%s", msg);
		levels[nmsgs] = level;
	}
	nmsgs++;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kz-test-scope-XXXXXX");
	if (!mkdtemp(tmpdir) || !getcwd(olddir, sizeof olddir) || chdir(tmpdir) != 0)
		return -1;
	nmsgs = 0;
	kz_log_set_handler(capture, NULL, KZ_LOG_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kz_log_set_handler(NULL, NULL, KZ_LOG_INFO);
	unlink("scope.txt");
	unlink("exclude.txt");
	unlink("optout.txt");
	if (chdir(olddir) != 0)
		return -1;
	return rmdir(tmpdir);
}

static void write_bytes(const char *name, const char *data, size_t len)
{
	FILE *f = fopen(name, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_file(const char *name, const char *text)
{
	write_bytes(name, text, strlen(text));
}

static int load(const char *scope, const char *exclude, const char *optout, bool allow,
                struct kz_scope **out)
{
	write_file("scope.txt", scope);
	if (exclude)
		write_file("exclude.txt", exclude);
	if (optout)
		write_file("optout.txt", optout);
	struct kz_scope_config cfg = {
		.scope_path = "scope.txt",
		.exclude_path = exclude ? "exclude.txt" : NULL,
		.optout_path = optout ? "optout.txt" : NULL,
		.allow_reserved = allow,
	};
	*out = NULL;
	return kz_scope_load(&cfg, out);
}

static void dump_msgs(void)
{
	for (int i = 0; i < nmsgs && i < MAX_MSGS; i++)
		print_message("  [%s] %s\n", kz_log_level_name(levels[i]), msgs[i]);
}

/* The exact message must have been logged at the level. */
static void expect_msg(enum kz_log_level level, const char *want)
{
	for (int i = 0; i < nmsgs && i < MAX_MSGS; i++)
		if (levels[i] == level && strcmp(msgs[i], want) == 0)
			return;
	dump_msgs();
	fail_msg("missing [%s] %s", kz_log_level_name(level), want);
}

static int count_msgs(const char *part)
{
	int n = 0;
	for (int i = 0; i < nmsgs && i < MAX_MSGS; i++)
		n += strstr(msgs[i], part) != NULL;
	return n;
}

static struct kz_addr P(const char *text) {
	struct kz_addr a;
	const char *why;
	if (kz_addr_parse(text, &a, &why) != 0)
		fail_msg("bad test address %s: %s", text, why);
	return a;
}

static void
expect_allows(const struct kz_scope *s, const char *addr, bool want)
{
	if (kz_scope_allows(s, P(addr)) != want)
		fail_msg("%s: allowed is %d, want %d", addr, !want, want);
}

static void test_load_and_count(void **state)
{
	(void)state;
	struct kz_scope *s;
	int rc = load("# customer pools\n"
	              "20.0.0.0/24   # pool A\n"
	              "\n"
	              "  20.0.1.0/25\r\n"
	              "20.0.2.7\n"
	              "2a01:db0::/126",
	              "20.0.0.128/25\n", "# opted out\n20.0.2.7\n20.0.1.5\n", false, &s);
	if (rc)
		dump_msgs();
	assert_int_equal(rc, 0);
	assert_int_equal(nmsgs, 0);
	const struct kz_scope_summary *sum = kz_scope_summary(s);
	assert_true(sum->in_scope == 389);
	assert_true(sum->excluded == 128);
	assert_true(sum->opted_out == 2);
	assert_true(sum->reserved == 0);
	assert_true(sum->allowed_reserved == 0);
	assert_true(sum->targets == 259);
	assert_int_equal(sum->ranges, 4);
	expect_allows(s, "20.0.0.0", true);
	expect_allows(s, "20.0.0.127", true);
	expect_allows(s, "20.0.0.128", false);
	expect_allows(s, "20.0.1.4", true);
	expect_allows(s, "20.0.1.5", false);
	expect_allows(s, "20.0.1.128", false);
	expect_allows(s, "20.0.2.7", false);
	expect_allows(s, "2a01:db0::3", true);
	expect_allows(s, "2a01:db0::4", false);
	expect_allows(s, "19.255.255.255", false);

	/* Every index the permutation may ask for maps to an allowed address. */
	const struct kz_ipset *t = kz_scope_targets(s);
	assert_true(kz_ipset_size(t) == sum->targets);
	for (kz_u128 i = 0; i < sum->targets; i++) {
		struct kz_addr a;
		assert_int_equal(kz_ipset_nth(t, i, &a), 0);
		assert_true(kz_scope_allows(s, a));
	}

	uint8_t d[KZ_IPSET_DIGEST_LEN];
	assert_int_equal(kz_ipset_digest(t, d), 0);
	assert_memory_equal(d, sum->digest, sizeof d);
	char hex[2 * KZ_IPSET_DIGEST_LEN + 1], want[256], got[256];
	kz_hex_encode(d, sizeof d, hex);
	/* Computed independently with the Python recipe in docs/scope.md. */
	assert_string_equal(hex,
	                    "030f20e818fb3446d3781a26d68b016effaefed3a487b9a793301934c3eec886");
	snprintf(want, sizeof want,
	         "scope: 389 addresses; 128 excluded, 2 opted out, 0 reserved; "
	         "259 targets in 4 ranges; sha256 %s",
	         hex);
	assert_string_equal(kz_scope_summary_format(sum, got, sizeof got), want);
	kz_scope_free(s);
}

static void test_faulty_lines(void **state)
{
	(void)state;
	struct kz_scope *s;
	int rc = load("20.0.0.0/24\n"
	              "10.0.0.0/33\n"
	              "20.0.0.1/24\n"
	              "020.0.0.0\n"
	              "20.0.0.0/24 20.0.1.0/24\n"
	              "2001:db8::g\n"
	              "20.0.0.0/\n"
	              "hello\n"
	              "20.0.0.0/024\n"
	              "fe80::1%eth0\n",
	              "20.0.0.0/25\n# fine\n1.2.3.4/40\n", NULL, false, &s);
	assert_int_equal(rc, -EINVAL);
	assert_null(s);
	expect_msg(KZ_LOG_ERROR, "scope.txt:2: 10.0.0.0/33: prefix length above 32");
	expect_msg(KZ_LOG_ERROR, "scope.txt:3: 20.0.0.1/24: host bits set after the prefix length");
	expect_msg(KZ_LOG_ERROR, "scope.txt:4: 020.0.0.0: IPv4 octet with a leading zero "
	                         "(octal or decimal is ambiguous)");
	expect_msg(KZ_LOG_ERROR, "scope.txt:5: 20.0.0.0/24 20.0.1.0/24: more than one field: "
	                         "one address or CIDR per line");
	expect_msg(KZ_LOG_ERROR, "scope.txt:6: 2001:db8::g: not an IPv6 address");
	expect_msg(KZ_LOG_ERROR, "scope.txt:7: 20.0.0.0/: prefix length is not a number");
	expect_msg(KZ_LOG_ERROR, "scope.txt:8: hello: not an IPv4 address: expected a digit");
	expect_msg(KZ_LOG_ERROR, "scope.txt:9: 20.0.0.0/024: prefix length with a leading zero");
	expect_msg(KZ_LOG_ERROR,
	           "scope.txt:10: fe80::1%eth0: IPv6 zone identifiers are not accepted");
	/* The other files are still read, so one run shows every fault. */
	expect_msg(KZ_LOG_ERROR, "exclude.txt:3: 1.2.3.4/40: prefix length above 32");
	assert_int_equal(nmsgs, 10);
}

static void test_long_line_nul_and_binary(void **state)
{
	(void)state;
	size_t big = KZ_LINES_MAX + 10;
	char *data = malloc(big + 100);
	assert_non_null(data);
	size_t n = 0;
	n += (size_t)sprintf(data + n, "20.0.0.0/24\n");
	memset(data + n, '1', big);
	n += big;
	data[n++] = '\n';
	memcpy(data + n, "20.0.\0.0\n", 9);
	n += 9;
	memcpy(data + n, "\x1b[31m20\x01\n", 9);
	n += 9;
	write_bytes("scope.txt", data, n);
	free(data);
	struct kz_scope_config cfg = { .scope_path = "scope.txt" };
	struct kz_scope *s = NULL;
	assert_int_equal(kz_scope_load(&cfg, &s), -EINVAL);
	expect_msg(KZ_LOG_ERROR, "scope.txt:2: line longer than 65536 bytes");
	expect_msg(KZ_LOG_ERROR, "scope.txt:3: NUL byte in the line");
	/* Control bytes are not echoed to the terminal. */
	expect_msg(KZ_LOG_ERROR, "scope.txt:4: ?[31m20?: not an IPv4 address: expected a digit");
	assert_int_equal(nmsgs, 3);
}

static void test_many_faults_are_capped(void **state)
{
	(void)state;
	char text[1024] = "";
	for (int i = 0; i < KZ_SCOPE_MAX_REPORTS + 5; i++)
		strcat(text, "10.0.0.0/33\n");
	struct kz_scope *s;
	assert_int_equal(load(text, NULL, NULL, false, &s), -EINVAL);
	assert_int_equal(nmsgs, KZ_SCOPE_MAX_REPORTS + 1);
	expect_msg(KZ_LOG_ERROR, "scope.txt:10: 10.0.0.0/33: prefix length above 32");
	expect_msg(KZ_LOG_ERROR, "scope.txt: 5 more faulty lines not shown");
	/* A long entry is cut in the message. */
	nmsgs = 0;
	assert_int_equal(load("2001:db8:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:"
	                      "0000:1/64\n",
	                      NULL, NULL, false, &s),
	                 -EINVAL);
	expect_msg(KZ_LOG_ERROR, "scope.txt:1: 2001:db8:0000:0000:0000:0000:0000:0000:0000:0000:"
	                         "0000:0000:0000:...: not an address: too long");
}

static void test_missing_files(void **state)
{
	(void)state;
	struct kz_scope_config cfg = { .scope_path = "nope.txt" };
	struct kz_scope *s = NULL;
	assert_int_equal(kz_scope_load(&cfg, &s), -ENOENT);
	expect_msg(KZ_LOG_ERROR, "nope.txt: No such file or directory");
	write_file("scope.txt", "20.0.0.0/24\n");
	cfg.scope_path = "scope.txt";
	cfg.optout_path = "optout-missing.txt";
	assert_int_equal(kz_scope_load(&cfg, &s), -ENOENT);
	expect_msg(KZ_LOG_ERROR, "optout-missing.txt: No such file or directory");
	assert_null(s);
}

static void test_overlaps_merge_with_warning(void **state)
{
	(void)state;
	struct kz_scope *s;
	int rc = load("20.0.0.0/16\n"
	              "20.0.5.0/24\n"
	              "20.0.0.0/16\n"
	              "::/0\n"
	              "20.1.0.0/24\n"
	              "20.1.0.128/25\n"
	              "2a01::/16\n"
	              "20.2.0.0/25\n"
	              "20.2.0.128/25\n",
	              "20.0.0.0/24\n20.0.0.0/25\n", NULL, false, &s);
	assert_int_equal(rc, 0);
	expect_msg(KZ_LOG_WARN, "scope.txt:2: 20.0.5.0/24 overlaps 20.0.0.0/16 (line 1); merged");
	expect_msg(KZ_LOG_WARN, "scope.txt:3: 20.0.0.0/16 repeats line 1");
	expect_msg(KZ_LOG_WARN, "scope.txt:6: 20.1.0.128/25 overlaps 20.1.0.0/24 (line 5); merged");
	expect_msg(KZ_LOG_WARN, "scope.txt:7: 2a01::/16 overlaps ::/0 (line 4); merged");
	expect_msg(KZ_LOG_WARN, "exclude.txt:2: 20.0.0.0/25 overlaps 20.0.0.0/24 (line 1); merged");
	/* IPv4 entries do not overlap "::/0", and touching entries merge
	 * silently. */
	assert_int_equal(count_msgs("overlaps") + count_msgs("repeats"), 5);
	const struct kz_scope_summary *sum = kz_scope_summary(s);
	assert_true(sum->excluded == 256);
	expect_allows(s, "20.0.255.255", true);
	expect_allows(s, "20.2.0.200", true);
	kz_scope_free(s);
}

static void test_empty_scope_file(void **state)
{
	(void)state;
	struct kz_scope *s;
	assert_int_equal(load("# nothing yet\n\n   \n", NULL, NULL, false, &s), -EINVAL);
	expect_msg(KZ_LOG_ERROR, "scope.txt: no addresses: the scope file has no entries");
	assert_int_equal(nmsgs, 1);
}

static void test_nothing_left(void **state)
{
	(void)state;
	struct kz_scope *s;
	assert_int_equal(load("10.0.0.0/8\n192.168.0.0/16\n", NULL, NULL, false, &s), -EINVAL);
	assert_null(s);
	expect_msg(KZ_LOG_WARN, "scope.txt:1: 10.0.0.0/8 is reserved: Private-Use (RFC 1918); "
	                        "not scanned");
	expect_msg(KZ_LOG_ERROR, "scope.txt: nothing to scan: of 16842752 addresses in scope, "
	                         "0 are excluded, 0 opted out and 16842752 reserved");
	nmsgs = 0;
	assert_int_equal(load("20.0.0.0/24\n", "20.0.0.0/25\n", "20.0.0.128/25\n", false, &s),
	                 -EINVAL);
	expect_msg(KZ_LOG_ERROR, "scope.txt: nothing to scan: of 256 addresses in scope, "
	                         "128 are excluded, 128 opted out and 0 reserved");
	assert_int_equal(nmsgs, 1);
}

static void test_partly_reserved_entry(void **state)
{
	(void)state;
	struct kz_ipset *deny;
	assert_int_equal(kz_reserved_deny_set(&deny), 0);
	kz_u128 v4 = kz_ipset_count_in(deny, P("0.0.0.0"), P("255.255.255.255"));
	kz_ipset_free(deny);
	struct kz_scope *s;
	assert_int_equal(load("0.0.0.0/0\n", NULL, NULL, false, &s), 0);
	char want[256], n[KZ_U128_STRLEN];
	snprintf(want, sizeof want,
	         "scope.txt:1: 0.0.0.0/0: %s of its 4294967296 addresses are reserved and not "
	         "scanned, from 0.0.0.0: \"This host on this network\" (RFC 1122)",
	         kz_u128_format(v4, n));
	expect_msg(KZ_LOG_WARN, want);
	const struct kz_scope_summary *sum = kz_scope_summary(s);
	assert_true(sum->in_scope == (kz_u128)1 << 32);
	assert_true(sum->reserved == v4);
	assert_true(sum->targets == ((kz_u128)1 << 32) - v4);
	expect_allows(s, "1.1.1.1", true);
	expect_allows(s, "10.0.0.1", false);
	expect_allows(s, "127.0.0.1", false);
	expect_allows(s, "198.18.0.1", false);
	kz_scope_free(s);
}

static void test_reserved_without_allow(void **state)
{
	(void)state;
	struct kz_scope *s;
	assert_int_equal(load("198.18.0.0/15\n198.18.0.5\n20.0.0.1\n", NULL, NULL, false, &s), 0);
	expect_msg(KZ_LOG_WARN, "scope.txt:1: 198.18.0.0/15 is reserved: Benchmarking (RFC 2544); "
	                        "not scanned (--allow-reserved re-enables it)");
	expect_msg(KZ_LOG_WARN, "scope.txt:2: 198.18.0.5 is reserved: Benchmarking (RFC 2544); "
	                        "not scanned (--allow-reserved re-enables it)");
	expect_allows(s, "198.18.0.5", false);
	expect_allows(s, "20.0.0.1", true);
	assert_true(kz_scope_summary(s)->targets == 1);
	kz_scope_free(s);
}

static void test_allow_reserved_test_ranges(void **state)
{
	(void)state;
	struct kz_scope *s;
	int rc = load("127.0.0.1\n198.18.0.0/15\n192.0.2.0/24\n198.51.100.7\n203.0.113.0/25\n"
	              "::1\n2001:2::/48\n2001:db8::/64\n",
	              NULL, NULL, true, &s);
	if (rc)
		dump_msgs();
	assert_int_equal(rc, 0);
	assert_int_equal(nmsgs, 0);
	const struct kz_scope_summary *sum = kz_scope_summary(s);
	kz_u128 want = 1 + (1u << 17) + 256 + 1 + 128 + 1 + ((kz_u128)1 << 80) + ((kz_u128)1 << 64);
	assert_true(sum->targets == want);
	assert_true(sum->allowed_reserved == want);
	assert_true(sum->reserved == 0);
	expect_allows(s, "127.0.0.1", true);
	expect_allows(s, "127.0.0.2", false);
	expect_allows(s, "198.19.255.255", true);
	expect_allows(s, "192.0.2.1", true);
	expect_allows(s, "198.51.100.7", true);
	expect_allows(s, "198.51.100.8", false);
	expect_allows(s, "203.0.113.127", true);
	expect_allows(s, "203.0.113.128", false);
	expect_allows(s, "::1", true);
	expect_allows(s, "2001:2::abcd", true);
	expect_allows(s, "2001:db8::1", true);
	expect_allows(s, "2001:db8:1::1", false);
	char line[256];
	kz_scope_summary_format(sum, line, sizeof line);
	/* 1 + 2^17 + 256 + 1 + 128 + 1 + 2^80 + 2^64, worked out by hand. */
	assert_non_null(strstr(line, "0 reserved (1208944266358702884389251 more allowed by "
	                             "--allow-reserved)"));
	kz_scope_free(s);
}

static void test_allow_reserved_only_where_named(void **state)
{
	(void)state;
	struct kz_scope *s;
	/* 10.0.0.0/8 stays denied; the test range inside the same scope is
	 * allowed. */
	assert_int_equal(load("10.0.0.0/8\n198.18.0.0/24\n", NULL, NULL, true, &s), 0);
	expect_msg(KZ_LOG_WARN, "scope.txt:1: 10.0.0.0/8 is reserved: Private-Use (RFC 1918); "
	                        "not scanned");
	expect_allows(s, "10.0.0.1", false);
	expect_allows(s, "198.18.0.1", true);
	expect_allows(s, "198.18.1.1", false);
	assert_true(kz_scope_summary(s)->targets == 256);
	assert_true(kz_scope_summary(s)->reserved == 1u << 24);
	kz_scope_free(s);

	/* The whole IPv4 space does not name a test range: nothing reserved
	 * is re-enabled by it. */
	assert_int_equal(load("0.0.0.0/0\n::/0\n", NULL, NULL, true, &s), 0);
	const char *denied[] = { "127.0.0.1", "198.18.0.1",      "192.0.2.1", "10.0.0.1",
		                 "0.0.0.0",   "224.0.0.1",       "240.0.0.1", "255.255.255.255",
		                 "::1",       "2001:db8::1",     "2001:2::1", "fe80::1",
		                 "ff02::1",   "64:ff9b::1.1.1.1" };
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
		expect_allows(s, denied[i], false);
	expect_allows(s, "1.1.1.1", true);
	expect_allows(s, "2a00:1450::1", true);
	assert_true(kz_scope_summary(s)->allowed_reserved == 0);
	kz_scope_free(s);

	/* A prefix around a test range does not name it either. */
	assert_int_equal(load("198.16.0.0/14\n2001::/23\n", NULL, NULL, true, &s), 0);
	expect_allows(s, "198.16.0.1", true);
	expect_allows(s, "198.18.0.1", false);
	expect_allows(s, "2001:2::1", false);
	kz_scope_free(s);

	/* What may never be re-enabled, named exactly, is still refused. */
	nmsgs = 0;
	assert_int_equal(load("0.0.0.0/8\n224.0.0.0/4\n240.0.0.0/4\n255.255.255.255\nff00::/8\n",
	                      NULL, NULL, true, &s),
	                 -EINVAL);
	expect_msg(KZ_LOG_WARN, "scope.txt:4: 255.255.255.255 is reserved: Limited Broadcast "
	                        "(RFC 919); not scanned");
	expect_msg(KZ_LOG_WARN, "scope.txt:2: 224.0.0.0/4 is reserved: Multicast (RFC 5771); "
	                        "not scanned");
	assert_int_equal(count_msgs("nothing to scan"), 1);

	/* Exclude and opt-out still apply inside a re-enabled test range. */
	assert_int_equal(load("198.18.0.0/24\n", "198.18.0.0/25\n", "198.18.0.200\n", true, &s), 0);
	expect_allows(s, "198.18.0.1", false);
	expect_allows(s, "198.18.0.129", true);
	expect_allows(s, "198.18.0.200", false);
	assert_true(kz_scope_summary(s)->targets == 127);
	kz_scope_free(s);
}

static void test_ipv6_entries_are_ipv6_only(void **state)
{
	(void)state;
	struct kz_scope *s;
	assert_int_equal(load("::/0\n", NULL, NULL, false, &s), 0);
	const struct kz_scope_summary *sum = kz_scope_summary(s);
	assert_true(sum->in_scope == KZ_U128_MAX - (((kz_u128)1 << 32) - 1));
	expect_allows(s, "2a00:1450::1", true);
	expect_allows(s, "1.1.1.1", false);
	expect_allows(s, "::ffff:1.1.1.1", false);
	kz_scope_free(s);

	/* An exclude of all IPv6 leaves IPv4 alone. */
	assert_int_equal(load("20.0.0.0/24\n2a01::/64\n", "::/0\n", NULL, false, &s), 0);
	expect_allows(s, "20.0.0.1", true);
	expect_allows(s, "2a01::1", false);
	assert_true(kz_scope_summary(s)->targets == 256);
	kz_scope_free(s);

	/* IPv4 written in IPv6 text is IPv4. */
	assert_int_equal(load("::ffff:20.0.0.0/120\n", NULL, NULL, false, &s), 0);
	expect_allows(s, "20.0.0.255", true);
	assert_true(kz_scope_summary(s)->targets == 256);
	kz_scope_free(s);

	/* Every address at once: the count saturates, the targets do not. */
	assert_int_equal(load("::/0\n0.0.0.0/0\n", NULL, NULL, false, &s), 0);
	sum = kz_scope_summary(s);
	assert_true(sum->in_scope == KZ_U128_MAX);
	assert_true(sum->targets < KZ_U128_MAX);
	/* targets + reserved is 2^128, one past what kz_u128 holds. */
	assert_true(sum->targets == KZ_U128_MAX - sum->reserved + 1);
	kz_scope_free(s);
}

static void test_read_list_from_stream(void **state)
{
	(void)state;
	char text[] = "20.0.0.0/25\n20.0.0.128/25\n2a01::1\n";
	FILE *f = fmemopen(text, strlen(text), "r");
	assert_non_null(f);
	struct kz_lines *lr;
	assert_int_equal(kz_lines_from_stream(f, "<list>", &lr), 0);
	struct kz_ipset *set;
	assert_int_equal(kz_scope_read_list(lr, &set), 0);
	assert_int_equal(kz_ipset_range_count(set), 2);
	assert_true(kz_ipset_size(set) == 257);
	kz_ipset_free(set);
	kz_lines_close(lr);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_and_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faulty_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_nul_and_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_faults_are_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlaps_merge_with_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_scope_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partly_reserved_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_without_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_reserved_test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_reserved_only_where_named, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_entries_are_ipv6_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_list_from_stream, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
