#!/usr/bin/env bash
# Real programs under LD_PRELOAD: output identical to a run without the
# library, and ALLOCMAP_CHECK_AT_EXIT=1 finds no discrepancy at exit (each
# process's "allocmap: 0 discrepancies" line is left out of the comparison).
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/t.py" <<'PY'
import json, sqlite3, hashlib, threading
d = {str(i): [i] * (i % 7) for i in range(20000)}
s = json.dumps(d)
db = sqlite3.connect(":memory:")
db.execute("create table t(a, b)")
db.executemany("insert into t values (?, ?)", ((i, str(i)) for i in range(5000)))
ts = [threading.Thread(target=lambda: hashlib.sha256(s.encode()).hexdigest()) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(len(s), db.execute("select count(*), sum(a) from t").fetchone())
PY
cat >"$work/t.c" <<'C'
#include <stdio.h>
int main(void) { for (int i = 0; i < 3; i++) printf("%d\n", i * i); return 0; }
C

run_case() { # name command...
	local name=$1; shift
	local a b
	a=$("$@" 2>&1); local ra=$?
	b=$(LD_PRELOAD=$LIB ALLOCMAP_CHECK_AT_EXIT=1 "$@" 2>&1); local rb=$?
	b=$(grep -v '^allocmap: 0 discrepancies$' <<<"$b")
	if [ "$a" == "$b" ] && [ $ra -eq $rb ]; then
		ok "$name"
	else
		fail "$name (exit $ra vs $rb)"
		diff <(echo "$a") <(echo "$b") | head -20
	fi
}

have /usr/bin/python3 && run_case python3 /usr/bin/python3 "$work/t.py"
have perl && run_case perl perl -e 'my %h; $h{$_} = "x" x ($_ % 50) for 1..50000; print scalar(keys %h), "\n"'
have sqlite3 && run_case sqlite3 sqlite3 :memory: "create table t(a); with recursive c(x) as (select 1 union all select x+1 from c where x<20000) insert into t select x from c; select count(*), sum(a) from t;"
run_case bash bash -c 'for i in $(seq 1 200); do x=$((i*i)); done; echo $x; ls / >/dev/null; echo done'
if have gcc; then
	run_case gcc gcc -O2 -o "$work/t" "$work/t.c"
	run_case gcc-output "$work/t"
fi
finish
