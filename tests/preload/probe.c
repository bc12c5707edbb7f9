/* probe.so: an adversarial client of the query API inside a real program.
 *
 *   LD_PRELOAD="liballocmap.so probe.so" program ...
 *
 * Its constructor starts PROBE_THREADS threads (default 2) that, until the
 * program exits, pick addresses (random ones inside the mappings of
 * /proc/self/maps, words read from the program's memory that look like
 * pointers, NULL, kernel and non-canonical addresses, holes between
 * mappings, mapping edges, and the edges of chunks found before), query
 * them one by one and through allocmap_query_many, now and then walk
 * everything, and check every answer:
 *   - on its own (no race can excuse these): rc 0 or -1; -1 leaves *out
 *     zeroed; kind and allocator valid and matching; base <= p < base + size;
 *     the allocation inside its mapping, p inside the mapping;
 *     requested <= size; a chunk 16-byte aligned; a mapping-level answer is
 *     its mapping; strings readable;
 *   - against the kernel and other answers, which races can excuse, so a
 *     mismatch is checked again (mincore, /proc/self/maps read afresh,
 *     fresh queries) and fails only if it persists over VERIFY_EVIDENCE
 *     rounds and half a second in which the index did not change
 *     (verify()): -1 only where the kernel has no page, 0 only where it
 *     has one; the page's protection; the mapping's first and last pages
 *     mapped; a path readable; a chunk's site in executable memory; base
 *     and the last byte answer the same allocation; a chunk's mapping is
 *     the brk heap or anonymous; query_many agrees with single queries.
 * The walk's callback checks each answer on its own, their address order,
 * and counts them; each walk also checks the statistics (stats_wrong).
 * At exit (destructor) the threads are stopped (one that does not stop is
 * a hang) and one line goes to stderr:
 *   probe: pid N (comm): Q queries (...by kind...), ... , F inconsistencies
 * followed by "PROBE FAIL" on its own line if F > 0. Each inconsistency is
 * also described on stderr when seen (the first 20).
 * The probe never faults: it reads the program's memory only through
 * process_vm_readv. Its threads allocate nothing (static buffers, raw
 * read of the maps), so the program's heap is the program's.
 * In a forked child (PROBE_FORK=0 turns it off) the counts start again and
 * the threads are started again.
 * With PROBE_SIGNALS=MS, every MS milliseconds a random thread of the
 * program gets SIGURG, whose handler queries the addresses in the
 * registers it interrupted (on_signal), wherever that thread was.
 * Environment: PROBE_THREADS (0-4), PROBE_FORK, PROBE_SEED, PROBE_SIGNALS,
 * PROBE_VERBOSE=1 (describe each mismatch that went away: a race; 2: each
 * verification round).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <time.h>
#include <unistd.h>

#include "allocmap.h"

#define MAX_THREADS 4
#define MAX_REGIONS 32768
#define MAPS_BUF (4u << 20)
#define BATCH 64
#define RECENT 64
#define VERIFY_ROUNDS 10
#define VERIFY_EVIDENCE 3
#define VERIFY_SPAN_MS 500
#define MAX_REPORTS 20

typedef int (*query_fn)(const void *, struct allocmap_info *, size_t);
typedef size_t (*many_fn)(const void *const *, size_t, struct allocmap_info *, size_t);
typedef int (*walk_fn)(unsigned, allocmap_walk_fn, void *);
typedef int (*istats_fn)(struct allocmap_index_stats *);
typedef int (*tstats_fn)(enum allocmap_tier, struct allocmap_tier_stats *);
typedef int (*hstats_fn)(struct allocmap_heap_stats *);

static query_fn q_query_ex;
static many_fn q_many_ex;
static walk_fn q_walk;
static istats_fn q_istats;
static tstats_fn q_tstats;
static hstats_fn q_hstats;

/* The _ex entry points, with this header's struct (allocmap.h: ABI). */
static int q_query(const void *p, struct allocmap_info *i) { return q_query_ex(p, i, sizeof *i); }
static size_t q_many(const void *const *ps, size_t n, struct allocmap_info *out)
{
	return q_many_ex(ps, n, out, sizeof *out);
}

struct region {
	uintptr_t lo, hi;
	int prot;
};

struct snap {
	struct region r[MAX_REGIONS];
	int n;
	char buf[MAPS_BUF];
};

struct chunkref {
	uintptr_t base;
	size_t size;
};

struct tstate {
	struct snap snap, fresh;
	uint64_t rng;
	struct chunkref recent[RECENT];
	unsigned nrecent;
	const void *batch[BATCH];
	struct allocmap_info single[BATCH], many[BATCH], again[BATCH];
	pthread_t tid;
	int started;
};

static struct tstate ts[MAX_THREADS];
static int nthreads, verbose;
static volatile int stop;
static int running;  /* threads inside their loop */
static pid_t probe_pid;
static int err_fd = 2; /* stderr, kept: programs close theirs at exit (coreutils) */
static uint64_t seed;

/* Counters, all threads (relaxed atomics). */
static uint64_t n_queries, n_kind[ALLOCMAP_HEAP_FREE + 1], n_many, n_many_addrs, n_walks, n_walk_seqs, n_walk_chunks;
static uint64_t n_races, n_unsettled, n_fail, n_sites, n_snaps, n_harvested;

