# allocmap's gdb commands (issue 14). Load with
#     source PREFIX/share/allocmap/gdb/allocmap.py
# in a gdb session (or in ~/.gdbinit), on a process that has liballocmap
# loaded (linked with -lallocmap or started with LD_PRELOAD / allocmap run).
#
#   allocmap whatis EXPR   what holds the address EXPR: base, size, requested
#                          size, allocation site (symbolised by gdb, with
#                          file:line), kind, allocator, mapping, path
#   allocmap sites [N]     the top live sites now (allocmap_sites), each
#                          symbolised with file:line
#
# Both call the library in the inferior (allocmap_query: lock-free, no
# allocation; allocmap_sites: its own tiers only) with the answer buffer
# on the inferior's stack, below the red zone of the stopped frame: they
# never call the inferior's malloc.
import struct

import gdb

KINDS = ["unknown", "heap chunk", "anonymous mapping", "file mapping", "loaded object", "brk heap", "stack",
         "allocmap's own", "malloc arena, in no live chunk"]

# struct allocmap_info on LP64 (include/allocmap.h), when gdb has no debug
# information for it: base, size, requested, site, kind, allocator,
# map_base, map_size, prot, path.
LAYOUT = "<QQQQi4xQQQi4xQ"
INFO_SIZE = struct.calcsize(LAYOUT)  # 80
FIELDS = ["base", "size", "requested", "site", "kind", "allocator", "map_base", "map_size", "prot", "path"]
# struct allocmap_site: site, bytes, count, object, offset, symbol, symbol_offset.
SITE_LAYOUT = "<QQQQQQQ"
SITE_SIZE = struct.calcsize(SITE_LAYOUT)  # 56
SITE_FIELDS = ["site", "bytes", "count", "object", "offset", "symbol", "symbol_offset"]


def _ptr_bits():
    return gdb.lookup_type("void").pointer().sizeof * 8


def _string(addr):
    if not addr:
        return None
    return gdb.Value(addr).cast(gdb.lookup_type("char").pointer()).string(errors="replace")


def _call(call, size):
    """Evaluates call % buf in the inferior, buf being `size` bytes on its
    stack; (the int it returned, the buffer's bytes)."""
    if _ptr_bits() != 64:
        raise gdb.GdbError("allocmap: only 64-bit processes are supported")
    selected = gdb.selected_frame()
    newest = gdb.newest_frame()
    newest.select()
    sp = int(gdb.parse_and_eval("$sp"))
    # Below the stopped frame's red zone (128 bytes on x86-64), aligned; the
    # called function's frame goes below the new $sp (gdb keeps a red zone too).
    buf = (sp - 256 - size) & ~63
    new_sp = (buf - 64) & ~15
    inferior = gdb.selected_inferior()
    try:
        gdb.execute("set $sp = %d" % new_sp, to_string=True)
        rc = int(gdb.parse_and_eval(call % buf))
        raw = bytes(inferior.read_memory(buf, size))
    except gdb.error as e:
        raise gdb.GdbError("allocmap: cannot call into the process (is liballocmap loaded?): %s" % e)
    finally:
        gdb.execute("set $sp = %d" % sp, to_string=True)
        selected.select()
    return rc, raw


def _query(addr):
    """allocmap_query(addr, buf) in the inferior, buf on its stack; a dict, or None for -1."""
    rc, raw = _call("((int (*)(const void *, void *))allocmap_query)((const void *)%d, (void *)%%d)" % addr,
                    INFO_SIZE)
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
Usage: allocmap sites [N]    (N: how many, default 10)
Calls allocmap_sites in the process (no malloc; the list on its stack):
live chunks grouped by the call that allocated them, most bytes first,
each site symbolised by gdb with file:line."""

    def __init__(self):
        super().__init__("allocmap sites", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        try:
            top = int(arg.strip() or "10")
        except ValueError:
            raise gdb.GdbError("allocmap sites: N must be a number, not '%s'" % arg.strip())
        if not 1 <= top <= 1000:
            raise gdb.GdbError("allocmap sites: N must be 1 to 1000")
        if not gdb.selected_inferior().pid:
            raise gdb.GdbError("allocmap sites: no process")
        n, raw = _call("((long (*)(void *, unsigned long))allocmap_sites)((void *)%%d, %d)" % top,
                       top * SITE_SIZE)
        if n < 0:
            raise gdb.GdbError("allocmap sites: the process's heap is not indexed (allocmap_sites returned -1)")
        rows = [dict(zip(SITE_FIELDS, struct.unpack_from(SITE_LAYOUT, raw, i * SITE_SIZE)))
                for i in range(min(n, top))]
        gdb.write("top %d of %d live sites by bytes\n" % (len(rows), n))
        for r in rows:
            noun = "chunk" if r["count"] == 1 else "chunks"
            gdb.write("%12d bytes %8d %-6s  %s\n" % (r["bytes"], r["count"], noun, _site(r["site"])))


Allocmap()
Whatis()
Sites()
