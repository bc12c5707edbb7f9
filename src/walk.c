/* allocmap_walk, allocmap_heap_stats and allocmap_heap_malloc: visiting
 * every allocation (sequences, their maps, chunks), and what it says
 * about the heap.
 *
 * The walk copies one map at a time out of the index under its lock,
 * then calls back with no lock held; chunks are read from the arena
 * bitmaps lock-free. So the callback may do anything, including
 * allocating and querying.
 */
#include <string.h>

#include "../include/allocmap.h"
#include "heap/heap.h"
#include "index/mapindex.h"

static void fill_sequence(const struct am_map_view *v, struct allocmap_info *out)
{
	memset(out, 0, sizeof *out);
	out->base = out->map_base = (const void *)v->seq_lo;
	out->size = out->requested = out->map_size = v->seq_hi - v->seq_lo;
	out->site = v->caller;
	out->kind = am_origin_kind(v->origin, v->path != NULL);
	out->allocator = am_origin_name(v->origin);
	out->prot = v->prot;
	out->path = v->path;
	out->vma_base = (const void *)v->vma_lo;
	out->vma_size = v->vma_hi - v->vma_lo;
}

/* One map of the sequence in info (filled by fill_sequence). */
static int visit_map(const struct am_map_view *v, struct allocmap_info *info, allocmap_walk_fn fn, void *arg)
{
	info->base = (const void *)v->lo;
	info->size = info->requested = v->hi - v->lo;
	return fn(info, arg);
}

struct chunk_visit {
	allocmap_walk_fn fn;
	void *arg;
};

/* A recorded chunk start: query it afresh (safe against frees and unmaps
 * since the map was copied) and visit it if it is still a live chunk. */
static int visit_start(uintptr_t q, void *arg)
{
	struct chunk_visit *cv = arg;
	struct allocmap_info info;
	if (allocmap_query((const void *)q, &info) != 0 || info.kind != ALLOCMAP_HEAP_CHUNK || info.base != (void *)q)
		return 0;
	return cv->fn(&info, cv->arg);
}

/* The walk goes on from `from`, the end of the map visited last: a map
 * that grew during the callbacks (the brk heap, an arena's heap made
 * accessible) comes back as the next one, and only its part from
 * `from` on is new. */
int allocmap_walk(unsigned flags, allocmap_walk_fn fn, void *arg)
{
	struct chunk_visit cv = {fn, arg};
	struct am_map_view v;
	struct allocmap_info info;
	uintptr_t from = 0;
	int rc = 0;
	if (!fn || am_index_next(0, &v) != 0)
		return -1;
	do {
		fill_sequence(&v, &info);
		if ((flags & ALLOCMAP_WALK_SEQUENCES) && v.lo == v.seq_lo && v.lo >= from)
			rc = fn(&info, arg);
		if (!rc && (flags & ALLOCMAP_WALK_MAPS) && v.lo >= from)
			rc = visit_map(&v, &info, fn, arg);
		if (!rc && (flags & ALLOCMAP_WALK_CHUNKS) && v.heap)
			rc = am_heap_each_start(v.heap, v.lo > from ? v.lo : from, v.hi, v.seq_lo, visit_start, &cv);
		from = v.hi;
	} while (!rc && am_index_next(from, &v) == 0);
	return rc;
}

static int count_chunk(const struct allocmap_info *info, void *arg)
{
	struct allocmap_heap_stats *st = arg;
	if (info->kind == ALLOCMAP_HEAP_CHUNK)
		st->live_chunks++, st->live_bytes += info->size;
	return 0;
}

int allocmap_heap_stats(struct allocmap_heap_stats *out)
{
	if (!out)
		return -1;
	memset(out, 0, sizeof *out);
	out->indexed = am_heap_indexed(am_heap_mode);
	out->arenas = am_heap_arenas();
	out->unindexed = am_heap_unindexed();
	out->slow_path = am_heap_slow_path();
	return allocmap_walk(ALLOCMAP_WALK_CHUNKS, count_chunk, out) < 0 ? -1 : 0;
}

const char *allocmap_heap_malloc(void)
{
	switch (am_heap_mode) {
	case AM_HEAP_GLIBC: return "glibc";
	case AM_HEAP_FOREIGN: return "other";
	default: return NULL;
	}
}