#define ADD(c, k) __atomic_fetch_add(&(c), (k), __ATOMIC_RELAXED)
#define GET(c) __atomic_load_n(&(c), __ATOMIC_RELAXED)

/* ---- output (no stdio: snprintf into a stack buffer, write) ---- */

static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 1)
		n = sizeof line - 1;
	if (n > 0 && write(err_fd, line, (size_t)n) < 0)
		return;
}

static void describe(const char *what, const void *p, int rc, const struct allocmap_info *i)
{
	say("probe: INCONSISTENT %s: p=%p rc=%d kind=%d base=%p size=%zu req=%zu site=%p alloc=%s map=%p+%zu "
	    "prot=%d\n",
	    what, p, rc, (int)i->kind, i->base, i->size, i->requested, i->site, i->allocator ? i->allocator : "(null)",
	    i->map_base, i->map_size, i->prot);
}

static void failed(const char *what, const void *p, int rc, const struct allocmap_info *i)
{
	if (ADD(n_fail, 1) < MAX_REPORTS)
		describe(what, p, rc, i);
}

/* ---- randomness ---- */

static uint64_t rnd(struct tstate *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

static uint64_t below(struct tstate *t, uint64_t n) { return n ? rnd(t) % n : 0; }

/* ---- the kernel's view ---- */

static int hexval(const char **s, uintptr_t *v)
{
	const char *c = *s;
	uintptr_t x = 0;
	int any = 0;
	for (;; c++, any = 1) {
		int d = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10 : -1;
		if (d < 0)
			break;
		x = x << 4 | (uintptr_t)d;
	}
	*s = c, *v = x;
	return any ? 0 : -1;
}

/* Reads /proc/self/maps into s (raw reads: no stdio, no malloc). */
static int read_maps(struct snap *s)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t k;
	if (fd < 0)
		return -1;
	while (len < MAPS_BUF - 1 && (k = read(fd, s->buf + len, MAPS_BUF - 1 - len)) > 0)
		len += (size_t)k;
	close(fd);
	s->buf[len] = 0;
	s->n = 0;
	for (const char *c = s->buf; *c && s->n < MAX_REGIONS;) {
		struct region *r = &s->r[s->n];
		if (hexval(&c, &r->lo) || *c++ != '-' || hexval(&c, &r->hi) || *c++ != ' ')
			break;
		r->prot = (c[0] == 'r' ? PROT_READ : 0) | (c[1] == 'w' ? PROT_WRITE : 0) | (c[2] == 'x' ? PROT_EXEC : 0);
		s->n++;
		while (*c && *c != '\n')
			c++;
		if (*c)
			c++;
	}
	ADD(n_snaps, 1);
	return 0;
}

static const struct region *region_at(const struct snap *s, uintptr_t p)
{
	int lo = 0, hi = s->n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (s->r[mid].hi <= p)
			lo = mid + 1;
		else if (s->r[mid].lo > p)
			hi = mid;
		else
			return &s->r[mid];
	}
	return NULL;
}

/* Reads n bytes at a in this process without faulting; bytes read. */
static size_t peek(void *dst, uintptr_t a, size_t n)
{
	struct iovec l = {dst, n}, r = {(void *)a, n};
	ssize_t k = process_vm_readv(probe_pid, &l, 1, &r, 1, 0);
	return k > 0 ? (size_t)k : 0;
}

/* ---- checks of one answer on its own ---- */

static int user_addr(uintptr_t p) { return p >= 4096 && p < ((uintptr_t)1 << 47); }

/* [vsyscall] is in /proc/self/maps: the library knows it ("kernel"). */
static int vsyscall(uintptr_t a, const struct allocmap_info *i)
{
	return a - 0xffffffffff600000u < 4096 && i->kind == ALLOCMAP_OBJECT && i->map_size == 4096;
}

static const char *const allocators[] = {"malloc", "mmap", "brk", "stack", "object", "kernel",
					 "allocmap-nommap", "allocmap-mmap", "allocmap-index"};

static int allocator_fits(enum allocmap_kind k, const char *a)
{
	switch (k) {
	case ALLOCMAP_HEAP_CHUNK:
	case ALLOCMAP_HEAP_FREE: return !strcmp(a, "malloc");
	case ALLOCMAP_ANON:
	case ALLOCMAP_FILE: return !strcmp(a, "mmap");
	case ALLOCMAP_OBJECT: return !strcmp(a, "object") || !strcmp(a, "kernel");
	case ALLOCMAP_BRK: return !strcmp(a, "brk");
	case ALLOCMAP_STACK: return !strcmp(a, "stack");
	case ALLOCMAP_SELF: return !strncmp(a, "allocmap-", 9);
	default: return 0;
	}
}

/* A string of the library's: readable, NUL-terminated within max bytes,
 * not empty; copied to b. */
static int string_ok(const char *s, char *b, size_t max)
{
	size_t n = peek(b, (uintptr_t)s, max);
	return n > 0 && memchr(b, 0, n) != NULL && b[0] != 0;
}

/* Allocator strings have static storage: one seen right stays right. */
static __thread const char *known[16];

static int known_allocator(const char *a)
{
	char b[32];
	if (known[(uintptr_t)a % 16] == a)
		return 1;
	if (!string_ok(a, b, sizeof b))
		return 0;
	for (size_t k = 0; k < sizeof allocators / sizeof allocators[0]; k++)
		if (!strcmp(b, allocators[k])) {
			known[(uintptr_t)a % 16] = a;
			return 1;
		}
	return 0;
}

