/* The timeline, sampled from outside the program while it runs: for
 * each live file of the run directory, the heap's live bytes (read from
 * the shared mapping of the file) and the process's resident set
 * (/proc/PID/statm).
 *
 * Each process has its own series, bounded at SERIES_MAX points: it
 * starts at one point per 10 ms; when full, every other point is
 * dropped and the period doubles, so a series always spans its whole
 * process at an even period, however long it ran. A process is sampled
 * until its statm can no longer be read. (ALLOCMAP_TIMELINE_MAX lowers
 * the bound, for the tests.)
 *
 * The sampler also notes the processes it sees under the root (through
 * /proc/PID/task/PID/children), so one that never wrote a live file can
 * still be named in the report.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "live.h"

#define SERIES_MAX 1024
#define FIRST_PERIOD_NS 10000000ull
#define SEEN_MAX 4096

struct series {
	long pid;
	char file[NAME_MAX + 1];
	ino_t ino; /* the file's when listed */
	struct live *lf;
	int done;
	uint64_t period, next;
	size_t n;
	uint64_t t[SERIES_MAX], heap[SERIES_MAX], rss[SERIES_MAX];
};

struct seen {
	long pid, ppid;
	char exe[PATH_MAX];
};

struct sampler {
	char dir[PATH_MAX];
	pid_t root;
	size_t max; /* points per series */
	struct series **s;
	size_t n;
	struct seen *seen;
	size_t nseen;
};

struct sampler *sampler_new(const char *dir, pid_t root)
{
	struct sampler *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	s->root = root;
	const char *max = getenv("ALLOCMAP_TIMELINE_MAX");
	s->max = max && atoi(max) >= 4 && atoi(max) < SERIES_MAX ? (size_t)atoi(max) : SERIES_MAX;
	return s;
}

void sampler_set_root(struct sampler *s, pid_t root)
{
	s->root = root;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		live_close(s->s[i]->lf);
		free(s->s[i]);
	}
	free(s->s);
	free(s->seen);
	free(s);
}

/* ---- series ---- */

static struct series *known(const struct sampler *s, const char *file)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->s[i]->file, file) == 0)
			return s->s[i];
	return NULL;
}

/* A series for file, or se restarted on it: the library never replaces
 * a file, but the test fixture, standing in for it, replaces the
 * library's own under the same name (tests/cli/live_fixture.c). */
static void add_series(struct sampler *s, struct series *se, const char *file, ino_t ino, uint64_t now)
{
	char path[PATH_MAX + NAME_MAX + 2], err[256];
	snprintf(path, sizeof path, "%s/%s", s->dir, file);
	struct live *lf = live_open(path, err, sizeof err);
	if (!lf)
		return; /* not written yet: tried again next tick */
	if (se) {
		live_close(se->lf);
		se->lf = lf;
	} else {
		struct series **grown = realloc(s->s, (s->n + 1) * sizeof *s->s);
		if (grown)
			s->s = grown;
		if (!grown || !(se = calloc(1, sizeof *se))) {
			live_close(lf);
			return;
		}
		s->s[s->n++] = se;
	}
	*se = (struct series){.pid = live_pid(lf), .ino = ino, .lf = lf, .period = FIRST_PERIOD_NS, .next = now};
	snprintf(se->file, sizeof se->file, "%s", file);
}

static void find_files(struct sampler *s, uint64_t now)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, "proc-", 5) != 0 || len <= 10 || strcmp(e->d_name + len - 5, ".live") != 0)
			continue;
		struct series *se = known(s, e->d_name);
		if (!se || se->ino != e->d_ino)
			add_series(s, se, e->d_name, e->d_ino, now);
	}
	if (d)
		closedir(d);
}

static int read_rss(long pid, uint64_t *rss)
{
	char path[64];
	unsigned long long size, resident;
	snprintf(path, sizeof path, "/proc/%ld/statm", pid);
	FILE *f = fopen(path, "re");
	int ok = f && fscanf(f, "%llu %llu", &size, &resident) == 2 && size > 0;
	if (f)
		fclose(f);
	*rss = ok ? resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
	return ok ? 0 : -1;
}

