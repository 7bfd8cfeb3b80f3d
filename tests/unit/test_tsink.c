/*
 * The stats sink writes its rows by hand (tsink.c): each line must be byte
 * for byte what kz_tstats_json dumped by kz_jsonl_write gives, for sensor
 * names that need escaping, rows with and without a sketch (sparse and
 * dense), a sensor that changes between rows, one too long to keep, and
 * negative or large numbers. Also kz_jsonl_write_line's refusals.
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

#include "hll.h"
#include "jsonl.h"
#include "tsink.h"

static uint64_t rnd(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ull;
	uint64_t z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* What the row gave through jansson: the reference bytes. */
static char *reference(const struct kz_tstats_row *row, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	struct kz_jsonl_writer *w;
	assert_int_equal(kz_jsonl_writer_from_stream(f, "ref", &w), 0);
	json_t *o = kz_tstats_json(row);
	assert_non_null(o);
	assert_int_equal(kz_jsonl_write(w, o), 0);
	json_decref(o);
	assert_int_equal(kz_jsonl_writer_close(w), 0);
	fclose(f);
	*len = n;
	return buf;
}

static void test_rows_same_bytes_as_jansson(void **state)
{
	(void)state;
	char long_name[400];
	memset(long_name, 'n', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	static const char *const protos[] = { "tcp", "udp", "icmp", "icmp6", "sctp", "other" };
	const char *const sensors[] = { "tokyo-1",       "a \"quoted\" \\ name/x",
		                        "東京-センサー", "tab\there\x01",
		                        long_name,       "tokyo-1" };
	struct kz_hll *sparse, *dense;
	assert_int_equal(kz_hll_new(KZ_HLL_P_DEFAULT, &sparse), 0);
	assert_int_equal(kz_hll_new(KZ_HLL_P_DEFAULT, &dense), 0);
	uint64_t seed = 7;
	for (int i = 0; i < 20; i++)
		assert_int_equal(kz_hll_add_hash(sparse, rnd(&seed)), 0);
	for (int i = 0; i < 50000; i++)
		assert_int_equal(kz_hll_add_hash(dense, rnd(&seed)), 0);

	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	struct kz_tsink_jsonl sink;
	memset(&sink, 0, sizeof sink);
	assert_int_equal(kz_jsonl_writer_from_stream(f, "test", &sink.w), 0);
	char *want = NULL;
	size_t want_len = 0;
	FILE *wf = open_memstream(&want, &want_len);
	assert_non_null(wf);
	for (size_t si = 0; si < sizeof sensors / sizeof sensors[0]; si++) {
		for (int k = 0; k < 30; k++) {
			struct kz_tstats_row row = {
				.sensor = sensors[si],
				.darknet_size = k == 0 ? 0 : rnd(&seed) % (UINT64_C(1) << 32),
				.interval_start =
				        k == 1 ? -86400 : (int64_t)(rnd(&seed) % 4000000000u),
				.interval_len = (uint32_t)(rnd(&seed) % 86400),
				.proto = protos[rnd(&seed) % 6],
				.port = (uint16_t)rnd(&seed),
				.packets = k == 2 ? UINT64_C(1) << 62 : rnd(&seed) % 1000000,
				.unique_sources = rnd(&seed) % 1000,
				.hll = k % 3 == 0   ? NULL
				       : k % 3 == 1 ? sparse
				                    : dense,
			};
			assert_int_equal(kz_tsink_stats.stats(&sink, &row), 0);
			size_t len;
			char *ref = reference(&row, &len);
			assert_int_equal(fwrite(ref, 1, len, wf), len);
			free(ref);
		}
	}
	assert_int_equal(kz_jsonl_writer_close(sink.w), 0);
	fclose(f);
	fclose(wf);
	assert_int_equal(n, want_len);
	assert_memory_equal(buf, want, n);
	free(buf);
	free(want);
	kz_hll_free(sparse);
	kz_hll_free(dense);
}

static void test_write_line_refusals(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	struct kz_jsonl_writer *w;
	assert_int_equal(kz_jsonl_writer_from_stream(f, "test", &w), 0);
	assert_int_equal(kz_jsonl_write_line(w, "{}", 2), -EINVAL);
	assert_int_equal(kz_jsonl_write_line(w, "", 0), -EINVAL);
	size_t big = KZ_JSONL_MAX_LINE + 2;
	char *line = malloc(big);
	assert_non_null(line);
	memset(line, ' ', big);
	line[big - 1] = '\n';
	assert_int_equal(kz_jsonl_write_line(w, line, big), -EMSGSIZE);
	/* Refusals leave the writer usable and write nothing. */
	assert_int_equal(kz_jsonl_write_line(w, "{}\n", 3), 0);
	assert_int_equal(kz_jsonl_writer_lines(w), 1);
	assert_int_equal(kz_jsonl_writer_close(w), 0);
	fclose(f);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "{}\n", 3);
	free(buf);
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_same_bytes_as_jansson),
		cmocka_unit_test(test_write_line_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
