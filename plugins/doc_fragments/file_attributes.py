# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The support of the modules that edit one configuration file on the host. Use it after
    # ansible.builtin.action_common_attributes and action_common_attributes.files, which describe these
    # attributes; a module adds its own diff_mode details (ansible-core merges an attribute key by key,
    # the module's own keys winning).
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
  safe_file_operations:
    support: full
  vault:
    support: none
"""
