/* The heap index's per-call fast path, inlined into the malloc family
 * (interpose.c); everything else is out of line in heapindex.c.
 *
 * Only for AM_HEAP_GLIBC mode: chunks are glibc's, so the size word sits
 * just below the user pointer (bit 1: mmapped chunk). A chunk's bit lives
 * in a bitmap leaf. The brk heap's leaves are found through am_brk_lane,
 * one subtraction and one compare (its cover is zero while the brk heap
 * has no bitmap); other arenas' through a per-thread cache of the leaves
 * used last (am_leaf_cache, by address), valid while am_heap_epoch is
 * unchanged. A miss, an mmapped chunk or a leaf not made yet goes to the
 * slow path, which looks at the slot's previous entry before the index.
 */
#ifndef AM_HEAP_FASTPATH_H
#define AM_HEAP_FASTPATH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/single_threaded.h>

#include "chunk.h"
#include "heap.h"

#define AM_LEAF_SHIFT 24 /* a bitmap leaf covers 16 MiB of arena */
#define AM_LEAF_SLOTS 16
#define AM_BIG_CHUNK ((size_t)16 << 10) /* chunks this big also mark their page (heapmeta.h) */
#define AM_MARK_LIMIT ((size_t)1 << 32) /* a big chunk's start is looked for this far back */
#define AM_SLACK_BIG 0xFFFEu /* a trailer's slack field: the request is in the word below */

struct am_leaf_cache {
	uintptr_t lo, hi;       /* the cached leaf's cover, clipped to its arena */
	unsigned epoch;         /* am_heap_epoch when cached */
	uint64_t *leaf;
};

/* The brk heap's bitmap: [base, base + cover) has leaves leaf[off >> 24]
 * (NULL until made). cover is stored last when published and first when
 * retired; base and leaf do not change while cover is non-zero. */
struct am_brk_lane {
	uintptr_t base, cover;
	uint64_t *const *leaf;
};

extern struct am_brk_lane am_brk_lane;
extern __thread struct am_leaf_cache am_leaf_cache[AM_LEAF_SLOTS];

/* The cache slot of chunk address a. glibc's arena heaps are 64 MiB
 * aligned and their chunks mostly in the first 16 MiB, so the leaf number
 * alone would put every arena in 4 of the 16 slots: the bits above are
 * folded in. */
static inline struct am_leaf_cache *am_leaf_slot(uintptr_t a)
{
	uintptr_t k = a >> AM_LEAF_SHIFT;
	return &am_leaf_cache[(k ^ k >> 2 ^ k >> 6) % AM_LEAF_SLOTS];
}

/* Whether cache entry c covers chunk address a (its epoch aside). */
static inline int am_leaf_covers(const struct am_leaf_cache *c, uintptr_t a) { return a - c->lo < c->hi - c->lo; }
/* Bumped whenever an arena's bitmap retires: every cached leaf is stale. */
extern unsigned am_heap_epoch;

/* heapindex.c: the slow paths. record_mmapped also writes the trailer. */
void am_heap_record_slow(void *p);
void am_heap_record_mmapped(void *p, size_t n, const void *site);
/* An mmapped chunk's sequence is tagged as that one chunk (heap.h):
 * untagged while glibc resizes it in place, tagged again after. */
void am_heap_tag_mmapped(void *p);
/* 1 if p was tagged (it is not now). */
int am_heap_untag_mmapped(void *p);
void am_heap_forget_slow(void *p);
void am_heap_mark_big(uint64_t *leaf, size_t bit, int set);
/* The leaf and bit of chunk address a (made if `make`), or NULL; caches it. */
uint64_t *am_heap_leaf_slow(uintptr_t a, int make, size_t *bit);
void am_heap_note_unindexed(void);


/* Whether a lies in the brk heap's cover; then its leaf (NULL if not made
 * yet) and bit. */
static inline int am_lane_find(uintptr_t a, uint64_t **leaf, size_t *bit)
{
	uintptr_t cover = __atomic_load_n(&am_brk_lane.cover, __ATOMIC_ACQUIRE);
	uintptr_t off = a - __atomic_load_n(&am_brk_lane.base, __ATOMIC_RELAXED);
	if (off >= cover)
		return 0;
	*bit = (off & (((uintptr_t)1 << AM_LEAF_SHIFT) - 1)) / 16;
	uint64_t *const *leaves = __atomic_load_n(&am_brk_lane.leaf, __ATOMIC_RELAXED);
	*leaf = __atomic_load_n(&leaves[off >> AM_LEAF_SHIFT], __ATOMIC_ACQUIRE);
	return 1;
}

static inline uint64_t *am_leaf_lookup(uintptr_t a, size_t *bit)
{
	uint64_t *leaf;
	if (__builtin_expect(am_lane_find(a, &leaf, bit), 1))
		return leaf;
	const struct am_leaf_cache *c = am_leaf_slot(a);
	if (__builtin_expect(am_leaf_covers(c, a), 1) &&
	    __atomic_load_n(&am_heap_epoch, __ATOMIC_ACQUIRE) == c->epoch) {
		*bit = (a - c->lo) / 16;
		return c->leaf;
	}
	return NULL;
}

/* While the process has one thread, plain read-modify-writes suffice (as
 * in glibc's own single-thread fast paths). */
