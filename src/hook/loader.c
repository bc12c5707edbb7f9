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
 * Debuggers: a debugger that attaches later and breaks on r_brk still
 * stops there (its breakpoint replaces our first byte, and it steps over
 * it with our bytes restored). A process started under a debugger has
 * the breakpoint (int3) at _dl_debug_state before we start, and a jump
 * written over it would be undone when the debugger puts its saved byte
 * back: then ld.so's calls of _dl_debug_state (direct e8 calls in its
 * text, six in glibc 2.36) are redirected instead to
 * am_hook_dl_debug_state_call, which tells the index and then calls the
 * original, so the debugger's breakpoint is hit as before.
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

static void (*debug_state)(void); /* the original, in call-site mode */

static void am_hook_dl_debug_state_call(void)
{
	am_hook_dl_debug_state();
	debug_state();
}

/* Redirects every direct call of fn in ld.so's text; the number, or a
 * negative errno. */
static int redirect_calls(void *fn)
{
	struct am_ldso_info info;
	int r = am_hook_ldso_text(&info), n = 0;
	if (r < 0)
		return r;
	debug_state = (void (*)(void))fn;
	for (uint8_t *p = (uint8_t *)info.text_lo; p + 5 <= (uint8_t *)info.text_hi; p++) {
		int32_t d;
		if (*p != 0xe8)
			continue;
		__builtin_memcpy(&d, p + 1, 4);
		if (p + 5 + d == (uint8_t *)fn && (r = am_patch_call(p, (void *)am_hook_dl_debug_state_call)) < 0)
			return r;
		n += p + 5 + d == (uint8_t *)fn;
	}
	return n ? n : -ENOENT;
}

/* Checks that fn is the function ld.so publishes as r_brk. */
static int is_debug_state(const void *fn)
{
	const void *brk = (const void *)rdebug->base.r_brk;
	if (!fn || fn != brk) {
		am_log("loader: _dl_debug_state %p is not r_debug.r_brk %p", fn, brk);
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
	if (*(const uint8_t *)fn != RET) { /* a debugger's breakpoint, or not the function we know */
		int n = redirect_calls(fn);
		if (n > 0)
			am_log("loader: _dl_debug_state at %p is not an empty function (a debugger's breakpoint?): "
			       "its %d calls in ld.so redirected instead", fn, n);
		else
			am_log("loader: _dl_debug_state at %p is not an empty function and its calls were not "
			       "found: error %d", fn, -n);
		return n > 0 ? 0 : n;
	}
	int r = am_patch_jump_sized(fn, size ? size : 1, am_hook_dl_debug_state);
	if (r < 0)
		am_log("loader: cannot hook _dl_debug_state: error %d", -r);
	return r;
}
