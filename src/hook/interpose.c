/* The malloc family, interposed: each call forwards to the real allocator
 * (forward.c) asking for AM_TRAILER more bytes, then records the chunk
 * (glibc's: fastpath.h, heapindex.c; another malloc's: foreign.c); frees
 * forget the chunk first. Semantics are the real allocator's (the
 * product promise: a program behaves as without the library): each call
 * goes to its own counterpart there — aligned_alloc and posix_memalign
 * too, whose rules can differ from memalign's — but those not every
 * malloc defines are made as glibc makes them: valloc and pvalloc from
 * its memalign, reallocarray from its realloc, __libc_memalign from its
 * memalign unless it is glibc's own (another malloc may call it to reach
 * glibc's, see there); realloc(p, 0) frees and returns NULL, as in glibc,
 * jemalloc and tcmalloc. A request too big to pad (over SIZE_MAX - 32, or
 * whose size overflows) goes to the real allocator as it stands, which
 * refuses it its own way (EINVAL before ENOMEM for a bad alignment with
 * glibc; errno untouched by jemalloc's realloc and memalign, tcmalloc's
 * calloc); a chunk it grants anyway (tcmalloc's memalign with an
 * alignment not a power of two) is handed out unindexed, as it would be
 * without the library. If no real allocator is found, calls fail with
 * ENOMEM.
 *
 * The hot path is malloc/free in glibc mode: one load of the mode, the
 * real call, and the inlined record/forget, and one test of am_live (the
 * live file's figures, livestats.h: counted out of line when on). Everything else — the first
 * call (which may come before allocmap's constructor, and initialises the
 * library, which allocates nothing from the program's malloc), another
 * allocator, sizes that would overflow — takes the slow path.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "../init.h"
#include "../heap/fastpath.h"
#include "../heap/heap.h"
#include "../heap/livestats.h"
#include "hook.h"

#define API __attribute__((visibility("default")))
#define SITE __builtin_return_address(0)
#define LIKELY(c) __builtin_expect(!!(c), 1)

API void cfree(void *p);
API void *__libc_memalign(size_t align, size_t n);

/* The mode is stored last when resolved (forward.c): once it is seen,
 * am_real is. */
static inline enum am_heap_mode mode(void) { return __atomic_load_n(&am_heap_mode, __ATOMIC_ACQUIRE); }
static inline int glibc(void) { return mode() == AM_HEAP_GLIBC; }

static int ready(void)
{
	if (LIKELY(mode() != AM_HEAP_UNRESOLVED))
		return am_real.malloc != NULL;
	am_init_once();
	am_hook_resolve_malloc();
	return am_real.malloc != NULL;
}

static void *too_big(void)
{
	errno = ENOMEM;
	return NULL;
}

/* The bytes to ask the real allocator for n, in an indexed mode: n and
 * the trailer (padded to units for a foreign one); 0 if too big. */
static size_t padded(size_t n)
{
	if (n > SIZE_MAX - 32)
		return 0;
	return glibc() ? n + AM_TRAILER : am_foreign_request(n);
}

/* p (or NULL) just came from the real allocator for n bytes at site
 * (with stacks, the trailer keeps the stack's key: livestats.h). */
static inline __attribute__((always_inline)) void *record(void *p, size_t n, const void *site)
{
	if (p) {
		if (am_live_on())
			site = am_live_alloc(p, n, site);
		am_heap_record_fast(p, n, site);
	}
	return p;
}

/* Glibc chunk p, recorded, goes back (temp_ok: see am_live_free). */
static inline __attribute__((always_inline)) void forget_glibc(void *p, int temp_ok)
{
	if (am_live_on()) {
		const void *site;
		size_t n = am_live_glibc_request(p, &site);
		am_live_free(p, n, site, temp_ok);
	}
	am_heap_forget_fast(p);
}

/* Another malloc's chunk p goes back. */
static void forget_foreign(void *p, int temp_ok)
{
	size_t e = am_foreign_forget(p);
	if (e && am_live_on()) {
		const void *site;
		size_t n = am_live_foreign_request(p, e, &site);
		am_live_free(p, n, site, temp_ok);
	}
}

