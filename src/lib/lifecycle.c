/*
 * The lifecycle state machine as tables.
 *
 * Survey findings. The verdicts (weak, failed, reached, notified) move the
 * base state through CONTRACT.md's status table:
 *
 *   login-possible / no-auth  new; persisting if notified; reopened if remediated
 *   login-failed              remediated if new, notified, persisting or reopened
 *   every other status        none (coverage only)
 *
 * One reading the contract leaves open is written down here: "remediated"
 * means that a weak credential is no longer accepted, so login-failed
 * remediates only a finding whose last verdict was weak. A service that was
 * never found weak (an accessible telnet seen with login-failed from the
 * start) stays new or notified: nothing about it was fixed.
 *
 * Reachability is a separate counter: a finished run that covered the
 * service without reaching it adds one, any observation resets it. The
 * visible state is the base state while the counter is 0, unreachable from 1
 * and gone from KZ_LC_GONE_AFTER. A device that answers again therefore
 * shows the state its new verdict gives from the base it had: a remediated
 * device that comes back weak is reopened, a notified one persisting.
 *
 * Telescope and other producers' findings: active on a sighting within
 * --inactive-after, inactive on STALE or when the only sightings are older.
 */
#include "lifecycle.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "timefmt.h"

static const char *const state_names[KZ_FSTATE_COUNT] = {
	[KZ_FSTATE_NONE] = "",
	[KZ_FSTATE_NEW] = "new",
	[KZ_FSTATE_NOTIFIED] = "notified",
	[KZ_FSTATE_PERSISTING] = "persisting",
	[KZ_FSTATE_REOPENED] = "reopened",
	[KZ_FSTATE_REMEDIATED] = "remediated",
	[KZ_FSTATE_UNREACHABLE] = "unreachable",
	[KZ_FSTATE_GONE] = "gone",
	[KZ_FSTATE_ACTIVE] = "active",
	[KZ_FSTATE_INACTIVE] = "inactive",
};

static const char *const event_names[KZ_LC_EVENT_COUNT] = {
	[KZ_LC_WEAK] = "weak",
	[KZ_LC_FAILED] = "login-failed",
	[KZ_LC_REACHED] = "reached",
	[KZ_LC_UNREACHABLE] = "unreachable",
	[KZ_LC_NOTIFIED] = "notified",
	[KZ_LC_SIGHTED] = "sighted",
	[KZ_LC_SIGHTED_OLD] = "sighted-old",
	[KZ_LC_STALE] = "stale",
};

const char *kz_fstate_name(enum kz_fstate s)
{
	return (unsigned)s < KZ_FSTATE_COUNT ? state_names[s] : "";
}

