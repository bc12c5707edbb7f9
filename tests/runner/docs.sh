#!/usr/bin/env bash
# The README says what the tree does: its package line is the list of
# deps/debian-packages.txt, .ci/run installs through the same step, and
# every environment variable the library, the CLI and the tests read has
# a row in its table.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

list=$(deps/deps.sh list)
if grep -qxF "    $list" README.md; then
	ok "README: the package line is deps/debian-packages.txt"
else
	fail "README: no line '    $list' (the packages of deps/debian-packages.txt)"
fi
if grep -q '^deps/deps.sh install$' .ci/run && ! grep -q 'apt-get' .ci/run; then
	ok ".ci/run: installs with deps/deps.sh, no list of its own"
else
	fail ".ci/run: does not install through deps/deps.sh alone"
fi

# Names passed to getenv or the library's am_env* by the library and the
# CLI, ALLOCMAP_ names by the unit tests, and ${ALLOCMAP_ ones by the runner.
vars=$({
	grep -rhoE '(getenv|am_env[a-z_]*)\("[A-Z_]+"' src cli
	grep -rhoE 'getenv\("ALLOCMAP_[A-Z_]+"' tests/unit
	grep -hoE '\$\{ALLOCMAP_[A-Z_]+' tests/run-all.sh tests/runner/tally.sh
} | sed 's/.*("//; s/"$//; s/^\${//' | sort -u)
[ -n "$vars" ] || fail "found no environment variable in the sources"
for v in $vars; do
	if grep -q "^| \`$v\` |" README.md; then ok "README: $v in the table"; else fail "README: no row for $v"; fi
done
[ "$failures" -eq 0 ]
