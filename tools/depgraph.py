#!/usr/bin/env python3
"""The dependency graph of the library's tree, by folder, checked against
its layers.

Edges come from two sources: each `#include "..."` between files under
src/ (and cli/), and each cross-file call or data reference, read from the
compiled objects' symbol tables (`nm`: a symbol one object leaves undefined
and another defines). Files map to layers, lowest first:

    include (the API's and the live file's types) -> sys -> palloc -> index
        -> heap -> hook -> api (src/*.c) -> leak -> report -> init (src/init.*) -> cli

include/ holds contracts (the public API's types, the live file's
layout): plain declarations every layer may use. init starts and stops
everything, so it sits above what it starts.

A dependency may run down or sideways, never up, except the ones listed
in ALLOWED_UP (each with why; the README's "Where things live" names
them). Prints the folder graph (--dot for Graphviz), then one line per
dependency that runs up; exits 1 if any is not allowed.

usage: depgraph.py [--dot] [OBJDIR]   (OBJDIR default build/obj)
"""
import os, re, subprocess, sys

LAYERS = ["include", "sys", "palloc", "index", "heap", "hook", "api", "leak", "report", "init", "cli"]
INIT = {"src/init.c", "src/init.h", "src/fork.c", "src/fork.h"}  # start-up, and again in a fork child

# (from file, to file): why it must run up.
ALLOWED_UP = {
    ("src/hook/interpose.c", "src/init.h"):
        "the malloc family is the first code of the library a program can "
        "run (a constructor of another object may call malloc first): it "
        "starts the library",
    ("src/hook/interpose.c", "src/init.c"):
        "the same call (am_init_once)",
}


def layer(path):
    parts = path.split("/")
    if parts[0] == "cli":
        return "cli"
    if parts[0] == "include":
        return "include"
    if path in INIT:
        return "init"
    if len(parts) == 2:
        return "init" if parts[1].startswith("init.") else "api"
    return parts[1]


def sources(roots):
    for root in roots:
        for d, _, fs in os.walk(root):
            for f in fs:
                if f.endswith((".c", ".h")):
                    yield os.path.normpath(os.path.join(d, f))


def include_edges(files):
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    for f in files:
        for m in inc.finditer(open(f).read()):
            t = os.path.normpath(os.path.join(os.path.dirname(f), m.group(1)))
            if os.path.exists(t) and t != f:
                yield f, t


def call_edges(objdir):
    defs, undefs = {}, {}
    for d, _, fs in os.walk(objdir):
        for f in fs:
            if not f.endswith(".o"):
                continue
            obj = os.path.join(d, f)
            src = os.path.relpath(obj, objdir)[:-2] + ".c"
            if not os.path.exists(src):
                continue  # left over from a file since moved
            out = subprocess.run(["nm", obj], capture_output=True, text=True).stdout
            for line in out.splitlines():
                bits = line.split()
                if len(bits) == 2 and bits[0] == "U":
                    undefs.setdefault(src, set()).add(bits[1])
                elif len(bits) == 3 and bits[1] in "TDBRVWtdbr" and bits[1].isupper():
                    defs[bits[2]] = src
    for src, syms in undefs.items():
        for s in syms:
            if s in defs and defs[s] != src:
                yield src, defs[s]


def main(argv):
    dot = "--dot" in argv
    args = [a for a in argv if a != "--dot"]
    objdir = args[0] if args else "build/obj"
    files = sorted(sources(["src", "cli", "include"]))
    edges = set(include_edges(files))
    if os.path.isdir(objdir):
        edges |= set(call_edges(objdir))
    else:
        print("depgraph: no objects in %s: #include edges only" % objdir, file=sys.stderr)
    folders = {}
    bad = 0
    for a, b in sorted(edges):
        la, lb = layer(a), layer(b)
        if la != lb:
            folders[(la, lb)] = folders.get((la, lb), 0) + 1
        if LAYERS.index(la) < LAYERS.index(lb):
            ok = (a, b) in ALLOWED_UP
            bad += not ok
            print("%s %s -> %s (%s -> %s)%s" % ("allowed" if ok else "UPWARD", a, b, la, lb,
                  ": " + ALLOWED_UP[(a, b)] if ok else ""))
    if dot:
        print("digraph layers {")
        for (la, lb), n in sorted(folders.items()):
            print('  "%s" -> "%s" [label=%d];' % (la, lb, n))
        print("}")
    else:
        for (la, lb), n in sorted(folders.items(), key=lambda e: (LAYERS.index(e[0][0]), LAYERS.index(e[0][1]))):
            print("%-7s -> %-7s %3d" % (la, lb, n))
    print("%d upward dependencies not allowed" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
