/* The event contract: how the interception layer (src/hook/) tells the
 * mapping index of each change to the address space. Declared here, by
 * the index that defines it (events.c); the hooks call it.
 *
 * Called after the change happened, on success only, from the thread
 * that made it, possibly inside malloc (with an arena lock held), inside
 * pthread_create, inside dlopen (with the loader's lock held) or in a
 * signal handler. They therefore must not call malloc, stdio, dlopen,
 * dlsym, or any libc mapping function (which would re-enter these
 * hooks); they may clobber errno (the hook restores it). caller is the
 * return address into the code that called the libc function (for brk
 * via sbrk: sbrk's caller), or NULL for the library's own mappings.
 */
#ifndef AM_INDEX_EVENTS_H
#define AM_INDEX_EVENTS_H

#include <stddef.h>
#include <stdint.h>

/* What the index counts: each kind of event applied, then the events it
 * dropped (to be made good by a re-read) and the re-reads of the maps. */
enum am_event {
	AM_EV_MMAP,
	AM_EV_MUNMAP,
	AM_EV_MPROTECT,
	AM_EV_MREMAP,
	AM_EV_BRK,
	AM_EV_LOADER,
	AM_EV_DROPPED,
	AM_EV_RESYNC,
	AM_EV_COUNT
};

/* A successful mmap: addr is the result, the rest are the arguments. */
void am_ev_mmap(void *addr, size_t len, int prot, int flags, int fd, long off, const void *caller);
/* A successful munmap of [addr, addr + len) (possibly partly unmapped). */
void am_ev_munmap(void *addr, size_t len);
/* A successful mremap: new_addr is the result (== old if not moved);
 * with MREMAP_DONTUNMAP the old range stays mapped (emptied). */
void am_ev_mremap(void *old, size_t old_len, void *new_addr, size_t new_len, int flags,
		  const void *caller);
/* A failed MREMAP_FIXED move of old_len bytes to new_addr: over several
 * mappings (kernels 6.17+) the kernel may have moved some before it
 * failed. */
void am_ev_mremap_failed(void *old, size_t old_len, void *new_addr);
/* A successful mprotect of [addr, addr + len). */
void am_ev_mprotect(void *addr, size_t len, int prot);
/* A failed mprotect (ENOMEM: [addr, addr + len) has a hole): the kernel
 * changed every mapping from addr up to the first hole. */
void am_ev_mprotect_partial(void *addr, size_t len, int prot);
/* The program break moved from old_end to new_end (either direction). */
void am_ev_brk(void *old_end, void *new_end, const void *caller);
/* The loader's link map just became consistent after a change (dlopen,
 * dlclose, in any namespace): the index resynchronises. Called with the
 * loader's lock held. After a dlopen the new objects are mapped but not
 * yet relocated: ld.so will then mprotect each PT_GNU_RELRO range to
 * PROT_READ, and unmap /etc/ld.so.cache; with ld.so's wrappers patched
 * (ldso.c) those arrive as am_ev_mprotect / am_ev_munmap after this. */
void am_ev_loader(void);
/* Who else hears of loader changes (the live file's module table): fn
 * runs after the index resynchronised, in the same context. Set once at
 * start-up. */
void am_ev_on_loader(void (*fn)(void));
/* Bracket every mapping call: begin before anything else, with the range
 * the call may change (empty for a mapping the kernel places), end last.
 * A call nested in another of the same thread (a signal handler's)
 * reports as usual; if it touches that range the index drops its event
 * and re-reads the maps when the outer call ends (it may come between the
 * outer call's system call and its report: applied then, it would come
 * before the change it followed). */
void am_ev_call_begin(uintptr_t lo, uintptr_t hi);
void am_ev_call_end(void);
/* Bracket a removal (munmap, mremap): begin before its system call, end
 * after its am_ev_* report (or its failure). See am_index_hold. */
int am_ev_removal_begin(void);
void am_ev_removal_end(int token); /* token: what begin returned */

#endif
