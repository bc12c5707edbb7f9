#!/usr/bin/env bash
# `allocmap run --leaks`: the leak check of every process in the run's
# report. On prog_leaks (known answers, the same as leaks.sh's): the
# classes and the symbolised lost groups (function and file:line) in
# JSON (valid against doc/report-schema.json), text (LEAK SUMMARY) and
# HTML (the leak tables), re-rendered alike by `allocmap report`; the
# exit status of --leaks=error (23 when a process had definitely lost
# bytes and the command exited 0, else the command's); a leaking child
# of sh -c; suppressions; strict option checks; the program's stderr
# left alone. (The library's scan itself: leaks.sh.)
. "$(dirname "$0")/lib.sh"
AM=$(cd "$BUILD/bin" && pwd)/allocmap
PROG=$(cd "$BUILD/tests" && pwd)/prog_leaks
SRC=$(cd "$(dirname "$0")/../.." && pwd)
enter_work_dir

valid() { python3 "$SRC/tests/cli/validate.py" "$SRC/doc/report-schema.json" "$@" >/dev/null; }
# The leaks object's figure PATH (python expression on l) of the process
# whose command line's second word is CASE (prog_leaks CASE), from FILE.
leakq() { # file case expr
	python3 -c '
import json, sys
run = json.load(open(sys.argv[1]))
p = [p for p in run["processes"] if p.get("cmdline", [""])[1:2] == [sys.argv[2]]][0]
l = p["leaks"]
print(eval(sys.argv[3]))' "$@"
}
line_of() { grep -n "^NOINLINE .*$1(" "$SRC/tests/preload/prog_leaks.c" | head -1 | cut -d: -f1; }
head_line=$(line_of alloc_head) node_line=$(line_of alloc_node)

# ---- a lost list: known classes and sites, in every format -----------------------
env -u ALLOCMAP_LEAKS "$AM" run --leaks -o list.json -o list.txt -o list.html -- "$PROG" list >out 2>err
rc=$?
check "list: the command's status (0)" [ $rc -eq 0 ]
check "list: the program's stderr untouched" [ ! -s err ]
check "list: JSON valid" valid list.json
check "list: definitely lost 48 bytes in 1" [ "$(leakq list.json list 'l["definitely_lost"]')" = "{'bytes': 48, 'count': 1}" ]
check "list: indirectly lost 432 bytes in 9" [ "$(leakq list.json list 'l["indirectly_lost"]')" = "{'bytes': 432, 'count': 9}" ]
check "list: nothing possibly lost or reachable" [ "$(leakq list.json list 'l["possibly_lost"]["bytes"] + l["still_reachable"]["bytes"]')" = 0 ]
check "list: definite group at alloc_head, file:line" [ "$(leakq list.json list \
	'[(g["bytes"], g["count"], g["location"]["function"], g["location"]["file"].split("/")[-1], g["location"]["line"]) for g in l["groups"] if g["class"] == "definitely_lost"]')" = "[(48, 1, 'alloc_head', 'prog_leaks.c', $head_line)]" ]
check "list: indirect group at alloc_node, file:line" [ "$(leakq list.json list \
	'[(g["bytes"], g["count"], g["location"]["function"], g["location"]["line"]) for g in l["groups"] if g["class"] == "indirectly_lost"]')" = "[(432, 9, 'alloc_node', $node_line)]" ]
