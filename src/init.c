/* Start-up and shutdown of the library.
 *
 * The constructor runs as early as a constructor can (priority 101) when
 * the library is preloaded or linked: options, the two private tiers, the
 * self-mapping window, the mapping index (from /proc/self/maps), then the
 * hooks. Everything the program mapped before that is found by the
 * initial read of the maps. Single-threaded by construction (constructors
 * of preloaded libraries run before main).
 *
 * Environment:
 *   ALLOCMAP_DISABLE=1           load, but index nothing and hook nothing
 *   ALLOCMAP_MAX_SEQUENCES=N     the no-mmap tier's sizing bound (default 65536)
 *   ALLOCMAP_CHECK_AT_EXIT=1     run allocmap_check at exit and report
 *   ALLOCMAP_REPORT=FILE         at exit, write a summary to FILE ("-": stderr; "%p": the pid)
 *   ALLOCMAP_LEAKS=1|error       at exit, a leak scan (src/leak/atexit.c)
 *   ALLOCMAP_SUPPRESSIONS=FILE   leak suppressions (src/leak/suppress.c)
 *   ALLOCMAP_RUN_DIR=DIR         keep this process's figures in DIR/proc-<pid>.live (report/live.h)
 */
#include <sys/resource.h>

#include "../include/allocmap.h"
#include "heap/heap.h"
#include "hook/hook.h"
#include "fork.h"
#include "init.h"
#include "index/mapindex.h"
#include "index/pageindex.h"
#include "index/selfmap.h"
#include "leak/leak.h"
#include "sys/log.h"
#include "sys/syscall.h"
#include "options.h"
#include "palloc/palloc.h"
#include "report/live.h"
#include "report/report.h"

static int started;

/* How the process ends, from the interposed exit calls and the fatal
 * signal handler (hook.h). */
static void on_end(unsigned reason, int status)
{
	if (reason == ALLOCMAP_END_EXIT)
		am_live_exit_status(status);
	else if (reason == ALLOCMAP_END_SIGNAL)
		am_live_end(reason, 0, 0, status);
	else
		am_live_end(reason, status, 1, 0);
}

/* The address space the process may have: the lower soft limit of
 * RLIMIT_DATA (private writable memory, MAP_NORESERVE included) and
 * RLIMIT_AS, or 0 when both are unlimited. */
static uint64_t space_limit(void)
{
	uint64_t data = 0, as = 0, lim = 0;
	if (am_sys_getrlimit(RLIMIT_DATA, &data) == 0 && data != (uint64_t)RLIM_INFINITY)
		lim = data;
	if (am_sys_getrlimit(RLIMIT_AS, &as) == 0 && as != (uint64_t)RLIM_INFINITY && (!lim || as < lim))
		lim = as;
	return lim;
}

/* Under a limit, allocmap's reservations take a small part of it: the
 * no-mmap tier at most 1/16 (fewer sequences can be indexed: past them,
 * ranges are counted as missed), the page index only if it fits in 1/8
 * (else lookups binary-search). Said once. */
static size_t nommap_reserve(void)
{
	size_t nseq = am_env_size("ALLOCMAP_MAX_SEQUENCES", AM_MAX_SEQUENCES_DEFAULT, 64, (size_t)1 << 24);
	size_t want = AM_NOMMAP_RESERVE(nseq);
	uint64_t lim = space_limit();
	if (!lim || (want <= lim / 16 && am_pageindex_bytes() <= lim / 8))
		return want;
	if (want > lim / 16)
		want = lim / 16 > AM_NOMMAP_MIN_RESERVE ? (size_t)(lim / 16) & ~(size_t)4095 : AM_NOMMAP_MIN_RESERVE;
	if (am_pageindex_bytes() > lim / 8)
		am_pageindex_forgo();
	am_log("the process's address space is limited to %llu MiB (RLIMIT_DATA/RLIMIT_AS): allocmap reserves "
	       "%zu MiB for its records%s", (unsigned long long)(lim >> 20), want >> 20,
	       am_pageindex_bytes() > lim / 8 ? " and does without its page index (lookups by binary search)" : "");
	return want;
}

void am_init_once(void)
{
	if (started++)
		return;
	am_hook_resolve_malloc();
	am_hook_owner_set();
	if (am_env_bool("ALLOCMAP_DISABLE", 0) || am_nommap_init(&am_tier_nommap, nommap_reserve()) != 0) {
		am_heap_forward_only();
		return;
	}
	am_mmaptier_init(&am_tier_mmap);
	am_selfmap_install();
	am_heap_start();
	if (am_index_init() != 0)
		am_log("could not read /proc/self/maps; the index starts incomplete");
	if (am_hook_install() != 0)
		am_log("interception is incomplete; the index will miss mapping changes");
	am_fork_install();
	if (am_live_start() == 0) {
		am_ev_on_loader(am_live_modules);
		am_hook_on_end(on_end);
		am_hook_fatal_install();
	}
}

__attribute__((constructor(101))) static void am_init(void) { am_init_once(); }

__attribute__((destructor)) static void am_fini(void)
{
	am_live_end(ALLOCMAP_END_EXIT, 0, 0, 0);
	if (!started)
		return;
	am_leak_at_exit();
	if (am_report_at_exit() || !am_env_bool("ALLOCMAP_CHECK_AT_EXIT", 0))
		return;
	int n = allocmap_check(2);
	if (n < 0)
		am_log("the check at exit could not run");
	else
		am_log("%d discrepancies", n);
}
