/* syscall(SYS_rt_sigaction, ...) made through libc's syscall()
 * (rawsyscall.c): the same call as sigaction (sigactions.c, interposed),
 * its structs in the kernel's layout (sys/signal.h) converted both ways.
 * The restorer given is dropped for libc's, as sigaction does (an
 * rt_sigreturn either way); the old action read back carries the
 * kernel's restorer. Kept out of sigactions.c so that the internal
 * archive, which leaves the interposed entries out, links rawsyscall.c.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "../sys/signal.h"
#include "hook.h"

long am_hook_raw_sigaction(int sig, const struct am_sigaction *kact, struct am_sigaction *kold, size_t setsize)
{
	struct sigaction act, old;
	if (setsize != sizeof kact->mask)
		return -EINVAL; /* as the kernel says */
	if (kact) {
		memset(&act, 0, sizeof act);
		act.sa_handler = (__sighandler_t)kact->handler;
		act.sa_flags = (int)(kact->flags & ~AM_SA_RESTORER);
		memcpy(&act.sa_mask, &kact->mask, sizeof kact->mask);
	}
	if (sigaction(sig, kact ? &act : NULL, kold ? &old : NULL) != 0)
		return -errno;
	if (kold) {
		struct am_sigaction now;
		am_sys_sigaction(sig, NULL, &now); /* its restorer: what the program would read */
		*kold = (struct am_sigaction){.handler = (void *)old.sa_handler,
					      .flags = (unsigned long)old.sa_flags | (now.flags & AM_SA_RESTORER),
					      .restorer = now.restorer};
		memcpy(&kold->mask, &old.sa_mask, sizeof kold->mask);
	}
	return 0;
}
