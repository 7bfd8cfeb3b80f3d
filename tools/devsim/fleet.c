/*
 * The fleet: which device each address is, decided from the seed alone
 * (docs/devsim-spec.md section 8, fleet-v1), and the ground truth.
 *
 * fleet-v1 is a table of 4,096 slots, each row of the spec's table filling
 * as many consecutive slots as it has devices. Device i takes slot
 * perm(seed, i / 4096)(i % 4096), where perm is a keyed 12-bit Feistel
 * permutation: a fleet of 4,096 devices has exactly the spec's counts, a
 * larger fleet repeats them per block of 4,096 with a fresh order, and
 * device i is the same whatever the fleet's size (the spec's "counter-based
 * generator keyed by the seed"). Inside a row the device's rank decides the
 * credential setting (the first 60 % are weak), its style (round-robin over
 * the row's styles) and its variant (a second, co-prime walk over the rank,
 * so that variants and weak/strong are spread independently).
 *
 * A weak device's pair is drawn from the list with the device's own random
 * stream; its expected index is the first pair in list order that the
 * device accepts, which is what the prober reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "devsim.h"
#include "lines.h"

enum { SLOTS = 4096 };

struct row {
	uint8_t behaviour;
	uint16_t count;
	uint8_t weak_pct; /* 0: fixed status */
	uint8_t nstyles;
	uint8_t styles[15];
};

/* docs/devsim-spec.md section 8, in table order. */
static const struct row fleet_v1[] = {
	{ 1, 1316, 60, 15, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 } },
	{ 2, 300, 60, 4, { 1, 4, 5, 8 } },
	{ 3, 250, 60, 1, { 2 } },
	{ 4, 200, 60, 4, { 1, 5, 10, 13 } },
	{ 5, 100, 60, 1, { 14 } },
	{ 6, 40, 60, 1, { 1 } },
	{ 7, 60, 60, 1, { 1 } },
	{ 8, 60, 60, 2, { 1, 13 } },
	{ 9, 200, 60, 3, { 1, 5, 11 } },
	{ 10, 40, 60, 1, { 1 } },
	{ 11, 300, 60, 4, { 1, 3, 6, 13 } },
	{ 12, 60, 60, 1, { 1 } },
	{ 13, 80, 60, 2, { 1, 10 } },
	{ 14, 150, 60, 2, { 1, 3 } },
	{ 15, 80, 60, 2, { 1, 14 } },
	{ 16, 80, 0, 1, { 1 } },
	{ 18, 80, 0, 1, { 16 } },
	{ 19, 60, 0, 0, { 0 } },
	{ 20, 60, 0, 0, { 0 } },
	{ 21, 100, 0, 0, { 0 } },
	{ 22, 60, 0, 0, { 0 } },
	{ 23, 60, 0, 0, { 0 } },
	{ 24, 60, 60, 1, { 8 } },
	{ 25, 60, 100, 1, { 1 } },
	{ 26, 40, 100, 1, { 1 } },
	{ 27, 40, 60, 1, { 1 } },
	{ 28, 100, 60, 2, { 1, 14 } },
	{ 29, 60, 60, 1, { 2 } },
};
#define NROWS (sizeof fleet_v1 / sizeof fleet_v1[0])

static const char *const behaviour_names[DSIM_NBEHAVIOURS] = {
	"",
	"normal",
	"slow",
	"char-at-a-time-echo",
	"no-negotiation",
	"negotiation-heavy",
	"option-flood",
	"iac-iac-data",
	"cr-nul-output",
	"prompt-char-banner",
	"large-banner",
	"close-after-failure",
	"silent-failure-open",
	"silent-failure-reprompt",
	"delayed-success",
	"incorrect-in-motd",
	"accepts-any",
	"strong-password",
	"no-auth",
	"tarpit-silent",
	"tarpit-drip",
	"ssh-on-23",
	"http-on-23",
	"binary-on-23",
	"press-return",
	"same-user-reprompt",
	"empty-password",
	"reconnect-cooldown",
	"segmented-output",
	"ansi-prompts",
};

