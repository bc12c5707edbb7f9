#!/usr/bin/env bash
# The allocmap command: `allocmap run` leaves the program's output alone,
# reports on stderr (or to -o files, in several formats, one per process
# with %p), works in a private run directory it removes (or keeps), keeps
# the child's exit status, passes signals on, says when a command is
# statically linked; bad usage gets a clear message and status 125
# (126/127 for a command that cannot be executed / is not found); the
# help texts are complete and the manual page is made from them.
# (The library's own exit summary: summary.sh; the report's content on
# known live files: report.sh.)
. "$(dirname "$0")/lib.sh"
AM=$(cd "$BUILD/bin" && pwd)/allocmap
FIX=$(cd "$BUILD/tests" && pwd)/live_fixture
SRC=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(sed -n 's/^#define ALLOCMAP_VERSION "\(.*\)"$/\1/p' "$SRC/include/allocmap.h")
enter_work_dir

count() { grep -c -- "$1" "$2"; }

valid() { python3 "$SRC/tests/cli/validate.py" "$SRC/doc/report-schema.json" "$@" >/dev/null; }

# ---- ls / under the command: stdout unchanged, report on stderr -----------
ls / >plain.out 2>plain.err
"$AM" run -- ls / >run.out 2>run.err
rc=$?
check "ls: exit status 0" [ $rc -eq 0 ]
check "ls: stdout unchanged" cmp -s plain.out run.out
check "ls: one report on stderr" [ "$(count "^allocmap $VERSION report: ls / (exit status 0)$" run.err)" -eq 1 ]
check "ls: the root process's report" grep -q '^== pid [0-9]* (parent [0-9]*): ls /' run.err

