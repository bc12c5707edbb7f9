/* allocmap_sites: the live chunks grouped by allocation site, most bytes
 * first, with each site's object and symbol (allocmap.h). No reachability
 * is computed and no thread is stopped: the leak check's chunk table
 * (table.c) and grouping (group.c), every chunk counted in one class.
 * Memory from the mmap tier only, given back before returning.
 */
#include <string.h>

#include "leak.h"

long allocmap_sites(struct allocmap_site *out, size_t max)
{
	struct am_leak_table t;
	struct am_leak_groups g;
	if ((!out && max) || allocmap_heap_malloc() == NULL || am_leak_table_fill(&t) != 0)
		return -1;
	memset(t.state, AM_LK_REACHABLE, t.n);
	int rc = am_leak_group(&t, 0, &g);
	am_leak_table_free(&t);
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < g.n && i < max; i++) {
		am_leak_site_describe(&g.g[i]);
		out[i] = (struct allocmap_site){.site = g.g[i].site, .bytes = g.g[i].bytes, .count = g.g[i].count,
						.object = g.g[i].object, .offset = g.g[i].offset,
						.symbol = g.g[i].symbol, .symbol_offset = g.g[i].symbol_offset};
	}
	long n = (long)g.n;
	am_leak_groups_free(&g);
	return n;
}
