"""The numerics-quality study: figures checked against closed-form derivations."""

import math

import numpy as np
import pandas as pd
import pytest

from hwmodel import quality as Q
from hwmodel.errors import UnsupportedConfig


def test_error_metrics_by_hand():
    m = Q.error_metrics(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    assert m["sqnr_db"] == pytest.approx(10 * math.log10(5.0))
    assert m["rel_rms_error"] == pytest.approx(math.sqrt(1 / 5))
    assert m["mean_abs_rel_error"] == pytest.approx(0.25)


def test_int8_uniform_sqnr_matches_the_uniform_noise_formula():
    """U(-1, 1) with per-channel max-abs scaling: step D = amax/127 ~ 2/254; noise D^2/12 against
    signal 1/3 gives SQNR = 10 log10(4 * 127^2) = 48.13 dB."""
    df = Q.quantization_study(formats=["int8"], distributions=["uniform"], scalings=["channel"],
                              channels=16, n=4096, channel_spread=0.0)
    assert df["sqnr_db"].iloc[0] == pytest.approx(10 * math.log10(4 * 127 ** 2), abs=0.2)


@pytest.mark.parametrize("fmt,man_bits", [("float8_e5m2", 2), ("float8_e4m3fn", 3), ("float8_e3m4", 4)])
def test_float_sqnr_near_the_binade_formula(fmt, man_bits):
    """Within a binade [2^e, 2^(e+1)) uniform data has E[x^2] = (7/3) 4^e and RNE noise
    (2^(e-M))^2 / 12: SQNR = 10 log10(28 * 4^M) dB, whatever e (max-abs scaling only moves e)."""
    df = Q.quantization_study(formats=[fmt], distributions=["uniform"], scalings=["channel"],
                              channels=16, n=4096, channel_spread=0.0)
    assert df["sqnr_db"].iloc[0] == pytest.approx(10 * math.log10(28 * 4 ** man_bits), abs=1.0)


def test_study_is_seeded_and_tidy():
    kw = dict(formats=["int4", "float4_e2m1fn", "mxfp4"], distributions=["laplace"], channels=4, n=256)
    a, b = Q.quantization_study(seed=3, **kw), Q.quantization_study(seed=3, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(Q.quantization_study(seed=4, **kw))
    assert set(a["scaling"]) == {"tensor", "channel", "block32", "mx"}
    assert {"sqnr_db", "rel_rms_error", "bits_per_element"} <= set(a.columns)
    # finer scaling never loses on heavy-tailed data here: block32 >= channel >= tensor (int4)
    s = a[a["format"] == "int4"].set_index("scaling")["sqnr_db"]
    assert s["block32"] > s["channel"] > s["tensor"]


def test_paper_finding_is_computed_not_assumed():
    df = Q.quantization_study(formats=["int8", "float8_e4m3fn"], distributions=["gaussian", "student_t3"],
                              scalings=["channel"], channels=16, n=4096)
    res = Q.paper_finding(df)
    assert res["holds"] is True
    assert res["gaussian_int8_sqnr_db"] > res["gaussian_fp8_e4_sqnr_db"]
    flipped = df.copy()
    flipped.loc[flipped["format"] == "int8", "sqnr_db"] += 100   # INT8 now wins everywhere
    assert Q.paper_finding(flipped)["holds"] is False
    with pytest.raises(UnsupportedConfig, match="needs int8"):
        Q.paper_finding(df[df["format"] == "int8"])


def test_dot_error_study_against_error_bounds():
    df = Q.dot_error_study(formats=["float8_e4m3fn"], n=1024, lanes=8).set_index("accumulator")
    assert df.loc["kulisch", "err_over_l1_max"] == 0.0          # exact
    # recursive summation bound: |err| <= (n - 1) u sum|p|, u = 2^-24 (fp32), 2^-11 (fp16)
    assert df.loc["fp32", "err_over_l1_max"] <= 1023 * 2.0 ** -24
    assert df.loc["fp16", "err_over_l1_max"] <= 1023 * 2.0 ** -11
    assert df.loc["fp16", "err_over_l1_median"] > df.loc["fp32", "err_over_l1_median"]
    assert df.loc["fp16 chunk64 -> fp32", "err_over_l1_median"] < df.loc["fp16", "err_over_l1_median"]
    assert (df["nonfinite_lanes"] == 0).all()


def test_bad_inputs():
    with pytest.raises(UnsupportedConfig, match="scaling must be one of"):
        Q.quantize_scaled("int8", np.ones((2, 32)), "row")
    with pytest.raises(UnsupportedConfig, match="scaling must be 'mx'"):
        Q.quantize_scaled("mxfp4", np.ones((2, 32)), "tensor")
    with pytest.raises(UnsupportedConfig, match="distribution must be one of"):
        Q.sample("cauchy", 3, np.random.default_rng(0))
