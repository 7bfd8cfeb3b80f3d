/*
 * JSON Lines: the writer's bytes and errors (a real full disk: /dev/full),
 * and the reader's framing and per-line errors, from memory and from a
 * stream, including a line far over the cap read from a stream that never
 * holds it in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "jsonl.h"
#include "utf8.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kz-jsonl-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static json_t *obj(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	if (!v)
		fail_msg("%s: %s", text, jerr.text);
	return v;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* ---------------------------------------------------------------- writer */

static void test_writer_roundtrip(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/out.jsonl", tmpdir);
	struct kz_jsonl_writer *w;
	assert_int_equal(kz_jsonl_writer_open(path, 0, &w), 0);
	assert_string_equal(kz_jsonl_writer_name(w), path);
	static const char *const records[] = {
		("{\"time.source\":\"2026-11-27T16:19:54Z\",\"feed.name\":\"kizuki-survey\","
		 "\"extra.banner\":\"caf\\u00e9 \\u0000\\u001b\",\"source.port\":23}"),
		"{\"b\":[1,2,3],\"a\":true,\"c\":null,\"d\":1.5}",
		"{}",
	};
	for (size_t i = 0; i < 3; i++) {
		json_t *o = json_loads(records[i], JSON_ALLOW_NUL, NULL);
		assert_non_null(o);
		assert_int_equal(kz_jsonl_write(w, o), 0);
		json_decref(o);
	}
	assert_int_equal(kz_jsonl_flush(w), 0);
	assert_int_equal(kz_jsonl_writer_lines(w), 3);
	assert_int_equal(kz_jsonl_writer_close(w), 0);

	/* Compact, keys sorted, one line each, UTF-8 as is. */
	size_t len;
	char *text = slurp(path, &len);
	assert_string_equal(text, "{\"extra.banner\":\"caf\xc3\xa9 \\u0000\\u001B\","
	                          "\"feed.name\":\"kizuki-survey\",\"source.port\":23,"
	                          "\"time.source\":\"2026-11-27T16:19:54Z\"}\n"
	                          "{\"a\":true,\"b\":[1,2,3],\"c\":null,\"d\":1.5}\n"
	                          "{}\n");

	/* Read back equal. */
	FILE *f = fopen(path, "r");
	struct kz_jsonl_reader *r;
	assert_int_equal(kz_jsonl_reader_stream(f, 0, &r), 0);
	for (size_t i = 0; i < 3; i++) {
		json_t *got, *want = json_loads(records[i], JSON_ALLOW_NUL, NULL);
		struct kz_jsonl_error err;
		assert_int_equal(kz_jsonl_next(r, &got, &err), 1);
		assert_true(json_equal(got, want));
		assert_int_equal(kz_jsonl_reader_line(r), i + 1);
		json_decref(got);
		json_decref(want);
	}
	json_t *none;
	struct kz_jsonl_error err;
	assert_int_equal(kz_jsonl_next(r, &none, &err), 0);
	assert_null(none);
	kz_jsonl_reader_free(r);
	fclose(f);
	free(text);

	/* A new file is private: survey records may hold passwords. */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_writer_append_and_truncate(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/append.jsonl", tmpdir);
	json_t *o = obj("{\"n\":1}");
	for (int round = 0; round < 2; round++) {
		struct kz_jsonl_writer *w;
		assert_int_equal(kz_jsonl_writer_open(path, KZ_JSONL_APPEND, &w), 0);
		assert_int_equal(kz_jsonl_write(w, o), 0);
		assert_int_equal(kz_jsonl_writer_close(w), 0);
	}
	size_t len;
	char *text = slurp(path, &len);
	assert_string_equal(text, "{\"n\":1}\n{\"n\":1}\n");
	free(text);
	struct kz_jsonl_writer *w;
	assert_int_equal(kz_jsonl_writer_open(path, 0, &w), 0);
	assert_int_equal(kz_jsonl_write(w, o), 0);
	assert_int_equal(kz_jsonl_writer_close(w), 0);
	text = slurp(path, &len);
	assert_string_equal(text, "{\"n\":1}\n");
	free(text);
	json_decref(o);

	snprintf(path, sizeof path, "%s/no/such/dir.jsonl", tmpdir);
	assert_int_equal(kz_jsonl_writer_open(path, 0, &w), -ENOENT);
}

/* /dev/full fails every write with ENOSPC: the error surfaces at the flush
 * at the latest, sticks, and close reports it. */
static void test_writer_disk_full(void **state)
{
	(void)state;
	struct kz_jsonl_writer *w;
	if (access("/dev/full", W_OK) != 0)
		skip();
	assert_int_equal(kz_jsonl_writer_open("/dev/full", KZ_JSONL_APPEND, &w), 0);
	json_t *o = obj("{\"a\":1}");
	int rc = 0;
	for (int i = 0; i < 100000 && rc == 0; i++)
		rc = kz_jsonl_write(w, o);
	if (rc == 0)
		rc = kz_jsonl_flush(w);
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(kz_jsonl_write(w, o), -ENOSPC);
	assert_int_equal(kz_jsonl_flush(w), -ENOSPC);
	assert_int_equal(kz_jsonl_writer_close(w), -ENOSPC);
	json_decref(o);

	/* The same when only the final close can find out. */
	assert_int_equal(kz_jsonl_writer_open("/dev/full", KZ_JSONL_APPEND, &w), 0);
	o = obj("{\"a\":1}");
	assert_int_equal(kz_jsonl_write(w, o), 0);
	assert_int_equal(kz_jsonl_writer_close(w), -ENOSPC);
	json_decref(o);
}

static void test_writer_refusals(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	struct kz_jsonl_writer *w;
	assert_int_equal(kz_jsonl_writer_from_stream(f, "tmp", &w), 0);
	json_t *arr = json_loads("[1]", 0, NULL);
	assert_int_equal(kz_jsonl_write(w, arr), -EINVAL);
	json_decref(arr);
	/* A record over the line cap writes nothing and breaks nothing. */
	char *big = malloc(KZ_JSONL_MAX_LINE + 1);
	assert_non_null(big);
	memset(big, 'x', KZ_JSONL_MAX_LINE);
	big[KZ_JSONL_MAX_LINE] = '\0';
	json_t *o = json_object();
	json_object_set_new(o, "x", json_string(big));
	assert_int_equal(kz_jsonl_write(w, o), -EMSGSIZE);
	char *line;
	size_t len;
	assert_int_equal(kz_jsonl_format(o, &line, &len), -EMSGSIZE);
	json_decref(o);
	free(big);
	o = obj("{\"ok\":1}");
	assert_int_equal(kz_jsonl_write(w, o), 0);
	assert_int_equal(kz_jsonl_writer_lines(w), 1);
	assert_int_equal(kz_jsonl_writer_close(w), 0);
	/* The stream is borrowed: still open, holding just the good line. */
	rewind(f);
	char buf[64] = "";
	assert_non_null(fgets(buf, sizeof buf, f));
	assert_string_equal(buf, "{\"ok\":1}\n");
	assert_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_int_equal(kz_jsonl_format(o, &line, &len), 0);
	assert_string_equal(line, "{\"ok\":1}\n");
	assert_int_equal(len, 9);
	free(line);
	json_decref(o);
}

/* ---------------------------------------------------------------- reader */

/* One expected outcome of kz_jsonl_next. */
struct step {
	int rc;
	unsigned long line;
	const char *part; /* in the reason (errors) or a key of the object */
};

static void run_steps(struct kz_jsonl_reader *r, const struct step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *o = NULL;
		struct kz_jsonl_error err;
		int rc = kz_jsonl_next(r, &o, &err);
		if (rc != steps[i].rc)
			fail_msg("step %zu: rc %d, want %d (line %lu: %s)", i, rc, steps[i].rc,
			         err.line, err.reason);
		if (rc == 1) {
			assert_int_equal(kz_jsonl_reader_line(r), steps[i].line);
			if (!json_object_get(o, steps[i].part))
				fail_msg("step %zu: no key %s", i, steps[i].part);
			json_decref(o);
		} else if (rc < 0) {
			assert_null(o);
			assert_int_equal(err.line, steps[i].line);
			if (!strstr(err.reason, steps[i].part))
				fail_msg("step %zu: reason '%s' lacks '%s'", i, err.reason,
				         steps[i].part);
			size_t rl = strlen(err.reason);
			assert_int_equal(kz_utf8_check((const uint8_t *)err.reason, rl), rl);
		}
	}
}

