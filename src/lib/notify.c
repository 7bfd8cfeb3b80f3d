/*
 * Notification (see notify.h and docs/reports.md).
 *
 * Each operator's report is made in memory first (open_memstream), so that
 * its SHA-256 goes into the outbox manifest and the same bytes go into the
 * mail; operators' batches are small next to the store. Mail goes through
 * libcurl's SMTP client, one connection per mail: a report a day per
 * operator does not need a pool, and a failure stays with its operator.
 */
#include "notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "encode.h"
#include "log.h"
#include "timefmt.h"
#include "uuid.h"

#define OPERATORS_MAX 1000000

int64_t kz_notify_period_start(int64_t t, int64_t period)
{
	if (period <= 0)
		period = KZ_NOTIFY_PERIOD_DEFAULT;
	int64_t q = t / period;
	if (t % period < 0)
		q--;
	return q * period;
}

/* "20261127T000000Z": a period's directory name (no ':' so that it is a
 * safe file name everywhere). */
static void stamp(int64_t t, char out[24])
{
	char iso[KZ_TIME_STRLEN];
	if (kz_time_format(t, iso) != 0) {
		snprintf(out, 24, "invalid");
		return;
	}
	size_t o = 0;
	for (const char *p = iso; *p && o < 23; p++)
		if (*p != '-' && *p != ':')
			out[o++] = *p;
	out[o] = '\0';
}

/* ---------------------------------------------------------------- mail */

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

/* Appends to the mail being built; a failed allocation is remembered and
 * reported once, at the end. */
