/*
 * The telnet login check of one service (NOTICE-style): prompt recognition,
 * the pair loop across reconnects, the control pair, and the statuses.
 *
 * How it judges (docs/telnet-login.md has the long form):
 * - Only the end of the output counts. The machine keeps the current line
 *   and the previous non-empty line (ANSI escapes and control bytes
 *   removed, the echo of what it sent removed) and classifies the end:
 *   username prompt, password prompt, shell prompt, or nothing. A '#' in a
 *   banner line that is followed by a line break is never at the end, so it
 *   never counts.
 * - It acts on a prompt only after a quiet period (no data for quiet_ms), so
 *   a prompt arriving in pieces or a banner still being printed is never
 *   half-read; success needs a longer quiet (success_quiet_ms), no-auth a
 *   longer one still.
 * - "Fresh": after a credential is sent, the lines that were already there
 *   are stale; a prompt counts only if at least part of it arrived after
 *   the send. So the old "Password: " line is never a re-prompt.
 * - Success is a shell prompt at the end after the credentials; failure is
 *   a re-prompt, a close, a failure message followed by silence, or no shell
 *   prompt by the deadline (silent failure). The first apparent success is
 *   confirmed with a random control pair on a fresh connection, because the
 *   control pair is the one check that does not depend on recognising a
 *   device's messages: a device that accepts anything is accepts-any, never
 *   weak credentials.
 * - After a login that appears to succeed nothing at all is sent: the
 *   caller closes. Not even "exit": any input to a shell is a command.
 *
 * Invariants: no allocation; every buffer has a fixed cap; every wait has a
 * deadline (the machine always returns one in the future); the only bytes
 * it ever queues are telnet replies (telnet.c), one bare CR LF (the nudge,
 * before any prompt), and credential lines from the caller's list or the
 * control pair.
 */
#include "telnet_login.h"
#include "splitmix.h"

#include <errno.h>
#include <string.h>

enum phase {
	PH_IDLE = 0,
	PH_CONNECT,
	PH_PROMPT,     /* connected, waiting for a prompt to answer */
	PH_AFTER_USER, /* username sent, waiting for the password prompt */
	PH_AFTER_PASS, /* password sent, waiting for the judgement */
	PH_DONE,
};

enum role {
	ROLE_CANDIDATE = 0, /* trying the caller's pairs */
	ROLE_CONTROL,       /* confirming an apparent success with a wrong pair */
};

enum mode {
	MODE_UNKNOWN = 0,
	MODE_USER_PASS, /* the device asks a username, then a password */
	MODE_PASS_ONLY, /* the device asks a password and no username */
};

enum tail {
	TAIL_NONE = 0,
	TAIL_USER,
	TAIL_PASS,
	TAIL_SHELL,
};

/* What to do after an attempt failed. */
enum next_move {
	MOVE_RECONNECT,
	MOVE_USER, /* a username prompt is showing: next pair on this connection */
	MOVE_PASS, /* a password prompt is showing on a password-only device */
};

enum esc_state {
	ESC_NONE = 0,
	ESC_START, /* after ESC */
	ESC_CSI,   /* ESC [ ... final byte */
	ESC_OSC,   /* ESC ] ... BEL or ESC \ */
	ESC_OSC_ESC,
	ESC_ONE, /* ESC intermediate: one more byte */
};

/* Bytes examined on the first connection to tell telnet from other protocols. */
#define PROTO_SAMPLE 512
/* Escape sequences longer than this are cut (a hostile stream cannot hide
 * the rest of the output inside one). */
#define ESC_MAX 64

/* ---- text helpers ------------------------------------------------------ */

static uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

static bool is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(uint8_t c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/* A line made comparable: lower-case ASCII, no leading or trailing blanks. */
struct text {
	char s[KZ_TELNET_LOGIN_LINE_MAX + 1];
	size_t n;
};

static void normalise(const uint8_t *l, size_t n, struct text *t)
{
	size_t a = 0, b = n;
	while (a < b && (l[a] == ' ' || l[a] == '\t'))
		a++;
	while (b > a && (l[b - 1] == ' ' || l[b - 1] == '\t'))
		b--;
	t->n = b - a;
	for (size_t i = 0; i < t->n; i++)
		t->s[i] = (char)ascii_lower(l[a + i]);
	t->s[t->n] = '\0';
}

static bool has(const struct text *t, const char *needle)
{
	return memmem(t->s, t->n, needle, strlen(needle)) != NULL;
}

static bool has_any(const struct text *t, const char *const *needles, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (has(t, needles[i]))
			return true;
	return false;
}

/* Does s[0..end) end with kw, and (if boundary) is kw a whole word there? */
static bool ends_with_word(const struct text *t, size_t end, const char *kw, bool boundary)
{
	size_t k = strlen(kw);
	if (k > end || memcmp(t->s + end - k, kw, k) != 0)
		return false;
	return !boundary || end == k || !is_alpha((uint8_t)t->s[end - k - 1]);
}

/* End of the text before its final character, blanks before it skipped. */
static size_t body_end(const struct text *t)
{
	size_t end = t->n - 1;
	while (end > 0 && t->s[end - 1] == ' ')
		end--;
	return end;
}

/* "login:", "(none) login:", "Login as:", "Username:", "User Name:",
 * "UserName:", "user:", "Login ID:", "Account:", "Username>" ... */
static bool is_user_prompt(const struct text *t)
{
	static const struct {
		const char *kw;
		bool boundary; /* short words must stand alone ("hostname:" is no prompt) */
		bool angle;    /* may end in '>' as well as ':' */
	} kws[] = {
		{ "login", false, true },       { "login as", false, false },
		{ "username", false, true },    { "user name", false, false },
		{ "userid", false, false },     { "user id", false, false },
		{ "login name", false, false }, { "login id", false, false },
		{ "user", true, true },         { "account", true, false },
		{ "name", true, false },
	};
	if (t->n < 2)
		return false;
	char last = t->s[t->n - 1];
	if (last != ':' && last != '>')
		return false;
	/* "Last login: Tue ..." cut at the colon is a MOTD, not a prompt. */
	if (has(t, "pass") || has(t, "last login"))
		return false;
	size_t end = body_end(t);
	for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++) {
		if (last == '>' && !kws[i].angle)
			continue;
		if (ends_with_word(t, end, kws[i].kw, kws[i].boundary))
			return true;
	}
	return false;
}

