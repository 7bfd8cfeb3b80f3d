/*
 * The pfx2as table: longest-prefix match against a brute-force scan of the
 * lines on random tables (nested, adjacent, duplicate, /0, /32, /128,
 * default routes, both families, sorted and shuffled files), the AS field's
 * structure, the version string, gzip input, and every error message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "addr.h"
#include "pfx.h"

#define NAME "test.pfx2as"

static struct kz_pfx *load_ok(const char *text)
{
	struct kz_pfx *t = NULL;
	char err[256] = "";
	if (kz_pfx_load_mem(NAME, text, strlen(text), &t, err, sizeof err) != 0)
		fail_msg("load refused: %s", err);
	return t;
}

/* The file must be refused with a message naming NAME:line and saying why. */
static void expect_error(const char *text, unsigned long line, const char *why)
{
	struct kz_pfx *t = NULL;
	char err[256] = "";
	int rc = kz_pfx_load_mem(NAME, text, strlen(text), &t, err, sizeof err);
	if (rc == 0)
		fail_msg("accepted: %s", text);
	assert_true(rc < 0);
	assert_null(t);
	char where[64];
	if (line)
		snprintf(where, sizeof where, NAME ":%lu: ", line);
	else
		snprintf(where, sizeof where, NAME ": ");
	if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, why))
		fail_msg("input %s: message '%s' lacks '%s' or '%s'", text, err, where, why);
}

static struct kz_addr addr(const char *s)
{
	struct kz_addr a;
	const char *why;
	if (kz_addr_parse(s, &a, &why) != 0)
		fail_msg("%s: %s", s, why);
	return a;
}

/* The prefix and AS text that cover s, or NULL strings when none. */
static void expect_match(const struct kz_pfx *t, const char *s, const char *cidr, const char *as)
{
	struct kz_pfx_match m;
	bool found = kz_pfx_lookup(t, addr(s), &m);
	if (!cidr) {
		if (found) {
			char buf[KZ_CIDR_STRLEN];
			fail_msg("%s: expected no match, got %s", s,
			         kz_cidr_format(&m.prefix, buf));
		}
		assert_int_equal(m.entry, KZ_PFX_NONE);
		return;
	}
	if (!found)
		fail_msg("%s: expected %s, got no match", s, cidr);
	char buf[KZ_CIDR_STRLEN];
	assert_string_equal(kz_cidr_format(&m.prefix, buf), cidr);
	struct kz_pfx_origin o;
	assert_int_equal(kz_pfx_origin(t, m.origin, &o), 0);
	assert_string_equal(o.text, as);
}

static void test_basic_lookup(void **state)
{
	(void)state;
	struct kz_pfx *t = load_ok("# a comment line\n"
	                           "\n"
	                           "198.18.0.0\t15\t64496\n"
	                           "198.18.0.0\t16\t64497\n"
	                           "198.18.1.0\t24\t64498\n"
	                           "198.19.0.0\t16\t64499\r\n"
	                           "192.0.2.7\t32\t64500\n"
	                           "2001:db8::\t32\t64501\n"
	                           "2001:db8:1::\t48\t64502\n"
	                           "2001:db8::1\t128\t64503\n");
	expect_match(t, "198.18.0.1", "198.18.0.0/16", "64497");
	expect_match(t, "198.18.1.0", "198.18.1.0/24", "64498");
	expect_match(t, "198.18.1.255", "198.18.1.0/24", "64498");
	expect_match(t, "198.18.2.0", "198.18.0.0/16", "64497");
	expect_match(t, "198.19.255.255", "198.19.0.0/16", "64499");
	expect_match(t, "198.17.255.255", NULL, NULL);
	expect_match(t, "198.20.0.0", NULL, NULL);
	expect_match(t, "192.0.2.7", "192.0.2.7/32", "64500");
	expect_match(t, "192.0.2.6", NULL, NULL);
	expect_match(t, "192.0.2.8", NULL, NULL);
	expect_match(t, "2001:db8::1", "2001:db8::1/128", "64503");
	expect_match(t, "2001:db8::2", "2001:db8::/32", "64501");
	expect_match(t, "2001:db8:1:ffff::", "2001:db8:1::/48", "64502");
	expect_match(t, "2001:db9::", NULL, NULL);
	expect_match(t, "::1", NULL, NULL);

	struct kz_pfx_stats st;
	kz_pfx_stats(t, &st);
	assert_int_equal(st.lines, 8);
	assert_int_equal(st.prefixes, 8);
	assert_int_equal(st.prefixes_v4, 5);
	assert_int_equal(st.prefixes_v6, 3);
	assert_int_equal(st.origins, 8);
	assert_int_equal(st.duplicates, 0);

	/* Entry indices: IPv4 first in address order, then IPv6. */
	struct kz_pfx_match m;
	char buf[KZ_CIDR_STRLEN];
	assert_int_equal(kz_pfx_entry(t, 1, &m), 0);
	assert_string_equal(kz_cidr_format(&m.prefix, buf), "192.0.2.7/32");
	assert_int_equal(kz_pfx_entry(t, 6, &m), 0);
	assert_string_equal(kz_cidr_format(&m.prefix, buf), "2001:db8::/32");
	assert_int_equal(kz_pfx_entry(t, 0, &m), -ENOENT);
	assert_int_equal(kz_pfx_entry(t, 9, &m), -ENOENT);
	struct kz_pfx_origin o;
	assert_int_equal(kz_pfx_origin(t, 8, &o), -ENOENT);

	uint32_t e = kz_pfx_lookup_v4(t, 0xc6120105); /* 198.18.1.5 */
	assert_int_equal(kz_pfx_entry(t, e, &m), 0);
	assert_string_equal(kz_cidr_format(&m.prefix, buf), "198.18.1.0/24");
	assert_int_equal(kz_pfx_entry_origin(t, e), m.origin);
	assert_int_equal(kz_pfx_lookup_v4(t, 0x0a000001), KZ_PFX_NONE);
	kz_pfx_free(t);
}

