/*
 * Records on jansson: the kinds table, the builder, network bytes made safe,
 * the ids, and the validator for records from anyone.
 *
 * Invariants of every record this file builds: a flat object whose keys are
 * IntelMQ harmonisation fields or extra.*; strings valid UTF-8 (jansson
 * refuses anything else, so network bytes pass kz_utf8_sanitize first);
 * times in "YYYY-MM-DDTHH:MM:SSZ"; ids that depend on no time except the
 * interval start that names an observation or a port surge.
 *
 * The ids hash text, not binary structs, so that anyone holding a record can
 * recompute them with a few lines of Python (docs/records.md gives them):
 * SHA-256 over length-prefixed fields, because a separator character could
 * occur inside a field from another producer and make two tuples collide.
 *
 * The validator's field table below is IntelMQ's event harmonisation
 * (intelmq/etc/harmonization.conf and intelmq/lib/harmonization.py, IntelMQ
 * 3.x) written down as facts: name, type, length limit. The hub rejects a
 * line that IntelMQ would reject, and a few it would silently "sanitise"
 * (we do not rewrite other people's data; we say what is wrong).
 */
#include "record.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "timefmt.h"
#include "utf8.h"

/* ------------------------------------------------------------------ kinds */

static const struct kz_record_kind_info kinds[KZ_REC_KIND_COUNT] = {
	[KZ_REC_INFECTED] = { KZ_FEED_TELESCOPE, "malicious-code", "infected-system", "mirai",
	                      KZ_TLP_AMBER, true },
	[KZ_REC_SCANNER] = { KZ_FEED_TELESCOPE, "information-gathering", "scanner", "scanner",
	                     KZ_TLP_GREEN, true },
	[KZ_REC_DOS_VICTIM] = { KZ_FEED_TELESCOPE, "availability", "ddos", "backscatter",
	                        KZ_TLP_AMBER, false },
	[KZ_REC_PORT_SURGE] = { KZ_FEED_TELESCOPE, "other", "other", "port-surge", KZ_TLP_GREEN,
	                        false },
	[KZ_REC_WEAK_CREDENTIALS] = { KZ_FEED_SURVEY, "vulnerable", "vulnerable-system",
	                              "weak-credentials", KZ_TLP_AMBER, false },
	[KZ_REC_NO_AUTH] = { KZ_FEED_SURVEY, "vulnerable", "vulnerable-system", "no-auth",
	                     KZ_TLP_AMBER, false },
	[KZ_REC_ACCESSIBLE] = { KZ_FEED_SURVEY, "vulnerable", "potentially-unwanted-accessible",
	                        NULL, KZ_TLP_AMBER, false },
	[KZ_REC_ACCEPTS_ANY] = { KZ_FEED_SURVEY, "other", "undetermined", "accepts-any",
	                         KZ_TLP_AMBER, false },
	[KZ_REC_OTHER_PROTOCOL] = { KZ_FEED_SURVEY, "other", "undetermined", "other-protocol",
	                            KZ_TLP_AMBER, false },
	[KZ_REC_SURVEY_ERROR] = { KZ_FEED_SURVEY, "other", "undetermined", "survey-error",
	                          KZ_TLP_AMBER, false },
	[KZ_REC_SURVEY_RUN] = { KZ_FEED_SURVEY, "other", "other", "survey-run", KZ_TLP_AMBER,
	                        false },
};

const struct kz_record_kind_info *kz_record_kind_info(enum kz_record_kind kind)
{
	if ((unsigned)kind >= KZ_REC_KIND_COUNT)
		return NULL;
	return &kinds[kind];
}

/* ---------------------------------------------------------------- setters */

int kz_record_set_str(json_t *rec, const char *key, const char *value)
{
	if (!value || kz_utf8_check((const uint8_t *)value, strlen(value)) != strlen(value))
		return -EINVAL;
	json_t *v = json_string(value);
	if (!v)
		return -ENOMEM;
	return json_object_set_new(rec, key, v) ? -ENOMEM : 0;
}

int kz_record_set_int(json_t *rec, const char *key, int64_t value)
{
	return json_object_set_new(rec, key, json_integer((json_int_t)value)) ? -ENOMEM : 0;
}

int kz_record_set_bool(json_t *rec, const char *key, bool value)
{
	return json_object_set_new(rec, key, json_boolean(value)) ? -ENOMEM : 0;
}

int kz_record_set_time(json_t *rec, const char *key, int64_t sec)
{
	char buf[KZ_TIME_STRLEN];
	int rc = kz_time_format(sec, buf);
	if (rc)
		return rc;
	return kz_record_set_str(rec, key, buf);
}

int kz_record_set_addr(json_t *rec, const char *key, struct kz_addr addr)
{
	char buf[KZ_ADDR_STRLEN];
	return kz_record_set_str(rec, key, kz_addr_format(addr, buf));
}

/* ----------------------------------------------------------- network text */

int kz_record_set_text(json_t *rec, const char *key, const void *bytes, size_t len, size_t cap,
                       bool *truncated)
{
	size_t lim = len < cap ? len : cap;
	/* Only a caller passing an absurd cap can get here. */
	if (lim > (SIZE_MAX - 1) / 3)
		return -ENOMEM;
	char *text = malloc(KZ_UTF8_SANITIZED_SIZE(lim));
	if (!text)
		return -ENOMEM;
	size_t n = kz_utf8_sanitize(bytes, len, cap, text, NULL);
	/* json_stringn, not json_string: a NUL from the device is data. */
	json_t *v = json_stringn(text, n);
	free(text);
	if (!v || json_object_set_new(rec, key, v))
		return -ENOMEM;
	if (truncated)
		*truncated = len > cap;
	return 0;
}

int kz_record_set_banner(json_t *rec, const void *bytes, size_t len)
{
	bool truncated;
	int rc = kz_record_set_text(rec, "extra.banner", bytes, len, KZ_BANNER_MAX, &truncated);
	if (rc)
		return rc;
	size_t lim = truncated ? KZ_BANNER_MAX : len;
	char *b64 = malloc(kz_base64_encoded_size(lim));
	if (!b64)
		return -ENOMEM;
	kz_base64_encode(bytes, lim, b64);
	rc = kz_record_set_str(rec, "extra.banner_b64", b64);
	free(b64);
	if (rc)
		return rc;
	if (truncated)
		return kz_record_set_bool(rec, "extra.banner_truncated", true);
	/* A record re-used for a second banner must not keep a stale flag. */
	json_object_del(rec, "extra.banner_truncated");
	return 0;
}

/* -------------------------------------------------------------------- ids */

#define FINDING_DOMAIN     "kizuki/finding/1"
#define OBSERVATION_DOMAIN "kizuki/observation/1"

/* Feeds one length-prefixed field to the digest. */
static int hash_field(EVP_MD_CTX *ctx, const char *p, size_t len)
{
	if (len > UINT32_MAX)
		return -EINVAL;
	uint8_t prefix[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
		              (uint8_t)len };
	if (!EVP_DigestUpdate(ctx, prefix, sizeof prefix))
		return -ENOMEM;
	if (len && !EVP_DigestUpdate(ctx, p, len))
		return -ENOMEM;
	return 0;
}

