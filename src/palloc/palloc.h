/* The private allocator: one engine (tlsf.h), two tiers.
 *
 * no-mmap tier: one region reserved with MAP_NORESERVE at initialisation
 * and served through an emulated sbrk (a break that moves up as the engine
 * needs memory and back down when the top is free; pages above the break
 * are given back with madvise). After am_nommap_init() it never calls
 * mmap, munmap or mremap. It serves records whose number is bounded by the
 * number of mapping sequences — the allocations made on paths that a
 * program's mmap or brk triggers. Size: see AM_NOMMAP_RESERVE.
 *
 * mmap tier: grows by mapping chunks (through am_palloc_map_hook, so the
 * mapping index sees them as self-calls) and unmaps chunks that become
 * wholly free. It serves data that grows with memory in use.
 *
 * Both tiers: thread-safe with their own futex lock (never a libc lock);
 * every call preserves errno. Contexts:
 *   - any thread, any time after init;
 *   - a signal handler: allowed. If the handler interrupted the same
 *     thread while it was inside the same tier, malloc-family calls fail
 *     (NULL, counted as failed) instead of deadlocking, and free is
 *     deferred to a lock-free slot array drained by the tier's next locked
 *     call (if all slots are taken the block is leaked and counted, never
 *     corrupted).
 *     A handler on another thread simply waits for the lock.
 *   - a forked child: the tier's lock is reset by am_palloc_atfork_child().
 * Bad frees (pointers the tier does not own, or not a live block start)
 * are ignored, counted, and reported once.
 */
#ifndef AM_PALLOC_PALLOC_H
#define AM_PALLOC_PALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/allocmap.h"
#include "../sys/lock.h"
#include "tlsf.h"

/* The bound the no-mmap tier is sized from: the number of mapping
 * sequences (big allocations) the index tracks, each needing at most
 * AM_RECORD_BYTES of records (times 2 for headroom) and AM_TABLE_BYTES of
 * the tables that grow with them (the sorted map array, page-index
 * leaves). 65536 sequences x (2 x 256 B + 128 B) = 40 MiB of address
 * space, resident only as used. ALLOCMAP_MAX_SEQUENCES overrides the
 * bound, and the whole tier scales with it (a small bound gives a small
 * tier), down to AM_NOMMAP_MIN_RESERVE: what start-up needs. */
#define AM_MAX_SEQUENCES_DEFAULT 65536
#define AM_RECORD_BYTES 256
#define AM_TABLE_BYTES 128
#define AM_NOMMAP_MIN_RESERVE ((size_t)512 << 10)
#define AM_NOMMAP_PER_SEQ (AM_RECORD_BYTES * 2 + AM_TABLE_BYTES)
#define AM_NOMMAP_SCALED(nseq) ((size_t)(nseq) * AM_NOMMAP_PER_SEQ)
#define AM_NOMMAP_RESERVE(nseq) \
	(AM_NOMMAP_SCALED(nseq) > AM_NOMMAP_MIN_RESERVE ? AM_NOMMAP_SCALED(nseq) : AM_NOMMAP_MIN_RESERVE)
_Static_assert(AM_NOMMAP_RESERVE(AM_MAX_SEQUENCES_DEFAULT) == (size_t)40 << 20, "40 MiB by default");

#define AM_MMAP_MAX_CHUNKS 1024      /* chunk table bound of the mmap tier */
#define AM_MMAP_CHUNK_MIN ((size_t)1 << 20)
#define AM_SPAN_CACHE 64             /* mmap tier: chunk lookups remembered by MiB */
#define AM_DEFERRED_SLOTS 64         /* frees a handler can defer; more are leaked, counted */

struct am_chunk;
struct am_tier_ops;

