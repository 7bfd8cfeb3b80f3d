#include "lines.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct kz_lines {
	FILE *f;
	int owned;
	unsigned long number;
	char *name;
	char buf[KZ_LINES_MAX + 1];
};

static int lines_new(FILE *f, int owned, const char *name, struct kz_lines **out)
{
	struct kz_lines *lr = malloc(sizeof *lr);
	if (!lr)
		return -ENOMEM;
	lr->name = strdup(name);
	if (!lr->name) {
		free(lr);
		return -ENOMEM;
	}
	lr->f = f;
	lr->owned = owned;
	lr->number = 0;
	*out = lr;
	return 0;
}

int kz_lines_open(const char *path, struct kz_lines **out)
{
	if (strcmp(path, "-") == 0)
		return lines_new(stdin, 0, "<stdin>", out);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	int rc = lines_new(f, 1, path, out);
	if (rc)
		fclose(f);
	return rc;
}

int kz_lines_from_stream(FILE *f, const char *name, struct kz_lines **out)
{
	return lines_new(f, 0, name, out);
}

int kz_lines_next(struct kz_lines *lr, char **line, size_t *len)
{
	size_t n = 0;
	int c, too_long = 0, has_nul = 0;
	while ((c = getc_unlocked(lr->f)) != EOF && c != '\n') {
		if (c == '\0')
			has_nul = 1;
		if (n < KZ_LINES_MAX)
			lr->buf[n++] = (char)c;
		else
			too_long = 1;
	}
	if (c == EOF) {
		if (ferror(lr->f))
			return -EIO;
		if (n == 0 && !too_long)
			return 0;
	}
	lr->number++;
	if (too_long)
		return -EMSGSIZE;
	if (has_nul)
		return -EINVAL;
	if (n > 0 && lr->buf[n - 1] == '\r')
		n--;
	lr->buf[n] = '\0';
	*line = lr->buf;
	*len = n;
	return 1;
}

unsigned long kz_lines_number(const struct kz_lines *lr)
{
	return lr->number;
}

const char *kz_lines_path(const struct kz_lines *lr)
{
	return lr->name;
}

void kz_lines_close(struct kz_lines *lr)
{
	if (!lr)
		return;
	if (lr->owned)
		fclose(lr->f);
	free(lr->name);
	free(lr);
}

int kz_lines_parse_path(const char *path, kz_lines_parse_fn *parse, void *out, char *err,
                        size_t errlen)
{
	struct kz_lines *lr;
	int rc = kz_lines_open(path, &lr);
	if (rc) {
		if (errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = parse(lr, out, err, errlen);
	kz_lines_close(lr);
	return rc;
}

int kz_lines_parse_mem(const char *name, const void *data, size_t len, kz_lines_parse_fn *parse,
                       void *out, char *err, size_t errlen)
{
	/* fmemopen refuses a zero-length buffer; /dev/null reads as empty. */
	FILE *f = len ? fmemopen((void *)data, len, "r") : fopen("/dev/null", "re");
	if (!f)
		return -errno;
	struct kz_lines *lr;
	int rc = kz_lines_from_stream(f, name, &lr);
	if (rc == 0) {
		rc = parse(lr, out, err, errlen);
		kz_lines_close(lr);
	}
	fclose(f);
	return rc;
}

int kz_lines_fail(const struct kz_lines *lr, char *err, size_t errlen, const char *fmt, ...)
{
	/* The reason first (cut at 255 bytes), then where it was found. */
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (errlen)
		snprintf(err, errlen, "%s:%lu: %s", lr->name, lr->number, msg);
	return -EINVAL;
}

int kz_lines_error(const struct kz_lines *lr, int rc, char *err, size_t errlen)
{
	if (rc == -EMSGSIZE)
		return kz_lines_fail(lr, err, errlen, "line longer than %d bytes", KZ_LINES_MAX);
	if (rc == -EINVAL)
		return kz_lines_fail(lr, err, errlen, "NUL byte in the line");
	if (errlen)
		snprintf(err, errlen, "%s: %s", lr->name, strerror(-rc));
	return rc;
}

char *kz_line_strip(char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}
