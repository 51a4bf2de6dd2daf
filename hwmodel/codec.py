"""Codes and values: bit-exact, vectorised decode/encode of every catalogue format.

The first half of the golden numerics (the second, accumulation, is hwmodel.accum; both are
importable from hwmodel.numerics, the public face). These functions are the contract the RTL and
the GPU kernels are checked against (docs/DESIGN.md, "Codes and values", "Products"). They work on
*codes*: unsigned
integer bit patterns held in numpy uint64 arrays. Every value of every format this module accepts is
a float64 value, so decoded values are exact float64 numbers; rounding is done on integers taken from
the float64 bit pattern, never by computing in float and calling round().
"""

from __future__ import annotations

import enum
import functools
import math
from fractions import Fraction

import numpy as np

from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import (BlockFormat, FixedFormat, FloatFormat, Format, IntFormat, NanEncoding,
                             Pow2Scale, ScaleRule, parse_format, parse_scale)

__all__ = [
    "Rounding", "parse_rounding", "decode", "decode_exact", "all_codes", "is_nan", "mul_exact",
    "encode", "quantize", "quantize_block", "dequantize_block", "decode_scale",
]

# Formats of at most this many bits decode through a cached lookup table.
_LUT_MAX_BITS = 16
# all_codes refuses wider formats: 2^24 codes is already 128 MiB of uint64.
_ALL_CODES_MAX_BITS = 24


class Rounding(enum.Enum):
    """Rounding modes of `encode` (and of every accumulator that rounds)."""

    RNE = "rne"                # to nearest, ties to even
    RTZ = "rtz"                # toward zero (truncate)
    AWAY = "away"              # directed, away from zero (any inexact result grows in magnitude)
    RNA = "rna"                # to nearest, ties away from zero
    STOCHASTIC = "stochastic"  # up with probability (x - lower) / (upper - lower); seeded


def parse_rounding(mode: str | Rounding) -> Rounding:
    """'rne'|'rtz'|'away'|'rna'|'stochastic' (any case) or a Rounding -> Rounding."""
    if isinstance(mode, Rounding):
        return mode
    try:
        return Rounding(str(mode).strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Rounding)
        raise FormatError(f"rounding mode must be one of {allowed}, not {mode!r}") from None


def _fmt(fmt: Format | str) -> Format:
    return parse_format(fmt)


def _scalar_format(fmt: Format | str, what: str) -> Format:
    f = _fmt(fmt)
    if isinstance(f, BlockFormat):
        raise UnsupportedConfig(f"{what} takes a scalar format, not the block format {f.name!r}; "
                                "use quantize_block/dequantize_block for block formats")
    return f


def _codes(fmt: Format, codes) -> np.ndarray:
    """Codes as a uint64 array, each checked to lie in 0 .. 2^bits - 1."""
    arr = np.asarray(codes)
    if arr.dtype.kind not in "ui":
        if arr.dtype.kind == "O" or arr.size == 0:
            arr = arr.astype(np.int64) if arr.size else arr.astype(np.uint64)
        else:
            raise FormatError(f"codes must be integers, not an array of {arr.dtype}")
    if arr.dtype.kind == "i" and arr.size and arr.min() < 0:
        raise FormatError(f"codes must be >= 0 (unsigned bit patterns), not {int(arr.min())}")
    arr = arr.astype(np.uint64, copy=False)
    if fmt.bits < 64 and arr.size and int(arr.max()) >> fmt.bits:
        raise FormatError(f"codes of {fmt.name} must be in 0..{(1 << fmt.bits) - 1}, "
                          f"not {int(arr.max())}")
    return arr


# ----------------------------------------------------------------------------------------------
# Fields of float codes
# ----------------------------------------------------------------------------------------------
def _float_fields(fmt: FloatFormat, c: np.ndarray):
    """(sign, exponent field, mantissa field) as uint64 arrays."""
    m_bits, e_bits = fmt.man_bits, fmt.exp_bits
    man = c & np.uint64((1 << m_bits) - 1)
    exp = (c >> np.uint64(m_bits)) & np.uint64((1 << e_bits) - 1)
    if fmt.signed:
        sign = (c >> np.uint64(m_bits + e_bits)) & np.uint64(1)
    else:
        sign = np.zeros_like(c)
    return sign, exp, man


