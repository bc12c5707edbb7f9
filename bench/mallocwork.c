/* Malloc-heavy workloads for whole-program overhead (run by amrun with and
 * without the library preloaded). Each is deterministic and prints one
 * checksum line, so a wrong result would show; the exit status is 1 on a
 * NULL return or a corrupted block.
 *
 *   mallocwork bintree DEPTH     binary trees (the Benchmarks Game
 *                                program): 16-byte nodes, made and freed
 *                                depth-first, one long-lived tree
 *   mallocwork churn THREADS N   producer/consumer: THREADS/2 producers
 *                                malloc N messages in all (16-512 B,
 *                                log-uniform), hand them over in batches
 *                                of 256 through a queue each, the
 *                                consumers check and free them: frees
 *                                from another thread than the malloc
 *   mallocwork strbuild N        N strings built by appending 1-32 byte
 *                                pieces with realloc to the exact new
 *                                length, 1 in 64 grown to 64 KiB, a
 *                                window of 4096 kept live
 *   mallocwork smallobj LIVE N   LIVE objects of 8-128 B (uniform) kept
 *                                live, N random replacements
 *
 * The malloc family is referenced weakly: the Makefile links every
 * benchmark with the library's internal archive, whose malloc would
 * otherwise be pulled into this program; a weak reference pulls nothing
 * from an archive and binds at run time to libc's malloc, or to the
 * preloaded library's.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma weak malloc
#pragma weak free
#pragma weak realloc
#pragma weak calloc

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void oom(void)
{
	fprintf(stderr, "mallocwork: out of memory\n");
	exit(1);
}

static void corrupt(const char *what)
{
	fprintf(stderr, "mallocwork: %s: corrupted block\n", what);
	exit(1);
}

/* ---- binary trees ------------------------------------------------------- */

struct node {
	struct node *l, *r;
};

static struct node *tree(int depth)
{
	struct node *n = malloc(sizeof *n);
	if (!n)
		oom();
	if (depth > 0)
		n->l = tree(depth - 1), n->r = tree(depth - 1);
	else
		n->l = n->r = NULL;
	return n;
}

static long check(const struct node *n) { return n->l ? 1 + check(n->l) + check(n->r) : 1; }

static void drop(struct node *n)
{
	if (n->l)
		drop(n->l), drop(n->r);
	free(n);
}

static int bintree(int max_depth)
{
	int min_depth = 4;
	if (max_depth < min_depth + 2)
		max_depth = min_depth + 2;
	struct node *stretch = tree(max_depth + 1);
	printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, check(stretch));
	drop(stretch);
	struct node *long_lived = tree(max_depth);
	for (int d = min_depth; d <= max_depth; d += 2) {
		long iters = 1L << (max_depth - d + min_depth), sum = 0;
		for (long i = 0; i < iters; i++) {
			struct node *t = tree(d);
			sum += check(t);
			drop(t);
		}
		printf("%ld\t trees of depth %d\t check: %ld\n", iters, d, sum);
	}
	printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
	drop(long_lived);
	return 0;
}

/* ---- producer/consumer churn -------------------------------------------- */

#define BATCH 256
#define QCAP 64 /* batches in flight per queue */
#define MAX_PAIRS 8

struct batch {
	unsigned char *msg[BATCH];
	int n;
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	struct batch *ring[QCAP];
	unsigned head, count;
};

struct pair {
	struct queue q;
	long n;                        /* messages this producer makes */
	uint64_t seed, sum_made, sum_seen;
	int bad;
	pthread_t prod, cons;
};

static void q_put(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == QCAP)
		pthread_cond_wait(&q->nonfull, &q->mu);
	q->ring[(q->head + q->count++) % QCAP] = b;
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->mu);
}

static struct batch *q_get(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == 0)
		pthread_cond_wait(&q->nonempty, &q->mu);
	struct batch *b = q->ring[q->head++ % QCAP];
	q->count--;
	pthread_cond_signal(&q->nonfull);
	pthread_mutex_unlock(&q->mu);
	return b;
}

/* A message: its size in the first 4 bytes, then bytes from that size. */
static void *producer(void *arg)
{
	struct pair *p = arg;
	uint64_t rng = p->seed;
	for (long made = 0; made < p->n;) {
		struct batch *b = malloc(sizeof *b);
		if (!b)
			oom();
		for (b->n = 0; b->n < BATCH && made < p->n; made++) {
			uint32_t size = 16u << (rng_next(&rng) % 6); /* 16..512, then jittered down */
			size -= (uint32_t)(rng_next(&rng) % (size / 2));
			unsigned char *m = malloc(size);
			if (!m)
				oom();
			memcpy(m, &size, 4);
			memset(m + 4, (int)(size & 0xFF), size - 4);
			p->sum_made += size;
			b->msg[b->n++] = m;
		}
		q_put(&p->q, b);
	}
	q_put(&p->q, NULL);
	return NULL;
}

