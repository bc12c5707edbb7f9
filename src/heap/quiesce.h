/* A handshake between the heap index's readers, which load chunk headers
 * and trailers from the program's arenas, and the mapping calls that can
 * take memory away (munmap, mprotect, mremap, MAP_FIXED mmap, a shrinking
 * brk), so that a query never touches memory being unmapped.
 *
 * A mapping call publishes the range it changes, then waits until no
 * reader is inside (reads are a few loads long). A reader announces
 * itself, then reads only if no published range overlaps the arena it
 * reads from; otherwise it steps back and retries. With sequentially
 * consistent atomics on both sides one always sees the other. Readers
 * wait only for calls on their own arena, so unrelated mapping traffic
 * never starves them.
 * While the process has one thread no other thread can unmap, so readers
 * skip the announcement (a handler's unmap is caught by the reader's index
 * ticket check).
 * Async-signal-safe: a reader on a thread that is itself inside a mapping
 * call (a signal handler interrupted it) gives up at once, an unmap in a
 * handler that interrupted a read does not wait for that read, and a
 * reader gives up after a bounded wait; giving up means answering at the
 * mapping level. Calls the hooks do not see (inline syscall instructions) are
 * outside this guarantee.
 */
#ifndef AM_HEAP_QUIESCE_H
#define AM_HEAP_QUIESCE_H

#include <stdint.h>

/* Around a mapping call that may remove access to [lo, hi). */
int am_quiesce_unmap_begin(uintptr_t lo, uintptr_t hi);
void am_quiesce_unmap_end(int ticket);

/* Around a reader's loads from the arena [lo, hi): begin returns 0 when
 * the reader may load (then it must call end), -1 when it must not. */
int am_quiesce_read_begin(uintptr_t lo, uintptr_t hi);
void am_quiesce_read_end(void);

/* In a forked child: the parent's other threads, which may have been
 * counted in, do not exist here. */
void am_quiesce_reset_child(void);

#endif