static int zeroed(const struct allocmap_info *i)
{
	static const struct allocmap_info z;
	return !memcmp(i, &z, sizeof z);
}

/* Why answer i for p cannot be right whatever else happens, or NULL. */
static const char *alone_wrong(const void *p, int rc, const struct allocmap_info *i)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)i->base, mb = (uintptr_t)i->map_base;
	if (rc == -1)
		return zeroed(i) ? NULL : "rc -1 but *out not zeroed";
	if (rc != 0)
		return "rc neither 0 nor -1";
	if (!user_addr(a) && !vsyscall(a, i))
		return "found a kernel, non-canonical or null-page address";
	if (i->kind <= ALLOCMAP_UNKNOWN || i->kind > ALLOCMAP_HEAP_FREE)
		return "bad kind";
	if (!i->allocator || !known_allocator(i->allocator) || !allocator_fits(i->kind, i->allocator))
		return "allocator missing or not the kind's";
	if (i->size > 0 && (a < b || a - b >= i->size))
		return "p outside [base, base + size)";
	if (!i->map_size || a < mb || a - mb >= i->map_size)
		return "p outside the mapping";
	if (b < mb || i->size > i->map_size || b - mb > i->map_size - i->size)
		return "allocation outside its mapping";
	if (i->requested > i->size)
		return "requested > size";
	if (i->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return "bad prot";
	if (((uintptr_t)i->map_base & 4095) || (i->map_size & 4095))
		return "mapping not page-aligned";
	if (i->kind == ALLOCMAP_FILE && !i->path)
		return "file mapping without a path";
	if (i->kind == ALLOCMAP_HEAP_CHUNK) {
		if ((b & 15) || (i->size & 7) || !i->size)
			return "chunk misaligned or odd size";
		if ((uintptr_t)i->site >> 48)
			return "site above 48 bits";
		return NULL;
	}
	if (i->kind != ALLOCMAP_SELF && (i->base != i->map_base || i->size != i->map_size || i->requested != i->size))
		return "mapping-level answer is not its mapping";
	return NULL;
}

/* ---- checks against the kernel and other answers (races excuse them) ---- */

static int same_alloc(const struct allocmap_info *x, const struct allocmap_info *y)
{
	return x->kind == y->kind && x->base == y->base && x->size == y->size;
}

static int same_answer(const struct allocmap_info *x, const struct allocmap_info *y)
{
	return same_alloc(x, y) && x->requested == y->requested && x->site == y->site && x->map_base == y->map_base &&
	       x->map_size == y->map_size && x->prot == y->prot && x->allocator == y->allocator &&
	       x->path == y->path;
}

/* Answer i for p against the kernel's maps s; NULL if they agree. */
/* Whether the kernel has page a: as snapshot s says, or (s NULL) now, as
 * mincore says (it fails on an unmapped page). */
static int mapped(const struct snap *s, uintptr_t a)
{
	unsigned char v;
	if (s)
		return region_at(s, a) != NULL;
	return mincore((void *)(a & ~(uintptr_t)4095), 4096, &v) == 0;
}

/* Answer i for p against the kernel: its mappings as in s, or (exact)
 * as they are now, and the protection as in s; NULL if they agree. */
static const char *kernel_wrong(const struct snap *s, int exact, const void *p, int rc,
				const struct allocmap_info *i)
{
	uintptr_t a = (uintptr_t)p;
	const struct snap *m = exact ? NULL : s;
	const struct region *r = region_at(s, a);
	if (!user_addr(a))
		return NULL;
	if (rc != 0)
		return mapped(m, a) ? "-1 for a mapped address" : NULL;
	if (!mapped(m, a))
		return "found an unmapped address";
	if (r && r->prot != i->prot)
		return "prot differs from the kernel's";
	if (!mapped(m, (uintptr_t)i->map_base) || !mapped(m, (uintptr_t)i->map_base + i->map_size - 1))
		return "mapping's ends not mapped";
	char b[4096]; /* valid while the mapping is: it is */
	if (i->path && !string_ok(i->path, b, sizeof b))
		return "path unreadable";
	return NULL;
}

/* The allocation at base again, and at its last byte: the same base and
 * size? A chunk's mapping: the brk heap or anonymous. NULL if so. */
static const char *requery_wrong(const struct allocmap_info *i)
{
	struct allocmap_info j;
	if (i->kind == ALLOCMAP_HEAP_CHUNK || i->kind == ALLOCMAP_SELF) {
		if (q_query(i->base, &j) != 0 || !same_alloc(i, &j))
			return "base answers another allocation";
		if (i->size && (q_query((const char *)i->base + i->size - 1, &j) != 0 || !same_alloc(i, &j)))
			return "its last byte answers another allocation";
		if (i->kind == ALLOCMAP_HEAP_CHUNK &&
		    (q_query(i->map_base, &j) != 0 || (j.kind != ALLOCMAP_BRK && j.kind != ALLOCMAP_ANON && j.kind != ALLOCMAP_HEAP_FREE) ||
		     j.map_base != i->map_base || j.map_size != i->map_size))
			return "a chunk's mapping is not the brk heap, an anonymous mapping or arena space";
		return NULL;
	}
	if (q_query(i->map_base, &j) != 0 || j.map_base != i->map_base || j.map_size != i->map_size)
		return "map_base answers another mapping";
	return NULL;
}

