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
 * sane trailer and, if big, its page marked; and each end bit must end
 * the chunk of the last start bit before it; end marks are not checked.
 * The brk heap's bitmap reaches AM_BRK_COVERAGE past its start (its lane,
 * fastpath.h), and the fast paths record there the chunks of any mapping
 * inside that reach (a sequence the lane shadows, heapindex.c): its bits
 * over such a mapping are checked as that mapping's chunks; only those
 * over unmapped space lie outside its arena.
 * Only readable maps are read,
 * under the index lock and, chunk by chunk, inside the unmap handshake
 * (munmap and mremap wait for the lock; mprotect, MAP_FIXED and a
 * shrinking brk change memory first). Other threads may malloc and free
 * meanwhile: a chunk found wrong is read again and reported only if
 * nothing it was judged on has changed and its bit is still set; a stray
 * mark only if it stays while the CPU is yielded; an end bit without its
 * chunk only if it stays so too, and again after each of three pauses
 * with the lock let go (1, 4 and 16 ms, only then); a bit past a brk heap's
 * end counts only past the actual break. What races can still show is an
 * ABA (freed and made again identically between the two reads), or a
 * thread preempted for long between a chunk's two bits — run it when the
 * program is quiescent, as allocmap_check says.
 * What it cannot see: a live chunk whose bit is missing (glibc's cached
 * free chunks look in use too); the unindexed counter covers the known
 * cause, a bitmap that could not be made; bits of the brk heap's lane
 * past the last mapping (the stack lies above any brk heap's reach).
 */
#include <linux/futex.h>
#include <sys/mman.h>
#include <time.h>

#include "../bitmap.h"

#include "../log.h"
#include "../index/mapindex.h"
#include "../sys/syscall.h"
#include "heap.h"
#include "heapmeta.h"
#include "quiesce.h"

/* A walk of the arena bitmaps in address order (am_index_each), for the
 * check and the fork repair: part(v), map v's part of the bitmap v->heap;
 * past(v, lo, hi), that bitmap's bits over [lo, hi) past v's sequence,
 * where no chunk of its arena can be. Past the brk heap, its lane is
 * walked with the maps that follow: the unmapped space before each map
 * inside it as past the brk heap, then the map as one of its parts. */
struct pass {
	void (*part)(struct pass *p, const struct am_map_view *v);
	void (*past)(struct pass *p, const struct am_map_view *v, uintptr_t lo, uintptr_t hi);
	struct am_map_view brk; /* the brk heap's last map, while its lane is walked */
	uintptr_t from;         /* how far that walk is (0: none) */
};

#define SUSPECTS 16 /* end bits judged again later, at most */
#define RECHECKS 3  /* times they are, each after the CPU idled */

/* An end bit found without its chunk (visit_end). */
struct suspect {
	const struct am_heapmeta *m; /* its bitmap (NULL once cleared of suspicion) */
	uintptr_t base, u;           /* m's base then, and the unit's address */
	int stays;                   /* rechecks it stayed through */
};

struct vcheck {
	struct pass pass; /* first: a pass is its vcheck */
	int fd;
	size_t bad, nsuspects;
	int round;                          /* the recheck under way */
	uintptr_t prev_a, prev_w, prev_end; /* the previous good chunk: start, size word, end */
	const struct am_map_view *view;     /* the map being checked */
	struct suspect suspect[SUSPECTS];
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

/* Calls fn for each set bit of arena bitmap m over [lo, hi): its marks
 * (shift MARK_SHIFT, one a page) or, with a foreign allocator, its end
 * bits (shift 0, one a unit); fn gets the bit's leaf and the address it
 * stands for, and stops the walk by returning non-zero. */
static void each_bit(const struct am_heapmeta *m, uintptr_t lo, uintptr_t hi, unsigned shift,
		     int (*fn)(void *, uint64_t *, uintptr_t), void *arg)
{
	lo = lo > m->base ? lo : m->base, hi = hi < m->end ? hi : m->end;
	if (lo >= hi)
		return;
	for (lo -= m->base, hi -= m->base; lo < hi; lo = (lo | (LEAF_COVER - 1)) + 1) {
		uintptr_t leaf_lo = lo & ~(LEAF_COVER - 1), stop = hi - leaf_lo < LEAF_COVER ? hi : leaf_lo + LEAF_COVER;
		uint64_t *leaf = am_heapmeta_leaf(m, lo);
		uint64_t *b = !leaf ? NULL : shift ? am_leaf_marks(leaf) : am_leaf_ends(leaf);
		size_t n = ((stop - leaf_lo - 1) / UNIT >> shift) + 1;
		long j = b ? am_bit_find_next_from(b, (lo - leaf_lo) / UNIT >> shift, n) : -1;
		for (; j >= 0; j = am_bit_find_next_from(b, (size_t)j + 1, n))
			if (fn(arg, leaf, m->base + leaf_lo + ((uintptr_t)j << shift) * UNIT))
				return;
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

/* The last chunk start of m at or below arena offset off and at or above
 * floor: its offset, or -1. Crosses leaves backwards. */
static intptr_t start_below(const struct am_heapmeta *m, uintptr_t off, uintptr_t floor)
{
	for (;;) {
		uint64_t *leaf = am_heapmeta_leaf(m, off);
		uintptr_t leaf_lo = off & ~(LEAF_COVER - 1);
		size_t lo = floor > leaf_lo ? (floor - leaf_lo) / UNIT : 0;
		long j = leaf ? am_bit_find_prev_from(leaf, (off - leaf_lo) / UNIT, lo) : -1;
		if (j >= 0)
			return (intptr_t)(leaf_lo + (uintptr_t)j * UNIT);
		if (leaf_lo <= floor)
			return -1;
		off = leaf_lo - UNIT;
	}
}

/* Whether m's end bit for the unit at arena offset off is set but ends no
 * chunk: the last chunk start at or before it, within MARK_LIMIT (a longer
 * chunk is not indexed), does not end just past it (its end is the first
 * end bit after it, foreign.c). The start is looked for bit by bit, not
 * through the marks, which are checked on their own; as live chunks do
 * not overlap, that reads the bitmap about once more in all. */
static int end_orphan(const struct am_heapmeta *m, uintptr_t off)
{
	uint64_t *leaf = am_heapmeta_leaf(m, off);
	size_t i = (off & (LEAF_COVER - 1)) / UNIT;
	if (!leaf || !(__atomic_load_n(&am_leaf_ends(leaf)[i / 64], __ATOMIC_ACQUIRE) >> (i % 64) & 1))
		return 0;
	intptr_t s = start_below(m, off, off > MARK_LIMIT ? off - MARK_LIMIT : 0);
	return s < 0 || am_foreign_end(m, (uintptr_t)s) != (intptr_t)(off + UNIT);
}

/* Whether m's end bit at u stays without its chunk: a record in flight
 * sets the end bit before the start bit, a free clears it after, and the
 * thread may be preempted in between. Judged again after each of up to 64
 * yields of the CPU, as a stray mark is (check_mark). */
static int orphan_stays(const struct am_heapmeta *m, uintptr_t u)
{
	for (int k = 0; k < 64; k++) {
		if (!end_orphan(m, u - m->base))
			return 0;
		am_sys_sched_yield();
	}
	return 1;
}

/* An end bit u must end its chunk. One that stays without it is a
 * suspect, judged again once the index lock was let go (recheck_map):
 * while this check holds it, a thread that looks up an arena spins, and
 * one with a record or free in flight may get no CPU. Past SUSPECTS, it is
 * reported. */
static int visit_end(void *arg, uint64_t *leaf, uintptr_t u)
{
	struct vcheck *c = arg;
	const struct am_heapmeta *m = c->view->heap;
	(void)leaf;
	if (!orphan_stays(m, u))
		return 0;
	if (c->nsuspects < SUSPECTS)
		c->suspect[c->nsuspects++] = (struct suspect){m, m->base, u, 0};
	else
		report(c, "an end bit without its chunk", u);
	return 0;
}

/* The suspects of map v's bitmap, if it is still theirs and they stayed
 * through every recheck so far: still without their chunk, or cleared. A
 * bitmap retired meanwhile is no map's, or (recycled) has another base. */
static int recheck_map(const struct am_map_view *v, void *arg)
{
	struct vcheck *c = arg;
	for (size_t k = 0; k < c->nsuspects; k++) {
		struct suspect *s = &c->suspect[k];
		if (!s->m || s->m != v->heap || s->stays != c->round)
			continue;
		if (s->m->base == s->base && orphan_stays(s->m, s->u))
			s->stays++;
		else
			s->m = NULL;
	}
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

/* Map v's part of v->heap: its own arena's, or the brk heap's lane over a
 * mapping the lane shadows. */
static void check_part(struct pass *p, const struct am_map_view *v)
{
	struct vcheck *c = (struct vcheck *)p;
	if (AM_HEAP_IS_SINGLE(v->heap)) {
		if (v->lo == v->seq_lo)
			check_single(c, v);
		return;
	}
	c->prev_a = c->prev_w = c->prev_end = 0, c->view = v;
	if (v->prot & PROT_READ) {
		am_heap_each_start(v->heap, v->lo, v->hi, v->seq_lo, visit_chunk, c);
		each_bit(v->heap, v->lo, v->hi, MARK_SHIFT, visit_mark, c);
	}
	if (am_heap_mode == AM_HEAP_FOREIGN)
		each_bit(v->heap, v->lo, v->hi, 0, visit_end, c);
}

/* The bits of v->heap over [lo, hi), past v's sequence: a chunk start
 * there lies outside its arena (visit_beyond); an end bit must still end
 * its chunk (one that runs past its arena is reported at its start). */
static void check_past(struct pass *p, const struct am_map_view *v, uintptr_t lo, uintptr_t hi)
{
	struct vcheck *c = (struct vcheck *)p;
	c->view = v;
	am_heap_each_start(v->heap, lo, hi, v->seq_lo, visit_beyond, c);
	if (am_heap_mode == AM_HEAP_FOREIGN)
		each_bit(v->heap, lo, hi, 0, visit_end, c);
}

/* The brk heap's lane up to map v, the next in address order: the
 * unmapped space before v, then v if it lies inside the lane. */
static void lane_upto(struct pass *p, const struct am_map_view *v)
{
	const struct am_heapmeta *m = p->brk.heap;
	uintptr_t gap_hi = v->lo < m->end ? v->lo : m->end;
	if (p->from < gap_hi)
		p->past(p, &p->brk, p->from, gap_hi);
	p->from = v->lo < m->end && v->hi < m->end ? v->hi : 0;
	if (v->lo < m->end) {
		struct am_map_view in = *v;
		in.heap = p->brk.heap;
		p->part(p, &in);
	}
}

/* am_index_each's callback for a pass: the brk heap's lane up to v if it
 * is being walked, v's part of its own bitmap, and that bitmap's reach
 * past v if v ends its sequence (a brk heap's lane: with the maps to come). */
static int pass_map(const struct am_map_view *v, void *arg)
{
	struct pass *p = arg;
	if (p->from)
		lane_upto(p, v);
	const struct am_heapmeta *m = v->heap;
	if (!m)
		return 0;
	p->part(p, v);
	if (AM_HEAP_IS_SINGLE(m) || v->hi != v->seq_hi || m->end <= v->hi)
		return 0;
	if (v->origin == AM_ORIGIN_BRK)
		p->brk = *v, p->from = v->hi;
	else
		p->past(p, v, v->hi, m->end);
	return 0;
}

/* Lets this thread's CPU go idle for ms milliseconds (no lock held): a
 * thread preempted with a record or free in flight, queued behind one
 * that spins for the index lock or behind other busy threads, then gets
 * a CPU; a yield would not give it one queued on another CPU. */
static void idle_for(long ms)
{
	int never = 0;
	struct timespec t = {0, ms * 1000000};
	am_sys_futex(&never, FUTEX_WAIT_PRIVATE, 0, &t);
}

/* The suspects, each judged again RECHECKS times, after idling 1, 4 and
 * 16 ms with the index lock let go (more than a scheduler's period, for
 * a thread preempted among more busy threads than CPUs); those that stay
 * are reported. */
static void recheck(struct vcheck *c)
{
	for (c->round = 0; c->round < RECHECKS; c->round++) {
		idle_for(1L << (2 * c->round));
		am_index_each(recheck_map, c);
	}
	for (size_t k = 0; k < c->nsuspects; k++)
		if (c->suspect[k].m && c->suspect[k].stays == RECHECKS)
			report(c, "an end bit without its chunk", c->suspect[k].u);
}

size_t am_heap_validate(int fd)
{
	struct vcheck c = {.pass = {.part = check_part, .past = check_past}, .fd = fd};
	if (am_heap_indexed(am_heap_mode) && am_index_each(pass_map, &c.pass) == 0 && c.nsuspects)
		recheck(&c);
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

/* An end bit left without its chunk: cleared. */
static int repair_end(void *arg, uint64_t *leaf, uintptr_t u)
{
	const struct am_heapmeta *m = arg;
	if (end_orphan(m, u - m->base))
		am_bit_update(am_leaf_ends(leaf), ((u - m->base) & (LEAF_COVER - 1)) / UNIT, 0);
	return 0;
}

static void repair_ends(struct pass *p, const struct am_map_view *v, uintptr_t lo, uintptr_t hi)
{
	(void)p;
	if (am_heap_mode == AM_HEAP_FOREIGN)
		each_bit(v->heap, lo, hi, 0, repair_end, v->heap);
}

static void repair_part(struct pass *p, const struct am_map_view *v)
{
	if (AM_HEAP_IS_SINGLE(v->heap))
		return;
	if (v->prot & PROT_READ)
		each_bit(v->heap, v->lo, v->hi, MARK_SHIFT, repair_mark, (void *)v);
	repair_ends(p, v, v->lo, v->hi);
}

/* The fork child's repair (heap.h): stray marks and, with a foreign
 * allocator, end bits without their chunk (a thread cut off between a
 * chunk's end bit and its start bit), wherever the check looks. */
void am_heap_repair_marks(void)
{
	struct pass p = {.part = repair_part, .past = repair_ends};
	if (am_heap_indexed(am_heap_mode))
		am_index_each(pass_map, &p);
}
