/* The heap index: trailers, per-arena chunk-start bitmaps, chunk queries.
 * See heap.h for the design and the concurrency guarantee.
 *
 * Invariants: a bit is set in an arena's bitmap exactly for the chunks of
 * that arena handed to the program and not yet given back (modulo the
 * instants around the real calls); a meta's coverage [base, end) lies in
 * the address range of the sequence it hangs off (a leaf cached by a
 * thread must never answer for another arena's addresses).
 * Locking: heap_lock guards making metas (lock order: heap_lock, then the
 * mmap tier, then the index). Retired metas go on a lock-free stack,
 * because they retire under the index lock.
 */
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/mman.h>

#include "../sys/bitmap.h"
#include "../index/mapindex.h"
#include "../palloc/palloc.h"
#include "../sys/lock.h"
#include "../sys/syscall.h"
#include "fastpath.h"
#include "heap.h"
#include "heapmeta.h"
#include "livestats.h"
#include "../index/quiesce.h"
#include "../sys/page.h"

static struct am_lock heap_lock = AM_LOCK_INIT;
static struct am_heapmeta *retired;
static uint64_t n_unindexed, n_arenas, n_slow;

__thread struct am_leaf_cache am_leaf_cache[AM_LEAF_SLOTS];
unsigned am_heap_epoch;
struct am_brk_lane am_brk_lane;

/* glibc's chunk header: the size word just below the user pointer. */



/* Zeroes a recycled bitmap without touching pages that are already zero. */
static void zero_bits(void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, lo = am_page_up(a), hi = am_page_down(a + n);
	if (lo >= hi) {
		memset(p, 0, n);
		return;
	}
	memset(p, 0, lo - a);
	am_sys_madvise((void *)lo, hi - lo, MADV_DONTNEED);
	memset((void *)hi, 0, a + n - hi);
}

