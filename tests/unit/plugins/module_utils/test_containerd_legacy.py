# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tables of cases for containerd 1.4's legacy CRI registry tables (_containerd_legacy)."""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd_legacy as legacy
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._mirror_spec import (
    MirrorSpec,
    RegistrySpec,
    parse_registries,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "containerd_config")
CERT = "-----BEGIN CERTIFICATE-----\nTUlJQmZha2VjZXJ0\n-----END CERTIFICATE-----\n"
OTHER_CERT = "-----BEGIN CERTIFICATE-----\nT1RIRVJDRVJU\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU\n-----END PRIVATE KEY-----\n"
R14 = (1, 4, 13)
CERTS = "/etc/containerd/certs.d"
CRI = '[plugins."io.containerd.grpc.v1.cri".registry'


def fixture(name: str) -> str:
    with open(os.path.join(FIXTURES, name), encoding="utf-8", newline="") as handle:
        return handle.read()


def specs(*entries: tuple[str, list[t.Any]]) -> list[RegistrySpec]:
    return parse_registries([{"registry": name, "mirrors": mirrors} for name, mirrors in entries], allow_default=True)


def mirror(url: str, **settings: t.Any) -> MirrorSpec:
    return specs(("docker.io", [dict(url=url, **settings)]))[0].mirrors[0]


DEBIAN = fixture("default_1.4_debian11.toml")
KUBE = specs(("docker.io", ["http://127.0.0.1:5000"]), ("registry.k8s.io", ["http://127.0.0.1:5001"]),
             ("quay.io", [{"url": "https://127.0.0.1:5443", "ca": CERT}]))


@pytest.mark.parametrize("release, expected", [
    (None, False), ((1, 4, 13), True), ((1, 3, 0), True), ((1, 5, 0), False), ((1, 6, 20), False), ((2, 1, 9), False),
])
def test_uses_legacy_tables(release: t.Any, expected: bool) -> None:
    assert legacy.uses_legacy_tables(release) is expected


@pytest.mark.parametrize("registry, expected", [("docker.io", "docker.io"), ("_default", "*"), ("r.example:5000",
                                                                                                "r.example:5000")])
def test_registry_key(registry: str, expected: str) -> None:
    assert legacy.registry_key(registry) == expected


@pytest.mark.parametrize("url, override_path, expected", [
    ("http://127.0.0.1:5000", False, "http://127.0.0.1:5000"),           # 1.4 adds /v2 itself
    ("https://m.example/quay", False, "https://m.example/quay/v2"),      # hosts.toml appends /v2 to a path
    ("https://m.example/quay/v2", False, "https://m.example/quay/v2"),   # ... unless it ends with /v2
    ("https://m.example/quay/v2/", False, "https://m.example/quay/v2"),
    ("https://m.example/api/root", True, "https://m.example/api/root"),  # override_path: the path is the root
    ("https://m.example", True, None),                                   # a root at / cannot be written
])
def test_endpoint_for(url: str, override_path: bool, expected: str | None) -> None:
    assert legacy.endpoint_for(mirror(url, override_path=override_path)) == expected


@pytest.mark.parametrize("settings, written, what", [
    ({}, True, []),
    ({"capabilities": ["pull", "resolve", "push"]}, True, []),
    ({"capabilities": ["pull"]}, False, ["capabilities"]),
    ({"capabilities": ["resolve"]}, False, ["capabilities"]),
    ({"override_path": True}, False, ["override_path"]),
    ({"headers": {"Authorization": "Bearer s3cr3t"}}, True, ["headers"]),
    ({"skip_verify": True}, True, []),
    ({"url": "http://m.example", "skip_verify": True}, True, ["tls"]),
    ({"url": "http://m.example", "ca": CERT}, True, ["tls"]),
    ({"url": "http://m.example"}, True, []),
])
def test_mirror_limits(settings: dict[str, t.Any], written: bool, what: list[str]) -> None:
    settings = dict({"url": "https://m.example"}, **settings)
    ok, found = legacy.mirror_limits("docker.io", mirror(**settings))
    assert ok is written
    assert [item["what"] for item in found] == what
    for item in found:
        assert item["registry"] == "docker.io" and item["mirror"] == settings["url"] and "s3cr3t" not in str(item)


