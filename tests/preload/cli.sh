#!/usr/bin/env bash
# The allocmap command: `allocmap run` leaves the program's output alone,
# each process writes its report (to stderr, a file, or one file per pid),
# the child's exit status comes back, signals reach the child, and bad
# usage gets a clear message and status 125 (126/127 for a command that
# cannot be executed / is not found).
. "$(dirname "$0")/lib.sh"
AM=$(cd "$BUILD/bin" && pwd)/allocmap
VERSION=$(sed -n 's/^#define ALLOCMAP_VERSION "\(.*\)"$/\1/p' "$(dirname "$0")/../../include/allocmap.h")
work=$(cd "$(mktemp -d)" && pwd -P)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# Every section a summary has, in order.
SECTIONS='^== allocmap [0-9.]* report: pid [0-9]* (parent [0-9]*) ==$
^command: 
^address space$
^  allocator  *kind  *maps  *seqs  *bytes$
^  object  *object 
^  total  
^events intercepted$
^  mmap  *[0-9]
^not indexed
^  mapping ranges  *[0-9]
^  heap chunks  *[0-9]
^private tiers$
^  reserved  *[0-9.]* [KMG]*i*B  *[0-9.]* [KMG]*i*B$
^  live blocks  *[0-9]
^  bad frees  *0  *0$
^== end of report ==$'

has_sections() { # file
	local re
	while IFS= read -r re; do
		grep -q -- "$re" "$1" || { echo "  missing: $re"; return 1; }
	done <<<"$SECTIONS"
}

count() { grep -c -- "$1" "$2"; }

check() { # name condition...
	local name=$1; shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}

# ---- ls / under the command: stdout unchanged, report on stderr -----------
ls / >plain.out 2>plain.err
"$AM" run -- ls / >run.out 2>run.err
rc=$?
check "ls: exit status 0" [ $rc -eq 0 ]
check "ls: stdout unchanged" cmp -s plain.out run.out
check "ls: one report on stderr" [ "$(count '^== allocmap' run.err)" -eq 1 ]
check "ls: report has every section" has_sections run.err
check "ls: report names the command" grep -q '^command: ls /$' run.err
check "ls: no mapping missed" grep -q '^  mapping ranges  *0$' run.err
check "ls: no heap chunk missed" grep -q '^  heap chunks  *0$' run.err

# ---- --report FILE: stderr untouched, the file holds the report -----------
"$AM" run --report rep.txt -- ls / >run2.out 2>run2.err
check "--report: stdout unchanged" cmp -s plain.out run2.out
check "--report: stderr unchanged" cmp -s plain.err run2.err
check "--report: file has the report" has_sections rep.txt
"$AM" run --report=rep.txt -- true
check "--report=FILE: file emptied first" [ "$(count '^== allocmap' rep.txt)" -eq 1 ]

