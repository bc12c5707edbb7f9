#!/usr/bin/env bash
# The test run cannot lie: tests/runner/tally.sh is fed fake unit test
# binaries (failing, crashing, aborting, passing but exiting 99 as valgrind
# does on an error, silent) and fake test scripts, and each must be counted
# as it ended; a real unit test binary must pass. Then the package check
# that starts `make check` must stop with one line naming apt-get.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# A fake: an executable shell script NAME with BODY, in dir (made).
fake() { # dir name body
	mkdir -p "$1"
	printf '#!/bin/sh\n%s\n' "$3" >"$1/$2"
	chmod +x "$1/$2"
}

# Runs a tally.sh command in a fresh counting shell; prints its output,
# then a line "counts: PASSED FAILED SKIPPED" and "status: RC" of summary.
counted() { # command...
	(
		LOGS=$work/logs
		mkdir -p "$LOGS"
		. "$root/tests/runner/tally.sh"
		"$@" 2>&1
		echo "counts: $passed $failed $skipped"
		summary >/dev/null
		echo "status: $?"
	)
}

# NAME: the run of COMMAND is counted "P F S" and prints a line matching RE.
expect() { # name "P F S" RE command...
	local name=$1 want=$2 re=$3 out
	shift 3
	out=$(counted "$@")
	if ! grep -q "^counts: $want$" <<<"$out"; then
		fail "$name: counted '$(sed -n 's/^counts: //p' <<<"$out")', want '$want'"
		head -5 <<<"$out"
	elif ! grep -q -- "$re" <<<"$out"; then
		fail "$name: no line matching '$re' in: $(head -3 <<<"$out")"
	else
		ok "$name"
	fi
}

summary_lines='printf "[==========] 3 test(s) run.\n[  PASSED  ] 3 test(s).\n"'
u=$work/unit
fake "$u" test_pass "$summary_lines"
fake "$u" test_fail 'printf "[  PASSED  ] 2 test(s).\n[  FAILED  ] 1 test(s), listed below:\n[  FAILED  ] t\n"; exit 1'
fake "$u" test_crash 'echo "[ RUN      ] t"; kill -SEGV $$'
fake "$u" test_abort "$summary_lines; kill -ABRT \$\$"
fake "$u" test_exit99 "$summary_lines; exit 99"
fake "$u" test_silent 'exit 0'
fake "$u" test_none 'printf "[==========] 0 test(s) run.\n[  PASSED  ] 0 test(s).\n"'
fake "$u" test_skips 'printf "[  PASSED  ] 0 test(s).\n[  SKIPPED ] 2 test(s), listed below:\n"'

expect "unit: passing fake" "3 0 0" "^ok   unit test_pass (3 cases)$" run_unit unit "$u/test_pass"
expect "unit: failing" "2 1 0" "^FAIL unit test_fail (exit 1;" run_unit unit "$u/test_fail"
expect "unit: crashing (SIGSEGV)" "0 1 0" "^FAIL unit test_crash (killed by SIGSEGV;" run_unit unit "$u/test_crash"
expect "unit: PASSED, then SIGABRT (ASan)" "3 1 0" "^FAIL unit test_abort (killed by SIGABRT;" \
	run_unit unit "$u/test_abort"
expect "unit: PASSED, exit 99 (valgrind)" "3 1 0" "^FAIL unit test_exit99 (exit 99;" run_unit unit "$u/test_exit99"
expect "unit: silent, exit 0" "0 1 0" "^FAIL unit test_silent (exit 0 without cmocka's summary;" \
	run_unit unit "$u/test_silent"
expect "unit: no case ran" "0 1 0" "^FAIL unit test_none (no case ran;" run_unit unit "$u/test_none"
expect "unit: all cases skipped" "0 0 2" "^skip unit test_skips (all 2 cases skipped)$" run_unit unit "$u/test_skips"
expect "unit: a wrapper's failure counts" "3 1 0" "^FAIL valgrind test_pass (exit 1;" \
	run_unit valgrind "$u/test_pass" sh -c '"$0"; exit 1'
expect "unit: no binaries at all" "0 1 0" "^FAIL unit (no test_\* binaries" run_units unit "$work/empty"