/* A chunk's site is code: it answers with PROT_EXEC. */
static const char *site_wrong(const struct allocmap_info *i)
{
	struct allocmap_info j;
	if (i->kind != ALLOCMAP_HEAP_CHUNK || !i->site)
		return NULL;
	ADD(n_sites, 1);
	if (q_query(i->site, &j) != 0 || !(j.prot & PROT_EXEC) ||
	    (j.kind != ALLOCMAP_OBJECT && j.kind != ALLOCMAP_ANON && j.kind != ALLOCMAP_FILE))
		return "site is not in executable memory";
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec n;
	clock_gettime(CLOCK_MONOTONIC, &n);
	return (uint64_t)n.tv_sec * 1000 + (uint64_t)n.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
	struct timespec d = {ms / 1000, ms % 1000 * 1000000};
	while (nanosleep(&d, &d) != 0 && errno == EINTR) /* the probe's own signals */
		;
}

static uint64_t index_events(void)
{
	struct allocmap_index_stats st;
	return q_istats(&st) == 0 ? st.events + st.resyncs : 0;
}

/* Answer i for p against the kernel (kernel_wrong) and against what it
 * leads to. */
static const char *others_wrong(const struct snap *s, int exact, const void *p, int rc,
				const struct allocmap_info *i)
{
	const char *why = kernel_wrong(s, exact, p, rc, i);
	if (!why && rc == 0)
		why = requery_wrong(i);
	if (!why && rc == 0)
		why = site_wrong(i);
	if (why && !strcmp(why, "-1 for a mapped address") && q_istats) {
		struct allocmap_index_stats st;
		if (q_istats(&st) == 0 && st.missed)
			why = NULL; /* documented: ranges left out answer -1 */
	}
	return why;
}

/* Whether p's page has the same protection in both snapshots. */
static int same_prot(const struct snap *a, const struct snap *b, uintptr_t p)
{
	const struct region *x = region_at(a, p), *y = region_at(b, p);
	return x && y && x->prot == y->prot;
}

/* The pause before verification round k: 1 ms, then 10, 20, 40 ... up
 * to 320 ms. */
static long pause_of(int k) { return k == 1 ? 1 : 10L << (k < 7 ? k - 2 : 5); }

/* Evidence of a mismatch, gathered round by round: a round counts if
 * the index did not change during it, nor since the first counted round,
 * and the answer is the one of the round before. Otherwise a mapping call
 * completed, or may be under way (a program that grows and trims its brk
 * heap all the time: the kernel shows a change before the call returns
 * and the index has it): counting starts again. The evidence is made
 * (settled) by VERIFY_EVIDENCE rounds over VERIFY_SPAN_MS: a brk call
 * took up to 180 ms, its thread preempted or the kernel waiting on its
 * mmap lock, with 4 probe threads on 2 CPUs. */
struct evidence {
	int n;
	uint64_t events, since;
	struct allocmap_info last;
};

static void weigh(struct evidence *e, int mismatch, uint64_t before, uint64_t after, const struct allocmap_info *i)
{
	int quiet = before == after && (!e->n || before == e->events);
	if (mismatch && quiet && (!e->n || same_answer(i, &e->last))) {
		if (!e->n++)
			e->since = now_ms();
		e->events = before, e->last = *i;
	} else {
		e->n = 0;
	}
}

static int settled(const struct evidence *e)
{
	return e->n >= VERIFY_EVIDENCE && now_ms() - e->since >= VERIFY_SPAN_MS;
}

/* A mismatch seen: ask again, against the kernel as it is (mincore) and
 * its maps read afresh, until it goes (a race: counted) or
 * VERIFY_EVIDENCE rounds, further and further apart (pause_of), make
 * evidence of it (a failure). Out of rounds, the mismatch counts as
 * unsettled. */
static void verify(struct tstate *t, const void *p, const char *first)
{
	struct allocmap_info i;
	struct evidence e = {0, 0, 0, {0}};
	int rc = -1;
	const char *why = first;
	for (int k = 0; k < VERIFY_ROUNDS && why && !settled(&e) && !stop; k++) {
		if (k)
			pause_ms(pause_of(k));
		uint64_t before = index_events();
		read_maps(&t->fresh);
		rc = q_query(p, &i);
		if ((why = alone_wrong(p, rc, &i))) {
			failed(why, p, rc, &i);
			return;
		}
		why = others_wrong(&t->fresh, 1, p, rc, &i);
		if (why && !strcmp(why, "prot differs from the kernel's")) {
			read_maps(&t->snap); /* a second look */
			why = same_prot(&t->fresh, &t->snap, (uintptr_t)p) ? why : NULL;
		}
		weigh(&e, why != NULL, before, index_events(), &i);
		if (verbose > 1 && why)
			say("probe: round %d at %lu ms: %s (evidence %d, events %lu, brk %p)\n", k, now_ms() % 100000, why,
			    e.n, index_events(), sbrk(0));
	}
	if (settled(&e)) {
		failed(why, p, rc, &i);
		return;
	}
	if (why && stop)
		return; /* the program is exiting: not looked at to the end */
	if (why)
		ADD(n_unsettled, 1);
	else
		ADD(n_races, 1);
	if (verbose)
		say("probe: %s: %s at %p\n", why ? "unsettled" : "race", first, p);
}

