/*
 * The line reader: numbering, CRLF, the length cap, NUL bytes, comments.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lines.h"

static struct kz_lines *open_text(const char *text, size_t len, FILE **f)
{
	*f = fmemopen((void *)text, len, "r");
	assert_non_null(*f);
	struct kz_lines *lr;
	assert_int_equal(kz_lines_from_stream(*f, "mem.txt", &lr), 0);
	return lr;
}

static void test_lines_numbering_and_crlf(void **state)
{
	(void)state;
	static const char text[] = "one\r\ntwo\n\nlast without newline";
	FILE *f;
	struct kz_lines *lr = open_text(text, sizeof text - 1, &f);
	char *line;
	size_t len;
	assert_int_equal(kz_lines_next(lr, &line, &len), 1);
	assert_string_equal(line, "one");
	assert_int_equal(len, 3);
	assert_int_equal(kz_lines_next(lr, &line, &len), 1);
	assert_string_equal(line, "two");
	assert_int_equal(kz_lines_next(lr, &line, &len), 1);
	assert_string_equal(line, "");
	assert_int_equal(kz_lines_next(lr, &line, &len), 1);
	assert_string_equal(line, "last without newline");
	assert_int_equal(kz_lines_number(lr), 4);
	assert_int_equal(kz_lines_next(lr, &line, &len), 0);
	assert_string_equal(kz_lines_path(lr), "mem.txt");
	kz_lines_close(lr);
	fclose(f);
}

static void test_lines_too_long_then_goes_on(void **state)
{
	(void)state;
	size_t big = KZ_LINES_MAX + 10;
	char *text = malloc(big + 8);
	assert_non_null(text);
	memset(text, 'a', big);
	memcpy(text + big, "\nnext\n", 6);
	FILE *f;
	struct kz_lines *lr = open_text(text, big + 6, &f);
	char *line;
	size_t len;
	assert_int_equal(kz_lines_next(lr, &line, &len), -EMSGSIZE);
	assert_int_equal(kz_lines_number(lr), 1);
	assert_int_equal(kz_lines_next(lr, &line, &len), 1);
	assert_string_equal(line, "next");
	assert_int_equal(kz_lines_number(lr), 2);
	kz_lines_close(lr);
	fclose(f);
	free(text);
}

static void test_lines_nul_byte(void **state)
{
	(void)state;
	static const char text[] = "a\0b\nok\n";
	FILE *f;
	struct kz_lines *lr = open_text(text, sizeof text - 1, &f);
	char *line;
	size_t len;
	assert_int_equal(kz_lines_next(lr, &line, &len), -EINVAL);
	assert_int_equal(kz_lines_next(lr, &line, &len), 1);
	assert_string_equal(line, "ok");
	kz_lines_close(lr);
	fclose(f);
}

static void test_lines_open_missing_file(void **state)
{
	(void)state;
	struct kz_lines *lr;
	assert_int_equal(kz_lines_open("/nonexistent/kizuki/scope.txt", &lr), -ENOENT);
}

static void test_line_strip(void **state)
{
	(void)state;
	char a[] = "  198.18.0.0/15 \t# the fleet";
	assert_string_equal(kz_line_strip(a), "198.18.0.0/15");
	char b[] = "# only a comment";
	assert_string_equal(kz_line_strip(b), "");
	char c[] = "\t\t";
	assert_string_equal(kz_line_strip(c), "");
	char d[] = "x";
	assert_string_equal(kz_line_strip(d), "x");
}

static int count_lines(struct kz_lines *lr, void *out, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	char *line;
	size_t len;
	int rc, *n = out;
	while ((rc = kz_lines_next(lr, &line, &len)) == 1)
		(*n)++;
	return rc;
}

static void test_lines_parse_helpers(void **state)
{
	(void)state;
	int n = 0;
	char err[256] = "";
	assert_int_equal(kz_lines_parse_mem("mem", "a\nb\n", 4, count_lines, &n, err, sizeof err),
	                 0);
	assert_int_equal(n, 2);
	/* An empty buffer is an empty file, not an error. */
	n = 0;
	assert_int_equal(kz_lines_parse_mem("empty", "", 0, count_lines, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(
	        kz_lines_parse_path("/nonexistent/ops.txt", count_lines, &n, err, sizeof err),
	        -ENOENT);
	assert_string_equal(err, "/nonexistent/ops.txt: No such file or directory");
}

/* The messages of a parser that stops at the first bad line: the reason
 * after "name:line:" of the line last returned, and the reader's own
 * faults in the same words for every file. */
static void test_lines_fail_and_error(void **state)
{
	(void)state;
	static const char text[] = "one\ntwo\n";
	FILE *f;
	struct kz_lines *lr = open_text(text, sizeof text - 1, &f);
	char *line, err[64];
	size_t len;
	assert_int_equal(kz_lines_next(lr, &line, &len), 1);
	assert_int_equal(kz_lines_next(lr, &line, &len), 1);
	assert_int_equal(kz_lines_fail(lr, err, sizeof err, "asn: %s %d", "not", 7), -EINVAL);
	assert_string_equal(err, "mem.txt:2: asn: not 7");
	assert_int_equal(kz_lines_error(lr, -EMSGSIZE, err, sizeof err), -EINVAL);
	assert_string_equal(err, "mem.txt:2: line longer than 65536 bytes");
	assert_int_equal(kz_lines_error(lr, -EINVAL, err, sizeof err), -EINVAL);
	assert_string_equal(err, "mem.txt:2: NUL byte in the line");
	/* A read error has no line: "name: why", and its errno is kept. */
	assert_int_equal(kz_lines_error(lr, -EIO, err, sizeof err), -EIO);
	assert_string_equal(err, "mem.txt: Input/output error");
	/* A short err is cut, never overrun; errlen 0 writes nothing. */
	char small[8];
	assert_int_equal(kz_lines_fail(lr, small, sizeof small, "a long reason"), -EINVAL);
	assert_string_equal(small, "mem.txt");
	assert_int_equal(kz_lines_error(lr, -EIO, small, 0), -EIO);
	assert_string_equal(small, "mem.txt");
	kz_lines_close(lr);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_numbering_and_crlf),
		cmocka_unit_test(test_lines_too_long_then_goes_on),
		cmocka_unit_test(test_lines_nul_byte),
		cmocka_unit_test(test_lines_open_missing_file),
		cmocka_unit_test(test_line_strip),
		cmocka_unit_test(test_lines_parse_helpers),
		cmocka_unit_test(test_lines_fail_and_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