@pytest.mark.parametrize("settings, values, files", [
    ({"url": "http://m.example", "ca": CERT}, {}, []),
    ({"url": "https://m.example"}, {}, []),
    ({"url": "https://m.example", "ca": CERT}, {"ca_file": "/d/m.example.ca.crt"},
     [("/d/m.example.ca.crt", CERT, False)]),
    ({"url": "https://m.example", "skip_verify": True}, {"insecure_skip_verify": True}, []),
    ({"url": "https://m.example:5444", "ca": CERT, "client_cert": CERT, "client_key": KEY, "skip_verify": True},
     {"ca_file": "/d/m.example_5444.ca.crt", "cert_file": "/d/m.example_5444.client.cert",
      "key_file": "/d/m.example_5444.client.key", "insecure_skip_verify": True},
     [("/d/m.example_5444.ca.crt", CERT, False), ("/d/m.example_5444.client.cert", CERT, False),
      ("/d/m.example_5444.client.key", KEY, True)]),
])
def test_tls_values(settings: dict[str, t.Any], values: dict[str, t.Any], files: list[tuple[str, str, bool]]) -> None:
    got_values, got_files = legacy.tls_values(mirror(**settings), "/d")
    assert got_values == values
    assert [tuple(item) for item in got_files] == files


def test_wanted_tables_order_wildcard_and_shared_host() -> None:
    tables, files, unsupported = legacy.wanted_tables(specs(
        ("quay.io", [{"url": "https://m.example", "ca": CERT}, "http://127.0.0.1:5000"]),
        ("ghcr.io", [{"url": "https://m.example", "ca": CERT}]),
        ("_default", ["http://127.0.0.1:5001"]),
        ("gcr.io", [{"url": "https://p.example", "capabilities": ["pull"]}])), "/c")
    assert tables == [
        legacy.Table(("mirrors", "quay.io"), {"endpoint": ["https://m.example", "http://127.0.0.1:5000"]}),
        legacy.Table(("mirrors", "ghcr.io"), {"endpoint": ["https://m.example"]}),
        legacy.Table(("mirrors", "*"), {"endpoint": ["http://127.0.0.1:5001"]}),
        legacy.Table(("configs", "m.example", "tls"), {"ca_file": "/c/quay.io/m.example.ca.crt"}),
    ]
    assert [item.path for item in files] == ["/c/quay.io/m.example.ca.crt"]
    assert [(item["registry"], item["what"]) for item in unsupported] == [("gcr.io", "capabilities")]


@pytest.mark.parametrize("second", [{"ca": OTHER_CERT}, {}, {"skip_verify": True}])
def test_wanted_tables_refuses_one_host_two_tls_settings(second: dict[str, t.Any]) -> None:
    with pytest.raises(ConfigError, match="mirror host m.example is given different TLS settings"):
        legacy.wanted_tables(specs(("quay.io", [{"url": "https://m.example", "ca": CERT}]),
                                   ("ghcr.io", [dict(url="https://m.example", **second)])), "/c")


def test_owned_tables_needs_the_marker_and_our_shape() -> None:
    text = ('version = 2\n%s.mirrors."a.io"] %s\n%s.mirrors."b.io"]\n%s.configs."h".tls] %s\n'
            '%s.configs."h".auth] %s\n%s.mirrors."c.io"] # fleetops.docker_mirror was here\n'
            % (CRI, legacy.MARKER, CRI, CRI, legacy.MARKER, CRI, legacy.MARKER, CRI))
    lines = text.splitlines(keepends=True)
    owned = legacy.owned_tables(lines, ctd.find_headers(lines), ctd.registry_table(2))
    assert [header.path[3:] for header in owned] == [("mirrors", "a.io"), ("configs", "h", "tls")]


