/* libc's syscall(): the way C programs make raw system calls. Its entry is
 * patched like the mapping wrappers; mapping calls (mmap, munmap, mprotect,
 * mremap, brk) are reported with the caller of syscall(), rt_sigaction is
 * the interposed sigaction (sigactions.c), everything else is forwarded
 * unchanged. Semantics are the kernel's, as syscall() gives
 * them: -1 and errno on failure, the raw result otherwise (brk returns the
 * new break, which glibc's __curbrk does not learn, as without us).
 * Not covered: syscall instructions inlined in the program (no libc call).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "../sys/syscall.h"
#include "hook.h"

/* brk: the kernel's answer is the break; report a move. */
static long raw_brk(long addr, const void *caller)
{
	return am_do_brk(addr, am_sys_forward(SYS_brk, 0, 0, 0, 0, 0, 0), caller);
}

static long dispatch(long nr, long a0, long a1, long a2, long a3, long a4, long a5, const void *caller)
{
	switch (nr) {
	case SYS_mmap: return am_do_mmap((void *)a0, (size_t)a1, (int)a2, (int)a3, (int)a4, a5, caller);
	case SYS_munmap: return am_do_munmap((void *)a0, (size_t)a1);
	case SYS_mprotect: return am_do_mprotect((void *)a0, (size_t)a1, (int)a2);
	case SYS_mremap: return am_do_mremap((void *)a0, (size_t)a1, (size_t)a2, (int)a3, (void *)a4, caller);
	case SYS_brk: return raw_brk(a0, caller);
	case SYS_rt_sigaction:
		return am_hook_raw_sigaction((int)a0, (const struct am_sigaction *)a1, (struct am_sigaction *)a2,
					     (size_t)a3);
	default: return am_sys_forward(nr, a0, a1, a2, a3, a4, a5);
	}
}

long am_hook_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long r = dispatch(nr, a0, a1, a2, a3, a4, a5, __builtin_return_address(0));
	if (am_sys_failed(r)) {
		errno = (int)-r;
		return -1;
	}
	return r;
}
