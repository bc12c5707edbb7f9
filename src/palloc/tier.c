/* Tier-independent private allocator: entering a tier, the malloc family,
 * live-block bitmaps, statistics and the consistency check.
 *
 * Invariants (checked by am_palloc_validate):
 *   - a span's bitmap has a bit set exactly at the payload of each live
 *     (used) block of its pool;
 *   - in_use is the sum of usable sizes of live blocks, live_blocks their
 *     number; peaks never go below the current values.
 * Locking: every engine call happens inside am_tier_enter/leave. A thread
 * already inside a tier (re-entered from a signal handler) never blocks on
 * it: allocations fail, frees are deferred to lock-free slots. The debug
 * build validates the tier at every leave (sys/debug.h).
 */
#include <string.h>

#include "../sys/bitmap.h"
#include "../sys/debug.h"
#include "../sys/log.h"
#include "tier.h"
#include "../sys/thread.h"


#define GROW_WAITS 64 /* waits for other threads' growth before an allocation fails */

static void free_locked(struct am_tier *t, void *p, struct am_release *rel);

static void drain_deferred(struct am_tier *t)
{
	if (!__atomic_load_n(&t->deferred_pending, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&t->deferred_pending, 0, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < AM_DEFERRED_SLOTS; i++) {
		if (!__atomic_load_n(&t->deferred[i], __ATOMIC_RELAXED))
			continue;
		void *p = __atomic_exchange_n(&t->deferred[i], NULL, __ATOMIC_ACQUIRE);
		if (p)
			free_locked(t, p, NULL); /* NULL: keep an emptied chunk mapped */
	}
}


int am_tier_enter(struct am_tier *t)
{
	if (am_self.tier_mask & t->inside_bit)
		return -1;
	am_self.tier_mask |= t->inside_bit;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_lock(&t->lock);
	drain_deferred(t);
	return 0;
}

void am_tier_leave(struct am_tier *t)
{
	if (AM_DEBUG_VALIDATE)
		am_debug_require(am_palloc_validate_held(t), t->name, "a tier's leave");
	am_unlock(&t->lock);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	am_self.tier_mask &= ~t->inside_bit;
	am_thread_left();
}

static int span_of(struct am_tier *t, const void *p, struct am_span *s)
{
	return t->ops->span(t, p, s);
}

static size_t bit_index(const struct am_span *s, const void *p)
{
	return (size_t)((const char *)p - s->pool) / AM_TLSF_ALIGN;
}

/* The live block whose payload starts exactly at p, or 0. */
static int live_at(struct am_tier *t, const void *p, struct am_span *s)
{
	return span_of(t, p, s) == 0 && ((uintptr_t)p & (AM_TLSF_ALIGN - 1)) == 0 &&
	       am_bit_test(s->bits, bit_index(s, p));
}

static void count_alloc(struct am_tier *t, void *p)
{
	struct am_span s;
	span_of(t, p, &s);
	am_bit_set(s.bits, bit_index(&s, p));
	t->in_use += am_tlsf_usable(p);
	t->live_blocks++;
	if (t->in_use > t->peak_in_use)
		t->peak_in_use = t->in_use;
}

static void *engine_alloc(struct am_tier *t, size_t n, size_t align)
{
	return align ? am_tlsf_memalign(&t->engine, align, n) : am_tlsf_malloc(&t->engine, n);
}

/* Zeroes what of [p, p+usable) may hold old bytes: all of it, unless p
 * lies in the zone a growth just added to, where only what is below
 * zero_from can. */
static void zero_block(char *p, const struct am_fresh *f)
{
	size_t u = am_tlsf_usable(p), dirty = u;
	if (f->zero_from && p >= f->zone_lo && p < f->zone_hi)
		dirty = f->zero_from <= p ? 0 : (size_t)(f->zero_from - p);
	memset(p, 0, dirty < u ? dirty : u);
}

static void *alloc_locked(struct am_tier *t, size_t n, size_t align, int zero)
{
	struct am_fresh fresh = {NULL, NULL, NULL};
	void *p = engine_alloc(t, n, align);
	/* the search rounds a request up to its class (< 1/32 more) */
	size_t need = n + (n >> 4) + align + 2 * AM_TLSF_MIN_BLOCK;
	/* a wait for another thread's growth is not a try of ours: that
	 * thread may take all it added, again and again while it grows */
	for (int tries = 0, waits = 0; !p && n <= AM_TLSF_MAX_BLOCK / 2 && tries < 3 && waits < GROW_WAITS;) {
		int grown = t->ops->grow(t, need, &fresh);
		if (grown < 0)
			break;
		tries += grown == 0, waits += grown == 1;
		p = engine_alloc(t, n, align);
	}
	if (!p) {
		__atomic_fetch_add(&t->failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	count_alloc(t, p);
	if (zero)
		zero_block(p, &fresh);
	return p;
}

static void report_bad_free(struct am_tier *t, const void *p)
{
	__atomic_fetch_add(&t->bad_frees, 1, __ATOMIC_RELAXED);
	am_log_once(&t->bad_free_logged, "%s: free of %p, which is not a live block; ignored (reported once)",
		    t->name, p);
}

static void free_locked(struct am_tier *t, void *p, struct am_release *rel)
{
	struct am_span s;
	if (!live_at(t, p, &s)) {
		report_bad_free(t, p);
		return;
	}
	am_bit_clear(s.bits, bit_index(&s, p));
	t->in_use -= am_tlsf_usable(p);
	t->live_blocks--;
	am_tlsf_free(&t->engine, p);
	t->ops->after_free(t, &s, rel);
}

static void *entered_alloc(struct am_tier *t, size_t n, size_t align, int zero)
{
	if (am_tier_enter(t)) {
		__atomic_fetch_add(&t->failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	void *p = alloc_locked(t, n, align, zero);
	am_tier_leave(t);
	return p;
}

void *am_palloc_malloc(struct am_tier *t, size_t n) { return entered_alloc(t, n, 0, 0); }

void *am_palloc_calloc(struct am_tier *t, size_t n, size_t m)
{
	size_t total;
	if (__builtin_mul_overflow(n, m, &total)) {
		__atomic_fetch_add(&t->failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return entered_alloc(t, total, 0, 1);
}

void *am_palloc_memalign(struct am_tier *t, size_t align, size_t n)
{
	if (align & (align - 1)) {
		__atomic_fetch_add(&t->failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return entered_alloc(t, n, align > AM_TLSF_ALIGN ? align : 0, 0);
}

static void defer_free(struct am_tier *t, void *p)
{
	for (unsigned i = 0; i < AM_DEFERRED_SLOTS; i++) {
		void *expect = NULL;
		if (__atomic_compare_exchange_n(&t->deferred[i], &expect, p, 0, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED)) {
			__atomic_store_n(&t->deferred_pending, 1, __ATOMIC_RELEASE);
			return;
		}
	}
	__atomic_fetch_add(&t->lost_frees, 1, __ATOMIC_RELAXED);
}

void am_palloc_free(struct am_tier *t, void *p)
{
	struct am_release rel = {0};
	if (!p)
		return;
	if (am_tier_enter(t)) {
		defer_free(t, p);
		return;
	}
	free_locked(t, p, &rel);
	am_tier_leave(t);
	if (rel.addr)
		am_palloc_unmap_hook(rel.addr, rel.len);
}

static void *realloc_locked(struct am_tier *t, void *p, size_t n, struct am_release *rel)
{
	struct am_span s;
	if (!live_at(t, p, &s)) {
		report_bad_free(t, p);
		return NULL;
	}
	size_t old = am_tlsf_usable(p);
	if (am_tlsf_resize(&t->engine, p, n)) {
		t->in_use = t->in_use - old + am_tlsf_usable(p);
		if (t->in_use > t->peak_in_use)
			t->peak_in_use = t->in_use;
		return p;
	}
	void *q = alloc_locked(t, n, 0, 0);
	if (q) {
		memcpy(q, p, old < n ? old : n);
		free_locked(t, p, rel);
	}
	return q;
}

void *am_palloc_realloc(struct am_tier *t, void *p, size_t n)
{
	struct am_release rel = {0};
	if (!p)
		return am_palloc_malloc(t, n);
	if (am_tier_enter(t)) {
		__atomic_fetch_add(&t->failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	void *q = realloc_locked(t, p, n, &rel);
	am_tier_leave(t);
	if (rel.addr)
		am_palloc_unmap_hook(rel.addr, rel.len);
	return q;
}

size_t am_palloc_usable_size(struct am_tier *t, const void *p)
{
	struct am_span s;
	size_t u = 0;
	if (!p || am_tier_enter(t))
		return 0;
	if (live_at(t, p, &s))
		u = am_tlsf_usable(p);
	am_tier_leave(t);
	return u;
}

static int owns_locked(struct am_tier *t, const void *p, void **base, size_t *size)
{
	struct am_span s;
	if (span_of(t, p, &s))
		return -1;
	*base = s.pool;
	*size = (size_t)(s.end - s.pool);
	long i = am_bit_find_prev(s.bits, bit_index(&s, p));
	if (i < 0)
		return 0;
	char *q = s.pool + (size_t)i * AM_TLSF_ALIGN;
	if ((const char *)p >= q + am_tlsf_usable(q))
		return 0;
	*base = q;
	*size = am_tlsf_usable(q);
	return 1;
}

int am_palloc_owns(struct am_tier *t, const void *p, void **base, size_t *size)
{
	*base = NULL;
	*size = 0;
	if (am_tier_enter(t)) {
		if (!t->base || (const char *)p < t->base || (const char *)p >= t->limit) /* no region to give */
			return -1;
		*base = t->base;
		*size = (size_t)(t->limit - t->base);
		return 0;
	}
	int r = owns_locked(t, p, base, size);
	am_tier_leave(t);
	if (r < 0)
		*base = NULL, *size = 0;
	return r;
}
