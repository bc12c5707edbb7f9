/* allocmap — the command-line entry point: dispatches subcommands and
 * answers --help and --version.
 *
 *   allocmap run [--check] [--report FILE] [--] COMMAND [ARG...]
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "allocmap.h"
#include "cli.h"

static const char usage_text[] =
	"Usage: allocmap run [--check] [--report FILE] [--] COMMAND [ARG...]\n"
	"       allocmap --help | --version\n"
	"\n"
	"Runs COMMAND with liballocmap preloaded, which keeps an exact index of\n"
	"every mapping of the process. At exit each process of COMMAND (its\n"
	"children included) writes a summary: the address space by allocator and\n"
	"kind, the events intercepted, what could not be indexed, and the\n"
	"library's own memory.\n"
	"\n"
	"Options of run:\n"
	"  --report FILE   write the summaries to FILE instead of stderr. A \"%p\"\n"
	"                  in FILE becomes each process's pid, so each process\n"
	"                  writes its own file; without one, FILE is emptied first\n"
	"                  and every process appends to it. \"-\" (the default)\n"
	"                  means stderr: each process then keeps a duplicate of\n"
	"                  the stderr it started with (fd 1000 or above), since\n"
	"                  programs may close fd 2 before they exit.\n"
	"  --check         also check the index against /proc/self/maps at exit\n"
	"                  and include the result\n"
	"  -h, --help      show this help\n"
	"\n"
	"Environment:\n"
	"  ALLOCMAP_LIB    the library to preload (default: ../lib/liballocmap.so\n"
	"                  relative to this program)\n"
	"  LD_PRELOAD      kept; the library is put first\n"
	"\n"
	"Exit status: COMMAND's, or 128+N if signal N killed it; 125 if allocmap\n"
	"itself failed; 126 if COMMAND cannot be executed; 127 if it is not found.\n"
	"SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to allocmap are passed on to\n"
	"COMMAND.\n";

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("allocmap: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void cli_run_usage(int full)
{
	if (full)
		fputs(usage_text, stdout);
	else
		fputs("Try 'allocmap --help' for more information.\n", stderr);
}

static int is(const char *arg, const char *a, const char *b)
{
	return strcmp(arg, a) == 0 || (b && strcmp(arg, b) == 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_error("no subcommand given");
		cli_run_usage(0);
		return CLI_EXIT_FAIL;
	}
	if (is(argv[1], "--help", "-h") || is(argv[1], "help", NULL)) {
		cli_run_usage(1);
		return 0;
	}
	if (is(argv[1], "--version", "-V") || is(argv[1], "version", NULL)) {
		printf("allocmap %s\n", ALLOCMAP_VERSION);
		return 0;
	}
	if (is(argv[1], "run", NULL))
		return cli_run(argc - 2, argv + 2);
	if (argv[1][0] == '-')
		cli_error("unknown option '%s'", argv[1]);
	else
		cli_error("unknown subcommand '%s'", argv[1]);
	cli_run_usage(0);
	return CLI_EXIT_FAIL;
}
