/* The library's own memory: the only place allocmap maps, reserves,
 * plugs or unmaps pages for itself (the program's calls never come here).
 *
 * Placement. Mappings allocmap places itself are nudged into a window
 * chosen once, 4 TiB below the library's code and 1 GiB-aligned: far from
 * the kernel's top-down mmap area and from every loaded object, so none
 * of them can land in a hole inside an object (the seed's "no holey
 * DSOs"). A hint that collides fails (MAP_FIXED_NOREPLACE) and the
 * mapping falls back to the kernel's choice; such a mapping is counted as
 * unplaced. Two kinds of mapping are not nudged because their address is
 * the point: a plug over a hole inside a loaded object, and a page that
 * must lie within reach of some code (patch trampolines).
 *
 * Every function makes raw system calls only, allocates nothing, records
 * nothing in the index (the caller does, if it must), and may run in any
 * thread; the window is claimed with an atomic add. Results are the
 * address, or NULL when the kernel refused (errno is not touched).
 */
#ifndef AM_SYS_PAGES_H
#define AM_SYS_PAGES_H

#include <stddef.h>
#include <stdint.h>

/* prot PROT_*, flags extra MAP_* (MAP_NORESERVE): a private anonymous
 * mapping of len bytes (a page multiple), nudged into the window. */
void *am_pages_map(size_t len, int prot, int flags);
/* The same for a shared read-write mapping of the file fd (the report's
 * live file), from offset 0. */
void *am_pages_map_file(size_t len, int fd);
/* Exactly at addr or not at all (never over an existing mapping): a plug
 * (PROT_NONE) or a page near code. */
void *am_pages_map_at(uintptr_t addr, size_t len, int prot);
/* Gives back what one of the above returned, or a part of it: 0, or the
 * kernel's negative errno. */
long am_pages_unmap(void *p, size_t len);

/* Mappings placed in the window / left to the kernel's choice since start. */
void am_pages_counts(uint64_t *placed, uint64_t *unplaced);

#endif
