/* ld.so's private mapping calls: found by their exact bytes, patched.
 *
 * FINDINGS (ld-linux-x86-64.so.2 of glibc 2.36-9+deb12u14, Debian 12:
 * objdump -d of the stripped file, every `syscall` site classified by the
 * number put in %eax, function names from the libc6-dbg symbols)
 *
 * ld.so links its own copies of the mapping wrappers and calls them
 * directly (hidden, no PLT), so the libc patches never see them:
 *   +0x20c90 __mmap      72 bytes + 8 of padding; 8 call sites:
 *            _dl_map_segment(s) x5 (dlopen's reservation, maybe over-sized
 *            for alignment, each later segment, the anonymous tail of
 *            .bss), _dl_sysdep_read_whole_file
 *            (/etc/ld.so.cache), __minimal_malloc (start-up only),
 *            _dl_start_profile (LD_PROFILE);
 *   +0x20ce0 __munmap    32 bytes; 12 sites: _dl_unmap_segments (failed
 *            dlopen, and dlclose via _dl_unmap), _dl_map_segment x3
 *            (trimming an over-sized reservation),
 *            _dl_load_cache_lookup x3 (bad cache), _dl_unload_cache (the
 *            cache, unmapped after RT_CONSISTENT), _dl_start_profile x2,
 *            dl_main (start-up);
 *   +0x20d00 __mprotect  32 bytes; 12 sites: _dl_map_segments x3 (PROT_NONE
 *            over a gap between segments), _dl_map_object_from_fd x2
 *            (ld.so's own RELRO made writable and back, to set
 *            __stack_prot for an execstack object), _dl_relocate_object
 *            x2 (DT_TEXTREL: text writable during relocation),
 *            _dl_protect_relro (RELRO -> PROT_READ, after RT_CONSISTENT),
 *            the execstack paths (make_main_stack_executable,
 *            __nptl_change_stack_perm, which libc's pthread_create also
 *            calls for an executable-stack process).
 * There is no mremap, madvise, shmat/shmdt, remap_file_pages or
 * pkey_mprotect in ld.so, and no mapping system call is inlined: of its 46
 * syscall instructions (47 `0f 05` byte pairs: one lies inside another
 * instruction) these three wrappers hold the only mmap, munmap and
 * mprotect. The remaining mapping-related one is __brk (+0x1fc40), reached
 * only from __sbrk and _dl_sysdep_start, i.e. before any constructor runs;
 * it is not patched. (The rest: futex, openat, read, pread64, close,
 * fstatat, lseek, getdents64, fcntl, write, writev, readlink, getcwd,
 * access, uname, getpid, execve, arch_prctl, set_tid_address,
 * set_robust_list, rseq, rt_sigprocmask, rt_sigreturn, setitimer, exit,
 * exit_group.)
 *
 * errno: ld.so does not use the TLS errno. Its wrappers store a failure in
 * rtld_errno, a private hidden global in ld.so's .bss (+0x342a0), which is
 * what its callers read (e.g. for dlerror's "failed to map segment"); the
 * thread's errno is left alone. The replacements here do the same: a
 * failure goes to rtld_errno, whose address is decoded from the
 * wrappers' own rip-relative stores, and the TLS errno is never changed
 * (saved and restored around the am_ev_* report).
 *
 * How they are found: ld.so's executable PT_LOAD (from _r_debug.r_ldbase
 * and its ELF header) is scanned at 16-byte-aligned addresses for each
 * wrapper's whole expected body, byte for byte except the rtld_errno
 * displacements. A wrapper is accepted only if its body matches exactly
 * once, the instruction before it is ret, int3 or padding, every
 * rtld_errno displacement names one and the same int in a writable,
 * non-RELRO PT_LOAD of ld.so; otherwise nothing in ld.so is patched and
 * the reason is logged. A second scan counts syscall sites whose nearest
 * `mov $nr,%eax` is a mapping call outside the three wrappers and logs
 * them (none in this ld.so): those changes would go unseen.
 *
 * Invariants: ldso.found is written once, by the first successful
 * am_hook_ldso_find (start-up, single-threaded); rtld_errno is set before
 * any entry is patched; the replacements never touch the TLS errno.
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "../sys/log.h"
#include "../sys/syscall.h"
#include "hook.h"
#include "patch.h"

#define FN_ALIGN 16
#define MMAP_OFF_LOW_MASK 0xfffL
#define NERRNO 2		/* rtld_errno references per wrapper, at most */
#define LOOKBACK 32		/* bytes searched for a syscall's `mov $nr,%eax` */

