/*
 * Credential lists: parsing the file format of CONTRACT.md, merging repeats,
 * and ordering pairs per service (creds.h has the format and the rules).
 *
 * Storage: one struct kz_login_cred array in file order (what the login
 * machines borrow), a parallel array of per-pair facts (index, line,
 * protocols), the distinct vendor regexes compiled once, and a list of
 * (pair, regex) references sorted by pair. Ordering a service evaluates
 * each distinct regex once against the banner and walks the pairs twice
 * (matching, then the rest), with no allocation: it runs for every service
 * the survey reaches.
 *
 * Why merge repeats instead of rejecting them: vendor lists repeat common
 * pairs (admin/admin is Mirai's and half the industry's default). A repeat
 * with a vendor regex should move the pair forward on that vendor's
 * devices, not make the device try the pair twice.
 */
#include "creds.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Distinct vendor regexes in one list: ordering keeps one match flag per
 * regex on the stack. */
#define MAX_REGEXES 1024
/* Fields on a line: user, password, protocols, vendor-regex. */
#define MAX_FIELDS 4

struct pair_meta {
	unsigned index;     /* 1-based among pair lines */
	unsigned long line; /* file line */
	uint8_t protos;     /* KZ_CREDS_PROTO bits */
};

struct vref {
	uint32_t pair, re;
};

struct kz_creds {
	struct kz_login_cred *pairs; /* user and pass strings owned */
	struct pair_meta *meta;
	size_t n, cap;
	regex_t *re;
	char **re_text;
	size_t nre;
	struct vref *refs; /* sorted by pair once loaded */
	size_t nrefs, refs_cap;
	uint32_t *base[3];
	size_t nbase[3];
	/* Load-time only: open-addressing table of pair indices + 1 by
	 * (user, password), to find repeats. */
	uint32_t *dup;
	size_t dup_cap;
};

/* ---- errors -------------------------------------------------------------- */

/* Errors of one file: the first KZ_CREDS_MAX_REPORTS are logged in full,
 * the rest counted, so a file of garbage gives a screenful, not a flood. */
struct reporter {
	const char *path;
	unsigned long count;
};

static void report(struct reporter *r, unsigned long line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void report(struct reporter *r, unsigned long line, const char *fmt, ...)
{
	if (++r->count > KZ_CREDS_MAX_REPORTS)
		return;
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	kz_err("%s:%lu: %s", r->path, line, why);
}

/* ---- small helpers ------------------------------------------------------- */

/* Frees a user or password after wiping it: freed memory is reused by
 * other allocations and may end up in a core dump. */
static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* FNV-1a over user, a separator that cannot be in a string, and password. */
static uint64_t pair_hash(const char *user, const char *pass)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (const unsigned char *p = (const unsigned char *)user; *p; p++)
		h = (h ^ *p) * 0x100000001b3u;
	h = (h ^ 0x100u) * 0x100000001b3u;
	for (const unsigned char *p = (const unsigned char *)pass; *p; p++)
		h = (h ^ *p) * 0x100000001b3u;
	return h;
}

/* The slot of (user, pass) in the repeat table: holding its index + 1, or
 * the empty slot where it would go. The table is at most half full. */
static size_t dup_slot(const struct kz_creds *c, const char *user, const char *pass)
{
	size_t mask = c->dup_cap - 1;
	size_t i = (size_t)pair_hash(user, pass) & mask;
	while (c->dup[i]) {
		const struct kz_login_cred *p = &c->pairs[c->dup[i] - 1];
		if (strcmp(p->user, user) == 0 && strcmp(p->pass, pass) == 0)
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

/* Doubles the repeat table and re-inserts every pair (load time only). */
static int dup_grow(struct kz_creds *c)
{
	size_t ncap = c->dup_cap ? c->dup_cap * 2 : 256;
	uint32_t *old = c->dup;
	size_t old_cap = c->dup_cap;
	c->dup = calloc(ncap, sizeof *c->dup);
	if (!c->dup) {
		c->dup = old;
		return -ENOMEM;
	}
	c->dup_cap = ncap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i]) {
			const struct kz_login_cred *p = &c->pairs[old[i] - 1];
			c->dup[dup_slot(c, p->user, p->pass)] = old[i];
		}
	}
	free(old);
	return 0;
}

/* ---- one line ------------------------------------------------------------ */

/* Splits line into at most MAX_FIELDS unescaped fields, in place (an
 * unescaped field is never longer than its escaped form). Returns the
 * number of fields, or -1 when there are more than MAX_FIELDS. */
