/* The live file's mapping: the one place the report layer maps memory
 * (through src/sys/ only), so that it can move behind the library's
 * single door for its own mappings without touching its callers. The
 * mapping is recorded in the index as allocmap's (AM_ORIGIN_SELF, with the
 * file's path), so queries and the checker know it. Placed, like every
 * mapping of the library's own, by the one door (sys/pages.c).
 */
#include <sys/mman.h>

#include "../index/mapindex.h"
#include "../sys/pages.h"
#include "live.h"

void *am_live_map(int fd, size_t len, const char *path)
{
	void *r = am_pages_map_file(len, fd);
	if (!r)
		return NULL;
	am_index_map((uintptr_t)r, (uintptr_t)r + len, PROT_READ | PROT_WRITE, MAP_SHARED, 0, path, AM_ORIGIN_SELF,
		     NULL);
	return r;
}

void am_live_unmap(void *p, size_t len)
{
	if (am_pages_unmap(p, len) == 0)
		am_index_unmap((uintptr_t)p, (uintptr_t)p + len);
}