static void halve(struct series *se)
{
	for (size_t i = 0; i < se->n / 2; i++) {
		se->t[i] = se->t[2 * i];
		se->heap[i] = se->heap[2 * i];
		se->rss[i] = se->rss[2 * i];
	}
	se->n /= 2;
	se->period *= 2;
}

static void sample(struct series *se, uint64_t now, size_t max)
{
	uint64_t heap, start, rss;
	/* ended: or exec'd, and the pid's statm is the next program's now */
	if (live_ended(se->lf) || read_rss(se->pid, &rss) != 0) {
		se->done = 1; /* gone, or a zombie */
		return;
	}
	live_sample(se->lf, &heap, &start);
	if (se->n >= max)
		halve(se);
	se->t[se->n] = start && start <= now ? now - start : 0;
	se->heap[se->n] = heap;
	se->rss[se->n++] = rss;
	se->next = now + se->period;
}

/* ---- processes seen under the root ---- */

static struct seen *find_seen(struct sampler *s, long pid)
{
	for (size_t i = 0; i < s->nseen; i++)
		if (s->seen[i].pid == pid)
			return &s->seen[i];
	return NULL;
}

/* Records pid, or refreshes its exe: a process seen between its fork
 * and its exec showed its parent's. */
static void note_process(struct sampler *s, long pid, long ppid)
{
	char path[64], exe[PATH_MAX];
	struct seen *p = find_seen(s, pid);
	if (!p && (s->nseen == SEEN_MAX || (!s->seen && !(s->seen = calloc(SEEN_MAX, sizeof *s->seen)))))
		return;
	if (!p) {
		p = &s->seen[s->nseen++];
		*p = (struct seen){.pid = pid, .ppid = ppid};
	}
	snprintf(path, sizeof path, "/proc/%ld/exe", pid);
	ssize_t n = readlink(path, exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		memcpy(p->exe, exe, (size_t)n + 1);
	}
}

/* Notes pid's descendants, depth first (bounded by SEEN_MAX). */
static void walk_children(struct sampler *s, long pid, int depth)
{
	char path[64];
	long child;
	snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", pid, pid);
	FILE *f = depth < 64 ? fopen(path, "re") : NULL;
	while (f && fscanf(f, "%ld", &child) == 1) {
		note_process(s, child, pid);
		walk_children(s, child, depth + 1);
	}
	if (f)
		fclose(f);
}

void sampler_tick(struct sampler *s, uint64_t now)
{
	if (s->root > 0) {
		note_process(s, s->root, getpid());
		walk_children(s, s->root, 0);
	}
	find_files(s, now);
	for (size_t i = 0; i < s->n; i++)
		if (!s->s[i]->done && now >= s->s[i]->next)
			sample(s->s[i], now, s->max);
}

static json_t *column(const uint64_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

/* By file, not by pid: a pid that exec'd has one file per program. */
json_t *sampler_timeline(const struct sampler *s, const char *file)
{
	for (size_t i = 0; s && i < s->n; i++) {
		const struct series *se = s->s[i];
		if (strcmp(se->file, file) != 0 || se->n == 0)
			continue;
		return json_pack("{s:I,s:o,s:o,s:o}", "period_ns", (json_int_t)se->period, "t_ns", column(se->t, se->n),
				 "heap_bytes", column(se->heap, se->n), "rss_bytes", column(se->rss, se->n));
	}
	return NULL;
}

json_t *sampler_seen(const struct sampler *s)
{
	json_t *a = json_array();
	for (size_t i = 0; s && i < s->nseen; i++)
		json_array_append_new(a, json_pack("{s:I,s:I,s:s}", "pid", (json_int_t)s->seen[i].pid, "ppid",
						   (json_int_t)s->seen[i].ppid, "exe", s->seen[i].exe));
	return a;
}
