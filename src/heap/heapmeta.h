/* The heap index's per-arena bitmap record (private to src/heap): the
 * layout heapindex.c keeps and heapcheck.c validates.
 * Invariant: leaf[k] covers [base + k * LEAF_COVER, + LEAF_COVER) clipped
 * to end; a leaf, once made, is never unmapped nor moved. A leaf is
 * LEAF_BITS chunk-start bits, then PAGE_MARKS big-chunk marks: mark j is
 * set exactly when a recorded chunk of at least AM_BIG_CHUNK bytes starts
 * in the leaf's j-th 4 KiB page (at most one can, as it is longer than a
 * page, and it is the page's last chunk start), so a query inside a big
 * chunk finds its start without reading a bit per 16 bytes all the way
 * back.
 */
#ifndef AM_HEAP_HEAPMETA_H
#define AM_HEAP_HEAPMETA_H

#include <stdint.h>

#include "fastpath.h"

#define UNIT 16
#define LEAF_SHIFT AM_LEAF_SHIFT                 /* a leaf covers 16 MiB of arena */
#define LEAF_COVER ((uintptr_t)1 << LEAF_SHIFT)
#define LEAF_BITS (LEAF_COVER / UNIT)
#define MARK_SHIFT 8                             /* one mark per 2^8 units: 4 KiB */
#define MARK_PAGE ((uintptr_t)UNIT << MARK_SHIFT) /* 4 KiB */
#define PAGE_MARKS (LEAF_BITS >> MARK_SHIFT)     /* 4096 */
#define LEAF_WORDS ((LEAF_BITS + PAGE_MARKS) / 64)
#define LEAF_BYTES (LEAF_WORDS * 8)              /* 128.5 KiB */
#define SLACK_UNKNOWN 0xFFFFu                    /* a trailer's slack when unknown */

struct am_heapmeta {
	uintptr_t base, end;          /* coverage: one bit per 16 bytes */
	unsigned nleaves;             /* (end - base) / LEAF_COVER, rounded up */
	struct am_heapmeta *next;     /* on the retired stack */
	uint64_t *leaf[];             /* bitmap leaves, made on first use in the
				         mmap tier; never unmapped, never moved */
};

/* The leaf covering arena offset off, or NULL if not made. */
static inline uint64_t *am_heapmeta_leaf(const struct am_heapmeta *m, uintptr_t off)
{
	return __atomic_load_n(&m->leaf[off >> LEAF_SHIFT], __ATOMIC_ACQUIRE);
}

/* The big-chunk marks of a leaf. */
static inline uint64_t *am_leaf_marks(uint64_t *leaf) { return leaf + LEAF_BITS / 64; }

#endif