/* The slow paths dispatch on the mode read once: it can turn to
 * AM_HEAP_FORWARD (allocmap switched off) at any time, and then nothing is
 * recorded any more. */
static void *keep(void *p, size_t n, const void *site)
{
	enum am_heap_mode m = mode();
	if (m == AM_HEAP_GLIBC)
		return record(p, n, site);
	if (p && m == AM_HEAP_FOREIGN) {
		if (am_live_on())
			site = am_live_alloc(p, n, site);
		am_foreign_record(p, n, site);
	}
	return p;
}

/* p goes back to the real allocator. */
static void drop(void *p)
{
	enum am_heap_mode m = mode();
	if (m == AM_HEAP_GLIBC)
		forget_glibc(p, 1);
	else if (m == AM_HEAP_FOREIGN)
		forget_foreign(p, 1);
}

static size_t usable(void *p)
{
	enum am_heap_mode m = mode();
	if (m == AM_HEAP_GLIBC)
		return am_heap_usable(p);
	if (m == AM_HEAP_FOREIGN)
		return am_foreign_usable(p);
	return am_real.usable ? am_real.usable(p) : 0;
}

__attribute__((noinline)) static void *alloc_slow(size_t n, const void *site)
{
	if (!ready())
		return too_big();
	if (!am_heap_indexed(am_heap_mode))
		return am_real.malloc(n);
	size_t m = padded(n);
	return m ? keep(am_real.malloc(m), n, site) : am_real.malloc(n);
}

static inline void *alloc(size_t n, const void *site)
{
	if (LIKELY(glibc() && n <= SIZE_MAX - AM_TRAILER))
		return record(am_real.malloc(n + AM_TRAILER), n, site);
	return alloc_slow(n, site);
}

API void *malloc(size_t n) { return alloc(n, SITE); }

void *am_malloc_at(size_t n, const void *site) { return alloc(n, site); }

void am_resite(void *p, const void *site)
{
	if (p && mode() == AM_HEAP_GLIBC)
		am_heap_resite(p, site);
}

__attribute__((noinline)) static void free_slow(void *p)
{
	if (!p || !ready())
		return;
	drop(p);
	am_real.free(p);
}

API void free(void *p)
{
	if (!LIKELY(glibc())) {
		free_slow(p);
		return;
	}
	if (p)
		forget_glibc(p, 1);
	am_real.free(p);
}

API void cfree(void *p) { free(p); }

API void *calloc(size_t n, size_t m)
{
	size_t total, k;
	if (!ready())
		return too_big();
	if (!am_heap_indexed(am_heap_mode) || __builtin_mul_overflow(n, m, &total) || !(k = padded(total)))
		return am_real.calloc(n, m);
	return keep(am_real.calloc(1, k), total, SITE);
}

/* realloc of a glibc chunk to n (checked) bytes: only its trailer
 * changes where glibc would leave the chunk as it is (fastpath.h);
 * otherwise its bit is cleared first, as glibc may free p and another
 * thread reuse it, and an mmapped chunk, which glibc may resize in place,
 * is untagged. */
static inline __attribute__((always_inline)) void *resize_glibc(void *p, size_t n, const void *site)
{
	int untagged = 0;
	const void *old_site = NULL;
	int live = am_live_on();
	if (!live && am_heap_resize_in_place(p, n, site))
		return p;
	size_t old_n = live ? am_live_glibc_request(p, &old_site) : 0;
	if (__builtin_expect(am_chunk_mmapped(am_chunk_word(p)), 0))
		untagged = am_heap_untag_mmapped(p);
	else
		am_heap_forget_fast(p);
	void *q = am_real.realloc(p, n + AM_TRAILER);
	if (!q) {
		am_heap_relive(p, untagged); /* still the caller's, as it was */
		return NULL;
	}
	if (live)
		am_live_free(p, old_n, old_site, 0);
	return record(q, n, site);
}

