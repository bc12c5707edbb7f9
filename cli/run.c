/* `allocmap run`: options, outputs checked, the library found, the run
 * directory made, the command run while its timeline is sampled, then
 * the live files collected into the run document and rendered. The
 * exit status is the command's whatever happens to the report.
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
	return cli_resolve_outputs(o, NULL) != 0 || check_outputs(o) != 0 ? -1 : 0;
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
	if (parse(argc, argv, &o) != 0) {
		free(o.rest);
		return CLI_EXIT_FAIL;
	}
	if (o.help) {
		cli_usage("run", 1);
		free(o.rest);
		return 0;
	}
	if (cli_find_library(lib, sizeof lib) != 0 || rundir_create(o.keep, dir, sizeof dir) != 0) {
		free(o.rest);
		return CLI_EXIT_FAIL;
	}
	int status = cli_setup_env(lib, dir, o.check) == 0 ? run_in(dir, &o) : CLI_EXIT_FAIL;
	rundir_remove(dir, o.keep);
	free(o.rest);
	return status;
}