# ---- -o FILE, several outputs, formats by extension -------------------------
"$AM" run -o rep.txt -- ls / >run2.out 2>run2.err
check "-o: stdout unchanged" cmp -s plain.out run2.out
check "-o: stderr unchanged" cmp -s plain.err run2.err
check "-o: file has the report" grep -q "^allocmap $VERSION report: ls /" rep.txt
"$AM" run -o r.json --output=r2.txt -o r3.out --format json -- true
check "two outputs: .json is JSON" valid r.json
check "two outputs: .txt is text" grep -q "^allocmap $VERSION report: true" r2.txt
check "--format for an output without a known extension" valid r3.out
"$AM" run --format json -- true 2>stderr.json
check "--format json to stderr" valid stderr.json
"$AM" run -o - -- true >stdout.txt 2>/dev/null
check "-o - is standard output" grep -q "report: true" stdout.txt
"$AM" run -o 'per.%p.txt' -- "$FIX" child -f 2 -s 4
n=0 good=0
for f in per.*.txt; do
	n=$((n + 1))
	pid=${f#per.}; pid=${pid%.txt}
	grep -q "^== pid $pid " "$f" && [ "$(count '^== pid' "$f")" -eq 1 ] && good=$((good + 1))
done
check "%p: one file per process (got $n)" [ "$n" -eq 3 ]
check "%p: each file is its own process's report" [ "$good" -eq 3 ]

# ---- the run directory --------------------------------------------------------
v=$("$AM" run -o /dev/null -- sh -c 'echo "$ALLOCMAP_RUN_DIR"; stat -c %a "$ALLOCMAP_RUN_DIR"')
dir=$(echo "$v" | head -1)
check "run dir: absolute, under TMPDIR" [ "${dir#"${TMPDIR:-/tmp}"/allocmap-}" != "$dir" ]
check "run dir: mode 0700" [ "$(echo "$v" | tail -1)" = 700 ]
check "run dir: removed after the run" [ ! -e "$dir" ]
v=$(TMPDIR=$work "$AM" run -o /dev/null -- printenv ALLOCMAP_RUN_DIR)
check "run dir: made in \$TMPDIR" [ "${v#"$work"/allocmap-}" != "$v" ]
"$AM" run --keep kept -o /dev/null -- "$FIX" child -s 2
check "--keep: the live file stays" sh -c 'ls kept/proc-*.live >/dev/null'
check "--keep: snapshot reads it again" sh -c '"$0" snapshot kept | grep -q "^== pid [0-9]*.*live_fixture child"' "$AM"

# ---- a statically linked command --------------------------------------------
printf '#include <unistd.h>\nint main(void) { usleep(100000); return 5; }\n' >static.c
if cc -static -o static static.c 2>/dev/null; then
	"$AM" run -- ./static >/dev/null 2>static.err
	rc=$?
	check "static: said up front" grep -q "allocmap: ./static is statically linked" static.err
	check "static: said in the report" grep -q "^ended: exit 5; statically linked" static.err
	check "static: exit status kept" [ $rc -eq 5 ]
	"$AM" run -- sh -c './static; true' >/dev/null 2>static2.err
	check "static: exec'd by a child, named" grep -q "^  [0-9]*: exec'd a statically linked program ($work/static)" static2.err
else
	ok "static: (no static libc; skipped)"
fi

# ---- --check ----------------------------------------------------------------
v=$("$AM" run --check -o /dev/null -- printenv ALLOCMAP_CHECK_AT_EXIT)
check "--check: asks the library to check at exit" [ "$v" = 1 ]

# ---- environment ------------------------------------------------------------
other=$(ldconfig -p 2>/dev/null | sed -n 's/.*libm\.so\.6.*=> \(.*\)/\1/p' | head -1)
other=${other:-/lib/x86_64-linux-gnu/libm.so.6}
lib=$(readlink -f "$LIB")
v=$(LD_PRELOAD=$other "$AM" run -o /dev/null -- printenv LD_PRELOAD)
check "LD_PRELOAD: library first, old value kept" [ "$v" = "$lib:$other" ]
v=$(LD_PRELOAD=$lib "$AM" run -o /dev/null -- printenv LD_PRELOAD)
check "LD_PRELOAD: not added twice" [ "$v" = "$lib" ]
v=$(ALLOCMAP_LIB=$lib "$AM" run -o /dev/null -- printenv LD_PRELOAD 2>/dev/null)
check "ALLOCMAP_LIB is honoured" [ "$v" = "$lib" ]

# ---- exit status and signals ----------------------------------------------
status() { "$AM" run -o /dev/null -- "$@" >/dev/null 2>&1; echo $?; }
check "status: false -> 1" [ "$(status false)" -eq 1 ]
check "status: exit 3 -> 3" [ "$(status sh -c 'exit 3')" -eq 3 ]
check "status: exit 42 -> 42" [ "$(status sh -c 'exit 42')" -eq 42 ]
check "status: killed by SIGTERM -> 143" [ "$(status sh -c 'kill -TERM $$')" -eq 143 ]
check "status: killed by SIGKILL -> 137" [ "$(status sh -c 'kill -KILL $$')" -eq 137 ]
"$AM" run -- sh -c 'kill -KILL $$' 2>kill.err
check "SIGKILL: the report says so" grep -q '^ended: SIGKILL; killed by SIGKILL' kill.err
mkdir gone
check "status kept when the report cannot be written" [ "$("$AM" run -o gone/r.txt -- sh -c 'rm -r gone; exit 7' 2>/dev/null; echo $?)" -eq 7 ]

signalled() { # signal: allocmap run -- sleep, signalled; prints its status
	# perl restores the default action of SIGINT, which a non-interactive
	# shell ignores in background jobs, then becomes allocmap.
	perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV' "$AM" run -o /dev/null -- sleep 20 &
	local pid=$! i
	for i in $(seq 100); do # until allocmap has started its child
		[ -n "$(ps -o pid= --ppid "$pid")" ] && break
		sleep 0.05
	done
	kill "-$1" "$pid"
	wait "$pid"
	echo $?
}
start=$SECONDS
check "SIGTERM to allocmap reaches the child -> 143" [ "$(signalled TERM)" -eq 143 ]
check "SIGINT to allocmap reaches the child -> 130" [ "$(signalled INT)" -eq 130 ]
check "signalled children end at once" [ $((SECONDS - start)) -lt 10 ]

# ---- usage and errors -----------------------------------------------------
err() { # expected-status expected-message args... (env from the caller)
	local want=$1 msg=$2; shift 2
	local out rc
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq "$want" ] && grep -q -- "$msg" <<<"$out"; then return 0; fi
	echo "  status $rc, stderr: $out"
	return 1
}
check "--version" [ "$("$AM" --version)" = "allocmap $VERSION" ]
check "no subcommand" err 125 "no subcommand" "$AM"
check "unknown subcommand" err 125 "unknown subcommand 'frob'" "$AM" frob
check "unknown top-level option" err 125 "unknown option '--frob'" "$AM" --frob
check "missing command" err 125 "no command given" "$AM" run
check "missing command after --" err 125 "no command given" "$AM" run --check --
check "unknown run option" err 125 "unknown option '--bogus'" "$AM" run --bogus ls
check "-o without a value" err 125 "option '--output' needs a value$" "$AM" run -o
check "-o refuses --" err 125 "option '--output' needs a value, not '--'" "$AM" run -o -- true
check "-o -- writes no file named --" [ ! -e -- ]
check "--output refuses an option" err 125 "needs a value, not '--all'" "$AM" run --output --all -- true
check "--keep refuses --" err 125 "option '--keep' needs a value, not '--'" "$AM" run --keep -- true
check "--format refuses --" err 125 "option '--format' needs a value, not '--'" "$AM" report --format -- x.json
check "--output=-x is a value" sh -c '"$0" run --output=-x -- true && test -s ./-x' "$AM"
check "--top 0" err 125 "option '--top' needs a positive number, not '0'" "$AM" run --top 0 -- true
check "--top x" err 125 "needs a positive number, not 'x'" "$AM" report --top x r.json
check "--pid -3" err 125 "option '--pid' needs a value, not '-3'" "$AM" run --pid -3 -- true
check "unknown format" err 125 "unknown format 'xml' (text, json or html)" "$AM" run --format xml -- true
check "--all takes no value" err 125 "option '--all' takes no value" "$AM" run --all=1 -- true
check "--keep a non-empty directory" err 125 "--keep $work: not an empty directory" "$AM" run --keep "$work" -- true
check "output directory missing" err 125 "cannot write the report /no/such/dir/r" "$AM" run -o /no/such/dir/r -- true
check "command not found -> 127" err 127 "cannot run 'no-such-command-xyz'" "$AM" run -- no-such-command-xyz
touch notexec
check "command not executable -> 126" err 126 "cannot run './notexec': Permission denied" "$AM" run -- ./notexec
check "library not found" err 125 "cannot use the library ALLOCMAP_LIB=/no/such/lib.so" \
	env ALLOCMAP_LIB=/no/such/lib.so "$AM" run true
