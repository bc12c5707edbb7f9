/* The allocmap command: shared declarations, grouped by defining file.
 *
 * An ordinary program (stdio and malloc are fine here). Its own failures
 * exit with CLI_EXIT_FAIL, as env(1) and timeout(1) do, so they cannot be
 * mistaken for the status of the command it runs; a command that cannot
 * be executed gives 126, one that is not found 127, as a shell does.
 */
#ifndef ALLOCMAP_CLI_H
#define ALLOCMAP_CLI_H

#include <stddef.h>

#define CLI_EXIT_FAIL 125    /* allocmap itself failed: bad usage, no library */
#define CLI_EXIT_NOEXEC 126  /* the command exists but cannot be executed */
#define CLI_EXIT_NOTFOUND 127

/* main.c */
/* Prints "allocmap: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the usage of `allocmap run` to stdout (full) or a hint to stderr. */
void cli_run_usage(int full);

/* run.c */
/* `allocmap run ARGS...` (argv[0] is the first argument after "run").
 * Returns the exit status for allocmap. */
int cli_run(int argc, char **argv);

/* setup.c */
/* Finds liballocmap.so: $ALLOCMAP_LIB if set, else ../lib/liballocmap.so
 * beside this executable. Writes its absolute path to out; 0, or -1 after
 * saying why. */
int cli_find_library(char *out, size_t cap);
/* Sets the child's environment: LD_PRELOAD gets lib prepended (kept if
 * already there), ALLOCMAP_REPORT the report destination (made absolute;
 * "-" for stderr), ALLOCMAP_CHECK_AT_EXIT=1 if check. 0, or -1 after
 * saying why. */
int cli_setup_env(const char *lib, const char *report, int check);

/* child.c */
/* Runs cmd (execvp) as a child with SIGINT, SIGTERM, SIGHUP and SIGQUIT
 * forwarded to it, waits for it and returns its exit status (128+N if a
 * signal N killed it; 126/127 if it could not be executed, said why). */
int cli_spawn_wait(char **cmd);

#endif
