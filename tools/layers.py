#!/usr/bin/env python3
"""Checks the import graph of src/ against the layers of ARCHITECTURE.md.

Reads every `crate::…` path outside comments and test modules, resolves it
to the file it names, and fails (exit 1) when a file imports one of a
higher layer, or when files import each other directly or round about.
`tools/layers.py --edges` prints the graph.
"""

import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# Lowest first; a file may import its own layer and those below it.
LAYERS = [
    ("domain", ["domain", "bounded", "progress", "memory"]),
    ("storage", ["db", "files", "extract", "images"]),
    ("services", ["search", "write", "import", "webhooks", "stats", "documents"]),
    ("http and state", ["http", "state", "config"]),
    ("routes", ["routes", "http::middleware"]),
    ("entry points", ["app", "openapi", "cli", "demo"]),
]


def modules():
    found = {}
    for root, _, files in os.walk(SRC):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            module = os.path.relpath(path, SRC)[:-3].replace(os.sep, "::")
            module = module.removesuffix("::mod")
            if module not in ("lib", "main"):
                found[module] = path
    return found


def layer_of(module):
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "::"):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    return None if best is None else best[0]


def imports(found):
    def resolve(path):
        parts = path.split("::")
        for end in range(len(parts), 0, -1):
            candidate = "::".join(parts[:end])
            if candidate in found:
                return candidate
        return None

    edges = {}
    for module, path in found.items():
        with open(path, encoding="utf-8") as file:
            text = file.read().split("#[cfg(test)]")[0]
        text = "\n".join(l for l in text.split("\n") if not l.lstrip().startswith("//"))
        targets = set()
        for group in re.finditer(r"crate::((?:\w+::)*)\{([^;]*?)\}\s*;", text, re.S):
            for item in re.split(r",(?![^{]*\})", group.group(2)):
                item = re.sub(r"\{.*", "", item.strip(), flags=re.S).rstrip(":")
                if item:
                    targets.add(resolve((group.group(1) + item).split(" as ")[0].strip()))
        for single in re.finditer(r"crate::((?:\w+::)*\w+)", text):
            targets.add(resolve(single.group(1)))
        edges[module] = sorted(t for t in targets if t and t != module)
    return edges


def circles(edges):
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
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
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main():
    found = modules()
    edges = imports(found)
    if "--edges" in sys.argv:
        for module, targets in sorted(edges.items()):
            print(module, "->", " ".join(targets))
    problems = []
    for module in sorted(found):
        if layer_of(module) is None:
            problems.append(f"{module} is in no layer")
    for module, targets in sorted(edges.items()):
        for target in targets:
            own, theirs = layer_of(module), layer_of(target)
            if own is not None and theirs is not None and theirs > own:
                problems.append(
                    f"{module} ({LAYERS[own][0]}) imports {target} ({LAYERS[theirs][0]})"
                )
    for component in circles(edges):
        problems.append("files import each other round about: " + ", ".join(component))
    for problem in problems:
        print(problem)
    print(f"{len(found)} files, {sum(map(len, edges.values()))} imports, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
