#!/usr/bin/env bash
# The malloc family's observable semantics (prog_mallocsem) are the same
# with and without the library: each configuration runs the program
# without allocmap, then under LD_PRELOAD with ALLOCMAP_CHECK_AT_EXIT=1;
# the outputs and exit codes must be identical and the check at exit
# clean. Another malloc (malloc_debug, jemalloc, tcmalloc) is preloaded
# after allocmap and compared with itself alone.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_mallocsem
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
libdir=/usr/lib/x86_64-linux-gnu

# run_case NAME ENV PRELOAD_AFTER [ARGS...]: ENV (VAR=value words) for both
# runs; PRELOAD_AFTER, if not empty, is preloaded alone natively and after
# allocmap under the library.
run_case() {
	local name=$1 env=$2 after=$3
	shift 3
	local native=${after:+LD_PRELOAD=$after}
	env $env $native timeout 60 "$prog" "$@" >"$work/native" 2>"$work/native.err"
	local rn=$?
	env $env LD_PRELOAD="$LIB${after:+:$after}" ALLOCMAP_CHECK_AT_EXIT=1 timeout 60 "$prog" "$@" \
		>"$work/preload" 2>"$work/preload.err"
	local rp=$?
	if [ $rn -eq $rp ] && cmp -s "$work/native" "$work/preload" && ! grep -q discrepanc "$work/preload.err" &&
		[ "$(tail -1 "$work/native")" = end ]; then
		ok "$name"
	else
		fail "$name (exit $rn vs $rp)"
		diff "$work/native" "$work/preload" | head -20
		grep discrepanc -B5 "$work/preload.err" | head -10
	fi
}

run_case glibc "" "" glibc-direct
run_case "glibc MALLOC_PERTURB_" "MALLOC_PERTURB_=165" "" glibc-direct
run_case "glibc tunables" "GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.mmap_threshold=4096" "" glibc-direct
for other in libc_malloc_debug.so.0 libjemalloc.so.2 libtcmalloc_minimal.so.4; do
	if [ ! -e "$libdir/$other" ]; then
		echo "skip $other (not installed)"
		continue
	fi
	case $other in
	libc_malloc_debug*) run_case "$other MALLOC_CHECK_=3" MALLOC_CHECK_=3 "$libdir/$other" no-glibc-extras ;;
	libjemalloc*) run_case "$other" "" "$libdir/$other" no-glibc-extras ;;
	libtcmalloc*) run_case "$other" "" "$libdir/$other" pow2-aligns no-pvalloc-overflow ;;
	esac
done
# switched off: everything is forwarded as it stands
env LD_PRELOAD="$LIB" ALLOCMAP_DISABLE=1 timeout 60 "$prog" glibc-direct >"$work/preload" 2>&1
"$prog" glibc-direct >"$work/native" 2>&1
if cmp -s "$work/native" "$work/preload"; then ok "ALLOCMAP_DISABLE=1"; else
	fail "ALLOCMAP_DISABLE=1"
	diff "$work/native" "$work/preload" | head -20
fi
finish
