/* Replacements for glibc's mapping calls: see hook.h for the contract.
 *
 * Each function is entered by a jump from the patched libc entry, so the
 * stack holds the libc caller's return address: __builtin_return_address
 * (0) is "who called mmap". Each reproduces glibc 2.36 (Debian 2.36-9)
 * exactly, read from its disassembly:
 *   mmap     offset & 0xfff != 0 -> EINVAL without a system call;
 *   mremap   flags outside MAYMOVE|FIXED|DONTUNMAP -> EINVAL without a
 *            system call; the variadic new_address is read only when
 *            flags has MREMAP_FIXED or MREMAP_DONTUNMAP, else 0 is passed;
 *   brk      stores the kernel's answer in __curbrk, fails with ENOMEM
 *            when it is below the request;
 *   sbrk     __curbrk NULL -> brk(0) first; 0 -> __curbrk; wrapping
 *            increment -> ENOMEM; else brk(old + increment), returns old
 *            (the primary libc's path: __libc_initial is true there);
 *   others   -errno from the kernel -> errno, -1 / MAP_FAILED.
 * On success errno is untouched, also across the am_ev_* report.
 *
 * State: curbrk, set once before brk/sbrk are patched. __curbrk is read
 * and written without a lock, as glibc does (malloc serialises its own
 * sbrk calls under the main arena's lock). libc's span, read once with
 * it: a brk call from inside it is malloc's, whose site the heap index
 * keeps (am_heap_brk_site).
 */
#include <errno.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>

#include "../heap/heap.h"
#include "../index/mapindex.h"
#include "../sys/syscall.h"
#include "hook.h"

#define MMAP_OFF_LOW_MASK 0xfffL
#define MREMAP_VALID_FLAGS (MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)

_Static_assert(MREMAP_VALID_FLAGS == 7, "glibc 2.36 accepts mremap flags 0..7");

static void **curbrk;
static uintptr_t libc_lo, libc_hi; /* libc's span: __curbrk lies in it */

void am_hook_set_curbrk(void **p)
{
	curbrk = p;
	if (!am_index_seq_at((uintptr_t)p, &libc_lo, &libc_hi))
		libc_lo = libc_hi = 0;
}

/* A brk growth from inside libc is malloc's (morecore is its one caller). */
static void note_malloc_site(const void *caller)
{
	if ((uintptr_t)caller - libc_lo < libc_hi - libc_lo)
		__atomic_store_n(&am_heap_brk_site, caller, __ATOMIC_RELAXED);
}

static void *fail_ptr(long err)
{
	errno = (int)err;
	return MAP_FAILED;
}

static int fail_int(long err)
{
	errno = (int)err;
	return -1;
}

void *am_hook_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	const void *caller = __builtin_return_address(0);
	if (off & MMAP_OFF_LOW_MASK)
		return fail_ptr(EINVAL);
	long r = am_do_mmap(addr, len, prot, flags, fd, off, caller);
	return am_sys_failed(r) ? fail_ptr(-r) : (void *)r;
}

int am_hook_munmap(void *addr, size_t len)
{
	long r = am_do_munmap(addr, len);
	return am_sys_failed(r) ? fail_int(-r) : 0;
}

int am_hook_mprotect(void *addr, size_t len, int prot)
{
	long r = am_do_mprotect(addr, len, prot);
	return am_sys_failed(r) ? fail_int(-r) : 0;
}

void *am_hook_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	const void *caller = __builtin_return_address(0);
	void *new_addr = NULL;
	if ((unsigned)flags & ~(unsigned)MREMAP_VALID_FLAGS)
		return fail_ptr(EINVAL);
	if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {
		va_list ap;
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	long r = am_do_mremap(old, old_len, new_len, flags, new_addr, caller);
	return am_sys_failed(r) ? fail_ptr(-r) : (void *)r;
}

/* brk with the caller to report; see the header comment for semantics. */
static int brk_from(void *addr, const void *caller)
{
	void *old = *curbrk;
	if (!old)
		old = (void *)am_sys_forward(SYS_brk, 0, 0, 0, 0, 0, 0);
	note_malloc_site(caller);
	void *now = (void *)am_do_brk((long)addr, (long)old, caller);
	*curbrk = now;
	return (uintptr_t)now < (uintptr_t)addr ? fail_int(ENOMEM) : 0;
}

int am_hook_brk(void *addr)
{
	return brk_from(addr, __builtin_return_address(0));
}

static int sbrk_wraps(uintptr_t old, intptr_t inc)
{
	return inc > 0 ? old + (uintptr_t)inc < old : old < -(uintptr_t)inc;
}

void *am_hook_sbrk(intptr_t increment)
{
	const void *caller = __builtin_return_address(0);
	if (!*curbrk && brk_from(NULL, caller) < 0)
		return (void *)-1;
	if (increment == 0)
		return *curbrk;
	void *old = *curbrk;
	if (sbrk_wraps((uintptr_t)old, increment)) {
		errno = ENOMEM;
		return (void *)-1;
	}
	if (brk_from((char *)old + increment, caller) < 0)
		return (void *)-1;
	return old;
}
