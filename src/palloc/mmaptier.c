/* The mmap tier's memory: chunks mapped on demand, each its own TLSF pool.
 *
 * A chunk is [struct am_chunk][bitmap][pool]. A new chunk is at least
 * AM_MMAP_CHUNK_MIN and at least an eighth of the tier's footprint
 * (GROWDIV), so their number stays small (at most AM_MMAP_MAX_CHUNKS). The
 * tier keeps them in a table sorted by address, searched by bisection and
 * fronted by a cache of the last chunk found per MiB of address (an entry
 * is dropped with its chunk). Chunks are mapped and unmapped through
 * am_palloc_map_hook / am_palloc_unmap_hook, never under the tier lock
 * (one thread maps at a time; the others wait outside the tier): by
 * default straight through the one door for the library's own pages
 * (sys/pages.c), and once the index is up through index/selfmap.c, which
 * records them as allocmap's own. When a chunk becomes wholly free it is
 * kept as the spare and the previous spare, if still empty, is unmapped.
 */
#include <string.h>
#include <sys/mman.h>

#include "../sys/syscall.h"
#include "tier.h"
#include "../sys/page.h"
#include "../sys/pages.h"

#define GROWDIV 8 /* a new chunk is at least footprint/GROWDIV */

struct am_tier am_tier_mmap;

static void *raw_map(size_t len) { return am_pages_map(len, PROT_READ | PROT_WRITE, 0); }

static void raw_unmap(void *p, size_t len) { am_pages_unmap(p, len); }

void *(*am_palloc_map_hook)(size_t len) = raw_map;
void (*am_palloc_unmap_hook)(void *p, size_t len) = raw_unmap;

void am_mmaptier_init(struct am_tier *t)
{
	memset(t, 0, sizeof *t);
	t->name = "allocmap-mmap";
	t->inside_bit = 2;
	t->ops = &am_mmaptier_ops;
	am_tlsf_init(&t->engine);
}

static struct am_chunk *chunk_of(const struct am_span *s) { return (struct am_chunk *)s->bits - 1; }

/* Index of the last chunk starting at or below p, or -1. */
static int find_index(struct am_tier *t, const void *p)
{
	int lo = 0, hi = (int)t->nchunks - 1, best = -1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if ((const void *)t->chunks[mid] <= p)
			best = mid, lo = mid + 1;
		else
			hi = mid - 1;
	}
	return best;
}

static struct am_chunk **cache_slot(struct am_tier *t, const void *p)
{
	return &t->span_cache[((uintptr_t)p >> 20) % AM_SPAN_CACHE];
}

static int in_chunk(const struct am_chunk *c, const void *p)
{
	return c && (const char *)p >= c->span.pool && (const char *)p < c->span.end;
}

static int span(struct am_tier *t, const void *p, struct am_span *out)
{
	struct am_chunk **slot = cache_slot(t, p);
	if (!in_chunk(*slot, p)) {
		int i = find_index(t, p);
		if (i < 0 || !in_chunk(t->chunks[i], p))
			return -1;
		*slot = t->chunks[i];
	}
	*out = (*slot)->span;
	return 0;
}

static size_t chunk_size_for(struct am_tier *t, size_t need)
{
	size_t size = am_page_up(need + sizeof(struct am_chunk) + 2 * AM_TLSF_MIN_BLOCK);
	size += am_page_up(size / (AM_TLSF_ALIGN * 8) + AM_TLSF_ALIGN);
	size_t floor = t->footprint / GROWDIV > AM_MMAP_CHUNK_MIN ? am_page_up(t->footprint / GROWDIV) : AM_MMAP_CHUNK_MIN;
	return size > floor ? size : floor;
}

static void insert_chunk(struct am_tier *t, struct am_chunk *c)
{
	unsigned i = (unsigned)(find_index(t, c) + 1);
	memmove(&t->chunks[i + 1], &t->chunks[i], (t->nchunks - i) * sizeof c);
	t->chunks[i] = c;
	t->nchunks++;
	t->footprint += c->size;
	t->reserved = t->footprint;
	if (t->footprint > t->peak_footprint)
		t->peak_footprint = t->footprint;
}

