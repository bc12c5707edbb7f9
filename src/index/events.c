/* Events from the interception layer (src/hook/hook.h) into the mapping
 * index. Each is called after a successful system call, with errno
 * already saved by the caller. A file mapping's path is read from
 * /proc/self/fd (one readlink, only for file mappings).
 */
#include <sys/mman.h>

#include "events.h"
#include "../sys/log.h"
#include "../sys/syscall.h"
#include "internal.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/* The path of fd into buf, or NULL. */
static const char *fd_path(int fd, char *buf, size_t cap)
{
	char link[40];
	am_fmt(link, sizeof link, "/proc/self/fd/%d", fd);
	long n = am_sys_readlink(link, buf, cap - 1);
	if (am_sys_failed(n) || n <= 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

void am_ev_mmap(void *addr, size_t len, int prot, int flags, int fd, long off, const void *caller)
{
	char buf[1024];
	const char *path = NULL;
	if (!(flags & MAP_ANONYMOUS) && fd >= 0)
		path = fd_path(fd, buf, sizeof buf);
	am_strat_mapping_caller(caller);
	enum am_origin o = flags & (MAP_STACK | MAP_GROWSDOWN) ? AM_ORIGIN_STACK : AM_ORIGIN_MMAP;
	int keep = MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN; /* it may grow: resync.c */
	am_index_map((uintptr_t)addr, (uintptr_t)addr + len, prot, flags & keep, (uint64_t)off, path, o,
		     caller);
}

void am_ev_munmap(void *addr, size_t len) { am_index_unmap((uintptr_t)addr, (uintptr_t)addr + len); }

void am_ev_mremap(void *old, size_t old_len, void *new_addr, size_t new_len, int flags, const void *caller)
{
	am_strat_mapping_caller(caller);
	am_index_remap((uintptr_t)old, old_len, (uintptr_t)new_addr, new_len, (flags & MREMAP_DONTUNMAP) != 0);
}

void am_ev_mremap_failed(void *old, size_t old_len, void *new_addr)
{
	am_index_remap_failed((uintptr_t)old, old_len, (uintptr_t)new_addr);
}

void am_ev_mprotect(void *addr, size_t len, int prot)
{
	am_index_protect((uintptr_t)addr, (uintptr_t)addr + len, prot);
}

void am_ev_mprotect_partial(void *addr, size_t len, int prot)
{
	am_index_protect_prefix((uintptr_t)addr, (uintptr_t)addr + len, prot);
}

void am_ev_brk(void *old_end, void *new_end, const void *caller)
{
	am_strat_mapping_caller(caller);
	am_index_brk((uintptr_t)old_end, (uintptr_t)new_end, caller);
}

static void (*loader_listener)(void);

void am_ev_on_loader(void (*fn)(void)) { loader_listener = fn; }

void am_ev_loader(void)
{
	am_index_loader_resync();
	if (loader_listener)
		loader_listener();
}

void am_ev_call_begin(uintptr_t lo, uintptr_t hi) { am_index_call_begin(lo, hi); }

void am_ev_call_end(void) { am_index_call_end(); }

int am_ev_removal_begin(void) { return am_index_hold(); }

void am_ev_removal_end(int token) { am_index_release(token); }