/* One wrapper as glibc 2.36's ld.so has it. Bytes at errno_at[i] ..
 * errno_at[i] + 3 are a rel32 to rtld_errno relative to errno_end[i];
 * a zero errno_end ends the list. */
struct wrapper {
	const char *name;
	const uint8_t *code;
	uint8_t len;
	uint8_t errno_at[NERRNO], errno_end[NERRNO];
	void *handler;
};

/* __mmap: mov %ecx,%r10d; test $0xfff,%r9d; jne einval; mov $9,%eax;
 * syscall; cmp $-4096,%rax; ja fail; ret; einval: movl $EINVAL,rtld_errno;
 * mov $-1,%rax; ret; fail: neg %eax; mov %eax,rtld_errno; mov $-1,%rax;
 * ret (with nop padding between the three paths). */
static const uint8_t mmap_code[] = {
	0x41, 0x89, 0xca, 0x41, 0xf7, 0xc1, 0xff, 0x0f, 0x00, 0x00, 0x75, 0x14,
	0xb8, 0x09, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x3d, 0x00, 0xf0, 0xff,
	0xff, 0x77, 0x1d, 0xc3, 0x0f, 0x1f, 0x40, 0x00, 0xc7, 0x05, 0, 0, 0, 0,
	0x16, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xc3,
	0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xf7, 0xd8, 0x89, 0x05, 0, 0, 0, 0,
	0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xc3,
};

/* __munmap (nr 11) and __mprotect (nr 10): mov $nr,%eax; syscall;
 * cmp $-4095,%rax; jae fail; ret; fail: lea rtld_errno,%rcx; neg %eax;
 * mov %eax,(%rcx); or $-1,%rax; ret. */
#define SIMPLE_WRAPPER(nr)                                                        \
	{0xb8, (nr), 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x3d, 0x01, 0xf0,        \
	 0xff, 0xff, 0x73, 0x01, 0xc3, 0x48, 0x8d, 0x0d, 0, 0, 0, 0, 0xf7, 0xd8, \
	 0x89, 0x01, 0x48, 0x83, 0xc8, 0xff, 0xc3}
static const uint8_t munmap_code[] = SIMPLE_WRAPPER(SYS_munmap);
static const uint8_t mprotect_code[] = SIMPLE_WRAPPER(SYS_mprotect);

_Static_assert(sizeof mmap_code == 72 && sizeof munmap_code == 32, "wrapper sizes");

enum { W_MMAP, W_MUNMAP, W_MPROTECT, NWRAPPERS };

static const struct wrapper wrappers[NWRAPPERS] = {
	{"mmap", mmap_code, sizeof mmap_code, {0x22, 0x3c}, {0x2a, 0x40}, (void *)am_hook_ldso_mmap},
	{"munmap", munmap_code, sizeof munmap_code, {0x13}, {0x17}, (void *)am_hook_ldso_munmap},
	{"mprotect", mprotect_code, sizeof mprotect_code, {0x13}, {0x17},
	 (void *)am_hook_ldso_mprotect},
};

/* System calls that change mappings, for the audit of unseen sites. */
static const int mapping_nrs[] = {SYS_mmap,  SYS_munmap, SYS_mprotect,	      SYS_mremap,
				  SYS_shmat, SYS_shmdt,	 SYS_remap_file_pages, SYS_pkey_mprotect};

static struct {
	int found;			/* 1 once info is complete */
	struct am_ldso_info info;
} ldso;

static int *rtld_errno;		/* ld.so's errno; set before any patch */

/* ---- ld.so's segments ---- */

static const ElfW(Ehdr) *ldso_ehdr(void)
{
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)_r_debug.r_ldbase;
	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 || eh->e_phentsize != sizeof(ElfW(Phdr))) {
		am_log("ldso: no x86-64 ELF header at r_debug.r_ldbase %p", (void *)eh);
		return NULL;
	}
	return eh;
}

static const ElfW(Phdr) *ldso_phdr(const ElfW(Ehdr) *eh, int i)
{
	return (const ElfW(Phdr) *)((const uint8_t *)eh + eh->e_phoff) + i;
}

