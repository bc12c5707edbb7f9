/* The mapping index's writer protocol: who may change the index, when,
 * and what becomes of an event that cannot wait.
 *
 * One lock serialises writers; a writer makes am_ix.seq odd while it
 * changes anything, so lock-free readers retry (internal.h). A thread's
 * place in the protocol is its am_self.ix_state (sys/thread.h): out,
 * holding the lock across a removal's system call (am_index_hold, the
 * structures consistent), writing, or busy taking or giving back the lock.
 * An event that finds its own thread already writing (a signal handler
 * interrupted the writer), or that may not block and finds the lock held,
 * is dropped and counted, and the next writer to finish re-reads the maps
 * (am_ix_dropped, resync_pending). Mapping calls are bracketed
 * (am_index_call_begin/end) so that a handler's event over the range of
 * the call it interrupted waits for that call's end. The debug build
 * validates the index at every writer's exit (sys/debug.h).
 */
#include "../sys/debug.h"
#include "../sys/thread.h"
#include "internal.h"

/* This thread's relation to the index is am_self.ix_state (sys/thread.h):
 * while it is BUSY a signal handler's event can neither take the lock as
 * its own nor wait for it, and is dropped.
 * am_self.calls counts the mapping calls this thread is inside, and
 * call_lo/call_hi the range the outermost one may change: more than one
 * call when a signal handler's interrupted one, perhaps between its
 * system call and its event. A handler's event over that range, applied
 * first, would be applied before the change it followed (a munmap of what
 * an interrupted mremap had just moved there would erase the moved map):
 * it is dropped, and the re-read of the maps made when the outer call
 * ends puts it in. Elsewhere order is moot. */

int am_ix_inside(void) { return am_self.ix_state == AM_IX_WRITING; }

/* Takes the index lock; but only tries on a thread that may not block
 * (am_thread_may_block: the holder may be waiting for what this thread
 * interrupted). 1 if taken. */
static int lock_index(void)
{
	if (am_thread_may_block()) {
		am_lock(&am_ix.lock);
		return 1;
	}
	return am_trylock(&am_ix.lock);
}

int am_ix_begin(void)
{
	am_strat_index_entry();
	if (am_self.ix_state == AM_IX_WRITING || am_self.ix_state == AM_IX_BUSY)
		return -1; /* a handler interrupted a writer on this thread */
	int held = am_self.ix_state == AM_IX_HOLDING;
	am_self.ix_state = AM_IX_WRITING;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!held && !lock_index()) {
		am_self.ix_state = AM_IX_OUT; /* the caller drops its event: made good by a re-read */
		return -1;
	}
	/* the seqlock's writer side: odd first, and a release fence so that
	 * no change below is seen before it (a reader's acquire fence pairs
	 * with it, lookup.c); a full fence is not needed (an mfence on x86) */
	__atomic_store_n(&am_ix.seq, am_ix.seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return 0; /* inside a removal bracket, am_ix_end keeps the lock */
}

int am_ix_dropped(void)
{
	if (!am_ix.ready)
		return 0; /* before start-up: the initial read of the maps sees it */
	__atomic_fetch_add(&am_ix.events[AM_EV_DROPPED], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&am_ix.resync_pending, 1, __ATOMIC_RELEASE);
	return -1;
}

static void end_writing(int keep_lock)
{
	/* not from a handler's call inside another call: it may sit between
	 * that call's system call and its event, which a re-read now would
	 * leave with nothing to apply to */
	if (am_self.calls <= 1 && __atomic_load_n(&am_ix.resync_pending, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&am_ix.resync_pending, 0, __ATOMIC_ACQUIRE))
		am_ix_resync_locked();
	if (AM_DEBUG_VALIDATE)
		am_debug_require(am_index_validate_pages(am_ix.dirty_lo, am_ix.dirty_hi), "the page index",
				 "an index writer's exit");
	am_ix_settle();
	if (AM_DEBUG_VALIDATE) {
		am_debug_require(am_index_validate_held(), "the mapping index", "an index writer's exit");
		am_debug_require(am_strat_validate(), "stratification", "an index writer's exit");
	}
	__atomic_store_n(&am_ix.seq, am_ix.seq + 1, __ATOMIC_RELEASE);
	if (!keep_lock)
		am_unlock(&am_ix.lock);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_self.ix_state = keep_lock ? AM_IX_HOLDING : AM_IX_OUT;
	am_thread_left();
}

void am_ix_end(void) { end_writing(am_ix.holder == &am_self.ix_state); }

int am_ix_begin_event(uintptr_t lo, uintptr_t hi)
{
	if (am_self.calls > 2 || (am_self.calls == 2 && lo < am_self.call_hi && am_self.call_lo < hi))
		return -1; /* a handler's change over the interrupted call's range */
	return am_ix_begin();
}

void am_index_call_begin(uintptr_t lo, uintptr_t hi)
{
	if (am_self.calls == 0)
		am_self.call_lo = lo, am_self.call_hi = hi;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_self.calls++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void am_index_call_end(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (--am_self.calls == 0 && __atomic_load_n(&am_ix.resync_pending, __ATOMIC_ACQUIRE) && am_ix.ready &&
	    am_ix_begin() == 0)
		am_ix_end(); /* its end makes the pending re-read */
	am_thread_left();
}

int am_index_hold(void)
{
	if (!am_ix.ready || am_self.ix_state != AM_IX_OUT)
		return 0; /* before start-up, or re-entered: the removal is applied as usual */
	am_self.ix_state = AM_IX_BUSY;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!lock_index()) {
		am_self.ix_state = AM_IX_OUT; /* no bracket: the event may be dropped, see lock_index */
		return 0;
	}
	am_ix.holder = &am_self.ix_state;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_self.ix_state = AM_IX_HOLDING;
	return 1;
}

void am_index_release(int held)
{
	if (!held)
		return;
	am_self.ix_state = AM_IX_BUSY;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_ix.holder = NULL;
	am_unlock(&am_ix.lock);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_self.ix_state = AM_IX_OUT;
	am_thread_left();
}

