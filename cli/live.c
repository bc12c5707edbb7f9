/* The live file's binary layout, read (and, for the test fixture,
 * written) here and nowhere else in the CLI.
 *
 * The layout is include/allocmap_live.h, the library's: this file maps
 * its fields to the names of the run document (doc/report-schema.json).
 * The tables below pair each JSON name with a field's offset, so a
 * renamed or moved field is one line.
 *
 * Consistency (the header's protocol): the sections the library writes
 * as a whole (process, end, modules) are copied under the header's seq,
 * a seqlock, retried while a writer is inside or the seq moved; the
 * counters (heap, site rows) are read one aligned 8-byte word at a time.
 *
 * Where the header and the run document differ (adapted on this side):
 * - a site row keeps one return address as its key, or (stack_depth > 0)
 *   a stack's key and its frames in the frames area: such a site has
 *   "frames" (every frame kept) and "location" (frame 0); a stack row
 *   whose frames are not written yet has neither;
 * - row 0 of the site table is "other" (sites_other), not a separate row;
 * - internal counters are fixed fields, not named rows: the JSON
 *   "counters" object lists them under their field names (and the
 *   fixture can write those names only);
 * - a space row's kind is enum allocmap_kind: named as the library's
 *   text summary names it (src/report/summary.c); its allocator has 16
 *   bytes;
 * - a module's "start" is the header's base;
 * - duration_ns is end.end_ns (0 while the process runs or when it ended
 *   without a word);
 * - exit_status is given only when the library knew it (status_known):
 *   a process that returned from main has it from wait() only (collect.c);
 * - process.forked has no place in the run document: not shown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "allocmap.h"
#include "allocmap_live.h"
#include "cli.h"
#include "live.h"

struct live {
	const struct allocmap_live *f;
	size_t len;
	char name[64];
};

/* A consistent copy of the sections guarded by seq, and the heap's
 * counters read word by word. */
struct snap {
	struct allocmap_live_process process;
	struct allocmap_live_heap heap;
	struct allocmap_live_end_info end;
	struct allocmap_live_modules modules;
	uint32_t stack_depth;
};

/* One uint64_t field of a section and its JSON name. */
struct field {
	const char *name;
	size_t off;
};
#define F(name, type, member) {name, offsetof(type, member)}
#define HEAP struct allocmap_live_heap
#define END struct allocmap_live_end_info
#define SITE struct allocmap_live_site

static const struct field heap_fields[] = {
	F("live_bytes", HEAP, live_bytes),   F("live_chunks", HEAP, live_chunks), F("peak_bytes", HEAP, peak_bytes),
	F("peak_chunks", HEAP, peak_chunks), F("peak_time_ns", HEAP, peak_ns),	   F("calls", HEAP, calls),
	F("bytes_total", HEAP, total_bytes), F("temporary", HEAP, temporary),
};
static const struct field rss_fields[] = {F("final_bytes", END, rss_bytes), F("peak_bytes", END, hwm_bytes)};
static const struct field own_fields[] = {F("reserved_bytes", END, own_reserved),
					  F("resident_bytes", END, own_resident)};
/* "counters" (--verbose): the end section's, then two of the heap's. */
static const struct field end_counters[] = {
	F("events", END, events),	    F("resyncs", END, resyncs), F("dropped", END, dropped),
	F("holes_plugged", END, holes_plugged), F("missed", END, missed),
	F("unindexed_chunks", END, unindexed_chunks), F("slow_path", END, slow_path), F("nudged", END, nudged),
};
static const struct field heap_counters[] = {F("frees", HEAP, frees), F("site_overflow", HEAP, site_overflow)};
static const struct field site_fields[] = {
	F("live_bytes", SITE, live_bytes), F("live_count", SITE, live_count),	F("peak_bytes", SITE, peak_bytes),
	F("calls", SITE, calls),	   F("bytes_total", SITE, total_bytes), F("temporary", SITE, temporary),
};
#define NF(t) (sizeof t / sizeof t[0])

/* enum allocmap_live_end */
static const char *const ended_names[] = {"running", "exit", "_exit", "exec", "signal"};

/* enum allocmap_kind, as src/report/summary.c names it */
static const char *const kind_names[] = {
	[ALLOCMAP_UNKNOWN] = "unknown", [ALLOCMAP_HEAP_CHUNK] = "heap", [ALLOCMAP_ANON] = "anon",
	[ALLOCMAP_FILE] = "file",       [ALLOCMAP_OBJECT] = "object",   [ALLOCMAP_BRK] = "brk",
	[ALLOCMAP_STACK] = "stack",     [ALLOCMAP_SELF] = "self",
};

