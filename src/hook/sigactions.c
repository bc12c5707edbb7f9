/* The program's signal actions, interposed: sigaction, signal (and its
 * aliases bsd_signal, ssignal), sysv_signal and sigset.
 *
 * What the program sets is kept here (`view`, once it has set or read a
 * signal's action) and is what it reads back; the kernel gets:
 *   a handler   the library's wrapper, with the program's flags (plus
 *               SA_SIGINFO) and mask: the wrapper calls the program's
 *               handler, unless the thread is inside allocmap's own state
 *               (am_thread_inside, sys/thread.h) and the signal is not a
 *               fault of the interrupted instruction: then it is deferred
 *               and sent again, with its siginfo, as the thread leaves
 *               (sys/thread.c). A handler that never returns (siglongjmp)
 *               so never leaves a lock, a call bracket or a tier held;
 *   SIG_DFL     on a signal fatal.c watches (once it is on): fatal.c's
 *               handler, which tells the end and lets the default happen;
 *   otherwise   the action as given.
 * rt_sigaction made through libc's syscall() comes here too, in the
 * kernel's layout (rawsigaction.c). Only a system call instruction in
 * the program's own code goes unseen (src/index's call bracket still
 * copes with such handlers' mapping calls, less well).
 * One lock orders the program's calls; while it is held the thread counts
 * as inside (in_sigaction), so no program handler runs there.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "../sys/elfsym.h"
#include "../sys/lock.h"
#include "../sys/signal.h"
#include "../sys/thread.h"
#include "hook.h"

#define API __attribute__((visibility("default")))

__sighandler_t bsd_signal(int sig, __sighandler_t h); /* not declared under _GNU_SOURCE */

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static struct sigaction view[NSIG]; /* the program's action, where known[sig] */
static unsigned char known[NSIG];
static struct am_lock lock;
static sigaction_fn real;
static void (*fatal)(int, siginfo_t *, void *); /* fatal.c's handler, once on */
static uint64_t fatal_set;                      /* the signals it watches, bit sig */

static int resolve(void)
{
	if (!__atomic_load_n(&real, __ATOMIC_ACQUIRE))
		__atomic_store_n(&real, (sigaction_fn)am_elf_lookup("libc.so", "sigaction", NULL), __ATOMIC_RELEASE);
	return real != NULL;
}

static int is_handler(__sighandler_t h) { return h != SIG_DFL && h != SIG_IGN; }

/* Is fatal.c's handler the kernel's action for the program's action h? */
static int fatal_default(int sig, __sighandler_t h) { return fatal && h == SIG_DFL && (fatal_set >> sig & 1); }

/* Raised by the interrupted instruction itself (deferring it would run
 * the instruction again before any handler could). */
static int synchronous(int sig, const siginfo_t *si)
{
	return si->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
				   sig == SIGTRAP || sig == SIGSYS);
}

static void wrapper(int sig, siginfo_t *si, void *uc);

/* The kernel's action for the program's `act`, made by the system call
 * (the wrapper put back from a handler, where libc is not to be called). */
static long raw_install(int sig, const struct sigaction *act)
{
	struct am_sigaction k = {.handler = (void *)wrapper, .flags = (unsigned long)act->sa_flags | SA_SIGINFO};
	memcpy(&k.mask, &act->sa_mask, sizeof k.mask);
	if (!is_handler(act->sa_handler)) {
		int on = fatal_default(sig, act->sa_handler);
		k = (struct am_sigaction){.handler = on ? (void *)fatal : (void *)act->sa_handler,
					  .flags = on ? SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_RESTART : 0,
					  .mask = on ? ~0ull : 0};
	}
	return am_sys_sigaction(sig, &k, NULL);
}

static void wrapper(int sig, siginfo_t *si, void *uc)
{
	if (am_thread_inside() && !synchronous(sig, si)) {
		am_thread_defer(sig, si);
		if (view[sig].sa_flags & SA_RESETHAND)
			raw_install(sig, &view[sig]); /* the kernel took it off: it must be there when sent again */
		return;
	}
	struct sigaction a = view[sig];
	if (a.sa_flags & SA_RESETHAND) {
		view[sig].sa_handler = SIG_DFL; /* as the kernel did */
		view[sig].sa_flags &= ~(SA_SIGINFO | SA_RESETHAND);
		if (fatal_default(sig, SIG_DFL))
			raw_install(sig, &view[sig]);
	}
	if (!is_handler(a.sa_handler))
		return; /* changed to SIG_IGN or SIG_DFL by another thread meanwhile */
	if (a.sa_flags & SA_SIGINFO)
		a.sa_sigaction(sig, si, uc);
	else
		a.sa_handler(sig);
}

