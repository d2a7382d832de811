# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks on a directory tree shared by the tests of the modules that own one file (containerd_hosts,
registries_conf): its bytes before and after, and a failure that left it unchanged."""

from __future__ import annotations

import os
import typing as t

LEFT_UNCHANGED = " — the file was left unchanged"


def snapshot(root: str) -> dict[str, bytes]:
    """Every file below ``root``, by relative path, with its bytes."""
    files = {}
    for directory, dummy, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, root)] = handle.read()
    return files


def assert_failed_unchanged(result: dict[str, t.Any], before: dict[str, bytes], root: str, fragment: str) -> None:
    assert result["failed"], result
    assert result["msg"].endswith(LEFT_UNCHANGED) and fragment in result["msg"], result["msg"]
    assert result["msg"].startswith(result["path"] + ": ")
    assert snapshot(root) == before
