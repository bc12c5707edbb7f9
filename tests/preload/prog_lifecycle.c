/* An adversarial stress test of the process lifecycle under the library:
 * threads, fork, vfork/posix_spawn/system/popen, exec, signals, thread
 * stacks, raw clone, unusual mapping calls and brk, each racing the rest.
 *
 *   prog_lifecycle SCENARIO
 *
 * Run under LD_PRELOAD (lifecycle.sh). allocmap_check and allocmap_query
 * are looked up with dlsym(RTLD_DEFAULT): nothing of the library is
 * called by name. Every process that survives a scenario (the parent and
 * each child) ends with allocmap_check(2) == 0; exit status 0 means every
 * expectation held, anything else names the failed one on stderr. Each
 * scenario takes a few seconds at most.
 *
 * dlopen     threads dlopen/dlclose real objects while others malloc, free,
 *            realloc, mmap, munmap, mprotect and mremap, checking their own
 *            answers as they go.
 * fork       two threads fork again and again while others are inside
 *            malloc, mmap and dlopen; each child queries chunks it knows,
 *            makes new ones, checks, and _exits.
 * spawn      vfork+exec, posix_spawn, system() and popen() from four
 *            threads at once; the exec'd images check themselves.
 * exec       exec of itself, from a non-main thread and from the main one
 *            while threads churn, then a failed exec: each image checks.
 * signals    handlers that query, malloc, mmap and munmap, on a sigaltstack
 *            made by mmap and off it, delivered by timers and by other
 *            threads while every thread maps, queries and mallocs.
 * stacks     short-lived threads on stacks of their own (mmapped, with and
 *            without MAP_STACK) and glibc's (some big enough to overflow
 *            its stack cache, some detached); after each batch the stacks
 *            the program unmapped are gone from the index.
 * clone      raw clone and clone3 with CLONE_VM (the child maps and mallocs
 *            while its parent waits), CLONE_VFORK exec, and a raw clone
 *            without CLONE_VM (a fork that runs no atfork handler).
 * unmaps     four threads map, grow by mremap and unmap at once: the
 *            kernel hands each the ranges the others just freed, and every
 *            answer holds (a munmap's event is never applied after a later
 *            mapping's in its range).
 * vma        MAP_FIXED_NOREPLACE collisions, MAP_FIXED over part of a
 *            mapping, munmap over several, mremap FIXED and DONTUNMAP,
 *            madvise, mlock, MADV_DONTFORK across fork, PR_SET_VMA names.
 * resync     a mapping the kernel keeps split (mlock, MADV_DONTFORK) keeps
 *            its sequence and site across the re-read of /proc/self/maps
 *            that a dlopen makes.
 * growsdown  the main stack grown by deep recursion, and a MAP_GROWSDOWN
 *            mapping grown by touching below it: both the index follows.
 * brk        brk/sbrk called by the program, growing and shrinking,
 *            interleaved with malloc.
 * sigpark    a known deadlock, not run by lifecycle.sh (heap/quiesce.h):
 *            handlers that munmap on two threads both inside a heap query.
 * selfcheck  (used by the others) check this fresh image and exit.
 */
#include <allocmap.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

extern char **environ;

static int (*am_check)(int);
static int (*am_query)(const void *, struct allocmap_info *);
static char self_exe[4096];

/* Async-signal-safe report: no stdio lock a fork may have left held. */
static void say(const char *fmt, ...)
{
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (n > 0 && write(2, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1) < 0)
		return;
}

