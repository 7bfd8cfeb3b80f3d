/*
 * Tokens file parser, constant-time check, token generation.
 */
#include "tokens.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "encode.h"
#include "lines.h"
#include "log.h"
#include "random.h"
#include "utf8.h"

#define TOKENS_MAX 100000 /* lines in one file: bounds memory and check time */

struct kz_tokens {
	struct kz_token *v;
	size_t n, cap;
};

static const char *const role_names[KZ_ROLE_COUNT] = {
	[KZ_ROLE_ADMIN] = "admin",
	[KZ_ROLE_SENSOR] = "sensor",
	[KZ_ROLE_OPERATOR] = "operator",
	[KZ_ROLE_PARTNER] = "partner",
};

const char *kz_role_name(enum kz_role r)
{
	return (unsigned)r < KZ_ROLE_COUNT ? role_names[r] : "";
}

int kz_role_parse(const char *s, enum kz_role *out)
{
	for (unsigned i = 0; i < KZ_ROLE_COUNT; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum kz_role)i;
			return 0;
		}
	}
	return -EINVAL;
}

void kz_tokens_free(struct kz_tokens *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free((char *)t->v[i].name);
		free((uint32_t *)t->v[i].asns);
	}
	free(t->v);
	free(t);
}

size_t kz_tokens_count(const struct kz_tokens *t)
{
	return t ? t->n : 0;
}

/* qsort/bsearch order of AS numbers. */
static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int kz_token_parse_asns(const char *s, uint32_t **asns, size_t *n, const char **why)
{
	*asns = NULL;
	*n = 0;
	uint32_t *v = calloc(KZ_TOKEN_ASNS_MAX, sizeof *v);
	size_t k = 0;
	if (!v) {
		*why = "out of memory";
		return -ENOMEM;
	}
	const char *p = s;
	for (;;) {
		if (strncmp(p, "AS", 2) == 0 || strncmp(p, "as", 2) == 0)
			p += 2;
		uint64_t a = 0;
		size_t digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 11) {
			a = a * 10 + (uint64_t)(*p++ - '0');
			digits++;
		}
		if (digits == 0 || a == 0 || a > UINT32_MAX ||
		    (digits > 1 && p[-(long)digits] == '0')) {
			*why = "not a list of AS numbers 1-4294967295 (\"64496,64497\")";
			goto fail;
		}
		if (k == KZ_TOKEN_ASNS_MAX) {
			*why = "more AS numbers than one token may hold (1024)";
			goto fail;
		}
		v[k++] = (uint32_t)a;
		if (*p == '\0')
			break;
		if (*p != ',') {
			*why = "not a list of AS numbers 1-4294967295 (\"64496,64497\")";
			goto fail;
		}
		p++;
	}
	qsort(v, k, sizeof *v, cmp_u32);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || v[u - 1] != v[i])
			v[u++] = v[i];
	*asns = v;
	*n = u;
	return 0;
fail:
	free(v);
	return -EINVAL;
}

bool kz_token_has_asn(const struct kz_token *tok, uint32_t asn)
{
	if (!tok || tok->role != KZ_ROLE_OPERATOR || tok->nasns == 0)
		return false;
	return bsearch(&asn, tok->asns, tok->nasns, sizeof asn, cmp_u32) != NULL;
}

/* SHA-256 with libcrypto. */
static void sha256(const void *p, size_t len, uint8_t out[32])
{
	unsigned olen = 32;
	/* EVP_Digest cannot fail for SHA-256 short of a broken libcrypto;
	 * a zeroed digest then matches no line. */
	if (!EVP_Digest(p, len, out, &olen, EVP_sha256(), NULL))
		memset(out, 0, 32);
}

void kz_token_hash_hex(const char *token, size_t len, char out[KZ_TOKEN_HASH_HEX])
{
	uint8_t h[32];
	sha256(token, len, h);
	kz_hex_encode(h, sizeof h, out);
}

const struct kz_token *kz_tokens_check(const struct kz_tokens *t, const char *presented, size_t len)
{
	if (!t || !presented || len == 0)
		return NULL;
	uint8_t h[32];
	sha256(presented, len, h);
	const struct kz_token *hit = NULL;
	/* No early exit: every line is compared whatever matched. */
	for (size_t i = 0; i < t->n; i++) {
		bool eq = CRYPTO_memcmp(h, t->v[i].hash, sizeof h) == 0;
		if (eq && !hit)
			hit = &t->v[i];
	}
	explicit_bzero(h, sizeof h);
	return hit;
}

const struct kz_token *kz_tokens_find_hash(const struct kz_tokens *t, const uint8_t hash[32])
{
	const struct kz_token *hit = NULL;
	for (size_t i = 0; t && i < t->n; i++) {
		bool eq = CRYPTO_memcmp(hash, t->v[i].hash, 32) == 0;
		if (eq && !hit)
			hit = &t->v[i];
	}
	return hit;
}

const struct kz_token *kz_tokens_find_name(const struct kz_tokens *t, const char *name)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

int kz_token_generate(char out[KZ_TOKEN_STRLEN])
{
	/* "kz_" marks the token in logs and secret scanners. */
	memcpy(out, "kz_", 3);
	return kz_random_token(out + 3);
}

