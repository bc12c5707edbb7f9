/* The heap index against the memory it describes, for allocmap_check.
 *
 * For every arena bitmap, each recorded chunk start must be a chunk glibc
 * has in use: its size word sane (not mmapped, at least 32 bytes, inside
 * the arena), the next chunk's PREV_INUSE bit set, its trailer's slack
 * within the chunk, and no chunk overlapping the one before. No bit may
 * lie outside the arena's sequence. A big chunk's page must be marked, and
 * a marked page's last chunk start must be a big chunk's (heapmeta.h). A
 * chunk that is its own mapping must have a size word that fits its
 * mapping. With a foreign allocator (foreign.c) a chunk start must have
 * its end bit, end inside its arena, not overlap the one before, have a
 * sane trailer and, if big, its page marked; the end bits and marks are
 * not checked beyond that. Only readable maps are read,
 * under the index lock and, chunk by chunk, inside the unmap handshake
 * (munmap and mremap wait for the lock; mprotect, MAP_FIXED and a
 * shrinking brk change memory first). Other threads may malloc and free
 * meanwhile: a chunk found wrong is read again and reported only if
 * nothing it was judged on has changed and its bit is still set; a bit
 * past a brk heap's end counts only past the actual break. What races can
 * still show is an ABA (freed and made again identically between the two
 * reads) — run it when the program is quiescent, as allocmap_check says.
 * What it cannot see: a live chunk whose bit is missing (glibc's cached
 * free chunks look in use too); the unindexed counter covers the known
 * cause, a bitmap that could not be made.
 */
#include <sys/mman.h>

#include "../bitmap.h"

#include "../log.h"
#include "../index/mapindex.h"
#include "../sys/syscall.h"
#include "heap.h"
#include "heapmeta.h"
#include "quiesce.h"

struct vcheck {
	int fd;
	size_t bad;
	uintptr_t prev_a, prev_w, prev_end; /* the previous good chunk: start, size word, end */
	const struct am_map_view *view;     /* the map being checked */
};

/* Whether a's bit is still set in the map's arena bitmap: a chunk freed
 * by another thread while it was checked is not a discrepancy. */
static int still_recorded(const struct vcheck *c, uintptr_t a)
{
	const struct am_heapmeta *m = c->view->heap;
	const uint64_t *leaf = am_heapmeta_leaf(m, a - m->base);
	size_t i = ((a - m->base) & (LEAF_COVER - 1)) / UNIT;
	return leaf && (__atomic_load_n(&leaf[i / 64], __ATOMIC_ACQUIRE) >> (i % 64) & 1);
}

static void report(struct vcheck *c, const char *what, uintptr_t a)
{
	char line[160];
	c->bad++;
	if (c->fd < 0)
		return;
	size_t n = am_fmt(line, sizeof line, "allocmap: check: heap index: %s at %p\n", what, (void *)a);
	am_sys_write_all(c->fd, line, n);
}

/* A discrepancy at a recorded chunk start a, unless it was freed meanwhile. */
static void bad(struct vcheck *c, const char *what, uintptr_t a)
{
	if (still_recorded(c, a))
		report(c, what, a);
}

static size_t word_at(uintptr_t a) { return *(const size_t *)a; }

/* What a check reads of chunk a: its size word, the next chunk's (1, as
 * if in use, when past the map) and its trailer (unknown when past). */
struct facts {
	size_t w, next_w;
	uint64_t trailer;
};

static void read_facts(uintptr_t a, const struct am_map_view *v, struct facts *f)
{
	f->w = word_at(a - 8);
	size_t size = f->w & ~(size_t)7;
	f->next_w = 1, f->trailer = (uint64_t)SLACK_UNKNOWN << 48;
	if (size < 32 || size > v->seq_hi - (a - 16))
		return;
	if (a + size - 8 < v->hi)
		f->next_w = word_at(a + size - 8);
	if (a + size - 8 <= v->hi)
		f->trailer = word_at(a + size - 16);
}

