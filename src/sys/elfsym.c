/* Dynamic-symbol lookup over the link map: see elfsym.h for the contract.
 *
 * Owns no state. Each object is read through a struct dso built from its
 * .dynamic on every call (a handful of tags, so caching buys nothing on
 * an install path). ld.so rewrites most d_ptr entries of a writable
 * .dynamic to run-time addresses; a read-only one (the vDSO's) keeps
 * link-time offsets: dyn_addr() accepts both.
 */
#include "elfsym.h"

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>

struct dso {
	uintptr_t base;			/* l_addr: link-time to run-time bias */
	const ElfW(Sym) *sym;		/* DT_SYMTAB */
	const char *str;		/* DT_STRTAB */
	const uint32_t *gnu;		/* DT_GNU_HASH, or NULL */
	const uint32_t *sysv;		/* DT_HASH, or NULL */
	const ElfW(Versym) *ver;	/* DT_VERSYM, or NULL */
};

/* The best match so far: a default version beats a hidden one. */
struct found {
	const ElfW(Sym) *s;
	int hidden;
};

#define VERSYM_HIDDEN 0x8000

static uintptr_t dyn_addr(uintptr_t base, ElfW(Addr) v)
{
	return v < base ? base + v : v;
}

static void dso_tag(struct dso *d, const ElfW(Dyn) *dyn)
{
	const void *p = (const void *)dyn_addr(d->base, dyn->d_un.d_ptr);
	switch (dyn->d_tag) {
	case DT_SYMTAB: d->sym = p; break;
	case DT_STRTAB: d->str = p; break;
	case DT_GNU_HASH: d->gnu = p; break;
	case DT_HASH: d->sysv = p; break;
	case DT_VERSYM: d->ver = p; break;
	}
}

static int dso_open(const struct link_map *l, struct dso *d)
{
	*d = (struct dso){.base = l->l_addr};
	if (!l->l_ld)
		return -1;
	for (const ElfW(Dyn) *dyn = l->l_ld; dyn->d_tag != DT_NULL; dyn++)
		dso_tag(d, dyn);
	return d->sym && d->str && (d->gnu || d->sysv) ? 0 : -1;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static int contains(const char *hay, const char *needle)
{
	for (;; hay++) {
		const char *h = hay, *n = needle;
		while (*n && *h == *n)
			h++, n++;
		if (!*n)
			return 1;
		if (!*hay)
			return 0;
	}
}

const char *am_path_base(const char *path)
{
	const char *b = path ? path : "";
	for (const char *p = b; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static uint32_t sysv_hash(const char *s)
{
	uint32_t h = 0;
	while (*s) {
		h = (h << 4) + (unsigned char)*s++;
		h ^= (h >> 24) & 0xf0;
		h &= 0x0fffffff;
	}
	return h;
}

static void consider(const struct dso *d, uint32_t i, const char *name, struct found *f)
{
	const ElfW(Sym) *s = &d->sym[i];
	if (s->st_shndx == SHN_UNDEF || !streq(d->str + s->st_name, name))
		return;
	int hidden = d->ver && (d->ver[i] & VERSYM_HIDDEN);
	if (!f->s || (f->hidden && !hidden))
		*f = (struct found){s, hidden};
}

/* The GNU hash section: nbucket, symoffset, bloom words, bloom shift,
 * then bloom[], bucket[], chain[] (chain[i - symoffset] is symbol i's
 * hash with bit 0 marking the end of a bucket's run). */
static void gnu_find(const struct dso *d, const char *name, struct found *f)
{
	const uint32_t *h = d->gnu;
	uint32_t nb = h[0], off = h[1], nbloom = h[2], shift = h[3];
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(h + 4);
	const uint32_t *bucket = (const uint32_t *)(bloom + nbloom);
	const uint32_t *chain = bucket + nb;
	uint32_t hv = gnu_hash(name), bits = sizeof(ElfW(Addr)) * 8;
	if (!nb || !nbloom)
		return;
	ElfW(Addr) w = bloom[(hv / bits) % nbloom];
	if (!((w >> (hv % bits)) & (w >> ((hv >> shift) % bits)) & 1))
		return;
	uint32_t i = bucket[hv % nb];
	for (; i && i >= off; i++) {
		if ((chain[i - off] | 1) == (hv | 1))
			consider(d, i, name, f);
		if (chain[i - off] & 1)
			break;
	}
}

/* DT_HASH: nbucket, nchain, bucket[], chain[]; chains end at index 0. */
static void sysv_find(const struct dso *d, const char *name, struct found *f)
{
	const uint32_t *h = d->sysv;
	uint32_t nb = h[0], nchain = h[1], n = 0;
	const uint32_t *bucket = h + 2, *chain = bucket + nb;
	if (!nb)
		return;
	for (uint32_t i = bucket[sysv_hash(name) % nb]; i && i < nchain && n++ < nchain; i = chain[i])
		consider(d, i, name, f);
}

static void *sym_addr(const struct dso *d, const ElfW(Sym) *s, size_t *size)
{
	int type = ELF64_ST_TYPE(s->st_info);
	if (type == STT_GNU_IFUNC || type == STT_TLS)
		return NULL;
	if (size)
		*size = s->st_size;
	return (void *)(d->base + s->st_value);
}

/* sym's definition in the object of link map l, or NULL. */
static void *lookup_in(const struct link_map *l, const char *sym, size_t *size)
{
	struct dso d;
	struct found f = {0};
	if (dso_open(l, &d) == 0) {
		if (d.gnu)
			gnu_find(&d, sym, &f);
		else
			sysv_find(&d, sym, &f);
	}
	return f.s ? sym_addr(&d, f.s, size) : NULL;
}

void *am_elf_lookup(const char *lib_substring, const char *sym, size_t *size)
{
	for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
		if (lib_substring && !contains(am_path_base(l->l_name), lib_substring))
			continue;
		void *a = lookup_in(l, sym, size);
		if (a || lib_substring)
			return a;
	}
	return NULL;
}

void *am_elf_lookup_next(const void *self_dynamic, const char *sym, int *before)
{
	int seen_self = 0;
	for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
		if ((const void *)l->l_ld == self_dynamic) {
			seen_self = 1;
			continue;
		}
		void *a = lookup_in(l, sym, NULL);
		if (a) {
			*before = !seen_self;
			return a;
		}
	}
	return NULL;
}

/* The number of dynamic symbols: DT_HASH says it; with only DT_GNU_HASH
 * it is one past the end of the last bucket's run. */
static uint32_t dso_nsyms(const struct dso *d)
{
	if (d->sysv)
		return d->sysv[1];
	const uint32_t *h = d->gnu;
	uint32_t nb = h[0], off = h[1], last = 0;
	const uint32_t *bucket = (const uint32_t *)((const ElfW(Addr) *)(h + 4) + h[2]);
	for (uint32_t b = 0; b < nb; b++)
		if (bucket[b] > last)
			last = bucket[b];
	if (last < off)
		return off;
	while (!(bucket[nb + last - off] & 1))
		last++;
	return last + 1;
}

static const char *dso_symbol_at(const struct dso *d, uintptr_t addr, size_t *size)
{
	const char *name = NULL;
	uint32_t n = dso_nsyms(d);
	for (uint32_t i = 1; i < n; i++) {
		const ElfW(Sym) *s = &d->sym[i];
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
		    d->base + s->st_value != addr)
			continue;
		if (!name || s->st_size > *size)
			*size = s->st_size;
		name = d->str + s->st_name;
	}
	return name;
}

