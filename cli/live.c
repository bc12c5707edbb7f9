/* The live file's binary layout, read (and, for the test fixture,
 * written) here and nowhere else in the CLI.
 *
 * The first part of this file is a DRAFT of include/allocmap_live.h,
 * written so the CLI could be developed and tested before the library
 * writes live files. The header the library side defines replaces it at
 * the merge: then only this file changes (the decoding tables below map
 * each field to its JSON name, so a renamed or moved field is one line).
 *
 * Every section is fixed-size; counts say how many rows of a table are
 * in use. Sizes in bytes, times in ns (CLOCK_MONOTONIC since the process
 * started, plus the start in CLOCK_REALTIME).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "live.h"

/* ---- DRAFT include/allocmap_live.h (to be replaced by the library's) ---- */

#define AML_MAGIC 0x4556494c50414d41ull /* "AMAPLIVE" */
#define AML_VERSION 1
#define AML_CMDLINE_MAX 4096 /* argv, NUL-separated */
#define AML_PATH_MAX 512
#define AML_NAME_MAX 32
#define AML_SPACE_MAX 32
#define AML_COUNTERS_MAX 64
#define AML_MODULES_MAX 512
#define AML_FRAMES_MAX 8
#define AML_SITES_MAX 4096

enum aml_ended { AML_RUNNING, AML_EXIT, AML_UEXIT, AML_EXEC, AML_SIGNAL };

struct aml_process {
	uint64_t pid, ppid;
	uint64_t start_mono_ns, start_real_ns, duration_ns;
	uint64_t ended;       /* enum aml_ended */
	uint64_t exit_status; /* for AML_EXIT, AML_UEXIT */
	uint64_t signal;      /* for AML_SIGNAL */
	uint64_t cmdline_len, cmdline_truncated;
	char exe[AML_PATH_MAX];
	char cmdline[AML_CMDLINE_MAX];
};

struct aml_heap {
	uint64_t live_bytes, live_chunks;
	uint64_t peak_bytes, peak_chunks, peak_time_ns;
	uint64_t calls, bytes_total;
	uint64_t temporary; /* freed soon after: the library defines how soon */
};

struct aml_rss {
	uint64_t final_bytes, peak_bytes; /* VmRSS, VmHWM at the end */
};

struct aml_space {
	char kind[AML_NAME_MAX], allocator[AML_NAME_MAX];
	uint64_t virtual_bytes, resident_bytes, count;
};

struct aml_own {
	uint64_t reserved_bytes, resident_bytes;
};

struct aml_counter {
	char name[AML_NAME_MAX];
	uint64_t value;
};

struct aml_module {
	uint64_t bias, start, end;
	char path[AML_PATH_MAX];
};

struct aml_site {
	uint64_t nframes, frames[AML_FRAMES_MAX]; /* return addresses, innermost first */
	uint64_t live_bytes, live_count, peak_bytes;
	uint64_t calls, bytes_total, temporary;
};

struct aml_file {
	uint64_t magic, version, size;
	struct aml_process process;
	struct aml_heap heap;
	struct aml_rss rss;
	struct aml_own own;
	uint64_t nspace, ncounters, nmodules, nsites, stack_depth;
	struct aml_space space[AML_SPACE_MAX];
	struct aml_counter counters[AML_COUNTERS_MAX];
	struct aml_module modules[AML_MODULES_MAX];
	struct aml_site other; /* what did not fit in sites[] */
	struct aml_site sites[AML_SITES_MAX];
};

/* ---- end of the draft ---- */

struct live {
	const struct aml_file *f;
	size_t len;
	char name[64];
};

/* One uint64_t field of a section and its JSON name. */
struct field {
	const char *name;
	size_t off;
};
#define F(type, member) {#member, offsetof(type, member)}

