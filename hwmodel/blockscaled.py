"""Golden numerics of block-scaled formats: block quantisation per scale rule, and the block dot.

A block format (hwmodel.formats.BlockFormat) stores `block_size` element codes (along the dot axis)
and one scale code per block (per `block_rows` x `block_size` tile for 2-D blocks), optionally one
FP32 scale per tensor (NVFP4). Value of element i of block j:  decode(scale_j) * decode(elem_i)
(* tensor scale). This module is the contract that rtl/blockdot.py and the GPU kernels are checked
against; everything is vectorised numpy over independent lanes.

Scale rules (`quantize_blocks`), amax = max |x| over the block:
  OCP   OCP MX v1.0 s6.3: X = 2^(floor(log2 amax) - emax_elem), the exponent clamped into the scale
        format's power-of-two range; elements = RNE(x / X) saturating to +-max. An all-zero block
        takes the smallest scale. A block holding NaN or inf gets the scale's NaN code and zero
        elements (torchao differs for inf: see tests/data/torchao_mx/README.md).
  POW2  ShiftQuant (Guo et al., arXiv:2411.10948): X = the smallest power of two with
        amax / X <= elem_max, clamped into the scale's range; elements as for OCP. The rule of
        torchao's RCEIL mode (NVIDIA cuBLAS's UE8M0 rule) on E8M0 scales, computed exactly here
        (torchao's float32 log2 is one binade low just above powers of two).
  AMAX  NVFP4 / Jetfire: the scale is amax / elem_max rounded into the scale format. Computed as
        the NVIDIA reference does (and torchao's nvfp4_quantize), each step one IEEE binary32
        operation: x and amax in binary32; d = fl(amax / elem_max); with a tensor scale t,
        d = fl(d / t); scale code = RNE_scale(clamp(d, smallest positive normal, max));
        r = fl(1 / s) (two-level: fl(fl(1 / t) / s)); elements = RNE_elem(clamp(fl(x * r), +-max)).
        The tensor scale (format `tensor_scale`, FP32 for NVFP4) is t = fl(amax_tensor /
        (elem_max * scale_max)). NaN in a block gives the NaN scale code and zero elements; inf
        gives the largest scale (as torchao). Jetfire: int8 elements, amax / 127 into bf16 / fp32.

Block dot (`block_dot`, `block_dot_steps`): for operands a, b in block formats with the same
block size, along axis -1,
    S_j = sum_{i in block j} a_i * b_i          exact (integer arithmetic on the significands)
    V_j = S_j * sa_j * sb_j                     exact (the scale product is not rounded)
    float accumulator F:  acc <- RN_F(acc + V_j) once per block, acc starting at +0:
                          exactly n_blocks roundings, none inside a block (a fused block unit);
    Kulisch accumulator:  acc <- acc + V_j exactly in a W-bit two's-complement register (power-of-
                          two scales only; `block_kulisch_spec`), zero roundings; read-out rounds once.
Tensor scales are outside the unit: `apply_tensor_scales` multiplies the result by ta * tb in F
(two more roundings: fl(ta * tb), then fl(acc * that)).
Specials: a NaN scale code (E8M0 0xFF) makes its block NaN whatever the elements; element products
follow IEEE (NaN x y = NaN, inf x 0 = NaN); a block with a NaN product, or +inf and -inf
products, is NaN; else an inf product makes it inf of that sign; an inf block times a zero scale is
NaN; NaN/inf blocks enter the accumulator as NaN/inf (Kulisch: the sticky flags), overflow of F
gives +-inf (IEEE), of the Kulisch register the sticky overflow flag.

Public API
    scale_rule(fmt) -> 'ocp' | 'amax' | 'pow2';   is_pow2_scale(scale) -> bool
    pow2_scale_range(scale) -> (kmin, kmax);      encode_pow2_scale(scale, k) -> codes
    scale_fields(scale, codes) -> ScaleFields;    decode_scale(scale, codes) -> float64
    element_max(elem) -> float
    BlockCodes(scales, elements, tensor_scale=None)
    quantize_blocks(fmt, x, tensor_amax=None) -> BlockCodes;  dequantize_blocks(fmt, codes)
    block_sums(fa, a_elems, fb, b_elems, block_size) -> BlockSums (exact S_j and flags)
    BlockKulischSpec, block_kulisch_spec(fa, fb, guard_bits=12)
    block_dot_steps(fa, a, fb, b, acc='fp32') -> codes of the accumulator after every block
    block_dot(fa, a, fb, b, acc='fp32') -> float64 values
    apply_tensor_scales(values, ta, tb, acc='fp32') -> float64 values
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from hwmodel import accum
from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import FixedFormat, FloatFormat, IntFormat, NanEncoding, parse_format
from hwmodel.numerics import decode, encode

try:   # the bit-field helpers live in hwmodel.codec once the codec/accum split is in
    from hwmodel.codec import _float_fields, _float_sig_exp, _float_special, _nan_code
except ImportError:  # pragma: no cover - before the split
    from hwmodel.numerics import _float_fields, _float_sig_exp, _float_special, _nan_code

__all__ = ["scale_rule", "is_pow2_scale", "pow2_scale_range", "encode_pow2_scale", "scale_fields",
           "decode_scale", "element_max", "BlockCodes", "quantize_blocks", "dequantize_blocks",
           "BlockSums", "block_sums", "BlockKulischSpec", "block_kulisch_spec", "block_dot_steps",
           "block_dot", "apply_tensor_scales", "ScaleFields"]

_RULES = ("ocp", "amax", "pow2")


# ----------------------------------------------------------------------------------------------
# Reading a block format (the fields of hwmodel.formats.BlockFormat)
# ----------------------------------------------------------------------------------------------
def _block(fmt):
    f = parse_format(fmt) if isinstance(fmt, str) else fmt
    if not all(hasattr(f, k) for k in ("element", "scale", "block_size")):
        raise UnsupportedConfig(f"a block format such as mxfp8_e4m3 is needed here, not "
                                f"{getattr(f, 'name', f)!r}")
    return f


def scale_rule(fmt) -> str:
    """'ocp', 'amax' or 'pow2': the block format's ScaleRule (OCP when it names none)."""
    rule = getattr(_block(fmt), "rule", None)
    if rule is None:
        return "ocp"
    word = getattr(rule, "name", None) or getattr(rule, "value", None) or str(rule)
    word = str(word).strip().lower()
    if word not in _RULES:
        raise UnsupportedConfig(f"scale rule must be one of {', '.join(_RULES)}, not {rule!r}")
    return word


