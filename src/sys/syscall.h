/* The only door to the kernel.
 *
 * Raw system calls for the library's own use. They never go through libc
 * wrappers (which the library itself intercepts) and never touch errno:
 * every call returns the kernel's raw result, a negative errno on failure
 * (test it with am_sys_failed()). Every call here is async-signal-safe.
 *
 * Address-space calls are counted per kind, so tests can prove claims such
 * as "the no-mmap tier never maps after start-up" by counting, not reading.
 */
#ifndef AM_SYS_SYSCALL_H
#define AM_SYS_SYSCALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stat;

enum am_sys_counter {
	AM_SC_MMAP,
	AM_SC_MUNMAP,
	AM_SC_MREMAP,
	AM_SC_MPROTECT,
	AM_SC_MADVISE,
	AM_SC_BRK,
	AM_SC_NCOUNTERS
};

/* True when a raw result encodes an error (-4095..-1). */
static inline int am_sys_failed(long r) { return (unsigned long)r > -4096UL; }

long am_sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
long am_sys_munmap(void *addr, size_t len);
long am_sys_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr);
long am_sys_mprotect(void *addr, size_t len, int prot);
long am_sys_madvise(void *addr, size_t len, int advice);
long am_sys_mincore(void *addr, size_t len, unsigned char *vec);
long am_sys_brk(void *addr);
long am_sys_read(int fd, void *buf, size_t n);
long am_sys_write(int fd, const void *buf, size_t n);
long am_sys_pwrite(int fd, const void *buf, size_t n, uint64_t off);
long am_sys_pread(int fd, void *buf, size_t n, uint64_t off);
long am_sys_open(const char *path, int flags, int mode);
long am_sys_close(int fd);
long am_sys_fcntl(int fd, int cmd, long arg);
long am_sys_fstat(int fd, struct stat *st);
long am_sys_openat(int dirfd, const char *path, int flags, int mode);
long am_sys_ftruncate(int fd, uint64_t len);
long am_sys_geteuid(void);
/* The time on clock (CLOCK_*) in nanoseconds; 0 if the kernel refused.
 * A real system call (no vDSO): for rare events, not hot paths. */
uint64_t am_sys_clock_ns(int clock);
/* Ends the process with status, as _exit does; never returns. */
__attribute__((noreturn)) void am_sys_exit_group(int status);
long am_sys_readlink(const char *path, char *buf, size_t n);
long am_sys_getpid(void);
long am_sys_getppid(void);
long am_sys_gettid(void);
long am_sys_futex(int *uaddr, int op, int val, const void *timeout);
long am_sys_sched_yield(void);
long am_sys_tgkill(long pid, long tid, int sig);
/* rt_tgsigqueueinfo: sig with the siginfo given (128 bytes). */
long am_sys_tgsigqueueinfo(long pid, long tid, int sig, const void *info);
/* rt_sigprocmask on the kernel's 64-bit mask (SIG_BLOCK...; set may be NULL). */
long am_sys_sigprocmask(int how, const uint64_t *set, uint64_t *old);
/* Directory entries (struct linux_dirent64) of an open directory. */
long am_sys_getdents64(int fd, void *buf, size_t n);
/* CLOCK_MONOTONIC in nanoseconds (0 if the kernel refuses). */
uint64_t am_sys_now_ns(void);
/* The soft limit of resource `res` (RLIMIT_*), or a negative errno. */
long am_sys_getrlimit(int res, uint64_t *cur);

/* Forwards a system call of the program's (the hook layer's replacements
 * of libc wrappers): not counted, since the counters are for the library's
 * own calls. */
long am_sys_forward(long nr, long a, long b, long c, long d, long e, long f);

/* Writes all of buf unless the kernel fails; retries short writes. */
long am_sys_write_all(int fd, const void *buf, size_t n);

/* Number of calls of one kind made through this layer since start. */
uint64_t am_sys_count(enum am_sys_counter c);

#endif
