/* Unit tests of the interception layer (src/hook/): ELF symbol lookup,
 * text patching (rel, abs, trampoline, refusals, no W+X left), and the
 * installed hooks seeing the program's and glibc's own mapping calls
 * (direct mmap/mprotect/mremap/munmap, malloc's large chunks and realloc,
 * pthread stacks, the brk heap, dlopen/dlclose), with glibc's exact
 * results and errno, and no event for a failing call.
 *
 * This file defines the am_ev_* contract itself, recording events into a
 * fixed array (it runs inside malloc: it must not allocate).
 * Under ASan and valgrind, malloc is not glibc's, so the checks that rely
 * on glibc's malloc calling mmap/mremap/sbrk are skipped (and say so).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/sys/elfsym.h"
#include "../../src/hook/hook.h"
#include "../../src/hook/patch.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#else
#define UNDER_VALGRIND() 0
#endif
#ifdef __SANITIZE_ADDRESS__
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

#define PG 4096UL
#define SENTINEL 777

#include "ev_recorder.h"

static int libz_loaded(void)
{
	for (struct link_map *l = _r_debug.r_map; l; l = l->l_next)
		if (l->l_name && strstr(l->l_name, "libz.so"))
			return 1;
	return 0;
}

void am_ev_loader(void)
{
	struct ev *e = ev_new(EV_LOADER);
	e->state = _r_debug.r_state;
	e->has_libz = libz_loaded();
	errno = CLOBBER;
}

static unsigned mark(void)
{
	return __atomic_load_n(&nev, __ATOMIC_ACQUIRE);
}

/* The first event of kind k at or after index from that pred accepts. */
static struct ev *find(unsigned from, enum kind k, int (*pred)(const struct ev *, const void *),
		       const void *arg)
{
	unsigned n = mark() < NEV ? mark() : NEV;
	for (unsigned i = from; i < n; i++)
		if (evs[i].kind == k && (!pred || pred(&evs[i], arg)))
			return &evs[i];
	return NULL;
}

static unsigned count_since(unsigned from, enum kind k)
{
	unsigned c = 0, n = mark() < NEV ? mark() : NEV;
	for (unsigned i = from; i < n; i++)
		c += evs[i].kind == k;
	return c;
}

/* ---- address ranges of objects ---- */

struct range {
	const char *name;
	uintptr_t lo, hi;
};

static int range_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	struct range *r = arg;
	(void)sz;
	if (r->name[0] ? !strstr(info->dlpi_name, r->name) : info->dlpi_name[0] != '\0')
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (ph->p_type != PT_LOAD)
			continue;
		if (!r->lo || lo < r->lo)
			r->lo = lo;
		if (hi > r->hi)
			r->hi = hi;
	}
	return 1;
}

static struct range libc_range = {"libc.so", 0, 0}, exe_range = {"", 0, 0};

static int in_range(const struct range *r, const void *p)
{
	return (uintptr_t)p >= r->lo && (uintptr_t)p < r->hi;
}

/* Who the test's own direct calls report as caller: the test binary, or
 * the ASan interceptor that forwarded them (never libc, never NULL). */
static int is_test_caller(const void *p)
{
	return p && !in_range(&libc_range, p) && (UNDER_ASAN || in_range(&exe_range, p));
}

static int glibc_malloc(void)
{
	if (UNDER_ASAN || UNDER_VALGRIND()) {
		print_message("      (skipped: malloc here is %s's, not glibc's)\n",
			      UNDER_ASAN ? "ASan" : "valgrind");
		return 0;
	}
	return 1;
}

/* ---- failing calls: glibc's answer before install, ours after ---- */

struct outcome {
	long ret;
	int err;
};

#define NFAIL 12
static struct outcome before[NFAIL], after[NFAIL];
static char *scratch;	/* 4 pages mapped at setup */

#define RUN(expr)                                  \
	do {                                       \
		errno = SENTINEL;                  \
		out[i].ret = (long)(expr);         \
		out[i].err = errno;                \
		i++;                               \
	} while (0)

static void failing_calls(struct outcome *out)
{
	int i = 0;
	RUN(mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1));
	RUN(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0));
	RUN(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	RUN(munmap(scratch + 1, PG));
	RUN(munmap(NULL, 0));
	RUN(mprotect(scratch + 1, PG, PROT_READ));
	RUN(mprotect(scratch, PG, 0x1000));
	RUN(mremap(scratch, PG, 2 * PG, 8));
	RUN(mremap(scratch + 1, PG, 2 * PG, MREMAP_MAYMOVE));
	RUN(mremap(scratch, PG, PG, MREMAP_FIXED, scratch + 2 * PG));
	RUN(brk((void *)0x7ff000000000UL));
	RUN(sbrk(-(intptr_t)sbrk(0) - 1));
	assert_int_equal(i, NFAIL);
}

