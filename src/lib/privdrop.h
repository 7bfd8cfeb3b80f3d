/*
 * Least privilege (STYLE.md 9): a program that needed root or CAP_NET_RAW
 * only to open its raw or capture sockets gives everything up once they are
 * open, before it reads a single packet from the network.
 *
 * As root: clear the capability bounding and ambient sets, drop
 * supplementary groups, then setgid and setuid to an unprivileged user
 * ("nobody" unless told otherwise). Not root but holding capabilities (a
 * binary given cap_net_raw with setcap): clear every capability set. In both
 * cases PR_SET_NO_NEW_PRIVS, so no later exec can gain privileges, and a
 * check that regaining root fails.
 */
#ifndef KZ_PRIVDROP_H
#define KZ_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>

/* What kz_privdrop did. */
struct kz_privdrop_result {
	bool changed_user; /* was root, is now uid/gid below */
	uid_t uid;
	gid_t gid;
};

/* Drops privileges as above; user is the account to become when root (NULL
 * means "nobody"; an unknown name is an error). Returns 0, or a negative
 * errno with the reason logged; on error the caller must not go on. */
int kz_privdrop(const char *user, struct kz_privdrop_result *res)
        __attribute__((warn_unused_result));

#endif
