/*
 * Large zeroed allocations for random-access tables (see bigmem.h).
 *
 * Blocks of 2 MiB or more are mapped with room for a 2 MiB alignment, the
 * excess is unmapped, and the kernel is asked for huge pages; a kernel
 * that refuses (THP "never") still gives ordinary pages. Smaller blocks
 * come from calloc, which already hands out zeroed memory.
 */
#include "bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_SIZE ((size_t)2 << 20)

static size_t rounded(size_t len)
{
	return (len + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
}

void *kz_bigmem_alloc(size_t len)
{
	if (len < HUGE_SIZE)
		return calloc(1, len ? len : 1);
	size_t size = rounded(len);
	if (size < len)
		return NULL;
	uint8_t *raw = mmap(NULL, size + HUGE_SIZE, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uintptr_t start = ((uintptr_t)raw + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1);
	uint8_t *p = (uint8_t *)start;
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	size_t tail = (size_t)(raw + size + HUGE_SIZE - (p + size));
	if (tail)
		munmap(p + size, tail);
	/* Advice only: without THP the pages are ordinary ones. */
	(void)madvise(p, size, MADV_HUGEPAGE);
	return p;
}

void kz_bigmem_free(void *p, size_t len)
{
	if (!p)
		return;
	if (len < HUGE_SIZE) {
		free(p);
		return;
	}
	munmap(p, rounded(len));
}
