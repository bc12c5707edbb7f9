/* Unit tests of the private allocator's two tiers: alignment, calloc,
 * realloc, coalescing and trimming, exhaustion, "no mmap after init",
 * bad frees, re-entry from a handler, meta-completeness, a concurrent
 * stress with pattern checks, and use in a forked child.
 * ALLOCMAP_TEST_SCALE (default 1) scales the stress (valgrind runs 0.02).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/palloc/palloc.h"
#include "../../src/palloc/tier.h"
#include "../../src/sys/syscall.h"

static struct am_tier nommap, mmapt;

static double scale(void)
{
	const char *s = getenv("ALLOCMAP_TEST_SCALE");
	double v = s ? atof(s) : 1.0;
	return v > 0 ? v : 1.0;
}

static int setup_both(void **state)
{
	(void)state;
	if (am_nommap_init(&nommap, (size_t)64 << 20) != 0)
		return -1;
	am_mmaptier_init(&mmapt);
	return 0;
}

static int teardown_both(void **state)
{
	(void)state;
	assert_int_equal(am_palloc_validate(&nommap), 0);
	assert_int_equal(am_palloc_validate(&mmapt), 0);
	am_tier_destroy(&nommap);
	am_tier_destroy(&mmapt);
	return 0;
}

/* Both tiers, so every test body runs on each. */
static struct am_tier *tiers[] = {&nommap, &mmapt};
#define EACH_TIER(t) for (struct am_tier **tp = tiers, *t; tp < tiers + 2 && (t = *tp); tp++)