static void test_default_routes(void **state)
{
	(void)state;
	/* An IPv6 default route does not cover IPv4 addresses and the other way
	 * round; an IPv4-mapped IPv6 prefix is an IPv4 prefix. */
	struct kz_pfx *t = load_ok("0.0.0.0\t0\t64496\n"
	                           "::\t0\t64497\n"
	                           "::ffff:10.0.0.0\t104\t64498\n"
	                           "255.255.255.255\t32\t64499\n"
	                           "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\t128\t64500\n");
	expect_match(t, "0.0.0.0", "0.0.0.0/0", "64496");
	expect_match(t, "203.0.113.1", "0.0.0.0/0", "64496");
	expect_match(t, "10.20.30.40", "10.0.0.0/8", "64498");
	expect_match(t, "255.255.255.255", "255.255.255.255/32", "64499");
	expect_match(t, "255.255.255.254", "0.0.0.0/0", "64496");
	expect_match(t, "::", "::/0", "64497");
	expect_match(t, "2001:db8::1", "::/0", "64497");
	expect_match(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "64500");
	expect_match(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "::/0", "64497");
	struct kz_pfx_stats st;
	kz_pfx_stats(t, &st);
	assert_int_equal(st.prefixes_v4, 3);
	assert_int_equal(st.prefixes_v6, 2);
	kz_pfx_free(t);

	t = load_ok("2001:db8::\t32\t64496\n");
	expect_match(t, "192.0.2.1", NULL, NULL);
	assert_int_equal(kz_pfx_lookup_v4(t, 0xc0000201), KZ_PFX_NONE);
	kz_pfx_free(t);
	t = load_ok("192.0.2.0\t24\t64496\n");
	expect_match(t, "2001:db8::", NULL, NULL);
	kz_pfx_free(t);
}

