/* From the live files of a run directory to the run document
 * (doc/report-data.md section 2, doc/report-schema.json): decode each
 * file (live.c), attach its leak check (leaks.c: to the image that ran
 * exit, not one that exec'd), symbolise its sites and leak groups
 * (sym.c), attach its timeline (sample.c), settle how it ended, and say
 * why for every process that ended abnormally or left nothing.
 *
 * A process whose file still says "running" ended without a word from
 * the library: the root's signal is known from wait(); for the others
 * "killed" (SIGKILL cannot be caught), unless it is still alive (a
 * snapshot).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocmap.h"
#include "cli.h"
#include "live.h"

/* proc-<pid>.live, then proc-<pid>.<k>.live: by pid, then k (exec
 * order); a name of neither shape after, by strcmp. */
static int name_key(const char *name, unsigned long long *pid, unsigned long long *k)
{
	char dot[2];
	*k = 0;
	if (sscanf(name, "proc-%llu.%llu.liv%1[e]", pid, k, dot) == 3)
		return 1;
	*k = 0;
	return sscanf(name, "proc-%llu.liv%1[e]", pid, dot) == 2;
}

static int by_name(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	unsigned long long px, kx, py, ky;
	int okx = name_key(x, &px, &kx), oky = name_key(y, &py, &ky);
	if (okx != oky)
		return oky - okx;
	if (okx && (px != py || kx != ky))
		return px != py ? (px < py ? -1 : 1) : (kx < ky ? -1 : 1);
	return strcmp(x, y);
}

/* The names of dir's proc-*.live files, sorted; *n of them. */
static char **live_files(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	*n = 0;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, "proc-", 5) != 0 || len < 11 || strcmp(e->d_name + len - 5, ".live") != 0)
			continue;
		char **grown = realloc(names, (*n + 1) * sizeof *names);
		if (!grown)
			break;
		names = grown;
		names[(*n)++] = strdup(e->d_name);
	}
	if (d)
		closedir(d);
	if (names)
		qsort(names, *n, sizeof *names, by_name);
	return names;
}

static void symbolise(json_t *proc)
{
	struct sym *s = sym_new(json_object_get(proc, "modules"));
	json_t *site, *frame, *other = json_object_get(proc, "sites_other");
	size_t i, j;
	if (!s)
		return;
	json_array_foreach(json_object_get(proc, "sites"), i, site) {
		if (json_object_get(site, "location"))
			sym_locate(s, json_object_get(site, "location"));
		json_array_foreach(json_object_get(site, "frames"), j, frame)
			sym_locate(s, frame);
		fold_wrappers(site);
	}
	if (other && json_object_get(other, "location"))
		sym_locate(s, json_object_get(other, "location"));
	json_array_foreach(json_object_get(json_object_get(proc, "leaks"), "groups"), i, site) {
		if (json_object_get(site, "location"))
			sym_locate(s, json_object_get(site, "location"));
	}
	leaks_attach_frames(proc);
	sym_free(s);
}

static int alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static void set_str(json_t *o, const char *key, const char *fmt, const char *arg)
{
	char buf[512];
	snprintf(buf, sizeof buf, fmt, arg);
	json_object_set_new(o, key, json_string(buf));
}

/* A process the library left "running": how it really ended. */
static void settle_running(json_t *proc, const struct run_end *end)
{
	long pid = (long)json_integer_value(json_object_get(proc, "pid"));
	if (end->root && pid == end->root && end->signal) {
		json_object_set_new(proc, "ended", json_string("signal"));
		json_object_set_new(proc, "signal", json_integer(end->signal));
	} else if (!alive(pid)) {
		json_object_set_new(proc, "ended", json_string("killed"));
		json_object_set_new(proc, "note", json_string("ended without a word from the library: killed by a "
							       "signal it cannot catch (SIGKILL)"));
	}
}

/* A process that returned from main ended "exit" with no status in its
 * file (the library sees exit() only when called through its symbol):
 * the command's own is wait()'s; another's stays unknown, said so. */
