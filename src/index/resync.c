/* Making the mapping index agree with the kernel: at start-up, after
 * every loader change (dlopen/dlclose map objects through ld.so's own
 * system-call wrappers, which no hook sees), in a forked child, and after
 * a dropped event. Also plugs holes in loaded objects.
 *
 * The writer holds the index lock for the whole walk of /proc/self/maps.
 * A thread whose mapping call races with the walk applies its own event
 * after the walk (it waits for the lock), so the end state is exact.
 * Maps the index has where the kernel has a mapping keep their records —
 * sequence, origin, caller, heap bitmap — whatever extent and protection
 * the kernel shows for them (it splits and merges mappings at will, and
 * an mprotect racing the walk shows before its event): a protection that
 * differs is changed in place, a hole is filled (by the growth of the map
 * next to it, for a stack or the brk heap; else by a new sequence). Only
 * the pieces of a loaded object that ld.so mapped as plain mmaps are
 * recorded anew, into the object's sequence.
 */
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "../palloc/palloc.h"
#include "../sys/procmaps.h"
#include "../sys/syscall.h"
#include "internal.h"
#include "pageindex.h"
#include "records.h"
#include "../sys/page.h"
#include "../sys/pages.h"
#include "../sys/elfsym.h"

#define MAX_OBJECTS 1024 /* loaded objects grouped per walk; more stay unnested */

struct object {
	uintptr_t lo, hi;       /* span of the PT_LOAD segments, page-rounded */
	uintptr_t relro_lo, relro_hi; /* PT_GNU_RELRO as ld.so will protect it */
	const char *name;       /* the loader's name ("" for the executable) */
	struct am_seq *seq;     /* found or made during the walk */
	int is_new;             /* its sequence was made by this walk */
};

static struct object objects[MAX_OBJECTS];
static int nobjects;
static uint64_t holes_plugged;
/* The objects as a fork's prepare handler saw them, and whether walks use
 * that snapshot (in a forked child, until the loader is seen working). */
static struct object forked[MAX_OBJECTS];
static int nforked, use_forked;

struct object_list {
	struct object *o;
	int *n;
};

static int collect_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct object_list *l = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0, rlo = 0, rhi = 0;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
		if (ph->p_type == PT_GNU_RELRO) /* rounded as ld.so's _dl_protect_relro does */
			rlo = am_page_down(a), rhi = am_page_down(b);
		if (ph->p_type != PT_LOAD)
			continue;
		lo = a < lo ? a : lo;
		hi = b > hi ? b : hi;
	}
	if (hi > lo && *l->n < MAX_OBJECTS)
		l->o[(*l->n)++] = (struct object){am_page_down(lo), am_page_up(hi),
						  rlo, rhi, info->dlpi_name, NULL, 0};
	return 0;
}

/* The loaded objects into objects[]: from the loader, or in a forked
 * child from the snapshot its parent took (dl_iterate_phdr there would
 * wait forever for the loader's lock if a thread the child does not have
 * held it at the fork). */
static void collect_objects(void)
{
	if (__atomic_load_n(&use_forked, __ATOMIC_ACQUIRE)) {
		memcpy(objects, forked, (size_t)nforked * sizeof *objects);
		nobjects = nforked;
		return;
	}
	nobjects = 0;
	dl_iterate_phdr(collect_object, &(struct object_list){objects, &nobjects});
}

void am_index_prefork(void)
{
	if (!am_ix.ready)
		return;
	nforked = 0;
	dl_iterate_phdr(collect_object, &(struct object_list){forked, &nforked});
}

void am_index_forked_child(void) { __atomic_store_n(&use_forked, 1, __ATOMIC_RELEASE); }

static struct object *object_at(uintptr_t a)
{
	for (int i = 0; i < nobjects; i++)
		if (a >= objects[i].lo && a < objects[i].hi)
			return &objects[i];
	return NULL;
}

/* The next address after pos where classification may change. */
static uintptr_t next_cut(uintptr_t pos, uintptr_t hi)
{
	uintptr_t l1lo, l1hi;
	am_pageindex_region(&l1lo, &l1hi);
	uintptr_t cuts[4] = {(uintptr_t)am_tier_nommap.base, (uintptr_t)am_tier_nommap.limit, l1lo, l1hi};
	for (int i = 0; i < 4; i++)
		if (cuts[i] > pos && cuts[i] < hi)
			hi = cuts[i];
	for (int i = 0; i < nobjects; i++) {
		if (objects[i].lo > pos && objects[i].lo < hi)
			hi = objects[i].lo;
		if (objects[i].hi > pos && objects[i].hi < hi)
			hi = objects[i].hi;
	}
	return hi;
}