check "list: the scan's figures, file complete" [ "$(leakq list.json list '(l["complete"], l["scan"]["chunks"], l["scan"]["threads"])')" = "(True, 10, 1)" ]
check "list: no leak_error without =error" [ "$(python3 -c 'import json; print("leak_error" in json.load(open("list.json")))')" = False ]
check "text: LEAK SUMMARY" grep -q '^LEAK SUMMARY (scan at exit: 10 chunks in ' list.txt
check "text: definitely lost line" grep -q '^    definitely lost: 48 bytes in 1 blocks$' list.txt
check "text: indirectly lost line" grep -q '^    indirectly lost: 432 bytes in 9 blocks$' list.txt
check "text: suppressed line" grep -q '^         suppressed: 0 bytes in 0 blocks$' list.txt
check "text: lost group by site with file:line" grep -q "^  48 bytes in 1 blocks are definitely lost at alloc_head+0x[0-9a-f]* in prog_leaks (.*prog_leaks.c:$head_line)$" list.txt
check "text: the leaked-at-exit summary kept" grep -q '^leaked at exit: 480 B in 10 chunks from 2 sites' list.txt
check "HTML: the classes table" grep -q '<tr><th>definitely lost</th><td class="n" data-v="48">48</td><td class="n" data-v="1">1</td>' list.html
check "HTML: the groups table" grep -q '<tr><td>indirectly lost</td><td class="n" data-v="432">432</td><td class="n" data-v="9">9</td><td class="mono">alloc_node+0x' list.html
"$AM" report -o again.txt -o again.html -o again.json list.json
check "report: the same text again" cmp -s list.txt again.txt
check "report: the same HTML again" cmp -s list.html again.html
check "report: the same JSON again" cmp -s list.json again.json

# ---- a cycle: reachable classes too ----------------------------------------------
"$AM" run --leaks -o cycle.json -- "$PROG" cycle
check "cycle: JSON valid" valid cycle.json
check "cycle: 48/1 definite, 96/2 indirect, 96/2 reachable" [ "$(leakq cycle.json cycle \
	'[(l[k]["bytes"], l[k]["count"]) for k in ("definitely_lost", "indirectly_lost", "still_reachable")]')" = "[(48, 1), (96, 2), (96, 2)]" ]

# ---- --leaks=error --------------------------------------------------------------
"$AM" run --leaks=error -o err.json -o err.txt -- "$PROG" list
rc=$?
check "=error: 23 when definitely lost (got $rc)" [ $rc -eq 23 ]
check "=error: JSON exit_status 23, leak_error" [ "$(python3 -c 'import json; r = json.load(open("err.json")); print(r["exit_status"], r["leak_error"], r["processes"][0]["exit_status"])')" = "23 True 0" ]
check "=error: JSON valid" valid err.json
check "=error: the text header says why" grep -q '(exit status 23; --leaks=error: definitely lost bytes)$' err.txt
"$AM" run --leaks=error -o none.json -- "$PROG" none
rc=$?
check "=error: the command's 0 when nothing is lost (got $rc)" [ $rc -eq 0 ]
check "=error, nothing lost: leak_error false" [ "$(python3 -c 'import json; print(json.load(open("none.json"))["leak_error"])')" = False ]
"$AM" run --leaks=error -o /dev/null -- sh -c '"$0" list; exit 3' "$PROG"
rc=$?
check "=error: a non-zero status of the command kept (got $rc)" [ $rc -eq 3 ]
v=$("$AM" run --leaks=error -o /dev/null -- sh -c 'echo "$ALLOCMAP_LEAKS"')
check "=error: the processes get ALLOCMAP_LEAKS=1 (exit as they would)" [ "$v" = 1 ]

# ---- a leaking child of sh -c ------------------------------------------------------
"$AM" run --leaks=error -o sh.json -o sh.txt --all -- sh -c '"$0" list; true' "$PROG"
rc=$?
check "sh -c: 23 from the child's leak (got $rc)" [ $rc -eq 23 ]
check "sh -c: JSON valid" valid sh.json
check "sh -c: the child's definitely lost 48/1" [ "$(leakq sh.json list '(l["definitely_lost"]["bytes"], l["definitely_lost"]["count"])')" = "(48, 1)" ]
check "sh -c: the shell, ended by _exit, not scanned" [ "$(python3 -c 'import json; print([(p["ended"], "leaks" in p) for p in json.load(open("sh.json"))["processes"]])')" = "[('_exit', False), ('exit', True)]" ]
check "sh -c: the child's LEAK SUMMARY in the text" sh -c 'grep -A3 "^LEAK SUMMARY" sh.txt | grep -q "^    definitely lost: 48 bytes in 1 blocks$"'

