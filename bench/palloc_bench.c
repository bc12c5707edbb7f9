/* Private-allocator benchmark: the no-mmap tier, the mmap tier and glibc
 * malloc replay exactly the same pre-generated operation sequences.
 *
 * Workload. A scenario is a free order (LIFO, FIFO, random) and a thread
 * count (1 or 2). Each thread replays its own sequence: sizes log-uniform
 * over [8, 65536] (median 724 B, mean 7.1 KiB); LIVE allocations to ramp
 * up, then bursts (allocate b in [1, BURST_MAX] blocks, then free b chosen
 * by the order: LIFO the newest, FIFO the oldest, random any live one),
 * then everything is freed in the same order. Every allocation writes a
 * tag to its first and last byte; every free checks both.
 *
 * Timing. Each (allocator, scenario) pair runs `reps` times, interleaved
 * (the allocator order rotates each repetition); the median ops/s is
 * reported (an op is one malloc or one free). Every run starts cold: a
 * fresh tier, or glibc after malloc_trim(0) gave its free pages back. The 1-thread scenarios run on
 * the main thread before any thread exists, so glibc keeps its
 * single-thread fast path there, as a single-threaded program would; with
 * 2 threads both share one tier (or the real malloc).
 *
 * Fragmentation: peak footprint / peak live requested bytes, both from
 * one extra, untimed "measuring" run per (allocator, scenario), so that
 * the timed loop carries no bookkeeping:
 *   live:  the requested bytes live (counted once malloc returned, until
 *          free is called), summed over threads in one shared atomic
 *          counter, and its maximum (exact);
 *   tiers: peak_footprint of the run's fresh tier (kept by the tier: the
 *          no-mmap break less the pool start, or the mmap chunks' bytes);
 *   glibc: the maximum of mallinfo2() arena+hblkhd, less its value before
 *          the run, sampled every SAMPLE_EVERY ops of each thread. This
 *          run happens in a fresh copy of this program (-M): in a process
 *          that already ran, blocks parked in the thread cache pin the
 *          heap top, so malloc_trim cannot shrink it and the next run's
 *          growth would not show.
 *
 * Exit status: 1 on a NULL return, a corrupted tag, or a tier whose
 * consistency check or counters fail after a run; missing a goal is
 * reported, not an error.
 */
#include "benchutil.h"
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/palloc/palloc.h"

#define LIVE 2048                      /* live blocks per thread after the ramp */
#define BURST_MAX 64                   /* blocks allocated then freed per burst */
#define NSLOTS (LIVE + BURST_MAX)      /* most blocks a thread holds at once */
#define RING 4096                      /* power of two >= NSLOTS */
#define SIZE_MIN_LOG2 3
#define SIZE_MAX_LOG2 16
#define SAMPLE_EVERY 32
#define NOMMAP_RESERVE ((size_t)256 << 20)
#define MAX_THREADS 2
#define FREE_BIT 0x80000000u
#define GOAL_RATIO 0.7
#define GOAL_FRAG 1.3

_Static_assert((RING & (RING - 1)) == 0 && RING >= NSLOTS, "ring holds every live slot");

enum order { LIFO, FIFO, RANDOM };
enum allocator { A_NOMMAP, A_MMAP, A_GLIBC, NALLOC };

static const char *const order_name[] = {"lifo", "fifo", "random"};
static const char *const alloc_name[] = {"nommap", "mmap", "glibc"};

struct op {
	uint32_t slot;                 /* FREE_BIT set: free the block in slot */
	uint32_t size;                 /* requested bytes (also on frees: where the tag is) */
};

struct seq {
	struct op *ops;
	size_t n, cap;
};

struct scenario {
	enum order order;
	int threads;
};

static const struct scenario scenarios[] = {
	{LIFO, 1}, {FIFO, 1}, {RANDOM, 1}, {LIFO, 2}, {FIFO, 2}, {RANDOM, 2},
};
#define NSCEN (sizeof scenarios / sizeof scenarios[0])