/* "Password:", "password for root:", "PassWord:", "passwd:", "Pass:",
 * "PIN:" ... but not a failure line or a password-change prompt. */
static bool is_pass_prompt(const struct text *t)
{
	static const char *const not_a_prompt[] = {
		"incorrect", "invalid", "wrong", "bad ",   "fail",    "error", "denied",
		"expired",   "new ",    "old ",  "retype", "confirm", "again",
	};
	static const char *const words[] = { "password", "passwd", "passcode", "passphrase",
		                             "pass phrase" };
	if (t->n < 2)
		return false;
	char last = t->s[t->n - 1];
	if (last != ':' && last != '>')
		return false;
	if (has_any(t, not_a_prompt, sizeof not_a_prompt / sizeof not_a_prompt[0]))
		return false;
	if (has_any(t, words, sizeof words / sizeof words[0]))
		return true;
	size_t end = body_end(t);
	return ends_with_word(t, end, "pass", true) || ends_with_word(t, end, "pw", true) ||
	       ends_with_word(t, end, "pwd", true) || ends_with_word(t, end, "pin", true);
}

/* A shell or CLI prompt: "# ", "$ ", "> ", "~ # ", "[admin@host ~]$ ",
 * "root@OpenWrt:~# ", "RouterOS> ", "<HUAWEI>", "WAP>" ... and not a
 * decorated banner line ("#####", "# Welcome #", "-->"), markup, or a line
 * that talks about logging in. */
static bool is_shell_prompt(const struct text *t)
{
	static const char *const words[] = {
		"login",   "password", "passwd", "username", "user name", "incorrect",
		"invalid", "denied",   "fail",   "error",    "press ",    "</",
		"<html",   "<body",    "<!",     "http",
	};
	if (t->n == 0 || t->n > 64)
		return false;
	char c = t->s[t->n - 1];
	if (c != '#' && c != '$' && c != '>' && c != '%')
		return false;
	if (has_any(t, words, sizeof words / sizeof words[0]))
		return false;
	bool alnum = false;
	for (size_t i = 0; i < t->n; i++)
		alnum = alnum || is_alnum((uint8_t)t->s[i]);
	if (!alnum) {
		/* Only the bare forms: "#", "$", ">", "%", "~ #", "/ #", "~$" ... */
		char compact[3];
		size_t k = 0;
		for (size_t i = 0; i < t->n; i++) {
			if (t->s[i] == ' ')
				continue;
			if (k == sizeof compact)
				return false;
			compact[k++] = t->s[i];
		}
		return k == 1 || (k == 2 && (compact[0] == '~' || compact[0] == '/'));
	}
	size_t end = body_end(t);
	if (end > 0) {
		char p = t->s[end - 1];
		if (p == c || p == '-' || p == '=')
			return false;
	}
	if (t->s[0] == c)
		return false;
	for (size_t i = 2; i < t->n; i++) {
		char a = t->s[i];
		if (a == t->s[i - 1] && a == t->s[i - 2] && a != ' ' && !is_alnum((uint8_t)a))
			return false;
	}
	return true;
}

static bool is_failure_line(const struct text *t)
{
	static const char *const words[] = {
		"incorrect",   "invalid",      "denied",   "fail",      "wrong",        "error",
		"not allowed", "unauthorized", "rejected", "try again", "bad password",
	};
	return has_any(t, words, sizeof words / sizeof words[0]);
}

/* C0 controls that text terminals do not use: their presence marks binary.
 * NUL, BEL, BS, TAB, LF, VT, FF, CR, SO, SI and ESC are left out. */
static bool is_binary_byte(uint8_t b)
{
	return (b >= 0x01 && b <= 0x06) || (b >= 0x10 && b <= 0x1a) || (b >= 0x1c && b <= 0x1f) ||
	       b == 0x7f;
}

/* ---- the output line window -------------------------------------------- */

