#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed, N skipped":
#   unit tests (cmocka), plain and under ASan+UBSan and valgrind memcheck;
#   preload integration tests (tests/preload/*.sh) and the runner's own
#   self-tests (tests/runner/*.sh), counted by the "ok NAME" / "FAIL NAME" /
#   "skip NAME" lines each prints.
# How each is counted: tests/runner/tally.sh. Logs go to $BUILD/test-logs/.
# ALLOCMAP_SKIP_VALGRIND=1 skips memcheck (its suites are said skipped).
set -u
BUILD=${BUILD:-build}
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
. "$(dirname "$0")/runner/tally.sh"

run_units unit "$BUILD/tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_units asan "$BUILD/asan/tests"
run_valgrind "$BUILD/tests"
for t in tests/preload/*.sh tests/runner/*.sh; do
	case $t in */lib.sh | */tally.sh) continue ;; esac # sourced by the others
	run_script "$(basename "$(dirname "$t")")" "$t"
done
summary