enum verdict { GOOD, BAD_SIZE, OVERLAP, FREE, BAD_SLACK };

static const char *const verdict_text[] = {
	[BAD_SIZE] = "a chunk whose size word is not an arena chunk's",
	[OVERLAP] = "a chunk starting inside the one before",
	[FREE] = "a chunk glibc has free (the next chunk's PREV_INUSE is clear)",
	[BAD_SLACK] = "a chunk whose trailer's slack is larger than the chunk",
};

static enum verdict judge(const struct facts *f, uintptr_t a, const struct am_map_view *v, uintptr_t prev_end)
{
	size_t size = f->w & ~(size_t)7, slack = (size_t)(f->trailer >> 48);
	if ((f->w & 2) || size < 32 || size > v->seq_hi - (a - 16))
		return BAD_SIZE;
	if (a < prev_end)
		return OVERLAP;
	if (!(f->next_w & 1))
		return FREE;
	return slack != SLACK_UNKNOWN && slack > size - 16 ? BAD_SLACK : GOOD;
}

/* Whether a verdict stands when read again: the chunk recorded before and
 * after the facts are read again, the same facts, and for an overlap the
 * chunk before still recorded and unchanged. A chunk freed, merged or
 * reused by another thread meanwhile changes one of them, unless it was
 * freed and made again identically in between. */
static int stands(struct vcheck *c, uintptr_t a, const struct facts *f, enum verdict why)
{
	struct facts again;
	if (!still_recorded(c, a))
		return 0;
	read_facts(a, c->view, &again);
	if (again.w != f->w || again.next_w != f->next_w || again.trailer != f->trailer || !still_recorded(c, a))
		return 0;
	return why != OVERLAP || (still_recorded(c, c->prev_a) && word_at(c->prev_a - 8) == c->prev_w);
}

/* Whether the page holding a is marked as a big chunk's (heapmeta.h). */
static int page_marked(const struct vcheck *c, uintptr_t a)
{
	const struct am_heapmeta *m = c->view->heap;
	uint64_t *leaf = am_heapmeta_leaf(m, a - m->base);
	size_t j = (((a - m->base) & (LEAF_COVER - 1)) / UNIT) >> MARK_SHIFT;
	return leaf && (__atomic_load_n(&am_leaf_marks(leaf)[j / 64], __ATOMIC_ACQUIRE) >> (j % 64) & 1);
}

/* The chunk whose user pointer is a, inside the readable map of c->view. */
static void check_chunk(struct vcheck *c, uintptr_t a)
{
	const struct am_map_view *v = c->view;
	if (a < v->seq_lo + 16) {
		bad(c, "a chunk start at the arena's first bytes", a);
		return;
	}
	if (a - 8 < v->lo)
		return; /* its size word is in the map before */
	struct facts f;
	read_facts(a, v, &f);
	enum verdict why = judge(&f, a, v, c->prev_end);
	if (why != GOOD) {
		if (stands(c, a, &f, why))
			report(c, verdict_text[why], a);
		return;
	}
	c->prev_a = a, c->prev_w = f.w, c->prev_end = a + (f.w & ~(size_t)7);
	if (f.w >= AM_BIG_CHUNK && !page_marked(c, a) && still_recorded(c, a) && word_at(a - 8) == f.w &&
	    !page_marked(c, a))
		report(c, "a big chunk whose page is not marked", a);
}

/* What is wrong with a foreign allocator's chunk a (foreign.c) whose
 * end is e (0: none found), or NULL. */
static const char *foreign_verdict(const struct vcheck *c, uintptr_t a, uintptr_t e)
{
	const struct am_map_view *v = c->view;
	if (!e)
		return "a chunk start without its end bit";
	if (e > v->seq_hi)
		return "a chunk ending past its arena";
	if (a < c->prev_end)
		return "a chunk starting inside the one before";
	if (e - a >= AM_BIG_CHUNK && !page_marked(c, a))
		return "a big chunk whose page is not marked";
	if (e <= v->hi && (size_t)(word_at(e - AM_TRAILER) >> 48) != SLACK_UNKNOWN &&
	    (size_t)(word_at(e - AM_TRAILER) >> 48) > e - a - AM_TRAILER)
		return "a chunk whose trailer's slack is larger than the chunk";
	return NULL;
}

