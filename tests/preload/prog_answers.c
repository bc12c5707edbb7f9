/* Answers a tool can walk (issue 12), run under the library (linked with
 * -lallocmap, and again under LD_PRELOAD by answers.sh).
 *
 *   prog_answers SCENARIO
 *
 * free: arena space in no live chunk (a freed chunk, the top chunk) answers
 * ALLOCMAP_HEAP_FREE with no site, where a live chunk answers its chunk.
 * oldstruct: a caller with 0.3's struct allocmap_info (80 bytes: base to
 * path), through the plain allocmap_query (what a binary built against
 * 0.3 calls), allocmap_query_ex and allocmap_query_many_ex, gets the
 * answer's fields it knows and not a byte written past its struct; a
 * caller with a bigger struct (a newer header) gets its unknown tail
 * zeroed; allocmap_kind_name names every kind.
 * symbolize: allocmap_symbolize from a signal handler names a function of
 * the library (object, bias, symbol, offset); an address of the program
 * (no dynamic symbol) gets its object and no name; the heap, nothing.
 * hole: munmap in the middle of a 10-page mapping leaves two sequences
 * (5 pages, 4 pages, same site and kind); a page mapped into the hole is
 * a third; the walk returns no overlapping sequences.
 * fixed: MAP_FIXED over the middle of a mapping (and of a PROT_NONE
 * reservation) is its own sequence, the rest split around it.
 * mremap: moving part of a mapping away splits it, the moved part its own
 * sequence; shrinking a part in the middle splits it again.
 * object: unmapping a page in the middle of a loaded object's text splits
 * the object (both parts kind object, its path), the hole stays unmapped
 * (a later dlopen's re-read does not plug it).
 * brk: unmapping a page in the middle of the program's own sbrk'd memory
 * splits the brk heap's sequence.
 * vma: vma_base and vma_size are the /proc/self/maps line holding p.
 * Each scenario ends with allocmap_check(2) == 0; a failed expectation
 * prints its line and exits 1.
 */
#include <allocmap.h>
#include <dlfcn.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"

static struct allocmap_info q(const void *p)
{
	struct allocmap_info i;
	EXPECT(allocmap_query(p, &i) == 0);
	return i;
}

static void expect_free(const void *p)
{
	struct allocmap_info i = q(p);
	EXPECT(i.kind == ALLOCMAP_HEAP_FREE);
	EXPECT(i.site == NULL);
	EXPECT(!strcmp(i.allocator, "malloc"));
	EXPECT((uintptr_t)p - (uintptr_t)i.base < i.size);
}

static void scenario_free(void)
{
	char *a = malloc(3000), *b = malloc(3000), *c = malloc(3000);
	EXPECT(a && b && c);
	memset(b, 1, 3000);
	EXPECT(q(b + 100).kind == ALLOCMAP_HEAP_CHUNK && q(b + 100).base == b);
	uintptr_t freed = (uintptr_t)b + 100;
	free(b);
	expect_free((const void *)freed); /* a freed chunk, between two live ones */
	EXPECT(q(a).kind == ALLOCMAP_HEAP_CHUNK && q(c).kind == ALLOCMAP_HEAP_CHUNK);
	expect_free((char *)sbrk(0) - 16); /* the main arena's top chunk */
	free(a);
	free(c);
}

/* struct allocmap_info as 0.3's header laid it out. */
struct info_0_3 {
	const void *base;
	size_t size, requested;
	const void *site;
	enum allocmap_kind kind;
	const char *allocator;
	const void *map_base;
	size_t map_size;
	int prot;
	const char *path;
};

/* The fields 0.3 had, as the current header's answer has them. */
static int same_as_0_3(const struct info_0_3 *o, const struct allocmap_info *i)
{
	return o->base == i->base && o->size == i->size && o->requested == i->requested && o->site == i->site &&
	       o->kind == i->kind && o->allocator == i->allocator && o->map_base == i->map_base &&
	       o->map_size == i->map_size && o->prot == i->prot && o->path == i->path;
}

static int untouched(const unsigned char *c, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (c[k] != 0xa5)
			return 0;
	return 1;
}

