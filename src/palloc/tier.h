/* Private interface between the tier-independent code (tier.c) and the
 * two tiers' memory sources (nommap.c, mmaptier.c). All functions here are
 * called with the tier entered (lock held, inside bit set) unless stated.
 */
#ifndef AM_PALLOC_TIER_H
#define AM_PALLOC_TIER_H

#include "palloc.h"

/* A contiguous pool and its live-block-start bitmap. */
struct am_span {
	char *pool, *end;             /* the TLSF pool [pool, end), sentinel at end-16 */
	uint64_t *bits;               /* bit i: a live block's payload at pool + 16*i */
};

/* One mapping of the mmap tier: this header, the bitmap, then the pool. */
struct am_chunk {
	size_t size;                  /* bytes mapped, header included */
	struct am_span span;
};

/* Memory to give back after leaving the tier (no syscall under the lock). */
struct am_release {
	void *addr;
	size_t len;
};

/* Makes t an empty no-mmap tier over the zeroed region [base, base+reserve). */
void am_nommap_adopt(struct am_tier *t, char *base, size_t reserve);

/* Finds the span holding p; 0 if found. */
int am_nommap_span(struct am_tier *t, const void *p, struct am_span *out);
int am_mmaptier_span(struct am_tier *t, const void *p, struct am_span *out);

/* Memory known zero after a growth: [zero_from, zone_hi) of the zone
 * [zone_lo, zone_hi) the growth added to (a block elsewhere knows
 * nothing). All NULL: nothing is known. */
struct am_fresh {
	char *zone_lo, *zone_hi, *zero_from;
};

/* Adds at least `need` payload bytes of free memory. On success returns 0
 * and fills *fresh. The mmap tier leaves and re-enters the tier around its
 * mmap; if another thread is already mapping a chunk it waits for that
 * one instead (returning 0 with nothing known fresh), so two threads
 * short of memory at once map one chunk, not two. */
int am_nommap_grow(struct am_tier *t, size_t need, struct am_fresh *fresh);
int am_mmaptier_grow(struct am_tier *t, size_t need, struct am_fresh *fresh);

/* After a free in span s: give back what the tier's policy says to. The
 * mmap tier fills *rel with a chunk to unmap after leaving; rel NULL means
 * the caller cannot unmap now, so the chunk is kept. */
void am_nommap_after_free(struct am_tier *t);
void am_mmaptier_after_free(struct am_tier *t, const struct am_span *s, struct am_release *rel);

/* Runs fn on every span of the tier. */
void am_tier_each_span(struct am_tier *t, void (*fn)(struct am_tier *, const struct am_span *, void *),
		       void *arg);

/* Entering and leaving a tier: the per-thread inside bit, then the lock.
 * am_tier_enter fails (returns -1) if this thread is already inside t
 * (a signal handler interrupted it); the caller must not block then. */
int am_tier_enter(struct am_tier *t);
void am_tier_leave(struct am_tier *t);

#endif
