/*
 * JSON Lines: one compact JSON object per line, UTF-8, "\n" after each. The
 * writer is how telescope and survey emit records (--events, --out, spools);
 * the reader is how the hub and the tools take them in, from a file or pipe
 * or from a POST body already in memory, line by line, with an error per bad
 * line that says which line and why.
 */
#ifndef KZ_JSONL_H
#define KZ_JSONL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The longest line either side handles, without its line terminator. */
#define KZ_JSONL_MAX_LINE (1024 * 1024)

/* Longest reason text in a struct kz_jsonl_error, with the NUL. */
#define KZ_JSONL_REASON_MAX 256

/* ------------------------------------------------------------------ writer */

struct kz_jsonl_writer;

#define KZ_JSONL_APPEND 0x1 /* open: append to an existing file, do not truncate */

/* Opens path for writing ("-" is stdout, which is not closed later). A new
 * file is created with mode 0600: survey records may hold credentials.
 * Returns 0 or a negative errno. */
int kz_jsonl_writer_open(const char *path, unsigned flags, struct kz_jsonl_writer **out)
        __attribute__((warn_unused_result));

/* Wraps an open stream (borrowed: flushed but not closed by close); name is
 * what kz_jsonl_writer_name returns. Returns 0 or -ENOMEM. */
int kz_jsonl_writer_from_stream(FILE *f, const char *name, struct kz_jsonl_writer **out)
        __attribute__((warn_unused_result));

/* Writes obj (borrowed) as one line: compact, keys sorted, so equal records
 * give equal bytes. A line is written whole or not at all as far as this
 * process can tell; the first error (-ENOSPC, -EIO, ...) sticks, and every
 * later call returns it. -EINVAL for a non-object, -EMSGSIZE for a line
 * over KZ_JSONL_MAX_LINE (nothing is written, the writer stays usable). */
int kz_jsonl_write(struct kz_jsonl_writer *w, const json_t *obj)
        __attribute__((warn_unused_result));

/* Writes a line formatted by the caller (borrowed: len bytes, its "\n"
 * included), which must be what kz_jsonl_write would write for its record:
 * for writers of many records that build the text by hand. The same
 * errors: sticky ones from the stream, -EMSGSIZE for a line over
 * KZ_JSONL_MAX_LINE, -EINVAL for one without its "\n". */
int kz_jsonl_write_line(struct kz_jsonl_writer *w, const char *line, size_t len)
        __attribute__((warn_unused_result));

/* Pushes buffered lines to the kernel (fflush). Returns 0 or the sticky
 * error: a full disk usually shows up here rather than in kz_jsonl_write. */
int kz_jsonl_flush(struct kz_jsonl_writer *w) __attribute__((warn_unused_result));

/* Flushes, closes the file if the writer opened it, frees the writer, and
 * returns the first error seen over the writer's life (0 if none). */
int kz_jsonl_writer_close(struct kz_jsonl_writer *w);

/* The path given at open ("<stdout>" for "-"), for messages. */
const char *kz_jsonl_writer_name(const struct kz_jsonl_writer *w);

/* Lines written so far. */
uint64_t kz_jsonl_writer_lines(const struct kz_jsonl_writer *w);

/* Serialises obj exactly as kz_jsonl_write does, "\n" included, into a new
 * NUL-terminated buffer the caller frees; *len excludes the NUL. Returns 0,
 * -EINVAL, -EMSGSIZE or -ENOMEM. For spools and POST bodies. */
int kz_jsonl_format(const json_t *obj, char **line, size_t *len)
        __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ reader */

struct kz_jsonl_reader;

/* Why a line was refused: its 1-based number and a reason (valid UTF-8, no
 * control characters, so it may go into a JSON reply or a log line). */
struct kz_jsonl_error {
	unsigned long line;
	char reason[KZ_JSONL_REASON_MAX];
};

/* Reads lines from f (borrowed, not closed). max_line caps a line's length
 * without its terminator; 0 means KZ_JSONL_MAX_LINE. The line buffer grows
 * as lines need, up to that cap. Returns 0 or -ENOMEM. */
int kz_jsonl_reader_stream(FILE *f, size_t max_line, struct kz_jsonl_reader **out)
        __attribute__((warn_unused_result));

/* Reads lines from buf[0..len) (borrowed: it must outlive the reader); no
 * copy is made. max_line as above. Returns 0 or -ENOMEM. */
int kz_jsonl_reader_memory(const void *buf, size_t len, size_t max_line,
                           struct kz_jsonl_reader **out) __attribute__((warn_unused_result));

/* The next record. Lines end at "\n"; a "\r" before it is dropped; a last
 * line without "\n" counts; lines of only blanks are skipped; a UTF-8 byte
 * order mark opening the input is skipped. Returns 1 with *obj (a new
 * reference the caller owns), 0 at the end, -EBADMSG for a refused line
 * (err says which and why; call again for the next line), or another
 * negative errno (-EIO) when reading failed, which ends the input. */
int kz_jsonl_next(struct kz_jsonl_reader *r, json_t **obj, struct kz_jsonl_error *err)
        __attribute__((warn_unused_result));

/* Framing without parsing: the next non-blank line, its terminator, "\r"
 * and an opening byte order mark removed, as 1 with *line and *len (valid until
 * the next call; pointing into the buffer for a memory reader), 0 at the
 * end, -EBADMSG for a line over the cap (err says which), or another
 * negative errno as kz_jsonl_next. Parse it with kz_jsonl_parse, or with
 * something faster that falls back to it. */
int kz_jsonl_next_line(struct kz_jsonl_reader *r, const char **line, size_t *len,
                       struct kz_jsonl_error *err) __attribute__((warn_unused_result));

/* Parses one framed line exactly as kz_jsonl_next does (UTF-8 checked, no
 * duplicate keys, U+0000 allowed, an object required). Returns 1 with *obj
 * (a new reference) or -EBADMSG with err->reason set (err->line is left as
 * it is). */
int kz_jsonl_parse(const char *line, size_t len, json_t **obj, struct kz_jsonl_error *err)
        __attribute__((warn_unused_result));

/* The bytes of the line kz_jsonl_next last returned as a record: without
 * its line terminator, "\r" or opening byte order mark. They stay valid
 * until the next call, and for a memory reader point into its buffer, so
 * the hub can store a record exactly as received. *len is 0 before the
 * first record. */
void kz_jsonl_reader_last(const struct kz_jsonl_reader *r, const char **line, size_t *len);

/* The 1-based number of the line last returned or refused. */
unsigned long kz_jsonl_reader_line(const struct kz_jsonl_reader *r);

void kz_jsonl_reader_free(struct kz_jsonl_reader *r);

#endif
