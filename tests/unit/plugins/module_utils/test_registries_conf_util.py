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
    text = rc.render_dropin({"docker.io": mirrors})
    assert rc.is_ours(text)
    assert tomllib.loads(text) == {"registry": [{
        "prefix": "docker.io", "location": "docker.io",
        "mirror": [{"location": "mirror.gcr.io"}, {"location": "10.0.0.5:5000", "insecure": True}]}]}
    rc.check_dropin(text, rc.expected_dropin_data({"docker.io": mirrors}))


def test_render_dropin_without_mirrors() -> None:
    text = rc.render_dropin({"quay.io": []})
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


def prefixes_of(text: str, path: str) -> list[str]:
    """The effective prefix of every ``[[registry]]`` of a main registries.conf file."""
    return [table.prefix for table in rc.registry_tables(text, path, dropin=False)]


@pytest.mark.parametrize("text, prefixes", [
    ('[[registry]]\nprefix = "docker.io"\nlocation = "x"\n', ["docker.io"]),
    ('[[registry]]\nlocation = "docker.io"\n', ["docker.io"]),
    ('[[registry]]\nprefix = ""\nlocation = "docker.io"\n', ["docker.io"]),
    ('unqualified-search-registries = ["docker.io"]\n', []),
    ('[registries.search]\nregistries = ["docker.io"]\n', []),  # version 1 format: no [[registry]]
    ('[[registry]]\nprefix = "a"\n[[registry]]\nprefix = "b"\nlocation = "c"\n', ["a", "b"]),
])
def test_registry_prefixes(text: str, prefixes: list[str]) -> None:
    assert prefixes_of(text, "/f.conf") == prefixes


def test_registry_prefixes_unparsable_names_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        prefixes_of("[[registry]\n", "/etc/containers/registries.conf.d/10-bad.conf")
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
    ([("/main", DOCKER, False, False)], [("/main", "replaced")]),
    ([("/60.conf", DOCKER, True, True)], [("/60.conf", "overrides")]),
    ([("/60.conf", PREFIXLESS, True, True)], [("/60.conf", "overrides")]),
    ([("/10.conf", LIBRARY, False, True), ("/60.conf", OTHER, True, True)], [("/10.conf", "longer")]),
    ([("/60.conf", '[[registry]]\nprefix = "docker.iox"\nlocation = "x"\n', True, True)], []),
    ([("/10.conf", rc.MARKER + "\n" + DOCKER, False, True)], [("/10.conf", "own")]),
    ([], []),
])
def test_find_overrides(files: list[tuple[str, str, bool, bool]], kinds: list[tuple[str, str]]) -> None:
    found = rc.find_overrides("docker.io", [rc.OtherFile(*item) for item in files])
    assert [(finding.path, finding.kind) for finding in found] == kinds


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
    assert rc.merged_registries(files, "/main") == expected


def test_merged_registries_unparsable_names_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        rc.merged_registries([("/main", DOCKER), ("/etc/containers/registries.conf.d/10-bad.conf", "[[registry]\n")],
                             "/main")
    assert "10-bad.conf" in info.value.message and "refuse it as well" in info.value.message


# --------------------------------------------------------------------------- issue 17 item 5: one mirror check


