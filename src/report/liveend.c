/* The end section of the live file (allocmap_live.h): written when the
 * process ends in a way the library sees — its destructor (exit or return
 * from main), _exit/_Exit, a successful execve — with the figures only the
 * end knows: RSS and peak RSS (VmRSS, VmHWM from /proc/self/status), the
 * address space by allocator and kind with resident bytes, allocmap's
 * own, the region table (each sequence's runs of mappings without a
 * gap, in address order) and the internal counters.
 *
 * Resident bytes are counted with mincore over each map of the index
 * (chosen over reading /proc/self/smaps, which is per-map text of ~20
 * lines: parsing it for thousands of maps costs more, and mincore needs
 * no parser): exact for anonymous memory; for a file mapping it counts
 * pages of the file in the page cache, which may not be mapped by us.
 * The walk runs under the index lock (am_index_each) and makes system
 * calls there: only at the end, when the program is leaving.
 */
#include <fcntl.h>

#include "../heap/heap.h"
#include "../heap/livestats.h"
#include "../index/mapindex.h"
#include "../index/selfmap.h"
#include "../sys/elfsym.h"
#include "../sys/syscall.h"
#include "live.h"
#include "../sys/pages.h"

#define VEC_PAGES 4096 /* pages per mincore call */

static int exit_status = -1, exit_known;

void am_live_exit_status(int status)
{
	exit_status = status;
	exit_known = 1;
}

/* The number after "key" in /proc/self/status, in bytes (it says kB). */
static uint64_t status_kb(const char *buf, const char *key)
{
	for (const char *p = buf; *p; p++) {
		size_t k = 0;
		while (key[k] && p[k] == key[k])
			k++;
		if (key[k])
			continue;
		uint64_t v = 0;
		for (p += k; *p == ' ' || *p == '\t'; p++)
			;
		for (; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		return v << 10;
	}
	return 0;
}

static void read_rss(struct allocmap_live_end_info *e)
{
	static char buf[4096];
	long fd = am_sys_open("/proc/self/status", O_RDONLY | O_CLOEXEC, 0), n = 0;
	if (am_sys_failed(fd))
		return;
	n = am_sys_read((int)fd, buf, sizeof buf - 1);
	am_sys_close((int)fd);
	buf[n > 0 ? n : 0] = '\0';
	e->rss_bytes = status_kb(buf, "VmRSS:");
	e->hwm_bytes = status_kb(buf, "VmHWM:");
}

static uint64_t resident(uintptr_t lo, uintptr_t hi)
{
	static unsigned char vec[VEC_PAGES];
	uint64_t pages = 0;
	size_t len;
	for (uintptr_t a = lo; a < hi; a += len) { /* hi may be the top of the address space */
		len = hi - a < ((size_t)VEC_PAGES << 12) ? hi - a : (size_t)VEC_PAGES << 12;
		if (am_sys_failed(am_sys_mincore((void *)a, len, vec)))
			continue;
		for (size_t i = 0; i < (len + 4095) >> 12; i++)
			pages += vec[i] & 1;
	}
	return pages << 12;
}

static int own(enum am_origin o) { return o == AM_ORIGIN_NOMMAP || o == AM_ORIGIN_MMAPTIER || o == AM_ORIGIN_SELF; }

static struct allocmap_live_space *row_for(struct allocmap_live_end_info *e, const char *name, unsigned kind)
{
	for (uint32_t i = 0; i < e->nspace; i++)
		if (e->space[i].kind == kind && __builtin_strcmp(e->space[i].allocator, name) == 0)
			return &e->space[i];
	if (e->nspace == ALLOCMAP_LIVE_SPACE)
		return NULL;
	struct allocmap_live_space *r = &e->space[e->nspace++];
	am_live_copy(r->allocator, sizeof r->allocator, name);
	r->kind = kind;
	return r;
}

/* Map m (resident bytes res) into the region table: it extends the last
 * region if it continues it in the same sequence; past the table's end
 * the last row takes it, counted as merged. */
static void add_region(struct allocmap_live_regions *t, const struct am_map_view *m, uint64_t res)
{
	struct allocmap_live_region *last = t->count ? &t->row[t->count - 1] : NULL;
	if (last && (last->end == m->lo && m->lo != m->seq_lo)) {
		last->end = m->hi, last->resident_bytes += res;
		return;
	}
	if (t->count == ALLOCMAP_LIVE_REGIONS) {
		last->end = m->hi, last->resident_bytes += res, t->merged++;
		return;
	}
	struct allocmap_live_region *r = &t->row[t->count++];
	*r = (struct allocmap_live_region){.start = m->lo, .end = m->hi, .resident_bytes = res,
					   .kind = am_origin_kind(m->origin, m->path != NULL), .prot = (uint32_t)m->prot};
	am_live_copy(r->allocator, sizeof r->allocator, am_origin_name(m->origin));
	am_live_copy(r->name, sizeof r->name, m->path ? am_path_base(m->path) : NULL);
}

struct end_walk {
	struct allocmap_live_end_info *e;
	struct allocmap_live_regions *regions;
};

static int add_map(const struct am_map_view *m, void *arg)
{
	struct end_walk *w = arg;
	struct allocmap_live_end_info *e = w->e;
	uint64_t res = resident(m->lo, m->hi);
	add_region(w->regions, m, res);
	struct allocmap_live_space *r = row_for(e, am_origin_name(m->origin), am_origin_kind(m->origin, m->path != NULL));
	if (r) {
		r->count += m->lo == m->seq_lo;
		r->virtual_bytes += m->hi - m->lo;
		r->resident_bytes += res;
	}
	if (own(m->origin)) {
		e->own_reserved += m->hi - m->lo;
		e->own_resident += res;
	}
	return 0;
}

static void counters(struct allocmap_live_end_info *e)
{
	struct am_index_stats s;
	uint64_t unnudged;
	am_index_stats(&s);
	for (int i = 0; i < AM_EV_DROPPED; i++)
		e->events += s.events[i];
	e->dropped = s.events[AM_EV_DROPPED];
	e->resyncs = s.events[AM_EV_RESYNC];
	e->holes_plugged = s.holes_plugged;
	e->missed = s.missed;
	e->unindexed_chunks = am_heap_unindexed();
	e->slow_path = am_heap_slow_path();
	am_pages_counts(&e->nudged, &unnudged);
}

void am_live_end(unsigned reason, int status, int status_known, int sig)
{
	struct allocmap_live *L = am_live_mine();
	if (!L)
		return;
	if (reason != ALLOCMAP_END_RUNNING)
		am_live_final_peak();
	am_live_write_begin(L);
	struct allocmap_live_end_info *e = &L->end;
	*e = (struct allocmap_live_end_info){.reason = reason, .signal = sig};
	e->status = status_known ? status : exit_known ? exit_status : 0;
	e->status_known = (uint32_t)(status_known || exit_known);
	L->regions.count = L->regions.merged = 0;
	if (reason != ALLOCMAP_END_RUNNING) {
		struct end_walk w = {e, &L->regions};
		e->end_ns = am_live_now(L);
		read_rss(e);
		am_index_each(add_map, &w);
		counters(e);
	}
	am_live_write_end(L);
}
