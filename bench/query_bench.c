/* Query-latency benchmark: allocmap_query on random interior pointers
 * into 1M live malloc chunks, and on pointers into mmapped large chunks,
 * the stack, loaded objects' text and unmapped memory.
 *
 *   query_bench -l LIB [-n LIVE_CHUNKS] [-q QUERIES]
 *
 * The program runs with the library preloaded: started without it, it
 * re-executes itself with LD_PRELOAD=LIB. allocmap_query is found with
 * dlsym(RTLD_DEFAULT), so the program links nothing of the library
 * (and its malloc family is referenced weakly, as in mallocwork.c, so the
 * library's internal archive contributes no malloc either).
 *
 * Heap. LIVE*5/4 chunks are allocated, sizes log-uniform over [8, 1024]
 * (median 90 B, mean 209 B), then a random fifth of them is freed, which
 * leaves LIVE live chunks with free holes between them. QUERIES pointers
 * are drawn once: a random live chunk, a random offset below its
 * requested size. An untimed pass checks every answer (kind HEAP_CHUNK,
 * base and requested size exact); a wrong answer fails the run.
 * Timed: 3 passes over the pointers in batches of BATCH queries, each
 * batch timed with CLOCK_MONOTONIC; the median (and 90th percentile)
 * batch ns/query is reported. As a floor, the same batches are timed
 * doing only one load of each pointer's chunk header word (glibc's size
 * field, 8 bytes below the chunk): no exact answer can avoid touching
 * the chunk's memory, so that is the cost of the memory traffic alone.
 *
 * Also timed: pointers into 256 of the live chunks only (the query's
 * own cost, with what it reads in cache).
 *
 * Last (threads make the process multi-threaded, which costs queries an
 * announcement to mapping calls on other threads, quiesce.h): pointers
 * into 256 hot chunks again, queried by the main thread alone, then by
 * one thread per CPU (2 to 8) at once, each timing its own batches: the
 * median of the threads' medians. Threads querying at once should cost
 * little more than one alone.
 *
 * Other kinds, 2^16 random pointers each, same timing: inside 64 mmapped
 * chunks (256 KiB-4 MiB; kind HEAP_CHUNK, base exact), in this thread's
 * stack (kind STACK), in the text of libc and of this program (kind
 * OBJECT), and in an unmapped hole (answer -1).
 *
 * Goals (issue 16), medians: a random query over the live chunks within
 * one memory round trip (the "chained" floor row); allocmap_query_many
 * <= 40 ns per address on the same pointers; <= 20 ns per query with
 * what it reads in cache (the 256 hot chunks). Exit status 1 on a wrong
 * answer or a failed allocation, 2 on bad usage; a missed goal is
 * reported only.
 */
#include "benchutil.h"
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../include/allocmap.h"

#pragma weak malloc
#pragma weak free

#define BATCH 4096
#define PASSES 3
#define OTHER_QUERIES (1 << 16)
#define NLARGE 64
#define HOT 256 /* chunks of the "hot" row */
#define SIZE_MIN_LOG2 3
#define SIZE_MAX_LOG2 10
#define GOAL_MANY_NS 40.0 /* allocmap_query_many, random pointers */
#define GOAL_HOT_NS 20.0  /* a query with what it reads in cache */
#define STACK_SPAN 65536

typedef int (*query_fn)(const void *, struct allocmap_info *);
typedef size_t (*many_fn)(const void *const *, size_t, struct allocmap_info *);
typedef int (*query_ex_fn)(const void *, struct allocmap_info *, size_t);
typedef size_t (*many_ex_fn)(const void *const *, size_t, struct allocmap_info *, size_t);

extern char **environ;
/* The _ex entry points, which fill this header's whole struct (vma_base
 * included), when the library has them (0.4 on); else 0.3's. */
static query_fn query_plain;
static many_fn many_plain;
static query_ex_fn query_ex;
static many_ex_fn many_ex;

static int query(const void *p, struct allocmap_info *i)
{
	return query_ex ? query_ex(p, i, sizeof *i) : query_plain(p, i);
}

static size_t query_many(const void *const *ps, size_t n, struct allocmap_info *out)
{
	return many_ex ? many_ex(ps, n, out, sizeof *out) : many_plain(ps, n, out);
}
static volatile uint64_t sink;

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}


