/* The heap's figures in the live file (include/allocmap_live.h): what the
 * malloc family's paths tell it, and the site table.
 *
 * Off unless a live file exists (ALLOCMAP_RUN_DIR): am_live is NULL and
 * each path pays one load and one predictable branch. On, every
 * allocation and free of an indexed chunk updates the heap counters and
 * its site's row with relaxed atomic adds (plain read-modify-writes while
 * the process has one thread, as in fastpath.h; either way each word is
 * stored whole, so a reader in another process never sees one torn).
 *
 * A free finds its chunk's site and request in the chunk's trailer
 * (heap.h); only chunks the heap index recorded are counted, so the live
 * figures are those of recorded chunks.
 *
 * "Temporary" (heaptrack's definition): a chunk freed by the thread that
 * allocated it, with no other allocation by that thread in between (one
 * per-thread word: the last chunk the thread allocated). A realloc's
 * free of the old chunk is never temporary.
 *
 * Peak: heap.peak_bytes is exact (a CAS maximum). Copying every site's
 * live bytes at each new peak is too dear, so the copy (site.peak_bytes)
 * is taken when live bytes exceed the last copy (heap.peak_snap_bytes) by
 * max(1/64 of it, 64 KiB), and at the end if live bytes then exceed the
 * last copy: the copy's total is within that margin of the true peak.
 * One thread copies at a time (the one whose CAS raised peak_snap_bytes);
 * rows keep changing meanwhile, so the copy is of a moment only to
 * within the calls made while it runs.
 */
#ifndef AM_HEAP_LIVESTATS_H
#define AM_HEAP_LIVESTATS_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/allocmap_live.h"

#define AM_PEAK_MARGIN_MIN ((uint64_t)64 << 10)
#define AM_SITE_PROBES 64 /* rows tried before a site goes to row 0 */

/* The live file's mapping, or NULL. Set by am_live_attach only. */
extern struct allocmap_live *am_live;

static inline int am_live_on(void) { return __builtin_expect(am_live != NULL, 0); }

/* livestats.c. Contexts: any thread, inside the malloc family (no
 * malloc, no lock, no system call except the clock at a peak copy). */
/* Counts an allocation of n bytes at site, chunk p. Returns the site the
 * chunk's trailer keeps: site, or with stacks on, its stack's key. */
const void *am_live_alloc(const void *p, size_t n, const void *site);
/* The request and site of recorded glibc chunk p (not yet given back),
 * from its trailer. */
size_t am_live_glibc_request(const void *p, const void **site);
/* The same for another malloc's chunk p of recorded extent `extent`. */
size_t am_live_foreign_request(const void *p, size_t extent, const void **site);
/* Counts the free of chunk p of request n from site; `temp_ok`: 0 for
 * realloc's free of the old chunk (never temporary). */
void am_live_free(const void *p, size_t n, const void *site, int temp_ok);
/* Chunk p of request n moves from site `from` to `to` (heap.h: am_heap_resite). */
void am_live_move(size_t n, const void *from, const void *to);
/* Copies every site's live bytes as its bytes at the peak if live bytes
 * exceed the last copy (at the end). */
void am_live_final_peak(void);

/* Makes L the live file (or NULL: off) and resets the table's row list
 * if `fresh` (a new file; a forked child's copy keeps it). Call while no
 * other thread runs the malloc family, or from a fork child handler. */
void am_live_attach(struct allocmap_live *L, int fresh);

/* sitetab.c: the row of site in L's table: found, or (insert) claimed by
 * CAS; row 0 if absent (not insert) or the probes found no room.
 * am_site_rows lists the rows claimed, in claim order, for the peak
 * copy. */
struct allocmap_live_site *am_site_row(struct allocmap_live *L, const void *site, int insert);
/* Calls fn on each row claimed so far, then row 0. */
void am_site_each(struct allocmap_live *L, void (*fn)(struct allocmap_live_site *row));
void am_site_reset(void);

/* stacks.c (stack_depth > 0 in L's header). am_stack_row: the row of the
 * calling thread's stack from the frame returning to *site outward, which
 * it interns (found or claimed, frames written); *site becomes the
 * stack's key. am_stack_site: the allocating call of a trailer's site
 * (a stack key's frame 0; NULL if its stack has no row), else site. */
struct allocmap_live_site *am_stack_row(struct allocmap_live *L, const void **site);
const void *am_stack_site(const void *site);

#endif
