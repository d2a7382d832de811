# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registries.conf drop-in: mirror locations, rendering, and the files that override it, as tables."""

from __future__ import annotations

import tomllib
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as ms
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


# --------------------------------------------------------------------------- the shared mirror model (registries)

CERT = "-----BEGIN CERTIFICATE-----\nTUlJQmZha2VjZXJ0\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU\n-----END PRIVATE KEY-----\n"


def spec(url: str, **settings: t.Any) -> ms.MirrorSpec:
    return ms.parse_mirror(dict(settings, url=url), "quay.io")


@pytest.mark.parametrize("url, settings, knows, mirror, whats", [
    ("https://m.example", {}, True, rc.Mirror("m.example", False), []),
    ("http://127.0.0.1:5000/", {}, True, rc.Mirror("127.0.0.1:5000", True), []),
    ("https://m.example:5443", {"skip_verify": True}, True, rc.Mirror("m.example:5443", True), []),
    ("https://h.example/v2/quay-proxy", {"override_path": True}, True, rc.Mirror("h.example/quay-proxy", False), []),
    ("https://h.example/v2/a/b-c", {"override_path": True}, True, rc.Mirror("h.example/a/b-c", False), []),
    ("https://h.example/v2", {"override_path": True}, True, rc.Mirror("h.example", False), []),
    ("https://h.example/v2/Proxy", {"override_path": True}, True, None, ['path "/v2/Proxy"']),
    ("https://h.example/api", {"override_path": True}, True, None, ['path "/api"']),
    ("https://h.example", {"override_path": True}, True, None, ['path "/"']),
    ("https://h.example/proxy", {}, True, None, ['path "/proxy"']),
    ("https://m.example", {"capabilities": ["pull"]}, True, rc.Mirror("m.example", False, "digest-only"),
     ["capabilities: pull"]),
    ("https://m.example", {"capabilities": ["pull"]}, False, None, ["capabilities: pull"]),
    ("https://m.example", {"capabilities": ["resolve"]}, True, None, ["capabilities: resolve"]),
    ("https://m.example", {"capabilities": ["pull", "resolve", "push"]}, True, rc.Mirror("m.example", False),
     ["capabilities: push"]),
    ("https://m.example", {"capabilities": ["push"]}, True, None, ["capabilities: push", "capabilities: push"]),
    ("https://m.example", {"headers": {"Authorization": "Bearer s3cret", "X-A": ["1", "2"]}}, True,
     rc.Mirror("m.example", False), ["headers: Authorization, X-A"]),
])
def test_plan_mirror(url: str, settings: dict[str, t.Any], knows: bool, mirror: rc.Mirror | None,
                     whats: list[str]) -> None:
    planned, gaps = rc.plan_mirror("quay.io", spec(url, **settings), knows)
    assert planned == mirror
    assert [gap.what for gap in gaps] == whats
    assert all(gap.registry == "quay.io" and gap.why and "s3cret" not in repr(gap) for gap in gaps)
    if mirror is None:
        assert "left out" in gaps[-1].why


def test_plan_registries_keeps_order_and_first_location() -> None:
    specs = ms.parse_registries([
        {"registry": "quay.io", "mirrors": [{"url": "https://b.example"}, {"url": "http://a.example"},
                                            {"url": "https://a.example"}, {"url": "https://c.example/x"}]},
        {"registry": "index.docker.io", "mirrors": []}])
    plan = rc.plan_registries(specs, True)
    assert plan.tables == {"quay.io": [rc.Mirror("b.example", False), rc.Mirror("a.example", True)],
                           "docker.io": []}
    assert [(registry, location) for registry, location, dummy in plan.written] == [
        ("quay.io", "b.example"), ("quay.io", "a.example")]
    assert [gap.mirror for gap in plan.unsupported] == ["https://c.example/x"]


@pytest.mark.parametrize("text, release, knows", [
    ("podman version 3.0.1\n", (3, 0), False), ("podman version 4.0.3", (4, 0), False),
    ("podman version 4.1.0", (4, 1), True), ("podman version 5.8.6\n", (5, 8), True), ("", None, True),
    ("Error: something", None, True),
])
def test_podman_release(text: str, release: tuple[int, int] | None, knows: bool) -> None:
    assert rc.podman_release(text) == release
    assert rc.knows_pull_from_mirror(release) is knows