static void test_origins(void **state)
{
	(void)state;
	struct kz_pfx *t = load_ok("192.0.2.0\t24\t64496\n"
	                           "198.51.100.0\t24\t64496_64497_4294967295\n"
	                           "203.0.113.0\t24\t64498,64499\n"
	                           "198.18.0.0\t16\t64500_64501,64502\n"
	                           "198.19.0.0\t16\t64496\n");
	struct kz_pfx_stats st;
	kz_pfx_stats(t, &st);
	assert_int_equal(st.origins, 4); /* the same text is one origin */
	assert_int_equal(st.multi_origin, 2);
	assert_int_equal(st.as_set, 2);

	struct kz_pfx_match m1, m2;
	struct kz_pfx_origin o;
	assert_true(kz_pfx_lookup(t, addr("192.0.2.1"), &m1));
	assert_true(kz_pfx_lookup(t, addr("198.19.1.1"), &m2));
	assert_int_equal(m1.origin, m2.origin);
	assert_int_equal(kz_pfx_origin(t, m1.origin, &o), 0);
	assert_string_equal(o.text, "64496");
	assert_int_equal(o.nasns, 1);
	assert_int_equal(o.ngroups, 1);
	assert_false(o.multi_origin);
	assert_false(o.as_set);
	assert_int_equal(o.asns[0].asn, 64496);
	assert_false(o.asns[0].multi_origin);
	assert_false(o.asns[0].as_set);

	/* `_`: several origins announce the prefix; every one is an origin. */
	assert_true(kz_pfx_lookup(t, addr("198.51.100.9"), &m1));
	assert_int_equal(kz_pfx_origin(t, m1.origin, &o), 0);
	assert_string_equal(o.text, "64496_64497_4294967295");
	assert_int_equal(o.nasns, 3);
	assert_int_equal(o.ngroups, 3);
	assert_true(o.multi_origin);
	assert_false(o.as_set);
	uint32_t want_mo[] = { 64496, 64497, 4294967295u };
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(o.asns[i].asn, want_mo[i]);
		assert_int_equal(o.asns[i].group, i);
		assert_true(o.asns[i].multi_origin);
		assert_false(o.asns[i].as_set);
	}

	/* `,`: one origin that is an AS set. */
	assert_true(kz_pfx_lookup(t, addr("203.0.113.200"), &m1));
	assert_int_equal(kz_pfx_origin(t, m1.origin, &o), 0);
	assert_string_equal(o.text, "64498,64499");
	assert_int_equal(o.nasns, 2);
	assert_int_equal(o.ngroups, 1);
	assert_false(o.multi_origin);
	assert_true(o.as_set);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(o.asns[i].asn, 64498 + i);
		assert_int_equal(o.asns[i].group, 0);
		assert_true(o.asns[i].as_set);
		assert_false(o.asns[i].multi_origin);
	}

	/* Both: origin 64500, and the AS set {64501, 64502}. */
	assert_true(kz_pfx_lookup(t, addr("198.18.3.4"), &m1));
	assert_int_equal(kz_pfx_origin(t, m1.origin, &o), 0);
	assert_string_equal(o.text, "64500_64501,64502");
	assert_int_equal(o.nasns, 3);
	assert_int_equal(o.ngroups, 2);
	assert_true(o.multi_origin);
	assert_true(o.as_set);
	assert_int_equal(o.asns[0].asn, 64500);
	assert_int_equal(o.asns[0].group, 0);
	assert_false(o.asns[0].as_set);
	assert_int_equal(o.asns[1].asn, 64501);
	assert_int_equal(o.asns[1].group, 1);
	assert_true(o.asns[1].as_set);
	assert_int_equal(o.asns[2].asn, 64502);
	assert_int_equal(o.asns[2].group, 1);
	assert_true(o.asns[2].as_set);
	for (unsigned i = 0; i < 3; i++)
		assert_true(o.asns[i].multi_origin);
	kz_pfx_free(t);
}

static void test_duplicates(void **state)
{
	(void)state;
	/* The last line of a prefix wins, in a sorted and in a shuffled file. */
	struct kz_pfx *t = load_ok("192.0.2.0\t24\t64496\n"
	                           "192.0.2.0\t24\t64497\n"
	                           "198.51.100.0\t24\t64498\n"
	                           "192.0.2.0\t25\t64499\n"
	                           "192.0.2.0\t24\t64500\n"
	                           "2001:db8::\t32\t64501\n"
	                           "2001:db8::\t32\t64502\n");
	expect_match(t, "192.0.2.200", "192.0.2.0/24", "64500");
	expect_match(t, "192.0.2.1", "192.0.2.0/25", "64499");
	expect_match(t, "2001:db8::5", "2001:db8::/32", "64502");
	struct kz_pfx_stats st;
	kz_pfx_stats(t, &st);
	assert_int_equal(st.lines, 7);
	assert_int_equal(st.duplicates, 3);
	assert_int_equal(st.prefixes, 4);
	kz_pfx_free(t);
	/* "10.0.0.0/8" written twice, once as IPv4-mapped IPv6. */
	t = load_ok("10.0.0.0\t8\t64496\n::ffff:10.0.0.0\t104\t64497\n");
	expect_match(t, "10.1.1.1", "10.0.0.0/8", "64497");
	kz_pfx_stats(t, &st);
	assert_int_equal(st.duplicates, 1);
	kz_pfx_free(t);
}