static uint64_t load64(const void *p)
{
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

/* ---- a consistent copy ---- */

#define SEQ_TRIES 2000 /* then 10 us apart: a writer killed inside leaves seq odd for good */

static void copy_sections(struct snap *s, const struct allocmap_live *f)
{
	memcpy(&s->process, &f->process, sizeof s->process);
	memcpy(&s->end, &f->end, sizeof s->end);
	/* the rows in use only: the table is half a megabyte */
	memcpy(&s->modules, &f->modules, offsetof(struct allocmap_live_modules, row));
	uint32_t n = s->modules.count < ALLOCMAP_LIVE_MODULES ? s->modules.count : ALLOCMAP_LIVE_MODULES;
	memcpy(s->modules.row, f->modules.row, n * sizeof s->modules.row[0]);
}

/* Copies process, end and modules under seq, then the heap's counters.
 * 0, or -1 if no consistent copy came in time (a writer died inside, or
 * one keeps writing): s holds the last try. */
static int take_snap(struct snap *s, const struct allocmap_live *f)
{
	int rc = -1;
	for (int i = 0; i < SEQ_TRIES; i++) {
		uint32_t before = __atomic_load_n(&f->header.seq, __ATOMIC_ACQUIRE);
		if (!(before & 1)) {
			copy_sections(s, f);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&f->header.seq, __ATOMIC_RELAXED) == before) {
				rc = 0;
				break;
			}
		} else if (i == SEQ_TRIES - 1) {
			copy_sections(s, f);
		}
		if (i >= 100)
			nanosleep(&(struct timespec){0, 10000}, NULL);
	}
	const uint64_t *from = (const uint64_t *)&f->heap;
	uint64_t *to = (uint64_t *)&s->heap;
	for (size_t i = 0; i < sizeof s->heap / sizeof *to; i++)
		to[i] = load64(from + i);
	s->stack_depth = f->header.stack_depth;
	return rc;
}

/* ---- decoding ---- */

static void put_fields(json_t *o, const void *base, const struct field *fs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		memcpy(&v, (const char *)base + fs[i].off, sizeof v);
		json_object_set_new(o, fs[i].name, json_integer((json_int_t)v));
	}
}

static json_t *fields_object(const void *base, const struct field *fs, size_t n)
{
	json_t *o = json_object();
	put_fields(o, base, fs, n);
	return o;
}

/* A bounded, possibly unterminated string field. */
static json_t *bounded(const char *s, size_t cap)
{
	return json_stringn(s, strnlen(s, cap));
}

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

static json_t *cmdline(const struct allocmap_live_process *p)
{
	json_t *a = json_array();
	size_t len = p->cmdline_len < ALLOCMAP_LIVE_CMDLINE ? p->cmdline_len : ALLOCMAP_LIVE_CMDLINE;
	for (size_t i = 0; i < len;) {
		size_t n = strnlen(p->cmdline + i, len - i);
		json_array_append_new(a, json_stringn(p->cmdline + i, n));
		i += n + 1;
	}
	return a;
}

static void put_process(json_t *o, const struct snap *s)
{
	const struct allocmap_live_process *p = &s->process;
	const struct allocmap_live_end_info *e = &s->end;
	json_object_set_new(o, "pid", json_integer(p->pid));
	json_object_set_new(o, "ppid", json_integer(p->ppid));
	json_object_set_new(o, "cmdline", cmdline(p));
	json_object_set_new(o, "cmdline_truncated", json_boolean(p->cmdline_truncated));
	json_object_set_new(o, "exe", bounded(p->exe, ALLOCMAP_LIVE_PATH));
	json_object_set_new(o, "start_time_ns", json_integer((json_int_t)p->start_realtime_ns));
	json_object_set_new(o, "duration_ns", json_integer((json_int_t)e->end_ns));
	uint32_t r = e->reason < NF(ended_names) ? e->reason : ALLOCMAP_END_RUNNING;
	json_object_set_new(o, "ended", json_string(ended_names[r]));
	if ((r == ALLOCMAP_END_EXIT || r == ALLOCMAP_END__EXIT) && e->status_known)
		json_object_set_new(o, "exit_status", json_integer(e->status & 0xff));
	if (r == ALLOCMAP_END_SIGNAL && e->signal > 0)
		json_object_set_new(o, "signal", json_integer(e->signal));
}

