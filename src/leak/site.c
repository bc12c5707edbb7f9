/* What a report says of a site: the loaded object holding it (from the
 * mapping index), its offset in the object's own addresses (for
 * addr2line), and a dynamic symbol around it (sys/elfsym.c). Sites
 * outside loaded objects (JIT code) get neither. */
#include <sys/mman.h>

#include "../sys/elfsym.h"
#include "leak.h"

void am_leak_site_describe(struct allocmap_leak_group *g)
{
	struct allocmap_info in, head;
	struct am_leak_object o;
	if (!g->site || allocmap_query(g->site, &in) != 0 || in.kind != ALLOCMAP_OBJECT)
		return;
	g->object = in.path;
	g->offset = (uintptr_t)g->site - (uintptr_t)in.map_base;
	if (allocmap_query(in.map_base, &head) == 0 && (head.prot & PROT_READ) &&
	    am_leak_object_layout((uintptr_t)in.map_base, &o) == 0)
		g->offset = (uintptr_t)g->site - o.bias;
	g->symbol = am_elf_symbol_near(g->site, &g->symbol_offset);
}
