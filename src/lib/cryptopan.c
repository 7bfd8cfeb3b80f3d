/*
 * Crypto-PAn on OpenSSL's AES-128 in ECB mode.
 *
 * The AES context is created and keyed once in kz_cryptopan_new; each
 * address then costs one EVP_EncryptUpdate call. That is possible because
 * the 32 (or 128) cipher inputs for one address depend only on the address
 * and the pad, never on earlier outputs, so all of them go to AES as one
 * ECB batch, which OpenSSL pipelines through AES-NI where the CPU has it.
 * Reversal is different: each input needs the previous output bit, so
 * kz_cryptopan_deanon encrypts one block at a time.
 *
 * All address arithmetic is on host-order integers (uint32_t, kz_u128);
 * blocks are written big-endian because the construction's "first i bits"
 * are the first bits on the wire.
 */
#include "cryptopan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"

#define BLOCK 16

struct kz_cryptopan {
	EVP_CIPHER_CTX *ctx;
	uint8_t pad[BLOCK];
	uint32_t pad32; /* the pad's first 32 bits, for IPv4 */
	kz_u128 pad128; /* the whole pad, for IPv6 */
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be128(uint8_t *p, kz_u128 v)
{
	for (int i = BLOCK - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Encrypts n whole blocks in place. ECB with padding off keeps no state
 * between calls, so one context serves every call. */
static int encrypt_blocks(struct kz_cryptopan *cp, uint8_t *buf, size_t n)
{
	int outl = 0;
	if (EVP_EncryptUpdate(cp->ctx, buf, &outl, buf, (int)(n * BLOCK)) != 1 ||
	    (size_t)outl != n * BLOCK)
		return -EIO;
	return 0;
}

int kz_cryptopan_new(const uint8_t key[KZ_CRYPTOPAN_KEYLEN], struct kz_cryptopan **out)
{
	int rc = -ENOMEM;
	struct kz_cryptopan *cp = calloc(1, sizeof *cp);
	if (!cp)
		goto fail;
	cp->ctx = EVP_CIPHER_CTX_new();
	if (!cp->ctx)
		goto fail;
	rc = -EIO;
	if (EVP_EncryptInit_ex(cp->ctx, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(cp->ctx, 0) != 1) {
		kz_err("Crypto-PAn: OpenSSL cannot set up AES-128-ECB");
		goto fail;
	}
	memcpy(cp->pad, key + BLOCK, BLOCK);
	if (encrypt_blocks(cp, cp->pad, 1) != 0) {
		kz_err("Crypto-PAn: OpenSSL cannot encrypt the pad");
		goto fail;
	}
	for (int i = 0; i < BLOCK; i++)
		cp->pad128 = cp->pad128 << 8 | cp->pad[i];
	cp->pad32 = (uint32_t)(cp->pad128 >> 96);
	*out = cp;
	return 0;
fail:
	kz_cryptopan_free(cp);
	return rc;
}

void kz_cryptopan_free(struct kz_cryptopan *cp)
{
	if (!cp)
		return;
	/* EVP_CIPHER_CTX_free cleanses the key schedule it holds. */
	EVP_CIPHER_CTX_free(cp->ctx);
	explicit_bzero(cp, sizeof *cp);
	free(cp);
}

/* The cipher input for prefix length i: the address's first i bits, then
 * the pad's. */
static uint32_t prefix_block32(uint32_t addr, uint32_t pad, unsigned i)
{
	uint32_t keep = i ? ~UINT32_C(0) << (32 - i) : 0;
	return (addr & keep) | (pad & ~keep);
}

static kz_u128 prefix_block128(kz_u128 addr, kz_u128 pad, unsigned i)
{
	kz_u128 keep = i ? ~(kz_u128)0 << (128 - i) : 0;
	return (addr & keep) | (pad & ~keep);
}

int kz_cryptopan_v4(struct kz_cryptopan *cp, uint32_t in, uint32_t *out)
{
	uint8_t buf[32 * BLOCK];
	for (unsigned i = 0; i < 32; i++) {
		uint8_t *b = buf + i * BLOCK;
		/* Only the first 4 bytes vary; the other 12 are the pad's. */
		memcpy(b, cp->pad, BLOCK);
		put_be32(b, prefix_block32(in, cp->pad32, i));
	}
	if (encrypt_blocks(cp, buf, 32) != 0)
		return -EIO;
	uint32_t flip = 0;
	for (unsigned i = 0; i < 32; i++)
		flip |= (uint32_t)(buf[i * BLOCK] >> 7) << (31 - i);
	*out = in ^ flip;
	return 0;
}

static void put_be64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof v);
}

static int anon128(struct kz_cryptopan *cp, kz_u128 in, kz_u128 *out)
{
	uint8_t buf[128 * BLOCK];
	uint64_t a_hi = (uint64_t)(in >> 64), a_lo = (uint64_t)in;
	uint64_t p_hi = (uint64_t)(cp->pad128 >> 64), p_lo = (uint64_t)cp->pad128;
	/* prefix_block128 in two 64-bit halves: this loop is most of the cost
	 * of an IPv6 address once AES-NI has done its part. */
	for (unsigned i = 0; i < 128; i++) {
		uint64_t keep_hi, keep_lo;
		if (i < 64) {
			keep_hi = i ? ~UINT64_C(0) << (64 - i) : 0;
			keep_lo = 0;
		} else {
			keep_hi = ~UINT64_C(0);
			keep_lo = i > 64 ? ~UINT64_C(0) << (128 - i) : 0;
		}
		put_be64(buf + i * BLOCK, (a_hi & keep_hi) | (p_hi & ~keep_hi));
		put_be64(buf + i * BLOCK + 8, (a_lo & keep_lo) | (p_lo & ~keep_lo));
	}
	if (encrypt_blocks(cp, buf, 128) != 0)
		return -EIO;
	uint64_t flip_hi = 0, flip_lo = 0;
	for (unsigned i = 0; i < 64; i++) {
		flip_hi |= (uint64_t)(buf[i * BLOCK] >> 7) << (63 - i);
		flip_lo |= (uint64_t)(buf[(64 + i) * BLOCK] >> 7) << (63 - i);
	}
	*out = in ^ ((kz_u128)flip_hi << 64 | flip_lo);
	return 0;
}

int kz_cryptopan_anon(struct kz_cryptopan *cp, struct kz_addr in, struct kz_addr *out)
{
	if (kz_addr_is_v4(in)) {
		uint32_t v4;
		int rc = kz_cryptopan_v4(cp, kz_addr_v4(in), &v4);
		if (rc == 0)
			*out = kz_addr_from_v4(v4);
		return rc;
	}
	return anon128(cp, in.v, &out->v);
}

/* Reversal, bit by bit: the cipher input for bit i needs the original's
 * first i bits, which the previous steps have just recovered. */
static int deanon_bits(struct kz_cryptopan *cp, kz_u128 in, unsigned bits, kz_u128 pad,
                       kz_u128 *out)
{
	kz_u128 orig = 0;
	for (unsigned i = 0; i < bits; i++) {
		uint8_t b[BLOCK];
		kz_u128 block = prefix_block128(orig << (128 - bits), pad, i);
		if (bits == 32) {
			memcpy(b, cp->pad, BLOCK);
			put_be32(b, (uint32_t)(block >> 96));
		} else {
			put_be128(b, block);
		}
		if (encrypt_blocks(cp, b, 1) != 0)
			return -EIO;
		unsigned pos = bits - 1 - i;
		kz_u128 bit = ((in >> pos) & 1) ^ (kz_u128)(b[0] >> 7);
		orig |= bit << pos;
	}
	*out = orig;
	return 0;
}

int kz_cryptopan_deanon(struct kz_cryptopan *cp, struct kz_addr in, struct kz_addr *out)
{
	kz_u128 v;
	if (kz_addr_is_v4(in)) {
		/* The IPv4 pad sits in the top 32 bits, as the address does while
		 * prefix_block128 works on it. */
		int rc = deanon_bits(cp, kz_addr_v4(in), 32, (kz_u128)cp->pad32 << 96, &v);
		if (rc == 0)
			*out = kz_addr_from_v4((uint32_t)v);
		return rc;
	}
	int rc = deanon_bits(cp, in.v, 128, cp->pad128, &v);
	if (rc == 0)
		out->v = v;
	return rc;
}
