/* The heap index: trailers and per-arena chunk-start bitmaps, kept as the
 * malloc family records and forgets chunks (queries: heapquery.c).
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
#include <sys/mman.h>
#include <sys/single_threaded.h>

#include "../sys/bitmap.h"
#include "../index/mapindex.h"
#include "../palloc/palloc.h"
#include "../sys/lock.h"
#include "../sys/syscall.h"
#include "fastpath.h"
#include "heap.h"
#include "heapmeta.h"
#include "livestats.h"
#include "../sys/page.h"

static struct am_lock heap_lock = AM_LOCK_INIT;
static struct am_heapmeta *retired;
static uint64_t n_unindexed, n_arenas, n_slow;

__thread struct am_leaf_cache am_leaf_cache[AM_LEAF_SLOTS];
/* What each slot of am_leaf_cache held before: two leaves taking turns
 * in one slot are found here, without the index. */
static __thread struct am_leaf_cache am_leaf_victim[AM_LEAF_SLOTS];
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
int am_heap_lane_shadows(const struct am_heapmeta *m, uintptr_t a)
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
	/* read first: a retirement during the lookup makes the entry stale */
	unsigned epoch = __atomic_load_n(&am_heap_epoch, __ATOMIC_ACQUIRE);
	struct am_leaf_cache *c = am_leaf_slot(a), *v = &am_leaf_victim[c - am_leaf_cache], was = *c;
	if (am_leaf_covers(v, a) && v->epoch == epoch) {
		*c = *v, *v = was;
		*bit = (a - c->lo) / UNIT;
		return c->leaf;
	}
	__atomic_fetch_add(&n_slow, 1, __ATOMIC_RELAXED);
	struct am_heapmeta *m = meta_for(a, make);
	uintptr_t off = m ? a - m->base : 0;
	uint64_t *leaf = m ? leaf_at(m, off, make) : NULL;
	if (!leaf)
		return NULL;
	uintptr_t lo = a - (off & (LEAF_COVER - 1));
	*v = was;
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
	if (am_heap_lane_shadows(m, m->base))
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
