"""The iso-area, Pareto and verification sections on a hand-made sweep table (no tools run)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import reportsweep
from analysis.section import ReportContext
from analysis.sections import isoarea as sec_isoarea
from analysis.sections import pareto as sec_pareto
from analysis.sections import verification as sec_verification


def _frame():
    return pd.DataFrame({
        "point_id": ["int8/kulisch/mac/p1/ge", "int8/fp32/mac/p1/ge", "float8_e4m3fn/kulisch/mac/p1/ge",
                     "float8_e4m3fn/fp32/mac/p1/ge"],
        "in_fmt": ["int8", "int8", "float8_e4m3fn", "float8_e4m3fn"],
        "acc": ["kulisch", "fp32", "kulisch", "fp32"],
        "unit": ["mac"] * 4, "pipeline_stages": [1] * 4, "library": ["ge"] * 4,
        "status": ["ok", "failed", "ok", "ok"],
        "reason": [None, "verify: the cocotb bench failed (x)", None, None],
        "verified": [True, False, True, None],
        "verify_tests": [1, None, 1, None],
        "verify_detail": ["1 cocotb tests passed", "AssertionError: RTL 0x1 golden 0x2", "ok", None],
        "verify_error": [None, None, None, "ToolFailed: no verilator"],
        "sqnr_db": [41.0, 41.0, 31.5, 31.5],
        "dot_rel_err": [0.0, 1e-9, 0.0, 2e-9],
        "area_ge": [1000.0, 3000.0, 1500.0, 2500.0],
        "delay_fo4": [50.0, 200.0, 100.0, 180.0],
        "energy_pj": [0.4, 0.7, None, 0.9],
    })


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setattr(reportsweep, "report_sweep", lambda ctx, spec=None: _frame())
    # The H100 model fit takes seconds; test_h100_reference covers it.
    from analysis import isoarea
    monkeypatch.setattr(isoarea, "h100_reference", lambda *a, **k: None)
    return ReportContext(outdir=tmp_path, cache_dir=tmp_path / "c", quick=True)


def test_verification_section_counts(ctx):
    s = sec_verification.build(ctx)
    t = s.tables[0].frame
    assert list(t["result"]) == ["pass", "FAIL", "pass", "not run"]
    assert "**2 passed, 1 failed" in s.intro and "1 could not be run" in s.intro
    assert t["detail"][3] == "ToolFailed: no verilator"


def test_isoarea_section_numbers(ctx):
    from analysis.config import FO4_PS_45NM, IsoAreaConfig
    s = sec_isoarea.build(ctx, IsoAreaConfig(unpipelined=True))  # each design at its own path
    assert "Unpipelined comparison" in s.intro
    t = s.tables[0].frame.set_index(["in_fmt", "acc"])
    # 1e8 GE / 1000 GE = 100000 units; clock 1 / (50 FO4 x 16.2 ps)
    assert t.loc[("int8", "kulisch:12"), "units"] == 100_000
    clock = 1e12 / (50 * FO4_PS_45NM)
    assert t.loc[("int8", "kulisch:12"), "peak_tops"] == pytest.approx(2 * 100_000 * clock / 1e12)
    assert t.loc[("int8", "float32"), "verified"] == "NO"
    assert len(s.tables[1].frame) == 4 and s.figures and s.figures[0].path.exists()
    assert "FO4 = 16.2 ps" in s.tables[0].source


def test_pareto_section_names_the_front(ctx):
    s = sec_pareto.build(ctx)
    first = s.tables[0].frame  # sqnr_db vs area_ge
    kul = first[first["acc"] == "kulisch"]
    # kulisch: int8 (1000 GE, 41 dB) dominates e4m3 (1500 GE, 31.5 dB)
    assert list(kul["in_fmt"]) == ["int8"]
    fp32 = first[first["acc"] == "fp32"]
    assert set(fp32["in_fmt"]) == {"int8", "float8_e4m3fn"}  # cheaper vs more accurate
    assert len(s.figures) == 4 and all(f.path.exists() for f in s.figures)  # no t3 column in the stub


@pytest.mark.slow
def test_h100_reference():
    from analysis import isoarea
    res = isoarea.h100_reference()
    if res is None:
        pytest.skip("hwmodel.roofline or its H100 data is not available")
    ref, src = res
    assert list(ref["in_fmt"]) == ["H100 bf16", "H100 int8", "H100 fp8_e4m3"]
    times = ref[[c for c in ref.columns if c.endswith("time_ms")]]
    assert (times > 0).all().all() and "H100" in src
    # LLaMA-2-7B decode moves >= 6.7e9 bytes of 8-bit weights per step: at most ~3.35 TB/s.
    assert (ref.set_index("in_fmt").loc["H100 int8", "LLaMA-2-7B decode (batch 1, context 2048) time_ms"]
            > 6.4e9 / 3.35e12 * 1e3)


def test_isoarea_default_is_one_clock_int8(ctx):
    """Default: INT8 into Kulisch's fastest clock (fake_depth_sweep: 20 FO4 at one register)."""
    s = sec_isoarea.build(ctx)
    assert "**All designs at one clock: 20 FO4**" in s.intro
    t = s.tables[0].frame.set_index(["in_fmt", "acc"])
    assert bool(t.loc[("int8", "kulisch:12"), "meets_clock"])
    assert t.loc[("int8", "kulisch:12"), "latency_cycles"] == 2
    assert not t.loc[("float8_e4m3fn", "float32"), "meets_clock"]


def test_findings_section_first_and_computed(ctx):
    import re

    from analysis import report
    from analysis.sections import findings as sec_findings
    order = []

    def spy(name, build):
        def b(c):
            order.append(name)
            return build(c)
        return b
    secs = report.run_sections(ctx, ["findings", "isoarea"],
                               {"findings": spy("findings", sec_findings.build),
                                "isoarea": spy("isoarea", sec_isoarea.build)})
    assert order == ["isoarea", "findings"] and [s.key for s in secs] == ["findings", "isoarea"]
    f, iso = secs
    assert not f.failed and f.figures and f.figures[0].path.exists()
    t = iso.tables[0].frame
    best = t.loc[t["peak_tops"].idxmax()]
    m = re.search(r"\*\*(\S+)\*\* fills .* \*\*([\d.]+) TOPS\*\*", f.intro)
    assert m.group(1) == f"{best['in_fmt']}/{best['acc']}"
    assert abs(float(m.group(2)) - best["peak_tops"]) <= 0.005 * best["peak_tops"]
    md = (ctx.outdir / "report.md").read_text()
    assert md.index("## 1. Findings") < md.index("## 2. Iso-area")
    assert (ctx.outdir / "data" / "isoarea_1.csv").exists() and "(data/isoarea_1.csv)" in md
