/* The mark phase, memcheck's algorithm (mc_leakcheck.c) over our table.
 *
 * States: UNREACHED; POSSIBLE (reached, but only by interior pointers or
 * from POSSIBLE chunks); REACHABLE (a pointer to its start from a root
 * or a REACHABLE chunk); INDIRECT (after the roots: reached from an
 * UNREACHED chunk). A chunk is pushed on the worklist when its state
 * rises (UNREACHED -> POSSIBLE -> REACHABLE), so at most twice, and
 * scanned when popped with what it is then. After the roots, each chunk
 * still UNREACHED, in address order, leads a clique: what it reaches
 * that is UNREACHED (a former leader too) becomes INDIRECT, by start or
 * interior pointer alike, and the leader stays UNREACHED: definitely
 * lost. So in a cycle nothing points into from outside, the lowest chunk
 * is definitely lost and the rest indirectly, as memcheck says.
 *
 * Words are read aligned to 8 from the roots and from [start, start +
 * size asked for) of chunks; parts of arenas that are unreadable (the
 * program mprotected them) are skipped. The worklist holds at most two
 * entries per chunk: 2n + 1 from the mmap tier, made before any scan.
 */
#include "../palloc/palloc.h"
#include "leak.h"

#define MAX_HOLES 256  /* unreadable parts of arenas remembered */

struct mark {
	struct am_leak_table *t;
	uint32_t *stack;
	size_t top;
	long leader;                   /* the clique's leader; -1 while marking from roots */
	int definite;                  /* the memory being scanned is a root or REACHABLE */
	struct { uintptr_t lo, hi; } hole[MAX_HOLES];
	unsigned nholes;
	int holes_lost;                /* more holes than remembered: skip every chunk in one */
};

static void push(struct mark *m, size_t i) { m->stack[m->top++] = (uint32_t)i; }

/* The word w, read from memory of the state m->definite, from the roots. */
static void reach_from_roots(struct mark *m, uintptr_t w)
{
	long i = am_leak_table_find(m->t, w);
	if (i < 0)
		return;
	uint8_t *st = &m->t->state[i];
	if (*st == AM_LK_REACHABLE)
		return;
	if (w == m->t->base[i] && m->definite)
		*st = AM_LK_REACHABLE, push(m, (size_t)i);
	else if (*st == AM_LK_UNREACHED)
		*st = AM_LK_POSSIBLE, push(m, (size_t)i);
}

/* The word w, read from a lost chunk of the clique led by m->leader. */
static void reach_in_clique(struct mark *m, uintptr_t w)
{
	long i = am_leak_table_find(m->t, w);
	if (i >= 0 && i != m->leader && m->t->state[i] == AM_LK_UNREACHED)
		m->t->state[i] = AM_LK_INDIRECT, push(m, (size_t)i);
}

static void scan_words(struct mark *m, uintptr_t lo, uintptr_t hi)
{
	const struct am_leak_table *t = m->t;
	uintptr_t span = t->hi - t->lo;
	lo = (lo + 7) & ~(uintptr_t)7;
	hi &= ~(uintptr_t)7;
	for (const uintptr_t *p = (const uintptr_t *)lo; (uintptr_t)p < hi; p++) {
		uintptr_t w = *p;
		if (w - t->lo >= span)
			continue;
		if (m->leader < 0)
			reach_from_roots(m, w);
		else
			reach_in_clique(m, w);
	}
}

static void scan_root(uintptr_t lo, uintptr_t hi, void *arg)
{
	struct mark *m = arg;
	m->definite = 1;
	scan_words(m, lo, hi);
}

static void note_hole(uintptr_t lo, uintptr_t hi, void *arg)
{
	struct mark *m = arg;
	if (m->nholes == MAX_HOLES)
		m->holes_lost = 1;
	else
		m->hole[m->nholes].lo = lo, m->hole[m->nholes++].hi = hi;
}

/* Whether [lo, hi) can be read: no unreadable part of an arena meets it. */
static int readable(const struct mark *m, uintptr_t lo, uintptr_t hi)
{
	for (unsigned i = 0; i < m->nholes; i++)
		if (lo < m->hole[i].hi && m->hole[i].lo < hi)
			return 0;
	return !m->holes_lost;
}

static void drain(struct mark *m)
{
	while (m->top) {
		size_t i = m->stack[--m->top];
		uintptr_t lo = m->t->base[i], hi = lo + m->t->size[i];
		if (!readable(m, lo, hi))
			continue;
		m->definite = m->t->state[i] == AM_LK_REACHABLE;
		scan_words(m, lo, hi);
	}
}

static void scan_registers(struct mark *m, const struct am_leak_threads *ts)
{
	m->definite = 1;
	for (unsigned i = 0; i < ts->n; i++)
		if (ts->t[i].sp)
			for (int r = 0; r < AM_LEAK_NREGS; r++)
				reach_from_roots(m, ts->t[i].regs[r]);
}

static void cliques(struct mark *m)
{
	for (size_t i = 0; i < m->t->n; i++)
		if (m->t->state[i] == AM_LK_UNREACHED) {
			m->leader = (long)i;
			push(m, i);
			drain(m);
		}
}

int am_leak_mark(struct am_leak_table *t, const struct am_leak_threads *ts, size_t *root_bytes)
{
	struct mark *m = am_palloc_calloc(&am_tier_mmap, 1, sizeof *m);
	if (!m)
		return -1;
	m->t = t, m->leader = -1;
	m->stack = am_palloc_malloc(&am_tier_mmap, (2 * t->n + 1) * sizeof *m->stack);
	if (!m->stack) {
		am_palloc_free(&am_tier_mmap, m);
		return -1;
	}
	struct am_leak_roots r = {.fn = scan_root, .unreadable = note_hole, .arg = m, .threads = ts};
	am_leak_roots_each(&r);
	scan_registers(m, ts);
	drain(m);
	cliques(m);
	*root_bytes = r.bytes;
	am_palloc_free(&am_tier_mmap, m->stack);
	am_palloc_free(&am_tier_mmap, m);
	return 0;
}
