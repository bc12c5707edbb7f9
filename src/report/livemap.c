/* The live file's mapping: the one place the report layer maps memory
 * (through src/sys/ only), so that it can move behind the library's
 * single door for its own mappings without touching its callers. The
 * mapping is recorded in the index as allocmap's (AM_ORIGIN_SELF, with the
 * file's path), so queries and the checker know it. Not nudged into the
 * self-mapping window: it is one mapping per process, made at start-up or
 * in a fork child, where the kernel's placement is as good.
 */
#include <sys/mman.h>

#include "../index/mapindex.h"
#include "../sys/syscall.h"
#include "live.h"

void *am_live_map(int fd, size_t len, const char *path)
{
	long r = am_sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (am_sys_failed(r))
		return NULL;
	am_index_map((uintptr_t)r, (uintptr_t)r + len, PROT_READ | PROT_WRITE, MAP_SHARED, 0, path, AM_ORIGIN_SELF,
		     NULL);
	return (void *)r;
}

void am_live_unmap(void *p, size_t len)
{
	if (!am_sys_failed(am_sys_munmap(p, len)))
		am_index_unmap((uintptr_t)p, (uintptr_t)p + len);
}
