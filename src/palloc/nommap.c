/* The no-mmap tier's memory: one region reserved at initialisation with
 * MAP_NORESERVE, served by an emulated sbrk.
 *
 * Layout: [base, pool) the live-block bitmap (one bit per 16 bytes of the
 * region), then the TLSF pool [pool, brk) whose sentinel sits at brk-16.
 * Invariants: base <= pool < brk <= limit; [fresh, limit) is zero (never
 * written since the kernel, or given back with MADV_DONTNEED); after
 * am_nommap_init this file makes no mmap, munmap or mremap call — growth
 * moves brk up, trimming moves it down and madvises whole pages above it.
 */
#include <string.h>
#include <sys/mman.h>

#include "../sys/log.h"
#include "../sys/syscall.h"
#include "tier.h"
#include "../sys/page.h"
#include "../sys/pages.h"

#define GROW_MIN ((size_t)64 << 10)
#define TRIM_MIN ((size_t)1 << 20)
#define TRIM_KEEP ((size_t)256 << 10)

struct am_tier am_tier_nommap;

static char *page_up_ptr(char *p) { return (char *)am_page_up((size_t)p); }

void am_nommap_adopt(struct am_tier *t, char *base, size_t reserve)
{
	memset(t, 0, sizeof *t);
	t->name = "allocmap-nommap";
	t->ops = &am_nommap_ops;
	t->inside_bit = 1;
	t->trim_threshold = TRIM_MIN;
	am_tlsf_init(&t->engine);
	t->base = base;
	t->limit = t->base + reserve;
	t->bits = (uint64_t *)t->base;
	t->pool = t->base + am_page_up(reserve / (AM_TLSF_ALIGN * 8));
	t->brk = t->pool + AM_TLSF_HDR; /* an empty pool: just the sentinel */
	t->fresh = t->brk;
	t->reserved = reserve;
}

int am_nommap_init(struct am_tier *t, size_t reserve)
{
	reserve = am_page_up(reserve < 4 * AM_PAGE_SIZE ? 4 * AM_PAGE_SIZE : reserve);
	char *base = am_pages_map(reserve, PROT_READ | PROT_WRITE, MAP_NORESERVE);
	if (!base) {
		memset(t, 0, sizeof *t);
		t->name = "allocmap-nommap";
	t->ops = &am_nommap_ops;
		t->inside_bit = 1;
		am_log("no-mmap tier: cannot reserve %zu bytes; the library will not index", reserve);
		return -1;
	}
	am_nommap_adopt(t, base, reserve);
	return 0;
}

static int span(struct am_tier *t, const void *p, struct am_span *out)
{
	if ((const char *)p < t->pool || (const char *)p >= t->brk)
		return -1;
	out->pool = t->pool;
	out->end = t->brk;
	out->bits = t->bits;
	return 0;
}

static void note_footprint(struct am_tier *t)
{
	t->footprint = (size_t)(t->brk - t->pool) - AM_TLSF_HDR; /* less the sentinel */
	if (t->footprint > t->peak_footprint)
		t->peak_footprint = t->footprint;
}

static int grow(struct am_tier *t, size_t need, struct am_fresh *fresh)
{
	size_t more = (need + AM_TLSF_HDR + 15) & ~(size_t)15;
	if (more < GROW_MIN)
		more = GROW_MIN;
	if (!t->base || more > (size_t)(t->limit - t->brk))
		return -1;
	char *old = t->brk;
	am_tlsf_extend_pool(&t->engine, old, more);
	t->brk = old + more;
	fresh->zone_lo = t->pool, fresh->zone_hi = t->limit;
	fresh->zero_from = old + AM_TLSF_HDR > t->fresh ? old + AM_TLSF_HDR : t->fresh;
	t->fresh = t->brk;
	note_footprint(t);
	return 0;
}

/* Moves the break down over a free top of at least `min` bytes and gives
 * whole pages above it back to the kernel. Returns bytes released. */
static size_t trim(struct am_tier *t, size_t min, size_t keep)
{
	char *old = t->brk, *nb = am_tlsf_trim_tail(&t->engine, old, min, keep);
	if (nb == old)
		return 0;
	t->brk = nb;
	char *from = page_up_ptr(nb), *to = page_up_ptr(old);
	if (from < to && am_sys_madvise(from, (size_t)(to - from), MADV_DONTNEED) == 0)
		t->fresh = from;
	note_footprint(t);
	return (size_t)(old - nb);
}

static void after_free(struct am_tier *t, const struct am_span *s, struct am_release *rel)
{
	(void)s, (void)rel; /* the break is cut in place: nothing to unmap */
	trim(t, t->trim_threshold, TRIM_KEEP);
}

size_t am_palloc_trim(struct am_tier *t)
{
	if (!t->base || am_tier_enter(t))
		return 0;
	size_t n = trim(t, AM_TLSF_MIN_BLOCK, 0);
	am_tier_leave(t);
	return n;
}

static void each_span(struct am_tier *t, void (*fn)(struct am_tier *, const struct am_span *, void *), void *arg)
{
	struct am_span s = {t->pool, t->brk, t->bits};
	if (t->base)
		fn(t, &s, arg);
}

static const char *span_lo(const struct am_tier *t, const struct am_span *s)
{
	(void)s;
	return t->base; /* the bitmap lies before the pool */
}

static void reset_child(struct am_tier *t)
{
	char *base = t->base;
	size_t reserve = (size_t)(t->limit - t->base);
	if (!base)
		return;
	am_sys_madvise(base, reserve, MADV_DONTNEED);
	am_nommap_adopt(t, base, reserve);
}

static void destroy(struct am_tier *t)
{
	if (t->base)
		am_pages_unmap(t->base, (size_t)(t->limit - t->base));
}

const struct am_tier_ops am_nommap_ops = {span, grow, after_free, each_span, span_lo, reset_child, destroy};