static void *map_or_die(size_t len)
{
	/* mmap, not malloc: the benchmark's tables stay out of the heap measured */
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("query_bench: mmap");
		exit(1);
	}
	return p;
}


struct timing {
	double median, p90;
};

/* ---- timed loops ---------------------------------------------------------- */

static __attribute__((noinline)) void run_queries(const void *const *p, size_t n)
{
	struct allocmap_info info;
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++) {
		query(p[i], &info);
		s += info.size;
	}
	sink += s;
}

static __attribute__((noinline)) void run_many(const void *const *p, size_t n)
{
	static struct allocmap_info info[BATCH];
	uint64_t s = 0;
	query_many(p, n, info);
	for (size_t i = 0; i < n; i++)
		s += info[i].size;
	sink += s;
}

static __attribute__((noinline)) void run_floor(const void *const *p, const void *const *base, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += ((const size_t *)base[i])[-1] + (uintptr_t)p[i];
	sink += s;
}

/* The same loads, each address made to depend on the previous load's
 * value (through a zero the compiler cannot see): one miss's latency. */
static __attribute__((noinline)) void run_floor_chain(const void *const *p, const void *const *base, size_t n)
{
	uint64_t s = 0, zero = 0;
	__asm__("" : "+r"(zero));
	for (size_t i = 0; i < n; i++)
		s += ((const size_t *)((uintptr_t)base[i] + (s & zero)))[-1] + (uintptr_t)p[i];
	sink += s;
}

enum loop { QUERIES, MANY, FLOOR, FLOOR_CHAIN };

/* Times `passes` passes over n pointers in batches of one loop (the
 * floors need base). */
static struct timing time_batches(enum loop loop, const void *const *p, const void *const *base, size_t n,
				  int passes)
{
	size_t nb = (n + BATCH - 1) / BATCH, k = 0;
	double *ns = map_or_die(nb * (size_t)passes * sizeof *ns);
	for (int pass = 0; pass < passes; pass++)
		for (size_t b = 0; b < nb; b++) {
			size_t lo = b * BATCH, len = n - lo < BATCH ? n - lo : BATCH;
			double t0 = now();
			if (loop == FLOOR)
				run_floor(p + lo, base + lo, len);
			else if (loop == FLOOR_CHAIN)
				run_floor_chain(p + lo, base + lo, len);
			else if (loop == MANY)
				run_many(p + lo, len);
			else
				run_queries(p + lo, len);
			ns[k++] = (now() - t0) * 1e9 / (double)len;
		}
	qsort(ns, k, sizeof *ns, cmp_double);
	struct timing t = {ns[k / 2], ns[k * 9 / 10]};
	munmap(ns, nb * (size_t)passes * sizeof *ns);
	return t;
}

/* ---- checking --------------------------------------------------------------- */

/* Wrong answers among n pointers expected in kind (base exact when given;
 * kind UNKNOWN: the answer must be -1). */
static size_t check_answers(const void *const *p, const void *const *base, const size_t *req, size_t n,
			    enum allocmap_kind kind, const char *what)
{
	size_t wrong = 0;
	for (size_t i = 0; i < n; i++) {
		struct allocmap_info info;
		int rc = query(p[i], &info);
		int ok = kind == ALLOCMAP_UNKNOWN ? rc == -1
						  : rc == 0 && info.kind == kind && (!base || info.base == base[i]) &&
							    (!req || (info.requested == req[i] && info.size >= req[i]));
		if (!ok && wrong++ < 3)
			fprintf(stderr,
				"query_bench: %s: wrong answer for %p: rc %d kind %d base %p (want %p) requested %zu (want %zu)\n",
				what, p[i], rc, (int)info.kind, info.base, base ? base[i] : NULL, info.requested,
				req ? req[i] : 0);
	}
	return wrong;
}

/* Answers of allocmap_query_many that differ from allocmap_query's (run
 * at once after, on a heap nothing changes). */