static int split_fields(char *line, char *fields[MAX_FIELDS], size_t lens[MAX_FIELDS])
{
	int nf = 0;
	char *w = line;
	fields[0] = line;
	for (char *r = line; *r; r++) {
		if (*r == '\\' && (r[1] == ':' || r[1] == '\\')) {
			*w++ = *++r;
		} else if (*r == ':') {
			lens[nf] = (size_t)(w - fields[nf]);
			*w++ = '\0';
			if (++nf == MAX_FIELDS)
				return -1;
			fields[nf] = w;
		} else {
			*w++ = *r;
		}
	}
	lens[nf] = (size_t)(w - fields[nf]);
	*w = '\0';
	return nf + 1;
}

/* Parses a protocols field into bits; 0 with *bad set to the offending name
 * (borrowed from field, NUL-terminated in place) on an error. */
static uint8_t parse_protocols(char *field, const char **bad)
{
	static const char *const names[] = {
		[KZ_LOGIN_APP_TELNET] = "telnet",
		[KZ_LOGIN_APP_SSH] = "ssh",
		[KZ_LOGIN_APP_HTTP] = "http",
	};
	if (*field == '\0')
		return KZ_CREDS_ALL_PROTOS;
	uint8_t bits = 0;
	char *p = field;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		size_t k = 0;
		while (k < sizeof names / sizeof names[0] && strcmp(p, names[k]) != 0)
			k++;
		if (k == sizeof names / sizeof names[0]) {
			*bad = p;
			return 0;
		}
		bits = (uint8_t)(bits | KZ_CREDS_PROTO(k));
		if (!comma)
			break;
		p = comma + 1;
	}
	return bits;
}

/* Compiled size past which a vendor regex is refused. glibc's regcomp
 * copies a repeated subexpression once per repetition ("x+" is "xx*",
 * "x{3}" is "xxx") and nested repetitions multiply, so a short pattern such
 * as "a++++++++++++++++" asks for gigabytes; and its time grows faster than
 * the node count ("3*+++++++++", 512 nodes, takes 0.1 s to compile; 2,048
 * nodes, minutes). At 256 the worst shapes we found compile in 0.06 s, and
 * a vendor hint ("hikvision|dahua", "[a-z]{1,20}cam") needs a few dozen. */
#define REGEX_NODES_MAX 256
/* Group nesting the estimate follows; deeper patterns are refused. */
#define REGEX_DEPTH_MAX 32

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* The end of a bracket expression starting at s[0] == '[', or NULL. */
static const char *bracket_end(const char *s)
{
	const char *p = s + 1;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p; p++) {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char kind = p[1];
			const char *q = p + 2;
			while (*q && !(q[0] == kind && q[1] == ']'))
				q++;
			if (!*q)
				return NULL;
			p = q + 1;
		} else if (*p == ']') {
			return p;
		}
	}
	return NULL;
}

/* An upper estimate of the nodes regcomp builds for an ERE: each atom one,
 * a group the sum of its parts, a repetition multiplies its atom by the
 * copies glibc makes. Syntax errors are left to regcomp (the estimate only
 * has to be high enough for what it accepts). *stacked is set when two
 * repetition operators are adjacent ("x?+", "x**", "x{2}{3}"): POSIX leaves
 * that undefined, and glibc's compile time explodes on it ("h" and 65 '?'
 * then "+++" did not finish in minutes). */