static void settle_status(json_t *proc, const struct run_end *end)
{
	long pid = (long)json_integer_value(json_object_get(proc, "pid"));
	if (strcmp(json_string_value(json_object_get(proc, "ended")), "exit") != 0 ||
	    json_object_get(proc, "exit_status"))
		return;
	if (end->root && pid == end->root && !end->signal)
		json_object_set_new(proc, "exit_status", json_integer(end->exit_status));
	else
		json_object_set_new(proc, "note", json_string("returned from main: its exit status went to its "
							       "parent only"));
}

static void explain_end(json_t *proc)
{
	const char *ended = json_string_value(json_object_get(proc, "ended"));
	if (strcmp(ended, "signal") == 0)
		set_str(proc, "note", "killed by %s",
			fmt_signal((int)json_integer_value(json_object_get(proc, "signal"))));
	else if (strcmp(ended, "exec") == 0)
		json_object_set_new(proc, "note", json_string("exec'd another program; its figures up to the exec "
							       "are these"));
}

/* The library writes the RSS at the end; a process killed without a
 * word left none, and the sampler may have seen a higher peak. */
static void rss_from_timeline(json_t *proc, const json_t *tl)
{
	const json_t *r = json_object_get(tl, "rss_bytes");
	json_t *rss = json_object_get(proc, "rss");
	uint64_t peak = 0;
	size_t n = json_array_size(r);
	for (size_t i = 0; i < n; i++)
		if ((uint64_t)json_integer_value(json_array_get(r, i)) > peak)
			peak = (uint64_t)json_integer_value(json_array_get(r, i));
	if (peak > jnum(rss, "peak_bytes"))
		json_object_set_new(rss, "peak_bytes", json_integer((json_int_t)peak));
	if (n && !jnum(rss, "final_bytes"))
		json_object_set(rss, "final_bytes", json_array_get(r, n - 1));
}

