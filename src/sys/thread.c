/* The per-thread re-entry record's storage, and the signals deferred
 * while a thread is inside allocmap: see thread.h. Zero is every field's
 * "outside" value, so a new thread starts outside everything.
 *
 * A deferred signal is sent again to the thread with its own siginfo
 * (rt_tgsigqueueinfo to oneself may carry any si_code), so the handler
 * sees what it would have; it is delivered as the system call returns.
 * A standard signal already deferred is merged, as the kernel merges a
 * pending one; past AM_DEFERRED kept, a signal is sent again with tgkill
 * (its siginfo then says SI_TKILL).
 */
#include "thread.h"

#include <signal.h>
#include <string.h>

#include "syscall.h"

__thread struct am_thread am_self;

/* A handler here may interrupt another's deferral (both inside): the
 * slot is taken before it is filled, so each has its own. */
void am_thread_defer(int sig, const void *info)
{
	unsigned n = am_self.deferred_n;
	for (unsigned i = 0; i < n && i < AM_DEFERRED; i++)
		if (am_self.deferred[i].sig == sig && sig < 32)
			return;
	if (n >= AM_DEFERRED) {
		am_self.deferred_lost |= 1ull << (sig - 1);
		return;
	}
	am_self.deferred_n = n + 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_self.deferred[n].sig = sig;
	memcpy(am_self.deferred[n].info, info, sizeof am_self.deferred[n].info);
}

/* Only from outside (no deferral can run then); every signal blocked
 * while they are queued again, delivered when the mask comes back. */
void am_thread_replay(void)
{
	if (am_thread_inside())
		return;
	uint64_t all = ~0ull, old;
	long pid = am_sys_getpid(), tid = am_sys_gettid();
	am_sys_sigprocmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < am_self.deferred_n && i < AM_DEFERRED; i++)
		am_sys_tgsigqueueinfo(pid, tid, am_self.deferred[i].sig, am_self.deferred[i].info);
	for (uint64_t lost = am_self.deferred_lost; lost; lost &= lost - 1)
		am_sys_tgkill(pid, tid, __builtin_ctzll(lost) + 1);
	am_self.deferred_n = 0;
	am_self.deferred_lost = 0;
	am_sys_sigprocmask(SIG_SETMASK, &old, NULL);
}
