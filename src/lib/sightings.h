/*
 * A finding's sightings (CONTRACT.md: time, source port, sensor or run; by
 * default the last 100), kept as one packed blob in the finding's row
 * (hub_findings.sightings) rather than as rows of their own: the row is
 * rewritten on every observation anyway, so the list costs no extra b-tree
 * insert on the ingest path, and it is bounded by construction.
 *
 * Format (docs/store.md), all integers big-endian:
 *   byte 0            format version, 1
 *   then per sighting, oldest first:
 *     8 bytes         time, seconds since the epoch (signed)
 *     2 bytes         source port
 *     1 byte          flags: bit 0 = the port is known
 *     1 byte          length n of the origin (0..255)
 *     n bytes         origin: the sensor or run id, UTF-8, cut to 255 bytes
 *                     on a character boundary
 */
#ifndef KZ_SIGHTINGS_H
#define KZ_SIGHTINGS_H

#include <stddef.h>
#include <stdint.h>

#define KZ_SIGHTINGS_VERSION    1
#define KZ_SIGHTINGS_DEFAULT    100  /* sightings kept per finding */
#define KZ_SIGHTINGS_MAX        1000 /* the most a store may be configured to keep */
#define KZ_SIGHTING_ORIGIN_MAX  255
#define KZ_SIGHTING_FIXED_BYTES 12

/* One sighting. origin is borrowed (not NUL-terminated when it comes from
 * kz_sightings_next: use origin_len). */
struct kz_sighting {
	int64_t time;
	int32_t port; /* 0..65535, or -1 when unknown */
	const char *origin;
	size_t origin_len;
};

/* Makes a new blob: the sightings of old[0..oldlen) (may be empty or NULL)
 * with s appended, keeping only the newest `keep` (1..KZ_SIGHTINGS_MAX).
 * *out is malloc'd and owned by the caller. A malformed old blob is dropped
 * (its sightings are lost, the new one is kept) rather than failing ingest.
 * Returns 0, -EINVAL for keep out of range, or -ENOMEM. */
int kz_sightings_append(const uint8_t *old, size_t oldlen, const struct kz_sighting *s, size_t keep,
                        uint8_t **out, size_t *outlen) __attribute__((warn_unused_result));

/* Reads a blob sighting by sighting (the blob is borrowed). */
struct kz_sightings_iter {
	const uint8_t *p;
	size_t len, pos;
};

void kz_sightings_iter_init(struct kz_sightings_iter *it, const uint8_t *blob, size_t len);

/* The next sighting, oldest first: returns 1 with *s filled, 0 at the end,
 * or -EINVAL for a malformed blob. */
int kz_sightings_next(struct kz_sightings_iter *it, struct kz_sighting *s)
        __attribute__((warn_unused_result));

/* The number of sightings in a well-formed blob; 0 for a malformed one. */
size_t kz_sightings_count(const uint8_t *blob, size_t len);

#endif
