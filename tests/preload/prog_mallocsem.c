/* The malloc family's observable semantics, one line per probe, for
 * mallocsem.sh to compare with and without the library: it is linked with
 * nothing of allocmap and reaches it only through LD_PRELOAD.
 *
 *   prog_mallocsem [no-glibc-extras] [pow2-aligns] [no-pvalloc-overflow] [glibc-direct]
 *
 * A line says only what must be the same either way: whether the result
 * is NULL, errno after the call (set to a sentinel before each: "kept"
 * when untouched), return codes, alignment, malloc_usable_size(p) >= the
 * size asked for, contents kept by realloc and zeroed by calloc — never
 * addresses, exact usable sizes or statistics, which the trailer
 * legitimately changes.
 *
 * Flags leave out what is not valid without the library either:
 * no-glibc-extras the calls that reach glibc's own allocator when another
 * malloc lacks them (pvalloc, __libc_memalign, an old binary's cfree):
 * jemalloc defines none of them, malloc_debug neither of the last two
 * (its chunks would not carry MALLOC_CHECK_'s magic; with the library,
 * __libc_memalign's are not indexed, as glibc-direct's below);
 * pow2-aligns alignments that are not powers of two (tcmalloc crashes on
 * SIZE_MAX, misaligns 24, grants SIZE_MAX bytes for 3); no-pvalloc-overflow
 * pvalloc sizes whose rounding to pages overflows (tcmalloc grants them).
 * glibc-direct adds chunks made by glibc's __libc_malloc, bypassing any
 * interposed malloc, and resized and freed through the family (only
 * where malloc is glibc's, or malloc_debug's without MALLOC_CHECK_). The
 * library does not know such a chunk, and answers malloc_usable_size 8 or
 * 16 short for it: that is not probed.
 *
 * Every call goes through a volatile pointer, so the compiler neither
 * folds nor removes any of them.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An old binary's cfree (glibc keeps it as a compat symbol). */
void cfree_old(void *p);
__asm__(".symver cfree_old, cfree@GLIBC_2.2.5");

#define SENTINEL 9999
#define PAGE 4096UL
#define BIG ((size_t)1 << 20)

static void *(*volatile f_malloc)(size_t) = malloc;
static void *(*volatile f_calloc)(size_t, size_t) = calloc;
static void *(*volatile f_realloc)(void *, size_t) = realloc;
static void *(*volatile f_reallocarray)(void *, size_t, size_t) = reallocarray;
static void (*volatile f_free)(void *) = free;
static void *(*volatile f_memalign)(size_t, size_t) = memalign;
static void *(*volatile f_aligned_alloc)(size_t, size_t) = aligned_alloc;
static int (*volatile f_posix_memalign)(void **, size_t, size_t) = posix_memalign;
static void *(*volatile f_valloc)(size_t) = valloc;
static void *(*volatile f_pvalloc)(size_t) = pvalloc;
static size_t (*volatile f_usable)(void *) = malloc_usable_size;

static int extras = 1, any_align = 1, pvalloc_overflow = 1, direct; /* the flags */
/* Alignments of 1 GiB, but not where glibc writes every byte of the
 * chunk it carves them from (a perturb byte, MALLOC_CHECK_'s magic). */
static int align_huge;
static char outbuf[1 << 16];

static void arm(void) { errno = SENTINEL; }

/* errno as a name, "kept" if it is still the sentinel. */
static const char *err(int e)
{
	static char buf[32];
	if (e == SENTINEL)
		return "kept";
	const char *s = strerrorname_np(e);
	if (s)
		return s;
	snprintf(buf, sizeof buf, "%d", e);
	return buf;
}

/* Whether a is a power of two; the power of two glibc rounds it up to. */
static int pow2(size_t a) { return a && !(a & (a - 1)); }

static size_t round_pow2(size_t a)
{
	size_t r = 1;
	while (r < a && r)
		r <<= 1;
	return r;
}

/* The alignment malloc owes n bytes: any object that fits, up to
 * max_align_t's (tcmalloc aligns 8 bytes to 8 only). */
static size_t fundamental(size_t n)
{
	size_t a = 16;
	while (a > 1 && a > n)
		a >>= 1;
	return a;
}

/* One result: NULL or not, errno, and for a pointer whether it is aligned
 * to `align` (a power of two; 0: what malloc owes n) and its usable size
 * covers n. */
