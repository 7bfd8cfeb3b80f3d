/*
 * Enrichment snapshots. A snapshot is three pointers to reference-counted
 * tables and its own count; lookups only read, so any number of threads use
 * one snapshot at once. Reload builds a new snapshot and the caller swaps
 * it in; the old one lives until its last user lets go.
 */
#include "enrich.h"

#include <errno.h>
#include <maxminddb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "pfx.h"

/* One loaded table with its count. */
struct table {
	atomic_uint refs;
	void *obj;
	void (*free)(void *obj);
};

struct kz_enrich {
	atomic_uint refs;
	struct table *pfx;
	struct table *ops;
	struct table *mmdb;
};

static struct table *table_new(void *obj, void (*fr)(void *))
{
	struct table *t = malloc(sizeof *t);
	if (!t)
		return NULL;
	atomic_init(&t->refs, 1);
	t->obj = obj;
	t->free = fr;
	return t;
}

static struct table *table_ref(struct table *t)
{
	if (t)
		atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	return t;
}

static void table_unref(struct table *t)
{
	if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1) {
		t->free(t->obj);
		free(t);
	}
}

static void free_pfx(void *p)
{
	kz_pfx_free(p);
}

static void free_ops(void *p)
{
	kz_operators_free(p);
}

static void free_mmdb(void *p)
{
	MMDB_close(p);
	free(p);
}

static int load_mmdb(const char *path, MMDB_s **out, char *err, size_t errlen)
{
	MMDB_s *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	int rc = MMDB_open(path, MMDB_MODE_MMAP, m);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path,
		         rc == MMDB_IO_ERROR ? strerror(errno) : MMDB_strerror(rc));
		free(m);
		return rc == MMDB_IO_ERROR ? -EIO : -EINVAL;
	}
	*out = m;
	return 0;
}

int kz_enrich_empty(struct kz_enrich **out)
{
	struct kz_enrich *e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	atomic_init(&e->refs, 1);
	*out = e;
	return 0;
}

/* Loads one table, or shares prev's when there is no path or loading fails
 * (with prev; without prev a failure is returned). */
