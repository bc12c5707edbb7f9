/* The debug build's checks (make debug: compiled with -DAM_DEBUG).
 *
 * AM_DEBUG_VALIDATE is 1 in that build and 0 otherwise, a constant for
 * ordinary `if`s, so the checks are compiled (and type-checked) in every
 * build and cost nothing outside the debug one. There, the structures'
 * validators (am_<module>_validate, README "Where things live") run at
 * every exit of an index writer and every leave of a private tier, and
 * the first broken invariant ends the process.
 */
#ifndef AM_SYS_DEBUG_H
#define AM_SYS_DEBUG_H

#include <stddef.h>

#ifdef AM_DEBUG
#define AM_DEBUG_VALIDATE 1
#else
#define AM_DEBUG_VALIDATE 0
#endif

/* broken: a validator's count. If non-zero, says on stderr
 * "allocmap: debug: N broken invariants in WHAT at WHERE; aborting" and
 * kills the process with SIGABRT (raw system calls, no allocation: safe
 * under any lock, in a signal handler). */
void am_debug_require(size_t broken, const char *what, const char *where);

#endif
