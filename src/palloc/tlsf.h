/* The allocator engine: two-level segregated fit (TLSF, Masmano et al.
 * 2004), written from the published description.
 *
 * Memory comes in pools: contiguous ranges handed to the engine, each
 * ended by a zero-size sentinel header. Every block carries a 16-byte
 * header {prev_size, size|flags}; payloads are 16-byte aligned; free blocks
 * hold their free-list links in the payload, so the minimum block is 32
 * bytes. Free blocks never touch: free() coalesces with both physical
 * neighbours at once. malloc rounds the request up to the next size class
 * and takes the head of the first non-empty list at or above it ("good
 * fit"): O(1), bounded waste per class (1/32 of the size).
 *
 * The engine has no lock and no system calls: its caller (a tier) owns
 * both. Sizes passed in are payload sizes; am_tlsf_usable() gives back the
 * payload size of a live block.
 */
#ifndef AM_PALLOC_TLSF_H
#define AM_PALLOC_TLSF_H

#include <stddef.h>
#include <stdint.h>

#define AM_TLSF_ALIGN 16
#define AM_TLSF_HDR 16             /* block header bytes */
#define AM_TLSF_MIN_BLOCK 32       /* header + two free-list links */
#define AM_TLSF_SL_LOG2 5          /* 32 second-level lists per first level */
#define AM_TLSF_SL_COUNT (1 << AM_TLSF_SL_LOG2)
#define AM_TLSF_FL_SHIFT (AM_TLSF_SL_LOG2 + 4) /* sizes below 512 are "small" */
#define AM_TLSF_FL_COUNT 36        /* block sizes up to 2^44 bytes */
#define AM_TLSF_MAX_BLOCK ((size_t)1 << 43)

struct am_blk;

struct am_tlsf {
	uint64_t fl_map;                           /* bit f: some list in level f non-empty */
	uint32_t sl_map[AM_TLSF_FL_COUNT];         /* bit s: list [f][s] non-empty */
	struct am_blk *heads[AM_TLSF_FL_COUNT][AM_TLSF_SL_COUNT];
};

void am_tlsf_init(struct am_tlsf *t);

/* Gives [mem, mem+bytes) to the engine as a new pool. mem must be 16-byte
 * aligned and bytes a multiple of 16, at least 48. */
void am_tlsf_add_pool(struct am_tlsf *t, void *mem, size_t bytes);

/* Grows the pool whose sentinel sits at old_end-16 by `more` bytes (a
 * multiple of 16, >= 32): the new space joins the last block. */
void am_tlsf_extend_pool(struct am_tlsf *t, void *old_end, size_t more);

/* If the last block of the pool ending at `end` is free and at least
 * min_bytes (and keep + 32) long, cuts it down to `keep` bytes (removes it
 * if keep < 32) and returns the pool's new end; else end. keep is a
 * multiple of 16. */
void *am_tlsf_trim_tail(struct am_tlsf *t, void *end, size_t min_bytes, size_t keep);

/* If the pool [mem, end) is one free block, takes it out of the free lists
 * and returns 1 (the caller may then release the pool); else 0. */
int am_tlsf_take_empty_pool(struct am_tlsf *t, void *mem, void *end);

/* NULL when no free block fits (the caller may add memory and retry). */
void *am_tlsf_malloc(struct am_tlsf *t, size_t size);
void *am_tlsf_memalign(struct am_tlsf *t, size_t align, size_t size);
void am_tlsf_free(struct am_tlsf *t, void *p);

/* Grows or shrinks p in place if the next block allows; returns 1 on
 * success, 0 if the caller must move the data. */
int am_tlsf_resize(struct am_tlsf *t, void *p, size_t size);

/* Payload bytes of the live block at p. */
size_t am_tlsf_usable(const void *p);

/* Calls fn for every block of the pool starting at mem, in address order,
 * until the sentinel; stops early (returning 1) at a malformed header or a
 * block that would cross `end`. Returns 0 after a clean walk. */
typedef void am_tlsf_visit(void *payload, size_t usable, int is_free, void *arg);
int am_tlsf_walk(const void *mem, const void *end, am_tlsf_visit *fn, void *arg);

/* Walks every block of the pool [mem, end); returns the number of broken
 * invariants found (bad sizes, adjacent free blocks, a free block whose list
 * is marked empty or whose links disagree, flags disagreeing with
 * neighbours, a sentinel not at end-16). */
size_t am_tlsf_validate(const struct am_tlsf *t, const void *mem, const void *end);

#endif
