/* The interception layer: how address-space events reach the index.
 *
 * am_hook_install() rewrites the entries of glibc's mmap, munmap, mremap,
 * mprotect, brk and sbrk (the very functions glibc's malloc, arena code
 * and pthread stacks call internally) to jump to the am_hook_* functions
 * below, the loader's debugger hook _dl_debug_state to
 * am_hook_dl_debug_state, and ld.so's private copies of mmap, munmap and
 * mprotect (found by their bytes: ld.so has no symbols for them) to
 * am_hook_ldso_*. Each am_hook_* replacement makes the system
 * call itself (src/sys/syscall.h), reproduces glibc 2.36's result and
 * errno exactly, and on success only reports the change through the
 * am_ev_* contract, with errno saved and restored around the report.
 *
 * The contract they report through, am_ev_*, is the index's
 * (src/index/events.h).
 */
#ifndef AM_HOOK_HOOK_H
#define AM_HOOK_HOOK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../heap/heap.h"
#include "../index/events.h"

/* ld.so's own mapping calls (dlopen's and dlclose's segments, the RELRO
 * mprotect, /etc/ld.so.cache, execstack) reach the same am_ev_* once
 * am_hook_ldso_install has patched them; their caller (for am_ev_mmap)
 * is then a return address inside ld.so's text, never NULL. Most come
 * from inside dlopen/dlclose with the loader's lock held; the mprotect
 * of __nptl_change_stack_perm (pthread_create in a process whose stacks
 * were made executable) comes without it. */

/* ---- install.c ---- */

/* Resolves and patches the six libc functions, the loader hook and
 * ld.so's three private mapping wrappers (the last is best effort).
 * Call once at start-up, while single-threaded, after the index can take
 * events. Returns 0 (also on a repeated call) or the first error, a
 * negative errno, after logging it. Not async-signal-safe. */
int am_hook_install(void);

/* ---- loader.c ---- */

/* Patches ld.so's _dl_debug_state to call am_hook_dl_debug_state.
 * Returns 0 or a negative errno (logged). Called by am_hook_install. */
int am_hook_loader_install(void);
/* The replacement of _dl_debug_state: calls am_ev_loader() when every
 * namespace's r_debug is RT_CONSISTENT. */
void am_hook_dl_debug_state(void);

/* ---- exitcode.c ---- */

/* From now on, the process ends with `status` where it would end with 0
 * (libc's _exit patched; see exitcode.c). 0 or a negative errno. For the
 * library's destructor; other threads may still run. */
int am_hook_exit_status(int status);

/* ---- ldso.c: ld.so's private mmap/munmap/mprotect ---- */

/* What am_hook_ldso_find learnt about the running ld.so. */
struct am_ldso_info {
	uint8_t *fn[3];			/* entries of __mmap, __munmap, __mprotect */
	int *rtld_errno;		/* ld.so's private errno, which they set */
	uintptr_t text_lo, text_hi;	/* its executable segment */
	uintptr_t data_lo, data_hi;	/* its writable segment */
	uintptr_t relro_hi;		/* end of its PT_GNU_RELRO */
	unsigned unseen_sites;		/* mapping syscalls outside fn[] (logged) */
};

/* Finds the three wrappers by their exact glibc 2.36 bytes (see ldso.c);
 * patches nothing. 0 and *out filled, or a negative errno after logging
 * why ld.so is not the one we know. The result is cached. */
int am_hook_ldso_find(struct am_ldso_info *out);
/* Only the text and data ranges of *out, from ld.so's program headers
 * (whatever its build). 0, or a negative errno after logging why. */
int am_hook_ldso_text(struct am_ldso_info *out);
/* Finds them and patches them to am_hook_ldso_*. 0 (also when already
 * patched) or a negative errno (logged). Called by am_hook_install, which
 * survives its failure: the loader hook's resync then covers dlopen. */
int am_hook_ldso_install(void);
/* The replacements: ld.so's semantics (errno goes to ld.so's private
 * rtld_errno, never the thread's errno), plus the am_ev_* report. */
