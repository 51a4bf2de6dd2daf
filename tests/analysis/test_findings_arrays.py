"""The arrays finding: array overhead per MAC from the arrays section's frames, each figure derived
here from the synthetic area and energy the stand-ins return (no tools run)."""

from __future__ import annotations

import re

import pytest

from analysis import arrays, findings
from analysis.section import ReportContext
from analysis.sections import arrays as sec

A, B, C = 1100.0, 15.5, 40.0        # GE: per PE, per skew stage, fixed
DELTA = 200.0                       # GE added to the held-out size only: the law must miss it
AE, BE, CE = 0.36, 0.02, 0.05       # pJ per cycle: per PE, per skew stage, fixed
DELTA_E = 0.8                       # pJ per cycle added at 8x8 only (the large plan's held-out size)


def _skew(r, c):
    return (r * (r - 1) + c * (c - 1)) / 2


def _area(r, c, holdout):
    return A * r * c + B * _skew(r, c) + C + (DELTA if (r, c) == holdout else 0.0)


def _energy_per_cycle(r, c):
    return AE * r * c + BE * _skew(r, c) + CE + (DELTA_E if (r, c) == (8, 8) else 0.0)


@pytest.fixture
def stand_ins(monkeypatch):
    def area(in_fmt, acc, rows, cols, library="ge", cache_dir=None):
        holdout = sec.plan(False)["holdout"]
        a = _area(rows, cols, holdout)
        mac = _area(1, 1, holdout)
        return {"in_fmt": in_fmt, "acc": acc, "rows": rows, "cols": cols, "macs": rows * cols,
                "area_ge": a, "area_per_mac_ge": a / (rows * cols), "mac_area_ge": mac,
                "area_per_mac_vs_mac": a / (rows * cols) / mac, "area_source": "synthetic (test)"}

    def energy(in_fmt, acc, r, c, **kw):
        return {"pj_per_mac": _energy_per_cycle(r, c) / (r * c), "energy_source": "synthetic (test)"}
    monkeypatch.setattr(arrays, "array_area", area)
    monkeypatch.setattr(arrays, "array_energy", energy)


def _bold(text):
    return [float(x.rstrip("x%").strip()) for x in re.findall(r"\*\*([^*]+)\*\*", text)]


def _ctx(tmp_path):
    return ReportContext(outdir=tmp_path / "out", cache_dir=tmp_path / "cache", quick=False)


def test_default_plan_finding_states_overhead_and_extrapolation(tmp_path, monkeypatch, stand_ins):
    monkeypatch.delenv(sec.LARGE_ENV, raising=False)
    ctx = _ctx(tmp_path)
    assert sec.frames(ctx, compute=False) is None          # a reader never starts the measurement
    fr = sec.frames(ctx)
    assert sec.frames(ctx, compute=False) is fr            # ...and reads what the section computed
    out = findings.array_overhead(fr)
    assert len(out) == len(sec.DEFAULT_PLAN["designs"])
    mac = A + C
    held = A * 16 + B * 12 + C                              # the law at 4x4 (fitted on exact sizes)
    want = [(held + DELTA) / 16 / mac,                      # area per MAC at 4x4 vs the MAC
            (4 * AE + 2 * BE + CE) / 4 / (AE + CE),         # energy per MAC at 2x2 vs the MAC
            100 * (held - (held + DELTA)) / (held + DELTA),  # held-out error, %
            (A * 128 * 128 + B * 128 * 127 + C) / (128 * 128) / mac]
    for f in out:
        assert [v for _, v in f.figures] == pytest.approx(want, abs=2e-3)
        # the sentence shows the same figures, to 3 significant digits
        assert _bold(f.text) == pytest.approx(want, rel=6e-3)
        assert "4x4 (the largest synthesised)" in f.text and "2x2 (the largest simulated)" in f.text
        assert "energy law" not in f.text                   # two energy sizes fit no energy law
    assert out[0].text.startswith("int8 -> kulisch array")


def test_large_plan_finding_adds_the_energy_law(tmp_path, monkeypatch, stand_ins):
    monkeypatch.setenv(sec.LARGE_ENV, "1")
    fr = sec.frames(_ctx(tmp_path))
    out = findings.array_overhead(fr)
    assert len(out) == len(sec.LARGE_PLAN["designs"])
    mac_e = AE + CE
    law8 = AE * 64 + BE * 56 + CE                           # the energy law at 8x8, per cycle
    meas8 = law8 + DELTA_E
    want_e = [(meas8 / 64) / mac_e,                          # energy per MAC at 8x8 vs the MAC
              100 * (law8 - meas8) / meas8,
              (AE * 128 * 128 + BE * 128 * 127 + CE) / (128 * 128) / mac_e]
    for f in out:
        vals = [v for _, v in f.figures]
        assert len(vals) == 6
        assert [vals[1], vals[4], vals[5]] == pytest.approx(want_e, abs=2e-3)
        assert "held out on 8x8" in f.text and "the energy law" in f.text
        assert _bold(f.text) == pytest.approx(vals, rel=6e-3, abs=1e-3)


def test_no_arrays_frames_no_finding():
    assert findings.array_overhead(None) == []
    assert findings.array_overhead({}) == []
