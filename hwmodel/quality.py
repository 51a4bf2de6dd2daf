"""Numerical quality of formats: quantisation SQNR by distribution and scaling; dot-product error
by accumulator. Every figure is computed by the golden numerics (`hwmodel.numerics`) on seeded
random tensors; the functions return tidy DataFrames whose column names carry units.

Scaling ("max-abs to the format's max"): a tensor slice is divided by s = amax / max_value (a float64
scale, not itself quantised), quantised with saturation, and multiplied back. Slices: the whole
tensor ('tensor'), each row ('channel'), or each run of 32 values along a row ('block32'). Block
formats (OCP MX) carry their own power-of-two E8M0 scale per 32 values; they are quantised as they are
(scaling 'mx').
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import BlockFormat, FloatFormat, Format, parse_format
from hwmodel import numerics as N

DISTRIBUTIONS = ("gaussian", "laplace", "student_t3", "uniform")
SCALINGS = ("tensor", "channel", "block32")
# Formats of the study (issue 2 item 5); paper_e4 is float8_e4m3fn and is not repeated.
STUDY_FORMATS = ("int4", "int8", "float8_e4m3fn", "float8_e5m2", "float8_e3m4", "paper_e2",
                 "paper_e3", "paper_e5", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn",
                 "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4", "mxint8")
# Accumulators of the dot-product study: (label, acc spec, order, chunk, outer)
DOT_ACCUMULATORS = (
    ("kulisch", "kulisch", "sequential", None, None),
    ("fp32", "fp32", "sequential", None, None),
    ("fp16", "fp16", "sequential", None, None),
    ("bf16", "bf16", "sequential", None, None),
    ("fp16 pairwise", "fp16", "pairwise", None, None),
    ("fp16 chunk64 -> fp32", "fp16", "chunked", 64, "fp32"),
    ("bf16 chunk32 -> fp32", "bf16", "chunked", 32, "fp32"),
)
DOT_FORMATS = ("int8", "float8_e4m3fn", "float8_e5m2")


def sample(distribution: str, shape, rng: np.random.Generator) -> np.ndarray:
    """Draws of one distribution: N(0, 1), Laplace(0, 1), Student-t with nu = 3, U(-1, 1)."""
    if distribution == "gaussian":
        return rng.standard_normal(shape)
    if distribution == "laplace":
        return rng.laplace(0.0, 1.0, shape)
    if distribution == "student_t3":
        return rng.standard_t(3, shape)
    if distribution == "uniform":
        return rng.uniform(-1.0, 1.0, shape)
    raise UnsupportedConfig(f"distribution must be one of {', '.join(DISTRIBUTIONS)}, not {distribution!r}")


def format_max(fmt: Format) -> float:
    """Largest magnitude max-abs scaling maps to: max_normal, or max_int (symmetric) for integers."""
    if isinstance(fmt, FloatFormat):
        return fmt.max_normal
    return float(fmt.max_int) if fmt.kind == "int" else fmt.max_value


def quantize_scaled(fmt: Format | str, x: np.ndarray, scaling: str) -> np.ndarray:
    """x (rows, n) quantised with max-abs scaling per `scaling` (see module doc); float64 values."""
    f = parse_format(fmt)
    x = np.asarray(x, np.float64)
    if isinstance(f, BlockFormat):
        if scaling != "mx":
            raise UnsupportedConfig(f"block format {f.name} carries its own scale: scaling must be 'mx', "
                                    f"not {scaling!r}")
        return N.quantize(f, x)
    if scaling == "tensor":
        view = x.reshape(1, -1)
    elif scaling == "channel":
        view = x.reshape(x.shape[0], -1)
    elif scaling == "block32":
        if x.shape[-1] % 32:
            raise UnsupportedConfig(f"block32 scaling needs rows of a multiple of 32, not {x.shape[-1]}")
        view = x.reshape(-1, 32)
    else:
        raise UnsupportedConfig(f"scaling must be one of {', '.join(SCALINGS)} (or mx for block formats), "
                                f"not {scaling!r}")
    amax = np.abs(view).max(axis=-1, keepdims=True)
    s = np.where(amax > 0, amax / format_max(f), 1.0)
    q = N.quantize(f, view / s, saturate=True) * s
    return q.reshape(x.shape)


def error_metrics(x: np.ndarray, q: np.ndarray) -> dict:
    """sqnr_db = 10 log10(sum x^2 / sum (x - q)^2); rel_rms_error = ||x - q|| / ||x||;
    mean_abs_rel_error = mean |x - q| / |x| over nonzero x."""
    err = x - q
    num, den = float(np.sum(x * x)), float(np.sum(err * err))
    nz = x != 0
    return {"sqnr_db": math.inf if den == 0 else 10 * math.log10(num / den),
            "rel_rms_error": math.sqrt(den / num) if num else math.nan,
            "mean_abs_rel_error": float(np.mean(np.abs(err[nz]) / np.abs(x[nz]))) if nz.any() else math.nan}


def quantization_study(formats=STUDY_FORMATS, distributions=DISTRIBUTIONS, scalings=SCALINGS,
                       channels: int = 64, n: int = 4096, channel_spread: float = 1.0,
                       seed: int = 0) -> pd.DataFrame:
    """SQNR and relative error of quantising seeded tensors, one row per (format, distribution,
    scaling). Tensor (channels, n): row c is `distribution` times exp(u_c), u_c ~ U(-spread, spread),
    so channels differ in range as activations/weights do. Same tensor for every format."""
    rng = np.random.default_rng(seed)
    rows = []
    for dist in distributions:
        base = sample(dist, (channels, n), rng)
        gain = np.exp(rng.uniform(-channel_spread, channel_spread, (channels, 1)))
        x = base * gain
        for spec in formats:
            f = parse_format(spec)
            plan = ["mx"] if isinstance(f, BlockFormat) else list(scalings)
            for scaling in plan:
                q = quantize_scaled(f, x, scaling)
                rows.append({"format": f.name, "bits_per_element": float(getattr(f, "bits_per_element", f.bits)),
                             "distribution": dist, "scaling": scaling, **error_metrics(x, q),
                             "n_values": x.size, "seed": seed})
    return pd.DataFrame(rows)


def paper_finding(df: pd.DataFrame, scaling: str = "channel") -> dict:
    """Whether van Baalen et al.'s qualitative finding holds in `df` (from quantization_study):
    INT8 beats FP8-E4 (float8_e4m3fn) on Gaussian data, FP8-E4 beats INT8 with heavy outliers
    (Student-t, nu = 3). Returns the SQNRs (dB), the two comparisons and `holds`."""
    sel = df[df["scaling"] == scaling].set_index(["format", "distribution"])["sqnr_db"]
    try:
        g_int, g_fp = sel[("int8", "gaussian")], sel[("float8_e4m3fn", "gaussian")]
        t_int, t_fp = sel[("int8", "student_t3")], sel[("float8_e4m3fn", "student_t3")]
    except KeyError as exc:
        raise UnsupportedConfig(f"paper_finding needs int8 and float8_e4m3fn rows on gaussian and "
                                f"student_t3 with {scaling} scaling; missing {exc}") from None
    int8_wins_gaussian = bool(g_int > g_fp)
    fp8_wins_outliers = bool(t_fp > t_int)
    return {"scaling": scaling, "gaussian_int8_sqnr_db": float(g_int), "gaussian_fp8_e4_sqnr_db": float(g_fp),
            "student_t3_int8_sqnr_db": float(t_int), "student_t3_fp8_e4_sqnr_db": float(t_fp),
            "int8_wins_gaussian": int8_wins_gaussian, "fp8_wins_outliers": fp8_wins_outliers,
            "holds": int8_wins_gaussian and fp8_wins_outliers}


def _pow2_scale(x: np.ndarray, fmt: Format) -> np.ndarray:
    """Per-row power-of-two scale 2^ceil(log2(amax / max)): exact to divide and multiply by."""
    amax = np.abs(x).max(axis=-1, keepdims=True)
    ratio = np.where(amax > 0, amax / format_max(fmt), 1.0)
    return np.exp2(np.ceil(np.log2(ratio)))


def dot_error_study(formats=DOT_FORMATS, accumulators=DOT_ACCUMULATORS, n: int = 4096,
                    lanes: int = 64, distribution: str = "gaussian", seed: int = 0) -> pd.DataFrame:
    """Error of length-n dot products by accumulator, relative to the exact dot of the same
    quantised operands. Operands: `lanes` rows of seeded draws, each row quantised with a
    power-of-two max-abs scale (exact), so the products reach the accumulator in real units.
    Exact reference: math.fsum of the exact float64 products. One row per (format, accumulator):
    median and max over lanes of |acc - exact| / sum|a_i b_i| and of |acc - exact| / |exact|."""
    rng = np.random.default_rng(seed)
    x = sample(distribution, (lanes, n), rng)
    w = sample(distribution, (lanes, n), rng)
    rows = []
    for spec in formats:
        f = parse_format(spec)
        if isinstance(f, BlockFormat):
            raise UnsupportedConfig(f"dot_error_study takes scalar formats, not {f.name}")
        sx, sw = _pow2_scale(x, f), _pow2_scale(w, f)
        ca = N.encode(f, x / sx, saturate=True)
        cw = N.encode(f, w / sw, saturate=True)
        scale = (sx * sw)[:, 0]
        prods = N.mul_exact(f, ca, f, cw) * (sx * sw)
        exact = np.array([math.fsum(row) for row in prods.tolist()])
        l1 = np.abs(prods).sum(axis=-1)
        for label, acc, order, chunk, outer in accumulators:
            if acc.startswith("int") and f.kind != "int":
                continue
            if acc == "kulisch":   # the W-bit register on the codes; the scale is a power of two
                got = N.dot(f, ca, f, cw, acc) * scale
            else:
                got = N.accumulate(prods, acc, order, chunk or 32, outer or "fp32")
            err = np.abs(got - exact)
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(exact != 0, err / np.abs(exact), np.where(err == 0, 0.0, np.inf))
            rows.append({"format": f.name, "accumulator": label, "order": order, "n": n,
                         "lanes": lanes, "distribution": distribution,
                         "err_over_l1_median": float(np.median(err / l1)),
                         "err_over_l1_max": float(np.max(err / l1)),
                         "rel_error_median": float(np.median(rel)),
                         "nonfinite_lanes": int((~np.isfinite(got)).sum()), "seed": seed})
        if f.kind == "int":
            got = N.dot(f, ca, f, cw, "int32") * scale   # integer codes, then the exact scale
            err = np.abs(got - exact)
            rows.append({"format": f.name, "accumulator": "int32", "order": "sequential", "n": n,
                         "lanes": lanes, "distribution": distribution,
                         "err_over_l1_median": float(np.median(err / l1)),
                         "err_over_l1_max": float(np.max(err / l1)),
                         "rel_error_median": float(np.median(err / np.where(exact != 0, np.abs(exact), 1))),
                         "nonfinite_lanes": 0, "seed": seed})
    return pd.DataFrame(rows)
