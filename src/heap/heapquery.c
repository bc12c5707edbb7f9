/* Heap queries: which live chunk holds p, read from the arena itself and
 * the chunk-start bitmaps that heapindex.c keeps, and the prefetches that
 * let a batch of queries overlap their memory reads. See heap.h for the
 * guarantee (a chunk is reported only if it was live at some moment of
 * the query).
 *
 * Invariants: a query loads only inside the arena's sequence and from
 * maps the index says are readable (struct reads), and only between
 * am_quiesce_read_begin and _end, so no mapping call can take that memory
 * away under it. It allocates nothing, takes no lock and is
 * async-signal-safe.
 */
#include <sys/mman.h>

#include "../index/mapindex.h"
#include "../index/quiesce.h"
#include "../sys/bitmap.h"
#include "chunk.h"
#include "fastpath.h"
#include "heap.h"
#include "heapmeta.h"
#include "livestats.h"

/* What a query may read: only inside the arena's sequence [lo, hi)
 * (mapping calls on it wait for the query, quiesce.h), and there only
 * from readable maps: p's own map (rlo, rhi) if it is one, or another
 * one the index has, read under the query's ticket. A chunk's header or
 * trailer can lie elsewhere: a racing free merges a chunk into the top of
 * a non-main arena, whose size word then reaches the heap's PROT_NONE
 * reserve; a program mprotects pages inside its chunk. */
struct reads {
	uintptr_t lo, hi, rlo, rhi;
	unsigned ticket;
	int foreign;
};

__attribute__((noinline)) static int readable_elsewhere(const struct reads *r, uintptr_t a, size_t n)
{
	struct am_map_view w;
	if (a < r->lo || a >= r->hi || n > r->hi - a)
		return 0;
	return am_index_lookup_at(a, r->ticket, &w) == 0 && (w.prot & PROT_READ) && n <= w.hi - a;
}

/* p's own map lies in the sequence: one test for the common case. */
static inline int readable(const struct reads *r, uintptr_t a, size_t n)
{
	if (a - r->rlo < r->rhi - r->rlo && n <= r->rhi - a)
		return 1;
	return readable_elsewhere(r, a, n);
}

/* A chunk as read: its base, program-visible size, request and trailer. */
struct found {
	uintptr_t base;
	size_t size, requested;
	uint64_t t;
};

/* Reads the trailer of the chunk at base whose trailer is at base + tpos,
 * and so its visible size and request; -1 if they cannot be read. */
static inline __attribute__((always_inline)) int read_trailer(const struct reads *r, uintptr_t base, size_t tpos,
							     struct found *f)
{
	if (!readable(r, base + tpos, AM_TRAILER))
		return -1;
	f->base = base;
	f->t = *(const uint64_t *)(base + tpos);
	if (r->foreign) {
		long fs = am_foreign_slack(f->t, base, tpos + AM_TRAILER);
		if (fs < 0)
			return -1;
		f->size = tpos, f->requested = tpos - (size_t)fs;
		return 0;
	}
	size_t slack = (size_t)(f->t >> 48);
	f->size = am_visible_size(tpos, f->t);
	f->requested = slack == SLACK_UNKNOWN || slack > tpos ? f->size : f->size - slack;
	if (slack != AM_SLACK_BIG)
		return 0;
	if (tpos < AM_SLACK_BIG || !readable(r, base + tpos - 8, 8))
		return -1;
	f->requested = *(const size_t *)(base + tpos - 8); /* written only with such a slack: */
	f->requested = f->requested <= tpos - AM_SLACK_BIG ? f->requested : f->size;
	return 0;
}

static void put_chunk(const struct found *f, struct allocmap_info *out)
{
	out->base = (const void *)f->base;
	out->size = f->size;
	out->requested = f->requested;
	out->site = am_stack_site(am_trailer_site(f->t));
	out->kind = ALLOCMAP_HEAP_CHUNK;
	out->allocator = "malloc";
}

static int read_single(uintptr_t p, uintptr_t off, const struct reads *r, struct allocmap_info *out)
{
	uintptr_t base = r->lo + off + 16;
	struct found f;
	if (!readable(r, base - 8, 8))
		return -1;
	size_t w = am_chunk_word((const void *)base);
	if (!am_chunk_mmapped(w) || am_chunk_size(w) > r->hi - r->lo - off || am_chunk_usable(w) < AM_TRAILER)
		return -1;
	size_t tpos = am_chunk_usable(w) - AM_TRAILER;
	if (p < base || p >= base + tpos || read_trailer(r, base, tpos, &f) != 0 || p >= base + f.size)
		return -1;
	put_chunk(&f, out);
	return 0;
}