static size_t check_many(const void *const *p, size_t n)
{
	static struct allocmap_info many[BATCH];
	size_t wrong = 0;
	for (size_t lo = 0; lo < n; lo += BATCH) {
		size_t len = n - lo < BATCH ? n - lo : BATCH, found = query_many(p + lo, len, many);
		for (size_t i = 0; i < len; i++) {
			struct allocmap_info one;
			int rc = query(p[lo + i], &one);
			found -= rc == 0;
			if (memcmp(&one, &many[i], sizeof one) != 0 && wrong++ < 3)
				fprintf(stderr, "query_bench: query_many differs from query for %p\n", p[lo + i]);
		}
		wrong += found != 0;
	}
	return wrong;
}

static void print_row(const char *what, size_t n, struct timing t, size_t wrong, const char *note)
{
	printf("%-22s %9zu | %8.1f %8.1f | %6zu  %s\n", what, n, t.median, t.p90, wrong, note);
	fflush(stdout);
}

/* ---- workloads ----------------------------------------------------------- */

static size_t log_uniform_size(uint64_t *rng)
{
	double u = (double)(rng_next(rng) >> 11) / 9007199254740992.0;
	return (size_t)exp2(SIZE_MIN_LOG2 + u * (SIZE_MAX_LOG2 - SIZE_MIN_LOG2));
}

/* Random interior pointers into live[0..nlive) (sizes in size[]). */
static void draw(void **chunk, size_t *size, size_t nlive, size_t nq, uint64_t *rng, const void **p,
		 const void **base, size_t *req)
{
	for (size_t i = 0; i < nq; i++) {
		size_t c = rng_next(rng) % nlive;
		base[i] = chunk[c], req[i] = size[c];
		p[i] = (const char *)chunk[c] + rng_next(rng) % size[c];
	}
}

static size_t heap_queries(size_t nlive, size_t nq, uint64_t *rng, struct timing out[5])
{
	size_t total = nlive + nlive / 4;
	void **chunk = map_or_die(total * sizeof *chunk);
	size_t *size = map_or_die(total * sizeof *size);
	for (size_t i = 0; i < total; i++) {
		size[i] = log_uniform_size(rng);
		if (!(chunk[i] = malloc(size[i]))) {
			fprintf(stderr, "query_bench: malloc failed\n");
			exit(1);
		}
		memset(chunk[i], (int)i, size[i]);
	}
	/* free a random fifth: swap it to the end, free it */
	for (size_t n = total; n > nlive; n--) {
		size_t k = rng_next(rng) % n;
		free(chunk[k]);
		chunk[k] = chunk[n - 1], size[k] = size[n - 1];
	}
	const void **p = map_or_die(nq * sizeof *p), **base = map_or_die(nq * sizeof *base);
	size_t *req = map_or_die(nq * sizeof *req);
	draw(chunk, size, nlive, nq, rng, p, base, req);
	size_t wrong = check_answers(p, base, req, nq, ALLOCMAP_HEAP_CHUNK, "heap");
	struct timing t = time_batches(QUERIES, p, NULL, nq, PASSES);
	print_row("heap chunks (random)", nq * PASSES, t, wrong, "");
	size_t many_wrong = check_many(p, nq);
	out[4] = time_batches(MANY, p, NULL, nq, PASSES);
	print_row("  the same, batched", nq * PASSES, out[4], many_wrong, "allocmap_query_many over each batch");
	wrong += many_wrong;
	/* the same heap, pointers into 256 of its chunks: the query's own cost
	 * when what it reads is in cache */
	const void **hp = map_or_die(nq * sizeof *hp), **hbase = map_or_die(nq * sizeof *hbase);
	size_t *hreq = map_or_die(nq * sizeof *hreq);
	size_t first = rng_next(rng) % (nlive - HOT);
	draw(chunk + first, size + first, HOT, nq, rng, hp, hbase, hreq);
	size_t hot_wrong = check_answers(hp, hbase, hreq, nq, ALLOCMAP_HEAP_CHUNK, "heap, hot");
	out[3] = time_batches(QUERIES, hp, NULL, nq, PASSES);
	print_row("heap chunks (256 hot)", nq * PASSES, out[3], hot_wrong, "pointers into 256 of them: in cache");
	wrong += hot_wrong;
	munmap(hp, nq * sizeof *hp), munmap(hbase, nq * sizeof *hbase), munmap(hreq, nq * sizeof *hreq);
	struct timing f = time_batches(FLOOR, p, base, nq, PASSES);
	print_row("  floor: header loads", nq * PASSES, f, 0, "no query: load each chunk's size word, independent");
	struct timing fc = time_batches(FLOOR_CHAIN, p, base, nq, PASSES);
	print_row("  floor: chained", nq * PASSES, fc, 0, "no query: the same loads, each waiting for the last");
	out[0] = t, out[1] = f, out[2] = fc;
	for (size_t i = 0; i < nlive; i++)
		free(chunk[i]);
	munmap(p, nq * sizeof *p), munmap(base, nq * sizeof *base), munmap(req, nq * sizeof *req);
	munmap(chunk, total * sizeof *chunk), munmap(size, total * sizeof *size);
	return wrong;
}

