/*
 * Partner keys and what STIX and MISP feeds share (see share.h).
 *
 * The keys file is checked for its mode before a byte of it is read: a key
 * that anyone on the machine can read is a pseudonymisation anyone can
 * reverse, so a group- or world-accessible file is refused, not warned about.
 */
#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encode.h"
#include "lines.h"
#include "utf8.h"

#define PARTNERS_MAX 4096

struct kz_partner_keys {
	struct kz_partner_key *keys;
	char **names;
	size_t n;
};

/* Key ids travel in every pseudonymised object: short and plain. */
static bool key_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > KZ_KEY_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* A partner's name as a token's name may be: UTF-8, no controls. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || kz_utf8_check((const uint8_t *)s, n) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Appends one key to the table (the name copied, the key copied). */
static int add_key(struct kz_partner_keys *k, size_t *cap, const char *partner, const char *kid,
                   const uint8_t key[KZ_CRYPTOPAN_KEYLEN])
{
	if (k->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct kz_partner_key *nk = reallocarray(k->keys, nc, sizeof *nk);
		if (!nk)
			return -ENOMEM;
		k->keys = nk;
		char **nn = reallocarray(k->names, nc, sizeof *nn);
		if (!nn)
			return -ENOMEM;
		k->names = nn;
		*cap = nc;
	}
	char *name = strdup(partner);
	if (!name)
		return -ENOMEM;
	struct kz_partner_key *e = &k->keys[k->n];
	k->names[k->n] = name;
	e->partner = name;
	snprintf(e->key_id, sizeof e->key_id, "%s", kid);
	memcpy(e->key, key, KZ_CRYPTOPAN_KEYLEN);
	k->n++;
	return 0;
}

int kz_partner_keys_load(const char *path, struct kz_partner_keys **out, char *err, size_t errlen)
{
	struct kz_partner_keys *k = NULL;
	struct kz_lines *lr = NULL;
	FILE *f = NULL;
	size_t cap = 0;
	uint8_t key[KZ_CRYPTOPAN_KEYLEN];
	char *line;
	size_t len;
	int rc;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (sb.st_mode & 077) {
		close(fd);
		snprintf(err, errlen,
		         "%s: mode %04o lets group or others at the partner keys; run chmod 600 %s "
		         "(keys may have leaked: consider rotating them)",
		         path, (unsigned)(sb.st_mode & 07777), path);
		return -EACCES;
	}
	if (!(f = fdopen(fd, "r"))) {
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -ENOMEM;
	}
	if (!(k = calloc(1, sizeof *k)) || kz_lines_from_stream(f, path, &lr) != 0) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while ((rc = kz_lines_next(lr, &line, &len)) == 1) {
		char *s = kz_line_strip(line);
		if (!*s)
			continue;
		char *t1 = strchr(s, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t1 || !t2 || strchr(t2 + 1, '\t')) {
			rc = kz_lines_fail(
			        lr, err, errlen,
			        "expected partner<TAB>key-id<TAB>hex-key (three fields)");
			goto fail;
		}
		*t1 = *t2 = '\0';
		const char *partner = s, *kid = t1 + 1, *hex = t2 + 1;
		if (!name_ok(partner)) {
			rc = kz_lines_fail(
			        lr, err, errlen,
			        "partner: 1-128 bytes of UTF-8 without control characters");
			goto fail;
		}
		if (!key_id_ok(kid)) {
			rc = kz_lines_fail(lr, err, errlen,
			                   "key-id: 1-64 characters of A-Z a-z 0-9 . _ -");
			goto fail;
		}
		if (strlen(hex) != 2 * KZ_CRYPTOPAN_KEYLEN ||
		    kz_hex_decode(hex, strlen(hex), key, sizeof key) != 0) {
			rc = kz_lines_fail(lr, err, errlen,
			                   "hex-key: the 32-byte Crypto-PAn key as 64 hex digits");
			goto fail;
		}
		if (kz_partner_keys_find(k, partner)) {
			rc = kz_lines_fail(lr, err, errlen,
			                   "partner %s is listed twice (one key per partner)",
			                   partner);
			goto fail;
		}
		if (k->n >= PARTNERS_MAX) {
			rc = kz_lines_fail(lr, err, errlen, "more than %d partners", PARTNERS_MAX);
			goto fail;
		}
		if ((rc = add_key(k, &cap, partner, kid, key))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		explicit_bzero(line, len);
	}
	if (rc < 0) {
		rc = kz_lines_error(lr, rc, err, errlen);
		goto fail;
	}
	explicit_bzero(key, sizeof key);
	kz_lines_close(lr);
	fclose(f);
	*out = k;
	return 0;
fail:
	explicit_bzero(key, sizeof key);
	kz_lines_close(lr);
	if (f)
		fclose(f);
	kz_partner_keys_free(k);
	return rc;
}

void kz_partner_keys_free(struct kz_partner_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		explicit_bzero(k->keys[i].key, sizeof k->keys[i].key);
		free(k->names[i]);
	}
	free(k->keys);
	free(k->names);
	free(k);
}

const struct kz_partner_key *kz_partner_keys_find(const struct kz_partner_keys *k,
                                                  const char *partner)
{
	for (size_t i = 0; k && i < k->n; i++)
		if (strcmp(k->keys[i].partner, partner) == 0)
			return &k->keys[i];
	return NULL;
}

/* --------------------------------------------------------- pseudonyms */

int kz_pseudo_init(struct kz_pseudo *p, const struct kz_partner_key *key)
{
	p->cp = NULL;
	p->key_id = NULL;
	if (!key)
		return 0;
	p->key_id = key->key_id;
	return kz_cryptopan_new(key->key, &p->cp);
}

void kz_pseudo_clear(struct kz_pseudo *p)
{
	kz_cryptopan_free(p->cp);
	p->cp = NULL;
}

int kz_pseudo_addr(struct kz_pseudo *p, const char *ip, char *out)
{
	struct kz_addr a, b;
	const char *why;
	out[0] = '\0';
	if (!p->cp || kz_addr_parse(ip, &a, &why) != 0)
		return -EINVAL;
	if (kz_cryptopan_anon(p->cp, a, &b) != 0)
		return -EIO;
	kz_addr_format(b, out);
	return 0;
}

/* ------------------------------------------------------------- kinds */

bool kz_share_has_subject(const struct kz_frow *f)
{
	return f->ip != NULL && f->ip[0] != '\0';
}

bool kz_share_is_source(const struct kz_frow *f)
{
	if (strcmp(f->kind, "infected") == 0 || strcmp(f->kind, "scanner") == 0)
		return true;
	if (strcmp(f->kind, "other") == 0)
		return strcmp(f->taxonomy, "vulnerable") != 0 &&
		       strcmp(f->taxonomy, "availability") != 0;
	return false;
}
