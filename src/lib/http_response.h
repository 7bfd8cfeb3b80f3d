/*
 * An HTTP/1.x response parser for the survey's HTTP login check: the
 * status line, the header fields the check needs (WWW-Authenticate's Basic
 * and Digest challenges, Location, Server, the body's framing) and the
 * body skipped by its framing.
 *
 * Incremental, allocation-free and socket-free (STYLE.md 7): the caller
 * feeds any chunk of bytes and learns how many were used and whether the
 * head or the whole message is complete. Every length is checked before
 * every write; every buffer has a fixed cap (below), and a response past a
 * cap is an error, never a bigger buffer. The whole parser is one
 * caller-allocated struct of about 9 KiB.
 *
 * Leniency, where devices need it and it costs no safety: LF alone ends a
 * line like CR LF; up to 8 CR/LF bytes before the status line are skipped;
 * a field line without a colon is ignored; obsolete line folding (a line
 * starting with a blank continues the previous field, RFC 9112 5.2) is
 * unfolded. Strict where it matters: the response must begin with
 * "HTTP/" (otherwise it is not HTTP), the status code is three digits
 * 100-599, Content-Length is digits only and must agree with itself, and a
 * chunk size is hex.
 *
 * A Location header is recorded, never acted on: following a redirect is
 * the caller's decision, and the survey never makes it (CONTRACT.md,
 * "Safety rules").
 */
#ifndef KZ_HTTP_RESPONSE_H
#define KZ_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One header field line after unfolding; a longer one is an error. */
#define KZ_HTTP_LINE_MAX 4096
/* The status line and every header field together. */
#define KZ_HTTP_HEAD_MAX 16384
/* Header fields per response. */
#define KZ_HTTP_MAX_FIELDS 64
/* Basic and Digest challenges kept per response (RFC 7616 lets a server
 * offer one Digest challenge per algorithm, plus Basic). */
#define KZ_HTTP_MAX_CHALLENGES 4
/* A realm, nonce or opaque value kept; a longer one makes its challenge
 * unusable (we could not answer it correctly). */
#define KZ_HTTP_PARAM_MAX    256
#define KZ_HTTP_LOCATION_MAX 512
#define KZ_HTTP_REASON_MAX   64
#define KZ_HTTP_SERVER_MAX   128
/* The first bytes of the body kept (evidence). */
#define KZ_HTTP_BODY_KEEP 256
/* Interim (1xx) responses skipped before the final one. */
#define KZ_HTTP_MAX_INTERIM 4
/* Default cap on body bytes parsed (kz_http_response_init). */
#define KZ_HTTP_DEFAULT_BODY_MAX (1u << 20)

/* What kz_http_response_feed and _eof report. */
enum kz_http_result {
	KZ_HTTP_MORE = 0,      /* every byte used; more are needed */
	KZ_HTTP_HEAD = 1,      /* the head is complete (reported once) */
	KZ_HTTP_DONE = 2,      /* the message is complete, body included */
	KZ_HTTP_NOT_HTTP = -1, /* the first bytes are not an HTTP status line */
	KZ_HTTP_BAD = -2,      /* HTTP, but malformed (or cut short at EOF) */
	KZ_HTTP_TOO_BIG = -3,  /* past one of the caps above */
};

enum kz_http_scheme {
	KZ_HTTP_SCHEME_BASIC = 1,
	KZ_HTTP_SCHEME_DIGEST,
};

/* Digest algorithms (RFC 7616 section 6.1), "-sess" variants included. */
enum kz_http_digest_alg {
	KZ_HTTP_ALG_MD5 = 0, /* also when the challenge names none */
	KZ_HTTP_ALG_MD5_SESS,
	KZ_HTTP_ALG_SHA256,
	KZ_HTTP_ALG_SHA256_SESS,
	KZ_HTTP_ALG_SHA512_256,
	KZ_HTTP_ALG_SHA512_256_SESS,
	KZ_HTTP_ALG_UNKNOWN,
};

/* qop values a Digest challenge offers (bits); 0: no qop parameter, the
 * RFC 2069 form. */
#define KZ_HTTP_QOP_AUTH     0x1u
#define KZ_HTTP_QOP_AUTH_INT 0x2u

/* One Basic or Digest challenge. Strings are NUL-terminated copies with
 * quoted-pairs removed. */
