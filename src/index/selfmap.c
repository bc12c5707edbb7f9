/* The library's own mappings (self-calls): made with raw system calls,
 * nudged into a window chosen at start-up, and recorded in the index as
 * allocmap's own.
 *
 * The window starts 4 TiB below the library's code, 1 GiB-aligned: far
 * from the kernel's top-down mmap area and from every loaded object, so a
 * self mapping never lands in a hole inside an object. MAP_FIXED_NOREPLACE
 * makes a hint that collides fail instead of clobbering; then the mapping
 * falls back to the kernel's choice. The program's own calls never come
 * here and are left as the kernel placed them.
 */
#include <sys/mman.h>

#include "../palloc/palloc.h"
#include "../sys/syscall.h"
#include "internal.h"
#include "selfmap.h"

#define WINDOW_GAP ((uintptr_t)1 << 42)
#define GIB ((uintptr_t)1 << 30)

static uintptr_t next_hint;
static uint64_t nudged, unnudged;

void am_selfmap_init(void)
{
	uintptr_t code = (uintptr_t)&am_selfmap_init;
	next_hint = code > 2 * WINDOW_GAP ? (code - WINDOW_GAP) & ~(GIB - 1) : 0;
}

static void *map_call(size_t len, enum am_origin origin)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	uintptr_t hint = next_hint ? __atomic_fetch_add(&next_hint, len, __ATOMIC_RELAXED) : 0;
	long r = hint ? am_sys_mmap((void *)hint, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED_NOREPLACE, -1, 0)
		      : -1;
	if (am_sys_failed(r) || (uintptr_t)r != hint) {
		if (!am_sys_failed(r))
			am_sys_munmap((void *)r, len);
		r = am_sys_mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (am_sys_failed(r))
			return NULL;
		__atomic_fetch_add(&unnudged, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&nudged, 1, __ATOMIC_RELAXED);
	}
	am_index_map((uintptr_t)r, (uintptr_t)r + len, PROT_READ | PROT_WRITE, flags, 0, NULL, origin, NULL);
	return (void *)r;
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
	am_sys_munmap(p, len);
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

void am_selfmap_counts(uint64_t *n_nudged, uint64_t *n_unnudged)
{
	*n_nudged = nudged;
	*n_unnudged = unnudged;
}