# ---- every process reports: one file per pid, or all in one file ----------
mkdir lsdir && touch lsdir/a lsdir/b
(cd lsdir && bash -c 'ls; ls') >plain2.out
(cd lsdir && "$AM" run --report "$work/per.%p" -- bash -c 'ls; ls') >run3.out 2>run3.err
check "per pid: stdout unchanged" cmp -s plain2.out run3.out
n=0 good=0
for f in per.*; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	pid=${f#per.}
	if [ "$(count '^== allocmap' "$f")" -eq 1 ] && grep -q "report: pid $pid (parent [0-9]*) ==" "$f" && has_sections "$f"; then
		good=$((good + 1))
	fi
done
check "per pid: one report per process (got $n)" [ "$n" -ge 2 ]
check "per pid: each file is its own process's report" [ "$good" -eq "$n" ]
"$AM" run --report all.txt -- bash -c 'ls >/dev/null; ls >/dev/null'
check "one file: every process appends its report" \
	[ "$(count '^== allocmap' all.txt)" -ge 2 -a "$(count '^== allocmap' all.txt)" -eq "$(count '^== end of report ==$' all.txt)" ]
mkdir sub
"$AM" run --report 'rel.%p' -- sh -c 'cd sub && ls >/dev/null'
check "relative --report is taken from allocmap's directory" sh -c '! ls sub/rel.* 2>/dev/null && ls rel.* >/dev/null 2>&1'

# ---- --check ----------------------------------------------------------------
"$AM" run --check --report chk.txt -- ls / >/dev/null
check "--check: result in the report" grep -q '^  0 discrepancies$' chk.txt
check "--check: section before the end" has_sections chk.txt

# ---- environment ------------------------------------------------------------
other=$(ldconfig -p 2>/dev/null | sed -n 's/.*libm\.so\.6.*=> \(.*\)/\1/p' | head -1)
other=${other:-/lib/x86_64-linux-gnu/libm.so.6}
lib=$(readlink -f "$LIB")
v=$(LD_PRELOAD=$other "$AM" run --report /dev/null -- printenv LD_PRELOAD)
check "LD_PRELOAD: library first, old value kept" [ "$v" = "$lib:$other" ]
v=$(LD_PRELOAD=$lib "$AM" run --report /dev/null -- printenv LD_PRELOAD)
check "LD_PRELOAD: not added twice" [ "$v" = "$lib" ]
v=$("$AM" run --report x.txt -- printenv ALLOCMAP_REPORT)
check "ALLOCMAP_REPORT is absolute" [ "$v" = "$work/x.txt" ]
v=$(ALLOCMAP_LIB=$lib "$AM" run -- printenv LD_PRELOAD 2>/dev/null)
check "ALLOCMAP_LIB is honoured" [ "$v" = "$lib" ]

# ---- exit status and signals ----------------------------------------------
status() { "$AM" run --report /dev/null -- "$@" >/dev/null 2>&1; echo $?; }
check "status: false -> 1" [ "$(status false)" -eq 1 ]
check "status: exit 42 -> 42" [ "$(status sh -c 'exit 42')" -eq 42 ]
check "status: killed by SIGTERM -> 143" [ "$(status sh -c 'kill -TERM $$')" -eq 143 ]
check "status: killed by SIGKILL -> 137" [ "$(status sh -c 'kill -KILL $$')" -eq 137 ]

signalled() { # signal: allocmap run -- sleep, signalled; prints its status
	# perl restores the default action of SIGINT, which a non-interactive
	# shell ignores in background jobs, then becomes allocmap.
	perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV' "$AM" run --report /dev/null -- sleep 20 &
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
check "--help" sh -c '"$0" --help | grep -q "allocmap run"' "$AM"
check "run --help" sh -c '"$0" run --help | grep -q -- "--report FILE"' "$AM"
check "no subcommand" err 125 "no subcommand" "$AM"
check "unknown subcommand" err 125 "unknown subcommand 'frob'" "$AM" frob
check "unknown top-level option" err 125 "unknown option '--frob'" "$AM" --frob
check "missing command" err 125 "no command given" "$AM" run
check "missing command after --" err 125 "no command given" "$AM" run --check --
check "unknown run option" err 125 "unknown option '--bogus'" "$AM" run --bogus ls
check "--report without a file" err 125 "needs a file name" "$AM" run --report
check "command not found -> 127" err 127 "cannot run 'no-such-command-xyz'" "$AM" run -- no-such-command-xyz
touch notexec
check "command not executable -> 126" err 126 "cannot run './notexec': Permission denied" "$AM" run -- ./notexec
check "library not found" err 125 "cannot use the library ALLOCMAP_LIB=/no/such/lib.so" \
	env ALLOCMAP_LIB=/no/such/lib.so "$AM" run true
check "library not ELF" err 125 "not an ELF shared object" env ALLOCMAP_LIB=/etc/passwd "$AM" run true
check "report directory missing" err 125 "cannot write the report" "$AM" run --report /no/such/dir/r -- true
check "report directory missing (%p)" err 125 "cannot write reports in /no/such/dir" \
	"$AM" run --report '/no/such/dir/r.%p' -- true
mkdir -p inst/bin
cp "$AM" inst/bin/
check "library looked for in ../lib beside the executable" err 125 "$work/inst/bin/../lib/liballocmap.so" \
	inst/bin/allocmap run true
finish