A, B, C = rc.Mirror("a.example", False), rc.Mirror("b.example", True), rc.Mirror("c.example", False)


@pytest.mark.parametrize("current, wanted, exclusive, others_go, planned", [
    ({}, {"quay.io": [A]}, False, False, {"quay.io": [A]}),
    ({"quay.io": [B, A]}, {"quay.io": [C, rc.Mirror("b.example", False)]}, False, False,
     {"quay.io": [rc.Mirror("b.example", False), A, C]}),
    ({"quay.io": [B, A]}, {"quay.io": [C]}, True, False, {"quay.io": [C]}),
    ({"quay.io": [A], "docker.io": [B]}, {"quay.io": [C]}, True, False, {"quay.io": [C], "docker.io": [B]}),
    ({"quay.io": [A], "docker.io": [B]}, {"quay.io": [C]}, True, True, {"quay.io": [C]}),
])
def test_merge_registries(current, wanted, exclusive, others_go, planned) -> None:
    assert rc.merge_registries(current, wanted, exclusive, others_go) == planned


@pytest.mark.parametrize("unwanted, exclusive, planned", [
    ({"quay.io": ["a.example"]}, False, {"quay.io": [B], "docker.io": [C]}),
    ({"quay.io": ["a.example", "b.example"]}, False, {"docker.io": [C]}),
    ({"quay.io": ["z.example"]}, False, {"quay.io": [A, B], "docker.io": [C]}),
    ({"quay.io": []}, False, {"quay.io": [A, B], "docker.io": [C]}),
    ({"quay.io": None}, False, {"docker.io": [C]}),
    ({"quay.io": ["z.example"]}, True, {"docker.io": [C]}),
    ({"ghcr.io": None}, False, {"quay.io": [A, B], "docker.io": [C]}),
])
def test_remove_registries(unwanted, exclusive, planned) -> None:
    assert rc.remove_registries({"quay.io": [A, B], "docker.io": [C]}, unwanted, exclusive) == planned


def test_absent_locations() -> None:
    specs = ms.parse_registries([
        {"registry": "quay.io", "mirrors": ["https://a.example", "https://b.example/path"]},
        {"registry": "ghcr.io", "mirrors": []}])
    assert rc.absent_locations(specs) == {"quay.io": ["a.example"], "ghcr.io": None}


def test_pull_from_mirror_renders_and_reads_back() -> None:
    tables = {"quay.io": [rc.Mirror("m.example/ns", True, "digest-only"), A]}
    text = rc.render_dropin(tables)
    assert tomllib.loads(text)["registry"][0]["mirror"] == [
        {"location": "m.example/ns", "insecure": True, "pull-from-mirror": "digest-only"}, {"location": "a.example"}]
    rc.check_dropin(text, rc.expected_dropin_data(tables))
    assert rc.own_tables(text, "/d.conf") == tables


@pytest.mark.parametrize("value, read", [("digest-only", "digest-only"), ("tag-only", "tag-only"), ("all", ""),
                                         (3, "")])
def test_own_tables_read_pull_from_mirror(value: t.Any, read: str) -> None:
    text = '[[registry]]\nprefix = "quay.io"\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = %s\n' % (
        '"%s"' % value if isinstance(value, str) else value)
    assert rc.own_tables(text, "/d.conf") == {"quay.io": [rc.Mirror("m", False, read)]}


# --------------------------------------------------------------------------- certificates

CERTS = "/etc/containers/certs.d"


def written(*entries: tuple[str, str, dict[str, t.Any]]) -> list[tuple[str, str, ms.MirrorSpec]]:
    return [(registry, location, spec("https://" + location, **settings)) for registry, location, settings in entries]


