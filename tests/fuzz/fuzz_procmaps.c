/* libFuzzer target for the /proc/<pid>/maps reader (src/sys/procmaps.c).
 *
 * Input: byte 0 picks the path buffer size (1..256), byte 1 the reader's
 * buffer size, byte 2 after how many entries the callback stops (0:
 * never); the rest is maps text. Checks, aborting on any failure:
 *   - am_procmaps_parse_line on the whole text as one line, with the small
 *     path buffer and with one big enough: same verdict, same fields, the
 *     small path the big one's prefix, truncated exactly when cut;
 *   - every entry's fields are in range, its path has no NUL inside;
 *   - the reader over the text (in a memfd, through an exact-size heap
 *     buffer) delivers what the line parser gives for each line, in order,
 *     a truncated path being a proper prefix and only for a line of at
 *     least cap - 1 bytes, overlaps set exactly when lo is below an end
 *     delivered before; it stops at the first malformed line with
 *     AM_PROCMAPS_EBADMSG, or when the callback says so with its value.
 */
#include "../../src/sys/procmaps.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(c)                                                                                  \
	do {                                                                                      \
		if (!(c))                                                                         \
			abort();                                                                  \
	} while (0)

static void check_entry(const struct am_maps_entry *e, size_t pathcap)
{
	CHECK(e->lo < e->hi);
	CHECK(e->prot >= 0 && e->prot <= 7);
	CHECK(e->shared == 0 || e->shared == 1);
	CHECK(e->deleted == 0 || e->deleted == 1);
	CHECK(e->truncated == 0 || e->truncated == 1);
	CHECK(strlen(e->path) < pathcap);
}

static int same_fields(const struct am_maps_entry *a, const struct am_maps_entry *b)
{
	return a->lo == b->lo && a->hi == b->hi && a->prot == b->prot && a->shared == b->shared &&
	       a->offset == b->offset && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && a->inode == b->inode && a->deleted == b->deleted;
}

/* Parses line[0, len) into *e with a path buffer big enough for it. */
static int parse_whole(const char *line, size_t len, struct am_maps_entry *e, char **path)
{
	*path = malloc(len + 1);
	CHECK(*path != NULL);
	int rc = am_procmaps_parse_line(line, len, e, *path, len + 1);
	if (rc == 0) {
		check_entry(e, len + 1);
		CHECK(!e->truncated);
	}
	return rc;
}

static void fuzz_parse_line(const char *text, size_t len, size_t pathcap)
{
	struct am_maps_entry small, big;
	char *spath = malloc(pathcap), *bpath;
	CHECK(spath != NULL);
	int rs = am_procmaps_parse_line(text, len, &small, spath, pathcap);
	int rb = parse_whole(text, len, &big, &bpath);
	CHECK(rs == rb && (rs == 0 || rs == -1));
	if (rs == 0) {
		size_t sl = strlen(small.path), bl = strlen(big.path);
		check_entry(&small, pathcap);
		CHECK(same_fields(&small, &big) && !small.overlaps && !big.overlaps);
		CHECK(small.truncated == (bl > pathcap - 1));
		CHECK(small.truncated ? sl == pathcap - 1 : sl == bl);
		CHECK(memcmp(small.path, big.path, sl) == 0);
	}
	free(spath);
	free(bpath);
}

/* What the reader's callback compares against: the text, line by line. */
struct expect {
	const char *p, *end;
	size_t cap;
	uintptr_t max_hi;
	size_t seen;
	size_t stop_at;
};

static size_t line_len(const struct expect *x)
{
	const char *nl = memchr(x->p, '\n', (size_t)(x->end - x->p));
	return nl ? (size_t)(nl - x->p) : (size_t)(x->end - x->p);
}

static void advance(struct expect *x, size_t len)
{
	x->p += len;
	if (x->p < x->end)
		x->p++;
}

static int on_entry(const struct am_maps_entry *e, void *arg)
{
	struct expect *x = arg;
	struct am_maps_entry want;
	char *path;
	CHECK(x->p < x->end);
	size_t len = line_len(x);
	CHECK(parse_whole(x->p, len, &want, &path) == 0);
	check_entry(e, x->cap);
	CHECK(same_fields(e, &want));
	CHECK(e->overlaps == (e->lo < x->max_hi));
	x->max_hi = e->hi > x->max_hi ? e->hi : x->max_hi;
	size_t gl = strlen(e->path), wl = strlen(want.path);
	if (e->truncated)
		CHECK(len >= x->cap - 1 && gl < wl);
	else
		CHECK(gl == wl);
	CHECK(memcmp(e->path, want.path, gl) == 0);
	free(path);
	advance(x, len);
	x->seen++;
	return x->stop_at && x->seen == x->stop_at ? 5 : 0;
}

/* The reader's result expected after it delivered x->seen entries. */
static void check_end(struct expect *x, int rc)
{
	struct am_maps_entry e;
	char *path;
	if (x->stop_at && x->seen == x->stop_at) {
		CHECK(rc == 5);
		return;
	}
	if (x->p == x->end) {
		CHECK(rc == 0);
		return;
	}
	CHECK(rc == AM_PROCMAPS_EBADMSG);
	CHECK(parse_whole(x->p, line_len(x), &e, &path) == -1);
	free(path);
}

static int text_fd(const char *text, size_t len)
{
	static int fd = -1;
	if (fd < 0)
		fd = memfd_create("fuzz_procmaps", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, text, len, 0) == (ssize_t)len);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

static void fuzz_reader(const char *text, size_t len, size_t cap, size_t stop_at)
{
	struct expect x = {text, text + len, cap, 0, 0, stop_at};
	char *buf = malloc(cap);
	CHECK(buf != NULL);
	int rc = am_procmaps_read_buf(text_fd(text, len), on_entry, &x, buf, cap);
	check_end(&x, rc);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t pathcap = 1 + (size_t)data[0];
	size_t cap = data[1] == 255 ? AM_PROCMAPS_BUF : AM_PROCMAPS_MIN_BUF + (size_t)data[1];
	size_t stop_at = data[2] % 8;
	const char *text = (const char *)data + 3;
	size_t len = size - 3;
	fuzz_parse_line(text, len, pathcap);
	fuzz_reader(text, len, cap, stop_at);
	return 0;
}
