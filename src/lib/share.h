/*
 * Sharing with partners (CONTRACT.md "Reports and sharing", docs/reports.md):
 * what every shared feed (STIX 2.1 bundle, MISP feed) has in common.
 *
 *  - A feed is cut to a TLP ceiling: a finding whose label (the most
 *    restrictive of its observations) is above the ceiling is not in it,
 *    and anything merged from several findings carries the most
 *    restrictive label among them.
 *  - With a partner key, every address is replaced by its Crypto-PAn
 *    pseudonym under that key, and a pseudonym is never written where a
 *    consumer would take it for an address (no STIX indicator or address
 *    object, no MISP ip-src/ip-dst attribute).
 *  - Feeds never hold credentials, banners, sightings' origins or anything
 *    else that could name a device's owner or an anonymous submitter.
 *
 * The partner keys file: one line per partner,
 *     partner<TAB>key-id<TAB>hex-key
 * where hex-key is the 32-byte Crypto-PAn key as 64 hex digits and key-id a
 * short name for it ([A-Za-z0-9._-], 1-64 characters) that goes out with
 * every pseudonym, so that a partner knows which key (after a rotation)
 * made it. '#' starts a comment. The file must not be readable or writable
 * by group or others (mode 0600 or stricter): it is refused otherwise.
 */
#ifndef KZ_SHARE_H
#define KZ_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cryptopan.h"
#include "frow.h"
#include "report.h"
#include "tlp.h"

#define KZ_KEY_ID_MAX 64

/* One partner's key. Owned by its table. */
struct kz_partner_key {
	const char *partner;
	char key_id[KZ_KEY_ID_MAX + 1];
	uint8_t key[KZ_CRYPTOPAN_KEYLEN];
};

struct kz_partner_keys;

/* Loads the partner keys file. Returns 0, or a negative errno with
 * "path:line: why" (or "path: why", for the file's mode) in err: -EACCES
 * when group or others may read or write it, -EINVAL for a bad line, a
 * partner listed twice or a key that is not 64 hex digits. */
int kz_partner_keys_load(const char *path, struct kz_partner_keys **out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Frees the table and wipes the keys. NULL is fine. */
void kz_partner_keys_free(struct kz_partner_keys *k);

/* The key of partner (a token's name), or NULL. */
const struct kz_partner_key *kz_partner_keys_find(const struct kz_partner_keys *k,
                                                  const char *partner);

/* What one shared feed holds. Borrowed for the call. */
struct kz_feed_opts {
	enum kz_tlp tlp_max;      /* the partner's ceiling; KZ_TLP_UNSET: every label (admin) */
	int64_t since;            /* findings last seen at or after; INT64_MIN: all */
	int64_t now;              /* when the feed is made */
	const struct kz_org *org; /* the identity; NULL: kz_org_default */
	const struct kz_partner_key *key; /* NULL: real addresses */
	int64_t period;                   /* MISP: seconds per event (0: one day) */
};

/* Per-feed pseudonymiser (Crypto-PAn is not thread-safe: one per feed). */
struct kz_pseudo {
	struct kz_cryptopan *cp;
	const char *key_id;
};

/* Sets up the pseudonymiser for key (NULL: none; pseudonymise then fails).
 * Returns 0 or a negative errno. */
int kz_pseudo_init(struct kz_pseudo *p, const struct kz_partner_key *key)
        __attribute__((warn_unused_result));
void kz_pseudo_clear(struct kz_pseudo *p);

/* Writes the pseudonym of the address text ip into out (KZ_ADDR_STRLEN).
 * Returns 0, or -EINVAL when ip does not parse. */
int kz_pseudo_addr(struct kz_pseudo *p, const char *ip, char *out)
        __attribute__((warn_unused_result));

/* True when a finding goes into shared feeds at all: it has an address
 * (port surges have none; they are shared as port statistics). */
bool kz_share_has_subject(const struct kz_frow *f);

/* True when the finding's address is the source of what was seen (infected
 * hosts, scanners, other producers' sources): MISP ip-src, and an indicator
 * of malicious or anomalous activity. False for victims and surveyed
 * devices (ip-dst). */
bool kz_share_is_source(const struct kz_frow *f);

#endif
