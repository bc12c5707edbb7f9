/* The heap index: every live chunk of the program's malloc.
 *
 * Each chunk handed out through our malloc family carries an 8-byte
 * trailer in the last bytes of the underlying allocator's usable area:
 * the allocation site (48 bits) and the slack between the program-visible
 * usable size and the requested size (16 bits; AM_SLACK_BIG: the slack is
 * larger and the requested size is in the 8 bytes below the trailer, as
 * after glibc's memalign of a big alignment or realloc shrinking an
 * mmapped chunk in place; all-ones: unknown; with another malloc, the
 * slack and the chunk's extent, heapmeta.h). The program sees a usable
 * size 8 bytes smaller than the allocator's (16 with AM_SLACK_BIG).
 * Chosen over a side table by measurement (bench/RESULTS.md, "trailer vs
 * side table"): the store lands in a line the program is about to use,
 * and costs memory only for sizes pushed over a glibc size class; a hash
 * table keyed by chunk costs a cache miss per call and >= 16 B per chunk
 * (smallobj: trailer 1.00x time, 1.08x RSS; side table 1.30x, 1.71x).
 *
 * Chunk starts live in a bitmap per arena — one bit per 16 bytes — hung
 * off the arena's mapping sequence (am_seq.heap): a small directory in the
 * no-mmap tier (bounded by the number of sequences) whose 128 KiB leaves,
 * one per 16 MiB of arena, are made in the mmap tier when the first chunk
 * there is recorded, and never move. Arenas: the brk heap (covered up to
 * AM_BRK_COVERAGE from its start), each non-main arena heap and any other
 * mapping malloc carves chunks from (its extent). A
 * chunk that is a mapping of its own (glibc's mmapped chunks) needs no
 * bitmap: its sequence is tagged AM_HEAP_SINGLE_AT(offset of its header).
 * The brk heap's bitmap reaches AM_BRK_COVERAGE past its start, and the
 * fast paths take it for any address there: a mapping inside that reach
 * gets no bitmap of its own (its chunks answer at the mapping level), and
 * one it had before the lane opened answers for nothing from then on, so
 * no address is ever answered from two.
 *
 * Concurrency: bits are set and cleared with atomic operations, outside
 * any lock. A chunk's bit is cleared before the chunk is given back and set
 * after it is obtained, so a query never reports a chunk that was not live
 * at some moment during the query (it may miss one being allocated).
 * Bitmaps of dead arenas are recycled, never unmapped, so a racing reader
 * can read stale bits but never fault.
 */
#ifndef AM_HEAP_HEAP_H
#define AM_HEAP_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/allocmap.h"

/* A sequence that is one mmapped chunk, whose header lies `off` bytes in
 * (glibc's memalign places it past the mapping's start). */
#define AM_HEAP_SINGLE_AT(off) ((void *)(((uintptr_t)(off) << 1) | 1))
#define AM_HEAP_IS_SINGLE(h) (((uintptr_t)(h)&1) != 0)
#define AM_HEAP_SINGLE_OFF(h) ((uintptr_t)(h) >> 1)
#define AM_BRK_COVERAGE ((size_t)64 << 30) /* brk heap bytes the main bitmap covers */
#define AM_TRAILER 8

/* Which allocator our malloc family forwards to. */
enum am_heap_mode {
	AM_HEAP_UNRESOLVED, /* not yet looked up */
	AM_HEAP_GLIBC,      /* glibc's malloc: chunks indexed by their size words */
	AM_HEAP_FOREIGN,    /* another malloc after us: chunks indexed by end bits (foreign.c) */
	AM_HEAP_FORWARD,    /* forwarded, not indexed (allocmap is off) */
	AM_HEAP_BYPASSED    /* a malloc before us wins: ours is never called */
};

/* Whether chunks of the current mode are indexed. */
static inline int am_heap_indexed(enum am_heap_mode m) { return m == AM_HEAP_GLIBC || m == AM_HEAP_FOREIGN; }

struct am_real_malloc {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t); /* its own rules (C11, or glibc >= 2.38) */
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*glibc_memalign)(size_t, size_t); /* the next __libc_memalign if it is glibc's, or NULL */
	size_t (*usable)(void *);
};

/* mode.c */
extern struct am_real_malloc am_real;
extern enum am_heap_mode am_heap_mode;
/* Stores m, only over UNRESOLVED, after am_real is filled in (the mode
 * says whether am_real is ready); returns the mode now in force. */
enum am_heap_mode am_heap_publish_mode(enum am_heap_mode m);
/* The library is off (disabled, or no memory for its tiers): forward only. */
void am_heap_forward_only(void);

