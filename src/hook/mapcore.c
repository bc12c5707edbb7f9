/* The core every mapping-call replacement shares (libc's wrappers in
 * mapcalls.c, ld.so's private copies in ldso.c, syscall() in
 * rawsyscall.c): make the system call, report the event on success —
 * errno preserved across the report — and return the kernel's raw result
 * (a negative errno on failure), for the caller to turn into its own
 * error convention. errno's address is looked up once per call (a call
 * into libc from here) and handed down. Calls that can take memory away
 * first wait for heap queries reading that memory (heap/quiesce.h); the
 * others do not. Each call is bracketed for the index
 * (am_ev_call_begin/end), so that one a signal handler makes inside
 * another is recognised.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../index/quiesce.h"
#include "../sys/syscall.h"
#include "hook.h"

/* A call that may take [lo, hi) away from a heap query: announced
 * before the system call and until its event is in the index, so a query
 * either sees the call in flight or the index already changed. */
#define GUARD(lo, hi) int quiesce_ = am_quiesce_unmap_begin((lo), (hi))
#define UNGUARD() am_quiesce_unmap_end(quiesce_)

static uintptr_t end_of(const void *p, size_t len) { return (uintptr_t)p + len; }

static void report_mmap(long r, size_t len, int prot, int flags, int fd, long off, const void *caller, int *err)
{
	if (am_sys_failed(r))
		return;
	int saved = *err;
	am_ev_mmap((void *)r, len, prot, flags, fd, off, caller);
	*err = saved;
}

static long do_mmap(void *addr, size_t len, int prot, int flags, int fd, long off, const void *caller, int *err)
{
	long a = (long)addr, n = (long)len, fl = (unsigned)flags, r;
	if (!(flags & MAP_FIXED)) { /* takes nothing away */
		r = am_sys_forward(SYS_mmap, a, n, prot, fl, fd, off);
		report_mmap(r, len, prot, flags, fd, off, caller, err);
		return r;
	}
	GUARD((uintptr_t)addr, end_of(addr, len));
	r = am_sys_forward(SYS_mmap, a, n, prot, fl, fd, off);
	report_mmap(r, len, prot, flags, fd, off, caller, err);
	UNGUARD();
	return r;
}

static long do_munmap(void *addr, size_t len, int *err)
{
	int removal = am_ev_removal_begin();
	GUARD((uintptr_t)addr, end_of(addr, len));
	long r = am_sys_forward(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
	if (!am_sys_failed(r)) {
		int saved = *err;
		am_ev_munmap(addr, len);
		*err = saved;
	}
	UNGUARD();
	am_ev_removal_end(removal);
	return r;
}

static long do_mprotect(void *addr, size_t len, int prot, int *err)
{
	GUARD((uintptr_t)addr, end_of(addr, len));
	long r = am_sys_forward(SYS_mprotect, (long)addr, (long)len, prot, 0, 0, 0);
	int saved = *err;
	/* ENOMEM: a hole in the range (or a refused split); the kernel may
	 * have changed the mappings before the hole already */
	if (r == -ENOMEM)
		am_ev_mprotect_partial(addr, len, prot);
	else if (!am_sys_failed(r))
		am_ev_mprotect(addr, len, prot);
	*err = saved;
	UNGUARD();
	return r;
}

/* The old range, and with MREMAP_FIXED the new one it replaces: their span. */
static void mremap_span(void *old, size_t old_len, size_t new_len, int flags, void *new_addr, uintptr_t *lo,
			uintptr_t *hi)
{
	*lo = (uintptr_t)old, *hi = end_of(old, old_len);
	if (flags & MREMAP_FIXED) {
		*lo = (uintptr_t)new_addr < *lo ? (uintptr_t)new_addr : *lo;
		*hi = end_of(new_addr, new_len) > *hi ? end_of(new_addr, new_len) : *hi;
	}
}

static long do_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr, const void *caller,
		      int *err)
{
	uintptr_t lo, hi;
	mremap_span(old, old_len, new_len, flags, new_addr, &lo, &hi);
	int removal = am_ev_removal_begin();
	GUARD(lo, hi);
	long r = am_sys_forward(SYS_mremap, (long)old, (long)old_len, (long)new_len, flags, (long)new_addr, 0);
	int saved = *err;
	if (!am_sys_failed(r))
		am_ev_mremap(old, old_len, (void *)r, new_len, flags, caller);
	else if ((flags & MREMAP_FIXED) && old_len == new_len) /* a move may fail part-way */
		am_ev_mremap_failed(old, old_len, new_addr);
	*err = saved;
	UNGUARD();
	am_ev_removal_end(removal);
	return r;
}

static long brk_call(long addr, long old, const void *caller, int *err)
{
	long now = am_sys_forward(SYS_brk, addr, 0, 0, 0, 0, 0);
	if (now != old) {
		int saved = *err;
		am_ev_brk((void *)old, (void *)now, caller);
		*err = saved;
	}
	return now;
}

static long do_brk(long addr, long old, const void *caller, int *err)
{
	/* asking (0) or growing takes nothing away: no query to wait for (a
	 * stream of them, reading other arenas, could keep it waiting) */
	if (!addr || addr >= old)
		return brk_call(addr, old, caller, err);
	GUARD((uintptr_t)addr, (uintptr_t)old); /* shrinking takes [addr, old) */
	long now = brk_call(addr, old, caller, err);
	UNGUARD();
	return now;
}

/* Every call is bracketed for the index (hook.h: a signal handler's call
 * nested in another is made good after it); errno survives the end. */
static void call_end(int *err)
{
	int saved = *err;
	am_ev_call_end();
	*err = saved;
}

long am_do_mmap(void *addr, size_t len, int prot, int flags, int fd, long off, const void *caller)
{
	uintptr_t lo = flags & MAP_FIXED ? (uintptr_t)addr : 0; /* else the kernel places it */
	am_ev_call_begin(lo, lo ? end_of(addr, len) : 0);
	int *err = &errno;
	long r = do_mmap(addr, len, prot, flags, fd, off, caller, err);
	call_end(err);
	return r;
}

long am_do_munmap(void *addr, size_t len)
{
	am_ev_call_begin((uintptr_t)addr, end_of(addr, len));
	int *err = &errno;
	long r = do_munmap(addr, len, err);
	call_end(err);
	return r;
}

long am_do_mprotect(void *addr, size_t len, int prot)
{
	am_ev_call_begin((uintptr_t)addr, end_of(addr, len));
	int *err = &errno;
	long r = do_mprotect(addr, len, prot, err);
	call_end(err);
	return r;
}

long am_do_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr, const void *caller)
{
	uintptr_t lo, hi;
	mremap_span(old, old_len, new_len, flags, new_addr, &lo, &hi);
	am_ev_call_begin(lo, hi);
	int *err = &errno;
	long r = do_mremap(old, old_len, new_len, flags, new_addr, caller, err);
	call_end(err);
	return r;
}

long am_do_brk(long addr, long old, const void *caller)
{
	/* what it can change: [addr, old) or [old, addr); nothing when asking (0) */
	long lo = addr && addr < old ? addr : old, hi = addr > old ? addr : old;
	am_ev_call_begin((uintptr_t)lo, (uintptr_t)hi);
	int *err = &errno;
	long r = do_brk(addr, old, caller, err);
	call_end(err);
	return r;
}
