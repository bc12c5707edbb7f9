/* The page index: address -> map record in one or two loads.
 *
 * Level 1 has one 32-bit entry per 2 MiB of the user address space
 * (2^26 entries, reserved MAP_NORESERVE: only touched pages become
 * resident). An entry is 0 (nothing), a record reference (the whole 2 MiB
 * belongs to one map), or a tagged leaf reference: a 512-entry leaf with
 * one record reference per 4 KiB page, allocated from the no-mmap tier
 * when a map boundary falls inside that 2 MiB. References are offsets
 * from the no-mmap tier's base in 16-byte units, so the index holds no
 * pointers and a stale reference still points into mapped memory.
 *
 * Writers hold the index lock; readers are lock-free and must validate
 * what they read (the mapping index's seqlock).
 */
#ifndef AM_INDEX_PAGEINDEX_H
#define AM_INDEX_PAGEINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../sys/page.h"

#define AM_SUPER_SHIFT 21
#define AM_USER_TOP ((uintptr_t)1 << 47)

/* Reserves level 1. 0 on success; -1 if the kernel refused or
 * am_pageindex_forgo() was called (then am_pageindex_ready() is 0 and
 * callers use their fallback). */
int am_pageindex_init(void);
/* Before start-up: do without the page index (its reservation would not
 * fit the process's address-space limit). */
void am_pageindex_forgo(void);
/* The bytes its reservation takes. */
size_t am_pageindex_bytes(void);
int am_pageindex_ready(void);
/* The level-1 reservation, for the index's own records. */
void am_pageindex_region(uintptr_t *lo, uintptr_t *hi);

/* Points every page of [lo, hi) at record `ref` (0 clears). -1 if a leaf
 * could not be allocated (those pages then read as 0). */
int am_pageindex_set(uintptr_t lo, uintptr_t hi, uint32_t ref);

/* Forgets every entry (a forked child rebuilding its index): level 1 is
 * given back to the kernel, so it reads as zeros. Leaves are the no-mmap
 * tier's, which the caller resets. */
void am_pageindex_reset(void);

/* The record reference for p's page, 0 if none. */
uint32_t am_pageindex_get(uintptr_t p);

/* Converting between records (in the no-mmap tier) and references. */
uint32_t am_ref_of(const void *rec);
void *am_ref_ptr(uint32_t ref);

#endif
