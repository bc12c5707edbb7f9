/* The page: its size and the rounding helpers, defined once.
 *
 * allocmap runs on x86-64 Linux with 4 KiB base pages; the kernel's
 * mappings, the page index and the heap's mark pages are all counted in
 * them. Pure arithmetic: callable from anywhere, signal handlers included.
 */
#ifndef AM_SYS_PAGE_H
#define AM_SYS_PAGE_H

#include <stdint.h>

#define AM_PAGE_SHIFT 12
#define AM_PAGE_SIZE ((uintptr_t)1 << AM_PAGE_SHIFT)

static inline uintptr_t am_page_down(uintptr_t a) { return a & ~(AM_PAGE_SIZE - 1); }
static inline uintptr_t am_page_up(uintptr_t a) { return (a + AM_PAGE_SIZE - 1) & ~(AM_PAGE_SIZE - 1); }
static inline int am_page_aligned(uintptr_t a) { return (a & (AM_PAGE_SIZE - 1)) == 0; }

#endif
