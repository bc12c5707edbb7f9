#!/usr/bin/env bash
# The report's content on live files with known contents, written by
# tests/cli/live_fixture (no library needed): the golden run document and
# text of a fixed three-process run, re-rendering a saved run, sites
# symbolised to function and file:line, the timeline sampled while the
# command runs (and thinned as it grows), the process table and the
# choice of processes; every JSON written here is validated against
# doc/report-schema.json. ALLOCMAP_UPDATE_GOLDEN=1 rewrites the golden files.
. "$(dirname "$0")/lib.sh"
AM=$(cd "$BUILD/bin" && pwd)/allocmap
FIX=$(cd "$BUILD/tests" && pwd)/live_fixture
SRC=$(cd "$(dirname "$0")/../.." && pwd)
GOLDEN=$SRC/tests/cli/golden
enter_work_dir

golden() { # name file
	if [ "${ALLOCMAP_UPDATE_GOLDEN:-0}" = 1 ]; then cp "$2" "$GOLDEN/$1"; fi
	cmp -s "$2" "$GOLDEN/$1" || { diff -u "$GOLDEN/$1" "$2" | head -20; return 1; }
}

# ---- the fixed run: golden JSON and text -----------------------------------------
mkdir fixed && "$FIX" write fixed
"$AM" snapshot --format json fixed >fixed.json
check "golden: run document" golden fixture.json fixed.json
"$AM" snapshot --all --verbose fixed >fixed.txt
check "golden: text, every process, verbose" golden fixture.txt fixed.txt
"$AM" snapshot fixed >root.txt
check "text: the process table" grep -q '^processes (3)$' root.txt
check "text: the root's report only by default" [ "$(grep -c '^== pid' root.txt)" -eq 1 ]
check "text: counters only with --verbose" sh -c '! grep -q "^internal counters" root.txt'
check "text: killed named in the table" grep -q '^  5000003: ended without a word from the library' root.txt
check "text: allocmap's own on one line" grep -q '^allocmap itself: 300 MiB reserved, 1.00 MiB resident$' root.txt
"$AM" snapshot --pid 5000002 --top 1 fixed >pid.txt
check "--pid: that process" grep -q '^== pid 5000002 (parent 5000001): prog ==$' pid.txt
check "--top 1: one site per table" [ "$(grep -c '^top sites by .* (1 of ' pid.txt)" -eq 3 ]
check "sites: object+offset without symbols" grep -q '^     2.00 MiB      2048 chunks  0x555555555234 in prog+0x1234$' pid.txt
check "leaked at exit: summary by site" grep -q '^leaked at exit: 3.00 MiB in 3072 chunks from 2 sites' pid.txt
"$AM" snapshot --follow sort fixed >follow.txt
check "--follow NAME" sh -c 'grep "^== pid" follow.txt | grep -q "^== pid 5000003 .*: sort ==$"'
"$AM" snapshot --pid 42 fixed >none.txt
check "--pid of no process: said" grep -q '^no process 42 in this run$' none.txt

# ---- re-rendering a saved run ------------------------------------------------
"$AM" report fixed.json --all --verbose >again.txt
check "report: same text as from the live files" cmp -s fixed.txt again.txt
"$AM" report --format json -o again.json fixed.json
check "report: JSON round trip" cmp -s fixed.json again.json
"$AM" report -o 'one.%p.json' fixed.json
check "report: %p writes one run per process" sh -c 'ls one.*.json | wc -l | grep -qx 3'

# ---- a live run: symbols, timeline, processes --------------------------------------------
line=$(grep -n 'CALL_LINE_BIG' "$SRC/tests/cli/live_fixture.c" | head -1 | cut -d: -f1)
"$AM" run -o live.json -o live.txt -- "$FIX" child -f 2 -s 30 -e 4
rc=$?
check "run: the command's status" [ $rc -eq 4 ]
check "run: three processes" [ "$(python3 -c 'import json,sys; print(len(json.load(open("live.json"))["processes"]))')" = 3 ]
check "symbols: function+offset in object" grep -q "^     5.00 MiB         1 chunk   child_process+0x[0-9a-f]* in live_fixture (.*live_fixture.c:$line)$" live.txt
check "symbols: JSON location" python3 -c '
import json, sys
s = json.load(open("live.json"))["processes"][0]["sites"][0]["location"]
sys.exit(not (s["function"] == "child_process" and s["file"].endswith("live_fixture.c") and s["line"] == int(sys.argv[1])
             and s["object"].endswith("/live_fixture") and int(s["offset"], 16) > 0))' "$line"
check "timeline: sampled while running" python3 -c '
import json, sys
t = json.load(open("live.json"))["processes"][0]["timeline"]
sys.exit(not (len(t["t_ns"]) >= 5 and t["period_ns"] == 10000000 and t["heap_bytes"][-1] > t["heap_bytes"][0]
             and min(t["rss_bytes"]) > 0 and t["t_ns"] == sorted(t["t_ns"])))'
check "timeline: one line in the text" grep -q '^timeline: [0-9]* samples every 10.0 ms up to .*; heap .* -> .*, peak' live.txt
ALLOCMAP_TIMELINE_MAX=8 "$AM" run -o thin.json -- "$FIX" child -s 60
check "timeline: halved, period doubled at its bound" python3 -c '
import json, sys
t = json.load(open("thin.json"))["processes"][0]["timeline"]
sys.exit(not (len(t["t_ns"]) <= 8 and t["period_ns"] >= 40000000))'
"$AM" run -o killed.json -- "$FIX" child -k -f 1 -s 4
check "SIGKILL: root from wait(), child killed" python3 -c '
import json, sys
p = json.load(open("killed.json"))["processes"]
sys.exit(not (p[0]["ended"] == "signal" and p[0]["signal"] == 9 and p[1]["ended"] == "killed" and "note" in p[1]
             and p[0]["rss"]["peak_bytes"] > 0))'
# The library writes a live file in every dynamic program: a library that
# writes none (libc itself, preloaded in its place) leaves the command without.
LIBC=$(ldd /bin/sh | awk '/libc\.so/ { print $3 }')
ALLOCMAP_LIB=$LIBC "$AM" run -o none.json -- sh -c 'exit 0'
check "a command without live file: said" python3 -c '
import json, sys
p = json.load(open("none.json"))["processes"]
sys.exit(not (len(p) == 1 and p[0]["no_data"] and "live file" in p[0]["note"]))'

# ---- every JSON written above against the schema --------------------------------------
for f in *.json; do
	case $f in v99.json) continue ;; esac
	check "schema: $f" python3 "$SRC/tests/cli/validate.py" "$SRC/doc/report-schema.json" "$f"
done
finish