@pytest.mark.parametrize("path, values, indent, newline, expected", [
    (("plugins", "io.containerd.grpc.v1.cri", "registry", "mirrors", "*"), {"endpoint": ["http://a", "https://b"]},
     "", "\n", ['%s.mirrors."*"] %s\n' % (CRI, legacy.MARKER), '  endpoint = ["http://a", "https://b"]\n']),
    (("plugins", "cri", "registry", "configs", "m:1", "tls"), {"ca_file": "/c", "insecure_skip_verify": True},
     "  ", "\r\n", ['  [plugins.cri.registry.configs."m:1".tls] %s\r\n' % legacy.MARKER, '    ca_file = "/c"\r\n',
                    "    insecure_skip_verify = true\r\n"]),
])
def test_render_table(path: tuple[str, ...], values: dict[str, t.Any], indent: str, newline: str,
                      expected: list[str]) -> None:
    assert legacy.render_table(path, values, indent, newline) == expected


ONE = [legacy.Table(("mirrors", "docker.io"), {"endpoint": ["http://127.0.0.1:5000"]})]
OURS = '%s.mirrors."docker.io"] %s\n' % (CRI, legacy.MARKER)


@pytest.mark.parametrize("text, expected", [
    # after the CRI plugin's last table, in the file's indentation
    ('version = 2\n  [plugins."io.containerd.grpc.v1.cri"]\n    x = 1\n\n  [plugins.other]\n    y = 2\n',
     'version = 2\n  [plugins."io.containerd.grpc.v1.cri"]\n    x = 1\n      ' + OURS +
     '        endpoint = ["http://127.0.0.1:5000"]\n\n  [plugins.other]\n    y = 2\n'),
    # no CRI table: at the end, after a blank line (even after one)
    ("version = 2\n", "version = 2\n\n" + OURS + '  endpoint = ["http://127.0.0.1:5000"]\n'),
    ("version = 2\n\n", "version = 2\n\n\n" + OURS + '  endpoint = ["http://127.0.0.1:5000"]\n'),
    ("version = 2", "version = 2\n\n" + OURS + '  endpoint = ["http://127.0.0.1:5000"]\n'),
    ("version = 2\r\n", "version = 2\r\n\r\n" + OURS.replace("\n", "\r\n") +
     '  endpoint = ["http://127.0.0.1:5000"]\r\n'),
])
def test_edit_tables_inserts(text: str, expected: str) -> None:
    assert legacy.edit_tables(text, ctd.registry_table(2), ONE) == expected


@pytest.mark.parametrize("name", ["default_1.4_debian11.toml", "v2_registry_table_no_config_path.toml",
                                  "kubespray_v2.toml", "comments_only.toml", "empty.toml", "v1_no_version.toml"])
def test_edit_tables_round_trip(name: str) -> None:
    """Adding our tables and taking them away again gives the file's bytes back."""
    text = fixture(name)
    version = ctd.config_version(ctd.parse_toml(text)) if ctd.parse_toml(text) else 2
    base = ctd.registry_table(version)
    added = legacy.edit_tables(text, base, ONE)
    assert added != text
    assert legacy.edit_tables(added, base, []) == (text if text.endswith("\n") or not text else text + "\n")


# --------------------------------------------------------------------------- plan_legacy


