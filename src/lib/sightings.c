/*
 * Sightings blobs: append with a bound, iterate. The blob is small (at most
 * KZ_SIGHTINGS_MAX entries of at most 267 bytes), so appending rebuilds it
 * in one pass: find where the newest keep-1 entries start, copy them, add
 * the new one.
 */
#include "sightings.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void kz_sightings_iter_init(struct kz_sightings_iter *it, const uint8_t *blob, size_t len)
{
	it->p = blob;
	it->len = blob ? len : 0;
	it->pos = 1;
}

int kz_sightings_next(struct kz_sightings_iter *it, struct kz_sighting *s)
{
	if (it->len == 0)
		return 0;
	if (it->p[0] != KZ_SIGHTINGS_VERSION)
		return -EINVAL;
	if (it->pos == it->len)
		return 0;
	if (it->len - it->pos < KZ_SIGHTING_FIXED_BYTES)
		return -EINVAL;
	const uint8_t *e = it->p + it->pos;
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | e[i];
	size_t olen = e[11];
	if (it->len - it->pos - KZ_SIGHTING_FIXED_BYTES < olen)
		return -EINVAL;
	s->time = (int64_t)t;
	s->port = (e[10] & 1) ? (int32_t)(e[8] << 8 | e[9]) : -1;
	s->origin = (const char *)e + KZ_SIGHTING_FIXED_BYTES;
	s->origin_len = olen;
	it->pos += KZ_SIGHTING_FIXED_BYTES + olen;
	return 1;
}

size_t kz_sightings_count(const uint8_t *blob, size_t len)
{
	struct kz_sightings_iter it;
	struct kz_sighting s;
	size_t n = 0;
	int rc;
	kz_sightings_iter_init(&it, blob, len);
	while ((rc = kz_sightings_next(&it, &s)) == 1)
		n++;
	return rc == 0 ? n : 0;
}

/* The origin cut to 255 bytes without splitting a UTF-8 character. */
static size_t origin_cut(const char *o, size_t len)
{
	if (len <= KZ_SIGHTING_ORIGIN_MAX)
		return len;
	size_t n = KZ_SIGHTING_ORIGIN_MAX;
	while (n > 0 && ((unsigned char)o[n] & 0xc0) == 0x80)
		n--;
	return n;
}

int kz_sightings_append(const uint8_t *old, size_t oldlen, const struct kz_sighting *s, size_t keep,
                        uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (keep < 1 || keep > KZ_SIGHTINGS_MAX)
		return -EINVAL;
	size_t n = kz_sightings_count(old, oldlen);
	if (n == 0)
		oldlen = 0; /* empty or malformed: start afresh */
	/* Skip the oldest entries so that keep-1 remain. */
	struct kz_sightings_iter it;
	struct kz_sighting tmp;
	kz_sightings_iter_init(&it, old, oldlen);
	for (size_t skip = n >= keep ? n - keep + 1 : 0; skip > 0; skip--)
		if (kz_sightings_next(&it, &tmp) != 1)
			return -EINVAL; /* cannot happen: counted above */
	size_t from = oldlen ? it.pos : 1;
	size_t tail = oldlen ? oldlen - from : 0;
	size_t olen = s->origin ? origin_cut(s->origin, s->origin_len) : 0;
	size_t total = 1 + tail + KZ_SIGHTING_FIXED_BYTES + olen;
	uint8_t *b = malloc(total);
	if (!b)
		return -ENOMEM;
	b[0] = KZ_SIGHTINGS_VERSION;
	if (tail)
		memcpy(b + 1, old + from, tail);
	uint8_t *e = b + 1 + tail;
	uint64_t t = (uint64_t)s->time;
	for (int i = 7; i >= 0; i--, t >>= 8)
		e[i] = (uint8_t)t;
	bool has_port = s->port >= 0 && s->port <= 65535;
	e[8] = has_port ? (uint8_t)(s->port >> 8) : 0;
	e[9] = has_port ? (uint8_t)s->port : 0;
	e[10] = has_port ? 1 : 0;
	e[11] = (uint8_t)olen;
	if (olen)
		memcpy(e + KZ_SIGHTING_FIXED_BYTES, s->origin, olen);
	*out = b;
	*outlen = total;
	return 0;
}
