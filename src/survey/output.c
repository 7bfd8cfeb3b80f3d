/*
 * What a survey run writes: JSON Lines records (CONTRACT.md "Records": one
 * per open port, and the run's header and trailer), the plan line before
 * sending, a ZMap-like progress line, the closing summary, and the dry
 * run's probe lines. The header and trailer fields are listed in
 * docs/survey.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "encode.h"
#include "ipset.h"
#include "jsonl.h"
#include "login_record.h"
#include "login_targets.h"
#include "record.h"
#include "survey.h"

static int64_t now_sec(void)
{
	return (int64_t)time(NULL);
}

/* Ends a progress line left on the terminal by \r, so that the next
 * message starts on a line of its own. */
static void end_progress_line(struct survey_run *r)
{
	if (r->progress_dirty) {
		fputc('\n', stderr);
		r->progress_dirty = false;
	}
}

static void write_record(struct survey_run *r, json_t *rec)
{
	/* Two threads may write with stage 2 (see survey.h): whole lines, in
	 * turn. */
	pthread_mutex_lock(&r->out_mu);
	if (!r->out_error) {
		int rc = kz_jsonl_write(r->out, rec);
		/* Flushed per record: a long survey's results are on disk as they
		 * come, and a crash loses at most the record being written. */
		if (rc == 0 && r->login)
			rc = kz_jsonl_flush(r->out);
		if (rc < 0) {
			r->out_error = rc;
			end_progress_line(r);
			kz_cli_error("%s: %s", kz_jsonl_writer_name(r->out), strerror(-rc));
		}
	}
	pthread_mutex_unlock(&r->out_mu);
}

static enum kz_login_app login_app(enum kz_app app)
{
	switch (app) {
	case KZ_APP_SSH:
		return KZ_LOGIN_APP_SSH;
	case KZ_APP_HTTP:
		return KZ_LOGIN_APP_HTTP;
	case KZ_APP_TELNET:
		break;
	}
	return KZ_LOGIN_APP_TELNET;
}

/* Runs on the scan's delivery thread, one call at a time; the first
 * failure is kept and later hits are dropped, so that the trailer and the
 * exit status report it once. */
void survey_on_hit(void *ctx, const struct kz_scan_hit *hit)
{
	struct survey_run *r = ctx;
	if (r->login) {
		struct kz_login_target t = {
			.addr = hit->addr,
			.port = hit->port,
			.app = (uint8_t)login_app(r->ports[hit->port_index].app),
			.found_at = hit->time,
		};
		if (kz_login_engine_submit(r->engine, &t) == 0)
			return;
		/* Stage 2's queue is full (or the run is stopping): the port is
		 * still written, as stage 1 saw it, and counted. */
		r->unchecked++;
	}
	const char *app = kz_app_name(r->ports[hit->port_index].app);
	struct kz_record_spec spec = {
		.kind = KZ_REC_ACCESSIBLE,
		.time_observation = now_sec(),
		.time_source = hit->time,
		.run_id = r->run_id,
		.scanner_ip = r->scanner_ip,
		.addr = hit->addr,
		.port = hit->port,
		.application = app,
	};
	json_t *rec = NULL;
	const char *why = "";
	int rc = kz_record_new(&spec, &rec, &why);
	if (rc == 0 && (rc = kz_record_set_str(rec, "extra.status", "open")) == 0)
		write_record(r, rec);
	if (rc < 0 && !r->out_error) {
		r->out_error = rc;
		end_progress_line(r);
		kz_cli_error("cannot build a record: %s", rc == -EINVAL ? why : strerror(-rc));
	}
	json_decref(rec);
}

/* "23/telnet" and so on, as an array. */
static json_t *ports_array(const struct survey_run *r)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->nports; i++) {
		char b[32];
		snprintf(b, sizeof b, "%u/%s", r->ports[i].port, kz_app_name(r->ports[i].app));
		json_array_append_new(a, json_string(b));
	}
	return a;
}

/* The header goes out before the first probe and the trailer after the
 * last reply: a consumer that sees a header without a trailer knows the run
 * did not finish (nor does a trailer with extra.completed false). */
