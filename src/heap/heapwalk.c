/* The walk of the arena bitmaps in address order and the judgements on
 * marks and end bits: see heapwalk.h. Reads only bitmaps, and chunk size
 * words inside readable maps under the caller's unmap handshake.
 */
#include <sys/mman.h>

#include "../sys/bitmap.h"
#include "heapwalk.h"

void am_heap_each_bit(const struct am_heapmeta *m, uintptr_t lo, uintptr_t hi, unsigned shift,
		      int (*fn)(void *, uint64_t *, uintptr_t), void *arg)
{
	lo = lo > m->base ? lo : m->base, hi = hi < m->end ? hi : m->end;
	if (lo >= hi)
		return;
	for (lo -= m->base, hi -= m->base; lo < hi; lo = (lo | (LEAF_COVER - 1)) + 1) {
		uintptr_t leaf_lo = lo & ~(LEAF_COVER - 1), stop = hi - leaf_lo < LEAF_COVER ? hi : leaf_lo + LEAF_COVER;
		uint64_t *leaf = am_heapmeta_leaf(m, lo);
		uint64_t *b = !leaf ? NULL : shift ? am_leaf_marks(leaf) : am_leaf_ends(leaf);
		size_t n = ((stop - leaf_lo - 1) / UNIT >> shift) + 1;
		long j = b ? am_bit_find_next_from(b, (lo - leaf_lo) / UNIT >> shift, n) : -1;
		for (; j >= 0; j = am_bit_find_next_from(b, (size_t)j + 1, n))
			if (fn(arg, leaf, m->base + leaf_lo + ((uintptr_t)j << shift) * UNIT))
				return;
	}
}

/* The last chunk start of m at or below arena offset off and at or above
 * floor: its offset, or -1. Crosses leaves backwards. */
static intptr_t start_below(const struct am_heapmeta *m, uintptr_t off, uintptr_t floor)
{
	for (;;) {
		uint64_t *leaf = am_heapmeta_leaf(m, off);
		uintptr_t leaf_lo = off & ~(LEAF_COVER - 1);
		size_t lo = floor > leaf_lo ? (floor - leaf_lo) / UNIT : 0;
		long j = leaf ? am_bit_find_prev_from(leaf, (off - leaf_lo) / UNIT, lo) : -1;
		if (j >= 0)
			return (intptr_t)(leaf_lo + (uintptr_t)j * UNIT);
		if (leaf_lo <= floor)
			return -1;
		off = leaf_lo - UNIT;
	}
}

/* Whether m's end bit for the unit at arena offset off is set but ends no
 * chunk: the last chunk start at or before it, within MARK_LIMIT (a longer
 * chunk is not indexed), does not end just past it (its end is the first
 * end bit after it, foreign.c). The start is looked for bit by bit, not
 * through the marks, which are checked on their own; as live chunks do
 * not overlap, that reads the bitmap about once more in all. */
int am_heap_end_orphan(const struct am_heapmeta *m, uintptr_t off)
{
	uint64_t *leaf = am_heapmeta_leaf(m, off);
	size_t i = (off & (LEAF_COVER - 1)) / UNIT;
	if (!leaf || !(__atomic_load_n(&am_leaf_ends(leaf)[i / 64], __ATOMIC_ACQUIRE) >> (i % 64) & 1))
		return 0;
	intptr_t s = start_below(m, off, off > MARK_LIMIT ? off - MARK_LIMIT : 0);
	return s < 0 || am_foreign_end(m, (uintptr_t)s) != (intptr_t)(off + UNIT);
}

/* Whether the chunk recorded at a, whose start's page is marked, is big.
 * A size word in the map before is taken on trust. */
static int big_at(const struct am_map_view *v, uintptr_t a)
{
	const struct am_heapmeta *m = v->heap;
	if (am_heap_mode == AM_HEAP_FOREIGN) {
		intptr_t end = am_foreign_end(m, a - m->base);
		return end >= 0 && m->base + (uintptr_t)end - a >= AM_BIG_CHUNK;
	}
	return a - 8 < v->lo || am_chunk_word((const void *)a) >= AM_BIG_CHUNK;
}

int am_heap_mark_stray(const struct am_map_view *v, const uint64_t *leaf, uintptr_t pg)
{
	const struct am_heapmeta *m = v->heap;
	size_t first = ((pg - m->base) & (LEAF_COVER - 1)) / UNIT;
	long j = am_bit_find_prev_from(leaf, first + (1u << MARK_SHIFT) - 1, first);
	return j < 0 || !big_at(v, pg + (uintptr_t)(j - (long)first) * UNIT);
}

/* The brk heap's lane up to map v, the next in address order: the
 * unmapped space before v, then v if it lies inside the lane. */
static void lane_upto(struct pass *p, const struct am_map_view *v)
{
	const struct am_heapmeta *m = p->brk.heap;
	uintptr_t gap_hi = v->lo < m->end ? v->lo : m->end;
	if (p->from < gap_hi)
		p->past(p, &p->brk, p->from, gap_hi);
	p->from = v->lo < m->end && v->hi < m->end ? v->hi : 0;
	if (v->lo < m->end) {
		struct am_map_view in = *v;
		in.heap = p->brk.heap;
		p->part(p, &in);
	}
}

int am_heap_pass_map(const struct am_map_view *v, void *arg)
{
	struct pass *p = arg;
	if (p->from)
		lane_upto(p, v);
	const struct am_heapmeta *m = v->heap;
	if (!m)
		return 0;
	p->part(p, v);
	if (AM_HEAP_IS_SINGLE(m) || v->hi != v->seq_hi || m->end <= v->hi)
		return 0;
	if (v->origin == AM_ORIGIN_BRK)
		p->brk = *v, p->from = v->hi;
	else
		p->past(p, v, v->hi, m->end);
	return 0;
}