static void bput(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->n + n + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

__attribute__((format(printf, 2, 3))) static void bprintf(struct buf *b, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		bput(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A display name for a header: quoted when it is plain printable ASCII,
 * RFC 2047 base64 otherwise. */
static void phrase(struct buf *b, const char *name)
{
	bool plain = true;
	for (const char *p = name; *p; p++)
		plain &= (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f && *p != '"' &&
		         *p != '\\';
	if (plain) {
		bprintf(b, "\"%s\"", name);
		return;
	}
	size_t n = strlen(name);
	char *enc = malloc(kz_base64_encoded_size(n));
	if (!enc) {
		b->oom = true;
		return;
	}
	kz_base64_encode((const uint8_t *)name, n, enc);
	bprintf(b, "=?UTF-8?B?%s?=", enc);
	free(enc);
}

/* RFC 5322 date, without the C library's locale. */
static void mail_date(int64_t t, char out[40])
{
	static const char *const days[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char iso[KZ_TIME_STRLEN];
	if (kz_time_format(t, iso) != 0) {
		snprintf(out, 40, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	int64_t d = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int wd = (int)(((d % 7) + 7) % 7);
	int mon = (iso[5] - '0') * 10 + (iso[6] - '0');
	snprintf(out, 40, "%s, %.2s %s %.4s %.8s +0000", days[wd], iso + 8, months[(mon - 1) % 12],
	         iso, iso + 11);
}

int kz_notify_mail(const struct kz_org *from, const struct kz_report_operator *op,
                   int64_t period_start, int64_t now, size_t findings, const char *csv,
                   size_t csvlen, const char *api_base, char **out, size_t *outlen)
{
	struct buf b = { 0 };
	char date[40], st[24], iso[KZ_TIME_STRLEN], asn[16], when[24], mid[KZ_UUID_STRLEN];
	mail_date(now, date);
	stamp(period_start, st);
	if (kz_time_format(period_start, iso) != 0)
		snprintf(iso, sizeof iso, "?");
	snprintf(asn, sizeof asn, "%u", op->asn);
	snprintf(when, sizeof when, "%lld", (long long)now);
	const char *mf[] = { "mail", asn, st, when };
	kz_uuid_kizuki(mid, 4, mf);
	bput(&b, "From: ", 6);
	phrase(&b, from->name);
	bprintf(&b, " <%s>\r\nTo: ", from->contact);
	phrase(&b, op->name[0] ? op->name : asn);
	bprintf(&b, " <%s>\r\n", op->contact);
	bprintf(&b, "Subject: [kizuki] AS%u: %zu finding%s in your network (report %s)\r\n",
	        op->asn, findings, findings == 1 ? "" : "s", iso);
	bprintf(&b, "Date: %s\r\nMessage-ID: <%s@%s>\r\n", date, mid, from->domain);
	bprintf(&b,
	        "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n"
	        "Content-Type: multipart/mixed; boundary=\"kizuki-%s\"\r\n\r\n",
	        mid);
	bprintf(&b,
	        "--kizuki-%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	        "Content-Transfer-Encoding: 8bit\r\n\r\n",
	        mid);
	bput(&b, "Hello", 5);
	if (op->name[0])
		bprintf(&b, " %s", op->name);
	bput(&b, ",\r\n\r\n", 5);
	bprintf(&b,
	        "this is %s's report for AS%u, period starting %s:\r\n"
	        "%zu finding%s in your network that %s new, reopened, or still open\r\n"
	        "since the last report. Each is a device or host that needs its owner's\r\n"
	        "attention: a default password, a login service open to the Internet,\r\n"
	        "malware scanning from it.\r\n\r\n",
	        from->name, op->asn, iso, findings, findings == 1 ? "" : "s",
	        findings == 1 ? "is" : "are");
	bprintf(&b, "The attached CSV has one line per finding, with the columns\r\n"
	            "timestamp, ip, protocol, port, hostname, tag, asn, geo, region, city,\r\n"
	            "severity, device_vendor, device_type, device_model, banner, first_seen,\r\n"
	            "last_seen, count, state, ticket.\r\n\r\n");
	bprintf(&b,
	        "To tell us what happened, reply to %s\r\n"
	        "quoting the ticket (the last column), or use the hub's API with your\r\n"
	        "operator token:\r\n"
	        "    POST %s/api/v1/findings/<finding_id>/feedback\r\n"
	        "    {\"feedback\": \"acknowledged\" | \"fixed\" | \"false-positive\"}\r\n"
	        "The same report as JSON and X-ARF: GET %s/api/v1/reports/%u.json and\r\n"
	        ".xarf.json. Findings still open are reported again after the\r\n"
	        "re-notification interval agreed with you.\r\n\r\n",
	        from->contact, api_base ? api_base : "<hub>", api_base ? api_base : "<hub>",
	        op->asn);
	bprintf(&b,
	        "--kizuki-%s\r\nContent-Type: text/csv; charset=utf-8; "
	        "name=\"AS%u-%s.csv\"\r\nContent-Disposition: attachment; "
	        "filename=\"AS%u-%s.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
	        mid, op->asn, st, op->asn, st);
	/* Base64 in lines of 76 characters (57 input bytes), RFC 2045. */
	for (size_t off = 0; off < csvlen; off += 57) {
		char line[80];
		size_t n = csvlen - off < 57 ? csvlen - off : 57;
		size_t m = kz_base64_encode((const uint8_t *)csv + off, n, line);
		bput(&b, line, m);
		bput(&b, "\r\n", 2);
	}
	bprintf(&b, "--kizuki-%s--\r\n", mid);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*outlen = b.n;
	return 0;
}

struct upload {
	const char *p;
	size_t n, off;
};

/* libcurl reads the message from memory through this. */
static size_t read_cb(char *dst, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t room = size * nitems, left = u->n - u->off;
	size_t n = left < room ? left : room;
	memcpy(dst, u->p + u->off, n);
	u->off += n;
	return n;
}

/* Sends one mail; 0 means the server accepted it (250 after DATA), which
 * is what "delivered" means for this channel. */
static int smtp_send(const char *url, const char *from, const char *to, const char *msg, size_t len,
                     char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *rcpt = NULL;
	char f[KZ_ORG_TEXT_MAX + 4], t[KZ_ORG_TEXT_MAX + 4];
	struct upload u = { msg, len, 0 };
	if (!c) {
		snprintf(err, errlen, "libcurl: cannot start");
		return -ENOMEM;
	}
	snprintf(f, sizeof f, "<%s>", from);
	snprintf(t, sizeof t, "<%s>", to);
	rcpt = curl_slist_append(rcpt, t);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, f);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	/* STARTTLS when the server offers it; smtps:// URLs are TLS anyway. */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	CURLcode cc = curl_easy_perform(c);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "SMTP %s to %s: %s", url, to, curl_easy_strerror(cc));
		return -EIO;
	}
	return 0;
}

/* -------------------------------------------------------------- outbox */

/* For the manifest: a consumer checks each file against it. */
static void sha256_hex(const char *p, size_t n, char out[65])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		out[0] = '\0';
		return;
	}
	kz_hex_encode(md, 32, out);
}

/* Writes bytes to path atomically (afile.h). */
static int put_file(const char *path, const char *p, size_t n, char *err, size_t errlen)
{
	struct kz_afile af;
	int rc = kz_afile_open(&af, path, err, errlen);
	if (rc)
		return rc;
	if (fwrite(p, 1, n, af.f) != n) {
		kz_afile_abort(&af);
		snprintf(err, errlen, "%.300s: write failed", path);
		return -EIO;
	}
	return kz_afile_commit(&af, err, errlen);
}

/* One report in memory. */
static int render(sqlite3 *db, const struct kz_report_opts *o, struct kz_idlist *ids, char **p,
                  size_t *n, size_t *count, char *err, size_t errlen)
{
	FILE *f = open_memstream(p, n);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = kz_report_write(db, o, f, ids, count, err, errlen);
	if (fclose(f) != 0 && rc == 0) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (rc) {
		free(*p);
		*p = NULL;
	}
	return rc;
}

/* Writes the three formats of one operator's report into dir and lists
 * them in files (a JSON array for the manifest). */
static int outbox_operator(sqlite3 *db, const struct kz_report_opts *base, const char *dir,
                           const char *csv, size_t csvlen, json_t *files, char *err, size_t errlen)
{
	static const enum kz_report_format fmts[] = { KZ_REPORT_CSV, KZ_REPORT_JSON,
		                                      KZ_REPORT_XARF };
	for (size_t i = 0; i < 3; i++) {
		char name[64], path[KZ_AFILE_PATH_MAX], hash[65];
		char *p = NULL;
		size_t n = 0;
		int rc;
		snprintf(name, sizeof name, "AS%u%s", base->asn, kz_report_format_ext(fmts[i]));
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (fmts[i] == KZ_REPORT_CSV) {
			rc = put_file(path, csv, csvlen, err, errlen);
			sha256_hex(csv, csvlen, hash);
			n = csvlen;
		} else {
			struct kz_report_opts o = *base;
			o.format = fmts[i];
			if ((rc = render(db, &o, NULL, &p, &n, NULL, err, errlen)) == 0) {
				rc = put_file(path, p, n, err, errlen);
				sha256_hex(p, n, hash);
			}
			free(p);
		}
		if (rc)
			return rc;
		json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:s}", "name", name,
		                                       "format", kz_report_format_name(fmts[i]),
		                                       "bytes", (json_int_t)n, "sha256", hash));
	}
	return 0;
}