/* What one thread replays, and what it found. */
struct worker {
	const struct seq *seq;
	enum allocator alloc;
	int measure;                   /* the untimed run that measures fragmentation */
	void *slots[NSLOTS];
	uint64_t nulls, corrupt;
	size_t max_glibc;              /* most arena+hblkhd seen when sampling */
	pthread_t tid;
};

static struct am_tier bench_tier[2]; /* [A_NOMMAP], [A_MMAP]: fresh per run */
static int start_flag;
static unsigned ready_count;
static uint64_t live_now, live_peak; /* measuring runs: requested bytes, all threads */

/* ---- sequences ---------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t log_uniform_size(uint64_t *rng)
{
	double u = (double)(rng_next(rng) >> 11) / 9007199254740992.0; /* [0, 1) */
	double s = exp2(SIZE_MIN_LOG2 + u * (SIZE_MAX_LOG2 - SIZE_MIN_LOG2));
	return s > (1u << SIZE_MAX_LOG2) ? 1u << SIZE_MAX_LOG2 : (uint32_t)s;
}

static void *map_or_die(size_t len)
{
	/* mmap, not malloc: the benchmark's own data stays out of glibc's heap */
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("palloc_bench: mmap");
		exit(1);
	}
	return p;
}

/* The generator's view of the live blocks, oldest at head. */
struct gen {
	uint32_t ring[RING], head, count;
	uint32_t free_slots[NSLOTS], nfree;
	uint32_t size_of[NSLOTS];
	uint64_t rng;
	enum order order;
	struct seq *seq;
};

static void gen_alloc(struct gen *g)
{
	uint32_t slot = g->free_slots[--g->nfree], size = log_uniform_size(&g->rng);
	g->size_of[slot] = size;
	g->ring[(g->head + g->count++) & (RING - 1)] = slot;
	g->seq->ops[g->seq->n++] = (struct op){slot, size};
}

/* Takes the victim the order names out of the ring. */
static uint32_t gen_victim(struct gen *g)
{
	if (g->order == FIFO) {
		g->count--;
		return g->ring[g->head++ & (RING - 1)];
	}
	uint32_t *last = &g->ring[(g->head + g->count - 1) & (RING - 1)];
	if (g->order == RANDOM) {
		uint32_t *pick = &g->ring[(g->head + rng_next(&g->rng) % g->count) & (RING - 1)];
		uint32_t t = *pick;
		*pick = *last, *last = t;
	}
	g->count--;
	return *last;
}

static void gen_free(struct gen *g)
{
	uint32_t slot = gen_victim(g);
	g->seq->ops[g->seq->n++] = (struct op){slot | FREE_BIT, g->size_of[slot]};
	g->free_slots[g->nfree++] = slot;
}

/* About `target` ops (>= 4 * LIVE): ramp, bursts, drain. */
static void gen_seq(struct seq *s, enum order order, uint64_t seed, size_t target)
{
	static struct gen g;
	memset(&g, 0, sizeof g);
	g.rng = seed, g.order = order, g.seq = s;
	for (uint32_t i = 0; i < NSLOTS; i++)
		g.free_slots[g.nfree++] = NSLOTS - 1 - i;
	s->cap = target;
	s->ops = map_or_die(target * sizeof *s->ops);
	s->n = 0;
	for (int i = 0; i < LIVE; i++)
		gen_alloc(&g);
	while (s->n + 2 * BURST_MAX + g.count <= target) {
		uint32_t b = 1 + (uint32_t)(rng_next(&g.rng) % BURST_MAX);
		for (uint32_t i = 0; i < b; i++)
			gen_alloc(&g);
		for (uint32_t i = 0; i < b; i++)
			gen_free(&g);
	}
	while (g.count)
		gen_free(&g);
}

/* ---- replay ------------------------------------------------------------- */

static void *nommap_malloc(size_t n) { return am_palloc_malloc(&bench_tier[A_NOMMAP], n); }
static void nommap_free(void *p) { am_palloc_free(&bench_tier[A_NOMMAP], p); }
static void *mmap_malloc(size_t n) { return am_palloc_malloc(&bench_tier[A_MMAP], n); }
static void mmap_free(void *p) { am_palloc_free(&bench_tier[A_MMAP], p); }

