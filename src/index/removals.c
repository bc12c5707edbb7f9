/* munmaps in flight: how a munmap makes its system call without the
 * index lock, and its event still comes in the order of the kernel's
 * changes. (mremap holds the lock across its system call: writer.c.)
 *
 * A munmap publishes its range in a slot from before its system call
 * until its event is in the index. Another thread's event that could put
 * a map where a munmap freed memory (any event but a plain unmap) waits,
 * before it takes the index lock, while a published munmap of another
 * thread overlaps its range: if the munmap freed what the event maps, the
 * kernel made the munmap's change first, so its event must come first
 * too (applied after, it would erase the new map). A munmap's event waits
 * only for the lock, so waits end. An mremap's event, which runs under
 * the lock, cannot wait for one: it applies the munmaps in flight over
 * its new range itself (once their system calls are made), and they then
 * skip their own (APPLIED); applied twice, a munmap's unmap is the same.
 * A walk of /proc/self/maps (resync.c) closes a gate and waits until no
 * munmap of another thread is inside its system call; a munmap that finds
 * the gate closed waits before its system call. So no munmap changes the
 * maps under a walk (one made before it is applied again after: a no-op).
 * What cannot wait does not, and has the maps re-read after the munmap's
 * event instead (resync_pending, or a slot's `redo`): a munmap with no
 * free slot, or that may not block (am_thread_may_block) while a walk is
 * on, goes ahead unpublished or uncounted; an event that may not block,
 * or waited too long, is dropped and marks the munmaps it waited for.
 * Invariant: `active` >= the slots not FREE; a slot in SYSCALL, DONE or
 * APPLIED holds [lo, hi) of its owner's munmap (&am_self of its thread);
 * `helped` counts the slots APPLIED.
 */
#include "../sys/syscall.h"
#include "../sys/thread.h"
#include "internal.h"
#include "../sys/page.h"

#define SLOTS 64
#define SPINS 256        /* pauses before yielding the CPU */
#define YIELDS (1 << 16) /* then yields before an event gives up */

/* A slot's states: a munmap before its system call (CLAIMED), inside it
 * or about to be (SYSCALL), after it (DONE), and applied by an mremap's
 * writer (APPLIED: its own event skips). */
enum { FREE, CLAIMED, SYSCALL, DONE, APPLIED };

/* A token's parts: the slot, or NOSLOT; FORCED: re-read after its event */
#define NONE (-1)
#define NOSLOT 0x80
#define FORCED 0x100
#define SLOT_MASK 0xff

static struct {
	uintptr_t lo, hi;
	const void *owner;
	int state;
	int redo; /* an event gave up waiting for it: re-read after its event */
} slots[SLOTS];
static unsigned active; /* munmaps published or being published */
static unsigned helped; /* slots APPLIED */
static int walking;     /* the gate: a walk of the maps is on */

static void wait_a_little(int *tries)
{
	if (++*tries < SPINS)
		__builtin_ia32_pause();
	else
		am_sys_sched_yield();
}

static int claim(uintptr_t lo, uintptr_t hi)
{
	__atomic_fetch_add(&active, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < SLOTS; i++) {
		int expect = FREE;
		if (__atomic_compare_exchange_n(&slots[i].state, &expect, CLAIMED, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			__atomic_store_n(&slots[i].lo, lo, __ATOMIC_RELAXED);
			__atomic_store_n(&slots[i].hi, hi > lo ? hi : lo + 1, __ATOMIC_RELAXED);
			__atomic_store_n(&slots[i].owner, (const void *)&am_self, __ATOMIC_RELAXED);
			__atomic_store_n(&slots[i].redo, 0, __ATOMIC_RELAXED);
			return i; /* published by the state's store (enter_syscall) */
		}
	}
	__atomic_fetch_sub(&active, 1, __ATOMIC_RELEASE);
	return NOSLOT;
}

/* Into its system call, past the gate: the token. With the gate closed a
 * thread that may not block goes ahead uncounted (FORCED). */
static int enter_syscall(int slot)
{
	if (slot == NOSLOT)
		return NOSLOT | FORCED;
	for (int tries = 0;;) {
		__atomic_store_n(&slots[slot].state, SYSCALL, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&walking, __ATOMIC_SEQ_CST))
			return slot;
		if (!am_thread_may_block())
			return slot | FORCED;
		__atomic_store_n(&slots[slot].state, CLAIMED, __ATOMIC_RELEASE);
		while (__atomic_load_n(&walking, __ATOMIC_ACQUIRE))
			wait_a_little(&tries);
	}
}

int am_index_munmap_begin(uintptr_t lo, uintptr_t hi)
{
	if (!am_ix.ready || am_self.ix_state != AM_IX_OUT)
		return NONE; /* before start-up, or re-entered: its event is dropped (writer.c) */
	am_self.ix_state = AM_IX_REMOVING;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return enter_syscall(claim(lo, hi));
}