static void note_chunk(struct tstate *t, const struct allocmap_info *i)
{
	if (i->kind == ALLOCMAP_HEAP_CHUNK)
		t->recent[t->nrecent++ % RECENT] = (struct chunkref){(uintptr_t)i->base, i->size};
}

/* All checks on one answer. */
static void check_answer(struct tstate *t, const void *p, int rc, const struct allocmap_info *i)
{
	const char *why = alone_wrong(p, rc, i);
	ADD(n_kind[rc == 0 && i->kind <= ALLOCMAP_HEAP_FREE ? i->kind : 0], 1);
	if (why) {
		failed(why, p, rc, i);
		return;
	}
	if ((why = others_wrong(&t->snap, 1, p, rc, i)))
		verify(t, p, why);
	else if (rc == 0)
		note_chunk(t, i);
}

/* ---- addresses ---- */

static const struct region *any_region(struct tstate *t)
{
	return t->snap.n ? &t->snap.r[below(t, (uint64_t)t->snap.n)] : NULL;
}

static uintptr_t inside(struct tstate *t)
{
	const struct region *r = any_region(t);
	if (!r)
		return 0;
	uintptr_t a = r->lo + below(t, r->hi - r->lo);
	return rnd(t) & 1 ? a & ~(uintptr_t)7 : a;
}

static uintptr_t edge(struct tstate *t)
{
	const struct region *r = any_region(t);
	if (!r)
		return 0;
	switch (below(t, 4)) {
	case 0: return r->lo;
	case 1: return r->hi - 1;
	case 2: return r->hi; /* a hole, or the next mapping */
	default: return r->lo - 1;
	}
}

static uintptr_t hole(struct tstate *t)
{
	int k = t->snap.n > 1 ? (int)below(t, (uint64_t)t->snap.n - 1) : -1;
	if (k < 0 || t->snap.r[k].hi >= t->snap.r[k + 1].lo)
		return 4096 * below(t, 16);
	return t->snap.r[k].hi + below(t, t->snap.r[k + 1].lo - t->snap.r[k].hi);
}

static uintptr_t odd(struct tstate *t)
{
	static const uintptr_t a[] = {0, 1, 8, 4095, 4096, 65536, (uintptr_t)1 << 47, ((uintptr_t)1 << 47) - 1,
				      0xffff800000000000u, 0xffffffffff600000u, 0xffffffffff600800u,
				      UINTPTR_MAX, UINTPTR_MAX - 7, 0x0000800000001000u, 0xdeadbeefdeadbeefu};
	return a[below(t, sizeof a / sizeof a[0])];
}

/* Around a chunk found before: its edges, just past it, just before it. */
static uintptr_t near_chunk(struct tstate *t)
{
	unsigned n = t->nrecent < RECENT ? t->nrecent : RECENT;
	if (!n)
		return inside(t);
	const struct chunkref *c = &t->recent[below(t, n)];
	switch (below(t, 7)) {
	case 0: return c->base;
	case 1: return c->base + c->size - 1;
	case 2: return c->base + c->size; /* the trailer */
	case 3: return c->base + c->size + 8;
	case 4: return c->base - 1;
	case 5: return c->base - 16;
	default: return c->base + below(t, c->size);
	}
}

/* Words of the program's memory that point into some mapping. */
static int harvest(struct tstate *t, const void **out, int max)
{
	const struct region *r = any_region(t);
	uint64_t w[64];
	int n = 0;
	if (!r || !(r->prot & PROT_READ))
		return 0;
	uintptr_t a = (r->lo + below(t, r->hi - r->lo)) & ~(uintptr_t)7;
	size_t got = peek(w, a, sizeof w) / 8;
	for (size_t k = 0; k < got && n < max; k++)
		if (region_at(&t->snap, (uintptr_t)w[k]))
			out[n++] = (const void *)(uintptr_t)w[k];
	ADD(n_harvested, (uint64_t)n);
	return n;
}

static void fill_batch(struct tstate *t)
{
	int n = 0;
	while (n < BATCH) {
		switch (below(t, 8)) {
		case 0:
		case 1: n += harvest(t, &t->batch[n], BATCH - n); break;
		case 2: t->batch[n++] = (const void *)inside(t); break;
		case 3: t->batch[n++] = (const void *)edge(t); break;
		case 4: t->batch[n++] = (const void *)hole(t); break;
		case 5: t->batch[n++] = (const void *)odd(t); break;
		default: t->batch[n++] = (const void *)near_chunk(t); break;
		}
	}
}

/* ---- query_many against single queries ---- */

/* Batch answer k differs from the single one: the batch again between
 * two single queries, until all three agree (a race) or VERIFY_EVIDENCE
 * rounds make evidence (weigh) of the batch differing from two single
 * answers that agree (a failure). A chunk freed and made again alike in
 * between cannot do that round after round, apart in time. */
