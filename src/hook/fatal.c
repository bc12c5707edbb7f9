/* Fatal signals: a process that a signal kills still tells how it ended.
 *
 * am_hook_fatal_install (once, at start-up, when a live file is kept)
 * has sigactions.c put on_fatal on every signal in `watched` whose action
 * is the default one, and keep it there whenever the program sets the
 * default again (the program reads SIG_DFL back). The handler tells the
 * end (am_hook_tell_end: reason ALLOCMAP_END_SIGNAL, the signal as
 * status) and lets the default action happen as it would have: it is
 * installed with SA_RESETHAND, so the action is already the default when
 * it runs; a fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE raised by an
 * instruction, si_code > 0) happens again when the handler returns, any
 * other signal is sent again to the thread and delivered when the
 * handler returns and its mask (every signal) is lifted. The process ends
 * by the same signal, with the same exit status and core dump.
 *
 * Not covered: SIGKILL (nothing can catch it), a signal ignored or
 * handled by the program, real-time signals, actions changed by the raw
 * system call.
 */
#include <errno.h>
#include <signal.h>

#include "../../include/allocmap_live.h"
#include "../sys/syscall.h"
#include "hook.h"

static const int watched[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGILL,  SIGABRT, SIGBUS,  SIGFPE,  SIGUSR1,
			      SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGXCPU, SIGXFSZ, SIGSYS};

static int is_fault(int sig, const siginfo_t *si)
{
	return si->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE);
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	am_hook_tell_end(ALLOCMAP_END_SIGNAL, sig);
	if (!is_fault(sig, si))
		am_sys_tgkill(am_sys_getpid(), am_sys_gettid(), sig);
	errno = saved;
}

void am_hook_fatal_install(void)
{
	uint64_t set = 0;
	for (size_t i = 0; i < sizeof watched / sizeof *watched; i++)
		set |= 1ull << watched[i];
	am_hook_sig_fatal(on_fatal, set);
}