def _is_pow2_class(scale) -> bool:
    return type(scale).__name__ == "Pow2Scale"


def is_pow2_scale(scale) -> bool:
    """True for scales that are powers of two: Pow2Scale, or a float format with no mantissa bits
    and no zero (E8M0). Their product is an exponent addition, their application a shift."""
    if _is_pow2_class(scale):
        return True
    return isinstance(scale, FloatFormat) and scale.man_bits == 0 and not scale.subnormals


def pow2_scale_range(scale) -> tuple[int, int]:
    """(kmin, kmax): the scale holds 2^k for k in [kmin, kmax]."""
    if _is_pow2_class(scale):   # a bits-bit two's-complement exponent
        return -(1 << (scale.bits - 1)), (1 << (scale.bits - 1)) - 1
    if isinstance(scale, FloatFormat):
        lo = scale.emin - (scale.man_bits if scale.subnormals else 0)
        return lo, scale.emax
    raise UnsupportedConfig(f"a block scale must be a float format or Pow2Scale, not {scale!r}")


def encode_pow2_scale(scale, k) -> np.ndarray:
    """Codes of 2^k (k an int array inside pow2_scale_range) in the scale format."""
    k = np.asarray(k, np.int64)
    lo, hi = pow2_scale_range(scale)
    if k.size and (k.min() < lo or k.max() > hi):
        raise UnsupportedConfig(f"scale exponents must lie in [{lo}, {hi}]")
    if _is_pow2_class(scale):
        return k.astype(np.uint64) & np.uint64((1 << scale.bits) - 1)
    return encode(scale, np.ldexp(1.0, k.astype(np.int32)))


@dataclass
class ScaleFields:
    """Exact fields of scale codes: value = (-1)^neg * sig * 2^lsb_exp; nan / zero masks."""

    neg: np.ndarray
    sig: np.ndarray       # uint64
    lsb_exp: np.ndarray   # int64
    nan: np.ndarray
    zero: np.ndarray


