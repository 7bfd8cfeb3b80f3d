/*
 * The named traffic profiles. Each telescope test gets a trace that holds
 * only what it checks (scanners, dos, surge and steady, noise, ipv6), the
 * mixed profile holds everything at once, demo is the multi-hour trace of
 * `kizuki demo`, and bench is the pinned benchmark trace. A profile is a
 * const table entry whose build function adds populations to a run; the
 * numbers (rates, counts, windows) are documented in docs/generator.md.
 */
#ifndef GEN_PROFILES_H
#define GEN_PROFILES_H

#include <stdbool.h>
#include <stdint.h>

#include "traffic.h"

struct gen_profile {
	const char *name;
	const char *summary;
	const char *darknet; /* the default --darknet */
	double duration_s;   /* the default --duration */
	uint16_t surge_port; /* the port whose sources per minute are tracked, or 0 */
	bool as_space_only;  /* IPv4 sources only from the attributed 198.19.0.0/16 */
	uint64_t packets;    /* a default --packets: the duration follows from it */
	int (*build)(struct gen_run *r, uint16_t surge_port);
};

/* The profile called name (aliases included), or NULL. */
const struct gen_profile *gen_profile_find(const char *name);

/* All profiles, for --list-profiles; *n gets their number. */
const struct gen_profile *gen_profiles(unsigned *n);

#endif
