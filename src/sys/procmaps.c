/* Parsing and reading /proc/<pid>/maps: see procmaps.h for the format and
 * the contract.
 *
 * The reader owns one buffer (the caller's, or AM_PROCMAPS_BUF bytes of
 * stack) and no other state. Invariants of struct reader:
 *   - buf[0, used) holds bytes not yet delivered, starting at a line start;
 *   - buf[0, scanned) holds no '\n' (so a scan resumes there);
 *   - used <= cap - 1: one byte stays free for the NUL after a last line
 *     that has no '\n';
 *   - max_hi is the highest end delivered, to flag overlaps.
 * A complete line is parsed in place: its name decodes onto itself
 * (decoding never lengthens), its '\n' becomes the NUL. A line that fills
 * the buffer is long: its head stays put, its rest is read through a small
 * scratch array keeping only its length and last bytes, and it is
 * delivered with a truncated path (AM_PROCMAPS_FIELDS_MAX keeps every
 * field inside the head).
 */
#include "procmaps.h"
#include "syscall.h"

#include <errno.h> /* constants only: errno itself is never touched */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

_Static_assert(PROT_READ == 1 && PROT_WRITE == 2 && PROT_EXEC == 4,
	       "perm letters r, w, x map to bits 0, 1, 2");
_Static_assert(AM_PROCMAPS_BUF >= AM_PROCMAPS_MIN_BUF, "default buffer too small");
_Static_assert(AM_PROCMAPS_EBADMSG == -EBADMSG, "the header spells out -EBADMSG");

static const char deleted_sfx[] = " (deleted)";
#define DELETED_LEN (sizeof(deleted_sfx) - 1)

/* The kernel's escape for '\n' in a name; the only escape it writes. */
static const char nl_esc[] = "\\012";
#define NL_ESC_LEN (sizeof(nl_esc) - 1)

/* Where a line's raw name lies: line[name_off, name_off + name_len), the
 * " (deleted)" suffix already cut off. */
struct split {
	size_t name_off;
	size_t name_len;
};

/* ---- fields ---- */

struct cur {
	const char *p, *end;
};

static int digit_val(char c, unsigned base)
{
	int v = -1;
	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v < (int)base ? v : -1;
}

/* One or more digits in base, their value at most max. */
static int get_num(struct cur *c, unsigned base, uint64_t max, uint64_t *out)
{
	const char *start = c->p;
	uint64_t v = 0;
	int d;
	while (c->p < c->end && (d = digit_val(*c->p, base)) >= 0) {
		if ((uint64_t)d > max || v > (max - (uint64_t)d) / base)
			return -1;
		v = v * base + (uint64_t)d;
		c->p++;
	}
	*out = v;
	return c->p > start ? 0 : -1;
}

static int get_char(struct cur *c, char want)
{
	if (c->p == c->end || *c->p != want)
		return -1;
	c->p++;
	return 0;
}

/* "rwxs" with '-' for an absent r, w or x and 'p' for private. */
static int get_perm(struct cur *c, struct am_maps_entry *out)
{
	static const char on[4] = {'r', 'w', 'x', 's'};
	static const char off[4] = {'-', '-', '-', 'p'};
	int bits = 0;
	if (c->end - c->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (c->p[i] == on[i])
			bits |= 1 << i;
		else if (c->p[i] != off[i])
			return -1;
	}
	c->p += 4;
	out->prot = bits & 7;
	out->shared = bits >> 3;
	return 0;
}

static int get_range(struct cur *c, struct am_maps_entry *out)
{
	uint64_t lo, hi;
	if (get_num(c, 16, UINTPTR_MAX, &lo) || get_char(c, '-') ||
	    get_num(c, 16, UINTPTR_MAX, &hi) || lo >= hi)
		return -1;
	out->lo = (uintptr_t)lo;
	out->hi = (uintptr_t)hi;
	return 0;
}

static int get_dev(struct cur *c, struct am_maps_entry *out)
{
	uint64_t major, minor;
	if (get_num(c, 16, UINT32_MAX, &major) || get_char(c, ':') ||
	    get_num(c, 16, UINT32_MAX, &minor))
		return -1;
	out->dev_major = (unsigned)major;
	out->dev_minor = (unsigned)minor;
	return 0;
}

/* All fields up to the name. Returns the name's start (c->end when there
 * is none), or NULL if malformed. */
static const char *get_fields(struct cur *c, struct am_maps_entry *out)
{
	if (get_range(c, out) || get_char(c, ' ') || get_perm(c, out) || get_char(c, ' ') ||
	    get_num(c, 16, UINT64_MAX, &out->offset) || get_char(c, ' ') || get_dev(c, out) ||
	    get_char(c, ' ') || get_num(c, 10, UINT64_MAX, &out->inode))
		return NULL;
	if (c->p == c->end)
		return c->p;
	if (get_char(c, ' '))
		return NULL;
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	return c->p;
}