# ---- without --leaks: nothing -------------------------------------------------------
env -u ALLOCMAP_LEAKS "$AM" run -o plain.json -o plain.txt -- "$PROG" list
check "no --leaks: no leaks object" [ "$(python3 -c 'import json; print("leaks" in json.load(open("plain.json"))["processes"][0])')" = False ]
check "no --leaks: no LEAK SUMMARY" sh -c '! grep -q "LEAK SUMMARY" plain.txt'

# ---- suppressions ---------------------------------------------------------------------
mkdir sub
printf '# the head of the list\n\nleak:alloc_hea?\n' >sub/supp
(cd sub && "$AM" run --leaks=error --suppressions supp -o ../supp.json -- sh -c 'cd / && exec "$0" list' "$PROG")
rc=$?
check "suppressions: relative path, command changes directory: 0 (got $rc)" [ $rc -eq 0 ]
check "suppressions: counted apart" [ "$(leakq supp.json list '(l["definitely_lost"]["bytes"], l["suppressed"]["definitely_lost"]["bytes"], [g["suppressed"] for g in l["groups"] if g["class"] == "definitely_lost"])')" = "(0, 48, [True])" ]
check "suppressions: JSON valid" valid supp.json

# ---- strict options ---------------------------------------------------------------------
err() { # name status message command...
	local name=$1 want=$2 msg=$3; shift 3
	"$@" >/dev/null 2>err.out
	local rc=$?
	if [ $rc -eq "$want" ] && grep -qF -- "$msg" err.out; then ok "$name"; else
		fail "$name (status $rc)"; cat err.out; fi
}
err "--leaks=yes refused" 125 "option '--leaks' takes no value or '=error', not 'yes'" "$AM" run --leaks=yes -- true
err "--leaks= refused" 125 "option '--leaks' takes no value or '=error', not ''" "$AM" run --leaks= -- true
err "--leaks takes no separate value" 127 "" "$AM" run --leaks -o /dev/null error
err "--suppressions without --leaks" 125 "--suppressions is for the leak check: give --leaks too" "$AM" run --suppressions sub/supp -- true
err "--suppressions without a value" 125 "option '--suppressions' needs a value" "$AM" run --leaks --suppressions
err "--suppressions of a missing file" 125 "cannot read the suppressions /nonexistent: No such file or directory" "$AM" run --leaks --suppressions /nonexistent -- true
printf 'leak:ok\nfun:bad\n' >bad.supp
err "--suppressions with a bad line" 125 "bad.supp:2: not a suppression" "$AM" run --leaks --suppressions bad.supp -- true
printf 'leak:\n' >empty.supp
err "--suppressions with an empty pattern" 125 "empty.supp:1: not a suppression" "$AM" run --leaks --suppressions empty.supp -- true
err "report has no --leaks" 125 "report: unknown option '--leaks'" "$AM" report --leaks list.json
# With --stack 8, each lost group carries the stack recorded at its call.
"$AM" run --leaks --stack 8 -o st.json -o st.txt -- "$PROG" list
check "--stack: the run document with frames is schema-valid" valid st.json
check "--stack: the lost group's frames in the JSON" python3 -c '
import json, sys
g = [g for g in json.load(open("st.json"))["processes"][0]["leaks"]["groups"] if g["class"] == "definitely_lost"][0]
sys.exit(not [x.get("function") for x in g["frames"]][:3] == ["alloc_head", "case_list", "main"])'
check "--stack: the lost group's frames in the text" sh -c "grep -A2 'definitely lost at alloc_head' st.txt |
	grep -q '^        #1  case_list+0x[0-9a-f]* in prog_leaks (.*prog_leaks.c:[0-9]*)$'"
finish
