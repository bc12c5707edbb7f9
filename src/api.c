/* Small public entry points: tier statistics, kind names. */
#include "../include/allocmap.h"
#include "palloc/palloc.h"

int allocmap_tier_stats(enum allocmap_tier tier, struct allocmap_tier_stats *out)
{
	if (!out || (tier != ALLOCMAP_TIER_NOMMAP && tier != ALLOCMAP_TIER_MMAP))
		return -1;
	am_palloc_stats(tier == ALLOCMAP_TIER_NOMMAP ? &am_tier_nommap : &am_tier_mmap, out);
	return 0;
}

static const char *const kind_names[] = {
	[ALLOCMAP_UNKNOWN] = "unknown", [ALLOCMAP_HEAP_CHUNK] = "heap", [ALLOCMAP_ANON] = "anon",
	[ALLOCMAP_FILE] = "file",       [ALLOCMAP_OBJECT] = "object",   [ALLOCMAP_BRK] = "brk",
	[ALLOCMAP_STACK] = "stack",     [ALLOCMAP_SELF] = "self",       [ALLOCMAP_HEAP_FREE] = "heap-free",
};

const char *allocmap_kind_name(enum allocmap_kind kind)
{
	return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : NULL;
}