def test_cert_files() -> None:
    files = rc.cert_files(written(("quay.io", "m.example:5443", {"ca": CERT, "client_cert": CERT, "client_key": KEY}),
                                  ("ghcr.io", "n.example", {"ca": CERT})), CERTS + "/")
    assert sorted(files) == [CERTS + "/m.example:5443/ca.crt", CERTS + "/m.example:5443/client.cert",
                             CERTS + "/m.example:5443/client.key", CERTS + "/n.example/ca.crt"]
    key = files[CERTS + "/m.example:5443/client.key"]
    assert key.mode == 0o600 and key.secret and key.text == rc.MARKER + "\n" + KEY
    assert files[CERTS + "/n.example/ca.crt"].mode == 0o644 and not files[CERTS + "/n.example/ca.crt"].secret


def test_cert_files_same_host_alike_is_fine() -> None:
    files = rc.cert_files(written(("quay.io", "m.example", {"ca": CERT}), ("ghcr.io", "m.example/ns", {"ca": CERT})),
                          CERTS)
    assert list(files) == [CERTS + "/m.example/ca.crt"]


def test_cert_files_refuses_two_contents_for_one_host() -> None:
    other = CERT.replace("TUlJQmZha2VjZXJ0", "T1RIRVI=")
    with pytest.raises(ConfigError) as info:
        rc.cert_files(written(("quay.io", "m.example", {"ca": CERT}), ("ghcr.io", "m.example/ns", {"ca": other})),
                      CERTS)
    assert "registry quay.io" in info.value.message and "registry ghcr.io" in info.value.message
    assert CERTS + "/m.example/ca.crt" in info.value.message and "TUlJ" not in info.value.message


def test_cert_hosts_and_paths() -> None:
    tables = {"quay.io": [rc.Mirror("m.example/ns", False), A], "ghcr.io": [B]}
    assert rc.cert_hosts(tables) == {"m.example", "a.example", "b.example"}
    assert rc.cert_hosts(tables, {("quay.io", "a.example")}) == {"m.example", "b.example"}
    assert rc.cert_paths(["b.example"], CERTS) == [CERTS + "/b.example/" + name for name in
                                                   ("ca.crt", "client.cert", "client.key")]


OURS = rc.MARKER + "\n" + CERT
WANT = {CERTS + "/m/ca.crt": rc.CertFile(CERTS + "/m/ca.crt", OURS, 0o644, False)}


@pytest.mark.parametrize("wanted, current, kept, changes", [
    (WANT, {CERTS + "/m/ca.crt": None}, (), [(CERTS + "/m/ca.crt", None, OURS)]),
    (WANT, {CERTS + "/m/ca.crt": OURS}, (), []),
    (WANT, {CERTS + "/m/ca.crt": CERT}, (), []),  # the operator's identical file stays theirs
    (WANT, {CERTS + "/m/ca.crt": rc.MARKER + "\nold"}, (), [(CERTS + "/m/ca.crt", rc.MARKER + "\nold", OURS)]),
    ({}, {CERTS + "/m/ca.crt": OURS}, (), [(CERTS + "/m/ca.crt", OURS, None)]),
    ({}, {CERTS + "/m/ca.crt": OURS}, {"m"}, []),  # another mirror on that host still uses it
    ({}, {CERTS + "/m/ca.crt": CERT}, (), []),  # not ours: never removed
    ({}, {CERTS + "/m/ca.crt": None}, (), []),
])
def test_plan_certs(wanted, current, kept, changes) -> None:
    assert [(change.path, change.before, change.after) for change in rc.plan_certs(wanted, current, kept)] == changes


def test_plan_certs_removes_key_with_its_mode() -> None:
    path = CERTS + "/m/client.key"
    change, = rc.plan_certs({}, {path: rc.MARKER + "\n" + KEY}, ())
    assert change.after is None and change.secret and change.mode == 0o600


@pytest.mark.parametrize("secret, noun", [(False, "certificate"), (True, "client key")])
def test_plan_certs_refuses_a_different_foreign_file(secret: bool, noun: str) -> None:
    path = CERTS + "/m/ca.crt"
    with pytest.raises(ConfigError) as info:
        rc.plan_certs({path: rc.CertFile(path, OURS, 0o644, secret)}, {path: "theirs\n"}, ())
    assert info.value.message.startswith(path + " exists with other content") and noun in info.value.message
