/* The library's own memory: see pages.h. State: the window's next free
 * address (claimed with an atomic add, never given back: the window is
 * address space only) and two counters. */
#include "pages.h"

#include <sys/mman.h>

#include "page.h"
#include "syscall.h"

#define WINDOW_GAP ((uintptr_t)1 << 42) /* 4 TiB below the library's code */
#define GIB ((uintptr_t)1 << 30)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static uintptr_t next_hint; /* 0: not chosen yet; 1: no window (code too low) */
static uint64_t placed, unplaced;

static uintptr_t window_claim(size_t len)
{
	uintptr_t h = __atomic_load_n(&next_hint, __ATOMIC_RELAXED);
	if (h == 0) {
		uintptr_t code = (uintptr_t)&window_claim;
		uintptr_t start = code > 2 * WINDOW_GAP ? (code - WINDOW_GAP) & ~(GIB - 1) : 1;
		__atomic_compare_exchange_n(&next_hint, &h, start, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	h = __atomic_fetch_add(&next_hint, am_page_up(len), __ATOMIC_RELAXED);
	return h == 1 ? 0 : h;
}

void *am_pages_map_at(uintptr_t addr, size_t len, int prot)
{
	long r = am_sys_mmap((void *)addr, len, prot, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	if (am_sys_failed(r))
		return NULL;
	if ((uintptr_t)r != addr) { /* a kernel older than 4.17 took NOREPLACE as a hint */
		am_sys_munmap((void *)r, len);
		return NULL;
	}
	return (void *)r;
}

/* A mapping placed in the window if it can be, else where the kernel says. */
static void *placed_map(size_t len, int prot, int flags, int fd)
{
	uintptr_t hint = window_claim(len);
	long r = hint ? am_sys_mmap((void *)hint, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0) : -1;
	if (!am_sys_failed(r) && (uintptr_t)r == hint) {
		__atomic_fetch_add(&placed, 1, __ATOMIC_RELAXED);
		return (void *)r;
	}
	if (!am_sys_failed(r))
		am_sys_munmap((void *)r, len);
	r = am_sys_mmap(NULL, len, prot, flags, fd, 0);
	if (am_sys_failed(r))
		return NULL;
	__atomic_fetch_add(&unplaced, 1, __ATOMIC_RELAXED);
	return (void *)r;
}

void *am_pages_map(size_t len, int prot, int flags) { return placed_map(len, prot, ANON | flags, -1); }

void *am_pages_map_file(size_t len, int fd)
{
	return placed_map(len, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
}

long am_pages_unmap(void *p, size_t len) { return am_sys_munmap(p, len); }

void am_pages_counts(uint64_t *n_placed, uint64_t *n_unplaced)
{
	*n_placed = __atomic_load_n(&placed, __ATOMIC_RELAXED);
	*n_unplaced = __atomic_load_n(&unplaced, __ATOMIC_RELAXED);
}
