/* More distinct mappings than the index can hold, run by exhaust.sh.
 *
 *   prog_exhaust exhaust    (with a small ALLOCMAP_MAX_SEQUENCES): the
 *       no-mmap tier runs out of records long before the kernel's
 *       vm.max_map_count;
 *   prog_exhaust mapcount   (default sizing): the kernel's map count runs
 *       out first, so mprotect starts failing with ENOMEM in the middle of
 *       mapped memory.
 *
 * Both map one region of NPAGES pages PROT_READ and then give every other
 * page another protection, one mprotect per page (each makes two more
 * kernel mappings), keeping the truth: a refused mprotect changed nothing.
 * Then, and every CHECK_EVERY calls on the way, every page's query must
 * answer -1 (unknown) or exactly the true protection — never a wrong one.
 * Afterwards the program unmaps the region and must find the index working
 * again for new mappings. Prints what it saw; exits 1 on a failed
 * expectation. exhaust.sh checks stderr for the library's one warning.
 */
#include <allocmap.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "expect.h"
#define NPAGES 300000
#define CHECK_EVERY 20000

static signed char truth[NPAGES];
static char *region;

struct tally {
	long known, unknown;
};

static struct tally verify(void)
{
	struct tally t = {0, 0};
	for (long k = 0; k < NPAGES; k++) {
		struct allocmap_info in;
		if (allocmap_query(region + k * PAGE, &in) != 0) {
			EXPECT(in.kind == ALLOCMAP_UNKNOWN);
			t.unknown++;
			continue;
		}
		if (in.prot != truth[k]) {
			fprintf(stderr, "page %ld (%p): index says prot %d, truth %d\n", k, (void *)(region + k * PAGE),
				in.prot, truth[k]);
			exit(1);
		}
		t.known++;
	}
	return t;
}

static void stats(const char *when)
{
	struct allocmap_index_stats st;
	struct allocmap_tier_stats ts;
	EXPECT(allocmap_index_stats(&st) == 0);
	EXPECT(allocmap_tier_stats(ALLOCMAP_TIER_NOMMAP, &ts) == 0);
	printf("%-10s maps %llu, missed %llu; no-mmap tier reserved %zu KiB, in use %zu KiB (peak %zu), "
	       "failed %llu\n",
	       when, (unsigned long long)st.maps, (unsigned long long)st.missed, ts.reserved >> 10, ts.in_use >> 10,
	       ts.peak_in_use >> 10, (unsigned long long)ts.failed);
}

static uint64_t missed(void)
{
	struct allocmap_index_stats st;
	EXPECT(allocmap_index_stats(&st) == 0);
	return st.missed;
}

/* Every other page to PROT_NONE; returns how many calls the kernel refused. */
static long alternate(void)
{
	long refused = 0;
	for (long k = 1; k < NPAGES; k += 2) {
		if (mprotect(region + k * PAGE, PAGE, PROT_NONE) == 0) {
			truth[k] = PROT_NONE;
		} else {
			EXPECT(errno == ENOMEM);
			refused++;
		}
		if ((k / 2) % CHECK_EVERY == 0)
			verify();
	}
	return refused;
}

/* The index still works once memory is given back. */
static void recovers(void)
{
	struct allocmap_info in;
	EXPECT(munmap(region, NPAGES * PAGE) == 0);
	EXPECT(allocmap_query(region, &in) == -1);
	char *p = mmap(NULL, 8 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(p != MAP_FAILED);
	EXPECT(allocmap_query(p + PAGE, &in) == 0 && in.kind == ALLOCMAP_ANON && in.prot == PROT_READ);
	EXPECT(in.base == p && in.size == 8 * PAGE);
	EXPECT(mprotect(p, PAGE, PROT_NONE) == 0);
	EXPECT(allocmap_query(p, &in) == 0 && in.prot == PROT_NONE);
	munmap(p, 8 * PAGE);
	void *m = malloc(1 << 20);
	EXPECT(m && allocmap_query(m, &in) == 0);
	free(m);
}

int main(int argc, char **argv)
{
	int exhaust = argc == 2 && !strcmp(argv[1], "exhaust");
	if (argc != 2 || (!exhaust && strcmp(argv[1], "mapcount"))) {
		fprintf(stderr, "usage: %s exhaust|mapcount\n", argv[0]);
		return 2;
	}
	stats("start");
	region = mmap(NULL, NPAGES * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	EXPECT(region != MAP_FAILED);
	memset(truth, PROT_READ, sizeof truth);
	long refused = alternate();
	struct tally t = verify();
	printf("%-10s %d mprotects, %ld refused by the kernel; %ld pages known (all right), %ld unknown\n",
	       argv[1], NPAGES / 2, refused, t.known, t.unknown);
	stats("after");
	EXPECT(missed() > 0);
	EXPECT(t.unknown > 0 && t.known > 0);
	if (!exhaust)
		EXPECT(refused > 0); /* else the kernel's limit was not reached */
	recovers();
	stats("end");
	return 0;
}
