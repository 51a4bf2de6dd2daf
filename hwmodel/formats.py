"""Number formats: one frozen dataclass per kind, one catalogue, one parser.

Every other layer (golden numerics, RTL generators, cost models, roofline) reads these objects;
no width or bias is typed in anywhere else. Derived values are properties.

Value of a float code with sign s, exponent field e and mantissa field m (M = man_bits):
    normal      (e > 0, or any e when the format has no subnormals):
                (-1)^s * 2^(e - bias) * (1 + m / 2^M)
    subnormal   (e == 0 and the format has subnormals):
                (-1)^s * 2^(1 - bias) * (m / 2^M)
Special codes depend on `nan` (see `NanEncoding`).

Identity: every format has `.spec`, a canonical string with `parse_format(f.spec) == f` (the
catalogue name where the format equals a catalogue entry, else a structural spec such as
"fp(e=4,m=3,bias=7,nan=ieee,subnormals=0)"); equal formats have equal specs. `.name` is the display
name (identifier-safe: letters, digits, '_'); it parses back to an equal format too. Specs are ASCII;
anything else is a one-line FormatError naming the character.
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
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


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


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
        if not _is_int(self.bits) or not 2 <= self.bits <= 32:
            raise FormatError(f"integer width must be an int in 2..32, not {self.bits!r}")
        if not isinstance(self.signed, bool):
            raise FormatError(f"signed must be True or False, not {self.signed!r}")

    @property
    def name(self) -> str:
        return f"{'' if self.signed else 'u'}int{self.bits}"

    @property
    def spec(self) -> str:
        """Canonical parser string ('int8', 'uint4'): parse_format(f.spec) == f."""
        return self.name

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
        if not _is_int(self.bits) or not 2 <= self.bits <= 4096:
            raise FormatError(f"fixed-point width must be an int in 2..4096, not {self.bits!r}")
        if not _is_int(self.frac_bits) or not -4096 <= self.frac_bits <= 4096:
            raise FormatError(f"fixed-point frac_bits must be an int in -4096..4096, not {self.frac_bits!r}")
        if not isinstance(self.signed, bool):
            raise FormatError(f"signed must be True or False, not {self.signed!r}")

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return _registered_spec(self) or self._structural

    @property
    def _structural(self) -> str:
        frac = f"m{-self.frac_bits}" if self.frac_bits < 0 else str(self.frac_bits)
        return f"{'s' if self.signed else 'u'}fix{self.bits}_f{frac}"

    @property
    def spec(self) -> str:
        """Canonical parser string ('sfix8_f6', 'ufix12_fm2' for 2^2 steps)."""
        return _registered_spec(self) or self._structural

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
        if not _is_int(self.exp_bits) or not 1 <= self.exp_bits <= 11:
            raise FormatError(f"exponent width must be an int in 1..11, not {self.exp_bits!r}")
        if not _is_int(self.man_bits) or not 0 <= self.man_bits <= 52:
            raise FormatError(f"mantissa width must be an int in 0..52, not {self.man_bits!r}")
        if not isinstance(self.nan, NanEncoding):
            raise FormatError(f"nan encoding must be a NanEncoding, not {self.nan!r}")
        if self.bias is None:
            object.__setattr__(self, "bias", default_bias(self.exp_bits, self.nan))
        if not _is_int(self.bias):
            raise FormatError(f"bias must be an int, not {self.bias!r}")
        if not isinstance(self.signed, bool) or not isinstance(self.subnormals, bool):
            raise FormatError(f"signed and subnormals must be True or False, not "
                              f"{self.signed!r}, {self.subnormals!r}")
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
        """Display name: the label, or 'float{bits}_e{E}m{M}{fn|fnuz|fs}[u][_b{bias}][_nosub]'
        (negative bias as '_bm{|bias|}'; 'fnao' for 'fn' where a catalogue label already spells
        the 'fn' name for another format, e.g. float4_e2m1fnao); parse_format reads it back."""
        if self.label:
            return self.label
        known = _registered_spec(self)
        if known:       # equal to a catalogue entry: its name, so equal formats display alike
            return known
        s = self._derived_name(_NAN_SUFFIX[self.nan])
        if self.nan is NanEncoding.ALL_ONES:
            # The OCP FP6/FP4 and E8M0 labels spell 'fn' as ml_dtypes does although those formats
            # differ from the derived reading (no NaN / no subnormals): never reuse such a label.
            other = CATALOGUE.get(s) or _NAMED.get(s)
            if other is not None and other != self:
                s = self._derived_name("fnao")
        return s

    def _derived_name(self, nan_suffix: str) -> str:
        s = f"float{self.bits}_e{self.exp_bits}m{self.man_bits}{nan_suffix}"
        if not self.signed:
            s += "u"
        if self.bias != default_bias(self.exp_bits, self.nan):
            s += f"_b{self.bias}" if self.bias >= 0 else f"_bm{-self.bias}"
        if not self.subnormals:
            s += "_nosub"
        return s

    @property
    def spec(self) -> str:
        """Canonical parser string: the catalogue name of an equal catalogue entry, else
        'fp(e=E,m=M,bias=B,nan=N[,signed=0][,subnormals=0])'. parse_format(f.spec) == f."""
        known = _registered_spec(self)
        if known:
            return known
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


class ScaleRule(enum.Enum):
    """How a block's shared scale X is chosen from the block's largest magnitude amax."""

    OCP = "ocp"      # X = 2^(floor(log2 amax) - emax_elem), clamped to the scale's range (OCP MX v1.0 6.3)
    AMAX = "amax"    # X = amax / elem_max rounded into the scale format (NVFP4: to E4M3; Jetfire: float)
    POW2 = "pow2"    # X = the smallest power of two with amax / X <= elem_max (ShiftQuant)


@dataclass(frozen=True)
class Pow2Scale:
    """A block scale that is a signed power-of-two shift: code c is a `bits`-bit two's-complement
    integer e, and the scale's value is 2^e (no zero, no NaN, no inf). Rescaling by it is a shift,
    so sums across blocks can stay in fixed point (ShiftQuant). Spec and name: 'shift{bits}'."""

    bits: int = 8
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self):
        # 2^emax must be a finite float64 and 2^emin must not be below float64's smallest value.
        if not _is_int(self.bits) or not 2 <= self.bits <= 11:
            raise FormatError(f"a power-of-two shift scale needs 2..11 exponent bits, not {self.bits!r}")

    @property
    def name(self) -> str:
        return f"shift{self.bits}"

    @property
    def spec(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        return "pow2"

    # The float-format views a scale datapath reads: all bits are exponent, the significand is 1.
    @property
    def exp_bits(self) -> int:
        return self.bits

    @property
    def man_bits(self) -> int:
        return 0

    @property
    def precision(self) -> int:
        return 1

    @property
    def has_nan(self) -> bool:
        return False

    @property
    def has_inf(self) -> bool:
        return False

    @property
    def has_zero(self) -> bool:
        return False

    @property
    def emin(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def emax(self) -> int:
        return (1 << (self.bits - 1)) - 1

    @property
    def max_normal(self) -> float:
        return math.ldexp(1.0, self.emax)

    @property
    def min_normal(self) -> float:
        return math.ldexp(1.0, self.emin)

    min_subnormal = min_normal
    max_value = max_normal

    @property
    def n_codes(self) -> int:
        return 1 << self.bits

    def __str__(self) -> str:
        return self.name


ScaleFormat = Union[FloatFormat, Pow2Scale]
_MAX_BLOCK = 65536


def _top_exp(f) -> int:
    """floor(log2) of the largest magnitude of a scalar format or scale."""
    if isinstance(f, (FloatFormat, Pow2Scale)):
        return f.emax
    return math.frexp(max(abs(f.max_value), abs(f.min_value)))[1] - 1


def _bottom_exp(f) -> int:
    """Exponent of the smallest nonzero magnitude (the LSB) of a scalar format or scale."""
    if isinstance(f, Pow2Scale):
        return f.emin
    if isinstance(f, FloatFormat):
        return f.emin - (f.man_bits if f.subnormals else 0)
    return -f.frac_bits if isinstance(f, FixedFormat) else 0


@dataclass(frozen=True)
class BlockFormat:
    """Block-scaled format: `block_rows` x `block_size` elements share one `scale` code.

    element       scalar format of each element (int, fixed or float; never a block format)
    scale         the scale's format: a FloatFormat (E8M0, UE4M3, BF16, FP32, ...) or a Pow2Scale
    block_size    elements along the dot-product axis that share one scale
    rule          ScaleRule: how the scale is chosen from the block's amax (golden numerics:
                  hwmodel.blockscaled)
    tensor_scale  a second-level per-tensor scale format (NVFP4: FP32), or None
    block_rows    rows of a 2-D tile sharing the scale (Jetfire 32x32, DeepSeek-V3 weights 128x128)

    The value of element i of a block is decode(tensor scale) * decode(scale) * decode(element_i).
    """

    element: ElementFormat
    scale: ScaleFormat = None
    block_size: int = 32
    rule: ScaleRule = ScaleRule.OCP
    tensor_scale: FloatFormat | None = None
    block_rows: int = 1
    label: str | None = field(default=None, compare=False)
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self):
        if self.scale is None:
            object.__setattr__(self, "scale", E8M0)
        if isinstance(self.rule, str):
            object.__setattr__(self, "rule", _scale_rule(self.rule, self.rule))
        if isinstance(self.element, BlockFormat) or isinstance(self.scale, BlockFormat) or \
                isinstance(self.tensor_scale, BlockFormat):
            raise FormatError("nested blocks: a block format's element and scales must be scalar "
                              "formats, not block formats")
        if not isinstance(self.element, (IntFormat, FixedFormat, FloatFormat)):
            raise FormatError(f"a block format's element must be an int, fixed or float format, "
                              f"not {self.element!r}")
        if not isinstance(self.scale, (FloatFormat, Pow2Scale)):
            raise FormatError(f"a block scale must be a float format (e8m0, ue4m3, bf16, fp32) or a "
                              f"power-of-two shift (shiftN), not {_show(self.scale)}")
        if not isinstance(self.rule, ScaleRule):
            raise FormatError(f"a block scale rule must be a ScaleRule, not {self.rule!r}")
        if self.tensor_scale is not None and not isinstance(self.tensor_scale, FloatFormat):
            raise FormatError(f"a tensor scale must be a float format such as fp32, not "
                              f"{_show(self.tensor_scale)}")
        for what, v in (("block size", self.block_size), ("block rows", self.block_rows)):
            if not _is_int(v) or not 1 <= v <= _MAX_BLOCK:
                raise FormatError(f"{what} must be an int in 1..{_MAX_BLOCK}, not {v!r}")
        if self.rule is ScaleRule.AMAX and isinstance(self.scale, Pow2Scale):
            raise FormatError(f"rule amax rounds amax/elem_max into a float scale; the shift scale "
                              f"{self.scale.name} takes rule=pow2 or rule=ocp")
        for what, sc in (("scale", self.scale), ("tensor scale", self.tensor_scale)):
            if sc is not None and not sc.emin <= 0 <= sc.emax:
                raise FormatError(f"the {what} {sc.name} cannot hold 1 (its exponents are "
                                  f"{sc.emin}..{sc.emax}), so it cannot leave a block unscaled")
        # Every block value scale x element must be an exact float64 number.
        scales = [self.scale] + ([self.tensor_scale] if self.tensor_scale is not None else [])
        hi = _top_exp(self.element) + sum(_top_exp(sc) for sc in scales)
        lo = _bottom_exp(self.element) + sum(_bottom_exp(sc) for sc in scales)
        if hi > 1023 or lo < -1074:
            raise FormatError(f"the scale {'/'.join(sc.name for sc in scales)} cannot hold the element "
                              f"range of {self.element.name}: scaled values would span "
                              f"2^{lo}..2^{hi}, beyond float64's 2^-1074..2^1023")

    @property
    def name(self) -> str:
        """Display name: the label, 'mx_{element}_k{N}' (E8M0 scale, OCP rule), or
        'blk_{element}__{scale}__k{N}[r{rows}]__{rule}[__{tensor scale}]'; parse_format reads it."""
        if self.label:
            return self.label
        known = _registered_spec(self)
        if known:
            return known
        if self._is_plain_mx:
            return f"mx_{self.element.name}_k{self.block_size}"
        parts = [self.element.name, self.scale.name,
                 f"k{self.block_size}" + (f"r{self.block_rows}" if self.block_rows > 1 else ""),
                 self.rule.value]
        if self.tensor_scale is not None:
            parts.append(self.tensor_scale.name)
        return "blk_" + "__".join(parts)

    @property
    def _is_plain_mx(self) -> bool:
        return (self.scale == E8M0 and self.rule is ScaleRule.OCP and self.block_rows == 1
                and self.tensor_scale is None)

    @property
    def spec(self) -> str:
        """Canonical parser string: a catalogue name, else
        'block(ELEMENT,block=N,scale=S,rule=R[,rows=R][,tensor=T])' with canonical sub-specs."""
        known = _registered_spec(self)
        if known:
            return known
        args = [self.element.spec, f"block={self.block_size}", f"scale={self.scale.spec}",
                f"rule={self.rule.value}"]
        if self.block_rows > 1:
            args.append(f"rows={self.block_rows}")
        if self.tensor_scale is not None:
            args.append(f"tensor={self.tensor_scale.spec}")
        return f"block({','.join(args)})"

    @property
    def kind(self) -> str:
        return "block"

    @property
    def bits(self) -> int:
        """Element width; the storage cost per element is `bits_per_element`."""
        return self.element.bits

    @property
    def element_max(self) -> float:
        """Largest finite element value (the amax rule's elem_max: 6 for E2M1, 127 for INT8)."""
        el = self.element
        return el.max_normal if isinstance(el, FloatFormat) else el.max_value

    @property
    def element_emax(self) -> int:
        """OCP MX emax_elem: exponent of the largest power of two the element format holds
        (floor(log2 of the largest positive value); MXINT8: 0)."""
        el = self.element
        return el.emax if isinstance(el, FloatFormat) else math.frexp(el.max_value)[1] - 1

    @property
    def elements_per_scale(self) -> int:
        return self.block_size * self.block_rows

    @property
    def scale_storage_bits(self) -> int:
        """Bits one scale occupies in memory: its width rounded up to whole bytes (NVFP4 keeps its
        UE4M3 scale in an FP8 byte; OCP MX's E8M0 is one byte)."""
        return -(-self.scale.bits // 8) * 8

    @property
    def bits_per_element(self) -> float:
        """Element bits plus the block scale's storage spread over its elements (the per-tensor
        scale is one number per tensor and is not counted)."""
        return self.element.bits + self.scale_storage_bits / self.elements_per_scale

    def __str__(self) -> str:
        return self.name


Format = Union[IntFormat, FixedFormat, FloatFormat, BlockFormat]
_FORMAT_TYPES = (IntFormat, FixedFormat, FloatFormat, BlockFormat)


def _show(x) -> str:
    return repr(getattr(x, "name", x))


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
_NVFP4 = ("NVIDIA, 'Introducing NVFP4 for Efficient and Accurate Low-Precision Inference' (2025) and "
          "PTX ISA block-scaled MMA: E2M1 elements, one UE4M3 scale per 16 elements (amax/6 rounded "
          "to E4M3), one FP32 scale per tensor")
_JETFIRE = ("Xi et al., 'Jetfire: Efficient and Accurate Transformer Pretraining with INT8 Data Flow "
            "and Per-Block Quantization' (arXiv:2403.12422): INT8 32x32 blocks, scale amax/127 kept "
            "in floating point (FP32 here)")
_SHIFTQUANT = ("Guo et al., 'Towards Accurate and Efficient Sub-8-Bit Integer Training' "
               "(arXiv:2411.10948), ShiftQuant: integer groups with power-of-two scales; the group "
               "of 32 and the 8-bit shift exponent are this catalogue's choice")
_DEEPSEEK = ("DeepSeek-AI, 'DeepSeek-V3 Technical Report' (arXiv:2412.19437), Sec. 3.3.2: FP8 E4M3 "
             "with FP32 scales from the online amax, 1x128 activation tiles and 128x128 weight blocks")

E8M0 = FloatFormat(8, 0, 127, NanEncoding.ALL_ONES, signed=False, subnormals=False,
                   label="float8_e8m0fnu", source=_MX)
# NVFP4's scale: E4M3 (OFP8) with the sign bit fixed at 0; its codes are E4M3FN's positive codes.
UE4M3 = FloatFormat(4, 3, 7, NanEncoding.ALL_ONES, signed=False, label="ue4m3", source=_NVFP4)

CATALOGUE: dict[str, Format] = {}
# Parse-only names: formats that are not catalogue entries (scales, element formats of catalogue
# block formats) but whose labels must parse back.
_NAMED: dict[str, Format] = {}
# The canonical spec of each registered format (first name registered for an equal format wins).
_SPEC_BY_VALUE: dict = {}


def _add(fmt: Format, *aliases: str) -> Format:
    for key in (fmt.name, *aliases):
        CATALOGUE[key] = fmt
    _SPEC_BY_VALUE.setdefault(fmt, fmt.name)
    return fmt


def _add_named(fmt: Format, *aliases: str) -> Format:
    for key in (fmt.name, *aliases):
        _NAMED[key] = fmt
    _SPEC_BY_VALUE.setdefault(fmt, fmt.name)
    return fmt


def _registered_spec(fmt) -> str | None:
    """The catalogue (or parse-only) name of the registered format equal to fmt, else None."""
    registry = globals().get("_SPEC_BY_VALUE")    # None while the catalogue is being built
    if not registry:
        return None
    try:
        return registry.get(fmt)
    except TypeError:       # an unhashable field (only possible for a malformed object)
        return None


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
_add(E8M0, "e8m0", "ue8m0")
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

_add_named(UE4M3)
SHIFT8 = Pow2Scale(8, source=_SHIFTQUANT)

MXINT8_ELEMENT = _add_named(FixedFormat(8, 6, True, label="mxint8_element", source=_MX))
MXFP8_E4M3 = _add(BlockFormat(FLOAT8_E4M3FN, E8M0, 32, label="mxfp8_e4m3", source=_MX))
MXFP8_E5M2 = _add(BlockFormat(FLOAT8_E5M2, E8M0, 32, label="mxfp8_e5m2", source=_MX))
MXFP6_E2M3 = _add(BlockFormat(FLOAT6_E2M3FN, E8M0, 32, label="mxfp6_e2m3", source=_MX))
MXFP6_E3M2 = _add(BlockFormat(FLOAT6_E3M2FN, E8M0, 32, label="mxfp6_e3m2", source=_MX))
MXFP4 = _add(BlockFormat(FLOAT4_E2M1FN, E8M0, 32, label="mxfp4", source=_MX), "mxfp4_e2m1")
MXINT8 = _add(BlockFormat(MXINT8_ELEMENT, E8M0, 32, label="mxint8", source=_MX))
NVFP4 = _add(BlockFormat(FLOAT4_E2M1FN, UE4M3, 16, ScaleRule.AMAX, FLOAT32, label="nvfp4",
                         source=_NVFP4))
JETFIRE_INT8 = _add(BlockFormat(INT8, FLOAT32, 32, ScaleRule.AMAX, block_rows=32,
                                label="jetfire_int8", source=_JETFIRE))
SHIFTQUANT_INT4 = _add(BlockFormat(INT4, SHIFT8, 32, ScaleRule.POW2, label="shiftquant_int4",
                                   source=_SHIFTQUANT))
SHIFTQUANT_INT8 = _add(BlockFormat(INT8, SHIFT8, 32, ScaleRule.POW2, label="shiftquant_int8",
                                   source=_SHIFTQUANT))
DEEPSEEK_FP8_ACT = _add(BlockFormat(FLOAT8_E4M3FN, FLOAT32, 128, ScaleRule.AMAX,
                                    label="deepseek_fp8_act", source=_DEEPSEEK))
DEEPSEEK_FP8_WEIGHT = _add(BlockFormat(FLOAT8_E4M3FN, FLOAT32, 128, ScaleRule.AMAX, block_rows=128,
                                       label="deepseek_fp8_weight", source=_DEEPSEEK))


def catalogue_formats() -> list[Format]:
    """Each distinct catalogue entry once, in catalogue order."""
    seen: list[Format] = []
    for fmt in CATALOGUE.values():
        if not any(fmt is s for s in seen):
            seen.append(fmt)
    return seen


def _canonical(fmt):
    """The registered object equal to fmt (so that display names agree), else fmt itself."""
    name = _registered_spec(fmt)
    if name is None:
        return fmt
    return CATALOGUE.get(name) or _NAMED.get(name) or fmt


# ----------------------------------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------------------------------
_NAN_WORDS = {"ieee": NanEncoding.IEEE, "fn": NanEncoding.ALL_ONES, "all_ones": NanEncoding.ALL_ONES,
              "fnuz": NanEncoding.NEG_ZERO, "neg_zero": NanEncoding.NEG_ZERO,
              "none": NanEncoding.NONE, "finite": NanEncoding.NONE, "fs": NanEncoding.NONE}
_FP_KEYS = {"e", "m", "bias", "nan", "signed", "subnormals"}
_MX_KEYS = {"block", "scale"}
_BLOCK_KEYS = {"block", "scale", "rule", "tensor", "rows"}
_ALLOWED_HINT = ("a catalogue name (see `hwdse formats`), intN/uintN (N in 2..32), eXmY[fn|fnuz], "
                 "fp(e=E,m=M[,bias=B][,nan=ieee|fn|fnuz|none]), mx(ELEMENT[,block=N][,scale=FMT]) or "
                 "block(ELEMENT,block=N,scale=FMT|shiftN,rule=ocp|amax|pow2[,rows=R][,tensor=FMT])")
_MAX_SPEC_CHARS = 1000
_MAX_DEPTH = 4


def check_spec_text(spec: str, what: str = "format spec") -> None:
    """Reject what no spec may hold: any character outside printable ASCII (full-width digits,
    look-alike letters, control characters) and absurd lengths. One-line FormatError naming it."""
    for i, ch in enumerate(spec):
        if not (" " <= ch <= "~" or ch == "\t"):
            kind = "control" if ord(ch) < 128 or unicodedata.category(ch).startswith("C") else "non-ASCII"
            uname = unicodedata.name(ch, "")
            label = f"U+{ord(ch):04X}" + (f" {uname}" if uname else "")
            raise FormatError(f"{what} {spec[:60]!r} has the {kind} character {ch!r} ({label}) at "
                              f"position {i}; specs are plain ASCII, e.g. int8 or fp(e=4,m=3)")
    if len(spec) > _MAX_SPEC_CHARS:
        raise FormatError(f"{what} is {len(spec)} characters long; at most {_MAX_SPEC_CHARS} are accepted")


def _split_args(body: str, spec: str) -> tuple[list[str], dict[str, str]]:
    positional, named = [], {}
    depth, cur = 0, ""
    pieces = []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise FormatError(f"format spec {spec!r} has an unmatched ')'")
        if ch == "," and depth == 0:
            pieces.append(cur)
            cur = ""
        else:
            cur += ch
    if depth:
        raise FormatError(f"format spec {spec!r} has an unmatched '('")
    if cur.strip() or pieces:
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
    if not re.fullmatch(r"[+-]?\d{1,6}", value.strip(), flags=re.ASCII):
        raise FormatError(f"{key} in {spec!r} must be an integer, not {value!r}")
    return int(value)


def _bool_arg(value: str, key: str, spec: str) -> bool:
    v = value.lower()
    if v in ("1", "true", "yes"):
        return True
    if v in ("0", "false", "no"):
        return False
    raise FormatError(f"{key} in {spec!r} must be 0/1 or true/false, not {value!r}")


def _scale_rule(word, spec) -> ScaleRule:
    if isinstance(word, ScaleRule):
        return word
    try:
        return ScaleRule(str(word).strip().lower())
    except ValueError:
        raise FormatError(f"rule in {spec!r} must be one of {', '.join(r.value for r in ScaleRule)}, "
                          f"not {word!r}") from None


def _check_text(spec, what: str) -> str:
    """The spec without surrounding ASCII whitespace, checked by check_spec_text."""
    if not isinstance(spec, str):
        raise FormatError(f"{what} must be a string, not {spec!r:.60}")
    s = spec.strip(" \t\r\n")
    check_spec_text(s, what)
    return s


def parse_format(spec: str | Format) -> Format:
    """Turn a user string into a format; a format object passes through unchanged.

    Accepted: catalogue names and aliases ("float8_e4m3fn", "e4m3", "bf16", "paper_e3", "nvfp4"),
    "intN"/"uintN", "eXmY" with optional "fn"/"fnuz" suffix (IEEE specials otherwise, default bias),
    display names ("float8_e4m3_nosub", "sfix8_f6", "mx_int8_k16", "blk_..."),
    "fp(e=3,m=4,bias=7,nan=fn[,signed=0][,subnormals=0])", "mx(e2m1[,block=32][,scale=e8m0])" (OCP
    rule; integer elements become OCP's fixed point) and
    "block(e2m1,block=16,scale=ue4m3,rule=amax[,rows=R][,tensor=fp32])". Every `.spec` and `.name`
    parses back to an equal format. Raises FormatError with a one-line message.
    """
    if isinstance(spec, _FORMAT_TYPES):
        return spec
    if isinstance(spec, Pow2Scale):
        raise FormatError(f"{spec.name} is a block scale (a power-of-two shift), not a number format")
    s = _check_text(spec, "format spec")
    return _parse(s, spec, 0)


def parse_scale(spec: str | FloatFormat | Pow2Scale) -> FloatFormat | Pow2Scale:
    """A block scale: 'shiftN' (a Pow2Scale of N bits) or any float format spec ('e8m0', 'ue4m3',
    'bf16', 'fp32', 'fp(...)'). Raises FormatError (one line) for anything else."""
    if isinstance(spec, (FloatFormat, Pow2Scale)):
        return spec
    if isinstance(spec, _FORMAT_TYPES):
        raise _scale_type_error(spec, spec)
    s = _check_text(spec, "scale spec")
    return _parse_scale(s, spec, 0)


def _scale_type_error(fmt, spec) -> FormatError:
    if isinstance(fmt, BlockFormat):
        return FormatError(f"nested blocks: the scale {spec!r} is itself a block format; a block "
                           "scale must be a float format or shiftN")
    return FormatError(f"a block scale must be a float format (e8m0, ue4m3, bf16, fp32) or a "
                       f"power-of-two shift shiftN, not {fmt.name!r}")


def _parse_scale(s: str, whole: str, depth: int):
    m = re.fullmatch(r"shift(\d{1,3})", s.lower(), flags=re.ASCII)
    if m:
        return Pow2Scale(int(m.group(1)))
    fmt = _parse(s, whole, depth)
    if not isinstance(fmt, FloatFormat):
        raise _scale_type_error(fmt, s)
    return fmt


def _parse_element(s: str, whole: str, depth: int):
    fmt = _parse(s, whole, depth)
    if isinstance(fmt, BlockFormat):
        raise FormatError(f"nested blocks: the element {s!r} of {whole!r} is itself a block format")
    return fmt


def _parse(s: str, whole: str, depth: int) -> Format:
    if depth > _MAX_DEPTH:
        raise FormatError(f"format spec {whole!r} is nested too deeply")
    key = s.lower()
    if not key:
        raise FormatError(f"format spec must not be empty; allowed: {_ALLOWED_HINT}")
    if key in CATALOGUE:
        return CATALOGUE[key]
    if key in _NAMED:
        return _NAMED[key]
    m = re.fullmatch(r"(u?)int(\d{1,4})", key, flags=re.ASCII)
    if m:
        return _canonical(IntFormat(int(m.group(2)), signed=not m.group(1)))
    if re.fullmatch(r"u?int-\d+", key, flags=re.ASCII):
        raise FormatError(f"integer width must be an int in 2..32, not {key[key.index('-'):]}")
    m = re.fullmatch(r"([su])fix(\d{1,4})_f(m?)(\d{1,4})", key, flags=re.ASCII)
    if m:
        frac = int(m.group(4)) * (-1 if m.group(3) else 1)
        return _canonical(FixedFormat(int(m.group(2)), frac, m.group(1) == "s"))
    m = re.fullmatch(r"(?:float\d+_|fp\d+_)?e(\d{1,3})m(\d{1,3})(fnuz|fnao|fn|fs)?(u)?(?:_b(m?-?\d{1,5}))?(_nosub)?",
                     key, flags=re.ASCII)
    if m:
        nan = {None: NanEncoding.IEEE, "fn": NanEncoding.ALL_ONES, "fnao": NanEncoding.ALL_ONES,
               "fnuz": NanEncoding.NEG_ZERO, "fs": NanEncoding.NONE}[m.group(3)]
        bias = m.group(5)
        if bias is not None:
            bias = -int(bias[1:]) if bias.startswith("m") else int(bias)
        fmt = FloatFormat(int(m.group(1)), int(m.group(2)), bias, nan,
                          signed=not m.group(4), subnormals=not m.group(6))
        width = re.match(r"(?:float|fp)(\d+)_", key, flags=re.ASCII)
        if width and int(width.group(1)) != fmt.bits:
            raise FormatError(f"{whole!r} names a {width.group(1)}-bit format but "
                              f"e{fmt.exp_bits}m{fmt.man_bits} has {fmt.bits} bits")
        return _canonical(fmt)
    if re.fullmatch(r"shift\d+", key, flags=re.ASCII):
        raise FormatError(f"{s!r} is a block scale (a power-of-two shift), not a number format; use "
                          f"it as block(ELEMENT,scale={s},rule=pow2)")
    m = re.fullmatch(r"mx_(.+)_k(\d{1,6})", key, flags=re.ASCII)
    if m:
        return _canonical(BlockFormat(_parse_element(m.group(1), whole, depth + 1), E8M0,
                                      int(m.group(2))))
    if key.startswith("blk_"):
        return _parse_block_name(key[4:], whole, depth)
    m = re.fullmatch(r"(fp|float|mx|block)\s*\((.*)\)", s, flags=re.IGNORECASE | re.DOTALL)
    if m:
        kind, body = m.group(1).lower(), m.group(2)
        positional, named = _split_args(body, whole)
        if kind in ("fp", "float"):
            return _parse_fp(positional, named, whole)
        return _parse_block_call(kind, positional, named, whole, depth)
    close = [k for k in CATALOGUE if k.startswith(key[:4])][:5]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise FormatError(f"unknown format {s!r}{hint}; allowed: {_ALLOWED_HINT}")


def _parse_fp(positional, named, spec) -> FloatFormat:
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
    return _canonical(FloatFormat(
        _int_arg(named["e"], "e", spec), _int_arg(named["m"], "m", spec),
        _int_arg(named["bias"], "bias", spec) if "bias" in named else None,
        _NAN_WORDS[nan_word],
        signed=_bool_arg(named.get("signed", "1"), "signed", spec),
        subnormals=_bool_arg(named.get("subnormals", "1"), "subnormals", spec)))


def _parse_block_call(kind, positional, named, spec, depth) -> BlockFormat:
    if len(positional) != 1:
        raise FormatError(f"{kind}(...) needs exactly one element format first, e.g. "
                          f"{kind}(e2m1,block=32); got {spec!r}")
    allowed = _MX_KEYS if kind == "mx" else _BLOCK_KEYS
    unknown = set(named) - allowed
    if unknown:
        raise FormatError(f"{kind}(...) takes only named keys {sorted(allowed)}, not {sorted(unknown)}")
    element = _parse_element(positional[0], spec, depth + 1)
    if kind == "mx" and isinstance(element, IntFormat) and element.signed:
        # MX integer elements are fixed point with the binary point after 2 bits (OCP MX 5.3.3)
        element = FixedFormat(element.bits, element.bits - 2, True)
    scale = _parse_scale(named.get("scale", "e8m0"), spec, depth + 1)
    block = _int_arg(named.get("block", "32"), "block", spec)
    if kind == "mx":
        return _canonical(BlockFormat(element, scale, block))
    rule = _scale_rule(named.get("rule", "ocp"), spec)
    tensor = named.get("tensor", "none")
    tensor = None if tensor.strip().lower() == "none" else _parse(tensor, spec, depth + 1)
    if tensor is not None and not isinstance(tensor, FloatFormat):
        if isinstance(tensor, BlockFormat):
            raise FormatError(f"nested blocks: the tensor scale of {spec!r} is a block format")
        raise FormatError(f"a tensor scale must be a float format such as fp32, not {tensor.name!r}")
    rows = _int_arg(named.get("rows", "1"), "rows", spec)
    return _canonical(BlockFormat(element, scale, block, rule, tensor, rows))


def _parse_block_name(rest: str, whole: str, depth: int) -> BlockFormat:
    parts = rest.split("__")
    bad = FormatError(f"block name {whole!r} must read blk_ELEMENT__SCALE__kN[rR]__RULE[__TENSOR]")
    if len(parts) not in (4, 5):
        raise bad
    m = re.fullmatch(r"k(\d{1,6})(?:r(\d{1,6}))?", parts[2], flags=re.ASCII)
    if not m:
        raise bad
    element = _parse_element(parts[0], whole, depth + 1)
    scale = _parse_scale(parts[1], whole, depth + 1)
    rule = _scale_rule(parts[3], whole)
    tensor = None
    if len(parts) == 5:
        tensor = _parse_scale(parts[4], whole, depth + 1)
        if not isinstance(tensor, FloatFormat):
            raise FormatError(f"a tensor scale must be a float format such as fp32, not {parts[4]!r}")
    return _canonical(BlockFormat(element, scale, int(m.group(1)), rule, tensor,
                                  int(m.group(2) or 1)))
