/* The mapping index: every mapping of the process, grouped into mapping
 * sequences ("big allocations"), with an O(1) page index for lookup.
 *
 * Records:
 *   struct am_map  one piece of the address space with uniform protection
 *                  and origin (like a kernel VMA, but never merged across
 *                  sequences);
 *   struct am_seq  a mapping sequence: what one mmap call made, one loaded
 *                  object's span (segments and plugged holes), the brk
 *                  heap, a stack; always a contiguous run of its own
 *                  maps, cut where part of it goes (include/allocmap.h).
 *                  Maps point at their sequence.
 * Both come from the no-mmap tier only: the number of records is bounded
 * by the kernel's map count (vm.max_map_count), so the tier's bound holds.
 *
 * Locking: one index lock serialises writers; readers (queries) take no
 * lock and validate what they read with a sequence counter (seqlock), so
 * a query is wait-free unless a writer is active and never sees a record
 * torn. Writers allocate records only from the no-mmap tier, which makes
 * no system call. Two paths do make system calls under the lock, where
 * the lock must cover the kernel's change itself: a removal's bracket
 * (am_index_hold: munmap/mremap run while it is held, so no other thread
 * can index the range between the kernel's change and ours) and the
 * re-read of /proc/self/maps (resync.c: read, and plugs over holes in
 * loaded objects, while no event can interleave). Neither is on the path
 * of a query, which never waits for the lock.
 */
#ifndef AM_INDEX_MAPINDEX_H
#define AM_INDEX_MAPINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/allocmap.h"
#include "events.h"

/* Who made a mapping: its "allocator" name in query answers. */
enum am_origin {
	AM_ORIGIN_MMAP,         /* the program's mmap */
	AM_ORIGIN_BRK,          /* the brk heap */
	AM_ORIGIN_STACK,        /* a stack (MAP_STACK/MAP_GROWSDOWN or [stack]) */
	AM_ORIGIN_OBJECT,       /* a loaded object's segment or plugged hole */
	AM_ORIGIN_NOMMAP,       /* allocmap's no-mmap tier region */
	AM_ORIGIN_MMAPTIER,     /* allocmap's mmap tier chunk */
	AM_ORIGIN_SELF,         /* other allocmap data (the page index) */
	AM_ORIGIN_KERNEL,       /* [vdso], [vvar], [vsyscall] */
	AM_ORIGIN_PREEXISTING,  /* anonymous, found at start-up: maker unknown */
	AM_ORIGIN_COUNT
};

struct am_path {
	unsigned refs;          /* maps sharing this string; guarded by the index lock */
	char s[];
};

struct am_seq {
	uintptr_t lo, hi;       /* extent: the union of its maps' extents */
	unsigned nmaps;
	uint8_t origin;         /* enum am_origin */
	const void *caller;     /* return address of the call that made it, or NULL */
	struct am_path *path;   /* object or file path, or NULL */
	void *heap;             /* heap index data for chunks inside (heap.h), or NULL */
};

struct am_map {
	uintptr_t lo, hi;       /* [lo, hi), page-aligned */
	int prot;               /* PROT_* */
	int flags;              /* MAP_SHARED/MAP_PRIVATE, MAP_ANONYMOUS as given */
	uint64_t offset;        /* file offset of lo (file mappings) */
	struct am_seq *seq;
	struct am_path *path;   /* backing file, or NULL */
	const void *caller;
	uintptr_t vma_lo, vma_hi; /* the kernel's mapping holding it: the run of
				     adjacent maps the kernel joins (mapindex.c) */
};

/* One map's description as a reader copies it out (see am_index_lookup_at). */
struct am_map_view {
	uintptr_t lo, hi, seq_lo, seq_hi;
	int prot, flags;
	enum am_origin origin;
	const void *caller;     /* the sequence's, or else the map's */
	const void *map_caller; /* the map's own (a brk heap's maps: who grew it) */
	uintptr_t vma_lo, vma_hi; /* the kernel's mapping holding the map */
	const char *path;
	void *heap;             /* the sequence's heap index data, or NULL */
	struct am_seq *seq;     /* its record: as read while the ticket holds */
};

