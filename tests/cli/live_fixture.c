/* Writes live files with known contents, so the CLI's pipeline (sample,
 * collect, symbolise, render) is tested without the library.
 *
 *   live_fixture write DIR       a fixed three-process run into DIR
 *                                (pids above pid_max: never alive), for
 *                                the golden tests
 *   live_fixture child [-e N] [-f N] [-k] [-s STEPS]
 *                                behaves as a program under `allocmap run`:
 *                                writes $ALLOCMAP_RUN_DIR/proc-<pid>.live
 *                                with its real pid, module map and sites
 *                                whose return addresses are calls in this
 *                                file (CALL_LINE below), grows its heap
 *                                figure for STEPS x 5 ms, forks N children
 *                                doing the same (-f), then exits N (-e) or
 *                                kills itself with SIGKILL (-k) leaving the
 *                                file "running"
 *
 * It goes through cli/live.c's writer, so the layout is known in one
 * place only.
 */
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../cli/live.h"

#define MIB (1024 * 1024)

/* ---- the deterministic run ---- */

static json_t *fixed_site(unsigned off, long live, long calls)
{
	char addr[32];
	snprintf(addr, sizeof addr, "0x%llx", 0x555555554000ull + off);
	return json_pack("{s:{s:s},s:I,s:I,s:I,s:I,s:I,s:I}", "location", "addr", addr, "live_bytes",
			 (json_int_t)live, "live_count", (json_int_t)(live / 1024), "peak_bytes", (json_int_t)(live * 2),
			 "calls", (json_int_t)calls, "bytes_total", (json_int_t)(calls * 4096), "temporary",
			 (json_int_t)(calls / 2));
}

static json_t *fixed_process(long pid, long ppid, const char *exe, json_t *argv, const char *ended, int status)
{
	json_t *p = json_pack(
		"{s:I,s:I,s:o,s:s,s:I,s:I,s:I,s:s,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I},"
		"s:[{s:s,s:s,s:I,s:I,s:I},{s:s,s:s,s:I,s:I,s:I},{s:s,s:s,s:I,s:I,s:I}],s:{s:I,s:I},"
		"s:{s:I,s:I},s:[{s:s,s:I,s:I,s:I}],s:[]}",
		"pid", (json_int_t)pid, "ppid", (json_int_t)ppid, "cmdline", argv, "exe", exe, "start_time_ns",
		(json_int_t)1700000000000000000ll, "start_mono_ns", (json_int_t)1000000000, "duration_ns",
		(json_int_t)250000000, "ended", ended, "heap", "live_bytes", (json_int_t)(3 * MIB), "live_chunks",
		(json_int_t)3100, "peak_bytes", (json_int_t)(12 * MIB), "peak_chunks", (json_int_t)12500,
		"peak_time_ns", (json_int_t)120000000, "calls", (json_int_t)40000, "bytes_total",
		(json_int_t)(150 * MIB), "temporary", (json_int_t)20000, "rss", "final_bytes", (json_int_t)(9 * MIB),
		"peak_bytes", (json_int_t)(18 * MIB), "space", "kind", "heap", "allocator", "brk", "virtual_bytes",
		(json_int_t)(16 * MIB), "resident_bytes", (json_int_t)(12 * MIB), "count", (json_int_t)1, "kind",
		"anon", "allocator", "mmap", "virtual_bytes", (json_int_t)(64 * MIB), "resident_bytes",
		(json_int_t)(2 * MIB), "count", (json_int_t)7, "kind", "object", "allocator", "loader",
		"virtual_bytes", (json_int_t)(8 * MIB), "resident_bytes", (json_int_t)(3 * MIB), "count",
		(json_int_t)4, "allocmap", "reserved_bytes", (json_int_t)(300 * MIB), "resident_bytes",
		(json_int_t)MIB, "counters", "resyncs", (json_int_t)2, "slow_path", (json_int_t)17, "modules",
		"path", "/nonexistent/prog", "bias", (json_int_t)0x555555554000ll, "start",
		(json_int_t)0x555555554000ll, "end", (json_int_t)0x555555560000ll, "sites");
	if (strcmp(ended, "exit") == 0)
		json_object_set_new(p, "exit_status", json_integer(status));
	return p;
}

static int write_run(const char *dir)
{
	char path[4096];
	json_t *procs[3] = {
		fixed_process(5000001, 4999999, "/bin/sh", json_pack("[s,s,s]", "sh", "-c", "prog | sort"), "exit", 0),
		fixed_process(5000002, 5000001, "/nonexistent/prog", json_pack("[s]", "prog"), "exit", 3),
		fixed_process(5000003, 5000001, "/usr/bin/sort", json_pack("[s]", "sort"), "running", 0),
	};
	json_t *sites = json_object_get(procs[1], "sites");
	json_array_append_new(sites, fixed_site(0x1234, 2 * MIB, 2048));
	json_array_append_new(sites, fixed_site(0x2345, MIB, 30000));
	json_array_append_new(sites, fixed_site(0x3456, 0, 7952));
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/proc-%lld.live", dir,
			 (long long)json_integer_value(json_object_get(procs[i], "pid")));
		if (live_write(path, procs[i]) != 0) {
			perror(path);
			return 1;
		}
		json_decref(procs[i]);
	}
	return 0;
}

