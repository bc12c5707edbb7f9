/* Raw x86-64 Linux system calls: see syscall.h for the contract.
 *
 * The kernel clobbers rcx and r11; results come back in rax. Counters are
 * relaxed atomics: they order nothing, they only count.
 */
#include "syscall.h"

#include <sys/syscall.h>

static uint64_t counters[AM_SC_NCOUNTERS];

static inline long sc6(long n, long a, long b, long c, long d, long e, long f)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

static inline void count(enum am_sys_counter c)
{
	__atomic_fetch_add(&counters[c], 1, __ATOMIC_RELAXED);
}

long am_sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	count(AM_SC_MMAP);
	return sc6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);
}

long am_sys_munmap(void *addr, size_t len)
{
	count(AM_SC_MUNMAP);
	return sc6(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
}

long am_sys_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	count(AM_SC_MREMAP);
	return sc6(SYS_mremap, (long)old, (long)old_len, (long)new_len, flags, (long)new_addr, 0);
}

long am_sys_mprotect(void *addr, size_t len, int prot)
{
	count(AM_SC_MPROTECT);
	return sc6(SYS_mprotect, (long)addr, (long)len, prot, 0, 0, 0);
}

long am_sys_madvise(void *addr, size_t len, int advice)
{
	count(AM_SC_MADVISE);
	return sc6(SYS_madvise, (long)addr, (long)len, advice, 0, 0, 0);
}

long am_sys_mincore(void *addr, size_t len, unsigned char *vec)
{
	return sc6(SYS_mincore, (long)addr, (long)len, (long)vec, 0, 0, 0);
}

long am_sys_brk(void *addr)
{
	count(AM_SC_BRK);
	return sc6(SYS_brk, (long)addr, 0, 0, 0, 0, 0);
}

long am_sys_read(int fd, void *buf, size_t n)
{
	return sc6(SYS_read, fd, (long)buf, (long)n, 0, 0, 0);
}

long am_sys_write(int fd, const void *buf, size_t n)
{
	return sc6(SYS_write, fd, (long)buf, (long)n, 0, 0, 0);
}

long am_sys_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
	return sc6(SYS_pwrite64, fd, (long)buf, (long)n, (long)off, 0, 0);
}

long am_sys_pread(int fd, void *buf, size_t n, uint64_t off)
{
	return sc6(SYS_pread64, fd, (long)buf, (long)n, (long)off, 0, 0);
}

long am_sys_open(const char *path, int flags, int mode)
{
	return sc6(SYS_open, (long)path, flags, mode, 0, 0, 0);
}

long am_sys_openat(int dirfd, const char *path, int flags, int mode)
{
	return sc6(SYS_openat, dirfd, (long)path, flags, mode, 0, 0);
}

long am_sys_ftruncate(int fd, uint64_t len) { return sc6(SYS_ftruncate, fd, (long)len, 0, 0, 0, 0); }

long am_sys_geteuid(void) { return sc6(SYS_geteuid, 0, 0, 0, 0, 0, 0); }

uint64_t am_sys_clock_ns(int clock)
{
	long ts[2] = {0, 0};
	sc6(SYS_clock_gettime, clock, (long)ts, 0, 0, 0, 0);
	return (uint64_t)ts[0] * 1000000000u + (uint64_t)ts[1];
}

void am_sys_exit_group(int status)
{
	for (;;)
		sc6(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

long am_sys_readlink(const char *path, char *buf, size_t n)
{
	return sc6(SYS_readlink, (long)path, (long)buf, (long)n, 0, 0, 0);
}

long am_sys_close(int fd) { return sc6(SYS_close, fd, 0, 0, 0, 0, 0); }

long am_sys_fcntl(int fd, int cmd, long arg) { return sc6(SYS_fcntl, fd, cmd, arg, 0, 0, 0); }

long am_sys_fstat(int fd, struct stat *st) { return sc6(SYS_fstat, fd, (long)st, 0, 0, 0, 0); }

long am_sys_getpid(void) { return sc6(SYS_getpid, 0, 0, 0, 0, 0, 0); }

long am_sys_getrlimit(int res, uint64_t *cur)
{
	uint64_t lim[2]; /* struct rlimit64: soft, hard */
	long r = sc6(SYS_prlimit64, 0, res, 0, (long)lim, 0, 0);
	if (r == 0)
		*cur = lim[0];
	return r;
}

long am_sys_getppid(void) { return sc6(SYS_getppid, 0, 0, 0, 0, 0, 0); }

long am_sys_gettid(void) { return sc6(SYS_gettid, 0, 0, 0, 0, 0, 0); }

long am_sys_futex(int *uaddr, int op, int val, const void *timeout)
{
	return sc6(SYS_futex, (long)uaddr, op, val, (long)timeout, 0, 0);
}

long am_sys_sched_yield(void) { return sc6(SYS_sched_yield, 0, 0, 0, 0, 0, 0); }

long am_sys_tgkill(long pid, long tid, int sig) { return sc6(SYS_tgkill, pid, tid, sig, 0, 0, 0); }

long am_sys_tgsigqueueinfo(long pid, long tid, int sig, const void *info)
{
	return sc6(SYS_rt_tgsigqueueinfo, pid, tid, sig, (long)info, 0, 0);
}

long am_sys_sigprocmask(int how, const uint64_t *set, uint64_t *old)
{
	return sc6(SYS_rt_sigprocmask, how, (long)set, (long)old, 8, 0, 0);
}

long am_sys_getdents64(int fd, void *buf, size_t n) { return sc6(SYS_getdents64, fd, (long)buf, (long)n, 0, 0, 0); }

uint64_t am_sys_now_ns(void)
{
	long ts[2];
	if (sc6(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)ts, 0, 0, 0, 0) != 0)
		return 0;
	return (uint64_t)ts[0] * 1000000000u + (uint64_t)ts[1];
}

long am_sys_forward(long nr, long a, long b, long c, long d, long e, long f)
{
	return sc6(nr, a, b, c, d, e, f);
}

long am_sys_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		long r = am_sys_write(fd, p, n);
		if (r == -4 /* EINTR */)
			continue;
		if (r <= 0)
			return r;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

uint64_t am_sys_count(enum am_sys_counter c)
{
	return __atomic_load_n(&counters[c], __ATOMIC_RELAXED);
}