/* 64 chunks of 256 KiB-4 MiB: glibc maps each (while its heap has no free
 * chunk that large) or carves them from free heap space (after the big
 * heap was freed); the note says how many were mmapped. */
static size_t large_queries(const char *what, uint64_t *rng)
{
	void *chunk[NLARGE];
	size_t size[NLARGE], n = OTHER_QUERIES, mapped = 0;
	for (int i = 0; i < NLARGE; i++) {
		size[i] = ((size_t)256 << 10) << (rng_next(rng) % 5); /* 256 KiB .. 4 MiB */
		if (!(chunk[i] = malloc(size[i]))) {
			fprintf(stderr, "query_bench: malloc failed\n");
			exit(1);
		}
		mapped += (*(const size_t *)((uintptr_t)chunk[i] - sizeof(size_t)) & 2) != 0; /* glibc's IS_MMAPPED */
	}
	char note[96];
	snprintf(note, sizeof note, "%d chunks of 256 KiB-4 MiB, %zu of them mmapped", NLARGE, mapped);
	const void **p = map_or_die(n * sizeof *p), **base = map_or_die(n * sizeof *base);
	size_t *req = map_or_die(n * sizeof *req);
	draw(chunk, size, NLARGE, n, rng, p, base, req);
	size_t wrong = check_answers(p, base, req, n, ALLOCMAP_HEAP_CHUNK, what);
	print_row(what, n * PASSES, time_batches(QUERIES, p, NULL, n, PASSES), wrong, note);
	for (int i = 0; i < NLARGE; i++)
		free(chunk[i]);
	munmap(p, n * sizeof *p), munmap(base, n * sizeof *base), munmap(req, n * sizeof *req);
	return wrong;
}

/* Pointers in [lo, lo + span) answered as kind. */
static size_t span_queries(const char *what, const char *lo, size_t span, enum allocmap_kind kind, uint64_t *rng,
			   const char *note)
{
	size_t n = OTHER_QUERIES;
	const void **p = map_or_die(n * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = lo + rng_next(rng) % span;
	size_t wrong = check_answers(p, NULL, NULL, n, kind, what);
	print_row(what, n * PASSES, time_batches(QUERIES, p, NULL, n, PASSES), wrong, note);
	munmap(p, n * sizeof *p);
	return wrong;
}

static __attribute__((noinline)) size_t stack_queries(uint64_t *rng)
{
	volatile char frame[STACK_SPAN];
	frame[0] = frame[STACK_SPAN - 1] = 1;
	return span_queries("stack", (const char *)frame, STACK_SPAN, ALLOCMAP_STACK, rng, "64 KiB of this frame");
}

/* The text segment holding fn: [start, start + size) from its mapping. */
static size_t text_queries(const char *what, const void *fn, uint64_t *rng)
{
	struct allocmap_info info;
	if (query(fn, &info) != 0 || info.kind != ALLOCMAP_OBJECT) {
		fprintf(stderr, "query_bench: %s: text at %p not answered as an object\n", what, fn);
		return 1;
	}
	/* stay in the text segment: the pages around fn with its protection */
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), lo = (uintptr_t)fn & ~(page - 1), hi = lo + page;
	struct allocmap_info at;
	while (lo - page >= (uintptr_t)info.map_base && query((void *)(lo - page), &at) == 0 && at.prot == info.prot &&
	       (uintptr_t)fn - (lo - page) < ((size_t)1 << 20))
		lo -= page;
	while (hi < (uintptr_t)info.map_base + info.map_size && query((void *)hi, &at) == 0 && at.prot == info.prot &&
	       hi - (uintptr_t)fn < ((size_t)1 << 20))
		hi += page;
	char note[128];
	snprintf(note, sizeof note, "%zu KiB of text around %p", (size_t)(hi - lo) >> 10, fn);
	return span_queries(what, (const char *)lo, hi - lo, ALLOCMAP_OBJECT, rng, note);
}

