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

#define AM_DEFERRED 4 /* deferred signals kept with their siginfo */

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
	int in_sigaction;            /* inside the interposed sigaction (hook/sigactions.c) */
	unsigned deferred_n;         /* signals deferred while inside (thread.c) */
	uint64_t deferred_lost;      /* deferred past AM_DEFERRED: replayed without their siginfo */
	struct {
		int sig;
		unsigned char info[128]; /* the kernel's siginfo_t */
	} deferred[AM_DEFERRED];
};

extern __thread struct am_thread am_self;

/* Is the thread anywhere inside allocmap's own state (a lock, a bracket,
 * a read, a tier)? A signal handler of the program's that ran there and
 * never returned (siglongjmp) would leave that state held for good: the
 * program's handlers are deferred while this holds (hook/sigactions.c). */
static inline int am_thread_inside(void)
{
	return am_self.tier_mask || am_self.ix_state != AM_IX_OUT || am_self.calls || am_self.in_unmap ||
	       am_self.in_read || am_self.strat_depth || am_self.in_sigaction;
}

/* From a signal handler that found the thread inside: keeps the signal
 * and its siginfo to be sent again when the thread leaves. */
void am_thread_defer(int sig, const void *info);
/* Sends the deferred signals again (rt_tgsigqueueinfo to this thread,
 * with their own siginfo), if the thread is no longer inside. */
void am_thread_replay(void);
/* Called by each module as its field of the record returns to its
 * outside value: one load when nothing was deferred. */
static inline void am_thread_left(void)
{
	if (__builtin_expect(am_self.deferred_n, 0)) /* also when some were lost: n is full then */
		am_thread_replay();
}

/* May this thread wait for a lock another thread holds? Not while it is
 * inside a heap read or a private tier: a signal handler interrupted it
 * there, and the holder may be waiting for that very read to end
 * (index/quiesce.h) or for that tier's lock. Such a thread only tries. */
static inline int am_thread_may_block(void) { return !am_self.in_read && !am_self.tier_mask; }

#endif
