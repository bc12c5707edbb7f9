#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed".
#   unit tests (cmocka), plain and under ASan+UBSan and valgrind memcheck;
#   preload integration tests (tests/preload/*.sh), counted by the
#   "ok NAME" / "FAIL NAME" lines each prints.
# Logs go to $BUILD/test-logs/. Set ALLOCMAP_SKIP_VALGRIND=1 to skip memcheck.
set -u
BUILD=${BUILD:-build}
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
passed=0 failed=0

# Adds the cmocka case counts of one log; a crash without a summary is a failure.
tally() { # name log rc
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -1)
	p=${p:-0} f=${f:-0}
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" -ne 0 ]; then echo "FAIL $1 (see $2)"; tail -20 "$2"; else echo "ok   $1 ($p cases)"; fi
}

run_unit() { # label bin [wrapper...]
	local label=$1 bin=$2; shift 2
	local log=$LOGS/$label-$(basename "$bin").log
	"$@" "$bin" >"$log" 2>&1
	tally "$label $(basename "$bin")" "$log" $?
}

# Unit test binaries of a build directory (not the compiler's .d files).
unit_bins() { for t in "$1"/test_*; do case $t in *.d) ;; *) [ -x "$t" ] && echo "$t" ;; esac; done; }

for t in $(unit_bins "$BUILD/tests"); do run_unit unit "$t"; done
for t in $(unit_bins "$BUILD/asan/tests"); do
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run_unit asan "$t"
done
if [ "${ALLOCMAP_SKIP_VALGRIND:-0}" != 1 ]; then
	for t in $(unit_bins "$BUILD/tests"); do
		ALLOCMAP_TEST_SCALE=0.02 run_unit valgrind "$t" \
			valgrind -q --error-exitcode=99 --leak-check=no --fair-sched=yes
	done
fi
for t in tests/preload/*.sh; do
	case $t in */lib.sh) continue ;; esac # sourced by the others
	log=$LOGS/preload-$(basename "$t" .sh).log
	BUILD=$BUILD bash "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log") f=$(grep -c '^FAIL ' "$log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # died without saying which case
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL preload $(basename "$t") ($f of $((p + f)) cases; see $log)"; grep '^FAIL' "$log"; tail -5 "$log"
	else
		echo "ok   preload $(basename "$t") ($p cases)"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