/* Sets the index up: the page index reservation, the first records.
 * 0 on success; -1 if nothing can be indexed (then all calls are no-ops
 * and lookups answer "unknown"). Single-threaded, at start-up. */
int am_index_init(void);

/* Writers. Ranges are rounded out to pages. All return 0, or -1 if a
 * record could not be allocated (the range is then marked unindexed:
 * lookups there answer unknown, and the miss is counted). */
int am_index_map(uintptr_t lo, uintptr_t hi, int prot, int flags, uint64_t off, const char *path,
		 enum am_origin origin, const void *caller);
int am_index_unmap(uintptr_t lo, uintptr_t hi);
/* With PROT_GROWSDOWN in prot, from the start of the kernel's mapping
 * holding lo (which the index makes sure of by re-reading the maps). */
int am_index_protect(uintptr_t lo, uintptr_t hi, int prot);
/* As the kernel does for an mprotect that fails on a hole: protects from
 * lo up to the first unmapped page (as the index knows it). If the index
 * knows no hole in [lo, hi), the kernel refused a split instead (ENOMEM at
 * vm.max_map_count) and what it changed is unknown: [lo, hi) leaves the
 * index and counts as missed. */
int am_index_protect_prefix(uintptr_t lo, uintptr_t hi, int prot);
int am_index_remap(uintptr_t old, size_t old_len, uintptr_t new_addr, size_t new_len, int dontunmap);
/* A move (MREMAP_FIXED, equal lengths) failed: if [old, old + len) is
 * not one map, some pieces may have moved, and the maps are re-read. */
int am_index_remap_failed(uintptr_t old, size_t len, uintptr_t new_addr);
/* The brk heap now ends at `end` (it started at `start`). */
int am_index_brk(uintptr_t start, uintptr_t end, const void *caller);
/* Re-reads /proc/self/maps and makes the index agree with it; plugs
 * holes in loaded objects. 0, or the maps reader's error. */
int am_index_resync(void);
/* The same, at the next change of the index or check (a forked child of a
 * single-threaded parent: only MADV_DONTFORK ranges can differ). */
void am_index_resync_later(void);
/* The resync after a dlopen or dlclose (the loader's hook): a new
 * object's RELRO, about to become read-only, is indexed so already; and
 * the loader is known to work (see am_index_prefork). */
int am_index_loader_resync(void);
uint64_t am_index_holes_plugged(void);

/* Around every mapping call (its system call and its event), from the
 * hooks and the library's own mappings; [lo, hi) is what the call may
 * change before its event (empty for a mapping the kernel places). An
 * event of a call nested in another on the same thread (a signal
 * handler's) over that range is dropped and made good by a re-read of the
 * maps when the outer call ends. */
void am_index_call_begin(uintptr_t lo, uintptr_t hi);
void am_index_call_end(void);

/* A removal's bracket (munmap, mremap): the index lock is held from
 * before the system call until after its event is applied, so a mapping
 * another thread makes in the freed range — its system call necessarily
 * later — is applied after the removal, never erased by it. Writers on
 * this thread inside the bracket proceed; others wait. No-ops before
 * start-up and when re-entered. */
int am_index_hold(void);           /* 1 if it took the lock: pass to release */
void am_index_release(int held);

/* Reader, one attempt under a ticket from am_index_read_begin: copies the
 * map holding p into *out; 0 if found, -1 if not. Either answer stands
 * only if am_index_read_retry(ticket) then returns 0. Lock-free, safe
 * from any thread and from signal handlers. */
int am_index_lookup_at(uintptr_t p, unsigned ticket, struct am_map_view *out);

