# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The option of every module the docker_mirror role's mirrors action runs: the names its messages use.
    DOCUMENTATION = r"""
options:
  option_names:
    description:
      - >-
        The names the caller knows this module's options by, used wherever a message names an option (for
        example C({"force": "docker_mirror_force"}) makes a message say C(set docker_mirror_force: true)). The
        M(fleetops.docker_mirror.mirrors) action, and so the C(docker_mirror) role, passes its variables' names.
      - An option not listed is named as it is.
    type: dict
    default: {}
    version_added: 2.0.0
"""