def test_plan_debian11_default() -> None:
    plan = legacy.plan_legacy(DEBIAN, KUBE, R14, CERTS)
    assert plan.text == DEBIAN.replace('  [plugins."io.containerd.internal.v1.opt"]', (
        '      %s.mirrors."docker.io"] %s\n        endpoint = ["http://127.0.0.1:5000"]\n'
        '      %s.mirrors."registry.k8s.io"] %s\n        endpoint = ["http://127.0.0.1:5001"]\n'
        '      %s.mirrors."quay.io"] %s\n        endpoint = ["https://127.0.0.1:5443"]\n'
        '      %s.configs."127.0.0.1:5443".tls] %s\n'
        '        ca_file = "/etc/containerd/certs.d/quay.io/127.0.0.1_5443.ca.crt"\n'
        '  [plugins."io.containerd.internal.v1.opt"]') % ((CRI, legacy.MARKER) * 4))
    assert plan.files == [ctd.CertFile("/etc/containerd/certs.d/quay.io/127.0.0.1_5443.ca.crt", CERT, False)]
    assert (plan.stale_files, plan.unsupported, plan.notes) == ([], [], [])


@pytest.mark.parametrize("name", ["default_1.4_debian11.toml", "v1_no_version.toml", "comments_only.toml",
                                  "empty.toml", "kubespray_v2.toml", "utf8_bom.toml", "latin1_comment.toml"])
def test_plan_second_run_and_absent(name: str) -> None:
    """A second run changes nothing; state absent gives back the original bytes."""
    text = fixture(name) if name != "latin1_comment.toml" else \
        open(os.path.join(FIXTURES, name), "rb").read().decode("utf-8", "surrogateescape")
    plan = legacy.plan_legacy(text, KUBE, R14, CERTS)
    assert plan.text is not None and plan.text != text
    assert legacy.plan_legacy(plan.text, KUBE, R14, CERTS).text is None
    removed = legacy.plan_legacy(plan.text, [], R14, CERTS, state="absent")
    data = ctd.parse_toml(text)
    assert removed.text == (text if data else text + ("" if not text or text.endswith("\n") else "\n") +
                            "version = 2\n")
    assert removed.stale_files == ["/etc/containerd/certs.d/quay.io/127.0.0.1_5443.ca.crt"]


def test_plan_no_file() -> None:
    plan = legacy.plan_legacy(None, KUBE[:1], R14, CERTS)
    assert plan.text == "version = 2\n\n%s  endpoint = [\"http://127.0.0.1:5000\"]\n" % OURS
    assert legacy.plan_legacy(None, [], R14, CERTS, state="absent").text is None


def _registry(text: str) -> dict[str, t.Any]:
    return ctd.parse_toml(text).get("plugins", {}).get("io.containerd.grpc.v1.cri", {}).get("registry", {})


def _registries(text: str) -> list[str]:
    return list(_registry(text).get("mirrors", {}))


@pytest.mark.parametrize("state, exclusive, given, expected", [
    ("present", False, ["quay.io"], ["docker.io", "registry.k8s.io", "quay.io"]),
    ("present", True, ["quay.io"], ["quay.io"]),
    ("absent", False, ["registry.k8s.io"], ["docker.io", "quay.io"]),
    ("absent", False, ["quay.io"], ["docker.io", "registry.k8s.io"]),
    ("absent", False, [], []),
])
def test_plan_keeps_or_drops_other_registries(state: str, exclusive: bool, given: list[str],
                                              expected: list[str]) -> None:
    first = legacy.plan_legacy(DEBIAN, KUBE, R14, CERTS).text
    chosen = [spec for spec in KUBE if spec.registry in given]
    plan = legacy.plan_legacy(first, chosen, R14, CERTS, state=state, exclusive=exclusive)
    assert _registries(plan.text or first) == expected
    configs = _registry(plan.text or first).get("configs")
    assert bool(configs) is ("quay.io" in expected)


def test_plan_new_mirror_list_replaces_the_registrys_and_its_stale_certificates() -> None:
    first = legacy.plan_legacy(DEBIAN, KUBE, R14, CERTS).text
    plan = legacy.plan_legacy(first, specs(("quay.io", ["https://other.example"])), R14, CERTS)
    data = ctd.parse_toml(plan.text)["plugins"]["io.containerd.grpc.v1.cri"]["registry"]
    assert data["mirrors"]["quay.io"] == {"endpoint": ["https://other.example"]}
    assert "configs" not in data
    assert plan.stale_files == ["/etc/containerd/certs.d/quay.io/127.0.0.1_5443.ca.crt"]


