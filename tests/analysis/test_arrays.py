"""analysis.arrays: the area law (fit, held-out check, extrapolation), size limits, and (synth) the
array's area per MAC against the single MAC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import arrays
from hwmodel.errors import UnsupportedConfig


def _law_frame(a=1000.0, b=20.0, c=50.0, sizes=(1, 2, 4, 8), noise=0.0):
    rng = np.random.default_rng(0)
    rows = []
    for s in sizes:
        area = a * s * s + b * s * (s - 1) + c          # (R(R-1) + C(C-1))/2 with R = C = s
        rows.append({"in_fmt": "int8", "acc": "kulisch", "rows": s, "cols": s,
                     "area_ge": area * (1 + noise * rng.standard_normal()), "mac_area_ge": a + c})
    return pd.DataFrame(rows)


def test_law_recovers_known_coefficients_and_predicts_the_holdout():
    law = arrays.fit_area_law(_law_frame(), holdout=(8, 8))
    assert (law.a, law.b, law.c) == pytest.approx((1000.0, 20.0, 50.0))
    assert law.holdout_error == pytest.approx(0.0, abs=1e-9)
    # extrapolation by hand: 64x64 = 1000*4096 + 20*64*63 + 50
    assert law.predict(64, 64) == pytest.approx(1000 * 4096 + 20 * 64 * 63 + 50)
    assert law.per_mac(128, 128) == pytest.approx((1000 * 128 ** 2 + 20 * 128 * 127 + 50) / 128 ** 2)
    # non-square: the skew term counts both triangles
    assert law.predict(4, 8) == pytest.approx(1000 * 32 + 20 * (4 * 3 + 8 * 7) / 2 + 50)


def test_law_reports_the_holdout_error_of_a_wrong_model():
    df = _law_frame()
    df.loc[df["rows"] == 8, "area_ge"] *= 1.10               # the held-out point 10% off the law
    law = arrays.fit_area_law(df, holdout=(8, 8))
    assert law.holdout_error == pytest.approx(1 / 1.10 - 1, rel=1e-6)


def test_law_needs_three_fit_sizes_and_a_measured_holdout():
    with pytest.raises(UnsupportedConfig, match="at least 3"):
        arrays.fit_area_law(_law_frame(sizes=(1, 2, 4)), holdout=(4, 4))
    with pytest.raises(UnsupportedConfig, match="held-out size"):
        arrays.fit_area_law(_law_frame(), holdout=(16, 16))


def test_law_table_holds_out_the_largest():
    t = arrays.law_table(_law_frame(noise=0.0), extrapolate=(64,))
    assert t["holdout"].tolist() == ["8x8"]
    assert t["per_mac_64x64_vs_mac"].iloc[0] == pytest.approx(
        (1000 * 4096 + 20 * 64 * 63 + 50) / 4096 / 1050)


def test_energy_law_fits_energy_per_cycle():
    # pJ per MAC that the law generates exactly: (0.4*s*s + 0.03*s*(s-1) - 0.02) / (s*s)
    df = pd.DataFrame([{"rows": s, "cols": s, "pj_per_mac": (0.4 * s * s + 0.03 * s * (s - 1) - 0.02) / (s * s)}
                       for s in (1, 2, 4, 8)] + [{"rows": 16, "cols": 16, "pj_per_mac": np.nan}])
    law = arrays.fit_energy_law(df, holdout=(8, 8))
    assert (law.a, law.b, law.c) == pytest.approx((0.4, 0.03, -0.02))
    assert law.holdout_error == pytest.approx(0.0, abs=1e-9)
    assert law.per_mac(64, 64) == pytest.approx(0.4 + 0.03 * 63 / 64 - 0.02 / 4096)


@pytest.mark.parametrize("r, c", [(0, 4), (4, 0), (17, 17), (32, 32), (2.0, 2), (True, 2)])
def test_sizes_beyond_the_flow_are_refused(r, c):
    with pytest.raises(UnsupportedConfig, match="must be an int in 1..16"):
        arrays.check_size(r, c)


def test_pack_puts_lane_i_in_bits_i():
    codes = np.array([[0x12, 0x34, 0xFF], [0, 1, 2]])
    assert arrays._pack(codes, 8).tolist() == [0xFF3412, 0x020100]


def test_pack_wider_than_64_bits_gives_little_endian_words():
    # 9 lanes of 8 bits = 72 bits: lane 8 lands in bits 64..71, the second word's low byte;
    # 5 lanes of 20 bits = 100 bits: lane 3 straddles the words (bits 60..79).
    codes = np.array([list(range(1, 10))])
    value = sum(v << (8 * i) for i, v in enumerate(range(1, 10)))
    assert arrays._pack(codes, 8).tolist() == [[value & (2**64 - 1), value >> 64]]
    codes = np.array([[0xABCDE, 0x12345, 0xFFFFF, 0x54321, 0x00F0F]])
    value = sum(int(v) << (20 * i) for i, v in enumerate(codes[0]))
    assert arrays._pack(codes, 20).tolist() == [[value & (2**64 - 1), value >> 64]]


@pytest.mark.synth
def test_two_by_two_costs_at_least_four_macs_plus_its_skew_registers():
    a = arrays.array_area("int8", "kulisch", 2, 2)
    m = arrays.array_area("int8", "kulisch", 1, 1)
    assert a["macs"] == 4 and m["area_per_mac_vs_mac"] == 1.0
    # beyond 4 PEs the generator adds registers that a systolic array cannot do without: A's
    # operand forwarded east by PEs (0,0) and (1,0), B's south by (0,0) and (0,1): 4 x 8 bits,
    # plus the skew of row/column 1 (Yosys may merge the 1-bit valid/clear copies)
    from rtl.synth import cell_table
    t = cell_table()
    dff = float(t.loc[t["cell"] == "DFF", "area_ge"].iloc[0])
    assert (a["seq_area_ge"] - 4 * m["seq_area_ge"]) / dff >= 32 - 1e-6
    assert a["area_ge"] > 4 * m["area_ge"]
    assert a["area_per_mac_vs_mac"] == pytest.approx(a["area_ge"] / 4 / m["area_ge"])


@pytest.mark.synth
@pytest.mark.sim
@pytest.mark.slow
def test_array_energy_per_mac_is_near_the_mac():
    e1 = arrays.array_energy("int8", "kulisch", 1, 1, k=32, tiles=4)
    e2 = arrays.array_energy("int8", "kulisch", 2, 2, k=32, tiles=4)
    # same operand statistics; the array adds forwarding/skew registers, never removes the MAC
    assert 0.9 < e2["pj_per_mac"] / e1["pj_per_mac"] < 2.0
