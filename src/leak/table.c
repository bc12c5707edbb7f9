/* The chunk table: every live chunk the heap index records, as parallel
 * arrays sorted by start address (the binary search of the mark phase
 * reads only the starts: 8 bytes a chunk, denser in cache than records).
 *
 * A bucket table over [lo, hi) narrows each lookup's binary search.
 *
 * Filled by allocmap_walk over the chunks, which visits them in address
 * order and checks each against its header; the order is checked again
 * here and restored by a sort if a walk ever broke it. Extents are the
 * sizes asked for (as memcheck's are), so a pointer into the slack at a
 * chunk's end points to no chunk. The arrays grow by doubling in the
 * mmap tier; the threads that could free a chunk are parked meanwhile
 * (stop.c), so the table stays true for the whole scan.
 */
#include <string.h>

#include "../palloc/palloc.h"
#include "leak.h"

#define FIRST_CAP 4096

static void *grow(void *p, size_t n, size_t elem) { return am_palloc_realloc(&am_tier_mmap, p, n * elem); }

static int reserve(struct am_leak_table *t, size_t cap)
{
	uintptr_t *b = grow(t->base, cap, sizeof *t->base);
	if (b)
		t->base = b;
	size_t *s = b ? grow(t->size, cap, sizeof *t->size) : NULL;
	if (s)
		t->size = s;
	const void **si = s ? grow(t->site, cap, sizeof *t->site) : NULL;
	if (!si)
		return -1;
	t->site = si;
	t->cap = cap;
	return 0;
}

static int add_chunk(const struct allocmap_info *info, void *arg)
{
	struct am_leak_table *t = arg;
	if (t->n == t->cap && reserve(t, t->cap ? 2 * t->cap : FIRST_CAP) != 0)
		return -1;
	t->base[t->n] = (uintptr_t)info->base;
	t->size[t->n] = info->requested;
	t->site[t->n] = info->site;
	t->n++;
	return 0;
}

struct rec {
	uintptr_t base;
	size_t size;
	const void *site;
};

static int rec_less(const void *a, const void *b) { return ((const struct rec *)a)->base < ((const struct rec *)b)->base; }

/* Restores address order through one array of records (never needed
 * with today's walk; kept so the lookup's precondition never rests on
 * the walk's). */
static int sort_table(struct am_leak_table *t)
{
	for (size_t i = 1; i < t->n; i++)
		if (t->base[i - 1] >= t->base[i])
			goto unsorted;
	return 0;
unsorted:;
	struct rec *r = am_palloc_malloc(&am_tier_mmap, t->n * sizeof *r);
	if (!r)
		return -1;
	for (size_t i = 0; i < t->n; i++)
		r[i] = (struct rec){t->base[i], t->size[i], t->site[i]};
	am_leak_sort(r, t->n, sizeof *r, rec_less);
	for (size_t i = 0; i < t->n; i++)
		t->base[i] = r[i].base, t->size[i] = r[i].size, t->site[i] = r[i].site;
	am_palloc_free(&am_tier_mmap, r);
	return 0;
}

/* Buckets of 2^shift bytes over [lo, hi), about one a chunk (at most
 * 2n + 1: a sparse table gets coarser buckets, and longer searches). */
static int make_buckets(struct am_leak_table *t)
{
	size_t span = t->hi - t->lo;
	t->shift = 4;
	while ((span >> t->shift) > 2 * t->n)
		t->shift++;
	t->nbuckets = (span >> t->shift) + 1;
	t->bucket = am_palloc_malloc(&am_tier_mmap, (t->nbuckets + 1) * sizeof *t->bucket);
	if (!t->bucket)
		return -1;
	size_t i = 0;
	for (size_t b = 0; b <= t->nbuckets; b++) {
		uintptr_t start = t->lo + ((uintptr_t)b << t->shift);
		while (i < t->n && t->base[i] < start)
			i++;
		t->bucket[b] = (uint32_t)i;
	}
	return 0;
}

int am_leak_table_fill(struct am_leak_table *t)
{
	memset(t, 0, sizeof *t);
	if (allocmap_walk(ALLOCMAP_WALK_CHUNKS, add_chunk, t) != 0 || sort_table(t) != 0)
		goto fail;
	t->state = am_palloc_calloc(&am_tier_mmap, t->n ? t->n : 1, 1);
	if (!t->state)
		goto fail;
	for (size_t i = 0; i < t->n; i++)
		if (t->base[i] + (t->size[i] ? t->size[i] : 1) > t->hi)
			t->hi = t->base[i] + (t->size[i] ? t->size[i] : 1);
	t->lo = t->n ? t->base[0] : 0;
	if (make_buckets(t) != 0)
		goto fail;
	return 0;
fail:
	am_leak_table_free(t);
	return -1;
}

void am_leak_table_free(struct am_leak_table *t)
{
	am_palloc_free(&am_tier_mmap, t->base);
	am_palloc_free(&am_tier_mmap, t->size);
	am_palloc_free(&am_tier_mmap, t->site);
	am_palloc_free(&am_tier_mmap, t->state);
	am_palloc_free(&am_tier_mmap, t->bucket);
	memset(t, 0, sizeof *t);
}
