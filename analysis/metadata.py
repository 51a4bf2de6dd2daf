"""What produced a result: git commit, Python, platform, package and tool versions, seed, date.

`run_metadata(ctx, **extra)` is written beside every report, what-if and sweep table
(`metadata.json`, `<stem>.metadata.json`). Versions and the commit come from hwmodel.provenance,
the one place that names them (Verilog headers and synthesis results use it too).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys

from hwmodel.provenance import git_sha, package_versions, tool_versions

__all__ = ["run_metadata", "git_sha", "package_versions", "tool_versions"]


def run_metadata(ctx, **extra) -> dict:
    """What produced a result: git SHA, Python, platform, package and tool versions, seed, date
    (UTC). ctx: an analysis.section.ReportContext (its seed, quick and jobs are recorded)."""
    md = {
        "tool": "hwdse",
        "git_sha": git_sha(),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "packages": package_versions(),
        "tools": tool_versions(),
        "seed": ctx.seed,
        "quick": ctx.quick,
        "jobs": ctx.jobs,
    }
    md.update(extra)
    return md
