/* Programs with known leaks, for the differential test against memcheck
 * (leaks.sh). Each case allocates from functions of its own, so that a
 * group's site names one function: memcheck's first frame below malloc,
 * allocmap's site through addr2line. The expected classes are in
 * leaks.sh; the cases only build the heap and exit through exit(), where
 * both tools scan.
 *
 * Built without the library (it is preloaded for allocmap's run, and
 * absent under valgrind), with -rdynamic so the API cases can match
 * groups by symbol. usage: prog_leaks CASE [DSO]
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocmap.h"

#define NOINLINE __attribute__((noinline))

struct node {
	struct node *next;
	char pad[40];
};

void *volatile keep[16];           /* roots: the program's data */
static __thread void *volatile tls_keep;
static int pipefd[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

NOINLINE struct node *alloc_head(void) { return calloc(1, sizeof(struct node)); }
NOINLINE struct node *alloc_node(void) { return calloc(1, sizeof(struct node)); }
NOINLINE void *alloc_kept(size_t n) { return calloc(1, n); }
NOINLINE void *alloc_lost(size_t n) { return calloc(1, n); }
NOINLINE void *alloc_inner(size_t n) { return calloc(1, n); }
NOINLINE void *alloc_cycle(void) { return calloc(1, sizeof(struct node)); }
NOINLINE void *grow_buffer(void *p, size_t n) { return realloc(p, n); }

/* Overwrites dead stack below the caller and the scratch registers, so
 * stale copies of pointers from finished calls are not roots for either
 * tool (the exit path spills registers it never set). */
NOINLINE void scrub(void)
{
	volatile char junk[32768];
	memset((char *)junk, 0, sizeof junk);
	__asm__ volatile("" ::: "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
	__asm__ volatile("xor %%ecx, %%ecx; xor %%edx, %%edx; xor %%esi, %%esi; xor %%edi, %%edi\n\t"
			 "xor %%r8d, %%r8d; xor %%r9d, %%r9d; xor %%r10d, %%r10d; xor %%r11d, %%r11d" ::
				 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
}

/* A lost list: its head definitely lost, 9 nodes indirectly. */
NOINLINE void case_list(void)
{
	struct node *h = alloc_head(), *n = h;
	for (int i = 0; i < 9; i++)
		n = n->next = alloc_node();
	h = n = NULL;
}

/* A lost 3-cycle (one definitely lost, two indirectly) and a kept one. */
NOINLINE void case_cycle(void)
{
	struct node *a = alloc_cycle(), *b = alloc_cycle(), *c = alloc_cycle();
	a->next = b, b->next = c, c->next = a;
	struct node *x = alloc_kept(sizeof *x), *y = alloc_kept(sizeof *y);
	x->next = y, y->next = x;
	keep[0] = x;
}

/* Interior pointers: one chunk reached only by a pointer 40 bytes in
 * (possibly lost), and what it points to (possibly lost too); one with
 * both kinds (still reachable). */
NOINLINE void case_interior(void)
{
	char *p = alloc_inner(100), *q = alloc_kept(100);
	*(void **)(p + 48) = alloc_inner(64);
	keep[1] = p + 40;
	keep[2] = q + 40;
	keep[3] = q;
	alloc_lost(77);
}

static void *holder(void *arg)
{
	(void)arg;
	void *volatile mine = alloc_kept(333);
	tls_keep = alloc_kept(444);
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	char c;
	while (read(pipefd[0], &c, 1) != 0) /* blocks until the process ends */
		;
	return mine;
}

/* A pointer held only in another thread's stack, one only in its TLS,
 * one only in the main thread's TLS: all still reachable; one lost. */
NOINLINE void case_thread(void)
{
	pthread_t t;
	if (pipe(pipefd) != 0 || pthread_create(&t, NULL, holder, NULL) != 0)
		exit(2);
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	tls_keep = alloc_kept(555);
	alloc_lost(66);
}

/* A pointer held only in a dlopened library's data. */
NOINLINE void case_dlopen(const char *dso)
{
	void *h = dlopen(dso, RTLD_NOW);
	void **slot = h ? dlsym(h, "leak_dso_slot") : NULL;
	if (!slot)
		exit(3);
	*slot = alloc_kept(1234);
	alloc_lost(4321);
}

/* Realloc'ed buffers: a kept one grown 5 times that holds the only
 * pointers to 4 chunks; a lost one grown twice, holding 2 (indirectly
 * lost). */
NOINLINE void case_realloc(void)
{
	void **kept = NULL, **lost = NULL;
	for (int i = 1; i <= 5; i++)
		kept = grow_buffer(kept, (size_t)i * 64);
	for (int i = 0; i < 4; i++)
		kept[i] = alloc_inner(48);
	keep[4] = kept;
	lost = grow_buffer(NULL, 32);
	lost = grow_buffer(lost, 4096);
	lost[0] = alloc_node(), lost[1] = alloc_node();
}

/* ---- allocmap_leak_scan on demand (only under the library) ---- */

struct seen {
	int calls, last_null, order_ok, prev_cls;
	size_t lost_bytes, lost_count, kept_count, definite;
	unsigned threads, unstopped;
};

static int on_group(const struct allocmap_leak_group *g, const struct allocmap_leak_totals *t, void *arg)
{
	struct seen *s = arg;
	s->calls++;
	s->last_null = g == NULL;
	s->definite = t->count[ALLOCMAP_LEAK_DEFINITE];
	s->threads = t->threads, s->unstopped = t->threads_unstopped;
	if (!g)
		return 0;
	s->order_ok &= (int)g->cls >= s->prev_cls;
	s->prev_cls = (int)g->cls;
	if (g->cls == ALLOCMAP_LEAK_DEFINITE && g->symbol && !strcmp(g->symbol, "alloc_lost"))
		s->lost_bytes += g->bytes, s->lost_count += g->count;
	if (g->cls == ALLOCMAP_LEAK_REACHABLE && g->symbol && !strcmp(g->symbol, "alloc_kept"))
		s->kept_count += g->count;
	return 0;
}

static int scan(unsigned flags, struct seen *s)
{
	int (*fn)(unsigned, allocmap_leak_fn, void *) = (int (*)(unsigned, allocmap_leak_fn, void *))dlsym(RTLD_DEFAULT, "allocmap_leak_scan");
	memset(s, 0, sizeof *s);
	s->order_ok = 1;
	return fn ? fn(flags, on_group, s) : -2;
}

static volatile int stop_churn;

/* Allocates, frees and maps without pause while scans run. */
static void *churn(void *arg)
{
	void *ring[64] = {0};
	for (unsigned i = 0; !stop_churn; i++) {
		free(ring[i % 64]);
		ring[i % 64] = malloc(16 + i % 2000);
		if (i % 512 == 0)
			free(realloc(malloc(100000), 300000));
	}
	for (int i = 0; i < 64; i++)
		free(ring[i]);
	return arg;
}

/* One chunk lost and 3 kept (the symbols need -rdynamic): the scan's
 * answer, its call order and its totals; then again with 4 threads
 * churning the heap, 20 times. Prints FAIL lines; exit 1 on any. */
NOINLINE int case_api(int threads, int rounds)
{
	struct seen s;
	pthread_t t[8];
	int bad = 0;
	alloc_lost(1000);
	keep[5] = alloc_kept(10), keep[6] = alloc_kept(20), keep[7] = alloc_kept(30);
	scrub();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	for (int r = 0; r < rounds; r++) {
		int rc = scan(ALLOCMAP_LEAK_SHOW_REACHABLE, &s);
		if (rc != 0 || !s.last_null || !s.order_ok || s.lost_bytes != 1000 || s.lost_count != 1 ||
		    s.kept_count != 3 || s.threads != (unsigned)threads + 1 || s.unstopped != 0) {
			fprintf(stderr, "FAIL round %d: rc %d last_null %d order %d lost %zu/%zu kept %zu threads %u unstopped %u\n", r,
				rc, s.last_null, s.order_ok, s.lost_bytes, s.lost_count, s.kept_count, s.threads, s.unstopped);
			bad = 1;
		}
	}
	stop_churn = 1;
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return bad;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "list"))
		case_list();
	else if (!strcmp(c, "cycle"))
		case_cycle();
	else if (!strcmp(c, "interior"))
		case_interior();
	else if (!strcmp(c, "thread"))
		case_thread();
	else if (!strcmp(c, "dlopen") && argc > 2)
		case_dlopen(argv[2]);
	else if (!strcmp(c, "realloc"))
		case_realloc();
	else if (!strcmp(c, "api"))
		return case_api(0, 1);
	else if (!strcmp(c, "api-threads"))
		return case_api(4, 20);
	else if (strcmp(c, "none")) {
		fprintf(stderr, "usage: prog_leaks list|cycle|interior|thread|dlopen DSO|realloc|api|api-threads|none\n");
		return 2;
	}
	scrub();
	return 0;
}
