/* A mapping fuzzer: random mmap / munmap / mprotect / mremap / madvise
 * calls in a 256-page arena at a fixed address far from anything the
 * kernel places, through libc's entries and through syscall(), each
 * followed by allocmap_check(2) and a query of every arena page against
 * the kernel (mincore: mapped or not). Covers MAP_FIXED over anything,
 * memfd (shared and private) mappings, MAP_GROWSDOWN and PROT_GROWSDOWN,
 * MREMAP_MAYMOVE|MREMAP_FIXED spanning holes (kernels 6.17+ move each
 * piece), MREMAP_DONTUNMAP, moves out of the arena and back, and writes
 * to pages (so the kernel merges fewer mappings).
 *
 *   prog_mapfuzz SEED STEPS [MILLISECONDS]
 *
 * Runs STEPS operations (or until MILLISECONDS passed) from SEED: the
 * same seed makes the same calls. Exit 0 if every check held; else
 * prints the seed, the step, the last operations, and exits 1. The
 * program makes no call to malloc after start-up and no mapping call
 * outside the arena but its own (the kernel places none in it).
 */
#include <allocmap.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define ARENA ((char *)0x100000000000UL)
#define ARENA_PAGES 256
#define MAX_OUT 8
#define LOG_LINES 12
#define FILE_PAGES 64

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static uint64_t rng;
static int memfd;
static char *outside[MAX_OUT];     /* mappings moved out of the arena */
static size_t outside_len[MAX_OUT];
static char oplog[LOG_LINES][160];
static unsigned long step;
static sigjmp_buf touch_jmp;

static uint64_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

static unsigned pick(unsigned n) { return (unsigned)(rnd() % n); }

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;
	char *line = oplog[step % LOG_LINES];
	int n = snprintf(line, sizeof oplog[0], "%lu: ", step);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof oplog[0] - (size_t)n, fmt, ap);
	va_end(ap);
}

static void fail(const char *why, unsigned long seed)
{
	fprintf(stderr, "FUZZ seed %lu step %lu: %s\nlast operations:\n", seed, step, why);
	for (unsigned long k = step >= LOG_LINES ? step - LOG_LINES + 1 : 0; k <= step; k++)
		fprintf(stderr, "  %s\n", oplog[k % LOG_LINES]);
	exit(1);
}

/* ---- the calls, through libc or syscall() ---- */

static int use_raw(void) { return pick(2); }

static void *do_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
	return use_raw() ? (void *)syscall(SYS_mmap, a, n, prot, flags, fd, off) : mmap(a, n, prot, flags, fd, off);
}

static int do_munmap(void *a, size_t n) { return use_raw() ? (int)syscall(SYS_munmap, a, n) : munmap(a, n); }

static int do_mprotect(void *a, size_t n, int prot)
{
	return use_raw() ? (int)syscall(SYS_mprotect, a, n, prot) : mprotect(a, n, prot);
}

static void *do_mremap(void *a, size_t n, size_t m, int flags, void *to)
{
	return use_raw() ? (void *)syscall(SYS_mremap, a, n, m, flags, to) : mremap(a, n, m, flags, to);
}

static int do_madvise(void *a, size_t n, int advice)
{
	return use_raw() ? (int)syscall(SYS_madvise, a, n, advice) : madvise(a, n, advice);
}

/* ---- operands ---- */

static const int prots[] = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC};

static int any_prot(void) { return prots[pick(4)]; }

/* A random range of 1..16 pages inside the arena: its start page and length. */
static void range(size_t *a, size_t *n)
{
	*a = pick(ARENA_PAGES);
	*n = 1 + pick(16);
	if (*a + *n > ARENA_PAGES)
		*n = ARENA_PAGES - *a;
}

static char *at(size_t page) { return ARENA + page * PAGE; }

/* ---- operations ---- */

static void op_mmap_anon(void)
{
	size_t a, n;
	range(&a, &n);
	int prot = any_prot(), kind = pick(4);
	int flags = MAP_FIXED | MAP_ANONYMOUS | (kind == 0 ? MAP_SHARED : MAP_PRIVATE);
	if (kind == 3)
		flags |= MAP_GROWSDOWN;
	void *r = do_mmap(at(a), n * PAGE, prot, flags, -1, 0);
	note("mmap anon %zu+%zu prot %d flags %#x -> %s", a, n, prot, flags, r == MAP_FAILED ? "fail" : "ok");
}

static void op_mmap_memfd(void)
{
	size_t a, n;
	range(&a, &n);
	int prot = any_prot(), flags = MAP_FIXED | (pick(2) ? MAP_SHARED : MAP_PRIVATE);
	off_t off = (off_t)(pick(FILE_PAGES - 16) * PAGE);
	void *r = do_mmap(at(a), n * PAGE, prot, flags, memfd, off);
	note("mmap memfd %zu+%zu prot %d flags %#x off %ld -> %s", a, n, prot, flags, (long)off,
	     r == MAP_FAILED ? "fail" : "ok");
}

static void op_munmap(void)
{
	size_t a, n;
	range(&a, &n);
	int r = do_munmap(at(a), n * PAGE);
	note("munmap %zu+%zu -> %d", a, n, r);
}

static void op_mprotect(void)
{
	size_t a, n;
	range(&a, &n);
	int prot = any_prot() | (pick(4) == 0 ? PROT_GROWSDOWN : 0);
	int r = do_mprotect(at(a), n * PAGE, prot);
	note("mprotect %zu+%zu prot %#x -> %d (errno %d)", a, n, prot, r, r ? errno : 0);
}

