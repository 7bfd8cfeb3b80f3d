/*
 * The telescope engine on arbitrary packets: decode, darknet filter,
 * classification, the source table (a budget of 16 sources, so evictions
 * happen), RS-DoS vectors, port stats, intervals of one second, and every
 * record the engine writes. Beyond "no crash, no leak, no read out of
 * bounds" (ASan), the harness checks what users rely on: every event line
 * is one valid record (kz_record_validate), the counters add up, and the
 * table never holds more than its budget.
 *
 * Input: byte 0 picks options (bit 0 --anonymised-dst, bit 1 Ethernet
 * instead of raw IP), then records of [time step in quarter seconds: 1
 * byte][length: 2 bytes, big-endian][frame].
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "telescope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_event(void *st, const char *line, size_t len, const struct kz_tevent *ev)
{
	(void)st;
	if (len == 0 || line[len - 1] != '\n' || !ev->finding_id || !ev->observation_id)
		abort();
	json_error_t jerr;
	json_t *rec = json_loadb(line, len - 1, 0, &jerr);
	char why[KZ_RECORD_WHY_MAX];
	if (!rec || kz_record_validate(rec, why, sizeof why) != 0)
		abort();
	if (strcmp(json_string_value(json_object_get(rec, "extra.finding_id")), ev->finding_id) ||
	    strcmp(json_string_value(json_object_get(rec, "extra.observation_id")),
	           ev->observation_id))
		abort();
	json_decref(rec);
	return 0;
}

static int check_stats(void *st, const struct kz_tstats_row *row)
{
	(void)st;
	if (row->packets == 0 || row->unique_sources > row->packets + 1 || !row->proto[0])
		abort();
	return 0;
}

static const struct kz_tsink checker = {
	.name = "checker",
	.event = check_event,
	.stats = check_stats,
};

static int64_t fixed_clock(void)
{
	return 1700000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 200000)
		return 0;
	struct kz_cidr dark[2];
	const char *why;
	if (kz_cidr_parse("198.18.0.0/15", &dark[0], &why) ||
	    kz_cidr_parse("2001:db8::/32", &dark[1], &why))
		abort();
	struct kz_telescope_config cfg = {
		.darknet = dark,
		.ndarknet = 2,
		.sensor = "fuzz",
		.interval_s = 1,
		.max_sources = 16,
		.max_attacks = 8,
		.update_s = 2,
		.anonymised_dst = data[0] & 1,
		.threads = 1,
		.clock = fixed_clock,
	};
	struct kz_telescope *t;
	char err[256];
	if (kz_telescope_new(&cfg, &t, err, sizeof err) != 0)
		abort();
	if (kz_telescope_add_sink(t, &checker, NULL) != 0)
		abort();
	uint32_t lt = data[0] & 2 ? KZ_LINKTYPE_ETHERNET : KZ_LINKTYPE_RAW;
	uint64_t ts = UINT64_C(1700000000) * 1000000000u;
	size_t pos = 1;
	while (pos + 3 <= size) {
		ts += (uint64_t)data[pos] * 250000000u;
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		struct kz_frame f = { data + pos, ts, (uint32_t)len, (uint32_t)len, lt, 0 };
		kz_telescope_frame(t, &f);
		pos += len;
	}
	if (kz_telescope_finish(t) != 0)
		abort();
	struct kz_telescope_summary s;
	kz_telescope_summary(t, &s);
	uint64_t decoded = 0;
	for (unsigned r = 0; r < KZ_PKT_RESULT_COUNT; r++)
		decoded += s.decode.by_result[r];
	if (decoded != s.frames || s.analysed + s.outside != s.decode.by_result[KZ_PKT_OK])
		abort();
	if (s.by_class[0] + s.by_class[1] + s.by_class[2] != s.analysed)
		abort();
	if (s.sources.used > 16 || s.attacks.used > 8)
		abort();
	kz_telescope_free(t);
	return 0;
}
