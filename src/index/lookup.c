/* Reading the mapping index: the lock-free lookup (page index + seqlock),
 * the ordered walk, statistics, and the structural validator.
 *
 * A reader copies what it needs between two reads of am_ix.seq and
 * retries when they differ or a writer was active; every pointer it
 * follows is first checked to lie inside the no-mmap tier's region, so a
 * stale reference can produce garbage (discarded) but never a fault.
 */
#include <string.h>

#include "quiesce.h"
#include "../palloc/palloc.h"
#include "internal.h"
#include "pageindex.h"
#include "records.h"
#include "../sys/page.h"
#include "../sys/thread.h"

static const char *const origin_names[AM_ORIGIN_COUNT] = {
	[AM_ORIGIN_MMAP] = "mmap",
	[AM_ORIGIN_BRK] = "brk",
	[AM_ORIGIN_STACK] = "stack",
	[AM_ORIGIN_OBJECT] = "object",
	[AM_ORIGIN_NOMMAP] = "allocmap-nommap",
	[AM_ORIGIN_MMAPTIER] = "allocmap-mmap",
	[AM_ORIGIN_SELF] = "allocmap-index",
	[AM_ORIGIN_KERNEL] = "kernel",
	[AM_ORIGIN_PREEXISTING] = "mmap",
};

const char *am_origin_name(enum am_origin o)
{
	return (unsigned)o < AM_ORIGIN_COUNT ? origin_names[o] : "unknown";
}

enum allocmap_kind am_origin_kind(enum am_origin o, int has_path)
{
	switch (o) {
	case AM_ORIGIN_BRK: return ALLOCMAP_BRK;
	case AM_ORIGIN_STACK: return ALLOCMAP_STACK;
	case AM_ORIGIN_OBJECT:
	case AM_ORIGIN_KERNEL: return ALLOCMAP_OBJECT;
	case AM_ORIGIN_NOMMAP:
	case AM_ORIGIN_MMAPTIER:
	case AM_ORIGIN_SELF: return ALLOCMAP_SELF;
	default: return has_path ? ALLOCMAP_FILE : ALLOCMAP_ANON;
	}
}

static int in_tier(const void *p, size_t n)
{
	const char *c = p;
	return c >= am_tier_nommap.base && c + n <= am_tier_nommap.limit;
}

static void view_of(const struct am_map *m, const struct am_seq *s, struct am_map_view *v)
{
	v->lo = m->lo, v->hi = m->hi;
	v->seq_lo = s->lo, v->seq_hi = s->hi;
	v->prot = m->prot, v->flags = m->flags;
	v->origin = (enum am_origin)s->origin;
	v->caller = s->caller ? s->caller : m->caller;
	v->map_caller = m->caller;
	v->vma_lo = m->vma_lo, v->vma_hi = m->vma_hi;
	v->path = m->path ? m->path->s : s->path ? s->path->s : NULL;
	v->seq = (struct am_seq *)s;
	v->heap = __atomic_load_n(&v->seq->heap, __ATOMIC_ACQUIRE);
}

/* Copies the map at reference-holding record m, if sane; 0 on success. */
static int copy_view(const struct am_map *m, uintptr_t p, struct am_map_view *out)
{
	if (!m || !in_tier(m, sizeof *m))
		return -1;
	const struct am_seq *s = m->seq;
	if (!in_tier(s, sizeof *s) || (m->path && !in_tier(m->path, sizeof *m->path)) ||
	    (s->path && !in_tier(s->path, sizeof *s->path)))
		return -1;
	if (p < m->lo || p >= m->hi)
		return -1;
	view_of(m, s, out);
	return 0;
}

/* Without a page index: binary search of the sorted array. */
static const struct am_map *search(uintptr_t p)
{
	struct am_map **arr = am_ix.arr;
	size_t lo = 0, hi = am_ix.n;
	if (!arr || !in_tier(arr, hi * sizeof *arr))
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct am_map *m = arr[mid];
		if (!in_tier(m, sizeof *m))
			return NULL;
		if (m->hi <= p)
			lo = mid + 1;
		else if (m->lo > p)
			hi = mid;
		else
			return m;
	}
	return NULL;
}

/* One read of the map holding p under ticket: its view and its sequence
 * (garbage unless am_index_read_retry(ticket) then says no). */
static struct am_seq *read_once(uintptr_t p, unsigned ticket, struct am_map_view *out)
{
	if (ticket & 1)
		return NULL; /* this thread is the writer: nothing can be read */
	const struct am_map *m = am_pageindex_ready() ? am_ref_ptr(am_pageindex_get(p)) : search(p);
	return copy_view(m, p, out) == 0 ? m->seq : NULL;
}

/* The seqlock read of the map holding p: its view and its sequence. */
static struct am_seq *read_map(uintptr_t p, struct am_map_view *out)
{
	for (;;) {
		unsigned ticket = am_index_read_begin();
		struct am_seq *s = read_once(p, ticket, out);
		if (!am_index_read_retry(ticket))
			return s;
	}
}

int am_index_lookup_at(uintptr_t p, unsigned ticket, struct am_map_view *out)
{
	return am_ix.ready && read_once(p, ticket, out) ? 0 : -1;
}

struct am_seq *am_index_seq_at(uintptr_t p, uintptr_t *lo, uintptr_t *hi)
{
	struct am_map_view v;
	struct am_seq *s = am_ix.ready ? read_map(p, &v) : NULL;
	if (s)
		*lo = v.seq_lo, *hi = v.seq_hi;
	return s;
}

