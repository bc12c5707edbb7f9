/* Unit tests of stratification (src/index/strat.c): the mmap tier's own
 * chunks re-enter the mapping index, which allocates only from the no-mmap
 * tier, so the recursion depth is at most 1.
 *
 * The library is set up by hand (fixture.h). Churn
 * threads map, protect and unmap with raw libc calls and report each
 * change through the hook contract (am_ev_*), as the patched libc would,
 * while a grower thread makes the mmap tier map and unmap chunks (big
 * am_palloc_malloc / free). Afterwards: max depth exactly 1, no
 * violation, the index valid and equal to /proc/self/maps.
 * The last tests break the rule on purpose (in a forked child) to show
 * that the check sees it.
 * ALLOCMAP_TEST_SCALE (default 1) scales the churn (valgrind runs 0.02).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#else
#define UNDER_VALGRIND() 0
#endif

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/allocmap.h"
#include "fixture.h"

#define PAGE 4096UL
#define CHURNERS 4

static double scale(void)
{
	const char *s = getenv("ALLOCMAP_TEST_SCALE");
	double v = s ? atof(s) : 1.0;
	return v > 0 ? v : 1.0;
}

static int setup(void **state)
{
	(void)state;
	return am_test_library_init();
}

static void index_stats(struct am_index_stats *st) { am_index_stats(st); }

/* Before any tier growth, every index entry was a program's call. */
static void test_depth_zero_at_start(void **state)
{
	struct am_index_stats st;
	(void)state;
	index_stats(&st);
	assert_int_equal(st.max_depth, 0);
	assert_int_equal(st.depth_violations, 0);
}

static int stop;

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* One churn step: map, split by mprotect, unmap (reported like the hooks). */
static void churn_once(unsigned *s)
{
	size_t n = 1 + rnd(s) % 64, len = n * PAGE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	am_ev_mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, (void *)churn_once);
	size_t k = rnd(s) % n;
	if (mprotect(p + k * PAGE, PAGE, PROT_READ) == 0)
		am_ev_mprotect(p + k * PAGE, PAGE, PROT_READ);
	if (munmap(p, len) == 0)
		am_ev_munmap(p, len);
}

static void *churner(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;
	long n = 0;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		churn_once(&s), n++;
	return (void *)n;
}

/* Grows the mmap tier by big blocks and frees them (chunks mapped and
 * unmapped through the index); returns how many chunk maps it caused. */
static long grow_and_shrink(int rounds)
{
	long grew = 0;
	for (int r = 0; r < rounds; r++) {
		void *b[6];
		size_t before = am_tier_mmap.nchunks;
		for (int k = 0; k < 6; k++) {
			b[k] = am_palloc_malloc(&am_tier_mmap, ((size_t)1 << 20) << (k % 4));
			assert_non_null(b[k]);
			memset(b[k], k, 4096);
		}
		grew += am_tier_mmap.nchunks > before;
		for (int k = 5; k >= 0; k--)
			am_palloc_free(&am_tier_mmap, b[k]);
	}
	return grew;
}

static void test_churn_with_tier_growth(void **state)
{
	pthread_t t[CHURNERS];
	struct am_index_stats st;
	(void)state;
	int rounds = (int)(400 * scale()) + 2;
	for (int k = 0; k < CHURNERS; k++)
		assert_int_equal(pthread_create(&t[k], NULL, churner, (void *)(uintptr_t)(k + 1)), 0);
	long grew = grow_and_shrink(rounds);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	long churned = 0;
	for (int k = 0; k < CHURNERS; k++) {
		void *r;
		pthread_join(t[k], &r);
		churned += (long)r;
	}
	index_stats(&st);
	print_message("%ld churn steps, %d grow rounds (%ld grew the tier; footprint %zu KiB, peak %zu KiB), "
		      "max depth %u, violations %llu\n",
		      churned, rounds, grew, am_tier_mmap.footprint >> 10, am_tier_mmap.peak_footprint >> 10,
		      st.max_depth, (unsigned long long)st.depth_violations);
	assert_true(grew > 0);
	assert_true(am_tier_mmap.footprint < am_tier_mmap.peak_footprint); /* chunks were unmapped too */
	assert_int_equal(st.max_depth, 1);
	assert_int_equal(st.depth_violations, 0);
	assert_int_equal(am_index_validate(), 0);
	/* the threads' stacks and libc's own mappings came without hooks */
	assert_int_equal(am_index_resync(), 0);
	int n = allocmap_check(2);
	/* valgrind maps translation memory of its own (rwx) as new code runs,
	 * the check's own code included: no hook sees it */
	if (!UNDER_VALGRIND())
		assert_int_equal(n, 0);
}

