/* TLSF engine: see tlsf.h for the design.
 *
 * Invariants (checked by am_tlsf_validate):
 *   - block sizes are multiples of 16 and at least AM_TLSF_MIN_BLOCK;
 *     a pool ends with a size-0 sentinel header at end-16;
 *   - no two free blocks are adjacent;
 *   - PREV_FREE of a block is set exactly when its physical predecessor is
 *     free, and then prev_size holds that predecessor's size;
 *   - a free block of size s is on list mapping(s), and the bitmaps mark
 *     exactly the non-empty lists.
 */
#include "tlsf.h"

#include <string.h>

#define F_FREE ((size_t)1)
#define F_PREV_FREE ((size_t)2)
#define F_MASK ((size_t)15)
#define SMALL ((size_t)1 << AM_TLSF_FL_SHIFT)

struct am_blk {
	size_t prev_size;          /* size of the physical predecessor, if it is free */
	size_t size;               /* total bytes incl. header | F_FREE | F_PREV_FREE */
	struct am_blk *next_free;  /* free-list links: payload of a free block */
	struct am_blk *prev_free;
};

_Static_assert(sizeof(struct am_blk) == AM_TLSF_MIN_BLOCK, "header + links");
_Static_assert(AM_TLSF_FL_COUNT <= 64, "fl_map is 64 bits");
_Static_assert(AM_TLSF_SL_COUNT <= 32, "sl_map entries are 32 bits");

static inline size_t bsize(const struct am_blk *b) { return b->size & ~F_MASK; }
static inline int is_free(const struct am_blk *b) { return (b->size & F_FREE) != 0; }
static inline struct am_blk *next_phys(const struct am_blk *b)
{
	return (struct am_blk *)((char *)b + bsize(b));
}
static inline struct am_blk *of_payload(const void *p) { return (struct am_blk *)((char *)p - AM_TLSF_HDR); }
static inline void *payload(struct am_blk *b) { return (char *)b + AM_TLSF_HDR; }
static inline int fls64(size_t x) { return 63 - __builtin_clzll(x); }

static void mapping(size_t size, int *fl, int *sl)
{
	if (size < SMALL) {
		*fl = 0;
		*sl = (int)(size / AM_TLSF_ALIGN);
		return;
	}
	int f = fls64(size);
	*sl = (int)((size >> (f - AM_TLSF_SL_LOG2)) ^ AM_TLSF_SL_COUNT);
	*fl = f - AM_TLSF_FL_SHIFT + 1;
}

/* Rounds up to the next class boundary so every block on the list fits. */
static void mapping_search(size_t size, int *fl, int *sl)
{
	if (size >= SMALL)
		size += ((size_t)1 << (fls64(size) - AM_TLSF_SL_LOG2)) - 1;
	mapping(size, fl, sl);
}

static void list_remove(struct am_tlsf *t, struct am_blk *b)
{
	int fl, sl;
	mapping(bsize(b), &fl, &sl);
	if (b->prev_free)
		b->prev_free->next_free = b->next_free;
	else
		t->heads[fl][sl] = b->next_free;
	if (b->next_free)
		b->next_free->prev_free = b->prev_free;
	if (!t->heads[fl][sl]) {
		t->sl_map[fl] &= ~(1u << sl);
		if (!t->sl_map[fl])
			t->fl_map &= ~((uint64_t)1 << fl);
	}
}

static void list_insert(struct am_tlsf *t, struct am_blk *b)
{
	int fl, sl;
	mapping(bsize(b), &fl, &sl);
	b->prev_free = NULL;
	b->next_free = t->heads[fl][sl];
	if (b->next_free)
		b->next_free->prev_free = b;
	t->heads[fl][sl] = b;
	t->sl_map[fl] |= 1u << sl;
	t->fl_map |= (uint64_t)1 << fl;
}

static struct am_blk *find_fit(struct am_tlsf *t, size_t size)
{
	int fl, sl;
	mapping_search(size, &fl, &sl);
	if (fl >= AM_TLSF_FL_COUNT)
		return NULL;
	uint32_t sl_bits = t->sl_map[fl] & (~0u << sl);
	if (!sl_bits) {
		uint64_t fl_bits = fl + 1 < 64 ? t->fl_map & (~(uint64_t)0 << (fl + 1)) : 0;
		if (!fl_bits)
			return NULL;
		fl = __builtin_ctzll(fl_bits);
		sl_bits = t->sl_map[fl];
	}
	return t->heads[fl][__builtin_ctz(sl_bits)];
}

