/*
 * The rate schedule of ratelimit.h. All products go through 128 bits: at
 * 10^7 packets per second a run of a day is 8.64 * 10^11 packets, and
 * packets times 10^9 overflows 64 bits after 1.8 * 10^10 of them.
 */
#include "ratelimit.h"

#include "addr.h" /* kz_u128 */

void kz_ratelimit_init(struct kz_ratelimit *rl, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	rl->rate = rate ? rate : 1;
	rl->burst = burst ? burst : 1;
	rl->start_ns = now_ns;
	rl->granted = 0;
	rl->slipped = 0;
}

uint64_t kz_ratelimit_due_ns(const struct kz_ratelimit *rl, uint64_t n)
{
	/* Rounded up, so that packet n never goes before its exact time. */
	return rl->start_ns + (uint64_t)(((kz_u128)n * KZ_NSEC_PER_SEC + rl->rate - 1) / rl->rate);
}

/* Packets due by now_ns since the start: those with due time <= now. */
static uint64_t due_by(const struct kz_ratelimit *rl, uint64_t now_ns)
{
	if (now_ns < rl->start_ns)
		return 0;
	return (uint64_t)((kz_u128)(now_ns - rl->start_ns) * rl->rate / KZ_NSEC_PER_SEC) + 1;
}

uint64_t kz_ratelimit_take(struct kz_ratelimit *rl, uint64_t now_ns, uint64_t want)
{
	uint64_t due = due_by(rl, now_ns);
	if (due <= rl->granted)
		return 0;
	uint64_t credit = due - rl->granted;
	if (credit > rl->burst) {
		/* Behind by more than a burst: give up the excess, as if it had
		 * been sent, so that at most `burst` go now and the due times
		 * after this stay exact. */
		rl->slipped += credit - rl->burst;
		rl->granted = due - rl->burst;
		credit = rl->burst;
	}
	uint64_t n = credit < want ? credit : want;
	rl->granted += n;
	return n;
}

uint64_t kz_ratelimit_wait_ns(const struct kz_ratelimit *rl, uint64_t now_ns, uint64_t count)
{
	uint64_t due = kz_ratelimit_due_ns(rl, rl->granted + (count ? count : 1) - 1);
	return due > now_ns ? due - now_ns : 0;
}