/* The tier's chunks are indexed as allocmap's own. */
static void test_chunks_indexed_as_self(void **state)
{
	struct allocmap_info in;
	(void)state;
	void *p = am_palloc_malloc(&am_tier_mmap, (size_t)3 << 20);
	assert_non_null(p);
	assert_int_equal(allocmap_query(p, &in), 0);
	assert_int_equal(in.kind, ALLOCMAP_SELF);
	assert_string_equal(in.allocator, "allocmap-mmap");
	am_palloc_free(&am_tier_mmap, p);
}

/* Runs fn in a child and returns its exit status. */
static int in_child(void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

/* The index itself growing the mmap tier: counted (once), and the nested
 * entry of the tier's chunk is refused (dropped, resynchronised). */
static void index_grows_tier(void)
{
	struct am_index_stats st;
	am_ix_begin();
	void *p = am_palloc_malloc(&am_tier_mmap, (size_t)64 << 20); /* needs a new chunk */
	am_ix_end();
	am_palloc_free(&am_tier_mmap, p);
	index_stats(&st);
	_exit(p && st.depth_violations == 1 && st.events[AM_EV_DROPPED] >= 1 && allocmap_check(-1) == 1 ? 0 : 1);
}

static void test_violation_index_uses_tier(void **state)
{
	(void)state;
	assert_int_equal(in_child(index_grows_tier), 0);
}

/* A chunk map made while handling a chunk map: depth 2. */
static void nested_tier_call(void)
{
	struct am_index_stats st;
	am_strat_tier_begin();
	am_strat_tier_begin();
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	am_ev_mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL);
	am_strat_tier_end();
	am_strat_tier_end();
	index_stats(&st);
	_exit(st.max_depth == 2 && st.depth_violations == 1 ? 0 : 1);
}

static void test_violation_depth_two(void **state)
{
	(void)state;
	assert_int_equal(in_child(nested_tier_call), 0);
}

/* A handler's mapping call interrupting a writer is no violation. */
static void handler_reentry(void)
{
	struct am_index_stats st;
	am_ix_begin();
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	am_ev_mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL); /* as from a handler */
	am_ix_end();
	index_stats(&st);
	_exit(st.depth_violations == 0 && st.events[AM_EV_DROPPED] >= 1 && allocmap_check(-1) == 0 ? 0 : 1);
}

static void test_handler_reentry_not_a_violation(void **state)
{
	(void)state;
	assert_int_equal(in_child(handler_reentry), 0);
}

/* A mapping event whose caller lies in allocmap's own text is a self-call
 * that took the program's path: counted, and allocmap_check says so; one
 * from elsewhere is not. The test's own function stands for that text. */
/* Stands for allocmap's text: never called, so no real call returns into it. */
__attribute__((noinline, used)) static int stand_in_text(int x) { return x * 3 + 1; }

static void self_call_through_hook(void)
{
	struct am_index_stats st;
	uintptr_t own = (uintptr_t)&stand_in_text;
	am_strat_set_own_text(own, own + 64);
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	am_ev_mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, (void *)(own + 8));
	char *q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	am_ev_mmap(q, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, (void *)(own + 64));
	index_stats(&st);
	/* under valgrind the check also sees valgrind's own mappings: the
	 * count is the evidence there */
	_exit(st.depth_violations == 1 && (UNDER_VALGRIND() || allocmap_check(-1) == 1) ? 0 : 1);
}

static void test_violation_self_call(void **state)
{
	(void)state;
	assert_int_equal(in_child(self_call_through_hook), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth_zero_at_start),
		cmocka_unit_test(test_churn_with_tier_growth),
		cmocka_unit_test(test_chunks_indexed_as_self),
		cmocka_unit_test(test_violation_index_uses_tier),
		cmocka_unit_test(test_violation_depth_two),
		cmocka_unit_test(test_handler_reentry_not_a_violation),
		cmocka_unit_test(test_violation_self_call),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
