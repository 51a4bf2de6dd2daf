"""Frozen configurations of the RTL generators: what a unit computes and how it is built.

Every generator in rtl/ takes exactly one of these objects. A config's `name` is stamped into the
Verilog module name and the simulation build directory; `latency` (where it has one) is the number
of clock edges from an operand being sampled to its effect showing on the outputs, so that benches
never hard-code cycle counts.

Widths derived here (product fields, Kulisch register) follow docs/DESIGN.md; each one is commented
with why it is as wide as it is. Unsupported pairings raise `hwmodel.errors.UnsupportedConfig` with a
one-line message naming the constraint.

Public API
    ProductShape(sign, exp_width, exp_min, sig_width, exp_max=None)
    ProductShape.of(fa, fb) -> ProductShape         exact float x float product
    ProductShape.fixed(lsb_exp, sig_width)          a sign-magnitude integer at one exponent
    MulConfig(fmt_a, fmt_b)                         .name .is_int .product .value_width .value_signed
    AccSpec / parse_acc                             from hwmodel.numerics (kind, fmt, guard_bits, mode)
    KulischShape.of(fa, fb, guard_bits)             .width .lsb_exp .k .S_a .S_b
    MacConfig(in_fmt, acc, pipeline_stages=1, mutant=None)
                                                    .name .latency .mul .kulisch .acc_width
    ReadoutConfig(in_fmt, out_fmt, guard_bits=12)   Kulisch register -> float (RNE), .kulisch
    MUTANTS                                         deliberately wrong variants for the benches
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import (BlockFormat, FixedFormat, FloatFormat, Format, IntFormat, NanEncoding,
                             parse_format)

# The golden model owns the accumulator spec (docs/DESIGN.md, "Configs and names").
from hwmodel.numerics import AccSpec, parse_acc  # noqa: E402  (hwmodel.accum via numerics)


# The deliberately wrong RTL variants that prove the benches can fail (issue 3, mutation check).
# Key: what the generator does wrong. Generators that do not know a mutant ignore it; the bench test
# for each mutant expects a failure.
MUTANTS = {
    "kulisch_shift": "Kulisch alignment shifts by one position too few for exponents above the minimum",
    "fpacc_rtz": "float accumulator truncates (round toward zero) instead of RNE",
}


def _signed_bits(lo: int, hi: int) -> int:
    """Fewest two's-complement bits holding every integer in [lo, hi]."""
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


def _scalar(fmt, what: str) -> Format:
    """Parse `fmt` and reject formats a scalar datapath cannot take."""
    try:
        fmt = parse_format(fmt)
    except FormatError as exc:
        raise UnsupportedConfig(f"{what}: {exc}") from None
    if isinstance(fmt, BlockFormat):
        raise UnsupportedConfig(
            f"{what} must be a scalar format, not the block format {fmt.name!r}: a MAC multiplies "
            f"elements; build it on the element format {fmt.element.name!r} (the shared scale is "
            f"applied once per block, outside the MAC)")
    if isinstance(fmt, FixedFormat):
        raise UnsupportedConfig(
            f"{what} must be an int or float format, not the fixed-point format {fmt.name!r}; "
            f"use int{fmt.bits} (the binary point only rescales the result)")
    return fmt


@dataclass(frozen=True)
class ProductShape:
    """An exact product on a port: value = (-1)^sign * sig * 2^exp, plus nan/inf/zero flags.

    sign      whether the value can be negative (a `sign` bit is present and meaningful)
    exp_width bits of the signed `exp` field
    exp_min   smallest `exp` a nonzero finite value can have (the LSB exponent of the smallest one)
    sig_width bits of the unsigned `sig` field
    exp_max   largest `exp` (default: the largest the field holds)
    """

    sign: bool
    exp_width: int
    exp_min: int
    sig_width: int
    exp_max: int | None = None

    def __post_init__(self):
        if self.exp_max is None:
            object.__setattr__(self, "exp_max", (1 << (self.exp_width - 1)) - 1)
        if self.exp_width < _signed_bits(self.exp_min, self.exp_max):
            raise UnsupportedConfig(f"exp_width must hold [{self.exp_min}, {self.exp_max}], "
                                    f"not {self.exp_width!r}")
        if self.sig_width < 1:
            raise UnsupportedConfig(f"sig_width must be >= 1, not {self.sig_width!r}")

    @classmethod
    def of(cls, fa: FloatFormat, fb: FloatFormat) -> "ProductShape":
        """Exact product of two float formats (docs/DESIGN.md, 'Products')."""
        # exp is the exponent of the significand product's LSB: e - man per operand, where e is the
        # unbiased exponent (subnormals sit at emin), so the extremes come from emin/emax.
        lo = (fa.emin - fa.man_bits) + (fb.emin - fb.man_bits)
        hi = (fa.emax - fa.man_bits) + (fb.emax - fb.man_bits)
        return cls(
            sign=fa.signed or fb.signed,
            exp_width=_signed_bits(lo, hi),           # signed field holding [lo, hi]
            exp_min=lo,
            sig_width=fa.precision + fb.precision,    # p_a-bit x p_b-bit unsigned product
            exp_max=hi)

    @classmethod
    def fixed(cls, lsb_exp: int, sig_width: int) -> "ProductShape":
        """A sign-magnitude integer of `sig_width` magnitude bits at the one exponent `lsb_exp`
        (e.g. a Kulisch sum of W two's-complement bits: sig_width = W, since |-2^(W-1)| needs W)."""
        return cls(sign=True, exp_width=_signed_bits(lsb_exp, lsb_exp), exp_min=lsb_exp,
                   sig_width=sig_width, exp_max=lsb_exp)


