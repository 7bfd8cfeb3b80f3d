/*
 * Ingest into a real SQLite store in a temporary directory: idempotency,
 * bad lines with their numbers while the good ones are stored, records of
 * another IntelMQ producer with computed ids, the survey lifecycle through
 * records and run header/trailer (coverage: unreachable, then gone after
 * three runs), telescope findings going inactive, tickets, sightings,
 * feedback and marking notified.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "findings.h"
#include "ingest.h"
#include "record.h"
#include "sightings.h"
#include "store.h"

struct fx {
	char dir[64];
	char path[96];
	struct kz_store *s;
	struct kz_ingest *ing;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	snprintf(f->dir, sizeof f->dir, "/tmp/kz-ingest-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/hub.db", f->dir);
	assert_int_equal(kz_store_open(f->path, KZ_STORE_CREATE, &f->s, err, sizeof err), 0);
	assert_int_equal(kz_ingest_open(f->s, NULL, &f->ing, err, sizeof err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	kz_ingest_close(f->ing);
	kz_store_close(f->s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static long long q_int(struct fx *f, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(kz_store_db(f->s), sql, -1, &st, NULL), SQLITE_OK);
	long long v = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *q_text(struct fx *f, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(kz_store_db(f->s), sql, -1, &st, NULL), SQLITE_OK);
	char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void ingest(struct fx *f, const char *body, uint64_t acc, uint64_t dup, uint64_t rej)
{
	struct kz_ingest_result r;
	char err[256];
	struct kz_submitter who = { "test", false };
	assert_int_equal(
	        kz_ingest_events(f->ing, body, strlen(body), NULL, &who, &r, err, sizeof err), 0);
	if (r.accepted != acc || r.duplicates != dup || r.rejected != rej) {
		for (size_t i = 0; i < r.nerrors; i++)
			print_message("line %lu: %s\n", r.errors[i].line, r.errors[i].reason);
		fail_msg("accepted %llu duplicates %llu rejected %llu, wanted %llu %llu %llu",
		         (unsigned long long)r.accepted, (unsigned long long)r.duplicates,
		         (unsigned long long)r.rejected, (unsigned long long)acc,
		         (unsigned long long)dup, (unsigned long long)rej);
	}
	kz_ingest_result_clear(&r);
}

/* One survey record of a device as a JSON line (with "\n"), attributed by
 * the producer to asn (0: none). */
static char *survey_line_as(const char *ip, const char *run, const char *status, int64_t t,
                            uint32_t asn)
{
	struct kz_record_spec sp = { 0 };
	const char *why;
	json_t *rec;
	char *line;
	size_t len;
	sp.kind =
	        strcmp(status, "login-possible") == 0 ? KZ_REC_WEAK_CREDENTIALS : KZ_REC_ACCESSIBLE;
	sp.time_observation = t;
	sp.time_source = t;
	sp.run_id = run;
	sp.scanner_ip = kz_addr_from_v4(0xc6120001);
	assert_int_equal(kz_addr_parse(ip, &sp.addr, &why), 0);
	sp.port = 23;
	sp.application = "telnet";
	assert_int_equal(kz_record_new(&sp, &rec, &why), 0);
	assert_int_equal(kz_record_set_str(rec, "extra.status", status), 0);
	if (asn)
		assert_int_equal(json_object_set_new(rec, "source.asn", json_integer(asn)), 0);
	assert_int_equal(kz_jsonl_format(rec, &line, &len), 0);
	json_decref(rec);
	return line;
}

static char *survey_line(const char *ip, const char *run, const char *status, int64_t t)
{
	return survey_line_as(ip, run, status, t, 0);
}

static char *run_line(const char *run, const char *part, int64_t t)
{
	struct kz_record_spec sp = { 0 };
	const char *why;
	json_t *rec;
	char *line;
	size_t len;
	sp.kind = KZ_REC_SURVEY_RUN;
	sp.time_observation = t;
	sp.time_source = t;
	sp.run_id = run;
	sp.run_part = part;
	sp.scanner_ip = kz_addr_from_v4(0xc6120001);
	assert_int_equal(kz_record_new(&sp, &rec, &why), 0);
	json_t *scope = json_array();
	json_array_append_new(scope, json_string("192.0.2.0/24"));
	assert_int_equal(json_object_set_new(rec, "extra.scope", scope), 0);
	json_t *ports = json_array();
	json_array_append_new(ports, json_string("23/telnet"));
	assert_int_equal(json_object_set_new(rec, "extra.ports", ports), 0);
	assert_int_equal(kz_record_set_str(rec, "extra.scope_digest", "d1"), 0);
	assert_int_equal(kz_jsonl_format(rec, &line, &len), 0);
	json_decref(rec);
	return line;
}