static void verify_many(struct tstate *t, int k)
{
	const void *p = t->batch[k];
	struct allocmap_info one, two;
	struct evidence e = {0, 0, 0, {0}};
	int differ = 1;
	for (int r = 0; r < VERIFY_ROUNDS && differ && !settled(&e) && !stop; r++) {
		if (r)
			pause_ms(pause_of(r));
		uint64_t before = index_events();
		int rc = q_query(p, &one);
		q_many(t->batch, BATCH, t->again);
		q_query(p, &two);
		differ = !same_answer(&one, &t->again[k]) || (rc != 0) != (t->again[k].kind == ALLOCMAP_UNKNOWN);
		weigh(&e, differ && same_answer(&one, &two), before, index_events(), &t->again[k]);
	}
	if (settled(&e))
		failed("query_many differs from allocmap_query", p, 0, &t->again[k]);
	else if (differ && stop)
		return; /* the program is exiting: not looked at to the end */
	else if (differ)
		ADD(n_unsettled, 1);
	else
		ADD(n_races, 1);
}

static void check_many(struct tstate *t)
{
	size_t found = q_many(t->batch, BATCH, t->many), count = 0;
	ADD(n_many, 1), ADD(n_many_addrs, BATCH);
	for (int k = 0; k < BATCH; k++) {
		const struct allocmap_info *m = &t->many[k];
		count += m->kind != ALLOCMAP_UNKNOWN;
		const char *why = alone_wrong(t->batch[k], m->kind != ALLOCMAP_UNKNOWN ? 0 : -1, m);
		if (why)
			failed(why, t->batch[k], 0, m);
		else if (!same_answer(m, &t->single[k]))
			verify_many(t, k);
	}
	if (found != count)
		failed("query_many's count differs from its answers", NULL, (int)found, &t->many[0]);
}

/* ---- the walk ---- */

struct walkstate {
	struct tstate *t;
	uintptr_t prev, prev_chunk;
	uint64_t seqs, chunks;
	int bad;
};

static int walk_cb(const struct allocmap_info *i, void *arg)
{
	struct walkstate *w = arg;
	uintptr_t b = (uintptr_t)i->base;
	const char *why = alone_wrong(i->base, 0, i);
	if (!why && b < w->prev)
		why = "walk out of address order";
	if (!why && i->kind == ALLOCMAP_HEAP_CHUNK && b <= w->prev_chunk)
		why = "walk: chunks out of order";
	if (why && !w->bad++) {
		say("probe: walk: previous %p, previous chunk %p\n", (void *)w->prev, (void *)w->prev_chunk);
		failed(why, i->base, 0, i);
	}
	w->prev = b;
	if (i->kind == ALLOCMAP_HEAP_CHUNK) {
		w->prev_chunk = b;
		w->chunks++;
		if ((w->chunks & 1023) == 1) { /* the callback may query */
			struct allocmap_info j;
			int rc = q_query(i->base, &j);
			if (alone_wrong(i->base, rc, &j))
				failed(alone_wrong(i->base, rc, &j), i->base, rc, &j);
			note_chunk(w->t, i);
		}
	} else {
		w->seqs++;
	}
	return stop ? 1 : 0;
}

/* The statistics, from any thread at any time: each tier's figures are
 * one snapshot (taken under its lock; the no-mmap tier's resident bytes
 * count its bitmap too), the index's never break stratification, the
 * heap's chunks have at least 8 usable bytes. */
static const char *stats_wrong(void)
{
	struct allocmap_tier_stats ts_;
	struct allocmap_index_stats is;
	struct allocmap_heap_stats hs;
	for (int k = ALLOCMAP_TIER_NOMMAP; k <= ALLOCMAP_TIER_MMAP; k++) {
		if (q_tstats((enum allocmap_tier)k, &ts_) != 0)
			return "allocmap_tier_stats failed";
		size_t bitmap = k == ALLOCMAP_TIER_NOMMAP ? ts_.reserved / 128 + 4096 : 0; /* one bit per 16 bytes */
		if (ts_.in_use > ts_.footprint || ts_.footprint > ts_.peak_footprint || ts_.in_use > ts_.peak_in_use ||
		    ts_.resident > ts_.footprint + bitmap || (ts_.live_blocks && !ts_.in_use) || ts_.bad_frees) {
			if (verbose)
				say("probe: tier %d: reserved %zu footprint %zu/%zu in_use %zu/%zu resident %zu live %lu "
				    "bad frees %lu\n", k, ts_.reserved, ts_.footprint, ts_.peak_footprint, ts_.in_use,
				    ts_.peak_in_use, ts_.resident, ts_.live_blocks, ts_.bad_frees);
			return "a tier's figures disagree (or it saw a bad free)";
		}
	}
	if (q_istats(&is) != 0 || is.depth_violations || is.max_depth > 1)
		return "the index's stratification broke";
	if (q_hstats(&hs) != 0 || hs.live_bytes < 8 * hs.live_chunks)
		return "allocmap_heap_stats failed or its bytes are too few";
	return NULL;
}

static void walk(struct tstate *t)
{
	const char *why = stats_wrong();
	if (why)
		failed(why, NULL, 0, &(struct allocmap_info){0});
	struct walkstate w = {t, 0, 0, 0, 0, 0};
	unsigned flags = below(t, 3) == 0 ? ALLOCMAP_WALK_SEQUENCES : ALLOCMAP_WALK_SEQUENCES | ALLOCMAP_WALK_CHUNKS;
	int rc = q_walk(flags, walk_cb, &w);
	if (rc != 0 && !(rc == 1 && stop))
		failed("walk returned non-zero", NULL, rc, &(struct allocmap_info){0});
	ADD(n_walks, 1), ADD(n_walk_seqs, w.seqs), ADD(n_walk_chunks, w.chunks);
}

