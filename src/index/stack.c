/* The main thread's stack: the kernel grows it down on page faults, which
 * no call shows, so the index catches up when a query finds nothing at
 * an address the stack may have grown over (allocmap_check and the
 * re-read of the maps follow any MAP_GROWSDOWN map's growth themselves:
 * check.c, resync.c).
 *
 * Invariant: the kernel's stack is one mapping from its start up to
 * stack_top, and nothing the index has lies between the stack's lowest
 * map and the map below it; so a page there is the stack's exactly when
 * the kernel has it, and the pages the kernel has there are the highest.
 */
#include <sys/resource.h>

#include "../sys/syscall.h"
#include "internal.h"
#include "../sys/page.h"


/* Whether the kernel has page a (mincore fails on an unmapped one). */
static int page_mapped(uintptr_t a)
{
	unsigned char v;
	return am_sys_mincore((void *)am_page_down(a), AM_PAGE_SIZE, &v) == 0;
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
		uintptr_t mid = floor + ((lo - floor) / 2 & ~(AM_PAGE_SIZE - 1));
		if (page_mapped(mid))
			lo = mid;
		else
			floor = mid + AM_PAGE_SIZE;
	}
	return lo;
}

/* Whether the kernel has every page of [lo, hi): a mapping the index
 * cannot see (a raw system call) below the stack would break
 * kernel_low's search, and then not all would be. */
static int all_mapped(uintptr_t lo, uintptr_t hi)
{
	unsigned char v[256];
	for (uintptr_t a = lo, n; a < hi; a += n) {
		n = hi - a < sizeof v * AM_PAGE_SIZE ? hi - a : sizeof v * AM_PAGE_SIZE;
		if (am_sys_mincore((void *)a, n, v) != 0)
			return 0;
	}
	return 1;
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

/* As the writer: the main stack's lowest map down to low, if low lies
 * between it and the map below; 1 if it did. */
static int extend_stack(uintptr_t low)
{
	uintptr_t floor = 0;
	struct am_map *m = am_ix.stack_top ? lowest_map(&floor) : NULL;
	if (!m || low < floor || low >= m->lo)
		return 0;
	am_ix_extend(m, low, m->hi);
	return 1;
}

/* The kernel is asked (kernel_low, all_mapped) before the index is
 * entered: no system call under its lock. The search assumes nothing
 * lies below the stack within its reach; all_mapped and the floor that
 * extend_stack checks catch a mapping there. */
int am_index_stack_catch_up(void)
{
	uintptr_t top = __atomic_load_n(&am_ix.stack_top, __ATOMIC_RELAXED), lo, hi;
	if (!top || !am_index_seq_at(top - 1, &lo, &hi))
		return 0;
	uintptr_t low = kernel_low(top - __atomic_load_n(&am_ix.stack_reach, __ATOMIC_RELAXED), lo);
	if (low >= lo || !all_mapped(low, lo) || am_ix_begin() != 0)
		return 0;
	int grown = extend_stack(low);
	am_ix_end();
	return grown;
}
