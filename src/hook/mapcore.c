/* The core every mapping-call replacement shares (libc's wrappers in
 * mapcalls.c, ld.so's private copies in ldso.c, syscall() in
 * rawsyscall.c): make the system call, report the event on success —
 * errno preserved across the report — and return the kernel's raw result
 * (a negative errno on failure), for the caller to turn into its own
 * error convention.
 */
#include <errno.h>
#include <sys/syscall.h>

#include "../sys/syscall.h"
#include "hook.h"

long am_do_mmap(void *addr, size_t len, int prot, int flags, int fd, long off, const void *caller)
{
	long r = am_sys_forward(SYS_mmap, (long)addr, (long)len, prot, (unsigned)flags, fd, off);
	if (!am_sys_failed(r)) {
		int saved = errno;
		am_ev_mmap((void *)r, len, prot, flags, fd, off, caller);
		errno = saved;
	}
	return r;
}

long am_do_munmap(void *addr, size_t len)
{
	long r = am_sys_forward(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
	if (!am_sys_failed(r)) {
		int saved = errno;
		am_ev_munmap(addr, len);
		errno = saved;
	}
	return r;
}

long am_do_mprotect(void *addr, size_t len, int prot)
{
	long r = am_sys_forward(SYS_mprotect, (long)addr, (long)len, prot, 0, 0, 0);
	if (am_sys_failed(r) && r != -ENOMEM)
		return r;
	int saved = errno;
	/* ENOMEM: a hole in the range (or a refused split); the kernel may
	 * have changed the mappings before the hole already */
	if (r == -ENOMEM)
		am_ev_mprotect_partial(addr, len, prot);
	else
		am_ev_mprotect(addr, len, prot);
	errno = saved;
	return r;
}

long am_do_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr, const void *caller)
{
	long r = am_sys_forward(SYS_mremap, (long)old, (long)old_len, (long)new_len, flags, (long)new_addr, 0);
	if (!am_sys_failed(r)) {
		int saved = errno;
		am_ev_mremap(old, old_len, (void *)r, new_len, flags, caller);
		errno = saved;
	}
	return r;
}
