/*
 * The pfx2as table: a loader for CAIDA's prefix-to-AS files and a poptrie
 * (Asai and Ohara, "Poptrie: A Compressed Trie with Population Count for Fast
 * and Scalable Software IP Routing Table Lookup", SIGCOMM 2015) for the
 * longest-prefix match, built here from the paper's description.
 *
 * Why by hand: no Debian library offers a longest-prefix match that stays in
 * cache at a million prefixes (DIR-24-8 spends 32 MiB and misses the cache;
 * a binary radix tree chases a pointer per bit). This trie keeps a
 * million-prefix IPv4 table in about 10 MiB and answers in one to three
 * dependent loads.
 *
 * The structure, one per family. The top DIR bits of the address index a
 * direct array (2^18 entries for IPv4, 2^16 for IPv6); an entry is either a
 * leaf (LEAF_FLAG | entry index) or the offset of a node. A node covers the
 * next 6 bits: 64 slots, each either a child node or a leaf. `vector` has bit
 * s set when slot s is a child. Leaves are run-length compressed: `leafvec`
 * has bit s set when leaf slot s starts a run (its value differs from the
 * previous leaf slot's, child slots skipped), so the leaf of slot s is the
 * (popcount of leafvec bits 0..s)-th. A leaf value is an entry index, 0 when
 * no prefix covers the address. With DIR = 18 an IPv4 /24 is resolved in
 * the first node: a routed address costs the direct entry and one node, an
 * unrouted one often the direct entry alone.
 *
 * Where we depart from the paper: it keeps a node's children consecutive in
 * a node array and its leaves in a separate leaf array, so the leaf is a
 * second cache miss after the node. Here a node's leaves and then its
 * children's offsets follow its two bit vectors in one word array, and a node
 * of up to 64 bytes is placed so that it does not straddle a cache line: the
 * leaf is read from the line just fetched for the node. That measured 20-30 %
 * faster on the benchmark's table (docs/bench-prefix.md), for one more
 * popcount on the way down and about 20 % padding.
 *
 * A finished trie of 2 MiB or more moves into a read-only mapping on huge
 * pages (trie_pack).
 *
 * Invariants: keys are left-aligned 128-bit numbers (an IPv4 address in the
 * top 32 bits), so a prefix length means the same in both families; entries
 * are sorted by (address, length) and distinct; the table is never written
 * after kz_pfx_load() returns.
 *
 * The loader maps the file (or reads it, capped), hashes it for the version
 * string, inflates it when it is gzip, then parses it line by line without
 * copying: fields are delimited by pointer and length. Lines are kept in a
 * 64-bit sort key (address, length, line sequence), so an already sorted
 * CAIDA file is checked in one pass and never sorted, and "the last
 * duplicate wins" falls out of the order.
 */
#include "pfx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "log.h"

#define DIR4_BITS  18
#define DIR6_BITS  16
#define STRIDE     6
#define LEAF_FLAG  0x80000000u
#define NODES_MAX  0x7fffffffu
#define SEQ_BITS   24
#define SHOW_MAX   64 /* bytes of user text quoted in a message */
#define HASH_HEX   12 /* hex digits of the SHA-256 in the version string */
#define GZIP_MAGIC "\x1f\x8b"

/* A node lives in the trie's word array at an even word offset o:
 *   words[o .. o+1]   vector:  bit s set when slot s is a child node
 *   words[o+2 .. o+3] leafvec: bit s set when leaf slot s starts a run
 *   words[o+4 ..]     the leaves, one per run (popcount(leafvec) words)
 *   then              the word offsets of the children, in slot order
 * A node of up to 64 bytes never straddles a cache line. */
#define NODE_HEADER 4  /* words */
#define BATCH_AHEAD 12 /* addresses; 8 to 32 measured alike */
#define LINE_WORDS  16

struct trie {
	uint32_t *dir; /* 2^dir_bits entries */
	unsigned dir_bits;
	uint32_t *words;
	size_t nwords, word_cap;
	size_t nnodes, nleaves; /* for the statistics */
	void *map;              /* when packed: dir and words live here, read-only */
	size_t map_len;
};

#define HUGE_PAGE ((size_t)2 << 20)

struct origin_rec {
	uint32_t text_off; /* into the text arena, NUL-terminated */
	uint32_t asn_off;  /* into the asns array */
	uint32_t nasns;
	uint32_t ngroups;
};

struct kz_pfx {
	struct trie t4, t6;
	uint32_t n4, n6;
	uint32_t *ent_origin; /* [1 + n4 + n6], by entry index */
	uint8_t *ent_len;     /* [1 + n4 + n6], in the family's own terms */
	uint32_t *base4;      /* [1 + n4], by entry index */
	kz_u128 *base6;       /* [n6], by entry index - n4 - 1 */
	struct origin_rec *origins;
	size_t norigins;
	struct kz_pfx_asn *asns;
	size_t nasns;
	char *text;
	size_t text_len;
	char *version;
	struct kz_pfx_stats stats;
	bool popcnt; /* the CPU has POPCNT: use the lookups compiled for it */
};

/* An IPv6 line before sorting. */
struct raw6 {
	kz_u128 base;
	uint32_t seq;
	uint32_t origin;
	uint8_t len;
};

/* Everything the loader grows; freed (or handed to the table) at the end. */
struct loader {
	const char *name;
	char *errbuf;
	size_t errlen;
	unsigned long line;
	uint64_t *k4; /* base << 32 | len << 24 | seq */
	uint32_t *o4; /* origin id, by seq */
	size_t n4, cap4, cap4o;
	struct raw6 *r6;
	size_t n6, cap6;
	struct origin_rec *origins;
	size_t norigins, origin_cap;
	struct kz_pfx_asn *asns;
	size_t nasns, asn_cap;
	char *text;
	size_t text_len, text_cap;
	uint64_t *slots; /* origin hash: high 32 bits of the hash << 32 | id + 1; 0 = empty */
	size_t slot_mask;
	const char *last_as; /* the previous line's AS field and its origin */
	size_t last_as_len;
	uint32_t last_origin;
	struct kz_pfx_asn *scratch; /* one field's AS numbers */
	size_t scratch_cap;
	size_t lines;
};