/* Fills text and data ranges of info from ld.so's program headers. */
static int ldso_segments(struct am_ldso_info *info)
{
	const ElfW(Ehdr) *eh = ldso_ehdr();
	if (!eh)
		return -ENOEXEC;
	uintptr_t base = (uintptr_t)eh;
	for (int i = 0; i < eh->e_phnum; i++) {
		const ElfW(Phdr) *ph = ldso_phdr(eh, i);
		uintptr_t lo = base + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && !info->text_lo)
			info->text_lo = lo, info->text_hi = lo + ph->p_filesz;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && !info->data_lo)
			info->data_lo = lo, info->data_hi = lo + ph->p_memsz;
		if (ph->p_type == PT_GNU_RELRO)
			info->relro_hi = lo + ph->p_memsz;
	}
	if (!info->text_lo || !info->data_lo) {
		am_log("ldso: ld.so at %p has no executable or no writable segment", (void *)eh);
		return -ENOEXEC;
	}
	return 0;
}

/* ---- matching a wrapper ---- */

static int in_errno_field(const struct wrapper *w, size_t i)
{
	for (int k = 0; k < NERRNO && w->errno_end[k]; k++)
		if (i >= w->errno_at[k] && i < w->errno_at[k] + 4u)
			return 1;
	return 0;
}

static int body_matches(const struct wrapper *w, const uint8_t *p)
{
	for (size_t i = 0; i < w->len; i++)
		if (p[i] != w->code[i] && !in_errno_field(w, i))
			return 0;
	return 1;
}

/* The int that the k-th rtld_errno reference of the wrapper at p names. */
static int *errno_ref(const struct wrapper *w, const uint8_t *p, int k)
{
	int32_t d;
	memcpy(&d, p + w->errno_at[k], 4);
	return (int *)(uintptr_t)(p + w->errno_end[k] + d);
}