static inline unsigned char tag_of(uint32_t slot, uint32_t size)
{
	return (unsigned char)(slot * 0x9Du ^ size ^ 0x5Au);
}

static size_t glibc_footprint(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.arena + mi.hblkhd;
}

/* The loop every allocator runs; inlined into one copy per allocator so
 * each makes direct calls. */
static inline __attribute__((always_inline)) void replay(struct worker *w, void *(*alloc)(size_t),
							  void (*release)(void *))
{
	const struct op *op = w->seq->ops, *end = op + w->seq->n;
	for (; op < end; op++) {
		uint32_t slot = op->slot & ~FREE_BIT, size = op->size;
		unsigned char tag = tag_of(slot, size), *p;
		if (!(op->slot & FREE_BIT)) {
			p = alloc(size);
			if (p)
				p[0] = tag, p[size - 1] = tag;
			else
				w->nulls++;
			w->slots[slot] = p;
			continue;
		}
		p = w->slots[slot];
		if (p && (p[0] != tag || p[size - 1] != tag))
			w->corrupt++;
		release(p);
	}
}

static __attribute__((noinline)) void replay_nommap(struct worker *w) { replay(w, nommap_malloc, nommap_free); }
static __attribute__((noinline)) void replay_mmap(struct worker *w) { replay(w, mmap_malloc, mmap_free); }
static __attribute__((noinline)) void replay_glibc(struct worker *w) { replay(w, malloc, free); }

static void note_live(int64_t delta)
{
	uint64_t now_live = __atomic_add_fetch(&live_now, (uint64_t)delta, __ATOMIC_RELAXED);
	uint64_t peak = __atomic_load_n(&live_peak, __ATOMIC_RELAXED);
	while (now_live > peak &&
	       !__atomic_compare_exchange_n(&live_peak, &peak, now_live, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* The measuring run: the same ops one at a time, counting live bytes and
 * (glibc) sampling its footprint. */
static void replay_measured(struct worker *w)
{
	static void (*const replay_of[NALLOC])(struct worker *) = {replay_nommap, replay_mmap, replay_glibc};
	const struct seq *whole = w->seq;
	for (size_t i = 0; i < whole->n; i++) {
		const struct op *op = &whole->ops[i];
		struct seq one = {(struct op *)op, 1, 0};
		if (op->slot & FREE_BIT)
			note_live(-(int64_t)op->size);
		w->seq = &one;
		replay_of[w->alloc](w);
		if (!(op->slot & FREE_BIT))
			note_live(op->size);
		if (w->alloc == A_GLIBC && i % SAMPLE_EVERY == 0) {
			size_t f = glibc_footprint();
			w->max_glibc = f > w->max_glibc ? f : w->max_glibc;
		}
	}
	w->seq = whole;
	if (w->alloc == A_GLIBC) {
		size_t f = glibc_footprint();
		w->max_glibc = f > w->max_glibc ? f : w->max_glibc;
	}
}

static void replay_any(struct worker *w)
{
	if (w->measure)
		replay_measured(w);
	else if (w->alloc == A_NOMMAP)
		replay_nommap(w);
	else if (w->alloc == A_MMAP)
		replay_mmap(w);
	else
		replay_glibc(w);
}

static void *thread_main(void *arg)
{
	__atomic_fetch_add(&ready_count, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&start_flag, __ATOMIC_ACQUIRE))
		;
	replay_any(arg);
	return NULL;
}


/* Runs the workers (on this thread if there is one), returns seconds. */
static double run_workers(struct worker *w, int nthreads)
{
	if (nthreads == 1) {
		double t0 = now();
		replay_any(w);
		return now() - t0;
	}
	start_flag = 0, ready_count = 0;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&w[i].tid, NULL, thread_main, &w[i]) != 0) {
			fprintf(stderr, "palloc_bench: pthread_create failed\n");
			exit(1);
		}
	while (__atomic_load_n(&ready_count, __ATOMIC_ACQUIRE) < (unsigned)nthreads)
		;
	double t0 = now();
	__atomic_store_n(&start_flag, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < nthreads; i++)
		pthread_join(w[i].tid, NULL);
	return now() - t0;
}