/* ---- the name ---- */

static int has_deleted_sfx(const char *name, size_t n)
{
	return n >= DELETED_LEN && memcmp(name + n - DELETED_LEN, deleted_sfx, DELETED_LEN) == 0;
}

/* Is s[0, n), n < NL_ESC_LEN, the start of an escape cut off by a buffer? */
static int is_esc_prefix(const char *s, size_t n)
{
	return n < NL_ESC_LEN && memcmp(s, nl_esc, n) == 0;
}

/* Decodes the raw name src[0, n) into dst[0, cap), cap >= 1, and
 * NUL-terminates it. dst may be src: a step never writes ahead of what it
 * has read. If partial, src is only a prefix of the name and an escape it
 * cuts is dropped. Returns 1 if dst holds only a prefix of the name. */
static int decode_name(char *dst, size_t cap, const char *src, size_t n, int partial)
{
	size_t i = 0, o = 0;
	int cut = partial;
	while (i < n) {
		size_t step = 1;
		char ch = src[i];
		if (ch == '\\' && n - i >= NL_ESC_LEN && memcmp(src + i, nl_esc, NL_ESC_LEN) == 0) {
			ch = '\n';
			step = NL_ESC_LEN;
		} else if (ch == '\\' && partial && is_esc_prefix(src + i, n - i)) {
			break;
		}
		if (o + 1 >= cap) {
			cut = 1;
			break;
		}
		dst[o++] = ch;
		i += step;
	}
	dst[o] = '\0';
	return cut;
}

/* Parses the fields of line[0, len) (no '\n' at its end) and finds its
 * raw name; sets every field of out but path and truncated. Only the
 * first AM_PROCMAPS_FIELDS_MAX + 1 bytes are needed to find the name. */
static int split_line(const char *line, size_t len, struct am_maps_entry *out, struct split *s)
{
	struct cur c = {line, line + len};
	const char *name = get_fields(&c, out);
	if (!name || (size_t)(name - line) > AM_PROCMAPS_FIELDS_MAX)
		return -1;
	s->name_off = (size_t)(name - line);
	s->name_len = len - s->name_off;
	if (memchr(name, '\n', s->name_len) || memchr(name, '\0', s->name_len))
		return -1;
	out->deleted = has_deleted_sfx(name, s->name_len);
	if (out->deleted)
		s->name_len -= DELETED_LEN;
	return 0;
}

int am_procmaps_parse_line(const char *line, size_t len, struct am_maps_entry *out,
			   char *pathbuf, size_t pathcap)
{
	struct split s;
	if (pathcap == 0)
		return -1;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (split_line(line, len, out, &s))
		return -1;
	out->truncated = decode_name(pathbuf, pathcap, line + s.name_off, s.name_len, 0);
	out->path = pathbuf;
	out->overlaps = 0;
	return 0;
}

/* ---- the reader ---- */

struct reader {
	int fd;
	char *buf;
	size_t cap;
	size_t used;
	size_t scanned;
	int eof;
	uintptr_t max_hi;	/* the highest end delivered so far */
	am_procmaps_cb cb;
	void *arg;
};

static long read_retry(int fd, void *p, size_t n)
{
	long r;
	do
		r = am_sys_read(fd, p, n);
	while (r == -EINTR);
	return r;
}

static int call_back(struct reader *r, struct am_maps_entry *e)
{
	e->overlaps = e->lo < r->max_hi;
	if (e->hi > r->max_hi)
		r->max_hi = e->hi;
	return r->cb(e, r->arg);
}

/* Delivers the complete line buf[off, off + len), whose byte at len is
 * free to take the path's NUL. */
static int deliver(struct reader *r, size_t off, size_t len)
{
	struct am_maps_entry e;
	struct split s;
	char *line = r->buf + off;
	if (split_line(line, len, &e, &s))
		return AM_PROCMAPS_EBADMSG;
	e.path = line + s.name_off;
	e.truncated = decode_name(line + s.name_off, s.name_len + 1, e.path, s.name_len, 0);
	return call_back(r, &e);
}

/* Delivers every complete line in the buffer, then moves the rest (a
 * partial line) to its front. */
