/* Test fixture shared by unit tests that run the library set up by hand
 * (no constructor, no hooks): the two tiers, the self-mapping window, the
 * mapping index; and a fabricated arena: an anonymous mapping at the
 * program break, reported to the index as brk growth (am_ev_brk), so it
 * joins the brk sequence and its bitmap is reached through the brk lane.
 */
#ifndef AM_TEST_FIXTURE_H
#define AM_TEST_FIXTURE_H

#include <stdint.h>
#include <sys/mman.h>

#include "../../src/hook/hook.h"
#include "../../src/index/internal.h"
#include "../../src/index/selfmap.h"
#include "../../src/palloc/palloc.h"

static inline int am_test_library_init(void)
{
	if (am_nommap_init(&am_tier_nommap, AM_NOMMAP_RESERVE(AM_MAX_SEQUENCES_DEFAULT)) != 0)
		return -1;
	am_mmaptier_init(&am_tier_mmap);
	am_selfmap_init();
	am_selfmap_install();
	return am_index_init() == 0 ? 0 : -1;
}

/* A size-byte arena at the program break, in the brk sequence; 0 if the
 * break cannot be extended by a mapping (something is mapped there, as
 * under valgrind). */
static inline uintptr_t am_test_arena_at_break(size_t size, const void *site)
{
	uintptr_t top = am_ix.brk_top;
	void *p = mmap((void *)top, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);
	if (p == (void *)top) {
		am_ev_brk((void *)top, (void *)(top + size), site);
		return top;
	}
	if (p != MAP_FAILED)
		munmap(p, size);
	return 0;
}

#endif
