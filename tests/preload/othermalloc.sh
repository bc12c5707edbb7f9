#!/usr/bin/env bash
# Another malloc: one defined in the executable (it wins over ours), and
# jemalloc / tcmalloc preloaded after allocmap (we forward to them). The
# programs behave as without the library, allocmap says once that it does
# not index the heap, and the mapping index stays exact.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_ownmalloc
out=$(LD_PRELOAD=$LIB "$prog" 2>"$BUILD/own.err")
if [ "$out" = "own malloc 0 mapping-level" ] && [ "$(grep -c 'another malloc' "$BUILD/own.err")" = 1 ]; then
	ok "malloc in the executable"
else
	fail "malloc in the executable: '$out' / $(cat "$BUILD/own.err")"
fi
for other in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4; do
	name=$(basename "$other")
	if [ ! -e "$other" ]; then
		echo "skip $name (not installed)"
		continue
	fi
	want=$(perl -e 'my @a; push @a, "x" x ($_ % 300) for 1..100000; print scalar(@a), "\n"')
	got=$(LD_PRELOAD=$LIB:$other ALLOCMAP_CHECK_AT_EXIT=1 perl -e 'my @a; push @a, "x" x ($_ % 300) for 1..100000; print scalar(@a), "\n"' 2>"$BUILD/other.err")
	if [ "$got" = "$want" ] && grep -q "not glibc's" "$BUILD/other.err" && ! grep -q discrepanc "$BUILD/other.err"; then
		ok "$name preloaded after allocmap"
	else
		fail "$name: '$got' / $(head -5 "$BUILD/other.err")"
	fi
done
finish
