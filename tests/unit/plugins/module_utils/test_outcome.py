# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One result shape for every runtime, and the one apply rule they share."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._outcome import KEYS, apply_action, outcome


@pytest.mark.parametrize(("needed", "mode", "natural", "allowed", "expected"), [
    (False, "auto", "reload", ("reload", "restart"), ""),
    (True, "none", "reload", ("reload", "restart"), ""),             # pending: the verdict says so
    (True, "auto", "reload", ("reload", "restart"), "reload"),
    (True, "auto", "restart", ("reload", "restart"), "restart"),
    (True, "restart", "reload", ("reload", "restart"), "restart"),    # docker_mirror_apply restart
    (True, "reload", "restart", ("reload", "restart"), "reload"),
    (True, "reload", "restart", ("restart",), "restart"),            # containerd only restarts
    (True, "restart", "reload", ("reload",), "reload"),              # CRI-O only reloads
])
def test_apply_action(needed, mode, natural, allowed, expected) -> None:
    assert apply_action(needed, mode, natural, allowed) == expected


def test_every_runtime_has_the_same_keys() -> None:
    shapes = {tuple(sorted(outcome(runtime, "configure"))) for runtime in ("docker", "containerd", "podman")}
    assert shapes == {tuple(sorted(KEYS))}
    done = outcome("containerd", "apply", applied="restart", files_changed=("/a",))
    assert (done["applied"], done["files_changed"], done["rolled_back"], done["stage"]) == (
        "restart", ["/a"], False, "apply")


def test_an_unknown_key_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown outcome keys: aplied"):
        outcome("docker", "apply", aplied="reload")
