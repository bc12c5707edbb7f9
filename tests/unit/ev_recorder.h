/* The hook tests' implementation of the am_ev_* contract (src/hook/hook.h):
 * every event is recorded in a fixed array, and errno is clobbered after
 * each so the tests can check that the hooks restore it. Each test defines
 * am_ev_loader itself (what it records there differs).
 * Included by one test file each; not a library header.
 */
#ifndef ALLOCMAP_TEST_EV_RECORDER_H
#define ALLOCMAP_TEST_EV_RECORDER_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CLOBBER 9999

enum kind { EV_MMAP, EV_MUNMAP, EV_MREMAP, EV_MPROTECT, EV_BRK, EV_LOADER };

struct ev {
	enum kind kind;
	void *addr, *addr2;	/* mmap/munmap/mprotect addr, mremap old/new, brk old/new */
	size_t len, len2;
	int prot, flags, fd;
	long off;
	int partial;		/* EV_MPROTECT: a failed call's partial effect */
	const void *caller;
	int state;		/* EV_LOADER: _r_debug.r_state */
	int has_libz;		/* EV_LOADER: libz in the link map */
	char path[64];		/* EV_MMAP of a file: the file, if it fits */
};

#define NEV 8192
static struct ev evs[NEV];
static unsigned nev;

static struct ev *ev_new(enum kind k)
{
	static struct ev overflow;
	unsigned i = __atomic_fetch_add(&nev, 1, __ATOMIC_RELAXED);
	struct ev *e = i < NEV ? &evs[i] : &overflow;
	memset(e, 0, sizeof *e);
	e->kind = k;
	return e;
}

static void fd_path(int fd, char *out, size_t cap)
{
	char link[40];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
}

void am_ev_mmap(void *addr, size_t len, int prot, int flags, int fd, long off, const void *caller)
{
	struct ev *e = ev_new(EV_MMAP);
	e->addr = addr, e->len = len, e->prot = prot, e->flags = flags, e->fd = fd;
	e->off = off, e->caller = caller;
	if (!(flags & MAP_ANONYMOUS) && fd >= 0)
		fd_path(fd, e->path, sizeof e->path);
	errno = CLOBBER;
}

int am_ev_removal_begin(void) { return 0; }
void am_ev_removal_end(int token) { (void)token; }
void am_ev_call_begin(uintptr_t lo, uintptr_t hi) { (void)lo, (void)hi; }
void am_ev_call_end(void) { errno = CLOBBER; }

void am_ev_munmap(void *addr, size_t len)
{
	struct ev *e = ev_new(EV_MUNMAP);
	e->addr = addr, e->len = len;
	errno = CLOBBER;
}

void am_ev_mremap_failed(void *old, size_t old_len, void *new_addr)
{
	(void)old, (void)old_len, (void)new_addr;
	errno = CLOBBER;
}

void am_ev_mremap(void *old, size_t old_len, void *new_addr, size_t new_len, int flags,
		  const void *caller)
{
	struct ev *e = ev_new(EV_MREMAP);
	e->addr = old, e->len = old_len, e->addr2 = new_addr, e->len2 = new_len;
	e->flags = flags, e->caller = caller;
	errno = CLOBBER;
}

void am_ev_mprotect(void *addr, size_t len, int prot)
{
	struct ev *e = ev_new(EV_MPROTECT);
	e->addr = addr, e->len = len, e->prot = prot;
	errno = CLOBBER;
}

void am_ev_mprotect_partial(void *addr, size_t len, int prot)
{
	struct ev *e = ev_new(EV_MPROTECT);
	e->addr = addr, e->len = len, e->prot = prot, e->partial = 1;
	errno = CLOBBER;
}

void am_ev_brk(void *old_end, void *new_end, const void *caller)
{
	struct ev *e = ev_new(EV_BRK);
	e->addr = old_end, e->addr2 = new_end, e->caller = caller;
	errno = CLOBBER;
}

#endif
