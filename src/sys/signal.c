/* Raw rt_sigaction and the rt_sigreturn trampoline: see signal.h. */
#include "signal.h"

#include <signal.h>
#include <sys/syscall.h>

#include "syscall.h"

/* The kernel returns from a handler into this with the signal frame on
 * the stack; it must not touch the stack before the system call. */
__asm__(".text\n"
	".p2align 4\n"
	".globl am_sig_restorer\n"
	".hidden am_sig_restorer\n"
	".type am_sig_restorer, @function\n"
	"am_sig_restorer:\n"
	"\tmovq $" "15" ", %rax\n" /* SYS_rt_sigreturn */
	"\tsyscall\n"
	"\thlt\n"
	".size am_sig_restorer, .-am_sig_restorer\n");
void am_sig_restorer(void) __attribute__((visibility("hidden")));
_Static_assert(SYS_rt_sigreturn == 15, "rt_sigreturn is 15 on x86-64");

long am_sys_sigaction(int sig, const struct am_sigaction *act, struct am_sigaction *old)
{
	struct am_sigaction k;
	if (act) {
		k = *act;
		if (!(k.flags & AM_SA_RESTORER))
			k.flags |= AM_SA_RESTORER, k.restorer = (void *)am_sig_restorer;
	}
	return am_sys_forward(SYS_rt_sigaction, sig, act ? (long)&k : 0, (long)old, 8, 0, 0);
}
