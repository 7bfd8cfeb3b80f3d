/*
 * The log callback is process-wide state set once by the program before it
 * starts threads; afterwards it is only read, so no lock is needed.
 */
#include "log.h"

#include <stdio.h>

static kz_log_fn *log_fn;
static void *log_userdata;
static enum kz_log_level log_max = KZ_LOG_INFO;

void kz_log_set_handler(kz_log_fn *fn, void *userdata, enum kz_log_level max_level)
{
	log_fn = fn;
	log_userdata = userdata;
	log_max = max_level;
}

int kz_log_enabled(enum kz_log_level level)
{
	return log_fn != NULL && level <= log_max;
}

void kz_vlog(enum kz_log_level level, const char *fmt, va_list ap)
{
	if (!kz_log_enabled(level))
		return;
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	log_fn(level, msg, log_userdata);
}

void kz_log(enum kz_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kz_vlog(level, fmt, ap);
	va_end(ap);
}

const char *kz_log_level_name(enum kz_log_level level)
{
	switch (level) {
	case KZ_LOG_ERROR:
		return "error";
	case KZ_LOG_WARN:
		return "warning";
	case KZ_LOG_INFO:
		return "info";
	case KZ_LOG_DEBUG:
		return "debug";
	}
	return "?";
}
