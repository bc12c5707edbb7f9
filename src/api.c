/* Small public entry points: tier statistics. */
#include "../include/allocmap.h"
#include "palloc/palloc.h"

int allocmap_tier_stats(enum allocmap_tier tier, struct allocmap_tier_stats *out)
{
	if (!out || (tier != ALLOCMAP_TIER_NOMMAP && tier != ALLOCMAP_TIER_MMAP))
		return -1;
	am_palloc_stats(tier == ALLOCMAP_TIER_NOMMAP ? &am_tier_nommap : &am_tier_mmap, out);
	return 0;
}
