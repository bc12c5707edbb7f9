/* The heap index's bitmaps walked in address order, and the judgements
 * on their marks and end bits that both the check (heapcheck.c) and a
 * forked child's repair (heaprepair.c) make (private to src/heap).
 */
#ifndef AM_HEAP_HEAPWALK_H
#define AM_HEAP_HEAPWALK_H

#include <stdint.h>

#include "../index/mapindex.h"
#include "heapmeta.h"

/* A walk of the arena bitmaps in address order (am_index_each), for the
 * check and the fork repair: part(v), map v's part of the bitmap v->heap;
 * past(v, lo, hi), that bitmap's bits over [lo, hi) past v's sequence,
 * where no chunk of its arena can be. Past the brk heap, its lane is
 * walked with the maps that follow: the unmapped space before each map
 * inside it as past the brk heap, then the map as one of its parts. */
struct pass {
	void (*part)(struct pass *p, const struct am_map_view *v);
	void (*past)(struct pass *p, const struct am_map_view *v, uintptr_t lo, uintptr_t hi);
	struct am_map_view brk; /* the brk heap's last map, while its lane is walked */
	uintptr_t from;         /* how far that walk is (0: none) */
};

/* am_index_each's callback for a pass (arg): the brk heap's lane up to v if
 * it is being walked, v's part of its own bitmap, and that bitmap's reach
 * past v if v ends its sequence (a brk heap's lane: with the maps to come). */
int am_heap_pass_map(const struct am_map_view *v, void *arg);

/* Calls fn for each set bit of arena bitmap m over [lo, hi): its marks
 * (shift MARK_SHIFT, one a page) or, with a foreign allocator, its end
 * bits (shift 0, one a unit); fn gets the bit's leaf and the address it
 * stands for, and stops the walk by returning non-zero. */
void am_heap_each_bit(const struct am_heapmeta *m, uintptr_t lo, uintptr_t hi, unsigned shift,
		      int (*fn)(void *, uint64_t *, uintptr_t), void *arg);

/* Whether the marked page pg (of leaf) of map v's bitmap lacks its big
 * chunk: no chunk starts in it, or its last chunk start is not a big
 * chunk's. */
int am_heap_mark_stray(const struct am_map_view *v, const uint64_t *leaf, uintptr_t pg);

/* Whether m's end bit for the unit at arena offset off is set but ends no
 * chunk (foreign.c). */
int am_heap_end_orphan(const struct am_heapmeta *m, uintptr_t off);

#endif
