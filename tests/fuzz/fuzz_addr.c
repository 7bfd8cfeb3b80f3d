/*
 * Address and CIDR parsing on arbitrary text: no crash, no read past the
 * input, and whatever parses prints back to text that parses to the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[128];
	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	const char *why;
	struct kz_addr a, b;
	if (kz_addr_parse(text, &a, &why) == 0) {
		char buf[KZ_ADDR_STRLEN];
		if (kz_addr_parse(kz_addr_format(a, buf), &b, &why) != 0 || kz_addr_cmp(a, b) != 0)
			abort();
	}
	struct kz_cidr c, d;
	if (kz_cidr_parse(text, &c, &why) == 0) {
		char buf[KZ_CIDR_STRLEN];
		if (kz_cidr_parse(kz_cidr_format(&c, buf), &d, &why) != 0 ||
		    kz_addr_cmp(c.base, d.base) != 0 || c.len != d.len)
			abort();
		if (!kz_cidr_contains(&c, kz_cidr_first(&c)) ||
		    !kz_cidr_contains(&c, kz_cidr_last(&c)))
			abort();
	}
	return 0;
}