static enum am_origin self_origin(uintptr_t a)
{
	uintptr_t l1lo, l1hi;
	void *base;
	size_t size;
	am_pageindex_region(&l1lo, &l1hi);
	if (a >= (uintptr_t)am_tier_nommap.base && a < (uintptr_t)am_tier_nommap.limit)
		return AM_ORIGIN_NOMMAP;
	if (a >= l1lo && a < l1hi)
		return AM_ORIGIN_SELF;
	if (am_palloc_owns(&am_tier_mmap, (void *)a, &base, &size) >= 0)
		return AM_ORIGIN_MMAPTIER;
	return AM_ORIGIN_COUNT;
}

static enum am_origin classify(const struct am_maps_entry *e, uintptr_t a)
{
	enum am_origin o = self_origin(a);
	if (o != AM_ORIGIN_COUNT)
		return o;
	if (!strcmp(e->path, "[heap]"))
		return AM_ORIGIN_BRK;
	if (!strncmp(e->path, "[stack", 6))
		return AM_ORIGIN_STACK;
	if (!strcmp(e->path, "[vdso]") || !strcmp(e->path, "[vvar]") || !strcmp(e->path, "[vsyscall]"))
		return AM_ORIGIN_KERNEL;
	if (object_at(a))
		return AM_ORIGIN_OBJECT;
	return e->path[0] == '/' ? AM_ORIGIN_MMAP : AM_ORIGIN_PREEXISTING;
}

/* Does map m hold what entry e does at the same address: the same file
 * offset, when both are a file's? A map left from a mapping the program
 * no longer has (an object dlclosed, another's segment in its place,
 * before a walk) may lie where the kernel has another. */
static int same_backing(const struct am_map *m, const struct am_maps_entry *e)
{
	return am_ix_offset_agrees(m, e->lo, e->offset, e->inode != 0);
}

/* Does the index describe [lo, hi) of entry e exactly (and, if object, as
 * a loaded object's)? ld.so's own mmaps of an object arrive as plain
 * mmaps (caller in ld.so): the walk regroups them into the object. */
static int agrees(const struct am_maps_entry *e, uintptr_t lo, uintptr_t hi, int object)
{
	uintptr_t pos = lo;
	for (size_t i = am_ix_first_above(lo); i < am_ix.n && am_ix.arr[i]->lo < hi; i++) {
		if (am_ix.arr[i]->lo != pos || am_ix.arr[i]->prot != e->prot || !same_backing(am_ix.arr[i], e) ||
		    (object && am_ix.arr[i]->seq->origin != AM_ORIGIN_OBJECT))
			return 0;
		pos = am_ix.arr[i]->hi;
	}
	return pos == hi;
}

/* The object's sequence already in the index, or NULL. */
static struct am_seq *find_object_seq(struct object *o)
{
	for (size_t i = am_ix_first_above(o->lo); !o->seq && i < am_ix.n && am_ix.arr[i]->lo < o->hi; i++)
		if (am_ix.arr[i]->seq->origin == AM_ORIGIN_OBJECT)
			o->seq = am_ix.arr[i]->seq;
	return o->seq;
}

/* The sequence for object o: one already in the index, or a new one. */
static struct am_seq *object_seq(struct object *o, struct am_path *path)
{
	if (!find_object_seq(o)) {
		o->seq = am_seq_new(o->lo, o->hi, AM_ORIGIN_OBJECT, NULL, path);
		o->is_new = 1;
	}
	return o->seq;
}

static void note_brk(enum am_origin o, uintptr_t lo, uintptr_t hi)
{
	if (o != AM_ORIGIN_BRK)
		return;
	if (!am_ix.brk_start || lo < am_ix.brk_start)
		am_ix.brk_start = lo;
	if (hi > am_ix.brk_top)
		am_ix.brk_top = hi;
}

/* The flags a map of entry e gets: the main stack grows down. */
static int entry_flags(const struct am_maps_entry *e)
{
	int anon = e->inode == 0 && e->path[0] != '/';
	return (e->shared ? MAP_SHARED : MAP_PRIVATE) | (anon ? MAP_ANONYMOUS : 0) |
	       (!strncmp(e->path, "[stack]", 7) ? MAP_GROWSDOWN : 0);
}

