/*
 * The demo's child processes: start one (optionally inside a network
 * namespace, through `ip netns exec`, which execs in place so the pid we
 * hold is the program's), wait for it while watching the others, stop it.
 *
 * Invariants: every child runs in a process group of its own, so Ctrl-C at
 * a terminal reaches only the demo, which then stops the children in the
 * order that loses nothing (the hub last); each child also gets
 * PR_SET_PDEATHSIG, so a demo that is killed outright does not leave its
 * programs running. Waiting is a 50 ms poll of waitpid(WNOHANG) rather
 * than SIGCHLD bookkeeping: the demo has at most a handful of children and
 * nothing else to do meanwhile, and a poll cannot miss an exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

volatile sig_atomic_t kz_demo_signal;

/* Only records the signal: the main loop notices it within 50 ms. */
static void on_signal(int sig)
{
	kz_demo_signal = sig;
}

void kz_demo_signals(void)
{
	/* No SA_RESTART: a sleep or wait ends at once and sees the flag. */
	kz_cli_catch_signals(on_signal, true);
	signal(SIGPIPE, SIG_IGN);
}

int kz_demo_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	if (kz_demo_signal)
		return -EINTR;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		if (kz_demo_signal)
			return -EINTR;
	}
	return kz_demo_signal ? -EINTR : 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(pid_t parent, const char *ip, const char *netns, char *const argv[],
                       int logfd)
{
	/* Its own process group: a terminal's Ctrl-C goes to the demo alone. */
	setpgid(0, 0);
	/* If the demo dies (even by SIGKILL) the child is told to stop; the
	 * parent may already be gone before prctl, hence the check after it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	/* The demo's handlers and mask must not leak into the program. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* No child reads the terminal: Ctrl-C and typing belong to the demo. */
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in >= 0)
		dup2(in, 0);
	dup2(logfd, 1);
	dup2(logfd, 2);
	if (netns) {
		/* `ip netns exec NS PROGRAM ARGS...`: at most 30 arguments. */
		char *nargv[40];
		size_t n = 0;
		nargv[n++] = (char *)"ip";
		nargv[n++] = (char *)"netns";
		nargv[n++] = (char *)"exec";
		nargv[n++] = (char *)netns;
		for (size_t i = 0; argv[i] && n < sizeof nargv / sizeof nargv[0] - 1; i++)
			nargv[n++] = argv[i];
		nargv[n] = NULL;
		execv(ip, nargv);
	} else {
		execv(argv[0], argv);
	}
	/* Only reached when exec failed; the log says so, and status 127 is
	 * what a shell would give. */
	static const char msg[] = "kizuki demo: exec failed\n";
	if (write(2, msg, sizeof msg - 1) < 0)
		_exit(127);
	_exit(127);
}

struct kz_demo_child *kz_demo_spawn(struct kz_demo *d, const char *name, bool essential,
                                    const char *netns, char *const argv[], const char *log)
{
	if (d->nchild == KZ_DEMO_MAX_CHILDREN) {
		kz_cli_error("%s: too many child processes", name);
		return NULL;
	}
	struct kz_demo_child *c = &d->child[d->nchild];
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->log, sizeof c->log, "%s", log);
	c->essential = essential;
	/* Appended: the ip commands of one step share a log. */
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		kz_cli_error("%s: %s: %s", name, log, strerror(errno));
		return NULL;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		kz_cli_error("%s: fork: %s", name, strerror(errno));
		close(fd);
		return NULL;
	}
	if (pid == 0)
		child_exec(parent, d->ip, netns, argv, fd);
	close(fd);
	/* Also from the parent: no window in which a Ctrl-C reaches the child. */
	setpgid(pid, pid);
	c->pid = pid;
	d->nchild++;
	return c;
}

/* Prints the last `lines` (at most 8) lines of a child's log, indented:
 * the why of a failure is almost always there. */
static void log_tail(const char *path, int lines)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char ring[8][512];
	int n = 0;
	char buf[512];
	while (fgets(buf, sizeof buf, f)) {
		snprintf(ring[n % 8], sizeof ring[0], "%s", buf);
		n++;
	}
	fclose(f);
	if (lines > 8)
		lines = 8;
	for (int i = n > lines ? n - lines : 0; i < n; i++) {
		const char *l = ring[i % 8];
		fprintf(stderr, "    %s%s", l, l[0] && l[strlen(l) - 1] == '\n' ? "" : "\n");
	}
}

void kz_demo_explain(const struct kz_demo_child *c, int status)
{
	if (WIFEXITED(status))
		kz_cli_error("%s exited with status %d (log: %s)", c->name, WEXITSTATUS(status),
		             c->log);
	else if (WIFSIGNALED(status))
		kz_cli_error("%s was killed by signal %d (%s) (log: %s)", c->name, WTERMSIG(status),
		             strsignal(WTERMSIG(status)), c->log);
	log_tail(c->log, 6);
}

int kz_demo_check_children(struct kz_demo *d)
{
	for (size_t i = 0; i < d->nchild; i++) {
		struct kz_demo_child *c = &d->child[i];
		int st;
		if (!c->pid || !c->essential)
			continue;
		pid_t r = waitpid(c->pid, &st, WNOHANG);
		if (r == c->pid) {
			c->pid = 0;
			kz_demo_explain(c, st);
			return -ECHILD;
		}
	}
	return 0;
}

int kz_demo_wait(struct kz_demo *d, struct kz_demo_child *c, int timeout_ms, int *status)
{
	for (int waited = 0;; waited += 50) {
		if (c->pid) {
			pid_t r = waitpid(c->pid, status, WNOHANG);
			if (r == c->pid) {
				c->pid = 0;
				return 0;
			}
		}
		if (!c->pid)
			return 0;
		int rc = kz_demo_check_children(d);
		if (rc)
			return rc;
		/* During cleanup a second Ctrl-C must not cut `ip netns del` short. */
		if (kz_demo_signal && !d->cleaning)
			return -EINTR;
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return -ETIMEDOUT;
		struct timespec ts = { 0, 50000000L };
		nanosleep(&ts, NULL);
	}
}

int kz_demo_run(struct kz_demo *d, const char *name, const char *netns, char *const argv[],
                const char *log, int timeout_ms)
{
	struct kz_demo_child *c = kz_demo_spawn(d, name, false, netns, argv, log);
	if (!c)
		return -1;
	int st = 0;
	int rc = kz_demo_wait(d, c, timeout_ms, &st);
	if (rc == -ETIMEDOUT)
		kz_cli_error("%s did not finish within %d s (log: %s)", name, timeout_ms / 1000,
		             log);
	if (rc) {
		/* Interrupted, timed out or another child died: this one goes too. */
		kz_demo_stop(c, 2000);
		d->nchild--; /* it was the last one started */
		return rc == -EINTR ? -EINTR : -1;
	}
	d->nchild--;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		kz_demo_explain(c, st);
		return -1;
	}
	return 0;
}

void kz_demo_stop(struct kz_demo_child *c, int grace_ms)
{
	if (!c->pid)
		return;
	kill(c->pid, SIGTERM);
	int st;
	for (int waited = 0; waited < grace_ms; waited += 20) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
			c->pid = 0;
			return;
		}
		struct timespec ts = { 0, 20000000L };
		nanosleep(&ts, NULL);
	}
	/* Past the grace period: a program that ignores SIGTERM is not waited
	 * for, the demo must still end. */
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	c->pid = 0;
}
