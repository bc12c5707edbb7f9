/* The main thread's stack: the kernel grows it down on page faults, which
 * no call shows, so the index catches up when asked — by a query that
 * finds nothing at an address the stack may have grown over, and by
 * allocmap_check.
 *
 * Invariant: the kernel's stack is one mapping from its start up to
 * stack_top, and nothing the index has lies between the stack's lowest
 * map and the map below it; so a page there is the stack's exactly when
 * the kernel has it, and the pages the kernel has there are the highest.
 */
#include <sys/resource.h>

#include "../sys/syscall.h"
#include "internal.h"
#include "pageindex.h"

#define PAGE ((uintptr_t)4096)

/* Whether the kernel has page a (mincore fails on an unmapped one). */
static int page_mapped(uintptr_t a)
{
	unsigned char v;
	return am_sys_mincore((void *)(a & ~(PAGE - 1)), PAGE, &v) == 0;
}

void am_ix_note_stack(uintptr_t hi)
{
	uint64_t cur;
	if (am_sys_getrlimit(RLIMIT_STACK, &cur) != 0 || cur > hi)
		cur = hi; /* unlimited: it may grow down to the map below */
	__atomic_store_n(&am_ix.stack_reach, (uintptr_t)cur, __ATOMIC_RELAXED);
	__atomic_store_n(&am_ix.stack_top, hi, __ATOMIC_RELAXED);
}

int am_index_stack_reaches(uintptr_t p)
{
	uintptr_t top = __atomic_load_n(&am_ix.stack_top, __ATOMIC_RELAXED);
	return p < top && top - p <= __atomic_load_n(&am_ix.stack_reach, __ATOMIC_RELAXED) && page_mapped(p);
}

/* The lowest page of [floor, lo) such that the kernel has it and every
 * page above it below lo; lo if none. */
static uintptr_t kernel_low(uintptr_t floor, uintptr_t lo)
{
	while (floor < lo) {
		uintptr_t mid = floor + ((lo - floor) / 2 & ~(PAGE - 1));
		if (page_mapped(mid))
			lo = mid;
		else
			floor = mid + PAGE;
	}
	return lo;
}

/* The stack's lowest map, and the end of the map below it (the floor). */
static struct am_map *lowest_map(uintptr_t *floor)
{
	size_t i = am_ix_first_above(am_ix.stack_top - 1);
	if (i == am_ix.n || am_ix.arr[i]->lo >= am_ix.stack_top || am_ix.arr[i]->seq->origin != AM_ORIGIN_STACK)
		return NULL;
	struct am_seq *s = am_ix.arr[i]->seq;
	i = am_ix_first_above(s->lo);
	*floor = i > 0 ? am_ix.arr[i - 1]->hi : 0;
	return i < am_ix.n && am_ix.arr[i]->seq == s && am_ix.arr[i]->lo == s->lo ? am_ix.arr[i] : NULL;
}

int am_ix_stack_extend(uintptr_t low)
{
	uintptr_t floor = 0;
	struct am_map *m = am_ix.stack_top ? lowest_map(&floor) : NULL;
	if (!m || low < floor || low >= m->lo)
		return 0;
	if (am_pageindex_set(low, m->lo, am_ref_of(m)) != 0)
		am_ix_missed(low, m->lo);
	m->lo = m->seq->lo = low;
	return 1;
}

int am_index_stack_catch_up(void)
{
	uintptr_t floor = 0;
	int grown = 0;
	if (!am_ix.ready || !am_ix.stack_top || am_ix_begin() != 0)
		return 0;
	struct am_map *m = lowest_map(&floor);
	uintptr_t reach = am_ix.stack_top - am_ix.stack_reach;
	if (m)
		grown = am_ix_stack_extend(kernel_low(floor > reach ? floor : reach, m->lo));
	am_ix_end();
	return grown;
}
