/*
 * splitmix64: a small deterministic generator for what the login checks
 * derive from the engine's per-service seed (the accept-anything control
 * pair, HTTP client nonces and the random path). Reproducible per seed, so
 * a run with --seed sends the same bytes; not for secrets.
 */
#ifndef KZ_SPLITMIX_H
#define KZ_SPLITMIX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The next 64 bits of the stream whose state is *s. */
static inline uint64_t kz_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* n characters drawn from alphabet into out, then a NUL (out holds n + 1). */
static inline void kz_splitmix_text(uint64_t *s, char *out, size_t n, const char *alphabet)
{
	size_t k = strlen(alphabet);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[kz_splitmix64(s) % k];
	out[n] = '\0';
}

#endif
