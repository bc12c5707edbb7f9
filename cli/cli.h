/* The allocmap command: shared declarations, grouped by defining file.
 *
 * An ordinary program (stdio and malloc are fine here). Its own failures
 * exit with CLI_EXIT_FAIL, as env(1) and timeout(1) do, so they cannot be
 * mistaken for the status of the command it runs; a command that cannot
 * be executed gives 126, one that is not found 127, as a shell does.
 */
#ifndef ALLOCMAP_CLI_H
#define ALLOCMAP_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CLI_EXIT_FAIL 125    /* allocmap itself failed: bad usage, no library */
#define CLI_EXIT_NOEXEC 126  /* the command exists but cannot be executed */
#define CLI_EXIT_NOTFOUND 127

#define RUN_SCHEMA_VERSION 1 /* doc/report-schema.json's "schema_version" */

/* main.c */
/* Prints "allocmap: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* help.c */
/* The help of a subcommand ("run", "report", "snapshot", or NULL for
 * allocmap's own) to stdout, or a one-line hint to stderr. The same text
 * makes doc/allocmap.1 (tools/mkman.sh). */
void cli_usage(const char *sub, int full);

/* opts.c: what the subcommands share (output and view options) */
struct cli_output {
	const char *path;   /* "-" for stdout, NULL for stderr; may hold "%p" */
	const char *format; /* "text", "json", "html" */
};
#define CLI_MAX_OUTPUTS 8
struct cli_view {
	int top;           /* sites per table */
	int verbose;       /* internal counters too */
	int all;           /* every process's full report */
	long pid;          /* this process's report (0: the root's) */
	const char *follow; /* the processes whose command is this name */
};
enum { CLI_LEAKS_OFF, CLI_LEAKS_REPORT, CLI_LEAKS_ERROR }; /* --leaks, --leaks=error */
#define CLI_MAX_STACK 64 /* --stack's bound: ALLOCMAP_LIVE_MAX_DEPTH */
struct cli_opts {
	struct cli_output out[CLI_MAX_OUTPUTS];
	int nout;
	const char *format; /* --format, for outputs that do not name one */
	struct cli_view view;
	const char *keep;  /* run: keep the run directory here */
	int check, help;
	int leaks;         /* run: CLI_LEAKS_* */
	const char *suppressions; /* run: the leak suppressions file */
	int stack;         /* run: --stack N, frames per allocation (0: the call site only) */
	char *owned_suppressions; /* run: its absolute path, once checked */
	char **rest;       /* the arguments after the options */
	int nrest;
};
/* Parses the options of subcommand sub ("run": stops at "--" or the
 * first non-option; the others take positional arguments anywhere).
 * 0, or -1 after saying why. */
int cli_parse(const char *sub, int argc, char **argv, struct cli_opts *o);
/* Fills each output's format (extension, else --format, else text) and
 * adds the default output (default_path) if none was given. 0, or -1
 * after saying why (unknown format). */
int cli_resolve_outputs(struct cli_opts *o, const char *default_path);

/* run.c, report.c */
/* `allocmap run|report|snapshot ARGS...` (argv[0] is the first argument
 * after the subcommand). Return the exit status for allocmap. */
