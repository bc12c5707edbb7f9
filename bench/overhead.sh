#!/bin/sh
# Whole-program overhead of the preloaded library, with $BUILD/bench/amrun
# (see bench/amrun.c for the method: interleaved native/preload runs,
# medians, ratios preload/native, peak RSS from wait4).
#
#   overhead.sh startup     start-up cost: /usr/bin/python3 -c pass and
#                           /bin/true, fresh process each, 101 runs a side
#   overhead.sh workloads   malloc-heavy workloads, 5 runs a side: four of
#                           bench/mallocwork.c (binary trees depth 17; a
#                           producer/consumer churn with 2 threads, as 4
#                           threads on a 2-CPU machine swing between two
#                           speeds from run to run; realloc string
#                           building; small objects) and three real
#                           programs on a fixed, generated workload (python3
#                           dict/list script, sqlite3 :memory: with 200k
#                           rows and queries, gcc -O2 -S on a generated
#                           200-function C file, perl on hashes and
#                           strings, node with 4 worker_threads building,
#                           sorting and serialising objects); goals (issue
#                           16, judged by bench/run.sh's summary): real
#                           programs geomean <= 1.03, worst <= 1.08;
#                           the in-repo ones worst <= 1.20, geomean <= 1.12;
#                           peak RSS <= 1.10 on the small-object workloads
#                           (bintree, smallobj), <= 1.03 on the real programs
#   overhead.sh stack [N]   the three real programs above under four
#                           sides, interleaved, N runs each (default 5):
#                           native; the library alone; the library with a
#                           run directory (what `allocmap run` does); and
#                           with ALLOCMAP_STACK=8 too (`allocmap run
#                           --stack 8`). Medians of wall time, ratios to
#                           native and to the run-directory side; goal for
#                           --stack 8: geomean <= 1.25 against native
#   overhead.sh foreign     bintree, strbuild, smallobj and python3 with
#                           jemalloc, then tcmalloc preloaded on both sides
#                           (3 runs a side; no goal)
#
# Needs only what .ci/run installs (deps/debian-packages.txt: build-essential,
# python3, sqlite3, perl, nodejs). A real program that is missing is left
# out, and said so ("skipped: ... not found").
set -u
BUILD=${BUILD:-build}
bench=$(cd "$BUILD/bench" && pwd)
lib=$(cd "$BUILD/lib" && pwd)/liballocmap.so
work=$(mktemp -d /tmp/allocmap-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
sqlite=$(command -v sqlite3 || true)
gcc=$(command -v gcc || true)
perl=$(command -v perl || true)
node=$(command -v node || command -v nodejs || true)

startup() {
	{
		echo "true start - /bin/true"
		[ -n "$python" ] && echo "python3-pass start - $python -c pass"
	} >"$work/jobs"
	[ -n "$python" ] || echo "(python3 not found: its start-up is left out)"
	"$bench/amrun" -l "$lib" -r 101 -t "start-up: a fresh process each run" "$work/jobs"
}

# dict/list-heavy: word index, inversion, sorting, copies, nested lists
write_python() {
	cat >"$work/dict.py" <<'PY'
import random
random.seed(12345)
letters = "abcdefghijklmnop"
words = ["".join(random.choices(letters, k=random.randint(3, 9))) for _ in range(150000)]
index = {}
for i, w in enumerate(words):
    index.setdefault(w, []).append(i)
by_len = sorted(((len(v), k) for k, v in index.items()), reverse=True)
inverse = {i: w for w, v in index.items() for i in v}
total = 0
for r in range(4):
    part = {k: list(v) for k, v in index.items() if len(k) % 4 == r}
    total += sum(len(v) for v in part.values())
    del part
rows = [[str(i), i * 2, (i, str(i % 97))] for i in range(150000)]
rows.sort(key=lambda row: row[2][1])
groups = {}
for row in rows:
    groups.setdefault(row[2][1], []).append(row[0])
text = " ".join(words[:50000])
counts = {}
for w in text.split():
    counts[w] = counts.get(w, 0) + 1
print(len(index), by_len[0], len(inverse), total, len(groups), len(counts))
PY
}

write_sql() {
	cat >"$work/q.sql" <<'SQL'
create table t(id integer primary key, k integer, name text, val real);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 200000)
insert into t select x, (x * 7919) % 10007, printf('name-%08d-%s', (x * 2654435761) % 1000003, hex(x)), (x % 1000) / 7.0 from c;
create index t_k on t(k);
create index t_name on t(name);
select count(*), sum(val) from t;
select k, count(*), avg(val) from t group by k order by 2 desc, 1 limit 5;
select count(*) from t a join t b on a.k = b.id where b.val > 50;
select name from t where name like 'name-0001%' order by name limit 10;
update t set val = val * 2 where k % 3 = 0;
delete from t where id % 5 = 0;
select count(*), total(val) from t;
SQL
}

