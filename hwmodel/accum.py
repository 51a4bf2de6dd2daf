"""Golden accumulation: Kulisch (exact fixed point), floating point, integer; dot products, GEMM.

The contract of every accumulator the RTL builds (docs/DESIGN.md, "Accumulators"). Products are the
exact products of `hwmodel.numerics.mul_exact` (float64) or, for Kulisch, integers taken from the
operand codes. Arrays are vectorised over independent lanes; axis -1 is the sequence (time).
All names here are also importable from `hwmodel.numerics`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import (BlockFormat, FixedFormat, FloatFormat, Format, IntFormat, Pow2Scale,
                             parse_format, FLOAT32, check_spec_text)
from hwmodel.codec import (Rounding, _codes, _float_fields, _float_sig_exp, _float_special,
                           _lsb_exp, _max_exp, _scalar_format, decode, encode, mul_exact,
                           parse_rounding, quantize)

__all__ = ["AccSpec", "parse_acc", "KulischSpec", "KulischResult", "kulisch_spec", "kulisch_width",
           "kulisch_accumulate", "kulisch_to_float", "acc_float", "acc_int", "dot",
           "dot_unit_accumulate", "gemm", "add_round", "accumulate"]

_ACC_KINDS = ("int", "kulisch", "float")
_INT_MODES = ("wrap", "saturate")
_INT_MODE_WORDS = {"": "wrap", "wrap": "wrap", "sat": "saturate", "saturate": "saturate"}
DEFAULT_GUARD_BITS = 12    # the paper's FX+12 (van Baalen et al., Sec. 3.3)
_MAX_GUARD_BITS = 64


# ----------------------------------------------------------------------------------------------
# Accumulator specs
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccSpec:
    """What an accumulator is: kind 'int' (fmt an IntFormat, mode 'wrap'|'saturate'), 'kulisch'
    (guard_bits V; width derived from the operand formats by `kulisch_spec`) or 'float' (fmt a
    FloatFormat, rounding to nearest even once per addition).

    Canonical: fields that a kind does not use are normalised (fmt None for kulisch, guard_bits 12
    unless kulisch, mode 'wrap' unless int; mode 'sat' means 'saturate'), so equal accumulators
    compare equal and have one `.spec`: 'kulisch:12', 'int32:wrap', 'int32:sat', or the float
    format's spec ('float32', 'bfloat16', 'fp(e=...)'). `parse_acc(a.spec) == a`.
    """

    kind: str
    fmt: Format | None = None
    guard_bits: int = 12
    mode: str = "wrap"

    def __post_init__(self):
        if self.kind not in _ACC_KINDS:
            raise UnsupportedConfig(f"accumulator kind must be one of {', '.join(_ACC_KINDS)}, "
                                    f"not {self.kind!r}")
        if isinstance(self.fmt, str):
            object.__setattr__(self, "fmt", parse_format(self.fmt))
        if self.kind == "int" and not isinstance(self.fmt, IntFormat):
            raise UnsupportedConfig(f"an int accumulator needs an IntFormat such as int32, not {self.fmt!r}")
        if self.kind == "float" and not isinstance(self.fmt, FloatFormat):
            raise UnsupportedConfig(f"a float accumulator needs a float format such as fp32, not {self.fmt!r}")
        mode = _INT_MODE_WORDS.get(self.mode) if isinstance(self.mode, str) else None
        if mode is None:
            raise UnsupportedConfig(f"int accumulator mode must be wrap or saturate, not {self.mode!r}")
        if (not isinstance(self.guard_bits, int) or isinstance(self.guard_bits, bool)
                or not 0 <= self.guard_bits <= _MAX_GUARD_BITS):
            raise UnsupportedConfig(f"Kulisch guard bits must be an int in 0..{_MAX_GUARD_BITS}, "
                                    f"not {self.guard_bits!r}")
        if self.kind == "kulisch":
            object.__setattr__(self, "fmt", None)
        else:
            object.__setattr__(self, "guard_bits", DEFAULT_GUARD_BITS)
        object.__setattr__(self, "mode", mode if self.kind == "int" else "wrap")

    @property
    def spec(self) -> str:
        """Canonical string: parse_acc(a.spec) == a ('kulisch:12', 'int32:wrap', 'float32')."""
        if self.kind == "kulisch":
            return f"kulisch:{self.guard_bits}"
        if self.kind == "int":
            return f"{self.fmt.spec}:{'sat' if self.mode == 'saturate' else 'wrap'}"
        return self.fmt.spec

    @property
    def name(self) -> str:
        """'kulisch_v12', 'int32', 'int32sat', or the float format's name (parse_acc reads it)."""
        if self.kind == "kulisch":
            return f"kulisch_v{self.guard_bits}"
        if self.kind == "int":
            return self.fmt.name + ("sat" if self.mode == "saturate" else "")
        return self.fmt.name

    def name_for(self, fa: Format | str, fb: Format | str | None = None) -> str:
        """The name with the Kulisch width of these operand formats ('kulisch27' for int8)."""
        if self.kind == "kulisch":
            return f"kulisch{kulisch_width(fa, fb, self.guard_bits)}"
        return self.name

    def __str__(self) -> str:
        return self.spec


