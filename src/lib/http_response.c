/*
 * The HTTP/1.x response parser (http_response.h).
 *
 * One byte-driven state machine over the status line, the field lines and
 * the body framing (RFC 9112): a field line is collected in line[] and
 * handled only when the first byte of the next line shows it is not folded
 * (obs-fold), so a folded WWW-Authenticate is seen whole. Body bytes are
 * counted in bulk, never copied beyond the first KZ_HTTP_BODY_KEEP.
 *
 * Invariants: line_len <= KZ_HTTP_LINE_MAX, head_len <= KZ_HTTP_HEAD_MAX,
 * body_seen <= body_max, nchallenges <= KZ_HTTP_MAX_CHALLENGES; the state
 * ST_ERR keeps its result so that every later call repeats it.
 */
#include "http_response.h"

#include <string.h>

enum {
	ST_PREFIX = 0,   /* matching "HTTP/" */
	ST_STATUS,       /* the rest of the status line */
	ST_FIELD_START,  /* the first byte of a field line (or the empty line) */
	ST_FIELD,        /* inside a field line */
	ST_HEAD_CR,      /* a CR at the start of a line: the head ends at LF */
	ST_BODY_LEN,     /* Content-Length bytes left in `remaining` */
	ST_BODY_CLOSE,   /* the body runs to the end of the connection */
	ST_CHUNK_SIZE,   /* hex digits of a chunk size */
	ST_CHUNK_EXT,    /* the rest of a chunk-size line */
	ST_CHUNK_DATA,   /* chunk bytes left in `remaining` */
	ST_CHUNK_END,    /* the CR LF after a chunk's data */
	ST_TRAILER,      /* trailer field lines, skipped */
	ST_TRAILER_LINE, /* inside a trailer line */
	ST_DONE,
	ST_ERR,
};

#define MAX_LEADING_EOL 8
#define CHUNK_LINE_MAX  1024
/* Content-Length and chunk sizes above this are refused (and far above
 * any cap a caller sets). */
#define SIZE_LIMIT (UINT64_C(1) << 60)

static const char prefix[] = "HTTP/";

/* RFC 9110 5.6.2's tchar: what a token (a scheme, a field or parameter
 * name) is made of. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Case-insensitive equality of a length-delimited text and a string: field
 * names, schemes, parameter names and most values are case-insensitive. */
static bool ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	return alen == blen && strncasecmp(a, b, blen) == 0;
}

/* Copies text into a fixed buffer, control bytes as '?'. */
static size_t copy_clean(char *dst, size_t cap, const char *src, size_t len, bool *truncated)
{
	size_t n = len < cap ? len : cap;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
	}
	dst[n] = '\0';
	if (truncated)
		*truncated = len > cap;
	return n;
}

/* ---------------------------------------------------- WWW-Authenticate */

/* A cursor over one field value; never read past end. */
struct lex {
	const char *p, *end;
};

static void skip_ows(struct lex *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t'))
		l->p++;
}

static void skip_ows_commas(struct lex *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == ','))
		l->p++;
}

static size_t lex_token(struct lex *l, const char **start)
{
	*start = l->p;
	while (l->p < l->end && is_tchar((unsigned char)*l->p))
		l->p++;
	return (size_t)(l->p - *start);
}

/* A parameter value: a quoted-string (quoted-pairs removed) or, leniently,
 * any run of bytes up to a comma or a blank. Writes at most cap bytes and a
 * NUL; *long_ set when the value had more, *ctl when it held a control
 * byte, *bad when a quoted-string had no closing quote. */
static size_t lex_value(struct lex *l, char *out, size_t cap, bool *long_, bool *ctl, bool *bad)
{
	size_t n = 0, total = 0;
	*long_ = *ctl = *bad = false;
	if (l->p < l->end && *l->p == '"') {
		l->p++;
		bool closed = false;
		while (l->p < l->end) {
			char c = *l->p++;
			if (c == '"') {
				closed = true;
				break;
			}
			if (c == '\\' && l->p < l->end)
				c = *l->p++;
			if ((unsigned char)c < 0x20 || c == 0x7f)
				*ctl = true;
			if (n < cap)
				out[n++] = c;
			total++;
		}
		*bad = !closed;
	} else {
		while (l->p < l->end && *l->p != ',' && *l->p != ' ' && *l->p != '\t') {
			char c = *l->p++;
			if ((unsigned char)c < 0x20 || c == 0x7f)
				*ctl = true;
			if (n < cap)
				out[n++] = c;
			total++;
		}
	}
	out[n] = '\0';
	*long_ = total > cap;
	return n;
}

