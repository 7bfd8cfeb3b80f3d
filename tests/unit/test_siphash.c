/*
 * SipHash-2-4: the reference implementation's published vectors, the
 * fixed-size helpers against the general function, and agreement with
 * OpenSSL's SipHash (an implementation we did not write) on random inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "siphash.h"

/* Key 00 01 .. 0f, message 00 01 .. (len - 1) for len 0..63: the 64 outputs
 * of the SipHash authors' reference code (vectors.h, vectors_sip64), read as
 * little-endian words. */
static const uint64_t vectors[64] = {
	0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
	0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
	0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
	0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
	0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
	0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
	0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
	0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
	0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
	0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
	0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
	0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
	0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
	0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
	0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
	0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

/* splitmix64: a fixed, seeded source of test inputs. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

static void fill_random(uint64_t *state, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)next_random(state);
}

static void le_bytes(uint64_t w, uint8_t out[8])
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(w >> (8 * i));
}

static void test_reference_vectors(void **state)
{
	(void)state;
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	struct kz_siphash_key k;
	kz_siphash_key_load(&k, key);
	for (size_t len = 0; len < 64; len++) {
		uint64_t h = kz_siphash24(key, msg, len);
		if (h != vectors[len])
			fail_msg("length %zu: got %016llx, want %016llx", len,
			         (unsigned long long)h, (unsigned long long)vectors[len]);
		assert_true(kz_siphash24_k(&k, msg, len) == vectors[len]);
	}
}

/* The inline helpers must hash exactly the bytes they document. */
static void test_helpers_match_general(void **state)
{
	(void)state;
	uint64_t rng = 1;
	for (int round = 0; round < 1000; round++) {
		uint8_t key[16], bytes[40];
		fill_random(&rng, key, sizeof key);
		struct kz_siphash_key k;
		kz_siphash_key_load(&k, key);

		uint64_t w[5];
		for (int i = 0; i < 5; i++) {
			w[i] = next_random(&rng);
			le_bytes(w[i], bytes + 8 * i);
		}
		assert_true(kz_siphash24_u64(&k, w[0]) == kz_siphash24(key, bytes, 8));
		assert_true(kz_siphash24_u64x2(&k, w[0], w[1]) == kz_siphash24(key, bytes, 16));
		for (size_t n = 0; n <= 5; n++)
			assert_true(kz_siphash24_words(&k, w, n) ==
			            kz_siphash24(key, bytes, 8 * n));

		struct kz_addr a = { (kz_u128)w[0] << 64 | w[1] };
		if (round % 2)
			a = kz_addr_from_v4((uint32_t)w[2]);
		uint8_t net[16];
		kz_addr_to_bytes(a, net);
		assert_true(kz_siphash24_addr(&k, a) == kz_siphash24(key, net, 16));
	}
}

static uint64_t openssl_siphash(const uint8_t key[16], const uint8_t *msg, size_t len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	assert_non_null(mac);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	assert_non_null(ctx);
	/* OpenSSL defaults to the 128-bit variant; ask for the 64-bit one. */
	unsigned size = 8;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_construct_end(),
	};
	assert_int_equal(EVP_MAC_init(ctx, key, 16, params), 1);
	assert_int_equal(EVP_MAC_update(ctx, msg, len), 1);
	uint8_t out[8];
	size_t outlen = 0;
	assert_int_equal(EVP_MAC_final(ctx, out, &outlen, sizeof out), 1);
	assert_int_equal(outlen, 8);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	uint64_t h = 0;
	for (int i = 7; i >= 0; i--)
		h = h << 8 | out[i];
	return h;
}

static void test_matches_openssl(void **state)
{
	(void)state;
	uint64_t rng = 42;
	uint8_t key[16], msg[300];
	for (int round = 0; round < 300; round++) {
		fill_random(&rng, key, sizeof key);
		size_t len = (size_t)round;
		fill_random(&rng, msg, len);
		assert_true(kz_siphash24(key, msg, len) == openssl_siphash(key, msg, len));
	}
}

/* One changed key or message bit changes the output: the function is keyed
 * and reads every byte (catches a helper that ignores part of its input). */
static void test_every_bit_matters(void **state)
{
	(void)state;
	uint8_t key[16] = { 0 }, msg[24] = { 0 };
	uint64_t base = kz_siphash24(key, msg, sizeof msg);
	for (size_t bit = 0; bit < 8 * sizeof msg; bit++) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_true(kz_siphash24(key, msg, sizeof msg) != base);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < 128; bit++) {
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_true(kz_siphash24(key, msg, sizeof msg) != base);
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_helpers_match_general),
		cmocka_unit_test(test_matches_openssl),
		cmocka_unit_test(test_every_bit_matters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