_ACC_HINT = "kulisch[:V] (V guard bits, default 12), intN[:wrap|sat], or a float format such as fp32"


def parse_acc(spec: str | AccSpec) -> AccSpec:
    """'kulisch' (V = 12) / 'kulisch:V', 'intN' / 'intN:sat' / 'intN:wrap', 'fp16', 'bf16', 'fp32',
    or any float format spec -> AccSpec; an AccSpec passes through. Display names parse too
    ('kulisch_v12', 'int32sat'). Synonyms give equal specs: 'fp32' == 'float32' ==
    'fp(e=8,m=23,bias=127)', 'kulisch' == 'kulisch:12', 'int32' == 'int32:wrap'.
    Raises FormatError/UnsupportedConfig (one line) naming what is allowed."""
    if isinstance(spec, AccSpec):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise FormatError(f"accumulator spec must be {_ACC_HINT}, not {spec!r}")
    s = spec.strip(" \t\r\n")
    check_spec_text(s, "accumulator spec")
    s = s.lower()
    m = re.fullmatch(r"kulisch(?:(?::|_v)(.*))?", s)
    if m:
        if m.group(1) is None:
            return AccSpec("kulisch")
        if not re.fullmatch(r"\d{1,4}", m.group(1).strip()):
            raise UnsupportedConfig(f"Kulisch guard bits in {spec!r} must be an integer in "
                                    f"0..{_MAX_GUARD_BITS}, not {m.group(1)!r}")
        return AccSpec("kulisch", None, int(m.group(1)))
    head, sep, arg = s.partition(":")
    head, arg = head.strip(), arg.strip()
    m = re.fullmatch(r"(u?int\d+)(sat)?", head)
    if m:
        fmt = parse_format(m.group(1))
        if m.group(2):
            if sep:
                raise UnsupportedConfig(f"int accumulator {spec!r}: give the mode once "
                                        f"({m.group(1)}:sat)")
            arg = "sat"
        if arg not in _INT_MODE_WORDS:
            raise UnsupportedConfig(f"int accumulator mode in {spec!r} must be sat or wrap, not {arg!r}")
        return AccSpec("int", fmt, mode=_INT_MODE_WORDS[arg])
    if sep:
        raise FormatError(f"only kulisch:V and intN:sat|wrap take a ':' argument, not {spec!r}")
    try:
        fmt = parse_format(head)
    except FormatError as exc:
        if exc.__class__ is FormatError and str(exc).startswith("unknown format"):
            raise FormatError(f"accumulator spec must be {_ACC_HINT}, not {spec!r}") from None
        raise
    if not isinstance(fmt, FloatFormat):
        raise UnsupportedConfig(f"accumulator {spec!r} must be {_ACC_HINT}, not {fmt.name}")
    return AccSpec("float", fmt)


# ----------------------------------------------------------------------------------------------
# Kulisch
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KulischSpec:
    """A Kulisch accumulator for products of `fa` x `fb` (paper Fig. 2a).

    width    W = S_a + S_b - 1 + k + V (2S - 1 + k + V for one format): two's complement register
    lsb_exp  L: the register holds acc, meaning the value acc * 2^L
    sig_bits_a/b  S: significand bits incl. sign and hidden bit (float: man + 2; int: bits)
    exp_span k = (emax_a - emin_a) + (emax_b - emin_b): how far products' LSBs can shift
    guard_bits V: headroom for 2^V worst-case products

    Block formats with power-of-two scales (block_size > 1): the register adds one exact block sum
    per step, each shifted by the two scale exponents (hwmodel.blockscaled's block dot):
    width    W = sum_bits + k + V, sum_bits = M_a + M_b + ceil(log2 block_size) + 1, where M is
             the bits of the largest element magnitude at the element LSB (float: emax - emin +
             precision; int/fixed: bits), so sum_bits holds any block's exact sum with its sign
    exp_span k = (kmax_a - kmin_a) + (kmax_b - kmin_b), the scales' exponent spans
    lsb_exp  L = element LSB exponents + kmin_a + kmin_b
    guard_bits V: headroom for 2^V worst-case block sums
    sig_bits_a/b  M_a, M_b
    """

    width: int
    lsb_exp: int
    guard_bits: int
    sig_bits_a: int
    sig_bits_b: int
    exp_span: int
    block_size: int = 1

    @property
    def name(self) -> str:
        return f"kulisch{self.width}"

    @property
    def product_bits(self) -> int:
        """Two's-complement bits of the widest aligned product (W - V): INT37 for FP8-E4."""
        return self.width - self.guard_bits


def _kulisch_S(f: Format) -> int:
    if isinstance(f, FloatFormat):
        if not f.signed:
            raise UnsupportedConfig(f"Kulisch accumulation needs signed operands, not {f.name}")
        return f.man_bits + 2        # sign + hidden bit + stored mantissa
    return f.bits + (0 if f.signed else 1)   # an unsigned integer needs a sign bit in the product


def _kulisch_span(f: Format) -> int:
    return f.emax - f.emin if isinstance(f, FloatFormat) else 0


