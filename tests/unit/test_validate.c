/* Unit tests of the validators (am_<module>_validate): each structure is
 * broken on purpose, the validator must count it, and once mended it
 * must count nothing again. The pool of a TLSF engine (a free block its
 * list map forgets, a block whose neighbour's flags disagree), a tier
 * (its counts off from its blocks), the mapping index (two maps out of
 * order, a map not page-aligned, a page of a gap still referring to a
 * map), the recursion depth.
 *
 * Built a second time against the debug build's archive (make debug,
 * -DAM_DEBUG), it also shows that leaving a broken tier and ending an
 * index writer over a broken index abort the process with a message
 * naming the structure (in a forked child).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/index/pageindex.h"
#include "../../src/palloc/tier.h"
#include "../../src/palloc/tlsf.h"
#include "../../src/sys/thread.h"
#include "fixture.h"

#define POOL_BYTES 65536
#define HDR_SIZE_FIELD(p) ((size_t *)((char *)(p) - sizeof(size_t))) /* a block's size word */

static int setup(void **state)
{
	(void)state;
	return am_test_library_init();
}

static _Alignas(16) char pool_mem[POOL_BYTES];
static const void *const pool_end = pool_mem + POOL_BYTES;
static struct am_tlsf pool;

/* A fresh pool with blocks a, b (freed), c: b is a free block between two
 * used. Returns c. */
static void *pool_with_hole(void)
{
	am_tlsf_init(&pool);
	am_tlsf_add_pool(&pool, pool_mem, POOL_BYTES);
	void *a = am_tlsf_malloc(&pool, 100), *b = am_tlsf_malloc(&pool, 200), *c = am_tlsf_malloc(&pool, 300);
	assert_true(a && b && c);
	am_tlsf_free(&pool, b);
	assert_int_equal(am_tlsf_validate(&pool, pool_mem, pool_end), 0);
	return c;
}

static void test_tlsf_free_list_map(void **state)
{
	(void)state;
	pool_with_hole();
	uint64_t fl = pool.fl_map;
	pool.fl_map = 0; /* every free block's level now looks empty */
	assert_true(am_tlsf_validate(&pool, pool_mem, pool_end) >= 1);
	pool.fl_map = fl;
	assert_int_equal(am_tlsf_validate(&pool, pool_mem, pool_end), 0);
}

static void test_tlsf_neighbour_flags(void **state)
{
	(void)state;
	size_t *size = HDR_SIZE_FIELD(pool_with_hole()), was = *size;
	assert_true(was & 2); /* c follows the free block b */
	*size = was & ~(size_t)2;
	assert_int_equal(am_tlsf_validate(&pool, pool_mem, pool_end), 1);
	*size = was;
	assert_int_equal(am_tlsf_validate(&pool, pool_mem, pool_end), 0);
}

/* Inside the tier (as its writers are), so that the debug build's check
 * at the leave sees the tier mended. */
static void test_tier_counts(void **state)
{
	(void)state;
	struct am_tier *t = &am_tier_nommap;
	void *p = am_palloc_malloc(t, 48);
	assert_non_null(p);
	assert_int_equal(am_tier_enter(t), 0);
	assert_int_equal(am_palloc_validate_held(t), 0);
	t->in_use -= 16; /* (more would also pass the peak) */
	assert_int_equal(am_palloc_validate_held(t), 1);
	t->live_blocks++;
	assert_int_equal(am_palloc_validate_held(t), 2);
	t->in_use += 16, t->live_blocks--;
	assert_int_equal(am_palloc_validate_held(t), 0);
	am_tier_leave(t);
	am_palloc_free(t, p);
	assert_int_equal(am_palloc_validate(t), 0);
}

/* Two maps of the index, inside it as a writer. */
static void index_enter(struct am_map **m0, struct am_map **m1)
{
	assert_int_equal(am_ix_begin(), 0);
	assert_true(am_ix.n >= 2);
	*m0 = am_ix.arr[0], *m1 = am_ix.arr[1];
	assert_int_equal(am_index_validate_held(), 0);
}

static void test_index_order(void **state)
{
	(void)state;
	struct am_map *m0, *m1;
	index_enter(&m0, &m1);
	am_ix.arr[0] = m1, am_ix.arr[1] = m0;
	assert_true(am_index_validate_held() >= 1);
	am_ix.arr[0] = m0, am_ix.arr[1] = m1;
	assert_int_equal(am_index_validate_held(), 0);
	am_ix_end();
	assert_int_equal(am_index_validate(), 0);
}

static void test_index_alignment(void **state)
{
	(void)state;
	struct am_map *m0, *m1;
	index_enter(&m0, &m1);
	m0->lo += 8;
	assert_true(am_index_validate_held() >= 1);
	m0->lo -= 8;
	assert_int_equal(am_index_validate_held(), 0);
	am_ix_end();
}

/* The page just above the first map, in a gap or in the next map,
 * referring to the first map: counted until it refers to what holds it. */
static void test_index_page_left_behind(void **state)
{
	(void)state;
	struct am_map *m0, *m1;
	index_enter(&m0, &m1);
	uintptr_t gap = m0->hi;
	uint32_t was = am_pageindex_get(gap);
	assert_int_equal(am_index_validate_pages(gap - 4096, gap + 4096), 0);
	am_pageindex_set(gap, gap + 4096, am_ref_of(m0));
	assert_int_equal(am_index_validate_pages(gap - 4096, gap + 4096), 1);
	am_pageindex_set(gap, gap + 4096, was);
	assert_int_equal(am_index_validate_pages(gap - 4096, gap + 4096), 0);
	am_ix_end();
}

static void test_strat_depth(void **state)
{
	(void)state;
	size_t before = am_strat_validate();
	am_self.strat_depth = 2;
	assert_int_equal(am_strat_validate(), before + 1);
	am_self.strat_depth = 0;
	assert_int_equal(am_strat_validate(), before);
}

#ifdef AM_DEBUG
/* Runs breaks in a child with its stderr on a pipe: it must die of
 * SIGABRT having said `said`. */
static void expect_abort(void (*breaks)(void), const char *said)
{
	int fds[2];
	char out[512] = "";
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		dup2(fds[1], 2);
		breaks();
		_exit(0); /* not reached in a debug build */
	}
	close(fds[1]);
	ssize_t n = read(fds[0], out, sizeof out - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	print_message("child: %s", out);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	assert_non_null(strstr(out, said));
}

static void break_tier(void)
{
	am_tier_enter(&am_tier_nommap);
	am_tier_nommap.in_use -= 16;
	am_tier_leave(&am_tier_nommap);
}

static void break_index(void)
{
	am_ix_begin();
	am_ix.arr[0]->lo += 8;
	am_ix_end();
}

static void test_debug_tier_leave_aborts(void **state)
{
	(void)state;
	expect_abort(break_tier, "allocmap: debug: 1 broken invariants in allocmap-nommap at a tier's leave; aborting");
}

static void test_debug_writer_exit_aborts(void **state)
{
	(void)state;
	expect_abort(break_index, "broken invariants in the mapping index at an index writer's exit; aborting");
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlsf_free_list_map),
		cmocka_unit_test(test_tlsf_neighbour_flags),
		cmocka_unit_test(test_tier_counts),
		cmocka_unit_test(test_index_order),
		cmocka_unit_test(test_index_alignment),
		cmocka_unit_test(test_index_page_left_behind),
		cmocka_unit_test(test_strat_depth),
#ifdef AM_DEBUG
		cmocka_unit_test(test_debug_tier_leave_aborts),
		cmocka_unit_test(test_debug_writer_exit_aborts),
#endif
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
