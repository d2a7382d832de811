# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Careful reads and writes of one configuration file on the managed host (private to this collection).

Files are opened without following a link or blocking (a FIFO would hang the run), edits run under a bounded
lock on the file's directory, and new bytes reach the file through a temporary file and a rename."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import struct
import tempfile
import time
import typing as t

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, NeedsRoot, is_root, mask_url

MOUNTINFO = "/proc/self/mountinfo"
# How long a run waits for another one editing the same directory (each holds the lock well under a second).
LOCK_TIMEOUT = 60.0
LOCK_POLL = 0.05
# linux/fs.h: FS_IOC_GETFLAGS and the chattr flags that make a rename over the file fail with EPERM.
FS_IOC_GETFLAGS = 0x80086601
FS_IMMUTABLE_FL = 0x10
FS_APPEND_FL = 0x20
NEW_FILE_MODE = 0o644
NEW_DIR_MODE = 0o755
FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
              (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class FileError(ConfigError):
    """A failure tied to one file; the message names that file."""

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(cause)
        self.path = path


class NotRegularFile(ConfigError):
    """A directory, FIFO, device or socket where a regular file was expected."""

    def __init__(self, kind: str) -> None:
        super().__init__("is %s, not a regular file" % kind)


# --------------------------------------------------------------------------- looking at a path


def real_path(path: str, option: str) -> str:
    if not os.path.isabs(path):
        raise ConfigError("%s must be an absolute path, got %s" % (option, path))
    return os.path.realpath(path)


def file_kind_refused(mode: int) -> str | None:
    for test, name in FILE_KINDS:
        if test(mode):
            return name
    return None


def raise_os_error(what: str, exc: OSError) -> t.NoReturn:
    if isinstance(exc, PermissionError) and not is_root():
        raise NeedsRoot() from None
    raise ConfigError("%s: %s" % (what, exc.strerror or to_native(exc))) from None


def nearest_existing(directory: str) -> str:
    while not os.path.exists(directory) and os.path.dirname(directory) != directory:
        directory = os.path.dirname(directory)
    return directory


def check_file_type(target: str) -> None:
    """Refuse anything but a regular file without opening it (a FIFO would block forever)."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise ConfigError("cannot create the file: %s is not a directory"
                                % nearest_existing(os.path.dirname(target))) from None
    except OSError as exc:
        raise_os_error("cannot look at the file", exc)
    kind = file_kind_refused(mode)
    if kind:
        raise NotRegularFile(kind)


def check_can_write(target: str) -> None:
    """Non-root: the directory must take a temporary file and a rename (else: needs root)."""
    if is_root():
        return
    directory = nearest_existing(os.path.dirname(target))
    if not os.access(directory, os.W_OK | os.X_OK) or (os.path.exists(target) and not os.access(target, os.W_OK)):
        raise NeedsRoot()


def inode_flags(path: str) -> int:
    """The chattr flags of ``path``; 0 where the file system has none or they cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        # The kernel writes an int into a buffer declared as long: 8 bytes are room enough on every platform.
        return struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, bytes(8))[:4])[0]
    except OSError:
        return 0
    finally:
        os.close(fd)


def mount_points() -> set[str]:
    """Every mount point of this mount namespace (octal escapes of /proc/self/mountinfo decoded)."""
    try:
        with open(MOUNTINFO, encoding="utf-8", errors="surrogateescape") as handle:
            fields = [line.split(" ") for line in handle.read().splitlines()]
    except OSError:
        return set()
    return {re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), line[4])
            for line in fields if len(line) > 4}


def check_replaceable(target: str, unsafe_writes: bool) -> None:
    """Refuse, before anything is written (a backup, a previous copy), a file the final rename cannot replace."""
    if not os.path.exists(target):
        return
    flags = inode_flags(target)
    for flag, what in ((FS_IMMUTABLE_FL, "immutable (chattr +i)"), (FS_APPEND_FL, "append-only (chattr +a)")):
        if flags & flag:
            raise ConfigError("the file is %s: remove the flag first (chattr -%s)" % (what, what[-2]))
    if inode_flags(os.path.dirname(target)) & FS_IMMUTABLE_FL:
        raise ConfigError("the directory %s is immutable (chattr +i): remove the flag first (chattr -i)"
                                % os.path.dirname(target))
    if not unsafe_writes and target in mount_points():
        raise ConfigError("is a mount point (a bind-mounted file): a rename cannot replace it; "
                                "set unsafe_writes: true to write it in place")


# --------------------------------------------------------------------------- reading


def read_bytes(path: str) -> bytes | None:
    """The bytes of the regular file ``path``, None when it is missing; opened without following a link or
    blocking. Raises OSError when it cannot be opened, NotRegularFile for anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        kind = file_kind_refused(os.fstat(handle.fileno()).st_mode)
        if kind:
            raise NotRegularFile(kind)
        return handle.read()


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("not valid UTF-8 (byte %d)" % exc.start) from None


def encode(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigError("the result cannot be written as UTF-8 (%s at character %d)"
                                % (exc.reason, exc.start)) from None


def read_text(path: str) -> str | None:
    """The file's text, None when missing; anything but a regular UTF-8 file is refused without blocking."""
    try:
        raw = read_bytes(os.path.realpath(path))
    except NotRegularFile:
        raise FileError(path, "not a regular file") from None
    except OSError as exc:
        raise FileError(path, "cannot read the file: %s" % (exc.strerror or to_native(exc))) from None
    if raw is None:
        return None
    try:
        return decode(raw)
    except ConfigError as exc:
        raise FileError(path, exc.message) from None


