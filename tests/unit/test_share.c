/*
 * Sharing: the partner keys file (mode 0600 or refused, every line error
 * with file:line), pseudonyms against the Crypto-PAn 1.0 sample key's
 * published vectors (REFERENCE.md), and STIX and MISP feeds from a real
 * store: the TLP cut, no address at all in a pseudonymised feed, the same
 * ids on a second run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "encode.h"
#include "ingest.h"
#include "jsonl.h"
#include "misp.h"
#include "record.h"
#include "share.h"
#include "stix.h"
#include "store.h"

#define SAMPLE_KEY "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202"
#define T0         INT64_C(1795800000)

struct fx {
	char dir[64];
	char path[96];
	struct kz_store *s;
	struct kz_ingest *ing;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	snprintf(f->dir, sizeof f->dir, "/tmp/kz-share-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/hub.db", f->dir);
	assert_int_equal(kz_store_open(f->path, KZ_STORE_CREATE, &f->s, err, sizeof err), 0);
	assert_int_equal(kz_ingest_open(f->s, NULL, &f->ing, err, sizeof err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	kz_ingest_close(f->ing);
	kz_store_close(f->s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	unlink(path); /* it may be read-only from the case before */
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_keys_file(void **state)
{
	struct fx *f = *state;
	char path[128], err[512];
	struct kz_partner_keys *k = NULL;
	snprintf(path, sizeof path, "%s/keys", f->dir);
	write_file(path, "# partner keys\n\ncert-x\t2026-a\t" SAMPLE_KEY "\n", 0600);
	assert_int_equal(kz_partner_keys_load(path, &k, err, sizeof err), 0);
	const struct kz_partner_key *key = kz_partner_keys_find(k, "cert-x");
	assert_non_null(key);
	assert_string_equal(key->key_id, "2026-a");
	assert_int_equal(key->key[0], 21);
	assert_int_equal(key->key[31], 2);
	assert_null(kz_partner_keys_find(k, "cert-y"));
	kz_partner_keys_free(k);

	/* Readable by the group or others: refused, saying how to fix it. */
	static const mode_t loose[] = { 0644, 0640, 0604, 0620, 0660 };
	for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++) {
		assert_int_equal(chmod(path, loose[i]), 0);
		assert_int_equal(kz_partner_keys_load(path, &k, err, sizeof err), -EACCES);
		assert_non_null(strstr(err, "chmod 600"));
	}
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(kz_partner_keys_load(path, &k, err, sizeof err), 0);
	kz_partner_keys_free(k);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "cert-x\t" SAMPLE_KEY "\n", "keys:1: expected partner<TAB>key-id<TAB>hex-key" },
		{ "cert-x\tk\t" SAMPLE_KEY "\textra\n", "keys:1: expected" },
		{ "cert-x\tk\t1522\n", "keys:1: hex-key" },
		{ "cert-x\tk\t" SAMPLE_KEY "zz\n", "keys:1: hex-key" },
		{ "cert-x\tk y\t" SAMPLE_KEY "\n", "keys:1: key-id" },
		{ "\n# c\ncert-x\tk\t" SAMPLE_KEY "\ncert-x\tk2\t" SAMPLE_KEY "\n",
		  "keys:4: partner cert-x is listed twice" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(path, bad[i].text, 0600);
		assert_int_equal(kz_partner_keys_load(path, &k, err, sizeof err), -EINVAL);
		if (!strstr(err, bad[i].want))
			fail_msg("case %zu: %s", i, err);
	}
	/* A line past the reader's limit is named by its own number. */
	size_t big = 70000;
	char *text = malloc(big + 3);
	assert_non_null(text);
	text[0] = '\n';
	memset(text + 1, 'a', big);
	memcpy(text + 1 + big, "\n", 2);
	write_file(path, text, 0600);
	free(text);
	assert_int_equal(kz_partner_keys_load(path, &k, err, sizeof err), -EINVAL);
	if (!strstr(err, "keys:2: line longer than"))
		fail_msg("long line: %s", err);
	snprintf(path, sizeof path, "%s/none", f->dir);
	assert_int_equal(kz_partner_keys_load(path, &k, err, sizeof err), -ENOENT);
}

static void test_pseudonyms(void **state)
{
	(void)state;
	struct kz_partner_key key = { .partner = "cert-x" };
	snprintf(key.key_id, sizeof key.key_id, "sample");
	assert_int_equal(kz_hex_decode(SAMPLE_KEY, 64, key.key, sizeof key.key), 0);
	struct kz_pseudo ps;
	char out[KZ_ADDR_STRLEN];
	assert_int_equal(kz_pseudo_init(&ps, &key), 0);
	static const char *const vec[][2] = {
		{ "128.11.68.132", "135.242.180.132" },
		{ "129.118.74.4", "134.136.186.123" },
		{ "130.132.252.244", "133.68.164.234" },
		{ "141.223.7.43", "141.167.8.160" },
		{ "24.5.0.80", "100.9.15.210" },
		{ "::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed" },
	};
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		assert_int_equal(kz_pseudo_addr(&ps, vec[i][0], out), 0);
		assert_string_equal(out, vec[i][1]);
	}
	assert_int_equal(kz_pseudo_addr(&ps, "not an address", out), -EINVAL);
	kz_pseudo_clear(&ps);
	struct kz_pseudo none;
	assert_int_equal(kz_pseudo_init(&none, NULL), 0);
	assert_int_equal(kz_pseudo_addr(&none, "192.0.2.1", out), -EINVAL);
}

