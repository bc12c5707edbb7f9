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

#include "chunk.h"
#include "../sys/bitmap.h"

#include "../sys/log.h"
#include "../index/mapindex.h"
#include "../sys/syscall.h"
#include "heap.h"
#include "heapmeta.h"
#include "heapwalk.h"
#include "../index/quiesce.h"

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
	size_t request; /* a big slack's request word (else 0) */
};

static void read_facts(uintptr_t a, const struct am_map_view *v, struct facts *f)
{
	f->w = word_at(a - 8);
	size_t size = am_chunk_size(f->w);
	f->next_w = 1, f->trailer = (uint64_t)SLACK_UNKNOWN << 48, f->request = 0;
	if (size < 32 || size > v->seq_hi - (a - 16))
		return;
	if (a + size - 8 < v->hi)
		f->next_w = word_at(a + size - 8);
	if (a + size - 8 <= v->hi)
		f->trailer = word_at(a + size - 16);
	if ((f->trailer >> 48) == AM_SLACK_BIG && size >= 32 + AM_SLACK_BIG)
		f->request = word_at(a + size - 24);
}

enum verdict { GOOD, BAD_SIZE, OVERLAP, FREE, BAD_SLACK };

static const char *const verdict_text[] = {
	[BAD_SIZE] = "a chunk whose size word is not an arena chunk's",
	[OVERLAP] = "a chunk starting inside the one before",
	[FREE] = "a chunk glibc has free (the next chunk's PREV_INUSE is clear)",
	[BAD_SLACK] = "a chunk whose trailer's slack is larger than the chunk",
};

/* Whether the trailer at t, tpos bytes after its chunk's start, has a
 * slack the chunk can hold (a big slack: its request word too). */
static int slack_fits(uintptr_t t, size_t tpos)
{
	size_t slack = (size_t)(word_at(t) >> 48);
	if (slack == AM_SLACK_BIG) /* written only for a slack of AM_SLACK_BIG or more */
		return tpos >= AM_SLACK_BIG && word_at(t - 8) <= tpos - AM_SLACK_BIG;
	return slack == SLACK_UNKNOWN || slack <= tpos;
}

static enum verdict judge(const struct facts *f, uintptr_t a, const struct am_map_view *v, uintptr_t prev_end)
{
	size_t size = am_chunk_size(f->w), slack = (size_t)(f->trailer >> 48);
	if (am_chunk_mmapped(f->w) || size < AM_CHUNK_MIN || size > v->seq_hi - (a - 16))
		return BAD_SIZE;
	if (a < prev_end)
		return OVERLAP;
	if (!am_chunk_prev_inuse(f->next_w))
		return FREE;
	if (slack == AM_SLACK_BIG) /* its trailer lies size - 16 bytes in */
		return size - 16 >= AM_SLACK_BIG && f->request <= size - 16 - AM_SLACK_BIG ? GOOD : BAD_SLACK;
	return slack == SLACK_UNKNOWN || slack <= size - 16 ? GOOD : BAD_SLACK;
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
	if (again.w != f->w || again.next_w != f->next_w || again.trailer != f->trailer || again.request != f->request ||
	    !still_recorded(c, a))
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
	c->prev_a = a, c->prev_w = f.w, c->prev_end = a + am_chunk_size(f.w);
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
	if (e <= v->hi && am_foreign_slack(word_at(e - AM_TRAILER), a, e - a) < 0)
		return "a chunk whose trailer is not its own (its extent or slack)";
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

/* A marked page must have a big chunk as its last chunk start. A record
 * or a free in flight sets the mark before the bit and clears it after,
 * and its thread may be preempted in between: a stray mark is judged
 * again after each of up to 64 yields of the CPU, and reported if it
 * stays (3 threads churning big chunks on 2 CPUs, 3000 checks: 1 report,
 * against 527 with one yield; none once they stopped). */
static void check_mark(struct vcheck *c, const uint64_t *leaf, uintptr_t pg)
{
	for (int k = 0; k < 64; k++) {
		if (!page_marked(c, pg) || !am_heap_mark_stray(c->view, leaf, pg))
			return;
		am_sys_sched_yield();
	}
	report(c, "a marked page whose last chunk start is not a big chunk's", pg);
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

/* Whether m's end bit at u stays without its chunk: a record in flight
 * sets the end bit before the start bit, a free clears it after, and the
 * thread may be preempted in between. Judged again after each of up to 64
 * yields of the CPU, as a stray mark is (check_mark). */
static int orphan_stays(const struct am_heapmeta *m, uintptr_t u)
{
	for (int k = 0; k < 64; k++) {
		if (!am_heap_end_orphan(m, u - m->base))
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
	size_t w = word_at(hdr + 8), size = am_chunk_size(w);
	if (!am_chunk_mmapped(w) || size > v->seq_hi - hdr || size < AM_CHUNK_MIN) {
		report(c, "an mmapped chunk whose size word does not fit its mapping", hdr + 16);
		return;
	}
	uintptr_t t = hdr + size - AM_TRAILER; /* its trailer, AM_TRAILER below the usable end */
	if (t + AM_TRAILER <= v->hi && !slack_fits(t, size - 16 - AM_TRAILER))
		report(c, "an mmapped chunk whose trailer's slack is larger than the chunk", hdr + 16);
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
		am_heap_each_bit(v->heap, v->lo, v->hi, MARK_SHIFT, visit_mark, c);
	}
	if (am_heap_mode == AM_HEAP_FOREIGN)
		am_heap_each_bit(v->heap, v->lo, v->hi, 0, visit_end, c);
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
		am_heap_each_bit(v->heap, lo, hi, 0, visit_end, c);
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
	if (am_heap_indexed(am_heap_mode) && am_index_each(am_heap_pass_map, &c.pass) == 0 && c.nsuspects)
		recheck(&c);
	return c.bad;
}

