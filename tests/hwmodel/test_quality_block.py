"""Block-format quality study: figures checked against derivations written here from the scale
rules' definitions (OCP MX v1.0 s6.3, amax / elem_max, smallest power of two) and the uniform
quantisation-noise law, never against the study's own output."""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from hwmodel import quality as Q
from hwmodel.errors import UnsupportedConfig

INT8_AMAX = "block(int8,block=32,scale=fp32,rule=amax)"     # Jetfire's rule on 1x32 blocks
INT4_AMAX = "block(int4,block=32,scale=fp32,rule=amax)"


def sqnr(x, q):
    return 10 * math.log10(np.sum(x * x) / np.sum((x - q) ** 2))


def ref_int_blocks(x, bs, rule, qmax, frac_bits=0):
    """Hand-written block quantiser for integer elements with `frac_bits` fraction bits (MXINT8:
    6), from the rules' text: the scale X per block, elements round-half-even(x / X) on the
    element grid, clamped to two's complement's [-qmax - lsb, qmax] (in element units; OCP MX
    v1.0 lets MXINT8 use -2.0; the other rules never reach below -qmax)."""
    xb = x.reshape(*x.shape[:-1], -1, bs)
    amax = np.abs(xb).max(axis=-1, keepdims=True)
    emax_elem = math.floor(math.log2(qmax))
    floor_log2 = np.frexp(amax)[1] - 1          # exact, unlike np.floor(np.log2(.)) near 2^k
    if rule == "ocp":
        X = np.exp2(floor_log2 - emax_elem)
    elif rule == "pow2":                         # smallest 2^k with amax <= qmax * 2^k
        k = floor_log2 - emax_elem - 1
        k = np.where(amax > qmax * np.exp2(k), k + 1, k)
        k = np.where(amax > qmax * np.exp2(k), k + 1, k)
        X = np.exp2(k)
    else:
        X = amax / qmax
    lsb = 2.0 ** -frac_bits
    e = np.clip(np.round(xb / X / lsb) * lsb, -qmax - lsb, qmax)
    return (e * X).reshape(x.shape)


def study(families, dists=("gaussian",), rules=Q.BLOCK_RULES, sizes=(32,), **kw):
    kw.setdefault("rows", 64)
    kw.setdefault("n", 1024)
    return Q.block_quality_study(families=families, block_sizes=sizes, rules=rules,
                                 distributions=dists, scalar_references=(), dot_lanes=0, **kw)


def test_exact_dot_is_the_correctly_rounded_exact_sum():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 200)) * np.exp2(rng.integers(-30, 30, (3, 200)))
    b = rng.standard_normal((3, 200))
    got = Q.exact_dot(a, b)
    for i in range(3):
        exact = sum(Fraction(float(p)) * Fraction(float(q)) for p, q in zip(a[i], b[i]))
        assert got[i] == float(exact)


def test_uniform_data_gains_6_02_db_per_bit():
    """Uniform U(-1, 1), amax/qmax scaling per 32: the step is amax/qmax and every element but the
    block's largest carries uniform noise step^2 / 12, so SQNR = 10 log10((1/3) / ((31/32)
    E[(amax/qmax)^2] / 12)); INT8 vs INT4 differ by 20 log10(127 / 7) = 25.18 dB."""
    df = study([INT8_AMAX, INT4_AMAX], dists=("uniform",), rules=("amax",), channel_spread=0.0,
               rows=64, n=4096).set_index("element")["sqnr_db"]
    e_amax2 = 32 / 34        # E[amax^2] of 32 draws of U(-1, 1): n / (n + 2)
    for elem, qmax in (("int8", 127), ("int4", 7)):
        predicted = 10 * math.log10((1 / 3) / ((31 / 32) * e_amax2 / qmax ** 2 / 12))
        assert df[elem] == pytest.approx(predicted, abs=0.25 if qmax > 7 else 0.6)
    assert df["int8"] - df["int4"] == pytest.approx(20 * math.log10(127 / 7), abs=0.6)


@pytest.mark.parametrize("family,rule,qmax,frac", [
    ("mxint8", "ocp", 127 / 64, 6), ("mxint8", "pow2", 127 / 64, 6),
    ("shiftquant_int8", "pow2", 127, 0), ("shiftquant_int4", "pow2", 7, 0),
    (INT8_AMAX, "amax", 127, 0)])