static void say(const char *what, void *p, int e, size_t n, size_t align)
{
	printf("%s: %s errno=%s", what, p ? "ptr" : "NULL", err(e));
	if (p) {
		align = align ? align : fundamental(n);
		printf(" align%zu=%s usable>=n=%s", align, (uintptr_t)p % align ? "no" : "yes",
		       f_usable(p) >= n ? "yes" : "no");
	}
	printf("\n");
}

/* The pattern a chunk holds: byte i of a chunk filled with seed. */
static unsigned char pat(size_t i, unsigned seed) { return (unsigned char)(i * 7 + seed + (i >> 8)); }

static void fill(void *p, size_t from, size_t to, unsigned seed)
{
	for (size_t i = from; i < to; i++)
		((unsigned char *)p)[i] = pat(i, seed);
}

static int holds(const void *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != pat(i, seed))
			return 0;
	return 1;
}

static int all_bytes(const void *p, size_t n, unsigned char c)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != c)
			return 0;
	return 1;
}

static const char *yes(int c) { return c ? "yes" : "no"; }

static void probe_startup(int e) { printf("errno at main: %s\n", e ? err(e) : "0"); }

static void probe_malloc(void)
{
	static const size_t sizes[] = {0, 1, 8, 24, 100, 1000, 4096, 70000, 200000, BIG};
	char what[64];
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		arm();
		void *p = f_malloc(sizes[i]);
		int e = errno;
		snprintf(what, sizeof what, "malloc(%zu)", sizes[i]);
		say(what, p, e, sizes[i], 0);
		arm();
		f_free(p);
		printf("free(malloc(%zu)): errno=%s\n", sizes[i], err(errno));
	}
	static const struct {
		const char *name;
		size_t n;
	} huge[] = {{"SIZE_MAX", SIZE_MAX},
		    {"PTRDIFF_MAX", PTRDIFF_MAX},
		    {"PTRDIFF_MAX+1", (size_t)PTRDIFF_MAX + 1},
		    {"PTRDIFF_MAX-8", PTRDIFF_MAX - 8},
		    {"PTRDIFF_MAX-4096", PTRDIFF_MAX - 4096},
		    {"1<<40", (size_t)1 << 40}};
	for (size_t i = 0; i < sizeof huge / sizeof *huge; i++) {
		arm();
		void *p = f_malloc(huge[i].n);
		int e = errno;
		snprintf(what, sizeof what, "malloc(%s)", huge[i].name);
		say(what, p, e, huge[i].n, 0);
		f_free(p);
	}
	for (size_t k = 1; k <= 40; k++) {
		arm();
		void *p = f_malloc(SIZE_MAX - k);
		int e = errno;
		snprintf(what, sizeof what, "malloc(SIZE_MAX-%zu)", k);
		say(what, p, e, SIZE_MAX - k, 0);
		f_free(p);
	}
}

static void one_calloc(const char *what, size_t n, size_t m)
{
	arm();
	void *p = f_calloc(n, m);
	int e = errno;
	printf("%s: %s errno=%s", what, p ? "ptr" : "NULL", err(e));
	if (p)
		printf(" aligned=%s usable>=n=%s zero=%s", yes((uintptr_t)p % fundamental(n * m) == 0),
		       yes(f_usable(p) >= n * m), yes(all_bytes(p, n * m, 0)));
	printf("\n");
	f_free(p);
}

/* calloc over memory left dirty: a freed chunk of the same size, a piece
 * of a bigger freed one, an mmapped chunk. */
static void calloc_dirty(size_t n)
{
	char what[64];
	void *d = f_malloc(n), *guard = f_malloc(16);
	memset(d, 0xab, f_usable(d));
	f_free(d);
	arm();
	unsigned char *p = f_calloc(1, n);
	int e = errno;
	snprintf(what, sizeof what, "calloc(1,%zu) after dirty free", n);
	printf("%s: %s errno=%s", what, p ? "ptr" : "NULL", err(e));
	if (p)
		printf(" zero=%s", yes(all_bytes(p, n, 0))); /* only n: malloc_debug's zeroes no more */
	printf("\n");
	f_free(p);
	f_free(guard);
}