static const char *const vendors[DSIM_NSTYLES] = {
	"none",       "busybox",    "busybox-openwrt", "hikvision",      "dahua",         "zte",
	"huawei-ont", "huawei-vrp", "cisco-ios",       "mikrotik",       "login-as",      "switch",
	"dlink",      "zynos",      "linux",           "generic-router", "busybox-shell",
};

const char *dsim_behaviour_name(unsigned b)
{
	return b < DSIM_NBEHAVIOURS ? behaviour_names[b] : "";
}

const char *dsim_style_vendor(unsigned s)
{
	return s < DSIM_NSTYLES ? vendors[s] : "none";
}

uint64_t dsim_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A keyed permutation of 0..4095: four Feistel rounds over two 6-bit
 * halves. */
static uint32_t slot_of(uint64_t seed, uint32_t block, uint32_t x)
{
	uint32_t l = x >> 6, r = x & 63;
	for (uint32_t round = 0; round < 4; round++) {
		uint64_t k = dsim_mix(seed ^ ((uint64_t)block << 32) ^ ((uint64_t)round << 24) ^ r);
		uint32_t nl = r;
		r = l ^ (uint32_t)(k & 63);
		l = nl;
	}
	return (l << 6) | r;
}

const char *dsim_expected_status(const struct dsim_dev *d)
{
	switch (d->behaviour) {
	case 16:
		return "accepts-any";
	case 18:
		return "no-auth";
	case 19:
		return "timeout";
	case 20:
		return "no-login-prompt";
	case 21:
	case 22:
	case 23:
		return "not-telnet";
	default:
		return d->weak ? "login-possible" : "login-failed";
	}
}

/* --- fleet-v2's HTTP services (spec section 11) ------------------------- */

struct hrow {
	uint8_t behaviour; /* 0: no HTTP service */
	uint16_t count;
	uint8_t weak_pct;
	uint8_t nstyles;
	uint8_t styles[3];
};

/* docs/devsim-spec.md section 11.6, in table order. */
static const struct hrow fleet_v2_http[] = {
	{ 1, 300, 60, 3, { 1, 2, 3 } }, { 2, 150, 60, 2, { 4, 5 } }, { 3, 60, 60, 1, { 6 } },
	{ 4, 60, 0, 1, { 3 } },         { 5, 80, 0, 0, { 0 } },      { 6, 120, 0, 1, { 2 } },
	{ 7, 100, 0, 0, { 0 } },        { 8, 60, 60, 1, { 2 } },     { 9, 94, 60, 1, { 1 } },
	{ 0, 3072, 0, 0, { 0 } },
};
#define NHROWS (sizeof fleet_v2_http / sizeof fleet_v2_http[0])

static const char *const http_names[DSIM_NHTTP] = {
	"",           "basic",      "digest-md5", "digest-sha256", "accepts-any",
	"open-admin", "login-form", "redirect",   "slow",          "close-after-failure",
};

static const char *const wvendors[DSIM_NWSTYLES] = {
	"uhttpd", "goahead", "boa", "mini_httpd", "lighttpd", "camera-digest", "nginx",
};

const char *dsim_http_behaviour_name(unsigned h)
{
	return h < DSIM_NHTTP ? http_names[h] : "";
}

const char *dsim_http_style_vendor(unsigned w)
{
	return w < DSIM_NWSTYLES ? wvendors[w] : "";
}

const char *dsim_http_expected_status(const struct dsim_dev *d)
{
	switch (d->http) {
	case 4:
		return "accepts-any";
	case 5:
	case 6:
	case 7:
		return "no-login-prompt";
	default:
		return d->http_weak ? "login-possible" : "login-failed";
	}
}

/* --- credentials ------------------------------------------------------ */

/* Split one field off s at an unescaped ':' into a fresh string with the
 * escapes removed; *s moves past the separator (NULL at the end). */