static void scenario_oldstruct(void)
{
	EXPECT(sizeof(struct info_0_3) == 80);
	char *chunk = malloc(100);
	int local;
	const void *ps[3] = {chunk + 5, &local, (const void *)scenario_oldstruct};
	int (*query_0_3)(const void *, struct info_0_3 *) = (int (*)(const void *, struct info_0_3 *))allocmap_query;
	for (int k = 0; k < 3; k++) {
		struct allocmap_info now;
		struct {
			struct info_0_3 o;
			unsigned char canary[64];
		} old;
		EXPECT(allocmap_query(ps[k], &now) == 0);
		memset(&old, 0xa5, sizeof old);
		EXPECT(query_0_3(ps[k], &old.o) == 0 && same_as_0_3(&old.o, &now) && untouched(old.canary, 64));
		memset(&old, 0xa5, sizeof old);
		EXPECT(allocmap_query_ex(ps[k], (struct allocmap_info *)&old.o, sizeof old.o) == 0);
		EXPECT(same_as_0_3(&old.o, &now) && untouched(old.canary, 64));
	}
	struct {
		struct info_0_3 o[3];
		unsigned char canary[64];
	} many;
	memset(&many, 0xa5, sizeof many);
	EXPECT(allocmap_query_many_ex(ps, 3, (struct allocmap_info *)many.o, sizeof many.o[0]) == 3);
	EXPECT(untouched(many.canary, 64));
	for (int k = 0; k < 3; k++) {
		struct allocmap_info now;
		EXPECT(allocmap_query(ps[k], &now) == 0 && same_as_0_3(&many.o[k], &now));
	}
	EXPECT(many.o[0].kind == ALLOCMAP_HEAP_CHUNK && many.o[0].base == chunk);
	EXPECT(allocmap_query_ex(chunk, (struct allocmap_info *)&many.o[0], 72) == -1); /* below 0.3's */
	struct {
		struct allocmap_info i;
		uint64_t future[4];
	} big;
	memset(&big, 0xa5, sizeof big);
	EXPECT(allocmap_query_ex(chunk, &big.i, sizeof big) == 0 && big.i.base == chunk);
	EXPECT(!big.future[0] && !big.future[1] && !big.future[2] && !big.future[3]);
	static const char *const names[] = {"unknown", "heap", "anon", "file", "object",
					    "brk", "stack", "self", "heap-free"};
	for (int k = ALLOCMAP_UNKNOWN; k <= ALLOCMAP_HEAP_FREE; k++)
		EXPECT(!strcmp(allocmap_kind_name((enum allocmap_kind)k), names[k]));
	EXPECT(allocmap_kind_name((enum allocmap_kind)(ALLOCMAP_HEAP_FREE + 1)) == NULL);
	free(chunk);
}

static volatile sig_atomic_t handled;
static struct allocmap_symbol in_handler;
static int in_handler_rc;
static const char *const check_fn_at = (const char *)allocmap_check + 4;

