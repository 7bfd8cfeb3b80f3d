/*
 * The JSON line of a darknet source record (CONTRACT.md: infected host,
 * scanner), written by hand, byte for byte what record.h's builder and
 * jsonl.h's writer (jansson, compact, keys sorted) would write for the same
 * fields.
 *
 * Why by hand: a telescope writes one such record per active qualified
 * source per interval, hundreds of thousands an hour on a busy darknet,
 * and building each as a jansson object and dumping it costs about 30 us
 * (measured: 17-25 us for the dump alone), which is more than analysing
 * all the packets behind it. Here a record costs about a microsecond:
 * numbers and times are written with the digit loops of timefmt.h, the ids
 * hashed with one prepared SHA-256 context, and the only text that is not
 * ours, the sensor name, is escaped once by jansson when the encoder is
 * made. Every other string in these records is ASCII we write ourselves
 * (identifiers, addresses, the basis text) and needs no escaping.
 * tests/unit/test_srcrecord.c checks the bytes against the jansson path.
 */
#ifndef KZ_SRCRECORD_H
#define KZ_SRCRECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "record.h"

/* Longest line written: the fixed fields, four ports, the basis (at most
 * 255 bytes) and a sensor name of at most KZ_SRCREC_SENSOR_MAX bytes after
 * escaping. */
#define KZ_SRCREC_SENSOR_MAX 1024
#define KZ_SRCREC_LINE_MAX   4096

/* The fields of one source record. Strings are borrowed for the call. */
struct kz_srcrec {
	bool infected;          /* malicious-code / infected-system, else a scanner */
	const char *identifier; /* classification.identifier (lowercase ASCII) */
	struct kz_addr addr;    /* source.ip */
	uint16_t sport;         /* source.port; 0: none */
	uint64_t packets, bytes;
	uint64_t unique_destinations;
	uint64_t port_count;
	const uint16_t *ports; /* extra.ports */
	unsigned nports;
	const char *basis; /* extra.fingerprint_basis: printable ASCII, no '"' or '\\' */
	int64_t first_seen, last_seen;
	bool has_rate;
	int64_t est_rate_pps; /* extra.est_rate_pps when has_rate */
	int64_t interval_start, time_observation, time_source;
};

struct kz_srcrec_enc;

/* Makes an encoder for one sensor (its name is escaped here, once).
 * Returns 0, -EINVAL (a name that is empty, not UTF-8 or too long) or
 * -ENOMEM. */
int kz_srcrec_enc_new(const char *sensor, struct kz_srcrec_enc **out)
        __attribute__((warn_unused_result));

void kz_srcrec_enc_free(struct kz_srcrec_enc *enc);

/* Writes the record's line, "\n" included, into buf (cap bytes, at least
 * KZ_SRCREC_LINE_MAX) and its ids into fid and oid. Returns the line's
 * length, or a negative errno: -EINVAL for a field the contract does not
 * allow (an unspecified address, a time outside 0000-9999, a basis with a
 * character that would need escaping), -ENOSPC, -ENOMEM. */
int kz_srcrec_format(struct kz_srcrec_enc *enc, const struct kz_srcrec *r, char *buf, size_t cap,
                     char fid[KZ_ID_STRLEN], char oid[KZ_ID_STRLEN])
        __attribute__((warn_unused_result));

#endif