static void classify_completed_line(struct kz_telnet_login *m)
{
	struct text t;
	normalise(m->line, m->line_len, &t);
	if (t.n == 0)
		return;
	if (is_user_prompt(&t)) {
		m->conn_user_prompt_seen = true;
		m->conn_prompt_seen = true;
	} else if (is_pass_prompt(&t)) {
		m->conn_prompt_seen = true;
	}
	if (m->line_fresh && m->conn_sent && is_failure_line(&t))
		m->fail_msg = true;
}

static void line_break(struct kz_telnet_login *m)
{
	struct text t;
	normalise(m->line, m->line_len, &t);
	if (t.n > 0) {
		classify_completed_line(m);
		memcpy(m->prev, m->line, m->line_len);
		m->prev_len = m->line_len;
		m->prev_long = m->line_long;
		m->prev_fresh = m->line_fresh;
	}
	m->line_len = 0;
	m->line_long = false;
	/* The new line began now: if that is after the last send, it is fresh. */
	m->line_fresh = true;
}

static void line_push(struct kz_telnet_login *m, uint8_t b)
{
	if (m->line_len == KZ_TELNET_LOGIN_LINE_MAX) {
		/* Keep the end of a long line: a prompt is at the end. */
		memmove(m->line, m->line + KZ_TELNET_LOGIN_LINE_MAX / 2,
		        KZ_TELNET_LOGIN_LINE_MAX / 2);
		m->line_len = KZ_TELNET_LOGIN_LINE_MAX / 2;
		m->line_long = true;
	}
	m->line[m->line_len++] = b;
	m->line_fresh = true;
}

/* Swallows ANSI escape sequences; returns true while inside one. */
static bool in_escape(struct kz_telnet_login *m, uint8_t b)
{
	if (m->esc == ESC_NONE) {
		if (b != 0x1b)
			return false;
		m->esc = ESC_START;
		m->esc_len = 0;
		return true;
	}
	if (b == '\r' || b == '\n') {
		/* A line break ends a malformed sequence and still counts. */
		m->esc = ESC_NONE;
		return false;
	}
	if (++m->esc_len > ESC_MAX) {
		m->esc = ESC_NONE;
		return true;
	}
	switch (m->esc) {
	case ESC_START:
		if (b == '[')
			m->esc = ESC_CSI;
		else if (b == ']')
			m->esc = ESC_OSC;
		else if (b >= 0x20 && b <= 0x2f)
			m->esc = ESC_ONE;
		else
			m->esc = ESC_NONE;
		break;
	case ESC_CSI:
		if (b >= 0x40 && b <= 0x7e)
			m->esc = ESC_NONE;
		break;
	case ESC_OSC:
		if (b == 0x07)
			m->esc = ESC_NONE;
		else if (b == 0x1b)
			m->esc = ESC_OSC_ESC;
		break;
	default:
		m->esc = ESC_NONE;
		break;
	}
	return true;
}

/* One data byte (telnet commands already removed) from the server. */
static void take_byte(struct kz_telnet_login *m, uint8_t b)
{
	m->rx_since_send++;
	if (m->banner_open) {
		m->banner_seen++;
		if (m->banner_len < sizeof m->banner)
			m->banner[m->banner_len++] = b;
	}
	if (m->first_conn && m->examined < PROTO_SAMPLE) {
		m->examined++;
		if (is_binary_byte(b))
			m->controls++;
	}
	if (m->echo) {
		/* The device echoing what we typed (or '*' per character) is not
		 * output to judge: a password ending in '#' must not look like a
		 * shell prompt. The echo ends at the first byte that differs. */
		if (b == m->echo[m->echo_pos] || b == '*') {
			if (++m->echo_pos == m->echo_len)
				m->echo = NULL;
			return;
		}
		m->echo = NULL;
	}
	if (in_escape(m, b))
		return;
	if (b == '\r' || b == '\n') {
		line_break(m);
		return;
	}
	if (b == '\t') {
		line_push(m, ' ');
		return;
	}
	if (b < 0x20 || b == 0x7f)
		return;
	line_push(m, b);
}

/* What the end of the output is, counting only output that arrived since
 * the last credential was sent. */
static enum tail classify_tail(struct kz_telnet_login *m)
{
	struct text t;
	normalise(m->line, m->line_len, &t);
	if (t.n > 0) {
		if (!m->line_fresh)
			return TAIL_NONE;
		if (is_user_prompt(&t))
			return TAIL_USER;
		if (is_pass_prompt(&t))
			return TAIL_PASS;
		if (!m->line_long && is_shell_prompt(&t))
			return TAIL_SHELL;
		return TAIL_NONE;
	}
	/* A prompt followed by a line break ("Password:\r\n") still asks. */
	if (m->prev_len == 0 || !m->prev_fresh)
		return TAIL_NONE;
	normalise(m->prev, m->prev_len, &t);
	if (is_user_prompt(&t))
		return TAIL_USER;
	if (is_pass_prompt(&t))
		return TAIL_PASS;
	return TAIL_NONE;
}

/* A failure message since the last send: on a completed line, or still the
 * end of the output ("Login incorrect" and no newline). */
static bool failure_seen(struct kz_telnet_login *m)
{
	if (m->fail_msg)
		return true;
	if (!m->line_fresh || m->line_len == 0)
		return false;
	struct text t;
	normalise(m->line, m->line_len, &t);
	return is_failure_line(&t);
}

