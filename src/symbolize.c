/* allocmap_symbolize: the loaded object holding an address (its span and
 * path from the mapping index), its load bias and the dynamic function
 * symbol around the address (sys/elfsym.c, from the object's own
 * .dynamic). Reads memory only: no malloc, no lock, no system call, so a
 * signal handler may call it.
 */
#include <string.h>

#include "../include/allocmap.h"
#include "index/mapindex.h"
#include "sys/elfsym.h"

/* The object sequence holding addr, read under one ticket; 0 if found. */
static int object_at(uintptr_t addr, struct am_map_view *v)
{
	for (;;) {
		unsigned ticket = am_index_read_begin();
		int rc = am_index_lookup_at(addr, ticket, v);
		if (!am_index_read_retry(ticket))
			return rc == 0 && am_origin_kind(v->origin, v->path != NULL) == ALLOCMAP_OBJECT ? 0 : -1;
	}
}

int allocmap_symbolize_ex(const void *addr, struct allocmap_symbol *out, size_t size)
{
	struct allocmap_symbol s = {0};
	struct am_map_view v;
	uintptr_t bias;
	if (!out || size % 8)
		return -1;
	memset(out, 0, size);
	if (object_at((uintptr_t)addr, &v) != 0 ||
	    am_elf_describe(v.seq_lo, v.seq_hi, addr, &bias, &s.name, &s.offset) != 0)
		return -1;
	s.object = v.path;
	s.object_base = (const void *)bias;
	s.object_offset = (uintptr_t)addr - bias;
	memcpy(out, &s, size < sizeof s ? size : sizeof s);
	return 0;
}