int cli_run(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_snapshot(int argc, char **argv);

/* rundir.c */
/* Creates the private run directory (mkdtemp under $TMPDIR or /tmp, mode
 * 0700, or keep if given: created 0700 if missing, must be empty) into
 * out. 0, or -1 after saying why. */
int rundir_create(const char *keep, char *out, size_t cap);
/* Removes the run directory and its files unless it was kept. */
void rundir_remove(const char *dir, const char *keep);

/* elfcheck.c */
/* 1 if the command (looked up in PATH as execvp would) is an ELF file
 * without PT_INTERP (statically linked: nothing can be preloaded), else
 * 0 (dynamic, a script, not found: exec will tell). */
int cli_is_static(const char *cmd);

/* sample.c: the timeline, sampled from outside while the command runs */
struct sampler;
struct sampler *sampler_new(const char *dir, pid_t root);
/* The root process, once known (its descendants are looked for). */
void sampler_set_root(struct sampler *s, pid_t root);
/* Samples what is due at now (CLOCK_MONOTONIC ns): every live file's
 * heap live bytes and its process's RSS (/proc/PID/statm). */
void sampler_tick(struct sampler *s, uint64_t now);
/* The "timeline" object of the live file named file (a name in the run
 * directory), or NULL if it was never sampled. */
json_t *sampler_timeline(const struct sampler *s, const char *file);
/* Processes seen under the root (pid, ppid, exe), as an array. */
json_t *sampler_seen(const struct sampler *s);
void sampler_free(struct sampler *s);
uint64_t cli_now_ns(void);

/* fmt.c: numbers for people (rotating static buffers: use at once) */
const char *fmt_bytes(uint64_t n); /* "1.50 MiB" */
const char *fmt_ns(uint64_t ns);   /* "12.3 ms" */
const char *fmt_signal(int sig);   /* "SIGKILL" */
/* A JSON object's integer member (0 if absent or negative), string
 * member (dflt if absent). */
uint64_t jnum(const json_t *o, const char *key);
/* The address in the hex string o[key] ("0x..."), or 0. */
uint64_t jhex(const json_t *o, const char *key);
const char *jstr(const json_t *o, const char *key, const char *dflt);

/* sym.c: symbolisation of one process's addresses (libdw, offline) */
struct sym;
/* From the process's "modules" array (kept referenced, not copied). */
struct sym *sym_new(const json_t *modules);
/* Completes a location object {"addr"} with object, offset, function,
 * function_offset, file and line, those that can be known. */
void sym_locate(struct sym *s, json_t *loc);
void sym_free(struct sym *s);

/* fold.c: a site's first frames inside allocation wrappers (--stack):
 * its "location" becomes the first frame outside them, "wrapper_frames"
 * their count. Call after its frames are symbolised. */
void fold_wrappers(json_t *site);

/* collect.c: live files -> the run document (doc/report-data.md §2) */
struct run_end {
	char **cmd;        /* argv of the command; NULL for a snapshot */
	pid_t root;        /* the direct child (0: none, a snapshot) */
	int exit_status;   /* allocmap run's */
	int signal;        /* the signal that ended the root, or 0 */
	int is_static;     /* the command is statically linked */
};
/* Reads every proc-*.live of dir. Never NULL; a run with no live file
 * has an empty "processes" array and a "notes" entry saying why. */
json_t *collect_run(const char *dir, const struct sampler *smp, const struct run_end *end);

/* leaks.c: the leak check's result (proc-<pid>.leaks) */
#define LEAK_CLASSES 4
/* The classes' keys in the document ("definitely_lost", ...) and
 * memcheck's words for them ("definitely lost", ...), in its order. */
extern const char *const leak_class_key[LEAK_CLASSES];
extern const char *const leak_class_text[LEAK_CLASSES];
/* The words of the class whose key is key (key itself if unknown). */
const char *leak_class_words(const char *key);
/* The "leaks" object of process pid from its file in dir, or NULL if
 * it has none (not scanned, or not a leaks file). */
json_t *leaks_read(const char *dir, long pid);
/* With --stack: each leak group gets "frames" (and "wrapper_frames") of
 * the stack recorded with its allocating call as frame 0 that holds the
 * most live bytes (the site table keeps stacks, a chunk only its call).
 * After the sites are symbolised. */
void leaks_attach_frames(json_t *proc);
/* Definitely lost bytes, not suppressed, of a process (0: none or not
 * scanned). */
uint64_t leaks_definite(const json_t *proc);
/* --leaks=error: sets the run's "leak_error" (a process had definitely
 * lost bytes), and if so and status is 0, the run's exit_status to
 * ALLOCMAP_LEAKS_STATUS. Returns allocmap run's exit status. */
int leaks_verdict(json_t *run, int status);

/* render.c, render_text.c, render_html.c */
/* Writes run to each output (a "%p" in a path: one file per process).
 * 0, or -1 after saying why. */
int render_outputs(json_t *run, const struct cli_opts *o);
int render_text(json_t *run, const struct cli_view *v, FILE *out);
int render_json(json_t *run, FILE *out);
int render_html(json_t *run, FILE *out);

/* setup.c */
/* Finds liballocmap.so: $ALLOCMAP_LIB if set, else ../lib/liballocmap.so
 * beside this executable. Writes its absolute path to out; 0, or -1 after
 * saying why. */
int cli_find_library(char *out, size_t cap);
/* Sets the child's environment: LD_PRELOAD gets lib prepended (kept if
 * already there), ALLOCMAP_RUN_DIR the run directory (absolute),
 * ALLOCMAP_CHECK_AT_EXIT=1 with --check, ALLOCMAP_LEAKS=1 with --leaks
 * (either form), ALLOCMAP_SUPPRESSIONS with --suppressions (an absolute
 * path by then), ALLOCMAP_STACK=N with --stack N. 0, or -1 after saying why. */
int cli_setup_env(const char *lib, const char *run_dir, const struct cli_opts *o);

/* child.c */
/* How the child ended. */
struct child_end {
	pid_t pid;
	int status; /* allocmap's exit status: the child's, 128+N for signal N,
		     * 126/127 if it could not be executed (said why) */
	int signal; /* the signal that killed it, or 0 */
	int ran;    /* the exec succeeded */
};
/* Runs cmd (execvp) as a child with SIGINT, SIGTERM, SIGHUP and SIGQUIT
 * forwarded to it and waits for it; while it runs, calls tick(arg, now)
 * every 10 ms (tick may be NULL). */
void cli_spawn_wait(char **cmd, void (*tick)(void *arg, uint64_t now), void *arg, struct child_end *end);

#endif