struct kz_http_challenge {
	uint8_t scheme;    /* enum kz_http_scheme */
	uint8_t algorithm; /* enum kz_http_digest_alg (Digest) */
	uint8_t qop;       /* KZ_HTTP_QOP_* bits (Digest) */
	bool stale;        /* Digest: the last nonce expired, credentials were fine */
	bool userhash;     /* Digest: the server wants H(user:realm) as the user */
	bool has_opaque;
	bool has_nonce;
	bool utf8;   /* charset="UTF-8" */
	bool usable; /* parsed whole: no value too long, no control byte */
	char realm[KZ_HTTP_PARAM_MAX + 1];
	char nonce[KZ_HTTP_PARAM_MAX + 1];
	char opaque[KZ_HTTP_PARAM_MAX + 1];
};

/* The parser and its results. Fields above the "private" line are results,
 * valid from the point the comments say; the rest is private. */
struct kz_http_response {
	/* valid once KZ_HTTP_HEAD was reported */
	uint8_t version_major, version_minor;
	uint16_t status;
	char reason[KZ_HTTP_REASON_MAX + 1]; /* truncated; control bytes as '?' */
	char server[KZ_HTTP_SERVER_MAX + 1]; /* the Server field, likewise */
	char location[KZ_HTTP_LOCATION_MAX + 1];
	bool has_location;
	bool location_truncated;
	bool chunked;
	bool has_length;
	bool conn_close; /* Connection: close, or HTTP/1.0 without keep-alive */
	uint64_t content_length;
	unsigned nfields;
	unsigned nchallenges; /* Basic and Digest, in the order offered */
	struct kz_http_challenge ch[KZ_HTTP_MAX_CHALLENGES];
	unsigned other_challenges;  /* challenges of other schemes (NTLM, Negotiate, ...) */
	char other_scheme[32];      /* the first such scheme's name */
	unsigned dropped_challenge; /* Basic or Digest past KZ_HTTP_MAX_CHALLENGES */
	unsigned interim;           /* 1xx responses skipped */
	size_t head_len;            /* bytes of the final response's head */
	/* valid as the body is read */
	uint64_t body_seen;
	uint8_t body[KZ_HTTP_BODY_KEEP]; /* the first body bytes, raw */
	size_t body_len;
	/* private */
	uint64_t body_max;
	uint64_t remaining; /* bytes left in a Content-Length body or a chunk */
	size_t seen_total;  /* head bytes across interim responses */
	uint8_t st;
	uint8_t pos;      /* "HTTP/" prefix position, leading line ends */
	bool pending;     /* line[] holds a field waiting for its continuation */
	bool head_method; /* the request was HEAD: no body */
	bool head_complete;
	bool len_conflict;
	bool te_other; /* a transfer coding other than chunked last */
	uint16_t chunk_line;
	uint16_t line_len;
	char line[KZ_HTTP_LINE_MAX + 1];
};

/* Prepares r for one response. head_method: the request was HEAD (no body
 * follows whatever the fields say). body_max: body bytes parsed before
 * KZ_HTTP_TOO_BIG (0: KZ_HTTP_DEFAULT_BODY_MAX). */
void kz_http_response_init(struct kz_http_response *r, bool head_method, uint64_t body_max);

/* Feeds len bytes (borrowed for the call). Sets *used to the bytes it took:
 * all of them for KZ_HTTP_MORE; up to the end of the head for KZ_HTTP_HEAD
 * (feed the rest again for the body); up to the end of the message for
 * KZ_HTTP_DONE (the rest belongs to the next response). After an error or
 * DONE, further feeds change nothing and repeat the result. */
int kz_http_response_feed(struct kz_http_response *r, const uint8_t *data, size_t len,
                          size_t *used);

/* The connection ended. KZ_HTTP_DONE when the message is complete (a body
 * delimited by the close included), KZ_HTTP_NOT_HTTP when not one byte of
 * "HTTP/" came, KZ_HTTP_BAD when the response was cut short. */
int kz_http_response_eof(struct kz_http_response *r);

/* True when the head has been parsed (KZ_HTTP_HEAD was reported). */
bool kz_http_response_head_done(const struct kz_http_response *r);

/* The name of a Digest algorithm as RFC 7616 writes it ("MD5", "SHA-256-sess"). */
const char *kz_http_digest_alg_name(enum kz_http_digest_alg alg);

/* Parses one WWW-Authenticate field value (borrowed, len bytes) into r's
 * challenge list, as the parser does for each such field; exported for the
 * tests. */
void kz_http_parse_www_authenticate(struct kz_http_response *r, const char *value, size_t len);

#endif