/* Records [lo, hi) of entry e anew: in its object's sequence, or a new one. */
static void record_piece(const struct am_maps_entry *e, uintptr_t lo, uintptr_t hi, enum am_origin o)
{
	struct am_path *path = am_path_new(e->path[0] == '[' ? NULL : e->path);
	struct am_seq *seq = o == AM_ORIGIN_OBJECT ? object_seq(object_at(lo), path) : NULL;
	am_ix_unmap(lo, hi);
	am_ix_map_new(lo, hi, e->prot, entry_flags(e), e->offset + (lo - e->lo), path, o, NULL, seq);
	am_path_unref(path);
	note_brk(o, lo, hi);
}

/* [lo, hi) of entry e, which the index lacks, is the kernel's growth of
 * the map next to it in the same entry — a stack (MAP_GROWSDOWN) down
 * from hi, the brk heap up from lo: that map is extended. 0 if it was. */
static int grow_neighbour(const struct am_maps_entry *e, uintptr_t lo, uintptr_t hi)
{
	size_t i = am_ix_first_above(hi);
	if (hi < e->hi && i < am_ix.n && am_ix.arr[i]->lo == hi && (am_ix.arr[i]->flags & MAP_GROWSDOWN)) {
		am_ix_extend(am_ix.arr[i], lo, am_ix.arr[i]->hi);
		return 0;
	}
	i = am_ix_first_above(lo - 1);
	if (lo > e->lo && i < am_ix.n && am_ix.arr[i]->hi == lo && am_ix.arr[i]->seq->origin == AM_ORIGIN_BRK &&
	    am_ix.arr[i]->prot == e->prot) {
		note_brk(AM_ORIGIN_BRK, lo, hi);
		am_ix_extend(am_ix.arr[i], am_ix.arr[i]->lo, hi);
		return 0;
	}
	return -1;
}

/* Whether the index has maps in [lo, hi) that are not a loaded object's. */
static int has_foreign(uintptr_t lo, uintptr_t hi)
{
	for (size_t i = am_ix_first_above(lo); i < am_ix.n && am_ix.arr[i]->lo < hi; i++)
		if (am_ix.arr[i]->seq->origin != AM_ORIGIN_OBJECT)
			return 1;
	return 0;
}

/* Makes the index agree with the kernel's [lo, hi) while keeping the maps
 * it has there — their sequences, sites and heap bitmaps: a protection
 * that differs (an mprotect racing the walk) is changed in place, a hole
 * is filled (a neighbour's growth, or a mapping not seen), a map of
 * another file offset is recorded anew. */
static void patch_piece(const struct am_maps_entry *e, uintptr_t lo, uintptr_t hi, enum am_origin o)
{
	for (uintptr_t pos = lo; pos < hi;) {
		size_t i = am_ix_first_above(pos);
		struct am_map *m = i < am_ix.n && am_ix.arr[i]->lo < hi ? am_ix.arr[i] : NULL;
		uintptr_t end = !m ? hi : m->lo > pos ? m->lo : m->hi < hi ? m->hi : hi;
		if ((!m || m->lo > pos) && grow_neighbour(e, pos, end) != 0)
			record_piece(e, pos, end, o);
		else if (m && m->lo <= pos && !same_backing(m, e))
			record_piece(e, pos, end, o);
		else if (m && m->lo <= pos && m->prot != e->prot)
			am_ix_protect(pos, end, e->prot);
		pos = end;
	}
}

static void apply_piece(const struct am_maps_entry *e, uintptr_t lo, uintptr_t hi)
{
	enum am_origin o = classify(e, lo);
	if (agrees(e, lo, hi, o == AM_ORIGIN_OBJECT))
		return;
	/* ld.so's own mmaps of an object arrive as plain mmaps: the walk
	 * regroups them into the object */
	if (o == AM_ORIGIN_OBJECT && has_foreign(lo, hi))
		record_piece(e, lo, hi, o);
	else
		patch_piece(e, lo, hi, o);
}

static int apply_entry(const struct am_maps_entry *e, void *arg)
{
	uintptr_t *prev_hi = arg;
	if (!strcmp(e->path, "[stack]"))
		am_ix_note_stack(e->hi);
	if (e->lo > *prev_hi)
		am_ix_unmap(*prev_hi, e->lo); /* the kernel has nothing there */
	for (uintptr_t pos = e->lo; pos < e->hi;) {
		uintptr_t cut = next_cut(pos, e->hi);
		apply_piece(e, pos, cut);
		pos = cut;
	}
	*prev_hi = e->hi;
	return 0;
}