int kz_id_hash(const char *domain, const struct kz_id_field *fields, size_t n,
               char out[KZ_ID_STRLEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int rc = -ENOMEM;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto fail;
	rc = hash_field(ctx, domain, strlen(domain));
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = hash_field(ctx, fields[i].p, fields[i].len);
	if (rc)
		goto fail;
	rc = -ENOMEM;
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen < KZ_ID_HEXLEN / 2)
		goto fail;
	kz_hex_encode(md, KZ_ID_HEXLEN / 2, out);
	rc = 0;
fail:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* A NUL-terminated string as an id field (the NUL is not hashed). */
static struct kz_id_field text_field(const char *s)
{
	struct kz_id_field f = { s, strlen(s) };
	return f;
}

/* Hashes a literal list of fields into `out`, counting them for us. */
#define HASH(domain, ...)                                                                          \
	kz_id_hash(domain, (const struct kz_id_field[]){ __VA_ARGS__ },                            \
	           sizeof((const struct kz_id_field[]){ __VA_ARGS__ }) /                           \
	                   sizeof(struct kz_id_field),                                             \
	           out)

/* The service, not its status: every status of one service is one finding,
 * so a remediated device that is weak again reopens the same finding. */
int kz_finding_id_survey(struct kz_addr addr, uint16_t port, const char *application,
                         char out[KZ_ID_STRLEN])
{
	char a[KZ_ADDR_STRLEN], p[8];
	kz_addr_format(addr, a);
	snprintf(p, sizeof p, "%u", (unsigned)port);
	return HASH(FINDING_DOMAIN, text_field("survey"), text_field(a), text_field(p),
	            text_field(application));
}

/* The label is part of the finding: the same address seen as a scanner and
 * later as infected is two findings with two lifecycles. */
int kz_finding_id_source(const char *identifier, struct kz_addr addr, char out[KZ_ID_STRLEN])
{
	char a[KZ_ADDR_STRLEN];
	kz_addr_format(addr, a);
	return HASH(FINDING_DOMAIN, text_field(identifier), text_field(a));
}

int kz_finding_id_backscatter(struct kz_addr victim, char out[KZ_ID_STRLEN])
{
	char a[KZ_ADDR_STRLEN];
	kz_addr_format(victim, a);
	return HASH(FINDING_DOMAIN, text_field("backscatter"), text_field(a));
}

/* A surge is an event in time, so its interval is part of what it is; the
 * sensor too, because baselines are per sensor. */
int kz_finding_id_port_surge(const char *sensor, const char *transport, uint16_t port,
                             int64_t interval_start, char out[KZ_ID_STRLEN])
{
	char p[8], t[KZ_TIME_STRLEN];
	snprintf(p, sizeof p, "%u", (unsigned)port);
	int rc = kz_time_format(interval_start, t);
	if (rc)
		return -EINVAL;
	return HASH(FINDING_DOMAIN, text_field("port-surge"), text_field(sensor),
	            text_field(transport), text_field(p), text_field(t));
}

int kz_finding_id_survey_run(const char *run_id, const char *part, char out[KZ_ID_STRLEN])
{
	return HASH(FINDING_DOMAIN, text_field("survey-run"), text_field(run_id), text_field(part));
}

int kz_observation_id_run(const char *finding_id, const char *run_id, char out[KZ_ID_STRLEN])
{
	return HASH(OBSERVATION_DOMAIN, text_field(finding_id), text_field("run"),
	            text_field(run_id));
}

int kz_observation_id_interval(const char *finding_id, const char *sensor, int64_t interval_start,
                               char out[KZ_ID_STRLEN])
{
	char t[KZ_TIME_STRLEN];
	if (kz_time_format(interval_start, t))
		return -EINVAL;
	return HASH(OBSERVATION_DOMAIN, text_field(finding_id), text_field("interval"),
	            text_field(sensor), text_field(t));
}

int kz_observation_id_time(const char *finding_id, const char *feed_name, int64_t time_source,
                           char out[KZ_ID_STRLEN])
{
	char t[KZ_TIME_STRLEN];
	if (kz_time_format(time_source, t))
		return -EINVAL;
	return HASH(OBSERVATION_DOMAIN, text_field(finding_id), text_field("time"),
	            text_field(feed_name), text_field(t));
}

/* ---------------------------------------------------------------- builder */

/* Lowercase printable ASCII, 1..100 bytes: what IntelMQ allows in
 * classification.identifier's neighbours protocol.application and
 * malware.name, and what we hash. */
static bool lower_token(const char *s)
{
	size_t n = 0;
	if (!s || !*s)
		return false;
	for (; s[n]; n++) {
		if (s[n] < ' ' || s[n] > '~' || (s[n] >= 'A' && s[n] <= 'Z'))
			return false;
	}
	return n <= 100;
}

static bool utf8_text(const char *s)
{
	size_t n = strlen(s);
	return kz_utf8_check((const uint8_t *)s, n) == n;
}

/* An address a record may name: not unspecified (IntelMQ refuses 0.0.0.0). */
static bool addr_usable(struct kz_addr a)
{
	return a.v != 0 && !(kz_addr_is_v4(a) && kz_addr_v4(a) == 0);
}

/* Kinds that share key fields and id tuples. */
enum kind_group { GROUP_SOURCE, GROUP_VICTIM, GROUP_SURGE, GROUP_SURVEY, GROUP_RUN };

static enum kind_group group_of(enum kz_record_kind k)
{
	switch (k) {
	case KZ_REC_INFECTED:
	case KZ_REC_SCANNER:
		return GROUP_SOURCE;
	case KZ_REC_DOS_VICTIM:
		return GROUP_VICTIM;
	case KZ_REC_PORT_SURGE:
		return GROUP_SURGE;
	case KZ_REC_SURVEY_RUN:
		return GROUP_RUN;
	default:
		return GROUP_SURVEY;
	}
}

/* Checks the spec against what its kind needs; sets *why. */
static int spec_check(const struct kz_record_spec *sp, const char **why)
{
	enum kind_group g = group_of(sp->kind);
	if (sp->tlp > KZ_TLP_RED) {
		*why = "tlp outside the TLP 2.0 labels";
		return -EINVAL;
	}
	if (sp->identifier && !kinds[sp->kind].identifier_free) {
		*why = "this kind's classification.identifier is fixed";
		return -EINVAL;
	}
	if (sp->identifier && !lower_token(sp->identifier)) {
		*why = "identifier must be lowercase printable ASCII, 1-100 bytes";
		return -EINVAL;
	}
	if (g == GROUP_SOURCE || g == GROUP_VICTIM || g == GROUP_SURGE) {
		if (!sp->sensor || !*sp->sensor) {
			*why = "a telescope record needs the sensor's name";
			return -EINVAL;
		}
		if (!utf8_text(sp->sensor)) {
			*why = "the sensor's name is not valid UTF-8";
			return -EINVAL;
		}
	} else {
		if (!sp->run_id || !*sp->run_id) {
			*why = "a survey record needs the run id";
			return -EINVAL;
		}
		if (!utf8_text(sp->run_id)) {
			*why = "the run id is not valid UTF-8";
			return -EINVAL;
		}
		if (!addr_usable(sp->scanner_ip)) {
			*why = "a survey record needs the scanner's address";
			return -EINVAL;
		}
	}
	if ((g == GROUP_SOURCE || g == GROUP_VICTIM || g == GROUP_SURVEY) &&
	    !addr_usable(sp->addr)) {
		*why = "the record's address is missing or unspecified";
		return -EINVAL;
	}
	if (g == GROUP_SURVEY && !lower_token(sp->application)) {
		*why = "a survey record needs protocol.application in lowercase";
		return -EINVAL;
	}
	if (g == GROUP_SURGE && !lower_token(sp->transport)) {
		*why = "a port surge needs protocol.transport in lowercase";
		return -EINVAL;
	}
	if (g == GROUP_RUN && (!sp->run_part || (strcmp(sp->run_part, "header") != 0 &&
	                                         strcmp(sp->run_part, "trailer") != 0))) {
		*why = "a run record's part is \"header\" or \"trailer\"";
		return -EINVAL;
	}
	return 0;
}

/* Adds the kind's key fields and both ids. Returns 0 or a negative errno. */
static int add_subject(json_t *rec, const struct kz_record_spec *sp, const char *identifier)
{
	char fid[KZ_ID_STRLEN], oid[KZ_ID_STRLEN];
	int rc;
	switch (group_of(sp->kind)) {
	case GROUP_SOURCE:
		if ((rc = kz_record_set_addr(rec, "source.ip", sp->addr)) ||
		    (rc = kz_finding_id_source(identifier, sp->addr, fid)))
			return rc;
		break;
	case GROUP_VICTIM:
		if ((rc = kz_record_set_addr(rec, "destination.ip", sp->addr)) ||
		    (rc = kz_finding_id_backscatter(sp->addr, fid)))
			return rc;
		break;
	case GROUP_SURGE:
		if ((rc = kz_record_set_int(rec, "destination.port", sp->port)) ||
		    (rc = kz_record_set_str(rec, "protocol.transport", sp->transport)) ||
		    (rc = kz_finding_id_port_surge(sp->sensor, sp->transport, sp->port,
		                                   sp->interval_start, fid)))
			return rc;
		break;
	case GROUP_SURVEY:
		if ((rc = kz_record_set_addr(rec, "source.ip", sp->addr)) ||
		    (rc = kz_record_set_int(rec, "source.port", sp->port)) ||
		    (rc = kz_record_set_str(rec, "protocol.transport", "tcp")) ||
		    (rc = kz_record_set_str(rec, "protocol.application", sp->application)) ||
		    (rc = kz_finding_id_survey(sp->addr, sp->port, sp->application, fid)))
			return rc;
		break;
	case GROUP_RUN:
		if ((rc = kz_record_set_str(rec, "extra.run_part", sp->run_part)) ||
		    (rc = kz_finding_id_survey_run(sp->run_id, sp->run_part, fid)))
			return rc;
		break;
	}
	enum kind_group g = group_of(sp->kind);
	if (g == GROUP_SOURCE || g == GROUP_VICTIM || g == GROUP_SURGE) {
		if ((rc = kz_record_set_str(rec, "extra.sensor", sp->sensor)) ||
		    (rc = kz_record_set_time(rec, "extra.interval_start", sp->interval_start)) ||
		    (rc = kz_observation_id_interval(fid, sp->sensor, sp->interval_start, oid)))
			return rc;
	} else {
		if ((rc = kz_record_set_str(rec, "extra.run_id", sp->run_id)) ||
		    (rc = kz_record_set_addr(rec, "extra.scanner_ip", sp->scanner_ip)) ||
		    (rc = kz_observation_id_run(fid, sp->run_id, oid)))
			return rc;
	}
	if ((rc = kz_record_set_str(rec, "extra.finding_id", fid)) ||
	    (rc = kz_record_set_str(rec, "extra.observation_id", oid)))
		return rc;
	return 0;
}

int kz_record_new(const struct kz_record_spec *sp, json_t **out, const char **why)
{
	const struct kz_record_kind_info *k = kz_record_kind_info(sp->kind);
	char identifier[128];
	int rc;
	*out = NULL;
	if (!k) {
		*why = "unknown record kind";
		return -EINVAL;
	}
	if ((rc = spec_check(sp, why)))
		return rc;
	/* lower_token bounded a caller's identifier to 100 bytes, and
	 * "accessible-" plus an application is bounded the same way. */
	if (sp->identifier)
		snprintf(identifier, sizeof identifier, "%s", sp->identifier);
	else if (k->identifier)
		snprintf(identifier, sizeof identifier, "%s", k->identifier);
	else
		snprintf(identifier, sizeof identifier, "accessible-%s", sp->application);
	enum kz_tlp tlp = sp->tlp != KZ_TLP_UNSET ? sp->tlp : k->tlp;

	json_t *rec = json_object();
	if (!rec)
		return -ENOMEM;
	if ((rc = kz_record_set_str(rec, "feed.name", k->feed)) ||
	    (rc = kz_record_set_time(rec, "time.observation", sp->time_observation)) ||
	    (rc = kz_record_set_time(rec, "time.source", sp->time_source)) ||
	    (rc = kz_record_set_str(rec, "classification.taxonomy", k->taxonomy)) ||
	    (rc = kz_record_set_str(rec, "classification.type", k->type)) ||
	    (rc = kz_record_set_str(rec, "classification.identifier", identifier)) ||
	    (rc = kz_record_set_str(rec, "tlp", kz_tlp_intelmq(tlp))) ||
	    (rc = kz_record_set_str(rec, "extra.tlp", kz_tlp_name(tlp))) ||
	    (rc = add_subject(rec, sp, identifier)))
		goto fail;
	*out = rec;
	return 0;
fail:
	json_decref(rec);
	if (rc == -ENOMEM) {
		*why = "out of memory";
		return rc;
	}
	/* The other failures are times the text form cannot hold. */
	*why = "a time outside the years 0000-9999";
	return -EINVAL;
}

/* -------------------------------------------------------------- validator */

enum ftype {
	FT_STRING,    /* non-empty string */
	FT_LOWER,     /* non-empty, no uppercase ASCII letter */
	FT_UPPER,     /* non-empty, no lowercase ASCII letter */
	FT_ASCII,     /* non-empty printable ASCII ("^[ -~]+$") */
	FT_ASCII_LOW, /* printable ASCII, no uppercase */
	FT_FQDN,
	FT_URL,
	FT_BASE64,
	FT_TIME,
	FT_IP,
	FT_NETWORK,
	FT_INT,
	FT_PORT,
	FT_ASN,
	FT_FLOAT,
	FT_ACCURACY,
	FT_BOOL,
	FT_CC, /* two uppercase letters or digits */
	FT_REGISTRY,
	FT_TLP,
	FT_TAXONOMY,
	FT_CTYPE,
	FT_JSON_TEXT,
	FT_EVENT_HASH,
	FT_UUID,
	/* kizuki's own extra.* fields */
	FT_TLP2,
	FT_ID,
	FT_RUN_PART,
	FT_ANY_STRING, /* a string, possibly empty */
};

/* The fields the validator asks for after its per-field pass (required
 * ones, tlp): each has a slot, filled in that pass, so that asking costs
 * nothing where a scan of the record's fields per question was a fifth of
 * the validator's time. */
enum seen_slot {
	S_NONE,
	S_FEED_NAME,
	S_TIME_SOURCE,
	S_TIME_OBSERVATION,
	S_TAXONOMY,
	S_CTYPE,
	S_IDENTIFIER,
	S_TLP,
	S_EXTRA_TLP,
	S_FINDING_ID,
	S_OBSERVATION_ID,
	S_SENSOR,
	S_RUN_ID,
	S_SCANNER_IP,
	S_RUN_PART,
	S_COUNT,
};

struct field {
	const char *name;
	enum ftype type;
	unsigned maxlen;     /* in characters; 0 for none */
	enum seen_slot slot; /* S_NONE unless the validator asks for it later */
};

/* IntelMQ 3.x event harmonisation, sorted by name (looked up by bsearch).
 * "extra" itself (a JSON dict) is absent: records are flat, extra.* keys. */
static const struct field intelmq_fields[] = {
	{ "__type", FT_STRING, 0, S_NONE }, /* IntelMQ's own dumps may carry "Event" */
	{ "classification.identifier", FT_STRING, 0, S_IDENTIFIER },
	{ "classification.taxonomy", FT_TAXONOMY, 100, S_TAXONOMY },
	{ "classification.type", FT_CTYPE, 0, S_CTYPE },
	{ "comment", FT_STRING, 0, S_NONE },
	{ "destination.abuse_contact", FT_LOWER, 0, S_NONE },
	{ "destination.account", FT_STRING, 0, S_NONE },
	{ "destination.allocated", FT_TIME, 0, S_NONE },
	{ "destination.as_name", FT_STRING, 0, S_NONE },
	{ "destination.asn", FT_ASN, 0, S_NONE },
	{ "destination.domain_suffix", FT_FQDN, 0, S_NONE },
	{ "destination.fqdn", FT_FQDN, 0, S_NONE },
	{ "destination.geolocation.cc", FT_CC, 2, S_NONE },
	{ "destination.geolocation.city", FT_STRING, 0, S_NONE },
	{ "destination.geolocation.country", FT_STRING, 0, S_NONE },
	{ "destination.geolocation.latitude", FT_FLOAT, 0, S_NONE },
	{ "destination.geolocation.longitude", FT_FLOAT, 0, S_NONE },
	{ "destination.geolocation.region", FT_STRING, 0, S_NONE },
	{ "destination.geolocation.state", FT_STRING, 0, S_NONE },
	{ "destination.ip", FT_IP, 0, S_NONE },
	{ "destination.local_hostname", FT_STRING, 0, S_NONE },
	{ "destination.local_ip", FT_IP, 0, S_NONE },
	{ "destination.network", FT_NETWORK, 0, S_NONE },
	{ "destination.port", FT_PORT, 0, S_NONE },
	{ "destination.registry", FT_REGISTRY, 7, S_NONE },
	{ "destination.reverse_dns", FT_FQDN, 0, S_NONE },
	{ "destination.tor_node", FT_BOOL, 0, S_NONE },
	{ "destination.url", FT_URL, 0, S_NONE },
	{ "destination.urlpath", FT_STRING, 0, S_NONE },
	{ "event_description.target", FT_STRING, 0, S_NONE },
	{ "event_description.text", FT_STRING, 0, S_NONE },
	{ "event_description.url", FT_URL, 0, S_NONE },
	{ "event_hash", FT_EVENT_HASH, 40, S_NONE },
	{ "feed.accuracy", FT_ACCURACY, 0, S_NONE },
	{ "feed.code", FT_STRING, 100, S_NONE },
	{ "feed.documentation", FT_STRING, 0, S_NONE },
	{ "feed.name", FT_STRING, 0, S_FEED_NAME },
	{ "feed.provider", FT_STRING, 0, S_NONE },
	{ "feed.url", FT_URL, 0, S_NONE },
	{ "malware.hash.md5", FT_ASCII, 200, S_NONE },
	{ "malware.hash.sha1", FT_ASCII, 200, S_NONE },
	{ "malware.hash.sha256", FT_ASCII, 200, S_NONE },
	{ "malware.name", FT_ASCII_LOW, 0, S_NONE },
	{ "malware.version", FT_ASCII, 0, S_NONE },
	{ "misp.attribute_uuid", FT_UUID, 36, S_NONE },
	{ "misp.event_uuid", FT_UUID, 36, S_NONE },
	{ "output", FT_JSON_TEXT, 0, S_NONE },
	{ "protocol.application", FT_ASCII_LOW, 100, S_NONE },
	/* IntelMQ also matches transport against the names of /etc/protocols;
	 * we check the form and length only. */
	{ "protocol.transport", FT_ASCII_LOW, 11, S_NONE },
	{ "raw", FT_BASE64, 0, S_NONE },
	{ "rtir_id", FT_INT, 0, S_NONE },
	{ "screenshot_url", FT_URL, 0, S_NONE },
	{ "source.abuse_contact", FT_LOWER, 0, S_NONE },
	{ "source.account", FT_STRING, 0, S_NONE },
	{ "source.allocated", FT_TIME, 0, S_NONE },
	{ "source.as_name", FT_STRING, 0, S_NONE },
	{ "source.asn", FT_ASN, 0, S_NONE },
	{ "source.domain_suffix", FT_FQDN, 0, S_NONE },
	{ "source.fqdn", FT_FQDN, 0, S_NONE },
	{ "source.geolocation.cc", FT_CC, 2, S_NONE },
	{ "source.geolocation.city", FT_STRING, 0, S_NONE },
	{ "source.geolocation.country", FT_STRING, 0, S_NONE },
	{ "source.geolocation.cymru_cc", FT_CC, 2, S_NONE },
	{ "source.geolocation.geoip_cc", FT_CC, 2, S_NONE },
	{ "source.geolocation.latitude", FT_FLOAT, 0, S_NONE },
	{ "source.geolocation.longitude", FT_FLOAT, 0, S_NONE },
	{ "source.geolocation.region", FT_STRING, 0, S_NONE },
	{ "source.geolocation.state", FT_STRING, 0, S_NONE },
	{ "source.ip", FT_IP, 0, S_NONE },
	{ "source.local_hostname", FT_STRING, 0, S_NONE },
	{ "source.local_ip", FT_IP, 0, S_NONE },
	{ "source.network", FT_NETWORK, 0, S_NONE },
	{ "source.port", FT_PORT, 0, S_NONE },
	{ "source.registry", FT_REGISTRY, 7, S_NONE },
	{ "source.reverse_dns", FT_FQDN, 0, S_NONE },
	{ "source.tor_node", FT_BOOL, 0, S_NONE },
	{ "source.url", FT_URL, 0, S_NONE },
	{ "source.urlpath", FT_STRING, 0, S_NONE },
	{ "status", FT_STRING, 0, S_NONE },
	{ "time.observation", FT_TIME, 0, S_TIME_OBSERVATION },
	{ "time.source", FT_TIME, 0, S_TIME_SOURCE },
	{ "tlp", FT_TLP, 0, S_TLP },
};

/* The extra.* fields whose meaning kizuki defines (CONTRACT.md), sorted. Any
 * other extra.* key is accepted with any scalar value or array of scalars. */
static const struct field kizuki_extra_fields[] = {
	{ "extra.banner", FT_ANY_STRING, 0, S_NONE },
	{ "extra.banner_b64", FT_BASE64, 0, S_NONE },
	{ "extra.banner_truncated", FT_BOOL, 0, S_NONE },
	{ "extra.end", FT_TIME, 0, S_NONE },
	{ "extra.finding_id", FT_ID, 0, S_FINDING_ID },
	{ "extra.first_seen", FT_TIME, 0, S_NONE },
	{ "extra.interval_start", FT_TIME, 0, S_NONE },
	{ "extra.last_seen", FT_TIME, 0, S_NONE },
	{ "extra.observation_id", FT_ID, 0, S_OBSERVATION_ID },
	{ "extra.run_id", FT_STRING, 0, S_RUN_ID },
	{ "extra.run_part", FT_RUN_PART, 0, S_RUN_PART },
	{ "extra.scanner_ip", FT_IP, 0, S_SCANNER_IP },
	{ "extra.sensor", FT_STRING, 0, S_SENSOR },
	{ "extra.start", FT_TIME, 0, S_NONE },
	{ "extra.tlp", FT_TLP2, 0, S_EXTRA_TLP },
};

/* ClassificationTaxonomy.allowed_values (IntelMQ 3.x). */
static const char *const taxonomies[] = {
	"abusive-content",
	"availability",
	"fraud",
	"information-content-security",
	"information-gathering",
	"intrusion-attempts",
	"intrusions",
	"malicious-code",
	"other",
	"test",
	"vulnerable",
};

/* ClassificationType.allowed_values (IntelMQ 3.x). */
static const char *const ctypes[] = {
	"application-compromise",
	"blacklist",
	"brute-force",
	"burglary",
	"c2-server",
	"copyright",
	"data-leak",
	"data-loss",
	"ddos",
	"ddos-amplifier",
	"dga-domain",
	"dos",
	"exploit",
	"harmful-speech",
	"ids-alert",
	"infected-system",
	"information-disclosure",
	"malware",
	"malware-configuration",
	"malware-distribution",
	"masquerade",
	"misconfiguration",
	"other",
	"outage",
	"phishing",
	"potentially-unwanted-accessible",
	"privileged-account-compromise",
	"proxy",
	"sabotage",
	"scanner",
	"sniffing",
	"social-engineering",
	"spam",
	"system-compromise",
	"test",
	"tor",
	"unauthorised-information-access",
	"unauthorised-information-modification",
	"unauthorized-use-of-resources",
	"undetermined",
	"unprivileged-account-compromise",
	"violence",
	"vulnerable-system",
	"weak-crypto",
};

static const char *const registries[] = { "AFRINIC", "APNIC", "ARIN", "LACNIC", "RIPE" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A binary search of a table sorted by name, written out: bsearch's
 * comparison through a function pointer was most of a lookup's cost, and
 * the validator looks up every field of every record. */
static const struct field *lookup(const struct field *table, size_t n, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, table[mid].name);
		if (c == 0)
			return &table[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Membership in a sorted list of names (taxonomies, types, registries). */
static bool in_list(const char *s, const char *const *list, size_t n)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s, list[mid]);
		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

__attribute__((format(printf, 3, 4))) static int failf(char *why, size_t whylen, const char *fmt,
                                                       ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (whylen)
		vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define KEYBUF (KZ_UTF8_SANITIZED_SIZE(64) + 4)

/* A key fit for a message: at most 64 bytes ending on a character boundary,
 * control characters shown as '?', so that a hostile key can neither flood
 * the reply nor inject a line into a log. */
static const char *printable_key(const char *key, char buf[KEYBUF])
{
	size_t len = strlen(key), used;
	size_t n = kz_utf8_sanitize((const uint8_t *)key, len, 64, buf, &used);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	if (used < len)
		memcpy(buf + n, "...", 4);
	return buf;
}

/* IntelMQ's HARMONIZATION_KEY_FORMAT: ^[a-z_][a-z_0-9]+(\.[a-z_0-9]+)*$ */
static bool key_format_ok(const char *k)
{
	size_t i = 0;
	if (!((k[0] >= 'a' && k[0] <= 'z') || k[0] == '_'))
		return false;
	for (i = 1;; i++) {
		size_t seg = 0;
		for (; (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_';
		     i++)
			seg++;
		/* The first segment needs two characters in all ([a-z_][a-z_0-9]+). */
		if (seg == 0 || (k[i] != '\0' && k[i] != '.'))
			return false;
		if (k[i] == '\0')
			return true;
	}
}

static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static bool has_upper(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

static bool has_lower(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'a' && s[i] <= 'z')
			return true;
	return false;
}

static bool printable_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < ' ' || s[i] > '~')
			return false;
	return true;
}

/* IntelMQ's FQDN: lowercase ASCII (its IDNA round trip refuses other
 * letters), no leading or trailing dot, no ':', not a URL, not an address. */
static bool fqdn_ok(const char *s, size_t len)
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.' || has_upper(s, len))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || strchr(":/?#", s[i]))
			return false;
	struct kz_addr a;
	const char *why;
	return kz_addr_parse(s, &a, &why) != 0;
}

/* IntelMQ's URL: what urlsplit gives a non-empty network location, i.e.
 * "//host..." optionally after a scheme ("[A-Za-z][A-Za-z0-9+.-]*:"). */
static bool url_ok(const char *s, size_t len)
{
	size_t i = 0;
	if (len == 0 || s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r')
		return false;
	if ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) {
		size_t j = 1;
		while (j < len && (strchr("+.-", s[j]) || (s[j] >= 'a' && s[j] <= 'z') ||
		                   (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= '0' && s[j] <= '9')))
			j++;
		if (j < len && s[j] == ':')
			i = j + 1;
	}
	if (len - i < 3 || s[i] != '/' || s[i + 1] != '/')
		return false;
	return !strchr("/?#", s[i + 2]);
}

/* Decoded a quantum group at a time into a small buffer: the same rules
 * as kz_base64_decode (which the pieces share, each a whole number of
 * quanta, padding only in the last), without an allocation per value. */
static bool base64_ok(const char *s, size_t len)
{
	uint8_t tmp[192];
	if (len % 4 != 0)
		return false;
	for (size_t off = 0; off < len; off += 256) {
		size_t piece = len - off < 256 ? len - off : 256;
		/* Padding inside an earlier piece is refused by the piece itself
		 * only if it is not that piece's end: check it here. */
		if (off + piece < len && memchr(s + off, '=', piece))
			return false;
		if (kz_base64_decode(s + off, piece, tmp) < 0)
			return false;
	}
	return true;
}

static bool uuid_ok(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-'
		         : !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	}
	return true;
}