/* Marks b (size given, flags kept) free and tells its successor. */
static void set_free(struct am_blk *b, size_t size)
{
	b->size = size | F_FREE | (b->size & F_PREV_FREE);
	struct am_blk *n = next_phys(b);
	n->prev_size = size;
	n->size |= F_PREV_FREE;
}

static void set_used(struct am_blk *b, size_t size)
{
	b->size = size | (b->size & F_PREV_FREE);
	next_phys(b)->size &= ~F_PREV_FREE;
}

/* Merges b (being freed, not on a list) with free neighbours; returns the
 * resulting block, marked free, not yet on a list. */
static struct am_blk *coalesce(struct am_tlsf *t, struct am_blk *b)
{
	size_t size = bsize(b);
	struct am_blk *n = next_phys(b);
	if (is_free(n)) {
		list_remove(t, n);
		size += bsize(n);
	}
	if (b->size & F_PREV_FREE) {
		struct am_blk *p = (struct am_blk *)((char *)b - b->prev_size);
		list_remove(t, p);
		size += bsize(p);
		b = p;
	}
	b->size = (b->size & F_PREV_FREE) | size;
	set_free(b, size);
	return b;
}

/* Cuts b (used, `size` bytes now) down to `want`, freeing the tail if it
 * is large enough to be a block. */
static void split_tail(struct am_tlsf *t, struct am_blk *b, size_t want)
{
	size_t size = bsize(b);
	if (size - want < AM_TLSF_MIN_BLOCK)
		return;
	b->size = want | (b->size & F_PREV_FREE);
	struct am_blk *rest = next_phys(b);
	rest->size = size - want; /* predecessor b is used: no F_PREV_FREE */
	list_insert(t, coalesce(t, rest));
}

static size_t adjust(size_t size)
{
	if (size > AM_TLSF_MAX_BLOCK)
		return 0;
	size = (size + AM_TLSF_ALIGN - 1) & ~(size_t)(AM_TLSF_ALIGN - 1);
	if (size < AM_TLSF_MIN_BLOCK - AM_TLSF_HDR)
		size = AM_TLSF_MIN_BLOCK - AM_TLSF_HDR;
	return size + AM_TLSF_HDR;
}

void am_tlsf_init(struct am_tlsf *t) { memset(t, 0, sizeof *t); }

static void write_sentinel(void *at, size_t prev_size, int prev_free)
{
	struct am_blk *s = at;
	s->prev_size = prev_size;
	s->size = prev_free ? F_PREV_FREE : 0;
}

void am_tlsf_add_pool(struct am_tlsf *t, void *mem, size_t bytes)
{
	struct am_blk *b = mem;
	size_t size = bytes - AM_TLSF_HDR;
	b->prev_size = 0;
	b->size = size | F_FREE;
	write_sentinel((char *)mem + size, size, 1);
	list_insert(t, b);
}

void am_tlsf_extend_pool(struct am_tlsf *t, void *old_end, size_t more)
{
	struct am_blk *b = (struct am_blk *)((char *)old_end - AM_TLSF_HDR);
	b->size = more | (b->size & F_PREV_FREE);
	write_sentinel((char *)b + more, 0, 0);
	list_insert(t, coalesce(t, b));
}

void *am_tlsf_trim_tail(struct am_tlsf *t, void *end, size_t min_bytes, size_t keep)
{
	struct am_blk *s = (struct am_blk *)((char *)end - AM_TLSF_HDR);
	if (!(s->size & F_PREV_FREE) || s->prev_size < min_bytes || s->prev_size < keep + AM_TLSF_MIN_BLOCK)
		return end;
	struct am_blk *last = (struct am_blk *)((char *)s - s->prev_size);
	list_remove(t, last);
	if (keep < AM_TLSF_MIN_BLOCK) {
		write_sentinel(last, last->prev_size, 0);
		return (char *)last + AM_TLSF_HDR;
	}
	last->size = keep | F_FREE | (last->size & F_PREV_FREE);
	write_sentinel((char *)last + keep, keep, 1);
	list_insert(t, last);
	return (char *)last + keep + AM_TLSF_HDR;
}

int am_tlsf_take_empty_pool(struct am_tlsf *t, void *mem, void *end)
{
	struct am_blk *b = mem;
	if (!is_free(b) || bsize(b) != (size_t)((char *)end - (char *)mem) - AM_TLSF_HDR)
		return 0;
	list_remove(t, b);
	return 1;
}

void *am_tlsf_malloc(struct am_tlsf *t, size_t size)
{
	size_t want = adjust(size);
	struct am_blk *b = want ? find_fit(t, want) : NULL;
	if (!b)
		return NULL;
	list_remove(t, b);
	set_used(b, bsize(b));
	split_tail(t, b, want);
	return payload(b);
}