/* Prefetches never fault: any address will do. Integer arithmetic, as the
 * addresses need not point into any object. */
static void fetch(uintptr_t a) { __builtin_prefetch((const void *)a); }

/* A small chunk's size word is in p's line or the one before. */
static void fetch_near(uintptr_t p)
{
	fetch(p);
	fetch(p - 64);
}

/* A chunk start found in a bitmap: its leaf and bit, and its address. */
struct start {
	const uint64_t *leaf;
	size_t bit;
	uintptr_t at;
};

/* The last chunk start in [floor, off] (arena offsets); 0 if found.
 * Crosses leaves backwards. */
static int start_in(struct am_heapmeta *m, uintptr_t off, uintptr_t floor, struct start *st)
{
	for (;;) {
		const uint64_t *leaf = am_heapmeta_leaf(m, off);
		uintptr_t leaf_lo = off & ~(LEAF_COVER - 1);
		if (leaf) {
			size_t lo = floor > leaf_lo ? (floor - leaf_lo) / UNIT : 0;
			long j = am_bit_find_prev_from(leaf, (off - leaf_lo) / UNIT, lo);
			if (j >= 0) {
				*st = (struct start){leaf, (size_t)j, m->base + leaf_lo + (uintptr_t)j * UNIT};
				return 0;
			}
		}
		if (leaf_lo == 0 || leaf_lo <= floor)
			return -1;
		off = leaf_lo - UNIT;
	}
}

/* The last marked page (heapmeta.h) at or below arena offset off, within
 * MARK_LIMIT; its offset, or -1. */
static intptr_t marked_page_below(struct am_heapmeta *m, uintptr_t off)
{
	uintptr_t floor = off > MARK_LIMIT ? off - MARK_LIMIT : 0;
	for (;;) {
		uint64_t *leaf = am_heapmeta_leaf(m, off);
		uintptr_t leaf_lo = off & ~(LEAF_COVER - 1);
		if (leaf) {
			size_t lo = floor > leaf_lo ? ((floor - leaf_lo) / UNIT) >> MARK_SHIFT : 0;
			long pg = am_bit_find_prev_from(am_leaf_marks(leaf), ((off - leaf_lo) / UNIT) >> MARK_SHIFT, lo);
			if (pg >= 0)
				return (intptr_t)(leaf_lo + ((uintptr_t)pg << MARK_SHIFT) * UNIT);
		}
		if (leaf_lo == 0 || leaf_lo <= floor)
			return -1;
		off = leaf_lo - UNIT;
	}
}

/* The next chunk start after st, if near, tells where st's trailer most
 * likely is (its size word says for sure): fetching that line now
 * overlaps its miss with the size word's. */
static void prefetch_trailer(const struct start *st)
{
	long k = am_bit_find_next_near(st->leaf, st->bit + 1, LEAF_BITS);
	if (k >= 0)
		fetch(st->at + ((uintptr_t)k - st->bit) * UNIT - 16);
}

/* start_in's common case without its loop: the start lies in the word
 * holding off's bit, at or above floor; 0 if found. No start lies between
 * it and off, so the first start above off, in this word or the next
 * (past the last word of bits: the marks, any value will do for a
 * prefetch), most likely ends its chunk: unless fetched, its trailer's
 * line is fetched from these words, with no branch on where it was. */
static inline int start_in_word(struct am_heapmeta *m, uintptr_t off, uintptr_t floor, struct start *st, int fetched)
{
	const uint64_t *leaf = am_heapmeta_leaf(m, off);
	uintptr_t leaf_lo = off & ~(LEAF_COVER - 1);
	if (!leaf)
		return -1;
	size_t i = (off - leaf_lo) / UNIT, w = i / 64;
	uint64_t word = __atomic_load_n(&leaf[w], __ATOMIC_RELAXED);
	uint64_t below = word & (~(uint64_t)0 >> (63 - i % 64)), above = word & (~(uint64_t)1 << (i % 64));
	if (!below)
		return -1;
	size_t j = w * 64 + 63 - (size_t)__builtin_clzll(below);
	if (floor > leaf_lo && j < (floor - leaf_lo) / UNIT)
		return -1;
	*st = (struct start){leaf, j, m->base + leaf_lo + j * UNIT};
	if (fetched)
		return 0;
	uint64_t next = __atomic_load_n(&leaf[w + 1], __ATOMIC_RELAXED) | (uint64_t)1 << 63;
	size_t k = above ? w * 64 + (size_t)__builtin_ctzll(above) : (w + 1) * 64 + (size_t)__builtin_ctzll(next);
	fetch(m->base + leaf_lo + k * UNIT - 16);
	return 0;
}