static const char mixed[] = "{\"a\":1}\n"
                            "\n"
                            "not json\n"
                            "[1,2]\n"
                            "{\"a\":1,\"a\":2}\n"
                            "{\"x\":\"\xff\"}\n"
                            "{\"b\":2}\r\n"
                            "  \t \r\n"
                            "{\"c\":\n"
                            "\"str\"\n"
                            "{\"d\":\"\\u0000\"}\n"
                            "{\"f\":false\0}\n"
                            "{\"e\":4}";

static const struct step mixed_steps[] = {
	{ 1, 1, "a" },
	{ -EBADMSG, 3, "invalid JSON at column 3: invalid token near 'not'" },
	{ -EBADMSG, 4, "not a JSON object but an array" },
	{ -EBADMSG, 5, "duplicate object key" },
	{ -EBADMSG, 6, "invalid UTF-8 at byte 7" },
	{ 1, 7, "b" },
	{ -EBADMSG, 9, "invalid JSON" },
	{ -EBADMSG, 10, "not a JSON object but a string" },
	{ 1, 11, "d" },
	{ -EBADMSG, 12, "NUL byte at byte 11 (not JSON)" },
	{ 1, 13, "e" },
	{ 0, 13, NULL },
	{ 0, 13, NULL },
};

static void test_reader_memory(void **state)
{
	(void)state;
	struct kz_jsonl_reader *r;
	assert_int_equal(kz_jsonl_reader_memory(mixed, sizeof mixed - 1, 0, &r), 0);
	run_steps(r, mixed_steps, sizeof mixed_steps / sizeof mixed_steps[0]);
	kz_jsonl_reader_free(r);
}

