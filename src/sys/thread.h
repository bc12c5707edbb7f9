/* The per-thread re-entry record: one TLS object per thread saying where
 * in allocmap the thread is, so that a signal handler's call (or a
 * mapping call the library itself makes) knows what it interrupted.
 *
 * Each field is owned by one module, which alone writes it; any module
 * may read it. A field is only ever changed by its own thread, with a
 * signal fence where a handler on that thread must see the order, so no
 * atomics are needed. The record is initial-exec TLS: reading it never
 * allocates and is safe in a signal handler and before the program's
 * main.
 */
#ifndef AM_SYS_THREAD_H
#define AM_SYS_THREAD_H

#include <stdint.h>

/* The thread's relation to the mapping index (index/mapindex.c). */
enum am_ix_state {
	AM_IX_OUT,     /* not in it */
	AM_IX_HOLDING, /* holding its lock across a removal's system call */
	AM_IX_WRITING, /* changing it */
	AM_IX_BUSY     /* taking or giving back the lock for a removal */
};

struct am_thread {
	unsigned tier_mask;          /* private tiers entered (palloc/tier.c): one bit each */
	int ix_state;                /* enum am_ix_state (index/mapindex.c) */
	int calls;                   /* mapping calls in flight, nested by handlers (mapindex.c) */
	uintptr_t call_lo, call_hi;  /* the range the outermost call may change */
	int in_unmap;                /* inside a guarded mapping call (index/quiesce.c) */
	int in_read;                 /* heap reads announced in, nested by handlers (quiesce.c) */
	unsigned strat_depth;        /* mmap-tier maps/unmaps in flight (index/strat.c) */
};

extern __thread struct am_thread am_self;

/* May this thread wait for a lock another thread holds? Not while it is
 * inside a heap read or a private tier: a signal handler interrupted it
 * there, and the holder may be waiting for that very read to end
 * (index/quiesce.h) or for that tier's lock. Such a thread only tries. */
static inline int am_thread_may_block(void) { return !am_self.in_read && !am_self.tier_mask; }

#endif