static char *state_of(struct fx *f, const char *ip)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT state FROM hub_findings WHERE ip = '%s'", ip);
	return q_text(f, sql);
}

static void expect_state(struct fx *f, const char *ip, const char *want)
{
	char *s = state_of(f, ip);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void post(struct fx *f, char *line, uint64_t acc, uint64_t dup)
{
	ingest(f, line, acc, dup, 0);
	free(line);
}

static void test_idempotent(void **state)
{
	struct fx *f = *state;
	int64_t t = (int64_t)time(NULL) - 60;
	char *a = survey_line("192.0.2.1", "run-1", "login-possible", t);
	char *b = survey_line("192.0.2.2", "run-1", "login-failed", t);
	char body[8192];
	snprintf(body, sizeof body, "%s%s", a, b);
	ingest(f, body, 2, 0, 0);
	long long obs = q_int(f, "SELECT count(*) FROM hub_observations");
	long long fnd = q_int(f, "SELECT count(*) FROM hub_findings");
	char *before =
	        q_text(f, "SELECT group_concat(state || count || updated) FROM hub_findings");
	ingest(f, body, 0, 2, 0);
	char *after = q_text(f, "SELECT group_concat(state || count || updated) FROM hub_findings");
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_observations"), obs);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_findings"), fnd);
	assert_string_equal(before, after);
	/* The record is stored exactly as received. */
	char *rec = q_text(f, "SELECT record FROM hub_observations ORDER BY id LIMIT 1");
	assert_int_equal(strncmp(rec, a, strlen(rec)), 0);
	assert_int_equal(strlen(rec) + 1, strlen(a));
	/* A ticket per finding. */
	char *ticket = q_text(f, "SELECT ticket FROM hub_findings ORDER BY id LIMIT 1");
	assert_int_equal(strlen(ticket), 17);
	assert_int_equal(ticket[8], '-');
	free(ticket);
	free(rec);
	free(before);
	free(after);
	free(a);
	free(b);
}