def test_plan_beside_dotted_keys_of_another_registry() -> None:
    text = 'version = 2\n%s.mirrors]\n  "ghcr.io".endpoint = ["https://x"]\n' % CRI
    plan = legacy.plan_legacy(text, KUBE[:1], R14, CERTS)
    assert plan.text.startswith(text)
    assert _registries(plan.text) == ["ghcr.io", "docker.io"]
    assert legacy.plan_legacy(plan.text, [], R14, CERTS, state="absent").text == text


def test_plan_operator_moved_our_table_is_left_alone() -> None:
    text = "version = 2\n%s  endpoint = [\"http://127.0.0.1:5000\"]\n\n[plugins.x]\n  a = 1\n" % OURS
    assert legacy.plan_legacy(text, KUBE[:1], R14, CERTS).text is None


def test_plan_unsupported_and_note() -> None:
    text = fixture("legacy_mirrors_with_config_path.toml")
    plan = legacy.plan_legacy(text, specs(("ghcr.io", [{"url": "https://m.example", "headers": {"X-A": "b"}},
                                                       {"url": "https://p.example", "capabilities": ["pull"]}])),
                              R14, CERTS)
    assert _registries(plan.text) == ["docker.io", "ghcr.io"]
    assert [item["what"] for item in plan.unsupported] == ["headers", "capabilities"]
    assert plan.notes and "config_path" in plan.notes[0] and "1.5 and later refuse" in plan.notes[0]


