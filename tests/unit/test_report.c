/*
 * Operator reports and notification on a real store in a temporary
 * directory: RFC 4180 quoting and the formula guard on network bytes, JSON
 * escaping, one operator's report holding no other operator's finding,
 * passwords and their redaction, X-ARF's shape, the reporter option, the
 * severity rules, and a notification batch into an outbox with marking and
 * re-notification (the SMTP path is the integration test's, with a sink).
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "encode.h"
#include "findings.h"
#include "ingest.h"
#include "jsonl.h"
#include "notify.h"
#include "record.h"
#include "report.h"
#include "store.h"
#include "uuid.h"

#define T0 INT64_C(1795800000) /* 2026-11-27T17:20:00Z */

static const char banner[] = "\r\n=HYPERLINK(\"x\"),a\0\001b";

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
	snprintf(f->dir, sizeof f->dir, "/tmp/kz-report-XXXXXX");
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

/* A survey record of ip:23 in AS asn, with a login (when pw) and a banner. */
static char *survey_login(const char *ip, uint32_t asn, const char *status, const char *user,
                          const char *pw)
{
	struct kz_record_spec sp = { 0 };
	const char *why;
	json_t *rec;
	char *line;
	size_t len;
	sp.kind = strcmp(status, "login-possible") == 0 ? KZ_REC_WEAK_CREDENTIALS
	          : strcmp(status, "timeout") == 0      ? KZ_REC_SURVEY_ERROR
	                                                : KZ_REC_ACCESSIBLE;
	sp.time_observation = T0;
	sp.time_source = T0;
	sp.run_id = "run-1";
	sp.scanner_ip = kz_addr_from_v4(0xc6120001);
	assert_int_equal(kz_addr_parse(ip, &sp.addr, &why), 0);
	sp.port = 23;
	sp.application = "telnet";
	assert_int_equal(kz_record_new(&sp, &rec, &why), 0);
	assert_int_equal(kz_record_set_str(rec, "extra.status", status), 0);
	assert_int_equal(kz_record_set_int(rec, "source.asn", asn), 0);
	assert_int_equal(kz_record_set_banner(rec, banner, sizeof banner - 1), 0);
	if (pw) {
		assert_int_equal(kz_record_set_str(rec, "extra.user", user), 0);
		assert_int_equal(kz_record_set_str(rec, "extra.password", pw), 0);
	}
	assert_int_equal(kz_jsonl_format(rec, &line, &len), 0);
	json_decref(rec);
	return line;
}

/* The same with the user root. */
static char *survey(const char *ip, uint32_t asn, const char *status, const char *pw)
{
	return survey_login(ip, asn, status, "root", pw);
}

static void ingest(struct fx *f, char *line)
{
	struct kz_ingest_result r;
	char err[256];
	struct kz_submitter who = { "test", false };
	assert_int_equal(
	        kz_ingest_events(f->ing, line, strlen(line), NULL, &who, &r, err, sizeof err), 0);
	assert_int_equal(r.accepted, 1);
	kz_ingest_result_clear(&r);
	free(line);
}

static void load(struct fx *f)
{
	ingest(f, survey("192.0.2.1", 64500, "login-possible", "s3cret-A"));
	ingest(f, survey("192.0.2.2", 64500, "timeout", NULL));
	ingest(f, survey("198.51.100.9", 64501, "login-possible", "s3cret-B"));
}

/* The report as a string (caller frees), by org (NULL: the default). */
static char *report_by(struct fx *f, uint32_t asn, enum kz_report_format fmt, bool redact,
                       const struct kz_org *org, size_t *count)
{
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct kz_report_opts o = {
		.asn = asn,
		.format = fmt,
		.since = INT64_MIN,
		.now = T0 + 60,
		.redact_passwords = redact,
		.org = org,
	};
	assert_non_null(m);
	if (kz_report_write(kz_store_db(f->s), &o, m, NULL, count, err, sizeof err) != 0)
		fail_msg("report: %s", err);
	fclose(m);
	return buf;
}

