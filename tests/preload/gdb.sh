#!/usr/bin/env bash
# tools/gdb/allocmap.py in gdb -batch on tests/preload/prog_gdb.c (linked
# with -lallocmap): allocmap whatis on a chunk (base, size, requested,
# site symbolised to function and file:line), inside it, on a mapping, on
# a loaded object, on nothing; the program's own state untouched by the
# call; the same in a process gdb attaches to; allocmap sites listing the
# chunk's site among the top ones, there and attached. Skipped (one ok line) without gdb.
# A program started under gdb, and under lldb, keeps its loader hook.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PROG=$(cd "$BUILD/tests" && pwd)/prog_gdb
PY=$SRC/tools/gdb/allocmap.py
work=$(cd "$(mktemp -d)" && pwd -P)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" || exit 1

if ! command -v gdb >/dev/null; then
	ok "gdb: not installed, skipped"
	exit 0
fi
line=$(grep -n 'GDB_SITE' "$SRC/tests/preload/prog_gdb.c" | tail -1 | cut -d: -f1)
G() { timeout 60 gdb -nx -batch -x "$PY" "$@" 2>&1; }

G -ex 'break stop_here' -ex run -ex 'allocmap whatis p' -ex 'allocmap whatis p + 10' -ex 'allocmap whatis m' \
	-ex 'allocmap whatis &p' -ex 'allocmap whatis 0' -ex 'up' -ex 'print info.size' -ex 'print $sp' \
	-ex 'allocmap whatis info' -ex 'print $sp' -ex 'allocmap sites 50' -ex 'allocmap sites x' -ex continue "$PROG" >run.out
chunk() { # file: the chunk of 100 bytes, symbolised
	awk '/^0x[0-9a-f]*: heap chunk, offset 0 in/{f=1} f' "$1" | head -9 >chunk.txt
	grep -q '^  size       112$' chunk.txt && grep -q '^  requested  100$' chunk.txt &&
		grep -q "^  site       0x[0-9a-f]* make + [0-9]* in section .text of .*/prog_gdb at .*prog_gdb.c:$line$" chunk.txt &&
		grep -q '^  kind       heap chunk$' chunk.txt && grep -q '^  allocator  malloc$' chunk.txt &&
		grep -q '^  map        \[0x[0-9a-f]*, 0x[0-9a-f]*) rw-, [0-9]* bytes$' chunk.txt
}
check "whatis: a chunk, its site at file:line" chunk run.out
check "whatis: inside a chunk" grep -q '^0x[0-9a-f]*: heap chunk, offset 10 in ' run.out
check "whatis: a mapping" sh -c "grep -q '^0x[0-9a-f]*: anonymous mapping, offset 0 in ' run.out &&
	grep -q '^  size       1048576$' run.out && grep -q '^  allocator  mmap$' run.out"
check "whatis: a loaded object, its path" sh -c "grep -q '^0x[0-9a-f]*: loaded object, offset ' run.out &&
	grep -q '^  path       $PROG$' run.out"
check "whatis: nothing" grep -q '^0x0: not in anything allocmap knows$' run.out
check "whatis: a struct is where it is (its address)" grep -q '^0x7ff[0-9a-f]*: stack, offset ' run.out
check "whatis: the frame's state untouched" sh -c "grep -q '^\$1 = 112$' run.out &&
	[ \"\$(grep '^\$[23] = ' run.out | sed 's/^\$[0-9]* = //' | uniq | wc -l)\" -eq 1 ]"
check "whatis: the program carries on" grep -q '^112$' run.out
sites() { # file: make's 100-byte chunk among the top sites, at file:line
	grep -q '^top [0-9]* of [0-9]* live sites by bytes$' "$1" &&
		grep -q "^ *100 bytes  *1 chunk   0x[0-9a-f]* make + [0-9]* in section .text of .*/prog_gdb at .*prog_gdb.c:$line$" "$1"
}
check "sites: the top live sites, symbolised" sites run.out
check "sites: a bad N said" grep -q "allocmap sites: N must be a number, not 'x'" run.out

# Started under gdb with the library preloaded (issue 12): gdb's breakpoint
# sits on _dl_debug_state, so ld.so's calls of it are redirected instead;
# a dlopen'ed object is indexed (holes_main checks every loaded object,
# its gaps plugged, and the check at exit), and gdb still sees it load
# (a pending breakpoint in it is hit).
holey="-Wl,-z,max-page-size=0x200000 -Wl,-z,separate-code"
cc -std=c11 -D_GNU_SOURCE -O1 -g -fPIC -shared $holey "$SRC/tests/preload/holes_dso.c" -o libholes_dso.so &&
	cc -std=c11 -D_GNU_SOURCE -O1 -g -I"$SRC/include" $holey "$SRC/tests/preload/holes_main.c" -o holes_main \
		-L"$(dirname "$LIB")" -Wl,-rpath,"$(dirname "$LIB")" -lallocmap -ldl
HM=$work/holes_main
# debugged NAME FILE EXITED STOPPED: holes_main's run under debugger NAME,
# its output in FILE, ended (EXITED) after a stop at its breakpoint (STOPPED).
debugged() {
	check "under $1: ld.so's calls redirected" grep -q 'its [0-9]* calls in ld.so redirected instead' "$2"
	check "under $1: the dlopen'ed object indexed, its gaps plugged, 0 discrepancies" sh -c \
		"grep -q '^dlopen  *libholes_dso.so ' '$2' && grep -q '^allocmap: 0 discrepancies$' '$2' &&
		grep -q '$3' '$2'"
	check "under $1: $1 still sees the object load" grep -q "$4" "$2"
}
timeout 120 gdb -nx -batch -ex 'set breakpoint pending on' -ex 'break holes_dso_fn' \
	-ex "set environment LD_PRELOAD=$LIB" -ex 'set environment ALLOCMAP_CHECK_AT_EXIT=1' -ex run -ex continue \
	--args "$HM" "$(dirname "$HM")/libholes_dso.so" >under.out 2>&1
debugged gdb under.out 'exited normally' '^Breakpoint 1, holes_dso_fn '

# The same under lldb, whose breakpoint sits there too.
if command -v lldb >/dev/null; then
	timeout 120 lldb -b -o 'breakpoint set -n holes_dso_fn' \
		-o "process launch -E LD_PRELOAD=$LIB -E ALLOCMAP_CHECK_AT_EXIT=1" -o continue \
		-- "$HM" "$(dirname "$HM")/libholes_dso.so" 2>&1 | tr -d '\r' >lldb.out # the program's lines come through a pty
	debugged lldb lldb.out 'exited with status = 0' 'stop reason = breakpoint 1'
else
	echo "skip under lldb (not installed)"
fi

# Attached to a running process.
"$PROG" wait >pid.txt &
pid=$!
for _ in $(seq 50); do [ -s pid.txt ] && break; sleep 0.1; done
G -p "$pid" -ex 'allocmap whatis p' -ex 'allocmap sites 50' -ex 'set var go = 1' -ex detach >attach.out
wait "$pid"
rc=$? pid=
check "attached: a chunk, its site at file:line" chunk attach.out
check "attached: sites" sites attach.out
check "attached: the process carries on" [ "$rc" -eq 0 ]
finish