static void keep_evidence(struct kz_telnet_login *m)
{
	size_t n = 0;
	if (m->prev_len) {
		memcpy(m->evidence, m->prev, m->prev_len);
		n = m->prev_len;
		m->evidence[n++] = '\n';
	}
	memcpy(m->evidence + n, m->line, m->line_len);
	m->evidence_len = n + m->line_len;
}

enum kz_telnet_prompt kz_telnet_prompt_kind(const uint8_t *line, size_t len)
{
	struct text t;
	if (len > KZ_TELNET_LOGIN_LINE_MAX)
		return KZ_TELNET_PROMPT_NONE;
	normalise(line, len, &t);
	if (is_user_prompt(&t))
		return KZ_TELNET_PROMPT_USER;
	if (is_pass_prompt(&t))
		return KZ_TELNET_PROMPT_PASS;
	if (is_shell_prompt(&t))
		return KZ_TELNET_PROMPT_SHELL;
	return KZ_TELNET_PROMPT_NONE;
}

/* ---- output ------------------------------------------------------------ */

static void discard_output(struct kz_telnet_login *m)
{
	explicit_bzero(m->out, m->out_len);
	m->out_len = 0;
}

static int queue_line(struct kz_telnet_login *m, const char *s)
{
	size_t len = strlen(s), w;
	if (KZ_TELNET_LOGIN_OUT_MAX - m->out_len < 2)
		return -ENOSPC;
	int rc = kz_telnet_escape((const uint8_t *)s, len, m->out + m->out_len,
	                          KZ_TELNET_LOGIN_OUT_MAX - m->out_len - 2, &w);
	if (rc != 0)
		return rc;
	m->out_len += w;
	m->out[m->out_len++] = '\r';
	m->out[m->out_len++] = '\n';
	return 0;
}

/* ---- steps and endings ------------------------------------------------- */

static struct kz_login_step step_io(const struct kz_telnet_login *m, uint64_t deadline)
{
	struct kz_login_step s = { .want = KZ_LOGIN_WANT_IO,
		                   .deadline = deadline,
		                   .send_len = m->out_len };
	return s;
}

static struct kz_login_step step_connect(const struct kz_telnet_login *m)
{
	struct kz_login_step s = { .want = KZ_LOGIN_WANT_CONNECT,
		                   .at = m->connect_at,
		                   .deadline = m->phase_deadline };
	return s;
}

static struct kz_login_step step_done(void)
{
	struct kz_login_step s = { .want = KZ_LOGIN_WANT_DONE };
	return s;
}

static struct kz_login_step finish(struct kz_telnet_login *m, enum kz_login_status status,
                                   const char *reason)
{
	discard_output(m);
	m->echo = NULL;
	m->banner_open = false;
	m->phase = PH_DONE;
	struct kz_telnet_login_result *r = &m->res;
	r->status = status;
	r->reason = reason;
	r->pair = status == KZ_LOGIN_POSSIBLE ? m->success : -1;
	r->password_asked = status == KZ_LOGIN_POSSIBLE && m->success_pw_asked;
	r->attempts = m->attempts;
	r->connections = m->connections;
	r->banner = m->banner;
	r->banner_len = m->banner_len;
	r->banner_seen = m->banner_seen;
	r->evidence = m->evidence;
	r->evidence_len = m->evidence_len;
	return step_done();
}

/* Ran out of time or connections before the pair list: we cannot say that
 * no pair works, so this is a timeout, not login-failed (which would mark a
 * notified finding remediated). */
static struct kz_login_step finish_incomplete(struct kz_telnet_login *m, const char *reason)
{
	return finish(m, m->role == ROLE_CONTROL ? KZ_LOGIN_ERROR : KZ_LOGIN_TIMEOUT, reason);
}

static unsigned connection_cap(const struct kz_telnet_login *m)
{
	if (m->p.max_connections)
		return m->p.max_connections;
	size_t pairs = m->p.max_attempts ? m->p.max_attempts : m->ordered ? m->norder : m->p.ncreds;
	return pairs > 65535 ? 65535u + 16 : (unsigned)pairs + 16;
}

static struct kz_login_step reconnect(struct kz_telnet_login *m, uint64_t now, uint64_t pause)
{
	if (m->connections >= connection_cap(m))
		return finish_incomplete(m, "connection limit reached");
	discard_output(m);
	m->echo = NULL;
	m->banner_open = false;
	m->phase = PH_CONNECT;
	m->connect_at = now + pause;
	m->phase_deadline = m->connect_at + m->p.connect_ms;
	return step_connect(m);
}

/* The control connection told us nothing (no prompt, refused, closed): try
 * again a little later, then give up without a verdict. */
static struct kz_login_step control_inconclusive(struct kz_telnet_login *m, uint64_t now,
                                                 const char *reason)
{
	if (++m->control_tries > m->p.control_retries)
		return finish(m, KZ_LOGIN_ERROR, reason);
	return reconnect(m, now, (uint64_t)m->p.reconnect_ms << m->control_tries);
}

/* ---- the pair list ----------------------------------------------------- */