/* ---- one run ------------------------------------------------------------ */

struct run_result {
	double ops_per_s;
	size_t peak_footprint;
	uint64_t peak_live;            /* measuring runs only */
	int failed;
};

static void tier_start(enum allocator a)
{
	if (a == A_MMAP) {
		am_mmaptier_init(&bench_tier[A_MMAP]);
	} else if (am_nommap_init(&bench_tier[A_NOMMAP], NOMMAP_RESERVE) != 0) {
		fprintf(stderr, "palloc_bench: cannot reserve the no-mmap tier\n");
		exit(1);
	}
}

/* After a tier run: its peak, and whether it is intact and empty. */
static int tier_finish(enum allocator a, size_t *peak)
{
	struct am_tier *t = &bench_tier[a];
	struct allocmap_tier_stats st;
	am_palloc_stats(t, &st);
	size_t bad = am_palloc_validate(t);
	int failed = bad || st.live_blocks || st.failed || st.bad_frees;
	*peak = st.peak_footprint;
	if (failed)
		fprintf(stderr, "palloc_bench: %s: check %zu, live %llu, failed %llu, bad frees %llu after run\n",
			alloc_name[a], bad, (unsigned long long)st.live_blocks, (unsigned long long)st.failed,
			(unsigned long long)st.bad_frees);
	am_tier_destroy(t);
	return failed;
}

static int workers_failed(const struct worker *w, int nthreads, enum allocator a)
{
	int failed = 0;
	for (int i = 0; i < nthreads; i++)
		if (w[i].nulls || w[i].corrupt) {
			fprintf(stderr, "palloc_bench: %s thread %d: %llu NULL returns, %llu corrupted blocks\n",
				alloc_name[a], i, (unsigned long long)w[i].nulls, (unsigned long long)w[i].corrupt);
			failed = 1;
		}
	return failed;
}

static struct run_result run_once(const struct seq *seqs, int nthreads, enum allocator a, int measure)
{
	static struct worker w[MAX_THREADS];
	struct run_result r = {0, 0, 0, 0};
	size_t ops = 0, base = 0;
	for (int i = 0; i < nthreads; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].seq = &seqs[i], w[i].alloc = a, w[i].measure = measure;
		ops += seqs[i].n;
	}
	live_now = live_peak = 0;
	if (a == A_GLIBC) {
		malloc_trim(0);
		base = glibc_footprint();
	} else {
		tier_start(a);
	}
	double secs = run_workers(w, nthreads);
	r.ops_per_s = (double)ops / secs;
	r.peak_live = live_peak;
	r.failed = workers_failed(w, nthreads, a);
	if (a != A_GLIBC)
		r.failed |= tier_finish(a, &r.peak_footprint);
	for (int i = 0; i < nthreads; i++)
		if (w[i].max_glibc > base && w[i].max_glibc - base > r.peak_footprint)
			r.peak_footprint = w[i].max_glibc - base;
	return r;
}

/* ---- scenarios and report ----------------------------------------------- */

struct scen_result {
	double ops[NALLOC];            /* median ops/s */
	double frag[NALLOC];
	uint64_t peak_live;            /* largest of the measuring runs' peaks */
	size_t ops_total;
};

static void gen_scenario(const struct scenario *sc, size_t nops, struct seq *seqs)
{
	for (int i = 0; i < sc->threads; i++)
		gen_seq(&seqs[i], sc->order, 0xA110C0DEull * (uint64_t)(sc->order + 1) + (uint64_t)i, nops);
}

static void free_scenario(const struct scenario *sc, struct seq *seqs)
{
	for (int i = 0; i < sc->threads; i++)
		munmap(seqs[i].ops, seqs[i].cap * sizeof *seqs[i].ops);
}

/* -M mode, in a fresh process: glibc's measuring run of one scenario,
 * printed as "peak_footprint peak_live". */
