/* A forked child's repair of the heap index (am_heap_repair_marks, heap.h):
 * a thread of the parent cut off by fork() between a chunk's two updates
 * leaves a page mark without its big chunk or, with a foreign allocator,
 * an end bit without its chunk. The child has one thread and an exact
 * index; both are cleared, wherever the check (heapcheck.c) looks.
 */
#include <sys/mman.h>

#include "fastpath.h"
#include "heapwalk.h"

/* A mark left without its chunk: cleared. */
static int repair_mark(void *arg, uint64_t *leaf, uintptr_t pg)
{
	const struct am_map_view *v = arg;
	const struct am_heapmeta *m = v->heap;
	if (am_heap_mark_stray(v, leaf, pg))
		am_bit_update(am_leaf_marks(leaf), ((pg - m->base) & (LEAF_COVER - 1)) / UNIT >> MARK_SHIFT, 0);
	return 0;
}

/* An end bit left without its chunk: cleared. */
static int repair_end(void *arg, uint64_t *leaf, uintptr_t u)
{
	const struct am_heapmeta *m = arg;
	if (am_heap_end_orphan(m, u - m->base))
		am_bit_update(am_leaf_ends(leaf), ((u - m->base) & (LEAF_COVER - 1)) / UNIT, 0);
	return 0;
}

static void repair_ends(struct pass *p, const struct am_map_view *v, uintptr_t lo, uintptr_t hi)
{
	(void)p;
	if (am_heap_mode == AM_HEAP_FOREIGN)
		am_heap_each_bit(v->heap, lo, hi, 0, repair_end, v->heap);
}

static void repair_part(struct pass *p, const struct am_map_view *v)
{
	if (AM_HEAP_IS_SINGLE(v->heap))
		return;
	if (v->prot & PROT_READ)
		am_heap_each_bit(v->heap, v->lo, v->hi, MARK_SHIFT, repair_mark, (void *)v);
	repair_ends(p, v, v->lo, v->hi);
}

/* The fork child's repair (heap.h): stray marks and, with a foreign
 * allocator, end bits without their chunk (a thread cut off between a
 * chunk's end bit and its start bit), wherever the check looks. */
void am_heap_repair_marks(void)
{
	struct pass p = {.part = repair_part, .past = repair_ends};
	if (am_heap_indexed(am_heap_mode))
		am_index_each(am_heap_pass_map, &p);
}