static const struct field heap_fields[] = {
	F(struct aml_heap, live_bytes), F(struct aml_heap, live_chunks), F(struct aml_heap, peak_bytes),
	F(struct aml_heap, peak_chunks), F(struct aml_heap, peak_time_ns), F(struct aml_heap, calls),
	F(struct aml_heap, bytes_total), F(struct aml_heap, temporary),
};
static const struct field rss_fields[] = {F(struct aml_rss, final_bytes), F(struct aml_rss, peak_bytes)};
static const struct field own_fields[] = {F(struct aml_own, reserved_bytes), F(struct aml_own, resident_bytes)};
static const struct field space_fields[] = {F(struct aml_space, virtual_bytes), F(struct aml_space, resident_bytes),
					    F(struct aml_space, count)};
static const struct field module_fields[] = {F(struct aml_module, bias), F(struct aml_module, start),
					     F(struct aml_module, end)};
static const struct field site_fields[] = {
	F(struct aml_site, live_bytes), F(struct aml_site, live_count), F(struct aml_site, peak_bytes),
	F(struct aml_site, calls),	F(struct aml_site, bytes_total), F(struct aml_site, temporary),
};
#define NF(t) (sizeof t / sizeof t[0])

static const char *const ended_names[] = {"running", "exit", "_exit", "exec", "signal"};

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

static json_t *cmdline(const struct aml_process *p)
{
	json_t *a = json_array();
	size_t len = p->cmdline_len < AML_CMDLINE_MAX ? p->cmdline_len : AML_CMDLINE_MAX;
	for (size_t i = 0; i < len;) {
		size_t n = strnlen(p->cmdline + i, len - i);
		json_array_append_new(a, json_stringn(p->cmdline + i, n));
		i += n + 1;
	}
	return a;
}

static void put_process(json_t *o, const struct aml_process *p)
{
	json_object_set_new(o, "pid", json_integer((json_int_t)p->pid));
	json_object_set_new(o, "ppid", json_integer((json_int_t)p->ppid));
	json_object_set_new(o, "cmdline", cmdline(p));
	json_object_set_new(o, "cmdline_truncated", json_boolean(p->cmdline_truncated));
	json_object_set_new(o, "exe", bounded(p->exe, AML_PATH_MAX));
	json_object_set_new(o, "start_time_ns", json_integer((json_int_t)p->start_real_ns));
	json_object_set_new(o, "duration_ns", json_integer((json_int_t)p->duration_ns));
	uint64_t e = p->ended < NF(ended_names) ? p->ended : AML_RUNNING;
	json_object_set_new(o, "ended", json_string(ended_names[e]));
	if (e == AML_EXIT || e == AML_UEXIT)
		json_object_set_new(o, "exit_status", json_integer((json_int_t)p->exit_status));
	if (e == AML_SIGNAL)
		json_object_set_new(o, "signal", json_integer((json_int_t)p->signal));
}

static json_t *space_rows(const struct aml_file *f)
{
	json_t *a = json_array();
	for (uint64_t i = 0; i < f->nspace; i++) {
		const struct aml_space *s = &f->space[i];
		json_t *row = json_pack("{s:o,s:o}", "kind", bounded(s->kind, AML_NAME_MAX), "allocator",
					bounded(s->allocator, AML_NAME_MAX));
		put_fields(row, s, space_fields, NF(space_fields));
		json_array_append_new(a, row);
	}
	return a;
}

static json_t *counters(const struct aml_file *f)
{
	json_t *o = json_object();
	for (uint64_t i = 0; i < f->ncounters; i++) {
		char name[AML_NAME_MAX + 1];
		snprintf(name, sizeof name, "%.*s", AML_NAME_MAX, f->counters[i].name);
		json_object_set_new(o, name, json_integer((json_int_t)f->counters[i].value));
	}
	return o;
}

static json_t *modules(const struct aml_file *f)
{
	json_t *a = json_array();
	for (uint64_t i = 0; i < f->nmodules; i++) {
		const struct aml_module *m = &f->modules[i];
		json_t *row = fields_object(m, module_fields, NF(module_fields));
		json_object_set_new(row, "path", bounded(m->path, AML_PATH_MAX));
		json_array_append_new(a, row);
	}
	return a;
}

