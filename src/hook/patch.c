/* Text patching: see patch.h for the jump forms and the contract.
 *
 * Owns the trampoline pages (tramps[], at most TRAMP_PAGES pages of
 * TRAMP_SLOTS slots) and patch_lock, which serialises every patch and
 * every trampoline allocation. Invariants: a trampoline page is R-X
 * (read-write before its first slot, never both); a slot, once written,
 * never changes; no page is ever writable and executable. A trampoline page is placed in a
 * gap between two mappings that do not belong to the same file, one
 * guard page away from its neighbour, so it never falls into the hole
 * of a loaded object.
 */
#include "patch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define VALGRIND_DISCARD_TRANSLATIONS(addr, len) ((void)(addr), (void)(len))
#endif

#include "../sys/log.h"
#include "../sys/lock.h"
#include "../sys/procmaps.h"
#include "../sys/syscall.h"
#include "../sys/elfsym.h"
#include "hook.h"
#include "../sys/page.h"
#include "../sys/pages.h"

#define SLOT 16
#define TRAMP_SLOTS (AM_PAGE_SIZE / SLOT)
#define TRAMP_PAGES 4
#define FN_ALIGN 16

struct tramp_page {
	uint8_t *page;		/* R-X page near its first user, or NULL */
	unsigned used;		/* slots written */
};

static struct tramp_page tramps[TRAMP_PAGES];
static struct am_lock patch_lock = AM_LOCK_INIT;

/* ---- encoding ---- */

static int rel_reachable(const uint8_t *from_end, const void *to)
{
	intptr_t d = (intptr_t)to - (intptr_t)from_end;
	return d >= INT32_MIN && d <= INT32_MAX;
}

static void encode_rel(uint8_t *code, const uint8_t *at, const void *to)
{
	int32_t d = (int32_t)((intptr_t)to - (intptr_t)(at + AM_PATCH_REL_LEN));
	code[0] = 0xe9;
	memcpy(code + 1, &d, 4);
}

static void encode_abs(uint8_t *code, const void *to)
{
	static const uint8_t jmp_r11[3] = {0x41, 0xff, 0xe3};
	code[0] = 0x49;
	code[1] = 0xbb;
	memcpy(code + 2, &to, 8);
	memcpy(code + 10, jmp_r11, 3);
}

static const void *decode_abs(const uint8_t *p)
{
	const void *to;
	if (p[0] != 0x49 || p[1] != 0xbb || p[10] != 0x41 || p[11] != 0xff || p[12] != 0xe3)
		return NULL;
	memcpy(&to, p + 2, 8);
	return to;
}

static const uint8_t *decode_rel(const uint8_t *p)
{
	int32_t d;
	if (p[0] != 0xe9)
		return NULL;
	memcpy(&d, p + 1, 4);
	return p + AM_PATCH_REL_LEN + d;
}

static int is_tramp_slot(const uint8_t *p)
{
	for (int i = 0; i < TRAMP_PAGES; i++)
		if (tramps[i].page && p >= tramps[i].page && p < tramps[i].page + AM_PAGE_SIZE)
			return 1;
	return 0;
}

int am_patch_is_jump_to(const void *fn, const void *handler)
{
	const uint8_t *p = fn, *to = decode_rel(p);
	if (to && is_tramp_slot(to))
		return decode_abs(to) == handler;
	return to ? to == handler : decode_abs(p) == handler;
}

/* ---- room: the symbol plus its padding ---- */

/* Length of the nop (90, 66 90, [66..] [2e] 0f 1f /0) or int3 (cc)
 * padding instruction at p, 0 if p holds anything else; reads only
 * p[0, avail). */