real=$(cd "$BUILD/tests" 2>/dev/null && ls test_* 2>/dev/null | grep -v '\.d$' | head -1)
if [ -n "$real" ]; then
	expect "unit: a real passing binary ($real)" "[1-9][0-9]* 0 [0-9]*" "^ok   unit $real (" \
		run_unit unit "$BUILD/tests/$real"
else
	fail "no unit test binary in $BUILD/tests to run (make tests)"
fi

# Valgrind absent, or skipped by request: each suite said skipped.
v=$work/vg
fake "$v" test_a 'exit 1'
fake "$v" test_b 'exit 1'
mkdir -p "$work/bin"
for tool in basename sed grep tail; do ln -s "$(command -v $tool)" "$work/bin/$tool"; done
by_request() { ALLOCMAP_SKIP_VALGRIND=1 run_valgrind "$1"; }
no_valgrind() { ALLOCMAP_SKIP_VALGRIND= PATH=$work/bin run_valgrind "$1"; }
expect "valgrind skipped by request" "0 0 2" "^skip valgrind test_b (by request: ALLOCMAP_SKIP_VALGRIND=1)$" \
	by_request "$v"
expect "valgrind not installed" "0 0 2" "^skip valgrind test_a (valgrind is not installed)$" no_valgrind "$v"

s=$work/scripts
fake "$s" pass.sh 'echo "ok   a"; echo "ok   b"'
fake "$s" fail.sh 'echo "ok   a"; echo "FAIL b: why"; exit 1'
fake "$s" died.sh 'echo "ok   a"; echo "ok   b"; exit 1'
fake "$s" silent.sh 'exit 0'
fake "$s" someskip.sh 'echo "ok   a"; echo "skip libjemalloc.so.2 (not installed)"'
fake "$s" allskip.sh 'echo "skip python3 (not installed)"'
fake "$s" segv.sh 'echo "ok   a"; kill -SEGV $$'
expect "script: passing" "2 0 0" "^ok   preload pass.sh (2 cases)$" run_script preload "$s/pass.sh"
expect "script: a FAIL line" "1 1 0" "^FAIL b: why$" run_script preload "$s/fail.sh"
expect "script: exit 1, no FAIL line" "2 1 0" "^FAIL preload died.sh (exit 1 without a FAIL line;" \
	run_script preload "$s/died.sh"
expect "script: killed" "1 1 0" "^FAIL preload segv.sh (killed by SIGSEGV without a FAIL line;" \
	run_script preload "$s/segv.sh"
expect "script: silent, exit 0" "0 1 0" "^FAIL preload silent.sh (no ok, FAIL or skip line;" \
	run_script preload "$s/silent.sh"
expect "script: a case skipped, named" "1 0 1" "skipped in preload someskip.sh: libjemalloc.so.2 (not installed)$" \
	run_script preload "$s/someskip.sh"
expect "script: every case skipped" "0 0 1" "^skip preload allskip.sh (all 1 cases skipped)$" \
	run_script preload "$s/allskip.sh"

# The last line, and the run's status from it.
out=$(
	LOGS=$work/logs
	. "$root/tests/runner/tally.sh"
	passed=3 skipped=2
	summary && echo "status 0"
	failed=1
	summary || echo "status 1"
)
if [ "$out" = "$(printf '3 passed, 0 failed, 2 skipped\nstatus 0\n3 passed, 1 failed, 2 skipped\nstatus 1')" ]; then
	ok "summary line and status"
else
	fail "summary line and status: $out"
fi

# The package check at the start of `make check`: one line, naming apt-get.
printf 'libcmocka-dev /usr/include/cmocka.h\nallocmap-no-such-package /no/such/file\n' >"$work/packages"
out=$("$root/deps/deps.sh" check "$work/packages" 2>&1)
rc=$?
want="missing Debian packages; as root run: apt-get update && apt-get install -y --no-install-recommends"
if [ $rc -eq 1 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && [ "$out" = "$want allocmap-no-such-package (or: sudo make deps)" ]; then
	ok "deps check: a missing package stops it with one line"
else
	fail "deps check: exit $rc, '$out'"
fi
printf '# a comment\n\ndash /bin/sh\n' >"$work/packages"
if out=$("$root/deps/deps.sh" check "$work/packages" 2>&1) && [ -z "$out" ]; then
	ok "deps check: nothing missing, says nothing"
else
	fail "deps check with nothing missing: $out"
fi
[ "$failures" -eq 0 ]
