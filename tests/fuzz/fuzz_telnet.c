/*
 * Arbitrary server bytes through both telnet layers, in arbitrary chunkings.
 *
 * Input: 4 bytes that seed the generator choosing chunk sizes, time gaps,
 * refused connects and closes; then the server's byte stream, which runs
 * on across reconnects (each connection reads where the last stopped).
 *
 * Checked:
 * - telnet.c: the whole stream and a chunked feed into tiny buffers give
 *   the same data and replies; data never grows; every reply is one of the
 *   forms CONTRACT.md allows.
 * - telnet_login.c: it only ever asks to send negotiation replies of those
 *   forms and whole lines that are the escaped user or password of a listed
 *   pair, of its control pair, or empty (the nudge); every deadline is in
 *   the future; it always finishes (a bound on events); the result is
 *   consistent.
 *
 * Seeds (tests/fuzz/corpus/telnet/) are the server bytes of the unit tests'
 * transcripts (tests/unit/test_telnet_login.c writes them when
 * KZ_WRITE_TELNET_CORPUS names a directory).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telnet.h"
#include "telnet_login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static const uint8_t naws_sb[9] = { 0xff, 0xfa, 31, 0, 80, 0, 24, 0xff, 0xf0 };

/* One reply at r (n bytes left); returns its length or aborts. */
static size_t reply_len(const uint8_t *r, size_t n)
{
	if (n < 3 || r[0] != KZ_TELNET_IAC)
		abort();
	switch (r[1]) {
	case KZ_TELNET_DO:
		if (r[2] != KZ_TELOPT_ECHO && r[2] != KZ_TELOPT_SGA)
			abort();
		return 3;
	case KZ_TELNET_WILL:
		if (r[2] != KZ_TELOPT_NAWS || n < 12 || memcmp(r + 3, naws_sb, 9) != 0)
			abort();
		return 12;
	case KZ_TELNET_DONT:
	case KZ_TELNET_WONT:
		return 3;
	default:
		abort();
	}
}

static void check_replies(const uint8_t *r, size_t n)
{
	for (size_t i = 0; i < n;)
		i += reply_len(r + i, n - i);
}

static void fuzz_parser(const uint8_t *in, size_t len, uint32_t seed)
{
	size_t rcap = KZ_TELNET_MAX_REPLIES * KZ_TELNET_REPLY_MAX + KZ_TELNET_REPLY_MAX;
	uint8_t *d1 = malloc(len + 1), *r1 = malloc(rcap), *d2 = malloc(len + 1),
	        *r2 = malloc(rcap);
	if (!d1 || !r1 || !d2 || !r2)
		abort();
	struct kz_telnet a, b;
	kz_telnet_init(&a);
	struct kz_telnet_out o = {
		.data = d1, .data_cap = len + 1, .reply = r1, .reply_cap = rcap
	};
	if (kz_telnet_feed(&a, in, len, &o) != len || o.data_len > len)
		abort();
	check_replies(r1, o.reply_len);

	kz_telnet_init(&b);
	size_t dlen = 0, rlen = 0, pos = 0;
	while (pos < len) {
		size_t chunk = 1 + rnd(&seed) % 16;
		if (chunk > len - pos)
			chunk = len - pos;
		uint8_t d[8], r[KZ_TELNET_REPLY_MAX + 4];
		struct kz_telnet_out q = { .data = d,
			                   .data_cap = 1 + rnd(&seed) % sizeof d,
			                   .reply = r,
			                   .reply_cap = KZ_TELNET_REPLY_MAX + rnd(&seed) % 5 };
		size_t used = kz_telnet_feed(&b, in + pos, chunk, &q);
		if (dlen + q.data_len > len + 1 || rlen + q.reply_len > rcap)
			abort();
		memcpy(d2 + dlen, d, q.data_len);
		dlen += q.data_len;
		memcpy(r2 + rlen, r, q.reply_len);
		rlen += q.reply_len;
		pos += used;
	}
	if (dlen != o.data_len || memcmp(d1, d2, dlen) != 0 || rlen != o.reply_len ||
	    memcmp(r1, r2, rlen) != 0 || a.commands != b.commands)
		abort();
	free(d1);
	free(r1);
	free(d2);
	free(r2);
}

/* Pairs with a 0xff, a CR, a '#', an empty password and a password-only
 * pair, so that escaping and every mode are exercised. */
