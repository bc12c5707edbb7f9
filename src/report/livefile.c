/* The live file's life: created at start-up in ALLOCMAP_RUN_DIR, filled
 * with the process's description, handed to the heap's figures
 * (heap/livestats.h), replaced by its own in a forked child.
 *
 * Name: proc-<pid>.live; a pid whose earlier program already made one
 * (an exec of a program that loads the library again) takes
 * proc-<pid>.<k>.live, k = 1, 2, ... (allocmap_live.h). Created with
 * O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, in a directory opened with
 * O_NOFOLLOW|O_DIRECTORY and checked to be owned by our effective user:
 * another user cannot make us write through a link or into their
 * directory. Ignored when AT_SECURE (set-uid/set-gid).
 *
 * Invariants: `mine` is the mapping this process made, or NULL; its
 * pid field is this process's, so a vfork child (which shares its
 * parent's memory and runs no fork handler) is told apart by pid and
 * never writes an end into its parent's file.
 */
#include <fcntl.h>
#include <stddef.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>

#include "../heap/livestats.h"
#include "../options.h"
#include "../sys/log.h"
#include "../sys/syscall.h"
#include "live.h"

#define MAP_LEN (((size_t)allocmap_live_file_size(depth) + 4095) & ~(size_t)4095)
#define DIR_MAX 3072
#define MAX_SUFFIX 64 /* programs one pid may exec that each load the library */

static struct allocmap_live *mine;
static char dir[DIR_MAX];
static unsigned depth; /* ALLOCMAP_STACK: frames per allocation, 0 off */

struct allocmap_live *am_live_mine(void)
{
	struct allocmap_live *L = mine;
	return L && L->process.pid == (int32_t)am_sys_getpid() ? L : NULL;
}

uint64_t am_live_now(const struct allocmap_live *L)
{
	return am_sys_clock_ns(CLOCK_MONOTONIC) - L->process.start_monotonic_ns;
}

void am_live_write_begin(struct allocmap_live *L)
{
	for (int spin = 0; spin < 1000000; spin++) {
		uint32_t s = __atomic_load_n(&L->header.seq, __ATOMIC_RELAXED);
		if (!(s & 1) && __atomic_compare_exchange_n(&L->header.seq, &s, s + 1, 0, __ATOMIC_ACQUIRE,
							    __ATOMIC_RELAXED))
			return;
	}
	__atomic_fetch_add(&L->header.seq, 2, __ATOMIC_ACQUIRE); /* a stuck writer: write anyway, readers retry */
}

void am_live_write_end(struct allocmap_live *L)
{
	uint32_t s = __atomic_load_n(&L->header.seq, __ATOMIC_RELAXED);
	__atomic_store_n(&L->header.seq, (s | 1) + 1, __ATOMIC_RELEASE);
}

/* The run directory, open, if ALLOCMAP_RUN_DIR is usable; else -1 (said why). */
static int open_dir(const char *d)
{
	struct stat st;
	size_t n = 0;
	while (d[n] && n < DIR_MAX)
		n++;
	if (d[0] != '/' || n >= DIR_MAX) {
		am_log("ALLOCMAP_RUN_DIR=%s: not an absolute path; no live file", d);
		return -1;
	}
	long fd = am_sys_open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (am_sys_failed(fd) || am_sys_failed(am_sys_fstat((int)fd, &st)) ||
	    st.st_uid != (uid_t)am_sys_geteuid()) {
		am_log("ALLOCMAP_RUN_DIR=%s: not a directory of ours (error %ld); no live file", d,
		       am_sys_failed(fd) ? -fd : 0L);
		if (!am_sys_failed(fd))
			am_sys_close((int)fd);
		return -1;
	}
	for (size_t i = 0; i <= n; i++)
		dir[i] = d[i];
	return (int)fd;
}