void *am_hook_ldso_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int am_hook_ldso_munmap(void *addr, size_t len);
int am_hook_ldso_mprotect(void *addr, size_t len, int prot);

/* ---- mapcalls.c: the replacements (glibc 2.36 semantics) ---- */

void *am_hook_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int am_hook_munmap(void *addr, size_t len);
void *am_hook_mremap(void *old, size_t old_len, size_t new_len, int flags, ...);
int am_hook_mprotect(void *addr, size_t len, int prot);
int am_hook_brk(void *addr);
void *am_hook_sbrk(intptr_t increment);
/* Tells brk/sbrk where libc's __curbrk lives; must precede patching
 * them. The replacements keep it exactly as glibc's brk does. */
void am_hook_set_curbrk(void **curbrk);

/* mapcore.c: the shared core of every replacement. Makes the system
 * call, reports the event on success (errno preserved), returns the
 * kernel's raw result. */
long am_do_mmap(void *addr, size_t len, int prot, int flags, int fd, long off, const void *caller);
long am_do_munmap(void *addr, size_t len);
long am_do_mprotect(void *addr, size_t len, int prot);
long am_do_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr, const void *caller);
/* brk, the break being at old: the kernel's answer (the new break),
 * reported when it moved. */
long am_do_brk(long addr, long old, const void *caller);

/* forward.c: finds the malloc the interposed family forwards to (the next
 * object after allocmap that defines malloc), fills am_real and publishes
 * the heap mode. Idempotent, allocates nothing. */
enum am_heap_mode am_hook_resolve_malloc(void);

/* rawsyscall.c: the replacement of libc's syscall(). */
long am_hook_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

/* interpose.c, for the other allocating entry points (cxxnew.c,
 * wrappers.c): malloc and memalign with the site given, exact in
 * semantics (errno); resite: chunk p, which our malloc family just made
 * on a path inside libc or libstdc++, belongs to site (glibc mode only:
 * another malloc's chunk keeps the site it was made at). */
void *am_malloc_at(size_t n, const void *site);
void *am_memalign_at(size_t align, size_t n, const void *site);
void am_resite(void *p, const void *site);

/* exitcalls.c: exit, _exit, _Exit and execve are interposed to tell fn
 * how the process is about to end (enum allocmap_live_end: EXIT with the
 * status passed to exit, before the destructors; _EXIT; EXEC, and
 * RUNNING again if the execve failed), then do as libc does. Set once at
 * start-up; fn must be async-signal-safe (_exit may be called from a
 * handler or a vfork child). */
void am_hook_on_end(void (*fn)(unsigned reason, int status));
/* Tells that function (if set) of an end, errno kept. (In a vfork child
 * the live file's end is left alone by am_live_mine, report/live.h.) */
void am_hook_tell_end(unsigned reason, int status);
/* The process whose memory the library's state is: set at start-up and
 * in a fork child. A vfork child (posix_spawn's, Python's subprocess)
 * runs on its parent's memory until it execs or exits: its sigaction
 * calls must not change the parent's record of its actions. 1 in such a
 * child (a getpid system call). */
void am_hook_owner_set(void);
int am_hook_in_shared_child(void);

/* fatal.c: the library's handler on every fatal-by-default signal whose
 * action is the default (SA_RESETHAND), telling the end (reason
 * ALLOCMAP_END_SIGNAL, status: the signal) before the signal's default
 * action happens as it would have. Once, at start-up, after
 * am_hook_on_end. */
void am_hook_fatal_install(void);

/* sigactions.c: the interposed sigaction family (see there). From now
 * on, handler is the kernel's action wherever the program's is SIG_DFL
 * on a signal of set (bit sig), put there now where it is. */
void am_hook_sig_fatal(void (*handler)(int, siginfo_t *, void *), uint64_t set);
/* syscall(SYS_rt_sigaction, ...): sigaction with the kernel's structs
 * (sys/signal.h); 0 or a negative errno. */
struct am_sigaction;
long am_hook_raw_sigaction(int sig, const struct am_sigaction *kact, struct am_sigaction *kold, size_t setsize);

#endif