/* Skips an unreadable parameter (token68 of another scheme, junk) up to
 * the next comma, stepping over quoted-strings so that a comma inside one
 * does not count. */
static void skip_to_comma(struct lex *l)
{
	while (l->p < l->end && *l->p != ',') {
		if (*l->p == '"') {
			bool a, b, c;
			char tmp[1];
			lex_value(l, tmp, 0, &a, &b, &c);
			continue;
		}
		l->p++;
	}
}

static enum kz_http_digest_alg parse_alg(const char *v, size_t n)
{
	static const char *const names[] = {
		[KZ_HTTP_ALG_MD5] = "MD5",
		[KZ_HTTP_ALG_MD5_SESS] = "MD5-sess",
		[KZ_HTTP_ALG_SHA256] = "SHA-256",
		[KZ_HTTP_ALG_SHA256_SESS] = "SHA-256-sess",
		[KZ_HTTP_ALG_SHA512_256] = "SHA-512-256",
		[KZ_HTTP_ALG_SHA512_256_SESS] = "SHA-512-256-sess",
	};
	for (unsigned a = 0; a < KZ_HTTP_ALG_UNKNOWN; a++)
		if (ieq(v, n, names[a]))
			return (enum kz_http_digest_alg)a;
	return KZ_HTTP_ALG_UNKNOWN;
}

const char *kz_http_digest_alg_name(enum kz_http_digest_alg alg)
{
	switch (alg) {
	case KZ_HTTP_ALG_MD5:
		return "MD5";
	case KZ_HTTP_ALG_MD5_SESS:
		return "MD5-sess";
	case KZ_HTTP_ALG_SHA256:
		return "SHA-256";
	case KZ_HTTP_ALG_SHA256_SESS:
		return "SHA-256-sess";
	case KZ_HTTP_ALG_SHA512_256:
		return "SHA-512-256";
	case KZ_HTTP_ALG_SHA512_256_SESS:
		return "SHA-512-256-sess";
	case KZ_HTTP_ALG_UNKNOWN:
		break;
	}
	return "unknown";
}

/* qop="auth,auth-int": the values we know, as bits. */
static uint8_t parse_qop(const char *v, size_t n)
{
	uint8_t bits = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ',' || v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (ieq(v + s, i - s, "auth"))
			bits |= KZ_HTTP_QOP_AUTH;
		else if (ieq(v + s, i - s, "auth-int"))
			bits |= KZ_HTTP_QOP_AUTH_INT;
	}
	return bits;
}

static void set_param(struct kz_http_challenge *c, const char *name, size_t nlen, const char *v,
                      size_t vlen, bool long_, bool ctl)
{
	char *dst = NULL;
	if (ieq(name, nlen, "realm"))
		dst = c->realm;
	else if (ieq(name, nlen, "nonce"))
		dst = c->nonce, c->has_nonce = true;
	else if (ieq(name, nlen, "opaque"))
		dst = c->opaque, c->has_opaque = true;
	if (dst) {
		/* These are sent back in our request: a value we could not
		 * repeat exactly, or one that could break our header, makes
		 * the challenge unusable rather than answered wrongly. */
		if (long_ || ctl)
			c->usable = false;
		memcpy(dst, v, vlen);
		dst[vlen] = '\0';
		return;
	}
	if (ieq(name, nlen, "algorithm"))
		c->algorithm = (uint8_t)(long_ ? KZ_HTTP_ALG_UNKNOWN : parse_alg(v, vlen));
	else if (ieq(name, nlen, "qop"))
		c->qop = parse_qop(v, vlen);
	else if (ieq(name, nlen, "stale"))
		c->stale = ieq(v, vlen, "true");
	else if (ieq(name, nlen, "userhash"))
		c->userhash = ieq(v, vlen, "true");
	else if (ieq(name, nlen, "charset"))
		c->utf8 = ieq(v, vlen, "UTF-8");
}

