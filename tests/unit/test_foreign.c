/* Unit tests of the heap index for a malloc other than glibc's
 * (src/heap/foreign.c, its part of heapindex.c and heapcheck.c) on a
 * fabricated arena: 40 MiB at the program break (fixture.h), where chunks
 * are placed as such an allocator might (any 16-byte aligned address, no
 * headers), recorded and forgotten as our malloc family does.
 *
 * Chunks of 1 B to 2 KiB, every 15th 16 to 100 KiB (found from deep
 * inside through start and end marks), and one of 20 MiB across a bitmap
 * leaf boundary; gaps of 0 to 3 units between them. Then: every interior
 * query finds its chunk exactly (base, size, requested size, site); the
 * trailer and the gaps do not; forgotten chunks are gone; the validator
 * is clean, and sees each forged discrepancy; a stray mark is repaired.
 * The tests run in order, each on what the one before left; skipped if
 * the program break cannot be extended by a mapping (valgrind).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../include/allocmap.h"
#include "../../src/heap/fastpath.h"
#include "../../src/heap/heap.h"
#include "../../src/heap/heapmeta.h"
#include "fixture.h"

#define ARENA ((size_t)40 << 20)
#define NCHUNKS 1500
#define HUGE_K 700                     /* this chunk is 20 MiB */
#define HUGE ((size_t)20 << 20)

static uintptr_t arena;
static uintptr_t user[NCHUNKS];
static size_t req[NCHUNKS];
static const void *const site = (const void *)0x405678;

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static size_t extent(size_t n) { return (n + 8 + 15) & ~(size_t)15; }

static void lay_out(unsigned seed)
{
	uintptr_t at = arena + 4096;
	for (int k = 0; k < NCHUNKS; k++) {
		size_t n = k == HUGE_K ? HUGE - 100 : k % 15 == 14 ? 16384 + rnd(&seed) % 86000 : 1 + rnd(&seed) % 2048;
		at += (rnd(&seed) % 4) * 16;
		user[k] = at, req[k] = n;
		at += extent(n);
	}
	assert_true(at <= arena + ARENA);
}

static int setup(void **state)
{
	(void)state;
	if (am_test_library_init() != 0)
		return -1;
	am_heap_mode = AM_HEAP_FOREIGN;
	arena = am_test_arena_at_break(ARENA, (const void *)setup);
	return 0;
}

static void record_all(void)
{
	for (int k = 0; k < NCHUNKS; k++)
		am_foreign_record((void *)user[k], req[k], site);
}

static void expect_chunk(int k)
{
	struct allocmap_info i;
	size_t usable = extent(req[k]) - 8;
	assert_int_equal(am_foreign_usable((void *)user[k]), usable);
	uintptr_t at[] = {user[k], user[k] + req[k] / 2, user[k] + req[k] - 1, user[k] + usable - 1};
	for (size_t n = 0; n < sizeof at / sizeof at[0]; n++) {
		assert_int_equal(allocmap_query((const void *)at[n], &i), 0);
		assert_int_equal(i.kind, ALLOCMAP_HEAP_CHUNK);
		assert_ptr_equal(i.base, (const void *)user[k]);
		assert_int_equal(i.size, usable);
		assert_int_equal(i.requested, req[k]);
		assert_ptr_equal(i.site, site);
	}
}

static void expect_not_chunk(uintptr_t a)
{
	struct allocmap_info i;
	assert_int_equal(allocmap_query((const void *)a, &i), 0);
	assert_int_equal(i.kind, ALLOCMAP_BRK);
}

static void test_records_and_queries(void **state)
{
	(void)state;
	if (!arena)
		skip();
	lay_out(3);
	record_all();
	for (int k = 0; k < NCHUNKS; k++) {
		expect_chunk(k);
		uintptr_t trailer = user[k] + extent(req[k]) - 8;
		if (k + 1 == NCHUNKS || user[k + 1] > trailer + 8)
			expect_not_chunk(trailer + 8); /* a gap */
		if (k + 1 == NCHUNKS || user[k + 1] != trailer + 8)
			expect_not_chunk(trailer);
	}
	assert_int_equal(am_heap_validate(2), 0);
}

