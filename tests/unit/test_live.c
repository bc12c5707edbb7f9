/* Unit tests of the live file's site table and heap figures
 * (src/heap/sitetab.c, livestats.c) on a live file in plain memory, and
 * of the layout's contract (include/allocmap_live.h): offsets a reader
 * relies on, row 0 as "other", overflow, the peak copy's margin, and
 * temporary allocations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "../../include/allocmap_live.h"
#include "../../src/heap/livestats.h"

static struct allocmap_live *fresh(void)
{
	struct allocmap_live *L = calloc(1, sizeof *L);
	assert_non_null(L);
	am_live_attach(L, 1);
	return L;
}

static void done(struct allocmap_live *L)
{
	am_live_attach(NULL, 0);
	free(L);
}

static void layout(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct allocmap_live, header), 0);
	assert_int_equal(offsetof(struct allocmap_live_header, seq), 12);
	assert_int_equal(offsetof(struct allocmap_live, site) % 64, 0);
	assert_int_equal(offsetof(struct allocmap_live, heap) % 8, 0);
	assert_true(sizeof(struct allocmap_live) < (2u << 20));
}

static void rows(void **state)
{
	(void)state;
	struct allocmap_live *L = fresh();
	const void *a = (const void *)0x401234, *b = (const void *)0x405678;
	struct allocmap_live_site *ra = am_site_row(L, a, 1), *rb = am_site_row(L, b, 1);
	assert_ptr_not_equal(ra, &L->site[0]);
	assert_ptr_not_equal(ra, rb);
	assert_ptr_equal(am_site_row(L, a, 0), ra);
	assert_int_equal(ra->site, (uintptr_t)a);
	assert_ptr_equal(am_site_row(L, (const void *)0x999, 0), &L->site[0]); /* absent, not inserted */
	assert_ptr_equal(am_site_row(L, NULL, 1), &L->site[0]);
	done(L);
}

/* Sites hashed to one cluster fill AM_SITE_PROBES rows; the next goes to
 * "other", for its allocation and its free alike. */
static void overflow(void **state)
{
	(void)state;
	struct allocmap_live *L = fresh();
	int placed = 0, other = 0;
	for (uintptr_t s = 1; s < 200000 && other == 0; s++) {
		struct allocmap_live_site *r = am_site_row(L, (const void *)(s * 16), 1);
		other += r == &L->site[0];
		placed += r != &L->site[0];
	}
	assert_true(other == 1);
	assert_true(placed >= AM_SITE_PROBES);
	done(L);
}

static void counts(void **state)
{
	(void)state;
	struct allocmap_live *L = fresh();
	const void *s = (const void *)0x401000;
	char chunk[2][16];
	am_live_alloc(chunk[0], 100, s);
	am_live_alloc(chunk[1], 50, s);
	am_live_free(chunk[1], 50, s, 1); /* the last of this thread's: temporary */
	am_live_free(chunk[0], 100, s, 1); /* not the last any more */
	struct allocmap_live_site *r = am_site_row(L, s, 0);
	assert_int_equal(r->calls, 2);
	assert_int_equal(r->total_bytes, 150);
	assert_int_equal(r->live_bytes, 0);
	assert_int_equal(r->temporary, 1);
	assert_int_equal(L->heap.peak_bytes, 150);
	assert_int_equal(L->heap.temporary, 1);
	assert_int_equal(L->heap.frees, 2);
	done(L);
}

/* The sites' copy at the peak lags the peak by less than the margin;
 * the final copy catches up when the end is the peak. */
static void peak_copy(void **state)
{
	(void)state;
	struct allocmap_live *L = fresh();
	const void *s = (const void *)0x402000;
	char c;
	for (int i = 0; i < 1000; i++)
		am_live_alloc(&c, 1024, s);
	uint64_t peak = L->heap.peak_bytes, snap = L->heap.peak_snap_bytes;
	assert_int_equal(peak, 1024000);
	assert_true(peak - snap < peak / 64 + AM_PEAK_MARGIN_MIN);
	assert_int_equal(am_site_row(L, s, 0)->peak_bytes, snap);
	am_live_final_peak();
	assert_int_equal(am_site_row(L, s, 0)->peak_bytes, peak);
	done(L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout), cmocka_unit_test(rows), cmocka_unit_test(overflow),
		cmocka_unit_test(counts), cmocka_unit_test(peak_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