/* A failed expectation ends the whole process at once (every thread). */
#define CHECK(c)                                                                    \
	do {                                                                        \
		if (!(c)) {                                                         \
			say("[%d] %s:%d: expected %s\n", (int)getpid(), __FILE__, __LINE__, #c); \
			_exit(1);                                                   \
		}                                                                   \
	} while (0)

static void check_clean(const char *when)
{
	int n = am_check(2);
	if (n != 0) {
		say("[%d] allocmap_check after %s: %d discrepancies\n", (int)getpid(), when, n);
		_exit(1);
	}
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static int inside(const void *p, const void *base, size_t size)
{
	return (uintptr_t)p >= (uintptr_t)base && (uintptr_t)p - (uintptr_t)base < size;
}

/* Chunk p of n bytes answers as itself. Unless exact, an answer at the
 * mapping level around it is accepted too (in a forked child whose parent
 * was changing the index, chunks made before the fork); with ACROSS, one
 * from a sequence that does not hold the whole chunk (such a child's
 * rebuilt sequences split an arena heap: README, fork) — never another
 * chunk. */
enum { ACROSS = 2 };

static int chunk_ok(const void *p, size_t n, int exact)
{
	struct allocmap_info i;
	const char *mid = (const char *)p + n / 2;
	int rc = am_query(mid, &i), good;
	if (rc != 0)
		good = 0;
	else if (i.kind == ALLOCMAP_HEAP_CHUNK)
		good = i.base == p && i.size >= n && i.requested == n;
	else if (exact == ACROSS)
		good = i.kind == ALLOCMAP_ANON && !(inside(p, i.map_base, i.map_size) &&
						     inside((const char *)p + n - 1, i.map_base, i.map_size));
	else
		good = !exact && (i.kind == ALLOCMAP_HEAP_FREE || i.kind == ALLOCMAP_BRK || i.kind == ALLOCMAP_ANON) &&
		       inside(p, i.map_base, i.map_size);
	if (!good)
		say("[%d] chunk %p (%zu bytes): rc %d kind %d base %p size %zu requested %zu map %p+%zu %s\n",
		    (int)getpid(), p, n, rc, i.kind, i.base, i.size, i.requested, i.map_base, i.map_size,
		    i.allocator ? i.allocator : "-");
	return good;
}

/* p answers as the mapping sequence [base, base + size), prot at p. */
static int holds(const void *p, const void *base, size_t size, int prot)
{
	struct allocmap_info i;
	int rc = am_query(p, &i);
	if (rc == 0 && i.base == base && i.size == size && i.prot == prot)
		return 1;
	say("[%d] %p: want %p+%zu prot %d, answers rc %d base %p size %zu prot %d kind %d site %p %s\n",
	    (int)getpid(), p, base, size, prot, rc, i.base, i.size, i.prot, i.kind, i.site,
	    rc ? "-" : i.allocator);
	return 0;
}

/* [p, p + len) is one mapping sequence of its own, with prot at p. */
static int map_ok(const void *p, size_t len, int prot)
{
	struct allocmap_info a, b;
	if (am_query(p, &a) != 0 || am_query((const char *)p + len - 1, &b) != 0)
		return 0;
	return a.base == p && a.size == len && a.prot == prot && b.base == p && b.size == len &&
	       a.kind == ALLOCMAP_ANON;
}

static int unknown(const void *p)
{
	struct allocmap_info i;
	int rc = am_query(p, &i);
	if (rc != -1)
		say("[%d] %p: expected unknown, answers kind %d base %p size %zu prot %d site %p %s\n", (int)getpid(),
		    p, i.kind, i.base, i.size, i.prot, i.site, i.allocator);
	return rc == -1;
}

/* p no longer answers as the sequence [base, base + size): unknown, or
 * another thread's mapping made there since. */
static int gone(const void *p, const void *base, size_t size)
{
	struct allocmap_info i;
	int rc = am_query(p, &i);
	if (rc == 0 && i.base == base && i.size == size) {
		say("[%d] %p: still answers %p+%zu, unmapped (kind %d prot %d site %p)\n", (int)getpid(), p, base,
		    size, i.kind, i.prot, i.site);
		return 0;
	}
	return 1;
}

static void *map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

static void wait_ok(pid_t pid, int want)
{
	int st;
	pid_t r;
	while ((r = waitpid(pid, &st, __WALL)) < 0 && errno == EINTR)
		;
	if (r != pid || !WIFEXITED(st) || WEXITSTATUS(st) != want) {
		say("[%d] child %d: waitpid %d, status %#x (want exit %d)\n", (int)getpid(), (int)pid, (int)r, st,
		    want);
		_exit(1);
	}
}

static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	CHECK(pthread_create(t, NULL, fn, arg) == 0);
}

static void join(pthread_t t)
{
	CHECK(pthread_join(t, NULL) == 0);
}

/* ---- churn threads, shared by the scenarios ---- */

static volatile int stop;
/* This thread is inside its own malloc-family call: a signal handler must
 * not malloc then (glibc's arena lock is not reentrant). */
static __thread volatile sig_atomic_t in_malloc;

static void *xmalloc(size_t n)
{
	in_malloc = 1;
	void *p = malloc(n);
	in_malloc = 0;
	CHECK(p);
	return p;
}

static void xfree(void *p)
{
	in_malloc = 1;
	free(p);
	in_malloc = 0;
}

static void *xrealloc(void *p, size_t n)
{
	in_malloc = 1;
	void *q = realloc(p, n);
	in_malloc = 0;
	CHECK(q);
	return q;
}

static size_t churn_size(unsigned *s)
{
	unsigned r = rnd(s) % 100;
	if (r < 70)
		return 1 + rnd(s) % 512;
	if (r < 90)
		return 512 + rnd(s) % 16384;
	if (r < 98)
		return 16384 + rnd(s) % 200000;
	return 300000 + rnd(s) % 1000000; /* glibc mmaps these */
}

/* malloc, calloc, memalign, realloc and free; each live chunk answers as
 * itself whenever it is looked at. */
static void *malloc_churn(void *arg)
{
	enum { N = 64 };
	char *slot[N] = {0};
	size_t size[N] = {0};
	unsigned s = (unsigned)(uintptr_t)arg;
	while (!stop) {
		unsigned k = rnd(&s) % N;
		if (slot[k]) {
			CHECK(chunk_ok(slot[k], size[k], 1));
			if (rnd(&s) % 3 == 0) {
				size[k] = churn_size(&s);
				slot[k] = xrealloc(slot[k], size[k]);
				slot[k][size[k] - 1] = 1;
			} else {
				xfree(slot[k]);
				slot[k] = NULL;
			}
			continue;
		}
		size[k] = churn_size(&s);
		switch (rnd(&s) % 3) {
		case 0: slot[k] = xmalloc(size[k]); break;
		case 1:
			in_malloc = 1;
			slot[k] = calloc(1, size[k]);
			in_malloc = 0;
			break;
		default:
			in_malloc = 1;
			slot[k] = memalign(64, size[k]);
			in_malloc = 0;
		}
		CHECK(slot[k]);
		memset(slot[k], 0x5a, size[k] < 64 ? size[k] : 64);
	}
	for (int k = 0; k < N; k++)
		xfree(slot[k]);
	return NULL;
}

/* mmap, mprotect, mremap (grow, move), partial and whole munmap of the
 * thread's own mappings, each answer checked on the way. */
static int lanes;
static __thread int lane;

static void map_cycle(unsigned *s)
{
	/* sizes tell threads' mappings apart: lane j (one per thread) maps
	 * n = 17 + 4j or 33 + 4j pages, so n is 1 mod 4; the grown 2n is 2
	 * mod 4 and the piece above the unmapped page, n - 1, is 0 mod 4:
	 * no size of one lane is a size of another's */
	if (!lane)
		lane = 1 + __atomic_fetch_add(&lanes, 1, __ATOMIC_RELAXED) % 4;
	size_t n = 16 * (1 + rnd(s) % 2) + 4 * (size_t)(lane - 1) + 1, len = n * PAGE;
	int rw = PROT_READ | PROT_WRITE;
	char *p = map(len, rw);
	p[0] = 1;
	CHECK(map_ok(p, len, rw));
	CHECK(mprotect(p, PAGE, PROT_READ) == 0);
	CHECK(holds(p, p, len, PROT_READ) && holds(p + len - 1, p, len, rw));
	CHECK(mprotect(p, PAGE, rw) == 0); /* one vma again, for mremap */
	char *q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED);
	CHECK(q == p || gone(p, p, len));
	CHECK(holds(q + 2 * len - 1, q, 2 * len, rw));
	CHECK(munmap(q + len, PAGE) == 0 && gone(q + len, q, 2 * len));
	CHECK(munmap(q, 2 * len) == 0 && gone(q, q, 2 * len) && gone(q + 2 * len - 1, q, 2 * len));
}