static void ensure_order(struct kz_telnet_login *m)
{
	if (m->ordered)
		return;
	m->ordered = true;
	m->order = NULL;
	m->norder = m->p.ncreds;
	if (m->p.order) {
		const uint32_t *order = NULL;
		size_t n = m->p.order(m->p.order_ctx, m->banner, m->banner_len, &order);
		if (order) {
			m->order = order;
			m->norder = n;
		}
	}
}

static uint32_t order_at(const struct kz_telnet_login *m, size_t pos)
{
	return m->order ? m->order[pos] : (uint32_t)pos;
}

static bool cred_usable(const struct kz_login_cred *c)
{
	return c->user && c->pass && strlen(c->user) <= KZ_TELNET_LOGIN_CRED_MAX &&
	       strlen(c->pass) <= KZ_TELNET_LOGIN_CRED_MAX;
}

/* On a password-only device a password already tried is not tried again
 * under another pair's user. */
static bool password_repeated(const struct kz_telnet_login *m, size_t pos)
{
	const char *pass = m->p.creds[order_at(m, pos)].pass;
	for (size_t j = 0; j < pos; j++) {
		uint32_t idx = order_at(m, j);
		if (idx < m->p.ncreds && cred_usable(&m->p.creds[idx]) &&
		    strcmp(m->p.creds[idx].pass, pass) == 0)
			return true;
	}
	return false;
}

/* The next pair to try in this mode, or -1 when the list (or the attempt
 * cap) is exhausted. Advances the position unless peeking. */
static int next_pair(struct kz_telnet_login *m, enum mode mode, bool peek)
{
	size_t pos = m->next;
	int found = -1;
	while (pos < m->norder) {
		if (m->p.max_attempts && m->attempts >= m->p.max_attempts)
			break;
		size_t here = pos++;
		uint32_t idx = order_at(m, here);
		if (idx >= m->p.ncreds || !cred_usable(&m->p.creds[idx]))
			continue;
		if (mode == MODE_USER_PASS && m->p.creds[idx].user[0] == '\0')
			continue;
		if (mode == MODE_PASS_ONLY && password_repeated(m, here))
			continue;
		found = (int)idx;
		break;
	}
	if (!peek)
		m->next = pos;
	return found;
}

static struct kz_login_step exhausted(struct kz_telnet_login *m)
{
	m->res.exhausted = true;
	return finish(m, KZ_LOGIN_FAILED, "no pair in the list logged in");
}

/* ---- sending credentials ----------------------------------------------- */

static void mark_sent(struct kz_telnet_login *m, const char *cred, uint64_t now)
{
	/* What is on screen now is stale: only what comes back counts. */
	m->line_fresh = false;
	m->prev_fresh = false;
	m->fail_msg = false;
	m->rx_since_send = 0;
	m->conn_sent = true;
	m->banner_open = false;
	m->last_rx = now;
	size_t n = strlen(cred);
	m->echo = n ? (const uint8_t *)cred : NULL;
	m->echo_len = (uint16_t)n;
	m->echo_pos = 0;
}

static struct kz_login_step send_cred(struct kz_telnet_login *m, const char *cred, bool is_pass,
                                      uint64_t now)
{
	if (queue_line(m, cred) != 0)
		return finish(m, KZ_LOGIN_ERROR, "output not drained by the caller");
	mark_sent(m, cred, now);
	m->phase = is_pass ? PH_AFTER_PASS : PH_AFTER_USER;
	m->phase_deadline = now + (is_pass ? m->p.pass_ms : m->p.user_ms);
	return step_io(m, m->phase_deadline);
}

static struct kz_login_step on_user_prompt(struct kz_telnet_login *m, uint64_t now)
{
	m->ever_prompt = true;
	m->promptless = 0;
	m->conn_prompt_seen = true;
	m->conn_user_prompt_seen = true;
	if (m->role == ROLE_CONTROL)
		return send_cred(m, m->cuser, false, now);
	ensure_order(m);
	m->mode = MODE_USER_PASS;
	int idx = next_pair(m, MODE_USER_PASS, false);
	if (idx < 0)
		return exhausted(m);
	m->cur = idx;
	m->attempts++;
	return send_cred(m, m->p.creds[idx].user, false, now);
}

static struct kz_login_step on_pass_prompt(struct kz_telnet_login *m, uint64_t now)
{
	m->ever_prompt = true;
	m->promptless = 0;
	m->conn_prompt_seen = true;
	if (m->nudged && m->conn_user_prompt_seen && !m->conn_sent) {
		/* Our nudge reached a username prompt as an empty user and the
		 * device moved on to the password: start again without nudging. */
		m->no_nudge = true;
		return reconnect(m, now, m->p.reconnect_ms);
	}
	if (m->role == ROLE_CONTROL)
		return send_cred(m, m->cpass, true, now);
	ensure_order(m);
	m->mode = MODE_PASS_ONLY;
	m->res.password_only = true;
	int idx = next_pair(m, MODE_PASS_ONLY, false);
	if (idx < 0)
		return exhausted(m);
	m->cur = idx;
	m->attempts++;
	return send_cred(m, m->p.creds[idx].pass, true, now);
}