static void test_reader_stream(void **state)
{
	(void)state;
	FILE *f = fmemopen((void *)mixed, sizeof mixed - 1, "r");
	assert_non_null(f);
	struct kz_jsonl_reader *r;
	assert_int_equal(kz_jsonl_reader_stream(f, 0, &r), 0);
	run_steps(r, mixed_steps, sizeof mixed_steps / sizeof mixed_steps[0]);
	kz_jsonl_reader_free(r);
	fclose(f);
}

static void test_reader_empty_inputs(void **state)
{
	(void)state;
	static const char *const inputs[] = { "", "\n", "\n\n\r\n", "   " };
	for (size_t i = 0; i < 4; i++) {
		struct kz_jsonl_reader *r;
		assert_int_equal(kz_jsonl_reader_memory(inputs[i], strlen(inputs[i]), 0, &r), 0);
		json_t *o;
		struct kz_jsonl_error err;
		assert_int_equal(kz_jsonl_next(r, &o, &err), 0);
		kz_jsonl_reader_free(r);
	}
}

/* Exactly max_line bytes pass (with or without "\r"); one more does not,
 * and the next line is read normally. Both sources agree. */
static void test_reader_line_cap(void **state)
{
	(void)state;
	static const char in[] = "{\"k\":\"01234567\"}\n"    /* 16 bytes */
	                         "{\"k\":\"01234567\"}\r\n"  /* 16 + CR */
	                         "{\"k\":\"012345678\"}\n"   /* 17 bytes */
	                         "{\"k\":\"012345678\"}\r\n" /* 17 + CR */
	                         "{\"k\":\"0123456789012345678901234567890\"}\n"
	                         "{\"z\":1}";
	static const struct step steps[] = {
		{ 1, 1, "k" },
		{ 1, 2, "k" },
		{ -EBADMSG, 3, "line longer than 16 bytes" },
		{ -EBADMSG, 4, "line longer than 16 bytes" },
		{ -EBADMSG, 5, "line longer than 16 bytes" },
		{ 1, 6, "z" },
		{ 0, 6, NULL },
	};
	struct kz_jsonl_reader *r;
	assert_int_equal(kz_jsonl_reader_memory(in, sizeof in - 1, 16, &r), 0);
	run_steps(r, steps, sizeof steps / sizeof steps[0]);
	kz_jsonl_reader_free(r);

	FILE *f = fmemopen((void *)in, sizeof in - 1, "r");
	assert_int_equal(kz_jsonl_reader_stream(f, 16, &r), 0);
	run_steps(r, steps, sizeof steps / sizeof steps[0]);
	kz_jsonl_reader_free(r);
	fclose(f);
}

/* A stream that makes up a 64 MiB line, then a good one, and never exists
 * in memory: the reader must refuse the line without holding it. */
struct endless {
	size_t left;
	const char *tail;
	size_t tail_left;
	bool fail;
};

