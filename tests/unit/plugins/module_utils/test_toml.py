# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TOML reader on every host Python: tomllib, else tomli, else toml (python3-toml, Debian 11), else a
one-line error naming the package."""

from __future__ import annotations

import builtins
import importlib
import sys
import types

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _toml
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError

DOCUMENT = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n'


class FakeTomlError(Exception):
    pass


def fake_toml_module() -> types.ModuleType:
    """A stand-in for python3-toml (0.10): loads(), TomlDecodeError, and a bare IndexError on some input."""
    module = types.ModuleType("toml")

    def loads(text):
        if "[[" in text:
            raise IndexError("list index out of range")
        if "=" not in text:
            raise FakeTomlError("Found invalid character in key name")
        return {"read_by": "toml"}

    module.loads = loads
    module.TomlDecodeError = FakeTomlError
    return module


@pytest.fixture
def reload_with(monkeypatch):
    """Reload _toml as on a host where only the named modules can be imported (of tomllib, tomli, toml)."""
    real_import = builtins.__import__

    def reload(available: tuple[str, ...], extra: dict[str, types.ModuleType] | None = None):
        for name, module in (extra or {}).items():
            monkeypatch.setitem(sys.modules, name, module)

        def guarded(name, *args, **kwargs):
            if name in ("tomllib", "tomli", "toml") and name not in available:
                raise ImportError("No module named %r" % name)
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", guarded)
        return importlib.reload(_toml)

    yield reload
    monkeypatch.undo()
    importlib.reload(_toml)


def test_reads_with_tomllib_when_there():
    assert _toml.READER == "tomllib"
    assert _toml.parse(DOCUMENT, "config.toml")["plugins"]["io.containerd.grpc.v1.cri"]["registry"] == {
        "config_path": "/etc/containerd/certs.d"}


def test_parse_error_names_the_file():
    with pytest.raises(ConfigError, match=r"^cannot parse /etc/containerd/config.toml as TOML: "):
        _toml.parse("version = = 2\n", "/etc/containerd/config.toml")


def test_falls_back_to_python3_toml(reload_with):
    module = reload_with(("toml",), {"toml": fake_toml_module()})
    assert module.READER == "toml"
    assert module.parse("a = 1\n", "f.toml") == {"read_by": "toml"}
    # Its stray IndexError is a parse error like any other, named after the file.
    with pytest.raises(ConfigError, match=r"^cannot parse f.toml as TOML: list index out of range$"):
        module.parse("[[x]]\na = 1\n", "f.toml")
    with pytest.raises(ConfigError, match=r"^cannot parse f.toml as TOML: Found invalid character"):
        module.parse("oops\n", "f.toml")


def test_no_reader_names_the_packages(reload_with):
    module = reload_with(())
    assert module.READER is None
    with pytest.raises(ConfigError) as caught:
        module.parse(DOCUMENT, "config.toml")
    message = caught.value.message
    assert "\n" not in message
    assert "python3-tomli" in message and "python3-toml " in message and "Python %d.%d" % sys.version_info[:2] in message


@pytest.mark.parametrize("value, written", [
    ("/etc/containerd/certs.d", '"/etc/containerd/certs.d"'),
    ('a "quoted" \\ path', '"a \\"quoted\\" \\\\ path"'),
    ("ünïcode", '"ünïcode"'),
])
def test_toml_string_reads_back(value, written):
    assert _toml.toml_string(value) == written
    assert _toml.loads("k = %s\n" % written) == {"k": value}


@pytest.mark.parametrize("value", ["a\nb", "tab\there", "del\x7f"])
def test_toml_string_refuses_control_characters(value):
    with pytest.raises(ConfigError, match="control characters cannot be written to TOML"):
        _toml.toml_string(value)