static void probe_calloc(void)
{
	one_calloc("calloc(0,5)", 0, 5);
	one_calloc("calloc(5,0)", 5, 0);
	one_calloc("calloc(0,0)", 0, 0);
	one_calloc("calloc(1,1)", 1, 1);
	one_calloc("calloc(3,100)", 3, 100);
	one_calloc("calloc(1000,1000)", 1000, 1000);
	one_calloc("calloc(SIZE_MAX,2)", SIZE_MAX, 2);
	one_calloc("calloc(2,SIZE_MAX)", 2, SIZE_MAX);
	one_calloc("calloc(2,SIZE_MAX/2+1)", 2, SIZE_MAX / 2 + 1);
	one_calloc("calloc(SIZE_MAX/2+1,2)", SIZE_MAX / 2 + 1, 2);
	one_calloc("calloc(1<<32,1<<32)", (size_t)1 << 32, (size_t)1 << 32);
	one_calloc("calloc(1,SIZE_MAX-16)", 1, SIZE_MAX - 16);
	one_calloc("calloc(SIZE_MAX-16,1)", SIZE_MAX - 16, 1);
	one_calloc("calloc(1,SIZE_MAX-40)", 1, SIZE_MAX - 40);
	one_calloc("calloc(1,PTRDIFF_MAX)", 1, PTRDIFF_MAX);
	one_calloc("calloc(3,PTRDIFF_MAX/2)", 3, PTRDIFF_MAX / 2);
	static const size_t sizes[] = {1, 8, 24, 40, 100, 1000, 5000, 70000, 200000, BIG};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
		calloc_dirty(sizes[i]);
	/* a piece of a bigger dirty chunk (past tcache and fastbins) */
	void *big = f_malloc(9000), *guard = f_malloc(16);
	memset(big, 0xcd, f_usable(big));
	f_free(big);
	unsigned char *p = f_calloc(10, 300);
	printf("calloc(10,300) from a dirty split: %s zero=%s\n", p ? "ptr" : "NULL", yes(p && all_bytes(p, 3000, 0)));
	f_free(p);
	f_free(guard);
}

/* p (n bytes holding seed's pattern) resized to m: the result, errno,
 * and whether min(n, m) bytes survived; then the rest is filled. */
static void *step(const char *what, void *p, size_t n, size_t m, unsigned seed)
{
	arm();
	void *q = f_realloc(p, m);
	int e = errno;
	printf("%s %zu->%zu: %s errno=%s", what, n, m, q ? "ptr" : "NULL", err(e));
	if (q) {
		printf(" aligned=%s usable>=n=%s kept=%s", yes((uintptr_t)q % fundamental(m) == 0),
		       yes(f_usable(q) >= m), yes(holds(q, n < m ? n : m, seed)));
		fill(q, n < m ? n : m, m, seed);
	} else if (p && m) {
		printf(" old-kept=%s old-usable>=n=%s", yes(holds(p, n, seed)), yes(f_usable(p) >= n));
	}
	printf("\n");
	return q;
}

