# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the merged result of each corpus daemon.json into OUTDIR, for checks with a real dockerd.

    python tests/integration/corpus_results.py OUTDIR --mirror https://mirror.gcr.io

Uses the same module_utils functions as the daemon_json module. For each corpus file NAME.json
it writes OUTDIR/NAME.json (the file as the module would write it) and OUTDIR/results.json
(per file: changed_keys, reload_sufficient, indent). Exits 1 if any file could not be merged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, ".collections"))

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._daemon_config import (  # noqa: E402
    DaemonConfigError,
    apply_changes,
    detect_indent,
    parse_document,
    reload_sufficient,
    render_document,
    validate_document,
    validate_mirror,
)

DEFAULT_CORPUS = os.path.join(REPO_ROOT, "tests", "unit", "fixtures", "daemon_json")


def merge_text(text: str, mirrors: list[str], allow_path: bool = False) -> tuple[str, dict]:
    """The text the module would write after adding ``mirrors``, and a summary."""
    for mirror in mirrors:
        validate_mirror(mirror, allow_path)
    result = apply_changes(parse_document(text), mirrors=mirrors)
    validate_document(result.document)
    indent = detect_indent(text) if text.strip() else 2
    summary = {"changed_keys": result.changed_keys, "reload_sufficient": reload_sufficient(result.changed_keys),
               "indent": indent}
    if not result.changed_keys:
        return text, summary  # the module leaves an unchanged file alone, byte for byte
    return render_document(result.document, indent), summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="directory to write the merged files into (created)")
    parser.add_argument("--mirror", action="append", required=True, help="mirror URL to merge (repeatable)")
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="directory of *.json inputs")
    parser.add_argument("--allow-path", action="store_true", help="accept mirror paths (Docker 25.0+)")
    args = parser.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    summary, failures = {}, 0
    for name in sorted(os.listdir(args.corpus)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(args.corpus, name), encoding="utf-8") as handle:
            text = handle.read()
        try:
            merged, summary[name] = merge_text(text, args.mirror, args.allow_path)
        except DaemonConfigError as exc:
            failures += 1
            summary[name] = {"error": exc.message}
            print("%s: %s" % (name, exc.message), file=sys.stderr)
            continue
        with open(os.path.join(args.outdir, name), "w", encoding="utf-8") as handle:
            handle.write(merged)
    with open(os.path.join(args.outdir, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    print("wrote %d merged files to %s" % (len(summary) - failures, args.outdir))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