def _float_special(fmt: FloatFormat, c: np.ndarray, exp, man):
    """(nan mask, inf mask) of float codes, per the format's NanEncoding."""
    all_e = (1 << fmt.exp_bits) - 1
    all_m = (1 << fmt.man_bits) - 1
    if fmt.nan is NanEncoding.IEEE:
        top = exp == np.uint64(all_e)
        return top & (man != 0), top & (man == 0)
    if fmt.nan is NanEncoding.ALL_ONES:
        return (exp == np.uint64(all_e)) & (man == np.uint64(all_m)), np.zeros(c.shape, bool)
    if fmt.nan is NanEncoding.NEG_ZERO:
        return c == np.uint64(1 << (fmt.bits - 1)), np.zeros(c.shape, bool)
    return np.zeros(c.shape, bool), np.zeros(c.shape, bool)


def _float_sig_exp(fmt: FloatFormat, exp, man):
    """Integer significand and exponent of its LSB: |value| = sig * 2^lsb_exp (finite codes)."""
    m_bits = fmt.man_bits
    if fmt.subnormals:
        normal = exp != 0
        sig = np.where(normal, man | np.uint64(1 << m_bits), man)
        e_field = np.where(normal, exp, np.uint64(1)).astype(np.int64)
    else:
        sig = man | np.uint64(1 << m_bits)
        e_field = exp.astype(np.int64)
    return sig, e_field - (fmt.bias + m_bits)


def _decode_direct(fmt: Format, c: np.ndarray) -> np.ndarray:
    if isinstance(fmt, (IntFormat, FixedFormat)):
        if fmt.bits > 53:
            raise UnsupportedConfig(f"decode to float64 needs a format of <= 53 bits, not {fmt.name} "
                                    f"({fmt.bits} bits)")
        v = c.astype(np.int64)
        if fmt.signed:
            v = np.where(v >= (1 << (fmt.bits - 1)), v - (1 << fmt.bits), v)
        out = v.astype(np.float64)
        if isinstance(fmt, FixedFormat):
            out = np.ldexp(out, -fmt.frac_bits)
        return out
    sign, exp, man = _float_fields(fmt, c)
    sig, lsb = _float_sig_exp(fmt, exp, man)
    # sig < 2^53 and lsb >= -1074 (checked by FloatFormat), so ldexp is exact.
    val = np.ldexp(sig.astype(np.float64), lsb.astype(np.int32))
    val = np.where(sign.astype(bool), -val, val)
    nan, inf = _float_special(fmt, c, exp, man)
    if nan.any():
        val[nan] = np.nan
    if inf.any():
        val[inf] = np.where(sign[inf].astype(bool), -np.inf, np.inf)
    return val


@functools.lru_cache(maxsize=64)
def _decode_lut(fmt: Format) -> np.ndarray:
    lut = _decode_direct(fmt, np.arange(1 << fmt.bits, dtype=np.uint64))
    lut.flags.writeable = False
    return lut


def decode(fmt: Format | str, codes) -> np.ndarray:
    """Exact float64 value of each code (same shape as `codes`).

    NaN codes give NaN, infinity codes +-inf, -0 codes -0.0. Integers decode to their integer value,
    fixed point to int * 2^-frac_bits. Block formats: use `dequantize_block`.
    Raises FormatError for codes outside 0 .. 2^bits - 1.
    """
    f = _scalar_format(fmt, "decode")
    c = _codes(f, codes)
    if f.bits <= _LUT_MAX_BITS:
        return _decode_lut(f)[c.astype(np.intp)]
    return _decode_direct(f, np.atleast_1d(c)).reshape(c.shape)