static void *resize_foreign(void *p, size_t n, size_t m, const void *site)
{
	const void *old_site = NULL;
	int live = am_live_on();
	size_t old = am_foreign_forget(p);
	size_t old_n = old && live ? am_live_foreign_request(p, old, &old_site) : 0;
	void *q = am_real.realloc(p, m);
	if (q && old && live)
		am_live_free(p, old_n, old_site, 0);
	if (q) {
		if (live)
			site = am_live_alloc(q, n, site);
		am_foreign_record(q, n, site);
	}
	else if (old) /* still the caller's, as it was */
		am_foreign_relive(p, old);
	return q;
}

__attribute__((noinline)) static void *resize_slow(void *p, size_t n, const void *site)
{
	if (!ready())
		return too_big();
	enum am_heap_mode mo = mode(); /* once: see keep() */
	if (!am_heap_indexed(mo))
		return am_real.realloc(p, n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	size_t m = padded(n);
	if (!m) /* p stays recorded: every allocator refuses this much */
		return am_real.realloc(p, n);
	return mo == AM_HEAP_GLIBC ? resize_glibc(p, n, site) : resize_foreign(p, n, m, site);
}

static void *resize(void *p, size_t n, const void *site)
{
	if (!p)
		return alloc(n, site);
	if (LIKELY(glibc() && n - 1 < SIZE_MAX - 32)) /* neither 0 nor too big */
		return resize_glibc(p, n, site);
	return resize_slow(p, n, site);
}

API void *realloc(void *p, size_t n) { return resize(p, n, SITE); }

API void *reallocarray(void *p, size_t n, size_t m)
{
	size_t total;
	if (__builtin_mul_overflow(n, m, &total))
		return too_big();
	return resize(p, total, SITE);
}

/* n bytes (at least `ask`, which is n or more) aligned to align, by the
 * real allocator's aligned_alloc if `c11` (its rules may differ: jemalloc
 * sets errno where its memalign does not), else its memalign. */
static void *aligned(size_t align, size_t ask, size_t n, int c11, const void *site)
{
	if (!ready())
		return too_big();
	void *(*real)(size_t, size_t) = c11 ? am_real.aligned_alloc : am_real.memalign;
	size_t m = am_heap_indexed(am_heap_mode) ? padded(ask) : 0;
	return m ? keep(real(align, m), n, site) : real(align, ask);
}

API void *memalign(size_t align, size_t n) { return aligned(align, n, n, 0, SITE); }

void *am_memalign_at(size_t align, size_t n, const void *site) { return aligned(align, n, n, 0, site); }

/* glibc's internal name, which a malloc wrapping glibc's calls to reach it
 * (malloc_debug's memalign): unless the real malloc is glibc's, or defines
 * __libc_memalign itself (tcmalloc), ours would call that malloc's
 * memalign, which would call ours again, forever. So then it is glibc's,
 * as without the library (its chunks go unindexed). */
API void *__libc_memalign(size_t align, size_t n)
{
	if (ready() && mode() != AM_HEAP_GLIBC && am_real.glibc_memalign)
		return am_real.glibc_memalign(align, n);
	return aligned(align, n, n, 0, SITE);
}

API void *aligned_alloc(size_t align, size_t n) { return aligned(align, n, n, 1, SITE); }

/* The real allocator's own, for its rules: which alignments it refuses,
 * errno, and *out on failure (malloc_debug's stores NULL there). */
API int posix_memalign(void **out, size_t align, size_t n)
{
	if (!ready())
		return ENOMEM;
	size_t m = am_heap_indexed(am_heap_mode) ? padded(n) : 0;
	if (!m)
		return am_real.posix_memalign(out, align, n);
	int rc = am_real.posix_memalign(out, align, m);
	if (rc == 0)
		keep(*out, n, SITE);
	return rc;
}

API void *valloc(size_t n) { return aligned((size_t)getpagesize(), n, n, 0, SITE); }

API void *pvalloc(size_t n)
{
	size_t page = (size_t)getpagesize();
	if (n > SIZE_MAX - page)
		return too_big();
	/* the request is n; another malloc's chunk is recorded with the
	 * extent asked for, and pvalloc's usable size is whole pages */
	size_t ask = (n + page - 1) & ~(page - 1);
	return aligned(page, ask, mode() == AM_HEAP_FOREIGN ? ask : n, 0, SITE);
}

API size_t malloc_usable_size(void *p)
{
	return p && ready() ? usable(p) : 0;
}