static json_t *read_process(const char *dir, const char *name, const struct sampler *smp,
			    const struct run_end *end, json_t *notes)
{
	char path[PATH_MAX], err[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct live *lf = live_open(path, err, sizeof err);
	json_t *proc = lf ? live_to_json(lf, err, sizeof err) : NULL;
	live_close(lf);
	if (!proc) {
		json_array_append_new(notes, json_string(err));
		return NULL;
	}
	json_t *leaks = strcmp(json_string_value(json_object_get(proc, "ended")), "exec") != 0
				? leaks_read(dir, (long)json_integer_value(json_object_get(proc, "pid")))
				: NULL;
	if (leaks)
		json_object_set_new(proc, "leaks", leaks);
	symbolise(proc);
	json_t *tl = sampler_timeline(smp, name);
	if (tl) {
		rss_from_timeline(proc, tl);
		json_object_set_new(proc, "timeline", tl);
	}
	if (strcmp(json_string_value(json_object_get(proc, "ended")), "running") == 0)
		settle_running(proc, end);
	else
		settle_status(proc, end);
	if (!json_object_get(proc, "note"))
		explain_end(proc);
	return proc;
}

static json_t *find_pid(const json_t *procs, long pid)
{
	size_t i;
	json_t *p;
	json_array_foreach(procs, i, p) {
		if (json_integer_value(json_object_get(p, "pid")) == pid)
			return p;
	}
	return NULL;
}

/* ---- processes that left nothing ---- */

static json_t *no_data(long pid, long ppid, const char *exe, json_t *cmdline)
{
	return json_pack("{s:I,s:I,s:s,s:o,s:b,s:s}", "pid", (json_int_t)pid, "ppid", (json_int_t)ppid, "exe",
			 exe ? exe : "", "cmdline", cmdline ? cmdline : json_array(), "no_data", 1, "ended",
			 "unknown");
}

static json_t *argv_json(char **argv)
{
	json_t *a = json_array();
	for (size_t i = 0; argv && argv[i]; i++)
		json_array_append_new(a, json_string(argv[i]));
	return a;
}

static const char no_file_why[] = "wrote no live file: the library did not load or does not write live files "
				  "(LD_PRELOAD cleared, a set-user-ID program, or a library older than this "
				  "allocmap)";

static json_t *missing_root(const struct run_end *end)
{
	json_t *p = no_data(end->root, getpid(), NULL, argv_json(end->cmd));
	if (end->signal) {
		json_object_set_new(p, "ended", json_string("signal"));
		json_object_set_new(p, "signal", json_integer(end->signal));
	} else {
		json_object_set_new(p, "ended", json_string("exit"));
		json_object_set_new(p, "exit_status", json_integer(end->exit_status));
	}
	if (end->is_static)
		json_object_set_new(p, "note", json_string("statically linked: the library cannot be preloaded "
							    "into it"));
	else if (end->signal == SIGKILL)
		json_object_set_new(p, "note", json_string("killed by SIGKILL before the library wrote anything"));
	else
		json_object_set_new(p, "note", json_string(no_file_why));
	return p;
}

static void add_unseen(json_t *procs, const json_t *seen, const struct run_end *end)
{
	size_t i;
	json_t *s;
	json_array_foreach(seen, i, s) {
		long pid = (long)json_integer_value(json_object_get(s, "pid"));
		const char *exe = json_string_value(json_object_get(s, "exe"));
		if (pid == end->root || find_pid(procs, pid))
			continue;
		const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
		json_t *p = no_data(pid, (long)json_integer_value(json_object_get(s, "ppid")), exe,
				    json_pack("[s]", base));
		if (exe[0] && cli_is_static(exe))
			set_str(p, "note", "exec'd a statically linked program (%s): nothing can be preloaded", exe);
		else
			json_object_set_new(p, "note", json_string(no_file_why));
		json_array_append_new(procs, p);
	}
}

/* ---- the run ---- */

static void put_root_first(json_t *procs, long root)
{
	json_t *r = find_pid(procs, root);
	size_t i;
	json_t *p;
	if (!r)
		return;
	json_incref(r);
	json_array_foreach(procs, i, p) {
		if (p == r) {
			json_array_remove(procs, i);
			break;
		}
	}
	json_array_insert_new(procs, 0, r);
}

/* A snapshot's root: the first process whose parent is not in the run. */
static long guess_root(const json_t *procs)
{
	size_t i;
	json_t *p;
	json_array_foreach(procs, i, p) {
		if (!find_pid(procs, (long)json_integer_value(json_object_get(p, "ppid"))))
			return (long)json_integer_value(json_object_get(p, "pid"));
	}
	return 0;
}

static json_t *read_all(const char *dir, const struct sampler *smp, const struct run_end *end, json_t *notes)
{
	size_t n;
	char **names = live_files(dir, &n);
	json_t *procs = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *p = read_process(dir, names[i], smp, end, notes);
		if (p)
			json_array_append_new(procs, p);
		free(names[i]);
	}
	free(names);
	return procs;
}

json_t *collect_run(const char *dir, const struct sampler *smp, const struct run_end *end)
{
	json_t *notes = json_array();
	json_t *procs = read_all(dir, smp, end, notes);
	long root = end->root ? end->root : guess_root(procs);
	if (end->root && !find_pid(procs, end->root))
		json_array_append_new(procs, missing_root(end));
	if (end->root) {
		json_t *seen = sampler_seen(smp);
		add_unseen(procs, seen, end);
		json_decref(seen);
	}
	put_root_first(procs, root);
	if (json_array_size(procs) == 0)
		json_array_append_new(notes, json_string("no live file in the run directory"));
	json_t *run = json_pack("{s:i,s:s,s:I,s:o,s:o}", "schema_version", RUN_SCHEMA_VERSION, "tool",
				"allocmap " ALLOCMAP_VERSION, "root_pid", (json_int_t)root, "processes", procs, "notes",
				notes);
	if (end->cmd) {
		json_object_set_new(run, "command", argv_json(end->cmd));
		json_object_set_new(run, "exit_status", json_integer(end->exit_status));
	}
	return run;
}
