/*
 * Credential lists (CONTRACT.md "Files"): the format with its escapes, every
 * error with its file:line message, the redaction index, merging of repeated
 * pairs, the per-service order (vendor regexes first, protocols filtered),
 * the built-in default list against data/creds/default.txt and Mirai's
 * table, and the wiping of passwords when a list is freed (free is wrapped
 * to look at the bytes it is handed).
 */
#include <errno.h>
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

#include "creds.h"
#include "log.h"

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

/* free() is wrapped (test_creds.wrap): while `watch` is set, the bytes of
 * the watched block must all be zero when it is freed. */
void __real_free(void *p);
void __wrap_free(void *p);
static const char *watch;
static size_t watch_len;
static int watch_seen, watch_dirty;

void __wrap_free(void *p)
{
	if (p && p == watch) {
		watch_seen++;
		for (size_t i = 0; i < watch_len; i++)
			if (((const char *)p)[i] != 0)
				watch_dirty++;
	}
	__real_free(p);
}

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "/tmp/kz-test-creds-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	nmsgs = 0;
	kz_log_set_handler(capture, NULL, KZ_LOG_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kz_log_set_handler(NULL, NULL, KZ_LOG_INFO);
	return unlink(path);
}

static void write_bytes(const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static struct kz_creds *load_ok(const char *text)
{
	write_bytes(text, strlen(text));
	struct kz_creds *c = NULL;
	assert_int_equal(kz_creds_load(path, &c), 0);
	assert_non_null(c);
	return c;
}

/* Loads text that must fail with rc and exactly one error message, which
 * must be "<path>:<line>: <why>". */
static void load_fails(const char *text, size_t len, int rc, unsigned long line, const char *why)
{
	nmsgs = 0;
	write_bytes(text, len);
	struct kz_creds *c = (struct kz_creds *)1;
	assert_int_equal(kz_creds_load(path, &c), rc);
	assert_null(c);
	char want[1024];
	snprintf(want, sizeof want, "%s:%lu: %s", path, line, why);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(levels[0], KZ_LOG_ERROR);
	assert_string_equal(msgs[0], want);
}

static void assert_pair(const struct kz_creds *c, size_t i, const char *user, const char *pass)
{
	assert_true(i < kz_creds_count(c));
	assert_string_equal(kz_creds_pairs(c)[i].user, user);
	assert_string_equal(kz_creds_pairs(c)[i].pass, pass);
}

static void format_and_index(void **state)
{
	(void)state;
	struct kz_creds *c = load_ok("# a comment\n"
	                             "root:xc3511\n"
	                             "\n"
	                             "   \t\n"
	                             "  # an indented comment\n"
	                             ":1234\n"
	                             "admin:\n"
	                             "admin:pa#ss word \n"
	                             "x:y:telnet,ssh\n"
	                             "z:w::huawei\n"
	                             "last:one:http:\n");
	assert_int_equal(kz_creds_count(c), 7);
	assert_pair(c, 0, "root", "xc3511");
	assert_pair(c, 1, "", "1234");  /* password-only */
	assert_pair(c, 2, "admin", ""); /* empty password */
	assert_pair(c, 3, "admin", "pa#ss word ");
	assert_pair(c, 4, "x", "y");
	assert_pair(c, 5, "z", "w");
	assert_pair(c, 6, "last", "one");
	/* The redaction index counts pair lines only; the line is the file's. */
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(kz_creds_index(c, i), i + 1);
	assert_int_equal(kz_creds_line(c, 0), 2);
	assert_int_equal(kz_creds_line(c, 1), 6);
	assert_int_equal(kz_creds_line(c, 6), 11);
	/* Protocols: absent or empty is all. */
	assert_true(kz_creds_allows(c, 0, KZ_LOGIN_APP_HTTP));
	assert_true(kz_creds_allows(c, 4, KZ_LOGIN_APP_TELNET));
	assert_true(kz_creds_allows(c, 4, KZ_LOGIN_APP_SSH));
	assert_false(kz_creds_allows(c, 4, KZ_LOGIN_APP_HTTP));
	assert_true(kz_creds_allows(c, 5, KZ_LOGIN_APP_SSH));
	assert_false(kz_creds_allows(c, 6, KZ_LOGIN_APP_TELNET));
	assert_true(kz_creds_allows(c, 6, KZ_LOGIN_APP_HTTP));
	assert_int_equal(kz_creds_count_for(c, KZ_LOGIN_APP_TELNET), 6);
	assert_int_equal(kz_creds_count_for(c, KZ_LOGIN_APP_HTTP), 6);
	assert_int_equal(nmsgs, 0);
	kz_creds_free(c);
}

static void escapes(void **state)
{
	(void)state;
	struct kz_creds *c = load_ok("a\\:b:p\\\\q\n"    /* "a:b" / "p\q" */
	                             "u:x\\:y\\:z\n"     /* a ':' in the password */
	                             "back\\slash:\\n\n" /* other backslashes stay */
	                             "v:w::dvr\\.x\n"    /* "\." reaches the regex */
	                             "e:\\\\\n");        /* a lone backslash */
	assert_int_equal(kz_creds_count(c), 5);
	assert_pair(c, 0, "a:b", "p\\q");
	assert_pair(c, 1, "u", "x:y:z");
	assert_pair(c, 2, "back\\slash", "\\n");
	assert_pair(c, 3, "v", "w");
	assert_pair(c, 4, "e", "\\");
	/* The regex is "dvr\.x": a literal dot. */
	uint32_t order[5];
	const uint8_t dot[] = "DVR.X login: ", other[] = "dvrax login: ";
	assert_int_equal(kz_creds_order(c, KZ_LOGIN_APP_TELNET, dot, sizeof dot - 1, order), 5);
	assert_int_equal(order[0], 3);
	assert_false(kz_creds_vendor_match(c, KZ_LOGIN_APP_TELNET, other, sizeof other - 1));
	kz_creds_free(c);
}

static void errors(void **state)
{
	(void)state;
	load_fails("root\n", 5, -EINVAL, 1, "no ':' between user and password");
	load_fails("# c\na:b\na:b:telnet:x:y\n", 23, -EINVAL, 3,
	           "more than 4 fields: the format is user:password[:protocols[:vendor-regex]] "
	           "(write a ':' inside a field as '\\:')");
	char longf[300];
	memset(longf, 'u', 129);
	memcpy(longf + 129, ":p\n", 4);
	load_fails(longf, strlen(longf), -EINVAL, 1, "user longer than 128 bytes");
	memset(longf, 'p', sizeof longf);
	memcpy(longf, "u:", 2);
	memcpy(longf + 2 + 129, "\n", 2);
	load_fails(longf, strlen(longf), -EINVAL, 1, "password longer than 128 bytes");
	/* Exactly 128 bytes is fine. */
	memset(longf, 'u', 128);
	memcpy(longf + 128, ":p\n", 4);
	write_bytes(longf, strlen(longf));
	struct kz_creds *c;
	assert_int_equal(kz_creds_load(path, &c), 0);
	kz_creds_free(c);
	load_fails("a:b:ftp\n", 8, -EINVAL, 1, "unknown protocol 'ftp' (telnet, ssh, http)");
	load_fails("a:b:telnet,SSH\n", 15, -EINVAL, 1,
	           "unknown protocol 'SSH' (telnet, ssh, http)");
	load_fails("a:b:telnet,,ssh\n", 16, -EINVAL, 1, "empty protocol name in the protocol list");
	load_fails("a:b::(unclosed\n", 15, -EINVAL, 1,
	           "vendor regex '(unclosed': Unmatched ( or \\(");
	/* Repetitions that glibc would expand to gigabytes are refused before
	 * regcomp; everyday vendor hints, nested '+' included, are not. */
	load_fails("a:b::((((((((((dvr)+)+)+)+)+)+)+)+)+)+\n", 39, -EINVAL, 1,
	           "vendor regex '((((((((((dvr)+)+)+)+)+)+)+)+)+)+': its repetitions expand past "
	           "256 nodes (nest fewer '+' and '{m,n}')");
	/* Under the memory limit but slow: glibc's compile time grows faster
	 * than the nodes (a shape like this took minutes at 2,048). */
	load_fails("a:b::((((((((((3*)+)+)+)+)+)+)+)+)+)\n", 37, -EINVAL, 1,
	           "vendor regex '((((((((((3*)+)+)+)+)+)+)+)+)+)': its repetitions expand past "
	           "256 nodes (nest fewer '+' and '{m,n}')");
	/* Adjacent repetition operators: undefined in POSIX, and glibc's
	 * compile time explodes on them. */
	load_fails("a:b::h??+\n", 10, -EINVAL, 1,
	           "vendor regex 'h??+': two repetition operators in a row ('*', '+', '?', "
	           "'{m,n}'), which POSIX leaves undefined; use one or a group");
	/* glibc builds an unclosed group before it reports the '('. */
	load_fails("a:b::(((((((((((dvr)+)+)+)+)+)+)+)+)+)+\n", 40, -EINVAL, 1,
	           "vendor regex '(((((((((((dvr)+)+)+)+)+)+)+)+)+)+': its repetitions expand past "
	           "256 nodes (nest fewer '+' and '{m,n}')");
	load_fails("a:b::((x{20}){20}){20}\n", 23, -EINVAL, 1,
	           "vendor regex '((x{20}){20}){20}': its repetitions expand past 256 nodes "
	           "(nest fewer '+' and '{m,n}')");
	write_bytes("a:b::((hik)+vision|da(hua)+)+\nc:d::[a-z]{1,20}cam\ne:f::(x{2}){3}\n", 65);
	assert_int_equal(kz_creds_load(path, &c), 0);
	kz_creds_free(c);
	char longre[600] = "a:b::";
	memset(longre + 5, 'r', 513);
	memcpy(longre + 5 + 513, "\n", 2);
	load_fails(longre, strlen(longre), -EINVAL, 1, "vendor regex longer than 512 bytes");
	load_fails("a:b\nc:\0d\n", 9, -EINVAL, 2, "NUL byte in the line");
	/* A list with no pair; the message has no line number. */
	nmsgs = 0;
	write_bytes("# only comments\n\n", 17);
	assert_int_equal(kz_creds_load(path, &c), -EINVAL);
	char want[128];
	snprintf(want, sizeof want, "%s: no credential pair in the file", path);
	assert_int_equal(nmsgs, 1);
	assert_string_equal(msgs[0], want);
	/* A line too long for the reader. */
	size_t big = KZ_LINES_MAX + 10;
	char *huge = malloc(big + 9);
	assert_non_null(huge);
	memcpy(huge, "a:b\n", 4);
	memset(huge + 4, 'x', big);
	memcpy(huge + 4 + big, "\nc:d\n", 5);
	load_fails(huge, big + 9, -EINVAL, 2, "line longer than 65536 bytes");
	free(huge);
	/* A file that cannot be opened: the path and the reason. */
	nmsgs = 0;
	assert_int_equal(kz_creds_load("/nonexistent/creds.txt", &c), -ENOENT);
	assert_int_equal(nmsgs, 1);
	assert_string_equal(msgs[0], "/nonexistent/creds.txt: No such file or directory");
}

static void errors_capped(void **state)
{
	(void)state;
	/* Twelve bad lines: all are found, ten shown, the rest counted. */
	char text[256] = "";
	for (int i = 0; i < 12; i++)
		strcat(text, "bad\n");
	nmsgs = 0;
	write_bytes(text, strlen(text));
	struct kz_creds *c;
	assert_int_equal(kz_creds_load(path, &c), -EINVAL);
	assert_int_equal(nmsgs, 11);
	char want[128];
	snprintf(want, sizeof want, "%s:10: no ':' between user and password", path);
	assert_string_equal(msgs[9], want);
	snprintf(want, sizeof want, "%s: 2 more errors not shown", path);
	assert_string_equal(msgs[10], want);
}

static void merged_repeats(void **state)
{
	(void)state;
	struct kz_creds *c = load_ok("root:xc3511:telnet\n"
	                             "admin:admin\n"
	                             "# vendor block\n"
	                             "root:xc3511:ssh:xiongmai\n"
	                             "guest:guest\n"
	                             "admin:admin::dahua\n");
	assert_int_equal(kz_creds_count(c), 3);
	assert_int_equal(nmsgs, 2);
	char want[256];
	snprintf(want, sizeof want, "%s:4: same user and password as line 1: merged into it", path);
	assert_int_equal(levels[0], KZ_LOG_WARN);
	assert_string_equal(msgs[0], want);
	/* The first occurrence keeps its index; the protocols are the union. */
	assert_pair(c, 0, "root", "xc3511");
	assert_int_equal(kz_creds_index(c, 0), 1);
	assert_true(kz_creds_allows(c, 0, KZ_LOGIN_APP_SSH));
	assert_false(kz_creds_allows(c, 0, KZ_LOGIN_APP_HTTP));
	assert_pair(c, 2, "guest", "guest");
	assert_int_equal(kz_creds_index(c, 2), 4); /* the 4th pair line */
	/* Each repeat's regex moves the merged pair forward on its vendor. */
	uint32_t order[3];
	const uint8_t dahua[] = "\r\nDahua DVR\r\nlogin: ";
	assert_int_equal(kz_creds_order(c, KZ_LOGIN_APP_TELNET, dahua, sizeof dahua - 1, order), 3);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 2);
	const uint8_t xm[] = "XiongMai login: ";
	assert_int_equal(kz_creds_order(c, KZ_LOGIN_APP_HTTP, xm, sizeof xm - 1, order), 2);
	assert_int_equal(order[0], 1); /* root:xc3511 is not for http */
	assert_int_equal(order[1], 2);
	kz_creds_free(c);
}