def _check_guard_bits(guard_bits) -> None:
    if (not isinstance(guard_bits, int) or isinstance(guard_bits, bool)
            or not 0 <= guard_bits <= _MAX_GUARD_BITS):
        raise UnsupportedConfig(f"Kulisch guard bits must be an int in 0..{_MAX_GUARD_BITS}, "
                                f"not {guard_bits!r}")


def kulisch_spec(fa: Format | str, fb: Format | str | None = None,
                 guard_bits: int = DEFAULT_GUARD_BITS) -> KulischSpec:
    """Width and LSB exponent of the exact accumulator of fa x fb products (docs/DESIGN.md).

    INT8 x INT8: W = 8 + 8 - 1 + 0 + 12 = 27, L = 0. FP8-E4M3: S = 5, k = 2 * (8 - (-6)) = 28
    (the paper's 2(2^E - 2)), W = 9 + 28 + 12 = 49, L = 2 * (-6 - 3) = -18.
    Two block formats with power-of-two scales (E8M0, shiftN) and one block size: the register of
    block sums (see KulischSpec). INT4 groups of 32 with shift8 scales: sum_bits = 4 + 4 + 5 + 1
    = 14, k = 2 * 255, W = 14 + 510 + 12 = 536, L = 2 * -128.
    """
    fa = parse_format(fa)
    fb = fa if fb is None else parse_format(fb)
    _check_guard_bits(guard_bits)
    if isinstance(fa, BlockFormat) or isinstance(fb, BlockFormat):
        return _block_kulisch_spec(fa, fb, guard_bits)
    for f in (fa, fb):
        if isinstance(f, FloatFormat) and not f.subnormals:
            raise UnsupportedConfig(f"Kulisch accumulation needs formats with zero/subnormals, not {f.name}")
    sa, sb = _kulisch_S(fa), _kulisch_S(fb)
    k = _kulisch_span(fa) + _kulisch_span(fb)
    return KulischSpec(width=sa + sb - 1 + k + guard_bits, lsb_exp=_lsb_exp(fa) + _lsb_exp(fb),
                       guard_bits=guard_bits, sig_bits_a=sa, sig_bits_b=sb, exp_span=k)


def _magnitude_bits(f: Format) -> int:
    """M: bits of the largest element magnitude counted in units of the element's LSB."""
    if isinstance(f, FloatFormat):
        return (f.emax - f.emin) + f.precision
    return f.bits          # signed: |min| = 2^(bits-1) needs `bits` bits; unsigned: max < 2^bits


def _block_kulisch_spec(fa, fb, guard_bits: int) -> KulischSpec:
    if not (isinstance(fa, BlockFormat) and isinstance(fb, BlockFormat)):
        raise UnsupportedConfig(f"a Kulisch register takes two scalar formats or two block formats, "
                                f"not {fa.name} x {fb.name}")
    if fa.block_size != fb.block_size:
        raise UnsupportedConfig(f"block formats of one dot product share the block size, not "
                                f"{fa.block_size} ({fa.name}) and {fb.block_size} ({fb.name})")
    for f in (fa, fb):
        if not (isinstance(f.scale, Pow2Scale) or f.scale.man_bits == 0):
            raise UnsupportedConfig(f"Kulisch accumulation across blocks needs power-of-two scales "
                                    f"(e8m0 or shiftN); {f.name}'s scale {f.scale.name} is not one; "
                                    "use a float accumulator (fp32, fp16, bf16)")
        if isinstance(f.element, FloatFormat) and not f.element.signed:
            raise UnsupportedConfig(f"Kulisch accumulation needs signed elements, not {f.element.name}")
    ma, mb = _magnitude_bits(fa.element), _magnitude_bits(fb.element)
    # the exact sum of block_size products of magnitude < 2^(ma+mb), and a sign bit
    sum_bits = ma + mb + (fa.block_size - 1).bit_length() + 1
    k = (fa.scale.emax - fa.scale.emin) + (fb.scale.emax - fb.scale.emin)
    lsb = _lsb_exp(fa.element) + _lsb_exp(fb.element) + fa.scale.emin + fb.scale.emin
    return KulischSpec(width=sum_bits + k + guard_bits, lsb_exp=lsb, guard_bits=guard_bits,
                       sig_bits_a=ma, sig_bits_b=mb, exp_span=k, block_size=fa.block_size)


def kulisch_width(fa: Format | str, fb: Format | str | None = None,
                  guard_bits: int = DEFAULT_GUARD_BITS) -> int:
    """W, the bits of the exact accumulator of fa x fb products: the one place it is derived.

    W = S_a + S_b - 1 + k + V (see `kulisch_spec`); papermodel and the RTL configs read it here.
    """
    return kulisch_spec(fa, fb, guard_bits).width


