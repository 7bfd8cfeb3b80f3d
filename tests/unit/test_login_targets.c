/*
 * Stage-2 targets: the address:port/app syntax for IPv4 and bracketed IPv6,
 * every parse error with its reason, and a targets file with its file:line
 * messages, comments and repeated targets.
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

#include "log.h"
#include "login_targets.h"

#define MAX_MSGS 32
static char msgs[MAX_MSGS][512];
static int nmsgs;

static void capture(enum kz_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	if (nmsgs < MAX_MSGS)
		snprintf(msgs[nmsgs], sizeof msgs[0], "%s", msg);
	nmsgs++;
}

static void parse_ok(void **state)
{
	(void)state;
	struct kz_login_target t;
	const char *why;
	char buf[80];
	assert_int_equal(kz_login_target_parse("192.0.2.1:23/telnet", &t, &why), 0);
	assert_int_equal(kz_addr_v4(t.addr), 0xc0000201);
	assert_int_equal(t.port, 23);
	assert_int_equal(t.app, KZ_LOGIN_APP_TELNET);
	assert_string_equal(kz_login_target_format(&t, buf, sizeof buf), "192.0.2.1:23/telnet");
	assert_int_equal(kz_login_target_parse("[2001:db8::1]:2222/ssh", &t, &why), 0);
	assert_false(kz_addr_is_v4(t.addr));
	assert_int_equal(t.port, 2222);
	assert_int_equal(t.app, KZ_LOGIN_APP_SSH);
	assert_string_equal(kz_login_target_format(&t, buf, sizeof buf), "[2001:db8::1]:2222/ssh");
	assert_int_equal(kz_login_target_parse("198.51.100.7:65535/http", &t, &why), 0);
	assert_int_equal(t.port, 65535);
	assert_int_equal(t.app, KZ_LOGIN_APP_HTTP);
}

static void parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *in, *why;
	} cases[] = {
		{ "192.0.2.1", "no ':' before the port (address:port/app)" },
		{ "192.0.2.1:23", "no '/app' after the port (telnet, ssh or http)" },
		{ "192.0.2.1:23/ftp", "unknown application (telnet, ssh or http)" },
		{ "192.0.2.1:23/Telnet", "unknown application (telnet, ssh or http)" },
		{ "192.0.2.1:0/telnet", "port 0 or a port with a leading zero" },
		{ "192.0.2.1:023/telnet", "port 0 or a port with a leading zero" },
		{ "192.0.2.1:65536/telnet", "port above 65535" },
		{ "192.0.2.1:/telnet", "no port number after ':'" },
		{ "192.0.2.1:23x/telnet", "no '/app' after the port (telnet, ssh or http)" },
		{ "2001:db8::1:22/ssh", "an IPv6 address needs brackets: [address]:port/app" },
		{ "[2001:db8::1]22/ssh", "no ':' before the port (address:port/app)" },
		{ "[2001:db8::1:22/ssh", "'[' without ']'" },
		{ "[192.0.2.1]:23/telnet", "brackets are for IPv6 addresses" },
		{ "[]:23/telnet", "not an IPv6 address between '[' and ']'" },
		{ ":23/telnet", "not an address before ':'" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct kz_login_target t;
		const char *why = NULL;
		assert_int_equal(kz_login_target_parse(cases[i].in, &t, &why), -EINVAL);
		assert_non_null(why);
		if (strcmp(why, cases[i].why) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].in, why, cases[i].why);
	}
	/* A bad address gives the address parser's reason. */
	struct kz_login_target t;
	const char *why = NULL;
	assert_int_equal(kz_login_target_parse("192.0.2.256:23/telnet", &t, &why), -EINVAL);
	assert_non_null(why);
}

static char path[64];

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void file_load(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "/tmp/kz-test-targets-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	kz_log_set_handler(capture, NULL, KZ_LOG_DEBUG);

	write_file("# targets\n192.0.2.1:23/telnet\n\n  [2001:db8::1]:22/ssh  # a comment\n"
	           "192.0.2.1:23/telnet\n192.0.2.1:23/http\n");
	struct kz_login_target *v;
	size_t n;
	nmsgs = 0;
	assert_int_equal(kz_login_targets_load(path, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[1].app, KZ_LOGIN_APP_SSH);
	assert_int_equal(v[2].app, KZ_LOGIN_APP_HTTP);
	free(v);
	char want[256];
	assert_int_equal(nmsgs, 1);
	snprintf(want, sizeof want, "%s:5: 192.0.2.1:23/telnet: repeats line 2, ignored", path);
	assert_string_equal(msgs[0], want);

	write_file("192.0.2.1:23/telnet\n192.0.2.2\n192.0.2.3:99999/ssh\n");
	nmsgs = 0;
	assert_int_equal(kz_login_targets_load(path, &v, &n), -EINVAL);
	assert_null(v);
	assert_int_equal(nmsgs, 2);
	snprintf(want, sizeof want, "%s:2: 192.0.2.2: no ':' before the port (address:port/app)",
	         path);
	assert_string_equal(msgs[0], want);
	snprintf(want, sizeof want, "%s:3: 192.0.2.3:99999/ssh: port above 65535", path);
	assert_string_equal(msgs[1], want);

	write_file("# nothing\n");
	nmsgs = 0;
	assert_int_equal(kz_login_targets_load(path, &v, &n), -EINVAL);
	snprintf(want, sizeof want, "%s: no target in the file", path);
	assert_string_equal(msgs[0], want);

	/* Many distinct targets: the repeat table grows. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "198.18.%d.%d:%d/telnet\n", i / 256, i % 256, 23 + i % 2);
	fprintf(f, "198.18.0.0:23/telnet\n");
	fclose(f);
	nmsgs = 0;
	assert_int_equal(kz_login_targets_load(path, &v, &n), 0);
	assert_int_equal(n, 5000);
	assert_int_equal(nmsgs, 1);
	free(v);

	assert_int_equal(kz_login_targets_load("/nonexistent/t.txt", &v, &n), -ENOENT);
	unlink(path);
	kz_log_set_handler(NULL, NULL, KZ_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_ok),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(file_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
