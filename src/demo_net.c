/*
 * The demo's network: two namespaces of its own and nothing else.
 *
 *   scanner ns  kzd<pid>s 198.18.254.1/30, route 198.18.128.0/23 via .2
 *   fleet ns    kzd<pid>f 198.18.254.2/30, AnyIP route: every address of
 *               198.18.128.0/23 is local, served by kizuki-devsim
 *
 * The veth pair is created inside the scanner namespace and its peer moved
 * straight into the fleet namespace, so the host's own interfaces, routes
 * and addresses are never touched, and every address used lies in
 * 198.18.0.0/15 (CONTRACT.md "Safety rules"). Deleting the two namespaces
 * deletes the veth pair with them. The commands are iproute2's, run as
 * child processes, as tests/integration/lib/netns.bash runs them.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

/* Runs `ip ARGS... NULL` to its end; 0 when it succeeded. */
static int ip_cmd(struct kz_demo *d, const char *log, ...)
{
	const char *argv[16] = { d->ip };
	size_t n = 1;
	va_list ap;
	va_start(ap, log);
	for (const char *a; n < sizeof argv / sizeof argv[0] - 1 && (a = va_arg(ap, const char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return kz_demo_run(d, "ip", NULL, (char *const *)argv, log, 10000);
}

bool kz_demo_can_netns(struct kz_demo *d)
{
	if (geteuid() != 0 || !d->ip[0])
		return false;
	char log[PATH_MAX], name[64];
	if (kz_demo_path(d, log, sizeof log, "logs/netns.log") != 0)
		return false;
	snprintf(name, sizeof name, "kzd%ldprobe", (long)getpid());
	if (ip_cmd(d, log, "netns", "add", name, NULL) != 0)
		return false;
	return ip_cmd(d, log, "netns", "del", name, NULL) == 0;
}

void kz_demo_net_names(struct kz_demo *d)
{
	long pid = (long)getpid() % 10000000L;
	snprintf(d->ns_fleet, sizeof d->ns_fleet, "kzd%ldf", pid);
	snprintf(d->ns_scan, sizeof d->ns_scan, "kzd%lds", pid);
}

/* The veth ends are named after their namespaces (at most 11 bytes). */
void kz_demo_scan_if(const struct kz_demo *d, char buf[16])
{
	snprintf(buf, 16, "%.11s", d->ns_scan);
}

int kz_demo_net_up(struct kz_demo *d)
{
	char log[PATH_MAX], vs[16], vf[16];
	if (kz_demo_path(d, log, sizeof log, "logs/netns.log") != 0)
		return -1;
	kz_demo_scan_if(d, vs);
	snprintf(vf, sizeof vf, "%.11s", d->ns_fleet);
	const char *F = d->ns_fleet, *S = d->ns_scan;
	if (ip_cmd(d, log, "netns", "add", F, NULL))
		goto fail;
	d->ns_fleet_made = true;
	if (ip_cmd(d, log, "netns", "add", S, NULL))
		goto fail;
	d->ns_scan_made = true;
	if (ip_cmd(d, log, "-n", F, "link", "set", "lo", "up", NULL) ||
	    ip_cmd(d, log, "-n", S, "link", "set", "lo", "up", NULL) ||
	    ip_cmd(d, log, "-n", S, "link", "add", vs, "address", KZ_DEMO_SCAN_MAC, "type", "veth",
	           "peer", "name", vf, "address", KZ_DEMO_FLEET_MAC, NULL) ||
	    ip_cmd(d, log, "-n", S, "link", "set", vf, "netns", F, NULL) ||
	    ip_cmd(d, log, "-n", S, "addr", "add", KZ_DEMO_SCAN_IP "/30", "dev", vs, NULL) ||
	    ip_cmd(d, log, "-n", F, "addr", "add", KZ_DEMO_FLEET_GW "/30", "dev", vf, NULL) ||
	    ip_cmd(d, log, "-n", S, "link", "set", vs, "up", NULL) ||
	    ip_cmd(d, log, "-n", F, "link", "set", vf, "up", NULL) ||
	    ip_cmd(d, log, "-n", F, "route", "add", "local", KZ_DEMO_FLEET, "dev", "lo", NULL) ||
	    ip_cmd(d, log, "-n", S, "route", "add", KZ_DEMO_FLEET, "via", KZ_DEMO_FLEET_GW, NULL))
		goto fail;
	return 0;
fail:
	kz_cli_error("network namespaces: setting up failed (log: %s)", log);
	return -1;
}

/* Kills whatever still runs inside a namespace (a child's own children). */
static void kill_inside(struct kz_demo *d, const char *ns)
{
	char log[PATH_MAX];
	if (kz_demo_path(d, log, sizeof log, "logs/netns-pids.txt") != 0)
		return;
	unlink(log);
	const char *argv[] = { d->ip, "netns", "pids", ns, NULL };
	if (kz_demo_run(d, "ip", NULL, (char *const *)argv, log, 5000) != 0)
		return;
	FILE *f = fopen(log, "r");
	if (!f)
		return;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1)
		if (pid > 1)
			kill((pid_t)pid, SIGKILL);
	fclose(f);
	unlink(log);
}

void kz_demo_net_down(struct kz_demo *d)
{
	char log[PATH_MAX];
	if (kz_demo_path(d, log, sizeof log, "logs/netns.log") != 0)
		snprintf(log, sizeof log, "/dev/null");
	/* Called on every way out, interrupted or not: no wait is cut short. */
	bool was = d->cleaning;
	d->cleaning = true;
	if (d->ns_fleet_made) {
		kill_inside(d, d->ns_fleet);
		if (ip_cmd(d, log, "netns", "del", d->ns_fleet, NULL) != 0)
			kz_cli_warn(
			        "could not delete network namespace %s: remove it with 'ip netns "
			        "del %s'",
			        d->ns_fleet, d->ns_fleet);
		d->ns_fleet_made = false;
	}
	if (d->ns_scan_made) {
		kill_inside(d, d->ns_scan);
		if (ip_cmd(d, log, "netns", "del", d->ns_scan, NULL) != 0)
			kz_cli_warn(
			        "could not delete network namespace %s: remove it with 'ip netns "
			        "del %s'",
			        d->ns_scan, d->ns_scan);
		d->ns_scan_made = false;
	}
	d->cleaning = was;
}