static char *report(struct fx *f, uint32_t asn, enum kz_report_format fmt, bool redact,
                    size_t *count)
{
	return report_by(f, asn, fmt, redact, NULL, count);
}

static void test_csv(void **state)
{
	struct fx *f = *state;
	size_t n;
	load(f);
	char *csv = report(f, 64500, KZ_REPORT_CSV, false, &n);
	assert_int_equal(n, 2);
	const char *header = "timestamp,ip,protocol,port,hostname,tag,asn,geo,region,city,"
	                     "severity,device_vendor,device_type,device_model,banner,first_seen,"
	                     "last_seen,count,state,ticket\r\n";
	assert_memory_equal(csv, header, strlen(header));
	/* Quoted (comma, quote, CRLF inside), quotes doubled, a formula
	 * after the leading blanks defused, NUL and U+0001 shown as U+FFFD. */
	assert_non_null(strstr(csv, ",\"'\r\n=HYPERLINK(\"\"x\"\"),a\xef\xbf\xbd\xef\xbf\xbd"
	                            "b\","));
	assert_non_null(strstr(csv, "2026-11-27T17:20:00Z,192.0.2.1,tcp,23,,weak-credentials,"
	                            "64500,,,,high,"));
	assert_non_null(strstr(csv, ",192.0.2.2,tcp,23,,survey-error,64500,,,,info,"));
	assert_null(strstr(csv, "198.51.100.9"));
	assert_null(strstr(csv, "s3cret")); /* no password column */
	free(csv);
	csv = report(f, 64501, KZ_REPORT_CSV, false, &n);
	assert_int_equal(n, 1);
	assert_null(strstr(csv, "192.0.2."));
	free(csv);
	csv = report(f, 64999, KZ_REPORT_CSV, false, &n);
	assert_int_equal(n, 0);
	assert_string_equal(csv, header);
	free(csv);
}

static void test_json(void **state)
{
	struct fx *f = *state;
	size_t n;
	load(f);
	char *js = report(f, 64500, KZ_REPORT_JSON, false, &n);
	json_error_t je;
	json_t *doc = json_loads(js, JSON_ALLOW_NUL, &je);
	if (!doc)
		fail_msg("not JSON: %s: %s", je.text, js);
	assert_int_equal(json_integer_value(json_object_get(doc, "count")), 2);
	json_t *first = json_array_get(json_object_get(doc, "findings"), 0);
	json_t *b = json_object_get(first, "banner");
	assert_int_equal(json_string_length(b), sizeof banner - 1);
	assert_memory_equal(json_string_value(b), banner, sizeof banner - 1);
	assert_string_equal(json_string_value(json_object_get(first, "password")), "s3cret-A");
	assert_string_equal(json_string_value(json_object_get(first, "ticket")),
	                    json_string_value(json_object_get(first, "ticket")));
	assert_int_equal(json_array_size(json_object_get(first, "sightings")), 1);
	assert_non_null(strstr(js, "\\u0000\\u0001b"));
	assert_null(strstr(js, "198.51.100.9"));
	json_decref(doc);
	free(js);
	js = report(f, 64500, KZ_REPORT_JSON, true, &n);
	assert_null(strstr(js, "s3cret"));
	assert_non_null(strstr(js, "\"password_redacted\":true"));
	free(js);
}