/* Grows *p (of *cap elements of size elem) to hold need elements, doubling,
 * never beyond max. Returns 0, -ENOMEM, or -E2BIG when need > max. */
static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t max)
{
	if (need <= *cap)
		return 0;
	if (need > max)
		return -E2BIG;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	void *np = reallocarray(*p, ncap, elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Copies user text for a message: at most SHOW_MAX bytes, control and
 * non-ASCII bytes as '?', so that a hostile file cannot drive a terminal. */
static const char *show(const char *s, size_t n, char out[SHOW_MAX + 4])
{
	size_t k = n < SHOW_MAX ? n : SHOW_MAX;
	for (size_t i = 0; i < k; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n > SHOW_MAX) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

__attribute__((format(printf, 3, 4))) static int fail_line(struct loader *ld, int rc,
                                                           const char *fmt, ...)
{
	if (ld->errlen == 0)
		return rc;
	int n = snprintf(ld->errbuf, ld->errlen, "%s:%lu: ", ld->name, ld->line);
	if (n >= 0 && (size_t)n < ld->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ld->errbuf + n, ld->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

__attribute__((format(printf, 4, 5))) static int fail_file(char *errbuf, size_t errlen, int rc,
                                                           const char *fmt, ...)
{
	if (errlen == 0)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- The AS field ---- */

/* Parses one AS number of n bytes. Returns NULL, or why it is not one. */
static const char *parse_asn(const char *s, size_t n, uint32_t *out)
{
	if (n == 0)
		return "empty (a separator at an end or two in a row)";
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return "not a decimal number";
		if (v <= UINT32_MAX)
			v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > 1 && s[0] == '0')
		return "leading zero";
	if (v == 0)
		return "AS 0 is reserved (must be 1..4294967295)";
	if (v > UINT32_MAX)
		return "above 4294967295";
	*out = (uint32_t)v;
	return NULL;
}

/* Parses an AS field, `_` between origins and `,` between the members of an
 * AS set, into ld->scratch. Returns the number of AS numbers, or a negative
 * errno with the message written. */
static long parse_origin(struct loader *ld, const char *s, size_t n, uint32_t *ngroups)
{
	size_t count = 0, group = 0, group_start = 0;
	size_t i = 0;
	for (;;) {
		size_t j = i;
		while (j < n && s[j] != '_' && s[j] != ',')
			j++;
		uint32_t asn = 0;
		const char *why = parse_asn(s + i, j - i, &asn);
		if (why) {
			char a[SHOW_MAX + 4], b[SHOW_MAX + 4];
			return fail_line(ld, -EINVAL, "AS field \"%s\": bad AS number \"%s\": %s",
			                 show(s, n, a), show(s + i, j - i, b), why);
		}
		int rc = grow((void **)&ld->scratch, &ld->scratch_cap, count + 1,
		              sizeof *ld->scratch, KZ_PFX_LINE_MAX);
		if (rc)
			return fail_line(ld, rc, "out of memory");
		ld->scratch[count] = (struct kz_pfx_asn){ .asn = asn, .group = (uint16_t)group };
		count++;
		if (j == n || s[j] == '_') {
			/* A group of two or more is an AS set. */
			for (size_t k = group_start; k < count; k++)
				ld->scratch[k].as_set = count - group_start > 1;
			group++;
			group_start = count;
		}
		if (j == n)
			break;
		i = j + 1;
	}
	for (size_t k = 0; k < count; k++)
		ld->scratch[k].multi_origin = group > 1;
	*ngroups = (uint32_t)group;
	return (long)count;
}

static uint64_t hash_text(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a, then a final mix */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3u;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	return h ^ h >> 29;
}

/* The origin whose text starts at offset off in the arena, if its text is
 * s[0..n); its id is stored in the four bytes before the text, so a probe
 * costs one cache miss, not two. */
static bool origin_at(const struct loader *ld, uint32_t off, const char *s, size_t n, uint32_t *id)
{
	const char *t = ld->text + off;
	if (memcmp(t, s, n) != 0 || t[n] != '\0')
		return false;
	memcpy(id, t - sizeof *id, sizeof *id);
	return true;
}

/* A hash slot: the hash's top 32 bits, to skip most mismatches unread, and
 * the text's offset in the arena (never 0: an id precedes every text). */
static uint64_t slot_of(uint64_t h, uint32_t text_off)
{
	return (h >> 32) << 32 | text_off;
}

static int rehash(struct loader *ld)
{
	size_t nslots = ld->slots ? (ld->slot_mask + 1) * 2 : 1024;
	uint64_t *slots = calloc(nslots, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	for (size_t id = 0; id < ld->norigins; id++) {
		uint32_t off = ld->origins[id].text_off;
		const char *t = ld->text + off;
		uint64_t hash = hash_text(t, strlen(t));
		size_t h = (size_t)hash & (nslots - 1);
		while (slots[h])
			h = (h + 1) & (nslots - 1);
		slots[h] = slot_of(hash, off);
	}
	free(ld->slots);
	ld->slots = slots;
	ld->slot_mask = nslots - 1;
	return 0;
}

/* Finds or adds the origin whose AS field is s[0..n). Returns 0 and its id,
 * or a negative errno with the message written. */
static int intern_origin(struct loader *ld, const char *s, size_t n, uint32_t *id)
{
	/* Consecutive lines of a sorted file often share their origin. */
	if (ld->last_as && n == ld->last_as_len && memcmp(s, ld->last_as, n) == 0) {
		*id = ld->last_origin;
		return 0;
	}
	if (!ld->slots || ld->norigins * 2 >= ld->slot_mask) {
		if (rehash(ld))
			return fail_line(ld, -ENOMEM, "out of memory");
	}
	uint64_t hash = hash_text(s, n);
	size_t h = (size_t)hash & ld->slot_mask;
	while (ld->slots[h]) {
		if (ld->slots[h] >> 32 == hash >> 32 &&
		    origin_at(ld, (uint32_t)ld->slots[h], s, n, id))
			goto found;
		h = (h + 1) & ld->slot_mask;
	}
	uint32_t ngroups = 0;
	long nasns = parse_origin(ld, s, n, &ngroups);
	if (nasns < 0)
		return (int)nasns;
	int rc = grow((void **)&ld->origins, &ld->origin_cap, ld->norigins + 1, sizeof *ld->origins,
	              2 * (size_t)KZ_PFX_PREFIXES_MAX);
	if (!rc)
		rc = grow((void **)&ld->asns, &ld->asn_cap, ld->nasns + (size_t)nasns,
		          sizeof *ld->asns, KZ_PFX_FILE_MAX);
	/* The arena holds, per origin, its id (4 bytes) and its text with a NUL;
	 * it is bounded by the file's size twice over. */
	uint32_t new_id = (uint32_t)ld->norigins;
	size_t need = ld->text_len + sizeof new_id + n + 1;
	if (!rc)
		rc = grow((void **)&ld->text, &ld->text_cap, need, 1,
		          3 * (size_t)KZ_PFX_FILE_MAX + 1);
	if (rc)
		return fail_line(ld, rc, "out of memory");
	uint32_t text_off = (uint32_t)(ld->text_len + sizeof new_id);
	ld->origins[ld->norigins] = (struct origin_rec){
		.text_off = text_off,
		.asn_off = (uint32_t)ld->nasns,
		.nasns = (uint32_t)nasns,
		.ngroups = ngroups,
	};
	memcpy(ld->text + ld->text_len, &new_id, sizeof new_id);
	memcpy(ld->text + text_off, s, n);
	ld->text[text_off + n] = '\0';
	ld->text_len = need;
	memcpy(ld->asns + ld->nasns, ld->scratch, (size_t)nasns * sizeof *ld->asns);
	ld->nasns += (size_t)nasns;
	ld->slots[h] = slot_of(hash, text_off);
	*id = new_id;
	ld->norigins++;
found:
	ld->last_as = s;
	ld->last_as_len = n;
	ld->last_origin = *id;
	return 0;
}

/* ---- One line ---- */

static kz_u128 host_mask128(unsigned len128)
{
	return len128 >= 128 ? 0 : ~(kz_u128)0 >> len128;
}

/* Parses prefix and length into a CIDR, with the reasons of kz_cidr_parse
 * plus which field is at fault. */
static int parse_prefix(struct loader *ld, const char *p, size_t plen, const char *l, size_t llen,
                        struct kz_cidr *out)
{
	char a[SHOW_MAX + 4], b[SHOW_MAX + 4];
	char text[KZ_ADDR_STRLEN];
	if (plen >= sizeof text || memchr(p, '/', plen))
		return fail_line(ld, -EINVAL, "%s/%s: bad prefix: not an address", show(p, plen, a),
		                 show(l, llen, b));
	memcpy(text, p, plen);
	text[plen] = '\0';
	struct kz_addr addr;
	const char *why;
	if (kz_addr_parse(text, &addr, &why))
		return fail_line(ld, -EINVAL, "%s/%s: bad prefix: %s", show(p, plen, a),
		                 show(l, llen, b), why);
	bool v4_text = memchr(p, ':', plen) == NULL;
	unsigned max = v4_text ? 32 : 128, len = 0;
	why = NULL;
	for (size_t i = 0; i < llen && !why; i++) {
		if (l[i] < '0' || l[i] > '9')
			why = "prefix length is not a number";
		else if (len <= 128)
			len = len * 10 + (unsigned)(l[i] - '0');
	}
	if (!why && llen > 1 && l[0] == '0')
		why = "prefix length with a leading zero";
	if (!why && len > max)
		why = v4_text ? "prefix length above 32" : "prefix length above 128";
	unsigned len128 = v4_text ? len + 96 : len;
	if (!why && (addr.v & host_mask128(len128)))
		why = "host bits set after the prefix length";
	/* An IPv6 text inside ::ffff:0:0/96 is an IPv4 prefix, as kz_cidr_parse
	 * has it; one that spans more than that always has host bits set. */
	if (!why && !v4_text && kz_addr_is_v4(addr)) {
		if (len128 < 96)
			why = "prefix spans IPv4-mapped and other IPv6 space";
		len = len128 - 96;
	}
	if (why)
		return fail_line(ld, -EINVAL, "%s/%s: %s", show(p, plen, a), show(l, llen, b), why);
	out->base = addr;
	out->len = (uint8_t)len;
	return 0;
}

/* Parses "prefix<TAB>length<TAB>AS"; blank lines and lines starting with '#'
 * are skipped. */
static int parse_line(struct loader *ld, const char *s, size_t n)
{
	if (n == 0 || s[0] == '#')
		return 0;
	const char *t1 = memchr(s, '\t', n);
	if (!t1)
		return fail_line(
		        ld, -EINVAL,
		        "missing the length and AS fields (expected prefix<TAB>length<TAB>AS)");
	const char *l = t1 + 1, *end = s + n;
	const char *t2 = memchr(l, '\t', (size_t)(end - l));
	if (!t2)
		return fail_line(ld, -EINVAL,
		                 "missing the AS field (expected prefix<TAB>length<TAB>AS)");
	const char *as = t2 + 1;
	size_t plen = (size_t)(t1 - s), llen = (size_t)(t2 - l), aslen = (size_t)(end - as);
	if (memchr(as, '\t', aslen))
		return fail_line(ld, -EINVAL, "extra field after the AS field");
	if (plen == 0)
		return fail_line(ld, -EINVAL, "missing field: empty prefix");
	if (llen == 0)
		return fail_line(ld, -EINVAL, "missing field: empty prefix length");
	if (aslen == 0)
		return fail_line(ld, -EINVAL, "missing field: empty AS field");
	struct kz_cidr c = { 0 };
	int rc = parse_prefix(ld, s, plen, l, llen, &c);
	if (rc)
		return rc;
	uint32_t origin = 0;
	rc = intern_origin(ld, as, aslen, &origin);
	if (rc)
		return rc;
	ld->lines++;
	if (kz_addr_is_v4(c.base)) {
		if (ld->n4 >= KZ_PFX_PREFIXES_MAX)
			return fail_line(ld, -E2BIG, "more than %u IPv4 prefix lines",
			                 KZ_PFX_PREFIXES_MAX);
		rc = grow((void **)&ld->k4, &ld->cap4, ld->n4 + 1, sizeof *ld->k4,
		          KZ_PFX_PREFIXES_MAX);
		if (!rc)
			rc = grow((void **)&ld->o4, &ld->cap4o, ld->n4 + 1, sizeof *ld->o4,
			          KZ_PFX_PREFIXES_MAX);
		if (rc)
			return fail_line(ld, rc, "out of memory");
		ld->k4[ld->n4] =
		        (uint64_t)kz_addr_v4(c.base) << 32 | (uint64_t)c.len << SEQ_BITS | ld->n4;
		ld->o4[ld->n4] = origin;
		ld->n4++;
	} else {
		if (ld->n6 >= KZ_PFX_PREFIXES_MAX)
			return fail_line(ld, -E2BIG, "more than %u IPv6 prefix lines",
			                 KZ_PFX_PREFIXES_MAX);
		rc = grow((void **)&ld->r6, &ld->cap6, ld->n6 + 1, sizeof *ld->r6,
		          KZ_PFX_PREFIXES_MAX);
		if (rc)
			return fail_line(ld, rc, "out of memory");
		ld->r6[ld->n6] = (struct raw6){
			.base = c.base.v, .seq = (uint32_t)ld->n6, .origin = origin, .len = c.len
		};
		ld->n6++;
	}
	return 0;
}

/* ---- The poptrie ---- */

/* The sorted, distinct prefixes of one family, as the builder sees them. */
struct src {
	const uint32_t *base4; /* IPv4 bases, or NULL for IPv6 */
	const kz_u128 *base6;
	const uint8_t *len;
	uint32_t first_entry; /* entry index of element 0 */
	size_t n;
};

static kz_u128 src_key(const struct src *s, size_t i)
{
	return s->base4 ? (kz_u128)s->base4[i] << 96 : s->base6[i];
}

/* The 6-bit slot of a left-aligned key at bit offset off (< 128); bits past
 * the end of the key read as zero. */
static unsigned slot_at(kz_u128 key, unsigned off)
{
	return (unsigned)((key << off) >> (128 - STRIDE));
}

/* Appends a node of `size` words at an even offset that keeps a node of one
 * cache line or less inside one line, and returns that offset. */
static int alloc_node(struct trie *tr, size_t size, uint32_t *out)
{
	size_t o = (tr->nwords + 1) & ~(size_t)1;
	if (size <= LINE_WORDS && o % LINE_WORDS + size > LINE_WORDS)
		o = (o + LINE_WORDS - 1) & ~(size_t)(LINE_WORDS - 1);
	if (o + size > NODES_MAX)
		return -E2BIG;
	int rc = grow((void **)&tr->words, &tr->word_cap, o + size, sizeof *tr->words, NODES_MAX);
	if (rc)
		return rc;
	memset(tr->words + tr->nwords, 0, (o + size - tr->nwords) * sizeof *tr->words);
	tr->nwords = o + size;
	tr->nnodes++;
	*out = (uint32_t)o;
	return 0;
}

static uint64_t load64(const uint32_t *w)
{
	uint64_t v;
	memcpy(&v, w, sizeof v);
	return v;
}

/* Builds the node for the prefix of length off shared by the prefixes
 * [lo, hi) (all longer than off), which inherits the leaf def from the
 * prefixes above it, and returns its offset. Recursion depth is at most
 * (128 - DIR) / STRIDE. */
static int build_node(struct trie *tr, const struct src *s, unsigned off, size_t lo, size_t hi,
                      uint32_t def, uint32_t *out)
{
	uint32_t val[64], dlo[64], dhi[64], leaves[64];
	uint64_t vector = 0, leafvec = 0;
	for (unsigned i = 0; i < 64; i++)
		val[i] = def;
	/* In (address, length) order a prefix comes before the ones it covers,
	 * so painting in that order leaves the longest match in each slot. The
	 * prefixes of a slot that need a child are consecutive: shorter ones in
	 * the same slot start at its first address and sort before them. */
	for (size_t i = lo; i < hi; i++) {
		unsigned sl = slot_at(src_key(s, i), off), len = s->len[i];
		if (len <= off + STRIDE) {
			unsigned count = 1u << (off + STRIDE - len);
			for (unsigned j = sl; j < sl + count; j++)
				val[j] = s->first_entry + (uint32_t)i;
		} else {
			if (!(vector >> sl & 1)) {
				dlo[sl] = (uint32_t)i;
				vector |= 1ull << sl;
			}
			dhi[sl] = (uint32_t)i + 1;
		}
	}
	unsigned nl = 0, nc = (unsigned)__builtin_popcountll(vector);
	for (unsigned i = 0; i < 64; i++) {
		if (vector >> i & 1)
			continue;
		if (nl == 0 || leaves[nl - 1] != val[i]) {
			leaves[nl++] = val[i];
			leafvec |= 1ull << i;
		}
	}
	uint32_t o;
	int rc = alloc_node(tr, NODE_HEADER + nl + nc, &o);
	if (rc)
		return rc;
	memcpy(tr->words + o, &vector, sizeof vector);
	memcpy(tr->words + o + 2, &leafvec, sizeof leafvec);
	memcpy(tr->words + o + NODE_HEADER, leaves, nl * sizeof *leaves);
	tr->nleaves += nl;
	unsigned k = 0;
	for (unsigned i = 0; i < 64; i++) {
		if (!(vector >> i & 1))
			continue;
		uint32_t child;
		rc = build_node(tr, s, off + STRIDE, dlo[i], dhi[i], val[i], &child);
		if (rc)
			return rc;
		/* By index: the word array may have moved. */
		tr->words[o + NODE_HEADER + nl + k++] = child;
	}
	*out = o;
	return 0;
}

static int trie_build(struct trie *tr, unsigned dir_bits, const struct src *s)
{
	size_t nslots = (size_t)1 << dir_bits;
	tr->dir_bits = dir_bits;
	tr->dir = malloc(nslots * sizeof *tr->dir);
	if (!tr->dir)
		return -ENOMEM;
	for (size_t i = 0; i < nslots; i++)
		tr->dir[i] = LEAF_FLAG | KZ_PFX_NONE;
	/* The direct array is a node of 2^dir_bits slots: paint the short
	 * prefixes first (each slot is painted at most once per length), then
	 * give every slot with longer prefixes a node. */
	for (size_t i = 0; i < s->n; i++) {
		unsigned len = s->len[i];
		if (len > dir_bits)
			continue;
		size_t first = (size_t)(src_key(s, i) >> (128 - dir_bits));
		size_t count = (size_t)1 << (dir_bits - len);
		for (size_t j = first; j < first + count; j++)
			tr->dir[j] = LEAF_FLAG | (s->first_entry + (uint32_t)i);
	}
	size_t i = 0;
	while (i < s->n) {
		if (s->len[i] <= dir_bits) {
			i++;
			continue;
		}
		size_t sl = (size_t)(src_key(s, i) >> (128 - dir_bits)), j = i + 1;
		while (j < s->n && (size_t)(src_key(s, j) >> (128 - dir_bits)) == sl)
			j++;
		uint32_t o;
		int rc = build_node(tr, s, dir_bits, i, j, tr->dir[sl] & ~LEAF_FLAG, &o);
		if (rc)
			return rc;
		tr->dir[sl] = o;
		i = j;
	}
	/* Give back what doubling left over: the table lives long. */
	if (tr->nwords && tr->nwords < tr->word_cap) {
		uint32_t *w = reallocarray(tr->words, tr->nwords, sizeof *w);
		if (w) {
			tr->words = w;
			tr->word_cap = tr->nwords;
		}
	}
	return 0;
}

/* Moves a finished trie of 2 MiB or more into one mapping aligned to 2 MiB
 * and asks for transparent huge pages: random lookups over ten megabytes of
 * 4 KiB pages miss the TLB, and huge pages measured 6-13 % faster. The
 * mapping is then made read-only, which is what the table promises. Without
 * huge pages (THP off) this still works, on small pages. */
static int trie_pack(struct trie *tr)
{
	size_t dir_bytes = ((size_t)1 << tr->dir_bits) * sizeof *tr->dir;
	size_t len = dir_bytes + tr->nwords * sizeof *tr->words;
	if (len < HUGE_PAGE)
		return 0;
	size_t map_len = (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	size_t raw_len = map_len + HUGE_PAGE;
	uint8_t *raw =
	        mmap(NULL, raw_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return -ENOMEM;
	/* Trim the mapping to an aligned window. */
	uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (raw + raw_len > p + map_len)
		munmap(p + map_len, (size_t)(raw + raw_len - (p + map_len)));
	madvise(p, map_len, MADV_HUGEPAGE); /* a hint: failure is harmless */
	memcpy(p, tr->dir, dir_bytes);
	memcpy(p + dir_bytes, tr->words, tr->nwords * sizeof *tr->words);
	free(tr->dir);
	free(tr->words);
	tr->dir = (uint32_t *)(void *)p;
	tr->words = (uint32_t *)(void *)(p + dir_bytes);
	tr->word_cap = tr->nwords;
	tr->map = p;
	tr->map_len = map_len;
	mprotect(p, map_len, PROT_READ);
	return 0;
}

static void trie_free(struct trie *tr)
{
	if (tr->map) {
		munmap(tr->map, tr->map_len);
		return;
	}
	free(tr->dir);
	free(tr->words);
}

static size_t trie_bytes(const struct trie *tr)
{
	if (tr->map)
		return tr->map_len;
	return ((size_t)1 << tr->dir_bits) * sizeof *tr->dir + tr->word_cap * sizeof *tr->words;
}

/* The number of bits set in v at positions 0..s: the rank of slot s. */
static inline unsigned rank(uint64_t v, unsigned s)
{
	return (unsigned)__builtin_popcountll(v << (63 - s));
}

/* Walks from the node at word offset o; key holds the address bits below
 * the node's offset at its top, and zeros come in as it shifts. */
__attribute__((always_inline)) static inline uint32_t walk4(const uint32_t *words, uint32_t o,
                                                            uint64_t key)
{
	for (;;) {
		const uint32_t *n = words + o;
		uint64_t vector = load64(n), leafvec = load64(n + 2);
		unsigned sl = (unsigned)(key >> (64 - STRIDE));
		if (!(vector >> sl & 1))
			return n[NODE_HEADER + rank(leafvec, sl) - 1];
		o = n[NODE_HEADER + (unsigned)__builtin_popcountll(leafvec) + rank(vector, sl) - 1];
		key <<= STRIDE;
	}
}

__attribute__((always_inline)) static inline uint32_t lookup4(const struct trie *tr, uint32_t addr)
{
	uint32_t d = tr->dir[addr >> (32 - DIR4_BITS)];
	if (d & LEAF_FLAG)
		return d & ~LEAF_FLAG;
	return walk4(tr->words, d, (uint64_t)addr << (32 + DIR4_BITS));
}

__attribute__((always_inline)) static inline uint32_t lookup6(const struct trie *tr, kz_u128 key)
{
	uint32_t d = tr->dir[(size_t)(key >> (128 - DIR6_BITS))];
	if (d & LEAF_FLAG)
		return d & ~LEAF_FLAG;
	key <<= DIR6_BITS;
	for (;;) {
		const uint32_t *n = tr->words + d;
		uint64_t vector = load64(n), leafvec = load64(n + 2);
		unsigned sl = (unsigned)(key >> (128 - STRIDE));
		if (!(vector >> sl & 1))
			return n[NODE_HEADER + rank(leafvec, sl) - 1];
		d = n[NODE_HEADER + (unsigned)__builtin_popcountll(leafvec) + rank(vector, sl) - 1];
		key <<= STRIDE;
	}
}

__attribute__((always_inline)) static inline void
batch4(const struct trie *tr, const uint32_t *addrs, uint32_t *out, size_t n)
{
	/* While looking up address i, fetch the node of address i + AHEAD:
	 * the direct array mostly sits in L2, the nodes do not, and by the time
	 * the walk reaches that node its line has arrived. (Staging a group of
	 * lookups level by level measured slower than this.) */
	size_t i = 0;
	for (; i + BATCH_AHEAD < n; i++) {
		uint32_t d = tr->dir[addrs[i + BATCH_AHEAD] >> (32 - DIR4_BITS)];
		if (!(d & LEAF_FLAG))
			__builtin_prefetch(tr->words + d);
		out[i] = lookup4(tr, addrs[i]);
	}
	for (; i < n; i++)
		out[i] = lookup4(tr, addrs[i]);
}

/* The walks again, compiled for POPCNT: Debian's x86-64 baseline lacks the
 * instruction, and the portable popcount costs a dozen more on every level.
 * The table records at load whether the CPU has it (a branch that always
 * goes the same way; clang 14's target_clones cannot be called from other
 * files, and an ifunc resolver would run before the sanitizers start). */
#if defined(__x86_64__)
#define POPCNT_TARGET __attribute__((target("popcnt")))
static bool cpu_has_popcnt(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("popcnt");
}
#else
#define POPCNT_TARGET
static bool cpu_has_popcnt(void)
{
	return false;
}
#endif

/* Each walk twice, out of line, so that the exported functions below are a
 * test and a jump. */
#define NOINLINE __attribute__((noinline))

NOINLINE POPCNT_TARGET static uint32_t lookup4_popcnt(const struct trie *tr, uint32_t addr)
{
	return lookup4(tr, addr);
}

NOINLINE static uint32_t lookup4_plain(const struct trie *tr, uint32_t addr)
{
	return lookup4(tr, addr);
}

NOINLINE POPCNT_TARGET static uint32_t lookup6_popcnt(const struct trie *tr, kz_u128 key)
{
	return lookup6(tr, key);
}

NOINLINE static uint32_t lookup6_plain(const struct trie *tr, kz_u128 key)
{
	return lookup6(tr, key);
}

NOINLINE POPCNT_TARGET static void batch4_popcnt(const struct trie *tr, const uint32_t *addrs,
                                                 uint32_t *out, size_t n)
{
	batch4(tr, addrs, out, n);
}

NOINLINE static void batch4_plain(const struct trie *tr, const uint32_t *addrs, uint32_t *out,
                                  size_t n)
{
	batch4(tr, addrs, out, n);
}

uint32_t kz_pfx_lookup_v4(const struct kz_pfx *t, uint32_t addr)
{
	return t->popcnt ? lookup4_popcnt(&t->t4, addr) : lookup4_plain(&t->t4, addr);
}

void kz_pfx_lookup_v4_batch(const struct kz_pfx *t, const uint32_t *addrs, uint32_t *out, size_t n)
{
	if (t->popcnt)
		batch4_popcnt(&t->t4, addrs, out, n);
	else
		batch4_plain(&t->t4, addrs, out, n);
}

uint32_t kz_pfx_lookup_entry(const struct kz_pfx *t, struct kz_addr a)
{
	if (kz_addr_is_v4(a))
		return t->popcnt ? lookup4_popcnt(&t->t4, kz_addr_v4(a))
		                 : lookup4_plain(&t->t4, kz_addr_v4(a));
	return t->popcnt ? lookup6_popcnt(&t->t6, a.v) : lookup6_plain(&t->t6, a.v);
}

int kz_pfx_entry(const struct kz_pfx *t, uint32_t entry, struct kz_pfx_match *m)
{
	if (entry == KZ_PFX_NONE || entry > t->n4 + t->n6)
		return -ENOENT;
	m->entry = entry;
	m->origin = t->ent_origin[entry];
	if (entry <= t->n4)
		m->prefix.base = kz_addr_from_v4(t->base4[entry]);
	else
		m->prefix.base.v = t->base6[entry - t->n4 - 1];
	m->prefix.len = t->ent_len[entry];
	return 0;
}

bool kz_pfx_lookup(const struct kz_pfx *t, struct kz_addr a, struct kz_pfx_match *m)
{
	uint32_t e = kz_pfx_lookup_entry(t, a);
	if (kz_pfx_entry(t, e, m) == 0)
		return true;
	memset(m, 0, sizeof *m);
	return false;
}

uint32_t kz_pfx_entry_origin(const struct kz_pfx *t, uint32_t entry)
{
	return t->ent_origin[entry];
}

int kz_pfx_origin(const struct kz_pfx *t, uint32_t id, struct kz_pfx_origin *out)
{
	if (id >= t->norigins)
		return -ENOENT;
	const struct origin_rec *r = &t->origins[id];
	out->text = t->text + r->text_off;
	out->asns = t->asns + r->asn_off;
	out->nasns = r->nasns;
	out->ngroups = r->ngroups;
	out->multi_origin = r->ngroups > 1;
	out->as_set = false;
	for (size_t i = 0; i < out->nasns; i++)
		out->as_set |= out->asns[i].as_set;
	return 0;
}

const char *kz_pfx_version(const struct kz_pfx *t)
{
	return t->version;
}

void kz_pfx_stats(const struct kz_pfx *t, struct kz_pfx_stats *out)
{
	*out = t->stats;
}

void kz_pfx_free(struct kz_pfx *t)
{
	if (!t)
		return;
	trie_free(&t->t4);
	trie_free(&t->t6);
	free(t->ent_origin);
	free(t->ent_len);
	free(t->base4);
	free(t->base6);
	free(t->origins);
	free(t->asns);
	free(t->text);
	free(t->version);
	free(t);
}

/* ---- Sorting, duplicates, assembly ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_raw6(const void *a, const void *b)
{
	const struct raw6 *x = a, *y = b;
	if (x->base != y->base)
		return x->base < y->base ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts the IPv4 lines unless the file was sorted already, and keeps the
 * last line of each prefix. Returns the number kept, in place in ld->k4. */
static size_t dedup4(struct loader *ld, size_t *dups, uint64_t *first_dup)
{
	bool sorted = true;
	for (size_t i = 1; i < ld->n4 && sorted; i++)
		sorted = ld->k4[i - 1] < ld->k4[i];
	if (!sorted)
		qsort(ld->k4, ld->n4, sizeof *ld->k4, cmp_u64);
	size_t out = 0;
	for (size_t i = 0; i < ld->n4; i++) {
		/* Equal prefixes are adjacent, in line order: the later replaces. */
		if (out > 0 && ld->k4[out - 1] >> SEQ_BITS == ld->k4[i] >> SEQ_BITS) {
			if ((*dups)++ == 0)
				*first_dup = ld->k4[i];
			ld->k4[out - 1] = ld->k4[i];
		} else {
			ld->k4[out++] = ld->k4[i];
		}
	}
	return out;
}

static size_t dedup6(struct loader *ld, size_t *dups, const struct raw6 **first_dup)
{
	bool sorted = true;
	for (size_t i = 1; i < ld->n6 && sorted; i++)
		sorted = cmp_raw6(&ld->r6[i - 1], &ld->r6[i]) < 0;
	if (!sorted)
		qsort(ld->r6, ld->n6, sizeof *ld->r6, cmp_raw6);
	size_t out = 0;
	for (size_t i = 0; i < ld->n6; i++) {
		if (out > 0 && ld->r6[out - 1].base == ld->r6[i].base &&
		    ld->r6[out - 1].len == ld->r6[i].len) {
			if ((*dups)++ == 0)
				*first_dup = &ld->r6[out - 1];
			ld->r6[out - 1] = ld->r6[i];
		} else {
			ld->r6[out++] = ld->r6[i];
		}
	}
	return out;
}

/* Builds the table from the parsed lines; takes the origin arrays. */
static int assemble(struct loader *ld, struct kz_pfx *t)
{
	size_t dups = 0;
	uint64_t first4 = 0;
	const struct raw6 *first6 = NULL;
	struct kz_cidr dup = { 0 };
	size_t n4 = dedup4(ld, &dups, &first4);
	if (dups)
		dup = kz_cidr_make(kz_addr_from_v4((uint32_t)(first4 >> 32)),
		                   (unsigned)(first4 >> SEQ_BITS & 0xff));
	size_t dups4 = dups;
	size_t n6 = dedup6(ld, &dups, &first6);
	if (dups > dups4 && dups4 == 0) {
		dup.base.v = first6->base;
		dup.len = first6->len;
	}
	size_t n = n4 + n6;
	t->n4 = (uint32_t)n4;
	t->n6 = (uint32_t)n6;
	t->ent_origin = malloc((n + 1) * sizeof *t->ent_origin);
	t->ent_len = malloc((n + 1) * sizeof *t->ent_len);
	t->base4 = malloc((n4 + 1) * sizeof *t->base4);
	t->base6 = malloc((n6 ? n6 : 1) * sizeof *t->base6);
	if (!t->ent_origin || !t->ent_len || !t->base4 || !t->base6)
		return -ENOMEM;
	t->ent_origin[0] = 0;
	t->ent_len[0] = 0;
	t->base4[0] = 0;
	for (size_t i = 0; i < n4; i++) {
		uint64_t k = ld->k4[i];
		t->base4[i + 1] = (uint32_t)(k >> 32);
		t->ent_len[i + 1] = (uint8_t)(k >> SEQ_BITS);
		t->ent_origin[i + 1] = ld->o4[k & ((1u << SEQ_BITS) - 1)];
	}
	for (size_t i = 0; i < n6; i++) {
		t->base6[i] = ld->r6[i].base;
		t->ent_len[n4 + 1 + i] = ld->r6[i].len;
		t->ent_origin[n4 + 1 + i] = ld->r6[i].origin;
	}
	struct src s4 = { .base4 = t->base4 + 1, .len = t->ent_len + 1, .first_entry = 1, .n = n4 };
	struct src s6 = { .base6 = t->base6,
		          .len = t->ent_len + 1 + n4,
		          .first_entry = (uint32_t)n4 + 1,
		          .n = n6 };
	int rc = trie_build(&t->t4, DIR4_BITS, &s4);
	if (!rc)
		rc = trie_build(&t->t6, DIR6_BITS, &s6);
	if (!rc)
		rc = trie_pack(&t->t4);
	if (!rc)
		rc = trie_pack(&t->t6);
	if (rc)
		return rc;

	t->origins = ld->origins;
	t->norigins = ld->norigins;
	t->asns = ld->asns;
	t->nasns = ld->nasns;
	t->text = ld->text;
	t->text_len = ld->text_len;
	ld->origins = NULL;
	ld->asns = NULL;
	ld->text = NULL;

	struct kz_pfx_stats *st = &t->stats;
	st->lines = ld->lines;
	st->prefixes = n;
	st->prefixes_v4 = n4;
	st->prefixes_v6 = n6;
	st->origins = t->norigins;
	st->duplicates = dups;
	for (size_t e = 1; e <= n; e++) {
		const struct origin_rec *r = &t->origins[t->ent_origin[e]];
		st->multi_origin += r->ngroups > 1;
		st->as_set += r->nasns > r->ngroups;
	}
	st->nodes = t->t4.nnodes + t->t6.nnodes;
	st->bytes = sizeof *t + trie_bytes(&t->t4) + trie_bytes(&t->t6) +
	            (n + 1) * (sizeof *t->ent_origin + sizeof *t->ent_len) +
	            (n4 + 1) * sizeof *t->base4 + n6 * sizeof *t->base6 +
	            ld->origin_cap * sizeof *t->origins + ld->asn_cap * sizeof *t->asns +
	            ld->text_cap + strlen(t->version) + 1;
	kz_debug("%s: IPv4 trie %zu nodes, %zu leaves, %zu bytes; IPv6 trie %zu nodes, %zu leaves, "
	         "%zu bytes; %zu bytes in all",
	         ld->name, t->t4.nnodes, t->t4.nleaves, trie_bytes(&t->t4), t->t6.nnodes,
	         t->t6.nleaves, trie_bytes(&t->t6), st->bytes);
	if (dups) {
		char buf[KZ_CIDR_STRLEN];
		kz_warn("%s: %zu duplicate prefix%s (the last line of each wins), e.g. %s",
		        ld->name, dups, dups == 1 ? "" : "es", kz_cidr_format(&dup, buf));
	}
	return 0;
}

static void loader_free(struct loader *ld)
{
	free(ld->k4);
	free(ld->o4);
	free(ld->r6);
	free(ld->origins);
	free(ld->asns);
	free(ld->text);
	free(ld->slots);
	free(ld->scratch);
}

/* ---- Bytes in, table out ---- */

/* Inflates a gzip file (one or more members) into a new buffer of at most
 * KZ_PFX_FILE_MAX bytes. */
static int gunzip(const uint8_t *in, size_t inlen, char **out, size_t *outlen, const char **why)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		*why = "cannot start zlib";
		return -ENOMEM;
	}
	char *buf = NULL;
	size_t cap = 0, len = 0;
	int rc = 0;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)inlen;
	for (;;) {
		if (len == cap) {
			rc = grow((void **)&buf, &cap, cap ? cap * 2 : inlen * 4 + 4096, 1,
			          (size_t)KZ_PFX_FILE_MAX + 1);
			if (rc) {
				*why = rc == -E2BIG ? "larger than 256 MiB decompressed"
				                    : "out of memory";
				goto fail;
			}
		}
		zs.next_out = (Bytef *)buf + len;
		zs.avail_out = (uInt)(cap - len);
		int zr = inflate(&zs, Z_NO_FLUSH);
		len = cap - zs.avail_out;
		if (len > KZ_PFX_FILE_MAX) {
			rc = -E2BIG;
			*why = "larger than 256 MiB decompressed";
			goto fail;
		}
		if (zr == Z_STREAM_END) {
			if (zs.avail_in == 0)
				break;
			/* Another gzip member follows (as `cat a.gz b.gz` makes). */
			if (inflateReset(&zs) != Z_OK) {
				rc = -EINVAL;
				*why = "bad gzip stream";
				goto fail;
			}
			continue;
		}
		if (zr == Z_BUF_ERROR && zs.avail_in == 0) {
			rc = -EINVAL;
			*why = "truncated gzip stream";
			goto fail;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
			*why = zr == Z_MEM_ERROR ? "out of memory" : "bad gzip stream";
			goto fail;
		}
	}
	inflateEnd(&zs);
	*out = buf;
	*outlen = len;
	return 0;
fail:
	inflateEnd(&zs);
	free(buf);
	return rc;
}

static char *make_version(const char *name, const uint8_t *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < HASH_HEX / 2)
		return NULL;
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	size_t blen = strlen(base);
	char *v = malloc(blen + 1 + HASH_HEX + 1);
	if (!v)
		return NULL;
	memcpy(v, base, blen);
	v[blen] = '@';
	for (unsigned i = 0; i < HASH_HEX / 2; i++)
		snprintf(v + blen + 1 + 2 * i, 3, "%02x", md[i]);
	return v;
}

int kz_pfx_load_mem(const char *name, const void *data, size_t len, struct kz_pfx **out,
                    char *errbuf, size_t errlen)
{
	struct loader ld = { .name = name, .errbuf = errbuf, .errlen = errlen };
	char *inflated = NULL;
	struct kz_pfx *t = calloc(1, sizeof *t);
	int rc = -ENOMEM;
	if (!t) {
		rc = fail_file(errbuf, errlen, -ENOMEM, "%s: out of memory", name);
		goto fail;
	}
	if (len > KZ_PFX_FILE_MAX) {
		rc = fail_file(errbuf, errlen, -E2BIG, "%s: larger than 256 MiB", name);
		goto fail;
	}
	t->popcnt = cpu_has_popcnt();
	t->version = make_version(name, data, len);
	if (!t->version) {
		rc = fail_file(errbuf, errlen, -ENOMEM, "%s: cannot hash the file", name);
		goto fail;
	}
	const char *text = data;
	if (len >= 2 && memcmp(data, GZIP_MAGIC, 2) == 0) {
		const char *why = NULL;
		size_t tlen = 0;
		rc = gunzip(data, len, &inflated, &tlen, &why);
		if (rc) {
			rc = fail_file(errbuf, errlen, rc, "%s: %s", name, why);
			goto fail;
		}
		text = inflated;
		len = tlen;
	}
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		ld.line++;
		if (n > KZ_PFX_LINE_MAX) {
			rc = fail_line(&ld, -EMSGSIZE, "line longer than %u bytes",
			               KZ_PFX_LINE_MAX);
			goto fail;
		}
		if (memchr(p, '\0', n)) {
			rc = fail_line(&ld, -EINVAL, "NUL byte in the line");
			goto fail;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		rc = parse_line(&ld, p, n);
		if (rc)
			goto fail;
		p = nl ? nl + 1 : end;
	}
	if (ld.n4 + ld.n6 == 0) {
		rc = fail_file(errbuf, errlen, -EINVAL, "%s: no prefixes in the file", name);
		goto fail;
	}
	rc = assemble(&ld, t);
	if (rc) {
		rc = fail_file(errbuf, errlen, rc, "%s: %s", name,
		               rc == -ENOMEM ? "out of memory" : "table too large");
		goto fail;
	}
	loader_free(&ld);
	free(inflated);
	*out = t;
	return 0;
fail:
	loader_free(&ld);
	free(inflated);
	kz_pfx_free(t);
	return rc;
}

/* Reads all of fd, up to KZ_PFX_FILE_MAX bytes. */
static int read_all(int fd, uint8_t **out, size_t *outlen)
{
	struct stat st;
	size_t cap = 0, len = 0;
	uint8_t *buf = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > KZ_PFX_FILE_MAX)
		return -E2BIG;
	size_t want = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	for (;;) {
		if (len == cap) {
			int rc = grow((void **)&buf, &cap, len ? cap * 2 : want, 1,
			              (size_t)KZ_PFX_FILE_MAX + 1);
			if (rc) {
				free(buf);
				return rc;
			}
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > KZ_PFX_FILE_MAX) {
			free(buf);
			return -E2BIG;
		}
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int kz_pfx_load(const char *path, struct kz_pfx **out, char *errbuf, size_t errlen)
{
	bool std_in = strcmp(path, "-") == 0;
	const char *name = std_in ? "stdin" : path;
	int fd = std_in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_file(errbuf, errlen, -errno, "%s: cannot open: %s", name,
		                 strerror(errno));
	/* A regular file is mapped rather than copied: no buffer to fault in
	 * and zero, and the page cache serves it. */
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size <= KZ_PFX_FILE_MAX) {
		size_t len = (size_t)st.st_size;
		void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			if (!std_in)
				close(fd);
			madvise(map, len, MADV_SEQUENTIAL);
			int rc = kz_pfx_load_mem(name, map, len, out, errbuf, errlen);
			munmap(map, len);
			return rc;
		}
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = read_all(fd, &buf, &len);
	if (!std_in)
		close(fd);
	if (rc)
		return fail_file(errbuf, errlen, rc, "%s: cannot read: %s", name,
		                 rc == -E2BIG ? "larger than 256 MiB" : strerror(-rc));
	rc = kz_pfx_load_mem(name, buf, len, out, errbuf, errlen);
	free(buf);
	return rc;
}
