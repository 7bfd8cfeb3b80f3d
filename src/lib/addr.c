/*
 * Strict address parsing. IPv4 is parsed by hand so that each fault gets its
 * own reason (a leading zero is refused: inet_aton would read it as octal,
 * other tools as decimal, and a scope list must not be ambiguous). IPv6 goes
 * through inet_pton, which already accepts exactly RFC 4291's text forms.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

struct kz_addr kz_addr_from_bytes(const uint8_t bytes[16])
{
	struct kz_addr a = { 0 };
	for (int i = 0; i < 16; i++)
		a.v = a.v << 8 | bytes[i];
	return a;
}

void kz_addr_to_bytes(struct kz_addr a, uint8_t bytes[16])
{
	for (int i = 15; i >= 0; i--) {
		bytes[i] = (uint8_t)a.v;
		a.v >>= 8;
	}
}

static int parse_v4(const char *s, uint32_t *out, const char **why)
{
	uint32_t v = 0;
	int octets = 0;
	const char *p = s;
	for (;;) {
		if (*p < '0' || *p > '9') {
			*why = *p ? "not an IPv4 address: expected a digit"
			          : "not an IPv4 address: incomplete";
			return -EINVAL;
		}
		const char *start = p;
		unsigned octet = 0;
		while (*p >= '0' && *p <= '9') {
			octet = octet * 10 + (unsigned)(*p - '0');
			if (octet > 255) {
				*why = "IPv4 octet above 255";
				return -EINVAL;
			}
			p++;
		}
		if (p - start > 1 && *start == '0') {
			*why = "IPv4 octet with a leading zero (octal or decimal is ambiguous)";
			return -EINVAL;
		}
		v = v << 8 | octet;
		octets++;
		if (octets == 4)
			break;
		if (*p != '.') {
			*why = *p ? "not an IPv4 address: unexpected character"
			          : "not an IPv4 address: fewer than four octets";
			return -EINVAL;
		}
		p++;
	}
	if (*p != '\0') {
		*why = *p == '.' ? "not an IPv4 address: more than four octets"
		                 : "trailing characters after the address";
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int kz_addr_parse(const char *s, struct kz_addr *out, const char **why)
{
	if (!strchr(s, ':')) {
		uint32_t v4;
		int rc = parse_v4(s, &v4, why);
		if (rc == 0)
			*out = kz_addr_from_v4(v4);
		return rc;
	}
	if (strchr(s, '%')) {
		*why = "IPv6 zone identifiers are not accepted";
		return -EINVAL;
	}
	uint8_t bytes[16];
	if (strlen(s) >= KZ_ADDR_STRLEN || inet_pton(AF_INET6, s, bytes) != 1) {
		*why = "not an IPv6 address";
		return -EINVAL;
	}
	*out = kz_addr_from_bytes(bytes);
	return 0;
}

char *kz_addr_format(struct kz_addr a, char *buf)
{
	if (kz_addr_is_v4(a)) {
		uint32_t v = kz_addr_v4(a);
		snprintf(buf, KZ_ADDR_STRLEN, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255,
		         (v >> 8) & 255, v & 255);
		return buf;
	}
	uint8_t bytes[16];
	kz_addr_to_bytes(a, bytes);
	inet_ntop(AF_INET6, bytes, buf, KZ_ADDR_STRLEN);
	return buf;
}

static kz_u128 host_mask(unsigned len128)
{
	return len128 >= 128 ? 0 : ~(kz_u128)0 >> len128;
}

int kz_cidr_parse(const char *s, struct kz_cidr *out, const char **why)
{
	char text[KZ_CIDR_STRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0) {
		*why = "empty address";
		return -EINVAL;
	}
	if (alen >= sizeof text) {
		*why = "not an address: too long";
		return -EINVAL;
	}
	memcpy(text, s, alen);
	text[alen] = '\0';
	struct kz_addr a;
	int rc = kz_addr_parse(text, &a, why);
	if (rc)
		return rc;
	/* The family comes from the text: "::ffff:a.b.c.d/120" is an IPv6 prefix
	 * length over an address that we hold as IPv4. */
	bool v4_text = strchr(text, ':') == NULL;
	unsigned max = v4_text ? 32 : 128;
	unsigned len = max;
	if (slash) {
		const char *p = slash + 1;
		if (*p < '0' || *p > '9') {
			*why = "prefix length is not a number";
			return -EINVAL;
		}
		if (p[0] == '0' && p[1] != '\0') {
			*why = "prefix length with a leading zero";
			return -EINVAL;
		}
		len = 0;
		while (*p >= '0' && *p <= '9' && len <= 128)
			len = len * 10 + (unsigned)(*p++ - '0');
		if (*p != '\0' && len <= 128) {
			*why = "trailing characters after the prefix length";
			return -EINVAL;
		}
		if (len > max) {
			*why = max == 32 ? "prefix length above 32" : "prefix length above 128";
			return -EINVAL;
		}
	}
	unsigned len128 = v4_text ? len + 96 : len;
	if (a.v & host_mask(len128)) {
		*why = "host bits set after the prefix length";
		return -EINVAL;
	}
	if (!v4_text && kz_addr_is_v4(a)) {
		if (len128 < 96) {
			*why = "prefix spans IPv4-mapped and other IPv6 space";
			return -EINVAL;
		}
		len = len128 - 96;
	}
	out->base = a;
	out->len = (uint8_t)len;
	return 0;
}

char *kz_cidr_format(const struct kz_cidr *c, char *buf)
{
	char a[KZ_ADDR_STRLEN];
	snprintf(buf, KZ_CIDR_STRLEN, "%s/%u", kz_addr_format(c->base, a), c->len);
	return buf;
}

struct kz_addr kz_cidr_first(const struct kz_cidr *c)
{
	return c->base;
}

struct kz_addr kz_cidr_last(const struct kz_cidr *c)
{
	struct kz_addr a = { c->base.v | host_mask(kz_cidr_len128(c)) };
	return a;
}

bool kz_cidr_contains(const struct kz_cidr *c, struct kz_addr a)
{
	return (a.v & ~host_mask(kz_cidr_len128(c))) == c->base.v;
}

struct kz_cidr kz_cidr_make(struct kz_addr a, unsigned len)
{
	struct kz_cidr c;
	unsigned len128 = kz_addr_is_v4(a) ? len + 96 : len;
	c.base.v = a.v & ~host_mask(len128);
	c.len = (uint8_t)len;
	return c;
}