def decode_exact(fmt: Format | str, code: int):
    """Exact value of one code as a Fraction, or float('nan') / float('+-inf').

    A slow, independent scalar reference (Python integers and Fractions only) that the vectorised
    `decode` is tested against. Negative zero decodes to Fraction(0): use `decode` for the sign.
    """
    f = _scalar_format(fmt, "decode_exact")
    code = int(code)
    if not 0 <= code < (1 << f.bits):
        raise FormatError(f"codes of {f.name} must be in 0..{(1 << f.bits) - 1}, not {code}")
    if isinstance(f, (IntFormat, FixedFormat)):
        v = code - (1 << f.bits) if f.signed and code >> (f.bits - 1) else code
        return Fraction(v) * (f.lsb if isinstance(f, FixedFormat) else 1)
    m_bits, e_bits = f.man_bits, f.exp_bits
    man = code & ((1 << m_bits) - 1)
    exp = (code >> m_bits) & ((1 << e_bits) - 1)
    neg = f.signed and bool(code >> (m_bits + e_bits))
    all_e, all_m = (1 << e_bits) - 1, (1 << m_bits) - 1
    if f.nan is NanEncoding.IEEE and exp == all_e:
        return float("nan") if man else (float("-inf") if neg else float("inf"))
    if f.nan is NanEncoding.ALL_ONES and exp == all_e and man == all_m:
        return float("nan")
    if f.nan is NanEncoding.NEG_ZERO and code == 1 << (f.bits - 1):
        return float("nan")
    if exp == 0 and f.subnormals:
        mag = Fraction(man, 1 << m_bits) * Fraction(2) ** (1 - f.bias)
    else:
        mag = (1 + Fraction(man, 1 << m_bits)) * Fraction(2) ** (exp - f.bias)
    return -mag if neg else mag


def all_codes(fmt: Format | str) -> np.ndarray:
    """Every code of a scalar format of <= 24 bits, ascending, as uint64."""
    f = _scalar_format(fmt, "all_codes")
    if f.bits > _ALL_CODES_MAX_BITS:
        raise UnsupportedConfig(f"all_codes needs a format of <= {_ALL_CODES_MAX_BITS} bits, not "
                                f"{f.name} ({f.bits} bits); sample codes instead")
    return np.arange(1 << f.bits, dtype=np.uint64)


def is_nan(fmt: Format | str, codes) -> np.ndarray:
    """Boolean mask of the NaN codes (always False for integer, fixed and NONE formats)."""
    f = _scalar_format(fmt, "is_nan")
    c = _codes(f, codes)
    if not isinstance(f, FloatFormat):
        return np.zeros(c.shape, bool)
    _, exp, man = _float_fields(f, c)
    return _float_special(f, c, exp, man)[0]


def _sig_bits(f: Format) -> int:
    """Bits of the magnitude of an exact significand (integers: bits, floats: precision)."""
    return f.precision if isinstance(f, FloatFormat) else f.bits


def mul_exact(fa: Format | str, a_codes, fb: Format | str, b_codes) -> np.ndarray:
    """Exact product of decoded values, as float64 (broadcast over a_codes and b_codes).

    IEEE rules: NaN if either operand is NaN or for 0 x inf; +-inf if either is inf; the sign of a
    zero product is the XOR of the operand signs. Exact because both significands together have at
    most 53 bits (checked: UnsupportedConfig otherwise) and every product of catalogue formats lies
    in float64's normal range or is a multiple of 2^-1074.
    """
    fa, fb = _scalar_format(fa, "mul_exact"), _scalar_format(fb, "mul_exact")
    if _sig_bits(fa) + _sig_bits(fb) > 53:
        raise UnsupportedConfig(f"the product of {fa.name} and {fb.name} needs "
                                f"{_sig_bits(fa) + _sig_bits(fb)} significand bits; float64 holds 53")
    hi = sum(_max_exp(f) for f in (fa, fb))
    lo = sum(_lsb_exp(f) for f in (fa, fb))
    if hi > 1023 or lo < -1074:
        raise UnsupportedConfig(f"products of {fa.name} and {fb.name} span 2^{lo}..2^{hi}, "
                                "outside float64's range")
    with np.errstate(invalid="ignore"):  # 0 x inf is NaN by contract, not a warning
        return decode(fa, a_codes) * decode(fb, b_codes)


def _max_exp(f: Format) -> int:
    """floor(log2(largest magnitude)) + 1: a bound on the exponent of any value."""
    return math.frexp(max(abs(f.max_value if not isinstance(f, FloatFormat) else f.max_normal),
                          abs(getattr(f, "min_value", 0.0))))[1]


def _lsb_exp(f: Format) -> int:
    """Exponent of the smallest quantum of the format (every value is a multiple of 2^this)."""
    if isinstance(f, FloatFormat):
        return f.emin - f.man_bits
    if isinstance(f, FixedFormat):
        return -f.frac_bits
    return 0


