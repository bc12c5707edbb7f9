/* Unit tests for the /proc/<pid>/maps reader (src/sys/procmaps.c).
 *
 * Three layers. Single lines through am_procmaps_parse_line: every field,
 * every rejection, path truncation. Synthetic files through the reader at
 * every small buffer size and through a pipe that trickles, checked
 * against the line parser as the reference. The real /proc/self/maps:
 * order, the stack, this program, files with awkward names, deleted files,
 * a path longer than the buffer, several readers at once.
 *
 * Lines are handed to the parser in heap blocks of exactly their length,
 * so ASan catches any read past len; reader buffers likewise.
 */
#include "../../src/sys/procmaps.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static double test_scale(void)
{
	const char *s = getenv("ALLOCMAP_TEST_SCALE");
	double v = s ? atof(s) : 1.0;
	return v > 0 && v <= 1 ? v : 1.0;
}

/* ---- collecting entries without allocating inside the callback ---- */

struct ent {
	struct am_maps_entry e;
	char *path; /* copy, in the pool */
};

struct vec {
	struct ent *v;
	size_t n, cap;
	char *pool;
	size_t pool_used, pool_cap;
	size_t stop_at; /* return 5 from this call (1-based), 0: never */
};

static void vec_init(struct vec *c, size_t cap, size_t pool_cap)
{
	memset(c, 0, sizeof *c);
	c->v = calloc(cap, sizeof *c->v);
	c->pool = malloc(pool_cap);
	c->cap = cap;
	c->pool_cap = pool_cap;
	assert_non_null(c->v);
	assert_non_null(c->pool);
}

static void vec_free(struct vec *c)
{
	free(c->v);
	free(c->pool);
}

static void vec_add(struct vec *c, const struct am_maps_entry *e)
{
	size_t len = strlen(e->path) + 1;
	assert_true(c->n < c->cap);
	assert_true(c->pool_used + len <= c->pool_cap);
	c->v[c->n].e = *e;
	c->v[c->n].path = memcpy(c->pool + c->pool_used, e->path, len);
	c->v[c->n].e.path = c->v[c->n].path;
	c->pool_used += len;
	c->n++;
}

static int collect(const struct am_maps_entry *e, void *arg)
{
	struct vec *c = arg;
	vec_add(c, e);
	return c->stop_at && c->n == c->stop_at ? 5 : 0;
}

static const struct ent *find_addr(const struct vec *c, uintptr_t a)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].e.lo <= a && a < c->v[i].e.hi)
			return &c->v[i];
	return NULL;
}

/* ---- single lines ---- */

/* Parses a copy of s in a block of exactly strlen(s) bytes. */
static int parse_cap(const char *s, struct am_maps_entry *e, char *path, size_t cap)
{
	size_t len = strlen(s);
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, s, len);
	int rc = am_procmaps_parse_line(copy, len, e, path, cap);
	free(copy);
	return rc;
}

struct known {
	const char *line;
	uintptr_t lo, hi;
	int prot, shared;
	uint64_t offset;
	unsigned major, minor;
	uint64_t inode;
	const char *path;
	int deleted;
};

#define R PROT_READ
#define W PROT_WRITE
#define X PROT_EXEC
static const struct known known_lines[] = {
	{"55744a84b000-55744a84d000 r--p 00000000 fe:00 247134                     /usr/bin/cat\n",
	 0x55744a84b000, 0x55744a84d000, R, 0, 0, 0xfe, 0, 247134, "/usr/bin/cat", 0},
	{"55744d539000-55744d55a000 rw-p 00000000 00:00 0                          [heap]\n",
	 0x55744d539000, 0x55744d55a000, R | W, 0, 0, 0, 0, 0, "[heap]", 0},
	{"7f14c0e38000-7f14c0e5a000 rw-p 00000000 00:00 0 \n", 0x7f14c0e38000, 0x7f14c0e5a000,
	 R | W, 0, 0, 0, 0, 0, "", 0},
	{"7ffd1c3e0000-7ffd1c401000 rw-p 00000000 00:00 0                          [stack]",
	 0x7ffd1c3e0000, 0x7ffd1c401000, R | W, 0, 0, 0, 0, 0, "[stack]", 0},
	{"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n",
	 0xffffffffff600000, 0xffffffffff601000, X, 0, 0, 0, 0, 0, "[vsyscall]", 0},
	{"7f0000000000-7f0000200000 rw-s 1234567890abcdef 103:fffff 18446744073709551615 "
	 "/dev/shm/my file\twith tab (deleted)\n",
	 0x7f0000000000, 0x7f0000200000, R | W, 1, 0x1234567890abcdef, 0x103, 0xfffff,
	 UINT64_MAX, "/dev/shm/my file\twith tab", 1},
	{"7f0000001000-7f0000002000 r-xs 00001000 08:01 42                         /tmp/a\\012b\\012\n",
	 0x7f0000001000, 0x7f0000002000, R | X, 1, 0x1000, 8, 1, 42, "/tmp/a\nb\n", 0},
	{"7f0000003000-7f0000004000 ---p 00000000 00:00 0                          [anon:my region]\n",
	 0x7f0000003000, 0x7f0000004000, 0, 0, 0, 0, 0, 0, "[anon:my region]", 0},
	{"7f0000004000-7f0000005000 r--p 00000000 00:00 0                          [vdso]\n",
	 0x7f0000004000, 0x7f0000005000, R, 0, 0, 0, 0, 0, "[vdso]", 0},
	{"7f0000005000-7f0000006000 rw-s 00000000 00:01 2055                       /memfd:x (deleted)\n",
	 0x7f0000005000, 0x7f0000006000, R | W, 1, 0, 0, 1, 2055, "/memfd:x", 1},
	{"0-1 rwxp 0 0:0 0", 0, 1, R | W | X, 0, 0, 0, 0, 0, "", 0},
	{"ABC000-ABD000 r--p 0 00:00 7\n", 0xabc000, 0xabd000, R, 0, 0, 0, 0, 7, "", 0},
	{"1000-2000 r--p 0 00:00 0 /a\\01", 0x1000, 0x2000, R, 0, 0, 0, 0, 0, "/a\\01", 0},
	{"1000-2000 r--p 0 00:00 0 /x\\134y\\\\", 0x1000, 0x2000, R, 0, 0, 0, 0, 0, "/x\\134y\\\\", 0},
	{"1000-2000 r--p 0 00:00 0 /a (deleted) (deleted)", 0x1000, 0x2000, R, 0, 0, 0, 0, 0,
	 "/a (deleted)", 1},
	{"1000-2000 r--p 0 00:00 0 (deleted)\n", 0x1000, 0x2000, R, 0, 0, 0, 0, 0, "(deleted)", 0},
	{"1000-2000 r--p 0 00:00 0 /trailing  \n", 0x1000, 0x2000, R, 0, 0, 0, 0, 0, "/trailing  ", 0},
};
#undef R
#undef W
#undef X