static void vendor_order(void **state)
{
	(void)state;
	struct kz_creds *c = load_ok("root:xc3511\n"
	                             "admin:admin\n"
	                             "admin:12345::hikvision|dvrdvs\n"
	                             "root:Zte521:telnet:zte|zxhn\n"
	                             "888888:888888::dahua\n"
	                             "admin:1234::zte\n"
	                             "web:only:http:zte\n");
	uint32_t order[7];
	/* No regex matches: file order, filtered by protocol. */
	const uint8_t plain[] = "\r\n(none) login: ";
	size_t n = kz_creds_order(c, KZ_LOGIN_APP_TELNET, plain, sizeof plain - 1, order);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(order[i], i);
	const uint32_t *base;
	assert_int_equal(kz_creds_base_order(c, KZ_LOGIN_APP_TELNET, &base), 6);
	assert_memory_equal(base, order, 6 * sizeof *order);
	assert_false(kz_creds_vendor_match(c, KZ_LOGIN_APP_TELNET, plain, sizeof plain - 1));
	/* A ZTE banner (any case): its pairs first, in file order, then the
	 * rest in file order. The http-only pair is not offered to telnet. */
	const uint8_t zte[] = "\xff\xfb\x01ZTE ZXHN F660\r\nLogin: ";
	n = kz_creds_order(c, KZ_LOGIN_APP_TELNET, zte, sizeof zte - 1, order);
	assert_int_equal(n, 6);
	const uint32_t want[] = { 3, 5, 0, 1, 2, 4 };
	assert_memory_equal(order, want, sizeof want);
	assert_true(kz_creds_vendor_match(c, KZ_LOGIN_APP_TELNET, zte, sizeof zte - 1));
	/* On http the http-only pair joins the front; the telnet-only one
	 * leaves. */
	n = kz_creds_order(c, KZ_LOGIN_APP_HTTP, zte, sizeof zte - 1, order);
	const uint32_t want_http[] = { 5, 6, 0, 1, 2, 4 };
	assert_int_equal(n, 6);
	assert_memory_equal(order, want_http, sizeof want_http);
	/* A NUL byte in the banner does not hide what follows it. */
	const uint8_t nul[] = "abc\0dvrdvs login: ";
	n = kz_creds_order(c, KZ_LOGIN_APP_TELNET, nul, sizeof nul - 1, order);
	assert_int_equal(order[0], 2);
	/* Only the first KZ_CREDS_BANNER_MAX bytes are looked at. */
	static uint8_t big[KZ_CREDS_BANNER_MAX + 16];
	memset(big, 'x', sizeof big);
	memcpy(big + KZ_CREDS_BANNER_MAX, "dahua", 5);
	assert_false(kz_creds_vendor_match(c, KZ_LOGIN_APP_TELNET, big, sizeof big));
	memcpy(big + KZ_CREDS_BANNER_MAX - 5, "dahua", 5);
	assert_true(kz_creds_vendor_match(c, KZ_LOGIN_APP_TELNET, big, sizeof big));
	/* A regex whose pairs are all for another protocol is no match: on
	 * ssh, "zxhn" names only root:Zte521, which is telnet-only. */
	const uint8_t zxhn[] = "SSH-2.0-ZXHN";
	assert_true(kz_creds_vendor_match(c, KZ_LOGIN_APP_TELNET, zxhn, sizeof zxhn - 1));
	assert_false(kz_creds_vendor_match(c, KZ_LOGIN_APP_SSH, zxhn, sizeof zxhn - 1));
	kz_creds_free(c);
}

