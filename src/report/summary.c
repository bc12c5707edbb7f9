/* The exit summary's layout: a plain-text account of one process, written
 * when ALLOCMAP_REPORT names a destination (see report.h; where the bytes
 * go is sink.c's business).
 *
 * Sections: the process (pid, parent, command line); the address space by
 * allocator and kind, from a walk of every map; the events the hooks saw;
 * what could not be indexed (mappings, heap chunks); the heap; the two
 * private tiers; the check's result when ALLOCMAP_CHECK_AT_EXIT is on.
 * Every figure comes through the public API (allocmap.h), as a program
 * of its own would read it.
 *
 * It runs in the library's destructor, possibly in many processes of one
 * program tree at once, so: nothing is allocated, no stdio, raw system
 * calls only. The text is built in one static buffer and written with one
 * write, so reports of several processes appended to one file do not
 * interleave (with the check on, its lines are a second and third write).
 * Single-threaded by contract: the destructor runs once per process.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>

#include "../../include/allocmap.h"
#include "../options.h"
#include "../sys/log.h"
#include "../sys/syscall.h"
#include "report.h"
#include "sink.h"

#define REPORT_BYTES 16384 /* the whole report; the tables are bounded */
#define CMDLINE_BYTES 512  /* of the command line shown; longer ends in "..." */
#define MAX_ROWS 32        /* (allocator, kind) pairs: origins x kinds seen */
#define MAX_OPEN 64        /* sequence extents open at one address while walking */

struct rep {
	char *buf;
	size_t len, cap;
};

static char report_buf[REPORT_BYTES];

static void put(struct rep *r, const char *s)
{
	while (*s && r->len + 1 < r->cap)
		r->buf[r->len++] = *s++;
}

static void putf(struct rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct rep *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->len += am_vfmt(r->buf + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
}

/* s in a column of `width`, right-aligned if right, preceded by a space. */
static void col(struct rep *r, const char *s, size_t width, int right)
{
	size_t n = 0;
	while (s[n])
		n++;
	put(r, " ");
	for (size_t i = n; right && i < width; i++)
		put(r, " ");
	put(r, s);
	for (size_t i = n; !right && i < width; i++)
		put(r, " ");
}

static void col_u(struct rep *r, uint64_t v, size_t width)
{
	char s[24];
	am_fmt(s, sizeof s, "%llu", (unsigned long long)v);
	col(r, s, width, 1);
}

static uint64_t tenths(uint64_t v, uint64_t unit)
{
	return v / unit * 10 + (v % unit * 10 + unit / 2) / unit;
}

/* Bytes for people: "812 B", "4.0 KiB", "40.0 MiB" (rounded to a tenth). */
static void human(char *s, size_t cap, uint64_t v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;
	uint64_t unit = 1;
	while (u < 6 && (v / unit >= 1024 || tenths(v, unit) >= 10240)) /* 1023.96 KiB: 1.0 MiB */
		unit <<= 10, u++;
	uint64_t t = tenths(v, unit);
	if (u == 0)
		am_fmt(s, cap, "%llu B", (unsigned long long)v);
	else
		am_fmt(s, cap, "%llu.%llu %s", (unsigned long long)(t / 10), (unsigned long long)(t % 10),
		       units[u]);
}

static void col_bytes(struct rep *r, uint64_t v, size_t width)
{
	char s[32];
	human(s, sizeof s, v);
	col(r, s, width, 1);
}

/* ---- the process ---------------------------------------------------- */

/* /proc/self/cmdline with the NULs between arguments shown as spaces. */
static void put_cmdline(struct rep *r)
{
	char cmd[CMDLINE_BYTES + 1];
	long fd = am_sys_open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC, 0), n = 0;
	if (fd >= 0) {
		long got;
		while (n < CMDLINE_BYTES && (got = am_sys_read((int)fd, cmd + n, CMDLINE_BYTES - n)) > 0)
			n += got;
		am_sys_close((int)fd);
	}
	while (n > 0 && cmd[n - 1] == '\0')
		n--;
	for (long i = 0; i < n; i++)
		if ((unsigned char)cmd[i] < ' ' || cmd[i] == 0x7f)
			cmd[i] = cmd[i] == '\0' ? ' ' : '?';
	cmd[n] = '\0';
	putf(r, "command: %s%s\n", n ? cmd : "(unknown)", n == CMDLINE_BYTES ? "..." : "");
}

/* ---- the address space ---------------------------------------------- */

struct row {
	const char *allocator;
	enum allocmap_kind kind;
	uint64_t maps, seqs, bytes;
};

struct extent {
	uintptr_t lo, hi;
};

struct space {
	struct row rows[MAX_ROWS];
	unsigned nrows;
	/* Extents of the sequences met so far that reach past the current
	 * map: a sequence's maps need not be adjacent (another can sit in a
	 * hole of its extent), so "first map of its sequence" is "extent
	 * not open yet". */
	struct extent open[MAX_OPEN];
	unsigned nopen;
};

