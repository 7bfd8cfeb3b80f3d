/*
 * Stage-2 records (login_record.h). The common part and the ids come from
 * record.h; this file adds the survey fields. Network text (banner,
 * evidence) only ever goes through kz_record_set_banner/_text, which make
 * it valid UTF-8 and cap it.
 */
#include "login_record.h"

#include <errno.h>
#include <string.h>

#include "device_guess.h"
#include "encode.h"
#include "login_targets.h"
#include "utf8.h"

/* CONTRACT.md's survey table: the kind carries the classification triple;
 * accessible-<app> is completed from the application by kz_record_new. */
enum kz_record_kind kz_login_record_kind(enum kz_login_status status)
{
	switch (status) {
	case KZ_LOGIN_POSSIBLE:
		return KZ_REC_WEAK_CREDENTIALS;
	case KZ_LOGIN_NO_AUTH:
		return KZ_REC_NO_AUTH;
	case KZ_LOGIN_FAILED:
	case KZ_LOGIN_NO_PROMPT:
		return KZ_REC_ACCESSIBLE;
	case KZ_LOGIN_ACCEPTS_ANY:
		return KZ_REC_ACCEPTS_ANY;
	case KZ_LOGIN_OTHER_PROTOCOL:
		return KZ_REC_OTHER_PROTOCOL;
	case KZ_LOGIN_PENDING:
	case KZ_LOGIN_TIMEOUT:
	case KZ_LOGIN_ERROR:
		break;
	}
	return KZ_REC_SURVEY_ERROR;
}

/* A user or password as text; one that is not valid UTF-8 (a Latin-1
 * password, a 0xff byte) is also written in hex, since the text form
 * replaces such bytes and would name another credential. */
static int set_cred(json_t *rec, const char *key, const char *hexkey, const char *s)
{
	size_t n = strlen(s);
	int rc = kz_record_set_text(rec, key, s, n, KZ_CREDS_FIELD_MAX, NULL);
	if (rc || kz_utf8_check((const uint8_t *)s, n) == n)
		return rc;
	char hex[2 * KZ_CREDS_FIELD_MAX + 1];
	if (n > KZ_CREDS_FIELD_MAX)
		return -EINVAL;
	kz_hex_encode((const uint8_t *)s, n, hex);
	return kz_record_set_str(rec, hexkey, hex);
}

/* The pair of a login-possible record, or only its index when the operator
 * asked for redaction (the record may travel further than the list). */
static int set_pair(json_t *rec, const struct kz_login_record_info *info, int pair)
{
	if (!info->creds || pair < 0 || (size_t)pair >= kz_creds_count(info->creds))
		return -EINVAL;
	if (info->redact)
		return kz_record_set_int(rec, "extra.credential_index",
		                         kz_creds_index(info->creds, (size_t)pair));
	const struct kz_login_cred *c = &kz_creds_pairs(info->creds)[pair];
	int rc;
	if ((rc = set_cred(rec, "extra.user", "extra.user_hex", c->user)) ||
	    (rc = set_cred(rec, "extra.password", "extra.password_hex", c->pass)))
		return rc;
	return 0;
}

int kz_login_record_build(const struct kz_login_report *r, const struct kz_login_record_info *info,
                          json_t **out, const char **why)
{
	*out = NULL;
	const struct kz_login_outcome *o = r->outcome;
	if (!info->run_id) {
		*why = "no run id";
		return -EINVAL;
	}
	if (!o && !r->unsupported) {
		*why = "a report without an outcome";
		return -EINVAL;
	}
	enum kz_login_status status = o ? o->status : KZ_LOGIN_PENDING;
	enum kz_login_app app = (enum kz_login_app)r->target->app;
	const char *appname = kz_login_app_name(app);
	if (!appname) {
		*why = "unknown application";
		return -EINVAL;
	}
	/* The decisive observation: the event that settled the status (a
	 * control pair refused, a prompt that never came), to the second. */
	int64_t decided = r->decided / 1000;
	struct kz_record_spec spec = {
		.kind = o ? kz_login_record_kind(status) : KZ_REC_ACCESSIBLE,
		.tlp = KZ_TLP_UNSET,
		.time_observation = info->time_observation,
		/* An unchecked port was last seen open by stage 1. */
		.time_source = !o && r->target->found_at ? r->target->found_at : decided,
		.run_id = info->run_id,
		.scanner_ip = r->has_local ? r->local : info->scanner_ip,
		.addr = r->target->addr,
		.port = r->target->port,
		.application = appname,
	};
	json_t *rec;
	int rc = kz_record_new(&spec, &rec, why);
	if (rc)
		return rc;
	const char *st = o ? kz_login_status_name(status, app) : "open";
	if ((rc = kz_record_set_str(rec, "extra.status", st)))
		goto fail;
	if (!o) {
		rc = kz_record_set_str(rec, "extra.reason", "no login check for this application");
		if (rc)
			goto fail;
		*out = rec;
		return 0;
	}
	if (status == KZ_LOGIN_POSSIBLE) {
		if ((rc = set_pair(rec, info, o->pair))) {
			*why = "login-possible without a pair of the list";
			goto fail;
		}
		if ((rc = kz_record_set_bool(rec, "extra.password_asked", o->password_asked)))
			goto fail;
	}
	if (o->banner_seen || o->banner_len) {
		if ((rc = kz_record_set_banner(rec, o->banner, o->banner_len)))
			goto fail;
		/* The plug-in kept only the first bytes: still say so. */
		if (o->banner_seen > o->banner_len &&
		    (rc = kz_record_set_bool(rec, "extra.banner_truncated", true)))
			goto fail;
	}
	/* The lines judged, so that a reader can see why without a packet
	 * capture: a shell prompt, a failure message. */
	if (o->evidence_len &&
	    (rc = kz_record_set_text(rec, "extra.evidence", o->evidence, o->evidence_len,
	                             KZ_LOGIN_EVIDENCE_MAX, NULL)))
		goto fail;
	/* Post-login text often names the system when the banner did not. */
	const char *device =
	        kz_device_guess(o->banner, o->banner_len, o->evidence, o->evidence_len);
	if (device && (rc = kz_record_set_str(rec, "extra.device", device)))
		goto fail;
	if ((rc = kz_record_set_int(rec, "extra.attempts", o->attempts)) ||
	    (rc = kz_record_set_int(rec, "extra.connections", o->connections)))
		goto fail;
	if (o->reason && (rc = kz_record_set_str(rec, "extra.reason", o->reason)))
		goto fail;
	if (o->detail && (rc = kz_record_set_str(rec, "extra.login_detail", o->detail)))
		goto fail;
	if (r->interrupted && (rc = kz_record_set_bool(rec, "extra.interrupted", true)))
		goto fail;
	*out = rec;
	return 0;
fail:
	json_decref(rec);
	if (rc == -ENOMEM)
		*why = "out of memory";
	else if (rc == -ERANGE)
		*why = "a time out of range";
	return rc;
}