def scale_fields(scale, codes) -> ScaleFields:
    """Exact fields of scale codes (Pow2Scale: two's-complement exponent k, value 2^k)."""
    c = np.asarray(codes).astype(np.uint64)
    if _is_pow2_class(scale):
        b = scale.bits
        k = c.astype(np.int64)
        k = np.where(k >= (1 << (b - 1)), k - (1 << b), k)
        z = np.zeros(c.shape, bool)
        return ScaleFields(z, np.ones(c.shape, np.uint64), k, z, z.copy())
    if not isinstance(scale, FloatFormat):
        raise UnsupportedConfig(f"a block scale must be a float format or Pow2Scale, not {scale!r}")
    sign, exp, man = _float_fields(scale, c)
    sig, lsb = _float_sig_exp(scale, exp, man)
    nan, inf = _float_special(scale, c, exp, man)
    if inf.any():
        raise UnsupportedConfig(f"scale codes must be finite or NaN, not inf (scale {scale.name})")
    sig = np.where(nan, np.uint64(0), sig)
    return ScaleFields(sign.astype(bool), sig, lsb.astype(np.int64), nan, (sig == 0) & ~nan)


def decode_scale(scale, codes) -> np.ndarray:
    """Scale values as float64 (NaN for the NaN code)."""
    if _is_pow2_class(scale):
        f = scale_fields(scale, codes)
        return np.ldexp(1.0, f.lsb_exp.astype(np.int32))
    return decode(scale, codes)


def element_max(elem) -> float:
    """Largest finite element magnitude (elem_max of the AMAX and POW2 rules)."""
    if isinstance(elem, FloatFormat):
        return elem.max_normal
    return float(elem.max_value)


def _elem_emax(elem) -> int:
    """OCP MX emax_elem: exponent of the largest power of two the element format holds."""
    if isinstance(elem, FloatFormat):
        return elem.emax
    return math.frexp(elem.max_value)[1] - 1


# ----------------------------------------------------------------------------------------------
# Quantisation
# ----------------------------------------------------------------------------------------------
@dataclass
class BlockCodes:
    """Codes of a block-quantised tensor: scales (..., n/block) (2-D blocks: (..., R/rows,
    n/block)), elements (..., n) as uint64, and the per-tensor scale (a float value, or None)."""

    scales: np.ndarray
    elements: np.ndarray
    tensor_scale: float | None = None


