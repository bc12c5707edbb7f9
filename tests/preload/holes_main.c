/* No holey objects (MISSION part 5), run by holes.sh. This executable and
 * the DSO it opens are linked with -z max-page-size=0x200000
 * -z separate-code, so each has gaps of almost 2 MiB between its
 * segments. The kernel maps the executable and leaves those gaps
 * unmapped; ld.so reserves a dlopen'd object's whole span itself.
 *
 *   holes_main DSO            under the library (linked or preloaded):
 *       after start-up, after dlopen(DSO) and after dlclose, every loaded
 *       object's span (dl_iterate_phdr) is wholly mapped, only by the
 *       object's own file or anonymous memory the index says is the
 *       object's; a page in each former gap is kind OBJECT with the
 *       object's path; many unhinted mmaps, and mmaps hinted at each gap,
 *       all land outside every span; allocmap_check(2) == 0.
 *   holes_main DSO control    with ALLOCMAP_DISABLE=1: the executable
 *       does have unmapped gaps, and a hinted mmap lands in one (so the
 *       test above can fail).
 *
 * Prints what it saw per object; exits 1 on the first failed expectation.
 */
#include <allocmap.h>
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "expect.h"
#define MAX_OBJ 64
#define MAX_GAPS 8
#define MAX_MAPS 4096

static uintptr_t down(uintptr_t a) { return a & ~(PAGE - 1); }
static uintptr_t up(uintptr_t a) { return (a + PAGE - 1) & ~(PAGE - 1); }

struct object {
	uintptr_t lo, hi;                  /* span, rounded as the library does */
	uintptr_t gap[MAX_GAPS][2];        /* unmapped-by-the-ELF ranges between segments */
	int ngaps;
	char path[PATH_MAX];
};

struct entry {
	uintptr_t lo, hi;
	char perm[5];
	char path[PATH_MAX];
};

static struct object objs[MAX_OBJ];
static int nobjs;
static struct entry maps[MAX_MAPS];
static int nmaps;

static void add_gaps(struct object *o, const struct dl_phdr_info *info)
{
	uintptr_t prev_end = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) { /* PT_LOADs come sorted by vaddr */
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t a = down(info->dlpi_addr + ph->p_vaddr), b = up(info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
		if (prev_end && a > prev_end && o->ngaps < MAX_GAPS) {
			o->gap[o->ngaps][0] = prev_end;
			o->gap[o->ngaps++][1] = a;
		}
		prev_end = b;
	}
}

static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size, (void)arg;
	const char *name = info->dlpi_name;
	if (nobjs == MAX_OBJ || (name[0] && name[0] != '/'))
		return 0; /* linux-vdso.so.1: the kernel's, no file */
	struct object *o = &objs[nobjs];
	memset(o, 0, sizeof *o);
	o->lo = UINTPTR_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_LOAD)
			continue;
		o->lo = a < o->lo ? a : o->lo;
		o->hi = a + ph->p_memsz > o->hi ? a + ph->p_memsz : o->hi;
	}
	o->lo = down(o->lo), o->hi = up(o->hi);
	if (!name[0]) {
		ssize_t n = readlink("/proc/self/exe", o->path, sizeof o->path - 1);
		EXPECT(n > 0);
	} else if (!realpath(name, o->path)) {
		return 0;
	}
	add_gaps(o, info);
	nobjs++;
	return 0;
}

static void read_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 128];
	EXPECT(f);
	nmaps = 0;
	while (nmaps < MAX_MAPS && fgets(line, sizeof line, f)) {
		struct entry *e = &maps[nmaps++];
		unsigned long lo, hi;
		int name_at = 0;
		e->path[0] = 0;
		EXPECT(sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &lo, &hi, e->perm, &name_at) >= 3);
		e->lo = lo, e->hi = hi;
		if (name_at > 0 && line[name_at] && line[name_at] != '\n')
			sscanf(line + name_at, "%4095[^\n]", e->path);
	}
	fclose(f);
}

