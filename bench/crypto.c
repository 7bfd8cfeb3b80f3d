/*
 * kizuki-bench-crypto: the per-address costs behind the crypto module's
 * design choices, against OpenSSL doing the same job.
 *  - SipHash-2-4 of an address: our inline helper vs OpenSSL's EVP_MAC
 *    SipHash with the context re-initialised per call (what a per-packet
 *    keyed hash would need) and vs EVP_MAC with only update/final.
 *  - Crypto-PAn of an IPv4 and an IPv6 address (one batched ECB call).
 *  - HyperLogLog adds (sparse and dense) and a dense count.
 * usage: kizuki-bench-crypto [N]   (N addresses per measurement, default 2M)
 * Timings on a shared machine are noisy: run it a few times.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "cryptopan.h"
#include "hll.h"
#include "siphash.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccd;
	x ^= x >> 33;
	return x;
}

static void report(const char *what, double seconds, uint64_t n)
{
	printf("%-44s %8.1f ns/op %10.2f M/s\n", what, seconds / (double)n * 1e9,
	       (double)n / seconds / 1e6);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	if (n == 0)
		n = 1;
	uint8_t key[32];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 37 + 1);
	volatile uint64_t sink = 0;

	struct kz_siphash_key sk;
	kz_siphash_key_load(&sk, key);
	double t = now();
	for (uint64_t i = 0; i < n; i++) {
		struct kz_addr a = kz_addr_from_v4((uint32_t)mix(i));
		sink += kz_siphash24_addr(&sk, a);
	}
	double ours = now() - t;
	report("siphash24_addr (kizuki, inline)", ours, n);

	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (!ctx) {
		fprintf(stderr, "OpenSSL has no SipHash MAC\n");
		return 1;
	}
	unsigned size = 8;
	OSSL_PARAM params[] = { OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &size),
		                OSSL_PARAM_construct_end() };
	t = now();
	for (uint64_t i = 0; i < n; i++) {
		uint8_t bytes[16], out[8];
		kz_addr_to_bytes(kz_addr_from_v4((uint32_t)mix(i)), bytes);
		size_t outlen;
		if (EVP_MAC_init(ctx, key, 16, params) != 1 ||
		    EVP_MAC_update(ctx, bytes, 16) != 1 ||
		    EVP_MAC_final(ctx, out, &outlen, sizeof out) != 1)
			return 1;
		sink += out[0];
	}
	double ossl = now() - t;
	report("OpenSSL EVP_MAC SipHash, init per call", ossl, n);
	printf("%-44s %8.1fx\n", "  ratio OpenSSL / kizuki", ossl / ours);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);

	struct kz_cryptopan *cp;
	if (kz_cryptopan_new(key, &cp) != 0)
		return 1;
	uint64_t m = n / 4 ? n / 4 : 1;
	t = now();
	for (uint64_t i = 0; i < m; i++) {
		uint32_t out;
		if (kz_cryptopan_v4(cp, (uint32_t)mix(i), &out) != 0)
			return 1;
		sink += out;
	}
	report("Crypto-PAn IPv4", now() - t, m);
	t = now();
	for (uint64_t i = 0; i < m / 4 + 1; i++) {
		struct kz_addr a = { (kz_u128)0x20010db8 << 96 | mix(i) }, out;
		if (kz_cryptopan_anon(cp, a, &out) != 0)
			return 1;
		sink += (uint64_t)out.v;
	}
	report("Crypto-PAn IPv6", now() - t, m / 4 + 1);
	kz_cryptopan_free(cp);

	struct kz_hll *h;
	if (kz_hll_new(KZ_HLL_P_DEFAULT, &h) != 0)
		return 1;
	/* A telescope port: a few sources sending many packets each. */
	t = now();
	for (uint64_t i = 0; i < n; i++)
		if (kz_hll_add_addr(h, kz_addr_from_v4(0xc6120000u + (uint32_t)(i % 50))) != 0)
			return 1;
	report("HLL add, sparse (50 sources, repeated)", now() - t, n);
	t = now();
	for (uint64_t i = 0; i < n; i++)
		if (kz_hll_add_addr(h, kz_addr_from_v4((uint32_t)mix(i))) != 0)
			return 1;
	report("HLL add, dense (distinct sources)", now() - t, n);
	t = now();
	for (int i = 0; i < 1000; i++)
		sink += kz_hll_count(h);
	report("HLL count, dense p=14", now() - t, 1000);
	kz_hll_free(h);
	return sink == 42 ? 2 : 0;
}
