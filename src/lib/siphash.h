/*
 * SipHash-2-4 with a 64-bit output (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012), written by hand.
 *
 * Why by hand: the telescope hashes every packet's source address, and the
 * survey derives the source port, sequence number and IP ID of every probe
 * from a keyed hash and checks every reply the same way. Those inputs are 8
 * to 40 bytes. OpenSSL's EVP_MAC SipHash needs an init with the key and a
 * parameter lookup on every call, which costs more than the hash itself at
 * these sizes; here the key is loaded once into a struct kz_siphash_key and
 * the fixed-size helpers below compile to straight-line code in the caller.
 *
 * Byte conventions are the paper's: the key is 16 bytes (k0 = bytes 0..7 and
 * k1 = bytes 8..15, little-endian); a message is a byte string read in
 * little-endian 64-bit words. Every helper states which byte string it hashes,
 * so that kz_siphash24() over those bytes gives the same value.
 */
#ifndef KZ_SIPHASH_H
#define KZ_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define KZ_SIPHASH_KEYLEN 16

/* A key loaded for hashing: the two little-endian words of the 16 key bytes.
 * Plain data the caller owns; it holds secret material when the key is
 * secret, so wipe it with explicit_bzero when done. */
struct kz_siphash_key {
	uint64_t k0, k1;
};

/* Loads 16 key bytes into a kz_siphash_key. */
void kz_siphash_key_load(struct kz_siphash_key *k, const uint8_t bytes[KZ_SIPHASH_KEYLEN]);

/* SipHash-2-4 of len bytes of data under the 16-byte key. */
uint64_t kz_siphash24(const uint8_t key[KZ_SIPHASH_KEYLEN], const void *data, size_t len);

/* The same with a key loaded once (no per-call key parsing). */
uint64_t kz_siphash24_k(const struct kz_siphash_key *k, const void *data, size_t len);

/*
 * Fixed-size helpers for the hot paths. They are inline so that the compiler
 * sees a constant message length and unrolls everything. The state and round
 * below are their building blocks, not meant for other callers.
 */
struct kz_siphash_state {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t kz_siphash_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void kz_siphash_round(struct kz_siphash_state *s)
{
	s->v0 += s->v1;
	s->v1 = kz_siphash_rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = kz_siphash_rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = kz_siphash_rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = kz_siphash_rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = kz_siphash_rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = kz_siphash_rotl(s->v2, 32);
}

static inline struct kz_siphash_state kz_siphash_init(const struct kz_siphash_key *k)
{
	/* "somepseudorandomlygeneratedbytes", the paper's initial constants. */
	struct kz_siphash_state s = {
		k->k0 ^ UINT64_C(0x736f6d6570736575),
		k->k1 ^ UINT64_C(0x646f72616e646f6d),
		k->k0 ^ UINT64_C(0x6c7967656e657261),
		k->k1 ^ UINT64_C(0x7465646279746573),
	};
	return s;
}

/* One message word: two compression rounds (the "2" of SipHash-2-4). */
static inline void kz_siphash_compress(struct kz_siphash_state *s, uint64_t m)
{
	s->v3 ^= m;
	kz_siphash_round(s);
	kz_siphash_round(s);
	s->v0 ^= m;
}

/* The last word carries the message length mod 256 in its top byte; then
 * four finalisation rounds (the "4"). */
static inline uint64_t kz_siphash_finish(struct kz_siphash_state *s, uint64_t last)
{
	kz_siphash_compress(s, last);
	s->v2 ^= 0xff;
	kz_siphash_round(s);
	kz_siphash_round(s);
	kz_siphash_round(s);
	kz_siphash_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* SipHash-2-4 of n 64-bit words, each taken as its 8 little-endian bytes:
 * the same as kz_siphash24_k over those 8 * n bytes. */
static inline uint64_t kz_siphash24_words(const struct kz_siphash_key *k, const uint64_t *w,
                                          size_t n)
{
	struct kz_siphash_state s = kz_siphash_init(k);
	for (size_t i = 0; i < n; i++)
		kz_siphash_compress(&s, w[i]);
	return kz_siphash_finish(&s, (uint64_t)(8 * n) << 56);
}

/* SipHash-2-4 of one 64-bit word as its 8 little-endian bytes. */
static inline uint64_t kz_siphash24_u64(const struct kz_siphash_key *k, uint64_t w)
{
	return kz_siphash24_words(k, &w, 1);
}

/* SipHash-2-4 of two 64-bit words (16 little-endian bytes, a first). */
static inline uint64_t kz_siphash24_u64x2(const struct kz_siphash_key *k, uint64_t a, uint64_t b)
{
	uint64_t w[2] = { a, b };
	return kz_siphash24_words(k, w, 2);
}

/* SipHash-2-4 of an address as its 16 network-order bytes (an IPv4 address
 * as ::ffff:a.b.c.d), the same bytes kz_addr_to_bytes() writes. */
static inline uint64_t kz_siphash24_addr(const struct kz_siphash_key *k, struct kz_addr a)
{
	/* Byte 0 of the network-order form is the top byte of a.v; read as a
	 * little-endian word that is the byte-swapped top half. */
	return kz_siphash24_u64x2(k, __builtin_bswap64((uint64_t)(a.v >> 64)),
	                          __builtin_bswap64((uint64_t)a.v));
}

#endif