/* The padding and ret forms an assembler leaves before an aligned function. */
static const uint8_t *const tails[] = {
	(const uint8_t *)"\xc3",
	(const uint8_t *)"\x90",
	(const uint8_t *)"\xcc",
	(const uint8_t *)"\x66\x90",
	(const uint8_t *)"\x0f\x1f\x00",
	(const uint8_t *)"\x0f\x1f\x40\x00",
	(const uint8_t *)"\x0f\x1f\x44\x00\x00",
	(const uint8_t *)"\x66\x0f\x1f\x44\x00\x00",
	(const uint8_t *)"\x0f\x1f\x80\x00\x00\x00\x00",
	(const uint8_t *)"\x0f\x1f\x84\x00\x00\x00\x00\x00",
	(const uint8_t *)"\x66\x0f\x1f\x84\x00\x00\x00\x00\x00",
	(const uint8_t *)"\x66\x2e\x0f\x1f\x84\x00\x00\x00\x00\x00",
};
static const uint8_t tail_lens[] = {1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

/* True if the bytes just before p (within [lo, p)) end a ret or padding. */
static int starts_function(const uint8_t *p, uintptr_t lo)
{
	if ((uintptr_t)p == lo)
		return 1;
	for (size_t i = 0; i < sizeof tail_lens; i++)
		if ((uintptr_t)p - lo >= tail_lens[i] &&
		    memcmp(p - tail_lens[i], tails[i], tail_lens[i]) == 0)
			return 1;
	return 0;
}

/* The one aligned place in [lo, hi) holding w's body, or NULL (logged)
 * if there is none or more than one. */
static uint8_t *find_wrapper(const struct wrapper *w, uintptr_t lo, uintptr_t hi)
{
	uint8_t *hit = NULL;
	int n = 0;
	uintptr_t p = (lo + FN_ALIGN - 1) & ~(uintptr_t)(FN_ALIGN - 1);
	for (; p + w->len <= hi; p += FN_ALIGN) {
		if (!body_matches(w, (const uint8_t *)p))
			continue;
		if (n++ == 0)
			hit = (uint8_t *)p;
	}
	if (n != 1) {
		am_log("ldso: ld.so's %s wrapper found %d times (want exactly once); not patching ld.so",
		       w->name, n);
		return NULL;
	}
	if (!starts_function(hit, lo)) {
		am_log("ldso: bytes before ld.so's %s wrapper at %p are not a function boundary", w->name,
		       (void *)hit);
		return NULL;
	}
	return hit;
}

/* Checks that every rtld_errno reference of every wrapper names the same
 * int, in ld.so's writable, non-RELRO data; stores it in info. */
static int check_errno(struct am_ldso_info *info)
{
	for (int i = 0; i < NWRAPPERS; i++) {
		const struct wrapper *w = &wrappers[i];
		for (int k = 0; k < NERRNO && w->errno_end[k]; k++) {
			int *e = errno_ref(w, info->fn[i], k);
			if (!info->rtld_errno)
				info->rtld_errno = e;
			if (e != info->rtld_errno) {
				am_log("ldso: ld.so's wrappers store errno in %p and %p; not patching",
				       (void *)info->rtld_errno, (void *)e);
				return -ENOEXEC;
			}
		}
	}
	uintptr_t e = (uintptr_t)info->rtld_errno;
	if (e % sizeof(int) || e < info->data_lo || e + sizeof(int) > info->data_hi || e < info->relro_hi) {
		am_log("ldso: ld.so's errno %p is not in its writable data; not patching", (void *)e);
		return -ENOEXEC;
	}
	return 0;
}

/* ---- the audit of other mapping system calls ---- */

static int is_mapping_nr(long nr)
{
	for (size_t i = 0; i < sizeof mapping_nrs / sizeof mapping_nrs[0]; i++)
		if (nr == mapping_nrs[i])
			return 1;
	return 0;
}

/* The number in the nearest `mov $imm32,%eax` within LOOKBACK bytes before
 * the syscall at p, or -1. */
static long nr_before(const uint8_t *p, uintptr_t lo)
{
	for (const uint8_t *q = p - 5; (uintptr_t)q >= lo && q >= p - LOOKBACK; q--) {
		if (*q == 0xb8) {
			int32_t imm;
			memcpy(&imm, q + 1, 4);
			return imm;
		}
	}
	return -1;
}

static int inside_wrapper(const struct am_ldso_info *info, const uint8_t *p)
{
	for (int i = 0; i < NWRAPPERS; i++)
		if (p >= info->fn[i] && p < info->fn[i] + wrappers[i].len)
			return 1;
	return 0;
}

/* Counts (and logs) mapping system calls in ld.so's text that do not go
 * through the three wrappers. */
static unsigned audit_sites(const struct am_ldso_info *info)
{
	unsigned n = 0;
	const uint8_t *q = (const uint8_t *)info->text_lo + 1, *end = (const uint8_t *)info->text_hi;
	/* 05 is the rarer byte of `0f 05` in code: search for it */
	for (; q < end && (q = memchr(q, 0x05, (size_t)(end - q))); q++) {
		const uint8_t *p = q - 1;
		if (p[0] != 0x0f || inside_wrapper(info, p))
			continue;
		long nr = nr_before(p, info->text_lo);
		if (!is_mapping_nr(nr))
			continue;
		n++;
		am_log("ldso: ld.so makes system call %ld at %p outside its wrappers: not seen", nr,
		       (void *)p);
	}
	return n;
}

/* ---- finding and patching ---- */

int am_hook_ldso_text(struct am_ldso_info *out)
{
	*out = (struct am_ldso_info){0};
	return ldso_segments(out);
}

int am_hook_ldso_find(struct am_ldso_info *out)
{
	struct am_ldso_info info = {0};
	if (ldso.found) {
		*out = ldso.info;
		return 0;
	}
	int r = ldso_segments(&info);
	for (int i = 0; r == 0 && i < NWRAPPERS; i++)
		if (!(info.fn[i] = find_wrapper(&wrappers[i], info.text_lo, info.text_hi)))
			r = -ENOENT;
	if (r == 0)
		r = check_errno(&info);
	if (r < 0)
		return r;
	info.unseen_sites = audit_sites(&info);
	ldso.info = info;
	ldso.found = 1;
	*out = info;
	return 0;
}

int am_hook_ldso_install(void)
{
	struct am_ldso_info info;
	int r = am_hook_ldso_find(&info);
	if (r < 0)
		return r;
	rtld_errno = info.rtld_errno;
	for (int i = 0; i < NWRAPPERS; i++) {
		r = am_patch_jump_sized(info.fn[i], wrappers[i].len, wrappers[i].handler);
		if (r < 0) {
			am_log("ldso: patching ld.so's %s at %p failed: error %d", wrappers[i].name,
			       (void *)info.fn[i], -r);
			return r;
		}
	}
	return 0;
}

/* ---- the replacements ---- */

static long fail(long err)
{
	*rtld_errno = (int)err;
	return -1;
}

void *am_hook_ldso_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	const void *caller = __builtin_return_address(0);
	if (off & MMAP_OFF_LOW_MASK)
		return (void *)fail(EINVAL);
	long r = am_do_mmap(addr, len, prot, flags, fd, off, caller);
	return am_sys_failed(r) ? (void *)fail(-r) : (void *)r;
}

int am_hook_ldso_munmap(void *addr, size_t len)
{
	long r = am_do_munmap(addr, len);
	return am_sys_failed(r) ? (int)fail(-r) : 0;
}

int am_hook_ldso_mprotect(void *addr, size_t len, int prot)
{
	long r = am_do_mprotect(addr, len, prot);
	return am_sys_failed(r) ? (int)fail(-r) : 0;
}
