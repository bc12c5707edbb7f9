/* Unit tests of ld.so's private mapping wrappers (src/hook/ldso.c):
 * finding them by their bytes, their errno being ld.so's private
 * rtld_errno (checked on the unpatched originals), the replacements
 * giving the same results, and after install every mapping change of a
 * dlopen/dlclose reaching am_ev_* with a caller inside ld.so: the
 * object's segments, the PT_GNU_RELRO mprotect after RT_CONSISTENT, and
 * the /etc/ld.so.cache map/unmap pair a bare soname's search makes.
 *
 * This file defines the am_ev_* contract itself, recording events into a
 * fixed array (the libc hooks are installed too, so it runs inside
 * malloc: it must not allocate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/hook/hook.h"
#include "../../src/hook/patch.h"

#define PG 4096UL
#define SENTINEL 777
#define CACHE "/etc/ld.so.cache"

/* ---- the recorded events ---- */

#include "ev_recorder.h"

void am_ev_loader(void)
{
	ev_new(EV_LOADER);
	errno = CLOBBER;
}

static unsigned mark(void)
{
	unsigned n = __atomic_load_n(&nev, __ATOMIC_ACQUIRE);
	return n < NEV ? n : NEV;
}

/* Index of the first event of kind k in [from, mark()) that pred
 * accepts, or -1. */
static int find(unsigned from, enum kind k, int (*pred)(const struct ev *, const void *),
		const void *arg)
{
	for (unsigned i = from; i < mark(); i++)
		if (evs[i].kind == k && (!pred || pred(&evs[i], arg)))
			return (int)i;
	return -1;
}

/* ---- objects' address ranges ---- */

struct object {
	const char *name;
	uintptr_t text_lo, text_hi;	/* the executable PT_LOAD */
	uintptr_t seg_lo[8], seg_hi[8];	/* PT_LOADs, page-rounded */
	int nseg;
	uintptr_t relro_lo, relro_hi;	/* as _dl_protect_relro rounds it */
};

static int object_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	struct object *o = arg;
	(void)sz;
	if (!strstr(info->dlpi_name, o->name))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (ph->p_type == PT_GNU_RELRO)
			o->relro_lo = lo & ~(PG - 1), o->relro_hi = hi & ~(PG - 1);
		if (ph->p_type != PT_LOAD || o->nseg == 8)
			continue;
		if (ph->p_flags & PF_X)
			o->text_lo = lo, o->text_hi = hi;
		o->seg_lo[o->nseg] = lo & ~(PG - 1);
		o->seg_hi[o->nseg++] = (hi + PG - 1) & ~(PG - 1);
	}
	return 1;
}

static int object_find(const char *name, struct object *o)
{
	memset(o, 0, sizeof *o);
	o->name = name;
	return dl_iterate_phdr(object_cb, o) ? 0 : -1;
}

static struct object ld;	/* ld.so, as the loader describes it */

static int in_ldso(const void *p)
{
	return (uintptr_t)p >= ld.text_lo && (uintptr_t)p < ld.text_hi;
}

/* ---- calling ld.so's wrappers directly ---- */

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*munmap_fn)(void *, size_t);
typedef int (*mprotect_fn)(void *, size_t, int);

static struct am_ldso_info info;
static char *scratch;		/* 4 pages: rw, hole, rw, rw */

struct outcome {
	long ret;
	int err, tls;		/* *rtld_errno and the thread's errno after */
};

#define NFAIL 5
static struct outcome before[NFAIL], after[NFAIL];

#define RUN(expr)                                     \
	do {                                          \
		*info.rtld_errno = SENTINEL;          \
		errno = SENTINEL;                     \
		out[i].ret = (long)(expr);            \
		out[i].tls = errno;                   \
		out[i].err = *info.rtld_errno;        \
		i++;                                  \
	} while (0)

static void failing_calls(struct outcome *out)
{
	mmap_fn mm = (mmap_fn)(void *)info.fn[0];
	munmap_fn mu = (munmap_fn)(void *)info.fn[1];
	mprotect_fn mp = (mprotect_fn)(void *)info.fn[2];
	int saved = *info.rtld_errno, i = 0;
	RUN(mm(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1)); /* EINVAL, no syscall */
	RUN(mm(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0));		  /* EBADF */
	RUN(mu(scratch + 1, PG));					  /* EINVAL */
	RUN(mp(scratch, PG, 0x1000));					  /* EINVAL */
	RUN(mp(scratch, 3 * PG, PROT_READ));	/* ENOMEM at the hole, first page changed */
	mprotect(scratch, PG, PROT_READ | PROT_WRITE);
	*info.rtld_errno = saved;
	assert_int_equal(i, NFAIL);
}

