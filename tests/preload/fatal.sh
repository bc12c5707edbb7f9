#!/usr/bin/env bash
# Fatal signals (src/hook/fatal.c): a process killed by SIGSEGV, SIGABRT,
# SIGTERM, SIGPIPE or SIGUSR1 under a live file ends exactly as without
# the library (signal, core-dump bit: compared with a native run, core
# files allowed) and its live file says how it ended, with its figures
# (1000 chunks of 1 KiB live); a program's own SIGSEGV handler still
# recovers; what the program reads of its actions (sigaction, signal,
# sigset) is what it set. Also through `allocmap run`: exit status 128+N
# and "ended: SIG...".
. "$(dirname "$0")/lib.sh"
PROG=$(cd "$BUILD/tests" && pwd)/prog_fatal
AM=$(cd "$BUILD/bin" && pwd)/allocmap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# outcome [ENV...] -- MODE: "exit N" or "signal N core C" of one run,
# in a fresh directory (where a core file may land).
outcome() {
	local env=()
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	python3 - "$PROG" "$1" "$work/cwd" "${env[@]}" <<'PY'
import os, resource, signal, sys, shutil
prog, mode, cwd, env = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
shutil.rmtree(cwd, ignore_errors=True); os.makedirs(cwd)
e = dict(os.environ, **dict(x.split("=", 1) for x in env))
def core(): resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
pid = os.fork()
if pid == 0:
    core(); signal.signal(signal.SIGPIPE, signal.SIG_DFL); os.chdir(cwd); os.execve(prog, [prog, mode], e)
_, st = os.waitpid(pid, 0)
print("signal %d core %d" % (os.WTERMSIG(st), os.WCOREDUMP(st)) if os.WIFSIGNALED(st) else "exit %d" % os.WEXITSTATUS(st))
PY
}
# ended DIR: how the live file in DIR says its process ended, and its live chunks.
ended() {
	"$AM" snapshot --format json "$1" | python3 -c 'import json,sys
p = json.load(sys.stdin)["processes"][0]
print(p["ended"], p.get("signal", "-"), p["heap"]["live_chunks"])'
}

for m in segv:11 abort:6 term:15 pipe:13 view:15 hold:10; do
	mode=${m%:*} sig=${m#*:}
	native=$(outcome -- "$mode")
	rm -rf "$work/run" && mkdir "$work/run"
	under=$(outcome LD_PRELOAD="$LIB" ALLOCMAP_RUN_DIR="$work/run" -- "$mode")
	check "$mode: ends as natively ($native)" [ "$under" = "$native" ]
	check "$mode: native outcome is signal $sig" [ "${native% core*}" = "signal $sig" ]
	got=$(ended "$work/run")
	case $mode in
	segv | abort | term | pipe) want="signal $sig 10[0-9][0-9]" ;;
	*) want="signal $sig [0-9]*" ;;
	esac
	check "$mode: the live file says signal $sig ($got)" sh -c "echo '$got' | grep -qx '$want'"
done

native=$(outcome -- vfork)
under=$(outcome LD_PRELOAD="$LIB" ALLOCMAP_RUN_DIR="$work/run" -- vfork)
check "vfork child's SIG_DFL leaves the parent's handler ($under)" [ "$under" = "exit 0" ] && [ "$native" = "exit 0" ]

native=$(outcome -- own)
under=$(outcome LD_PRELOAD="$LIB" ALLOCMAP_RUN_DIR="$work/run" -- own)
check "own handler: recovers as natively ($under)" [ "$under" = "exit 7" ] && [ "$native" = "exit 7" ]

"$AM" run -- "$PROG" segv >"$work/out" 2>&1
rc=$?
check "allocmap run: segv exits 139 ($rc)" [ "$rc" -eq 139 ]
check "allocmap run: the report says SIGSEGV" grep -q '^ended: SIGSEGV after ' "$work/out"
check "allocmap run: the report has the heap" grep -q '^  heap chunks  *10[0-9][0-9] ' "$work/out"
finish