# ----------------------------------------------------------------------------------------------
# Encoding
# ----------------------------------------------------------------------------------------------
# The fast path for small formats: a table indexed by the float64 bit pattern's sign, exponent,
# the top P+1 mantissa bits (P kept bits and the round bit) and one sticky bit.
_FAST_MAX_P = 8
_FAST_MIN_SIZE = 1 << 16   # below this, building the table costs more than it saves
_SENTINEL = 0xFFFF


def _as_float64(x) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise FormatError(f"values to encode must be numbers, not {x!r:.60}") from None
    return arr


def _rng(seed):
    return np.random.default_rng(seed)


def _kept_bits(f: Format) -> int:
    """P: every value that does not saturate rounds at a quantum >= 2^(floor(log2|x|) - P)."""
    if isinstance(f, FloatFormat):
        return f.man_bits
    return f.bits - 1


def _max_code(f: FloatFormat) -> int:
    return (f.max_exp_field << f.man_bits) | f.max_man_at_emax


def _nan_code(f: FloatFormat, neg):
    """The NaN code a NaN (or a non-saturating overflow without inf) becomes; sign kept if it can."""
    sign_bit = np.uint64(1 << (f.bits - 1))
    if f.nan is NanEncoding.NEG_ZERO:
        return np.full(np.shape(neg), sign_bit, np.uint64)
    if f.nan is NanEncoding.IEEE:
        if f.man_bits == 0:
            raise FormatError(f"{f.name} has no NaN code (one exponent value, no mantissa bits)")
        body = (((1 << f.exp_bits) - 1) << f.man_bits) | (1 << (f.man_bits - 1))  # quiet NaN
    else:
        body = (1 << (f.exp_bits + f.man_bits)) - 1
    body = np.uint64(body)
    if not f.signed:
        return np.full(np.shape(neg), body, np.uint64)
    return np.where(neg, body | sign_bit, body)


def _round_magnitude(ax: np.ndarray, qexp, rounding: Rounding, rng):
    """n = round(|x| / 2^qexp) per the rounding mode, as uint64, for finite |x| >= 0.

    Requires qexp >= exponent of the LSB of |x|'s 53-bit significand minus nothing, i.e. the shift
    below is >= 0 (callers guarantee it); shifts past 54 bits leave only a sticky remainder.
    """
    frac, ex = np.frexp(ax)                      # ax = frac * 2^ex, frac in [0.5, 1) (or 0)
    sig = np.ldexp(frac, 53).astype(np.uint64)   # exact: |x| = sig * 2^(ex - 53)
    shift = qexp - (ex.astype(np.int64) - 53)
    sh = np.clip(shift, 0, 54).astype(np.uint64)
    n = sig >> sh
    rem = sig & ((np.uint64(1) << sh) - np.uint64(1))
    half = (np.uint64(1) << sh) >> np.uint64(1)
    if rounding is Rounding.RNE:
        inc = (rem > half) | ((rem == half) & (rem != 0) & ((n & np.uint64(1)) == 1))
    elif rounding is Rounding.RNA:
        inc = (rem >= half) & (rem != 0)
    elif rounding is Rounding.RTZ:
        inc = np.zeros(n.shape, bool)
    elif rounding is Rounding.AWAY:
        inc = rem != 0
    else:
        draw = rng.integers(0, 1 << 62, size=n.shape, dtype=np.int64).astype(np.uint64)
        inc = (draw & ((np.uint64(1) << sh) - np.uint64(1))) < rem
    return n + inc.astype(np.uint64)


