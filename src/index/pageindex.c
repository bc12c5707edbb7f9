/* The two-level page index: see pageindex.h.
 *
 * Invariant: a level-1 entry with LEAF set refers to a leaf that no other
 * entry refers to; a leaf is freed only when a write covers its whole
 * 2 MiB with one value.
 */
#include "pageindex.h"

#include <string.h>
#include <sys/mman.h>

#include "../sys/log.h"
#include "../palloc/palloc.h"
#include "../sys/syscall.h"
#include "../sys/pages.h"

#define LEAF ((uint32_t)1 << 31)
#define L1_COUNT (AM_USER_TOP >> AM_SUPER_SHIFT)
#define LEAF_COUNT ((size_t)1 << (AM_SUPER_SHIFT - AM_PAGE_SHIFT))
#define SUPER ((uintptr_t)1 << AM_SUPER_SHIFT)

static uint32_t *l1;
static int forgone;

void am_pageindex_forgo(void) { forgone = 1; }

size_t am_pageindex_bytes(void) { return L1_COUNT * sizeof *l1; }

int am_pageindex_init(void)
{
	if (forgone)
		return -1;
	l1 = am_pages_map(L1_COUNT * sizeof *l1, PROT_READ | PROT_WRITE, MAP_NORESERVE);
	if (!l1) {
		am_log("page index: cannot reserve %zu MiB; lookups fall back to binary search",
		       (size_t)(L1_COUNT * sizeof *l1) >> 20);
		return -1;
	}
	return 0;
}

int am_pageindex_ready(void) { return l1 != NULL; }

void am_pageindex_region(uintptr_t *lo, uintptr_t *hi)
{
	*lo = (uintptr_t)l1;
	*hi = l1 ? (uintptr_t)(l1 + L1_COUNT) : 0;
}

uint32_t am_ref_of(const void *rec)
{
	return rec ? (uint32_t)(((uintptr_t)rec - (uintptr_t)am_tier_nommap.base) / 16) : 0;
}

void *am_ref_ptr(uint32_t ref)
{
	size_t off = (size_t)ref * 16;
	if (!ref || off >= (size_t)(am_tier_nommap.limit - am_tier_nommap.base))
		return NULL; /* 0, or garbage read in a race: never outside the tier */
	return am_tier_nommap.base + off;
}

static uint32_t *leaf_of(uint32_t e) { return am_ref_ptr(e & ~LEAF); }

/* Readers may race with a leaf being freed and reused: the leaf pointer
 * stays inside the no-mmap region (mapped), and the seqlock discards
 * whatever was read. */

/* Entries [a, b) of a leaf point at ref. Plain vector stores, 8 entries
 * at a time (a mapping of 64 pages is 16 stores of 16 bytes without AVX,
 * not 64 atomic ones of 4): a reader racing with them is discarded by
 * the seqlock, as for the records, and an aligned 4-byte entry is never
 * seen torn. */
static void fill(uint32_t *leaf, size_t a, size_t b, uint32_t ref)
{
	typedef uint32_t eight __attribute__((vector_size(32), aligned(4), may_alias));
	const eight v = {ref, ref, ref, ref, ref, ref, ref, ref};
	uint32_t *p = leaf + a, *end = leaf + b;
	for (; end - p >= 8; p += 8)
		*(eight *)p = v;
	for (; p < end; p++)
		*p = ref;
}

/* The leaf for 2 MiB slot i, made (filled with the slot's value) if needed. */
static uint32_t *ensure_leaf(size_t i)
{
	uint32_t e = __atomic_load_n(&l1[i], __ATOMIC_RELAXED);
	if (e & LEAF)
		return leaf_of(e);
	uint32_t *leaf = am_palloc_malloc(&am_tier_nommap, LEAF_COUNT * sizeof *leaf);
	if (!leaf)
		return NULL;
	fill(leaf, 0, LEAF_COUNT, e);
	__atomic_store_n(&l1[i], am_ref_of(leaf) | LEAF, __ATOMIC_RELEASE);
	return leaf;
}

static void set_whole(size_t i, uint32_t ref)
{
	uint32_t old = __atomic_exchange_n(&l1[i], ref, __ATOMIC_RELEASE);
	if (old & LEAF)
		am_palloc_free(&am_tier_nommap, leaf_of(old));
}

static int set_part(size_t i, uintptr_t lo, uintptr_t hi, uint32_t ref)
{
	uint32_t *leaf = ensure_leaf(i);
	if (!leaf)
		return -1;
	size_t a = (lo >> AM_PAGE_SHIFT) & (LEAF_COUNT - 1);
	fill(leaf, a, a + ((hi - lo) >> AM_PAGE_SHIFT), ref);
	return 0;
}

int am_pageindex_set(uintptr_t lo, uintptr_t hi, uint32_t ref)
{
	int rc = 0;
	if (!l1)
		return 0;
	if (hi > AM_USER_TOP)
		hi = AM_USER_TOP;
	while (lo < hi) {
		size_t i = lo >> AM_SUPER_SHIFT;
		uintptr_t end = ((uintptr_t)i + 1) << AM_SUPER_SHIFT;
		if (end > hi)
			end = hi;
		if (lo == (uintptr_t)i << AM_SUPER_SHIFT && end - lo == SUPER)
			set_whole(i, ref);
		else if (set_part(i, lo, end, ref) != 0)
			set_whole(i, 0), rc = -1; /* unknown, never stale */
		lo = end;
	}
	return rc;
}

uint32_t am_pageindex_get(uintptr_t p)
{
	if (!l1 || p >= AM_USER_TOP)
		return 0;
	uint32_t e = __atomic_load_n(&l1[p >> AM_SUPER_SHIFT], __ATOMIC_ACQUIRE);
	if (!(e & LEAF))
		return e;
	uint32_t *leaf = leaf_of(e);
	size_t k = (p >> AM_PAGE_SHIFT) & (LEAF_COUNT - 1);
	if (!leaf || (char *)(leaf + k) >= am_tier_nommap.limit)
		return 0;
	return __atomic_load_n(&leaf[k], __ATOMIC_ACQUIRE);
}

void am_pageindex_reset(void)
{
	if (l1)
		am_sys_madvise(l1, L1_COUNT * sizeof *l1, MADV_DONTNEED);
}
