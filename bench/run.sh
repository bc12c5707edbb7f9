#!/bin/sh
# Runs every benchmark in turn; each prints its own table. A failing
# benchmark is reported and the others still run; the exit status is 1 if
# any failed. To add a benchmark: build it as bench/NAME.c (the Makefile
# builds every bench/*.c into $BUILD/bench/NAME) and add a `step` line, or
# write a script bench/NAME.sh and add a `script` line.
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

script() { # name.sh [args...]: a benchmark script in bench/
	name=$1
	shift
	echo "== $name $*"
	if ! BUILD=$BUILD sh "$(dirname "$0")/$name" "$@"; then
		echo "== $name: FAILED" >&2
		status=1
	fi
	echo
}

step palloc_bench # private allocator tiers vs glibc malloc

# the library, preloaded by the benchmarks below (an absolute path)
LIB=$(cd "$BUILD/lib" && pwd)/liballocmap.so
step mapcalls_bench -l "$LIB"  # mapping index: mmap/munmap, mprotect, brk per call
script overhead.sh startup     # mapping index: start-up of python3 -c pass, /bin/true
script overhead.sh workloads   # heap index: whole-program time and peak RSS
script overhead.sh foreign     # heap index for jemalloc, tcmalloc (no goal)
step query_bench -l "$LIB"     # heap index: allocmap_query latency
script leaks.sh                # leak check: the scan of 1M chunks, against memcheck

exit $status
