/* mremap and brk in the mapping index.
 *
 * A moved mapping keeps its records' attributes (protection, file, caller)
 * in a new sequence at the new address; MREMAP_DONTUNMAP leaves the old
 * records in place. A move may span holes (kernels 6.17+): each piece
 * moves, keeping its offset, and what lies under a hole's image stays. The brk heap is one sequence from the first break
 * seen; growing extends its last map, shrinking unmaps the top.
 */
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "pageindex.h"
#include "records.h"
#include "../sys/page.h"

#define MAX_MOVED 64 /* maps moved by one mremap; more are resynchronised */


/* Extends the map ending exactly at `top` up to `end` if it is of origin
 * `want` (or any, if want < 0); 0 on success. */
static int extend_map(uintptr_t top, uintptr_t end, int want)
{
	size_t i = am_ix_first_above(top - 1);
	if (i == am_ix.n || am_ix.arr[i]->hi != top || am_ix.arr[i]->lo >= top)
		return -1;
	struct am_map *m = am_ix.arr[i];
	if (want >= 0 && m->seq->origin != want)
		return -1;
	am_ix_unmap(top, end);
	am_ix_touch(m->lo, end);
	m->hi = end;
	if (end > m->seq->hi)
		m->seq->hi = end;
	if (am_pageindex_set(top, end, am_ref_of(m)) != 0)
		am_ix_missed(top, end);
	return 0;
}

/* Copies the maps of [old, old+keep) to new_addr in one new sequence. */
static int move_maps(uintptr_t old, uintptr_t keep, uintptr_t new_addr, struct am_map **out)
{
	size_t i = am_ix_first_above(old);
	int k = 0;
	struct am_seq *s = NULL;
	for (; i < am_ix.n && am_ix.arr[i]->lo < old + keep; i++) {
		struct am_map *m = am_ix.arr[i];
		uintptr_t lo = m->lo > old ? m->lo : old, hi = m->hi < old + keep ? m->hi : old + keep;
		if (k == MAX_MOVED)
			break;
		if (!s)
			s = am_seq_new(new_addr, new_addr + keep, (enum am_origin)m->seq->origin,
				       m->seq->caller, m->seq->path);
		struct am_map *c = s ? am_map_new(lo - old + new_addr, hi - old + new_addr, m->prot, m->flags,
						  m->offset + (lo - m->lo), s, m->path, m->caller)
				     : NULL;
		if (!c) {
			am_seq_drop_if_empty(s);
			break;
		}
		out[k++] = c;
	}
	if (i < am_ix.n && am_ix.arr[i]->lo < old + keep) { /* stopped early */
		while (k > 0)
			am_map_free(out[--k]);
		return -1;
	}
	return k;
}

/* Each moved piece replaces only what lay under it: a move of several
 * mappings (MREMAP_FIXED with equal lengths, kernels 6.17+) moves each
 * and leaves the destination under the source's holes as it was. The
 * new sequence spans its pieces. */
static void place_moved(struct am_map **moved, int k)
{
	for (int j = 0; j < k; j++)
		am_ix_unmap(moved[j]->lo, moved[j]->hi);
	moved[0]->seq->lo = moved[0]->lo;
	moved[0]->seq->hi = moved[k - 1]->hi;
}

static void remap_moved(uintptr_t old, size_t old_len, uintptr_t new_addr, size_t new_len, int dontunmap)
{
	struct am_map *moved[MAX_MOVED];
	uintptr_t keep = old_len < new_len ? old_len : new_len;
	int k = move_maps(old, keep, new_addr, moved);
	if (k > 0)
		place_moved(moved, k);
	else /* too many pieces, no records, or none known there: ask the kernel */
		am_ix_unmap(new_addr, new_addr + new_len), am_ix.resync_pending = 1;
	if (!dontunmap)
		am_ix_unmap(old, old + old_len);
	for (int j = 0; j < k; j++)
		am_ix_insert(moved[j]);
	if (k > 0 && new_len > old_len)
		extend_map(new_addr + keep, new_addr + new_len, -1);
}

int am_index_remap(uintptr_t old, size_t old_len, uintptr_t new_addr, size_t new_len, int dontunmap)
{
	uintptr_t lo = old < new_addr ? old : new_addr;
	uintptr_t hi = old + old_len > new_addr + new_len ? old + old_len : new_addr + new_len;
	if (!am_ix.ready || am_ix_begin_event(lo, hi) != 0)
		return am_ix_dropped();
	old_len = am_page_up(old_len), new_len = am_page_up(new_len);
	if (new_addr != old)
		remap_moved(old, old_len, new_addr, new_len, dontunmap);
	else if (new_len < old_len)
		am_ix_unmap(old + new_len, old + old_len);
	else if (new_len > old_len && extend_map(old + old_len, old + new_len, -1) != 0)
		am_ix.resync_pending = 1;
	am_ix.events[AM_EV_MREMAP]++;
	am_ix_end();
	return 0;
}

/* Is [lo, hi) one map of the index? */
static int one_map(uintptr_t lo, uintptr_t hi)
{
	size_t i = am_ix_first_above(lo);
	return i < am_ix.n && am_ix.arr[i]->lo <= lo && am_ix.arr[i]->hi >= hi;
}

int am_index_remap_failed(uintptr_t old, size_t len, uintptr_t new_addr)
{
	uintptr_t lo = old < new_addr ? old : new_addr, hi = (old > new_addr ? old : new_addr) + len;
	if (!am_ix.ready || am_ix_begin_event(lo, hi) != 0)
		return am_ix_dropped();
	if (!one_map(am_page_down(old), am_page_up(old + len)))
		am_ix.resync_pending = 1; /* the kernel knows what it moved */
	am_ix_end();
	return 0;
}

/* The brk heap's map ending at top, or NULL. */
static struct am_map *brk_map_below(uintptr_t top)
{
	size_t i = am_ix_first_above(top - 1);
	struct am_map *m = i < am_ix.n ? am_ix.arr[i] : NULL;
	return m && m->hi == top && m->lo < top && m->seq->origin == AM_ORIGIN_BRK ? m : NULL;
}

/* A growth extends the heap's last map when the same call site made it,
 * else adds a map of its own to the heap's sequence: a map's caller says
 * who took its pages (malloc's morecore or the program's own sbrk). */
static void brk_grow(uintptr_t top, uintptr_t end, const void *caller)
{
	struct am_map *last = top > am_ix.brk_start ? brk_map_below(top) : NULL;
	if (last && last->caller == caller && extend_map(top, end, AM_ORIGIN_BRK) == 0)
		return;
	am_ix_unmap(top, end);
	am_ix_map_new(top, end, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, NULL, AM_ORIGIN_BRK,
		      caller, last ? last->seq : NULL);
}

int am_index_brk(uintptr_t start, uintptr_t end, const void *caller)
{
	if (!am_ix.ready || am_ix_begin_event(start < end ? start : end, start < end ? end : start) != 0)
		return am_ix_dropped();
	if (!am_ix.brk_start)
		am_ix.brk_start = am_ix.brk_top = am_page_up(start);
	end = am_page_up(end);
	if (end > am_ix.brk_top)
		brk_grow(am_ix.brk_top, end, caller);
	else if (end < am_ix.brk_top)
		am_ix_unmap(end > am_ix.brk_start ? end : am_ix.brk_start, am_ix.brk_top);
	am_ix.brk_top = end > am_ix.brk_start ? end : am_ix.brk_start;
	am_ix.events[AM_EV_BRK]++;
	am_ix_end();
	return 0;
}
