/* The reader/unmapper handshake: see quiesce.h.
 * Invariant: a slot with hi != 0 holds a mapping call in flight over
 * [lo, hi); `wide` counts calls in flight that found no free slot (they
 * block every reader); `active` counts all calls in flight (it is raised
 * before a slot is filled, so a reader that sees it zero can skip the
 * slots); the readers inside are counted in STRIPES counters, a thread
 * always in the same one (by its TLS address), each on its own cache
 * line, so that threads querying at once do not contend for one line; a
 * thread's in_read counts the reads it is inside (a query in a signal
 * handler can nest in one).
 */
#include "quiesce.h"

#define SLOTS 64
#define READ_TRIES (1 << 16)

static struct {
	uintptr_t lo, hi;
	int used;
} slots[SLOTS];
#define STRIPES 16

static struct {
	unsigned n;
} __attribute__((aligned(64))) readers[STRIPES];
static unsigned wide, active; /* active: calls in flight, slotted or wide */

/* This thread's readers counter: TLS blocks lie apart by at least a page. */
static unsigned *my_readers(void)
{
	uint64_t h = ((uint64_t)(uintptr_t)&am_self >> 12) * 0x9E3779B97F4A7C15ull;
	return &readers[h >> 60].n;
}

/* Whether a reader other than this thread's own (in_read) is inside. */
static int readers_inside(void)
{
	unsigned *mine = my_readers();
	for (int i = 0; i < STRIPES; i++)
		if (__atomic_load_n(&readers[i].n, __ATOMIC_SEQ_CST) > (&readers[i].n == mine ? (unsigned)am_self.in_read : 0))
			return 1;
	return 0;
}

static int claim(uintptr_t lo, uintptr_t hi)
{
	for (int i = 0; i < SLOTS; i++) {
		int expect = 0;
		if (__atomic_compare_exchange_n(&slots[i].used, &expect, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			__atomic_store_n(&slots[i].lo, lo, __ATOMIC_SEQ_CST);
			__atomic_store_n(&slots[i].hi, hi, __ATOMIC_SEQ_CST);
			return i;
		}
	}
	__atomic_fetch_add(&wide, 1, __ATOMIC_SEQ_CST);
	return -1;
}

#define ALONE (-2) /* the ticket of a call made while the process had one thread */

int am_quiesce_unmap_begin(uintptr_t lo, uintptr_t hi)
{
	am_self.in_unmap++;
	/* one thread: no other thread's reader to publish to or wait for (a
	 * reader skips its announcement then, quiesce.h; only this thread,
	 * inside this call, could start another) */
	if (__libc_single_threaded)
		return ALONE;
	__atomic_fetch_add(&active, 1, __ATOMIC_SEQ_CST);
	int ticket = claim(lo, hi > lo ? hi : lo + 1);
	/* not counting a read this thread is in (a handler unmapping while it
	 * interrupted a query here would otherwise wait for itself) */
	while (readers_inside())
		__builtin_ia32_pause();
	return ticket;
}

/* Takes back what am_quiesce_unmap_begin published under ticket. */
static void withdraw(int ticket)
{
	if (ticket < 0) {
		__atomic_fetch_sub(&wide, 1, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&slots[ticket].hi, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&slots[ticket].used, 0, __ATOMIC_RELEASE);
	}
	__atomic_fetch_sub(&active, 1, __ATOMIC_RELEASE);
}

void am_quiesce_unmap_end(int ticket)
{
	if (ticket != ALONE)
		withdraw(ticket);
	am_self.in_unmap--;
	am_thread_left();
}

static int overlaps_call(uintptr_t lo, uintptr_t hi)
{
	if (!__atomic_load_n(&active, __ATOMIC_SEQ_CST))
		return 0; /* the common case: no mapping call in flight */
	if (__atomic_load_n(&wide, __ATOMIC_SEQ_CST))
		return 1;
	for (int i = 0; i < SLOTS; i++) {
		uintptr_t h = __atomic_load_n(&slots[i].hi, __ATOMIC_SEQ_CST);
		if (h && lo < h && __atomic_load_n(&slots[i].lo, __ATOMIC_SEQ_CST) < hi)
			return 1;
	}
	return 0;
}

/* A reader that finds a call in flight on its arena waits for it
 * uncounted (quiesce.h). */
int am_quiesce_read_begin_threaded(uintptr_t lo, uintptr_t hi)
{
	unsigned *mine = my_readers();
	for (int i = 0; i < READ_TRIES; i++) {
		am_self.in_read++;
		__atomic_fetch_add(mine, 1, __ATOMIC_SEQ_CST);
		if (!overlaps_call(lo, hi))
			return 0;
		__atomic_fetch_sub(mine, 1, __ATOMIC_RELEASE);
		am_self.in_read--;
		while (overlaps_call(lo, hi) && ++i < READ_TRIES)
			__builtin_ia32_pause();
	}
	return -1;
}

void am_quiesce_read_end_threaded(void)
{
	__atomic_fetch_sub(my_readers(), 1, __ATOMIC_RELEASE);
	am_self.in_read--;
	am_thread_left();
}

void am_quiesce_reset_child(void)
{
	for (int i = 0; i < SLOTS; i++)
		slots[i].hi = 0, slots[i].used = 0;
	for (int i = 0; i < STRIPES; i++)
		readers[i].n = 0;
	wide = active = 0;
	am_self.in_unmap = am_self.in_read = 0;
}
