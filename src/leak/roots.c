/* The roots of the scan, from the mapping index: see leak.h.
 *
 * What is scanned, map by map (the index's maps, in address order):
 *   - readable and writable maps of loaded objects (data, bss), of
 *     anonymous memory (the program's mmaps, the loader's, the brk area
 *     outside malloc), and stacks: memcheck's roots, less file mappings;
 *   - each loaded object's PT_GNU_RELRO (read-only after relocation, so
 *     memcheck does not scan it; it holds pointers to static data only in
 *     practice, so scanning it changes nothing but is what we promise);
 *   - of private anonymous maps and stacks, only the pages ever touched
 *     (touched.c: the others read as zeros);
 *   - in a map holding a thread's stack pointer, only from there up (with
 *     a parked thread's 128-byte red zone): what lies below is dead, and
 *     memcheck does not scan it either. A glibc thread's TLS block and
 *     descriptor lie at the top of its stack's map, above any frame, so
 *     they are scanned; the main thread's were made by the loader in an
 *     anonymous map or its own data, scanned as such.
 * Not scanned: allocmap's own data, bss and whole TLS block (they hold
 * addresses of mapping calls and arenas, and livestats.c's last
 * allocation, which can fall inside chunks), the malloc arenas (a sequence with heap data: only their
 * live chunks are memory of the program's), allocmap's own maps, the
 * kernel's ([vvar] can fault on read), file mappings that are not loaded
 * objects (a page past the file's end faults with SIGBUS), unreadable or
 * read-only maps.
 */
#include <sys/mman.h>

#include "../heap/fastpath.h"
#include "../index/mapindex.h"
#include "../sys/syscall.h"
#include "../sys/thread.h"
#include "leak.h"

#define RED_ZONE 128

struct walk {
	struct am_leak_roots *r;
	uintptr_t relro_seq, relro_lo, relro_hi; /* the object last seen and its RELRO */
	uintptr_t self_lo, self_hi;              /* liballocmap's own object */
	uintptr_t tls_lo, tls_hi;                /* its TLS, as offsets from a thread pointer */
	int pagemap;                             /* /proc/self/pagemap, or -1 */
};

/* am_self's offset inside allocmap's TLS block (the object's PT_TLS
 * image): the linker resolves @dtpoff, as for the local-dynamic model. */
static uintptr_t self_dtpoff(void)
{
	uintptr_t o;
	__asm__("movq $am_self@dtpoff, %0" : "=r"(o));
	return o;
}

/* allocmap's own TLS, relative to the thread pointer (the same in every
 * thread: initial-exec TLS), and its own object's extent. The whole TLS
 * block (PT_TLS's size from am_self's place in it), not a list of known
 * variables: any file of allocmap may add a __thread variable holding
 * chunk addresses (livestats.c's last allocation did, and the chunk it
 * named was reachable through it). A list of two variables is the
 * fallback when the object's headers cannot be read. */
static void find_self(struct walk *w)
{
	struct allocmap_info in;
	struct am_leak_object o = {0};
	uintptr_t tp = am_leak_tp(), a = (uintptr_t)&am_self, b = (uintptr_t)am_leaf_cache;
	uintptr_t ae = a + sizeof am_self, be = b + sizeof am_leaf_cache;
	w->tls_lo = (a < b ? a : b) - tp, w->tls_hi = (ae > be ? ae : be) - tp;
	if (allocmap_query((const void *)&find_self, &in) != 0 || in.kind != ALLOCMAP_OBJECT)
		return;
	w->self_lo = (uintptr_t)in.map_base, w->self_hi = w->self_lo + in.map_size;
	if (am_leak_object_layout(w->self_lo, &o) == 0 && o.tls_size) {
		uintptr_t block = a - self_dtpoff();
		if (block <= a && ae <= block + o.tls_size && b >= block && be <= block + o.tls_size)
			w->tls_lo = block - tp, w->tls_hi = block + o.tls_size - tp;
	}
}

static int is_ours(enum am_origin o)
{
	return o == AM_ORIGIN_NOMMAP || o == AM_ORIGIN_MMAPTIER || o == AM_ORIGIN_SELF || o == AM_ORIGIN_KERNEL;
}