/* ---- queries from signal handlers (PROBE_SIGNALS=ms) ---- */

/* SIGURG: ignored by default, so one still pending when a thread execs
 * does nothing; programs seldom use it (if one takes it over, the probe
 * stops sending it). */
#define SIG_PROBE SIGURG
#define SIG_BAD 8

static int sig_every_ms;
static uint64_t n_signals, n_sig_queries;
static struct {
	const char *why;
	const void *p;
	int rc;
	struct allocmap_info i;
} sig_bad[SIG_BAD];
static unsigned sig_nbad, sig_reported;

static void sig_note(const char *why, const void *p, int rc, const struct allocmap_info *i)
{
	unsigned j = __atomic_fetch_add(&sig_nbad, 1, __ATOMIC_RELAXED);
	if (j < SIG_BAD)
		sig_bad[j].why = why, sig_bad[j].p = p, sig_bad[j].rc = rc, sig_bad[j].i = *i;
}

/* The interrupted thread's registers are addresses to ask about (a chunk
 * being worked on, its stack, its code), wherever it was: inside malloc,
 * a mapping call, the library, a query. Each answer is checked on its
 * own (alone_wrong: queries and process_vm_readv, async-signal-safe),
 * single and batched. */
static void on_signal(int sig, siginfo_t *si, void *ucv)
{
	const ucontext_t *uc = ucv;
	const void *ps[NGREG];
	struct allocmap_info many[NGREG], one;
	int saved = errno;
	size_t found, count = 0;
	(void)sig, (void)si;
	for (int k = 0; k < NGREG; k++)
		ps[k] = (const void *)uc->uc_mcontext.gregs[k];
	found = q_many(ps, NGREG, many);
	for (int k = 0; k < NGREG; k++) {
		int rc = q_query(ps[k], &one);
		const char *why = alone_wrong(ps[k], rc, &one);
		count += many[k].kind != ALLOCMAP_UNKNOWN;
		if (why)
			sig_note(why, ps[k], rc, &one);
		else if ((why = alone_wrong(ps[k], many[k].kind != ALLOCMAP_UNKNOWN ? 0 : -1, &many[k])))
			sig_note(why, ps[k], 0, &many[k]);
	}
	if (found != count)
		sig_note("query_many's count differs from its answers (in a handler)", NULL, (int)found, &many[0]);
	ADD(n_sig_queries, 2 * NGREG);
	errno = saved;
}

static int handler_ours(void)
{
	struct sigaction now;
	return sigaction(SIG_PROBE, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_signal;
}

/* A thread of this process, picked at random from /proc/self/task
 * (getdents64: no opendir, which allocates); 0 if none. */
static pid_t any_thread(struct tstate *t)
{
	char buf[8192];
	pid_t tids[512];
	int n = 0, fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long len = fd >= 0 ? syscall(SYS_getdents64, fd, buf, sizeof buf) : -1;
	if (fd >= 0)
		close(fd);
	for (long off = 0; off < len && n < 512;) {
		unsigned short reclen;
		memcpy(&reclen, buf + off + 16, sizeof reclen);
		const char *name = buf + off + 19;
		if (name[0] >= '1' && name[0] <= '9')
			tids[n++] = (pid_t)strtol(name, NULL, 10);
		off += reclen;
	}
	return n ? tids[below(t, (uint64_t)n)] : 0;
}

static void send_signal(struct tstate *t)
{
	pid_t tid = any_thread(t);
	if (!tid || !handler_ours())
		return;
	if (syscall(SYS_tgkill, probe_pid, tid, SIG_PROBE) == 0)
		ADD(n_signals, 1);
}

/* What handlers found, reported from a thread (say is not async-signal-safe). */
static void sig_report(void)
{
	unsigned n = __atomic_load_n(&sig_nbad, __ATOMIC_RELAXED);
	for (; sig_reported < n; sig_reported++) {
		if (sig_reported < SIG_BAD)
			failed(sig_bad[sig_reported].why, sig_bad[sig_reported].p, sig_bad[sig_reported].rc,
			       &sig_bad[sig_reported].i);
		else
			ADD(n_fail, 1);
	}
}

static void sig_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sig_every_ms && sigaction(SIG_PROBE, &sa, NULL) != 0)
		sig_every_ms = 0;
}

/* ---- the threads ---- */


/* Until the library has started, its answers are "not found" (allocmap.h). */
static int library_started(void)
{
	struct allocmap_index_stats st;
	return q_istats(&st) == 0;
}

static void round_of(struct tstate *t)
{
	fill_batch(t);
	for (int k = 0; k < BATCH && !stop; k++) {
		int rc = q_query(t->batch[k], &t->single[k]);
		ADD(n_queries, 1);
		check_answer(t, t->batch[k], rc, &t->single[k]);
	}
	if (!stop)
		check_many(t);
}

