/*
 * The port-surge detector (see surge.h for the method).
 *
 * State per key: mean and variance as floats (two 1.5 MB arrays), this
 * bin's count, and a live flag; the live list holds every key whose
 * baseline is not yet back at zero or that was set this bin, so a bin
 * visits only those.
 */
#include "surge.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* Gap bins folded in one by one; after this many every baseline is below
 * 0.9^1000 of what it was, so the rest are skipped. */
#define GAP_FOLD_MAX 1000u
#define DEAD         1e-3f

struct kz_surge {
	struct kz_surge_params p;
	float *mean, *var;
	uint32_t *cur;
	uint8_t *live;
	uint32_t *list;
	uint32_t nlist;
	uint64_t bins;
};

void kz_surge_defaults(struct kz_surge_params *p)
{
	p->alpha = 0.1;
	p->z_min = 4.0;
	p->min_sources = 10;
	p->ratio = 3.0;
	p->warmup = 10;
	p->p_max = 1e-7;
}

double kz_poisson_tail(double lambda, uint32_t x)
{
	if (x == 0)
		return 1.0;
	if (lambda <= 0)
		return 0.0;
	/* Sum the terms from x upwards in log space; they fall off fast
	 * once past lambda, and the first one alone decides when x is far
	 * beyond it. */
	double logterm = -lambda + x * log(lambda) - lgamma((double)x + 1);
	double term = exp(logterm), sum = 0;
	for (uint32_t k = x; k < x + 100000u; k++) {
		sum += term;
		term *= lambda / (k + 1);
		if (term < sum * 1e-12 || term == 0)
			break;
	}
	return sum > 1 ? 1 : sum;
}

int kz_surge_new(const struct kz_surge_params *p, struct kz_surge **out)
{
	*out = NULL;
	if (!(p->alpha > 0 && p->alpha <= 1) || !(p->ratio >= 1) || !(p->z_min >= 0) ||
	    !(p->p_max > 0 && p->p_max <= 1))
		return -EINVAL;
	struct kz_surge *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->p = *p;
	s->mean = calloc(KZ_PORTKEYS, sizeof *s->mean);
	s->var = calloc(KZ_PORTKEYS, sizeof *s->var);
	s->cur = calloc(KZ_PORTKEYS, sizeof *s->cur);
	s->live = calloc(KZ_PORTKEYS, sizeof *s->live);
	s->list = calloc(KZ_PORTKEYS, sizeof *s->list);
	if (!s->mean || !s->var || !s->cur || !s->live || !s->list) {
		kz_surge_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void kz_surge_free(struct kz_surge *s)
{
	if (!s)
		return;
	free(s->mean);
	free(s->var);
	free(s->cur);
	free(s->live);
	free(s->list);
	free(s);
}

void kz_surge_set(struct kz_surge *s, uint32_t key, uint32_t sources)
{
	if (key >= KZ_PORTKEYS)
		return;
	s->cur[key] = sources;
	if (!s->live[key]) {
		s->live[key] = 1;
		s->list[s->nlist++] = key;
	}
}

/* The weight of bin number k: the plain running mean during warm-up. */
static double weight(const struct kz_surge *s, uint64_t k)
{
	if (k < s->p.warmup) {
		double a = 1.0 / (double)(k + 1);
		return a > s->p.alpha ? a : s->p.alpha;
	}
	return s->p.alpha;
}

/* One EWMA step (Finch 2009): the variance update uses the difference to
 * the old mean, which keeps it an unbiased running estimate under the same
 * weights as the mean. */
static void fold(struct kz_surge *s, uint32_t key, double x, double a)
{
	double m = s->mean[key], d = x - m;
	s->mean[key] = (float)(m + a * d);
	s->var[key] = (float)((1 - a) * (s->var[key] + a * d * d));
}

static int key_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void kz_surge_bin(struct kz_surge *s, uint32_t empty_before,
                  void (*alert)(void *user, const struct kz_surge_alert *a), void *user)
{
	uint32_t gaps = empty_before < GAP_FOLD_MAX ? empty_before : GAP_FOLD_MAX;
	for (uint32_t g = 0; g < gaps; g++) {
		double a = weight(s, s->bins + g);
		for (uint32_t i = 0; i < s->nlist; i++) {
			uint32_t k = s->list[i];
			/* Keys set this bin are live too; a gap is before them. */
			fold(s, k, 0.0, a);
		}
	}
	s->bins += empty_before;

	/* Key order: alerts come out in the same order whatever the order in
	 * which ports were first seen. */
	qsort(s->list, s->nlist, sizeof *s->list, key_cmp);
	double a = weight(s, s->bins);
	bool armed = s->bins >= s->p.warmup;
	uint32_t kept = 0;
	for (uint32_t i = 0; i < s->nlist; i++) {
		uint32_t k = s->list[i];
		double x = s->cur[k], m = s->mean[k], sd = sqrt((double)s->var[k]);
		double z = (x - m) / (sd > 1.0 ? sd : 1.0);
		if (armed && x >= s->p.min_sources && x >= s->p.ratio * m && z > s->p.z_min) {
			double p = kz_poisson_tail(m, (uint32_t)x);
			if (p < s->p.p_max) {
				struct kz_surge_alert al = { k, (uint32_t)x, m, sd, z, p };
				alert(user, &al);
			}
		}
		fold(s, k, x, a);
		s->cur[k] = 0;
		/* A port whose baseline has decayed to nothing leaves the live
		 * list; if it comes back it starts from zero, which is what
		 * the EWMA would have reached anyway. */
		if (s->mean[k] < DEAD && s->var[k] < DEAD) {
			s->mean[k] = 0;
			s->var[k] = 0;
			s->live[k] = 0;
		} else {
			s->list[kept++] = k;
		}
	}
	s->nlist = kept;
	s->bins++;
}

uint64_t kz_surge_bins(const struct kz_surge *s)
{
	return s->bins;
}

void kz_surge_baseline(const struct kz_surge *s, uint32_t key, double *mean, double *sd)
{
	*mean = key < KZ_PORTKEYS ? s->mean[key] : 0;
	*sd = key < KZ_PORTKEYS ? sqrt((double)s->var[key]) : 0;
}
