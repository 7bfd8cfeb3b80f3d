/*
 * UTC time text by arithmetic alone. gmtime_r/timegm would do, but timegm is
 * not standard C, strptime is locale-dependent and accepts far more than we
 * want to, and none of them says *why* an input is wrong. The calendar is
 * the proleptic Gregorian one: days are counted in 400-year eras of 146,097
 * days, with the year taken to start on 1 March so that the leap day is the
 * last day of the year (the well-known civil-from-days construction). Every
 * intermediate fits an int64_t for the years 0000-9999 we accept.
 */
#include "timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Days from 1970-01-01 to y-m-d. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                                   /* 0..399 */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
	return era * 146097 + doe - 719468;
}

/* The inverse: y-m-d of a day count from 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Splits sec into calendar fields; sec must be within the accepted range. */
static void split(int64_t sec, int64_t *y, int *mo, int *d, int *h, int *mi, int *s)
{
	/* Floor division, so that times before 1970 land on the right day. */
	int64_t days = sec / 86400, rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, y, mo, d);
	*h = (int)(rem / 3600);
	*mi = (int)(rem / 60 % 60);
	*s = (int)(rem % 60);
}

/* Writes v as exactly width decimal digits (v is known to fit). */
static void put_digits(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* "YYYY-MM-DDTHH:MM:SS" into p[0..19); by hand rather than snprintf, which
 * is slower and whose truncation warnings cannot see our range check. */
static void put_datetime(char *p, int64_t y, int mo, int d, int h, int mi, int s)
{
	put_digits(p, y, 4);
	p[4] = '-';
	put_digits(p + 5, mo, 2);
	p[7] = '-';
	put_digits(p + 8, d, 2);
	p[10] = 'T';
	put_digits(p + 11, h, 2);
	p[13] = ':';
	put_digits(p + 14, mi, 2);
	p[16] = ':';
	put_digits(p + 17, s, 2);
}

int kz_time_format(int64_t sec, char buf[KZ_TIME_STRLEN])
{
	buf[0] = '\0';
	if (sec < KZ_TIME_MIN || sec > KZ_TIME_MAX)
		return -ERANGE;
	int64_t y;
	int mo, d, h, mi, s;
	split(sec, &y, &mo, &d, &h, &mi, &s);
	put_datetime(buf, y, mo, d, h, mi, s);
	buf[19] = 'Z';
	buf[20] = '\0';
	return 0;
}

int kz_time_format_ms(int64_t ms, char buf[KZ_TIME_MS_STRLEN])
{
	buf[0] = '\0';
	int64_t sec = ms / 1000, frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	if (sec < KZ_TIME_MIN || sec > KZ_TIME_MAX)
		return -ERANGE;
	int64_t y;
	int mo, d, h, mi, s;
	split(sec, &y, &mo, &d, &h, &mi, &s);
	put_datetime(buf, y, mo, d, h, mi, s);
	buf[19] = '.';
	put_digits(buf + 20, frac, 3);
	buf[23] = 'Z';
	buf[24] = '\0';
	return 0;
}

/* Reads exactly n decimal digits at s[*pos], advancing *pos. */
static bool digits(const char *s, size_t len, size_t *pos, size_t n, int *out)
{
	if (len - *pos < n)
		return false;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[*pos + i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*pos += n;
	*out = v;
	return true;
}

static bool expect(const char *s, size_t len, size_t *pos, char c)
{
	if (*pos >= len || s[*pos] != c)
		return false;
	(*pos)++;
	return true;
}

/* Every refusal sets a static reason and returns -EINVAL. */
#define FAIL(reason)                                                                               \
	do {                                                                                       \
		*why = (reason);                                                                   \
		return -EINVAL;                                                                    \
	} while (0)

int kz_time_parse_mem(const char *s, size_t len, int64_t *sec, uint32_t *nsec, const char **why)
{
	size_t pos = 0;
	int y, mo, d, h = 0, mi = 0, se = 0;
	uint32_t frac = 0;
	int offset = 0; /* seconds east of UTC */

	if (!digits(s, len, &pos, 4, &y))
		FAIL("expected a 4-digit year (YYYY-MM-DD)");
	if (!expect(s, len, &pos, '-'))
		FAIL("expected '-' after the year (YYYY-MM-DD)");
	if (!digits(s, len, &pos, 2, &mo))
		FAIL("expected a 2-digit month (YYYY-MM-DD)");
	if (mo < 1 || mo > 12)
		FAIL("month out of range 01-12");
	if (!expect(s, len, &pos, '-'))
		FAIL("expected '-' after the month (YYYY-MM-DD)");
	if (!digits(s, len, &pos, 2, &d))
		FAIL("expected a 2-digit day (YYYY-MM-DD)");
	if (d < 1 || d > days_in_month(y, mo))
		FAIL("day out of range for the month");

	/* A bare date stops here. Otherwise the time, to the second: reduced
	 * precision ("16:19Z") is ISO 8601 but says less than users think. */
	if (pos < len) {
		if (s[pos] == ' ')
			FAIL("expected 'T' between date and time, not a space");
		if (!expect(s, len, &pos, 'T'))
			FAIL("expected 'T' after the date");
		if (!digits(s, len, &pos, 2, &h))
			FAIL("expected a 2-digit hour after 'T'");
		if (h > 23)
			FAIL("hour above 23");
		if (!expect(s, len, &pos, ':'))
			FAIL("expected ':' after the hour (HH:MM:SS)");
		if (!digits(s, len, &pos, 2, &mi))
			FAIL("expected a 2-digit minute (HH:MM:SS)");
		if (mi > 59)
			FAIL("minute above 59");
		if (!expect(s, len, &pos, ':'))
			FAIL("expected ':SS' seconds after the minute");
		if (!digits(s, len, &pos, 2, &se))
			FAIL("expected 2-digit seconds (HH:MM:SS)");
		if (se == 60)
			FAIL("leap second 60 is not accepted");
		if (se > 59)
			FAIL("second above 59");
		if (pos < len && s[pos] == '.') {
			pos++;
			size_t n = 0;
			uint32_t scale = 100000000;
			while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
				if (++n > 9)
					FAIL("more than 9 fractional digits");
				frac += (uint32_t)(s[pos] - '0') * scale;
				scale /= 10;
				pos++;
			}
			if (n == 0)
				FAIL("expected digits after '.'");
		}
		/* A time without a zone is local time somewhere: never guess. */
		if (pos >= len)
			FAIL("no time zone: add 'Z' for UTC");
		if (s[pos] == 'Z') {
			pos++;
		} else if (s[pos] == '+' || s[pos] == '-') {
			int sign = s[pos] == '-' ? -1 : 1, oh, om;
			pos++;
			if (!digits(s, len, &pos, 2, &oh) || !expect(s, len, &pos, ':') ||
			    !digits(s, len, &pos, 2, &om))
				FAIL("expected a +HH:MM or -HH:MM offset");
			if (oh > 23 || om > 59)
				FAIL("offset out of range");
			offset = sign * (oh * 3600 + om * 60);
		} else if (s[pos] == 'z') {
			FAIL("expected 'Z' (uppercase) for UTC");
		} else {
			FAIL("expected 'Z' or a +HH:MM offset after the time");
		}
	}
	if (pos != len)
		FAIL("trailing characters after the time");

	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
	/* Only an offset can push a year-0000 or year-9999 time out of range. */
	if (t < KZ_TIME_MIN || t > KZ_TIME_MAX)
		FAIL("outside the years 0000-9999 once the offset is applied");
	*sec = t;
	*nsec = frac;
	return 0;
}

int kz_time_parse(const char *s, int64_t *sec, const char **why)
{
	uint32_t nsec;
	return kz_time_parse_mem(s, strlen(s), sec, &nsec, why);
}

int kz_time_parse_ns(const char *s, int64_t *ns, const char **why)
{
	int64_t sec, v;
	uint32_t nsec;
	int rc = kz_time_parse_mem(s, strlen(s), &sec, &nsec, why);
	if (rc)
		return rc;
	if (__builtin_mul_overflow(sec, INT64_C(1000000000), &v) ||
	    __builtin_add_overflow(v, (int64_t)nsec, &v))
		FAIL("outside the range of nanosecond times (1677-2262)");
	*ns = v;
	return 0;
}