static uint64_t regex_nodes(const char *re, bool *stacked)
{
	bool after_repetition = false;
	*stacked = false;
	uint64_t sum[REGEX_DEPTH_MAX + 1] = { 0 };
	uint64_t last[REGEX_DEPTH_MAX + 1] = { 0 }; /* the atom a repetition applies to */
	int depth = 0;
	for (const char *p = re; *p; p++) {
		uint64_t copies = 0;
		if (*p == '(' || *p == ')' || *p == '|')
			after_repetition = false;
		switch (*p) {
		case '(':
			if (depth == REGEX_DEPTH_MAX)
				return UINT64_MAX;
			depth++;
			sum[depth] = last[depth] = 0;
			continue;
		case ')':
			if (depth == 0)
				break; /* a literal ')' in an ERE */
			depth--;
			last[depth] = sat_add(sum[depth + 1], 1);
			sum[depth] = sat_add(sum[depth], last[depth]);
			continue;
		case '|':
			last[depth] = 0;
			continue;
		case '*':
		case '?':
			copies = 1;
			break;
		case '+':
			copies = 2;
			break;
		case '{': {
			char *end;
			unsigned long m = strtoul(p + 1, &end, 10), n = m;
			if (*end == ',') {
				n = strtoul(end + 1, &end, 10);
				if (n < m)
					n = m;
			}
			if (*end != '}')
				break; /* regcomp reports it, or it is a literal */
			copies = sat_add(n, 1);
			p = end;
			break;
		}
		case '[': {
			const char *end = bracket_end(p);
			if (end)
				p = end;
			break;
		}
		case '\\':
			if (p[1])
				p++;
			break;
		default:
			break;
		}
		if (copies && after_repetition)
			*stacked = true;
		after_repetition = copies != 0;
		if (copies) {
			/* The repeated atom is replaced by its copies. */
			uint64_t grown = sat_mul(last[depth], copies);
			sum[depth] = sat_add(sum[depth] - last[depth], grown);
			last[depth] = grown;
		} else {
			last[depth] = 1;
			sum[depth] = sat_add(sum[depth], 1);
		}
	}
	/* regcomp builds an unclosed group's tree before it reports the '('. */
	for (; depth > 0; depth--)
		sum[depth - 1] = sat_add(sum[depth - 1], sum[depth]);
	return sum[0];
}

/* The index of regex text in the list, compiling it the first time.
 * Returns 0 with *re set, -EINVAL (reported) or -ENOMEM. */
static int intern_regex(struct kz_creds *c, const char *text, struct reporter *rep,
                        unsigned long line, uint32_t *re)
{
	for (size_t i = 0; i < c->nre; i++) {
		if (strcmp(c->re_text[i], text) == 0) {
			*re = (uint32_t)i;
			return 0;
		}
	}
	if (c->nre == MAX_REGEXES) {
		report(rep, line, "more than %d distinct vendor regexes", MAX_REGEXES);
		return -EINVAL;
	}
	if (c->nre % 16 == 0) {
		regex_t *nr = reallocarray(c->re, c->nre + 16, sizeof *nr);
		if (!nr)
			return -ENOMEM;
		c->re = nr;
		char **nt = reallocarray(c->re_text, c->nre + 16, sizeof *nt);
		if (!nt)
			return -ENOMEM;
		c->re_text = nt;
	}
	bool stacked;
	uint64_t nodes = regex_nodes(text, &stacked);
	if (stacked) {
		report(rep, line,
		       "vendor regex '%s': two repetition operators in a row ('*', '+', '?', "
		       "'{m,n}'), which POSIX leaves undefined; use one or a group",
		       text);
		return -EINVAL;
	}
	if (nodes > REGEX_NODES_MAX) {
		report(rep, line,
		       "vendor regex '%s': its repetitions expand past %d nodes (nest fewer '+' "
		       "and '{m,n}')",
		       text, REGEX_NODES_MAX);
		return -EINVAL;
	}
	int rc = regcomp(&c->re[c->nre], text, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		char msg[200];
		regerror(rc, &c->re[c->nre], msg, sizeof msg);
		report(rep, line, "vendor regex '%s': %s", text, msg);
		return -EINVAL;
	}
	c->re_text[c->nre] = strdup(text);
	if (!c->re_text[c->nre]) {
		regfree(&c->re[c->nre]);
		return -ENOMEM;
	}
	*re = (uint32_t)c->nre++;
	return 0;
}

/* Records that regex re names pair; a repeat of the same reference is
 * kept once. */
static int add_ref(struct kz_creds *c, uint32_t pair, uint32_t re)
{
	for (size_t i = 0; i < c->nrefs; i++)
		if (c->refs[i].pair == pair && c->refs[i].re == re)
			return 0;
	if (c->nrefs == c->refs_cap) {
		size_t ncap = c->refs_cap ? c->refs_cap * 2 : 64;
		struct vref *nr = reallocarray(c->refs, ncap, sizeof *nr);
		if (!nr)
			return -ENOMEM;
		c->refs = nr;
		c->refs_cap = ncap;
	}
	c->refs[c->nrefs++] = (struct vref){ .pair = pair, .re = re };
	return 0;
}

/* Adds one pair line. Returns 0, -EINVAL (reported: the line is wrong, the
 * load goes on to report the rest), -E2BIG or -ENOMEM (fatal). */