static int group_setup(void **state)
{
	(void)state;
	if (object_find("ld-linux", &ld) != 0 || !ld.text_lo)
		return -1;
	scratch = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED || munmap(scratch + PG, PG) != 0)
		return -1;
	return 0;
}

/* ---- tests ---- */

static void test_find(void **state)
{
	(void)state;
	assert_int_equal(am_hook_ldso_find(&info), 0);
	assert_int_equal(info.text_lo, ld.text_lo);
	for (int i = 0; i < 3; i++) {
		assert_true(in_ldso(info.fn[i]));
		assert_int_equal((uintptr_t)info.fn[i] % 16, 0);
		assert_false(am_patch_is_jump_to(info.fn[i], (void *)am_hook_ldso_munmap));
	}
	assert_true((uintptr_t)info.rtld_errno >= info.data_lo);
	assert_true((uintptr_t)info.rtld_errno < info.data_hi);
	assert_int_equal(info.unseen_sites, 0);
	print_message("      ld.so %p: mmap +%#lx munmap +%#lx mprotect +%#lx rtld_errno +%#lx\n",
		      (void *)ld.seg_lo[0], (unsigned long)(info.fn[0] - (uint8_t *)ld.seg_lo[0]),
		      (unsigned long)(info.fn[1] - (uint8_t *)ld.seg_lo[0]),
		      (unsigned long)(info.fn[2] - (uint8_t *)ld.seg_lo[0]),
		      (unsigned long)((uintptr_t)info.rtld_errno - ld.seg_lo[0]));
}

/* The originals: errno goes to rtld_errno, the thread's errno stays. */
static void test_originals_use_rtld_errno(void **state)
{
	(void)state;
	static const int want[NFAIL] = {EINVAL, EBADF, EINVAL, EINVAL, ENOMEM};
	unsigned m = mark();
	failing_calls(before);
	for (int i = 0; i < NFAIL; i++) {
		print_message("      call %d: ret %ld rtld_errno %d errno %d\n", i, before[i].ret,
			      before[i].err, before[i].tls);
		assert_int_equal(before[i].ret, -1);
		assert_int_equal(before[i].err, want[i]);
		assert_int_equal(before[i].tls, SENTINEL);
	}
	assert_int_equal(mark(), m);	/* not patched yet: nothing seen */
}

static void test_install(void **state)
{
	(void)state;
	void *const handlers[] = {(void *)am_hook_ldso_mmap, (void *)am_hook_ldso_munmap,
				  (void *)am_hook_ldso_mprotect};
	assert_int_equal(am_hook_install(), 0);
	assert_int_equal(am_hook_ldso_install(), 0);	/* again: done */
	for (int i = 0; i < 3; i++)
		assert_true(am_patch_is_jump_to(info.fn[i], handlers[i]));
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char perm[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) == 3 && lo < ld.text_hi &&
		    hi > ld.text_lo)
			assert_string_equal(perm, "r-xp");
	}
	if (f)
		fclose(f);
}

static void test_replacements_match(void **state)
{
	(void)state;
	unsigned m = mark();
	failing_calls(after);
	for (int i = 0; i < NFAIL; i++) {
		assert_int_equal(after[i].ret, before[i].ret);
		assert_int_equal(after[i].err, before[i].err);
		assert_int_equal(after[i].tls, SENTINEL);
	}
	/* only the partial mprotect (and the test's own restoring mprotect,
	 * through libc) were reported */
	int p = find(m, EV_MPROTECT, NULL, NULL);
	assert_true(p >= 0);
	assert_int_equal(evs[p].partial, 1);
	assert_ptr_equal(evs[p].addr, scratch);
}

static int is_at(const struct ev *e, const void *p)
{
	return e->addr == p;
}

