/* A timer handler that maps and unmaps memory while the main thread's
 * own mapping calls run (issue 17, defect 5: each handler's change inside
 * a call was dropped and cost a full re-read of /proc/self/maps).
 *
 *   prog_sigmap [SECONDS]   (default 1)
 *
 * The handler (through sigaction, every 100 us) maps a page, checks that
 * the index knows it, and unmaps it; the main thread loops over mmap,
 * mprotect and munmap. Prints the handler's runs, the index's re-reads
 * and dropped changes; exit 0 if no change was dropped, at most 2
 * re-reads were made and allocmap_check(2) finds nothing.
 */
#include <allocmap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

#include "expect.h"

static volatile unsigned long runs, wrong;

static void on_alarm(int sig)
{
	(void)sig;
	struct allocmap_info i;
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	if (allocmap_query(p, &i) != 0 || i.base != p)
		wrong++;
	munmap(p, PAGE);
	runs++;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1;
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct itimerval it = {{0, 100}, {0, 100}};
	struct allocmap_index_stats before, after;
	EXPECT(sigaction(SIGALRM, &sa, NULL) == 0);
	allocmap_index_stats(&before);
	EXPECT(setitimer(ITIMER_REAL, &it, NULL) == 0);
	for (double end = now() + seconds; now() < end;) {
		char *p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		EXPECT(p != MAP_FAILED);
		EXPECT(mprotect(p + PAGE, PAGE, PROT_READ) == 0);
		EXPECT(munmap(p, 8 * PAGE) == 0);
	}
	it = (struct itimerval){{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
	allocmap_index_stats(&after);
	unsigned long resyncs = after.resyncs - before.resyncs, dropped = after.dropped - before.dropped;
	printf("%lu handler runs, %lu re-reads, %lu dropped, %lu wrong answers in the handler\n", runs, resyncs,
	       dropped, wrong);
	EXPECT(runs > 100 && dropped == 0 && resyncs <= 2 && wrong == 0 && allocmap_check(2) == 0);
	return 0;
}