static json_t *site(const struct aml_site *s)
{
	json_t *o = fields_object(s, site_fields, NF(site_fields));
	uint64_t n = s->nframes < AML_FRAMES_MAX ? s->nframes : AML_FRAMES_MAX;
	if (n > 0)
		json_object_set_new(o, "location", json_pack("{s:o}", "addr", hex(s->frames[0])));
	if (n > 1) {
		json_t *fr = json_array();
		for (uint64_t i = 0; i < n; i++)
			json_array_append_new(fr, json_pack("{s:o}", "addr", hex(s->frames[i])));
		json_object_set_new(o, "frames", fr);
	}
	return o;
}

static json_t *sites(const struct aml_file *f)
{
	json_t *a = json_array();
	for (uint64_t i = 0; i < f->nsites; i++)
		json_array_append_new(a, site(&f->sites[i]));
	return a;
}

static int consistent(const struct aml_file *f)
{
	return f->nspace <= AML_SPACE_MAX && f->ncounters <= AML_COUNTERS_MAX && f->nmodules <= AML_MODULES_MAX &&
	       f->nsites <= AML_SITES_MAX;
}

json_t *live_to_json(const struct live *lf, char *err, size_t errlen)
{
	const struct aml_file *f = lf->f;
	if (!consistent(f)) {
		snprintf(err, errlen, "%s: table counts out of bounds", lf->name);
		return NULL;
	}
	json_t *o = json_object();
	put_process(o, &f->process);
	json_object_set_new(o, "heap", fields_object(&f->heap, heap_fields, NF(heap_fields)));
	json_object_set_new(o, "rss", fields_object(&f->rss, rss_fields, NF(rss_fields)));
	json_object_set_new(o, "space", space_rows(f));
	json_object_set_new(o, "allocmap", fields_object(&f->own, own_fields, NF(own_fields)));
	json_object_set_new(o, "counters", counters(f));
	json_object_set_new(o, "modules", modules(f));
	json_object_set_new(o, "stack_depth", json_integer((json_int_t)f->stack_depth));
	json_object_set_new(o, "sites", sites(f));
	if (f->other.calls)
		json_object_set_new(o, "sites_other", site(&f->other));
	return o;
}

/* ---- opening and sampling ---- */