void am_index_munmap_made(int token)
{
	if (token == NONE)
		return;
	if (token & FORCED)
		__atomic_store_n(&am_ix.resync_pending, 1, __ATOMIC_SEQ_CST);
	if ((token & SLOT_MASK) != NOSLOT)
		__atomic_store_n(&slots[token & SLOT_MASK].state, DONE, __ATOMIC_RELEASE);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_self.ix_state = AM_IX_OUT;
	am_thread_left();
}

void am_index_munmap_end(int token)
{
	int slot = token & SLOT_MASK;
	if (token == NONE || slot == NOSLOT)
		return;
	/* a mark set after this load comes from an event that gave up after
	 * this removal's event was in: its own re-read comes after it */
	int redo = __atomic_load_n(&slots[slot].redo, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&slots[slot].state, FREE, __ATOMIC_ACQ_REL) == APPLIED)
		__atomic_fetch_sub(&helped, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&active, 1, __ATOMIC_RELEASE);
	if (redo) { /* an event dropped for this munmap: re-read now that it is in */
		__atomic_store_n(&am_ix.resync_pending, 1, __ATOMIC_SEQ_CST);
		if (am_ix_begin() == 0)
			am_ix_end();
	}
}

static int mine(int i)
{
	return __atomic_load_n(&slots[i].owner, __ATOMIC_RELAXED) == (const void *)&am_self;
}

static int overlaps(int i, uintptr_t lo, uintptr_t hi)
{
	return lo < __atomic_load_n(&slots[i].hi, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&slots[i].lo, __ATOMIC_RELAXED) < hi;
}

/* Whether a munmap of another thread, made or being made, overlaps
 * [lo, hi); with mark, each such one is marked for a re-read. */
static int overlapped(uintptr_t lo, uintptr_t hi, int mark)
{
	int found = 0;
	for (int i = 0; i < SLOTS; i++) {
		int s = __atomic_load_n(&slots[i].state, __ATOMIC_SEQ_CST);
		if (s >= SYSCALL && !mine(i) && overlaps(i, lo, hi)) {
			found = 1;
			if (mark)
				__atomic_store_n(&slots[i].redo, 1, __ATOMIC_SEQ_CST);
		}
	}
	return found;
}

int am_ix_await_removals(uintptr_t lo, uintptr_t hi)
{
	if (!__atomic_load_n(&active, __ATOMIC_SEQ_CST))
		return 0; /* the common case: no munmap in flight */
	int may_wait = am_thread_may_block();
	for (int tries = 0; overlapped(lo, hi, 0); wait_a_little(&tries))
		if (!may_wait || tries >= SPINS + YIELDS) {
			overlapped(lo, hi, 1);
			return -1;
		}
	return 0;
}

void am_ix_help_removals(uintptr_t lo, uintptr_t hi)
{
	if (!__atomic_load_n(&active, __ATOMIC_SEQ_CST))
		return;
	for (int i = 0, tries = 0; i < SLOTS; i++) {
		int s;
		while ((s = __atomic_load_n(&slots[i].state, __ATOMIC_SEQ_CST)) == SYSCALL && !mine(i) &&
		       overlaps(i, lo, hi))
			wait_a_little(&tries);
		/* APPLIED, the slot is its owner's until its end: its range read
		 * again then is that munmap's */
		if (s == DONE && !mine(i) && overlaps(i, lo, hi) &&
		    __atomic_compare_exchange_n(&slots[i].state, &s, APPLIED, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_fetch_add(&helped, 1, __ATOMIC_RELAXED);
			am_ix_unmap(am_page_down(__atomic_load_n(&slots[i].lo, __ATOMIC_RELAXED)),
				    am_page_up(__atomic_load_n(&slots[i].hi, __ATOMIC_RELAXED)));
		}
	}
}

/* A handler's munmap on a thread between its own munmap's system call
 * and its end has a slot of its own, over another range (over the same
 * range, its event is dropped: writer.c). */
int am_ix_removal_applied(uintptr_t lo, uintptr_t hi)
{
	if (!__atomic_load_n(&helped, __ATOMIC_RELAXED))
		return 0;
	for (int i = 0; i < SLOTS; i++)
		if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) == APPLIED && mine(i) &&
		    __atomic_load_n(&slots[i].lo, __ATOMIC_RELAXED) == lo &&
		    __atomic_load_n(&slots[i].hi, __ATOMIC_RELAXED) == (hi > lo ? hi : lo + 1))
			return 1;
	return 0;
}

void am_ix_walk_begin(void)
{
	__atomic_store_n(&walking, 1, __ATOMIC_SEQ_CST);
	for (int i = 0, tries = 0; i < SLOTS; i++)
		while (__atomic_load_n(&slots[i].state, __ATOMIC_SEQ_CST) == SYSCALL && !mine(i))
			wait_a_little(&tries);
}

void am_ix_walk_end(void) { __atomic_store_n(&walking, 0, __ATOMIC_RELEASE); }

void am_ix_removals_reset_child(void)
{
	for (int i = 0; i < SLOTS; i++)
		slots[i].state = FREE, slots[i].redo = 0;
	active = helped = 0;
	walking = 0;
}
