/*
 * Crypto-PAn: every published vector with the Crypto-PAn 1.0 sample key,
 * prefix preservation on random pairs, reversal with the key, and that a
 * different key gives different pseudonyms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cryptopan.h"

/* The reference key, as the sample program gives it in decimal. */
static const uint8_t ref_key[KZ_CRYPTOPAN_KEYLEN] = {
	21,  34,  23,  141, 51,  164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
	216, 152, 143, 131, 121, 121, 101, 39,  98, 87, 76, 45, 42, 132, 34,  2,
};

static const struct {
	const char *in, *out;
} ref_vectors[] = {
	{ "128.11.68.132", "135.242.180.132" },
	{ "129.118.74.4", "134.136.186.123" },
	{ "130.132.252.244", "133.68.164.234" },
	{ "141.223.7.43", "141.167.8.160" },
	{ "24.5.0.80", "100.9.15.210" },
	{ "::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed" },
	/* An IPv4-mapped address is the IPv4 address. */
	{ "::ffff:128.11.68.132", "135.242.180.132" },
};

static int setup(void **state)
{
	struct kz_cryptopan *cp;
	if (kz_cryptopan_new(ref_key, &cp) != 0)
		return -1;
	*state = cp;
	return 0;
}

static int teardown(void **state)
{
	kz_cryptopan_free(*state);
	return 0;
}

static struct kz_addr parse(const char *s)
{
	struct kz_addr a;
	const char *why;
	if (kz_addr_parse(s, &a, &why) != 0)
		fail_msg("%s: %s", s, why);
	return a;
}

static void test_reference_vectors(void **state)
{
	struct kz_cryptopan *cp = *state;
	for (size_t i = 0; i < sizeof ref_vectors / sizeof ref_vectors[0]; i++) {
		struct kz_addr in = parse(ref_vectors[i].in), out, back;
		char buf[KZ_ADDR_STRLEN];
		assert_int_equal(kz_cryptopan_anon(cp, in, &out), 0);
		if (strcmp(kz_addr_format(out, buf), ref_vectors[i].out) != 0)
			fail_msg("%s: got %s, want %s", ref_vectors[i].in, buf, ref_vectors[i].out);
		assert_int_equal(kz_cryptopan_deanon(cp, out, &back), 0);
		assert_int_equal(kz_addr_cmp(back, in), 0);
	}
	/* The IPv4 entry point agrees with the kz_addr one. */
	uint32_t v4;
	assert_int_equal(kz_cryptopan_v4(cp, 0x800b4484 /* 128.11.68.132 */, &v4), 0);
	assert_int_equal(v4, 0x87f2b484 /* 135.242.180.132 */);
}

static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

/* Length of the common prefix of two values of `bits` bits. */
static unsigned common_prefix(kz_u128 a, kz_u128 b, unsigned bits)
{
	kz_u128 d = (a ^ b) << (128 - bits);
	unsigned n = 0;
	while (n < bits && !(d >> 127)) {
		d <<= 1;
		n++;
	}
	return n;
}

/* Pairs built to share exactly k bits, for every k, plus fully random pairs:
 * the pseudonyms share exactly as many. */
static void test_prefix_preserved(void **state)
{
	struct kz_cryptopan *cp = *state;
	uint64_t rng = 7;
	for (int round = 0; round < 400; round++) {
		for (unsigned v6 = 0; v6 < 2; v6++) {
			unsigned bits = v6 ? 128 : 32;
			kz_u128 r1 = (kz_u128)next_random(&rng) << 64 | next_random(&rng);
			kz_u128 r2 = (kz_u128)next_random(&rng) << 64 | next_random(&rng);
			kz_u128 a = r1, b = r2;
			if (round % 4 != 0) {
				/* Share exactly k bits: copy a's first k, flip bit k. */
				unsigned k = (unsigned)(next_random(&rng) % bits);
				unsigned low = bits - k; /* bits from position k on */
				kz_u128 lowmask =
				        low == 128 ? ~(kz_u128)0 : ((kz_u128)1 << low) - 1;
				b = (a & ~lowmask) | (~a & ((kz_u128)1 << (low - 1))) |
				    (r2 & (lowmask >> 1));
			}
			struct kz_addr x, y, px, py;
			if (v6) {
				/* Keep clear of the IPv4-mapped range. */
				x.v = a | (kz_u128)1 << 127;
				y.v = b | (kz_u128)1 << 127;
			} else {
				x = kz_addr_from_v4((uint32_t)a);
				y = kz_addr_from_v4((uint32_t)b);
			}
			assert_int_equal(kz_cryptopan_anon(cp, x, &px), 0);
			assert_int_equal(kz_cryptopan_anon(cp, y, &py), 0);
			assert_int_equal(kz_addr_is_v4(px), !v6);
			unsigned want = common_prefix(x.v, y.v, bits);
			unsigned got = common_prefix(px.v, py.v, bits);
			if (want != got)
				fail_msg("%s pair %d: inputs share %u bits, pseudonyms %u",
				         v6 ? "IPv6" : "IPv4", round, want, got);
			struct kz_addr back;
			assert_int_equal(kz_cryptopan_deanon(cp, px, &back), 0);
			assert_int_equal(kz_addr_cmp(back, x), 0);
		}
	}
}

/* A pseudonymiser is a permutation of the space: over all of one /16 no two
 * addresses collide and the /16 maps onto one /16. */
static void test_permutation_of_a_prefix(void **state)
{
	struct kz_cryptopan *cp = *state;
	static uint8_t seen[65536 / 8];
	memset(seen, 0, sizeof seen);
	uint32_t first = 0;
	for (uint32_t low = 0; low < 65536; low++) {
		uint32_t out;
		assert_int_equal(kz_cryptopan_v4(cp, 0xc6120000 | low /* 198.18.0.0/16 */, &out),
		                 0);
		if (low == 0)
			first = out;
		assert_int_equal(out >> 16, first >> 16);
		uint32_t k = out & 0xffff;
		assert_false(seen[k / 8] & (1u << (k % 8)));
		seen[k / 8] |= (uint8_t)(1u << (k % 8));
	}
}

static void test_other_key_differs(void **state)
{
	(void)state;
	uint8_t key[KZ_CRYPTOPAN_KEYLEN];
	memcpy(key, ref_key, sizeof key);
	key[31] ^= 1; /* only the pad changes */
	struct kz_cryptopan *cp;
	assert_int_equal(kz_cryptopan_new(key, &cp), 0);
	struct kz_addr out;
	char buf[KZ_ADDR_STRLEN];
	assert_int_equal(kz_cryptopan_anon(cp, parse("128.11.68.132"), &out), 0);
	assert_string_not_equal(kz_addr_format(out, buf), "135.242.180.132");
	kz_cryptopan_free(cp);
	kz_cryptopan_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reference_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_preserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permutation_of_a_prefix, setup, teardown),
		cmocka_unit_test(test_other_key_differs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
