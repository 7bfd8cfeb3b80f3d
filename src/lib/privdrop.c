/*
 * Dropping privileges (privdrop.h). Capabilities are cleared with the raw
 * capset(2) system call rather than libcap, which kizuki does not otherwise
 * need: the whole job is "every set empty", one call with zeroed data.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

/* Empties the effective, permitted and inheritable sets of this thread. */
static int clear_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

/* The highest capability number the running kernel knows. */
static int last_cap(void)
{
	int last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

int kz_privdrop(const char *user, struct kz_privdrop_result *res)
{
	memset(res, 0, sizeof *res);
	res->uid = geteuid();
	res->gid = getegid();
	if (geteuid() == 0) {
		const char *name = user ? user : "nobody";
		struct passwd *pw = getpwnam(name);
		if (!pw) {
			kz_err("cannot drop privileges: no user '%s'", name);
			return -ENOENT;
		}
		if (pw->pw_uid == 0) {
			kz_err("cannot drop privileges: user '%s' is root", name);
			return -EINVAL;
		}
		uid_t uid = pw->pw_uid;
		gid_t gid = pw->pw_gid;
		/* While still privileged: nothing this process or its children
		 * run later may hold a capability again. */
		for (int cap = 0; cap <= last_cap(); cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
				kz_err("cannot drop privileges: PR_CAPBSET_DROP: %s",
				       strerror(errno));
				return -errno;
			}
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0) {
			int e = errno;
			kz_err("cannot drop privileges to '%s': %s", name, strerror(e));
			return -e;
		}
		res->changed_user = true;
		res->uid = uid;
		res->gid = gid;
	}
	/* Leaving root cleared the sets already; a non-root process may still
	 * hold file capabilities. */
	int rc = clear_caps();
	if (rc < 0) {
		kz_err("cannot drop capabilities: %s", strerror(-rc));
		return rc;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		int e = errno;
		kz_err("cannot set no-new-privileges: %s", strerror(e));
		return -e;
	}
	if (res->changed_user && (setuid(0) == 0 || seteuid(0) == 0)) {
		kz_err("privileges were not dropped: root could be regained");
		return -EPERM;
	}
	return 0;
}
