#!/usr/bin/env bash
# The debug build (make debug: $BUILD/debug/, -DAM_DEBUG), which runs the
# validators at every index writer's exit and every tier leave and aborts
# on a broken invariant: the validators' unit test built against it (it
# also shows a broken tier and a broken index abort there), then real
# workloads under it, each of which must end as it does without the
# library, with no discrepancy at exit: programs linked with the library
# (LD_LIBRARY_PATH puts the debug build before their run path), the
# mapping fuzzer for a few seeds, and real programs under LD_PRELOAD.
. "$(dirname "$0")/lib.sh"
DEBUG=$BUILD/debug
DDIR=$(cd "$DEBUG/lib" 2>/dev/null && pwd)
DLIB=$DDIR/liballocmap.so
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -f "$DLIB" ] || [ ! -x "$DEBUG/tests/test_validate" ]; then
	fail "debug build missing: run make debug"
	finish
	exit
fi

out=$("$DEBUG/tests/test_validate" 2>&1)
if [ $? -eq 0 ] && grep -q 'debug_tier_leave_aborts' <<<"$out"; then
	ok "test_validate against the debug build ($(grep -c '^\[       OK' <<<"$out") cases)"
else
	fail "test_validate against the debug build"; tail -20 <<<"$out"
fi

# The linked programs load the debug build, not build/lib's.
check "linked programs load the debug build" \
	grep -q "$DLIB" <(LD_LIBRARY_PATH=$DDIR ldd "$BUILD/tests/prog_mapcheck")

# name command...: exit 0, nothing on stderr but the check's clean line.
run_debug() {
	local name=$1; shift
	local err=$work/err rc
	ALLOCMAP_CHECK_AT_EXIT=1 timeout -k 5 120 "$@" >"$work/out" 2>"$err"; rc=$?
	if [ $rc -eq 0 ] && ! grep -qv '^allocmap: 0 discrepancies$' "$err"; then
		ok "$name"
	else
		fail "$name (exit $rc)"; tail -5 "$err"
	fi
}

for s in startup anon file dlopen random threads fork large_malloc; do
	run_debug "linked prog_mapcheck $s" env LD_LIBRARY_PATH="$DDIR" "$BUILD/tests/prog_mapcheck" "$s"
done
for seed in 1 2 3; do
	run_debug "linked mapfuzz seed $seed" env LD_LIBRARY_PATH="$DDIR" "$BUILD/tests/prog_mapfuzz" "$seed" 20000 1000
done
run_debug "preload prog_mallocsem" env LD_PRELOAD="$DLIB" "$BUILD/tests/prog_mallocsem"
run_debug "preload ls -lR /usr/include" env LD_PRELOAD="$DLIB" ls -lR /usr/include
run_debug "preload sh pipeline" env LD_PRELOAD="$DLIB" sh -c 'seq 1 20000 | sort -r | uniq | wc -l'
if have python3; then
	run_debug "preload python3" env LD_PRELOAD="$DLIB" python3 -c '
import json, threading
d = {str(i): list(range(i % 40)) for i in range(30000)}
s = json.dumps(d)
ts = [threading.Thread(target=lambda: json.loads(s)) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(len(s))'
	grep -q '^[0-9]' "$work/out" || fail "preload python3: no output"
fi
finish