/* A new challenge of scheme `name`: a slot for Basic and Digest (NULL
 * when the slots are full, counted), only a count for other schemes. */
static struct kz_http_challenge *begin_challenge(struct kz_http_response *r, const char *name,
                                                 size_t nlen)
{
	uint8_t scheme = 0;
	if (ieq(name, nlen, "Basic"))
		scheme = KZ_HTTP_SCHEME_BASIC;
	else if (ieq(name, nlen, "Digest"))
		scheme = KZ_HTTP_SCHEME_DIGEST;
	if (!scheme) {
		if (r->other_challenges++ == 0)
			copy_clean(r->other_scheme, sizeof r->other_scheme - 1, name, nlen, NULL);
		return NULL;
	}
	if (r->nchallenges == KZ_HTTP_MAX_CHALLENGES) {
		r->dropped_challenge++;
		return NULL;
	}
	struct kz_http_challenge *c = &r->ch[r->nchallenges++];
	memset(c, 0, sizeof *c);
	c->scheme = scheme;
	c->algorithm = KZ_HTTP_ALG_MD5;
	c->usable = true;
	return c;
}

/* A Digest challenge without a nonce cannot be answered. */
static void end_challenge(struct kz_http_challenge *c)
{
	if (c && c->scheme == KZ_HTTP_SCHEME_DIGEST && !c->has_nonce)
		c->usable = false;
}

/* The field's grammar (RFC 9110 11.6.1) is a comma list in which commas
 * separate both challenges and a challenge's parameters: a challenge is a
 * scheme token, then parameters `name = value`; after a comma, a token
 * followed by '=' is one more parameter and any other token starts the
 * next challenge. Parsed over the whole (unfolded) value. */
void kz_http_parse_www_authenticate(struct kz_http_response *r, const char *value, size_t len)
{
	struct lex l = { value, value + len };
	char v[KZ_HTTP_PARAM_MAX + 1];
	for (;;) {
		skip_ows_commas(&l);
		if (l.p >= l.end)
			return;
		const char *name;
		size_t nlen = lex_token(&l, &name);
		if (!nlen)
			return; /* not a challenge: the rest is unreadable */
		struct kz_http_challenge *c = begin_challenge(r, name, nlen);
		for (;;) {
			skip_ows(&l);
			if (l.p >= l.end) {
				end_challenge(c);
				return;
			}
			if (*l.p == ',') {
				skip_ows_commas(&l);
				/* token OWS "=" is another parameter; a token
				 * followed by anything else starts a challenge. */
				struct lex look = l;
				const char *t;
				size_t tl = lex_token(&look, &t);
				skip_ows(&look);
				if (tl && look.p < look.end && *look.p == '=')
					continue;
				end_challenge(c);
				break;
			}
			const char *pname;
			size_t plen = lex_token(&l, &pname);
			skip_ows(&l);
			if (!plen || l.p >= l.end || *l.p != '=') {
				/* token68 (Negotiate, NTLM) or junk */
				skip_to_comma(&l);
				continue;
			}
			l.p++;
			skip_ows(&l);
			if (l.p < l.end && (*l.p == '=' || *l.p == ',')) {
				/* token68 ending in '=' */
				skip_to_comma(&l);
				continue;
			}
			bool long_, ctl, bad;
			size_t vlen = lex_value(&l, v, KZ_HTTP_PARAM_MAX, &long_, &ctl, &bad);
			if (c) {
				if (bad)
					c->usable = false;
				set_param(c, pname, plen, v, vlen, long_, ctl);
			}
		}
	}
}

/* ------------------------------------------------------------- the head */

/* Enters the error state; `pos` (unused from here on) keeps the result so
 * that every later call repeats it. */
static int fail(struct kz_http_response *r, int code)
{
	r->st = ST_ERR;
	r->pos = (uint8_t)-code;
	return code;
}

