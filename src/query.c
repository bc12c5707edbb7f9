/* allocmap_query: what holds an address. Mapping level here; the heap
 * index answers first for addresses inside live malloc chunks.
 * Lock-free (the mapping index's seqlock); never faults on any address.
 * allocmap_query_many: the same, software-pipelined: an address's memory
 * reads are fetched ahead in two stages (heap.h), for GROUP addresses at
 * a time, one and two groups before their queries run.
 * The _ex entry points fill a caller's struct of any size from 0.3's on
 * (allocmap.h: ABI); the plain ones, for binaries built against 0.3,
 * fill 0.3's.
 */
#include <stdint.h>
#include <string.h>

#include "heap/heap.h"
#include "index/mapindex.h"
#include "palloc/palloc.h"

/* The size of struct allocmap_info in 0.3: up to and including path;
 * the bytes that hold vma_size. */
#define AM_INFO_0_3 (offsetof(struct allocmap_info, path) + sizeof(const char *))
#define AM_INFO_VMA (offsetof(struct allocmap_info, vma_size) + sizeof(size_t))

/* The kernel's mapping holding the map of v. */
static void fill_vma(const struct am_map_view *v, struct allocmap_info *out)
{
	out->vma_base = (const void *)v->vma_lo;
	out->vma_size = v->vma_hi - v->vma_lo;
}

/* The enclosing mapping sequence, whatever the innermost allocation. */
static void fill_map(const struct am_map_view *v, struct allocmap_info *out)
{
	out->map_base = (const void *)v->seq_lo;
	out->map_size = v->seq_hi - v->seq_lo;
	out->prot = v->prot;
	out->path = v->path;
}

/* The sequence as the innermost allocation too. */
static void fill_mapping(const struct am_map_view *v, struct allocmap_info *out)
{
	out->base = (const void *)v->seq_lo;
	out->size = v->seq_hi - v->seq_lo;
	out->requested = out->size;
	out->site = v->caller;
	out->kind = am_origin_kind(v->origin, v->path != NULL);
	out->allocator = am_origin_name(v->origin);
	fill_map(v, out);
}

/* Arena space in no live chunk: the arena's extent, made by no call. */
static void fill_free(struct allocmap_info *out)
{
	out->kind = ALLOCMAP_HEAP_FREE;
	out->allocator = "malloc";
	out->site = NULL;
}

/* Inside a private tier: the innermost allocation is the tier's block. */
static void fill_self(const void *p, enum am_origin o, struct allocmap_info *out)
{
	struct am_tier *t = o == AM_ORIGIN_NOMMAP ? &am_tier_nommap : &am_tier_mmap;
	void *base;
	size_t size;
	if (am_palloc_owns(t, p, &base, &size) == 1) {
		out->base = base;
		out->size = out->requested = size;
	}
}

/* p is in no map: unless the main thread's stack grew over it (then the
 * index catches up and the caller retries, -2). */
static int not_found(const void *p)
{
	return am_index_stack_reaches((uintptr_t)p) && am_index_stack_catch_up() ? -2 : -1;
}

/* 16 bytes of any type, at any 8-byte alignment. */
typedef uint64_t am_pair __attribute__((vector_size(16), aligned(8), may_alias));

/* Zeroes the first `known` bytes of *out (a multiple of 8). The two
 * constant sizes (multiples of 16) are written as vector stores:
 * memset's inline expansion for an unknown alignment is a `rep stos`,
 * whose start-up alone was a quarter of a query on cached memory. */
static inline void zero(struct allocmap_info *out, size_t known)
{
	_Static_assert(AM_INFO_0_3 == 5 * 16 && sizeof *out == 6 * 16, "sizes in pairs of words");
	am_pair *w = (am_pair *)out, z = {0, 0};
	if (known != AM_INFO_0_3 && known != sizeof *out) {
		memset(out, 0, known);
		return;
	}
	/* not a loop: gcc would make it a memset again */
	w[0] = z, w[1] = z, w[2] = z, w[3] = z, w[4] = z;
	if (known == sizeof *out)
		w[5] = z;
}

/* The map a batch's last query read and the ticket it was read under
 * (then confirmed). While the index still has that ticket nothing in it
 * has changed, so for an address in the same map a read would give the
 * same view: only the sequence's heap data, set outside the seqlock
 * (am_index_set_heap), is read again. Kept within one allocmap_query_many
 * call for LAST_USES addresses at most: a ticket kept longer could come
 * round again (32 bits) over a changed index, which takes 2^31 mapping
 * changes (minutes of them; LAST_USES queries take a millisecond). */
#define LAST_USES 4096
struct last_map {
	unsigned uses, ticket; /* uses: 0 when there is none */
	struct am_map_view v;
};

/* The map holding p under ticket, into *v: last's if it holds p (then
 * *hit is set). */
