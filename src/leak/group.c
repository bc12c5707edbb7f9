/* Grouping chunks by (class, site): an open-addressing hash table in the
 * mmap tier, grown at half full, then compacted into one array of groups
 * sorted by class and bytes (most first). Totals count every chunk;
 * suppressed groups (suppress.c) are counted apart.
 */
#include <string.h>

#include "../palloc/palloc.h"
#include "leak.h"

struct slot {
	const void *site;
	size_t bytes, count;
	int cls;                         /* -1: empty */
};

struct table {
	struct slot *s;
	size_t cap, used;                /* cap a power of two */
};

static const enum allocmap_leak_class class_of[] = {
	[AM_LK_UNREACHED] = ALLOCMAP_LEAK_DEFINITE,
	[AM_LK_POSSIBLE] = ALLOCMAP_LEAK_POSSIBLE,
	[AM_LK_REACHABLE] = ALLOCMAP_LEAK_REACHABLE,
	[AM_LK_INDIRECT] = ALLOCMAP_LEAK_INDIRECT,
};

static size_t hash(const void *site, int cls)
{
	return (size_t)(((uintptr_t)site ^ (uintptr_t)cls << 60) * 0x9E3779B97F4A7C15ull >> 17);
}

static struct slot *find(struct table *h, const void *site, int cls)
{
	size_t i = hash(site, cls) & (h->cap - 1);
	while (h->s[i].cls >= 0 && (h->s[i].site != site || h->s[i].cls != cls))
		i = (i + 1) & (h->cap - 1);
	return &h->s[i];
}

static int make(struct table *h, size_t cap)
{
	h->s = am_palloc_malloc(&am_tier_mmap, cap * sizeof *h->s);
	if (!h->s)
		return -1;
	for (size_t i = 0; i < cap; i++)
		h->s[i].cls = -1;
	h->cap = cap, h->used = 0;
	return 0;
}

static int grow(struct table *h)
{
	struct table old = *h;
	if (make(h, 2 * old.cap) != 0) {
		*h = old;
		return -1;
	}
	for (size_t i = 0; i < old.cap; i++)
		if (old.s[i].cls >= 0)
			*find(h, old.s[i].site, old.s[i].cls) = old.s[i], h->used++;
	am_palloc_free(&am_tier_mmap, old.s);
	return 0;
}

static int add(struct table *h, const void *site, int cls, size_t bytes)
{
	if (2 * (h->used + 1) > h->cap && grow(h) != 0)
		return -1;
	struct slot *s = find(h, site, cls);
	if (s->cls < 0)
		*s = (struct slot){.site = site, .cls = cls}, h->used++;
	s->bytes += bytes, s->count++;
	return 0;
}

static int group_less(const void *a, const void *b)
{
	const struct allocmap_leak_group *x = a, *y = b;
	return x->cls != y->cls ? x->cls < y->cls : x->bytes > y->bytes;
}

static void count(struct allocmap_leak_totals *t, const struct allocmap_leak_group *g)
{
	if (g->suppressed)
		t->suppressed_bytes[g->cls] += g->bytes, t->suppressed_count[g->cls] += g->count;
	else
		t->bytes[g->cls] += g->bytes, t->count[g->cls] += g->count;
}

static int compact(struct table *h, int describe_reachable, struct am_leak_groups *out)
{
	out->g = am_palloc_calloc(&am_tier_mmap, h->used ? h->used : 1, sizeof *out->g);
	if (!out->g)
		return -1;
	for (size_t i = 0; i < h->cap; i++) {
		if (h->s[i].cls < 0)
			continue;
		struct allocmap_leak_group *g = &out->g[out->n++];
		*g = (struct allocmap_leak_group){.cls = class_of[h->s[i].cls], .site = h->s[i].site,
						  .bytes = h->s[i].bytes, .count = h->s[i].count};
		if (g->cls != ALLOCMAP_LEAK_REACHABLE || describe_reachable)
			am_leak_site_describe(g);
		g->suppressed = g->cls != ALLOCMAP_LEAK_REACHABLE && am_leak_suppressed(g);
		count(&out->tot, g);
	}
	am_leak_sort(out->g, out->n, sizeof *out->g, group_less);
	return 0;
}

int am_leak_group(const struct am_leak_table *t, int describe_reachable, struct am_leak_groups *out)
{
	struct table h;
	memset(out, 0, sizeof *out);
	if (make(&h, 1024) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < t->n && rc == 0; i++)
		rc = add(&h, t->site[i], t->state[i], t->size[i]);
	if (rc == 0)
		rc = compact(&h, describe_reachable, out);
	out->tot.chunks = t->n;
	am_palloc_free(&am_tier_mmap, h.s);
	return rc;
}

void am_leak_groups_free(struct am_leak_groups *g)
{
	am_palloc_free(&am_tier_mmap, g->g);
	memset(g, 0, sizeof *g);
}
