/* `allocmap run`: its options, then the library, the environment and the
 * child, in that order. Options end at "--" or at the first argument that
 * is not one, so `allocmap run ls -l` and `allocmap run -- ls -l` agree.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct run_opts {
	int check;
	int help;
	const char *report; /* "-" for stderr */
	char **cmd;         /* NULL-terminated, from argv */
};

/* The value of --report, as "--report FILE" or "--report=FILE"; NULL if
 * missing (said). *i is left on the last argument consumed. */
static const char *report_arg(int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	if (strncmp(a, "--report=", 9) == 0)
		return a + 9;
	if (*i + 1 < argc)
		return argv[++*i];
	cli_error("run: option '--report' needs a file name");
	return NULL;
}

/* 0 and *o filled, or -1 after saying why. */
static int parse(int argc, char **argv, struct run_opts *o)
{
	int i;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--check") == 0) {
			o->check = 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = 1;
			return 0;
		} else if (strcmp(a, "--report") == 0 || strncmp(a, "--report=", 9) == 0) {
			if (!(o->report = report_arg(argc, argv, &i)))
				return -1;
		} else {
			cli_error("run: unknown option '%s'", a);
			return -1;
		}
	}
	o->cmd = argv + i;
	if (i >= argc) {
		cli_error("run: no command given (usage: allocmap run [OPTIONS] -- COMMAND [ARG...])");
		return -1;
	}
	return 0;
}

int cli_run(int argc, char **argv)
{
	struct run_opts o = {.report = "-"};
	char lib[PATH_MAX];
	if (parse(argc, argv, &o) != 0) {
		cli_run_usage(0);
		return CLI_EXIT_FAIL;
	}
	if (o.help) {
		cli_run_usage(1);
		return 0;
	}
	if (cli_find_library(lib, sizeof lib) != 0 || cli_setup_env(lib, o.report, o.check) != 0)
		return CLI_EXIT_FAIL;
	fflush(NULL);
	return cli_spawn_wait(o.cmd);
}
