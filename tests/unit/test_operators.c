/*
 * The operators file: fields, AS prefixes, optional renotify, comments and
 * blank lines, lookups, and each error with file:line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lines.h"
#include "operators.h"

static void test_good(void **state)
{
	(void)state;
	static const char text[] =
	        "# operators\n\n"
	        "64497\tOther ISP # not a comment\thttps://abuse.example/form\t3600\n"
	        "AS64496\tExample ISP\tabuse@example.net\r\n"
	        "  # indented comment\n";
	struct kz_operators *ops;
	char err[256];
	assert_int_equal(kz_operators_load_mem("ops", text, strlen(text), &ops, err, sizeof err),
	                 0);
	assert_int_equal(kz_operators_count(ops), 2);
	const struct kz_operator *o = kz_operators_find(ops, 64496);
	assert_non_null(o);
	assert_string_equal(o->name, "Example ISP");
	assert_string_equal(o->abuse_contact, "abuse@example.net");
	assert_int_equal(o->renotify_sec, -1);
	o = kz_operators_find(ops, 64497);
	assert_string_equal(o->name, "Other ISP # not a comment");
	assert_int_equal(o->renotify_sec, 3600);
	assert_null(kz_operators_find(ops, 64498));
	assert_int_equal(kz_operators_at(ops, 0)->asn, 64496);
	kz_operators_free(ops);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "64496\tExample\n", "ops:1: expected asn<TAB>name<TAB>abuse-contact" },
		{ "\n0\tA\ta@b.example\n", "ops:2: asn" },
		{ "4294967296\tA\ta@b.example\n", "ops:1: asn" },
		{ "64496\t\ta@b.example\n", "ops:1: name" },
		{ "64496\tA\tnobody\n", "ops:1: abuse-contact" },
		{ "64496\tA\ta@b.example\tsoon\n", "ops:1: renotify-sec" },
		{ "64496\tA\ta@b.example\t1\textra\n", "ops:1: expected" },
		{ "64496\tA\ta@b.example\n64496\tB\tc@d.example\n",
		  "ops: AS64496 is listed twice" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct kz_operators *ops = NULL;
		char err[256] = "";
		assert_int_equal(kz_operators_load_mem("ops", bad[i].text, strlen(bad[i].text),
		                                       &ops, err, sizeof err),
		                 -EINVAL);
		assert_null(ops);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
			fail_msg("case %zu: \"%s\" does not start \"%s\"", i, err, bad[i].want);
	}
	struct kz_operators *ops;
	char err[256];
	assert_int_equal(kz_operators_load("/nonexistent/ops", &ops, err, sizeof err), -ENOENT);
	assert_string_equal(err, "/nonexistent/ops: No such file or directory");
}

/* The reader's own faults name the file and line too: the first bad line
 * ends the load. */
static void test_line_faults(void **state)
{
	(void)state;
	static const char nul[] = "# first\nx\0y\n";
	static char text[KZ_LINES_MAX + 16];
	struct kz_operators *ops = NULL;
	char err[256] = "";
	assert_int_equal(kz_operators_load_mem("ops", nul, sizeof nul - 1, &ops, err, sizeof err),
	                 -EINVAL);
	assert_null(ops);
	assert_string_equal(err, "ops:2: NUL byte in the line");
	memset(text, 'a', sizeof text);
	text[0] = '\n';
	assert_int_equal(kz_operators_load_mem("ops", text, sizeof text, &ops, err, sizeof err),
	                 -EINVAL);
	assert_null(ops);
	assert_string_equal(err, "ops:2: line longer than 65536 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_line_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
