/* fork: the child has one thread; any lock another thread of the parent
 * held at the fork is held by nobody in the child, over a structure that
 * may be half changed.
 *
 * Holding the library's locks across fork is not an option: glibc's fork
 * takes its malloc arena locks after the prepare handlers, and a thread
 * inside malloc holds an arena lock while its mapping call waits for the
 * index lock — a lock-order inversion (it deadlocked). So nothing is
 * taken before the fork. In the child, if no thread was changing the
 * index or the tiers at the fork (a lock held across a removal's system
 * call leaves the index whole) the state is consistent and kept;
 * otherwise the tiers are reset and the index is rebuilt from
 * /proc/self/maps (chunks allocated before the fork then answer at the
 * mapping level). Any child re-reads the maps: the
 * kernel leaves out of it what was marked MADV_DONTFORK (the child of a
 * single-threaded parent does so at its first change of the index or
 * check, as only those ranges can differ), and in a child of a
 * multi-threaded parent another thread may have been between a mapping
 * call and its report at the fork; such a child re-reads at once, and
 * clears the big-chunk marks a thread cut off between a mark and its
 * chunk's bit left behind. The child's walks of the maps take the loaded
 * objects from a snapshot made in prepare (mapindex.h: its
 * dl_iterate_phdr could wait for a loader lock held by a thread it does
 * not have).
 */
#include <pthread.h>
#include <sys/single_threaded.h>

#include "heap/heap.h"
#include "hook/hook.h"
#include "index/quiesce.h"
#include "index/mapindex.h"
#include "fork.h"
#include "sys/log.h"
#include "palloc/palloc.h"
#include "report/live.h"

static int tier_held(const struct am_tier *t) { return t->lock.state != 0; }

static int parent_threaded;

static void prepare(void)
{
	parent_threaded = !__libc_single_threaded;
	am_index_prefork();
}

static void child_index(void)
{
	int torn = am_index_held_at_fork() || am_heap_held_at_fork() || tier_held(&am_tier_nommap) ||
		   tier_held(&am_tier_mmap);
	am_palloc_atfork_child(&am_tier_nommap);
	am_palloc_atfork_child(&am_tier_mmap);
	am_quiesce_reset_child();
	am_index_forked_child();
	if (!torn) {
		am_index_unlock_child();
		if (!parent_threaded) {
			am_index_resync_later(); /* most children exec first: no cost then */
			return;
		}
		am_index_resync();
		am_heap_repair_marks();
		return;
	}
	am_palloc_reset_child(&am_tier_mmap);
	am_palloc_reset_child(&am_tier_nommap);
	am_heap_reset_child();
	am_index_rebuild_child();
}

static void child(void)
{
	am_hook_owner_set();
	child_index();
	am_live_forked();
}

void am_fork_install(void)
{
	if (pthread_atfork(prepare, NULL, child) != 0)
		am_log("cannot register a fork handler; a child forked while another thread "
		       "is inside allocmap could deadlock");
}