@dataclass(frozen=True)
class MulConfig:
    """An exact multiplier of fmt_a x fmt_b (both int or both float)."""

    fmt_a: Format
    fmt_b: Format | None = None   # None: same as fmt_a

    def __post_init__(self):
        a = _scalar(self.fmt_a, "multiplier operand a")
        b = a if self.fmt_b is None else _scalar(self.fmt_b, "multiplier operand b")
        object.__setattr__(self, "fmt_a", a)
        object.__setattr__(self, "fmt_b", b)
        if isinstance(a, IntFormat) != isinstance(b, IntFormat):
            raise UnsupportedConfig(
                f"multiplier operands must be both int or both float, not {a.name!r} x {b.name!r}")

    @property
    def name(self) -> str:
        if self.fmt_a == self.fmt_b:
            return f"mul_{self.fmt_a.name}"
        return f"mul_{self.fmt_a.name}_{self.fmt_b.name}"

    @property
    def is_int(self) -> bool:
        return isinstance(self.fmt_a, IntFormat)

    @property
    def product(self) -> ProductShape | None:
        """Float x float: the product port's shape. Int x int: None (a `value` port instead)."""
        return None if self.is_int else ProductShape.of(self.fmt_a, self.fmt_b)

    @property
    def value_signed(self) -> bool:
        return self.is_int and (self.fmt_a.signed or self.fmt_b.signed)

    @property
    def value_width(self) -> int | None:
        """Int x int: bits of the `value` port, a.bits + b.bits (holds every product: for signed
        operands -2^(a-1) * -2^(b-1) = 2^(a+b-2) needs a+b bits; unsigned products fit a+b bits)."""
        return self.fmt_a.bits + self.fmt_b.bits if self.is_int else None

    @property
    def latency(self) -> int:
        return 0   # combinational


@dataclass(frozen=True)
class KulischShape:
    """Kulisch register of paper Fig. 2a / docs/DESIGN.md: W = S_a + S_b - 1 + k + V bits, LSB 2^L."""

    S_a: int
    S_b: int
    k: int
    guard_bits: int
    lsb_exp: int

    @classmethod
    def of(cls, fa: Format, fb: Format, guard_bits: int = 12) -> "KulischShape":
        def s_and_span(f):
            if isinstance(f, IntFormat):
                # S = bits (an unsigned operand needs one more bit to be a signed factor)
                return f.bits + (0 if f.signed else 1), 0, 0, 0
            if not f.signed or not f.subnormals:
                raise UnsupportedConfig(f"Kulisch accumulation needs signed float inputs with "
                                        f"zero and subnormals, not {f.name!r}")
            # S = man_bits + 2: sign, hidden bit and stored mantissa of a sign-magnitude significand
            return f.man_bits + 2, f.emax - f.emin, f.emin - f.man_bits, 0
        sa, ka, la, _ = s_and_span(fa)
        sb, kb, lb, _ = s_and_span(fb)
        if not isinstance(guard_bits, int) or guard_bits < 0:
            raise UnsupportedConfig(f"kulisch guard bits must be an int >= 0, not {guard_bits!r}")
        return cls(S_a=sa, S_b=sb, k=ka + kb, guard_bits=guard_bits, lsb_exp=la + lb)

    @property
    def product_width(self) -> int:
        """2S-1 bits (S_a + S_b - 1): signed significand product at the lowest exponent."""
        return self.S_a + self.S_b - 1

    @property
    def aligned_width(self) -> int:
        """2S-1+k bits: the widest aligned product (shifted left by up to k)."""
        return self.product_width + self.k

    @property
    def width(self) -> int:
        """W = 2S-1+k+V: the aligned product plus V guard bits (2^V worst-case products)."""
        return self.aligned_width + self.guard_bits


