/*
 * JSON Lines on jansson.
 *
 * Writer: each record is dumped with JSON_COMPACT | JSON_SORT_KEYS into a
 * buffer the writer keeps (grown up to the line cap, never shrunk), then
 * handed to stdio in one fwrite with its "\n". Dumping first means a record
 * that cannot be serialised writes nothing, and the sorted keys make the
 * bytes depend on the record only, not on the order it was built in. Errors
 * stick: after the disk fills, every call says so, so a caller that checks
 * only kz_jsonl_writer_close still learns that lines were lost.
 *
 * Reader: the line is the unit of error, so the framing is done here and
 * only the line goes to json_loadb. From memory, lines are found with memchr
 * and parsed in place: nothing is copied, and an over-long line costs a scan,
 * not memory. From a stream, bytes are taken with getc_unlocked into a buffer
 * that grows by doubling up to the cap; past the cap the rest of the line is
 * read and dropped without being stored. Both paths share parse_line, and
 * neither allocates per byte; the fuzz harness drives both.
 *
 * JSON_ALLOW_NUL is on: our own banners may hold U+0000 (as "\u0000"), and a
 * reader that refused what the writer writes would be a bug. Code that takes
 * strings out of these records uses json_string_length, not strlen.
 */
#include "jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"

/* ------------------------------------------------------------------ writer */

struct kz_jsonl_writer {
	FILE *f;
	bool owned;
	int err;        /* first error, sticky; 0 if none */
	uint64_t lines; /* written */
	char *name;
	char *buf; /* the line being built */
	size_t len, cap;
};

struct dumpbuf {
	char *buf;
	size_t len, cap;
	bool too_long;
	bool nomem;
};

/* jansson's dump callback: appends to the buffer, refusing past the cap. */
static int dump_append(const char *p, size_t n, void *data)
{
	struct dumpbuf *d = data;
	/* +1 for the "\n", +1 for a NUL. */
	if (n > KZ_JSONL_MAX_LINE - d->len) {
		d->too_long = true;
		return -1;
	}
	if (d->len + n + 2 > d->cap) {
		size_t want = d->cap ? d->cap : 1024;
		while (want < d->len + n + 2)
			want *= 2;
		char *nb = realloc(d->buf, want);
		if (!nb) {
			d->nomem = true;
			return -1;
		}
		d->buf = nb;
		d->cap = want;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	return 0;
}

/* Dumps obj and a "\n" into d (reusing its buffer). */
static int dump_line(const json_t *obj, struct dumpbuf *d)
{
	if (!json_is_object(obj))
		return -EINVAL;
	d->len = 0;
	d->too_long = d->nomem = false;
	if (json_dump_callback(obj, dump_append, d, JSON_COMPACT | JSON_SORT_KEYS) != 0)
		return d->too_long ? -EMSGSIZE : -ENOMEM;
	/* dump_append always leaves room for these two bytes. */
	if (!d->buf)
		return -ENOMEM;
	d->buf[d->len++] = '\n';
	d->buf[d->len] = '\0';
	return 0;
}

static int writer_new(FILE *f, bool owned, const char *name, struct kz_jsonl_writer **out)
{
	struct kz_jsonl_writer *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->name = strdup(name);
	if (!w->name) {
		free(w);
		return -ENOMEM;
	}
	w->f = f;
	w->owned = owned;
	*out = w;
	return 0;
}

int kz_jsonl_writer_open(const char *path, unsigned flags, struct kz_jsonl_writer **out)
{
	if (strcmp(path, "-") == 0)
		return writer_new(stdout, false, "<stdout>", out);
	int oflags = O_WRONLY | O_CREAT | O_CLOEXEC;
	oflags |= (flags & KZ_JSONL_APPEND) ? O_APPEND : O_TRUNC;
	int fd = open(path, oflags, 0600);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, (flags & KZ_JSONL_APPEND) ? "a" : "w");
	if (!f) {
		int e = errno;
		close(fd);
		return -e;
	}
	int rc = writer_new(f, true, path, out);
	if (rc)
		fclose(f);
	return rc;
}

