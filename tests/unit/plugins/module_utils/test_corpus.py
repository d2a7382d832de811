# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Merge a mirror into every corpus daemon.json: nothing else may change, order is kept."""

from __future__ import annotations

import glob
import json
import os

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon_config as dc

CORPUS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "daemon_json")
CORPUS = sorted(glob.glob(os.path.join(CORPUS_DIR, "*.json")))
MIRROR = "https://mirror.gcr.io"


def load(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_corpus_is_varied() -> None:
    assert len(CORPUS) >= 15


@pytest.mark.parametrize("path", CORPUS, ids=[os.path.basename(p) for p in CORPUS])
def test_merge_keeps_everything_else(path: str) -> None:
    text = load(path)
    before = dc.parse_document(text)
    result = dc.apply_changes(before, mirrors=[MIRROR])
    indent = dc.detect_indent(text)
    written = dc.render_document(result.document, indent)
    after = json.loads(written)

    assert {k: v for k, v in after.items() if k != dc.MIRRORS_KEY} == \
        {k: v for k, v in before.items() if k != dc.MIRRORS_KEY}
    assert [k for k in after if k != dc.MIRRORS_KEY] == [k for k in before if k != dc.MIRRORS_KEY]
    if dc.MIRRORS_KEY in before:
        assert list(after).index(dc.MIRRORS_KEY) == list(before).index(dc.MIRRORS_KEY)
    else:
        assert list(after)[-1] == dc.MIRRORS_KEY
    assert [dc.mirror_key(m) for m in after[dc.MIRRORS_KEY]].count(dc.mirror_key(MIRROR)) == 1
    assert after[dc.MIRRORS_KEY][:len(before.get(dc.MIRRORS_KEY, []))] == before.get(dc.MIRRORS_KEY, [])
    assert written.endswith("\n") and "\\u" not in written.replace("\\\\u", "")
    assert dc.canonical(after) == dc.canonical(result.document)
    if os.path.basename(path) != "unknown_keys.json":
        assert dc.schema_errors(after, use_jsonschema=False) == dc.schema_errors(after, use_jsonschema=True) == []


@pytest.mark.parametrize("path", CORPUS, ids=[os.path.basename(p) for p in CORPUS])
def test_second_merge_is_a_no_op(path: str) -> None:
    first = dc.apply_changes(dc.parse_document(load(path)), mirrors=[MIRROR]).document
    for spelling in (MIRROR, MIRROR + "/"):
        again = dc.apply_changes(first, mirrors=[spelling])
        assert again.changed_keys == [] and again.document == first


@pytest.mark.parametrize("name, indent", [("tab_indented.json", "\t"), ("four_space.json", 4),
                                          ("log_options.json", 2), ("compact_one_line.json", None),
                                          ("empty.json", 2), ("whitespace_only.json", 2)])
def test_corpus_indent_kept(name: str, indent) -> None:
    text = load(os.path.join(CORPUS_DIR, name))
    assert dc.detect_indent(text) == indent
    written = dc.render_document(dc.apply_changes(dc.parse_document(text), mirrors=[MIRROR]).document, indent)
    if indent == "\t":
        assert written.splitlines()[1].startswith('\t"')
    elif indent is None:
        assert written.count("\n") == 1
