/* The leak check's parts (private to src/leak): see scan.c for how they
 * fit together, allocmap.h (allocmap_leak_scan) for the contract.
 *
 *   stop.c      other threads parked in a signal handler, registers saved
 *   table.c     every live chunk, sorted by address, and the lookup of a word
 *   roots.c     the memory a program's pointers live in: what is scanned first
 *   touched.c   which pages of anonymous memory were ever touched (pagemap)
 *   mark.c      the mark phase: roots, then chunks reached, then cliques
 *   group.c     chunks grouped by (class, site), totals
 *   sort.c      a heapsort (libc's qsort may call malloc)
 *   site.c      a site's object, offset and symbol, for reports
 *   objhdr.c    a loaded object's load bias and RELRO, from its first page
 *   suppress.c  suppressions: which sites are not reported
 *   atexit.c    ALLOCMAP_LEAKS: the scan in the destructor, its report
 *   sites.c     allocmap_sites: live chunks by site, no reachability
 *
 * Memory: everything here comes from the mmap tier and is given back
 * before allocmap_leak_scan returns. Nothing calls the program's malloc.
 */
#ifndef AM_LEAK_LEAK_H
#define AM_LEAK_LEAK_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/allocmap.h"

/* A flag of allocmap_leak_scan for atexit.c alone: the scan runs in the
 * destructor, inside exit() (scan.c: where the stack starts). */
#define AM_LEAK_AT_EXIT (1u << 31)

/* This thread's thread pointer (the %fs base: its TCB; static TLS lies
 * at fixed offsets below it). */