static int group_setup(void **state)
{
	(void)state;
	dl_iterate_phdr(range_cb, &libc_range);
	dl_iterate_phdr(range_cb, &exe_range);
	scratch = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED || !libc_range.lo || !exe_range.lo)
		return -1;
	failing_calls(before);
	return 0;
}

/* ---- /proc/self/maps ---- */

/* The permissions of the mapping holding p, "" if none. */
static void perms_of(const void *p, char out[5])
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	strcpy(out, "");
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char perm[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) == 3 && (uintptr_t)p >= lo &&
		    (uintptr_t)p < hi)
			strcpy(out, perm);
	}
	if (f)
		fclose(f);
}

/* The number of mappings both writable and executable. */
static int wx_mappings(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char perm[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) == 3 && perm[1] == 'w' &&
		    perm[2] == 'x') {
			n++;
			print_message("      W+X: %s", line);
		}
	}
	if (f)
		fclose(f);
	return n;
}

static void assert_no_wx(const void *const *addrs, int n)
{
	char perm[5];
	for (int i = 0; i < n; i++) {
		perms_of(addrs[i], perm);
		assert_true(perm[1] != 'w');
		assert_true(perm[2] == 'x');
	}
	/* valgrind's own translation cache is W+X and shows in the maps. */
	if (!UNDER_VALGRIND())
		assert_int_equal(wx_mappings(), 0);
}

/* ---- ELF lookup ---- */

static void test_elf_lookup(void **state)
{
	(void)state;
	size_t sz = 0, sz2 = 0;
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(libc);
	void *mm = am_elf_lookup("libc.so", "mmap", &sz);
	assert_ptr_equal(mm, dlsym(libc, "mmap"));
	assert_true(sz >= AM_PATCH_ABS_LEN);
	assert_ptr_equal(am_elf_lookup("libc.so", "realpath", NULL), dlsym(libc, "realpath"));
	assert_ptr_equal(am_elf_lookup("libc.so", "pthread_cond_wait", NULL),
			 dlsym(libc, "pthread_cond_wait"));
	assert_null(am_elf_lookup("libc.so", "memcpy", NULL));	/* IFUNC */
	assert_null(am_elf_lookup("libc.so", "no_such_symbol_here", NULL));
	assert_null(am_elf_lookup("no-such-lib", "mmap", NULL));
	assert_ptr_equal(am_elf_lookup(NULL, "_r_debug", NULL), &_r_debug);
	assert_ptr_equal(am_elf_lookup("ld-linux", "_dl_debug_state", NULL), (void *)_r_debug.r_brk);
	const char *name = am_elf_symbol_at(mm, &sz2);
	assert_non_null(name);
	assert_true(strstr(name, "mmap") != NULL);
	assert_int_equal(sz2, sz);
	assert_null(am_elf_symbol_at((char *)mm + 1, &sz2));
	dlclose(libc);
}

/* ---- patching, on functions of this file ---- */

/* Four empty functions: ret, then padding of 15, 15, 4 and 2 bytes (the
 * last two followed by a non-padding byte, a ret). */
__asm__(".text\n"
	".p2align 4\n.globl t_pad15a\n.hidden t_pad15a\nt_pad15a: ret\n"
	".byte 0x66,0x66,0x2e,0x0f,0x1f,0x84,0,0,0,0,0, 0x0f,0x1f,0x40,0\n"
	".p2align 4\n.globl t_pad15b\n.hidden t_pad15b\nt_pad15b: ret\n"
	".byte 0x66,0x66,0x2e,0x0f,0x1f,0x84,0,0,0,0,0, 0x0f,0x1f,0x40,0\n"
	".p2align 4\n.globl t_pad4\n.hidden t_pad4\nt_pad4: ret\n"
	".byte 0x0f,0x1f,0x40,0, 0xc3\n"
	".p2align 4\n.globl t_pad2\n.hidden t_pad2\nt_pad2: ret\n"
	".byte 0x66,0x90, 0xc3\n"
	".p2align 4\n");
void t_pad15a(void);
void t_pad15b(void);
void t_pad4(void);
void t_pad2(void);

static int near_count;
static long far_count;

static void near_handler(void)
{
	__atomic_fetch_add(&near_count, 1, __ATOMIC_RELAXED);
}

/* An executable page more than 2 GiB from this binary's text holding
 * `movabs $&far_count,%rax; lock incq (%rax); ret`. */
