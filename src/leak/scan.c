/* allocmap_leak_scan: the leak check on demand (contract: allocmap.h).
 *
 * Order: stop the other threads (stop.c); copy every live chunk into a
 * sorted table (table.c); mark from the roots and the registers, then
 * cliques (mark.c, roots.c); let the threads go; group by site, describe
 * and suppress (group.c); call back. The threads stand stopped only
 * while the table is filled and marked.
 *
 * The caller's own frames are roots, ours are not: the entry is a few
 * instructions of assembly that save the callee-saved registers as the
 * caller left them (the only ones that can hold its pointers across the
 * call) and the caller's stack pointer, before any C code runs.
 *
 * One scan at a time (scan_lock, tried, never waited for: a scan from a
 * callback or a second thread gets -1).
 */
#include <string.h>

#include "../heap/heap.h"
#include "../sys/elfsym.h"
#include "../sys/lock.h"
#include "../sys/syscall.h"
#include "leak.h"

#define EXIT_REACH (64u << 10) /* how far above the destructor exit's frame is looked for */

static struct am_lock scan_lock = AM_LOCK_INIT;

/* saved: the caller's stack pointer, then rbx rbp r12 r13 r14 r15. */
__attribute__((used, visibility("hidden"))) int am_leak_scan_entry(unsigned flags, allocmap_leak_fn fn, void *arg,
								   const uintptr_t *saved);

__asm__(".text\n"
	".p2align 4\n"
	".globl allocmap_leak_scan\n"
	".type allocmap_leak_scan, @function\n"
	"allocmap_leak_scan:\n"
	"\t.cfi_startproc\n"
	"\tpushq %r15\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_rel_offset %r15, 0\n"
	"\tpushq %r14\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_rel_offset %r14, 0\n"
	"\tpushq %r13\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_rel_offset %r13, 0\n"
	"\tpushq %r12\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_rel_offset %r12, 0\n"
	"\tpushq %rbp\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_rel_offset %rbp, 0\n"
	"\tpushq %rbx\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_rel_offset %rbx, 0\n"
	"\tleaq 56(%rsp), %rax\n" /* the caller's stack pointer before its call */
	"\tpushq %rax\n\t.cfi_adjust_cfa_offset 8\n"
	"\tmovq %rsp, %rcx\n"
	"\tcall am_leak_scan_entry\n"
	"\taddq $8, %rsp\n\t.cfi_adjust_cfa_offset -8\n"
	"\tpopq %rbx\n\t.cfi_adjust_cfa_offset -8\n\t.cfi_restore %rbx\n"
	"\tpopq %rbp\n\t.cfi_adjust_cfa_offset -8\n\t.cfi_restore %rbp\n"
	"\tpopq %r12\n\t.cfi_adjust_cfa_offset -8\n\t.cfi_restore %r12\n"
	"\tpopq %r13\n\t.cfi_adjust_cfa_offset -8\n\t.cfi_restore %r13\n"
	"\tpopq %r14\n\t.cfi_adjust_cfa_offset -8\n\t.cfi_restore %r14\n"
	"\tpopq %r15\n\t.cfi_adjust_cfa_offset -8\n\t.cfi_restore %r15\n"
	"\tret\n"
	"\t.cfi_endproc\n"
	".size allocmap_leak_scan, .-allocmap_leak_scan\n");

static int deliver(const struct am_leak_groups *g, unsigned flags, allocmap_leak_fn fn, void *arg)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct allocmap_leak_group *x = &g->g[i];
		if ((x->cls == ALLOCMAP_LEAK_REACHABLE && !(flags & ALLOCMAP_LEAK_SHOW_REACHABLE)) ||
		    (x->suppressed && !(flags & ALLOCMAP_LEAK_SHOW_SUPPRESSED)))
			continue;
		int rc = fn(x, &g->tot, arg);
		if (rc)
			return rc;
	}
	return fn(NULL, &g->tot, arg);
}

/* Called from the destructor inside exit(): where memcheck, which scans
 * after exit_group, would start the stack — at __run_exit_handlers' six
 * pushes of exit's caller's callee-saved registers, just below its
 * return address into exit. Everything below is exit's machinery
 * (_dl_fini, destructors, lazy binding's register save area) and holds
 * stale words of the program's: skipped. sp itself if not found. */
static uintptr_t exit_frame(uintptr_t sp)
{
	size_t size = 0;
	struct allocmap_info in;
	uintptr_t fn = (uintptr_t)am_elf_lookup("libc.so", "exit", &size), top = sp + EXIT_REACH;
	if (allocmap_query((const void *)sp, &in) != 0)
		return sp;
	if ((uintptr_t)in.map_base + in.map_size < top)
		top = (uintptr_t)in.map_base + in.map_size;
	for (const uintptr_t *p = (const uintptr_t *)sp; fn && (uintptr_t)p < top; p++)
		if (*p - fn <= size) /* <=: the call is exit's last instruction */
			return (uintptr_t)p - 6 * sizeof *p;
	return sp;
}

/* Stopped, table, marks, resumed: the states in t; tot gets root_bytes,
 * threads, threads_unstopped, stopped_ns. */
static int mark_stopped(unsigned flags, const uintptr_t *saved, struct am_leak_table *t,
			struct allocmap_leak_totals *tot)
{
	struct am_leak_threads ts;
	uintptr_t regs[AM_LEAK_NREGS] = {0}, sp = saved[0];
	if (flags & AM_LEAK_AT_EXIT)
		sp = exit_frame(sp); /* exit's caller's registers are in its frame */
	else
		memcpy(regs, saved + 1, 6 * sizeof *regs);
	if (am_leak_stop(&ts, sp, regs, !(flags & ALLOCMAP_LEAK_NO_STOP)) != 0)
		return -1;
	uint64_t t0 = am_sys_now_ns();
	int rc = am_leak_table_fill(t);
	if (rc == 0 && (rc = am_leak_mark(t, &ts, &tot->root_bytes)) != 0)
		am_leak_table_free(t);
	tot->threads = ts.n + ts.overflow;
	tot->threads_unstopped = ts.unstopped;
	tot->stopped_ns = ts.sig ? am_sys_now_ns() - t0 : 0;
	am_leak_resume(&ts);
	return rc;
}

int am_leak_scan_entry(unsigned flags, allocmap_leak_fn fn, void *arg, const uintptr_t *saved)
{
	uint64_t t0 = am_sys_now_ns();
	struct am_leak_table t;
	struct am_leak_groups g;
	struct allocmap_leak_totals tot = {0};
	int rc = -1;
	if (!fn || !am_heap_indexed(am_heap_mode) || !am_trylock(&scan_lock))
		return -1;
	if (mark_stopped(flags, saved, &t, &tot) == 0) {
		rc = am_leak_group(&t, (flags & ALLOCMAP_LEAK_SHOW_REACHABLE) != 0, &g);
		am_leak_table_free(&t);
	}
	if (rc == 0) {
		g.tot.root_bytes = tot.root_bytes, g.tot.threads = tot.threads;
		g.tot.threads_unstopped = tot.threads_unstopped, g.tot.stopped_ns = tot.stopped_ns;
		g.tot.scan_ns = am_sys_now_ns() - t0;
		rc = deliver(&g, flags, fn, arg);
		am_leak_groups_free(&g);
	}
	am_unlock(&scan_lock);
	return rc;
}
