/*
 * --ports: the contract's default parses to its five entries in order, bare
 * numbers take their well-known protocol, and every malformed entry is
 * refused with a reason that names it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "portspec.h"

static void test_default(void **state)
{
	(void)state;
	struct kz_portspec p[8];
	size_t n;
	char why[KZ_PORTSPEC_WHY];
	assert_int_equal(kz_portspec_parse(KZ_PORTSPEC_DEFAULT, p, 8, &n, why, sizeof why), 0);
	assert_int_equal(n, 5);
	static const uint16_t ports[] = { 23, 2323, 22, 80, 8080 };
	static const enum kz_app apps[] = { KZ_APP_TELNET, KZ_APP_TELNET, KZ_APP_SSH, KZ_APP_HTTP,
		                            KZ_APP_HTTP };
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(p[i].port, ports[i]);
		assert_int_equal(p[i].app, apps[i]);
	}
	assert_string_equal(kz_app_name(KZ_APP_SSH), "ssh");
	/* Bare numbers, and a protocol on an unusual port. */
	assert_int_equal(kz_portspec_parse("23,22,80,8080,2323,65535/http,1/telnet", p, 8, &n, why,
	                                   sizeof why),
	                 0);
	assert_int_equal(n, 7);
	assert_int_equal(p[5].port, 65535);
	assert_int_equal(p[5].app, KZ_APP_HTTP);
	assert_int_equal(p[6].app, KZ_APP_TELNET);
}

static void test_errors(void **state)
{
	(void)state;
	struct kz_portspec p[4];
	size_t n;
	char why[KZ_PORTSPEC_WHY];
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{ "", "empty" },
		{ "23,", "empty" },
		{ "23,,22", "empty" },
		{ "0/ssh", "1 to 65535" },
		{ "65536/ssh", "1 to 65535" },
		{ "023", "1 to 65535" },
		{ "9999", "well-known" },
		{ "23/smtp", "unknown protocol" },
		{ "23/", "unknown protocol" },
		{ "x23", "not PORT" },
		{ "23 ", "not PORT" },
		{ "23,23/telnet", "twice" },
		{ "-1", "not PORT" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		assert_int_equal(kz_portspec_parse(bad[i].spec, p, 4, &n, why, sizeof why),
		                 -EINVAL);
		if (!strstr(why, bad[i].says))
			fail_msg("'%s': reason '%s' does not say '%s'", bad[i].spec, why,
			         bad[i].says);
	}
	assert_int_equal(kz_portspec_parse("22,23,80,8080,2323", p, 4, &n, why, sizeof why),
	                 -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
