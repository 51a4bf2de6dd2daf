"""The report renderer: stub sections in, Markdown/HTML/metadata out; a failing section is isolated."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis import report
from analysis.cli import main
from analysis.section import Figure, ReportContext, Section, Table

# A 1x1 transparent PNG, written by hand (no matplotlib needed for this fast test).
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082")


def _stub_ok(ctx: ReportContext) -> Section:
    fig = ctx.figure_dir / "stub.png"
    fig.write_bytes(_PNG)
    frame = pd.DataFrame({"format": ["int8", "float8_e4m3fn", "a|b"],
                          "area_ge": [719.0, 1067.5, 3.0], "n_cells": [10, 20, 5]})
    return Section(key="stub", title="Stub section", intro="Some **bold** and `code`.\n\n- one\n- two",
                   tables=[Table("Gate counts", frame, source="van Baalen et al. 2023, Fig. 3")],
                   figures=[Figure("A dot", fig, source="our test")], notes="Finding: <none>.")


def _stub_raises(ctx: ReportContext) -> Section:
    raise RuntimeError("synthesis exploded\nsecond line must not appear")


def _ctx(tmp_path: Path) -> ReportContext:
    return ReportContext(outdir=tmp_path / "out", cache_dir=tmp_path / "cache", quick=True)


def test_renders_markdown_html_and_metadata(tmp_path):
    ctx = _ctx(tmp_path)
    sections = report.run_sections(ctx, ["stub"], {"stub": _stub_ok})
    assert [s.failed for s in sections] == [None]
    md = (ctx.outdir / "report.md").read_text()
    # Table: header row, pipe in a cell escaped, float with 4 significant digits, source line.
    assert "| format | area_ge | n_cells |" in md
    assert "| a\\|b | 3 | 5 |" in md
    assert "| float8_e4m3fn | 1068 | 20 |" in md  # 1067.5 to 4 significant digits (ties to even)
    assert "*Source: van Baalen et al. 2023, Fig. 3*" in md
    assert "](figures/stub.png)" in md
    html = (ctx.outdir / "report.html").read_text()
    # Self-contained: the PNG is embedded, nothing is fetched from elsewhere.
    assert "data:image/png;base64," in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert '<table class="sortable"' in html and 'data-sort="1067.5"' in html
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "<li>one</li>" in html
    assert "Finding: &lt;none&gt;." in html  # text is escaped, never injected
    assert "Source: van Baalen et al. 2023, Fig. 3" in html
    meta = json.loads((ctx.outdir / "metadata.json").read_text())
    assert meta["seed"] == 0 and meta["quick"] is True
    assert meta["packages"]["pandas"] == pd.__version__
    assert meta["sections"][0]["status"] == "ok"
    assert "date_utc" in meta and "git_sha" in meta


def test_failed_section_is_isolated(tmp_path):
    ctx = _ctx(tmp_path)
    sections = report.run_sections(ctx, ["boom", "stub", "absent_section_xyz"],
                                   {"boom": _stub_raises, "stub": _stub_ok})
    assert sections[0].failed == "RuntimeError: synthesis exploded"
    assert sections[1].failed is None and sections[1].tables
    assert "not built yet" in sections[2].failed
    md = (ctx.outdir / "report.md").read_text()
    assert "**Section failed:** RuntimeError: synthesis exploded" in md
    assert "second line" not in md
    assert "| int8 | 719 | 10 |" in md  # the section after the failure survived
    assert (ctx.outdir / "logs" / "boom.traceback.txt").read_text().rstrip().endswith("second line must not appear")
    meta = json.loads((ctx.outdir / "metadata.json").read_text())
    assert [s["status"] for s in meta["sections"]] == ["failed", "ok", "failed"]


def test_finished_sections_survive_an_interrupt(tmp_path):
    ctx = _ctx(tmp_path)

    def interrupted(ctx):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        report.run_sections(ctx, ["stub", "int"], {"stub": _stub_ok, "int": interrupted})
    assert "| int8 | 719 | 10 |" in (ctx.outdir / "report.md").read_text()


def test_wrong_return_type_fails_the_section(tmp_path):
    ctx = _ctx(tmp_path)
    [s] = report.run_sections(ctx, ["odd"], {"odd": lambda ctx: "not a section"})
    assert s.failed == "TypeError: build() of section 'odd' must return a Section, not str"


def test_section_order_follows_design_doc():
    design = (Path(__file__).resolve().parents[2] / "docs" / "DESIGN.md").read_text()
    line = design.split("Order:", 1)[1].split("\n\n", 1)[0]
    # Every named section appears in the design doc's order sentence in the same order.
    words = {"findings": "findings", "area": "area/energy", "paper": "paper", "verification": "verification", "energy": "energy,",
             "numerics": "numerics", "blockscaled": "block-scaled", "gpu": "GPU", "isoarea": "iso-area", "pareto": "Pareto",
             "formats": "format catalogue", "fpga": "FPGA cost", "physical": "characterised library",
             "arrays": "MAC arrays"}
    positions = [line.index(words[n]) for n in report.SECTION_ORDER]
    assert positions == sorted(positions)


def test_cli_rejects_unknown_section(tmp_path, capsys):
    rc = main(["report", "--out", str(tmp_path), "--only", "nope"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--only must name sections from findings, area, paper" in err and "'nope'" in err


def test_cli_rejects_bad_jobs(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path), "--jobs", "0"]) == 2
    assert "--jobs must be a positive integer, not 0" in capsys.readouterr().err


def test_markdown_subset():
    h = report.markdown_to_html("# Head\n\n1. a\n2. b\n\n> quote\n\nSee [x](https://example.org) *it*.")
    assert "<ol><li>a</li><li>b</li></ol>" in h
    assert "<blockquote>quote</blockquote>" in h
    assert '<a href="https://example.org">x</a>' in h and "<em>it</em>" in h


def test_success_clears_the_traceback_of_an_earlier_failure(tmp_path):
    ctx = _ctx(tmp_path)
    report.run_sections(ctx, ["boom"], {"boom": _stub_raises})
    log = ctx.outdir / "logs" / "boom.traceback.txt"
    assert log.exists()
    report.run_sections(ctx, ["boom"], {"boom": _stub_ok})
    assert not log.exists()