static void test_alignment(void **state)
{
	(void)state;
	EACH_TIER(t)
	{
		void *ps[200];
		for (int i = 0; i < 200; i++) {
			size_t n = (size_t)(i * 37 % 5000);
			ps[i] = am_palloc_malloc(t, n);
			assert_non_null(ps[i]);
			assert_int_equal((uintptr_t)ps[i] % 16, 0);
			assert_true(am_palloc_usable_size(t, ps[i]) >= n);
		}
		for (size_t align = 32; align <= 65536; align *= 2) {
			void *p = am_palloc_memalign(t, align, 100);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % align, 0);
			memset(p, 1, 100);
			am_palloc_free(t, p);
		}
		assert_null(am_palloc_memalign(t, 48, 10)); /* not a power of two */
		for (int i = 0; i < 200; i++)
			am_palloc_free(t, ps[i]);
		assert_int_equal(am_palloc_validate(t), 0);
	}
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_calloc_zero_after_reuse(void **state)
{
	(void)state;
	EACH_TIER(t)
	{
		for (size_t n = 1; n < 300000; n = n * 3 + 1) {
			unsigned char *p = am_palloc_malloc(t, n);
			memset(p, 0xAA, am_palloc_usable_size(t, p));
			am_palloc_free(t, p);
			unsigned char *q = am_palloc_calloc(t, 1, n);
			assert_non_null(q);
			assert_true(all_zero(q, am_palloc_usable_size(t, q)));
			memset(q, 0x55, n);
			am_palloc_free(t, q);
		}
		size_t big = (size_t)1 << 40;
		assert_null(am_palloc_calloc(t, big, big)); /* overflow */
	}
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static int filled(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

static void test_realloc_cases(void **state)
{
	(void)state;
	EACH_TIER(t)
	{
		unsigned char *p = am_palloc_malloc(t, 100);
		fill(p, 100, 3);
		/* shrink: in place, content kept */
		unsigned char *q = am_palloc_realloc(t, p, 40);
		assert_ptr_equal(p, q);
		assert_true(filled(q, 40, 3));
		/* grow into the free neighbour: in place */
		q = am_palloc_realloc(t, q, 2000);
		assert_ptr_equal(p, q);
		assert_true(filled(q, 40, 3));
		/* block the neighbour, then grow: must move, content kept */
		fill(q, 2000, 9);
		void *wall = am_palloc_malloc(t, 64);
		size_t u = am_palloc_usable_size(t, q);
		void *after = (char *)q + u + 16;
		int wall_adjacent = wall == after;
		unsigned char *r = am_palloc_realloc(t, q, 100000);
		assert_non_null(r);
		if (wall_adjacent)
			assert_ptr_not_equal(r, q);
		assert_true(filled(r, 2000, 9));
		assert_int_equal(am_palloc_usable_size(t, q), r == q ? am_palloc_usable_size(t, r) : 0);
		am_palloc_free(t, wall);
		am_palloc_free(t, r);
		assert_int_equal(am_palloc_validate(t), 0);
	}
}

static void test_coalesce_and_trim(void **state)
{
	(void)state;
	void *ps[5000];
	for (int i = 0; i < 5000; i++)
		ps[i] = am_palloc_malloc(&nommap, (size_t)(i % 700) + 1);
	struct allocmap_tier_stats st;
	am_palloc_stats(&nommap, &st);
	assert_true(st.footprint > ((size_t)1 << 20));
	assert_true(st.resident > 0);
	/* free in an interleaved order so every merge case happens */
	for (int i = 0; i < 5000; i += 2)
		am_palloc_free(&nommap, ps[i]);
	assert_int_equal(am_palloc_validate(&nommap), 0);
	for (int i = 4999; i >= 1; i -= 2)
		am_palloc_free(&nommap, ps[i]);
	am_palloc_stats(&nommap, &st);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.live_blocks, 0);
	am_palloc_trim(&nommap);
	am_palloc_stats(&nommap, &st);
	assert_int_equal(st.footprint, 0); /* the break is back at the pool start */
	assert_true(st.resident < ((size_t)64 << 10));
	assert_int_equal(am_palloc_validate(&nommap), 0);
}

static void test_mmap_tier_returns_chunks(void **state)
{
	(void)state;
	void *small = am_palloc_malloc(&mmapt, 100);
	uint64_t unmaps = am_sys_count(AM_SC_MUNMAP);
	void *big[4];
	for (int i = 0; i < 4; i++)
		assert_non_null(big[i] = am_palloc_malloc(&mmapt, (size_t)3 << 20));
	struct allocmap_tier_stats st;
	am_palloc_stats(&mmapt, &st);
	assert_true(st.footprint >= ((size_t)12 << 20));
	for (int i = 0; i < 4; i++)
		am_palloc_free(&mmapt, big[i]);
	am_palloc_stats(&mmapt, &st);
	assert_true(am_sys_count(AM_SC_MUNMAP) >= unmaps + 3);
	/* the first small chunk, and one emptied chunk kept as a spare */
	assert_true(st.footprint <= ((size_t)5 << 20));
	am_palloc_free(&mmapt, small);
	am_palloc_stats(&mmapt, &st);
	assert_int_equal(st.in_use, 0);
}

static void test_exhaustion(void **state)
{
	(void)state;
	static struct am_tier small;
	assert_int_equal(am_nommap_init(&small, (size_t)1 << 20), 0);
	void *ps[20000];
	int n = 0;
	while (n < 20000 && (ps[n] = am_palloc_malloc(&small, 200)))
		n++;
	assert_true(n > 1000 && n < 20000);
	struct allocmap_tier_stats st;
	am_palloc_stats(&small, &st);
	assert_int_equal(st.failed, 1);
	assert_null(am_palloc_malloc(&small, 200));
	assert_null(am_palloc_malloc(&small, (size_t)2 << 20));
	for (int i = 0; i < n; i += 2)
		am_palloc_free(&small, ps[i]);
	for (int i = 0; i < n / 2; i++)
		assert_non_null(ps[2 * i] = am_palloc_malloc(&small, 150));
	for (int i = 0; i < n; i++)
		am_palloc_free(&small, ps[i]);
	am_palloc_stats(&small, &st);
	assert_int_equal(st.failed, 3);
	assert_int_equal(st.live_blocks, 0);
	assert_int_equal(am_palloc_validate(&small), 0);
	am_tier_destroy(&small);
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void test_no_mmap_after_init(void **state)
{
	(void)state;
	uint64_t before[3] = {am_sys_count(AM_SC_MMAP), am_sys_count(AM_SC_MUNMAP),
			      am_sys_count(AM_SC_MREMAP)};
	static void *ps[4096];
	unsigned s = 1;
	for (int i = 0; i < 200000; i++) {
		unsigned k = rnd(&s) % 4096;
		if (ps[k]) {
			am_palloc_free(&nommap, ps[k]);
			ps[k] = NULL;
		} else {
			ps[k] = rnd(&s) % 8 ? am_palloc_malloc(&nommap, rnd(&s) % 4000)
					    : am_palloc_realloc(&nommap, NULL, rnd(&s) % 200000);
		}
	}
	for (int k = 0; k < 4096; k++)
		am_palloc_free(&nommap, ps[k]), ps[k] = NULL;
	am_palloc_trim(&nommap);
	assert_int_equal(am_sys_count(AM_SC_MMAP), before[0]);
	assert_int_equal(am_sys_count(AM_SC_MUNMAP), before[1]);
	assert_int_equal(am_sys_count(AM_SC_MREMAP), before[2]);
	assert_true(am_sys_count(AM_SC_MADVISE) > 0); /* it did give pages back */
}

static void test_bad_free(void **state)
{
	(void)state;
	EACH_TIER(t)
	{
		int local;
		char *p = am_palloc_malloc(t, 64);
		struct allocmap_tier_stats st;
		am_palloc_free(t, &local);    /* not ours at all */
		am_palloc_free(t, p + 16);    /* interior */
		am_palloc_free(t, p);
		am_palloc_free(t, p);         /* double free */
		am_palloc_stats(t, &st);
		assert_int_equal(st.bad_frees, 3);
		assert_int_equal(st.live_blocks, 0);
		assert_null(am_palloc_realloc(t, &local, 10));
		assert_int_equal(am_palloc_validate(t), 0);
	}
}

static void test_reentry_from_handler(void **state)
{
	(void)state;
	EACH_TIER(t)
	{
		void *p = am_palloc_malloc(t, 100);
		struct allocmap_tier_stats st;
		/* what a signal handler sees when it interrupts this thread inside t */
		assert_int_equal(am_tier_enter(t), 0);
		assert_int_equal(am_tier_enter(t), -1);
		assert_null(am_palloc_malloc(t, 10));
		am_palloc_free(t, p); /* deferred */
		assert_int_equal(t->live_blocks, 1);
		am_tier_leave(t);
		am_palloc_stats(t, &st); /* entering drains the deferred free */
		assert_int_equal(st.live_blocks, 0);
		assert_true(st.failed >= 1);
	}
}

static void test_owns(void **state)
{
	(void)state;
	EACH_TIER(t)
	{
		char *p = am_palloc_malloc(t, 1000);
		void *base;
		size_t size;
		assert_int_equal(am_palloc_owns(t, p + 999, &base, &size), 1);
		assert_ptr_equal(base, p);
		assert_int_equal(size, am_palloc_usable_size(t, p));
		assert_int_equal(am_palloc_owns(t, p, &base, &size), 1);
		int local;
		assert_int_equal(am_palloc_owns(t, &local, &base, &size), -1);
		assert_int_equal(am_palloc_owns(t, NULL, &base, &size), -1);
		am_palloc_free(t, p);
		assert_int_equal(am_palloc_owns(t, p + 10, &base, &size), 0);
	}
}

struct stress_arg {
	struct am_tier *t;
	unsigned seed;
	long ops;
	int errors;
};

/* Sizes 8 B .. 64 KiB, log-uniform (skewed small). */
static size_t stress_size(unsigned *s)
{
	unsigned lg = 3 + rnd(s) % 14;
	return ((size_t)1 << lg) + rnd(s) % ((size_t)1 << lg);
}

static void *stress_thread(void *v)
{
	struct stress_arg *a = v;
	enum { SLOTS = 1024 };
	unsigned char *p[SLOTS] = {0};
	size_t n[SLOTS] = {0};
	for (long i = 0; i < a->ops; i++) {
		unsigned k = rnd(&a->seed) % SLOTS;
		if (p[k]) {
			a->errors += !filled(p[k], n[k], k);
			am_palloc_free(a->t, p[k]);
			p[k] = NULL;
			continue;
		}
		n[k] = stress_size(&a->seed) % 65536;
		p[k] = am_palloc_malloc(a->t, n[k]);
		if (!p[k]) {
			a->errors++;
			continue;
		}
		fill(p[k], n[k], k);
	}
	for (unsigned k = 0; k < SLOTS; k++)
		if (p[k])
			a->errors += !filled(p[k], n[k], k), am_palloc_free(a->t, p[k]);
	return NULL;
}

static void test_concurrent_stress(void **state)
{
	(void)state;
	long ops = (long)(1000000 * scale());
	EACH_TIER(t)
	{
		pthread_t th[4];
		struct stress_arg a[4];
		for (int i = 0; i < 4; i++) {
			a[i] = (struct stress_arg){t, (unsigned)i * 7919 + 1, ops, 0};
			pthread_create(&th[i], NULL, stress_thread, &a[i]);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(a[i].errors, 0);
		}
		struct allocmap_tier_stats st;
		am_palloc_stats(t, &st);
		assert_int_equal(st.live_blocks, 0);
		assert_int_equal(st.in_use, 0);
		assert_int_equal(am_palloc_validate(t), 0);
	}
}

/* LIVE blocks made one after the other, then all freed. */
static void *growth_thread(void *v)
{
	struct stress_arg *a = v;
	enum { LIVE = 2048 };
	static __thread void *p[LIVE];
	for (unsigned k = 0; k < LIVE; k++)
		a->errors += !(p[k] = am_palloc_malloc(a->t, stress_size(&a->seed) % 65536));
	for (unsigned k = 0; k < LIVE; k++)
		am_palloc_free(a->t, p[k]);
	return NULL;
}

/* Two threads filling a fresh mmap tier at once, many times: the one
 * waiting for the other's growth must not fail for it, though the other,
 * which the tier's lock does not make wait its turn, may take all it
 * added before the waiter gets in. */
static void test_concurrent_growth(void **state)
{
	(void)state;
	long rounds = (long)(100 * scale());
	for (long r = 0; r < rounds; r++) {
		struct am_tier t;
		am_mmaptier_init(&t);
		pthread_t th[2];
		struct stress_arg a[2];
		for (int i = 0; i < 2; i++) {
			a[i] = (struct stress_arg){&t, (unsigned)(r * 2 + i) * 104729 + 3, 1, 0};
			pthread_create(&th[i], NULL, growth_thread, &a[i]);
		}
		for (int i = 0; i < 2; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(a[i].errors, 0);
		}
		assert_int_equal(am_palloc_validate(&t), 0);
		am_tier_destroy(&t);
	}
}

static void test_forked_child(void **state)
{
	(void)state;
	void *kept = am_palloc_malloc(&nommap, 500);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		am_palloc_atfork_child(&nommap);
		am_palloc_atfork_child(&mmapt);
		int bad = 0;
		for (int i = 0; i < 10000; i++) {
			void *a = am_palloc_malloc(&nommap, (size_t)i % 3000);
			void *b = am_palloc_calloc(&mmapt, 1, (size_t)i % 5000 + 1);
			bad += !a || !b;
			am_palloc_free(&nommap, a);
			am_palloc_free(&mmapt, b);
		}
		am_palloc_free(&nommap, kept);
		bad += am_palloc_validate(&nommap) != 0 || am_palloc_validate(&mmapt) != 0;
		bad += nommap.live_blocks != 0;
		_exit(bad ? 1 : 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(nommap.live_blocks, 1); /* the parent's state is its own */
	am_palloc_free(&nommap, kept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alignment, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_calloc_zero_after_reuse, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_realloc_cases, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_coalesce_and_trim, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_mmap_tier_returns_chunks, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_exhaustion, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_no_mmap_after_init, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_bad_free, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_reentry_from_handler, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_owns, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_concurrent_stress, setup_both, teardown_both),
		cmocka_unit_test(test_concurrent_growth),
		cmocka_unit_test_setup_teardown(test_forked_child, setup_both, teardown_both),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
