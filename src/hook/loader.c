/* The loader hook: see hook.h for the contract.
 *
 * ld.so maps, unmaps and mprotects objects with its own private copies of
 * the system-call wrappers, which no libc patch reaches. But around every
 * change of a link map it sets r_debug.r_state (RT_ADD / RT_DELETE, then
 * RT_CONSISTENT) and calls _dl_debug_state(), the debugger's breakpoint
 * function, whose address it also publishes in _r_debug.r_brk. That
 * function is empty (a single ret in glibc 2.36, followed by 15 bytes of
 * nop padding): we redirect it to am_hook_dl_debug_state, which returns
 * just the same and, when the maps are consistent, tells the index.
 *
 * Namespaces: glibc >= 2.35 chains one r_debug_extended per namespace
 * from _r_debug (r_next valid when r_version >= 2; a namespace's state
 * changes under the loader's lock, so at most one is inconsistent). We
 * report only when all are RT_CONSISTENT. The chain is bounded by
 * MAX_NAMESPACES (glibc's DL_NNS is 16).
 *
 * Debuggers: gdb prefers ld.so's SystemTap probes; one that breaks on
 * r_brk still stops there (the breakpoint replaces our first byte, and
 * the debugger steps over it with our bytes restored).
 */
#include <errno.h>
#include <link.h>
#include <stdint.h>

#include "../sys/log.h"
#include "../sys/elfsym.h"
#include "hook.h"
#include "patch.h"

#define MAX_NAMESPACES 16
#define RET 0xc3

/* ld.so's _r_debug, which heads the chain of r_debug_extended (the
 * public declaration says struct r_debug: the chain lies beyond it). */
static const struct r_debug_extended *rdebug;

static int state_consistent(const struct r_debug *r)
{
	return __atomic_load_n(&r->r_state, __ATOMIC_ACQUIRE) == RT_CONSISTENT;
}

static int all_consistent(void)
{
	const struct r_debug_extended *r = rdebug;
	if (!r || !state_consistent(&r->base))
		return 0;
	if (__atomic_load_n(&r->base.r_version, __ATOMIC_ACQUIRE) < 2)
		return 1;
	r = __atomic_load_n(&r->r_next, __ATOMIC_ACQUIRE);
	for (int n = 0; r && n < MAX_NAMESPACES; n++) {
		if (!state_consistent(&r->base))
			return 0;
		r = __atomic_load_n(&r->r_next, __ATOMIC_ACQUIRE);
	}
	return 1;
}

void am_hook_dl_debug_state(void)
{
	if (all_consistent())
		am_ev_loader();
}

/* Checks that fn is the function ld.so calls and the empty one we
 * replace (its body is a single ret). */
static int is_debug_state(const void *fn)
{
	const void *brk = (const void *)rdebug->base.r_brk;
	if (!fn || fn != brk) {
		am_log("loader: _dl_debug_state %p is not r_debug.r_brk %p", fn, brk);
		return 0;
	}
	if (*(const uint8_t *)fn != RET) {
		am_log("loader: _dl_debug_state at %p is not an empty function", fn);
		return 0;
	}
	return 1;
}

int am_hook_loader_install(void)
{
	size_t size = 0;
	void *fn = am_elf_lookup("ld-linux", "_dl_debug_state", &size);
	rdebug = am_elf_lookup("ld-linux", "_r_debug", NULL);
	if (!rdebug) {
		am_log("loader: ld.so's _r_debug not found");
		return -ENOENT;
	}
	if (fn && am_patch_is_jump_to(fn, am_hook_dl_debug_state))
		return 0;
	if (!is_debug_state(fn))
		return -ENOENT;
	int r = am_patch_jump_sized(fn, size ? size : 1, am_hook_dl_debug_state);
	if (r < 0)
		am_log("loader: cannot hook _dl_debug_state: error %d", -r);
	return r;
}
