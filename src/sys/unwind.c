/* The unwinder's walk, its object table and its pc cache: see unwind.h;
 * the CFI itself is cfi.c.
 *
 * Object table: objs[] with their extents and .eh_frame_hdr, published
 * under `gen` (odd while being rewritten; a walk that sees it odd or
 * changed stops where it is). Pc cache: CACHE entries of two words, the
 * pc with the generation in its top 16 bits, and the rule packed with a
 * 21-bit check of the pc, so that a pair torn by two writers is rejected
 * instead of trusted (a writer stores the rule, then the key).
 */
#include "unwind.h"

#include <elf.h>
#include <link.h>
#include <stddef.h>

#include "cfi.h"

#define OBJS 512
#define CACHE 4096
#define MAX_STEPS (AM_UNWIND_SKIP + AM_UNWIND_MAX)

struct obj {
	uintptr_t lo, hi;
	const uint8_t *hdr; /* .eh_frame_hdr, or NULL */
};

struct entry {
	uint64_t key, rule;
};

static struct obj objs[OBJS];
static unsigned nobjs, gen;
static struct entry cache[CACHE];
static uint64_t misses, fp_steps;

static int add_obj(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size, (void)arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	const uint8_t *hdr = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_GNU_EH_FRAME)
			hdr = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		lo = info->dlpi_addr + ph->p_vaddr < lo ? info->dlpi_addr + ph->p_vaddr : lo;
		hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi ? info->dlpi_addr + ph->p_vaddr + ph->p_memsz : hi;
	}
	if (hi && nobjs < OBJS)
		objs[nobjs++] = (struct obj){lo, hi, hdr};
	return 0;
}

void am_unwind_refresh(void)
{
	__atomic_store_n(&gen, gen + 1, __ATOMIC_RELAXED); /* odd: being rewritten */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	nobjs = 0;
	dl_iterate_phdr(add_obj, NULL);
	__atomic_store_n(&gen, gen + 1, __ATOMIC_RELEASE);
}

static uint64_t check_of(uintptr_t pc)
{
	return ((uint64_t)pc * 0xC2B2AE3D27D4EB4Full) >> 43; /* 21 bits */
}

static uint64_t pack(const struct am_cfi_rule *r, uintptr_t pc)
{
	return (uint32_t)r->cfa_off | (uint64_t)(uint8_t)(int8_t)(r->bp_off / 8) << 32 | (uint64_t)r->kind << 40 |
	       check_of(pc) << 43;
}

static void unpack(uint64_t w, struct am_cfi_rule *r)
{
	r->cfa_off = (int32_t)(uint32_t)w;
	r->bp_off = (int8_t)(uint8_t)(w >> 32) * 8;
	r->kind = (int)((w >> 40) & 7);
}

/* Looked up in the objects (a cache miss). */
static void find_rule(uintptr_t pc, struct am_cfi_rule *r)
{
	__atomic_fetch_add(&misses, 1, __ATOMIC_RELAXED);
	r->kind = AM_CFI_FP;
	unsigned n = __atomic_load_n(&nobjs, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n && i < OBJS; i++)
		if (pc - objs[i].lo < objs[i].hi - objs[i].lo) {
			if (objs[i].hdr)
				am_cfi_rule(objs[i].hdr, pc, r);
			break;
		}
	if (r->bp_off % 8 || r->bp_off / 8 != (int8_t)(r->bp_off / 8))
		r->kind = AM_CFI_FP; /* rbp saved where no packed rule can say */
}

static void rule_at(uintptr_t pc, unsigned g, struct am_cfi_rule *r)
{
	struct entry *e = &cache[((uint64_t)pc * 0x9E3779B97F4A7C15ull) >> 52];
	uint64_t key = (uint64_t)pc | (uint64_t)(g & 0xffff) << 48;
	uint64_t k = __atomic_load_n(&e->key, __ATOMIC_ACQUIRE), w = __atomic_load_n(&e->rule, __ATOMIC_RELAXED);
	if (k == key && (w >> 43) == check_of(pc)) {
		unpack(w, r);
		return;
	}
	find_rule(pc, r);
	__atomic_store_n(&e->rule, pack(r, pc), __ATOMIC_RELAXED);
	__atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
}

struct regs {
	uintptr_t pc, sp, bp;
};

static int readable(uintptr_t a, uintptr_t lo, uintptr_t hi)
{
	return a >= lo && a <= hi - 8 && !(a & 7);
}

/* One frame outward from r; 0 at the end or on anything unreadable. */
static int step(struct regs *r, uintptr_t lookup, unsigned g, uintptr_t lo, uintptr_t hi)
{
	struct am_cfi_rule rule;
	rule_at(lookup, g, &rule);
	uintptr_t cfa;
	if (rule.kind == AM_CFI_END)
		return 0;
	if (rule.kind == AM_CFI_FP) {
		__atomic_fetch_add(&fp_steps, 1, __ATOMIC_RELAXED);
		cfa = r->bp + 16;
		rule.bp_off = -16;
	} else {
		cfa = (rule.kind == AM_CFI_RSP ? r->sp : r->bp) + (uintptr_t)(intptr_t)rule.cfa_off;
	}
	if (cfa <= r->sp || !readable(cfa - 8, lo, hi))
		return 0;
	uintptr_t ra = *(const uintptr_t *)(cfa - 8);
	if (rule.bp_off) {
		uintptr_t at = cfa + (uintptr_t)(intptr_t)rule.bp_off;
		if (!readable(at, lo, hi))
			return 0;
		r->bp = *(const uintptr_t *)at;
	}
	r->sp = cfa;
	r->pc = ra;
	return ra >= 4096;
}

__attribute__((noinline)) int am_unwind(uintptr_t *out, int max, uintptr_t from, uintptr_t hi)
{
	struct regs r;
	int n = 0;
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(r.pc), "=r"(r.sp), "=r"(r.bp));
	uintptr_t lo = r.sp, lookup = r.pc;
	unsigned g = __atomic_load_n(&gen, __ATOMIC_ACQUIRE);
	max = max < AM_UNWIND_MAX ? max : AM_UNWIND_MAX;
	for (int i = 0; i < MAX_STEPS && n < max && !(g & 1); i++) {
		if (!step(&r, lookup, g, lo, hi) || __atomic_load_n(&gen, __ATOMIC_ACQUIRE) != g)
			break;
		lookup = r.pc - 1; /* a return address may start the next function's code */
		if (n == 0 && r.pc != from) {
			if (i + 1 >= AM_UNWIND_SKIP)
				break;
			continue;
		}
		out[n++] = r.pc;
	}
	if (n == 0 && max > 0)
		out[n++] = from;
	return n;
}

void am_unwind_stats(struct am_unwind_stats *out)
{
	out->misses = __atomic_load_n(&misses, __ATOMIC_RELAXED);
	out->fp_steps = __atomic_load_n(&fp_steps, __ATOMIC_RELAXED);
}