int kz_fstate_parse(const char *s, enum kz_fstate *out)
{
	for (unsigned i = 1; i < KZ_FSTATE_COUNT; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum kz_fstate)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *kz_lc_event_name(enum kz_lc_event ev)
{
	return (unsigned)ev < KZ_LC_EVENT_COUNT ? event_names[ev] : "";
}

/* A survey verdict's next base state. IF_WEAK_RM marks the cells where the
 * answer depends on the weak flag (login-failed on a finding never weak). */
#define KEEP       KZ_FSTATE_NONE /* no change */
#define IF_WEAK_RM KZ_FSTATE_COUNT

#define ROW(w, f, r, n)                                                                            \
	{                                                                                          \
		[KZ_LC_WEAK] = (w), [KZ_LC_FAILED] = (f), [KZ_LC_REACHED] = (r),                   \
		[KZ_LC_UNREACHABLE] = KEEP, [KZ_LC_NOTIFIED] = (n)                                 \
	}

/* Rows: the base state; columns: weak, login-failed, reached, notified. */
static const enum kz_fstate survey_base[KZ_FSTATE_REMEDIATED + 1][KZ_LC_NOTIFIED + 1] = {
	[KZ_FSTATE_NONE] = ROW(KZ_FSTATE_NEW, KZ_FSTATE_NEW, KZ_FSTATE_NEW, KEEP),
	[KZ_FSTATE_NEW] = ROW(KEEP, IF_WEAK_RM, KEEP, KZ_FSTATE_NOTIFIED),
	[KZ_FSTATE_NOTIFIED] = ROW(KZ_FSTATE_PERSISTING, IF_WEAK_RM, KEEP, KEEP),
	[KZ_FSTATE_PERSISTING] = ROW(KEEP, KZ_FSTATE_REMEDIATED, KEEP, KEEP),
	[KZ_FSTATE_REOPENED] = ROW(KEEP, KZ_FSTATE_REMEDIATED, KEEP, KZ_FSTATE_NOTIFIED),
	[KZ_FSTATE_REMEDIATED] = ROW(KZ_FSTATE_REOPENED, KEEP, KEEP, KEEP),
};

static enum kz_fstate visible(const struct kz_lc *lc)
{
	if (lc->base == KZ_FSTATE_NONE)
		return KZ_FSTATE_NONE;
	if (lc->unreachable >= KZ_LC_GONE_AFTER)
		return KZ_FSTATE_GONE;
	if (lc->unreachable > 0)
		return KZ_FSTATE_UNREACHABLE;
	return lc->base;
}

static void apply_survey(struct kz_lc *lc, enum kz_lc_event ev)
{
	/* A stored finding whose base was lost (or a hand-edited row) reads
	 * as new rather than indexing outside the table. */
	if (lc->base > KZ_FSTATE_REMEDIATED)
		lc->base = KZ_FSTATE_NEW;
	switch (ev) {
	case KZ_LC_UNREACHABLE:
		/* Coverage can only speak about a finding that exists. */
		if (lc->base != KZ_FSTATE_NONE && lc->unreachable < UINT32_MAX)
			lc->unreachable++;
		return;
	case KZ_LC_WEAK:
	case KZ_LC_FAILED:
	case KZ_LC_REACHED:
	case KZ_LC_NOTIFIED:
		break;
	default:
		return;
	}
	enum kz_fstate next = survey_base[lc->base][ev];
	if (next == IF_WEAK_RM)
		next = lc->weak ? KZ_FSTATE_REMEDIATED : KEEP;
	if (next != KEEP)
		lc->base = next;
	if (ev == KZ_LC_WEAK)
		lc->weak = true;
	else if (ev == KZ_LC_FAILED)
		lc->weak = false;
	/* Being notified says nothing about reachability; every verdict
	 * comes from an observation, which means the device answered. */
	if (ev != KZ_LC_NOTIFIED)
		lc->unreachable = 0;
}

static void apply_sightings(struct kz_lc *lc, enum kz_lc_event ev)
{
	switch (ev) {
	case KZ_LC_SIGHTED:
		lc->base = KZ_FSTATE_ACTIVE;
		break;
	case KZ_LC_SIGHTED_OLD:
		/* An old sighting arriving late neither revives nor retires. */
		if (lc->base == KZ_FSTATE_NONE)
			lc->base = KZ_FSTATE_INACTIVE;
		break;
	case KZ_LC_STALE:
		if (lc->base == KZ_FSTATE_ACTIVE)
			lc->base = KZ_FSTATE_INACTIVE;
		break;
	default:
		break;
	}
	lc->unreachable = 0;
	lc->weak = false;
}

bool kz_lc_apply(struct kz_lc *lc, enum kz_lc_family family, enum kz_lc_event ev)
{
	enum kz_fstate before = lc->state;
	if (family == KZ_LC_SURVEY)
		apply_survey(lc, ev);
	else
		apply_sightings(lc, ev);
	lc->state = visible(lc);
	return lc->state != before;
}

bool kz_lc_survey_event(const char *status, enum kz_lc_event *out)
{
	static const struct {
		const char *status;
		enum kz_lc_event ev;
	} map[] = {
		{ "login-possible", KZ_LC_WEAK }, { "no-auth", KZ_LC_WEAK },
		{ "login-failed", KZ_LC_FAILED }, { "open", KZ_LC_REACHED },
		{ "accepts-any", KZ_LC_REACHED }, { "no-login-prompt", KZ_LC_REACHED },
		{ "not-telnet", KZ_LC_REACHED },  { "not-ssh", KZ_LC_REACHED },
		{ "not-http", KZ_LC_REACHED },    { "timeout", KZ_LC_REACHED },
		{ "error", KZ_LC_REACHED },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (strcmp(status, map[i].status) == 0) {
			*out = map[i].ev;
			return true;
		}
	}
	*out = KZ_LC_REACHED;
	return false;
}

/* Crockford's base32: no I, L, O or U, so a ticket read aloud or
 * retyped from paper survives. */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int kz_ticket_make(const char *finding_id, int64_t day, unsigned attempt,
                   char out[KZ_TICKET_STRLEN])
{
	uint8_t id[16];
	char t[KZ_TIME_STRLEN];
	out[0] = '\0';
	if (attempt > 2 || strlen(finding_id) != 32 || kz_time_format(day, t) != 0)
		return -EINVAL;
	for (size_t i = 0; i < 16; i++) {
		int hi = hexval(finding_id[2 * i]), lo = hexval(finding_id[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	/* Bits [40*attempt, 40*attempt + 40) of the id, big-endian. */
	uint64_t slice = 0;
	for (size_t i = 0; i < 5; i++)
		slice = slice << 8 | id[attempt * 5 + i];
	memcpy(out, t, 4);
	memcpy(out + 4, t + 5, 2);
	memcpy(out + 6, t + 8, 2);
	out[8] = '-';
	for (int i = 0; i < 8; i++)
		out[9 + i] = crockford[(slice >> (35 - 5 * i)) & 31];
	out[17] = '\0';
	return 0;
}
