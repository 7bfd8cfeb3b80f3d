/*
 * TLP labels. One table row per label holds every spelling we need, so the
 * IntelMQ mapping and the STIX ids cannot drift apart from the enum. The
 * marking-definition ids are the OASIS TLP 2.0 extension's
 * (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d, REFERENCE.md).
 */
#include "tlp.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct tlp_row {
	const char *name;
	const char *intelmq;
	const char *stix;
};

static const struct tlp_row tlp_rows[] = {
	[KZ_TLP_UNSET] = { "", "", "" },
	[KZ_TLP_CLEAR] = { "CLEAR", "WHITE",
	                   "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487" },
	[KZ_TLP_GREEN] = { "GREEN", "GREEN",
	                   "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" },
	[KZ_TLP_AMBER] = { "AMBER", "AMBER",
	                   "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" },
	/* IntelMQ has no AMBER+STRICT; AMBER would widen it to the recipient's
	 * clients, so the nearest value that is not looser is RED. */
	[KZ_TLP_AMBER_STRICT] = { "AMBER+STRICT", "RED",
	                          "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003" },
	[KZ_TLP_RED] = { "RED", "RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1" },
};

#define TLP_COUNT (sizeof tlp_rows / sizeof tlp_rows[0])

/* The row of a label; values outside the enum read as unset, so a
 * corrupted label prints as nothing rather than as something looser. */
static const struct tlp_row *row(enum kz_tlp t)
{
	if ((unsigned)t >= TLP_COUNT)
		return &tlp_rows[KZ_TLP_UNSET];
	return &tlp_rows[t];
}

const char *kz_tlp_name(enum kz_tlp t)
{
	return row(t)->name;
}

const char *kz_tlp_intelmq(enum kz_tlp t)
{
	return row(t)->intelmq;
}

const char *kz_tlp_stix_marking(enum kz_tlp t)
{
	return row(t)->stix;
}

/* Lenient on purpose: this reads what people type (--tlp amber) and what
 * other tools write (TLP:WHITE); record fields use the exact parsers. */
int kz_tlp_parse(const char *s, enum kz_tlp *out)
{
	if (strncasecmp(s, "TLP:", 4) == 0)
		s += 4;
	if (strcasecmp(s, "WHITE") == 0) {
		*out = KZ_TLP_CLEAR;
		return 0;
	}
	for (size_t i = KZ_TLP_CLEAR; i < TLP_COUNT; i++) {
		if (strcasecmp(s, tlp_rows[i].name) == 0) {
			*out = (enum kz_tlp)i;
			return 0;
		}
	}
	return -EINVAL;
}

int kz_tlp_parse_intelmq(const char *s, enum kz_tlp *out)
{
	static const struct {
		const char *name;
		enum kz_tlp tlp;
	} values[] = {
		{ "WHITE", KZ_TLP_CLEAR },
		{ "GREEN", KZ_TLP_GREEN },
		{ "AMBER", KZ_TLP_AMBER },
		{ "RED", KZ_TLP_RED },
	};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		if (strcmp(s, values[i].name) == 0) {
			*out = values[i].tlp;
			return 0;
		}
	}
	return -EINVAL;
}

int kz_tlp_parse_canonical(const char *s, enum kz_tlp *out)
{
	for (size_t i = KZ_TLP_CLEAR; i < TLP_COUNT; i++) {
		if (strcmp(s, tlp_rows[i].name) == 0) {
			*out = (enum kz_tlp)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum kz_tlp kz_tlp_most_restrictive(enum kz_tlp a, enum kz_tlp b)
{
	return a > b ? a : b;
}