static int drain(struct reader *r)
{
	size_t start = 0;
	int rc = 0;
	while (rc == 0 && r->scanned < r->used) {
		char *nl = memchr(r->buf + r->scanned, '\n', r->used - r->scanned);
		if (!nl) {
			r->scanned = r->used;
			break;
		}
		size_t end = (size_t)(nl - r->buf);
		rc = deliver(r, start, end - start);
		start = r->scanned = end + 1;
	}
	memmove(r->buf, r->buf + start, r->used - start);
	r->used -= start;
	r->scanned -= start;
	return rc;
}

static int fill(struct reader *r)
{
	long n = read_retry(r->fd, r->buf + r->used, r->cap - 1 - r->used);
	if (n < 0)
		return (int)n;
	r->used += (size_t)n;
	r->eof = n == 0;
	return 0;
}

/* What a long line's skipped rest leaves behind. */
struct rest {
	size_t total;			/* the line's length, without '\n' */
	char tail[DELETED_LEN];		/* its last bytes */
	int bad;			/* a NUL was skipped */
	char scratch[64];		/* bytes read past the '\n' */
	size_t left;			/* how many */
};

static void rest_push(struct rest *t, const char *s, size_t n)
{
	t->total += n;
	t->bad |= memchr(s, '\0', n) != NULL;
	if (n >= DELETED_LEN) {
		memcpy(t->tail, s + n - DELETED_LEN, DELETED_LEN);
		return;
	}
	memmove(t->tail, t->tail + n, DELETED_LEN - n);
	memcpy(t->tail + DELETED_LEN - n, s, n);
}

/* Reads up to the end of the long line, keeping what follows it. */
static int skip_rest(struct reader *r, struct rest *t)
{
	for (;;) {
		long n = read_retry(r->fd, t->scratch, sizeof t->scratch);
		if (n < 0)
			return (int)n;
		if (n == 0) {
			r->eof = 1;
			return 0;
		}
		char *nl = memchr(t->scratch, '\n', (size_t)n);
		size_t take = nl ? (size_t)(nl - t->scratch) : (size_t)n;
		rest_push(t, t->scratch, take);
		if (nl) {
			t->left = (size_t)n - take - 1;
			memmove(t->scratch, nl + 1, t->left);
			return 0;
		}
	}
}

/* The entry of a long line whose first head bytes fill the buffer. */
static int deliver_long(struct reader *r, size_t head, const struct rest *t)
{
	struct am_maps_entry e;
	struct split s;
	if (t->bad || split_line(r->buf, head, &e, &s))
		return AM_PROCMAPS_EBADMSG;
	size_t name_len = t->total - s.name_off;
	e.deleted = has_deleted_sfx(t->tail, DELETED_LEN) && name_len >= DELETED_LEN;
	if (e.deleted)
		name_len -= DELETED_LEN;
	int partial = s.name_off + name_len > head;
	if (partial)
		name_len = head - s.name_off;
	e.path = r->buf + s.name_off;
	e.truncated = decode_name(r->buf + s.name_off, name_len + 1, e.path, name_len, partial);
	return call_back(r, &e);
}

/* The buffer is full and holds no '\n'. split_line sees only the head,
 * so its own " (deleted)" check there is overridden by deliver_long. */
static int long_line(struct reader *r)
{
	struct rest t = {.total = r->used};
	size_t head = r->used;
	memcpy(t.tail, r->buf + head - DELETED_LEN, DELETED_LEN);
	int rc = skip_rest(r, &t);
	if (rc == 0)
		rc = deliver_long(r, head, &t);
	memcpy(r->buf, t.scratch, t.left);
	r->used = t.left;
	r->scanned = 0;
	return rc;
}

int am_procmaps_read_buf(int fd, am_procmaps_cb cb, void *arg, char *buf, size_t cap)
{
	struct reader r = {.fd = fd, .buf = buf, .cap = cap, .cb = cb, .arg = arg};
	int rc;
	if (cap < AM_PROCMAPS_MIN_BUF)
		return -EINVAL;
	for (;;) {
		if ((rc = drain(&r)) != 0)
			return rc;
		if (r.used == r.cap - 1)
			rc = long_line(&r);
		else if (r.eof)
			return r.used ? deliver(&r, 0, r.used) : 0;
		else
			rc = fill(&r);
		if (rc)
			return rc;
	}
}

int am_procmaps_read_fd(int fd, am_procmaps_cb cb, void *arg)
{
	char buf[AM_PROCMAPS_BUF];
	return am_procmaps_read_buf(fd, cb, arg, buf, sizeof buf);
}

int am_procmaps_read(am_procmaps_cb cb, void *arg)
{
	long fd;
	do
		fd = am_sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
	while (fd == -EINTR);
	if (fd < 0)
		return (int)fd;
	int rc = am_procmaps_read_fd((int)fd, cb, arg);
	am_sys_close((int)fd);
	return rc;
}
