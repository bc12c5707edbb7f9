#!/usr/bin/env bash
# The library's own exit summary (ALLOCMAP_REPORT), used without the CLI:
# each process writes its report (to stderr, a file, or one file per
# pid) with every section, and ALLOCMAP_CHECK_AT_EXIT adds the check's
# result. (`allocmap run` reports from live files instead: cli.sh.)
. "$(dirname "$0")/lib.sh"
enter_work_dir

# Every section a summary has, in order.
SECTIONS='^== allocmap [0-9.]* report: pid [0-9]* (parent [0-9]*) ==$
^command: 
^address space$
^  allocator  *kind  *maps  *seqs  *bytes$
^  object  *object 
^  total  
^events intercepted$
^  mmap  *[0-9]
^not indexed
^  mapping ranges  *[0-9]
^  heap chunks  *[0-9]
^private tiers$
^  reserved  *[0-9.]* [KMG]*i*B  *[0-9.]* [KMG]*i*B$
^  live blocks  *[0-9]
^  bad frees  *0  *0$
^== end of report ==$'

has_sections() { # file
	local re
	while IFS= read -r re; do
		grep -q -- "$re" "$1" || { echo "  missing: $re"; return 1; }
	done <<<"$SECTIONS"
}

count() { grep -c -- "$1" "$2"; }

pre() { env LD_PRELOAD="$LIB" "$@"; }

ls / >plain.out 2>plain.err
pre ALLOCMAP_REPORT=- ls / >run.out 2>run.err
check "summary: stdout unchanged" cmp -s plain.out run.out
check "summary: one report on stderr" [ "$(count '^== allocmap' run.err)" -eq 1 ]
check "summary: every section" has_sections run.err
check "summary: names the command" grep -q '^command: ls /$' run.err
check "summary: no mapping missed" grep -q '^  mapping ranges  *0$' run.err
check "summary: no heap chunk missed" grep -q '^  heap chunks  *0$' run.err

pre ALLOCMAP_REPORT="$work/rep.txt" ls / >run2.out 2>run2.err
check "summary to a file: stderr unchanged" cmp -s plain.err run2.err
check "summary to a file: every section" has_sections rep.txt

mkdir lsdir && touch lsdir/a lsdir/b
(cd lsdir && pre ALLOCMAP_REPORT="$work/per.%p" bash -c 'ls; ls') >/dev/null 2>&1
n=0 good=0
for f in per.*; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	pid=${f#per.}
	if [ "$(count '^== allocmap' "$f")" -eq 1 ] && grep -q "report: pid $pid (parent [0-9]*) ==" "$f" && has_sections "$f"; then
		good=$((good + 1))
	fi
done
check "per pid: one summary per process (got $n)" [ "$n" -ge 2 ]
check "per pid: each file is its own process's" [ "$good" -eq "$n" ]
: >all.txt
pre ALLOCMAP_REPORT="$work/all.txt" bash -c 'ls >/dev/null; ls >/dev/null'
check "one file: every process appends its summary" \
	[ "$(count '^== allocmap' all.txt)" -ge 2 -a "$(count '^== allocmap' all.txt)" -eq "$(count '^== end of report ==$' all.txt)" ]

pre ALLOCMAP_CHECK_AT_EXIT=1 ALLOCMAP_REPORT="$work/chk.txt" ls / >/dev/null
check "check at exit: result in the summary" grep -q '^  0 discrepancies$' chk.txt
check "check at exit: section before the end" has_sections chk.txt
finish
