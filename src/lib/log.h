/*
 * Logging for libkizuki. The library never prints: it hands each message to
 * a callback that the program sets once at start-up. A message is one line
 * without a trailing newline, already formatted; the program decides where
 * it goes and prefixes it (CONTRACT.md's "kizuki <sub>: <what>: <why>").
 */
#ifndef KZ_LOG_H
#define KZ_LOG_H

#include <stdarg.h>

enum kz_log_level {
	KZ_LOG_ERROR = 0,
	KZ_LOG_WARN = 1,
	KZ_LOG_INFO = 2,
	KZ_LOG_DEBUG = 3,
};

/* Receives one formatted message. Must be callable from any thread. */
typedef void kz_log_fn(enum kz_log_level level, const char *msg, void *userdata);

/* Sets the callback and the most verbose level passed to it. NULL restores the
 * default, which discards everything. Call before starting threads. */
void kz_log_set_handler(kz_log_fn *fn, void *userdata, enum kz_log_level max_level);

/* True when a message at this level would reach the callback. */
int kz_log_enabled(enum kz_log_level level);

/* Formats and delivers one message. Messages longer than 1 KiB are cut. */
void kz_log(enum kz_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kz_vlog(enum kz_log_level level, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

#define kz_err(...)   kz_log(KZ_LOG_ERROR, __VA_ARGS__)
#define kz_warn(...)  kz_log(KZ_LOG_WARN, __VA_ARGS__)
#define kz_info(...)  kz_log(KZ_LOG_INFO, __VA_ARGS__)
#define kz_debug(...) kz_log(KZ_LOG_DEBUG, __VA_ARGS__)

/* The name of a level: "error", "warning", "info", "debug". */
const char *kz_log_level_name(enum kz_log_level level);

#endif
