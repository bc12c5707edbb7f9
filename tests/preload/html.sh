#!/usr/bin/env bash
# The HTML report (issue 14) on live files with known contents, written by
# tests/cli/live_fixture (no library needed): one self-contained page
# (no network reference, no external script, style or font), well-formed,
# with the process table's anchors, the pictures (address space, timeline)
# as inline SVG, the site table with symbols and file:line, every string
# from the run escaped. Looking at it in a browser is not part of the
# suite (tools/html-screenshot.sh does that by hand when chromium is there).
. "$(dirname "$0")/lib.sh"
AM=$(cd "$BUILD/bin" && pwd)/allocmap
FIX=$(cd "$BUILD/tests" && pwd)/live_fixture
SRC=$(cd "$(dirname "$0")/../.." && pwd)
enter_work_dir

has() { grep -qF -- "$2" "$1"; }  # file string
hasnt() { ! grep -qiE -- "$2" "$1"; } # file regex

# Balanced tags (void elements aside), by python3's html.parser.
wellformed() { # file
	python3 - "$1" <<'PY'
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "embed", "source", "track", "wbr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.errors.append((tag, self.getpos(), self.stack[-3:]))
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
if p.stack or p.errors:
    print("unbalanced:", p.stack, p.errors[:5], file=sys.stderr)
sys.exit(bool(p.stack or p.errors))
PY
}

selfcontained() { # file: nothing fetched from anywhere
	hasnt "$1" 'https?://' && hasnt "$1" '<script[^>]*src=' && hasnt "$1" '<link' &&
		hasnt "$1" '<img' && hasnt "$1" '@import' && hasnt "$1" 'url\([^#]'
}

# ---- the fixed three-process run --------------------------------------------
mkdir fixed && "$FIX" write fixed
"$AM" snapshot --format json fixed >fixed.json
"$AM" report fixed.json --format html -o fixed.html
check "fixed: a page" sh -c 'head -1 fixed.html | grep -qx "<!DOCTYPE html>" && tail -1 fixed.html | grep -qx "</html>"'
check "fixed: well-formed" wellformed fixed.html
check "fixed: self-contained" selfcontained fixed.html
check "fixed: the process table" has fixed.html '<h2 id="processes">Processes (3)</h2>'
for pid in 5000001 5000002 5000003; do
	check "fixed: pid $pid linked to its section" sh -c "grep -qF 'href=\"#pid-$pid\"' fixed.html &&
		grep -qF '<section id=\"pid-$pid\">' fixed.html"
done
check "fixed: the killed process's note" has fixed.html 'killed by a signal it cannot catch (SIGKILL)'
check "fixed: the address space picture" has fixed.html '<svg class="space"'
check "fixed: regions by kind, hover details" python3 -c '
import sys, re
s = open("fixed.html").read()
t = re.findall(r"<title>([^<]*)</title>", s)
sys.exit(not any("16.0 MiB" in x and "kind: heap" in x and "allocator: brk" in x and "resident: 12.0 MiB" in x for x in t)
         or not any("0x555555554000-0x555555560000" in x and "path: /nonexistent/prog" in x for x in t))'
check "fixed: allocmap's own hatched" sh -c 'grep -q "fill=\"url(#hatch-5000001)\"" fixed.html && grep -q "<pattern id=\"hatch-5000001\"" fixed.html'
check "fixed: heap and RSS figures" sh -c 'grep -q "<td>heap live bytes</td><td class=\"n\">12.0 MiB</td><td class=\"n\">3.00 MiB</td>" fixed.html &&
	grep -q "<td>resident (RSS)</td><td class=\"n\">18.0 MiB</td><td class=\"n\">9.00 MiB</td>" fixed.html'
check "fixed: sites by object+offset without symbols" has fixed.html '0x555555555234 <span class="dim">in prog+0x1234</span>'
check "fixed: site numbers sortable by value" has fixed.html '<td class="n" data-v="2097152">2.00 MiB</td><td class="n" data-v="2048">2048</td><td class="n" data-v="4194304">4.00 MiB</td><td class="n" data-v="2048">2048</td>'
check "fixed: sorting script inline" sh -c 'grep -q "<table class=\"sortable sites\">" fixed.html && grep -q "^<script>document.querySelectorAll(.table.sortable.)" fixed.html'
check "fixed: leaked at exit" has fixed.html '3.00 MiB in 3100 chunks still live when the process ended'

# ---- a live run: symbols and the timeline --------------------------------------------
line=$(grep -n 'CALL_LINE_BIG' "$SRC/tests/cli/live_fixture.c" | head -1 | cut -d: -f1)
"$AM" run -o live.json -o live.html -- "$FIX" child -f 2 -s 30 -e 4
check "live: status kept with an html output" [ $? -eq 4 ]
check "live: well-formed" wellformed live.html
check "live: self-contained" selfcontained live.html
check "live: header with the command and its status" sh -c "grep -qF '<tr><th>command</th><td><code>$FIX child -f 2 -s 30 -e 4</code></td></tr>' live.html &&
	grep -qF '<tr><th>exit status</th><td>4</td></tr>' live.html"
