"""The report's HTML page opened in headless Chromium: it renders, its sort script works, and the
browser logs no console message (errors, failed loads) at all."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analysis import report
from analysis.section import Figure, ReportContext, Section, Table

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and Path("/usr/bin/chromium").exists():
    CHROMIUM = "/usr/bin/chromium"

_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082")


def _chromium(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """Load the page; return (DOM after scripts ran, console lines Chromium logged)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); "
                    ".ci/run installs it where it can")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
           "--dump-dom", page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}"
    # Chromium logs every console message (log, warning, error, uncaught exception, failed
    # resource load) as INFO:CONSOLE; the report emits none, so any such line is a defect.
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    return proc.stdout, console


def _report(tmp_path: Path) -> Path:
    def ok(ctx):
        fig = ctx.figure_dir / "dot.png"
        fig.write_bytes(_PNG)
        frame = pd.DataFrame({"format": ["float8_e4m3fn", "int8", "int4"], "area_ge": [1067.0, 719.0, 300.0]})
        return Section("stub", "Stub", intro="Intro with `code`.",
                       tables=[Table("Areas", frame, "van Baalen et al. 2023")],
                       figures=[Figure("A dot", fig, "our test")])

    def boom(ctx):
        raise RuntimeError("no tool")

    ctx = ReportContext(outdir=tmp_path / "out", cache_dir=tmp_path / "cache", quick=True)
    report.run_sections(ctx, ["stub", "boom"], {"stub": ok, "boom": boom})
    return ctx.outdir / "report.html"


def test_report_renders_without_console_errors(tmp_path):
    page = _report(tmp_path)
    # Click the area_ge header from inside the page and record the first row, to prove the sort
    # script ran (a page whose script threw would also log to the console).
    probe = tmp_path / "out" / "probe.html"
    probe.write_text(page.read_text().replace(
        "</body>", "<script>document.querySelectorAll('th')[1].click();"
                   "document.body.setAttribute('data-first',"
                   "document.querySelector('tbody tr td').textContent);</script></body>"))
    dom, console = _chromium(probe, tmp_path)
    assert console == [], "console messages:\n" + "\n".join(console)
    assert "Section failed:" in dom and "RuntimeError: no tool" in dom
    assert re.search(r'<img[^>]+src="data:image/png;base64,', dom)
    assert 'data-first="int4"' in dom  # ascending area: int4 (300) first
    assert '<th title="click to sort" class="asc">area_ge</th>' in dom


def test_console_errors_are_detected(tmp_path):
    """The check above can fail: a page with a script error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                   "<script>undefinedFunction();</script></body></html>")
    _, console = _chromium(bad, tmp_path)
    assert any("undefinedFunction" in ln for ln in console)