# --------------------------------------------------------------------------- locking


@contextlib.contextmanager
def directory_lock(directory: str) -> t.Iterator[None]:
    """Exclusive flock on the directory itself: no lock file is left behind, and every run editing a file in
    it (the rename included) waits for the others. No lock when the directory does not exist yet."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        yield
        return
    except OSError as exc:
        raise_os_error("cannot open the directory %s" % directory, exc)
    try:
        wait_for_lock(fd, directory)
        yield
    finally:
        os.close(fd)


def wait_for_lock(fd: int, directory: str) -> None:
    """flock, but bounded: a stuck run (or someone's ``flock``) holding the lock must not hang the play."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise ConfigError("another process has held the lock on %s for more than %g s (a stuck run?)"
                                        % (directory, LOCK_TIMEOUT)) from None
            time.sleep(LOCK_POLL)


# --------------------------------------------------------------------------- writing


def ensure_directory(directory: str) -> None:
    try:
        os.makedirs(directory, NEW_DIR_MODE, exist_ok=True)
        os.chmod(directory, NEW_DIR_MODE)
    except OSError as exc:
        raise_os_error("cannot create directory %s" % directory, exc)


def remove_quietly(name: str | None) -> None:
    if name:
        with contextlib.suppress(OSError):
            os.unlink(name)


def write_private(directory: str, data: bytes, prefix: str) -> str:
    """A new file (mode 0600) holding ``data``, removed again if writing fails (ENOSPC, EIO)."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        remove_quietly(name)
        raise
    return name


def write_text(module, path: str, text: str) -> None:
    """Temporary file in the target's directory, then atomic_move (keeps owner, mode, SELinux context)."""
    directory = os.path.dirname(path)
    os.makedirs(directory, NEW_DIR_MODE, exist_ok=True)
    temporary = None
    try:
        temporary = write_private(directory, text.encode("utf-8"), "." + os.path.basename(path) + ".")
        os.chmod(temporary, NEW_FILE_MODE)
        module.atomic_move(temporary, path, unsafe_writes=module.params["unsafe_writes"])
    except Exception as exc:
        cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else to_native(exc)
        raise FileError(path, "cannot write the file: %s" % cause) from None
    finally:
        remove_quietly(temporary)


def remove_file(path: str) -> None:
    """Remove ``path`` (gone already is fine), then its directory when that is now empty."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FileError(path, "cannot remove the file: %s" % (exc.strerror or to_native(exc))) from None
    with contextlib.suppress(OSError):
        os.rmdir(os.path.dirname(path))  # only when empty: certificates stay


# --------------------------------------------------------------------------- the module's result


def apply_file_attributes(module, path: str, changed: bool) -> bool:
    """The owner, group, mode and SELinux options on the file written; nothing in check mode or when it is gone."""
    if module.check_mode or not os.path.exists(path):
        return changed
    return module.set_fs_attributes_if_different(module.load_file_common_arguments(module.params, path=path), changed)


# Credentials a TOML file of containerd (registry configs' auth tables) or containers may hold, one per line.
_TOML_SECRET_RE = re.compile(
    r'^(\s*"?(?:password|auth|identitytoken|identity_token|token|secret|client_secret)"?\s*=\s*)[^\s][^\r\n]*',
    re.IGNORECASE | re.MULTILINE)


def mask_secrets(text: str) -> str:
    """A TOML file's text for a diff: URL userinfo and the values of credential keys masked as xxxxx."""
    return _TOML_SECRET_RE.sub(lambda match: match.group(1) + '"xxxxx"', mask_url(text))


def diff_entry(path: str, before: str | None, after: str | None) -> dict[str, str]:
    """The diff of one file's text, secrets masked; ``before`` None: it did not exist, ``after`` None: removed."""
    return {
        "before": mask_secrets(before or ""),
        "after": mask_secrets(after or ""),
        "before_header": path if before is not None else "%s (absent)" % path,
        "after_header": path if after is not None else "%s (absent)" % path,
    }


def exit_or_fail(module, run_module: t.Callable[[t.Any], dict[str, t.Any]], default_path: str) -> None:
    """Exit with what ``run_module(module)`` returns, or fail naming the file: the one a FileError names, else
    ``default_path``. Every failure is raised before anything is written, so the file was left unchanged."""
    try:
        result = run_module(module)
    except (ConfigError, NeedsRoot, OSError) as exc:
        path = exc.path if isinstance(exc, FileError) else default_path
        cause = (exc.strerror or to_native(exc)) if isinstance(exc, OSError) else exc.message
        module.fail_json(msg=mask_url("%s: %s — the file was left unchanged" % (path, cause)), path=path)
    module.exit_json(**result)
