/* The mapping index's sorted map array and the changes made to it:
 * inserting, splitting, removing, protecting (remap.c: remapping and the
 * brk heap). See mapindex.h for the contract, writer.c for who may
 * change it and when.
 *
 * Invariants (am_index_validate): arr[0..n) sorted by lo, disjoint,
 * page-aligned, non-empty; every page of every map is found by the page
 * index; each map lies inside its sequence's extent; each sequence is a
 * contiguous run of its own maps, its extent exactly theirs (no hole, no
 * other sequence inside); each map's vma_lo, vma_hi is the run of maps
 * the kernel joins it into. The last two hold whenever no writer is
 * active: a writer restores them as it ends (am_ix_settle).
 * When a record cannot be allocated the affected range is left out of the
 * index (queries answer "unknown" there, never something stale), counted
 * in `missed`, and reported once.
 */
#include <string.h>
#include <sys/mman.h>

#include "../sys/log.h"
#include "../palloc/palloc.h"
#include "internal.h"
#include "pageindex.h"
#include "records.h"
#include "../sys/page.h"

struct am_index am_ix = {.lock = AM_LOCK_INIT};

static int missed_logged, unknowable_logged;

void am_ix_missed(uintptr_t lo, uintptr_t hi)
{
	am_ix.missed++;
	am_log_once(&missed_logged,
		    "no-mmap tier exhausted: %p-%p and later mappings that cannot be recorded are not "
		    "indexed (queries there answer unknown); raise ALLOCMAP_MAX_SEQUENCES",
		    (void *)lo, (void *)hi);
}

/* Whether slot i is the first whose map ends above addr (i == n: none). */
static int first_above_is(size_t i, uintptr_t addr)
{
	return i <= am_ix.n && (i == am_ix.n || am_ix.arr[i]->hi > addr) && (i == 0 || am_ix.arr[i - 1]->hi <= addr);
}

/* The writer's searches come in pairs and repeats (an event's range edges,
 * split_at, then the settling of the same range): the last two answers
 * are tried first, checked against the array as it is now, so a stale
 * one only costs its check. */
