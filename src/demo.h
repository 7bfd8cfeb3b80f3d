/*
 * What the parts of `kizuki demo` share (src/demo*.c): the child-process
 * table, the network namespaces, the world's files and the summary.
 *
 * The demo is a supervisor: it runs the real programs (kizuki hub,
 * telescope, survey, report; kizuki-gen, kizuki-devsim, kizuki-upload) as
 * child processes and never does their work itself, so what it shows is
 * what a user of those programs gets. Everything it makes — processes,
 * namespaces (and the veth pair inside them) — is recorded in struct
 * kz_demo, and kz_demo_cleanup() removes all of it on every way out.
 */
#ifndef KZ_DEMO_H
#define KZ_DEMO_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
	KZ_DEMO_MAX_CHILDREN = 8,
	KZ_DEMO_OPERATORS = 16,
	KZ_DEMO_FIRST_ASN = 64496,
};

/* One child process. pid is 0 once it has been reaped. */
struct kz_demo_child {
	char name[32]; /* "hub", "telescope", ...: used in messages */
	pid_t pid;
	bool essential;     /* its exit, while others run, is a failure */
	char log[PATH_MAX]; /* its stdout and stderr */
};

/* Everything one demo run owns. */
struct kz_demo {
	char out[PATH_MAX];     /* the output directory, absolute */
	char exe[PATH_MAX];     /* /proc/self/exe */
	char exe_dir[PATH_MAX]; /* its directory */
	char ip[PATH_MAX];      /* iproute2's ip, when found */
	struct kz_demo_child child[KZ_DEMO_MAX_CHILDREN];
	size_t nchild;
	/* Namespaces made by this run (empty when none). */
	char ns_fleet[64], ns_scan[64];
	bool ns_fleet_made, ns_scan_made;
	bool root;     /* namespaces possible */
	bool cleaning; /* cleanup runs: signals no longer cut waits short */
	unsigned hub_port;
	char url[64]; /* http://127.0.0.1:PORT */
};

/* Set by the SIGINT/SIGTERM handler: the signal number, 0 while none. */
extern volatile sig_atomic_t kz_demo_signal;

/* --- processes (src/demo_proc.c) ------------------------------------ */

/* Installs the SIGINT/SIGTERM handler (no SA_RESTART, so sleeps end). */
void kz_demo_signals(void);

/* Starts argv[0] (an absolute path) with argv, in network namespace netns
 * (NULL: the demo's own), stdout and stderr appended to log (created 0600),
 * stdin /dev/null, in a process group of its own (so a terminal's Ctrl-C
 * reaches only the demo, which stops the children in order). Returns the
 * child's slot, or NULL after printing why. */
struct kz_demo_child *kz_demo_spawn(struct kz_demo *d, const char *name, bool essential,
                                    const char *netns, char *const argv[], const char *log)
        __attribute__((warn_unused_result));

/* Waits up to timeout_ms for c to exit and stores its wait status. Returns
 * 0 when it exited, -EINTR on a signal, -ETIMEDOUT, or -ECHILD when another
 * essential child died meanwhile (said on stderr, with its log's tail). */
int kz_demo_wait(struct kz_demo *d, struct kz_demo_child *c, int timeout_ms, int *status)
        __attribute__((warn_unused_result));

/* Runs a child to its end (kz_demo_spawn + kz_demo_wait); 0 when it exits
 * 0, else -1 after saying which step failed and why (its log's tail). */
int kz_demo_run(struct kz_demo *d, const char *name, const char *netns, char *const argv[],
                const char *log, int timeout_ms) __attribute__((warn_unused_result));

/* Checks that every essential child still runs; -ECHILD after saying which
 * one stopped and why. */
int kz_demo_check_children(struct kz_demo *d) __attribute__((warn_unused_result));

/* SIGTERM, up to grace_ms, then SIGKILL; reaps. Safe on a reaped child. */
void kz_demo_stop(struct kz_demo_child *c, int grace_ms);

/* Prints "kizuki demo: NAME <how it ended>" and the last lines of its log. */
void kz_demo_explain(const struct kz_demo_child *c, int status);

/* Sleeps ms unless a signal comes first (then returns -EINTR). */
int kz_demo_sleep(int ms);

/* --- namespaces (src/demo_net.c) ------------------------------------ */

/* True when this process may create network namespaces (tries one). */
bool kz_demo_can_netns(struct kz_demo *d);

/* Names the namespaces after the demo's pid: kzd<pid>f, kzd<pid>s. */
void kz_demo_net_names(struct kz_demo *d);

/* Creates the fleet and scanner namespaces (named first), the veth pair between them,
 * the fleet's AnyIP route and the scanner's route to it. The scanner's veth end
 * is named d->ns_scan cut to 11 bytes (kz_demo_scan_if). */
int kz_demo_net_up(struct kz_demo *d) __attribute__((warn_unused_result));

/* Deletes what kz_demo_net_up made (after killing any process left in it). */
void kz_demo_net_down(struct kz_demo *d);

/* The name of the scanner's veth end (IFNAMSIZ bytes at most). */
void kz_demo_scan_if(const struct kz_demo *d, char buf[16]);

/* The fleet: one /27 of it per operator, 512 simulated devices. */
#define KZ_DEMO_FLEET      "198.18.128.0/23"
#define KZ_DEMO_FLEET_BASE "198.18.128.0"
#define KZ_DEMO_SCAN_IP    "198.18.254.1"
#define KZ_DEMO_FLEET_GW   "198.18.254.2"
/* The veth ends' MACs, fixed so that the SYN scan knows its next hop
 * without a neighbour lookup (locally administered addresses). */
#define KZ_DEMO_SCAN_MAC  "02:00:c6:12:fe:01"
#define KZ_DEMO_FLEET_MAC "02:00:c6:12:fe:02"
/* The telescope's darknet; the fleet lies outside it. */
#define KZ_DEMO_DARKNET "198.18.0.0/17,2001:db8:ffff::/48"

/* --- the world (src/demo_world.c) ----------------------------------- */

/* Paths under d->out, for the parts that need them. */
int kz_demo_path(const struct kz_demo *d, char *buf, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5), warn_unused_result));

/* Finds a program of the build (next to the kizuki binary) or installed. */
int kz_demo_find_tool(const struct kz_demo *d, const char *name, char *buf, size_t len)
        __attribute__((warn_unused_result));

/* The same for a program of kizuki's own the demo cannot do without: says
 * where it looked and how to get it when it is missing. */
int kz_demo_need_tool(const struct kz_demo *d, const char *name, char *buf, size_t len)
        __attribute__((warn_unused_result));

/* Finds a data file: in the source tree of the build the binary belongs to
 * (src_rel) or installed under share/kizuki (share_rel). */
int kz_demo_find_data(const struct kz_demo *d, const char *src_rel, const char *share_rel,
                      char *buf, size_t len) __attribute__((warn_unused_result));

/* The operators' names (index 0 = AS64496). */
const char *kz_demo_operator_name(unsigned i);

/* Writes world/: operators.tsv, pfx2as (the generator's plus the fleet's),
 * creds.txt, scope.txt, geo.mmdb (when the Perl writer is there; *mmdb
 * false otherwise) and the tokens. */
int kz_demo_world(struct kz_demo *d, bool *mmdb) __attribute__((warn_unused_result));

/* --- the summary (src/demo_summary.c) -------------------------------- */

/* Asks the hub (as admin) what it holds and prints the summary. */
int kz_demo_summary(struct kz_demo *d, bool surveyed, bool mmdb)
        __attribute__((warn_unused_result));

#endif