/* ---- judgements -------------------------------------------------------- */

static struct kz_login_step apparent_success(struct kz_telnet_login *m, uint64_t now)
{
	keep_evidence(m);
	m->stalls = 0;
	if (m->role == ROLE_CONTROL)
		return finish(m, KZ_LOGIN_ACCEPTS_ANY, "a random control pair logged in too");
	m->success = m->cur;
	m->success_pw_asked = m->phase == PH_AFTER_PASS;
	m->role = ROLE_CONTROL;
	m->control_tries = 0;
	/* Send nothing more on this connection: the caller closes it. */
	return reconnect(m, now, m->p.reconnect_ms);
}

static struct kz_login_step attempt_failed(struct kz_telnet_login *m, uint64_t now,
                                           enum next_move move, bool timed_out)
{
	if (m->role == ROLE_CONTROL)
		return finish(m, KZ_LOGIN_POSSIBLE,
		              "the pair logged in and a random control pair did not");
	m->cur = -1;
	if (timed_out && m->rx_since_send == 0) {
		/* Not even an echo or a newline back: a device that stalls after
		 * credentials would otherwise cost a full timeout per pair. */
		if (++m->stalls >= m->p.stall_limit && m->p.stall_limit)
			return finish_incomplete(m, "the device stops answering after credentials");
	} else {
		m->stalls = 0;
	}
	switch (move) {
	case MOVE_USER:
		return on_user_prompt(m, now);
	case MOVE_PASS:
		return on_pass_prompt(m, now);
	case MOVE_RECONNECT:
	default:
		break;
	}
	if (next_pair(m, m->mode, true) < 0)
		return exhausted(m);
	return reconnect(m, now, m->p.reconnect_ms);
}

/* Is the first connection another protocol? final: the connection ended,
 * so a short sample is all there will be. */
static bool other_protocol(const struct kz_telnet_login *m, bool final)
{
	const uint8_t *b = m->banner;
	if (m->banner_len >= 4 && memcmp(b, "SSH-", 4) == 0)
		return true;
	if (m->banner_len >= 5 && (memcmp(b, "HTTP/", 5) == 0 || memcmp(b, "RTSP/", 5) == 0))
		return true;
	if (m->saw_telnet)
		return false;
	bool binary = (m->controls >= 3 && (unsigned)m->controls * 8 >= m->examined) ||
	              m->bad_commands >= 2;
	return binary && (final || m->examined >= 32);
}