static json_t *space_rows(const struct allocmap_live_end_info *e)
{
	json_t *a = json_array();
	uint32_t n = e->nspace < ALLOCMAP_LIVE_SPACE ? e->nspace : ALLOCMAP_LIVE_SPACE;
	for (uint32_t i = 0; i < n; i++) {
		const struct allocmap_live_space *s = &e->space[i];
		const char *kind = s->kind < NF(kind_names) ? kind_names[s->kind] : "unknown";
		json_array_append_new(a, json_pack("{s:s,s:o,s:I,s:I,s:I}", "kind", kind, "allocator",
						   bounded(s->allocator, sizeof s->allocator), "virtual_bytes",
						   (json_int_t)s->virtual_bytes, "resident_bytes",
						   (json_int_t)s->resident_bytes, "count", (json_int_t)s->count));
	}
	return a;
}

static json_t *prot_string(uint32_t prot)
{
	char p[4] = {prot & 1 ? 'r' : '-', prot & 2 ? 'w' : '-', prot & 4 ? 'x' : '-', '\0'};
	return json_string(p);
}

/* The region table, written once at the end (empty while running). */
static void put_regions(json_t *o, const struct allocmap_live *f)
{
	json_t *a = json_array();
	uint32_t n = __atomic_load_n(&f->regions.count, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n && i < ALLOCMAP_LIVE_REGIONS; i++) {
		const struct allocmap_live_region *r = &f->regions.row[i];
		const char *kind = r->kind < NF(kind_names) ? kind_names[r->kind] : "unknown";
		json_t *e = json_pack("{s:o,s:o,s:s,s:o,s:o,s:I}", "start", hex(r->start), "end", hex(r->end), "kind",
				      kind, "allocator",
				      bounded(r->allocator, sizeof r->allocator), "prot", prot_string(r->prot),
				      "resident_bytes", (json_int_t)r->resident_bytes);
		if (r->name[0])
			json_object_set_new(e, "name", bounded(r->name, sizeof r->name));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "regions", a);
	json_object_set_new(o, "regions_merged", json_integer(f->regions.merged));
}

static json_t *counters(const struct snap *s)
{
	json_t *o = fields_object(&s->end, end_counters, NF(end_counters));
	put_fields(o, &s->heap, heap_counters, NF(heap_counters));
	return o;
}

static json_t *modules(const struct allocmap_live_modules *m)
{
	json_t *a = json_array();
	uint32_t n = m->count < ALLOCMAP_LIVE_MODULES ? m->count : ALLOCMAP_LIVE_MODULES;
	for (uint32_t i = 0; i < n; i++) {
		const struct allocmap_live_module *r = &m->row[i];
		json_array_append_new(a, json_pack("{s:o,s:I,s:I,s:I}", "path", bounded(r->path, ALLOCMAP_LIVE_PATH),
						   "bias", (json_int_t)r->bias, "start", (json_int_t)r->base, "end",
						   (json_int_t)r->end));
	}
	return a;
}

/* A site row: its counters, each one word read atomically. */
static json_t *site(const struct allocmap_live_site *row, uint64_t addr)
{
	json_t *o = json_object();
	for (size_t i = 0; i < NF(site_fields); i++)
		json_object_set_new(o, site_fields[i].name,
				    json_integer((json_int_t)load64((const char *)row + site_fields[i].off)));
	if (addr)
		json_object_set_new(o, "location", json_pack("{s:o}", "addr", hex(addr)));
	return o;
}

/* A stack row's frames (frame 0 first, written last by the library). */
static void put_frames(json_t *o, const struct allocmap_live *f, uint32_t row)
{
	const uint64_t *fr = allocmap_live_frames(f, row);
	uint64_t first = __atomic_load_n(&fr[0], __ATOMIC_ACQUIRE);
	if (!first)
		return;
	json_t *a = json_array();
	json_object_set_new(o, "location", json_pack("{s:o}", "addr", hex(first)));
	for (uint32_t k = 0; k < f->header.stack_depth; k++) {
		uint64_t v = k ? load64(&fr[k]) : first;
		if (!v)
			break;
		json_array_append_new(a, json_pack("{s:o}", "addr", hex(v)));
	}
	json_object_set_new(o, "frames", a);
}