static const char *kind_name(enum allocmap_kind k)
{
	const char *s = allocmap_kind_name(k);
	return s ? s : "?";
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static struct row *row_for(struct space *sp, const char *allocator, enum allocmap_kind kind)
{
	for (unsigned i = 0; i < sp->nrows; i++)
		if (sp->rows[i].kind == kind && same(sp->rows[i].allocator, allocator))
			return &sp->rows[i];
	if (sp->nrows == MAX_ROWS)
		return &sp->rows[MAX_ROWS - 1]; /* cannot happen: origins x kinds < MAX_ROWS */
	sp->rows[sp->nrows] = (struct row){allocator, kind, 0, 0, 0};
	return &sp->rows[sp->nrows++];
}

/* 1 if the map's sequence was not met before; remembers its extent. */
static int new_sequence(struct space *sp, const struct allocmap_info *m)
{
	uintptr_t lo = (uintptr_t)m->map_base, hi = lo + m->map_size;
	unsigned keep = 0, lowest = 0;
	for (unsigned i = 0; i < sp->nopen; i++)
		if (sp->open[i].hi > (uintptr_t)m->base)
			sp->open[keep++] = sp->open[i];
	sp->nopen = keep;
	for (unsigned i = 0; i < sp->nopen; i++) {
		if (sp->open[i].lo == lo && sp->open[i].hi == hi)
			return 0;
		if (sp->open[i].hi < sp->open[lowest].hi)
			lowest = i;
	}
	if (sp->nopen == MAX_OPEN)
		sp->open[lowest] = (struct extent){lo, hi}; /* > MAX_OPEN nested: may count twice */
	else
		sp->open[sp->nopen++] = (struct extent){lo, hi};
	return 1;
}

static int count_map(const struct allocmap_info *m, void *arg)
{
	struct space *sp = arg;
	struct row *row = row_for(sp, m->allocator, m->kind);
	row->maps++;
	row->bytes += m->size;
	row->seqs += (uint64_t)new_sequence(sp, m);
	return 0;
}

/* The program's memory first, allocmap's own last; larger first. */
static int before(const struct row *a, const struct row *b)
{
	if ((a->kind == ALLOCMAP_SELF) != (b->kind == ALLOCMAP_SELF))
		return b->kind == ALLOCMAP_SELF;
	return a->bytes > b->bytes;
}

static void sort_rows(struct space *sp)
{
	for (unsigned i = 1; i < sp->nrows; i++)
		for (unsigned j = i; j > 0 && before(&sp->rows[j], &sp->rows[j - 1]); j--) {
			struct row t = sp->rows[j];
			sp->rows[j] = sp->rows[j - 1], sp->rows[j - 1] = t;
		}
}

static void put_row(struct rep *r, const char *allocator, const char *kind, const struct row *v)
{
	put(r, " ");
	col(r, allocator, 16, 0);
	col(r, kind, 7, 0);
	col_u(r, v->maps, 7);
	col_u(r, v->seqs, 7);
	col_bytes(r, v->bytes, 11);
	put(r, "\n");
}

static void put_space(struct rep *r)
{
	static struct space sp;
	sp.nrows = sp.nopen = 0;
	put(r, "\naddress space\n ");
	col(r, "allocator", 16, 0);
	col(r, "kind", 7, 0);
	col(r, "maps", 7, 1);
	col(r, "seqs", 7, 1);
	col(r, "bytes", 11, 1);
	put(r, "\n");
	if (allocmap_walk(ALLOCMAP_WALK_MAPS, count_map, &sp) != 0) {
		put(r, "  (no walk: the index is not running, or this thread is inside it)\n");
		return;
	}
	sort_rows(&sp);
	struct row total = {0};
	for (unsigned i = 0; i < sp.nrows; i++) {
		put_row(r, sp.rows[i].allocator, kind_name(sp.rows[i].kind), &sp.rows[i]);
		total.maps += sp.rows[i].maps, total.seqs += sp.rows[i].seqs, total.bytes += sp.rows[i].bytes;
	}
	put_row(r, "total", "", &total);
}

/* ---- events and the private tiers ----------------------------------- */

static void put_count(struct rep *r, const char *label, uint64_t v)
{
	put(r, " ");
	col(r, label, 22, 0);
	col_u(r, v, 10);
	put(r, "\n");
}

static void put_events(struct rep *r, const struct allocmap_heap_stats *hs)
{
	struct allocmap_index_stats ix;
	struct allocmap_event_stats ev;
	allocmap_index_stats(&ix);
	allocmap_event_stats(&ev);
	put(r, "\nevents intercepted\n");
	put_count(r, "mmap", ev.mmap);
	put_count(r, "munmap", ev.munmap);
	put_count(r, "mprotect", ev.mprotect);
	put_count(r, "mremap", ev.mremap);
	put_count(r, "brk", ev.brk);
	put_count(r, "loader", ev.loader);
	put_count(r, "resyncs", ix.resyncs);
	put_count(r, "dropped", ix.dropped);
	put_count(r, "holes plugged", ix.holes_plugged);
	put_count(r, "own maps placed", ev.own_placed);
	put_count(r, "own maps not placed", ev.own_unplaced);
	put(r, "\nnot indexed (no record could be had)\n");
	put_count(r, "mapping ranges", ix.missed);
	put_count(r, "heap chunks", hs->unindexed);
}

/* hs: allocmap_heap_stats' figures, rc its return. */
static void put_heap(struct rep *r, const struct allocmap_heap_stats *hs, int rc)
{
	const char *malloc_name = allocmap_heap_malloc();
	put(r, "\nheap (the program's malloc)\n");
	if (rc != 0 || !hs->indexed) {
		put(r, "  not indexed: a malloc resolved before allocmap's, or allocmap is off "
		       "(queries answer by mapping)\n");
		return;
	}
	if (malloc_name && same(malloc_name, "other"))
		put(r, "  another malloc than glibc's: chunk sizes are those asked for, rounded up to 16 bytes\n");
	put_count(r, "live chunks", hs->live_chunks);
	put(r, " ");
	col(r, "live bytes", 22, 0);
	col_bytes(r, hs->live_bytes, 10);
	put(r, "\n");
	put_count(r, "arenas with a bitmap", hs->arenas);
	put_count(r, "calls off the fast path", hs->slow_path);
}

static void put_tier_bytes(struct rep *r, const char *label, size_t a, size_t b)
{
	put(r, " ");
	col(r, label, 22, 0);
	col_bytes(r, a, 11);
	col_bytes(r, b, 11);
	put(r, "\n");
}

static void put_tier_count(struct rep *r, const char *label, uint64_t a, uint64_t b)
{
	put(r, " ");
	col(r, label, 22, 0);
	col_u(r, a, 11);
	col_u(r, b, 11);
	put(r, "\n");
}

static void put_tiers(struct rep *r)
{
	struct allocmap_tier_stats n, m;
	allocmap_tier_stats(ALLOCMAP_TIER_NOMMAP, &n);
	allocmap_tier_stats(ALLOCMAP_TIER_MMAP, &m);
	put(r, "\nprivate tiers\n ");
	col(r, "", 22, 0);
	col(r, "no-mmap", 11, 1);
	col(r, "mmap", 11, 1);
	put(r, "\n");
	put_tier_bytes(r, "reserved", n.reserved, m.reserved);
	put_tier_bytes(r, "footprint", n.footprint, m.footprint);
	put_tier_bytes(r, "peak footprint", n.peak_footprint, m.peak_footprint);
	put_tier_bytes(r, "in use", n.in_use, m.in_use);
	put_tier_bytes(r, "peak in use", n.peak_in_use, m.peak_in_use);
	put_tier_bytes(r, "resident", n.resident, m.resident);
	put_tier_count(r, "live blocks", n.live_blocks, m.live_blocks);
	put_tier_count(r, "failed", n.failed, m.failed);
	put_tier_count(r, "bad frees", n.bad_frees, m.bad_frees);
}

/* ---- writing -------------------------------------------------------- */

static void flush(struct rep *r, int fd)
{
	am_sink_write(fd, r->buf, r->len);
	r->len = 0;
}

static void put_check(struct rep *r, int fd)
{
	put(r, "\ncheck at exit (index against /proc/self/maps, invariants)\n");
	flush(r, fd);
	int n = allocmap_check(fd);
	if (n < 0)
		put(r, "  the check could not run\n");
	else
		putf(r, "  %d discrepanc%s\n", n, n == 1 ? "y" : "ies");
}

int am_report_at_exit(void)
{
	const char *name = am_env("ALLOCMAP_REPORT");
	if (!name)
		return 0;
	int fd = am_sink_open(name);
	if (fd < 0)
		return 0; /* said why, or stderr is gone */
	struct rep r = {.buf = report_buf, .len = 0, .cap = sizeof report_buf};
	struct allocmap_heap_stats hs;
	int heap_rc = allocmap_heap_stats(&hs);
	putf(&r, "== allocmap %s report: pid %ld (parent %ld) ==\n", ALLOCMAP_VERSION, am_sys_getpid(),
	     am_sys_getppid());
	put_cmdline(&r);
	put_space(&r);
	put_events(&r, &hs);
	put_heap(&r, &hs, heap_rc);
	put_tiers(&r);
	if (am_env_bool("ALLOCMAP_CHECK_AT_EXIT", 0))
		put_check(&r, fd);
	put(&r, "== end of report ==\n");
	flush(&r, fd);
	am_sink_close(fd);
	return 1;
}
