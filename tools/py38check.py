#!/usr/bin/env python
"""usage: tools/py38check.py PATH... — fail when code that runs on managed hosts needs a Python newer than 3.8.

Managed hosts run the modules and module_utils on any Python ansible-core manages (3.8 and later). Two checks:
  1. vermin (pinned in requirements-dev.txt) with target 3.8: new modules (tomllib, zoneinfo), new members
     (str.removeprefix on a literal, functools.cache), new syntax (match, dict | dict of literals, ...).
     A line that is safe on purpose (an import inside try/except ImportError) carries ``# novermin``.
  2. what vermin cannot see without types, outside annotations (``from __future__ import annotations`` keeps
     annotations unevaluated, so ``list[str]`` and ``X | None`` are fine there): a subscripted builtin
     (``dict[str, int]`` as a value: 3.9), a ``|`` union of types (``str | None`` as a value: 3.10), and any
     ``.removeprefix()`` / ``.removesuffix()`` call (3.9).
Before checking PATH, both checks run on a sample holding each construct and must report every one of them,
so this check cannot pass by checking nothing. Standard library only, apart from the vermin command.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile

TARGET = "3.8"
BUILTIN_GENERICS = {"list", "dict", "tuple", "set", "frozenset", "type"}
TYPE_NAMES = BUILTIN_GENERICS | {"None", "str", "int", "float", "bool", "bytes", "object"}
NEWER_METHODS = {"removeprefix", "removesuffix"}

# One construct per line; the self-test expects a finding on each numbered line.
SAMPLE = """\
from __future__ import annotations
import tomllib
import functools
Alias = dict[str, int]
Optional = str | None
def f(text: str, items: list[str] | None) -> dict[str, int] | None:
    return text.removesuffix("x")
@functools.cache
def g(): pass
match_me = isinstance(1, int | str)
"""
SAMPLE_LINES = {2, 4, 5, 7, 8, 10}


def vermin_findings(paths: list[str]) -> list[str]:
    """vermin's violations of target 3.8, as 'file:line: feature' lines."""
    vermin = os.path.join(os.path.dirname(sys.executable), "vermin")
    result = subprocess.run(
        [vermin, f"-t={TARGET}-", "--violations", "--no-tips", "--format", "parsable", "--no-make-paths-absolute",
         *paths], capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):
        raise SystemExit(f"py38check: vermin failed ({result.returncode}): {result.stderr.strip()}")
    findings = []
    for line in result.stdout.splitlines():
        fields = line.split(":")
        if len(fields) >= 6 and fields[0] and fields[1]:  # the last line (no path) is the summary
            findings.append(f"{fields[0]}:{fields[1]}: {':'.join(fields[5:])} (vermin: needs {fields[4]})")
    return findings


def annotation_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside an annotation (never evaluated under ``from __future__ import annotations``)."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            every = args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]
            roots += [a.annotation for a in every if a.annotation] + ([node.returns] if node.returns else [])
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(inner) for root in roots for inner in ast.walk(root)}


def is_type_expr(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    if isinstance(node, ast.Name):
        return node.id in TYPE_NAMES
    if isinstance(node, ast.Subscript):
        return is_type_expr(node.value) or isinstance(node.value, ast.Attribute)
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and is_type_expr(node.left)


def runtime_findings(path: str, text: str) -> list[str]:
    """Constructs newer than 3.8 that vermin misses, outside annotations."""
    tree = ast.parse(text, path)
    skip = annotation_nodes(tree)
    findings = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in BUILTIN_GENERICS:
            findings.append(f"{path}:{node.lineno}: {node.value.id}[...] evaluated at run time (needs 3.9)")
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)
              and (is_type_expr(node.left) or is_type_expr(node.right))):
            findings.append(f"{path}:{node.lineno}: a `X | Y` union of types evaluated at run time (needs 3.10)")
        elif isinstance(node, ast.Attribute) and node.attr in NEWER_METHODS:
            findings.append(f"{path}:{node.lineno}: .{node.attr}() (str/bytes, needs 3.9)")
    return findings


def python_files(paths: list[str]) -> list[str]:
    files = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(os.path.join(d, f) for d, _, names in os.walk(path) for f in names if f.endswith(".py"))
        else:
            files.append(path)
    return files


def check(paths: list[str]) -> list[str]:
    files = python_files(paths)
    findings = vermin_findings(files)
    for path in files:
        with open(path, encoding="utf-8") as f:
            findings += runtime_findings(path, f.read())
    return sorted(set(findings))


def self_test() -> None:
    """Both checks must report every construct of SAMPLE, else this tool proves nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        sample = os.path.join(tmp, "sample.py")
        with open(sample, "w", encoding="utf-8") as f:
            f.write(SAMPLE)
        found = {int(line.split(":")[1]) for line in check([sample])}
    if found != SAMPLE_LINES:
        raise SystemExit(f"py38check: self-test failed: findings on sample lines {sorted(found)}, "
                         f"expected {sorted(SAMPLE_LINES)}")


def main(paths: list[str]) -> int:
    if not paths:
        raise SystemExit(__doc__.split("\n", 1)[0])
    self_test()
    findings = check(paths)
    for finding in findings:
        print(finding)
    count = len(python_files(paths))
    print(f"py38check: {count} files, {len(findings)} construct(s) newer than Python {TARGET}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