static void test_xarf(void **state)
{
	struct fx *f = *state;
	size_t n;
	load(f);
	char *x = report(f, 64501, KZ_REPORT_XARF, false, &n);
	json_error_t je;
	json_t *a = json_loads(x, 0, &je);
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 1);
	json_t *r = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(r, "xarf_version")), "4.0.0");
	assert_true(kz_uuid_valid(json_string_value(json_object_get(r, "report_id"))));
	assert_string_equal(json_string_value(json_object_get(r, "source_identifier")),
	                    "198.51.100.9");
	assert_int_equal(json_integer_value(json_object_get(r, "source_port")), 23);
	assert_string_equal(json_string_value(json_object_get(r, "category")), "vulnerability");
	assert_string_equal(json_string_value(json_object_get(r, "type")), "misconfiguration");
	assert_string_equal(json_string_value(json_object_get(r, "service")), "telnet");
	json_t *rep = json_object_get(r, "reporter");
	assert_string_equal(json_string_value(json_object_get(rep, "contact")),
	                    "abuse@kizuki.invalid");
	json_t *ev = json_array_get(json_object_get(r, "evidence"), 0);
	char b64[64];
	kz_base64_encode((const uint8_t *)banner, sizeof banner - 1, b64);
	assert_string_equal(json_string_value(json_object_get(ev, "payload")), b64);
	assert_int_equal(json_integer_value(json_object_get(ev, "size")), sizeof banner - 1);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(r, "credentials"), "password")),
	        "s3cret-B");
	/* The same finding gives the same report id on every run. */
	char *again = report(f, 64501, KZ_REPORT_XARF, false, &n);
	json_t *a2 = json_loads(again, 0, &je);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a2, 0), "report_id")),
	                    json_string_value(json_object_get(r, "report_id")));
	json_decref(a2);
	free(again);
	json_decref(a);
	free(x);
}

/* Each X-ARF report is exactly what jansson's json_dumps(JSON_COMPACT)
 * writes for it (X-ARF used to be written that way, and the writer must
 * not change a published byte): one report a line between "[" and "]". */
static void assert_jansson_bytes(const char *x, size_t want)
{
	size_t reports = 0;
	const char *end = x + strlen(x);
	assert_memory_equal(x, "[\n", 2);
	assert_string_equal(end - 2, "]\n");
	for (const char *p = x + 2; p < end - 2;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		size_t len = (size_t)(nl - p);
		if (len && p[len - 1] == ',')
			len--;
		json_error_t je;
		json_t *r = json_loadb(p, len, JSON_ALLOW_NUL, &je);
		if (!r)
			fail_msg("not JSON: %s: %.*s", je.text, (int)len, p);
		char *again = json_dumps(r, JSON_COMPACT);
		assert_non_null(again);
		if (strlen(again) != len || memcmp(again, p, len) != 0)
			fail_msg("not jansson's bytes:\n%.*s\n%s", (int)len, p, again);
		free(again);
		json_decref(r);
		reports++;
		p = nl + 1;
	}
	assert_int_equal(reports, want);
}

static void test_xarf_bytes(void **state)
{
	struct fx *f = *state;
	size_t n;
	/* Every control character jansson writes its own way, DEL and '/'
	 * (written as they are), non-ASCII, quote and backslash. */
	ingest(f, survey_login("192.0.2.1", 64500, "login-possible",
	                       "ro\bot\f\x01\x1f\x7f/\xc3\xa9", "p\"w\\d\xe2\x80\xa8\t\n\r"));
	ingest(f, survey("192.0.2.2", 64500, "timeout", NULL));
	ingest(f, survey("192.0.2.3", 64500, "login-possible", "s3cret-C"));
	struct kz_org org;
	const char *why;
	assert_int_equal(kz_org_parse("CSIRT \xc3\xa9 \"q\" \\ <csirt@example.org>", &org, &why),
	                 0);
	for (int redact = 0; redact < 2; redact++) {
		char *x = report_by(f, 64500, KZ_REPORT_XARF, redact, &org, &n);
		assert_int_equal(n, 3);
		assert_jansson_bytes(x, 3);
		assert_non_null(strstr(x, "\"user\":\"ro\\bot\\f\\u0001\\u001F\x7f/\xc3\xa9\""));
		assert_non_null(strstr(x, "\"org\":\"CSIRT \xc3\xa9 \\\"q\\\" \\\\\""));
		if (redact) {
			assert_null(strstr(x, "s3cret"));
			assert_non_null(strstr(x, "\"password_redacted\":true"));
		} else {
			assert_non_null(
			        strstr(x, "\"password\":\"p\\\"w\\\\d\xe2\x80\xa8\\t\\n\\r\""));
		}
		free(x);
		x = report_by(f, 64999, KZ_REPORT_XARF, redact, &org, &n);
		assert_int_equal(n, 0);
		assert_string_equal(x, "[\n]\n");
		free(x);
	}
	/* The JSON report keeps its own escapes (lower case, \u0008, \u000c). */
	char *js = report(f, 64500, KZ_REPORT_JSON, false, &n);
	assert_non_null(strstr(js, "\"user\":\"ro\\u0008ot\\u000c\\u0001\\u001f\x7f/\xc3\xa9\""));
	free(js);
}

