/*
 * Stage-2 records against CONTRACT.md's survey status table: every status
 * gives its classification triple and extra.status, the pair or (redacted)
 * its 1-based index, the evidence NOTICE keeps (scanner address, device,
 * time of the decisive observation), banners with truncation, the record
 * validator's approval, unchecked ports as "open", and the device guess.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "creds.h"
#include "device_guess.h"
#include "login_record.h"

static struct kz_creds *creds;

static int setup(void **state)
{
	(void)state;
	const char *const lines[] = {
		"# list", "root:xc3511",   "", "admin:admin", "admin:admin::dahua",
		":1234",  "admin:p\xffss",
	};
	return kz_creds_load_strings("test", lines, 7, &creds);
}

static int teardown(void **state)
{
	(void)state;
	kz_creds_free(creds);
	return 0;
}

static const char *str(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);
	return v ? json_string_value(v) : NULL;
}

static struct kz_login_target tgt = { .port = 2323, .app = KZ_LOGIN_APP_TELNET };

static json_t *build(const struct kz_login_outcome *o, bool redact, bool has_local)
{
	tgt.addr = kz_addr_from_v4(0xc0000201);
	struct kz_login_report r = {
		.target = &tgt,
		.application = "telnet",
		.outcome = o,
		.unsupported = o == NULL,
		.started = 1764264000000,
		.decided = 1764264012345,
		.has_local = has_local,
		.local = kz_addr_from_v4(0xc6120001),
		.local_port = 40000,
	};
	struct kz_login_record_info info = {
		.run_id = "run-1",
		.scanner_ip = kz_addr_from_v4(0xcb007101),
		.creds = creds,
		.redact = redact,
		.time_observation = 1764264100,
	};
	json_t *rec = NULL;
	const char *why = NULL;
	int rc = kz_login_record_build(&r, &info, &rec, &why);
	if (rc)
		fail_msg("build: %s", why ? why : "?");
	char vwhy[KZ_RECORD_WHY_MAX];
	if (kz_record_validate(rec, vwhy, sizeof vwhy) != 0)
		fail_msg("validate: %s", vwhy);
	return rec;
}

static void statuses(void **state)
{
	(void)state;
	static const struct {
		enum kz_login_status st;
		const char *status, *taxonomy, *type, *identifier;
	} table[] = {
		{ KZ_LOGIN_POSSIBLE, "login-possible", "vulnerable", "vulnerable-system",
		  "weak-credentials" },
		{ KZ_LOGIN_NO_AUTH, "no-auth", "vulnerable", "vulnerable-system", "no-auth" },
		{ KZ_LOGIN_FAILED, "login-failed", "vulnerable", "potentially-unwanted-accessible",
		  "accessible-telnet" },
		{ KZ_LOGIN_NO_PROMPT, "no-login-prompt", "vulnerable",
		  "potentially-unwanted-accessible", "accessible-telnet" },
		{ KZ_LOGIN_ACCEPTS_ANY, "accepts-any", "other", "undetermined", "accepts-any" },
		{ KZ_LOGIN_OTHER_PROTOCOL, "not-telnet", "other", "undetermined",
		  "other-protocol" },
		{ KZ_LOGIN_TIMEOUT, "timeout", "other", "undetermined", "survey-error" },
		{ KZ_LOGIN_ERROR, "error", "other", "undetermined", "survey-error" },
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		struct kz_login_outcome o = { .status = table[i].st,
			                      .pair = table[i].st == KZ_LOGIN_POSSIBLE ? 1 : -1,
			                      .password_asked = true,
			                      .attempts = 2,
			                      .connections = 3,
			                      .reason = "because" };
		json_t *rec = build(&o, false, true);
		assert_string_equal(str(rec, "extra.status"), table[i].status);
		assert_string_equal(str(rec, "classification.taxonomy"), table[i].taxonomy);
		assert_string_equal(str(rec, "classification.type"), table[i].type);
		assert_string_equal(str(rec, "classification.identifier"), table[i].identifier);
		assert_string_equal(str(rec, "feed.name"), "kizuki-survey");
		assert_string_equal(str(rec, "source.ip"), "192.0.2.1");
		assert_int_equal(json_integer_value(json_object_get(rec, "source.port")), 2323);
		assert_string_equal(str(rec, "protocol.application"), "telnet");
		/* The evidence: our address on the connection, the decisive time. */
		assert_string_equal(str(rec, "extra.scanner_ip"), "198.18.0.1");
		assert_string_equal(str(rec, "time.source"), "2025-11-27T17:20:12Z");
		assert_string_equal(str(rec, "extra.run_id"), "run-1");
		assert_int_equal(json_integer_value(json_object_get(rec, "extra.attempts")), 2);
		assert_int_equal(json_integer_value(json_object_get(rec, "extra.connections")), 3);
		assert_string_equal(str(rec, "extra.reason"), "because");
		bool possible = table[i].st == KZ_LOGIN_POSSIBLE;
		assert_int_equal(json_object_get(rec, "extra.user") != NULL, possible);
		assert_int_equal(json_object_get(rec, "extra.password") != NULL, possible);
		json_decref(rec);
	}
}