/* mremap in place (grow or shrink), or moving anywhere (MAYMOVE). */
static void op_mremap_resize(void)
{
	size_t a, n, m = 1 + pick(16);
	range(&a, &n);
	int flags = pick(2) ? MREMAP_MAYMOVE : 0;
	char *r = do_mremap(at(a), n * PAGE, m * PAGE, flags, NULL);
	note("mremap %zu+%zu -> %zu pages flags %d -> %p", a, n, m, flags, (void *)r);
	if (r == MAP_FAILED || (r >= ARENA && r < at(ARENA_PAGES)))
		return;
	int k = (int)pick(MAX_OUT); /* moved out of the arena: keep it to move back or unmap */
	if (outside[k])
		do_munmap(outside[k], outside_len[k]);
	outside[k] = r, outside_len[k] = m * PAGE;
}

/* MREMAP_MAYMOVE|MREMAP_FIXED inside the arena: the source may span
 * holes (equal lengths on 6.17+ kernels), or be moved out before. */
static void op_mremap_fixed(void)
{
	size_t a, n, to = pick(ARENA_PAGES), m;
	range(&a, &n);
	m = pick(2) ? n : 1 + pick(16);
	if (to + m > ARENA_PAGES)
		return;
	int flags = MREMAP_MAYMOVE | MREMAP_FIXED | (pick(4) == 0 ? MREMAP_DONTUNMAP : 0);
	int k = (int)pick(MAX_OUT);
	char *src = at(a);
	if (outside[k] && pick(2))
		src = outside[k], n = outside_len[k] / PAGE, m = pick(2) ? n : m;
	char *r = do_mremap(src, n * PAGE, m * PAGE, flags, at(to));
	note("mremap fixed %p+%zu -> %zu+%zu flags %d -> %s (errno %d)", (void *)src, n, to, m, flags,
	     r == MAP_FAILED ? "fail" : "ok", r == MAP_FAILED ? errno : 0);
	if (src == outside[k] && r != MAP_FAILED && !(flags & MREMAP_DONTUNMAP))
		outside[k] = NULL;
}

static void op_madvise(void)
{
	static const int advice[] = {MADV_DONTNEED, MADV_NORMAL, MADV_RANDOM, MADV_DONTFORK, MADV_DOFORK,
				     MADV_FREE};
	size_t a, n;
	range(&a, &n);
	int adv = advice[pick(6)], r = do_madvise(at(a), n * PAGE, adv);
	note("madvise %zu+%zu advice %d -> %d", a, n, adv, r);
}

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(touch_jmp, 1);
}

/* Writes to a mapped page (faults on read-only ones are caught): a
 * written anonymous page gets an anon_vma, which stops some merges. */
static void op_touch(void)
{
	size_t a = pick(ARENA_PAGES);
	unsigned char v;
	int mapped = mincore(at(a), PAGE, &v) == 0;
	if (mapped && !sigsetjmp(touch_jmp, 1))
		*(volatile char *)at(a) = 1;
	note("touch %zu (%s)", a, mapped ? "mapped" : "not mapped");
}

static void one_op(void)
{
	switch (pick(10)) {
	case 0: case 1: op_mmap_anon(); break;
	case 2: op_mmap_memfd(); break;
	case 3: op_munmap(); break;
	case 4: case 5: op_mprotect(); break;
	case 6: op_mremap_resize(); break;
	case 7: op_mremap_fixed(); break;
	case 8: op_madvise(); break;
	default: op_touch(); break;
	}
}

/* ---- checks ---- */

/* Every arena page: mapped (mincore) iff the index knows it. */
static const char *queries_agree(void)
{
	static char why[120];
	for (size_t k = 0; k < ARENA_PAGES; k++) {
		unsigned char v;
		struct allocmap_info i;
		int mapped = mincore(at(k), PAGE, &v) == 0, known = allocmap_query(at(k), &i) == 0;
		if (mapped != known) {
			snprintf(why, sizeof why, "page %zu: %s, query answers %s", k,
				 mapped ? "mapped" : "not mapped", known ? "known" : "-1");
			return why;
		}
	}
	return NULL;
}

static void check_step(unsigned long seed)
{
	struct allocmap_index_stats st;
	const char *why = queries_agree();
	if (why)
		fail(why, seed);
	if (allocmap_index_stats(&st) == 0 && st.dropped)
		fail("an event was dropped (no signal handler maps here)", seed);
	if (allocmap_check(2) != 0)
		fail("allocmap_check found discrepancies", seed);
}

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void setup(unsigned long seed)
{
	rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	signal(SIGSEGV, on_segv);
	memfd = (int)syscall(SYS_memfd_create, "mapfuzz", 0);
	if (memfd < 0 || ftruncate(memfd, FILE_PAGES * PAGE) != 0) {
		perror("memfd");
		exit(2);
	}
	if (mmap(ARENA, ARENA_PAGES * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		 0) != ARENA) {
		perror("arena");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s SEED STEPS [MILLISECONDS]\n", argv[0]);
		return 2;
	}
	unsigned long seed = strtoul(argv[1], NULL, 0), steps = strtoul(argv[2], NULL, 0);
	long limit = argc > 3 ? strtol(argv[3], NULL, 0) : 0, start = now_ms();
	setup(seed);
	check_step(seed);
	for (step = 1; step <= steps && (!limit || now_ms() - start < limit); step++) {
		one_op();
		check_step(seed);
	}
	printf("seed %lu: %lu steps\n", seed, step - 1);
	return 0;
}
