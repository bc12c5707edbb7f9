/* Bitmaps of "an object starts here" marks, one bit per alignment unit.
 * Used by the private allocator (live block starts) and the heap index
 * (live chunk starts). Plain words: callers provide their own locking or
 * accept racy reads (a word is read atomically by the hardware).
 */
#ifndef AM_BITMAP_H
#define AM_BITMAP_H

#include <stddef.h>
#include <stdint.h>

static inline void am_bit_set(uint64_t *b, size_t i) { b[i / 64] |= (uint64_t)1 << (i % 64); }
static inline void am_bit_clear(uint64_t *b, size_t i) { b[i / 64] &= ~((uint64_t)1 << (i % 64)); }
static inline int am_bit_test(const uint64_t *b, size_t i) { return (b[i / 64] >> (i % 64)) & 1; }

/* Whether the 8 words from b (one cache line) are all zero. */
static inline int am_bit_zero8(const uint64_t *b)
{
	uint64_t any = 0;
	for (int k = 0; k < 8; k++)
		any |= __atomic_load_n(&b[k], __ATOMIC_RELAXED);
	return any == 0;
}

/* Highest set bit at index in [lo, i], or -1 if none: a backwards scan
 * that skips empty cache lines of words whole. */
static inline long am_bit_find_prev_from(const uint64_t *b, size_t i, size_t lo)
{
	size_t w = i / 64, wlo = lo / 64;
	uint64_t word = __atomic_load_n(&b[w], __ATOMIC_RELAXED) & ((~(uint64_t)0) >> (63 - i % 64));
	while (!word) {
		if (w <= wlo)
			return -1;
		w--;
		if (w % 8 == 7 && w >= wlo + 7 && am_bit_zero8(b + w - 7)) {
			w -= 7; /* the line's lowest word, known empty */
			continue;
		}
		word = __atomic_load_n(&b[w], __ATOMIC_RELAXED);
	}
	size_t k = w * 64 + 63 - (size_t)__builtin_clzll(word);
	return k >= lo ? (long)k : -1;
}

/* Lowest set bit at index in [i, n) among the word holding i and the one
 * after it, or -1 if none there: a short forward look. */
static inline long am_bit_find_next_near(const uint64_t *b, size_t i, size_t n)
{
	if (i >= n)
		return -1; /* b[i / 64] may lie past the bitmap */
	size_t w = i / 64;
	uint64_t word = __atomic_load_n(&b[w], __ATOMIC_RELAXED) & (~(uint64_t)0 << (i % 64));
	if (!word && (w + 1) * 64 < n)
		word = __atomic_load_n(&b[++w], __ATOMIC_RELAXED);
	size_t k = w * 64 + (size_t)__builtin_ctzll(word | (uint64_t)1 << 63);
	return word && k < n ? (long)k : -1;
}

/* Lowest set bit at index in [i, n), or -1 if none: a forward scan that
 * skips empty cache lines of words whole. */
static inline long am_bit_find_next_from(const uint64_t *b, size_t i, size_t n)
{
	if (i >= n)
		return -1;
	size_t w = i / 64, wlast = (n - 1) / 64;
	uint64_t word = __atomic_load_n(&b[w], __ATOMIC_RELAXED) & (~(uint64_t)0 << (i % 64));
	while (!word) {
		if (w >= wlast)
			return -1;
		w++;
		if (w % 8 == 0 && w + 7 <= wlast && am_bit_zero8(b + w)) {
			w += 7; /* the line's highest word, known empty */
			continue;
		}
		word = __atomic_load_n(&b[w], __ATOMIC_RELAXED);
	}
	size_t k = w * 64 + (size_t)__builtin_ctzll(word);
	return k < n ? (long)k : -1;
}

/* Highest set bit at index <= i, or -1 if none. */
static inline long am_bit_find_prev(const uint64_t *b, size_t i) { return am_bit_find_prev_from(b, i, 0); }


/* Number of set bits among the first n. */
static inline size_t am_bit_count(const uint64_t *b, size_t n)
{
	size_t c = 0;
	for (size_t w = 0; w < n / 64; w++)
		c += (size_t)__builtin_popcountll(b[w]);
	if (n % 64)
		c += (size_t)__builtin_popcountll(b[n / 64] & (((uint64_t)1 << (n % 64)) - 1));
	return c;
}

#endif
