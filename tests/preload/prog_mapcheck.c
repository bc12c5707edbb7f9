/* Whole-program tests of the mapping index, run under the library (linked
 * with -lallocmap, and again under LD_PRELOAD by mapindex.sh).
 *
 *   prog_mapcheck SCENARIO
 *
 * Each scenario changes the address space the way real programs do, asks
 * allocmap_query about addresses whose answer it knows, and ends with
 * allocmap_check(2) == 0. Exit status 0 means every expectation held; a
 * failed expectation prints its line and exits 1.
 */
#include <allocmap.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "expect.h"

static int site_in_function(const void *site, const void *fn)
{
	return (uintptr_t)site >= (uintptr_t)fn && (uintptr_t)site < (uintptr_t)fn + 4096;
}

static void check_clean(const char *when)
{
	int n = allocmap_check(2);
	if (n != 0) {
		fprintf(stderr, "allocmap_check after %s: %d discrepancies\n", when, n);
		exit(1);
	}
}

static struct allocmap_info q(const void *p)
{
	struct allocmap_info i;
	EXPECT(allocmap_query(p, &i) == 0);
	return i;
}

static void scenario_startup(void)
{
	int local = 0;
	struct allocmap_info i;
	check_clean("start-up");
	i = q((void *)&scenario_startup);
	EXPECT(i.kind == ALLOCMAP_OBJECT && i.path && strstr(i.path, "prog_mapcheck"));
	EXPECT(i.prot == (PROT_READ | PROT_EXEC));
	i = q((void *)&printf);
	EXPECT(i.kind == ALLOCMAP_OBJECT && strstr(i.path, "libc.so.6"));
	EXPECT((uintptr_t)i.base <= (uintptr_t)&printf && (uintptr_t)&printf < (uintptr_t)i.base + i.size);
	i = q(&local);
	EXPECT(i.kind == ALLOCMAP_STACK && !strcmp(i.allocator, "stack"));
	EXPECT(allocmap_query(NULL, &i) == -1 && i.kind == ALLOCMAP_UNKNOWN);
	EXPECT(allocmap_query((void *)-1, &i) == -1);
	EXPECT(allocmap_query((void *)0xffff800000000000UL, &i) == -1);
	EXPECT(allocmap_query(&local, NULL) == -1);
}

struct maps_of {
	const char *seq;
	size_t maps, bytes;
};

/* ALLOCMAP_WALK_MAPS's callback: counts the maps of one sequence. */
static int count_maps_of(const struct allocmap_info *i, void *arg)
{
	struct maps_of *m = arg;
	if (i->map_base == m->seq && i->size && (const char *)i->base >= m->seq)
		m->maps++, m->bytes += i->size;
	return 0;
}

/* The event counters by kind add up to the index's total. */
static void expect_event_sum(struct allocmap_event_stats *ev)
{
	struct allocmap_index_stats ix;
	EXPECT(allocmap_event_stats(ev) == 0 && allocmap_index_stats(&ix) == 0);
	EXPECT(ev->mmap + ev->munmap + ev->mprotect + ev->mremap + ev->brk + ev->loader == ix.events);
	EXPECT(ev->own_placed + ev->own_unplaced >= 1); /* the no-mmap tier at least */
}

