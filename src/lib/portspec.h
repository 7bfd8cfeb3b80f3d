/*
 * The survey's --ports SPEC (CONTRACT.md): a comma list of PORT/PROTOCOL or
 * bare PORT, where a bare number takes its well-known protocol. Protocols
 * are the ones stage 2 knows how to log in to: telnet, ssh, http.
 *
 *   23/telnet,2323/telnet,22/ssh,80/http,8080/http    (the default)
 *
 * Well-known numbers: 22 and 2222 ssh; 23 and 2323 telnet; 80, 81, 8000,
 * 8008, 8080, 8081 and 8888 http. Any other port needs its protocol
 * written out.
 */
#ifndef KZ_PORTSPEC_H
#define KZ_PORTSPEC_H

#include <stddef.h>
#include <stdint.h>

#define KZ_PORTSPEC_DEFAULT "23/telnet,2323/telnet,22/ssh,80/http,8080/http"
#define KZ_PORTSPEC_MAX     1024 /* ports in one spec */
#define KZ_PORTSPEC_WHY     128  /* bytes of a reason, with the NUL */

enum kz_app {
	KZ_APP_TELNET,
	KZ_APP_SSH,
	KZ_APP_HTTP,
};

struct kz_portspec {
	uint16_t port;
	enum kz_app app;
};

/* "telnet", "ssh", "http". */
const char *kz_app_name(enum kz_app app);

/* Parses spec into out[0..*n) (at most cap entries), in the order given.
 * Returns 0, or -EINVAL with a reason in why (which entry and what is
 * wrong: not a number, 0 or above 65535, an unknown protocol, a bare
 * number with no well-known protocol, a repeated port, an empty entry) or
 * -E2BIG beyond cap. */
int kz_portspec_parse(const char *spec, struct kz_portspec *out, size_t cap, size_t *n, char *why,
                      size_t whylen) __attribute__((warn_unused_result));

#endif