static size_t pad_len(const uint8_t *p, size_t avail)
{
	size_t n = 0;
	if (p[0] == 0x90 || p[0] == 0xcc)
		return 1;
	while (n < avail && p[n] == 0x66)
		n++;
	if (n < avail && p[n] == 0x2e)
		n++;
	if (n && n < avail && p[n] == 0x90)
		return n + 1;
	if (n + 3 > avail || p[n] != 0x0f || p[n + 1] != 0x1f || (p[n + 2] & 0x38))
		return 0;
	unsigned mod = p[n + 2] >> 6, rm = p[n + 2] & 7;
	size_t len = n + 3 + (mod != 3 && rm == 4) + (mod == 1) + (mod == 2) * 4 +
		     (mod == 0 && rm == 5) * 4;
	return len <= avail ? len : 0;
}

size_t am_patch_room(const void *fn, size_t size)
{
	const uint8_t *p = (const uint8_t *)fn + size;
	uintptr_t end = ((uintptr_t)p + FN_ALIGN - 1) & ~(uintptr_t)(FN_ALIGN - 1);
	if (!size)
		return 0;
	while ((uintptr_t)p < end) {
		size_t n = pad_len(p, end - (uintptr_t)p);
		if (!n)
			break;
		p += n;
	}
	return (size_t)(p - (const uint8_t *)fn);
}

/* ---- page protection ---- */

/* Executable mappings as the first lookup saw them: patching happens at
 * start-up, where text does not move, so one read of /proc/self/maps
 * serves every patch (a miss reads it again). */
enum { MAX_TEXT = 128 };
static struct {
	uintptr_t lo, hi;
	int prot;
} text_maps[MAX_TEXT];
static int ntext;

static int cache_cb(const struct am_maps_entry *e, void *arg)
{
	(void)arg;
	if ((e->prot & PROT_EXEC) && ntext < MAX_TEXT) {
		text_maps[ntext].lo = e->lo, text_maps[ntext].hi = e->hi;
		text_maps[ntext++].prot = e->prot;
	}
	return 0;
}

static int cached_prot(uintptr_t addr)
{
	for (int i = 0; i < ntext; i++)
		if (addr >= text_maps[i].lo && addr < text_maps[i].hi)
			return text_maps[i].prot;
	return -EFAULT;
}

/* The protection of the executable page holding addr, or -EFAULT if it
 * is unmapped or not executable. */
static int page_prot(uintptr_t addr)
{
	int prot = cached_prot(addr);
	if (prot >= 0)
		return prot;
	ntext = 0;
	int r = am_procmaps_read(cache_cb, NULL);
	return r < 0 ? r : cached_prot(addr);
}

static int text_prot(const void *at)
{
	int prot = page_prot((uintptr_t)at);
	if (prot >= 0 && (prot & (PROT_READ | PROT_EXEC)) != (PROT_READ | PROT_EXEC))
		prot = -EFAULT;
	return prot;
}

/* ---- writing: never a writable and executable page ----
 *
 * Text is written through /proc/self/mem, as a debugger writes it: the
 * kernel writes the read-only page (a private copy of it) with no change
 * of protection. Measured here (kernel 6.18, a loaded 2-CPU VM where a
 * null system call takes about 1.1 us): a 5-byte pwrite about 2.1 us,
 * like the mprotect RW+RX pair it replaces; /proc/self/mem is opened once
 * per batch (start-up's 11 patches): no start-up difference measurable
 * here (bench/RESULTS.md).
 * Where the kernel refuses it (proc_mem.force_override=never, no /proc),
 * the page is made read-write — not executable — while it is written,
 * then given its protection back: safe only while no other thread runs
 * code in it, which start-up is; the bytes are copied by copy_bytes, not
 * by libc code that could lie in that very page. If that is refused too
 * (SELinux execmod), the patch fails and says why. */

/* A byte copy the compiler cannot turn into a call of memcpy. */
static void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
	volatile uint8_t *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = src[i];
}

/* Writes code over dst in place so that a concurrent fetch sees the old
 * bytes, a self-loop, or the new bytes, never a mix (see patch.h). */