static void *map_churn(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;
	while (!stop)
		map_cycle(&s);
	return NULL;
}

/* The shared objects to load, with a symbol each; those not installed are
 * skipped. */
static const struct {
	const char *name, *sym;
} libs[] = {{"libm.so.6", "cos"},
	    {"libz.so.1", "zlibVersion"},
	    {"libexpat.so.1", "XML_ExpatVersion"},
	    {"libsqlite3.so.0", "sqlite3_libversion"}};
#define NLIBS (sizeof libs / sizeof *libs)

static void dl_cycle(unsigned k)
{
	const char *name = libs[k % NLIBS].name;
	void *h = dlopen(name, RTLD_NOW | (k & 1 ? RTLD_GLOBAL : RTLD_LOCAL));
	if (!h)
		return;
	void *f = dlsym(h, libs[k % NLIBS].sym);
	CHECK(f);
	struct allocmap_info i;
	CHECK(am_query(f, &i) == 0 && i.kind == ALLOCMAP_OBJECT && i.path);
	char stem[32];
	snprintf(stem, sizeof stem, "%.*s", (int)(strchr(name, '.') - name), name);
	if (!strstr(i.path, stem)) {
		say("%s: symbol %p answers path %s\n", name, f, i.path);
		_exit(1);
	}
	CHECK(i.prot & PROT_EXEC);
	CHECK(dlclose(h) == 0);
}

static int libs_found(void)
{
	int n = 0;
	for (unsigned k = 0; k < NLIBS; k++) {
		void *h = dlopen(libs[k].name, RTLD_NOW);
		if (h) {
			n++;
			dlclose(h);
		}
	}
	return n;
}

static void *dl_churn(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	while (!stop)
		dl_cycle(k++);
	return NULL;
}

struct crew {
	pthread_t t[8];
	int n;
};

static void crew_start(struct crew *c, void *(*fn)(void *), int n)
{
	for (int k = 0; k < n; k++, c->n++)
		start(&c->t[c->n], fn, (void *)(uintptr_t)(c->n * 7919 + 1));
}

static void crew_stop(struct crew *c)
{
	stop = 1;
	for (int k = 0; k < c->n; k++)
		join(c->t[k]);
	c->n = 0;
	stop = 0;
}

static void sleep_s(double s)
{
	struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* ---- dlopen ---- */

static void scenario_dlopen(void)
{
	struct crew c = {.n = 0};
	CHECK(libs_found() >= 2);
	crew_start(&c, dl_churn, 2);
	crew_start(&c, malloc_churn, 2);
	crew_start(&c, map_churn, 1);
	sleep_s(2.5);
	crew_stop(&c);
	check_clean("dlopen/dlclose racing malloc and mapping calls");
}

/* ---- fork ---- */

enum { KNOWN = 8 };
static const size_t known_size[KNOWN] = {24, 100, 1000, 5000, 40000, 140000, 300000, 2000000};

/* In the child: what it knows answers right, new chunks and maps are
 * indexed, and the whole index is exact. */
static void forked_child(char **known)
{
	for (int k = 0; k < KNOWN; k++)
		CHECK(chunk_ok(known[k], known_size[k], 0));
	char *m = malloc(1000), *big = malloc(400000);
	CHECK(m && big && chunk_ok(m, 1000, ACROSS) && chunk_ok(big, 400000, ACROSS));
	char *p = map(3 * PAGE, PROT_READ);
	CHECK(map_ok(p, 3 * PAGE, PROT_READ));
	CHECK(munmap(p, 3 * PAGE) == 0 && unknown(p));
	free(big);
	int n = am_check(2);
	if (n)
		say("[%d] forked child: %d discrepancies\n", (int)getpid(), n);
	_exit(n != 0);
}

static void fork_loop(double until)
{
	char *known[KNOWN];
	for (int k = 0; k < KNOWN; k++) {
		known[k] = xmalloc(known_size[k]);
		memset(known[k], k, known_size[k]);
	}
	for (int round = 0; now() < until && round < 400; round++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			forked_child(known);
		wait_ok(pid, 0);
	}
	for (int k = 0; k < KNOWN; k++)
		xfree(known[k]);
}

static double fork_until;

static void *forker(void *arg)
{
	(void)arg;
	fork_loop(fork_until);
	return NULL;
}

static void scenario_fork(void)
{
	struct crew c = {.n = 0};
	pthread_t f;
	crew_start(&c, malloc_churn, 2);
	crew_start(&c, map_churn, 1);
	crew_start(&c, dl_churn, 1);
	fork_until = now() + 3;
	start(&f, forker, NULL);
	fork_loop(fork_until);
	join(f);
	crew_stop(&c);
	check_clean("forks while threads malloc, map and dlopen");
}

/* ---- spawn ---- */

static char *const selfcheck_argv[] = {self_exe, "selfcheck", NULL};

static void spawn_one(int how)
{
	pid_t pid;
	switch (how) {
	case 0:
		pid = vfork();
		CHECK(pid >= 0);
		if (pid == 0) {
			execv(self_exe, selfcheck_argv);
			_exit(127);
		}
		wait_ok(pid, 0);
		break;
	case 1:
		CHECK(posix_spawn(&pid, self_exe, NULL, NULL, selfcheck_argv, environ) == 0);
		wait_ok(pid, 0);
		break;
	case 2: {
		int st = system("exit 3");
		CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 3);
		break;
	}
	default: {
		in_malloc = 1; /* popen's FILE */
		FILE *f = popen("echo lifecycle", "r");
		in_malloc = 0;
		CHECK(f);
		char line[64] = "";
		CHECK(fgets(line, sizeof line, f) && !strcmp(line, "lifecycle\n"));
		CHECK(pclose(f) == 0);
	}
	}
}

static double spawn_until;

static void *spawner(void *arg)
{
	for (unsigned k = (unsigned)(uintptr_t)arg; now() < spawn_until; k++)
		spawn_one((int)(k % 4));
	return NULL;
}

