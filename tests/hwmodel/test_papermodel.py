"""The paper's analytical model against Fig. 3 and against hand-derived single formulas."""

import subprocess
import sys

import pytest

from hwmodel import papermodel as pm
from hwmodel.errors import UnsupportedConfig


# -- single cost formulas, derived by hand from Appendix B ----------------------------------------
def test_adder_is_n_minus_1_full_adders_and_a_half_adder():
    # 8-bit adder: 7 FA (7 gates each: 2 HA + OR2 = 3+3+1) + 1 HA (3) = 52
    assert pm.adder_gates(8) == 7 * 7 + 3 == 52
    assert pm.adder_gates(1) == 3          # a lone half adder


def test_incrementer_is_n_half_adders():
    assert pm.incrementer_gates(12) == 36


def test_multiplier_8x8():
    # 64 AND2 partial products + 49 FA (343) + 7 HA (21) = 428
    assert pm.multiplier_gates(8) == 64 + 343 + 21 == 428


def test_shifts():
    # 9-bit widening left shift over [0,28]: ceil(log2 29) = 5 levels; 7*5 MUX2 = 105, + 28*(3+1)
    assert pm.widening_left_shift_gates(9, 28) == 105 + 112
    # 14-bit right shift over [0,13]: 4 levels, 13*4 MUX2 = 156
    assert pm.right_shift_gates(14, 13) == 156
    # 14-bit left shift over [0,13]: 14*4*3 - 13*2 = 142
    assert pm.left_shift_gates(14, 13) == 142
    assert pm.left_shift_gates(14, 0) == 0


def test_int8_kulisch_by_hand():
    # Fig. 2a for INT8: 8x8 multiplier (428); 15-bit product added into 27 bits: 15-bit adder
    # (14*7+3 = 101) + 12-bit incrementer (36) + 27 flip-flops (162). No register, no shift.
    c = pm.mac_cost("int8", "kulisch")
    assert (c.mpy_gates, c.alignadd_gates, c.normacc_gates) == (428, 101, 36 + 162)


def test_guard_bits_cost_one_ff_and_one_ha_each():
    base = pm.mac_cost("paper_e4", "kulisch:12").total_gates
    assert pm.mac_cost("paper_e4", "kulisch:16").total_gates - base == 4 * (6 + 3)
    assert pm.mac_cost("paper_e4", "kulisch", guard_bits=16).total_gates - base == 36


def test_items_sum_to_components():
    c = pm.mac_cost("float8_e4m3fn", "fp32")
    assert c.total_gates == c.mpy_gates + c.alignadd_gates + c.normacc_gates
    assert all(g >= 0 for _, _, g in c.items)


# -- Fig. 3 ---------------------------------------------------------------------------------------
def test_fig3_table_has_15_sourced_rows():
    df = pm.paper_fig3()
    assert len(df) == 15
    assert set(zip(df.in_fmt, df.acc)) == set(pm.PAPER_CONFIGS)
    assert df.source.str.contains("2303.17951").all()
    # the figure's components add to its totals (reading error about +-0.5%)
    comp = df.mpy_gates + df.alignadd_gates + df.normacc_gates
    assert ((comp - df.total_gates).abs() <= 0.005 * df.total_gates + 1).all()


@pytest.mark.parametrize("in_fmt,acc", pm.PAPER_CONFIGS)
def test_model_total_within_3pct_of_fig3(in_fmt, acc):
    row = pm.paper_fig3().set_index(["in_fmt", "acc"]).loc[(in_fmt, acc)]
    c = pm.mac_cost(in_fmt, acc)
    assert abs(c.total_gates / row.total_gates - 1) < 0.03, (in_fmt, acc, c.total_gates, row.total_gates)
    # components: the paper reads them off stacked bars; 8% each
    for comp in pm.COMPONENTS:
        ours, theirs = c.component(comp), row[f"{comp}_gates"]
        assert abs(ours / theirs - 1) < 0.08, (in_fmt, acc, comp, ours, theirs)


def test_paper_headline_ratios():
    # "FP8-E4 -> 16-bit requires 53% more gates, -> 32-bit 183% more" than INT8 -> FX+12
    base = pm.mac_cost("int8", "kulisch").total_gates
    assert pm.mac_cost("paper_e4", "fp16").total_gates / base == pytest.approx(1.53, abs=0.05)
    assert pm.mac_cost("paper_e4", "fp32").total_gates / base == pytest.approx(2.83, abs=0.08)


def test_reproduce_frame():
    df = pm.reproduce()
    assert len(df) == 15 and df.model_vs_paper.between(0.97, 1.03).all()


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt,acc", [("mxfp8_e4m3", "fp32"), ("paper_e4", "int32"), ("int8", "int8"),
                                     ("int8", "kulisch:x"), ("int8", "kulisch:-1"), ("int8", "nope"),
                                     ("nope", "fp16")])
def test_bad_input_is_unsupported_config(fmt, acc):
    with pytest.raises(UnsupportedConfig):
        pm.mac_cost(fmt, acc)


def test_hwmodel_papermodel_imports_no_hdl_tools():
    code = "import sys, hwmodel.papermodel; print('amaranth' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
