#!/bin/sh
# Whole-run cost of the leak check on real programs (bench/RESULTS.md,
# "allocmap run --leaks"). For each workload, R rounds (default 7), each
# running these sides once, in an order that rotates from round to round:
#   native     the program alone
#   lib        preloaded, with a run directory (a live file), no scan
#   lib+leaks  the same with ALLOCMAP_LEAKS=1 (the scan's own time is read
#              from the .leaks file: scan_ns)
#   run        allocmap run -o /dev/null -- CMD
#   run+leaks  allocmap run --leaks -o /dev/null -- CMD
# Prints the median and the minimum wall time of each side (ms; on a
# shared machine the minimum is the less disturbed), the median scan,
# and what --leaks adds beyond the scan at both levels, from each.
# usage: leakrun.sh [R]
set -u
BUILD=${BUILD:-build}
R=${1:-7}
LIB=$(cd "$BUILD/lib" && pwd)/liballocmap.so
AM=$(cd "$BUILD/bin" && pwd)/allocmap
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.1f", ns / 1e6}'; }

cat >"$tmp/q.sql" <<'SQL'
create table t(id integer primary key, k integer, name text, val real);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000)
insert into t select x, (x * 7919) % 10007, printf('name-%08d-%s', (x * 2654435761) % 1000003, hex(x)), (x % 1000) / 7.0 from c;
create index t_k on t(k);
select k, count(*), avg(val) from t group by k order by 2 desc, 1 limit 5;
delete from t where id % 5 = 0;
select count(*), total(val) from t;
SQL

# One side, once: appends its wall time (and scan_ns for lib+leaks) to $tmp/$name.$side.
side() { # name side cmd...
	name=$1 s=$2
	shift 2
	rm -rf "$tmp/run" && mkdir -m 700 "$tmp/run"
	t0=$(now)
	case $s in
	native) "$@" >/dev/null 2>&1 <"$in" ;;
	lib) ALLOCMAP_RUN_DIR=$tmp/run LD_PRELOAD=$LIB "$@" >/dev/null 2>&1 <"$in" ;;
	lib+leaks) ALLOCMAP_LEAKS=1 ALLOCMAP_RUN_DIR=$tmp/run LD_PRELOAD=$LIB "$@" >/dev/null 2>&1 <"$in" ;;
	run) "$AM" run -o /dev/null -- "$@" >/dev/null 2>&1 <"$in" ;;
	run+leaks) "$AM" run --leaks -o /dev/null -- "$@" >/dev/null 2>&1 <"$in" ;;
	esac
	echo $(($(now) - t0)) >>"$tmp/$name.$s"
	[ "$s" = lib+leaks ] && sed -n 's/^scan .*scan_ns \([0-9]*\).*/\1/p' "$tmp"/run/proc-*.leaks >>"$tmp/$name.scan"
}

workload() { # name infile cmd...
	name=$1 in=$2
	shift 2
	sides="native lib lib+leaks run run+leaks"
	for s in $sides; do side "$name" "$s" "$@"; rm -f "$tmp/$name.$s" "$tmp/$name.scan"; done # warm-up
	for r in $(seq "$R"); do
		k=$((r % 5))
		for s in $(echo $sides $sides | cut -d' ' -f$((k + 1))-$((k + 5))); do side "$name" "$s" "$@"; done
	done
	scan=$(median <"$tmp/$name.scan")
	for stat in median min; do
		printf '%-8s %-6s' "$name" "$stat"
		for s in $sides; do
			if [ $stat = median ]; then m=$(median <"$tmp/$name.$s"); else m=$(sort -n "$tmp/$name.$s" | head -1); fi
			eval "m_$(echo "$s" | tr '+' '_')=$m"
			printf ' %9s' "$(ms "$m")"
		done
		printf ' %9s %9s %9s\n' "$(ms "$scan")" "$(ms $((m_lib_leaks - m_lib - scan)))" "$(ms $((m_run_leaks - m_run - scan)))"
	done
}

echo "$R rounds, ms; scan: median of scan_ns; extra = with leaks - without - scan"
printf '%-15s %9s %9s %9s %9s %9s %9s %9s %9s\n' workload native lib lib+leaks run run+leaks scan "lib extra" "run extra"
workload python3 /dev/null /usr/bin/python3 "$here/../tests/preload/leak_script.py"
workload sqlite3 "$tmp/q.sql" sqlite3 :memory:
