#!/usr/bin/env bash
# Another malloc: one defined in the executable (it wins over ours: said
# once, queries answer at the mapping level), and jemalloc / tcmalloc
# preloaded after allocmap (we forward to them and index their chunks):
# the heap-index scenarios (prog_heapcheck, and prog_heapedge but for the
# glibc-only huge) hold against ground truth, real programs
# behave as without the library, and the check at exit is clean.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_ownmalloc
out=$(LD_PRELOAD=$LIB "$prog" 2>"$BUILD/own.err")
if [ "$out" = "own malloc 0 mapping-level" ] && [ "$(grep -c 'another malloc' "$BUILD/own.err")" = 1 ]; then
	ok "malloc in the executable"
else
	fail "malloc in the executable: '$out' / $(cat "$BUILD/own.err")"
fi
script='my @a; push @a, "x" x ($_ % 300) for 1..100000; print scalar(@a), "\n"'
for other in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4; do
	name=$(basename "$other")
	if [ ! -e "$other" ]; then
		echo "skip $name (not installed)"
		continue
	fi
	for s in heapcheck:api heapcheck:truth heapcheck:threads heapcheck:walk heapcheck:racefree heapcheck:signals \
		heapcheck:many heapcheck:huge heapedge:nested heapedge:racetop heapedge:freedrace heapedge:neighbour \
		heapedge:slack heapedge:reallocfail; do
		if EXPECT_OTHER_MALLOC=1 LD_PRELOAD=$LIB:$other timeout 300 "$BUILD/tests/prog_${s%%:*}" "${s#*:}" \
			2>"$BUILD/other.err"; then
			ok "$name $s"
		else
			fail "$name $s: $(tail -3 "$BUILD/other.err")"
		fi
	done
	if have perl; then
		want=$(perl -e "$script")
		got=$(LD_PRELOAD=$LIB:$other ALLOCMAP_CHECK_AT_EXIT=1 perl -e "$script" 2>"$BUILD/other.err")
		if [ "$got" = "$want" ] && [ "$(grep -c "not glibc's; its chunks are indexed" "$BUILD/other.err")" = 1 ] &&
			! discrepant "$BUILD/other.err"; then
			ok "$name: perl, check at exit"
		else
			fail "$name perl: '$got' / $(head -5 "$BUILD/other.err")"
		fi
	fi
	if have python3; then
		got=$(LD_PRELOAD=$LIB:$other ALLOCMAP_CHECK_AT_EXIT=1 python3 -c \
			'd = {i: str(i) * (i % 40) for i in range(200000)}; print(sum(map(len, d.values())))' \
			2>"$BUILD/other.err")
		if [ "$got" = 21233705 ] && ! discrepant "$BUILD/other.err"; then
			ok "$name: python3, check at exit"
		else
			fail "$name python3: '$got' / $(head -5 "$BUILD/other.err")"
		fi
	fi
	sql='create table t(a,b);
with recursive c(x) as (select 1 union all select x+1 from c where x<50000)
insert into t select x, hex(randomblob(20)) from c;
select count(*), sum(length(b)) from t;'
	if have sqlite3; then
		got=$(echo "$sql" | LD_PRELOAD=$LIB:$other ALLOCMAP_CHECK_AT_EXIT=1 sqlite3 :memory: 2>"$BUILD/other.err")
		if [ "$got" = "50000|2000000" ] && ! discrepant "$BUILD/other.err"; then
			ok "$name: sqlite3, check at exit"
		else
			fail "$name sqlite3: '$got' / $(head -5 "$BUILD/other.err")"
		fi
	fi
done
finish
