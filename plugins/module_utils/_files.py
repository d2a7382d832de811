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

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import (
    REDACTED,
    ConfigError,
    NeedsRoot,
    is_root,
    mask_url,
)

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
# The private copy of a file's previous bytes, next to it, that the apply modules restore.
PREVIOUS_SUFFIX = ".docker_mirror-previous"
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


def decode(raw: bytes, lossless: bool = False) -> str:
    """UTF-8 text; ``lossless``: bytes that are not UTF-8 (a Latin-1 comment, which containerd's TOML parser
    accepts) become lone surrogates that ``encode`` writes back as the same bytes, and the parser judges them."""
    try:
        return raw.decode("utf-8", "surrogateescape" if lossless else "strict")
    except UnicodeDecodeError as exc:
        raise ConfigError("not valid UTF-8 (byte %d)" % exc.start) from None


def encode(text: str) -> bytes:
    """UTF-8 bytes; the surrogates of a lossless ``decode`` become the bytes they stand for, any other lone
    surrogate is refused."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise ConfigError("the result cannot be written as UTF-8 (%s at character %d)"
                          % (exc.reason, exc.start)) from None


def read_text(path: str, lossless: bool = False) -> str | None:
    """The file's text, None when missing; anything but a regular UTF-8 file is refused without blocking
    (``lossless``: see ``decode``)."""
    try:
        raw = read_bytes(os.path.realpath(path))
    except NotRegularFile:
        raise FileError(path, "not a regular file") from None
    except OSError as exc:
        raise FileError(path, "cannot read the file: %s" % (exc.strerror or to_native(exc))) from None
    if raw is None:
        return None
    try:
        return decode(raw, lossless)
    except ConfigError as exc:
        raise FileError(path, exc.message) from None


# --------------------------------------------------------------------------- locking


# The directories this process holds the lock on: a nested lock on one of them (containerd_hosts locks config.toml's
# directory, then the hosts directory, which may resolve to the same one) must not wait for itself.
_HELD: set[str] = set()


@contextlib.contextmanager
def directory_lock(directory: str) -> t.Iterator[None]:
    """Exclusive flock on the directory itself: no lock file is left behind, and every run editing a file in
    it (the rename included) waits for the others. A directory that does not exist yet is locked through its
    nearest existing parent, so that two first runs do not both create and write it."""
    directory = nearest_existing(directory)
    if directory in _HELD:
        yield
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise_os_error("cannot open the directory %s" % directory, exc)
    try:
        wait_for_lock(fd, directory)
        _HELD.add(directory)
        try:
            yield
        finally:
            _HELD.discard(directory)
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


def make_directories(directory: str) -> list[str]:
    """Create ``directory`` and its missing parents, each 0755 whatever the umask (rootless Podman, Buildah and
    Skopeo must read a drop-in); the directories made, top first."""
    missing = []
    while not os.path.isdir(directory) and os.path.dirname(directory) != directory:
        missing.append(directory)
        directory = os.path.dirname(directory)
    made: list[str] = []
    try:
        for name in reversed(missing):
            try:
                os.mkdir(name, NEW_DIR_MODE)
            except FileExistsError:
                if os.path.isdir(name):
                    continue  # made meanwhile by someone else: not ours to set or remove
                raise
            made.append(name)
            os.chmod(name, NEW_DIR_MODE)
    except OSError as exc:
        remove_directories(made)
        raise_os_error("cannot create directory %s" % (made[-1] if made else name), exc)
    return made


def remove_directories(made: list[str]) -> None:
    """Remove the directories ``make_directories`` made (deepest first), where they are still empty."""
    for name in reversed(made):
        with contextlib.suppress(OSError):
            os.rmdir(name)


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


def move_into_place(module, candidate: str, target: str) -> None:
    """module.atomic_move (keeps owner, mode, SELinux context), its plain Exception made one sentence."""
    try:
        module.atomic_move(candidate, target, unsafe_writes=module.params["unsafe_writes"])
    except OSError:
        raise
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else None
        raise FileError(target, "cannot replace the file: %s%s" % (
            to_native(exc), " (%s)" % cause.strerror if cause is not None and cause.strerror else "")) from None


def write_text(module, path: str, text: str, mode: int | None = None) -> None:
    """Temporary file in the target's directory, then atomic_move. A new file is 0644 whatever the umask (the
    file-common ``mode`` applied afterwards still wins); an existing one keeps its owner and mode. ``mode``: the
    file's mode whatever it was, set on the existing file first (atomic_move copies it), so a secret is never
    readable by others, not even for a moment."""
    created = not os.path.lexists(path)
    temporary = None
    try:
        temporary = write_private(os.path.dirname(path), encode(text), "." + os.path.basename(path) + ".")
        os.chmod(temporary, NEW_FILE_MODE if mode is None else mode)
        if mode is not None and not created:
            os.chmod(path, mode)
        move_into_place(module, temporary, path)
        if created or mode is not None:
            os.chmod(path, NEW_FILE_MODE if mode is None else mode)  # atomic_move gives a new file 0666 & ~umask
    except OSError as exc:
        raise FileError(path, "cannot write the file: %s" % (exc.strerror or to_native(exc))) from None
    finally:
        remove_quietly(temporary)


def remove_file(path: str, prune: bool = True) -> None:
    """Remove ``path`` (gone already is fine), then (``prune``) its directory when that is now empty."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FileError(path, "cannot remove the file: %s" % (exc.strerror or to_native(exc))) from None
    if prune:
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(path))  # only when empty: certificates stay