static void put_sites(json_t *o, const struct allocmap_live *f)
{
	json_t *a = json_array();
	uint32_t rows = f->header.site_rows < ALLOCMAP_LIVE_SITES ? f->header.site_rows : ALLOCMAP_LIVE_SITES;
	for (uint32_t i = 1; i < rows; i++) {
		/* written once by compare-and-swap from 0 */
		uint64_t addr = __atomic_load_n(&f->site[i].site, __ATOMIC_ACQUIRE);
		int stack = (addr & ALLOCMAP_LIVE_STACK_KEY) && f->header.stack_depth;
		if (!addr)
			continue;
		json_t *row = site(&f->site[i], stack ? 0 : addr);
		if (stack)
			put_frames(row, f, i);
		json_array_append_new(a, row);
	}
	json_object_set_new(o, "sites", a);
	if (load64(&f->site[0].calls) || load64(&f->site[0].live_bytes))
		json_object_set_new(o, "sites_other", site(&f->site[0], 0));
}

json_t *live_to_json(const struct live *lf, char *err, size_t errlen)
{
	struct snap *s = malloc(sizeof *s);
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", lf->name);
		return NULL;
	}
	/* No consistent copy in time: a writer died inside its section
	 * (killed mid-update); the last copy is the best there is. */
	(void)take_snap(s, lf->f);
	json_t *o = json_object();
	put_process(o, s);
	json_object_set_new(o, "heap", fields_object(&s->heap, heap_fields, NF(heap_fields)));
	json_object_set_new(o, "rss", fields_object(&s->end, rss_fields, NF(rss_fields)));
	json_object_set_new(o, "space", space_rows(&s->end));
	put_regions(o, lf->f);
	json_object_set_new(o, "allocmap", fields_object(&s->end, own_fields, NF(own_fields)));
	json_object_set_new(o, "counters", counters(s));
	json_object_set_new(o, "modules", modules(&s->modules));
	json_object_set_new(o, "stack_depth", json_integer(s->stack_depth));
	put_sites(o, lf->f);
	free(s);
	return o;
}

/* ---- opening and sampling ---- */

static int check_header(const struct allocmap_live *f, size_t len, const char *name, char *err, size_t errlen)
{
	if (len < sizeof f->header || __atomic_load_n(&f->header.magic, __ATOMIC_ACQUIRE) != ALLOCMAP_LIVE_MAGIC) {
		snprintf(err, errlen, "%s: not a live file (or not written yet)", name);
		return -1;
	}
	if (f->header.version != ALLOCMAP_LIVE_VERSION) {
		snprintf(err, errlen, "%s: live file version %u, this allocmap reads %u", name, f->header.version,
			 ALLOCMAP_LIVE_VERSION);
		return -1;
	}
	uint32_t depth = f->header.stack_depth;
	uint64_t want = allocmap_live_file_size(depth <= ALLOCMAP_LIVE_MAX_DEPTH ? depth : 0);
	if (depth > ALLOCMAP_LIVE_MAX_DEPTH || f->header.file_size != want || len < want) {
		snprintf(err, errlen, "%s: live file of %zu bytes (it says %llu, %u frames), this allocmap reads %llu",
			 name, len, (unsigned long long)f->header.file_size, depth, (unsigned long long)want);
		return -1;
	}
	return 0;
}

static void *map_file(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	*len = (size_t)st.st_size;
	void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
	close(fd);
	if (p == MAP_FAILED)
		snprintf(err, errlen, "%s: not a live file (or not written yet)", path);
	return p == MAP_FAILED ? NULL : p;
}

/* path is proc-<pid>.live or proc-<pid>.<k>.live (a later program of the
 * same pid, after an exec): the pid is read from the contents, never
 * from the name. */
struct live *live_open(const char *path, char *err, size_t errlen)
{
	size_t len;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	void *p = map_file(path, &len, err, errlen);
	if (!p)
		return NULL;
	if (check_header(p, len, base, err, errlen) != 0) {
		munmap(p, len);
		return NULL;
	}
	struct live *lf = calloc(1, sizeof *lf);
	if (!lf) {
		munmap(p, len);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*lf = (struct live){.f = p, .len = len};
	snprintf(lf->name, sizeof lf->name, "%s", base);
	return lf;
}

void live_close(struct live *lf)
{
	if (!lf)
		return;
	munmap((void *)lf->f, lf->len);
	free(lf);
}

/* pid and start_monotonic_ns are written before the magic (and, in a
 * forked child, before the file is handed over): no seq needed. */
long live_pid(const struct live *lf)
{
	return (long)lf->f->process.pid;
}

int live_ended(const struct live *lf)
{
	return __atomic_load_n(&lf->f->end.reason, __ATOMIC_ACQUIRE) != ALLOCMAP_END_RUNNING;
}

void live_sample(const struct live *lf, uint64_t *heap_live, uint64_t *start_mono_ns)
{
	*heap_live = load64(&lf->f->heap.live_bytes);
	*start_mono_ns = lf->f->process.start_monotonic_ns;
}

/* ---- writing (the test fixture's side of the same layout) ---- */

static uint64_t num(const json_t *o, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(o, key));
}