check "library not ELF" err 125 "not an ELF shared object" env ALLOCMAP_LIB=/etc/passwd "$AM" run true
mkdir -p inst/bin
cp "$AM" inst/bin/
check "library looked for in ../lib beside the executable" err 125 "$work/inst/bin/../lib/liballocmap.so" \
	inst/bin/allocmap run true
check "report: missing operand" err 125 "report: what to report on is missing" "$AM" report
check "report: no such file" err 125 "no-such.json" "$AM" report no-such.json
echo '{"schema_version": 99, "processes": []}' >v99.json
check "report: another schema version" err 125 "schema_version 99, this allocmap reads 1" "$AM" report v99.json
"$AM" report -o x.html r.json
check "report: html by the .html suffix, a whole page" sh -c 'head -1 x.html | grep -qx "<!DOCTYPE html>" && tail -1 x.html | grep -qx "</html>"'
check "snapshot: no such directory" err 125 "snapshot: /no/such: No such file or directory" "$AM" snapshot /no/such
check "snapshot: a process not under allocmap" err 125 "was not started by allocmap run" "$AM" snapshot $$

# ---- help and the manual page ------------------------------------------------
check "--help names every subcommand" sh -c '"$0" --help | grep -q "allocmap run" && "$0" --help | grep -q "allocmap report" && "$0" --help | grep -q "allocmap snapshot"' "$AM"
for opt in --output --format --top --pid --follow --all --verbose --keep --check --help; do
	check "run --help: $opt" sh -c '"$0" run --help | grep -q -- "$1"' "$AM" "$opt"
done
for opt in --output --format --top --pid --follow --all --verbose --help; do
	check "report --help: $opt" sh -c '"$0" report --help | grep -q -- "$1"' "$AM" "$opt"
done
check "snapshot --help" sh -c '"$0" snapshot --help | grep -q "^Usage: allocmap snapshot"' "$AM"
python3 "$SRC/tools/mkman.py" "$AM" >allocmap.1
check "doc/allocmap.1 is made from the help texts (make man)" cmp -s allocmap.1 "$SRC/doc/allocmap.1"
if command -v man >/dev/null; then
	check "the manual page renders" sh -c 'man -l "$0" 2>&1 | grep -q "ALLOCMAP RUN"' allocmap.1
fi
check "make install installs the manual page" sh -c 'cd "$0" && make -s install BUILD="$2" DESTDIR="$1/inst" PREFIX=/usr >/dev/null 2>&1 && test -f "$1/inst/usr/share/man/man1/allocmap.1"' "$SRC" "$work" "$(dirname "$(dirname "$AM")")"
finish
