/*
 * Stage-2 records: one JSON object per surveyed service (CONTRACT.md
 * "Records" and the survey status table), built from the engine's report.
 *
 *   status            kind (classification)
 *   login-possible    vulnerable / vulnerable-system / weak-credentials
 *   no-auth           vulnerable / vulnerable-system / no-auth
 *   login-failed,     vulnerable / potentially-unwanted-accessible /
 *   no-login-prompt,  accessible-<app>
 *   open (no check)
 *   accepts-any       other / undetermined / accepts-any
 *   not-<app>         other / undetermined / other-protocol
 *   timeout, error    other / undetermined / survey-error
 *
 * Every record carries the evidence NOTICE keeps: the device (source.ip,
 * source.port), the address we connected from (extra.scanner_ip: the local
 * address of the connection, as the kernel chose it), and the time of the
 * decisive observation (time.source). A login-possible record names the
 * pair (extra.user, extra.password), or with redaction only its 1-based
 * index in the list (extra.credential_index).
 */
#ifndef KZ_LOGIN_RECORD_H
#define KZ_LOGIN_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "creds.h"
#include "login_engine.h"
#include "record.h"

/* Bytes of evidence text kept in extra.evidence. */
#define KZ_LOGIN_EVIDENCE_MAX 512

struct kz_login_record_info {
	const char *run_id;           /* extra.run_id; required */
	struct kz_addr scanner_ip;    /* when the report has no local address */
	const struct kz_creds *creds; /* the list the report's pair indexes */
	bool redact;                  /* --redact-credentials */
	int64_t time_observation;     /* seconds: when the record is written */
};

/* The record kind of a status (KZ_LOGIN_PENDING counts as an error). */
enum kz_record_kind kz_login_record_kind(enum kz_login_status status);

/* Builds the record of one report into *out (a new reference). Returns 0,
 * -EINVAL with *why (the report or info lacks something), or -ENOMEM. */
int kz_login_record_build(const struct kz_login_report *r, const struct kz_login_record_info *info,
                          json_t **out, const char **why) __attribute__((warn_unused_result));

#endif
