/* Unit tests of the touched-pages filter of the leak scan's roots
 * (src/leak/touched.c): on a private anonymous map with known pages
 * written, across pagemap batches, the runs given are exactly the
 * written pages (a range's partial first and last pages kept as parts);
 * a page given back with MADV_DONTNEED is skipped again; without
 * pagemap the whole range is given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/mman.h>

#include "../../src/leak/leak.h"
#include "../../src/sys/syscall.h"

#define PAGE 4096ul
#define NPAGES 600 /* more than two batches of pagemap entries */

struct runs {
	uintptr_t lo[NPAGES], hi[NPAGES];
	int n;
};

static void collect(uintptr_t lo, uintptr_t hi, void *arg)
{
	struct runs *r = arg;
	assert_true(r->n < NPAGES);
	r->lo[r->n] = lo, r->hi[r->n++] = hi;
}

static char *map_with(const int *touched, int n)
{
	char *m = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	for (int i = 0; i < n; i++)
		m[touched[i] * PAGE + 8] = 1;
	return m;
}

static void expect_run(const struct runs *r, int k, uintptr_t lo, uintptr_t hi)
{
	assert_true(k < r->n);
	assert_int_equal(r->lo[k], lo);
	assert_int_equal(r->hi[k], hi);
}

static void test_touched_pages_only(void **state)
{
	(void)state;
	static const int pages[] = {0, 1, 5, 255, 256, 257, 511, 512, 599};
	char *m = map_with(pages, sizeof pages / sizeof *pages);
	uintptr_t b = (uintptr_t)m, lo = b + 100, hi = b + NPAGES * PAGE - 8;
	struct runs r = {.n = 0};
	int fd = am_leak_pagemap_open();
	assert_true(fd >= 0);
	am_leak_touched_each(fd, lo, hi, collect, &r);
	assert_int_equal(r.n, 5);
	expect_run(&r, 0, lo, b + 2 * PAGE);
	expect_run(&r, 1, b + 5 * PAGE, b + 6 * PAGE);
	expect_run(&r, 2, b + 255 * PAGE, b + 258 * PAGE);
	expect_run(&r, 3, b + 511 * PAGE, b + 513 * PAGE);
	expect_run(&r, 4, b + 599 * PAGE, hi);
	assert_int_equal(madvise(m + 5 * PAGE, PAGE, MADV_DONTNEED), 0);
	r.n = 0;
	am_leak_touched_each(fd, lo, hi, collect, &r);
	assert_int_equal(r.n, 4);
	expect_run(&r, 1, b + 255 * PAGE, b + 258 * PAGE);
	am_sys_close(fd);
	munmap(m, NPAGES * PAGE);
}

static void test_untouched_range_gives_nothing(void **state)
{
	(void)state;
	char *m = map_with(NULL, 0);
	struct runs r = {.n = 0};
	int fd = am_leak_pagemap_open();
	am_leak_touched_each(fd, (uintptr_t)m, (uintptr_t)m + NPAGES * PAGE, collect, &r);
	assert_int_equal(r.n, 0);
	am_sys_close(fd);
	munmap(m, NPAGES * PAGE);
}

static void test_without_pagemap_everything(void **state)
{
	(void)state;
	char *m = map_with(NULL, 0);
	uintptr_t lo = (uintptr_t)m + 24, hi = (uintptr_t)m + NPAGES * PAGE;
	struct runs r = {.n = 0};
	am_leak_touched_each(-1, lo, hi, collect, &r);
	assert_int_equal(r.n, 1);
	expect_run(&r, 0, lo, hi);
	munmap(m, NPAGES * PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_touched_pages_only),
		cmocka_unit_test(test_untouched_range_gives_nothing),
		cmocka_unit_test(test_without_pagemap_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
