# Shared helpers for the preload integration tests (sourced, not run).
# Each test prints "ok NAME" / "FAIL NAME" per case and exits non-zero
# if any case failed.
BUILD=${BUILD:-build}
LIB=$(cd "$BUILD/lib" && pwd)/liballocmap.so
failures=0

ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
finish() { [ "$failures" -eq 0 ]; }