static char *take_field(const char **s)
{
	const char *p = *s;
	size_t n = strlen(p);
	char *out = malloc(n + 1);
	size_t o = 0;
	if (!out)
		return NULL;
	while (*p && *p != ':') {
		if (*p == '\\' && (p[1] == ':' || p[1] == '\\'))
			p++;
		out[o++] = *p++;
	}
	out[o] = '\0';
	*s = *p == ':' ? p + 1 : NULL;
	return out;
}

static bool protocols_allow(const char *f, const char *proto)
{
	if (!f || !*f)
		return true;
	size_t n = strlen(proto);
	for (const char *p = f; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, proto, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

int dsim_creds_load(const char *path, struct dsim_creds *out, char *why, size_t whylen)
{
	struct kz_lines *lr = NULL;
	int rc = kz_lines_open(path, &lr);
	memset(out, 0, sizeof *out);
	if (rc != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	size_t cap = 0;
	char *line;
	size_t len;
	while ((rc = kz_lines_next(lr, &line, &len)) == 1) {
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		/* Only whole-line comments: a password may hold '#'. */
		if (*p == '\0' || *p == '#')
			continue;
		if (!strchr(line, ':')) {
			snprintf(why, whylen, "%s:%lu: no ':' between user and password", path,
			         kz_lines_number(lr));
			rc = -EINVAL;
			goto fail;
		}
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct dsim_cred *nv = reallocarray(out->v, ncap, sizeof *nv);
			if (!nv) {
				rc = -ENOMEM;
				goto fail;
			}
			out->v = nv;
			cap = ncap;
		}
		const char *s = line;
		struct dsim_cred *c = &out->v[out->n];
		c->user = take_field(&s);
		c->pass = s ? take_field(&s) : strdup("");
		char *protos = s ? take_field(&s) : NULL;
		c->telnet = protocols_allow(protos, "telnet");
		c->http = protocols_allow(protos, "http");
		free(protos);
		out->n++;
		if (!c->user || !c->pass) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (rc < 0) {
		snprintf(why, whylen, "%s:%lu: %s", path, kz_lines_number(lr) + 1,
		         rc == -EMSGSIZE ? "line too long" : strerror(-rc));
		goto fail;
	}
	kz_lines_close(lr);
	return 0;
fail:
	kz_lines_close(lr);
	if (rc == -ENOMEM)
		snprintf(why, whylen, "%s: out of memory", path);
	dsim_creds_free(out);
	return rc;
}

void dsim_creds_free(struct dsim_creds *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].user);
		free(c->v[i].pass);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* --- drawing a device's credentials ---------------------------------- */

static bool usable_userpass(const struct dsim_cred *c)
{
	return c->telnet && c->user[0] && c->pass[0];
}

/* The first pair in list order that a device accepting (user, pass) in
 * the given mode accepts: the index the prober reports. */
static int32_t first_accepted(const struct dsim_creds *cr, enum dsim_accept mode, const char *user,
                              const char *pass)
{
	for (size_t i = 0; i < cr->n; i++) {
		const struct dsim_cred *c = &cr->v[i];
		if (!c->telnet)
			continue;
		if (mode == DSIM_ACCEPT_USER_PASS && c->user[0] && strcmp(c->user, user) == 0 &&
		    strcmp(c->pass, pass) == 0)
			return (int32_t)i;
		if (mode == DSIM_ACCEPT_PASS && strcmp(c->pass, pass) == 0)
			return (int32_t)i;
		if (mode == DSIM_ACCEPT_USER && c->user[0] && strcmp(c->user, user) == 0)
			return (int32_t)i;
	}
	return -1;
}

/* The k-th (0-based) pair satisfying pred, or -1. */
static int32_t nth_pair(const struct dsim_creds *cr, size_t k,
                        bool (*pred)(const struct dsim_creds *, size_t))
{
	for (size_t i = 0; i < cr->n; i++)
		if (pred(cr, i) && k-- == 0)
			return (int32_t)i;
	return -1;
}

static size_t count_pairs(const struct dsim_creds *cr,
                          bool (*pred)(const struct dsim_creds *, size_t))
{
	size_t n = 0;
	for (size_t i = 0; i < cr->n; i++)
		n += pred(cr, i);
	return n;
}

static bool pred_userpass(const struct dsim_creds *cr, size_t i)
{
	return usable_userpass(&cr->v[i]);
}

static bool pred_pass(const struct dsim_creds *cr, size_t i)
{
	return cr->v[i].telnet && cr->v[i].pass[0];
}

/* B07 variant: a pair whose password holds a 0xff byte. */
static bool pred_ffpass(const struct dsim_creds *cr, size_t i)
{
	return usable_userpass(&cr->v[i]) && strchr(cr->v[i].pass, 0xff);
}

/* B25: pair k = (U, P) is a trap when an earlier pair m has the password P
 * with another user, and one of the two pairs before m has the user U: a
 * prober that types the next pairs' passwords into U's password re-prompt
 * logs in with P and credits pair m. */
static bool pred_b25(const struct dsim_creds *cr, size_t k)
{
	const struct dsim_cred *v = cr->v;
	if (!usable_userpass(&v[k]))
		return false;
	for (size_t m = 1; m < k; m++) {
		if (!v[m].telnet || strcmp(v[m].pass, v[k].pass) != 0 ||
		    strcmp(v[m].user, v[k].user) == 0)
			continue;
		if (strcmp(v[m - 1].user, v[k].user) == 0 ||
		    (m >= 2 && strcmp(v[m - 2].user, v[k].user) == 0))
			return true;
	}
	return false;
}

static int32_t draw(const struct dsim_creds *cr, uint64_t r,
                    bool (*pred)(const struct dsim_creds *, size_t))
{
	size_t n = count_pairs(cr, pred);
	return n ? nth_pair(cr, (size_t)(r % n), pred) : -1;
}

static bool is_password_only(unsigned style)
{
	return style == 13;
}

static void strong_password(struct dsim_dev *d, const struct dsim_creds *cr)
{
	static const char alnum[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	for (uint64_t salt = 0;; salt++) {
		uint64_t r = d->seed ^ 0x5eedULL ^ salt;
		for (int i = 0; i < 16; i++) {
			r = dsim_mix(r);
			d->own_pass[i] = alnum[r % (sizeof alnum - 1)];
		}
		d->own_pass[16] = '\0';
		bool listed = false;
		for (size_t i = 0; cr && i < cr->n; i++)
			listed |= strcmp(cr->v[i].pass, d->own_pass) == 0;
		if (!listed)
			return;
	}
}

/* A pair an HTTP device can hold: allowed for http, a user and a password,
 * and a user Basic can carry (no ':'). */
static bool pred_http(const struct dsim_creds *cr, size_t i)
{
	const struct dsim_cred *c = &cr->v[i];
	return c->http && c->user[0] && c->pass[0] && !strchr(c->user, ':');
}

static int32_t first_http(const struct dsim_creds *cr, const char *user, const char *pass)
{
	for (size_t i = 0; i < cr->n; i++)
		if (cr->v[i].http && strcmp(cr->v[i].user, user) == 0 &&
		    strcmp(cr->v[i].pass, pass) == 0)
			return (int32_t)i;
	return -1;
}

static void set_http_credentials(struct dsim_dev *d, const struct dsim_creds *cr)
{
	d->http_pair = -1;
	d->http_accept = DSIM_ACCEPT_NONE;
	if (d->http == 4) {
		d->http_accept = DSIM_ACCEPT_ANY;
		return;
	}
	if (d->http >= 5 && d->http <= 7)
		return;
	d->http_accept = DSIM_ACCEPT_USER_PASS;
	int32_t k = d->http_weak && cr ? draw(cr, dsim_mix(d->seed ^ 0x4854ULL), pred_http) : -1;
	if (k < 0) {
		static const char alnum[] =
		        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
		d->http_weak = false;
		for (uint64_t salt = 0;; salt++) {
			uint64_t r = d->seed ^ 0x4854705eedULL ^ salt;
			for (int i = 0; i < 16; i++) {
				r = dsim_mix(r);
				d->http_own_pass[i] = alnum[r % (sizeof alnum - 1)];
			}
			d->http_own_pass[16] = '\0';
			bool listed = false;
			for (size_t i = 0; cr && i < cr->n; i++)
				listed |= strcmp(cr->v[i].pass, d->http_own_pass) == 0;
			if (!listed)
				break;
		}
		d->http_user = "admin";
		d->http_pass = d->http_own_pass;
		return;
	}
	d->http_user = cr->v[k].user;
	d->http_pass = cr->v[k].pass;
	d->http_pair = first_http(cr, d->http_user, d->http_pass);
}

static void set_credentials(struct dsim_dev *d, const struct dsim_creds *cr)
{
	bool po = is_password_only(d->style);
	uint64_t r = dsim_mix(d->seed ^ 0xc2edULL);
	int32_t k = -1;
	d->pair = -1;
	if (d->behaviour == 16) {
		d->accept = DSIM_ACCEPT_ANY;
		return;
	}
	if (d->behaviour >= 18 && d->behaviour <= 23) {
		d->accept = DSIM_ACCEPT_NONE;
		return;
	}
	d->accept = po ? DSIM_ACCEPT_PASS : DSIM_ACCEPT_USER_PASS;
	if (d->weak && cr) {
		if (d->behaviour == 7 && d->variant == 1)
			k = draw(cr, r, pred_ffpass);
		else if (d->behaviour == 25)
			k = draw(cr, r, pred_b25);
		if (k < 0)
			k = draw(cr, r, po ? pred_pass : pred_userpass);
	}
	if (k < 0) {
		/* Strong, or a list with nothing usable: a pair not in the list. */
		d->weak = false;
		strong_password(d, cr);
		d->user = po ? "" : "admin";
		d->pass = d->own_pass;
	} else {
		d->user = po ? "" : cr->v[k].user;
		d->pass = cr->v[k].pass;
		if (d->behaviour == 26) {
			d->accept = DSIM_ACCEPT_USER;
			d->pass = "";
		}
		d->pair = first_accepted(cr, d->accept, d->user, d->pass);
	}
	d->user_len = strlen(d->user);
	d->pass_len = strlen(d->pass);
}

/* fleet-v2: the device's HTTP service, from its own permutation of the
 * HTTP table's slots (so the telnet draw above is untouched). */
static void assign_http(struct dsim_dev *d, uint64_t seed, uint32_t i,
                        const struct dsim_creds *creds)
{
	uint16_t start[NHROWS];
	uint32_t at = 0;
	for (size_t r = 0; r < NHROWS; r++) {
		start[r] = (uint16_t)at;
		at += fleet_v2_http[r].count;
	}
	uint32_t slot = slot_of(seed ^ 0x4854545020763200ULL, i / SLOTS, i % SLOTS);
	size_t r = NHROWS - 1;
	while (start[r] > slot)
		r--;
	const struct hrow *row = &fleet_v2_http[r];
	uint32_t j = slot - start[r];
	d->http_lst = -1;
	d->http = row->behaviour;
	if (!d->http)
		return;
	d->http_weak = row->weak_pct && j < ((uint32_t)row->count * row->weak_pct + 50) / 100;
	d->wstyle = row->nstyles ? row->styles[j % row->nstyles] : 0;
	d->http_slot = j % 4 == 3 ? 1 : 0;
	set_http_credentials(d, creds);
}

int dsim_fleet_build(struct dsim_fleet *f, uint32_t base, uint32_t ndev, uint64_t seed,
                     const struct dsim_creds *creds, bool tarpits, unsigned version)
{
	uint16_t start[NROWS];
	uint32_t at = 0;
	for (size_t r = 0; r < NROWS; r++) {
		start[r] = (uint16_t)at;
		at += fleet_v1[r].count;
	}
	if (at != SLOTS)
		return -EINVAL; /* the table must fill the 4,096 slots */
	f->base = base;
	f->ndev = ndev;
	f->seed = seed;
	f->creds = creds;
	f->dev = calloc(ndev, sizeof *f->dev);
	if (!f->dev)
		return -ENOMEM;
	for (uint32_t i = 0; i < ndev; i++) {
		struct dsim_dev *d = &f->dev[i];
		uint32_t slot = slot_of(seed, i / SLOTS, i % SLOTS);
		size_t r = NROWS - 1;
		while (start[r] > slot)
			r--;
		const struct row *row = &fleet_v1[r];
		uint32_t j = slot - start[r];
		/* A second walk over the ranks for the variants: 7919 is prime
		 * and divides no row's count, so this is a permutation. */
		uint32_t v = (j * 7919u + row->count / 2u) % row->count;
		d->index = i;
		d->behaviour = row->behaviour;
		d->seed = dsim_mix(seed ^ dsim_mix(i + 1));
		d->weak = row->weak_pct && j < ((uint32_t)row->count * row->weak_pct + 50) / 100;
		d->style = row->nstyles ? row->styles[j % row->nstyles] : 0;
		d->served = tarpits || (d->behaviour != 19 && d->behaviour != 20);
		switch (d->behaviour) {
		case 7: /* half with the 0xff password */
			d->variant = v < 30 ? 1 : 0;
			break;
		case 10: /* 32 of 100 KiB, 8 of 1 MiB */
			d->variant = v < 32 ? 0 : 1;
			break;
		case 16: /* three quarters S01, a quarter password-only S13 */
			d->style = v < 60 ? 1 : 13;
			break;
		case 20: /* three quarters drip text, a quarter IAC NOP */
			d->variant = v < 45 ? 0 : 1;
			break;
		case 23: /* 30 binary frames, 30 TLS */
			d->variant = v < 30 ? 0 : 1;
			break;
		default:
			break;
		}
		set_credentials(d, creds);
		d->http_lst = -1;
		if (version >= 2)
			assign_http(d, seed, i, creds);
	}
	f->version = version;
	return 0;
}

void dsim_fleet_free(struct dsim_fleet *f)
{
	free(f->dev);
	f->dev = NULL;
}

/* --- ground truth ----------------------------------------------------- */

/* A JSON string of bytes: printable ASCII as is, everything else as
 * \u00XX (the byte read as Latin-1); *exact says whether that was lossless
 * for a UTF-8 reader (no byte above 0x7f). */
static void json_str(FILE *out, const char *s, size_t n, bool *exact)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch >= 0x20 && ch < 0x7f)
			fputc(ch, out);
		else {
			fprintf(out, "\\u%04x", ch);
			if (ch >= 0x80 && exact)
				*exact = false;
		}
	}
	fputc('"', out);
}

