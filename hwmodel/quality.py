"""Numerical quality of formats: quantisation SQNR by distribution and scaling; dot-product error
by accumulator. Every figure is computed by the golden numerics (`hwmodel.numerics`) on seeded
random tensors; the functions return tidy DataFrames whose column names carry units.

Scaling ("max-abs to the format's max"): a tensor slice is divided by s = amax / max_value (a float64
scale, not itself quantised), quantised with saturation, and multiplied back. Slices: the whole
tensor ('tensor'), each row ('channel'), or each run of 32 values along a row ('block32'). Block
formats (OCP MX) carry their own power-of-two E8M0 scale per 32 values; they are quantised as they are
(scaling 'mx').

Block-scaled formats (`block_quality_study`): each block format family (OCP MX, NVFP4, Jetfire,
ShiftQuant, DeepSeek-V3 FP8) re-built per block size and scale rule, quantised by the block golden
model (hwmodel.blockscaled) with its own scales, and its block dots computed by that model's block
dot (exact within a block, FP32 across blocks) against a correctly rounded exact reference.
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


# ----------------------------------------------------------------------------------------------
# Block-scaled formats: SQNR and block-dot error by format family x block size x scale rule
# ----------------------------------------------------------------------------------------------
# Catalogue formats whose (element, scale) pairs the block study varies; each is re-built at every
# block size with every scale rule its scale format admits (`block_variants`).
BLOCK_FAMILIES = ("mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4", "mxint8", "nvfp4",
                  "jetfire_int8", "shiftquant_int4", "shiftquant_int8", "deepseek_fp8_act")
BLOCK_SIZES = (16, 32, 64)
BLOCK_RULES = ("ocp", "pow2", "amax")
BLOCK_DISTRIBUTIONS = ("gaussian", "student_t3", "outlier_channels")
# Scalar formats shown beside the block formats, with per-channel (per-row) max-abs scaling.
BLOCK_SCALAR_REFERENCES = ("int8", "float8_e4m3fn", "int4")
OUTLIER_GAIN = 100.0          # outlier channels' magnitude relative to the rest
OUTLIER_EVERY = 512           # one outlier channel per this many channels (at least 2)


def block_sample(distribution: str, shape, rng: np.random.Generator) -> np.ndarray:
    """Draws for the block study, shape (rows, n) with blocks along n (the dot / channel axis):
    'gaussian' and 'student_t3' as `sample`; 'outlier_channels': N(0, 1) activations in which
    max(2, n // OUTLIER_EVERY) seeded channels (columns, the same in every row) are OUTLIER_GAIN
    times larger, as LLM activations have a few outlier feature channels."""
    if distribution != "outlier_channels":
        return sample(distribution, shape, rng)
    rows, n = shape
    x = rng.standard_normal(shape)
    k = min(n, max(2, n // OUTLIER_EVERY))
    cols = rng.choice(n, size=k, replace=False)
    x[:, cols] *= OUTLIER_GAIN
    return x


def outlier_columns(x: np.ndarray) -> np.ndarray:
    """Indices of the outlier channels of a block_sample('outlier_channels') tensor (for tests)."""
    return np.flatnonzero(np.abs(x).mean(axis=0) > np.sqrt(OUTLIER_GAIN) * np.abs(x).mean())


def block_variant(family: Format | str, block_size: int, rule: str) -> BlockFormat:
    """The family's element, scale and tensor scale at another block size and scale rule.
    2-D tiles (Jetfire's 32x32) stay square: block_rows = block_size. Raises UnsupportedConfig
    when the scale format does not admit the rule (AMAX needs a scale with a mantissa; a tensor
    scale needs AMAX)."""
    import dataclasses
    from hwmodel import blockscaled as B
    from hwmodel.errors import FormatError
    base = parse_format(family)
    if not isinstance(base, BlockFormat):
        raise UnsupportedConfig(f"a block study family must be a block format, not {base.name!r}")
    if rule not in BLOCK_RULES:
        raise UnsupportedConfig(f"scale rule must be one of {', '.join(BLOCK_RULES)}, not {rule!r}")
    if rule == "amax" and B.is_pow2_scale(base.scale):
        raise UnsupportedConfig(f"{base.name}'s scale {base.scale.name} is a power of two: rule amax "
                                "needs a scale with a mantissa")
    if rule != "amax" and base.tensor_scale is not None:
        raise UnsupportedConfig(f"{base.name} has a per-tensor scale, which needs rule amax")
    rows = block_size if base.block_rows > 1 else 1
    try:
        f = dataclasses.replace(base, block_size=block_size, rule=rule, block_rows=rows, label=None)
    except FormatError as exc:
        raise UnsupportedConfig(str(exc)) from None
    return parse_format(f.spec)     # the registered object where one is equal (its display name)


def block_variants(families=BLOCK_FAMILIES, block_sizes=BLOCK_SIZES, rules=BLOCK_RULES):
    """[(family name, BlockFormat)] for every family x block size x rule the scale admits, plus
    each family at its own block size where that is not among `block_sizes` (DeepSeek's 1x128)."""
    out = []
    for fam in families:
        base = parse_format(fam)
        sizes = list(block_sizes) + ([base.block_size] if base.block_size not in block_sizes else [])
        for bs in sizes:
            for rule in rules:
                try:
                    out.append((base.name, block_variant(base, bs, rule)))
                except UnsupportedConfig:
                    continue
    return out


def _veltkamp(x: np.ndarray):
    """x = hi + lo exactly, hi and lo with at most 26 significant bits (Veltkamp splitting), so
    every product of halves is exact in float64."""
    c = x * 134217729.0          # 2^27 + 1
    hi = c - (c - x)
    return hi, x - hi


def exact_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum_i a_i * b_i along axis -1, correctly rounded to float64: the four half products of a
    Veltkamp split are exact, and math.fsum adds them exactly (one rounding at the end)."""
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    ah, al = _veltkamp(a)
    bh, bl = _veltkamp(b)
    parts = np.concatenate([ah * bh, ah * bl, al * bh, al * bl], axis=-1)
    flat = parts.reshape(-1, parts.shape[-1])
    return np.array([math.fsum(r) for r in flat.tolist()]).reshape(parts.shape[:-1])


def _dot_errors(got: np.ndarray, ref: np.ndarray, l1: np.ndarray) -> tuple[float, float]:
    err = np.abs(got - ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(ref != 0, err / np.abs(ref), np.where(err == 0, 0.0, np.inf))
    return float(np.median(rel)), float(np.median(err / l1))


def _rel_rms(got: np.ndarray, ref: np.ndarray) -> float:
    """||got - ref|| / ||ref|| over lanes: steadier than a median of per-lane ratios, whose
    denominators (dots of independent vectors) come close to zero."""
    den = float(np.sqrt(np.sum(ref * ref)))
    return float(np.sqrt(np.sum((got - ref) ** 2))) / den if den else math.nan


def _lane_codes(f: BlockFormat, codes, lanes: np.ndarray):
    """(format, BlockCodes) of rows `lanes` only. A 2-D tile's scale is repeated onto each of its
    rows and the format read as 1-row blocks with those scales: the same block values, so the
    same block dot (blockscaled.block_dot repeats tile scales onto rows the same way)."""
    import dataclasses
    from hwmodel import blockscaled as B
    scales = np.asarray(codes.scales)
    if f.block_rows > 1:
        scales = np.repeat(scales, f.block_rows, axis=-2)
        f = dataclasses.replace(f, block_rows=1, label=None)
    return f, B.BlockCodes(scales[lanes], np.asarray(codes.elements)[lanes], codes.tensor_scale)


def block_quality_study(families=BLOCK_FAMILIES, block_sizes=BLOCK_SIZES, rules=BLOCK_RULES,
                        distributions=BLOCK_DISTRIBUTIONS, scalar_references=BLOCK_SCALAR_REFERENCES,
                        rows: int = 64, n: int = 4096, channel_spread: float = 1.0, dot_lanes: int = 16,
                        seed: int = 0) -> pd.DataFrame:
    """SQNR and block-dot error of block formats, one row per (format, distribution).

    Data, per distribution: x (rows, n) = block_sample(...) times a row gain exp(u_r), u_r ~
    U(-spread, spread) (as quantization_study), blocks along n; weights w (rows, n) ~ N(0, 1), the
    same for every format. Block formats quantise x and w with their own scales
    (hwmodel.blockscaled.quantize_blocks; 2-D tiles over rows); scalar references quantise each
    row with max-abs scaling (`quantize_scaled(..., 'channel')`, as the scalar study).

    Columns: sqnr_db of x (all rows); for dots (dot_lanes > 0), over `dot_lanes` lanes x_r . w_r of
    length n, rows r spread evenly over the tensor (the block dot golden model takes ~0.3 ms per
    block when the block values exceed 62 bits - FP32 scales, E5M2 elements - so the dot uses a
    subset of the rows the SQNR uses):
    dot_rel_rms_error     ||dot - exact(x . w)|| / ||exact(x . w)|| over the lanes: what the format
                          costs in dot accuracy (quantisation of both operands plus accumulation)
    dot_rel_error_median  median over lanes of |dot - exact(x . w)| / |exact(x . w)|
    dot_err_over_l1_median  the same error over sum |x_i w_i|
    acc_rel_error_median  median |dot - exact(qx . qw)| / |exact(qx . qw)|: the accumulation alone
    Block dots are hwmodel.blockscaled.block_dot (exact within a block, FP32 across blocks, then
    the NVFP4 tensor scales in FP32); scalar references' dots are exact sums of the quantised
    values (an int32 / Kulisch accumulator and one rescale), so their acc error is 0 by
    construction. `exact` is exact_dot (correctly rounded).
    """
    from hwmodel import blockscaled as B
    rng = np.random.default_rng(seed)
    variants = block_variants(families, block_sizes, rules)
    rows_needed = max([f.block_rows for _, f in variants] + [1])
    if rows % rows_needed:
        raise UnsupportedConfig(f"rows must be a multiple of the largest 2-D tile's rows "
                                f"({rows_needed}), not {rows}")
    if not 0 <= dot_lanes <= rows:
        raise UnsupportedConfig(f"dot_lanes must be in 0..rows ({rows}), not {dot_lanes!r}")
    lanes = np.linspace(0, rows - 1, dot_lanes).round().astype(int) if dot_lanes else None
    out = []
    w = rng.standard_normal((rows, n))
    for dist in distributions:
        gain = np.exp(rng.uniform(-channel_spread, channel_spread, (rows, 1)))
        x = block_sample(dist, (rows, n), rng) * gain
        if dot_lanes:
            ref = exact_dot(x[lanes], w[lanes])
            l1 = np.abs(x[lanes] * w[lanes]).sum(axis=-1)
        for spec in scalar_references:
            f = parse_format(spec)
            qx = quantize_scaled(f, x, "channel")
            row = {"family": f.name, "format": f.name, "spec": f.spec, "kind": "scalar",
                   "element": f.name, "scale": "float64 per row", "rule": "channel",
                   "block_size": n, "block_rows": 1, "bits_per_element": float(f.bits),
                   "distribution": dist, **error_metrics(x, qx)}
            if dot_lanes:
                qw = quantize_scaled(f, w, "channel")
                got = exact_dot(qx[lanes], qw[lanes])
                row["dot_rel_rms_error"] = _rel_rms(got, ref)
                row["dot_rel_error_median"], row["dot_err_over_l1_median"] = _dot_errors(got, ref, l1)
                row["acc_rel_error_median"] = 0.0
            out.append(row)
        for fam, f in variants:
            cx = B.quantize_blocks(f, x)
            qx = B.dequantize_blocks(f, cx)
            row = {"family": fam, "format": f.name, "spec": f.spec, "kind": "block",
                   "element": f.element.name, "scale": f.scale.name, "rule": f.rule.value,
                   "block_size": f.block_size, "block_rows": f.block_rows,
                   "bits_per_element": float(f.bits_per_element), "distribution": dist,
                   **error_metrics(x, qx)}
            if dot_lanes:
                cw = B.quantize_blocks(f, w)
                f1, lx = _lane_codes(f, cx, lanes)
                _, lw = _lane_codes(f, cw, lanes)
                got = B.block_dot(f1, lx, f1, lw, "fp32")
                if f.tensor_scale is not None:
                    got = B.apply_tensor_scales(got, cx.tensor_scale, cw.tensor_scale, "fp32")
                qref = exact_dot(qx[lanes], B.dequantize_blocks(f, cw)[lanes])
                row["dot_rel_rms_error"] = _rel_rms(got, ref)
                row["dot_rel_error_median"], row["dot_err_over_l1_median"] = _dot_errors(got, ref, l1)
                row["acc_rel_error_median"] = _dot_errors(got, qref, l1)[0]
            out.append(row)
    df = pd.DataFrame(out)
    df["rows"], df["n"], df["seed"] = rows, n, seed
    return df