static void remove_chunk(struct am_tier *t, struct am_chunk *c)
{
	for (unsigned k = 0; k < AM_SPAN_CACHE; k++)
		if (t->span_cache[k] == c)
			t->span_cache[k] = NULL;
	unsigned i = (unsigned)find_index(t, c);
	memmove(&t->chunks[i], &t->chunks[i + 1], (t->nchunks - i - 1) * sizeof c);
	t->nchunks--;
	t->footprint -= c->size;
	t->reserved = t->footprint;
}

static void init_chunk(struct am_chunk *c, size_t size)
{
	size_t bits = (size / (AM_TLSF_ALIGN * 8) + AM_TLSF_ALIGN) & ~(size_t)(AM_TLSF_ALIGN - 1);
	c->size = size;
	c->span.bits = (uint64_t *)(c + 1);
	c->span.pool = (char *)c->span.bits + bits;
	c->span.end = (char *)c + size;
}

/* Another thread is mapping a chunk: wait for it outside the tier. */
static void wait_for_grower(struct am_tier *t)
{
	am_tier_leave(t);
	while (__atomic_load_n(&t->growing, __ATOMIC_ACQUIRE))
		am_sys_sched_yield();
	am_tier_enter(t);
}

static int grow(struct am_tier *t, size_t need, struct am_fresh *fresh)
{
	if (t->growing) {
		wait_for_grower(t);
		return 1; /* the caller retries with that thread's chunk */
	}
	if (t->nchunks == AM_MMAP_MAX_CHUNKS)
		return -1;
	size_t size = chunk_size_for(t, need);
	t->growing = 1;
	am_tier_leave(t);
	struct am_chunk *c = am_palloc_map_hook(size);
	am_tier_enter(t);
	__atomic_store_n(&t->growing, 0, __ATOMIC_RELEASE);
	if (!c)
		return -1;
	init_chunk(c, size);
	insert_chunk(t, c);
	am_tlsf_add_pool(&t->engine, c->span.pool, (size_t)(c->span.end - c->span.pool));
	fresh->zone_lo = c->span.pool, fresh->zone_hi = c->span.end;
	fresh->zero_from = c->span.pool + AM_TLSF_MIN_BLOCK;
	return 0;
}

static void after_free(struct am_tier *t, const struct am_span *s, struct am_release *rel)
{
	struct am_chunk *c = chunk_of(s), *old = t->spare;
	if (!rel || c == old || !am_tlsf_take_empty_pool(&t->engine, s->pool, s->end))
		return;
	/* keep c mapped (back in the free lists) as the spare; give back the
	 * previous spare if it is still empty */
	am_tlsf_add_pool(&t->engine, c->span.pool, (size_t)(c->span.end - c->span.pool));
	t->spare = c;
	if (!old || !am_tlsf_take_empty_pool(&t->engine, old->span.pool, old->span.end))
		return;
	remove_chunk(t, old);
	rel->addr = old;
	rel->len = old->size;
}

static void each_span(struct am_tier *t, void (*fn)(struct am_tier *, const struct am_span *, void *), void *arg)
{
	for (unsigned i = 0; i < t->nchunks; i++)
		fn(t, &t->chunks[i]->span, arg);
}

static const char *span_lo(const struct am_tier *t, const struct am_span *s)
{
	(void)t;
	return (const char *)s->bits; /* the chunk's bitmap precedes its pool */
}

static void destroy(struct am_tier *t)
{
	for (unsigned i = 0; i < t->nchunks; i++)
		am_palloc_unmap_hook(t->chunks[i], t->chunks[i]->size);
}

const struct am_tier_ops am_mmaptier_ops = {span, grow, after_free, each_span, span_lo, am_mmaptier_init, destroy};
