/*
 * Scope loading. Each file is read whole into a list of entries (prefix and
 * line number) before anything is decided, because the messages need both
 * ends of an overlap ("line 7 overlaps line 3") and the per-entry reserved
 * warnings need the deny set, which --allow-reserved adjusts from the entries
 * themselves. Sorting the entries by address makes overlap detection one
 * sweep and turns the set building into appends.
 *
 * The IPv6-only rule (scope.h): an IPv6 prefix short enough to cover the
 * IPv4-mapped block ::ffff:0:0/96 (length 80 or less) contributes the
 * addresses around that block and not the block itself. Prefixes nest or are
 * disjoint, so such a prefix is the only kind of IPv6 entry that meets IPv4
 * space; IPv4 entries and IPv6 entries therefore never overlap, and the sweep
 * keeps one "widest so far" per family.
 *
 * Errors do not stop the reading: every faulty line of every file is
 * reported (the first KZ_SCOPE_MAX_REPORTS in full, the rest counted), so a
 * user fixes a file in one pass.
 */
#include "scope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "log.h"
#include "reserved.h"

#define MAPPED_FIRST (KZ_V4_MAPPED_PREFIX)
#define MAPPED_LAST  (KZ_V4_MAPPED_PREFIX | 0xffffffffu)
#define SHOWN_CHARS  64 /* of a faulty line quoted in a message */

struct kz_scope {
	struct kz_ipset *targets;
	struct kz_scope_summary sum;
};

struct entry {
	struct kz_cidr c;
	unsigned long line;
};

struct list {
	struct entry *e;
	size_t n;
	size_t cap;
};

/* Counts messages of one kind for one file; past the limit they are only
 * counted, and report_rest says how many were held back. */
struct reporter {
	unsigned long count;
	const char *path;
	const char *what;
};

static bool report_one(struct reporter *r)
{
	return ++r->count <= KZ_SCOPE_MAX_REPORTS;
}

static void report_rest(const struct reporter *r, enum kz_log_level level)
{
	if (r->count > KZ_SCOPE_MAX_REPORTS)
		kz_log(level, "%s: %lu more %s not shown", r->path, r->count - KZ_SCOPE_MAX_REPORTS,
		       r->what);
}

static kz_u128 entry_first(const struct entry *e)
{
	return kz_cidr_first(&e->c).v;
}

static kz_u128 entry_last(const struct entry *e)
{
	return kz_cidr_last(&e->c).v;
}

/* True for an IPv6 entry that spans the IPv4-mapped block, which it leaves
 * out. */
static bool spans_mapped(const struct entry *e)
{
	return !kz_addr_is_v4(e->c.base) && entry_first(e) <= MAPPED_FIRST &&
	       entry_last(e) >= MAPPED_LAST;
}

/* How many addresses of the entry are in s (all of them when s is NULL),
 * saturating. */
static kz_u128 entry_count(const struct entry *e, const struct kz_ipset *s)
{
	struct kz_addr f = { entry_first(e) }, l = { entry_last(e) };
	if (!spans_mapped(e)) {
		if (s)
			return kz_ipset_count_in(s, f, l);
		return l.v - f.v == KZ_U128_MAX ? KZ_U128_MAX : l.v - f.v + 1;
	}
	struct kz_addr before = { MAPPED_FIRST - 1 }, after = { MAPPED_LAST + 1 };
	kz_u128 below = s ? kz_ipset_count_in(s, f, before) : before.v - f.v + 1;
	kz_u128 above = s ? kz_ipset_count_in(s, after, l) : l.v - after.v + 1;
	return below > KZ_U128_MAX - above ? KZ_U128_MAX : below + above;
}

/* The first address of the entry that is in s. */
static bool entry_first_in(const struct entry *e, const struct kz_ipset *s, struct kz_addr *out)
{
	struct kz_addr f = { entry_first(e) }, l = { entry_last(e) };
	if (!spans_mapped(e))
		return kz_ipset_first_in(s, f, l, out);
	struct kz_addr before = { MAPPED_FIRST - 1 }, after = { MAPPED_LAST + 1 };
	return kz_ipset_first_in(s, f, before, out) || kz_ipset_first_in(s, after, l, out);
}

