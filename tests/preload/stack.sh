#!/usr/bin/env bash
# --stack N (issue 13, the stacks part; issue 14, the flame graph) through
# `allocmap run` with the real library, on programs with known stacks:
# prog_stack's allocations all pass through two levels of its own
# wrappers (buf_alloc -> xmalloc) from two callers, which --stack 8 tells
# apart (exact bytes and chunks, frames naming each function at its
# file:line, the wrappers folded); a C++ program's new through a
# wrapper of its own; the text report's indented stacks; the HTML
# page's icicle charts (and, with Chromium, as rendered); without --stack the same program has the one
# site inside xmalloc and no frames; --stack's values checked.
. "$(dirname "$0")/lib.sh"
PROG=$(cd "$BUILD/tests" && pwd)/prog_stack
AM=$(cd "$BUILD/bin" && pwd)/allocmap
SRC=$(cd "$(dirname "$0")/../.." && pwd)
enter_work_dir
q() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); p = d["processes"][0]
S = sorted(p["sites"], key=lambda s: -s["live_bytes"])
print(eval(sys.argv[2]))' "$1" "$2"
}
valid() { python3 "$SRC/tests/cli/validate.py" "$SRC/doc/report-schema.json" "$@" >/dev/null; }
line() { grep -n "$1" "$SRC/tests/preload/$2" | cut -d: -f1; }
lx=$(line 'STACK_X' prog_stack.c | sed -n 2p)
lb=$(line 'STACK_BUF' prog_stack.c | sed -n 2p)
ln=$(line 'STACK_NAMES' prog_stack.c | sed -n 2p)
lt=$(line 'STACK_TABLE' prog_stack.c | sed -n 2p)

"$AM" run --stack 8 -o s.json -o s.txt -o s.html -- "$PROG"
check "stack: exit 0" [ $? -eq 0 ]
check "stack: the JSON is valid" valid s.json
check "stack: depth 8 recorded" [ "$(q s.json 'p["stack_depth"]')" = 8 ]
check "stack: two sites, the callers told apart (make_table 400000 B in 10, make_names 50000 B in 500)" \
	[ "$(q s.json '" ".join("%s:%d:%d:%d" % (s["location"]["function"], s["location"]["line"], s["live_bytes"], s["live_count"]) for s in S if s["live_bytes"])')" = \
	"make_table:$lt:400000:10 make_names:$ln:50000:500" ]
check "stack: frames name xmalloc, buf_alloc, the caller, main at their lines" \
	[ "$(q s.json '" ".join("%s:%s" % (f.get("function"), f.get("line")) for f in S[0]["frames"][:4])')" = \
	"xmalloc:$lx buf_alloc:$lb make_table:$lt main:$(line 'make_table(10)' prog_stack.c)" ]
check "stack: the two wrappers folded" [ "$(q s.json '[s["wrapper_frames"] for s in S]')" = "[2, 2]" ]
check "stack: calls per stack" [ "$(q s.json '[s["calls"] for s in S]')" = "[10, 1000]" ]
check "stack: text names the caller and indents its frames" sh -c "grep -A3 '^top sites by live bytes' s.txt | tr -s ' ' |
	grep -q 'make_table+0x[0-9a-f]* in prog_stack (.*prog_stack.c:$lt)' &&
	grep -A3 '^top sites by live bytes' s.txt | grep -q '^        #0  xmalloc+0x[0-9a-f]* in prog_stack (.*prog_stack.c:$lx)  \[wrapper\]$' &&
	grep -A4 '^top sites by live bytes' s.txt | grep -q '^        #2  make_table+0x'"
check "stack: HTML icicle charts by live bytes and by calls" python3 -c '
import re, sys
s = open("s.html").read()
c = dict(re.findall(r"<svg class=\"flame\" data-by=\"(\w+)\".*?>(.*?)</svg>", s, re.S))
live = c.get("live_bytes", "")
ok = "calls" in c and all(("<title>%s\n" % f) in live for f in ("make_table", "make_names", "buf_alloc", "xmalloc", "main"))
# make_table holds 8/9 of the live bytes: its box is about 889 of the 1000 units wide
m = re.search(r"<title>make_table\n[^<]*</title><rect x=\"[0-9.]+\" y=\"\d+\" width=\"([0-9.]+)\"", live)
sys.exit(not (ok and m and abs(float(m.group(1)) - 888.9) < 2))'
if command -v chromium >/dev/null; then
	# as a person sees it: the page rendered by headless Chromium
	timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$work/s.html" >dom.html 2>/dev/null
	check "stack: Chromium's DOM holds both charts and the boxes' hover titles" python3 -c '
