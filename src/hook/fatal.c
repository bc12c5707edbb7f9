/* Fatal signals: a process that a signal kills still tells how it ended.
 *
 * am_hook_fatal_install (once, at start-up, when a live file is kept)
 * puts the library's handler on every signal in `watched` whose action
 * is the default one. The handler tells the end (am_hook_on_end's
 * function, reason ALLOCMAP_END_SIGNAL, the signal as status) and then
 * lets the default action happen as it would have: the handler is
 * installed with SA_RESETHAND, so the action is already the default
 * again when it runs; a fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE raised by
 * an instruction, si_code > 0) is left to happen again when the handler
 * returns, anything else is sent again to the thread and is delivered
 * when the handler returns and its mask is lifted. The process ends by
 * the same signal, with the same exit status and core dump.
 *
 * The program must not see the handler: sigaction, signal (and its
 * aliases bsd_signal, ssignal), sysv_signal and sigset are interposed. For a watched signal whose
 * handler is the library's, the program's view is kept here (`view`:
 * SIG_DFL with the mask and flags it last gave) and read back as the old
 * action; setting SIG_DFL keeps the library's handler (with the new
 * view), setting anything else goes to libc and the signal is the
 * program's from then on, until it sets SIG_DFL again. Everything else
 * goes to libc's own functions untouched.
 *
 * Not covered: a signal sent while the default action is blocked and
 * never unblocked, SIGKILL (nothing can catch it), real-time signals,
 * and programs that change actions with the raw system call.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "../../include/allocmap_live.h"
#include "../sys/elfsym.h"
#include "../sys/signal.h"
#include "../sys/syscall.h"
#include "hook.h"

#define API __attribute__((visibility("default")))

__sighandler_t bsd_signal(int sig, __sighandler_t h); /* not declared under _GNU_SOURCE */

static const int watched[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGILL,  SIGABRT, SIGBUS,  SIGFPE,  SIGUSR1,
			      SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGXCPU, SIGXFSZ, SIGSYS};

static unsigned char ours[NSIG];   /* 1: the library's handler is on the signal */
static struct sigaction view[NSIG]; /* what the program set last, for ours[sig] */
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

static int is_fault(int sig, const siginfo_t *si)
{
	return si->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE);
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	ours[sig] = 0; /* SA_RESETHAND: the action is the default now */
	am_hook_tell_end(ALLOCMAP_END_SIGNAL, sig);
	if (!is_fault(sig, si))
		am_sys_tgkill(am_sys_getpid(), am_sys_gettid(), sig);
	errno = saved;
}

int am_hook_fatal_install(void)
{
	real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))am_elf_lookup(
		"libc.so", "sigaction", NULL);
	if (!real_sigaction)
		return -ENOENT;
	struct am_sigaction act = {.handler = (void *)on_fatal,
				   .flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_RESTART,
				   .mask = ~0ull};
	for (size_t i = 0; i < sizeof watched / sizeof *watched; i++) {
		int sig = watched[i];
		struct am_sigaction old;
		if (am_sys_sigaction(sig, NULL, &old) != 0 || old.handler != (void *)SIG_DFL)
			continue; /* ignored or handled before us (nohup, a preloaded tool) */
		memset(&view[sig], 0, sizeof view[sig]);
		ours[sig] = 1;
		if (am_sys_sigaction(sig, &act, NULL) != 0)
			ours[sig] = 0;
	}
	return 0;
}

/* sigaction for a signal the library's handler is on. */
static int watched_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction was = view[sig];
	if (act && act->sa_handler != SIG_DFL) {
		ours[sig] = 0;
		if (real_sigaction(sig, act, NULL) != 0) {
			ours[sig] = 1;
			return -1;
		}
	} else if (act) {
		view[sig] = *act;
	}
	if (old)
		*old = was;
	return 0;
}

static int setting_default(int sig, const struct sigaction *act)
{
	return act && act->sa_handler == SIG_DFL && sig > 0 && sig < NSIG && real_sigaction;
}

/* The program sets SIG_DFL on a watched signal that is its own now: the
 * library's handler goes back on, with the program's action as its view. */
static int default_again(int sig, const struct sigaction *act, struct sigaction *old)
{
	for (size_t i = 0; i < sizeof watched / sizeof *watched; i++) {
		if (watched[i] != sig)
			continue;
		if (real_sigaction(sig, act, old) != 0)
			return -1;
		struct am_sigaction mine = {.handler = (void *)on_fatal,
					    .flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_RESTART,
					    .mask = ~0ull};
		view[sig] = *act;
		if (am_sys_sigaction(sig, &mine, NULL) == 0)
			ours[sig] = 1;
		return 0;
	}
	return real_sigaction(sig, act, old);
}

API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig > 0 && sig < NSIG && ours[sig])
		return watched_sigaction(sig, act, old);
	if (setting_default(sig, act))
		return default_again(sig, act, old);
	if (!real_sigaction)
		real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))am_elf_lookup(
			"libc.so", "sigaction", NULL);
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	return real_sigaction(sig, act, old);
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
