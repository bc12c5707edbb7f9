/* Unit tests of the heap index (src/heap/heapindex.c, fastpath.h,
 * heapcheck.c) on a fabricated arena, without glibc's malloc in the way.
 *
 * The library is set up by hand and the arena is 40 MiB at the program
 * break, in the brk sequence (fixture.h). Chunks are laid out in it
 * the way glibc lays them out (size word below the user pointer,
 * PREV_INUSE in the next chunk's size word, a free chunk in each gap), and
 * recorded and forgotten with the real fast path. Then: every interior
 * query finds its chunk exactly; gaps, forgotten chunks and trailers do
 * not; the validator is clean, and sees a forged stale bit; it checks the
 * chunks the lane records for a mapping above the heap as that mapping's;
 * the lane closes with its sequence and reopens on a fresh one whose
 * bitmap remembers nothing. Outside the lane, two arenas whose chunks
 * share a slot of the per-thread leaf cache take turns without the index.
 * The tests run in order, each on what the one before left. If the
 * program break cannot be extended by a mapping (something is mapped
 * there, as under valgrind), they are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/mman.h>

#include "../../include/allocmap.h"
#include "../../src/sys/bitmap.h"
#include "../../src/heap/fastpath.h"
#include "../../src/heap/heap.h"
#include "fixture.h"

#define ARENA ((size_t)40 << 20) /* three 16 MiB bitmap leaves */
#define NCHUNKS 2000
#define STRIDE ((ARENA / NCHUNKS) & ~(size_t)15) /* ~20 KiB: a chunk, then a free chunk */

static uintptr_t arena;                  /* 0 if it could not be made */
static uintptr_t user[NCHUNKS];          /* each chunk's user pointer */
static size_t req[NCHUNKS];              /* and its requested size */
static const void *const site = (const void *)0x401234;

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void put_word(uintptr_t a, size_t w) { *(size_t *)a = w; }

/* Chunk k: header at its slot's start, size 32..4096 (every tenth 16 KiB
 * or more: queried deep inside, it is found through its page mark); the rest of the
 * slot is a free chunk (PREV_INUSE set: chunk k is in use); the next
 * slot's chunk has PREV_INUSE clear (the free chunk before it). */
static void lay_out(unsigned seed)
{
	for (int k = 0; k < NCHUNKS; k++) {
		uintptr_t hdr = arena + (uintptr_t)k * STRIDE;
		size_t size = k % 10 == 9 ? AM_BIG_CHUNK + 1024 + (size_t)(rnd(&seed) % 64) * 16 /* big: its page marked */
					   : 32 + (size_t)(rnd(&seed) % 256) * 16;
		put_word(hdr + 8, size); /* PREV_INUSE clear: a free chunk before (or none) */
		put_word(hdr + size + 8, (STRIDE - size) | 1);
		user[k] = hdr + 16;
		req[k] = size - 16 - (rnd(&seed) % 9); /* usable is size - 8, minus the trailer */
	}
}

static int setup(void **state)
{
	(void)state;
	if (am_test_library_init() != 0)
		return -1;
	am_heap_mode = AM_HEAP_GLIBC;
	arena = am_test_arena_at_break(ARENA, (const void *)setup);
	return 0;
}

static void record_all(void)
{
	for (int k = 0; k < NCHUNKS; k++)
		am_heap_record_fast((void *)user[k], req[k], site);
}

static void expect_chunk(int k)
{
	size_t usable = am_heap_usable((void *)user[k]);
	uintptr_t at[] = {user[k], user[k] + req[k] / 2, user[k] + usable - 1};
	am_test_expect_chunk(at, sizeof at / sizeof at[0], user[k], usable, req[k], site);
}

