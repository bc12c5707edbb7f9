# allocmap's gdb commands (issue 14). Load with
#     source PREFIX/share/allocmap/gdb/allocmap.py
# in a gdb session (or in ~/.gdbinit), on a process that has liballocmap
# loaded (linked with -lallocmap or started with LD_PRELOAD / allocmap run).
#
#   allocmap whatis EXPR   what holds the address EXPR: base, size, requested
#                          size, allocation site (symbolised by gdb, with
#                          file:line), kind, allocator, mapping, path
#   allocmap sites [N]     the top live sites now, from the process's live
#                          file: only for a process started by `allocmap run`
#
# allocmap whatis calls allocmap_query in the inferior (lock-free, no
# allocation) with its answer buffer on the inferior's stack, below the
# red zone of the stopped frame: it never calls the inferior's malloc.
import os
import shutil
import struct
import subprocess

import gdb

KINDS = ["unknown", "heap chunk", "anonymous mapping", "file mapping", "loaded object", "brk heap", "stack",
         "allocmap's own", "malloc arena, in no live chunk"]

# struct allocmap_info on LP64 (include/allocmap.h), when gdb has no debug
# information for it: base, size, requested, site, kind, allocator,
# map_base, map_size, prot, path.
LAYOUT = "<QQQQi4xQQQi4xQ"
INFO_SIZE = struct.calcsize(LAYOUT)  # 80
FIELDS = ["base", "size", "requested", "site", "kind", "allocator", "map_base", "map_size", "prot", "path"]


def _ptr_bits():
    return gdb.lookup_type("void").pointer().sizeof * 8


def _string(addr):
    if not addr:
        return None
    return gdb.Value(addr).cast(gdb.lookup_type("char").pointer()).string(errors="replace")


def _query(addr):
    """allocmap_query(addr, buf) in the inferior, buf on its stack; a dict, or None for -1."""
    if _ptr_bits() != 64:
        raise gdb.GdbError("allocmap: only 64-bit processes are supported")
    selected = gdb.selected_frame()
    newest = gdb.newest_frame()
    newest.select()
    sp = int(gdb.parse_and_eval("$sp"))
    # Below the stopped frame's red zone (128 bytes on x86-64), aligned; the
    # called function's frame goes below the new $sp (gdb keeps a red zone too).
    buf = (sp - 256 - INFO_SIZE) & ~63
    new_sp = (buf - 64) & ~15
    inferior = gdb.selected_inferior()
    try:
        gdb.execute("set $sp = %d" % new_sp, to_string=True)
        rc = int(gdb.parse_and_eval("((int (*)(const void *, void *))allocmap_query)((const void *)%d, (void *)%d)"
                                    % (addr, buf)))
        raw = bytes(inferior.read_memory(buf, INFO_SIZE))
    except gdb.error as e:
        raise gdb.GdbError("allocmap: cannot call allocmap_query in the process (is liballocmap loaded?): %s" % e)
    finally:
        gdb.execute("set $sp = %d" % sp, to_string=True)
        selected.select()
    if rc != 0:
        return None
    info = dict(zip(FIELDS, struct.unpack(LAYOUT, raw)))
    info["allocator"] = _string(info["allocator"])
    info["path"] = _string(info["path"])
    return info


def _site(site):
    """The allocating call, as gdb knows it: symbol and file:line."""
    if not site:
        return "unknown (made before allocmap started, or by the loader)"
    text = "0x%x" % site
    try:
        sym = gdb.execute("info symbol 0x%x" % site, to_string=True).strip()
        if sym and not sym.startswith("No symbol"):
            text += " " + sym
    except gdb.error:
        pass
    sal = gdb.find_pc_line(site - 1)  # the call, not the return address
    if sal.symtab:
        text += " at %s:%d" % (sal.symtab.filename, sal.line)
    return text


def _prot(p):
    return ("r" if p & 1 else "-") + ("w" if p & 2 else "-") + ("x" if p & 4 else "-")


class Allocmap(gdb.Command):
    """allocmap's commands: allocmap whatis EXPR, allocmap sites [N]."""

    def __init__(self):
        super().__init__("allocmap", gdb.COMMAND_DATA, gdb.COMPLETE_COMMAND, True)


class Whatis(gdb.Command):
    """What holds the address EXPR, as allocmap indexes it.
Usage: allocmap whatis EXPR
Prints base, size, requested size, allocation site (symbol and file:line),
kind, allocator, the enclosing mapping and its path. Calls allocmap_query in
the process (no allocation; its buffer is on the process's stack)."""

    def __init__(self):
        super().__init__("allocmap whatis", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError("usage: allocmap whatis EXPR")
        v = gdb.parse_and_eval(arg)
        if v.type.strip_typedefs().code in (gdb.TYPE_CODE_ARRAY, gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            v = v.address  # the object itself: where is it?
        addr = int(v.cast(gdb.lookup_type("unsigned long"))) & ((1 << 64) - 1)
        info = _query(addr)
        if info is None:
            gdb.write("0x%x: not in anything allocmap knows\n" % addr)
            return
        kind = KINDS[info["kind"]] if 0 <= info["kind"] < len(KINDS) else str(info["kind"])
        off = addr - info["base"]
        gdb.write("0x%x: %s, offset %d in [0x%x, 0x%x)\n" % (addr, kind, off, info["base"], info["base"] + info["size"]))
        gdb.write("  base       0x%x\n" % info["base"])
        gdb.write("  size       %d\n" % info["size"])
        gdb.write("  requested  %d\n" % info["requested"])
        gdb.write("  site       %s\n" % _site(info["site"]))
        gdb.write("  kind       %s\n" % kind)
        gdb.write("  allocator  %s\n" % (info["allocator"] or "?"))
        gdb.write("  map        [0x%x, 0x%x) %s, %d bytes\n" % (info["map_base"], info["map_base"] + info["map_size"],
                                                               _prot(info["prot"]), info["map_size"]))
        gdb.write("  path       %s\n" % (info["path"] or "-"))


class Sites(gdb.Command):
    """The top live allocation sites of the process now.
Usage: allocmap sites [N]
Reads the process's live file through `allocmap snapshot`: works for a
process started by `allocmap run` (the live file holds the sites table).
Not done otherwise: allocmap_walk needs a callback in the process."""

    def __init__(self):
        super().__init__("allocmap sites", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        top = arg.strip() or "10"
        pid = gdb.selected_inferior().pid
        if not pid:
            raise gdb.GdbError("allocmap sites: no process")
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
        except OSError as e:
            raise gdb.GdbError("allocmap sites: %s" % e)
        if b"ALLOCMAP_RUN_DIR" not in env:
            raise gdb.GdbError("allocmap sites: the process was not started by `allocmap run` (no live file); "
                               "start it with `allocmap run --keep DIR -- CMD`, or use allocmap whatis")
        cli = os.environ.get("ALLOCMAP_CLI") or shutil.which("allocmap")
        if not cli:
            raise gdb.GdbError("allocmap sites: the allocmap command is not in PATH (or set ALLOCMAP_CLI)")
        out = subprocess.run([cli, "snapshot", "--top", top, str(pid)], capture_output=True, text=True)
        gdb.write(out.stdout if out.returncode == 0 else out.stderr)


Allocmap()
Whatis()
Sites()