@pytest.mark.parametrize("dist", ["gaussian", "outlier_channels"])
def test_int_block_sqnr_equals_the_rule_written_from_its_definition(family, rule, qmax, frac, dist):
    rng = np.random.default_rng(0)
    x = Q.block_sample(dist, (8, 1024), rng)
    ref = sqnr(x, ref_int_blocks(x, 32, rule, qmax, frac))
    from hwmodel import blockscaled as B
    f = Q.block_variant(family, 32, rule)
    got = sqnr(x, B.dequantize_blocks(f, B.quantize_blocks(f, x)))
    # power-of-two scales: the same values; amax: the golden model rounds in binary32
    assert got == pytest.approx(ref, abs=1e-9 if rule != "amax" else 0.05)


def test_amax_rule_beats_the_ocp_rule_by_the_predicted_margin_on_int8():
    """MXINT8 (OCP: step 2^floor(log2 amax) / 64) against amax/127 per block: the margin is the
    ratio of mean squared steps, computed here from the blocks' amax alone."""
    rng = np.random.default_rng(3)
    df = study(["mxint8", INT8_AMAX], rules=("ocp", "amax"), channel_spread=0.0, rows=64, n=4096,
               seed=3)
    s = df.set_index(["element", "rule"])["sqnr_db"]
    got = s[("int8", "amax")] - s[("mxint8_element", "ocp")]
    # the same tensor the study draws: weights first, then the row gains, then the data
    rng.standard_normal((64, 4096))
    rng.uniform(0, 0, (64, 1))
    x = Q.block_sample("gaussian", (64, 4096), rng)
    amax = np.abs(x.reshape(-1, 32)).max(axis=-1)
    step_ocp = np.exp2(np.floor(np.log2(amax)) - 6)
    step_amax = amax / 127
    predicted = 10 * math.log10(np.sum(32 * step_ocp ** 2) / np.sum(31 * step_amax ** 2))
    assert got == pytest.approx(predicted, abs=0.3)
    assert 1.5 < got < 4.5


def test_block_scaling_beats_per_tensor_scaling_on_outlier_channels_by_the_computed_margin():
    """Outlier channels 100x: a per-tensor INT8 scale is set by the outliers for every value, a
    block scale only for the outliers' own blocks. Margin from hand-written quantisers."""
    rng = np.random.default_rng(5)
    x = Q.block_sample("outlier_channels", (64, 4096), rng)
    assert len(Q.outlier_columns(x)) == 4096 // Q.OUTLIER_EVERY
    per_tensor = Q.quantize_scaled("int8", x, "tensor")
    step = np.abs(x).max() / 127
    assert sqnr(x, per_tensor) == pytest.approx(sqnr(x, np.round(x / step) * step), abs=1e-6)
    from hwmodel import blockscaled as B
    f = Q.block_variant("mxint8", 32, "ocp")
    blocked = B.dequantize_blocks(f, B.quantize_blocks(f, x))
    margin = sqnr(x, blocked) - sqnr(x, per_tensor)
    predicted = sqnr(x, ref_int_blocks(x, 32, "ocp", 127 / 64, 6)) - sqnr(x, np.round(x / step) * step)
    assert margin == pytest.approx(predicted, abs=1e-6)
    assert margin > 10


def test_fp8_elements_with_pow2_scales_do_not_depend_on_block_size():
    """E4M3 under a power-of-two scale keeps 4 significant bits for every value above its
    subnormal range, so when no value underflows the SQNR is the same at every block size; the
    OCP floor rule saturates values in (448, 512) x scale and loses to it."""
    df = study(["mxfp8_e4m3"], rules=("ocp", "pow2"), sizes=(16, 32, 64))
    pow2 = df[df["rule"] == "pow2"]["sqnr_db"]
    assert pow2.max() - pow2.min() < 1e-9
    ocp = df[df["rule"] == "ocp"]["sqnr_db"]
    assert (ocp < pow2.min()).all()