static void test_bad_lines(void **state)
{
	struct fx *f = *state;
	int64_t t = (int64_t)time(NULL) - 60;
	char *a = survey_line("192.0.2.3", "run-1", "login-possible", t);
	char *b = survey_line("192.0.2.4", "run-1", "login-possible", t);
	char body[8192];
	snprintf(body, sizeof body, "%s{not json\n%s{\"feed.name\":\"x\"}\n", a, b);
	struct kz_ingest_result r;
	char err[256];
	assert_int_equal(
	        kz_ingest_events(f->ing, body, strlen(body), NULL, NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.accepted, 2);
	assert_int_equal(r.rejected, 2);
	assert_int_equal(r.nerrors, 2);
	assert_int_equal(r.errors[0].line, 2);
	assert_non_null(strstr(r.errors[0].reason, "invalid JSON"));
	assert_int_equal(r.errors[1].line, 4);
	assert_non_null(strstr(r.errors[1].reason, "missing"));
	kz_ingest_result_clear(&r);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_findings"), 2);
	free(a);
	free(b);
}

static void test_foreign(void **state)
{
	struct fx *f = *state;
	const char *body =
	        "{\"feed.name\":\"shadowserver-telnet\",\"time.source\":"
	        "\"2026-11-27T16:19:54.250000+00:00\",\"classification.taxonomy\":"
	        "\"vulnerable\",\"classification.type\":\"vulnerable-system\","
	        "\"classification.identifier\":\"open-telnet\",\"source.ip\":"
	        "\"192.0.2.9\",\"protocol.application\":\"telnet\",\"source.asn\":64500}\n";
	ingest(f, body, 1, 0, 0);
	ingest(f, body, 0, 1, 0);
	char *fid = q_text(f, "SELECT finding_id FROM hub_findings");
	assert_string_equal(fid, "1c77c1d6244f56419a9c6d2a529dbf51");
	char *oid = q_text(f, "SELECT observation_id FROM hub_observations");
	assert_string_equal(oid, "679f25c433a8cab53e60355d7aed14f8");
	char *kind = q_text(f, "SELECT kind || ' ' || state || ' ' || asns FROM hub_findings");
	/* Active while within --inactive-after of its time.source (1795796394),
	 * inactive from the start after; its producer's AS kept without pfx2as. */
	bool recent = (int64_t)time(NULL) - 1795796394 <= KZ_INACTIVE_AFTER_DEFAULT;
	assert_string_equal(kind, recent ? "other active 64500" : "other inactive 64500");
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_finding_asns WHERE asn = 64500"), 1);
	/* The stored record carries the computed ids. */
	char *rec = q_text(f, "SELECT record FROM hub_observations");
	assert_non_null(strstr(rec, "1c77c1d6244f56419a9c6d2a529dbf51"));
	free(rec);
	free(kind);
	free(fid);
	free(oid);
}

/* CONTRACT.md's status table through records: new, remediated, reopened,
 * notified, persisting, unreachable after a covering run, gone after 3. */
static void test_survey_lifecycle(void **state)
{
	struct fx *f = *state;
	int64_t t = (int64_t)time(NULL) - 10 * 86400;
	const char *ip = "192.0.2.10";
	post(f, survey_line(ip, "r1", "login-possible", t), 1, 0);
	expect_state(f, ip, "new");
	post(f, survey_line(ip, "r2", "login-failed", t + 100), 1, 0);
	expect_state(f, ip, "remediated");
	post(f, survey_line(ip, "r3", "login-possible", t + 200), 1, 0);
	expect_state(f, ip, "reopened");
	char err[256];
	char *fid = q_text(f, "SELECT finding_id FROM hub_findings WHERE ip = '192.0.2.10'");
	const char *ids[] = { fid };
	size_t changed;
	assert_int_equal(kz_store_begin(f->s, err, sizeof err), 0);
	assert_int_equal(kz_findings_mark_notified(kz_store_db(f->s), ids, 1, "outbox", t + 250,
	                                           &changed, err, sizeof err),
	                 0);
	assert_int_equal(kz_store_commit(f->s, err, sizeof err), 0);
	assert_int_equal(changed, 1);
	expect_state(f, ip, "notified");
	post(f, survey_line(ip, "r4", "login-possible", t + 300), 1, 0);
	expect_state(f, ip, "persisting");
	/* An old run's late verdict does not undo the newer one. */
	post(f, survey_line(ip, "r0", "login-failed", t - 100), 1, 0);
	expect_state(f, ip, "persisting");
	/* A no-effect status keeps the state. */
	post(f, survey_line(ip, "r5", "timeout", t + 400), 1, 0);
	expect_state(f, ip, "persisting");

	/* Runs that cover 192.0.2.0/24 port 23 without reaching it. */
	for (int i = 0; i < 3; i++) {
		char run[16];
		snprintf(run, sizeof run, "cov-%d", i);
		post(f, run_line(run, "header", t + 1000 + i * 100), 1, 0);
		post(f, run_line(run, "trailer", t + 1050 + i * 100), 1, 0);
		expect_state(f, ip, i < 2 ? "unreachable" : "gone");
	}
	/* The trailer again: nothing happens twice. */
	post(f, run_line("cov-2", "trailer", t + 1250), 0, 1);
	assert_int_equal(q_int(f, "SELECT unreachable_runs FROM hub_findings WHERE ip = "
	                          "'192.0.2.10'"),
	                 3);
	/* Back, still weak: persisting again (never called fixed). */
	post(f, survey_line(ip, "r9", "login-possible", t + 2000), 1, 0);
	expect_state(f, ip, "persisting");
	/* A run that did reach it does not make it unreachable. */
	post(f, run_line("cov-9", "header", t + 1990), 1, 0);
	post(f, run_line("cov-9", "trailer", t + 2100), 1, 0);
	expect_state(f, ip, "persisting");
	/* Every state change is logged. */
	assert_true(q_int(f, "SELECT count(*) FROM hub_transitions") >= 8);

	/* Sightings: time, port, run. */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(kz_store_db(f->s),
	                                    "SELECT sightings FROM hub_findings WHERE ip = "
	                                    "'192.0.2.10'",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(
	        kz_sightings_count(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)),
	        7);
	sqlite3_finalize(st);

	/* Feedback from the operator of the finding's AS only. */
	uint32_t mine = 64496;
	int rc = kz_findings_feedback(kz_store_db(f->s), fid, KZ_FEEDBACK_FIXED, NULL, "op",
	                              "operator", &mine, 1, t, err, sizeof err);
	assert_int_equal(rc, -EACCES);
	assert_int_equal(kz_findings_feedback(kz_store_db(f->s), fid, KZ_FEEDBACK_FIXED, "done",
	                                      "admin", "admin", NULL, 0, t, err, sizeof err),
	                 0);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_feedback"), 1);
	assert_int_equal(kz_findings_feedback(kz_store_db(f->s), "00000000000000000000000000000000",
	                                      KZ_FEEDBACK_FIXED, NULL, "admin", "admin", NULL, 0, t,
	                                      err, sizeof err),
	                 -ENOENT);
	free(fid);
}

/* A run has one header and one trailer. A second one with another
 * observation id (forged, or broken) is refused with its line and reason
 * and does not replace the stored one, so a re-post of the same body
 * changes nothing; a run record without extra.run_part is refused. */
static void test_run_conflict(void **state)
{
	struct fx *f = *state;
	int64_t t = (int64_t)time(NULL) - 60;
	char *h = run_line("conflict-1", "header", t);
	char *other = strdup(h);
	char *oid = strstr(other, "\"extra.observation_id\":\"");
	assert_non_null(oid);
	memset(oid + strlen("\"extra.observation_id\":\""), 'f', 32);
	char body[8192];
	snprintf(body, sizeof body, "%s%s", h, other);
	struct kz_ingest_result r;
	char err[256];
	for (int round = 0; round < 2; round++) {
		assert_int_equal(kz_ingest_events(f->ing, body, strlen(body), NULL, NULL, &r, err,
		                                  sizeof err),
		                 0);
		assert_int_equal(r.accepted, round == 0 ? 1 : 0);
		assert_int_equal(r.duplicates, round == 0 ? 0 : 1);
		assert_int_equal(r.rejected, 1);
		assert_int_equal(r.nerrors, 1);
		assert_int_equal(r.errors[0].line, 2);
		assert_non_null(strstr(r.errors[0].reason,
		                       "extra.run_id conflict-1: the run already has a header with "
		                       "another extra.observation_id ("));
		kz_ingest_result_clear(&r);
	}
	char *kept =
	        q_text(f, "SELECT header_observation FROM hub_runs WHERE run_id = 'conflict-1'");
	assert_non_null(kept);
	assert_non_null(strstr(h, kept));
	free(kept);

	char *nopart = run_line("conflict-2", "trailer", t);
	char *p = strstr(nopart, "\"extra.run_part\":\"trailer\",");
	assert_non_null(p);
	memmove(p, p + strlen("\"extra.run_part\":\"trailer\","),
	        strlen(p + strlen("\"extra.run_part\":\"trailer\",")) + 1);
	assert_int_equal(
	        kz_ingest_events(f->ing, nopart, strlen(nopart), NULL, NULL, &r, err, sizeof err),
	        0);
	assert_int_equal(r.rejected, 1);
	assert_string_equal(r.errors[0].reason,
	                    "extra.run_part: missing (required in kizuki-survey records)");
	kz_ingest_result_clear(&r);
	free(nopart);
	free(other);
	free(h);
}

static void test_telescope_inactive(void **state)
{
	struct fx *f = *state;
	struct kz_record_spec sp = { 0 };
	const char *why;
	json_t *rec;
	char *line;
	size_t len;
	int64_t now = (int64_t)time(NULL);
	sp.kind = KZ_REC_INFECTED;
	sp.time_observation = now - 60;
	sp.time_source = now - 60;
	sp.sensor = "s1";
	sp.interval_start = now / 60 * 60 - 60;
	sp.addr = kz_addr_from_v4(0xc6336407);
	assert_int_equal(kz_record_new(&sp, &rec, &why), 0);
	assert_int_equal(kz_jsonl_format(rec, &line, &len), 0);
	json_decref(rec);
	post(f, line, 1, 0);
	expect_state(f, "198.51.100.7", "active");
	char err[256];
	size_t changed = 0;
	assert_int_equal(kz_store_begin(f->s, err, sizeof err), 0);
	assert_int_equal(
	        kz_findings_expire(kz_store_db(f->s), now, 3600, &changed, err, sizeof err), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(kz_findings_expire(kz_store_db(f->s), now + 8 * 86400,
	                                    KZ_INACTIVE_AFTER_DEFAULT, &changed, err, sizeof err),
	                 0);
	assert_int_equal(kz_store_commit(f->s, err, sizeof err), 0);
	assert_int_equal(changed, 1);
	expect_state(f, "198.51.100.7", "inactive");
}

/* Overwrites the 32 digits of an id field in a JSON line. */
static void set_id(char *line, const char *key, const char *id)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":\"", key);
	char *p = strstr(line, pat);
	assert_non_null(p);
	assert_int_equal(strlen(id), 32);
	memcpy(p + strlen(pat), id, 32);
}