check "live: every process anchored and linked" python3 -c '
import json, sys
s = open("live.html").read()
p = json.load(open("live.json"))["processes"]
sys.exit(not (len(p) == 3 and all(("href=\"#pid-%d\"" % x["pid"]) in s and ("<section id=\"pid-%d\">" % x["pid"]) in s for x in p)))'
check "live: sites symbolised with file:line" sh -c "grep -q 'child_process+0x[0-9a-f]* <span class=\"dim\">in live_fixture</span></td><td class=\"mono\">[^<]*live_fixture.c:$line</td>' live.html"
check "live: every site of the run in the page" python3 -c '
import json, sys
s = open("live.html").read()
for p in json.load(open("live.json"))["processes"]:
    for t in p.get("sites", []):
        l = t["location"]
        if l.get("function") and "%s+0x%x" % (l["function"], l["function_offset"]) not in s: sys.exit(1)
        if l.get("file") and "%s:%d" % (l["file"], l["line"]) not in s: sys.exit(1)'
check "live: the timeline chart" python3 -c '
import json, sys, re
s = open("live.html").read()
n = len(json.load(open("live.json"))["processes"][0]["timeline"]["t_ns"])
charts = re.findall(r"<svg class=\"timeline\".*?</svg>", s, re.S)
first = charts[0] if charts else ""
heap = re.search(r"<polyline class=\"heap\" points=\"([^\"]*)\"", first)
sys.exit(not (heap and len(heap.group(1).split()) == n and "<polyline class=\"rss\"" in first
              and "heap peak " in first and "time since the process started" in first and "MiB</text>" in first))'
check "live: the address space picture, objects in address order" python3 -c '
import sys, re
s = open("live.html").read()
svg = re.search(r"<svg class=\"space\".*?</svg>", s, re.S).group(0)
svg = svg[svg.index("loaded objects in address order"):]
starts = [int(x, 16) for x in re.findall(r"<title>0x([0-9a-f]+)-0x", svg)]
sys.exit(not (len(starts) >= 2 and starts == sorted(starts) and "liballocmap.so" in svg))'
"$AM" run -o real.json -o real.html -- ls / >/dev/null
check "real: every region in address order, allocmap's own hatched" python3 -c '
import json, sys, re
s = open("real.html").read()
p = json.load(open("real.json"))["processes"][0]
svg = re.search(r"<svg class=\"space\".*?</svg>", s, re.S).group(0)
rows = svg[svg.index("every region in address order"):svg.index("loaded objects in address order")]
starts = [int(x, 16) for x in re.findall(r"<title>0x([0-9a-f]+)-0x", rows)]
want = [int(r["start"], 16) for r in p["regions"]]
own = re.findall(r"<title>[^<]*kind: self[^<]*</title><rect[^>]*/><rect[^>]*/><rect[^>]*url\(#hatch", rows)
sys.exit(not (len(want) >= 5 and starts == sorted(starts) and set(want) <= set(starts)
              and "liballocmap.so" in rows and "resident: " in rows and own))'
"$AM" report live.json --format html -o again.html
check "report: the saved run renders the same page" cmp -s live.html again.html

# ---- escaping: every string from the run -------------------------------------------
python3 - <<'PY'
import json
d = json.load(open("fixed.json"))
bad = "<script>alert(1)</script>&\"'"
d["command"] = ["prog", bad]
d["notes"] = ["note " + bad]
p = d["processes"][1]
p["cmdline"] = ["prog", bad]
p["exe"] = "/x/" + bad
p["modules"][0]["path"] = "/x/" + bad
p["space"][0]["kind"] = bad
p["sites"][0]["location"].update(function="f" + bad, file="/src/" + bad + ".c", line=7, function_offset=1)
none = {"bytes": 0, "count": 0}
classes = {k: dict(none) for k in ("definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable")}
p["leaks"] = dict(classes, suppressed=classes, complete=True, groups=[{"class": "definitely_lost", "bytes": 5,
    "count": 1, "suppressed": False, "location": {"addr": "0x1", "object": "/x/" + bad, "function": "g" + bad,
    "function_offset": 1, "file": "/src/" + bad + ".c", "line": 9}}])
json.dump(d, open("bad.json", "w"))
PY
"$AM" report bad.json --format html -o bad.html
check "escaping: no markup from the run" sh -c '! grep -q "<script>alert" bad.html && ! grep -q "alert(1)</script>&\"" bad.html'
check "escaping: the strings shown escaped" python3 -c '
import sys
s = open("bad.html").read()
e = "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;"
sys.exit(not (s.count(e) >= 8 and ("/src/" + e + ".c:7") in s))'
check "escaping: well-formed" wellformed bad.html
check "leaks: a group's site escaped" grep -qF '<tr><td>definitely lost</td><td class="n" data-v="5">5</td><td class="n" data-v="1">1</td><td class="mono">g&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;+0x1' bad.html
finish