static void test_parse_known(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof known_lines / sizeof known_lines[0]; i++) {
		const struct known *k = &known_lines[i];
		struct am_maps_entry e;
		char path[256];
		memset(&e, 0xa5, sizeof e);
		assert_int_equal(parse_cap(k->line, &e, path, sizeof path), 0);
		assert_int_equal(e.lo, k->lo);
		assert_int_equal(e.hi, k->hi);
		assert_int_equal(e.prot, k->prot);
		assert_int_equal(e.shared, k->shared);
		assert_int_equal(e.offset, k->offset);
		assert_int_equal(e.dev_major, k->major);
		assert_int_equal(e.dev_minor, k->minor);
		assert_int_equal(e.inode, k->inode);
		assert_ptr_equal(e.path, path);
		assert_string_equal(e.path, k->path);
		assert_int_equal(e.deleted, k->deleted);
		assert_int_equal(e.truncated, 0);
		assert_int_equal(e.overlaps, 0);
	}
}

static const char *const malformed_lines[] = {
	"",
	"\n",
	"0-1",
	"0-1 rw-p 0 00:00",
	"0-1 rw-p 0 00:00 ",
	"1000-1000 rw-p 0 00:00 0",
	"2000-1000 rw-p 0 00:00 0",
	"0-1 rw-x 0 00:00 0",
	"0-1 rw-P 0 00:00 0",
	"0-1 Rw-p 0 00:00 0",
	"0-1 rw- 0 00:00 0",
	"0-1 rw-pp 0 00:00 0",
	"0-1 rw-p 0 00:00 0x",
	"0-1 rw-p 0 00:00 0a",
	"0-1 rw-p 0 00:00 -1",
	"0-1 rw-p 0 0000 0",
	"0-1 rw-p 0 00: 0",
	"0-1 rw-p 0 :00 0",
	"0-1 rw-p  0 00:00 0",
	"0-1  rw-p 0 00:00 0",
	" 0-1 rw-p 0 00:00 0",
	"0 -1 rw-p 0 00:00 0",
	"0-1\trw-p 0 00:00 0",
	"0-1 rw-p 0 00:00 0\t/x",
	"-1 rw-p 0 00:00 0",
	"0- rw-p 0 00:00 0",
	"g-1 rw-p 0 00:00 0",
	"0-1 rw-p g 00:00 0",
	"0-1 rw-p 0 00:00 0 /a\nb",
	"0-1 rw-p 0 00:00 0 /a\n\n",
	"0-1 rw-p 0 00:00 0\n\n",
	"10000000000000000-10000000000000001 rw-p 0 00:00 0",
	"0-10000000000000000 rw-p 0 00:00 0",
	"0-1 rw-p 10000000000000000 00:00 0",
	"0-1 rw-p 0 100000000:00 0",
	"0-1 rw-p 0 00:100000000 0",
	"0-1 rw-p 0 00:00 18446744073709551616",
	"0-1 rw-p 0 00:00 99999999999999999999",
	/* the name starts past AM_PROCMAPS_FIELDS_MAX */
	"0-1 rw-p 0 00:00 0                                                       "
	"                                                             /late",
	"0000000000000000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000000000-1 rw-p 0 00:00 0",
};

static void test_parse_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof malformed_lines / sizeof malformed_lines[0]; i++) {
		struct am_maps_entry e;
		char path[256];
		if (parse_cap(malformed_lines[i], &e, path, sizeof path) != -1)
			fail_msg("accepted malformed line %zu: \"%s\"", i, malformed_lines[i]);
	}
}