static int measure_glibc_here(size_t scen, size_t nops)
{
	struct seq seqs[MAX_THREADS];
	gen_scenario(&scenarios[scen], nops, seqs);
	struct run_result r = run_once(seqs, scenarios[scen].threads, A_GLIBC, 1);
	printf("%zu %llu\n", r.peak_footprint, (unsigned long long)r.peak_live);
	return r.failed;
}

/* Runs measure_glibc_here in a fresh copy of this program. */
static struct run_result measure_glibc(size_t scen, size_t nops)
{
	struct run_result r = {0, 0, 0, 1};
	char arg_scen[24], arg_nops[24], out[128];
	int fd[2], status;
	snprintf(arg_scen, sizeof arg_scen, "%zu", scen);
	snprintf(arg_nops, sizeof arg_nops, "%zu", nops);
	fflush(stdout);
	if (pipe(fd) != 0)
		return r;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		execl("/proc/self/exe", "palloc_bench", "-M", arg_scen, "-n", arg_nops, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	ssize_t len = pid > 0 ? read(fd[0], out, sizeof out - 1) : -1;
	close(fd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) || len <= 0)
		return r;
	out[len] = 0;
	unsigned long long live;
	if (sscanf(out, "%zu %llu", &r.peak_footprint, &live) == 2)
		r.failed = 0, r.peak_live = live;
	return r;
}



/* Timed runs, interleaved; fills out->ops with the medians. */
static int time_scenario(const struct scenario *sc, const struct seq *seqs, int reps, struct scen_result *out)
{
	double samples[NALLOC][64];
	int failed = 0;
	for (int rep = 0; rep < reps; rep++)
		for (int k = 0; k < NALLOC; k++) {
			enum allocator a = (enum allocator)((k + rep) % NALLOC);
			struct run_result r = run_once(seqs, sc->threads, a, 0);
			samples[a][rep] = r.ops_per_s;
			failed |= r.failed;
		}
	for (int a = 0; a < NALLOC; a++)
		out->ops[a] = median(samples[a], reps);
	return failed;
}

static int run_scenario(size_t scen, size_t nops, int reps, struct scen_result *out)
{
	const struct scenario *sc = &scenarios[scen];
	struct seq seqs[MAX_THREADS];
	memset(out, 0, sizeof *out);
	gen_scenario(sc, nops, seqs);
	for (int i = 0; i < sc->threads; i++)
		out->ops_total += seqs[i].n;
	int failed = time_scenario(sc, seqs, reps, out);
	for (int a = 0; a < NALLOC; a++) {
		struct run_result r = a == A_GLIBC ? measure_glibc(scen, nops) : run_once(seqs, sc->threads, a, 1);
		if (r.failed)
			fprintf(stderr, "palloc_bench: %s: measuring run failed\n", alloc_name[a]);
		failed |= r.failed;
		out->frag[a] = r.peak_live ? (double)r.peak_footprint / (double)r.peak_live : 0;
		out->peak_live = r.peak_live > out->peak_live ? r.peak_live : out->peak_live;
	}
	free_scenario(sc, seqs);
	return failed;
}

static void print_header(size_t nops, int reps)
{
	printf("palloc_bench: %d blocks live per thread, bursts of 1-%d, sizes log-uniform [%u, %u] B,\n", LIVE,
	       BURST_MAX, 1u << SIZE_MIN_LOG2, 1u << SIZE_MAX_LOG2);
	printf("  ~%zu ops per thread per run, median of %d interleaved runs; ratio = tier ops/s / glibc ops/s;\n",
	       nops, reps);
	printf("  frag = peak footprint / peak live requested bytes, from one more untimed run each\n");
	printf("  (tiers: their peak_footprint; glibc: mallinfo2 arena+hblkhd every %d ops, fresh process)\n",
	       SAMPLE_EVERY);
	/* the 2-thread figures need both CPUs: other load changes them a lot */
	double load[1] = {-1};
	getloadavg(load, 1);
	printf("  %ld CPUs online, load average %.2f at start\n\n", sysconf(_SC_NPROCESSORS_ONLN), load[0]);
	printf("%-9s %8s %9s | %7s %7s %7s | %6s %6s | %6s %6s %6s\n", "scenario", "ops", "live MiB", "nommap",
	       "mmap", "glibc", "nommap", "mmap", "nommap", "mmap", "glibc");
	printf("%-9s %8s %9s | %23s | %13s | %20s\n", "", "", "", "Mops/s (median)", "ratio", "frag");
}