static void test_lane_records_and_queries(void **state)
{
	(void)state;
	if (!arena)
		skip();
	lay_out(1);
	uint64_t slow = am_heap_slow_path();
	record_all();
	/* the lane serves the fast path; the slow path only made the 3 leaves */
	assert_true(__atomic_load_n(&am_brk_lane.cover, __ATOMIC_ACQUIRE) != 0);
	assert_true(am_heap_slow_path() - slow <= 4);
	for (int k = 0; k < NCHUNKS; k++) {
		expect_chunk(k);
		size_t usable = am_heap_usable((void *)user[k]);
		am_test_expect_free(user[k] + usable);           /* the trailer */
		am_test_expect_free(user[k] + usable + 64);      /* the free chunk after */
		am_test_expect_free(user[k] - 8);                /* its own size word */
	}
	assert_int_equal(am_heap_validate(2), 0);
}

static void test_forget(void **state)
{
	(void)state;
	if (!arena)
		skip();
	for (int k = 0; k < NCHUNKS; k += 2)
		am_heap_forget_fast((void *)user[k]);
	for (int k = 0; k < NCHUNKS; k++) {
		if (k % 2)
			expect_chunk(k);
		else
			am_test_expect_free(user[k] + 1);
	}
	assert_int_equal(am_heap_validate(2), 0);
	record_all();
	for (int k = 0; k < NCHUNKS; k += 2)
		expect_chunk(k);
}

/* A bit left behind by a free that did not forget (glibc's header of the
 * chunk after now says it is free): the validator reports exactly it. */
static void test_validator_sees_stale_bit(void **state)
{
	(void)state;
	if (!arena)
		skip();
	int k = NCHUNKS / 3;
	uintptr_t next_size = user[k] - 16 + (*(size_t *)(user[k] - 8) & ~(size_t)7) + 8;
	put_word(next_size, *(size_t *)next_size & ~(size_t)1);
	assert_int_equal(am_heap_validate(-1), 1);
	put_word(next_size, *(size_t *)next_size | 1);
	assert_int_equal(am_heap_validate(-1), 0);
}

/* Each kind of discrepancy, forged on one chunk and then undone: the
 * validator reports exactly one, then none. */