static int add_line(struct kz_creds *c, char *line, unsigned index, unsigned long lineno,
                    struct reporter *rep)
{
	char *f[MAX_FIELDS] = { NULL };
	size_t len[MAX_FIELDS] = { 0 };
	int nf = split_fields(line, f, len);
	if (nf < 0) {
		report(rep, lineno,
		       "more than %d fields: the format is "
		       "user:password[:protocols[:vendor-regex]] "
		       "(write a ':' inside a field as '\\:')",
		       MAX_FIELDS);
		return -EINVAL;
	}
	if (nf == 1) {
		report(rep, lineno, "no ':' between user and password");
		return -EINVAL;
	}
	if (len[0] > KZ_CREDS_FIELD_MAX || len[1] > KZ_CREDS_FIELD_MAX) {
		report(rep, lineno, "%s longer than %d bytes",
		       len[0] > KZ_CREDS_FIELD_MAX ? "user" : "password", KZ_CREDS_FIELD_MAX);
		return -EINVAL;
	}
	if (strlen(f[0]) != len[0] || strlen(f[1]) != len[1]) {
		report(rep, lineno, "NUL byte in the user or password");
		return -EINVAL;
	}
	uint8_t protos = KZ_CREDS_ALL_PROTOS;
	if (nf >= 3) {
		const char *bad = NULL;
		protos = parse_protocols(f[2], &bad);
		if (!protos) {
			if (*bad)
				report(rep, lineno, "unknown protocol '%s' (telnet, ssh, http)",
				       bad);
			else
				report(rep, lineno, "empty protocol name in the protocol list");
			return -EINVAL;
		}
	}
	bool has_re = nf == 4 && len[3] > 0;
	if (has_re && len[3] > KZ_CREDS_REGEX_MAX) {
		report(rep, lineno, "vendor regex longer than %d bytes", KZ_CREDS_REGEX_MAX);
		return -EINVAL;
	}
	uint32_t re = 0;
	if (has_re) {
		int rc = intern_regex(c, f[3], rep, lineno, &re);
		if (rc)
			return rc;
	}

	if (c->dup_cap == 0 || 2 * (c->n + 1) > c->dup_cap) {
		int rc = dup_grow(c);
		if (rc)
			return rc;
	}
	size_t slot = dup_slot(c, f[0], f[1]);
	if (c->dup[slot]) {
		uint32_t k = c->dup[slot] - 1;
		kz_warn("%s:%lu: same user and password as line %lu: merged into it", rep->path,
		        lineno, c->meta[k].line);
		c->meta[k].protos |= protos;
		return has_re ? add_ref(c, k, re) : 0;
	}
	if (c->n == KZ_CREDS_MAX_PAIRS) {
		report(rep, lineno, "more than %d pairs", KZ_CREDS_MAX_PAIRS);
		return -E2BIG;
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct kz_login_cred *np = reallocarray(c->pairs, ncap, sizeof *np);
		if (!np)
			return -ENOMEM;
		c->pairs = np;
		struct pair_meta *nm = reallocarray(c->meta, ncap, sizeof *nm);
		if (!nm)
			return -ENOMEM;
		c->meta = nm;
		c->cap = ncap;
	}
	char *user = strdup(f[0]);
	char *pass = strdup(f[1]);
	if (!user || !pass) {
		wipe_free(user);
		wipe_free(pass);
		return -ENOMEM;
	}
	c->pairs[c->n] = (struct kz_login_cred){ .user = user, .pass = pass };
	c->meta[c->n] = (struct pair_meta){ .index = index, .line = lineno, .protos = protos };
	c->dup[slot] = (uint32_t)(c->n + 1);
	c->n++;
	return has_re ? add_ref(c, (uint32_t)(c->n - 1), re) : 0;
}

/* Orders references by pair, so that ordering walks them beside the
 * pairs in one pass. */
static int cmp_ref(const void *a, const void *b)
{
	const struct vref *x = a, *y = b;
	if (x->pair != y->pair)
		return x->pair < y->pair ? -1 : 1;
	return x->re < y->re ? -1 : x->re > y->re;
}

/* After the last line: refs sorted by pair, base orders per protocol. */
/* The base orders are computed once here: most devices match no regex and
 * use them as they are, with no per-device work. */