static ssize_t endless_read(void *cookie, char *buf, size_t size)
{
	struct endless *e = cookie;
	if (e->fail)
		return -1;
	size_t n = 0;
	if (e->left) {
		n = size < e->left ? size : e->left;
		memset(buf, 'x', n);
		e->left -= n;
		return (ssize_t)n;
	}
	n = size < e->tail_left ? size : e->tail_left;
	memcpy(buf, e->tail, n);
	e->tail += n;
	e->tail_left -= n;
	return (ssize_t)n;
}

static long max_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_reader_huge_line_bounded(void **state)
{
	(void)state;
	static const char tail[] = "\n{\"ok\":1}\n";
	struct endless e = { 64u << 20, tail, sizeof tail - 1, false };
	cookie_io_functions_t io = { .read = endless_read };
	FILE *f = fopencookie(&e, "r", io);
	assert_non_null(f);
	long before = max_rss_kib();
	struct kz_jsonl_reader *r;
	assert_int_equal(kz_jsonl_reader_stream(f, 0, &r), 0);
	static const struct step steps[] = {
		{ -EBADMSG, 1, "line longer than 1048576 bytes" },
		{ 1, 2, "ok" },
		{ 0, 2, NULL },
	};
	run_steps(r, steps, 3);
	kz_jsonl_reader_free(r);
	fclose(f);
	/* The buffer stops at the cap (1 MiB); the line was 64 MiB. */
	assert_true(max_rss_kib() - before < 16 * 1024);
}

static void test_reader_read_error(void **state)
{
	(void)state;
	struct endless e = { 0, "", 0, true };
	cookie_io_functions_t io = { .read = endless_read };
	FILE *f = fopencookie(&e, "r", io);
	assert_non_null(f);
	struct kz_jsonl_reader *r;
	assert_int_equal(kz_jsonl_reader_stream(f, 0, &r), 0);
	json_t *o;
	struct kz_jsonl_error err;
	assert_int_equal(kz_jsonl_next(r, &o, &err), -EIO);
	assert_int_equal(err.line, 1);
	assert_int_equal(kz_jsonl_next(r, &o, &err), 0);
	kz_jsonl_reader_free(r);
	fclose(f);
}

static void test_reader_bom(void **state)
{
	(void)state;
	static const char in[] = "\xef\xbb\xbf{\"a\":1}\n\xef\xbb\xbf{\"b\":1}\n";
	static const struct step steps[] = {
		{ 1, 1, "a" },
		{ -EBADMSG, 2, "invalid JSON" },
		{ 0, 2, NULL },
	};
	struct kz_jsonl_reader *r;
	assert_int_equal(kz_jsonl_reader_memory(in, sizeof in - 1, 0, &r), 0);
	run_steps(r, steps, 3);
	kz_jsonl_reader_free(r);
}

/* jansson quotes the input near an error and may cut a character: the
 * reason must stay valid UTF-8 without control characters. */
static void test_reader_reason_is_clean(void **state)
{
	(void)state;
	char in[2048];
	size_t n = 0;
	in[n++] = '{';
	for (int i = 0; i < 300; i++) {
		in[n++] = (char)0xe6; /* U+6C17 */
		in[n++] = (char)0xb0;
		in[n++] = (char)0x97;
	}
	in[n++] = '\t';
	in[n++] = '\x01';
	struct kz_jsonl_reader *r;
	assert_int_equal(kz_jsonl_reader_memory(in, n, 0, &r), 0);
	json_t *o;
	struct kz_jsonl_error err;
	assert_int_equal(kz_jsonl_next(r, &o, &err), -EBADMSG);
	size_t rl = strlen(err.reason);
	assert_true(rl > 0 && rl < KZ_JSONL_REASON_MAX);
	assert_int_equal(kz_utf8_check((const uint8_t *)err.reason, rl), rl);
	for (size_t i = 0; i < rl; i++)
		assert_true((unsigned char)err.reason[i] >= 0x20 && err.reason[i] != 0x7f);
	kz_jsonl_reader_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_roundtrip),
		cmocka_unit_test(test_writer_append_and_truncate),
		cmocka_unit_test(test_writer_disk_full),
		cmocka_unit_test(test_writer_refusals),
		cmocka_unit_test(test_reader_memory),
		cmocka_unit_test(test_reader_stream),
		cmocka_unit_test(test_reader_empty_inputs),
		cmocka_unit_test(test_reader_line_cap),
		cmocka_unit_test(test_reader_huge_line_bounded),
		cmocka_unit_test(test_reader_read_error),
		cmocka_unit_test(test_reader_bom),
		cmocka_unit_test(test_reader_reason_is_clean),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
