/* Which pages of a private anonymous map were ever touched, from
 * /proc/self/pagemap: the roots scan reads only those.
 *
 * A page of private anonymous memory whose pagemap entry is neither
 * present (bit 63) nor swapped (bit 62) was never written, or was
 * discarded (MADV_DONTNEED): it reads as zeros and holds no pointer.
 * Reading it anyway costs a page fault (the zero page mapped in) for
 * nothing: python3's pymalloc arenas and interpreter bss left 1.3 MB of
 * its 6.8 MB of roots untouched at exit (README, "Leak check": cost).
 * Shared or file-backed memory can hold data its page table does not
 * show (another process's writes, the file's contents): never skipped.
 *
 * If pagemap cannot be read (no /proc, a kernel without it), every page
 * is given, as before.
 */
#include <fcntl.h>

#include "../sys/syscall.h"
#include "leak.h"

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define BATCH 256 /* entries read at a time (2 KiB of the caller's stack) */
#define PAGE 4096ul

int am_leak_pagemap_open(void)
{
	long fd = am_sys_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
	return am_sys_failed(fd) ? -1 : (int)fd;
}

/* Gives the runs of touched pages of [lo, hi) to fn; the first and last
 * partial pages as their parts. */
void am_leak_touched_each(int fd, uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t, uintptr_t, void *),
			  void *arg)
{
	uint64_t e[BATCH];
	uintptr_t run = 0; /* start of the current run of touched pages, 0: none */
	if (fd < 0) {
		fn(lo, hi, arg);
		return;
	}
	for (uintptr_t page = lo & ~(PAGE - 1); page < hi;) {
		size_t n = (hi - page + PAGE - 1) / PAGE;
		n = n < BATCH ? n : BATCH;
		long got = am_sys_pread(fd, e, n * sizeof *e, (uint64_t)(page / PAGE) * sizeof *e);
		if (am_sys_failed(got) || (size_t)got != n * sizeof *e) {
			fn(run ? run : (page > lo ? page : lo), hi, arg);
			return;
		}
		for (size_t i = 0; i < n; i++, page += PAGE) {
			int touched = (e[i] & (PM_PRESENT | PM_SWAPPED)) != 0;
			if (touched && !run)
				run = page > lo ? page : lo;
			else if (!touched && run)
				fn(run, page, arg), run = 0;
		}
	}
	if (run)
		fn(run, hi, arg);
}
