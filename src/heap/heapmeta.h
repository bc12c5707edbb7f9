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
#include "heap.h"

#define UNIT 16
#define LEAF_SHIFT AM_LEAF_SHIFT                 /* a leaf covers 16 MiB of arena */
#define LEAF_COVER ((uintptr_t)1 << LEAF_SHIFT)
#define LEAF_BITS (LEAF_COVER / UNIT)
#define MARK_SHIFT 8                             /* one mark per 2^8 units: 4 KiB */
#define MARK_PAGE ((uintptr_t)UNIT << MARK_SHIFT) /* 4 KiB */
#define PAGE_MARKS (LEAF_BITS >> MARK_SHIFT)     /* 4096 */
#define LEAF_WORDS ((LEAF_BITS + PAGE_MARKS) / 64)
#define LEAF_BYTES (LEAF_WORDS * 8)              /* 128.5 KiB */
#define MARK_LIMIT AM_MARK_LIMIT                 /* a big chunk is looked for this far */
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

/* With a foreign allocator (foreign.c) a leaf has a second half laid out
 * like the first: chunk end bits (the last 16-byte unit of each recorded
 * chunk), then big-chunk end marks (the 4 KiB page a big chunk ends in). */
static inline uint64_t *am_leaf_ends(uint64_t *leaf) { return leaf + LEAF_WORDS; }
static inline size_t am_leaf_bytes(void) { return am_heap_mode == AM_HEAP_FOREIGN ? 2 * LEAF_BYTES : LEAF_BYTES; }

/* A foreign chunk's trailer slack field (foreign.c): the slack, under 16,
 * and 12 bits of a hash of the chunk's start and extent, so that a reader
 * can tell a trailer that is not this chunk's (another chunk's, read in a
 * race: a wrong pair passes once in 4096, whatever their distance). */
static inline unsigned am_foreign_field(uintptr_t start, size_t extent, size_t slack)
{
	uint64_t h = ((uint64_t)start / UNIT * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)extent / UNIT * 0xC2B2AE3D27D4EB4Full);
	return (unsigned)slack | (unsigned)(h >> 52) << 4;
}

/* The slack in trailer t if it is the foreign chunk's at start of that
 * extent, else -1. */
static inline long am_foreign_slack(uint64_t t, uintptr_t start, size_t extent)
{
	unsigned f = (unsigned)(t >> 48);
	return (f & ~15u) == am_foreign_field(start, extent, 0) && (f & 15) <= extent - AM_TRAILER ? (long)(f & 15)
												     : -1;
}

/* heapindex.c: the arena bitmap covering a, or NULL. */
const struct am_heapmeta *am_heap_meta_at(uintptr_t a);
/* Whether bitmap m must not answer for a: a lies in the brk lane's cover
 * and m is not the brk heap's (a bitmap made before the lane opened). */
int am_heap_lane_shadows(const struct am_heapmeta *m, uintptr_t a);

/* foreign.c: the arena offset just past the chunk starting at arena
 * offset off, found from its end bit; -1 if none. */
intptr_t am_foreign_end(const struct am_heapmeta *m, uintptr_t off);

#endif