/* A token's name: UTF-8 without control characters (it goes into logs and
 * the audit table), at most KZ_TOKEN_NAME_MAX bytes. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > KZ_TOKEN_NAME_MAX || kz_utf8_check((const uint8_t *)s, n) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* The tokens file, line by line; the first bad line ends the load with
 * "path:line: why" and nothing of the file is used. */
static int parse_lines(struct kz_lines *lr, void *outp, char *err, size_t errlen)
{
	struct kz_tokens **out = outp;
	struct kz_tokens *t = calloc(1, sizeof *t);
	char *line;
	size_t len;
	int rc;
	if (!t)
		return -ENOMEM;
	while ((rc = kz_lines_next(lr, &line, &len)) == 1) {
		char *p = kz_line_strip(line);
		if (*p == '\0')
			continue;
		char *f[4];
		size_t nf = 0;
		f[nf++] = p;
		for (char *q = p; *q && nf <= 4; q++) {
			if (*q == '\t') {
				*q = '\0';
				if (nf == 4) {
					nf++;
					break;
				}
				f[nf++] = q + 1;
			}
		}
		if (nf != 4) {
			rc = kz_lines_fail(lr, err, errlen,
			                   "expected role<TAB>name<TAB>scope<TAB>sha256-hex");
			goto fail;
		}
		struct kz_token tok = { 0 };
		if (kz_role_parse(f[0], &tok.role)) {
			rc = kz_lines_fail(lr, err, errlen,
			                   "role: not admin, sensor, operator or partner");
			goto fail;
		}
		if (!name_ok(f[1])) {
			rc = kz_lines_fail(lr, err, errlen,
			                   "name: empty, over %d bytes, not UTF-8 or with control "
			                   "characters",
			                   KZ_TOKEN_NAME_MAX);
			goto fail;
		}
		if (strlen(f[3]) != 64 || kz_hex_decode(f[3], 64, tok.hash, 32) != 0) {
			rc = kz_lines_fail(lr, err, errlen,
			                   "sha256: not 64 hex digits (the hash, never the token)");
			goto fail;
		}
		const char *why = NULL;
		uint32_t *asns = NULL;
		switch (tok.role) {
		case KZ_ROLE_OPERATOR:
			if (kz_token_parse_asns(f[2], &asns, &tok.nasns, &why)) {
				rc = kz_lines_fail(lr, err, errlen, "scope: %s", why);
				goto fail;
			}
			break;
		case KZ_ROLE_PARTNER:
			if (kz_tlp_parse(f[2], &tok.tlp)) {
				rc = kz_lines_fail(lr, err, errlen,
				                   "scope: a partner's scope is its TLP ceiling "
				                   "(CLEAR, GREEN, AMBER, AMBER+STRICT, RED)");
				goto fail;
			}
			break;
		default:
			if (strcmp(f[2], "-") != 0) {
				rc = kz_lines_fail(lr, err, errlen,
				                   "scope: must be \"-\" for %s tokens",
				                   kz_role_name(tok.role));
				goto fail;
			}
			break;
		}
		for (size_t i = 0; i < t->n; i++) {
			const char *dup = NULL;
			if (strcmp(t->v[i].name, f[1]) == 0)
				dup = "name";
			else if (memcmp(t->v[i].hash, tok.hash, 32) == 0)
				dup = "hash";
			if (dup) {
				free(asns);
				rc = kz_lines_fail(lr, err, errlen,
				                   "the same %s as an earlier line", dup);
				goto fail;
			}
		}
		if (t->n == TOKENS_MAX) {
			free(asns);
			rc = kz_lines_fail(lr, err, errlen, "more than %d tokens", TOKENS_MAX);
			goto fail;
		}
		if (t->n == t->cap) {
			size_t nc = t->cap ? t->cap * 2 : 16;
			struct kz_token *nv = reallocarray(t->v, nc, sizeof *nv);
			if (!nv) {
				free(asns);
				rc = -ENOMEM;
				goto fail;
			}
			t->v = nv;
			t->cap = nc;
		}
		tok.asns = asns;
		tok.name = strdup(f[1]);
		t->v[t->n++] = tok;
		if (!tok.name) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (rc < 0) {
		rc = kz_lines_error(lr, rc, err, errlen);
		goto fail;
	}
	*out = t;
	return 0;
fail:
	kz_tokens_free(t);
	return rc;
}

int kz_tokens_load(const char *path, struct kz_tokens **out, char *err, size_t errlen)
{
	*out = NULL;
	return kz_lines_parse_path(path, parse_lines, out, err, errlen);
}

int kz_tokens_load_mem(const char *name, const void *data, size_t len, struct kz_tokens **out,
                       char *err, size_t errlen)
{
	*out = NULL;
	return kz_lines_parse_mem(name, data, len, parse_lines, out, err, errlen);
}

int kz_token_file_read(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[512];
	struct stat sb;
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077))
		kz_warn("%s: readable by others (mode %03o); a token is a password: chmod 600",
		        path, (unsigned)(sb.st_mode & 0777));
	char *line = fgets(buf, sizeof buf, f);
	fclose(f);
	char *p = line ? kz_line_strip(line) : NULL;
	size_t n = p ? strcspn(p, "\r\n") : 0;
	if (!p || n == 0 || n >= outlen) {
		explicit_bzero(buf, sizeof buf);
		snprintf(err, errlen, "%s: no token on its first line", path);
		return -EINVAL;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	explicit_bzero(buf, sizeof buf);
	return 0;
}