# --------------------------------------------------------------------------- the managed-file protocol


class Write(t.NamedTuple):
    """One file's planned change: ``before`` None: it does not exist; ``after`` None: remove it (``prune``: and
    its directory when that is then empty)."""
    path: str
    before: str | None
    after: str | None
    prune: bool = False
    mode: int | None = None  # the file's mode, set before the new text goes in (0600: it holds a secret)


# A validator gets the name of a candidate file holding the new text and raises ConfigError to refuse it.
Validator = t.Callable[[str], None]


def previous_copy_name(target: str) -> str:
    """The private copy of ``target``'s previous bytes that a writer keeps and an apply module restores."""
    return os.path.join(os.path.dirname(target), "." + os.path.basename(target) + PREVIOUS_SUFFIX)


def keep_previous(target: str, text: str) -> str:
    """``target``'s previous bytes in a private copy next to it (0600), for the apply module's rollback."""
    name = previous_copy_name(target)
    temporary = write_private(os.path.dirname(target), encode(text), "." + os.path.basename(target) + ".previous.")
    try:
        os.rename(temporary, name)
    except OSError as exc:
        remove_quietly(temporary)
        raise FileError(target, "cannot keep the previous copy %s: %s" % (name, exc.strerror or to_native(exc))) \
            from None
    return name


@contextlib.contextmanager
def naming(path: str) -> t.Iterator[None]:
    """A ConfigError raised inside becomes a FileError naming ``path``; a FileError (which names its own file)
    passes as it is."""
    try:
        yield
    except FileError:
        raise
    except ConfigError as exc:
        raise FileError(path, exc.message) from None


def refuse_unwritable(path: str, unsafe_writes: bool) -> None:
    """Every refusal of a file we are about to write, as a FileError naming it: not a regular file, a file the
    final rename cannot replace (chattr +i/+a, immutable directory, bind mount), a directory we may not write."""
    with naming(path):
        check_file_type(path)
        check_replaceable(path, unsafe_writes)
        check_can_write(path)


def validate_candidate(module, path: str, text: str, validator: Validator) -> None:
    """Run ``validator`` on a candidate holding ``text``: next to ``path`` (relative includes resolve as they will),
    or in Ansible's temporary directory in check mode or when the directory does not exist yet."""
    directory = os.path.dirname(path)
    if module.check_mode or not os.path.isdir(directory):
        directory = module.tmpdir
    candidate = write_private(directory, encode(text), "." + os.path.basename(path) + ".")
    try:
        validator(candidate)
    except FileError:
        raise
    except ConfigError as exc:
        raise FileError(path, exc.message.replace(candidate, path)) from None
    finally:
        remove_quietly(candidate)


def write_files(module, writes: t.Sequence[Write], validators: dict[str, Validator] | None = None,
                keep_previous_of: str | None = None, backup: bool = False) -> dict[str, str]:
    """The protocol every writer follows: refuse (every file, before any is written, in check mode too), validate
    the candidates, then (not in check mode) write them in order. What fails leaves every file as it was, and no
    new directory, temporary file, backup or previous copy behind. Returns ``backup_file``/``rollback_file``."""
    for write in writes:
        refuse_unwritable(write.path, module.params["unsafe_writes"])
    for write in writes:
        validator = (validators or {}).get(write.path)
        if validator is not None and write.after is not None:
            validate_candidate(module, write.path, write.after, validator)
    if module.check_mode:
        return {}
    return apply_writes(module, writes, keep_previous_of, backup)


