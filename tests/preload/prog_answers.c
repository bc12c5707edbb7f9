/* Answers a tool can walk (issue 12), run under the library (linked with
 * -lallocmap, and again under LD_PRELOAD by answers.sh).
 *
 *   prog_answers SCENARIO
 *
 * free: arena space in no live chunk (a freed chunk, the top chunk) answers
 * ALLOCMAP_HEAP_FREE with no site, where a live chunk answers its chunk.
 * oldstruct: a caller with 0.3's struct allocmap_info (80 bytes: base to
 * path), through the plain allocmap_query (what a binary built against
 * 0.3 calls), allocmap_query_ex and allocmap_query_many_ex, gets the
 * answer's fields it knows and not a byte written past its struct; a
 * caller with a bigger struct (a newer header) gets its unknown tail
 * zeroed; allocmap_kind_name names every kind.
 * symbolize: allocmap_symbolize from a signal handler names a function of
 * the library (object, bias, symbol, offset); an address of the program
 * (no dynamic symbol) gets its object and no name; the heap, nothing.
 * Each scenario ends with allocmap_check(2) == 0; a failed expectation
 * prints its line and exits 1.
 */
#include <allocmap.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"

static struct allocmap_info q(const void *p)
{
	struct allocmap_info i;
	EXPECT(allocmap_query(p, &i) == 0);
	return i;
}

static void expect_free(const void *p)
{
	struct allocmap_info i = q(p);
	EXPECT(i.kind == ALLOCMAP_HEAP_FREE);
	EXPECT(i.site == NULL);
	EXPECT(!strcmp(i.allocator, "malloc"));
	EXPECT((uintptr_t)p - (uintptr_t)i.base < i.size);
}

static void scenario_free(void)
{
	char *a = malloc(3000), *b = malloc(3000), *c = malloc(3000);
	EXPECT(a && b && c);
	memset(b, 1, 3000);
	EXPECT(q(b + 100).kind == ALLOCMAP_HEAP_CHUNK && q(b + 100).base == b);
	uintptr_t freed = (uintptr_t)b + 100;
	free(b);
	expect_free((const void *)freed); /* a freed chunk, between two live ones */
	EXPECT(q(a).kind == ALLOCMAP_HEAP_CHUNK && q(c).kind == ALLOCMAP_HEAP_CHUNK);
	expect_free((char *)sbrk(0) - 16); /* the main arena's top chunk */
	free(a);
	free(c);
}

/* struct allocmap_info as 0.3's header laid it out. */
struct info_0_3 {
	const void *base;
	size_t size, requested;
	const void *site;
	enum allocmap_kind kind;
	const char *allocator;
	const void *map_base;
	size_t map_size;
	int prot;
	const char *path;
};

/* The fields 0.3 had, as the current header's answer has them. */
static int same_as_0_3(const struct info_0_3 *o, const struct allocmap_info *i)
{
	return o->base == i->base && o->size == i->size && o->requested == i->requested && o->site == i->site &&
	       o->kind == i->kind && o->allocator == i->allocator && o->map_base == i->map_base &&
	       o->map_size == i->map_size && o->prot == i->prot && o->path == i->path;
}

static int untouched(const unsigned char *c, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (c[k] != 0xa5)
			return 0;
	return 1;
}