/* Stage 2's part of the header (its settings) and trailer (its counts). */
static int login_run_fields(json_t *rec, const struct survey_run *r, bool trailer,
                            const struct kz_login_engine_stats *lst)
{
	int rc;
	if ((rc = kz_record_set_bool(rec, "extra.login", r->login)) || !r->login)
		return rc;
	if ((rc = kz_record_set_str(rec, "extra.credential_list", r->creds_name)) ||
	    (rc = kz_record_set_int(rec, "extra.credential_pairs",
	                            (int64_t)kz_creds_count(r->creds))) ||
	    (rc = kz_record_set_int(rec, "extra.max_attempts", r->max_attempts)) ||
	    (rc = kz_record_set_int(rec, "extra.concurrency", r->concurrency)) ||
	    (rc = kz_record_set_bool(rec, "extra.redacted", r->redact)))
		return rc;
	if (!trailer || !lst)
		return 0;
	static const struct {
		const char *key;
		enum kz_login_status status;
	} by_status[] = {
		{ "extra.login_possible", KZ_LOGIN_POSSIBLE },
		{ "extra.no_auth", KZ_LOGIN_NO_AUTH },
		{ "extra.login_failed", KZ_LOGIN_FAILED },
		{ "extra.accepts_any", KZ_LOGIN_ACCEPTS_ANY },
		{ "extra.no_login_prompt", KZ_LOGIN_NO_PROMPT },
		{ "extra.other_protocol", KZ_LOGIN_OTHER_PROTOCOL },
		{ "extra.login_timeouts", KZ_LOGIN_TIMEOUT },
		{ "extra.login_errors", KZ_LOGIN_ERROR },
	};
	for (size_t i = 0; i < sizeof by_status / sizeof by_status[0]; i++)
		if ((rc = kz_record_set_int(rec, by_status[i].key,
		                            (int64_t)lst->by_status[by_status[i].status])))
			return rc;
	if ((rc = kz_record_set_int(rec, "extra.services_checked", (int64_t)lst->done)) ||
	    (rc = kz_record_set_int(rec, "extra.services_unchecked",
	                            (int64_t)(lst->unsupported + r->unchecked))) ||
	    (rc = kz_record_set_int(rec, "extra.services_not_started",
	                            (int64_t)lst->not_started)) ||
	    (rc = kz_record_set_int(rec, "extra.services_interrupted",
	                            (int64_t)lst->interrupted)) ||
	    (rc = kz_record_set_int(rec, "extra.login_connections", (int64_t)lst->connections)) ||
	    (rc = kz_record_set_int(rec, "extra.login_scope_refusals",
	                            (int64_t)lst->scope_refusals)))
		return rc;
	return 0;
}

