/*
 * A guess at what a device is from the text it shows (extra.device): a
 * short list of vendor and system names, each with the words that give it
 * away in telnet banners, SSH version lines and HTTP headers. Notification
 * letters and reports (device_vendor) use it; it never changes a status.
 */
#ifndef KZ_DEVICE_GUESS_H
#define KZ_DEVICE_GUESS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of each text looked at. */
#define KZ_DEVICE_GUESS_MAX 4096

/* The name of the first table entry (most specific first) whose word
 * appears, case-insensitively, in a[0..alen) or b[0..blen) (either may be
 * NULL), or NULL. A static string such as "hikvision", "mikrotik",
 * "busybox". */
const char *kz_device_guess(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
