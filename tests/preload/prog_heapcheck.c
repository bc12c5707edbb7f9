/* Whole-program tests of the heap index against ground truth.
 *
 *   prog_heapcheck SCENARIO
 *
 * truth    thousands of random chunks (1 B .. 8 MiB, aligned ones, realloc
 *          chains): every query at a random interior offset returns exactly
 *          the chunk's base, usable size, requested size and site; queries
 *          past the end or after free never return it.
 * threads  8 threads allocating, freeing and querying at once: answers for
 *          a thread's own live chunks are exact; answers for addresses
 *          another thread owns are either that chunk or not a chunk.
 * api      the malloc family's glibc semantics hold under the library.
 * fastpath hundreds of thousands of malloc/free calls over a brk heap
 *          of several 16 MiB bitmap leaves, then in 4 threads' arenas:
 *          almost all of them take the per-call fast path (the heap
 *          statistics count the others).
 * nobrk    the brk heap cannot grow (a page is mapped at the break), so
 *          glibc's main arena carries on in mmapped extents, which lie
 *          next to each other: every chunk is still found exactly.
 * huge     with glibc's mmap turned off, 100 MiB chunks live in the brk
 *          heap: a query anywhere inside one, even 99 MiB in, finds it.
 * corrupt  allocmap_check sees a heap chunk whose neighbour's header says
 *          it is free (as an overrun of the chunk before would leave it)
 *          and is clean again once the header is restored.
 * walkgrow the walk's callback grows the brk heap (so the map being
 *          walked) as it goes: each sequence and chunk is still visited
 *          once, in address order.
 * unmapwait 6 threads query the brk heap without pause while the main
 *          thread grows and trims it 500 times: each trim (and each
 *          growth) waits for the queries reading the heap, and they must
 *          let it through (20 s for what takes about 2).
 * many     allocmap_query_many gives, address by address, what
 *          allocmap_query gives: live chunks, freed ones, past-the-end,
 *          stack, text, NULL and unmapped addresses, in batches of every
 *          shape (empty, one, around the pipeline's depth, thousands).
 */
#include <allocmap.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The tests free and then query, and ask for impossible sizes, on purpose. */
#pragma GCC diagnostic ignored "-Wuse-after-free"
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="
/* ... and read glibc's chunk headers, which lie outside the objects. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "expect.h"

struct chunk {
	char *p;
	size_t n;
	const void *site_fn; /* the function that called the allocator */
};

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Sizes 1 B .. 8 MiB, log-uniform. */
static size_t rnd_size(unsigned *s)
{
	unsigned lg = rnd(s) % 24;
	return 1 + ((size_t)1 << lg) + rnd(s) % ((size_t)1 << lg);
}

