/* The exit summary's destination (sink.h).
 *
 * "-" means the stderr the process started with. Programs close fd 2
 * before exiting (coreutils do) or reuse the number for a file of their
 * own, so a constructor sets a close-on-exec duplicate aside (at or above
 * SPARE_FD_MIN) and the report goes to whichever of it and fd 2 still
 * names the same file as at start — never into a file the program opened.
 * The price: one extra descriptor while the report goes to stderr.
 *
 * Reports of several processes append to one file, so it cannot be made
 * with O_EXCL; the safe equivalent: no symbolic link (O_NOFOLLOW), a new
 * file readable by its owner only, and an existing regular file taken
 * only if it is this user's with no other name (no hard link to a file
 * elsewhere). A device or a pipe (/dev/null, /dev/fd/N) is written as
 * named. Raw system calls only, nothing allocated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../options.h"
#include "../sys/log.h"
#include "../sys/syscall.h"
#include "sink.h"

#define SPARE_FD_MIN 1000 /* out of the way of the low numbers programs choose */

static int spare_fd = -1;         /* the duplicate of the starting stderr */
static uint64_t err_dev, err_ino; /* what the starting stderr was */

static const char *error_text(long e)
{
	switch (-e) {
	case ENOENT: return "no such file or directory";
	case EACCES: return "permission denied";
	case ENOTDIR: return "not a directory";
	case EISDIR: return "is a directory";
	case EROFS: return "read-only file system";
	case ENOSPC: return "no space left on device";
	case ENAMETOOLONG: return "file name too long";
	case ELOOP: return "it is a symbolic link: refused";
	default: return "cannot open";
	}
}

static int identify(int fd, uint64_t *dev, uint64_t *ino)
{
	struct stat st;
	if (fd < 0 || am_sys_fstat(fd, &st) != 0)
		return -1;
	*dev = st.st_dev, *ino = st.st_ino;
	return 0;
}

static int is_stderr(int fd)
{
	uint64_t dev, ino;
	return identify(fd, &dev, &ino) == 0 && dev == err_dev && ino == err_ino;
}

static int to_stderr(const char *name) { return !name[0] || (name[0] == '-' && !name[1]); }

__attribute__((constructor)) static void am_report_keep_stderr(void)
{
	const char *name = am_env("ALLOCMAP_REPORT");
	if (!name || !to_stderr(name) || identify(2, &err_dev, &err_ino) != 0)
		return;
	long fd = am_sys_fcntl(2, F_DUPFD_CLOEXEC, SPARE_FD_MIN);
	if (fd < 0) /* RLIMIT_NOFILE below SPARE_FD_MIN */
		fd = am_sys_fcntl(2, F_DUPFD_CLOEXEC, 3);
	spare_fd = fd < 0 ? -1 : (int)fd;
}

/* Expands "%p" to the pid (and "%%" to "%"); 0, or -1 if too long. */
static int expand_path(char *out, size_t cap, const char *name)
{
	size_t n = 0;
	for (const char *s = name; *s; s++) {
		if (s[0] == '%' && (s[1] == 'p' || s[1] == '%')) {
			n += s[1] == 'p' ? am_fmt(out + n, cap - n, "%ld", am_sys_getpid()) : am_fmt(out + n, cap - n, "%%");
			s++;
		} else if (n + 1 < cap) {
			out[n++] = *s;
		}
		if (n + 1 >= cap)
			return -1;
	}
	out[n] = '\0';
	return 0;
}

/* fd if the opened file may be written (see the top of the file), else
 * -1 (closed, said why). */
static int own_file(long fd, const char *path)
{
	struct stat st;
	if (am_sys_fstat((int)fd, &st) == 0 &&
	    (!S_ISREG(st.st_mode) || (st.st_uid == (uid_t)am_sys_geteuid() && st.st_nlink == 1)))
		return (int)fd;
	am_log("report: refusing %s: a file of another user's, or with another name", path);
	am_sys_close((int)fd);
	return -1;
}

int am_sink_open(const char *name)
{
	static char path[4096];
	if (to_stderr(name))
		return is_stderr(spare_fd) ? spare_fd : is_stderr(2) ? 2 : -1;
	if (expand_path(path, sizeof path, name) != 0) {
		am_log("report: file name too long: %s", name);
		return -1;
	}
	long fd = am_sys_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		am_log("report: cannot write %s: %s", path, error_text(fd));
	return fd < 0 ? -1 : own_file(fd, path);
}

void am_sink_write(int fd, const char *buf, size_t len) { am_sys_write_all(fd, buf, len); }

void am_sink_close(int fd)
{
	if (fd != 2)
		am_sys_close(fd);
}
