/* Test fixture shared by unit tests that run the library set up by hand
 * (no constructor, no hooks): the two tiers, the self-mapping window, the
 * mapping index; and a fabricated arena: an anonymous mapping at the
 * program break, reported to the index as brk growth (am_ev_brk), so it
 * joins the brk sequence and its bitmap is reached through the brk lane;
 * other mappings reported as the program's; and the query expectations
 * the heap-index tests share.
 */
#ifndef AM_TEST_FIXTURE_H
#define AM_TEST_FIXTURE_H

#include <stdint.h>
#include <sys/mman.h>

#include "../../include/allocmap.h"

#include "../../src/heap/heap.h"
#include "../../src/hook/hook.h"
#include "../../src/index/internal.h"
#include "../../src/index/selfmap.h"
#include "../../src/palloc/palloc.h"

static inline int am_test_library_init(void)
{
	if (am_nommap_init(&am_tier_nommap, AM_NOMMAP_RESERVE(AM_MAX_SEQUENCES_DEFAULT)) != 0)
		return -1;
	am_mmaptier_init(&am_tier_mmap);
	am_selfmap_install();
	am_heap_start();
	return am_index_init() == 0 ? 0 : -1;
}

/* A size-byte arena at the program break, in the brk sequence, grown from
 * site as malloc's (am_heap_brk_site); 0 if the break cannot be extended
 * by a mapping (something is mapped there, as under valgrind). */
static inline uintptr_t am_test_arena_at_break(size_t size, const void *site)
{
	uintptr_t top = am_ix.brk_top;
	void *p = mmap((void *)top, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);
	if (p == (void *)top) {
		am_heap_brk_site = site;
		am_ev_brk((void *)top, (void *)(top + size), site);
		return top;
	}
	if (p != MAP_FAILED)
		munmap(p, size);
	return 0;
}

/* An anonymous read-write mapping of len bytes, at `at` as flags say,
 * reported to the index as the program's mmap; NULL if it failed. */
static inline void *am_test_map_reported(void *at, size_t len, int flags)
{
	void *p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	if (p != MAP_FAILED)
		am_ev_mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0,
			   (const void *)am_test_map_reported);
	return p == MAP_FAILED ? NULL : p;
}

/* Needs cmocka.h included before. allocmap_query at each of at[0..n)
 * answers the chunk at base with these sizes and site. */
static inline void am_test_expect_chunk(const uintptr_t *at, size_t n, uintptr_t base, size_t usable, size_t req,
					const void *site)
{
	struct allocmap_info i;
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(allocmap_query((const void *)at[k], &i), 0);
		assert_int_equal(i.kind, ALLOCMAP_HEAP_CHUNK);
		assert_ptr_equal(i.base, (const void *)base);
		assert_int_equal(i.size, usable);
		assert_int_equal(i.requested, req);
		assert_ptr_equal(i.site, site);
	}
}

/* allocmap_query(a) answers at the mapping level, not with a chunk. */
static inline void am_test_expect_mapping_level(uintptr_t a)
{
	struct allocmap_info i;
	assert_int_equal(allocmap_query((const void *)a, &i), 0);
	assert_int_not_equal(i.kind, ALLOCMAP_HEAP_CHUNK);
}

/* allocmap_query(a) answers arena space in no live chunk, with no site. */
static inline void am_test_expect_free(uintptr_t a)
{
	struct allocmap_info i;
	assert_int_equal(allocmap_query((const void *)a, &i), 0);
	assert_int_equal(i.kind, ALLOCMAP_HEAP_FREE);
	assert_null(i.site);
}

#endif
