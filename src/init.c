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
#include "../include/allocmap.h"
#include "heap/heap.h"
#include "hook/hook.h"
#include "fork.h"
#include "init.h"
#include "index/mapindex.h"
#include "index/selfmap.h"
#include "leak/leak.h"
#include "sys/log.h"
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

static size_t nommap_reserve(void)
{
	size_t nseq = am_env_size("ALLOCMAP_MAX_SEQUENCES", AM_MAX_SEQUENCES_DEFAULT, 64, (size_t)1 << 24);
	return AM_NOMMAP_RESERVE(nseq);
}

void am_init_once(void)
{
	if (started++)
		return;
	am_hook_resolve_malloc();
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
