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
 * is clean, and sees each forged discrepancy; a stray mark and end bits
 * without their chunk are repaired.
 * Chunks the index cannot keep exact are not indexed and leave nothing
 * behind: across two mappings, in a mapping inside the brk lane (made
 * before the lane opened, or after), over 4 GiB.
 * The tests run in order, each on what the one before left; skipped if
 * the program break cannot be extended by a mapping (valgrind).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../include/allocmap.h"
#include "../../src/sys/bitmap.h"
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
	size_t usable = extent(req[k]) - 8;
	assert_int_equal(am_foreign_usable((void *)user[k]), usable);
	uintptr_t at[] = {user[k], user[k] + req[k] / 2, user[k] + req[k] - 1, user[k] + usable - 1};
	am_test_expect_chunk(at, sizeof at / sizeof at[0], user[k], usable, req[k], site);
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
			am_test_expect_free(trailer + 8); /* a gap */
		if (k + 1 == NCHUNKS || user[k + 1] != trailer + 8)
			am_test_expect_free(trailer);
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
			am_test_expect_free(user[k] + req[k] / 2);
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
	am_test_expect_free(odd + 10);
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

/* The end-bit leaf and index of the unit at a, through the brk lane. */
static uint64_t *end_leaf(uintptr_t a, size_t *bit)
{
	uint64_t *leaf = NULL;
	assert_true(am_lane_find(a, &leaf, bit) && leaf);
	return am_leaf_ends(leaf);
}

/* An end bit set at a (a unit's address) ends no chunk: the validator
 * reports exactly it, then none once it is cleared. */
static void expect_orphan_seen(uintptr_t a)
{
	size_t bit;
	uint64_t *ends = end_leaf(a, &bit);
	am_bit_update(ends, bit, 1);
	assert_int_equal(am_heap_validate(-1), 1);
	am_bit_update(ends, bit, 0);
	assert_int_equal(am_heap_validate(2), 0);
}

/* End bits no chunk ends at: in a gap after a chunk, deep inside the 20
 * MiB chunk (a leaf or more past its start, in a page not end-marked), and
 * before the first chunk (no start before it at all). */
static void test_validator_sees_orphan_end_bits(void **state)
{
	(void)state;
	if (!arena)
		skip();
	int k = 1;
	while (user[k + 1] == user[k] + extent(req[k]))
		k++;
	expect_orphan_seen(user[k] + extent(req[k]));
	expect_orphan_seen(user[HUGE_K] + HUGE - (1 << 20));
	am_foreign_record((void *)(arena + 16), 8, site); /* makes the leaf there */
	am_foreign_forget((void *)(arena + 16));
	expect_orphan_seen(arena + 16);
}

/* What a thread cut off by fork leaves: the end bit of a chunk it was
 * recording (set before the start bit), and the end bit of one it was
 * forgetting (cleared after the start bit). Reported, then cleared by the
 * child's repair; every other chunk stays as it was. */
static void test_orphan_end_repaired(void **state)
{
	(void)state;
	if (!arena)
		skip();
	int k = 2, j = NCHUNKS / 2;
	while (user[k + 1] == user[k] + extent(req[k]))
		k++;
	while (j % 15 == 14 || j == HUGE_K)
		j++;
	size_t kbit, jstart, jbit;
	uint64_t *kends = end_leaf(user[k] + extent(req[k]), &kbit);
	uint64_t *jends = end_leaf(user[j] + extent(req[j]) - 16, &jbit), *jleaf = start_leaf(j, &jstart);
	am_bit_update(kends, kbit, 1);
	am_bit_update(jleaf, jstart, 0);
	assert_int_equal(am_heap_validate(-1), 2);
	am_heap_repair_marks();
	assert_int_equal(am_heap_validate(2), 0);
	assert_false(am_bit_test(kends, kbit));
	assert_false(am_bit_test(jends, jbit));
	am_test_expect_free(user[j] + 1);
	am_foreign_record((void *)user[j], req[j], site);
	for (int i = 0; i < NCHUNKS; i++)
		expect_chunk(i);
}

static uint64_t unindexed(void)
{
	struct allocmap_heap_stats st;
	allocmap_heap_stats(&st);
	return st.unindexed;
}

/* A chunk running from one mapping into the next (an allocator may merge
 * adjacent mappings): not indexed, and nothing left behind. */