const char *am_elf_symbol_at(const void *addr, size_t *size)
{
	size_t sz = 0;
	for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
		struct dso d;
		const char *name;
		if (dso_open(l, &d) < 0)
			continue;
		name = dso_symbol_at(&d, (uintptr_t)addr, &sz);
		if (name) {
			if (size)
				*size = sz;
			return name;
		}
	}
	return NULL;
}

/* The linker defines it at this object's ELF header; an array of unknown
 * size, so no size is assumed for it. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));

int am_elf_own_text(uintptr_t *lo, uintptr_t *hi)
{
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)__ehdr_start;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
	uintptr_t bias = (uintptr_t)eh, first = UINTPTR_MAX, end = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
			bias = (uintptr_t)eh - ph[i].p_vaddr; /* the segment holding the ELF header */
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
			first = ph[i].p_vaddr < first ? ph[i].p_vaddr : first;
			end = ph[i].p_vaddr + ph[i].p_memsz > end ? ph[i].p_vaddr + ph[i].p_memsz : end;
		}
	}
	*lo = end ? bias + first : 0;
	*hi = end ? bias + end : 0;
	return getauxval(AT_PHDR) != (unsigned long)ph;
}

/* The defined function symbol of d whose extent holds addr, or NULL. */
static const char *dso_symbol_near(const struct dso *d, uintptr_t addr, size_t *off)
{
	uint32_t n = dso_nsyms(d);
	for (uint32_t i = 1; i < n; i++) {
		const ElfW(Sym) *s = &d->sym[i];
		uintptr_t lo = d->base + s->st_value;
		if (ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_shndx != SHN_UNDEF && addr >= lo &&
		    addr - lo < s->st_size) {
			*off = addr - lo;
			return d->str + s->st_name;
		}
	}
	return NULL;
}

int am_elf_describe(uintptr_t lo, uintptr_t hi, const void *addr, uintptr_t *bias, const char **name, size_t *off)
{
	for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
		struct dso d;
		if ((uintptr_t)l->l_ld < lo || (uintptr_t)l->l_ld >= hi)
			continue;
		*bias = l->l_addr;
		*off = 0;
		*name = dso_open(l, &d) < 0 ? NULL : dso_symbol_near(&d, (uintptr_t)addr, off);
		return 0;
	}
	return -1;
}

const char *am_elf_symbol_near(const void *addr, size_t *off)
{
	for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
		struct dso d;
		const char *name = dso_open(l, &d) < 0 ? NULL : dso_symbol_near(&d, (uintptr_t)addr, off);
		if (name)
			return name;
	}
	return NULL;
}
