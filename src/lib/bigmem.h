/*
 * Large fixed tables: the telescope's per-source pool and index, its
 * per-port arrays. They are allocated once, zeroed, and then read at random
 * at millions of lookups a second, so two things matter that malloc does
 * not promise: the memory comes straight from the kernel (untouched pages
 * cost no resident memory, and the table's budget is what it says), and
 * it is backed by transparent huge pages where the kernel allows them
 * (madvise), because with 4 KiB pages a random lookup in a table of tens
 * of megabytes misses the TLB as well as the cache.
 */
#ifndef KZ_BIGMEM_H
#define KZ_BIGMEM_H

#include <stddef.h>

/* Zeroed memory of at least len bytes, aligned to 64 bytes (to 2 MiB when
 * large), or NULL. Free with kz_bigmem_free and the same len. */
void *kz_bigmem_alloc(size_t len);

void kz_bigmem_free(void *p, size_t len);

#endif
