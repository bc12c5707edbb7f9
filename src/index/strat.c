/* Stratification of the private tiers, checked at run time (MISSION part
 * 3): records made on an interception path come from the no-mmap tier
 * only; the mmap tier's own chunks are mapped through the index, which
 * allocates only from the no-mmap tier — so the library recurses into its
 * own index at most once.
 *
 * Per thread, `depth` is the number of mmap-tier chunk maps and unmaps in
 * progress (am_strat_tier_begin/end wrap the tier's hooks, selfmap.c). An
 * index entry happens at that depth: 0 for the program's calls, 1 for the
 * tier's own chunk. The invariant, checked always and counted:
 *   (1) the mmap tier never maps or unmaps a chunk while the thread is
 *       inside the index as its writer (the index used the mmap tier);
 *   (2) the index is never entered at depth 2 or more;
 *   (3) no mapping event comes from allocmap's own code: its own calls
 *       are raw system calls (sys/), never the patched libc entries, so
 *       an event whose caller lies in its text means a self-call took
 *       the program's path (checked where the event names a caller:
 *       mmap, mremap, brk).
 * A violation is logged once and counted (allocmap_check reports the count
 * as discrepancies); the debug build (sys/debug.h) traps on the spot.
 * Not a violation: entering the index while already inside it with no tier
 * call in between — a signal handler's mapping call interrupting a writer,
 * refused and made good by a resync (am_ix_dropped). A handler that
 * interrupts the index and grows the mmap tier (malloc in a handler) does
 * count: the recursion it makes is the forbidden kind.
 *
 * State: `depth` is the thread's am_self.strat_depth (sys/thread.h); the
 * maximum, the violation count and allocmap's text range are global, the
 * first two updated with atomics (no lock: these run around the index
 * lock), the range set once at start-up.
 */
#include "../sys/debug.h"
#include "../sys/log.h"
#include "internal.h"
#include "../sys/thread.h"

static unsigned max_depth;
static uint64_t violations;
static int violation_logged;
static uintptr_t own_lo, own_hi; /* allocmap's own text; empty until set */

static void violation(const char *what)
{
	__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	am_log_once(&violation_logged, "stratification broken: %s (depth %u; reported once)", what,
		    am_self.strat_depth);
	if (AM_DEBUG_VALIDATE)
		__builtin_trap();
}

void am_strat_tier_begin(void)
{
	if (am_ix_inside())
		violation("the mmap tier maps or unmaps a chunk from inside the index");
	am_self.strat_depth++;
}

void am_strat_tier_end(void)
{
	am_self.strat_depth--;
	am_thread_left();
}

void am_strat_index_entry(void)
{
	unsigned d = am_self.strat_depth, seen = __atomic_load_n(&max_depth, __ATOMIC_RELAXED);
	while (d > seen && !__atomic_compare_exchange_n(&max_depth, &seen, d, 1, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
		;
	if (d > 1)
		violation("the index entered at recursion depth 2");
}

void am_strat_set_own_text(uintptr_t lo, uintptr_t hi)
{
	own_lo = lo;
	own_hi = hi;
}

void am_strat_mapping_caller(const void *caller)
{
	if ((uintptr_t)caller - own_lo < own_hi - own_lo)
		violation("a mapping call from allocmap's own code took the program's path");
}

unsigned am_strat_max_depth(void) { return __atomic_load_n(&max_depth, __ATOMIC_RELAXED); }

uint64_t am_strat_violations(void) { return __atomic_load_n(&violations, __ATOMIC_RELAXED); }

size_t am_strat_validate(void) { return (size_t)am_strat_violations() + (am_self.strat_depth > 1); }