static const struct kz_login_cred creds[] = {
	{ "root", "xc3511" },  { "admin", "admin" }, { "", "1234" },
	{ "r\rt", "p\xffss" }, { "support", "a#" },  { "root", "" },
};
#define NCREDS (sizeof creds / sizeof creds[0])

struct allowed {
	uint8_t line[2 * NCREDS + 2][2 * KZ_TELNET_LOGIN_CRED_MAX + 2];
	size_t len[2 * NCREDS + 2];
	size_t n;
};

static void allow(struct allowed *a, const char *s)
{
	size_t w;
	if (kz_telnet_escape((const uint8_t *)s, strlen(s), a->line[a->n], sizeof a->line[0], &w))
		abort();
	a->len[a->n++] = w;
}

/* Everything the machine asks to send: replies, or whole allowed lines. */
static void check_output(const struct allowed *a, const uint8_t *o, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (o[i] == KZ_TELNET_IAC) {
			i += reply_len(o + i, n - i);
			continue;
		}
		const uint8_t *end = memmem(o + i, n - i, "\r\n", 2);
		if (!end)
			abort();
		size_t len = (size_t)(end - (o + i));
		bool ok = len == 0;
		for (size_t k = 0; k < a->n && !ok; k++)
			ok = a->len[k] == len && memcmp(a->line[k], o + i, len) == 0;
		if (!ok)
			abort();
		i += len + 2;
	}
}

static void fuzz_login(const uint8_t *in, size_t len, uint32_t seed)
{
	static struct kz_telnet_login m;
	static struct allowed a;
	struct kz_telnet_login_params p;
	kz_telnet_login_defaults(&p);
	p.creds = creds;
	p.ncreds = NCREDS;
	p.control_seed = seed;
	if (kz_telnet_login_init(&m, &p) != 0)
		abort();
	const char *cu, *cp;
	kz_telnet_login_control_pair(&m, &cu, &cp);
	a.n = 0;
	for (size_t i = 0; i < NCREDS; i++) {
		allow(&a, creds[i].user);
		allow(&a, creds[i].pass);
	}
	allow(&a, cu);
	allow(&a, cp);

	uint64_t now = 1000;
	struct kz_login_step step = kz_telnet_login_start(&m, now);
	size_t pos = 0;
	for (unsigned iter = 0;; iter++) {
		if (iter > 1000000)
			abort(); /* the machine must always finish */
		size_t n;
		const uint8_t *o = kz_telnet_login_output(&m, &n);
		check_output(&a, o, n);
		kz_telnet_login_consume(&m, n);
		if (step.want == KZ_LOGIN_WANT_DONE)
			break;
		if (step.want == KZ_LOGIN_WANT_CONNECT) {
			if (step.deadline <= step.at)
				abort();
			if (step.at > now)
				now = step.at;
			if (rnd(&seed) % 16 == 0)
				step = kz_telnet_login_connect_failed(&m, -ECONNREFUSED, now);
			else
				step = kz_telnet_login_connected(&m, now);
			continue;
		}
		if (step.deadline <= now)
			abort();
		if (pos == len) {
			/* The device has nothing more to say: only time passes. */
			now = step.deadline;
			step = kz_telnet_login_tick(&m, now);
			continue;
		}
		uint32_t r = rnd(&seed);
		uint64_t gap = r % 1200;
		if (now + gap >= step.deadline) {
			now = step.deadline;
			step = kz_telnet_login_tick(&m, now);
			continue;
		}
		now += gap;
		if ((r >> 12) % 29 == 0) {
			step = kz_telnet_login_closed(&m, now);
			continue;
		}
		size_t chunk = 1 + (r >> 16) % 48;
		if (chunk > len - pos)
			chunk = len - pos;
		step = kz_telnet_login_input(&m, in + pos, chunk, now);
		pos += chunk;
	}
	const struct kz_telnet_login_result *res = kz_telnet_login_result(&m);
	if (res->status == KZ_LOGIN_PENDING || !res->reason)
		abort();
	if ((res->status == KZ_LOGIN_POSSIBLE) != (res->pair >= 0))
		abort();
	if (res->pair >= (int)NCREDS || res->banner_len > KZ_TELNET_LOGIN_BANNER_MAX ||
	    res->banner_len > res->banner_seen || res->evidence_len > sizeof m.evidence)
		abort();
	kz_telnet_login_wipe(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint32_t seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
	                (uint32_t)data[3] << 24;
	if (seed == 0)
		seed = 1;
	fuzz_parser(data + 4, size - 4, seed);
	fuzz_login(data + 4, size - 4, seed);
	return 0;
}
