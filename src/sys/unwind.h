/* A call-stack unwinder that allocates nothing and calls no libc function
 * on its path: x86-64 only, for recording allocation stacks (--stack N).
 *
 * Each step finds the rule of the frame's pc in the .eh_frame of the
 * loaded object holding it (through its .eh_frame_hdr's sorted table,
 * DWARF CFI as the x86-64 psABI uses it): the CFA is rsp or rbp plus an
 * offset, the return address lies at CFA - 8, rbp is saved at CFA plus an
 * offset or kept. A rule the interpreter cannot express that way (a CFA
 * expression, an object without .eh_frame_hdr, a pc in no object) falls
 * back to frame pointers: [rbp] the caller's rbp, [rbp + 8] the return
 * address. A return address rule marked undefined (_start, clone's
 * child) ends the stack. Rules are cached per pc in a direct-mapped
 * table shared by every thread (two words per entry, checked against
 * torn pairs), tagged with the object table's generation. Each thread
 * keeps its last walk relative to its starting stack pointer; a walk
 * whose return addresses still stand at the same offsets takes those
 * frames with one independent load each (unwind.c).
 *
 * Safety: every stack word read lies in [the unwinder's own rsp, hi),
 * the CFA must grow strictly from frame to frame, and a step count bounds
 * the walk; .eh_frame data is read in place in objects the loader keeps
 * mapped. The object table is read without a lock: a dlclose racing an
 * unwind is the caller's hazard (the step then ends on a generation
 * change seen at its start, not inside).
 *
 * The object table is filled by am_unwind_refresh (dl_iterate_phdr: the
 * loader's lock, no allocation), at start and after each loader change.
 */
#ifndef AM_SYS_UNWIND_H
#define AM_SYS_UNWIND_H

#include <stdint.h>

#define AM_UNWIND_MAX 64   /* frames one call may return */
#define AM_UNWIND_SKIP 24  /* frames looked through for the first one wanted */

/* Re-reads the loaded objects (their PT_LOAD extent and
 * PT_GNU_EH_FRAME); the pc cache's entries of the old table go stale.
 * Writers are serialised by the caller (start-up, the loader event). */
void am_unwind_refresh(void);

/* The return addresses of the calling thread's stack, innermost first,
 * from the frame whose return address is `from` (the allocation's site)
 * outward: at most max (<= AM_UNWIND_MAX) into out; `from` is out[0]. hi
 * is the top of the thread's stack (exclusive). Returns the count; 1
 * (just `from`) if `from` was not among the first AM_UNWIND_SKIP frames
 * or the stack could not be read. */
int am_unwind(uintptr_t *out, int max, uintptr_t from, uintptr_t hi);

/* Counters for tests and the bench: rules looked up in .eh_frame (pc
 * cache misses), steps that fell back to frame pointers. */
struct am_unwind_stats {
	uint64_t misses, fp_steps;
};
void am_unwind_stats(struct am_unwind_stats *out);

#endif