int survey_write_run_record(struct survey_run *r, bool trailer, const struct kz_scan_stats *st,
                            const struct kz_login_engine_stats *lst)
{
	struct kz_record_spec spec = {
		.kind = KZ_REC_SURVEY_RUN,
		.time_observation = now_sec(),
		.time_source = trailer ? r->end : r->start,
		.run_id = r->run_id,
		.scanner_ip = r->scanner_ip,
		.run_part = trailer ? "trailer" : "header",
	};
	json_t *rec = NULL;
	const char *why = "";
	int rc = kz_record_new(&spec, &rec, &why);
	if (rc < 0) {
		kz_cli_error("cannot build the run %s: %s", spec.run_part,
		             rc == -EINVAL ? why : strerror(-rc));
		return rc;
	}
	const struct kz_scope_summary *sum = kz_scope_summary(r->scope);
	char digest[2 * KZ_IPSET_DIGEST_LEN + 1];
	kz_hex_encode(sum->digest, KZ_IPSET_DIGEST_LEN, digest);
	char seed[24], shard[48];
	snprintf(seed, sizeof seed, "%" PRIu64, r->seed);
	snprintf(shard, sizeof shard, "%" PRIu64 "/%" PRIu64, r->shard, r->shards);
	/* Addresses times ports is at most 2^62 (scan.h), so every count
	 * fits a JSON integer. */
	if ((rc = kz_record_set_str(rec, "extra.scope_digest", digest)) ||
	    (rc = login_run_fields(rec, r, trailer, lst)) ||
	    (rc = kz_record_set_str(rec, "extra.mode", r->mode)) ||
	    (rc = kz_record_set_time(rec, "extra.start", r->start)))
		goto fail;
	if (r->authorization &&
	    (rc = kz_record_set_text(rec, "extra.authorization", r->authorization,
	                             strlen(r->authorization), 4096, NULL)))
		goto fail;
	if (r->targets_mode) {
		/* No scan: the run covered the listed targets, not the scope,
		 * so no address or port list is given for coverage. */
		if ((rc = kz_record_set_int(rec, "extra.targets", (int64_t)r->targets)) ||
		    (rc = kz_record_set_int(rec, "extra.targets_outside_scope",
		                            (int64_t)r->targets_outside)) ||
		    (trailer &&
		     ((rc = kz_record_set_time(rec, "extra.end", r->end)) ||
		      (rc = kz_record_set_bool(rec, "extra.completed", lst && !lst->stopping)))))
			goto fail;
		write_record(r, rec);
		json_decref(rec);
		return r->out_error;
	}
	const struct kz_scan_plan *plan = kz_scan_plan(r->scan);
	if ((rc = kz_record_set_int(rec, "extra.addresses", (int64_t)plan->addresses)) ||
	    (rc = kz_record_set_int(rec, "extra.targets", (int64_t)plan->targets)) ||
	    (rc = kz_record_set_int(rec, "extra.shard_targets", (int64_t)plan->shard_targets)) ||
	    (rc = kz_record_set_str(rec, "extra.seed", seed)) ||
	    (rc = kz_record_set_str(rec, "extra.shard", shard)) ||
	    (rc = kz_record_set_str(rec, "extra.permutation", KZ_CYCLIC_VERSION)) ||
	    (rc = kz_record_set_int(rec, "extra.rate", (int64_t)r->rate)) ||
	    (rc = kz_record_set_int(rec, "extra.probes", r->probes)) ||
	    (rc = kz_record_set_int(rec, "extra.cooldown_ms", r->cooldown_ms)))
		goto fail;
	if (json_object_set_new(rec, "extra.ports", ports_array(r)) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	if (trailer) {
		bool completed = !st->interrupted && !(lst && lst->stopping);
		if ((rc = kz_record_set_time(rec, "extra.end", r->end)) ||
		    (rc = kz_record_set_bool(rec, "extra.completed", completed)) ||
		    (rc = kz_record_set_int(rec, "extra.targets_done",
		                            (int64_t)st->targets_done)) ||
		    (rc = kz_record_set_int(rec, "extra.sent", (int64_t)st->sent)) ||
		    (rc = kz_record_set_int(rec, "extra.replies", (int64_t)st->replies)) ||
		    (rc = kz_record_set_int(rec, "extra.open", (int64_t)st->open)) ||
		    (rc = kz_record_set_int(rec, "extra.closed", (int64_t)st->closed)) ||
		    (rc = kz_record_set_int(rec, "extra.duplicates", (int64_t)st->duplicates)) ||
		    (rc = kz_record_set_int(rec, "extra.send_drops", (int64_t)st->send_drops)) ||
		    (rc = kz_record_set_int(rec, "extra.recv_drops", (int64_t)st->recv_drops)) ||
		    (rc = kz_record_set_int(rec, "extra.timeouts", (int64_t)st->timeouts)) ||
		    (rc = kz_record_set_int(rec, "extra.errors", (int64_t)st->errors)) ||
		    (rc = kz_record_set_int(rec, "extra.scope_refusals",
		                            (int64_t)st->scope_refusals)))
			goto fail;
	}
	write_record(r, rec);
	json_decref(rec);
	return r->out_error;
fail:
	json_decref(rec);
	kz_cli_error("cannot build the run record: %s", strerror(-rc));
	return rc;
}

/* "2.6 s", "1:05" or "1:02:05". */
static void fmt_duration(double sec, char *buf, size_t len)
{
	if (sec < 0)
		sec = 0;
	if (sec < 60) {
		snprintf(buf, len, "%.1f s", sec);
		return;
	}
	uint64_t s = (uint64_t)(sec + 0.5);
	if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60,
		         s % 60);
	else
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}

/* 1234567 -> "1.23 M", for rates and counts in progress lines. */
static void fmt_si(double v, char *buf, size_t len)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.2f G", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2f M", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1f k", v / 1e3);
	else
		snprintf(buf, len, "%.0f ", v);
}

