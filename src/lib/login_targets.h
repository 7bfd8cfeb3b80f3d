/*
 * Stage-2 targets: one service to log in to, as stage 1 finds it or as a
 * --targets-file names it.
 *
 * File format: one target per line,
 *
 *   address:port/app        192.0.2.1:23/telnet
 *   [ipv6-address]:port/app [2001:db8::1]:22/ssh
 *
 * app is telnet, ssh or http; '#' starts a comment, blank lines are
 * skipped. Errors name the file and line with the reason; a target listed
 * twice is loaded once, with a warning that names both lines.
 */
#ifndef KZ_LOGIN_TARGETS_H
#define KZ_LOGIN_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "login.h"

/* Targets one file may hold. */
#define KZ_LOGIN_TARGETS_MAX (1u << 22)
/* Errors reported in full per file before the rest are only counted. */
#define KZ_LOGIN_TARGETS_MAX_REPORTS 10

struct kz_login_target {
	struct kz_addr addr;
	uint16_t port;
	uint8_t app;      /* enum kz_login_app */
	int64_t found_at; /* when stage 1 saw the port open (epoch seconds); 0: unknown */
};

/* The name of an application ("telnet", "ssh", "http"), or NULL. */
const char *kz_login_app_name(enum kz_login_app app);

/* The application named s, exactly as kz_login_app_name writes it. Returns
 * 0 or -EINVAL. */
int kz_login_app_parse(const char *s, enum kz_login_app *app) __attribute__((warn_unused_result));

/* Parses one target ("192.0.2.1:23/telnet", "[2001:db8::1]:22/ssh").
 * Returns 0, or -EINVAL with *why set to a static reason. */
int kz_login_target_parse(const char *s, struct kz_login_target *t, const char **why)
        __attribute__((warn_unused_result));

/* Formats a target as the file writes it into buf (at least 64 bytes). */
char *kz_login_target_format(const struct kz_login_target *t, char *buf, size_t len);

/* Loads a targets file ("-" is stdin) into a new array *out of *n targets
 * (the caller frees it), in file order. Every fault is logged through kz_err
 * as "path:line: why" and the load fails: -EINVAL for faults or a file with
 * no target, -E2BIG beyond KZ_LOGIN_TARGETS_MAX, -ENOMEM, or the negative
 * errno of opening or reading the file (logged). */
int kz_login_targets_load(const char *path, struct kz_login_target **out, size_t *n)
        __attribute__((warn_unused_result));

#endif
