/*
 * Crypto-PAn: prefix-preserving pseudonymisation of IPv4 and IPv6 addresses
 * (Xu, Fan, Ammar and Moon, 2002), on AES-128 from OpenSSL.
 *
 * Two addresses that share their first k bits have pseudonyms that share
 * exactly their first k bits, so prefixes, subnets and routing structure
 * survive while the addresses themselves do not. It is pseudonymisation, not
 * anonymisation: whoever holds the key can reverse it (kz_cryptopan_deanon).
 *
 * The 32-byte key: bytes 0..15 are the AES-128 key; bytes 16..31, encrypted
 * under it, give the 16-byte pad. Bit i of the pseudonym is bit i of the
 * address XOR the top bit of AES(first i bits of the address, the remaining
 * bits taken from the pad). IPv4 uses the first 32 bits of the block (the
 * other 96 stay the pad's); IPv6 the whole 128. An IPv4-mapped kz_addr is
 * pseudonymised as IPv4 and stays IPv4-mapped.
 */
#ifndef KZ_CRYPTOPAN_H
#define KZ_CRYPTOPAN_H

#include <stdint.h>

#include "addr.h"

#define KZ_CRYPTOPAN_KEYLEN 32

/* One key's AES context, set up once. Not safe for concurrent use: give
 * each thread its own. */
struct kz_cryptopan;

/* Sets up a pseudonymiser for the 32-byte key (copied; the caller may wipe
 * its own copy). Returns 0, -ENOMEM, or -EIO when OpenSSL refuses. */
int kz_cryptopan_new(const uint8_t key[KZ_CRYPTOPAN_KEYLEN], struct kz_cryptopan **out)
        __attribute__((warn_unused_result));

/* Frees the context and wipes every copy of the key material. NULL is fine. */
void kz_cryptopan_free(struct kz_cryptopan *cp);

/* Pseudonymises an IPv4 address (host order). Returns 0 or -EIO. */
int kz_cryptopan_v4(struct kz_cryptopan *cp, uint32_t in, uint32_t *out)
        __attribute__((warn_unused_result));

/* Pseudonymises an address: IPv4-mapped as IPv4, anything else over all 128
 * bits. Returns 0 or -EIO. */
int kz_cryptopan_anon(struct kz_cryptopan *cp, struct kz_addr in, struct kz_addr *out)
        __attribute__((warn_unused_result));

/* Recovers the address from its pseudonym (the inverse of kz_cryptopan_anon;
 * bit-serial, so about 32 or 128 times slower). Returns 0 or -EIO. */
int kz_cryptopan_deanon(struct kz_cryptopan *cp, struct kz_addr in, struct kz_addr *out)
        __attribute__((warn_unused_result));

#endif
