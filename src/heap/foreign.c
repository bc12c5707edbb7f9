/* Indexing the chunks of a malloc that is not glibc's (jemalloc, tcmalloc
 * ... preloaded after allocmap), whose chunk headers we cannot read. We
 * never call into it beyond the calls the program makes.
 *
 * A request for n bytes asks it for u = n + 8 rounded up to 16 bytes; the
 * chunk p it returns is recorded with extent [p, p + u), the trailer
 * (heap.h) in its last 8 bytes, so the program-visible usable size is
 * u - 8 and the slack under 16 (the trailer's slack field also holds a
 * hash of p and u, heapmeta.h). Its first 16-byte unit has a start bit,
 * its last unit an end bit (a leaf's second half, heapmeta.h), and a chunk
 * of AM_BIG_CHUNK or more also marks the page it starts in and the page
 * it ends in. A query finds the start as in glibc mode, and the end as
 * the first end bit after it: within AM_BIG_CHUNK, or else in the first
 * end-marked page after that (am_foreign_end) — no other live chunk can
 * end inside a live chunk, nor a big one in the page where a live big
 * chunk's first AM_BIG_CHUNK bytes end. free finds the extent the same
 * way, as the allocator's usable size may have grown since.
 *
 * Order: the end bit is set before the start bit and cleared after it, so
 * a start seen set has its end set. A start bit is set only where free
 * will find the end again: a chunk inside one leaf by a look in that
 * leaf; one across leaves through its arena's bitmap, which must then be
 * the one its bits went to. Other chunks, chunks not 16-byte aligned and
 * chunks over MARK_LIMIT (4 GiB, as far as an end mark is looked for) are
 * not indexed (counted) and answer at the mapping level.
 */
#include "../sys/bitmap.h"
#include "fastpath.h"
#include "heap.h"
#include "heapmeta.h"

#define NEAR_UNITS (AM_BIG_CHUNK / UNIT)

static inline __attribute__((always_inline)) uint64_t *leaf_of(uintptr_t a, int make, size_t *bit)
{
	uint64_t *leaf = am_leaf_lookup(a, bit);
	return leaf ? leaf : am_heap_leaf_slow(a, make, bit);
}

/* Whether a chunk of extent u whose start and last unit are bit of leaf
 * and ebit of eleaf lies in one leaf (looked up by address, so a chunk
 * running into the next mapping's bitmap does not). */
static int one_leaf(const uint64_t *leaf, size_t bit, const uint64_t *eleaf, size_t ebit, size_t u)
{
	return eleaf == leaf && ebit == bit + u / UNIT - 1;
}

/* Whether the chunk [a, a + u), whose bits would go to leaf and eleaf,
 * lies in one arena bitmap holding those leaves. */
static int findable(uintptr_t a, size_t u, const uint64_t *leaf, const uint64_t *eleaf)
{
	const struct am_heapmeta *m = am_heap_meta_at(a);
	return m && u <= m->end - a && am_heapmeta_leaf(m, a - m->base) == leaf &&
	       am_heapmeta_leaf(m, a + u - UNIT - m->base) == eleaf;
}

/* The last unit of the live chunk starting at bit of leaf, looked for in
 * that leaf as am_foreign_end looks in an arena; -1 if it is not there. */
static long end_in_leaf(uint64_t *leaf, size_t bit)
{
	uint64_t *ends = am_leaf_ends(leaf);
	size_t lim = LEAF_BITS - bit > NEAR_UNITS ? bit + NEAR_UNITS : LEAF_BITS;
	long e = am_bit_find_next_from(ends, bit, lim);
	if (e >= 0 || lim == LEAF_BITS)
		return e;
	long pg = am_bit_find_next_from(am_leaf_marks(ends), (lim - 1) >> MARK_SHIFT, PAGE_MARKS);
	return pg < 0 ? -1 : am_bit_find_next_from(ends, (size_t)pg << MARK_SHIFT, ((size_t)pg + 1) << MARK_SHIFT);
}

/* The extent of the chunk recorded at a (start bit `bit` of leaf), or 0 if
 * it is not recorded: its end is in its leaf, or else in its arena. */
static inline size_t recorded_extent(uintptr_t a, uint64_t *leaf, size_t bit)
{
	if (!am_bit_test(leaf, bit))
		return 0;
	long e = end_in_leaf(leaf, bit);
	if (e >= 0)
		return ((size_t)e - bit + 1) * UNIT;
	const struct am_heapmeta *m = am_heap_meta_at(a);
	intptr_t end = m ? am_foreign_end(m, a - m->base) : -1;
	return end < 0 ? 0 : m->base + (uintptr_t)end - a;
}

