#!/usr/bin/env bash
# Known answers through `allocmap run` with the real library (issue 13):
# 100 MiB kept in 1 KiB chunks is the first live site, within 1%, with
# its function and file:line; a heap that peaks at 200 MiB and frees all
# reports that peak within 2%; a C++ program's sites are the callers of
# new; a pipeline of three processes gives one table and the root's
# report; _exit, SIGKILL and Ctrl-C sent to allocmap each end with a
# report or the reason; a snapshot of a running multi-threaded program.
. "$(dirname "$0")/lib.sh"
PROG=$(cd "$BUILD/tests" && pwd)/prog_known
AM=$(cd "$BUILD/bin" && pwd)/allocmap
SRC=$(cd "$(dirname "$0")/../.." && pwd)
work=$(cd "$(mktemp -d)" && pwd -P)
bg=
trap '[ -n "$bg" ] && kill $bg 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" || exit 1
# q FILE EXPR: a Python expression over the root process p (and the document d) of a run JSON.
q() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); p = d["processes"][0]
print(eval(sys.argv[2]))' "$1" "$2"
}
within() { python3 -c "import sys; sys.exit(not abs($1 - $2) <= $3 * $2)"; }

line=$(grep -n 'malloc.*ANSWER_KEEP' "$SRC/tests/preload/prog_known.c" | cut -d: -f1)
"$AM" run -o keep.json -o keep.txt -- "$PROG" keep
top='sorted(p["sites"], key=lambda s: -s["live_bytes"])[0]'
check "keep: first live site holds 100 MiB within 1%" within "$(q keep.json "$top[\"live_bytes\"]")" $((100 << 20)) 0.01
check "keep: its function and file:line" [ "$(q keep.json "'%s %d' % ($top[\"location\"][\"function\"], $top[\"location\"][\"line\"])")" = "keep_100mib $line" ]
check "keep: the text's first live site" sh -c "grep -A1 '^top sites by live bytes' keep.txt | tail -1 |
	grep -q '^ *100 MiB  *102400 chunks  keep_100mib+0x[0-9a-f]* in prog_known (.*prog_known.c:$line)$'"

"$AM" run -o peak.json -- "$PROG" peak
check "peak: heap peak 200 MiB within 2%" within "$(q peak.json 'p["heap"]["peak_bytes"]')" $((200 << 20)) 0.02
check "peak: all freed at exit (< 1 MiB live)" [ "$(q peak.json 'p["heap"]["live_bytes"]')" -lt $((1 << 20)) ]

if command -v g++ >/dev/null; then
	printf '%s\n' '#include <memory>' '#include <vector>' 'struct N { N *next; char pad[1000]; };' \
		'__attribute__((noinline)) N *grow(int n) { N *h = nullptr; for (int i = 0; i < n; i++) { N *x = new N; x->next = h; h = x; } return h; } // CXX_NEW' \
		'__attribute__((noinline)) std::vector<long> *many() { return new std::vector<long>(1 << 20); } // CXX_VEC' \
		'int main() { auto *v = many(); return grow(10000) == nullptr || v->size() != 1 << 20; }' >cxx.cc
	g++ -g -O1 cxx.cc -o cxx
	"$AM" run -o cxx.json -- ./cxx
	fns=$(q cxx.json '" ".join(sorted(s["location"].get("function", "?") for s in p["sites"] if s["live_bytes"] >= 8 << 20))')
	check "c++: the sites are new's callers, not operator new, demangled ($fns)" [ "$fns" = "grow(int) many()" ]
else
	echo "skip c++ (g++ not installed)"
fi

"$AM" run -o pipe.json -o pipe.txt -- sh -c "$PROG keep | cat | wc -c >/dev/null"
check "pipeline: one table of every process" grep -q '^processes ([4-9])$' pipe.txt
check "pipeline: the root's report only" [ "$(grep -c '^== pid' pipe.txt)" -eq 1 ] && grep -q '^== pid .*: sh -c ' pipe.txt
check "pipeline: the 100 MiB process in the table" grep -q '^  [0-9][0-9]*  *[0-9][0-9]*  .*  101 MiB  ' pipe.txt

"$AM" run -o exit4.txt -- "$PROG" exit4
rc=$?
check "_exit(4): status 4, ended by _exit with its heap" [ $rc -eq 4 ] && grep -q '^ended: _exit 4 ' exit4.txt &&
	grep -q '^  heap live bytes  *1.00 MiB' exit4.txt

# sleep: a running allocmap whose child says ready; the pids of both.
# (A background job of a script starts with SIGINT ignored: put back the
# default, as an interactive shell's job would have.)
start_sleeper() {
	rm -f ready
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$AM" run -o "$1" -- "$PROG" sleep >ready &
	bg=$!
	for _ in $(seq 100); do [ -s ready ] && break; sleep 0.1; done
	child=$(pgrep -P $bg -f prog_known)
}
start_sleeper kill.txt
kill -KILL "$child"
wait $bg
rc=$? bg=
check "SIGKILL: status 137, the reason said" [ $rc -eq 137 ] && grep -q 'SIGKILL' kill.txt

start_sleeper int.txt
kill -INT $bg
wait $bg
rc=$? bg=
check "Ctrl-C to allocmap: the command ends by SIGINT (130) with its report" [ $rc -eq 130 ] &&
	grep -q '^ended: SIGINT after ' int.txt && grep -q '^  heap live bytes  *1.00 MiB' int.txt

mkfifo in
"$AM" run --keep run -o threads.txt -- "$PROG" threads <in >ready &
bg=$!
exec 3>in
for _ in $(seq 100); do [ -s ready ] && break; sleep 0.1; done
"$AM" snapshot --format json run >snap.json
check "snapshot of a running 5-thread program: running, 4000 chunks and more" \
	[ "$(q snap.json 'p["ended"], p["heap"]["live_chunks"] >= 4000')" = "('running', True)" ]
exec 3>&-
wait $bg
rc=$? bg=
check "threads: then ends as usual" [ $rc -eq 0 ] && grep -q '^ended: exit 0 ' threads.txt
finish
