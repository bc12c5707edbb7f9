# How the test run counts (sourced by tests/run-all.sh, and by
# tests/runner/selftest.sh, which feeds it fakes that must not pass).
# Nothing passes without proving it:
#   a unit test binary (cmocka) passes only if it exits 0 and its log has
#   cmocka's summary; its cases are counted from that summary;
#   a test script passes only if it exits 0, prints no "FAIL " line and
#   prints at least one "ok " or "skip " line; each such line is a case.
# A suite that could not run (its tool is not installed) is one skipped
# case, said with its name. Counters: passed, failed, skipped (cases).
# Logs go to $LOGS.
passed=0 failed=0 skipped=0

# The N of cmocka's "[  WORD  ] N test(s)" line in a log, or nothing.
cmocka_count() { # WORD log
	sed -n "s/^\[  $1 *\] \([0-9][0-9]*\) test(s).*/\1/p" "$2" | tail -1
}

# How a command that exited with status rc ended, in words.
exit_words() { # rc
	if [ "$1" -gt 128 ]; then echo "killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"; else echo "exit $1"; fi
}

# "N cases" or "N cases, M skipped".
cases() { # passed skipped
	if [ "$2" -eq 0 ]; then echo "$1 cases"; else echo "$1 cases, $2 skipped"; fi
}

# Counts one unit test binary's run from its log and its exit status.
unit_result() { # name log rc
	local name=$1 log=$2 rc=$3 p f s why=
	p=$(cmocka_count PASSED "$log") f=$(cmocka_count FAILED "$log") s=$(cmocka_count SKIPPED "$log")
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -ne 0 ]; then
		why=$(exit_words "$rc")
	elif ! grep -q '^\[  \(PASSED\|FAILED\)  \] [0-9]' "$log"; then
		why="exit 0 without cmocka's summary"
	elif [ "$f" -ne 0 ]; then
		why="exit 0 with $f cmocka failures"
	elif [ $((p + s)) -eq 0 ]; then
		why="no case ran"
	fi
	passed=$((passed + p)) skipped=$((skipped + s))
	if [ -n "$why" ]; then
		failed=$((failed + (f > 0 ? f : 1)))
		echo "FAIL $name ($why; see $log)"
		tail -20 "$log"
	elif [ "$p" -eq 0 ]; then
		echo "skip $name (all $s cases skipped)"
	else
		echo "ok   $name ($(cases "$p" "$s"))"
	fi
}

# Counts one test script's run from its log and its exit status.
script_result() { # name log rc
	local name=$1 log=$2 rc=$3 p f s why=
	p=$(grep -c '^ok ' "$log") f=$(grep -c '^FAIL ' "$log") s=$(grep -c '^skip ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		why="$(exit_words "$rc") without a FAIL line"
	elif [ $((p + f + s)) -eq 0 ]; then
		why="no ok, FAIL or skip line"
	fi
	[ -n "$why" ] && f=1
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name (${why:-$f of $((p + f)) cases}; see $log)"
		grep '^FAIL' "$log"
		tail -5 "$log"
	elif [ "$p" -eq 0 ]; then
		echo "skip $name (all $s cases skipped)"
	else
		echo "ok   $name ($(cases "$p" "$s"))"
	fi
	grep '^skip ' "$log" | sed "s|^skip |     skipped in $name: |"
}

# A suite that could not run: one skipped case.
skip_suite() { # name why
	skipped=$((skipped + 1))
	echo "skip $1 ($2)"
}

# Unit test binaries of a build directory (not the compiler's .d files).
unit_bins() { # dir
	local t
	for t in "$1"/test_*; do case $t in *.d) ;; *) [ -x "$t" ] && echo "$t" ;; esac; done
}

run_unit() { # label bin [wrapper...]
	local label=$1 bin=$2 rc
	shift 2
	local log=$LOGS/$label-$(basename "$bin").log
	"$@" "$bin" >"$log" 2>&1
	rc=$?
	unit_result "$label $(basename "$bin")" "$log" "$rc"
}

# Every unit test binary of dir; none at all is a failure (nothing built).
run_units() { # label dir [wrapper...]
	local label=$1 dir=$2 t n=0
	shift 2
	for t in $(unit_bins "$dir"); do
		run_unit "$label" "$t" "$@"
		n=$((n + 1))
	done
	if [ "$n" -eq 0 ]; then
		failed=$((failed + 1))
		echo "FAIL $label (no test_* binaries in $dir: run make tests)"
	fi
}

# The unit tests under valgrind memcheck, or each said skipped.
run_valgrind() { # dir
	local why= t
	if [ "${ALLOCMAP_SKIP_VALGRIND:-}" = 1 ]; then
		why="by request: ALLOCMAP_SKIP_VALGRIND=1"
	elif ! command -v valgrind >/dev/null; then
		why="valgrind is not installed"
	fi
	if [ -z "$why" ]; then
		ALLOCMAP_TEST_SCALE=0.02 run_units valgrind "$1" \
			valgrind -q --error-exitcode=99 --leak-check=no --fair-sched=yes
		return
	fi
	for t in $(unit_bins "$1"); do skip_suite "valgrind $(basename "$t")" "$why"; done
}

run_script() { # label script
	local log=$LOGS/$1-$(basename "$2" .sh).log rc
	BUILD=$BUILD bash "$2" >"$log" 2>&1
	rc=$?
	script_result "$1 $(basename "$2")" "$log" "$rc"
}

# The last line of a run; its status is the run's.
summary() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}