static void probe_realloc(void)
{
	/* a chain through every kind of chunk and back */
	static const size_t chain[] = {10, 100, 50, 5000, 4000, 200000, 300000, 150000, 140000, 100, BIG, 24, 0};
	size_t n = 0;
	void *p = NULL;
	for (size_t i = 0; chain[i]; i++) {
		p = step("realloc chain", p, n, chain[i], 3);
		n = chain[i];
	}
	/* in place: shrink, and grow into a freed neighbour */
	void *a = f_malloc(1000), *b = f_malloc(1000), *c = f_malloc(16);
	fill(a, 0, 1000, 5);
	f_free(b);
	a = step("realloc grow into neighbour", a, 1000, 1900, 5);
	a = step("realloc shrink", a, 1900, 600, 5);
	/* moved: the neighbour is in use */
	void *d = f_malloc(100);
	a = step("realloc grow, moved", a, 600, 20000, 5);
	f_free(a);
	f_free(c);
	f_free(d);
	/* mmapped, grown and shrunk in place or moved */
	void *m = f_malloc(300000);
	fill(m, 0, 300000, 9);
	m = step("realloc mmapped", m, 300000, 1000000, 9);
	m = step("realloc mmapped", m, 1000000, 999000, 9);
	m = step("realloc mmapped", m, 999000, 131072, 9);
	m = step("realloc mmapped", m, 131072, 20, 9);
	m = step("realloc to mmapped", m, 20, 131072, 9);
	f_free(m);
	/* edges */
	arm();
	p = f_realloc(NULL, 0);
	say("realloc(NULL,0)", p, errno, 0, 0);
	f_free(p);
	arm();
	p = f_realloc(NULL, 10);
	say("realloc(NULL,10)", p, errno, 10, 0);
	f_free(p);
	arm();
	p = f_realloc(NULL, SIZE_MAX);
	say("realloc(NULL,SIZE_MAX)", p, errno, 0, 0);
	static const size_t olds[] = {100, 200000};
	for (size_t i = 0; i < 2; i++) {
		char what[64];
		snprintf(what, sizeof what, "realloc(p of %zu)", olds[i]);
		p = f_malloc(olds[i]);
		fill(p, 0, olds[i], 11);
		static const size_t bad[] = {SIZE_MAX,	  SIZE_MAX - 8, SIZE_MAX - 31,
					     SIZE_MAX - 40, PTRDIFF_MAX,  (size_t)PTRDIFF_MAX + 1};
		for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
			void *q = step(what, p, olds[i], bad[k], 11);
			p = q ? q : p;
		}
		arm();
		void *q = f_realloc(p, 0);
		printf("%s ->0: %s errno=%s\n", what, q ? "ptr" : "NULL", err(errno));
		if (q)
			f_free(q);
	}
	/* reallocarray */
	arm();
	p = f_reallocarray(NULL, 3, 5);
	say("reallocarray(NULL,3,5)", p, errno, 15, 0);
	fill(p, 0, 15, 1);
	arm();
	void *q = f_reallocarray(p, 2, SIZE_MAX / 2 + 1);
	printf("reallocarray(p,2,SIZE_MAX/2+1): %s errno=%s old-kept=%s\n", q ? "ptr" : "NULL", err(errno),
	       yes(holds(p, 15, 1)));
	arm();
	q = f_reallocarray(p, SIZE_MAX, SIZE_MAX);
	printf("reallocarray(p,SIZE_MAX,SIZE_MAX): %s errno=%s\n", q ? "ptr" : "NULL", err(errno));
	arm();
	q = f_reallocarray(p, 100, 100);
	say("reallocarray(p,100,100)", q, errno, 10000, 0);
	printf("reallocarray(p,100,100) kept=%s\n", yes(q && holds(q, 15, 1)));
	arm();
	p = f_reallocarray(q, 0, 10);
	printf("reallocarray(p,0,10): %s errno=%s\n", p ? "ptr" : "NULL", err(errno));
	f_free(p);
	arm();
	p = f_reallocarray(NULL, 0, 0);
	say("reallocarray(NULL,0,0)", p, errno, 0, 0);
	f_free(p);
}

static const struct {
	const char *name;
	size_t v;
} aligns[] = {{"0", 0},
	      {"1", 1},
	      {"2", 2},
	      {"3", 3},
	      {"8", 8},
	      {"16", 16},
	      {"24", 24},
	      {"48", 48},
	      {"64", 64},
	      {"4096", 4096},
	      {"1<<20", (size_t)1 << 20},
	      {"1<<30", (size_t)1 << 30},
	      {"SIZE_MAX/2", SIZE_MAX / 2},
	      {"SIZE_MAX/2+1", SIZE_MAX / 2 + 1},
	      {"SIZE_MAX", SIZE_MAX}},
  asizes[] = {{"0", 0},
	      {"1", 1},
	      {"100", 100},
	      {"200000", 200000},
	      {"PTRDIFF_MAX", PTRDIFF_MAX},
	      {"SIZE_MAX-64", SIZE_MAX - 64},
	      {"SIZE_MAX-20", SIZE_MAX - 20},
	      {"SIZE_MAX", SIZE_MAX}};

/* The alignment an aligned result for n bytes must have: the power of
 * two glibc rounds `a` to, and at least what malloc owes n. */
static size_t want_align(size_t a, size_t n)
{
	a = a > SIZE_MAX / 2 + 1 ? 1 : pow2(a) ? a : round_pow2(a);
	return a > fundamental(n) ? a : fundamental(n);
}

/* A memalign-like call, with contents checked and a realloc after. */
static void one_aligned(const char *fn, void *(*f)(size_t, size_t), size_t ai, size_t si)
{
	char what[96];
	size_t a = aligns[ai].v, n = asizes[si].v;
	snprintf(what, sizeof what, "%s(%s,%s)", fn, aligns[ai].name, asizes[si].name);
	arm();
	void *p = f(a, n);
	say(what, p, errno, n, want_align(a, n));
	if (!p)
		return;
	size_t k = n < 5000 ? n : 5000;
	fill(p, 0, k, 13);
	arm();
	void *q = f_realloc(p, k + 3000);
	printf("%s then realloc: %s errno=%s kept=%s\n", what, q ? "ptr" : "NULL", err(errno),
	       yes(q && holds(q, k, 13)));
	f_free(q ? q : p);
}