/* ZMap's progress line, in kizuki's words: elapsed, done, time left
 * (sending at the average rate so far, then the cooldown), what was sent
 * and how fast, replies, hits and hit rate, drops. */
void survey_on_progress(void *ctx, const struct kz_scan_stats *st)
{
	struct survey_run *r = ctx;
	/* With stage 2 its own callback prints one line for both stages, so
	 * that two threads never share the terminal's line. */
	if (!r->progress || r->login)
		return;
	double el = (double)st->elapsed_ns / 1e9;
	/* The average over the sending, not over the cooldown as well. */
	double span = st->sending ? el : (double)st->send_ns / 1e9;
	double avg = span > 0 ? (double)st->sent / span : 0;
	double done = st->expected ? (double)st->sent / (double)st->expected : 1;
	if (done > 1)
		done = 1;
	double left =
	        st->sending
	                ? (avg > 0 ? (double)(st->expected -
	                                      (st->sent < st->expected ? st->sent : st->expected)) /
	                                     avg
	                           : 0) +
	                          (double)r->cooldown_ms / 1000
	                : (double)st->cooldown_left_ms / 1000;
	char t_el[32], t_left[32], s_rate[32], s_sent[32];
	fmt_duration(el, t_el, sizeof t_el);
	fmt_duration(left, t_left, sizeof t_left);
	fmt_si(avg, s_rate, sizeof s_rate);
	fmt_si((double)st->sent, s_sent, sizeof s_sent);
	double hitrate = st->targets_done ? 100.0 * (double)st->open / (double)st->targets_done : 0;
	char line[256];
	snprintf(line, sizeof line,
	         "%s %3.0f%% (%s left)%s; send: %s (%sp/s avg); recv: %" PRIu64
	         " replies; hits: %" PRIu64 " (%.2f%%); drops: %" PRIu64,
	         t_el, done * 100, t_left, st->sending ? "" : " cooldown", s_sent, s_rate,
	         st->replies, st->open, hitrate, st->send_drops + st->recv_drops);
	if (r->progress_tty) {
		fprintf(stderr, "\r\033[K%s", line);
		r->progress_dirty = true;
	} else {
		fprintf(stderr, "%s: %s\n", kz_cli_name(), line);
	}
	fflush(stderr);
}

/* One dry-run line: tab-separated so that cut and sort work on it. */
int survey_on_probe(void *ctx, const struct kz_scan_probe *p)
{
	(void)ctx;
	char a[KZ_ADDR_STRLEN];
	kz_addr_format(p->addr, a);
	int n;
	if (p->has_cookie)
		n = printf("%s\t%u\t%u\t%u\t%u\n", a, p->port, p->probe, p->sport, p->seq);
	else
		n = printf("%s\t%u\t%u\t-\t-\n", a, p->port, p->probe);
	return n < 0 ? -EIO : 0;
}

void survey_print_plan(const struct survey_run *r)
{
	const struct kz_scan_plan *p = kz_scan_plan(r->scan);
	char addrs[KZ_U128_STRLEN], t_send[32], t_total[32];
	kz_u128_format(p->addresses, addrs);
	fmt_duration(p->send_seconds, t_send, sizeof t_send);
	bool syn = strcmp(r->mode, "syn") == 0;
	fmt_duration(p->send_seconds + (syn ? (double)r->cooldown_ms / 1000 : 0), t_total,
	             sizeof t_total);
	char shard[64] = "";
	if (r->shards > 1)
		snprintf(shard, sizeof shard, ", shard %" PRIu64 "/%" PRIu64 " has about %" PRIu64,
		         r->shard, r->shards, p->shard_targets);
	kz_cli_info("run %s: %s addresses x %zu ports = %" PRIu64 " targets%s; %" PRIu64
	            " %s at %" PRIu64 "/s: %s sending%s, about %s in all",
	            r->run_id, addrs, r->nports, p->targets, shard, p->packets,
	            syn ? (r->probes == 1 ? "SYN probes (1 per target)" : "SYN probes")
	                : "connection attempts",
	            r->rate, t_send,
	            syn ? " + cooldown" : " (+ up to the timeout for the last attempts)", t_total);
	char src[KZ_ADDR_STRLEN] = "the kernel's choice", mac[KZ_MAC_STRLEN] = "";
	if (r->has_scanner_ip)
		kz_addr_format(r->scanner_ip, src);
	if (syn && (p->has_mac4 || p->has_mac6))
		kz_mac_format(p->has_mac4 ? p->mac4 : p->mac6, mac);
	kz_cli_info("seed %" PRIu64 ", permutation %s (prime %" PRIu64 ", generator %" PRIu64
	            "), %s mode%s%s from %s%s%s, probes %u, cooldown %u ms",
	            r->seed, KZ_CYCLIC_VERSION, p->perm.p, p->perm.g, r->mode,
	            syn && p->ifname[0] ? " on " : "", syn ? p->ifname : "", src,
	            mac[0] ? " via " : "", mac, r->probes, r->cooldown_ms);
}

