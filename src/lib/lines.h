/*
 * A line reader for the small text files users hand us (scope, exclude and
 * opt-out lists, credentials, pfx2as, operators, tokens). It keeps the path
 * and the line number so that every error can say "file:line: why", and it
 * caps the line length so that a file without newlines cannot exhaust memory.
 */
#ifndef KZ_LINES_H
#define KZ_LINES_H

#include <stddef.h>
#include <stdio.h>

#define KZ_LINES_MAX 65536 /* bytes in one line, without its newline */

struct kz_lines;

/* Opens path ("-" is stdin) for reading. Returns 0 or a negative errno. */
int kz_lines_open(const char *path, struct kz_lines **out) __attribute__((warn_unused_result));

/* Wraps an open stream (borrowed: not closed by kz_lines_close); name is used
 * in messages. Returns 0 or -ENOMEM. */
int kz_lines_from_stream(FILE *f, const char *name, struct kz_lines **out)
        __attribute__((warn_unused_result));

/* Reads the next line into an internal buffer, without its "\n" or "\r\n".
 * *line stays valid until the next call. Returns 1 for a line, 0 at the end,
 * -EMSGSIZE for a line over KZ_LINES_MAX (the rest of it is skipped, so the
 * caller may go on), -EINVAL for a NUL byte in the line, or another negative
 * errno for a read error. */
int kz_lines_next(struct kz_lines *lr, char **line, size_t *len)
        __attribute__((warn_unused_result));

/* The 1-based number of the line last returned. */
unsigned long kz_lines_number(const struct kz_lines *lr);

/* The path or name given at open. */
const char *kz_lines_path(const struct kz_lines *lr);

void kz_lines_close(struct kz_lines *lr);

/* Parses one open reader into *out (the caller's type); writes why into err
 * on failure. */
typedef int kz_lines_parse_fn(struct kz_lines *lr, void *out, char *err, size_t errlen);

/* Opens path ("-" is stdin) and hands it to parse. An open failure is
 * written as "path: why" into err. Returns what parse returns, or the
 * negative errno of the open. */
int kz_lines_parse_path(const char *path, kz_lines_parse_fn *parse, void *out, char *err,
                        size_t errlen) __attribute__((warn_unused_result));

/* The same over a buffer (borrowed for the call); name is used in messages.
 * An empty buffer is an empty file. */
int kz_lines_parse_mem(const char *name, const void *data, size_t len, kz_lines_parse_fn *parse,
                       void *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Writes "path:line: why" (the line last returned) into err and returns
 * -EINVAL: the message of a parser that stops at the first bad line. */
int kz_lines_fail(const struct kz_lines *lr, char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 4, 5), warn_unused_result));

/* The message for a negative kz_lines_next result rc: "path:line: line
 * longer than 65536 bytes" or "path:line: NUL byte in the line" (returns
 * -EINVAL), or "path: why" for a read error (returns rc). */
int kz_lines_error(const struct kz_lines *lr, int rc, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Cuts a '#' comment and leading and trailing blanks, in place. Returns the
 * start of what is left, which may be the empty string. */
char *kz_line_strip(char *line);

#endif
