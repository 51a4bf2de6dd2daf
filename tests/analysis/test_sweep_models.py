"""Iso-area and Pareto models on small hand-made tables whose answers are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import isoarea, pareto
from analysis.isoarea import Workload
from hwmodel.errors import DataError, UnsupportedConfig


def _points():
    return pd.DataFrame({
        "in_fmt": ["int8", "float8_e4m3fn", "int4", "float8_e5m2"],
        "acc": ["kulisch", "fp32", "kulisch", "fp32"],
        "unit": ["mac", "mac", "dot4", "mac"],
        "pipeline_stages": [1, 1, 1, 1],
        "library": ["ge"] * 4,
        "status": ["ok", "ok", "ok", "failed"],
        "area_ge": [1000.0, 2500.0, 2000.0, float("nan")],
        "delay_ns": [1.0, 2.0, 0.5, 0.1],
        "energy_pj": [0.5, 2.0, float("nan"), 0.1],
        "sqnr_db": [40.0, 31.0, 20.0, 99.0],
    })


def test_isoarea_counts_units_clock_and_peak():
    t = isoarea.isoarea_table(_points(), budget_ge=10_000).set_index("in_fmt")
    assert "float8_e5m2" not in t.index  # points without an area are not used
    # int8: 10000 // 1000 = 10 units, 1 GHz, 2 ops/MAC -> 20 GOPS = 0.02 TOPS
    assert t.loc["int8", "units"] == 10 and t.loc["int8", "clock_ghz"] == pytest.approx(1.0)
    assert t.loc["int8", "peak_tops"] == pytest.approx(2 * 10 * 1e9 / 1e12)
    # 2 ops per 0.5 pJ = 4e12 ops/J = 4 TOPS/W; power = 0.02e12 / 4e12 = 5 mW
    assert t.loc["int8", "tops_per_w"] == pytest.approx(4.0)
    assert t.loc["int8", "power_w"] == pytest.approx(0.005)
    # e4m3: 4 units at 0.5 GHz
    assert t.loc["float8_e4m3fn", "units"] == 4
    assert t.loc["float8_e4m3fn", "peak_tops"] == pytest.approx(2 * 4 * 0.5e9 / 1e12)
    # int4 dot4: 5 units x 4 MACs at 2 GHz, no energy -> ops/J unknown
    assert t.loc["int4", "macs_per_cycle"] == 20
    assert t.loc["int4", "peak_tops"] == pytest.approx(2 * 20 * 2e9 / 1e12)
    assert math.isnan(t.loc["int4", "tops_per_w"])


def test_isoarea_clock_cap():
    t = isoarea.isoarea_table(_points(), budget_ge=10_000, clock_ghz_max=0.8).set_index("in_fmt")
    assert t.loc["int8", "clock_ghz"] == pytest.approx(0.8)
    assert t.loc["float8_e4m3fn", "clock_ghz"] == pytest.approx(0.5)


def test_isoarea_drops_designs_that_do_not_fit():
    t = isoarea.isoarea_table(_points(), budget_ge=1500)
    assert list(t.in_fmt) == ["int8"]


@pytest.mark.parametrize("kw,msg", [
    ({"budget_ge": 0}, "budget_ge must be a positive finite number, not 0"),
    ({"budget_ge": -5}, "budget_ge must be a positive finite number, not -5"),
    ({"budget_ge": 999}, "budget_ge must hold at least one unit (1000 gate equivalents"),
    ({}, "give exactly one budget"),
    ({"budget_ge": 1e4, "budget_mm2": 1.0}, "give exactly one budget"),
    ({"budget_ge": 1e4, "clock_ghz_max": 0}, "clock_ghz_max must be a positive number, not 0"),
])
def test_impossible_budget(kw, msg):
    with pytest.raises(UnsupportedConfig) as e:
        isoarea.isoarea_table(_points(), **kw)
    assert msg in str(e.value)


def test_mm2_budget_needs_liberty_area():
    with pytest.raises(DataError, match="mm.2 budgets need synthesis with a Liberty"):
        isoarea.isoarea_table(_points(), budget_mm2=1.0)
    p = _points().assign(area_um2=[100.0, 250.0, 200.0, float("nan")])
    t = isoarea.isoarea_table(p, budget_mm2=0.001).set_index("in_fmt")  # 1000 um^2
    assert t.loc["int8", "units"] == 10


def test_gemm_roofline_by_hand():
    # 1024^3 GEMM at 1 TOPS: 2*2^30 / 1e12 s compute; 1 B inputs, 2 B output: 4 MiB at 1 GB/s.
    compute = 2 * 1024 ** 3 / 1e12
    memory = (2 * 1024 * 1024 * 1 + 1024 * 1024 * 2) / 1e9
    assert isoarea.gemm_time_s(1024, 1024, 1024, 1e12, 1e9, 1.0) == pytest.approx(max(compute, memory))
    assert isoarea.gemm_time_s(1024, 1024, 1024, 1e12, 1e15, 1.0) == pytest.approx(compute)


def test_decode_is_memory_bound_and_smaller_formats_help():
    w = Workload("d", "llama-2-7b", "decode", 1, 2048)
    t8 = isoarea.workload_time_s(w, 1e15, 1e12, 1.0)
    t4 = isoarea.workload_time_s(w, 1e15, 1e12, 0.5)
    # Decode is memory bound: 32 layers x (weights 3h^2 + h^2 + 2*f*h + f*h at 1 byte each,
    # plus the 16-bit KV cache 2 x context x h x 2 bytes); the small operators add < 1%.
    h, f = 4096, 11008
    weights = 32 * (4 * h * h + 3 * f * h)
    kv = 32 * 2 * 2048 * h * 2
    assert t8 == pytest.approx((weights + kv) / 1e12, rel=0.01)
    assert t4 < 0.6 * t8
    with pytest.raises(UnsupportedConfig, match="bandwidth_gb_s must be a positive finite number"):
        isoarea.workload_table(isoarea.isoarea_table(_points(), budget_ge=1e4), 0)


def test_non_dominated_by_hand():
    df = pd.DataFrame({"cost": [1, 2, 3, 2, 5], "q": [10, 20, 15, 20, 30]})
    on = pareto.non_dominated(df, [("cost", "min"), ("q", "max")])
    # (3,15) is beaten by (2,20); the two (2,20) tie and are both on the front.
    assert list(on) == [True, True, False, True, True]


def test_fronts_per_accumulator():
    f = pareto.fronts(_points(), ("sqnr_db", "max"), "area_ge", by="acc")
    assert "float8_e5m2" not in set(f.in_fmt)  # no area
    got = {(r.in_fmt, r.pareto, r.pareto_all) for r in f.itertuples()}
    # kulisch group: int8 (1000, 40) beats int4 (2000, 20); overall int8 beats e4m3 too.
    assert got == {("int8", True, True), ("int4", False, False), ("float8_e4m3fn", True, False)}


def test_pareto_errors():
    with pytest.raises(UnsupportedConfig, match="sense must be 'min' or 'max', not 'up'"):
        pareto.non_dominated(_points(), [("area_ge", "up")])
    with pytest.raises(DataError, match="not 'nope'"):
        pareto.non_dominated(_points(), [("nope", "min")])


def test_isoarea_clock_from_fo4():
    p = _points().drop(columns=["delay_ns"]).assign(delay_fo4=[50.0, 100.0, 25.0, 1.0])
    t = isoarea.isoarea_table(p, budget_ge=10_000, fo4_ps=20.0).set_index("in_fmt")
    # 50 FO4 x 20 ps = 1 ns -> 1 GHz
    assert t.loc["int8", "clock_ghz"] == pytest.approx(1.0)
    with pytest.raises(UnsupportedConfig, match="fo4_ps must be a positive finite number, not 0"):
        isoarea.isoarea_table(p, budget_ge=10_000, fo4_ps=0.0)
