/*
 * The HTTP plug-in of the survey's stage-2 engine (login_proto.h): HTTP
 * Basic (RFC 7617) and Digest (RFC 7616) authentication on the paths the
 * operator configures (--http-path; "/" by default), with the statuses of
 * CONTRACT.md's survey table. docs/survey-login-ssh-http.md gives every
 * rule with its reason; in short:
 *
 *   - per path: GET without credentials. 401 with a Basic or Digest
 *     challenge: try the pairs, one request per connection; 2xx after a
 *     pair is an apparent success, confirmed by a random wrong control
 *     pair on a fresh connection (2xx for it too: accepts-any);
 *   - 2xx without credentials is no-auth only on a path the operator named
 *     as an admin page, and only when a random path of the same server is
 *     not 2xx as well; otherwise no-login-prompt;
 *   - 3xx is never followed: no-login-prompt, the Location in
 *     extra.login_detail;
 *   - the first bytes not an HTTP status line: not-http.
 *
 * Plain HTTP only: HTTPS is not checked (a TLS server answers our request
 * with a TLS alert, which is not-http).
 */
#ifndef KZ_LOGIN_HTTP_H
#define KZ_LOGIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login_proto.h"

/* Paths per service, and the longest path (a request target). */
#define KZ_HTTP_LOGIN_MAX_PATHS 16
#define KZ_HTTP_LOGIN_PATH_MAX  256
/* Longest User-Agent text. */
#define KZ_HTTP_LOGIN_UA_MAX 200
/* The User-Agent when the configuration gives none: the survey says what
 * it is (docs/survey-login-ssh-http.md, "Identifying ourselves"). */
#define KZ_HTTP_LOGIN_USER_AGENT "kizuki-survey/" KZ_VERSION " (authorised login survey)"

/* One path to check. */
struct kz_http_login_path {
	const char *path; /* the request target: '/' then printable ASCII, no blank */
	bool admin;       /* the operator names it as a device's admin page: a 2xx
	                     without credentials there can be no-auth */
};

/* The plug-in's settings (the engine's proto_config[KZ_LOGIN_APP_HTTP]);
 * NULL means kz_http_login_defaults. Everything borrowed for the
 * engine's lifetime. Times in ms; 0 takes the default. */
struct kz_http_login_config {
	const struct kz_http_login_path *paths; /* NULL or npaths 0: "/", not admin */
	size_t npaths;
	const char *user_agent; /* NULL: KZ_HTTP_LOGIN_USER_AGENT */
	uint32_t connect_ms;    /* TCP connect, default 5 s */
	uint32_t response_ms;   /* connected → the whole response head, default 10 s */
	uint32_t reconnect_ms;  /* pause before each further connection, default 0
	                           (the engine paces connections to a host) */
	unsigned retries;       /* inconclusive answers retried per request, default 2 */
	uint64_t budget_ms;     /* wall time per service; 0: no cap */
};

/* Fills c with the defaults ("/" only, the built-in User-Agent). */
void kz_http_login_defaults(struct kz_http_login_config *c);

/* Checks a path for --http-path: 0, or -EINVAL with *why set to a static
 * reason (not starting with '/', a blank or control byte, non-ASCII, too
 * long). */
int kz_http_login_path_check(const char *path, const char **why)
        __attribute__((warn_unused_result));

/* Checks a User-Agent text: printable ASCII, at most KZ_HTTP_LOGIN_UA_MAX
 * bytes. 0 or -EINVAL with *why. */
int kz_http_login_user_agent_check(const char *ua, const char **why)
        __attribute__((warn_unused_result));

/* The plug-in. KZ_LOGIN_IO_BYTES. */
extern const struct kz_login_proto kz_login_proto_http;

#endif
