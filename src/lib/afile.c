/*
 * Atomic file replacement (see afile.h): mkstemp beside the target, write,
 * fflush + fsync, rename, fsync the directory so that the rename itself
 * survives a crash.
 */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kz_afile_open(struct kz_afile *a, const char *path, char *err, size_t errlen)
{
	char dir[KZ_AFILE_PATH_MAX], base[KZ_AFILE_PATH_MAX];
	memset(a, 0, sizeof *a);
	if (strlen(path) + 16 >= sizeof a->tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(a->path, sizeof a->path, "%s", path);
	snprintf(dir, sizeof dir, "%s", path);
	snprintf(base, sizeof base, "%s", path);
	snprintf(a->tmp, sizeof a->tmp, "%s/.%s.XXXXXX", dirname(dir), basename(base));
	int fd = mkstemp(a->tmp);
	if (fd < 0) {
		int rc = -errno;
		snprintf(err, errlen, "%s: cannot create a file there: %s", path, strerror(errno));
		a->tmp[0] = '\0';
		return rc;
	}
	if (fchmod(fd, 0600) != 0 || !(a->f = fdopen(fd, "w"))) {
		int rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(a->tmp);
		a->tmp[0] = '\0';
		return rc;
	}
	return 0;
}

int kz_afile_commit(struct kz_afile *a, char *err, size_t errlen)
{
	int rc = 0;
	if (!a->f)
		return -EINVAL;
	if (fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0)
		rc = -(errno ? errno : EIO);
	if (fclose(a->f) != 0 && rc == 0)
		rc = -(errno ? errno : EIO);
	a->f = NULL;
	if (rc == 0 && rename(a->tmp, a->path) != 0)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "%s: %s", a->path, strerror(-rc));
		unlink(a->tmp);
		a->tmp[0] = '\0';
		return rc;
	}
	a->tmp[0] = '\0';
	char dir[KZ_AFILE_PATH_MAX];
	snprintf(dir, sizeof dir, "%s", a->path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

void kz_afile_abort(struct kz_afile *a)
{
	if (a->f)
		fclose(a->f);
	a->f = NULL;
	if (a->tmp[0])
		unlink(a->tmp);
	a->tmp[0] = '\0';
}

int kz_mkdir(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	if (mkdir(path, 0750) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	int rc = errno == EEXIST ? -ENOTDIR : -errno;
	snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}