static void refresh(void)
{
	nobjs = 0;
	dl_iterate_phdr(collect, NULL);
	read_maps();
	EXPECT(nobjs >= 3); /* the executable, ld.so, libc at least */
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Every page of o's span is mapped, by o's file or by anonymous memory
 * that the index attributes to o. Returns the bytes not backed by o's file. */
static size_t verify_span(const struct object *o)
{
	uintptr_t pos = o->lo;
	size_t anon = 0;
	for (int i = 0; i < nmaps && pos < o->hi; i++) {
		const struct entry *e = &maps[i];
		if (e->hi <= pos)
			continue;
		if (e->lo > pos) {
			fprintf(stderr, "%s: %#lx-%#lx inside its span is unmapped\n", o->path, pos, e->lo);
			exit(1);
		}
		struct allocmap_info in;
		EXPECT(allocmap_query((void *)pos, &in) == 0);
		if (in.kind != ALLOCMAP_OBJECT || !in.path || strcmp(in.path, o->path)) {
			fprintf(stderr, "%s: %#lx (%s %s) is indexed as kind %d path %s\n", o->path, pos, e->perm,
				e->path, in.kind, in.path ? in.path : "(none)");
			exit(1);
		}
		EXPECT((uintptr_t)in.base <= o->lo && (uintptr_t)in.base + in.size >= o->hi);
		if (strcmp(e->path, o->path)) {
			EXPECT(e->path[0] == 0); /* a plug, or .bss: anonymous */
			uintptr_t end = e->hi < o->hi ? e->hi : o->hi;
			anon += end - pos;
		}
		pos = e->hi;
	}
	EXPECT(pos >= o->hi);
	return anon;
}

static void verify_gaps(const struct object *o)
{
	for (int g = 0; g < o->ngaps; g++) {
		struct allocmap_info in;
		void *mid = (void *)down((o->gap[g][0] + o->gap[g][1]) / 2);
		EXPECT(allocmap_query(mid, &in) == 0);
		EXPECT(in.kind == ALLOCMAP_OBJECT && in.path && !strcmp(in.path, o->path));
		EXPECT(in.prot == PROT_NONE);
	}
}

static void verify_all(const char *when)
{
	refresh();
	for (int k = 0; k < nobjs; k++) {
		const struct object *o = &objs[k];
		size_t anon = verify_span(o);
		verify_gaps(o);
		size_t gap = 0;
		for (int g = 0; g < o->ngaps; g++)
			gap += o->gap[g][1] - o->gap[g][0];
		printf("%-14s %-28s span %#lx-%#lx  %d gaps %zu KiB, %zu KiB anonymous in span\n", when,
		       base_name(o->path), o->lo, o->hi, o->ngaps, gap >> 10, anon >> 10);
	}
	int n = allocmap_check(2);
	if (n != 0) {
		fprintf(stderr, "allocmap_check after %s: %d discrepancies\n", when, n);
		exit(1);
	}
}

static const struct object *object_holding(uintptr_t lo, uintptr_t hi)
{
	for (int k = 0; k < nobjs; k++)
		if (lo < objs[k].hi && objs[k].lo < hi)
			return &objs[k];
	return NULL;
}

enum { NUNHINTED = 3000 };
static void *got[NUNHINTED + MAX_OBJ * MAX_GAPS];
static size_t got_len[NUNHINTED + MAX_OBJ * MAX_GAPS];
static int ngot;

static void map_one(void *hint, size_t len)
{
	void *p = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(p != MAP_FAILED);
	const struct object *o = object_holding((uintptr_t)p, (uintptr_t)p + len);
	if (o) {
		fprintf(stderr, "mmap(%p, %zu) = %p: inside %s's span\n", hint, len, p, o->path);
		exit(1);
	}
	got[ngot] = p, got_len[ngot++] = len;
}

/* Unhinted mmaps of sizes that fit a gap, then one hinted at each gap. */
static void churn(void)
{
	unsigned s = 1;
	int hinted = 0;
	ngot = 0;
	for (int k = 0; k < NUNHINTED; k++) {
		s = s * 1103515245u + 12345u;
		map_one(NULL, PAGE * (1 + (s >> 8) % 500));
	}
	for (int k = 0; k < nobjs; k++)
		for (int g = 0; g < objs[k].ngaps; g++, hinted++)
			map_one((void *)objs[k].gap[g][0], objs[k].gap[g][1] - objs[k].gap[g][0]);
	EXPECT(hinted > 0);
	printf("churn          %d unhinted and %d gap-hinted mmaps, none inside an object's span\n", NUNHINTED,
	       hinted);
	int n = allocmap_check(2);
	EXPECT(n == 0);
	for (int k = 0; k < ngot; k++)
		EXPECT(munmap(got[k], got_len[k]) == 0);
}

static int run(const char *dso)
{
	struct allocmap_index_stats st;
	EXPECT(allocmap_index_stats(&st) == 0);
	printf("start-up       %llu holes plugged\n", (unsigned long long)st.holes_plugged);
	verify_all("start-up");
	refresh();
	EXPECT(objs[0].ngaps > 0); /* the executable (first) is holey, else the test tests nothing */
	EXPECT(st.holes_plugged >= (uint64_t)objs[0].ngaps);
	churn();
	void *h = dlopen(dso, RTLD_NOW);
	EXPECT(h);
	int (*fn)(int) = (int (*)(int))dlsym(h, "holes_dso_fn");
	EXPECT(fn && fn(1) == 1 + 0 + 'o');
	verify_all("dlopen");
	char real[PATH_MAX];
	EXPECT(realpath(dso, real));
	EXPECT(object_holding((uintptr_t)fn, (uintptr_t)fn + 1) != NULL);
	EXPECT(!strcmp(object_holding((uintptr_t)fn, (uintptr_t)fn + 1)->path, real));
	EXPECT(object_holding((uintptr_t)fn, (uintptr_t)fn + 1)->ngaps > 0);
	EXPECT(allocmap_index_stats(&st) == 0);
	printf("dlopen         %llu holes plugged in all\n", (unsigned long long)st.holes_plugged);
	churn();
	EXPECT(dlclose(h) == 0);
	verify_all("dlclose");
	churn();
	return 0;
}

/* Without the library: the gaps are really there, and a hint lands in one. */
static int control(void)
{
	refresh();
	const struct object *exe = &objs[0];
	EXPECT(exe->ngaps > 0);
	uintptr_t lo = exe->gap[0][0], hi = exe->gap[0][1];
	for (int i = 0; i < nmaps; i++)
		EXPECT(maps[i].hi <= lo || maps[i].lo >= hi);
	void *p = mmap((void *)lo, hi - lo, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(p == (void *)lo);
	printf("control        %s has %d unmapped gaps; an mmap hinted at %#lx landed inside it\n",
	       base_name(exe->path), exe->ngaps, lo);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[2], "control"))
		return control();
	if (argc != 2) {
		fprintf(stderr, "usage: %s DSO [control]\n", argv[0]);
		return 2;
	}
	return run(argv[1]);
}