/* A foreign allocator's chunk: judged twice, reported if still recorded
 * with the same end. */
static void check_foreign(struct vcheck *c, uintptr_t a)
{
	const struct am_heapmeta *m = c->view->heap;
	intptr_t end = am_foreign_end(m, a - m->base);
	uintptr_t e = end < 0 ? 0 : m->base + (uintptr_t)end;
	const char *why = foreign_verdict(c, a, e);
	if (!why)
		c->prev_end = e;
	else if (foreign_verdict(c, a, e) && still_recorded(c, a) && am_foreign_end(m, a - m->base) == end)
		report(c, why, a);
}

/* Each chunk's reads inside the unmap handshake (quiesce.h): a shrinking
 * brk or an mprotect on another thread changes the memory before its
 * event waits for the index lock this check holds. Such a call in flight
 * on the arena ends the map's check. */
static int visit_chunk(uintptr_t a, void *arg)
{
	struct vcheck *c = arg;
	if (am_quiesce_read_begin(c->view->seq_lo, c->view->seq_hi) != 0)
		return 1;
	if (am_heap_mode == AM_HEAP_FOREIGN)
		check_foreign(c, a);
	else
		check_chunk(c, a);
	am_quiesce_read_end();
	return 0;
}

/* A bit past the arena's end, but not past a brk heap's actual break
 * (its growth may be waiting for the index lock this check holds). */
static int visit_beyond(uintptr_t a, void *arg)
{
	struct vcheck *c = arg;
	if (c->view->origin == AM_ORIGIN_BRK && a < (uintptr_t)am_sys_brk(NULL))
		return 0;
	bad(c, "a chunk start outside its arena", a);
	return 0;
}

/* Whether the chunk recorded at a, whose start's page is marked, is big.
 * A size word in the map before is taken on trust. */
static int big_at(const struct am_map_view *v, uintptr_t a)
{
	const struct am_heapmeta *m = v->heap;
	if (am_heap_mode == AM_HEAP_FOREIGN) {
		intptr_t end = am_foreign_end(m, a - m->base);
		return end >= 0 && m->base + (uintptr_t)end - a >= AM_BIG_CHUNK;
	}
	return a - 8 < v->lo || word_at(a - 8) >= AM_BIG_CHUNK;
}

/* Whether the marked page pg (of leaf) lacks its big chunk: no chunk
 * starts in it, or its last chunk start is not a big chunk's. */
static int mark_stray(const struct am_map_view *v, const uint64_t *leaf, uintptr_t pg)
{
	const struct am_heapmeta *m = v->heap;
	size_t first = ((pg - m->base) & (LEAF_COVER - 1)) / UNIT;
	long j = am_bit_find_prev_from(leaf, first + (1u << MARK_SHIFT) - 1, first);
	return j < 0 || !big_at(v, pg + (uintptr_t)(j - (long)first) * UNIT);
}

/* A marked page must have a big chunk as its last chunk start. A record
 * or a free in flight sets the mark before the bit and clears it after,
 * and its thread may be preempted in between: a stray mark is judged
 * again after each of up to 64 yields of the CPU, and reported if it
 * stays (3 threads churning big chunks on 2 CPUs, 3000 checks: 1 report,
 * against 527 with one yield; none once they stopped). */
static void check_mark(struct vcheck *c, const uint64_t *leaf, uintptr_t pg)
{
	for (int k = 0; k < 64; k++) {
		if (!page_marked(c, pg) || !mark_stray(c->view, leaf, pg))
			return;
		am_sys_sched_yield();
	}
	report(c, "a marked page whose last chunk start is not a big chunk's", pg);
}

/* Calls fn for each marked page of the map (its arena bitmap's part),
 * until fn returns non-zero. */