/* The connection ended (closed or timed out) before any prompt on it. */
static struct kz_login_step lost_before_prompt(struct kz_telnet_login *m, uint64_t now,
                                               bool timed_out)
{
	if (m->role == ROLE_CONTROL)
		return control_inconclusive(m, now, "the control connection showed no prompt");
	if (!m->ever_prompt && other_protocol(m, true))
		return finish(m, KZ_LOGIN_OTHER_PROTOCOL, "another protocol answered");
	if (m->ever_prompt) {
		/* A device that gave prompts before (lockout, slow restart). */
		if (++m->promptless > m->p.reconnect_retries)
			return finish_incomplete(m, "no prompt on reconnecting");
		return reconnect(m, now, (uint64_t)m->p.reconnect_ms << m->promptless);
	}
	if (timed_out)
		return finish(m, m->ever_data ? KZ_LOGIN_NO_PROMPT : KZ_LOGIN_TIMEOUT,
		              m->ever_data ? "output but no login prompt" : "nothing received");
	if (++m->promptless <= m->p.reconnect_retries)
		return reconnect(m, now, (uint64_t)m->p.reconnect_ms << m->promptless);
	return finish(m, m->ever_data ? KZ_LOGIN_NO_PROMPT : KZ_LOGIN_ERROR,
	              "closed before any prompt");
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Decides what the output and the time mean; the heart of the machine. */
static struct kz_login_step evaluate(struct kz_telnet_login *m, uint64_t now)
{
	switch (m->phase) {
	case PH_DONE:
		return step_done();
	case PH_IDLE:
		return finish(m, KZ_LOGIN_ERROR, "not started");
	case PH_CONNECT:
		if (now >= m->phase_deadline)
			return kz_telnet_login_connect_failed(m, -ETIMEDOUT, now);
		return step_connect(m);
	default:
		break;
	}
	if (m->role == ROLE_CANDIDATE && m->budget_end && now >= m->budget_end)
		return finish_incomplete(m, "device time budget spent");

	enum tail t = classify_tail(m);
	uint64_t quiet = now > m->last_rx ? now - m->last_rx : 0;
	bool prompt_phase = m->phase == PH_PROMPT;
	/* The silence a recognised end of output needs before we act on it;
	 * 0 when the end of the output asks for nothing. */
	uint64_t need = 0;
	if (t == TAIL_USER || t == TAIL_PASS) {
		need = m->p.quiet_ms;
	} else if (t == TAIL_SHELL) {
		if (!prompt_phase)
			need = m->p.success_quiet_ms;
		else if (!m->conn_prompt_seen && !m->conn_sent)
			need = m->p.noauth_quiet_ms;
	}
	if (prompt_phase && (t == TAIL_USER || t == TAIL_PASS))
		m->conn_prompt_seen = true;

	if (need && quiet >= need) {
		switch (t) {
		case TAIL_USER:
			if (prompt_phase)
				return on_user_prompt(m, now);
			return attempt_failed(m, now, MOVE_USER, false);
		case TAIL_PASS:
			if (prompt_phase)
				return on_pass_prompt(m, now);
			if (m->phase == PH_AFTER_USER)
				return send_cred(m,
				                 m->role == ROLE_CONTROL ? m->cpass
				                                         : m->p.creds[m->cur].pass,
				                 true, now);
			/* A password prompt again: on a password-only device the next
			 * password goes here; otherwise the device asks again for the
			 * same user, and the next pair's password must not be credited
			 * to this pair's user. Reconnect. */
			return attempt_failed(
			        m, now, m->mode == MODE_PASS_ONLY ? MOVE_PASS : MOVE_RECONNECT,
			        false);
		case TAIL_SHELL:
			if (!prompt_phase)
				return apparent_success(m, now);
			if (m->role == ROLE_CONTROL)
				return control_inconclusive(
				        m, now, "the control connection gave a shell unasked");
			keep_evidence(m);
			return finish(m, KZ_LOGIN_NO_AUTH,
			              "a shell prompt with no credential asked");
		default:
			break;
		}
	}
	bool failing = !prompt_phase && t == TAIL_NONE && failure_seen(m);
	if (failing && quiet >= m->p.fail_quiet_ms)
		return attempt_failed(m, now, MOVE_RECONNECT, false);

	/* A prompt still settling gets its quiet period past the deadline. */
	uint64_t hard = m->phase_deadline + need;
	if (now >= hard)
		return prompt_phase ? lost_before_prompt(m, now, true)
		                    : attempt_failed(m, now, MOVE_RECONNECT, true);

	uint64_t wake = hard;
	if (need)
		wake = min_u64(wake, m->last_rx + need);
	if (m->role == ROLE_CANDIDATE && m->budget_end)
		wake = min_u64(wake, m->budget_end);
	if (failing)
		wake = min_u64(wake, m->last_rx + m->p.fail_quiet_ms);
	if (prompt_phase && t == TAIL_NONE && !m->nudged && !m->no_nudge) {
		if (quiet >= m->p.nudge_ms) {
			/* One empty line, for devices that wait for RETURN before they
			 * show a prompt and for servers that answer only once they
			 * have read something (HTTP, TLS). */
			if (KZ_TELNET_LOGIN_OUT_MAX - m->out_len >= 2) {
				m->out[m->out_len++] = '\r';
				m->out[m->out_len++] = '\n';
			}
			m->nudged = true;
		} else {
			wake = min_u64(wake, m->last_rx + m->p.nudge_ms);
		}
	}
	if (wake <= now)
		wake = now + 1;
	return step_io(m, wake);
}

/* ---- the public calls -------------------------------------------------- */

void kz_telnet_login_defaults(struct kz_telnet_login_params *p)
{
	memset(p, 0, sizeof *p);
	p->connect_ms = 5000;
	p->prompt_ms = 15000;
	p->nudge_ms = 5000;
	p->user_ms = 10000;
	p->pass_ms = 10000;
	p->quiet_ms = 500;
	p->success_quiet_ms = 3000;
	p->noauth_quiet_ms = 4000;
	p->fail_quiet_ms = 4000;
	p->reconnect_ms = 500;
	p->reconnect_retries = 3;
	p->control_retries = 2;
	p->stall_limit = 3;
	p->budget_ms = 0;
	p->max_conn_bytes = 2u << 20;
	p->max_connections = 0;
}

int kz_telnet_login_init(struct kz_telnet_login *m, const struct kz_telnet_login_params *p)
{
	if (!p || (p->ncreds && !p->creds) || p->ncreds > INT32_MAX)
		return -EINVAL;
	memset(m, 0, sizeof *m);
	m->p = *p;
	m->phase = PH_IDLE;
	m->cur = -1;
	m->success = -1;
	m->res.pair = -1;
	m->res.status = KZ_LOGIN_PENDING;
	m->res.reason = "not finished";
	static const char lower[] = "abcdefghijklmnopqrstuvwxyz";
	static const char alnum[] =
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint64_t s = p->control_seed;
	kz_splitmix_text(&s, m->cuser, sizeof m->cuser - 1, lower);
	kz_splitmix_text(&s, m->cpass, sizeof m->cpass - 1, alnum);
	return 0;
}

struct kz_login_step kz_telnet_login_start(struct kz_telnet_login *m, uint64_t now)
{
	if (m->phase != PH_IDLE)
		return evaluate(m, now);
	m->budget_end = m->p.budget_ms ? now + m->p.budget_ms : 0;
	m->phase = PH_CONNECT;
	m->connect_at = now;
	m->phase_deadline = now + m->p.connect_ms;
	return step_connect(m);
}

struct kz_login_step kz_telnet_login_connected(struct kz_telnet_login *m, uint64_t now)
{
	if (m->phase != PH_CONNECT)
		return evaluate(m, now);
	m->connections++;
	m->connect_failures = 0;
	m->first_conn = !m->ever_connected;
	m->ever_connected = true;
	kz_telnet_init(&m->tn);
	m->line_len = m->prev_len = 0;
	m->line_long = m->prev_long = false;
	m->line_fresh = m->prev_fresh = true;
	m->esc = ESC_NONE;
	m->echo = NULL;
	m->conn_prompt_seen = m->conn_user_prompt_seen = m->conn_sent = false;
	m->nudged = m->fail_msg = false;
	m->conn_bytes = 0;
	m->rx_since_send = 0;
	m->last_rx = now;
	m->banner_open = m->first_conn;
	m->phase = PH_PROMPT;
	m->phase_deadline = now + m->p.prompt_ms;
	return evaluate(m, now);
}

struct kz_login_step kz_telnet_login_connect_failed(struct kz_telnet_login *m, int err,
                                                    uint64_t now)
{
	if (m->phase != PH_CONNECT)
		return evaluate(m, now);
	if (!m->ever_connected)
		return finish(m, err == -ETIMEDOUT ? KZ_LOGIN_TIMEOUT : KZ_LOGIN_ERROR,
		              err == -ETIMEDOUT ? "connect timed out" : "connect failed");
	if (m->role == ROLE_CONTROL)
		return control_inconclusive(m, now, "the control connection failed");
	if (++m->connect_failures > m->p.reconnect_retries)
		return finish_incomplete(m, "the device refuses new connections");
	/* Devices that refuse for a while after a close (B27): back off. */
	m->connect_at = now + ((uint64_t)m->p.reconnect_ms << m->connect_failures);
	m->phase_deadline = m->connect_at + m->p.connect_ms;
	return step_connect(m);
}

struct kz_login_step kz_telnet_login_input(struct kz_telnet_login *m, const uint8_t *data,
                                           size_t len, uint64_t now)
{
	if (m->phase < PH_PROMPT || m->phase > PH_AFTER_PASS || len == 0)
		return evaluate(m, now);
	m->ever_data = true;
	size_t take = len;
	bool capped = false;
	if (m->conn_bytes + take > m->p.max_conn_bytes) {
		take = m->conn_bytes < m->p.max_conn_bytes
		               ? (size_t)(m->p.max_conn_bytes - m->conn_bytes)
		               : 0;
		capped = true;
	}
	m->conn_bytes += take;
	uint8_t chunk[512];
	size_t off = 0;
	bool any = false;
	while (off < take) {
		struct kz_telnet_out o = {
			.data = chunk,
			.data_cap = sizeof chunk,
			.reply = m->out + m->out_len,
			.reply_cap = KZ_TELNET_LOGIN_OUT_MAX - m->out_len,
		};
		size_t used = kz_telnet_feed(&m->tn, data + off, take - off, &o);
		m->out_len += o.reply_len;
		for (size_t i = 0; i < o.data_len; i++)
			take_byte(m, chunk[i]);
		any = any || o.data_len > 0;
		if (used == 0)
			return finish(m, KZ_LOGIN_ERROR, "output not drained by the caller");
		off += used;
	}
	if (any)
		m->last_rx = now;
	if (m->first_conn) {
		m->saw_telnet = m->tn.commands > 0;
		m->bad_commands = m->tn.bad_commands;
		if (m->phase == PH_PROMPT && !m->ever_prompt && !m->conn_sent &&
		    other_protocol(m, false))
			return finish(m, KZ_LOGIN_OTHER_PROTOCOL, "another protocol answered");
	}
	if (capped)
		m->phase_deadline = now; /* judged as if its time were up */
	return evaluate(m, now);
}

struct kz_login_step kz_telnet_login_closed(struct kz_telnet_login *m, uint64_t now)
{
	switch (m->phase) {
	case PH_PROMPT:
		return lost_before_prompt(m, now, false);
	case PH_AFTER_USER:
	case PH_AFTER_PASS:
		/* Closing is failure even with a prompt-like tail: a device that
		 * logs in and hangs up at once is not one we can confirm. */
		return attempt_failed(m, now, MOVE_RECONNECT, false);
	default:
		return evaluate(m, now);
	}
}

struct kz_login_step kz_telnet_login_tick(struct kz_telnet_login *m, uint64_t now)
{
	return evaluate(m, now);
}

const uint8_t *kz_telnet_login_output(const struct kz_telnet_login *m, size_t *len)
{
	*len = m->out_len;
	return m->out;
}

void kz_telnet_login_consume(struct kz_telnet_login *m, size_t n)
{
	if (n > m->out_len)
		n = m->out_len;
	memmove(m->out, m->out + n, m->out_len - n);
	m->out_len -= n;
	explicit_bzero(m->out + m->out_len, n);
}

const struct kz_telnet_login_result *kz_telnet_login_result(const struct kz_telnet_login *m)
{
	return &m->res;
}

void kz_telnet_login_control_pair(const struct kz_telnet_login *m, const char **user,
                                  const char **pass)
{
	*user = m->cuser;
	*pass = m->cpass;
}

void kz_telnet_login_wipe(struct kz_telnet_login *m)
{
	discard_output(m);
	m->echo = NULL;
	explicit_bzero(m->cuser, sizeof m->cuser);
	explicit_bzero(m->cpass, sizeof m->cpass);
}
