#include "random.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "encode.h"

int kz_random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	return 0;
}

int kz_random_token(char buf[KZ_RANDOM_TOKEN_STRLEN])
{
	uint8_t raw[32];
	char b64[48];
	int rc = kz_random_bytes(raw, sizeof raw);
	if (rc)
		return rc;
	size_t n = kz_base64_encode(raw, sizeof raw, b64);
	explicit_bzero(raw, sizeof raw);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	/* 32 bytes are 43 characters: n always fits (the bound says so to the
	 * compiler, which cannot see into kz_base64_encode). */
	if (n > KZ_RANDOM_TOKEN_STRLEN - 1)
		n = KZ_RANDOM_TOKEN_STRLEN - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	buf[n] = '\0';
	explicit_bzero(b64, sizeof b64);
	return 0;
}
