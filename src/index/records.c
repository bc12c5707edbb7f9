/* Record allocation for the mapping index: see records.h.
 * Invariant: seq->nmaps equals the number of live maps pointing at seq;
 * path->refs the number of maps and sequences holding path.
 * A few freed map and sequence records are kept for the next ones, each
 * kind on a list of at most SPARE_MAX linked through its first word: a
 * mapping call makes and frees one or two of each, and taking them from
 * the tier costs its lock and the allocator's search and coalescing
 * (about a fifth of what the library adds to an mmap+munmap pair,
 * bench/RESULTS.md). The lists are the writer's, like the records; a
 * forked child's tier is reset, and the lists with it.
 */
#include "records.h"

#include <string.h>

#include "../palloc/palloc.h"

#define SPARE_MAX 16

struct spare {
	struct spare *next;
	unsigned n;
};

static uint64_t nmaps_live, nseqs_live;
static struct spare spare_maps, spare_seqs; /* heads: next is the first spare record */
static void (*seq_gone)(void *heap);

void am_index_on_seq_gone(void (*fn)(void *heap)) { seq_gone = fn; }

struct am_path *am_path_new(const char *s)
{
	if (!s || !*s)
		return NULL;
	size_t n = strlen(s) + 1;
	struct am_path *p = am_palloc_malloc(&am_tier_nommap, sizeof *p + n);
	if (p) {
		p->refs = 1;
		memcpy(p->s, s, n);
	}
	return p;
}

struct am_path *am_path_ref(struct am_path *p)
{
	if (p)
		p->refs++;
	return p;
}

void am_path_unref(struct am_path *p)
{
	if (p && --p->refs == 0)
		am_palloc_free(&am_tier_nommap, p);
}

static void *take(struct spare *list, size_t size)
{
	struct spare *r = list->next;
	if (!r)
		return am_palloc_malloc(&am_tier_nommap, size);
	list->next = r->next, list->n--;
	return r;
}

static void give(struct spare *list, void *rec)
{
	if (list->n == SPARE_MAX) {
		am_palloc_free(&am_tier_nommap, rec);
		return;
	}
	struct spare *r = rec;
	r->next = list->next, list->next = r, list->n++;
}

struct am_seq *am_seq_new(uintptr_t lo, uintptr_t hi, enum am_origin o, const void *caller,
			  struct am_path *path)
{
	struct am_seq *s = take(&spare_seqs, sizeof *s);
	if (!s)
		return NULL;
	*s = (struct am_seq){lo, hi, 0, (uint8_t)o, caller, am_path_ref(path), NULL};
	nseqs_live++;
	return s;
}

static void seq_free(struct am_seq *s)
{
	if (s->heap && seq_gone)
		seq_gone(s->heap);
	am_path_unref(s->path);
	give(&spare_seqs, s);
	nseqs_live--;
}

void am_seq_drop_if_empty(struct am_seq *s)
{
	if (s && s->nmaps == 0)
		seq_free(s);
}

struct am_map *am_map_new(uintptr_t lo, uintptr_t hi, int prot, int flags, uint64_t off,
			  struct am_seq *seq, struct am_path *path, const void *caller)
{
	struct am_map *m = take(&spare_maps, sizeof *m);
	if (!m)
		return NULL;
	*m = (struct am_map){lo, hi, prot, flags, off, seq, am_path_ref(path), caller, lo, hi};
	seq->nmaps++;
	if (lo < seq->lo)
		seq->lo = lo;
	if (hi > seq->hi)
		seq->hi = hi;
	nmaps_live++;
	return m;
}

struct am_map *am_map_clone(const struct am_map *m)
{
	return am_map_new(m->lo, m->hi, m->prot, m->flags, m->offset, m->seq, m->path, m->caller);
}

void am_map_free(struct am_map *m)
{
	struct am_seq *s = m->seq;
	if (--s->nmaps == 0)
		seq_free(s);
	am_path_unref(m->path);
	give(&spare_maps, m);
	nmaps_live--;
}

uint64_t am_records_maps(void) { return nmaps_live; }
uint64_t am_records_seqs(void) { return nseqs_live; }

void am_records_reset(void)
{
	nmaps_live = nseqs_live = 0;
	spare_maps = spare_seqs = (struct spare){NULL, 0};
}
