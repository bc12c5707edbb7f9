#!/usr/bin/env bash
# Security of the environment and the report file:
#   a report file is made mode 0600; a symbolic link, a hard-linked file
#   or another user's file at the report path is refused with a clear
#   message and left untouched;
#   in a set-gid process (AT_SECURE) every ALLOCMAP_* variable is ignored
#   (said once): no report is written.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_mapcheck
dir=$(mktemp -d /tmp/allocmap-secure.XXXXXX)
trap 'rm -rf "$dir"' EXIT

ALLOCMAP_REPORT=$dir/new.txt LD_PRELOAD=$LIB /bin/true 2>/dev/null
mode=$(stat -c %a "$dir/new.txt" 2>/dev/null)
if [ "$mode" = 600 ]; then ok "a new report file is mode 0600"; else fail "report file mode: ${mode:-none}"; fi

echo keep >"$dir/target"
ln -s "$dir/target" "$dir/link"
ALLOCMAP_REPORT=$dir/link LD_PRELOAD=$LIB /bin/true 2>"$dir/err"
if [ "$(cat "$dir/target")" = keep ] && grep -q "symbolic link: refused" "$dir/err"; then
	ok "a symbolic link at the report path is refused"
else
	fail "symbolic link: $(head -2 "$dir/err")"
fi

ln "$dir/target" "$dir/hard"
ALLOCMAP_REPORT=$dir/hard LD_PRELOAD=$LIB /bin/true 2>"$dir/err"
if [ "$(cat "$dir/target")" = keep ] && grep -q "refusing" "$dir/err"; then
	ok "a hard-linked file at the report path is refused"
else
	fail "hard link: $(head -2 "$dir/err")"
fi

ALLOCMAP_REPORT=/dev/null LD_PRELOAD=$LIB /bin/true 2>"$dir/err"
if [ ! -s "$dir/err" ]; then ok "a device (/dev/null) is written as named"; else fail "/dev/null: $(head -2 "$dir/err")"; fi

# set-gid: the real group differs from the effective one (needs root to
# make the copy set-gid to another group; skipped otherwise)
if [ "$(id -u)" = 0 ] && cp "$prog" "$dir/prog" && chgrp nogroup "$dir/prog" && chmod g+s "$dir/prog"; then
	ALLOCMAP_REPORT=$dir/secure.txt ALLOCMAP_CHECK_AT_EXIT=1 "$dir/prog" self 2>"$dir/err"
	n=$(grep -c "ALLOCMAP_\* variables are ignored" "$dir/err")
	if [ ! -e "$dir/secure.txt" ] && [ "$n" = 1 ]; then
		ok "set-gid process: ALLOCMAP_* ignored, said once"
	else
		fail "set-gid process: report $(ls "$dir/secure.txt" 2>&1), said $n times: $(head -2 "$dir/err")"
	fi
else
	ok "set-gid process: skipped (not root)"
fi
finish