__attribute__((noinline)) static void *do_malloc(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *do_calloc(size_t n) { return calloc(1, n); }
__attribute__((noinline)) static void *do_aligned(size_t n, size_t a)
{
	void *p = NULL;
	return posix_memalign(&p, a, n) == 0 ? p : NULL;
}
__attribute__((noinline)) static void *do_realloc(void *p, size_t n) { return realloc(p, n); }

static int site_in(const void *site, const void *fn)
{
	return (uintptr_t)site >= (uintptr_t)fn && (uintptr_t)site < (uintptr_t)fn + 256;
}

static void expect_chunk(const struct chunk *c, size_t off)
{
	struct allocmap_info i;
	EXPECT(allocmap_query(c->p + off, &i) == 0);
	if (i.kind != ALLOCMAP_HEAP_CHUNK || i.base != c->p) {
		fprintf(stderr, "chunk %p+%zu (n=%zu): kind %d base %p size %zu\n", (void *)c->p, off, c->n,
			i.kind, i.base, i.size);
		exit(1);
	}
	EXPECT(i.size == malloc_usable_size(c->p));
	EXPECT(i.requested == c->n);
	EXPECT(site_in(i.site, c->site_fn));
	EXPECT(!strcmp(i.allocator, "malloc"));
	EXPECT((uintptr_t)i.map_base <= (uintptr_t)c->p && (uintptr_t)c->p < (uintptr_t)i.map_base + i.map_size);
}

static void expect_not_chunk(const void *p, const void *base)
{
	struct allocmap_info i;
	if (allocmap_query(p, &i) == 0 && i.kind == ALLOCMAP_HEAP_CHUNK)
		EXPECT(i.base != base);
}

static void make_chunk(struct chunk *c, unsigned *s)
{
	size_t n = rnd_size(s);
	switch (rnd(s) % 4) {
	case 0: c->p = do_malloc(n), c->site_fn = (void *)do_malloc; break;
	case 1: c->p = do_calloc(n), c->site_fn = (void *)do_calloc; break;
	case 2: c->p = do_aligned(n, (size_t)64 << (rnd(s) % 7)), c->site_fn = (void *)do_aligned; break;
	default: /* a realloc chain */
		c->p = do_malloc(1 + n / 4);
		for (int k = 0; k < 3 && c->p; k++)
			c->p = do_realloc(c->p, k == 2 ? n : 1 + rnd(s) % (2 * n));
		c->site_fn = (void *)do_realloc;
	}
	c->n = n;
	EXPECT(c->p);
	c->p[0] = 1, c->p[n - 1] = 2;
}

static void scenario_truth(void)
{
	enum { N = 3000 };
	static struct chunk ch[N];
	unsigned s = 99;
	for (int k = 0; k < N; k++)
		make_chunk(&ch[k], &s);
	for (int round = 0; round < 10; round++)
		for (int k = 0; k < N; k++)
			expect_chunk(&ch[k], rnd(&s) % malloc_usable_size(ch[k].p));
	for (int k = 0; k < N; k++) {
		expect_chunk(&ch[k], 0);
		expect_not_chunk(ch[k].p + malloc_usable_size(ch[k].p), ch[k].p);
	}
	for (int k = 0; k < N; k += 2) {
		char *p = ch[k].p;
		free(p);
		expect_not_chunk(p, p);
	}
	for (int k = 1; k < N; k += 2)
		expect_chunk(&ch[k], ch[k].n - 1), free(ch[k].p);
	EXPECT(allocmap_check(2) == 0);
}

static void *thread_body(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;
	enum { SLOTS = 256 };
	struct chunk c[SLOTS] = {{0}};
	for (int op = 0; op < 100000; op++) {
		struct chunk *x = &c[rnd(&s) % SLOTS];
		if (x->p) {
			expect_chunk(x, rnd(&s) % x->n);
			free(x->p);
			x->p = NULL;
		} else {
			x->n = 1 + rnd(&s) % 2000;
			x->p = do_malloc(x->n);
			x->site_fn = (void *)do_malloc;
			EXPECT(x->p);
		}
		struct allocmap_info i; /* someone else's memory: must not crash */
		allocmap_query((char *)x + (int)(rnd(&s) % 65536) - 32768, &i);
	}
	for (int k = 0; k < SLOTS; k++)
		free(c[k].p);
	return NULL;
}

static void scenario_threads(void)
{
	pthread_t t[8];
	for (int k = 0; k < 8; k++)
		EXPECT(pthread_create(&t[k], NULL, thread_body, (void *)(uintptr_t)(k * 7 + 1)) == 0);
	for (int k = 0; k < 8; k++)
		pthread_join(t[k], NULL);
	EXPECT(allocmap_check(2) == 0);
}

static void scenario_api(void)
{
	char *p = malloc(100);
	EXPECT(p && malloc_usable_size(p) >= 100);
	memset(p, 7, malloc_usable_size(p)); /* all of it is the program's */
	p = realloc(p, 1000);
	EXPECT(p && p[99] == 7);
	EXPECT(realloc(p, 0) == NULL);
	void *a = NULL;
	EXPECT(posix_memalign(&a, 3, 10) == EINVAL);
	EXPECT(posix_memalign(&a, 4096, 10) == 0 && ((uintptr_t)a & 4095) == 0);
	free(a);
	EXPECT(aligned_alloc(256, 512) != NULL);
	int *z = calloc(1000, sizeof *z);
	for (int k = 0; k < 1000; k++)
		EXPECT(z[k] == 0);
	free(z);
	errno = 0;
	EXPECT(malloc(SIZE_MAX - 4) == NULL && errno == ENOMEM);
	EXPECT(calloc(SIZE_MAX / 2, 4) == NULL && errno == ENOMEM);
	EXPECT(reallocarray(NULL, SIZE_MAX / 2, 4) == NULL);
	void *v = valloc(10), *pv = pvalloc(10);
	EXPECT(v && pv && ((uintptr_t)v & 4095) == 0 && malloc_usable_size(pv) >= 4096);
	free(v), free(pv);
	EXPECT(malloc_usable_size(NULL) == 0);
	free(NULL);
}

static void scenario_nobrk(void)
{
	enum { N = 6000 };
	static char *p[N];
	uintptr_t brk_end = ((uintptr_t)sbrk(0) + PAGE - 1) & ~(PAGE - 1);
	EXPECT(mmap((void *)brk_end, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
	       (void *)brk_end);
	size_t outside = 0;
	for (int k = 0; k < N; k++) {
		EXPECT(p[k] = malloc(1000));
		outside += (uintptr_t)p[k] > brk_end;
	}
	EXPECT(outside > N / 2); /* most of them in the fallback extents */
	for (int k = 0; k < N; k++) {
		struct chunk c = {p[k], 1000, (const void *)scenario_nobrk};
		expect_chunk(&c, (size_t)k % 1000);
	}
	EXPECT(allocmap_check(2) == 0);
	for (int k = 0; k < N; k += 2)
		free(p[k]), expect_not_chunk(p[k], p[k]);
	for (int k = 1; k < N; k += 2)
		expect_chunk(&(struct chunk){p[k], 1000, (const void *)scenario_nobrk}, 999), free(p[k]);
}

static void scenario_huge(void)
{
	const size_t n = (size_t)100 << 20;
	EXPECT(mallopt(M_MMAP_MAX, 0) == 1); /* every chunk from the heap */
	char *a = malloc(n), *b = malloc(n);
	EXPECT(a && b);
	struct chunk ca = {a, n, (const void *)scenario_huge}, cb = {b, n, (const void *)scenario_huge};
	for (size_t off = 0; off < n; off += n / 10 + 4097)
		expect_chunk(&ca, off), expect_chunk(&cb, off);
	expect_chunk(&ca, n - 1), expect_chunk(&cb, n - 1);
	EXPECT(allocmap_check(2) == 0);
	free(a);
	expect_not_chunk(a + n / 2, a);
	expect_chunk(&cb, n / 2);
	free(b);
}

static void scenario_corrupt(void)
{
	char *p = malloc(1000), *q = malloc(1000);
	/* glibc's headers, outside the objects: volatile, so the compiler keeps
	 * every access where it is written */
	volatile size_t *p_size = (size_t *)p - 1, *q_size = (size_t *)q - 1;
	EXPECT(p && q && q == p + (*p_size & ~(size_t)7)); /* neighbours: q's header ends p's chunk */
	EXPECT(allocmap_check(2) == 0);
	*q_size &= ~(size_t)1; /* PREV_INUSE: p is free, says glibc's header */
	EXPECT(allocmap_check(-1) == 1);
	*q_size |= 1;
	EXPECT(allocmap_check(2) == 0);
	free(q), free(p);
}

enum { FAST_N = 200000 };

/* FAST_N chunks of 100-299 B made, then freed in a shuffled order. */
static void *churn_shuffled(void *arg)
{
	static __thread char *p[FAST_N];
	unsigned s = (unsigned)(uintptr_t)arg;
	for (int k = 0; k < FAST_N; k++)
		EXPECT(p[k] = malloc(100 + (size_t)k % 200));
	for (int k = FAST_N - 1; k > 0; k--) {
		int j = (int)(rnd(&s) % (unsigned)(k + 1));
		char *t = p[k];
		p[k] = p[j], p[j] = t;
	}
	for (int k = 0; k < FAST_N; k++)
		free(p[k]);
	return NULL;
}

static uint64_t slow_path_now(void)
{
	struct allocmap_heap_stats st;
	EXPECT(allocmap_heap_stats(&st) == 0 && st.indexed);
	return st.slow_path;
}

static void scenario_fastpath(void)
{
	uint64_t before = slow_path_now();
	churn_shuffled((void *)1); /* ~45 MiB of brk heap: 3-4 leaves */
	uint64_t main_heap = slow_path_now() - before;
	pthread_t t[4];
	for (uintptr_t k = 0; k < 4; k++)
		EXPECT(pthread_create(&t[k], NULL, churn_shuffled, (void *)(k + 2)) == 0);
	for (int k = 0; k < 4; k++)
		pthread_join(t[k], NULL);
	uint64_t threads = slow_path_now() - before - main_heap;
	if (main_heap > 32 || threads > 512) {
		fprintf(stderr, "slow path taken %llu times of %d calls (brk heap), %llu of %d (4 threads)\n",
			(unsigned long long)main_heap, 2 * FAST_N, (unsigned long long)threads, 8 * FAST_N);
		exit(1);
	}
}

/* Each address of ps[0..n) answered by allocmap_query_many exactly as by
 * allocmap_query; returns how many were found. */
static size_t expect_many_as_single(const void *const *ps, size_t n)
{
	static struct allocmap_info many[8192];
	size_t found = 0;
	EXPECT(n <= sizeof many / sizeof many[0]);
	memset(many, 0xAB, n * sizeof many[0]);
	size_t got = allocmap_query_many(ps, n, many);
	for (size_t k = 0; k < n; k++) {
		struct allocmap_info one;
		int rc = allocmap_query(ps[k], &one);
		found += rc == 0;
		EXPECT(memcmp(&one, &many[k], sizeof one) == 0);
		EXPECT(rc == 0 || many[k].kind == ALLOCMAP_UNKNOWN);
	}
	EXPECT(got == found);
	return found;
}

static void scenario_many(void)
{
	enum { N = 2000 };
	static struct chunk ch[N];
	static const void *ps[4 * N + 8];
	unsigned s = 7;
	size_t n = 0, live = 0;
	for (int k = 0; k < N; k++)
		make_chunk(&ch[k], &s);
	for (int k = 0; k < N; k += 3)
		free(ch[k].p); /* a third freed: their addresses are queried too */
	for (int k = 0; k < N; k++) {
		size_t use = k % 3 ? malloc_usable_size(ch[k].p) : ch[k].n;
		ps[n++] = ch[k].p + rnd(&s) % use;
		ps[n++] = ch[k].p;
		ps[n++] = ch[k].p + use;
		live += k % 3 != 0;
	}
	int local = 0;
	ps[n++] = NULL, ps[n++] = &local, ps[n++] = (const void *)scenario_many, ps[n++] = (const void *)16;
	ps[n++] = (const void *)~(uintptr_t)0, ps[n++] = (const void *)printf;
	EXPECT(expect_many_as_single(ps, n) >= 2 * live); /* interior and base of each live chunk */
	static const size_t shapes[] = {0, 1, 2, 15, 16, 17, 31, 32, 33, 100};
	for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
		expect_many_as_single(ps + rnd(&s) % (n - 100), shapes[k]);
	struct allocmap_info one;
	EXPECT(allocmap_query_many(NULL, 3, &one) == 0 && allocmap_query_many(ps, 1, NULL) == 0);
	for (int k = 0; k < N; k++)
		if (k % 3)
			free(ch[k].p);
}

/* Queries racing with frees that give the memory back to the kernel
 * (glibc unmaps a large chunk on free): never a fault, never a freed
 * chunk reported with another chunk's base. */
static char *volatile shared;
static volatile int race_stop;

static void *race_querier(void *arg)
{
	long *found = arg;
	while (!race_stop) {
		char *p = shared;
		struct allocmap_info i;
		if (p && allocmap_query(p + 4096, &i) == 0 && i.kind == ALLOCMAP_HEAP_CHUNK)
			__atomic_fetch_add(found, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void scenario_racefree(void)
{
	pthread_t t;
	long found = 0;
	EXPECT(mallopt(M_MMAP_THRESHOLD, 65536) == 1); /* every 1 MiB chunk its own mapping */
	EXPECT(pthread_create(&t, NULL, race_querier, &found) == 0);
	/* 20000 rounds, and on until the querier has seen a chunk (a loaded
	 * machine may not run it alongside for a while), 200000 at most */
	for (int k = 0; k < 20000 || (!__atomic_load_n(&found, __ATOMIC_RELAXED) && k < 200000); k++) {
		char *p = malloc((size_t)1 << 20); /* mmapped by glibc */
		EXPECT(p);
		shared = p;
		for (volatile int spin = 0; spin < 2000; spin++)
			;
		shared = NULL;
		free(p);
	}
	race_stop = 1;
	pthread_join(t, NULL);
	EXPECT(found > 0);
}

/* allocmap_query from a signal handler that interrupts the same thread
 * in the middle of malloc, free, mmap and munmap (and so, at times, in
 * the middle of changing the index): it must answer, never deadlock. */
static char *volatile sig_target;
static volatile long sig_answers;

static void on_alarm(int sig)
{
	struct allocmap_info i;
	(void)sig;
	char *p = sig_target;
	if (p && allocmap_query(p, &i) == 0)
		sig_answers++;
	allocmap_query(&i, &i);
}

static void scenario_signals(void)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	EXPECT(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = {{0, 50}, {0, 50}};
	EXPECT(setitimer(ITIMER_REAL, &it, NULL) == 0);
	for (int k = 0; k < 200000; k++) {
		char *p = malloc((size_t)(k % 5000) + 1);
		sig_target = p;
		void *m = mmap(NULL, 4096 * (size_t)(1 + k % 8), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		EXPECT(m != MAP_FAILED);
		mprotect(m, 4096, PROT_READ);
		munmap(m, 4096 * (size_t)(1 + k % 8));
		sig_target = NULL;
		free(p);
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	EXPECT(sig_answers > 0);
	EXPECT(allocmap_check(2) == 0);
}

struct walk_state {
	char **p;
	int n, seen_chunks, seen_mine, seen_stack, seen_object, bad;
};

static int visit(const struct allocmap_info *i, void *arg)
{
	struct walk_state *w = arg;
	void *junk = malloc(10); /* the callback may allocate */
	free(junk);
	if (i->kind == ALLOCMAP_STACK)
		w->seen_stack++;
	if (i->kind == ALLOCMAP_OBJECT && i->path && strstr(i->path, "prog_heapcheck"))
		w->seen_object++;
	if (i->kind != ALLOCMAP_HEAP_CHUNK)
		return 0;
	w->seen_chunks++;
	for (int k = 0; k < w->n; k++)
		if (i->base == w->p[k]) {
			w->seen_mine++;
			w->bad += i->size != malloc_usable_size(w->p[k]) || i->requested != (size_t)(k % 5000 + 1);
		}
	return 0;
}

static void scenario_walk(void)
{
	enum { N = 20000 };
	static char *p[N];
	for (int k = 0; k < N; k++)
		p[k] = do_malloc((size_t)(k % 5000 + 1));
	struct walk_state w = {p, N, 0, 0, 0, 0, 0};
	EXPECT(allocmap_walk(ALLOCMAP_WALK_SEQUENCES | ALLOCMAP_WALK_CHUNKS, visit, &w) == 0);
	EXPECT(w.seen_mine == N && w.bad == 0);
	EXPECT(w.seen_stack >= 1 && w.seen_object >= 1);
	struct allocmap_heap_stats hs;
	EXPECT(allocmap_heap_stats(&hs) == 0 && hs.indexed == 1 && hs.live_chunks >= N);
	EXPECT(!strcmp(allocmap_heap_malloc(), getenv("EXPECT_OTHER_MALLOC") ? "other" : "glibc")); /* othermalloc.sh */
	EXPECT(allocmap_walk(ALLOCMAP_WALK_CHUNKS, NULL, NULL) == -1);
	for (int k = 0; k < N; k += 2)
		free(p[k]);
	w = (struct walk_state){p, N, 0, 0, 0, 0, 0};
	EXPECT(allocmap_walk(ALLOCMAP_WALK_CHUNKS, visit, &w) == 0);
	EXPECT(w.seen_mine == N / 2);
	for (int k = 1; k < N; k += 2)
		free(p[k]);
}

static volatile int query_stop;
static char *query_from;

static void *query_brk_heap(void *arg)
{
	struct allocmap_info i;
	for (size_t n = 0; !query_stop; n++) {
		size_t span = (size_t)((char *)sbrk(0) - query_from);
		allocmap_query(query_from + n * 4096 % span, &i);
	}
	return arg;
}

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void scenario_unmapwait(void)
{
	enum { READERS = 6 };
	pthread_t t[READERS];
	void *p[64];
	int r = 0;
	query_from = do_malloc(100);
	for (int k = 0; k < READERS; k++)
		EXPECT(pthread_create(&t[k], NULL, query_brk_heap, NULL) == 0);
	usleep(50000);
	for (double end = seconds() + 20; r < 500 && seconds() < end; r++) {
		for (int k = 0; k < 64; k++)
			p[k] = do_malloc((size_t)(1000 + (r * 7 + k * 131) % 60000));
		for (int k = 63; k >= 0; k--)
			free(p[k]); /* the last frees trim the brk heap */
	}
	query_stop = 1;
	for (int k = 0; k < READERS; k++)
		pthread_join(t[k], NULL);
	free(query_from);
	EXPECT(r == 500);
}

struct grow_state {
	uintptr_t prev_seq, prev_chunk;
	int brk, bad, nkeep;
	void *keep[64];
};

static int visit_grow(const struct allocmap_info *i, void *arg)
{
	struct grow_state *g = arg;
	uintptr_t b = (uintptr_t)i->base;
	if (i->kind != ALLOCMAP_HEAP_CHUNK) {
		g->bad += b <= g->prev_seq;
		g->prev_seq = b;
		g->brk += i->kind == ALLOCMAP_BRK;
		return 0;
	}
	g->bad += b <= g->prev_chunk || b < g->prev_seq;
	g->prev_chunk = b;
	if (g->nkeep < 64) /* the brk heap grows under the walk */
		g->keep[g->nkeep++] = malloc(64 << 10);
	return 0;
}

static void scenario_walkgrow(void)
{
	static struct grow_state g;
	static void *small[100];
	for (int k = 0; k < 100; k++)
		small[k] = malloc(100);
	EXPECT(allocmap_walk(ALLOCMAP_WALK_SEQUENCES | ALLOCMAP_WALK_CHUNKS, visit_grow, &g) == 0);
	EXPECT(g.nkeep == 64);
	EXPECT(g.brk == 1);
	EXPECT(g.bad == 0);
	while (g.nkeep)
		free(g.keep[--g.nkeep]);
	for (int k = 0; k < 100; k++)
		free(small[k]);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "truth"))
		scenario_truth();
	else if (argc > 1 && !strcmp(argv[1], "threads"))
		scenario_threads();
	else if (argc > 1 && !strcmp(argv[1], "api"))
		scenario_api();
	else if (argc > 1 && !strcmp(argv[1], "walk"))
		scenario_walk();
	else if (argc > 1 && !strcmp(argv[1], "unmapwait"))
		scenario_unmapwait();
	else if (argc > 1 && !strcmp(argv[1], "walkgrow"))
		scenario_walkgrow();
	else if (argc > 1 && !strcmp(argv[1], "racefree"))
		scenario_racefree();
	else if (argc > 1 && !strcmp(argv[1], "signals"))
		scenario_signals();
	else if (argc > 1 && !strcmp(argv[1], "many"))
		scenario_many();
	else if (argc > 1 && !strcmp(argv[1], "fastpath"))
		scenario_fastpath();
	else if (argc > 1 && !strcmp(argv[1], "nobrk"))
		scenario_nobrk();
	else if (argc > 1 && !strcmp(argv[1], "corrupt"))
		scenario_corrupt();
	else if (argc > 1 && !strcmp(argv[1], "huge"))
		scenario_huge();
	else
		return fprintf(stderr, "usage: %s truth|threads|api|walk|walkgrow|unmapwait|racefree|signals|many|fastpath|nobrk|corrupt|huge\n", argv[0]), 2;
	return 0;
}
