/* Which malloc the heap index follows, and the entries it forwards to.
 *
 * The mode starts UNRESOLVED; the interception layer finds the allocator
 * (hook/forward.c) and publishes the mode once, last, after am_real is
 * filled in, so a thread that reads a resolved mode also sees am_real.
 * A later publish never undoes am_heap_forward_only.
 */
#include "heap.h"

struct am_real_malloc am_real;
enum am_heap_mode am_heap_mode;
const void *am_heap_brk_site;

enum am_heap_mode am_heap_publish_mode(enum am_heap_mode m)
{
	enum am_heap_mode unresolved = AM_HEAP_UNRESOLVED;
	__atomic_compare_exchange_n(&am_heap_mode, &unresolved, m, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	return __atomic_load_n(&am_heap_mode, __ATOMIC_ACQUIRE);
}

void am_heap_forward_only(void)
{
	if (am_heap_indexed(am_heap_mode))
		__atomic_store_n(&am_heap_mode, AM_HEAP_FORWARD, __ATOMIC_RELEASE);
}
