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

/* Memory known zero after a growth: [zero_from, zone_hi) of the zone
 * [zone_lo, zone_hi) the growth added to (a block elsewhere knows
 * nothing). All NULL: nothing is known. */
struct am_fresh {
	char *zone_lo, *zone_hi, *zero_from;
};

/* What differs between the two tiers, behind one table (tier.c never
 * asks which tier it has):
 *   span        finds the span holding p; 0 if found;
 *   grow        adds at least `need` payload bytes of free memory; 0 and
 *               *fresh filled on success, -1 on failure. The mmap tier
 *               leaves and re-enters the tier around its mmap; if another
 *               thread is already mapping a chunk it waits for that one
 *               instead (1, nothing known fresh: that thread may use all
 *               of it), so two threads short of memory at once map one
 *               chunk, not two;
 *   after_free  after a free in span s, gives back what the tier's policy
 *               says to; the mmap tier fills *rel with a chunk to unmap
 *               after leaving (rel NULL: the caller cannot unmap now, the
 *               chunk is kept);
 *   each_span   runs fn on every span;
 *   span_lo     where a span's memory starts (the mmap tier's chunk header
 *               and bitmap precede its pool; the no-mmap tier's bitmap
 *               lies at the start of its region);
 *   reset_child empties the tier in a fork child whose parent had another
 *               thread inside it;
 *   destroy     gives everything back (tests, benchmarks). */
struct am_tier_ops {
	int (*span)(struct am_tier *t, const void *p, struct am_span *out);
	int (*grow)(struct am_tier *t, size_t need, struct am_fresh *fresh);
	void (*after_free)(struct am_tier *t, const struct am_span *s, struct am_release *rel);
	void (*each_span)(struct am_tier *t, void (*fn)(struct am_tier *, const struct am_span *, void *),
			  void *arg);
	const char *(*span_lo)(const struct am_tier *t, const struct am_span *s);
	void (*reset_child)(struct am_tier *t);
	void (*destroy)(struct am_tier *t);
};

extern const struct am_tier_ops am_nommap_ops; /* nommap.c */
extern const struct am_tier_ops am_mmaptier_ops; /* mmaptier.c */

/* Entering and leaving a tier: the per-thread inside bit, then the lock.
 * am_tier_enter fails (returns -1) if this thread is already inside t
 * (a signal handler interrupted it); the caller must not block then. */
int am_tier_enter(struct am_tier *t);
void am_tier_leave(struct am_tier *t);
/* am_palloc_validate for a thread inside t (tierinfo.c). */
size_t am_palloc_validate_held(struct am_tier *t);

#endif
