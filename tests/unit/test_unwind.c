/* Unit tests of the unwinder (src/sys/unwind.c, cfi.c): a known chain of
 * calls, compiled without frame pointers (the tests' -O1), unwound by
 * CFI from the innermost call's return address; on the main thread and
 * on a thread's own stack; the frame limit; a stack top just above the
 * caller that stops the walk safely; the pc cache serving the second
 * walk; a first frame not on the stack; walks in turn through other
 * frames at the same stack offsets (the replay of the last walk).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/sys/unwind.h"

#define NOINL __attribute__((noinline))

static uintptr_t want[4];  /* return addresses of the chain, innermost first */
static uintptr_t got[AM_UNWIND_MAX];
static int ngot, limit = 8;
static uintptr_t top;      /* the stack top the walk is given */
static volatile int sink;

/* The top of the stack holding the local at a, from /proc/self/maps. */
static uintptr_t stack_top(const void *a)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi, found = 0;
	char line[512];
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)a >= lo && (uintptr_t)a < hi)
			found = hi;
	if (f)
		fclose(f);
	return (uintptr_t)found;
}

NOINL static void leaf(void)
{
	want[0] = (uintptr_t)__builtin_return_address(0);
	char probe;
	uintptr_t hi = top ? top : stack_top(&probe);
	ngot = am_unwind(got, limit, want[0], hi);
	sink++;
}

NOINL static void middle(int k)
{
	char pad[64];
	memset(pad, k, sizeof pad);
	want[1] = (uintptr_t)__builtin_return_address(0);
	leaf();
	sink += pad[k & 63];
}

NOINL static void outer(int k)
{
	volatile char big[300] = {0}; /* read below: defined for valgrind */
	big[k % 300] = 1;
	want[2] = (uintptr_t)__builtin_return_address(0);
	middle(k + big[0]);
	sink++;
}

/* The same chain entered through another function: the frames above
 * leaf differ from run_chain's at the same depths. */
NOINL static void outer2(int k)
{
	volatile char big[300] = {0}; /* read below: defined for valgrind */
	big[k % 300] = 2;
	want[2] = (uintptr_t)__builtin_return_address(0);
	middle(k + big[1]);
	sink += 2;
}

NOINL static void recurse(int d)
{
	if (d == 0) {
		top = 0;
		want[3] = (uintptr_t)__builtin_return_address(0);
		middle(1);
	} else {
		recurse(d - 1);
	}
	sink++;
}

static void run_chain(void)
{
	memset(got, 0, sizeof got);
	outer(3);
	sink++;
}

static void chain(void **state)
{
	(void)state;
	top = 0;
	run_chain();
	assert_true(ngot >= 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i], want[i]);
}

static void cached(void **state)
{
	(void)state;
	struct am_unwind_stats a, b;
	top = 0;
	for (volatile int i = 0; i < 2; i++) { /* one call site: the same frames twice */
		run_chain();
		if (i == 0)
			am_unwind_stats(&a);
	}
	am_unwind_stats(&b);
	assert_int_equal(a.misses, b.misses);
	assert_int_equal(got[1], want[1]);
}

static void limited(void **state)
{
	(void)state;
	top = 0;
	limit = 2;
	run_chain();
	limit = 8;
	assert_int_equal(ngot, 2);
	assert_int_equal(got[1], want[1]);
}

/* A stack top just above leaf's caller's frame: the walk stops there,
 * reading nothing above it. */
static void bounded(void **state)
{
	(void)state;
	char here;
	top = ((uintptr_t)&here - 256) & ~(uintptr_t)7;
	run_chain();
	top = 0;
	assert_true(ngot >= 1 && ngot < 4);
	assert_int_equal(got[0], want[0]);
}

static void *on_thread(void *arg)
{
	(void)arg;
	top = 0;
	run_chain();
	return NULL;
}

static void thread_stack(void **state)
{
	(void)state;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, on_thread, NULL), 0);
	pthread_join(t, NULL);
	assert_true(ngot >= 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i], want[i]);
}

/* Walks that follow each other with other frames at the same places
 * (the thread's last walk is replayed where its return addresses still
 * stand): each gives its own frames. */
static void alternating(void **state)
{
	(void)state;
	top = 0;
	for (volatile int i = 0; i < 6; i++) {
		memset(got, 0, sizeof got);
		if (i % 2)
			outer2(5);
		else
			outer(3);
		assert_true(ngot >= 3);
		for (int k = 0; k < 3; k++)
			assert_int_equal(got[k], want[k]);
	}
	for (volatile int d = 0; d < 12; d += 1 + d % 3) {
		recurse(d);
		assert_int_equal(got[1], want[1]);
		assert_int_equal(got[2], want[3]);
	}
}

/* A first frame that is not on the stack gives that frame alone. */
static void absent(void **state)
{
	(void)state;
	char probe;
	uintptr_t out[4];
	assert_int_equal(am_unwind(out, 4, 0x1234, stack_top(&probe)), 1);
	assert_int_equal(out[0], 0x1234);
}

static int setup(void **state)
{
	(void)state;
	am_unwind_refresh();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chain),   cmocka_unit_test(cached),       cmocka_unit_test(limited),
		cmocka_unit_test(bounded), cmocka_unit_test(thread_stack), cmocka_unit_test(absent),
		cmocka_unit_test(alternating),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