static void store_code(uint8_t *dst, const uint8_t *code, size_t len)
{
	uintptr_t q = (uintptr_t)dst & ~(uintptr_t)7, off = (uintptr_t)dst - q;
	if (off + len <= 8) {
		uint64_t v = __atomic_load_n((uint64_t *)q, __ATOMIC_RELAXED);
		copy_bytes((uint8_t *)&v + off, code, len);
		__atomic_store_n((uint64_t *)q, v, __ATOMIC_RELEASE);
		return;
	}
	if ((uintptr_t)dst & 1) {
		copy_bytes(dst, code, len);
		return;
	}
	uint16_t head, loop = 0xfeeb;
	copy_bytes((uint8_t *)&head, code, 2);
	__atomic_store_n((uint16_t *)dst, loop, __ATOMIC_SEQ_CST);
	copy_bytes(dst + 2, code + 2, len - 2);
	__atomic_store_n((uint16_t *)dst, head, __ATOMIC_SEQ_CST);
}

static long mem_put(int fd, uintptr_t at, const void *src, size_t n)
{
	long r = am_sys_pwrite(fd, src, n, at);
	return r == (long)n ? 0 : r < 0 ? r : -EIO;
}

/* store_code's order through /proc/self/mem: one aligned quadword, or
 * the self-loop, the tail, then the head. */
static long mem_store(int fd, uint8_t *dst, const uint8_t *code, size_t len)
{
	uintptr_t q = (uintptr_t)dst & ~(uintptr_t)7, off = (uintptr_t)dst - q;
	static const uint8_t loop[2] = {0xeb, 0xfe};
	long r;
	if (off + len <= 8) {
		uint64_t v = __atomic_load_n((uint64_t *)q, __ATOMIC_RELAXED);
		copy_bytes((uint8_t *)&v + off, code, len);
		return mem_put(fd, q, &v, 8);
	}
	if ((uintptr_t)dst & 1)
		return mem_put(fd, (uintptr_t)dst, code, len);
	if ((r = mem_put(fd, (uintptr_t)dst, loop, 2)) == 0 && (r = mem_put(fd, (uintptr_t)dst + 2, code + 2, len - 2)) == 0)
		r = mem_put(fd, (uintptr_t)dst, code, 2);
	return r;
}

/* /proc/self/mem, open for a batch of patches (am_patch_batch_*). */
static long mem_fd = -1;
static int in_batch;

