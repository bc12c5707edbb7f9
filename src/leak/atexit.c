/* ALLOCMAP_LEAKS: the leak check in the library's destructor.
 *
 *   ALLOCMAP_LEAKS=1 (yes, on, true)  scan at exit, report
 *   ALLOCMAP_LEAKS=error              the same, and a process that would
 *                                     exit 0 exits ALLOCMAP_LEAKS_STATUS
 *                                     when definitely lost bytes (not
 *                                     suppressed) are > 0
 *   unset, 0, no, off, false, ""      nothing
 *
 * The report: when ALLOCMAP_RUN_DIR is set, every group and the totals
 * in $ALLOCMAP_RUN_DIR/proc-<pid>.leaks (format: include/allocmap_leaks.h),
 * created O_EXCL|O_NOFOLLOW, mode 0600, for allocmap run's report (the
 * program's stderr is left alone); without it, or if the file cannot
 * be made, one summary line and the top groups on stderr, Valgrind's
 * words. Text is built in static buffers
 * (the destructor runs once per process) and written with raw calls.
 *
 * The exit status: the destructor runs inside exit(), before stdio is
 * flushed; it patches libc's _exit (hook/exitcode.c) rather than ending
 * the process itself. A process that ends without exit() (_exit, a
 * signal, exec) is not scanned.
 */
#include <fcntl.h>
#include <stdarg.h>

#include "../../include/allocmap_leaks.h"
#include "../hook/hook.h"
#include "../options.h"
#include "../sys/log.h"
#include "../sys/syscall.h"
#include "leak.h"

#define TOP_GROUPS 10 /* groups shown on stderr */

struct out {
	int fd;
	char buf[8192];
	size_t len;
};

struct report {
	struct out file;               /* the .leaks file, fd -1 if none */
	char lines[TOP_GROUPS][512];   /* the top groups for stderr, each ending in '\n' */
	size_t len[TOP_GROUPS];
	unsigned nlines, more;
	struct allocmap_leak_totals tot;
};

static struct report rep;

static void flush(struct out *o)
{
	if (o->fd >= 0 && o->len)
		am_sys_write_all(o->fd, o->buf, o->len);
	o->len = 0;
}

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	size_t n = am_vfmt(line, sizeof line, fmt, ap);
	va_end(ap);
	if (o->len + n > sizeof o->buf)
		flush(o);
	for (size_t i = 0; i < n; i++)
		o->buf[o->len++] = line[i];
}

static const char *const class_word[] = {"definite", "indirect", "possible", "reachable"};
static const char *const class_text[] = {"definitely lost", "indirectly lost", "possibly lost", "still reachable"};

static void file_group(const struct allocmap_leak_group *g)
{
	emit(&rep.file, "group %s %zu %zu %d %p 0x%zx %s 0x%zx %s\n", class_word[g->cls], g->bytes, g->count,
	     g->suppressed, g->site, g->offset, g->symbol ? g->symbol : "-", g->symbol_offset,
	     g->object ? g->object : "-");
}

static void stderr_group(const struct allocmap_leak_group *g)
{
	if (g->suppressed || g->cls == ALLOCMAP_LEAK_REACHABLE)
		return;
	if (rep.nlines == TOP_GROUPS) {
		rep.more++;
		return;
	}
	char *l = rep.lines[rep.nlines];
	size_t n = am_fmt(l, 500, "allocmap:   %s: %zu bytes in %zu blocks at %p", class_text[g->cls], g->bytes,
			  g->count, g->site);
	if (g->symbol)
		n += am_fmt(l + n, 500 - n, " %s+0x%zx", g->symbol, g->symbol_offset);
	if (g->object)
		n += am_fmt(l + n, 500 - n, " (%s+0x%zx)", g->object, g->offset);
	l[n] = '\n';
	rep.len[rep.nlines++] = n + 1;
}

static int collect(const struct allocmap_leak_group *g, const struct allocmap_leak_totals *t, void *arg)
{
	(void)arg;
	rep.tot = *t;
	if (g) {
		file_group(g);
		stderr_group(g);
	}
	return 0;
}

