/*
 * UDP probe payloads by destination port; see payload.c.
 */
#ifndef GEN_PAYLOAD_H
#define GEN_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#define GEN_PAYLOAD_MAX 256

/* Writes the payload a probe to dport carries into out (GEN_PAYLOAD_MAX
 * bytes) and returns its length: 0 for ports without one. */
size_t gen_udp_payload(uint16_t dport, struct gen_rng *rng, uint8_t *out);

#endif