int am_index_next(uintptr_t addr, struct am_map_view *out)
{
	if (!am_ix.ready || am_ix_begin() != 0)
		return -1;
	size_t i = am_ix_first_above(addr);
	if (i < am_ix.n)
		view_of(am_ix.arr[i], am_ix.arr[i]->seq, out);
	am_ix_end();
	return i < am_ix.n ? 0 : -1;
}

unsigned am_index_read_begin(void)
{
	unsigned s;
	while ((s = __atomic_load_n(&am_ix.seq, __ATOMIC_ACQUIRE)) & 1) {
		/* a handler interrupted this thread's own change, or its heap
		 * read (the writer's thread may be waiting for it: a handler of
		 * its own unmapping, heap/quiesce.h), or its use of a private
		 * tier (the writer may be waiting for the tier's lock): odd,
		 * nothing is read */
		if (am_ix_inside() || !am_thread_may_block())
			return s;
		__builtin_ia32_pause();
	}
	return s;
}

int am_index_read_retry(unsigned ticket)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&am_ix.seq, __ATOMIC_RELAXED) != ticket;
}

void *am_index_set_heap(struct am_seq *seq, void *h)
{
	void *expect = NULL;
	if (__atomic_compare_exchange_n(&seq->heap, &expect, h, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return h;
	return expect;
}

int am_index_clear_heap(struct am_seq *seq, void *h)
{
	return __atomic_compare_exchange_n(&seq->heap, &h, NULL, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

int am_index_each(int (*fn)(const struct am_map_view *m, void *arg), void *arg)
{
	if (!am_ix.ready || am_ix_begin() != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < am_ix.n && rc == 0; i++) {
		struct am_map_view v;
		view_of(am_ix.arr[i], am_ix.arr[i]->seq, &v);
		rc = fn(&v, arg);
	}
	am_ix_end();
	return rc;
}

void am_index_stats(struct am_index_stats *out)
{
	memset(out, 0, sizeof *out);
	for (int i = 0; i < AM_EV_COUNT; i++)
		out->events[i] = __atomic_load_n(&am_ix.events[i], __ATOMIC_RELAXED);
	out->maps = am_records_maps();
	out->seqs = am_records_seqs();
	out->missed = am_ix.missed;
	out->holes_plugged = am_index_holes_plugged();
	out->max_depth = am_strat_max_depth();
	out->depth_violations = am_strat_violations();
	out->page_index = am_pageindex_ready();
}

static size_t validate_map(size_t i)
{
	const struct am_map *m = am_ix.arr[i];
	size_t bad = m->lo >= m->hi || !am_page_aligned(m->lo | m->hi);
	bad += i > 0 && am_ix.arr[i - 1]->hi > m->lo;
	bad += m->lo < m->seq->lo || m->hi > m->seq->hi || m->seq->nmaps == 0;
	/* a sequence is a contiguous run of its own maps: no hole, no other
	 * sequence inside (mapindex.h) */
	const struct am_map *prev = i > 0 ? am_ix.arr[i - 1] : NULL;
	if (prev && prev->seq == m->seq)
		bad += prev->hi != m->lo;
	else
		bad += m->lo != m->seq->lo || (prev && prev->hi != prev->seq->hi);
	/* the kernel's mapping (mapindex.c: settle_vmas) */
	if (prev && am_ix_kernel_joins(prev, m))
		bad += prev->vma_lo != m->vma_lo || prev->vma_hi != m->vma_hi;
	else
		bad += m->vma_lo != m->lo || (prev && prev->vma_hi != prev->hi);
	if (am_pageindex_ready() && m->hi <= AM_USER_TOP) { /* not [vsyscall] */
		bad += am_ref_ptr(am_pageindex_get(m->lo)) != m;
		bad += am_ref_ptr(am_pageindex_get(m->hi - 1)) != m;
	}
	return bad;
}

size_t am_index_validate_held(void)
{
	size_t bad = am_ix.n != am_records_maps();
	for (size_t i = 0; i < am_ix.n; i++)
		bad += validate_map(i);
	bad += am_ix.n && am_ix.arr[am_ix.n - 1]->hi != am_ix.arr[am_ix.n - 1]->seq->hi;
	bad += am_ix.n && am_ix.arr[am_ix.n - 1]->vma_hi != am_ix.arr[am_ix.n - 1]->hi;
	return bad;
}

/* Every page of [lo, hi) (at most 64K of them) refers to the map holding
 * it in the array, or to nothing: a reference left behind answers a
 * query with a map the array no longer has. */
size_t am_index_validate_pages(uintptr_t lo, uintptr_t hi)
{
	size_t bad = 0;
	if (!am_pageindex_ready())
		return 0;
	lo = am_page_down(lo);
	uintptr_t bound = lo + ((uintptr_t)1 << 16) * AM_PAGE_SIZE;
	hi = am_page_up(hi);
	hi = hi < bound ? hi : bound;
	hi = hi < AM_USER_TOP ? hi : AM_USER_TOP;
	size_t i = am_ix_first_above(lo);
	for (uintptr_t p = lo; p < hi; p += AM_PAGE_SIZE) {
		while (i < am_ix.n && am_ix.arr[i]->hi <= p)
			i++;
		const struct am_map *m = i < am_ix.n && am_ix.arr[i]->lo <= p ? am_ix.arr[i] : NULL;
		bad += am_ref_ptr(am_pageindex_get(p)) != m;
	}
	return bad;
}

size_t am_index_validate(void)
{
	if (!am_ix.ready || am_ix_begin() != 0)
		return 0;
	size_t bad = am_index_validate_held();
	am_ix_end();
	return bad;
}


