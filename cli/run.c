/* `allocmap run`: options, outputs and suppressions checked, the library
 * found, the run directory made, the command run while its timeline is
 * sampled, then the live files collected into the run document and
 * rendered. The exit status is the command's whatever happens to the
 * report, except with --leaks=error (leaks.c: ALLOCMAP_LEAKS_STATUS
 * instead of 0 when a process had definitely lost bytes).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Each output's directory must be writable before the command runs,
 * rather than the report be lost after. 0, or -1 after saying why. */
static int check_outputs(const struct cli_opts *o)
{
	for (int i = 0; i < o->nout; i++) {
		const char *path = o->out[i].path;
		char dir[PATH_MAX];
		if (!path || strcmp(path, "-") == 0)
			continue;
		snprintf(dir, sizeof dir, "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash)
			slash[slash == dir] = '\0';
		if (access(slash ? dir : ".", W_OK | X_OK) != 0) {
			cli_error("cannot write the report %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* A suppressions file must be readable and hold only blank lines, '#'
 * comments and "leak:PATTERN" lines (src/leak/suppress.c), so that a
 * typo is not found only after the run. Replaces o->suppressions with
 * its absolute path (malloc'd). 0, or -1 after saying why. */
static int check_suppressions(struct cli_opts *o)
{
	char line[4096];
	int n = 0, bad = 0;
	if (!o->suppressions)
		return 0;
	if (!o->leaks) {
		cli_error("run: --suppressions is for the leak check: give --leaks too");
		return -1;
	}
	FILE *f = fopen(o->suppressions, "re");
	char *real = f ? realpath(o->suppressions, NULL) : NULL;
	if (!real) {
		cli_error("cannot read the suppressions %s: %s", o->suppressions, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	while (!bad && fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\n");
		n++;
		bad = line[0] != '#' && len && !(strncmp(line, "leak:", 5) == 0 && len > 5);
	}
	fclose(f);
	if (bad) {
		cli_error("%s:%d: not a suppression: each line is leak:PATTERN, a # comment or blank", o->suppressions, n);
		free(real);
		return -1;
	}
	o->suppressions = o->owned_suppressions = real;
	return 0;
}

static int parse(int argc, char **argv, struct cli_opts *o)
{
	if (cli_parse("run", argc, argv, o) != 0) {
		cli_usage("run", 0);
		return -1;
	}
	if (o->help)
		return 0;
	if (o->nrest == 0) {
		cli_error("run: no command given (usage: allocmap run [OPTIONS] -- COMMAND [ARG...])");
		cli_usage("run", 0);
		return -1;
	}
	return cli_resolve_outputs(o, NULL) != 0 || check_outputs(o) != 0 || check_suppressions(o) != 0 ? -1 : 0;
}

struct ticker {
	struct sampler *smp;
	const struct child_end *end;
};

static void on_tick(void *arg, uint64_t now)
{
	struct ticker *t = arg;
	sampler_set_root(t->smp, t->end->pid);
	sampler_tick(t->smp, now);
}

/* Runs the command in the prepared run directory, then reports. */
static int run_in(const char *dir, const struct cli_opts *o)
{
	struct child_end end;
	struct run_end re = {.cmd = o->rest, .is_static = cli_is_static(o->rest[0])};
	struct sampler *smp = sampler_new(dir, 0);
	struct ticker t = {smp, &end};
	if (!smp) {
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	if (re.is_static)
		cli_error("%s is statically linked: the library cannot be preloaded into it, so it will leave no "
			  "figures", o->rest[0]);
	fflush(NULL);
	cli_spawn_wait(o->rest, on_tick, &t, &end);
	if (end.ran) {
		signal(SIGPIPE, SIG_IGN); /* a closed pipe fails the write, not the exit status */
		re.root = end.pid, re.exit_status = end.status, re.signal = end.signal;
		json_t *run = collect_run(dir, smp, &re);
		if (o->leaks == CLI_LEAKS_ERROR)
			end.status = leaks_verdict(run, end.status);
		render_outputs(run, o);
		json_decref(run);
	}
	sampler_free(smp);
	return end.status;
}

int cli_run(int argc, char **argv)
{
	struct cli_opts o = {0};
	char lib[PATH_MAX], dir[PATH_MAX];
	int status = CLI_EXIT_FAIL;
	if (parse(argc, argv, &o) != 0)
		goto out;
	if (o.help) {
		cli_usage("run", 1);
		status = 0;
		goto out;
	}
	if (cli_find_library(lib, sizeof lib) != 0 || rundir_create(o.keep, dir, sizeof dir) != 0)
		goto out;
	status = cli_setup_env(lib, dir, &o) == 0 ? run_in(dir, &o) : CLI_EXIT_FAIL;
	rundir_remove(dir, o.keep);
out:
	free(o.rest);
	free(o.owned_suppressions);
	return status;
}
