/* The library's own mappings made after start-up (the mmap tier's
 * chunks): mapped through the one door (sys/pages.c, which places them in
 * its window), recorded in the index as allocmap's own, and bracketed as
 * mapping calls so that a signal handler's call inside one is ordered
 * after it. The mmap tier reaches here through its map hook, one level of
 * recursion into the index (strat.c).
 */
#include <sys/mman.h>

#include "../palloc/palloc.h"
#include "../sys/pages.h"
#include "internal.h"
#include "selfmap.h"

static void *map_call(size_t len, enum am_origin origin)
{
	void *p = am_pages_map(len, PROT_READ | PROT_WRITE, 0);
	if (p)
		am_index_map((uintptr_t)p, (uintptr_t)p + len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0,
			     NULL, origin, NULL);
	return p;
}

/* Bracketed as mapping calls (mapindex.h): one a signal handler makes
 * inside another call is made good after it. */
void *am_selfmap_map(size_t len, enum am_origin origin)
{
	am_index_call_begin(0, 0); /* a new mapping: nothing to order against */
	void *p = map_call(len, origin);
	am_index_call_end();
	return p;
}

void am_selfmap_unmap(void *p, size_t len)
{
	am_index_call_begin((uintptr_t)p, (uintptr_t)p + len);
	am_pages_unmap(p, len);
	am_index_unmap((uintptr_t)p, (uintptr_t)p + len);
	am_index_call_end();
}

/* The mmap tier's chunks: one level of recursion into the index (strat.c). */
static void *tier_map(size_t len)
{
	am_strat_tier_begin();
	void *p = am_selfmap_map(len, AM_ORIGIN_MMAPTIER);
	am_strat_tier_end();
	return p;
}

static void tier_unmap(void *p, size_t len)
{
	am_strat_tier_begin();
	am_selfmap_unmap(p, len);
	am_strat_tier_end();
}

void am_selfmap_install(void)
{
	am_palloc_map_hook = tier_map;
	am_palloc_unmap_hook = tier_unmap;
}
