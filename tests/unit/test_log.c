/*
 * The log callback: levels filter, messages are formatted and cut, and with
 * no handler nothing happens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

struct capture {
	int calls;
	enum kz_log_level level;
	char msg[2048];
};

static void capture_fn(enum kz_log_level level, const char *msg, void *userdata)
{
	struct capture *c = userdata;
	c->calls++;
	c->level = level;
	strncpy(c->msg, msg, sizeof c->msg - 1);
}

static void test_log_levels(void **state)
{
	(void)state;
	struct capture c = { 0 };
	kz_log_set_handler(capture_fn, &c, KZ_LOG_WARN);
	kz_info("not shown %d", 1);
	assert_int_equal(c.calls, 0);
	kz_warn("scope.txt:%d: %s", 12, "overlap");
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.level, KZ_LOG_WARN);
	assert_string_equal(c.msg, "scope.txt:12: overlap");
	kz_err("boom");
	assert_int_equal(c.calls, 2);
	assert_true(kz_log_enabled(KZ_LOG_ERROR));
	assert_false(kz_log_enabled(KZ_LOG_DEBUG));
	kz_log_set_handler(NULL, NULL, KZ_LOG_DEBUG);
	assert_false(kz_log_enabled(KZ_LOG_ERROR));
	kz_err("nobody listens");
	assert_int_equal(c.calls, 2);
}

static void test_log_long_message_is_cut(void **state)
{
	(void)state;
	struct capture c = { 0 };
	char big[3000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	kz_log_set_handler(capture_fn, &c, KZ_LOG_DEBUG);
	kz_debug("%s", big);
	assert_int_equal(c.calls, 1);
	assert_int_equal(strlen(c.msg), 1023);
	kz_log_set_handler(NULL, NULL, KZ_LOG_INFO);
}

static void test_log_level_names(void **state)
{
	(void)state;
	assert_string_equal(kz_log_level_name(KZ_LOG_ERROR), "error");
	assert_string_equal(kz_log_level_name(KZ_LOG_WARN), "warning");
	assert_string_equal(kz_log_level_name(KZ_LOG_INFO), "info");
	assert_string_equal(kz_log_level_name(KZ_LOG_DEBUG), "debug");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_log_long_message_is_cut),
		cmocka_unit_test(test_log_level_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