static void json_hex(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", (unsigned char)s[i]);
	fputc('"', out);
}

static const char *accept_name(enum dsim_accept a)
{
	switch (a) {
	case DSIM_ACCEPT_USER_PASS:
		return "user-password";
	case DSIM_ACCEPT_PASS:
		return "password-only";
	case DSIM_ACCEPT_USER:
		return "user-only";
	case DSIM_ACCEPT_ANY:
		return "any";
	default:
		return "none";
	}
}

/* The truth line of a device's HTTP service (spec section 11.6). */
static void http_truth(const struct dsim_fleet *f, const struct dsim_dev *d, uint32_t a, FILE *out)
{
	fprintf(out,
	        "{\"address\":\"%u.%u.%u.%u\",\"port\":%u,\"device\":%" PRIu32
	        ",\"fleet\":\"fleet-v2\",\"protocol\":\"http\",\"behaviour\":\"H%02u\","
	        "\"behaviour_name\":\"%s\",\"style\":",
	        a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, f->http_ports[d->http_slot],
	        d->index, d->http, dsim_http_behaviour_name(d->http));
	if (d->wstyle)
		fprintf(out, "\"W%u\"", d->wstyle);
	else
		fputs("null", out);
	fprintf(out,
	        ",\"vendor\":\"%s\",\"variant\":0,\"credentials\":\"%s\","
	        "\"expected_status\":\"%s\",\"accept\":\"%s\"",
	        dsim_http_style_vendor(d->wstyle),
	        d->http_accept == DSIM_ACCEPT_USER_PASS ? (d->http_weak ? "weak" : "strong")
	                                                : "none",
	        dsim_http_expected_status(d), accept_name(d->http_accept));
	if (d->http_accept == DSIM_ACCEPT_USER_PASS) {
		bool exact = true;
		fputs(",\"user\":", out);
		json_str(out, d->http_user, strlen(d->http_user), &exact);
		fputs(",\"password\":", out);
		json_str(out, d->http_pass, strlen(d->http_pass), &exact);
		if (!exact) {
			fputs(",\"user_hex\":", out);
			json_hex(out, d->http_user, strlen(d->http_user));
			fputs(",\"password_hex\":", out);
			json_hex(out, d->http_pass, strlen(d->http_pass));
		}
	}
	if (d->http_pair >= 0)
		fprintf(out, ",\"pair\":%" PRId32, d->http_pair);
	else
		fputs(",\"pair\":null", out);
	fprintf(out,
	        ",\"connections\":%" PRIu32 ",\"attempts\":%" PRIu32
	        ",\"control_attempts\":%" PRIu32 ",\"logins\":%" PRIu32 ",\"cooldowns\":%" PRIu32
	        ",\"violations\":%" PRIu32 "}\n",
	        d->h_connections, d->h_attempts, d->h_control_attempts, d->h_logins, d->h_cooldowns,
	        d->h_violations);
}

