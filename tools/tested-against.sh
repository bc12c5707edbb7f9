#!/usr/bin/env bash
# Runs real programs and test suites nobody here wrote, each once without
# and once with the library preloaded (ALLOCMAP_CHECK_AT_EXIT=1 with
# ALLOCMAP_REPORT: every process checks the index against
# /proc/self/maps as it exits and writes the result to a report file of
# its own: not to stderr, which coreutils close at exit), and
# prints the README's "Tested against" table in Markdown: exit status and
# output (compared byte for byte where the program's output is
# deterministic), the worst discrepancy count any process reported, and
# the wall time of each run. Anything missing is a row saying so.
#
#   tools/tested-against.sh [BUILD]          (default build; takes minutes)
#
# Environment: PYTHON, a python3 whose `-m test` suite is installed
# (Debian: libpython3.11-testsuite; default python3); JOBS for regrtest
# (default 2).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
LIB=$BUILD/lib/liballocmap.so
PY=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)') # past a pyenv shim
JOBS=${JOBS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$LIB" ] || { echo "tested-against: no $LIB (make first)" >&2; exit 2; }

# run NAME DETERMINISTIC CMD...: one table row.
run() {
	local name=$1 det=$2; shift 2
	local t0 t1 t2 rc0 rc1 same worst
	t0=$(date +%s.%N)
	(cd "$work" && "$@") >"$work/out0" 2>"$work/err0"
	rc0=$?
	t1=$(date +%s.%N)
	rm -rf "$work/rep" && mkdir "$work/rep"
	(cd "$work" && ALLOCMAP_CHECK_AT_EXIT=1 ALLOCMAP_REPORT="$work/rep/%p" LD_PRELOAD=$LIB "$@") >"$work/out1" 2>"$work/err1"
	rc1=$?
	t2=$(date +%s.%N)
	same=n/a
	[ "$det" = yes ] && { cmp -s "$work/out0" "$work/out1" && same=same || same=DIFFERENT; }
	worst=$(cat "$work"/rep/* 2>/dev/null | sed -n 's/^  \(-\{0,1\}[0-9]*\) discrepancies$/\1/p' | sort -n | tail -1)
	local procs
	procs=$(cat "$work"/rep/* 2>/dev/null | grep -c '^  -\{0,1\}[0-9]* discrepancies$')
	if [ "$det" = no ] && grep -q 'tests\{0,1\} failed\|^Result' "$work/out0"; then
		{ echo "- $name: without the library: $(grep -h 'tests\{0,1\} failed\|^Result' "$work/out0" | tr '\n' ' ')"
		  echo "  with it: $(grep -h 'tests\{0,1\} failed\|^Result' "$work/out1" | tr '\n' ' ')"
		  grep -A1 'tests\{0,1\} failed' "$work/out0" | tail -1 | sed 's/^/  failed without it: /'
		  grep -A1 'tests\{0,1\} failed' "$work/out1" | tail -1 | sed 's/^/  failed with it: /'; } >>"$work/notes"
	fi
	local cmd="$*"
	printf '| %s | `%s` | %s | %s | %s | %s in %s processes | %.1f s / %.1f s |\n' "${name//|/\\|}" "${cmd//|/\\|}" "$rc0" "$rc1" \
		"$same" "${worst:-none reported}" "$procs" "$(awk "BEGIN { print $t1 - $t0 }")" "$(awk "BEGIN { print $t2 - $t1 }")"
}
missing() { printf '| %s | - | not run: %s | | | | |\n' "$1" "$2"; }
have() { command -v "$1" >/dev/null; }

echo "| program | command | exit without | exit with | output | discrepancies (worst) | time without / with |"
echo "|---|---|---|---|---|---|---|"

if "$PY" -m test --help >/dev/null 2>&1 && "$PY" -c 'import test.test_mmap' 2>/dev/null; then
	run "CPython regrtest (mapping, signals, threads, processes)" no "$PY" -m test -j"$JOBS" test_mmap test_signal \
		test_threading test_thread test_subprocess test_os test_resource test_faulthandler test_gc test_weakref \
		test_ctypes test_json test_re test_multiprocessing_main_handling test_tempfile test_zlib
else
	missing "CPython regrtest" "no test suite for $PY (Debian: libpython3.11-testsuite)"
fi
cat >"$work/churn.py" <<'PY'
import hashlib, json
d = {}
for i in range(200000):
    d["k%d" % i] = [i, str(i) * 3, {"x": i}]
s = json.dumps(d)
print(len(s), hashlib.sha256(s.encode()).hexdigest())
PY
run "python3 dicts and JSON" yes "$PY" "$work/churn.py"
if have sqlite3; then
	cat >"$work/q.sql" <<'SQL'
create table t(a integer primary key, b text);
with recursive c(x) as (select 1 union all select x+1 from c where x<200000) insert into t select x, 'v' || x from c;
create index ib on t(b);
select count(*), sum(a), max(b) from t;
SQL
	run "sqlite3 (200k rows, index)" yes sh -c "sqlite3 :memory: <'$work/q.sql'"
else missing sqlite3 "not installed"; fi
if have perl; then
	run "perl hashes and strings" yes perl -e 'my %h; $h{"k$_"} = "v" x ($_ % 50) for 1..300000; my $s = 0; $s += length($h{$_}) for keys %h; print "$s\n"'
else missing perl "not installed"; fi
if have node; then
	cat >"$work/w.js" <<'JS'
const { Worker, isMainThread, parentPort } = require('worker_threads');
if (isMainThread) {
  let done = 0, sum = 0;
  for (let i = 0; i < 4; i++) {
    const w = new Worker(__filename);
    w.on('message', (m) => { sum += m; if (++done === 4) console.log(sum); });
  }
} else {
  const a = []; for (let i = 0; i < 300000; i++) a.push({ i, s: 'x' + i });
  parentPort.postMessage(a.reduce((t, o) => t + o.s.length, 0));
}
JS
	run "node, 4 worker_threads" yes node "$work/w.js"
else missing node "not installed"; fi
run "gcc -O2 (allocmap's own sources)" no sh -c "for f in '$SRC'/src/*/*.c; do gcc -O2 -std=c11 -D_GNU_SOURCE -I'$SRC/include' -c \"\$f\" -o /dev/null || exit 1; done"
if have git && [ -d "$SRC/.git" ]; then
	run "git log --stat" yes git -C "$SRC" log --stat -n 200
else missing git "no git or no repository"; fi
run "tar | xz | xz -d | sha256sum" yes sh -c "tar -C '$SRC' -cf - src include | xz -T2 | xz -d | sha256sum"
run "sort of 1M lines" yes sh -c 'seq 1000000 | sort -r | md5sum'
if have make; then
	run "make -n (allocmap's Makefile)" yes make -C "$SRC" -n BUILD="$work/b"
fi
if [ -s "$work/notes" ]; then echo; cat "$work/notes"; fi