static int load_one(const char *what, const char *path, struct table *prevt, struct table **slot,
                    unsigned *failed, bool have_prev, char *err, size_t errlen)
{
	char why[512] = "";
	void *obj = NULL;
	void (*fr)(void *) = NULL;
	int rc = 0;
	if (!path) {
		*slot = table_ref(prevt);
		return 0;
	}
	if (strcmp(what, "pfx2as") == 0) {
		struct kz_pfx *p = NULL;
		rc = kz_pfx_load(path, &p, why, sizeof why);
		obj = p;
		fr = free_pfx;
	} else if (strcmp(what, "operators") == 0) {
		struct kz_operators *o = NULL;
		rc = kz_operators_load(path, &o, why, sizeof why);
		obj = o;
		fr = free_ops;
	} else {
		MMDB_s *m = NULL;
		rc = load_mmdb(path, &m, why, sizeof why);
		obj = m;
		fr = free_mmdb;
	}
	if (rc == 0) {
		*slot = table_new(obj, fr);
		if (!*slot) {
			fr(obj);
			rc = -ENOMEM;
			snprintf(why, sizeof why, "%s: out of memory", path);
		} else {
			return 0;
		}
	}
	if (!have_prev) {
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	kz_err("%s: not reloaded, keeping the previous table: %s", what, why);
	if (failed)
		(*failed)++;
	*slot = table_ref(prevt);
	return 0;
}

int kz_enrich_load(const struct kz_enrich_paths *paths, struct kz_enrich *prev,
                   struct kz_enrich **out, unsigned *failed, char *err, size_t errlen)
{
	struct kz_enrich *e;
	int rc = kz_enrich_empty(&e);
	*out = NULL;
	if (failed)
		*failed = 0;
	if (rc)
		return rc;
	bool hp = prev != NULL;
	if ((rc = load_one("pfx2as", paths->pfx2as, hp ? prev->pfx : NULL, &e->pfx, failed, hp, err,
	                   errlen)) ||
	    (rc = load_one("operators", paths->operators, hp ? prev->ops : NULL, &e->ops, failed,
	                   hp, err, errlen)) ||
	    (rc = load_one("mmdb", paths->mmdb, hp ? prev->mmdb : NULL, &e->mmdb, failed, hp, err,
	                   errlen))) {
		kz_enrich_unref(e);
		return rc;
	}
	*out = e;
	return 0;
}

struct kz_enrich *kz_enrich_ref(struct kz_enrich *e)
{
	if (e)
		atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	return e;
}

void kz_enrich_unref(struct kz_enrich *e)
{
	if (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
		table_unref(e->pfx);
		table_unref(e->ops);
		table_unref(e->mmdb);
		free(e);
	}
}

const struct kz_operators *kz_enrich_operators(const struct kz_enrich *e)
{
	return e && e->ops ? e->ops->obj : NULL;
}

const char *kz_enrich_pfx_version(const struct kz_enrich *e)
{
	return e && e->pfx ? kz_pfx_version(e->pfx->obj) : NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Copies an mmdb UTF-8 string entry into buf, cut on a character boundary. */
static void mmdb_string(MMDB_lookup_result_s *res, char *buf, size_t bufsize, ...)
{
	MMDB_entry_data_s d;
	va_list ap;
	va_start(ap, bufsize);
	int rc = MMDB_vget_value(&res->entry, &d, ap);
	va_end(ap);
	buf[0] = '\0';
	if (rc != MMDB_SUCCESS || !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return;
	size_t n = d.data_size < bufsize - 1 ? d.data_size : bufsize - 1;
	while (n > 0 && n < d.data_size && ((unsigned char)d.utf8_string[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, d.utf8_string, n);
	buf[n] = '\0';
	/* Control characters from a stranger's database stay out of our JSON. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = ' ';
}

static void lookup_geo(MMDB_s *m, struct kz_addr a, struct kz_enrich_result *r)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (kz_addr_is_v4(a)) {
		/* libmaxminddb finds an AF_INET address in an IPv6 database's
		 * IPv4 subtree itself. */
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		uint32_t v = kz_addr_v4(a);
		uint8_t *b = (uint8_t *)&s4->sin_addr;
		s4->sin_family = AF_INET;
		b[0] = (uint8_t)(v >> 24);
		b[1] = (uint8_t)(v >> 16);
		b[2] = (uint8_t)(v >> 8);
		b[3] = (uint8_t)v;
	} else {
		if (m->metadata.ip_version == 4)
			return;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		kz_addr_to_bytes(a, s6->sin6_addr.s6_addr);
	}
	int mmerr = 0;
	MMDB_lookup_result_s res = MMDB_lookup_sockaddr(m, (struct sockaddr *)&ss, &mmerr);
	if (mmerr != MMDB_SUCCESS || !res.found_entry)
		return;
	char cc[8];
	mmdb_string(&res, cc, sizeof cc, "country", "iso_code", NULL);
	if (strlen(cc) == 2 && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z')
		memcpy(r->cc, cc, 3);
	mmdb_string(&res, r->region, sizeof r->region, "subdivisions", "0", "names", "en", NULL);
	mmdb_string(&res, r->city, sizeof r->city, "city", "names", "en", NULL);
}

void kz_enrich_lookup(const struct kz_enrich *e, struct kz_addr a, struct kz_enrich_result *r)
{
	memset(r, 0, sizeof *r);
	if (!e)
		return;
	if (e->pfx) {
		const struct kz_pfx *t = e->pfx->obj;
		struct kz_pfx_match m;
		r->pfx_version = kz_pfx_version(t);
		if (kz_pfx_lookup(t, a, &m)) {
			struct kz_pfx_origin o;
			kz_cidr_format(&m.prefix, r->network);
			/* Every AS of every origin: a multi-origin prefix notifies
			 * every origin AS (CONTRACT.md), and an AS set's members
			 * are each possibly the origin. */
			if (kz_pfx_origin(t, m.origin, &o) == 0) {
				for (size_t i = 0; i < o.nasns && r->nasns < KZ_ENRICH_ASNS_MAX;
				     i++)
					r->asns[r->nasns++] = o.asns[i].asn;
			}
			qsort(r->asns, r->nasns, sizeof r->asns[0], cmp_u32);
			size_t u = 0;
			for (size_t i = 0; i < r->nasns; i++)
				if (u == 0 || r->asns[u - 1] != r->asns[i])
					r->asns[u++] = r->asns[i];
			r->nasns = u;
		}
	}
	if (e->ops && r->nasns) {
		const struct kz_operator *op = kz_operators_find(e->ops->obj, r->asns[0]);
		r->as_name = op ? op->name : NULL;
	}
	if (e->mmdb)
		lookup_geo(e->mmdb->obj, a, r);
}

char *kz_enrich_asns_text(const struct kz_enrich_result *r, char *buf, size_t bufsize)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < r->nasns && off < bufsize; i++) {
		int n = snprintf(buf + off, bufsize - off, "%s%u", i ? "," : "", r->asns[i]);
		if (n < 0 || (size_t)n >= bufsize - off)
			break;
		off += (size_t)n;
	}
	return buf;
}
