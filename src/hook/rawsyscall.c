/* libc's syscall(): the way C programs make raw system calls. Its entry is
 * patched like the mapping wrappers; mapping calls (mmap, munmap, mprotect,
 * mremap, brk) are reported with the caller of syscall(), everything else
 * is forwarded unchanged. Semantics are the kernel's, as syscall() gives
 * them: -1 and errno on failure, the raw result otherwise (brk returns the
 * new break, which glibc's __curbrk does not learn, as without us).
 * Not covered: syscall instructions inlined in the program (no libc call).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../sys/syscall.h"
#include "hook.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static void report(long nr, const long *a, long r, const void *caller)
{
	switch (nr) {
	case SYS_mmap:
		am_ev_mmap((void *)r, (size_t)a[1], (int)a[2], (int)a[3], (int)a[4], a[5], caller);
		break;
	case SYS_munmap: am_ev_munmap((void *)a[0], (size_t)a[1]); break;
	case SYS_mprotect: am_ev_mprotect((void *)a[0], (size_t)a[1], (int)a[2]); break;
	case SYS_mremap:
		am_ev_mremap((void *)a[0], (size_t)a[1], (void *)r, (size_t)a[2], (int)a[3], caller);
		break;
	case SYS_brk:
		if (r != a[6]) /* a[6]: the break before */
			am_ev_brk((void *)a[6], (void *)r, caller);
		break;
	}
}

static int is_mapping_call(long nr)
{
	return nr == SYS_mmap || nr == SYS_munmap || nr == SYS_mprotect || nr == SYS_mremap || nr == SYS_brk;
}

long am_hook_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	const void *caller = __builtin_return_address(0);
	long a[7] = {a0, a1, a2, a3, a4, a5, 0};
	int mapping = is_mapping_call(nr);
	if (mapping && nr == SYS_brk)
		a[6] = am_sys_forward(SYS_brk, 0, 0, 0, 0, 0, 0);
	long r = am_sys_forward(nr, a0, a1, a2, a3, a4, a5);
	if (am_sys_failed(r)) {
		if (nr == SYS_mprotect && r == -ENOMEM)
			am_ev_mprotect_partial((void *)a0, (size_t)a1, (int)a2);
		errno = (int)-r;
		return -1;
	}
	if (mapping) {
		int saved = errno;
		report(nr, a, r, caller);
		errno = saved;
	}
	return r;
}