static void scenario_anon(void)
{
	struct allocmap_event_stats ev0, ev1;
	expect_event_sum(&ev0);
	EXPECT(allocmap_event_stats(NULL) == -1);
	char *p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(p != MAP_FAILED);
	struct allocmap_info i = q(p + 5 * PAGE + 7);
	EXPECT(i.kind == ALLOCMAP_ANON && !strcmp(i.allocator, "mmap"));
	EXPECT(i.base == p && i.size == 16 * PAGE && i.prot == (PROT_READ | PROT_WRITE));
	EXPECT(i.site && (uintptr_t)i.site > (uintptr_t)&scenario_anon - 4096 &&
	       (uintptr_t)i.site < (uintptr_t)&scenario_anon + 4096);
	EXPECT(mprotect(p + 4 * PAGE, 2 * PAGE, PROT_READ) == 0);
	EXPECT(q(p + 4 * PAGE).prot == PROT_READ && q(p + 6 * PAGE).prot == (PROT_READ | PROT_WRITE));
	EXPECT(munmap(p + 8 * PAGE, PAGE) == 0);
	EXPECT(allocmap_query(p + 8 * PAGE, &i) == -1);
	struct maps_of m = {p, 0, 0}, above = {p + 9 * PAGE, 0, 0};
	EXPECT(allocmap_walk(ALLOCMAP_WALK_MAPS, count_maps_of, &m) == 0);
	EXPECT(m.maps == 3 && m.bytes == 8 * PAGE); /* rw [0,4) r [4,6) rw [6,8): the hole cut the sequence */
	EXPECT(allocmap_walk(ALLOCMAP_WALK_MAPS, count_maps_of, &above) == 0);
	EXPECT(above.maps == 1 && above.bytes == 7 * PAGE); /* rw [9,16), a sequence of its own */
	expect_event_sum(&ev1);
	EXPECT(ev1.mprotect == ev0.mprotect + 1 && ev1.munmap == ev0.munmap + 1 && ev1.mmap > ev0.mmap);
	check_clean("anonymous mmap, mprotect, partial munmap");
	EXPECT(munmap(p, 16 * PAGE) == 0);
	EXPECT(allocmap_query(p, &i) == -1);
	check_clean("munmap");
}

/* A new file of 3 pages named by path (a mkstemp template), open. */
static int temp_file(char *path)
{
	int fd = mkstemp(path);
	EXPECT(fd >= 0 && ftruncate(fd, 3 * PAGE) == 0);
	return fd;
}

static void scenario_file(void)
{
	char path[] = "/tmp/allocmap test XXXXXX";
	int fd = temp_file(path);
	char *p = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT(p != MAP_FAILED);
	struct allocmap_info i = q(p + PAGE);
	EXPECT(i.kind == ALLOCMAP_FILE && i.path && !strcmp(i.path, path));
	check_clean("file mmap");
	munmap(p, 3 * PAGE);
	close(fd);
	unlink(path);
	check_clean("file munmap");
}

static void scenario_dlopen(void)
{
	const char *libs[] = {"libz.so.1", "libsqlite3.so.0", "libcrypt.so.1", "libexpat.so.1"};
	void *h[4];
	int n = 0;
	for (int k = 0; k < 4; k++)
		if ((h[n] = dlopen(libs[k], RTLD_NOW)))
			n++;
	EXPECT(n >= 2);
	check_clean("dlopen");
	void *f = dlsym(h[0], "zlibVersion");
	if (f) {
		struct allocmap_info i = q(f);
		EXPECT(i.kind == ALLOCMAP_OBJECT && strstr(i.path, "libz"));
	}
	for (int k = n - 1; k >= 0; k--)
		dlclose(h[k]);
	check_clean("dlclose");
}

/* Ground truth for the random scenario: the prot of each page, -1 unmapped. */
enum { ARENA_PAGES = 512 };
static int truth[ARENA_PAGES];
static char *arena;

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void set_truth(size_t a, size_t n, int prot)
{
	for (size_t k = a; k < a + n && k < ARENA_PAGES; k++)
		truth[k] = prot;
}

static const int prots[] = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE};

