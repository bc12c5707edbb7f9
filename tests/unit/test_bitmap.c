/* Unit tests of the start-mark bitmaps (src/bitmap.h) against a naive
 * bit-by-bit reference: backward and forward scans (which skip empty
 * cache lines of words whole) and the short forward look, on random
 * bitmaps of varying density, at every alignment of the line skip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "../../src/sys/bitmap.h"

#define WORDS 256
#define NBITS (WORDS * 64)

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static long naive_prev(const uint64_t *b, size_t i, size_t lo)
{
	for (size_t k = i + 1; k-- > lo;)
		if (am_bit_test(b, k))
			return (long)k;
	return -1;
}

static long naive_next_near(const uint64_t *b, size_t i, size_t n)
{
	size_t end = (i / 64 + 2) * 64;
	for (size_t k = i; k < end && k < n; k++)
		if (am_bit_test(b, k))
			return (long)k;
	return -1;
}

static long naive_next(const uint64_t *b, size_t i, size_t n)
{
	for (size_t k = i; k < n; k++)
		if (am_bit_test(b, k))
			return (long)k;
	return -1;
}

/* A bitmap with `marks` random bits set. */
static void fill(uint64_t *b, uint64_t *rng, int marks)
{
	memset(b, 0, WORDS * sizeof *b);
	for (int m = 0; m < marks; m++)
		am_bit_set(b, rng_next(rng) % NBITS);
}

static void test_prev_matches_naive(void **state)
{
	(void)state;
	static uint64_t b[WORDS];
	uint64_t rng = 42;
	static const int density[] = {0, 1, 3, 20, 200, 5000};
	for (size_t d = 0; d < sizeof density / sizeof density[0]; d++)
		for (int round = 0; round < 50; round++) {
			fill(b, &rng, density[d]);
			for (int q = 0; q < 200; q++) {
				size_t i = rng_next(&rng) % NBITS, lo = rng_next(&rng) % (i + 1);
				assert_int_equal(am_bit_find_prev_from(b, i, lo), naive_prev(b, i, lo));
			}
		}
}

/* One mark, queried from every word above it: each path through the
 * line skip (entering mid-line, at a line's top, stopping at lo). */
static void test_prev_single_mark_every_distance(void **state)
{
	(void)state;
	static uint64_t b[WORDS];
	for (size_t mark = 0; mark < 3 * 64 * 8; mark += 61) {
		memset(b, 0, sizeof b);
		am_bit_set(b, mark);
		for (size_t i = mark; i < NBITS; i += 37) {
			assert_int_equal(am_bit_find_prev_from(b, i, 0), (long)mark);
			assert_int_equal(am_bit_find_prev_from(b, i, mark), (long)mark);
			assert_int_equal(am_bit_find_prev_from(b, i, mark + 1 <= i ? mark + 1 : i), mark + 1 <= i ? -1 : (long)mark);
		}
	}
}

static void test_prev_empty_and_top(void **state)
{
	(void)state;
	static uint64_t b[WORDS];
	memset(b, 0, sizeof b);
	assert_int_equal(am_bit_find_prev(b, NBITS - 1), -1);
	am_bit_set(b, NBITS - 1);
	assert_int_equal(am_bit_find_prev(b, NBITS - 1), NBITS - 1);
	assert_int_equal(am_bit_find_prev(b, NBITS - 2), -1);
	am_bit_set(b, 0);
	assert_int_equal(am_bit_find_prev(b, NBITS - 2), 0);
}

static void test_next_near_matches_naive(void **state)
{
	(void)state;
	static uint64_t b[WORDS];
	uint64_t rng = 7;
	static const int density[] = {0, 2, 40, 400, 5000};
	for (size_t d = 0; d < sizeof density / sizeof density[0]; d++)
		for (int round = 0; round < 50; round++) {
			fill(b, &rng, density[d]);
			for (int q = 0; q < 200; q++) {
				size_t i = rng_next(&rng) % NBITS, n = i + 1 + rng_next(&rng) % (NBITS - i);
				assert_int_equal(am_bit_find_next_near(b, i, n), naive_next_near(b, i, n));
			}
		}
}

static void test_next_near_stops_at_n(void **state)
{
	(void)state;
	static uint64_t b[WORDS];
	memset(b, 0, sizeof b);
	am_bit_set(b, 70);
	assert_int_equal(am_bit_find_next_near(b, 5, NBITS), 70);
	assert_int_equal(am_bit_find_next_near(b, 5, 70), -1);
	assert_int_equal(am_bit_find_next_near(b, 71, NBITS), -1);
	am_bit_set(b, 63);
	assert_int_equal(am_bit_find_next_near(b, 63, 64), 63);
	/* from the end: nothing, and nothing read past the bitmap (ASan) */
	am_bit_set(b, NBITS - 1);
	assert_int_equal(am_bit_find_next_near(b, NBITS - 1, NBITS), NBITS - 1);
	assert_int_equal(am_bit_find_next_near(b, NBITS, NBITS), -1);
}

static void test_next_matches_naive(void **state)
{
	(void)state;
	static uint64_t b[WORDS];
	uint64_t rng = 11;
	static const int density[] = {0, 1, 3, 20, 200, 5000};
	for (size_t d = 0; d < sizeof density / sizeof density[0]; d++)
		for (int round = 0; round < 50; round++) {
			fill(b, &rng, density[d]);
			for (int q = 0; q < 200; q++) {
				size_t i = rng_next(&rng) % NBITS, n = i + rng_next(&rng) % (NBITS - i + 1);
				assert_int_equal(am_bit_find_next_from(b, i, n), naive_next(b, i, n));
			}
		}
}

/* One mark, looked for from every word below it, and up to every end:
 * each path through the forward line skip; nothing read past n (ASan). */
static void test_next_single_mark_every_distance(void **state)
{
	(void)state;
	static uint64_t b[WORDS];
	for (size_t mark = 0; mark < NBITS; mark += 67) {
		memset(b, 0, sizeof b);
		am_bit_set(b, mark);
		for (size_t i = 0; i <= mark; i += 41) {
			assert_int_equal(am_bit_find_next_from(b, i, NBITS), (long)mark);
			assert_int_equal(am_bit_find_next_from(b, i, mark + 1), (long)mark);
			assert_int_equal(am_bit_find_next_from(b, i, mark), -1);
		}
		assert_int_equal(am_bit_find_next_from(b, mark + 1, NBITS), naive_next(b, mark + 1, NBITS));
	}
	assert_int_equal(am_bit_find_next_from(b, NBITS, NBITS), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prev_matches_naive),
		cmocka_unit_test(test_prev_single_mark_every_distance),
		cmocka_unit_test(test_prev_empty_and_top),
		cmocka_unit_test(test_next_near_matches_naive),
		cmocka_unit_test(test_next_near_stops_at_n),
		cmocka_unit_test(test_next_matches_naive),
		cmocka_unit_test(test_next_single_mark_every_distance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