int kz_jsonl_writer_from_stream(FILE *f, const char *name, struct kz_jsonl_writer **out)
{
	return writer_new(f, false, name, out);
}

/* Records the first error and returns the sticky one. */
static int writer_fail(struct kz_jsonl_writer *w, int e)
{
	if (!w->err)
		w->err = e ? e : -EIO;
	return w->err;
}

int kz_jsonl_write(struct kz_jsonl_writer *w, const json_t *obj)
{
	if (w->err)
		return w->err;
	struct dumpbuf d = { w->buf, 0, w->cap, false, false };
	int rc = dump_line(obj, &d);
	w->buf = d.buf;
	w->cap = d.cap;
	if (rc)
		return rc == -ENOMEM ? writer_fail(w, rc) : rc;
	errno = 0;
	if (fwrite(d.buf, 1, d.len, w->f) != d.len)
		return writer_fail(w, -errno);
	w->lines++;
	return 0;
}

int kz_jsonl_write_line(struct kz_jsonl_writer *w, const char *line, size_t len)
{
	if (w->err)
		return w->err;
	if (len == 0 || line[len - 1] != '\n')
		return -EINVAL;
	if (len - 1 > KZ_JSONL_MAX_LINE)
		return -EMSGSIZE;
	errno = 0;
	if (fwrite(line, 1, len, w->f) != len)
		return writer_fail(w, -errno);
	w->lines++;
	return 0;
}

int kz_jsonl_flush(struct kz_jsonl_writer *w)
{
	if (w->err)
		return w->err;
	errno = 0;
	if (fflush(w->f) != 0)
		return writer_fail(w, -errno);
	return 0;
}

int kz_jsonl_writer_close(struct kz_jsonl_writer *w)
{
	if (!w)
		return 0;
	/* A flush error sticks in w->err and is returned below; the file is
	 * closed whatever happened. */
	int rc = kz_jsonl_flush(w);
	if (w->owned) {
		errno = 0;
		if (fclose(w->f) != 0)
			writer_fail(w, -errno);
	}
	rc = w->err;
	free(w->buf);
	free(w->name);
	free(w);
	return rc;
}

const char *kz_jsonl_writer_name(const struct kz_jsonl_writer *w)
{
	return w->name;
}

uint64_t kz_jsonl_writer_lines(const struct kz_jsonl_writer *w)
{
	return w->lines;
}

int kz_jsonl_format(const json_t *obj, char **line, size_t *len)
{
	struct dumpbuf d = { NULL, 0, 0, false, false };
	int rc = dump_line(obj, &d);
	if (rc) {
		free(d.buf);
		return rc;
	}
	*line = d.buf;
	*len = d.len;
	return 0;
}

/* ------------------------------------------------------------------ reader */

struct kz_jsonl_reader {
	/* Exactly one source: f, or mem[0..mem_len). */
	FILE *f;
	const char *mem;
	size_t mem_len, mem_pos;
	size_t max_line;
	unsigned long line;
	bool at_start; /* nothing read yet: a byte order mark may follow */
	bool done;     /* end of input or a read error was returned */
	char *buf;     /* stream mode: the current line */
	size_t cap;
	const char *last; /* the last record's bytes (kz_jsonl_reader_last) */
	size_t last_len;
};

static int reader_new(size_t max_line, struct kz_jsonl_reader **out)
{
	struct kz_jsonl_reader *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->max_line = max_line ? max_line : KZ_JSONL_MAX_LINE;
	r->at_start = true;
	*out = r;
	return 0;
}

int kz_jsonl_reader_stream(FILE *f, size_t max_line, struct kz_jsonl_reader **out)
{
	int rc = reader_new(max_line, out);
	if (rc == 0)
		(*out)->f = f;
	return rc;
}

int kz_jsonl_reader_memory(const void *buf, size_t len, size_t max_line,
                           struct kz_jsonl_reader **out)
{
	int rc = reader_new(max_line, out);
	if (rc == 0) {
		(*out)->mem = buf;
		(*out)->mem_len = len;
	}
	return rc;
}

