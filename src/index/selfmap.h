/* The library's own mappings made after start-up, recorded in the index:
 * see selfmap.c. Callable from any thread, never under the index lock
 * (they record themselves in the index). */
#ifndef AM_INDEX_SELFMAP_H
#define AM_INDEX_SELFMAP_H

#include <stddef.h>
#include <stdint.h>

#include "mapindex.h"

/* A read-write anonymous mapping of len bytes (page multiple), recorded
 * with the given origin; NULL if the kernel refused. */
void *am_selfmap_map(size_t len, enum am_origin origin);
void am_selfmap_unmap(void *p, size_t len);
/* Routes the mmap tier's chunks through here. */
void am_selfmap_install(void);

#endif
