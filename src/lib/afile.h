/*
 * Files that appear whole or not at all: written under a temporary name in
 * the target's directory, flushed to disk, then renamed over the target
 * (rename(2) is atomic within a file system). Reports in the outbox, MISP
 * feed files and `kizuki report --out` use it, so a consumer watching the
 * directory never reads half a report.
 */
#ifndef KZ_AFILE_H
#define KZ_AFILE_H

#include <stddef.h>
#include <stdio.h>

#define KZ_AFILE_PATH_MAX 4096

struct kz_afile {
	FILE *f; /* write here between open and commit */
	char path[KZ_AFILE_PATH_MAX];
	char tmp[KZ_AFILE_PATH_MAX];
};

/* Creates the temporary file beside path (mode 0600: reports may hold
 * passwords). Returns 0, or a
 * negative errno with "path: why" in err. */
int kz_afile_open(struct kz_afile *a, const char *path, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Flushes, fsyncs and renames the file into place. On failure the
 * temporary file is removed. Returns 0 or a negative errno with err set. */
int kz_afile_commit(struct kz_afile *a, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Drops the temporary file (after a failed write). Safe after commit. */
void kz_afile_abort(struct kz_afile *a);

/* Creates directory path (one level, mode 0750) unless it exists. Returns
 * 0 or a negative errno with err set. */
int kz_mkdir(const char *path, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