/* The RELRO of the object whose first map v is. */
static void find_relro(struct walk *w, const struct am_map_view *v)
{
	struct am_leak_object o = {0};
	w->relro_seq = v->seq_lo;
	if (v->lo == v->seq_lo && (v->prot & PROT_READ))
		am_leak_object_layout(v->lo, &o);
	w->relro_lo = o.relro_lo, w->relro_hi = o.relro_hi;
}

static void give_part(struct am_leak_roots *r, uintptr_t lo, uintptr_t hi)
{
	if (lo >= hi)
		return;
	r->bytes += hi - lo;
	r->fn(lo, hi, r->arg);
}

/* [lo, hi) less the threads' allocmap TLS, from thread k on. */
static void give_from(struct walk *w, uintptr_t lo, uintptr_t hi, unsigned k)
{
	const struct am_leak_threads *ts = w->r->threads;
	for (; k < ts->n; k++) {
		uintptr_t tp = ts->t[k].tp, xlo = tp + w->tls_lo, xhi = tp + w->tls_hi;
		if (tp && xlo < hi && lo < xhi) {
			give_from(w, lo, xlo > lo ? xlo : lo, k + 1);
			give_from(w, xhi < hi ? xhi : hi, hi, k + 1);
			return;
		}
	}
	give_part(w->r, lo, hi);
}

static void give(struct walk *w, uintptr_t lo, uintptr_t hi)
{
	if (lo < hi)
		give_from(w, lo, hi, 0);
}

/* Where scanning map [lo, hi) starts: past the dead part below a stack
 * pointer inside it. The scanner's own (slot 0) is its caller's frame:
 * no red zone, as the caller made a call. */
static uintptr_t live_from(const struct am_leak_roots *r, uintptr_t lo, uintptr_t hi)
{
	for (unsigned i = 0; i < r->threads->n; i++) {
		uintptr_t sp = r->threads->t[i].sp, from = i == 0 ? sp : sp - RED_ZONE;
		if (sp > lo && sp < hi)
			lo = from > lo ? from : lo;
	}
	return lo;
}

static void object_map(struct walk *w, const struct am_map_view *v)
{
	if (v->seq_lo != w->relro_seq)
		find_relro(w, v);
	if ((v->prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE))
		give(w, v->lo, v->hi);
	else if (v->prot & PROT_READ) /* RELRO: the part of it in this map */
		give(w, v->lo > w->relro_lo ? v->lo : w->relro_lo, v->hi < w->relro_hi ? v->hi : w->relro_hi);
}

static void give_run(uintptr_t lo, uintptr_t hi, void *arg)
{
	give(arg, lo, hi);
}

/* An anonymous map or a stack: if private, its touched pages only (touched.c). */
static void anon_map(struct walk *w, const struct am_map_view *v)
{
	uintptr_t lo = live_from(w->r, v->lo, v->hi);
	if ((v->flags & MAP_SHARED) || lo >= v->hi)
		give(w, lo, v->hi);
	else
		am_leak_touched_each(w->pagemap, lo, v->hi, give_run, w);
}

static void one_map(struct walk *w, const struct am_map_view *v)
{
	int rw = (v->prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE);
	if (is_ours(v->origin) || (v->lo >= w->self_lo && v->hi <= w->self_hi))
		return;
	if (v->heap) {
		if (!(v->prot & PROT_READ) && w->r->unreadable)
			w->r->unreadable(v->lo, v->hi, w->r->arg);
		return;
	}
	if (v->origin == AM_ORIGIN_OBJECT)
		object_map(w, v);
	else if (rw && (v->origin == AM_ORIGIN_STACK || !v->path))
		anon_map(w, v);
}

void am_leak_roots_each(struct am_leak_roots *r)
{
	struct walk w = {.r = r, .pagemap = am_leak_pagemap_open()};
	struct am_map_view v;
	find_self(&w);
	for (uintptr_t from = 0; am_index_next(from, &v) == 0; from = v.hi)
		one_map(&w, &v);
	if (w.pagemap >= 0)
		am_sys_close(w.pagemap);
}
