/*
 * The time parser on arbitrary bytes: no crash, no read past the given
 * length, and whatever parses formats back to text that parses to the same
 * second (and, at millisecond precision, the same millisecond).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t sec, back;
	uint32_t nsec, bn;
	const char *why = NULL;
	if (kz_time_parse_mem((const char *)data, size, &sec, &nsec, &why) != 0) {
		if (!why || !*why)
			abort();
		return 0;
	}
	if (nsec >= 1000000000u || sec < KZ_TIME_MIN || sec > KZ_TIME_MAX)
		abort();
	char buf[KZ_TIME_STRLEN], ms[KZ_TIME_MS_STRLEN];
	if (kz_time_format(sec, buf) != 0)
		abort();
	if (kz_time_parse_mem(buf, strlen(buf), &back, &bn, &why) != 0 || back != sec || bn != 0)
		abort();
	if (kz_time_format_ms(sec * 1000 + nsec / 1000000, ms) != 0)
		abort();
	if (kz_time_parse_mem(ms, strlen(ms), &back, &bn, &why) != 0 || back != sec ||
	    bn != nsec / 1000000 * 1000000)
		abort();
	return 0;
}
