#!/bin/sh
# Runs every benchmark in turn; each prints its own table. A failing
# benchmark is reported and the others still run; the exit status is 1 if
# any failed. To add a benchmark: build it as bench/NAME.c (the Makefile
# builds every bench/*.c into $BUILD/bench/NAME) and add a `step` line.
set -u
BUILD=${BUILD:-build}
status=0

step() { # name [args...]
	name=$1
	shift
	echo "== $name $*"
	if ! "$BUILD/bench/$name" "$@"; then
		echo "== $name: FAILED" >&2
		status=1
	fi
	echo
}

step palloc_bench # private allocator tiers vs glibc malloc

exit $status