static bool id_ok(const char *s, size_t len)
{
	if (len != KZ_ID_HEXLEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static double rval_number(const struct kz_rval *v)
{
	return v->type == KZ_RVAL_INT ? (double)v->i : v->d;
}

static const char *rval_kind(const struct kz_rval *v)
{
	switch (v->type) {
	case KZ_RVAL_OBJECT:
		return "an object";
	case KZ_RVAL_ARRAY:
		return "an array";
	case KZ_RVAL_STRING:
		return "a string";
	case KZ_RVAL_INT:
		return "an integer";
	case KZ_RVAL_REAL:
		return "a real number";
	case KZ_RVAL_BOOL:
		return "a boolean";
	case KZ_RVAL_NULL:
		return "null";
	}
	return "?";
}

/* Checks one value against its field's type. Reasons name the field from
 * our own table, never the (untrusted) value, so they stay short and safe
 * to put in a JSON reply or a log line. */
static int check_value(const struct field *f, const struct kz_rval *v, char *why, size_t whylen)
{
	const char *name = f->name;
	switch (f->type) {
	case FT_INT:
	case FT_PORT:
	case FT_ASN: {
		if (v->type != KZ_RVAL_INT)
			return failf(why, whylen, "%s: expected an integer, got %s", name,
			             rval_kind(v));
		int64_t n = v->i;
		if (f->type == FT_PORT && (n < 0 || n > 65535))
			return failf(why, whylen, "%s: port outside 0-65535", name);
		if (f->type == FT_ASN && (n < 1 || n > 4294967295LL))
			return failf(why, whylen, "%s: AS number outside 1-4294967295", name);
		return 0;
	}
	case FT_FLOAT:
	case FT_ACCURACY:
		if (v->type != KZ_RVAL_INT && v->type != KZ_RVAL_REAL)
			return failf(why, whylen, "%s: expected a number, got %s", name,
			             rval_kind(v));
		if (f->type == FT_ACCURACY && (rval_number(v) < 0 || rval_number(v) > 100))
			return failf(why, whylen, "%s: accuracy outside 0-100", name);
		return 0;
	case FT_BOOL:
		if (v->type != KZ_RVAL_BOOL)
			return failf(why, whylen, "%s: expected true or false, got %s", name,
			             rval_kind(v));
		return 0;
	default:
		break;
	}

	if (v->type != KZ_RVAL_STRING)
		return failf(why, whylen, "%s: expected a string, got %s", name, rval_kind(v));
	const char *s = v->s;
	size_t len = v->len;
	if (len == 0 && f->type != FT_ANY_STRING)
		return failf(why, whylen, "%s: empty string", name);
	if (f->maxlen && utf8_chars(s, len) > f->maxlen)
		return failf(why, whylen, "%s: longer than %u characters", name, f->maxlen);
	/* Every check below reads s as a C string. */
	if (f->type != FT_STRING && f->type != FT_ANY_STRING && memchr(s, 0, len))
		return failf(why, whylen, "%s: contains a NUL character", name);

	const char *reason = NULL;
	switch (f->type) {
	case FT_STRING:
	case FT_ANY_STRING:
		return 0;
	case FT_LOWER:
		if (has_upper(s, len))
			return failf(why, whylen, "%s: must be lowercase", name);
		return 0;
	case FT_UPPER:
		if (has_lower(s, len))
			return failf(why, whylen, "%s: must be uppercase", name);
		return 0;
	case FT_ASCII:
	case FT_ASCII_LOW:
		if (!printable_ascii(s, len))
			return failf(why, whylen, "%s: only printable ASCII is allowed", name);
		if (f->type == FT_ASCII_LOW && has_upper(s, len))
			return failf(why, whylen, "%s: must be lowercase", name);
		return 0;
	case FT_FQDN:
		if (!fqdn_ok(s, len))
			return failf(why, whylen,
			             "%s: not a lowercase domain name (no trailing dot, port, "
			             "path or address)",
			             name);
		return 0;
	case FT_URL:
		if (!url_ok(s, len))
			return failf(why, whylen, "%s: not a URL with a host", name);
		return 0;
	case FT_BASE64:
		if (!base64_ok(s, len))
			return failf(why, whylen, "%s: not canonical base64 (RFC 4648, padded)",
			             name);
		return 0;
	case FT_TIME: {
		int64_t sec;
		uint32_t nsec;
		if (kz_time_parse_mem(s, len, &sec, &nsec, &reason))
			return failf(why, whylen, "%s: not an ISO 8601 time: %s", name, reason);
		return 0;
	}
	case FT_IP: {
		struct kz_addr a;
		if (kz_addr_parse(s, &a, &reason))
			return failf(why, whylen, "%s: not an IP address: %s", name, reason);
		if (kz_addr_is_v4(a) && kz_addr_v4(a) == 0)
			return failf(why, whylen, "%s: 0.0.0.0 is not an address IntelMQ accepts",
			             name);
		return 0;
	}
	case FT_NETWORK: {
		struct kz_cidr c;
		if (kz_cidr_parse(s, &c, &reason))
			return failf(why, whylen, "%s: not a network: %s", name, reason);
		return 0;
	}
	case FT_CC:
		if (len != 2 || has_lower(s, len) || !printable_ascii(s, len) ||
		    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != 2)
			return failf(why, whylen, "%s: not a two-letter uppercase country code",
			             name);
		return 0;
	case FT_REGISTRY:
		if (!in_list(s, registries, COUNT(registries)))
			return failf(why, whylen,
			             "%s: not one of AFRINIC, APNIC, ARIN, LACNIC, RIPE", name);
		return 0;
	case FT_TLP: {
		enum kz_tlp t;
		if (kz_tlp_parse_intelmq(s, &t))
			return failf(why, whylen, "%s: not one of WHITE, GREEN, AMBER, RED", name);
		return 0;
	}
	case FT_TLP2: {
		enum kz_tlp t;
		if (kz_tlp_parse_canonical(s, &t))
			return failf(why, whylen,
			             "%s: not one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED", name);
		return 0;
	}
	case FT_TAXONOMY:
		if (!in_list(s, taxonomies, COUNT(taxonomies)))
			return failf(why, whylen, "%s: not an IntelMQ taxonomy", name);
		return 0;
	case FT_CTYPE:
		if (!in_list(s, ctypes, COUNT(ctypes)))
			return failf(why, whylen, "%s: not an IntelMQ classification type", name);
		return 0;
	case FT_JSON_TEXT: {
		json_error_t jerr;
		json_t *j = json_loadb(s, len, JSON_DECODE_ANY, &jerr);
		if (!j)
			return failf(why, whylen, "%s: not JSON text", name);
		json_decref(j);
		return 0;
	}
	case FT_EVENT_HASH:
		if (strspn(s, "ABCDEF0123456789./") != len)
			return failf(why, whylen, "%s: only A-F, 0-9, '.' and '/' are allowed",
			             name);
		return 0;
	case FT_UUID:
		if (!uuid_ok(s, len))
			return failf(why, whylen, "%s: not a lowercase UUID", name);
		return 0;
	case FT_ID:
		if (!id_ok(s, len))
			return failf(why, whylen, "%s: not 32 lowercase hex digits", name);
		return 0;
	case FT_RUN_PART:
		if (strcmp(s, "header") != 0 && strcmp(s, "trailer") != 0)
			return failf(why, whylen, "%s: not \"header\" or \"trailer\"", name);
		return 0;
	default:
		return 0;
	}
}

/* Any other extra.* value: a scalar, or an array of scalars. */
static int check_extra(const char *key, const struct kz_rval *v, char *why, size_t whylen)
{
	char kb[KEYBUF];
	if (v->type == KZ_RVAL_OBJECT)
		return failf(why, whylen, "%s: a nested object; records are flat (dotted keys)",
		             printable_key(key, kb));
	if (v->type == KZ_RVAL_ARRAY && v->nested)
		return failf(why, whylen,
		             "%s: an array may hold only strings, numbers, booleans and null",
		             printable_key(key, kb));
	return 0;
}

/* Names of the slots, for the reasons of require(). */
static const char *const slot_names[S_COUNT] = {
	[S_FEED_NAME] = "feed.name",
	[S_TIME_SOURCE] = "time.source",
	[S_TIME_OBSERVATION] = "time.observation",
	[S_TAXONOMY] = "classification.taxonomy",
	[S_CTYPE] = "classification.type",
	[S_IDENTIFIER] = "classification.identifier",
	[S_TLP] = "tlp",
	[S_EXTRA_TLP] = "extra.tlp",
	[S_FINDING_ID] = "extra.finding_id",
	[S_OBSERVATION_ID] = "extra.observation_id",
	[S_SENSOR] = "extra.sensor",
	[S_RUN_ID] = "extra.run_id",
	[S_SCANNER_IP] = "extra.scanner_ip",
	[S_RUN_PART] = "extra.run_part",
};

static int require(const struct kz_rfield *const seen[S_COUNT], enum seen_slot slot,
                   const char *feed, char *why, size_t whylen)
{
	const char *key = slot_names[slot];
	if (seen[slot])
		return 0;
	if (feed)
		return failf(why, whylen, "%s: missing (required in %s records)", key, feed);
	return failf(why, whylen, "%s: missing (required in every record)", key);
}

/* A string field's value as a C string in buf (cut at bufsize - 1). */
static const char *field_text(const struct kz_rfield *f, char *buf, size_t bufsize)
{
	if (!f || f->v.type != KZ_RVAL_STRING)
		return NULL;
	size_t n = f->v.len < bufsize - 1 ? f->v.len : bufsize - 1;
	memcpy(buf, f->v.s, n);
	buf[n] = '\0';
	return buf;
}

int kz_record_validate_fields(const struct kz_rfield *fields, size_t n, char *why, size_t whylen)
{
	char kb[KEYBUF];
	int rc;
	/* The first field of each slot's name, as a scan in order finds it. */
	const struct kz_rfield *seen[S_COUNT] = { NULL };
	/* Per key first (type errors name the offending field), then what
	 * must be present. The order is the line's own, so the first error
	 * reported is stable for a given line. */
	for (size_t i = 0; i < n; i++) {
		const char *key = fields[i].key;
		const struct kz_rval *v = &fields[i].v;
		/* "source.ip\u0000x" would otherwise pass as source.ip. */
		if (strlen(key) != fields[i].key_len)
			return failf(why, whylen, "%s: a field name with a NUL character",
			             printable_key(key, kb));
		if (strcmp(key, "extra") == 0)
			return failf(why, whylen,
			             "extra: a nested object; records are flat (extra.* keys)");
		bool extra = strncmp(key, "extra.", 6) == 0;
		const struct field *f =
		        extra ? lookup(kizuki_extra_fields, COUNT(kizuki_extra_fields), key)
		              : lookup(intelmq_fields, COUNT(intelmq_fields), key);
		/* The tables' names are well-formed: only other keys need the
		 * check, which comes before any other reason about the key. */
		if (!f && !key_format_ok(key))
			return failf(
			        why, whylen,
			        "%s: not an IntelMQ field name (lowercase words joined by dots)",
			        printable_key(key, kb));
		if (f)
			rc = check_value(f, v, why, whylen);
		else if (extra)
			rc = check_extra(key, v, why, whylen);
		else
			return failf(why, whylen,
			             "%s: not an IntelMQ harmonisation field (put it under extra.)",
			             printable_key(key, kb));
		if (rc)
			return rc;
		if (f && f->slot != S_NONE && !seen[f->slot])
			seen[f->slot] = &fields[i];
	}

	if ((rc = require(seen, S_FEED_NAME, NULL, why, whylen)) ||
	    (rc = require(seen, S_TIME_SOURCE, NULL, why, whylen)) ||
	    (rc = require(seen, S_TAXONOMY, NULL, why, whylen)) ||
	    (rc = require(seen, S_CTYPE, NULL, why, whylen)))
		return rc;

	/* tlp may be stricter than extra.tlp says (an IntelMQ expert may have
	 * raised it), never looser. */
	char b1[16], b2[16];
	const char *t1 = field_text(seen[S_TLP], b1, sizeof b1);
	const char *t2 = field_text(seen[S_EXTRA_TLP], b2, sizeof b2);
	if (t1 && t2) {
		enum kz_tlp a, b, mapped;
		if (kz_tlp_parse_intelmq(t1, &a) || kz_tlp_parse_canonical(t2, &b) ||
		    kz_tlp_parse_intelmq(kz_tlp_intelmq(b), &mapped))
			return failf(why, whylen, "tlp: unreadable");
		if (a < mapped)
			return failf(why, whylen,
			             "tlp: %s is looser than extra.tlp %s (IntelMQ %s)", t1,
			             kz_tlp_name(b), kz_tlp_intelmq(b));
	}

	/* With one id the hub could neither trust it nor compute the other. */
	bool fid = seen[S_FINDING_ID] != NULL;
	bool oid = seen[S_OBSERVATION_ID] != NULL;
	if (fid != oid)
		return failf(why, whylen, "%s: present without %s",
		             fid ? "extra.finding_id" : "extra.observation_id",
		             fid ? "extra.observation_id" : "extra.finding_id");

	const struct kz_rfield *fd = seen[S_FEED_NAME];
	bool telescope = fd->v.len == strlen(KZ_FEED_TELESCOPE) &&
	                 memcmp(fd->v.s, KZ_FEED_TELESCOPE, fd->v.len) == 0;
	bool survey = fd->v.len == strlen(KZ_FEED_SURVEY) &&
	              memcmp(fd->v.s, KZ_FEED_SURVEY, fd->v.len) == 0;
	if (telescope || survey) {
		const char *feed = telescope ? KZ_FEED_TELESCOPE : KZ_FEED_SURVEY;
		static const enum seen_slot common[] = {
			S_TIME_OBSERVATION, S_IDENTIFIER, S_TLP,
			S_EXTRA_TLP,        S_FINDING_ID, S_OBSERVATION_ID,
		};
		for (size_t i = 0; i < COUNT(common); i++)
			if ((rc = require(seen, common[i], feed, why, whylen)))
				return rc;
		if (telescope && (rc = require(seen, S_SENSOR, feed, why, whylen)))
			return rc;
		if (survey && ((rc = require(seen, S_RUN_ID, feed, why, whylen)) ||
		               (rc = require(seen, S_SCANNER_IP, feed, why, whylen))))
			return rc;
		/* A run record is its run's header or its trailer; which one
		 * decides what the hub concludes from it (coverage). */
		const struct kz_rfield *ci = seen[S_IDENTIFIER];
		if (survey && ci->v.type == KZ_RVAL_STRING && ci->v.len == 10 &&
		    memcmp(ci->v.s, "survey-run", 10) == 0 &&
		    (rc = require(seen, S_RUN_PART, feed, why, whylen)))
			return rc;
	}
	return 0;
}

int kz_record_rval(const json_t *v, struct kz_rval *out)
{
	memset(out, 0, sizeof *out);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		out->type = KZ_RVAL_OBJECT;
		break;
	case JSON_ARRAY: {
		size_t i;
		const json_t *e;
		out->type = KZ_RVAL_ARRAY;
		json_array_foreach(v, i, e)
		{
			if (json_is_object(e) || json_is_array(e))
				out->nested = true;
		}
		break;
	}
	case JSON_STRING:
		out->type = KZ_RVAL_STRING;
		out->s = json_string_value(v);
		out->len = json_string_length(v);
		break;
	case JSON_INTEGER:
		out->type = KZ_RVAL_INT;
		out->i = (int64_t)json_integer_value(v);
		break;
	case JSON_REAL:
		out->type = KZ_RVAL_REAL;
		out->d = json_real_value(v);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		out->type = KZ_RVAL_BOOL;
		out->b = json_is_true(v);
		break;
	case JSON_NULL:
		out->type = KZ_RVAL_NULL;
		break;
	}
	return 0;
}

int kz_record_validate(const json_t *rec, char *why, size_t whylen)
{
	if (!json_is_object(rec))
		return failf(why, whylen, "not a JSON object");
	size_t n = json_object_size(rec), i = 0;
	struct kz_rfield stack[64] = { 0 };
	struct kz_rfield *fields = n <= 64 ? stack : calloc(n, sizeof *fields);
	if (!fields)
		return failf(why, whylen, "out of memory");
	const char *key;
	size_t key_len;
	json_t *v;
	/* jansson iterates in insertion order: the line's own order. */
	json_object_keylen_foreach((json_t *)rec, key, key_len, v)
	{
		if (i == n)
			break;
		fields[i].key = key;
		fields[i].key_len = key_len;
		kz_record_rval(v, &fields[i].v);
		i++;
	}
	int rc = kz_record_validate_fields(fields, i, why, whylen);
	if (fields != stack)
		free(fields);
	return rc;
}

static const json_t *get(const json_t *rec, const char *key)
{
	return json_object_get(rec, key);
}

enum kz_tlp kz_record_tlp(const json_t *rec)
{
	enum kz_tlp a = KZ_TLP_UNSET, b = KZ_TLP_UNSET, mapped;
	const char *s1 = json_string_value(get(rec, "tlp"));
	const char *s2 = json_string_value(get(rec, "extra.tlp"));
	if (s1 && kz_tlp_parse_intelmq(s1, &a))
		a = KZ_TLP_UNSET;
	if (!s2 || kz_tlp_parse_canonical(s2, &b))
		return a;
	/* tlp is extra.tlp seen through IntelMQ's coarser scale (AMBER+STRICT
	 * shows as RED): only a tlp above that mapping raised the label. */
	if (kz_tlp_parse_intelmq(kz_tlp_intelmq(b), &mapped) == 0 && a > mapped)
		return a;
	return b;
}

/* --------------------------------------------------- ids for other feeds */

/* The field as hashed: its text, or "" when absent; addresses canonical. */
static int foreign_field(const json_t *rec, const char *key, bool is_addr, char *buf, size_t buflen,
                         struct kz_id_field *f)
{
	const json_t *v = get(rec, key);
	f->p = "";
	f->len = 0;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	if (is_addr) {
		struct kz_addr a;
		const char *why;
		if (buflen < KZ_ADDR_STRLEN || kz_addr_parse(json_string_value(v), &a, &why))
			return -EINVAL;
		f->p = kz_addr_format(a, buf);
		f->len = strlen(f->p);
		return 0;
	}
	f->p = json_string_value(v);
	f->len = json_string_length(v);
	return 0;
}

int kz_record_ensure_ids(json_t *rec, char *why, size_t whylen)
{
	bool fid = get(rec, "extra.finding_id") != NULL;
	bool oid = get(rec, "extra.observation_id") != NULL;
	if (fid && oid)
		return 0;
	if (fid != oid)
		return failf(why, whylen, "one of extra.finding_id and extra.observation_id");

	/* What identifies the thing reported, in docs/records.md's order.
	 * Ports are left out: a scanning source changes its port at will. */
	static const struct {
		const char *key;
		bool is_addr;
	} keys[] = {
		{ "classification.taxonomy", false },
		{ "classification.type", false },
		{ "classification.identifier", false },
		{ "source.ip", true },
		{ "source.fqdn", false },
		{ "source.url", false },
		{ "destination.ip", true },
		{ "protocol.application", false },
	};
	struct kz_id_field fields[1 + COUNT(keys)];
	char addrs[COUNT(keys)][KZ_ADDR_STRLEN];
	fields[0].p = "intelmq";
	fields[0].len = strlen("intelmq");
	for (size_t i = 0; i < COUNT(keys); i++)
		if (foreign_field(rec, keys[i].key, keys[i].is_addr, addrs[i], sizeof addrs[i],
		                  &fields[1 + i]))
			return failf(why, whylen, "%s: unreadable; validate the record first",
			             keys[i].key);

	const char *feed = json_string_value(get(rec, "feed.name"));
	const char *ts = json_string_value(get(rec, "time.source"));
	int64_t sec;
	uint32_t nsec;
	const char *reason;
	if (!feed)
		return failf(why, whylen, "feed.name: missing");
	if (!ts || kz_time_parse_mem(ts, json_string_length(get(rec, "time.source")), &sec, &nsec,
	                             &reason))
		return failf(why, whylen, "time.source: missing or unreadable");

	char f[KZ_ID_STRLEN], o[KZ_ID_STRLEN];
	int rc;
	if ((rc = kz_id_hash(FINDING_DOMAIN, fields, COUNT(fields), f)) ||
	    (rc = kz_observation_id_time(f, feed, sec, o)))
		return rc == -ENOMEM ? rc : failf(why, whylen, "cannot hash the record's fields");
	if ((rc = kz_record_set_str(rec, "extra.finding_id", f)) ||
	    (rc = kz_record_set_str(rec, "extra.observation_id", o)))
		return rc;
	return 0;
}