/* Duplicates are found by the first 64 bits of the id and confirmed on the
 * whole id: two observations of one finding whose keys collide are both
 * stored, and each is a duplicate when posted again. */
static void test_observation_key_collision(void **state)
{
	struct fx *f = *state;
	int64_t t = (int64_t)time(NULL) - 60;
	char *a = survey_line("192.0.2.1", "run-1", "login-possible", t);
	char *b = survey_line("192.0.2.1", "run-2", "login-possible", t + 1);
	set_id(a, "extra.observation_id", "0123456789abcdef0000000000000001");
	set_id(b, "extra.observation_id", "0123456789abcdef0000000000000002");
	char body[8192];
	/* The first observation and its repeat in one body: the repeat finds
	 * the row the same transaction made. */
	snprintf(body, sizeof body, "%s%s", a, a);
	ingest(f, body, 1, 1, 0);
	ingest(f, b, 1, 0, 0);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_observations"), 2);
	assert_int_equal(q_int(f, "SELECT count(DISTINCT okey) FROM hub_observations"), 1);
	assert_int_equal(q_int(f, "SELECT count FROM hub_findings"), 2);
	snprintf(body, sizeof body, "%s%s%s", b, a, b);
	ingest(f, body, 0, 3, 0);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_observations"), 2);
	assert_int_equal(q_int(f, "SELECT count FROM hub_findings"), 2);
	assert_int_equal(kz_store_id_key("0123456789abcdef0000000000000001", 32),
	                 0x0123456789abcdefLL);
	/* Not an id of ours: still a stable key, from the whole text. */
	assert_int_equal(kz_store_id_key("x", 1), kz_store_id_key("x", 1));
	assert_true(kz_store_id_key("x", 1) != kz_store_id_key("y", 1));
	free(a);
	free(b);
}

