# Shared helpers for the preload integration tests (sourced, not run).
# Each test prints "ok NAME" / "FAIL NAME" per case, "skip NAME (why)" for
# a case that could not run, and exits non-zero if any case failed
# (tests/runner/tally.sh counts them).
BUILD=${BUILD:-build}
LIB=$(cd "$BUILD/lib" && pwd)/liballocmap.so
failures=0

ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
# ok NAME if the command succeeds, else FAIL NAME.
check() { # name command...
	local name=$1; shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}
finish() { [ "$failures" -eq 0 ]; }
# A fresh directory $work (its physical path), removed at exit, made the
# current one.
enter_work_dir() {
	work=$(cd "$(mktemp -d)" && pwd -P)
	trap 'rm -rf "$work"' EXIT
	cd "$work" || exit 1
}
# True if the stderr in file $1 reports a discrepancy: ALLOCMAP_CHECK_AT_EXIT
# also says "allocmap: 0 discrepancies" when there is none.
discrepant() { grep -v '^allocmap: 0 discrepancies$' "$1" | grep -q discrepanc; }
# True if the program is installed; else its cases are said skipped.
have() { command -v "$1" >/dev/null || { echo "skip $1 (not installed)"; return 1; }; }