static int check_header(const struct aml_file *f, size_t len, const char *name, char *err, size_t errlen)
{
	if (len < sizeof *f || f->magic != AML_MAGIC) {
		snprintf(err, errlen, "%s: not a live file (or not written yet)", name);
		return -1;
	}
	if (f->version != AML_VERSION) {
		snprintf(err, errlen, "%s: live file version %llu, this allocmap reads %d", name,
			 (unsigned long long)f->version, AML_VERSION);
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

long live_pid(const struct live *lf)
{
	return (long)lf->f->process.pid;
}

void live_sample(const struct live *lf, uint64_t *heap_live, uint64_t *start_mono_ns)
{
	*heap_live = __atomic_load_n(&lf->f->heap.live_bytes, __ATOMIC_RELAXED);
	*start_mono_ns = lf->f->process.start_mono_ns;
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
	strncpy(dst, v ? v : "", cap);
}

static uint64_t addr_of(const json_t *loc)
{
	const char *s = json_string_value(json_object_get(loc, "addr"));
	return s ? strtoull(s, NULL, 16) : 0;
}

static uint64_t ended_code(const char *name)
{
	for (size_t i = 0; name && i < NF(ended_names); i++)
		if (strcmp(name, ended_names[i]) == 0)
			return i;
	return AML_RUNNING;
}

static void write_cmdline(struct aml_process *p, const json_t *argv)
{
	size_t i, at = 0;
	json_t *a;
	json_array_foreach(argv, i, a) {
		const char *s = json_string_value(a);
		size_t n = strlen(s) + 1;
		if (at + n > AML_CMDLINE_MAX) {
			p->cmdline_truncated = 1;
			break;
		}
		memcpy(p->cmdline + at, s, n);
		at += n;
	}
	p->cmdline_len = at;
}

static void write_process(struct aml_process *p, const json_t *o)
{
	p->pid = num(o, "pid");
	p->ppid = num(o, "ppid");
	p->start_real_ns = num(o, "start_time_ns");
	p->start_mono_ns = num(o, "start_mono_ns");
	p->duration_ns = num(o, "duration_ns");
	p->ended = ended_code(json_string_value(json_object_get(o, "ended")));
	p->exit_status = num(o, "exit_status");
	p->signal = num(o, "signal");
	copy_str(p->exe, AML_PATH_MAX, json_object_get(o, "exe"));
	write_cmdline(p, json_object_get(o, "cmdline"));
}

static void write_site(struct aml_site *s, const json_t *o)
{
	const json_t *frames = json_object_get(o, "frames");
	get_fields(o, s, site_fields, NF(site_fields));
	if (!frames) {
		s->nframes = 1;
		s->frames[0] = addr_of(json_object_get(o, "location"));
		return;
	}
	for (size_t i = 0; i < json_array_size(frames) && i < AML_FRAMES_MAX; i++)
		s->frames[s->nframes++] = addr_of(json_array_get(frames, i));
}

static void write_tables(struct aml_file *f, const json_t *o)
{
	size_t i;
	json_t *v;
	const char *k;
	json_array_foreach(json_object_get(o, "space"), i, v) {
		if (i >= AML_SPACE_MAX)
			break;
		copy_str(f->space[i].kind, AML_NAME_MAX, json_object_get(v, "kind"));
		copy_str(f->space[i].allocator, AML_NAME_MAX, json_object_get(v, "allocator"));
		get_fields(v, &f->space[i], space_fields, NF(space_fields));
		f->nspace++;
	}
	json_object_foreach((json_t *)json_object_get(o, "counters"), k, v) {
		if (f->ncounters < AML_COUNTERS_MAX) {
			strncpy(f->counters[f->ncounters].name, k, AML_NAME_MAX);
			f->counters[f->ncounters++].value = (uint64_t)json_integer_value(v);
		}
	}
	json_array_foreach(json_object_get(o, "modules"), i, v) {
		if (i >= AML_MODULES_MAX)
			break;
		get_fields(v, &f->modules[i], module_fields, NF(module_fields));
		copy_str(f->modules[i].path, AML_PATH_MAX, json_object_get(v, "path"));
		f->nmodules++;
	}
	json_array_foreach(json_object_get(o, "sites"), i, v) {
		if (i >= AML_SITES_MAX)
			break;
		write_site(&f->sites[f->nsites++], v);
	}
	if (json_object_get(o, "sites_other"))
		write_site(&f->other, json_object_get(o, "sites_other"));
}

static void encode(struct aml_file *f, const json_t *o)
{
	f->magic = AML_MAGIC;
	f->version = AML_VERSION;
	f->size = sizeof *f;
	write_process(&f->process, o);
	get_fields(json_object_get(o, "heap"), &f->heap, heap_fields, NF(heap_fields));
	get_fields(json_object_get(o, "rss"), &f->rss, rss_fields, NF(rss_fields));
	get_fields(json_object_get(o, "allocmap"), &f->own, own_fields, NF(own_fields));
	f->stack_depth = num(o, "stack_depth");
	write_tables(f, o);
}

int live_write(const char *path, const json_t *proc)
{
	struct aml_file *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	encode(f, proc);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	int rc = -1;
	if (fd >= 0 && ftruncate(fd, sizeof *f) == 0 && pwrite(fd, f, sizeof *f, 0) == (ssize_t)sizeof *f)
		rc = 0;
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(f);
	errno = e;
	return rc;
}
