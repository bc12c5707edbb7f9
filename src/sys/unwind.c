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

/* The thread's last walk, relative to its starting stack pointer s: step
 * m's return address pc[m] was read at s + rel[m] - 8 (the CFA less 8),
 * and rbp, if any step so far reloaded it, at s + bp_rel[m]. Kept only
 * for leading steps whose rules are rsp-based: their CFAs then follow
 * from s and the return addresses alone, so a walk starting at the same
 * pc whose words at those places hold the same return addresses has the
 * same frames at the same offsets (unwind.h). busy: a walk is using it
 * (a signal handler's walk on the same thread leaves it alone). */
#define MEMO 24
struct memo {
	unsigned gen, busy;
	int n;
	uintptr_t start;
	uintptr_t pc[MEMO];
	uint32_t rel[MEMO];
	int32_t bp_rel[MEMO];
};
static __thread struct memo memo;
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

/* 21 bits of the pc the slot's index does not depend on all of. */
static uint64_t check_of(uintptr_t pc)
{
	return (uint64_t)pc & 0x1FFFFF;
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
	*r = (struct am_cfi_rule){.kind = AM_CFI_FP};
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
	uintptr_t bp_at; /* where the last step loaded rbp from, or 0 */
	int kind;        /* the last step's rule (enum am_cfi_kind) */
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
	r->kind = rule.kind;
	r->bp_at = 0;
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
		r->bp_at = cfa + (uintptr_t)(intptr_t)rule.bp_off;
		if (!readable(r->bp_at, lo, hi))
			return 0;
		r->bp = *(const uintptr_t *)r->bp_at;
	}
	r->sp = cfa;
	r->pc = ra;
	return ra >= 4096;
}

/* The frames wanted: from the one returning to `from` on, max of them. */
struct walk {
	uintptr_t *out, from;
	int n, max;
};

/* Step i produced return address pc: 0 when the walk is over. */
static int take(struct walk *w, uintptr_t pc, int i)
{
	if (w->n == 0 && pc != w->from)
		return i + 1 < AM_UNWIND_SKIP;
	w->out[w->n++] = pc;
	return w->n < w->max;
}

/* Replays the thread's last walk as far as its return addresses are
 * still in place: each checked with one load, independent of the others.
 * Returns the steps replayed; r is the state after them. */
static int replay(struct regs *r, struct walk *w, uintptr_t hi, int *done)
{
	uintptr_t s = r->sp, bp_at = 0;
	int m = 0;
	*done = 0;
	for (; m < memo.n; m++) {
		uintptr_t at = s + memo.rel[m] - 8;
		if (at > hi - 8 || *(const uintptr_t *)at != memo.pc[m])
			break;
		r->sp = at + 8;
		r->pc = memo.pc[m];
		if (memo.bp_rel[m] >= 0)
			bp_at = s + (uintptr_t)memo.bp_rel[m];
		if (!take(w, r->pc, m)) {
			*done = 1;
			m++;
			break;
		}
	}
	if (bp_at && bp_at <= hi - 8)
		r->bp = *(const uintptr_t *)bp_at;
	return m;
}

/* Step m (rule kind r->kind) goes into the memo while every step so far
 * had an rsp-based rule. */
static void remember(const struct regs *r, uintptr_t s, int m, int *ok)
{
	*ok = r->kind == AM_CFI_RSP && m < MEMO && m == memo.n;
	if (!*ok)
		return;
	memo.pc[m] = r->pc;
	memo.rel[m] = (uint32_t)(r->sp - s);
	memo.bp_rel[m] = r->bp_at ? (int32_t)(r->bp_at - s) : m ? memo.bp_rel[m - 1] : -1;
	memo.n = m + 1;
}

__attribute__((noinline)) int am_unwind(uintptr_t *out, int max, uintptr_t from, uintptr_t hi)
{
	struct regs r = {0};
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(r.pc), "=r"(r.sp), "=r"(r.bp));
	uintptr_t s = r.sp, start = r.pc;
	unsigned g = __atomic_load_n(&gen, __ATOMIC_ACQUIRE);
	struct walk w = {out, from, 0, max < AM_UNWIND_MAX ? max : AM_UNWIND_MAX};
	int m = 0, done = w.max <= 0 || (g & 1), mine = !memo.busy, ok = mine;
	if (mine) { /* not a signal handler's walk interrupting one of this thread's */
		memo.busy = 1;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (memo.gen != g || memo.start != start)
			memo.n = 0;
		m = done ? 0 : replay(&r, &w, hi, &done);
		memo.n = m;
	}
	uintptr_t lookup = m ? r.pc - 1 : r.pc; /* a return address may start the next function's code */
	for (; !done && m < MAX_STEPS; m++) {
		if (!step(&r, lookup, g, s, hi) || __atomic_load_n(&gen, __ATOMIC_ACQUIRE) != g)
			break;
		if (ok)
			remember(&r, s, m, &ok);
		lookup = r.pc - 1;
		done = !take(&w, r.pc, m);
	}
	if (mine) {
		memo.gen = g;
		memo.start = start;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		memo.busy = 0;
	}
	if (w.n == 0 && w.max > 0)
		out[w.n++] = from;
	return w.n;
}

void am_unwind_stats(struct am_unwind_stats *out)
{
	out->misses = __atomic_load_n(&misses, __ATOMIC_RELAXED);
	out->fp_steps = __atomic_load_n(&fp_steps, __ATOMIC_RELAXED);
}
