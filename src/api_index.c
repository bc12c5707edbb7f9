/* allocmap_index_stats and allocmap_event_stats: the mapping index's
 * figures for the public API. Thin copies of am_index_stats
 * (src/index/mapindex.h) and am_pages_counts (src/sys/pages.h); no lock,
 * no allocation, safe from any thread and from signal handlers.
 */
#include <string.h>

#include "../include/allocmap.h"
#include "index/internal.h"
#include "sys/pages.h"

static uint64_t applied(const struct am_index_stats *st)
{
	uint64_t n = 0;
	for (int e = AM_EV_MMAP; e <= AM_EV_LOADER; e++)
		n += st->events[e];
	return n;
}

/* Zeroes out (size bytes) and reads the index's figures into *st; 0, or
 * -1 for NULL out or before start-up. */
static int read_stats(void *out, size_t size, struct am_index_stats *st)
{
	if (!out)
		return -1;
	memset(out, 0, size);
	if (!am_ix.ready)
		return -1;
	am_index_stats(st);
	return 0;
}

int allocmap_index_stats(struct allocmap_index_stats *out)
{
	struct am_index_stats st;
	if (read_stats(out, sizeof *out, &st) != 0)
		return -1;
	out->maps = st.maps;
	out->sequences = st.seqs;
	out->events = applied(&st);
	out->resyncs = st.events[AM_EV_RESYNC];
	out->dropped = st.events[AM_EV_DROPPED];
	out->missed = st.missed;
	out->holes_plugged = st.holes_plugged;
	out->max_depth = st.max_depth;
	out->depth_violations = st.depth_violations;
	out->page_index = st.page_index;
	return 0;
}

int allocmap_event_stats(struct allocmap_event_stats *out)
{
	struct am_index_stats st;
	if (read_stats(out, sizeof *out, &st) != 0)
		return -1;
	out->mmap = st.events[AM_EV_MMAP];
	out->munmap = st.events[AM_EV_MUNMAP];
	out->mprotect = st.events[AM_EV_MPROTECT];
	out->mremap = st.events[AM_EV_MREMAP];
	out->brk = st.events[AM_EV_BRK];
	out->loader = st.events[AM_EV_LOADER];
	am_pages_counts(&out->own_placed, &out->own_unplaced);
	return 0;
}
