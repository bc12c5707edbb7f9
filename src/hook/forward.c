/* Finding the allocator our malloc family forwards to, without dlsym:
 * the first object after allocmap (in symbol-resolution order) that
 * defines malloc — glibc's, or another malloc preloaded after us
 * (jemalloc, tcmalloc...), whose chunks are indexed by the sizes asked
 * for (foreign.c). If an object *before* us defines malloc
 * (the executable, or a malloc preloaded first), ours is never called:
 * the heap index stays off and queries answer at the mapping level; this
 * is said once.
 * Resolution walks the loaded objects' ELF tables in place: it allocates
 * nothing, so no bootstrap allocator is needed.
 */
#include <link.h>

#include "../heap/heap.h"
#include "../sys/elfsym.h"
#include "../sys/log.h"
#include "hook.h"

static void *next(const char *sym)
{
	int before = 0;
	return am_elf_lookup_next(_DYNAMIC, sym, &before);
}

static enum am_heap_mode classify(void *m, int before)
{
	if (before)
		return AM_HEAP_BYPASSED;
	return m == am_elf_lookup("libc.so", "malloc", NULL) ? AM_HEAP_GLIBC : AM_HEAP_FOREIGN;
}

enum am_heap_mode am_hook_resolve_malloc(void)
{
	if (am_heap_mode != AM_HEAP_UNRESOLVED)
		return am_heap_mode;
	int before = 0;
	void *m = am_elf_lookup_next(_DYNAMIC, "malloc", &before);
	am_real.free = next("free");
	am_real.calloc = next("calloc");
	am_real.realloc = next("realloc");
	am_real.memalign = next("memalign");
	am_real.aligned_alloc = next("aligned_alloc");
	am_real.posix_memalign = next("posix_memalign");
	void *lm = next("__libc_memalign");
	am_real.glibc_memalign = lm == am_elf_lookup("libc.so", "__libc_memalign", NULL) ? lm : NULL;
	am_real.usable = next("malloc_usable_size");
	if (!m || !am_real.free || !am_real.calloc || !am_real.realloc || !am_real.memalign || !am_real.aligned_alloc ||
	    !am_real.posix_memalign) {
		am_log("cannot find the malloc to forward to; this process cannot run under allocmap");
		am_real.malloc = m; /* the callers below fail loudly rather than recurse */
		return am_heap_publish_mode(AM_HEAP_FORWARD);
	}
	am_real.malloc = m;
	if (am_heap_publish_mode(classify(m, before)) == AM_HEAP_FORWARD)
		return AM_HEAP_FORWARD;
	if (am_heap_mode == AM_HEAP_BYPASSED)
		am_log("another malloc is resolved before allocmap's; heap chunks are not indexed "
		       "(queries answer at the mapping level)");
	else if (am_heap_mode == AM_HEAP_FOREIGN)
		am_log("malloc is not glibc's; its chunks are indexed by the sizes the program asks for");
	return am_heap_mode;
}