static void push_retired(struct am_heapmeta *m)
{
	do
		m->next = __atomic_load_n(&retired, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&retired, &m->next, m, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* A retired meta with room for n leaves, its leaves zeroed; or NULL. */
static struct am_heapmeta *take_retired(unsigned n)
{
	struct am_heapmeta *list = __atomic_exchange_n(&retired, NULL, __ATOMIC_ACQUIRE), *found = NULL;
	while (list) {
		struct am_heapmeta *m = list;
		list = m->next;
		if (!found && m->nleaves >= n)
			found = m;
		else
			push_retired(m);
	}
	for (unsigned k = 0; found && k < found->nleaves; k++)
		if (found->leaf[k])
			zero_bits(found->leaf[k], am_leaf_bytes());
	return found;
}

static struct am_heapmeta *new_meta(uintptr_t base, uintptr_t end)
{
	unsigned n = (unsigned)((end - base + LEAF_COVER - 1) >> LEAF_SHIFT);
	struct am_heapmeta *m = take_retired(n);
	if (!m && (m = am_palloc_calloc(&am_tier_nommap, 1, sizeof *m + n * sizeof m->leaf[0])))
		m->nleaves = n;
	if (m) {
		m->base = base, m->end = end;
		__atomic_fetch_add(&n_arenas, 1, __ATOMIC_RELAXED);
	}
	return m;
}

/* The leaf for arena offset off, made if `make` (under heap_lock). */
static uint64_t *leaf_at(struct am_heapmeta *m, uintptr_t off, int make)
{
	uint64_t **slot = &m->leaf[off >> LEAF_SHIFT];
	uint64_t *leaf = am_heapmeta_leaf(m, off);
	if (leaf || !make)
		return leaf;
	am_lock(&heap_lock);
	if (!(leaf = *slot) && (leaf = am_palloc_calloc(&am_tier_mmap, 1, am_leaf_bytes())))
		__atomic_store_n(slot, leaf, __ATOMIC_RELEASE);
	am_unlock(&heap_lock);
	return leaf;
}

/* The lane is opened only while closed (the brk sequence has one meta at
 * a time, and a retired one closes it), so a reader that saw cover
 * non-zero reads the base and leaves that go with it. */
static void open_lane(struct am_heapmeta *m)
{
	__atomic_store_n(&am_brk_lane.base, m->base, __ATOMIC_RELAXED);
	__atomic_store_n(&am_brk_lane.leaf, m->leaf, __ATOMIC_RELAXED);
	__atomic_store_n(&am_brk_lane.cover, m->end - m->base, __ATOMIC_RELEASE);
}

static void close_lane(struct am_heapmeta *m)
{
	if (__atomic_load_n(&am_brk_lane.leaf, __ATOMIC_ACQUIRE) == m->leaf)
		__atomic_store_n(&am_brk_lane.cover, 0, __ATOMIC_RELEASE);
}

static struct am_heapmeta *make_meta(struct am_seq *s, uintptr_t lo, uintptr_t hi)
{
	am_lock(&heap_lock);
	void *h = __atomic_load_n(&s->heap, __ATOMIC_ACQUIRE);
	if (!h) {
		int brk = s->origin == AM_ORIGIN_BRK;
		struct am_heapmeta *m = new_meta(lo, brk ? lo + AM_BRK_COVERAGE : hi);
		if (m && brk)
			open_lane(m); /* before it is reachable: a retirement then closes it */
		h = m ? am_index_set_heap(s, m) : NULL;
		if (m && brk && h != m)
			close_lane(m);
	}
	am_unlock(&heap_lock);
	return AM_HEAP_IS_SINGLE(h) ? NULL : h;
}

/* Whether a lies in the brk lane's cover: the fast paths take the lane's
 * leaf for it, so no other sequence's bitmap may answer for it. */
static int in_lane(uintptr_t a)
{
	uint64_t *leaf;
	size_t bit;
	return am_lane_find(a, &leaf, &bit);
}

/* Whether a lies in the brk lane's cover but in another sequence, which
 * then gets no bitmap of its own (its chunks answer at the mapping level). */
static int shadowed(uintptr_t a, const struct am_seq *s) { return s->origin != AM_ORIGIN_BRK && in_lane(a); }

/* Whether bitmap m must not answer for a: a lies in the brk lane's cover
 * and m is not the brk heap's (a bitmap made before the lane opened). */
static int lane_shadows(const struct am_heapmeta *m, uintptr_t a)
{
	return in_lane(a) && (const void *)__atomic_load_n(&am_brk_lane.leaf, __ATOMIC_RELAXED) != (const void *)m->leaf;
}

/* The arena bitmap covering a; made on first use only if `make` (a free
 * of memory never recorded must not create one). */
static struct am_heapmeta *meta_for(uintptr_t a, int make)
{
	uintptr_t lo, hi;
	struct am_seq *s = am_index_seq_at(a, &lo, &hi);
	if (!s || shadowed(a, s))
		return NULL;
	struct am_heapmeta *m = __atomic_load_n(&s->heap, __ATOMIC_ACQUIRE);
	if (AM_HEAP_IS_SINGLE(m))
		return NULL;
	if (!m && (!make || !(m = make_meta(s, lo, hi))))
		return NULL;
	return a >= m->base && a < m->end ? m : NULL;
}

const struct am_heapmeta *am_heap_meta_at(uintptr_t a) { return meta_for(a, 0); }

uint64_t *am_heap_leaf_slow(uintptr_t a, int make, size_t *bit)
{
	__atomic_fetch_add(&n_slow, 1, __ATOMIC_RELAXED);
	/* read first: a retirement during the lookup makes the entry stale */
	unsigned epoch = __atomic_load_n(&am_heap_epoch, __ATOMIC_ACQUIRE);
	struct am_heapmeta *m = meta_for(a, make);
	uintptr_t off = m ? a - m->base : 0;
	uint64_t *leaf = m ? leaf_at(m, off, make) : NULL;
	if (!leaf)
		return NULL;
	uintptr_t lo = a - (off & (LEAF_COVER - 1));
	struct am_leaf_cache *c = &am_leaf_cache[(a >> AM_LEAF_SHIFT) % AM_LEAF_SLOTS];
	c->lo = lo, c->hi = lo + LEAF_COVER < m->end ? lo + LEAF_COVER : m->end;
	c->epoch = epoch, c->leaf = leaf;
	*bit = (a - lo) / UNIT;
	return leaf;
}

/* The sequence mmapped chunk p is the one chunk of (its header lies *off
 * bytes in, glibc's prev_size of an mmapped chunk), or NULL. */
static struct am_seq *single_seq(void *p, uintptr_t *off)
{
	uintptr_t lo, hi, hdr = (uintptr_t)p - 16;
	*off = ((const size_t *)p)[-2];
	struct am_seq *s = am_index_seq_at((uintptr_t)p, &lo, &hi);
	return s && lo == hdr - *off ? s : NULL;
}

void am_heap_tag_mmapped(void *p)
{
	uintptr_t off;
	struct am_seq *s = single_seq(p, &off);
	if (s)
		am_index_set_heap(s, AM_HEAP_SINGLE_AT(off));
}

/* glibc is about to resize mmapped chunk p in place (mremap): it stores
 * the new size word before we store the new trailer, so queries must not
 * read p as a chunk until it is recorded again (am_heap_tag_mmapped). */
int am_heap_untag_mmapped(void *p)
{
	uintptr_t off;
	struct am_seq *s = single_seq(p, &off);
	return s && am_index_clear_heap(s, AM_HEAP_SINGLE_AT(off));
}

void am_heap_record_mmapped(void *p, size_t n, const void *site)
{
	am_put_trailer(p, am_chunk_usable(am_chunk_word(p)), n, site);
	am_heap_tag_mmapped(p);
}

void am_heap_record_slow(void *p)
{
	size_t i;
	uint64_t *leaf = am_heap_leaf_slow((uintptr_t)p, 1, &i);
	if (!leaf) {
		am_heap_note_unindexed();
		return;
	}
	am_chunk_bits(leaf, i, am_chunk_word(p), 1);
}

void am_heap_mark_big(uint64_t *leaf, size_t bit, int set)
{
	am_bit_update(am_leaf_marks(leaf), bit >> MARK_SHIFT, set);
}

void am_heap_forget_slow(void *p)
{
	size_t i;
	uint64_t *leaf = am_heap_leaf_slow((uintptr_t)p, 0, &i);
	if (!leaf)
		return;
	am_chunk_bits(leaf, i, am_chunk_word(p), 0);
}

size_t am_heap_usable(void *p)
{
	size_t tpos = am_chunk_usable(am_chunk_word(p)) - AM_TRAILER;
	return am_visible_size(tpos, *(const uint64_t *)((char *)p + tpos));
}

void am_heap_resite(void *p, const void *site)
{
	uint64_t *t = (uint64_t *)((char *)p + am_chunk_usable(am_chunk_word(p)) - AM_TRAILER);
	if (am_live_on()) {
		const void *from;
		size_t n = am_live_glibc_request(p, &from);
		am_live_move(n, from, site);
	}
	*t = am_trailer_word(site, *t >> 48);
}

static void seq_gone(void *heap)
{
	struct am_heapmeta *m = heap;
	if (AM_HEAP_IS_SINGLE(m))
		return;
	close_lane(m);
	__atomic_fetch_add(&am_heap_epoch, 1, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&n_arenas, 1, __ATOMIC_RELAXED);
	push_retired(m);
}

void am_heap_start(void) { am_index_on_seq_gone(seq_gone); }

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
static int read_trailer(const struct reads *r, uintptr_t base, size_t tpos, struct found *f)
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
	out->site = am_trailer_site(f->t);
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
		const uint64_t *leaf = leaf_at(m, off, 0);
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
		uint64_t *leaf = leaf_at(m, off, 0);
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

/* The last chunk start at or below arena offset off; 0 if found. A chunk
 * holding off either starts within AM_BIG_CHUNK below it, or is big and
 * starts in the last marked page below: the last start in that page. */
static int chunk_start_below(struct am_heapmeta *m, uintptr_t off, struct start *st)
{
	uintptr_t near = off > AM_BIG_CHUNK ? off - AM_BIG_CHUNK : 0;
	if (start_in(m, off, near, st) == 0)
		return 0;
	intptr_t page = near ? marked_page_below(m, near) : -1;
	return page < 0 ? -1 : start_in(m, (uintptr_t)page + MARK_PAGE - UNIT, (uintptr_t)page, st);
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
	prefetch_trailer(st);
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
	/* bit 0 (PREV_INUSE) tells of the chunk before, which may change */
	return (*(const volatile size_t *)(q - 8) | 1) == (w | 1);
}

/* The chunk holding p, read from the arena's sequence, a glibc or a
 * foreign (foreign.c) one. A chunk start found in the bitmap may be freed
 * and merged while we look, so its size word can be anything: every load
 * is checked (struct reads) and the chunk checked again at the end. */
static int read_bits(uintptr_t p, struct am_heapmeta *m, const struct reads *r, struct allocmap_info *out)
{
	struct start st;
	size_t usable, w;
	if (p < m->base || p >= m->end || chunk_start_below(m, p - m->base, &st) != 0)
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
	if (leaf)
		fetch((uintptr_t)&leaf[bit / 64]);
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

int am_heap_query(const void *p, const struct am_map_view *v, unsigned ticket, struct allocmap_info *out)
{
	enum am_heap_mode mode = am_heap_mode;
	if (!v->heap || !am_heap_indexed(mode))
		return -1;
	int rc = read_begin(v->seq_lo, v->seq_hi, ticket);
	if (rc)
		return rc;
	int r_ok = (v->prot & PROT_READ) != 0;
	struct reads r = {v->seq_lo, v->seq_hi, r_ok ? v->lo : 0, r_ok ? v->hi : 0, ticket, mode == AM_HEAP_FOREIGN};
	if (AM_HEAP_IS_SINGLE(v->heap))
		rc = read_single((uintptr_t)p, AM_HEAP_SINGLE_OFF(v->heap), &r, out);
	else if (lane_shadows(v->heap, (uintptr_t)p))
		rc = -1;
	else
		rc = read_bits((uintptr_t)p, v->heap, &r, out);
	am_quiesce_read_end();
	return rc;
}

/* Every chunk start in [lo, hi) of one leaf. */
static int starts_in_leaf(struct am_heapmeta *m, uintptr_t lo, uintptr_t hi, int (*fn)(uintptr_t, void *),
			  void *arg)
{
	const uint64_t *leaf = leaf_at(m, lo - m->base, 0);
	uintptr_t leaf_lo = m->base + ((lo - m->base) & ~(LEAF_COVER - 1));
	size_t i0 = (lo - leaf_lo) / UNIT, i1 = (hi - leaf_lo + UNIT - 1) / UNIT;
	for (size_t w = i0 / 64; leaf && w * 64 < i1; w++) {
		uint64_t word = __atomic_load_n(&leaf[w], __ATOMIC_RELAXED);
		if (w == i0 / 64)
			word &= ~(uint64_t)0 << (i0 % 64);
		for (; word; word &= word - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(word);
			int rc = i < i1 ? fn(leaf_lo + i * UNIT, arg) : 0;
			if (rc || i >= i1)
				return rc;
		}
	}
	return 0;
}

int am_heap_each_start(void *heap, uintptr_t lo, uintptr_t hi, uintptr_t seq_lo, int (*fn)(uintptr_t, void *),
		       void *arg)
{
	if (!heap || !am_heap_indexed(am_heap_mode))
		return 0;
	if (AM_HEAP_IS_SINGLE(heap)) {
		uintptr_t base = seq_lo + AM_HEAP_SINGLE_OFF(heap) + 16;
		return base >= lo && base < hi ? fn(base, arg) : 0;
	}
	struct am_heapmeta *m = heap;
	if (lane_shadows(m, m->base))
		return 0;
	lo = lo > m->base ? lo : m->base;
	hi = hi < m->end ? hi : m->end;
	int rc = 0;
	while (!rc && lo < hi) {
		uintptr_t leaf_end = m->base + (((lo - m->base) >> LEAF_SHIFT) + 1) * LEAF_COVER;
		uintptr_t end = leaf_end < hi ? leaf_end : hi;
		rc = starts_in_leaf(m, lo, end, fn, arg);
		lo = end;
	}
	return rc;
}

int am_heap_held_at_fork(void) { return heap_lock.state != 0; }

void am_heap_reset_child(void)
{
	heap_lock.state = 0;
	retired = NULL;
	n_arenas = 0;
	memset(am_leaf_cache, 0, sizeof am_leaf_cache);
	memset(&am_brk_lane, 0, sizeof am_brk_lane);
}

void am_heap_note_unindexed(void) { __atomic_fetch_add(&n_unindexed, 1, __ATOMIC_RELAXED); }
uint64_t am_heap_unindexed(void) { return __atomic_load_n(&n_unindexed, __ATOMIC_RELAXED); }
uint64_t am_heap_slow_path(void) { return __atomic_load_n(&n_slow, __ATOMIC_RELAXED); }
uint64_t am_heap_arenas(void) { return __atomic_load_n(&n_arenas, __ATOMIC_RELAXED); }
