/* Installing the hooks: resolve, verify, patch. See hook.h.
 *
 * FINDINGS (glibc 2.36-9+deb12u14, Debian 12, kernel 6.18; measured)
 *
 * Why entry patching. In this libc, mmap/mmap64/__mmap are one function,
 * as are munmap/__munmap, mprotect/__mprotect, mremap/__mremap, brk/__brk
 * and sbrk/__sbrk; libc's internal callers (malloc's sysmalloc, arena
 * new_heap, mremap_chunk, nptl allocatestack, stdio, ...) reach them by
 * direct calls to those entries, never through the PLT, so symbol
 * interposition (LD_PRELOAD of "mmap") cannot see them, while rewriting
 * the entries sees all of them. In libc.so.6 each of the five system
 * calls appears in exactly one `mov $nr,%eax; syscall` site, inside its
 * wrapper; install verifies that before patching.
 *
 * brk and sbrk. malloc grows the main heap through MORECORE =
 * __glibc_morecore -> __sbrk (one call site, in sysmalloc), and __sbrk
 * reaches the kernel only through three direct calls to __brk's entry;
 * __brk is the only brk system call in libc. So patching brk alone sees
 * every break change, provided the replacement stores the kernel's answer
 * in __curbrk exactly as glibc's brk does (sbrk reads it). We patch sbrk
 * as well only so that the reported caller is sbrk's caller (malloc)
 * rather than sbrk itself; its replacement mirrors 2.36's __sbrk.
 *
 * Cost, measured with a throwaway program (one CPU, a fresh process per
 * run, median of 5 x 200k calls, 3 runs each, empty am_ev_* functions):
 *   mmap+munmap of one page   2862-2931 ns unpatched, 2903-2974 patched
 *   failing munmap (EINVAL)    137 ns unpatched,       144-147 patched
 *   mprotect RW<->R toggle     664-678 ns unpatched,   627-653 patched
 * i.e. about 8 ns per intercepted call, about 5.4 of which is the locked
 * increment of src/sys/syscall.c's per-kind counter: about 1% of a real
 * mapping call (6% of a bare failing one). Patching costs, once per
 * function, two /proc/self/maps reads and two mprotects.
 *
 * ld.so. Its private mmap/munmap/mprotect (no symbols; found by their
 * exact bytes, see ldso.c) are patched too, so dlopen's and dlclose's
 * segments, the PT_GNU_RELRO mprotect (measured: at am_ev_loader the
 * RELRO page is still rw-, after dlopen returns r--), /etc/ld.so.cache's
 * map and its unmap after RT_CONSISTENT, and execstack changes are all
 * reported. That step is best effort: if ld.so is not the one we know,
 * it is logged and skipped, and the loader hook's resync covers the
 * objects themselves. The resync at RT_CONSISTENT stays in any case: it
 * is what groups ld.so's plain mmaps of an object into that object's
 * sequence (the index's "object" kind), and it heals the execstack
 * mprotect of the main stack, which ld.so makes on one page with
 * PROT_GROWSDOWN (the kernel applies it down to the stack's start).
 * Cost (measured, dlopen+dlclose of libz in a loop, LD_PRELOAD): 54 us
 * bare, 137-156 us with the resyncs alone, 163-188 us with ld.so's
 * calls reported too, mostly events.c's readlink of /proc/self/fd for
 * each of the 5 file mmaps (4 segments, the cache). Finding the
 * wrappers costs about 45 us once (a scan of ld.so's 150 KB of text).
 *
 * Not seen: raw syscall(SYS_mmap, ...) and inline syscall instructions
 * (a seccomp-based strict mode is planned); statically linked code and a
 * second libc (dlmopen namespaces get their own, unpatched copy);
 * ld.so's __brk (start-up only); shmat/shmdt, pkey_mprotect with a key,
 * io_uring and other kernel paths that change mappings.
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "../sys/log.h"
#include "../sys/lock.h"
#include "../sys/elfsym.h"
#include "hook.h"
#include "patch.h"

#define LIBC "libc.so"

struct target {
	const char *sym;
	void *handler;
	int nr;		/* the system call its body must make, or -1: it
			   must call brk's entry instead (sbrk), or -2: it
			   is syscall(), which moves its arguments down one
			   register and makes the call */
};