@dataclass(frozen=True)
class MacConfig:
    """A MAC unit: multiplier (in_fmt x in_fmt), `pipeline_stages` product registers, accumulator.

    acc: an AccSpec or its CLI string ('kulisch', 'kulisch:V', 'int32', 'int32:sat', 'fp16', ...).
    mutant: None, or a key of MUTANTS (a deliberately wrong variant for the mutation check).
    """

    in_fmt: Format
    acc: AccSpec
    pipeline_stages: int = 1
    mutant: str | None = None

    def __post_init__(self):
        fmt = _scalar(self.in_fmt, "MAC input format")
        object.__setattr__(self, "in_fmt", fmt)
        acc = self.acc
        if not isinstance(acc, AccSpec):
            acc = parse_acc(acc)
        object.__setattr__(self, "acc", acc)
        if not isinstance(self.pipeline_stages, int) or not 0 <= self.pipeline_stages <= 4:
            raise UnsupportedConfig(f"pipeline stages must be an int in 0..4, not {self.pipeline_stages!r}")
        if self.mutant is not None and self.mutant not in MUTANTS:
            raise UnsupportedConfig(f"mutant must be one of {sorted(MUTANTS)}, not {self.mutant!r}")
        kind = acc.kind
        if kind == "int":
            if not isinstance(fmt, IntFormat):
                raise UnsupportedConfig(
                    f"an int accumulator needs int inputs, not {fmt.name!r}; use kulisch or a float "
                    f"accumulator for float inputs")
            if not isinstance(acc.fmt, IntFormat) or not acc.fmt.signed:
                raise UnsupportedConfig(f"an int accumulator must be a signed intN, not {acc.fmt!r}")
            need = self.mul.value_width
            if acc.fmt.bits < need:
                raise UnsupportedConfig(
                    f"int accumulator must be at least as wide as the {need}-bit product of "
                    f"{fmt.name} x {fmt.name}, not {acc.fmt.name}")
            if acc.mode not in ("wrap", "saturate"):
                raise UnsupportedConfig(f"int accumulator mode must be wrap or saturate, not {acc.mode!r}")
        elif kind == "kulisch":
            KulischShape.of(fmt, fmt, acc.guard_bits)  # validates guard bits
        elif kind == "float":
            f = acc.fmt
            if not isinstance(f, FloatFormat) or not f.signed or f.nan is not NanEncoding.IEEE \
                    or not f.subnormals:
                raise UnsupportedConfig(
                    f"a float accumulator must be a signed IEEE-style float with inf/NaN and "
                    f"subnormals (fp16, bf16, fp32, eXmY), not {getattr(f, 'name', f)!r}")
        else:
            raise UnsupportedConfig(f"accumulator kind must be int, kulisch or float, not {kind!r}")

    @property
    def mul(self) -> MulConfig:
        return MulConfig(self.in_fmt, self.in_fmt)

    @property
    def kulisch(self) -> KulischShape | None:
        if self.acc.kind != "kulisch":
            return None
        return KulischShape.of(self.in_fmt, self.in_fmt, self.acc.guard_bits)

    @property
    def acc_name(self) -> str:
        acc = self.acc
        if acc.kind == "kulisch":
            return f"kulisch{self.kulisch.width}"
        if acc.kind == "int":
            return acc.fmt.name + ("sat" if acc.mode == "saturate" else "")
        return acc.fmt.name

    @property
    def name(self) -> str:
        mut = f"_mut_{self.mutant}" if self.mutant else ""
        return f"mac_{self.in_fmt.name}_{self.acc_name}_p{self.pipeline_stages}{mut}"

    @property
    def acc_width(self) -> int:
        """Bits of `acc_out`: the int/Kulisch register, or the float accumulator's code."""
        if self.acc.kind == "kulisch":
            return self.kulisch.width
        return self.acc.fmt.bits

    @property
    def latency(self) -> int:
        """Clock edges from (a, b, valid_in) being sampled to acc_out/valid_out showing the
        accumulation of that product: the pipeline registers plus the accumulator register."""
        return self.pipeline_stages + 1


@dataclass(frozen=True)
class ReadoutConfig:
    """Kulisch read-out: the Kulisch register of in_fmt x in_fmt products (guard_bits V) rounded
    once (RNE) to the float format out_fmt (rtl.acc.KulischReadout; golden kulisch_to_float)."""

    in_fmt: Format
    out_fmt: Format
    guard_bits: int = 12

    def __post_init__(self):
        object.__setattr__(self, "in_fmt", _scalar(self.in_fmt, "Kulisch read-out input format"))
        out = _scalar(self.out_fmt, "Kulisch read-out format")
        if not isinstance(out, FloatFormat) or out.nan is not NanEncoding.IEEE or not out.signed:
            raise UnsupportedConfig(f"Kulisch read-out format must be a signed IEEE-style float "
                                    f"(fp16, bf16, fp32, eXmY), not {out.name!r}")
        object.__setattr__(self, "out_fmt", out)

    @property
    def kulisch(self) -> KulischShape:
        return KulischShape.of(self.in_fmt, self.in_fmt, self.guard_bits)

    @property
    def name(self) -> str:
        return f"kread_{self.in_fmt.name}_kulisch{self.kulisch.width}_{self.out_fmt.name}"

    @property
    def latency(self) -> int:
        return 0   # combinational


AnyConfig = Union[MulConfig, MacConfig, ReadoutConfig]