void kz_http_response_init(struct kz_http_response *r, bool head_method, uint64_t body_max)
{
	memset(r, 0, offsetof(struct kz_http_response, line));
	r->line[0] = '\0';
	r->head_method = head_method;
	r->body_max = body_max ? body_max : KZ_HTTP_DEFAULT_BODY_MAX;
}

/* Forgets an interim (1xx) response's fields; the parse goes on. */
static void reset_for_final(struct kz_http_response *r)
{
	unsigned interim = r->interim;
	size_t seen = r->seen_total;
	bool head_method = r->head_method;
	uint64_t body_max = r->body_max;
	kz_http_response_init(r, head_method, body_max);
	r->interim = interim;
	r->seen_total = seen;
}

/* The status line (its "HTTP/" already matched). Lenient on blanks and a
 * missing reason; strict on the digits. */
static int parse_status(struct kz_http_response *r)
{
	/* line[] holds what followed "HTTP/": DIGIT "." DIGIT SP 3DIGIT [SP reason] */
	const char *s = r->line;
	size_t n = r->line_len;
	if (n < 7 || s[0] < '0' || s[0] > '9' || s[1] != '.' || s[2] < '0' || s[2] > '9' ||
	    s[3] != ' ')
		return KZ_HTTP_BAD;
	size_t i = 3;
	while (i < n && s[i] == ' ')
		i++;
	if (i + 3 > n)
		return KZ_HTTP_BAD;
	unsigned code = 0;
	for (size_t k = 0; k < 3; k++) {
		if (s[i + k] < '0' || s[i + k] > '9')
			return KZ_HTTP_BAD;
		code = code * 10 + (unsigned)(s[i + k] - '0');
	}
	i += 3;
	if (code < 100 || code > 599 || (i < n && s[i] != ' '))
		return KZ_HTTP_BAD;
	while (i < n && s[i] == ' ')
		i++;
	r->version_major = (uint8_t)(s[0] - '0');
	r->version_minor = (uint8_t)(s[2] - '0');
	r->status = (uint16_t)code;
	copy_clean(r->reason, KZ_HTTP_REASON_MAX, s + i, n - i, NULL);
	/* HTTP/1.0 closes unless it says otherwise (the Connection field). */
	r->conn_close = r->version_major == 1 && r->version_minor == 0;
	return 0;
}

/* Does the comma list v hold the token tok (Connection: keep-alive, close)? */
static bool has_token(const char *v, size_t n, const char *tok)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ',' || v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (ieq(v + s, i - s, tok))
			return true;
	}
	return false;
}

/* The last element of a comma list (Transfer-Encoding's final coding). */
static void last_element(const char *v, size_t n, const char **e, size_t *elen)
{
	size_t end = n;
	while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t' || v[end - 1] == ','))
		end--;
	size_t s = end;
	while (s > 0 && v[s - 1] != ',' && v[s - 1] != ' ' && v[s - 1] != '\t')
		s--;
	*e = v + s;
	*elen = end - s;
}

/* One complete (unfolded) field line in line[]: the fields the check
 * needs are taken, the others only counted. */
static int parse_field(struct kz_http_response *r)
{
	char *s = r->line;
	size_t n = r->line_len;
	const char *colon = memchr(s, ':', n);
	r->nfields++;
	if (r->nfields > KZ_HTTP_MAX_FIELDS)
		return KZ_HTTP_TOO_BIG;
	if (!colon)
		return 0; /* not a field: ignored (lenient) */
	size_t nlen = (size_t)(colon - s);
	while (nlen > 0 && (s[nlen - 1] == ' ' || s[nlen - 1] == '\t'))
		nlen--;
	const char *v = colon + 1;
	size_t vlen = n - (size_t)(v - s);
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (ieq(s, nlen, "Content-Length")) {
		if (!vlen)
			return KZ_HTTP_BAD;
		uint64_t x = 0;
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return KZ_HTTP_BAD;
			x = x * 10 + (uint64_t)(v[i] - '0');
			if (x > SIZE_LIMIT)
				return KZ_HTTP_BAD;
		}
		if (r->has_length && r->content_length != x)
			r->len_conflict = true;
		r->has_length = true;
		r->content_length = x;
	} else if (ieq(s, nlen, "Transfer-Encoding")) {
		const char *e;
		size_t elen;
		last_element(v, vlen, &e, &elen);
		r->chunked = ieq(e, elen, "chunked");
		r->te_other = !r->chunked && elen > 0;
	} else if (ieq(s, nlen, "Connection")) {
		if (has_token(v, vlen, "close"))
			r->conn_close = true;
		else if (has_token(v, vlen, "keep-alive"))
			r->conn_close = false;
	} else if (ieq(s, nlen, "Location")) {
		r->has_location = true;
		copy_clean(r->location, KZ_HTTP_LOCATION_MAX, v, vlen, &r->location_truncated);
	} else if (ieq(s, nlen, "Server")) {
		copy_clean(r->server, KZ_HTTP_SERVER_MAX, v, vlen, NULL);
	} else if (ieq(s, nlen, "WWW-Authenticate")) {
		kz_http_parse_www_authenticate(r, v, vlen);
	}
	return 0;
}