# 200 functions with loops, switches and structs
write_c() {
	awk 'BEGIN {
		print "#include <string.h>"
		for (i = 0; i < 200; i++) {
			printf "struct s%d { int a[8]; double d; char name[16]; };\n", i
			printf "int f%d(struct s%d *p, int n) {\n\tint r = %d;\n", i, i, i
			printf "\tfor (int i = 0; i < n; i++) {\n\t\tswitch ((i + %d) %% 6) {\n", i
			for (c = 0; c < 6; c++)
				printf "\t\tcase %d: r += p->a[(i + %d) %% 8] * %d; p->d += r * 0.5; break;\n", c, c, i + c
			printf "\t\t}\n\t\tif (r > %d) r ^= (int)strlen(p->name);\n\t}\n", 1000 + i
			printf "\treturn r + (int)p->d;\n}\n"
		}
	}' >"$work/big.c"
}

# hashes and strings: keyed inserts, sorted walk with split, each,
# case mapping, a substitution over a long string, deletes
write_perl() {
	cat >"$work/hash.pl" <<'PL'
my (%h, %rev);
for my $i (1 .. 80000) {
	my $k = "key" . ($i * 7919 % 1000003);
	$h{$k} = join(",", $i, $k, "v" x ($i % 40));
}
my $n = 0;
for my $k (sort keys %h) { my @f = split /,/, $h{$k}; $n += length($f[2]); }
while (my ($k, $v) = each %h) { $rev{substr($v, 0, 6)} .= $k; }
my $s = join("", map { lc(uc($_)) } sort keys %rev);
$s =~ s/key(\d)/K$1/g;
delete $h{$_} for grep { /7$/ } keys %h;
print scalar(keys %h), " $n ", length($s), "\n";
PL
}

# V8 with 4 worker_threads at once: objects, a Map, JSON, sorting
write_node() {
	cat >"$work/workers.js" <<'JS'
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
if (isMainThread) {
  let done = 0, sum = 0;
  for (let i = 0; i < 4; i++) {
    const w = new Worker(__filename, { workerData: i });
    w.on('message', (m) => { sum += m; if (++done === 4) console.log(sum); });
  }
} else {
  const m = new Map();
  let t = 0;
  for (let r = 0; r < 3; r++) {
    const a = [];
    for (let i = 0; i < 60000; i++) a.push({ i, s: 'x' + (i * 31 + workerData), r, l: [i, r] });
    for (const o of a) m.set(o.s, o);
    t += JSON.stringify(a.slice(0, 15000)).length;
    a.sort((x, y) => (x.s < y.s ? -1 : x.s > y.s ? 1 : 0));
    t += a[7].i;
    m.clear();
  }
  parentPort.postMessage(t);
}
JS
}

# A real program's job (name, program, Debian package, the function that
# writes its input, the job's command): added to the job file, or said
# skipped when the program is not installed.
real() {
	if [ -z "$2" ]; then
		echo "(skipped $1: not found; Debian package $3)"
		return
	fi
	$4
	echo "$1 real 1.03 $5" >>"$work/jobs"
}

workloads() {
	mw=$bench/mallocwork
	{
		echo "bintree in-repo 1.10 $mw bintree 17"
		echo "churn-2T in-repo - $mw churn 2 8000000"
		echo "strbuild in-repo - $mw strbuild 200000"
		echo "smallobj in-repo 1.10 $mw smallobj 1000000 4000000"
	} >"$work/jobs"
	real python3 "$python" python3 write_python "$python $work/dict.py"
	real sqlite3 "$sqlite" sqlite3 write_sql "<$work/q.sql $sqlite :memory:"
	real gcc "$gcc" build-essential write_c "$gcc -O2 -S -o /dev/null $work/big.c"
	real perl "$perl" perl write_perl "$perl $work/hash.pl"
	real node-4w "$node" nodejs write_node "$node $work/workers.js"
	"$bench/amrun" -l "$lib" -r 5 \
		-t "malloc-heavy workloads: whole-program wall time and peak RSS (RSS goal per row)" "$work/jobs"
}