static int finish(struct kz_creds *c)
{
	free(c->dup);
	c->dup = NULL;
	c->dup_cap = 0;
	if (c->nrefs)
		qsort(c->refs, c->nrefs, sizeof *c->refs, cmp_ref);
	for (unsigned app = 0; app < 3; app++) {
		c->base[app] = calloc(c->n ? c->n : 1, sizeof *c->base[app]);
		if (!c->base[app])
			return -ENOMEM;
		size_t k = 0;
		for (size_t i = 0; i < c->n; i++)
			if (c->meta[i].protos & KZ_CREDS_PROTO(app))
				c->base[app][k++] = (uint32_t)i;
		c->nbase[app] = k;
	}
	return 0;
}

/* ---- loading ------------------------------------------------------------- */

/* Adds one line of a list; comments and blank lines are skipped. Returns 0
 * or a fatal error (-ENOMEM, -E2BIG); faults of the line are reported. */
static int take_line(struct kz_creds *c, char *line, size_t len, unsigned long lineno,
                     unsigned *index, struct reporter *rep)
{
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	++*index;
	int rc = add_line(c, line, *index, lineno, rep);
	/* The buffer held the password: wipe it. */
	explicit_bzero(line, len);
	return rc == -ENOMEM || rc == -E2BIG ? rc : 0;
}

/* Checks and completes a list after its last line; frees it on failure. */
static int conclude(struct kz_creds *c, int fatal, struct reporter *rep, struct kz_creds **out)
{
	if (rep->count > KZ_CREDS_MAX_REPORTS)
		kz_err("%s: %lu more errors not shown", rep->path,
		       rep->count - KZ_CREDS_MAX_REPORTS);
	if (!fatal && rep->count)
		fatal = -EINVAL;
	if (!fatal && c->n == 0) {
		kz_err("%s: no credential pair in the file", rep->path);
		fatal = -EINVAL;
	}
	if (!fatal)
		fatal = finish(c);
	if (fatal) {
		if (fatal == -ENOMEM)
			kz_err("%s: out of memory", rep->path);
		kz_creds_free(c);
		return fatal;
	}
	*out = c;
	return 0;
}

int kz_creds_load_lines(struct kz_lines *lr, struct kz_creds **out)
{
	*out = NULL;
	struct kz_creds *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	struct reporter rep = { .path = kz_lines_path(lr) };
	unsigned index = 0;
	int fatal = 0;
	char *line;
	size_t len;
	int rc;
	while (!fatal && (rc = kz_lines_next(lr, &line, &len)) != 0) {
		unsigned long lineno = kz_lines_number(lr);
		if (rc == -EMSGSIZE) {
			/* Counted as a pair line: the indices of the lines after
			 * it must not shift when the user fixes it. */
			index++;
			report(&rep, lineno, "line longer than %d bytes", KZ_LINES_MAX);
		} else if (rc == -EINVAL) {
			index++;
			report(&rep, lineno, "NUL byte in the line");
		} else if (rc < 0) {
			kz_err("%s: %s", rep.path, strerror(-rc));
			fatal = rc;
		} else {
			fatal = take_line(c, line, len, lineno, &index, &rep);
		}
	}
	return conclude(c, fatal, &rep, out);
}

int kz_creds_load_strings(const char *name, const char *const *lines, size_t n,
                          struct kz_creds **out)
{
	*out = NULL;
	struct kz_creds *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	struct reporter rep = { .path = name };
	unsigned index = 0;
	int fatal = 0;
	char buf[KZ_LINES_MAX + 1];
	for (size_t i = 0; i < n && !fatal; i++) {
		size_t len = strlen(lines[i]);
		if (len > KZ_LINES_MAX || strchr(lines[i], '\n')) {
			index++;
			report(&rep, i + 1, "not one line of at most %d bytes", KZ_LINES_MAX);
			continue;
		}
		memcpy(buf, lines[i], len + 1);
		fatal = take_line(c, buf, len, i + 1, &index, &rep);
	}
	explicit_bzero(buf, sizeof buf);
	return conclude(c, fatal, &rep, out);
}

