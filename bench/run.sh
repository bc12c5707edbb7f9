#!/bin/sh
# Runs every benchmark in turn; each prints its own table. A failing
# benchmark is reported and the others still run; the exit status is 1 if
# any failed. At the end, one table of the goals of issue 16 ("Speed,
# round two"), each figure read from the output above with its goal and
# met/missed (a figure that a benchmark did not print is said so). To add
# a benchmark: build it as bench/NAME.c (the Makefile builds every
# bench/*.c into $BUILD/bench/NAME) and add a `step` line, or write a
# script bench/NAME.sh and add a `script` line.
set -u
BUILD=${BUILD:-build}
status=0
log=$(mktemp /tmp/allocmap-bench-log.XXXXXX)
trap 'rm -f "$log" "$log.rc"' EXIT INT TERM
t0=$(date +%s)

# Runs "$@", its output to the terminal and to the log; fails the run on failure.
logged() { # name cmd...
	name=$1
	shift
	{
		"$@"
		echo $? >"$log.rc"
	} | tee -a "$log"
	if [ "$(cat "$log.rc")" != 0 ]; then
		echo "== $name: FAILED" >&2
		status=1
	fi
	echo
}

step() { # name [args...]
	echo "== $*"
	logged "$1" "$BUILD/bench/$@"
}

script() { # name.sh [args...]: a benchmark script in bench/
	echo "== $*"
	logged "$1" env BUILD="$BUILD" sh "$(dirname "$0")/$@"
}

step palloc_bench # private allocator tiers vs glibc malloc

# the library, preloaded by the benchmarks below (an absolute path)
LIB=$(cd "$BUILD/lib" && pwd)/liballocmap.so
step mapcalls_bench -l "$LIB"  # mapping index: mmap/munmap, mprotect, brk per call, 1 and 4 threads
script overhead.sh startup     # mapping index: start-up of python3 -c pass, /bin/true
script overhead.sh workloads   # heap index: whole-program time and peak RSS
script overhead.sh foreign     # heap index for jemalloc, tcmalloc (no goal)
step query_bench -l "$LIB"     # heap index: allocmap_query latency
script leaks.sh                # leak check: the scan of 1M chunks, against memcheck

# ---- the goals of issue 16, from the log ---------------------------------

# The first match of an extended regex's group 1 in the log; empty if none.
pick() { sed -En "s#.*$1.*#\\1#p" "$log" | head -n 1; }

# The largest peak-RSS ratio of amrun's workload rows whose goal is $1.
rss_worst() {
	awk -v g="$1" '/^(bintree|churn-2T|strbuild|smallobj|python3|sqlite3|gcc|perl|node-4w) / && $0 ~ "<= " g " " {
		for (i = 1; i <= NF; i++) if ($i == "<=") r = $(i - 1)
		sub(/x$/, "", r); if (r + 0 > w) w = r + 0; n++
	} END { if (n) printf "%.3f", w }' "$log"
}

row() { # figure value goal-text verdict(1 met, 0 missed, empty: no figure)
	case $4 in
	1) v=met ;;
	0) v=MISSED ;;
	*) v="not measured" ;;
	esac
	printf '%-42s %18s  %-24s %s\n' "$1" "${2:-?}" "$3" "$v"
}

le() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 <= b + 0) ? 1 : 0 }'; }

real=$(pick 'time ratio, real +geomean ([0-9.]+)x')
real_worst=$(pick 'time ratio, real +geomean .* worst ([0-9.]+x \([^)]*\))')
micro=$(pick 'time ratio, in-repo +geomean ([0-9.]+)x')
micro_worst=$(pick 'time ratio, in-repo +geomean .* worst ([0-9.]+x \([^)]*\))')
rss_small=$(rss_worst 1.10)
rss_real=$(rss_worst 1.03)
q_hot=$(pick ' ([0-9.]+) ns/query with what the query reads in cache')
q_rand=$(pick 'median ([0-9.]+) ns/query on random pointers')
q_trip=$(pick 'independent, ([0-9.]+) chained')
q_many=$(pick 'batched \(([0-9.]+)\)')
map1=$(pick 'added per mapping call, one thread: worst (-?[0-9.]+ ns \([^)]*\))')
map4=$(pick 'added per mapping call, [0-9]+ threads mapping at once: (-?[0-9.]+) ns')

echo "== goals of issue 16 (speed, round two): ratios preload/native, medians, this run"
printf '%-42s %18s  %-24s %s\n' figure measured goal verdict
row "real programs: time, geomean" "${real:+${real}x}" "<= 1.03x" "$(le "$real" 1.03)"
row "real programs: time, worst" "$real_worst" "<= 1.08x" "$(le "${real_worst%%x*}" 1.08)"
row "malloc microbenchmarks: time, worst" "$micro_worst" "<= 1.20x" "$(le "${micro_worst%%x*}" 1.20)"
row "malloc microbenchmarks: time, geomean" "${micro:+${micro}x}" "<= 1.12x" "$(le "$micro" 1.12)"
row "peak RSS, small objects (worst)" "${rss_small:+${rss_small}x}" "<= 1.10x" "$(le "$rss_small" 1.10)"
row "peak RSS, real programs (worst)" "${rss_real:+${rss_real}x}" "<= 1.03x" "$(le "$rss_real" 1.03)"
row "query, chunk memory in cache" "${q_hot:+$q_hot ns}" "<= 20 ns" "$(le "$q_hot" 20)"
row "query, random over 1M live chunks" "${q_rand:+$q_rand ns}" "<= round trip ${q_trip:-?} ns" "$(le "$q_rand" "$q_trip")"
row "allocmap_query_many, random over 1M" "${q_many:+$q_many ns}" "<= 40 ns per address" "$(le "$q_many" 40)"
row "added per mapping call (worst, 1 thread)" "$map1" "<= +120 ns" "$(le "${map1%% ns*}" 120)"
row "added per mapping call, 4 threads at once" "${map4:+$map4 ns}" "<= +120 ns" "$(le "$map4" 120)"
grep '^(skipped' "$log" | sort -u
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "whole run $(($(date +%s) - t0)) s; load average $load at end"

exit $status
