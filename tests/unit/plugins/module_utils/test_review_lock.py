# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The directory lock when the directory does not exist yet (hostile review: two first runs raced unlocked)."""

from __future__ import annotations

import os


from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError


def lock_in_child(directory: str) -> str:
    """Take directory_lock(directory) in a forked process (a second run); what it says."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        _files._HELD.clear()  # a separate run holds nothing (a fork inherits this process's set)
        os.close(read_end)
        try:
            with _files.directory_lock(directory):
                message = "locked"
        except ConfigError as exc:
            message = exc.message
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as handle:
        return handle.read().decode()


def test_a_missing_directory_is_locked_through_its_nearest_existing_parent(tmp_path, monkeypatch) -> None:
    """Two first runs (registries.conf.d not there yet) must not both write: the second waits for the first."""
    monkeypatch.setattr(_files, "LOCK_TIMEOUT", 0.1)
    missing = os.path.join(str(tmp_path), "registries.conf.d")
    with _files.directory_lock(missing):
        assert "held the lock on %s" % tmp_path in lock_in_child(os.path.join(missing, "deeper"))
        with _files.directory_lock(str(tmp_path)):  # nested in this process: no wait for itself
            pass
    assert lock_in_child(missing) == "locked"


def test_make_directories_tolerates_a_directory_made_meanwhile(tmp_path, monkeypatch) -> None:
    target = os.path.join(str(tmp_path), "a", "b")
    real_mkdir = os.mkdir

    def racing_mkdir(name, mode=0o777):
        if not os.path.isdir(name):
            real_mkdir(name, mode)  # another run made it first
        real_mkdir(name, mode)

    monkeypatch.setattr(os, "mkdir", racing_mkdir)
    _files.make_directories(target)
    assert os.path.isdir(target)