/* Reader: the sequence holding p and its extent, or NULL. The pointer may
 * go stale as soon as the call returns unless the caller knows the
 * sequence cannot die (it holds a live chunk inside it). */
struct am_seq *am_index_seq_at(uintptr_t p, uintptr_t *lo, uintptr_t *hi);

/* The main thread's stack, which the kernel grows down on page faults
 * (no call shows it). stack_reaches: p, in no map, lies within the
 * stack's reach below it on a page the kernel has (one system call).
 * stack_catch_up: as a writer, extends the stack's lowest map down to
 * where the kernel's stack now starts; 1 if it did (look up again), 0 if
 * not. Both async-signal-safe. */
int am_index_stack_reaches(uintptr_t p);
int am_index_stack_catch_up(void);

/* The first map ending above addr, copied out under the index lock; 0, or
 * -1 when there is none. */
int am_index_next(uintptr_t addr, struct am_map_view *out);

/* Composite lock-free reads: take a ticket, read, and retry while
 * am_index_read_retry(ticket) says a writer intervened. An odd ticket
 * means this thread itself is changing the index (a signal handler
 * interrupted it): nothing can be read, the caller answers unknown. */
unsigned am_index_read_begin(void);
int am_index_read_retry(unsigned ticket);

/* The heap index's word on a sequence freed with heap data still set:
 * fn(heap) runs under the index lock and must not call back into the
 * index. Set once at start-up, before the first event; without it the
 * data is dropped unseen. The index knows nothing else of the heap. */
void am_index_on_seq_gone(void (*fn)(void *heap));

/* Sets seq->heap from NULL to h (one writer wins); returns the value now
 * in place. */
void *am_index_set_heap(struct am_seq *seq, void *h);
/* Sets seq->heap from h back to NULL, if it is still h: 1 if it was. */
int am_index_clear_heap(struct am_seq *seq, void *h);

/* Calls fn on each map in address order, under the index lock (fn must
 * not call back into the index or allocate). Stops when fn returns != 0. */
int am_index_each(int (*fn)(const struct am_map_view *m, void *arg), void *arg);

struct am_index_stats {
	uint64_t maps, seqs;                        /* live records */
	uint64_t events[AM_EV_COUNT];               /* by enum am_event */
	uint64_t missed;                            /* ranges left unindexed */
	uint64_t holes_plugged;                     /* gaps in loaded objects filled */
	unsigned max_depth;                         /* deepest recursion seen (am_strat_*) */
	uint64_t depth_violations;                  /* stratification broken */
	int page_index;                             /* 1: O(1) page index; 0: fallback search */
};
void am_index_stats(struct am_index_stats *out);

const char *am_origin_name(enum am_origin o);
enum allocmap_kind am_origin_kind(enum am_origin o, int has_path);

/* Index invariants: maps sorted, disjoint, page-aligned, each inside its
 * sequence's extent; the page index agrees with the maps at every map's
 * first and last page. Returns the number broken. */
size_t am_index_validate(void);

/* fork: walks of the maps need the loaded objects, but in a forked child
 * dl_iterate_phdr waits forever if a thread of the parent held the
 * loader's lock at the fork. am_index_prefork (the prepare handler)
 * snapshots them; am_index_forked_child (in the child) makes walks use
 * that snapshot until the loader is seen working again (a dlopen or
 * dlclose: am_index_loader_resync). */
void am_index_prefork(void);
void am_index_forked_child(void);

/* In a forked child: 1 if a thread of the parent was changing the index
 * at the fork, so its structures cannot be trusted. One that only held
 * its lock (across a removal's system call, am_index_hold) left them
 * whole: am_index_unlock_child frees the lock it held. */
int am_index_held_at_fork(void);
void am_index_unlock_child(void);
/* In a forked child: forgets every record and rebuilds the index from
 * /proc/self/maps (after the no-mmap tier was reset). Mapping origins and
 * callers known before are lost; everything is indexed as found. */
void am_index_rebuild_child(void);

#endif
