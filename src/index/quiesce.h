/* A handshake between the heap index's readers, which load chunk headers
 * and trailers from the program's arenas, and the mapping calls that can
 * take memory away (munmap, mprotect, mremap, MAP_FIXED mmap, a shrinking
 * brk), so that a query never touches memory being unmapped.
 *
 * A mapping call publishes the range it changes, then waits until no
 * reader is inside (reads are a few loads long). A reader announces
 * itself, then reads only if no published range overlaps the arena it
 * reads from; otherwise it steps back, waits unannounced until that is
 * no longer so (announced, it would keep the call waiting for it: a few
 * threads querying an arena being trimmed held the trims for seconds),
 * and retries. With sequentially consistent atomics on both sides one
 * always sees the other. Readers wait only for calls on their own arena,
 * so unrelated mapping traffic never starves them; a call waits for an
 * instant with no reader inside, which queries on other arenas, one
 * after another, can delay (calls that take nothing away, brk growth
 * and mmap without MAP_FIXED, do not wait).
 * While the process has one thread no other thread can unmap, so readers
 * skip the announcement.
 * Async-signal-safe: a reader on a thread that is itself inside a mapping
 * call (a signal handler interrupted it) gives up at once, and a reader
 * gives up after a bounded wait; giving up means answering at the mapping
 * level. An unmap in a handler that interrupted a read on its own thread
 * cannot wait for that read (it would wait for itself): if it takes away
 * the very memory the read was about to load, the read faults. Nor can it
 * tell whether a read it interrupted is counted yet: caught between its
 * two announcements (to its thread, then to all), it waits for all the
 * other threads' readers but one. That, and calls the hooks do not see
 * (inline syscall instructions), are outside this guarantee.
 * A mapping call waits for readers while it may hold the index lock, so a
 * handler's mapping call on a thread inside a read never waits for that
 * lock: its change is dropped and made good by a later re-read
 * (index/mapindex.c), and a query it makes does not wait for a writer
 * (index/lookup.c). Not solved: a handler that interrupts a read and
 * blocks on a lock another thread holds while it unmaps (glibc's arena
 * lock, taken by a free that trims the heap) deadlocks with that thread;
 * so do handlers that unmap on two threads each inside a read, each
 * waiting for the other's read (prog_lifecycle sigpark).
 */
#ifndef AM_INDEX_QUIESCE_H
#define AM_INDEX_QUIESCE_H

#include <stdint.h>
#include <sys/single_threaded.h>

#include "../sys/thread.h"

/* Around a mapping call that may remove access to [lo, hi). */
int am_quiesce_unmap_begin(uintptr_t lo, uintptr_t hi);
void am_quiesce_unmap_end(int ticket);

int am_quiesce_read_begin_threaded(uintptr_t lo, uintptr_t hi);
void am_quiesce_read_end_threaded(void);

/* Around a reader's loads from the arena [lo, hi): begin returns 0 when
 * the reader may load (then it must call end), -1 when it must not.
 * Inline: the single-threaded case is two loads. */
static inline int am_quiesce_read_begin(uintptr_t lo, uintptr_t hi)
{
	if (am_self.in_unmap)
		return -1; /* a handler interrupted this thread's own mapping call */
	if (__libc_single_threaded)
		return 0; /* no other thread can unmap: no announcement needed */
	return am_quiesce_read_begin_threaded(lo, hi);
}

static inline void am_quiesce_read_end(void)
{
	if (am_self.in_read)
		am_quiesce_read_end_threaded();
}

/* In a forked child: the parent's other threads, which may have been
 * counted in, do not exist here. */
void am_quiesce_reset_child(void);

#endif