/* Maps PROT_NONE over [lo, hi) inside object o, owned by it. */
static void plug(struct object *o, uintptr_t lo, uintptr_t hi)
{
	if (!am_pages_map_at(lo, hi - lo, PROT_NONE))
		return;
	if (o->seq && am_ix_map_new(lo, hi, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, 0, o->seq->path,
				    AM_ORIGIN_OBJECT, NULL, o->seq) == 0)
		holes_plugged++;
}

static void plug_holes(struct object *o)
{
	uintptr_t pos = o->lo;
	for (size_t i = am_ix_first_above(o->lo); i < am_ix.n && am_ix.arr[i]->lo < o->hi; i++) {
		struct am_map *m = am_ix.arr[i];
		if (m->lo > pos) {
			plug(o, pos, m->lo);
			i = am_ix_first_above(m->lo); /* the plug shifted the array */
		}
		pos = m->hi;
	}
	if (pos > o->lo && pos < o->hi)
		plug(o, pos, o->hi);
}

/* A walk of the maps; at_loader: the loader's link map just became
 * consistent (am_ev_loader), so a new object's RELRO is about to become
 * read-only. Any other walk can come while a dlopen is under way, before
 * the object is relocated: there the kernel's protection stands. */
static int resync_locked(int at_loader)
{
	uintptr_t prev_hi = 0;
	collect_objects();
	int rc = am_procmaps_read(apply_entry, &prev_hi);
	if (rc == 0)
		am_ix_unmap(prev_hi, AM_USER_TOP);
	for (int i = 0; i < nobjects; i++) {
		am_seq_drop_if_empty(objects[i].seq); /* made, then no map joined */
		objects[i].seq = NULL;
		if (rc != 0 || !find_object_seq(&objects[i]))
			continue;
		if (objects[i].is_new) /* a range unmapped from an object later is not its */
			plug_holes(&objects[i]);
		/* ld.so applies RELRO after telling the debugger hook; a new
		 * object's RELRO is about to become read-only */
		if (at_loader && objects[i].is_new && objects[i].relro_lo < objects[i].relro_hi)
			am_ix_protect(objects[i].relro_lo, objects[i].relro_hi, PROT_READ);
	}
	am_ix.events[AM_EV_RESYNC]++;
	return rc;
}

int am_ix_resync_locked(void) { return resync_locked(0); }

static int resync(int at_loader)
{
	if (!am_ix.ready || am_ix_begin() != 0)
		return am_ix_dropped();
	int rc = resync_locked(at_loader);
	am_ix_end();
	return rc;
}

int am_index_resync(void) { return resync(0); }

void am_index_resync_later(void) { __atomic_store_n(&am_ix.resync_pending, 1, __ATOMIC_RELEASE); }

int am_index_loader_resync(void)
{
	__atomic_store_n(&use_forked, 0, __ATOMIC_RELEASE); /* a dlopen or dlclose got the lock */
	return resync(1);
}

uint64_t am_index_holes_plugged(void) { return holes_plugged; }

/* The library's own text, for the self-call check (strat.c): only when it
 * is an object of its own; linked into a program, its text is the
 * program's too. */
static void own_text_init(void)
{
	uintptr_t lo, hi;
	if (am_elf_own_text(&lo, &hi))
		am_strat_set_own_text(lo, hi);
}

int am_index_init(void)
{
	own_text_init();
	am_pageindex_init();
	long brk = am_sys_brk(NULL);
	am_ix.ready = 1;
	if (am_ix_begin() != 0)
		return -1;
	int rc = am_ix_resync_locked();
	if (!am_ix.brk_start && !am_sys_failed(brk))
		am_ix.brk_start = am_ix.brk_top = (uintptr_t)brk;
	am_ix_end();
	return rc;
}

/* A writer makes seq odd while it changes anything (internal.h); a lock
 * held with seq even is a removal's bracket, or a writer before or after
 * its change: the structures are whole. */
int am_index_held_at_fork(void) { return am_ix.lock.state != 0 && (am_ix.seq & 1); }

void am_index_unlock_child(void)
{
	am_ix.lock.state = 0;
	am_ix.holder = NULL;
}

void am_index_rebuild_child(void)
{
	if (!am_ix.ready)
		return;
	am_ix.lock.state = 0;
	am_ix.holder = NULL;
	am_ix.seq &= ~1u;
	am_ix.arr = NULL;
	am_ix.n = am_ix.cap = 0;
	am_records_reset();
	am_pageindex_reset();
	if (am_ix_begin() == 0) {
		am_ix_resync_locked();
		am_ix_end();
	}
}
