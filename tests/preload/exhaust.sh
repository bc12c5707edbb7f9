#!/usr/bin/env bash
# More mappings than the index can record (prog_exhaust), linked and
# preloaded: with a small ALLOCMAP_MAX_SEQUENCES the no-mmap tier runs out
# (1.25 MiB for 2048 sequences) long before vm.max_map_count; with the
# default sizing the kernel's map count runs out first. Either way the
# program completes, every query answers unknown or the truth, the misses
# are counted, and stderr holds exactly one line: the library's warning.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_exhaust
err=$(mktemp)
trap 'rm -f "$err"' EXIT

# name, expected warning, then the command
run() {
	local name=$1 want=$2
	shift 2
	if ! "$@" 2>"$err"; then
		fail "$name (exit status)"
		cat "$err"
	elif [ "$(wc -l <"$err")" -ne 1 ] || ! grep -q "^allocmap: .*$want" "$err"; then
		fail "$name (want one warning line matching '$want')"
		cat "$err"
	else
		ok "$name: $(cat "$err")"
	fi
}

tier="no-mmap tier exhausted"
count="failed part-way"
run "linked exhaust" "$tier" env ALLOCMAP_MAX_SEQUENCES=2048 "$prog" exhaust
run "preload exhaust" "$tier" env ALLOCMAP_MAX_SEQUENCES=2048 LD_PRELOAD="$LIB" "$prog" exhaust
run "linked mapcount" "$count" "$prog" mapcount
run "preload mapcount" "$count" env LD_PRELOAD="$LIB" "$prog" mapcount
finish
