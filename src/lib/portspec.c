/*
 * --ports parsing (portspec.h): one pass over the text, each entry checked
 * whole before the next, reasons naming the entry.
 */
#include "portspec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const app_names[] = { "telnet", "ssh", "http" };

static const struct kz_portspec well_known[] = {
	{ 22, KZ_APP_SSH },      { 2222, KZ_APP_SSH },  { 23, KZ_APP_TELNET },
	{ 2323, KZ_APP_TELNET }, { 80, KZ_APP_HTTP },   { 81, KZ_APP_HTTP },
	{ 8000, KZ_APP_HTTP },   { 8008, KZ_APP_HTTP }, { 8080, KZ_APP_HTTP },
	{ 8081, KZ_APP_HTTP },   { 8888, KZ_APP_HTTP },
};

const char *kz_app_name(enum kz_app app)
{
	return (unsigned)app < 3 ? app_names[app] : "?";
}

/* Parses one entry of len bytes at p. */
static int parse_entry(const char *p, size_t len, struct kz_portspec *e, char *why, size_t whylen)
{
	size_t i = 0;
	unsigned long port = 0;
	if (len == 0) {
		snprintf(why, whylen, "an empty entry");
		return -EINVAL;
	}
	while (i < len && p[i] >= '0' && p[i] <= '9' && port <= 65535)
		port = port * 10 + (unsigned long)(p[i++] - '0');
	if (i == 0 || (i < len && p[i] != '/')) {
		snprintf(why, whylen, "'%.*s': not PORT or PORT/PROTOCOL",
		         (int)(len > 40 ? 40 : len), p);
		return -EINVAL;
	}
	if (port == 0 || port > 65535 || (i > 1 && p[0] == '0')) {
		snprintf(why, whylen, "'%.*s': a port is 1 to 65535", (int)i > 40 ? 40 : (int)i, p);
		return -EINVAL;
	}
	e->port = (uint16_t)port;
	if (i == len) {
		for (size_t k = 0; k < sizeof well_known / sizeof well_known[0]; k++)
			if (well_known[k].port == port) {
				e->app = well_known[k].app;
				return 0;
			}
		snprintf(why, whylen,
		         "port %lu has no well-known protocol: write %lu/telnet, %lu/ssh "
		         "or %lu/http",
		         port, port, port, port);
		return -EINVAL;
	}
	const char *proto = p + i + 1;
	size_t plen = len - i - 1;
	for (size_t k = 0; k < 3; k++)
		if (strlen(app_names[k]) == plen && strncmp(proto, app_names[k], plen) == 0) {
			e->app = (enum kz_app)k;
			return 0;
		}
	snprintf(why, whylen, "'%.*s': unknown protocol (telnet, ssh or http)",
	         (int)(len > 40 ? 40 : len), p);
	return -EINVAL;
}

int kz_portspec_parse(const char *spec, struct kz_portspec *out, size_t cap, size_t *n, char *why,
                      size_t whylen)
{
	*n = 0;
	const char *p = spec;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		struct kz_portspec e;
		int rc = parse_entry(p, len, &e, why, whylen);
		if (rc < 0)
			return rc;
		for (size_t k = 0; k < *n; k++)
			if (out[k].port == e.port) {
				snprintf(why, whylen, "port %u is named twice", e.port);
				return -EINVAL;
			}
		if (*n == cap) {
			snprintf(why, whylen, "more than %zu ports", cap);
			return -E2BIG;
		}
		out[(*n)++] = e;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}
