/*
 * The lifecycle table, row by row of CONTRACT.md's status table: every
 * survey verdict from every state, coverage (unreachable, gone after 3 runs,
 * back again), notification, the active/inactive pair, and tickets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lifecycle.h"

/* A survey finding in `state`, reached (base) through the shortest path,
 * with the weak flag as the path leaves it. */
static struct kz_lc survey_in(enum kz_fstate state)
{
	struct kz_lc lc = { 0 };
	switch (state) {
	case KZ_FSTATE_NONE:
		break;
	case KZ_FSTATE_NEW:
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK);
		break;
	case KZ_FSTATE_NOTIFIED:
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK);
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_NOTIFIED);
		break;
	case KZ_FSTATE_PERSISTING:
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK);
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_NOTIFIED);
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK);
		break;
	case KZ_FSTATE_REMEDIATED:
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK);
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_FAILED);
		break;
	case KZ_FSTATE_REOPENED:
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK);
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_FAILED);
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK);
		break;
	default:
		fail_msg("no path to %s", kz_fstate_name(state));
	}
	assert_int_equal(lc.state, state);
	return lc;
}

static enum kz_fstate after(enum kz_fstate from, enum kz_lc_event ev)
{
	struct kz_lc lc = survey_in(from);
	kz_lc_apply(&lc, KZ_LC_SURVEY, ev);
	return lc.state;
}

/* login-possible / no-auth: new; persisting if notified; reopened if
 * remediated; otherwise where it was. */
static void test_weak_row(void **state)
{
	(void)state;
	assert_int_equal(after(KZ_FSTATE_NONE, KZ_LC_WEAK), KZ_FSTATE_NEW);
	assert_int_equal(after(KZ_FSTATE_NEW, KZ_LC_WEAK), KZ_FSTATE_NEW);
	assert_int_equal(after(KZ_FSTATE_NOTIFIED, KZ_LC_WEAK), KZ_FSTATE_PERSISTING);
	assert_int_equal(after(KZ_FSTATE_PERSISTING, KZ_LC_WEAK), KZ_FSTATE_PERSISTING);
	assert_int_equal(after(KZ_FSTATE_REMEDIATED, KZ_LC_WEAK), KZ_FSTATE_REOPENED);
	assert_int_equal(after(KZ_FSTATE_REOPENED, KZ_LC_WEAK), KZ_FSTATE_REOPENED);
}

/* login-failed: remediated if new, notified, persisting or reopened. */
static void test_failed_row(void **state)
{
	(void)state;
	assert_int_equal(after(KZ_FSTATE_NEW, KZ_LC_FAILED), KZ_FSTATE_REMEDIATED);
	assert_int_equal(after(KZ_FSTATE_NOTIFIED, KZ_LC_FAILED), KZ_FSTATE_REMEDIATED);
	assert_int_equal(after(KZ_FSTATE_PERSISTING, KZ_LC_FAILED), KZ_FSTATE_REMEDIATED);
	assert_int_equal(after(KZ_FSTATE_REOPENED, KZ_LC_FAILED), KZ_FSTATE_REMEDIATED);
	assert_int_equal(after(KZ_FSTATE_REMEDIATED, KZ_LC_FAILED), KZ_FSTATE_REMEDIATED);
}

/* A service first seen not weak is a finding (one per service, whatever
 * its status) that nothing remediates until it has been weak. */
static void test_never_weak(void **state)
{
	(void)state;
	struct kz_lc lc = { 0 };
	assert_true(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_FAILED));
	assert_int_equal(lc.state, KZ_FSTATE_NEW);
	assert_false(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_FAILED));
	assert_int_equal(lc.state, KZ_FSTATE_NEW);
	assert_true(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_NOTIFIED));
	assert_int_equal(lc.state, KZ_FSTATE_NOTIFIED);
	assert_false(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_FAILED));
	assert_int_equal(lc.state, KZ_FSTATE_NOTIFIED);
	/* Weak now, after a notification: persisting. */
	assert_true(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK));
	assert_int_equal(lc.state, KZ_FSTATE_PERSISTING);

	struct kz_lc open = { 0 };
	kz_lc_apply(&open, KZ_LC_SURVEY, KZ_LC_REACHED);
	assert_int_equal(open.state, KZ_FSTATE_NEW);
}

/* Statuses with no effect leave every state as it is. */
static void test_reached_row(void **state)
{
	(void)state;
	static const enum kz_fstate all[] = { KZ_FSTATE_NEW, KZ_FSTATE_NOTIFIED,
		                              KZ_FSTATE_PERSISTING, KZ_FSTATE_REOPENED,
		                              KZ_FSTATE_REMEDIATED };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		assert_int_equal(after(all[i], KZ_LC_REACHED), all[i]);
}

