/*
 * Bearer tokens (CONTRACT.md "Hub HTTP API", "Files"). The hub never stores
 * a token, only its SHA-256: the tokens file holds one line per token,
 *
 *   role<TAB>name<TAB>scope<TAB>sha256-hex-of-token
 *
 * role is admin, sensor, operator or partner; scope is the operator's AS
 * numbers ("64496,64497"), the partner's TLP ceiling ("AMBER"), or "-"
 * for the others. `kizuki hub token` makes a token and prints its line.
 *
 * Checking a presented token hashes it and compares the digest with every
 * line's in constant time, so neither the position of a match nor the
 * number of matching bytes shows in the time a request takes.
 */
#ifndef KZ_TOKENS_H
#define KZ_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlp.h"

enum kz_role {
	KZ_ROLE_ADMIN,
	KZ_ROLE_SENSOR,
	KZ_ROLE_OPERATOR,
	KZ_ROLE_PARTNER,
	KZ_ROLE_COUNT,
};

#define KZ_TOKEN_ASNS_MAX 1024 /* AS numbers one operator token may hold */
#define KZ_TOKEN_NAME_MAX 128  /* bytes in a token's name */
#define KZ_TOKEN_STRLEN   48   /* "kz_" + 43 base64url characters + NUL */
#define KZ_TOKEN_HASH_HEX 65   /* 64 hex digits + NUL */

/* One line of the tokens file. Owned by its table. */
struct kz_token {
	enum kz_role role;
	const char *name;
	const uint32_t *asns; /* operator: sorted, no repeats */
	size_t nasns;
	enum kz_tlp tlp; /* partner: the ceiling */
	uint8_t hash[32];
};

struct kz_tokens;

/* "admin", "sensor", "operator", "partner"; "" outside the enum. */
const char *kz_role_name(enum kz_role r);
int kz_role_parse(const char *s, enum kz_role *out) __attribute__((warn_unused_result));

/* Loads a tokens file. Returns 0, or a negative errno with "path:line: why"
 * in err. A name or a hash listed twice is an error. */
int kz_tokens_load(const char *path, struct kz_tokens **out, char *err, size_t errlen)
        __attribute__((warn_unused_result));
int kz_tokens_load_mem(const char *name, const void *data, size_t len, struct kz_tokens **out,
                       char *err, size_t errlen) __attribute__((warn_unused_result));
void kz_tokens_free(struct kz_tokens *t);
size_t kz_tokens_count(const struct kz_tokens *t);

/* The entry whose hash is the SHA-256 of presented[0..len), or NULL. Every
 * entry is compared, in constant time each. */
const struct kz_token *kz_tokens_check(const struct kz_tokens *t, const char *presented,
                                       size_t len);

/* The entry with this hash (a session remembers its token by hash), or
 * NULL. Compared in constant time like kz_tokens_check. */
const struct kz_token *kz_tokens_find_hash(const struct kz_tokens *t, const uint8_t hash[32]);

/* The entry named name (names are unique), or NULL: `kizuki report
 * --partner` finds a partner's TLP ceiling this way. Not for
 * authentication. */
const struct kz_token *kz_tokens_find_name(const struct kz_tokens *t, const char *name);

/* True when the operator token holds asn. */
bool kz_token_has_asn(const struct kz_token *tok, uint32_t asn);

/* A new random token: "kz_" and 43 base64url characters (256 bits from
 * getrandom). Returns 0 or a negative errno. */
int kz_token_generate(char out[KZ_TOKEN_STRLEN]) __attribute__((warn_unused_result));

/* The lowercase hex SHA-256 of a token. */
void kz_token_hash_hex(const char *token, size_t len, char out[KZ_TOKEN_HASH_HEX]);

/* Reads a token from a file (--token-file): the first line, blanks around
 * it cut; the file should be readable by its owner only (a warning is
 * logged otherwise). Returns 0, or a negative errno with "path: why" in
 * err. */
int kz_token_file_read(const char *path, char *out, size_t outlen, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Parses an operator's AS list ("64496,AS64497") into a sorted, unique
 * array (caller frees). Returns 0 or -EINVAL with a reason in *why. */
int kz_token_parse_asns(const char *s, uint32_t **asns, size_t *n, const char **why)
        __attribute__((warn_unused_result));

#endif