static int lookup(const void *p, unsigned ticket, struct am_map_view *v, struct last_map *last, int *hit)
{
	*hit = last && last->uses && last->uses < LAST_USES && last->ticket == ticket &&
	       (uintptr_t)p - last->v.lo < last->v.hi - last->v.lo;
	if (!*hit)
		return am_index_lookup_at((uintptr_t)p, ticket, v);
	last->uses++;
	*v = last->v;
	v->heap = __atomic_load_n(&v->seq->heap, __ATOMIC_ACQUIRE);
	return 0;
}

/* One attempt; -2 (or a changed ticket) makes the caller retry. Fills
 * the fields that `known` bytes of *out hold (allocmap.h: ABI); the map
 * read goes to *v, *hit set if it came from last. */
static int query_once(const void *p, unsigned ticket, struct allocmap_info *out, size_t known, int fetched,
		      struct am_map_view *v, struct last_map *last, int *hit)
{
	zero(out, known);
	out->kind = ALLOCMAP_UNKNOWN;
	if (lookup(p, ticket, v, last, hit) != 0)
		return not_found(p);
	if (known >= AM_INFO_VMA)
		fill_vma(v, out);
	int tier = v->origin == AM_ORIGIN_NOMMAP || v->origin == AM_ORIGIN_MMAPTIER, rc = -1;
	if (v->heap && !tier && (rc = am_heap_query(p, v, ticket, out, fetched)) == -2)
		return -2;
	if (rc == 0) { /* a chunk: the heap index filled in the rest */
		fill_map(v, out);
		return 0;
	}
	fill_mapping(v, out);
	if (tier)
		fill_self(p, v->origin, out);
	else if (rc == 1 && (v->origin != AM_ORIGIN_BRK || am_heap_brk_is_arena(v->map_caller)))
		fill_free(out);
	return 0;
}

/* last: a batch's (NULL for a single query), which fetched p's chunk
 * ahead (am_heap_prefetch_chunk); kept up to date. */
static int query(const void *p, struct allocmap_info *out, size_t known, struct last_map *last)
{
	for (;;) {
		struct am_map_view v;
		int hit = 0;
		unsigned ticket = am_index_read_begin();
		int rc = query_once(p, ticket, out, known, last != NULL, &v, last, &hit);
		if (rc != -2 && !am_index_read_retry(ticket)) {
			if (last && rc == 0 && !hit) /* read now, and confirmed */
				*last = (struct last_map){1, ticket, v};
			return rc;
		}
	}
}

/* The bytes of a caller's size-byte struct this library fills (the rest
 * it zeroes: nth), or 0 for a size it refuses: below 0.3's struct, or not
 * whole 8-byte words. */
static size_t known_of(size_t size)
{
	if (size < AM_INFO_0_3 || size % 8)
		return 0;
	return size < sizeof(struct allocmap_info) ? size : sizeof(struct allocmap_info);
}

/* Addresses whose stages run together: a stage's prefetches issued back
 * to back, not one between two queries, overlap their misses. A prefetch
 * into a page not touched before held up the work behind it (perf put
 * half the batch's time on such prefetches: its page walk, most likely),
 * so the queries behind one waited out each address's walk in turn. */
#define GROUP 16

/* Element k of the caller's array of size-byte structs, its tail (past
 * what this library knows) zeroed. */
static struct allocmap_info *nth(struct allocmap_info *out, size_t k, size_t size)
{
	struct allocmap_info *e = (struct allocmap_info *)((char *)out + k * size);
	if (size > sizeof *e)
		memset((char *)e + sizeof *e, 0, size - sizeof *e);
	return e;
}

int allocmap_query_ex(const void *p, struct allocmap_info *out, size_t size)
{
	size_t known = known_of(size);
	if (!out || !known)
		return -1;
	am_heap_prefetch_near(p);
	return query(p, nth(out, 0, size), known, NULL);
}

int(allocmap_query)(const void *p, struct allocmap_info *out)
{
	return allocmap_query_ex(p, out, AM_INFO_0_3);
}

size_t allocmap_query_many_ex(const void *const *ps, size_t n, struct allocmap_info *out, size_t size)
{
	size_t found = 0, known = known_of(size);
	struct last_map last = {0};
	if (!ps || !out || !known)
		return 0;
	for (size_t g = 0; g < n || g - n < 2 * GROUP; g += GROUP) { /* no n + 2 * GROUP: it may wrap */
		for (size_t i = g; i < n && i - g < GROUP; i++)
			am_heap_prefetch_bits(ps[i]);
		for (size_t i = g - GROUP; g >= GROUP && i < n && i - (g - GROUP) < GROUP; i++)
			am_heap_prefetch_chunk(ps[i]);
		for (size_t i = g - 2 * GROUP; g >= 2 * GROUP && i < n && i - (g - 2 * GROUP) < GROUP; i++)
			found += query(ps[i], nth(out, i, size), known, &last) == 0;
	}
	return found;
}

size_t(allocmap_query_many)(const void *const *ps, size_t n, struct allocmap_info *out)
{
	return allocmap_query_many_ex(ps, n, out, AM_INFO_0_3);
}