/* The last chunk start at or below arena offset off; 0 if found. A chunk
 * holding off either starts within AM_BIG_CHUNK below it, or is big and
 * starts in the last marked page below: the last start in that page.
 * Unless fetched, the line of the trailer found is fetched. */
static int chunk_start_below(struct am_heapmeta *m, uintptr_t off, struct start *st, int fetched)
{
	uintptr_t near = off > AM_BIG_CHUNK ? off - AM_BIG_CHUNK : 0;
	if (start_in_word(m, off, near, st, fetched) == 0)
		return 0;
	int rc = start_in(m, off, near, st);
	if (rc != 0) {
		intptr_t page = near ? marked_page_below(m, near) : -1;
		rc = page < 0 ? -1 : start_in(m, (uintptr_t)page + MARK_PAGE - UNIT, (uintptr_t)page, st);
	}
	if (rc == 0 && !fetched)
		prefetch_trailer(st);
	return rc;
}

/* Where the trailer of the chunk starting at st lies (its offset, *usable:
 * the program-visible usable size unless the slack is AM_SLACK_BIG), its
 * header and usable area (to the trailer's end) in the sequence; its size
 * word (0 for a foreign chunk) in *w. 0 if sane. */
static int usable_at(const struct am_heapmeta *m, const struct start *st, const struct reads *r, size_t *usable,
		     size_t *w)
{
	uintptr_t q = st->at;
	*w = 0;
	if (r->foreign) {
		intptr_t end = am_foreign_end(m, q - m->base);
		if (end < 0 || m->base + (uintptr_t)end > r->hi)
			return -1;
		*usable = m->base + (uintptr_t)end - q - AM_TRAILER;
		return 0;
	}
	if (q < r->lo + 16 || !readable(r, q - 8, 8))
		return -1;
	*w = am_chunk_word((const void *)q);
	size_t size = am_chunk_size(*w);
	if (am_chunk_mmapped(*w) || size < AM_CHUNK_MIN || size > r->hi - q + 8)
		return -1; /* the usable area q + size - 8 <= hi */
	*usable = am_chunk_usable(*w) - AM_TRAILER;
	return 0;
}

/* Whether st's start bit is set now (an acquire load: what is read after
 * it is read after it). */
static int bit_now(const struct start *st)
{
	return (__atomic_load_n(&st->leaf[st->bit / 64], __ATOMIC_ACQUIRE) >> (st->bit % 64)) & 1;
}

/* Whether the chunk at st, read as (usable, size word w, trailer f->t),
 * is still so: its bit still set, then its trailer and its size word (or a
 * foreign chunk's end, read in pieces) unchanged. A chunk freed meanwhile
 * has glibc's or the program's data where its trailer was; one made again
 * with another size, another trailer. What passes was live when its bit
 * was seen set, or is the chunk made again identically. */
static int still_live(const struct am_heapmeta *m, const struct start *st, const struct reads *r, size_t usable,
		      size_t w, const struct found *f)
{
	uintptr_t q = st->at;
	if (!bit_now(st))
		return 0;
	if (*(const volatile uint64_t *)(q + usable) != f->t)
		return 0;
	if (r->foreign) /* and the start bit again: the end was read after it */
		return am_foreign_end(m, q - m->base) == (intptr_t)(q + usable + AM_TRAILER - m->base) &&
		       bit_now(st);
	/* glibc's foot of a free chunk lies where our trailer does (chunk.h):
	 * both reads can fall on it while the bit, read between them, belongs
	 * to an allocation of the same chunk made and freed in the meantime */
	if (f->t == am_chunk_size(w))
		return 0;
	/* bit 0 (PREV_INUSE) tells of the chunk before, which may change */
	return (*(const volatile size_t *)(q - 8) | 1) == (w | 1);
}

