# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_mirror role's filters: each host's verdict (one call folding every runtime's result), the batch
record, the fleet report, the summary and JUnit XML, the check of the role's variables. Thin: the logic lives in
plugins/plugin_utils (_judge for one host, _report for the fleet, _arguments for the variables)."""

from __future__ import annotations

from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils._arguments import problems as arguments
from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils._judge import host_verdict
from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils._report import (
    build_report, docker_mirror_batch, docker_mirror_report, junit, next_batch, report_dir_problem, summary)

__all__ = ["arguments", "build_report", "docker_mirror_batch", "docker_mirror_report", "host_verdict", "junit", "next_batch",
           "report_dir_problem", "summary", "FilterModule"]


class FilterModule:
    def filters(self):
        return {
            "docker_mirror_verdict": host_verdict,
            "docker_mirror_batch": docker_mirror_batch,
            "docker_mirror_report": docker_mirror_report,
            "docker_mirror_summary": summary,
            "docker_mirror_junit": junit,
            "docker_mirror_report_dir_problem": report_dir_problem,
            "docker_mirror_arguments": arguments,
        }
