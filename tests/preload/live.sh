#!/usr/bin/env bash
# The live file (include/allocmap_live.h) with known answers: prog_live's
# modes under LD_PRELOAD with ALLOCMAP_RUN_DIR, decoded by prog_livedump.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_live
dump=$BUILD/tests/prog_livedump
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT

# live MODE [PROG]: runs it in a fresh run dir; the decoded file of its pid in $out.
live() {
	rm -f "$run"/*
	timeout 120 env ALLOCMAP_RUN_DIR="$run" LD_PRELOAD="$LIB" "${2:-$prog}" "$1" >"$run/stdout" 2>"$run/stderr"
	rc=$?
	out=$("$dump" "$(ls "$run"/proc-*.live | head -1)")
}
field() { echo "$out" | sed -n "s/^$1=//p"; }
# within A B PERCENT: |A - B| <= B * PERCENT / 100
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b * p / 100) }'; }
# The top site by column COL (3: live bytes, 5: peak bytes), as an offset in the main program.
top_offset() {
	local site bias
	site=$(echo "$out" | awk -v c="$1" '$1 == "site" { print $c, $2 }' | sort -n | tail -1 | cut -d' ' -f2)
	bias=$(echo "$out" | awk '$1 == "module" { print $4; exit }')
	printf '%d\n' $((site - bias))
}
# in_function BIN NAME OFFSET: OFFSET lies inside function NAME of BIN.
in_function() {
	local lo size
	read -r lo size < <(nm -S "$1" | awk -v n="$2" '$4 == n { print $1, $2 }')
	[ -n "$lo" ] && [ "$3" -ge $((16#$lo)) ] && [ "$3" -lt $((16#$lo + 16#$size)) ]
}

live hog
if [ $rc = 0 ] && in_function "$prog" hog "$(top_offset 3)" &&
	within "$(echo "$out" | awk '$1 == "site" { print $3 }' | sort -n | tail -1)" $((100 << 20)) 1; then
	ok "hog: top live site is hog(), 100 MiB within 1%"
else fail "hog: $(echo "$out" | grep -E '^(site|module)' | sort -k3 -n | tail -3)"; fi
[ "$(field reason)" = 1 ] && ok "hog: ended by exit" || fail "hog: reason $(field reason)"

live peak
peak=$(field peak_bytes) snap=$(field peak_snap_bytes)
if within "$peak" $((200 << 20)) 2 && within "$snap" $((200 << 20)) 2 && [ "$(field live_bytes)" -lt 65536 ] &&
	in_function "$prog" hog "$(top_offset 5)"; then
	ok "peak: 200 MiB within 2% (peak $peak, sites' copy $snap), freed at exit"
else fail "peak: peak $peak snap $snap live $(field live_bytes)"; fi

live temp
t=$(field temporary)
[ "$t" -ge 1000 ] && [ "$t" -lt 1010 ] && ok "temp: 1000 temporary allocations" || fail "temp: $t"

live exit3
[ "$(field reason)" = 2 ] && [ "$(field status)" = 3 ] && [ "$(field status_known)" = 1 ] &&
	[ "$(field live_bytes)" -ge $((1 << 20)) ] && [ "$(field rss)" -gt 0 ] && ok "_exit(3): end _exit, status 3" ||
	fail "_exit(3): reason $(field reason) status $(field status) rc $rc"

live abort
[ $rc = 134 ] && [ "$(field reason)" = 4 ] && [ "$(field live_bytes)" -ge $((1 << 20)) ] && [ "$(field rss)" -gt 0 ] &&
	ok "abort: killed by SIGABRT as without the library, the end 'signal' written with its heap" ||
	fail "abort: rc $rc reason $(field reason)"

live fork
n=$(ls "$run"/proc-*.live | wc -l)
child=$(for f in "$run"/proc-*.live; do "$dump" "$f"; done | awk -F= '$1 == "live_bytes" && $2 > 10000000')
[ $rc = 0 ] && [ "$n" = 2 ] && [ -n "$child" ] && ok "fork: the child has its own file" || fail "fork: $n files rc $rc"

live strdup
main=$(sed -n 's/^main //p' "$run/stdout")
nsites=0
for s in $(echo "$out" | awk '$1 == "site" { print $2 }'); do
	[ $((s - main)) -gt 0 ] && [ $((s - main)) -lt 512 ] && nsites=$((nsites + 1))
done
[ "$nsites" -ge 3 ] && ok "wrappers: strdup, asprintf, getline sites are their caller" || fail "wrappers: $nsites sites in main"

if command -v g++ >/dev/null; then
	cxx=$run/../livecxx.$$
	printf '%s\n' '#include <vector>' 'struct N { N *next; char pad[1000]; };' \
		'__attribute__((noinline)) N *grow(int n) { N *h = nullptr; for (int i = 0; i < n; i++) { N *x = new N; x->next = h; h = x; } return h; }' \
		'int main() { std::vector<int> v(10); return grow(100000) == nullptr; }' | g++ -O1 -x c++ - -o "$cxx"
	live x "$cxx"
	in_function "$cxx" _Z4growi "$(top_offset 3)" && ok "c++: the top site is the new expression's caller" ||
		fail "c++: $(echo "$out" | grep '^site' | sort -k3 -n | tail -2)"
	rm -f "$cxx"
fi

rm -f "$run"/*
ALLOCMAP_RUN_DIR=relative LD_PRELOAD=$LIB "$prog" temp 2>"$run/err"
[ $? = 0 ] && grep -q "ALLOCMAP_RUN_DIR=relative: not an absolute path" "$run/err" && ok "bad ALLOCMAP_RUN_DIR: said, program runs" ||
	fail "bad ALLOCMAP_RUN_DIR: $(cat "$run/err")"
finish