static void test_parse_nul_and_pathcap(void **state)
{
	(void)state;
	static const char nul_line[] = "0-1 rw-p 0 00:00 0 /a\0b";
	struct am_maps_entry e;
	char path[16];
	assert_int_equal(am_procmaps_parse_line(nul_line, sizeof nul_line - 1, &e, path, 16), -1);
	assert_int_equal(parse_cap("0-1 rw-p 0 00:00 0 /a", &e, path, 0), -1);
	/* the same line is fine with room for the path */
	assert_int_equal(am_procmaps_parse_line(nul_line, 21, &e, path, 16), 0);
	assert_string_equal(e.path, "/a");
	/* the name starting exactly at the limit is still accepted */
	char line[AM_PROCMAPS_FIELDS_MAX + 8];
	memset(line, ' ', sizeof line);
	memcpy(line, "0-1 rw-p 0 00:00 0", 18);
	memcpy(line + AM_PROCMAPS_FIELDS_MAX, "/x", 2);
	assert_int_equal(am_procmaps_parse_line(line, AM_PROCMAPS_FIELDS_MAX + 2, &e, path, 16), 0);
	assert_string_equal(e.path, "/x");
	memmove(line + AM_PROCMAPS_FIELDS_MAX + 1, "/x", 2);
	line[AM_PROCMAPS_FIELDS_MAX] = ' ';
	assert_int_equal(am_procmaps_parse_line(line, AM_PROCMAPS_FIELDS_MAX + 3, &e, path, 16), -1);
}

static void test_parse_truncation(void **state)
{
	(void)state;
	struct am_maps_entry e;
	char path[8];
	const char *line = "1000-2000 r--p 0 00:00 0 /usr/lib/x (deleted)\n";
	assert_int_equal(parse_cap(line, &e, path, 5), 0);
	assert_string_equal(e.path, "/usr");
	assert_int_equal(e.truncated, 1);
	assert_int_equal(e.deleted, 1);
	assert_int_equal(parse_cap("1000-2000 r--p 0 00:00 0 /usr/li", &e, path, 8), 0);
	assert_string_equal(e.path, "/usr/li");
	assert_int_equal(e.truncated, 0);
	assert_int_equal(parse_cap("1000-2000 r--p 0 00:00 0 a\\012b", &e, path, 3), 0);
	assert_string_equal(e.path, "a\n");
	assert_int_equal(e.truncated, 1);
	assert_int_equal(parse_cap("1000-2000 r--p 0 00:00 0 /x", &e, path, 1), 0);
	assert_string_equal(e.path, "");
	assert_int_equal(e.truncated, 1);
	assert_int_equal(parse_cap("1000-2000 r--p 0 00:00 0", &e, path, 1), 0);
	assert_int_equal(e.truncated, 0);
}

static void test_parse_long_path(void **state)
{
	(void)state;
	size_t n = 9000;
	char *line = malloc(n + 64), *path = malloc(n + 1), *want = malloc(n + 1);
	struct am_maps_entry e;
	int h = sprintf(line, "1000-2000 r--p 0 00:00 0 ");
	want[0] = '/';
	for (size_t i = 1; i < n; i++)
		want[i] = (char)('a' + i % 26);
	want[n] = '\0';
	memcpy(line + h, want, n);
	assert_int_equal(am_procmaps_parse_line(line, (size_t)h + n, &e, path, n + 1), 0);
	assert_string_equal(e.path, want);
	assert_int_equal(e.truncated, 0);
	assert_int_equal(am_procmaps_parse_line(line, (size_t)h + n, &e, path, PATH_MAX + 1), 0);
	assert_int_equal(strlen(e.path), PATH_MAX);
	assert_memory_equal(e.path, want, PATH_MAX);
	assert_int_equal(e.truncated, 1);
	free(line);
	free(path);
	free(want);
}

/* ---- synthetic files ---- */

static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

/* A random raw name of about want bytes: spaces, tabs, escapes, pieces of
 * escapes, backslashes, maybe " (deleted)". */
static size_t gen_name(char *out, uint64_t *s, size_t want)
{
	static const char *const bits[] = {"a", "b", " ", "\t", "\\012", "\\01", "\\", "\\0",
					   "(deleted)", " (deleted)", "z", "/"};
	size_t n = 0;
	out[n++] = '/';
	while (n < want) {
		const char *b = bits[rnd(s) % (sizeof bits / sizeof bits[0])];
		memcpy(out + n, b, strlen(b));
		n += strlen(b);
	}
	if (rnd(s) % 3 == 0) {
		memcpy(out + n, " (deleted)", 10);
		n += 10;
	}
	return n;
}

static size_t gen_name_len(uint64_t *s)
{
	switch (rnd(s) % 8) {
	case 0:
		return 1 + rnd(s) % 40;
	case 1:
	case 2:
		return 20 + rnd(s) % 120; /* around the smallest buffers */
	case 3:
		return 100 + rnd(s) % 300;
	case 4:
		return 500 + rnd(s) % 3000;
	case 5:
		return rnd(s) % 16 ? 1 + rnd(s) % 200 : 8200 + rnd(s) % 900;
	default:
		return 0;
	}
}

/* One kernel-style line at out (no '\n'); returns its length. */
static size_t gen_line(char *out, uint64_t *s, uintptr_t lo)
{
	uintptr_t hi = lo + 0x1000 * (1 + rnd(s) % 4);
	int n = sprintf(out, "%lx-%lx %c%c%c%c %08llx %02x:%02x %llu ", (unsigned long)lo,
			(unsigned long)hi, rnd(s) % 2 ? 'r' : '-', rnd(s) % 2 ? 'w' : '-',
			rnd(s) % 2 ? 'x' : '-', rnd(s) % 2 ? 's' : 'p',
			(unsigned long long)rnd(s) << 12, rnd(s) % 0x1000, rnd(s) % 0x100000,
			(unsigned long long)rnd(s) * rnd(s));
	size_t len = (size_t)n;
	size_t want = gen_name_len(s);
	if (want == 0)
		return rnd(s) % 2 ? len : len - 1; /* with and without the trailing space */
	while (len < 72)
		out[len++] = ' ';
	out[len++] = ' ';
	if (rnd(s) % 5 == 0) {
		memcpy(out + len, "[heap]", 6);
		return len + 6;
	}
	return len + gen_name(out + len, s, want);
}