/* The call site through which malloc grows the brk heap (glibc's
 * morecore), once seen: set by the interception layer, from a brk call
 * made inside libc. */
extern const void *am_heap_brk_site;
/* Whether a brk heap map grown from site (NULL: found at start-up) is
 * malloc's arena, not the program's own sbrk. */
static inline int am_heap_brk_is_arena(const void *site)
{
	return !site || site == __atomic_load_n(&am_heap_brk_site, __ATOMIC_RELAXED);
}

/* foreign.c: chunks of another malloc (mode AM_HEAP_FOREIGN). request: the
 * bytes to ask it for n program bytes (n <= SIZE_MAX - 32); usable: a
 * recorded chunk's program-visible usable size. */
size_t am_foreign_request(size_t n);
size_t am_foreign_usable(void *p);
void am_foreign_record(void *p, size_t n, const void *site);
/* p, of extent `extent`, forgotten, is the program's again (a realloc
 * failed): recorded again as its trailer says. */
void am_foreign_relive(void *p, size_t extent);
/* The extent (program-visible usable + 8) p was recorded with, or 0. */
size_t am_foreign_forget(void *p);

/* heapindex.c. Recording and forgetting chunks: fastpath.h. */
/* The program-visible usable size of a recorded chunk. */
size_t am_heap_usable(void *p);
/* Recorded glibc chunk p now belongs to site (its trailer and, with a
 * live file, its site row): for chunks libc or libstdc++ made through our
 * malloc on behalf of a caller (strdup, operator new's failure path). */
void am_heap_resite(void *p, const void *site);
/* Registers with the mapping index what the heap index does when an
 * arena's sequence dies. Call once at start-up, before the index reads the
 * maps. */
void am_heap_start(void);

/* Fills out with the live chunk holding p, given the view of p's map (its
 * sequence's heap data and extent, the map's own extent and protection)
 * as read under the index ticket `ticket`: 0 if p is inside
 * one; 1 if the arena was read and p is in no live chunk (free space,
 * arena metadata, the top chunk: the caller answers ALLOCMAP_HEAP_FREE);
 * -1 if that cannot be told (the heap is not indexed there, or a mapping
 * call held the arena too long: the caller answers at the mapping level);
 * -2 if the index changed since the ticket (the caller retries).
 * fetched: am_heap_prefetch_chunk(p) ran a while before (a batch), so
 * the chunk's lines are on their way and not fetched again. Lock-free. */
struct am_map_view;
int am_heap_query(const void *p, const struct am_map_view *v, unsigned ticket, struct allocmap_info *out,
		  int fetched);

/* Hints for queries. am_heap_prefetch_near, first thing in a query,
 * fetches the lines it will read in the brk heap: p's, the one before (a small chunk's
 * size word) and p's bitmap word in the brk heap. A batch
 * (allocmap_query_many) goes in two stages: am_heap_prefetch_bits fetches
 * the bitmap word and p's line (so that p's page is touched while other
 * addresses' are: a prefetch into a new page holds up what follows it);
 * am_heap_prefetch_chunk, once it has arrived, finds p's
 * chunk start in it and fetches that chunk's size word and likely
 * trailer. Prefetches only: never fault, never wrong, no effect on any
 * answer. */
void am_heap_prefetch_near(const void *p);
void am_heap_prefetch_bits(const void *p);
void am_heap_prefetch_chunk(const void *p);

/* Calls fn for each chunk start recorded in [lo, hi), a part of the
 * sequence starting at seq_lo with heap data `heap`; stops at a non-zero
 * return and returns it. The starts are hints: the caller queries each. */
int am_heap_each_start(void *heap, uintptr_t lo, uintptr_t hi, uintptr_t seq_lo, int (*fn)(uintptr_t, void *),
		       void *arg);

/* In a forked child. held_at_fork: a parent thread was making an arena's
 * bitmap at the fork. reset: every arena's bitmap is forgotten (they
 * lived in the tiers, which the child reset); chunks allocated before are
 * answered at the mapping level, new ones are indexed again. */
int am_heap_held_at_fork(void);
void am_heap_reset_child(void);
/* heaprepair.c: in a forked child (one thread, index exact), clears the
 * big-chunk marks and (another malloc) the end bits a thread of the parent
 * left without their chunk (cut off between a chunk's two updates). */
void am_heap_repair_marks(void);

/* heapcheck.c: recorded chunks that are not glibc's live chunks (see
 * there), one line each to fd if fd >= 0. Under no lock of its own: call
 * it when the program is quiescent. */
size_t am_heap_validate(int fd);

uint64_t am_heap_unindexed(void);
uint64_t am_heap_slow_path(void); /* record/forget calls that missed the fast path */
uint64_t am_heap_arenas(void);

#endif