@dataclass
class KulischResult:
    """Register content and sticky flags after a Kulisch accumulation, per lane.

    acc_int: the W-bit two's-complement register (int64 array when W <= 62, else an object array of
    Python ints); value = acc_int * 2^L. overflow: some addition's exact result left
    [-2^(W-1), 2^(W-1) - 1] (the register wrapped); overflow_neg: the first such result was below the
    range. nan: a NaN product (NaN operand or 0 x inf); pinf / ninf: a +inf / -inf product.
    """

    acc_int: np.ndarray
    overflow: np.ndarray
    overflow_neg: np.ndarray
    nan: np.ndarray
    pinf: np.ndarray
    ninf: np.ndarray

    def __iter__(self):
        """`acc, flags = result` unpacks to (acc_int, the result itself, whose flags are fields)."""
        return iter((self.acc_int, self))


def _exact_fields(f: Format, codes):
    """(neg, magnitude uint64, lsb exponent int64, nan, inf) of codes: |value| = mag * 2^exp."""
    c = _codes(f, codes)
    if isinstance(f, FloatFormat):
        sign, exp, man = _float_fields(f, c)
        sig, lsb = _float_sig_exp(f, exp, man)
        nan, inf = _float_special(f, c, exp, man)
        sig = np.where(nan | inf, np.uint64(0), sig)
        return sign.astype(bool), sig, lsb, nan, inf
    v = c.astype(np.int64)
    if f.signed:
        v = np.where(v >= (1 << (f.bits - 1)), v - (1 << f.bits), v)
    exp = np.full(c.shape, -f.frac_bits if isinstance(f, FixedFormat) else 0, np.int64)
    zeros = np.zeros(c.shape, bool)
    return v < 0, np.abs(v).astype(np.uint64), exp, zeros, zeros


def _aligned_products(fa, a_codes, fb, b_codes, spec: KulischSpec):
    """Products as signed integers p with value p * 2^L (int64 or object), plus special masks."""
    if fa.bits > 32 or fb.bits > 32 or (fa.precision if isinstance(fa, FloatFormat) else fa.bits) + (
            fb.precision if isinstance(fb, FloatFormat) else fb.bits) > 62:
        raise UnsupportedConfig(f"Kulisch products of {fa.name} x {fb.name} need more than 62 "
                                "significand bits")
    na, ma, ea, nan_a, inf_a = _exact_fields(fa, a_codes)
    nb, mb, eb, nan_b, inf_b = _exact_fields(fb, b_codes)
    na, ma, ea, nan_a, inf_a, nb, mb, eb, nan_b, inf_b = np.broadcast_arrays(
        na, ma, ea, nan_a, inf_a, nb, mb, eb, nan_b, inf_b)
    zero_a, zero_b = (ma == 0) & ~inf_a & ~nan_a, (mb == 0) & ~inf_b & ~nan_b
    nan = nan_a | nan_b | (inf_a & zero_b) | (zero_a & inf_b)
    inf = (inf_a | inf_b) & ~nan
    neg = na ^ nb
    mag = ma * mb
    shift = (ea + eb) - spec.lsb_exp
    if (shift < 0).any():
        raise UnsupportedConfig("a product lies below the Kulisch LSB; the spec does not match the formats")
    if spec.width <= 62:
        p = (mag << shift.astype(np.uint64)).astype(np.int64)
    else:
        p = np.left_shift(mag.astype(object), shift.astype(object))
    p = np.where(neg, -p, p)
    return p, nan, inf & ~neg, inf & neg


def _wrap(s, width: int):
    """Two's-complement wrap to `width` bits (int64 arrays for width <= 62, or object arrays)."""
    half = 1 << (width - 1)
    if isinstance(s, np.ndarray) and s.dtype == np.int64:
        return ((s + np.int64(half)) & np.int64((1 << width) - 1)) - np.int64(half)
    return ((s + half) % (1 << width)) - half


def _products_as_integers(products, spec: KulischSpec):
    """Exact float64 products -> integers p with value p * 2^L, plus special masks."""
    v = np.asarray(products, np.float64)
    nan, inf = np.isnan(v), np.isinf(v)
    fin = np.where(nan | inf, 0.0, v)
    scaled = np.ldexp(fin, -spec.lsb_exp)
    if not np.all(np.isfinite(scaled)) or np.any(scaled != np.trunc(scaled)):
        raise UnsupportedConfig(f"products must be exact multiples of 2^{spec.lsb_exp} within the "
                                f"{spec.width}-bit Kulisch range (products of the spec's formats)")
    if spec.width <= 62:
        if np.any(np.abs(scaled) >= 2.0 ** 62):
            raise UnsupportedConfig(f"a product exceeds the {spec.width}-bit Kulisch register")
        p = scaled.astype(np.int64)
    else:
        p = np.array([int(x) for x in scaled.reshape(-1).tolist()], dtype=object).reshape(scaled.shape)
    return p, nan, inf & (v > 0), inf & (v < 0)


