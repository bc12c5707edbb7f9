/* Signal handlers installed with the raw system call (no libc wrapper):
 * the kernel's struct sigaction and the restorer the kernel returns
 * through (x86-64 needs SA_RESTORER with a trampoline calling
 * rt_sigreturn; glibc's is private). Async-signal-safe; nothing here
 * allocates or touches errno.
 */
#ifndef AM_SYS_SIGNAL_H
#define AM_SYS_SIGNAL_H

#include <stdint.h>

#define AM_SA_RESTORER 0x04000000ul /* the kernel's flag; glibc hides it */

/* The kernel's struct sigaction on x86-64 (a 64-bit signal mask). */
struct am_sigaction {
	void *handler;    /* void (*)(int, siginfo_t *, void *) with SA_SIGINFO */
	unsigned long flags;
	void *restorer;   /* set by am_sys_sigaction when SA_RESTORER is absent */
	uint64_t mask;
};

/* rt_sigaction(sig, act, old): act may be NULL (only read the current
 * action), old may be NULL. A handler installed through this gets the
 * library's restorer unless act already names one (an action read back
 * as old from the kernel carries the program's restorer: restoring it
 * puts back exactly what was there). 0 or a negative errno. */
long am_sys_sigaction(int sig, const struct am_sigaction *act, struct am_sigaction *old);

#endif