/* ---- the live child ---- */

struct child_opts {
	int exit_status, forks, kill_self, steps;
	char **argv;
	int argc;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	char exe[4096] = "";
	const char *path = info->dlpi_name;
	if (!path[0]) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = '\0';
		path = exe;
	}
	if (path[0] == '/')
		json_array_append_new(arg, json_pack("{s:s,s:I,s:I,s:I}", "path", path, "bias",
						     (json_int_t)info->dlpi_addr, "start", (json_int_t)info->dlpi_addr,
						     "end", (json_int_t)info->dlpi_addr));
	return 0;
}

static __attribute__((noinline)) uint64_t return_address(void)
{
	return (uint64_t)__builtin_return_address(0);
}

static json_t *live_site(uint64_t addr, long live, long calls)
{
	char a[32];
	snprintf(a, sizeof a, "0x%llx", (unsigned long long)addr);
	return json_pack("{s:{s:s},s:I,s:I,s:I,s:I,s:I,s:I}", "location", "addr", a, "live_bytes", (json_int_t)live,
			 "live_count", (json_int_t)1, "peak_bytes", (json_int_t)live, "calls", (json_int_t)calls,
			 "bytes_total", (json_int_t)live, "temporary", (json_int_t)0);
}

static json_t *child_process(const struct child_opts *o)
{
	json_t *argv = json_array(), *mods = json_array();
	for (int i = 0; i < o->argc; i++)
		json_array_append_new(argv, json_string(o->argv[i]));
	dl_iterate_phdr(add_module, mods);
	json_t *p = json_pack("{s:I,s:I,s:o,s:s,s:I,s:s,s:{},s:{},s:o,s:[]}", "pid", (json_int_t)getpid(), "ppid",
			      (json_int_t)getppid(), "cmdline", argv, "exe", json_string_value(json_object_get(
										 json_array_get(mods, 0), "path")),
			      "start_mono_ns", (json_int_t)mono_ns(), "ended", "running", "heap", "rss", "modules",
			      mods, "sites");
	json_t *sites = json_object_get(p, "sites");
	json_array_append_new(sites, live_site(return_address(), 5 * MIB, 5)); /* CALL_LINE_BIG */
	json_array_append_new(sites, live_site(return_address(), MIB, 100));  /* CALL_LINE_SMALL */
	return p;
}

static void grow(json_t *p, const char *path, int steps)
{
	json_t *heap = json_object_get(p, "heap");
	for (int i = 1; i <= steps; i++) {
		json_object_set_new(heap, "live_bytes", json_integer((json_int_t)i * 64 * 1024));
		json_object_set_new(heap, "peak_bytes", json_integer((json_int_t)i * 64 * 1024));
		live_write(path, p);
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	}
}

static int child(struct child_opts *o)
{
	const char *dir = getenv("ALLOCMAP_RUN_DIR");
	char path[4096];
	for (int i = 0; i < o->forks; i++)
		if (fork() == 0) {
			o->forks = 0;
			o->steps /= 2;
			break;
		}
	if (!dir) {
		fputs("live_fixture: ALLOCMAP_RUN_DIR is not set\n", stderr);
		return 2;
	}
	snprintf(path, sizeof path, "%s/proc-%d.live", dir, (int)getpid());
	/* Under `allocmap run` the library is preloaded here too and has
	 * made this name its own file (at start-up, or at the fork): this
	 * program stands in for it, so its file goes and ours takes the
	 * name. (The library keeps updating its unlinked copy, unseen.) */
	unlink(path);
	json_t *p = child_process(o);
	grow(p, path, o->steps);
	while (o->forks && wait(NULL) > 0)
		;
	if (o->kill_self)
		raise(SIGKILL);
	json_object_set_new(p, "ended", json_string("exit"));
	json_object_set_new(p, "exit_status", json_integer(o->exit_status));
	live_write(path, p);
	return o->exit_status;
}

int main(int argc, char **argv)
{
	struct child_opts o = {.steps = 40, .argc = argc, .argv = argv};
	if (argc == 3 && strcmp(argv[1], "write") == 0)
		return write_run(argv[2]);
	if (argc < 2 || strcmp(argv[1], "child") != 0) {
		fputs("usage: live_fixture write DIR | child [-e N] [-f N] [-k] [-s STEPS]\n", stderr);
		return 2;
	}
	for (int c; (c = getopt(argc - 1, argv + 1, "e:f:ks:")) != -1;) {
		if (c == 'e')
			o.exit_status = atoi(optarg);
		else if (c == 'f')
			o.forks = atoi(optarg);
		else if (c == 'k')
			o.kill_self = 1;
		else if (c == 's')
			o.steps = atoi(optarg);
		else
			return 2;
	}
	return child(&o);
}
