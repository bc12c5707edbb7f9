#!/usr/bin/env bash
# The malloc family's observable semantics (prog_mallocsem) are the same
# with and without the library: each configuration runs the program
# without allocmap, then under LD_PRELOAD with ALLOCMAP_CHECK_AT_EXIT=1;
# the outputs and exit codes must be identical and the check at exit
# clean. Another malloc (malloc_debug, jemalloc, tcmalloc) is preloaded
# after allocmap and compared with itself alone (the flags: prog_mallocsem.c).
# Switched off (ALLOCMAP_DISABLE=1), the library forwards every call.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_mallocsem
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
libdir=/usr/lib/x86_64-linux-gnu
debug=$libdir/libc_malloc_debug.so.0

# run_case NAME ENV AFTER LIBENV [ARGS...]: ENV (VAR=value words) for both
# runs, LIBENV for the one under the library; AFTER, if not empty, is
# preloaded alone natively and after allocmap under the library.
run_case() {
	local name=$1 env=$2 after=$3 libenv=$4
	shift 4
	local native=${after:+LD_PRELOAD=$after}
	env $env $native timeout 60 "$prog" "$@" >"$work/native" 2>"$work/native.err"
	local rn=$?
	env $env LD_PRELOAD="$LIB${after:+:$after}" $libenv timeout 60 "$prog" "$@" >"$work/preload" 2>"$work/preload.err"
	local rp=$?
	if [ $rn -eq $rp ] && cmp -s "$work/native" "$work/preload" && ! discrepant "$work/preload.err" &&
		[ "$(tail -1 "$work/native")" = end ]; then
		ok "$name"
	else
		fail "$name (exit $rn vs $rp)"
		diff "$work/native" "$work/preload" | head -20
		grep discrepanc -B5 "$work/preload.err" | head -10
	fi
}

check=ALLOCMAP_CHECK_AT_EXIT=1
run_case glibc "" "" $check glibc-direct
run_case "glibc MALLOC_PERTURB_" "MALLOC_PERTURB_=165" "" $check glibc-direct
run_case "glibc tunables" "GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.mmap_threshold=4096" "" $check \
	glibc-direct
run_case "glibc, allocmap off" "" "" ALLOCMAP_DISABLE=1 glibc-direct
for other in libc_malloc_debug.so.0 libjemalloc.so.2 libtcmalloc_minimal.so.4; do
	if [ ! -e "$libdir/$other" ]; then
		echo "skip $other (not installed)"
		continue
	fi
	case $other in
	libc_malloc_debug*) # glibc's malloc behind a wrapper (mtrace's home); with MALLOC_CHECK_=3, its checks
		run_case "$other" "" "$debug" $check no-glibc-extras glibc-direct
		run_case "$other, allocmap off" "" "$debug" ALLOCMAP_DISABLE=1 no-glibc-extras glibc-direct
		run_case "$other MALLOC_CHECK_=3" MALLOC_CHECK_=3 "$debug" $check no-glibc-extras
		;;
	libjemalloc*) run_case "$other" "" "$libdir/$other" $check no-glibc-extras ;;
	libtcmalloc*) run_case "$other" "" "$libdir/$other" $check pow2-aligns no-pvalloc-overflow ;;
	esac
done
finish
