# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/tools/cri_pull.py: the hand-written protobuf encoding, the reply decoding and the API fallback."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "cri_pull.py")
_spec = importlib.util.spec_from_file_location("cri_pull", TOOL)
cri_pull = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cri_pull)

LONG = "registry.k8s.io/" + "x" * 200 + ":1"


@pytest.mark.parametrize("value, encoded", [
    (0, b"\x00"),
    (1, b"\x01"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (300, b"\xac\x02"),
    (2 ** 32, b"\x80\x80\x80\x80\x10"),
])
def test_varint_round_trip(value: int, encoded: bytes) -> None:
    assert cri_pull.encode_varint(value) == encoded
    assert cri_pull.decode_varint(encoded + b"tail", 0) == (value, len(encoded))


def test_negative_varint_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        cri_pull.encode_varint(-1)


@pytest.mark.parametrize("image, encoded", [
    # field 1 (ImageSpec, key 0x0a, length 3) holding field 1 (image, key 0x0a, length 1, "a")
    ("a", b"\x0a\x03\x0a\x01a"),
    ("docker.io/library/hello:1",
     b"\x0a\x1b\x0a\x19docker.io/library/hello:1"),
    # lengths above 127 take two varint bytes: inner 218 = \xda\x01, outer 221 = \xdd\x01
    (LONG, b"\x0a\xdd\x01\x0a\xda\x01" + LONG.encode()),
    ("é", b"\x0a\x04\x0a\x02\xc3\xa9"),
])
def test_pull_image_request(image: str, encoded: bytes) -> None:
    assert cri_pull.pull_image_request(image) == encoded


def test_request_decodes_back_to_the_image() -> None:
    [(number, wire, spec)] = cri_pull.decode_fields(cri_pull.pull_image_request(LONG))
    assert (number, wire) == (1, 2)
    assert cri_pull.decode_fields(spec) == [(1, 2, LONG.encode())]


@pytest.mark.parametrize("reply, ref", [
    (b"\x0a\x0bsha256:abcd", "sha256:abcd"),
    # unknown fields of every wire type around it are skipped: varint 2, fixed64 3, bytes 4, fixed32 5
    (b"\x10\x96\x01" + b"\x19" + bytes(8) + b"\x0a\x04sha2" + b"\x22\x02xy" + b"\x2d" + bytes(4), "sha2"),
    # a repeated field 1: the last one wins, as a protobuf parser does
    (b"\x0a\x01a\x0a\x01b", "b"),
])
def test_image_ref_from_reply(reply: bytes, ref: str) -> None:
    assert cri_pull.image_ref_from_reply(reply) == ref


@pytest.mark.parametrize("reply, message", [
    (b"", "no image_ref"),
    (b"\x10\x01", "no image_ref"),
    (b"\x0a\x05abc", "truncated length-delimited field 1"),
    (b"\x0a", "truncated or overlong varint"),
    (b"\x0d\x00\x00", "truncated fixed-size field 1"),
    (b"\x0b", "unsupported wire type 3"),
])
def test_bad_replies_are_named(reply: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cri_pull.image_ref_from_reply(reply)


class FakeContainerd:
    """invoke(method, request) answering per method: bytes, or a CriError to raise; records the calls."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers
        self.calls: list[tuple[str, bytes]] = []

    def __call__(self, method: str, request: bytes) -> bytes:
        self.calls.append((method, request))
        answer = self.answers.get(method, cri_pull.CriError("UNIMPLEMENTED", f"unknown method {method}"))
        if isinstance(answer, Exception):
            raise answer
        return answer


V1 = "/runtime.v1.ImageService/PullImage"
V1ALPHA2 = "/runtime.v1alpha2.ImageService/PullImage"


def test_v1_first() -> None:
    containerd = FakeContainerd({V1: b"\x0a\x02id", V1ALPHA2: b"\x0a\x03old"})
    assert cri_pull.pull("pause:3.9", containerd) == ("runtime.v1", "id")
    assert containerd.calls == [(V1, cri_pull.pull_image_request("pause:3.9"))]


def test_v1alpha2_when_v1_is_not_served() -> None:
    containerd = FakeContainerd({V1ALPHA2: b"\x0a\x03old"})
    assert cri_pull.pull("pause:3.9", containerd) == ("runtime.v1alpha2", "old")
    assert [call[0] for call in containerd.calls] == [V1, V1ALPHA2]


def test_a_failed_pull_is_not_retried_on_the_older_api() -> None:
    failure = cri_pull.CriError("UNKNOWN", "failed to pull and unpack image: "
                                           "x509: certificate signed by unknown authority")
    containerd = FakeContainerd({V1: failure, V1ALPHA2: b"\x0a\x03old"})
    with pytest.raises(cri_pull.CriError, match="x509"):
        cri_pull.pull("registry.k8s.io/pause:3.9", containerd)
    assert [call[0] for call in containerd.calls] == [V1]


def test_no_cri_api_served() -> None:
    with pytest.raises(cri_pull.CriError, match="serves no CRI image API.*runtime.v1alpha2: unknown method"):
        cri_pull.pull("pause:3.9", FakeContainerd({}))


def test_main_prints_the_result(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cri_pull, "grpc_invoker", lambda target, timeout: FakeContainerd({V1: b"\x0a\x02id"}))
    assert cri_pull.main(["docker.io/library/hello:1"]) == 0
    assert json.loads(capsys.readouterr().out) == {"image": "docker.io/library/hello:1", "api": "runtime.v1",
                                                   "ref": "id"}


def test_main_exits_1_with_containerd_words(monkeypatch, capsys) -> None:
    failure = cri_pull.CriError("NOT_FOUND", "failed to resolve reference \"docker.io/library/nope:1\": not found")
    monkeypatch.setattr(cri_pull, "grpc_invoker", lambda target, timeout: FakeContainerd({V1: failure}))
    assert cri_pull.main(["docker.io/library/nope:1"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ('cri_pull: docker.io/library/nope:1: NOT_FOUND: failed to resolve reference '
                            '"docker.io/library/nope:1": not found\n')