static void scenario_oldstruct(void)
{
	EXPECT(sizeof(struct info_0_3) == 80);
	char *chunk = malloc(100);
	int local;
	const void *ps[3] = {chunk + 5, &local, (const void *)scenario_oldstruct};
	int (*query_0_3)(const void *, struct info_0_3 *) = (int (*)(const void *, struct info_0_3 *))allocmap_query;
	for (int k = 0; k < 3; k++) {
		struct allocmap_info now;
		struct {
			struct info_0_3 o;
			unsigned char canary[64];
		} old;
		EXPECT(allocmap_query(ps[k], &now) == 0);
		memset(&old, 0xa5, sizeof old);
		EXPECT(query_0_3(ps[k], &old.o) == 0 && same_as_0_3(&old.o, &now) && untouched(old.canary, 64));
		memset(&old, 0xa5, sizeof old);
		EXPECT(allocmap_query_ex(ps[k], (struct allocmap_info *)&old.o, sizeof old.o) == 0);
		EXPECT(same_as_0_3(&old.o, &now) && untouched(old.canary, 64));
	}
	struct {
		struct info_0_3 o[3];
		unsigned char canary[64];
	} many;
	memset(&many, 0xa5, sizeof many);
	EXPECT(allocmap_query_many_ex(ps, 3, (struct allocmap_info *)many.o, sizeof many.o[0]) == 3);
	EXPECT(untouched(many.canary, 64));
	for (int k = 0; k < 3; k++) {
		struct allocmap_info now;
		EXPECT(allocmap_query(ps[k], &now) == 0 && same_as_0_3(&many.o[k], &now));
	}
	EXPECT(many.o[0].kind == ALLOCMAP_HEAP_CHUNK && many.o[0].base == chunk);
	EXPECT(allocmap_query_ex(chunk, (struct allocmap_info *)&many.o[0], 72) == -1); /* below 0.3's */
	struct {
		struct allocmap_info i;
		uint64_t future[4];
	} big;
	memset(&big, 0xa5, sizeof big);
	EXPECT(allocmap_query_ex(chunk, &big.i, sizeof big) == 0 && big.i.base == chunk);
	EXPECT(!big.future[0] && !big.future[1] && !big.future[2] && !big.future[3]);
	static const char *const names[] = {"unknown", "heap", "anon", "file", "object",
					    "brk", "stack", "self", "heap-free"};
	for (int k = ALLOCMAP_UNKNOWN; k <= ALLOCMAP_HEAP_FREE; k++)
		EXPECT(!strcmp(allocmap_kind_name((enum allocmap_kind)k), names[k]));
	EXPECT(allocmap_kind_name((enum allocmap_kind)(ALLOCMAP_HEAP_FREE + 1)) == NULL);
	free(chunk);
}

static volatile sig_atomic_t handled;
static struct allocmap_symbol in_handler;
static int in_handler_rc;
static const char *const check_fn_at = (const char *)allocmap_check + 4;

static void on_usr1(int sig)
{
	(void)sig;
	in_handler_rc = allocmap_symbolize(check_fn_at, &in_handler);
	handled = 1;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = s ? strlen(s) : 0, t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

static void scenario_symbolize(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	EXPECT(sigaction(SIGUSR1, &sa, NULL) == 0);
	EXPECT(raise(SIGUSR1) == 0 && handled);
	EXPECT(in_handler_rc == 0);
	EXPECT(in_handler.name && !strcmp(in_handler.name, "allocmap_check") && in_handler.offset == 4);
	EXPECT(strstr(in_handler.object, "liballocmap.so"));
	EXPECT((const char *)in_handler.object_base + in_handler.object_offset == check_fn_at);
	struct allocmap_symbol s;
	EXPECT(allocmap_symbolize((const void *)scenario_symbolize, &s) == 0);
	EXPECT(ends_with(s.object, "/prog_answers") && !s.name && !s.offset);
	EXPECT((const char *)s.object_base + s.object_offset == (const char *)scenario_symbolize);
	char *chunk = malloc(10);
	memset(&s, 0xa5, sizeof s);
	EXPECT(allocmap_symbolize(chunk, &s) == -1 && !s.object && !s.name);
	free(chunk);
}

static const struct {
	const char *name;
	void (*run)(void);
} all[] = {
	{"free", scenario_free},
	{"oldstruct", scenario_oldstruct},
	{"symbolize", scenario_symbolize},
};

int main(int argc, char **argv)
{
	for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
		if (argc > 1 && !strcmp(argv[1], all[k].name)) {
			all[k].run();
			int n = allocmap_check(2);
			if (n != 0) {
				fprintf(stderr, "allocmap_check after %s: %d discrepancies\n", argv[1], n);
				return 1;
			}
			return 0;
		}
	}
	fprintf(stderr, "usage: %s SCENARIO\n", argv[0]);
	return 2;
}