/* The program's action act made the kernel's, as the view says. */
static int apply(int sig, const struct sigaction *act)
{
	if (is_handler(act->sa_handler)) {
		struct sigaction k = *act;
		k.sa_sigaction = wrapper;
		k.sa_flags |= SA_SIGINFO;
		return real(sig, &k, NULL);
	}
	if (!fatal_default(sig, act->sa_handler))
		return real(sig, act, NULL);
	long r = raw_install(sig, act);
	if (r < 0)
		errno = (int)-r;
	return r < 0 ? -1 : 0;
}

API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!resolve()) {
		errno = ENOSYS;
		return -1;
	}
	if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP || am_hook_in_shared_child())
		return real(sig, act, old); /* a vfork child's actions are its own, the view its parent's */
	am_self.in_sigaction++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_lock(&lock);
	struct sigaction was;
	int rc = known[sig] ? (was = view[sig], 0) : real(sig, NULL, &was);
	if (rc == 0 && act && (rc = apply(sig, act)) == 0) {
		view[sig] = *act;
		known[sig] = 1;
	}
	am_unlock(&lock);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_self.in_sigaction--;
	am_thread_left();
	if (rc == 0 && old)
		*old = was;
	return rc;
}

void am_hook_sig_fatal(void (*handler)(int, siginfo_t *, void *), uint64_t set)
{
	if (!resolve())
		return;
	fatal_set = set;
	fatal = handler;
	for (int sig = 1; sig < 64; sig++) {
		struct sigaction now;
		if ((set >> sig & 1) && sigaction(sig, NULL, &now) == 0 && now.sa_handler == SIG_DFL)
			sigaction(sig, &now, NULL); /* the default again: fatal.c's handler goes on */
	}
}

/* signal() as glibc has it (BSD semantics): the handler, the signal
 * blocked while it runs, system calls restarted. */
static __sighandler_t set_handler(int sig, __sighandler_t h, int flags)
{
	struct sigaction act = {.sa_handler = h, .sa_flags = flags}, old;
	if (h == SIG_ERR || sig <= 0 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigemptyset(&act.sa_mask);
	if (!(flags & SA_NODEFER))
		sigaddset(&act.sa_mask, sig);
	return sigaction(sig, &act, &old) == 0 ? old.sa_handler : SIG_ERR;
}

API __sighandler_t signal(int sig, __sighandler_t h) { return set_handler(sig, h, SA_RESTART); }
API __sighandler_t bsd_signal(int sig, __sighandler_t h) { return set_handler(sig, h, SA_RESTART); }
API __sighandler_t ssignal(int sig, __sighandler_t h) { return set_handler(sig, h, SA_RESTART); }
API __sighandler_t sysv_signal(int sig, __sighandler_t h)
{
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER);
}

/* sigset (System V): SIG_HOLD blocks the signal; any other disposition
 * is set and the signal unblocked. The old disposition, or SIG_HOLD if
 * the signal was blocked. */
API __sighandler_t sigset(int sig, __sighandler_t disp)
{
	sigset_t one, was;
	struct sigaction old;
	if (sig <= 0 || sig >= NSIG || disp == SIG_ERR || sigaction(sig, NULL, &old) != 0) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigemptyset(&one);
	sigaddset(&one, sig);
	if (disp == SIG_HOLD) {
		if (sigprocmask(SIG_BLOCK, &one, &was) != 0)
			return SIG_ERR;
	} else {
		struct sigaction act = {.sa_handler = disp};
		sigemptyset(&act.sa_mask);
		if (sigaction(sig, &act, NULL) != 0 || sigprocmask(SIG_UNBLOCK, &one, &was) != 0)
			return SIG_ERR;
	}
	return sigismember(&was, sig) ? SIG_HOLD : old.sa_handler;
}