static void one_posix(size_t ai, size_t si)
{
	char what[96];
	size_t a = aligns[ai].v, n = asizes[si].v;
	void *const untouched = (void *)0x1234, *p = untouched;
	snprintf(what, sizeof what, "posix_memalign(%s,%s)", aligns[ai].name, asizes[si].name);
	arm();
	int rc = f_posix_memalign(&p, a, n);
	int e = errno;
	printf("%s: rc=%s errno=%s", what, rc ? err(rc) : "0", err(e));
	if (rc)
		printf(" out-untouched=%s", yes(p == untouched));
	else
		printf(" align=%s usable>=n=%s", yes((uintptr_t)p % want_align(a, n) == 0), yes(f_usable(p) >= n));
	printf("\n");
	if (!rc)
		f_free(p);
}

static void probe_aligned(void)
{
	void *(*libc_memalign)(size_t, size_t) = NULL;
	if (extras)
		libc_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_DEFAULT, "__libc_memalign");
	if (extras)
		printf("__libc_memalign found: %s\n", yes(libc_memalign != NULL));
	for (size_t ai = 0; ai < sizeof aligns / sizeof *aligns; ai++)
		for (size_t si = 0; si < sizeof asizes / sizeof *asizes && (any_align || pow2(aligns[ai].v)) &&
				    (align_huge || aligns[ai].v != (size_t)1 << 30);
		     si++) {
			one_aligned("memalign", f_memalign, ai, si);
			one_aligned("aligned_alloc", f_aligned_alloc, ai, si);
			if (libc_memalign)
				one_aligned("__libc_memalign", libc_memalign, ai, si);
			one_posix(ai, si);
		}
}

static void one_page(const char *fn, void *(*f)(size_t), const char *name, size_t n)
{
	char what[96];
	snprintf(what, sizeof what, "%s(%s)", fn, name);
	arm();
	void *p = f(n);
	say(what, p, errno, n, PAGE);
	if (p && n < SIZE_MAX - PAGE && f == f_pvalloc)
		printf("%s: usable>=pages=%s\n", what, yes(f_usable(p) >= ((n + PAGE - 1) & ~(PAGE - 1))));
	f_free(p);
}

static void probe_pages(void)
{
	static const struct {
		const char *name;
		size_t v;
	} sizes[] = {{"0", 0},
		     {"1", 1},
		     {"4095", 4095},
		     {"4096", 4096},
		     {"4097", 4097},
		     {"200000", 200000},
		     {"SIZE_MAX-4000", SIZE_MAX - 4000},
		     {"SIZE_MAX-4095", SIZE_MAX - 4095},
		     {"SIZE_MAX-4096", SIZE_MAX - 4096},
		     {"SIZE_MAX-5000", SIZE_MAX - 5000},
		     {"SIZE_MAX", SIZE_MAX}};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		one_page("valloc", f_valloc, sizes[i].name, sizes[i].v);
		if (extras && (pvalloc_overflow || sizes[i].v <= SIZE_MAX - PAGE + 1))
			one_page("pvalloc", f_pvalloc, sizes[i].name, sizes[i].v);
	}
}

static void probe_misc(void)
{
	arm();
	size_t u = f_usable(NULL);
	printf("malloc_usable_size(NULL): %zu errno=%s\n", u, err(errno));
	arm();
	f_free(NULL);
	printf("free(NULL): errno=%s\n", err(errno));
	if (extras) {
		void *p = f_malloc(10);
		arm();
		cfree_old(p);
		printf("cfree(p): errno=%s\n", err(errno));
		arm();
		cfree_old(NULL);
		printf("cfree(NULL): errno=%s\n", err(errno));
	}
	if (!direct)
		return;
	/* glibc's own entry point, bypassing any interposed malloc */
	void *(*lm)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "__libc_malloc");
	static const size_t sizes[] = {100, 5000, 200000};
	for (size_t i = 0; lm && i < 3; i++) {
		void *p = lm(sizes[i]);
		fill(p, 0, sizes[i], 17);
		arm();
		void *q = f_realloc(p, sizes[i] * 2);
		printf("__libc_malloc(%zu) then realloc: %s errno=%s kept=%s usable>=n=%s\n", sizes[i],
		       q ? "ptr" : "NULL", err(errno), yes(q && holds(q, sizes[i], 17)),
		       yes(q && f_usable(q) >= sizes[i] * 2));
		arm();
		f_free(q);
		printf("__libc_malloc(%zu) then free: errno=%s\n", sizes[i], err(errno));
	}
}

