/* Allocation stacks in the live file (ALLOCMAP_STACK=N, allocmap_live.h
 * "Stacks"): each allocation's caller's stack, up to N frames, interned
 * as a site row keyed by a hash of its frames.
 *
 * The row's key (ALLOCMAP_LIVE_STACK_KEY | 47 bits of the hash) is what
 * the chunk's trailer keeps as its site, so a free finds the row as in
 * the default mode; allocmap_query and the leak check see frame 0 (the
 * allocating call, as without stacks: am_stack_site). Frames are written
 * once per row by whoever finds frame 0 still empty; two threads
 * interning the same stack write the same words. A stack whose row
 * cannot be had (the table full) counts in row 0, keyed as a stack: its
 * frames are lost, its site too (am_stack_site answers NULL).
 *
 * The stack's top, per thread: the end of the map holding the thread's
 * stack pointer (the index: one protection throughout, so no guard page
 * inside), cached while the stack pointer stays inside it. Context: the malloc family, any thread, no lock.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "../index/mapindex.h"
#include "../sys/unwind.h"
#include "livestats.h"

static __thread uintptr_t stack_lo, stack_hi;

/* The top of the current thread's stack (0: unknown). */
static uintptr_t stack_top(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	struct am_map_view v;
	if (sp - stack_lo < stack_hi - stack_lo)
		return stack_hi;
	for (int tries = 0; tries < 4; tries++) {
		unsigned t = am_index_read_begin();
		int found = am_index_lookup_at(sp, t, &v) == 0;
		if (am_index_read_retry(t))
			continue;
		if (found && (v.prot & PROT_READ)) {
			stack_lo = v.lo, stack_hi = v.hi;
			return v.hi;
		}
		break;
	}
	/* the main thread's stack grew past what the index knows: its top stays */
	return sp < stack_hi && stack_hi - sp < ((uintptr_t)1 << 30) ? stack_hi : 0;
}

static uint64_t key_of(const uintptr_t *f, int n)
{
	uint64_t h = 0x84222325CBF29CE4ull;
	for (int i = 0; i < n; i++)
		h = (h ^ f[i]) * 0x100000001B3ull ^ (h >> 29);
	h &= ALLOCMAP_LIVE_STACK_KEY - 1;
	return ALLOCMAP_LIVE_STACK_KEY | (h ? h : 1);
}

static void put_frames(struct allocmap_live *L, struct allocmap_live_site *row, const uintptr_t *f, int n)
{
	uint64_t *to = allocmap_live_frames(L, (uint32_t)(row - L->site));
	if (__atomic_load_n(&to[0], __ATOMIC_ACQUIRE))
		return;
	for (int i = 1; i < n; i++)
		__atomic_store_n(&to[i], f[i], __ATOMIC_RELAXED);
	__atomic_store_n(&to[0], f[0], __ATOMIC_RELEASE);
}

struct allocmap_live_site *am_stack_row(struct allocmap_live *L, const void **site)
{
	uintptr_t f[ALLOCMAP_LIVE_MAX_DEPTH], hi = stack_top();
	int n = am_unwind(f, (int)L->header.stack_depth, (uintptr_t)*site, hi ? hi : (uintptr_t)&f[0]);
	uint64_t key = key_of(f, n);
	struct allocmap_live_site *row = am_site_row(L, (const void *)(uintptr_t)key, 1);
	*site = (const void *)(uintptr_t)key;
	if (row != &L->site[0])
		put_frames(L, row, f, n);
	return row;
}

const void *am_stack_site(const void *site)
{
	struct allocmap_live *L = __atomic_load_n(&am_live, __ATOMIC_ACQUIRE);
	if (!((uintptr_t)site & ALLOCMAP_LIVE_STACK_KEY) || !L || !L->header.stack_depth)
		return site;
	struct allocmap_live_site *row = am_site_row(L, site, 0);
	if (row == &L->site[0])
		return NULL;
	return (const void *)(uintptr_t)__atomic_load_n(allocmap_live_frames(L, (uint32_t)(row - L->site)),
							 __ATOMIC_ACQUIRE);
}
