/* The live file (include/allocmap_live.h, doc/report-data.md): this
 * process's figures in a file of the run directory, mapped MAP_SHARED and
 * kept current; see livefile.c (creation, process, fork), livemap.c (its
 * one mapping), livemods.c (loaded objects), liveend.c (how it ended).
 *
 * All of it: no allocation, no stdio, raw system calls only.
 */
#ifndef AM_REPORT_LIVE_H
#define AM_REPORT_LIVE_H

#include <stddef.h>

#include "../../include/allocmap_live.h"

/* livefile.c. At start-up (single-threaded): when ALLOCMAP_RUN_DIR names
 * an absolute path to a directory owned by our effective user (ignored in
 * a set-uid/set-gid process), creates and maps the live file and turns
 * the heap's figures on; a bad value is said once and the program runs
 * on without one. 0 if a live file exists now. */
int am_live_start(void);
/* In a forked child (the fork handler, one thread): the child's own file,
 * begun as a copy of its parent's (the child's live chunks are its
 * parent's), with its counters since the fork; the parent's mapping is
 * dropped whatever happens, so the child never writes its parent's file. */
void am_live_forked(void);
/* The live file if this process made it (not a vfork child's parent's), else NULL. */
struct allocmap_live *am_live_mine(void);
/* The seqlock over the sections written whole (allocmap_live.h). Writers
 * are rare (start, loader events, the end); begin spins only a bounded
 * time (a signal handler may interrupt a writer) and then writes anyway. */
void am_live_write_begin(struct allocmap_live *L);
void am_live_write_end(struct allocmap_live *L);
/* Nanoseconds since the process started (CLOCK_MONOTONIC). */
uint64_t am_live_now(const struct allocmap_live *L);

/* livemap.c: the live file's mapping, the report layer's only one: fd
 * mapped shared, read-write, len bytes, and indexed as allocmap's; NULL if
 * the kernel refused. unmap: the reverse. */
void *am_live_map(int fd, size_t len, const char *path);
void am_live_unmap(void *p, size_t len);

/* livemods.c: rewrites the module table from the loader's list (at start,
 * and after each loader change: the index calls it). */
void am_live_modules(void);
/* Copies string from (NULL: empty) into to[cap], truncated, NUL-ended. */
void am_live_copy(char *to, size_t cap, const char *from);

/* liveend.c: the end of this process (enum allocmap_live_end): writes the
 * end section — duration, RSS, the address space, allocmap's own, the
 * counters — and the last peak copy. status_known: 0 when main returned
 * (the status is the CLI's, from wait). ALLOCMAP_END_RUNNING undoes an
 * exec that failed. Safe in a signal handler. */
void am_live_end(unsigned reason, int status, int status_known, int sig);
/* exit(status) was called: the status for the destructor's end. */
void am_live_exit_status(int status);

#endif
