/*
 * The SSH plug-in of the survey's stage-2 engine (login_proto.h): password
 * and keyboard-interactive authentication through libssh in non-blocking
 * mode, on the descriptor the engine connected, with the statuses of
 * CONTRACT.md's survey table. docs/survey-login-ssh-http.md gives every
 * rule with its reason; in short:
 *
 *   - the server's identification string is read by us before libssh sees
 *     a byte: anything that is not SSH (HTTP, telnet, binary) is not-ssh;
 *   - "none" authentication first, which also lists the methods offered:
 *     success is a login with no credential (confirmed as below); no
 *     password and no keyboard-interactive method is no-login-prompt;
 *   - pairs are tried grouped by user, as many per connection as the
 *     server allows (a username cannot change on one connection); a
 *     disconnect after N failures means a new connection;
 *   - the first apparent success is confirmed with a random wrong control
 *     pair on a fresh connection (it logs in too: accepts-any; with no
 *     credential at all for a random user: no-auth);
 *   - after a success nothing is opened and nothing runs: the connection is
 *     closed at once.
 *
 * The host key is never checked: this is a survey, not a client; we send
 * only public default credentials and never trust the server with
 * anything, so there is nothing a man in the middle could take from us
 * that the list does not already publish.
 */
#ifndef KZ_LOGIN_SSH_H
#define KZ_LOGIN_SSH_H

#include <stdbool.h>
#include <stdint.h>

#include "login_proto.h"

/* The plug-in's settings (the engine's proto_config[KZ_LOGIN_APP_SSH]);
 * NULL means kz_ssh_login_defaults. Times in ms; 0 takes the default. */
struct kz_ssh_login_config {
	uint32_t connect_ms;      /* TCP connect, default 5 s */
	uint32_t ident_ms;        /* connected → the server's identification, 10 s */
	uint32_t nudge_ms;        /* silence before we send our identification first, 5 s */
	uint32_t kex_ms;          /* identification → key exchange done, 15 s */
	uint32_t auth_ms;         /* one authentication request → its answer, 15 s */
	uint32_t reconnect_ms;    /* pause before each further connection, 0 (the
	                             engine paces connections to a host) */
	unsigned retries;         /* connections in a row that fail before
	                             authentication, retried; default 2 */
	unsigned control_retries; /* inconclusive control attempts retried, 2 */
	uint64_t budget_ms;       /* wall time per service; 0: no cap */
	bool modern_only;         /* true: libssh's default algorithms only; false
	                             (default): also the old ones IoT devices use */
};

/* Fills c with the defaults. */
void kz_ssh_login_defaults(struct kz_ssh_login_config *c);

/* The plug-in. KZ_LOGIN_IO_FD. */
extern const struct kz_login_proto kz_login_proto_ssh;

#endif