size_t am_foreign_request(size_t n) { return (n + AM_TRAILER + UNIT - 1) & ~(size_t)(UNIT - 1); }

void am_foreign_record(void *p, size_t n, const void *site)
{
	uintptr_t a = (uintptr_t)p;
	size_t u = am_foreign_request(n), bit, ebit;
	*(uint64_t *)(a + u - AM_TRAILER) = am_trailer_word(site, am_foreign_field(a, u, u - AM_TRAILER - n));
	uint64_t *leaf = a % UNIT || u > MARK_LIMIT ? NULL : leaf_of(a, 1, &bit);
	uint64_t *eleaf = leaf ? leaf_of(a + u - UNIT, 1, &ebit) : NULL;
	if (!eleaf || (!one_leaf(leaf, bit, eleaf, ebit, u) && !findable(a, u, leaf, eleaf))) {
		am_heap_note_unindexed();
		return;
	}
	am_chunk_bits(am_leaf_ends(eleaf), ebit, u, 1);
	am_chunk_bits(leaf, bit, u, 1);
}

void am_foreign_relive(void *p, size_t extent)
{
	uint64_t t = *(const uint64_t *)((char *)p + extent - AM_TRAILER);
	long slack = am_foreign_slack(t, (uintptr_t)p, extent);
	size_t usable = extent - AM_TRAILER;
	am_foreign_record(p, slack >= 0 ? usable - (size_t)slack : usable, am_trailer_site(t));
}

/* The recorded extent of chunk p, or 0; its start leaf and bit. */
static inline __attribute__((always_inline)) size_t extent_of(void *p, uint64_t **leaf, size_t *bit)
{
	uintptr_t a = (uintptr_t)p;
	*leaf = a % UNIT ? NULL : leaf_of(a, 0, bit);
	return *leaf ? recorded_extent(a, *leaf, *bit) : 0;
}

size_t am_foreign_forget(void *p)
{
	uint64_t *leaf;
	size_t bit, ebit, u = extent_of(p, &leaf, &bit);
	if (!u)
		return 0;
	am_chunk_bits(leaf, bit, u, 0);
	uint64_t *eleaf = leaf_of((uintptr_t)p + u - UNIT, 0, &ebit);
	if (eleaf)
		am_chunk_bits(am_leaf_ends(eleaf), ebit, u, 0);
	return u;
}

size_t am_foreign_usable(void *p)
{
	uint64_t *leaf;
	size_t bit, u = extent_of(p, &leaf, &bit);
	if (u)
		return u - AM_TRAILER;
	size_t real = am_real.usable ? am_real.usable(p) : 0;
	return real >= AM_TRAILER ? real - AM_TRAILER : 0;
}

/* The first end bit (shift 0) or end-marked page (shift MARK_SHIFT) in
 * arena offsets [from, to): its offset, or -1. Crosses leaves forwards. */
static intptr_t next_end(const struct am_heapmeta *m, uintptr_t from, uintptr_t to, unsigned shift)
{
	uintptr_t size = m->end - m->base;
	to = to < size ? to : size;
	while (from < to) {
		uintptr_t leaf_lo = from & ~(LEAF_COVER - 1);
		uintptr_t stop = to - leaf_lo < LEAF_COVER ? to : leaf_lo + LEAF_COVER;
		uint64_t *leaf = am_heapmeta_leaf(m, from);
		if (leaf) {
			uint64_t *b = shift ? am_leaf_marks(am_leaf_ends(leaf)) : am_leaf_ends(leaf);
			size_t i = ((from - leaf_lo) / UNIT) >> shift, n = (((stop - leaf_lo) / UNIT - 1) >> shift) + 1;
			long j = am_bit_find_next_from(b, i, n);
			if (j >= 0)
				return (intptr_t)(leaf_lo + ((uintptr_t)j << shift) * UNIT);
		}
		from = leaf_lo + LEAF_COVER;
	}
	return -1;
}

intptr_t am_foreign_end(const struct am_heapmeta *m, uintptr_t off)
{
	intptr_t e = next_end(m, off, off + AM_BIG_CHUNK, 0);
	if (e < 0) {
		intptr_t pg = next_end(m, off + AM_BIG_CHUNK - UNIT, off + MARK_LIMIT, MARK_SHIFT);
		e = pg < 0 ? -1 : next_end(m, (uintptr_t)pg, (uintptr_t)pg + MARK_PAGE, 0);
	}
	return e < 0 ? -1 : e + UNIT;
}
