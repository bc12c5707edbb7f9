/* State shared by the mapping index's files (mapindex.c, remap.c,
 * lookup.c, resync.c). Everything here is guarded by am_ix.lock and
 * published to lock-free readers through the am_ix.seq seqlock: a writer
 * makes seq odd while it changes anything a reader can see.
 */
#ifndef AM_INDEX_INTERNAL_H
#define AM_INDEX_INTERNAL_H

#include "../sys/lock.h"
#include "mapindex.h"


struct am_index {
	struct am_lock lock;
	unsigned seq;                 /* seqlock: odd while a writer is active */
	int ready;
	int resync_pending;           /* an event was dropped: resync at the next chance */
	struct am_map **arr;          /* sorted by address */
	size_t n, cap;
	uint64_t events[AM_EV_COUNT];
	uint64_t missed;
	uintptr_t brk_start, brk_top; /* the brk heap as last seen; start 0 if unknown */
	uintptr_t stack_top;          /* end of the main thread's stack ([stack]), or 0 */
	uintptr_t stack_reach;        /* how far below stack_top it may grow (RLIMIT_STACK) */
	int *holder;                  /* the holding thread's state, during a removal bracket */
	uintptr_t dirty_lo, dirty_hi; /* where maps left the array since the last am_ix_settle */
	size_t hint[2];               /* am_ix_first_above's last answers (any values: checked) */
};

extern struct am_index am_ix;

/* Enter/leave as the writer. begin fails (-1) on a thread already
 * writing; inside a removal bracket (am_index_hold) it takes no lock and
 * end keeps it. */
int am_ix_begin(void);
void am_ix_end(void);
/* am_ix_begin for an event over [lo, hi); fails (-1) too for one a signal
 * handler's call makes over the range of a call it interrupted (its
 * order with that call's own event is unknown: mapindex.c). */
int am_ix_begin_event(uintptr_t lo, uintptr_t hi);
/* An event that could not be applied (handler re-entry): counts it and
 * schedules a resync. Returns -1. */
int am_ix_dropped(void);
/* 1 while this thread is inside the index as its writer. */
int am_ix_inside(void);

/* strat.c: the stratification check (see there). tier_begin/end wrap each
 * mmap-tier chunk map or unmap; index_entry is called by am_ix_begin. */
void am_strat_tier_begin(void);
void am_strat_tier_end(void);
void am_strat_index_entry(void);
/* Sets the range of allocmap's own text (am_index_init; tests); then
 * am_strat_mapping_caller counts an event whose caller lies in it. */
void am_strat_set_own_text(uintptr_t lo, uintptr_t hi);
void am_strat_mapping_caller(const void *caller);
unsigned am_strat_max_depth(void);
uint64_t am_strat_violations(void);
/* Broken stratification: the violations counted so far, plus one if this
 * thread is now deeper than 1 (0 when sound). */
size_t am_strat_validate(void);
/* am_index_validate for a thread inside the index (am_ix_begin). */
size_t am_index_validate_held(void);
size_t am_index_validate_pages(uintptr_t lo, uintptr_t hi);

size_t am_ix_first_above(uintptr_t addr);
int am_ix_insert(struct am_map *m);
/* Widens map m to [lo, hi), which contains its extent and overlaps no
 * other map (a kernel growth the index could not see). 0, or -1 if the
 * page index could not take it (the range is then missed). */
int am_ix_extend(struct am_map *m, uintptr_t lo, uintptr_t hi);
void am_ix_unmap(uintptr_t lo, uintptr_t hi);
/* Where maps left the array (dirty_lo, dirty_hi), makes every sequence a
 * contiguous run of its own maps again (mapindex.h): a sequence that now
 * spans a hole or another sequence is cut there, the maps above the cut
 * forming a new sequence with its origin, caller and path (its heap data
 * stays below); and sets each map's vma_lo, vma_hi there, the run of
 * maps the kernel joins it into (am_ix_kernel_joins). Run by the writer when it ends (writer.c), so changes in
 * several steps (a re-read of the maps regrouping an object) settle once. */
void am_ix_settle(void);
/* Widens the range am_ix_settle looks at: a map there changed in place
 * (its extent or protection). */
void am_ix_touch(uintptr_t lo, uintptr_t hi);
/* Whether the kernel keeps maps a and b, b right above a, as one mapping
 * (one /proc/self/maps line): same protection, sharing, VM flags and
 * backing (anonymous, or the same file at contiguous offsets). */
int am_ix_kernel_joins(const struct am_map *a, const struct am_map *b);
/* Whether map m and the kernel's mapping from lo, of file offset off
 * (file: backed by a file), which overlap, put the same file offset at
 * the same address; always when either is anonymous. */
int am_ix_offset_agrees(const struct am_map *m, uintptr_t lo, uint64_t off, int file);
void am_ix_protect(uintptr_t lo, uintptr_t hi, int prot);
void am_ix_missed(uintptr_t lo, uintptr_t hi);
int am_ix_map_new(uintptr_t lo, uintptr_t hi, int prot, int flags, uint64_t off, struct am_path *path,
		  enum am_origin origin, const void *caller, struct am_seq *seq);
/* Re-reads /proc/self/maps; the caller is the writer. */
int am_ix_resync_locked(void);
/* stack.c, the caller being the writer: the kernel's [stack] entry ends
 * at hi. */
void am_ix_note_stack(uintptr_t hi);

#endif
