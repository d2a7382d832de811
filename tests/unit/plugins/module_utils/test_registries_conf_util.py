# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registries.conf drop-in: mirror locations, rendering, and the files that override it, as tables."""

from __future__ import annotations

import tomllib
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _registries_conf as rc
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError


@pytest.mark.parametrize("urls, mirrors", [
    (["https://mirror.gcr.io"], [rc.Mirror("mirror.gcr.io", False)]),
    (["https://mirror.gcr.io/", "https://mirror.gcr.io"], [rc.Mirror("mirror.gcr.io", False)]),
    (["http://10.0.0.5:5000", "https://[::1]:5000/"],
     [rc.Mirror("10.0.0.5:5000", True), rc.Mirror("[::1]:5000", False)]),
    (["http://127.0.0.1:5000"], [rc.Mirror("127.0.0.1:5000", True)]),
    ([], []),
])
def test_mirrors_from_urls(urls: list[str], mirrors: list[rc.Mirror]) -> None:
    assert rc.mirrors_from_urls(urls) == mirrors


@pytest.mark.parametrize("url, fragment", [
    ("https://m.example/docker", "has a path"), ("mirror.gcr.io", "no scheme"),
    ("https://u:secret@m.example", "username/password"), ("https://m.example#x", "fragment"),
])
def test_mirrors_from_urls_refuses(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        rc.mirrors_from_urls([url])
    assert fragment in info.value.message and "secret" not in info.value.message


def test_render_dropin_reads_back() -> None:
    mirrors = [rc.Mirror("mirror.gcr.io", False), rc.Mirror("10.0.0.5:5000", True)]
    text = rc.render_dropin("docker.io", mirrors)
    assert rc.is_ours(text)
    assert tomllib.loads(text) == {"registry": [{
        "prefix": "docker.io", "location": "docker.io",
        "mirror": [{"location": "mirror.gcr.io"}, {"location": "10.0.0.5:5000", "insecure": True}]}]}
    rc.check_dropin(text, rc.expected_dropin_data("docker.io", mirrors))


def test_render_dropin_without_mirrors() -> None:
    text = rc.render_dropin("quay.io", [])
    rc.check_dropin(text, {"registry": [{"prefix": "quay.io", "location": "quay.io"}]})


def test_check_dropin_catches_mismatch() -> None:
    with pytest.raises(ConfigError, match="does not read back"):
        rc.check_dropin("", {"registry": []})


@pytest.mark.parametrize("name, ok", [
    ("50-fleetops-docker-mirror.conf", True), ("zz.conf", True), ("50-x.toml", False), ("../50.conf", False),
    ("sub/50.conf", False), (".hidden.conf", False), ("", False),
])
def test_validate_dropin_name(name: str, ok: bool) -> None:
    if ok:
        assert rc.validate_dropin_name(name) == name
    else:
        with pytest.raises(ConfigError, match="invalid dropin"):
            rc.validate_dropin_name(name)


@pytest.mark.parametrize("text, prefixes", [
    ('[[registry]]\nprefix = "docker.io"\nlocation = "x"\n', ["docker.io"]),
    ('[[registry]]\nlocation = "docker.io"\n', ["docker.io"]),
    ('[[registry]]\nprefix = ""\nlocation = "docker.io"\n', ["docker.io"]),
    ('unqualified-search-registries = ["docker.io"]\n', []),
    ('[registries.search]\nregistries = ["docker.io"]\n', []),  # version 1 format: no [[registry]]
    ('[[registry]]\nprefix = "a"\n[[registry]]\nprefix = "b"\nlocation = "c"\n', ["a", "b"]),
])
def test_registry_prefixes(text: str, prefixes: list[str]) -> None:
    assert rc.registry_prefixes(text, "/f.conf") == prefixes


def test_registry_prefixes_unparsable_names_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        rc.registry_prefixes("[[registry]\n", "/etc/containers/registries.conf.d/10-bad.conf")
    assert "10-bad.conf" in info.value.message and "refuse it as well" in info.value.message


def test_later_dropins() -> None:
    names = ["99-z.conf", "10-a.conf", "50-fleetops-docker-mirror.conf", "60-b.conf", "70-c.conf.bak", "A.conf"]
    # byte order, as containers-image reads the directory: "A" sorts after "5"
    assert rc.later_dropins(names, "50-fleetops-docker-mirror.conf") == ["60-b.conf", "99-z.conf", "A.conf"]


DOCKER = '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n'
LIBRARY = '[[registry]]\nprefix = "docker.io/library"\nlocation = "other.example"\n'
OTHER = '[[registry]]\nprefix = "quay.io"\nlocation = "quay.io"\n'
PREFIXLESS = '[[registry]]\nlocation = "docker.io"\n'


@pytest.mark.parametrize("files, kinds", [
    ([("/main", DOCKER, False)], [("/main", "replaced")]),
    ([("/60.conf", DOCKER, True)], [("/60.conf", "overrides")]),
    ([("/60.conf", PREFIXLESS, True)], [("/60.conf", "overrides")]),
    ([("/10.conf", LIBRARY, False), ("/60.conf", OTHER, True)], [("/10.conf", "longer")]),
    ([("/60.conf", '[[registry]]\nprefix = "docker.iox"\n', True)], []),
    ([], []),
])
def test_find_overrides(files: list[tuple[str, str, bool]], kinds: list[tuple[str, str]]) -> None:
    assert [(finding.path, finding.kind) for finding in rc.find_overrides("docker.io", files)] == kinds


MIRRORED = ('[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "m.example"\n'
            '[[registry.mirror]]\nlocation = "10.0.0.5:5000"\ninsecure = true\n')


def podman_form(prefix: str, path: str, mirrors: list[tuple[str, bool]] | None = None, location: str | None = None,
                **more: t.Any) -> dict[str, t.Any]:
    return dict({"Prefix": prefix, "Location": location or prefix, "Insecure": False, "Blocked": False, "File": path,
                 "Mirrors": [{"Location": name, "Insecure": insecure} for name, insecure in mirrors or []]}, **more)


@pytest.mark.parametrize("files, expected", [
    ([], {}),
    ([("/main", 'unqualified-search-registries = ["docker.io"]\n')], {}),
    ([("/main", MIRRORED)],
     {"docker.io": podman_form("docker.io", "/main", [("m.example", False), ("10.0.0.5:5000", True)])}),
    # a later table with the same prefix replaces the earlier one, whole
    ([("/main", MIRRORED), ("/60.conf", DOCKER)], {"docker.io": podman_form("docker.io", "/60.conf")}),
    ([("/main", MIRRORED), ("/60.conf", PREFIXLESS)], {"docker.io": podman_form("docker.io", "/60.conf")}),
    ([("/main", MIRRORED), ("/10.conf", LIBRARY)], {
        "docker.io": podman_form("docker.io", "/main", [("m.example", False), ("10.0.0.5:5000", True)]),
        "docker.io/library": podman_form("docker.io/library", "/10.conf", location="other.example")}),
    ([("/x", '[[registry]]\nprefix = "quay.io"\nlocation = "quay.io"\nblocked = true\ninsecure = true\n'
             'mirror = "not a list"\n')],
     {"quay.io": podman_form("quay.io", "/x", Blocked=True, Insecure=True)}),
])
def test_merged_registries(files: list[tuple[str, str]], expected: dict[str, t.Any]) -> None:
    assert rc.merged_registries(files) == expected


def test_merged_registries_unparsable_names_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        rc.merged_registries([("/main", DOCKER), ("/etc/containers/registries.conf.d/10-bad.conf", "[[registry]\n")])
    assert "10-bad.conf" in info.value.message and "refuse it as well" in info.value.message