/* The chunk holding p, read from the arena's sequence, a glibc or a
 * foreign (foreign.c) one. A chunk start found in the bitmap may be freed
 * and merged while we look, so its size word can be anything: every load
 * is checked (struct reads) and the chunk checked again at the end. */
static int read_bits(uintptr_t p, struct am_heapmeta *m, const struct reads *r, struct allocmap_info *out,
		     int fetched)
{
	struct start st;
	size_t usable, w;
	if (p < m->base || p >= m->end || chunk_start_below(m, p - m->base, &st, fetched) != 0)
		return -1;
	uintptr_t q = st.at;
	struct found f;
	if (q >= r->hi || usable_at(m, &st, r, &usable, &w) != 0)
		return -1;
	if (p >= q + usable || read_trailer(r, q, usable, &f) != 0 || p >= q + f.size)
		return -1; /* free space, chunk metadata or the trailer */
	if (!still_live(m, &st, r, usable, w, &f))
		return -1;
	put_chunk(&f, out); /* only now: -1 leaves the mapping-level answer */
	return 0;
}

/* p's leaf and bit in the brk heap's bitmap, or NULL. Leaves are never
 * unmapped, so reading one that just retired is safe. */
static const uint64_t *lane_leaf(uintptr_t p, size_t *bit)
{
	uint64_t *leaf = NULL;
	am_lane_find(p, &leaf, bit);
	return leaf;
}

void am_heap_prefetch_bits(const void *p)
{
	size_t bit;
	const uint64_t *leaf = lane_leaf((uintptr_t)p, &bit);
	if (!leaf)
		return;
	fetch((uintptr_t)&leaf[bit / 64]);
	fetch((uintptr_t)p); /* its page, touched now for the chunk stage (heap.h) */
}

/* Only in the brk heap's lane: elsewhere p's lines may be no chunk's
 * header (a big mmapped chunk), and fetching them costs. */
void am_heap_prefetch_near(const void *p)
{
	size_t bit;
	const uint64_t *leaf = lane_leaf((uintptr_t)p, &bit);
	if (!leaf)
		return;
	fetch_near((uintptr_t)p);
	fetch((uintptr_t)&leaf[bit / 64]);
}

void am_heap_prefetch_chunk(const void *p)
{
	size_t bit;
	const uint64_t *leaf = lane_leaf((uintptr_t)p, &bit);
	long j = leaf ? am_bit_find_prev_from(leaf, bit, bit > 1024 ? bit - 1024 : 0) : -1;
	if (j < 0)
		return;
	struct start st = {leaf, (size_t)j, ((uintptr_t)p & ~(uintptr_t)(UNIT - 1)) - (bit - (size_t)j) * UNIT};
	fetch(st.at - 8);
	prefetch_trailer(&st);
}

/* Enters the unmap handshake (quiesce.h) for the arena [lo, hi); then the
 * index must still be as the caller's ticket saw it (else an unmap
 * completed since: -2, retry). */
static int read_begin(uintptr_t lo, uintptr_t hi, unsigned ticket)
{
	if (am_quiesce_read_begin(lo, hi) != 0)
		return -1;
	if (!am_index_read_retry(ticket))
		return 0;
	am_quiesce_read_end();
	return -2;
}

int am_heap_query(const void *p, const struct am_map_view *v, unsigned ticket, struct allocmap_info *out,
		  int fetched)
{
	enum am_heap_mode mode = am_heap_mode;
	if (!v->heap || !am_heap_indexed(mode))
		return -1;
	int rc = read_begin(v->seq_lo, v->seq_hi, ticket), told = 1;
	if (rc)
		return rc;
	rc = -1;
	int r_ok = (v->prot & PROT_READ) != 0;
	struct reads r = {v->seq_lo, v->seq_hi, r_ok ? v->lo : 0, r_ok ? v->hi : 0, ticket, mode == AM_HEAP_FOREIGN};
	if (AM_HEAP_IS_SINGLE(v->heap))
		rc = read_single((uintptr_t)p, AM_HEAP_SINGLE_OFF(v->heap), &r, out);
	else if (am_heap_lane_shadows(v->heap, (uintptr_t)p))
		told = 0; /* not this bitmap's to answer */
	else
		rc = read_bits((uintptr_t)p, v->heap, &r, out, fetched);
	am_quiesce_read_end();
	return rc == 0 ? 0 : told ? 1 : -1; /* read, and in no live chunk: free space */
}