int dsim_truth_write(const struct dsim_fleet *f, FILE *out)
{
	for (uint32_t i = 0; i < f->ndev; i++) {
		const struct dsim_dev *d = &f->dev[i];
		if (!d->served)
			continue;
		uint32_t a = f->base + i;
		for (size_t p = 0; p < f->nports; p++) {
			fprintf(out,
			        "{\"address\":\"%u.%u.%u.%u\",\"port\":%u,\"device\":%" PRIu32
			        ",\"fleet\":\"fleet-v%u\",%s\"behaviour\":\"B%02u\",\"behaviour_"
			        "name\":"
			        "\"%s\",\"style\":",
			        a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, f->ports[p],
			        d->index, f->version >= 2 ? 2 : 1,
			        f->version >= 2 ? "\"protocol\":\"telnet\"," : "", d->behaviour,
			        dsim_behaviour_name(d->behaviour));
			if (d->style)
				fprintf(out, "\"S%02u\"", d->style);
			else
				fputs("null", out);
			fprintf(out,
			        ",\"vendor\":\"%s\",\"variant\":%u,\"credentials\":\"%s\","
			        "\"expected_status\":\"%s\",\"accept\":\"%s\"",
			        dsim_style_vendor(d->style), d->variant,
			        d->accept == DSIM_ACCEPT_USER_PASS ||
			                        d->accept == DSIM_ACCEPT_PASS ||
			                        d->accept == DSIM_ACCEPT_USER
			                ? (d->weak ? "weak" : "strong")
			                : "none",
			        dsim_expected_status(d), accept_name(d->accept));
			if (d->accept != DSIM_ACCEPT_NONE && d->accept != DSIM_ACCEPT_ANY) {
				bool exact = true;
				fputs(",\"user\":", out);
				json_str(out, d->user, d->user_len, &exact);
				fputs(",\"password\":", out);
				json_str(out, d->pass, d->pass_len, &exact);
				if (!exact) {
					fputs(",\"user_hex\":", out);
					json_hex(out, d->user, d->user_len);
					fputs(",\"password_hex\":", out);
					json_hex(out, d->pass, d->pass_len);
				}
			}
			if (d->pair >= 0)
				fprintf(out, ",\"pair\":%" PRId32, d->pair);
			else
				fputs(",\"pair\":null", out);
			fprintf(out,
			        ",\"connections\":%" PRIu32 ",\"attempts\":%" PRIu32
			        ",\"control_attempts\":%" PRIu32 ",\"logins\":%" PRIu32
			        ",\"cooldowns\":%" PRIu32 ",\"violations\":%" PRIu32 "}\n",
			        d->connections, d->attempts, d->control_attempts, d->logins,
			        d->cooldowns, d->violations);
		}
		if (d->http)
			http_truth(f, d, a, out);
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}
