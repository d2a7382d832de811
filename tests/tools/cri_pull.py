# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pull an image through containerd's CRI image service, as kubelet does (Debian has no crictl).

Runs ON a test host with the host's python3 (3.9 on Debian 11 up to 3.14 on forky) and python3-grpcio only: no
generated protobuf code. The request is hand-encoded; PullImageRequest field 1 is an ImageSpec whose field 1 is
the image reference (two nested length-delimited fields). The reply's field 1 is the image reference containerd
stored (an image id, ``sha256:...``). ``/runtime.v1.ImageService/PullImage`` first, then
``/runtime.v1alpha2.ImageService/PullImage`` when containerd does not serve v1 (containerd 1.4, Debian 11).

    cri_pull.py [--socket unix:///run/containerd/containerd.sock] [--timeout 120] IMAGE

Prints one JSON object {"image": IMAGE, "api": "runtime.v1", "ref": "sha256:..."} and exits 0; exits 1 with
containerd's error text (gRPC status code and details) on stderr when the pull fails.
"""

from __future__ import annotations

import argparse
import json
import sys

DEFAULT_SOCKET = "unix:///run/containerd/containerd.sock"
# Newest first: containerd 2.x serves only v1, 1.5-1.7 both, 1.4 only v1alpha2.
CRI_APIS = ("runtime.v1", "runtime.v1alpha2")
WIRE_VARINT, WIRE_FIXED64, WIRE_BYTES, WIRE_FIXED32 = 0, 1, 2, 5


class CriError(Exception):
    """A failed CRI call: the gRPC status code name (e.g. UNIMPLEMENTED) and containerd's details."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


def encode_varint(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"a varint cannot encode {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_bytes_field(number: int, payload: bytes) -> bytes:
    """One length-delimited field (wire type 2): key, length, payload."""
    return encode_varint(number << 3 | WIRE_BYTES) + encode_varint(len(payload)) + payload


def pull_image_request(image: str) -> bytes:
    """PullImageRequest{image: ImageSpec{image: IMAGE}} (no auth, no sandbox config)."""
    return encode_bytes_field(1, encode_bytes_field(1, image.encode("utf-8")))


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at data[pos:] and the position after it."""
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def decode_fields(data: bytes) -> list[tuple[int, int, int | bytes]]:
    """Every (field number, wire type, value) of one message, in order; bytes for wire type 2."""
    fields, pos = [], 0
    while pos < len(data):
        key, pos = decode_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == WIRE_VARINT:
            value, pos = decode_varint(data, pos)
        elif wire in (WIRE_FIXED64, WIRE_FIXED32):
            size = 8 if wire == WIRE_FIXED64 else 4
            if pos + size > len(data):
                raise ValueError(f"truncated fixed-size field {number}")
            value, pos = int.from_bytes(data[pos:pos + size], "little"), pos + size
        elif wire == WIRE_BYTES:
            size, pos = decode_varint(data, pos)
            if pos + size > len(data):
                raise ValueError(f"truncated length-delimited field {number}")
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError(f"unsupported wire type {wire} (field {number})")
        fields.append((number, wire, value))
    return fields


def image_ref_from_reply(data: bytes) -> str:
    """PullImageResponse.image_ref (field 1); the last occurrence wins, as in protobuf."""
    refs = [value for number, wire, value in decode_fields(data) if number == 1 and wire == WIRE_BYTES]
    if not refs:
        raise ValueError("the reply has no image_ref (field 1)")
    return refs[-1].decode("utf-8")


def method_path(api: str) -> str:
    return f"/{api}.ImageService/PullImage"


def pull(image: str, invoke) -> tuple[str, str]:
    """Pull IMAGE with invoke(method, request) -> reply bytes; returns (api, image ref).

    Falls back to the next API only when containerd does not serve one (UNIMPLEMENTED); any other error is
    the pull's own and is raised as it came.
    """
    request = pull_image_request(image)
    unserved = []
    for api in CRI_APIS:
        try:
            return api, image_ref_from_reply(invoke(method_path(api), request))
        except CriError as exc:
            if exc.code != "UNIMPLEMENTED":
                raise
            unserved.append(f"{api}: {exc.details}")
    raise CriError("UNIMPLEMENTED", "containerd serves no CRI image API we know (" + "; ".join(unserved) + ")")


def grpc_invoker(target: str, timeout: float):
    """invoke(method, request) over a gRPC channel to target; raw bytes in and out, errors as CriError."""
    import grpc  # python3-grpcio on the host; imported here so the unit tests need no gRPC

    channel = grpc.insecure_channel(target)

    def invoke(method: str, request: bytes) -> bytes:
        call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
        try:
            return call(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise CriError(exc.code().name, exc.details() or "") from None

    return invoke


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("image")
    parser.add_argument("--socket", default=DEFAULT_SOCKET, help=f"gRPC target (default {DEFAULT_SOCKET})")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for one call (default 120)")
    args = parser.parse_args(argv)
    try:
        api, ref = pull(args.image, grpc_invoker(args.socket, args.timeout))
    except (CriError, ValueError) as exc:
        print(f"cri_pull: {args.image}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"image": args.image, "api": api, "ref": ref}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
