"""The whole accelerator (array + buffer in one budget): needs hwmodel.memory (skipped without it).
Expected values derived here from the inputs: units after the buffer, the square array, and the
roofline time and delivered ops of a workload."""

from __future__ import annotations

import math

import pandas as pd
import pytest

memory = pytest.importorskip("hwmodel.memory")

from analysis import accelerator  # noqa: E402
from analysis.isoarea import WORKLOADS, workload_time_s  # noqa: E402

TABLE = pd.DataFrame({"in_fmt": ["int8", "float8_e4m3fn"], "in_fmt_spec": ["int8", "float8_e4m3fn"],
                      "acc": ["kulisch:12", "float32"], "unit_area_ge": [1163.0, 5291.0],
                      "clock_ghz": [0.794, 0.794]})
SWEEP = TABLE[["in_fmt", "in_fmt_spec", "acc"]].assign(energy_pj=[0.3, 0.6])


def test_units_after_buffer_and_times():
    a = accelerator.accelerator_table(TABLE, SWEEP, 1e8, 3350.0)
    buf_ge = float(memory.sram_area_um2(512.0, 1 << 20)) / 0.798
    r = a[(a["in_fmt"] == "int8")].iloc[0]
    units = int((1e8 - buf_ge) // 1163.0)
    rows = math.isqrt(units)
    assert r["units"] == rows * (units // rows) and r["buffer_ge"] == pytest.approx(buf_ge)
    w = WORKLOADS[0]
    peak = 2.0 * r["units"] * 0.794e9
    t = workload_time_s(w, peak, 3350e9, 1.0)
    assert r["time_per_token_ms"] == pytest.approx(1e3 * t / w.tokens)
    assert r["delivered_tops"] <= r["peak_tops"] * (1 + 1e-9)
    # decode moves every weight per token: memory-bound, DRAM dominates its energy
    d = a[(a["in_fmt"] == "int8") & (a["phase"] == "decode")]
    assert (d["dram_share"] > 0.5).all() and (d["delivered_tops"] < 0.05 * d["peak_tops"]).all()
    win = accelerator.winners(a)
    assert len(win) == len(WORKLOADS)


def test_budget_smaller_than_the_buffer():
    from hwmodel.errors import UnsupportedConfig
    with pytest.raises(UnsupportedConfig, match="must hold the"):
        accelerator.accelerator_table(TABLE, SWEEP, 1e3, 3350.0)