/* A 1 MiB range at 16 MiB: mapped and unmapped again to be sure it is
 * free; the kernel places unhinted mappings far above, so it stays so. */
static size_t unmapped_queries(uint64_t *rng)
{
	size_t len = (size_t)1 << 20;
	char *hole = mmap((void *)((uintptr_t)16 << 20), len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (hole == MAP_FAILED) {
		printf("%-22s  (skipped: 16 MiB is mapped in this process)\n", "unmapped");
		return 0;
	}
	munmap(hole, len);
	return span_queries("unmapped", hole, len, ALLOCMAP_UNKNOWN, rng, "1 MiB at 16 MiB, never mapped");
}

/* ---- driver -------------------------------------------------------------- */

static void reexec_preloaded(const char *lib, char **argv)
{
	setenv("QUERY_BENCH_CHILD", "1", 1);
	make_envs(lib, NULL);
	execve("/proc/self/exe", argv, env_side[1]);
	perror("query_bench: execve");
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: query_bench -l LIB [-n LIVE_CHUNKS (>= 1000)] [-q QUERIES (>= %d)]\n", BATCH);
	exit(2);
}

/* ---- queries from several threads ------------------------------------------ */

struct querier {
	const void *const *p;
	size_t n;
	pthread_barrier_t *start;
	struct timing t;
};

static void *querier_main(void *arg)
{
	struct querier *q = arg;
	pthread_barrier_wait(q->start);
	q->t = time_batches(QUERIES, q->p, NULL, q->n, PASSES);
	return NULL;
}

static void *idle(void *arg) { return arg; }

static int cmp_timing(const void *a, const void *b)
{
	double x = ((const struct timing *)a)->median, y = ((const struct timing *)b)->median;
	return (x > y) - (x < y);
}

/* nt threads query p[0..n) each, started together: their timings, sorted. */
static void query_at_once(const void *const *p, size_t n, int nt, struct timing *t)
{
	pthread_t th[8];
	struct querier q[8];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, (unsigned)nt);
	for (int i = 0; i < nt; i++) {
		q[i] = (struct querier){p, n, &start, {0, 0}};
		if (pthread_create(&th[i], NULL, querier_main, &q[i]) != 0) {
			fprintf(stderr, "query_bench: pthread_create failed\n");
			exit(1);
		}
	}
	for (int i = 0; i < nt; i++) {
		pthread_join(th[i], NULL);
		t[i] = q[i].t;
	}
	pthread_barrier_destroy(&start);
	qsort(t, (size_t)nt, sizeof *t, cmp_timing);
}

static size_t thread_queries(size_t nq, uint64_t *rng)
{
	void *chunk[HOT];
	size_t size[HOT];
	for (int i = 0; i < HOT; i++)
		if (!(chunk[i] = malloc(size[i] = log_uniform_size(rng)))) {
			fprintf(stderr, "query_bench: malloc failed\n");
			exit(1);
		}
	const void **p = map_or_die(nq * sizeof *p), **base = map_or_die(nq * sizeof *base);
	size_t *req = map_or_die(nq * sizeof *req);
	draw(chunk, size, HOT, nq, rng, p, base, req);
	pthread_t th;
	if (pthread_create(&th, NULL, idle, NULL) == 0)
		pthread_join(th, NULL); /* the process is multi-threaded from now on */
	size_t wrong = check_answers(p, base, req, nq, ALLOCMAP_HEAP_CHUNK, "heap, threads");
	print_row("256 hot, threaded proc", nq * PASSES, time_batches(QUERIES, p, NULL, nq, PASSES), wrong,
		  "the main thread alone, other threads having run");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int nt = cpus < 2 ? 2 : cpus > 8 ? 8 : (int)cpus;
	struct timing t[8];
	query_at_once(p, nq, nt, t);
	char what[32], note[64];
	snprintf(what, sizeof what, "256 hot, %d at once", nt);
	snprintf(note, sizeof note, "%d threads querying together; fastest %.1f", nt, t[0].median);
	print_row(what, nq * PASSES * (size_t)nt, t[nt / 2], 0, note);
	for (int i = 0; i < HOT; i++)
		free(chunk[i]);
	munmap(p, nq * sizeof *p), munmap(base, nq * sizeof *base), munmap(req, nq * sizeof *req);
	return wrong;
}

