/* Whole-program tests of the heap index's edge cases, each once a bug.
 *
 *   prog_heapedge SCENARIO
 *
 * nested   queries from a signal handler that interrupt queries, in a
 *          process with two threads: afterwards mmap/munmap still return
 *          (a nested query used to leak its reader count, and every later
 *          unmap waited for it forever).
 * racetop  a query races a thread that mallocs and frees a chunk next to
 *          its non-main arena's top: the free merges it into the top,
 *          whose size word reaches the heap's PROT_NONE reserve. The
 *          query must not read there (it used to crash), and answers that
 *          chunk or no chunk.
 * freedrace  a query races a thread that mallocs, fills and frees a chunk
 *          again and again: a chunk answer is that chunk as it was made
 *          (its site), never one read after the free (a freed chunk's
 *          trailer holds glibc's data or the program's).
 * neighbour  a live chunk is always found while the chunk before it is
 *          freed and made again (glibc flips a bit of its size word).
 * mremaprace  a query races realloc shrinking an mmapped chunk in place:
 *          the answer is the chunk before or after, never the new size
 *          with the program's data read as its trailer.
 * slack    requests far below the chunk's usable size keep their exact
 *          size, even after the program wrote all its usable bytes:
 *          memalign with a big alignment (glibc mmaps and keeps the
 *          tail), realloc shrinking an mmapped chunk in place, pvalloc.
 * reallocfail  a failed realloc leaves its chunk as it was: same
 *          requested size and allocation site.
 * inplace  realloc within a chunk's own size (glibc keeps it as it is):
 *          the same chunk answers the new request and site at once, in the
 *          main arena and a thread's; a query racing such reallocs
 *          answers that chunk with one of the requests made, never another
 *          size (or, as allowed, no chunk while a realloc is under way);
 *          a chunk whose next size word is broken still stops the program
 *          in glibc's realloc.
 * huge     a 5 GiB chunk in the brk heap (glibc's mmap off): too big for
 *          its start to be found from far inside, so it is counted as not
 *          indexed and never answered wrongly (skipped if the system will
 *          not reserve it).
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
#include <sys/wait.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Walloc-size-larger-than="

#include "expect.h"

/* p's answer: its chunk, with this requested size, allocated in fn. */
static void expect_request(const void *p, size_t n, const void *fn)
{
	struct allocmap_info i;
	EXPECT(allocmap_query(p, &i) == 0 && i.kind == ALLOCMAP_HEAP_CHUNK && i.base == p);
	EXPECT(i.size == malloc_usable_size((void *)p));
	if (i.requested != n)
		fprintf(stderr, "chunk %p: requested %zu, want %zu\n", p, i.requested, n);
	EXPECT(i.requested == n);
	EXPECT((uintptr_t)i.site >= (uintptr_t)fn && (uintptr_t)i.site < (uintptr_t)fn + 512);
}

static char *volatile nested_target;
static volatile long nested_answers;

static void on_alarm(int sig)
{
	struct allocmap_info i;
	(void)sig;
	nested_answers += allocmap_query(nested_target + 8, &i) == 0;
}

