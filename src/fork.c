/* fork: the child must not inherit a lock held by a thread that does not
 * exist in it, nor a structure caught half-changed. The prepare handler
 * takes every lock of the library in the declared order (heap index,
 * mmap tier, mapping index, no-mmap tier); both parent and child release
 * them after the fork. Registered last among start-up steps, so it runs
 * after any prepare handler registered later (those run first) that might
 * still allocate, map or query.
 */
#include <pthread.h>

#include "heap/heap.h"
#include "init.h"
#include "index/internal.h"
#include "log.h"
#include "palloc/palloc.h"
#include "palloc/tier.h"

static int held; /* the prepare handler got every lock (not re-entered) */

static void prepare(void)
{
	am_heap_lock();
	held = am_tier_enter(&am_tier_mmap) == 0;
	if (held && am_ix_begin() != 0) {
		am_tier_leave(&am_tier_mmap);
		held = 0;
	}
	if (held && am_tier_enter(&am_tier_nommap) != 0) {
		am_ix_end();
		am_tier_leave(&am_tier_mmap);
		held = 0;
	}
}

static void release(void)
{
	if (held) {
		am_tier_leave(&am_tier_nommap);
		am_ix_end();
		am_tier_leave(&am_tier_mmap);
	}
	am_heap_unlock();
}

void am_fork_install(void)
{
	if (pthread_atfork(prepare, release, release) != 0)
		am_log("cannot register fork handlers; a child forked while another thread "
		       "is inside allocmap could deadlock");
}