static void print_row(const struct scenario *sc, const struct scen_result *r)
{
	char name[32];
	snprintf(name, sizeof name, "%s-%dT", order_name[sc->order], sc->threads);
	printf("%-9s %7.2fM %9.1f | %7.2f %7.2f %7.2f | %5.2fx %5.2fx | %6.3f %6.3f %6.3f\n", name,
	       (double)r->ops_total / 1e6, (double)r->peak_live / 1048576.0, r->ops[A_NOMMAP] / 1e6,
	       r->ops[A_MMAP] / 1e6, r->ops[A_GLIBC] / 1e6, r->ops[A_NOMMAP] / r->ops[A_GLIBC],
	       r->ops[A_MMAP] / r->ops[A_GLIBC], r->frag[A_NOMMAP], r->frag[A_MMAP], r->frag[A_GLIBC]);
	fflush(stdout);
}

/* Summary line and goal verdicts for one tier; returns goals missed. */
static int print_summary(enum allocator a, const struct scen_result *res)
{
	double worst1 = 1e9, worst = 1e9, logsum = 0, frag = 0;
	for (size_t i = 0; i < NSCEN; i++) {
		double ratio = res[i].ops[a] / res[i].ops[A_GLIBC];
		worst = ratio < worst ? ratio : worst;
		if (scenarios[i].threads == 1 && ratio < worst1)
			worst1 = ratio;
		logsum += log(ratio);
		frag = res[i].frag[a] > frag ? res[i].frag[a] : frag;
	}
	int tput_ok = worst1 >= GOAL_RATIO, frag_ok = frag <= GOAL_FRAG;
	printf("%-6s worst ratio %.2fx (1T) %.2fx (all), geomean ratio %.2fx, worst frag %.3f\n", alloc_name[a],
	       worst1, worst, exp(logsum / NSCEN), frag);
	printf("       goal 1T throughput >= %.2fx glibc: %s; goal frag <= %.2f: %s\n", GOAL_RATIO,
	       tput_ok ? "MET" : "MISSED", GOAL_FRAG, frag_ok ? "MET" : "MISSED");
	return !tput_ok + !frag_ok;
}

static void usage(void)
{
	fprintf(stderr, "usage: palloc_bench [-n ops-per-thread (>= %d)] [-r repetitions (1-63)]\n", 4 * LIVE);
	exit(2);
}

int main(int argc, char **argv)
{
	size_t nops = 1000000, measure_scen = NSCEN;
	int reps = 5, c, failed = 0, missed = 0;
	while ((c = getopt(argc, argv, "n:r:M:")) != -1) {
		if (c == 'n')
			nops = strtoul(optarg, NULL, 10);
		else if (c == 'r')
			reps = atoi(optarg);
		else if (c == 'M') /* internal: see measure_glibc */
			measure_scen = strtoul(optarg, NULL, 10);
		else
			usage();
	}
	if (nops < 4 * LIVE || reps < 1 || reps > 63)
		usage();
	if (measure_scen < NSCEN)
		return measure_glibc_here(measure_scen, nops);
	static struct scen_result res[NSCEN];
	print_header(nops, reps);
	double t0 = now();
	/* 1-thread scenarios come first: glibc is single-threaded until then */
	for (size_t i = 0; i < NSCEN; i++) {
		failed |= run_scenario(i, nops, reps, &res[i]);
		print_row(&scenarios[i], &res[i]);
	}
	printf("\n");
	missed += print_summary(A_NOMMAP, res);
	missed += print_summary(A_MMAP, res);
	printf("\n%s; %s; %.1f s\n", failed ? "FAILED (NULL return or corruption, see stderr)" : "no failures",
	       missed ? "some goals MISSED" : "all goals met", now() - t0);
	return failed;
}