/* The empty line: decides how the body is delimited (RFC 9112 6.3). */
static int end_head(struct kz_http_response *r)
{
	if (r->status < 200 && r->status != 101) {
		if (++r->interim > KZ_HTTP_MAX_INTERIM)
			return KZ_HTTP_TOO_BIG;
		reset_for_final(r);
		return KZ_HTTP_MORE;
	}
	/* RFC 9112 6.3, in its order: no body; chunked; another coding (to the
	 * close); Content-Length; else to the close. */
	if (r->head_method || r->status < 200 || r->status == 204 || r->status == 304) {
		r->st = ST_DONE;
	} else if (r->chunked) {
		r->st = ST_CHUNK_SIZE;
		r->remaining = 0;
		r->chunk_line = 0;
	} else if (r->te_other) {
		r->st = ST_BODY_CLOSE;
		r->conn_close = true;
	} else if (r->has_length) {
		if (r->len_conflict)
			return KZ_HTTP_BAD;
		if (r->content_length > r->body_max)
			return KZ_HTTP_TOO_BIG;
		r->remaining = r->content_length;
		r->st = r->remaining ? ST_BODY_LEN : ST_DONE;
	} else {
		r->st = ST_BODY_CLOSE;
		r->conn_close = true;
	}
	r->head_complete = true;
	return KZ_HTTP_HEAD;
}

/* Counts n body bytes (keeping the first KZ_HTTP_BODY_KEEP) against the
 * caller's cap. */
static int body_bytes(struct kz_http_response *r, const uint8_t *p, size_t n)
{
	if (r->body_len < KZ_HTTP_BODY_KEEP) {
		size_t k = KZ_HTTP_BODY_KEEP - r->body_len;
		if (k > n)
			k = n;
		memcpy(r->body + r->body_len, p, k);
		r->body_len += k;
	}
	r->body_seen += n;
	return r->body_seen > r->body_max ? KZ_HTTP_TOO_BIG : 0;
}

bool kz_http_response_head_done(const struct kz_http_response *r)
{
	return r->head_complete;
}

