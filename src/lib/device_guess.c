/*
 * Device guesses from banner words (device_guess.h). The table lists
 * vendors before generic systems (a Hikvision DVR runs BusyBox; the vendor
 * is the more useful answer), and only words that do not occur inside
 * ordinary English ("zte" alone would, so ZTE is known by its model
 * prefixes). It covers the vendors of the default credential list
 * (docs/credentials.md) and the systems the device simulator shows.
 */
#include "device_guess.h"

#include <stdbool.h>
#include <string.h>

struct rule {
	const char *word; /* lowercase */
	const char *name;
};

static const struct rule rules[] = {
	{ "hikvision", "hikvision" },
	{ "dvrdvs", "hikvision" },
	{ "dahua", "dahua" },
	{ "xiongmai", "xiongmai" },
	{ "xmeye", "xiongmai" },
	{ "uc-httpd", "xiongmai" },
	{ "netsurveillance", "xiongmai" },
	{ "mikrotik", "mikrotik" },
	{ "routeros", "mikrotik" },
	{ "rosssh", "mikrotik" },
	{ "user access verification", "cisco" },
	{ "cisco", "cisco" },
	{ "huawei", "huawei" },
	{ "echolife", "huawei" },
	{ "zxhn", "zte" },
	{ "zxv10", "zte" },
	{ "zxa10", "zte" },
	{ "zte corporation", "zte" },
	{ "zyxel", "zyxel" },
	{ "zynos", "zyxel" },
	{ "d-link", "d-link" },
	{ "dlink", "d-link" },
	{ "tp-link", "tp-link" },
	{ "netgear", "netgear" },
	{ "ubiquiti", "ubiquiti" },
	{ "ubnt", "ubiquiti" },
	{ "airos", "ubiquiti" },
	{ "synology", "synology" },
	{ "qnap", "qnap" },
	{ "raspbian", "raspberry-pi" },
	{ "raspberry", "raspberry-pi" },
	{ "openwrt", "openwrt" },
	{ "dd-wrt", "dd-wrt" },
	{ "busybox", "busybox" },
	{ "debian", "debian" },
	{ "ubuntu", "ubuntu" },
};

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool contains(const uint8_t *t, size_t n, const char *word)
{
	size_t w = strlen(word);
	if (!t || n < w)
		return false;
	for (size_t i = 0; i + w <= n; i++) {
		size_t k = 0;
		while (k < w && lower(t[i + k]) == (unsigned char)word[k])
			k++;
		if (k == w)
			return true;
	}
	return false;
}

const char *kz_device_guess(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen > KZ_DEVICE_GUESS_MAX)
		alen = KZ_DEVICE_GUESS_MAX;
	if (blen > KZ_DEVICE_GUESS_MAX)
		blen = KZ_DEVICE_GUESS_MAX;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (contains(a, alen, rules[i].word) || contains(b, blen, rules[i].word))
			return rules[i].name;
	return NULL;
}