struct text {
	char *buf;
	size_t len;
	size_t *line_len; /* each line's length without '\n' */
	size_t nlines;
	size_t max_line;
};

static void gen_text(struct text *t, uint64_t seed, size_t nlines, int final_nl)
{
	uint64_t s = seed;
	t->buf = malloc(nlines * 10000);
	t->line_len = malloc(nlines * sizeof *t->line_len);
	t->len = 0;
	t->nlines = nlines;
	t->max_line = 0;
	for (size_t i = 0; i < nlines; i++) {
		size_t n = gen_line(t->buf + t->len, &s, 0x10000 + i * 0x10000);
		t->line_len[i] = n;
		t->max_line = n > t->max_line ? n : t->max_line;
		t->len += n;
		if (i + 1 < nlines || final_nl)
			t->buf[t->len++] = '\n';
	}
}

static void text_free(struct text *t)
{
	free(t->buf);
	free(t->line_len);
}

/* The reference: every line through am_procmaps_parse_line. */
static void ref_entries(const struct text *t, struct vec *ref)
{
	char *path = malloc(t->max_line + 1);
	const char *p = t->buf;
	vec_init(ref, t->nlines, t->len + t->nlines);
	for (size_t i = 0; i < t->nlines; i++) {
		struct am_maps_entry e;
		assert_int_equal(am_procmaps_parse_line(p, t->line_len[i], &e, path, t->max_line + 1),
				 0);
		assert_int_equal(e.truncated, 0);
		vec_add(ref, &e);
		p += t->line_len[i] + 1;
	}
	free(path);
}