static void test_errors(void **state)
{
	(void)state;
	/* Field structure. */
	expect_error("192.0.2.0\n", 1, "missing the length and AS fields");
	expect_error("192.0.2.0 24 64496\n", 1, "missing the length and AS fields");
	expect_error("192.0.2.0\t24\n", 1, "missing the AS field");
	expect_error("192.0.2.0\t24 64496\n", 1, "missing the AS field");
	expect_error("192.0.2.0\t24\t64496\textra\n", 1, "extra field");
	expect_error("\t24\t64496\n", 1, "missing field: empty prefix");
	expect_error("192.0.2.0\t\t64496\n", 1, "missing field: empty prefix length");
	expect_error("192.0.2.0\t24\t\n", 1, "missing field: empty AS field");
	expect_error(" 192.0.2.0\t24\t64496\n", 1, "bad prefix");
	/* The prefix. */
	expect_error("# header\n192.0.2.256\t24\t64496\n", 2,
	             "192.0.2.256/24: bad prefix: IPv4 octet above 255");
	expect_error("192.0.2\t24\t64496\n", 1, "bad prefix: not an IPv4 address");
	expect_error("2001:db8::g\t32\t64496\n", 1, "bad prefix: not an IPv6 address");
	expect_error("192.0.2.0/24\t24\t64496\n", 1, "bad prefix: not an address");
	expect_error("2001:0db8:0000:0000:0000:0000:0000:0000:0\t32\t64496\n", 1, "bad prefix");
	expect_error("192.0.2.1\t24\t64496\n", 1, "192.0.2.1/24: host bits set");
	expect_error("2001:db8::1\t64\t64496\n", 1, "host bits set");
	expect_error("0.0.0.1\t0\t64496\n", 1, "host bits set");
	/* The length. */
	expect_error("192.0.2.0\t33\t64496\n", 1, "192.0.2.0/33: prefix length above 32");
	expect_error("2001:db8::\t129\t64496\n", 1, "prefix length above 128");
	expect_error("192.0.2.0\t99999999999\t64496\n", 1, "prefix length above 32");
	expect_error("192.0.2.0\t024\t64496\n", 1, "prefix length with a leading zero");
	expect_error("192.0.2.0\t-1\t64496\n", 1, "prefix length is not a number");
	expect_error("192.0.2.0\t24x\t64496\n", 1, "prefix length is not a number");
	expect_error("192.0.2.0\t 24\t64496\n", 1, "prefix length is not a number");
	/* The AS field. */
	expect_error("192.0.2.0\t24\t0\n", 1, "bad AS number \"0\": AS 0 is reserved");
	expect_error("192.0.2.0\t24\t4294967296\n", 1, "\"4294967296\": above 4294967295");
	expect_error("192.0.2.0\t24\t99999999999999999999999\n", 1, "above 4294967295");
	expect_error("192.0.2.0\t24\t064496\n", 1, "\"064496\": leading zero");
	expect_error("192.0.2.0\t24\tAS64496\n", 1, "\"AS64496\": not a decimal number");
	expect_error("192.0.2.0\t24\t64496 \n", 1, "not a decimal number");
	expect_error("192.0.2.0\t24\t1.10\n", 1, "not a decimal number");
	expect_error("192.0.2.0\t24\t-64496\n", 1, "not a decimal number");
	expect_error("192.0.2.0\t24\t64496__64497\n", 1,
	             "AS field \"64496__64497\": bad AS number \"\": empty");
	expect_error("192.0.2.0\t24\t64496,\n", 1, "empty");
	expect_error("192.0.2.0\t24\t_64496\n", 1, "empty");
	expect_error("192.0.2.0\t24\t64496_0,64497\n", 1, "bad AS number \"0\"");
	/* The line, and the file. */
	expect_error("192.0.2.0\t24\t64496\n198.51.100.0\t24\t64497\n203.0.113.0\t33\t1\n", 3,
	             "above 32");
	expect_error("", 0, "no prefixes");
	expect_error("# only a comment\n\n", 0, "no prefixes");
	/* A bad line after a good one with the same AS field still fails. */
	expect_error("192.0.2.0\t24\t64496\n198.51.100.0\t24x\t64496\n", 2, "not a number");
	/* Control bytes are not echoed. */
	expect_error("192.0.2.0\t24\t64\x1b[31m\n", 1, "\"64?[31m\"");

	struct kz_pfx *t = NULL;
	char err[256];
	const char nul[] = "192.0.2.0\t24\t64496\n198.51\0.100.0\t24\t64496\n";
	assert_int_equal(kz_pfx_load_mem(NAME, nul, sizeof nul - 1, &t, err, sizeof err), -EINVAL);
	assert_string_equal(err, NAME ":2: NUL byte in the line");

	size_t big = KZ_PFX_LINE_MAX + 100;
	char *long_line = malloc(big + 32);
	assert_non_null(long_line);
	strcpy(long_line, "192.0.2.0\t24\t64496\n");
	memset(long_line + strlen(long_line), '1', big);
	long_line[19 + big] = '\0';
	assert_int_equal(kz_pfx_load_mem(NAME, long_line, strlen(long_line), &t, err, sizeof err),
	                 -EMSGSIZE);
	assert_string_equal(err, NAME ":2: line longer than 65536 bytes");
	free(long_line);

	assert_int_equal(kz_pfx_load("/nonexistent/dir/x.pfx2as", &t, err, sizeof err), -ENOENT);
	assert_string_equal(err,
	                    "/nonexistent/dir/x.pfx2as: cannot open: No such file or directory");
	/* A zero-sized error buffer is allowed. */
	assert_int_equal(kz_pfx_load_mem(NAME, "x", 1, &t, NULL, 0), -EINVAL);
	assert_null(t);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_version_and_files(void **state)
{
	(void)state;
	/* The expected hash comes from coreutils' sha256sum over the same bytes. */
	static const char text[] = "192.0.2.0\t24\t64496\n2001:db8::\t32\t64497_64498\n";
	char dir[] = "/tmp/kz-test-pfx-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char plain[512], gz[512], bad[512];
	snprintf(plain, sizeof plain, "%s/rv2-20240101.pfx2as", dir);
	snprintf(gz, sizeof gz, "%s/rv2-20240101.pfx2as.gz", dir);
	snprintf(bad, sizeof bad, "%s/truncated.pfx2as.gz", dir);
	write_file(plain, text, sizeof text - 1);

	struct kz_pfx *t = NULL;
	char err[512] = "";
	if (kz_pfx_load(plain, &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_equal(kz_pfx_version(t), "rv2-20240101.pfx2as@eb1c34d11c07");
	expect_match(t, "2001:db8:ffff::", "2001:db8::/32", "64497_64498");
	kz_pfx_free(t);

	/* gzip, as CAIDA publishes the files: the same table; the version hashes
	 * the bytes of the file as stored, so `sha256sum` on it agrees. */
	gzFile g = gzopen(gz, "wb9");
	assert_non_null(g);
	assert_int_equal(gzwrite(g, text, sizeof text - 1), (int)(sizeof text - 1));
	assert_int_equal(gzclose(g), Z_OK);
	FILE *f = fopen(gz, "rb");
	assert_non_null(f);
	uint8_t buf[4096];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;
	assert_int_equal(EVP_Digest(buf, n, md, &mdlen, EVP_sha256(), NULL), 1);
	char want[128];
	int w = snprintf(want, sizeof want, "rv2-20240101.pfx2as.gz@");
	for (int i = 0; i < 6; i++)
		w += snprintf(want + w, sizeof want - (size_t)w, "%02x", md[i]);
	if (kz_pfx_load(gz, &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_equal(kz_pfx_version(t), want);
	expect_match(t, "192.0.2.77", "192.0.2.0/24", "64496");
	struct kz_pfx_stats st;
	kz_pfx_stats(t, &st);
	assert_int_equal(st.prefixes, 2);
	kz_pfx_free(t);

	/* Two gzip members, as `cat a.gz b.gz` makes, are one file. */
	uint8_t two[8192];
	memcpy(two, buf, n);
	memcpy(two + n, buf, n);
	assert_int_equal(kz_pfx_load_mem("x.gz", two, 2 * n, &t, err, sizeof err), 0);
	kz_pfx_stats(t, &st);
	assert_int_equal(st.duplicates, 2);
	kz_pfx_free(t);

	write_file(bad, buf, n - 10);
	assert_int_equal(kz_pfx_load(bad, &t, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "truncated.pfx2as.gz: truncated gzip stream"));
	buf[12] ^= 0xff;
	write_file(bad, buf, n);
	assert_int_equal(kz_pfx_load(bad, &t, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "bad gzip stream"));

	assert_int_equal(unlink(plain), 0);
	assert_int_equal(unlink(gz), 0);
	assert_int_equal(unlink(bad), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* "-" reads standard input; through a pipe it is read, not mapped. */
static void test_stdin_pipe(void **state)
{
	(void)state;
	static const char text[] = "192.0.2.0\t24\t64496\n2001:db8::\t32\t64497_64498\n";
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fds[1]);
	int saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	struct kz_pfx *t = NULL;
	char err[256] = "";
	int rc = kz_pfx_load("-", &t, err, sizeof err);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	if (rc != 0)
		fail_msg("%s", err);
	/* The same bytes as test_version_and_files, named stdin. */
	assert_string_equal(kz_pfx_version(t), "stdin@eb1c34d11c07");
	expect_match(t, "192.0.2.1", "192.0.2.0/24", "64496");
	kz_pfx_free(t);
}

/* ---- Random tables against a brute-force scan ---- */

struct line {
	struct kz_cidr c;
	char as[32];
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: deterministic per seed, so a failure can be replayed. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static kz_u128 rnd128(void)
{
	return (kz_u128)rnd() << 64 | rnd();
}

/* A random address of the family of c, inside it. */
static struct kz_addr rnd_inside(const struct kz_cidr *c)
{
	struct kz_addr first = kz_cidr_first(c), last = kz_cidr_last(c);
	struct kz_addr a = { first.v | (rnd128() & (first.v ^ last.v)) };
	return a;
}

static struct kz_cidr rnd_cidr(bool v4, unsigned len)
{
	struct kz_addr a = v4 ? kz_addr_from_v4((uint32_t)rnd())
	                      : (struct kz_addr){ (kz_u128)0x20010db8u << 96 | (rnd128() >> 32) };
	/* A few IPv6 prefixes anywhere, so short ones and ::/0 get company. */
	if (!v4 && rnd() % 8 == 0) {
		a.v = rnd128();
		if (kz_addr_is_v4(a))
			a.v ^= (kz_u128)1 << 127;
	}
	return kz_cidr_make(a, len);
}

static unsigned rnd_len(bool v4)
{
	unsigned max = v4 ? 32 : 128, r = (unsigned)(rnd() % 16);
	if (r == 0)
		return 0;
	if (r == 1)
		return max;
	if (!v4 && r < 8)
		return 32 + (unsigned)(rnd() % 33); /* where IPv6 tables live */
	return (unsigned)(rnd() % (max + 1));
}

static const char *const as_texts[] = { "64496",       "64497_64498",
	                                "64499,64500", "64501_64502,64503",
	                                "4294967295",  "1" };

static size_t make_table(struct line *lines, size_t want)
{
	size_t n = 0;
	while (n < want) {
		struct line *l = &lines[n];
		unsigned r = (unsigned)(rnd() % 10);
		bool v4 = rnd() % 3 != 0;
		if (n > 0 && r < 4) {
			/* Nested: a longer prefix inside an earlier one. */
			const struct kz_cidr *p = &lines[rnd() % n].c;
			unsigned max = kz_addr_is_v4(p->base) ? 32 : 128;
			unsigned len = p->len + (unsigned)(rnd() % (max - p->len + 1));
			if (rnd() % 2 && p->len + 6u <= max)
				len = p->len + 1 +
				      (unsigned)(rnd() % 6); /* the same or next stride */
			l->c = kz_cidr_make(rnd_inside(p), len);
		} else if (n > 0 && r < 6) {
			/* Adjacent: the next prefix of the same length. */
			const struct kz_cidr *p = &lines[rnd() % n].c;
			struct kz_addr next = { kz_cidr_last(p).v + 1 };
			if (p->len == 0 || kz_addr_is_v4(next) != kz_addr_is_v4(p->base))
				continue;
			l->c = kz_cidr_make(next, p->len);
		} else if (n > 0 && r < 7) {
			l->c = lines[rnd() % n].c; /* a duplicate */
		} else {
			l->c = rnd_cidr(v4, rnd_len(v4));
		}
		snprintf(l->as, sizeof l->as, "%s", as_texts[rnd() % 6]);
		n++;
	}
	return n;
}

static int cmp_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int c = kz_addr_cmp(x->c.base, y->c.base);
	if (c)
		return c;
	if (x->c.len != y->c.len)
		return x->c.len < y->c.len ? -1 : 1;
	return x < y ? -1 : x > y; /* never reached with a stable order below */
}

/* The reference: scan every line; the longest covering prefix of the same
 * family wins, the last line among equal prefixes. */
static const struct line *brute(const struct line *lines, size_t n, struct kz_addr a)
{
	const struct line *best = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct kz_cidr *c = &lines[i].c;
		if (kz_addr_is_v4(c->base) != kz_addr_is_v4(a) || !kz_cidr_contains(c, a))
			continue;
		if (!best || c->len >= best->c.len)
			best = &lines[i];
	}
	return best;
}

static void check_addr(const struct kz_pfx *t, const struct line *lines, size_t n, struct kz_addr a,
                       uint64_t seed)
{
	const struct line *want = brute(lines, n, a);
	struct kz_pfx_match m;
	bool found = kz_pfx_lookup(t, a, &m);
	char abuf[KZ_ADDR_STRLEN], b1[KZ_CIDR_STRLEN], b2[KZ_CIDR_STRLEN];
	if (found != (want != NULL))
		fail_msg("seed %llu, %s: table %s, reference %s", (unsigned long long)seed,
		         kz_addr_format(a, abuf), found ? kz_cidr_format(&m.prefix, b1) : "none",
		         want ? kz_cidr_format(&want->c, b2) : "none");
	if (kz_addr_is_v4(a)) {
		assert_int_equal(kz_pfx_lookup_v4(t, kz_addr_v4(a)), m.entry);
		uint32_t in = kz_addr_v4(a), out = 0xdeadbeef;
		kz_pfx_lookup_v4_batch(t, &in, &out, 1);
		assert_int_equal(out, m.entry);
	}
	if (!want)
		return;
	if (kz_addr_cmp(m.prefix.base, want->c.base) != 0 || m.prefix.len != want->c.len)
		fail_msg("seed %llu, %s: table %s, reference %s", (unsigned long long)seed,
		         kz_addr_format(a, abuf), kz_cidr_format(&m.prefix, b1),
		         kz_cidr_format(&want->c, b2));
	struct kz_pfx_origin o;
	assert_int_equal(kz_pfx_origin(t, m.origin, &o), 0);
	if (strcmp(o.text, want->as) != 0)
		fail_msg("seed %llu, %s in %s: origin %s, reference %s", (unsigned long long)seed,
		         kz_addr_format(a, abuf), kz_cidr_format(&want->c, b2), o.text, want->as);
}

static void run_random_table(uint64_t seed, size_t nlines, bool sorted)
{
	rng_state = seed;
	struct line *lines = calloc(nlines, sizeof *lines);
	assert_non_null(lines);
	size_t n = make_table(lines, nlines);
	if (sorted) {
		/* Sorted as CAIDA writes; equal prefixes keep their order. */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && cmp_line(&lines[j - 1], &lines[j]) > 0; j--) {
				struct line tmp = lines[j];
				lines[j] = lines[j - 1];
				lines[j - 1] = tmp;
			}
	}
	size_t cap = n * 80 + 1, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++) {
		char abuf[KZ_ADDR_STRLEN];
		const struct kz_cidr *c = &lines[i].c;
		if (kz_addr_is_v4(c->base) && rnd() % 10 == 0)
			len += (size_t)snprintf(text + len, cap - len, "::ffff:%s\t%u\t%s\n",
			                        kz_addr_format(c->base, abuf), c->len + 96u,
			                        lines[i].as);
		else
			len += (size_t)snprintf(text + len, cap - len, "%s\t%u\t%s\n",
			                        kz_addr_format(c->base, abuf), c->len, lines[i].as);
	}
	struct kz_pfx *t = NULL;
	char err[256];
	if (kz_pfx_load_mem(NAME, text, len, &t, err, sizeof err) != 0)
		fail_msg("seed %llu: %s", (unsigned long long)seed, err);

	/* Every prefix's edges and an address inside it, then random ones. */
	for (size_t i = 0; i < n; i++) {
		const struct kz_cidr *c = &lines[i].c;
		struct kz_addr first = kz_cidr_first(c), last = kz_cidr_last(c);
		struct kz_addr probes[] = {
			first, last, rnd_inside(c), { first.v - 1 }, { last.v + 1 }
		};
		for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++)
			check_addr(t, lines, n, probes[k], seed);
	}
	for (int i = 0; i < 2000; i++) {
		struct kz_addr a = kz_addr_from_v4((uint32_t)rnd());
		check_addr(t, lines, n, a, seed);
		a = rnd_cidr(false, 128).base;
		check_addr(t, lines, n, a, seed);
	}

	/* The batch agrees with single lookups over many addresses at once. */
	uint32_t in[1000], out[1000];
	for (size_t i = 0; i < 1000; i++)
		in[i] = (uint32_t)rnd();
	for (size_t i = 0; i < 1000; i += 2) {
		const struct kz_cidr *c = &lines[rnd() % n].c;
		if (kz_addr_is_v4(c->base))
			in[i] = kz_addr_v4(rnd_inside(c));
	}
	kz_pfx_lookup_v4_batch(t, in, out, 1000);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(out[i], kz_pfx_lookup_v4(t, in[i]));

	/* Counts: distinct prefixes per family, the rest duplicates. */
	qsort(lines, n, sizeof *lines, cmp_line);
	size_t distinct4 = 0, distinct6 = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && kz_addr_cmp(lines[i].c.base, lines[i - 1].c.base) == 0 &&
		    lines[i].c.len == lines[i - 1].c.len)
			continue;
		if (kz_addr_is_v4(lines[i].c.base))
			distinct4++;
		else
			distinct6++;
	}
	struct kz_pfx_stats st;
	kz_pfx_stats(t, &st);
	assert_int_equal(st.lines, n);
	assert_int_equal(st.prefixes_v4, distinct4);
	assert_int_equal(st.prefixes_v6, distinct6);
	assert_int_equal(st.duplicates, n - distinct4 - distinct6);
	kz_pfx_free(t);
	free(text);
	free(lines);
}

