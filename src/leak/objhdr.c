/* A loaded object's layout read from its own first page (its ELF header
 * and program headers, which the loader maps with the first segment):
 * the load bias, PT_GNU_RELRO and PT_TLS's size. For roots.c (RELRO, and
 * the extent of allocmap's own TLS block) and site.c (a
 * site's offset in its object's addresses). */
#include <elf.h>
#include <link.h>

#include "../sys/page.h"
#include "leak.h"

int am_leak_object_layout(uintptr_t lo, struct am_leak_object *out)
{
	const ElfW(Ehdr) *e = (const void *)lo;
	*out = (struct am_leak_object){0};
	if (e->e_ident[EI_MAG0] != ELFMAG0 || e->e_ident[EI_MAG1] != ELFMAG1 || e->e_ident[EI_MAG2] != ELFMAG2 ||
	    e->e_phoff + (size_t)e->e_phnum * sizeof(ElfW(Phdr)) > AM_PAGE_SIZE)
		return -1;
	const ElfW(Phdr) *ph = (const void *)(lo + e->e_phoff);
	uintptr_t first = UINTPTR_MAX, rlo = 0, rhi = 0;
	for (unsigned i = 0; i < e->e_phnum; i++) {
		if (ph[i].p_type == PT_TLS)
			out->tls_size = ph[i].p_memsz;
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < first)
			first = ph[i].p_vaddr;
		if (ph[i].p_type == PT_GNU_RELRO)
			rlo = ph[i].p_vaddr, rhi = ph[i].p_vaddr + ph[i].p_memsz;
	}
	if (first == UINTPTR_MAX)
		return -1;
	out->bias = lo - am_page_down(first);
	if (rhi > rlo)
		out->relro_lo = out->bias + rlo, out->relro_hi = out->bias + rhi;
	return 0;
}
