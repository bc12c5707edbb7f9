/* The live file's module table: each loaded object's path, load bias and
 * extent (its PT_LOAD segments), so that the CLI can symbolise a dead
 * process's sites; with stacks on, the unwinder's object table is read
 * again at the same moments. Rewritten whole, under the file's seqlock, at start-up
 * and after each loader change (the index's loader event calls it, with
 * the loader's lock held: dl_iterate_phdr takes only the loader's write
 * lock, which that path does not hold — the index's own resync does the
 * same). The main program's name is empty in the loader's list: its
 * path is the process's exe. Objects past the table's size are counted
 * in `truncated`.
 */
#include <link.h>

#include "../sys/unwind.h"
#include "live.h"

void am_live_copy(char *to, size_t cap, const char *from)
{
	size_t i = 0;
	for (; from && from[i] && i + 1 < cap; i++)
		to[i] = from[i];
	to[i] = '\0';
}

static int add_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct allocmap_live *L = arg;
	struct allocmap_live_modules *m = &L->modules;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		lo = ph->p_vaddr < lo ? ph->p_vaddr : lo;
		hi = ph->p_vaddr + ph->p_memsz > hi ? ph->p_vaddr + ph->p_memsz : hi;
	}
	if (hi == 0)
		return 0;
	if (m->count >= ALLOCMAP_LIVE_MODULES) {
		m->truncated = 1;
		return 0;
	}
	struct allocmap_live_module *row = &m->row[m->count++];
	row->bias = info->dlpi_addr;
	row->base = info->dlpi_addr + lo;
	row->end = info->dlpi_addr + hi;
	am_live_copy(row->path, ALLOCMAP_LIVE_PATH, info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : L->process.exe);
	return 0;
}

void am_live_modules(void)
{
	struct allocmap_live *L = am_live_mine();
	if (!L)
		return;
	if (L->header.stack_depth)
		am_unwind_refresh();
	am_live_write_begin(L);
	L->modules.count = 0;
	L->modules.truncated = 0;
	L->modules.changes++;
	dl_iterate_phdr(add_object, L);
	am_live_write_end(L);
}