# The heap index for another malloc (foreign.c): the same workloads with
# jemalloc and tcmalloc preloaded on both sides; no goal.
foreign() {
	mw=$bench/mallocwork
	write_python
	{
		echo "bintree in-repo - $mw bintree 17"
		echo "strbuild in-repo - $mw strbuild 200000"
		echo "smallobj in-repo - $mw smallobj 1000000 4000000"
		[ -n "$python" ] && echo "python3 real - $python $work/dict.py"
	} >"$work/jobs"
	for other in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4; do
		if [ ! -e "$other" ]; then
			echo "($other not installed: left out)"
			continue
		fi
		"$bench/amrun" -l "$lib" -b "$other" -r 3 \
			-t "another malloc: $(basename "$other") preloaded on both sides (no goal)" "$work/jobs"
	done
}

# Wall milliseconds of one run of "$@" (stdin from $in).
ms() {
	t0=$(date +%s%N)
	"$@" <"$in" >/dev/null 2>&1 || echo "($* failed)" >&2
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One side of stack(): the environment for side $1 (run directory $2).
side_env() {
	case $1 in
	native) echo "env -u LD_PRELOAD" ;;
	lib) echo "env LD_PRELOAD=$lib" ;;
	run) echo "env LD_PRELOAD=$lib ALLOCMAP_RUN_DIR=$2" ;;
	stack8) echo "env LD_PRELOAD=$lib ALLOCMAP_RUN_DIR=$2 ALLOCMAP_STACK=8" ;;
	esac
}

stack() {
	reps=${1:-5}
	write_python
	write_sql
	write_c
	sides="native lib run stack8"
	: >"$work/times"
	for r in $(seq "$reps"); do
		for job in python3 sqlite3 gcc; do
			# the sides' order rotates from round to round
			for s in $(echo $sides $sides | cut -d' ' -f$((1 + r % 4))-$((4 + r % 4))); do
				rd=$(mktemp -d "$work/run.XXXXXX")
				in=/dev/null
				case $job in
				python3) t=$(ms $(side_env $s "$rd") "$python" "$work/dict.py") ;;
				sqlite3)
					in=$work/q.sql
					t=$(ms $(side_env $s "$rd") "$sqlite" :memory:)
					;;
				gcc) t=$(ms $(side_env $s "$rd") "$gcc" -O2 -S -o /dev/null "$work/big.c") ;;
				esac
				rm -rf "$rd"
				echo "$job $s $t" >>"$work/times"
			done
		done
	done
	echo "--stack 8 against native, the library alone and allocmap run's default: medians of $reps interleaved runs, ms"
	printf '%-8s %8s %8s %8s %8s %10s %10s %10s\n' job native lib run stack8 lib/nat stack8/nat stack8/run
	for job in python3 sqlite3 gcc; do
		for s in $sides; do
			eval "m_$s=$(awk -v j=$job -v s=$s '$1 == j && $2 == s { print $3 }' "$work/times" | median)"
		done
		printf '%-8s %8s %8s %8s %8s %10.2f %10.2f %10.2f\n' $job $m_native $m_lib $m_run $m_stack8 \
			"$(echo "$m_lib / $m_native" | bc -l)" "$(echo "$m_stack8 / $m_native" | bc -l)" \
			"$(echo "$m_stack8 / $m_run" | bc -l)"
		echo "$m_native $m_lib $m_run $m_stack8" >>"$work/medians"
	done
	awk '{ a += log($2 / $1); b += log($4 / $1); c += log($4 / $3); n++ }
		END { printf "geomean: lib/native %.2f, stack8/native %.2f (goal <= 1.25: %s), stack8/run %.2f\n",
			exp(a / n), exp(b / n), exp(b / n) <= 1.25 ? "MET" : "MISSED", exp(c / n) }' "$work/medians"
	echo "all runs (job side ms):"
	cat "$work/times"
}

case ${1:-} in
startup) startup ;;
workloads) workloads ;;
stack) stack "${2:-5}" ;;
foreign) foreign ;;
*)
	echo "usage: overhead.sh startup|workloads|stack [N]|foreign" >&2
	exit 2
	;;
esac