/* The writer remembers finding row ids, but only as hints: after a rolled
 * back transaction gave a finding's row id to another finding, a record of
 * the first is not taken for the second. */
static void test_row_hint_after_rollback(void **state)
{
	struct fx *f = *state;
	char err[256];
	int64_t t = (int64_t)time(NULL) - 60;
	char *a = survey_line("192.0.2.1", "run-1", "login-possible", t);
	char *a2 = survey_line("192.0.2.1", "run-2", "login-possible", t + 1);
	char *b = survey_line("192.0.2.2", "run-1", "login-possible", t);
	struct kz_submitter who = { "test", false };
	struct kz_ingest_batch *batch = NULL;
	assert_int_equal(kz_ingest_prepare(a, strlen(a), NULL, &who, t, NULL, &batch), 0);
	assert_int_equal(kz_store_begin(f->s, err, sizeof err), 0);
	assert_int_equal(kz_ingest_store(f->ing, batch, t, err, sizeof err), 0);
	assert_int_equal(kz_ingest_batch_result(batch)->accepted, 1);
	long long row = q_int(f, "SELECT id FROM hub_findings WHERE ip = '192.0.2.1'");
	kz_store_rollback(f->s);
	kz_ingest_batch_free(batch);
	post(f, b, 1, 0);
	assert_int_equal(q_int(f, "SELECT id FROM hub_findings WHERE ip = '192.0.2.2'"), row);
	post(f, a2, 1, 0);
	assert_int_equal(q_int(f, "SELECT count FROM hub_findings WHERE ip = '192.0.2.2'"), 1);
	assert_int_equal(q_int(f, "SELECT count FROM hub_findings WHERE ip = '192.0.2.1'"), 1);
	post(f, a, 1, 0);
	assert_int_equal(q_int(f, "SELECT count FROM hub_findings WHERE ip = '192.0.2.1'"), 2);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_findings"), 2);
}