static void on_usr1(int sig)
{
	(void)sig;
	in_handler_rc = allocmap_symbolize(check_fn_at, &in_handler);
	handled = 1;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = s ? strlen(s) : 0, t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

static void scenario_symbolize(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	EXPECT(sigaction(SIGUSR1, &sa, NULL) == 0);
	EXPECT(raise(SIGUSR1) == 0 && handled);
	EXPECT(in_handler_rc == 0);
	EXPECT(in_handler.name && !strcmp(in_handler.name, "allocmap_check") && in_handler.offset == 4);
	EXPECT(strstr(in_handler.object, "liballocmap.so"));
	EXPECT((const char *)in_handler.object_base + in_handler.object_offset == check_fn_at);
	struct allocmap_symbol s;
	EXPECT(allocmap_symbolize((const void *)scenario_symbolize, &s) == 0);
	EXPECT(ends_with(s.object, "/prog_answers") && !s.name && !s.offset);
	EXPECT((const char *)s.object_base + s.object_offset == (const char *)scenario_symbolize);
	char *chunk = malloc(10);
	memset(&s, 0xa5, sizeof s);
	EXPECT(allocmap_symbolize(chunk, &s) == -1 && !s.object && !s.name);
	free(chunk);
}

#define PG 4096UL

/* The sequence holding p: [lo, lo + pages) from the same site as want. */
static void expect_seq(const char *p, const char *lo, size_t pages, const void *site)
{
	struct allocmap_info i = q(p);
	EXPECT(i.base == lo && i.size == pages * PG && i.map_base == lo && i.map_size == pages * PG);
	EXPECT(i.site == site);
}

static void expect_nothing(const void *p)
{
	struct allocmap_info i;
	EXPECT(allocmap_query(p, &i) == -1);
}

struct walk_state {
	uintptr_t prev_end;
	int overlaps;
	size_t seqs;
};

static int walk_seq(const struct allocmap_info *i, void *arg)
{
	struct walk_state *w = arg;
	w->overlaps += (uintptr_t)i->base < w->prev_end;
	w->prev_end = (uintptr_t)i->base + i->size;
	w->seqs++;
	return 0;
}

/* The walk's sequences, in address order, overlap nowhere. */
static void expect_walk_disjoint(void)
{
	struct walk_state w = {0, 0, 0};
	EXPECT(allocmap_walk(ALLOCMAP_WALK_SEQUENCES, walk_seq, &w) == 0);
	EXPECT(w.seqs > 0 && w.overlaps == 0);
}

static void expect_clean(void) { EXPECT(allocmap_check(2) == 0); }

static char *map_pages(size_t pages, int prot)
{
	char *m = mmap(NULL, pages * PG, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(m != MAP_FAILED);
	return m;
}

static void scenario_hole(void)
{
	char *m = map_pages(10, PROT_READ | PROT_WRITE);
	const void *site = q(m).site;
	EXPECT(munmap(m + 5 * PG, PG) == 0);
	expect_seq(m + PG, m, 5, site);
	expect_seq(m + 9 * PG, m + 6 * PG, 4, site);
	EXPECT(q(m + 6 * PG).kind == ALLOCMAP_ANON && q(m).kind == ALLOCMAP_ANON);
	expect_nothing(m + 5 * PG);
	expect_walk_disjoint();
	expect_clean();
	char *in = mmap(m + 5 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	EXPECT(in == m + 5 * PG);
	expect_seq(in, in, 1, q(in).site);
	EXPECT(q(in).site != site);
	expect_seq(m, m, 5, site);
	expect_seq(m + 6 * PG, m + 6 * PG, 4, site);
	expect_walk_disjoint();
	expect_clean();
	munmap(m, 10 * PG);
}

static void fixed_over_middle(int prot)
{
	char *m = map_pages(10, prot);
	const void *site = q(m).site;
	char *f = mmap(m + 3 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	EXPECT(f == m + 3 * PG);
	const void *fsite = q(f).site;
	EXPECT(fsite != site);
	expect_seq(m + 2 * PG, m, 3, site);
	expect_seq(f + PG, f, 2, fsite);
	expect_seq(m + 5 * PG, m + 5 * PG, 5, site);
	expect_walk_disjoint();
	expect_clean();
	munmap(m, 10 * PG);
}

static void scenario_fixed(void)
{
	fixed_over_middle(PROT_READ | PROT_WRITE);
	fixed_over_middle(PROT_NONE); /* a reservation committed in the middle */
}

static void scenario_mremap(void)
{
	char *m = map_pages(10, PROT_READ | PROT_WRITE), *dest = map_pages(3, PROT_NONE);
	const void *site = q(m).site;
	char *moved = mremap(m + 2 * PG, 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	EXPECT(moved == dest);
	expect_seq(m + PG, m, 2, site);
	expect_nothing(m + 3 * PG);
	expect_seq(m + 9 * PG, m + 5 * PG, 5, site);
	EXPECT(q(dest + PG).base == dest && q(dest + PG).size == 3 * PG);
	expect_walk_disjoint();
	expect_clean();
	EXPECT(mremap(m + 6 * PG, 2 * PG, PG, 0) == m + 6 * PG); /* shrink a middle part: m+7 goes */
	expect_seq(m + 5 * PG, m + 5 * PG, 2, site);
	expect_nothing(m + 7 * PG);
	expect_seq(m + 8 * PG, m + 8 * PG, 2, site);
	expect_walk_disjoint();
	expect_clean();
	munmap(m, 10 * PG);
	munmap(dest, 3 * PG);
}

/* An executable map of a loaded object (not this program, nor allocmap,
 * nor libc) at least 3 pages long: the object is libz, dlopened. */
static char *object_text(const char *name, size_t *len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	char *at = NULL;
	EXPECT(f);
	while (!at && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && perms[2] == 'x' && strstr(line, name) &&
		    hi - lo >= 3 * PG)
			at = (char *)lo, *len = hi - lo;
	}
	fclose(f);
	return at;
}

static void scenario_object(void)
{
	EXPECT(dlopen("libz.so.1", RTLD_NOW));
	size_t len;
	char *text = object_text("libz.so", &len);
	EXPECT(text);
	struct allocmap_info whole = q(text);
	EXPECT(whole.kind == ALLOCMAP_OBJECT && whole.path && strstr(whole.path, "libz.so"));
	char *lo = (char *)whole.base, *hi = lo + whole.size, *hole = text + PG;
	EXPECT(munmap(hole, PG) == 0);
	struct allocmap_info a = q(hole - PG), b = q(hole + PG);
	EXPECT(a.kind == ALLOCMAP_OBJECT && b.kind == ALLOCMAP_OBJECT && a.path && b.path);
	EXPECT(!strcmp(a.path, whole.path) && !strcmp(b.path, whole.path));
	EXPECT(a.base == lo && (char *)a.base + a.size == hole);
	EXPECT(b.base == hole + PG && (char *)b.base + b.size == hi);
	expect_nothing(hole);
	expect_walk_disjoint();
	expect_clean();
	EXPECT(dlopen("libm.so.6", RTLD_NOW)); /* the loader's re-read of the maps */
	expect_nothing(hole);
	EXPECT(mmap(hole, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == hole);
	EXPECT(munmap(hole, PG) == 0);
	expect_walk_disjoint();
	expect_clean();
}

static void scenario_brk(void)
{
	char *mine = sbrk(4 * PG);
	EXPECT(mine != (void *)-1);
	char *page = (char *)(((uintptr_t)mine + PG - 1) & ~(PG - 1)); /* 3 pages wholly the program's */
	memset(page, 1, 3 * PG);
	struct allocmap_info before = q(page);
	EXPECT(before.kind == ALLOCMAP_BRK);
	EXPECT(munmap(page + PG, PG) == 0);
	expect_nothing(page + PG);
	struct allocmap_info a = q(page), b = q(page + 2 * PG);
	EXPECT(a.kind == ALLOCMAP_BRK && a.base == before.base && (char *)a.base + a.size == page + PG);
	EXPECT(b.kind == ALLOCMAP_BRK && b.base == page + 2 * PG && b.site == a.site);
	expect_walk_disjoint();
	expect_clean();
}

/* The /proc/self/maps line holding p. */
static void maps_line(const void *p, uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	*lo = *hi = 0;
	EXPECT(f);
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && (uintptr_t)p >= a && (uintptr_t)p < b)
			*lo = a, *hi = b;
	}
	fclose(f);
}

static void expect_vma(const void *p)
{
	uintptr_t lo, hi;
	struct allocmap_info i = q(p);
	maps_line(p, &lo, &hi);
	if ((uintptr_t)i.vma_base != lo || i.vma_size != hi - lo)
		fprintf(stderr, "vma of %p: %p+%#zx, the kernel's %#lx-%#lx\n", p, i.vma_base, i.vma_size,
			(unsigned long)lo, (unsigned long)hi);
	EXPECT((uintptr_t)i.vma_base == lo && i.vma_size == hi - lo);
}

static void scenario_vma(void)
{
	char *m = map_pages(4, PROT_READ | PROT_WRITE);
	EXPECT(mprotect(m + 2 * PG, PG, PROT_READ) == 0);
	expect_vma(m);
	expect_vma(m + 2 * PG);
	expect_vma(m + 3 * PG);
	EXPECT(q(m).base == m && q(m).size == 4 * PG && q(m).vma_size == 2 * PG);
	char *chunk = malloc(100);
	expect_vma(chunk);
	expect_vma((const void *)scenario_vma);
	int local;
	expect_vma(&local);
	expect_vma((const void *)allocmap_check);
	free(chunk);
	munmap(m, 4 * PG);
}

static const struct {
	const char *name;
	void (*run)(void);
} all[] = {
	{"free", scenario_free},
	{"oldstruct", scenario_oldstruct},
	{"symbolize", scenario_symbolize},
	{"hole", scenario_hole},
	{"fixed", scenario_fixed},
	{"mremap", scenario_mremap},
	{"object", scenario_object},
	{"brk", scenario_brk},
	{"vma", scenario_vma},
};

int main(int argc, char **argv)
{
	for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
		if (argc > 1 && !strcmp(argv[1], all[k].name)) {
			all[k].run();
			int n = allocmap_check(2);
			if (n != 0) {
				fprintf(stderr, "allocmap_check after %s: %d discrepancies\n", argv[1], n);
				return 1;
			}
			return 0;
		}
	}
	fprintf(stderr, "usage: %s SCENARIO\n", argv[0]);
	return 2;
}