def _encode_float(f: FloatFormat, x: np.ndarray, rounding: Rounding, saturate: bool, rng):
    m_bits, e_bits = f.man_bits, f.exp_bits
    neg = np.signbit(x)
    nan_in = np.isnan(x)
    inf_in = np.isinf(x)
    ax = np.where(nan_in | inf_in, 0.0, np.abs(x))
    e_x = np.frexp(ax)[1].astype(np.int64) - 1
    qexp = np.maximum(e_x, f.emin) - m_bits
    n = _round_magnitude(ax, qexp, rounding, rng)
    carry = n >> np.uint64(m_bits + 1) != 0       # rounded up into the next binade
    n = np.where(carry, n >> np.uint64(1), n)
    qexp = qexp + carry
    hidden = np.uint64(1 << m_bits)
    normal = n >= hidden
    e_unb = qexp + m_bits
    e_field = np.where(normal, e_unb + f.bias, 0)
    m_field = np.where(normal, n - hidden, n)
    over = normal & ((e_unb > f.emax) | ((e_unb == f.emax) & (m_field > np.uint64(f.max_man_at_emax))))
    e_field = np.where(over, 0, e_field).astype(np.uint64)
    code = (e_field << np.uint64(m_bits)) | np.where(over, np.uint64(0), m_field)
    if not f.subnormals:
        # No zero and no subnormals: anything nonzero below 2^emin becomes the smallest value.
        code = np.where(~normal, np.uint64(0), code)
    sign_bit = np.uint64(1 << (f.bits - 1)) if f.signed else np.uint64(0)
    zero = n == 0
    if f.signed and f.nan is not NanEncoding.NEG_ZERO:
        code = np.where(neg, code | sign_bit, code)
    else:
        code = np.where(neg & ~zero, code | sign_bit, code)   # fnuz: no -0, so -tiny -> +0
    max_code = np.uint64(_max_code(f))
    max_signed = np.where(neg, max_code | sign_bit, max_code)
    # Overflow policy: saturate -> +-max; else inf, else NaN, else max. IEEE 754 7.4: rounding
    # toward zero never overflows to infinity.
    if saturate or not f.has_nan or (rounding is Rounding.RTZ):
        over_code = max_signed
    elif f.has_inf:
        inf_body = np.uint64(((1 << e_bits) - 1) << m_bits)
        over_code = np.where(neg, inf_body | sign_bit, inf_body)
    else:
        over_code = _nan_code(f, neg)
    code = np.where(over, over_code, code)
    if inf_in.any():
        if f.has_inf and not saturate:
            inf_body = np.uint64(((1 << e_bits) - 1) << m_bits)
            inf_code = np.where(neg, inf_body | sign_bit, inf_body)
        elif f.has_nan and not saturate:
            inf_code = _nan_code(f, neg)
        else:
            inf_code = max_signed
        code = np.where(inf_in, inf_code, code)
    bad_sign = neg & ~zero & ~nan_in if not f.signed else None
    if not f.subnormals:   # no zero code: exact zero has nothing to become but NaN (ml_dtypes too)
        bad_zero = zero & ~nan_in & ~inf_in & (x == 0)
    else:
        bad_zero = None
    for mask, what in ((nan_in, "NaN"), (bad_sign, "a negative value"), (bad_zero, "zero")):
        if mask is not None and mask.any():
            if not f.has_nan:
                raise FormatError(f"{f.name} has no NaN code, so {what} cannot be encoded; "
                                  "drop it or choose a format with NaN")
            code = np.where(mask, _nan_code(f, neg & f.signed), code)
    return code


def _encode_fixed(f: IntFormat | FixedFormat, x: np.ndarray, rounding: Rounding, rng):
    if f.bits > 50:
        raise UnsupportedConfig(f"encode supports integer/fixed formats of <= 50 bits, not {f.name}")
    if np.isnan(x).any():
        raise FormatError(f"{f.name} has no NaN code, so NaN cannot be encoded; drop NaN values first")
    frac_bits = f.frac_bits if isinstance(f, FixedFormat) else 0
    neg = np.signbit(x) & (x != 0)
    # Anything of magnitude >= 2^(bits - frac + 1) saturates whatever the rounding: clip first so
    # the integer arithmetic below cannot overflow (clipping cannot change a saturated result).
    limit = math.ldexp(1.0, f.bits - frac_bits + 1)
    ax = np.minimum(np.abs(np.where(np.isinf(x), limit, x)), limit)
    n = _round_magnitude(ax, np.full(ax.shape, -frac_bits, np.int64), rounding, rng).astype(np.int64)
    v = np.clip(np.where(neg, -n, n), f.min_int, f.max_int)
    return (v.astype(np.uint64)) & np.uint64((1 << f.bits) - 1)


def _encode_generic(f: Format, x: np.ndarray, rounding: Rounding, saturate: bool, rng) -> np.ndarray:
    if isinstance(f, FloatFormat):
        return _encode_float(f, x, rounding, saturate, rng)
    return _encode_fixed(f, x, rounding, rng)


