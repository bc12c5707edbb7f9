/* allocmap_check: the index against the kernel's /proc/self/maps, plus
 * the index's and the private tiers' own invariants, the heap index
 * against the chunks it records (src/heap/heapcheck.c), and every breach
 * of stratification seen since start-up (src/index/strat.c).
 *
 * Holds the index lock while it reads the maps, so the index cannot move
 * under it; other threads' mapping calls in flight at that moment can
 * show up as discrepancies — run it when the program is quiescent. A
 * stack's growth, which the kernel makes on a fault with no call to see,
 * is not one: the index follows it here (and at every re-read of the
 * maps, index/resync.c). A re-read the index has pending (a dropped
 * event, a forked child) is made first. When the maps cannot be read (no
 * file descriptor left) or the index is not running, the check says so
 * and why, and returns -1: it reports nothing it could not compare.
 */
#include <errno.h>
#include <sys/mman.h>

#include "../include/allocmap.h"
#include "heap/heap.h"
#include "index/internal.h"
#include "sys/log.h"
#include "palloc/palloc.h"
#include "sys/procmaps.h"
#include "sys/syscall.h"

struct check {
	int fd;
	int count;
	int entries;       /* kernel entries compared */
	size_t cursor;     /* next index map not yet compared */
	uintptr_t prev_hi; /* end of the previous kernel entry */
};

static void report(struct check *c, const char *what, uintptr_t lo, uintptr_t hi, int kprot, int iprot)
{
	char line[200];
	c->count++;
	if (c->fd < 0)
		return;
	size_t n = am_fmt(line, sizeof line, "allocmap: check: %s %p-%p (kernel prot %d, index prot %d)\n",
			  what, (void *)lo, (void *)hi, kprot, iprot);
	am_sys_write_all(c->fd, line, n);
}

/* Index maps wholly before lo exist only in the index. */
static void report_stale(struct check *c, const struct am_map *m, uintptr_t lo, uintptr_t hi)
{
	char what[120];
	am_fmt(what, sizeof what, "indexed (%s, caller %p) but not mapped:",
	       am_origin_name((enum am_origin)m->seq->origin), m->seq->caller ? m->seq->caller : m->caller);
	report(c, what, lo, hi, -1, m->prot);
}

static void skip_stale(struct check *c, uintptr_t lo)
{
	while (c->cursor < am_ix.n && am_ix.arr[c->cursor]->hi <= lo) {
		struct am_map *m = am_ix.arr[c->cursor++];
		report_stale(c, m, m->lo, m->hi);
	}
}

/* The kernel grows a stack (the main thread's, a MAP_GROWSDOWN mapping)
 * on a fault, with no call to see: when entry e starts below such a map
 * of the index, with nothing indexed between, the map follows it down. */
static void follow_growth(struct check *c, const struct am_maps_entry *e)
{
	struct am_map *m = c->cursor < am_ix.n ? am_ix.arr[c->cursor] : NULL;
	if (m && (m->flags & MAP_GROWSDOWN) && e->lo < m->lo && m->lo < e->hi && m->prot == e->prot &&
	    (c->cursor == 0 || am_ix.arr[c->cursor - 1]->hi <= e->lo))
		am_ix_extend(m, e->lo, m->hi);
}

static int compare_entry(const struct am_maps_entry *e, void *arg)
{
	struct check *c = arg;
	uintptr_t pos = e->lo;
	c->entries++;
	skip_stale(c, e->lo);
	follow_growth(c, e);
	if (c->cursor < am_ix.n && am_ix.arr[c->cursor]->lo < e->lo && c->prev_hi < e->lo)
		report_stale(c, am_ix.arr[c->cursor], c->prev_hi, e->lo);
	c->prev_hi = e->hi;
	while (pos < e->hi) {
		struct am_map *m = c->cursor < am_ix.n ? am_ix.arr[c->cursor] : NULL;
		if (!m || m->lo >= e->hi) {
			report(c, "mapped but not indexed", pos, e->hi, e->prot, -1);
			return 0;
		}
		if (m->lo > pos)
			report(c, "mapped but not indexed", pos, m->lo, e->prot, -1);
		/* m->lo < pos: m continues from the previous kernel entry (the
		 * kernel split a VMA, e.g. for madvise): fine if prot agrees */
		if (m->prot != e->prot)
			report(c, "protection differs", m->lo, m->hi, e->prot, m->prot);
		else if (!am_ix_offset_agrees(m, e->lo, e->offset, e->inode != 0))
			report(c, "file offset differs", m->lo, m->hi, e->prot, m->prot);
		pos = m->hi;
		if (m->hi <= e->hi)
			c->cursor++;
	}
	return 0;
}

static void say(int fd, const char *line, size_t n)
{
	if (fd >= 0)
		am_sys_write_all(fd, line, n);
}

/* Why the maps could not be read (rc: a negative errno). */
static void cannot_read(int fd, int rc, int entries)
{
	char line[200];
	const char *why = rc == -EMFILE   ? " (too many open files: RLIMIT_NOFILE)"
			  : rc == -ENFILE ? " (too many open files in the system)"
			  : rc == -EACCES ? " (permission denied)"
			  : rc == -ENOENT ? " (is /proc mounted?)"
					  : "";
	size_t n = am_fmt(line, sizeof line, "allocmap: check: cannot read /proc/self/maps: error %d%s; %s\n", -rc,
			  why, entries ? "the check stopped part-way" : "the check could not run");
	say(fd, line, n);
}

static int check_maps(int fd)
{
	struct check c = {fd, 0, 0, 0, 0};
	if (am_ix_begin() != 0)
		return -1;
	if (__atomic_exchange_n(&am_ix.resync_pending, 0, __ATOMIC_ACQUIRE))
		am_ix_resync_locked(); /* what the index knows it must re-read, first */
	int rc = am_procmaps_read(compare_entry, &c);
	if (rc >= 0)
		skip_stale(&c, UINTPTR_MAX); /* unread, the kernel's maps are unknown, not empty */
	am_ix_end();
	if (rc < 0)
		cannot_read(fd, rc, c.entries);
	return rc < 0 ? -1 : c.count;
}

static int count_invariant(int fd, const char *what, size_t n)
{
	if (n && fd >= 0) {
		char line[160];
		size_t k = am_fmt(line, sizeof line, "allocmap: check: %zu broken invariants in %s\n", n, what);
		am_sys_write_all(fd, line, k);
	}
	return (int)n;
}

int allocmap_check(int fd)
{
	static const char off[] = "allocmap: check: the index is not running (ALLOCMAP_DISABLE, or its memory could "
				  "not be reserved); the check could not run\n";
	if (!am_ix.ready) {
		say(fd, off, sizeof off - 1);
		return -1;
	}
	int n = check_maps(fd);
	if (n < 0)
		return -1;
	n += count_invariant(fd, "the mapping index", am_index_validate());
	n += count_invariant(fd, "the no-mmap tier", am_palloc_validate(&am_tier_nommap));
	n += count_invariant(fd, "the mmap tier", am_palloc_validate(&am_tier_mmap));
	n += (int)am_heap_validate(fd);
	n += count_invariant(fd, "stratification (recursion into the index deeper than 1)", am_strat_validate());
	return n;
}
