/*
 * The operators file (CONTRACT.md "Files"): which network operator answers
 * for an AS and where its abuse reports go.
 *
 *   asn<TAB>name<TAB>abuse-contact[<TAB>renotify-sec]
 *
 * '#' starts a comment, blank lines are skipped. asn is 1..4294967295
 * (an "AS" prefix is accepted), the name is any non-empty UTF-8 text, the
 * contact an e-mail address (or a URL for operators who take reports by
 * web form), renotify-sec how often an unchanged finding may be reported
 * again (seconds; absent means the hub's default). An AS listed twice is an
 * error: which line would win is not obvious to whoever edits the file.
 *
 * A table is immutable after loading; the hub swaps whole tables on reload.
 */
#ifndef KZ_OPERATORS_H
#define KZ_OPERATORS_H

#include <stddef.h>
#include <stdint.h>

struct kz_operators;

/* One operator. Strings are owned by the table. */
struct kz_operator {
	uint32_t asn;
	const char *name;
	const char *abuse_contact;
	int64_t renotify_sec; /* -1 when the line gave none */
};

#define KZ_OPERATOR_TEXT_MAX 512 /* bytes in a name or a contact */

/* Loads a file ("-" is stdin). Returns 0, or a negative errno with
 * "path:line: why" (or "path: why") in err. */
int kz_operators_load(const char *path, struct kz_operators **out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* The same from bytes in memory (borrowed); name stands for the path. */
int kz_operators_load_mem(const char *name, const void *data, size_t len, struct kz_operators **out,
                          char *err, size_t errlen) __attribute__((warn_unused_result));

void kz_operators_free(struct kz_operators *ops);

/* The operator of an AS, or NULL. Borrowed from the table. */
const struct kz_operator *kz_operators_find(const struct kz_operators *ops, uint32_t asn);

/* All operators in AS order, for syncing the store's copy. */
size_t kz_operators_count(const struct kz_operators *ops);
const struct kz_operator *kz_operators_at(const struct kz_operators *ops, size_t i);

#endif
