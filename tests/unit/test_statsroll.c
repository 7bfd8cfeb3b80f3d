/*
 * Interval stats into rollups: a line counts once, packets add up across
 * intervals and sensors, unique sources are the merged sketch's count (not
 * the sum: the same sources seen by two sensors and in two intervals are
 * counted once), a sketchless line is a lower bound, and bad lines are
 * refused with their numbers.
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
#include "statsroll.h"
#include "store.h"

/* A stats line whose sketch holds sources first..first+n-1 of 198.18.x.y. */
static char *line(const char *sensor, const char *start, int port, int packets, unsigned first,
                  unsigned n, bool sketch)
{
	struct kz_hll *h;
	char *b64 = NULL, *out;
	size_t len;
	assert_int_equal(kz_hll_new(KZ_HLL_P_DEFAULT, &h), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(kz_hll_add_addr(h, kz_addr_from_v4(0xc6120000u + first + i)), 0);
	assert_int_equal(kz_hll_to_base64(h, &b64, &len), 0);
	kz_hll_free(h);
	assert_true(asprintf(&out,
	                     "{\"sensor\":\"%s\",\"darknet_size\":65536,\"interval_start\":\"%s\","
	                     "\"interval_len\":60,\"proto\":\"tcp\",\"port\":%d,\"packets\":%d,"
	                     "\"unique_sources\":%u%s%s%s}\n",
	                     sensor, start, port, packets, n, sketch ? ",\"sources_hll\":\"" : "",
	                     sketch ? b64 : "", sketch ? "\"" : "") > 0);
	free(b64);
	return out;
}

static void store_body(sqlite3 *db, const char *body, uint64_t acc, uint64_t dup, uint64_t rej)
{
	struct kz_stats_batch *b;
	char err[256];
	assert_int_equal(kz_stats_prepare(body, strlen(body), &b), 0);
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(kz_stats_store(db, b, 1795800000, err, sizeof err), 0);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	const struct kz_ingest_result *r = kz_stats_batch_result(b);
	assert_int_equal(r->accepted, acc);
	assert_int_equal(r->duplicates, dup);
	assert_int_equal(r->rejected, rej);
	kz_stats_batch_free(b);
}

static void test_rollups(void **state)
{
	(void)state;
	struct kz_store *s;
	char err[256];
	assert_int_equal(kz_store_open(":memory:", KZ_STORE_CREATE, &s, err, sizeof err), 0);
	sqlite3 *db = kz_store_db(s);
	/* Sensor a: sources 0-99 then 50-149 in two minutes of one 5-minute
	 * bin; sensor b: 100-199. The union is 200 sources. */
	char *l1 = line("a", "2026-11-27T16:00:00Z", 23, 1000, 0, 100, true);
	char *l2 = line("a", "2026-11-27T16:01:00Z", 23, 500, 50, 100, true);
	char *l3 = line("b", "2026-11-27T16:02:00Z", 23, 300, 100, 100, true);
	char *l4 = line("b", "2026-11-27T16:03:00Z", 2323, 7, 0, 4, false);
	char body[200000];
	snprintf(body, sizeof body, "%s%s%s%s", l1, l2, l3, l4);
	store_body(db, body, 4, 0, 0);
	store_body(db, body, 0, 4, 0);

	json_t *out;
	assert_int_equal(kz_stats_ports(db, 1795795200 - 86400 * 400, 1795795200 + 86400 * 400, 300,
	                                &out, err, sizeof err),
	                 0);
	json_t *series = json_object_get(out, "series");
	assert_int_equal(json_array_size(series), 2);
	json_t *p23 = json_array_get(series, 0);
	assert_int_equal(json_integer_value(json_object_get(p23, "port")), 23);
	assert_int_equal(json_integer_value(json_object_get(p23, "packets")), 1800);
	assert_int_equal(json_integer_value(json_object_get(p23, "sensors")), 2);
	/* Sparse sketches of a few hundred sources count almost exactly. */
	json_int_t u = json_integer_value(json_object_get(p23, "unique_sources"));
	assert_true(u >= 198 && u <= 202);
	assert_true(json_real_value(json_object_get(p23, "avg_packets_per_sensor")) == 900.0);
	json_t *p2323 = json_array_get(series, 1);
	assert_int_equal(json_integer_value(json_object_get(p2323, "unique_sources")), 4);
	json_decref(out);
	/* The 1-day bin holds the same totals. */
	assert_int_equal(
	        kz_stats_ports(db, 0, 1795795200 + 86400 * 400, 86400, &out, err, sizeof err), 0);
	p23 = json_array_get(json_object_get(out, "series"), 0);
	assert_int_equal(json_integer_value(json_object_get(p23, "packets")), 1800);
	json_decref(out);
	assert_int_equal(kz_stats_ports(db, 0, 1, 60, &out, err, sizeof err), -EINVAL);

	const char *bad = "{\"sensor\":\"a\"}\n"
	                  "{\"sensor\":\"a\",\"interval_start\":\"x\",\"interval_len\":60,"
	                  "\"proto\":\"tcp\",\"port\":1,\"packets\":1,\"unique_sources\":1}\n"
	                  "nope\n";
	struct kz_stats_batch *b;
	assert_int_equal(kz_stats_prepare(bad, strlen(bad), &b), 0);
	const struct kz_ingest_result *r = kz_stats_batch_result(b);
	assert_int_equal(r->rejected, 3);
	assert_int_equal(r->errors[0].line, 1);
	assert_non_null(strstr(r->errors[0].reason, "proto"));
	assert_non_null(strstr(r->errors[1].reason, "interval_start"));
	assert_int_equal(r->errors[2].line, 3);
	kz_stats_batch_free(b);
	free(l1);
	free(l2);
	free(l3);
	free(l4);
	kz_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rollups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