/* Stores one line in the open transaction, which the caller ends. */
static void store_open(struct fx *f, const char *line, int64_t t, uint64_t acc, uint64_t dup)
{
	char err[256];
	struct kz_submitter who = { "test", false };
	struct kz_ingest_batch *batch = NULL;
	assert_int_equal(kz_ingest_prepare(line, strlen(line), NULL, &who, t, NULL, &batch), 0);
	assert_int_equal(kz_ingest_store(f->ing, batch, t, err, sizeof err), 0);
	assert_int_equal(kz_ingest_batch_result(batch)->accepted, acc);
	assert_int_equal(kz_ingest_batch_result(batch)->duplicates, dup);
	kz_ingest_batch_free(batch);
}

/* The writer's memory of stored observations holds only committed ones: an
 * observation whose transaction rolled back is stored when it comes again,
 * a committed one is a duplicate (the same answer as the store's). */
static void test_seen_after_rollback(void **state)
{
	struct fx *f = *state;
	char err[256];
	int64_t t = (int64_t)time(NULL) - 60;
	char *a = survey_line("192.0.2.1", "run-1", "login-possible", t);
	assert_int_equal(kz_store_begin(f->s, err, sizeof err), 0);
	store_open(f, a, t, 1, 0);
	kz_store_rollback(f->s);
	kz_ingest_rolled_back(f->ing);
	assert_int_equal(kz_store_begin(f->s, err, sizeof err), 0);
	store_open(f, a, t, 1, 0);
	/* The same line twice in one transaction: the second is the store's
	 * duplicate, not the memory's. */
	store_open(f, a, t, 0, 1);
	assert_int_equal(kz_store_commit(f->s, err, sizeof err), 0);
	kz_ingest_committed(f->ing);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_observations"), 1);
	assert_int_equal(kz_store_begin(f->s, err, sizeof err), 0);
	store_open(f, a, t, 0, 1);
	kz_store_rollback(f->s);
	kz_ingest_rolled_back(f->ing);
	post(f, a, 0, 1);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_observations"), 1);
	assert_int_equal(q_int(f, "SELECT count FROM hub_findings"), 1);
}

/* Deleted observations (retention) are stored again when re-posted, once
 * the writer is told to forget: until then its memory answers for them. */
static void test_seen_forget(void **state)
{
	struct fx *f = *state;
	char err[256];
	int64_t t = (int64_t)time(NULL) - 60;
	char *a = survey_line("192.0.2.1", "run-1", "login-possible", t);
	char *b = survey_line("192.0.2.1", "run-2", "login-possible", t + 60);
	char body[8192];
	snprintf(body, sizeof body, "%s%s", a, b);
	ingest(f, body, 2, 0, 0);
	ingest(f, body, 0, 2, 0);
	assert_int_equal(kz_store_exec(f->s, "DELETE FROM hub_observations", err, sizeof err), 0);
	ingest(f, body, 0, 2, 0); /* from memory: the store was changed behind its back */
	kz_ingest_forget(f->ing);
	ingest(f, body, 2, 0, 0);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_observations"), 2);
	free(a);
	free(b);
}

/* The ip of every finding on an AS page with a state filter, joined by
 * spaces in page order. */
static void page_ips(struct fx *f, uint32_t asn, const char *st, char *out, size_t len)
{
	struct kz_findings_query q = { .asns = &asn, .nasns = 1, .state = st, .since = INT64_MIN };
	char err[256];
	json_t *page = NULL;
	assert_int_equal(kz_findings_page(kz_store_db(f->s), &q, &page, err, sizeof err), 0);
	out[0] = '\0';
	json_t *list = json_object_get(page, "findings"), *v;
	size_t i;
	json_array_foreach(list, i, v)
	{
		size_t n = strlen(out);
		snprintf(out + n, len - n, "%s%s", n ? " " : "",
		         json_string_value(json_object_get(v, "ip")));
	}
	json_decref(page);
}