/* A telescope record of ip with a label. */
static void ingest_source(struct fx *f, enum kz_record_kind kind, const char *ip, enum kz_tlp tlp)
{
	struct kz_record_spec sp = { .kind = kind,
		                     .tlp = tlp,
		                     .time_observation = T0,
		                     .time_source = T0,
		                     .sensor = "tokyo-1",
		                     .interval_start = T0 - T0 % 60 };
	const char *why;
	json_t *rec;
	char *line, err[256];
	size_t len;
	assert_int_equal(kz_addr_parse(ip, &sp.addr, &why), 0);
	assert_int_equal(kz_record_new(&sp, &rec, &why), 0);
	assert_int_equal(kz_record_set_int(rec, "source.asn", 64500), 0);
	assert_int_equal(kz_record_set_int(rec, "source.port", 40000), 0);
	assert_int_equal(kz_jsonl_format(rec, &line, &len), 0);
	json_decref(rec);
	struct kz_ingest_result r;
	assert_int_equal(kz_ingest_events(f->ing, line, len, NULL, NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.accepted, 1);
	kz_ingest_result_clear(&r);
	free(line);
}

static char *stix(struct fx *f, const struct kz_feed_opts *o, size_t *n)
{
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (kz_stix_write(kz_store_db(f->s), o, m, n, err, sizeof err) != 0)
		fail_msg("stix: %s", err);
	fclose(m);
	return buf;
}

static void test_feeds(void **state)
{
	struct fx *f = *state;
	ingest_source(f, KZ_REC_INFECTED, "198.51.100.7", KZ_TLP_AMBER);
	ingest_source(f, KZ_REC_SCANNER, "203.0.113.20", KZ_TLP_GREEN);
	ingest_source(f, KZ_REC_SCANNER, "2001:db8::20", KZ_TLP_CLEAR);
	struct kz_feed_opts o = { .tlp_max = KZ_TLP_GREEN, .since = INT64_MIN, .now = T0 };
	size_t n;
	char *plain = stix(f, &o, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(plain, "[ipv4-addr:value = '203.0.113.20']"));
	assert_non_null(strstr(plain, "[ipv6-addr:value = '2001:db8::20']"));
	assert_null(strstr(plain, "198.51.100.7")); /* AMBER, above GREEN */
	assert_null(strstr(plain, kz_tlp_stix_marking(KZ_TLP_AMBER)));
	char *again = stix(f, &o, &n);
	assert_string_equal(plain, again); /* same ids, same bytes */
	free(again);
	free(plain);

	struct kz_partner_key key = { .partner = "cert-x" };
	snprintf(key.key_id, sizeof key.key_id, "k1");
	assert_int_equal(kz_hex_decode(SAMPLE_KEY, 64, key.key, sizeof key.key), 0);
	o.tlp_max = KZ_TLP_AMBER;
	o.key = &key;
	char *ps = stix(f, &o, &n);
	assert_int_equal(n, 3);
	assert_null(strstr(ps, "198.51.100.7"));
	assert_null(strstr(ps, "203.0.113.20"));
	assert_null(strstr(ps, "2001:db8::20"));
	assert_null(strstr(ps, "\"indicator\""));
	assert_null(strstr(ps, "ipv4-addr"));
	assert_non_null(strstr(ps, KZ_STIX_PSEUDONYM_EXT));
	assert_non_null(strstr(ps, "\"key_id\":\"k1\""));
	free(ps);

	/* MISP: one event (one AS, one day), pseudonyms as text. */
	struct kz_misp_index *idx = NULL;
	char err[256];
	assert_int_equal(kz_misp_index_build(kz_store_db(f->s), &o, &idx, err, sizeof err), 0);
	assert_int_equal(idx->n, 1);
	assert_int_equal(idx->ev[0].asn, 64500);
	assert_int_equal(idx->ev[0].count, 3);
	assert_int_equal(idx->ev[0].tlp, KZ_TLP_AMBER);
	assert_ptr_equal(kz_misp_index_find(idx, idx->ev[0].uuid), &idx->ev[0]);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_int_equal(
	        kz_misp_write_event(kz_store_db(f->s), &idx->ev[0], &o, m, NULL, err, sizeof err),
	        0);
	fclose(m);
	assert_null(strstr(buf, "ip-src"));
	assert_null(strstr(buf, "198.51.100.7"));
	assert_non_null(strstr(buf, KZ_MISP_PSEUDONYM_CATEGORY));
	assert_non_null(strstr(buf, "\"tlp:amber\""));
	free(buf);
	kz_misp_index_free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keys_file, setup, teardown),
		cmocka_unit_test(test_pseudonyms),
		cmocka_unit_test_setup_teardown(test_feeds, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
