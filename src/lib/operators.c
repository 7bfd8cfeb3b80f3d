/*
 * Operators file parser: strict, every error names file:line, the table is
 * a sorted array searched by AS number.
 */
#include "operators.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "utf8.h"

/* Operators in one file: more is a mistake (there are about 120,000 ASes
 * in use), and the cap bounds memory whatever the input. */
#define OPERATORS_MAX 1000000

struct kz_operators {
	struct kz_operator *v;
	size_t n, cap;
};

/* Frees a table and its strings. */
void kz_operators_free(struct kz_operators *ops)
{
	if (!ops)
		return;
	for (size_t i = 0; i < ops->n; i++) {
		free((char *)ops->v[i].name);
		free((char *)ops->v[i].abuse_contact);
	}
	free(ops->v);
	free(ops);
}

/* Parses a decimal unsigned number filling the whole field. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return false;
	if (s[0] == '0' && s[1])
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* A name: UTF-8 without control characters, not empty, not huge. */
static bool text_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > KZ_OPERATOR_TEXT_MAX || kz_utf8_check((const uint8_t *)s, n) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* A contact: an address with one '@' and a dot after it, or an http(s)
 * URL, printable ASCII without blanks. */
static bool contact_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > KZ_OPERATOR_TEXT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0)
		return true;
	const char *at = strchr(s, '@');
	return at && at != s && !strchr(at + 1, '@') && strchr(at + 1, '.') && at[1] != '.' &&
	       s[n - 1] != '.';
}

/* Table order: by AS number. */
static int cmp_asn(const void *a, const void *b)
{
	uint32_t x = ((const struct kz_operator *)a)->asn, y = ((const struct kz_operator *)b)->asn;
	return x < y ? -1 : x > y;
}

/* The operators file, line by line; the first bad line ends the load. */
static int parse_lines(struct kz_lines *lr, void *outp, char *err, size_t errlen)
{
	struct kz_operators **out = outp;
	const char *path = kz_lines_path(lr);
	struct kz_operators *ops = calloc(1, sizeof *ops);
	char *line;
	size_t len;
	int rc;
	if (!ops)
		return -ENOMEM;
	while ((rc = kz_lines_next(lr, &line, &len)) == 1) {
		/* Fields are tab-separated; '#' comments only at the start of a
		 * line or after blanks, since names may hold '#'. */
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		char *f[5];
		size_t nf = 0;
		f[nf++] = p;
		for (char *q = p; *q; q++) {
			if (*q == '\t') {
				*q = '\0';
				if (nf == 5)
					break;
				f[nf++] = q + 1;
			}
		}
		if (nf < 3 || nf > 4) {
			rc = kz_lines_fail(
			        lr, err, errlen,
			        "expected asn<TAB>name<TAB>abuse-contact[<TAB>renotify-sec], "
			        "got %zu field%s",
			        nf, nf == 1 ? "" : "s");
			goto fail;
		}
		/* Trailing blanks and '\r' on the last field. */
		char *last = f[nf - 1];
		size_t ll = strlen(last);
		while (ll > 0 && (last[ll - 1] == ' ' || last[ll - 1] == '\r'))
			last[--ll] = '\0';
		const char *asn_text = f[0];
		if (strncmp(asn_text, "AS", 2) == 0 || strncmp(asn_text, "as", 2) == 0)
			asn_text += 2;
		uint64_t asn, renotify = 0;
		if (!parse_u64(asn_text, UINT32_MAX, &asn) || asn == 0) {
			rc = kz_lines_fail(lr, err, errlen, "asn: not an AS number 1-4294967295");
			goto fail;
		}
		if (!text_ok(f[1])) {
			rc = kz_lines_fail(lr, err, errlen,
			                   "name: empty, over %d bytes, not UTF-8 or with control "
			                   "characters",
			                   KZ_OPERATOR_TEXT_MAX);
			goto fail;
		}
		if (!contact_ok(f[2])) {
			rc = kz_lines_fail(
			        lr, err, errlen,
			        "abuse-contact: not an e-mail address or an http(s) URL");
			goto fail;
		}
		if (nf == 4 && (!parse_u64(f[3], (uint64_t)INT64_MAX, &renotify))) {
			rc = kz_lines_fail(lr, err, errlen,
			                   "renotify-sec: not a number of seconds");
			goto fail;
		}
		if (ops->n == OPERATORS_MAX) {
			rc = kz_lines_fail(lr, err, errlen, "more than %d operators",
			                   OPERATORS_MAX);
			goto fail;
		}
		if (ops->n == ops->cap) {
			size_t nc = ops->cap ? ops->cap * 2 : 64;
			struct kz_operator *nv = reallocarray(ops->v, nc, sizeof *nv);
			if (!nv) {
				rc = -ENOMEM;
				goto fail;
			}
			ops->v = nv;
			ops->cap = nc;
		}
		struct kz_operator *o = &ops->v[ops->n];
		o->asn = (uint32_t)asn;
		o->name = strdup(f[1]);
		o->abuse_contact = strdup(f[2]);
		o->renotify_sec = nf == 4 ? (int64_t)renotify : -1;
		ops->n++;
		if (!o->name || !o->abuse_contact) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (rc < 0) {
		rc = kz_lines_error(lr, rc, err, errlen);
		goto fail;
	}
	if (ops->n)
		qsort(ops->v, ops->n, sizeof ops->v[0], cmp_asn);
	for (size_t i = 1; i < ops->n; i++) {
		if (ops->v[i].asn == ops->v[i - 1].asn) {
			if (errlen)
				snprintf(err, errlen, "%s: AS%u is listed twice", path,
				         ops->v[i].asn);
			rc = -EINVAL;
			goto fail;
		}
	}
	*out = ops;
	return 0;
fail:
	kz_operators_free(ops);
	return rc;
}

int kz_operators_load(const char *path, struct kz_operators **out, char *err, size_t errlen)
{
	*out = NULL;
	return kz_lines_parse_path(path, parse_lines, out, err, errlen);
}

int kz_operators_load_mem(const char *name, const void *data, size_t len, struct kz_operators **out,
                          char *err, size_t errlen)
{
	*out = NULL;
	return kz_lines_parse_mem(name, data, len, parse_lines, out, err, errlen);
}

const struct kz_operator *kz_operators_find(const struct kz_operators *ops, uint32_t asn)
{
	if (!ops || ops->n == 0)
		return NULL;
	struct kz_operator key = { .asn = asn };
	return bsearch(&key, ops->v, ops->n, sizeof ops->v[0], cmp_asn);
}

size_t kz_operators_count(const struct kz_operators *ops)
{
	return ops ? ops->n : 0;
}

const struct kz_operator *kz_operators_at(const struct kz_operators *ops, size_t i)
{
	return ops && i < ops->n ? &ops->v[i] : NULL;
}
