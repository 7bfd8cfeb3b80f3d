/*
 * Records: the JSON objects that telescope and survey write and the hub
 * ingests (CONTRACT.md "Records", docs/records.md). One flat object per
 * record, IntelMQ harmonisation field names, everything else under extra.*.
 *
 * A record is a jansson object (json_t). This module builds the common part
 * of each record kind with its ids, turns bytes from the network into text
 * that is safe to write, computes the finding and observation ids, and
 * validates records from anyone before the hub stores them.
 */
#ifndef KZ_RECORD_H
#define KZ_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "tlp.h"

#define KZ_FEED_TELESCOPE "kizuki-telescope"
#define KZ_FEED_SURVEY    "kizuki-survey"

/* Raw network bytes kept per banner: extra.banner and extra.banner_b64 both
 * describe at most the first KZ_BANNER_MAX bytes received. */
#define KZ_BANNER_MAX 4096

/* Ids are the first 16 bytes of a SHA-256, as 32 lowercase hex digits. */
#define KZ_ID_HEXLEN 32
#define KZ_ID_STRLEN (KZ_ID_HEXLEN + 1)

/* Longest reason text the validator writes (callers size their buffers). */
#define KZ_RECORD_WHY_MAX 200

/* The record kinds of CONTRACT.md's table, plus the survey's run records. */
enum kz_record_kind {
	KZ_REC_INFECTED,         /* darknet source with a malware fingerprint */
	KZ_REC_SCANNER,          /* darknet source scanning (tool or generic) */
	KZ_REC_DOS_VICTIM,       /* backscatter from a DoS victim */
	KZ_REC_PORT_SURGE,       /* unique sources on a port far above baseline */
	KZ_REC_WEAK_CREDENTIALS, /* survey: login-possible */
	KZ_REC_NO_AUTH,          /* survey: a shell or admin page without a credential */
	KZ_REC_ACCESSIBLE,       /* survey: open, login-failed, no-login-prompt */
	KZ_REC_ACCEPTS_ANY,      /* survey: a deliberately wrong control pair logs in */
	KZ_REC_OTHER_PROTOCOL,   /* survey: another protocol answers */
	KZ_REC_SURVEY_ERROR,     /* survey: timeout, error */
	KZ_REC_SURVEY_RUN,       /* survey run header or trailer (not a finding) */
	KZ_REC_KIND_COUNT,
};

/* What a kind writes by default. */
struct kz_record_kind_info {
	const char *feed;       /* feed.name */
	const char *taxonomy;   /* classification.taxonomy */
	const char *type;       /* classification.type */
	const char *identifier; /* default classification.identifier; NULL for
	                           KZ_REC_ACCESSIBLE ("accessible-<application>") */
	enum kz_tlp tlp;        /* default label */
	bool identifier_free;   /* the caller may name another identifier */
};

/* The row for a kind, or NULL for a value outside the enum. */
const struct kz_record_kind_info *kz_record_kind_info(enum kz_record_kind kind);

/* Everything the common part of a record and its ids depend on. Fields that
 * a kind does not use are ignored; strings are borrowed for the call. */
struct kz_record_spec {
	enum kz_record_kind kind;
	const char *identifier;   /* NULL: the kind's default ("zmap", "masscan" for
	                             scanners, a family for infected hosts) */
	enum kz_tlp tlp;          /* KZ_TLP_UNSET: the kind's default */
	int64_t time_observation; /* seconds since the epoch: when written */
	int64_t time_source;      /* when the thing was seen */

	/* Telescope kinds: the sensor and the start of the interval (aligned,
	 * seconds since the epoch) the record belongs to. */
	const char *sensor;
	int64_t interval_start;

	/* Survey kinds: the run and the scanner's address. */
	const char *run_id;
	struct kz_addr scanner_ip;

	/* The subject. addr: source.ip for darknet sources and surveyed
	 * devices, destination.ip for a DoS victim. port: the device's service
	 * port (source.port) or the surging port (destination.port).
	 * application: "telnet", "ssh", "http" (survey). transport: "tcp",
	 * "udp", "icmp" (port surge). run_part: "header" or "trailer". */
	struct kz_addr addr;
	uint16_t port;
	const char *application;
	const char *transport;
	const char *run_part;
};

/* Builds a new record (a new reference the caller owns) with the common
 * fields of CONTRACT.md (feed.name, time.observation, time.source,
 * classification.*, tlp, extra.tlp, the sensor or run fields), the kind's key
 * fields from the spec, and extra.finding_id / extra.observation_id. Returns
 * 0, -EINVAL with *why set when the spec lacks what the kind needs, or
 * -ENOMEM. */
int kz_record_new(const struct kz_record_spec *spec, json_t **out, const char **why)
        __attribute__((warn_unused_result));

/* Setters for the fields a caller adds. Each replaces an existing value and
 * returns 0, -ENOMEM, or -ERANGE (a time outside years 0000-9999). */
int kz_record_set_str(json_t *rec, const char *key, const char *value)
        __attribute__((warn_unused_result));
int kz_record_set_int(json_t *rec, const char *key, int64_t value)
        __attribute__((warn_unused_result));
int kz_record_set_bool(json_t *rec, const char *key, bool value)
        __attribute__((warn_unused_result));
int kz_record_set_time(json_t *rec, const char *key, int64_t sec)
        __attribute__((warn_unused_result));
int kz_record_set_addr(json_t *rec, const char *key, struct kz_addr addr)
        __attribute__((warn_unused_result));

/* Sets key to the text of bytes received from the network (a prompt, a
 * device string): at most the first cap bytes are used, ending on a UTF-8
 * sequence boundary of the whole input, every ill-formed sequence becomes
 * U+FFFD, and NUL and control characters are kept (JSON escapes them).
 * *truncated (if not NULL) tells whether len exceeded cap. */