static int memfd_with(const char *data, size_t len)
{
	int fd = memfd_create("procmaps test", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

/* Compares what a reader with a cap-byte buffer delivered to the
 * reference: equal, except that a line of cap - 1 bytes or more may come
 * with a path that is a proper prefix. Returns how many were truncated. */
static size_t check_against_ref(const struct vec *got, const struct vec *ref, const struct text *t,
				size_t cap)
{
	size_t ntrunc = 0;
	assert_int_equal(got->n, ref->n);
	for (size_t i = 0; i < ref->n; i++) {
		const struct am_maps_entry *g = &got->v[i].e, *r = &ref->v[i].e;
		assert_int_equal(g->lo, r->lo);
		assert_int_equal(g->hi, r->hi);
		assert_int_equal(g->prot, r->prot);
		assert_int_equal(g->shared, r->shared);
		assert_int_equal(g->offset, r->offset);
		assert_int_equal(g->dev_major, r->dev_major);
		assert_int_equal(g->dev_minor, r->dev_minor);
		assert_int_equal(g->inode, r->inode);
		assert_int_equal(g->deleted, r->deleted);
		assert_int_equal(g->overlaps, 0);
		if (!g->truncated) {
			assert_string_equal(g->path, r->path);
			continue;
		}
		ntrunc++;
		assert_true(t->line_len[i] >= cap - 1);
		assert_true(strlen(g->path) < strlen(r->path));
		assert_memory_equal(g->path, r->path, strlen(g->path));
	}
	return ntrunc;
}

static size_t read_with_cap(int fd, const struct vec *ref, const struct text *t, size_t cap)
{
	struct vec got;
	char *buf = malloc(cap);
	vec_init(&got, ref->n + 1, t->len + t->nlines);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(am_procmaps_read_buf(fd, collect, &got, buf, cap), 0);
	size_t ntrunc = check_against_ref(&got, ref, t, cap);
	vec_free(&got);
	free(buf);
	return ntrunc;
}

static void test_read_every_buffer_size(void **state)
{
	(void)state;
	size_t step = test_scale() < 1 ? 13 : 1;
	for (int final_nl = 0; final_nl <= 1; final_nl++) {
		struct text t;
		struct vec ref;
		gen_text(&t, 42 + (uint64_t)final_nl, 80, final_nl);
		ref_entries(&t, &ref);
		int fd = memfd_with(t.buf, t.len);
		size_t ntrunc = 0;
		for (size_t cap = AM_PROCMAPS_MIN_BUF; cap < 600; cap += step)
			ntrunc += read_with_cap(fd, &ref, &t, cap);
		static const size_t big[] = {1000, 4096, 8191, 8192, 8193, 65536, 1 << 20};
		for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
			ntrunc += read_with_cap(fd, &ref, &t, big[i]);
		assert_true(ntrunc > 0); /* the long-line path was exercised */
		assert_int_equal(read_with_cap(fd, &ref, &t, t.max_line + 2), 0);
		close(fd);
		vec_free(&ref);
		text_free(&t);
	}
}

struct trickle {
	int fd;
	const char *data;
	size_t len;
	uint64_t seed;
};

static void *trickle_writer(void *arg)
{
	struct trickle *w = arg;
	size_t off = 0;
	while (off < w->len) {
		size_t n = 1 + rnd(&w->seed) % 17;
		n = n > w->len - off ? w->len - off : n;
		ssize_t r = write(w->fd, w->data + off, n);
		if (r < 0)
			break;
		off += (size_t)r;
	}
	close(w->fd);
	return NULL;
}

static void test_read_pipe_trickle(void **state)
{
	(void)state;
	struct text t;
	struct vec ref, got;
	int p[2];
	pthread_t th;
	gen_text(&t, 7, 40, 1);
	ref_entries(&t, &ref);
	vec_init(&got, ref.n + 1, t.len + t.nlines);
	assert_int_equal(pipe(p), 0);
	struct trickle w = {p[1], t.buf, t.len, 99};
	assert_int_equal(pthread_create(&th, NULL, trickle_writer, &w), 0);
	char buf[AM_PROCMAPS_MIN_BUF + 3];
	assert_int_equal(am_procmaps_read_buf(p[0], collect, &got, buf, sizeof buf), 0);
	pthread_join(th, NULL);
	close(p[0]);
	check_against_ref(&got, &ref, &t, sizeof buf);
	vec_free(&got);
	vec_free(&ref);
	text_free(&t);
}

/* A read() interrupted by a signal handler (installed without SA_RESTART,
 * so the raw syscall returns -EINTR) is retried, not reported. */
static void on_usr1(int sig)
{
	(void)sig;
}

struct interrupter {
	pthread_t target;
	int fd;
};

static void *interrupt_then_write(void *arg)
{
	struct interrupter *w = arg;
	static const char line[] = "1000-2000 r--p 0 00:00 0 /after a signal\n";
	for (int i = 0; i < 5; i++) {
		usleep(20000);
		pthread_kill(w->target, SIGUSR1);
	}
	usleep(20000);
	if (write(w->fd, line, sizeof line - 1) < 0)
		return (void *)1;
	close(w->fd);
	return NULL;
}

static void test_read_retries_eintr(void **state)
{
	(void)state;
	struct sigaction sa = {.sa_handler = on_usr1}, old;
	struct vec got;
	int p[2];
	pthread_t th;
	void *res;
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(pipe(p), 0);
	vec_init(&got, 4, 256);
	struct interrupter w = {pthread_self(), p[1]};
	assert_int_equal(pthread_create(&th, NULL, interrupt_then_write, &w), 0);
	int rc = am_procmaps_read_fd(p[0], collect, &got);
	pthread_join(th, &res);
	sigaction(SIGUSR1, &old, NULL);
	close(p[0]);
	assert_null(res);
	assert_int_equal(rc, 0);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.v[0].path, "/after a signal");
	vec_free(&got);
}

static int read_text(const char *data, size_t len, size_t cap, struct vec *got)
{
	int fd = memfd_with(data, len);
	char *buf = malloc(cap);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	int rc = am_procmaps_read_buf(fd, collect, got, buf, cap);
	free(buf);
	close(fd);
	return rc;
}

static void test_read_malformed_and_stop(void **state)
{
	(void)state;
	static const char text[] = "1000-2000 r--p 0 00:00 0 /a\n"
				   "2000-3000 r--p 0 00:00 0 /b\n"
				   "3000-4000 r--p 0 00:00 0\n"
				   "garbage\n"
				   "4000-5000 r--p 0 00:00 0 /c\n";
	struct vec got;
	vec_init(&got, 16, 4096);
	assert_int_equal(read_text(text, sizeof text - 1, 8192, &got), AM_PROCMAPS_EBADMSG);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.v[1].path, "/b");
	got.n = got.pool_used = 0;
	got.stop_at = 2;
	assert_int_equal(read_text(text, sizeof text - 1, 8192, &got), 5);
	assert_int_equal(got.n, 2);
	got.n = got.pool_used = 0;
	got.stop_at = 0;
	/* the last line needs no '\n'; an empty file has no lines */
	assert_int_equal(read_text(text, 28 + 28 + 24, AM_PROCMAPS_MIN_BUF, &got), 0);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.v[2].path, "");
	got.n = got.pool_used = 0;
	assert_int_equal(read_text("", 0, AM_PROCMAPS_MIN_BUF, &got), 0);
	assert_int_equal(got.n, 0);
	vec_free(&got);
}

/* A line longer than the buffer is checked whole: a NUL past the head,
 * or a head whose fields never end, is malformed. */
static void test_read_long_malformed(void **state)
{
	(void)state;
	char text[1024];
	struct vec got;
	vec_init(&got, 16, 8192);
	int n = sprintf(text, "1000-2000 r--p 0 00:00 0 /ok\n1000-2000 r--p 0 00:00 0 /");
	memset(text + n, 'a', 400);
	text[n + 300] = '\0';
	text[n + 400] = '\n';
	size_t len = (size_t)n + 401;
	assert_int_equal(read_text(text, len, AM_PROCMAPS_MIN_BUF, &got), AM_PROCMAPS_EBADMSG);
	assert_int_equal(got.n, 1);
	got.n = got.pool_used = 0;
	text[n + 300] = 'a';
	assert_int_equal(read_text(text, len, AM_PROCMAPS_MIN_BUF, &got), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.v[1].e.truncated, 1);
	got.n = got.pool_used = 0;
	memset(text, '0', 300);
	memcpy(text + 300, "-1 r--p 0 00:00 0 /x\n", 21);
	assert_int_equal(read_text(text, 321, AM_PROCMAPS_MIN_BUF, &got), AM_PROCMAPS_EBADMSG);
	assert_int_equal(got.n, 0);
	vec_free(&got);
}

/* A line starting below an end delivered before is flagged, whatever
 * the buffer. */