static void each_mark(const struct am_map_view *v, int (*fn)(void *, uint64_t *, uintptr_t), void *arg)
{
	const struct am_heapmeta *m = v->heap;
	uintptr_t lo = (v->lo > m->base ? v->lo : m->base) - m->base, hi = (v->hi < m->end ? v->hi : m->end) - m->base;
	while (lo < hi) {
		uintptr_t leaf_lo = lo & ~(LEAF_COVER - 1), stop = hi - leaf_lo < LEAF_COVER ? hi : leaf_lo + LEAF_COVER;
		uint64_t *leaf = am_heapmeta_leaf(m, lo);
		size_t n = ((stop - leaf_lo - 1) / UNIT >> MARK_SHIFT) + 1;
		long j = leaf ? am_bit_find_next_from(am_leaf_marks(leaf), (lo - leaf_lo) / UNIT >> MARK_SHIFT, n) : -1;
		for (; j >= 0; j = am_bit_find_next_from(am_leaf_marks(leaf), (size_t)j + 1, n))
			if (fn(arg, leaf, m->base + leaf_lo + ((uintptr_t)j << MARK_SHIFT) * UNIT))
				return;
		lo = leaf_lo + LEAF_COVER;
	}
}

/* A marked page's check, inside the unmap handshake; 1 stops the map's. */
static int visit_mark(void *arg, uint64_t *leaf, uintptr_t pg)
{
	struct vcheck *c = arg;
	if (am_quiesce_read_begin(c->view->seq_lo, c->view->seq_hi) != 0)
		return 1;
	check_mark(c, leaf, pg);
	am_quiesce_read_end();
	return 0;
}

static void check_single(struct vcheck *c, const struct am_map_view *v)
{
	uintptr_t hdr = v->seq_lo + AM_HEAP_SINGLE_OFF(v->heap);
	if (hdr + 16 > v->hi || !(v->prot & PROT_READ))
		return;
	size_t w = word_at(hdr + 8);
	if (!(w & 2) || (w & ~(size_t)7) > v->seq_hi - hdr)
		report(c, "an mmapped chunk whose size word does not fit its mapping", hdr + 16);
}

static int check_map(const struct am_map_view *v, void *arg)
{
	struct vcheck *c = arg;
	if (!v->heap)
		return 0;
	if (AM_HEAP_IS_SINGLE(v->heap)) {
		if (v->lo == v->seq_lo)
			check_single(c, v);
		return 0;
	}
	c->prev_a = c->prev_w = c->prev_end = 0, c->view = v;
	if (v->prot & PROT_READ) {
		am_heap_each_start(v->heap, v->lo, v->hi, v->seq_lo, visit_chunk, c);
		each_mark(v, visit_mark, c);
	}
	if (v->hi == v->seq_hi) /* a brk heap's bitmap covers more than its heap */
		am_heap_each_start(v->heap, v->seq_hi, UINTPTR_MAX, v->seq_lo, visit_beyond, c);
	return 0;
}

size_t am_heap_validate(int fd)
{
	struct vcheck c = {.fd = fd};
	if (am_heap_indexed(am_heap_mode))
		am_index_each(check_map, &c);
	return c.bad;
}

/* A mark left without its chunk: cleared. */
static int repair_mark(void *arg, uint64_t *leaf, uintptr_t pg)
{
	const struct am_map_view *v = arg;
	const struct am_heapmeta *m = v->heap;
	if (mark_stray(v, leaf, pg))
		am_bit_update(am_leaf_marks(leaf), ((pg - m->base) & (LEAF_COVER - 1)) / UNIT >> MARK_SHIFT, 0);
	return 0;
}

static int repair_map(const struct am_map_view *v, void *arg)
{
	(void)arg;
	if (v->heap && !AM_HEAP_IS_SINGLE(v->heap) && (v->prot & PROT_READ))
		each_mark(v, repair_mark, (void *)v);
	return 0;
}

void am_heap_repair_marks(void)
{
	if (am_heap_indexed(am_heap_mode))
		am_index_each(repair_map, NULL);
}
