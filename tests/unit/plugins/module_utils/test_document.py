# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tables of cases for the daemon.json text: strict parse, plan, format-preserving render, redact."""

from __future__ import annotations

import glob
import json
import os
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _document as doc
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError

CORPUS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "daemon_json")
FIXTURES = sorted(glob.glob(os.path.join(CORPUS_DIR, "*.json")))
ACCEPTED = [path for path in FIXTURES if not os.path.basename(path).startswith("refused_")]
REFUSED = [path for path in FIXTURES if os.path.basename(path).startswith("refused_")]
MIRROR = "https://mirror.gcr.io"
M = doc.MIRRORS_KEY


def load(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def edit(text: str, **kwargs: t.Any) -> str:
    document = doc.parse(text)
    return doc.render(document, doc.plan(document.values, **kwargs).values)


# --------------------------------------------------------------------------- parse

@pytest.mark.parametrize("text, expected", [
    ("", {}),
    ("   \n\t\r\n", {}),
    ("\ufeff{}", {}),
    ("\ufeff", {}),
    ('{"a": 1}', {"a": 1}),
    ('{"labels": ["名前=値", "emoji=🐳", "caf\\u00e9"]}', {"labels": ["名前=値", "emoji=🐳", "café"]}),
    ('{"registry-mirrors": []}', {"registry-mirrors": []}),
    ('{"x": 1e308, "y": -1e308, "z": 5e-324}', {"x": 1e308, "y": -1e308, "z": 5e-324}),
    ('{"deep": %s1%s}' % ("[" * 99, "]" * 99), None),
    ('{"x": "[[[[{{{{"}', {"x": "[[[[{{{{"}),
    ('{"x": "\\"[[[["}', {"x": '"[[[['}),
    ('{"a": {"k": 1}, "b": {"k": 2}}', {"a": {"k": 1}, "b": {"k": 2}}),
])
def test_parse_ok(text: str, expected: t.Any) -> None:
    values = doc.parse(text).values
    if expected is not None:
        assert values == expected
    assert isinstance(values, dict) and not isinstance(values, list)


PARSE_ERRORS = [
    ("syntax", '{\n  "a": 1,\n  "b" 2\n}', "cannot parse as JSON (line 3, column 7)"),
    ("unterminated", "{", "cannot parse as JSON (line 1, column 2)"),
    ("unterminated string", '{"a": "abc', "cannot parse as JSON (line 1, column 7)"),
    ("trailing comma", '{"a": 1,}', "cannot parse as JSON"),
    ("comment", '{"a": 1 // c\n}', "cannot parse as JSON"),
    ("array", "[]", "top level must be a JSON object, found an array"),
    ("string", '"x"', "found a string"),
    ("null", "null", "found null"),
    ("number", "3", "found a number"),
    ("bool", "true", "found a boolean"),
    ("mirrors string", '{"registry-mirrors": "https://a"}',
     '"registry-mirrors" must be a list of strings, found a string'),
    ("mirrors item", '{"registry-mirrors": [1]}', "item 0 is a number: 1"),
    ("mirrors object", '{"registry-mirrors": {"a": 1}}', "found an object"),
    ("insecure null", '{"insecure-registries": [null]}', '"insecure-registries" must be a list of strings, item 0 is null'),
    ("duplicate top", '{"registry-mirrors": ["a"], "registry-mirrors": ["b"]}', 'duplicate key "registry-mirrors"'),
    ("duplicate nested", '{"log-opts": {"max-size": "1m", "max-size": "2m"}}',
     '"log-opts": duplicate key "max-size"'),
    ("duplicate in list", '{"a": [{"k": 1, "k": 2}]}', '"a"[0]: duplicate key "k"'),
    ("nan", '{"x": NaN}', '"x": NaN is not valid JSON'),
    ("infinity nested", '{"x": {"y": [1, -Infinity]}}', '"x"."y"[1]: -Infinity is not valid JSON'),
    ("overflow float", '{"x": 1e400}', '"x": the number 1e400 is out of range'),
    ("overflow negative", '{"a": {"b": -2.5e308}}', '"a"."b": the number -2.5e308 is out of range'),
    ("overflow int", '{"x": %s}' % ("9" * 400), '"x": the number 99999999999999999999... is out of range'),
    ("too deep", '{"deep": %s%s}' % ("[" * 100, "]" * 100), 'nesting deeper than 100 levels under "deep"'),
    ("very deep", '{"a": 1, "deep": %s%s}' % ("{\"k\": " * 5000, "}" * 5000), "nesting deeper than 100"),
    ("deep unbalanced", "[" * 100000, "nesting deeper than 100 levels (line 1, column 101)"),
    ("lone surrogate mirror", '{"registry-mirrors": ["https://\\ud800.example"]}',
     '"registry-mirrors"[0] holds a lone surrogate'),
    ("lone surrogate insecure", '{"insecure-registries": ["\\udfff"]}', '"insecure-registries"[0] holds a lone surrogate'),
    ("raw surrogate", '{"a": "\udcff"}', "not valid UTF-8 text"),
]


@pytest.mark.parametrize("name, text, fragment", PARSE_ERRORS, ids=[row[0] for row in PARSE_ERRORS])
def test_parse_errors(name: str, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        doc.parse(text)
    assert fragment in info.value.message
    assert "Traceback" not in info.value.message and "Error(" not in info.value.message


def test_lone_surrogate_outside_managed_keys_is_kept() -> None:
    text = '{"labels": ["\\ud800"], "debug": true}'
    assert edit(text, mirrors=[MIRROR]) == '{"labels": ["\\ud800"], "debug": true, "registry-mirrors": ["%s"]}' % MIRROR


@pytest.mark.parametrize("text, values", [
    ('{"labels": ["\\ud800"]}', {"labels": ["\ufffd"]}),
    ('{"labels": ["a=\\udc00b", "\\ud83d\\ude00=x"], "x\\ud800": 1}',
     {"labels": ["a=\ufffdb", "\U0001f600=x"], "x\ufffd": 1}),
    ('{"labels": ["\\ud800\\u0041=1"]}', {"labels": ["\ufffdA=1"]}),
])
def test_lone_surrogates_read_as_dockerd_reads_them(text: str, values: dict) -> None:
    # Go's encoding/json reads a lone surrogate escape as U+FFFD (a pair is one character): so do we, and no value
    # holds a lone surrogate (ansible-core refuses a result that is not valid UTF-8).
    parsed = doc.parse(text).values
    assert parsed == values
    json.dumps(parsed, ensure_ascii=False).encode("utf-8")


def test_keys_equal_once_read_as_dockerd_reads_them_are_duplicates() -> None:
    with pytest.raises(ConfigError) as info:
        doc.parse('{"a\\ud800": 1, "a\\udc00": 2}')
    assert "duplicate key" in info.value.message
    info.value.message.encode("utf-8")


@pytest.mark.parametrize("path", REFUSED, ids=[os.path.basename(p) for p in REFUSED])
def test_refused_fixtures(path: str) -> None:
    with pytest.raises(ConfigError) as info:
        doc.parse(load(path))
    assert '"' in info.value.message, "the message names the key"


# --------------------------------------------------------------------------- plan

A, A_SLASH, B = "https://a.example", "https://a.example/", "https://b.example"
BASE = {"log-driver": "json-file", "registry-mirrors": [A], "debug": False}


@pytest.mark.parametrize("kwargs, expected, changed, cleared", [
    (dict(mirrors=[A_SLASH]), BASE, [], []),
    (dict(mirrors=[B]), {**BASE, M: [A, B]}, [M], []),
    (dict(mirrors=[A], state="absent"), {**BASE, M: []}, [M], [M]),
    (dict(mirrors=[], state="absent", exclusive=True), {**BASE, M: []}, [M], [M]),
    (dict(mirrors=[B], exclusive=True), {**BASE, M: [B]}, [M], []),
    (dict(insecure=["10.0.0.5:5000"]), {**BASE, "insecure-registries": ["10.0.0.5:5000"]},
     ["insecure-registries"], []),
    (dict(insecure=["10.0.0.5:5000"], state="absent"), BASE, [], []),
    (dict(settings={"debug": True}), {**BASE, "debug": True}, ["debug"], []),
    (dict(settings={"debug": 0}), {**BASE, "debug": 0}, ["debug"], []),
    (dict(settings={"debug": False}), BASE, [], []),
    (dict(settings={"debug": None}), {"log-driver": "json-file", M: [A]}, ["debug"], []),
    (dict(settings={"absent-key": None}), BASE, [], []),
    (dict(settings={"live-restore": True}), {**BASE, "live-restore": True}, ["live-restore"], []),
    (dict(), BASE, [], []),
])
def test_plan(kwargs: dict, expected: dict, changed: list, cleared: list) -> None:
    source = json.loads(json.dumps(BASE))
    result = doc.plan(source, **kwargs)
    assert result.values == expected and list(result.values) == list(expected)
    assert result.changed_keys == changed
    assert result.cleared_keys == cleared
    assert source == BASE, "the input must not be mutated"


def test_plan_absent_on_missing_key_adds_nothing() -> None:
    result = doc.plan({"debug": True}, mirrors=[A], state="absent")
    assert result.values == {"debug": True} and result.changed_keys == []


def test_plan_accepts_plain_json_values() -> None:
    settings = {"x": {"a": [1, 2.5, None, True, "é", (3, 4)]}}
    assert doc.plan({}, settings=settings).changed_keys == ["x"]


def test_plan_object_setting_order_insensitive() -> None:
    values = {"log-opts": {"max-size": "10m", "max-file": "3"}}
    assert doc.plan(values, settings={"log-opts": {"max-file": "3", "max-size": "10m"}}).changed_keys == []


DEEP: list = []
_inner = DEEP
for _ in range(5000):
    _inner.append([])
    _inner = _inner[0]


@pytest.mark.parametrize("settings, fragment", [
    ({"registry-mirrors": []}, '"registry-mirrors" cannot be set through settings: use the registry_mirrors option'),
    ({"insecure-registries": []}, "use the insecure_registries option"),
    ({"labels": ["\udc80"]}, '"labels"[0] holds a lone surrogate'),
    ({"\ud800": 1}, "the settings key"),
    ({"x": {"a": [1, float("nan")]}}, '"x"."a"[1]: nan cannot be written as JSON'),
    ({"x": float("inf")}, '"x": inf cannot be written'),
    ({"x": {1: "a"}}, '"x": object keys must be text, found 1'),
    ({"x": {"\udc80": "a"}}, "object keys must be text"),
    ({"x": {"k": b"bytes"}}, '"x"."k": a bytes cannot be written as JSON'),
    ({"x": DEEP}, '"x"[0][0]...: nesting deeper than 100 levels'),
    (["debug"], "settings must be a dictionary with string keys"),
    ({1: True}, "settings must be a dictionary with string keys"),
])
def test_plan_errors(settings: t.Any, fragment: str) -> None:
    for current in ({}, {name: 1 for name in settings if isinstance(name, str)} if isinstance(settings, dict) else {}):
        with pytest.raises(ConfigError) as info:
            doc.plan(current, settings=settings)
        assert fragment in info.value.message


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(mirrors=["https://\ud800.example"]), '"registry-mirrors"[0] holds a lone surrogate'),
    (dict(insecure=["\udfff"]), '"insecure-registries"[0] holds a lone surrogate'),
])
def test_plan_errors_in_lists(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        doc.plan({}, **kwargs)
    assert fragment in info.value.message


# --------------------------------------------------------------------------- render, byte-exact

RENDER_CASES = [
    ("empty file", "", dict(mirrors=[A]), '{\n  "registry-mirrors": [\n    "https://a.example"\n  ]\n}\n'),
    ("whitespace only", " \n\n", dict(mirrors=[A]), '{\n  "registry-mirrors": [\n    "https://a.example"\n  ]\n}\n'),
    ("bom empty", "\ufeff", dict(mirrors=[A]), '\ufeff{\n  "registry-mirrors": [\n    "https://a.example"\n  ]\n}\n'),
    ("empty object", "{}", dict(mirrors=[A]), '{"registry-mirrors": ["https://a.example"]}'),
    ("empty object lines", "{\n}\n", dict(mirrors=[A]), '{\n  "registry-mirrors": [\n    "https://a.example"\n  ]\n}\n'),
    ("compact", '{"a":1,"b":[1e3]}', dict(mirrors=[A]), '{"a":1,"b":[1e3],"registry-mirrors":["https://a.example"]}'),
    ("compact spaced", '{"a": 1, "b": 2}\n', dict(mirrors=[A, B]),
     '{"a": 1, "b": 2, "registry-mirrors": ["https://a.example", "https://b.example"]}\n'),
    ("compact replace", '{"registry-mirrors":["https://a.example"],"x":0.1000000000000000055511}', dict(mirrors=[B]),
     '{"registry-mirrors":["https://a.example","https://b.example"],"x":0.1000000000000000055511}'),
    ("two spaces", '{\n  "a": 1e3,\n  "b": "\\u00e9"\n}\n', dict(mirrors=[A]),
     '{\n  "a": 1e3,\n  "b": "\\u00e9",\n  "registry-mirrors": [\n    "https://a.example"\n  ]\n}\n'),
    ("four spaces", '{\n    "a": 1\n}', dict(mirrors=[A]),
     '{\n    "a": 1,\n    "registry-mirrors": [\n        "https://a.example"\n    ]\n}'),
    ("tabs", '{\n\t"a": {"x": 1}\n}\n', dict(mirrors=[A]),
     '{\n\t"a": {"x": 1},\n\t"registry-mirrors": [\n\t\t"https://a.example"\n\t]\n}\n'),
    ("crlf", '{\r\n  "a": 1,\r\n  "registry-mirrors": []\r\n}\r\n', dict(mirrors=[A]),
     '{\r\n  "a": 1,\r\n  "registry-mirrors": [\r\n    "https://a.example"\r\n  ]\r\n}\r\n'),
    ("crlf new key", '{\r\n  "a": 1\r\n}\r\n', dict(settings={"debug": True}),
     '{\r\n  "a": 1,\r\n  "debug": true\r\n}\r\n'),
    ("one-line value in multi-line file stays one line", '{\n  "registry-mirrors": ["https://a.example"],\n  "z": 1\n}\n',
     dict(mirrors=[B]), '{\n  "registry-mirrors": ["https://a.example", "https://b.example"],\n  "z": 1\n}\n'),
    ("key order kept, value replaced in place", '{\n  "z": 1,\n  "registry-mirrors": [\n    "x://a"\n  ],\n  "a": 2\n}',
     dict(mirrors=[B], exclusive=True), '{\n  "z": 1,\n  "registry-mirrors": [\n    "https://b.example"\n  ],\n  "a": 2\n}'),
    ("remove first", '{\n  "debug": true,\n  "a": 1\n}\n', dict(settings={"debug": None}), '{\n  "a": 1\n}\n'),
    ("remove middle", '{"a": 1, "debug": true, "b": 2}', dict(settings={"debug": None}), '{"a": 1, "b": 2}'),
    ("remove last", '{\n  "a": 1,\n  "debug": true\n}\n', dict(settings={"debug": None}), '{\n  "a": 1\n}\n'),
    ("remove only", '{\n  "debug": true\n}\n', dict(settings={"debug": None}), '{}\n'),
    ("remove two last", '{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}\n', dict(settings={"b": None, "c": None}),
     '{\n  "a": 1\n}\n'),
    ("remove and add", '{\n  "a": 1,\n  "b": 2\n}\n', dict(settings={"b": None, "c": [1]}),
     '{\n  "a": 1,\n  "c": [\n    1\n  ]\n}\n'),
    ("remove all, add one", '{"a": 1}', dict(settings={"a": None, "b": 2}), '{"b": 2}'),
    ("bom kept", '\ufeff{\n  "a": 1\n}\n', dict(mirrors=[A]),
     '\ufeff{\n  "a": 1,\n  "registry-mirrors": [\n    "https://a.example"\n  ]\n}\n'),
    ("no trailing newline", '{"a": 1}', dict(settings={"a": 2}), '{"a": 2}'),
    ("spaces around colon", '{\n  "a" : 1\n}', dict(settings={"b": "é"}), '{\n  "a" : 1,\n  "b" : "é"\n}'),
    ("member on brace line", '{"a": 1,\n "b": 2}', dict(settings={"c": 3}), '{"a": 1,\n "b": 2,\n "c": 3}'),
    ("escaped key kept", '{\n  "k\\"ey": 1\n}', dict(settings={"k\"ey": 2}), '{\n  "k\\"ey": 2\n}'),
    ("nothing to do", '{ "registry-mirrors" : [ "https://a.example" ] }', dict(mirrors=[A_SLASH]),
     '{ "registry-mirrors" : [ "https://a.example" ] }'),
]


@pytest.mark.parametrize("name, text, kwargs, expected", RENDER_CASES, ids=[row[0] for row in RENDER_CASES])
def test_render_exact(name: str, text: str, kwargs: dict, expected: str) -> None:
    written = edit(text, **kwargs)
    assert written == expected
    again = doc.parse(written)
    assert doc.plan(again.values, **kwargs).changed_keys == []


@pytest.mark.parametrize("text", ["", "  \n", "\ufeff"])
def test_render_empty_without_values_keeps_text(text: str) -> None:
    assert doc.render(doc.parse(text), {}) == text


def test_render_unchanged_returns_text_itself() -> None:
    text = '{\r\n\t"a" :1e3 ,"b":[ ]\r\n}\r\n\r\n'
    document = doc.parse(text)
    assert doc.render(document, dict(document.values)) is document.text


# --------------------------------------------------------------------------- corpus

def member_bytes(text: str) -> dict[str, str]:
    document = doc.parse(text)
    return {m.key: document.body[m.key_start:m.value_end] for m in document.members}


@pytest.mark.parametrize("path", ACCEPTED, ids=[os.path.basename(p) for p in ACCEPTED])
def test_corpus_merge_keeps_every_other_byte(path: str) -> None:
    text = load(path)
    before = doc.parse(text)
    written = doc.render(before, doc.plan(before.values, mirrors=[MIRROR]).values)

    after = doc.parse(written)
    kept_before = {k: v for k, v in member_bytes(text).items() if k != M}
    kept_after = {k: v for k, v in member_bytes(written).items() if k != M}
    assert kept_after == kept_before
    assert list(after.values) == list(before.values) + ([M] if M not in before.values else [])
    assert after.values[M][:len(before.values.get(M, []))] == before.values.get(M, [])
    assert [m.rstrip("/") for m in after.values[M]].count(MIRROR) == 1
    if before.body.strip():
        assert ("\r\n" in written) == ("\r\n" in text)
        assert written.endswith("\n") == text.endswith("\n")
        assert written[:len(before.body) - len(before.body.lstrip())] == text[:len(before.body) - len(before.body.lstrip())]
    second = doc.plan(after.values, mirrors=[MIRROR + "/"])
    assert second.changed_keys == []
    assert doc.render(after, second.values) == written


@pytest.mark.parametrize("name, expected_layout", [
    ("crlf.json", "\r\n"),
    ("compact_no_spaces.json", '"live-restore":true,"registry-mirrors":["https://mirror.gcr.io"]}'),
    ("compact_one_line.json", '{"log-level":"warn","registry-mirrors":["https://mirror.gcr.io/"],"iptables":true}'),
    ("tab_indented.json", '\n\t"registry-mirrors": [\n\t\t"https://mirror.gcr.io"\n\t]\n}'),
    ("four_space.json", '\n    "registry-mirrors": [\n        "https://mirror.gcr.io"\n    ]\n}'),
    ("number_tokens.json", '"Exponent": 1e3, "LongDecimal": 0.1000000000000000055511, "NegativeZero": -0.0'),
    ("number_tokens.json", '"caf\\u00e9=1", "tab=\\t", "slash=\\/", "emoji=\\ud83d\\udc33"'),
])
def test_corpus_layout(name: str, expected_layout: str) -> None:
    written = edit(load(os.path.join(CORPUS_DIR, name)), mirrors=[MIRROR])
    assert expected_layout in written


def test_corpus_has_the_hostile_files() -> None:
    names = {os.path.basename(path) for path in FIXTURES}
    assert {"crlf.json", "compact_no_spaces.json", "proxies_password.json", "number_tokens.json",
            "refused_duplicate_top.json", "refused_nan.json", "refused_overflow.json",
            "refused_deep_nesting.json"} <= names


# --------------------------------------------------------------------------- redact and errors

@pytest.mark.parametrize("text, expected", [
    ("https://user:s3cr3t@host/x", "https://xxxxx@host/x"),
    ("a http://u@h b https://u:p@q@h2:5000", "a http://xxxxx@h b https://xxxxx@h2:5000"),
    ('"http:\\/\\/u:pw@proxy:3128"', '"http:\\/\\/xxxxx@proxy:3128"'),
    ("no url user@host", "no url user@host"),
    ("https://host/path@x", "https://host/path@x"),
    ('{"proxies": {"http-proxy": "http://p:3128", "no-proxy": "a\\"b"}}',
     '{"proxies": {"http-proxy": "xxxxx", "no-proxy": "xxxxx"}}'),
    ('{\r\n  "https-proxy" : "socks5://u:pw@h"\r\n}', '{\r\n  "https-proxy" : "xxxxx"\r\n}'),
])
def test_redact(text: str, expected: str) -> None:
    assert doc.redact(text) == expected


def test_redact_proxies_fixture_keeps_no_password() -> None:
    text = load(os.path.join(CORPUS_DIR, "proxies_password.json"))
    written = edit(text, mirrors=[MIRROR])
    for shown in (doc.redact(text), doc.redact(written), json.dumps(doc.redact_values(doc.parse(written).values))):
        assert "Pr0xyPW" not in shown and "proxyuser" not in shown
    assert "Pr0xyPW" in written, "the file itself keeps its value"


REDACTED_ARGUMENTS = [
    ({"registry_mirrors": ["https://u:pw@m.example", "u:pw@m.example"]},
     {"registry_mirrors": ["https://xxxxx@m.example", "xxxxx@m.example"]}),
    ({"insecure_registries": ["u:pw@reg:5000", "10.0.0.0/8"]},
     {"insecure_registries": ["xxxxx@reg:5000", "10.0.0.0/8"]}),
    ({"mirrors": ["u:pw@m.example"]}, {"mirrors": ["xxxxx@m.example"]}),
    ({"settings": {"proxies": {"http-proxy": "bob:pw@proxy:3128"}, "labels": ["a@b"]}},
     {"settings": {"proxies": {"http-proxy": "xxxxx"}, "labels": ["a@b"]}}),
    ({"settings": {"labels": ["\ud800"], "\udc00": 1}}, {"settings": {"labels": ["\\ud800"], "\\udc00": 1}}),
    ({"registry_mirrors": None, "path": "/etc/docker/daemon.json"},
     {"registry_mirrors": None, "path": "/etc/docker/daemon.json"}),
]


@pytest.mark.parametrize("params, expected", REDACTED_ARGUMENTS)
def test_redact_arguments(params: dict, expected: dict) -> None:
    shown = doc.redact_arguments(params)
    assert shown == expected
    json.dumps(shown, ensure_ascii=False).encode("utf-8")


def test_redact_values() -> None:
    values = {"proxies": {"http-proxy": "http://u:p@h"}, "registry-mirrors": ["https://u:p@m"], "n": [1, None]}
    assert doc.redact_values(values) == {"proxies": {"http-proxy": "xxxxx"},
                                         "registry-mirrors": ["https://xxxxx@m"], "n": [1, None]}


def test_error_message_is_masked() -> None:
    error = ConfigError("bad https://admin:hunter2@h")
    assert error.message == str(error) == "bad https://xxxxx@h"


@pytest.mark.parametrize("value, name", [
    (None, "null"), (True, "a boolean"), (1, "a number"), (1.5, "a number"), ("", "a string"),
    ([], "an array"), ({}, "an object"),
])
def test_json_type_name(value: t.Any, name: str) -> None:
    assert doc.json_type_name(value) == name


def test_key_path() -> None:
    assert doc.key_path(()) == "(top level)"
    assert doc.key_path(("a", 0, "b")) == '"a"[0]."b"'
