"""The switching-energy model's arithmetic, its one calibration constant and the Horowitz table."""

import numpy as np
import pandas as pd
import pytest

from hwmodel import energy as em
from hwmodel.errors import DataError, UnsupportedConfig


def test_every_horowitz_row_has_a_source_and_a_unit_column():
    df = em.horowitz_table()
    assert (df["source"].str.contains("Horowitz") & df["source"].str.contains("ISSCC 2014")).all()
    assert "energy_pj" in df.columns and (df["energy_pj"] > 0).all()
    assert (df["node_nm"] == 45).all()


@pytest.mark.parametrize("op, pj", [("int8_add", 0.03), ("int8_mul", 0.2), ("int32_add", 0.1),
                                    ("int32_mul", 3.1), ("fp16_add", 0.4), ("fp16_mul", 1.1),
                                    ("fp32_add", 0.9), ("fp32_mul", 3.7)])
def test_horowitz_figures_match_the_anchor_table(op, pj):
    # ../shared/reference/anchors.md §3, typed from the paper's table, not from our output
    assert em.horowitz_pj(op) == pytest.approx(pj)


def test_unknown_horowitz_operation_names_the_allowed_set():
    with pytest.raises(DataError, match="must be one of .*int8_mul.*not 'int9_mul'"):
        em.horowitz_pj("int9_mul")


def test_calibration_solves_for_the_one_constant():
    # 250 weighted toggles per 8-bit multiply -> k = 0.2 pJ / 250 = 0.8 fJ per toggle
    k = em.calibrate(250.0)
    assert k == pytest.approx(0.2 / 250.0)
    # and the calibrated design then costs exactly Horowitz's figure per operation
    assert em.energy_pj(250.0 * 1000, k, 1000) == pytest.approx(0.2)
    # another design with twice the activity costs twice as much, with no further fitting
    assert em.energy_pj(500.0 * 10, k, 10) == pytest.approx(0.4)


def test_calibration_refuses_a_design_that_never_toggled():
    with pytest.raises(UnsupportedConfig, match="positive switching activity"):
        em.calibrate(0.0)
    with pytest.raises(UnsupportedConfig, match="number of operations must be positive"):
        em.energy_pj(1.0, 1.0, 0)


def test_area_weights_split_over_outputs_unless_every_cell_has_internal_power():
    areas = {"NAND2": 1.0, "FA": 6.0, "DFF": 4.5}
    outs = {"NAND2": 1, "FA": 2, "DFF": 1}
    w, unit = em.cell_weights(areas, outs, {"NAND2": 0.5, "FA": None, "DFF": 2.0})
    assert unit == "area" and w == {"NAND2": 1.0, "FA": 3.0, "DFF": 4.5}
    w, unit = em.cell_weights(areas, outs, {"NAND2": 0.5, "FA": 1.5, "DFF": 2.0})
    assert unit == "internal_power" and w == {"NAND2": 0.5, "FA": 1.5, "DFF": 2.0}


def test_weighted_toggles_is_the_dot_product_of_weights_and_counts():
    t = pd.DataFrame({"cell": ["NAND2", "XOR2", "DFF"], "toggles": [10, 4, 3]})
    # 1*10 + 2.5*4 + 6*3 = 38, by hand
    assert em.weighted_toggles(t, {"NAND2": 1.0, "XOR2": 2.5, "DFF": 6.0}) == pytest.approx(38.0)
    with pytest.raises(DataError, match="missing \\['DFF'\\]"):
        em.weighted_toggles(t, {"NAND2": 1.0, "XOR2": 2.5})


def test_comparison_table_marks_the_calibrated_row():
    df = em.comparison_table({"int8_mul": 0.2, "fp16_add": 0.2})
    row = df.set_index("operation")
    assert row.loc["int8_mul", "calibrated"] and not row.loc["fp16_add", "calibrated"]
    assert row.loc["fp16_add", "model_over_horowitz"] == pytest.approx(0.2 / 0.4)


def test_distributions_have_their_defining_shape():
    rng = np.random.default_rng(1)
    n = 200_000
    relu = em.sample("relu", n, rng)
    assert 0.48 < np.mean(relu == 0) < 0.52            # about half exact zeros
    g, t = em.sample("gaussian", n, rng), em.sample("student_t", n, rng)
    # Student-t (nu=3) has far heavier tails than a Gaussian: P(|x| > 5) ~ 1.5e-2 vs 6e-7
    assert np.mean(np.abs(t) > 5) > 0.005 and np.mean(np.abs(g) > 5) < 1e-4
    lap = em.sample("laplace", n, rng)
    assert np.var(lap) == pytest.approx(1.0, rel=0.05)
    u = em.sample("uniform", n, rng)
    assert u.min() >= -1 and u.max() <= 1


def test_unknown_distribution_is_a_one_line_error():
    with pytest.raises(UnsupportedConfig, match="must be one of gaussian, laplace, student_t, relu, "
                                                "uniform, not 'cauchy'"):
        em.check_distribution("cauchy")


def test_absmax_scaling_maps_the_largest_magnitude_to_the_format_max():
    x = np.array([-3.0, 1.0, 2.0])
    assert np.max(np.abs(em.scale_to_format(x, 127.0))) == pytest.approx(127.0)
    assert np.all(em.scale_to_format(np.zeros(3), 127.0) == 0)