static inline uintptr_t am_leak_tp(void)
{
	uintptr_t tp;
	__asm__("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* ---- stop.c ---- */

#define AM_LEAK_NREGS 16 /* general-purpose registers saved per thread */

struct am_leak_thread {
	int tid;
	int state;                      /* enum in stop.c */
	uintptr_t sp;                   /* stack pointer when parked (0: not parked) */
	uintptr_t tp;                   /* thread pointer (%fs base) when parked */
	uintptr_t regs[AM_LEAK_NREGS];  /* rax..r15 and rip when parked */
};

struct am_leak_threads {
	struct am_leak_thread *t;       /* one per thread found, the scanner's first */
	unsigned n, cap;
	unsigned unstopped;             /* threads found but not parked */
	unsigned overflow;              /* of which found with no slot left */
	int sig;                        /* the signal used, 0: none */
};

/* Parks every other thread of the process in a signal handler (their
 * registers and stack pointer saved in *ts), or records that it could
 * not; with stop 0, only finds them (all unstopped). The scanner's own
 * slot (t[0]) gets sp and regs from the caller.
 * Threads inside allocmap's index, tiers, mapping calls or heap reads
 * refuse to park (they may hold what the scan needs); they are asked
 * again for a while, then left running (counted as unstopped).
 * 0, or -1 if no memory for the slots (nothing was stopped). */
int am_leak_stop(struct am_leak_threads *ts, uintptr_t sp, const uintptr_t *regs, int stop);
/* Lets every parked thread go and frees the slots. */
void am_leak_resume(struct am_leak_threads *ts);

/* ---- table.c ---- */

struct am_leak_table {
	uintptr_t *base;                /* chunk starts, ascending */
	size_t *size;                   /* bytes asked for */
	const void **site;
	uint8_t *state;                 /* mark.c's */
	size_t n, cap;
	uintptr_t lo, hi;               /* lowest start, highest end */
	uint32_t *bucket;               /* bucket[b]: the first chunk starting at or
					   above lo + (b << shift); nbuckets + 1 of them */
	size_t nbuckets;
	unsigned shift;
};

/* Fills t with every live chunk the heap index knows. 0, or -1 if the
 * tier refused memory (t is then empty). */
int am_leak_table_fill(struct am_leak_table *t);
void am_leak_table_free(struct am_leak_table *t);

/* The index of the chunk holding address w (its extent is the size asked
 * for; a chunk of 0 bytes holds its start only), or -1. A bucket narrows
 * the binary search to the chunks starting in w's bucket and the last
 * one before it. */
static inline long am_leak_table_find(const struct am_leak_table *t, uintptr_t w)
{
	if (w < t->lo || w >= t->hi)
		return -1;
	size_t k = (w - t->lo) >> t->shift;
	size_t lo = t->bucket[k] ? t->bucket[k] - 1 : 0, hi = t->bucket[k + 1]; /* the answer is below hi */
	if (hi <= lo)
		hi = lo + 1;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (t->base[mid] <= w)
			lo = mid;
		else
			hi = mid;
	}
	uintptr_t start = t->base[lo];
	return w >= start && (w - start < t->size[lo] || w == start) ? (long)lo : -1;
}

/* ---- roots.c ---- */

/* Calls fn(lo, hi, arg) for each range of roots: readable and writable
 * maps of the program's (loaded objects' data and bss, anonymous
 * mappings, stacks from their thread's stack pointer up; not the heap's
 * arenas, not allocmap's own memory — its tiers, its own data and bss,
 * each thread's allocmap TLS — not file mappings), and each loaded
 * object's RELRO. unreadable(lo, hi, arg) is told each part of a heap
 * arena that cannot be read. */
struct am_leak_roots {
	void (*fn)(uintptr_t lo, uintptr_t hi, void *arg);
	void (*unreadable)(uintptr_t lo, uintptr_t hi, void *arg);
	void *arg;
	const struct am_leak_threads *threads;
	size_t bytes;                   /* root bytes handed to fn */
};
void am_leak_roots_each(struct am_leak_roots *r);

/* ---- mark.c ---- */

enum am_leak_state { AM_LK_UNREACHED, AM_LK_POSSIBLE, AM_LK_REACHABLE, AM_LK_INDIRECT };

/* Marks t's chunks from the roots and the threads' registers, then
 * groups what was not reached into cliques (Valgrind's algorithm: a
 * chunk reached only from an unreached one is indirectly lost).
 * Afterwards t->state[i] is the chunk's class. 0, or -1 if the tier
 * refused memory (states are then unreliable). */
int am_leak_mark(struct am_leak_table *t, const struct am_leak_threads *ts, size_t *root_bytes);

/* ---- sort.c ---- */

/* Sorts n elements of `size` bytes (at most 128) at a by less(x, y). */
void am_leak_sort(void *a, size_t n, size_t size, int (*less)(const void *, const void *));

/* ---- group.c ---- */

struct am_leak_groups {
	struct allocmap_leak_group *g;  /* sorted: class, then bytes descending */
	size_t n;
	struct allocmap_leak_totals tot;
};
/* Groups t's chunks by (class, site), describes the sites (still
 * reachable ones only if describe_reachable: it costs a symbol search
 * per site) and applies suppressions. 0, or -1 without memory. */
int am_leak_group(const struct am_leak_table *t, int describe_reachable, struct am_leak_groups *out);
void am_leak_groups_free(struct am_leak_groups *g);

/* ---- objhdr.c ---- */

struct am_leak_object {
	uintptr_t bias;                 /* run-time address - the object's own */
	uintptr_t relro_lo, relro_hi;   /* run-time PT_GNU_RELRO, or empty */
	size_t tls_size;                /* PT_TLS's p_memsz: one thread's TLS block, or 0 */
};
/* The layout of the object whose first map starts at lo (readable: the
 * caller knows). 0, or -1 if no ELF header is there (*out zeroed). */
int am_leak_object_layout(uintptr_t lo, struct am_leak_object *out);

/* ---- touched.c ---- */

/* /proc/self/pagemap opened, or -1. */
int am_leak_pagemap_open(void);
/* Calls fn(lo, hi, arg) for each run of [lo, hi) (private anonymous
 * memory) on pages ever touched, in order; all of it if fd is -1 or
 * pagemap cannot be read there. */
void am_leak_touched_each(int fd, uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t, uintptr_t, void *), void *arg);

/* ---- site.c ---- */

/* Fills g's object, offset and symbol from its site. */
void am_leak_site_describe(struct allocmap_leak_group *g);

/* ---- suppress.c ---- */

/* Whether a group is suppressed: by the default set, or by a pattern
 * of the file ALLOCMAP_SUPPRESSIONS names (read once). */
int am_leak_suppressed(const struct allocmap_leak_group *g);

/* ---- atexit.c ---- */

/* The destructor's part: when ALLOCMAP_LEAKS asks for it, scans, writes
 * the summary to stderr and the .leaks file, and with "error" arranges
 * the exit status. */
void am_leak_at_exit(void);

#endif