def apply_writes(module, writes: t.Sequence[Write], keep_previous_of: str | None, backup: bool) -> dict[str, str]:
    made_directories: list[str] = []
    made: dict[str, str] = {}
    done: list[Write] = []
    try:
        for write in writes:
            if write.before is not None and backup:
                made["backup_file"] = module.backup_local(write.path)
            if write.before is not None and write.path == keep_previous_of:
                made["rollback_file"] = keep_previous(write.path, write.before)
            if write.after is None:
                remove_file(write.path, write.prune)
            else:
                made_directories.extend(make_directories(os.path.dirname(write.path)))
                write_text(module, write.path, write.after, write.mode)
            done.append(write)
    except BaseException:
        undo_writes(module, done)
        for name in made.values():
            remove_quietly(name)
        remove_directories(made_directories)
        raise
    return made


def undo_writes(module, done: list[Write]) -> None:
    """Put back what ``apply_writes`` changed before a later write failed (best effort: the failure is reported)."""
    for write in reversed(done):
        with contextlib.suppress(ConfigError, OSError):
            if write.before is None:
                remove_file(write.path)
            else:
                make_directories(os.path.dirname(write.path))
                write_text(module, write.path, write.before, write.mode)


# --------------------------------------------------------------------------- the module's result


def apply_file_attributes(module, path: str, changed: bool) -> bool:
    """The owner, group, mode and SELinux options on the file written; nothing in check mode or when it is gone."""
    if module.check_mode or not os.path.exists(path):
        return changed
    return module.set_fs_attributes_if_different(module.load_file_common_arguments(module.params, path=path), changed)


# Keys whose value is a credential in containerd's and containers' TOML files (registry configs' auth tables), and
# ``header``: a hosts.toml ``[host."...".header]`` table holds HTTP headers such as Authorization.
_SECRET_KEYS = frozenset(("password", "auth", "identitytoken", "identity_token", "token", "secret",
                          "client_secret", "header"))
_TOML_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED_KEY = r"%s(?:[ \t]*\.[ \t]*%s)*" % (_TOML_KEY, _TOML_KEY)
_TABLE_LINE = re.compile(r"^[ \t]*\[\[?[ \t]*(%s)[ \t]*\]\]?[ \t]*(?:#.*)?$" % _DOTTED_KEY)
_ASSIGNMENT = re.compile(r"^([ \t]*(%s)[ \t]*=[ \t]*)(\S.*)$" % _DOTTED_KEY)
_KEY_PARTS = re.compile(_TOML_KEY)
_TRIPLE_STRINGS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'')
_ONE_LINE_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')
# A credential key assigned inside a value (an inline table: ``"reg" = { auth = { password = "p" } }``).
_INLINE_SECRET = re.compile(r"""(?:^|[{,.\s])["']?(?:%s)["']?[ \t]*=""" % "|".join(sorted(_SECRET_KEYS)),
                            re.IGNORECASE)
_MASKED = '"%s"' % REDACTED


class Open(t.NamedTuple):
    """What a value leaves open at the end of a line: arrays and inline tables, a multi-line string."""
    depth: int = 0
    quote: str | None = None  # the delimiter of a multi-line string still open

    def __bool__(self) -> bool:
        return self.depth > 0 or self.quote is not None


def key_parts(dotted: str) -> list[str]:
    """The parts of a dotted TOML key, unquoted and lower-cased: ``auth."Password"`` -> [auth, password]."""
    return [part[1:-1].lower() if part[:1] in "\"'" else part.lower() for part in _KEY_PARTS.findall(dotted)]