static void *far_handler(void)
{
	static void *page;
	uintptr_t base = ((uintptr_t)t_pad15a & ~(PG - 1)) + (1UL << 36);
	for (int i = 0; !page && i < 64; i++) {
		void *p = mmap((void *)(base + i * (1UL << 32)), PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			continue;
		if ((uintptr_t)p - (uintptr_t)t_pad15a < (1UL << 32)) {
			munmap(p, PG);
			continue;
		}
		uint8_t code[16] = {0x48, 0xb8};
		long *c = &far_count;
		memcpy(code + 2, &c, 8);
		memcpy(code + 10, "\xf0\x48\xff\x00\xc3", 5);
		memcpy(p, code, sizeof code);
		mprotect(p, PG, PROT_READ | PROT_EXEC);
		page = p;
	}
	return page;
}

static int is_self_exec_page(const struct ev *e, const void *arg)
{
	(void)arg;
	return e->caller == NULL && e->len == PG && e->prot == (PROT_READ | PROT_EXEC);
}

static void test_patch_forms(void **state)
{
	(void)state;
	void *far = far_handler();
	assert_non_null(far);
	assert_int_equal(am_patch_room((void *)t_pad15a, 1), 16);
	assert_int_equal(am_patch_room((void *)t_pad4, 1), 5);
	assert_int_equal(am_patch_room((void *)t_pad2, 1), 3);

	/* rel: the handler is in this binary. */
	assert_int_equal(am_patch_jump_sized((void *)t_pad15a, 1, (void *)near_handler), 0);
	assert_int_equal(*(uint8_t *)t_pad15a, 0xe9);
	t_pad15a();
	assert_int_equal(near_count, 1);
	assert_int_equal(am_patch_jump_sized((void *)t_pad15a, 1, (void *)near_handler), 0);
	assert_true(am_patch_is_jump_to((void *)t_pad15a, (void *)near_handler));

	/* abs: the handler is far, 16 bytes of room. */
	assert_int_equal(am_patch_jump_sized((void *)t_pad15b, 1, far), 0);
	assert_int_equal(*(uint8_t *)t_pad15b, 0x49);
	t_pad15b();
	assert_int_equal(far_count, 1);

	/* tramp: the handler is far, 5 bytes of room. */
	unsigned m = mark();
	assert_int_equal(am_patch_jump_sized((void *)t_pad4, 1, far), 0);
	assert_int_equal(*(uint8_t *)t_pad4, 0xe9);
	assert_true(am_patch_is_jump_to((void *)t_pad4, far));
	t_pad4();
	assert_int_equal(far_count, 2);
	struct ev *e = find(m, EV_MMAP, is_self_exec_page, NULL);
	assert_non_null(e);
	intptr_t d = (intptr_t)e->addr - (intptr_t)t_pad4;
	assert_true(d > INT32_MIN / 2 && d < INT32_MAX / 2);
	const void *pages[] = {(void *)t_pad15a, (void *)t_pad4, e->addr};
	assert_no_wx(pages, 3);
}

static int data_bytes[64];

static void test_patch_refusals(void **state)
{
	(void)state;
	uint8_t before_bytes[3];
	memcpy(before_bytes, (void *)t_pad2, 3);
	assert_int_equal(am_patch_jump_sized((void *)t_pad2, 1, (void *)near_handler), -ENOSPC);
	assert_memory_equal(before_bytes, (void *)t_pad2, 3);
	assert_int_equal(am_patch_jump((void *)t_pad2, (void *)near_handler), -ENOENT);
	assert_int_equal(am_patch_jump_sized(data_bytes, 64, (void *)near_handler), -EFAULT);
	assert_int_equal(am_patch_jump_sized(NULL, 64, (void *)near_handler), -EINVAL);
	assert_int_equal(am_patch_jump_sized((void *)t_pad2, 1, NULL), -EINVAL);
	t_pad2();
	assert_int_equal(near_count, 1);
}

/* ---- install ---- */

static void test_install(void **state)
{
	(void)state;
	static const char *const syms[] = {"mmap", "munmap", "mprotect", "mremap", "brk", "sbrk"};
	void *const handlers[] = {(void *)am_hook_mmap, (void *)am_hook_munmap,
				  (void *)am_hook_mprotect, (void *)am_hook_mremap,
				  (void *)am_hook_brk, (void *)am_hook_sbrk};
	const void *addrs[7];
	assert_int_equal(am_hook_install(), 0);
	assert_int_equal(am_hook_install(), 0);
	assert_int_equal(am_hook_loader_install(), 0);
	for (int i = 0; i < 6; i++) {
		addrs[i] = am_elf_lookup("libc.so", syms[i], NULL);
		assert_true(am_patch_is_jump_to(addrs[i], handlers[i]));
		assert_int_equal(am_patch_jump((void *)addrs[i], handlers[i]), 0); /* done */
	}
	addrs[6] = (void *)_r_debug.r_brk;
	assert_true(am_patch_is_jump_to(addrs[6], (void *)am_hook_dl_debug_state));
	assert_no_wx(addrs, 7);
}

static void test_failing_calls_match_glibc(void **state)
{
	(void)state;
	unsigned m = mark();
	failing_calls(after);
	for (int i = 0; i < NFAIL; i++) {
		print_message("      call %2d: glibc %ld/%d, hooked %ld/%d\n", i, before[i].ret,
			      before[i].err, after[i].ret, after[i].err);
		assert_int_equal(after[i].ret, before[i].ret);
		assert_int_equal(after[i].err, before[i].err);
		assert_int_equal(after[i].ret, -1);
		assert_true(after[i].err == EINVAL || after[i].err == EBADF ||
			    after[i].err == ENOMEM);
	}
	assert_int_equal(mark(), m);
}

static int is_map_at(const struct ev *e, const void *p)
{
	return e->addr == p;
}

static int is_remap_of(const struct ev *e, const void *p)
{
	return e->addr == p;
}

static void test_direct_calls(void **state)
{
	(void)state;
	unsigned m = mark();
	errno = SENTINEL;
	char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(errno, SENTINEL);
	struct ev *e = find(m, EV_MMAP, is_map_at, p);
	assert_non_null(e);
	assert_int_equal(e->len, 3 * PG);
	assert_int_equal(e->prot, PROT_READ | PROT_WRITE);
	assert_int_equal(e->flags, MAP_PRIVATE | MAP_ANONYMOUS);
	assert_int_equal(e->fd, -1);
	assert_int_equal(e->off, 0);
	assert_true(is_test_caller(e->caller));

	assert_int_equal(mprotect(p, PG, PROT_READ), 0);
	assert_int_equal(errno, SENTINEL);
	e = find(m, EV_MPROTECT, is_map_at, p);
	assert_non_null(e);
	assert_int_equal(e->len, PG);
	assert_int_equal(e->prot, PROT_READ);

	assert_int_equal(munmap(p + 2 * PG, PG), 0);
	assert_int_equal(errno, SENTINEL);
	e = find(m, EV_MUNMAP, is_map_at, p + 2 * PG);
	assert_non_null(e);
	assert_int_equal(e->len, PG);

	/* grow the read-write page, free to move */
	char *q = mremap(p + PG, PG, 64 * PG, MREMAP_MAYMOVE);
	assert_true(q != MAP_FAILED);
	assert_int_equal(errno, SENTINEL);
	e = find(m, EV_MREMAP, is_remap_of, p + PG);
	assert_non_null(e);
	assert_ptr_equal(e->addr2, q);
	assert_int_equal(e->len, PG);
	assert_int_equal(e->len2, 64 * PG);
	assert_int_equal(e->flags, MREMAP_MAYMOVE);
	assert_true(is_test_caller(e->caller));

	/* move to a chosen place: the variadic new_address must arrive */
	char *dst = mmap(NULL, 64 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(dst != MAP_FAILED);
	char *r = mremap(q, 64 * PG, 64 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	assert_ptr_equal(r, dst);
	e = find(m, EV_MREMAP, is_remap_of, q);
	assert_non_null(e);
	assert_ptr_equal(e->addr2, dst);
	assert_int_equal(e->flags, MREMAP_MAYMOVE | MREMAP_FIXED);
	assert_int_equal(munmap(dst, 64 * PG), 0);
	assert_non_null(find(m, EV_MUNMAP, is_map_at, dst));
	assert_int_equal(munmap(p, PG), 0);
}

static int is_mmap_holding(const struct ev *e, const void *p)
{
	return (const char *)p >= (char *)e->addr && (const char *)p < (char *)e->addr + e->len;
}

static void test_malloc_large_chunks(void **state)
{
	(void)state;
	if (!glibc_malloc())
		return;
	unsigned m = mark();
	char *p = malloc(1 << 20);
	assert_non_null(p);
	struct ev *e = find(m, EV_MMAP, is_mmap_holding, p);
	assert_non_null(e);
	assert_true(e->len >= (1 << 20));
	assert_true(in_range(&libc_range, e->caller));
	void *chunk = e->addr;

	m = mark();
	char *q = realloc(p, 4 << 20);
	assert_non_null(q);
	e = find(m, EV_MREMAP, is_remap_of, chunk);
	assert_non_null(e);
	assert_true(is_mmap_holding(&(struct ev){.addr = e->addr2, .len = e->len2}, q));
	assert_true(in_range(&libc_range, e->caller));
	chunk = e->addr2;

	m = mark();
	free(q);
	assert_non_null(find(m, EV_MUNMAP, is_map_at, chunk));
}

static void *thread_body(void *arg)
{
	return arg;
}

static int is_stack_of(const struct ev *e, const void *want)
{
	return (e->flags & MAP_STACK) && e->len >= *(const size_t *)want;
}

static int is_inside(const struct ev *e, const void *map)
{
	return is_mmap_holding(map, e->addr);
}

static void test_pthread_stack(void **state)
{
	(void)state;
	pthread_attr_t attr;
	pthread_t t;
	size_t stack = (1 << 20) + 7 * PG;
	unsigned m = mark();
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, stack), 0);
	assert_int_equal(pthread_create(&t, &attr, thread_body, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&attr);
	struct ev *e = find(m, EV_MMAP, is_stack_of, &stack);
	assert_non_null(e);
	assert_true(in_range(&libc_range, e->caller));
	/* mapped PROT_NONE, then all but the guard made read-write */
	struct ev *g = find(m, EV_MPROTECT, is_inside, e);
	assert_non_null(g);
	assert_int_equal(e->prot, PROT_NONE);
	assert_int_equal(g->prot, PROT_READ | PROT_WRITE);
	assert_true((char *)g->addr + g->len <= (char *)e->addr + e->len);
}

static int is_brk(const struct ev *e, const void *want)
{
	const void *const *w = want;
	return e->addr == w[0] && e->addr2 == w[1];
}

static void test_brk_direct(void **state)
{
	(void)state;
	char *old = sbrk(0);
	unsigned m = mark();
	errno = SENTINEL;
	assert_ptr_equal(sbrk(PG), old);
	assert_int_equal(errno, SENTINEL);
	assert_ptr_equal(sbrk(0), old + PG);
	const void *grow[2] = {old, old + PG}, *shrink[2] = {old + PG, old};
	struct ev *e = find(m, EV_BRK, is_brk, grow);
	assert_non_null(e);
	assert_true(is_test_caller(e->caller));
	assert_ptr_equal(sbrk(-(intptr_t)PG), old + PG);
	assert_non_null(find(m, EV_BRK, is_brk, shrink));
	m = mark();
	assert_int_equal(brk(old), 0);	/* unchanged: no event */
	assert_int_equal(brk(old + PG), 0);
	assert_int_equal(brk(old), 0);
	assert_int_equal(count_since(m, EV_BRK), 2);
	assert_ptr_equal(sbrk(0), old);
}

static void test_brk_by_malloc(void **state)
{
	(void)state;
	static void *chunks[200000];
	int n = 0;
	if (!glibc_malloc())
		return;
	char *start = sbrk(0);
	unsigned m = mark();
	while (n < 200000 && sbrk(0) == start)
		chunks[n++] = malloc(512);
	char *end = sbrk(0);
	assert_true(end > start);
	const void *want[2] = {start, end};
	struct ev *e = find(m, EV_BRK, is_brk, want);
	assert_non_null(e);
	assert_true(in_range(&libc_range, e->caller));
	while (n)
		free(chunks[--n]);
}

static int is_loader_with(const struct ev *e, const void *want)
{
	return e->has_libz == *(const int *)want;
}

static void test_dlopen(void **state)
{
	(void)state;
	const int yes = 1, no = 0;
	assert_null(dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD));
	unsigned m = mark();
	void *h = dlopen("libz.so.1", RTLD_NOW);
	assert_non_null(h);
	assert_non_null(find(m, EV_LOADER, is_loader_with, &yes));
	unsigned m2 = mark();
	assert_int_equal(dlclose(h), 0);
	assert_non_null(find(m2, EV_LOADER, is_loader_with, &no));
	for (unsigned i = m; i < mark(); i++)
		if (evs[i].kind == EV_LOADER)
			assert_int_equal(evs[i].state, RT_CONSISTENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_lookup),
		cmocka_unit_test(test_patch_forms),
		cmocka_unit_test(test_patch_refusals),
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_failing_calls_match_glibc),
		cmocka_unit_test(test_direct_calls),
		cmocka_unit_test(test_malloc_large_chunks),
		cmocka_unit_test(test_pthread_stack),
		cmocka_unit_test(test_brk_direct),
		cmocka_unit_test(test_brk_by_malloc),
		cmocka_unit_test(test_dlopen),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
