/*
 * Name-based UUIDs (RFC 9562 version 5: SHA-1 over a namespace and a name),
 * for the deterministic ids of shared objects: the same finding gets the
 * same STIX id, MISP uuid and X-ARF report id on every run and on every hub,
 * so consumers de-duplicate by id. STIX 2.1 defines the namespace for cyber
 * observables (KZ_UUID_NS_STIX, name = the JCS serialisation of the object's
 * id-contributing properties); everything else kizuki names is hashed in its
 * own namespace, KZ_UUID_NS_KIZUKI (docs/reports.md lists the names).
 */
#ifndef KZ_UUID_H
#define KZ_UUID_H

#include <openssl/types.h>
#include <stddef.h>

#define KZ_UUID_STRLEN 37 /* 36 characters and a NUL */

/* STIX 2.1's namespace for deterministic SCO ids (section 2.9). */
#define KZ_UUID_NS_STIX "00abedb4-aa42-466c-9c01-fed23315a9b7"
/* kizuki's own namespace for the ids of objects it names (a fixed random
 * UUIDv4, chosen once; changing it would change every id ever shared). */
#define KZ_UUID_NS_KIZUKI "62b99378-7cc8-4d1a-96a9-1546c0615d45"

/* Writes the version-5 UUID of name[0..len) in namespace ns (a UUID in its
 * 36-character text form) as lowercase text. Returns 0, or -EINVAL when ns
 * is not a UUID. */
int kz_uuid5(const char *ns, const void *name, size_t len, char out[KZ_UUID_STRLEN])
        __attribute__((warn_unused_result));

/* kz_uuid5 in kizuki's namespace over the fields joined by '|'
 * ("indicator|<finding id>"); at most 8 fields. Never fails for the fixed
 * namespace. */
void kz_uuid_kizuki(char out[KZ_UUID_STRLEN], size_t nfields, const char *const *fields);

/* kz_uuid_kizuki with a digest context and SHA-1 the caller fetched once
 * (EVP_MD_fetch(NULL, "SHA1", NULL)), for one id per record (an X-ARF
 * report each): EVP_sha1() is looked up under a lock at every call, a
 * third of kz_uuid_kizuki's cost. Borrows both. Returns 0 or -ENOMEM. */
int kz_uuid_kizuki_with(EVP_MD_CTX *ctx, const EVP_MD *sha1, char out[KZ_UUID_STRLEN],
                        size_t nfields, const char *const *fields)
        __attribute__((warn_unused_result));

/* True when s is a UUID in canonical text (8-4-4-4-12 hex digits). */
int kz_uuid_valid(const char *s);

#endif