static void test_read_overlaps(void **state)
{
	(void)state;
	static const char text[] = "1000-3000 r--p 0 00:00 0 /a\n"
				   "2000-4000 r--p 0 00:00 0 /b\n"
				   "4000-5000 r--p 0 00:00 0\n"
				   "1000-2000 r--p 0 00:00 0 /c\n"
				   "5000-6000 r--p 0 00:00 0\n";
	static const int want[] = {0, 1, 0, 1, 0};
	static const size_t caps[] = {AM_PROCMAPS_MIN_BUF, AM_PROCMAPS_BUF};
	struct vec got;
	vec_init(&got, 16, 4096);
	for (size_t k = 0; k < 2; k++) {
		got.n = got.pool_used = 0;
		assert_int_equal(read_text(text, sizeof text - 1, caps[k], &got), 0);
		assert_int_equal(got.n, 5);
		for (size_t i = 0; i < 5; i++)
			assert_int_equal(got.v[i].e.overlaps, want[i]);
	}
	vec_free(&got);
}

static void test_read_bad_args(void **state)
{
	(void)state;
	char buf[AM_PROCMAPS_MIN_BUF];
	struct vec got;
	vec_init(&got, 4, 64);
	int fd = open("/proc/self/maps", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(am_procmaps_read_buf(fd, collect, &got, buf, sizeof buf - 1), -EINVAL);
	assert_int_equal(got.n, 0);
	close(fd);
	assert_int_equal(am_procmaps_read_fd(-1, collect, &got), -EBADF);
	fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_int_equal(am_procmaps_read_fd(fd, collect, &got), -EISDIR);
	close(fd);
	vec_free(&got);
}

/* ---- the real /proc/self/maps ---- */

static void read_self(struct vec *c)
{
	vec_init(c, 65536, 1 << 22);
	assert_int_equal(am_procmaps_read(collect, c), 0);
	assert_true(c->n > 5);
}

/* Entries of one walk: sane ranges, ends strictly ascending (which the
 * kernel keeps even while the address space changes). Returns whether
 * they also do not overlap (a vma can show twice if it changed between
 * two read() chunks). */
static int check_sorted(const struct vec *c)
{
	int coherent = 1;
	for (size_t i = 0; i < c->n; i++) {
		const struct am_maps_entry *e = &c->v[i].e;
		assert_true(e->lo < e->hi);
		assert_int_equal(e->lo % 4096, 0);
		assert_int_equal(e->hi % 4096, 0);
		assert_int_equal(e->overlaps, i > 0 && e->lo < c->v[i - 1].e.hi);
		assert_true(i == 0 || c->v[i - 1].e.hi < e->hi);
		coherent &= !e->overlaps;
	}
	return coherent;
}

static void test_self_maps(void **state)
{
	(void)state;
	struct vec c;
	char exe[PATH_MAX + 1];
	ssize_t n = readlink("/proc/self/exe", exe, PATH_MAX);
	assert_true(n > 0);
	exe[n] = '\0';
	read_self(&c);
	/* nothing maps while we read, but valgrind might, for itself */
	for (int tries = 0; !check_sorted(&c); tries++) {
		assert_true(tries < 20);
		c.n = c.pool_used = 0;
		assert_int_equal(am_procmaps_read(collect, &c), 0);
	}
	const struct ent *code = find_addr(&c, (uintptr_t)&test_self_maps);
	assert_non_null(code);
	assert_true(code->e.prot & PROT_EXEC);
	assert_string_equal(code->path, exe);
	assert_true(code->e.inode != 0);
	const struct ent *stack = find_addr(&c, (uintptr_t)__builtin_frame_address(0));
	assert_non_null(stack);
	assert_int_equal(stack->e.prot, PROT_READ | PROT_WRITE);
	/* valgrind runs the program on a stack of its own making */
	if (!RUNNING_ON_VALGRIND)
		assert_string_equal(stack->path, "[stack]");
	vec_free(&c);
}

static int same_entries(const struct vec *a, const struct vec *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct am_maps_entry *x = &a->v[i].e, *y = &b->v[i].e;
		if (x->lo != y->lo || x->hi != y->hi || x->prot != y->prot || x->inode != y->inode ||
		    x->offset != y->offset || x->deleted != y->deleted || x->truncated)
			return 0;
		if (y->truncated ? strncmp(x->path, y->path, strlen(y->path)) != 0
				 : strcmp(x->path, y->path) != 0)
			return 0;
	}
	return 1;
}

/* The smallest buffer sees what the default one sees, but for paths cut
 * to a prefix (retried: valgrind maps memory of its own while we read). */
static void test_self_maps_small_buffer(void **state)
{
	(void)state;
	struct vec a, b;
	char small[AM_PROCMAPS_MIN_BUF];
	vec_init(&b, 65536, 1 << 22);
	read_self(&a);
	int same = 0;
	for (int tries = 0; tries < 20 && !same; tries++) {
		int fd = open("/proc/self/maps", O_RDONLY);
		b.n = b.pool_used = 0;
		a.n = a.pool_used = 0;
		assert_int_equal(am_procmaps_read(collect, &a), 0);
		assert_int_equal(am_procmaps_read_buf(fd, collect, &b, small, sizeof small), 0);
		close(fd);
		same = same_entries(&a, &b);
	}
	assert_true(same);
	vec_free(&a);
	vec_free(&b);
}

struct tmpdir {
	char path[PATH_MAX];
};

static void tmpdir_make(struct tmpdir *d)
{
	char tmpl[] = "/tmp/allocmap procmaps XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, d->path));
}

