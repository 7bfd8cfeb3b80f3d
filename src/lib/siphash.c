/*
 * SipHash-2-4 over a byte string of any length. The fixed-size helpers in
 * siphash.h share this file's round; this is the general path, used where
 * the input's length is only known at run time.
 */
#include "siphash.h"

#include <string.h>

/* Reads 8 bytes as a little-endian word whatever the host's byte order. */
static uint64_t load_le64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

void kz_siphash_key_load(struct kz_siphash_key *k, const uint8_t bytes[KZ_SIPHASH_KEYLEN])
{
	k->k0 = load_le64(bytes);
	k->k1 = load_le64(bytes + 8);
}

uint64_t kz_siphash24_k(const struct kz_siphash_key *k, const void *data, size_t len)
{
	const uint8_t *p = data;
	struct kz_siphash_state s = kz_siphash_init(k);
	size_t whole = len & ~(size_t)7;
	for (size_t i = 0; i < whole; i += 8)
		kz_siphash_compress(&s, load_le64(p + i));
	/* The 0..7 tail bytes fill the low bytes of the last word, the length
	 * mod 256 its top byte. */
	uint64_t last = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)p[whole + i] << (8 * i);
	return kz_siphash_finish(&s, last);
}

uint64_t kz_siphash24(const uint8_t key[KZ_SIPHASH_KEYLEN], const void *data, size_t len)
{
	struct kz_siphash_key k;
	kz_siphash_key_load(&k, key);
	uint64_t h = kz_siphash24_k(&k, data, len);
	/* The caller's key may be secret; leave no copy on the stack. */
	explicit_bzero(&k, sizeof k);
	return h;
}
