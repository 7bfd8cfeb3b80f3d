/*
 * Dashboard sessions (CONTRACT.md "Hub HTTP API"): a browser exchanges a
 * token for a session, kept in an HttpOnly, SameSite=Strict cookie, and
 * sends the session's CSRF token in an X-CSRF-Token header on every write.
 * Sessions live in the hub's memory only (a restart logs everyone out) and
 * remember the token's hash, not the token, so revoking a token in the
 * tokens file ends its sessions at the next reload.
 */
#ifndef KZ_SESSION_H
#define KZ_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "random.h"

#define KZ_SESSION_STRLEN KZ_RANDOM_TOKEN_STRLEN /* a kz_random_token */
#define KZ_SESSION_TTL    (12 * 3600)
#define KZ_SESSIONS_MAX   4096

struct kz_sessions;

int kz_sessions_new(struct kz_sessions **out) __attribute__((warn_unused_result));
void kz_sessions_free(struct kz_sessions *s);

/* A new session for the token whose hash is given; writes its id and CSRF
 * token. When the table is full the oldest session goes. Returns 0 or a
 * negative errno (no randomness). */
int kz_sessions_create(struct kz_sessions *s, const uint8_t token_hash[32], int64_t now,
                       char id[KZ_SESSION_STRLEN], char csrf[KZ_SESSION_STRLEN])
        __attribute__((warn_unused_result));

/* Finds a live session by id (compared in constant time); fills the token
 * hash and the CSRF token. */
bool kz_sessions_lookup(struct kz_sessions *s, const char *id, int64_t now, uint8_t token_hash[32],
                        char csrf[KZ_SESSION_STRLEN]);

/* Ends a session (logout). */
void kz_sessions_delete(struct kz_sessions *s, const char *id);

#endif