static long write_via_mem(uint8_t *dst, const uint8_t *code, size_t len)
{
	long fd = mem_fd >= 0 ? mem_fd : am_sys_open("/proc/self/mem", O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	long r = mem_store((int)fd, dst, code, len);
	if (in_batch && r == 0)
		mem_fd = fd;
	else if (fd != mem_fd)
		am_sys_close((int)fd);
	return r;
}

void am_patch_batch_begin(void)
{
	am_lock(&patch_lock);
	in_batch = 1;
	am_unlock(&patch_lock);
}

void am_patch_batch_end(void)
{
	am_lock(&patch_lock);
	in_batch = 0;
	if (mem_fd >= 0)
		am_sys_close((int)mem_fd);
	mem_fd = -1;
	am_unlock(&patch_lock);
}

/* The fallback: each page read-write, not executable, while written. */
static long write_via_mprotect(uint8_t *dst, const uint8_t *code, size_t len, const uintptr_t *page,
			       const int *prot, int n)
{
	int opened = 0;
	long r = 0;
	for (; opened < n && r == 0; opened++)
		r = am_sys_mprotect((void *)page[opened], AM_PAGE_SIZE, (prot[opened] | PROT_WRITE) & ~PROT_EXEC);
	if (r == 0)
		store_code(dst, code, len);
	for (int i = 0; i < opened; i++) {
		long c = am_sys_mprotect((void *)page[i], AM_PAGE_SIZE, prot[i]);
		if (c < 0)
			am_log("patch: cannot restore protection of %p: error %ld", (void *)page[i], -c);
		r = r < 0 ? r : c;
	}
	return r;
}

/* Writes len bytes of code at dst, which spans one or two pages of
 * readable executable text, never making a page writable and executable. */
static int text_write(uint8_t *dst, const uint8_t *code, size_t len)
{
	static int mem_refused;
	uintptr_t page[2] = {am_page_down((uintptr_t)dst), am_page_down((uintptr_t)dst + len - 1)};
	int n = page[1] != page[0] ? 2 : 1, prot[2];
	long r = 0;
	for (int i = 0; i < n && r >= 0; i++)
		r = prot[i] = text_prot((void *)page[i]);
	if (r < 0)
		return (int)r;
	long m = write_via_mem(dst, code, len);
	if (m != 0) {
		am_log_once(&mem_refused, "patch: /proc/self/mem refused (error %ld); patching with text briefly "
					  "read-write and not executable", -m);
		r = write_via_mprotect(dst, code, len, page, prot, n);
		if (r < 0)
			am_log("patch: cannot patch %p without a writable and executable page: /proc/self/mem "
			       "error %ld, mprotect error %ld", (void *)dst, -m, -r);
	}
	if (r >= 0) /* valgrind does not watch file-backed text for changes. */
		VALGRIND_DISCARD_TRANSLATIONS(dst, len);
	return r < 0 ? (int)r : 0;
}

/* ---- trampolines ---- */

struct gap_query {
	const uint8_t *fn;		/* the patched entry that jumps here */
	uintptr_t best;			/* page address chosen so far, or 0 */
	uintptr_t best_dist;
	uintptr_t prev_hi;		/* the previous mapping, if any */
	uint64_t prev_inode;
	unsigned prev_major, prev_minor;
};

static int same_file(const struct gap_query *q, const struct am_maps_entry *e)
{
	return e->inode && e->inode == q->prev_inode && e->dev_major == q->prev_major &&
	       e->dev_minor == q->prev_minor;
}

/* Offers the gap [lo, hi) between two mappings: a page one guard page
 * inside it, on the side nearer fn. */
static void gap_offer(struct gap_query *q, uintptr_t lo, uintptr_t hi)
{
	uintptr_t fn = (uintptr_t)q->fn, at, dist;
	if (hi - lo < 3 * AM_PAGE_SIZE)
		return;
	at = hi <= fn ? hi - 2 * AM_PAGE_SIZE : lo + AM_PAGE_SIZE;
	dist = at > fn ? at - fn : fn - at;
	if (!rel_reachable(q->fn + AM_PATCH_REL_LEN, (void *)at) ||
	    !rel_reachable(q->fn + AM_PATCH_REL_LEN, (void *)(at + AM_PAGE_SIZE)))
		return;
	if (!q->best || dist < q->best_dist)
		q->best = at, q->best_dist = dist;
}

static int gap_cb(const struct am_maps_entry *e, void *arg)
{
	struct gap_query *q = arg;
	if (q->prev_hi && e->lo > q->prev_hi && !same_file(q, e))
		gap_offer(q, q->prev_hi, e->lo);
	q->prev_hi = e->hi;
	q->prev_inode = e->inode;
	q->prev_major = e->dev_major;
	q->prev_minor = e->dev_minor;
	return 0;
}

/* Maps a fresh R-X-to-be page within rel32 reach of fn, or returns NULL. */
static uint8_t *tramp_map(const uint8_t *fn)
{
	for (int attempt = 0; attempt < 4; attempt++) { /* another thread may take the gap first */
		struct gap_query q = {.fn = fn};
		if (am_procmaps_read(gap_cb, &q) < 0 || !q.best)
			return NULL;
		uint8_t *p = am_pages_map_at(q.best, AM_PAGE_SIZE, PROT_READ | PROT_WRITE);
		if (p)
			return p;
	}
	return NULL;
}

static struct tramp_page *tramp_page_for(const uint8_t *fn)
{
	for (int i = 0; i < TRAMP_PAGES; i++) {
		struct tramp_page *t = &tramps[i];
		if (!t->page) {
			t->page = tramp_map(fn);
			return t->page ? t : NULL;
		}
		if (t->used < TRAMP_SLOTS && rel_reachable(fn + AM_PATCH_REL_LEN, t->page) &&
		    rel_reachable(fn + AM_PATCH_REL_LEN, t->page + AM_PAGE_SIZE))
			return t;
	}
	return NULL;
}

/* Writes an abs jump to handler into a slot near fn; NULL on failure. */
static uint8_t *tramp_get(const uint8_t *fn, void *handler)
{
	uint8_t code[SLOT];
	struct tramp_page *t = tramp_page_for(fn);
	if (!t)
		return NULL;
	uint8_t *slot = t->page + t->used * SLOT;
	memset(code, 0xcc, sizeof code);
	encode_abs(code, handler);
	if (t->used++ == 0) {
		memcpy(slot, code, SLOT);
		if (am_sys_mprotect(t->page, AM_PAGE_SIZE, PROT_READ | PROT_EXEC) < 0)
			return NULL;
		am_ev_mmap(t->page, AM_PAGE_SIZE, PROT_READ | PROT_EXEC,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, NULL);
		return slot;
	}
	return text_write(slot, code, SLOT) == 0 ? slot : NULL;
}

/* ---- patching ---- */

/* Chooses the jump for fn (see patch.h) into code[0, *len). */
static int plan(uint8_t *fn, size_t room, void *handler, uint8_t *code, size_t *len)
{
	uint8_t *slot;
	*len = AM_PATCH_REL_LEN;
	if (room >= AM_PATCH_REL_LEN && rel_reachable(fn + AM_PATCH_REL_LEN, handler)) {
		encode_rel(code, fn, handler);
	} else if (room >= AM_PATCH_ABS_LEN) {
		encode_abs(code, handler);
		*len = AM_PATCH_ABS_LEN;
	} else if (room >= AM_PATCH_REL_LEN) {
		if (!(slot = tramp_get(fn, handler))) {
			am_log("patch: no trampoline page within reach of %p", (void *)fn);
			return -ENOMEM;
		}
		encode_rel(code, fn, slot);
	} else {
		am_log("patch: refusing %p: %zu bytes of room, a jump needs %d", (void *)fn, room,
		       AM_PATCH_REL_LEN);
		return -ENOSPC;
	}
	return 0;
}

static int patch_locked(uint8_t *fn, size_t size, void *handler)
{
	uint8_t code[AM_PATCH_ABS_LEN];
	size_t len;
	int r = text_prot(fn);
	if (r < 0) {
		am_log("patch: refusing %p: not in readable executable memory", (void *)fn);
		return -EFAULT;
	}
	if (am_patch_is_jump_to(fn, handler))
		return 0;
	r = plan(fn, am_patch_room(fn, size), handler, code, &len);
	if (r == 0 && (r = text_write(fn, code, len)) < 0)
		am_log("patch: writing %p failed: error %d", (void *)fn, -r);
	return r;
}

int am_patch_jump_sized(void *fn, size_t size, void *handler)
{
	if (!fn || !handler) {
		am_log("patch: refusing a NULL function or handler");
		return -EINVAL;
	}
	am_lock(&patch_lock);
	int r = patch_locked(fn, size, handler);
	am_unlock(&patch_lock);
	return r;
}

int am_patch_call(void *site, void *handler)
{
	uint8_t *at = site;
	if (!at || !handler || at[0] != 0xe8 || text_prot(at) < 0) {
		am_log("patch: refusing %p: not a call instruction in executable memory", site);
		return -EINVAL;
	}
	am_lock(&patch_lock);
	const void *to = rel_reachable(at + AM_PATCH_REL_LEN, handler) ? handler : tramp_get(at, handler);
	int r = -ENOMEM;
	if (to) {
		uint8_t code[AM_PATCH_REL_LEN]; /* e9 rel32: the rel32 is the same for e8 */
		encode_rel(code, at, to);
		r = text_write(at + 1, code + 1, 4);
	} else {
		am_log("patch: no trampoline page within reach of %p", site);
	}
	am_unlock(&patch_lock);
	return r;
}

int am_patch_jump(void *fn, void *handler)
{
	size_t size = 0;
	if (fn && !am_elf_symbol_at(fn, &size)) {
		am_log("patch: refusing %p: no dynamic symbol starts there (size unknown)", fn);
		return -ENOENT;
	}
	return am_patch_jump_sized(fn, size, handler);
}
