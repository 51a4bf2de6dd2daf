"""The arrays report section: area per MAC by array size, the fitted law and its held-out error."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import arrays
from analysis.section import ReportContext
from analysis.sections import arrays as sec


def _ctx(tmp_path, quick=True):
    return ReportContext(outdir=tmp_path / "out", cache_dir=tmp_path / "cache", quick=quick)


@pytest.mark.synth
@pytest.mark.slow
def test_quick_section_measures_sizes_and_states_held_out_error(tmp_path):
    s = sec.build(_ctx(tmp_path))
    assert s.failed is None and s.key == "arrays"
    sizes, law = s.tables[0].frame, s.tables[1].frame
    assert set(sizes["size"]) == {"1x1", "1x2", "1x3", "2x2"}
    mac = sizes[sizes["size"] == "1x1"]["area_per_mac_ge"].iloc[0]
    # Every array carries skew, forwarding and drain logic on top of its MACs.
    assert (sizes["area_per_mac_ge"] >= mac).all()
    assert (sizes[sizes["size"] != "1x1"]["area_per_mac_ge"] > mac).all()
    # The held-out error, recomputed from the size table's own columns (law prediction vs measured).
    h = sizes[sizes["role"] == "held out"]
    assert list(h["size"]) == ["2x2"]
    pred, meas = h["law_area_ge"].iloc[0], h["area_ge"].iloc[0]
    assert law["held_out_error_pct"].iloc[0] == pytest.approx(100 * (pred - meas) / meas, abs=2e-3)
    # ...and from the law's coefficients: a*4 + b*2 + c at 2x2.
    r = law.iloc[0]
    assert pred == pytest.approx(4 * r["a_per_pe_ge"] + 2 * r["b_per_skew_stage_ge"] + r["c_fixed_ge"],
                                 abs=0.02)
    assert "our synthesis" in s.tables[0].source and "Yosys" in s.tables[0].source
    assert "least squares" in s.tables[1].source
    assert "EXTRAPOLATION" in s.tables[1].caption
    assert s.figures and s.figures[0].path.exists()
    assert "held out on 2x2" in s.notes


def _synthetic(a, b, c, mac_area):
    """array_area stand-in whose area follows the law exactly (1x1 = the MAC itself)."""
    def fake(in_fmt, acc, rows, cols, library="ge", cache_dir=None):
        area = a * rows * cols + b * (rows * (rows - 1) + cols * (cols - 1)) / 2 + c
        mac = area if rows == cols == 1 else mac_area
        return {"in_fmt": in_fmt, "acc": acc, "rows": rows, "cols": cols, "macs": rows * cols,
                "area_ge": area, "area_per_mac_ge": area / (rows * cols), "mac_area_ge": mac,
                "area_per_mac_vs_mac": area / (rows * cols) / mac,
                "area_source": "synthetic law (test)"}
    return fake


@pytest.mark.parametrize("quick", [True, False])
def test_section_recovers_an_exact_law(tmp_path, monkeypatch, quick):
    a, b, c = 1100.0, 15.5, 40.0
    monkeypatch.setattr(arrays, "array_area", _synthetic(a, b, c, a + c))
    monkeypatch.setattr(arrays, "array_energy", lambda f, acc, r, cc, **kw: {
        "pj_per_mac": 0.1 * (1 + 0.01 * r * cc), "energy_source": "synthetic energy (test)"})
    s = sec.build(_ctx(tmp_path, quick))
    law = s.tables[1].frame
    assert len(law) == (1 if quick else len(sec.DEFAULT_PLAN["designs"]))
    for _, r in law.iterrows():
        assert r["a_per_pe_ge"] == pytest.approx(a, abs=1e-3)
        assert r["b_per_skew_stage_ge"] == pytest.approx(b, abs=1e-3)
        assert r["c_fixed_ge"] == pytest.approx(c, abs=1e-3)
        assert r["held_out_error_pct"] == pytest.approx(0, abs=1e-6)
        # Extrapolated per MAC at 64x64, derived here from the law itself.
        want = (a * 64 * 64 + b * 64 * 63 + c) / (64 * 64)
        assert r["extrapolated_per_mac_64x64_ge"] == pytest.approx(want, abs=0.01)
    sizes = s.tables[0].frame
    assert np.allclose(sizes["law_error_pct"], 0, atol=1e-6)
    if quick:
        assert "pj_per_mac" not in sizes
    else:
        e = sizes.dropna(subset=["pj_per_mac"])
        assert set(e["size"]) == {"1x1", "2x2"}
        two = e[e["size"] == "2x2"]["energy_per_mac_vs_mac"]
        assert np.allclose(two, (1 + 0.04) / (1 + 0.01), atol=1e-4)
        assert "synthetic energy (test)" in s.tables[0].source


def test_section_keeps_area_when_energy_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(arrays, "array_area", _synthetic(1000.0, 10.0, 30.0, 1030.0))

    def boom(*args, **kw):
        raise RuntimeError("verilator missing")
    monkeypatch.setattr(arrays, "array_energy", boom)
    s = sec.build(_ctx(tmp_path, quick=False))
    assert "pj_per_mac" not in s.tables[0].frame
    assert "verilator missing" in s.tables[-1].frame["energy_error"].iloc[0]


def test_default_plan_has_int4_energy_and_large_plan_holds_out_8x8(monkeypatch):
    monkeypatch.delenv(sec.LARGE_ENV, raising=False)
    d = sec.plan(quick=False)
    assert ("int4", "kulisch") in d["designs"] and (1, 1) in d["energy_sizes"]
    assert d == sec.DEFAULT_PLAN
    monkeypatch.setenv(sec.LARGE_ENV, "1")
    big = sec.plan(quick=False)
    assert big == sec.LARGE_PLAN and big["holdout"] == (8, 8) and (8, 8) in big["energy_sizes"]
    assert sec.plan(quick=True) == sec.QUICK_PLAN          # quick stays quick
    monkeypatch.setenv(sec.LARGE_ENV, "0")
    assert sec.plan(quick=False) == sec.DEFAULT_PLAN


def test_report_option_asks_for_the_large_arrays_and_restores_the_environment(monkeypatch, tmp_path):
    import argparse
    import os

    from analysis import report
    from analysis.commands import report as cmd
    seen = {}

    def fake_build_report(out, **kw):
        seen["env"] = os.environ.get(sec.LARGE_ENV)
        return []
    monkeypatch.setattr(report, "build_report", fake_build_report)
    monkeypatch.delenv(sec.LARGE_ENV, raising=False)
    p = argparse.ArgumentParser()
    cmd.add_arguments(p)
    args = p.parse_args(["--out", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c"),
                         "--only", "arrays", "--arrays-large"])
    assert cmd.run(args) == 0
    assert seen["env"] == "1" and sec.LARGE_ENV not in os.environ
    args = p.parse_args(["--out", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c"), "--only", "arrays"])
    cmd.run(args)
    assert seen["env"] is None


def test_large_plan_fits_and_checks_an_exact_energy_law(tmp_path, monkeypatch):
    """Energy per cycle that follows the law exactly: the section recovers its coefficients, a
    zero held-out error on 8x8, and the per-MAC extrapolation computed here from them."""
    ae, be, ce = 0.36, 0.02, 0.05
    monkeypatch.setattr(arrays, "array_area", _synthetic(1100.0, 15.5, 40.0, 1140.0))

    def energy(f, acc, r, c, **kw):
        per_cycle = ae * r * c + be * (r * (r - 1) + c * (c - 1)) / 2 + ce
        return {"pj_per_mac": per_cycle / (r * c), "energy_source": "synthetic energy (test)"}
    monkeypatch.setattr(arrays, "array_energy", energy)
    monkeypatch.setenv(sec.LARGE_ENV, "1")
    s = sec.build(_ctx(tmp_path, quick=False))
    assert s.failed is None
    el = s.tables[2].frame
    assert "energy law" in s.tables[2].caption and len(el) == len(sec.LARGE_PLAN["designs"])
    mac = ae + ce                                             # the 1x1 energy per MAC
    for _, r in el.iterrows():
        assert (r["a_per_pe_pj"], r["b_per_skew_stage_pj"], r["c_fixed_pj"]) == pytest.approx((ae, be, ce), abs=1e-5)
        assert r["held_out"] == "8x8" and r["held_out_error_pct"] == pytest.approx(0, abs=1e-6)
        want = (ae * 128 * 128 + be * 128 * 127 + ce) / (128 * 128)
        assert r["extrapolated_pj_per_mac_128x128"] == pytest.approx(want, abs=1e-4)
        assert r["extrapolated_128x128_vs_mac"] == pytest.approx(want / mac, abs=1e-4)
    assert "8x8" in set(s.tables[0].frame["size"])
    assert "Energy law, held out on 8x8" in s.notes