static void test_validator_sees_each_forgery(void **state)
{
	(void)state;
	if (!arena)
		skip();
	int k = NCHUNKS / 2;
	size_t *size_word = (size_t *)(user[k] - 8), saved = *size_word;
	*size_word |= 2; /* an arena chunk marked mmapped */
	assert_int_equal(am_heap_validate(-1), 1);
	*size_word = saved;

	uint64_t *trailer = (uint64_t *)(user[k] + am_heap_usable((void *)user[k]));
	uint64_t saved_trailer = *trailer;
	*trailer = (saved_trailer & 0xFFFFFFFFFFFFull) | (uint64_t)0x8000 << 48; /* slack > the chunk */
	assert_int_equal(am_heap_validate(-1), 1);
	*trailer = saved_trailer;

	uintptr_t inner = user[k] + 64; /* a chunk start inside chunk k */
	size_t *inner_size = (size_t *)(inner - 8), saved_inner = *inner_size;
	*inner_size = 32 | 1;
	am_heap_record_fast((void *)inner, 8, site);
	assert_int_equal(am_heap_validate(-1), 1);
	am_heap_forget_fast((void *)inner);
	*inner_size = saved_inner;
	am_heap_record_fast((void *)user[k], req[k], site); /* its trailer, rewritten by the inner record */
	assert_int_equal(am_heap_validate(2), 0);

	/* a big chunk's page mark cleared; a mark on a page with no big chunk */
	int big = 9;
	size_t bit = ((user[big] - am_brk_lane.base) & (((uintptr_t)1 << AM_LEAF_SHIFT) - 1)) / 16;
	uint64_t *leaf = am_brk_lane.leaf[(user[big] - am_brk_lane.base) >> AM_LEAF_SHIFT];
	am_heap_mark_big(leaf, bit, 0);
	assert_int_equal(am_heap_validate(-1), 1);
	am_heap_mark_big(leaf, bit, 1);
	am_heap_mark_big(leaf, bit + 2 * 256, 1); /* two pages on: inside the big chunk, no start there */
	assert_int_equal(am_heap_validate(-1), 1);
	am_heap_mark_big(leaf, bit + 2 * 256, 0);
	assert_int_equal(am_heap_validate(-1), 0);

	/* a bit past the arena's end (the page after it, not in the index) */
	uintptr_t past = arena + ARENA;
	if (mmap((void *)past, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
	    (void *)past) {
		*(size_t *)(past + 8) = 32 | 1;
		am_heap_record_fast((void *)(past + 16), 8, site);
		assert_int_equal(am_heap_validate(-1), 1);
		am_heap_forget_fast((void *)(past + 16));
		munmap((void *)past, 4096);
	}
	assert_int_equal(am_heap_validate(2), 0);
}

/* A mark whose chunk never got its start bit (a thread cut off by fork):
 * reported, then cleared by the child's repair; real marks stay. */
static void test_stray_mark_repaired(void **state)
{
	(void)state;
	if (!arena)
		skip();
	int big = 19;
	size_t bit = ((user[big] - am_brk_lane.base) & (((uintptr_t)1 << AM_LEAF_SHIFT) - 1)) / 16;
	uint64_t *leaf = am_brk_lane.leaf[(user[big] - am_brk_lane.base) >> AM_LEAF_SHIFT];
	am_heap_mark_big(leaf, bit + 2 * 256, 1); /* two pages on: inside the big chunk, no start there */
	assert_int_equal(am_heap_validate(-1), 1);
	am_heap_repair_marks();
	assert_int_equal(am_heap_validate(2), 0);
	for (int k = 9; k < NCHUNKS; k += 10)
		expect_chunk(k);
}

/* A glibc chunk at user pointer a of size bytes (a multiple of 16), the
 * chunk after it in use. */
static void forge_chunk(uintptr_t a, size_t size)
{
	put_word(a - 8, size);
	put_word(a + size - 8, 32 | 1);
}

/* A mapping just above the brk heap, inside its lane's cover (heapindex.c:
 * a sequence the lane shadows, so the fast path records its chunks in the
 * brk heap's bitmap, and a query answers them at the mapping level). The
 * validator checks them as the mapping's chunks, not as bits outside the
 * brk heap; a bit over unmapped space past the heap is outside. Skipped
 * if the lane's leaves put the mapping in another 16 MiB window than the
 * heap's top. */
static void test_validator_lane_over_mapping(void **state)
{
	(void)state;
	if (!arena)
		skip();
	uintptr_t top = arena + ARENA, tail = top - 4096 + 16, c = top + 4096 + 16;
	uint64_t *leaf = NULL;
	size_t bit = 0;
	forge_chunk(tail, 32); /* a brk chunk in the free space at the top: its leaf is made */
	am_heap_record_fast((void *)tail, 8, site);
	int lane_leaf = am_lane_find(c, &leaf, &bit) && leaf;
	if (!lane_leaf || !am_test_map_reported((void *)top, 1 << 20, MAP_FIXED_NOREPLACE)) {
		am_heap_forget_fast((void *)tail);
		skip();
	}
	forge_chunk(c, 48);
	am_heap_record_fast((void *)c, 20, site);
	assert_true(am_bit_test(leaf, bit));
	am_test_expect_mapping_level(c + 10);
	assert_int_equal(am_heap_validate(2), 0);
	put_word(c + 40, 32); /* the chunk after says it is free */
	assert_int_equal(am_heap_validate(-1), 1);
	put_word(c + 40, 32 | 1);
	am_heap_forget_fast((void *)c);
	munmap((void *)top, 1 << 20);
	am_ev_munmap((void *)top, 1 << 20);
	am_bit_update(leaf, bit, 1); /* a bit over unmapped space */
	assert_int_equal(am_heap_validate(-1), 1);
	am_bit_update(leaf, bit, 0);
	am_heap_forget_fast((void *)tail);
	assert_int_equal(am_heap_validate(2), 0);
}

/* The brk sequence dies (as the index sees it: shrunk to its start), so
 * its bitmap retires and the lane closes; grown again, the new sequence
 * gets a fresh bitmap and the lane reopens on it. */
static void test_lane_closes_and_reopens(void **state)
{
	(void)state;
	if (!arena)
		skip();
	uintptr_t start = am_ix.brk_start, top = am_ix.brk_top;
	uint64_t arenas = am_heap_arenas();
	am_ev_brk((void *)top, (void *)start, (const void *)test_lane_closes_and_reopens);
	assert_int_equal(__atomic_load_n(&am_brk_lane.cover, __ATOMIC_ACQUIRE), 0);
	assert_int_equal(am_heap_arenas(), arenas - 1);
	struct allocmap_info i;
	assert_int_equal(allocmap_query((const void *)user[0], &i), -1);

	am_ev_brk((void *)start, (void *)top, (const void *)setup); /* malloc's site, as at first */
	am_heap_record_fast((void *)user[5], req[5], site);
	assert_true(__atomic_load_n(&am_brk_lane.cover, __ATOMIC_ACQUIRE) != 0);
	assert_int_equal(am_heap_arenas(), arenas);
	expect_chunk(5);
	for (int k = 0; k < NCHUNKS; k++)
		if (k != 5)
			am_test_expect_free(user[k]);
	assert_int_equal(am_heap_validate(2), 0);
}

/* A 1 MiB arena mapped where its chunks take the per-thread cache slot
 * of `slot` (NULL if none could be made), with a 64-byte chunk laid out
 * at its start: its user pointer in *chunk. */
static void *arena_in_slot(const struct am_leaf_cache *slot, uintptr_t from, uintptr_t *chunk)
{
	for (uintptr_t at = from; at < from + ((uintptr_t)4096 << 24); at += (uintptr_t)1 << 24) {
		if (am_leaf_slot(at + 16) != slot)
			continue;
		void *p = am_test_map_reported((void *)at, 1 << 20, MAP_FIXED_NOREPLACE);
		if (!p)
			continue;
		put_word(at + 8, 64 | 1);
		put_word(at + 64 + 8, 256 | 1);
		*chunk = at + 16;
		return p;
	}
	return NULL;
}

/* Two arenas whose chunks take the same slot of the leaf cache, used by
 * turns: after the first of each, neither goes to the index again (the
 * slot's previous entry is kept aside), and both still answer. */
static void test_leaf_cache_turns(void **state)
{
	(void)state;
	uintptr_t a, b, base = (uintptr_t)0x500000000000;
	void *pa = arena_in_slot(am_leaf_slot(base + 16), base, &a);
	void *pb = pa ? arena_in_slot(am_leaf_slot(a), (uintptr_t)pa + ((uintptr_t)1 << 24), &b) : NULL;
	if (!pb)
		skip();
	am_heap_record_fast((void *)a, 40, site);
	am_heap_record_fast((void *)b, 40, site);
	uint64_t slow = am_heap_slow_path();
	for (int k = 0; k < 100; k++) {
		am_heap_forget_fast((void *)(k % 2 ? a : b));
		am_heap_record_fast((void *)(k % 2 ? a : b), 40, site);
	}
	assert_int_equal(am_heap_slow_path(), slow);
	uintptr_t at[] = {a, b};
	am_test_expect_chunk(at, 1, a, 48, 40, site);
	am_test_expect_chunk(at + 1, 1, b, 48, 40, site);
	munmap(pa, 1 << 20);
	munmap(pb, 1 << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lane_records_and_queries),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_validator_sees_stale_bit),
		cmocka_unit_test(test_validator_sees_each_forgery),
		cmocka_unit_test(test_stray_mark_repaired),
		cmocka_unit_test(test_validator_lane_over_mapping),
		cmocka_unit_test(test_lane_closes_and_reopens),
		cmocka_unit_test(test_leaf_cache_turns),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
