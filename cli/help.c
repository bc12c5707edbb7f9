/* The help texts: `allocmap --help` and each subcommand's. They are the
 * one source of the manual page too (tools/mkman.sh turns them into
 * doc/allocmap.1; tests/preload/cli.sh checks the two agree), so keep
 * their shape: a "Usage:" block, paragraphs, and option lists of
 * "  -x, --long VALUE   text" lines.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char top_text[] =
	"Usage: allocmap run [OPTIONS] [--] COMMAND [ARG...]\n"
	"       allocmap report [OPTIONS] RUN.json\n"
	"       allocmap snapshot [OPTIONS] DIR|PID\n"
	"       allocmap --help | --version\n"
	"\n"
	"allocmap shows where a program's memory goes. `allocmap run` runs\n"
	"COMMAND with liballocmap preloaded into it and every process it starts;\n"
	"each keeps its figures (heap, resident memory, address space by kind,\n"
	"allocation sites) in a live file in a private run directory, which\n"
	"allocmap samples while the command runs and turns into a report when it\n"
	"ends: a process table, then the root process's memory, its top\n"
	"allocation sites (function, object, file:line), its timeline and what it\n"
	"left allocated at exit.\n"
	"\n"
	"Subcommands:\n"
	"  run       run a command and report on it (allocmap run --help)\n"
	"  report    render a run saved with --format json (allocmap report --help)\n"
	"  snapshot  report on the live files of a run directory, or of a process\n"
	"            still running (allocmap snapshot --help)\n"
	"\n"
	"Exit status: `allocmap run` exits with COMMAND's status, or 128+N if\n"
	"signal N killed it; 125 if allocmap itself failed (bad usage, no\n"
	"library); 126 if COMMAND cannot be executed; 127 if it is not found.\n"
	"The other subcommands exit 0, or 125 on failure.\n";

#define OUTPUT_OPTIONS                                                                                             \
	"  -o, --output PATH  write the report to PATH (\"-\": standard output); may be\n"                         \
	"                     given up to 8 times. A PATH ending in .json, .html or\n"                            \
	"                     .txt is written in that format, any other in --format's.\n"                         \
	"                     \"%p\" in PATH writes one file per process, \"%p\"\n"                               \
	"                     replaced by its pid\n"                                                              \
	"  --format FORMAT    text (the default), json (the run document of\n"                                   \
	"                     doc/report-schema.json) or html\n"                                                  \
	"  --top N            show the N first sites of each table (default 10)\n"                               \
	"  --pid PID          the full report of this process instead of the root's\n"                            \
	"  --follow NAME      the full report of each process whose command is NAME\n"                            \
	"  --all              the full report of every process\n"                                                 \
	"  -v, --verbose      also show allocmap's internal counters\n"                                           \
	"  -h, --help         show this help\n"

static const char run_text[] =
	"Usage: allocmap run [OPTIONS] [--] COMMAND [ARG...]\n"
	"\n"
	"Runs COMMAND with liballocmap preloaded, samples its processes' heap and\n"
	"resident memory while it runs (every 10 ms at first, less often as the\n"
	"run grows long), and reports when it ends. The report goes to standard\n"
	"error unless --output says otherwise, so COMMAND's output is untouched.\n"
	"Options end at \"--\" or at the first argument that is not one. An option\n"
	"that takes a value refuses one that looks like an option (give\n"
	"--output=-x to mean a file named -x).\n"
	"\n"
	"Options:\n" OUTPUT_OPTIONS
	"  --keep DIR         use DIR (created if missing, must be empty) as the run\n"
	"                     directory and keep it: its proc-PID.live files can be\n"
	"                     read again with `allocmap snapshot DIR`\n"
	"  --check            also have each process check the library's index\n"
	"                     against /proc/self/maps at exit (on standard error)\n"
	"  --leaks[=error]    check for leaks when each process exits (through\n"
	"                     exit or main's return): its live chunks classed as\n"
	"                     Valgrind's memcheck does (definitely, indirectly,\n"
	"                     possibly lost, still reachable) from a scan of its\n"
	"                     memory, in the report by allocating site. With\n"
	"                     =error, exit 23 instead of 0 when a process had\n"
	"                     definitely lost bytes (not suppressed)\n"
	"  --suppressions FILE  with --leaks: lost chunks not to report, one\n"
	"                     leak:PATTERN a line (# comments), PATTERN a glob\n"
	"                     (* and ?) on the site's function or its object's\n"
	"                     path; checked before COMMAND runs\n"
	"  --stack N          record up to N frames (1 to 64) of each allocation's\n"
	"                     call stack, unwound in the process (DWARF CFI, else\n"
	"                     frame pointers). Each site is then a stack: the\n"
	"                     report names its first frame outside allocation\n"
	"                     wrappers (xmalloc, g_malloc, ...: names with malloc,\n"
	"                     calloc, realloc, strdup, memdup or ending in _alloc;\n"
	"                     C++'s std::allocator)\n"
	"                     and lists its frames; the HTML page adds a flame\n"
	"                     graph. Costs time on every allocation\n"
	"\n"
	"A process killed by a signal whose action was the default (SIGSEGV,\n"
	"SIGABRT, SIGTERM, SIGPIPE, Ctrl-C...) still reports, and ends by that\n"
	"signal as it would have. A process that leaves no figures is named\n"
	"with the reason: a statically linked COMMAND (said before it runs), a\n"
	"program killed by SIGKILL, one that exec'd a statically linked program.\n"
	"\n"
	"Environment:\n"
	"  ALLOCMAP_LIB       the library to preload (default: ../lib/liballocmap.so\n"
	"                     relative to this program)\n"
	"  LD_PRELOAD         kept; the library is put first\n"
	"  TMPDIR             where the run directory is made (default /tmp)\n"
	"  ALLOCMAP_RUN_DIR   set for COMMAND: the run directory\n"
	"  ALLOCMAP_LEAKS     set to 1 for COMMAND with --leaks\n"
	"  ALLOCMAP_SUPPRESSIONS  set for COMMAND with --suppressions (absolute)\n"
	"  ALLOCMAP_STACK     set to N for COMMAND with --stack N\n"
	"\n"
	"Exit status: COMMAND's, or 128+N if signal N killed it; 125 if allocmap\n"
	"itself failed; 126 if COMMAND cannot be executed; 127 if it is not found.\n"
	"With --leaks=error: 23 (LeakSanitizer's) if COMMAND exited 0 and a\n"
	"process of the run had definitely lost bytes; a non-zero status of\n"
	"COMMAND's is kept (memcheck's --error-exitcode would replace it).\n"
	"SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to allocmap are passed on to\n"
	"COMMAND.\n";

static const char report_text[] =
	"Usage: allocmap report [OPTIONS] RUN.json\n"
	"\n"
	"Renders a run saved with `allocmap run --format json` (or -o FILE.json)\n"
	"again, in any format, without running anything. The report goes to\n"
	"standard output unless --output says otherwise.\n"
	"\n"
	"Options:\n" OUTPUT_OPTIONS;

static const char snapshot_text[] =
	"Usage: allocmap snapshot [OPTIONS] DIR|PID\n"
	"\n"
	"Reports on the live files in DIR (a run directory kept with --keep), or\n"
	"on process PID, still running under allocmap (its live file is found\n"
	"through its ALLOCMAP_RUN_DIR). The figures are those of the moment: a\n"
	"running program is not stopped. The report goes to standard output\n"
	"unless --output says otherwise.\n"
	"\n"
	"Options:\n" OUTPUT_OPTIONS;

void cli_usage(const char *sub, int full)
{
	const char *text = !sub			       ? top_text
			   : strcmp(sub, "run") == 0    ? run_text
			   : strcmp(sub, "report") == 0 ? report_text
							: snapshot_text;
	if (full)
		fputs(text, stdout);
	else
		fprintf(stderr, "Try 'allocmap %s%s--help' for more information.\n", sub ? sub : "", sub ? " " : "");
}