static void pair_and_redaction(void **state)
{
	(void)state;
	struct kz_login_outcome o = { .status = KZ_LOGIN_POSSIBLE,
		                      .pair = 1,
		                      .password_asked = true };
	json_t *rec = build(&o, false, true);
	assert_string_equal(str(rec, "extra.user"), "admin");
	assert_string_equal(str(rec, "extra.password"), "admin");
	assert_true(json_is_true(json_object_get(rec, "extra.password_asked")));
	assert_null(json_object_get(rec, "extra.credential_index"));
	json_decref(rec);
	/* Redacted: the 1-based index among pair lines (the comment and the
	 * blank line do not count), and no user or password at all. */
	rec = build(&o, true, true);
	assert_null(json_object_get(rec, "extra.user"));
	assert_null(json_object_get(rec, "extra.password"));
	assert_int_equal(json_integer_value(json_object_get(rec, "extra.credential_index")), 2);
	json_decref(rec);
	o.pair = 2; /* ":1234", the 4th pair line (the repeat is merged) */
	rec = build(&o, true, true);
	assert_int_equal(json_integer_value(json_object_get(rec, "extra.credential_index")), 4);
	json_decref(rec);
	/* A password that is not UTF-8 is also written in hex, losslessly. */
	o.pair = 3;
	rec = build(&o, false, true);
	assert_string_equal(str(rec, "extra.password"), "p\xef\xbf\xbdss");
	assert_string_equal(str(rec, "extra.password_hex"), "70ff7373");
	assert_null(json_object_get(rec, "extra.user_hex"));
	json_decref(rec);
	/* A login-possible outcome without a listed pair is refused. */
	o.pair = 7;
	tgt.addr = kz_addr_from_v4(0xc0000201);
	struct kz_login_report r = { .target = &tgt, .outcome = &o };
	struct kz_login_record_info info = { .run_id = "r",
		                             .creds = creds,
		                             .scanner_ip = kz_addr_from_v4(0xcb007101) };
	json_t *bad = NULL;
	const char *why = NULL;
	assert_int_equal(kz_login_record_build(&r, &info, &bad, &why), -EINVAL);
	assert_null(bad);
	assert_string_equal(why, "login-possible without a pair of the list");
}

static void banner_and_device(void **state)
{
	(void)state;
	static uint8_t banner[4096];
	memset(banner, 'b', sizeof banner);
	memcpy(banner, "\xff\r\ndvrdvs login: ", 17);
	struct kz_login_outcome o = { .status = KZ_LOGIN_FAILED,
		                      .pair = -1,
		                      .banner = banner,
		                      .banner_len = sizeof banner,
		                      .banner_seen = 100000 };
	json_t *rec = build(&o, false, false);
	/* No local address: the run's scanner address. */
	assert_string_equal(str(rec, "extra.scanner_ip"), "203.0.113.1");
	assert_true(json_is_true(json_object_get(rec, "extra.banner_truncated")));
	assert_non_null(str(rec, "extra.banner_b64"));
	assert_string_equal(str(rec, "extra.device"), "hikvision");
	json_decref(rec);
	o.banner_seen = sizeof banner;
	rec = build(&o, false, true);
	assert_null(json_object_get(rec, "extra.banner_truncated"));
	json_decref(rec);
	/* The device may show itself only after login. */
	const uint8_t ev[] = "BusyBox v1.19.4 built-in shell\r\n~ # ";
	struct kz_login_outcome o2 = { .status = KZ_LOGIN_NO_AUTH,
		                       .pair = -1,
		                       .evidence = ev,
		                       .evidence_len = sizeof ev - 1 };
	rec = build(&o2, false, true);
	assert_string_equal(str(rec, "extra.device"), "busybox");
	assert_non_null(str(rec, "extra.evidence"));
	json_decref(rec);
	/* Vendors before generic systems; no word, no guess. */
	const uint8_t both[] = "BusyBox on a MikroTik";
	assert_string_equal(kz_device_guess(both, sizeof both - 1, NULL, 0), "mikrotik");
	const uint8_t none[] = "\r\nlogin: ";
	assert_null(kz_device_guess(none, sizeof none - 1, NULL, 0));
}

static void unchecked_and_interrupted(void **state)
{
	(void)state;
	tgt.found_at = 1764264001;
	json_t *rec = build(NULL, false, false);
	assert_string_equal(str(rec, "extra.status"), "open");
	assert_string_equal(str(rec, "classification.identifier"), "accessible-telnet");
	/* Last seen open by stage 1. */
	assert_string_equal(str(rec, "time.source"), "2025-11-27T17:20:01Z");
	json_decref(rec);
	tgt.found_at = 0;

	tgt.addr = kz_addr_from_v4(0xc0000201);
	struct kz_login_outcome o = { .status = KZ_LOGIN_TIMEOUT, .pair = -1 };
	struct kz_login_report r = {
		.target = &tgt, .outcome = &o, .interrupted = true, .decided = 1764264012345
	};
	struct kz_login_record_info info = { .run_id = "r",
		                             .creds = creds,
		                             .scanner_ip = kz_addr_from_v4(0xcb007101) };
	json_t *rec2;
	const char *why;
	assert_int_equal(kz_login_record_build(&r, &info, &rec2, &why), 0);
	assert_true(json_is_true(json_object_get(rec2, "extra.interrupted")));
	assert_string_equal(str(rec2, "classification.identifier"), "survey-error");
	json_decref(rec2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(statuses),
		cmocka_unit_test(pair_and_redaction),
		cmocka_unit_test(banner_and_device),
		cmocka_unit_test(unchecked_and_interrupted),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