static void scenario_spawn(void)
{
	struct crew c = {.n = 0};
	pthread_t t[4];
	crew_start(&c, malloc_churn, 1);
	crew_start(&c, map_churn, 1);
	spawn_until = now() + 3;
	for (int k = 0; k < 4; k++)
		start(&t[k], spawner, (void *)(uintptr_t)k);
	for (int k = 0; k < 4; k++)
		join(t[k]);
	crew_stop(&c);
	check_clean("vfork, posix_spawn, system and popen from four threads");
}

/* ---- exec ---- */

/* A fresh image: the index was built anew and is exact, and follows. */
static void fresh_image(const char *when)
{
	int local = 1;
	struct allocmap_info i;
	check_clean(when);
	CHECK(am_query(&local, &i) == 0 && i.kind == ALLOCMAP_STACK);
	CHECK(am_query((void *)&fresh_image, &i) == 0 && i.kind == ALLOCMAP_OBJECT);
	char *m = xmalloc(777);
	CHECK(chunk_ok(m, 777, 1));
	char *p = map(2 * PAGE, PROT_READ | PROT_WRITE);
	CHECK(map_ok(p, 2 * PAGE, PROT_READ | PROT_WRITE));
	munmap(p, 2 * PAGE);
	xfree(m);
}

static char exec_next[16];

static void exec_level(void)
{
	char *argv[] = {self_exe, "exec", exec_next, NULL};
	execv(self_exe, argv);
	say("execv %s: %s\n", self_exe, strerror(errno));
	_exit(1);
}

static void *exec_from_thread(void *arg)
{
	(void)arg;
	sleep_s(0.2);
	exec_level();
	return NULL;
}

static void scenario_exec(int level)
{
	if (level > 0)
		fresh_image("exec");
	snprintf(exec_next, sizeof exec_next, "%d", level + 1);
	if (level >= 3) { /* a failed exec changes nothing */
		char *argv[] = {"/nonexistent/allocmap", NULL};
		CHECK(execv(argv[0], argv) == -1 && errno == ENOENT);
		fresh_image("a failed exec");
		return;
	}
	struct crew c = {.n = 0};
	crew_start(&c, malloc_churn, 1);
	crew_start(&c, map_churn, 1);
	crew_start(&c, dl_churn, 1);
	if (level % 2 == 0) { /* from another thread, the main one busy */
		pthread_t t;
		start(&t, exec_from_thread, NULL);
		for (;;)
			free(xmalloc(100));
	}
	sleep_s(0.2);
	exec_level();
}

/* ---- signals ---- */

static volatile sig_atomic_t sig_bad;
static pthread_t sig_main;
static long sig_hits, sig_unknown;
static char *volatile sig_chunk;
static size_t sig_chunk_n = 3000;

/* From a handler that interrupted its thread's own mapping call, a query
 * may answer -1, and the handler's own mapping changes show only once that
 * call has returned (allocmap.h): counted, not failed. A found answer must
 * hold the address, and a chunk answer be the chunk. */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	struct allocmap_info i;
	char local = 0;
	(void)si, (void)uc;
	long hit = __atomic_add_fetch(&sig_hits, 1, __ATOMIC_RELAXED);
	int rc = am_query(&local, &i);
	if (rc == 0 && !inside(&local, i.base, i.size))
		sig_bad |= 1;
	if (pthread_equal(pthread_self(), sig_main)) { /* heap reads on one thread only: see sigpark */
		int rc2 = am_query(sig_chunk + sig_chunk_n / 2, &i);
		if (rc2 == 0 && (i.kind == ALLOCMAP_HEAP_CHUNK ? i.base != sig_chunk
							       : !inside(sig_chunk, i.map_base, i.map_size)))
			sig_bad |= 2;
		rc |= rc2;
	}
	char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED) {
		if (am_query(m, &i) == 0 && !inside(m, i.base, i.size))
			sig_bad |= 4;
		if (sig & 1)
			mprotect(m, PAGE, PROT_READ);
		munmap(m, 2 * PAGE);
	}
	if (!in_malloc) { /* not inside malloc on this thread, the handler this interrupted's either */
		size_t n = (size_t)64 << (hit % 13);
		in_malloc = 1;
		char *p = malloc(n);
		if (p && am_query(p, &i) == 0 && i.kind == ALLOCMAP_HEAP_CHUNK && i.base != p)
			sig_bad |= 8;
		free(p);
		in_malloc = 0;
	}
	if (rc)
		__atomic_add_fetch(&sig_unknown, 1, __ATOMIC_RELAXED);
	errno = saved;
}

static void handle(int sig, int onstack)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | (onstack ? SA_ONSTACK : 0);
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void altstack(void)
{
	stack_t ss = {.ss_sp = map(16 * PAGE, PROT_READ | PROT_WRITE), .ss_size = 16 * PAGE};
	CHECK(sigaltstack(&ss, NULL) == 0);
}

/* What every thread does while signals fly: map, malloc; the main thread
 * queries its chunk too (heap reads on two threads whose handlers both
 * unmap can deadlock: sigpark). */
static void signal_work(unsigned *s)
{
	for (int k = 0; k < 50 && pthread_equal(pthread_self(), sig_main); k++)
		CHECK(chunk_ok(sig_chunk, sig_chunk_n, 1));
	map_cycle(s);
	char *p = xmalloc(churn_size(s));
	xfree(p);
}

static void *signaller(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;
	altstack();
	while (!stop) {
		pthread_kill(sig_main, rnd(&s) & 1 ? SIGUSR1 : SIGUSR2);
		signal_work(&s);
	}
	return NULL;
}

