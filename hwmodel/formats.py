"""Number formats: one frozen dataclass per kind, one catalogue, one parser.

Every other layer (golden numerics, RTL generators, cost models, roofline) reads these objects;
no width or bias is typed in anywhere else. Derived values are properties.

Value of a float code with sign s, exponent field e and mantissa field m (M = man_bits):
    normal      (e > 0, or any e when the format has no subnormals):
                (-1)^s * 2^(e - bias) * (1 + m / 2^M)
    subnormal   (e == 0 and the format has subnormals):
                (-1)^s * 2^(1 - bias) * (m / 2^M)
Special codes depend on `nan` (see `NanEncoding`).
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Union

from hwmodel.errors import FormatError


class NanEncoding(enum.Enum):
    """Which codes of a float format are special (NaN or infinity)."""

    IEEE = "ieee"          # all-ones exponent: inf (mantissa 0) or NaN (mantissa != 0)
    ALL_ONES = "fn"        # only S.1111.111 (both signs) is NaN, no inf (OCP E4M3, 'fn')
    NEG_ZERO = "fnuz"      # 1.0000.000 is the single NaN, no -0, no inf ('fnuz')
    NONE = "none"          # every code is finite (OCP FP6/FP4)


# Suffix of the derived name; ml_dtypes' spelling where ml_dtypes has one. NONE gets "fs"
# ("finite, saturating") so that it never collides with ALL_ONES' "fn"; the OCP FP6/FP4 entries
# of the catalogue carry their ml_dtypes labels ("float6_e2m3fn") explicitly.
_NAN_SUFFIX = {NanEncoding.IEEE: "", NanEncoding.ALL_ONES: "fn",
               NanEncoding.NEG_ZERO: "fnuz", NanEncoding.NONE: "fs"}


def default_bias(exp_bits: int, nan: NanEncoding = NanEncoding.IEEE) -> int:
    """IEEE-style bias 2^(E-1)-1; 'fnuz' formats use 2^(E-1) as ml_dtypes does."""
    return (1 << (exp_bits - 1)) - (0 if nan is NanEncoding.NEG_ZERO else 1)


@dataclass(frozen=True)
class IntFormat:
    """Two's-complement (signed) or plain binary (unsigned) integer of `bits` bits."""

    bits: int
    signed: bool = True
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.bits, int) or not 2 <= self.bits <= 32:
            raise FormatError(f"integer width must be an int in 2..32, not {self.bits!r}")

    @property
    def name(self) -> str:
        return f"{'' if self.signed else 'u'}int{self.bits}"

    @property
    def kind(self) -> str:
        return "int"

    @property
    def min_int(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def max_value(self) -> float:
        return float(self.max_int)

    @property
    def min_value(self) -> float:
        return float(self.min_int)

    @property
    def n_codes(self) -> int:
        return 1 << self.bits

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FixedFormat:
    """Fixed point: a `bits`-bit integer scaled by 2^-frac_bits (MXINT8 elements, Kulisch sums)."""

    bits: int
    frac_bits: int
    signed: bool = True
    label: str | None = field(default=None, compare=False)
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.bits, int) or not 2 <= self.bits <= 4096:
            raise FormatError(f"fixed-point width must be an int in 2..4096, not {self.bits!r}")
        if not isinstance(self.frac_bits, int):
            raise FormatError(f"fixed-point frac_bits must be an int, not {self.frac_bits!r}")

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return f"{'s' if self.signed else 'u'}fix{self.bits}_f{self.frac_bits}"

    @property
    def kind(self) -> str:
        return "fixed"

    @property
    def integer(self) -> IntFormat:
        """The integer format of the stored code."""
        return IntFormat(self.bits, self.signed) if self.bits <= 32 else None

    min_int = IntFormat.min_int   # the stored code is an integer of the same width
    max_int = IntFormat.max_int

    @property
    def lsb(self) -> Fraction:
        return Fraction(1, 1 << self.frac_bits) if self.frac_bits >= 0 else Fraction(1 << -self.frac_bits)

    @property
    def max_value(self) -> float:
        return math.ldexp(self.max_int, -self.frac_bits)

    @property
    def min_value(self) -> float:
        return math.ldexp(self.min_int, -self.frac_bits)

    @property
    def n_codes(self) -> int:
        return 1 << self.bits

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FloatFormat:
    """Binary floating point: sign (optional), exp_bits exponent bits, man_bits stored mantissa bits.

    `man_bits` never counts the hidden bit. `subnormals=False` makes exponent field 0 an ordinary
    binade (so the format has no zero, as OCP's E8M0 scale). `signed=False` drops the sign bit.
    """

    exp_bits: int
    man_bits: int           # stored mantissa bits, never the hidden bit
    bias: int | None = None  # None: default_bias(exp_bits, nan)
    nan: NanEncoding = NanEncoding.IEEE
    signed: bool = True
    subnormals: bool = True
    label: str | None = field(default=None, compare=False)
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.exp_bits, int) or not 1 <= self.exp_bits <= 11:
            raise FormatError(f"exponent width must be an int in 1..11, not {self.exp_bits!r}")
        if not isinstance(self.man_bits, int) or not 0 <= self.man_bits <= 52:
            raise FormatError(f"mantissa width must be an int in 0..52, not {self.man_bits!r}")
        if not isinstance(self.nan, NanEncoding):
            raise FormatError(f"nan encoding must be a NanEncoding, not {self.nan!r}")
        if self.bias is None:
            object.__setattr__(self, "bias", default_bias(self.exp_bits, self.nan))
        if not isinstance(self.bias, int):
            raise FormatError(f"bias must be an int, not {self.bias!r}")
        if not self.signed and self.nan is NanEncoding.NEG_ZERO:
            raise FormatError("an unsigned float has no negative zero to hold a NaN: "
                              "use nan=fn, ieee or none")
        if self.bits > 64:
            raise FormatError(f"a float format must fit in 64 bits, not {self.bits}")
        if self.nan is NanEncoding.IEEE and self.exp_bits == 1:
            raise FormatError("an IEEE-style format needs exp_bits >= 2: with one exponent bit the "
                              "all-ones exponent leaves no normal numbers")
        if self.nan is NanEncoding.ALL_ONES and self.exp_bits + self.man_bits == 0:
            raise FormatError("a format with nan=fn needs at least one exponent or mantissa bit")
        if self.emax < self.emin:
            raise FormatError(f"{self.name}: exponent range is empty (emin {self.emin} > emax "
                              f"{self.emax}); no normal number is left")
        # Every value must be a finite float64, so that decode to float64 is exact.
        if self.emax >= 1024 or self.emin - self.man_bits < -1074:
            raise FormatError(f"{self.name}: exponent range [{self.emin}, {self.emax}] does not fit "
                              "float64; choose a bias that keeps 2^emin >= 2^-1074 and emax <= 1023")

    # -- widths ---------------------------------------------------------------------------
    @property
    def bits(self) -> int:
        return int(self.signed) + self.exp_bits + self.man_bits

    @property
    def precision(self) -> int:
        """Significand bits including the hidden bit."""
        return self.man_bits + 1

    @property
    def kind(self) -> str:
        return "float"

    @property
    def n_codes(self) -> int:
        return 1 << self.bits

    # -- exponent range -------------------------------------------------------------------
    @property
    def max_exp_field(self) -> int:
        """Largest exponent field that holds finite numbers."""
        all_ones = (1 << self.exp_bits) - 1
        if self.nan is NanEncoding.IEEE:
            return all_ones - 1
        if self.nan is NanEncoding.ALL_ONES and self.man_bits == 0:
            return all_ones - 1   # the all-ones exponent is the NaN code itself (E8M0)
        return all_ones

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal binade."""
        return (1 if self.subnormals else 0) - self.bias

    @property
    def emax(self) -> int:
        return self.max_exp_field - self.bias

    @property
    def max_man_at_emax(self) -> int:
        """Largest mantissa field in the top binade (ALL_ONES spends its top code on NaN)."""
        all_m = (1 << self.man_bits) - 1
        if self.nan is NanEncoding.ALL_ONES and self.man_bits > 0:
            return all_m - 1
        return all_m

    @property
    def max_normal(self) -> float:
        return math.ldexp(1.0 + self.max_man_at_emax / (1 << self.man_bits), self.emax)

    @property
    def min_normal(self) -> float:
        return math.ldexp(1.0, self.emin)

    @property
    def min_subnormal(self) -> float:
        """Smallest positive value (the smallest normal when the format has no subnormals)."""
        if not self.subnormals:
            return self.min_normal
        return math.ldexp(1.0, self.emin - self.man_bits)

    @property
    def has_inf(self) -> bool:
        return self.nan is NanEncoding.IEEE

    @property
    def has_nan(self) -> bool:
        return self.nan is not NanEncoding.NONE

    @property
    def has_zero(self) -> bool:
        return self.subnormals

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        s = f"float{self.bits}_e{self.exp_bits}m{self.man_bits}{_NAN_SUFFIX[self.nan]}"
        if not self.signed:
            s += "u"
        if self.bias != default_bias(self.exp_bits, self.nan):
            s += f"_b{self.bias}"
        if not self.subnormals:
            s += "_nosub"
        return s

    @property
    def spec(self) -> str:
        """A parser string that rebuilds exactly this format."""
        parts = [f"e={self.exp_bits}", f"m={self.man_bits}", f"bias={self.bias}",
                 f"nan={self.nan.value}"]
        if not self.signed:
            parts.append("signed=0")
        if not self.subnormals:
            parts.append("subnormals=0")
        return f"fp({','.join(parts)})"

    def __str__(self) -> str:
        return self.name


ElementFormat = Union[IntFormat, FixedFormat, FloatFormat]


@dataclass(frozen=True)
class BlockFormat:
    """Block-scaled format (OCP MX): `block_size` elements share one `scale` code.

    The value of element i of a block is decode(scale) * decode(element_i).
    """

    element: ElementFormat
    scale: FloatFormat
    block_size: int = 32
    label: str | None = field(default=None, compare=False)
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self):
        if isinstance(self.element, BlockFormat):
            raise FormatError("a block format's element must be a scalar format, not a block format")
        if not isinstance(self.scale, FloatFormat):
            raise FormatError(f"a block scale must be a float format (such as e8m0), not {self.scale!r}")
        if not isinstance(self.block_size, int) or not 1 <= self.block_size <= 65536:
            raise FormatError(f"block size must be an int in 1..65536, not {self.block_size!r}")

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        scale = "" if self.scale == E8M0 else f"_s{self.scale.name}"
        return f"mx_{self.element.name}{scale}_k{self.block_size}"

    @property
    def kind(self) -> str:
        return "block"

    @property
    def bits(self) -> int:
        """Element width; the storage cost per element is `bits_per_element`."""
        return self.element.bits

    @property
    def bits_per_element(self) -> float:
        return self.element.bits + self.scale.bits / self.block_size

    def __str__(self) -> str:
        return self.name


Format = Union[IntFormat, FixedFormat, FloatFormat, BlockFormat]

# ----------------------------------------------------------------------------------------------
# The catalogue
# ----------------------------------------------------------------------------------------------
_OFP8 = "OCP 8-bit Floating Point Specification (OFP8) rev 1.0, 2023"
_MX = "OCP Microscaling Formats (MX) Specification v1.0, 2023 (arXiv:2310.10537)"
_FNUZ = "Noune et al., '8-bit Numerical Formats for Deep Neural Networks' (arXiv:2206.02915); ml_dtypes"
_IEEE = "IEEE Std 754-2019"
_BF16 = "Google Brain bfloat16 (Kalamkar et al., arXiv:1905.12322)"
_E3M4 = "ml_dtypes float8_e3m4 (IEEE-style E3M4, bias 3)"
_PAPER = ("van Baalen et al., 'FP8 versus INT8 for efficient deep learning inference' "
          "(arXiv:2303.17951), Sec. 3.3: sign + E exponent bits + (7-E) mantissa bits, "
          "subnormals, NaN only at the all-ones code, no inf")
_INT = "two's-complement integer (ubiquitous; OCP MX v1.0 for int8 elements)"

E8M0 = FloatFormat(8, 0, 127, NanEncoding.ALL_ONES, signed=False, subnormals=False,
                   label="float8_e8m0fnu", source=_MX)

CATALOGUE: dict[str, Format] = {}


def _add(fmt: Format, *aliases: str) -> Format:
    for key in (fmt.name, *aliases):
        CATALOGUE[key] = fmt
    return fmt


INT4 = _add(IntFormat(4, True, source=_INT))
INT8 = _add(IntFormat(8, True, source=_INT))
UINT8 = _add(IntFormat(8, False, source=_INT))
INT16 = _add(IntFormat(16, True, source=_INT))
INT32 = _add(IntFormat(32, True, source=_INT))
FLOAT8_E4M3FN = _add(FloatFormat(4, 3, 7, NanEncoding.ALL_ONES, source=_OFP8), "e4m3", "fp8_e4m3")
FLOAT8_E4M3FNUZ = _add(FloatFormat(4, 3, 8, NanEncoding.NEG_ZERO, source=_FNUZ), "e4m3fnuz")
FLOAT8_E5M2 = _add(FloatFormat(5, 2, 15, NanEncoding.IEEE, source=_OFP8), "e5m2", "fp8_e5m2")
FLOAT8_E5M2FNUZ = _add(FloatFormat(5, 2, 16, NanEncoding.NEG_ZERO, source=_FNUZ), "e5m2fnuz")
FLOAT8_E3M4 = _add(FloatFormat(3, 4, 3, NanEncoding.IEEE, source=_E3M4), "e3m4")
FLOAT6_E2M3FN = _add(FloatFormat(2, 3, 1, NanEncoding.NONE, label="float6_e2m3fn", source=_MX),
                     "e2m3", "fp6_e2m3")
FLOAT6_E3M2FN = _add(FloatFormat(3, 2, 3, NanEncoding.NONE, label="float6_e3m2fn", source=_MX),
                     "e3m2", "fp6_e3m2")
FLOAT4_E2M1FN = _add(FloatFormat(2, 1, 1, NanEncoding.NONE, label="float4_e2m1fn", source=_MX),
                     "e2m1", "fp4", "fp4_e2m1")
_add(E8M0, "e8m0")
FLOAT16 = _add(FloatFormat(5, 10, 15, NanEncoding.IEEE, label="float16", source=_IEEE),
               "fp16", "half", "e5m10")
BFLOAT16 = _add(FloatFormat(8, 7, 127, NanEncoding.IEEE, label="bfloat16", source=_BF16),
                "bf16", "e8m7")
FLOAT32 = _add(FloatFormat(8, 23, 127, NanEncoding.IEEE, label="float32", source=_IEEE),
               "fp32", "single", "e8m23")

# The FP8-vs-INT8 paper's generic family FP8-E2..E5. E4 coincides with OCP float8_e4m3fn.
PAPER_FP8 = {e: FloatFormat(e, 7 - e, None, NanEncoding.ALL_ONES, source=_PAPER) for e in (2, 3, 4, 5)}
for _e, _f in PAPER_FP8.items():
    if _f.name not in CATALOGUE:
        _add(_f)
    CATALOGUE[f"paper_e{_e}"] = CATALOGUE[_f.name]
    CATALOGUE[f"fp8-e{_e}"] = CATALOGUE[_f.name]

MXINT8_ELEMENT = FixedFormat(8, 6, True, label="mxint8_element", source=_MX)
MXFP8_E4M3 = _add(BlockFormat(FLOAT8_E4M3FN, E8M0, 32, label="mxfp8_e4m3", source=_MX))
MXFP8_E5M2 = _add(BlockFormat(FLOAT8_E5M2, E8M0, 32, label="mxfp8_e5m2", source=_MX))
MXFP6_E2M3 = _add(BlockFormat(FLOAT6_E2M3FN, E8M0, 32, label="mxfp6_e2m3", source=_MX))
MXFP6_E3M2 = _add(BlockFormat(FLOAT6_E3M2FN, E8M0, 32, label="mxfp6_e3m2", source=_MX))
MXFP4 = _add(BlockFormat(FLOAT4_E2M1FN, E8M0, 32, label="mxfp4", source=_MX), "mxfp4_e2m1")
MXINT8 = _add(BlockFormat(MXINT8_ELEMENT, E8M0, 32, label="mxint8", source=_MX))


def catalogue_formats() -> list[Format]:
    """Each distinct catalogue entry once, in catalogue order."""
    seen: list[Format] = []
    for fmt in CATALOGUE.values():
        if not any(fmt is s for s in seen):
            seen.append(fmt)
    return seen


# ----------------------------------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------------------------------
_NAN_WORDS = {"ieee": NanEncoding.IEEE, "fn": NanEncoding.ALL_ONES, "all_ones": NanEncoding.ALL_ONES,
              "fnuz": NanEncoding.NEG_ZERO, "neg_zero": NanEncoding.NEG_ZERO,
              "none": NanEncoding.NONE, "finite": NanEncoding.NONE}
_FP_KEYS = {"e", "m", "bias", "nan", "signed", "subnormals"}
_MX_KEYS = {"block", "scale"}
_ALLOWED_HINT = ("a catalogue name (see `hwdse formats`), intN/uintN (N in 2..32), eXmY[fn|fnuz], "
                 "fp(e=E,m=M[,bias=B][,nan=ieee|fn|fnuz|none]) or mx(ELEMENT[,block=N][,scale=FMT])")


def _split_args(body: str, spec: str) -> tuple[list[str], dict[str, str]]:
    positional, named = [], {}
    depth, cur = 0, ""
    pieces = []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            pieces.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        pieces.append(cur)
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            raise FormatError(f"format spec {spec!r} has an empty argument")
        if "=" in piece and "(" not in piece.split("=", 1)[0]:
            k, v = piece.split("=", 1)
            k = k.strip().lower()
            if k in named:
                raise FormatError(f"format spec {spec!r} gives {k!r} twice")
            named[k] = v.strip()
        else:
            if named:
                raise FormatError(f"format spec {spec!r}: positional argument {piece!r} after a named one")
            positional.append(piece)
    return positional, named


def _int_arg(value: str, key: str, spec: str) -> int:
    try:
        return int(value, 0)
    except ValueError:
        raise FormatError(f"{key} in {spec!r} must be an integer, not {value!r}") from None


def _bool_arg(value: str, key: str, spec: str) -> bool:
    v = value.lower()
    if v in ("1", "true", "yes"):
        return True
    if v in ("0", "false", "no"):
        return False
    raise FormatError(f"{key} in {spec!r} must be 0/1 or true/false, not {value!r}")


def parse_format(spec: str | Format) -> Format:
    """Turn a user string into a format; a format object passes through unchanged.

    Accepted: catalogue names and aliases ("float8_e4m3fn", "e4m3", "bf16", "paper_e3"),
    "intN"/"uintN", "eXmY" with optional "fn"/"fnuz" suffix (IEEE specials otherwise, default bias),
    "fp(e=3,m=4,bias=7,nan=fn)" and "mx(e2m1,block=32[,scale=e8m0])".
    Raises FormatError with a one-line message naming what is allowed.
    """
    if isinstance(spec, (IntFormat, FixedFormat, FloatFormat, BlockFormat)):
        return spec
    if not isinstance(spec, str):
        raise FormatError(f"format spec must be a string, not {spec!r}")
    s = spec.strip()
    key = s.lower()
    if not key:
        raise FormatError(f"format spec must not be empty; allowed: {_ALLOWED_HINT}")
    if key in CATALOGUE:
        return CATALOGUE[key]
    m = re.fullmatch(r"(u?)int(-?\d+)", key)
    if m:
        return IntFormat(int(m.group(2)), signed=not m.group(1))
    m = re.fullmatch(r"(?:float\d+_|fp\d+_)?e(\d+)m(\d+)(fnuz|fn|fs)?(u)?(?:_b(-?\d+))?", key)
    if m:
        nan = {None: NanEncoding.IEEE, "fn": NanEncoding.ALL_ONES, "fnuz": NanEncoding.NEG_ZERO,
               "fs": NanEncoding.NONE}[m.group(3)]
        fmt = FloatFormat(int(m.group(1)), int(m.group(2)),
                          None if m.group(5) is None else int(m.group(5)), nan,
                          signed=not m.group(4))
        width = re.match(r"(?:float|fp)(\d+)_", key)
        if width and int(width.group(1)) != fmt.bits:
            raise FormatError(f"{spec!r} names a {width.group(1)}-bit format but "
                              f"e{fmt.exp_bits}m{fmt.man_bits} has {fmt.bits} bits")
        return fmt
    m = re.fullmatch(r"(fp|float|mx)\s*\((.*)\)", s, flags=re.IGNORECASE | re.DOTALL)
    if m:
        kind, body = m.group(1).lower(), m.group(2)
        positional, named = _split_args(body, spec)
        if kind in ("fp", "float"):
            unknown = set(named) - _FP_KEYS
            if unknown or positional:
                bad = sorted(unknown) or positional
                raise FormatError(f"fp(...) takes only named keys {sorted(_FP_KEYS)}, not {bad}")
            for req in ("e", "m"):
                if req not in named:
                    raise FormatError(f"fp(...) needs {req}=..., e.g. fp(e=4,m=3,bias=7,nan=fn); got {spec!r}")
            nan_word = named.get("nan", "ieee").lower()
            if nan_word not in _NAN_WORDS:
                raise FormatError(f"nan in {spec!r} must be one of ieee, fn, fnuz, none, not {nan_word!r}")
            return FloatFormat(
                _int_arg(named["e"], "e", spec), _int_arg(named["m"], "m", spec),
                _int_arg(named["bias"], "bias", spec) if "bias" in named else None,
                _NAN_WORDS[nan_word],
                signed=_bool_arg(named.get("signed", "1"), "signed", spec),
                subnormals=_bool_arg(named.get("subnormals", "1"), "subnormals", spec))
        # mx(...)
        if len(positional) != 1:
            raise FormatError(f"mx(...) needs exactly one element format first, e.g. mx(e2m1,block=32); got {spec!r}")
        unknown = set(named) - _MX_KEYS
        if unknown:
            raise FormatError(f"mx(...) takes only named keys {sorted(_MX_KEYS)}, not {sorted(unknown)}")
        element = parse_format(positional[0])
        if element == INT8 or (isinstance(element, IntFormat) and element.signed):
            # MX integer elements are fixed point with the binary point after 2 bits (OCP MX 5.3.3)
            element = FixedFormat(element.bits, element.bits - 2, True)
        scale = parse_format(named.get("scale", "e8m0"))
        if not isinstance(scale, FloatFormat):
            raise FormatError(f"mx scale must be a float format such as e8m0, not {scale.name!r}")
        block = _int_arg(named.get("block", "32"), "block", spec)
        fmt = BlockFormat(element, scale, block)
        for known in catalogue_formats():
            if known == fmt:
                return known
        return fmt
    close = [k for k in CATALOGUE if k.startswith(key[:4])][:5]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise FormatError(f"unknown format {spec!r}{hint}; allowed: {_ALLOWED_HINT}")