@functools.lru_cache(maxsize=32)
def _encode_table(f: Format, rounding: Rounding, saturate: bool) -> np.ndarray:
    p = _kept_bits(f)
    keys = np.arange(1 << (p + 14), dtype=np.uint64)
    u = ((keys >> np.uint64(1)) << np.uint64(51 - p)) | (keys & np.uint64(1))
    x = u.view(np.float64)
    table = np.full(keys.shape, _SENTINEL, np.uint16)
    ok = ~np.isnan(x) if not (isinstance(f, FloatFormat) and f.has_nan) else np.ones(x.shape, bool)
    if isinstance(f, FloatFormat) and not f.signed:
        ok &= ~np.signbit(x) | (x == 0) | np.isnan(x)
    if isinstance(f, FloatFormat) and not f.subnormals:
        ok &= x != 0
    table[ok] = _encode_generic(f, x[ok], rounding, saturate, None).astype(np.uint16)
    table.flags.writeable = False
    return table


def _fast_ok(f: Format, rounding: Rounding, size: int) -> bool:
    if size < _FAST_MIN_SIZE or rounding is Rounding.STOCHASTIC or f.bits > 8:
        return False
    if _kept_bits(f) > _FAST_MAX_P:
        return False
    # Every float64 subnormal must be far below the format's smallest quantum (it only matters
    # whether such an input is zero), which holds for any quantum above 2^-1000.
    return _lsb_exp(f) > -1000


def encode(fmt: Format | str, x, rounding: Rounding | str = Rounding.RNE, saturate: bool = False,
           seed=None) -> np.ndarray:
    """Code (uint64, same shape as x) of each value of x rounded into a scalar format.

    Rounding is exact on the float64 bit pattern (`Rounding`); overflow is judged after rounding.
    Overflow: saturate=True gives +-max (infinities too); otherwise +-inf where the format has inf,
    else its NaN (OCP E4M3), else +-max (FP6/FP4 have neither). RTZ never overflows to inf/NaN
    (IEEE 754 7.4: it gives +-max). NaN gives the format's NaN (a FormatError where it has none).
    -0.0 gives -0 where the format has it (fnuz: +0). Formats without zero (E8M0) turn nonzero values
    below their smallest into the smallest, and zero or negative values into NaN (as ml_dtypes).
    Integer and fixed-point formats round with the same modes and always saturate.
    STOCHASTIC rounds up with probability (|x| - lower) / (upper - lower), from numpy's
    default_rng(seed).
    """
    f = _scalar_format(fmt, "encode")
    r = parse_rounding(rounding)
    arr = _as_float64(x)
    flat = np.ascontiguousarray(arr).reshape(-1)
    if _fast_ok(f, r, flat.size):
        p = _kept_bits(f)
        u = flat.view(np.uint64)
        key = ((u >> np.uint64(51 - p)) << np.uint64(1)) | (
            (u & np.uint64((1 << (51 - p)) - 1)) != 0).astype(np.uint64)
        out = _encode_table(f, r, bool(saturate))[key]
        if (out == _SENTINEL).any():
            out = _encode_generic(f, flat, r, saturate, None)  # raises the precise error
        return out.astype(np.uint64).reshape(arr.shape)
    return _encode_generic(f, flat, r, saturate, _rng(seed)).reshape(arr.shape)


def quantize(fmt: Format | str, x, rounding: Rounding | str = Rounding.RNE, saturate: bool = False,
             seed=None) -> np.ndarray:
    """decode(encode(x)) as float64; block formats go through quantize_block/dequantize_block."""
    f = _fmt(fmt)
    if isinstance(f, BlockFormat):
        s, e = quantize_block(f, x, rounding=rounding, seed=seed)
        return dequantize_block(f, s, e)
    return decode(f, encode(f, x, rounding, saturate, seed))


def _elem_emax(f: Format) -> int:
    """Exponent of the largest power of two the element format holds (OCP MX emax_elem); the
    same as BlockFormat.element_emax."""
    if isinstance(f, FloatFormat):
        return f.emax
    return math.frexp(f.max_value)[1] - 1


