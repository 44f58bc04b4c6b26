#!/usr/bin/env python3
"""The module graph of src/: which top-level module (and which module of domain/)
names which other, read from `crate::` paths and `super::` imports. Fails when two
modules reach each other (an import cycle), or when a module calls a layer above its
own (docs/architecture.md shows the layers).

    scripts/layers.py          # check, print cycles
    scripts/layers.py --graph  # print every edge as well
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
# `crate::a::b` written inline, outside `use`.
INLINE = re.compile(r"\bcrate::([a-z_]+)(?:::([a-z_]+))?")
USE = re.compile(r"\buse\s+([^;]*);", re.S)
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|::|[{},*]")


def module_of(path: Path) -> list[str]:
    rel = path.relative_to(SRC).with_suffix("")
    return [p for p in rel.parts if p not in ("mod", "lib", "main")]


def node(parts: list[str]) -> str | None:
    """domain's modules are nodes of their own; elsewhere the top-level module."""
    if not parts:
        return None
    if parts[0] == "domain" and len(parts) > 1 and is_domain_module(parts[1]):
        return "domain::" + parts[1]
    if not ((SRC / f"{parts[0]}.rs").exists() or (SRC / parts[0]).is_dir()):
        return None
    return parts[0]


def is_domain_module(name: str) -> bool:
    return (SRC / "domain" / f"{name}.rs").exists() or (SRC / "domain" / name).is_dir()


def use_paths(tree: str) -> list[list[str]]:
    """Every path a use tree names, as segments: `a::{b, c::d}` gives a::b and a::c::d."""
    tokens = TOKEN.findall(tree)
    pos = 0

    def parse(prefix: list[str]) -> list[list[str]]:
        nonlocal pos
        path = list(prefix)
        while pos < len(tokens):
            t = tokens[pos]
            if t == "{":
                pos += 1
                out = []
                while pos < len(tokens) and tokens[pos] != "}":
                    out += parse(path)
                    if pos < len(tokens) and tokens[pos] == ",":
                        pos += 1
                pos += 1
                return out
            if t in (",", "}"):
                return [path]
            if t == "::":
                pos += 1
                continue
            if t == "as":
                pos += 2
                return [path]
            path.append(t)
            pos += 1
        return [path]

    return parse([])


def targets(text: str, parts: list[str]) -> set[str]:
    found = set()
    for m in INLINE.finditer(USE.sub("", text)):
        found.add(node([m.group(1)] + ([m.group(2)] if m.group(2) else [])))
    for m in USE.finditer(text):
        for path in use_paths(m.group(1)):
            if path[:1] == ["crate"]:
                found.add(node(path[1:]))
            elif path[:1] in (["super"], ["self"]):
                # Relative to this file's module.
                here = list(parts)
                while path and path[0] in ("super", "self"):
                    if path[0] == "super":
                        here = here[:-1]
                    path = path[1:]
                found.add(node(here + path))
    found.discard(None)
    return found


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in SRC.rglob("*.rs"):
        parts = module_of(path)
        me = node(parts)
        if me is None:
            continue
        # A file `a/b.rs` (or `a/b/mod.rs`) is module a::b; `super` in it is `a`.
        text = path.read_text(encoding="utf-8")
        for t in targets(text, parts):
            if t != me and t != "domain":
                edges.setdefault(me, set()).add(t)
    return edges


# The layers, lowest first: a module may name those of lower layers only. Modules of
# one layer do not name each other.
LAYERS = [
    ["domain"],
    ["clock", "documents", "proto", "keys", "metrics", "pki"],
    ["config"],
    ["store", "telemetry", "notify"],
    ["audit", "delivery"],
    ["app"],
    ["background", "api", "web"],
    ["server", "client"],
    ["bench"],
    ["cli"],
]


def layer(module: str) -> int:
    top = module.split("::")[0]
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise SystemExit(f"{module} is in no layer: add it to LAYERS in scripts/layers.py")


def upward(edges: dict[str, set[str]]) -> list[str]:
    """Edges to the same layer or a higher one (within domain, only cycles count)."""
    out = []
    for me, targets in sorted(edges.items()):
        for t in sorted(targets):
            if me.startswith("domain") and t.startswith("domain"):
                continue
            if layer(t) >= layer(me):
                out.append(f"{me} -> {t}")
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return out


# What a module may take from another beyond the layers' rule: the command line serves
# a hub (`server::serve`) and otherwise calls the application layer; the process's
# assembly (TLS, listeners, the order things start in) is the server's own.
NARROW = {("cli", "server"): {"serve"}}


def narrow() -> list[str]:
    out = []
    for (me, them), allowed in sorted(NARROW.items()):
        for path in sorted((SRC / me).rglob("*.rs")):
            text = path.read_text(encoding="utf-8")
            named = set()
            for m in re.finditer(rf"\bcrate::{them}::([A-Za-z_]+)", USE.sub("", text)):
                named.add(m.group(1))
            for m in USE.finditer(text):
                for used in use_paths(m.group(1)):
                    if used[:2] == ["crate", them]:
                        named.add(used[2] if len(used) > 2 else "*")
            for name in sorted(named - allowed):
                out.append(f"{path.relative_to(SRC.parent)} takes {them}::{name}; {me} may take only {', '.join(sorted(allowed))}")
    return out


def main() -> int:
    edges = graph()
    if "--graph" in sys.argv:
        for me in sorted(edges):
            print(f"{me} -> {', '.join(sorted(edges[me]))}")
    found = cycles(edges)
    for component in found:
        pairs = [f"{a} -> {b}" for a in component for b in sorted(edges.get(a, ())) if b in component]
        print("import cycle between " + ", ".join(component) + ": " + "; ".join(pairs))
    wrong = upward(edges)
    for edge in wrong:
        print(f"calls a layer not below its own: {edge}")
    beyond = narrow()
    for line in beyond:
        print(line)
    if found or wrong or beyond:
        return 1
    print(f"module graph: {sum(len(v) for v in edges.values())} edges between {len(edges)} modules, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