import re, sys
s = open("dom.html").read()
n = len(re.findall(r"<g class=\"frame\"><title>", s))
sys.exit(not (n >= 14 and s.count("<svg class=\"flame\"") == 2 and "make_table\n" in s))'
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,2400 \
		--screenshot="$work/s.png" "file://$work/s.html" >/dev/null 2>&1
	check "stack: the screenshot is not blank" python3 -c '
import sys, zlib, struct
b = open("s.png", "rb").read()
w, h = struct.unpack(">II", b[16:24])
idat, i = b"", 8
while i + 8 <= len(b):  # the PNG chunks: length, type, data, CRC
    n = struct.unpack(">I", b[i:i + 4])[0]
    if b[i + 4:i + 8] == b"IDAT":
        idat += b[i + 8:i + 8 + n]
    i += 12 + n
raw = zlib.decompress(idat)
sys.exit(not (w == 1200 and len(set(raw[::97])) > 8))'
else
	echo "skip chromium (not installed)"
fi

"$AM" run -o d.json -o d.txt -- "$PROG"
check "default: one site inside xmalloc, no frames" \
	[ "$(q d.json '" ".join("%s:%d:%d:%s" % (s["location"]["function"], s["location"]["line"], s["live_bytes"], "frames" in s) for s in S)')" = \
	"xmalloc:$lx:450000:False" ]
check "default: depth 0" [ "$(q d.json 'p["stack_depth"]')" = 0 ]
check "default: no stack lines in the text" sh -c "! grep -q '^        #0 ' d.txt"

if command -v g++ >/dev/null; then
	printf '%s\n' 'struct N { N *next; char pad[200]; };' \
		'struct Pool { __attribute__((noinline)) static N *node_alloc() { N *n = new N; n->next = nullptr; return n; } };' \
		'__attribute__((noinline)) N *build_list(int k) { N *h = nullptr; for (int i = 0; i < k; i++) { N *x = Pool::node_alloc(); x->next = h; h = x; } return h; } // CXX_LIST' \
		'__attribute__((noinline)) N *build_tree(int k) { N *h = nullptr; for (int i = 0; i < k; i++) { N *x = Pool::node_alloc(); x->next = h; h = x; } return h; } // CXX_TREE' \
		'int main() { return build_list(300) == nullptr || build_tree(30) == nullptr; }' >cxx.cc
	g++ -g -O1 cxx.cc -o cxx
	"$AM" run --stack 8 -o cxx.json -- ./cxx
	l1=$(grep -n CXX_LIST cxx.cc | cut -d: -f1)
	l2=$(grep -n CXX_TREE cxx.cc | cut -d: -f1)
	check "c++: the wrapper's two callers told apart, demangled, at their lines" \
		[ "$(q cxx.json '" ".join("%s:%d:%d" % (s["location"]["function"], s["location"]["line"], s["live_count"]) for s in S if "build" in s["location"].get("function", ""))')" = \
		"build_list(int):$l1:300 build_tree(int):$l2:30" ]
	check "c++: frame 0 is Pool::node_alloc(), folded" [ "$(q cxx.json '" ".join("%s %d" % (s["frames"][0]["function"], s["wrapper_frames"]) for s in S if "build" in s["location"].get("function", ""))')" = "Pool::node_alloc() 1 Pool::node_alloc() 1" ]
	check "c++: the JSON is valid" valid cxx.json
else
	echo "skip c++ (g++ not installed)"
fi

for bad in 0 65 x 8x -1; do
	"$AM" run --stack "$bad" -- true 2>err.txt
	check "option: --stack $bad refused" sh -c "[ $? -eq 125 ] && grep -q 'stack' err.txt"
done
"$AM" run --stack -- true 2>err.txt
check "option: --stack -- refused (a forgotten value)" [ $? -eq 125 ]
ALLOCMAP_STACK=lots ALLOCMAP_RUN_DIR="$work" "$PROG" 2>err.txt
check "library: a bad ALLOCMAP_STACK is said, the program runs" sh -c "[ $? -eq 0 ] && grep -q 'ALLOCMAP_STACK' err.txt"
finish