static void test_notified(void **state)
{
	(void)state;
	assert_int_equal(after(KZ_FSTATE_NEW, KZ_LC_NOTIFIED), KZ_FSTATE_NOTIFIED);
	assert_int_equal(after(KZ_FSTATE_NOTIFIED, KZ_LC_NOTIFIED), KZ_FSTATE_NOTIFIED);
	assert_int_equal(after(KZ_FSTATE_PERSISTING, KZ_LC_NOTIFIED), KZ_FSTATE_PERSISTING);
	assert_int_equal(after(KZ_FSTATE_REOPENED, KZ_LC_NOTIFIED), KZ_FSTATE_NOTIFIED);
	assert_int_equal(after(KZ_FSTATE_REMEDIATED, KZ_LC_NOTIFIED), KZ_FSTATE_REMEDIATED);
	/* Nothing to notify about a finding that does not exist. */
	assert_int_equal(after(KZ_FSTATE_NONE, KZ_LC_NOTIFIED), KZ_FSTATE_NONE);
}

/* Not reachable in a finished covering run: unreachable; gone after 3 such
 * runs; any observation brings the device back to what it shows. */
static void test_coverage(void **state)
{
	(void)state;
	static const enum kz_fstate all[] = { KZ_FSTATE_NEW, KZ_FSTATE_NOTIFIED,
		                              KZ_FSTATE_PERSISTING, KZ_FSTATE_REOPENED,
		                              KZ_FSTATE_REMEDIATED };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		struct kz_lc lc = survey_in(all[i]);
		assert_true(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE));
		assert_int_equal(lc.state, KZ_FSTATE_UNREACHABLE);
		assert_false(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE));
		assert_int_equal(lc.state, KZ_FSTATE_UNREACHABLE);
		assert_true(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE));
		assert_int_equal(lc.state, KZ_FSTATE_GONE);
		assert_false(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE));
		assert_int_equal(lc.state, KZ_FSTATE_GONE);
		/* Back with no verdict: the state it had. */
		assert_true(kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_REACHED));
		assert_int_equal(lc.state, all[i]);
	}
	/* Unreachable is never fixed: a weak device that comes back weak. */
	struct kz_lc lc = survey_in(KZ_FSTATE_NOTIFIED);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK);
	assert_int_equal(lc.state, KZ_FSTATE_PERSISTING);
	/* A remediated device gone and back weak: reopened. */
	lc = survey_in(KZ_FSTATE_REMEDIATED);
	for (int i = 0; i < 3; i++)
		kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE);
	assert_int_equal(lc.state, KZ_FSTATE_GONE);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_WEAK);
	assert_int_equal(lc.state, KZ_FSTATE_REOPENED);
	/* A weak device unreachable then back with login-failed: remediated. */
	lc = survey_in(KZ_FSTATE_NEW);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_FAILED);
	assert_int_equal(lc.state, KZ_FSTATE_REMEDIATED);
	/* The run counter restarts after a sighting: two, seen, two: still
	 * unreachable, not gone. */
	lc = survey_in(KZ_FSTATE_NEW);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_REACHED);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE);
	assert_int_equal(lc.state, KZ_FSTATE_UNREACHABLE);
	/* Notified while unreachable: shows unreachable, comes back notified. */
	lc = survey_in(KZ_FSTATE_NEW);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_UNREACHABLE);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_NOTIFIED);
	assert_int_equal(lc.state, KZ_FSTATE_UNREACHABLE);
	kz_lc_apply(&lc, KZ_LC_SURVEY, KZ_LC_REACHED);
	assert_int_equal(lc.state, KZ_FSTATE_NOTIFIED);
	/* Coverage cannot create a finding. */
	struct kz_lc none = { 0 };
	assert_false(kz_lc_apply(&none, KZ_LC_SURVEY, KZ_LC_UNREACHABLE));
	assert_int_equal(none.state, KZ_FSTATE_NONE);
}