int kz_record_set_text(json_t *rec, const char *key, const void *bytes, size_t len, size_t cap,
                       bool *truncated) __attribute__((warn_unused_result));

/* Sets extra.banner (text as kz_record_set_text, cap KZ_BANNER_MAX),
 * extra.banner_b64 (base64 of exactly the first min(len, KZ_BANNER_MAX)
 * bytes) and, when len > KZ_BANNER_MAX, extra.banner_truncated = true. */
int kz_record_set_banner(json_t *rec, const void *bytes, size_t len)
        __attribute__((warn_unused_result));

/* One field of an id's input: len bytes at p (no NUL needed). */
struct kz_id_field {
	const char *p;
	size_t len;
};

/* The id hash of docs/records.md: SHA-256 over the domain and then each
 * field, each preceded by its length as 4 big-endian bytes; the first 16
 * bytes of the digest in lowercase hex. Returns 0, -EINVAL (a field of 4 GiB
 * or more) or -ENOMEM. */
int kz_id_hash(const char *domain, const struct kz_id_field *fields, size_t n,
               char out[KZ_ID_STRLEN]) __attribute__((warn_unused_result));

/* Finding ids, from CONTRACT.md's tuples. Addresses are hashed in their
 * canonical text (kz_addr_format), ports and times as records write them. */
int kz_finding_id_survey(struct kz_addr addr, uint16_t port, const char *application,
                         char out[KZ_ID_STRLEN]) __attribute__((warn_unused_result));
int kz_finding_id_source(const char *identifier, struct kz_addr addr, char out[KZ_ID_STRLEN])
        __attribute__((warn_unused_result));
int kz_finding_id_backscatter(struct kz_addr victim, char out[KZ_ID_STRLEN])
        __attribute__((warn_unused_result));
int kz_finding_id_port_surge(const char *sensor, const char *transport, uint16_t port,
                             int64_t interval_start, char out[KZ_ID_STRLEN])
        __attribute__((warn_unused_result));
int kz_finding_id_survey_run(const char *run_id, const char *part, char out[KZ_ID_STRLEN])
        __attribute__((warn_unused_result));

/* Observation ids: a finding seen in one survey run, in one telescope
 * interval of one sensor, or (other producers) at one time.source. */
int kz_observation_id_run(const char *finding_id, const char *run_id, char out[KZ_ID_STRLEN])
        __attribute__((warn_unused_result));
int kz_observation_id_interval(const char *finding_id, const char *sensor, int64_t interval_start,
                               char out[KZ_ID_STRLEN]) __attribute__((warn_unused_result));
int kz_observation_id_time(const char *finding_id, const char *feed_name, int64_t time_source,
                           char out[KZ_ID_STRLEN]) __attribute__((warn_unused_result));

/* For a validated record from another IntelMQ producer that carries neither
 * id: computes both as docs/records.md defines and adds them. A record with
 * both ids is left alone. Returns 0, -EINVAL (with a reason in why) or
 * -ENOMEM. */
int kz_record_ensure_ids(json_t *rec, char *why, size_t whylen) __attribute__((warn_unused_result));

/* Checks a record from anyone: a flat object; every key an IntelMQ
 * harmonisation field with a value of its type, or an extra.* key (kizuki's
 * own extra fields are type-checked too); feed.name, time.source and
 * classification.taxonomy/type present; times that parse; tlp and extra.tlp
 * valid and consistent; both ids or neither; and for kizuki's feeds every
 * common field of CONTRACT.md. Returns 0, or -EINVAL with a reason that
 * names the field in why. */
int kz_record_validate(const json_t *rec, char *why, size_t whylen)
        __attribute__((warn_unused_result));

/* A record's field as the validator sees it, however it was parsed (jansson
 * or the hub's flat reader, src/lib/flatrec.h). Strings are NUL-terminated
 * with their length in len (they may hold U+0000). */
enum kz_rval_type {
	KZ_RVAL_STRING,
	KZ_RVAL_INT,
	KZ_RVAL_REAL,
	KZ_RVAL_BOOL,
	KZ_RVAL_NULL,
	KZ_RVAL_ARRAY,
	KZ_RVAL_OBJECT,
};

struct kz_rval {
	enum kz_rval_type type;
	const char *s; /* KZ_RVAL_STRING */
	size_t len;
	int64_t i;   /* KZ_RVAL_INT */
	double d;    /* KZ_RVAL_REAL */
	bool b;      /* KZ_RVAL_BOOL */
	bool nested; /* KZ_RVAL_ARRAY: holds an array or an object */
};

struct kz_rfield {
	const char *key; /* NUL-terminated */
	size_t key_len;  /* its length as parsed (a NUL inside shows as strlen < key_len) */
	struct kz_rval v;
};

/* kz_record_validate on fields in the line's order: the same checks, the
 * same first error. Borrowed for the call. */
int kz_record_validate_fields(const struct kz_rfield *fields, size_t n, char *why, size_t whylen)
        __attribute__((warn_unused_result));

/* Describes a jansson value as a kz_rval (borrowing its string). */
int kz_record_rval(const json_t *v, struct kz_rval *out);

/* The record's label: extra.tlp, unless tlp is stricter than extra.tlp's
 * IntelMQ mapping (someone raised it downstream: then tlp's level); tlp
 * alone when there is no extra.tlp (WHITE reads as CLEAR); KZ_TLP_UNSET
 * when it has neither. Call on a validated record. */
enum kz_tlp kz_record_tlp(const json_t *rec);

#endif