/* Fresh chunks hold the complement of the perturb byte (glibc only: the
 * answer is the same either way on another malloc). Sizes used nowhere
 * else, so no cache serves them. */
static void perturb_check(const char *how, unsigned char byte)
{
	static const size_t sizes[] = {3333, 7777, 150000, 400000};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		unsigned char *p = f_malloc(sizes[i]);
		printf("perturb %s malloc(%zu): %s\n", how, sizes[i], yes(p && all_bytes(p, sizes[i], byte ^ 0xff)));
		unsigned char *c = f_calloc(1, sizes[i] + 16);
		printf("perturb %s calloc(1,%zu): zero=%s\n", how, sizes[i] + 16,
		       yes(c && all_bytes(c, sizes[i] + 16, 0)));
		f_free(c);
		f_free(p);
	}
}

static void probe_mallopt(void)
{
	const char *env = getenv("MALLOC_PERTURB_");
	if (env)
		perturb_check("env", (unsigned char)strtoul(env, NULL, 0));
	arm();
	int rc = mallopt(M_PERTURB, 0x5a);
	printf("mallopt(M_PERTURB): rc=%d errno=%s\n", rc, err(errno));
	if (!env)
		perturb_check("mallopt", 0x5a);
	mallopt(M_PERTURB, 0);
	arm();
	rc = mallopt(M_MMAP_THRESHOLD, 4096);
	printf("mallopt(M_MMAP_THRESHOLD,4096): rc=%d errno=%s\n", rc, err(errno));
	static const size_t chain[] = {4000, 4090, 4100, 8000, 3000, 100, 16000, 0};
	size_t n = 0;
	void *p = NULL;
	for (size_t i = 0; chain[i]; i++) {
		p = step("threshold 4096 realloc", p, n, chain[i], 21);
		n = chain[i];
	}
	f_free(p);
	for (size_t s = 4080; s <= 4112; s += 8)
		calloc_dirty(s);
	arm();
	rc = mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	printf("mallopt(M_MMAP_THRESHOLD,128K): rc=%d errno=%s\n", rc, err(errno));
}

static void probe_stats(void)
{
	void *many[100];
	for (int i = 0; i < 100; i++)
		many[i] = f_malloc(1000);
	void *big = f_malloc(BIG);
	struct mallinfo2 mi = mallinfo2();
	/* where a chunk lies (arena or mapping) depends on the heap's history */
	printf("mallinfo2: uordblks+hblkhd>=live=%s arena>=uordblks=%s\n",
	       yes(mi.uordblks + mi.hblkhd >= 100 * 1000 + BIG), yes(mi.arena >= mi.uordblks));
	f_free(big);
	for (int i = 0; i < 100; i++)
		f_free(many[i]);
	arm();
	int rc = malloc_trim(0);
	printf("malloc_trim(0): rc in {0,1}=%s errno=%s\n", yes(rc == 0 || rc == 1), err(errno));
}

/* A second thread's chunks (another arena with glibc). */
static void *thread_probes(void *arg)
{
	(void)arg;
	probe_malloc();
	calloc_dirty(100);
	calloc_dirty(70000);
	void *p = NULL;
	size_t n = 0;
	static const size_t chain[] = {50, 3000, 200000, 60, 0};
	for (size_t i = 0; chain[i]; i++) {
		p = step("thread realloc", p, n, chain[i], 7);
		n = chain[i];
	}
	f_free(p);
	one_posix(9, 2);
	one_aligned("memalign", f_memalign, 10, 2);
	return NULL;
}

int main(int argc, char **argv)
{
	int e0 = errno;
	setvbuf(stdout, outbuf, _IOLBF, sizeof outbuf); /* stdio allocates nothing */
	align_huge = !getenv("MALLOC_PERTURB_") && !getenv("MALLOC_CHECK_");
	for (int i = 1; i < argc; i++) {
		extras &= strcmp(argv[i], "no-glibc-extras") != 0;
		any_align &= strcmp(argv[i], "pow2-aligns") != 0;
		pvalloc_overflow &= strcmp(argv[i], "no-pvalloc-overflow") != 0;
		direct |= strcmp(argv[i], "glibc-direct") == 0;
	}
	probe_startup(e0);
	probe_malloc();
	probe_calloc();
	probe_realloc();
	probe_aligned();
	probe_pages();
	probe_misc();
	pthread_t t;
	if (pthread_create(&t, NULL, thread_probes, NULL) == 0)
		pthread_join(t, NULL);
	probe_mallopt();
	probe_stats();
	printf("end\n");
	return 0;
}
