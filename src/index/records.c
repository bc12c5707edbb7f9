/* Record allocation for the mapping index: see records.h.
 * Invariant: seq->nmaps equals the number of live maps pointing at seq;
 * path->refs the number of maps and sequences holding path.
 */
#include "records.h"

#include <string.h>

#include "../palloc/palloc.h"

static uint64_t nmaps_live, nseqs_live;
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

struct am_seq *am_seq_new(uintptr_t lo, uintptr_t hi, enum am_origin o, const void *caller,
			  struct am_path *path)
{
	struct am_seq *s = am_palloc_malloc(&am_tier_nommap, sizeof *s);
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
	am_palloc_free(&am_tier_nommap, s);
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
	struct am_map *m = am_palloc_malloc(&am_tier_nommap, sizeof *m);
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
	am_palloc_free(&am_tier_nommap, m);
	nmaps_live--;
}

uint64_t am_records_maps(void) { return nmaps_live; }
uint64_t am_records_seqs(void) { return nseqs_live; }

void am_records_reset(void) { nmaps_live = nseqs_live = 0; }