def still_open(value: str, before: Open = Open()) -> Open:
    """What is still open after ``value`` (a line, or the value of an assignment), given what was open before it."""
    depth = before.depth
    if before.quote is not None:
        end = value.find(before.quote)
        if end < 0:
            return before
        value = value[end + 3:]
    bare = _TRIPLE_STRINGS.sub("", value)
    starts = [(bare.find(quote), quote) for quote in ('"""', "'''") if quote in bare]
    quote = min(starts)[1] if starts else None
    if quote is not None:
        bare = bare[:bare.find(quote)]
    bare = _ONE_LINE_STRINGS.sub("", bare)
    return Open(max(0, depth + bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}")), quote)


def mask_secrets(text: str) -> str:
    """A TOML file's text for a diff: URL userinfo masked, and the value of every credential key (also dotted or
    quoted: ``auth.password``, ``'password'``, or inside an inline table) and of every key of a ``header`` table
    replaced by "xxxxx"; a value continued on later lines (an array, a multi-line string) masked there too."""
    out = []
    in_header, pending = False, Open()
    for line in mask_url(text).splitlines(True):
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        indent = body[:len(body) - len(body.lstrip())]
        if pending:
            pending = still_open(body, pending)
            out.append(indent + _MASKED + ending)
            continue
        table = _TABLE_LINE.match(body)
        if table:
            in_header = key_parts(table.group(1))[-1] == "header"
        assignment = None if table else _ASSIGNMENT.match(body)
        if assignment and (in_header or _SECRET_KEYS.intersection(key_parts(assignment.group(2)))
                           or _INLINE_SECRET.search(assignment.group(3))):
            pending = still_open(assignment.group(3))
            body = assignment.group(1) + _MASKED
        elif not table and not assignment and _INLINE_SECRET.search(body) and not body.lstrip().startswith("#"):
            body = indent + _MASKED  # a line of an array of inline tables
        out.append(body + ending)
    return "".join(out)


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` as the controller can take it: the bytes of a file that are not UTF-8 (kept as lone surrogates
    by a lossless read) shown as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def diff_entry(path: str, before: str | None, after: str | None) -> dict[str, str]:
    """The diff of one file's text, secrets masked; ``before`` None: it did not exist, ``after`` None: removed."""
    return {
        "before": mask_secrets(printable(before or "")),
        "after": mask_secrets(printable(after or "")),
        "before_header": path if before is not None else "%s (absent)" % path,
        "after_header": path if after is not None else "%s (absent)" % path,
    }


def failure_message(path: str, exc: BaseException) -> str:
    """One sentence naming the file and the cause, saying the file was left unchanged; secrets masked."""
    if isinstance(exc, (ConfigError, NeedsRoot)):
        cause = exc.message
    elif isinstance(exc, OSError):
        cause = exc.strerror or to_native(exc)
        if exc.filename:
            cause = "%s: %s" % (to_native(exc.filename), cause)
    elif isinstance(exc, RecursionError):
        cause = "the document is nested too deeply to process"
    else:
        cause = "cannot process the file (%s: %s)" % (type(exc).__name__, to_native(exc))
    return mask_url("%s: %s — the file was left unchanged" % (path, cause))


FAILURES = (ConfigError, NeedsRoot, OSError, RecursionError, UnicodeError, ValueError, TypeError)


def exit_or_fail(module, run_module: t.Callable[[t.Any], dict[str, t.Any]], default_path: str,
                 invocation: dict[str, t.Any] | None = None, one_file: bool = False) -> None:
    """The one exit of the writers: what ``run_module(module)`` returns, or a failure naming the file (the one a
    FileError names unless ``one_file``, else ``default_path``). Every refusal is raised before anything is
    written, and a failed write is undone, so the file was left unchanged. ``invocation``: what Ansible echoes."""
    shown = {} if invocation is None else {"invocation": invocation}
    try:
        result = run_module(module)
    except FAILURES as exc:
        path = exc.path if isinstance(exc, FileError) and not one_file else default_path
        module.fail_json(msg=printable(failure_message(path, exc)), path=mask_url(path), **shown)
    module.exit_json(**printable_values(dict(result, **shown)))


def printable_values(value: t.Any) -> t.Any:
    """A result as the controller can take it: every key and string through ``printable`` (ansible-core refuses a
    result holding a lone surrogate: "Refusing to deserialize an invalid UTF8 string value")."""
    if isinstance(value, dict):
        return {printable_values(key): printable_values(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_values(item) for item in value]
    return printable(value) if isinstance(value, str) else value


class SecretSafeModule(AnsibleModule):
    """AnsibleModule whose journal line ("Invoked with ...") hides a multi-line no_log value given inside a list
    option (a client key in ``registries``). Ansible logs such an option as its repr, where the key's line breaks
    are written as backslash-n, and masks a no_log value only where that text holds it verbatim: the key went to
    the journal in clear. Its repr form is masked too, for this line only."""

    def _log_invocation(self) -> None:
        kept = set(self.no_log_values)
        self.no_log_values.update(repr(value)[1:-1] for value in kept if isinstance(value, str))
        try:
            super()._log_invocation()
        finally:
            self.no_log_values.clear()
            self.no_log_values.update(kept)
