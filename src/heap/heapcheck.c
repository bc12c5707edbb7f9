/* The heap index against the memory it describes, for allocmap_check.
 *
 * For every arena bitmap, each recorded chunk start must be a chunk glibc
 * has in use: its size word sane (not mmapped, at least 32 bytes, inside
 * the arena), the next chunk's PREV_INUSE bit set, its trailer's slack
 * within the chunk, and no chunk overlapping the one before. No bit may
 * lie outside the arena's sequence. A chunk that is its own mapping must
 * have a size word that fits its mapping. Only readable maps are read,
 * under the index lock (nothing can be unmapped meanwhile). A chunk found
 * wrong is reported only if its bit is still set afterwards (another
 * thread may have freed it meanwhile); a free and a malloc of the same
 * chunk in that window can still show — run it when the program is
 * quiescent, as allocmap_check says.
 * What it cannot see: a live chunk whose bit is missing (glibc's cached
 * free chunks look in use too); the unindexed counter covers the known
 * cause, a bitmap that could not be made.
 */
#include <sys/mman.h>

#include "../log.h"
#include "../index/mapindex.h"
#include "../sys/syscall.h"
#include "heap.h"
#include "heapmeta.h"

struct vcheck {
	int fd;
	size_t bad;
	uintptr_t prev_end; /* where the previous chunk of this map ends */
	const struct am_map_view *view; /* the map being checked */
};

/* Whether a's bit is still set in the map's arena bitmap: a chunk freed
 * by another thread while it was checked is not a discrepancy. */
static int still_recorded(const struct vcheck *c, uintptr_t a)
{
	const struct am_heapmeta *m = c->view->heap;
	const uint64_t *leaf = am_heapmeta_leaf(m, a - m->base);
	size_t i = ((a - m->base) & (LEAF_COVER - 1)) / UNIT;
	return leaf && (__atomic_load_n(&leaf[i / 64], __ATOMIC_ACQUIRE) >> (i % 64) & 1);
}

static void report(struct vcheck *c, const char *what, uintptr_t a)
{
	char line[160];
	c->bad++;
	if (c->fd < 0)
		return;
	size_t n = am_fmt(line, sizeof line, "allocmap: check: heap index: %s at %p\n", what, (void *)a);
	am_sys_write_all(c->fd, line, n);
}

/* A discrepancy at a recorded chunk start a, unless it was freed meanwhile. */
static void bad(struct vcheck *c, const char *what, uintptr_t a)
{
	if (still_recorded(c, a))
		report(c, what, a);
}

static size_t word_at(uintptr_t a) { return *(const size_t *)a; }

/* The chunk whose user pointer is a, inside the readable map [lo, hi) of
 * the arena [seq_lo, seq_hi). */
static void check_chunk(struct vcheck *c, uintptr_t a, const struct am_map_view *v)
{
	if (a < v->seq_lo + 16) {
		bad(c, "a chunk start at the arena's first bytes", a);
		return;
	}
	if (a - 8 < v->lo)
		return; /* its size word is in the map before */
	size_t w = word_at(a - 8), size = w & ~(size_t)7;
	if ((w & 2) || size < 32 || size > v->seq_hi - (a - 16)) {
		bad(c, "a chunk whose size word is not an arena chunk's", a);
		return;
	}
	if (a < c->prev_end)
		bad(c, "a chunk starting inside the one before", a);
	c->prev_end = a + size;
	if (a + size - 8 < v->hi && !(word_at(a + size - 8) & 1))
		bad(c, "a chunk glibc has free (the next chunk's PREV_INUSE is clear)", a);
	size_t usable = size - 16;
	uintptr_t t = a + usable;
	if (t + 8 <= v->hi && (word_at(t) >> 48) != SLACK_UNKNOWN && (word_at(t) >> 48) > usable)
		bad(c, "a chunk whose trailer's slack is larger than the chunk", a);
}

static int visit_chunk(uintptr_t a, void *arg)
{
	struct vcheck *c = arg;
	check_chunk(c, a, c->view);
	return 0;
}

static int visit_beyond(uintptr_t a, void *arg)
{
	bad(arg, "a chunk start outside its arena", a);
	return 0;
}

static void check_single(struct vcheck *c, const struct am_map_view *v)
{
	uintptr_t hdr = v->seq_lo + AM_HEAP_SINGLE_OFF(v->heap);
	if (hdr + 16 > v->hi || !(v->prot & PROT_READ))
		return;
	size_t w = word_at(hdr + 8);
	if (!(w & 2) || (w & ~(size_t)7) > v->seq_hi - hdr)
		report(c, "an mmapped chunk whose size word does not fit its mapping", hdr + 16);
}

static int check_map(const struct am_map_view *v, void *arg)
{
	struct vcheck *c = arg;
	if (!v->heap)
		return 0;
	if (AM_HEAP_IS_SINGLE(v->heap)) {
		if (v->lo == v->seq_lo)
			check_single(c, v);
		return 0;
	}
	c->prev_end = 0, c->view = v;
	if (v->prot & PROT_READ)
		am_heap_each_start(v->heap, v->lo, v->hi, v->seq_lo, visit_chunk, c);
	if (v->hi == v->seq_hi) /* a brk heap's bitmap covers more than its heap */
		am_heap_each_start(v->heap, v->seq_hi, UINTPTR_MAX, v->seq_lo, visit_beyond, c);
	return 0;
}

size_t am_heap_validate(int fd)
{
	struct vcheck c = {fd, 0, 0, NULL};
	if (am_heap_mode == AM_HEAP_GLIBC)
		am_index_each(check_map, &c);
	return c.bad;
}