static void *idle(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void scenario_nested(void)
{
	pthread_t t;
	EXPECT(pthread_create(&t, NULL, idle, NULL) == 0); /* queries announce themselves */
	nested_target = malloc(64);
	struct sigaction sa = {.sa_handler = on_alarm};
	EXPECT(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = {{0, 50}, {0, 50}}, off = {{0, 0}, {0, 0}};
	EXPECT(setitimer(ITIMER_REAL, &it, NULL) == 0);
	struct allocmap_info i;
	for (long k = 0; k < 20000000 && nested_answers < 20000; k++)
		EXPECT(allocmap_query(nested_target + 8, &i) == 0 && i.base == nested_target);
	setitimer(ITIMER_REAL, &off, NULL);
	EXPECT(nested_answers > 0);
	void *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(m != MAP_FAILED && munmap(m, PAGE) == 0); /* hung here */
	EXPECT(allocmap_check(2) == 0);
}

static char *volatile top_chunk;
static volatile int top_stop;

static void *churn_top(void *arg)
{
	(void)arg;
	while (!top_stop) {
		char *p = malloc(2000); /* this thread's arena: next to its top */
		top_chunk = p;
		free(p);
	}
	return NULL;
}

static void scenario_racetop(void)
{
	pthread_t t;
	EXPECT(pthread_create(&t, NULL, churn_top, NULL) == 0);
	while (!top_chunk)
		;
	struct allocmap_info i;
	long chunks = 0;
	for (long k = 0; k < 30000000; k++) {
		char *p = top_chunk;
		if (allocmap_query(p + 8, &i) == 0 && i.kind == ALLOCMAP_HEAP_CHUNK) {
			EXPECT(i.base == p && i.size >= 2000);
			chunks++;
		}
	}
	top_stop = 1;
	pthread_join(t, NULL);
	EXPECT(chunks > 0);
}

__attribute__((noinline)) static void *alloc_here(size_t n) { return malloc(n); }

static void *churn_freed(void *arg)
{
	char *hold = malloc(100); /* keeps the chunk off the top */
	for (size_t n = 40000; !top_stop; n = n == 40000 ? 40016 : 40000) {
		char *p = alloc_here(n), *guard = malloc(100);
		memset(p, 0x41, malloc_usable_size(p));
		*(char *volatile *)arg = p;
		free(p);
		free(guard);
	}
	free(hold);
	return NULL;
}

static void scenario_freedrace(void)
{
	static char *volatile cur;
	pthread_t t;
	EXPECT(pthread_create(&t, NULL, churn_freed, (void *)&cur) == 0);
	while (!cur)
		;
	long chunks = 0;
	for (long k = 0; k < 20000000; k++) {
		char *p = cur;
		struct allocmap_info i;
		if (allocmap_query(p + 100, &i) == 0 && i.kind == ALLOCMAP_HEAP_CHUNK) {
			/* p's chunk, or one made since over it (by the same loop) */
			int ours = (uintptr_t)i.site - (uintptr_t)alloc_here < 512 &&
				   (i.requested == 40000 || i.requested == 40016);
			int guard = (uintptr_t)i.site - (uintptr_t)churn_freed < 512 && i.requested == 100;
			if (!(ours || guard) || (char *)i.base > p + 100 || p + 100 - (char *)i.base >= (long)i.size)
				fprintf(stderr, "chunk %p: base %p size %zu requested %zu site %p\n", p, i.base, i.size,
					i.requested, i.site);
			EXPECT(ours || guard);
			EXPECT((char *)i.base <= p + 100 && p + 100 - (char *)i.base < (long)i.size);
			chunks++;
		}
	}
	top_stop = 1;
	pthread_join(t, NULL);
	EXPECT(chunks > 0);
}

static char *volatile prev_chunk, *volatile live_chunk;

static void *churn_before(void *arg)
{
	(void)arg;
	prev_chunk = malloc(2000); /* this thread's arena: it, live_chunk, a guard */
	live_chunk = malloc(100);
	char *guard = malloc(100);
	while (!top_stop) {
		free(prev_chunk); /* past tcache: clears live_chunk's PREV_INUSE */
		prev_chunk = malloc(2000);
	}
	free(guard);
	return NULL;
}

static void scenario_neighbour(void)
{
	pthread_t t;
	struct allocmap_info i;
	EXPECT(pthread_create(&t, NULL, churn_before, NULL) == 0);
	while (!live_chunk)
		;
	EXPECT(allocmap_query(live_chunk + 8, &i) == 0 && i.base == live_chunk);
	const void *site = i.site;
	long missed = 0;
	for (long k = 0; k < 5000000; k++)
		missed += allocmap_query(live_chunk + 8, &i) != 0 || i.base != live_chunk || i.site != site;
	top_stop = 1;
	pthread_join(t, NULL);
	if (missed)
		fprintf(stderr, "a live chunk missed %ld times in 5M queries\n", missed);
	EXPECT(missed == 0);
}

__attribute__((noinline)) static void *shrink_realloc(void *p, size_t n) { return realloc(p, n); }

static void *churn_mremap(void *arg)
{
	while (!top_stop) {
		char *p = alloc_here((size_t)1 << 20); /* mmapped */
		memset(p, 0x41, 8192); /* the program's data where the shrunk chunk's trailer goes */
		*(char *volatile *)arg = p;
		free(shrink_realloc(p, 100)); /* glibc shrinks it in place (mremap) */
	}
	return NULL;
}

static void scenario_mremaprace(void)
{
	static char *volatile cur;
	pthread_t t;
	EXPECT(mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1);
	EXPECT(pthread_create(&t, NULL, churn_mremap, (void *)&cur) == 0);
	while (!cur)
		;
	long chunks = 0;
	for (long k = 0; k < 150000000; k++) {
		char *p = cur;
		struct allocmap_info i;
		if (allocmap_query(p + 8, &i) != 0 || i.kind != ALLOCMAP_HEAP_CHUNK)
			continue;
		int big = (uintptr_t)i.site - (uintptr_t)alloc_here < 512 && i.requested == (size_t)1 << 20;
		int small = (uintptr_t)i.site - (uintptr_t)shrink_realloc < 512 && i.requested == 100;
		if (!big && !small)
			fprintf(stderr, "chunk %p: size %zu requested %zu site %p\n", i.base, i.size, i.requested, i.site);
		EXPECT(big || small);
		chunks++;
	}
	top_stop = 1;
	pthread_join(t, NULL);
	EXPECT(chunks > 0);
}

__attribute__((noinline)) static void *do_memalign(size_t a, size_t n) { return memalign(a, n); }
__attribute__((noinline)) static void *do_aligned_alloc(size_t a, size_t n) { return aligned_alloc(a, n); }
__attribute__((noinline)) static void *do_realloc(void *p, size_t n) { return realloc(p, n); }
__attribute__((noinline)) static void *do_pvalloc(size_t n) { return pvalloc(n); }
__attribute__((noinline)) static void *do_malloc(size_t n) { return malloc(n); }

/* A big slack forged on an arena chunk (glibc's mmap off for it): the
 * check must see its request word. */
static void forge_arena_slack(void)
{
	if (getenv("EXPECT_OTHER_MALLOC"))
		return; /* another malloc's trailer has no big slack */
	EXPECT(mallopt(M_MMAP_THRESHOLD, 64 << 20) == 1);
	char *p = malloc(200000);
	size_t n = malloc_usable_size(p);
	uint64_t *t = (uint64_t *)(p + n), saved = *t;
	EXPECT(allocmap_check(2) == 0);
	*t = (saved & 0xFFFFFFFFFFFFull) | (uint64_t)0xFFFE << 48;
	*(size_t *)(p + n - 8) = (size_t)1 << 40;
	EXPECT(allocmap_check(-1) == 1);
	*t = saved;
	EXPECT(allocmap_check(2) == 0);
	free(p);
	EXPECT(mallopt(M_MMAP_THRESHOLD, 128 << 10) == 1);
}

/* memalign(1 MiB, 10): glibc's mmapped chunk keeps what the alignment
 * left after it, so its slack is big (the request in the word below the
 * trailer, which slack forges) unless the mapping happened to leave
 * little (then that word is the trailer): such chunks are set aside.
 * Mappings placed one below the other leave 4 KiB less each, so a run of
 * up to 16 can leave little (1 MiB's last 64 KiB): 32 tries get past it.
 * Another malloc's chunk has no big slack. */
static void *memalign_big_slack(void **aside, int n)
{
	void *a = do_memalign((size_t)1 << 20, 10);
	for (int k = 0; k < n && !getenv("EXPECT_OTHER_MALLOC") && malloc_usable_size(a) < 65544; k++)
		aside[k] = a, a = do_memalign((size_t)1 << 20, 10);
	return a;
}

static void scenario_slack(void)
{
	void *aside[32] = {0};
	void *a = memalign_big_slack(aside, 32), *b = do_aligned_alloc((size_t)1 << 18, 1000);
	expect_request(a, 10, (const void *)do_memalign);
	expect_request(b, 1000, (const void *)do_aligned_alloc);
	memset(a, 0x5a, malloc_usable_size(a)); /* every byte the program may write */
	memset(b, 0x5a, malloc_usable_size(b));
	expect_request(a, 10, (const void *)do_memalign);
	expect_request(b, 1000, (const void *)do_aligned_alloc);
	size_t *word = (size_t *)((char *)a + malloc_usable_size(a)), saved = *word; /* a's request, below its trailer */
	*word = (size_t)1 << 40; /* forged: more than the chunk */
	EXPECT(allocmap_check(-1) == 1);
	*word = malloc_usable_size(a); /* forged: inside, but not with such a slack */
	EXPECT(allocmap_check(-1) == 1);
	*word = saved;
	EXPECT(allocmap_check(2) == 0);
	forge_arena_slack();
	char *c = malloc((size_t)1 << 20); /* mmapped */
	char *d = do_realloc(c, 100);      /* glibc keeps an mmapped chunk that shrinks */
	expect_request(d, 100, (const void *)do_realloc);
	memset(d, 0x5a, malloc_usable_size(d));
	expect_request(d, 100, (const void *)do_realloc);
	void *e = do_pvalloc(5);
	EXPECT(malloc_usable_size(e) >= PAGE);
	expect_request(e, getenv("EXPECT_OTHER_MALLOC") ? PAGE : 5, (const void *)do_pvalloc);
	EXPECT(allocmap_check(2) == 0);
	free(a), free(b), free(d), free(e);
	for (int k = 0; k < 32; k++)
		free(aside[k]);
}

static void scenario_reallocfail(void)
{
	char *small = do_malloc(100), *big = do_malloc((size_t)1 << 20);
	errno = 0;
	EXPECT(realloc(small, (size_t)1 << 50) == NULL && errno == ENOMEM);
	EXPECT(realloc(big, (size_t)1 << 50) == NULL && errno == ENOMEM);
	expect_request(small, 100, (const void *)do_malloc);
	expect_request(big, (size_t)1 << 20, (const void *)do_malloc);
	EXPECT(allocmap_check(2) == 0);
	free(small), free(big);
}

/* Reallocs of p to sizes its chunk holds with under 16 bytes to spare
 * (glibc neither moves nor splits it), one way and back: each keeps p,
 * its usable size and contents, and answers the new request. */
static void *realloc_within(void *arg)
{
	char *p = do_malloc(200);
	size_t usable = malloc_usable_size(p);
	memset(p, 0x33, 100);
	for (size_t n = usable - 15; n <= usable; n++) {
		EXPECT(do_realloc(p, n) == p && malloc_usable_size(p) == usable);
		expect_request(p, n, (const void *)do_realloc);
	}
	for (size_t n = usable; n > usable - 16; n--)
		EXPECT(do_realloc(p, n) == p);
	expect_request(p, usable - 15, (const void *)do_realloc);
	EXPECT(p[0] == 0x33 && p[99] == 0x33);
	EXPECT(allocmap_check(2) == 0);
	free(p);
	return arg;
}

static char *volatile inplace_chunk;
static volatile int inplace_stop;

static void *resize_in_place(void *arg)
{
	for (long k = 0; !inplace_stop; k++)
		do_realloc(inplace_chunk, k & 1 ? 200 : 193);
	return arg;
}

/* A chunk whose next size word is broken is left to glibc's realloc,
 * which stops the program as it would without the library. */
static void realloc_broken(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *p = do_malloc(200);
		size_t usable = malloc_usable_size(p);
		*(size_t *)(p + usable + 8) = 0; /* the next chunk's size word */
		close(2); /* glibc's message is expected */
		do_realloc(p, usable - 1);
		_exit(0);
	}
	int status;
	EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid);
	EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

static void scenario_inplace(void)
{
	pthread_t t;
	realloc_within(NULL);
	realloc_broken();
	EXPECT(pthread_create(&t, NULL, realloc_within, NULL) == 0 && pthread_join(t, NULL) == 0);
	inplace_chunk = do_malloc(200);
	EXPECT(pthread_create(&t, NULL, resize_in_place, NULL) == 0);
	long found = 0;
	for (int k = 0; k < 200000; k++) {
		struct allocmap_info i;
		EXPECT(allocmap_query(inplace_chunk + 50, &i) == 0);
		if (i.kind != ALLOCMAP_HEAP_CHUNK)
			continue; /* allowed while a realloc is under way (allocmap.h) */
		EXPECT(i.base == inplace_chunk && (i.requested == 200 || i.requested == 193));
		found++;
	}
	EXPECT(found > 0);
	inplace_stop = 1;
	EXPECT(pthread_join(t, NULL) == 0);
	free(inplace_chunk);
}

static void scenario_huge(void)
{
	const size_t n = (size_t)5 << 30;
	struct allocmap_heap_stats before, after;
	EXPECT(mallopt(M_MMAP_MAX, 0) == 1);
	EXPECT(allocmap_heap_stats(&before) == 0);
	char *p = malloc(n);
	if (!p) {
		printf("skipped: no 5 GiB for the heap\n");
		return;
	}
	EXPECT(allocmap_heap_stats(&after) == 0 && after.unindexed > before.unindexed);
	const size_t at[] = {0, (size_t)1 << 30, (size_t)9 << 29, n - 1};
	for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
		struct allocmap_info i;
		EXPECT(allocmap_query(p + at[k], &i) == 0);
		EXPECT(i.kind != ALLOCMAP_HEAP_CHUNK); /* never another chunk */
	}
	EXPECT(allocmap_check(2) == 0);
	free(p);
	EXPECT(allocmap_check(2) == 0);
}

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {{"nested", scenario_nested},   {"racetop", scenario_racetop},
		 {"freedrace", scenario_freedrace},     {"neighbour", scenario_neighbour},
		 {"mremaprace", scenario_mremaprace},
		 {"slack", scenario_slack},     {"reallocfail", scenario_reallocfail},
		 {"inplace", scenario_inplace},         {"huge", scenario_huge}};

int main(int argc, char **argv)
{
	for (size_t k = 0; argc > 1 && k < sizeof scenarios / sizeof scenarios[0]; k++)
		if (!strcmp(argv[1], scenarios[k].name)) {
			scenarios[k].run();
			return 0;
		}
	fprintf(stderr, "usage: %s nested|racetop|freedrace|neighbour|mremaprace|slack|reallocfail|inplace|huge\n", argv[0]);
	return 2;
}