static void *probe_thread(void *arg)
{
	struct tstate *t = arg;
	uint64_t last_snap = 0, last_sig = now_ms();
	__atomic_fetch_add(&running, 1, __ATOMIC_SEQ_CST);
	while (!stop && !library_started())
		pause_ms(1);
	for (unsigned round = 0; !stop; round++) {
		if (now_ms() - last_snap >= 20) {
			read_maps(&t->snap);
			last_snap = now_ms();
		}
		if (sig_every_ms && t == &ts[0] && now_ms() - last_sig >= (uint64_t)sig_every_ms) {
			send_signal(t);
			last_sig = now_ms();
		}
		if (t == &ts[0])
			sig_report();
		round_of(t);
		if (round % 64 == 63 && !stop)
			walk(t);
	}
	__atomic_fetch_sub(&running, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void start_threads(void)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 << 10);
	for (int k = 0; k < nthreads; k++) {
		ts[k].rng = seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(k + 1)) ^ (uint64_t)probe_pid << 32;
		ts[k].rng |= 1;
		ts[k].nrecent = 0;
		ts[k].started = pthread_create(&ts[k].tid, &a, probe_thread, &ts[k]) == 0;
	}
	pthread_attr_destroy(&a);
}

static void reset_counts(void)
{
	n_queries = n_many = n_many_addrs = n_walks = n_walk_seqs = n_walk_chunks = 0;
	n_races = n_unsettled = n_fail = n_sites = n_snaps = n_harvested = 0;
	n_signals = n_sig_queries = 0;
	memset(n_kind, 0, sizeof n_kind);
}

static void in_child(void)
{
	sig_every_ms = 0; /* a child may exec at once: keep to the first image */
	probe_pid = getpid();
	running = 0;
	reset_counts();
	start_threads();
}

static long env_long(const char *name, long dflt, long lo, long hi)
{
	const char *s = getenv(name);
	long v = s && *s ? strtol(s, NULL, 0) : dflt;
	return v < lo ? lo : v > hi ? hi : v;
}

__attribute__((constructor)) static void probe_init(void)
{
	q_query_ex = (query_fn)dlsym(RTLD_DEFAULT, "allocmap_query_ex");
	q_many_ex = (many_fn)dlsym(RTLD_DEFAULT, "allocmap_query_many_ex");
	q_walk = (walk_fn)dlsym(RTLD_DEFAULT, "allocmap_walk");
	q_istats = (istats_fn)dlsym(RTLD_DEFAULT, "allocmap_index_stats");
	q_tstats = (tstats_fn)dlsym(RTLD_DEFAULT, "allocmap_tier_stats");
	q_hstats = (hstats_fn)dlsym(RTLD_DEFAULT, "allocmap_heap_stats");
	if (!q_query_ex || !q_many_ex || !q_walk || !q_istats || !q_tstats || !q_hstats) {
		say("probe: allocmap not loaded (preload liballocmap.so before probe.so)\nPROBE FAIL\n");
		return;
	}
	probe_pid = getpid();
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 200);
	err_fd = fd >= 0 ? fd : 2;
	nthreads = (int)env_long("PROBE_THREADS", 2, 0, MAX_THREADS);
	verbose = (int)env_long("PROBE_VERBOSE", 0, 0, 2);
	sig_every_ms = (int)env_long("PROBE_SIGNALS", 0, 0, 1000);
	sig_init();
	seed = (uint64_t)env_long("PROBE_SEED", (long)(now_ms() ^ (uint64_t)probe_pid * 7919), 0, 0x7fffffffffffffffL);
	if (env_long("PROBE_FORK", 1, 0, 1))
		pthread_atfork(NULL, NULL, in_child);
	start_threads();
}

static void comm(char *out, size_t n)
{
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t k = fd >= 0 ? read(fd, out, n - 1) : 0;
	if (fd >= 0)
		close(fd);
	k = k > 0 ? k : 0;
	out[k] = 0;
	if (k && out[k - 1] == '\n')
		out[k - 1] = 0;
}

__attribute__((destructor)) static void probe_fini(void)
{
	char name[32];
	if (!q_query_ex || getpid() != probe_pid)
		return;
	stop = 1;
	uint64_t t0 = now_ms();
	while (__atomic_load_n(&running, __ATOMIC_SEQ_CST) > 0 && now_ms() - t0 < 5000)
		pause_ms(1);
	int hung = __atomic_load_n(&running, __ATOMIC_SEQ_CST);
	if (hung)
		failed("a probe thread did not stop within 5 s (a hang?)", NULL, hung, &(struct allocmap_info){0});
	sig_report();
	comm(name, sizeof name);
	say("probe: pid %d (%s): %lu queries (unknown %lu, chunk %lu, anon %lu, file %lu, object %lu, brk %lu, "
	    "stack %lu, self %lu), %lu query_many of %lu, %lu walks (%lu sequences, %lu chunks), %lu harvested, "
	    "%lu sites, %lu maps reads, %lu signals (%lu queries in handlers), %lu races, %lu unsettled, "
	    "%lu inconsistencies\n",
	    (int)probe_pid, name, GET(n_queries), GET(n_kind[0]), GET(n_kind[1]), GET(n_kind[2]), GET(n_kind[3]),
	    GET(n_kind[4]), GET(n_kind[5]), GET(n_kind[6]), GET(n_kind[7]), GET(n_many), GET(n_many_addrs),
	    GET(n_walks), GET(n_walk_seqs), GET(n_walk_chunks), GET(n_harvested), GET(n_sites), GET(n_snaps),
	    GET(n_signals), GET(n_sig_queries), GET(n_races), GET(n_unsettled), GET(n_fail));
	if (GET(n_fail))
		say("PROBE FAIL\n");
}