static void test_chunk_across_mappings_not_indexed(void **state)
{
	(void)state;
	char *r = mmap(NULL, 2 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(r, MAP_FAILED);
	assert_non_null(am_test_map_reported(r, 1 << 20, MAP_FIXED));
	assert_non_null(am_test_map_reported(r + (1 << 20), 1 << 20, MAP_FIXED));
	uintptr_t c0 = (uintptr_t)r + 4096, c = (uintptr_t)r + (1 << 20) - 256;
	uint64_t before = unindexed();
	am_foreign_record((void *)c0, 100, site);
	am_foreign_record((void *)c, 1000, site);
	assert_int_equal(unindexed(), before + 1);
	struct allocmap_info i;
	assert_int_equal(allocmap_query((const void *)(c0 + 10), &i), 0);
	assert_ptr_equal(i.base, (const void *)c0);
	am_test_expect_mapping_level(c + 10);
	am_test_expect_mapping_level(c + 600);
	assert_int_equal(am_heap_validate(2), 0);
	am_foreign_forget((void *)c);
	am_foreign_forget((void *)c0);
	assert_int_equal(am_heap_validate(2), 0);
}

/* A mapping right above the brk heap, inside the brk lane's cover: its
 * chunks answer at the mapping level, and a free leaves nothing behind
 * even after the lane's leaf for that window is made. One recorded in
 * that leaf is checked as the mapping's chunk, not as outside the brk
 * heap. */
static void test_mapping_in_brk_lane(void **state)
{
	(void)state;
	if (!arena)
		skip();
	uintptr_t top = arena + ARENA;
	char *x = am_test_map_reported((void *)top, 1 << 20, MAP_FIXED_NOREPLACE);
	if (!x)
		skip();
	uintptr_t c1 = top + 4096;
	am_foreign_record((void *)c1, 200, site);
	am_test_expect_mapping_level(c1 + 10);
	am_foreign_record((void *)(top - 8192), 100, site); /* a brk chunk in the same 16 MiB window */
	uintptr_t c2 = top + 8192;
	am_foreign_record((void *)c2, 300, site); /* into the lane's leaf: checked as the mapping's chunk */
	assert_int_equal(am_heap_validate(2), 0);
	am_foreign_forget((void *)c2);
	am_test_expect_mapping_level(c2 + 10);
	am_foreign_forget((void *)c1);
	am_test_expect_mapping_level(c1 + 10);
	am_foreign_forget((void *)(top - 8192));
	assert_int_equal(am_heap_validate(2), 0);
	munmap(x, 1 << 20);
	am_ev_munmap(x, 1 << 20);
}

/* A chunk over 4 GiB (its end mark would be out of a query's reach): not
 * indexed. */
static void test_over_mark_limit_not_indexed(void **state)
{
	(void)state;
	size_t len = ((size_t)4 << 30) + (1 << 20);
	char *r = am_test_map_reported(NULL, len, MAP_NORESERVE);
	if (!r)
		skip();
	uint64_t before = unindexed();
	uintptr_t c = (uintptr_t)r + 4096;
	am_foreign_record((void *)c, len - 8192, site);
	assert_int_equal(unindexed(), before + 1);
	am_test_expect_mapping_level(c + ((size_t)3 << 30));
	am_foreign_forget((void *)c);
	assert_int_equal(am_heap_validate(2), 0);
	munmap(r, len);
	am_ev_munmap(r, len);
}

/* A mapping above the brk heap got a bitmap of its own before the brk
 * lane opened over it: from then on that bitmap answers for nothing, so
 * a free that cannot reach it leaves no chunk behind. Runs first. */
static void test_bitmap_under_lane_silenced(void **state)
{
	(void)state;
	if (!arena)
		skip();
	uintptr_t top = arena + ARENA;
	char *x = am_test_map_reported((void *)top, 1 << 20, MAP_FIXED_NOREPLACE);
	if (!x)
		skip();
	assert_int_equal(__atomic_load_n(&am_brk_lane.cover, __ATOMIC_ACQUIRE), 0);
	uintptr_t c1 = top + 4096, opener = arena + 16;
	am_foreign_record((void *)c1, 200, site);
	struct allocmap_info i;
	assert_int_equal(allocmap_query((const void *)(c1 + 10), &i), 0);
	assert_int_equal(i.kind, ALLOCMAP_HEAP_CHUNK); /* its own bitmap, for now */
	am_foreign_record((void *)opener, 100, site);  /* the brk lane opens */
	assert_true(__atomic_load_n(&am_brk_lane.cover, __ATOMIC_ACQUIRE) != 0);
	am_test_expect_mapping_level(c1 + 10);
	am_foreign_forget((void *)c1);
	am_test_expect_mapping_level(c1 + 10);
	am_foreign_forget((void *)opener);
	assert_int_equal(am_heap_validate(2), 0);
	munmap(x, 1 << 20);
	am_ev_munmap(x, 1 << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bitmap_under_lane_silenced),
		cmocka_unit_test(test_records_and_queries),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_unaligned_is_not_indexed),
		cmocka_unit_test(test_validator_sees_each_forgery),
		cmocka_unit_test(test_stray_mark_repaired),
		cmocka_unit_test(test_validator_sees_orphan_end_bits),
		cmocka_unit_test(test_orphan_end_repaired),
		cmocka_unit_test(test_chunk_across_mappings_not_indexed),
		cmocka_unit_test(test_mapping_in_brk_lane),
		cmocka_unit_test(test_over_mark_limit_not_indexed),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
