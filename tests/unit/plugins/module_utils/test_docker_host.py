# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_info: how the CLI is called, and a hung dockerd counted as not answering."""

from __future__ import annotations

import json

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _docker_host as host

INFO = json.dumps({"ServerVersion": "26.1.5", "RegistryConfig": {"Mirrors": ["https://mirror.gcr.io/"]}})


class FakeRun:
    def __init__(self, rc: int, out: str, err: str = "") -> None:
        self.answer = (rc, out, err)
        self.calls: list[list[str]] = []

    def __call__(self, argv: list[str]):
        self.calls.append(argv)
        return self.answer


@pytest.mark.parametrize(
    ("timeout_bin", "expected_argv"),
    [
        (None, ["/usr/bin/docker", "info", "--format", "{{json .}}"]),
        ("/usr/bin/timeout", ["/usr/bin/timeout", str(host.DOCKER_INFO_TIMEOUT),
                              "/usr/bin/docker", "info", "--format", "{{json .}}"]),
    ],
)
def test_docker_info_argv(timeout_bin, expected_argv) -> None:
    run = FakeRun(0, INFO)
    info = host.docker_info(run, "/usr/bin/docker", timeout_bin)
    assert run.calls == [expected_argv]
    assert info.answered and info.version == "26.1.5" and info.mirrors == ["https://mirror.gcr.io/"]


def test_hung_dockerd_counts_as_not_answering() -> None:
    info = host.docker_info(FakeRun(host.TIMEOUT_EXIT_STATUS, ""), "/usr/bin/docker", "/usr/bin/timeout")
    assert not info.answered and info.mirrors is None
    assert info.error == "docker info did not answer within %d s (is dockerd hung?)" % host.DOCKER_INFO_TIMEOUT


def test_exit_124_without_timeout_is_docker_info_s_own() -> None:
    info = host.docker_info(FakeRun(124, "", "some error"), "/usr/bin/docker", None)
    assert not info.answered and info.error == "some error"


def test_no_docker_cli_runs_nothing() -> None:
    run = FakeRun(0, INFO)
    info = host.docker_info(run, None, "/usr/bin/timeout")
    assert run.calls == [] and not info.answered