static void scenario_signals(void)
{
	struct crew c = {.n = 0};
	sig_chunk = xmalloc(sig_chunk_n);
	sig_main = pthread_self();
	altstack();
	handle(SIGUSR1, 1);
	handle(SIGUSR2, 0);
	handle(SIGALRM, 0);
	handle(SIGRTMIN, 1);
	crew_start(&c, signaller, 2);
	/* a timer at the main thread, and one at the process */
	timer_t tm;
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGRTMIN};
	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &tm) == 0);
	struct itimerspec its = {{0, 50000}, {0, 50000}};
	CHECK(timer_settime(tm, 0, &its, NULL) == 0);
	struct itimerval itv = {{0, 200}, {0, 200}};
	CHECK(setitimer(ITIMER_REAL, &itv, NULL) == 0);
	unsigned s = 99;
	for (double until = now() + 2.5; now() < until;)
		signal_work(&s);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	timer_delete(tm);
	crew_stop(&c);
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (sig_bad || getenv("LIFECYCLE_VERBOSE")) {
		int (*stats)(struct allocmap_index_stats *) =
			(int (*)(struct allocmap_index_stats *))dlsym(RTLD_DEFAULT, "allocmap_index_stats");
		struct allocmap_index_stats st = {0};
		if (stats)
			stats(&st);
		say("signals: %ld handled, %ld saw -1, wrong answers %#x; %llu events, %llu dropped, %llu re-reads\n",
		    sig_hits, sig_unknown, (unsigned)sig_bad, (unsigned long long)st.events,
		    (unsigned long long)st.dropped, (unsigned long long)st.resyncs);
	}
	CHECK(sig_bad == 0 && sig_hits > 100);
	check_clean("signal handlers mapping, querying and mallocing");
}

/* A known deadlock (heap/quiesce.h), not run by lifecycle.sh: two threads
 * each inside a heap query take a signal whose handler munmaps; each
 * unmap waits for the other thread's read to end, which waits for its
 * handler. Exits 3 when no handler ran for a second. */
static void on_park(int sig)
{
	(void)sig;
	char *m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m, PAGE);
	__atomic_add_fetch(&sig_hits, 1, __ATOMIC_RELAXED);
}

static void *park_reader(void *arg)
{
	(void)arg;
	while (!stop)
		chunk_ok(sig_chunk, sig_chunk_n, 1);
	return NULL;
}

static void scenario_sigpark(void)
{
	pthread_t t[2];
	sig_chunk = xmalloc(sig_chunk_n);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_park;
	sa.sa_flags = SA_RESTART;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	for (int k = 0; k < 2; k++)
		start(&t[k], park_reader, NULL);
	for (double until = now() + 3, last = now(); now() < until;) {
		long seen = sig_hits;
		for (int k = 0; k < 2; k++)
			pthread_kill(t[k], SIGUSR1);
		if (sig_hits != seen)
			last = now();
		else if (now() - last > 1) {
			say("sigpark: no handler ran for a second (%ld ran)\n", sig_hits);
			_exit(3);
		}
	}
	crew_stop(&(struct crew){.t = {t[0], t[1]}, .n = 2});
}

/* ---- stacks ---- */

static int detached_running;

struct stack_job {
	char *stack;     /* the program's own stack, or NULL */
	size_t len;
	int stack_kind;  /* what a query of the stack must answer */
	int detached;
};

static void *stack_body(void *arg)
{
	struct stack_job *j = arg;
	char local[64];
	struct allocmap_info i;
	local[0] = 1;
	CHECK(am_query(local, &i) == 0 && (int)i.kind == j->stack_kind);
	if (j->stack)
		CHECK(i.base == j->stack && i.size == j->len);
	char *p = xmalloc(5000);
	CHECK(chunk_ok(p, 5000, 1));
	xfree(p);
	char *m = map(PAGE, PROT_READ);
	munmap(m, PAGE);
	if (j->detached)
		__atomic_sub_fetch(&detached_running, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The process's thread count, from /proc (detached threads may still be
 * finishing their exit after they said they were done). */
static int threads_now(void)
{
	char b[4096];
	int fd = open("/proc/self/status", O_RDONLY), n = -1;
	ssize_t r = fd >= 0 ? read(fd, b, sizeof b - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (r > 0) {
		b[r] = '\0';
		char *t = strstr(b, "Threads:");
		if (t)
			n = atoi(t + 8);
	}
	return n;
}

static void stack_batch(int batch)
{
	enum { N = 8 };
	struct stack_job job[N];
	pthread_t t[N];
	for (int k = 0; k < N; k++) {
		pthread_attr_t a;
		pthread_attr_init(&a);
		struct stack_job *j = &job[k];
		memset(j, 0, sizeof *j);
		j->stack_kind = ALLOCMAP_STACK;
		switch (k % 4) {
		case 0: /* the program's, made as a stack */
		case 1: /* the program's, a plain mapping with a guard page it made */
			j->len = (k % 4 ? 32 : 64) * PAGE;
			j->stack = mmap(NULL, j->len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | (k % 4 ? 0 : MAP_STACK), -1, 0);
			CHECK(j->stack != MAP_FAILED);
			if (k % 4) {
				CHECK(mprotect(j->stack, PAGE, PROT_NONE) == 0);
				j->stack_kind = ALLOCMAP_ANON;
			}
			CHECK(pthread_attr_setstack(&a, j->stack, j->len) == 0);
			break;
		case 2: /* glibc's, detached every other batch */
			j->detached = batch & 1;
			pthread_attr_setdetachstate(&a, j->detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE);
			break;
		default: /* glibc's, big: its stack cache (40 MiB) overflows */
			pthread_attr_setstacksize(&a, (size_t)24 << 20);
			pthread_attr_setguardsize(&a, 16 * PAGE);
		}
		if (j->detached)
			__atomic_add_fetch(&detached_running, 1, __ATOMIC_RELEASE);
		CHECK(pthread_create(&t[k], &a, stack_body, j) == 0);
		pthread_attr_destroy(&a);
	}
	for (int k = 0; k < N; k++)
		if (!job[k].detached)
			join(t[k]);
	while (__atomic_load_n(&detached_running, __ATOMIC_ACQUIRE) || threads_now() != 1)
		sched_yield();
	for (int k = 0; k < N; k++)
		if (job[k].stack) {
			CHECK(munmap(job[k].stack, job[k].len) == 0);
			CHECK(unknown(job[k].stack) && unknown(job[k].stack + job[k].len - 1));
		}
	check_clean("a batch of threads joined, their own stacks unmapped");
}

static void scenario_stacks(void)
{
	double until = now() + 2;
	for (int batch = 0; batch < 300 && now() < until; batch++)
		stack_batch(batch);
}

/* ---- clone ---- */

struct clone_job {
	char *made;  /* what the child left mapped: 3 pages, the first read-only */
	char *chunk; /* and a chunk of 200 bytes */
};

static int clone_child(void *arg)
{
	struct clone_job *j = arg;
	char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p, PAGE, PROT_READ) != 0 || munmap(p + 3 * PAGE, PAGE) != 0)
		return 1;
	char *q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED || munmap(q, PAGE) != 0)
		return 2;
	j->made = p;
	j->chunk = malloc(200);
	return j->chunk ? 0 : 3;
}

