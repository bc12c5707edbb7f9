#!/usr/bin/env bash
# Bad values of the library's environment variables: the program runs as
# without them (same output, same exit status), and the library says once
# what is wrong and what it uses instead. Once a process image under a
# plain LD_PRELOAD; once a run under allocmap run, however many processes
# and exec'd programs the run has (src/options.c: am_env_bad).
. "$(dirname "$0")/lib.sh"
CLI=$BUILD/bin/allocmap
err=$(mktemp)
trap 'rm -f "$err"' EXIT

# case_one VAR=VALUE SAYS: one process under LD_PRELOAD.
case_one() {
	local out rc
	out=$(env "$1" LD_PRELOAD="$LIB" bash -c 'echo hi; exit 3' 2>"$err") # exit(), not dash's _exit: the at-exit variables are read
	rc=$?
	if [ "$out" = hi ] && [ $rc -eq 3 ] && [ "$(grep -c "${1%%=*}" "$err")" -eq 1 ] && grep -qF "$2" "$err"; then
		ok "$1: runs as without, says it once ($(head -1 "$err"))"
	else
		fail "$1: out '$out' status $rc"; cat "$err"
	fi
}

case_one ALLOCMAP_MAX_SEQUENCES=abc 'is not a size (e.g. 4096, 64K, 32M, 1G); using 65536'
case_one ALLOCMAP_MAX_SEQUENCES=8 'is outside [64, 16777216]; using 65536'
case_one ALLOCMAP_DISABLE=maybe 'is not a boolean (1/0, yes/no, on/off, true/false); using 0'
case_one ALLOCMAP_CHECK_AT_EXIT=maybe 'is not a boolean'
case_one ALLOCMAP_LEAKS=sometimes 'is neither a boolean (1/0, yes/no, on/off, true/false) nor error; using 0'
case_one ALLOCMAP_RUN_DIR=relative/dir 'ALLOCMAP_RUN_DIR'

# A run of six processes (three shells, two children, an exec): one line.
tree='sh -c true; sh -c true; exec sh -c "echo hi; exit 3"'
for v in ALLOCMAP_MAX_SEQUENCES=abc ALLOCMAP_STACK=zz ALLOCMAP_STACK=65; do
	out=$(env "$v" "$CLI" run -o /dev/null -- sh -c "$tree" 2>"$err")
	rc=$?
	n=$(grep -c "${v%%=*}" "$err")
	if [ "$out" = hi ] && [ $rc -eq 3 ] && [ "$n" -eq 1 ]; then
		ok "allocmap run, $v over six processes: said once ($(grep "${v%%=*}" "$err"))"
	else
		fail "allocmap run, $v over six processes: out '$out' status $rc, said $n times"; cat "$err"
	fi
done
grep -q 'ALLOCMAP_STACK="65" is not a whole number from 1 to 64; using 0' "$err" ||
	fail "ALLOCMAP_STACK=65 names the range"
finish