static void get_fields(const json_t *o, void *base, const struct field *fs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = num(o, fs[i].name);
		memcpy((char *)base + fs[i].off, &v, sizeof v);
	}
}

static void copy_str(char *dst, size_t cap, const json_t *s)
{
	const char *v = json_string_value(s);
	snprintf(dst, cap, "%s", v ? v : "");
}

static uint64_t addr_of(const json_t *loc) { return jhex(loc, "addr"); }

static uint32_t code(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; name && i < n; i++)
		if (names[i] && strcmp(name, names[i]) == 0)
			return (uint32_t)i;
	return 0;
}

static void write_cmdline(struct allocmap_live_process *p, const json_t *argv)
{
	size_t i, at = 0;
	json_t *a;
	json_array_foreach(argv, i, a) {
		const char *s = json_string_value(a);
		size_t n = strlen(s) + 1;
		if (at + n > ALLOCMAP_LIVE_CMDLINE) {
			p->cmdline_truncated = 1;
			break;
		}
		memcpy(p->cmdline + at, s, n);
		at += n;
	}
	p->cmdline_len = (uint32_t)at;
}

static void write_process(struct allocmap_live *f, const json_t *o)
{
	struct allocmap_live_process *p = &f->process;
	struct allocmap_live_end_info *e = &f->end;
	p->pid = (int32_t)num(o, "pid");
	p->ppid = (int32_t)num(o, "ppid");
	p->start_realtime_ns = num(o, "start_time_ns");
	p->start_monotonic_ns = num(o, "start_mono_ns"); /* the fixture's only: not in the run document */
	copy_str(p->exe, ALLOCMAP_LIVE_PATH, json_object_get(o, "exe"));
	write_cmdline(p, json_object_get(o, "cmdline"));
	e->end_ns = num(o, "duration_ns");
	e->reason = code(json_string_value(json_object_get(o, "ended")), ended_names, NF(ended_names));
	e->status_known = json_object_get(o, "exit_status") != NULL;
	e->status = (int32_t)num(o, "exit_status");
	e->signal = (int32_t)num(o, "signal");
}

/* A site into row i; with frames and a stack depth, a stack row (its key
 * the row number: the fixture's keys need only be unique). */
static void write_site(struct allocmap_live *f, uint32_t i, const json_t *o)
{
	struct allocmap_live_site *s = &f->site[i];
	get_fields(o, s, site_fields, NF(site_fields));
	const json_t *frames = json_object_get(o, "frames"), *fr;
	size_t k;
	if (i == 0)
		return;
	if (!frames || !f->header.stack_depth) {
		s->site = addr_of(frames ? json_array_get(frames, 0) : json_object_get(o, "location"));
		return;
	}
	s->site = ALLOCMAP_LIVE_STACK_KEY | i;
	json_array_foreach(frames, k, fr)
		if (k < f->header.stack_depth)
			allocmap_live_frames(f, i)[k] = addr_of(fr);
}