int main(int argc, char **argv)
{
	const char *lib = NULL;
	size_t nlive = 1000000, nq = (size_t)1 << 20;
	int c;
	while ((c = getopt(argc, argv, "l:n:q:")) != -1) {
		if (c == 'l')
			lib = optarg;
		else if (c == 'n')
			nlive = strtoul(optarg, NULL, 10);
		else if (c == 'q')
			nq = strtoul(optarg, NULL, 10);
		else
			usage();
	}
	if (nlive < 1000 || nq < BATCH || !malloc || !free)
		usage();
	query_plain = (query_fn)dlsym(RTLD_DEFAULT, "allocmap_query");
	many_plain = (many_fn)dlsym(RTLD_DEFAULT, "allocmap_query_many");
	query_ex = (query_ex_fn)dlsym(RTLD_DEFAULT, "allocmap_query_ex");
	many_ex = (many_ex_fn)dlsym(RTLD_DEFAULT, "allocmap_query_many_ex");
	if (!query_plain || !many_plain) {
		if (!lib || lib[0] != '/' || getenv("QUERY_BENCH_CHILD")) {
			fprintf(stderr, "query_bench: liballocmap.so not loaded; give -l /absolute/path/liballocmap.so\n");
			return lib ? 1 : 2;
		}
		reexec_preloaded(lib, argv);
	}

	uint64_t rng = 0x9E3779B9ull;
	double load[1] = {-1}, t0 = now();
	getloadavg(load, 1);
	printf("query_bench: allocmap_query throughput, batches of %d queries timed, median and 90th percentile\n", BATCH);
	printf("  of batch ns/query over %d passes; %zu live heap chunks (sizes log-uniform [%d, %d] B, a fifth\n",
	       PASSES, nlive, 1 << SIZE_MIN_LOG2, 1 << SIZE_MAX_LOG2);
	printf("  freed between them); every answer checked once, untimed; %ld CPUs, load average %.2f at start\n\n",
	       sysconf(_SC_NPROCESSORS_ONLN), load[0]);
	printf("%-22s %9s | %8s %8s | %6s\n", "pointers into", "queries", "median", "p90", "wrong");
	printf("%-22s %9s | %17s |\n", "", "", "ns/query");
	struct timing heap[5];
	size_t wrong = large_queries("large chunks, mmapped", &rng);
	wrong += heap_queries(nlive, nq, &rng, heap);
	wrong += large_queries("large chunks, in heap", &rng);
	wrong += stack_queries(&rng);
	wrong += text_queries("libc text", (const void *)&printf, &rng);
	wrong += text_queries("program text", (const void *)&main, &rng);
	wrong += unmapped_queries(&rng);
	wrong += thread_queries(nq / 4, &rng);
	int trip_met = heap[0].median <= heap[2].median, many_met = heap[4].median <= GOAL_MANY_NS,
	    hot_met = heap[3].median <= GOAL_HOT_NS;
	printf("\nheap chunks: median %.1f ns/query on random pointers (floors: %.1f independent, %.1f chained\n",
	       heap[0].median, heap[1].median, heap[2].median);
	printf("  loads); %.1f ns/query with what the query reads in cache (256 hot chunks)\n", heap[3].median);
	printf("  goal random single <= one round trip (chained floor): %s\n", trip_met ? "MET" : "MISSED");
	printf("  goal random batched <= %.0f ns/query: %s (batched (%.1f))\n", GOAL_MANY_NS,
	       many_met ? "MET" : "MISSED", heap[4].median);
	printf("  goal in cache <= %.0f ns/query: %s\n", GOAL_HOT_NS, hot_met ? "MET" : "MISSED");
	getloadavg(load, 1);
	printf("%s; %.1f s; load average %.2f at end\n", wrong ? "WRONG ANSWERS (see stderr)" : "every answer right",
	       now() - t0, load[0]);
	return wrong != 0;
}
