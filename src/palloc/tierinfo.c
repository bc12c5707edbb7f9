/* Whole-tier views of the private allocator: statistics (with residency
 * from mincore), the consistency check, fork and teardown. None of these
 * is on a hot path; each holds the tier lock while it looks.
 */
#include <string.h>
#include <sys/mman.h>

#include "../sys/bitmap.h"
#include "../sys/syscall.h"
#include "tier.h"
#include "../sys/page.h"
#include "../sys/pages.h"


/* Resident bytes of [lo, hi), page-rounded outwards. */
static size_t resident(const char *lo, const char *hi)
{
	unsigned char vec[1024];
	size_t n = 0;
	uintptr_t a = am_page_down((uintptr_t)lo), end = am_page_up((uintptr_t)hi);
	while (a < end) {
		size_t pages = (end - a) / AM_PAGE_SIZE < sizeof vec ? (end - a) / AM_PAGE_SIZE : sizeof vec;
		if (am_sys_mincore((void *)a, pages * AM_PAGE_SIZE, vec) != 0)
			return n;
		for (size_t i = 0; i < pages; i++)
			n += (vec[i] & 1) * AM_PAGE_SIZE;
		a += pages * AM_PAGE_SIZE;
	}
	return n;
}

static void add_resident(struct am_tier *t, const struct am_span *s, void *arg)
{
	*(size_t *)arg += resident(t->ops->span_lo(t, s), s->end);
}

void am_palloc_stats(struct am_tier *t, struct allocmap_tier_stats *out)
{
	memset(out, 0, sizeof *out);
	int entered = am_tier_enter(t) == 0;
	out->reserved = t->reserved;
	out->footprint = t->footprint;
	out->peak_footprint = t->peak_footprint;
	out->in_use = t->in_use;
	out->peak_in_use = t->peak_in_use;
	out->live_blocks = t->live_blocks;
	out->failed = __atomic_load_n(&t->failed, __ATOMIC_RELAXED);
	out->bad_frees = __atomic_load_n(&t->bad_frees, __ATOMIC_RELAXED);
	if (entered) {
		t->ops->each_span(t, add_resident, &out->resident);
		am_tier_leave(t);
	}
}

struct validate_acc {
	const struct am_span *span;
	size_t bad, used_blocks, used_bytes;
};

static void validate_block(void *p, size_t usable, int is_free, void *arg)
{
	struct validate_acc *a = arg;
	size_t i = (size_t)((char *)p - a->span->pool) / AM_TLSF_ALIGN;
	a->bad += am_bit_test(a->span->bits, i) == is_free;
	if (!is_free)
		a->used_blocks++, a->used_bytes += usable;
}

static void validate_span(struct am_tier *t, const struct am_span *s, void *arg)
{
	struct validate_acc *total = arg, a = {s, 0, 0, 0};
	a.bad = am_tlsf_validate(&t->engine, s->pool, s->end);
	if (am_tlsf_walk(s->pool, s->end, validate_block, &a) == 0)
		a.bad += am_bit_count(s->bits, (size_t)(s->end - s->pool) / AM_TLSF_ALIGN) != a.used_blocks;
	total->bad += a.bad;
	total->used_blocks += a.used_blocks;
	total->used_bytes += a.used_bytes;
}

size_t am_palloc_validate(struct am_tier *t)
{
	if (am_tier_enter(t))
		return 0;
	size_t bad = am_palloc_validate_held(t);
	am_tier_leave(t);
	return bad;
}

size_t am_palloc_validate_held(struct am_tier *t)
{
	struct validate_acc a = {NULL, 0, 0, 0};
	t->ops->each_span(t, validate_span, &a);
	a.bad += a.used_blocks != t->live_blocks;
	a.bad += a.used_bytes != t->in_use;
	a.bad += t->peak_in_use < t->in_use || t->peak_footprint < t->footprint;
	if (t->base) /* the no-mmap tier's region */
		a.bad += !(t->base < t->pool && t->pool < t->brk && t->brk <= t->limit);
	return a.bad;
}

void am_palloc_atfork_child(struct am_tier *t)
{
	t->lock.state = 0;
}

void am_palloc_reset_child(struct am_tier *t)
{
	if (t->ops)
		t->ops->reset_child(t);
}

void am_tier_destroy(struct am_tier *t)
{
	if (t->ops)
		t->ops->destroy(t);
	memset(t, 0, sizeof *t);
}
