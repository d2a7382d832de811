#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Regenerate the data tables of plugins/module_utils/_daemon_options.py from moby's sources.

    python3 tools/dockerd_options.py GIT_DIR [TAG ...]

GIT_DIR is a clone (bare is fine) of github.com/moby/moby.  For each release tag it reads, with
``git show TAG:PATH``, the Linux sources of cmd/dockerd, daemon/config and registry, and derives
what dockerd's findConfigurationConflicts accepts as a daemon.json key: every flag name, every
NamedOption name (``opts.NewNamed...("labels", ...)`` registered as ``--label``), and the keys of
``skipValidateOptions``; ``flatOptions`` says which object values are NOT flattened (dockerd checks
the members of any other object value as keys of their own).  The JSON type of each key comes from
the ``json:"..."`` tag of its Go field.  It prints the Python tables to paste into the module.
"""

from __future__ import annotations

import re
import subprocess
import sys

TAGS = ["v20.10.24", "v23.0.18", "v24.0.9", "v25.0.17", "v26.0.2", "v26.1.5", "v27.0.3", "v27.1.2",
        "v27.2.1", "v27.3.1", "v27.4.1", "v27.5.1", "v28.0.4", "v28.1.1", "v28.2.2", "v28.3.3", "v28.5.2"]
DIRS = ["cmd/dockerd", "daemon/config", "registry"]
FLAG_CALL = re.compile(r"\b(?:flags|fs)\.(\w+)\(")
NAMED = re.compile(r"(?:(\w+)\s*:?=\s*)?\b\w*opts\.NewNamed\w*\(\s*\"([^\"]+)\"")
FIELD = re.compile(r"^\s*(?:\w+\s+)?([\w.*\[\]]+(?:\[[\w.]+\][\w.*]+)?)\s+`[^`]*json:\"([^\",]+)")
STRUCT = re.compile(r"^type (\w+) struct")
GO_TYPES = {
    "string": "str", "bool": "bool", "*bool": "bool", "int": "int", "*int": "int", "int64": "int",
    "uint32": "int", "uint64": "int", "float64": "number", "[]string": "strlist",
    "map[string]string": "strmap", "map[string]bool": "boolmap", "net.IP": "str", "[]net.IP": "strlist",
    "netip.Addr": "str", "[]netip.Addr": "strlist", "opts.PoolsOpt": "list", "Proxies": "object",
    "map[string]map[string]string": "object", "BuilderConfig": "object",
}


def git_show(git_dir: str, tag: str, path: str) -> str:
    return subprocess.run(["git", "-C", git_dir, "show", "%s:%s" % (tag, path)], check=True,
                          capture_output=True, text=True).stdout


def sources(git_dir: str, tag: str) -> dict[str, str]:
    result = {}
    for directory in DIRS:
        listing = subprocess.run(["git", "-C", git_dir, "ls-tree", "--name-only", "%s:%s" % (tag, directory)],
                                 check=True, capture_output=True, text=True).stdout.split()
        for name in listing:
            if name.endswith(".go") and not name.endswith("_test.go") and "windows" not in name:
                result["%s/%s" % (directory, name)] = git_show(git_dir, tag, "%s/%s" % (directory, name))
    return result


def split_args(text: str, start: int) -> list[str]:
    """Top-level arguments of the call whose '(' is at text[start - 1]."""
    args, depth, current, index = [], 0, "", start
    while index < len(text):
        char = text[index]
        if char in "\"`":
            end = text.index(char, index + 1)
            while char == '"' and text[end - 1] == "\\":
                end = text.index(char, end + 1)
            current += text[index:end + 1]
            index = end + 1
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                args.append(current.strip())
                return args
            depth -= 1
        elif char == "," and depth == 0:
            args.append(current.strip())
            current = ""
            index += 1
            continue
        current += char
        index += 1
    return args


def flags_and_names(files: dict[str, str]) -> tuple[dict[str, tuple[str, ...]], set[str]]:
    """{key accepted in daemon.json: flags that clash with it}, and the set of NamedOption names."""
    variables = {}
    for text in files.values():
        for match in NAMED.finditer(text):
            if match.group(1):
                variables[match.group(1)] = match.group(2)
    constants = {}
    for text in files.values():
        constants.update(re.findall(r"^\s*(\w+)\s*=\s*(\"[a-z][a-z0-9-]*\")\s*$", text, re.M))
    keys: dict[str, tuple[str, ...]] = {}
    named: set[str] = set()
    for text in files.values():
        for match in FLAG_CALL.finditer(text):
            method = match.group(1)
            if method in ("Lookup", "MarkHidden", "MarkDeprecated", "SetAnnotation", "Set", "Changed",
                          "VisitAll", "Visit", "Parse", "SortFlags", "AddFlagSet", "Args", "Usage"):
                continue
            args = split_args(text, match.end())
            index = 1 if method.endswith("Var") or method.endswith("VarP") else 0
            if len(args) <= index:
                continue
            flag = constants.get(args[index], args[index]).strip('"')
            if not re.match(r"^[a-z][a-z0-9-]*$", flag):
                continue
            short = args[index + 1].strip('"') if method.endswith("P") and len(args) > index + 1 else ""
            flag_names = ("-" + short, "--" + flag) if short else ("--" + flag,)
            value = args[0] if index == 1 else ""
            name = _named(value, variables)
            if name:
                named.add(name)
                keys[name] = keys.get(name, ()) + tuple(f for f in flag_names if f not in keys.get(name, ()))
            else:
                keys[flag] = flag_names
    return keys, named


def _named(value: str, variables: dict[str, str]) -> str | None:
    match = NAMED.search(value)
    if match:
        return match.group(2)
    if value in variables:
        return variables[value]
    if "DefaultAddressPools" in value:
        return "default-address-pools"
    return None


def go_map(files: dict[str, str], name: str) -> list[str]:
    for text in files.values():
        match = re.search(r"var %s = map\[string\]bool\{(.*?)\n\}" % name, text, re.S)
        if match:
            return re.findall(r"\"([^\"]+)\":\s*true", match.group(1))
    return []


def json_types(files: dict[str, str]) -> dict[str, str]:
    types = {}
    for path, text in files.items():
        struct = None
        for line in text.splitlines():
            found = STRUCT.match(line)
            if found:
                struct = found.group(1)
                continue
            if struct is None or struct.startswith("Builder") or path.startswith("registry/") and struct != "ServiceOptions":
                continue
            field = FIELD.match(line)
            if field and field.group(2) != "-":
                types.setdefault(field.group(2), GO_TYPES.get(field.group(1), "any"))
    return types


def release(git_dir: str, tag: str) -> dict[str, object]:
    files = sources(git_dir, tag)
    keys, named = flags_and_names(files)
    for extra in go_map(files, "skipValidateOptions"):
        keys.setdefault(extra, ())
    for text in files.values():  # legacy keys dockerd migrates (28.0+: host-gateway-ip)
        for legacy, new in re.findall(r"\"([a-z0-9-]+)\":\s*\{newName:\s*\"([a-z0-9-]+)\"", text):
            keys.setdefault(legacy, keys.get(new, ()))
    return {"keys": keys, "named": named, "flat": go_map(files, "flatOptions"), "types": json_types(files)}


def main(argv: list[str]) -> int:
    git_dir, tags = argv[1], argv[2:] or TAGS
    data = {tag: release(git_dir, tag) for tag in tags}
    base = data[tags[0]]
    union_types: dict[str, str] = {}
    for item in data.values():
        union_types.update({k: v for k, v in item["types"].items() if v != "any" or k not in union_types})
    print("# Generated by tools/dockerd_options.py from moby tags: %s" % ", ".join(tags))
    print("_BASE_VERSION = %r" % tags[0].lstrip("v"))
    print("_BASE_KEYS = (")
    for key in sorted(base["keys"]):
        print("    %r," % key)
    print(")")
    print("_RELEASES = (  # (version, keys added, keys removed) against the release before")
    previous = base
    for tag in tags[1:]:
        current = data[tag]
        added = sorted(set(current["keys"]) - set(previous["keys"]))
        removed = sorted(set(previous["keys"]) - set(current["keys"]))
        print("    (%r, %r, %r)," % (".".join(tag.lstrip("v").split(".")[:2]), tuple(added), tuple(removed)))
        previous = current
    print(")")
    flat = sorted(set().union(*(set(item["flat"]) for item in data.values())))
    print("FLAT_KEYS = frozenset(%r)" % (tuple(flat),))
    print("_TYPES = {")
    for key in sorted(union_types):
        if union_types[key] != "any" and any(key in item["keys"] or key == "proxies" for item in data.values()):
            print("    %r: %r," % (key, union_types[key]))
    print("}")
    flags: dict[str, tuple[str, ...]] = {}
    for item in data.values():
        for key, names in item["keys"].items():
            if names and names != ("--" + key,):
                flags.setdefault(key, names)
    print("_FLAGS = {  # only where the flag differs from --KEY")
    for key in sorted(flags):
        print("    %r: %r," % (key, flags[key]))
    print("}")
    print("# no JSON type derived for: %s" % sorted(k for k, v in union_types.items() if v == "any"))
    for tag in tags:
        tagged = {k for k in data[tag]["types"]}
        print("# %s: json tags that are no key: %s" % (tag, sorted(tagged - set(data[tag]["keys"]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