size_t am_ix_first_above(uintptr_t addr)
{
	for (int h = 0; h < 2; h++)
		if (first_above_is(am_ix.hint[h], addr))
			return am_ix.hint[h];
	size_t lo = 0, hi = am_ix.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (am_ix.arr[mid]->hi <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	am_ix.hint[1] = am_ix.hint[0], am_ix.hint[0] = lo;
	return lo;
}

static int arr_reserve(void)
{
	if (am_ix.n < am_ix.cap)
		return 0;
	size_t cap = am_ix.cap ? am_ix.cap * 2 : 256;
	struct am_map **a = am_palloc_realloc(&am_tier_nommap, am_ix.arr, cap * sizeof *a);
	if (!a)
		return -1;
	am_ix.arr = a;
	am_ix.cap = cap;
	return 0;
}

void am_ix_touch(uintptr_t lo, uintptr_t hi)
{
	if (am_ix.dirty_lo >= am_ix.dirty_hi)
		am_ix.dirty_lo = lo, am_ix.dirty_hi = hi;
	am_ix.dirty_lo = lo < am_ix.dirty_lo ? lo : am_ix.dirty_lo;
	am_ix.dirty_hi = hi > am_ix.dirty_hi ? hi : am_ix.dirty_hi;
}

/* Puts m (not overlapping anything) into the array and the page index. */
int am_ix_insert(struct am_map *m)
{
	if (arr_reserve() != 0)
		return -1;
	size_t i = am_ix_first_above(m->lo);
	memmove(&am_ix.arr[i + 1], &am_ix.arr[i], (am_ix.n - i) * sizeof m);
	am_ix.arr[i] = m;
	am_ix.n++;
	am_ix_touch(m->lo, m->hi); /* its sequence's extent may have been set ahead of it */
	if (am_pageindex_set(m->lo, m->hi, am_ref_of(m)) != 0)
		am_ix_missed(m->lo, m->hi);
	return 0;
}

int am_ix_extend(struct am_map *m, uintptr_t lo, uintptr_t hi)
{
	uintptr_t olo = m->lo, ohi = m->hi;
	am_ix_touch(lo, hi);
	m->lo = lo, m->hi = hi;
	if (lo < m->seq->lo)
		m->seq->lo = lo;
	if (hi > m->seq->hi)
		m->seq->hi = hi;
	uint32_t ref = am_ref_of(m);
	if ((lo < olo && am_pageindex_set(lo, olo, ref) != 0) || (hi > ohi && am_pageindex_set(ohi, hi, ref) != 0)) {
		am_ix_missed(lo, hi);
		return -1;
	}
	return 0;
}

/* A map [lo, hi) of s just left the array from slot i: an extent edge it
 * held moves to s's nearest remaining map. Maps are sorted, so the search
 * stops at the first map of s on that side — the neighbour, unless other
 * sequences' maps lie inside s's extent (an unmapping sweep over a
 * sequence of many maps stays linear). */
static void seq_shrink(struct am_seq *s, uintptr_t lo, uintptr_t hi, size_t i)
{
	size_t k;
	if (lo == s->lo) {
		for (k = i; k < am_ix.n && am_ix.arr[k]->seq != s; k++)
			;
		if (k < am_ix.n)
			s->lo = am_ix.arr[k]->lo;
	}
	if (hi == s->hi) {
		for (k = i; k > 0 && am_ix.arr[k - 1]->seq != s; k--)
			;
		if (k > 0)
			s->hi = am_ix.arr[k - 1]->hi;
	}
}

/* Takes arr[i] out of the array (and, if clear, the page index); frees it. */
static void remove_at(size_t i, int clear)
{
	struct am_map *m = am_ix.arr[i];
	struct am_seq *s = m->seq;
	uintptr_t lo = m->lo, hi = m->hi;
	am_ix_touch(lo, hi);
	if (clear)
		am_pageindex_set(lo, hi, 0);
	memmove(&am_ix.arr[i], &am_ix.arr[i + 1], (am_ix.n - i - 1) * sizeof m);
	am_ix.n--;
	int edge = s->nmaps > 1 && (lo == s->lo || hi == s->hi);
	am_map_free(m);
	if (edge)
		seq_shrink(s, lo, hi, i);
}

/* Makes addr a map boundary. The new record takes the smaller side, so
 * only that side's pages are written in the page index (an mprotect of a
 * page of a big mapping costs a page, not the mapping). If no record is
 * left for the split, the map holding addr leaves the index (unknown
 * beats wrong). */
static void split_at(uintptr_t addr)
{
	size_t i = am_ix_first_above(addr);
	if (i == am_ix.n || am_ix.arr[i]->lo >= addr)
		return;
	struct am_map *m = am_ix.arr[i], *r = am_map_clone(m);
	if (!r || arr_reserve() != 0) {
		if (r)
			am_map_free(r);
		am_ix_missed(m->lo, m->hi);
		remove_at(i, 1);
		return;
	}
	uintptr_t lo = m->lo, hi = m->hi;
	struct am_map *low = m, *high = r; /* r, the new record, takes the smaller side */
	if (addr - lo < hi - addr)
		low = r, high = m;
	am_ix_touch(lo, hi);
	low->lo = lo, low->hi = addr;
	high->lo = addr, high->hi = hi;
	if (!(m->flags & MAP_ANONYMOUS))
		high->offset = low->offset + (addr - lo);
	am_ix_insert(r);
}

void am_ix_unmap(uintptr_t lo, uintptr_t hi)
{
	split_at(lo);
	split_at(hi);
	size_t i = am_ix_first_above(lo);
	while (i < am_ix.n && am_ix.arr[i]->lo < hi)
		remove_at(i, 1);
}

/* The maps of s from slot k on (up to s's old end) become a new sequence
 * like s; s ends below k. Without a record for it they leave the index
 * (unknown beats wrong). */
static void cut(struct am_seq *s, size_t k)
{
	uintptr_t end = s->hi;
	struct am_seq *t = NULL;
	s->hi = am_ix.arr[k - 1]->hi;
	for (size_t j = k; j < am_ix.n && am_ix.arr[j]->lo < end; j++) {
		struct am_map *m = am_ix.arr[j];
		if (m->seq != s)
			continue;
		if (!t && !(t = am_seq_new(m->lo, m->hi, (enum am_origin)s->origin, s->caller, s->path))) {
			am_ix_missed(m->lo, m->hi);
			remove_at(j--, 1);
			continue;
		}
		m->seq = t;
		s->nmaps--, t->nmaps++;
		t->hi = m->hi;
	}
}

/* The map flags that make the kernel keep mappings apart (its VM_*
 * flags: MAP_STACK is VM_NOHUGEPAGE since Linux 6.7). */
#define VMA_FLAGS (MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_NORESERVE | MAP_LOCKED | MAP_STACK)

static int same_path(const struct am_path *a, const struct am_path *b)
{
	return a == b || (a && b && !strcmp(a->s, b->s));
}

int am_ix_kernel_joins(const struct am_map *a, const struct am_map *b)
{
	if (a->hi != b->lo || a->prot != b->prot || ((a->flags ^ b->flags) & VMA_FLAGS))
		return 0;
	if (a->flags & MAP_ANONYMOUS)
		return 1;
	return a->offset + (a->hi - a->lo) == b->offset && same_path(a->path, b->path);
}

int am_ix_offset_agrees(const struct am_map *m, uintptr_t lo, uint64_t off, int file)
{
	uintptr_t at = m->lo > lo ? m->lo : lo;
	return !file || (m->flags & MAP_ANONYMOUS) || m->offset + (at - m->lo) == off + (at - lo);
}

/* Sets vma_lo, vma_hi of every map in the runs the kernel joins that
 * touch [lo, hi) or lie next to it (a removal there may have split one). */
static void settle_vmas(uintptr_t lo, uintptr_t hi)
{
	size_t k = am_ix_first_above(lo);
	k = k ? k - 1 : 0;
	while (k > 0 && k < am_ix.n && am_ix_kernel_joins(am_ix.arr[k - 1], am_ix.arr[k]))
		k--;
	while (k < am_ix.n) {
		size_t e = k;
		while (e + 1 < am_ix.n && am_ix_kernel_joins(am_ix.arr[e], am_ix.arr[e + 1]))
			e++;
		for (size_t j = k; j <= e; j++)
			am_ix.arr[j]->vma_lo = am_ix.arr[k]->lo, am_ix.arr[j]->vma_hi = am_ix.arr[e]->hi;
		if (am_ix.arr[k]->lo >= hi)
			break;
		k = e + 1;
	}
}

void am_ix_settle(void)
{
	uintptr_t lo = am_ix.dirty_lo, hi = am_ix.dirty_hi;
	am_ix.dirty_lo = am_ix.dirty_hi = 0;
	if (lo >= hi)
		return;
	size_t k = am_ix_first_above(lo);
	for (k = k ? k - 1 : 0; k < am_ix.n && am_ix.arr[k]->lo < hi; k++) {
		struct am_map *m = am_ix.arr[k], *next = k + 1 < am_ix.n ? am_ix.arr[k + 1] : NULL;
		if ((k == 0 || am_ix.arr[k - 1]->seq != m->seq) && m->seq->lo < m->lo)
			m->seq->lo = m->lo; /* the first of its maps: an extent set ahead of them (resync.c) */
		if (m->seq->hi > m->hi && !(next && next->seq == m->seq && next->lo == m->hi))
			cut(m->seq, k + 1);
	}
	settle_vmas(lo, hi);
}

static int mergeable(const struct am_map *a, const struct am_map *b)
{
	return a->hi == b->lo && a->seq == b->seq && a->prot == b->prot && a->flags == b->flags &&
	       a->path == b->path && a->caller == b->caller &&
	       ((a->flags & MAP_ANONYMOUS) || a->offset + (a->hi - a->lo) == b->offset);
}

/* Merges arr[i-1] and arr[i] when they are one piece: the smaller into
 * the larger (only its pages are written in the page index); the merged
 * map is at i-1. */
static void merge_at(size_t i)
{
	if (i == 0 || i >= am_ix.n || !mergeable(am_ix.arr[i - 1], am_ix.arr[i]))
		return;
	struct am_map *a = am_ix.arr[i - 1], *b = am_ix.arr[i];
	if (a->hi - a->lo >= b->hi - b->lo) {
		am_pageindex_set(b->lo, b->hi, am_ref_of(a));
		a->hi = b->hi;
		remove_at(i, 0);
	} else {
		am_pageindex_set(a->lo, a->hi, am_ref_of(b));
		b->lo = a->lo, b->offset = a->offset;
		remove_at(i - 1, 0);
	}
}

void am_ix_protect(uintptr_t lo, uintptr_t hi, int prot)
{
	split_at(lo);
	split_at(hi);
	size_t i = am_ix_first_above(lo), first = i;
	am_ix_touch(lo, hi);
	for (; i < am_ix.n && am_ix.arr[i]->lo < hi; i++)
		am_ix.arr[i]->prot = prot;
	for (size_t k = i + 1; k-- > first;) /* right to left: lower indices stay put */
		merge_at(k);
}

/* Records one new map in a new sequence; the range must be free. */
int am_ix_map_new(uintptr_t lo, uintptr_t hi, int prot, int flags, uint64_t off, struct am_path *path,
		  enum am_origin origin, const void *caller, struct am_seq *seq)
{
	struct am_seq *s = seq ? seq : am_seq_new(lo, hi, origin, caller, path);
	struct am_map *m = s ? am_map_new(lo, hi, prot, flags, off, s, path, caller) : NULL;
	if (m && am_ix_insert(m) == 0)
		return 0;
	if (m)
		am_map_free(m);
	else if (!seq)
		am_seq_drop_if_empty(s);
	am_ix_missed(lo, hi);
	return -1;
}


int am_index_map(uintptr_t lo, uintptr_t hi, int prot, int flags, uint64_t off, const char *path,
		 enum am_origin origin, const void *caller)
{
	if (!am_ix.ready || am_ix_begin_event(lo, hi) != 0)
		return am_ix_dropped();
	lo = am_page_down(lo), hi = am_page_up(hi);
	am_ix_unmap(lo, hi);
	struct am_path *p = am_path_new(path);
	int rc = am_ix_map_new(lo, hi, prot, flags, off, p, origin, caller, NULL);
	am_path_unref(p);
	am_ix.events[AM_EV_MMAP]++;
	am_ix_end();
	return rc;
}

int am_index_unmap(uintptr_t lo, uintptr_t hi)
{
	if (!am_ix.ready || am_ix_begin_event(lo, hi) != 0)
		return am_ix_dropped();
	am_ix_unmap(am_page_down(lo), am_page_up(hi));
	am_ix.events[AM_EV_MUNMAP]++;
	am_ix_end();
	return 0;
}

/* End of the mapped run starting at lo (lo itself if lo is unmapped). */
static uintptr_t mapped_run_end(uintptr_t lo, uintptr_t hi)
{
	uintptr_t pos = lo;
	for (size_t i = am_ix_first_above(lo); i < am_ix.n && am_ix.arr[i]->lo <= pos && pos < hi; i++)
		pos = am_ix.arr[i]->hi;
	return pos < hi ? pos : hi;
}

/* An mprotect failed with ENOMEM although [lo, hi) has no hole: the
 * kernel could not split a mapping (vm.max_map_count reached, or no kernel
 * memory) at the first or the last mapping it touched, so it changed
 * either nothing or all but that last one. Which, only the kernel knows:
 * the range leaves the index (unknown beats wrong) and is counted. */
static void protect_unknowable(uintptr_t lo, uintptr_t hi)
{
	am_ix_unmap(lo, hi);
	am_ix.missed++;
	am_log_once(&unknowable_logged,
		    "mprotect %p-%p failed part-way (ENOMEM inside mapped memory: vm.max_map_count reached?); "
		    "such ranges are not indexed (queries there answer unknown)",
		    (void *)lo, (void *)hi);
}

/* Could the kernel have merged a and b (adjacent) into one VMA? */
static int kernel_merged(const struct am_map *a, const struct am_map *b)
{
	return a->hi == b->lo && a->prot == b->prot && a->flags == b->flags && a->path == b->path &&
	       ((a->flags & MAP_ANONYMOUS) || a->offset + (a->hi - a->lo) == b->offset);
}

/* PROT_GROWSDOWN: the kernel applies the protection from the start of
 * its mapping (VMA) holding lo — or of the first one above lo, below hi,
 * if lo is in a hole — which can be several of the index's maps, of
 * several sequences when it merged mappings side by side. The index
 * starts at the run of maps the kernel could have merged, and asks the
 * kernel at the end of the event (am_ix_end re-reads the maps): the
 * kernel's merges also depend on what no call shows (pages written).
 * Such calls are rare (ld.so making a stack executable). */
static uintptr_t growsdown_start(uintptr_t lo, uintptr_t hi)
{
	size_t i = am_ix_first_above(lo);
	__atomic_store_n(&am_ix.resync_pending, 1, __ATOMIC_RELAXED);
	if (i == am_ix.n || am_ix.arr[i]->lo >= hi)
		return lo;
	while (i > 0 && kernel_merged(am_ix.arr[i - 1], am_ix.arr[i]))
		i--;
	return am_ix.arr[i]->lo;
}

static uintptr_t protect_start(uintptr_t lo, uintptr_t hi, int prot)
{
	lo = am_page_down(lo);
	return prot & PROT_GROWSDOWN ? growsdown_start(lo, hi) : lo;
}

int am_index_protect_prefix(uintptr_t lo, uintptr_t hi, int prot)
{
	if (!am_ix.ready || am_ix_begin_event(lo, hi) != 0)
		return am_ix_dropped();
	hi = am_page_up(hi), lo = protect_start(lo, hi, prot);
	uintptr_t end = mapped_run_end(lo, hi);
	if (end == hi)
		protect_unknowable(lo, hi);
	else if (end > lo)
		am_ix_protect(lo, end, prot & ~(PROT_GROWSDOWN | PROT_GROWSUP));
	am_ix.events[AM_EV_MPROTECT]++;
	am_ix_end();
	return 0;
}

int am_index_protect(uintptr_t lo, uintptr_t hi, int prot)
{
	if (!am_ix.ready || am_ix_begin_event(lo, hi) != 0)
		return am_ix_dropped();
	am_ix_protect(protect_start(lo, hi, prot), am_page_up(hi), prot & ~(PROT_GROWSDOWN | PROT_GROWSUP));
	am_ix.events[AM_EV_MPROTECT]++;
	am_ix_end();
	return 0;
}