static void test_replacements_report(void **state)
{
	(void)state;
	mmap_fn mm = (mmap_fn)(void *)info.fn[0];
	munmap_fn mu = (munmap_fn)(void *)info.fn[1];
	mprotect_fn mp = (mprotect_fn)(void *)info.fn[2];
	unsigned m = mark();
	errno = SENTINEL;
	char *p = mm(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(mp(p, PG, PROT_READ), 0);
	assert_int_equal(mu(p, 2 * PG), 0);
	assert_int_equal(errno, SENTINEL);
	int a = find(m, EV_MMAP, is_at, p), b = find(m, EV_MPROTECT, is_at, p),
	    c = find(m, EV_MUNMAP, is_at, p);
	assert_true(a >= 0 && b > a && c > b);
	assert_int_equal(evs[a].len, 2 * PG);
	assert_false(in_ldso(evs[a].caller));	/* this test called it */
	assert_non_null(evs[a].caller);
	assert_int_equal(evs[b].prot, PROT_READ);
	assert_int_equal(evs[c].len, 2 * PG);
}

/* ---- dlopen / dlclose ---- */

static struct object z;
static void *zh;
static unsigned zmark;

static int is_ldso_mmap_holding(const struct ev *e, const void *page)
{
	uintptr_t a = (uintptr_t)page;
	return in_ldso(e->caller) && a >= (uintptr_t)e->addr && a < (uintptr_t)e->addr + e->len;
}

static int is_munmap_holding(const struct ev *e, const void *page)
{
	uintptr_t a = (uintptr_t)page;
	return a >= (uintptr_t)e->addr && a < (uintptr_t)e->addr + e->len;
}

/* Every page of every segment of z is inside an event since m. */
static void assert_segments_covered(unsigned m, enum kind k,
				    int (*pred)(const struct ev *, const void *))
{
	for (int s = 0; s < z.nseg; s++)
		for (uintptr_t a = z.seg_lo[s]; a < z.seg_hi[s]; a += PG)
			assert_true(find(m, k, pred, (void *)a) >= 0);
}

static int is_relro(const struct ev *e, const void *arg)
{
	(void)arg;
	return (uintptr_t)e->addr == z.relro_lo && e->len == z.relro_hi - z.relro_lo &&
	       e->prot == PROT_READ;
}

static void test_dlopen(void **state)
{
	(void)state;
	assert_null(dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD));
	zmark = mark();
	zh = dlopen("libz.so.1", RTLD_NOW);
	assert_non_null(zh);
	assert_int_equal(object_find("libz.so", &z), 0);
	assert_true(z.nseg >= 2);
	assert_segments_covered(zmark, EV_MMAP, is_ldso_mmap_holding);
	int first = find(zmark, EV_MMAP, is_ldso_mmap_holding, (void *)z.seg_lo[0]);
	assert_string_not_equal(evs[first].path, "");
	assert_non_null(strstr(evs[first].path, "libz.so"));
	/* RELRO becomes read-only after the loader said RT_CONSISTENT */
	int loader = find(zmark, EV_LOADER, NULL, NULL);
	assert_true(loader >= 0);
	if (z.relro_hi > z.relro_lo)
		assert_true(find(loader, EV_MPROTECT, is_relro, NULL) > loader);
	else
		print_message("      (libz has no whole RELRO page)\n");
}

static int is_cache_map(const struct ev *e, const void *size)
{
	return in_ldso(e->caller) && e->len == *(const size_t *)size && e->prot == PROT_READ &&
	       !strcmp(e->path, CACHE);
}

static void test_ld_so_cache(void **state)
{
	(void)state;
	struct stat st;
	if (getenv("LD_LIBRARY_PATH") || stat(CACHE, &st) != 0) {
		print_message("      (skipped: no cache search here)\n");
		return;
	}
	size_t size = (size_t)st.st_size;
	int c = find(zmark, EV_MMAP, is_cache_map, &size);
	assert_true(c >= 0);
	int loader = find(zmark, EV_LOADER, NULL, NULL);
	int u = find((unsigned)c, EV_MUNMAP, is_at, evs[c].addr);
	assert_true(u > loader);	/* unmapped after RT_CONSISTENT */
	assert_true(evs[u].len >= evs[c].len);
}

static void test_dlclose(void **state)
{
	(void)state;
	unsigned m = mark();
	assert_int_equal(dlclose(zh), 0);
	assert_null(dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD));
	assert_segments_covered(m, EV_MUNMAP, is_munmap_holding);
	int u = find(m, EV_MUNMAP, is_munmap_holding, (void *)z.seg_lo[0]);
	int loader = find(m, EV_LOADER, NULL, NULL);
	assert_true(u >= 0 && loader > u);	/* unmapped before RT_CONSISTENT */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_originals_use_rtld_errno),
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_replacements_match),
		cmocka_unit_test(test_replacements_report),
		cmocka_unit_test(test_dlopen),
		cmocka_unit_test(test_ld_so_cache),
		cmocka_unit_test(test_dlclose),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