struct am_tier {
	struct am_lock lock;
	unsigned inside_bit;          /* this tier's bit in the per-thread "inside" mask */
	struct am_tlsf engine;
	const char *name;             /* "allocmap-nommap" / "allocmap-mmap" */
	const struct am_tier_ops *ops; /* what differs between the tiers (tier.h) */
	int deferred_pending;         /* some deferred[] slot may be taken */
	void *deferred[AM_DEFERRED_SLOTS]; /* frees from signal handlers, drained on entry */
	/* no-mmap tier: [base, limit) reserved; bits, then the pool [pool, brk);
	 * [fresh, limit) has been zero since the kernel gave it to us */
	char *base, *limit, *pool, *brk, *fresh;
	uint64_t *bits;               /* one bit per 16 bytes of the pool: live block start */
	size_t trim_threshold;        /* free top this large moves the break down */
	/* mmap tier: sorted table of chunks */
	struct am_chunk *chunks[AM_MMAP_MAX_CHUNKS];
	unsigned nchunks;
	struct am_chunk *spare;       /* an emptied chunk kept mapped (hysteresis) */
	int growing;                  /* a thread is mapping a chunk (lock dropped) */
	struct am_chunk *span_cache[AM_SPAN_CACHE]; /* by MiB of address: a chunk there */
	/* statistics, guarded by lock */
	size_t reserved, footprint, peak_footprint, in_use, peak_in_use;
	uint64_t live_blocks, failed, bad_frees, lost_frees;
	int bad_free_logged;
};

/* Hooks the mapping index installs so the mmap tier's chunks are seen as
 * self-calls. Defaults are plain raw system calls. Called without the
 * tier's lock held. */
extern void *(*am_palloc_map_hook)(size_t len);
extern void (*am_palloc_unmap_hook)(void *p, size_t len);

extern struct am_tier am_tier_nommap, am_tier_mmap;

/* Reserves `reserve` bytes (rounded to pages) for a no-mmap tier.
 * 0 on success, -1 if the kernel refused (the tier then fails every
 * request). */
int am_nommap_init(struct am_tier *t, size_t reserve);
void am_mmaptier_init(struct am_tier *t);
/* Releases everything a tier holds (tests only; no live block may remain
 * in use). */
void am_tier_destroy(struct am_tier *t);

void *am_palloc_malloc(struct am_tier *t, size_t n);
void *am_palloc_calloc(struct am_tier *t, size_t n, size_t m);
void *am_palloc_realloc(struct am_tier *t, void *p, size_t n);
void *am_palloc_memalign(struct am_tier *t, size_t align, size_t n);
void am_palloc_free(struct am_tier *t, void *p);
/* Usable size of a live block, 0 if p is not one. */
size_t am_palloc_usable_size(struct am_tier *t, const void *p);

/* Meta-completeness: 1 and the holding live block's payload (base, size)
 * if p lies inside one; 0 if p is inside the tier's memory but in no live
 * block (base and size then give the region or chunk); -1 if the tier does
 * not hold p (outputs zeroed). Takes the tier lock; from a signal handler
 * that interrupted this tier on the same thread it answers from the
 * region bounds only (0 or -1). */
int am_palloc_owns(struct am_tier *t, const void *p, void **base, size_t *size);

/* Moves the no-mmap break down over a free top; returns bytes released. */
size_t am_palloc_trim(struct am_tier *t);

void am_palloc_stats(struct am_tier *t, struct allocmap_tier_stats *out);

/* Number of broken invariants in the tier's pools (0 when consistent).
 * Takes the tier (0 if this thread is already inside it). */
size_t am_palloc_validate(struct am_tier *t);

/* In a forked child: the parent's lock holders do not exist here. */
void am_palloc_atfork_child(struct am_tier *t);

/* In a forked child whose parent had a thread inside the tier at the fork:
 * its structures cannot be trusted, so the tier starts empty again (the
 * no-mmap tier over its same region, given back to the kernel; the mmap
 * tier forgets its chunks, which stay mapped). Every block is lost. */
void am_palloc_reset_child(struct am_tier *t);

#endif