/* After a CLONE_VM child ran: its mappings and chunk are in the index. */
static void clone_made(struct clone_job *j)
{
	struct allocmap_info i;
	CHECK(j->made && am_query(j->made, &i) == 0 && i.base == j->made && i.size == 3 * PAGE);
	CHECK(i.prot == PROT_READ && gone(j->made + 3 * PAGE, j->made, 3 * PAGE));
	CHECK(chunk_ok(j->chunk, 200, 1));
	CHECK(munmap(j->made, 3 * PAGE) == 0);
	xfree(j->chunk);
}

/* clone3(args, size) running fn(arg) on the new stack in the child. */
long lc_clone3(void *args, size_t size, int (*fn)(void *), void *arg);
__asm__(".text\n"
	".globl lc_clone3\n"
	".type lc_clone3, @function\n"
	"lc_clone3:\n"
	"	mov %rdx, %r8\n"
	"	mov %rcx, %r9\n"
	"	mov $435, %eax\n" /* SYS_clone3 */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	mov %r9, %rdi\n"
	"	call *%r8\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n" /* SYS_exit */
	"	syscall\n"
	"	hlt\n"
	"1:	ret\n");

struct lc_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static int exec_child(void *arg)
{
	(void)arg;
	execv(self_exe, selfcheck_argv);
	return 127;
}

static int raw_fork_child(void *arg)
{
	(void)arg;
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || !map_ok(p, PAGE, PROT_READ))
		return 1;
	return am_check(2) != 0;
}

