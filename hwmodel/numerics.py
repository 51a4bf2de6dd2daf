"""Golden numerics: bit-exact, vectorised reference behaviour of every catalogue format.

These functions are the contract the RTL and the GPU kernels are checked against
(docs/DESIGN.md, "Codes and values", "Products", "Accumulators"). They work on *codes*: unsigned
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
                             parse_format)

__all__ = [
    "Rounding", "parse_rounding", "decode", "decode_exact", "all_codes", "is_nan", "mul_exact",
    "encode", "quantize", "quantize_block", "dequantize_block",
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
