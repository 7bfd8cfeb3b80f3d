/*
 * UTC times as text: ISO 8601 / RFC 3339 formatting at second precision
 * ("2026-11-27T16:19:54Z", every record and report) and at millisecond
 * precision (STIX), and strict parsing of what users and other producers
 * hand us (--since, record times). Pure arithmetic on the proleptic Gregorian
 * calendar: nothing here reads the TZ environment variable or the C library's
 * locale-dependent time functions.
 */
#ifndef KZ_TIMEFMT_H
#define KZ_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define KZ_TIME_STRLEN    21 /* "YYYY-MM-DDTHH:MM:SSZ" and a NUL */
#define KZ_TIME_MS_STRLEN 25 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" and a NUL */

/* The representable range: years 0000 to 9999, in seconds since the epoch. */
#define KZ_TIME_MIN INT64_C(-62167219200) /* 0000-01-01T00:00:00Z */
#define KZ_TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

/* Writes sec (seconds since 1970-01-01T00:00:00Z) as "YYYY-MM-DDTHH:MM:SSZ"
 * into buf. Returns 0, or -ERANGE outside KZ_TIME_MIN..KZ_TIME_MAX (buf then
 * holds the empty string). */
int kz_time_format(int64_t sec, char buf[KZ_TIME_STRLEN]) __attribute__((warn_unused_result));

/* Writes ms (milliseconds since the epoch) as "YYYY-MM-DDTHH:MM:SS.mmmZ", the
 * form STIX 2.1 timestamps take. Returns 0 or -ERANGE as above. */
int kz_time_format_ms(int64_t ms, char buf[KZ_TIME_MS_STRLEN]) __attribute__((warn_unused_result));

/* Parses exactly len bytes (no NUL needed) in one of these forms:
 *   YYYY-MM-DD                                   (midnight UTC)
 *   YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
 * The fraction has 1 to 9 digits; an offset is subtracted to give UTC. A time
 * without a zone, lowercase 't'/'z', a space for 'T', leap second 60, reduced
 * precision and trailing bytes are errors. On success stores whole seconds
 * (rounded toward the past) in *sec and the fraction in *nsec (0..999999999);
 * on error returns -EINVAL and points *why at a static reason. */
int kz_time_parse_mem(const char *s, size_t len, int64_t *sec, uint32_t *nsec, const char **why)
        __attribute__((warn_unused_result));

/* As kz_time_parse_mem on a NUL-terminated string; the fraction is dropped
 * (the time is rounded toward the past to the second). */
int kz_time_parse(const char *s, int64_t *sec, const char **why)
        __attribute__((warn_unused_result));

/* As kz_time_parse_mem, giving nanoseconds since the epoch; times outside
 * what an int64_t of nanoseconds holds (about 1677 to 2262) are an error. */
int kz_time_parse_ns(const char *s, int64_t *ns, const char **why)
        __attribute__((warn_unused_result));

#endif