/* Creates this pid's file in dfd; its path in path. A descriptor, or -errno. */
static long create(int dfd, char *path, size_t cap)
{
	int pid = (int)am_sys_getpid();
	char name[64];
	long fd = -17; /* EEXIST */
	for (int k = 0; fd == -17 && k < MAX_SUFFIX; k++) {
		if (k == 0)
			am_fmt(name, sizeof name, "proc-%d.live", pid);
		else
			am_fmt(name, sizeof name, "proc-%d.%d.live", pid, k);
		fd = am_sys_openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	am_fmt(path, cap, "%s/%s", dir, name);
	return fd;
}

/* Reads file into buf (cap bytes); the bytes read, 0 on failure; *more if it is longer. */
static size_t slurp(const char *file, char *buf, size_t cap, uint32_t *more)
{
	long fd = am_sys_open(file, O_RDONLY | O_CLOEXEC, 0);
	size_t len = 0;
	char extra;
	if (am_sys_failed(fd))
		return 0;
	for (long r = 1; r > 0 && len < cap; len += (size_t)r)
		if ((r = am_sys_read((int)fd, buf + len, cap - len)) < 0)
			r = 0;
	*more = len == cap && am_sys_read((int)fd, &extra, 1) == 1;
	am_sys_close((int)fd);
	return len;
}

static void describe(struct allocmap_live *L)
{
	struct allocmap_live_process *p = &L->process;
	p->pid = (int32_t)am_sys_getpid();
	p->ppid = (int32_t)am_sys_getppid();
	p->start_realtime_ns = am_sys_clock_ns(CLOCK_REALTIME);
	p->start_monotonic_ns = am_sys_clock_ns(CLOCK_MONOTONIC);
	p->cmdline_len = (uint32_t)slurp("/proc/self/cmdline", p->cmdline, sizeof p->cmdline, &p->cmdline_truncated);
	long n = am_sys_readlink("/proc/self/exe", p->exe, sizeof p->exe - 1);
	p->exe[am_sys_failed(n) ? 0 : n] = '\0';
}

/* A new mapped file for this pid in the run directory, or NULL. */
static struct allocmap_live *make(void)
{
	char path[DIR_MAX + 64];
	long dfd = am_sys_open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	long fd = am_sys_failed(dfd) ? dfd : create((int)dfd, path, sizeof path);
	struct allocmap_live *L = NULL;
	if (!am_sys_failed(fd) && !am_sys_failed(am_sys_ftruncate((int)fd, (long)allocmap_live_file_size(depth))))
		L = am_live_map((int)fd, MAP_LEN, path);
	if (am_sys_failed(fd) || !L)
		am_log("cannot create a live file in %s (error %ld); none for pid %ld", dir,
		       am_sys_failed(fd) ? -fd : 0L, am_sys_getpid());
	if (!am_sys_failed(fd))
		am_sys_close((int)fd);
	if (!am_sys_failed(dfd))
		am_sys_close((int)dfd);
	return L;
}

static void stamp(struct allocmap_live *L)
{
	L->header.version = ALLOCMAP_LIVE_VERSION;
	L->header.file_size = allocmap_live_file_size(depth);
	L->header.site_rows = ALLOCMAP_LIVE_SITES;
	L->header.stack_depth = depth;
	__atomic_store_n(&L->header.magic, ALLOCMAP_LIVE_MAGIC, __ATOMIC_RELEASE);
}

int am_live_start(void)
{
	const char *d = am_env("ALLOCMAP_RUN_DIR");
	if (!d || getauxval(AT_SECURE))
		return -1;
	long dfd = open_dir(d);
	if (dfd < 0)
		return -1;
	am_sys_close((int)dfd);
	depth = (unsigned)am_env_count("ALLOCMAP_STACK", 0, 1, ALLOCMAP_LIVE_MAX_DEPTH);
	struct allocmap_live *L = make();
	if (!L)
		return -1;
	describe(L);
	stamp(L);
	mine = L;
	am_live_modules();
	am_live_attach(L, 1);
	return 0;
}

/* The child's counters start at the fork; its live chunks are the
 * parent's. The rows are copied one by one (only those claimed: the rest
 * of the new file stays a hole). */
static struct allocmap_live *copy_from, *copy_to;

static void copy_site(struct allocmap_live_site *from)
{
	uint32_t i = (uint32_t)(from - copy_from->site);
	struct allocmap_live_site *s = &copy_to->site[i];
	*s = *from;
	for (unsigned k = 0; k < depth; k++)
		allocmap_live_frames(copy_to, i)[k] = allocmap_live_frames(copy_from, i)[k];
	s->calls = s->total_bytes = s->temporary = 0;
	s->peak_bytes = s->live_bytes;
}

static void restart(struct allocmap_live *L)
{
	struct allocmap_live_heap *h = &L->heap;
	h->calls = h->total_bytes = h->frees = h->temporary = h->site_overflow = 0;
	h->peak_bytes = h->peak_snap_bytes = h->live_bytes;
	h->peak_chunks = h->live_chunks;
	h->peak_ns = 0;
	L->end = (struct allocmap_live_end_info){0};
	L->header.seq = 0;
}

void am_live_forked(void)
{
	struct allocmap_live *old = mine, *L;
	if (!old)
		return;
	am_live_attach(NULL, 0);
	mine = NULL;
	if ((L = make()) != NULL) {
		__builtin_memcpy(L, old, offsetof(struct allocmap_live, site));
		copy_from = old, copy_to = L;
		am_site_each(old, copy_site);
		restart(L);
		L->process.pid = (int32_t)am_sys_getpid();
		L->process.ppid = (int32_t)am_sys_getppid();
		L->process.start_realtime_ns = am_sys_clock_ns(CLOCK_REALTIME);
		L->process.start_monotonic_ns = am_sys_clock_ns(CLOCK_MONOTONIC);
		L->process.forked = 1;
		mine = L;
		am_live_attach(L, 0);
	}
	am_live_unmap(old, MAP_LEN);
}