static void write_tables(struct allocmap_live *f, const json_t *o)
{
	size_t i;
	json_t *v;
	struct allocmap_live_end_info *e = &f->end;
	json_array_foreach(json_object_get(o, "space"), i, v) {
		if (i >= ALLOCMAP_LIVE_SPACE)
			break;
		struct allocmap_live_space *s = &e->space[e->nspace++];
		copy_str(s->allocator, sizeof s->allocator, json_object_get(v, "allocator"));
		s->kind = code(json_string_value(json_object_get(v, "kind")), kind_names, NF(kind_names));
		s->count = (uint32_t)num(v, "count");
		s->virtual_bytes = num(v, "virtual_bytes");
		s->resident_bytes = num(v, "resident_bytes");
	}
	json_array_foreach(json_object_get(o, "regions"), i, v) {
		if (i >= ALLOCMAP_LIVE_REGIONS)
			break;
		struct allocmap_live_region *r = &f->regions.row[f->regions.count++];
		const char *prot = json_string_value(json_object_get(v, "prot"));
		r->start = jhex(v, "start");
		r->end = jhex(v, "end");
		r->resident_bytes = num(v, "resident_bytes");
		r->kind = code(json_string_value(json_object_get(v, "kind")), kind_names, NF(kind_names));
		r->prot = prot ? (prot[0] == 'r') | (prot[1] == 'w') << 1 | (prot[2] == 'x') << 2 : 0;
		copy_str(r->allocator, sizeof r->allocator, json_object_get(v, "allocator"));
		copy_str(r->name, sizeof r->name, json_object_get(v, "name"));
	}
	f->regions.merged = (uint32_t)num(o, "regions_merged");
	/* counters: the header's fields only, by their names; others are dropped */
	get_fields(json_object_get(o, "counters"), e, end_counters, NF(end_counters));
	get_fields(json_object_get(o, "counters"), &f->heap, heap_counters, NF(heap_counters));
	json_array_foreach(json_object_get(o, "modules"), i, v) {
		if (i >= ALLOCMAP_LIVE_MODULES) {
			f->modules.truncated = 1;
			break;
		}
		struct allocmap_live_module *m = &f->modules.row[f->modules.count++];
		m->bias = num(v, "bias");
		m->base = num(v, "start");
		m->end = num(v, "end");
		copy_str(m->path, ALLOCMAP_LIVE_PATH, json_object_get(v, "path"));
	}
	json_array_foreach(json_object_get(o, "sites"), i, v) {
		if (i + 1 >= ALLOCMAP_LIVE_SITES)
			break;
		write_site(f, (uint32_t)i + 1, v);
	}
	if (json_object_get(o, "sites_other"))
		write_site(f, 0, json_object_get(o, "sites_other"));
}

static void encode(struct allocmap_live *f, const json_t *o, uint32_t depth)
{
	f->header.version = ALLOCMAP_LIVE_VERSION;
	f->header.file_size = allocmap_live_file_size(depth);
	f->header.site_rows = ALLOCMAP_LIVE_SITES;
	f->header.stack_depth = depth;
	write_process(f, o);
	get_fields(json_object_get(o, "heap"), &f->heap, heap_fields, NF(heap_fields));
	get_fields(json_object_get(o, "rss"), &f->end, rss_fields, NF(rss_fields));
	get_fields(json_object_get(o, "allocmap"), &f->end, own_fields, NF(own_fields));
	write_tables(f, o);
}

/* Writes into the shared mapping as the library does: the guarded
 * sections inside seq (odd while writing), the magic last on a new file,
 * so a reader sampling the file meanwhile never takes a torn copy. */
int live_write(const char *path, const json_t *proc)
{
	uint64_t d = num(proc, "stack_depth");
	uint32_t depth = d <= ALLOCMAP_LIVE_MAX_DEPTH ? (uint32_t)d : 0;
	size_t size = (size_t)allocmap_live_file_size(depth);
	struct allocmap_live *f = calloc(1, size), *m = MAP_FAILED;
	int rc = -1, e = ENOMEM;
	if (!f)
		return -1;
	encode(f, proc, depth);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && ((size_t)st.st_size >= size || ftruncate(fd, (off_t)size) == 0))
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	e = errno;
	if (m != MAP_FAILED) {
		int fresh = __atomic_load_n(&m->header.magic, __ATOMIC_RELAXED) != ALLOCMAP_LIVE_MAGIC;
		uint32_t seq = __atomic_load_n(&m->header.seq, __ATOMIC_RELAXED) | 1;
		__atomic_store_n(&m->header.seq, seq, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		m->header.version = f->header.version;
		m->header.file_size = f->header.file_size;
		m->header.site_rows = f->header.site_rows;
		m->header.stack_depth = f->header.stack_depth;
		memcpy(&m->process, &f->process, size - offsetof(struct allocmap_live, process));
		__atomic_store_n(&m->header.seq, seq + 1, __ATOMIC_RELEASE);
		if (fresh)
			__atomic_store_n(&m->header.magic, ALLOCMAP_LIVE_MAGIC, __ATOMIC_RELEASE);
		munmap(m, size);
		rc = 0;
	}
	if (fd >= 0)
		close(fd);
	free(f);
	errno = e;
	return rc;
}