static void test_org(void **state)
{
	(void)state;
	struct kz_org o;
	const char *why;
	assert_int_equal(kz_org_parse("Example CSIRT <csirt@example.org>", &o, &why), 0);
	assert_string_equal(o.name, "Example CSIRT");
	assert_string_equal(o.contact, "csirt@example.org");
	assert_string_equal(o.domain, "example.org");
	assert_int_equal(kz_org_parse("abuse@isp.example", &o, &why), 0);
	assert_string_equal(o.name, "isp.example");
	static const char *const bad[] = {
		"Name <nope>",         "Name <a@b@c.example>",   "Name <a b@c.example>",
		"Name <a@-x.example>", "Name <a@b.example",      "Name <@b.example>",
		"Name <a@>",           "Na\x01me <a@b.example>",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (kz_org_parse(bad[i], &o, &why) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	kz_org_default(&o);
	assert_string_equal(o.domain, "kizuki.invalid");
}

static void test_severity(void **state)
{
	(void)state;
	struct kz_frow r = {
		.kind = "survey", .identifier = "weak-credentials", .taxonomy = "", .state = "new"
	};
	assert_int_equal(kz_frow_severity(&r), KZ_SEV_HIGH);
	assert_true(kz_frow_notifiable(&r));
	r.identifier = "accessible-telnet";
	assert_int_equal(kz_frow_severity(&r), KZ_SEV_MEDIUM);
	r.identifier = "survey-error";
	assert_int_equal(kz_frow_severity(&r), KZ_SEV_INFO);
	assert_false(kz_frow_notifiable(&r));
	r.kind = "infected";
	assert_int_equal(kz_frow_severity(&r), KZ_SEV_CRITICAL);
	r.state = "remediated";
	assert_false(kz_frow_notifiable(&r));
	r.state = "active";
	assert_true(kz_frow_notifiable(&r));
	r.kind = "other";
	r.taxonomy = "information-gathering";
	assert_int_equal(kz_frow_severity(&r), KZ_SEV_LOW);
	assert_string_equal(kz_severity_name(KZ_SEV_CRITICAL), "critical");
}

/* The notifier's mark, as the hub does it but in one transaction here. */
static int mark(void *arg, const struct kz_idlist *ids, const char *channel, int64_t at, char *err,
                size_t errlen)
{
	struct fx *f = arg;
	const char **v = calloc(ids->n, sizeof *v);
	for (size_t i = 0; i < ids->n; i++)
		v[i] = ids->ids[i];
	int rc = kz_store_begin(f->s, err, errlen);
	if (rc == 0)
		rc = kz_findings_mark_notified(kz_store_db(f->s), v, ids->n, channel, at, NULL, err,
		                               errlen);
	if (rc == 0)
		rc = kz_store_commit(f->s, err, errlen);
	else
		kz_store_rollback(f->s);
	free(v);
	return rc;
}

static bool exists(const char *dir, const char *sub, const char *name)
{
	char p[256];
	struct stat sb;
	snprintf(p, sizeof p, "%s/%s/%s", dir, sub, name);
	return stat(p, &sb) == 0;
}

static void test_notify_outbox(void **state)
{
	struct fx *f = *state;
	char err[256], outbox[128];
	load(f);
	char *e = NULL;
	assert_int_equal(kz_store_exec(f->s,
	                               "INSERT INTO hub_operators VALUES"
	                               " (64500, 'ISP A', 'abuse@isp-a.example', 3600),"
	                               " (64501, 'ISP B', 'abuse@isp-b.example', NULL)",
	                               err, sizeof err),
	                 0);
	(void)e;
	snprintf(outbox, sizeof outbox, "%s/outbox", f->dir);
	struct kz_notify_config cfg = { .outbox = outbox, .period = 3600 };
	struct kz_notify_result res;
	sqlite3 *db = kz_store_db(f->s);
	int64_t p0 = kz_notify_period_start(T0 + 60, 3600);
	assert_int_equal(p0, T0 - T0 % 3600);
	assert_int_equal(kz_notify_run(db, &cfg, p0, T0 + 60, mark, f, &res, err, sizeof err), 0);
	assert_int_equal(res.operators, 2);
	assert_int_equal(res.delivered, 2);
	assert_int_equal(res.findings, 2); /* the survey error (info) is not sent */
	assert_true(exists(outbox, "20261127T170000Z", "AS64500.csv"));
	assert_true(exists(outbox, "20261127T170000Z", "AS64500.xarf.json"));
	assert_true(exists(outbox, "20261127T170000Z", "AS64501.json"));
	assert_true(exists(outbox, "20261127T170000Z", "manifest.json"));
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT ip, state, notified_channel FROM hub_findings"
	                                    " ORDER BY ip",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *ip = (const char *)sqlite3_column_text(st, 0);
		const char *s = (const char *)sqlite3_column_text(st, 1);
		if (strcmp(ip, "192.0.2.2") == 0)
			assert_string_equal(s, "new");
		else
			assert_string_equal(s, "notified");
		rows++;
	}
	sqlite3_finalize(st);
	assert_int_equal(rows, 3);
	/* The next period: nothing is due yet. */
	assert_int_equal(
	        kz_notify_run(db, &cfg, p0 + 3600, T0 + 3000, mark, f, &res, err, sizeof err), 0);
	assert_int_equal(res.operators, 0);
	assert_false(exists(outbox, "20261127T180000Z", "manifest.json"));
	/* After ISP A's hour, only ISP A's open finding comes again. */
	assert_int_equal(
	        kz_notify_run(db, &cfg, p0 + 7200, T0 + 3700, mark, f, &res, err, sizeof err), 0);
	assert_int_equal(res.operators, 1);
	assert_true(exists(outbox, "20261127T190000Z", "AS64500.csv"));
	assert_false(exists(outbox, "20261127T190000Z", "AS64501.csv"));
}

static void test_mail(void **state)
{
	(void)state;
	struct kz_org from;
	const char *why;
	assert_int_equal(kz_org_parse("Example CSIRT <csirt@example.org>", &from, &why), 0);
	struct kz_report_operator op = { .asn = 64500, .renotify_sec = -1 };
	snprintf(op.name, sizeof op.name, "ISP Å");
	snprintf(op.contact, sizeof op.contact, "abuse@isp-a.example");
	const char csv[] = "timestamp,ip\r\n2026-11-27T17:20:00Z,192.0.2.1\r\n";
	char *mail;
	size_t len;
	assert_int_equal(kz_notify_mail(&from, &op, T0 - T0 % 3600, T0, 1, csv, sizeof csv - 1,
	                                NULL, &mail, &len),
	                 0);
	assert_non_null(strstr(mail, "From: \"Example CSIRT\" <csirt@example.org>\r\n"));
	assert_non_null(strstr(mail, "To: =?UTF-8?B?SVNQIMOF?= <abuse@isp-a.example>\r\n"));
	assert_non_null(strstr(mail, "Date: Fri, 27 Nov 2026 17:20:00 +0000\r\n"));
	assert_non_null(strstr(mail, "Content-Type: multipart/mixed; boundary="));
	assert_non_null(strstr(mail, "filename=\"AS64500-20261127T170000Z.csv\""));
	char b64[128];
	kz_base64_encode((const uint8_t *)csv, sizeof csv - 1, b64);
	assert_non_null(strstr(mail, b64));
	/* No bare LF: every line ends CRLF. */
	for (size_t i = 0; i < len; i++)
		if (mail[i] == '\n' && (i == 0 || mail[i - 1] != '\r'))
			fail_msg("bare LF at %zu", i);
	free(mail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xarf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xarf_bytes, setup, teardown),
		cmocka_unit_test(test_org),
		cmocka_unit_test(test_severity),
		cmocka_unit_test_setup_teardown(test_notify_outbox, setup, teardown),
		cmocka_unit_test(test_mail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
