/*
 * Secrets from the kernel's random source: raw bytes, and the unguessable
 * text the hub hands out (API tokens, session ids, CSRF tokens).
 */
#ifndef KZ_RANDOM_H
#define KZ_RANDOM_H

#include <stddef.h>

#define KZ_RANDOM_TOKEN_STRLEN 44 /* 43 base64url characters of 32 random bytes + NUL */

/* Fills buf with n bytes from getrandom(2). Returns 0 or a negative errno. */
int kz_random_bytes(void *buf, size_t n) __attribute__((warn_unused_result));

/* Writes 32 random bytes as unpadded base64url (safe in headers, cookies and
 * URLs) into buf. Returns 0 or a negative errno. */
int kz_random_token(char buf[KZ_RANDOM_TOKEN_STRLEN]) __attribute__((warn_unused_result));

#endif