@pytest.mark.parametrize("text, release, given, message", [
    (DEBIAN, (1, 5, 0), KUBE, "internal error: containerd 1.5.0 reads hosts.toml"),
    (DEBIAN, None, KUBE, "internal error"),
    ("version = 3\n", R14, KUBE, "version = 3 is a containerd 2.x file: the installed containerd 1.4"),
    ("version = 4\n", R14, KUBE, "unsupported config version 4"),
    (fixture("v2_disabled_plugins_short_cri.toml"), R14, KUBE, "containerd refuses disabled_plugins \"cri\""),
    (fixture("dockerce_cri_disabled.toml"), R14, KUBE, "disables the CRI plugin"),
    ("version = 2\n[plugins\n", R14, KUBE, "config.toml"),
    (fixture("legacy_mirrors_with_config_path.toml"), R14, KUBE,
     r"already sets mirrors for docker.io \(plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"\) "
     "in a table this module did not write"),
    ('version = 2\n%s.configs."127.0.0.1:5443".tls]\n' % CRI, R14, KUBE,
     "already sets TLS settings for mirror host 127.0.0.1:5443"),
    ('version = 2\n%s]\n  mirrors = {"ghcr.io" = {endpoint = ["https://x"]}}\n' % CRI, R14, KUBE,
     "cannot edit the registry tables of config.toml surgically"),
    ('version = 2\n%s.mirrors]\n  "docker.io".endpoint = ["https://x"]\n' % CRI, R14, KUBE,
     "already sets mirrors for docker.io"),
    ('version = 2\n%s.mirrors."docker.io"]\n' % CRI, R14, KUBE, "already sets mirrors for docker.io"),
])
def test_plan_refusals(text: str, release: t.Any, given: list[RegistrySpec], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        legacy.plan_legacy(text, given, release, CERTS)


def test_plan_of_a_subset_keeps_the_file_as_it_is() -> None:
    """Without exclusive, naming fewer registries than the file holds changes nothing (no reordering, no restart)."""
    first = legacy.plan_legacy(DEBIAN, KUBE, R14, CERTS).text
    for chosen in ([KUBE[0]], [KUBE[2]], [KUBE[1], KUBE[0]]):
        assert legacy.plan_legacy(first, chosen, R14, CERTS).text is None


def test_plan_adds_a_new_registry_after_ours() -> None:
    first = legacy.plan_legacy(DEBIAN, KUBE[1:], R14, CERTS).text
    plan = legacy.plan_legacy(first, KUBE[:1], R14, CERTS)
    assert _registries(plan.text) == ["registry.k8s.io", "quay.io", "docker.io"]


# --------------------------------------------------------------------------- the upgrade and the live view


@pytest.mark.parametrize("name", ["default_1.4_debian11.toml", "v1_no_version.toml", "kubespray_v2.toml",
                                  "utf8_bom.toml", "empty.toml"])
def test_remove_ours_gives_the_file_back(name: str) -> None:
    text = fixture(name)
    written = legacy.plan_legacy(text, KUBE, R14, CERTS).text
    removed = legacy.remove_ours(written, CERTS)
    assert removed.text == legacy.plan_legacy(written, [], R14, CERTS, state="absent").text
    assert removed.stale_files == removed.owned_files == ["/etc/containerd/certs.d/quay.io/127.0.0.1_5443.ca.crt"]


@pytest.mark.parametrize("text", [None, "", DEBIAN, "version = 3\n# %s\n" % legacy.MARKER,
                                  DEBIAN + "# %s\n" % legacy.MARKER])
def test_remove_ours_without_tables_of_ours(text: t.Any) -> None:
    assert legacy.remove_ours(text, CERTS) is None


def test_remove_ours_refuses_what_it_cannot_edit() -> None:
    text = "version = 2\n%s  endpoint = [\"http://x\"]\n%s.mirrors.\"docker.io\".more]\n  a = 1\n" % (OURS, CRI)
    with pytest.raises(ConfigError, match="cannot edit the registry tables"):
        legacy.remove_ours(text, CERTS)


DUMP = {"plugins": {"io.containerd.grpc.v1.cri": {"registry": {"mirrors": {
    "docker.io": {"endpoint": ["http://127.0.0.1:5000", "https://m.example/path/v2", "https://registry-1.docker.io"]},
    "quay.io": {"endpoint": ["https://quay.io"]},
    "*": {"endpoint": ["https://all.example/"]},
}}}}}


@pytest.mark.parametrize("data, registry, expected", [
    (DUMP, "docker.io", ["http://127.0.0.1:5000", "https://m.example/path"]),
    (DUMP, "quay.io", []),  # the upstream only
    (DUMP, "ghcr.io", ["https://all.example"]),  # "*"
    (DUMP, "_default", ["https://all.example"]),
    # containerd 1.4's own default: Docker Hub's upstream only
    ({"plugins": {"io.containerd.grpc.v1.cri": {"registry": {"mirrors": {
        "docker.io": {"endpoint": ["https://registry-1.docker.io"]}}}}}}, "docker.io", []),
    ({}, "docker.io", []),
])
def test_dump_mirrors(data: dict[str, t.Any], registry: str, expected: list[str]) -> None:
    assert legacy.dump_mirrors(data, registry) == expected


@pytest.mark.parametrize("tls, expected", [
    ({"ca_file": "/etc/containerd/certs.d/r/ca.crt"}, ((("/etc/containerd/certs.d/r/ca.crt",), ()), False)),
    ({"cert_file": "/c.cert", "key_file": "/c.key", "insecure_skip_verify": True}, (((), (("/c.cert", "/c.key"),)), True)),
    ({"cert_file": "/c.cert"}, (((), ()), False)),  # no key: no pair (the pull would fail; the probe says so)
    (None, (((), ()), False)),
])
def test_dump_host(tls, expected) -> None:
    configs = {} if tls is None else {"127.0.0.1:5001": {"tls": tls}}
    data = {"plugins": {"io.containerd.grpc.v1.cri": {"registry": {"configs": configs}}}}
    host = legacy.dump_host(data, "https://127.0.0.1:5001")
    assert ((host.ca, host.client), host.skip_verify) == expected
