/* allocmap — the command-line entry point: dispatches subcommands and
 * answers --help and --version.
 *
 *   allocmap run [OPTIONS] [--] COMMAND [ARG...]
 *   allocmap report [OPTIONS] RUN.json
 *   allocmap snapshot [OPTIONS] DIR|PID
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "allocmap.h"
#include "cli.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("allocmap: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int is(const char *arg, const char *a, const char *b)
{
	return strcmp(arg, a) == 0 || (b && strcmp(arg, b) == 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_error("no subcommand given");
		cli_usage(NULL, 0);
		return CLI_EXIT_FAIL;
	}
	if (is(argv[1], "--help", "-h") || is(argv[1], "help", NULL)) {
		cli_usage(NULL, 1);
		return 0;
	}
	if (is(argv[1], "--version", "-V") || is(argv[1], "version", NULL)) {
		printf("allocmap %s\n", ALLOCMAP_VERSION);
		return 0;
	}
	if (is(argv[1], "run", NULL))
		return cli_run(argc - 2, argv + 2);
	if (is(argv[1], "report", NULL))
		return cli_report(argc - 2, argv + 2);
	if (is(argv[1], "snapshot", NULL))
		return cli_snapshot(argc - 2, argv + 2);
	if (argv[1][0] == '-')
		cli_error("unknown option '%s'", argv[1]);
	else
		cli_error("unknown subcommand '%s'", argv[1]);
	cli_usage(NULL, 0);
	return CLI_EXIT_FAIL;
}