static void test_forget(void **state)
{
	(void)state;
	if (!arena)
		skip();
	for (int k = 0; k < NCHUNKS; k += 2)
		am_foreign_forget((void *)user[k]);
	for (int k = 0; k < NCHUNKS; k++)
		if (k % 2)
			expect_chunk(k);
		else
			expect_not_chunk(user[k] + req[k] / 2);
	assert_int_equal(am_heap_validate(2), 0);
	record_all(); /* the odd ones again: as after free and malloc at the same place */
	for (int k = 0; k < NCHUNKS; k++)
		expect_chunk(k);
	assert_int_equal(am_heap_validate(2), 0);
}

static void test_unaligned_is_not_indexed(void **state)
{
	(void)state;
	if (!arena)
		skip();
	struct allocmap_heap_stats st;
	allocmap_heap_stats(&st);
	uint64_t before = st.unindexed;
	uintptr_t odd = user[NCHUNKS - 1] + extent(req[NCHUNKS - 1]) + 4096 + 8;
	am_foreign_record((void *)odd, 100, site);
	allocmap_heap_stats(&st);
	assert_int_equal(st.unindexed, before + 1);
	expect_not_chunk(odd + 10);
	am_foreign_forget((void *)odd);
	assert_int_equal(am_heap_validate(2), 0);
}

/* The start-bit leaf and index of chunk k, through the brk lane. */
static uint64_t *start_leaf(int k, size_t *bit)
{
	uint64_t *leaf = NULL;
	assert_true(am_lane_find(user[k], &leaf, bit) && leaf);
	return leaf;
}

/* Each kind of discrepancy, forged on one chunk and undone: the validator
 * reports exactly one, then none. */
static void test_validator_sees_each_forgery(void **state)
{
	(void)state;
	if (!arena)
		skip();
	int k = NCHUNKS / 3;
	while (k % 15 == 14 || k == HUGE_K)
		k++;
	size_t bit, u = extent(req[k]);
	uint64_t *leaf = start_leaf(k, &bit), *ends = am_leaf_ends(leaf);
	am_bit_update(ends, bit + u / 16 - 1, 0); /* its end bit lost: it runs into the next */
	assert_int_equal(am_heap_validate(-1), 1);
	am_bit_update(ends, bit + u / 16 - 1, 1);
	assert_int_equal(am_heap_validate(2), 0);

	uint64_t *trailer = (uint64_t *)(user[k] + u - 8), saved = *trailer;
	*trailer = (saved & 0xFFFFFFFFFFFFull) | (uint64_t)0x8000 << 48; /* slack > the chunk */
	assert_int_equal(am_heap_validate(-1), 1);
	*trailer = saved;

	int big = 14; /* a big chunk's start mark cleared */
	leaf = start_leaf(big, &bit);
	am_heap_mark_big(leaf, bit, 0);
	assert_int_equal(am_heap_validate(-1), 1);
	am_heap_mark_big(leaf, bit, 1);
	assert_int_equal(am_heap_validate(2), 0);
}

/* A mark whose chunk never got its start bit (a thread cut off by fork):
 * reported, then cleared by the child's repair; real marks stay. */
static void test_stray_mark_repaired(void **state)
{
	(void)state;
	if (!arena)
		skip();
	size_t bit;
	int big = 29;
	uint64_t *leaf = start_leaf(big, &bit);
	am_heap_mark_big(leaf, bit + 2 * 256, 1); /* two pages on: inside the big chunk */
	assert_int_equal(am_heap_validate(-1), 1);
	am_heap_repair_marks();
	assert_int_equal(am_heap_validate(2), 0);
	for (int k = 14; k < NCHUNKS; k += 15)
		expect_chunk(k);
	expect_chunk(HUGE_K);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_and_queries),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_unaligned_is_not_indexed),
		cmocka_unit_test(test_validator_sees_each_forgery),
		cmocka_unit_test(test_stray_mark_repaired),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
