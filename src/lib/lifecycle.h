/*
 * The finding lifecycle of CONTRACT.md ("Findings and their lifecycle"): the
 * states a finding can be in and the one function that moves it from one to
 * the next. Pure data and arithmetic: no SQL, no clock, so every transition
 * has a unit test and the store, the reports and the dashboard agree on it.
 *
 * Survey findings (one per surveyed service, whatever its status) use the
 * states new, notified, persisting, reopened, remediated, unreachable and
 * gone. Unreachable and gone are an overlay: a finding keeps its underlying
 * ("base") state while coverage says the device could not be reached, and
 * gets it back when the device answers again, so an unreachable device is
 * never called fixed and a device that comes back is judged on what it
 * shows then. Telescope findings and records from other producers are active
 * while sighted and inactive after --inactive-after without a sighting.
 * docs/hub.md draws the diagram.
 */
#ifndef KZ_LIFECYCLE_H
#define KZ_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

/* The values of `state=` and of the reports' state column. */
enum kz_fstate {
	KZ_FSTATE_NONE = 0, /* not created yet */
	KZ_FSTATE_NEW,
	KZ_FSTATE_NOTIFIED,
	KZ_FSTATE_PERSISTING,
	KZ_FSTATE_REOPENED,
	KZ_FSTATE_REMEDIATED,
	KZ_FSTATE_UNREACHABLE,
	KZ_FSTATE_GONE,
	KZ_FSTATE_ACTIVE,
	KZ_FSTATE_INACTIVE,
	KZ_FSTATE_COUNT,
};

/* What happens to a finding. */
enum kz_lc_event {
	KZ_LC_WEAK,        /* survey: login-possible or no-auth */
	KZ_LC_FAILED,      /* survey: login-failed (a prompt, no pair worked) */
	KZ_LC_REACHED,     /* survey: any other status (open, accepts-any, ...): reachable */
	KZ_LC_UNREACHABLE, /* survey: not reachable in a finished run that covered it */
	KZ_LC_NOTIFIED,    /* a report holding the finding was delivered */
	KZ_LC_SIGHTED,     /* telescope / other: a sighting within --inactive-after */
	KZ_LC_SIGHTED_OLD, /* telescope / other: a sighting older than that */
	KZ_LC_STALE,       /* telescope / other: no sighting for --inactive-after */
	KZ_LC_EVENT_COUNT,
};

/* Finished covering runs without reachability after which unreachable
 * becomes gone (CONTRACT.md: "gone after 3 such runs"). */
#define KZ_LC_GONE_AFTER 3

/* Which family of states a finding lives in. */
enum kz_lc_family {
	KZ_LC_SURVEY,    /* new .. gone */
	KZ_LC_SIGHTINGS, /* active / inactive */
};

/* A finding's lifecycle, as stored with it (hub_findings: state, base_state,
 * weak, unreachable_runs). The caller owns it. */
struct kz_lc {
	enum kz_fstate state; /* what users see */
	enum kz_fstate base;  /* survey: the state under unreachable/gone */
	bool weak;            /* survey: the last login verdict was weak */
	uint32_t unreachable; /* survey: finished covering runs without reachability in a row */
};

/* The state's name ("new", "persisting", ...); "" for NONE or a value
 * outside the enum. */
const char *kz_fstate_name(enum kz_fstate s);

/* Parses a state name exactly as kz_fstate_name writes it. Returns 0 or
 * -EINVAL. */
int kz_fstate_parse(const char *s, enum kz_fstate *out) __attribute__((warn_unused_result));

/* The event's name, for transition logs ("weak", "unreachable", ...). */
const char *kz_lc_event_name(enum kz_lc_event ev);

/* Applies one event to a finding of the given family and returns true when
 * the visible state changed. An event that does not belong to the family
 * (a survey verdict on a telescope finding) changes nothing. A new finding
 * starts zeroed (state NONE). */
bool kz_lc_apply(struct kz_lc *lc, enum kz_lc_family family, enum kz_lc_event ev);

/* Survey statuses (extra.status) to events. Returns false for a status the
 * contract does not name; the caller then treats it as KZ_LC_REACHED. */
bool kz_lc_survey_event(const char *status, enum kz_lc_event *out);

/* Tickets: "YYYYMMDD-XXXXXXXX", the UTC day of the finding's first sighting
 * and eight characters of Crockford base32 taken from the finding id
 * (attempt 0, 1, 2 take successive 40-bit slices, for the rare collision on
 * one day). */
#define KZ_TICKET_STRLEN 18

/* Writes the ticket for finding_id (32 hex digits) first seen at `day`
 * (seconds since the epoch) into out. Returns 0, or -EINVAL for a finding id
 * that is not 32 hex digits, an attempt above 2, or a time outside the
 * years 0000-9999. */
int kz_ticket_make(const char *finding_id, int64_t day, unsigned attempt,
                   char out[KZ_TICKET_STRLEN]) __attribute__((warn_unused_result));

#endif