void kz_jsonl_reader_free(struct kz_jsonl_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

unsigned long kz_jsonl_reader_line(const struct kz_jsonl_reader *r)
{
	return r->line;
}

/* What the framing found. */
enum frame { FRAME_LINE, FRAME_END, FRAME_TOO_LONG, FRAME_IO, FRAME_NOMEM };

/* Next line from memory: p/len point into the caller's buffer. */
static enum frame next_mem(struct kz_jsonl_reader *r, const char **p, size_t *len)
{
	size_t rest = r->mem_len - r->mem_pos;
	if (rest == 0)
		return FRAME_END;
	const char *start = r->mem + r->mem_pos;
	const char *nl = memchr(start, '\n', rest);
	size_t n = nl ? (size_t)(nl - start) : rest;
	r->mem_pos += n + (nl ? 1 : 0);
	*p = start;
	*len = n;
	return FRAME_LINE;
}

/* Makes room for one more byte in the stream buffer; the buffer never holds
 * more than max_line + 1 bytes (a full line and its "\r"). */
static bool grow(struct kz_jsonl_reader *r, size_t need)
{
	if (need <= r->cap)
		return true;
	size_t want = r->cap ? r->cap * 2 : 4096;
	if (want > r->max_line + 1)
		want = r->max_line + 1;
	if (want < need)
		return false;
	char *nb = realloc(r->buf, want);
	if (!nb)
		return false;
	r->buf = nb;
	r->cap = want;
	return true;
}

/* Next line from the stream. Past max_line + 1 bytes the rest of the line is
 * consumed and dropped, so memory stays bounded whatever the input. */
static enum frame next_stream(struct kz_jsonl_reader *r, const char **p, size_t *len)
{
	size_t n = 0;
	bool too_long = false;
	int c;
	while ((c = getc_unlocked(r->f)) != EOF && c != '\n') {
		if (too_long)
			continue;
		if (n >= r->max_line + 1) {
			too_long = true;
			continue;
		}
		if (!grow(r, n + 1))
			return FRAME_NOMEM;
		r->buf[n++] = (char)c;
	}
	if (c == EOF) {
		if (ferror(r->f))
			return FRAME_IO;
		if (n == 0 && !too_long)
			return FRAME_END;
	}
	if (too_long)
		return FRAME_TOO_LONG;
	*p = r->buf ? r->buf : "";
	*len = n;
	return FRAME_LINE;
}

__attribute__((format(printf, 2, 3))) static void set_reason(struct kz_jsonl_error *err,
                                                             const char *fmt, ...)
{
	char raw[KZ_JSONL_REASON_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* jansson quotes the input near the error and may cut it anywhere:
	 * make the reason valid UTF-8 without control characters. */
	char clean[KZ_UTF8_SANITIZED_SIZE(KZ_JSONL_REASON_MAX)];
	size_t n = kz_utf8_sanitize((const uint8_t *)raw, strlen(raw), KZ_JSONL_REASON_MAX / 3 * 3,
	                            clean, NULL);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
			clean[i] = '?';
	/* Cut to the reason's size on a character boundary. */
	size_t keep = n < KZ_JSONL_REASON_MAX - 1 ? n : KZ_JSONL_REASON_MAX - 1;
	while (keep > 0 && keep < n && ((unsigned char)clean[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(err->reason, clean, keep);
	err->reason[keep] = '\0';
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	case JSON_OBJECT:
		break;
	}
	return "an object";
}

static bool blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* Frames one line: drops "\r" and an opening byte order mark, checks the
 * cap. Returns 1 (a line in *p and *len), 0 (blank: skip) or -EBADMSG. */
static int frame_line(struct kz_jsonl_reader *r, const char **p, size_t *len,
                      struct kz_jsonl_error *err)
{
	bool first = r->at_start;
	r->at_start = false;
	if (*len > 0 && (*p)[*len - 1] == '\r')
		(*len)--;
	/* Checked before the byte order mark goes, so that both framings,
	 * which count the mark as part of the line, agree. */
	if (*len > r->max_line) {
		set_reason(err, "line longer than %zu bytes", r->max_line);
		return -EBADMSG;
	}
	if (first && *len >= 3 && memcmp(*p, "\xef\xbb\xbf", 3) == 0) {
		*p += 3;
		*len -= 3;
	}
	if (blank(*p, *len))
		return 0;
	return 1;
}

int kz_jsonl_parse(const char *p, size_t len, json_t **obj, struct kz_jsonl_error *err)
{
	*obj = NULL;
	size_t bad = kz_utf8_check((const uint8_t *)p, len);
	if (bad < len) {
		set_reason(err, "invalid UTF-8 at byte %zu", bad + 1);
		return -EBADMSG;
	}
	/* A raw NUL is never JSON (RFC 8259: none outside strings, none
	 * unescaped in them), but jansson 2.14 reads past one that follows a
	 * literal: `{"a":false<NUL>}` would load, and be stored as received. */
	const char *nul = memchr(p, '\0', len);
	if (nul) {
		set_reason(err, "NUL byte at byte %zu (not JSON)", (size_t)(nul - p) + 1);
		return -EBADMSG;
	}
	json_error_t jerr;
	json_t *v = json_loadb(p, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	                       &jerr);
	if (!v) {
		set_reason(err, "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return -EBADMSG;
	}
	if (!json_is_object(v)) {
		set_reason(err, "not a JSON object but %s", json_kind(v));
		json_decref(v);
		return -EBADMSG;
	}
	*obj = v;
	return 1;
}

/* Parses one framed line. Returns 1 (object), 0 (blank: skip) or -EBADMSG. */
static int parse_line(struct kz_jsonl_reader *r, const char *p, size_t len, json_t **obj,
                      struct kz_jsonl_error *err)
{
	int rc = frame_line(r, &p, &len, err);
	if (rc <= 0)
		return rc;
	rc = kz_jsonl_parse(p, len, obj, err);
	if (rc == 1) {
		r->last = p;
		r->last_len = len;
	}
	return rc;
}

void kz_jsonl_reader_last(const struct kz_jsonl_reader *r, const char **line, size_t *len)
{
	*line = r->last ? r->last : "";
	*len = r->last_len;
}

/* The framing half of kz_jsonl_next: with want_json false, hands back the
 * framed line instead of parsing it. */
static int next_any(struct kz_jsonl_reader *r, bool want_json, json_t **obj, const char **line,
                    size_t *line_len, struct kz_jsonl_error *err);

int kz_jsonl_next(struct kz_jsonl_reader *r, json_t **obj, struct kz_jsonl_error *err)
{
	return next_any(r, true, obj, NULL, NULL, err);
}

int kz_jsonl_next_line(struct kz_jsonl_reader *r, const char **line, size_t *len,
                       struct kz_jsonl_error *err)
{
	return next_any(r, false, NULL, line, len, err);
}

static int next_any(struct kz_jsonl_reader *r, bool want_json, json_t **obj, const char **line,
                    size_t *line_len, struct kz_jsonl_error *err)
{
	if (obj)
		*obj = NULL;
	err->line = 0;
	err->reason[0] = '\0';
	for (;;) {
		if (r->done)
			return 0;
		const char *p = NULL;
		size_t len = 0;
		enum frame fr = r->f ? next_stream(r, &p, &len) : next_mem(r, &p, &len);
		switch (fr) {
		case FRAME_END:
			r->done = true;
			return 0;
		case FRAME_IO:
			r->done = true;
			err->line = r->line + 1;
			set_reason(err, "read error");
			return -EIO;
		case FRAME_NOMEM:
			/* The rest of the line is still unread: the input cannot go on. */
			r->done = true;
			err->line = r->line + 1;
			set_reason(err, "out of memory");
			return -ENOMEM;
		case FRAME_TOO_LONG:
			r->line++;
			r->at_start = false;
			err->line = r->line;
			set_reason(err, "line longer than %zu bytes", r->max_line);
			return -EBADMSG;
		case FRAME_LINE:
			break;
		}
		r->line++;
		err->line = r->line;
		int rc;
		if (want_json) {
			rc = parse_line(r, p, len, obj, err);
		} else {
			rc = frame_line(r, &p, &len, err);
			if (rc == 1) {
				*line = p;
				*line_len = len;
				r->last = p;
				r->last_len = len;
			}
		}
		if (rc != 0)
			return rc;
		err->line = 0;
	}
}
