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

/* Highest set bit at index in [lo, i], or -1 if none: a backwards word
 * scan of at most (i - lo) / 64 + 1 words. */
static inline long am_bit_find_prev_from(const uint64_t *b, size_t i, size_t lo)
{
	size_t w = i / 64;
	uint64_t word = __atomic_load_n(&b[w], __ATOMIC_RELAXED);
	word &= (~(uint64_t)0) >> (63 - i % 64);
	for (;;) {
		if (word) {
			size_t k = w * 64 + 63 - (size_t)__builtin_clzll(word);
			return k >= lo ? (long)k : -1;
		}
		if (w == 0 || w * 64 <= lo)
			return -1;
		word = __atomic_load_n(&b[--w], __ATOMIC_RELAXED);
	}
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