/* The period's manifest.json: what was written, with hashes. A second run
 * in the same period (after a restart) adds to the reports already listed. */
static int write_manifest(const char *dir, int64_t period_start, int64_t period, int64_t now,
                          json_t *reports, char *err, size_t errlen)
{
	char path[KZ_AFILE_PATH_MAX], iso[KZ_TIME_STRLEN], gen[KZ_TIME_STRLEN];
	json_error_t je;
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	json_t *old = json_load_file(path, 0, &je);
	json_t *prev = json_object_get(old, "reports");
	json_t *all = json_array();
	if (json_is_array(prev))
		json_array_extend(all, prev);
	json_array_extend(all, reports);
	json_decref(old);
	if (kz_time_format(period_start, iso) != 0 || kz_time_format(now, gen) != 0)
		iso[0] = gen[0] = '\0';
	json_t *m =
	        json_pack("{s:s, s:s, s:I, s:s, s:o}", "format", "kizuki outbox", "period_start",
	                  iso, "period", (json_int_t)period, "generated", gen, "reports", all);
	char *text = m ? json_dumps(m, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(m);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = put_file(path, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

/* ---------------------------------------------------------------- run */

/* Operators may give a web form instead of an address: those get no mail. */
static bool is_email(const char *s)
{
	const char *at = strchr(s, '@');
	return at && at != s && at[1] && !strchr(s, ' ') && strncmp(s, "http", 4) != 0;
}

int kz_notify_run(sqlite3 *db, const struct kz_notify_config *cfg, int64_t period_start,
                  int64_t now, kz_notify_mark_fn *mark, void *mark_arg,
                  struct kz_notify_result *res, char *err, size_t errlen)
{
	struct kz_org dflt;
	const struct kz_org *org = cfg->org;
	struct kz_anon_names *anon = NULL;
	struct kz_report_operator *ops = NULL;
	size_t nops = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	json_t *reports = json_array();
	char dir[KZ_AFILE_PATH_MAX] = "";
	int64_t period = cfg->period > 0 ? cfg->period : KZ_NOTIFY_PERIOD_DEFAULT;
	int rc;
	memset(res, 0, sizeof *res);
	if (!org) {
		kz_org_default(&dflt);
		org = &dflt;
	}
	if (!reports) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* The operators first, so that no statement stays open while reports
	 * are made and sent. */
	if (sqlite3_prepare_v2(db,
	                       "SELECT asn, name, abuse_contact, renotify_sec FROM hub_operators"
	                       " ORDER BY asn",
	                       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "hub_operators: %s", sqlite3_errmsg(db));
		rc = -EIO;
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && nops < OPERATORS_MAX) {
		if (nops == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct kz_report_operator *n = reallocarray(ops, nc, sizeof *n);
			if (!n) {
				rc = SQLITE_NOMEM;
				break;
			}
			ops = n;
			cap = nc;
		}
		struct kz_report_operator *o = &ops[nops++];
		memset(o, 0, sizeof *o);
		o->asn = (uint32_t)sqlite3_column_int64(st, 0);
		snprintf(o->name, sizeof o->name, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(o->contact, sizeof o->contact, "%s",
		         (const char *)sqlite3_column_text(st, 2));
		o->renotify_sec = sqlite3_column_type(st, 3) == SQLITE_NULL
		                          ? -1
		                          : sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		snprintf(err, errlen, "hub_operators: %s", sqlite3_errmsg(db));
		rc = -EIO;
		goto done;
	}
	if ((rc = kz_anon_names_load(db, &anon, err, errlen)))
		goto done;
	if (cfg->outbox) {
		char st2[24];
		stamp(period_start, st2);
		snprintf(dir, sizeof dir, "%s/%s", cfg->outbox, st2);
	}
	for (size_t i = 0; i < nops; i++) {
		const struct kz_report_operator *op = &ops[i];
		int64_t renotify = op->renotify_sec >= 0       ? op->renotify_sec
		                   : cfg->renotify_default > 0 ? cfg->renotify_default
		                                               : KZ_NOTIFY_RENOTIFY_DEFAULT;
		struct kz_report_opts o = {
			.asn = op->asn,
			.format = KZ_REPORT_CSV,
			.since = INT64_MIN,
			.now = now,
			.redact_passwords = cfg->redact_passwords,
			.due_only = true,
			.renotify_before = now - renotify,
			.org = org,
			.operator_info = op,
			.anon = anon,
		};
		struct kz_idlist ids = { 0 };
		char *csv = NULL, e2[512];
		size_t csvlen = 0, count = 0;
		if ((rc = render(db, &o, &ids, &csv, &csvlen, &count, err, errlen))) {
			kz_idlist_clear(&ids);
			goto done;
		}
		if (count == 0) {
			free(csv);
			kz_idlist_clear(&ids);
			continue;
		}
		res->operators++;
		if (cfg->outbox) {
			json_t *files = json_array();
			int r2 = kz_mkdir(cfg->outbox, e2, sizeof e2);
			if (r2 == 0)
				r2 = kz_mkdir(dir, e2, sizeof e2);
			if (r2 == 0 && files)
				r2 = outbox_operator(db, &o, dir, csv, csvlen, files, e2,
				                     sizeof e2);
			if (r2 == 0 && files)
				r2 = mark(mark_arg, &ids, "outbox", now, e2, sizeof e2);
			if (r2 == 0 && files) {
				json_array_append_new(reports,
				                      json_pack("{s:I, s:s, s:s, s:I, s:o}", "asn",
				                                (json_int_t)op->asn, "operator",
				                                op->name, "abuse_contact",
				                                op->contact, "findings",
				                                (json_int_t)count, "files", files));
				res->delivered++;
				res->findings += ids.n;
			} else {
				json_decref(files);
				kz_err("notify: AS%u: outbox: %s", op->asn, e2);
				res->failed++;
			}
		}
		if (cfg->smtp_url && is_email(op->contact)) {
			char *mail = NULL;
			size_t mlen = 0;
			int r2 = kz_notify_mail(org, op, period_start, now, count, csv, csvlen,
			                        NULL, &mail, &mlen);
			if (r2 == 0)
				r2 = smtp_send(cfg->smtp_url, org->contact, op->contact, mail, mlen,
				               e2, sizeof e2);
			else
				snprintf(e2, sizeof e2, "out of memory");
			if (r2 == 0)
				r2 = mark(mark_arg, &ids, "smtp", now, e2, sizeof e2);
			if (r2 == 0) {
				res->delivered++;
				if (!cfg->outbox)
					res->findings += ids.n;
			} else {
				kz_err("notify: AS%u: %s", op->asn, e2);
				res->failed++;
			}
			free(mail);
		} else if (cfg->smtp_url) {
			kz_warn("notify: AS%u: abuse contact %s is not an e-mail address: not "
			        "mailed",
			        op->asn, op->contact);
		}
		free(csv);
		kz_idlist_clear(&ids);
	}
	rc = 0;
	if (cfg->outbox && json_array_size(reports) > 0) {
		char e2[512];
		if (write_manifest(dir, period_start, period, now, reports, e2, sizeof e2) != 0) {
			kz_err("notify: outbox manifest: %s", e2);
			res->failed++;
		}
	}
done:
	json_decref(reports);
	kz_anon_names_free(anon);
	free(ops);
	return rc;
}
