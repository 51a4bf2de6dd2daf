"""Block-scaled designs in the default report: the report's sweep, the one-clock plan, the iso-area
arithmetic per element product, the headline table and its finding, the Pareto costs and the
what-if verdict. Sweep rows are hand-made (no tools run); every expected figure is worked out here
by hand from those rows, never read back from the code under test."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis import findings, isoarea, oneclock, reportsweep
from analysis.config import FO4_PS_45NM, IsoAreaConfig
from analysis.section import ReportContext
from rtl.clock import ClockPoint

BOLD = re.compile(r"\*\*([-+]?\d[\d.]*(?:e[-+]?\d+)?)(x| dB| TOPS| GHz)?\*\*")


def _close(stated: float, exact: float) -> bool:
    """3 significant digits (whole numbers from 1000 up), as findings.fmt_figure writes them."""
    return abs(stated - exact) <= (max(0.5, 0.005 * abs(exact)) if abs(exact) >= 1000 else 0.005 * abs(exact))


# ----------------------------------------------------------------------------------------------
# The report's sweep
# ----------------------------------------------------------------------------------------------

def test_report_points_add_block_designs_at_their_block_dot_units():
    pts = reportsweep.report_points(quick=False)
    ids = [p.point_id for p in pts]
    # the scalar default sweep comes first, unchanged (6 formats x kulisch, fp32)
    assert ids[:12] == [p.point_id for p in reportsweep.default_spec(False).points()]
    block = [(p.in_fmt.name, p.acc.spec, p.unit.spec) for p in pts[12:]]
    # every block format's "mac" is its block dot unit of min(8, block) lanes (NVFP4: block 16 -> 8)
    assert block == [("mxfp8_e4m3", "float32", "bdot:8"), ("mxfp4", "float32", "bdot:8"),
                     ("nvfp4", "float32", "bdot:8"), ("mxint8", "float32", "bdot:8"),
                     ("shiftquant_int4", "kulisch:12", "bdot:8")]
    quick = [(p.in_fmt.name, p.unit.spec) for p in reportsweep.report_points(quick=True)]
    assert quick[-1] == ("mxfp4", "bdot:8") and len(quick) == 5


def test_report_sweep_runs_the_block_points_and_a_config_sweep_replaces_them(tmp_path, monkeypatch):
    seen = []

    def fake_run_sweep(points, evaluator, **kw):
        seen.append([p.point_id for p in points])
        return pd.DataFrame({"point_id": seen[-1], "cached": [False] * len(seen[-1])})
    monkeypatch.setattr(reportsweep, "run_sweep", fake_run_sweep)
    monkeypatch.setattr(reportsweep, "save_sweep", lambda *a, **k: None)
    reportsweep.forget_report_sweeps()
    ctx = ReportContext(outdir=tmp_path, cache_dir=tmp_path / "c", quick=True)
    reportsweep.report_sweep(ctx)
    assert seen[-1][-1] == "mxfp4/float32/bdot:8/p1/ge"
    from analysis.config import Config
    from analysis.design import SweepSpec
    cfg = Config(sweep=SweepSpec(formats=["int8"], accumulators=["kulisch"]))
    reportsweep.report_sweep(ReportContext(outdir=tmp_path / "b", cache_dir=tmp_path / "c", quick=True, config=cfg))
    assert seen[-1] == ["int8/kulisch:12/mac/p1/ge"]
    reportsweep.forget_report_sweeps()


# ----------------------------------------------------------------------------------------------
# One clock and iso-area, per element product
# ----------------------------------------------------------------------------------------------

TARGET = oneclock.ClockTarget(20.0, "FO4", "test target", "int8/kulisch:12")


def _block_row(fmt="mxfp4", acc="fp32", area=4000.0, fo4=100.0, **extra):
    from analysis.design import DesignPoint
    p = DesignPoint.make(fmt, acc)
    row = dict(p.as_dict(), point_id=p.point_id, status="ok", verified=True, area_ge=area, delay_fo4=fo4,
               sqnr_db=18.7, sqnr_t3_db=17.2, energy_pj=0.142)
    row.update(extra)
    return row


def test_block_at_clock_misses_a_faster_target_and_keeps_its_own_path():
    plan = oneclock.block_at_clock(pd.DataFrame([_block_row(fo4=100.0)]), TARGET)
    r = plan.iloc[0]
    # 100 FO4 > 20 FO4 and the unit has no pipeline registers: it runs at its own 100 FO4
    assert not bool(r["meets_clock"]) and r["clock_period_fo4"] == 100.0 and r["critical_path_fo4"] == 100.0
    assert r["limited_by"] == oneclock.BLOCK_LOOP and r["area_ge"] == 4000.0 and r["pipeline_area_ge"] == 0.0
    assert r["pipeline_stages"] == 1 and r["latency_cycles"] == 1 and r["loop_stages"] == 1
    assert "one rounding per block" in r["summation"]
    # a target it meets: it is clocked at the target, not at its own (shorter) path
    met = oneclock.block_at_clock(pd.DataFrame([_block_row(fo4=15.0)]), TARGET).iloc[0]
    assert bool(met["meets_clock"]) and met["clock_period_fo4"] == 20.0


def test_block_at_clock_synthesises_when_the_row_has_no_path(monkeypatch):
    calls = []

    def fake_delay(fmt, acc, unit, library, cache_dir):
        calls.append((fmt.name, acc.spec, unit.spec))
        return 55.0, 3000.0
    monkeypatch.setattr(oneclock, "_block_delay", fake_delay)
    r = oneclock.block_at_clock(pd.DataFrame([_block_row(fo4=float("nan"))]), TARGET).iloc[0]
    assert calls == [("mxfp4", "float32", "bdot:8")] and r["critical_path_fo4"] == 55.0 and r["area_ge"] == 3000.0


def test_isoarea_of_a_block_dot_unit_by_hand():
    """1e8 GE of 4000-GE bdot:8 units at 100 FO4: 25,000 units x 8 element products a cycle."""
    rows = pd.DataFrame([_block_row(area=4000.0, fo4=100.0),
                         dict(_block_row(), in_fmt="int8", in_fmt_spec="int8", acc="kulisch:12", unit="mac",
                              area_ge=1000.0, delay_fo4=20.0, energy_pj=0.36)])
    t = isoarea.isoarea_table(rows, budget_ge=1e8, fo4_ps=FO4_PS_45NM).set_index("in_fmt")
    b = t.loc["mxfp4"]
    clock_hz = 1 / (100 * FO4_PS_45NM * 1e-12)       # 617.3 MHz
    assert b["units"] == 25_000 and b["macs_per_cycle"] == 200_000
    assert b["area_per_product_ge"] == 500.0 and b["unit_area_ge"] == 4000.0
    assert b["peak_tops"] == pytest.approx(2 * 200_000 * clock_hz / 1e12)   # 246.9 TOPS
    assert b["tops_per_w"] == pytest.approx(2 / 0.142e-12 / 1e12)            # energy per element product
    s = t.loc["int8"]
    assert s["units"] == 100_000 and s["macs_per_cycle"] == 100_000 and s["area_per_product_ge"] == 1000.0
    assert s["peak_tops"] == pytest.approx(2 * 100_000 / (20 * FO4_PS_45NM * 1e-12) / 1e12)


def _sweep():
    scal = []
    for fmt, acc, area, q in (("int8", "kulisch:12", 1000.0, 41.0), ("float8_e4m3fn", "float32", 2400.0, 31.5)):
        scal.append({"point_id": f"{fmt}/{acc}/mac/p1/ge", "in_fmt": fmt, "in_fmt_spec": fmt, "acc": acc,
                     "unit": "mac", "pipeline_stages": 1, "library": "ge", "status": "ok", "verified": True,
                     "area_ge": area, "delay_fo4": 80.0, "sqnr_db": q, "sqnr_t3_db": 25.0, "energy_pj": 0.4,
                     "dot_rel_err": 1e-8})
    blk = [_block_row("mxfp4", "fp32", 4000.0, 100.0, sqnr_db=18.7, dot_rel_err=1e-8),
           _block_row("mxint8", "fp32", 8400.0, 150.0, sqnr_db=42.0, energy_pj=0.385, dot_rel_err=1e-8)]
    return pd.DataFrame(scal + blk)


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setattr(reportsweep, "report_sweep", lambda ctx, spec=None: _sweep())
    monkeypatch.setattr(isoarea, "h100_reference", lambda *a, **k: None)
    from analysis.sections import isoarea as sec
    sec._FRAMES.clear()
    return ReportContext(outdir=tmp_path, cache_dir=tmp_path / "c", quick=True)


def test_isoarea_section_puts_block_units_at_their_own_clock(ctx):
    """fake_depth_sweep (tests.analysis.conftest) sets the target: INT8/Kulisch at 20 FO4. The block
    units reach 100 and 150 FO4 (their sweep rows) and run there, said in the table and the intro."""
    from analysis.sections import isoarea as sec
    s = sec.build(ctx, IsoAreaConfig())
    t = s.tables[0].frame.set_index("in_fmt")
    for fmt, area, fo4 in (("mxfp4", 4000.0, 100.0), ("mxint8", 8400.0, 150.0)):
        r = t.loc[fmt]
        units = int(1e8 // area)
        assert not bool(r["meets_clock"]) and r["units"] == units
        assert r["clock_ghz"] == pytest.approx(1e3 / (fo4 * FO4_PS_45NM))
        assert r["peak_tops"] == pytest.approx(2 * units * 8 * 1e12 / (fo4 * FO4_PS_45NM) / 1e12)
        assert r["verified"] == "yes"  # the bench ran this very design (no deeper one)
    assert "2 of 4 designs are block dot units" in s.intro and "mxfp4/float32 (100 FO4)" in s.intro


def test_headline_table_and_block_finding_by_hand(ctx):
    from analysis import report
    from analysis.sections import findings as sec_findings
    from analysis.sections import isoarea as sec_isoarea
    secs = report.run_sections(ctx, ["findings", "isoarea"],
                               {"findings": sec_findings.build, "isoarea": sec_isoarea.build})
    f = secs[0]
    head = f.tables[0].frame.set_index("design")
    # mxfp4: 25,000 units x 8 products at 100 FO4; INT8/Kulisch (1000 GE, target 20 FO4 at p1 of the
    # fake depth sweep: area 8*8*10 + 112 = 752 GE) -> 132,978 units at 20 FO4
    mx_tops = 2 * 25_000 * 8 / (100 * FO4_PS_45NM * 1e-12) / 1e12
    int8_tops = 2 * int(1e8 // 752) / (20 * FO4_PS_45NM * 1e-12) / 1e12
    assert head.loc["mxfp4/float32", "unit"] == "bdot:8"
    assert head.loc["mxfp4/float32", "peak_tops"] == pytest.approx(mx_tops)
    assert head.loc["mxfp4/float32", "area_per_product_ge"] == 500.0
    assert head.loc["mxfp4/float32", "clock"] == "own (misses common)"
    assert head.loc["int8/kulisch:12", "clock"] == "common"
    # mxint8 (42 dB) beats INT8/Kulisch (41 dB) on SQNR, so it is non-dominated despite its throughput
    assert bool(head.loc["mxint8/float32", "pareto"]) and bool(head.loc["int8/kulisch:12", "pareto"])
    m = re.search(r"Block-scaled formats in the same budget.*", f.intro)
    assert m, f.intro
    stated = [float(x.group(1)) for x in BOLD.finditer(m.group(0))]
    # mxfp4: TOPS, ratio, SQNR, own clock; then mxint8 the same four
    mxint8_tops = 2 * int(1e8 // 8400) * 8 / (150 * FO4_PS_45NM * 1e-12) / 1e12
    expect = [mx_tops, mx_tops / int8_tops, 18.7, 1e3 / (100 * FO4_PS_45NM),
              mxint8_tops, mxint8_tops / int8_tops, 42.0, 1e3 / (150 * FO4_PS_45NM)]
    assert len(stated) == len(expect) and all(_close(a, b) for a, b in zip(stated, expect))


def test_block_finding_needs_block_rows():
    t = pd.DataFrame({"in_fmt": ["int8"], "acc": ["kulisch:12"], "unit": ["mac"], "peak_tops": [1.0]})
    assert findings.block_formats_at_isoarea(t, None) is None
    assert findings.block_formats_at_isoarea(pd.DataFrame(), None) is None


def test_pareto_costs_are_per_element_product(ctx):
    from analysis.sections import pareto as sec
    s = sec.build(ctx)
    first = s.tables[0]  # sqnr_db vs area_per_product_ge
    assert "area_per_product_ge" in first.caption
    fr = first.frame.set_index("in_fmt")
    # float32 group: mxfp4 500 GE/product 18.7 dB, mxint8 1050 GE 42 dB, FP8-E4M3 2400 GE 31.5 dB:
    # FP8-E4M3 is dominated by mxint8 (cheaper and more accurate); mxfp4 and mxint8 are on the front
    assert fr.loc["mxfp4", "area_per_product_ge"] == 500.0 and fr.loc["mxint8", "area_per_product_ge"] == 1050.0
    f32 = first.frame[first.frame["acc"] == "float32"]
    assert set(f32["in_fmt"]) == {"mxfp4", "mxint8"}


def test_verdict_of_a_block_format_per_product_and_own_clock():
    table = pd.DataFrame({
        "in_fmt": ["int8", "float8_e4m3fn", "mxfp4"], "in_fmt_spec": ["int8", "float8_e4m3fn", "mxfp4"],
        "acc": ["kulisch:12", "float32", "float32"], "unit": ["mac", "mac", "bdot:8"],
        "peak_tops": [137.0, 40.0, 61.5], "unit_area_ge": [1163.0, 2400.0, 4030.0],
        "area_per_product_ge": [1163.0, 2400.0, 503.75], "clock_ghz": [0.794, 0.794, 0.155],
        "meets_clock": [True, True, False]})
    sweep = pd.DataFrame({"in_fmt": ["int8", "float8_e4m3fn", "mxfp4"], "in_fmt_spec": ["int8", "float8_e4m3fn", "mxfp4"],
                          "acc": ["kulisch:12", "float32", "float32"], "sqnr_db": [41.0, 31.5, 18.7],
                          "sqnr_t3_db": [29.0, 31.8, 17.2]})
    out = findings.verdict(table, sweep, "mxfp4", "fp32", TARGET)
    assert len(out) == 2
    i8, f8 = out
    # vs INT8/Kulisch: 61.5 / 137 = 0.449x -> dearer; area per product 503.75 / 1163 = 0.433x; clock 0.195x
    assert "**dearer**" in i8.text and "misses it and runs at its own" in i8.text and "area per product" in i8.text
    s = [float(x.group(1)) for x in BOLD.finditer(i8.text)]
    assert _close(s[0], 61.5 / 137) and _close(s[1], 503.75 / 1163) and _close(s[2], 0.155 / 0.794)
    # vs FP8-E4M3/FP32: 61.5 / 40 = 1.54x -> cheaper, but less accurate on both distributions
    assert "**cheaper**" in f8.text and f8.text.count("**less accurate**") == 2
    s = [float(x.group(1)) for x in BOLD.finditer(f8.text)]
    assert _close(s[0], 61.5 / 40) and _close(s[1], 503.75 / 2400)


def test_accelerator_peak_counts_a_block_units_products(monkeypatch):
    from analysis import accelerator
    if not accelerator.available():
        pytest.skip(accelerator.missing_reason())
    base = {"in_fmt": "mxfp4", "in_fmt_spec": "mxfp4", "acc": "float32", "unit_area_ge": 4000.0, "clock_ghz": 0.5}
    t = pd.DataFrame([dict(base, unit="bdot:8"), dict(base, unit="mac")])
    acc = accelerator.accelerator_table(t, pd.DataFrame(), 1e8, 3350.0)
    n = len(acc) // 2  # one row per workload, the bdot:8 design's rows first
    assert (acc["units"].iloc[:n].to_numpy() == acc["units"].iloc[n:].to_numpy()).all()
    # same array of units, same clock: a bdot:8 unit does 8 element products a cycle
    assert acc["peak_tops"].iloc[0] == pytest.approx(8 * acc["peak_tops"].iloc[n])


def test_whatif_of_a_block_format_ends_with_a_verdict(tmp_path, monkeypatch):
    """The what-if of MXFP4 with the fake evaluator (no tools): its block dot unit at 100 FO4 and
    4000 GE (stand-in synthesis), INT8/Kulisch at the fake depth sweep's 20 FO4 and 752 GE."""
    from analysis.whatif import run_whatif
    from tests.analysis.fakes import FakeEvaluator
    monkeypatch.setattr(oneclock, "_block_delay", lambda fmt, acc, unit, library, cache_dir: (100.0, 4000.0))
    res = run_whatif("mxfp4", "fp32", out=tmp_path / "w", cache_dir=tmp_path / "c", evaluator=FakeEvaluator(),
                     progress=False, jobs=1)
    secs = {s.key: s for s in res["sections"]}
    assert [s.key for s in res["sections"]][-1] == "verdict" and not secs["verdict"].failed
    # products per cycle: 25,000 units x 8 against 132,978 MACs; clock 20 / 100 FO4
    un = (int(1e8 // 4000) * 8) / int(1e8 // 752)
    ck = 20.0 / 100.0
    m = re.search(r"Peak throughput in the same silicon: \*\*([\d.]+)x\*\* INT8/Kulisch's = \*\*([\d.]+)x\*\* the "
                  r"products per cycle \(area per product\) times \*\*([\d.]+)x\*\* the clock", secs["findings"].intro)
    assert m and _close(float(m.group(1)), un * ck) and _close(float(m.group(2)), un) and _close(float(m.group(3)), ck)
    assert "limited by its block dot unit" in secs["findings"].intro
    v = secs["verdict"].intro
    assert "Against INT8/Kulisch" in v and "misses it and runs at its own" in v
    assert ("**dearer**" in v.split("Against FP8")[0]) == (un * ck < 0.99)