static void scenario_clone(void)
{
	size_t len = 64 * PAGE;
	char *stack = map(len, PROT_READ | PROT_WRITE);
	struct crew c = {.n = 0};
	crew_start(&c, malloc_churn, 1);
	crew_start(&c, map_churn, 1);
	for (double until = now() + 2; now() < until;) {
		struct clone_job j = {0};
		pid_t pid = clone(clone_child, stack + len, CLONE_VM | SIGCHLD, &j);
		CHECK(pid > 0);
		wait_ok(pid, 0);
		clone_made(&j);
		memset(&j, 0, sizeof j);
		struct lc_clone_args a = {.flags = CLONE_VM, .exit_signal = SIGCHLD,
					  .stack = (uintptr_t)stack, .stack_size = len};
		long r = lc_clone3(&a, sizeof a, clone_child, &j);
		if (r == -ENOSYS)
			continue;
		CHECK(r > 0);
		wait_ok((pid_t)r, 0);
		clone_made(&j);
	}
	pid_t pid = clone(exec_child, stack + len, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	CHECK(pid > 0);
	wait_ok(pid, 0);
	crew_stop(&c);
	check_clean("raw clones with CLONE_VM");
	/* one thread: a fork without atfork handlers finds the index whole */
	pid = clone(raw_fork_child, stack + len, SIGCHLD, NULL);
	CHECK(pid > 0);
	wait_ok(pid, 0);
	munmap(stack, len);
	check_clean("raw clone without CLONE_VM");
}

/* ---- vma ---- */

static void vma_collisions(void)
{
	char *a = map(8 * PAGE, PROT_READ | PROT_WRITE);
	errno = 0;
	CHECK(mmap(a + 2 * PAGE, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
		      MAP_FAILED &&
	      errno == EEXIST);
	CHECK(mmap(a - 2 * PAGE, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
	      MAP_FAILED);
	CHECK(map_ok(a, 8 * PAGE, PROT_READ | PROT_WRITE));
	check_clean("MAP_FIXED_NOREPLACE collisions");
	/* MAP_FIXED over the middle: a sequence of its own there, the rest
	 * split around it (allocmap.h: a sequence holds no other) */
	char *b = mmap(a + 3 * PAGE, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(b == a + 3 * PAGE && map_ok(b, 2 * PAGE, PROT_READ));
	struct allocmap_info i, j;
	CHECK(am_query(a, &i) == 0 && i.base == a && i.size == 3 * PAGE && i.prot == (PROT_READ | PROT_WRITE));
	CHECK(am_query(a + 7 * PAGE, &j) == 0 && j.base == a + 5 * PAGE && j.size == 3 * PAGE && j.site == i.site);
	check_clean("MAP_FIXED over part of a mapping");
	CHECK(munmap(a, 8 * PAGE) == 0);
	check_clean("munmap of a mapping and the one in its middle");
}

static void vma_spanning_munmap(void)
{
	char *r = map(32 * PAGE, PROT_NONE);
	char path[] = "/tmp/allocmap-lifecycle-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, 4 * PAGE) == 0);
	unlink(path);
	int fx = MAP_PRIVATE | MAP_FIXED;
	CHECK(mmap(r, 4 * PAGE, PROT_READ | PROT_WRITE, fx | MAP_ANONYMOUS, -1, 0) == r);
	CHECK(mmap(r + 4 * PAGE, 4 * PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == r + 4 * PAGE);
	CHECK(mmap(r + 10 * PAGE, 2 * PAGE, PROT_READ, fx | MAP_ANONYMOUS, -1, 0) == r + 10 * PAGE);
	CHECK(munmap(r + 12 * PAGE, 4 * PAGE) == 0); /* a hole */
	close(fd);
	struct allocmap_info i;
	CHECK(am_query(r + 5 * PAGE, &i) == 0 && i.kind == ALLOCMAP_FILE);
	check_clean("three mappings in a reservation");
	CHECK(munmap(r + 2 * PAGE, 20 * PAGE) == 0);
	for (size_t k = 2; k < 22; k++)
		CHECK(unknown(r + k * PAGE));
	CHECK(am_query(r, &i) == 0 && am_query(r + 23 * PAGE, &i) == 0);
	check_clean("munmap spanning several mappings and a hole");
	CHECK(munmap(r, 32 * PAGE) == 0);
	CHECK(mprotect(r, PAGE, PROT_READ) == -1 && errno == ENOMEM);
	check_clean("munmap of the rest");
}

static void vma_mremap(void)
{
	char *src = map(4 * PAGE, PROT_READ | PROT_WRITE), *dst = map(8 * PAGE, PROT_READ);
	src[0] = 42;
	char *q = mremap(src, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 2 * PAGE);
	CHECK(q == dst + 2 * PAGE && q[0] == 42 && unknown(src));
	CHECK(map_ok(q, 4 * PAGE, PROT_READ | PROT_WRITE));
	struct allocmap_info i;
	CHECK(am_query(dst, &i) == 0 && i.base == dst && i.size == 2 * PAGE && i.prot == PROT_READ);
	CHECK(am_query(dst + 7 * PAGE, &i) == 0 && i.base == dst + 6 * PAGE && i.size == 2 * PAGE); /* split */
	check_clean("mremap MREMAP_FIXED onto another mapping");
	/* DONTUNMAP: the old range stays, emptied */
	char *d = mremap(q, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	CHECK(d != MAP_FAILED && d[0] == 42 && q[0] == 0);
	CHECK(map_ok(d, 4 * PAGE, PROT_READ | PROT_WRITE));
	CHECK(am_query(q, &i) == 0 && i.prot == (PROT_READ | PROT_WRITE));
	check_clean("mremap MREMAP_DONTUNMAP");
	char *e = mremap(d, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, dst);
	CHECK(e == dst && e[0] == 42 && map_ok(e, 4 * PAGE, PROT_READ | PROT_WRITE));
	check_clean("mremap MREMAP_DONTUNMAP|MREMAP_FIXED");
	/* grow in place into a hole made for it, then shrink */
	char *g = map(16 * PAGE, PROT_READ | PROT_WRITE);
	CHECK(munmap(g + 4 * PAGE, 12 * PAGE) == 0);
	CHECK(mremap(g, 4 * PAGE, 12 * PAGE, 0) == g && map_ok(g, 12 * PAGE, PROT_READ | PROT_WRITE));
	CHECK(mremap(g, 12 * PAGE, 2 * PAGE, 0) == g && map_ok(g, 2 * PAGE, PROT_READ | PROT_WRITE));
	CHECK(unknown(g + 2 * PAGE));
	check_clean("mremap in place");
	munmap(g, 2 * PAGE);
	munmap(src, 4 * PAGE);
	munmap(dst, 8 * PAGE);
	munmap(d, 4 * PAGE);
	check_clean("mremap, end");
}

static void vma_madvise(void)
{
	char *p = map(16 * PAGE, PROT_READ | PROT_WRITE);
	memset(p, 1, 16 * PAGE);
	CHECK(madvise(p + 2 * PAGE, 3 * PAGE, MADV_DONTNEED) == 0 && p[2 * PAGE] == 0);
	CHECK(madvise(p + 8 * PAGE, 4 * PAGE, MADV_FREE) == 0);
	size_t n = 1 << 20;
	char *c = xmalloc(n);
	memset(c, 2, n);
	uintptr_t mid = ((uintptr_t)c + 8 * PAGE) & ~(PAGE - 1);
	CHECK(madvise((void *)mid, 16 * PAGE, MADV_DONTNEED) == 0);
	CHECK(madvise((void *)(mid + 32 * PAGE), 16 * PAGE, MADV_FREE) == 0);
	CHECK(chunk_ok(c, n, 1) && map_ok(p, 16 * PAGE, PROT_READ | PROT_WRITE));
	check_clean("madvise DONTNEED and FREE");
	if (mlock(p + 4 * PAGE, 2 * PAGE) == 0) {
		CHECK(map_ok(p, 16 * PAGE, PROT_READ | PROT_WRITE));
		check_clean("mlock of part of a mapping");
		CHECK(munlock(p + 4 * PAGE, 2 * PAGE) == 0);
		check_clean("munlock");
	}
	/* a name for part of a mapping (kernels with CONFIG_ANON_VMA_NAME) */
	if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, p + 6 * PAGE, 2 * PAGE, "lifecycle") == 0) {
		CHECK(map_ok(p, 16 * PAGE, PROT_READ | PROT_WRITE));
		check_clean("PR_SET_VMA_ANON_NAME on part of a mapping");
	}
	xfree(c);
	munmap(p, 16 * PAGE);
	check_clean("madvise, end");
}

/* MADV_DONTFORK: the child has no such mapping; its index must agree. */
static void vma_dontfork(void)
{
	char *p = map(8 * PAGE, PROT_READ | PROT_WRITE);
	CHECK(madvise(p + 2 * PAGE, 2 * PAGE, MADV_DONTFORK) == 0);
	char *whole = map(4 * PAGE, PROT_READ);
	CHECK(madvise(whole, 4 * PAGE, MADV_DONTFORK) == 0);
	check_clean("MADV_DONTFORK");
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) { /* the child re-reads the maps at its check at the latest (README, fork) */
		check_clean("fork, in the child, after MADV_DONTFORK");
		CHECK(unknown(p + 2 * PAGE) && unknown(whole));
		struct allocmap_info i;
		CHECK(am_query(p, &i) == 0 && am_query(p + 5 * PAGE, &i) == 0);
		_exit(0);
	}
	wait_ok(pid, 0);
	CHECK(madvise(p, 8 * PAGE, MADV_DOFORK) == 0);
	check_clean("MADV_DONTFORK, parent");
	munmap(p, 8 * PAGE);
	munmap(whole, 4 * PAGE);
}

static void scenario_unmaps(void)
{
	struct crew c = {.n = 0};
	crew_start(&c, map_churn, 4);
	sleep_s(2);
	crew_stop(&c);
	check_clean("four threads mapping and unmapping at once");
}

static void scenario_vma(void)
{
	vma_collisions();
	vma_spanning_munmap();
	vma_mremap();
	vma_madvise();
	vma_dontfork();
}

/* ---- resync ---- */

/* A mapping the kernel split without changing its protection keeps its
 * identity when the index re-reads /proc/self/maps (dlopen makes it). */
static void scenario_resync(void)
{
	char *p = map(16 * PAGE, PROT_READ | PROT_WRITE);
	struct allocmap_info before, after;
	CHECK(am_query(p + 5 * PAGE, &before) == 0 && before.base == p && before.size == 16 * PAGE);
	CHECK(madvise(p + 8 * PAGE, PAGE, MADV_DONTFORK) == 0);
	int locked = mlock(p + 4 * PAGE, PAGE) == 0;
	CHECK(libs_found() >= 1);
	for (int k = 0; k < 16; k += 3) {
		CHECK(am_query(p + k * PAGE, &after) == 0);
		if (after.base != before.base || after.size != before.size || after.site != before.site) {
			say("page %d: base %p size %zu site %p, was %p %zu %p (mlock %d)\n", k, after.base, after.size,
			    after.site, before.base, before.size, before.site, locked);
			_exit(1);
		}
	}
	check_clean("resync over split mappings");
	munmap(p, 16 * PAGE);
}

/* ---- growsdown ---- */

static int __attribute__((noinline)) recurse(int n)
{
	volatile char pad[4000];
	pad[0] = (char)n;
	if (n == 0) { /* learnt at the check (README: stacks) */
		struct allocmap_info i;
		const void *at = (const void *)pad;
		CHECK(am_query(at, &i) == -1 || (i.kind == ALLOCMAP_STACK && inside(at, i.base, i.size)));
		check_clean("main stack grown by recursion");
		CHECK(am_query(at, &i) == 0 && i.kind == ALLOCMAP_STACK && inside(at, i.base, i.size));
		return pad[0];
	}
	return recurse(n - 1) + pad[0];
}

static void scenario_growsdown(void)
{
	recurse(600); /* 2.4 MB of the main stack */
	/* a MAP_GROWSDOWN mapping with room below it (the guard gap) */
	char *hole = map(64 << 20, PROT_NONE);
	CHECK(munmap(hole, 64 << 20) == 0);
	char *g = mmap(hole + (48 << 20), 4 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(g == hole + (48 << 20));
	struct allocmap_info i;
	CHECK(am_query(g, &i) == 0 && i.kind == ALLOCMAP_STACK);
	check_clean("MAP_GROWSDOWN");
	g[-1] = 1;
	g[-5 * (long)PAGE] = 1;
	check_clean("MAP_GROWSDOWN grown");
	CHECK(am_query(g - 5 * PAGE, &i) == 0 && i.kind == ALLOCMAP_STACK && i.base == g - 5 * PAGE);
	CHECK(i.size == 9 * PAGE && munmap(g - 5 * PAGE, 9 * PAGE) == 0);
	check_clean("MAP_GROWSDOWN unmapped");
}

/* ---- brk ---- */

static void scenario_brk(void)
{
	unsigned s = 5;
	char *mine[64];
	size_t len[64];
	int n = 0;
	char *chunks[32] = {0};
	for (int op = 1; op <= 3000; op++) {
		unsigned r = rnd(&s) % 4;
		if (r == 0 && n < 64) { /* grow */
			size_t inc = (1 + rnd(&s) % 16) * 1024;
			char *p = sbrk((intptr_t)inc);
			CHECK(p != (void *)-1);
			p[inc - 1] = 1;
			struct allocmap_info i;
			CHECK(am_query(p + inc - 1, &i) == 0 && i.kind == ALLOCMAP_BRK);
			mine[n] = p, len[n++] = inc;
		} else if (r == 1 && n) { /* shrink what is ours, if on top */
			if ((char *)sbrk(0) == mine[n - 1] + len[n - 1]) {
				CHECK(sbrk(-(intptr_t)len[n - 1]) != (void *)-1);
				n--;
			} else {
				n = 0; /* malloc grew above: ours stays */
			}
		} else if (r == 2) { /* brk() itself, there and back */
			char *top = sbrk(0);
			CHECK(brk(top + 3 * PAGE) == 0 && sbrk(0) == top + 3 * PAGE);
			top[2 * PAGE] = 1;
			CHECK(brk(top) == 0 && sbrk(0) == top);
		} else {
			unsigned k = rnd(&s) % 32;
			xfree(chunks[k]);
			chunks[k] = xmalloc(1 + rnd(&s) % 20000);
		}
		if (op % 250 == 0)
			check_clean("brk and sbrk interleaved with malloc");
	}
	char *top = sbrk(0); /* a break the kernel refuses moves nothing */
	CHECK(brk(top + ((size_t)1 << 46)) == -1 && errno == ENOMEM && sbrk(0) == top);
	for (int k = 0; k < 32; k++)
		xfree(chunks[k]);
	check_clean("brk, end");
}

/* ---- selfcheck ---- */

static void scenario_selfcheck(void) { fresh_image("start of an exec'd image"); }

int main(int argc, char **argv)
{
	am_check = (int (*)(int))dlsym(RTLD_DEFAULT, "allocmap_check");
	am_query = (int (*)(const void *, struct allocmap_info *))dlsym(RTLD_DEFAULT, "allocmap_query");
	ssize_t r = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
	if (!am_check || !am_query || r <= 0) {
		say("allocmap is not loaded (run under LD_PRELOAD)\n");
		return 2;
	}
	static const struct {
		const char *name;
		void (*fn)(void);
	} all[] = {{"dlopen", scenario_dlopen}, {"fork", scenario_fork}, {"spawn", scenario_spawn},
		   {"signals", scenario_signals}, {"stacks", scenario_stacks}, {"clone", scenario_clone},
		   {"unmaps", scenario_unmaps}, {"vma", scenario_vma}, {"resync", scenario_resync}, {"growsdown", scenario_growsdown},
		   {"brk", scenario_brk}, {"selfcheck", scenario_selfcheck}, {"sigpark", scenario_sigpark}};
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		scenario_exec(argc > 2 ? atoi(argv[2]) : 0);
		return 0;
	}
	for (size_t k = 0; k < sizeof all / sizeof *all; k++)
		if (argc > 1 && !strcmp(argv[1], all[k].name)) {
			all[k].fn();
			return 0;
		}
	say("usage: %s SCENARIO\n", argv[0]);
	return 2;
}
