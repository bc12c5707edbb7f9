#!/usr/bin/env bash
# Real programs under LD_PRELOAD="liballocmap.so probe.so" (probe.c: threads
# that query the program's own addresses while it runs and check every
# answer; and every 2 ms a signal to one of the program's threads, whose
# handler queries the registers it interrupted) with ALLOCMAP_CHECK_AT_EXIT=1. Each case: stdout and exit status
# identical to a run without either library; on stderr, a summary from
# every process the probe ran in, no "PROBE FAIL" and no discrepancy.
# Programs not installed are said skipped.
. "$(dirname "$0")/lib.sh"
PROBE=$(cd "$BUILD/tests" && pwd)/probe.so
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Totals of the probe's summary lines in file $1: processes, queries,
# chunks answered, signals sent (handlers query), mismatches excused as
# races and left unsettled.
totals() {
	awk '/^probe: pid/ { n++; q += $5; c += $10
	                     for (i = 1; i < NF; i++) {
	                         if ($(i + 1) ~ /^signals/) s += $i
	                         if ($(i + 1) ~ /^races/) r += $i
	                         if ($(i + 1) ~ /^unsettled/) u += $i } }
	     END { printf "%d processes, %d queries, %d chunks, %d signals, %d races, %d unsettled", n, q, c, s, r, u }' "$1"
}

probe_case() { # name command...
	local name=$1; shift
	"$@" >"$work/plain.out" 2>/dev/null </dev/null
	local ra=$?
	timeout 60 env LD_PRELOAD="$LIB $PROBE" ALLOCMAP_CHECK_AT_EXIT=1 PROBE_SIGNALS=2 "$@" \
		>"$work/probe.out" 2>"$work/probe.err" </dev/null
	local rb=$?
	if ! cmp -s "$work/plain.out" "$work/probe.out" || [ $ra -ne $rb ]; then
		fail "$name (exit $ra vs $rb, or stdout differs)"
		diff "$work/plain.out" "$work/probe.out" | head -10
		grep -v '^probe: pid' "$work/probe.err" | head -10
	elif grep -q -e 'PROBE FAIL' -e 'allocmap: check' "$work/probe.err" || discrepant "$work/probe.err"; then
		fail "$name ($(totals "$work/probe.err"))"
		grep -e 'INCONSISTENT' -e 'PROBE FAIL' -e 'allocmap' "$work/probe.err" | sort | uniq -c | head -20
	elif ! grep -q '^probe: pid' "$work/probe.err"; then
		fail "$name (no summary from the probe)"
		head -10 "$work/probe.err"
	else
		ok "$name ($(totals "$work/probe.err"))"
	fi
}

cat >"$work/t.py" <<'PY'
import json, re, threading, collections
d = {}
def churn(k):
    local = collections.defaultdict(list)
    for i in range(40000):
        local[i % 997].append(str(i) * (i % 13))
        d[(k, i)] = [i] * (i % 9)
        if i % 3 == 0:
            del d[(k, i)]
    big = [bytes(200000 + j) for j in range(20)]    # mmapped chunks
    s = json.dumps({str(i): v for i, v in local.items()})
    return len(s) + sum(len(b) for b in big) + len(re.findall(r"1+", s))
out = [0] * 4
def run(k): out[k] = churn(k)
ts = [threading.Thread(target=run, args=(k,)) for k in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(out, len(d))
PY
have /usr/bin/python3 && probe_case python3 /usr/bin/python3 "$work/t.py"

have perl && probe_case perl perl -e '
my %h; $h{$_} = "x" x ($_ % 300) for 1..60000;
my $s = ""; $s .= "abc" x 1000 for 1..400;   # a growing mmapped chunk: realloc, mremap
my @a = sort { $a <=> $b } map { length $h{$_} } keys %h;
delete $h{$_} for grep { $_ % 2 } keys %h;
print scalar(keys %h), " ", length($s), " ", $a[-1], "\n"'

have sqlite3 && probe_case sqlite3 sqlite3 :memory: "
create table t(a integer, b text);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 60000)
insert into t select x, printf('%02x', x * 7919 % 256) || x from c;
create index ti on t(b);
select count(*), sum(a), count(distinct substr(b, 1, 2)) from t;
select a from t where b like 'a%' order by a limit 3;"

cat >"$work/t.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
struct node { struct node *l, *r; int v; };
static struct node *tree(int d) {
	struct node *n = malloc(sizeof *n);
	n->v = d, n->l = d ? tree(d - 1) : NULL, n->r = d ? tree(d - 1) : NULL;
	return n;
}
static int count(const struct node *n) { return n ? 1 + count(n->l) + count(n->r) : 0; }
int main(void) { printf("%d\n", count(tree(12))); return 0; }
C
if have gcc; then
	probe_case gcc gcc -O2 -o "$work/t" "$work/t.c"
	probe_case gcc-output "$work/t"
fi

# A loop, command substitutions (forked children), and a recursive
# function that grows the main thread's stack.
probe_case bash bash -c '
f() { local a=$1; if [ $a -gt 0 ]; then f $((a - 1)); else echo bottom; fi; }
s=0; for i in $(seq 1 3000); do s=$((s + i * i)); a[$i]=$s; done
for i in 1 2 3; do x=$(echo $i | tr 1 z); done
f 2500; echo $s ${#a[@]} $x'

if have git; then
	probe_case git bash -c '
d=$(mktemp -d) && cd "$d" && git init -q . && for i in $(seq 1 40); do seq $i 1000 >f$i; done &&
git add . && git -c user.name=p -c user.email=p@x commit -q -m one --date="2000-01-01T00:00:00" &&
git log --format=%s && git ls-files | wc -l && git gc -q && git count-objects -v | grep -c pack; rm -rf "$d"'
fi
if have node; then
	probe_case node node -e '
const m = new Map(); for (let i = 0; i < 200000; i++) m.set("k" + i, { i, s: "v".repeat(i % 50) });
const j = JSON.stringify([...m.values()].slice(0, 20000)); const b = Buffer.alloc(1 << 22, 1);
console.log(m.size, j.length, b.length, JSON.parse(j).length)'
fi
seq 1 200000 | awk '{ print ($1 * 7919) % 100003 }' >"$work/nums"
probe_case sort sort -n --parallel=2 -S 4M "$work/nums"
have xz && probe_case xz bash -c "xz -T2 -3 -c '$work/nums' | xz -d | sha256sum"
probe_case awk awk '{ c[$1 % 1000] += 1; s = s substr($1, 1, 1) } END { for (k in c) n++; print n, length(s) }' "$work/nums"
finish