static void file_totals(const struct allocmap_leak_totals *t)
{
	emit(&rep.file, "totals");
	for (int c = 0; c < ALLOCMAP_LEAK_CLASSES; c++)
		emit(&rep.file, " %s %zu %zu", class_word[c], t->bytes[c], t->count[c]);
	emit(&rep.file, "\nsuppressed");
	for (int c = 0; c < ALLOCMAP_LEAK_CLASSES; c++)
		emit(&rep.file, " %s %zu %zu", class_word[c], t->suppressed_bytes[c], t->suppressed_count[c]);
	emit(&rep.file, "\nscan chunks %zu roots %zu threads %u unstopped %u stopped_ns %llu scan_ns %llu\n",
	     t->chunks, t->root_bytes, t->threads, t->threads_unstopped, (unsigned long long)t->stopped_ns,
	     (unsigned long long)t->scan_ns);
	emit(&rep.file, "end\n");
}

static void print_summary(const struct allocmap_leak_totals *t)
{
	size_t supb = 0, supc = 0;
	for (int c = 0; c < ALLOCMAP_LEAK_CLASSES; c++)
		supb += t->suppressed_bytes[c], supc += t->suppressed_count[c];
	am_log("LEAK SUMMARY: definitely lost: %zu bytes in %zu blocks, indirectly lost: %zu bytes in %zu blocks, "
	       "possibly lost: %zu bytes in %zu blocks, still reachable: %zu bytes in %zu blocks, suppressed: %zu "
	       "bytes in %zu blocks",
	       t->bytes[0], t->count[0], t->bytes[1], t->count[1], t->bytes[2], t->count[2], t->bytes[3], t->count[3],
	       supb, supc);
	for (unsigned i = 0; i < rep.nlines; i++)
		am_sys_write_all(2, rep.lines[i], rep.len[i]);
	if (rep.more)
		am_log("  ... and %u more groups", rep.more);
}

static int open_file(void)
{
	const char *dir = am_env("ALLOCMAP_RUN_DIR");
	char path[4096];
	if (!dir || !*dir)
		return -1;
	if (am_fmt(path, sizeof path, "%s/proc-%ld.leaks", dir, am_sys_getpid()) >= sizeof path - 1)
		return -1;
	long fd = am_sys_open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (am_sys_failed(fd))
		am_log("cannot create %s: error %ld; leaks go to stderr only", path, -fd);
	return am_sys_failed(fd) ? -1 : (int)fd;
}

/* 0: off, 1: report, 2: report and exit status. */
static int mode(void)
{
	const char *s = am_env("ALLOCMAP_LEAKS");
	if (s && s[0] == 'e' && s[1] == 'r' && s[2] == 'r' && s[3] == 'o' && s[4] == 'r' && !s[5])
		return 2;
	int b = s ? am_parse_bool(s) : 0;
	if (b < 0)
		am_env_bad("ALLOCMAP_LEAKS", s, "neither a boolean (1/0, yes/no, on/off, true/false) nor error", 0);
	return b > 0;
}

void am_leak_at_exit(void)
{
	int m = mode();
	if (!m)
		return;
	rep.file.fd = open_file();
	emit(&rep.file, "%s\npid %ld\n", ALLOCMAP_LEAKS_MAGIC, am_sys_getpid());
	if (allocmap_leak_scan(ALLOCMAP_LEAK_SHOW_REACHABLE | ALLOCMAP_LEAK_SHOW_SUPPRESSED | AM_LEAK_AT_EXIT, collect, NULL) != 0) {
		am_log("the leak scan could not run (heap not indexed, or no memory)");
		if (rep.file.fd >= 0)
			am_sys_close(rep.file.fd);
		return;
	}
	file_totals(&rep.tot);
	flush(&rep.file);
	if (rep.file.fd >= 0)
		am_sys_close(rep.file.fd);
	else
		print_summary(&rep.tot);
	if (m == 2 && rep.tot.bytes[ALLOCMAP_LEAK_DEFINITE] > 0 && am_hook_exit_status(ALLOCMAP_LEAKS_STATUS) != 0)
		am_log("ALLOCMAP_LEAKS=error: cannot change the exit status");
}