static const struct target targets[] = {
	{"mmap", (void *)am_hook_mmap, SYS_mmap},
	{"munmap", (void *)am_hook_munmap, SYS_munmap},
	{"mprotect", (void *)am_hook_mprotect, SYS_mprotect},
	{"mremap", (void *)am_hook_mremap, SYS_mremap},
	{"brk", (void *)am_hook_brk, SYS_brk},
	{"sbrk", (void *)am_hook_sbrk, -1},
	{"syscall", (void *)am_hook_syscall, -2},
};

static struct am_lock install_lock = AM_LOCK_INIT;
static int installed;

/* True if [p, p + size) holds `mov $nr,%eax; syscall`. */
static int makes_syscall(const uint8_t *p, size_t size, int nr)
{
	const uint8_t pat[7] = {0xb8, (uint8_t)nr, 0, 0, 0, 0x0f, 0x05};
	for (size_t i = 0; i + sizeof pat <= size; i++)
		if (memcmp(p + i, pat, sizeof pat) == 0)
			return 1;
	return 0;
}

/* True if [p, p + size) holds a `call rel32` to target. */
static int calls(const uint8_t *p, size_t size, const void *target)
{
	for (size_t i = 0; i + 5 <= size; i++) {
		int32_t d;
		memcpy(&d, p + i + 1, 4);
		if (p[i] == 0xe8 && p + i + 5 + d == (const uint8_t *)target)
			return 1;
	}
	return 0;
}

/* glibc's syscall(): mov %rdi,%rax; ... mov 0x8(%rsp),%r9; syscall. */
static int is_syscall_fn(const uint8_t *p, size_t size)
{
	static const uint8_t head[3] = {0x48, 0x89, 0xf8}, tail[7] = {0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05};
	return size >= 25 && memcmp(p, head, 3) == 0 && memcmp(p + 18, tail, 7) == 0;
}

/* Checks that the function is the thin wrapper our replacement mirrors. */
static int body_ok(const struct target *t, const uint8_t *fn, size_t size)
{
	if (t->nr >= 0)
		return makes_syscall(fn, size, t->nr);
	if (t->nr == -2)
		return is_syscall_fn(fn, size);
	return calls(fn, size, am_elf_lookup(LIBC, "brk", NULL));
}

static int install_one(const struct target *t)
{
	size_t size = 0;
	uint8_t *fn = am_elf_lookup(LIBC, t->sym, &size);
	if (!fn) {
		am_log("hook: %s not found in libc's dynamic symbols", t->sym);
		return -ENOENT;
	}
	if (am_patch_is_jump_to(fn, t->handler))
		return 0;
	if (!body_ok(t, fn, size)) {
		am_log("hook: libc's %s at %p is not the glibc 2.36 wrapper we mirror; not patched",
		       t->sym, (void *)fn);
		return -ENOEXEC;
	}
	int r = am_patch_jump_sized(fn, size, t->handler);
	if (r < 0)
		am_log("hook: patching libc's %s failed: error %d", t->sym, -r);
	return r;
}

static int install_locked(void)
{
	static int version_noted;
	void **curbrk = am_elf_lookup(LIBC, "__curbrk", NULL);
	if (!curbrk) {
		am_log("hook: libc's __curbrk not found; brk/sbrk cannot be mirrored");
		return -ENOENT;
	}
	am_hook_set_curbrk(curbrk);
	if (strcmp(gnu_get_libc_version(), "2.36") != 0)
		am_log_once(&version_noted, "hook: glibc %s; mapping calls mirror glibc 2.36",
			    gnu_get_libc_version());
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		int r = install_one(&targets[i]);
		if (r < 0)
			return r;
	}
	int r = am_hook_loader_install();
	if (am_hook_ldso_install() < 0)
		am_log("hook: ld.so's own mapping calls are not seen; dlopen is covered by resync only");
	return r;
}

int am_hook_install(void)
{
	if (__atomic_load_n(&installed, __ATOMIC_ACQUIRE))
		return 0;
	am_lock(&install_lock);
	am_patch_batch_begin();
	int r = installed ? 0 : install_locked();
	am_patch_batch_end();
	if (r == 0)
		__atomic_store_n(&installed, 1, __ATOMIC_RELEASE);
	am_unlock(&install_lock);
	return r;
}