static int entry_add(const struct entry *e, struct kz_ipset *s)
{
	struct kz_addr f = { entry_first(e) }, l = { entry_last(e) };
	if (!spans_mapped(e))
		return kz_ipset_add_range(s, f, l, NULL);
	struct kz_addr before = { MAPPED_FIRST - 1 }, after = { MAPPED_LAST + 1 };
	int rc = kz_ipset_add_range(s, f, before, NULL);
	return rc ? rc : kz_ipset_add_range(s, after, l, NULL);
}

/* The entry as the user would write it: a bare address for a host prefix. */
static char *entry_text(const struct entry *e, char buf[KZ_CIDR_STRLEN])
{
	unsigned max = kz_addr_is_v4(e->c.base) ? 32 : 128;
	if (e->c.len == max)
		return kz_addr_format(e->c.base, buf);
	return kz_cidr_format(&e->c, buf);
}

/* A faulty line for a message: at most SHOWN_CHARS bytes, anything that is
 * not printable ASCII shown as '?', so a binary file cannot spray control
 * sequences at the user's terminal. */
static char *shown(const char *text, char buf[SHOWN_CHARS + 4])
{
	size_t n = 0;
	for (; text[n] && n < SHOWN_CHARS; n++)
		buf[n] = text[n] >= 0x20 && text[n] < 0x7f ? text[n] : '?';
	if (text[n]) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static int list_push(struct list *l, const struct entry *e)
{
	if (l->n == l->cap) {
		if (l->cap == KZ_SCOPE_MAX_ENTRIES)
			return -E2BIG;
		size_t cap = l->cap ? l->cap * 2 : 64;
		if (cap > KZ_SCOPE_MAX_ENTRIES)
			cap = KZ_SCOPE_MAX_ENTRIES;
		struct entry *p = reallocarray(l->e, cap, sizeof *p);
		if (!p)
			return -ENOMEM;
		l->e = p;
		l->cap = cap;
	}
	l->e[l->n++] = *e;
	return 0;
}

/* Parses one line's entry; the line is already stripped and not empty. */
static int parse_entry(char *text, struct kz_cidr *c, const char **why)
{
	if (strpbrk(text, " \t")) {
		*why = "more than one field: one address or CIDR per line";
		return -EINVAL;
	}
	return kz_cidr_parse(text, c, why);
}

/* Reads every line of lr into l. Faulty lines are logged and counted in
 * *faults; the return is 0 or an error that stops the reading. */
static int read_entries(struct kz_lines *lr, struct list *l, unsigned long *faults)
{
	const char *path = kz_lines_path(lr);
	struct reporter rep = { 0, path, "faulty lines" };
	for (;;) {
		char *line;
		size_t len;
		int rc = kz_lines_next(lr, &line, &len);
		if (rc == 0)
			break;
		unsigned long no = kz_lines_number(lr);
		if (rc == -EMSGSIZE) {
			if (report_one(&rep))
				kz_err("%s:%lu: line longer than %d bytes", path, no, KZ_LINES_MAX);
			continue;
		}
		if (rc == -EINVAL) {
			if (report_one(&rep))
				kz_err("%s:%lu: NUL byte in the line", path, no);
			continue;
		}
		if (rc < 0) {
			kz_err("%s: read error: %s", path, strerror(-rc));
			return rc;
		}
		char *text = kz_line_strip(line);
		if (*text == '\0')
			continue;
		struct entry e = { .line = no };
		const char *why;
		if (parse_entry(text, &e.c, &why) != 0) {
			char buf[SHOWN_CHARS + 4];
			if (report_one(&rep))
				kz_err("%s:%lu: %s: %s", path, no, shown(text, buf), why);
			continue;
		}
		rc = list_push(l, &e);
		if (rc == -E2BIG)
			kz_err("%s:%lu: more than %u entries", path, no, KZ_SCOPE_MAX_ENTRIES);
		if (rc)
			return rc;
	}
	report_rest(&rep, KZ_LOG_ERROR);
	*faults += rep.count;
	return 0;
}

/* Ascending by first address; of two entries starting together the wider
 * comes first, so that the narrower one is the one reported; then by line. */
static int by_address(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	kz_u128 fa = entry_first(a), fb = entry_first(b);
	if (fa != fb)
		return fa < fb ? -1 : 1;
	kz_u128 la = entry_last(a), lb = entry_last(b);
	if (la != lb)
		return la > lb ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static int by_line(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Warns about every entry that overlaps an earlier (in address order) one;
 * l must be sorted by_address. */
static void warn_overlaps(const struct list *l, const char *path)
{
	struct reporter rep = { 0, path, "overlapping entries" };
	/* The widest-reaching entry so far, one per family. */
	const struct entry *reach[2] = { NULL, NULL };
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->e[i];
		const struct entry **r = &reach[kz_addr_is_v4(e->c.base)];
		if (*r && entry_first(e) <= entry_last(*r) && report_one(&rep)) {
			char a[KZ_CIDR_STRLEN], b[KZ_CIDR_STRLEN];
			if (entry_first(e) == entry_first(*r) && entry_last(e) == entry_last(*r))
				kz_warn("%s:%lu: %s repeats line %lu", path, e->line,
				        entry_text(e, a), (*r)->line);
			else
				kz_warn("%s:%lu: %s overlaps %s (line %lu); merged", path, e->line,
				        entry_text(e, a), entry_text(*r, b), (*r)->line);
		}
		if (!*r || entry_last(e) > entry_last(*r))
			*r = e;
	}
	report_rest(&rep, KZ_LOG_WARN);
}

/* Reads one file into a sorted entry list (the caller frees l->e) and its
 * set. Faulty lines add to *faults and leave *out NULL. */
static int read_file(struct kz_lines *lr, struct list *l, struct kz_ipset **out,
                     unsigned long *faults)
{
	unsigned long before = *faults;
	*out = NULL;
	int rc = read_entries(lr, l, faults);
	if (rc || *faults > before)
		return rc;
	if (l->n > 0)
		qsort(l->e, l->n, sizeof l->e[0], by_address);
	warn_overlaps(l, kz_lines_path(lr));
	struct kz_ipset *s;
	rc = kz_ipset_new(&s);
	if (rc)
		return rc;
	for (size_t i = 0; i < l->n; i++) {
		rc = entry_add(&l->e[i], s);
		if (rc) {
			kz_ipset_free(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

int kz_scope_read_list(struct kz_lines *lr, struct kz_ipset **out)
{
	struct list l = { 0 };
	unsigned long faults = 0;
	int rc = read_file(lr, &l, out, &faults);
	free(l.e);
	if (rc == 0 && faults > 0)
		rc = -EINVAL;
	return rc;
}

/* The scope entries that lie inside a test range: what allow_reserved may
 * take out of the deny set. */
static int named_test_ranges(const struct list *scope, const struct kz_ipset *test,
                             struct kz_ipset **out)
{
	struct kz_ipset *s;
	int rc = kz_ipset_new(&s);
	if (rc)
		return rc;
	for (size_t i = 0; i < scope->n; i++) {
		const struct entry *e = &scope->e[i];
		if (entry_count(e, test) == entry_count(e, NULL)) {
			rc = entry_add(e, s);
			if (rc) {
				kz_ipset_free(s);
				return rc;
			}
		}
	}
	*out = s;
	return 0;
}

/* Warns, in line order, about every scope entry that the deny set cuts. l is
 * re-sorted by line. */
static void warn_reserved(struct list *l, const char *path, const struct kz_ipset *deny,
                          const struct kz_ipset *test, bool allow_reserved)
{
	struct reporter rep = { 0, path, "entries with reserved addresses" };
	if (l->n > 0)
		qsort(l->e, l->n, sizeof l->e[0], by_line);
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->e[i];
		struct kz_addr first;
		if (!entry_first_in(e, deny, &first) || !report_one(&rep))
			continue;
		const struct kz_reserved *why = kz_reserved_lookup(first);
		char t[KZ_CIDR_STRLEN], a[KZ_ADDR_STRLEN], n[KZ_U128_STRLEN], m[KZ_U128_STRLEN];
		kz_u128 cut = entry_count(e, deny), all = entry_count(e, NULL);
		/* Only an entry inside a test range can be re-enabled; say so
		 * when that is what the user is missing. */
		const char *hint = !allow_reserved && entry_count(e, test) == all
		                           ? " (--allow-reserved re-enables it)"
		                           : "";
		if (cut == all)
			kz_warn("%s:%lu: %s is reserved: %s (%s); not scanned%s", path, e->line,
			        entry_text(e, t), why ? why->name : "?", why ? why->rfc : "?",
			        hint);
		else
			kz_warn("%s:%lu: %s: %s of its %s addresses are reserved and not scanned, "
			        "from %s: %s (%s)",
			        path, e->line, entry_text(e, t), kz_u128_format(cut, n),
			        kz_u128_format(all, m), kz_addr_format(first, a),
			        why ? why->name : "?", why ? why->rfc : "?");
	}
	report_rest(&rep, KZ_LOG_WARN);
}

/* out = a − b, and *removed = |a ∩ b|. */
static int subtract(const struct kz_ipset *a, const struct kz_ipset *b, struct kz_ipset **out,
                    kz_u128 *removed)
{
	struct kz_ipset *cut;
	int rc = kz_ipset_intersection(a, b, &cut);
	if (rc)
		return rc;
	*removed = kz_ipset_size(cut);
	kz_ipset_free(cut);
	return kz_ipset_difference(a, b, out);
}

int kz_scope_load_lines(struct kz_lines *scope, struct kz_lines *exclude, struct kz_lines *optout,
                        bool allow_reserved, struct kz_scope **out)
{
	struct list ls = { 0 }, lx = { 0 }, lo = { 0 };
	struct kz_ipset *s = NULL, *x = NULL, *o = NULL, *deny = NULL, *test = NULL;
	struct kz_ipset *named = NULL, *deny_eff = NULL, *s1 = NULL, *s2 = NULL, *t = NULL;
	struct kz_ipset *empty = NULL, *cut = NULL;
	struct kz_scope *sc = NULL;
	struct kz_scope_summary *sum;
	unsigned long faults = 0;
	bool reading = true; /* the readers log their own faults */
	const char *spath = kz_lines_path(scope);
	*out = NULL;
	int rc = read_file(scope, &ls, &s, &faults);
	if (rc == 0 && exclude)
		rc = read_file(exclude, &lx, &x, &faults);
	if (rc == 0 && optout)
		rc = read_file(optout, &lo, &o, &faults);
	if (rc)
		goto fail;
	if (faults) {
		rc = -EINVAL;
		goto fail;
	}
	reading = false;
	if (ls.n == 0) {
		kz_err("%s: no addresses: the scope file has no entries", spath);
		rc = -EINVAL;
		goto fail;
	}
	sc = calloc(1, sizeof *sc);
	if (!sc) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = kz_reserved_deny_set(&deny);
	if (rc)
		goto fail;
	rc = kz_reserved_test_set(&test);
	if (rc)
		goto fail;
	/* --allow-reserved takes out of the deny set only the test ranges the
	 * scope itself names; without it the deny set stays whole. */
	if (allow_reserved) {
		rc = named_test_ranges(&ls, test, &named);
		if (rc)
			goto fail;
		rc = kz_ipset_difference(deny, named, &deny_eff);
	} else {
		rc = kz_ipset_clone(deny, &deny_eff);
	}
	if (rc)
		goto fail;

	/* The removals in order, each counted on what the previous left. */
	sum = &sc->sum;
	sum->in_scope = kz_ipset_size(s);
	rc = kz_ipset_new(&empty);
	if (rc)
		goto fail;
	rc = subtract(s, x ? x : empty, &s1, &sum->excluded);
	if (rc)
		goto fail;
	rc = subtract(s1, o ? o : empty, &s2, &sum->opted_out);
	if (rc)
		goto fail;
	rc = subtract(s2, deny_eff, &t, &sum->reserved);
	if (rc)
		goto fail;
	rc = kz_ipset_intersection(s2, deny, &cut);
	if (rc)
		goto fail;
	sum->allowed_reserved = kz_ipset_size(cut) - sum->reserved;
	warn_reserved(&ls, spath, deny_eff, test, allow_reserved);

	sum->targets = kz_ipset_size(t);
	sum->ranges = kz_ipset_range_count(t);
	if (sum->targets == 0) {
		char a[KZ_U128_STRLEN], b[KZ_U128_STRLEN], c[KZ_U128_STRLEN], d[KZ_U128_STRLEN];
		kz_err("%s: nothing to scan: of %s addresses in scope, "
		       "%s are excluded, %s opted out and %s reserved",
		       spath, kz_u128_format(sum->in_scope, a), kz_u128_format(sum->excluded, b),
		       kz_u128_format(sum->opted_out, c), kz_u128_format(sum->reserved, d));
		rc = -EINVAL;
		goto fail;
	}
	rc = kz_ipset_digest(t, sum->digest);
	if (rc)
		goto fail;
	sc->targets = t;
	t = NULL;
	*out = sc;
	sc = NULL;
fail:
	if (rc == -ENOMEM)
		kz_err("%s: out of memory", spath);
	else if (rc == -E2BIG && !reading)
		kz_err("%s: the targets need more than %u ranges", spath, KZ_IPSET_MAX_RANGES);
	free(ls.e);
	free(lx.e);
	free(lo.e);
	kz_ipset_free(s);
	kz_ipset_free(x);
	kz_ipset_free(o);
	kz_ipset_free(deny);
	kz_ipset_free(test);
	kz_ipset_free(named);
	kz_ipset_free(deny_eff);
	kz_ipset_free(s1);
	kz_ipset_free(s2);
	kz_ipset_free(t);
	kz_ipset_free(empty);
	kz_ipset_free(cut);
	kz_scope_free(sc);
	return rc;
}

/* Opens path into *lr, logging why it cannot be. */
static int open_list(const char *path, struct kz_lines **lr)
{
	int rc = kz_lines_open(path, lr);
	if (rc)
		kz_err("%s: %s", path, strerror(-rc));
	return rc;
}

int kz_scope_load(const struct kz_scope_config *cfg, struct kz_scope **out)
{
	struct kz_lines *s = NULL, *x = NULL, *o = NULL;
	int rc = open_list(cfg->scope_path, &s);
	if (rc == 0 && cfg->exclude_path)
		rc = open_list(cfg->exclude_path, &x);
	if (rc == 0 && cfg->optout_path)
		rc = open_list(cfg->optout_path, &o);
	if (rc == 0)
		rc = kz_scope_load_lines(s, x, o, cfg->allow_reserved, out);
	kz_lines_close(s);
	kz_lines_close(x);
	kz_lines_close(o);
	return rc;
}

bool kz_scope_allows(const struct kz_scope *s, struct kz_addr a)
{
	return kz_ipset_contains(s->targets, a);
}

const struct kz_ipset *kz_scope_targets(const struct kz_scope *s)
{
	return s->targets;
}

const struct kz_scope_summary *kz_scope_summary(const struct kz_scope *s)
{
	return &s->sum;
}

char *kz_scope_summary_format(const struct kz_scope_summary *sum, char *buf, size_t len)
{
	char n[6][KZ_U128_STRLEN], allowed[KZ_U128_STRLEN + 48] = "";
	char hex[2 * KZ_IPSET_DIGEST_LEN + 1];
	kz_hex_encode(sum->digest, sizeof sum->digest, hex);
	if (sum->allowed_reserved)
		snprintf(allowed, sizeof allowed, " (%s more allowed by --allow-reserved)",
		         kz_u128_format(sum->allowed_reserved, n[5]));
	snprintf(buf, len,
	         "scope: %s addresses; %s excluded, %s opted out, %s reserved%s; "
	         "%s targets in %zu ranges; sha256 %s",
	         kz_u128_format(sum->in_scope, n[0]), kz_u128_format(sum->excluded, n[1]),
	         kz_u128_format(sum->opted_out, n[2]), kz_u128_format(sum->reserved, n[3]), allowed,
	         kz_u128_format(sum->targets, n[4]), sum->ranges, hex);
	return buf;
}

void kz_scope_free(struct kz_scope *s)
{
	if (!s)
		return;
	kz_ipset_free(s->targets);
	free(s);
}