static void *consumer(void *arg)
{
	struct pair *p = arg;
	for (struct batch *b; (b = q_get(&p->q));) {
		for (int i = 0; i < b->n; i++) {
			uint32_t size;
			memcpy(&size, b->msg[i], 4);
			if (b->msg[i][size - 1] != (unsigned char)(size & 0xFF))
				p->bad = 1;
			p->sum_seen += size;
			free(b->msg[i]);
		}
		free(b);
	}
	return NULL;
}

static int churn(int threads, long n)
{
	static struct pair pairs[MAX_PAIRS];
	int npairs = threads / 2 < 1 ? 1 : threads / 2 > MAX_PAIRS ? MAX_PAIRS : threads / 2;
	uint64_t made = 0, seen = 0;
	int bad = 0;
	for (int i = 0; i < npairs; i++) {
		struct pair *p = &pairs[i];
		pthread_mutex_init(&p->q.mu, NULL);
		pthread_cond_init(&p->q.nonempty, NULL);
		pthread_cond_init(&p->q.nonfull, NULL);
		p->n = n / npairs, p->seed = 0xC0FFEEull + (uint64_t)i;
		if (pthread_create(&p->prod, NULL, producer, p) || pthread_create(&p->cons, NULL, consumer, p)) {
			fprintf(stderr, "mallocwork: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < npairs; i++) {
		pthread_join(pairs[i].prod, NULL);
		pthread_join(pairs[i].cons, NULL);
		made += pairs[i].sum_made, seen += pairs[i].sum_seen, bad |= pairs[i].bad;
	}
	if (bad || made != seen)
		corrupt("churn");
	printf("churn: %d producer/consumer pairs, %ld messages, %llu bytes\n", npairs, n / npairs * npairs,
	       (unsigned long long)made);
	return 0;
}

/* ---- realloc-heavy string building -------------------------------------- */

#define WINDOW 4096

static int strbuild(long n)
{
	static char *live[WINDOW];
	static size_t live_len[WINDOW];
	uint64_t rng = 0x57121234ull, sum = 0;
	for (long s = 0; s < n; s++) {
		size_t target = rng_next(&rng) % 64 == 0 ? 65536 : 64 + rng_next(&rng) % 960, len = 0;
		char *str = NULL;
		while (len < target) {
			size_t piece = 1 + rng_next(&rng) % 32;
			char *grown = realloc(str, len + piece + 1);
			if (!grown)
				oom();
			str = grown;
			memset(str + len, 'a' + (int)(len % 26), piece);
			len += piece;
			str[len] = 0;
		}
		size_t slot = (size_t)s % WINDOW;
		if (live[slot]) {
			if (live[slot][0] != 'a' || live[slot][live_len[slot]] != 0)
				corrupt("strbuild");
			sum += live_len[slot];
			free(live[slot]);
		}
		live[slot] = str, live_len[slot] = len;
	}
	for (size_t i = 0; i < WINDOW; i++)
		free(live[i]);
	printf("strbuild: %ld strings, %llu bytes retired\n", n, (unsigned long long)sum);
	return 0;
}

/* ---- small objects ------------------------------------------------------- */

static int smallobj(long nlive, long n)
{
	unsigned char **obj = calloc((size_t)nlive, sizeof *obj);
	uint64_t rng = 0x5A11ull, sum = 0;
	if (!obj)
		oom();
	for (long i = 0; i < nlive + n; i++) {
		size_t slot = i < nlive ? (size_t)i : rng_next(&rng) % (size_t)nlive;
		if (obj[slot]) {
			unsigned char size = obj[slot][0];
			if (obj[slot][size - 1] != size)
				corrupt("smallobj");
			sum += size;
			free(obj[slot]);
		}
		unsigned char size = (unsigned char)(8 + rng_next(&rng) % 121); /* 8..128 */
		unsigned char *o = malloc(size);
		if (!o)
			oom();
		memset(o, size, size);
		obj[slot] = o;
	}
	for (long i = 0; i < nlive; i++)
		free(obj[i]);
	free(obj);
	printf("smallobj: %ld live, %ld replaced, %llu bytes retired\n", nlive, n, (unsigned long long)sum);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mallocwork bintree DEPTH | churn THREADS N | strbuild N | smallobj LIVE N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (!malloc || !free || !realloc || !calloc) {
		fprintf(stderr, "mallocwork: no malloc bound\n");
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "bintree"))
		return bintree(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "churn"))
		return churn(atoi(argv[2]), atol(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "strbuild"))
		return strbuild(atol(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "smallobj"))
		return smallobj(atol(argv[2]), atol(argv[3]));
	usage();
}
