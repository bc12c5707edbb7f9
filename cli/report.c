/* `allocmap report RUN.json` renders a saved run again; `allocmap
 * snapshot DIR|PID` reads the live files of a run directory (a kept one,
 * or the one a running process was given) and renders them as they are
 * now. Both write to standard output unless told otherwise.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The options and the one operand of report and snapshot; the operand,
 * or NULL (with *status set: 0 for --help, else after saying why). */
static const char *parse_one(const char *sub, int argc, char **argv, struct cli_opts *o, int *status)
{
	*status = CLI_EXIT_FAIL;
	if (cli_parse(sub, argc, argv, o) != 0) {
		cli_usage(sub, 0);
		return NULL;
	}
	if (o->help) {
		cli_usage(sub, 1);
		*status = 0;
		return NULL;
	}
	if (o->nrest != 1) {
		cli_error("%s: %s", sub, o->nrest ? "one operand only" : "what to report on is missing");
		cli_usage(sub, 0);
		return NULL;
	}
	return cli_resolve_outputs(o, "-") == 0 ? o->rest[0] : NULL;
}

static json_t *load_run(const char *path)
{
	json_error_t e;
	json_t *run = json_load_file(path, 0, &e);
	if (!run) {
		cli_error("%s:%d: %s", path, e.line, e.text);
		return NULL;
	}
	json_int_t v = json_integer_value(json_object_get(run, "schema_version"));
	if (!json_is_array(json_object_get(run, "processes")) || v != RUN_SCHEMA_VERSION) {
		cli_error("%s: not a run saved by this allocmap (schema_version %lld, this allocmap reads %d)", path,
			  (long long)v, RUN_SCHEMA_VERSION);
		json_decref(run);
		return NULL;
	}
	return run;
}

int cli_report(int argc, char **argv)
{
	struct cli_opts o = {0};
	int status;
	const char *path = parse_one("report", argc, argv, &o, &status);
	json_t *run = path ? load_run(path) : NULL;
	if (run)
		status = render_outputs(run, &o) == 0 ? 0 : CLI_EXIT_FAIL;
	json_decref(run);
	free(o.rest);
	return status;
}

static int all_digits(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* The run directory of a running process, from its environment. */
static int dir_of_pid(const char *pid, char *out, size_t cap)
{
	char path[64], env[1 << 16];
	snprintf(path, sizeof path, "/proc/%s/environ", pid);
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(env, 1, sizeof env - 1, f) : 0;
	if (f)
		fclose(f);
	env[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(env + i) + 1)
		if (strncmp(env + i, "ALLOCMAP_RUN_DIR=", 17) == 0) {
			snprintf(out, cap, "%s", env + i + 17);
			return 0;
		}
	cli_error("snapshot: process %s %s", pid, f ? "was not started by allocmap run (no ALLOCMAP_RUN_DIR)"
						  : "cannot be read (not running, or not yours)");
	return -1;
}

int cli_snapshot(int argc, char **argv)
{
	struct cli_opts o = {0};
	char dir[PATH_MAX];
	int status;
	const char *what = parse_one("snapshot", argc, argv, &o, &status);
	if (what && all_digits(what)) {
		if (dir_of_pid(what, dir, sizeof dir) != 0)
			what = NULL;
		else if (!o.view.pid && !o.view.all)
			o.view.pid = atol(what);
	} else if (what) {
		snprintf(dir, sizeof dir, "%s", what);
	}
	if (what && access(dir, R_OK | X_OK) != 0) {
		cli_error("snapshot: %s: %s", dir, strerror(errno));
		what = NULL;
	}
	if (what) {
		struct run_end none = {0};
		json_t *run = collect_run(dir, NULL, &none);
		status = render_outputs(run, &o) == 0 ? 0 : CLI_EXIT_FAIL;
		json_decref(run);
	}
	free(o.rest);
	return status;
}