/* Two lines: what the run did, and what it lost (drops, stalls, frames
 * it could not believe), so that a short count has its explanation next
 * to it. */
void survey_print_summary(struct survey_run *r, const struct kz_scan_stats *st)
{
	end_progress_line(r);
	double send_s = (double)st->send_ns / 1e9;
	/* The rate over the sending: packets after the first batch over the
	 * time from the first batch to the last. */
	double rate = send_s > 0 ? (double)st->sent / send_s : 0;
	double hitrate = st->targets_done ? 100.0 * (double)st->open / (double)st->targets_done : 0;
	bool syn = strcmp(r->mode, "syn") == 0;
	kz_cli_info("%s in %.1f s: sent %" PRIu64 " %s in %.2f s (%.0f/s, asked %" PRIu64
	            "); replies %" PRIu64 " (%" PRIu64 " open, %" PRIu64 " closed, %" PRIu64
	            " repeated); hit rate %.2f%% of %" PRIu64 " targets",
	            st->interrupted ? "interrupted" : "done", (double)st->elapsed_ns / 1e9,
	            st->sent, syn ? "probes" : "attempts", send_s, rate, r->rate, st->replies,
	            st->open, st->closed, st->duplicates, hitrate, st->targets_done);
	if (syn)
		kz_cli_info("drops: %" PRIu64 " send (queue full), %" PRIu64
		            " capture (ring full); %" PRIu64
		            " frames without a cookie of ours (this host's other connections, "
		            "such as the login checks), %" PRIu64
		            " came from outside the scope; %" PRIu64 " packets' worth of schedule "
		            "lost to stalls",
		            st->send_drops, st->recv_drops, st->unmatched, st->outside_scope,
		            st->slipped);
	else
		kz_cli_info("%" PRIu64 " attempts timed out, %" PRIu64 " failed (unreachable or "
		            "local error)",
		            st->timeouts, st->errors);
	if (st->cooldown_cut)
		kz_cli_info("the cooldown ended early: every target probed had answered");
	if (st->scope_refusals)
		kz_cli_warn("%" PRIu64 " targets were refused by the send-time scope check",
		            st->scope_refusals);
}

/* ---- stage 2 ------------------------------------------------------------- */

void survey_on_login_result(void *ctx, const struct kz_login_report *rep)
{
	struct survey_run *r = ctx;
	struct kz_login_record_info info = {
		.run_id = r->run_id,
		.scanner_ip = r->scanner_ip,
		.creds = r->creds,
		.redact = r->redact,
		.time_observation = now_sec(),
	};
	json_t *rec = NULL;
	const char *why = "";
	int rc = kz_login_record_build(rep, &info, &rec, &why);
	if (rc < 0) {
		char buf[80];
		pthread_mutex_lock(&r->out_mu);
		end_progress_line(r);
		kz_cli_error("%s: cannot build a record: %s",
		             kz_login_target_format(rep->target, buf, sizeof buf),
		             rc == -EINVAL ? why : strerror(-rc));
		if (!r->out_error)
			r->out_error = rc;
		pthread_mutex_unlock(&r->out_mu);
		return;
	}
	write_record(r, rec);
	json_decref(rec);
}