static void test_random_tables(void **state)
{
	(void)state;
	/* Small tables make dense nesting at every level; larger ones fill
	 * nodes and the direct array. */
	for (uint64_t seed = 1; seed <= 40; seed++)
		run_random_table(seed, 5 + seed % 30, seed % 2 == 0);
	for (uint64_t seed = 100; seed < 104; seed++)
		run_random_table(seed, 800, seed % 2 == 0);
}

/* Many prefixes inside one /16, every length from 16 to 32: deep nodes, runs
 * of equal leaves and children side by side, against the reference. */
static void test_dense_block(void **state)
{
	(void)state;
	rng_state = 7;
	size_t n = 1500;
	struct line *lines = calloc(n, sizeof *lines);
	assert_non_null(lines);
	size_t cap = n * 64, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++) {
		unsigned plen = 16 + (unsigned)(rnd() % 17);
		lines[i].c = kz_cidr_make(kz_addr_from_v4(0xc6120000u | (uint32_t)(rnd() & 0xffff)),
		                          plen);
		snprintf(lines[i].as, sizeof lines[i].as, "%u", 64496 + (unsigned)(rnd() % 16));
		char abuf[KZ_ADDR_STRLEN];
		len += (size_t)snprintf(text + len, cap - len, "%s\t%u\t%s\n",
		                        kz_addr_format(lines[i].c.base, abuf), plen, lines[i].as);
	}
	struct kz_pfx *t = NULL;
	char err[256];
	if (kz_pfx_load_mem(NAME, text, len, &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	for (size_t i = 0; i < n; i++) {
		struct kz_addr first = kz_cidr_first(&lines[i].c), last = kz_cidr_last(&lines[i].c);
		check_addr(t, lines, n, first, 7);
		check_addr(t, lines, n, last, 7);
		check_addr(t, lines, n, (struct kz_addr){ first.v - 1 }, 7);
		check_addr(t, lines, n, (struct kz_addr){ last.v + 1 }, 7);
	}
	for (int i = 0; i < 5000; i++)
		check_addr(t, lines, n, kz_addr_from_v4(0xc6120000u | (uint32_t)(rnd() & 0xffff)),
		           7);
	kz_pfx_free(t);
	free(text);
	free(lines);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A table whose trie passes 2 MiB, so that it is moved into its read-only
 * huge-page mapping: /8s, /16s and /24s only, so the reference is a search
 * for the /24, then the /16, then the /8 of the address. */
static void test_large_table(void **state)
{
	(void)state;
	rng_state = 11;
	size_t n = 0, cap = 90000;
	uint64_t *keys = calloc(cap, sizeof *keys); /* base << 8 | len */
	assert_non_null(keys);
	for (size_t i = 0; i < cap; i++) {
		unsigned len = i < 40 ? 8 : i < 2000 ? 16 : 24;
		uint32_t base = (uint32_t)rnd() & (~0u << (32 - len));
		keys[n++] = (uint64_t)base << 8 | len;
	}
	qsort(keys, n, sizeof *keys, cmp_u64);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || keys[m - 1] != keys[i])
			keys[m++] = keys[i];
	n = m;
	char *text = malloc(n * 40 + 1);
	assert_non_null(text);
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t b = (uint32_t)(keys[i] >> 8);
		len += (size_t)sprintf(text + len, "%u.%u.%u.%u\t%u\t%u\n", b >> 24, b >> 16 & 255,
		                       b >> 8 & 255, b & 255, (unsigned)(keys[i] & 255),
		                       64496u + (unsigned)(i % 1000));
	}
	struct kz_pfx *t = NULL;
	char err[256];
	if (kz_pfx_load_mem(NAME, text, len, &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	struct kz_pfx_stats st;
	kz_pfx_stats(t, &st);
	assert_int_equal(st.prefixes, n);
	assert_true(st.bytes > (4u << 20));
	uint32_t addrs[4096], out[4096];
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < 4096; i++) {
			uint64_t k = keys[rnd() % n];
			addrs[i] = i % 2 ? (uint32_t)rnd()
			                 : (uint32_t)(k >> 8) | ((uint32_t)rnd() & 255);
		}
		kz_pfx_lookup_v4_batch(t, addrs, out, 4096);
		for (size_t i = 0; i < 4096; i++) {
			uint64_t want = 0;
			for (unsigned l = 24; l >= 8 && !want; l -= 8) {
				uint64_t key = (uint64_t)(addrs[i] & (~0u << (32 - l))) << 8 | l;
				if (bsearch(&key, keys, n, sizeof *keys, cmp_u64))
					want = key;
			}
			struct kz_pfx_match mt;
			bool found = kz_pfx_lookup(t, kz_addr_from_v4(addrs[i]), &mt);
			assert_int_equal(found, want != 0);
			assert_int_equal(out[i], mt.entry);
			assert_int_equal(kz_pfx_lookup_v4(t, addrs[i]), mt.entry);
			if (found)
				assert_int_equal((uint64_t)kz_addr_v4(mt.prefix.base) << 8 |
				                         mt.prefix.len,
				                 want);
		}
	}
	kz_pfx_free(t);
	free(text);
	free(keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_lookup),  cmocka_unit_test(test_default_routes),
		cmocka_unit_test(test_origins),       cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_errors),        cmocka_unit_test(test_version_and_files),
		cmocka_unit_test(test_random_tables), cmocka_unit_test(test_dense_block),
		cmocka_unit_test(test_large_table),   cmocka_unit_test(test_stdin_pipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