def kulisch_accumulate(fa, a_codes=None, fb=None, b_codes=None,
                       spec: KulischSpec | None = None) -> KulischResult:
    """Exact fixed-point accumulation of the products a_i x b_i along axis -1 (paper Fig. 2a).

    Call as kulisch_accumulate(fa, a_codes, fb, b_codes[, spec]) on operand codes, or as
    kulisch_accumulate(products, spec) on exact float64 products (each an integer multiple of 2^L;
    NaN/inf products set the flags). Each product is added into a W-bit two's-complement register
    starting at 0, which wraps; `overflow` is sticky and set when an addition's exact result leaves
    [-2^(W-1), 2^(W-1) - 1]. NaN / inf products add nothing and set the sticky flags.
    """
    if isinstance(a_codes, KulischSpec) and fb is None and b_codes is None:
        spec = a_codes
        p, nan, pinf, ninf = _products_as_integers(fa, spec)
    else:
        fa, fb = _scalar_format(fa, "kulisch_accumulate"), _scalar_format(fb, "kulisch_accumulate")
        spec = spec or kulisch_spec(fa, fb)
        p, nan, pinf, ninf = _aligned_products(fa, a_codes, fb, b_codes, spec)
    if p.ndim == 0:
        raise UnsupportedConfig("kulisch_accumulate needs a sequence (axis -1) of operands")
    p = np.where(nan | pinf | ninf, 0, p)
    if spec.width <= 62:
        p = p.astype(np.int64)
        # int64 cumsum wraps modulo 2^64, a multiple of 2^W: the wrapped prefix sums stay exact.
        with np.errstate(over="ignore"):
            reg = _wrap(np.cumsum(p, axis=-1), spec.width)
    else:
        p = p.astype(object)
        reg = _wrap(np.cumsum(p, axis=-1), spec.width)
    prev = np.concatenate([np.zeros_like(reg[..., :1]), reg[..., :-1]], axis=-1)
    t = prev + p
    lo, hi = -(1 << (spec.width - 1)), (1 << (spec.width - 1)) - 1
    below, above = np.asarray(t < lo, bool), np.asarray(t > hi, bool)
    out = below | above
    first = np.argmax(out, axis=-1)
    overflow_neg = np.take_along_axis(below, first[..., None], axis=-1)[..., 0] & out.any(axis=-1)
    return KulischResult(acc_int=reg[..., -1], overflow=out.any(axis=-1), overflow_neg=overflow_neg,
                         nan=nan.any(axis=-1), pinf=pinf.any(axis=-1), ninf=ninf.any(axis=-1))


def _int_pow2_to_float(n: int, exp: int, odd: bool) -> float:
    """n * 2^exp as float64: rounded to odd at 53 bits (odd=True) or to nearest even."""
    if n == 0:
        return 0.0
    m = abs(n)
    extra = m.bit_length() - 53
    if extra > 0:
        t, rem = m >> extra, m & ((1 << extra) - 1)
        if odd:
            t |= 1 if rem else 0
        else:
            half = 1 << (extra - 1)
            t += 1 if (rem > half or (rem == half and t & 1)) else 0
        m, exp = t, exp + extra
    v = math.ldexp(float(m), exp)
    return -v if n < 0 else v


def _special_value(nan, pinf, ninf, overflow=None, overflow_neg=None):
    """NaN/+-inf per the Kulisch read-out rules, else None (per lane, as object array)."""
    if nan or (pinf and ninf):
        return math.nan
    if pinf:
        return math.inf
    if ninf:
        return -math.inf
    if overflow:
        return -math.inf if overflow_neg else math.inf
    return None


def _kulisch_values(result: KulischResult, spec: KulischSpec, odd: bool) -> np.ndarray:
    acc = np.asarray(result.acc_int)
    flat = acc.reshape(-1)
    flags = [np.asarray(getattr(result, k)).reshape(-1)
             for k in ("nan", "pinf", "ninf", "overflow", "overflow_neg")]
    out = np.empty(flat.shape, np.float64)
    for i, n in enumerate(flat.tolist()):
        sp = _special_value(*(bool(f[i]) for f in flags))
        out[i] = sp if sp is not None else _int_pow2_to_float(int(n), spec.lsb_exp, odd)
    return out.reshape(acc.shape)


def kulisch_to_float(result: KulischResult, spec: KulischSpec, fmt: Format | str) -> np.ndarray:
    """Codes of fmt: the register value acc * 2^L rounded once, to nearest even.

    NaN if the nan flag or both inf flags are set; +-inf if one inf flag; a sticky overflow gives
    inf signed as the first overflow (encode's overflow policy where fmt has no inf).
    """
    f = _scalar_format(fmt, "kulisch_to_float")
    if isinstance(f, FloatFormat) and f.precision > 51:
        raise UnsupportedConfig(f"kulisch_to_float rounds through float64; {f.name} is too precise")
    # Rounded to odd at 53 bits, the one RNE rounding into fmt (precision <= 51) is still exact.
    return encode(f, _kulisch_values(result, spec, odd=True))


# ----------------------------------------------------------------------------------------------
# Floating-point accumulation
# ----------------------------------------------------------------------------------------------
def _check_acc_float(f: Format) -> FloatFormat:
    if not isinstance(f, FloatFormat):
        raise UnsupportedConfig(f"a float accumulator needs a float format, not {f.name}")
    if f.precision > 51 or _max_exp(f) > 1000 or _lsb_exp(f) < -1000:
        raise UnsupportedConfig(f"float accumulation rounds through float64 (53 bits); {f.name} must "
                                "have precision <= 51 and a range well inside float64's")
    return f