void survey_on_login_progress(void *ctx, const struct kz_login_engine_stats *st)
{
	struct survey_run *r = ctx;
	if (!r->progress)
		return;
	char scan[96] = "";
	if (r->scan) {
		struct kz_scan_stats ss;
		kz_scan_stats(r->scan, &ss);
		double done = ss.expected ? 100.0 * (double)ss.sent / (double)ss.expected : 100;
		if (ss.sending || ss.cooldown_left_ms)
			snprintf(scan, sizeof scan, "scan %3.0f%%%s, %" PRIu64 " open; ",
			         done > 100 ? 100 : done, ss.sending ? "" : " cooldown", ss.open);
		else
			snprintf(scan, sizeof scan, "scan done, %" PRIu64 " open; ", ss.open);
	}
	/* Time left: only once nothing more can come, at the rate so far. The
	 * last services are often the slowest devices, so the estimate tends
	 * to be short near the end. */
	char left[48] = "";
	uint64_t waiting = st->queued + st->active;
	if (st->input_closed && st->done && st->elapsed_ms && waiting) {
		char t[32];
		double rate = (double)st->done / ((double)st->elapsed_ms / 1000);
		fmt_duration((double)waiting / rate, t, sizeof t);
		snprintf(left, sizeof left, ", about %s left", t);
	}
	char t_el[32];
	fmt_duration((double)st->elapsed_ms / 1000, t_el, sizeof t_el);
	char line[320];
	snprintf(line, sizeof line,
	         "%s %slogin: %" PRIu64 " done, %" PRIu64 " in flight, %" PRIu64
	         " waiting; found %" PRIu64 " (%" PRIu64 " login-possible, %" PRIu64 " no-auth)%s",
	         t_el, scan, st->done, st->active, st->queued, st->found,
	         st->by_status[KZ_LOGIN_POSSIBLE], st->by_status[KZ_LOGIN_NO_AUTH], left);
	pthread_mutex_lock(&r->out_mu);
	if (r->progress_tty) {
		fprintf(stderr, "\r\033[K%s", line);
		r->progress_dirty = true;
	} else {
		fprintf(stderr, "%s: %s\n", kz_cli_name(), line);
	}
	fflush(stderr);
	pthread_mutex_unlock(&r->out_mu);
}

void survey_print_login_summary(struct survey_run *r, const struct kz_login_engine_stats *st)
{
	end_progress_line(r);
	kz_cli_info("login %s in %.1f s: %" PRIu64 " services checked: %" PRIu64
	            " login-possible, %" PRIu64 " no-auth, %" PRIu64 " login-failed, %" PRIu64
	            " accepts-any, %" PRIu64 " no-login-prompt, %" PRIu64
	            " other protocol, %" PRIu64 " timeout, %" PRIu64 " error; %" PRIu64
	            " connections, at most %" PRIu64 " services at once",
	            st->stopping ? "interrupted" : "done", (double)st->elapsed_ms / 1000, st->done,
	            st->by_status[KZ_LOGIN_POSSIBLE], st->by_status[KZ_LOGIN_NO_AUTH],
	            st->by_status[KZ_LOGIN_FAILED], st->by_status[KZ_LOGIN_ACCEPTS_ANY],
	            st->by_status[KZ_LOGIN_NO_PROMPT], st->by_status[KZ_LOGIN_OTHER_PROTOCOL],
	            st->by_status[KZ_LOGIN_TIMEOUT], st->by_status[KZ_LOGIN_ERROR], st->connections,
	            st->peak_active);
	uint64_t unchecked = st->unsupported + r->unchecked;
	if (unchecked)
		kz_cli_info("%" PRIu64 " open ports were written without a login check (%" PRIu64
		            " with no login check for their protocol in this version, %" PRIu64
		            " refused by a full stage-2 queue)",
		            unchecked, st->unsupported, r->unchecked);
	if (st->not_started || st->interrupted)
		kz_cli_warn("stopped: %" PRIu64 " services never started, %" PRIu64
		            " abandoned (written as timeout)",
		            st->not_started, st->interrupted);
	if (st->scope_refusals)
		kz_cli_warn("%" PRIu64 " connections were refused by the scope check",
		            st->scope_refusals);
	if (r->targets_outside)
		kz_cli_warn("%" PRIu64 " targets of %s are outside the scope and were skipped",
		            r->targets_outside, "the targets file");
}