static char *read_file(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	static char buf[1 << 16];
	*len = fread(buf, 1, sizeof buf - 1, f);
	assert_true(feof(f));
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static void default_list(void **state)
{
	(void)state;
	/* The compiled-in lines are data/creds/default.txt, line for line. */
	size_t len, n;
	char *text = read_file(KZ_TEST_DATA "/../../data/creds/default.txt", &len);
	const char *const *lines = kz_creds_default_lines(&n);
	size_t i = 0;
	for (char *l = text; *l; i++) {
		char *nl = strchr(l, '\n');
		assert_non_null(nl); /* the file ends with a newline */
		*nl = '\0';
		assert_true(i < n);
		assert_string_equal(lines[i], l);
		l = nl + 1;
	}
	assert_int_equal(i, n);

	struct kz_creds *c;
	nmsgs = 0;
	assert_int_equal(kz_creds_load_default(&c), 0);
	/* Mirai's table: 61 distinct pairs (REFERENCE.md), the first lines of
	 * the list, root:xc3511 (the heaviest weight) first; the two entries
	 * whose comments in the source differ from the bytes. */
	assert_pair(c, 0, "root", "xc3511");
	assert_int_equal(kz_creds_index(c, 0), 1);
	assert_pair(c, 60, "mother", "fucker");
	assert_int_equal(kz_creds_index(c, 60), 61);
	bool meinsm = false, a4321 = false;
	for (size_t k = 0; k < 61; k++) {
		const struct kz_login_cred *p = &kz_creds_pairs(c)[k];
		meinsm =
		        meinsm || (!strcmp(p->user, "Administrator") && !strcmp(p->pass, "meinsm"));
		a4321 = a4321 || (!strcmp(p->user, "admin") && !strcmp(p->pass, "4321"));
		for (size_t j = 0; j < k; j++)
			assert_false(!strcmp(p->user, kz_creds_pairs(c)[j].user) &&
			             !strcmp(p->pass, kz_creds_pairs(c)[j].pass));
	}
	assert_true(meinsm && a4321);
	/* Vendor defaults follow, and every merge was announced. */
	assert_true(kz_creds_count(c) > 61);
	for (int m = 0; m < nmsgs && m < MAX_MSGS; m++)
		assert_non_null(strstr(msgs[m], "merged into it"));
	/* A Hikvision banner puts admin:12345 first. */
	const uint8_t hik[] = "\r\ndvrdvs login: ";
	uint32_t *order = calloc(kz_creds_count(c), sizeof *order);
	assert_non_null(order);
	assert_true(kz_creds_order(c, KZ_LOGIN_APP_TELNET, hik, sizeof hik - 1, order) > 61);
	assert_string_equal(kz_creds_pairs(c)[order[0]].user, "admin");
	assert_string_equal(kz_creds_pairs(c)[order[0]].pass, "12345");
	free(order);
	kz_creds_free(c);
}

static void example_file(void **state)
{
	(void)state;
	struct kz_creds *c;
	assert_int_equal(kz_creds_load(KZ_TEST_DATA "/creds/example.txt", &c), 0);
	assert_int_equal(kz_creds_count(c), 8);
	assert_pair(c, 4, "odd", "pa:ss\\word");
	assert_int_equal(kz_creds_index(c, 7), 8);
	assert_int_equal(kz_creds_line(c, 7), 16);
	assert_int_equal(kz_creds_count_for(c, KZ_LOGIN_APP_TELNET), 7);
	assert_int_equal(kz_creds_count_for(c, KZ_LOGIN_APP_SSH), 7);
	kz_creds_free(c);
}

static void passwords_wiped(void **state)
{
	(void)state;
	struct kz_creds *c = load_ok("root:s3cret-one\nadmin:another\n");
	const char *p = kz_creds_pairs(c)[1].pass;
	watch = p;
	watch_len = strlen(p) + 1;
	watch_seen = watch_dirty = 0;
	kz_creds_free(c);
	watch = NULL;
	assert_int_equal(watch_seen, 1);
	assert_int_equal(watch_dirty, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(format_and_index, setup, teardown),
		cmocka_unit_test_setup_teardown(escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(errors, setup, teardown),
		cmocka_unit_test_setup_teardown(errors_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(merged_repeats, setup, teardown),
		cmocka_unit_test_setup_teardown(vendor_order, setup, teardown),
		cmocka_unit_test_setup_teardown(default_list, setup, teardown),
		cmocka_unit_test_setup_teardown(example_file, setup, teardown),
		cmocka_unit_test_setup_teardown(passwords_wiped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