/* Operators' pages filtered by state, and the state copy on the AS links
 * that serves them following every change (ingest, notification). */
static void test_state_page(void **state)
{
	struct fx *f = *state;
	int64_t t = (int64_t)time(NULL) - 600;
	char buf[256], err[256];
	post(f, survey_line_as("192.0.2.1", "run-1", "login-possible", t, 64496), 1, 0);
	post(f, survey_line_as("192.0.2.2", "run-1", "login-failed", t, 64496), 1, 0);
	post(f, survey_line_as("192.0.2.3", "run-1", "login-possible", t, 64496), 1, 0);
	post(f, survey_line_as("192.0.2.4", "run-1", "login-possible", t, 64497), 1, 0);
	post(f, survey_line_as("192.0.2.1", "run-2", "login-failed", t + 60, 64496), 1, 0);
	char *fid = q_text(f, "SELECT finding_id FROM hub_findings WHERE ip = '192.0.2.3'");
	const char *ids[] = { fid };
	size_t changed = 0;
	assert_int_equal(kz_findings_mark_notified(kz_store_db(f->s), ids, 1, "test", t + 120,
	                                           &changed, err, sizeof err),
	                 0);
	assert_int_equal(changed, 1);
	free(fid);
	expect_state(f, "192.0.2.1", "remediated");
	expect_state(f, "192.0.2.3", "notified");
	page_ips(f, 64496, "remediated", buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.1");
	page_ips(f, 64496, "new", buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.2");
	page_ips(f, 64496, "notified", buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.3");
	page_ips(f, 64496, NULL, buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.3 192.0.2.2 192.0.2.1");
	page_ips(f, 64497, "new", buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.4");
	page_ips(f, 64497, "remediated", buf, sizeof buf);
	assert_string_equal(buf, "");
	/* A finding that moves to another AS takes its state along. */
	post(f, survey_line_as("192.0.2.2", "run-3", "login-possible", t + 180, 64497), 1, 0);
	page_ips(f, 64497, "new", buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.4 192.0.2.2");
	page_ips(f, 64496, "new", buf, sizeof buf);
	assert_string_equal(buf, "");
	/* Moving and changing state with one record: linked under the old
	 * state, then the trigger follows the change. */
	post(f, survey_line_as("192.0.2.1", "run-3", "login-possible", t + 180, 64497), 1, 0);
	expect_state(f, "192.0.2.1", "reopened");
	page_ips(f, 64497, "reopened", buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.1");
	page_ips(f, 64496, NULL, buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.3");
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_finding_asns a JOIN hub_findings f"
	                          " ON f.id = a.finding WHERE a.state IS NOT f.state"),
	                 0);
	assert_int_equal(q_int(f, "SELECT count(*) FROM hub_finding_asns"), 4);
}

/* A store written at schema version 4 (observation ids unique in one
 * global index, no state on AS links) upgrades in place to version 5: rows
 * keep their ids, get their keys and states, version 4's index on the
 * table survives the rebuild, and re-posting an observation stored before
 * the upgrade is a duplicate. */
static void test_upgrade_from_v4(void **state)
{
	(void)state;
	struct fx f = { 0 };
	char err[256];
	size_t n;
	const struct kz_migration *list = kz_store_migration_list(&n);
	assert_true(n >= 5);
	snprintf(f.dir, sizeof f.dir, "/tmp/kz-ingest-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof f.path, "%s/hub.db", f.dir);
	assert_int_equal(
	        kz_store_open_with(f.path, KZ_STORE_CREATE, list, 4, &f.s, err, sizeof err), 0);
	int64_t t = (int64_t)time(NULL) - 600;
	char *line = survey_line_as("192.0.2.9", "run-1", "login-possible", t, 64496);
	json_error_t je;
	json_t *rec = json_loads(line, 0, &je);
	assert_non_null(rec);
	const char *fid = json_string_value(json_object_get(rec, "extra.finding_id"));
	const char *oid = json_string_value(json_object_get(rec, "extra.observation_id"));
	sqlite3 *db = kz_store_db(f.s);
	sqlite3_stmt *st;
	assert_int_equal(
	        sqlite3_prepare_v2(
	                db,
	                "INSERT INTO hub_findings(id, finding_id, kind, feed, taxonomy, type,"
	                " identifier, ip, port, asns, first_seen, last_seen, count, state,"
	                " state_since, base_state, weak, ticket, tlp, last_observation, updated)"
	                " VALUES (5, ?1, 'survey', 'kizuki-survey', 'vulnerable',"
	                " 'vulnerable-system', 'weak-credentials', '192.0.2.9', 23, '64496', ?3, "
	                "?3,"
	                " 1, 'new', ?3, 'new', 1, '20260101-AAAAAAAA', 3, 7, ?3)",
	                -1, &st, NULL),
	        SQLITE_OK);
	sqlite3_bind_text(st, 1, fid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(
	        sqlite3_prepare_v2(db,
	                           "INSERT INTO hub_observations(id, observation_id, finding,"
	                           " time_source, received, port, origin, asns, tlp,"
	                           " submitter, record) VALUES (7, ?1, 5, ?2, ?2, 23,"
	                           " 'run-1', '64496', 3, 'test', ?3)",
	                           -1, &st, NULL),
	        SQLITE_OK);
	sqlite3_bind_text(st, 1, oid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, t);
	sqlite3_bind_text(st, 3, line, (int)strlen(line) - 1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(
	        kz_store_exec(f.s, "INSERT INTO hub_finding_asns(asn, finding) VALUES (64496, 5);",
	                      err, sizeof err),
	        0);
	kz_store_close(f.s);

	assert_int_equal(kz_store_open(f.path, 0, &f.s, err, sizeof err), 0);
	assert_int_equal(kz_store_version(f.s), kz_store_latest_version());
	assert_int_equal(kz_ingest_open(f.s, NULL, &f.ing, err, sizeof err), 0);
	assert_int_equal(q_int(&f, "SELECT id FROM hub_observations"), 7);
	assert_int_equal(q_int(&f, "SELECT okey FROM hub_observations"),
	                 kz_store_id_key(oid, strlen(oid)));
	assert_int_equal(q_int(&f, "SELECT count(*) FROM sqlite_master WHERE name IN"
	                           " ('hub_observations_anonymous', 'hub_observations_key',"
	                           " 'hub_finding_asns_state')"),
	                 3);
	char *s = q_text(&f, "SELECT state FROM hub_finding_asns");
	assert_string_equal(s, "new");
	free(s);
	ingest(&f, line, 0, 1, 0);
	post(&f, survey_line_as("192.0.2.9", "run-2", "login-possible", t + 60, 64496), 1, 0);
	assert_int_equal(q_int(&f, "SELECT count FROM hub_findings"), 2);
	assert_int_equal(q_int(&f, "SELECT count(*) FROM hub_observations WHERE finding = 5"), 2);
	json_decref(rec);
	free(line);
	struct fx *fp = malloc(sizeof *fp);
	*fp = f;
	void *arg = fp;
	assert_int_equal(teardown(&arg), 0);
}

static void test_cursor(void **state)
{
	(void)state;
	char c[KZ_CURSOR_STRLEN];
	uint32_t asn;
	int64_t id;
	kz_cursor_encode(4200000000u, 123456789012345, c);
	assert_int_equal(strlen(c), 20);
	assert_int_equal(kz_cursor_decode(c, &asn, &id), 0);
	assert_int_equal(asn, 4200000000u);
	assert_int_equal(id, 123456789012345);
	assert_int_equal(kz_cursor_decode("", &asn, &id), -EINVAL);
	assert_int_equal(kz_cursor_decode("AAAAAAAAAAAAAAAAAAAA", &asn, &id), -EINVAL);
	c[0] = c[0] == 'B' ? 'C' : 'B';
	assert_int_equal(kz_cursor_decode(c, &asn, &id), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_survey_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_telescope_inactive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observation_key_collision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_hint_after_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_after_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_forget, setup, teardown),
		cmocka_unit_test(test_upgrade_from_v4),
		cmocka_unit_test_setup_teardown(test_run_conflict, setup, teardown),
		cmocka_unit_test(test_cursor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