int kz_http_response_feed(struct kz_http_response *r, const uint8_t *data, size_t len, size_t *used)
{
	size_t i = 0;
	int rc = KZ_HTTP_MORE;
	*used = 0;
	if (r->st == ST_ERR)
		return -(int)r->pos;
	if (r->st == ST_DONE)
		return KZ_HTTP_DONE;
	while (i < len) {
		uint8_t c = data[i];
		switch (r->st) {
		case ST_PREFIX:
			/* Byte by byte against "HTTP/": the first byte that
			 * differs decides not-HTTP, before a line is even
			 * complete (an SSH banner, a telnet command). */
			if (r->pos == 0 && (c == '\r' || c == '\n') &&
			    r->line_len < MAX_LEADING_EOL) {
				/* line_len counts leading line ends here. */
				r->line_len++;
				i++;
				continue;
			}
			if (c != (uint8_t)prefix[r->pos]) {
				*used = i;
				return fail(r, KZ_HTTP_NOT_HTTP);
			}
			i++;
			if (++r->pos == sizeof prefix - 1) {
				r->st = ST_STATUS;
				r->line_len = 0;
				r->head_len = sizeof prefix - 1;
			}
			continue;
		case ST_STATUS:
		case ST_FIELD:
			/* Collect the line; at its LF, the status line is
			 * parsed at once, a field waits for the next line's
			 * first byte (folding). */
			i++;
			if (++r->head_len > KZ_HTTP_HEAD_MAX) {
				*used = i;
				return fail(r, KZ_HTTP_TOO_BIG);
			}
			if (c != '\n') {
				if (r->line_len == KZ_HTTP_LINE_MAX) {
					*used = i;
					return fail(r, KZ_HTTP_TOO_BIG);
				}
				r->line[r->line_len++] = (char)c;
				continue;
			}
			if (r->line_len && r->line[r->line_len - 1] == '\r')
				r->line_len--;
			r->line[r->line_len] = '\0';
			if (r->st == ST_STATUS) {
				if ((rc = parse_status(r)) != 0) {
					*used = i;
					return fail(r, rc);
				}
				r->line_len = 0;
				r->pending = false;
			} else {
				r->pending = true;
			}
			r->st = ST_FIELD_START;
			continue;
		case ST_FIELD_START:
			/* A blank continues the field held in line[]; anything
			 * else first hands that field to parse_field. */
			if ((c == ' ' || c == '\t') && r->pending) {
				/* obs-fold: the field goes on; one blank for the fold */
				i++;
				if (++r->head_len > KZ_HTTP_HEAD_MAX ||
				    r->line_len == KZ_HTTP_LINE_MAX) {
					*used = i;
					return fail(r, KZ_HTTP_TOO_BIG);
				}
				r->line[r->line_len++] = ' ';
				r->st = ST_FIELD;
				continue;
			}
			if (r->pending) {
				r->pending = false;
				if ((rc = parse_field(r)) != 0) {
					*used = i;
					return fail(r, rc);
				}
				r->line_len = 0;
			}
			if (c == '\r' || c == '\n') {
				i++;
				if (++r->head_len > KZ_HTTP_HEAD_MAX) {
					*used = i;
					return fail(r, KZ_HTTP_TOO_BIG);
				}
				if (c == '\r') {
					r->st = ST_HEAD_CR;
					continue;
				}
			} else {
				r->st = ST_FIELD;
				continue;
			}
			/* c was LF: the head ends here. */
			goto head_end;
		case ST_HEAD_CR:
			/* CR at the start of a line: only CR LF may end the head. */
			i++;
			if (c != '\n') {
				*used = i;
				return fail(r, KZ_HTTP_BAD);
			}
			if (++r->head_len > KZ_HTTP_HEAD_MAX) {
				*used = i;
				return fail(r, KZ_HTTP_TOO_BIG);
			}
		head_end:
			r->seen_total += r->head_len;
			rc = end_head(r);
			if (rc < 0) {
				*used = i;
				return fail(r, rc);
			}
			if (rc == KZ_HTTP_MORE)
				continue; /* an interim response: parse the next head */
			*used = i;
			return KZ_HTTP_HEAD;
		case ST_BODY_LEN:
		case ST_CHUNK_DATA: {
			/* Counted in bulk, never copied (but the first bytes). */
			size_t n = len - i;
			if (n > r->remaining)
				n = (size_t)r->remaining;
			rc = body_bytes(r, data + i, n);
			i += n;
			r->remaining -= n;
			if (rc) {
				*used = i;
				return fail(r, rc);
			}
			if (r->remaining == 0) {
				if (r->st == ST_BODY_LEN) {
					r->st = ST_DONE;
					*used = i;
					return KZ_HTTP_DONE;
				}
				r->st = ST_CHUNK_END;
				r->chunk_line = 0;
			}
			continue;
		}
		case ST_BODY_CLOSE: {
			/* One byte past the cap is enough to know. */
			size_t n = len - i;
			if (n > r->body_max - r->body_seen)
				n = (size_t)(r->body_max - r->body_seen) + 1;
			rc = body_bytes(r, data + i, n);
			i += n;
			if (rc) {
				*used = i;
				return fail(r, rc);
			}
			continue;
		}
		case ST_CHUNK_SIZE:
		case ST_CHUNK_EXT:
			/* chunk-size [ext] CR LF; `pending` says a digit was seen. */
			i++;
			if (++r->chunk_line > CHUNK_LINE_MAX) {
				*used = i;
				return fail(r, KZ_HTTP_TOO_BIG);
			}
			if (r->st == ST_CHUNK_SIZE && c != '\n') {
				int d = -1;
				if (c >= '0' && c <= '9')
					d = c - '0';
				else if (c >= 'a' && c <= 'f')
					d = c - 'a' + 10;
				else if (c >= 'A' && c <= 'F')
					d = c - 'A' + 10;
				if (d >= 0) {
					r->pending = true;
					r->remaining = r->remaining * 16 + (uint64_t)d;
					if (r->remaining > SIZE_LIMIT) {
						*used = i;
						return fail(r, KZ_HTTP_BAD);
					}
					continue;
				}
				if (!r->pending ||
				    (c != ';' && c != ' ' && c != '\t' && c != '\r')) {
					*used = i;
					return fail(r, KZ_HTTP_BAD);
				}
				r->st = ST_CHUNK_EXT;
				continue;
			}
			if (c != '\n')
				continue; /* an extension: skipped */
			if (!r->pending) {
				*used = i;
				return fail(r, KZ_HTTP_BAD);
			}
			r->pending = false;
			r->chunk_line = 0;
			if (r->remaining == 0) {
				r->st = ST_TRAILER;
				continue;
			}
			if (r->body_seen + r->remaining > r->body_max) {
				*used = i;
				return fail(r, KZ_HTTP_TOO_BIG);
			}
			r->st = ST_CHUNK_DATA;
			continue;
		case ST_CHUNK_END:
			/* CR LF after a chunk's data (LF alone accepted);
			 * chunk_line says the CR was seen. */
			i++;
			if (c == '\r' && r->chunk_line == 0) {
				r->chunk_line = 1;
				continue;
			}
			if (c != '\n') {
				*used = i;
				return fail(r, KZ_HTTP_BAD);
			}
			r->st = ST_CHUNK_SIZE;
			r->chunk_line = 0;
			r->remaining = 0;
			r->pending = false;
			continue;
		case ST_TRAILER:
		case ST_TRAILER_LINE:
			/* Trailer fields are skipped, each under the chunk
			 * line cap; an empty line ends the message. */
			i++;
			if (++r->chunk_line > CHUNK_LINE_MAX) {
				*used = i;
				return fail(r, KZ_HTTP_TOO_BIG);
			}
			if (c == '\n') {
				/* An empty line (LF or CR LF alone) ends the message. */
				if (r->st == ST_TRAILER) {
					r->st = ST_DONE;
					*used = i;
					return KZ_HTTP_DONE;
				}
				r->st = ST_TRAILER;
				r->chunk_line = 0;
				continue;
			}
			if (c != '\r' || r->st == ST_TRAILER_LINE || r->chunk_line > 1)
				r->st = ST_TRAILER_LINE;
			continue;
		default:
			*used = i;
			return r->st == ST_DONE ? KZ_HTTP_DONE : KZ_HTTP_BAD;
		}
	}
	*used = i;
	if (r->st == ST_DONE)
		return KZ_HTTP_DONE;
	return KZ_HTTP_MORE;
}

/* Only a body delimited by the close ends well at EOF; a message cut
 * anywhere else is malformed, and no "HTTP/" at all is not HTTP. */
int kz_http_response_eof(struct kz_http_response *r)
{
	switch (r->st) {
	case ST_DONE:
		return KZ_HTTP_DONE;
	case ST_BODY_CLOSE:
		r->st = ST_DONE;
		return KZ_HTTP_DONE;
	case ST_ERR:
		return -(int)r->pos;
	case ST_PREFIX:
		/* Nothing, or only part of "HTTP/": not an HTTP response. */
		return fail(r, KZ_HTTP_NOT_HTTP);
	default:
		return fail(r, KZ_HTTP_BAD);
	}
}