def _round_to_odd_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b rounded to odd at float64 precision: exact when representable, else the truncation
    with its last bit set. Rounding that once more to <= 51 bits (any mode) equals rounding the
    exact sum (Boldo & Melquiond, 'Emulation of FMA and correctly rounded sums', 2008)."""
    with np.errstate(invalid="ignore", over="ignore"):
        s = a + b
        bb = s - a
        e = (a - (s - bb)) + (b - bb)       # TwoSum (Knuth): s + e == a + b exactly
    e = np.where(np.isfinite(s), e, 0.0)
    inexact = e != 0
    if not inexact.any():
        return s
    toward_zero = inexact & (np.signbit(e) != np.signbit(s))
    trunc = np.where(toward_zero, np.nextafter(s, 0.0), s)
    odd = (trunc.view(np.uint64) | np.uint64(1)).view(np.float64)
    return np.where(inexact, odd, s)


def add_round(fmt: Format | str, a, b, rounding: Rounding | str = Rounding.RNE, seed=None) -> np.ndarray:
    """round_fmt(a + b) as float64 values: the exact sum rounded once (a fused adder's contract).

    a and b are float64 values (any; need not be fmt values). Exact zero sums are +0 except
    (-0) + (-0) = -0; NaN in or +inf + -inf gives NaN; overflow follows `encode`'s policy.
    STOCHASTIC uses the sum rounded to odd at 53 bits (probabilities exact to 2^-52 relative).
    """
    f = _check_acc_float(_scalar_format(fmt, "add_round"))
    r = parse_rounding(rounding)
    rng = np.random.default_rng(seed) if r is Rounding.STOCHASTIC else None
    return _add_round(f, np.asarray(a, np.float64), np.asarray(b, np.float64), r, rng)


def _add_round(f, a, b, r, rng):
    s = _round_to_odd_sum(a, b)
    return quantize(f, s, r, False, rng)


def _float32_exact(p: np.ndarray) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):
        p32 = p.astype(np.float32).astype(np.float64)
    return bool(np.all((p32 == p) | np.isnan(p)))


def _acc_float_values(products, f, r, init, rng, method) -> np.ndarray:
    p = np.asarray(products, np.float64)
    if p.ndim == 0:
        raise UnsupportedConfig("acc_float needs a sequence (axis -1) of products")
    acc = np.broadcast_to(quantize(f, np.asarray(init, np.float64), r, False, rng), p.shape[:-1]).copy()
    if method == "auto" and f == FLOAT32 and r is Rounding.RNE and _float32_exact(p) and _float32_exact(acc):
        # IEEE float32 addition is the exact sum rounded once (RNE): numpy does exactly that.
        a32, p32 = acc.astype(np.float32), p.astype(np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(p.shape[-1]):
                a32 = a32 + p32[..., t]
        return a32.astype(np.float64)
    if method not in ("auto", "twosum"):
        raise UnsupportedConfig(f"acc_float method must be auto or twosum, not {method!r}")
    for t in range(p.shape[-1]):
        acc = _add_round(f, acc, p[..., t], r, rng)
    return acc


def acc_float(products, fmt: Format | str, rounding: Rounding | str = Rounding.RNE, init=0.0,
              seed=None, method: str = "auto") -> np.ndarray:
    """Codes of fmt after acc <- round_fmt(acc + p_t) for t along axis -1, acc starting at init.

    One rounding per addition of the exact sum (a fused accumulator), subnormals kept, overflow per
    `encode`'s policy (IEEE formats: +-inf), NaN in -> NaN, +inf + -inf -> NaN, exact zero sums +0
    except (-0) + (-0) = -0. fmt must have precision <= 51. method='twosum' forces the TwoSum +
    round-to-odd path; 'auto' may use numpy's own float32 addition (identical by IEEE 754).
    """
    f = _check_acc_float(_scalar_format(fmt, "acc_float"))
    r = parse_rounding(rounding)
    rng = np.random.default_rng(seed) if r is Rounding.STOCHASTIC else None
    return encode(f, _acc_float_values(products, f, r, init, rng, method))


# ----------------------------------------------------------------------------------------------
# Integer accumulation
# ----------------------------------------------------------------------------------------------
def _as_int64(products) -> np.ndarray:
    p = np.asarray(products)
    if p.dtype.kind in "iu":
        return p.astype(np.int64)
    pf = p.astype(np.float64)
    if not np.all(np.isfinite(pf)) or np.any(pf != np.round(pf)) or np.any(np.abs(pf) >= 2.0 ** 62):
        raise UnsupportedConfig("integer accumulation needs integer products (int formats); use a "
                                "Kulisch or float accumulator for other formats")
    return pf.astype(np.int64)


def acc_int(products, width: int, mode: str = "wrap") -> np.ndarray:
    """Final W-bit two's-complement accumulator (int64) after adding integer products along axis -1.

    mode 'wrap': modular (the register drops carries out of bit W-1); 'saturate': each addition's
    exact result is clamped to [-2^(W-1), 2^(W-1) - 1] before the next.
    """
    if not isinstance(width, int) or not 2 <= width <= 62:
        raise UnsupportedConfig(f"integer accumulator width must be an int in 2..62, not {width!r}")
    if mode not in _INT_MODES:
        raise UnsupportedConfig(f"int accumulator mode must be wrap or saturate, not {mode!r}")
    p = _as_int64(products)
    if p.ndim == 0:
        raise UnsupportedConfig("acc_int needs a sequence (axis -1) of products")
    if mode == "wrap":
        with np.errstate(over="ignore"):
            return _wrap(np.cumsum(p, axis=-1), width)[..., -1] if p.shape[-1] else np.zeros(p.shape[:-1], np.int64)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    acc = np.zeros(p.shape[:-1], np.int64)
    for t in range(p.shape[-1]):
        acc = np.clip(acc + np.clip(p[..., t], lo - hi, hi - lo), lo, hi)
    return acc


# ----------------------------------------------------------------------------------------------
# Dot products and GEMM
# ----------------------------------------------------------------------------------------------
def _reduce_sequential(prods, spec: AccSpec, rounding, rng, method="auto") -> np.ndarray:
    if spec.kind == "int":
        return acc_int(prods, spec.fmt.bits, spec.mode).astype(np.float64)
    if spec.kind == "kulisch":   # the exact sum, rounded once to float64 (math.fsum is exact-RNE)
        p = np.asarray(prods, np.float64)
        flat = p.reshape(-1, p.shape[-1])
        return np.array([math.fsum(row) for row in flat.tolist()]).reshape(p.shape[:-1])
    return _acc_float_values(prods, _check_acc_float(spec.fmt), rounding, 0.0, rng, method)


def _pairwise(prods: np.ndarray, add) -> np.ndarray:
    x = prods
    while x.shape[-1] > 1:
        n = x.shape[-1]
        head = add(x[..., 0:n - 1:2], x[..., 1:n:2])
        x = np.concatenate([head, x[..., n - 1:]], axis=-1) if n % 2 else head
    return x[..., 0] if x.shape[-1] else np.zeros(x.shape[:-1])


def accumulate(products, acc: AccSpec | str = "fp32", order: str = "sequential", chunk: int = 32,
               outer: str = "fp32", rounding: Rounding | str = Rounding.RNE, seed=None) -> np.ndarray:
    """Sum exact float64 products along axis -1 in accumulator `acc`, as float64 values.

    order 'sequential': one product per step (kulisch: the exact sum, rounded once to float64 RNE;
    int: W-bit wrap/saturate of integer products; float: one rounding per addition). 'pairwise': a
    balanced tree of additions, each rounded into acc's format (kulisch and int wrap: exact/modular,
    so as sequential; int saturate clamps each node). 'chunked': each run of `chunk` products is
    summed sequentially in `acc` from zero, and the chunk sums are accumulated sequentially in the
    float format `outer` (promotion every `chunk` products, as Jetfire does).
    """
    spec = parse_acc(acc)
    r = parse_rounding(rounding)
    rng = np.random.default_rng(seed) if r is Rounding.STOCHASTIC else None
    p = np.asarray(products, np.float64) if spec.kind != "int" else np.asarray(products)
    if p.ndim == 0:
        raise UnsupportedConfig("accumulate needs a sequence (axis -1) of products")
    if order == "sequential" or (order == "pairwise" and (
            spec.kind == "kulisch" or (spec.kind == "int" and spec.mode == "wrap"))):
        return _reduce_sequential(p, spec, r, rng)
    if order == "pairwise":
        if spec.kind == "int":
            lo, hi = -(1 << (spec.fmt.bits - 1)), (1 << (spec.fmt.bits - 1)) - 1
            return _pairwise(_as_int64(p), lambda x, y: np.clip(x + y, lo, hi)).astype(np.float64)
        f = _check_acc_float(spec.fmt)
        return _pairwise(quantize(f, p, r, False, rng), lambda x, y: _add_round(f, x, y, r, rng))
    if order == "chunked":
        if not isinstance(chunk, int) or chunk < 1:
            raise UnsupportedConfig(f"chunk must be a positive int, not {chunk!r}")
        out_spec = parse_acc(outer)
        if out_spec.kind != "float":
            raise UnsupportedConfig(f"the outer accumulator of a chunked sum must be a float format, "
                                    f"not {outer!r}")
        partial = np.stack([_reduce_sequential(p[..., s:s + chunk], spec, r, rng)
                            for s in range(0, p.shape[-1], chunk)], axis=-1)
        return _reduce_sequential(partial, out_spec, r, rng)
    raise UnsupportedConfig(f"order must be sequential, pairwise or chunked, not {order!r}")


def dot(fa: Format | str, a, fb: Format | str, b, acc: AccSpec | str = "fp32",
        order: str = "sequential", chunk: int = 32, outer: str = "fp32",
        rounding: Rounding | str = Rounding.RNE, seed=None) -> np.ndarray:
    """sum_i a_i * b_i along axis -1 (codes of fa, fb), as float64 values of the accumulator.

    Sequential Kulisch runs the W-bit register of `kulisch_spec(fa, fb, V)` on the codes (NaN/inf/
    overflow read out as kulisch_to_float says, the value rounded to float64 RNE); every other case
    is `accumulate(mul_exact(fa, a, fb, b), acc, order, chunk, outer)`.
    """
    fa, fb = _scalar_format(fa, "dot"), _scalar_format(fb, "dot")
    spec = parse_acc(acc)
    if spec.kind == "int" and not (isinstance(fa, IntFormat) and isinstance(fb, IntFormat)):
        raise UnsupportedConfig(f"an int accumulator needs int inputs, not {fa.name} x {fb.name}; "
                                "use kulisch or a float accumulator")
    a_arr, b_arr = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    if spec.kind == "kulisch" and order in ("sequential", "pairwise"):
        ks = kulisch_spec(fa, fb, spec.guard_bits)
        return _kulisch_values(kulisch_accumulate(fa, a_arr, fb, b_arr, ks), ks, odd=False)
    return accumulate(mul_exact(fa, a_arr, fb, b_arr), spec, order, chunk, outer, rounding, seed)


def dot_unit_accumulate(products, fmt: Format | str, rounding: Rounding | str = Rounding.RNE) -> np.ndarray:
    """Codes of fmt after a dot-product unit of N: acc <- round_fmt(acc + sum_{i<N} p[step, i]).

    products: float64 array (..., steps, N) of exact products. Each step's N products and the
    accumulator are summed exactly (an exact adder tree) and rounded ONCE. NaN if any NaN or
    +inf and -inf meet; +-inf if an inf is present; exact zero sums are +0 unless every term is -0.
    """
    f = _check_acc_float(_scalar_format(fmt, "dot_unit_accumulate"))
    r = parse_rounding(rounding)
    if r is Rounding.STOCHASTIC:
        raise UnsupportedConfig("dot_unit_accumulate supports rne, rtz, away and rna")
    p = np.asarray(products, np.float64)
    if p.ndim < 2:
        raise UnsupportedConfig("dot_unit_accumulate needs products shaped (..., steps, N)")
    lanes = p.reshape(-1, p.shape[-2], p.shape[-1])
    acc = np.zeros(lanes.shape[0])
    for step in range(lanes.shape[1]):
        exact = np.empty(lanes.shape[0])
        for i in range(lanes.shape[0]):
            exact[i] = _exact_sum_rto([acc[i], *lanes[i, step].tolist()])
        acc = quantize(f, exact, r)
    return encode(f, acc).reshape(p.shape[:-2])


def _exact_sum_rto(terms: list[float]) -> float:
    """Sum of float64 terms rounded to odd at 53 bits (specials per IEEE, -0 only if all are -0)."""
    if any(math.isnan(t) for t in terms):
        return math.nan
    pinf, ninf = math.inf in terms, -math.inf in terms
    if pinf and ninf:
        return math.nan
    if pinf or ninf:
        return math.inf if pinf else -math.inf
    s = math.fsum(terms)            # correctly rounded; 0 only if the exact sum is 0
    if s == 0:
        return -0.0 if all(t == 0 and math.copysign(1, t) < 0 for t in terms) else 0.0
    r = math.fsum([*terms, -s])     # sign of the exact residual (nonzero iff s is inexact)
    if r == 0:
        return s
    trunc = s if (r > 0) == (s > 0) else math.nextafter(s, 0.0)
    bits = np.array([trunc]).view(np.uint64) | np.uint64(1)
    return float(bits.view(np.float64)[0])


def gemm(fa: Format | str, A, fb: Format | str, B, acc: AccSpec | str = "fp32",
         codes: bool = False):
    """Golden output-stationary MAC array: C[i, j] accumulates A[i, k] * B[k, j] for k = 0..K-1
    in order with the MAC unit's accumulator semantics (`acc`).

    Returns float64 values (M, N); codes=True returns the register contents instead: float -> codes
    of acc.fmt, int -> the int64 register, kulisch -> KulischResult.
    """
    fa, fb = _scalar_format(fa, "gemm"), _scalar_format(fb, "gemm")
    spec = parse_acc(acc)
    A, B = np.asarray(A), np.asarray(B)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise UnsupportedConfig(f"gemm needs A (M, K) and B (K, N), not {A.shape} and {B.shape}")
    a = A[:, None, :]                  # (M, 1, K)
    b = B.T[None, :, :]                # (1, N, K)
    a, b = np.broadcast_arrays(a, b)
    if spec.kind == "kulisch":
        ks = kulisch_spec(fa, fb, spec.guard_bits)
        res = kulisch_accumulate(fa, a, fb, b, ks)
        return res if codes else _kulisch_values(res, ks, odd=False)
    if spec.kind == "int":
        if not (isinstance(fa, IntFormat) and isinstance(fb, IntFormat)):
            raise UnsupportedConfig(f"an int accumulator needs int inputs, not {fa.name} x {fb.name}")
        reg = acc_int(mul_exact(fa, a, fb, b), spec.fmt.bits, spec.mode)
        return reg if codes else reg.astype(np.float64)
    vals = _acc_float_values(mul_exact(fa, a, fb, b), _check_acc_float(spec.fmt), Rounding.RNE, 0.0,
                             None, "auto")
    return encode(spec.fmt, vals) if codes else vals