@pytest.mark.parametrize("url, fragment", [
    ("https://harbor.example/v2/dockerhub-proxy", "https://harbor.example/v2/dockerhub-proxy"),
    ("https://harbor.example/v2/dockerhub-proxy", "has a path"),
    ("mirror.gcr.io", "no scheme"),
    ("https://u:secret@m.example", "username/password"),
])
def test_check_mirrors_names_the_value(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        rc.check_mirrors(["https://mirror.gcr.io", url])
    assert fragment in info.value.message and "secret" not in info.value.message


def test_check_mirrors_accepts_what_is_written() -> None:
    assert rc.check_mirrors(["https://mirror.gcr.io/", "http://127.0.0.1:5000", "https://[::1]:5000"]) is None
    assert rc.check_mirrors([]) is None


def test_mirrors_from_urls_uses_check_mirrors(monkeypatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(rc, "check_mirrors", lambda urls: seen.append(list(urls)))
    rc.mirrors_from_urls(["https://m.example"])
    assert seen == [["https://m.example"]]


# --------------------------------------------------------------------------- issue 21: _default


@pytest.mark.parametrize("name, fragment", [
    ("_default", "_default"), ("_default", "containerd"), ("docker.io/library", "invalid registry"),
    ("", "invalid registry"),
])
def test_validate_registry_refuses(name: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        rc.validate_registry(name)
    assert fragment in info.value.message


def test_validate_registry_accepts() -> None:
    assert rc.validate_registry("quay.io") == "quay.io" and rc.validate_registry("localhost:5000") == "localhost:5000"


def test_validate_registry_message_does_not_offer_default() -> None:
    with pytest.raises(ConfigError) as info:
        rc.validate_registry("a/b")
    assert "_default" not in info.value.message


# --------------------------------------------------------------------------- issue 21: one drop-in, several registries


QUAY = [rc.Mirror("quay-mirror.example", False)]
HUB = [rc.Mirror("mirror.gcr.io", False), rc.Mirror("10.0.0.5:5000", True)]


def test_render_several_registries_reads_back_sorted() -> None:
    tables = {"quay.io": QUAY, "docker.io": HUB}
    text = rc.render_dropin(tables)
    assert rc.is_ours(text)
    assert [entry["prefix"] for entry in tomllib.loads(text)["registry"]] == ["docker.io", "quay.io"]
    rc.check_dropin(text, rc.expected_dropin_data(tables))
    assert rc.own_tables(text, "/d.conf") == {"docker.io": HUB, "quay.io": QUAY}


def test_render_one_registry_is_the_1x_file() -> None:
    v1_1 = (rc.MARKER + '\n[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n\n[[registry.mirror]]\n'
            'location = "mirror.gcr.io"\n\n[[registry.mirror]]\nlocation = "10.0.0.5:5000"\ninsecure = true\n')
    assert rc.render_dropin({"docker.io": HUB}) == v1_1 and rc.own_tables(v1_1, "/d.conf") == {"docker.io": HUB}


def test_own_tables_unparsable() -> None:
    with pytest.raises(ConfigError) as info:
        rc.own_tables(rc.MARKER + "\n[[registry]\n", "/etc/containers/registries.conf.d/50-x.conf")
    assert "50-x.conf" in info.value.message and "force" in info.value.message


@pytest.mark.parametrize("wanted, current, exclusive, expected", [
    (QUAY, HUB, False, HUB + QUAY),
    (QUAY, HUB, True, QUAY),
    ([rc.Mirror("mirror.gcr.io", False)], HUB, False, HUB),
    ([rc.Mirror("10.0.0.5:5000", True), rc.Mirror("mirror.gcr.io", False)], HUB, False,
     [rc.Mirror("mirror.gcr.io", False), rc.Mirror("10.0.0.5:5000", True)]),
    ([], HUB, False, HUB),
    ([], HUB, True, []),
    (HUB, [], False, HUB),
])
def test_merge_mirrors(wanted: list[rc.Mirror], current: list[rc.Mirror], exclusive: bool,
                       expected: list[rc.Mirror]) -> None:
    assert rc.merge_mirrors(wanted, current, exclusive) == expected


@pytest.mark.parametrize("current, present, expected", [
    ({}, True, {"docker.io": QUAY}),
    ({"quay.io": QUAY}, True, {"quay.io": QUAY, "docker.io": QUAY}),
    ({"quay.io": QUAY, "docker.io": HUB}, False, {"quay.io": QUAY}),
    ({"docker.io": HUB}, False, {}),
])
def test_plan_tables(current: dict[str, list[rc.Mirror]], present: bool,
                     expected: dict[str, list[rc.Mirror]]) -> None:
    assert rc.plan_tables(current, "docker.io", QUAY if present else None) == expected
    assert "docker.io" not in current or current["docker.io"] == HUB  # not modified in place


# --------------------------------------------------------------------------- issue 21: prefixes as containers read them


@pytest.mark.parametrize("text, prefixes", [
    ('[[registry]]\nprefix = "docker.io/"\nlocation = "docker.io"\n', ["docker.io"]),
    ('[[registry]]\nlocation = "docker.io//"\n', ["docker.io"]),
    ('[[registry]]\nprefix = "docker.io/library/"\nlocation = "x.example"\n', ["docker.io/library"]),
    # the first table with a prefix wins within one file
    ('[[registry]]\nprefix = "docker.io"\nlocation = "a"\n[[registry]]\nprefix = "docker.io/"\nlocation = "b"\n',
     ["docker.io"]),
])
def test_registry_prefixes_normalised(text: str, prefixes: list[str]) -> None:
    assert prefixes_of(text, "/f.conf") == prefixes


def test_later_dropin_with_trailing_slash_overrides() -> None:
    later = '[[registry]]\nprefix = "docker.io/"\nlocation = "docker.io"\n'
    findings = rc.find_overrides("docker.io", [rc.OtherFile("/60.conf", later, True, True)])
    assert [(finding.kind, finding.written) for finding in findings] == [("overrides", 'prefix = "docker.io/"')]


def test_merged_registries_first_table_of_a_file_wins() -> None:
    text = ('[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "a"\n'
            '[[registry]]\nprefix = "docker.io/"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "b"\n')
    merged = rc.merged_registries([("/main", text)], "/main")
    assert [mirror["Location"] for mirror in merged["docker.io"]["Mirrors"]] == ["a"]


# --------------------------------------------------------------------------- issue 21: an operator's block


V1_BLOCK = '[registries.block]\nregistries = ["docker.io"]\n'
V2_BLOCK = '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\nblocked = true\n'


@pytest.mark.parametrize("files, written", [
    ([rc.OtherFile("/main", V2_BLOCK, False, False)], 'blocked = true'),
    ([rc.OtherFile("/main", V1_BLOCK, False, False)], '[registries.block] registries = ["docker.io"]'),
    ([rc.OtherFile("/main", '[registries.block]\nregistries = ["docker.io/"]\n', False, False)],
     '[registries.block] registries = ["docker.io/"]'),
    ([rc.OtherFile("/10.conf", V2_BLOCK.replace('"docker.io"\nloc', '"docker.io/"\nloc'), False, True)],
     'prefix = "docker.io/"'),
])
def test_block_is_found(files: list[rc.OtherFile], written: str) -> None:
    findings = [finding for finding in rc.find_overrides("docker.io", files) if finding.kind == "blocked"]
    assert len(findings) == 1 and findings[0].path == files[0].path and written in findings[0].written


@pytest.mark.parametrize("files", [
    [rc.OtherFile("/main", '[registries.block]\nregistries = ["quay.io"]\n', False, False)],
    # a later file unblocks it again: the block is not in effect
    [rc.OtherFile("/main", V2_BLOCK, False, False), rc.OtherFile("/10.conf", DOCKER, False, True)],
    # a blocked longer prefix blocks its own images only; ours does not replace it
    [rc.OtherFile("/main", V2_BLOCK.replace('"docker.io"\nloc', '"docker.io/evil"\nloc'), False, False)],
])
def test_no_block_in_effect(files: list[rc.OtherFile]) -> None:
    assert not [finding for finding in rc.find_overrides("docker.io", files) if finding.kind == "blocked"]


def test_wildcard_block_is_found() -> None:
    text = '[[registry]]\nprefix = "*.example.com"\nblocked = true\n'
    findings = rc.find_overrides("reg.example.com", [rc.OtherFile("/main", text, False, False)])
    assert [finding.kind for finding in findings] == ["blocked"]


# --------------------------------------------------------------------------- issue 21: v1 and v2 as containers read


@pytest.mark.parametrize("text, dropin, fragment", [
    ('unqualified-search-registries = ["docker.io"]\n' + V1_BLOCK, False, "mixing"),
    ('credential-helpers = ["containers-auth.json"]\n' + V1_BLOCK, False, "mixing"),
    (DOCKER + V1_BLOCK, False, "mixing"),
    (V1_BLOCK, True, "v2 format"),
    ('[registries.search]\nregistries = ["docker.io"]\n', True, "v2 format"),
])
def test_registry_tables_refuses_what_containers_refuse(text: str, dropin: bool, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        rc.registry_tables(text, "/etc/containers/x.conf", dropin)
    assert fragment in info.value.message and "/etc/containers/x.conf" in info.value.message


@pytest.mark.parametrize("text, prefixes", [
    (V1_BLOCK, [("docker.io", True)]),
    ('[registries.insecure]\nregistries = ["10.0.0.5:5000/"]\n', [("10.0.0.5:5000", False)]),
    # Podman 4.3 accepts an empty v1 list beside v2 keys (5.4 refuses it): not judged here
    ('unqualified-search-registries = ["docker.io"]\n[registries.search]\nregistries = []\n', []),
])
def test_registry_tables_v1_main(text: str, prefixes: list[tuple[str, bool]]) -> None:
    tables = rc.registry_tables(text, "/main", False)
    assert [(table.prefix, table.entry.get("blocked") is True) for table in tables] == prefixes
