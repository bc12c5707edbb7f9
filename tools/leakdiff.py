#!/usr/bin/env python3
"""Compares a memcheck log with an allocmap .leaks file, per (class, site
function), for the classes definitely and indirectly lost.

memcheck: each loss record ("N bytes in M blocks are definitely lost",
or "T (D direct, I indirect) bytes ..." where the record's own bytes are
D), its site the first frame below the allocator's replacement
(vg_replace_malloc) that is not itself an allocator wrapper. allocmap:
each unsuppressed group line, its site function from addr2line on the
object and offset ("?@OBJECT" for an object without a symbol table, as
memcheck's "???" frames are read). Prints one line per difference and "same" or
"DIFFERENT"; exits 0 when the same.

usage: leakdiff.py MEMCHECK_LOG LEAKS_FILE [--classes definite,indirect]
"""
import re, subprocess, sys
from collections import defaultdict

ALLOC = {"malloc", "calloc", "realloc", "memalign", "posix_memalign", "aligned_alloc", "strdup",
         "operator new(unsigned long)", "operator new[](unsigned long)", "reallocarray"}
WORDS = {"definitely": "definite", "indirectly": "indirect", "possibly": "possible", "still": "reachable"}


def memcheck(path, classes):
    out = defaultdict(lambda: [0, 0])
    rec = re.compile(r"==\d+== ([\d,]+)(?: \(([\d,]+) direct, [\d,]+ indirect\))? bytes in ([\d,]+) blocks are "
                     r"(definitely|indirectly|possibly|still) ")
    frame = re.compile(r"==\d+==    (?:at|by) 0x[0-9A-F]+: (.+?) \((?:in )?([^:)]*)")
    cur = None
    for line in open(path, errors="replace"):
        m = rec.search(line)
        if m:
            cls = WORDS[m.group(4)]
            nbytes = int((m.group(2) or m.group(1)).replace(",", ""))
            cur = [cls, nbytes, int(m.group(3).replace(",", "")), None]
            continue
        f = frame.search(line)
        if cur and f and cur[3] is None:
            fn = f.group(1)
            if fn in ALLOC or "vg_replace" in line:
                continue
            if fn == "???":
                fn = "?@" + f.group(2).rsplit("/", 1)[-1]
            cur[3] = fn
            if cur[0] in classes:
                out[(cur[0], fn)][0] += cur[1]
                out[(cur[0], fn)][1] += cur[2]
            cur = None
    return out


def has_symtab(obj, cache={}):
    if obj not in cache:
        r = subprocess.run(["readelf", "-S", "-W", obj], capture_output=True, text=True)
        cache[obj] = " .symtab " in r.stdout
    return cache[obj]


def symbolise(obj, off, cache={}):
    """The function holding obj+off, as memcheck names it: "?@OBJECT" when
    the object has no symbol table (addr2line would name a neighbour)."""
    if obj == "-":
        return "?"
    if not has_symtab(obj):
        return "?@" + obj.rsplit("/", 1)[-1]
    key = (obj, off)
    if key not in cache:
        r = subprocess.run(["addr2line", "-f", "-e", obj, hex(int(off, 16) - 1)], capture_output=True, text=True)
        cache[key] = (r.stdout.splitlines() or ["?"])[0]
    return cache[key]


def allocmap(path, classes):
    out = defaultdict(lambda: [0, 0])
    for line in open(path):
        f = line.rstrip("\n").split(" ", 9)
        if f[0] != "group" or f[1] not in classes or f[4] != "0":
            continue
        fn = f[7] if f[7] != "-" else symbolise(f[9], f[6])
        out[(f[1], fn)][0] += int(f[2])
        out[(f[1], fn)][1] += int(f[3])
    return out


def main(argv):
    classes = {"definite", "indirect"}
    if "--classes" in argv:
        i = argv.index("--classes")
        classes = set(argv[i + 1].split(","))
        argv = argv[:i] + argv[i + 2:]
    a, b = memcheck(argv[0], classes), allocmap(argv[1], classes)
    diff = 0
    for key in sorted(set(a) | set(b)):
        ma, mb = a.get(key, [0, 0]), b.get(key, [0, 0])
        print("%-9s %-32s memcheck %8d bytes %5d blocks   allocmap %8d bytes %5d blocks%s" %
              (key[0], key[1][:32], ma[0], ma[1], mb[0], mb[1], "" if ma == mb else "   <- differs"))
        diff += ma != mb
    print("same" if not diff else "DIFFERENT")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
