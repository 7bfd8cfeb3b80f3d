/*
 * Port surges: a port whose unique sources in one interval jump far above
 * that port's own baseline (REFERENCE.md "Port surges"; docs/telescope.md
 * has the method for operators).
 *
 * Per port key (portstats.h), one bin per interval:
 *  - the baseline is an exponentially weighted moving average of the
 *    port's unique sources per bin, mean <- mean + alpha (x - mean), with
 *    the matching weighted variance var <- (1 - alpha)(var + alpha (x -
 *    mean)^2) (Finch, "Incremental calculation of weighted mean and
 *    variance", 2009);
 *  - a bin alerts when x >= min_sources, x >= ratio * mean,
 *    z = (x - mean) / max(sd, 1) > z_min, and x is improbable for a
 *    Poisson count with the baseline as its mean, P(X >= x) < p_max,
 *    judged against the baseline before x is folded in; x is then folded
 *    in like any bin, so a new level becomes the baseline after a few
 *    intervals;
 *  - warm-up: during the first `warmup` bins alpha is 1/(k+1) for bin k, so
 *    the baseline is the plain mean and variance of the bins so far, and
 *    nothing alerts;
 *  - bins with no packets at all (gaps in packet time) count as bins of
 *    zeros for every port.
 * The sd floor of 1 keeps a port with a flat history (variance 0) from
 * alerting on a change of one or two sources; min_sources and ratio keep
 * small absolute numbers from alerting at all. The Poisson guard is ours,
 * beyond REFERENCE.md's three: unique sources arriving independently are
 * Poisson counts, and a port that averages 2 or 3 sources a bin reaches 10
 * (3x, z > 4) by chance about once in 3,000 bins; with thousands of such
 * ports that is a false alarm every hour. p_max = 1e-7 makes it about one
 * a day over 10,000 active ports with one-minute bins, while a real surge
 * (10 to 60 sources: P = 1e-22) is untouched.
 *
 * Only ports that had sources recently are visited per bin (a live list:
 * a port leaves it when its mean and variance have decayed below 1e-3), so
 * a bin costs in proportion to the active ports, not 393,216 keys.
 */
#ifndef KZ_SURGE_H
#define KZ_SURGE_H

#include <stddef.h>
#include <stdint.h>

#include "portstats.h"

struct kz_surge_params {
	double alpha;         /* EWMA weight: 0.1 */
	double z_min;         /* alert above: 4 */
	uint32_t min_sources; /* at least: 10 */
	double ratio;         /* at least this times the baseline: 3 */
	uint32_t warmup;      /* bins before any alert: 10 */
	double p_max;         /* Poisson tail probability below which x is a surge: 1e-7 */
};

/* The defaults above. */
void kz_surge_defaults(struct kz_surge_params *p);

struct kz_surge_alert {
	uint32_t key; /* proto << 16 | port */
	uint32_t sources;
	double baseline, sd, z;
	double p; /* P(X >= sources) for a Poisson count of the baseline's mean */
};

/* P(X >= x) for X Poisson with mean lambda (for the alert's p and tests). */
double kz_poisson_tail(double lambda, uint32_t x);

struct kz_surge;

/* Makes a detector. Returns 0, -EINVAL for parameters out of range (alpha
 * outside (0, 1], ratio < 1, ...) or -ENOMEM. */
int kz_surge_new(const struct kz_surge_params *p, struct kz_surge **out)
        __attribute__((warn_unused_result));

void kz_surge_free(struct kz_surge *s);

/* Sets a port's unique sources for the bin being built (ports not set
 * count 0). */
void kz_surge_set(struct kz_surge *s, uint32_t key, uint32_t sources);

/* Closes the bin: first folds in `empty_before` bins of zeros (gaps), then
 * judges and folds in this bin, calling alert for each surging port in key
 * order. */
void kz_surge_bin(struct kz_surge *s, uint32_t empty_before,
                  void (*alert)(void *user, const struct kz_surge_alert *a), void *user);

/* Bins seen so far (including gaps). */
uint64_t kz_surge_bins(const struct kz_surge *s);

/* A port's baseline now (mean, and standard deviation). */
void kz_surge_baseline(const struct kz_surge *s, uint32_t key, double *mean, double *sd);

#endif