def quantize_block(fmt: Format | str, x, rounding: Rounding | str = Rounding.RNE, seed=None):
    """(scale_codes, element_codes) of x in a block format, blocks along the last axis.

    OCP MX v1.0 6.3: per block X = 2^(floor(log2(amax)) - emax_elem), clamped into the scale
    format's exponent range; elements = encode(x / X) with saturation. An all-zero block takes the
    smallest scale. A block holding NaN or inf gets the scale's NaN code and zero elements.
    The last axis must be a multiple of block_size. Shapes: scales (..., n/block), elements (..., n).
    """
    f = _fmt(fmt)
    if not isinstance(f, BlockFormat):
        raise UnsupportedConfig(f"quantize_block needs a block format such as mxfp8_e4m3, not {f.name!r}")
    if (f.rule is not ScaleRule.OCP or not isinstance(f.scale, FloatFormat) or f.block_rows != 1
            or f.tensor_scale is not None):
        raise UnsupportedConfig(f"quantize_block implements OCP MX scaling (rule ocp, a float scale, "
                                f"1-row blocks, no tensor scale); {f.name} needs the block-scaled "
                                "golden model (hwmodel.blockscaled)")
    arr = _as_float64(x)
    if arr.ndim == 0 or arr.shape[-1] % f.block_size:
        raise UnsupportedConfig(f"the last axis of x must be a multiple of the block size "
                                f"{f.block_size}, not shape {arr.shape}")
    xb = arr.reshape(*arr.shape[:-1], arr.shape[-1] // f.block_size, f.block_size)
    amax = np.max(np.abs(xb), axis=-1)
    bad = ~np.isfinite(amax)
    safe = np.where(bad | (amax == 0), 0.0, amax)
    shared = np.frexp(safe)[1].astype(np.int64) - 1 - f.element_emax
    shared = np.where(safe == 0, f.scale.emin, shared)
    shared = np.clip(shared, f.scale.emin, f.scale.emax)
    scale_codes = encode(f.scale, np.ldexp(1.0, shared.astype(np.int32)))
    if bad.any():
        if not f.scale.has_nan:
            raise FormatError(f"a block of {f.name} holds NaN or inf, which needs a NaN scale, and "
                              f"its scale {f.scale.name} has no NaN code")
        scale_codes = np.where(bad, _nan_code(f.scale, np.zeros(bad.shape, bool)), scale_codes)
        xb = np.where(bad[..., None], 0.0, xb)
    scaled = np.ldexp(xb, (-shared)[..., None].astype(np.int32))
    elems = encode(f.element, scaled, rounding, saturate=True, seed=seed)
    return scale_codes, elems.reshape(arr.shape)


def decode_scale(scale: FloatFormat | Pow2Scale | str, codes) -> np.ndarray:
    """Exact float64 values of block-scale codes: a float scale decodes as `decode`; a Pow2Scale
    code is a two's-complement exponent e and decodes to 2^e."""
    sc = parse_scale(scale)
    if isinstance(sc, FloatFormat):
        return decode(sc, codes)
    c = _codes(sc, codes).astype(np.int64)
    e = np.where(c >= (1 << (sc.bits - 1)), c - (1 << sc.bits), c)
    return np.ldexp(1.0, e.astype(np.int32))


def dequantize_block(fmt: Format | str, scale_codes, element_codes) -> np.ndarray:
    """Values decode(scale) * decode(element) of a block format with 1-row blocks and no tensor
    scale (hwmodel.blockscaled handles 2-D tiles and NVFP4's second level), shape of element_codes."""
    f = _fmt(fmt)
    if not isinstance(f, BlockFormat):
        raise UnsupportedConfig(f"dequantize_block needs a block format, not {f.name!r}")
    if f.block_rows != 1 or f.tensor_scale is not None:
        raise UnsupportedConfig(f"dequantize_block takes 1-row blocks without a tensor scale; {f.name} "
                                "needs the block-scaled golden model (hwmodel.blockscaled)")
    e = decode(f.element, element_codes)
    s = decode_scale(f.scale, scale_codes)
    if e.ndim == 0 or e.shape[-1] != s.shape[-1] * f.block_size:
        raise UnsupportedConfig(f"element codes {e.shape} and scale codes {s.shape} do not match "
                                f"blocks of {f.block_size}")
    eb = e.reshape(*e.shape[:-1], s.shape[-1], f.block_size)
    return (eb * s[..., None]).reshape(e.shape)