/* Creates dir/name of 8 KiB and maps its second page; returns the address. */
static void *map_file(const char *full, int flags, int prot)
{
	int fd = open(full, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8192), 0);
	void *p = mmap(NULL, 4096, prot, flags, fd, 4096);
	assert_true(p != MAP_FAILED);
	close(fd);
	return p;
}

static const struct ent *lookup(struct vec *c, const void *p)
{
	c->n = c->pool_used = 0;
	assert_int_equal(am_procmaps_read(collect, c), 0);
	const struct ent *e = find_addr(c, (uintptr_t)p);
	assert_non_null(e);
	assert_int_equal(e->e.lo, (uintptr_t)p);
	return e;
}

static void test_self_awkward_names(void **state)
{
	(void)state;
	/* name on disk, the path we expect back (after the directory) */
	static const char *const names[][2] = {
		{"a file with spaces", "a file with spaces"},
		{"tab\there", "tab\there"},
		{"new\nline\n", "new\nline\n"},
		{"  leading and trailing  ", "  leading and trailing  "},
		{"back\\slash \\134", "back\\slash \\134"},
		/* the documented ambiguities: the kernel escapes neither */
		{"literal \\012 escape", "literal \n escape"},
	};
	struct tmpdir d;
	struct vec c;
	char full[2 * PATH_MAX], want[2 * PATH_MAX];
	struct stat st;
	tmpdir_make(&d);
	vec_init(&c, 65536, 1 << 22);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(full, sizeof full, "%s/%s", d.path, names[i][0]);
		snprintf(want, sizeof want, "%s/%s", d.path, names[i][1]);
		void *p = map_file(full, MAP_SHARED, PROT_READ);
		assert_int_equal(stat(full, &st), 0);
		const struct ent *e = lookup(&c, p);
		assert_string_equal(e->path, want);
		assert_int_equal(e->e.deleted, 0);
		assert_int_equal(e->e.truncated, 0);
		assert_int_equal(e->e.offset, 4096);
		assert_int_equal(e->e.inode, st.st_ino);
		assert_int_equal(e->e.dev_major, major(st.st_dev));
		assert_int_equal(e->e.dev_minor, minor(st.st_dev));
		assert_int_equal(e->e.prot, PROT_READ);
		assert_int_equal(e->e.shared, 1);
		assert_int_equal(e->e.hi - e->e.lo, 4096);
		munmap(p, 4096);
		unlink(full);
	}
	snprintf(full, sizeof full, "%s/%s", d.path, "live (deleted)");
	void *p = map_file(full, MAP_PRIVATE, PROT_READ | PROT_WRITE);
	const struct ent *e = lookup(&c, p);
	assert_int_equal(e->e.deleted, 1);
	snprintf(want, sizeof want, "%s/live", d.path);
	assert_string_equal(e->path, want);
	munmap(p, 4096);
	unlink(full);
	rmdir(d.path);
	vec_free(&c);
}

static void test_self_deleted(void **state)
{
	(void)state;
	struct tmpdir d;
	struct vec c;
	char full[2 * PATH_MAX];
	tmpdir_make(&d);
	vec_init(&c, 65536, 1 << 22);
	snprintf(full, sizeof full, "%s/gone soon", d.path);
	void *p = map_file(full, MAP_PRIVATE, PROT_READ | PROT_WRITE);
	const struct ent *e = lookup(&c, p);
	assert_int_equal(e->e.deleted, 0);
	assert_int_equal(e->e.shared, 0);
	assert_int_equal(e->e.prot, PROT_READ | PROT_WRITE);
	assert_int_equal(unlink(full), 0);
	e = lookup(&c, p);
	assert_int_equal(e->e.deleted, 1);
	assert_string_equal(e->path, full);
	munmap(p, 4096);
	rmdir(d.path);

	int fd = memfd_create("am memfd", 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	close(fd);
	e = lookup(&c, p);
	assert_string_equal(e->path, "/memfd:am memfd");
	assert_int_equal(e->e.deleted, 1);
	munmap(p, 4096);
	vec_free(&c);
}

static void test_self_anon_name(void **state)
{
	(void)state;
	struct vec c;
	void *p = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, 8192UL,
		  (unsigned long)"my region") != 0) {
		munmap(p, 8192);
		skip(); /* kernel without CONFIG_ANON_VMA_NAME */
	}
	vec_init(&c, 65536, 1 << 22);
	const struct ent *e = lookup(&c, p);
	assert_string_equal(e->path, "[anon:my region]");
	assert_int_equal(e->e.prot, 0);
	assert_int_equal(e->e.inode, 0);
	assert_int_equal(e->e.hi - e->e.lo, 8192);
	munmap(p, 8192);
	vec_free(&c);
}

/* A path longer than the reader's 8 KiB buffer: nested directories of 250
 * bytes each, reached with *at() calls since the whole exceeds PATH_MAX. */