def test_the_study_covers_every_family_rule_and_size_and_is_seeded():
    kw = dict(rows=64, n=256, dot_lanes=2)
    a = Q.block_quality_study(seed=2, **kw)
    pd.testing.assert_frame_equal(a, Q.block_quality_study(seed=2, **kw))
    assert not a.equals(Q.block_quality_study(seed=3, **kw))
    blocks = a[a["kind"] == "block"]
    rules = blocks.groupby("family")["rule"].agg(set)
    assert rules["mxfp4"] == {"ocp", "pow2"} and rules["nvfp4"] == {"amax"}
    assert rules["jetfire_int8"] == {"ocp", "pow2", "amax"}
    assert rules["shiftquant_int4"] == {"ocp", "pow2"}
    assert set(blocks["family"]) == set(Q.BLOCK_FAMILIES)
    sizes = blocks.groupby("family")["block_size"].agg(set)
    assert sizes["mxfp8_e4m3"] == {16, 32, 64} and sizes["deepseek_fp8_act"] == {16, 32, 64, 128}
    assert set(a[a["kind"] == "scalar"]["format"]) == {"int8", "float8_e4m3fn", "int4"}
    assert set(a["distribution"]) == set(Q.BLOCK_DISTRIBUTIONS)
    # square Jetfire tiles; NVFP4's bits: 4 + 8/16
    jf = blocks[blocks["family"] == "jetfire_int8"]
    assert (jf["block_rows"] == jf["block_size"]).all()
    nv = blocks[(blocks["family"] == "nvfp4") & (blocks["block_size"] == 16)]
    assert set(nv["bits_per_element"]) == {4.5} and set(nv["format"]) == {"nvfp4"}


def test_block_dots_fp32_accumulation_is_small_and_quantisation_dominates():
    df = Q.block_quality_study(families=["mxfp8_e4m3", "shiftquant_int4", "nvfp4"], block_sizes=(32,),
                               distributions=("gaussian",), rows=64, n=1024, dot_lanes=8)
    blocks = df[df["kind"] == "block"]
    # FP32 across 32 blocks: each rounding <= 2^-24 of a partial sum
    assert (blocks["acc_rel_error_median"] < 1e-5).all()
    assert (blocks["dot_rel_error_median"] > 10 * blocks["acc_rel_error_median"]).all()
    assert (blocks["dot_rel_rms_error"] > 10 * blocks["acc_rel_error_median"]).all()
    # 4-bit elements lose more dot accuracy than 8-bit ones, as their SQNR says
    d = blocks.set_index("format")["dot_err_over_l1_median"]
    assert d["mxfp8_e4m3"] < d["shiftquant_int4"]
    r = blocks.set_index("format")["dot_rel_rms_error"]
    assert r["mxfp8_e4m3"] < r["shiftquant_int4"]
    s = df[df["kind"] == "scalar"].set_index("format")
    assert (s["acc_rel_error_median"] == 0).all()


def test_bad_study_arguments():
    with pytest.raises(UnsupportedConfig, match="power of two"):
        Q.block_variant("mxfp4", 32, "amax")
    with pytest.raises(UnsupportedConfig, match="per-tensor scale"):
        Q.block_variant("nvfp4", 16, "ocp")
    with pytest.raises(UnsupportedConfig, match="scale rule"):
        Q.block_variant("mxfp4", 32, "floor")
    with pytest.raises(UnsupportedConfig, match="block format"):
        Q.block_variant("int8", 32, "ocp")
    with pytest.raises(UnsupportedConfig, match="multiple"):
        Q.block_quality_study(families=["jetfire_int8"], rows=48, n=256, dot_lanes=0)
    with pytest.raises(UnsupportedConfig, match="dot_lanes"):
        Q.block_quality_study(families=["mxfp4"], block_sizes=(32,), rows=8, n=256, dot_lanes=9)


@pytest.mark.parametrize("family", ["mxfp8_e4m3", "mxint8", "mxfp4"])
def test_dot_error_follows_from_the_operands_sqnr(family):
    """dot error = sum(e_x w + x e_w + e_x e_w); with N(0, 1) operands and errors uncorrelated with
    the other operand, E[err^2] / E[dot^2] = 1/snr_x + 1/snr_w (+ a product term): x and w drawn
    alike, so the relative RMS dot error is about sqrt(2) * 10^(-SQNR / 20)."""
    df = Q.block_quality_study(families=[family], block_sizes=(32,), rules=("ocp",),
                               distributions=("gaussian",), scalar_references=(), channel_spread=0.0,
                               rows=128, n=1024, dot_lanes=128)
    r = df.iloc[0]
    snr = 10 ** (r["sqnr_db"] / 10)
    predicted = math.sqrt(2 / snr + 1 / snr ** 2)
    assert r["dot_rel_rms_error"] == pytest.approx(predicted, rel=0.25)