/* Frees the front of b (free, off-list) so the payload lands on `align`. */
static struct am_blk *align_front(struct am_tlsf *t, struct am_blk *b, size_t align)
{
	uintptr_t p = (uintptr_t)payload(b);
	uintptr_t a = (p + align - 1) & ~(uintptr_t)(align - 1);
	if (a == p)
		return b;
	while (a - p < AM_TLSF_MIN_BLOCK)
		a += align;
	size_t front = a - p, size = bsize(b);
	struct am_blk *nb = (struct am_blk *)((char *)b + front);
	nb->size = size - front;
	b->size = front | (b->size & F_PREV_FREE); /* b's predecessor is used */
	set_free(b, front);
	list_insert(t, b);
	return nb;
}

void *am_tlsf_memalign(struct am_tlsf *t, size_t align, size_t size)
{
	if (align <= AM_TLSF_ALIGN)
		return am_tlsf_malloc(t, size);
	size_t want = adjust(size);
	if (!want || align > AM_TLSF_MAX_BLOCK / 2)
		return NULL;
	struct am_blk *b = find_fit(t, want + align + AM_TLSF_MIN_BLOCK);
	if (!b)
		return NULL;
	list_remove(t, b);
	b = align_front(t, b, align);
	set_used(b, bsize(b));
	split_tail(t, b, want);
	return payload(b);
}

void am_tlsf_free(struct am_tlsf *t, void *p)
{
	list_insert(t, coalesce(t, of_payload(p)));
}

int am_tlsf_resize(struct am_tlsf *t, void *p, size_t size)
{
	struct am_blk *b = of_payload(p);
	size_t want = adjust(size), cur = bsize(b);
	if (!want)
		return 0;
	if (want > cur) {
		struct am_blk *n = next_phys(b);
		if (!is_free(n) || cur + bsize(n) < want)
			return 0;
		list_remove(t, n);
		set_used(b, cur + bsize(n));
	}
	split_tail(t, b, want);
	return 1;
}

size_t am_tlsf_usable(const void *p) { return bsize(of_payload(p)) - AM_TLSF_HDR; }

static int header_sane(const struct am_blk *b, const void *end)
{
	size_t s = bsize(b);
	return s >= AM_TLSF_MIN_BLOCK && (size_t)((const char *)end - (const char *)b) >= s + AM_TLSF_HDR;
}

int am_tlsf_walk(const void *mem, const void *end, am_tlsf_visit *fn, void *arg)
{
	const struct am_blk *b = mem;
	while (bsize(b) != 0) {
		if (!header_sane(b, end))
			return 1;
		fn(payload((struct am_blk *)b), bsize(b) - AM_TLSF_HDR, is_free(b), arg);
		b = next_phys(b);
	}
	return (const char *)b + AM_TLSF_HDR == (const char *)end ? 0 : 1;
}

struct validate_state {
	const struct am_tlsf *t;
	size_t bad;
	const struct am_blk *prev;
};

static size_t validate_free_block(const struct am_tlsf *t, const struct am_blk *b)
{
	int fl, sl;
	mapping(bsize(b), &fl, &sl);
	size_t bad = !(t->sl_map[fl] & (1u << sl)) || !(t->fl_map & ((uint64_t)1 << fl));
	bad += b->next_free && b->next_free->prev_free != b;
	bad += b->prev_free ? b->prev_free->next_free != b : t->heads[fl][sl] != b;
	return bad;
}

static void validate_visit(void *p, size_t usable, int free_, void *arg)
{
	struct validate_state *st = arg;
	const struct am_blk *b = of_payload(p);
	(void)usable;
	st->bad += (bsize(b) & F_MASK) != 0;
	if (st->prev) {
		int pf = is_free(st->prev);
		st->bad += pf != !!(b->size & F_PREV_FREE);
		st->bad += pf && (free_ || b->prev_size != bsize(st->prev));
	}
	if (free_)
		st->bad += validate_free_block(st->t, b);
	st->prev = b;
}

size_t am_tlsf_validate(const struct am_tlsf *t, const void *mem, const void *end)
{
	struct validate_state st = {t, 0, NULL};
	if (am_tlsf_walk(mem, end, validate_visit, &st))
		return st.bad + 1;
	const struct am_blk *s = (const struct am_blk *)((const char *)end - AM_TLSF_HDR);
	if (st.prev)
		st.bad += is_free(st.prev) != !!(s->size & F_PREV_FREE);
	return st.bad;
}
