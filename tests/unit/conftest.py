# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ``ansible_collections.fleetops.docker_mirror`` importable from this checkout.

``.collections/ansible_collections/fleetops/docker_mirror`` is a symlink to the repository root.
"""

from __future__ import annotations

import os
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_ROOT = os.path.join(REPO_ROOT, ".collections")

if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)


@pytest.fixture(autouse=True)
def _options_named_as_they_are():
    """A module run with option_names (the role's names for its options) leaves them set in this process."""
    from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import name_options
    yield
    name_options({})