static void random_op(unsigned *s)
{
	size_t a = rnd(s) % ARENA_PAGES, n = 1 + rnd(s) % 16;
	if (a + n > ARENA_PAGES)
		n = ARENA_PAGES - a;
	int prot = prots[rnd(s) % 3];
	switch (rnd(s) % 4) {
	case 0:
		if (mmap(arena + a * PAGE, n * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
			set_truth(a, n, prot);
		break;
	case 1:
		if (munmap(arena + a * PAGE, n * PAGE) == 0)
			set_truth(a, n, -1);
		break;
	case 2:
		if (mprotect(arena + a * PAGE, n * PAGE, prot) == 0)
			set_truth(a, n, prot);
		else /* the kernel changed the pages before the first hole */
			for (size_t k = a; k < a + n && truth[k] >= 0; k++)
				truth[k] = prot;
		break;
	default: {
		size_t to = rnd(s) % ARENA_PAGES, m = 1 + rnd(s) % 16;
		int ok = 1;
		for (size_t k = a; k < a + n; k++) /* mremap needs one mapping */
			ok &= truth[k] == truth[a] && truth[k] >= 0;
		if (!ok || to + m > ARENA_PAGES || (to < a + n && a < to + m))
			break;
		if (mremap(arena + a * PAGE, n * PAGE, m * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			   arena + to * PAGE) != MAP_FAILED) {
			int pr = truth[a];
			set_truth(a, n, -1);
			set_truth(to, m, pr);
		}
	}
	}
}

static void verify_truth(void)
{
	for (size_t k = 0; k < ARENA_PAGES; k++) {
		struct allocmap_info i;
		int r = allocmap_query(arena + k * PAGE, &i);
		if (truth[k] < 0)
			EXPECT(r == -1);
		else
			EXPECT(r == 0 && i.prot == truth[k]);
	}
}

static void scenario_random(void)
{
	unsigned s = 12345;
	arena = mmap(NULL, ARENA_PAGES * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(arena != MAP_FAILED);
	set_truth(0, ARENA_PAGES, PROT_READ);
	for (int k = 1; k <= 10000; k++) {
		random_op(&s);
		if (k % 500 == 0) {
			verify_truth();
			check_clean("random mapping operations");
		}
	}
	munmap(arena, ARENA_PAGES * PAGE);
	check_clean("random mapping operations, end");
}

static void *thread_body(void *arg)
{
	int local = 0;
	struct allocmap_info i;
	(void)arg;
	if (allocmap_query(&local, &i) != 0 || i.kind != ALLOCMAP_STACK)
		return (void *)1;
	return NULL;
}

static void scenario_threads(void)
{
	pthread_t t[16];
	for (int k = 0; k < 16; k++)
		EXPECT(pthread_create(&t[k], NULL, thread_body, NULL) == 0);
	for (int k = 0; k < 16; k++) {
		void *r;
		pthread_join(t[k], &r);
		EXPECT(r == NULL);
	}
	check_clean("16 threads");
}

static void scenario_large_malloc(void)
{
	void *p[8];
	for (int k = 0; k < 8; k++) {
		p[k] = malloc(((size_t)1 << 20) << (k % 4));
		EXPECT(p[k]);
		memset(p[k], k, 4096);
		struct allocmap_info i = q((char *)p[k] + 100);
		EXPECT(i.kind == ALLOCMAP_ANON || i.kind == ALLOCMAP_HEAP_CHUNK);
	}
	check_clean("large mallocs");
	for (int k = 0; k < 8; k++)
		free(p[k]);
	check_clean("large frees");
	char *small[1000];
	for (int k = 0; k < 1000; k++)
		small[k] = malloc(1000);
	EXPECT(q(small[999]).kind == ALLOCMAP_BRK || q(small[999]).kind == ALLOCMAP_HEAP_CHUNK);
	check_clean("brk heap growth");
	for (int k = 0; k < 1000; k++)
		free(small[k]);
	check_clean("brk heap trim");
}

static void scenario_getpwnam(void)
{
	struct passwd *pw = getpwnam("root");
	EXPECT(pw && pw->pw_uid == 0);
	check_clean("getpwnam");
}

static void scenario_fork(void)
{
	pid_t pid = fork();
	EXPECT(pid >= 0);
	if (pid == 0) {
		void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		_exit(p == MAP_FAILED || allocmap_check(2) != 0);
	}
	int st;
	EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	check_clean("fork");
}

/* syscall(SYS_mmap, ...) and friends: the raw calls C programs make. */
static void scenario_rawsyscall(void)
{
	char *p = (char *)syscall(SYS_mmap, NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(p != MAP_FAILED);
	struct allocmap_info i = q(p + PAGE);
	EXPECT(i.kind == ALLOCMAP_ANON && i.base == p && i.size == 8 * PAGE);
	EXPECT(site_in_function(i.site, (void *)scenario_rawsyscall));
	EXPECT(syscall(SYS_mprotect, p, 2 * PAGE, PROT_READ) == 0 && q(p).prot == PROT_READ);
	EXPECT(syscall(SYS_munmap, p + 6 * PAGE, 2 * PAGE) == 0 && allocmap_query(p + 7 * PAGE, &i) == -1);
	char *r = (char *)syscall(SYS_mremap, p + 2 * PAGE, 4 * PAGE, 12 * PAGE, MREMAP_MAYMOVE);
	EXPECT(r != MAP_FAILED && q(r + 11 * PAGE).kind == ALLOCMAP_ANON);
	check_clean("raw syscall() mapping calls");
	errno = 0;
	EXPECT(syscall(SYS_munmap, r + 1, PAGE) == -1 && errno == EINVAL);
	EXPECT(syscall(SYS_getpid) == getpid());
	EXPECT(syscall(SYS_munmap, r, 12 * PAGE) == 0 && syscall(SYS_munmap, p, 2 * PAGE) == 0);
	check_clean("raw syscall() munmap");
}

/* mmap by a system call instruction of the program's own, which no hook
 * sees (no libc, no syscall()). */
static void *unseen_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	register long r10 __asm__("r10") = flags, r8 __asm__("r8") = fd, r9 __asm__("r9") = off;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)SYS_mmap), "D"(addr), "S"(len), "d"(prot), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return (void *)ret;
}

/* A file's pages at another offset put over a file mapping unseen: the
 * check says the offset differs, and the next re-read of the maps (a
 * dlopen) records that mapping anew instead of keeping the stale one. */
static void scenario_unseen_offset(void)
{
	char path[] = "/tmp/allocmap offset XXXXXX";
	int fd = temp_file(path);
	char *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT(p != MAP_FAILED);
	check_clean("file mmap");
	EXPECT(unseen_mmap(p, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, PAGE) == p);
	EXPECT(allocmap_check(-1) == 1);
	void *h = dlopen("libm.so.6", RTLD_NOW);
	EXPECT(h != NULL);
	check_clean("a re-read of the maps after an unseen remapping");
	dlclose(h);
	munmap(p, 2 * PAGE);
	close(fd);
	unlink(path);
	check_clean("file munmap");
}

/* mprotect with PROT_GROWSDOWN on the main stack: the kernel applies it
 * from the stack's start, as ld.so does for an execstack object. */
static void scenario_growsdown(void)
{
	int local = 0;
	char *page = (char *)((uintptr_t)&local & ~(PAGE - 1));
	struct allocmap_info i = q(page);
	EXPECT(mprotect(page, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN) == 0);
	EXPECT(q(i.base).prot == (PROT_READ | PROT_WRITE | PROT_EXEC));
	check_clean("mprotect PROT_GROWSDOWN");
	EXPECT(mprotect(page, PAGE, PROT_READ | PROT_WRITE | PROT_GROWSDOWN) == 0);
	check_clean("mprotect PROT_GROWSDOWN back");
}

/* No file descriptor left for /proc/self/maps: the check says it could
 * not run (checkfail.sh reads what it printed). */
static void scenario_nofile(void)
{
	struct rlimit rl;
	EXPECT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	rl.rlim_cur = 3;
	EXPECT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	EXPECT(allocmap_check(2) == -1);
}

/* Two MAP_GROWSDOWN mappings side by side are one to the kernel: an
 * mprotect with PROT_GROWSDOWN in the upper one changes both, down to
 * the lower one's start; one that fails on a hole past their end has
 * changed them both first. */
static void scenario_growsdown_merged(void)
{
	const int gd = MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED;
	char *h = mmap(NULL, 10 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(h != MAP_FAILED && munmap(h, 10 * PAGE) == 0); /* [h, h + 10 pages) is free */
	EXPECT(mmap(h + 4 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE, gd, -1, 0) == h + 4 * PAGE);
	EXPECT(mmap(h + 6 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE, gd, -1, 0) == h + 6 * PAGE);
	EXPECT(mprotect(h + 7 * PAGE, PAGE, PROT_READ | PROT_GROWSDOWN) == 0);
	EXPECT(q(h + 4 * PAGE).prot == PROT_READ);
	check_clean("mprotect PROT_GROWSDOWN over two merged MAP_GROWSDOWN mappings");
	errno = 0;
	EXPECT(mprotect(h + 7 * PAGE, 2 * PAGE, PROT_NONE | PROT_GROWSDOWN) == -1 && errno == ENOMEM);
	check_clean("mprotect PROT_GROWSDOWN failing past the end");
	EXPECT(munmap(h + 4 * PAGE, 4 * PAGE) == 0);
}

/* mremap(MREMAP_MAYMOVE|MREMAP_FIXED) of a range spanning a hole (6.17+
 * kernels; older ones refuse it): each piece moves, and the destination
 * under the hole is left as it was. */
static void scenario_remap_hole(void)
{
	char *src = mmap(NULL, 6 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dst = mmap(NULL, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(src != MAP_FAILED && dst != MAP_FAILED && munmap(src + 2 * PAGE, 2 * PAGE) == 0);
	char *r = mremap(src, 6 * PAGE, 6 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (r == MAP_FAILED) { /* an older kernel */
		EXPECT(errno == EFAULT);
	} else {
		EXPECT(r == dst && q(dst + 2 * PAGE).prot == (PROT_READ | PROT_WRITE));
		EXPECT(q(dst).prot == PROT_READ && q(dst + 5 * PAGE).prot == PROT_READ);
	}
	check_clean("mremap MAYMOVE|FIXED over a hole");
	munmap(src, 6 * PAGE);
	munmap(dst, 6 * PAGE);
	check_clean("mremap MAYMOVE|FIXED over a hole, unmapped");
}

/* The main thread's stack grows by page faults, which no call shows: a
 * deep recursion takes it megabytes below where it was at start-up. Its
 * new pages are the stack's, asked from this thread or another, and
 * allocmap_check agrees with the kernel. */
static void *query_from_thread(void *p)
{
	static struct allocmap_info i;
	return allocmap_query(p, &i) == 0 ? &i : NULL;
}

static void deep(int n, uintptr_t *bottom)
{
	volatile char frame[64 << 10];
	frame[0] = (char)n, frame[sizeof frame - 1] = (char)n;
	if (n > 0) {
		deep(n - 1, bottom);
		return;
	}
	*bottom = (uintptr_t)frame;
	struct allocmap_info i = q((const void *)*bottom);
	EXPECT(i.kind == ALLOCMAP_STACK && !strcmp(i.allocator, "stack"));
	EXPECT((uintptr_t)i.base <= *bottom && (uintptr_t)&n < (uintptr_t)i.base + i.size);
	EXPECT(i.map_base == i.base && i.map_size == i.size && i.prot == (PROT_READ | PROT_WRITE));
	pthread_t t;
	void *r;
	EXPECT(pthread_create(&t, NULL, query_from_thread, (void *)(*bottom + 1000)) == 0 && pthread_join(t, &r) == 0);
	EXPECT(r && ((struct allocmap_info *)r)->kind == ALLOCMAP_STACK && ((struct allocmap_info *)r)->base == i.base);
	check_clean("the main stack grew");
}

static void scenario_stackgrow(void)
{
	int local = 0;
	struct allocmap_info before = q(&local);
	uintptr_t bottom = 0;
	EXPECT(before.kind == ALLOCMAP_STACK);
	deep(48, &bottom); /* 3 MiB */
	EXPECT(bottom + (2 << 20) < (uintptr_t)before.base);
	EXPECT(q(&local).base < before.base);
	check_clean("the main stack grew, back up");
}

/* Run under a small RLIMIT_AS: the page index reservation is refused and
 * lookups use the fallback search; answers must be the same. */
static void scenario_fallback(void)
{
	struct allocmap_index_stats st;
	EXPECT(allocmap_index_stats(&st) == 0 && st.page_index == 0);
	scenario_startup();
	scenario_anon();
	scenario_random();
	scenario_rawsyscall();
}

static volatile int churn_stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!churn_stop) {
		void *m = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		void *h = malloc(300000);
		free(malloc(100));
		if (m != MAP_FAILED)
			munmap(m, 8 * PAGE);
		free(h);
	}
	return NULL;
}

/* fork while other threads are inside the library: the child must not
 * inherit a held lock or a half-made change. */
static void scenario_forkstress(void)
{
	pthread_t t[3];
	for (int k = 0; k < 3; k++)
		EXPECT(pthread_create(&t[k], NULL, churn, NULL) == 0);
	for (int k = 0; k < 200; k++) {
		pid_t pid = fork();
		EXPECT(pid >= 0);
		if (pid == 0) { /* exact, and indexing chunks, whatever the threads were doing */
			char *m = malloc(1000);
			struct allocmap_info i;
			if (allocmap_query(m + 10, &i) != 0 || i.kind != ALLOCMAP_HEAP_CHUNK || i.base != m) {
				fprintf(stderr, "child: chunk %p answered kind %d base %p\n", (void *)m, i.kind, i.base);
				_exit(1);
			}
			int n = allocmap_check(2);
			if (n)
				fprintf(stderr, "child: check %d\n", n);
			_exit(n != 0);
		}
		int st;
		EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	churn_stop = 1;
	for (int k = 0; k < 3; k++)
		pthread_join(t[k], NULL);
	check_clean("forks while threads churn");
}

static void scenario_self(void)
{
	struct allocmap_tier_stats st;
	EXPECT(allocmap_tier_stats(ALLOCMAP_TIER_NOMMAP, &st) == 0);
	EXPECT(st.reserved > 0 && st.in_use > 0);
	EXPECT(allocmap_tier_stats(7, &st) == -1);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} all[] = {{"startup", scenario_startup}, {"anon", scenario_anon}, {"file", scenario_file},
		   {"dlopen", scenario_dlopen}, {"random", scenario_random}, {"threads", scenario_threads},
		   {"large_malloc", scenario_large_malloc}, {"getpwnam", scenario_getpwnam},
		   {"fork", scenario_fork}, {"forkstress", scenario_forkstress}, {"self", scenario_self},
		   {"rawsyscall", scenario_rawsyscall}, {"growsdown", scenario_growsdown},
		   {"stackgrow", scenario_stackgrow}, {"growsdown_merged", scenario_growsdown_merged},
		   {"remap_hole", scenario_remap_hole}, {"nofile", scenario_nofile},
		   {"fallback", scenario_fallback}, {"unseen_offset", scenario_unseen_offset}};
	for (size_t k = 0; k < sizeof all / sizeof *all; k++)
		if (argc > 1 && !strcmp(argv[1], all[k].name)) {
			all[k].fn();
			return 0;
		}
	fprintf(stderr, "usage: %s SCENARIO\n", argv[0]);
	return 2;
}
