/*
 * The pfx2as loader on arbitrary bytes: no crash, no read past the input,
 * every refusal has a message; and when the bytes load, every lookup path
 * agrees with a brute-force scan over the prefixes the table holds, for the
 * edges of its prefixes and for addresses drawn from the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pfx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The entry a scan over every prefix picks: the longest one of the address's
 * family that covers it (the table's prefixes are distinct). */
static uint32_t brute(const struct kz_pfx *t, size_t n, struct kz_addr a)
{
	uint32_t best = KZ_PFX_NONE;
	int best_len = -1;
	for (uint32_t e = 1; e <= n; e++) {
		struct kz_pfx_match m;
		if (kz_pfx_entry(t, e, &m) != 0)
			abort();
		if (kz_addr_is_v4(m.prefix.base) != kz_addr_is_v4(a) ||
		    !kz_cidr_contains(&m.prefix, a))
			continue;
		if (m.prefix.len > best_len) {
			best = e;
			best_len = m.prefix.len;
		}
	}
	return best;
}

static void check(const struct kz_pfx *t, size_t n, struct kz_addr a)
{
	uint32_t want = brute(t, n, a);
	if (kz_pfx_lookup_entry(t, a) != want)
		abort();
	struct kz_pfx_match m;
	if (kz_pfx_lookup(t, a, &m) != (want != KZ_PFX_NONE) || m.entry != want)
		abort();
	if (kz_addr_is_v4(a)) {
		uint32_t v4 = kz_addr_v4(a), out = 0;
		if (kz_pfx_lookup_v4(t, v4) != want)
			abort();
		kz_pfx_lookup_v4_batch(t, &v4, &out, 1);
		if (out != want)
			abort();
	}
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdu;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53u;
	return x ^ (x >> 33);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kz_pfx *t = NULL;
	char err[256] = "";
	if (kz_pfx_load_mem("fuzz.pfx2as", data, size, &t, err, sizeof err) != 0) {
		if (t != NULL || err[0] == '\0')
			abort();
		return 0;
	}
	struct kz_pfx_stats st;
	kz_pfx_stats(t, &st);
	if (st.prefixes == 0 || st.prefixes != st.prefixes_v4 + st.prefixes_v6 ||
	    st.lines != st.prefixes + st.duplicates)
		abort();
	if (strncmp(kz_pfx_version(t), "fuzz.pfx2as@", 12) != 0 ||
	    strlen(kz_pfx_version(t)) != 12 + 12)
		abort();

	size_t n = st.prefixes;
	/* Keep a run short on large inputs: at most 64 prefixes' edges. */
	for (uint32_t e = 1; e <= n && e <= 64; e++) {
		struct kz_pfx_match m;
		struct kz_pfx_origin o;
		if (kz_pfx_entry(t, e, &m) != 0 || kz_pfx_origin(t, m.origin, &o) != 0)
			abort();
		if (o.nasns == 0 || o.ngroups == 0 || o.text[0] == '\0')
			abort();
		struct kz_addr first = kz_cidr_first(&m.prefix), last = kz_cidr_last(&m.prefix);
		check(t, n, first);
		check(t, n, last);
		check(t, n, (struct kz_addr){ first.v - 1 });
		check(t, n, (struct kz_addr){ last.v + 1 });
	}
	uint64_t h = size;
	for (size_t i = 0; i < size; i++)
		h = mix(h ^ data[i]);
	for (int i = 0; i < 8; i++) {
		h = mix(h + (uint64_t)i);
		check(t, n, kz_addr_from_v4((uint32_t)h));
		struct kz_addr a = { (kz_u128)h << 64 | mix(h) };
		check(t, n, a);
	}
	kz_pfx_free(t);
	return 0;
}
