/* The heap's figures in the live file: see livestats.h for what is
 * counted, when, and the bound on the peak copy's error. */
#include <sys/single_threaded.h>
#include <time.h>

#include "../sys/syscall.h"
#include "chunk.h"
#include "fastpath.h"
#include "heapmeta.h"
#include "livestats.h"

struct allocmap_live *am_live;
/* The last chunk this thread allocated while the live file was on. */
static __thread const void *last_alloc;

/* Adds v to counter *w: one whole store either way (livestats.h). */
static inline uint64_t bump(uint64_t *w, uint64_t v)
{
	if (__libc_single_threaded) {
		uint64_t x = __atomic_load_n(w, __ATOMIC_RELAXED) + v;
		__atomic_store_n(w, x, __ATOMIC_RELAXED);
		return x;
	}
	return __atomic_add_fetch(w, v, __ATOMIC_RELAXED);
}

static void copy_live(struct allocmap_live_site *row)
{
	__atomic_store_n(&row->peak_bytes, __atomic_load_n(&row->live_bytes, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

static void snapshot(struct allocmap_live *L)
{
	am_site_each(L, copy_live);
	uint64_t now = am_sys_clock_ns(CLOCK_MONOTONIC);
	__atomic_store_n(&L->heap.peak_ns, now - L->process.start_monotonic_ns, __ATOMIC_RELAXED);
}

static uint64_t margin(uint64_t snap)
{
	return snap / 64 > AM_PEAK_MARGIN_MIN ? snap / 64 : AM_PEAK_MARGIN_MIN;
}

/* live bytes (with `chunks` chunks) may be a new peak. */
__attribute__((noinline)) static void new_peak(struct allocmap_live *L, uint64_t live, uint64_t chunks)
{
	struct allocmap_live_heap *h = &L->heap;
	uint64_t peak = __atomic_load_n(&h->peak_bytes, __ATOMIC_RELAXED);
	do {
		if (live <= peak)
			return;
	} while (!__atomic_compare_exchange_n(&h->peak_bytes, &peak, live, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	__atomic_store_n(&h->peak_chunks, chunks, __ATOMIC_RELAXED);
	uint64_t snap = __atomic_load_n(&h->peak_snap_bytes, __ATOMIC_RELAXED);
	if (live - snap >= margin(snap) &&
	    __atomic_compare_exchange_n(&h->peak_snap_bytes, &snap, live, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		snapshot(L);
}

const void *am_live_alloc(const void *p, size_t n, const void *site)
{
	struct allocmap_live *L = am_live;
	struct allocmap_live_site *row =
		__builtin_expect(L->header.stack_depth != 0, 0) ? am_stack_row(L, &site) : am_site_row(L, site, 1);
	last_alloc = p;
	if (row == &L->site[0] && (uintptr_t)site != 0)
		bump(&L->heap.site_overflow, 1);
	bump(&row->calls, 1);
	bump(&row->total_bytes, n);
	bump(&row->live_bytes, n);
	bump(&row->live_count, 1);
	bump(&L->heap.calls, 1);
	bump(&L->heap.total_bytes, n);
	uint64_t chunks = bump(&L->heap.live_chunks, 1);
	uint64_t live = bump(&L->heap.live_bytes, n);
	if (live > __atomic_load_n(&L->heap.peak_bytes, __ATOMIC_RELAXED))
		new_peak(L, live, chunks);
	return site;
}

void am_live_free(const void *p, size_t n, const void *site, int temp_ok)
{
	struct allocmap_live *L = am_live;
	struct allocmap_live_site *row = am_site_row(L, site, 0);
	int temp = temp_ok && p == last_alloc;
	if (temp) {
		last_alloc = NULL;
		bump(&row->temporary, 1);
		bump(&L->heap.temporary, 1);
	}
	bump(&row->live_bytes, -(uint64_t)n);
	bump(&row->live_count, -(uint64_t)1);
	bump(&L->heap.frees, 1);
	bump(&L->heap.live_chunks, -(uint64_t)1);
	bump(&L->heap.live_bytes, -(uint64_t)n);
}

size_t am_live_glibc_request(const void *p, const void **site)
{
	size_t tpos = am_chunk_usable(am_chunk_word(p)) - AM_TRAILER;
	uint64_t t = *(const uint64_t *)((const char *)p + tpos);
	size_t slack = (size_t)(t >> 48), size = am_visible_size(tpos, t);
	*site = am_trailer_site(t);
	if (slack == AM_SLACK_BIG)
		return *(const size_t *)((const char *)p + tpos - 8);
	return slack != SLACK_UNKNOWN && slack <= size ? size - slack : size;
}

size_t am_live_foreign_request(const void *p, size_t extent, const void **site)
{
	uint64_t t = *(const uint64_t *)((const char *)p + extent - AM_TRAILER);
	long slack = am_foreign_slack(t, (uintptr_t)p, extent);
	*site = am_trailer_site(t);
	return extent - AM_TRAILER - (slack >= 0 ? (size_t)slack : 0);
}

static void add_row(struct allocmap_live_site *row, size_t n, uint64_t sign)
{
	bump(&row->calls, sign);
	bump(&row->total_bytes, n * sign);
	bump(&row->live_bytes, n * sign);
	bump(&row->live_count, sign);
}

void am_live_move(size_t n, const void *from, const void *to)
{
	struct allocmap_live *L = am_live;
	add_row(am_site_row(L, from, 0), n, -(uint64_t)1);
	add_row(am_site_row(L, to, 1), n, 1);
}

void am_live_final_peak(void)
{
	struct allocmap_live *L = am_live;
	if (!L)
		return;
	uint64_t live = __atomic_load_n(&L->heap.live_bytes, __ATOMIC_RELAXED);
	uint64_t snap = __atomic_load_n(&L->heap.peak_snap_bytes, __ATOMIC_RELAXED);
	if (live > snap &&
	    __atomic_compare_exchange_n(&L->heap.peak_snap_bytes, &snap, live, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		snapshot(L);
}

void am_live_attach(struct allocmap_live *L, int fresh)
{
	if (fresh)
		am_site_reset();
	__atomic_store_n(&am_live, L, __ATOMIC_RELEASE);
}
