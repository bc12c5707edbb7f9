/* Text patching: redirect a function's entry to a handler.
 *
 * A patched entry holds one of three jumps, the shortest that fits:
 *   rel    e9 rel32                     5 bytes, handler within +-2 GiB
 *   abs    49 bb imm64; 41 ff e3        13 bytes: movabs $handler,%r11;
 *                                       jmp *%r11 (r11 is scratch at a
 *                                       SysV function entry)
 *   tramp  e9 rel32 to a 16-byte slot   5 bytes, the slot holds an abs
 *          in a page we map near fn     jump; used when fewer than 13
 *                                       bytes fit and handler is far
 * The handler runs with the caller's arguments, stack and return
 * address, exactly as if it had been called instead of fn; the original
 * body never runs again. The bytes that may be overwritten ("room") are
 * the symbol's st_size plus the nop/int3 padding that follows it up to
 * the next 16-byte boundary (compilers align functions to 16, and fill
 * the gap with padding that nothing jumps into).
 *
 * No page is ever writable and executable, even for an instant (systems
 * that deny W+X refuse it, and a window is a window): text is written
 * through /proc/self/mem, which changes no protection; where the kernel
 * refuses that, a page is made read-write (not executable) while it is
 * written, then given its protection back — safe only while no other
 * thread runs code in it, which start-up is (patch.c).
 * Only raw system calls are used; nothing allocates; every call is
 * serialised by one lock.
 *
 * Concurrency: patching is meant for start-up, before the program's
 * threads run. Even so, a 5-byte jump inside one aligned quadword is
 * written with one atomic store, and a longer one is written behind a
 * two-byte self-loop (eb fe) so a thread entering fn meanwhile spins
 * rather than runs half an instruction. A thread stopped *inside* the
 * overwritten bytes (e.g. at a return address after a syscall in them)
 * would resume in the middle of the jump: that is why start-up is the
 * supported time.
 *
 * Trampoline pages are reported to the index with am_ev_mmap(caller NULL).
 */
#ifndef AM_HOOK_PATCH_H
#define AM_HOOK_PATCH_H

#include <stddef.h>

#define AM_PATCH_REL_LEN 5

/* Around a batch of patches (start-up's): /proc/self/mem is opened once
 * for all of them, and closed at the end (one descriptor meanwhile). */
void am_patch_batch_begin(void);
void am_patch_batch_end(void);
#define AM_PATCH_ABS_LEN 13

/* Redirects fn to handler; fn must be a function with a dynamic symbol
 * (its size comes from am_elf_symbol_at). Returns 0 (also when fn already
 * jumps to handler), or a negative errno, after logging why:
 *   -EINVAL  fn or handler NULL;
 *   -ENOENT  no dynamic symbol starts at fn, so its size is unknown;
 *   -EFAULT  fn is not in a readable, executable mapping;
 *   -ENOSPC  the room at fn is shorter than the shortest usable jump;
 *   -ENOMEM  a trampoline was needed and no page near fn could be mapped;
 *   other    an mprotect failure (the page's protection is restored). */
int am_patch_jump(void *fn, void *handler);

/* The same with the caller vouching that size bytes at fn belong to the
 * function (its symbol size); size 0 is refused with -ENOSPC. */
int am_patch_jump_sized(void *fn, size_t size, void *handler);

/* Makes the call instruction at site (e8 rel32) call handler instead:
 * directly when within +-2 GiB, else through a trampoline slot near
 * site (the slot's abs jump clobbers r11, which no call preserves).
 * 0, or a negative errno after logging why (-EINVAL: site is not a call
 * in executable memory). */
int am_patch_call(void *site, void *handler);

/* The bytes at fn that a patch may overwrite, given the function's size:
 * size plus the verified padding after it. fn must be readable text. */
size_t am_patch_room(const void *fn, size_t size);

/* 1 if fn's entry already holds one of our jumps leading to handler
 * (directly or through a trampoline), else 0. fn must be readable. */
int am_patch_is_jump_to(const void *fn, const void *handler);

#endif