#define DEEP 34
static void test_self_path_longer_than_buffer(void **state)
{
	(void)state;
	struct tmpdir d;
	struct vec c;
	int dirs[DEEP + 1];
	char comp[251];
	size_t cap = 16 * 4096;
	char *want = malloc(cap), *big = malloc(cap);
	memset(comp, 'd', 250);
	comp[250] = '\0';
	tmpdir_make(&d);
	size_t wl = (size_t)sprintf(want, "%s", d.path);
	dirs[0] = open(d.path, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < DEEP; i++) {
		assert_int_equal(mkdirat(dirs[i], comp, 0700), 0);
		dirs[i + 1] = openat(dirs[i], comp, O_RDONLY | O_DIRECTORY);
		assert_true(dirs[i + 1] >= 0);
		wl += (size_t)sprintf(want + wl, "/%s", comp);
	}
	sprintf(want + wl, "/f");
	assert_true(strlen(want) > AM_PROCMAPS_BUF);
	int fd = openat(dirs[DEEP], "f", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	close(fd);
	vec_init(&c, 65536, 1 << 22);
	for (int deleted = 0; deleted <= 1; deleted++) {
		if (deleted)
			assert_int_equal(unlinkat(dirs[DEEP], "f", 0), 0);
		const struct ent *e = lookup(&c, p);
		assert_int_equal(e->e.truncated, 1);
		assert_int_equal(e->e.deleted, deleted);
		assert_true(strlen(e->path) > AM_PROCMAPS_BUF - 200);
		assert_memory_equal(e->path, want, strlen(e->path));
		c.n = c.pool_used = 0;
		int mfd = open("/proc/self/maps", O_RDONLY);
		assert_int_equal(am_procmaps_read_buf(mfd, collect, &c, big, cap), 0);
		close(mfd);
		e = find_addr(&c, (uintptr_t)p);
		assert_non_null(e);
		assert_int_equal(e->e.truncated, 0);
		assert_int_equal(e->e.deleted, deleted);
		assert_string_equal(e->path, want);
	}
	munmap(p, 4096);
	for (int i = DEEP; i > 0; i--) {
		close(dirs[i]);
		assert_int_equal(unlinkat(dirs[i - 1], comp, AT_REMOVEDIR), 0);
	}
	close(dirs[0]);
	rmdir(d.path);
	vec_free(&c);
	free(want);
	free(big);
}

/* Readers share nothing: several at once, while another thread keeps
 * splitting and merging a mapping, each get whole, valid lines with ends
 * strictly ascending (the kernel resumes each read() chunk after the end
 * it printed last); a vma that changed between chunks may show twice,
 * and must then be flagged as overlapping. */
struct order {
	uintptr_t prev_hi;
	uintptr_t bad_lo, bad_hi; /* the entry that broke the order */
	size_t n;
	int rc;
};

static int check_order(const struct am_maps_entry *e, void *arg)
{
	struct order *o = arg;
	if (e->lo >= e->hi || e->hi <= o->prev_hi || e->prot & ~7 ||
	    e->overlaps != (e->lo < o->prev_hi)) {
		o->bad_lo = e->lo;
		o->bad_hi = e->hi;
		return 1;
	}
	o->prev_hi = e->hi;
	o->n++;
	return 0;
}

struct reader_job {
	int rounds;
	struct order o;
};

static void *reader_thread(void *arg)
{
	struct reader_job *j = arg;
	for (int i = 0; i < j->rounds; i++) {
		memset(&j->o, 0, sizeof j->o);
		j->o.rc = am_procmaps_read(check_order, &j->o);
		if (j->o.rc != 0 || j->o.n == 0)
			break;
	}
	return NULL;
}

struct churn {
	int stop;
	long changes;
};

/* mprotect on alternate pages splits one mapping in many; undoing it
 * merges them back. */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	size_t pages = 64;
	char *p = mmap(NULL, pages * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return (void *)1;
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		for (size_t i = 0; i < pages; i += 2)
			mprotect(p + i * 4096, 4096, PROT_READ | PROT_WRITE);
		mprotect(p, pages * 4096, PROT_READ);
		c->changes++;
	}
	munmap(p, pages * 4096);
	return NULL;
}

static void test_self_concurrent(void **state)
{
	(void)state;
	pthread_t th[4], churner;
	struct reader_job jobs[4];
	struct churn ch = {0, 0};
	assert_int_equal(pthread_create(&churner, NULL, churn_thread, &ch), 0);
	for (int i = 0; i < 4; i++) {
		jobs[i].rounds = (int)(200 * test_scale()) + 1;
		assert_int_equal(pthread_create(&th[i], NULL, reader_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&ch.stop, 1, __ATOMIC_RELAXED);
	void *cr;
	pthread_join(churner, &cr);
	assert_null(cr);
	for (int i = 0; i < 4; i++) {
		const struct order *o = &jobs[i].o;
		if (o->rc != 0 || o->n == 0)
			fail_msg("reader %d: rc %d after %zu entries, at %lx-%lx (previous end %lx)", i,
				 o->rc, o->n, (unsigned long)o->bad_lo, (unsigned long)o->bad_hi,
				 (unsigned long)o->prev_hi);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_known),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_nul_and_pathcap),
		cmocka_unit_test(test_parse_truncation),
		cmocka_unit_test(test_parse_long_path),
		cmocka_unit_test(test_read_every_buffer_size),
		cmocka_unit_test(test_read_pipe_trickle),
		cmocka_unit_test(test_read_retries_eintr),
		cmocka_unit_test(test_read_malformed_and_stop),
		cmocka_unit_test(test_read_long_malformed),
		cmocka_unit_test(test_read_overlaps),
		cmocka_unit_test(test_read_bad_args),
		cmocka_unit_test(test_self_maps),
		cmocka_unit_test(test_self_maps_small_buffer),
		cmocka_unit_test(test_self_awkward_names),
		cmocka_unit_test(test_self_deleted),
		cmocka_unit_test(test_self_anon_name),
		cmocka_unit_test(test_self_path_longer_than_buffer),
		cmocka_unit_test(test_self_concurrent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
