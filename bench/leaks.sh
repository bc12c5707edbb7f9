#!/bin/sh
# The leak scan's cost (bench/RESULTS.md, "Leak check"): prog_leakbench's
# heap of N chunks (default 1,000,000; 1% definitely lost, 9.9% indirectly)
# and optionally G 4 KiB chunks more (a GiB heap: G=262144), timed
#   native            without the library
#   allocmap          preloaded, no scan
#   allocmap+leaks    preloaded, ALLOCMAP_LEAKS=1 (the scan's own time is
#                     read from the .leaks file: scan_ns)
#   memcheck          valgrind --leak-check=full (its whole run; the leak
#                     check is its last part: the run with --leak-check=no
#                     is timed too)
# Each the median of R runs (default 3; memcheck once). usage: leaks.sh [N [G [R]]]
set -u
BUILD=${BUILD:-build}
N=${1:-1000000} G=${2:-0} R=${3:-3}
prog=$BUILD/tests/prog_leakbench
LIB=$(cd "$BUILD/lib" && pwd)/liballocmap.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.1f", ns / 1e6}'; }

time_runs() { # label cmd...: prints the median wall time in ns
	label=$1
	shift
	for i in $(seq "$R"); do
		t0=$(now)
		"$@" >/dev/null 2>&1
		echo $(($(now) - t0))
	done | median
}

native=$(time_runs native "$prog" "$N" "$G")
plain=$(time_runs allocmap env LD_PRELOAD="$LIB" "$prog" "$N" "$G")
scans=""
for i in $(seq "$R"); do
	rm -rf "$tmp/run" && mkdir -m 700 "$tmp/run"
	t0=$(now)
	ALLOCMAP_LEAKS=1 ALLOCMAP_RUN_DIR=$tmp/run env LD_PRELOAD="$LIB" "$prog" "$N" "$G" >/dev/null 2>&1
	t=$(($(now) - t0))
	s=$(sed -n 's/^scan .*scan_ns \([0-9]*\).*/\1/p' "$tmp"/run/proc-*.leaks)
	echo "$t $s" >>"$tmp/leaks"
done
leaks=$(cut -d' ' -f1 "$tmp/leaks" | median)
scan=$(cut -d' ' -f2 "$tmp/leaks" | median)
chunks=$(sed -n 's/^scan chunks \([0-9]*\).*/\1/p' "$tmp"/run/proc-*.leaks)
t0=$(now)
valgrind --leak-check=no --log-file="$tmp/vg0" "$prog" "$N" "$G" >/dev/null 2>&1
vg0=$(($(now) - t0))
t0=$(now)
valgrind --leak-check=full --log-file="$tmp/vg" "$prog" "$N" "$G" >/dev/null 2>&1
vg=$(($(now) - t0))
echo "heap: $chunks chunks ($N small, $G of 4 KiB)"
printf '%-16s %10s ms\n' native "$(ms "$native")" allocmap "$(ms "$plain")" allocmap+leaks "$(ms "$leaks")" \
	"  of which scan" "$(ms "$scan")" memcheck "$(ms "$vg")" "  without leak check" "$(ms "$vg0")"
awk -v s="$scan" -v c="$chunks" -v v="$vg" -v v0="$vg0" \
	'BEGIN {printf "scan: %.0f ns per chunk; memcheck'"'"'s leak check about %.0f ms (the difference)\n", s / c, (v - v0) / 1e6}'
grep -A2 "LEAK SUMMARY" "$tmp/vg" | tail -2 | sed 's/^==[0-9]*== */memcheck: /'
grep '^totals' "$tmp"/run/proc-*.leaks | sed 's/^/allocmap: /'