def _blocks_view(fmt, x: np.ndarray) -> tuple[np.ndarray, int]:
    """x reshaped (..., R/rows, rows, n/bs, bs) (rows = 1: (..., n/bs, bs)), and rows."""
    bs = fmt.block_size
    rows = int(getattr(fmt, "block_rows", 1) or 1)
    if x.ndim == 0 or x.shape[-1] % bs:
        raise UnsupportedConfig(f"the last axis of x must be a multiple of the block size {bs}, "
                                f"not shape {x.shape}")
    if rows == 1:
        return x.reshape(*x.shape[:-1], x.shape[-1] // bs, bs), 1
    if x.ndim < 2 or x.shape[-2] % rows:
        raise UnsupportedConfig(f"2-D blocks of {rows}x{bs} need x of shape (..., R, n) with R a "
                                f"multiple of {rows}, not {x.shape}")
    return x.reshape(*x.shape[:-2], x.shape[-2] // rows, rows, x.shape[-1] // bs, bs), rows


def _amax(xb: np.ndarray, rows: int) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        a = np.abs(xb)
        return np.max(a, axis=(-3, -1)) if rows > 1 else np.max(a, axis=-1)


def _spread(per_block: np.ndarray, rows: int) -> np.ndarray:
    """Per-block values broadcast against the blocks view."""
    return per_block[..., :, None, :, None] if rows > 1 else per_block[..., None]


def _nan_scale_code(scale, shape) -> np.ndarray:
    if _is_pow2_class(scale) or not scale.has_nan:
        raise UnsupportedConfig(f"a block holding NaN or inf needs a scale format with a NaN code; "
                                f"{getattr(scale, 'name', scale)!r} has none")
    return _nan_code(scale, np.zeros(shape, bool))


def _pow2_exponents(fmt, amax: np.ndarray, rule: str) -> np.ndarray:
    """Shared exponent k per block (int64) for the OCP and POW2 rules, clamped into the scale."""
    elem = fmt.element
    safe = np.where(np.isfinite(amax) & (amax > 0), amax, 1.0)
    if rule == "ocp":
        k = np.frexp(safe)[1].astype(np.int64) - 1 - _elem_emax(elem)
    else:
        emax = element_max(elem)
        k = np.frexp(safe / emax)[1].astype(np.int64)      # close to ceil(log2(amax / emax))
        # exact corrections: the smallest k with amax <= emax * 2^k (products exact in float64)
        for _ in range(2):
            k = np.where(safe > np.ldexp(emax, k.astype(np.int32)), k + 1, k)
            k = np.where(safe <= np.ldexp(emax, (k - 1).astype(np.int32)), k - 1, k)
    lo, hi = pow2_scale_range(fmt.scale)
    k = np.where(amax > 0, k, lo)
    return np.clip(k, lo, hi)


def _f32(x) -> np.ndarray:
    return np.asarray(x, np.float32)


def quantize_blocks(fmt, x, tensor_amax: float | None = None) -> BlockCodes:
    """Block-quantise x (blocks along the last axis) by the format's scale rule (module docstring).

    tensor_amax: the per-tensor amax of a format with a tensor scale (default: max |x|).
    Raises UnsupportedConfig when the last axis is not a multiple of the block size, FormatError for
    non-numeric input.
    """
    f = _block(fmt)
    try:
        arr = np.asarray(x, np.float64)
    except (TypeError, ValueError):
        raise FormatError(f"values to quantise must be numbers, not {x!r:.60}") from None
    rule = scale_rule(f)
    elem, scale = f.element, f.scale
    tscale_fmt = getattr(f, "tensor_scale", None)
    if rule == "amax":
        arr = _f32(arr).astype(np.float64)          # the AMAX rule works in binary32
    xb, rows = _blocks_view(f, arr)
    amax = _amax(xb, rows)
    bad = ~np.isfinite(amax) if rule != "amax" else np.isnan(amax)
    t_val = None
    if rule in ("ocp", "pow2"):
        if tscale_fmt is not None:
            raise UnsupportedConfig("a tensor scale needs the AMAX scale rule (NVFP4)")
        k = _pow2_exponents(f, amax, rule)
        if is_pow2_scale(scale):
            codes = encode_pow2_scale(scale, k)
        else:
            codes = encode(scale, np.ldexp(1.0, k.astype(np.int32)))
        scaled = np.ldexp(np.where(_spread(bad, rows), 0.0, xb),
                          -_spread(k, rows).astype(np.int32))
        elems = encode(elem, scaled, saturate=True)
    else:
        if is_pow2_scale(scale):
            raise UnsupportedConfig("the AMAX scale rule needs a scale format with a mantissa "
                                    "(ue4m3, bf16, fp32); use OCP or POW2 for power-of-two scales")
        emax = np.float32(element_max(elem))
        smax = np.float32(scale.max_normal)
        smin = np.float32(scale.min_normal)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            d = _f32(amax) / emax
            if tscale_fmt is not None:
                ta = float(np.max(np.abs(arr))) if tensor_amax is None else float(tensor_amax)
                t = _f32(ta) / (emax * smax)        # emax * smax exact in binary32 (6 * 448)
                t_val = float(encode_decode(tscale_fmt, t))
                d = d / np.float32(t_val)
            d = np.where(np.isnan(d), d, np.clip(d, smin, smax))
            codes = encode(scale, d.astype(np.float64))
            if bad.any():
                codes = np.where(bad, _nan_scale_code(scale, bad.shape), codes)
            s32 = _f32(decode(scale, codes))
            one = np.float32(1.0)
            r = one / s32 if t_val is None else (one / np.float32(t_val)) / s32
            y = _f32(xb) * _f32(_spread(r, rows))
            y = np.clip(y, -emax, emax)
            y = np.where(_spread(bad, rows), np.float32(0.0), y)
        elems = encode(elem, y.astype(np.float64), saturate=True)
    if rule != "amax" and bad.any():
        codes = np.where(bad, _nan_scale_code(scale, bad.shape), codes)
    return BlockCodes(np.asarray(codes, np.uint64), elems.reshape(arr.shape).astype(np.uint64), t_val)


def encode_decode(fmt, x) -> np.ndarray:
    """decode(encode(x)) in a scalar float format (RNE)."""
    return decode(fmt, encode(fmt, np.asarray(x, np.float64)))


def _row_scales(fmt, scales: np.ndarray) -> np.ndarray:
    """Scales of 2-D tiles repeated to one per row of blocks (..., R, n/bs)."""
    rows = int(getattr(fmt, "block_rows", 1) or 1)
    if rows == 1:
        return scales
    return np.repeat(scales, rows, axis=-2)


def dequantize_blocks(fmt, codes: BlockCodes) -> np.ndarray:
    """Values decode(scale) * decode(element) (* tensor scale) as float64, shape of the elements."""
    f = _block(fmt)
    e = decode(f.element, codes.elements)
    s = _row_scales(f, decode_scale(f.scale, codes.scales))
    bs = f.block_size
    if e.ndim == 0 or e.shape[-1] != s.shape[-1] * bs:
        raise UnsupportedConfig(f"element codes {e.shape} and scale codes {s.shape} do not match "
                                f"blocks of {bs}")
    v = (e.reshape(*e.shape[:-1], s.shape[-1], bs) * s[..., None]).reshape(e.shape)
    if codes.tensor_scale is not None:
        v = v * codes.tensor_scale
    return v


# ----------------------------------------------------------------------------------------------
# Exact block sums
# ----------------------------------------------------------------------------------------------
@dataclass
class BlockSums:
    """S_j = sum of a block's exact products: value S * 2^lsb_exp. S is int64 when every sum fits
    62 bits, else an object array of Python ints. nan / pinf / ninf: the block's product flags."""

    S: np.ndarray
    lsb_exp: int
    nan: np.ndarray
    pinf: np.ndarray
    ninf: np.ndarray
    sum_bits: int     # two's-complement bits that hold every S of these formats and block size


def _elem_lsb(f) -> int:
    if isinstance(f, FloatFormat):
        return f.emin - f.man_bits
    return -f.frac_bits if isinstance(f, FixedFormat) else 0


def _elem_mag_bits(f) -> int:
    """Bits of the largest element magnitude at the element LSB."""
    if isinstance(f, FloatFormat):
        return (f.emax - f.emin) + f.precision
    return f.bits if not f.signed else f.bits - 1 + 1   # |min_int| = 2^(bits-1) needs `bits` bits


def block_sum_bits(fa, fb, block_size: int) -> int:
    """Signed bits of S: product magnitude bits + ceil(log2 block_size) carries + sign."""
    return _elem_mag_bits(fa) + _elem_mag_bits(fb) + (block_size - 1).bit_length() + 1


@functools.lru_cache(maxsize=32)
def _elem_lut(f):
    """Per code of a <= 16-bit element format: (signed integer value at the format's LSB, int64;
    nan; inf; neg) - specials carry value 0."""
    codes = np.arange(1 << f.bits, dtype=np.uint64)
    neg, mag, exp, nan, inf = accum._exact_fields(f, codes)
    shift = (exp - _elem_lsb(f)).astype(np.uint64)
    v = np.where(nan | inf, np.uint64(0), mag << shift).astype(np.int64)
    v = np.where(neg, -v, v)
    for arr in (v, nan, inf, neg):
        arr.flags.writeable = False
    return v, nan, inf, neg


def _elem_parts(f, codes):
    """(signed int value at the LSB, nan, inf, neg) per element code; object ints when wide."""
    c = np.asarray(codes)
    if f.bits <= 16 and _elem_mag_bits(f) <= 62:
        v, nan, inf, neg = _elem_lut(f)
        idx = c.astype(np.intp)
        return v[idx], nan[idx], inf[idx], neg[idx]
    neg, mag, exp, nan, inf = accum._exact_fields(f, c)
    sh = (exp - _elem_lsb(f)).astype(object)
    v = np.left_shift(mag.astype(object), sh)
    v = np.where(nan | inf, 0, v)
    return np.where(neg, -v, v).astype(object), nan, inf, neg


def block_sums(fa, a_elems, fb, b_elems, block_size: int) -> BlockSums:
    """Exact sums of the element products of each block (blocks along axis -1)."""
    a, b = np.broadcast_arrays(np.asarray(a_elems), np.asarray(b_elems))
    if a.ndim == 0 or a.shape[-1] % block_size:
        raise UnsupportedConfig(f"element codes of shape {a.shape} do not split into blocks of "
                                f"{block_size}")
    for f, c in ((fa, a), (fb, b)):
        if c.size and (c.dtype.kind not in "ui" or int(c.min()) < 0 or int(c.max()) >> f.bits):
            raise FormatError(f"element codes of {f.name} must be integers in "
                              f"0..{(1 << f.bits) - 1}")
    va, nan_a, inf_a, neg_a = _elem_parts(fa, a)
    vb, nan_b, inf_b, neg_b = _elem_parts(fb, b)
    L = _elem_lsb(fa) + _elem_lsb(fb)
    width = block_sum_bits(fa, fb, block_size)
    blk = (*a.shape[:-1], a.shape[-1] // block_size, block_size)
    if width <= 62 and va.dtype == np.int64 and vb.dtype == np.int64:
        S = (va * vb).reshape(blk).sum(axis=-1)
    else:
        S = (va.astype(object) * vb.astype(object)).reshape(blk).sum(axis=-1)
    nshape = blk[:-1]
    if not (nan_a.any() or nan_b.any() or inf_a.any() or inf_b.any()):
        z = np.zeros(nshape, bool)
        return BlockSums(S, L, z, z.copy(), z.copy(), width)
    zero_a, zero_b = (va == 0) & ~inf_a & ~nan_a, (vb == 0) & ~inf_b & ~nan_b
    nan = nan_a | nan_b | (inf_a & zero_b) | (zero_a & inf_b)
    inf = (inf_a | inf_b) & ~nan
    neg = neg_a ^ neg_b
    pinf = (inf & ~neg).reshape(blk).any(axis=-1)
    ninf = (inf & neg).reshape(blk).any(axis=-1)
    return BlockSums(S, L, nan.reshape(blk).any(axis=-1), pinf, ninf, width)


# ----------------------------------------------------------------------------------------------
# Block values and accumulation
# ----------------------------------------------------------------------------------------------
def _operands(fmt, x):
    f = _block(fmt)
    if isinstance(x, BlockCodes):
        return f, np.asarray(x.scales), np.asarray(x.elements)
    scales, elems = x
    return f, np.asarray(scales), np.asarray(elems)


@dataclass
class _BlockValues:
    """V_j = sign * mag * 2^exp exactly (mag int64 or object), with special masks."""

    mag: np.ndarray       # signed integer (sign included)
    exp: np.ndarray       # int64
    nan: np.ndarray
    inf: np.ndarray
    inf_neg: np.ndarray


def _block_values(fa, a, fb, b) -> tuple[_BlockValues, BlockSums]:
    fa, sa, ea = _operands(fa, a)
    fb, sb, eb = _operands(fb, b)
    if fa.block_size != fb.block_size:
        raise UnsupportedConfig(f"a block dot needs one block size on both sides, not "
                                f"{fa.block_size} and {fb.block_size}")
    sums = block_sums(fa.element, ea, fb.element, eb, fa.block_size)
    sa = np.broadcast_to(_row_scales(fa, sa), sums.S.shape)
    sb = np.broadcast_to(_row_scales(fb, sb), sums.S.shape)
    A, B = scale_fields(fa.scale, sa), scale_fields(fb.scale, sb)
    sig = A.sig * B.sig                     # <= 2^48 for fp32 scales: exact in uint64
    neg = A.neg ^ B.neg
    szero = A.zero | B.zero
    block_inf = (sums.pinf | sums.ninf)
    nan = sums.nan | (sums.pinf & sums.ninf) | A.nan | B.nan | (block_inf & szero)
    inf = block_inf & ~nan
    inf_neg = sums.ninf ^ neg
    S = sums.S
    fast = S.dtype == np.int64 and sums.sum_bits + int(sig.max(initial=1)).bit_length() <= 62
    if fast:
        mag = S * sig.astype(np.int64)
    else:
        mag = S.astype(object) * sig.astype(object)
    mag = np.where(neg, -mag, mag)
    mag = np.where(nan | inf, 0, mag)
    if not fast:
        mag = mag.astype(object)
    exp = sums.lsb_exp + A.lsb_exp + B.lsb_exp
    return _BlockValues(mag, exp, nan, inf, inf_neg), sums


def _values_f64(v: _BlockValues) -> tuple[np.ndarray, bool]:
    """V as float64 and whether every finite V is exact in float64."""
    if v.mag.dtype == np.int64 and (v.mag.size == 0 or int(np.abs(v.mag).max()) < (1 << 53)) \
            and (v.exp.size == 0 or (v.exp.max() < 960 and v.exp.min() > -1074)):
        out = np.ldexp(v.mag.astype(np.float64), v.exp.astype(np.int32))
        exact = True
    else:
        flat_m, flat_e = v.mag.reshape(-1).tolist(), v.exp.reshape(-1).tolist()
        out = np.array([accum._int_pow2_to_float(int(m), int(e), odd=True)
                        for m, e in zip(flat_m, flat_e)], np.float64).reshape(v.mag.shape)
        exact = False
    out = np.where(v.nan, np.nan, out)
    out = np.where(v.inf, np.where(v.inf_neg, -np.inf, np.inf), out)
    return out, exact


# IEEE formats numpy casts to with round-to-nearest-even (float64 -> float32 / float16)
_NATIVE = {(8, 23, 127, NanEncoding.IEEE, True, True): np.float32,
           (5, 10, 15, NanEncoding.IEEE, True, True): np.float16}


def _float_steps(F: FloatFormat, v: _BlockValues) -> np.ndarray:
    """acc values after every block: acc <- RN_F(acc + V_j), acc starting at +0."""
    vals, exact = _values_f64(v)
    n = vals.shape[-1]
    out = np.empty(vals.shape, np.float64)
    rne = accum.Rounding.RNE
    if exact:
        acc = np.zeros(vals.shape[:-1])
        native = _NATIVE.get((F.exp_bits, F.man_bits, F.bias, F.nan, F.signed, F.subnormals))
        for j in range(n):
            if native is not None:
                # the exact sum rounded to odd at 53 bits, then numpy's IEEE RNE cast: one correct
                # rounding (precision <= 51, Boldo & Melquiond 2008), overflow to inf
                with np.errstate(over="ignore"):
                    acc = accum._round_to_odd_sum(acc, vals[..., j]).astype(native).astype(np.float64)
            else:
                acc = accum._add_round(F, acc, vals[..., j], rne, None)
            out[..., j] = acc
        return out
    # V wider than 53 bits: exact integer sums per lane (slow path; fp32 scales on wide sums)
    lanes_m = v.mag.reshape(-1, n)
    lanes_e = v.exp.reshape(-1, n)
    flat_v = vals.reshape(-1, n)
    res = out.reshape(-1, n)
    for i in range(lanes_m.shape[0]):
        acc = 0.0
        for j in range(n):
            vj = flat_v[i, j]
            if not math.isfinite(vj) or not math.isfinite(acc):
                acc = float(accum._add_round(F, np.float64(acc), np.float64(vj), rne, None))
            else:
                m, e = int(lanes_m[i, j]), int(lanes_e[i, j])
                am, ae = (0, e) if acc == 0 else _float_to_int_pow2(acc)
                lo = min(e, ae)
                total = (m << (e - lo)) + (am << (ae - lo))
                s = accum._int_pow2_to_float(total, lo, odd=True)
                acc = float(encode_decode(F, s))
            res[i, j] = acc
    return out


def _float_to_int_pow2(x: float) -> tuple[int, int]:
    m, e = math.frexp(x)
    return int(math.ldexp(m, 53)), e - 53


@dataclass(frozen=True)
class BlockKulischSpec:
    """Kulisch register across blocks with power-of-two scales: value = acc * 2^lsb_exp.

    width = sum_bits + (kmax_a - kmin_a) + (kmax_b - kmin_b) + guard_bits: the widest block sum,
    shifted left by up to both scales' exponent spans, plus 2^guard_bits blocks of headroom.
    lsb_exp = element LSBs + kmin_a + kmin_b."""

    width: int
    lsb_exp: int
    guard_bits: int
    sum_bits: int
    shift_span: int

    @property
    def name(self) -> str:
        return f"kulisch{self.width}"


def block_kulisch_spec(fa, fb, guard_bits: int = 12) -> BlockKulischSpec:
    fa, fb = _block(fa), _block(fb)
    for f in (fa, fb):
        if not is_pow2_scale(f.scale):
            raise UnsupportedConfig(f"a Kulisch accumulator across blocks needs power-of-two scales "
                                    f"(e8m0, Pow2Scale), not {getattr(f.scale, 'name', f.scale)!r}; "
                                    "use a float accumulator (fp32, fp16, bf16)")
    if not isinstance(guard_bits, int) or not 0 <= guard_bits <= 64:
        raise UnsupportedConfig(f"Kulisch guard bits must be an int in 0..64, not {guard_bits!r}")
    (la, ha), (lb, hb) = pow2_scale_range(fa.scale), pow2_scale_range(fb.scale)
    sb = block_sum_bits(fa.element, fb.element, fa.block_size)
    span = (ha - la) + (hb - lb)
    return BlockKulischSpec(sb + span + guard_bits, _elem_lsb(fa.element) + _elem_lsb(fb.element)
                            + la + lb, guard_bits, sb, span)


def _kulisch_steps(spec: BlockKulischSpec, v: _BlockValues):
    """Register (object ints) after every block plus the sticky flags after every block."""
    W = spec.width
    shift = (v.exp - spec.lsb_exp).astype(object)
    terms = np.left_shift(v.mag.astype(object), shift)   # exact: every exp >= lsb_exp
    terms = np.where(v.nan | v.inf, 0, terms).astype(object)
    half, n = 1 << (W - 1), terms.shape[-1]
    reg = np.zeros(terms.shape[:-1], object)
    regs = np.empty(terms.shape, object)
    below = np.zeros(terms.shape, bool)
    above = np.zeros(terms.shape, bool)
    for j in range(n):
        t = reg + terms[..., j]                          # the exact sum of this addition
        below[..., j] = np.vectorize(lambda z: z < -half, otypes=[bool])(t)
        above[..., j] = np.vectorize(lambda z: z > half - 1, otypes=[bool])(t)
        reg = ((t + half) % (1 << W)) - half             # the register wraps
        regs[..., j] = reg
    ovf = np.logical_or.accumulate(below | above, axis=-1)
    first = np.argmax(below | above, axis=-1)
    neg_first = np.take_along_axis(below, first[..., None], axis=-1)
    # overflow_neg: the direction of the first overflow, once there has been one
    ovf_neg = ovf & (np.arange(n) >= first[..., None]) & neg_first
    pinf, ninf = v.inf & ~v.inf_neg, v.inf & v.inf_neg
    return regs, {"nan": np.logical_or.accumulate(v.nan, axis=-1),
                  "pinf": np.logical_or.accumulate(pinf, axis=-1),
                  "ninf": np.logical_or.accumulate(ninf, axis=-1),
                  "overflow": ovf, "overflow_neg": ovf_neg}


def block_dot_steps(fa, a, fb, b, acc="fp32"):
    """The accumulator after every block of sum_i a_i * b_i (axis -1), per the module contract.

    a, b: BlockCodes or (scale codes, element codes). Float accumulator: codes of acc.fmt, shape
    (..., n_blocks). Kulisch ('kulisch' / 'kulisch:V'): (registers as an object array of Python
    ints, dict of cumulative sticky flags nan/pinf/ninf/overflow), with the register value
    reg * 2^block_kulisch_spec(fa, fb, V).lsb_exp.
    """
    spec = accum.parse_acc(acc)
    v, sums = _block_values(fa, a, fb, b)
    if spec.kind == "float":
        F = accum._check_acc_float(spec.fmt)
        return encode(F, _float_steps(F, v))
    if spec.kind == "kulisch":
        ks = block_kulisch_spec(_block(fa), _block(fb), spec.guard_bits)
        return _kulisch_steps(ks, v)
    raise UnsupportedConfig(f"a block dot accumulates into a float (fp32, fp16, bf16) or Kulisch "
                            f"accumulator, not {spec.name!r}")


def block_dot(fa, a, fb, b, acc="fp32") -> np.ndarray:
    """sum_i a_i * b_i along axis -1 as float64 values of the accumulator (module contract).

    Kulisch: the register value rounded once to float64 (RNE); NaN if a NaN block or +inf and -inf
    blocks; +-inf for inf blocks; a register overflow reads as inf signed as the first overflow
    (hwmodel.accum.kulisch_to_float's rules)."""
    spec = accum.parse_acc(acc)
    out = block_dot_steps(fa, a, fb, b, spec)
    if spec.kind == "float":
        return decode(spec.fmt, out[..., -1]) if out.shape[-1] else np.zeros(out.shape[:-1])
    regs, flags = out
    ks = block_kulisch_spec(_block(fa), _block(fb), spec.guard_bits)
    last = regs[..., -1]
    vals = np.array([accum._int_pow2_to_float(int(r), ks.lsb_exp, odd=False)
                     for r in np.ravel(last)], np.float64).reshape(np.shape(last))
    fl = {k: f[..., -1] for k, f in flags.items()}
    vals = np.where(fl["overflow"], np.where(fl["overflow_neg"], -np.inf, np.inf), vals)
    vals = np.where(fl["pinf"], np.inf, vals)
    vals = np.where(fl["ninf"], -np.inf, vals)
    vals = np.where(fl["nan"] | (fl["pinf"] & fl["ninf"]), np.nan, vals)
    return vals


def apply_tensor_scales(values, ta: float | None, tb: float | None, acc="fp32") -> np.ndarray:
    """values * (ta * tb) in the float accumulator format: fl(fl(ta * tb) * values), two roundings
    (a missing tensor scale counts as 1)."""
    spec = accum.parse_acc(acc)
    F = spec.fmt if spec.kind == "float" else parse_format("fp32")
    t = encode_decode(F, (1.0 if ta is None else ta) * (1.0 if tb is None else tb))
    with np.errstate(invalid="ignore", over="ignore"):
        return encode_decode(F, np.asarray(values, np.float64) * t)