int kz_creds_load(const char *path, struct kz_creds **out)
{
	struct kz_lines *lr;
	*out = NULL;
	int rc = kz_lines_open(path, &lr);
	if (rc) {
		kz_err("%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = kz_creds_load_lines(lr, out);
	kz_lines_close(lr);
	return rc;
}

int kz_creds_load_default(struct kz_creds **out)
{
	size_t n;
	const char *const *lines = kz_creds_default_lines(&n);
	return kz_creds_load_strings("default credential list", lines, n, out);
}

/* ---- queries ------------------------------------------------------------- */

/* The accessors below read a list that never changes once loaded, so the
 * engine's connections share it without a lock. */
size_t kz_creds_count(const struct kz_creds *c)
{
	return c->n;
}

const struct kz_login_cred *kz_creds_pairs(const struct kz_creds *c)
{
	return c->pairs;
}

unsigned kz_creds_index(const struct kz_creds *c, size_t i)
{
	return i < c->n ? c->meta[i].index : 0;
}

unsigned long kz_creds_line(const struct kz_creds *c, size_t i)
{
	return i < c->n ? c->meta[i].line : 0;
}

bool kz_creds_allows(const struct kz_creds *c, size_t i, enum kz_login_app app)
{
	return i < c->n && (unsigned)app < 3 && (c->meta[i].protos & KZ_CREDS_PROTO(app));
}

size_t kz_creds_count_for(const struct kz_creds *c, enum kz_login_app app)
{
	return (unsigned)app < 3 ? c->nbase[app] : 0;
}

size_t kz_creds_base_order(const struct kz_creds *c, enum kz_login_app app, const uint32_t **order)
{
	if ((unsigned)app >= 3) {
		*order = NULL;
		return 0;
	}
	*order = c->base[app];
	return c->nbase[app];
}

/* Evaluates every regex once; matched[r] for regex r. Returns whether any
 * matched. */
static bool match_all(const struct kz_creds *c, const uint8_t *banner, size_t len,
                      uint8_t matched[MAX_REGEXES])
{
	if (c->nre == 0)
		return false;
	/* regexec wants a C string: NUL bytes from the network become blanks
	 * so that text after them still counts. */
	char text[KZ_CREDS_BANNER_MAX + 1];
	size_t n = len < KZ_CREDS_BANNER_MAX ? len : KZ_CREDS_BANNER_MAX;
	for (size_t i = 0; i < n; i++)
		text[i] = banner[i] ? (char)banner[i] : ' ';
	text[n] = '\0';
	bool any = false;
	for (size_t r = 0; r < c->nre; r++) {
		matched[r] = regexec(&c->re[r], text, 0, NULL, 0) == 0;
		any = any || matched[r];
	}
	return any;
}

/* Calls back for each pair allowed on app, in file order, telling whether
 * one of its regexes matched: the walk shared by order and vendor_match. */
static size_t walk(const struct kz_creds *c, enum kz_login_app app, const uint8_t *matched,
                   bool want_matched, uint32_t *out)
{
	size_t k = 0, r = 0;
	const uint32_t *base = c->base[app];
	for (size_t j = 0; j < c->nbase[app]; j++) {
		uint32_t i = base[j];
		while (r < c->nrefs && c->refs[r].pair < i)
			r++;
		bool m = false;
		for (size_t q = r; q < c->nrefs && c->refs[q].pair == i; q++)
			m = m || matched[c->refs[q].re];
		if (m == want_matched) {
			if (out)
				out[k] = i;
			k++;
		}
	}
	return k;
}

size_t kz_creds_order(const struct kz_creds *c, enum kz_login_app app, const uint8_t *banner,
                      size_t len, uint32_t *out)
{
	if ((unsigned)app >= 3)
		return 0;
	uint8_t matched[MAX_REGEXES];
	if (!match_all(c, banner, len, matched)) {
		memcpy(out, c->base[app], c->nbase[app] * sizeof *out);
		return c->nbase[app];
	}
	size_t k = walk(c, app, matched, true, out);
	return k + walk(c, app, matched, false, out + k);
}

bool kz_creds_vendor_match(const struct kz_creds *c, enum kz_login_app app, const uint8_t *banner,
                           size_t len)
{
	if ((unsigned)app >= 3)
		return false;
	uint8_t matched[MAX_REGEXES];
	if (!match_all(c, banner, len, matched))
		return false;
	return walk(c, app, matched, true, NULL) > 0;
}

void kz_creds_free(struct kz_creds *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		wipe_free((char *)c->pairs[i].user);
		wipe_free((char *)c->pairs[i].pass);
	}
	free(c->pairs);
	free(c->meta);
	for (size_t r = 0; r < c->nre; r++) {
		regfree(&c->re[r]);
		free(c->re_text[r]);
	}
	free(c->re);
	free(c->re_text);
	free(c->refs);
	for (unsigned app = 0; app < 3; app++)
		free(c->base[app]);
	free(c->dup);
	free(c);
}
