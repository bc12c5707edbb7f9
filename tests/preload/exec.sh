#!/usr/bin/env bash
# The exec family (src/hook/execcalls.c): through each of execve, execv,
# execvp, execvpe, execl, execle, execlp, fexecve and execveat, the
# process's live file says it ended by exec and the new image (true) has
# its own, ending in exit; a failed exec through each leaves errno ENOENT
# and the process running on, to exit 5 with its end written.
. "$(dirname "$0")/lib.sh"
PROG=$(cd "$BUILD/tests" && pwd)/prog_exec
AM=$(cd "$BUILD/bin" && pwd)/allocmap
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT

# ends: "COMMAND=ENDED" for each process of the run directory, sorted.
ends() {
	"$AM" snapshot --all --format json "$run" | python3 -c 'import json,sys
for p in json.load(sys.stdin)["processes"]:
    print("%s=%s" % (p["cmdline"][0].rsplit("/", 1)[-1], p["ended"]))' | sort | tr '\n' ' '
}

for how in execve execv execvp execvpe execl execle execlp fexecve execveat; do
	rm -rf "${run:?}"/*
	ALLOCMAP_RUN_DIR=$run LD_PRELOAD=$LIB "$PROG" "$how"
	rc=$?
	got=$(ends)
	check "$how: exec seen, then true's own end ($got, rc $rc)" [ "$got" = "prog_exec=exec true=exit " ] && [ $rc -eq 0 ]
done

rm -rf "${run:?}"/*
ALLOCMAP_RUN_DIR=$run LD_PRELOAD=$LIB "$PROG" all fail
rc=$?
got=$(ends)
check "failed execs: ENOENT from each, the process runs on ($got, rc $rc)" [ "$got" = "prog_exec=exit " ] && [ $rc -eq 5 ]
finish