static inline void am_bit_update(uint64_t *leaf, size_t i, int set)
{
	uint64_t mask = (uint64_t)1 << (i % 64), *w = &leaf[i / 64];
	if (__libc_single_threaded)
		*w = set ? *w | mask : *w & ~mask;
	else if (set)
		__atomic_fetch_or(w, mask, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(w, ~mask, __ATOMIC_RELEASE);
}

/* A trailer word (heap.h): the site's 48 bits, the 16-bit field above. */
static inline uint64_t am_trailer_word(const void *site, uint64_t field)
{
	return ((uint64_t)(uintptr_t)site & 0xFFFFFFFFFFFFull) | field << 48;
}

static inline const void *am_trailer_site(uint64_t t) { return (const void *)(uintptr_t)(t & 0xFFFFFFFFFFFFull); }

/* Writes the trailer (heap.h) of chunk p, whose underlying usable area is
 * `usable` bytes, for a request of n bytes at site. A slack of
 * AM_SLACK_BIG or more is written as AM_SLACK_BIG, with n itself in the 8
 * bytes below the trailer, which the program then does not see
 * (am_visible_size). */
static inline void am_put_trailer(void *p, size_t usable, size_t n, const void *site)
{
	uint64_t *t = (uint64_t *)((char *)p + usable - AM_TRAILER);
	uint64_t slack = usable - AM_TRAILER - n;
	if (__builtin_expect(slack >= AM_SLACK_BIG, 0)) {
		t[-1] = n;
		slack = AM_SLACK_BIG;
	}
	*t = am_trailer_word(site, slack);
}

/* The program-visible usable size of a chunk whose trailer t lies tpos
 * bytes in: tpos, less the request word of a big slack. */
static inline size_t am_visible_size(size_t tpos, uint64_t t)
{
	return (t >> 48) == AM_SLACK_BIG ? tpos - 8 : tpos;
}

/* Sets or clears the start bit i of a chunk whose size word is w, and its
 * page mark if it is big (heapmeta.h): the mark is set first and cleared
 * last, so a start bit is never without its mark (a fork can cut a thread
 * off between the two; a stray mark is harmless and repaired, heapcheck.c).
 * A chunk too big for its start to be found from its end (over
 * MARK_LIMIT) gets neither: it is not indexed (counted). */
static inline void am_chunk_bits(uint64_t *leaf, size_t i, size_t w, int set)
{
	int big = __builtin_expect(w >= AM_BIG_CHUNK, 0);
	if (big && am_chunk_size(w) > AM_MARK_LIMIT) {
		if (set)
			am_heap_note_unindexed();
		return;
	}
	if (big && set)
		am_heap_mark_big(leaf, i, 1);
	am_bit_update(leaf, i, set);
	if (big && !set)
		am_heap_mark_big(leaf, i, 0);
}

/* Sets the start bit (and mark) of arena chunk p, size word w. */
static inline __attribute__((always_inline)) void am_heap_set_bits(void *p, size_t w)
{
	size_t i;
	uint64_t *leaf = am_leaf_lookup((uintptr_t)p, &i);
	if (!leaf) {
		am_heap_record_slow(p);
		return;
	}
	am_chunk_bits(leaf, i, w, 1);
}

/* p came from glibc for n bytes (plus the trailer) at site. */
static inline __attribute__((always_inline)) void am_heap_record_fast(void *p, size_t n, const void *site)
{
	size_t w = am_chunk_word(p);
	if (am_chunk_mmapped(w)) {
		am_heap_record_mmapped(p, n, site);
		return;
	}
	am_put_trailer(p, am_chunk_size(w) - 8, n, site); /* an arena chunk's usable size */
	am_heap_set_bits(p, w);
}

/* p, forgotten, is the program's again (a realloc failed): its trailer
 * was left alone; an mmapped chunk is tagged again if it was untagged. */
static inline __attribute__((always_inline)) void am_heap_relive(void *p, int untagged)
{
	size_t w = am_chunk_word(p);
	if (am_chunk_mmapped(w)) {
		if (untagged)
			am_heap_tag_mmapped(p);
	} else if (am_chunk_size(w) <= AM_MARK_LIMIT) /* one too big was counted once */
		am_heap_set_bits(p, w);
}

/* p goes back to glibc. */
static inline __attribute__((always_inline)) void am_heap_forget_fast(void *p)
{
	size_t w = am_chunk_word(p), i;
	if (am_chunk_mmapped(w))
		return; /* its munmap removes the whole sequence */
	uint64_t *leaf = am_leaf_lookup((uintptr_t)p, &i);
	if (!leaf) {
		am_heap_forget_slow(p);
		return;
	}
	am_chunk_bits(leaf, i, w, 0);
}

/* realloc(p, n) where glibc would keep arena chunk p as it is: its chunk
 * for n plus the trailer (malloc.c's request2size) fits, with less than a
 * smallest chunk left over, so _int_realloc neither moves nor splits it
 * and writes back the same size words. Then only the trailer changes, in
 * one store that a query sees whole, before or after: 1 if so done (the
 * caller does not call glibc), else 0. A chunk that does not look in use
 * (misaligned, or the next chunk's size word without PREV_INUSE or too
 * small) is left to glibc, which reports it. n is at most SIZE_MAX - 32. */
static inline __attribute__((always_inline)) int am_heap_resize_in_place(void *p, size_t n, const void *site)
{
	size_t w = am_chunk_word(p), have = am_chunk_size(w);
	size_t need = (n + AM_TRAILER + 8 + 15) & ~(size_t)15;
	if (need < AM_CHUNK_MIN)
		need = AM_CHUNK_MIN;
	if (((uintptr_t)p & 15) || am_chunk_mmapped(w) || have < need || have - need >= AM_CHUNK_MIN)
		return 0;
	size_t next = *(const size_t *)((const char *)p + have - 8);
	if (!am_chunk_prev_inuse(next) || am_chunk_size(next) < AM_CHUNK_MIN)
		return 0;
	am_put_trailer(p, have - 8, n, site);
	return 1;
}

#endif