static void test_sightings(void **state)
{
	(void)state;
	struct kz_lc lc = { 0 };
	assert_true(kz_lc_apply(&lc, KZ_LC_SIGHTINGS, KZ_LC_SIGHTED));
	assert_int_equal(lc.state, KZ_FSTATE_ACTIVE);
	assert_false(kz_lc_apply(&lc, KZ_LC_SIGHTINGS, KZ_LC_SIGHTED_OLD));
	assert_int_equal(lc.state, KZ_FSTATE_ACTIVE);
	assert_true(kz_lc_apply(&lc, KZ_LC_SIGHTINGS, KZ_LC_STALE));
	assert_int_equal(lc.state, KZ_FSTATE_INACTIVE);
	assert_false(kz_lc_apply(&lc, KZ_LC_SIGHTINGS, KZ_LC_SIGHTED_OLD));
	assert_int_equal(lc.state, KZ_FSTATE_INACTIVE);
	assert_true(kz_lc_apply(&lc, KZ_LC_SIGHTINGS, KZ_LC_SIGHTED));
	assert_int_equal(lc.state, KZ_FSTATE_ACTIVE);
	/* Notification and survey verdicts do not move telescope findings. */
	assert_false(kz_lc_apply(&lc, KZ_LC_SIGHTINGS, KZ_LC_NOTIFIED));
	assert_false(kz_lc_apply(&lc, KZ_LC_SIGHTINGS, KZ_LC_FAILED));
	assert_false(kz_lc_apply(&lc, KZ_LC_SIGHTINGS, KZ_LC_UNREACHABLE));
	assert_int_equal(lc.state, KZ_FSTATE_ACTIVE);
	/* First seen long ago: inactive from the start. */
	struct kz_lc old = { 0 };
	kz_lc_apply(&old, KZ_LC_SIGHTINGS, KZ_LC_SIGHTED_OLD);
	assert_int_equal(old.state, KZ_FSTATE_INACTIVE);
	/* Telescope events do not move survey findings. */
	struct kz_lc s = survey_in(KZ_FSTATE_NOTIFIED);
	assert_false(kz_lc_apply(&s, KZ_LC_SURVEY, KZ_LC_STALE));
	assert_false(kz_lc_apply(&s, KZ_LC_SURVEY, KZ_LC_SIGHTED));
	assert_int_equal(s.state, KZ_FSTATE_NOTIFIED);
}

static void test_status_map(void **state)
{
	(void)state;
	enum kz_lc_event ev;
	assert_true(kz_lc_survey_event("login-possible", &ev));
	assert_int_equal(ev, KZ_LC_WEAK);
	assert_true(kz_lc_survey_event("no-auth", &ev));
	assert_int_equal(ev, KZ_LC_WEAK);
	assert_true(kz_lc_survey_event("login-failed", &ev));
	assert_int_equal(ev, KZ_LC_FAILED);
	static const char *const none[] = { "open",       "accepts-any", "no-login-prompt",
		                            "not-telnet", "not-ssh",     "not-http",
		                            "timeout",    "error" };
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		assert_true(kz_lc_survey_event(none[i], &ev));
		assert_int_equal(ev, KZ_LC_REACHED);
	}
	assert_false(kz_lc_survey_event("something-new", &ev));
	assert_int_equal(ev, KZ_LC_REACHED);
}

static void test_names(void **state)
{
	(void)state;
	for (int i = 1; i < KZ_FSTATE_COUNT; i++) {
		enum kz_fstate s;
		assert_int_equal(kz_fstate_parse(kz_fstate_name((enum kz_fstate)i), &s), 0);
		assert_int_equal(s, i);
	}
	enum kz_fstate s;
	assert_int_equal(kz_fstate_parse("", &s), -EINVAL);
	assert_int_equal(kz_fstate_parse("New", &s), -EINVAL);
	assert_string_equal(kz_fstate_name((enum kz_fstate)99), "");
}

static void test_ticket(void **state)
{
	(void)state;
	char t[KZ_TICKET_STRLEN];
	/* 2026-11-27 and the id 3c7533bb47...: bits 0-39 = 3c 75 33 bb 47. */
	assert_int_equal(kz_ticket_make("3c7533bb475933bdd4d0789b9be865d2", 1795796394, 0, t), 0);
	/* 0x3c7533bb47 in 5-bit groups: 7 17 26 19 7 14 26 7 (python3 checks it). */
	assert_string_equal(t, "20261127-7HTK7ET7");
	assert_int_equal(kz_ticket_make("3c7533bb475933bdd4d0789b9be865d2", 1795796394, 1, t), 0);
	assert_int_equal(strlen(t), 17);
	assert_memory_equal(t, "20261127-", 9);
	assert_string_not_equal(t, "20261127-7HTK7ET7");
	for (const char *p = t + 9; *p; p++)
		assert_null(strchr("ILOU", *p));
	assert_int_equal(kz_ticket_make("3c7533bb475933bdd4d0789b9be865d2", 0, 3, t), -EINVAL);
	assert_int_equal(kz_ticket_make("3C7533BB475933BDD4D0789B9BE865D2", 0, 0, t), -EINVAL);
	assert_int_equal(kz_ticket_make("3c75", 0, 0, t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weak_row),   cmocka_unit_test(test_failed_row),
		cmocka_unit_test(test_never_weak), cmocka_unit_test(test_reached_row),
		cmocka_unit_test(test_notified),   cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_sightings),  cmocka_unit_test(test_status_map),
		cmocka_unit_test(test_names),      cmocka_unit_test(test_ticket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
